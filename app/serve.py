"""Start the app: `python -m app.serve [streamlit options]` is `streamlit run app/streamlit_app.py`
with JAX's persistent compilation cache on and the default page's programs compiled in the
background while the server starts, so that the first visitor does not wait for XLA.

The cache settings are environment variables (JAX reads them at import), defaulted here and in
the Dockerfile:

    JAX_COMPILATION_CACHE_DIR                    where the compiled programs go (.jax_cache)
    JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS   0: on CPU every compile is under the 1 s default,
                                                 so nothing would be cached otherwise
    JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES    0: keep small programs too
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ROOT / "app" / "streamlit_app.py"
CACHE_DEFAULTS = {
    "JAX_COMPILATION_CACHE_DIR": str(ROOT / ".jax_cache"),
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
}


def use_compilation_cache() -> Path:
    """Default the JAX cache variables (before jax is imported); return the cache directory."""
    for name, value in CACHE_DEFAULTS.items():
        os.environ.setdefault(name, value)
    directory = Path(os.environ["JAX_COMPILATION_CACHE_DIR"])
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def warm_default_page() -> None:
    """Compile what the default page runs: each default run, its learning-rate family and its
    sharpness, through the engine's own (process-wide) compiled functions."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app.assets import ensure_plotly_asset
    from app.link import from_query
    from app.state import OPTIMIZERS, configs
    from optimizers import family, sharpness
    from optimizers.engine import run

    ensure_plotly_asset()
    for config in configs(from_query({}).state):
        spec = OPTIMIZERS[config.optimizer].lr
        lr = config.lr if config.lr is not None else spec.default
        family.run_family(config, family.window(lr, spec.low, spec.high))
        sharpness.path_sharpness(run(config), config)


def main() -> None:
    use_compilation_cache()
    from common.runtime import configure_jax  # imports jax: after its cache variables

    configure_jax()  # float64 and XLA's flags, before the warm-up's first computation
    threading.Thread(target=warm_default_page, name="warm-up", daemon=True).start()
    from streamlit.web import cli

    sys.argv = ["streamlit", "run", str(ENTRY), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
