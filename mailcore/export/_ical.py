"""MS-ASCAL calendar items -> iCalendar (RFC 5545) VEVENT lines.

Field mapping per reference export.md §2.2-§2.5.  Times come in as UTC and
are written in the event's own zone (``DTSTART;TZID=...`` with a VTIMEZONE
built from the ActiveSync blob), all-day events as ``VALUE=DATE`` dates
taken in that zone (never from the UTC date: the known off-by-one bug).
Recurrence, EXDATE and RECURRENCE-ID overrides belong to the "time" level;
an override inherits every element it does not carry (MS-ASCAL §2.2.2.20).
"""

from __future__ import annotations

import uuid
import zoneinfo
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any, NoReturn

from mailcore._address import first_address
from mailcore.export._body import read_body
from mailcore.export._levels import CalendarLevel
from mailcore.export._recurrence import Recurrence, parse_recurrence
from mailcore.export._text import escape_text, param_value
from mailcore.export._tz import (
    BadTimezone,
    BlobZone,
    TzRule,
    decode_timezone,
    display_tzid,
    resolve_iana,
    rule_from_zone,
    vtimezone_lines,
)
from mailcore.export._values import Where, get_bool, get_int, get_str, get_strings, get_utc

__all__ = ["EVENT_KEYS", "EXCEPTION_KEYS", "CalendarWriter"]

# Elements an exception may override (MS-ASCAL §2.2.2.20); everything else
# comes from the master.
EXCEPTION_KEYS = frozenset(
    {
        "Deleted", "ExceptionStartTime", "Subject", "StartTime", "EndTime", "Body", "Location",
        "Categories", "Sensitivity", "BusyStatus", "AllDayEvent", "Reminder", "DtStamp",
        "MeetingStatus", "Attendees", "AppointmentReplyTime", "ResponseType",
        "OnlineMeetingConfLink", "OnlineMeetingExternalLink", "BodyTruncated", "NativeBodyType",
        "Rtf", "Category",
    }
)  # fmt: skip
EVENT_KEYS = EXCEPTION_KEYS - {"Deleted", "ExceptionStartTime"} | frozenset(
    {
        "ServerId", "UID", "ClientUid", "Timezone", "OrganizerName", "OrganizerEmail",
        "Recurrence", "Exceptions", "DisallowNewTimeProposal", "ResponseRequested", "BodySize",
        "Attachments", "InstanceId",
    }
)  # fmt: skip
# What an override does not take from its master: its own times and identity.
_NOT_INHERITED = frozenset(
    {"StartTime", "EndTime", "DtStamp", "Recurrence", "Exceptions", "UID", "ClientUid"}
)

# MS-ASCAL §2.2.2.10 BusyStatus: 0 free, 1 tentative, 2 busy, 3 out of
# office, 4 working elsewhere (5 is allowed by the schema, unnamed).
_BUSY = ("FREE", "TENTATIVE", "BUSY", "OOF", "WORKINGELSEWHERE", "BUSY")
_CLASS = ("PUBLIC", "PRIVATE", "PRIVATE", "CONFIDENTIAL")  # Sensitivity 0..3
_PARTSTAT = {0: "NEEDS-ACTION", 2: "TENTATIVE", 3: "ACCEPTED", 4: "DECLINED", 5: "NEEDS-ACTION"}
_ROLE = {
    1: "ROLE=REQ-PARTICIPANT;CUTYPE=INDIVIDUAL",
    2: "ROLE=OPT-PARTICIPANT;CUTYPE=INDIVIDUAL",
    3: "ROLE=NON-PARTICIPANT;CUTYPE=RESOURCE",
}
_MEETING_STATUS = frozenset({0, 1, 3, 5, 7, 9, 11, 13, 15})
_NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")


def _utc_text(moment: datetime) -> str:
    return (
        f"{moment.year:04d}{moment.month:02d}{moment.day:02d}T"
        f"{moment.hour:02d}{moment.minute:02d}{moment.second:02d}Z"
    )


def _local_text(moment: datetime) -> str:
    return (
        f"{moment.year:04d}{moment.month:02d}{moment.day:02d}T"
        f"{moment.hour:02d}{moment.minute:02d}{moment.second:02d}"
    )


def _date_text(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


@lru_cache(maxsize=256)
def _vtimezone_text(rule: TzRule, tzid: str) -> tuple[str, ...]:
    return tuple(vtimezone_lines(rule, tzid))


@lru_cache(maxsize=64)
def _default_rule(name: str, year: int) -> TzRule:
    return rule_from_zone(zoneinfo.ZoneInfo(name), year, name)


class _Zone:
    """The event's zone: how to write its times, and its TZID."""

    __slots__ = ("tz", "tzid", "used")

    def __init__(self, tz: BlobZone | None, tzid: str | None) -> None:
        self.tz = tz
        self.tzid = tzid
        self.used = False  # a TZID was written (so its VTIMEZONE is needed)

    def local(self, moment: datetime) -> datetime:
        return moment if self.tz is None else self.tz.to_local(moment)

    def day(self, moment: datetime) -> date:
        return self.local(moment).date()

    def timed(self, name: str, moment: datetime) -> str:
        if self.tz is None:
            return f"{name}:{_utc_text(moment)}"
        self.used = True
        return (
            f"{name};TZID={param_value(self.tzid or '')}:{_local_text(self.tz.to_local(moment))}"
        )


class CalendarWriter:
    """Writes events of one VCALENDAR; remembers which VTIMEZONEs it wrote.

    A VTIMEZONE is written just before the first event that uses it, so the
    output can be streamed; each TZID names exactly one rule in the stream.
    """

    def __init__(
        self,
        level: CalendarLevel,
        placeholder: str,
        now: datetime,
        default_timezone: str | None = None,
        on_unknown: Callable[[Where, tuple[str, ...]], None] | None = None,
    ) -> None:
        self.level = level
        self.placeholder = escape_text(placeholder)
        self.stamp = _utc_text(now.astimezone(UTC))
        self.default_timezone = default_timezone
        self.on_unknown = on_unknown
        self._zones: dict[tuple[str, int], _Zone] = {}
        self._tzids: dict[str, TzRule] = {}
        self._written: set[str] = set()

    # -- zones ------------------------------------------------------------------

    def _zone(self, record: Mapping[str, Any], where: Where, year: int) -> _Zone:
        blob = record.get("Timezone")
        if blob is not None and blob != "" and not isinstance(blob, str):
            where.fail("Timezone", "expected a base64 TIME_ZONE_INFORMATION string")
        key = (blob or "", year)
        zone = self._zones.get(key)
        if zone is None:
            zone = self._new_zone(blob or None, where, year)
            self._zones[key] = zone
        zone.used = False
        return zone

    def _new_zone(self, blob: str | None, where: Where, year: int) -> _Zone:
        if blob is not None:
            try:
                rule = decode_timezone(blob)
            except BadTimezone as error:
                where.fail("Timezone", str(error))
        elif self.default_timezone is not None:
            rule = _default_rule(self.default_timezone, year)
        else:
            return _Zone(None, None)
        if not rule.has_dst and rule.standard_offset == timedelta(0):
            return _Zone(None, None)  # UTC: times written with Z, no VTIMEZONE
        tzid = resolve_iana(rule, year) or display_tzid(rule)
        base, number = tzid, 1
        while self._tzids.setdefault(tzid, rule) != rule:
            number += 1  # the same TZID with other rules: keep both distinct
            tzid = f"{base} ({number})"
        return _Zone(BlobZone(rule, tzid), tzid)

    # -- events -----------------------------------------------------------------

    def event(self, record: Mapping[str, Any], where: Where) -> list[str]:
        """The lines of one calendar item: VTIMEZONE if new, VEVENT, overrides."""
        out: list[str] = []
        start = get_utc(record, "StartTime", where)
        if start is None:
            where.fail("StartTime", "missing (every event needs a start)")
        zone = self._zone(record, where, start.year)
        all_day = get_bool(record, "AllDayEvent", where)
        uid = self._uid(record, where)
        recurrence = parse_recurrence(record.get("Recurrence"), where)
        exceptions = record.get("Exceptions")
        if exceptions is not None and not isinstance(exceptions, list):
            where.fail("Exceptions", "expected a list of Exception objects")
        if exceptions and recurrence is None:
            where.fail("Exceptions", "exceptions of an event that has no Recurrence")
        # RECURRENCE-ID and EXDATE take DTSTART's value type and zone (RFC
        # 5545 §3.8.5.1, §3.8.4.4), also when an override changes AllDayEvent.
        if all_day:

            def instance(name: str, moment: datetime) -> str:
                return f"{name};VALUE=DATE:{_date_text(zone.day(moment))}"
        else:
            instance = zone.timed
        deleted: list[datetime] = []
        overrides: list[tuple[datetime, dict[str, Any], Where]] = []
        seen: set[datetime] = set()
        for number, exception in enumerate(exceptions or (), start=1):
            field = f"Exceptions[{number}]"
            if not isinstance(exception, Mapping):
                where.fail(field, "expected an Exception object")
            inner: Where = _InnerWhere(where, field)
            original = get_utc(exception, "ExceptionStartTime", inner)
            if original is None:
                where.fail(f"{field}.ExceptionStartTime", "missing (which occurrence?)")
            if original in seen:
                where.fail(f"{field}.ExceptionStartTime", "two exceptions for one occurrence")
            seen.add(original)
            unknown = tuple(sorted(f"{field}.{k}" for k in set(exception) - EXCEPTION_KEYS))
            if unknown and self.on_unknown is not None:
                self.on_unknown(where, unknown)
            if get_bool(exception, "Deleted", inner):
                deleted.append(original)
            else:
                overrides.append((original, dict(exception), inner))
        timing: list[str] = []
        if recurrence is not None:
            timing.append("RRULE:" + recurrence.rrule(self._until(recurrence, zone, all_day)))
            timing += [instance("EXDATE", moment) for moment in deleted]
        out += self._vevent(record, where, zone, start, all_day, uid, timing)
        if overrides:
            end = get_utc(record, "EndTime", where) or start
            duration = end - start
            inherited = {k: v for k, v in record.items() if k not in _NOT_INHERITED}
            for original, exception, inner in overrides:
                merged = {**inherited, **exception}
                begin = get_utc(exception, "StartTime", inner) or original
                if "EndTime" not in exception:
                    merged["EndTime"] = _utc_text(begin + duration)
                merged["StartTime"] = _utc_text(begin)
                if "DtStamp" not in exception and "DtStamp" in record:
                    merged["DtStamp"] = record["DtStamp"]
                override_all_day = get_bool(merged, "AllDayEvent", inner)
                out += self._vevent(
                    merged, inner, zone, begin, override_all_day, uid,
                    [instance("RECURRENCE-ID", original)],
                )  # fmt: skip
        if zone.used and zone.tzid not in self._written:
            # RFC 5545 §3.2.19: every TZID used needs its VTIMEZONE; written
            # before the first event that uses it, once per stream.
            assert zone.tz is not None and zone.tzid is not None
            self._written.add(zone.tzid)
            return [*_vtimezone_text(zone.tz.rule, zone.tzid), *out]
        return out

    def _uid(self, record: Mapping[str, Any], where: Where) -> str:
        # Outlook matches updates by the GlobalObjectId: kept verbatim.
        uid = get_str(record, "UID", where) or get_str(record, "ClientUid", where)
        if uid is None:
            server_id = get_str(record, "ServerId", where) or repr(
                sorted((k, repr(v)) for k, v in record.items())
            )
            uid = str(uuid.uuid5(_NAMESPACE, "mailcore:event:" + server_id))
        return escape_text(uid)

    @staticmethod
    def _until(recurrence: Recurrence, zone: _Zone, all_day: bool) -> str | None:
        if recurrence.until is None:
            return None
        if all_day:  # RFC 5545 §3.3.10: UNTIL has DTSTART's value type
            return _date_text(zone.day(recurrence.until))
        return _utc_text(recurrence.until)  # UTC whenever DTSTART has a TZID

    def _vevent(
        self,
        record: Mapping[str, Any],
        where: Where,
        zone: _Zone,
        start: datetime,
        all_day: bool,
        uid: str,
        timing: list[str],
    ) -> list[str]:
        level = self.level
        end = get_utc(record, "EndTime", where)
        if end is not None and end < start:
            where.fail("EndTime", "is before StartTime")
        stamp = get_utc(record, "DtStamp", where)
        lines = [
            "BEGIN:VEVENT",
            "UID:" + uid,
            "DTSTAMP:" + (_utc_text(stamp) if stamp is not None else self.stamp),
        ]
        if all_day:
            first = zone.day(start)
            last = zone.day(end) if end is not None else first
            if last <= first:  # DTEND is exclusive and must follow DTSTART
                last = first + timedelta(days=1)
            lines.append(f"DTSTART;VALUE=DATE:{_date_text(first)}")
            lines.append(f"DTEND;VALUE=DATE:{_date_text(last)}")
        else:
            lines.append(zone.timed("DTSTART", start))
            lines.append(zone.timed("DTEND", end if end is not None else start))
        # RRULE/EXDATE (master) or RECURRENCE-ID (override): before any VALARM,
        # since RFC 5545 §3.6.1 puts every property before the alarms.
        lines += timing
        subject = get_str(record, "Subject", where)
        if level >= CalendarLevel.TIME_LOCATION_SUBJECT:
            if subject is not None:
                lines.append("SUMMARY:" + escape_text(subject))
        else:
            lines.append("SUMMARY:" + self.placeholder)
        if level >= CalendarLevel.TIME_LOCATION:
            self._location(record, where, lines)
        busy = get_int(record, "BusyStatus", where, low=0, high=5)
        if busy is not None:
            lines.append("TRANSP:TRANSPARENT" if busy in (0, 4) else "TRANSP:OPAQUE")
            lines.append("X-MICROSOFT-CDO-BUSYSTATUS:" + _BUSY[busy])
        status = get_int(record, "MeetingStatus", where, low=0, high=15, allowed=_MEETING_STATUS)
        if status:
            if status & 4:  # the cancelled bit (5, 7, 13, 15)
                lines.append("STATUS:CANCELLED")
            else:
                lines.append("STATUS:TENTATIVE" if busy == 1 else "STATUS:CONFIRMED")
        if all_day:
            lines.append("X-MICROSOFT-CDO-ALLDAYEVENT:TRUE")
        if level >= CalendarLevel.ALL:
            self._all_fields(record, where, subject, lines)
        lines.append("END:VEVENT")
        return lines

    @staticmethod
    def _location(record: Mapping[str, Any], where: Where, lines: list[str]) -> None:
        value = record.get("Location")
        if value is None or value == "":
            return
        if isinstance(value, str):
            lines.append("LOCATION:" + escape_text(value))
            return
        if not isinstance(value, Mapping):
            where.fail("Location", "expected text or a Location object")
        # EAS 16.x airsyncbase:Location: DisplayName, address parts, coordinates.
        name = get_str(value, "DisplayName", _InnerWhere(where, "Location"))
        parts = [
            get_str(value, key, _InnerWhere(where, "Location"))
            for key in ("Street", "City", "State", "PostalCode", "Country")
        ]
        text = ", ".join(p for p in (name, *parts) if p)
        if text:
            lines.append("LOCATION:" + escape_text(text))
        latitude, longitude = value.get("Latitude"), value.get("Longitude")
        if latitude is not None and longitude is not None:
            try:
                lat, lon = float(latitude), float(longitude)
            except (TypeError, ValueError):
                where.fail("Location.Latitude", "coordinates must be numbers")
            if not (-90 <= lat <= 90 and -180 <= lon <= 180) or isinstance(latitude, bool):
                where.fail("Location.Latitude", f"({lat}, {lon}) is not on Earth")
            lines.append(f"GEO:{lat:.6f};{lon:.6f}")

    def _all_fields(
        self, record: Mapping[str, Any], where: Where, subject: str | None, lines: list[str]
    ) -> None:
        body = read_body(record, where)
        if body.text:
            lines.append("DESCRIPTION:" + escape_text(body.text))
        if body.html:
            lines.append("X-ALT-DESC;FMTTYPE=text/html:" + escape_text(body.html))
        organizer = get_str(record, "OrganizerEmail", where)
        if organizer is not None:
            name = get_str(record, "OrganizerName", where)
            lines.append(
                f"ORGANIZER{_cn(name)}:mailto:{_mailbox(organizer, where, 'OrganizerEmail')}"
            )
        attendees = record.get("Attendees")
        if attendees is not None:
            if not isinstance(attendees, list):
                where.fail("Attendees", "expected a list of Attendee objects")
            for number, attendee in enumerate(attendees, start=1):
                lines.append(_attendee(attendee, where, f"Attendees[{number}]"))
        categories = get_strings(record, "Categories", where)
        if categories:
            lines.append("CATEGORIES:" + ",".join([escape_text(c) for c in categories]))
        sensitivity = get_int(record, "Sensitivity", where, low=0, high=3)
        if sensitivity is not None:
            lines.append("CLASS:" + _CLASS[sensitivity])
        for key, name in (("OnlineMeetingExternalLink", "URL"),
                          ("OnlineMeetingConfLink", "CONFERENCE;VALUE=URI")):  # fmt: skip
            link = get_str(record, key, where)
            if link is not None:
                lines.append(f"{name}:{_uri(link.strip(), where, key)}")
        if get_bool(record, "DisallowNewTimeProposal", where):
            lines.append("X-MICROSOFT-DISALLOW-COUNTER:TRUE")
        reminder = get_int(record, "Reminder", where, low=0, high=5_256_000)  # ten years
        if reminder is not None:
            # RFC 5545 §3.6.6: a DISPLAY alarm needs DESCRIPTION (Z-Push omits it).
            lines += [
                "BEGIN:VALARM",
                "ACTION:DISPLAY",
                f"TRIGGER:-PT{reminder}M",
                "DESCRIPTION:" + (escape_text(subject) if subject else "Reminder"),
                "END:VALARM",
            ]


class _InnerWhere(Where):
    """Errors inside a nested object name ``Outer.Element``."""

    def __init__(self, outer: Where, prefix: str) -> None:
        self.number = outer.number
        self.label = outer.label
        self._prefix = prefix

    def fail(self, field: str | None, problem: str) -> NoReturn:
        super().fail(f"{self._prefix}.{field}" if field else self._prefix, problem)


def _cn(name: str | None) -> str:
    return f";CN={param_value(name, quote=True)}" if name and name.strip() else ""


def _mailbox(value: str, where: Where, field: str) -> str:
    address = first_address(value)
    if address is None or not _SAFE_ADDRESS(address):
        where.fail(field, f"not an e-mail address: {value!r:.60}")
    return address


def _SAFE_ADDRESS(address: str) -> bool:  # noqa: N802 (a predicate used like a pattern)
    return "@" in address and address.isprintable() and not any(c in address for c in ' "<>\\')


def _uri(value: str, where: Where, field: str) -> str:
    if ":" not in value or not value.isprintable() or any(c in value for c in ' "<>\\^`{|}'):
        where.fail(field, f"not a URI: {value!r:.60}")
    return value


def _attendee(value: Any, where: Where, field: str) -> str:
    if not isinstance(value, Mapping):
        where.fail(field, "expected an Attendee object")
    inner = _InnerWhere(where, field)
    email = get_str(value, "Email", inner)
    if email is None:
        where.fail(f"{field}.Email", "missing")
    status = get_int(value, "AttendeeStatus", inner, low=0, high=5, allowed=frozenset(_PARTSTAT))
    kind = get_int(value, "AttendeeType", inner, low=1, high=3)
    unknown = set(value) - {"Email", "Name", "AttendeeStatus", "AttendeeType"}
    if unknown:
        where.fail(f"{field}.{sorted(unknown)[0]}", "not an Attendee element (MS-ASCAL)")
    params = _cn(get_str(value, "Name", inner))
    params += ";" + _ROLE[kind or 1]
    params += ";PARTSTAT=" + _PARTSTAT[status or 0]
    return f"ATTENDEE{params}:mailto:{_mailbox(email, where, f'{field}.Email')}"
