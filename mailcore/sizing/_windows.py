"""The ActiveSync email sync windows and where each one starts.

[MS-ASCMD] 2.2.3.68.2 (FilterType, Sync): email may use FilterType 0 (all)
and 1-5; "the start time of the time window is determined by subtracting the
period of time represented by the value of the FilterType element from the
current time".  The length of "1 month" is not fixed by the spec; Z-Push's
``Utils::GetCutOffDate`` uses 31 days, which is the default here and a
setting (``month_days``).
"""

from __future__ import annotations

from dataclasses import dataclass

from mailcore._units import SYNC_WINDOWS

__all__ = ["DAY", "WINDOWS", "Window", "cutoffs", "window_named"]

DAY = 86_400


@dataclass(frozen=True, slots=True)
class Window:
    """One sync window: its label (JSON F), FilterType and length in days."""

    label: str
    filter_type: int
    days: int | None  # None: no start (FilterType 0, "all")

    def seconds(self, month_days: int) -> int | None:
        """The window's length in seconds (``None`` for ``all``)."""
        if self.days is None:
            return None
        return (month_days if self.label == "1m" else self.days) * DAY


# Contract §6 F order: 1d, 3d, 1w, 2w, 1m, all.  Each window contains the
# ones before it, which lets a scan put each message in one bucket.
_DAYS = {"1d": 1, "3d": 3, "1w": 7, "2w": 14, "1m": 31, "all": None}
WINDOWS: tuple[Window, ...] = tuple(
    Window(label, filter_type, _DAYS[label]) for label, filter_type in SYNC_WINDOWS.items()
)
DATED = len(WINDOWS) - 1  # windows with a start; the last bucket is "older or undated"


def window_named(label: str) -> Window:
    """The window for a label such as ``"1m"``; ``ValueError`` names the allowed ones."""
    for window in WINDOWS:
        if window.label == label:
            return window
    raise ValueError(f"{label!r} is not a sync window; use one of {', '.join(SYNC_WINDOWS)}")


def cutoffs(now: float, month_days: int = 31) -> tuple[float, ...]:
    """Start times (epoch seconds) of the dated windows, newest first.

    A message is in a window when its received time is at or after the
    window's start (contract §6 F).
    """
    if not 28 <= month_days <= 31:
        # Windows must nest (2w inside 1m) and a month is 28-31 days long.
        raise ValueError(f"month_days must be 28 to 31, not {month_days}")
    starts = []
    for window in WINDOWS[:DATED]:
        length = window.seconds(month_days)
        assert length is not None
        starts.append(now - length)
    return tuple(starts)
