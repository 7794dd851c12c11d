"""The contour's raster underlay: the PNG, decoded by Pillow (an independent decoder), has the
contour's size, bands and colours."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from app import figures
from app.figures import array_of, raster
from tests.figure_tools import plot

pytest_plugins = ("tests.figure_fixtures",)


def png_pixels(uri: str) -> tuple[int, int, np.ndarray, np.ndarray]:
    """Width, height, palette (k, 3) and palette indices (height, width) of a data-URI PNG, as
    Pillow reads it (it checks the signature and every chunk's CRC)."""
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    with Image.open(io.BytesIO(base64.b64decode(uri[len(prefix) :]))) as image:
        image.load()
        assert image.format == "PNG" and image.mode == "P"
        palette = np.array(image.getpalette("RGB"), dtype=np.uint8).reshape(-1, 3)
        return image.width, image.height, palette, np.asarray(image)


def test_surface_underlay_matches_the_contour(rosenbrock, two_runs) -> None:
    surface, grid = rosenbrock
    fig = plot(rosenbrock, two_runs)
    (image,) = fig.layout.images
    x0, x1, y0, y1 = surface.box
    assert (image.xref, image.yref, image.sizing, image.layer) == ("x", "y", "stretch", "below")
    assert (image.xanchor, image.yanchor) == ("left", "top")
    assert (image.x, image.y, image.sizex, image.sizey) == pytest.approx((x0, y1, x1 - x0, y1 - y0))
    width, height, palette, index = png_pixels(image.source)
    ratio = (y1 - y0) / (x1 - x0)
    expected = (
        (figures.IMAGE_PIXELS, round(figures.IMAGE_PIXELS * ratio))
        if ratio <= 1
        else (round(figures.IMAGE_PIXELS / ratio), figures.IMAGE_PIXELS)
    )
    assert (width, height) == expected and index.shape == (height, width)
    assert len(palette) == 2 * figures.CONTOUR_LEVELS  # band colours, then their line shades
    assert index.max() < len(palette)
    # The contour's explicit levels are the image's band edges, both on the contour's colours.
    contour = fig.data[figures.SURFACE_TRACE]
    levels = contour.contours
    assert contour.autocontour is False and levels.coloring == "fill"
    assert levels.start == pytest.approx(contour.zmin + levels.size)
    assert levels.end == pytest.approx(contour.zmax - levels.size)
    assert (contour.zmax - contour.zmin) / levels.size == pytest.approx(figures.CONTOUR_LEVELS)
    bands = np.asarray(index) % figures.CONTOUR_LEVELS
    assert bands.min() == 0 and bands.max() == figures.CONTOUR_LEVELS - 1
    # Image rows run top down: the pixel at the grid's highest value is in a top band.
    colour = array_of(contour.z).reshape(grid.z.shape)
    i, j = np.unravel_index(colour.argmax(), colour.shape)
    row = min(height - 1, int((1 - (i + 0.5) / len(grid.y)) * height))
    column = min(width - 1, int((j + 0.5) / len(grid.x) * width))
    assert bands[row, column] >= figures.CONTOUR_LEVELS - 2
    ends = {tuple(palette[0]), tuple(palette[figures.CONTOUR_LEVELS - 1])}
    assert ends == {(255, 255, 255), (0x6B, 0x6B, 0x6B)}  # the colour scale's two ends


def test_banding_follows_plotly_fill_levels() -> None:
    values = np.array([-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 9.0, np.nan])
    # Levels 1, 2, 3 (start 1, size 1): below 1 → 0, [1, 2) → 1, [2, 3) → 2, ≥ 3 → 3.
    assert raster.bands(values, 1.0, 1.0, 4).tolist() == [0, 0, 0, 1, 1, 2, 3, 0]
    colours = raster.colours_at(figures.SURFACE_COLORSCALE, np.array([0.0, 0.35, 1.0]))
    assert colours.round().tolist() == [[255] * 3, [0xE3] * 3, [0x6B] * 3]
    x, y = np.linspace(0, 1, 5), np.linspace(0, 2, 3)
    on_grid = raster.resampled(x, y, np.add.outer(y, x), 10, 6)
    assert on_grid.shape == (6, 10)
    assert on_grid[0, 0] == pytest.approx(0.05 + 2 / 12)  # the first pixel's centre
