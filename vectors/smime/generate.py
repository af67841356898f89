"""Regenerate the S/MIME test PKI and its vector suites in this folder.

    python vectors/smime/generate.py

Writes ``pki/`` (CAs, user certificates and keys, the CRL), ``formats/``
(the same keys and certificates in every form :mod:`mailcore.smime._keys`
reads), ``certificates.json`` and ``keys.json`` (contract §7 suites) and
``README.md`` (every file and where it came from).

Built with :class:`mailcore.smime.pki.TestPKI` at a fixed time
(:data:`NOW`), so dates and serial numbers are the same on every run.  The
private keys are derived from fixed seeds (:func:`seeded_key`), so every
key is the same on every run too: vectors made with these keys elsewhere
(fixed ciphertexts, fixed signatures) stay valid after a regeneration.
Only the bytes of the ECDSA signatures on certificates and CRLs (and the
salts inside the encrypted key files) change, and so the SHA-256
fingerprints; the suites do not pin those.

These keys are published test data: never trust them for anything.

The ``openssl`` command line makes the files that show OpenSSL's own
encodings (``*-openssl.*``); its version is recorded in the README.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))  # run from a checkout without installing

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519  # noqa: E402
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402

from mailcore.smime.pki import Identity, KeyType, PrivateKey, TestPKI, Usage  # noqa: E402

NOW = datetime(2026, 1, 1, tzinfo=UTC)
"""The PKI's "now": CAs run 2025-01-01 to 2035-12-30, users 2025-12-02 to 2028-01-01."""
AT = "2026-06-01T00:00:00Z"
"""The time the certificate cases check validity at."""
PASSWORD = b"mailcore"
"""The password of every encrypted key and password-protected PKCS #12 file."""
SEED = "mailcore vectors/smime 2026"

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER
PKCS8 = serialization.PrivateFormat.PKCS8
TRADITIONAL = serialization.PrivateFormat.TraditionalOpenSSL
PLAIN = serialization.NoEncryption()


# -- deterministic keys -------------------------------------------------------------


def _probable_prime(candidate: int, rng: random.Random) -> bool:
    for small in (3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71):
        if candidate % small == 0:
            return candidate == small
    odd, shift = candidate - 1, 0
    while odd % 2 == 0:
        odd, shift = odd // 2, shift + 1
    for _ in range(40):  # Miller-Rabin, error below 2**-80
        witness = pow(rng.randrange(2, candidate - 1), odd, candidate)
        if witness in (1, candidate - 1):
            continue
        for _ in range(shift - 1):
            witness = pow(witness, 2, candidate)
            if witness == candidate - 1:
                break
        else:
            return False
    return True


def _seeded_rsa(rng: random.Random, bits: int) -> rsa.RSAPrivateKey:
    exponent = 65537

    def prime() -> int:
        while True:
            # Top two bits set, so that p*q has exactly ``bits`` bits.
            candidate = rng.getrandbits(bits // 2) | (3 << (bits // 2 - 2)) | 1
            if candidate % exponent != 1 and _probable_prime(candidate, rng):
                return candidate

    p, q = prime(), prime()
    while q == p:
        q = prime()
    d = pow(exponent, -1, (p - 1) * (q - 1))
    public = rsa.RSAPublicNumbers(exponent, p * q)
    return rsa.RSAPrivateNumbers(
        p,
        q,
        d,
        rsa.rsa_crt_dmp1(d, p),
        rsa.rsa_crt_dmq1(d, q),
        rsa.rsa_crt_iqmp(p, q),
        public,
    ).private_key()


_CURVES: dict[str, ec.EllipticCurve] = {
    "p256": ec.SECP256R1(),
    "p384": ec.SECP384R1(),
    "p521": ec.SECP521R1(),
}


def seeded_key(name: str, kind: KeyType) -> PrivateKey:
    """The private key called ``name``: the same one on every run.

    Seeded from :data:`SEED` and ``name`` with Python's (non-cryptographic)
    PRNG: fine for published test keys, useless for anything else.
    """
    digest = hashlib.sha512(f"{SEED} {name}".encode()).digest()
    if kind.startswith("rsa"):
        return _seeded_rsa(random.Random(digest), int(kind[3:]))
    if kind in _CURVES:
        curve = _CURVES[kind]
        stream = hashlib.shake_256(digest).digest(curve.key_size // 8 + 1)
        # One bit below the group order's size, so always below the order.
        scalar = int.from_bytes(stream, "big") >> (len(stream) * 8 - curve.key_size + 1)
        return ec.derive_private_key(scalar or 1, curve)
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(digest[:32])
    if kind == "x25519":
        return x25519.X25519PrivateKey.from_private_bytes(digest[:32])
    raise ValueError(f"no seeded key for {kind!r}")


@dataclass
class SeededPKI(TestPKI):
    """:class:`TestPKI` with seeded CA keys (TestPKI makes fresh ones)."""

    def __post_init__(self) -> None:
        root_key = seeded_key("root-ca", "p256")
        root_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mailcore Test Root CA")])
        root = self._ca_certificate(root_name, root_key, root_name, root_key, path_length=1)
        self.root = Identity(root, root_key)
        issuing_key = seeded_key("issuing-ca", "p256")
        issuing_name = x509.Name(
            [x509.NameAttribute(NameOID.COMMON_NAME, "mailcore Test Issuing CA")]
        )
        issuing = self._ca_certificate(
            issuing_name, issuing_key, root_name, root_key, path_length=0
        )
        self.issuing = Identity(issuing, issuing_key, (root,))


# -- what is made -------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """One user certificate: how it is issued and what it must classify as."""

    name: str
    email: str
    kind: KeyType
    comment: str
    usage: Usage = "dual"
    eku: tuple[x509.ObjectIdentifier, ...] | None = (ExtendedKeyUsageOID.EMAIL_PROTECTION,)
    not_before: datetime | None = None
    not_after: datetime | None = None
    key_usage: bool = True
    # What the certificate case expects (written by hand, not computed).
    purposes: tuple[str, ...] = ("encryption", "signing")
    reasons: dict[str, str | None] = field(
        default_factory=lambda: {"signing": None, "encryption": None}
    )


def _wrong(*purposes: str) -> dict[str, str | None]:
    return {p: ("wrong_key_usage" if p in purposes else None) for p in ("signing", "encryption")}


PEOPLE: tuple[Person, ...] = (
    Person("alice-rsa2048", "alice@example.com", "rsa2048", "RSA-2048, dual use"),
    Person("bob-p256", "bob@example.com", "p256", "ECDSA/ECDH P-256, dual use"),
    Person("carol-p384", "carol@example.com", "p384", "ECDSA/ECDH P-384, dual use"),
    Person(
        "dave-ed25519",
        "dave@example.com",
        "ed25519",
        "Ed25519 signing certificate (Ed25519 cannot encrypt)",
        usage="signing",
        purposes=("signing",),
        reasons=_wrong("encryption"),
    ),
    Person(
        "dave-x25519",
        "dave@example.com",
        "x25519",
        "X25519 encryption certificate, dave's pair to dave-ed25519",
        usage="encryption",
        purposes=("encryption",),
        reasons=_wrong("signing"),
    ),
    Person(
        "erin-rsa-signing",
        "erin@example.com",
        "rsa2048",
        "RSA signing-only (KeyUsage digitalSignature, nonRepudiation)",
        usage="signing",
        purposes=("signing",),
        reasons=_wrong("encryption"),
    ),
    Person(
        "erin-rsa-encryption",
        "erin@example.com",
        "rsa2048",
        "RSA encryption-only (KeyUsage keyEncipherment)",
        usage="encryption",
        purposes=("encryption",),
        reasons=_wrong("signing"),
    ),
    Person(
        "frank-expired",
        "frank@example.com",
        "rsa2048",
        "RSA dual use, expired 2024-01-01",
        not_before=datetime(2023, 1, 1, tzinfo=UTC),
        not_after=datetime(2024, 1, 1, tzinfo=UTC),
        reasons={"signing": "expired", "encryption": "expired"},
    ),
    Person(
        "grace-not-yet-valid",
        "grace@example.com",
        "rsa2048",
        "RSA dual use, valid from 2027-01-01",
        not_before=datetime(2027, 1, 1, tzinfo=UTC),
        not_after=datetime(2029, 1, 1, tzinfo=UTC),
        reasons={"signing": "not_yet_valid", "encryption": "not_yet_valid"},
    ),
    Person(
        "heidi-wrong-eku",
        "heidi@example.com",
        "rsa2048",
        "ExtendedKeyUsage serverAuth, clientAuth only: not for mail",
        eku=(ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
        purposes=(),
        reasons=_wrong("signing", "encryption"),
    ),
    Person(
        "ivan-no-eku",
        "ivan@example.com",
        "rsa2048",
        "no ExtendedKeyUsage: KeyUsage alone decides",
        eku=None,
    ),
    Person(
        "judy-no-ku",
        "judy@example.com",
        "p256",
        "no KeyUsage extension: the key type alone decides",
        key_usage=False,
    ),
    Person(
        "mallory-any-eku",
        "mallory@example.com",
        "rsa2048",
        "ExtendedKeyUsage anyExtendedKeyUsage",
        eku=(ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,),
    ),
    Person(
        "oscar-revoked",
        "oscar@example.com",
        "rsa2048",
        "RSA dual use, revoked in issuing-ca.crl",
    ),
    Person(
        "peggy-rsa1024",
        "peggy@example.com",
        "rsa1024",
        "RSA-1024: too weak (usage alone does not say so)",
    ),
)

_KEY_FACTS: dict[str, tuple[str, int]] = {
    "rsa2048": ("rsa", 2048),
    "rsa1024": ("rsa", 1024),
    "p256": ("ec", 256),
    "p384": ("ec", 384),
    "ed25519": ("ed25519", 256),
    "x25519": ("x25519", 256),
}


class Writer:
    """Writes files and remembers each one's provenance for the README."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: list[tuple[str, str]] = []

    def write(self, name: str, data: bytes, provenance: str) -> str:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        self.files.append((name, provenance))
        return name


def _issue_without_key_usage(pki: TestPKI, person: Person, key: PrivateKey) -> Identity:
    """Like :meth:`TestPKI.issue` but with no KeyUsage extension at all."""
    public = key.public_key()
    builder = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, person.email.split("@")[0]),
                    x509.NameAttribute(NameOID.EMAIL_ADDRESS, person.email),
                ]
            )
        )
        .issuer_name(pki.issuing.certificate.subject)
        .public_key(public)
        .serial_number(pki._next_serial())
        .not_valid_before(pki.now - timedelta(days=30))
        .not_valid_after(pki.now + timedelta(days=730))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(person.email)]), False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    )
    if person.eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(person.eku)), False)
    issuer_key = pki.issuing.key
    assert isinstance(issuer_key, ec.EllipticCurvePrivateKey)
    certificate = builder.sign(issuer_key, hashes.SHA256())
    return Identity(certificate, key, (pki.issuing.certificate,), person.email)


def ber_pkcs12(der: bytes) -> bytes:
    """``der`` re-encoded the way NSS writes PKCS #12: indefinite lengths.

    The outer PFX, the authSafe ContentInfo and its [0] get indefinite
    lengths, and the authSafe OCTET STRING is split into constructed
    chunks.  The octets inside (and so the MAC over them) do not change.
    """
    from asn1crypto import pkcs12 as asn1_pkcs12  # type: ignore[import-untyped]  # no stubs

    pfx = asn1_pkcs12.Pfx.load(der)
    auth_safe = pfx["auth_safe"]
    octets = auth_safe["content"].contents  # the AuthenticatedSafe encoding
    chunks = b"".join(
        b"\x04\x82" + len(octets[i : i + 1000]).to_bytes(2, "big") + octets[i : i + 1000]
        for i in range(0, len(octets), 1000)
    )
    content = b"\x24\x80" + chunks + b"\x00\x00"
    info = b"\x30\x80" + auth_safe["content_type"].dump() + b"\xa0\x80" + content + b"\0\0\0\0"
    version, mac = pfx["version"].dump(), pfx["mac_data"].dump()
    return bytes(b"\x30\x80" + version + info + mac + b"\x00\x00")


def _openssl(*args: str | Path, data: bytes = b"") -> bytes:
    result = subprocess.run(
        ["openssl", *map(str, args)], input=data, capture_output=True, check=False, timeout=60
    )
    if result.returncode != 0:
        sys.exit(f"openssl {' '.join(map(str, args))} failed: {result.stderr.decode()}")
    return result.stdout


def _certificate_case(
    case_id: str, file: str, comment: str, expected: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "id": f"smime::certificate::{case_id}",
        "comment": comment,
        "input": {"file": file, **extra},
        "expected": expected,
        "result": "valid",
    }


def _refusal(kind: str, case_id: str, file: str, comment: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"smime::{kind}::{case_id}",
        "comment": comment,
        "input": {"file": file, **extra},
        "expected": {"error": "KeyLoadError"},
        "result": "invalid",
    }


def _key_case(
    case_id: str, file: str, comment: str, expected: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "id": f"smime::key::{case_id}",
        "comment": comment,
        "input": {"file": file, **extra},
        "expected": expected,
        "result": "valid",
    }


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def main() -> None:
    if shutil.which("openssl") is None:
        sys.exit("generate.py needs the openssl command line")
    for folder in ("pki", "formats"):
        shutil.rmtree(HERE / folder, ignore_errors=True)
    out = Writer(HERE)
    pki = SeededPKI(now=NOW)
    password = PASSWORD.decode()
    generated = "generated by generate.py (TestPKI, seeded key)"

    def pem(certificate: x509.Certificate) -> bytes:
        return certificate.public_bytes(PEM)

    def key_bytes(key: PrivateKey, encoding: Any, form: Any, crypt: Any = PLAIN) -> bytes:
        return key.private_bytes(encoding, form, crypt)

    # The CAs and the CRL.
    certificate_cases: list[dict[str, Any]] = []
    key_cases: list[dict[str, Any]] = []
    for name, identity, comment, subject in (
        ("root-ca", pki.root, "self-signed root CA (P-256)", "CN=mailcore Test Root CA"),
        (
            "issuing-ca",
            pki.issuing,
            "issuing CA (P-256), signed by root-ca",
            "CN=mailcore Test Issuing CA",
        ),
    ):
        out.write(f"pki/{name}.crt.pem", pem(identity.certificate), f"{comment}; {generated}")
        out.write(
            f"pki/{name}.key.pem",
            key_bytes(identity.key, PEM, PKCS8),
            f"private key of {name} (PKCS #8); {generated}",
        )
        certificate_cases.append(
            _certificate_case(
                name,
                f"pki/{name}.crt.pem",
                f"{comment}: a CA certificate has no mail purpose",
                {
                    "subject": subject,
                    "emails": [],
                    "key_type": "ec",
                    "key_bits": 256,
                    "curve": "secp256r1",
                    "is_ca": True,
                    "purposes": [],
                },
            )
        )

    identities: dict[str, Identity] = {}
    for person in PEOPLE:
        key = seeded_key(person.name, person.kind)
        if person.key_usage:
            identity = pki.issue(
                person.email,
                person.kind,
                usage=person.usage,
                eku=person.eku,
                not_before=person.not_before,
                not_after=person.not_after,
                key=key,
            )
        else:
            identity = _issue_without_key_usage(pki, person, key)
        identities[person.name] = identity
        certificate = identity.certificate
        made = (
            generated
            if person.key_usage
            else "built by generate.py with cryptography's certificate builder (TestPKI.issue"
            " always adds KeyUsage), signed by issuing-ca, seeded key"
        )
        out.write(f"pki/{person.name}.crt.pem", pem(certificate), f"{person.comment}; {made}")
        out.write(
            f"pki/{person.name}.key.pem",
            key_bytes(key, PEM, PKCS8),
            f"private key of {person.name} (PKCS #8 PEM); {generated}",
        )
        key_type, key_bits = _KEY_FACTS[person.kind]
        user = person.email.split("@")[0]
        certificate_cases.append(
            _certificate_case(
                person.name,
                f"pki/{person.name}.crt.pem",
                person.comment,
                {
                    "count": 1,
                    "subject": f"emailAddress={person.email},CN={user}",
                    "issuer": "CN=mailcore Test Issuing CA",
                    "emails": [person.email],
                    "serial": f"0x{certificate.serial_number:x}",
                    "not_before": _iso(person.not_before or NOW - timedelta(days=30)),
                    "not_after": _iso(person.not_after or NOW + timedelta(days=730)),
                    "key_type": key_type,
                    "key_bits": key_bits,
                    "is_ca": False,
                    "purposes": sorted(person.purposes),
                    "reasons": person.reasons,
                },
                at=AT,
            )
        )
        key_cases.append(
            _key_case(
                person.name,
                f"pki/{person.name}.key.pem",
                f"PKCS #8 PEM key of {person.name}",
                {"key_type": key_type, "has_certificate": False, "format": "pem"},
            )
        )

    # TestPKI.crl() would say "next update in 30 days", stale for most of the
    # certificates' lifetime; this CRL stays current until they expire.
    revoked = identities["oscar-revoked"].certificate
    issuing_key = pki.issuing.key
    assert isinstance(issuing_key, ec.EllipticCurvePrivateKey)
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(pki.issuing.certificate.subject)
        .last_update(NOW - timedelta(days=1))
        .next_update(NOW + timedelta(days=730))
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(revoked.serial_number)
            .revocation_date(NOW - timedelta(days=2))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
        .add_extension(x509.CRLNumber(1), critical=False)
        .sign(issuing_key, hashes.SHA256())
    )
    out.write(
        "pki/issuing-ca.crl.pem",
        crl.public_bytes(PEM),
        "CRL of issuing-ca (PEM), CRL number 1, revoking oscar-revoked (keyCompromise,"
        " 2025-12-30); last update 2025-12-31, next update 2028-01-01; made by"
        " generate.py with cryptography's CRL builder and the issuing CA's key",
    )
    out.write("pki/issuing-ca.crl.der", crl.public_bytes(DER), "the same CRL in DER")

    # Every form of alice's key and certificate (and some of bob's).
    alice = identities["alice-rsa2048"]
    bob = identities["bob-p256"]
    alice_key, bob_key = alice.key, bob.key
    assert isinstance(alice_key, rsa.RSAPrivateKey)
    assert isinstance(bob_key, ec.EllipticCurvePrivateKey)
    chain = [pki.issuing.certificate, pki.root.certificate]
    encrypt = serialization.BestAvailableEncryption(PASSWORD)
    rsa_facts = {"key_type": "rsa"}
    f = "formats/"

    def key_file(
        name: str, data: bytes, provenance: str, expected: dict[str, Any], **extra: Any
    ) -> None:
        out.write(f + name, data, provenance)
        key_cases.append(_key_case(name, f + name, provenance, expected, **extra))

    key_file(
        "alice-rsa2048.key.der",
        key_bytes(alice.key, DER, PKCS8),
        "alice's key, PKCS #8 DER (cryptography)",
        {**rsa_facts, "format": "der", "has_certificate": False},
    )
    key_file(
        "alice-rsa2048.key-rsa.pem",
        key_bytes(alice.key, PEM, TRADITIONAL),
        "alice's key, traditional OpenSSL PEM (BEGIN RSA PRIVATE KEY)",
        {**rsa_facts, "format": "pem"},
    )
    key_file(
        "alice-rsa2048.key-rsa.der",
        key_bytes(alice.key, DER, TRADITIONAL),
        "alice's key, PKCS #1 RSAPrivateKey DER",
        {**rsa_facts, "format": "der"},
    )
    key_file(
        "alice-rsa2048.key-encrypted.pem",
        key_bytes(alice.key, PEM, PKCS8, encrypt),
        f"alice's key, encrypted PKCS #8 PEM (PBES2 AES-256-CBC), password {password!r}",
        {**rsa_facts, "format": "pem"},
        password=password,
    )
    key_file(
        "alice-rsa2048.key-encrypted.der",
        key_bytes(alice.key, DER, PKCS8, encrypt),
        f"alice's key, encrypted PKCS #8 DER, password {password!r}",
        {**rsa_facts, "format": "der"},
        password=password,
    )
    key_file(
        "alice-rsa2048.key-rsa-encrypted.pem",
        key_bytes(alice.key, PEM, TRADITIONAL, encrypt),
        "alice's key, traditional PEM with Proc-Type: 4,ENCRYPTED (AES-256-CBC),"
        f" password {password!r}",
        {**rsa_facts, "format": "pem"},
        password=password,
    )
    key_file(
        "alice-rsa2048.bundle.pem",
        key_bytes(alice.key, PEM, PKCS8) + pem(alice.certificate) + b"".join(map(pem, chain)),
        "one PEM file: alice's key, her certificate, issuing-ca, root-ca",
        {**rsa_facts, "format": "pem", "has_certificate": True, "chain_length": 2},
    )
    p12 = pkcs12.serialize_key_and_certificates(
        b"alice", alice_key, alice.certificate, chain, encrypt
    )
    p12_facts = {**rsa_facts, "format": "pkcs12", "has_certificate": True, "chain_length": 2}
    key_file(
        "alice-rsa2048.p12",
        p12,
        "PKCS #12 (cryptography, PBES2 AES-256-CBC, HMAC-SHA256) with alice's key,"
        f" certificate and chain; password {password!r}",
        p12_facts,
        password=password,
    )
    legacy = (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(PASSWORD)
    )
    key_file(
        "alice-rsa2048-legacy.p12",
        pkcs12.serialize_key_and_certificates(
            b"alice", alice_key, alice.certificate, chain, legacy
        ),
        "PKCS #12 the way older Windows exports it (PBES1 SHA-1 3DES, HMAC-SHA1);"
        f" password {password!r}",
        p12_facts,
        password=password,
    )
    key_file(
        "alice-rsa2048-nopassword.p12",
        pkcs12.serialize_key_and_certificates(
            b"alice", alice_key, alice.certificate, chain, PLAIN
        ),
        "PKCS #12 without encryption or password (cryptography NoEncryption)",
        p12_facts,
    )
    key_file(
        "alice-rsa2048-ber.p12",
        ber_pkcs12(p12),
        "alice-rsa2048.p12 re-encoded by generate.py with indefinite lengths and a"
        " chunked OCTET STRING, as NSS (Thunderbird, Firefox) writes PKCS #12;"
        f" same MAC; password {password!r}",
        p12_facts,
        password=password,
    )
    temporary = HERE / "formats" / ".tmp"
    temporary.mkdir(parents=True, exist_ok=True)
    (temporary / "key.pem").write_bytes(key_bytes(alice.key, PEM, PKCS8))
    (temporary / "cert.pem").write_bytes(pem(alice.certificate))
    (temporary / "chain.pem").write_bytes(b"".join(map(pem, chain)))
    openssl_p12 = _openssl(
        "pkcs12", "-export", "-inkey", temporary / "key.pem", "-in", temporary / "cert.pem",
        "-certfile", temporary / "chain.pem", "-name", "alice", "-passout",
        f"pass:{password}",
    )  # fmt: skip
    key_file(
        "alice-rsa2048-openssl.p12",
        openssl_p12,
        "openssl pkcs12 -export (defaults: PBES2 AES-256-CBC, HMAC-SHA256);"
        f" password {password!r}",
        p12_facts,
        password=password,
    )
    openssl_bag = _openssl(
        "crl2pkcs7", "-nocrl", "-certfile", temporary / "cert.pem",
        "-certfile", temporary / "chain.pem", "-outform", "DER",
    )  # fmt: skip
    shutil.rmtree(temporary)
    bob_facts = {"key_type": "ec", "format": "pem", "has_certificate": False}
    for name, data, provenance, expected in (
        (
            "bob-p256.key-ec.pem",
            key_bytes(bob.key, PEM, TRADITIONAL),
            "bob's key, traditional OpenSSL PEM (BEGIN EC PRIVATE KEY)",
            bob_facts,
        ),
        (
            "bob-p256.key-ec.der",
            key_bytes(bob.key, DER, TRADITIONAL),
            "bob's key, RFC 5915 ECPrivateKey DER",
            {**bob_facts, "format": "der"},
        ),
    ):
        key_file(name, data, provenance, expected)
    key_file(
        "bob-p256.p12",
        pkcs12.serialize_key_and_certificates(b"bob", bob_key, bob.certificate, chain, encrypt),
        f"PKCS #12 with bob's P-256 key, certificate and chain; password {password!r}",
        {"key_type": "ec", "format": "pkcs12", "has_certificate": True, "chain_length": 2},
        password=password,
    )
    # A password given for a key that is not encrypted is not a problem.
    key_cases.append(
        _key_case(
            "password-for-plain-key",
            "pki/alice-rsa2048.key.pem",
            "a password given for an unencrypted key is ignored",
            {**rsa_facts, "has_certificate": False},
            password="unused",
        )
    )

    # Certificates in every form.
    many = [alice.certificate, bob.certificate, identities["carol-p384"].certificate]
    bags = (
        (
            "alice-rsa2048.crt.der",
            alice.certificate.public_bytes(DER),
            "alice's certificate, DER",
            1,
        ),
        ("certificates.pem", b"".join(map(pem, many)), "alice, bob and carol in one PEM file", 3),
        (
            "alice-chain.p7b",
            pkcs7.serialize_certificates([alice.certificate, *chain], PEM),
            "PKCS #7 certificate bag, PEM (BEGIN PKCS7), cryptography: alice, issuing-ca, root-ca",
            3,
        ),
        (
            "alice-chain.p7c",
            pkcs7.serialize_certificates([alice.certificate, *chain], DER),
            "the same bag in DER (as userSMIMECertificate carries it)",
            3,
        ),
        (
            "alice-chain-openssl.p7b",
            openssl_bag,
            "openssl crl2pkcs7 -nocrl -certfile alice -certfile chain -outform DER: certificate"
            " SET in file order, not DER order",
            3,
        ),
    )
    for name, data, provenance, count in bags:
        out.write(f + name, data, provenance)
        certificate_cases.append(
            _certificate_case(
                name.replace(".", "-"),
                f + name,
                provenance,
                {
                    "count": count,
                    "subject": "emailAddress=alice@example.com,CN=alice",
                    "emails": ["alice@example.com"],
                    "purposes": ["encryption", "signing"],
                },
                email="alice@example.com",
            )
        )
    certificate_cases.append(
        _certificate_case(
            "certificates-pem-second",
            f + "certificates.pem",
            "the second certificate of a PEM file with three",
            {"count": 3, "emails": ["bob@example.com"], "key_type": "ec", "curve": "secp256r1"},
            index=1,
        )
    )

    # Things that are not what they claim to be.
    garbage = b"This is not a key or a certificate.\n" + bytes(range(256))
    out.write(f + "garbage.bin", garbage, "36 bytes of text then the bytes 0-255 (by hand)")
    out.write(
        f + "alice-rsa2048.pub.pem",
        alice.key.public_key().public_bytes(PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        "alice's public key (BEGIN PUBLIC KEY): neither a private key nor a certificate",
    )
    certificate_cases += [
        _refusal("certificate", "garbage", f + "garbage.bin", "not a certificate"),
        _refusal("certificate", "private-key", "pki/alice-rsa2048.key.pem", "a key, no cert"),
        _refusal("certificate", "public-key", f + "alice-rsa2048.pub.pem", "a public key"),
        _refusal("certificate", "pkcs12", f + "alice-rsa2048.p12", "PKCS #12 is a key file"),
    ]
    key_cases += [
        _refusal("key", "garbage", f + "garbage.bin", "not a key"),
        _refusal("key", "certificate-pem", "pki/alice-rsa2048.crt.pem", "a certificate"),
        _refusal("key", "certificate-der", f + "alice-rsa2048.crt.der", "a DER certificate"),
        _refusal("key", "pkcs7-bag", f + "alice-chain.p7b", "a certificate bag"),
        _refusal("key", "public-key", f + "alice-rsa2048.pub.pem", "a public key"),
        _refusal(
            "key", "encrypted-no-password", f + "alice-rsa2048.key-encrypted.pem", "no password"
        ),
        _refusal(
            "key",
            "encrypted-wrong-password",
            f + "alice-rsa2048.key-encrypted.pem",
            "wrong password",
            password="wrong",
        ),
        _refusal(
            "key",
            "traditional-wrong-password",
            f + "alice-rsa2048.key-rsa-encrypted.pem",
            "wrong password, traditional PEM",
            password="wrong",
        ),
        _refusal(
            "key",
            "der-wrong-password",
            f + "alice-rsa2048.key-encrypted.der",
            "wrong password, DER",
            password="wrong",
        ),
        _refusal("key", "pkcs12-no-password", f + "alice-rsa2048.p12", "PKCS #12 needs one"),
        _refusal(
            "key",
            "pkcs12-wrong-password",
            f + "alice-rsa2048.p12",
            "wrong PKCS #12 password",
            password="wrong",
        ),
        _refusal(
            "key",
            "pkcs12-ber-wrong-password",
            f + "alice-rsa2048-ber.p12",
            "wrong password, BER PKCS #12",
            password="wrong",
        ),
    ]

    source = (
        "generated by vectors/smime/generate.py with mailcore.smime.pki.TestPKI at"
        f" {_iso(NOW)} (seeded keys), cryptography and the openssl command line;"
        " expectations written by hand in generate.py (PEOPLE), from RFC 8550 §4.4"
    )
    _suite(
        out,
        "certificates.json",
        "Certificate reading and classification: purposes from KeyUsage, ExtendedKeyUsage"
        " and key type; addresses; key facts; validity at a fixed time",
        source,
        certificate_cases,
    )
    _suite(
        out,
        "keys.json",
        "Private key reading: PEM, DER, encrypted, PKCS #12 (DER, BER, legacy, no"
        " password) and what must be refused",
        source,
        key_cases,
    )
    _readme(out)


def _suite(
    out: Writer, name: str, description: str, source: str, cases: list[dict[str, Any]]
) -> None:
    suite = {"area": "smime", "description": description, "source": source, "cases": cases}
    text = json.dumps(suite, indent=1, ensure_ascii=False) + "\n"
    out.write(name, text.encode(), f"suite ({len(cases)} cases), written by generate.py")


def _readme(out: Writer) -> None:
    version = _openssl("version").decode().strip()
    import cryptography

    rows = "\n".join(f"| `{name}` | {provenance} |" for name, provenance in out.files)
    # The message vectors (messages/, messages.json) are written once by
    # generate_messages.py, which keeps its own README section: carry it over.
    readme = out.root / "README.md"
    previous = readme.read_text("utf-8") if readme.is_file() else ""
    begin = previous.find("<!-- begin: message vectors")
    messages = "\n" + previous[begin:].rstrip("\n") + "\n" if begin >= 0 else ""
    text = f"""# vectors/smime

S/MIME test data: a small PKI with certificates for every key type and usage
that decides what a certificate may do, the same keys and certificates in
every file format mailcore reads, and two suites (contract §7) that check
reading and classification.

**Regenerate** with `python vectors/smime/generate.py` (needs the `openssl`
command line).  Made with `mailcore.smime.pki.TestPKI` at the fixed time
{_iso(NOW)}; private keys come from fixed seeds, so keys, names, serial
numbers and dates are the same on every run — only ECDSA signature bytes,
encryption salts and hence SHA-256 fingerprints change.  Last generated with
{version} and cryptography {cryptography.__version__}.

**Password** of every encrypted key and password-protected PKCS #12 file:
`{PASSWORD.decode()}`.

**These are published test keys.** Never trust them for anything.

The PKI (`pki/`): `root-ca` (P-256, self-signed, 2025-01-01 to 2035-12-30)
→ `issuing-ca` (P-256) → user certificates (2025-12-02 to 2028-01-01 unless
said otherwise), each with subject `CN=<user>, emailAddress=<user>@example.com`
and the same address in subjectAltName; KeyUsage per usage (signing:
digitalSignature + nonRepudiation; encryption: keyEncipherment for RSA,
keyAgreement for EC/X25519) and ExtendedKeyUsage emailProtection unless
said otherwise.  The suites check validity at {AT}.

| file | what it is and where it came from |
|---|---|
| `generate.py` | the generator, written by hand; it writes every file below but the messages |
{rows}
| `README.md` | this file, written by generate.py (the message section by generate_messages.py) |
{messages}"""
    (out.root / "README.md").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
