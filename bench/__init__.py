"""Benchmarks: make soak, make bench, make bench-scale (figures in BENCHMARKS.md)."""
