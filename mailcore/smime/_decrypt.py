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

import base64
import binascii
import hmac
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from asn1crypto import algos, cms, core  # type: ignore[import-untyped]  # no stubs
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import (
    dsa,
    ec,
    ed448,
    ed25519,
    rsa,
    x448,
    x25519,
)
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

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey
_SUPPORTED_KEYS = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, x25519.X25519PrivateKey)
_ALL_PRIVATE_KEYS = (
    *_SUPPORTED_KEYS,
    dsa.DSAPrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
    x448.X448PrivateKey,
)
Matched = Literal["issuer_and_serial", "subject_key_identifier", "trial"]

_PKCS7_TYPES = ("application/pkcs7-mime", "application/x-pkcs7-mime")
_WHITESPACE = re.compile(rb"\s+")
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


@dataclass(frozen=True, slots=True)
class _Rid:
    """A recipient identifier: issuer+serial or subjectKeyIdentifier."""

    issuer: str | None = None  # asn1crypto Name.hashable (RFC 5280 §7.1 compare)
    serial: int | None = None
    ski: bytes | None = None


@dataclass(frozen=True, slots=True)
class _Oaep:
    hash: type[hashes.HashAlgorithm] | None  # None: a hash mailcore lacks
    mgf_hash: type[hashes.HashAlgorithm] | None
    label: bytes


@dataclass(frozen=True, slots=True)
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


@dataclass(frozen=True, slots=True)
class _Envelope:
    auth_enveloped: bool
    recipients: tuple[_KeyTrans | _KeyAgree, ...]
    cipher_oid: str
    cipher: ContentCipher | None
    iv: bytes  # CBC IV or GCM nonce
    icv_length: int
    ciphertext: bytes
    mac: bytes
    aad: bytes


@dataclass(frozen=True, slots=True)
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
        if content is not None and genuine:
            return DecryptResult(
                content=content,
                cipher=cipher.name,
                recipient=candidate.matched,
                authenticated=authenticated,
                key_encryption=key_encryption,
            )
    raise DecryptionFailed(DECRYPTION_FAILED)


def _check_key(key: object, certificate: x509.Certificate | None) -> PrivateKey:
    """``key`` if it can decrypt (and is ``certificate``'s, if given)."""
    if not isinstance(key, _SUPPORTED_KEYS):
        if isinstance(key, _ALL_PRIVATE_KEYS):
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
    try:
        matches = certificate.public_key() == key.public_key()
    except ValueError:
        matches = False
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
    if data.lstrip().startswith(b"-----BEGIN "):
        pem = _PEM.search(data)
        if pem is None:
            raise MalformedSmime("PEM without a matching END line", where="PEM")
        return _base64(pem.group(1), "PEM")
    try:
        raw = RawMessage(data)
    except MalformedMessage as exc:
        raise MalformedSmime(exc.detail, where=exc.where) from None
    kind, params = content_type(raw.first("Content-Type"))
    if kind not in _PKCS7_TYPES and not (kind == "application/octet-stream" and _p7m(raw, params)):
        raise MalformedSmime(
            f"Content-Type is {kind}, not application/pkcs7-mime", where="Content-Type"
        )
    encoding = (raw.first("Content-Transfer-Encoding") or "7bit").strip().lower()
    body = data[raw.body_start :]
    if encoding == "base64":
        der = _base64(body, "message body")
    elif encoding in ("binary", "8bit", "7bit"):
        der = body
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


def _base64(text: bytes, where: str) -> bytes:
    try:
        return base64.b64decode(_WHITESPACE.sub(b"", text), validate=True)
    except binascii.Error:
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
    recipients = tuple(
        parsed for ri in body["recipient_infos"] if (parsed := _read_recipient(ri)) is not None
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


def _read_recipient(ri: cms.RecipientInfo) -> _KeyTrans | _KeyAgree | None:
    if ri.name == "ktri":
        return _read_key_trans(ri.chosen)
    if ri.name == "kari":
        return _read_key_agree(ri.chosen)
    return None  # kekri, pwri, ori: nothing a private key can open


def _read_rid(rid: core.Choice) -> _Rid:
    if rid.name == "issuer_and_serial_number":
        chosen = rid.chosen
        return _Rid(issuer=chosen["issuer"].hashable, serial=chosen["serial_number"].native)
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
        if isinstance(parameters, core.Void | core.Null):
            # Absent parameters: every field at its default (SHA-1).
            parameters = algos.RSAESOAEPParams()
        else:
            parameters = algos.RSAESOAEPParams.load(parameters.dump())
        mgf = parameters["mask_gen_algorithm"]
        mgf_hash = (
            HASHES.get(mgf["parameters"]["algorithm"].dotted)
            if mgf["algorithm"].dotted == ID_MGF1
            else None
        )
        source = parameters["p_source_algorithm"]
        label = source["parameters"].native if source["algorithm"].native == "p_specified" else b""
        oaep = _Oaep(
            hash=HASHES.get(parameters["hash_algorithm"]["algorithm"].dotted),
            mgf_hash=mgf_hash,
            label=bytes(label or b""),
        )
    return _KeyTrans(
        rid=_read_rid(ktri["rid"]),
        algorithm=oid,
        oaep=oaep,
        encrypted_key=bytes(ktri["encrypted_key"].native),
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


@dataclass(frozen=True, slots=True)
class _Identity:
    """What identifies the given certificate in a RecipientInfo."""

    issuer: str
    serial: int
    ski: bytes


def _identity(certificate: x509.Certificate) -> _Identity:
    parsed = asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))
    tbs = parsed["tbs_certificate"]
    try:
        ski = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    except x509.ExtensionNotFound:
        # RFC 5280 §4.2.1.2 method 1, as the sender would compute it.
        ski = x509.SubjectKeyIdentifier.from_public_key(certificate.public_key())
    return _Identity(tbs["issuer"].hashable, tbs["serial_number"].native, ski.digest)


def _match(rid: _Rid, identity: _Identity | None) -> Matched | None:
    if identity is None:
        return "trial"
    if rid.ski is not None:
        return "subject_key_identifier" if rid.ski == identity.ski else None
    if rid.issuer == identity.issuer and rid.serial == identity.serial:
        return "issuer_and_serial"
    return None


def _candidates(
    envelope: _Envelope, key: PrivateKey, certificate: x509.Certificate | None
) -> tuple[list[_Candidate], list[str]]:
    """(RecipientInfos to try, names of matching ones mailcore cannot use)."""
    identity = None if certificate is None else _identity(certificate)
    candidates: list[_Candidate] = []
    unsupported: list[str] = []
    for info in envelope.recipients:
        if isinstance(info, _KeyTrans):
            if not isinstance(key, rsa.RSAPrivateKey):
                continue
            matched = _match(info.rid, identity)
            if matched is None:
                continue
            problem = _key_trans_problem(info)
            if problem is not None:
                unsupported.append(problem)
            elif identity is not None or len(info.encrypted_key) == (key.key_size + 7) // 8:
                candidates.append(_Candidate(matched, info, info.encrypted_key))
            continue
        if isinstance(key, rsa.RSAPrivateKey):
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
        assert isinstance(key, rsa.RSAPrivateKey)
        substitute = os.urandom(key_size)
        scheme: asym_padding.AsymmetricPadding
        if info.oaep is None:
            scheme, name = asym_padding.PKCS1v15(), "rsa-pkcs1v15"
        else:
            scheme, name = _oaep(info.oaep)
        try:
            cek = key.decrypt(candidate.encrypted_key, scheme)
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


def _open_gcm(envelope: _Envelope, cek: bytes) -> bytes | None:
    if len(envelope.mac) != envelope.icv_length:
        return None
    aad = envelope.aad or None
    try:
        if envelope.icv_length == 16:
            # AESGCM returns nothing unless the tag verifies.
            return AESGCM(cek).decrypt(envelope.iv, envelope.ciphertext + envelope.mac, aad)
        # Shorter tags (RFC 5084 allows 12-15 bytes): the plaintext is held
        # back until finalize() has checked the tag.
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
