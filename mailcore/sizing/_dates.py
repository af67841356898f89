"""Received times from the places mail stores keep them, without the email parser.

* mbox ``From `` lines: ``From sender Www Mmm dd hh:mm:ss yyyy [extra]``, the
  C ``asctime()`` layout (no zone; read as UTC, a zone such as ``+0200`` is
  applied when present).  Tools add text after the date (CPython's
  ``mailbox_01.mbox``: ``... 2022 extra info``), which is ignored.
* RFC 5322 §3.3 dates (``Date:`` and the date after the last ``;`` of a
  ``Received:`` field, §3.6.7) through ``email.utils.parsedate_tz`` and
  ``mktime_tz``, which are several times faster than
  ``parsedate_to_datetime`` (no timezone objects).
* IMAP ``INTERNALDATE`` (RFC 3501 §9 ``date-time``: ``"dd-Mon-yyyy hh:mm:ss +zzzz"``).
"""

from __future__ import annotations

import calendar
from email.utils import mktime_tz, parsedate_tz

__all__ = ["envelope_time", "imap_date_time", "rfc5322_time"]

_MONTHS = {
    name: number
    for number, name in enumerate(
        (b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun",
         b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"),
        start=1,
    )
}  # fmt: skip
_WEEKDAYS = frozenset((b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun"))
_DAY_START: dict[tuple[int, int, int], int] = {}


def _day(year: int, month: int, day: int) -> int | None:
    key = (year, month, day)
    start = _DAY_START.get(key)
    if start is None:
        if not (1 <= day <= 31 and 1 <= year <= 9999):
            return None
        if day > calendar.monthrange(year, month)[1]:
            return None
        start = calendar.timegm((year, month, day, 0, 0, 0))
        if len(_DAY_START) < 100_000:
            _DAY_START[key] = start
    return start


def _clock(text: bytes) -> int | None:
    parts = text.split(b":")
    if not 2 <= len(parts) <= 3 or not all(p.isdigit() and len(p) <= 2 for p in parts):
        return None
    hour, minute = int(parts[0]), int(parts[1])
    second = int(parts[2]) if len(parts) == 3 else 0
    if hour > 23 or minute > 59 or second > 60:
        return None
    return hour * 3600 + minute * 60 + second


def _zone(text: bytes) -> int | None:
    if len(text) == 5 and text[:1] in (b"+", b"-") and text[1:].isdigit():
        offset = int(text[1:3]) * 3600 + int(text[3:5]) * 60
        return -offset if text[:1] == b"+" else offset
    return None


def envelope_time(line: bytes) -> float | None:
    """Epoch seconds from an mbox ``From `` line (with or without ``From ``).

    ``None`` when the line has no ``asctime()`` date; that is also how a body
    line such as ``From time to time ...`` is told from a separator.
    """
    parts = line.split()
    if parts[:1] == [b"From"]:
        parts = parts[1:]
    # The sender is one token, but some writers leave it out or split it.
    for index in range(min(3, max(0, len(parts) - 4))):
        if parts[index] in _WEEKDAYS:
            month = _MONTHS.get(parts[index + 1])
            if month is None:
                continue
            day_text, clock_text = parts[index + 2], parts[index + 3]
            rest = parts[index + 4 : index + 6]
            if not day_text.isdigit() or not rest:
                return None
            zone = 0
            if _zone(rest[0]) is not None and len(rest) == 2:
                zone = _zone(rest[0]) or 0
                year_text = rest[1]
            else:
                year_text = rest[0]
                if len(rest) == 2 and _zone(rest[1]) is not None:
                    zone = _zone(rest[1]) or 0
            # asctime's year is %Y: any width.  Y2K-era software wrote "102"
            # for 2002; such a line is still a separator (the SpamAssassin
            # corpus has them), dated in year 102 (so only in "all").
            if not (1 <= len(year_text) <= 4 and year_text.isdigit()):
                return None
            start = _day(int(year_text), month, int(day_text))
            clock = _clock(clock_text)
            if start is None or clock is None:
                return None
            return float(start + clock + zone)
    return None


def rfc5322_time(value: bytes | str) -> float | None:
    """Epoch seconds from an RFC 5322 date-time (obsolete forms too); ``None`` if unreadable."""
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    try:
        parsed = parsedate_tz(text)
        if parsed is None:
            return None
        return float(mktime_tz(parsed))
    except (ValueError, OverflowError, TypeError, IndexError):
        # parsedate_tz has raised these on odd input in some CPython versions.
        return None


def imap_date_time(value: bytes | str) -> float | None:
    """Epoch seconds from an IMAP ``INTERNALDATE`` (``"21-Nov-2026 12:00:00 +0000"``)."""
    text = value.decode("ascii", "replace") if isinstance(value, bytes) else value
    text = text.strip().strip('"')
    try:
        date_part, clock_part, zone_part = text.split()
        day_text, month_text, year_text = date_part.split("-")
    except ValueError:
        return None
    month = _MONTHS.get(month_text.encode("ascii", "replace"))
    zone = _zone(zone_part.encode("ascii", "replace"))
    clock = _clock(clock_part.encode("ascii", "replace"))
    if month is None or zone is None or clock is None:
        return None
    if not (day_text.strip().isdigit() and year_text.isdigit()):
        return None
    start = _day(int(year_text), month, int(day_text))
    if start is None:
        return None
    return float(start + clock + zone)
