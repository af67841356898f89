"""Input: JSON, JSON Lines (streamed), .vcf/.ics re-export, unknown keys."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mailcore.errors import MalformedInput, MalformedRecord
from mailcore.export import export_vcards, read_records, write_ical, write_vcards
from mailcore.policy import ExportPolicy

ALL = ExportPolicy(contacts=True, calendar="all")
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def test_json_list_and_json_lines_give_the_same_records(tmp_path: Path) -> None:
    records = [{"FirstName": "A"}, {"FirstName": "B", "Categories": ["x"]}]
    listed = tmp_path / "c.json"
    listed.write_text(json.dumps(records))
    lines = tmp_path / "c.jsonl"
    lines.write_bytes(b"\xef\xbb\xbf" + "\n\n".join(json.dumps(r) for r in records).encode())
    assert list(read_records(listed)) == records
    assert list(read_records(lines)) == records  # BOM and blank lines tolerated
    assert list(read_records(io.BytesIO(lines.read_bytes()))) == records


def test_json_lines_are_streamed() -> None:
    # A generator source that would fail if read past the first line.
    class OneLine(io.RawIOBase):
        def __init__(self) -> None:
            self.data = io.BytesIO(b'{"FirstName": "A"}\n' + b"x" * 10)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            return self.data.readinto(buffer)

    first = next(iter(read_records(io.BufferedReader(OneLine(), 8))))
    assert first == {"FirstName": "A"}


@pytest.mark.parametrize(
    ("data", "record"),
    [(b'{"a": 1}\n{bad\n', 2), (b'{"a": 1}\n[1]\n', 2), (b"[1, 2]", 1), (b'{"a": "\xff"}\n', 1)],
)
def test_bad_json_names_the_record(data: bytes, record: int) -> None:
    with pytest.raises(MalformedRecord) as caught:
        list(read_records(data))
    assert caught.value.record == record


def test_not_json_at_all() -> None:
    with pytest.raises(MalformedInput):
        list(read_records(b"[1, 2"))


def test_unknown_keys_are_left_out_and_reported() -> None:
    seen: list[tuple[int, tuple[str, ...]]] = []
    record = {"FirstName": "A", "Shoe size": "44", "X-Secret": "s3cret"}
    out = io.BytesIO()
    summary = write_vcards(
        [record, {"LastName": "B"}],
        ALL,
        out,
        now=NOW,
        on_unknown=lambda n, keys: seen.append((n, keys)),
    )
    assert seen == [(1, ("Shoe size", "X-Secret"))]
    assert b"s3cret" not in out.getvalue() and b"44" not in out.getvalue()
    assert summary.to_dict() == {
        "kind": "vcard",
        "records": 2,
        "unknown_keys": {"Shoe size": 1, "X-Secret": 1},
    }


def test_ics_input_is_reexported_under_the_policy() -> None:
    ics = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//y//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:abc\r\nDTSTAMP:20250101T000000Z\r\n"
        b"DTSTART;TZID=Europe/Berlin:20250303T090000\r\nDTEND;TZID=Europe/Berlin:20250303T100000\r\n"
        b"RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3\r\nEXDATE;TZID=Europe/Berlin:20250310T090000\r\n"
        b"SUMMARY:Secret project\r\nLOCATION:Room 5\r\nATTENDEE:mailto:x@example.com\r\n"
        b"END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    out = io.BytesIO()
    write_ical(read_records(ics), ExportPolicy(calendar="meeting_time_location"), out, now=NOW)
    text = out.getvalue().decode()
    assert "DTSTART;TZID=Europe/Berlin:20250303T090000" in text
    assert "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=3" in text
    assert "EXDATE;TZID=Europe/Berlin:20250310T090000" in text
    assert "SUMMARY:Busy" in text and "Secret" not in text and "x@example.com" not in text
    assert "LOCATION:Room 5" in text


def test_vcf_input_keeps_the_uid_and_phone_order() -> None:
    vcf = (
        b"BEGIN:VCARD\r\nVERSION:3.0\r\nUID:urn:uuid:0b5c8d2e-1111-4222-8333-944445555666\r\n"
        b"N:Doe;Jane;;;\r\nFN:Jane Doe\r\nTEL;TYPE=HOME,FAX:5\r\nTEL;TYPE=CELL:1\r\n"
        b"X-UNHEARD-OF:z\r\nEND:VCARD\r\n"
    )
    seen: list[tuple[str, ...]] = []
    data = b"".join(
        export_vcards(read_records(vcf), ALL, now=NOW, on_unknown=lambda n, k: seen.append(k))
    )
    text = data.decode()
    assert "UID:urn:uuid:0b5c8d2e-1111-4222-8333-944445555666" in text
    assert text.index("TEL;TYPE=CELL,VOICE:1") < text.index("TEL;TYPE=HOME,FAX:5")
    assert seen == [("vcard:X-UNHEARD-OF",)]


def test_unrepresentable_rrule_is_refused() -> None:
    ics = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:a\r\n"
        b"DTSTAMP:20250101T000000Z\r\nDTSTART:20250101T100000Z\r\n"
        b"RRULE:FREQ=HOURLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    with pytest.raises(MalformedRecord, match="RRULE"):
        list(read_records(ics))
