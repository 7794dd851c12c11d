# syntax=docker/dockerfile:1
# Descent Lab in a container: slim Python, pinned requirements, a non-root user, JAX's compilation
# cache warmed at build time so a new container answers its first visitor without compiling.
#
#   docker build -t descent-lab .
#   docker run --rm -p 8501:8501 descent-lab        # then open http://localhost:8501
#
# tests/deploy/test_container_commands.py runs this file's `python` RUN steps and its CMD in a
# fresh virtual environment (no Docker engine there), so keep those steps plain commands.
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim-bookworm

# JAX reads its cache settings from the environment, for the warm-up below and for the app:
# on CPU every compile takes under the 1 s default threshold, so that threshold must be 0.
# float64 and whole-loop CPU kernels: what common.runtime.configure_jax() sets (it keeps these).
ENV PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    JAX_PLATFORMS=cpu \
    JAX_ENABLE_X64=1 \
    XLA_FLAGS=--xla_backend_extra_options=xla_cpu_small_while_loop_byte_threshold=16777216 \
    JAX_COMPILATION_CACHE_DIR=/app/.jax_cache \
    JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 \
    JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=0 \
    STREAMLIT_SERVER_FILE_WATCHER_TYPE=none

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin descent
WORKDIR /app

# Dependencies first: this layer is rebuilt only when requirements.txt changes.
COPY requirements.txt ./
RUN python -m pip install --no-cache-dir -r requirements.txt

# The code stays root-owned and read-only to the app; only the compilation cache is its own.
COPY . .
RUN python -m compileall -q app surfaces optimizers deploy
RUN python -m app.assets
RUN install -d -o descent -g descent /app/.jax_cache

USER descent
RUN python deploy/warm_cache.py

EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=4).read() != b'ok')"]
CMD ["python", "-m", "app.serve", "--server.address=0.0.0.0", "--server.port=8501"]
