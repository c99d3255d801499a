"""Diagnostics: gradient flow over time, long-memory benchmarks, gate and cell-state recording."""
