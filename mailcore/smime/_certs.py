"""What a certificate may be used for, and which one to use.

S/MIME agents pick certificates by purpose: one to sign with, one to encrypt
to.  RFC 8550 §4.4 says how a certificate's extensions limit that:

* KeyUsage (RFC 5280 §4.2.1.3), when present: ``digitalSignature`` or
  ``nonRepudiation`` allow signing; ``keyEncipherment`` allows encryption to
  an RSA key (key transport), ``keyAgreement`` to an EC, X25519 or X448 key
  (key agreement, RFC 5753 / RFC 8418).  Without KeyUsage the key type alone
  decides.
* ExtendedKeyUsage, when present, must include ``emailProtection`` or
  ``anyExtendedKeyUsage`` (RFC 8550 §4.4.4); otherwise the certificate is
  not for mail at all.
* The key type: Ed25519/Ed448 and RSASSA-PSS keys only sign, X25519/X448
  keys only agree keys.
* CA certificates (BasicConstraints ``cA``) are never used for mail.

Key types mailcore cannot use for mail (DSA, finite-field DH, ML-DSA, ML-KEM, unknown
algorithms) are described but get no purpose, so that :func:`choose_certificate`
never picks a certificate that signing or encryption would then refuse.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, NamedTuple, TypeVar

from asn1crypto import core  # type: ignore[import-untyped]  # no stubs
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives.asymmetric import (
    ec,
    ed448,
    ed25519,
    mldsa,
    mlkem,
    rsa,
    x448,
    x25519,
)
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, PublicKeyAlgorithmOID

from mailcore.errors import KeyLoadError

__all__ = [
    "ENCRYPTION",
    "SIGNING",
    "CertificateInfo",
    "Purpose",
    "PurposeSplit",
    "can_encrypt",
    "can_sign",
    "certificate_key",
    "choose_certificate",
    "describe",
    "format_name",
    "iso_z",
    "key_type_of",
    "rejection_reason",
    "split_by_purpose",
]

Purpose = Literal["signing", "encryption"]
SIGNING: Purpose = "signing"
ENCRYPTION: Purpose = "encryption"
_PURPOSES: tuple[Purpose, ...] = (SIGNING, ENCRYPTION)
_E = TypeVar("_E", bound=x509.ExtensionType)

# RFC 8398 §3: an internationalised mailbox in subjectAltName otherName.
_SMTP_UTF8_MAILBOX = x509.ObjectIdentifier("1.3.6.1.5.5.7.8.9")
# RFC 4514 names attribute types by their registered short name; the IANA
# LDAP descriptor registry has "emailAddress" for PKCS #9 1.2.840.113549.1.9.1
# (cryptography would otherwise print the dotted OID).
_NAME_TYPES = {NameOID.EMAIL_ADDRESS: "emailAddress"}

# What each key type can do for S/MIME (RFC 8551 §2.2, §2.3).
_ABILITIES: dict[str, frozenset[Purpose]] = {
    "rsa": frozenset(_PURPOSES),
    "rsa-pss": frozenset({SIGNING}),
    "ec": frozenset(_PURPOSES),
    "ed25519": frozenset({SIGNING}),
    "ed448": frozenset({SIGNING}),
    "x25519": frozenset({ENCRYPTION}),
    "x448": frozenset({ENCRYPTION}),
}
# KeyUsage bits that allow encryption, by key type (RFC 8550 §4.4.2).
_KEY_TRANSPORT = frozenset({"rsa"})
_KEY_AGREEMENT = frozenset({"ec", "x25519", "x448"})


def format_name(name: x509.Name) -> str:
    """An RFC 4514 string for ``name`` (``emailAddress=a@b.example,CN=a``).

    The same spelling is used everywhere mailcore reports a subject or
    issuer (JSON B and C).
    """
    return name.rfc4514_string(_NAME_TYPES)


def iso_z(moment: datetime) -> str:
    """``moment`` as ISO 8601 UTC with a ``Z`` (``2031-01-01T00:00:00Z``)."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return utc.replace(tzinfo=None, microsecond=0).isoformat() + "Z"


def key_type_of(key: object) -> str:
    """The key type name of a public or private key object.

    ``rsa``, ``ec``, ``ed25519``, ``ed448``, ``x25519``, ``x448``, ``dsa``,
    ``ml-dsa-44``/``-65``/``-87``, ``ml-kem-768``/``-1024`` or ``unknown``
    (finite-field DH among them: cryptography deprecates even naming it).
    """
    for classes, name in _KEY_CLASSES:
        if isinstance(key, classes):
            return name
    # cryptography >= 51 deprecates DSA and warns when its classes are even
    # named, so a DSA key is told by the algorithm of its SubjectPublicKeyInfo
    # (RFC 3279 §2.3.2: id-dsa), which writing the public key does not warn on.
    if _spki_algorithm(key) == "dsa":
        return "dsa"
    return "unknown"


_KEY_CLASSES: tuple[tuple[tuple[type, ...], str], ...] = (
    ((rsa.RSAPublicKey, rsa.RSAPrivateKey), "rsa"),
    ((ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey), "ec"),
    ((ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey), "ed25519"),
    ((ed448.Ed448PublicKey, ed448.Ed448PrivateKey), "ed448"),
    ((x25519.X25519PublicKey, x25519.X25519PrivateKey), "x25519"),
    ((x448.X448PublicKey, x448.X448PrivateKey), "x448"),
    ((mldsa.MLDSA44PublicKey, mldsa.MLDSA44PrivateKey), "ml-dsa-44"),
    ((mldsa.MLDSA65PublicKey, mldsa.MLDSA65PrivateKey), "ml-dsa-65"),
    ((mldsa.MLDSA87PublicKey, mldsa.MLDSA87PrivateKey), "ml-dsa-87"),
    ((mlkem.MLKEM768PublicKey, mlkem.MLKEM768PrivateKey), "ml-kem-768"),
    ((mlkem.MLKEM1024PublicKey, mlkem.MLKEM1024PrivateKey), "ml-kem-1024"),
)


def _spki_algorithm(key: object) -> str | None:
    """asn1crypto's name for the algorithm of ``key``'s SubjectPublicKeyInfo."""
    public = getattr(key, "public_key", None)
    try:
        public_key = public() if callable(public) else key
        der = public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)  # type: ignore[union-attr]
        return str(asn1_keys.PublicKeyInfo.load(der)["algorithm"]["algorithm"].native)
    except Exception:  # not a key object, or one that cannot be written
        return None


def certificate_key(certificate: x509.Certificate) -> CertificatePublicKeyTypes | None:
    """The certificate's public key, or None when mailcore does not use it.

    None for DSA (cryptography >= 51 deprecates it and warns each time such
    a key is built; mailcore neither signs nor verifies with DSA) and for
    keys cryptography cannot load (unknown algorithms, broken encodings).
    Every place that needs a certificate's key goes through here, so no
    dependency warning reaches a caller's stderr.
    """
    if certificate.public_key_algorithm_oid == PublicKeyAlgorithmOID.DSA:
        return None
    try:
        return certificate.public_key()
    except (_CryptoUnsupported, ValueError):
        return None


def _dsa_bits(certificate: x509.Certificate) -> int:
    """The size of the DSA prime p, read from the certificate's own bytes."""
    try:
        parsed = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
        return int(parsed.public_key.bit_size)
    except Exception:  # asn1crypto raises many types on bad parameters
        return 0


def _key_facts(certificate: x509.Certificate) -> tuple[str, int, str | None]:
    """(key type, key bits, curve name) of the certificate's public key."""
    if certificate.public_key_algorithm_oid == PublicKeyAlgorithmOID.DSA:
        return "dsa", _dsa_bits(certificate), None
    key = certificate_key(certificate)
    if key is None:
        return "unknown", 0, None
    kind = key_type_of(key)
    if isinstance(key, rsa.RSAPublicKey):
        # RFC 4055 §1.2: an RSASSA-PSS SubjectPublicKeyInfo may only sign.
        if certificate.public_key_algorithm_oid == PublicKeyAlgorithmOID.RSASSA_PSS:
            kind = "rsa-pss"
        return kind, key.key_size, None
    if isinstance(key, ec.EllipticCurvePublicKey):
        return kind, key.curve.key_size, key.curve.name
    # The size of the public key value (RFC 8410 §3): 32 bytes for the
    # 25519 curves, 57 for Ed448, 56 for X448.  0 for the rest.
    sizes = {"ed25519": 256, "x25519": 256, "ed448": 456, "x448": 448}
    return kind, sizes.get(kind, 0), None


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateInfo:
    """What mailcore needs to know about a certificate to choose it.

    ``purposes`` holds ``"signing"`` and/or ``"encryption"`` as derived from
    KeyUsage, ExtendedKeyUsage and the key type (see the module text); it
    says nothing about validity dates, which :meth:`valid_at` checks.
    """

    subject: str
    """RFC 4514 string of the subject (:func:`format_name`)."""
    issuer: str
    """RFC 4514 string of the issuer."""
    emails: tuple[str, ...]
    """subjectAltName rfc822Name (and RFC 8398 SmtpUTF8Mailbox) addresses,
    then subject emailAddress values; lowercased, without repeats."""
    serial: str
    """The serial number as ``0x`` and lowercase hex."""
    sha256: str
    """Hex SHA-256 of the certificate's DER encoding."""
    not_before: datetime
    """Start of validity (timezone-aware, UTC)."""
    not_after: datetime
    """End of validity (timezone-aware, UTC)."""
    key_type: str
    """``rsa``, ``rsa-pss``, ``ec``, ``ed25519``, ``ed448``, ``x25519``,
    ``x448``, ``dsa``, ``ml-dsa-*``, ``ml-kem-*`` or ``unknown``."""
    key_bits: int
    """RSA/DSA modulus or EC curve size, the size of the public key value for
    the RFC 8410 curves (256 for Ed25519/X25519), 0 when not meaningful."""
    curve: str | None
    """The named curve of an EC key (``secp256r1``), else None."""
    is_ca: bool
    """BasicConstraints says this is a CA certificate."""
    purposes: frozenset[Purpose]
    """What the certificate may be used for in mail."""

    @property
    def can_sign(self) -> bool:
        """The certificate may be used to sign mail."""
        return SIGNING in self.purposes

    @property
    def can_encrypt(self) -> bool:
        """Mail may be encrypted to this certificate."""
        return ENCRYPTION in self.purposes

    def valid_at(self, at: datetime) -> bool:
        """``at`` lies within the validity period (both ends included)."""
        return self.not_before <= _aware(at) <= self.not_after

    def to_dict(self) -> dict[str, str]:
        """The contract's JSON C certificate object."""
        return {
            "subject": self.subject,
            "serial": self.serial,
            "not_after": iso_z(self.not_after),
            "sha256": self.sha256,
        }


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise TypeError("the time must be timezone-aware (for example datetime.now(UTC))")
    return at


def _serial_number(certificate: x509.Certificate) -> int:
    # RFC 5280 §4.1.2.2 wants a positive serial; cryptography warns (on
    # access) about zero or negative ones.  They occur in real certificates
    # (old CAs, self-signed test ones), so mailcore reports them as they are.
    with warnings.catch_warnings():  # not thread-safe before Python 3.14
        warnings.filterwarnings("ignore", r"Parsed a serial number which wasn't positive")
        return certificate.serial_number


def _format_serial(serial: int) -> str:
    sign = "-" if serial < 0 else ""  # RFC 5280 forbids it; some old CAs did it
    return f"{sign}0x{abs(serial):x}"


def _emails(
    certificate: x509.Certificate, san: x509.SubjectAlternativeName | None
) -> tuple[str, ...]:
    found: list[str] = []
    if san is not None:
        found.extend(san.get_values_for_type(x509.RFC822Name))
        for other in san.get_values_for_type(x509.OtherName):
            if other.type_id != _SMTP_UTF8_MAILBOX:
                continue
            try:
                value = core.UTF8String.load(other.value, strict=True).native
            except (ValueError, TypeError):
                continue  # an unreadable otherName names nobody
            if isinstance(value, str):
                found.append(value)
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS):
        if isinstance(attribute.value, str):
            found.append(attribute.value)
    normalised = (address.strip().lower() for address in found)
    return tuple(dict.fromkeys(address for address in normalised if address))


def _extension(extensions: x509.Extensions, kind: type[_E]) -> _E | None:
    try:
        return extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _purposes(
    key_type: str,
    is_ca: bool,
    key_usage: x509.KeyUsage | None,
    extended: x509.ExtendedKeyUsage | None,
) -> frozenset[Purpose]:
    abilities = _ABILITIES.get(key_type, frozenset())
    if is_ca:
        return frozenset()
    # RFC 8550 §4.4.4: with ExtendedKeyUsage present, emailProtection (or
    # anyExtendedKeyUsage) must be in it for the certificate to do mail.
    if extended is not None and not (
        ExtendedKeyUsageOID.EMAIL_PROTECTION in extended
        or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in extended
    ):
        return frozenset()
    if key_usage is None:
        return abilities
    allowed: set[Purpose] = set()
    # RFC 8550 §4.4.2: digitalSignature and/or nonRepudiation for signing.
    if key_usage.digital_signature or key_usage.content_commitment:
        allowed.add(SIGNING)
    # keyEncipherment for RSA key transport, keyAgreement for (EC)DH.
    if (key_type in _KEY_TRANSPORT and key_usage.key_encipherment) or (
        key_type in _KEY_AGREEMENT and key_usage.key_agreement
    ):
        allowed.add(ENCRYPTION)
    return frozenset(allowed) & abilities


def describe(certificate: x509.Certificate) -> CertificateInfo:
    """Classify ``certificate``.

    Raises :class:`~mailcore.KeyLoadError` when its extensions do not parse
    (duplicate or malformed extensions).
    """
    try:
        extensions = certificate.extensions
        key_usage = _extension(extensions, x509.KeyUsage)
        extended = _extension(extensions, x509.ExtendedKeyUsage)
        constraints = _extension(extensions, x509.BasicConstraints)
        san = _extension(extensions, x509.SubjectAlternativeName)
        subject = format_name(certificate.subject)
        issuer = format_name(certificate.issuer)
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as error:
        # cryptography reads all extensions at once: one it cannot read
        # (malformed, repeated, or an x400Address name) spoils them all.
        raise KeyLoadError(f"the certificate's extensions do not parse: {error}") from None
    key_type, key_bits, curve = _key_facts(certificate)
    is_ca = bool(constraints is not None and constraints.ca)
    der = certificate.public_bytes(Encoding.DER)
    return CertificateInfo(
        subject=subject,
        issuer=issuer,
        emails=_emails(certificate, san),
        serial=_format_serial(_serial_number(certificate)),
        sha256=hashlib.sha256(der).hexdigest(),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        key_type=key_type,
        key_bits=key_bits,
        curve=curve,
        is_ca=is_ca,
        purposes=_purposes(key_type, is_ca, key_usage, extended),
    )


def _describe_or_none(certificate: x509.Certificate) -> CertificateInfo | None:
    try:
        return describe(certificate)
    except KeyLoadError:
        return None


def can_sign(certificate: x509.Certificate) -> bool:
    """The certificate may be used to sign mail (validity dates not checked)."""
    info = _describe_or_none(certificate)
    return info is not None and info.can_sign


def can_encrypt(certificate: x509.Certificate) -> bool:
    """Mail may be encrypted to it (validity dates not checked)."""
    info = _describe_or_none(certificate)
    return info is not None and info.can_encrypt


def _check_purpose(purpose: str) -> Purpose:
    if purpose == SIGNING:
        return SIGNING
    if purpose == ENCRYPTION:
        return ENCRYPTION
    raise ValueError(f"purpose must be 'signing' or 'encryption', not {purpose!r}")


def _rejection(
    info: CertificateInfo | None, purpose: Purpose, email: str | None, at: datetime
) -> str | None:
    if info is None:
        return "malformed"
    if email is not None and email not in info.emails:
        return "email_mismatch"
    if at > info.not_after:
        return "expired"
    if at < info.not_before:
        return "not_yet_valid"
    if purpose not in info.purposes:
        return "wrong_key_usage"
    return None


def _normalise_email(email: str | None) -> str | None:
    return None if email is None else email.strip().lower()


def rejection_reason(
    certificate: x509.Certificate,
    purpose: Purpose,
    *,
    email: str | None = None,
    at: datetime | None = None,
) -> str | None:
    """Why ``certificate`` cannot be used for ``purpose``, or None if it can.

    Reasons, checked in this order: ``malformed`` (extensions do not
    parse), ``email_mismatch`` (``email`` is not among its addresses,
    compared case-insensitively), ``expired``, ``not_yet_valid`` (at ``at``,
    default now), ``wrong_key_usage``.  The names follow JSON B's reasons,
    so a directory lookup can report them in JSON C ``rejected``.
    """
    moment = datetime.now(UTC) if at is None else _aware(at)
    return _rejection(
        _describe_or_none(certificate),
        _check_purpose(purpose),
        _normalise_email(email),
        moment,
    )


def choose_certificate(
    certificates: Iterable[x509.Certificate],
    purpose: Purpose,
    *,
    email: str | None = None,
    at: datetime | None = None,
) -> x509.Certificate | None:
    """The certificate to use for ``purpose``, or None if none qualifies.

    Candidates must be valid at ``at`` (default now), allow ``purpose`` and,
    when ``email`` is given, carry that address.  Among them the latest
    ``not_after`` wins; then the latest ``not_before`` (the newer issue);
    then a single-purpose certificate over a dual-use one (RFC 8551 §2.7.1
    lets a sender prefer a dedicated encryption certificate); then the
    lowest SHA-256 fingerprint, so the answer never depends on input order.
    """
    wanted = _check_purpose(purpose)
    moment = datetime.now(UTC) if at is None else _aware(at)
    address = _normalise_email(email)
    candidates: list[tuple[tuple[float, float, bool, str], x509.Certificate]] = []
    for certificate in certificates:
        info = _describe_or_none(certificate)
        if info is None or _rejection(info, wanted, address, moment) is not None:
            continue
        rank = (
            -info.not_after.timestamp(),
            -info.not_before.timestamp(),
            len(info.purposes) != 1,
            info.sha256,
        )
        candidates.append((rank, certificate))
    return min(candidates, key=lambda candidate: candidate[0])[1] if candidates else None


class PurposeSplit(NamedTuple):
    """Certificates sorted by what they may do (each keeps input order)."""

    signing: tuple[x509.Certificate, ...]
    """Signing only."""
    encryption: tuple[x509.Certificate, ...]
    """Encryption only."""
    dual: tuple[x509.Certificate, ...]
    """Both signing and encryption."""


def split_by_purpose(certificates: Iterable[x509.Certificate]) -> PurposeSplit:
    """Sort ``certificates`` into signing-only, encryption-only and dual-use.

    Certificates with no mail purpose (CA, wrong EKU, unusable key type,
    unreadable extensions) are left out, and so are repeats of the same
    certificate.  Validity dates are not checked.
    """
    signing: list[x509.Certificate] = []
    encryption: list[x509.Certificate] = []
    dual: list[x509.Certificate] = []
    seen: set[str] = set()
    for certificate in certificates:
        info = _describe_or_none(certificate)
        if info is None or info.sha256 in seen:
            continue
        seen.add(info.sha256)
        if info.can_sign and info.can_encrypt:
            dual.append(certificate)
        elif info.can_sign:
            signing.append(certificate)
        elif info.can_encrypt:
            encryption.append(certificate)
    return PurposeSplit(tuple(signing), tuple(encryption), tuple(dual))
