"""A truncated .ics must not export as an empty calendar (icalendar drops open components)."""

from __future__ import annotations

import pytest

from mailcore.errors import MalformedInput
from mailcore.export import read_records

WHOLE = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\nBEGIN:VEVENT\r\nUID:a\r\n"
    b"DTSTAMP:20250101T000000Z\r\nDTSTART:20250101T090000Z\r\nDTEND:20250101T100000Z\r\n"
    b"SUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


def test_whole_file_reads() -> None:
    assert [r["UID"] for r in read_records(WHOLE, kind="ical")] == ["a"]


@pytest.mark.parametrize("cut", [b"END:VEVENT\r\nEND:VCALENDAR\r\n", b"END:VCALENDAR\r\n"])
def test_truncated_file_is_refused(cut: bytes) -> None:
    with pytest.raises(MalformedInput, match="never closed"):
        list(read_records(WHOLE[: -len(cut)], kind="ical"))


def test_end_without_begin_is_refused() -> None:
    with pytest.raises(MalformedInput, match="without its BEGIN"):
        list(read_records(WHOLE.replace(b"BEGIN:VEVENT\r\n", b""), kind="ical"))
