"""Values at the edges of the calendar and of JSON: clear errors naming the field."""

from __future__ import annotations

import pytest

from mailcore.errors import MalformedInput, MalformedRecord
from mailcore.export import export_ical, export_vcards, read_records
from mailcore.export._export import VCardVersion
from mailcore.export._reader import InputKind
from mailcore.policy import policy_from_mapping

POLICY = policy_from_mapping({"export": {"contacts": True, "calendar": "all"}})
EVENT = {"UID": "x", "StartTime": "20250101T000000Z", "EndTime": "20250101T010000Z"}


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"FirstName": "A", "Birthday": "9999-12-31T12:00:00.000Z"}, "Birthday"),
        ({"FirstName": "A", "Anniversary": "0001-01-01T00:00:00+01:00"}, "Anniversary"),
    ],
)
def test_contact_dates_outside_the_calendar(record: dict[str, str], field: str) -> None:
    with pytest.raises(MalformedRecord) as raised:
        b"".join(export_vcards([record], POLICY))
    assert raised.value.field == field


@pytest.mark.parametrize("value", ["²", "--2", "1.5", "٣"])
def test_numbers_must_be_ascii_digits(value: str) -> None:
    with pytest.raises(MalformedRecord) as raised:
        b"".join(export_ical([{**EVENT, "BusyStatus": value}], POLICY))
    assert raised.value.field == "BusyStatus"


@pytest.mark.parametrize("kind", ["json", "jsonl"])
def test_deep_nesting_is_malformed_input(kind: InputKind) -> None:
    data = b"[" * 100_000 if kind == "json" else b'{"a": ' + b"[" * 100_000 + b"\n"
    with pytest.raises(MalformedInput, match="nested too deeply"):
        list(read_records(data, kind=kind))


@pytest.mark.parametrize(("version", "bday", "rev"), [
    ("4.0", "BDAY:00010203", "REV:09990405T060708Z"),
    ("3.0", "BDAY:0001-02-03", "REV:0999-04-05T06:07:08Z"),
])  # fmt: skip
def test_early_years_keep_four_digits(version: VCardVersion, bday: str, rev: str) -> None:
    # ISO 8601 / RFC 6350 §4.3: YYYY is four digits; C's strftime %Y is not.
    record = {
        "FirstName": "A",
        "Birthday": "0001-02-03T00:00:00.000Z",
        "LastModifiedTime": "0999-04-05T06:07:08.000Z",
    }
    lines = b"".join(export_vcards([record], POLICY, version=version)).decode().split("\r\n")
    assert bday in lines
    assert rev in lines
