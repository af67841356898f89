"""Independent readers of our output: RFC 5545/6350 line rules, unfolding,
and the expected instances of an ActiveSync recurrence by brute force.

Written from the RFC text and MS-ASCAL §2.2.2.37's wording, not from
mailcore's writers, so that the tests can catch their mistakes.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta
from typing import Any

__all__ = ["check_lines", "expected_instances", "unfold_lines"]


def check_lines(data: bytes) -> None:
    """CRLF only, every physical line <= 75 octets, valid UTF-8 per line."""
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b""), "bare LF"
    assert b"\r" not in data.replace(b"\r\n", b""), "bare CR"
    for physical in data.split(b"\r\n")[:-1]:
        assert len(physical) <= 75, physical
        physical.decode("utf-8")  # no code point split across a fold


def unfold_lines(data: bytes) -> list[str]:
    """RFC 5545 §3.1: remove CRLF followed by one space or tab."""
    text = data.decode("utf-8").replace("\r\n ", "").replace("\r\n\t", "")
    return text.split("\r\n")[:-1]


_BITS = {0: 1, 1: 2, 2: 4, 3: 8, 4: 16, 5: 32, 6: 64}  # Sunday=0 .. Saturday=6


def _bit(day: date) -> int:
    return _BITS[(day.weekday() + 1) % 7]


def _nth_in_month(day: date, mask: int, week: int) -> bool:
    """Is ``day`` the week-th (5 = last) day of its month whose weekday is in mask?"""
    length = calendar.monthrange(day.year, day.month)[1]
    matching = [d for d in range(1, length + 1) if _bit(day.replace(day=d)) & mask]
    chosen = matching[-1] if week == 5 else matching[week - 1] if len(matching) >= week else None
    return chosen == day.day


def _week_start(day: date, wkst: int) -> date:
    """Start of the week containing ``day``; wkst 0 = Sunday (AS numbering)."""
    sunday_based = (day.weekday() + 1) % 7
    return day - timedelta(days=(sunday_based - wkst) % 7)


def expected_instances(
    recurrence: dict[str, Any],
    first: datetime,
    *,
    until: datetime | date | None = None,
    horizon_days: int | None = None,
) -> list[datetime]:
    """Local start times of a pattern, from ``first`` (which matches it)."""
    kind = recurrence["Type"]
    interval = recurrence.get("Interval", 1)
    mask = recurrence.get("DayOfWeek", 0)
    count = recurrence.get("Occurrences")
    wkst = recurrence.get("FirstDayOfWeek", 1)  # RFC 5545 default WKST=MO
    out: list[datetime] = []
    start_day = first.date()
    if horizon_days is None:
        horizon_days = 366 * (40 if kind in (5, 6) else 5)
    for offset in range(horizon_days):
        day = start_day + timedelta(days=offset)
        months = (day.year - start_day.year) * 12 + day.month - start_day.month
        if kind == 0:
            ok = offset % interval == 0 and (not mask or bool(_bit(day) & mask))
        elif kind == 1:
            weeks = (_week_start(day, wkst) - _week_start(start_day, wkst)).days // 7
            ok = weeks % interval == 0 and bool(_bit(day) & mask)
        elif kind == 2:
            ok = months % interval == 0 and day.day == recurrence["DayOfMonth"]
        elif kind == 3:
            ok = months % interval == 0 and _nth_in_month(day, mask, recurrence["WeekOfMonth"])
        elif kind == 5:
            ok = (
                (day.year - start_day.year) % interval == 0
                and day.month == recurrence["MonthOfYear"]
                and day.day == recurrence["DayOfMonth"]
            )
        else:
            ok = (
                (day.year - start_day.year) % interval == 0
                and day.month == recurrence["MonthOfYear"]
                and _nth_in_month(day, mask, recurrence["WeekOfMonth"])
            )
        if not ok:
            continue
        moment = datetime.combine(day, first.timetz())
        if until is not None:
            limit = until if isinstance(until, datetime) else None
            if limit is not None and moment > limit:
                break
            if limit is None and day > until:
                break
        out.append(moment)
        if count is not None and len(out) >= count:
            break
    return out
