"""Latency and smoothing-quality benchmarks: `python -m benchmarks [latency|quality] [--quick]`."""
