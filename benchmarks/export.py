"""Export benchmarks (issue 6): our streaming writers against icalendar and vobject.

Data: 100,000 generated contacts and 100,000 calendar items
(benchmarks/export_data.py), the same records for us and the peer, built
once per run.  One operation exports the next slice of 1,000 records; each
function walks the whole data set slice by slice from the start, so both
sides see the same records in the same order.  Peers map the same
ActiveSync records to their own objects and serialise them (the job a
gateway would have them do).  ``--quick`` uses 2,000 records and slices of
100.

The streaming row's name carries the peak resident memory of a separate
process that streams 1,000,000 contacts (20,000 under ``--quick``) from
JSON Lines to a vCard file with ``write_vcards``; the issue wants < 200 MB.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import icalendar
import vobject  # type: ignore[import-untyped]  # no stubs
from dateutil import tz as dateutil_tz  # type: ignore[import-untyped]  # no stubs

from benchmarks._harness import Benchmark, Goal
from benchmarks.export_data import contacts, events
from mailcore.export import export_ical, export_vcards, read_records, write_vcards
from mailcore.policy import ExportPolicy

__all__ = ["BENCHMARKS"]

QUICK = "--quick" in sys.argv
RECORDS = 2_000 if QUICK else 100_000
SLICE = 100 if QUICK else 1_000
STREAM_CONTACTS = 20_000 if QUICK else 1_000_000
POLICY = ExportPolicy(contacts=True, contact_fields="all", calendar="all")
NOW = datetime(2025, 1, 1, tzinfo=UTC)
_CONTACTS = list(contacts(RECORDS))
_EVENTS = list(events(RECORDS))


_Item = TypeVar("_Item")


def _slices(data: list[_Item], job: Callable[[list[_Item]], Any]) -> Callable[[], Any]:
    """A callable that runs ``job`` on the next slice, wrapping at the end."""
    position = [0]

    def step() -> Any:
        start = position[0]
        position[0] = (start + SLICE) % len(data)
        return job(data[start : start + SLICE])

    return step


def _ours_vcard(records: list[dict[str, Any]]) -> bytes:
    return b"".join(export_vcards(records, POLICY, now=NOW))


def _ours_ical(records: list[dict[str, Any]]) -> bytes:
    return b"".join(export_ical(records, POLICY, now=NOW))


_JSONL = [json.dumps(record, ensure_ascii=False).encode("utf-8") for record in _CONTACTS]


def _ours_jsonl(lines: list[bytes]) -> bytes:
    out = io.BytesIO()
    write_vcards(read_records(b"\n".join(lines)), POLICY, out, now=NOW)
    return out.getvalue()


def _utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


def _vobject_vcard(records: list[dict[str, Any]]) -> str:
    out = []
    for r in records:
        card = vobject.vCard()
        card.add("uid").value = r["ServerId"]
        card.add("n").value = vobject.vcard.Name(family=r["LastName"], given=r["FirstName"])
        card.add("fn").value = f"{r['FirstName']} {r['LastName']}"
        for key, kind in (
            ("MobilePhoneNumber", "CELL"),
            ("BusinessPhoneNumber", "WORK"),
            ("HomePhoneNumber", "HOME"),
        ):
            tel = card.add("tel")
            tel.value = r[key]
            tel.type_param = kind
        email = card.add("email")
        email.value = r["Email1Address"]
        email.type_param = "INTERNET"
        adr = card.add("adr")
        adr.value = vobject.vcard.Address(
            street=r["BusinessAddressStreet"],
            city=r["BusinessAddressCity"],
            code=r["BusinessAddressPostalCode"],
            country=r["BusinessAddressCountry"],
        )
        adr.type_param = "WORK"
        card.add("org").value = [r["CompanyName"]]
        card.add("title").value = r["JobTitle"]
        card.add("note").value = r["Body"]
        out.append(card.serialize())
    return "".join(out)


_BERLIN_ZI = icalendar.timezone.tzp.timezone("Europe/Berlin")
_BERLIN_DU = dateutil_tz.gettz("Europe/Berlin")
_PARTSTAT = {0: "NEEDS-ACTION", 2: "TENTATIVE", 3: "ACCEPTED", 4: "DECLINED"}


def _icalendar(records: list[dict[str, Any]]) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//bench//icalendar//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    for r in records:
        start, end = (
            _utc(r["StartTime"]).astimezone(_BERLIN_ZI),
            _utc(r["EndTime"]).astimezone(_BERLIN_ZI),
        )
        event = _icalendar_event(r, start, end)
        calendar.add_component(event)
        for exception in r.get("Exceptions", []):
            original = _utc(exception["ExceptionStartTime"]).astimezone(_BERLIN_ZI)
            if exception.get("Deleted"):
                event.add("exdate", original)
            else:
                moved = _icalendar_event(
                    r,
                    _utc(exception["StartTime"]).astimezone(_BERLIN_ZI),
                    _utc(exception["EndTime"]).astimezone(_BERLIN_ZI),
                )
                moved.add("recurrence-id", original)
                calendar.add_component(moved)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _icalendar_event(r: dict[str, Any], start: datetime, end: datetime) -> icalendar.Event:
    event = icalendar.Event()
    event.add("uid", r["UID"])
    event.add("dtstamp", _utc(r["DtStamp"]))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", r["Subject"])
    event.add("location", r["Location"])
    event.add("description", r["Body"])
    organizer = icalendar.vCalAddress("mailto:" + r["OrganizerEmail"])
    organizer.params["cn"] = r["OrganizerName"]
    event.add("organizer", organizer)
    for attendee in r["Attendees"]:
        address = icalendar.vCalAddress("mailto:" + attendee["Email"])
        address.params["cn"] = attendee["Name"]
        address.params["role"] = "REQ-PARTICIPANT"
        address.params["partstat"] = _PARTSTAT[attendee["AttendeeStatus"]]
        event.add("attendee", address)
    event.add("transp", "OPAQUE")
    event.add("class", "PUBLIC")
    if "Recurrence" in r:
        event.add("rrule", {"freq": "weekly", "count": 10})
    alarm = icalendar.Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("trigger", timedelta(minutes=-r["Reminder"]))
    alarm.add("description", r["Subject"])
    event.add_component(alarm)
    return event


def _vobject_ical(records: list[dict[str, Any]]) -> str:
    calendar = vobject.iCalendar()
    calendar.add("method").value = "PUBLISH"
    for r in records:
        start, end = (
            _utc(r["StartTime"]).astimezone(_BERLIN_DU),
            _utc(r["EndTime"]).astimezone(_BERLIN_DU),
        )
        event = _vobject_event(calendar, r, start, end)
        for exception in r.get("Exceptions", []):
            original = _utc(exception["ExceptionStartTime"]).astimezone(_BERLIN_DU)
            if exception.get("Deleted"):
                event.add("exdate").value = [original]
            else:
                moved = _vobject_event(
                    calendar,
                    r,
                    _utc(exception["StartTime"]).astimezone(_BERLIN_DU),
                    _utc(exception["EndTime"]).astimezone(_BERLIN_DU),
                )
                moved.add("recurrence-id").value = original
    return str(calendar.serialize())


def _vobject_event(calendar: Any, r: dict[str, Any], start: datetime, end: datetime) -> Any:
    event = calendar.add("vevent")
    event.add("uid").value = r["UID"]
    event.add("dtstamp").value = _utc(r["DtStamp"]).astimezone(dateutil_tz.UTC)
    event.add("dtstart").value = start
    event.add("dtend").value = end
    event.add("summary").value = r["Subject"]
    event.add("location").value = r["Location"]
    event.add("description").value = r["Body"]
    organizer = event.add("organizer")
    organizer.value = "mailto:" + r["OrganizerEmail"]
    organizer.cn_param = r["OrganizerName"]
    for attendee in r["Attendees"]:
        line = event.add("attendee")
        line.value = "mailto:" + attendee["Email"]
        line.cn_param = attendee["Name"]
        line.role_param = "REQ-PARTICIPANT"
        line.partstat_param = _PARTSTAT[attendee["AttendeeStatus"]]
    event.add("transp").value = "OPAQUE"
    event.add("class").value = "PUBLIC"
    if "Recurrence" in r:
        event.add("rrule").value = "FREQ=WEEKLY;COUNT=10"
    alarm = event.add("valarm")
    alarm.add("action").value = "DISPLAY"
    alarm.add("trigger").value = timedelta(minutes=-r["Reminder"])
    alarm.add("description").value = r["Subject"]
    return event


_STREAM_CHILD = """
import resource, sys
from datetime import datetime, UTC
from mailcore.export import read_records, write_vcards
from mailcore.policy import ExportPolicy
with open(sys.argv[2], "wb") as out:
    summary = write_vcards(read_records(sys.argv[1]), ExportPolicy(contacts=True), out,
                           now=datetime(2025, 1, 1, tzinfo=UTC))
# VmHWM is this process's own peak: ru_maxrss would carry the parent's peak
# over fork + exec (Linux keeps signal->maxrss across exec).
try:
    with open("/proc/self/status") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(summary.records, peak)
"""


def _stream_peak_mb() -> tuple[int, float]:
    """Stream contacts JSONL -> .vcf in a fresh process; (records, peak RSS MB)."""
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "c.jsonl", Path(folder) / "c.vcf"
        with source.open("w", encoding="utf-8") as handle:
            for record in contacts(STREAM_CONTACTS, seed=7):
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        result = subprocess.run(
            [sys.executable, "-c", _STREAM_CHILD, str(source), str(target)],
            capture_output=True,
            text=True,
            check=True,
            timeout=3600,
        )
        records, peak_kb = result.stdout.split()
        return int(records), int(peak_kb) / 1024


_STREAMED, _PEAK_MB = _stream_peak_mb()

BENCHMARKS = [
    Benchmark(
        f"export.vcard3.{RECORDS // 1000}k-contacts (op = {SLICE} cards)",
        "export_vcards (vCard 3.0, level all) against vobject building and serialising vCards",
        _slices(_CONTACTS, _ours_vcard),
        "vobject 0.9.9 vCard serialize",
        _slices(_CONTACTS, _vobject_vcard),
        Goal(ratio=10.0),
    ),
    Benchmark(
        f"export.ical.{RECORDS // 1000}k-events.vs-icalendar (op = {SLICE} events)",
        "export_ical (Europe/Berlin blob, attendees, alarms, 1 in 5 recurring) against icalendar",
        _slices(_EVENTS, _ours_ical),
        "icalendar 7 Calendar.to_ical (+ add_missing_timezones)",
        _slices(_EVENTS, _icalendar),
        Goal(ratio=5.0),
    ),
    Benchmark(
        f"export.ical.{RECORDS // 1000}k-events.vs-vobject (op = {SLICE} events)",
        "export_ical against vobject iCalendar serialize on the same events",
        _slices(_EVENTS, _ours_ical),
        "vobject 0.9.9 iCalendar serialize",
        _slices(_EVENTS, _vobject_ical),
        Goal(ratio=10.0),
    ),
    Benchmark(
        f"export.vcard.jsonl-stream ({_STREAMED:,} contacts: peak RSS {_PEAK_MB:.0f} MB; "
        f"goal < 200 MB)",
        "JSON Lines bytes -> read_records -> write_vcards, against json.loads + vobject",
        _slices(_JSONL, _ours_jsonl),
        "json.loads + vobject 0.9.9 vCard serialize",
        _slices(_JSONL, lambda lines: _vobject_vcard([json.loads(line) for line in lines])),
        Goal(ratio=10.0),
    ),
]
