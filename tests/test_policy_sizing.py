"""``[sync]`` settings added for sizing: ``month_days``."""

from __future__ import annotations

import pytest

from mailcore.errors import PolicyError
from mailcore.policy import policy_from_mapping


def test_month_days_default_and_range() -> None:
    assert policy_from_mapping({}).sync.month_days == 31
    assert policy_from_mapping({"sync": {"month_days": 30}}).sync.month_days == 30
    for bad in (27, 32, "31", True, 30.5):
        with pytest.raises(PolicyError) as caught:
            policy_from_mapping({"sync": {"month_days": bad}})
        assert caught.value.key == "sync.month_days"


def test_unknown_sync_key_is_named() -> None:
    with pytest.raises(PolicyError, match="month_length"):
        policy_from_mapping({"sync": {"month_length": 30}})
