"""Choosing a recipient's encryption certificate among what the directory holds.

For each address only certificates that pass every check are kept, checked
in this order (the first failure is the reason recorded in JSON C):

1. ``malformed``: the value is not a certificate, or its extensions do not parse;
2. ``address_mismatch``: issued to another address.  RFC 8550 §3: the
   subjectAltName rfc822Name values are the certificate's addresses; the
   subject's emailAddress only when there are none.  Compared ignoring case
   (domains are case-insensitive, and directories match ``mail`` so too);
3. ``expired`` / ``not_yet_valid`` at the lookup time;
4. ``wrong_key_usage``: not for encryption.  RFC 8550 §4.4.2: keyEncipherment
   for RSA key transport, keyAgreement for EC/X25519; §4.4.4: with
   ExtendedKeyUsage present it must allow emailProtection;
5. ``weak_key``: RSA shorter than the policy's minimum (2048 bits by default);
6. ``untrusted``: no valid path to the configured trust anchors (only when
   anchors are configured);
7. ``revoked``: listed by a configured CRL of its issuer.

Among the certificates left, the one that expires last wins (then the newer
issue, then a dedicated encryption certificate over a dual-use one, then the
lowest fingerprint, so the answer never depends on the directory's order).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import NameOID

from mailcore.directory._model import LookupResult, Rejection, RejectionReason
from mailcore.directory._paths import PathValidator
from mailcore.errors import KeyLoadError, MalformedInput
from mailcore.smime._certs import ENCRYPTION, certificate_key
from mailcore.smime._certs import _extension as _extension
from mailcore.smime._certs import _key_facts as key_facts
from mailcore.smime._certs import _purposes as mail_purposes
from mailcore.smime._keys import load_certificates

__all__ = ["CertificateSelector", "addresses_of"]


def addresses_of(certificate: x509.Certificate) -> frozenset[str]:
    """RFC 8550 §3: SAN rfc822Name values, else the subject's emailAddress (lowercased)."""
    try:
        san = _extension(certificate.extensions, x509.SubjectAlternativeName)
    except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
        return frozenset()
    return _addresses(certificate, san)


def _addresses(
    certificate: x509.Certificate, san: x509.SubjectAlternativeName | None
) -> frozenset[str]:
    # (A plain pass: GeneralNames.get_values_for_type costs an ABC
    # isinstance per name, and this runs for every candidate certificate.)
    names = [n.value for n in san if type(n) is x509.RFC822Name] if san is not None else []
    if not names:
        names = [
            value
            for attribute in certificate.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)
            if isinstance(value := attribute.value, str)
        ]
    return frozenset(name.strip().lower() for name in names)


_EC_PUBLIC_KEY = x509.ObjectIdentifier("1.2.840.10045.2.1")
_X25519 = x509.ObjectIdentifier("1.3.101.110")


def _key_kind(certificate: x509.Certificate) -> tuple[str, int]:
    """Key type and size, reading the public key only where its size matters (RSA)."""
    algorithm = certificate.public_key_algorithm_oid
    if algorithm == _EC_PUBLIC_KEY:
        return "ec", 0  # the curve does not decide anything here
    if algorithm == _X25519:
        return "x25519", 256
    kind, bits, _ = key_facts(certificate)
    return kind, bits


def _serial(certificate: x509.Certificate) -> int:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return certificate.serial_number


def _load_files(paths: Sequence[str], base: Path | None, what: str) -> list[bytes]:
    found: list[bytes] = []
    for name in paths:
        path = Path(name)
        if base is not None and not path.is_absolute():
            path = base / path
        try:
            found.append(path.read_bytes())
        except OSError as error:
            raise MalformedInput(
                f"the {what} file cannot be read: {error.strerror}", where=str(path)
            ) from None
    return found


def _load_crl(data: bytes, where: str) -> x509.CertificateRevocationList:
    try:
        if b"-----BEGIN X509 CRL-----" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError:
        raise MalformedInput("not a CRL (PEM or DER)", where=where) from None


class CertificateSelector:
    """Applies the checks above; immutable and safe to share between threads."""

    def __init__(
        self,
        *,
        trust_anchors: Iterable[x509.Certificate] = (),
        intermediates: Iterable[x509.Certificate] = (),
        crls: Iterable[x509.CertificateRevocationList] = (),
        min_rsa_bits: int = 2048,
    ) -> None:
        self._anchors = tuple(trust_anchors)
        self._intermediates = tuple(intermediates)
        self._crls = tuple(crls)
        self._min_rsa_bits = min_rsa_bits
        self._paths = PathValidator(self._anchors, self._intermediates)
        self._issuers = {c.subject: c for c in (*self._anchors, *self._intermediates)}

    @classmethod
    def from_files(
        cls,
        *,
        trust_anchors: Sequence[str] = (),
        intermediates: Sequence[str] = (),
        crls: Sequence[str] = (),
        min_rsa_bits: int = 2048,
        base: Path | None = None,
    ) -> CertificateSelector:
        """Load anchors, intermediates (PEM/DER/PKCS #7) and CRLs from files."""
        anchors = [
            certificate
            for data in _load_files(trust_anchors, base, "trust anchor")
            for certificate in load_certificates(data)
        ]
        others = [
            certificate
            for data in _load_files(intermediates, base, "intermediate certificate")
            for certificate in load_certificates(data)
        ]
        lists = [
            _load_crl(data, name)
            for name, data in zip(crls, _load_files(crls, base, "CRL"), strict=True)
        ]
        return cls(
            trust_anchors=anchors, intermediates=others, crls=lists, min_rsa_bits=min_rsa_bits
        )

    # -- one address ---------------------------------------------------------------

    def select(self, address: str, values: Iterable[bytes], at: datetime) -> LookupResult:
        """The result for ``address`` given the raw certificate values found for it."""
        wanted = address.strip().lower()
        rejected: list[Rejection] = []
        usable: list[tuple[tuple[float, float, bool, str], x509.Certificate]] = []
        seen: set[str] = set()
        any_value = False
        for value in values:
            any_value = True
            try:
                # Directories hold DER certificates (userCertificate): read them
                # directly; PKCS #7 bags (userSMIMECertificate) and PEM files
                # go through the general loader.
                certificates: tuple[x509.Certificate, ...] = (
                    x509.load_der_x509_certificate(value),
                )
                digests: tuple[str, ...] | None = (hashlib.sha256(value).hexdigest(),)
            except ValueError:
                try:
                    certificates = load_certificates(value)
                except KeyLoadError:
                    digest = hashlib.sha256(value).hexdigest()
                    if digest not in seen:
                        seen.add(digest)
                        rejected.append(Rejection(digest, "malformed"))
                    continue
                digests = None
            for index, certificate in enumerate(certificates):
                digest = (
                    digests[index]
                    if digests is not None
                    else hashlib.sha256(certificate.public_bytes(Encoding.DER)).hexdigest()
                )
                if digest in seen:
                    continue
                seen.add(digest)
                checked = self._check(certificate, wanted, at)
                if isinstance(checked, str):
                    rejected.append(Rejection(digest, checked))
                    continue
                not_before, not_after, single_purpose = checked
                rank = (-not_after, -not_before, not single_purpose, digest)
                usable.append((rank, certificate))
        rejected.sort(key=lambda rejection: rejection.sha256)
        if usable:
            _, chosen = min(usable, key=lambda candidate: candidate[0])
            return LookupResult(wanted, "found", chosen, tuple(rejected))
        if any_value:
            return LookupResult(wanted, "no_valid_certificate", None, tuple(rejected))
        return LookupResult(wanted, "not_found", None, ())

    def rejection(
        self, certificate: x509.Certificate, address: str, at: datetime
    ) -> RejectionReason | None:
        """Why ``certificate`` cannot encrypt to ``address`` at ``at`` (None: it can)."""
        checked = self._check(certificate, address.strip().lower(), at)
        return checked if isinstance(checked, str) else None

    def _check(
        self, certificate: x509.Certificate, address: str, at: datetime
    ) -> RejectionReason | tuple[float, float, bool]:
        """A rejection reason, or (not_before, not_after, single-purpose) to rank by.

        Reads only what the checks need (this runs for every certificate of
        every recipient; naming and describing wait for the chosen one).
        """
        key_usage: x509.KeyUsage | None = None
        extended: x509.ExtendedKeyUsage | None = None
        constraints: x509.BasicConstraints | None = None
        san: x509.SubjectAlternativeName | None = None
        try:
            # One pass over the extensions rather than a lookup per kind (four
            # scans with ABC isinstance checks); a duplicate is refused by
            # cryptography when .extensions is read, as before.
            for extension in certificate.extensions:
                value = extension.value
                kind = type(value)
                if kind is x509.KeyUsage:
                    key_usage = value
                elif kind is x509.ExtendedKeyUsage:
                    extended = value
                elif kind is x509.BasicConstraints:
                    constraints = value
                elif kind is x509.SubjectAlternativeName:
                    san = value
        except (ValueError, x509.DuplicateExtension, x509.UnsupportedGeneralNameType):
            return "malformed"
        if address not in _addresses(certificate, san):
            return "address_mismatch"
        not_before = certificate.not_valid_before_utc
        not_after = certificate.not_valid_after_utc
        if at > not_after:
            return "expired"
        if at < not_before:
            return "not_yet_valid"
        key_type, key_bits = _key_kind(certificate)
        is_ca = bool(constraints is not None and constraints.ca)
        purposes = mail_purposes(key_type, is_ca, key_usage, extended)
        if ENCRYPTION not in purposes:
            return "wrong_key_usage"
        if key_type == "rsa" and key_bits < self._min_rsa_bits:
            return "weak_key"
        if self._anchors and not self._path_valid(certificate, at):
            return "untrusted"
        if self._crls and self._revoked(certificate):
            return "revoked"
        return not_before.timestamp(), not_after.timestamp(), len(purposes) == 1

    def _path_valid(self, certificate: x509.Certificate, at: datetime) -> bool:
        return self._paths.valid(certificate, at)

    def _revoked(self, certificate: x509.Certificate) -> bool:
        serial = _serial(certificate)
        for revocations in self._crls:
            if revocations.issuer != certificate.issuer:
                continue
            issuer = self._issuers.get(certificate.issuer)
            if issuer is not None:
                try:
                    issuer_key = certificate_key(issuer)
                    if issuer_key is None or not revocations.is_signature_valid(issuer_key):  # type: ignore[arg-type]
                        continue  # a forged CRL says nothing
                except (TypeError, ValueError):
                    continue
            if revocations.get_revoked_certificate_by_serial_number(serial) is not None:
                return True
        return False
