"""ActiveSync Recurrence -> RRULE (MS-ASCAL §2.2.2.37; RFC 5545 §3.3.10).

After the Android Exchange client's ``rruleFromRecurrence`` (Apache-2.0;
behaviour only): Type 0 daily, 1 weekly by day mask, 2 monthly on a day,
3 monthly on the n-th weekday (WeekOfMonth 5 = last, written ``-1``, not
Z-Push's invalid ``5SU``), 5 yearly on a date, 6 yearly on the n-th
weekday of a month.  Occurrences -> COUNT, Interval -> INTERVAL, Until ->
UNTIL (formatted by the caller: UTC for timed events, a date for all-day
ones), FirstDayOfWeek -> WKST.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from mailcore.export._values import Where, get_int, get_utc

__all__ = ["Recurrence", "day_names", "parse_recurrence"]

# DayOfWeek bits: 1 SU, 2 MO, 4 TU, 8 WE, 16 TH, 32 FR, 64 SA.
_DAY_BITS = (("SU", 1), ("MO", 2), ("TU", 4), ("WE", 8), ("TH", 16), ("FR", 32), ("SA", 64))
_WKST = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")
_KNOWN = frozenset(
    {
        "Type", "Occurrences", "Interval", "Until", "DayOfWeek", "DayOfMonth", "WeekOfMonth",
        "MonthOfYear", "CalendarType", "IsLeapMonth", "FirstDayOfWeek",
    }
)  # fmt: skip
_FIELD = "Recurrence"


def day_names(mask: int) -> list[str]:
    """BYDAY names of a DayOfWeek mask, Sunday first (the mask's own order)."""
    return [name for name, bit in _DAY_BITS if mask & bit]


@dataclass(frozen=True, slots=True)
class Recurrence:
    """A validated recurrence pattern."""

    type: int
    interval: int
    occurrences: int | None
    until: datetime | None
    day_of_week: int | None
    day_of_month: int | None
    week_of_month: int | None
    month_of_year: int | None
    first_day_of_week: int | None

    def rrule(self, until: str | None) -> str:
        """The RRULE value; ``until`` is the UNTIL text in DTSTART's value type."""
        parts = [_FREQ[self.type]]
        mask = self.day_of_week
        nth = None
        if self.week_of_month is not None:
            nth = -1 if self.week_of_month == 5 else self.week_of_month
        if self.type in (0, 1):
            if mask:
                parts.append("BYDAY=" + ",".join(day_names(mask)))
        elif self.type == 2:
            parts.append(f"BYMONTHDAY={self.day_of_month}")
        elif self.type == 5:
            parts.append(f"BYMONTH={self.month_of_year};BYMONTHDAY={self.day_of_month}")
        else:  # 3 and 6: the n-th weekday (or day, or weekday/weekend day)
            if self.type == 6:
                parts.append(f"BYMONTH={self.month_of_year}")
            assert mask is not None and nth is not None
            names = day_names(mask)
            if mask == 127:
                parts.append(f"BYMONTHDAY={nth}")  # the n-th (or last) day
            elif len(names) == 1:
                parts.append(f"BYDAY={nth}{names[0]}")
            else:
                parts.append(f"BYDAY={','.join(names)};BYSETPOS={nth}")
        if self.interval != 1:
            parts.append(f"INTERVAL={self.interval}")
        if self.occurrences is not None:
            parts.append(f"COUNT={self.occurrences}")
        elif until is not None:
            parts.append(f"UNTIL={until}")
        if self.first_day_of_week is not None:
            parts.append(f"WKST={_WKST[self.first_day_of_week]}")
        return ";".join(parts)


_FREQ = {
    0: "FREQ=DAILY",
    1: "FREQ=WEEKLY",
    2: "FREQ=MONTHLY",
    3: "FREQ=MONTHLY",
    5: "FREQ=YEARLY",
    6: "FREQ=YEARLY",
}


def parse_recurrence(value: Any, where: Where) -> Recurrence | None:
    """Validate a ``Recurrence`` object; the error names ``Recurrence.<Element>``."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        where.fail(_FIELD, f"expected an object, got {type(value).__name__}")
    unknown = sorted(set(value) - _KNOWN)
    if unknown:
        where.fail(f"{_FIELD}.{unknown[0]}", "not a Recurrence element (MS-ASCAL §2.2.2.37)")

    def number(key: str, low: int, high: int, allowed: frozenset[int] | None = None) -> int | None:
        return get_int(value, key, _Nested(where), low=low, high=high, allowed=allowed)

    kind = number("Type", 0, 6, frozenset({0, 1, 2, 3, 5, 6}))
    if kind is None:
        where.fail(f"{_FIELD}.Type", "missing (0 daily, 1 weekly, 2/3 monthly, 5/6 yearly)")
    calendar_type = number("CalendarType", 0, 20)
    if calendar_type not in (None, 0, 1):
        # Non-Gregorian calendars need RFC 7529 RSCALE; not written yet.
        where.fail(f"{_FIELD}.CalendarType", f"{calendar_type} (non-Gregorian) is not supported")
    if number("IsLeapMonth", 0, 1):
        where.fail(f"{_FIELD}.IsLeapMonth", "leap months (non-Gregorian) are not supported")
    recurrence = Recurrence(
        type=kind,
        interval=number("Interval", 1, 999) or 1,
        occurrences=number("Occurrences", 1, 999),
        until=get_utc(value, "Until", _Nested(where)),
        day_of_week=number("DayOfWeek", 1, 127),
        day_of_month=number("DayOfMonth", 1, 31),
        week_of_month=number("WeekOfMonth", 1, 5),
        month_of_year=number("MonthOfYear", 1, 12),
        first_day_of_week=number("FirstDayOfWeek", 0, 6),
    )
    needs = {
        1: ("DayOfWeek",),
        2: ("DayOfMonth",),
        3: ("DayOfWeek", "WeekOfMonth"),
        5: ("DayOfMonth", "MonthOfYear"),
        6: ("DayOfWeek", "WeekOfMonth", "MonthOfYear"),
    }.get(kind, ())
    for key in needs:
        if value.get(key) in (None, ""):
            where.fail(f"{_FIELD}.{key}", f"required for recurrence Type {kind}")
    return recurrence


class _Nested(Where):
    """Errors inside Recurrence name ``Recurrence.<Element>``."""

    def __init__(self, outer: Where) -> None:
        self.number = outer.number
        self.label = outer.label

    def fail(self, field: str | None, problem: str) -> NoReturn:
        super().fail(f"{_FIELD}.{field}" if field else _FIELD, problem)
