"""``[export]`` of the policy file (issue 6)."""

from __future__ import annotations

import pytest

from mailcore.errors import PolicyError
from mailcore.policy import ExportPolicy, policy_from_mapping


def test_defaults_follow_the_issue() -> None:
    # Export Contacts off, all contact fields, Export Calendar off, "Busy".
    assert ExportPolicy() == ExportPolicy(
        contacts=False, contact_fields="all", calendar="off", calendar_placeholder="Busy"
    )


@pytest.mark.parametrize(
    "level",
    ["off", "meeting_time", "meeting_time_location", "meeting_time_location_subject", "all"],
)
def test_every_calendar_level_loads(level: str) -> None:
    assert policy_from_mapping({"export": {"calendar": level}}).export.calendar == level


@pytest.mark.parametrize("fields", ["all", "name_phone", "name_phone_email"])
def test_every_contact_fields_value_loads(fields: str) -> None:
    assert (
        policy_from_mapping({"export": {"contact_fields": fields}}).export.contact_fields == fields
    )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("contact_fields", "name"),
        ("contact_fields", 3),
        ("calendar", "subject"),
        ("calendar_placeholder", ""),
        ("calendar_placeholder", "Busy\r\nX-EVIL:1"),
        ("contacts", "yes"),
        ("colour", "red"),
    ],
)
def test_bad_values_name_the_key(key: str, value: object) -> None:
    with pytest.raises(PolicyError) as caught:
        policy_from_mapping({"export": {key: value}})
    assert caught.value.key == f"export.{key}"
