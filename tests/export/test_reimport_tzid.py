"""A TZID that resolves to nothing must not be read as UTC (RFC 5545 §3.2.19)."""

from __future__ import annotations

import pytest

from mailcore.errors import MalformedRecord
from mailcore.export import read_records


def _calendar(tzid: str, vtimezone: str = "") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n" + vtimezone + "BEGIN:VEVENT\r\n"
        "UID:a\r\nDTSTAMP:20250101T000000Z\r\n"
        f"DTSTART;TZID={tzid}:20250101T090000\r\nDTEND;TZID={tzid}:20250101T100000\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


def test_unknown_tzid_is_refused_naming_the_field() -> None:
    with pytest.raises(MalformedRecord) as raised:
        list(read_records(_calendar("Mars/Olympus_Mons"), kind="ical"))
    assert raised.value.field == "DTSTART"
    assert "Mars/Olympus_Mons" in str(raised.value)


def test_known_iana_zone_is_used() -> None:
    (record,) = read_records(_calendar("Europe/Berlin"), kind="ical")
    assert record["StartTime"] == "20250101T080000Z"  # 09:00 CET is 08:00 UTC


def test_zone_defined_in_the_file_is_used() -> None:
    vtimezone = (
        "BEGIN:VTIMEZONE\r\nTZID:Custom Ten\r\nBEGIN:STANDARD\r\nDTSTART:19700101T000000\r\n"
        "TZOFFSETFROM:+1000\r\nTZOFFSETTO:+1000\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n"
    )
    (record,) = read_records(_calendar("Custom Ten", vtimezone), kind="ical")
    assert record["StartTime"] == "20241231T230000Z"  # 09:00 at +10:00
