"""Rights mapping, MIME recognition, effective rights and gateway decisions."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from mailcore.errors import MalformedMessage
from mailcore.irm import (
    DO_NOT_FORWARD_RIGHTS,
    ENCRYPT_ONLY_RIGHTS,
    GATEWAY_ACTIONS,
    NO_RESTRICTION_ID,
    LicenseView,
    MailAction,
    RestrictionProfile,
    Right,
    actions_to_rights,
    detect_protection,
    parse_rights,
    read_rights,
    reply_recipients,
    rights_to_actions,
)
from tests.utils import build_message

DNF = "cf5cf348-a8d7-40d5-91ef-a600b88a395d"
TEMPLATE_HEADER = "Microsoft.Exchange.RMSApaAgent.ProtectionTemplateId"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
JSON_E_KEYS = [
    "protected", "template_id", "template_name", "owner", "content_owner", "expires",
    "expired", "rights", "labels", "defects",
]  # fmt: skip
RIGHTS_KEYS = [
    "view", "edit", "print", "reply", "reply_all", "forward", "extract", "export",
    "modify_recipients", "programmatic_access",
]  # fmt: skip


class TestMapping:
    def test_policy_names(self) -> None:
        assert parse_rights(["view", "REPLYALL", " objmodel "]) == (
            Right.VIEW | Right.REPLYALL | Right.OBJMODEL
        )
        with pytest.raises(ValueError, match="SAVEAS"):
            parse_rights(["SAVEAS"])

    def test_exchange_derivation(self) -> None:
        # Reference note §3.2: EDIT (not DOCEDIT) -> EditAllowed, OBJMODEL ->
        # ProgrammaticAccess, FORWARD -> Forward and ModifyRecipients.
        assert rights_to_actions(Right.DOCEDIT | Right.VIEW) == MailAction(0)
        assert rights_to_actions(Right.EDIT) == MailAction.EDIT
        assert rights_to_actions(Right.OBJMODEL) == MailAction.PROGRAMMATIC_ACCESS
        assert (
            rights_to_actions(Right.FORWARD) == MailAction.FORWARD | MailAction.MODIFY_RECIPIENTS
        )
        assert rights_to_actions(Right.FORWARD, can_republish=False) == MailAction.FORWARD

    def test_builtin_profiles(self) -> None:
        # Reference note §3.3.
        dnf = rights_to_actions(DO_NOT_FORWARD_RIGHTS)
        assert dnf == (
            MailAction.EDIT
            | MailAction.REPLY
            | MailAction.REPLY_ALL
            | MailAction.PROGRAMMATIC_ACCESS
        )
        eo = rights_to_actions(ENCRYPT_ONLY_RIGHTS)
        assert MailAction.EXPORT not in eo
        assert eo | MailAction.EXPORT == rights_to_actions(Right.OWNER)

    def test_lossy_inverse(self) -> None:
        assert actions_to_rights(MailAction(0)) == Right.VIEW
        assert Right.OWNER in actions_to_rights(MailAction(0), owner=True)
        assert rights_to_actions(actions_to_rights(MailAction.PRINT)) == MailAction.PRINT

    @pytest.mark.parametrize(
        ("allowed", "expected"),
        [
            (MailAction.REPLY | MailAction.REPLY_ALL, "either"),
            (MailAction.REPLY, "sender-only"),
            (MailAction.REPLY_ALL, "all-original"),
            (MailAction(0), "forbidden"),
            (MailAction.FORWARD | MailAction.MODIFY_RECIPIENTS, "any"),
            (MailAction.MODIFY_RECIPIENTS, "forbidden"),  # not honoured without forward
        ],
    )
    def test_reply_recipients(self, allowed: MailAction, expected: str) -> None:
        # MS-ASRM §3.2.5.1 step 3.
        assert reply_recipients(allowed) == expected


RPMSG = base64.b64encode(bytes.fromhex("76E80460C411E386") + b"\0" * 8).decode()


def protected_message(
    *extra: str, part_type: str = "application/x-microsoft-rpmsg-message"
) -> bytes:
    return build_message(
        "From: Alice <alice@contoso.com>",
        "To: bob@fabrikam.com",
        *extra,
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="b"',
        body=(
            "--b\r\nContent-Type: text/plain\r\n\r\nThis message is protected.\r\n"
            f"--b\r\nContent-Type: {part_type}\r\n"
            'Content-Disposition: attachment; filename="message.rpmsg"\r\n'
            f"Content-Transfer-Encoding: base64\r\n\r\n{RPMSG}\r\n--b--\r\n"
        ).encode(),
    )


class TestRecognition:
    def test_exchange_shape(self) -> None:
        info = detect_protection(protected_message("Content-Class: rpmsg.message"))
        assert info.content_class and info.rpmsg_part and info.rights_managed and info.protected
        assert info.sender == "alice@contoso.com"
        assert info.problems == ()

    def test_export_shape(self) -> None:
        info = detect_protection(protected_message(part_type="application/octet-stream"))
        assert info.rights_managed
        assert {p.code for p in info.problems} == {"rpmsg-type", "content-class-missing"}

    def test_content_class_is_case_insensitive(self) -> None:
        info = detect_protection(protected_message("Content-Class: RPMSG.Message"))
        assert info.content_class

    def test_plain_message(self) -> None:
        info = detect_protection(build_message("From: a@example.com", "Subject: hi"))
        assert not info.protected and info.problems == ()

    def test_not_a_message(self) -> None:
        with pytest.raises(MalformedMessage):
            detect_protection(b"\r\n\r\n")

    def test_attached_protected_message_does_not_count(self) -> None:
        inner = protected_message("Content-Class: rpmsg.message").decode()
        outer = build_message(
            "From: carol@contoso.com",
            "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="o"',
            body=(
                "--o\r\nContent-Type: text/plain\r\n\r\nFYI\r\n--o\r\n"
                f"Content-Type: message/rfc822\r\n\r\n{inner}\r\n--o--\r\n"
            ).encode(),
        )
        assert not detect_protection(outer).protected


def license_view(allowed: MailAction, **changes: object) -> LicenseView:
    values: dict[str, object] = {
        "template_id": DNF,
        "template_name": "Do Not Forward",
        "template_description": "d",
        "content_owner": "alice@contoso.com",
        "owner": False,
        "allowed": allowed,
        "expires": None,
    }
    values.update(changes)
    return LicenseView(**values)  # type: ignore[arg-type]


class TestReports:
    def test_json_e_shape(self) -> None:
        for report in (
            read_rights(license_view(MailAction.REPLY), now=NOW),
            read_rights(build_message("From: a@example.com")),
            read_rights(protected_message("Content-Class: rpmsg.message")),
        ):
            document = report.to_dict()
            assert list(document) == JSON_E_KEYS
            assert list(document["rights"]) == RIGHTS_KEYS

    def test_unprotected_grants_everything(self) -> None:
        document = read_rights(build_message("From: a@example.com")).to_dict()
        assert document["protected"] is False
        assert all(document["rights"].values())

    def test_issuer_has_full_control(self) -> None:
        message = build_message("From: Alice <alice@contoso.com>", f"{TEMPLATE_HEADER}: {DNF}")
        recipient = read_rights(message, user="bob@fabrikam.com")
        issuer = read_rights(message, user="ALICE@contoso.com")
        assert recipient.to_dict()["rights"]["forward"] is False
        assert issuer.owner and all(issuer.to_dict()["rights"].values())
        assert issuer.decide("forward").reason == "issuer"

    def test_policy_templates_give_rights(self) -> None:
        tenant = "6f1e7a52-0b2c-4d7e-9a1b-3c4d5e6f7a8b"
        message = build_message("From: a@example.com", f"{TEMPLATE_HEADER}: {tenant}")
        unknown = read_rights(message)
        assert unknown.state == "rights-unknown" and not unknown.view
        known = read_rights(
            message,
            templates=[RestrictionProfile(tenant, "Print only", "d", Right.VIEW | Right.PRINT)],
        )
        assert known.state == "template"
        assert known.actions == MailAction.PRINT and known.view

    def test_expiry_boundary(self) -> None:
        license = license_view(MailAction.REPLY, expires=NOW)
        before = read_rights(license, now=NOW - timedelta(milliseconds=1))
        at = read_rights(license, now=NOW)
        assert before.to_dict()["rights"]["reply"] and not before.expired
        assert at.expired and not any(at.to_dict()["rights"].values())

    def test_naive_now_refused(self) -> None:
        with pytest.raises(ValueError, match="timezone"):
            read_rights(license_view(MailAction.REPLY), now=datetime(2026, 1, 1))
        with pytest.raises(ValueError, match="timezone"):
            license_view(MailAction.REPLY).decide("reply", now=datetime(2026, 1, 1))

    def test_undecodable_is_not_no_restriction(self) -> None:
        license = license_view(MailAction(0), template_id=NO_RESTRICTION_ID, template_name=" ")
        report = read_rights(license, now=NOW)
        assert report.protected and report.state == "undecodable"
        assert not any(report.to_dict()["rights"].values())
        assert report.to_dict()["template_name"] is None


class TestDecisions:
    def test_every_action_has_a_reason(self) -> None:
        license = license_view(MailAction.REPLY | MailAction.EDIT)
        decisions = {d.action: d for d in read_rights(license, now=NOW).decisions()}
        assert list(decisions) == list(GATEWAY_ACTIONS)
        assert decisions["reply"].allowed and decisions["reply"].reason == "granted"
        assert not decisions["forward"].allowed
        assert "ForwardAllowed is 0" in decisions["forward"].detail
        assert decisions["reply"].to_dict() == {
            "action": "reply",
            "allowed": True,
            "reason": "granted",
            "detail": decisions["reply"].detail,
        }

    def test_forward_with_content_needs_edit(self) -> None:
        license = license_view(MailAction.FORWARD | MailAction.MODIFY_RECIPIENTS)
        assert license.decide("forward", now=NOW).allowed
        decision = license.decide("forward_with_content", now=NOW)
        assert (decision.allowed, decision.reason) == (False, "edit-not-granted")

    def test_remove_protection_is_export(self) -> None:
        assert (
            license_view(MailAction.EXPORT | MailAction.EDIT).decide("remove_protection").allowed
        )
        decision = license_view(MailAction.EXPORT).decide("remove_protection")
        assert (decision.allowed, decision.reason) == (False, "export-requires-edit")

    def test_unknown_action(self) -> None:
        with pytest.raises(ValueError, match="teleport"):
            license_view(MailAction.REPLY).decide("teleport")
        with pytest.raises(ValueError, match="teleport"):
            read_rights(build_message("From: a@example.com")).decide("teleport")

    def test_unprotected_and_unknown(self) -> None:
        assert read_rights(build_message("From: a@example.com")).decide("print").reason == (
            "unprotected"
        )
        unknown = read_rights(protected_message("Content-Class: rpmsg.message"))
        assert unknown.decide("print") == unknown.decide("print")._replace(
            allowed=False, reason="rights-unknown"
        )
