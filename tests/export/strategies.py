"""Hypothesis strategies for ActiveSync contacts and calendar items.

Values are drawn from the MS-ASCNTC / MS-ASCAL element lists and value
ranges (not from mailcore's tables); text deliberately mixes emoji (ZWJ
sequences, flags), combining marks, commas, semicolons, backslashes,
newlines and long runs.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from hypothesis import strategies as st

from mailcore.export import encode_timezone
from mailcore.export._tz import TzRule, rule_from_zone

__all__ = [
    "ZONES",
    "blob_for",
    "contacts",
    "custom_blobs",
    "events",
    "text",
]

ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "America/Sao_Paulo",
    "Pacific/Auckland",
    "Europe/London",
)
_TRICKY = [
    "🎉",
    "👩‍👩‍👧‍👦",
    "🇩🇪",
    "🏳️‍🌈",
    "é",
    "e\u0301",
    "ß",
    "漢字",
    ",",
    ";",
    "\\",
    ":",
    "\n",
    "\r\n",
    '"',
    "^",
    "\t",
    "Zoë",
    "Ελλάδα",
]

text = st.lists(
    st.one_of(
        st.sampled_from(_TRICKY),
        st.text(
            alphabet=st.characters(
                blacklist_categories=("Cs", "Cc"), blacklist_characters="\u2028\u2029\x85"
            ),
            min_size=1,
            max_size=30,
        ),
        st.just("x" * 80),
    ),
    min_size=1,
    max_size=8,
).map("".join)
# Single-line text without leading/trailing space: what survives every
# reader unchanged (vobject strips values; parameters cannot hold newlines).
line = text.map(lambda s: " ".join(s.split()) or "x")
# Parameter values (CN): icalendar 7.3 reads "\," inside a quoted parameter
# as an escape (RFC 5545 §3.2 has none there), so names avoid backslashes.
names = line.map(lambda s: s.replace("\\", "/"))
emails = st.from_regex(r"[a-z]{1,10}(\.[a-z]{1,8})?@[a-z]{2,10}\.(com|org|de)", fullmatch=True)
phones = st.from_regex(r"\+?[0-9][0-9 ()-]{3,18}[0-9]", fullmatch=True)


@st.composite
def contacts(draw: st.DrawFn) -> dict[str, Any]:
    """An MS-ASCNTC contact with a random subset of elements."""
    record: dict[str, Any] = {
        "ServerId": draw(st.from_regex(r"[0-9]{1,3}:[0-9]{1,6}", fullmatch=True))
    }
    optional = {
        "FirstName": line,
        "LastName": line,
        "MiddleName": line,
        "Title": line,
        "Suffix": line,
        "NickName": line,
        "CompanyName": line,
        "Department": line,
        "JobTitle": line,
        "MobilePhoneNumber": phones,
        "BusinessPhoneNumber": phones,
        "HomePhoneNumber": phones,
        "BusinessFaxNumber": phones,
        "HomeFaxNumber": phones,
        "PagerNumber": phones,
        "Email1Address": emails,
        "Email2Address": emails,
        "Email3Address": emails,
        "BusinessAddressStreet": line,
        "BusinessAddressCity": line,
        "HomeAddressCountry": line,
        "Body": line,
        "Categories": st.lists(line, min_size=1, max_size=3),
        "Birthday": st.dates(
            min_value=datetime(1900, 1, 1).date(), max_value=datetime(2020, 12, 31).date()
        ).map(lambda d: f"{d:%Y-%m-%d}T00:00:00.000Z"),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            record[key] = draw(strategy)
    return record


@lru_cache(maxsize=256)
def _rule(zone: str, year: int) -> TzRule:
    return rule_from_zone(zoneinfo.ZoneInfo(zone), year, zone)


def blob_for(zone: str, year: int) -> str:
    """The ActiveSync blob a server would send for an IANA zone in ``year``."""
    return encode_timezone(_rule(zone, year))


@st.composite
def custom_blobs(draw: st.DrawFn) -> tuple[str, TzRule]:
    """A blob with made-up rules (odd offsets, any month): no IANA zone has them."""
    from mailcore.export._tz import SystemTime

    bias = draw(st.integers(-13 * 4, 13 * 4)) * 15 + 7  # 7 minutes off: matches no zone
    dst = draw(st.booleans())
    if not dst:
        rule = TzRule(bias, "", None, 0, "", None, 0)
    else:
        start, end = draw(st.lists(st.integers(1, 12), min_size=2, max_size=2, unique=True))
        rule = TzRule(
            bias,
            "Custom Standard Time",
            SystemTime(0, end, draw(st.integers(0, 6)), draw(st.integers(1, 5)), 3, 0, 0),
            0,
            "Custom Daylight Time",
            SystemTime(0, start, draw(st.integers(0, 6)), draw(st.integers(1, 5)), 2, 0, 0),
            -draw(st.sampled_from([30, 60, 120])),
        )
    return encode_timezone(rule), rule


@st.composite
def events(draw: st.DrawFn, *, recurring: bool = False) -> dict[str, Any]:
    """An MS-ASCAL calendar item: timed or all-day, in an IANA-like zone or UTC."""
    zone = draw(st.sampled_from((*ZONES, None)))
    year = draw(st.integers(2024, 2030))
    day = datetime(year, 1, 1) + timedelta(days=draw(st.integers(0, 360)))
    all_day = draw(st.booleans())
    tz = zoneinfo.ZoneInfo(zone) if zone else UTC
    if all_day:
        local = day.replace(tzinfo=tz)
        end_local = local + timedelta(days=draw(st.integers(1, 3)))
    else:
        local = day.replace(hour=draw(st.integers(8, 19)), minute=draw(st.sampled_from([0, 30])))
        local = local.replace(tzinfo=tz)
        end_local = local + timedelta(minutes=draw(st.sampled_from([0, 30, 60, 90])))
    start, end = local.astimezone(UTC), end_local.astimezone(UTC)
    record: dict[str, Any] = {
        "UID": draw(st.from_regex(r"[0-9A-F]{16,40}", fullmatch=True)),
        "StartTime": f"{start:%Y%m%dT%H%M%SZ}",
        "EndTime": f"{end:%Y%m%dT%H%M%SZ}",
        "DtStamp": "20240101T000000Z",
    }
    if all_day:
        record["AllDayEvent"] = 1
    if zone:
        record["Timezone"] = blob_for(zone, year)
    optional = {
        "Subject": line,
        "Location": line,
        "Body": text,
        "OrganizerEmail": emails,
        "OrganizerName": names,
        "Sensitivity": st.integers(0, 3),
        "BusyStatus": st.integers(0, 4),
        "Reminder": st.integers(0, 2880),
        "Categories": st.lists(line, min_size=1, max_size=3),
        "Attendees": st.lists(
            st.fixed_dictionaries(
                {
                    "Email": emails,
                    "AttendeeType": st.integers(1, 3),
                    "AttendeeStatus": st.sampled_from([0, 2, 3, 4, 5]),
                },
                optional={"Name": names},
            ),
            max_size=4,
            unique_by=lambda a: a["Email"],
        ),
    }
    for key, strategy in optional.items():
        if draw(st.booleans()):
            record[key] = draw(strategy)
    return record
