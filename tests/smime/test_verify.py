"""Verification (RFC 8551 §3.5, RFC 5652 §5.6, RFC 8550): every reason of
JSON B with the input that must produce it, the report, and the rule that
input which is not S/MIME raises MalformedSmime.

Signed messages come from mailcore's signer and from the openssl command
line; broken SignerInfos are built here byte by byte.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms  # type: ignore[import-untyped]  # no stubs
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from hypothesis import given
from hypothesis import strategies as st

from mailcore.errors import MalformedInput, MalformedSmime, UnsupportedAlgorithm
from mailcore.smime import _der
from mailcore.smime._algorithms import (
    ATTR_CONTENT_TYPE,
    ATTR_MESSAGE_DIGEST,
    ID_DATA,
    ID_SIGNED_DATA,
    digest_algorithm,
    signature_algorithm,
)
from mailcore.smime._mime import base64_lines, find_signed_parts, split_entity
from mailcore.smime._signed import sign_message
from mailcore.smime._verify import REASONS, VerifyResult, verify_message
from mailcore.smime.pki import Identity, TestPKI
from tests.smime.conftest import run_openssl

MESSAGE = (
    b"From: Alice <alice@example.com>\r\n"
    b"To: bob@example.com\r\n"
    b"Subject: Report\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"The report is ready.\r\n"
)
ENTITY = b"Content-Type: text/plain\r\n\r\nSigned by OpenSSL.\r\n"


@pytest.fixture(scope="session")
def carol(pki: TestPKI) -> Identity:
    """A P-256 signer: fast to make, used where the key type does not matter."""
    return pki.issue("carol@example.com", "p256")


def _sign(identity: Identity, message: bytes = MESSAGE, **options: object) -> bytes:
    return sign_message(
        message,
        identity.key,
        identity.certificate,
        chain=identity.chain,
        **options,  # type: ignore[arg-type]
    )


def _from(sender: str, message: bytes = MESSAGE) -> bytes:
    return message.replace(b"Alice <alice@example.com>", sender.encode())


def _verify(message: bytes, pki: TestPKI, **options: object) -> VerifyResult:
    return verify_message(message, trust=[pki.root.certificate], **options)  # type: ignore[arg-type]


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(Encoding.PEM)


@pytest.fixture(scope="session")
def files(pki: TestPKI, alice: Identity, bob: Identity, tmp_path_factory) -> dict[str, Path]:
    """PEM files for the openssl command line."""
    folder = tmp_path_factory.mktemp("verify-pki")
    contents = {
        "root": _pem(pki.root.certificate),
        "chain": alice.chain_pem(),
        "alice": alice.certificate_pem(),
        "alice.key": alice.key_pem(),
        "bob": bob.certificate_pem(),
        "bob.key": bob.key_pem(),
        "entity": ENTITY,
    }
    paths = {}
    for name, data in contents.items():
        paths[name] = folder / f"{name}.pem"
        paths[name].write_bytes(data)
    return paths


def _openssl_sign(openssl: str, files: dict[str, Path], *options: str) -> bytes:
    """openssl cms -sign as alice, S/MIME output, From alice."""
    return run_openssl(
        openssl,
        "cms",
        "-sign",
        "-in",
        files["entity"],
        "-signer",
        files["alice"],
        "-inkey",
        files["alice.key"],
        "-certfile",
        files["chain"],
        "-from",
        "alice@example.com",
        *options,
    )


# -- valid messages and the report ------------------------------------------------


class TestReport:
    def test_json_b(self, pki: TestPKI, alice: Identity) -> None:
        moment = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
        result = _verify(_sign(alice, signing_time=moment), pki)
        assert result.valid
        data = result.to_dict()
        assert list(data) == ["valid", "reason", "signers"]
        assert data["valid"] is True and data["reason"] is None
        (signer,) = data["signers"]
        assert list(signer) == [
            "subject",
            "email",
            "serial",
            "sha256",
            "digest",
            "signature",
            "signing_time",
            "chain",
        ]
        certificate = alice.certificate
        assert signer == {
            "subject": "emailAddress=alice@example.com,CN=alice",
            "email": "alice@example.com",
            "serial": f"0x{certificate.serial_number:x}",
            "sha256": certificate.fingerprint(hashes.SHA256()).hex(),
            "digest": "sha256",
            "signature": "rsa-pkcs1v15",
            "signing_time": "2026-11-21T12:00:00Z",
            "chain": ["CN=mailcore Test Issuing CA", "CN=mailcore Test Root CA"],
        }
        assert json.loads(json.dumps(data)) == data

    def test_result_is_immutable(self, pki: TestPKI, carol: Identity) -> None:
        result = _verify(_sign(carol, _from("carol@example.com")), pki)
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.valid = False  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.signers[0].reason = "untrusted"  # type: ignore[misc]
        assert isinstance(result.signers, tuple)

    def test_reasons_are_the_contract_list(self) -> None:
        assert set(REASONS) == {
            "bad_signature",
            "content_mismatch",
            "untrusted",
            "expired",
            "not_yet_valid",
            "revoked",
            "wrong_key_usage",
            "sender_mismatch",
            "weak_algorithm",
            "malformed",
        }

    def test_outer_header_changes_do_not_matter(self, pki: TestPKI, alice: Identity) -> None:
        signed = _sign(alice).replace(b"Subject: Report", b"Subject: Changed in transit")
        assert _verify(signed, pki).valid

    def test_lf_line_ends_are_canonicalised(self, pki: TestPKI, alice: Identity) -> None:
        """RFC 8551 §3.1.1: a message stored with LF still verifies."""
        signed = _sign(alice).replace(b"\r\n", b"\n")
        result = _verify(signed, pki)
        assert result.valid, result.reason
        assert result.content == split_entity(MESSAGE).inner

    def test_signer_certificate_from_the_caller(
        self, pki: TestPKI, alice: Identity, openssl: str, files: dict[str, Path]
    ) -> None:
        signed = _openssl_sign(openssl, files, "-nocerts")
        assert _verify(signed, pki).reason == "untrusted"
        result = _verify(signed, pki, intermediates=[alice.certificate, *alice.chain])
        assert result.valid, result.reason

    def test_inside_a_running_event_loop(self, pki: TestPKI, alice: Identity) -> None:
        """pyhanko-certvalidator is async; verify_message works from async code."""

        async def verify() -> VerifyResult:
            return _verify(_sign(alice), pki)

        assert asyncio.run(verify()).valid

    def test_naive_time_is_utc(self, pki: TestPKI, alice: Identity) -> None:
        at = datetime.now(UTC).replace(tzinfo=None)
        assert _verify(_sign(alice), pki, at=at).valid


# -- each reason ---------------------------------------------------------------------


class TestContent:
    def test_tampered_signed_part(self, pki: TestPKI, alice: Identity) -> None:
        signed = _sign(alice).replace(b"The report is ready.", b"The report is READY.")
        result = _verify(signed, pki)
        assert (result.valid, result.reason) == (False, "content_mismatch")
        assert result.content is None
        assert result.signers[0].subject is not None  # still says who claimed to sign

    def test_tampered_opaque_content(self, pki: TestPKI, alice: Identity) -> None:
        signed = _sign(alice, opaque=True)
        der = _opaque_der(signed)
        tampered = der.replace(b"report is ready", b"report is READY")
        assert tampered != der
        result = _verify(_replace_der(signed, der, tampered), pki)
        assert result.reason == "content_mismatch"
        assert result.content is None

    def test_no_reserialised_variants(self, pki: TestPKI, alice: Identity) -> None:
        """A refolded content header field is a different entity."""
        signed = _sign(alice).replace(
            b"Content-Type: text/plain; charset=us-ascii\r\n\r\nThe",
            b"Content-Type: text/plain;\r\n charset=us-ascii\r\n\r\nThe",
        )
        assert _verify(signed, pki).reason == "content_mismatch"

    def test_content_type_attribute_mismatch(self, pki: TestPKI, carol: Identity) -> None:
        content = b"Content-Type: text/plain\r\n\r\nx\r\n"
        attributes = [
            _attribute(ATTR_CONTENT_TYPE, _der.oid(ID_SIGNED_DATA)),
            _attribute(ATTR_MESSAGE_DIGEST, _der.octet_string(_sha256(content))),
        ]
        message = _crafted(carol, content, attributes)
        assert _verify(message, pki, check_sender=False).reason == "content_mismatch"


class TestSignature:
    def test_tampered_signature_value(self, pki: TestPKI, alice: Identity) -> None:
        signed = _sign(alice)
        der = find_signed_parts(signed).signature
        value = cms.ContentInfo.load(der)["content"]["signer_infos"][0]["signature"].native
        position = der.rindex(value) + len(value) // 2
        tampered = der[:position] + bytes([der[position] ^ 0x01]) + der[position + 1 :]
        result = _verify(_replace_der(signed, der, tampered), pki)
        assert (result.valid, result.reason) == (False, "bad_signature")
        assert result.content is None

    def test_signature_by_another_key(self, pki: TestPKI, carol: Identity) -> None:
        """A SignerInfo naming carol's certificate but signed by another key."""
        content = b"Content-Type: text/plain\r\n\r\nx\r\n"
        attributes = [
            _attribute(ATTR_CONTENT_TYPE, _der.oid(ID_DATA)),
            _attribute(ATTR_MESSAGE_DIGEST, _der.octet_string(_sha256(content))),
        ]
        forger = ec.generate_private_key(ec.SECP256R1())
        message = _crafted(carol, content, attributes, key=forger)
        assert _verify(message, pki, check_sender=False).reason == "bad_signature"

    def test_crafted_signer_info_is_valid_when_correct(
        self, pki: TestPKI, carol: Identity
    ) -> None:
        """The byte-built SignerInfo used by the negative cases, done right."""
        content = b"Content-Type: text/plain\r\n\r\nx\r\n"
        attributes = [
            _attribute(ATTR_CONTENT_TYPE, _der.oid(ID_DATA)),
            _attribute(ATTR_MESSAGE_DIGEST, _der.octet_string(_sha256(content))),
        ]
        result = _verify(_crafted(carol, content, attributes), pki, check_sender=False)
        assert result.valid, result.reason
        assert result.content == content

    @pytest.mark.parametrize(
        "attributes",
        [
            pytest.param(
                lambda c: [_attribute(ATTR_CONTENT_TYPE, _der.oid(ID_DATA))], id="no-digest"
            ),
            pytest.param(
                lambda c: [_attribute(ATTR_MESSAGE_DIGEST, _der.octet_string(_sha256(c)))],
                id="no-content-type",
            ),
            pytest.param(
                lambda c: [
                    _attribute(ATTR_CONTENT_TYPE, _der.oid(ID_DATA)),
                    _attribute(
                        ATTR_MESSAGE_DIGEST,
                        _der.octet_string(_sha256(c)),
                        _der.octet_string(b"\x00" * 32),
                    ),
                ],
                id="two-digests",
            ),
        ],
    )
    def test_missing_mandatory_attributes(self, pki: TestPKI, carol: Identity, attributes) -> None:
        """RFC 5652 §11.1/§11.2: a SignerInfo that parses but breaks the rules."""
        content = b"Content-Type: text/plain\r\n\r\nx\r\n"
        message = _crafted(carol, content, attributes(content))
        result = _verify(message, pki, check_sender=False)
        assert (result.valid, result.reason) == (False, "malformed")

    def test_without_signed_attributes(
        self, pki: TestPKI, openssl: str, files: dict[str, Path]
    ) -> None:
        result = _verify(_openssl_sign(openssl, files, "-noattr"), pki)
        assert result.valid, result.reason
        assert result.signers[0].signing_time is None


class TestCertificate:
    def test_untrusted_root(self, alice: Identity) -> None:
        other = TestPKI()
        result = verify_message(_sign(alice), trust=[other.root.certificate])
        assert (result.valid, result.reason) == (False, "untrusted")
        assert result.content is None
        assert result.signers[0].chain == ()

    def test_no_trust_anchors(self, alice: Identity) -> None:
        assert verify_message(_sign(alice), trust=[]).reason == "untrusted"

    def test_issuing_ca_as_trust_anchor(self, pki: TestPKI, alice: Identity) -> None:
        result = verify_message(_sign(alice), trust=[pki.issuing.certificate])
        assert result.valid, result.reason
        assert result.signers[0].chain == ("CN=mailcore Test Issuing CA",)

    def test_expired(self, pki: TestPKI, alice: Identity) -> None:
        expired = pki.issue(
            "alice@example.com",
            key=alice.key,
            not_before=pki.now - timedelta(days=90),
            not_after=pki.now - timedelta(days=1),
        )
        signed = _sign(expired)
        result = _verify(signed, pki)
        assert (result.valid, result.reason) == (False, "expired")
        assert result.signers[0].chain  # the path is still reported
        # Point-in-time validation: it was valid while it lasted.
        assert _verify(signed, pki, at=pki.now - timedelta(days=10)).valid

    def test_valid_now_but_expired_at(self, pki: TestPKI, alice: Identity) -> None:
        later = alice.certificate.not_valid_after_utc + timedelta(days=1)
        assert _verify(_sign(alice), pki, at=later).reason == "expired"

    def test_not_yet_valid(self, pki: TestPKI, alice: Identity) -> None:
        future = pki.issue(
            "alice@example.com",
            key=alice.key,
            not_before=pki.now + timedelta(days=10),
            not_after=pki.now + timedelta(days=100),
        )
        assert _verify(_sign(future), pki).reason == "not_yet_valid"

    def test_revoked(self, pki: TestPKI, alice: Identity) -> None:
        revoked = pki.issue("alice@example.com", key=alice.key)
        crl = pki.crl([revoked.certificate])
        result = _verify(_sign(revoked), pki, crls=[crl])
        assert (result.valid, result.reason) == (False, "revoked")
        assert _verify(_sign(revoked), pki).valid  # without the CRL nobody knows
        assert _verify(_sign(alice), pki, crls=[crl]).valid

    def test_crls_make_revocation_checking_mandatory(self, pki: TestPKI) -> None:
        other = TestPKI()
        stranger = other.issue("alice@example.com", "p256")
        trust = [pki.root.certificate, other.root.certificate]
        signed = _sign(stranger)
        assert verify_message(signed, trust=trust).valid
        result = verify_message(signed, trust=trust, crls=[pki.crl()])
        assert result.reason == "untrusted"

    def test_wrong_extended_key_usage(self, pki: TestPKI, alice: Identity) -> None:
        server = pki.issue(
            "alice@example.com", key=alice.key, eku=[ExtendedKeyUsageOID.SERVER_AUTH]
        )
        assert _verify(_sign(server), pki).reason == "wrong_key_usage"

    @pytest.mark.parametrize(
        "eku",
        [None, [ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE]],
        ids=["no-eku", "any-eku"],
    )
    def test_eku_absent_or_any(self, pki: TestPKI, alice: Identity, eku) -> None:
        identity = pki.issue("alice@example.com", key=alice.key, eku=eku)
        assert _verify(_sign(identity), pki).valid

    def test_encryption_only_certificate(self, pki: TestPKI, alice: Identity) -> None:
        encryption = pki.issue("alice@example.com", key=alice.key, usage="encryption")
        assert _verify(_sign(encryption), pki).reason == "wrong_key_usage"

    def test_signing_only_certificate(self, pki: TestPKI, alice: Identity) -> None:
        signing = pki.issue("alice@example.com", key=alice.key, usage="signing")
        assert _verify(_sign(signing), pki).valid

    def test_rsa_1024(self, pki: TestPKI) -> None:
        weak = pki.issue("alice@example.com", "rsa1024")
        result = _verify(_sign(weak), pki)
        assert (result.valid, result.reason) == (False, "weak_algorithm")


class TestSender:
    def test_mismatch(self, pki: TestPKI, alice: Identity) -> None:
        signed = _sign(alice, _from("Mallory <mallory@example.com>"))
        result = _verify(signed, pki)
        assert (result.valid, result.reason) == (False, "sender_mismatch")
        assert result.content is None
        assert _verify(signed, pki, check_sender=False).valid

    def test_case_insensitive(self, pki: TestPKI, alice: Identity) -> None:
        assert _verify(_sign(alice, _from("ALICE@Example.COM")), pki).valid

    def test_sender_field(self, pki: TestPKI, alice: Identity) -> None:
        message = _from("Team <team@example.com>").replace(
            b"To:", b"Sender: alice@example.com\r\nTo:"
        )
        assert _verify(_sign(alice, message), pki).valid

    def test_missing_from(self, pki: TestPKI, alice: Identity) -> None:
        message = MESSAGE.replace(b"From: Alice <alice@example.com>\r\n", b"")
        signed = _sign(alice, message)
        assert _verify(signed, pki).reason == "sender_mismatch"
        assert _verify(signed, pki, sender="alice@example.com").valid

    def test_subject_email_address(self, pki: TestPKI, alice: Identity) -> None:
        """RFC 8550 §3: the subject's emailAddress counts like a SAN address."""
        identity = pki.issue("alice@example.com", key=alice.key)  # SAN + emailAddress
        signed = _sign(identity)
        assert _verify(signed, pki).signers[0].email == "alice@example.com"


class TestAlgorithms:
    def test_sha1_is_weak_unless_allowed(
        self, pki: TestPKI, openssl: str, files: dict[str, Path]
    ) -> None:
        signed = _openssl_sign(openssl, files, "-md", "sha1")
        result = _verify(signed, pki)
        assert (result.valid, result.reason) == (False, "weak_algorithm")
        assert result.signers[0].digest == "sha1"
        allowed = _verify(signed, pki, allow_sha1=True)
        assert allowed.valid, allowed.reason

    def test_md5_is_always_weak(self, pki: TestPKI, openssl: str, files: dict[str, Path]) -> None:
        signed = _openssl_sign(openssl, files, "-md", "md5")
        assert _verify(signed, pki, allow_sha1=True).reason == "weak_algorithm"

    def test_unknown_signature_algorithm(self, pki: TestPKI, carol: Identity) -> None:
        content = b"Content-Type: text/plain\r\n\r\nx\r\n"
        attributes = [
            _attribute(ATTR_CONTENT_TYPE, _der.oid(ID_DATA)),
            _attribute(ATTR_MESSAGE_DIGEST, _der.octet_string(_sha256(content))),
        ]
        message = _crafted(
            carol, content, attributes, algorithm=_der.sequence(_der.oid("1.2.3.4"))
        )
        with pytest.raises(UnsupportedAlgorithm, match=r"1\.2\.3\.4"):
            _verify(message, pki)


class TestSeveralSigners:
    def _two(self, openssl: str, files: dict[str, Path], sender: str) -> bytes:
        return run_openssl(
            openssl,
            "cms",
            "-sign",
            "-in",
            files["entity"],
            "-signer",
            files["alice"],
            "-inkey",
            files["alice.key"],
            "-signer",
            files["bob"],
            "-inkey",
            files["bob.key"],
            "-certfile",
            files["chain"],
            "-from",
            sender,
        )

    def test_both_valid(self, pki: TestPKI, openssl: str, files: dict[str, Path]) -> None:
        signed = self._two(openssl, files, "alice@example.com, bob@example.com")
        result = _verify(signed, pki)
        assert result.valid, result.reason
        assert [s.email for s in result.signers] == ["alice@example.com", "bob@example.com"]

    def test_each_signer_must_match_the_sender(
        self, pki: TestPKI, openssl: str, files: dict[str, Path]
    ) -> None:
        result = _verify(self._two(openssl, files, "alice@example.com"), pki)
        assert (result.valid, result.reason) == (False, "sender_mismatch")
        assert [s.valid for s in result.signers] == [True, False]
        assert result.content is None


# -- input that is not S/MIME -----------------------------------------------------------


class TestMalformed:
    def test_truncated_der(self, pki: TestPKI, alice: Identity) -> None:
        signed = _sign(alice, opaque=True)
        der = _opaque_der(signed)
        with pytest.raises(MalformedSmime):
            _verify(_replace_der(signed, der, der[: len(der) // 2]), pki)

    def test_garbage_der(self, pki: TestPKI, alice: Identity) -> None:
        signed = _sign(alice)
        der = find_signed_parts(signed).signature
        with pytest.raises(MalformedSmime):
            _verify(_replace_der(signed, der, b"\x30\x03garbage" * 20), pki)

    def test_bad_base64(self, pki: TestPKI, alice: Identity) -> None:
        signed = _sign(alice, opaque=True)
        with pytest.raises(MalformedSmime, match="base64"):
            _verify(signed.replace(b"MII", b"M!I", 1), pki)

    def test_not_smime(self, pki: TestPKI) -> None:
        with pytest.raises(MalformedSmime, match="text/plain"):
            _verify(MESSAGE, pki)

    def test_not_a_message(self, pki: TestPKI) -> None:
        with pytest.raises(MalformedSmime):
            _verify(b"", pki)
        with pytest.raises(MalformedSmime):
            _verify(b"\x00\xff not a header\r\n\r\nbody", pki)

    def test_missing_closing_boundary(self, pki: TestPKI, alice: Identity) -> None:
        signed = _sign(alice)
        boundary_end = signed.rindex(b"--\r\n")
        with pytest.raises(MalformedSmime, match="closing boundary"):
            _verify(signed[:boundary_end] + b"\r\n", pki)

    def test_other_protocol(self, pki: TestPKI, alice: Identity) -> None:
        signed = _sign(alice).replace(
            b'protocol="application/pkcs7-signature"', b'protocol="application/pgp-signature"'
        )
        with pytest.raises(MalformedSmime, match="pgp"):
            _verify(signed, pki)

    def test_encrypted_message(self, pki: TestPKI, openssl: str, files: dict[str, Path]) -> None:
        encrypted = run_openssl(
            openssl, "cms", "-encrypt", "-aes256", "-in", files["entity"], files["alice"]
        )
        with pytest.raises(MalformedSmime, match="decrypt"):
            _verify(encrypted, pki)

    def test_certs_only(
        self, pki: TestPKI, alice: Identity, openssl: str, files: dict[str, Path]
    ) -> None:
        der = run_openssl(
            openssl, "crl2pkcs7", "-nocrl", "-certfile", files["alice"], "-outform", "DER"
        )
        message = _opaque_message(der, "application/pkcs7-mime; smime-type=certs-only")
        with pytest.raises(MalformedSmime, match="no SignerInfo"):
            _verify(message, pki)

    def test_octet_stream_without_p7m_name(self, pki: TestPKI, alice: Identity) -> None:
        der = _opaque_der(_sign(alice, opaque=True))
        with pytest.raises(MalformedSmime):
            _verify(_opaque_message(der, "application/octet-stream"), pki)

    def test_malformed_is_a_value_error(self) -> None:
        assert issubclass(MalformedSmime, MalformedInput)
        assert issubclass(MalformedSmime, ValueError)


class TestOpaqueFraming:
    @pytest.mark.parametrize(
        "content_type",
        [
            "application/pkcs7-mime; smime-type=signed-data",
            "application/x-pkcs7-mime; smime-type=signed-data",
            "application/pkcs7-mime; smime-type=enveloped-data",  # sniffed, not trusted
            'application/octet-stream; name="smime.p7m"',
        ],
    )
    def test_accepted_types(self, pki: TestPKI, alice: Identity, content_type: str) -> None:
        der = _opaque_der(_sign(alice, opaque=True))
        result = _verify(_opaque_message(der, content_type), pki)
        assert result.valid, result.reason
        assert result.content == split_entity(MESSAGE).inner

    def test_ber_indefinite_length(
        self, pki: TestPKI, openssl: str, files: dict[str, Path]
    ) -> None:
        der = _openssl_sign(openssl, files, "-nodetach", "-stream", "-outform", "DER")
        assert der[1] == 0x80  # indefinite length: BER, not DER
        result = _verify(_opaque_message(der, "application/pkcs7-mime"), pki)
        assert result.valid, result.reason
        assert result.content == ENTITY


@given(data=st.data())
def test_mutated_cms_never_yields_unverified_content(
    pki: TestPKI, alice: Identity, data: st.DataObject
) -> None:
    """Random byte flips and cuts in the CMS: either MalformedSmime /
    UnsupportedAlgorithm, or a result whose content is the signed entity."""
    signed = _signed_once(alice)
    der = _opaque_der(signed)
    mutated = bytearray(der)
    for _ in range(data.draw(st.integers(1, 3))):
        position = data.draw(st.integers(0, len(der) - 1))
        mutated[position] ^= data.draw(st.integers(1, 255))
    if data.draw(st.booleans()):
        mutated = mutated[: data.draw(st.integers(0, len(mutated)))]
    try:
        result = _verify(_replace_der(signed, der, bytes(mutated)), pki)
    except (MalformedSmime, UnsupportedAlgorithm):
        return
    if result.valid:
        assert result.content == split_entity(MESSAGE).inner
    else:
        assert result.content is None
        assert result.reason in REASONS


_SIGNED: dict[bytes, bytes] = {}


def _signed_once(identity: Identity) -> bytes:
    key = identity.certificate.fingerprint(hashes.SHA256())
    if key not in _SIGNED:
        _SIGNED[key] = _sign(identity, opaque=True)
    return _SIGNED[key]


# -- helpers -----------------------------------------------------------------------------


def _opaque_der(signed: bytes) -> bytes:
    return base64.b64decode(signed.split(b"\r\n\r\n", 1)[1])


def _replace_der(signed: bytes, der: bytes, new: bytes) -> bytes:
    old = base64_lines(der)
    assert old in signed
    return signed.replace(old, base64_lines(new))


def _opaque_message(der: bytes, content_type: str) -> bytes:
    return (
        b"From: alice@example.com\r\nMIME-Version: 1.0\r\n"
        + f"Content-Type: {content_type}\r\n".encode()
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64_lines(der)
    )


def _sha256(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA256())
    digest.update(data)
    return digest.finalize()


def _attribute(oid: str, *values: bytes) -> bytes:
    return _der.sequence(_der.oid(oid), _der.set_of(*values))


def _crafted(
    identity: Identity,
    content: bytes,
    attributes: list[bytes],
    *,
    key: ec.EllipticCurvePrivateKey | None = None,
    algorithm: bytes | None = None,
) -> bytes:
    """A multipart/signed message whose one SignerInfo (ECDSA P-256,
    SHA-256) has exactly ``attributes``."""
    signing_key = key or identity.key
    assert isinstance(signing_key, ec.EllipticCurvePrivateKey)
    signed_attributes = _der.set_of(*attributes)
    signature = signing_key.sign(signed_attributes, ec.ECDSA(hashes.SHA256()))
    tbs = asn1_x509.Certificate.load(identity.certificate.public_bytes(Encoding.DER))[
        "tbs_certificate"
    ]
    signer_info = _der.sequence(
        _der.integer(1),
        _der.sequence(tbs["issuer"].dump() + tbs["serial_number"].dump()),
        digest_algorithm("sha256"),
        b"\xa0" + signed_attributes[1:],
        algorithm or signature_algorithm("ecdsa", "sha256"),
        _der.octet_string(signature),
    )
    certificates = [c.public_bytes(Encoding.DER) for c in (identity.certificate, *identity.chain)]
    signed_data = _der.sequence(
        _der.integer(1),
        _der.set_of(digest_algorithm("sha256")),
        _der.sequence(_der.oid(ID_DATA)),
        _der.context(0, b"".join(sorted(certificates))),
        _der.set_of(signer_info),
    )
    der = _der.sequence(_der.oid(ID_SIGNED_DATA), _der.context(0, signed_data))
    return (
        b"From: carol@example.com\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
        b'micalg=sha-256; boundary="b"\r\n\r\n--b\r\n'
        + content
        + b"\r\n--b\r\nContent-Type: application/pkcs7-signature\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64_lines(der) + b"--b--\r\n"
    )
