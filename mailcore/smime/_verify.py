"""Verification of S/MIME signed messages (RFC 8551 §3.5, RFC 5652 §5.6).

The verdict has three layers, all of which must pass for every signer:

1. the CMS signature: messageDigest and content-type attributes against the
   content, the signature over the DER of the signed attributes;
2. the certificate: a path to one of the caller's trust anchors (RFC 5280,
   by pyhanko-certvalidator, with the caller's CRLs), key usage and
   extended key usage for S/MIME signing (RFC 8550 §4.4);
3. the sender: From (or Sender) names an address in the certificate
   (RFC 8550 §3).

The content of a multipart/signed message is the first part exactly as it
was received (sliced from the raw bytes, line ends canonicalised to CRLF as
RFC 8551 §3.1.1 requires, nothing else); that of an opaque message is the
eContent.  It is handed back only when everything verified.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
import warnings
from collections.abc import Coroutine, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from asn1crypto import cms, core  # type: ignore[import-untyped]  # no stubs
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from mailcore._address import strict_mailboxes
from mailcore._message import MessageInput, RawMessage

if TYPE_CHECKING:
    from pyhanko_certvalidator.path import ValidationPath
from mailcore.errors import (
    MailcoreError,
    MalformedMessage,
    MalformedSmime,
    UnsupportedAlgorithm,
)
from mailcore.smime import _der
from mailcore.smime._algorithms import (
    ATTR_CONTENT_TYPE,
    ATTR_ENCRYPTION_KEY_PREFERENCE,
    ATTR_MESSAGE_DIGEST,
    ATTR_SIGNING_TIME,
    ATTR_SMIME_CAPABILITIES,
    DIGESTS,
    EC_PUBLIC_KEY,
    ECDSA_WITH,
    ED25519,
    ID_AUTH_ENVELOPED_DATA,
    ID_DATA,
    ID_ENVELOPED_DATA,
    ID_SIGNED_DATA,
    MGF1,
    RSA_ENCRYPTION,
    RSA_WITH,
    RSASSA_PSS,
    Capability,
    Digest,
    SignatureScheme,
    decode_capabilities,
)
from mailcore.smime._certs import certificate_key, format_name
from mailcore.smime._mime import canonicalise, content_type, find_signed_parts
from mailcore.smime._pathbuild import Node, PathBudget, distinct_issuers, validate_bounded

__all__ = [
    "REASONS",
    "Reason",
    "SignerReport",
    "VerifyResult",
    "verify_message",
]

Reason = Literal[
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
]
"""Why a signature is not valid (contract JSON B)."""

REASONS: tuple[Reason, ...] = (
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
)

_SIGNATURE_TYPES = ("application/pkcs7-signature", "application/x-pkcs7-signature")
_MIME_TYPES = ("application/pkcs7-mime", "application/x-pkcs7-mime")
_ASN1_ERRORS = (ValueError, TypeError, KeyError, IndexError, OverflowError, AttributeError)
_MIN_RSA_BITS = 2048
# Structural limits (issue 17.1: any message under serve's size limit is
# verified or refused in well under a second).  Real mail carries one
# SignerInfo and 1-5 certificates (the signer's, its CA chain, perhaps an
# encryption certificate); a SignedData beyond these is refused as
# MalformedSmime, before any of it is checked.
MAX_CERTIFICATES = 32
"""Certificates (and as many CRLs) one SignedData may carry."""
MAX_SIGNERS = 16
"""SignerInfos one SignedData may carry (each costs a signature check and a
path validation)."""
_RESOURCE_ERRORS = (RecursionError, MemoryError)
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class SignerReport:
    """What is known about one signer (one SignerInfo) and its verdict.

    The JSON B fields are :meth:`to_dict`'s; ``valid``, ``reason`` and the
    certificates are for library callers.
    """

    subject: str | None
    """The signer certificate's subject (RFC 4514), None if it was not found."""
    email: str | None
    """The certificate address that matched the sender, else its first one."""
    serial: str | None
    """Certificate serial number as ``0x`` + lowercase hex."""
    sha256: str | None
    """SHA-256 of the certificate's DER, lowercase hex."""
    digest: str | None
    """Digest algorithm (``sha256``...), None if mailcore does not know it."""
    signature: SignatureScheme | None
    """``rsa-pkcs1v15``, ``rsa-pss``, ``ecdsa`` or ``ed25519``."""
    signing_time: datetime | None
    """The signing-time attribute (the signer's claim, not checked)."""
    chain: tuple[str, ...]
    """Subjects of the certificate path above the signer, issuing CA first:
    the validated path, or the one that failed (expired, revoked...); empty
    when no path to a trust anchor was found."""
    valid: bool
    reason: Reason | None
    certificate: x509.Certificate | None = field(default=None, repr=False)
    """The signer's certificate, when it was found."""
    capabilities: tuple[Capability, ...] = ()
    """The signer's SMIMECapabilities (what it can decrypt, preferred first)."""
    encryption_certificate: x509.Certificate | None = field(default=None, repr=False)
    """The certificate named by SMIMEEncryptionKeyPreference, if the message
    carries it (RFC 8551 §2.5.3); not validated."""

    def to_dict(self) -> dict[str, Any]:
        """JSON B ``signers[]`` entry."""
        return {
            "subject": self.subject,
            "email": self.email,
            "serial": self.serial,
            "sha256": self.sha256,
            "digest": self.digest,
            "signature": self.signature,
            "signing_time": _iso(self.signing_time),
            "chain": list(self.chain),
        }


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The verdict on a signed message.

    ``valid`` is true only when there is at least one signer and every
    signer is valid; ``reason`` is then None, else the first failing
    signer's reason.  ``content`` is the verified MIME entity (the bytes
    the signature covers) when valid, and None otherwise: unverified
    content is never handed out.
    """

    valid: bool
    reason: Reason | None
    signers: tuple[SignerReport, ...]
    content: bytes | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON B of the contract."""
        return {
            "valid": self.valid,
            "reason": self.reason,
            "signers": [signer.to_dict() for signer in self.signers],
        }


def verify_message(
    message: MessageInput,
    *,
    trust: Sequence[x509.Certificate],
    at: datetime | None = None,
    crls: Sequence[x509.CertificateRevocationList] = (),
    intermediates: Sequence[x509.Certificate] = (),
    check_sender: bool = True,
    allow_sha1: bool = False,
    sender: str | None = None,
) -> VerifyResult:
    """Verify an S/MIME signed message.

    Accepted: ``multipart/signed`` with an ``application/(x-)pkcs7-signature``
    part, and opaque signed-data (``application/pkcs7-mime``,
    ``application/x-pkcs7-mime``, or ``application/octet-stream`` named
    ``*.p7m``), DER or BER.  What the CMS holds is read from its content-type
    OID, not from ``smime-type``.

    The rule for errors: input that is not a signed S/MIME message at all,
    or whose MIME framing or CMS encoding does not parse (garbage or
    truncated DER, a missing boundary, bad base64, encrypted or certs-only
    CMS) raises :class:`~mailcore.errors.MalformedSmime`.  A message that
    parses gives a :class:`VerifyResult` whatever its signatures are worth;
    its reason ``malformed`` means a SignerInfo that parses but breaks a
    CMS rule (e.g. no messageDigest attribute).  A signature or digest
    algorithm mailcore does not implement raises
    :class:`~mailcore.errors.UnsupportedAlgorithm`.

    Args:
        trust: the trust anchors; nothing else is trusted (no system store).
        at: the moment to validate certificates at; default now.  The
            signing-time attribute is reported but not trusted for this.
            A naive datetime is taken as UTC.
        crls: CRLs to check revocation with (nothing is fetched).  When
            given, revocation checking is mandatory for signer certificates:
            a signer that no given CRL covers is ``untrusted``; an
            intermediate CA is checked against its CRL when its certificate
            names a CRL distribution point.
        intermediates: extra CA certificates for path building (the message's
            own certificates are always used).
        check_sender: require a certificate address to match From or
            Sender (RFC 8550 §3).
        allow_sha1: accept SHA-1 (digest, signature, certificates).  MD5 is
            never accepted, nor RSA keys under 2048 bits.
        sender: the address to match instead of From/Sender (e.g. the outer
            From of a message that was decrypted first).

    With several SignerInfos every one is checked and reported; the message
    is valid only if all are (so each signer's certificate must also match
    the sender), and ``reason`` is the first failing signer's.

    Each signer is checked in this order and gets the first failing reason:
    signer certificate found (``untrusted``), algorithms (``weak_algorithm``),
    attributes (``malformed``, ``content_mismatch``), signature
    (``bad_signature``), certificate path (``untrusted``, ``expired``,
    ``not_yet_valid``, ``revoked``, ``weak_algorithm``), usage
    (``wrong_key_usage``), sender (``sender_mismatch``).
    """
    moment = _utc(at) if at is not None else datetime.now(UTC)
    try:
        raw = RawMessage(message)
        content, der, detached = _locate(raw)
    except MalformedMessage as error:
        raise MalformedSmime(error.detail, where=error.where) from None
    signed = _parse_signed_data(der)
    if not signed.signers:
        raise MalformedSmime(
            "the SignedData has no SignerInfo: it is not a signed message", where="SignedData"
        )
    if not detached:
        if signed.content is None:
            raise MalformedSmime(
                "opaque signed-data without encapsulated content", where="SignedData"
            )
        content = signed.content
    addresses = _sender_addresses(raw, sender)
    context = _Context(
        trust=tuple(trust),
        intermediates=tuple(intermediates),
        crls=tuple(crls),
        moment=moment,
        allow_sha1=allow_sha1,
        check_sender=check_sender,
        addresses=addresses,
    )
    pool = _certificate_pool(signed.certificates, context)
    try:
        reports = tuple(_check_signer(s, signed, content, pool, context) for s in signed.signers)
    except MailcoreError:
        raise
    except _ASN1_ERRORS as error:
        # asn1crypto parses lazily; anything it finds late is still bad input.
        raise MalformedSmime(f"the CMS does not parse: {error}", where="CMS") from None
    failed = next((r.reason for r in reports if not r.valid), None)
    if failed is None and check_sender and not _every_author_signed(raw, sender, reports):
        failed = "sender_mismatch"
    valid = failed is None
    return VerifyResult(valid, failed, reports, content if valid else None)


# -- the MIME layer -------------------------------------------------------------------


def _locate(raw: RawMessage) -> tuple[bytes, bytes, bool]:
    """(detached content or b"", CMS bytes, detached?) from the message."""
    kind, params = content_type(raw.first("Content-Type"))
    if kind == "multipart/signed":
        parts = find_signed_parts(raw.data)
        protocol = parts.protocol.strip().lower()
        if protocol not in _SIGNATURE_TYPES:
            raise MalformedSmime(
                f"multipart/signed with protocol {parts.protocol!r} is not S/MIME",
                where="Content-Type",
            )
        # RFC 8551 §3.1.1: the signature is over the canonical (CRLF) form.
        return canonicalise(parts.signed), parts.signature, True
    if kind in _MIME_TYPES or (kind == "application/octet-stream" and _p7m_name(raw, params)):
        return b"", _body(raw), False
    raise MalformedSmime(
        f"Content-Type is {kind}: not a signed S/MIME message", where="Content-Type"
    )


def _p7m_name(raw: RawMessage, params: dict[str, str]) -> bool:
    _, disposition = content_type(raw.first("Content-Disposition"))
    names = (params.get("name", ""), disposition.get("filename", ""))
    return any(name.strip().lower().endswith(".p7m") for name in names)


def _body(raw: RawMessage) -> bytes:
    body = raw.data[raw.body_start :]
    encoding = (raw.first("Content-Transfer-Encoding") or "binary").strip().lower()
    if encoding != "base64":
        return body
    try:
        return base64.b64decode(re.sub(rb"\s+", b"", body), validate=True)
    except (ValueError, binascii.Error):
        raise MalformedSmime("the body is not valid base64", where="message body") from None


# -- the CMS layer (parsed once, into plain values) -----------------------------------


@dataclass(frozen=True, slots=True)
class _SignerInfo:
    issuer: asn1_x509.Name | None
    serial: int | None
    key_id: bytes | None
    digest_oid: str
    signature_oid: str
    pss: tuple[str, str, str, int, int] | None  # hash, mgf, mgf hash, salt, trailer
    signed_attributes: bytes | None  # DER SET OF (tag 0x31), what was signed
    attributes: dict[str, list[Any]]
    signature: bytes


@dataclass(frozen=True, slots=True)
class _SignedData:
    content_type: str
    content: bytes | None
    certificates: tuple[bytes, ...]
    crls: tuple[asn1_crl.CertificateList, ...]
    signers: tuple[_SignerInfo, ...]


def _parse_signed_data(der: bytes) -> _SignedData:
    """Everything verification needs, read (BER tolerant) in one place."""
    try:
        info = cms.ContentInfo.load(der)
        kind = info["content_type"].dotted
        if kind != ID_SIGNED_DATA:
            raise MalformedSmime(_not_signed(kind), where="ContentInfo")
        signed = info["content"]
        _check_counts(signed)
        encapsulated = signed["encap_content_info"]
        econtent = encapsulated["content"]
        content: bytes | None = None
        if isinstance(econtent, core.OctetString | core.ParsableOctetString):
            content = bytes(econtent)
        elif not isinstance(econtent, core.Void):
            content = econtent.dump()
        certificates = tuple(
            choice.chosen.dump()
            for choice in _optional(signed["certificates"])
            if choice.name == "certificate"
        )
        crls = tuple(choice.chosen for choice in _optional(signed["crls"]) if choice.name == "crl")
        return _SignedData(
            content_type=encapsulated["content_type"].dotted,
            content=content,
            certificates=certificates,
            crls=crls,
            signers=tuple(_parse_signer(s) for s in signed["signer_infos"]),
        )
    except MalformedSmime:
        raise
    except _ASN1_ERRORS as error:
        raise MalformedSmime(f"the CMS does not parse: {error}", where="CMS") from None
    except _RESOURCE_ERRORS:
        raise MalformedSmime(_TOO_DEEP, where="CMS") from None


_TOO_DEEP = "the CMS is nested too deeply or too large to read"


def _check_counts(signed: cms.SignedData) -> None:
    """MAX_CERTIFICATES and MAX_SIGNERS, counted before anything is parsed."""
    limits = (
        ("certificates", "certificates", MAX_CERTIFICATES),
        ("crls", "CRLs", MAX_CERTIFICATES),
        ("signer_infos", "SignerInfos", MAX_SIGNERS),
    )
    for name, what, limit in limits:
        count = len(_optional(signed[name]))
        if count > limit:
            raise MalformedSmime(
                f"the SignedData carries {count} {what}; mailcore reads at most {limit}",
                where=f"SignedData {name}",
            )


def _not_signed(kind: str) -> str:
    if kind in (ID_ENVELOPED_DATA, ID_AUTH_ENVELOPED_DATA):
        return "the CMS is encrypted (enveloped-data): decrypt it before verifying"
    return f"the CMS content type is {kind}, not signed-data"


def _optional(value: Any) -> Any:
    return () if isinstance(value, core.Void) else value


def _parse_signer(info: cms.SignerInfo) -> _SignerInfo:
    sid = info["sid"]
    issuer = serial = key_id = None
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        issuer.hashable  # noqa: B018 - parse and normalise it now: compared later
        serial = sid.chosen["serial_number"].native
    else:
        key_id = sid.chosen.native
    algorithm = info["signature_algorithm"]
    signature_oid = algorithm["algorithm"].dotted
    pss = None
    if signature_oid == RSASSA_PSS:
        params = algorithm["parameters"]
        mask = params["mask_gen_algorithm"]
        pss = (
            params["hash_algorithm"]["algorithm"].dotted,
            mask["algorithm"].dotted,
            mask["parameters"]["algorithm"].dotted,
            params["salt_length"].native,
            int(params["trailer_field"].native == "trailer_field_bc"),
        )
    attributes: dict[str, list[Any]] = {}
    signed_attributes = None
    raw_attributes = info["signed_attrs"]
    if not isinstance(raw_attributes, core.Void):
        # RFC 5652 §5.4: the signature is over the attributes with the
        # EXPLICIT SET OF tag, not the [0] IMPLICIT tag they travel with.
        signed_attributes = _der.tlv(0x31, raw_attributes.contents)
        for attribute in raw_attributes:
            oid = attribute["type"].dotted
            attributes.setdefault(oid, []).extend(_attribute_values(oid, attribute))
    return _SignerInfo(
        issuer=issuer,
        serial=serial,
        key_id=key_id,
        digest_oid=info["digest_algorithm"]["algorithm"].dotted,
        signature_oid=signature_oid,
        pss=pss,
        signed_attributes=signed_attributes,
        attributes=attributes,
        signature=info["signature"].native,
    )


def _attribute_values(oid: str, attribute: cms.CMSAttribute) -> list[Any]:
    values = attribute["values"]
    if oid == ATTR_CONTENT_TYPE:
        return [value.dotted for value in values]
    if oid in (ATTR_MESSAGE_DIGEST, ATTR_SIGNING_TIME):
        return [value.native for value in values]
    if oid == ATTR_SMIME_CAPABILITIES:
        return [decode_capabilities(value.dump()) for value in values]
    if oid == ATTR_ENCRYPTION_KEY_PREFERENCE:
        # Informational only: a form mailcore cannot read is left out.
        found = []
        for value in values:
            try:
                if value.name == "issuer_and_serial_number":
                    issuer = value.chosen["issuer"]
                    issuer.hashable  # noqa: B018 - parse and normalise it now
                    found.append((issuer, value.chosen["serial_number"].native))
            except _ASN1_ERRORS:
                continue
        return found
    return []


# -- checking one signer -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Context:
    trust: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...]
    crls: tuple[x509.CertificateRevocationList, ...]
    moment: datetime
    allow_sha1: bool
    check_sender: bool
    addresses: tuple[str, ...]
    budget: PathBudget = field(default_factory=PathBudget)  # the message's, for all signers


@dataclass(frozen=True, slots=True)
class _Certificate:
    crypto: x509.Certificate
    asn1: asn1_x509.Certificate
    der: bytes
    issuer: asn1_x509.Name
    serial: int
    key_id: bytes | None


class _Failed(Exception):
    """A signer check failed; carries the reason."""

    def __init__(self, reason: Reason, path: ValidationPath | None = None) -> None:
        super().__init__(reason)
        self.reason: Reason = reason
        self.path = path  # the path that was being validated, if any


def _certificate_pool(embedded: Sequence[bytes], context: _Context) -> list[_Certificate]:
    """The message's certificates, then the caller's, without duplicates."""
    ders = list(embedded)
    ders += [c.public_bytes(serialization.Encoding.DER) for c in context.intermediates]
    ders += [c.public_bytes(serialization.Encoding.DER) for c in context.trust]
    pool = []
    for der in dict.fromkeys(ders):
        try:
            pool.append(_load_certificate(der))
        except Exception:
            raise MalformedSmime(
                "a certificate in the message does not parse", where="SignedData certificates"
            ) from None
    return pool


def _load_certificate(der: bytes) -> _Certificate:
    """Both parsers' views of a certificate, read completely now (both parse
    lazily, and a late parse error must not escape as a bare exception)."""
    with warnings.catch_warnings():
        # e.g. a non-positive serial (old CAs): judged by the path
        # validation, not worth a warning per message.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        crypto = x509.load_der_x509_certificate(der)
        _subject_string(crypto.subject)
        _subject_string(crypto.issuer)
        crypto.extensions  # noqa: B018
        crypto.serial_number  # noqa: B018
    parsed = asn1_x509.Certificate.load(der)
    parsed.native  # noqa: B018
    parsed.issuer.hashable  # noqa: B018 - the normalised form names are compared by
    parsed.subject.hashable  # noqa: B018
    return _Certificate(
        crypto, parsed, der, parsed.issuer, parsed.serial_number, parsed.key_identifier
    )


def _candidates(signer: _SignerInfo, pool: Sequence[_Certificate]) -> list[_Certificate]:
    """Certificates the SignerIdentifier names: issuer and serial together,
    or the subject key identifier (RFC 5652 §5.3) — never the serial alone."""
    found = []
    for certificate in pool:
        if signer.key_id is not None:
            if certificate.key_id == signer.key_id:
                found.append(certificate)
        elif certificate.serial == signer.serial and certificate.issuer == signer.issuer:
            found.append(certificate)
    return found


def _check_signer(
    signer: _SignerInfo,
    signed: _SignedData,
    content: bytes,
    pool: list[_Certificate],
    context: _Context,
) -> SignerReport:
    digest = DIGESTS.get(signer.digest_oid)
    if digest is None:
        raise UnsupportedAlgorithm(f"digest algorithm {signer.digest_oid} is not supported")
    scheme, signature_hash, mgf_hash = _signature_scheme(signer, digest)
    times = signer.attributes.get(ATTR_SIGNING_TIME, [])
    signing_time = times[0] if len(times) == 1 and isinstance(times[0], datetime) else None
    capabilities: tuple[Capability, ...] = next(
        iter(signer.attributes.get(ATTR_SMIME_CAPABILITIES, [])), ()
    )
    candidates = _candidates(signer, pool)
    certificate = candidates[0] if candidates else None
    path: ValidationPath | None = None
    reason: Reason | None = None
    try:
        if certificate is None:
            raise _Failed("untrusted")
        if len(times) > 1:
            raise _Failed("malformed")
        _check_weak(digest, signature_hash, mgf_hash, certificate, context)
        _check_attributes(signer, signed, digest, content)
        certificate = _check_signature(signer, scheme, signature_hash, content, candidates)
        path = _validate_path(certificate, pool, signed, context)
        _check_intermediates_revoked(path, context)
        _check_weak_path(path, context)
        _check_usage(certificate.crypto)
        if context.check_sender and _matching_email(certificate.crypto, context) is None:
            raise _Failed("sender_mismatch")
    except _Failed as failure:
        reason = failure.reason
        path = failure.path or path
    except _RESOURCE_ERRORS:
        raise MalformedSmime(_TOO_DEEP, where="SignerInfo") from None
    return _report(
        signer,
        certificate,
        digest,
        scheme,
        signing_time,
        capabilities,
        path,
        reason,
        pool,
        context,
    )


def _signature_scheme(
    signer: _SignerInfo, digest: Digest
) -> tuple[SignatureScheme, Digest, Digest | None]:
    """(scheme, hash the signature uses, MGF1 hash for PSS)."""
    oid = signer.signature_oid
    if oid == RSA_ENCRYPTION:
        return "rsa-pkcs1v15", digest, None
    if oid in RSA_WITH:
        return "rsa-pkcs1v15", _digest_named(RSA_WITH[oid]), None
    if oid == RSASSA_PSS and signer.pss is not None:
        hash_oid, mgf, mgf_hash_oid, _, _ = signer.pss
        if mgf != MGF1:
            raise UnsupportedAlgorithm(f"RSASSA-PSS mask generation {mgf} is not supported")
        return "rsa-pss", _digest_oid(hash_oid), _digest_oid(mgf_hash_oid)
    if oid in ECDSA_WITH:
        return "ecdsa", _digest_named(ECDSA_WITH[oid]), None
    if oid == EC_PUBLIC_KEY:
        return "ecdsa", digest, None
    if oid == ED25519:
        return "ed25519", digest, None
    raise UnsupportedAlgorithm(f"signature algorithm {oid} is not supported")


def _digest_oid(oid: str) -> Digest:
    found = DIGESTS.get(oid)
    if found is None:
        raise UnsupportedAlgorithm(f"digest algorithm {oid} is not supported")
    return found


def _digest_named(name: str) -> Digest:
    return next(d for d in DIGESTS.values() if d.name == name)


def _weak(digest: Digest | None, context: _Context) -> bool:
    if digest is None or not digest.weak:
        return False
    return not (digest.name == "sha1" and context.allow_sha1)


def _check_weak(
    digest: Digest,
    signature_hash: Digest,
    mgf_hash: Digest | None,
    certificate: _Certificate,
    context: _Context,
) -> None:
    if any(_weak(d, context) for d in (digest, signature_hash, mgf_hash)):
        raise _Failed("weak_algorithm")
    if _weak_key(certificate.crypto):
        raise _Failed("weak_algorithm")


def _weak_key(certificate: x509.Certificate) -> bool:
    key = certificate_key(certificate)  # None: a key cryptography cannot load, or DSA
    return isinstance(key, rsa.RSAPublicKey) and key.key_size < _MIN_RSA_BITS


def _check_attributes(
    signer: _SignerInfo, signed: _SignedData, digest: Digest, content: bytes
) -> None:
    if signer.signed_attributes is None:
        # RFC 5652 §5.3: without attributes the content must be id-data.
        if signed.content_type != ID_DATA:
            raise _Failed("malformed")
        return
    types = signer.attributes.get(ATTR_CONTENT_TYPE, [])
    digests = signer.attributes.get(ATTR_MESSAGE_DIGEST, [])
    # RFC 5652 §11.1/§11.2: both MUST be present, each with one value.
    if len(types) != 1 or len(digests) != 1 or not isinstance(digests[0], bytes):
        raise _Failed("malformed")
    if types[0] != signed.content_type:
        raise _Failed("content_mismatch")
    hasher = hashes.Hash(digest.new())
    hasher.update(content)
    if hasher.finalize() != digests[0]:
        raise _Failed("content_mismatch")


def _check_signature(
    signer: _SignerInfo,
    scheme: SignatureScheme,
    signature_hash: Digest,
    content: bytes,
    candidates: list[_Certificate],
) -> _Certificate:
    """The candidate whose key verifies the signature (RFC 5652 §5.6)."""
    data = signer.signed_attributes if signer.signed_attributes is not None else content
    for candidate in candidates:
        if _signature_ok(candidate.crypto, signer, scheme, signature_hash, data):
            return candidate
    raise _Failed("bad_signature")


def _signature_ok(
    certificate: x509.Certificate,
    signer: _SignerInfo,
    scheme: SignatureScheme,
    signature_hash: Digest,
    data: bytes,
) -> bool:
    try:
        key = certificate_key(certificate)
        if scheme == "ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signer.signature, data)
            return True
        if scheme == "ecdsa" and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signer.signature, data, ec.ECDSA(signature_hash.new()))
            return True
        if scheme == "rsa-pkcs1v15" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signer.signature, data, padding.PKCS1v15(), signature_hash.new())
            return True
        if scheme == "rsa-pss" and isinstance(key, rsa.RSAPublicKey) and signer.pss:
            _, _, mgf_hash_oid, salt, trailer = signer.pss
            if trailer != 1:
                return False
            pss = padding.PSS(mgf=padding.MGF1(DIGESTS[mgf_hash_oid].new()), salt_length=salt)
            key.verify(signer.signature, data, pss, signature_hash.new())
            return True
    except (InvalidSignature, ValueError, TypeError, _CryptoUnsupported):
        return False
    return False


# -- the certificate -----------------------------------------------------------------


def _validate_path(
    certificate: _Certificate,
    pool: list[_Certificate],
    signed: _SignedData,
    context: _Context,
) -> ValidationPath:
    if not context.trust:
        raise _Failed("untrusted")
    # Imported here: signing, encrypting and decrypting never validate a
    # path, and pyhanko-certvalidator (with asyncio) costs ~35 ms at start-up.
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator import errors as pathing
    from pyhanko_certvalidator.policy_decl import (
        CertRevTrustPolicy,
        RevocationCheckingPolicy,
        RevocationCheckingRule,
    )

    trust = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
        for c in context.trust
    ]
    crls: list[asn1_crl.CertificateList] = [
        asn1_crl.CertificateList.load(c.public_bytes(serialization.Encoding.DER))
        for c in context.crls
    ]
    if context.crls:
        # Given CRLs make revocation checking mandatory for the signer (the
        # cached CRLs are only consulted when a rule asks for them); an
        # intermediate is checked when it names a distribution point.
        policy = RevocationCheckingPolicy(
            ee_certificate_rule=RevocationCheckingRule.CRL_REQUIRED,
            intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED,
        )
        crls += list(signed.crls)
    else:
        policy = RevocationCheckingPolicy(
            ee_certificate_rule=RevocationCheckingRule.CHECK_IF_DECLARED_SOFT,
            intermediate_ca_cert_rule=RevocationCheckingRule.CHECK_IF_DECLARED_SOFT,
        )
    weak = {"md2", "md5"} if context.allow_sha1 else {"md2", "md5", "sha1"}
    # Path building is bounded (_pathbuild): one candidate per subject and
    # key, shortest paths first, within the message's budget.
    others = distinct_issuers(
        (Node(c.asn1, c.crypto) for c in pool if c is not certificate), context.moment
    )
    try:
        validation = ValidationContext(
            trust_roots=trust,
            other_certs=[n.asn1 for n in others],
            crls=crls or None,
            moment=context.moment,
            allow_fetching=False,
            revinfo_policy=CertRevTrustPolicy(policy),
            weak_hash_algos=weak,
        )
        leaf = Node(certificate.asn1, certificate.crypto)
        return _run(validate_bounded(leaf, others, validation, context.budget))
    except pathing.RevokedError as error:
        raise _Failed("revoked", error.original_path) from None
    except pathing.ExpiredError as error:
        raise _Failed("expired", error.original_path) from None
    except pathing.NotYetValidError as error:
        raise _Failed("not_yet_valid", error.original_path) from None
    except pathing.DisallowedAlgorithmError as error:
        raise _Failed("weak_algorithm", error.original_path) from None
    except (
        pathing.PathError,
        pathing.ValidationError,
        pathing.CRLValidationError,
        pathing.OCSPValidationError,
    ):
        raise _Failed("untrusted") from None
    except _ASN1_ERRORS:
        # A certificate or CRL the validator cannot read: no trusted path.
        raise _Failed("untrusted") from None


def _check_intermediates_revoked(path: ValidationPath, context: _Context) -> None:
    """Intermediate CAs revoked by a CRL the caller gave count as revoked.

    The validator checks an intermediate only when its certificate names a
    CRL distribution point; a CRL the caller supplied, validly signed by the
    intermediate's issuer, must count all the same (PKITS 4.4.2).
    """
    if not context.crls:
        return
    certificates = [
        x509.load_der_x509_certificate(cert.dump()) for cert in path if hasattr(cert, "dump")
    ]
    # The path runs from the trust anchor to the signer: each intermediate
    # (neither the anchor nor the signer) is checked against its issuer.
    for issuer, intermediate in itertools.pairwise(certificates[:-1]):
        for crl in context.crls:
            if crl.issuer != issuer.subject:
                continue
            try:
                issuer_key = certificate_key(issuer)
                if issuer_key is None or not crl.is_signature_valid(issuer_key):  # type: ignore[arg-type]
                    continue
            except (TypeError, ValueError):
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", CryptographyDeprecationWarning)
                serial = intermediate.serial_number
            if crl.get_revoked_certificate_by_serial_number(serial) is not None:
                raise _Failed("revoked", path)


def _run(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run pyhanko-certvalidator's async API from sync code, also when the
    caller is inside an event loop (then in a worker thread)."""
    import asyncio  # only for path validation: not loaded at start-up

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, coroutine).result()


def _check_weak_path(path: ValidationPath, context: _Context) -> None:
    """RSA keys under 2048 bits anywhere below the trust anchor."""
    for certificate in path.iter_certs(include_root=False):
        if _weak_key(x509.load_der_x509_certificate(certificate.dump())):
            raise _Failed("weak_algorithm")


def _check_usage(certificate: x509.Certificate) -> None:
    """RFC 8550 §4.4.2/§4.4.4: digitalSignature or nonRepudiation when key
    usage is present; emailProtection or anyExtendedKeyUsage when EKU is."""
    try:
        extensions = certificate.extensions
        key_usage = _extension(extensions, x509.KeyUsage)
        usages = _extension(extensions, x509.ExtendedKeyUsage)
    except ValueError:
        raise _Failed("malformed") from None
    if key_usage is not None and not (key_usage.digital_signature or key_usage.content_commitment):
        raise _Failed("wrong_key_usage")
    if usages is not None and not (
        ExtendedKeyUsageOID.EMAIL_PROTECTION in usages
        or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in usages
    ):
        raise _Failed("wrong_key_usage")


_E = TypeVar("_E", bound=x509.ExtensionType)


def _extension(extensions: x509.Extensions, kind: type[_E]) -> _E | None:
    try:
        return extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


# -- the sender ------------------------------------------------------------------------


def _sender_addresses(raw: RawMessage, sender: str | None) -> tuple[str, ...]:
    """The addresses a signer's certificate may match; () when ambiguous.

    Read strictly (:func:`strict_mailboxes`), because the address a report
    shows must be the one the signature matched:

    * RFC 5322 §3.6: exactly one From field and at most one Sender field;
      a second From (``From: ceo@...`` above the real one) is ambiguous.
    * RFC 5322 §3.6.2: a From with several mailboxes needs a Sender with one;
      then the Sender, the agent who sent it, is the one who must have signed.
      Without a Sender, every author must be among the signers
      (:func:`_every_author_signed`), or the signature of one could be shown
      as the message of another.
    * RFC 8550 §3: otherwise the From mailbox, or the Sender's when present.

    () gives ``sender_mismatch`` (with the sender check on).
    """
    if sender is not None:
        given = strict_mailboxes(sender)
        return tuple(a.lower() for a in given) if given is not None and len(given) == 1 else ()
    froms, senders = raw.get_all("From"), raw.get_all("Sender")
    if len(froms) != 1 or len(senders) > 1:
        return ()
    authors = strict_mailboxes(froms[0])
    if authors is None:
        return ()
    agent: tuple[str, ...] = ()
    if senders:
        parsed = strict_mailboxes(senders[0])
        if parsed is None or len(parsed) != 1:
            return ()
        agent = parsed
    chosen = agent if len(authors) > 1 and agent else authors + agent
    return tuple(address.lower() for address in chosen)


def _every_author_signed(
    raw: RawMessage, sender: str | None, reports: tuple[SignerReport, ...]
) -> bool:
    """False when From names several authors, no Sender says who sent the
    message, and some author is not a valid signer (RFC 5322 §3.6.2)."""
    if sender is not None or raw.get_all("Sender"):
        return True
    froms = raw.get_all("From")
    authors = strict_mailboxes(froms[0]) if len(froms) == 1 else None
    if authors is None or len(authors) < 2:
        return True
    signed_by = {r.email.lower() for r in reports if r.valid and r.email}
    return all(author.lower() in signed_by for author in authors)


def _certificate_emails(certificate: x509.Certificate) -> tuple[str, ...]:
    """The certificate's addresses: SAN rfc822Name, then subject emailAddress."""
    found: list[str] = []
    try:
        names = _extension(certificate.extensions, x509.SubjectAlternativeName)
        if names is not None:
            found += names.get_values_for_type(x509.RFC822Name)
        for attribute in certificate.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS):
            if isinstance(attribute.value, str):
                found.append(attribute.value)
    except ValueError:
        return ()
    return tuple(dict.fromkeys(found))


def _matching_email(certificate: x509.Certificate, context: _Context) -> str | None:
    for email in _certificate_emails(certificate):
        if email.lower() in context.addresses:
            return email
    return None


# -- the report ------------------------------------------------------------------------


def _report(
    signer: _SignerInfo,
    certificate: _Certificate | None,
    digest: Digest,
    scheme: SignatureScheme,
    signing_time: datetime | None,
    capabilities: tuple[Capability, ...],
    path: ValidationPath | None,
    reason: Reason | None,
    pool: list[_Certificate],
    context: _Context,
) -> SignerReport:
    chain: tuple[str, ...] = ()
    if path is not None:
        certificates = list(path.iter_certs(include_root=True))[:-1]
        chain = tuple(
            _subject_string(x509.load_der_x509_certificate(c.dump()).subject)
            for c in reversed(certificates)
        )
    encryption = None
    for issuer, serial in signer.attributes.get(ATTR_ENCRYPTION_KEY_PREFERENCE, []):
        match = next(
            (c for c in pool if c.serial == serial and c.issuer == issuer),
            None,
        )
        if match is not None:
            encryption = match.crypto
            break
    if certificate is None:
        serial = signer.serial
        return SignerReport(
            subject=None,
            email=None,
            serial=None if serial is None else _hex(serial),
            sha256=None,
            digest=digest.name,
            signature=scheme,
            signing_time=signing_time,
            chain=chain,
            valid=False,
            reason=reason,
            capabilities=capabilities,
            encryption_certificate=encryption,
        )
    crypto = certificate.crypto
    emails = _certificate_emails(crypto)
    email = _matching_email(crypto, context) or (emails[0] if emails else None)
    return SignerReport(
        subject=_subject_string(crypto.subject),
        email=email,
        serial=_hex(_serial(crypto)),
        sha256=crypto.fingerprint(hashes.SHA256()).hex(),
        digest=digest.name,
        signature=scheme,
        signing_time=signing_time,
        chain=chain,
        valid=reason is None,
        reason=reason,
        certificate=crypto,
        capabilities=capabilities,
        encryption_certificate=encryption,
    )


def _subject_string(name: x509.Name) -> str:
    """A distinguished name spelled as in every mailcore report (JSON B, C)."""
    return format_name(name)


def _serial(certificate: x509.Certificate) -> int:
    with warnings.catch_warnings():
        # A non-positive serial (old CAs; PKITS 4.1.15) warns in cryptography.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return certificate.serial_number


def _hex(serial: int) -> str:
    return f"-0x{-serial:x}" if serial < 0 else f"0x{serial:x}"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
