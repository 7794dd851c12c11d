"""Benchmarks of the trajectory engine: `make bench` runs `python -m bench.run`."""
