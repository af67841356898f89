"""The ``[irm]`` policy section: enabled and the templates senders may apply."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from mailcore.errors import PolicyError
from mailcore.irm import DO_NOT_FORWARD, ENCRYPT_ONLY, Right
from mailcore.policy import IrmPolicy, load_policy, policy_from_mapping

WritePolicy = Callable[[str], Path]
TENANT = "6f1e7a52-0b2c-4d7e-9a1b-3c4d5e6f7a8b"


def test_defaults() -> None:
    policy = IrmPolicy()
    # Contract §4: IRM is off by default; the built-in protections are offered.
    assert policy.enabled is False
    assert policy.templates == (DO_NOT_FORWARD, ENCRYPT_ONLY)
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.enabled = True  # type: ignore[misc]


def test_full_section(write_policy: WritePolicy) -> None:
    # TOML 1.0 inline tables stay on one line.
    view_only = (
        f'id = "{TENANT.upper()}", name = "View Only", description = "Read it.", '
        'rights = ["VIEW", "viewrightsdata"], locale = "en-AU"'
    )
    text = f"""
[irm]
enabled = true
templates = [
  "encrypt-only",
  "{{CF5CF348-A8D7-40D5-91EF-A600B88A395D}}",
  {{ {view_only} }},
]
"""
    irm = load_policy(write_policy(text)).irm
    assert irm.enabled is True
    assert [t.template_id for t in irm.templates] == [
        ENCRYPT_ONLY.template_id,
        DO_NOT_FORWARD.template_id,
        TENANT,
    ]
    tenant = irm.templates[2]
    assert (tenant.name, tenant.description, tenant.locale) == ("View Only", "Read it.", "en-AU")
    assert tenant.rights == Right.VIEW | Right.VIEWRIGHTSDATA


def test_description_defaults_to_name_and_rights_to_unknown() -> None:
    irm = policy_from_mapping({"irm": {"templates": [{"id": TENANT, "name": "X"}]}}).irm
    assert irm.templates[0].description == "X"
    assert irm.templates[0].rights is None


def test_empty_list_offers_nothing() -> None:
    assert policy_from_mapping({"irm": {"templates": []}}).irm.templates == ()


BAD = {
    "not-a-list": '"do-not-forward"',
    "unknown-builtin": '["confidential"]',
    "number": "[3]",
    "no-id": '[{ name = "X" }]',
    "bad-id": '[{ id = "abc", name = "X" }]',
    "zero-id": '[{ id = "00000000-0000-0000-0000-000000000000", name = "X" }]',
    "no-name": f'[{{ id = "{TENANT}" }}]',
    "long-name": f'[{{ id = "{TENANT}", name = "{"n" * 257}" }}]',
    "unknown-key": f'[{{ id = "{TENANT}", name = "X", colour = "red" }}]',
    "unknown-right": f'[{{ id = "{TENANT}", name = "X", rights = ["SAVEAS"] }}]',
    "rights-string": f'[{{ id = "{TENANT}", name = "X", rights = "VIEW" }}]',
    "duplicate": '["do-not-forward", "cf5cf348-a8d7-40d5-91ef-a600b88a395d"]',
    "twenty-one": "["
    + ", ".join(f'{{ id = "00000000-0000-4000-8000-{n:012d}", name = "T{n}" }}' for n in range(21))
    + "]",
}


@pytest.mark.parametrize("value", BAD.values(), ids=BAD.keys())
def test_bad_templates_name_the_key(write_policy: WritePolicy, value: str) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy(write_policy(f"[irm]\ntemplates = {value}\n"))
    assert caught.value.key == "irm.templates"
    assert "irm.templates" in str(caught.value)


def test_unknown_key(write_policy: WritePolicy) -> None:
    with pytest.raises(PolicyError, match="'template'") as caught:
        load_policy(write_policy('[irm]\ntemplate = ["do-not-forward"]\n'))
    assert caught.value.key == "irm.template"


def test_enabled_must_be_boolean(write_policy: WritePolicy) -> None:
    with pytest.raises(PolicyError, match=r"irm\.enabled"):
        load_policy(write_policy("[irm]\nenabled = 1\n"))
