"""A filled-contour look-alike as a PNG: values banded into levels, coloured, encoded with zlib.

Pure numpy + zlib (no imaging library). The contour figure lays this image under its filled
contour: plotly.js drops the contour layer during redraw-less animation frames, the layout image
stays, so the surface remains on screen while the frames play fast.
"""

from __future__ import annotations

import base64
import struct
import zlib

import numpy as np

LINE_ALPHA = 0.22  # the contour lines: black at this opacity over the band colour


def colours_at(colorscale: list[list], fractions: np.ndarray) -> np.ndarray:
    """RGB (float, 0–255) of a Plotly colour scale of hex stops at `fractions` ∈ [0, 1],
    interpolated linearly per channel as plotly.js does."""
    stops = np.array([float(stop) for stop, _ in colorscale])
    rgb = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for _, c in colorscale], float)
    t = np.clip(np.asarray(fractions, dtype=np.float64), 0.0, 1.0)
    return np.stack([np.interp(t, stops, rgb[:, channel]) for channel in range(3)], axis=-1)


def resampled(x: np.ndarray, y: np.ndarray, values: np.ndarray, width: int, height: int):
    """`values[i, j]` (at x[j], y[i]) bilinearly interpolated at the centres of a width × height
    pixel grid stretched over [x0, x1] × [y0, y1]; row 0 is the bottom (y0)."""
    px = x[0] + (np.arange(width) + 0.5) / width * (x[-1] - x[0])
    py = y[0] + (np.arange(height) + 0.5) / height * (y[-1] - y[0])
    rows = np.stack([np.interp(px, x, row) for row in values])  # (ny, width)
    return np.stack([np.interp(py, y, column) for column in rows.T], axis=1)  # (height, width)


def bands(values: np.ndarray, start: float, size: float, count: int) -> np.ndarray:
    """The band of each value, as a filled contour with levels start, start + size, …, start +
    (count − 2)·size colours it: 0 below `start`, k between the k-th and (k+1)-th level,
    count − 1 above the last."""
    with np.errstate(invalid="ignore"):
        index = np.floor((values - start) / size) + 1
    return np.clip(np.nan_to_num(index, nan=0.0), 0, count - 1).astype(np.uint8)


def _chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))


def indexed_png(index: np.ndarray, palette: np.ndarray) -> bytes:
    """An 8-bit palette PNG of `index` (rows top to bottom) with `palette` (≤ 256 RGB rows)."""
    height, width = index.shape
    raw = np.zeros((height, width + 1), dtype=np.uint8)  # filter byte 0 (none) on each row
    raw[:, 1:] = index
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)),
            _chunk(b"PLTE", np.asarray(palette).round().clip(0, 255).astype(np.uint8).tobytes()),
            _chunk(b"IDAT", zlib.compress(raw.tobytes(), 9)),
            _chunk(b"IEND", b""),
        ]
    )


def banded_png(
    x: np.ndarray,
    y: np.ndarray,
    values: np.ndarray,
    contours: dict,
    colorscale: list[list],
    size: tuple[int, int],
) -> bytes:
    """The filled contour of `values` on the grid (x, y) with Plotly `contours` (start, end,
    size) and `colorscale`, as a width × height PNG: band k of n is coloured at k / (n − 1) of
    the scale (what plotly.js does with `coloring: "fill"`), band edges darkened like the
    contour lines."""
    width, height = size
    step = float(contours["size"])
    count = int(np.floor((contours["end"] - contours["start"]) / step + 1e-6)) + 2
    band = bands(resampled(x, y, values, width, height), contours["start"], step, count)
    colours = colours_at(colorscale, np.arange(count) / (count - 1))
    edge = np.zeros(band.shape, dtype=bool)
    edge[:, 1:] |= band[:, 1:] != band[:, :-1]
    edge[1:, :] |= band[1:, :] != band[:-1, :]
    palette = np.concatenate([colours, colours * (1 - LINE_ALPHA)])
    index = band + np.where(edge, count, 0).astype(np.uint8)
    return indexed_png(np.flipud(index), palette)  # image rows go top down, y goes up


def data_uri(png: bytes) -> str:
    """`png` as a data: URI (what a Plotly layout image takes as its source)."""
    return "data:image/png;base64," + base64.b64encode(png).decode()
