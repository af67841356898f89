"""Encrypt a message: S/MIME enveloped-data and authEnveloped-data.

RFC 8551 §3.3: the MIME entity (content header fields and body, CRLF) is
encrypted; the message's other header fields stay outside, and the result
is an ``application/pkcs7-mime`` part carrying a CMS object:

* EnvelopedData (RFC 5652 §6) with AES-128/256-CBC (RFC 3565), or
* AuthEnvelopedData (RFC 5083) with AES-128/256-GCM (RFC 5084): the
  nonce (12 bytes) and tag length (16) in GCMParameters, the tag in
  ``mac``, no authenticated attributes.

One RecipientInfo per recipient certificate:

* RSA: KeyTransRecipientInfo, RSAES-PKCS1-v1_5 (``rsaEncryption``) or,
  with ``oaep=True``, RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 8017,
  RFC 4055; the parameters written out in full).
* EC P-256/P-384/P-521: KeyAgreeRecipientInfo, ephemeral-static ECDH
  (RFC 5753) with the X9.63 KDF over ECC-CMS-SharedInfo
  (``dhSinglePass-stdDH-sha256kdf-scheme`` for P-256, sha384 for P-384,
  sha512 for P-521) and AES key wrap (RFC 3394) as strong as the content
  key (``aes128-wrap`` or ``aes256-wrap``).
* X25519: the same KeyAgreeRecipientInfo (RFC 8418) with the X9.63
  SHA-256 KDF (``dhSinglePass-stdDH-sha256kdf-scheme``), which RFC 8418
  defines for X25519 next to HKDF and which Bouncy Castle reads; OpenSSL 3.0 has
  no X25519 key agreement in CMS at all.

All DER is written with :mod:`mailcore.smime._der`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]  # no stubs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from cryptography.x509.oid import NameOID, PublicKeyAlgorithmOID

from mailcore._identity import IdentityCache
from mailcore._message import MessageInput
from mailcore.errors import KeyLoadError, SmimeError, UnsupportedAlgorithm
from mailcore.smime import _der
from mailcore.smime._cms_types import (
    AUTH_ENVELOPED_DATA,
    CONTENT_CIPHERS,
    DATA,
    ENVELOPED_DATA,
    ID_EC_PUBLIC_KEY,
    ID_MGF1,
    ID_X25519,
    KEY_AGREEMENT_SCHEMES,
    KEY_WRAPS,
    RSA_ENCRYPTION,
    RSAES_OAEP,
    ContentCipher,
    cipher_by_name,
    derive_kek,
)
from mailcore.smime._mime import Entity, base64_blocks, split_entity, wrap

__all__ = [
    "DEFAULT_CIPHER",
    "ENCRYPTION_CIPHERS",
    "CipherName",
    "choose_cipher",
    "encrypt_entity",
    "encrypt_message",
]

CipherName = Literal["aes-256-gcm", "aes-128-gcm", "aes-256-cbc", "aes-128-cbc"]

ENCRYPTION_CIPHERS: tuple[CipherName, ...] = (
    "aes-256-gcm",
    "aes-128-gcm",
    "aes-256-cbc",
    "aes-128-cbc",
)
"""The content ciphers mailcore encrypts with, strongest first."""

DEFAULT_CIPHER: CipherName = "aes-256-cbc"
"""The cipher when nothing is known about what the recipients can read.

RFC 8551 §2.7.1.2 lets a sender that does not use AES-256-GCM fall back to
AES-256-CBC.  mailcore does, because GCM (AuthEnvelopedData) is not yet
readable everywhere: Thunderbird/NSS and OpenSSL's ``smime`` command have
no AuthEnvelopedData, and pyca/cryptography cannot decrypt it; AES-CBC
EnvelopedData with PKCS #1 v1.5 key transport is what Outlook and
Thunderbird send and read (reference note §2.1, §3.1).  Recipients who
advertise GCM get GCM (:func:`choose_cipher`).
"""

# Recipients whose capabilities are unknown are assumed to read AES-CBC
# (RFC 8551 §2.7 keeps AES-128-CBC for receivers, and every current
# agent reads AES-256-CBC too), not necessarily AuthEnvelopedData.
_ASSUMED_READABLE: frozenset[CipherName] = frozenset({"aes-256-cbc", "aes-128-cbc"})

# Spellings of the four ciphers in capability lists, after removing
# everything but letters and digits: "aes-256-gcm", "AES256_GCM",
# "id-aes256-GCM" (OpenSSL), or the dotted OID.
_CAPABILITY_NAMES: dict[str, CipherName] = {
    "aes256gcm": "aes-256-gcm",
    "idaes256gcm": "aes-256-gcm",
    "2.16.840.1.101.3.4.1.46": "aes-256-gcm",
    "aes128gcm": "aes-128-gcm",
    "idaes128gcm": "aes-128-gcm",
    "2.16.840.1.101.3.4.1.6": "aes-128-gcm",
    "aes256cbc": "aes-256-cbc",
    "2.16.840.1.101.3.4.1.42": "aes-256-cbc",
    "aes128cbc": "aes-128-cbc",
    "2.16.840.1.101.3.4.1.2": "aes-128-cbc",
}

# RFC 5753 §8 (recommended algorithms): the KDF hash grows with the curve.
_CURVE_SCHEMES: dict[str, str] = {
    "secp256r1": "1.3.132.1.11.1",  # dhSinglePass-stdDH-sha256kdf-scheme
    "secp384r1": "1.3.132.1.11.2",  # dhSinglePass-stdDH-sha384kdf-scheme
    "secp521r1": "1.3.132.1.11.3",  # dhSinglePass-stdDH-sha512kdf-scheme
}
_X25519_SCHEME = "1.3.132.1.11.1"  # RFC 8418: X9.63 KDF with SHA-256
_WRAP_FOR_KEY_SIZE = {16: "2.16.840.1.101.3.4.1.5", 32: "2.16.840.1.101.3.4.1.45"}

# RFC 4055 §2.1 / §4.1: RSAES-OAEP-params with SHA-256 and MGF1-SHA-256;
# the hash identifiers carry NULL parameters as RFC 4055 writes them.
_SHA256_NULL = _der.sequence(_der.oid("2.16.840.1.101.3.4.2.1"), _der.null())
_OAEP_SHA256 = _der.sequence(
    _der.oid(RSAES_OAEP),
    _der.sequence(
        _der.context(0, _SHA256_NULL),
        _der.context(1, _der.sequence(_der.oid(ID_MGF1), _SHA256_NULL)),
    ),
)
_RSA_PKCS1V15 = _der.sequence(_der.oid(RSA_ENCRYPTION), _der.null())
_MIN_RSA_BITS = 2048

_Ext = TypeVar("_Ext", bound=x509.ExtensionType)

RecipientKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | x25519.X25519PublicKey


@dataclass(frozen=True, slots=True)
class _Recipient:
    """A recipient certificate checked for encryption, with what we write."""

    key: RecipientKey
    issuer_and_serial: bytes  # DER IssuerAndSerialNumber
    subject_key_identifier: bytes | None


def encrypt_message(
    message: MessageInput,
    recipients: Sequence[x509.Certificate],
    *,
    cipher: CipherName | None = None,
    oaep: bool = False,
    use_ski: bool = False,
    capabilities: Mapping[str, Sequence[str]] | None = None,
) -> bytes:
    """Encrypt ``message`` for ``recipients`` (RFC 8551 §3.3).

    The header fields other than ``Content-*`` and ``MIME-Version`` are kept
    outside, unchanged; the MIME entity is encrypted and replaced by an
    ``application/pkcs7-mime`` body (``smime-type=enveloped-data``, or
    ``authEnveloped-data`` for the GCM ciphers).

    ``cipher`` is one of :data:`ENCRYPTION_CIPHERS`; ``None`` chooses one
    from ``capabilities`` with :func:`choose_cipher`.  ``oaep`` uses
    RSAES-OAEP (SHA-256) instead of PKCS #1 v1.5 for RSA recipients;
    ``use_ski`` names recipients by subjectKeyIdentifier instead of issuer
    and serial number.

    Raises :class:`~mailcore.errors.UnsupportedAlgorithm` for a recipient
    key mailcore will not encrypt to (RSA below 2048 bits, curves other
    than P-256/P-384/P-521 and X25519, signature-only key types), and
    :class:`~mailcore.errors.SmimeError` for a certificate whose KeyUsage
    forbids keyEncipherment (RSA) or keyAgreement (EC, X25519), or that
    has no subjectKeyIdentifier when ``use_ski`` is asked for.
    """
    return encrypt_entity(
        split_entity(message),
        recipients,
        cipher=cipher,
        oaep=oaep,
        use_ski=use_ski,
        capabilities=capabilities,
    )


def encrypt_entity(
    entity: Entity,
    recipients: Sequence[x509.Certificate],
    *,
    cipher: CipherName | None = None,
    oaep: bool = False,
    use_ski: bool = False,
    capabilities: Mapping[str, Sequence[str]] | None = None,
) -> bytes:
    """:func:`encrypt_message` on a message already split by
    :func:`~mailcore.smime._mime.split_entity` (or signed by
    :func:`~mailcore.smime._signed.sign_entity`): the same bytes, without
    parsing the message again.
    """
    checked = _check_recipients(recipients, use_ski=use_ski)
    if cipher is None:
        cipher = choose_cipher(recipients, capabilities)
    elif cipher not in ENCRYPTION_CIPHERS:
        raise ValueError(f"cipher must be one of {', '.join(ENCRYPTION_CIPHERS)}, not {cipher!r}")
    outer, linesep, inner = entity.outer, entity.linesep, entity.inner
    # Large messages: each big buffer is let go as soon as the next one is
    # made (entity, then ciphertext, then base64 lines), so that the peak
    # stays near two copies of the message.
    del entity
    pieces = _envelope(inner, checked, cipher_by_name(cipher), oaep=oaep, use_ski=use_ski)
    del inner
    body = base64_blocks(pieces, linesep)
    del pieces
    smime_type = "authEnveloped-data" if cipher.endswith("-gcm") else "enveloped-data"
    fields = [
        f"Content-Type: application/pkcs7-mime; smime-type={smime_type}; name=smime.p7m",
        "Content-Disposition: attachment; filename=smime.p7m",
        "Content-Transfer-Encoding: base64",
    ]
    return b"".join([wrap(outer, fields, b"", linesep), *body])


def choose_cipher(
    recipients: Sequence[x509.Certificate],
    capabilities: Mapping[str, Sequence[str]] | None = None,
) -> CipherName:
    """The content cipher for a message to ``recipients`` (RFC 8551 §2.7).

    ``capabilities`` maps a recipient (its certificate's SHA-256
    fingerprint in hex, or one of its e-mail addresses) to the algorithm
    names it advertised, e.g. from the SMIMECapabilities of mail it signed.
    A recipient without an entry is assumed to read AES-CBC only.

    * every recipient advertises AES-256-GCM: ``aes-256-gcm``;
    * otherwise the strongest cipher that every recipient reads
      (:data:`ENCRYPTION_CIPHERS` order);
    * nothing known about anyone, or nothing in common:
      :data:`DEFAULT_CIPHER`.  RFC 8551 §2.7.3 would send separate
      messages when capabilities do not overlap; capability lists are not
      exhaustive, and every S/MIME 3.2+ agent reads AES-CBC, so mailcore
      sends one message with the widely readable choice instead.
    """
    index = _capability_index(capabilities or {})
    if not index:
        return DEFAULT_CIPHER  # nothing known about anyone (no need to look each one up)
    common: set[CipherName] | None = None
    known = False
    for certificate in recipients:
        advertised = _advertised(certificate, index)
        known = known or advertised is not None
        readable = set(_ASSUMED_READABLE if advertised is None else advertised)
        common = readable if common is None else common & readable
    if not known or not common:
        return DEFAULT_CIPHER
    return next(name for name in ENCRYPTION_CIPHERS if name in common)


def _capability_index(capabilities: Mapping[str, Sequence[str]]) -> dict[str, set[CipherName]]:
    index: dict[str, set[CipherName]] = {}
    for who, names in capabilities.items():
        if isinstance(names, str):
            raise TypeError(f"capabilities[{who!r}] must be a sequence of names, not a string")
        ciphers = {
            _CAPABILITY_NAMES[key]
            for name in names
            if (key := _capability_key(name)) in _CAPABILITY_NAMES
        }
        index.setdefault(_recipient_key(who), set()).update(ciphers)
    return index


def _capability_key(name: str) -> str:
    name = name.strip().lower()
    if name[:1].isdigit():
        return name  # a dotted OID
    return "".join(char for char in name if char.isalnum())


def _recipient_key(who: str) -> str:
    who = who.strip().lower()
    return who if "@" in who else who.replace(":", "")


def _advertised(
    certificate: x509.Certificate, index: dict[str, set[CipherName]]
) -> set[CipherName] | None:
    keys = [certificate.fingerprint(hashes.SHA256()).hex(), *_emails(certificate)]
    found = [index[key] for key in keys if key in index]
    return set().union(*found) if found else None


def _emails(certificate: x509.Certificate) -> list[str]:
    addresses = [
        str(attribute.value).lower()
        for attribute in certificate.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)
    ]
    try:
        names = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return addresses
    return addresses + [
        email.lower() for email in names.value.get_values_for_type(x509.RFC822Name)
    ]


def _describe(certificate: x509.Certificate) -> str:
    emails = _emails(certificate)
    who = emails[0] if emails else certificate.subject.rfc4514_string()
    return f"{who} (serial {certificate.serial_number:#x})"


def _check_recipients(
    recipients: Sequence[x509.Certificate], *, use_ski: bool
) -> list[_Recipient]:
    if isinstance(recipients, x509.Certificate):
        raise TypeError("recipients must be a sequence of certificates, not one certificate")
    checked = [_CHECKED[use_ski](certificate) for certificate in recipients]
    if not checked:
        raise ValueError("Must have at least one recipient")
    return checked


@functools.lru_cache(maxsize=4096)
def _checked_recipient(certificate: x509.Certificate, use_ski: bool) -> _Recipient:
    # A gateway encrypts to the same (directory-cached) certificates again
    # and again: their checks and DER pieces are worked out once.  Only
    # successes are remembered; certificates compare by their DER encoding.
    return _check_recipient(certificate, use_ski=use_ski)


# The same certificate objects come back for every message (the directory
# caches them): found by identity first, by DER equality second.
_CHECKED: dict[bool, IdentityCache[x509.Certificate, _Recipient]] = {
    use_ski: IdentityCache(functools.partial(_checked_recipient, use_ski=use_ski))
    for use_ski in (False, True)
}


def _check_recipient(certificate: x509.Certificate, *, use_ski: bool) -> _Recipient:
    if not isinstance(certificate, x509.Certificate):
        raise TypeError(
            "a recipient must be a cryptography x509.Certificate, "
            f"not {type(certificate).__name__}"
        )
    if certificate.public_key_algorithm_oid == PublicKeyAlgorithmOID.DSA:
        # Checked before the key is built: cryptography >= 51 warns on DSA keys.
        raise UnsupportedAlgorithm(
            f"the DSA key of {_who(certificate)} cannot receive encrypted mail; "
            "mailcore encrypts to RSA, EC (P-256/384/521) and X25519 keys"
        )
    try:
        key = certificate.public_key()
        key_usage = _extension(certificate, x509.KeyUsage)
        ski = _extension(certificate, x509.SubjectKeyIdentifier)
    except ValueError as exc:
        raise KeyLoadError(
            f"the certificate of {_who(certificate)} cannot be read: {exc}"
        ) from None
    if isinstance(key, rsa.RSAPublicKey):
        # RFC 8551 and NIST SP 800-131A: RSA below 2048 bits is too weak.
        if key.key_size < _MIN_RSA_BITS:
            raise UnsupportedAlgorithm(
                f"the RSA key of {_who(certificate)} has {key.key_size} bits; mailcore "
                f"encrypts only to RSA keys of {_MIN_RSA_BITS} bits or more"
            )
        # RFC 5280 §4.2.1.3: RSA key transport needs keyEncipherment.
        if key_usage is not None and not key_usage.key_encipherment:
            raise SmimeError(
                f"the certificate of {_who(certificate)} does not allow keyEncipherment "
                "(KeyUsage), so it cannot receive encrypted mail; use the recipient's "
                "encryption certificate"
            )
    elif isinstance(key, ec.EllipticCurvePublicKey | x25519.X25519PublicKey):
        if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name not in _CURVE_SCHEMES:
            raise UnsupportedAlgorithm(
                f"the EC key of {_who(certificate)} is on {key.curve.name}; mailcore encrypts to "
                "P-256, P-384, P-521 and X25519 keys"
            )
        # RFC 5280 §4.2.1.3 / RFC 5753 §5: ECDH needs keyAgreement.
        if key_usage is not None and not key_usage.key_agreement:
            raise SmimeError(
                f"the certificate of {_who(certificate)} does not allow keyAgreement "
                "(KeyUsage), so it cannot receive encrypted mail; use the recipient's "
                "encryption certificate"
            )
    else:
        raise UnsupportedAlgorithm(
            f"the {type(key).__name__} key of {_who(certificate)} cannot receive encrypted mail; "
            "mailcore encrypts to RSA, EC (P-256/384/521) and X25519 keys"
        )
    if use_ski and ski is None:
        raise SmimeError(
            f"the certificate of {_who(certificate)} has no subjectKeyIdentifier; "
            "encrypt without use_ski"
        )
    return _Recipient(
        key,
        _issuer_and_serial(certificate),
        None if ski is None else ski.digest,
    )


def _who(certificate: x509.Certificate) -> str:
    """The recipient, for an error message (only ever needed for one)."""
    try:
        return _describe(certificate)
    except ValueError:
        return f"serial {certificate.serial_number:#x}"


def _extension(certificate: x509.Certificate, kind: type[_Ext]) -> _Ext | None:
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _issuer_and_serial(certificate: x509.Certificate) -> bytes:
    """IssuerAndSerialNumber (RFC 5652 §10.2.4) with the issuer name and
    serial exactly as encoded in the certificate, so that matching by
    bytes works at the recipient."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    try:
        return _der.sequence(*_der.issuer_and_serial(der))
    except ValueError:  # not plain DER: let asn1crypto take it apart
        tbs = asn1_x509.Certificate.load(der)["tbs_certificate"]
        return _der.sequence(tbs["issuer"].dump(), tbs["serial_number"].dump())


def _envelope(
    content: bytes,
    recipients: Sequence[_Recipient],
    cipher: ContentCipher,
    *,
    oaep: bool,
    use_ski: bool,
) -> list[bytes | memoryview]:
    """The DER ContentInfo (EnvelopedData or AuthEnvelopedData), as pieces
    to be joined: the ciphertext is not copied into a DER buffer."""
    cek = os.urandom(cipher.key_size)
    built = [_recipient_info(r, cek, oaep=oaep, use_ski=use_ski) for r in recipients]
    infos = _der.set_of(*(info for info, _ in built))
    ciphertext: bytes | memoryview
    if cipher.mode == "gcm":
        # RFC 5084 §3.2: a 12-byte nonce, never reused with this key (the
        # key is fresh for every message); a 16-byte ICV in ``mac``.
        nonce = os.urandom(12)
        sealed = AESGCM(cek).encrypt(nonce, content, None)
        ciphertext = memoryview(sealed)[:-16]
        algorithm = _der.sequence(
            _CIPHER_OIDS[cipher.oid],
            _der.sequence(_der.octet_string(nonce), _ICV_16),
        )
        # RFC 5083 §2.1: version 0; authAttrs absent (nothing to add).
        version, content_type = _VERSION_0, _OID_AUTH_ENVELOPED_DATA
        trailer = _der.octet_string(sealed[-16:])
    else:
        iv = os.urandom(16)
        encryptor = Cipher(algorithms.AES(cek), modes.CBC(iv)).encryptor()
        # RFC 5652 §6.3: pad with k - (l mod k) octets of that value
        # (1..16), always at least one; the tail is padded on its own so
        # that a large content is not copied just to add 1..16 octets.
        whole = len(content) - len(content) % 16
        pad = 16 - len(content) % 16
        tail = bytes(content[whole:]) + bytes((pad,)) * pad
        ciphertext = b"".join(
            (
                encryptor.update(memoryview(content)[:whole]),
                encryptor.update(tail),
                encryptor.finalize(),
            )
        )
        algorithm = _der.sequence(_CIPHER_OIDS[cipher.oid], _der.octet_string(iv))
        # RFC 5652 §6.1: version 0 when every RecipientInfo is version 0
        # (ktri with issuerAndSerialNumber) and there is no originatorInfo or
        # unprotectedAttrs; otherwise 2.
        version = _VERSION_0 if all(v == 0 for _, v in built) else _der.integer(2)
        content_type, trailer = _OID_ENVELOPED_DATA, b""
    # RFC 5652 §6.1: encryptedContent is [0] IMPLICIT OCTET STRING.  The
    # headers are written around the ciphertext, which is left where it is.
    size = len(ciphertext)
    eci_head = _OID_DATA + algorithm + _der.header_bytes(0x80, size)
    eci_size = len(eci_head) + size
    body_head = version + infos + _der.header_bytes(0x30, eci_size) + eci_head
    body_size = len(body_head) + size + len(trailer)
    explicit = _der.header_bytes(0xA0, len(_der.header_bytes(0x30, body_size)) + body_size)
    inner_head = content_type + explicit + _der.header_bytes(0x30, body_size) + body_head
    total = len(inner_head) + size + len(trailer)
    return [_der.header_bytes(0x30, total) + inner_head, ciphertext, trailer]


_OID_DATA = _der.oid(DATA)
_OID_ENVELOPED_DATA = _der.oid(ENVELOPED_DATA)
_OID_AUTH_ENVELOPED_DATA = _der.oid(AUTH_ENVELOPED_DATA)
_CIPHER_OIDS = {oid: _der.oid(oid) for oid in CONTENT_CIPHERS}
_VERSION_0 = _der.integer(0)
_PKCS1V15_PADDING = asym_padding.PKCS1v15()  # stateless: one for every key transport
_ICV_16 = _der.integer(16)


def _recipient_info(
    recipient: _Recipient, cek: bytes, *, oaep: bool, use_ski: bool
) -> tuple[bytes, int]:
    """(RecipientInfo DER, its version)."""
    if isinstance(recipient.key, rsa.RSAPublicKey):
        return _key_trans(recipient, recipient.key, cek, oaep=oaep, use_ski=use_ski)
    return _key_agree(recipient, cek, use_ski=use_ski), 3


def _key_trans(
    recipient: _Recipient, key: rsa.RSAPublicKey, cek: bytes, *, oaep: bool, use_ski: bool
) -> tuple[bytes, int]:
    """KeyTransRecipientInfo (RFC 5652 §6.2.1)."""
    if oaep:
        algorithm = _OAEP_SHA256
        encrypted = key.encrypt(
            cek,
            asym_padding.OAEP(
                mgf=asym_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None
            ),
        )
    else:
        algorithm = _RSA_PKCS1V15
        encrypted = key.encrypt(cek, _PKCS1V15_PADDING)
    if use_ski:
        assert recipient.subject_key_identifier is not None  # checked up front
        # version 2; rid [0] IMPLICIT SubjectKeyIdentifier.
        version, rid = 2, _der.context(0, recipient.subject_key_identifier, constructed=False)
    else:
        version, rid = 0, recipient.issuer_and_serial
    encoded_version = _VERSION_0 if version == 0 else _der.integer(version)
    info = _der.sequence(encoded_version, rid, algorithm, _der.octet_string(encrypted))
    return info, version


def _key_agree(recipient: _Recipient, cek: bytes, *, use_ski: bool) -> bytes:
    """KeyAgreeRecipientInfo (RFC 5652 §6.2.2) for ephemeral-static ECDH."""
    key = recipient.key
    if isinstance(key, ec.EllipticCurvePublicKey):
        ephemeral = ec.generate_private_key(key.curve)
        shared = ephemeral.exchange(ec.ECDH(), key)
        point = ephemeral.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        # RFC 5753 §3.1.1: id-ecPublicKey; parameters absent (the curve is
        # the recipient's), as OpenSSL writes it.
        originator_algorithm = _der.sequence(_der.oid(ID_EC_PUBLIC_KEY))
        scheme = KEY_AGREEMENT_SCHEMES[_CURVE_SCHEMES[key.curve.name]]
    else:
        assert isinstance(key, x25519.X25519PublicKey)
        x_ephemeral = x25519.X25519PrivateKey.generate()
        try:
            shared = x_ephemeral.exchange(key)
        except ValueError:  # a low-order point: RFC 7748 §6.1 all-zero secret
            raise UnsupportedAlgorithm(
                "the X25519 key of a recipient is a low-order point; it cannot be used"
            ) from None
        point = x_ephemeral.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        # RFC 8418 §2: id-X25519 with absent parameters, the raw key.
        originator_algorithm = _der.sequence(_der.oid(ID_X25519))
        scheme = KEY_AGREEMENT_SCHEMES[_X25519_SCHEME]
    wrap_oid = _WRAP_FOR_KEY_SIZE[len(cek)]
    # RFC 3565 §2.3.2: the AES key-wrap AlgorithmIdentifier has absent
    # parameters; the same encoding goes into ECC-CMS-SharedInfo.
    key_wrap = _der.sequence(_der.oid(wrap_oid))
    kek_size = KEY_WRAPS[wrap_oid].key_size
    kek = derive_kek(scheme, shared, key_wrap, kek_size, None)
    wrapped = aes_key_wrap(kek, cek)
    # originator [0] EXPLICIT OriginatorIdentifierOrKey, the originatorKey
    # choice [1] IMPLICIT OriginatorPublicKey { algorithm, publicKey BIT STRING }.
    originator = _der.context(
        0, _der.context(1, originator_algorithm + _der.tlv(0x03, b"\x00" + point))
    )
    if use_ski:
        assert recipient.subject_key_identifier is not None
        # rKeyId [0] IMPLICIT RecipientKeyIdentifier { subjectKeyIdentifier }.
        rid = _der.context(0, _der.octet_string(recipient.subject_key_identifier))
    else:
        rid = recipient.issuer_and_serial
    body = (
        _der.integer(3)
        + originator
        + _der.sequence(_der.oid(scheme.oid), key_wrap)
        + _der.sequence(_der.sequence(rid, _der.octet_string(wrapped)))
    )
    return _der.context(1, body)  # RecipientInfo kari [1] IMPLICIT
