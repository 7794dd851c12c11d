"""Files Streamlit serves from app/static/ (`server.enableStaticServing`): the live view's script
and style, tracked, and plotly.py's own plotly.min.js, copied there (not tracked) so that the
browser draws with the plotly.js version plotly.py pins. No Streamlit or JAX import: the
Dockerfile runs `ensure_plotly_asset` at build time, before the app's user may not write here.
"""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import plotly

STATIC = Path(__file__).resolve().parent / "static"  # served at ./app/static/
PLOTLY_JS = STATIC / "plotly.min.js"
PLOTLY_SOURCE = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@functools.cache  # once per process: the page calls it on every rerun
def ensure_plotly_asset() -> None:
    """Copy plotly.py's plotly.min.js into app/static/ unless the same file is there."""
    if not PLOTLY_JS.exists() or PLOTLY_JS.stat().st_size != PLOTLY_SOURCE.stat().st_size:
        shutil.copyfile(PLOTLY_SOURCE, PLOTLY_JS)


if __name__ == "__main__":
    ensure_plotly_asset()
