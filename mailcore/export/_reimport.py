"""Existing .vcf / .ics files -> ActiveSync-keyed records, for re-export.

vobject reads vCards, icalendar reads calendars; each item becomes the
record an ActiveSync server would have sent, so re-export goes through the
same writers and the same policy.  Properties with no ActiveSync element
are kept under ``"vcard:NAME"`` / ``"ical:NAME"`` keys, which the writers
leave out and report as unknown.  A recurrence rule that ActiveSync cannot
express is :class:`~mailcore.MalformedRecord` (not silently changed).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from mailcore.errors import MalformedInput, MalformedRecord
from mailcore.export._tz import encode_timezone, rule_from_zone

__all__ = ["read_ical", "read_vcards"]

_DAY_BITS = {"SU": 1, "MO": 2, "TU": 4, "WE": 8, "TH": 16, "FR": 32, "SA": 64}
_WKST = ("SU", "MO", "TU", "WE", "TH", "FR", "SA")


def _utc_text(moment: datetime) -> str:
    m = moment.astimezone(UTC)
    return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}Z"


# -- vCard -----------------------------------------------------------------------


def _types(line: Any) -> set[str]:
    found: set[str] = set()
    for value in line.params.get("TYPE", []):
        found.update(part.strip().lower() for part in value.split(","))
    return found


def _phone_key(kinds: set[str], taken: dict[str, Any]) -> str | None:
    if "fax" in kinds:
        order = ["HomeFaxNumber"] if "home" in kinds else ["BusinessFaxNumber", "HomeFaxNumber"]
    elif "cell" in kinds:
        order = ["MobilePhoneNumber"]
    elif "pager" in kinds:
        order = ["PagerNumber"]
    elif "car" in kinds or "x-car" in kinds:
        order = ["CarPhoneNumber"]
    elif "msg" in kinds or "text" in kinds:
        order = ["MMS"]
    elif "x-radio" in kinds:
        order = ["RadioPhoneNumber"]
    elif "x-assistant" in kinds:
        order = ["AssistantPhoneNumber"]
    elif "x-company-main" in kinds:
        order = ["CompanyMainPhone"]
    elif "work" in kinds:
        order = ["BusinessPhoneNumber", "Business2PhoneNumber"]
    elif "home" in kinds:
        order = ["HomePhoneNumber", "Home2PhoneNumber"]
    else:
        order = ["MobilePhoneNumber", "HomePhoneNumber", "Home2PhoneNumber"]
    return next((key for key in order if key not in taken), None)


def _vcard_date(value: str) -> str | None:
    text = value.strip()
    if text.startswith("--"):
        digits = text[2:].replace("-", "")
        return f"--{digits[:2]}-{digits[2:4]}" if len(digits) == 4 else None
    digits = text[:10].replace("-", "")
    if len(digits) != 8 or not digits.isdigit():
        return None
    return f"{digits[:4]}-{digits[4:6]}-{digits[6:]}T00:00:00.000Z"


def _vcard_record(card: Any, number: int) -> dict[str, Any]:
    record: dict[str, Any] = {}
    emails: list[str] = []
    for line in card.getChildren():
        name = line.name.upper()
        value = line.value
        if name in ("VERSION", "PRODID", "REV", "X-APPLE-OMIT-YEAR"):
            continue
        if name == "N":
            parts = value if isinstance(value, list) else None
            if hasattr(value, "family"):
                fields = {
                    "LastName": value.family, "FirstName": value.given,
                    "MiddleName": value.additional, "Title": value.prefix,
                    "Suffix": value.suffix,
                }  # fmt: skip
                for key, part in fields.items():
                    joined = " ".join(part) if isinstance(part, list) else part
                    if joined:
                        record[key] = joined
            elif parts:
                record["LastName"] = parts[0]
        elif name == "FN":
            record["FileAs"] = value
        elif name == "NICKNAME":
            record["NickName"] = value if isinstance(value, str) else ",".join(value)
        elif name == "TEL":
            slot = _phone_key(_types(line), record)
            if slot is None:
                record.setdefault("vcard:TEL", []).append(value)
            else:
                record[slot] = value
        elif name == "EMAIL":
            (emails.insert(0, value) if "pref" in _types(line) else emails.append(value))
        elif name == "ADR":
            kinds = _types(line)
            kind = "Business" if "work" in kinds else "Home" if "home" in kinds else "Other"
            address = {
                "Street": value.street, "City": value.city, "State": value.region,
                "PostalCode": value.code, "Country": value.country,
            }  # fmt: skip
            for part, piece in address.items():
                joined = "\n".join(piece) if isinstance(piece, list) else piece
                if joined:
                    record[f"{kind}Address{part}"] = joined
        elif name == "ORG":
            units = value if isinstance(value, list) else [value]
            if units and units[0]:
                record["CompanyName"] = units[0]
            if len(units) > 1 and units[1]:
                record["Department"] = ";".join(units[1:])
        elif name == "TITLE":
            record["JobTitle"] = value
        elif name in ("BDAY", "ANNIVERSARY", "X-ANNIVERSARY", "X-MS-ANNIVERSARY"):
            omit = line.params.get("X-APPLE-OMIT-YEAR")
            text = str(value)
            if omit and text.startswith(str(omit[0])):
                text = "--" + text[len(str(omit[0])) :].lstrip("-")
            parsed = _vcard_date(text)
            if parsed is None:
                raise MalformedRecord(
                    f"vCard {number}, field {name}: not a date: {text!r}", record=number,
                    field=name,
                )  # fmt: skip
            record["Birthday" if name == "BDAY" else "Anniversary"] = parsed
        elif name == "URL":
            record["WebPage"] = value
        elif name == "CATEGORIES":
            record["Categories"] = list(value) if isinstance(value, list) else [value]
        elif name == "PHOTO":
            if isinstance(value, bytes):
                record["Picture"] = base64.b64encode(value).decode("ascii")
            elif isinstance(value, str) and value.startswith("data:") and ";base64," in value:
                record["Picture"] = value.split(";base64,", 1)[1]
            else:
                record["vcard:PHOTO"] = "(not inline)"
        elif name == "NOTE":
            record["Body"] = value
        elif name == "UID":
            record["ServerId"] = value
        else:
            simple = {
                "X-PHONETIC-FIRST-NAME": "YomiFirstName", "X-PHONETIC-LAST-NAME": "YomiLastName",
                "X-PHONETIC-ORG": "YomiCompanyName", "X-OFFICE-LOCATION": "OfficeLocation",
                "X-SPOUSE": "Spouse", "X-ASSISTANT": "AssistantName", "X-MANAGER": "ManagerName",
                "X-CUSTOMER-ID": "CustomerId", "X-GOVERNMENT-ID": "GovernmentId",
                "X-ACCOUNT-NAME": "AccountName", "X-ALIAS": "Alias",
            }  # fmt: skip
            if name in simple:
                record[simple[name]] = value
            elif name == "X-MS-IMADDRESS":
                slot = next(
                    (k for k in ("IMAddress", "IMAddress2", "IMAddress3") if k not in record), None
                )
                if slot:
                    record[slot] = value
            elif name == "X-CHILD":
                record.setdefault("Children", []).append(value)
            else:
                record[f"vcard:{name}"] = str(value)
    for index, email in enumerate(emails[:3], start=1):
        record[f"Email{index}Address"] = email
    return record


def read_vcards(text: str) -> Iterator[dict[str, Any]]:
    """Records of every vCard in ``text`` (vobject's reader)."""
    import vobject  # type: ignore[import-untyped]

    try:
        for number, card in enumerate(vobject.readComponents(text), start=1):
            if card.name.upper() != "VCARD":
                raise MalformedInput(f"item {number} is a {card.name}, not a VCARD")
            yield _vcard_record(card, number)
    except MalformedInput:
        raise
    except Exception as error:  # vobject's ParseError and friends: bad input
        raise MalformedInput(f"not a readable vCard file: {error}") from None


# -- iCalendar ---------------------------------------------------------------------


def _zone_name(zone: tzinfo) -> str:
    key = getattr(zone, "key", None) or getattr(zone, "zone", None)
    return str(key) if key else str(zone.tzname(None) or "")


def _zoned(event: Any, name: str, number: int) -> Any:
    """A date-time property decoded; one whose TZID names no VTIMEZONE of
    the file and no known zone is refused rather than read as UTC (RFC 5545
    §3.2.19: the TZID must resolve), which would move the event silently."""
    value = event.decoded(name)
    tzid = getattr(event.get(name), "params", {}).get("TZID")
    if tzid and isinstance(value, datetime) and value.tzinfo is None:
        raise MalformedRecord(
            f"event {number}, field {name}: TZID {str(tzid)[:60]!r} is neither defined by a "
            "VTIMEZONE in the file nor a known time zone",
            record=number,
            field=name,
        )
    return value


def _times(event: Any, number: int) -> tuple[datetime, datetime, bool, tzinfo | None]:
    start = _zoned(event, "DTSTART", number)
    if "DTEND" in event:
        end = _zoned(event, "DTEND", number)
    elif "DURATION" in event:
        end = start + event.decoded("DURATION")
    else:
        end = start + (timedelta(days=1) if not isinstance(start, datetime) else timedelta(0))
    if not isinstance(start, datetime):  # VALUE=DATE: midnight, in UTC
        first = datetime.combine(start, time(), UTC)
        last = datetime.combine(end if isinstance(end, date) else start, time(), UTC)
        return first, last, True, None
    zone = start.tzinfo
    if zone is None:  # floating time: read as UTC
        start, end = start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    elif not isinstance(end, datetime):
        end = start
    return start.astimezone(UTC), end.astimezone(UTC), False, zone


def _moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    return datetime.combine(value, time(), UTC)


def _recurrence(rule: Any, number: int) -> dict[str, Any]:
    def fail(problem: str) -> MalformedRecord:
        return MalformedRecord(
            f"event {number}, field RRULE: {problem} (ActiveSync cannot express it)",
            record=number,
            field="RRULE",
        )

    known = {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "BYMONTH",
             "BYSETPOS", "WKST"}  # fmt: skip
    extra = set(rule) - known
    if extra:
        raise fail(f"{sorted(extra)[0]} is not supported")
    freq = rule["FREQ"][0]
    out: dict[str, Any] = {}
    days = [str(d) for d in rule.get("BYDAY", [])]
    mask, nths = 0, set()
    for day in days:
        name = day[-2:].upper()
        if name not in _DAY_BITS:
            raise fail(f"BYDAY {day}")
        mask |= _DAY_BITS[name]
        prefix = day[:-2]
        nths.add(int(prefix) if prefix not in ("", "+") else None)
    setpos = rule.get("BYSETPOS", [])
    monthday = rule.get("BYMONTHDAY", [])
    month = rule.get("BYMONTH", [])
    if len(monthday) > 1 or len(month) > 1 or len(setpos) > 1 or len(nths) > 1:
        raise fail("several BYMONTHDAY/BYMONTH/BYSETPOS values")
    nth = next(iter(nths)) if nths else None
    if setpos:
        if nth is not None:
            raise fail("BYSETPOS with numbered BYDAY")
        nth = setpos[0]
    if nth is not None and nth not in (1, 2, 3, 4, -1):
        raise fail(f"week {nth} of the month")
    week = None if nth is None else (5 if nth == -1 else nth)
    if freq in ("DAILY", "WEEKLY"):
        if monthday or month or nth is not None:
            raise fail(f"{freq} with month parts")
        out["Type"] = 0 if freq == "DAILY" else 1
        if mask:
            out["DayOfWeek"] = mask
    elif freq in ("MONTHLY", "YEARLY"):
        yearly = freq == "YEARLY"
        if yearly:
            if not month:
                raise fail("YEARLY without BYMONTH")
            out["MonthOfYear"] = month[0]
        elif month:
            raise fail("MONTHLY with BYMONTH")
        if monthday and not mask:
            if monthday[0] == -1:
                out.update(Type=6 if yearly else 3, DayOfWeek=127, WeekOfMonth=5)
            elif 1 <= monthday[0] <= 31:
                out.update(Type=5 if yearly else 2, DayOfMonth=monthday[0])
            else:
                raise fail(f"BYMONTHDAY {monthday[0]}")
        elif mask and week is not None and not monthday:
            out.update(Type=6 if yearly else 3, DayOfWeek=mask, WeekOfMonth=week)
        else:
            raise fail(f"this {freq} pattern")
    else:
        raise fail(f"FREQ={freq}")
    if rule.get("INTERVAL"):
        out["Interval"] = rule["INTERVAL"][0]
    if rule.get("COUNT"):
        out["Occurrences"] = rule["COUNT"][0]
    if rule.get("UNTIL"):
        out["Until"] = _utc_text(_moment(rule["UNTIL"][0]))
    if rule.get("WKST"):
        out["FirstDayOfWeek"] = _WKST.index(str(rule["WKST"][0]).upper())
    return out


_PARTSTAT = {"NEEDS-ACTION": 0, "TENTATIVE": 2, "ACCEPTED": 3, "DECLINED": 4}
_BUSY = {"FREE": 0, "TENTATIVE": 1, "BUSY": 2, "OOF": 3, "WORKINGELSEWHERE": 4}
_CLASS = {"PUBLIC": 0, "PRIVATE": 2, "CONFIDENTIAL": 3}


def _mailto(value: Any) -> str:
    text = str(value)
    return text[7:] if text.lower().startswith("mailto:") else text


def _common(event: Any, record: dict[str, Any]) -> None:
    """Everything but times, identity and recurrence."""
    simple = {"SUMMARY": "Subject", "LOCATION": "Location", "DESCRIPTION": "Body"}
    for name, key in simple.items():
        if name in event:
            record[key] = str(event[name])
    if "CATEGORIES" in event:
        values = event["CATEGORIES"]
        values = values if isinstance(values, list) else [values]
        record["Categories"] = [str(c) for group in values for c in group.cats]
    if "CLASS" in event:
        record["Sensitivity"] = _CLASS.get(str(event["CLASS"]).upper(), 2)
    busy = event.get("X-MICROSOFT-CDO-BUSYSTATUS")
    if busy is not None and str(busy).upper() in _BUSY:
        record["BusyStatus"] = _BUSY[str(busy).upper()]
    elif "TRANSP" in event:
        record["BusyStatus"] = 0 if str(event["TRANSP"]).upper() == "TRANSPARENT" else 2
    status = str(event.get("STATUS", "")).upper()
    if status == "CANCELLED":
        record["MeetingStatus"] = 5
    elif status in ("CONFIRMED", "TENTATIVE") and "ATTENDEE" in event:
        record["MeetingStatus"] = 1
    if "ORGANIZER" in event:
        organizer = event["ORGANIZER"]
        record["OrganizerEmail"] = _mailto(organizer)
        if organizer.params.get("CN"):
            record["OrganizerName"] = str(organizer.params["CN"])
    if "ATTENDEE" in event:
        attendees = event["ATTENDEE"]
        attendees = attendees if isinstance(attendees, list) else [attendees]
        record["Attendees"] = []
        for attendee in attendees:
            role = str(attendee.params.get("ROLE", "REQ-PARTICIPANT")).upper()
            kind = 3 if str(attendee.params.get("CUTYPE", "")).upper() == "RESOURCE" else (
                2 if role == "OPT-PARTICIPANT" else 1)  # fmt: skip
            entry: dict[str, Any] = {
                "Email": _mailto(attendee),
                "AttendeeType": kind,
                "AttendeeStatus": _PARTSTAT.get(
                    str(attendee.params.get("PARTSTAT", "")).upper(), 0
                ),
            }
            if attendee.params.get("CN"):
                entry["Name"] = str(attendee.params["CN"])
            record["Attendees"].append(entry)
    if "URL" in event:
        record["OnlineMeetingExternalLink"] = str(event["URL"])
    if "CONFERENCE" in event:
        conference = event["CONFERENCE"]
        record["OnlineMeetingConfLink"] = str(
            conference[0] if isinstance(conference, list) else conference
        )
    if str(event.get("X-MICROSOFT-DISALLOW-COUNTER", "")).upper() == "TRUE":
        record["DisallowNewTimeProposal"] = 1
    for alarm in event.walk("VALARM"):
        trigger = alarm.get("TRIGGER")
        if (
            trigger is not None
            and isinstance(trigger.dt, timedelta)
            and trigger.dt <= timedelta(0)
        ):
            record["Reminder"] = int(-trigger.dt.total_seconds() // 60)
            break
    if "DTSTAMP" in event:
        record["DtStamp"] = _utc_text(_moment(event.decoded("DTSTAMP")))


_HANDLED = frozenset(
    {
        "UID", "DTSTAMP", "DTSTART", "DTEND", "DURATION", "SUMMARY", "LOCATION", "DESCRIPTION",
        "CATEGORIES", "CLASS", "TRANSP", "STATUS", "ORGANIZER", "ATTENDEE", "URL",
        "CONFERENCE", "RRULE", "EXDATE", "RECURRENCE-ID", "X-MICROSOFT-CDO-BUSYSTATUS",
        "X-MICROSOFT-CDO-ALLDAYEVENT", "X-MICROSOFT-DISALLOW-COUNTER", "X-ALT-DESC", "GEO",
        "SEQUENCE", "CREATED", "LAST-MODIFIED",
    }
)  # fmt: skip


def _event_record(event: Any, number: int) -> dict[str, Any]:
    record: dict[str, Any] = {}
    if "UID" in event:
        record["UID"] = str(event["UID"])
    start, end, all_day, zone = _times(event, number)
    record["StartTime"] = _utc_text(start)
    record["EndTime"] = _utc_text(end)
    if all_day:
        record["AllDayEvent"] = 1
    if zone is not None and zone.utcoffset(start.replace(tzinfo=None)) is not None:
        name = _zone_name(zone)
        rule = rule_from_zone(zone, start.year, name)
        record["Timezone"] = encode_timezone(rule)
    _common(event, record)
    if "RRULE" in event:
        rules = event["RRULE"]
        if isinstance(rules, list):
            if len(rules) > 1:
                raise MalformedRecord(
                    f"event {number}, field RRULE: several RRULEs", record=number, field="RRULE"
                )
            rules = rules[0]
        record["Recurrence"] = _recurrence(rules, number)
    exceptions: list[dict[str, Any]] = []
    exdates = event.get("EXDATE")
    if exdates is not None:
        for group in exdates if isinstance(exdates, list) else [exdates]:
            for item in group.dts:
                exceptions.append(
                    {"ExceptionStartTime": _utc_text(_moment(item.dt)), "Deleted": 1}
                )
    if exceptions:
        record["Exceptions"] = exceptions
    for name in event:
        if name.upper() not in _HANDLED:
            record[f"ical:{name.upper()}"] = str(event[name])
    return record


_COMPONENT_LINE = re.compile(
    r"^(BEGIN|END):([A-Za-z0-9-]+)[ \t]*\r?$", re.MULTILINE | re.IGNORECASE
)


def read_ical(text: str) -> Iterator[dict[str, Any]]:
    """Records of every VEVENT in ``text`` (icalendar's reader); overrides
    (RECURRENCE-ID) become ``Exceptions`` of their master."""
    import icalendar

    # icalendar silently drops a component that is never closed: a truncated
    # file would export as an empty calendar.  Every BEGIN needs its END.
    opened = _COMPONENT_LINE.findall(text)
    depth: list[str] = []
    for kind, name in opened:
        if kind.upper() == "BEGIN":
            depth.append(name.upper())
        elif not depth or depth.pop() != name.upper():
            raise MalformedInput(f"not a readable iCalendar file: END:{name} without its BEGIN")
    if depth:
        raise MalformedInput(
            f"not a readable iCalendar file: BEGIN:{depth[-1]} is never closed (truncated?)"
        )
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except Exception as error:  # icalendar raises ValueError and friends
        raise MalformedInput(f"not a readable iCalendar file: {error}") from None
    masters: dict[str, dict[str, Any]] = {}
    order: list[dict[str, Any]] = []
    overrides: list[tuple[Any, int]] = []
    number = 0
    try:
        for calendar in calendars:
            for event in calendar.walk("VEVENT"):
                number += 1
                if "RECURRENCE-ID" in event:
                    overrides.append((event, number))
                    continue
                record = _event_record(event, number)
                order.append(record)
                if "UID" in record:
                    masters[record["UID"]] = record
        for event, count in overrides:
            master = masters.get(str(event.get("UID")))
            if master is None or "Recurrence" not in master:
                raise MalformedRecord(
                    f"event {count}: RECURRENCE-ID of an event with no recurring master",
                    record=count,
                    field="RECURRENCE-ID",
                )
            start, end, all_day, _ = _times(event, count)
            exception: dict[str, Any] = {
                "ExceptionStartTime": _utc_text(_moment(event.decoded("RECURRENCE-ID"))),
                "StartTime": _utc_text(start),
                "EndTime": _utc_text(end),
                "AllDayEvent": int(all_day),
            }
            _common(event, exception)
            master.setdefault("Exceptions", []).append(exception)
    except MalformedInput:
        raise
    except (KeyError, ValueError, TypeError, AttributeError) as error:
        raise MalformedInput(f"event {number}: cannot be read: {error}") from None
    yield from order
