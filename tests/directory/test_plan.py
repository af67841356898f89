"""The all-or-nothing decision, against the real slapd and the file directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailcore.directory import (
    CertificateDirectory,
    FileDirectory,
    LdapDirectory,
    plan_encryption,
    recipients_of,
)
from mailcore.policy import SmimePolicy
from tests.directory.conftest import BASE_DN, BULK, People
from tests.slapd import Slapd


def message(to: str, cc: str = "", bcc: str = "", sender: str = "alice@example.com") -> bytes:
    lines = [f"From: Alice <{sender}>", f"To: {to}"]
    if cc:
        lines.append(f"Cc: {cc}")
    if bcc:
        lines.append(f"Bcc: {bcc}")
    return ("\r\n".join([*lines, "Subject: s", "", "body", ""])).encode()


@pytest.fixture(params=["ldap", "file"])
def directory(
    request: pytest.FixtureRequest, slapd: Slapd, people: People, tmp_path: Path
) -> Iterator[CertificateDirectory]:
    if request.param == "ldap":
        with LdapDirectory([slapd.url], base_dn=BASE_DN) as ldap:
            yield ldap
    else:
        path = tmp_path / "directory.ldif"
        path.write_text(people.ldif())
        yield FileDirectory(path)


class TestDecision:
    def test_everyone_found_encrypts(
        self, directory: CertificateDirectory, people: People
    ) -> None:
        plan = plan_encryption(
            message("Bob <bob@example.com>", cc="dave@example.com", bcc="leo@example.com"),
            directory=directory,
        )
        assert plan.decision == "encrypt"
        assert plan.recipients == (
            "bob@example.com",
            "dave@example.com",
            "leo@example.com",
            "alice@example.com",
        )
        ids = people.ids
        assert plan.certificates == tuple(
            ids[n].certificate for n in ("bob", "dave", "leo", "alice")
        )
        assert plan.to_dict() == {"decision": "encrypt", "missing": []}

    def test_one_missing_sends_everyone_unencrypted(self, directory: CertificateDirectory) -> None:
        plan = plan_encryption(
            message("bob@example.com, carol@example.com", bcc="erin@example.com"),
            directory=directory,
        )
        assert plan.decision == "send_unencrypted"
        assert plan.certificates == ()
        assert plan.to_dict() == {
            "decision": "send_unencrypted",
            "missing": [
                {"address": "carol@example.com", "reason": "not_found"},
                {"address": "erin@example.com", "reason": "no_valid_certificate"},
            ],
        }
        assert plan.lookups is not None
        assert plan.lookups["erin@example.com"].rejected[0].reason == "address_mismatch"

    def test_reject_policy(self, directory: CertificateDirectory) -> None:
        plan = plan_encryption(
            message("bob@example.com, nobody@example.com"),
            directory=directory,
            policy=SmimePolicy(on_missing_certificate="reject"),
        )
        assert plan.decision == "reject"
        assert [m.address for m in plan.missing] == ["nobody@example.com"]

    def test_sender_without_certificate_counts(self, directory: CertificateDirectory) -> None:
        plan = plan_encryption(
            message("bob@example.com", sender="carol@example.com"), directory=directory
        )
        assert plan.to_dict()["missing"] == [
            {"address": "carol@example.com", "reason": "not_found"}
        ]
        plan = plan_encryption(
            message("bob@example.com", sender="carol@example.com"),
            directory=directory,
            policy=SmimePolicy(encrypt_to_sender=False),
        )
        assert plan.decision == "encrypt"
        assert plan.recipients == ("bob@example.com",)

    def test_envelope_recipients_override_headers(self, directory: CertificateDirectory) -> None:
        plan = plan_encryption(
            message("carol@example.com"),
            directory=directory,
            recipients=["bob@example.com"],
            sender="dave@example.com",
        )
        assert plan.decision == "encrypt"
        assert plan.recipients == ("bob@example.com", "dave@example.com")

    def test_two_hundred_recipients(self, directory: CertificateDirectory) -> None:
        to = ", ".join(f"bulk{n:03d}@example.com" for n in range(1, BULK + 1))
        plan = plan_encryption(message(to, sender="bulk001@example.com"), directory=directory)
        assert plan.decision == "encrypt"
        assert len(plan.certificates) == BULK

    def test_invalid_address_is_missing_not_dropped(self, directory: CertificateDirectory) -> None:
        plan = plan_encryption(
            message('bob@example.com, "x" <not an address>'), directory=directory
        )
        assert plan.decision == "send_unencrypted"
        assert {m.reason for m in plan.missing} == {"invalid_address"}


class TestRecipients:
    def test_groups_and_repeats(self) -> None:
        raw = message(
            "undisclosed-recipients:;", cc="A <A@Example.com>, a@example.com", bcc="b@example.com"
        )
        assert recipients_of(raw) == ("a@example.com", "b@example.com")

    def test_no_recipients(self) -> None:
        with pytest.raises(ValueError, match="no recipients"):
            plan_encryption(
                b"From: a@example.com\r\n\r\nx",
                directory=FileDirectory.__new__(FileDirectory),
                policy=SmimePolicy(encrypt_to_sender=False),
            )
