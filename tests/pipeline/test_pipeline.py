"""Pipeline end to end: each policy setting that changes the outcome, reports field by field."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TypedDict, Unpack

import pytest
from cryptography import x509

from mailcore import DirectoryUnavailable, EncryptionRefused, MessageRefused
from mailcore.directory import CertificateDirectory, LdapDirectory
from mailcore.marking import read_marking
from mailcore.pipeline import KeyStore, MemoryKeyStore, Pipeline
from mailcore.policy import Policy, policy_from_mapping
from mailcore.smime import decrypt_message, verify_message
from tests.pipeline.conftest import CONTRACTOR, JO, PLANNING, SAM, World, message
from tests.slapd import Slapd, free_port
from tests.smime.conftest import run_openssl
from tests.utils import split_message


def policy(**sections: Mapping[str, object]) -> Policy:
    return policy_from_mapping(sections)


class _PipelineOptions(TypedDict, total=False):
    """The keyword arguments of Pipeline."""

    directory: CertificateDirectory | None
    keys: KeyStore | None
    trust: Sequence[x509.Certificate] | None
    crls: Sequence[x509.CertificateRevocationList]
    base: str | Path | None


def pipeline(world: World, settings: Policy, **options: Unpack[_PipelineOptions]) -> Pipeline:
    options.setdefault("directory", world.file_directory())
    options.setdefault("keys", world.keys())
    options.setdefault("trust", [world.identities[JO].chain[0]])
    return Pipeline(settings, **options)


SIGN_ENCRYPT = {"sign": True, "encrypt": True}


def header_names(data: bytes) -> list[str]:
    head, _ = split_message(data)
    return [
        line.split(b":", 1)[0].decode().lower()
        for line in head.splitlines()
        if line[:1] not in (b" ", b"\t") and b":" in line
    ]


class TestOutbound:
    def test_nothing_requested_marks_nothing(self, world: World) -> None:
        result = pipeline(world, Policy()).outbound(message())
        assert result.message == message()
        assert result.report.to_dict() == {
            "direction": "outbound",
            "marking": read_marking(message()).to_dict(),
            "irm": None,
            "signed": False,
            "encrypted": False,
            "encryption": {"decision": "not_requested", "missing": []},
            "layers": [],
            "warnings": [],
        }

    def test_mark_sign_encrypt(self, world: World) -> None:
        settings = policy(classification={"enabled": True}, smime=SIGN_ENCRYPT)
        result = pipeline(world, settings).outbound(message(cc=SAM, bcc=JO))
        report = result.report.to_dict()
        assert report["signed"] is True and report["encrypted"] is True
        assert report["encryption"] == {"decision": "encrypt", "missing": []}
        assert report["marking"]["sec"] == "UNOFFICIAL"
        # Outer header: what gateways read, the marking, and no Bcc.
        names = header_names(result.message)
        for name in ("from", "to", "cc", "date", "message-id", "subject", "x-protective-marking"):
            assert name in names
        assert "bcc" not in names
        assert read_marking(result.message).to_dict()["sec"] == "UNOFFICIAL"
        # Each recipient (and the sender) can decrypt; the content verifies.
        for address in (PLANNING, SAM, JO):
            identity = world.identities[address]
            opened = decrypt_message(result.message, identity.key, identity.certificate)
            # the decrypted entity has no From field: the sender is checked elsewhere
            verdict = verify_message(
                opened.content, trust=[world.identities[JO].chain[0]], check_sender=False
            )
            assert verdict.valid, verdict.reason
            assert b"Bcc" not in opened.content

    def test_openssl_reads_the_output(self, world: World, openssl: str, tmp_path: Path) -> None:
        settings = policy(classification={"enabled": True}, smime=SIGN_ENCRYPT)
        result = pipeline(world, settings).outbound(message())
        planning = world.identities[PLANNING]
        (tmp_path / "m.eml").write_bytes(result.message)
        (tmp_path / "key.pem").write_bytes(planning.key_pem())
        (tmp_path / "cert.pem").write_bytes(planning.certificate_pem())
        decrypted = run_openssl(
            openssl, "cms", "-decrypt", "-in", tmp_path / "m.eml",
            "-inkey", tmp_path / "key.pem", "-recip", tmp_path / "cert.pem",
        )  # fmt: skip
        (tmp_path / "signed.eml").write_bytes(decrypted)
        (tmp_path / "ca.pem").write_bytes(
            world.root_pem.read_bytes() + (world.folder / "trust" / "issuing-ca.pem").read_bytes()
        )
        content = run_openssl(
            openssl, "cms", "-verify", "-in", tmp_path / "signed.eml",
            "-CAfile", tmp_path / "ca.pem", "-purpose", "any",
        )  # fmt: skip
        assert b"The revised figures are in the shared folder." in content

    def test_one_recipient_without_certificate(self, world: World) -> None:
        settings = policy(smime=SIGN_ENCRYPT)
        result = pipeline(world, settings).outbound(message(f"{PLANNING}, {CONTRACTOR}"))
        report = result.report.to_dict()
        assert report["signed"] is True and report["encrypted"] is False
        assert report["encryption"] == {
            "decision": "send_unencrypted",
            "missing": [{"address": CONTRACTOR, "reason": "not_found"}],
        }
        assert report["warnings"] == [
            f"sent unencrypted to everyone: no usable certificate for {CONTRACTOR} (not_found)"
        ]
        assert b"multipart/signed" in result.message

    def test_reject_policy_refuses_before_signing(self, world: World) -> None:
        settings = policy(smime={**SIGN_ENCRYPT, "on_missing_certificate": "reject"})
        with pytest.raises(EncryptionRefused, match=CONTRACTOR) as refused:
            pipeline(world, settings).outbound(message(f"{PLANNING}, {CONTRACTOR}"))
        report = refused.value.report.to_dict()  # type: ignore[attr-defined]
        assert report["encryption"]["decision"] == "reject"
        assert report["signed"] is False

    def test_sign_only_and_no_key(self, world: World) -> None:
        settings = policy(smime={"sign": True})
        result = pipeline(world, settings).outbound(message(CONTRACTOR))
        assert result.report.signed and not result.report.encrypted
        assert result.report.to_dict()["encryption"]["decision"] == "not_requested"
        with pytest.raises(MessageRefused, match="no key for the sender"):
            pipeline(world, settings).outbound(message(sender=CONTRACTOR))

    def test_encrypt_only(self, world: World) -> None:
        result = pipeline(world, policy(smime={"encrypt": True})).outbound(message())
        assert result.report.encrypted and not result.report.signed

    def test_sender_left_out(self, world: World) -> None:
        settings = policy(smime={"encrypt": True, "encrypt_to_sender": False})
        result = pipeline(world, settings).outbound(message(sender=CONTRACTOR))
        assert result.report.to_dict()["encryption"]["decision"] == "encrypt"
        with pytest.raises(Exception):  # noqa: B017 (the sender holds no recipient key)
            jo = world.identities[JO]
            decrypt_message(result.message, jo.key, jo.certificate)

    def test_reply_inherits_marking(self, world: World) -> None:
        original = (
            b"From: sam.minister@cabinet.gov.au\r\nTo: jo.citizen@agency.gov.au\r\n"
            b"Subject: Budget [SEC=PROTECTED]\r\nX-Protective-Marking: VER=2024.1, NS=gov.au,"
            b" SEC=PROTECTED, ORIGIN=sam.minister@cabinet.gov.au\r\n\r\nx\r\n"
        )
        settings = policy(classification={"enabled": True})
        result = pipeline(world, settings).outbound(message(SAM), originals=[original])
        assert result.report.marking is not None
        assert result.report.marking["sec"] == "PROTECTED"

    def test_directory_down_rejects_by_default(self, world: World) -> None:
        down = LdapDirectory(
            [f"ldap://127.0.0.1:{free_port()}"], base_dn="dc=x", connect_timeout=1
        )
        with pytest.raises(DirectoryUnavailable):
            pipeline(world, policy(smime=SIGN_ENCRYPT), directory=down).outbound(message())

    def test_directory_down_policy_allows_plaintext(self, world: World) -> None:
        down = LdapDirectory(
            [f"ldap://127.0.0.1:{free_port()}"], base_dn="dc=x", connect_timeout=1
        )
        settings = policy(smime={**SIGN_ENCRYPT, "on_directory_error": "send_unencrypted"})
        result = pipeline(world, settings, directory=down).outbound(message())
        assert result.report.to_dict()["encryption"] == {
            "decision": "send_unencrypted",
            "missing": [
                {"address": PLANNING, "reason": "directory_unavailable"},
                {"address": JO, "reason": "directory_unavailable"},
            ],
        }

    def test_same_with_real_slapd(self, world: World, world_slapd: Slapd) -> None:
        with LdapDirectory([world_slapd.url], base_dn="dc=agency,dc=gov,dc=au") as ldap:
            run = pipeline(world, policy(smime=SIGN_ENCRYPT), directory=ldap)
            encrypted = run.outbound(message(cc=SAM))
            mixed = run.outbound(message(f"{PLANNING}, {CONTRACTOR}"))
        assert encrypted.report.encrypted
        assert mixed.report.to_dict()["encryption"]["missing"] == [
            {"address": CONTRACTOR, "reason": "not_found"}
        ]

    def test_irm_disabled_refuses_template(self, world: World) -> None:
        from mailcore import IrmError

        with pytest.raises(IrmError):
            pipeline(world, Policy()).outbound(message(), irm_template="Do Not Forward")

    def test_irm_template_applied(self, world: World) -> None:
        result = pipeline(world, policy(irm={"enabled": True})).outbound(
            message(), irm_template="Do Not Forward"
        )
        assert result.report.irm is not None
        assert result.report.irm["template_name"] == "Do Not Forward"

    def test_threads(self, world: World) -> None:
        run = pipeline(world, policy(classification={"enabled": True}, smime=SIGN_ENCRYPT))
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(3):
                    assert run.outbound(message(cc=SAM)).report.encrypted
            except BaseException as error:  # collected for the main thread
                errors.append(error)

        threads = [threading.Thread(target=work) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []


class TestInbound:
    def test_decrypt_and_verify(self, world: World) -> None:
        settings = policy(classification={"enabled": True}, smime=SIGN_ENCRYPT)
        sent = pipeline(world, settings).outbound(message(cc=SAM))
        sam = world.identities[SAM]
        keys = MemoryKeyStore({SAM: world.keys().signing_key(SAM)})  # type: ignore[dict-item]
        opened = pipeline(world, settings, keys=keys).inbound(sent.message)
        report = opened.report.to_dict()
        assert report["direction"] == "inbound"
        assert report["encrypted"] is True and report["signed"] is True
        assert [layer["kind"] for layer in report["layers"]] == ["encrypted", "signed"]
        assert all(layer["ok"] for layer in report["layers"])
        assert report["encryption"] is None
        assert report["marking"]["sec"] == "UNOFFICIAL"
        assert opened.message.endswith(b"The revised figures are in the shared folder.\r\n")
        assert sam.certificate is not None

    def test_tampered_signature_still_returned(self, world: World) -> None:
        sent = pipeline(world, policy(smime={"sign": True})).outbound(message())
        tampered = sent.message.replace(b"revised figures", b"REVISED FIGURES")
        opened = pipeline(world, Policy()).inbound(tampered)
        assert opened.message == tampered
        (layer,) = opened.report.to_dict()["layers"]
        assert layer["kind"] == "signed" and layer["ok"] is False
        assert layer["reason"] == "content_mismatch"
        assert opened.report.signed is False

    def test_not_a_recipient(self, world: World) -> None:
        sent = pipeline(
            world, policy(smime={"encrypt": True, "encrypt_to_sender": False})
        ).outbound(message())
        keys = MemoryKeyStore({SAM: world.keys().signing_key(SAM)})  # type: ignore[dict-item]
        opened = pipeline(world, Policy(), keys=keys).inbound(sent.message)
        (layer,) = opened.report.to_dict()["layers"]
        assert layer["kind"] == "encrypted" and layer["ok"] is False
        assert opened.message == sent.message
