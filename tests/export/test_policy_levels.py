"""No field above the policy level ever appears in the output.

The allowed property names per level are written here from the issue and
reference export.md §1.2 (not imported from mailcore); sentinel values put
into the above-level fields must not appear anywhere in the unfolded,
unescaped output either.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailcore.errors import ExportRefused
from mailcore.export import export_ical, export_vcard, export_vcards
from mailcore.policy import ExportPolicy, Policy
from tests.export.oracle import unfold_lines
from tests.export.strategies import contacts, events

NOW = datetime(2025, 1, 1, tzinfo=UTC)
_FRAME = {"BEGIN", "END", "VERSION", "PRODID", "CALSCALE", "METHOD", "UID", "REV"}
_VTIMEZONE = {"TZID", "DTSTART", "RRULE", "TZOFFSETFROM", "TZOFFSETTO"}
_TIME = (
    _FRAME
    | _VTIMEZONE
    | {
        "DTSTAMP",
        "DTSTART",
        "DTEND",
        "RRULE",
        "EXDATE",
        "RECURRENCE-ID",
        "TRANSP",
        "STATUS",
        "X-MICROSOFT-CDO-BUSYSTATUS",
        "X-MICROSOFT-CDO-ALLDAYEVENT",
        "SUMMARY",
    }
)
CALENDAR_ALLOWED = {
    "meeting_time": _TIME,
    "meeting_time_location": _TIME | {"LOCATION", "GEO"},
    "meeting_time_location_subject": _TIME | {"LOCATION", "GEO"},
}
_NAME_PHONE = _FRAME | {
    "N",
    "FN",
    "NICKNAME",
    "X-PHONETIC-FIRST-NAME",
    "X-PHONETIC-LAST-NAME",
    "TEL",
}
CONTACT_ALLOWED = {"name_phone": _NAME_PHONE, "name_phone_email": _NAME_PHONE | {"EMAIL"}}


def _names(data: bytes) -> set[str]:
    return {line.split(":", 1)[0].split(";", 1)[0].upper() for line in unfold_lines(data)}


def _plain(data: bytes) -> str:
    # Unfolded and unescaped, so that a sentinel cannot hide behind "\,".
    text = "\n".join(unfold_lines(data))
    return text.replace("\\n", "\n").replace("\\,", ",").replace("\\;", ";").replace("\\\\", "\\")


SECRET = "SENTINEL-7f3a"


@settings(max_examples=60)
@given(record=events(), level=st.sampled_from(sorted(CALENDAR_ALLOWED)), data=st.data())
def test_no_calendar_field_above_the_level(
    record: dict[str, Any], level: str, data: st.DataObject
) -> None:
    record = {
        **record,
        "Subject": SECRET + "-subject",
        "Body": SECRET + "-body",
        "OrganizerEmail": "sentinel-org@example.com",
        "Categories": [SECRET + "-cat"],
        "Attendees": [{"Email": "sentinel-att@example.com", "Name": SECRET + "-name"}],
        "Reminder": 10,
        "Sensitivity": 2,
        "Location": SECRET + "-location",
    }
    if data.draw(st.booleans()):
        start = record["StartTime"]
        record["Recurrence"] = {"Type": 0, "Occurrences": 5}
        record["Exceptions"] = [
            {
                "ExceptionStartTime": start,
                "Subject": SECRET + "-xsubject",
                "Body": SECRET + "-xbody",
            }
        ]
    policy = ExportPolicy(calendar=level, calendar_placeholder="Occupied")
    output = b"".join(export_ical([record], policy, now=NOW))
    assert _names(output) <= CALENDAR_ALLOWED[level]
    text = _plain(output)
    visible = {"-location"} if level != "meeting_time" else set()
    if level == "meeting_time_location_subject":
        visible.add("-subject")
        if "Exceptions" in record:
            visible.add("-xsubject")
    for suffix in ("-subject", "-body", "-cat", "-name", "-location", "-xsubject", "-xbody"):
        assert (SECRET + suffix in text) == (suffix in visible), suffix
    assert "sentinel-org" not in text and "sentinel-att" not in text
    if level != "meeting_time_location_subject":
        summaries = [line for line in unfold_lines(output) if line.startswith("SUMMARY")]
        assert summaries and all(line == "SUMMARY:Occupied" for line in summaries)


@settings(max_examples=60)
@given(record=contacts(), level=st.sampled_from(sorted(CONTACT_ALLOWED)))
def test_no_contact_field_above_the_level(record: dict[str, Any], level: str) -> None:
    record = {
        **record,
        "CompanyName": SECRET + "-company",
        "Body": SECRET + "-note",
        "JobTitle": SECRET + "-title",
        "BusinessAddressCity": SECRET + "-city",
        "Email1Address": "sentinel-mail@example.com",
    }
    policy = ExportPolicy(contacts=True, contact_fields=level)
    output = b"".join(export_vcards([record], policy, now=NOW))
    assert _names(output) <= CONTACT_ALLOWED[level]
    text = _plain(output)
    assert SECRET not in text
    assert ("sentinel-mail@example.com" in text) == (level == "name_phone_email")


def test_calendar_all_level_writes_the_rest() -> None:
    record = {
        "UID": "A",
        "StartTime": "20250101T100000Z",
        "EndTime": "20250101T110000Z",
        "Subject": "S",
        "Body": "B",
        "OrganizerEmail": "o@example.com",
        "Attendees": [{"Email": "a@example.com"}],
        "Categories": ["C"],
        "Sensitivity": 3,
        "Reminder": 5,
    }
    output = b"".join(export_ical([record], ExportPolicy(calendar="all"), now=NOW))
    assert "BEGIN:VALARM" in unfold_lines(output)
    names = _names(output)
    assert {
        "DESCRIPTION",
        "ORGANIZER",
        "ATTENDEE",
        "CATEGORIES",
        "CLASS",
        "TRIGGER",
        "ACTION",
    } <= names


def test_contacts_off_refuses_export_and_sharing() -> None:
    with pytest.raises(ExportRefused, match="contacts = false"):
        export_vcards([{"FirstName": "A"}], Policy())  # refused before iterating
    with pytest.raises(ExportRefused):
        export_vcard({"FirstName": "A"}, ExportPolicy(contacts=False))


def test_calendar_off_is_the_default_and_refuses() -> None:
    assert Policy().export.calendar == "off"
    with pytest.raises(ExportRefused, match="off"):
        export_ical([], Policy())
