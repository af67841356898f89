"""A progress bar on standard error, drawn only when it is a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

__all__ = ["ProgressBar"]


class ProgressBar:
    """Callable ``(done, total)`` progress for :func:`size_mailbox` / :func:`size_mailboxes`.

    Nothing is written unless ``stream`` is a terminal (so logs and pipes stay
    clean), nor before ``delay`` seconds have passed (quick scans show
    nothing), and redraws are limited to ten a second.
    """

    def __init__(
        self,
        label: str,
        *,
        stream: TextIO | None = None,
        delay: float = 0.5,
        enabled: bool | None = None,
        width: int = 30,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.label = label
        self.delay = delay
        self.width = width
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = bool(isatty and isatty()) if enabled is None else enabled
        self.started = time.monotonic()
        self.last = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int | None) -> None:
        """Report progress: ``done`` of ``total`` (``None``: unknown total)."""
        if not self.enabled:
            return
        now = time.monotonic()
        final = total is not None and done >= total
        if now - self.started < self.delay or (now - self.last < 0.1 and not final):
            return
        self.last = now
        if total:
            filled = min(self.width, self.width * done // total)
            bar = "#" * filled + "-" * (self.width - filled)
            text = f"\r{self.label} [{bar}] {done:,}/{total:,}"
        else:
            text = f"\r{self.label} {done:,} messages"
        self.stream.write(text)
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        """End the bar's line (if one was drawn)."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False
