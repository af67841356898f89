"""A small generated PKI for demos, tests and conformance vectors.

Not for production: keys are made on the spot and kept in memory.  It builds
what S/MIME tests need — a root and an issuing CA, and end-entity
certificates for every key type mailcore handles, with the usages that
decide what a certificate may do (signing-only, encryption-only, dual-use),
plus the awkward ones (expired, wrong EKU, weak key).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa, x25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["Identity", "KeyType", "TestPKI", "Usage"]

KeyType = Literal["rsa2048", "rsa3072", "rsa1024", "p256", "p384", "p521", "ed25519", "x25519"]
Usage = Literal["dual", "signing", "encryption"]
PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | x25519.X25519PrivateKey
)
_CURVES: dict[str, ec.EllipticCurve] = {
    "p256": ec.SECP256R1(),
    "p384": ec.SECP384R1(),
    "p521": ec.SECP521R1(),
}


def new_key(kind: KeyType) -> PrivateKey:
    """A fresh private key of ``kind``."""
    if kind.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(kind[3:]))
    if kind in _CURVES:
        return ec.generate_private_key(_CURVES[kind])
    if kind == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if kind == "x25519":
        return x25519.X25519PrivateKey.generate()
    raise ValueError(f"unknown key type {kind!r}")


@dataclass(frozen=True)
class Identity:
    """A certificate, its private key and the chain up to (not incl.) the root."""

    certificate: x509.Certificate
    key: PrivateKey
    chain: tuple[x509.Certificate, ...] = ()
    email: str | None = None

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def chain_pem(self) -> bytes:
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)


def _name(common_name: str, email: str | None = None) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if email:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    return x509.Name(attributes)


def _signing_hash(key: PrivateKey) -> hashes.HashAlgorithm | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


@dataclass
class TestPKI:
    """A root CA, an issuing CA, and end-entity certificates made on request."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    root: Identity = field(init=False)
    issuing: Identity = field(init=False)
    _serial: int = field(default=0x1000, init=False)

    __test__ = False  # not a pytest test class despite the name

    def __post_init__(self) -> None:
        root_key = new_key("p256")
        root_name = _name("mailcore Test Root CA")
        root_cert = self._ca_certificate(root_name, root_key, root_name, root_key, path_length=1)
        self.root = Identity(root_cert, root_key)
        issuing_key = new_key("p256")
        issuing_name = _name("mailcore Test Issuing CA")
        issuing_cert = self._ca_certificate(
            issuing_name, issuing_key, root_name, root_key, path_length=0
        )
        self.issuing = Identity(issuing_cert, issuing_key, (root_cert,))

    def _next_serial(self) -> int:
        self._serial += 1
        return self._serial

    def _ca_certificate(
        self,
        subject: x509.Name,
        key: PrivateKey,
        issuer: x509.Name,
        issuer_key: PrivateKey,
        *,
        path_length: int,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key.public_key())
            .serial_number(self._next_serial())
            .not_valid_before(self.now - timedelta(days=365))
            .not_valid_after(self.now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        )
        return builder.sign(issuer_key, _signing_hash(issuer_key))  # type: ignore[arg-type]

    def issue(
        self,
        email: str,
        kind: KeyType = "rsa2048",
        *,
        usage: Usage = "dual",
        eku: Sequence[x509.ObjectIdentifier] | None = (ExtendedKeyUsageOID.EMAIL_PROTECTION,),
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        common_name: str | None = None,
        key: PrivateKey | None = None,
    ) -> Identity:
        """An end-entity certificate for ``email`` issued by the issuing CA.

        ``usage`` sets KeyUsage: ``signing`` (digitalSignature,
        nonRepudiation), ``encryption`` (keyEncipherment for RSA, keyAgreement
        for EC/X25519) or ``dual``.  ``eku=None`` leaves EKU out.
        """
        key = key or new_key(kind)
        public = key.public_key()
        is_rsa = isinstance(key, rsa.RSAPrivateKey)
        is_x25519 = isinstance(key, x25519.X25519PrivateKey)
        sign = usage in ("dual", "signing") and not is_x25519
        encrypt = usage in ("dual", "encryption")
        key_usage = x509.KeyUsage(
            digital_signature=sign,
            content_commitment=sign,
            key_encipherment=encrypt and is_rsa,
            data_encipherment=False,
            key_agreement=encrypt
            and not is_rsa
            and not isinstance(key, ed25519.Ed25519PrivateKey),
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name or email.split("@")[0], email))
            .issuer_name(self.issuing.certificate.subject)
            .public_key(public)
            .serial_number(self._next_serial())
            .not_valid_before(not_before or self.now - timedelta(days=30))
            .not_valid_after(not_after or self.now + timedelta(days=730))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage, critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self.issuing.key.public_key()  # type: ignore[arg-type]
                ),
                critical=False,
            )
        )
        if eku is not None:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        certificate = builder.sign(self.issuing.key, _signing_hash(self.issuing.key))  # type: ignore[arg-type]
        return Identity(certificate, key, (self.issuing.certificate,), email)

    def server(self, host: str = "localhost", kind: KeyType = "p256") -> Identity:
        """A TLS server certificate for ``host`` (and 127.0.0.1) from the issuing CA."""
        key = new_key(kind)
        names: list[x509.GeneralName] = [
            x509.DNSName(host),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
        certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(host))
            .issuer_name(self.issuing.certificate.subject)
            .public_key(key.public_key())
            .serial_number(self._next_serial())
            .not_valid_before(self.now - timedelta(days=1))
            .not_valid_after(self.now + timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
            .sign(self.issuing.key, _signing_hash(self.issuing.key))  # type: ignore[arg-type]
        )
        return Identity(certificate, key, (self.issuing.certificate,))

    def crl(self, revoked: Sequence[x509.Certificate] = ()) -> x509.CertificateRevocationList:
        """A CRL of the issuing CA listing ``revoked``."""
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.issuing.certificate.subject)
            .last_update(self.now - timedelta(days=1))
            .next_update(self.now + timedelta(days=30))
        )
        for certificate in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(certificate.serial_number)
                .revocation_date(self.now - timedelta(hours=1))
                .build()
            )
        return builder.sign(self.issuing.key, hashes.SHA256())  # type: ignore[arg-type]
