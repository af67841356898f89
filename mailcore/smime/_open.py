"""Opening a message layer by layer, and triple wrapping on the way out.

RFC 8551 §3.7: a message may be signed, encrypted, then signed again
(triple wrapping).  :func:`open_message` peels whatever layers there are —
encrypted, signed, in any order — and reports each; :func:`sign_and_encrypt`
builds the outbound form.  Content behind a layer that fails is never
released: the report says where it stopped and why.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from cryptography import x509

from mailcore._message import MessageInput, RawMessage, as_bytes
from mailcore.errors import DecryptionFailed, MalformedSmime
from mailcore.smime._decrypt import DecryptResult, decrypt_message
from mailcore.smime._enveloped import CipherName, encrypt_message
from mailcore.smime._keys import PrivateKey
from mailcore.smime._mime import content_type, replace_entity
from mailcore.smime._signed import sign_message
from mailcore.smime._verify import VerifyResult, verify_message

__all__ = ["Layer", "OpenedMessage", "open_message", "sign_and_encrypt"]

# More layers than this is not a real message (and not worth the work).
MAX_LAYERS = 8

_PKCS7_TYPES = ("application/pkcs7-mime", "application/x-pkcs7-mime")
_SIGNED_DATA = "1.2.840.113549.1.7.2"
_ENVELOPED_DATA = "1.2.840.113549.1.7.3"
_AUTH_ENVELOPED_DATA = "1.2.840.113549.1.9.16.1.23"


@dataclass(frozen=True, slots=True)
class Layer:
    """One layer that was opened (outermost first)."""

    kind: Literal["signed", "encrypted"]
    ok: bool
    verification: VerifyResult | None = None
    decryption: DecryptResult | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The layer as JSON: kind, ok, reason and the layer's own report."""
        detail: dict[str, Any] | None = None
        if self.verification is not None:
            detail = self.verification.to_dict()
        elif self.decryption is not None:
            detail = self.decryption.to_dict()
        return {"kind": self.kind, "ok": self.ok, "reason": self.reason, "detail": detail}


@dataclass(frozen=True, slots=True)
class OpenedMessage:
    """What :func:`open_message` found.

    ``message`` is the innermost message (outer header fields + content)
    when every layer opened, else None.  ``signed`` is true only when a
    valid signature covers the final content.
    """

    layers: tuple[Layer, ...]
    message: bytes | None

    @property
    def ok(self) -> bool:
        """True when every layer opened (decrypted or verified)."""
        return all(layer.ok for layer in self.layers)

    @property
    def signed(self) -> bool:
        """True when a valid signature covers the final content.

        Each layer covers everything inside it, so that is: every layer
        opened and one of them is a verified signature.  A valid outer
        signature (anyone's) around an inner one that failed covers nothing
        that is released, so it does not count.
        """
        return (
            self.message is not None
            and self.ok
            and any(layer.kind == "signed" for layer in self.layers)
        )

    @property
    def encrypted(self) -> bool:
        """True when the message arrived encrypted."""
        return any(layer.kind == "encrypted" for layer in self.layers)

    def to_dict(self) -> dict[str, Any]:
        """``{"ok", "signed", "encrypted", "layers": [...]}``."""
        return {
            "ok": self.ok,
            "signed": self.signed,
            "encrypted": self.encrypted,
            "layers": [layer.to_dict() for layer in self.layers],
        }


def _kind(data: bytes) -> Literal["signed", "encrypted"] | None:
    """Which S/MIME layer the message's top-level entity is, if any."""
    raw = RawMessage(data)
    kind, params = content_type(raw.first("Content-Type"))
    if kind == "multipart/signed":
        return "signed"
    is_p7m = kind in _PKCS7_TYPES or (
        kind == "application/octet-stream"
        and any(
            str(params.get(name, "")).lower().endswith(".p7m") for name in ("name", "filename")
        )
    )
    if not is_p7m:
        return None
    # Sniff the CMS content type rather than trusting smime-type (RFC 8551
    # §3.2.2 parameters are often missing or wrong).
    oid = _content_type_oid(raw)
    if oid == _SIGNED_DATA:
        return "signed"
    if oid in (_ENVELOPED_DATA, _AUTH_ENVELOPED_DATA):
        return "encrypted"
    raise MalformedSmime(f"S/MIME content of type {oid} cannot be opened", where="message")


def _content_type_oid(raw: RawMessage) -> str:
    from asn1crypto import cms  # type: ignore[import-untyped]

    body = raw.data[raw.body_start :]
    encoding = (raw.first("Content-Transfer-Encoding") or "").strip().lower()
    try:
        der = base64.b64decode(re.sub(rb"\s+", b"", body)) if encoding == "base64" else body
        info = cms.ContentInfo.load(der)
        return str(info["content_type"].dotted)
    except (ValueError, TypeError, KeyError) as error:
        raise MalformedSmime(f"the S/MIME body is not CMS: {error}", where="message") from None


def open_message(
    message: MessageInput,
    *,
    keys: Sequence[tuple[PrivateKey, x509.Certificate | None]] = (),
    trust: Sequence[x509.Certificate] = (),
    at: datetime | None = None,
    crls: Sequence[x509.CertificateRevocationList] = (),
) -> OpenedMessage:
    """Peel every S/MIME layer (RFC 8551 §3.7), outermost first.

    Encrypted layers are opened with the first of ``keys`` that works;
    signed layers are verified against ``trust``.  Opening stops at the first
    layer that fails, and no content behind it is returned.  A message with
    no S/MIME layer at all is returned as it is, with no layers.
    """
    data = as_bytes(message)
    layers: list[Layer] = []
    for _ in range(MAX_LAYERS):
        kind = _kind(data)
        if kind is None:
            return OpenedMessage(tuple(layers), data)
        if kind == "encrypted":
            result = _decrypt_any(data, keys)
            if result is None:
                layers.append(Layer("encrypted", False, reason="not_decrypted"))
                return OpenedMessage(tuple(layers), None)
            layers.append(Layer("encrypted", True, decryption=result))
            data = replace_entity(data, result.content)
        else:
            verification = verify_message(data, trust=trust, at=at, crls=crls)
            layers.append(
                Layer("signed", verification.valid, verification, reason=verification.reason)
            )
            if not verification.valid or verification.content is None:
                return OpenedMessage(tuple(layers), None)
            data = replace_entity(data, verification.content)
    raise MalformedSmime(f"more than {MAX_LAYERS} S/MIME layers", where="message")


def _decrypt_any(
    data: bytes, keys: Sequence[tuple[PrivateKey, x509.Certificate | None]]
) -> DecryptResult | None:
    for key, certificate in keys:
        try:
            return decrypt_message(data, key, certificate)
        except DecryptionFailed:
            continue
    return None


def sign_and_encrypt(
    message: MessageInput,
    key: PrivateKey,
    certificate: x509.Certificate,
    recipients: Sequence[x509.Certificate],
    *,
    chain: Sequence[x509.Certificate] = (),
    cipher: CipherName | None = None,
    oaep: bool = False,
    triple: bool = False,
) -> bytes:
    """Sign, then encrypt (then, with ``triple``, sign the result again).

    RFC 8551 §3.7: the inner signature proves the content, the outer one
    (triple wrapping) lets relays check the envelope without decrypting.
    """
    signed = sign_message(message, key, certificate, chain=chain)
    encrypted = encrypt_message(signed, recipients, cipher=cipher, oaep=oaep)
    if not triple:
        return encrypted
    return sign_message(encrypted, key, certificate, chain=chain)
