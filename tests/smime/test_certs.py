"""Classifying and choosing certificates (mailcore.smime._certs), and the
``vectors/smime`` suites."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, rsa, x448
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from mailcore._vectors import VectorCase, load_suites
from mailcore.errors import KeyLoadError
from mailcore.smime._certs import (
    CertificateInfo,
    PurposeSplit,
    can_encrypt,
    can_sign,
    certificate_key,
    choose_certificate,
    describe,
    format_name,
    iso_z,
    key_type_of,
    rejection_reason,
    split_by_purpose,
)
from mailcore.smime._conformance import run_smime_case
from mailcore.smime._keys import load_certificates
from mailcore.smime.pki import Identity, KeyType, PrivateKey, TestPKI, Usage, new_key
from tests.smime.conftest import run_openssl
from tests.utils import dsa_private_key

EMAIL = ExtendedKeyUsageOID.EMAIL_PROTECTION
BOTH = frozenset({"signing", "encryption"})
SIGN = frozenset({"signing"})
ENCRYPT = frozenset({"encryption"})
NONE: frozenset[str] = frozenset()
VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "smime"


def _key_usage(**bits: bool) -> x509.KeyUsage:
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{name: bits.get(name, False) for name in names})


def make_certificate(
    pki: TestPKI,
    key: PrivateKey | ed448.Ed448PrivateKey | x448.X448PrivateKey,
    *,
    key_usage: x509.KeyUsage | None = None,
    eku: Sequence[x509.ObjectIdentifier] | None = (EMAIL,),
    san: Sequence[x509.GeneralName] = (x509.RFC822Name("zed@example.com"),),
    subject: x509.Name | None = None,
    ca: bool | None = False,
    extra: Sequence[x509.ExtensionType] = (),
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    serial: int | None = None,
) -> x509.Certificate:
    """A certificate with exactly the extensions asked for (TestPKI.issue
    always adds KeyUsage), signed by the test issuing CA."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "zed")]))
        .issuer_name(pki.issuing.certificate.subject)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before or pki.now - timedelta(days=1))
        .not_valid_after(not_after or pki.now + timedelta(days=365))
    )
    if ca is not None:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), True)
    if key_usage is not None:
        builder = builder.add_extension(key_usage, critical=True)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(san)), critical=False)
    for extension in extra:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(pki.issuing.key, hashes.SHA256())  # type: ignore[arg-type]


# -- describe -------------------------------------------------------------------------


class TestDescribe:
    def test_fields(self, pki: TestPKI, alice: Identity) -> None:
        info = describe(alice.certificate)
        der = alice.certificate.public_bytes(serialization.Encoding.DER)
        assert info.subject == "emailAddress=alice@example.com,CN=alice"
        assert info.issuer == "CN=mailcore Test Issuing CA"
        assert info.emails == ("alice@example.com",)
        assert info.serial == f"0x{alice.certificate.serial_number:x}"
        assert re.fullmatch(r"0x[0-9a-f]+", info.serial)
        assert info.sha256 == hashlib.sha256(der).hexdigest()
        assert info.not_before == pki.now - timedelta(days=30)
        assert info.not_after == pki.now + timedelta(days=730)
        assert info.not_after.tzinfo is not None
        assert (info.key_type, info.key_bits, info.curve) == ("rsa", 2048, None)
        assert info.is_ca is False
        assert info.purposes == BOTH
        assert info.can_sign and info.can_encrypt

    def test_sha256_matches_openssl(self, openssl: str, alice: Identity) -> None:
        output = run_openssl(
            openssl, "x509", "-noout", "-fingerprint", "-sha256", data=alice.certificate_pem()
        )
        fingerprint = output.decode().split("=", 1)[1].strip().replace(":", "").lower()
        assert describe(alice.certificate).sha256 == fingerprint

    def test_to_dict_is_json_c(self, pki: TestPKI) -> None:
        identity = pki.issue(
            "x@example.com", not_after=datetime(2031, 1, 1, tzinfo=UTC), common_name="x"
        )
        result = describe(identity.certificate).to_dict()
        assert list(result) == ["subject", "serial", "not_after", "sha256"]
        assert result["not_after"] == "2031-01-01T00:00:00Z"
        assert result["subject"] == "emailAddress=x@example.com,CN=x"
        assert json.loads(json.dumps(result)) == result

    def test_frozen(self, alice: Identity) -> None:
        info = describe(alice.certificate)
        with pytest.raises(AttributeError):
            info.subject = "CN=mallory"  # type: ignore[misc]
        assert isinstance(info, CertificateInfo)
        assert hash(info) == hash(describe(alice.certificate))

    @pytest.mark.parametrize(
        ("kind", "key_type", "bits", "curve"),
        [
            ("rsa2048", "rsa", 2048, None),
            ("rsa3072", "rsa", 3072, None),
            ("p256", "ec", 256, "secp256r1"),
            ("p384", "ec", 384, "secp384r1"),
            ("p521", "ec", 521, "secp521r1"),
            ("ed25519", "ed25519", 256, None),
            ("x25519", "x25519", 256, None),
        ],
    )
    def test_key_facts(
        self, pki: TestPKI, kind: KeyType, key_type: str, bits: int, curve: str | None
    ) -> None:
        info = describe(pki.issue(f"{kind}@example.com", kind).certificate)
        assert (info.key_type, info.key_bits, info.curve) == (key_type, bits, curve)

    def test_448_curves(self, pki: TestPKI) -> None:
        ed = describe(make_certificate(pki, ed448.Ed448PrivateKey.generate()))
        x = describe(make_certificate(pki, x448.X448PrivateKey.generate()))
        assert (ed.key_type, ed.key_bits, ed.purposes) == ("ed448", 456, SIGN)
        assert (x.key_type, x.key_bits, x.purposes) == ("x448", 448, ENCRYPT)


class TestEmails:
    def test_san_and_subject_lowercased_without_repeats(self, pki: TestPKI) -> None:
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, "Alice"),
                x509.NameAttribute(NameOID.EMAIL_ADDRESS, "Alice@Example.COM"),
                x509.NameAttribute(NameOID.EMAIL_ADDRESS, "old@example.com"),
            ]
        )
        san = [
            x509.RFC822Name("ALICE@example.com"),
            x509.DNSName("example.com"),
            x509.RFC822Name("alias@example.com"),
        ]
        certificate = make_certificate(pki, new_key("p256"), subject=subject, san=san)
        assert describe(certificate).emails == (
            "alice@example.com",
            "alias@example.com",
            "old@example.com",
        )

    def test_smtp_utf8_mailbox(self, pki: TestPKI) -> None:
        # RFC 8398 §3: otherName id-on-SmtpUTF8Mailbox, a UTF8String.
        value = "jörg@example.com".encode()
        other = x509.OtherName(
            x509.ObjectIdentifier("1.3.6.1.5.5.7.8.9"), b"\x0c" + bytes([len(value)]) + value
        )
        certificate = make_certificate(pki, new_key("p256"), san=[other])
        assert describe(certificate).emails == ("jörg@example.com",)

    def test_unreadable_other_name_is_skipped(self, pki: TestPKI) -> None:
        other = x509.OtherName(x509.ObjectIdentifier("1.3.6.1.5.5.7.8.9"), b"\x02\x01\x05")
        certificate = make_certificate(pki, new_key("p256"), san=[other])
        assert describe(certificate).emails == ()

    def test_no_addresses(self, pki: TestPKI) -> None:
        assert describe(make_certificate(pki, new_key("p256"), san=())).emails == ()


class TestFormatting:
    def test_format_name_rfc4514(self) -> None:
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "AU"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example, Inc."),
                x509.NameAttribute(NameOID.COMMON_NAME, "Ann"),
                x509.NameAttribute(NameOID.EMAIL_ADDRESS, "ann@example.com"),
            ]
        )
        assert format_name(name) == "emailAddress=ann@example.com,CN=Ann,O=Example\\, Inc.,C=AU"

    def test_iso_z(self) -> None:
        moment = datetime(2031, 1, 1, 10, 0, 0, 123456, tzinfo=UTC)
        assert iso_z(moment) == "2031-01-01T10:00:00Z"
        plus_two = moment.astimezone(timezone(timedelta(hours=2)))
        assert iso_z(plus_two) == "2031-01-01T10:00:00Z"

    def test_negative_serial(self, pki: TestPKI) -> None:
        certificate = make_certificate(pki, new_key("p256"), serial=0x1234)
        der = bytearray(certificate.public_bytes(serialization.Encoding.DER))
        # The serial INTEGER follows the version [0]: a0 03 02 01 02 | 02 02 12 34
        position = der.index(b"\xa0\x03\x02\x01\x02\x02\x02\x12\x34") + 7
        der[position] = 0x92  # now -0x6dcc
        # cryptography warns on reading it; load_certificates expects such
        # certificates (old CAs made them) and reads them quietly.
        [certificate] = load_certificates(bytes(der))
        assert describe(certificate).serial == "-0x6dcc"

    def test_key_type_of(self) -> None:
        assert key_type_of(rsa.generate_private_key(65537, 2048)) == "rsa"
        assert key_type_of(ec.generate_private_key(ec.SECP256R1()).public_key()) == "ec"
        assert key_type_of(object()) == "unknown"


# -- purposes --------------------------------------------------------------------------

ISSUED: list[tuple[str, KeyType, Usage, frozenset[str]]] = [
    ("rsa-dual", "rsa2048", "dual", BOTH),
    ("rsa-signing", "rsa2048", "signing", SIGN),
    ("rsa-encryption", "rsa2048", "encryption", ENCRYPT),
    ("p256-dual", "p256", "dual", BOTH),
    ("p256-signing", "p256", "signing", SIGN),
    ("p256-encryption", "p256", "encryption", ENCRYPT),
    ("p384-dual", "p384", "dual", BOTH),
    ("ed25519-dual", "ed25519", "dual", SIGN),  # Ed25519 cannot encrypt
    ("ed25519-signing", "ed25519", "signing", SIGN),
    ("x25519-dual", "x25519", "dual", ENCRYPT),  # X25519 cannot sign
    ("x25519-encryption", "x25519", "encryption", ENCRYPT),
]


class TestPurposes:
    @pytest.mark.parametrize(
        ("kind", "usage", "expected"),
        [case[1:] for case in ISSUED],
        ids=[case[0] for case in ISSUED],
    )
    def test_issued(
        self, pki: TestPKI, kind: KeyType, usage: Usage, expected: frozenset[str]
    ) -> None:
        certificate = pki.issue(f"{kind}@example.com", kind, usage=usage).certificate
        assert describe(certificate).purposes == expected
        assert can_sign(certificate) == ("signing" in expected)
        assert can_encrypt(certificate) == ("encryption" in expected)

    @pytest.mark.parametrize(
        ("kind", "expected"),
        [("rsa2048", BOTH), ("p256", BOTH), ("ed25519", SIGN), ("x25519", ENCRYPT)],
    )
    def test_no_key_usage_means_by_key_type(
        self, pki: TestPKI, kind: KeyType, expected: frozenset[str]
    ) -> None:
        certificate = make_certificate(pki, new_key(kind), key_usage=None)
        assert describe(certificate).purposes == expected

    @pytest.mark.parametrize("usage", ["dual", "signing", "encryption"])
    def test_no_eku_means_key_usage_decides(self, pki: TestPKI, usage: Usage) -> None:
        certificate = pki.issue("n@example.com", "rsa2048", usage=usage, eku=None).certificate
        expected = {"dual": BOTH, "signing": SIGN, "encryption": ENCRYPT}[usage]
        assert describe(certificate).purposes == expected

    def test_no_key_usage_and_no_eku(self, pki: TestPKI) -> None:
        certificate = make_certificate(pki, new_key("rsa2048"), key_usage=None, eku=None)
        assert describe(certificate).purposes == BOTH

    @pytest.mark.parametrize(
        "eku",
        [
            [ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE],
            [ExtendedKeyUsageOID.CLIENT_AUTH, EMAIL],
        ],
        ids=["any", "client-and-email"],
    )
    def test_eku_that_allows_mail(self, pki: TestPKI, eku: list[x509.ObjectIdentifier]) -> None:
        certificate = pki.issue("a@example.com", "rsa2048", usage="signing", eku=eku).certificate
        assert describe(certificate).purposes == SIGN

    @pytest.mark.parametrize(
        "eku",
        [
            [ExtendedKeyUsageOID.SERVER_AUTH],
            [ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.CODE_SIGNING],
            [x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.4")],  # Microsoft EFS
        ],
        ids=["server", "client-code", "efs"],
    )
    def test_eku_without_email_protection(
        self, pki: TestPKI, eku: list[x509.ObjectIdentifier]
    ) -> None:
        certificate = pki.issue("a@example.com", "rsa2048", eku=eku).certificate
        assert describe(certificate).purposes == NONE
        assert not can_sign(certificate) and not can_encrypt(certificate)

    @pytest.mark.parametrize(
        ("kind", "bits", "expected"),
        [
            ("rsa2048", {"digital_signature": True}, SIGN),
            ("rsa2048", {"content_commitment": True}, SIGN),  # nonRepudiation alone
            ("rsa2048", {"key_encipherment": True}, ENCRYPT),
            ("rsa2048", {"data_encipherment": True}, NONE),  # not key transport
            ("rsa2048", {"key_agreement": True}, NONE),  # RSA does not agree keys
            ("p256", {"key_agreement": True}, ENCRYPT),
            ("p256", {"key_encipherment": True}, NONE),  # EC does not transport keys
            ("p256", {"digital_signature": True, "key_agreement": True}, BOTH),
            ("ed25519", {"digital_signature": True, "key_agreement": True}, SIGN),
            ("x25519", {"digital_signature": True, "key_agreement": True}, ENCRYPT),
            ("rsa2048", {"key_cert_sign": True, "crl_sign": True}, NONE),
        ],
    )
    def test_key_usage_bits(
        self, pki: TestPKI, kind: KeyType, bits: dict[str, bool], expected: frozenset[str]
    ) -> None:
        certificate = make_certificate(pki, new_key(kind), key_usage=_key_usage(**bits))
        assert describe(certificate).purposes == expected

    def test_ca_certificates_have_no_purpose(self, pki: TestPKI) -> None:
        for certificate in (pki.root.certificate, pki.issuing.certificate):
            info = describe(certificate)
            assert info.is_ca and info.purposes == NONE
        # Even with mail usages: a CA does not sign or receive mail.
        ca = make_certificate(
            pki,
            new_key("rsa2048"),
            ca=True,
            key_usage=_key_usage(digital_signature=True, key_encipherment=True),
        )
        assert describe(ca).purposes == NONE

    def test_no_basic_constraints(self, pki: TestPKI) -> None:
        certificate = make_certificate(pki, new_key("p256"), ca=None)
        assert describe(certificate).purposes == BOTH

    def test_unusable_key_types_have_no_purpose(self, pki: TestPKI) -> None:
        # Described without naming DSA's deprecated classes: this runs under
        # filterwarnings=error, so a warning from cryptography fails it.
        certificate = make_certificate(pki, dsa_private_key(2048))
        info = describe(certificate)
        assert (info.key_type, info.key_bits, info.purposes) == ("dsa", 2048, NONE)


class TestMalformedExtensions:
    @pytest.fixture
    def broken(self, pki: TestPKI) -> x509.Certificate:
        bad_key_usage = x509.UnrecognizedExtension(ExtensionOID.KEY_USAGE, b"\x05\x00")
        return make_certificate(pki, new_key("p256"), extra=[bad_key_usage])

    def test_x400_address_in_subject_alt_name(self, pki: TestPKI) -> None:
        # SEQUENCE { [3] x400Address }: cryptography cannot read the name
        # type and raises its own exception type.
        san = x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"0\x02\xa3\x00")
        certificate = make_certificate(pki, new_key("p256"), san=(), extra=[san])
        with pytest.raises(KeyLoadError):
            describe(certificate)

    def test_describe_raises_key_load_error(self, broken: x509.Certificate) -> None:
        with pytest.raises(KeyLoadError, match="extensions do not parse"):
            describe(broken)

    def test_helpers_treat_it_as_unusable(self, pki: TestPKI, broken: x509.Certificate) -> None:
        assert not can_sign(broken) and not can_encrypt(broken)
        assert rejection_reason(broken, "signing", at=pki.now) == "malformed"
        assert choose_certificate([broken], "signing", at=pki.now) is None
        assert split_by_purpose([broken]) == PurposeSplit((), (), ())


# -- choosing --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def carol_certificates(pki: TestPKI) -> dict[str, x509.Certificate]:
    """Carol's certificates over the years, and some that are not hers."""
    now = pki.now

    def issue(email: str, **kw: object) -> x509.Certificate:
        return pki.issue(email, "p256", **kw).certificate  # type: ignore[arg-type]

    return {
        "expired": issue(
            "carol@example.com",
            not_before=now - timedelta(days=800),
            not_after=now - timedelta(days=1),
        ),
        "current": issue(
            "carol@example.com",
            not_before=now - timedelta(days=100),
            not_after=now + timedelta(days=300),
        ),
        "newer": issue(
            "carol@example.com",
            not_before=now - timedelta(days=10),
            not_after=now + timedelta(days=600),
        ),
        "future": issue(
            "carol@example.com",
            not_before=now + timedelta(days=10),
            not_after=now + timedelta(days=2000),
        ),
        "signing-only": issue(
            "carol@example.com", usage="signing", not_after=now + timedelta(days=1000)
        ),
        "wrong-eku": issue(
            "carol@example.com",
            eku=[ExtendedKeyUsageOID.SERVER_AUTH],
            not_after=now + timedelta(days=1500),
        ),
        "other-person": issue("dan@example.com", not_after=now + timedelta(days=1800)),
    }


class TestChooseCertificate:
    def test_encryption(
        self, pki: TestPKI, carol_certificates: dict[str, x509.Certificate]
    ) -> None:
        chosen = choose_certificate(
            carol_certificates.values(), "encryption", email="carol@example.com", at=pki.now
        )
        assert chosen == carol_certificates["newer"]

    def test_signing_prefers_the_longest_lived(
        self, pki: TestPKI, carol_certificates: dict[str, x509.Certificate]
    ) -> None:
        chosen = choose_certificate(
            carol_certificates.values(), "signing", email="carol@example.com", at=pki.now
        )
        assert chosen == carol_certificates["signing-only"]

    def test_order_does_not_matter(
        self, pki: TestPKI, carol_certificates: dict[str, x509.Certificate]
    ) -> None:
        certificates = list(carol_certificates.values())
        for shift in range(len(certificates)):
            rotated = certificates[shift:] + certificates[:shift]
            for order in (rotated, rotated[::-1]):
                chosen = choose_certificate(
                    order, "encryption", email="carol@example.com", at=pki.now
                )
                assert chosen == carol_certificates["newer"]

    def test_email_is_case_insensitive(
        self, pki: TestPKI, carol_certificates: dict[str, x509.Certificate]
    ) -> None:
        chosen = choose_certificate(
            carol_certificates.values(), "encryption", email=" Carol@EXAMPLE.com ", at=pki.now
        )
        assert chosen == carol_certificates["newer"]

    def test_without_email_any_address(
        self, pki: TestPKI, carol_certificates: dict[str, x509.Certificate]
    ) -> None:
        chosen = choose_certificate(carol_certificates.values(), "encryption", at=pki.now)
        assert chosen == carol_certificates["other-person"]

    def test_later_time(
        self, pki: TestPKI, carol_certificates: dict[str, x509.Certificate]
    ) -> None:
        later = pki.now + timedelta(days=700)
        chosen = choose_certificate(
            carol_certificates.values(), "encryption", email="carol@example.com", at=later
        )
        assert chosen == carol_certificates["future"]

    def test_nothing_suitable(
        self, pki: TestPKI, carol_certificates: dict[str, x509.Certificate]
    ) -> None:
        certificates = [carol_certificates[k] for k in ("expired", "future", "wrong-eku")]
        assert choose_certificate(certificates, "encryption", at=pki.now) is None
        assert choose_certificate([], "signing") is None
        assert (
            choose_certificate(
                carol_certificates.values(), "encryption", email="eve@example.com", at=pki.now
            )
            is None
        )

    def test_ties_prefer_a_dedicated_certificate(self, pki: TestPKI) -> None:
        start, end = pki.now - timedelta(days=5), pki.now + timedelta(days=50)
        key = new_key("rsa2048")
        dual = pki.issue("t@example.com", usage="dual", not_before=start, not_after=end, key=key)
        only = pki.issue(
            "t@example.com", usage="encryption", not_before=start, not_after=end, key=key
        )
        for order in ([dual, only], [only, dual]):
            chosen = choose_certificate([i.certificate for i in order], "encryption", at=pki.now)
            assert chosen == only.certificate

    def test_full_ties_are_broken_by_fingerprint(self, pki: TestPKI) -> None:
        start, end = pki.now - timedelta(days=5), pki.now + timedelta(days=50)
        twins = [
            pki.issue("t@example.com", "p256", not_before=start, not_after=end).certificate
            for _ in range(3)
        ]
        lowest = min(twins, key=lambda c: describe(c).sha256)
        for order in itertools.permutations(twins):
            assert choose_certificate(order, "signing", at=pki.now) == lowest

    def test_validity_ends_are_inclusive(self, pki: TestPKI) -> None:
        start, end = pki.now - timedelta(days=5), pki.now + timedelta(days=50)
        certificate = pki.issue("t@example.com", not_before=start, not_after=end).certificate
        assert choose_certificate([certificate], "signing", at=start) == certificate
        assert choose_certificate([certificate], "signing", at=end) == certificate
        assert choose_certificate([certificate], "signing", at=end + timedelta(seconds=1)) is None
        assert describe(certificate).valid_at(end)

    def test_default_time_is_now(self, alice: Identity) -> None:
        assert choose_certificate([alice.certificate], "signing") == alice.certificate

    def test_naive_time_refused(self, alice: Identity) -> None:
        with pytest.raises(TypeError, match="timezone-aware"):
            choose_certificate([alice.certificate], "signing", at=datetime(2026, 1, 1))

    def test_unknown_purpose(self, alice: Identity) -> None:
        with pytest.raises(ValueError, match="purpose"):
            choose_certificate([alice.certificate], "decryption")  # type: ignore[arg-type]


class TestRejectionReason:
    @pytest.mark.parametrize(
        ("name", "purpose", "email", "reason"),
        [
            ("newer", "encryption", "carol@example.com", None),
            ("expired", "encryption", "carol@example.com", "expired"),
            ("future", "signing", None, "not_yet_valid"),
            ("signing-only", "encryption", None, "wrong_key_usage"),
            ("wrong-eku", "signing", None, "wrong_key_usage"),
            ("other-person", "signing", "carol@example.com", "email_mismatch"),
            # The address is checked before the dates.
            ("expired", "signing", "eve@example.com", "email_mismatch"),
        ],
    )
    def test_reasons(
        self,
        pki: TestPKI,
        carol_certificates: dict[str, x509.Certificate],
        name: str,
        purpose: str,
        email: str | None,
        reason: str | None,
    ) -> None:
        certificate = carol_certificates[name]
        got = rejection_reason(certificate, purpose, email=email, at=pki.now)  # type: ignore[arg-type]
        assert got == reason


class TestSplitByPurpose:
    def test_split(self, pki: TestPKI) -> None:
        sign = pki.issue("s@example.com", "ed25519", usage="signing").certificate
        encrypt = pki.issue("s@example.com", "x25519", usage="encryption").certificate
        dual = pki.issue("s@example.com", "p256").certificate
        useless = pki.issue("s@example.com", eku=[ExtendedKeyUsageOID.SERVER_AUTH]).certificate
        split = split_by_purpose([useless, dual, encrypt, sign, pki.root.certificate, dual])
        assert split == PurposeSplit(signing=(sign,), encryption=(encrypt,), dual=(dual,))
        signing, encryption, both = split  # a plain tuple too
        assert (signing, encryption, both) == ((sign,), (encrypt,), (dual,))

    def test_keeps_input_order(self, pki: TestPKI) -> None:
        first = pki.issue("o@example.com", usage="signing").certificate
        second = pki.issue("o@example.com", usage="signing").certificate
        assert split_by_purpose([second, first]).signing == (second, first)

    def test_empty(self) -> None:
        assert split_by_purpose([]) == PurposeSplit((), (), ())


# -- the vectors -------------------------------------------------------------------------

# The certificate and key suites; the message suite (verify, decrypt) has
# its own tests in test_message_vectors.py.
SMIME_CASES = (
    [case for case in load_suites([VECTORS]) if case.kind in ("certificate", "key")]
    if VECTORS.is_dir()
    else []
)


class TestVectors:
    @pytest.mark.parametrize("case", SMIME_CASES, ids=[case.id for case in SMIME_CASES])
    @pytest.mark.slow
    def test_case(self, case: VectorCase) -> None:
        problem = run_smime_case(case)
        assert problem is None, problem

    def test_suites_are_there(self) -> None:
        ids = {case.id for case in SMIME_CASES}
        assert len(ids) == len(SMIME_CASES) > 50
        assert {case.kind for case in SMIME_CASES} == {"certificate", "key"}
        assert any(case.result == "invalid" for case in SMIME_CASES)

    def test_readme_lists_every_file(self) -> None:
        readme = (VECTORS / "README.md").read_text("utf-8")
        listed = set(re.findall(r"^\| `([^`]+)` \|", readme, flags=re.MULTILINE))
        present = {
            path.relative_to(VECTORS).as_posix()
            for path in VECTORS.rglob("*")
            if path.is_file() and "__pycache__" not in path.parts
        }
        assert present == listed
        assert "`mailcore`" in readme  # the password is written down

    def test_every_referenced_file_exists(self) -> None:
        for case in SMIME_CASES:
            assert (case.base / case.input["file"]).is_file(), case.id

    def test_the_runner_notices_a_wrong_expectation(self) -> None:
        [case] = [c for c in SMIME_CASES if c.id == "smime::certificate::dave-ed25519"]
        wrong = dataclasses.replace(case, expected={"purposes": ["encryption"]})
        assert "purposes" in (run_smime_case(wrong) or "")
        refused = next(c for c in SMIME_CASES if c.id == "smime::key::garbage")
        assert run_smime_case(dataclasses.replace(refused, result="valid")) is not None
        unknown = dataclasses.replace(case, id="smime::telepathy::x")
        assert run_smime_case(unknown) == "unknown case kind 'telepathy'"


class TestDeprecatedDsa:
    """cryptography >= 51 warns whenever DSA's classes are named or a DSA key
    is built; mailcore tells DSA apart without either (filterwarnings=error
    turns any such warning into a failure here)."""

    def test_private_key_type_is_named(self) -> None:
        key = dsa_private_key(2048)
        assert key_type_of(key) == "dsa"
        assert key_type_of(key.public_key()) == "dsa"

    def test_certificate_key_is_none_for_dsa(self, pki: TestPKI) -> None:
        certificate = make_certificate(pki, dsa_private_key(2048))
        assert certificate_key(certificate) is None

    def test_certificate_key_of_rsa(self, pki: TestPKI) -> None:
        key = new_key("rsa2048")
        certificate = make_certificate(pki, key)
        assert certificate_key(certificate) == key.public_key()

    def test_no_encryption_to_a_dsa_certificate(self, pki: TestPKI) -> None:
        from mailcore.errors import UnsupportedAlgorithm
        from mailcore.smime._enveloped import encrypt_message

        certificate = make_certificate(pki, dsa_private_key(2048))
        with pytest.raises(UnsupportedAlgorithm, match="DSA key"):
            encrypt_message(b"Subject: x\r\n\r\nbody\r\n", [certificate])
