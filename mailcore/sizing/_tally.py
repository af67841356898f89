"""The per-folder accumulator every scanner fills, and the scan settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from mailcore.sizing._model import (
    BAD_INPUT_CATEGORIES,
    BadInput,
    FolderSizing,
    Thresholds,
    window_totals,
)
from mailcore.sizing._windows import DATED, cutoffs

__all__ = ["BUCKETS", "ScanOptions", "Tally"]

BUCKETS = DATED + 1  # one per dated window, then "older or undated"
_EXAMPLES = 5
Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """Everything a scan needs; small and picklable (sent to workers).

    ``maildir_time``: ``"name"`` takes a Maildir message's received time from
    its file name (no system call per message); ``"mtime"`` from the file's
    modification time, which is what Dovecot sets to the IMAP INTERNALDATE
    (so use it for mailboxes filled by migration or IMAP APPEND).
    """

    now: float
    month_days: int = 31
    thresholds: Thresholds = field(default_factory=Thresholds)
    attachments: bool = True
    maildir_time: Literal["name", "mtime"] = "name"
    imap_password: str | None = None
    imap_cafile: str | None = None
    imap_timeout: float = 30.0

    def starts(self) -> tuple[float, ...]:
        """Start times of the dated windows, newest first."""
        return cutoffs(self.now, self.month_days)


class Tally:
    """Mutable per-bucket sums for one folder while it is scanned."""

    __slots__ = ("attachments", "bad", "counts", "examples", "sizes", "starts", "where")

    def __init__(self, options: ScanOptions, where: str) -> None:
        self.starts = options.starts()
        self.counts = [0] * BUCKETS
        self.sizes = [0] * BUCKETS
        self.attachments: list[int] | None = [0] * BUCKETS if options.attachments else None
        self.bad = dict.fromkeys(BAD_INPUT_CATEGORIES, 0)
        self.examples: list[str] = []
        self.where = where

    def bucket(self, received: float | None) -> int:
        """The bucket of a received time (``None``: undated, in "all" only)."""
        if received is None:
            return DATED
        for index, start in enumerate(self.starts):
            if received >= start:
                return index
        return DATED

    def add(self, received: float | None, size: int, attachment: int = 0) -> None:
        """Count one message."""
        index = self.bucket(received)
        self.counts[index] += 1
        self.sizes[index] += size
        if self.attachments is not None:
            self.attachments[index] += attachment

    def note(self, category: str, place: str) -> None:
        """Count one piece of bad input, keeping a few examples."""
        self.bad[category] += 1
        if len(self.examples) < _EXAMPLES:
            self.examples.append(f"{category}: {place}")

    def freeze(self, name: str, thresholds: Thresholds) -> FolderSizing:
        """The immutable folder result."""
        atts = self.attachments
        buckets = tuple(
            (self.counts[i], self.sizes[i], None if atts is None else atts[i])
            for i in range(BUCKETS)
        )
        bad = BadInput(**self.bad, examples=tuple(self.examples))
        return FolderSizing(name, window_totals(buckets, thresholds), buckets, bad)
