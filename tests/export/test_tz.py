"""The ActiveSync time-zone blob: decoding, IANA matching, the tzinfo."""

from __future__ import annotations

import base64
import struct
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailcore.errors import MalformedRecord
from mailcore.export import decode_timezone, encode_timezone, export_ical, resolve_iana
from mailcore.export._tz import BlobZone, rule_from_zone
from mailcore.policy import ExportPolicy


# [MS-ASDTYPE] §2.7.6 layout, written by hand (not with mailcore's struct).
def _blob(
    bias: int, name: str, std: tuple[int, ...], std_bias: int, dst: tuple[int, ...], dst_bias: int
) -> str:
    raw = struct.pack("<l", bias) + name.encode("utf-16-le").ljust(64, b"\0")
    raw += struct.pack("<8H", *std) + struct.pack("<l", std_bias)
    raw += name.encode("utf-16-le").ljust(64, b"\0") + struct.pack("<8H", *dst)
    raw += struct.pack("<l", dst_bias)
    assert len(raw) == 172
    return base64.b64encode(raw).decode()


# Pacific: DST from the 2nd Sunday of March 02:00 to the 1st Sunday of November 02:00.
PST = _blob(
    480, "Pacific Standard Time", (0, 11, 0, 1, 2, 0, 0, 0), 0, (0, 3, 0, 2, 2, 0, 0, 0), -60
)
BERLIN_NAMELESS = _blob(-60, "", (0, 10, 0, 5, 3, 0, 0, 0), 0, (0, 3, 0, 5, 2, 0, 0, 0), -60)
INDIA = _blob(-330, "India Standard Time", (0,) * 8, 0, (0,) * 8, 0)
SYDNEY = _blob(
    -600, "AUS Eastern Standard Time", (0, 4, 0, 1, 3, 0, 0, 0), 0, (0, 10, 0, 1, 2, 0, 0, 0), -60
)


@pytest.mark.parametrize(
    ("blob", "zone"),
    [
        (PST, "America/Los_Angeles"),  # CLDR windowsZones
        (BERLIN_NAMELESS, "Europe/Berlin"),  # offsets only: the CLDR primary zone
        (INDIA, "Asia/Kolkata"),  # CLDR says Asia/Calcutta: canonical name
        (SYDNEY, "Australia/Sydney"),
    ],
)
def test_blob_resolves_to_iana(blob: str, zone: str) -> None:
    assert resolve_iana(decode_timezone(blob), 2025) == zone


@pytest.mark.parametrize(
    "name",
    [
        "Europe/Berlin",
        "America/New_York",
        "Australia/Sydney",
        "Asia/Kolkata",
        "America/Sao_Paulo",
        "Pacific/Chatham",
    ],
)
def test_blob_zone_agrees_with_zoneinfo_all_year(name: str) -> None:
    zone = zoneinfo.ZoneInfo(name)
    ours = BlobZone(decode_timezone(encode_timezone(rule_from_zone(zone, 2026, name))), name)
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    while moment.year == 2026:
        assert ours.to_local(moment) == moment.astimezone(zone).replace(tzinfo=None), moment
        moment += timedelta(minutes=97)


@settings(max_examples=100)
# The blob holds the current rule (US rules since 2007), so only those years.
@given(st.datetimes(min_value=datetime(2007, 1, 1), max_value=datetime(2040, 1, 1)))
def test_blob_zone_is_a_consistent_tzinfo(moment: datetime) -> None:
    zone = BlobZone(decode_timezone(PST), "PST")
    local = moment.replace(tzinfo=UTC).astimezone(zone)
    assert local.astimezone(UTC).replace(tzinfo=None) == moment
    expected = moment.replace(tzinfo=UTC).astimezone(zoneinfo.ZoneInfo("America/Los_Angeles"))
    assert local.utcoffset() == expected.utcoffset()


def test_all_day_date_is_taken_in_the_event_zone() -> None:
    # Berlin 3 March all day is sent as 20250302T230000Z: the UTC date is the
    # 2nd (the known wrong-day bug); the event's date is the 3rd.
    record = {
        "UID": "A",
        "StartTime": "20250302T230000Z",
        "EndTime": "20250303T230000Z",
        "AllDayEvent": 1,
        "Timezone": BERLIN_NAMELESS,
    }
    text = b"".join(export_ical([record], ExportPolicy(calendar="meeting_time"))).decode()
    assert "DTSTART;VALUE=DATE:20250303\r\n" in text
    assert "DTEND;VALUE=DATE:20250304\r\n" in text
    assert "TZID" not in text  # never TZID with VALUE=DATE, no unused VTIMEZONE


def test_vtimezone_once_per_zone_and_before_use() -> None:
    records = [
        {"UID": str(n), "StartTime": f"2025060{n}T080000Z", "Timezone": PST} for n in range(1, 4)
    ]
    text = b"".join(export_ical(records, ExportPolicy(calendar="meeting_time"))).decode()
    assert text.count("BEGIN:VTIMEZONE") == 1
    assert text.index("TZID:America/Los_Angeles") < text.index("DTSTART;TZID=")
    assert "DTSTART;TZID=America/Los_Angeles:20250601T010000" in text


@pytest.mark.parametrize(
    "blob",
    [
        "not base64!",
        base64.b64encode(b"\0" * 100).decode(),
        _blob(-60, "X", (0, 13, 0, 5, 3, 0, 0, 0), 0, (0, 3, 0, 5, 2, 0, 0, 0), -60),
        _blob(-60, "X", (0, 10, 0, 6, 3, 0, 0, 0), 0, (0, 3, 0, 5, 2, 0, 0, 0), -60),
        _blob(99999, "X", (0,) * 8, 0, (0,) * 8, 0),
    ],
)
def test_bad_blob_is_malformed_record(blob: str) -> None:
    record = {"UID": "A", "StartTime": "20250302T230000Z", "Timezone": blob}
    with pytest.raises(MalformedRecord) as caught:
        b"".join(export_ical([record], ExportPolicy(calendar="meeting_time")))
    assert caught.value.field == "Timezone" and caught.value.record == 1
