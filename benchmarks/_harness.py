"""Timing, goals and the report table (contract §8)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Benchmark", "Goal", "Row", "measure", "run"]


@dataclass(frozen=True, slots=True)
class Goal:
    """A goal: mailcore/peer ratio at least ``ratio``, or at least ``rate`` ops/s."""

    ratio: float | None = None
    rate: float | None = None

    def describe(self) -> str:
        if self.ratio is not None:
            return f">= {self.ratio:g}x peer"
        return f">= {self.rate:,.0f}/s"

    def met(self, ours: float, peer: float) -> bool:
        if self.ratio is not None:
            return ours / peer >= self.ratio
        assert self.rate is not None
        return ours >= self.rate


@dataclass(frozen=True, slots=True)
class Benchmark:
    """One row: what mailcore does, and the peer doing the same job."""

    name: str
    doc: str
    ours: Callable[[], Any]
    peer_name: str
    peer: Callable[[], Any]
    goal: Goal


@dataclass(frozen=True, slots=True)
class Row:
    """A measured benchmark."""

    name: str
    ours: float
    peer_name: str
    peer: float
    goal: str
    met: bool | None

    @property
    def ratio(self) -> float:
        return self.ours / self.peer if self.peer else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "mailcore_ops_per_s": round(self.ours, 1),
            "peer": self.peer_name,
            "peer_ops_per_s": round(self.peer, 1),
            "ratio": round(self.ratio, 2),
            "goal": self.goal,
            "met": self.met,
        }


def measure(function: Callable[[], Any], *, seconds: float, repeats: int) -> float:
    """Operations per second: the best of ``repeats`` timed batches.

    The batch size is calibrated so that one batch takes about
    ``seconds / repeats``; the best batch is reported because slower ones
    measure the machine's other load, not the code.
    """
    function()  # warm caches and lazy imports outside the timing
    number = 1
    while True:
        start = time.perf_counter()
        for _ in range(number):
            function()
        elapsed = time.perf_counter() - start
        if elapsed >= 0.01:
            break
        number *= 4
    per_batch = max(1, int(number * (seconds / repeats) / elapsed))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(per_batch):
            function()
        best = min(best, time.perf_counter() - start)
    return per_batch / best


def run(benchmarks: list[Benchmark], *, quick: bool) -> list[Row]:
    """Measure every benchmark and its peer, alternating to share drift."""
    seconds, repeats = (0.05, 1) if quick else (2.0, 7)
    rows = []

    def timed(function: Callable[[], Any]) -> float:
        return measure(function, seconds=seconds / 2, repeats=repeats)

    for bench in benchmarks:
        ours = timed(bench.ours)
        peer = timed(bench.peer)
        ours = max(ours, timed(bench.ours))
        peer = max(peer, timed(bench.peer))
        met = None if quick else bench.goal.met(ours, peer)
        rows.append(Row(bench.name, ours, bench.peer_name, peer, bench.goal.describe(), met))
    return rows
