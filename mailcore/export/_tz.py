"""The ActiveSync time-zone blob: decoding, a tzinfo, IANA matching, VTIMEZONE.

[MS-ASDTYPE] §2.7.6: base64 of a 172-byte little-endian TIME_ZONE_INFORMATION
(``<l64s8Hl64s8Hl``): Bias, StandardName, StandardDate, StandardBias,
DaylightName, DaylightDate, DaylightBias.  ``UTC = local + Bias``; a
SYSTEMTIME with wYear 0 is a yearly rule "wDay-th (5 = last) wDayOfWeek of
wMonth at wHour:wMinute local time"; wMonth 0 means no daylight saving.

The VTIMEZONE written for a blob is built from the blob itself (so that our
local times and the reader's agree exactly); its TZID is the IANA zone that
has the same offsets and transitions in the event's year when there is one
(so that clients use their own tz database), else the blob's own name.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import dataclasses
import hashlib
import re
import struct
import zoneinfo
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache, lru_cache
from typing import NamedTuple

__all__ = [
    "BlobZone",
    "SystemTime",
    "TzRule",
    "decode_timezone",
    "encode_timezone",
    "resolve_iana",
    "rule_from_zone",
    "vtimezone_lines",
]

_FORMAT = struct.Struct("<l64s8Hl64s8Hl")
_DAYS = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")  # SYSTEMTIME wDayOfWeek order


class SystemTime(NamedTuple):
    """A SYSTEMTIME as a transition rule (seconds kept, milliseconds dropped)."""

    year: int
    month: int
    day_of_week: int
    day: int
    hour: int
    minute: int
    second: int


@dataclass(frozen=True, slots=True)
class TzRule:
    """A decoded blob: standard and daylight offsets and when they apply."""

    bias: int  # minutes, UTC = local + bias
    standard_name: str
    standard_date: SystemTime | None  # daylight -> standard (None: no DST)
    standard_bias: int
    daylight_name: str
    daylight_date: SystemTime | None  # standard -> daylight
    daylight_bias: int

    @property
    def standard_offset(self) -> timedelta:
        """Local time minus UTC in standard time."""
        return timedelta(minutes=-(self.bias + self.standard_bias))

    @property
    def daylight_offset(self) -> timedelta:
        """Local time minus UTC in daylight time."""
        return timedelta(minutes=-(self.bias + self.daylight_bias))

    @property
    def has_dst(self) -> bool:
        """True when the rule switches between two different offsets."""
        return (
            self.standard_date is not None
            and self.daylight_date is not None
            and self.standard_offset != self.daylight_offset
        )


class BadTimezone(ValueError):
    """The blob is not a TIME_ZONE_INFORMATION (the caller names the record)."""


def _name(raw: bytes) -> str:
    try:
        text = raw.decode("utf-16-le")
    except UnicodeDecodeError:
        return ""
    return text.split("\x00", 1)[0].strip()


def _system_time(values: tuple[int, ...], which: str) -> SystemTime | None:
    year, month, day_of_week, day, hour, minute, second, _ms = values
    if month == 0:
        return None
    if not 1 <= month <= 12 or day_of_week > 6 or hour > 23 or minute > 59 or second > 59:
        raise BadTimezone(f"{which} is not a valid transition time: {values}")
    if year == 0 and not 1 <= day <= 5:
        raise BadTimezone(f"{which} week of month must be 1..5 (5 = last), not {day}")
    if year != 0 and not 1 <= day <= calendar.monthrange(year, month)[1]:
        raise BadTimezone(f"{which} is not a valid date: {values}")
    return SystemTime(year, month, day_of_week, day, hour, minute, second)


@lru_cache(maxsize=512)
def decode_timezone(blob: str) -> TzRule:
    """Decode the base64 blob; :class:`BadTimezone` says what is wrong."""
    try:
        raw = base64.b64decode(blob, validate=True)
    except (binascii.Error, ValueError):
        raise BadTimezone("not valid base64") from None
    if len(raw) != _FORMAT.size:
        raise BadTimezone(f"decodes to {len(raw)} bytes, not {_FORMAT.size}")
    fields = _FORMAT.unpack(raw)
    bias, standard_name, standard_bias = fields[0], fields[1], fields[10]
    daylight_name, daylight_bias = fields[11], fields[20]
    # Real offsets lie within UTC-12..UTC+14; allow a margin, refuse nonsense.
    for label, value in (("Bias", bias), ("StandardBias", standard_bias)):
        if abs(value) > 24 * 60:
            raise BadTimezone(f"{label} {value} minutes is not a time-zone offset")
    if abs(daylight_bias) > 12 * 60:
        raise BadTimezone(f"DaylightBias {daylight_bias} minutes is not a time-zone offset")
    standard = _system_time(fields[2:10], "StandardDate")
    daylight = _system_time(fields[12:20], "DaylightDate")
    if (standard is None) != (daylight is None):
        standard = daylight = None  # one transition alone cannot be applied: no DST
    return TzRule(
        bias,
        _name(standard_name),
        standard,
        standard_bias,
        _name(daylight_name),
        daylight,
        daylight_bias,
    )


def encode_timezone(rule: TzRule) -> str:
    """The base64 blob of a rule (for .ics re-export and tests)."""

    def system_time(value: SystemTime | None) -> tuple[int, ...]:
        return (0,) * 8 if value is None else (*value, 0)

    return base64.b64encode(
        _FORMAT.pack(
            rule.bias,
            rule.standard_name.encode("utf-16-le")[:62],
            *system_time(rule.standard_date),
            rule.standard_bias,
            rule.daylight_name.encode("utf-16-le")[:62],
            *system_time(rule.daylight_date),
            rule.daylight_bias,
        )
    ).decode("ascii")


def _transition_day(year: int, when: SystemTime) -> int:
    """Day of month of a transition in ``year`` (5th = last occurrence)."""
    if when.year != 0:
        return when.day
    first_weekday, length = calendar.monthrange(year, when.month)  # Monday = 0
    wanted = (when.day_of_week - 1) % 7
    day = 1 + (wanted - first_weekday) % 7 + 7 * (when.day - 1)
    while day > length:
        day -= 7
    return day


def _local(year: int, when: SystemTime) -> datetime:
    return datetime(
        year, when.month, _transition_day(year, when), when.hour, when.minute, when.second
    )


class BlobZone(tzinfo):
    """A tzinfo that follows a blob's rule in every year."""

    def __init__(self, rule: TzRule, name: str) -> None:
        self.rule = rule
        self.name = name
        self._std = rule.standard_offset
        self._dst = rule.daylight_offset
        self._years: dict[int, tuple[datetime, datetime] | None] = {}

    def __repr__(self) -> str:
        return f"BlobZone({self.name!r})"

    def _window(self, year: int) -> tuple[datetime, datetime] | None:
        """(daylight start, daylight end) in naive UTC for ``year``, or None."""
        if year in self._years:
            return self._years[year]
        rule = self.rule
        window = None
        start, end = rule.daylight_date, rule.standard_date
        if (
            rule.has_dst
            and start is not None
            and end is not None
            and start.year in (0, year)
            and end.year in (0, year)
            and datetime.min.year < year < datetime.max.year
        ):
            window = (_local(year, start) - self._std, _local(year, end) - self._dst)
        self._years[year] = window
        return window

    def offset_at(self, moment: datetime) -> timedelta:
        """Local minus UTC at a naive UTC moment."""
        window = self._window(moment.year)
        if window is None:
            return self._std
        start, end = window
        if start < end:
            return self._dst if start <= moment < end else self._std
        # Southern hemisphere: daylight time spans the new year.
        return self._std if end <= moment < start else self._dst

    def to_local(self, moment: datetime) -> datetime:
        """Naive local wall time for an aware (or naive UTC) moment."""
        utc = moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        return utc + self.offset_at(utc)

    def utcoffset(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return self._std
        wall = dt.replace(tzinfo=None)
        fits = [o for o in (self._std, self._dst) if self.offset_at(wall - o) == o]
        if len(fits) == 1:
            return fits[0]
        high, low = max(self._std, self._dst), min(self._std, self._dst)
        if fits:  # ambiguous (clocks went back): PEP 495 fold 0 is the earlier
            return low if dt.fold else high
        return high if dt.fold else low  # in the gap: fold 0 uses the offset before

    def dst(self, dt: datetime | None) -> timedelta:
        return self.utcoffset(dt) - self._std

    def tzname(self, dt: datetime | None) -> str:
        return self.name

    def fromutc(self, dt: datetime) -> datetime:
        utc = dt.replace(tzinfo=None)
        offset = self.offset_at(utc)
        local = utc + offset
        # PEP 495: the second of two equal wall times gets fold=1.
        fold = int(
            offset == min(self._std, self._dst)
            and self.offset_at(local - max(self._std, self._dst)) == max(self._std, self._dst)
            and self._std != self._dst
        )
        return local.replace(tzinfo=self, fold=fold)


# -- IANA -----------------------------------------------------------------------

# CLDR windowsZones still gives some pre-rename names; tzdata keeps them only
# as links ("backward" file).
_CANONICAL = {
    "Asia/Calcutta": "Asia/Kolkata",
    "Asia/Katmandu": "Asia/Kathmandu",
    "Asia/Rangoon": "Asia/Yangon",
    "Asia/Saigon": "Asia/Ho_Chi_Minh",
    "America/Buenos_Aires": "America/Argentina/Buenos_Aires",
    "America/Godthab": "America/Nuuk",
    "America/Indianapolis": "America/Indiana/Indianapolis",
    "Europe/Kiev": "Europe/Kyiv",
}
_AREAS = (
    "Africa/", "America/", "Antarctica/", "Asia/", "Atlantic/", "Australia/", "Europe/",
    "Indian/", "Pacific/",
)  # fmt: skip


@cache
def _windows_map() -> dict[str, str]:
    from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON  # CLDR windowsZones

    return {name: _CANONICAL.get(zone, zone) for name, zone in WINDOWS_TO_OLSON.items()}


@cache
def _zones() -> tuple[tuple[str, zoneinfo.ZoneInfo], ...]:
    """Every canonical-looking IANA zone, primary CLDR zones first."""
    primary = set(_windows_map().values())
    names = [
        name
        for name in zoneinfo.available_timezones()
        if name.startswith(_AREAS) and name not in _CANONICAL
    ]
    names.sort(key=lambda name: (name not in primary, name))
    return tuple((name, zoneinfo.ZoneInfo(name)) for name in names)


def _probes(rule: TzRule, year: int) -> list[datetime]:
    """UTC moments at which a zone must show the rule's offset."""
    moments = [datetime(year, month, day, 12) for month in range(1, 13) for day in (1, 15)]
    window = BlobZone(rule, "")._window(year)
    if window is not None:
        minute = timedelta(minutes=1)
        for edge in window:
            moments += [edge - minute, edge + minute]
    return moments


def _matches(zone: tzinfo, expected: list[tuple[datetime, timedelta]]) -> bool:
    return all(
        moment.replace(tzinfo=UTC).astimezone(zone).utcoffset() == offset
        for moment, offset in expected
    )


@lru_cache(maxsize=1024)
def resolve_iana(rule: TzRule, year: int) -> str | None:
    """The IANA zone that behaves like ``rule`` throughout ``year``, or None.

    First the zone the blob names (a Windows zone id via CLDR windowsZones,
    or an IANA name), then every zone, CLDR primary zones first, then by
    name (so W. Europe rules without a name give Europe/Berlin).  Cached:
    the full scan costs tens of milliseconds.
    """
    if not datetime.min.year < year < datetime.max.year:
        return None
    zone = BlobZone(rule, "")
    expected = [(moment, zone.offset_at(moment)) for moment in _probes(rule, year)]
    named = _windows_map().get(rule.standard_name) or _CANONICAL.get(
        rule.standard_name, rule.standard_name
    )
    if named and named.startswith((*_AREAS, "Etc/")):
        try:
            candidate = zoneinfo.ZoneInfo(named)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            candidate = None
        if candidate is not None and _matches(candidate, expected):
            return named
    quick = expected[:1] + expected[12:13]  # 1 January and 1 July first
    for name, candidate in _zones():
        if _matches(candidate, quick) and _matches(candidate, expected):
            return name
    return None


def rule_from_zone(zone: tzinfo, year: int, name: str) -> TzRule:
    """The blob rule that a tzinfo follows in ``year`` (for .ics input).

    Finds the offset changes of the year to the minute; two changes become
    a yearly "n-th weekday" rule (a day in the month's last week is "last",
    5), other counts become absolute dates of that year.
    """
    year = min(max(year, 1971), 9998)

    def offset(moment: datetime) -> timedelta:
        value = moment.replace(tzinfo=UTC).astimezone(zone).utcoffset()
        return value if value is not None else timedelta(0)

    changes: list[tuple[datetime, timedelta, timedelta]] = []
    day = datetime(year, 1, 1)
    before = offset(day)
    while day.year == year:
        following = day + timedelta(days=1)
        after = offset(following)
        if after != before:
            low, high = day, following
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                middle = middle.replace(second=0, microsecond=0)
                if middle <= low:
                    break
                if offset(middle) == before:
                    low = middle
                else:
                    high = middle
            changes.append((high, before, after))
            before = after
        day = following
    start_offset = offset(datetime(year, 1, 1))
    if not changes:
        return TzRule(_bias(start_offset), name, None, 0, name, None, 0)
    offsets = {start_offset} | {after for _, _, after in changes}
    standard, daylight = min(offsets), max(offsets)
    to_dst = next(c for c in changes if c[2] == daylight)
    to_std = next(c for c in reversed(changes) if c[2] == standard)
    absolute = len(changes) != 2 or len(offsets) != 2

    def system_time(moment: datetime, before: timedelta) -> SystemTime:
        local = moment + before
        if absolute:
            return SystemTime(year, local.month, (local.weekday() + 1) % 7, local.day,
                              local.hour, local.minute, local.second)  # fmt: skip
        length = calendar.monthrange(local.year, local.month)[1]
        nth = 5 if local.day + 7 > length else (local.day - 1) // 7 + 1
        return SystemTime(0, local.month, (local.weekday() + 1) % 7, nth,
                          local.hour, local.minute, local.second)  # fmt: skip

    return TzRule(
        _bias(standard),
        name,
        system_time(to_std[0], to_std[1]),
        0,
        name,
        system_time(to_dst[0], to_dst[1]),
        _bias(daylight) - _bias(standard),
    )


def _bias(offset: timedelta) -> int:
    return -int(offset.total_seconds() // 60)


# -- VTIMEZONE ------------------------------------------------------------------


def _offset_text(offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, minutes = divmod(abs(minutes), 60)
    return f"{sign}{hours:02d}{minutes:02d}"


def _observance(
    kind: str, rule_time: SystemTime, before: timedelta, after: timedelta
) -> list[str]:
    if rule_time.year:
        first = _local(rule_time.year, rule_time)
        rrule = None
    else:
        # The first onset in 1970 (RFC 5545 §3.6.5: DTSTART is the first
        # onset and must match the RRULE, unlike Exchange's 16010101).
        first = _local(1970, rule_time)
        nth = -1 if rule_time.day == 5 else rule_time.day
        day = _DAYS[rule_time.day_of_week]
        rrule = f"RRULE:FREQ=YEARLY;BYMONTH={rule_time.month};BYDAY={nth}{day}"
    lines = [f"BEGIN:{kind}", f"DTSTART:{first:%Y%m%dT%H%M%S}"]
    if rrule:
        lines.append(rrule)
    lines += [
        f"TZOFFSETFROM:{_offset_text(before)}",
        f"TZOFFSETTO:{_offset_text(after)}",
        f"END:{kind}",
    ]
    return lines


def vtimezone_lines(rule: TzRule, tzid: str) -> list[str]:
    """A compact RRULE-based VTIMEZONE for ``rule`` under ``tzid`` (RFC 5545 §3.6.5)."""
    std, dst = rule.standard_offset, rule.daylight_offset
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tzid}"]
    if not rule.has_dst or rule.standard_date is None or rule.daylight_date is None:
        lines += [
            "BEGIN:STANDARD",
            "DTSTART:19700101T000000",
            f"TZOFFSETFROM:{_offset_text(std)}",
            f"TZOFFSETTO:{_offset_text(std)}",
            "END:STANDARD",
        ]
    else:
        if rule.standard_date.year or rule.daylight_date.year:
            # Absolute transitions of one year: standard time before them.
            lines += [
                "BEGIN:STANDARD",
                "DTSTART:19700101T000000",
                f"TZOFFSETFROM:{_offset_text(std)}",
                f"TZOFFSETTO:{_offset_text(std)}",
                "END:STANDARD",
            ]
        lines += _observance("STANDARD", rule.standard_date, dst, std)
        lines += _observance("DAYLIGHT", rule.daylight_date, std, dst)
    lines.append("END:VTIMEZONE")
    return lines


_UNSAFE = re.compile(r"[^\w ()+./&'-]")


def display_tzid(rule: TzRule) -> str:
    """A TZID for a rule with no IANA match: its name (else its offsets) and a digest.

    Readers cache zones by TZID across files (icalendar 7 does), so two
    different rules must never share one: the digest of the rule keeps
    "Custom Standard Time" of one mailbox apart from another's.
    """
    name = _UNSAFE.sub("-", rule.standard_name).strip()
    if not name:
        name = f"UTC{_offset_text(rule.standard_offset)}"
        if rule.has_dst:
            name += f" DST{_offset_text(rule.daylight_offset)}"
    digest = hashlib.sha256(
        repr(
            dataclasses.astuple(rule)[:1]
            + dataclasses.astuple(rule)[2:4]
            + dataclasses.astuple(rule)[5:]
        ).encode()
    ).hexdigest()[:8]
    return f"{name} ({digest})"
