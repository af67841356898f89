"""vCard mapping details (reference export.md §2.1, §4)."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from mailcore.errors import MalformedRecord
from mailcore.export import export_vcard
from mailcore.export._export import VCardVersion
from mailcore.policy import ExportPolicy
from tests.export.oracle import check_lines, unfold_lines

ALL = ExportPolicy(contacts=True)
NOW = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
JPEG = base64.b64encode(b"\xff\xd8\xff\xe0" + b"\0" * 40).decode()


def _lines(record: Mapping[str, object], version: VCardVersion = "3.0") -> list[str]:
    data = export_vcard(record, ALL, version=version, now=NOW)
    check_lines(data)
    return unfold_lines(data)


def test_phone_order_is_mobile_work_home_workfax_homefax() -> None:
    # Given in the reverse order: output order must not follow the input.
    record = {
        "HomeFaxNumber": "5",
        "BusinessFaxNumber": "4",
        "HomePhoneNumber": "3",
        "BusinessPhoneNumber": "2",
        "MobilePhoneNumber": "1",
    }
    tels = [line for line in _lines(record) if line.startswith("TEL")]
    assert [t.rsplit(":", 1)[1] for t in tels] == ["1", "2", "3", "4", "5"]
    assert tels[0] == "TEL;TYPE=CELL,VOICE:1" and tels[3] == "TEL;TYPE=WORK,FAX:4"


def test_version_first_and_required_properties() -> None:
    lines = _lines({"ServerId": "7:1", "FirstName": "Ann"})
    assert lines[:2] == ["BEGIN:VCARD", "VERSION:3.0"]
    assert "N:;Ann;;;" in lines and "FN:Ann" in lines
    assert "REV:2025-01-02T03:04:05Z" in lines
    uid = next(line for line in lines if line.startswith("UID:"))
    # Stable: the same ServerId gives the same UID in another export.
    assert uid in _lines({"ServerId": "7:1", "FirstName": "Changed"})
    assert uid not in _lines({"ServerId": "7:2", "FirstName": "Ann"})


def test_vcard4_forms() -> None:
    record = {
        "FirstName": "A",
        "Birthday": "--02-29",
        "Email1Address": "a@example.com",
        "Email2Address": "b@example.com",
        "Picture": JPEG,
        "MobilePhoneNumber": "1",
    }
    lines = _lines(record, "4.0")
    assert lines[1] == "VERSION:4.0"
    assert "BDAY:--0229" in lines  # RFC 6350 §4.3.1 date without year
    assert "EMAIL;PREF=1:a@example.com" in lines and "EMAIL;PREF=2:b@example.com" in lines
    assert f"PHOTO:data:image/jpeg;base64,{JPEG}" in lines
    assert "TEL;TYPE=cell,voice:1" in lines


def test_vcard3_birthday_without_year_and_photo() -> None:
    lines = _lines({"FirstName": "A", "Birthday": "--12-24", "Picture": JPEG})
    assert "BDAY;X-APPLE-OMIT-YEAR=1604:1604-12-24" in lines
    assert f"PHOTO;ENCODING=b;TYPE=JPEG:{JPEG}" in lines  # RFC 2426: b, not BASE64


def test_birthday_sent_as_local_midnight_in_utc() -> None:
    # UTC+1 midnight of 29 Feb is 28 Feb 23:00Z: still the 29th.
    assert "BDAY:1980-02-29" in _lines({"FirstName": "A", "Birthday": "1980-02-28T23:00:00Z"})
    assert "BDAY:1980-02-29" in _lines({"FirstName": "A", "Birthday": "1980-02-29T08:00:00Z"})


def test_structured_values_escape_each_component() -> None:
    lines = _lines(
        {
            "LastName": "O;Brien",
            "FirstName": "A,B",
            "CompanyName": "X;Y",
            "Department": "R&D",
            "BusinessAddressStreet": "1 Main St\r\nFloor 2",
            "Categories": ["a,b", "c"],
        }
    )
    assert "N:O\\;Brien;A\\,B;;;" in lines
    assert "ORG:X\\;Y;R&D" in lines
    assert "ADR;TYPE=WORK:;;1 Main St\\nFloor 2;;;;" in lines
    assert "CATEGORIES:a\\,b,c" in lines


def test_display_name_is_stripped_from_email() -> None:
    lines = _lines({"FirstName": "A", "Email1Address": '"Ann Example" <ann@example.com>'})
    assert "EMAIL;TYPE=INTERNET:ann@example.com" in lines


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"FirstName": 5}, "FirstName"),
        ({"Birthday": "yesterday"}, "Birthday"),
        ({"Birthday": "1980-02-30T00:00:00Z"}, "Birthday"),
        ({"Picture": "***"}, "Picture"),
        ({"Categories": "VIP,x" and [1]}, "Categories"),
        ({"WebPage": "http://a b"}, "WebPage"),
        ({"Body": {"Type": 9, "Data": "x"}}, "Body.Type"),
        ({"FirstName": "\ud83c"}, "FirstName"),  # a lone surrogate (half an emoji)
    ],
)
def test_malformed_values_name_record_and_field(record: dict[str, object], field: str) -> None:
    with pytest.raises(MalformedRecord) as caught:
        export_vcard(record, ALL, now=NOW)
    assert caught.value.field == field
    assert caught.value.record == 1
    assert field in str(caught.value)
