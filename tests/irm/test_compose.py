"""Applying and removing a restriction profile on outgoing mail."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailcore.errors import IrmError, MalformedMessage
from mailcore.irm import (
    DO_NOT_FORWARD,
    ENCRYPT_ONLY,
    NO_RESTRICTION,
    RestrictionProfile,
    apply_restriction,
    read_rights,
    resolve_template,
)
from mailcore.policy import IrmPolicy, Policy
from tests.utils import build_message, header_fields, split_message

HEADER = "Microsoft.Exchange.RMSApaAgent.ProtectionTemplateId"
ON = IrmPolicy(enabled=True)
TENANT = RestrictionProfile("6f1e7a52-0b2c-4d7e-9a1b-3c4d5e6f7a8b", "Confidential", "d")
MESSAGE = build_message(
    "From: alice@contoso.com", "To: bob@fabrikam.com", "Subject: Plans", body=b"Body\r\n.\r\n"
)


def template_values(message: bytes) -> list[bytes]:
    head, _ = split_message(message)
    return [
        field.split(b":", 1)[1].strip()
        for field in header_fields(head)
        if field.split(b":", 1)[0].decode().lower() == HEADER.lower()
    ]


class TestResolve:
    @pytest.mark.parametrize(
        "text",
        [
            "Do Not Forward",
            "do not forward",
            DO_NOT_FORWARD.template_id,
            "{" + DO_NOT_FORWARD.template_id.upper() + "}",
        ],
    )
    def test_name_or_guid(self, text: str) -> None:
        assert resolve_template(text, ON.templates) == DO_NOT_FORWARD

    def test_no_restriction_always_known(self) -> None:
        assert resolve_template("No Restriction", ()) == NO_RESTRICTION
        assert resolve_template("00000000-0000-0000-0000-000000000000", ()) == NO_RESTRICTION

    def test_not_offered_names_the_offer(self) -> None:
        with pytest.raises(IrmError, match="Do Not Forward") as caught:
            resolve_template("Top Secret", ON.templates)
        assert "Top Secret" in str(caught.value)

    def test_ambiguous_name(self) -> None:
        twin = RestrictionProfile("6f1e7a52-0b2c-4d7e-9a1b-3c4d5e6f7a8c", "Confidential", "e")
        with pytest.raises(IrmError, match="ambiguous"):
            resolve_template("confidential", (TENANT, twin))
        assert resolve_template(twin.template_id, (TENANT, twin)) == twin


class TestApply:
    def test_disabled_by_default(self) -> None:
        with pytest.raises(IrmError, match="disabled"):
            apply_restriction(MESSAGE, "Do Not Forward", Policy())

    def test_apply_then_read(self) -> None:
        output = apply_restriction(MESSAGE, "Do Not Forward", Policy(irm=ON))
        assert template_values(output) == [DO_NOT_FORWARD.template_id.encode()]
        assert split_message(output)[1] == split_message(MESSAGE)[1]
        # every original field is still there, byte for byte, in order
        assert header_fields(split_message(output)[0])[:3] == header_fields(
            split_message(MESSAGE)[0]
        )
        report = read_rights(output, user="bob@fabrikam.com")
        assert report.template == DO_NOT_FORWARD
        assert report.to_dict()["rights"]["forward"] is False

    def test_idempotent_and_replacing(self) -> None:
        once = apply_restriction(MESSAGE, "Do Not Forward", ON)
        assert apply_restriction(once, "Do Not Forward", ON) == once
        switched = apply_restriction(once, ENCRYPT_ONLY.template_id, ON)
        assert template_values(switched) == [ENCRYPT_ONLY.template_id.encode()]

    def test_duplicates_collapse(self) -> None:
        message = build_message(
            f"{HEADER}: {DO_NOT_FORWARD.template_id}", f"{HEADER}: {ENCRYPT_ONLY.template_id}"
        )
        assert template_values(apply_restriction(message, "Encrypt-Only", ON)) == [
            ENCRYPT_ONLY.template_id.encode()
        ]

    def test_no_restriction_removes(self) -> None:
        protected = apply_restriction(MESSAGE, "Do Not Forward", ON)
        assert apply_restriction(protected, "No Restriction", ON) == MESSAGE
        assert apply_restriction(MESSAGE, "No Restriction", ON) == MESSAGE

    def test_only_policy_templates(self) -> None:
        policy = IrmPolicy(enabled=True, templates=(TENANT,))
        with pytest.raises(IrmError, match="not offered"):
            apply_restriction(MESSAGE, "Do Not Forward", policy)
        output = apply_restriction(MESSAGE, "Confidential", policy)
        assert template_values(output) == [TENANT.template_id.encode()]

    def test_already_protected(self) -> None:
        message = build_message("Content-Class: rpmsg.message", "From: a@example.com")
        with pytest.raises(IrmError, match="already"):
            apply_restriction(message, "Do Not Forward", ON)

    def test_malformed_message(self) -> None:
        with pytest.raises(MalformedMessage):
            apply_restriction(b"not a header\r\n\r\n", "Do Not Forward", ON)

    @given(
        st.lists(st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,10}: [ -~]{0,30}\Z"), max_size=5),
        st.binary(max_size=200),
        st.sampled_from(["Do Not Forward", "Encrypt-Only", "No Restriction"]),
        st.sampled_from([b"\r\n", b"\n"]),
    )
    @pytest.mark.slow
    def test_only_the_template_field_changes(
        self, fields: list[str], body: bytes, template: str, linesep: bytes
    ) -> None:
        message = build_message("From: a@example.com", *fields, body=body, linesep=linesep)
        output = apply_restriction(message, template, ON)
        assert split_message(output)[1] == split_message(message)[1]
        before = [f for f in header_fields(split_message(message)[0])]
        after = [
            f
            for f in header_fields(split_message(output)[0])
            if not f.lower().startswith(HEADER.lower().encode())
        ]
        assert after == [f for f in before if not f.lower().startswith(HEADER.lower().encode())]
        assert all(f.endswith(linesep) for f in header_fields(split_message(output)[0]))
        assert apply_restriction(output, template, ON) == output
