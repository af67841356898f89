"""Recurrence: RRULE/EXDATE/RECURRENCE-ID expand to the expected instances.

The expected instances come from a brute-force reading of MS-ASCAL
§2.2.2.37 (tests/export/oracle.py) in the IANA zone the blob was made
from; the actual ones from icalendar's parse of our output expanded with
dateutil.rrule.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
import pytest
from dateutil.rrule import rrulestr  # type: ignore[import-untyped]  # no stubs
from hypothesis import given, settings
from hypothesis import strategies as st

from mailcore.export import export_ical
from mailcore.export._recurrence import parse_recurrence
from mailcore.export._values import Where
from mailcore.policy import ExportPolicy
from tests.export.oracle import check_lines, expected_instances, unfold_lines
from tests.export.strategies import ZONES, blob_for

POLICY = ExportPolicy(calendar="meeting_time")
NOW = datetime(2025, 1, 1, tzinfo=UTC)


@st.composite
def patterns(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from([0, 1, 2, 3, 5, 6]))
    pattern: dict[str, Any] = {"Type": kind, "Occurrences": draw(st.integers(1, 12))}
    if draw(st.booleans()):
        pattern["Interval"] = draw(st.integers(1, 3))
    if kind == 0 and draw(st.booleans()):
        pattern["DayOfWeek"] = 62  # every weekday
    if kind == 1:
        pattern["DayOfWeek"] = draw(st.integers(1, 127))
        if draw(st.booleans()):
            pattern["FirstDayOfWeek"] = draw(st.integers(0, 6))
    if kind in (2, 5):
        pattern["DayOfMonth"] = draw(st.integers(1, 28))
    if kind in (3, 6):
        pattern["DayOfWeek"] = draw(st.sampled_from([1, 2, 4, 8, 16, 32, 64, 62, 65, 127]))
        pattern["WeekOfMonth"] = draw(st.integers(1, 5))
    if kind in (5, 6):
        pattern["MonthOfYear"] = draw(st.integers(1, 12))
    return pattern


def _first_match(pattern: dict[str, Any], after: datetime) -> datetime:
    open_ended = {**pattern, "Occurrences": 1, "Interval": 1}
    return expected_instances(open_ended, after)[0]


def _actual(data: bytes) -> tuple[set[datetime], dict[datetime, datetime]]:
    """UTC starts of every instance, and override starts by RECURRENCE-ID."""
    calendar = icalendar.Calendar.from_ical(data)
    master = next(e for e in calendar.walk("VEVENT") if "RECURRENCE-ID" not in e)
    start = master.decoded("DTSTART")
    dated = not isinstance(start, datetime)
    if dated:  # dateutil expands datetimes: a DATE start is midnight, read back as dates
        start = datetime.combine(start, datetime.min.time())
    recur = master["RRULE"]
    assert isinstance(recur, icalendar.vRecur)  # one RRULE property
    rule = rrulestr(recur.to_ical().decode(), dtstart=start)
    instances: set[datetime | date] = {i.date() if dated else i for i in rule}
    for group in (
        master.get("EXDATE", [])
        if isinstance(master.get("EXDATE"), list)
        else ([master["EXDATE"]] if "EXDATE" in master else [])
    ):
        assert isinstance(group, icalendar.vDDDLists)
        for item in group.dts:
            instances.discard(item.dt)
    moved = {}
    for event in calendar.walk("VEVENT"):
        if "RECURRENCE-ID" in event:
            original = event.decoded("RECURRENCE-ID")
            assert original in instances, "RECURRENCE-ID is not an instance of the rule"
            moved[_utc(original)] = _utc(event.decoded("DTSTART"))
    return {_utc(i) for i in instances}, moved


def _utc(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.combine(value, datetime.min.time(), UTC)


@settings(max_examples=120)
@given(
    pattern=patterns(),
    zone=st.sampled_from((*ZONES, None)),
    year=st.integers(2024, 2029),
    day=st.integers(0, 360),
    hour=st.integers(8, 19),
    all_day=st.booleans(),
    data=st.data(),
)
def test_expansion_equals_expected_instances(
    pattern: dict[str, Any],
    zone: str | None,
    year: int,
    day: int,
    hour: int,
    all_day: bool,
    data: st.DataObject,
) -> None:
    tz = zoneinfo.ZoneInfo(zone) if zone else UTC
    first_local = _first_match(pattern, datetime(year, 1, 1, hour) + timedelta(days=day))
    if all_day:
        first_local = first_local.replace(hour=0)
    local_instances = expected_instances(pattern, first_local)
    instances = [local.replace(tzinfo=tz).astimezone(UTC) for local in local_instances]
    start = instances[0]
    length = timedelta(days=1) if all_day else timedelta(hours=1)
    record: dict[str, Any] = {
        "UID": "R1",
        "StartTime": f"{start:%Y%m%dT%H%M%SZ}",
        "EndTime": f"{(first_local + length).replace(tzinfo=tz).astimezone(UTC):%Y%m%dT%H%M%SZ}",
        "Recurrence": pattern,
        "AllDayEvent": int(all_day),
    }
    if zone:
        record["Timezone"] = blob_for(zone, year)
    # Some occurrences deleted, some moved by two hours (exceptions).
    chosen = data.draw(st.lists(st.sampled_from(instances), unique=True, max_size=3))
    deleted = chosen[: len(chosen) // 2 + (len(chosen) % 2)]
    moved_ones = chosen[len(deleted) :]
    record["Exceptions"] = [
        {"ExceptionStartTime": f"{m:%Y%m%dT%H%M%SZ}", "Deleted": 1} for m in deleted
    ] + [
        {
            "ExceptionStartTime": f"{m:%Y%m%dT%H%M%SZ}",
            "StartTime": f"{m + timedelta(hours=2):%Y%m%dT%H%M%SZ}",
            "Subject": "moved",
        }
        for m in moved_ones
    ]
    output = b"".join(export_ical([record], POLICY, now=NOW))
    check_lines(output)
    actual, moved = _actual(output)
    if all_day:
        expected = {_utc(local.date()) for local in local_instances} - {
            _utc(m.astimezone(tz).date()) for m in deleted
        }
    else:
        expected = set(instances) - set(deleted)
    assert actual == expected
    if all_day:
        assert set(moved) == {_utc(m.astimezone(tz).date()) for m in moved_ones}
    else:
        assert moved == {m: m + timedelta(hours=2) for m in moved_ones}


@pytest.mark.parametrize(
    ("pattern", "rrule"),
    [
        ({"Type": 0, "Interval": 2}, "FREQ=DAILY;INTERVAL=2"),
        ({"Type": 0, "DayOfWeek": 62}, "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR"),
        ({"Type": 1, "DayOfWeek": 42, "Occurrences": 10}, "FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=10"),
        ({"Type": 2, "DayOfMonth": 31}, "FREQ=MONTHLY;BYMONTHDAY=31"),
        # WeekOfMonth 5 is "last": -1, never Z-Push's invalid 5SU.
        ({"Type": 3, "DayOfWeek": 1, "WeekOfMonth": 5}, "FREQ=MONTHLY;BYDAY=-1SU"),
        ({"Type": 3, "DayOfWeek": 4, "WeekOfMonth": 2}, "FREQ=MONTHLY;BYDAY=2TU"),
        ({"Type": 3, "DayOfWeek": 127, "WeekOfMonth": 5}, "FREQ=MONTHLY;BYMONTHDAY=-1"),
        (
            {"Type": 3, "DayOfWeek": 62, "WeekOfMonth": 1},
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1",
        ),
        ({"Type": 5, "MonthOfYear": 2, "DayOfMonth": 29}, "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29"),
        (
            {"Type": 6, "MonthOfYear": 11, "DayOfWeek": 16, "WeekOfMonth": 4},
            "FREQ=YEARLY;BYMONTH=11;BYDAY=4TH",
        ),
        (
            {"Type": 1, "DayOfWeek": 2, "FirstDayOfWeek": 0, "Interval": 2},
            "FREQ=WEEKLY;BYDAY=MO;INTERVAL=2;WKST=SU",
        ),
    ],
)
def test_rrule_text(pattern: dict[str, Any], rrule: str) -> None:
    # The RRULE grammar of RFC 5545 §3.3.10 for each MS-ASCAL Type.
    parsed = parse_recurrence(pattern, Where(1, {}))
    assert parsed is not None
    assert parsed.rrule(None) == rrule


def test_until_is_utc_for_timed_and_a_date_for_all_day() -> None:
    berlin = blob_for("Europe/Berlin", 2025)
    base = {"UID": "U", "Timezone": berlin, "Recurrence": {"Type": 0, "Until": "20250310T230000Z"}}
    timed = {**base, "StartTime": "20250301T080000Z", "EndTime": "20250301T090000Z"}
    lines = unfold_lines(b"".join(export_ical([timed], POLICY, now=NOW)))
    assert "RRULE:FREQ=DAILY;UNTIL=20250310T230000Z" in lines
    # All-day: the until moment is midnight 11 March in Berlin -> a DATE.
    whole = {
        **base,
        "StartTime": "20250228T230000Z",
        "EndTime": "20250301T230000Z",
        "AllDayEvent": 1,
    }
    lines = unfold_lines(b"".join(export_ical([whole], POLICY, now=NOW)))
    assert "RRULE:FREQ=DAILY;UNTIL=20250311" in lines
    assert "DTSTART;VALUE=DATE:20250301" in lines


@pytest.mark.parametrize(
    ("pattern", "field"),
    [
        ({"Type": 4}, "Recurrence.Type"),
        ({"Type": 1}, "Recurrence.DayOfWeek"),
        ({"Type": 3, "DayOfWeek": 2}, "Recurrence.WeekOfMonth"),
        ({"Type": 2, "DayOfMonth": 32}, "Recurrence.DayOfMonth"),
        ({"Type": 0, "Interval": 0}, "Recurrence.Interval"),
        ({"Type": 0, "Until": "2025-13-01"}, "Recurrence.Until"),
        ({"Type": 0, "CalendarType": 15}, "Recurrence.CalendarType"),
        ({"Type": 0, "Colour": 1}, "Recurrence.Colour"),
        ({"Type": "weekly"}, "Recurrence.Type"),
    ],
)
def test_bad_recurrence_names_the_field(pattern: dict[str, Any], field: str) -> None:
    from mailcore.errors import MalformedRecord

    record = {"UID": "U", "StartTime": "20250301T080000Z", "Recurrence": pattern}
    with pytest.raises(MalformedRecord) as caught:
        b"".join(export_ical([record], POLICY, now=NOW))
    assert caught.value.field == field
    assert caught.value.record == 1
