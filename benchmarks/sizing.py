"""Sizing benchmarks (not written yet)."""

from __future__ import annotations

from benchmarks._harness import Benchmark

__all__ = ["BENCHMARKS"]

BENCHMARKS: list[Benchmark] = []
