"""Signing (RFC 8551 §3.5): structure of what mailcore writes, round trips
through mailcore's verifier, and refusals.

The CMS is read back with asn1crypto here, independently of mailcore's own
parser; interoperability with OpenSSL is in test_sign_interop.py.
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any, TypedDict, Unpack

import pytest
from asn1crypto import cms  # type: ignore[import-untyped]  # no stubs
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given
from hypothesis import strategies as st

from mailcore._message import MessageInput
from mailcore.errors import KeyLoadError, UnsupportedAlgorithm
from mailcore.smime._algorithms import (
    MAILCORE_CAPABILITIES,
    decode_capabilities,
    encode_capabilities,
)
from mailcore.smime._mime import find_signed_parts, make_seven_bit, split_entity
from mailcore.smime._signed import sign_message, signed_data
from mailcore.smime._verify import verify_message
from mailcore.smime.pki import Identity, KeyType, TestPKI

MESSAGE = (
    b"From: Alice <alice@example.com>\r\n"
    b"To: bob@example.com\r\n"
    b"Subject: Quarterly figures\r\n"
    b"X-Folded: one\r\n two\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Hello Bob,\r\nthe figures are attached.\r\n"
)
OUTER = MESSAGE.split(b"MIME-Version")[0]
_DER = Encoding.DER

KINDS: list[KeyType] = ["rsa2048", "p256", "p384", "p521", "ed25519"]
DIGESTS = ["sha256", "sha384", "sha512"]
MICALG = {"sha256": "sha-256", "sha384": "sha-384", "sha512": "sha-512"}


@pytest.fixture(scope="session")
def signers(pki: TestPKI, alice: Identity) -> dict[str, Identity]:
    """One alice@example.com identity per key type (RSA reuses alice's key)."""
    made = {"rsa2048": alice}
    for kind in KINDS[1:]:
        made[kind] = pki.issue("alice@example.com", kind)
    return made


class _SignOptions(TypedDict, total=False):
    """The keyword options of sign_message that the tests pass through _sign."""

    opaque: bool
    digest: str
    pss: bool
    encryption_certificate: x509.Certificate | None
    signing_time: datetime | None


def _sign(
    identity: Identity, message: MessageInput = MESSAGE, **options: Unpack[_SignOptions]
) -> bytes:
    return sign_message(
        message,
        identity.key,
        identity.certificate,
        chain=identity.chain,
        **options,
    )


def _cms(signed: bytes) -> cms.ContentInfo:
    """The CMS of a signed message, read by asn1crypto."""
    if b"multipart/signed" in signed.split(b"\r\n\r\n")[0]:
        return cms.ContentInfo.load(find_signed_parts(signed).signature)
    body = signed.split(b"\r\n\r\n", 1)[1]
    return cms.ContentInfo.load(base64.b64decode(body))


def _attributes(info: cms.ContentInfo) -> dict[str, Any]:
    signer = info["content"]["signer_infos"][0]
    return {a["type"].native: a["values"] for a in signer["signed_attrs"]}


class TestRoundTrip:
    @pytest.mark.parametrize("opaque", [False, True], ids=["detached", "opaque"])
    @pytest.mark.parametrize("digest", DIGESTS)
    @pytest.mark.parametrize("kind", KINDS)
    def test_every_key_type_and_digest(
        self, pki: TestPKI, signers: dict[str, Identity], kind: str, digest: str, opaque: bool
    ) -> None:
        signed = _sign(signers[kind], digest=digest, opaque=opaque)
        result = verify_message(signed, trust=[pki.root.certificate])
        assert result.valid, result.reason
        (report,) = result.signers
        expected_digest = "sha512" if kind == "ed25519" else digest
        assert report.digest == expected_digest
        scheme = {"rsa2048": "rsa-pkcs1v15", "ed25519": "ed25519"}.get(kind, "ecdsa")
        assert report.signature == scheme
        assert result.content == make_seven_bit(split_entity(MESSAGE).inner)
        if not opaque:
            assert f"micalg={MICALG[expected_digest]};".encode() in signed

    @pytest.mark.parametrize("opaque", [False, True], ids=["detached", "opaque"])
    @pytest.mark.parametrize("digest", DIGESTS)
    def test_rsa_pss(self, pki: TestPKI, alice: Identity, digest: str, opaque: bool) -> None:
        signed = _sign(alice, digest=digest, pss=True, opaque=opaque)
        result = verify_message(signed, trust=[pki.root.certificate])
        assert result.valid, result.reason
        assert result.signers[0].signature == "rsa-pss"
        assert result.signers[0].digest == digest

    def test_email_message_input(self, pki: TestPKI, signers: dict[str, Identity]) -> None:
        message = EmailMessage()
        message["From"] = "alice@example.com"
        message["To"] = "bob@example.com"
        message["Subject"] = "From an EmailMessage"
        message.set_content("Grüße aus der Python-Welt\n")
        signed = _sign(signers["p256"], message)
        result = verify_message(signed, trust=[pki.root.certificate])
        assert result.valid, result.reason
        assert b"Subject: From an EmailMessage\r\n" in signed

    def test_lf_message_gives_crlf_output(
        self, pki: TestPKI, signers: dict[str, Identity]
    ) -> None:
        signed = _sign(signers["p256"], MESSAGE.replace(b"\r\n", b"\n"))
        assert b"\n" not in signed.replace(b"\r\n", b"")
        assert verify_message(signed, trust=[pki.root.certificate]).valid

    def test_multipart_entity_is_signed_as_is(
        self, pki: TestPKI, signers: dict[str, Identity]
    ) -> None:
        message = (
            b"From: alice@example.com\r\nMIME-Version: 1.0\r\n"
            b'Content-Type: multipart/mixed; boundary="xyz"\r\n\r\n'
            b"--xyz\r\nContent-Type: text/plain\r\n\r\nText\r\n"
            b"--xyz\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\nAAECAw==\r\n--xyz--\r\n"
        )
        signed = _sign(signers["p256"], message)
        assert find_signed_parts(signed).signed == split_entity(message).inner
        assert verify_message(signed, trust=[pki.root.certificate]).valid


@given(
    body=st.binary(max_size=400),
    kind=st.sampled_from(["text/plain; charset=utf-8", "application/octet-stream"]),
    linesep=st.sampled_from([b"\r\n", b"\n"]),
    opaque=st.booleans(),
)
@pytest.mark.slow
def test_any_content_round_trips(
    pki: TestPKI,
    signers: dict[str, Identity],
    body: bytes,
    kind: str,
    linesep: bytes,
    opaque: bool,
) -> None:
    """Arbitrary bytes (8-bit, NUL, bare CR, long lines) are made 7-bit safe
    and still verify; the verified content is exactly what was signed."""
    message = linesep.join(
        [b"From: alice@example.com", b"Subject: fuzz", b"Content-Type: " + kind.encode(), b""]
    )
    message += linesep + body
    signed = _sign(signers["p256"], message, opaque=opaque)
    result = verify_message(signed, trust=[pki.root.certificate])
    assert result.valid, result.reason
    expected = make_seven_bit(split_entity(message).inner)
    assert result.content == expected
    if not opaque:
        assert find_signed_parts(signed).signed == expected
        if b"\r\n\r\n" in expected:
            assert expected.split(b"\r\n\r\n", 1)[1].isascii()


class TestStructure:
    def test_outer_fields_stay_outside_and_unchanged(self, signers: dict[str, Identity]) -> None:
        signed = _sign(signers["p256"])
        head, _, _ = signed.partition(b"\r\n\r\n")
        assert signed.startswith(OUTER)
        content_type = re.search(rb"Content-Type: (.*)", head)
        assert content_type is not None
        value = content_type.group(1)
        assert value.startswith(b"multipart/signed;")
        assert b'protocol="application/pkcs7-signature"' in value
        assert b"micalg=sha-256" in value
        signed_part = find_signed_parts(signed).signed
        assert b"Subject:" not in signed_part
        assert signed_part.startswith(b"Content-Type: text/plain; charset=utf-8\r\n")

    def test_opaque_framing(self, signers: dict[str, Identity]) -> None:
        signed = _sign(signers["p256"], opaque=True)
        head = signed.partition(b"\r\n\r\n")[0]
        assert signed.startswith(OUTER)
        assert (
            b'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"'
            in head
        )
        info = _cms(signed)
        content = info["content"]["encap_content_info"]["content"].native
        assert content == split_entity(MESSAGE).inner

    def test_detached_has_no_econtent(self, signers: dict[str, Identity]) -> None:
        info = _cms(_sign(signers["p256"]))
        assert info["content_type"].native == "signed_data"
        assert info["content"]["encap_content_info"]["content"].native is None

    def test_signed_attributes(self, signers: dict[str, Identity]) -> None:
        moment = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
        info = _cms(_sign(signers["p256"], signing_time=moment))
        attributes = _attributes(info)
        assert attributes["content_type"][0].native == "data"
        assert attributes["signing_time"][0].native == moment
        assert len(attributes["message_digest"][0].native) == 32
        assert "encrypt_key_pref" not in attributes
        capabilities = attributes["smime_capabilities"][0].dump()
        assert decode_capabilities(capabilities) == MAILCORE_CAPABILITIES
        names = [c.name for c in decode_capabilities(capabilities)]
        assert names == ["aes-256-gcm", "aes-128-gcm", "aes-256-cbc", "aes-128-cbc", "rsaes-oaep"]

    def test_certificates_included(self, signers: dict[str, Identity]) -> None:
        identity = signers["p256"]
        info = _cms(_sign(identity))
        included = {c.chosen.dump() for c in info["content"]["certificates"]}
        expected = {c.public_bytes(_DER) for c in (identity.certificate, *identity.chain)}
        assert included == expected

    def test_encryption_key_preference(self, pki: TestPKI, signers: dict[str, Identity]) -> None:
        identity = signers["p256"]
        encryption = pki.issue("alice@example.com", "p256", usage="encryption")
        signed = _sign(identity, encryption_certificate=encryption.certificate)
        attributes = _attributes(_cms(signed))
        preference = attributes["encrypt_key_pref"][0]
        assert preference.name == "issuer_and_serial_number"
        assert preference.chosen["serial_number"].native == encryption.certificate.serial_number
        included = {c.chosen.dump() for c in _cms(signed)["content"]["certificates"]}
        assert encryption.certificate.public_bytes(_DER) in included
        result = verify_message(signed, trust=[pki.root.certificate])
        assert result.valid
        assert result.signers[0].encryption_certificate == encryption.certificate

    def test_no_key_preference_for_the_signing_certificate(
        self, signers: dict[str, Identity]
    ) -> None:
        identity = signers["p256"]
        signed = _sign(identity, encryption_certificate=identity.certificate)
        assert "encrypt_key_pref" not in _attributes(_cms(signed))

    def test_pss_parameters(self, alice: Identity) -> None:
        info = _cms(_sign(alice, digest="sha384", pss=True))
        algorithm = info["content"]["signer_infos"][0]["signature_algorithm"]
        assert algorithm["algorithm"].native == "rsassa_pss"
        params = algorithm["parameters"].native
        assert params["hash_algorithm"]["algorithm"] == "sha384"
        assert params["mask_gen_algorithm"]["algorithm"] == "mgf1"
        assert params["mask_gen_algorithm"]["parameters"]["algorithm"] == "sha384"
        assert params["salt_length"] == 48

    @pytest.mark.parametrize(
        ("kind", "digest", "algorithm"),
        [
            ("rsa2048", "sha256", "rsassa_pkcs1v15"),
            ("p384", "sha384", "sha384_ecdsa"),
            ("ed25519", "sha256", "ed25519"),
        ],
    )
    def test_signature_algorithm(
        self, signers: dict[str, Identity], kind: str, digest: str, algorithm: str
    ) -> None:
        info = _cms(_sign(signers[kind], digest=digest))
        signer = info["content"]["signer_infos"][0]
        assert signer["signature_algorithm"]["algorithm"].native == algorithm
        expected_digest = "sha512" if kind == "ed25519" else digest
        assert signer["digest_algorithm"]["algorithm"].native == expected_digest

    def test_signed_data_for_callers_framing_their_own_mime(
        self, signers: dict[str, Identity]
    ) -> None:
        identity = signers["p256"]
        der = signed_data(b"content", identity.key, identity.certificate, detached=False)
        info = cms.ContentInfo.load(der)
        assert info["content"]["encap_content_info"]["content"].native == b"content"

    def test_capabilities_encoding_is_a_sequence_in_preference_order(self) -> None:
        der = encode_capabilities()
        assert der[0] == 0x30
        assert decode_capabilities(der) == MAILCORE_CAPABILITIES


class TestRefusals:
    def test_key_that_cannot_sign(self, signers: dict[str, Identity]) -> None:
        with pytest.raises(UnsupportedAlgorithm, match="X25519"):
            sign_message(MESSAGE, x25519.X25519PrivateKey.generate(), signers["p256"].certificate)

    def test_key_not_matching_certificate(self, signers: dict[str, Identity]) -> None:
        other = ec.generate_private_key(ec.SECP256R1())
        with pytest.raises(KeyLoadError, match="does not belong"):
            sign_message(MESSAGE, other, signers["p256"].certificate)

    def test_a_key_that_matched_one_certificate_is_checked_against_the_next(
        self, signers: dict[str, Identity]
    ) -> None:
        # A matching pair is remembered; the same key with another
        # certificate must still be refused, every time.
        own = signers["p256"]
        sign_message(MESSAGE, own.key, own.certificate)
        for _ in range(2):
            with pytest.raises(KeyLoadError, match="does not belong"):
                sign_message(MESSAGE, own.key, signers["rsa2048"].certificate)
        sign_message(MESSAGE, own.key, own.certificate)

    @pytest.mark.parametrize("digest", ["md5", "sha1", "sha224", "SHA256"])
    def test_unknown_or_weak_digest(self, signers: dict[str, Identity], digest: str) -> None:
        identity = signers["p256"]
        with pytest.raises(ValueError, match="digest must be one of"):
            sign_message(MESSAGE, identity.key, identity.certificate, digest=digest)

    def test_pss_needs_rsa(self, signers: dict[str, Identity]) -> None:
        identity = signers["p256"]
        with pytest.raises(ValueError, match="RSA"):
            sign_message(MESSAGE, identity.key, identity.certificate, pss=True)
