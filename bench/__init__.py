"""Benchmarks: run with ``uv run python -m bench.ussd`` (see bench/README.md)."""
