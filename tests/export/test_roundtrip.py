"""Every output parses back with icalendar and vobject, with the same meaning.

Hypothesis generates ActiveSync contacts and events (emoji, ZWJ sequences,
flags, combining marks, long lines, commas, semicolons, backslashes,
newlines; zones with and without DST; all-day), exports them under the
"all" level, parses the output with both libraries and compares field by
field with the input.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest
import vobject  # type: ignore[import-untyped]  # no stubs
from hypothesis import given, settings
from hypothesis import strategies as st

from mailcore.export import export_ical, export_vcards
from mailcore.export._tz import TzRule
from mailcore.policy import ExportPolicy
from tests.export.oracle import check_lines
from tests.export.strategies import contacts, custom_blobs, events

ALL = ExportPolicy(contacts=True, contact_fields="all", calendar="all")
NOW = datetime(2025, 6, 1, tzinfo=UTC)
_ROLE = {1: "REQ-PARTICIPANT", 2: "OPT-PARTICIPANT", 3: "NON-PARTICIPANT"}
_PARTSTAT = {0: "NEEDS-ACTION", 2: "TENTATIVE", 3: "ACCEPTED", 4: "DECLINED", 5: "NEEDS-ACTION"}


def _newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _utc(value: Any) -> Any:
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def _expected_times(record: dict[str, Any]) -> tuple[Any, Any]:
    start = datetime.strptime(record["StartTime"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    end = datetime.strptime(record["EndTime"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    if not record.get("AllDayEvent"):
        return start, end
    zone = record.get("_zone")
    tz = zoneinfo.ZoneInfo(zone) if zone else UTC
    first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
    return first, max(last, first + timedelta(days=1))


def _check_icalendar(data: bytes, records: list[dict[str, Any]]) -> None:
    calendar = icalendar.Calendar.from_ical(data)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["METHOD"]) == "PUBLISH"
    parsed = calendar.walk("VEVENT")
    assert len(parsed) == len(records)
    tzids = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    for event, record in zip(parsed, records, strict=True):
        assert str(event["UID"]) == record["UID"]
        assert "DTSTAMP" in event
        start, end = _expected_times(record)
        assert _utc(event.decoded("DTSTART")) == start
        assert _utc(event.decoded("DTEND")) == end
        tzid = event["DTSTART"].params.get("TZID")
        assert tzid is None or tzid in tzids  # every TZID has its VTIMEZONE
        if "Subject" in record:
            assert str(event["SUMMARY"]) == record["Subject"]
        if "Location" in record:
            assert str(event["LOCATION"]) == record["Location"]
        if "Body" in record:
            assert str(event["DESCRIPTION"]) == _newlines(record["Body"])
        if "Categories" in record:
            categories = event["CATEGORIES"]
            assert isinstance(categories, icalendar.vCategory)  # one CATEGORIES property
            assert list(categories.cats) == record["Categories"]
        if "OrganizerEmail" in record:
            assert str(event["ORGANIZER"]) == "mailto:" + record["OrganizerEmail"]
            if "OrganizerName" in record:
                assert event["ORGANIZER"].params["CN"] == record["OrganizerName"]
        attendees = event.get("ATTENDEE", [])
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert len(attendees) == len(record.get("Attendees", []))
        for line, attendee in zip(attendees, record.get("Attendees", []), strict=True):
            assert str(line) == "mailto:" + attendee["Email"]
            assert line.params["ROLE"] == _ROLE[attendee["AttendeeType"]]
            assert line.params["PARTSTAT"] == _PARTSTAT[attendee["AttendeeStatus"]]
            if "Name" in attendee:
                assert line.params["CN"] == attendee["Name"]
        if "Reminder" in record:
            alarm = event.walk("VALARM")[0]
            assert alarm.decoded("TRIGGER") == -timedelta(minutes=record["Reminder"])
            assert "DESCRIPTION" in alarm  # RFC 5545 §3.6.6: DISPLAY needs it


def _check_vobject(data: bytes, records: list[dict[str, Any]]) -> None:
    calendar = vobject.readOne(data.decode("utf-8"))
    parsed = calendar.contents.get("vevent", [])
    assert len(parsed) == len(records)
    for event, record in zip(parsed, records, strict=True):
        assert event.uid.value == record["UID"]
        start, end = _expected_times(record)
        assert _utc(event.dtstart.value) == start
        assert _utc(event.dtend.value) == end
        if "Subject" in record:
            assert event.summary.value == record["Subject"]
        if "Location" in record:
            assert event.location.value == record["Location"]
        if "Body" in record:
            assert event.description.value == _newlines(record["Body"])
        if "Categories" in record:
            assert event.categories.value == record["Categories"]
        emails = [a.value for a in event.contents.get("attendee", [])]
        assert emails == ["mailto:" + a["Email"] for a in record.get("Attendees", [])]


@settings(max_examples=60)
@given(st.lists(events(), min_size=1, max_size=5, unique_by=lambda r: r["UID"]))
@pytest.mark.slow
def test_events_parse_back_with_icalendar_and_vobject(records: list[dict[str, Any]]) -> None:
    data = b"".join(export_ical(records, ALL, now=NOW))
    check_lines(data)
    _check_icalendar(data, [_with_zone(r) for r in records])
    _check_vobject(data, [_with_zone(r) for r in records])


def _with_zone(record: dict[str, Any]) -> dict[str, Any]:
    # The zone the blob was made from (strategies.blob_for), for the oracle.
    from mailcore.export import decode_timezone

    if "Timezone" in record:
        return {**record, "_zone": decode_timezone(record["Timezone"]).standard_name}
    return record


@settings(max_examples=40)
@given(
    blob=custom_blobs(),
    year=st.integers(2024, 2030),
    day=st.integers(0, 364),
    hour=st.integers(6, 22),
)
def test_custom_zones_round_trip_through_the_vtimezone(
    blob: tuple[str, TzRule], year: int, day: int, hour: int
) -> None:
    # A rule no IANA zone has: the reader must rely on our VTIMEZONE alone.
    text, _ = blob
    start = datetime(year, 1, 1, hour, 7, tzinfo=UTC) + timedelta(days=day)
    record = {
        "UID": "C1",
        "Timezone": text,
        "StartTime": f"{start:%Y%m%dT%H%M%SZ}",
        "EndTime": f"{start + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
    }
    data = b"".join(export_ical([record], ALL, now=NOW))
    event = icalendar.Calendar.from_ical(data).walk("VEVENT")[0]
    assert event.decoded("DTSTART").astimezone(UTC) == start
    assert "/" not in event["DTSTART"].params["TZID"]  # not mistaken for an IANA zone
    vevent = vobject.readOne(data.decode()).vevent
    assert vevent.dtstart.value.astimezone(UTC) == start


def _vcard_expected(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "ServerId"}


@settings(max_examples=80)
@given(st.lists(contacts(), min_size=1, max_size=5))
@pytest.mark.slow
def test_vcards_parse_back_with_vobject(records: list[dict[str, Any]]) -> None:
    data = b"".join(export_vcards(records, ALL, now=NOW))
    check_lines(data)
    cards = list(vobject.readComponents(data.decode("utf-8")))
    assert len(cards) == len(records)
    for card, record in zip(cards, records, strict=True):
        assert card.version.value == "3.0"
        name = card.n.value
        assert (name.family, name.given, name.additional, name.prefix, name.suffix) == tuple(
            record.get(k, "") for k in ("LastName", "FirstName", "MiddleName", "Title", "Suffix")
        )
        # FN is required (RFC 2426 §3.1.1) and is not empty when anything
        # could name the contact.
        assert card.fn.value or not (record.keys() - {"ServerId", "Birthday", "Body"})
        phones = [(t.value, t.params["TYPE"]) for t in card.contents.get("tel", [])]
        # Mobile, work, home, work fax, home fax: the vendor-fixed order.
        order = [
            ("MobilePhoneNumber", ["CELL", "VOICE"]),
            ("BusinessPhoneNumber", ["WORK", "VOICE"]),
            ("HomePhoneNumber", ["HOME", "VOICE"]),
            ("BusinessFaxNumber", ["WORK", "FAX"]),
            ("HomeFaxNumber", ["HOME", "FAX"]),
            ("PagerNumber", ["PAGER"]),
        ]
        assert phones == [(record[k], t) for k, t in order if k in record]
        emails = [e.value for e in card.contents.get("email", [])]
        assert emails == [
            record[k] for k in ("Email1Address", "Email2Address", "Email3Address") if k in record
        ]
        if "Body" in record:
            assert card.note.value == record["Body"]
        if "Categories" in record:
            assert card.categories.value == record["Categories"]
        if "CompanyName" in record or "Department" in record:
            org = card.org.value
            assert org[0] == record.get("CompanyName", "")
            if "Department" in record:
                assert org[1] == record["Department"]
        if "JobTitle" in record:
            assert card.title.value == record["JobTitle"]
        if "Birthday" in record:
            assert card.bday.value == record["Birthday"][:10]
        if "BusinessAddressStreet" in record or "BusinessAddressCity" in record:
            work = next(a for a in card.contents["adr"] if a.params.get("TYPE") == ["WORK"])
            assert work.value.street == record.get("BusinessAddressStreet", "")
            assert work.value.city == record.get("BusinessAddressCity", "")


@settings(max_examples=40)
@given(st.lists(contacts(), min_size=1, max_size=4), st.sampled_from(["3.0", "4.0"]))
@pytest.mark.slow
def test_vcard_and_ical_reexport_is_stable(records: list[dict[str, Any]], version: str) -> None:
    # .vcf -> records -> .vcf gives the same bytes (the reader inverts the writer).
    from mailcore.export import read_records

    first = b"".join(export_vcards(records, ALL, version=version, now=NOW))  # type: ignore[arg-type]
    again = b"".join(export_vcards(read_records(first), ALL, version=version, now=NOW))  # type: ignore[arg-type]
    assert again == first


@settings(max_examples=30)
@given(st.lists(events(), min_size=1, max_size=4, unique_by=lambda r: r["UID"]))
def test_ical_reexport_is_stable(records: list[dict[str, Any]]) -> None:
    from mailcore.export import read_records

    first = b"".join(export_ical(records, ALL, now=NOW))
    again = b"".join(export_ical(read_records(first), ALL, now=NOW))
    assert again == first
