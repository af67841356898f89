"""Signing: CMS SignedData (RFC 5652 §5) inside S/MIME (RFC 8551 §3.5).

The MIME entity to sign is cut out of the message once
(:func:`~mailcore.smime._mime.split_entity`), made 7-bit safe
(:func:`~mailcore.smime._mime.make_seven_bit`), hashed, and those very bytes
go into the multipart/signed (RFC 1847 §2.1: never re-serialised) or into
the eContent of an opaque ``application/pkcs7-mime`` message.  Every DER
byte is written with :mod:`mailcore.smime._der`.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import cast

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]  # no stubs
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from mailcore._identity import IdentityCache
from mailcore._message import MessageInput
from mailcore.errors import KeyLoadError, UnsupportedAlgorithm
from mailcore.smime import _der
from mailcore.smime._algorithms import (
    ATTR_CONTENT_TYPE,
    ATTR_ENCRYPTION_KEY_PREFERENCE,
    ATTR_MESSAGE_DIGEST,
    ATTR_SIGNING_TIME,
    ATTR_SMIME_CAPABILITIES,
    DIGESTS_BY_NAME,
    ID_DATA,
    ID_SIGNED_DATA,
    SIGNING_DIGESTS,
    SignatureScheme,
    digest_algorithm,
    encode_capabilities,
    signature_algorithm,
)
from mailcore.smime._certs import certificate_key
from mailcore.smime._mime import (
    Entity,
    base64_lines,
    canonicalise,
    join_entity,
    make_seven_bit,
    split_entity,
)

__all__ = ["SigningKey", "sign_entity", "sign_message", "signed_data"]

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
"""The private keys mailcore signs with."""

_CRLF = b"\r\n"
# The constant parts of every SignedData, encoded once at import.
_OID_DATA = _der.oid(ID_DATA)
_OID_SIGNED_DATA = _der.oid(ID_SIGNED_DATA)
_OID_SIGNING_TIME = _der.oid(ATTR_SIGNING_TIME)
_OID_MESSAGE_DIGEST = _der.oid(ATTR_MESSAGE_DIGEST)
_CONTENT_TYPE_DATA = _der.sequence(_der.oid(ATTR_CONTENT_TYPE), _der.set_of(_OID_DATA))
_CAPABILITIES = _der.sequence(
    _der.oid(ATTR_SMIME_CAPABILITIES), _der.set_of(encode_capabilities())
)
_DIGEST_ALGORITHMS = {name: digest_algorithm(name) for name in SIGNING_DIGESTS}
_DIGEST_ALGORITHM_SETS = {name: _der.set_of(digest_algorithm(name)) for name in SIGNING_DIGESTS}
_DETACHED_DATA = _der.sequence(_OID_DATA)  # EncapsulatedContentInfo without eContent
_VERSION_1 = _der.integer(1)
_HASHLIB = {"sha256": hashlib.sha256, "sha384": hashlib.sha384, "sha512": hashlib.sha512}
_SIGNATURE_ALGORITHMS: dict[tuple[SignatureScheme, str], bytes] = {
    (scheme, name): signature_algorithm(scheme, name)
    for scheme in ("rsa-pkcs1v15", "rsa-pss", "ecdsa", "ed25519")
    for name in SIGNING_DIGESTS
}
_PREAMBLE = b"This is an S/MIME signed message" + _CRLF


def sign_message(
    message: MessageInput,
    key: PrivateKeyTypes,
    certificate: x509.Certificate,
    *,
    chain: Sequence[x509.Certificate] = (),
    opaque: bool = False,
    digest: str = "sha256",
    pss: bool = False,
    encryption_certificate: x509.Certificate | None = None,
    signing_time: datetime | None = None,
) -> bytes:
    """Sign a message with S/MIME (RFC 8551 §3.5) and return the new message.

    The header fields other than ``Content-*`` and ``MIME-Version`` (From,
    To, Subject, ...) stay outside the signature, byte for byte; the MIME
    entity (content fields and body) is canonicalised to CRLF and, when it
    is a single part with 8-bit or binary content, re-encoded as
    quoted-printable (text) or base64 (anything else) so that no relay has
    to touch it (RFC 8551 §3.1.2).

    By default the result is ``multipart/signed`` (RFC 8551 §3.5.3) with
    ``protocol="application/pkcs7-signature"`` and the ``micalg`` of the
    digest; ``opaque=True`` gives ``application/pkcs7-mime;
    smime-type=signed-data`` with the entity inside the CMS (§3.5.2).
    The output has CRLF line ends throughout (its canonical form, §3.1.1),
    also when the input used bare LF.

    Args:
        message: the message, as bytes or an ``EmailMessage``.
        key: the signer's private key: RSA (PKCS #1 v1.5, or RSASSA-PSS
            with ``pss=True``), EC (ECDSA) or Ed25519.
        certificate: the signer's certificate; it must hold ``key``'s
            public key.  It is put into the message, with ``chain``.
        chain: intermediate CA certificates to include (the root may be
            left out).
        digest: ``"sha256"``, ``"sha384"`` or ``"sha512"``.  Ed25519 always
            uses SHA-512 (RFC 8419 §3.1) and ignores this.
        pss: RSASSA-PSS (salt as long as the digest, MGF1 with the same
            hash) instead of PKCS #1 v1.5; RSA keys only.
        encryption_certificate: the sender's certificate for encryption,
            announced in an SMIMEEncryptionKeyPreference attribute (RFC 8551
            §2.5.3) and included when it differs from ``certificate``.
        signing_time: the signing-time attribute; default now.  A naive
            datetime is taken as UTC.

    Raises:
        UnsupportedAlgorithm: a key type that cannot sign (X25519, DSA, ...).
        KeyLoadError: ``key`` does not belong to ``certificate``.
        ValueError: an unknown ``digest``, or ``pss`` with a non-RSA key.
        MalformedMessage: the input is not a readable message.

    The certificate's key usage is not checked here: the verifier decides
    (a certificate without digitalSignature gives ``wrong_key_usage``).
    """
    return join_entity(
        sign_entity(
            split_entity(message),
            key,
            certificate,
            chain=chain,
            opaque=opaque,
            digest=digest,
            pss=pss,
            encryption_certificate=encryption_certificate,
            signing_time=signing_time,
        )
    )


def sign_entity(
    entity: Entity,
    key: PrivateKeyTypes,
    certificate: x509.Certificate,
    *,
    chain: Sequence[x509.Certificate] = (),
    opaque: bool = False,
    digest: str = "sha256",
    pss: bool = False,
    encryption_certificate: x509.Certificate | None = None,
    signing_time: datetime | None = None,
) -> Entity:
    """:func:`sign_message` on a message already split by
    :func:`~mailcore.smime._mime.split_entity`; returns the signed message,
    split the same way (so that encryption can follow without parsing the
    signed message again).  ``join_entity`` of the result is exactly what
    :func:`sign_message` returns.
    """
    content = make_seven_bit(entity.inner)
    cms, micalg = _signed_data(
        content,
        key,
        certificate,
        chain=chain,
        detached=not opaque,
        digest=digest,
        pss=pss,
        encryption_certificate=encryption_certificate,
        signing_time=signing_time,
    )
    outer = canonicalise(entity.outer)
    if opaque:
        inner = b"".join(
            (
                b'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"'
                b"\r\nContent-Transfer-Encoding: base64\r\n"
                b'Content-Disposition: attachment; filename="smime.p7m"\r\n\r\n',
                base64_lines(cms),
            )
        )
        return Entity(outer, inner, _CRLF)
    boundary = _boundary(content)
    delimiter = b"--" + boundary.encode("ascii")
    # RFC 1847 §2.1 / RFC 2046 §5.1.1: the CRLF before a delimiter belongs
    # to the delimiter, so the first part is exactly ``content``.  The
    # entity is joined once, without copying the body twice.
    inner = b"".join(
        (
            b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=',
            micalg.encode("ascii"),
            b'; boundary="',
            boundary.encode("ascii"),
            b'"\r\n\r\n',
            _PREAMBLE,
            _CRLF,
            delimiter,
            _CRLF,
            content,
            _CRLF,
            delimiter,
            _SIGNATURE_PART_HEAD,
            base64_lines(cms),
            delimiter,
            b"--\r\n",
        )
    )
    return Entity(outer, inner, _CRLF)


_SIGNATURE_PART_HEAD = (
    b"\r\n"
    b'Content-Type: application/pkcs7-signature; name="smime.p7s"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b'Content-Disposition: attachment; filename="smime.p7s"\r\n'
    b"\r\n"
)


def signed_data(
    content: bytes,
    key: PrivateKeyTypes,
    certificate: x509.Certificate,
    *,
    chain: Sequence[x509.Certificate] = (),
    detached: bool = True,
    digest: str = "sha256",
    pss: bool = False,
    encryption_certificate: x509.Certificate | None = None,
    signing_time: datetime | None = None,
) -> bytes:
    """DER ContentInfo holding a SignedData over ``content`` (id-data).

    The CMS layer of :func:`sign_message`, for callers that frame the MIME
    themselves (e.g. sign-then-encrypt): ``content`` is signed as given.
    ``detached=True`` leaves the eContent out (for multipart/signed).
    """
    return _signed_data(
        content,
        key,
        certificate,
        chain=chain,
        detached=detached,
        digest=digest,
        pss=pss,
        encryption_certificate=encryption_certificate,
        signing_time=signing_time,
    )[0]


def _signed_data(
    content: bytes,
    key: PrivateKeyTypes,
    certificate: x509.Certificate,
    *,
    chain: Sequence[x509.Certificate],
    detached: bool,
    digest: str,
    pss: bool,
    encryption_certificate: x509.Certificate | None,
    signing_time: datetime | None,
) -> tuple[bytes, str]:
    """(DER ContentInfo, micalg)."""
    signing_key, scheme, digest = _scheme(key, digest, pss)
    _check_key(signing_key, certificate)
    algorithm = DIGESTS_BY_NAME[digest]
    message_digest = _HASHLIB[digest](content).digest()
    moment = _utc(signing_time) if signing_time else None
    signer = _signer_template(
        _der_of(certificate),
        tuple(_der_of(c) for c in chain),
        None if encryption_certificate is None else _der_of(encryption_certificate),
        digest,
        scheme,
    )
    # RFC 5652 §5.4: the signature covers the DER of the SET OF attributes
    # (tag 0x31); the SignerInfo carries the same bytes tagged [0] IMPLICIT.
    signed_attributes = _der.set_of(
        _CONTENT_TYPE_DATA,
        _signing_time_now() if moment is None else _signing_time_attribute(moment),
        _der.sequence(_OID_MESSAGE_DIGEST, _der.set_of(_der.octet_string(message_digest))),
        *signer.attributes,
    )
    signature = _sign(signing_key, scheme, digest, signed_attributes)
    signer_info = _der.sequence(
        signer.info_head,
        b"\xa0" + signed_attributes[1:],
        signer.signature_algorithm,
        _der.octet_string(signature),
    )
    if detached:
        encapsulated = _DETACHED_DATA
    else:
        encapsulated = _der.sequence(_OID_DATA, _der.context(0, _der.octet_string(content)))
    signed = _der.sequence(
        signer.data_head, encapsulated, signer.certificates, _der.set_of(signer_info)
    )
    content_info = _der.sequence(_OID_SIGNED_DATA, _der.context(0, signed))
    return content_info, algorithm.micalg


@dataclass(frozen=True, slots=True)
class _SignerTemplate:
    """The DER of a SignedData that depends only on the signer: worked out
    once per certificate, chain, digest and scheme, not for every message."""

    attributes: tuple[bytes, ...]  # signed attributes after content type, time, digest
    info_head: bytes  # SignerInfo: version, sid, digestAlgorithm
    signature_algorithm: bytes
    data_head: bytes  # SignedData: version, digestAlgorithms
    certificates: bytes  # [0] CertificateSet


@lru_cache(maxsize=256)
def _signer_template(
    signer_der: bytes,
    chain_ders: tuple[bytes, ...],
    encryption_der: bytes | None,
    digest: str,
    scheme: SignatureScheme,
) -> _SignerTemplate:
    attributes = [_CAPABILITIES]
    certificates = [signer_der, *chain_ders]
    if encryption_der is not None and encryption_der != signer_der:
        # RFC 8551 §2.5.3: issuerAndSerialNumber [0] (IMPLICIT TAGS module).
        attributes.append(
            _attribute(
                ATTR_ENCRYPTION_KEY_PREFERENCE,
                _der.context(0, _issuer_and_serial_contents(encryption_der)),
            )
        )
        certificates.append(encryption_der)
    unique = list(dict.fromkeys(certificates))
    return _SignerTemplate(
        attributes=tuple(attributes),
        # version 1: sid is issuerAndSerialNumber
        info_head=_VERSION_1
        + _der.sequence(_issuer_and_serial_contents(signer_der))
        + _DIGEST_ALGORITHMS[digest],
        signature_algorithm=_SIGNATURE_ALGORITHMS[scheme, digest],
        # RFC 5652 §5.1: version 1 with id-data, v1 sid and X.509 certificates only.
        data_head=_VERSION_1 + _DIGEST_ALGORITHM_SETS[digest],
        # CertificateSet is a SET OF: DER sorts the encodings (X.690 §11.6).
        certificates=_der.context(0, b"".join(sorted(unique))),
    )


def _scheme(
    key: PrivateKeyTypes, digest: str, pss: bool
) -> tuple[SigningKey, SignatureScheme, str]:
    """(key, signature scheme, digest name) for a key and the caller's options."""
    if digest not in SIGNING_DIGESTS:
        raise ValueError(f"digest must be one of {', '.join(SIGNING_DIGESTS)}, not {digest!r}")
    if pss and not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("pss=True needs an RSA key (RSASSA-PSS is an RSA scheme)")
    if isinstance(key, rsa.RSAPrivateKey):
        return key, ("rsa-pss" if pss else "rsa-pkcs1v15"), digest
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key, "ecdsa", digest
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key, "ed25519", "sha512"  # RFC 8419 §3.1: SHA-512 with Ed25519
    raise UnsupportedAlgorithm(
        f"cannot sign with a {type(key).__name__}: use an RSA, EC (P-256/384/521) or Ed25519 key"
    )


def _check_key(key: SigningKey, certificate: x509.Certificate) -> None:
    # A key store hands out the same key and certificate objects for every
    # message: a pair that matched once is not compared again.  The entry
    # holds both objects, so their ids cannot be reused while it exists.
    checked = _MATCHED_PAIRS.get(id(key))
    if checked is not None and checked[0] is key and checked[1] is certificate:
        return
    # Public-key equality in OpenSSL (EVP_PKEY_eq): the same test as
    # comparing the SubjectPublicKeyInfo encodings, without writing them.
    if key.public_key() != certificate_key(certificate):
        raise KeyLoadError(
            "the private key does not belong to the signing certificate; "
            "pass the key that matches the certificate",
            where="key",
        )
    if len(_MATCHED_PAIRS) >= 256:
        _MATCHED_PAIRS.clear()
    _MATCHED_PAIRS[id(key)] = (key, certificate)


_MATCHED_PAIRS: dict[int, tuple[SigningKey, x509.Certificate]] = {}


def _sign(key: SigningKey, scheme: SignatureScheme, digest: str, data: bytes) -> bytes:
    if scheme == "rsa-pkcs1v15":  # the common case first: no ABC checks
        # _scheme gives this scheme for RSA keys only.
        rsa_key = cast(rsa.RSAPrivateKey, key)
        return rsa_key.sign(data, padding.PKCS1v15(), DIGESTS_BY_NAME[digest].new())
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)  # RFC 8419 §3.2: PureEdDSA over the attributes
    hash_algorithm = DIGESTS_BY_NAME[digest].new()
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return key.sign(data, ec.ECDSA(hash_algorithm))
    if scheme == "rsa-pss":
        # RFC 4056 §3: MGF1 with the same hash, salt as long as the hash.
        return key.sign(
            data,
            padding.PSS(
                mgf=padding.MGF1(DIGESTS_BY_NAME[digest].new()),
                salt_length=hash_algorithm.digest_size,
            ),
            hash_algorithm,
        )
    return key.sign(data, padding.PKCS1v15(), hash_algorithm)


@lru_cache(maxsize=256)
def _encoded(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


_der_of = IdentityCache(_encoded)
"""A certificate's DER.  Certificates are immutable, and a gateway signs
with the same few objects over and over: encoding each once is enough
(found by identity first, then by equality)."""


def _attribute(oid: str, *values: bytes) -> bytes:
    """Attribute ::= SEQUENCE { attrType OID, attrValues SET OF }."""
    return _der.sequence(_der.oid(oid), _der.set_of(*values))


def _signing_time_now() -> bytes:
    """The signing-time attribute for the current second."""
    return _signing_time_for_second(int(time.time()))


@lru_cache(maxsize=4)
def _signing_time_for_second(second: int) -> bytes:
    return _signing_time_attribute(datetime.fromtimestamp(second, UTC))


@lru_cache(maxsize=8)
def _signing_time_attribute(moment: datetime) -> bytes:
    """The signing-time attribute (RFC 5652 §11.3); times are whole seconds,
    so messages signed in the same second share one encoding."""
    return _der.sequence(_OID_SIGNING_TIME, _der.set_of(_der.signing_time(moment)))


@lru_cache(maxsize=256)
def _issuer_and_serial_contents(certificate_der: bytes) -> bytes:
    """The content octets of IssuerAndSerialNumber, with the issuer Name
    exactly as encoded in the certificate (RFC 5652 §10.2.4)."""
    try:
        issuer, serial = _der.issuer_and_serial(certificate_der)
    except ValueError:  # not plain DER: let asn1crypto read it
        tbs = asn1_x509.Certificate.load(certificate_der)["tbs_certificate"]
        return bytes(tbs["issuer"].dump() + tbs["serial_number"].dump())
    return issuer + serial


def _boundary(content: bytes) -> str:
    while True:
        boundary = f"----=_mailcore_{os.urandom(12).hex()}"  # 96 random bits
        if boundary.encode("ascii") not in content:
            return boundary


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
