"""Quality, speed and memory of denoisers side by side, under one stated protocol."""

from .protocol import BenchmarkProtocol, parse_sigmas
from .runner import CSV_COLUMNS, run_benchmark

__all__ = ["CSV_COLUMNS", "BenchmarkProtocol", "parse_sigmas", "run_benchmark"]
