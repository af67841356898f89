"""Properties over generated licenses and labels (Hypothesis)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mailcore.errors import MalformedIrm
from mailcore.irm import (
    ALL_RIGHTS,
    GATEWAY_ACTIONS,
    LicenseView,
    MailAction,
    Right,
    effective_actions,
    format_msip_labels,
    license_to_xml,
    parse_license,
    parse_msip_labels,
    read_rights,
    rights_to_actions,
)
from tests.irm.strategies import action_sets, labels, licenses, millisecond_times

RIGHTS = [right for right in Right]


def rights_sets() -> st.SearchStrategy[Right]:
    def combine(flags: list[Right]) -> Right:
        out = Right(0)
        for flag in flags:
            out |= flag
        return out

    return st.lists(st.sampled_from(RIGHTS), unique=True).map(combine)


@settings(max_examples=150)
@given(licenses())
def test_write_then_read_is_identity(license: LicenseView) -> None:
    again = parse_license(license_to_xml(license), strict=True)
    assert again == license
    assert all(problem.severity == "warning" for problem in again.problems)


@given(
    licenses(),
    st.sampled_from(["", "rm", "x"]),
    st.sampled_from(["RightsManagement", "RightsManagement:"]),
)
def test_identity_for_every_spelling(license: LicenseView, prefix: str, namespace: str) -> None:
    assert parse_license(license_to_xml(license, prefix=prefix, namespace=namespace)) == license


@given(st.binary(max_size=300))
def test_garbage_only_raises_malformed_irm(data: bytes) -> None:
    try:
        parse_license(data, strict=False)
    except MalformedIrm:
        pass


@given(licenses(), st.sampled_from(["EditAllowed", "TemplateName", "Owner", "ContentExpiryDate"]))
def test_mutilated_license_is_refused_strictly_or_read_leniently(
    license: LicenseView, element: str
) -> None:
    data = license_to_xml(license).decode()
    start = data.index(f"<rm:{element}>")
    end = data.index(f"</rm:{element}>") + len(f"</rm:{element}>")
    mutilated = (data[:start] + data[end:]).encode()
    try:
        parse_license(mutilated, strict=True)
        raise AssertionError("a license without an element was accepted strictly")
    except MalformedIrm as error:
        assert element in str(error)
    lenient = parse_license(mutilated, strict=False)
    assert "element-missing" in {p.code for p in lenient.problems}


def _subset(small: MailAction, large: MailAction) -> bool:
    return small & large == small


@given(action_sets(), action_sets())
def test_effective_actions_are_monotone(a: MailAction, b: MailAction) -> None:
    # More rights in never means fewer out.
    assert _subset(effective_actions(a), effective_actions(a | b))
    assert _subset(effective_actions(a), a)


@given(rights_sets(), rights_sets())
def test_rights_to_actions_is_monotone(a: Right, b: Right) -> None:
    assert _subset(rights_to_actions(a), rights_to_actions(a | b))


@given(rights_sets())
def test_owner_right_means_everything(rights: Right) -> None:
    assert rights_to_actions(rights | Right.OWNER) == rights_to_actions(ALL_RIGHTS)


@given(licenses(action_sets()), action_sets(), millisecond_times)
def test_decisions_are_monotone(license: LicenseView, more: MailAction, now: datetime) -> None:
    wider = dataclasses.replace(license, allowed=license.allowed | more)
    for action in GATEWAY_ACTIONS:
        if license.decide(action, now=now).allowed:
            assert wider.decide(action, now=now).allowed, action
    assert _subset(license.effective(now), wider.effective(now))
    narrow_report = read_rights(license, now=now).to_dict()["rights"]
    wide_report = read_rights(wider, now=now).to_dict()["rights"]
    assert all(wide_report[key] for key, value in narrow_report.items() if value)


@given(licenses(action_sets()), st.integers(0, 10**6))
@pytest.mark.slow
def test_expired_never_grants(license: LicenseView, after_ms: int) -> None:
    assume(license.expires is not None)
    assert license.expires is not None
    now = license.expires + timedelta(milliseconds=after_ms)
    assert license.effective(now) == MailAction(0)
    assert not any(license.decide(action, now=now).allowed for action in GATEWAY_ACTIONS)
    report = read_rights(license, now=now, user=license.content_owner)
    assert report.expired
    assert not any(report.to_dict()["rights"].values())


@given(licenses(action_sets()))
def test_owner_flag_never_widens(license: LicenseView) -> None:
    now = datetime(2001, 1, 1, tzinfo=UTC)
    owner = dataclasses.replace(license, owner=True)
    user = license.content_owner
    assert (
        read_rights(owner, now=now, user=user).actions
        == read_rights(dataclasses.replace(license, owner=False), now=now, user=user).actions
    )


@given(st.lists(labels(), max_size=3, unique_by=lambda label: label.label_id))
@pytest.mark.slow
def test_labels_write_then_read_is_identity(written: list) -> None:  # type: ignore[type-arg]
    header = format_msip_labels(written)
    reading = parse_msip_labels(header, strict=True)
    assert list(reading.labels) == written
    # the same again without the space after ';' and with folding
    squeezed = header.replace("; ", ";\r\n ")
    assert list(parse_msip_labels(squeezed, strict=True).labels) == written
