"""Decrypt S/MIME enveloped-data and authEnveloped-data.

The CMS object is read with asn1crypto, which accepts BER (indefinite
lengths, constructed OCTET STRINGs) as Outlook, Thunderbird and
``openssl cms -stream`` write it; the content type is taken from the CMS
ContentInfo, not from the MIME ``smime-type`` parameter.

What is understood:

* key transport (RFC 5652 §6.2.1) with RSAES-PKCS1-v1_5 and RSAES-OAEP
  with any SHA-1/SHA-2 hash, MGF1 hash and label (RFC 8017, RFC 4055);
* key agreement (RFC 5652 §6.2.2) with ephemeral-static ECDH on the NIST
  curves (RFC 5753: X9.63 KDF with SHA-1/SHA-2, standard or cofactor DH)
  and X25519 (RFC 8418: X9.63 KDF or HKDF), AES key wrap (RFC 3394);
* content encryption AES-128/192/256-CBC, AES-128/192/256-GCM
  (AuthEnvelopedData, RFC 5083/5084) and, for old mail, 3DES-CBC.

No decryption oracle (RFC 3218 §2.3, CVE-2026-69247): every failure on
the merits raises :class:`~mailcore.errors.DecryptionFailed` with one fixed
message, and a failed PKCS #1 v1.5 unwrap goes on with a random key of the
right length, so that a wrong key, bad padding and tampered ciphertext all
fail at the same point, after the content decryption.  GCM plaintext is
released only after its tag checked.  Input that does not parse raises
:class:`~mailcore.errors.MalformedSmime` before any private-key operation.
"""

from __future__ import annotations

import binascii
import hmac
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, cast

import pybase64
from asn1crypto import algos, cms, core  # type: ignore[import-untyped]  # no stubs
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.ciphers import BlockCipherAlgorithm, Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

from mailcore._message import MessageInput, RawMessage, as_bytes
from mailcore.errors import (
    DecryptionFailed,
    KeyLoadError,
    MailcoreError,
    MalformedMessage,
    MalformedSmime,
    UnsupportedAlgorithm,
)
from mailcore.smime import _der
from mailcore.smime._certs import certificate_key, key_type_of
from mailcore.smime._cms_types import (
    AUTH_ENVELOPED_DATA,
    CONTENT_CIPHERS,
    ENVELOPED_DATA,
    HASHES,
    ID_EC_PUBLIC_KEY,
    ID_MGF1,
    ID_X25519,
    KEY_AGREEMENT_SCHEMES,
    KEY_WRAPS,
    RSA_ENCRYPTION,
    RSAES_OAEP,
    ContentCipher,
    GCMParameters,
    derive_kek,
)
from mailcore.smime._mime import content_type

__all__ = ["DecryptResult", "decrypt_message"]

DECRYPTION_FAILED = "The message cannot be decrypted with the given key"
"""The one message of every :class:`DecryptionFailed` (no oracle)."""

MAX_RECIPIENT_INFOS = 1024
"""RecipientInfos (and recipientEncryptedKeys of key agreement) one
EnvelopedData may carry (issue 17.1): each may cost a private-key operation
per key tried, so 100,000 cost 22 s a key.  A message to a large list
carries one per recipient; 1,024 is far above what mail clients send and
costs at most ~0.7 s of RSA-2048 per key."""

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey
_SUPPORTED_KEYS = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, x25519.X25519PrivateKey)
Matched = Literal["issuer_and_serial", "subject_key_identifier", "trial"]

_PKCS7_TYPES = ("application/pkcs7-mime", "application/x-pkcs7-mime")
_SPACES = b" \t\n\r\x0b\x0c"  # what ``\s`` matches in a bytes regex
_PEM_START = re.compile(rb"\s*-----BEGIN ")
_PEM = re.compile(rb"-----BEGIN [A-Z0-9 #]+-----(.*?)-----END [A-Z0-9 #]+-----", re.DOTALL)


@dataclass(frozen=True, slots=True)
class DecryptResult:
    """What :func:`decrypt_message` found."""

    content: bytes
    """The decrypted MIME entity (header fields and body), as sent."""
    cipher: str
    """The content cipher, e.g. ``"aes-256-gcm"``, ``"des-ede3-cbc"``."""
    recipient: Matched
    """How the RecipientInfo was found: by the certificate's
    ``issuer_and_serial`` or ``subject_key_identifier``, or by ``trial``
    of the key (no certificate given)."""
    authenticated: bool
    """True when the content had an authentication tag (AES-GCM) that
    verified; CBC content has none."""
    key_encryption: str
    """How the content key was protected: ``rsa-pkcs1v15``,
    ``rsaes-oaep-sha256`` (``-mgf1-sha1`` when the MGF1 hash differs,
    ``-label`` with a label), ``ecdh-x963-sha256``, ``ecdh-hkdf-sha256``..."""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready summary (the content itself is left out)."""
        return {
            "cipher": self.cipher,
            "authenticated": self.authenticated,
            "recipient": self.recipient,
            "key_encryption": self.key_encryption,
            "size": len(self.content),
        }


# -- parsed structures: plain values, read from asn1crypto in one place --------
#
# The per-message ones are not frozen (a frozen dataclass sets each field
# through object.__setattr__, which shows on the hot path); nothing
# modifies them after they are built.


@dataclass(slots=True)
class _Rid:
    """A recipient identifier: issuer+serial or subjectKeyIdentifier."""

    issuer: bytes | None = None  # the issuer Name's DER, as found
    serial: int | None = None
    ski: bytes | None = None


@dataclass(frozen=True, slots=True)
class _Oaep:
    hash: type[hashes.HashAlgorithm] | None  # None: a hash mailcore lacks
    mgf_hash: type[hashes.HashAlgorithm] | None
    label: bytes


@dataclass(slots=True)
class _KeyTrans:
    rid: _Rid
    algorithm: str
    oaep: _Oaep | None
    encrypted_key: bytes


@dataclass(frozen=True, slots=True)
class _KeyAgree:
    originator_algorithm: str | None  # None: originator is not a public key
    originator_key: bytes
    ukm: bytes | None
    scheme: str
    key_wrap: str | None
    key_wrap_der: bytes
    encrypted_keys: tuple[tuple[_Rid, bytes], ...]


@dataclass(slots=True)
class _Envelope:
    auth_enveloped: bool
    recipients: tuple[_KeyTrans | _KeyAgree, ...]
    cipher_oid: str
    cipher: ContentCipher | None
    iv: bytes  # CBC IV or GCM nonce
    icv_length: int
    ciphertext: bytes | memoryview  # a view into the CMS bytes: never copied
    mac: bytes
    aad: bytes


@dataclass(slots=True)
class _Candidate:
    """A RecipientInfo (or one recipientEncryptedKey of a kari) to try."""

    matched: Matched
    info: _KeyTrans | _KeyAgree
    encrypted_key: bytes


# -- the entry point ---------------------------------------------------------------


def decrypt_message(
    message: MessageInput,
    key: PrivateKeyTypes,
    certificate: x509.Certificate | None = None,
    *,
    require_authenticated: bool = False,
    allow_legacy: bool = True,
) -> DecryptResult:
    """Decrypt an S/MIME enveloped or authEnveloped message with ``key``.

    ``key`` is a cryptography private key: RSA, EC (P-256/384/521) or
    X25519; other key types raise
    :class:`~mailcore.errors.UnsupportedAlgorithm`.  ``message`` is an
    ``application/pkcs7-mime`` (or ``x-pkcs7-mime``, or
    ``application/octet-stream`` named ``*.p7m``) message, or the CMS
    object itself as DER/BER or PEM.  ``certificate`` (``key``'s) selects
    the RecipientInfos naming it by issuer and serial number or by
    subjectKeyIdentifier; without it every RecipientInfo that ``key``'s
    type can handle is tried.

    ``require_authenticated`` refuses CBC content (no integrity, a padding
    oracle if success is reflected to the sender) with
    :class:`~mailcore.errors.UnsupportedAlgorithm`; ``allow_legacy=False``
    refuses 3DES the same way.

    Raises :class:`~mailcore.errors.MalformedSmime` for input that does not
    parse, :class:`~mailcore.errors.UnsupportedAlgorithm` for a content
    cipher mailcore does not have (or refuses), and
    :class:`~mailcore.errors.DecryptionFailed` — always with the same
    message — when the key is not a recipient's, the key unwrap fails or
    the ciphertext or tag was tampered with.
    """
    usable = _check_key(key, certificate)
    envelope = _parse(_cms_bytes(message))
    cipher = envelope.cipher
    if cipher is None:
        raise UnsupportedAlgorithm(
            f"content encryption algorithm {envelope.cipher_oid} is not supported; mailcore "
            "decrypts AES-CBC, AES-GCM and 3DES-CBC"
        )
    authenticated = cipher.mode == "gcm"
    if require_authenticated and not authenticated:
        raise UnsupportedAlgorithm(
            f"the message is encrypted with {cipher.name}, which has no integrity protection; "
            "authenticated encryption (AES-GCM) is required"
        )
    if cipher.legacy and not allow_legacy:
        raise UnsupportedAlgorithm(f"the message is encrypted with legacy {cipher.name}")
    candidates, unsupported = _candidates(envelope, usable, certificate)
    if not candidates and unsupported:
        raise UnsupportedAlgorithm(
            f"the message is encrypted for this key with {unsupported[0]}, "
            "which mailcore does not support"
        )
    for candidate in candidates:
        unwrapped = _unwrap(candidate, usable, cipher.key_size)
        if unwrapped is None:
            continue
        cek, genuine, key_encryption = unwrapped
        # RFC 3218 §2.3.2: the content is decrypted whether or not the
        # unwrap was genuine; only a genuine key's success counts.
        content = _open(envelope, cipher, cek)
        if (
            content is not None
            and (authenticated or key_encryption != "rsa-pkcs1v15" or _is_entity(content))
            and genuine
        ):
            return DecryptResult(
                content=content,
                cipher=cipher.name,
                recipient=candidate.matched,
                authenticated=authenticated,
                key_encryption=key_encryption,
            )
    raise DecryptionFailed(DECRYPTION_FAILED)


# The start of a MIME entity (RFC 8551 §3.3: what is enveloped is a MIME
# entity): a header field name and its colon, or the blank line of an entity
# without header fields.
_ENTITY_START = re.compile(rb"(?:\r?\n|[!-9;-~]+[ \t]*:)")


def _is_entity(content: bytes) -> bool:
    """A PKCS #1 v1.5 key-transport failure can look like success: OpenSSL's
    implicit rejection returns a pseudo-random key instead of an error, and
    one time in ~256 unauthenticated CBC content then "decrypts" with valid
    padding.  Such garbage is not a MIME entity, so it is refused like any
    other failure (same message, same path: no oracle)."""
    return _ENTITY_START.match(content) is not None


def _check_key(key: object, certificate: x509.Certificate | None) -> PrivateKey:
    """``key`` if it can decrypt (and is ``certificate``'s, if given)."""
    if not isinstance(key, _SUPPORTED_KEYS):
        # A private key of another type (DSA, Ed25519, ML-DSA...), told apart
        # without naming DSA's classes (deprecated: cryptography warns).
        if key_type_of(key) != "unknown" and hasattr(key, "private_bytes"):
            raise UnsupportedAlgorithm(
                f"a {type(key).__name__} cannot decrypt S/MIME; use an RSA, EC or X25519 key"
            )
        raise TypeError(f"key must be a cryptography private key object, not {type(key).__name__}")
    if certificate is None:
        return key
    if not isinstance(certificate, x509.Certificate):
        raise TypeError(
            "certificate must be a cryptography x509.Certificate, "
            f"not {type(certificate).__name__}"
        )
    mine = certificate_key(certificate)
    matches = mine is not None and mine == key.public_key()
    if not matches:
        raise KeyLoadError("the certificate is not the private key's", where="certificate")
    return key


# -- MIME framing ---------------------------------------------------------------------


def _cms_bytes(message: MessageInput) -> bytes:
    """The CMS bytes from a MIME message, PEM, or DER/BER as given."""
    data = as_bytes(message)
    # A ContentInfo is a SEQUENCE with a long-form or indefinite length; a
    # header field name never has a byte >= 0x80 in second place.
    if len(data) > 1 and data[0] == 0x30 and data[1] >= 0x80:
        return data
    if _PEM_START.match(data):
        pem = _PEM.search(data)
        if pem is None:
            raise MalformedSmime("PEM without a matching END line", where="PEM")
        return _base64(pem.group(1), "PEM")
    try:
        raw = RawMessage(data)
    except MalformedMessage as exc:
        raise MalformedSmime(exc.detail, where=exc.where) from None
    # One scan of the header block for both fields.
    found = raw.find_many("Content-Type", "Content-Transfer-Encoding")
    types, encodings = found["content-type"], found["content-transfer-encoding"]
    value = raw.value(types[0]) if types else None
    kind = value.partition(";")[0].strip().lower() if value else ""
    # The parameters matter only for application/octet-stream (*.p7m).
    params = {} if kind in _PKCS7_TYPES else content_type(value)[1]
    kind = kind or "text/plain"
    if kind not in _PKCS7_TYPES and not (kind == "application/octet-stream" and _p7m(raw, params)):
        raise MalformedSmime(
            f"Content-Type is {kind}, not application/pkcs7-mime", where="Content-Type"
        )
    encoding = (raw.value(encodings[0]) if encodings else "7bit").strip().lower()
    if encoding == "base64":
        der = _base64(data, "message body", raw.body_start)
    elif encoding in ("binary", "8bit", "7bit"):
        der = data[raw.body_start :]
    else:
        raise MalformedSmime(
            f"Content-Transfer-Encoding {encoding} cannot carry CMS",
            where="Content-Transfer-Encoding",
        )
    if not der:
        raise MalformedSmime("the message has no CMS content", where="message body")
    return der


def _p7m(raw: RawMessage, params: dict[str, str]) -> bool:
    names = [params.get("name", "")]
    disposition = raw.first("Content-Disposition")
    if disposition:
        names.append(content_type(disposition)[1].get("filename", ""))
    return any(name.strip().lower().endswith(".p7m") for name in names)


def _base64(text: bytes, where: str, start: int = 0) -> bytes:
    """Base64 of ``text[start:]``, white space ignored, anything else refused."""
    # translate() drops exactly what ``\s`` matches in a bytes pattern; the
    # slice is a temporary, freed before the decoded bytes are made.
    stripped = text[start:].translate(None, _SPACES)
    try:
        # pybase64 (SIMD) with validation: the stdlib decoder is the largest
        # cost of decrypting a small message after the RSA operation itself.
        return pybase64.b64decode(stripped, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedSmime("the CMS content is not valid base64", where=where) from None


# -- CMS parsing ----------------------------------------------------------------------


def _parse(der: bytes) -> _Envelope:
    """Read everything decryption needs into plain values.

    asn1crypto parses lazily and raises whatever it raises (ValueError,
    TypeError, KeyError...); all of it, here, is input that does not parse.
    """
    try:
        return _read_envelope(der)
    except MailcoreError:
        raise
    except Exception as exc:  # asn1crypto: any failure is malformed input
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise MalformedSmime(
            f"the CMS object does not parse{': ' + detail if detail else ''}", where="CMS"
        ) from None


def _read_envelope(der: bytes) -> _Envelope:
    # What mailcore and most agents send is plain DER of a known shape: read
    # that directly.  Anything else (BER, originatorInfo, attributes, other
    # RecipientInfo kinds, unknown algorithms...) goes to asn1crypto.
    try:
        fast = _read_der_envelope(der)
    except MailcoreError:
        raise
    except (ValueError, IndexError):
        fast = None
    if fast is not None:
        return fast
    return _read_asn1_envelope(der)


def _read_asn1_envelope(der: bytes) -> _Envelope:
    info = cms.ContentInfo.load(der, strict=True)
    kind = info["content_type"].dotted
    if kind == ENVELOPED_DATA:
        body = info["content"]
        encrypted = body["encrypted_content_info"]
        mac, aad = b"", b""
    elif kind == AUTH_ENVELOPED_DATA:
        body = info["content"]
        encrypted = body["auth_encrypted_content_info"]
        mac = bytes(body["mac"].native)
        attributes = body["auth_attrs"]
        # RFC 5083 §2.2: the AAD is the DER of authAttrs with an EXPLICIT
        # SET OF tag instead of the IMPLICIT [1].
        aad = b"" if isinstance(attributes, core.Void) else _der.tlv(0x31, attributes.contents)
    else:
        name = info["content_type"].native
        raise MalformedSmime(
            f"the CMS content is {name}, not enveloped-data or authEnveloped-data",
            where="CMS content type",
        )
    _check_recipients(len(body["recipient_infos"]))
    recipients = tuple(
        parsed for ri in body["recipient_infos"] if (parsed := _read_recipient(ri)) is not None
    )
    _check_recipients(
        sum(len(r.encrypted_keys) if isinstance(r, _KeyAgree) else 1 for r in recipients)
    )
    algorithm = encrypted["content_encryption_algorithm"]
    cipher_oid = algorithm["algorithm"].dotted
    cipher = CONTENT_CIPHERS.get(cipher_oid)
    content = encrypted["encrypted_content"]
    if isinstance(content, core.Void):
        raise MalformedSmime("the encrypted content is missing (detached)", where="CMS")
    ciphertext = bytes(content.native)
    iv, icv_length = b"", 0
    if cipher is not None:
        parameters = algorithm["parameters"]
        if cipher.mode == "cbc":
            iv = bytes(core.OctetString.load(parameters.dump()).native)
            block = 8 if cipher.legacy else 16
            if len(iv) != block:
                raise MalformedSmime(f"the {cipher.name} IV is not {block} bytes", where="CMS")
        else:
            gcm = GCMParameters.load(parameters.dump())
            iv, icv_length = bytes(gcm["aes_nonce"].native), int(gcm["aes_icvlen"].native)
            # RFC 5084 §3.2: ICV of 12 to 16 bytes; GCM takes 8..128-byte nonces.
            if not 12 <= icv_length <= 16 or not 8 <= len(iv) <= 128:
                raise MalformedSmime("GCMParameters are out of range", where="CMS")
            if kind == ENVELOPED_DATA:
                # GCM inside EnvelopedData (not RFC 5084, but some senders
                # do it): the tag follows the ciphertext.
                ciphertext, mac = ciphertext[:-icv_length], ciphertext[-icv_length:]
    return _Envelope(
        auth_enveloped=kind == AUTH_ENVELOPED_DATA,
        recipients=recipients,
        cipher_oid=cipher_oid,
        cipher=cipher,
        iv=iv,
        icv_length=icv_length,
        ciphertext=ciphertext,
        mac=mac,
        aad=aad,
    )


def _check_recipients(count: int) -> None:
    if count > MAX_RECIPIENT_INFOS:
        raise MalformedSmime(
            f"the EnvelopedData carries {count} RecipientInfos; "
            f"mailcore reads at most {MAX_RECIPIENT_INFOS}",
            where="CMS recipientInfos",
        )


# -- the DER fast path --------------------------------------------------------------
#
# Every function here returns None (or raises ValueError) for anything that
# is not exactly the expected DER; the caller then parses with asn1crypto,
# so the fast path only ever gives the result asn1crypto would.

_OID_ENVELOPED_DATA = _der.oid(ENVELOPED_DATA)
_OID_AUTH_ENVELOPED_DATA = _der.oid(AUTH_ENVELOPED_DATA)
_OID_RSA_ENCRYPTION = _der.oid(RSA_ENCRYPTION)
_OID_RSAES_OAEP = _der.oid(RSAES_OAEP)
_CIPHER_OIDS = {_der.oid(oid): oid for oid in CONTENT_CIPHERS}
_NULL = b"\x05\x00"


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """(tag, TLV start, contents start, end) of each TLV in ``data[start:end]``.

    Raises ValueError (IndexError past the end of ``data``) for anything
    but one-byte tags and minimal definite lengths.
    """
    children: list[tuple[int, int, int, int]] = []
    append = children.append
    while start < end:
        tag = data[start]
        size = data[start + 1]
        if size < 0x80:
            contents = start + 2
        elif size == 0x81 and data[start + 2] >= 0x80:
            contents = start + 3
            size = data[start + 2]
        elif size == 0x82 and data[start + 2]:
            contents = start + 4
            size = (data[start + 2] << 8) | data[start + 3]
            if size < 0x100:
                raise ValueError("non-minimal length")
        else:
            tag, contents, stop = _der.header(data, start, end)
            append((tag, start, contents, stop))
            start = stop
            continue
        stop = contents + size
        if tag & 0x1F == 0x1F or stop > end:
            raise ValueError("not a plain DER TLV")
        append((tag, start, contents, stop))
        start = stop
    return children


def _read_der_envelope(der: bytes) -> _Envelope | None:
    size = len(der)
    tag, start, end = _der.header(der, 0, size)
    if tag != 0x30 or end != size:
        return None
    outer = _children(der, start, end)
    if len(outer) != 2 or outer[0][0] != 0x06 or outer[1][0] != 0xA0:
        return None
    content_type = der[outer[0][1] : outer[0][3]]
    if content_type == _OID_AUTH_ENVELOPED_DATA:
        auth = True
    elif content_type == _OID_ENVELOPED_DATA:
        auth = False
    else:
        return None
    tag, start, end = _der.header(der, outer[1][2], outer[1][3])
    if tag != 0x30 or end != outer[1][3]:
        return None
    fields = _children(der, start, end)
    # version, recipientInfos, (auth)EncryptedContentInfo[, mac]
    if len(fields) != (4 if auth else 3) or fields[0][0] != 0x02 or fields[1][0] != 0x31:
        return None
    recipients = []
    infos = _children(der, fields[1][2], fields[1][3])
    _check_recipients(len(infos))
    for tag, _, start, end in infos:
        recipient = _der_key_trans(der, start, end) if tag == 0x30 else None
        if recipient is None:
            return None
        recipients.append(recipient)
    mac = b""
    if auth:
        if fields[3][0] != 0x04:
            return None
        mac = der[fields[3][2] : fields[3][3]]
    tag, _, start, end = fields[2]
    if tag != 0x30:
        return None
    content = _children(der, start, end)
    if len(content) != 3 or content[0][0] != 0x06 or content[1][0] != 0x30:
        return None
    tag, _, start, end = content[2]
    if tag != 0x80:  # [0] IMPLICIT OCTET STRING, primitive as DER has it
        return None
    ciphertext = memoryview(der)[start:end]
    algorithm = _children(der, content[1][2], content[1][3])
    if len(algorithm) != 2 or algorithm[0][0] != 0x06:
        return None
    cipher_oid = _CIPHER_OIDS.get(der[algorithm[0][1] : algorithm[0][3]])
    if cipher_oid is None:
        return None
    cipher = CONTENT_CIPHERS[cipher_oid]
    tag, _, start, end = algorithm[1]
    icv_length = 0
    if cipher.mode == "cbc":
        if tag != 0x04:
            return None
        iv = der[start:end]
        block = 8 if cipher.legacy else 16
        if len(iv) != block:
            raise MalformedSmime(f"the {cipher.name} IV is not {block} bytes", where="CMS")
    else:
        parameters = _children(der, start, end) if tag == 0x30 else []
        if len(parameters) != 2 or parameters[0][0] != 0x04 or parameters[1][0] != 0x02:
            return None
        iv = der[parameters[0][2] : parameters[0][3]]
        icv = der[parameters[1][2] : parameters[1][3]]
        if not icv:
            return None
        icv_length = int.from_bytes(icv, "big", signed=True)
        if not 12 <= icv_length <= 16 or not 8 <= len(iv) <= 128:
            raise MalformedSmime("GCMParameters are out of range", where="CMS")
        if not auth:
            # GCM inside EnvelopedData: the tag follows the ciphertext.
            mac = bytes(ciphertext[len(ciphertext) - icv_length :])
            ciphertext = ciphertext[: len(ciphertext) - icv_length]
    return _Envelope(
        auth_enveloped=auth,
        recipients=tuple(recipients),
        cipher_oid=cipher_oid,
        cipher=cipher,
        iv=iv,
        icv_length=icv_length,
        ciphertext=ciphertext,
        mac=mac,
        aad=b"",
    )


def _der_key_trans(der: bytes, start: int, end: int) -> _KeyTrans | None:
    """A KeyTransRecipientInfo in plain DER (RFC 5652 §6.2.1), else None."""
    fields = _children(der, start, end)
    if len(fields) != 4 or fields[0][0] != 0x02 or fields[3][0] != 0x04:
        return None
    tag, _, start, end = fields[1]
    if tag == 0x30:  # issuerAndSerialNumber
        parts = _children(der, start, end)
        if len(parts) != 2 or parts[0][0] != 0x30 or parts[1][0] != 0x02:
            return None
        serial = der[parts[1][2] : parts[1][3]]
        if not serial:
            return None
        rid = _Rid(
            issuer=der[parts[0][1] : parts[0][3]],
            serial=int.from_bytes(serial, "big", signed=True),
        )
    elif tag == 0x80:  # [0] IMPLICIT SubjectKeyIdentifier
        rid = _Rid(ski=der[start:end])
    else:
        return None
    tag, begin, start, end = fields[2]
    known = _KNOWN_KEY_TRANSPORT.get(der[begin:end])
    if known is not None:
        return _KeyTrans(
            rid=rid,
            algorithm=known[0],
            oaep=known[1],
            encrypted_key=der[fields[3][2] : fields[3][3]],
        )
    algorithm = _children(der, start, end) if tag == 0x30 else []
    if not 1 <= len(algorithm) <= 2 or algorithm[0][0] != 0x06:
        return None
    oid = der[algorithm[0][1] : algorithm[0][3]]
    parameters = der[algorithm[1][1] : algorithm[1][3]] if len(algorithm) == 2 else None
    oaep = None
    if oid == _OID_RSA_ENCRYPTION:
        if parameters not in (None, _NULL):
            return None
        name = RSA_ENCRYPTION
    elif oid == _OID_RSAES_OAEP:
        name = RSAES_OAEP
        oaep = _read_oaep(parameters)
    else:
        return None
    return _KeyTrans(
        rid=rid,
        algorithm=name,
        oaep=oaep,
        encrypted_key=der[fields[3][2] : fields[3][3]],
    )


def _read_recipient(ri: cms.RecipientInfo) -> _KeyTrans | _KeyAgree | None:
    if ri.name == "ktri":
        return _read_key_trans(ri.chosen)
    if ri.name == "kari":
        return _read_key_agree(ri.chosen)
    return None  # kekri, pwri, ori: nothing a private key can open


def _read_rid(rid: core.Choice) -> _Rid:
    if rid.name == "issuer_and_serial_number":
        chosen = rid.chosen
        return _Rid(issuer=chosen["issuer"].dump(), serial=chosen["serial_number"].native)
    if rid.name == "subject_key_identifier":
        return _Rid(ski=bytes(rid.chosen.native))
    # KeyAgreeRecipientIdentifier rKeyId [0] RecipientKeyIdentifier
    return _Rid(ski=bytes(rid.chosen["subject_key_identifier"].native))


def _read_key_trans(ktri: cms.KeyTransRecipientInfo) -> _KeyTrans:
    algorithm = ktri["key_encryption_algorithm"]
    oid = algorithm["algorithm"].dotted
    oaep = None
    if oid == RSAES_OAEP:
        parameters = algorithm["parameters"]
        oaep = _read_oaep(
            None if isinstance(parameters, core.Void | core.Null) else parameters.dump()
        )
    return _KeyTrans(
        rid=_read_rid(ktri["rid"]),
        algorithm=oid,
        oaep=oaep,
        encrypted_key=bytes(ktri["encrypted_key"].native),
    )


# RFC 4055 §4.1 RSAES-OAEP-params with SHA-256 and MGF1-SHA-256, as mailcore
# and OpenSSL write them (NULL hash parameters) and without the NULLs.
_SHA256_OAEP = _Oaep(hash=hashes.SHA256, mgf_hash=hashes.SHA256, label=b"")
_SHA256_ID = _der.oid("2.16.840.1.101.3.4.2.1")
_KNOWN_OAEP: dict[bytes, _Oaep] = {
    _der.sequence(
        _der.context(0, _der.sequence(_SHA256_ID, *null)),
        _der.context(1, _der.sequence(_der.oid(ID_MGF1), _der.sequence(_SHA256_ID, *null))),
    ): _SHA256_OAEP
    for null in ((), (_NULL,))
}


# Whole AlgorithmIdentifiers as mailcore, OpenSSL and the mail clients
# write them: rsaEncryption (NULL or absent parameters) and SHA-256 OAEP.
_KNOWN_KEY_TRANSPORT: dict[bytes, tuple[str, _Oaep | None]] = {
    _der.sequence(_OID_RSA_ENCRYPTION, _NULL): (RSA_ENCRYPTION, None),
    _der.sequence(_OID_RSA_ENCRYPTION): (RSA_ENCRYPTION, None),
    **{
        _der.sequence(_OID_RSAES_OAEP, der): (RSAES_OAEP, oaep)
        for der, oaep in _KNOWN_OAEP.items()
    },
}


_SHA256_OAEP_PADDING = (
    asym_padding.OAEP(
        mgf=asym_padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None
    ),
    "rsaes-oaep-sha256",
)


def _read_oaep(parameters: bytes | None) -> _Oaep:
    """RSAES-OAEP-params from their DER; ``None`` when absent (or NULL)."""
    if parameters is not None and (known := _KNOWN_OAEP.get(parameters)) is not None:
        return known
    if parameters is None:
        # Absent parameters: every field at its default (SHA-1).
        parsed = algos.RSAESOAEPParams()
    else:
        parsed = algos.RSAESOAEPParams.load(parameters)
    mgf = parsed["mask_gen_algorithm"]
    mgf_hash = (
        HASHES.get(mgf["parameters"]["algorithm"].dotted)
        if mgf["algorithm"].dotted == ID_MGF1
        else None
    )
    source = parsed["p_source_algorithm"]
    label = source["parameters"].native if source["algorithm"].native == "p_specified" else b""
    return _Oaep(
        hash=HASHES.get(parsed["hash_algorithm"]["algorithm"].dotted),
        mgf_hash=mgf_hash,
        label=bytes(label or b""),
    )


def _read_key_agree(kari: cms.KeyAgreeRecipientInfo) -> _KeyAgree:
    originator = kari["originator"]
    if originator.name == "originator_key":
        public = originator.chosen
        originator_algorithm = public["algorithm"]["algorithm"].dotted
        bits = public["public_key"].contents
        if not bits or bits[0] != 0:
            raise MalformedSmime("the originator key has unused bits", where="CMS")
        originator_key = bytes(bits[1:])
    else:
        originator_algorithm, originator_key = None, b""  # static-static: unsupported
    ukm = kari["ukm"].native
    algorithm = kari["key_encryption_algorithm"]
    wrap_parameters = algorithm["parameters"]
    if isinstance(wrap_parameters, core.Void):
        key_wrap, key_wrap_der = None, b""
    else:
        key_wrap_der = wrap_parameters.dump()
        key_wrap = cms.KeyEncryptionAlgorithm.load(key_wrap_der)["algorithm"].dotted
    encrypted_keys = tuple(
        (_read_rid(rek["rid"]), bytes(rek["encrypted_key"].native))
        for rek in kari["recipient_encrypted_keys"]
    )
    return _KeyAgree(
        originator_algorithm=originator_algorithm,
        originator_key=originator_key,
        ukm=None if ukm is None else bytes(ukm),
        scheme=algorithm["algorithm"].dotted,
        key_wrap=key_wrap,
        key_wrap_der=key_wrap_der,
        encrypted_keys=encrypted_keys,
    )


# -- choosing RecipientInfos ----------------------------------------------------------


class _Identity:
    """What identifies the given certificate in a RecipientInfo.

    The issuer is compared as DER first; only names that differ in their
    bytes go through asn1crypto's RFC 5280 §7.1 comparison (string prep),
    and the subjectKeyIdentifier is looked up only when a RecipientInfo
    names one.
    """

    __slots__ = ("_issuer", "_issuer_hashable", "_ski", "certificate", "serial")

    def __init__(self, certificate: x509.Certificate) -> None:
        self.certificate = certificate
        self.serial: int = certificate.serial_number
        self._issuer: bytes | None = None
        self._issuer_hashable: str | None = None
        self._ski: bytes | None = None

    @property
    def issuer(self) -> bytes:
        """The issuer Name's DER, exactly as in the certificate."""
        if self._issuer is None:
            der = self.certificate.public_bytes(serialization.Encoding.DER)
            try:
                self._issuer = _der.issuer_and_serial(der)[0]
            except ValueError:  # not plain DER: let asn1crypto take it apart
                tbs = asn1_x509.Certificate.load(der)["tbs_certificate"]
                self._issuer = bytes(tbs["issuer"].dump())
        return self._issuer

    @property
    def ski(self) -> bytes:
        if self._ski is None:
            certificate = self.certificate
            try:
                ski = certificate.extensions.get_extension_for_class(
                    x509.SubjectKeyIdentifier
                ).value
            except x509.ExtensionNotFound:
                # RFC 5280 §4.2.1.2 method 1, as the sender would compute it.
                key = certificate_key(certificate)
                if key is None:  # a key mailcore cannot use matches no identifier
                    self._ski = b""
                    return self._ski
                ski = x509.SubjectKeyIdentifier.from_public_key(key)
            self._ski = ski.digest
        return self._ski

    def same_issuer(self, issuer: bytes) -> bool:
        # cryptography writes the issuer back from what it parsed: the same
        # names, types and values, so equal bytes mean the same issuer.
        try:
            written = self.certificate.issuer.public_bytes()
        except ValueError:
            written = None
        if issuer == written or issuer == self.issuer:
            return True
        if self._issuer_hashable is None:
            self._issuer_hashable = asn1_x509.Name.load(self.issuer).hashable
        return _name_hashable(issuer) == self._issuer_hashable


def _name_hashable(der: bytes) -> str:
    """asn1crypto's comparable form of a Name from a RecipientInfo."""
    try:
        return str(asn1_x509.Name.load(der).hashable)
    except Exception:  # asn1crypto: any failure is malformed input
        raise MalformedSmime("a recipient's issuer name does not parse", where="CMS") from None


def _identity(certificate: x509.Certificate) -> _Identity:
    return _Identity(certificate)


def _match(rid: _Rid, identity: _Identity | None) -> Matched | None:
    if identity is None:
        return "trial"
    if rid.ski is not None:
        return "subject_key_identifier" if rid.ski == identity.ski else None
    if (
        rid.issuer is not None
        and rid.serial == identity.serial
        and identity.same_issuer(rid.issuer)
    ):
        return "issuer_and_serial"
    return None


def _candidates(
    envelope: _Envelope, key: PrivateKey, certificate: x509.Certificate | None
) -> tuple[list[_Candidate], list[str]]:
    """(RecipientInfos to try, names of matching ones mailcore cannot use)."""
    identity = None if certificate is None else _identity(certificate)
    candidates: list[_Candidate] = []
    unsupported: list[str] = []
    # One isinstance for the whole loop (an ABC check, not free).
    rsa_key = isinstance(key, rsa.RSAPrivateKey)
    modulus_bytes = (cast(rsa.RSAPrivateKey, key).key_size + 7) // 8 if rsa_key else 0
    for info in envelope.recipients:
        if isinstance(info, _KeyTrans):
            if not rsa_key:
                continue
            matched = _match(info.rid, identity)
            if matched is None:
                continue
            problem = _key_trans_problem(info)
            if problem is not None:
                unsupported.append(problem)
            elif identity is not None or len(info.encrypted_key) == modulus_bytes:
                candidates.append(_Candidate(matched, info, info.encrypted_key))
            continue
        if rsa_key:
            continue
        wanted = ID_X25519 if isinstance(key, x25519.X25519PrivateKey) else ID_EC_PUBLIC_KEY
        if info.originator_algorithm != wanted:
            continue
        for rid, encrypted_key in info.encrypted_keys:
            matched = _match(rid, identity)
            if matched is None:
                continue
            problem = _key_agree_problem(info, key)
            if problem is not None:
                unsupported.append(problem)
            else:
                candidates.append(_Candidate(matched, info, encrypted_key))
    return candidates, unsupported


def _key_trans_problem(info: _KeyTrans) -> str | None:
    if info.algorithm == RSA_ENCRYPTION:
        return None
    if info.algorithm != RSAES_OAEP:
        return f"key transport {info.algorithm}"
    assert info.oaep is not None
    if info.oaep.hash is None or info.oaep.mgf_hash is None:
        return "RSAES-OAEP with an unsupported hash or mask generation function"
    return None


def _key_agree_problem(info: _KeyAgree, key: PrivateKey) -> str | None:
    scheme = KEY_AGREEMENT_SCHEMES.get(info.scheme)
    if scheme is None or (scheme.cofactor and isinstance(key, x25519.X25519PrivateKey)):
        return f"key agreement {info.scheme}"
    if info.key_wrap not in KEY_WRAPS:
        return f"key wrap {info.key_wrap}"
    return None


# -- unwrapping the content key -------------------------------------------------------


def _unwrap(
    candidate: _Candidate, key: PrivateKey, key_size: int
) -> tuple[bytes, bool, str] | None:
    """(content key, genuine, how it was protected), or None if unusable.

    Key transport always yields a key of ``key_size`` bytes: when the RSA
    decryption fails or gives the wrong length, a random key stands in
    (RFC 3218 §2.3.2) and ``genuine`` is False, so that what follows is
    the same whether the padding was good or not.
    """
    info = candidate.info
    if isinstance(info, _KeyTrans):
        rsa_key = cast(rsa.RSAPrivateKey, key)  # _candidates: ktri only for RSA keys
        substitute = os.urandom(key_size)
        scheme: asym_padding.AsymmetricPadding
        if info.oaep is None:
            scheme, name = asym_padding.PKCS1v15(), "rsa-pkcs1v15"
        else:
            scheme, name = _oaep(info.oaep)
        try:
            cek = rsa_key.decrypt(candidate.encrypted_key, scheme)
        except ValueError:
            cek = b""
        genuine = len(cek) == key_size
        return (cek if genuine else substitute), genuine, name
    assert not isinstance(key, rsa.RSAPrivateKey)
    agreement = KEY_AGREEMENT_SCHEMES[info.scheme]
    wrap = KEY_WRAPS[info.key_wrap or ""]
    try:
        if isinstance(key, x25519.X25519PrivateKey):
            shared = key.exchange(x25519.X25519PublicKey.from_public_bytes(info.originator_key))
        else:
            peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, info.originator_key)
            shared = key.exchange(ec.ECDH(), peer)
        kek = derive_kek(agreement, shared, info.key_wrap_der, wrap.key_size, info.ukm)
        if wrap.legacy:
            cek = _des3_unwrap(kek, candidate.encrypted_key)
        else:
            cek = aes_key_unwrap(kek, candidate.encrypted_key)
    except (ValueError, InvalidUnwrap):
        # A point not on the curve, a low-order X25519 key, or a wrap
        # whose integrity check fails: not for this key.
        return None
    if len(cek) != key_size:
        return None
    return cek, True, agreement.name


_DES3_WRAP_IV = bytes.fromhex("4adda22c79e82105")  # RFC 3217 §3.1 step 8


def _des3_unwrap(kek: bytes, wrapped: bytes) -> bytes:
    """Triple-DES key unwrap (RFC 3217 §3.2), for 3DES keys wrapped by ECDH."""
    if len(wrapped) != 40:
        raise InvalidUnwrap()
    decryptor = Cipher(TripleDES(kek), modes.CBC(_DES3_WRAP_IV)).decryptor()
    reversed_ = (decryptor.update(wrapped) + decryptor.finalize())[::-1]
    decryptor = Cipher(TripleDES(kek), modes.CBC(reversed_[:8])).decryptor()
    cek_icv = decryptor.update(reversed_[8:]) + decryptor.finalize()
    cek, icv = cek_icv[:24], cek_icv[24:]
    digest = hashes.Hash(hashes.SHA1())
    digest.update(cek)
    if not hmac.compare_digest(digest.finalize()[:8], icv):
        raise InvalidUnwrap()
    return cek


def _oaep(parameters: _Oaep) -> tuple[asym_padding.OAEP, str]:
    if parameters is _SHA256_OAEP:  # what the fast path reads for SHA-256 OAEP
        return _SHA256_OAEP_PADDING
    assert parameters.hash is not None and parameters.mgf_hash is not None
    digest, mgf = parameters.hash(), parameters.mgf_hash()
    name = f"rsaes-oaep-{digest.name}"
    if mgf.name != digest.name:
        name += f"-mgf1-{mgf.name}"
    if parameters.label:
        name += "-label"
    padding_ = asym_padding.OAEP(
        mgf=asym_padding.MGF1(mgf), algorithm=digest, label=parameters.label or None
    )
    return padding_, name


# -- decrypting the content -----------------------------------------------------------


def _open(envelope: _Envelope, cipher: ContentCipher, cek: bytes) -> bytes | None:
    """The plaintext, or None if the padding or tag does not check."""
    if cipher.mode == "gcm":
        return _open_gcm(envelope, cek)
    block: Callable[[bytes], BlockCipherAlgorithm] = TripleDES if cipher.legacy else algorithms.AES
    algorithm = block(cek)
    size = algorithm.block_size // 8
    if not envelope.ciphertext or len(envelope.ciphertext) % size:
        return None
    decryptor = Cipher(algorithm, modes.CBC(envelope.iv)).decryptor()
    padded = decryptor.update(envelope.ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(algorithm.block_size).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        return None


# Below this size the one-shot AESGCM call is quicker; above, streaming the
# ciphertext in place saves copying it (and is quicker too).
_ONE_SHOT_GCM = 1 << 16


def _open_gcm(envelope: _Envelope, cek: bytes) -> bytes | None:
    if len(envelope.mac) != envelope.icv_length:
        return None
    aad = envelope.aad or None
    try:
        if envelope.icv_length == 16 and len(envelope.ciphertext) < _ONE_SHOT_GCM:
            # AESGCM returns nothing unless the tag verifies.
            sealed = b"".join((envelope.ciphertext, envelope.mac))
            return AESGCM(cek).decrypt(envelope.iv, sealed, aad)
        # Shorter tags (RFC 5084 allows 12-15 bytes), and large content
        # (read in place, without joining the tag to a copy): the plaintext
        # is held back until finalize() has checked the tag.
        decryptor = Cipher(
            algorithms.AES(cek),
            modes.GCM(envelope.iv, envelope.mac, min_tag_length=envelope.icv_length),
        ).decryptor()
        if aad:
            decryptor.authenticate_additional_data(aad)
        plaintext = decryptor.update(envelope.ciphertext)
        decryptor.finalize()
        return plaintext
    except InvalidTag:
        return None
