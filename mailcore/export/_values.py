"""Reading ActiveSync values (contract §6a) with errors that name record and field.

MS-ASDTYPE formats: compact DateTime ``20251201T080000Z`` for calendar
times, ``1980-02-29T00:00:00.000Z`` for contact dates; booleans and enums
as integers (JSON numbers, or the digit strings an XML-to-JSON converter
produces).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, NoReturn

from mailcore.errors import MalformedRecord

# ASCII digits only: str.isdigit() also accepts '²' and other digits int() refuses.
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")

__all__ = [
    "Where",
    "get_bool",
    "get_date",
    "get_int",
    "get_str",
    "get_strings",
    "get_utc",
    "parse_utc",
]

_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z\Z")
_EXTENDED = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,7})?)?(Z|[+-]\d{2}:?\d{2})?)?\Z"
)


class Where:
    """The record being read: its number in the input and its ServerId."""

    __slots__ = ("label", "number")

    def __init__(self, number: int, record: Mapping[str, Any]) -> None:
        self.number = number
        server_id = record.get("ServerId")
        self.label = (
            f"record {number} (ServerId {server_id!r})"
            if isinstance(server_id, str)
            else f"record {number}"
        )

    def fail(self, field: str | None, problem: str) -> NoReturn:
        """Raise :class:`MalformedRecord` naming this record and ``field``."""
        place = f"{self.label}, field {field}" if field else self.label
        raise MalformedRecord(f"{place}: {problem}", record=self.number, field=field)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def get_str(record: Mapping[str, Any], key: str, where: Where) -> str | None:
    """A text value; None when absent, null or empty."""
    value = record.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        where.fail(key, f"expected text, got {_show(value)}")
    return value


def get_strings(record: Mapping[str, Any], key: str, where: Where) -> tuple[str, ...]:
    """A repeated text element (``"Categories": ["VIP"]``); a lone string is one item."""
    value = record.get(key)
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        where.fail(key, f"expected a list of text, got {_show(value)}")
    return tuple(v for v in value if v)


def get_int(
    record: Mapping[str, Any],
    key: str,
    where: Where,
    *,
    low: int,
    high: int,
    allowed: frozenset[int] | None = None,
) -> int | None:
    """An integer in ``low..high`` (and in ``allowed`` if given); None when absent."""
    value = record.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        number = int(value)
    elif isinstance(value, int):  # JSON true/false are 1/0, as in WBXML
        number = int(value)
    else:
        where.fail(key, f"expected a whole number, got {_show(value)}")
    if not low <= number <= high or (allowed is not None and number not in allowed):
        detail = f"one of {sorted(allowed)}" if allowed is not None else f"{low}..{high}"
        where.fail(key, f"{number} is out of range (expected {detail})")
    return number


def get_bool(record: Mapping[str, Any], key: str, where: Where) -> bool:
    """An MS-ASDTYPE boolean (0 or 1); absent is false."""
    return bool(get_int(record, key, where, low=0, high=1))


def parse_utc(text: str) -> datetime | None:
    """A compact or extended UTC time, or None when it does not parse."""
    match = _COMPACT.match(text)
    try:
        if match is not None:
            year, month, day, hour, minute, second = map(int, match.groups())
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        match = _EXTENDED.match(text)
        if match is None:
            return None
        year, month, day = int(match[1]), int(match[2]), int(match[3])
        hour, minute, second = (int(match[i] or 0) for i in (4, 5, 6))
        moment = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
        zone = match[7]
        if zone and zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            digits = zone[1:].replace(":", "")
            moment -= sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        return moment
    except (ValueError, OverflowError):  # 20250230T...: out of range; or past year 9999
        return None


def get_utc(record: Mapping[str, Any], key: str, where: Where) -> datetime | None:
    """A calendar time (``20251201T080000Z``) as an aware UTC datetime."""
    value = record.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        where.fail(key, f"expected a UTC time like 20251201T080000Z, got {_show(value)}")
    moment = parse_utc(value)
    if moment is None:
        where.fail(key, f"not a valid UTC time like 20251201T080000Z: {_show(value)}")
    return moment


# Apple's address book writes a birthday without a year as year 1604.
YEARLESS = 1604


def get_date(record: Mapping[str, Any], key: str, where: Where) -> date | None:
    """A contact date (``1980-02-29T00:00:00.000Z``) as the calendar date meant.

    Some clients send local midnight as UTC (``1980-02-28T23:00:00Z`` for a
    birthday on the 29th in UTC+1).  A date has no zone, so a time at or
    after 12:00 UTC is read as the next day's midnight somewhere east of UTC
    (up to UTC+12), and an earlier one as the same day's (down to UTC-12).
    ``--MM-DD`` (RFC 6350 §4.3.1) is a date without a year (year 1604).
    """
    value = record.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str) and value.startswith("--") and len(value) in (6, 7):
        digits = value[2:].replace("-", "")
        try:
            return date(YEARLESS, int(digits[:2]), int(digits[2:]))
        except ValueError:
            where.fail(key, f"not a valid month and day: {_show(value)}")
    moment = parse_utc(value) if isinstance(value, str) else None
    if moment is None:
        where.fail(key, f"expected a date like 1980-02-29T00:00:00.000Z, got {_show(value)}")
    if moment.hour >= 12:
        if moment.date() == date.max:
            where.fail(key, f"the date is past the year 9999: {_show(value)}")
        moment += timedelta(days=1)
    return moment.date()
