"""Hostile CMS for tests, negative vectors and benchmarks (issue 17.1).

Builders of the messages that once made verification or decryption hang,
eat memory or recurse without bound: signed messages stuffed with self-made
"CA" certificates (one subject, one key; one subject, many keys; a loop),
a thousand certificates, a thousand SignerInfos, a hundred thousand
RecipientInfos, BER nested without end.  They are made from real
identities (a :class:`~mailcore.smime.pki.Identity`) so that everything but
the attack is well formed.

Not for production use: it exists so that the limits in ``_verify`` and
``_decrypt`` have inputs to be tested against.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from asn1crypto import cms, core  # type: ignore[import-untyped]  # no stubs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mailcore.smime import _der
from mailcore.smime._enveloped import encrypt_message
from mailcore.smime._mime import base64_lines
from mailcore.smime._signed import sign_message
from mailcore.smime.pki import Identity

__all__ = [
    "MESSAGE",
    "deep_ber_signed",
    "junk_cas",
    "loop_signed",
    "many_recipients",
    "many_signers",
    "signed_with",
]

MESSAGE = (
    b"From: Alice <alice@example.com>\r\n"
    b"To: bob@example.com\r\n"
    b"Subject: Report\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"The report is ready.\r\n"
)
_DAY = timedelta(days=1)


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _ca(
    subject: x509.Name,
    issuer: x509.Name,
    public: ec.EllipticCurvePublicKey,
    signer: ec.EllipticCurvePrivateKey,
    serial: int,
    now: datetime,
) -> x509.Certificate:
    """A CA certificate without key identifiers (so that nothing but the
    name links it to what it may have issued)."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(serial)
        .not_valid_before(now - 365 * _DAY)
        .not_valid_after(now + 3650 * _DAY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


def junk_cas(
    count: int, subject: x509.Name, *, same_key: bool = True, now: datetime | None = None
) -> list[x509.Certificate]:
    """``count`` self-issued "CA" certificates named ``subject``: with one
    key (``same_key``) or each with its own, each self-signed."""
    moment = now or datetime.now(UTC)
    shared = _key()
    found = []
    for number in range(count):
        key = shared if same_key else _key()
        found.append(_ca(subject, subject, key.public_key(), key, 0x7000 + number, moment))
    return found


def signed_with(
    signer: Identity, extra: Sequence[x509.Certificate], message: bytes = MESSAGE
) -> bytes:
    """``message`` signed by ``signer``, the SignedData carrying ``extra``
    (in that order) before the signer's own chain."""
    return sign_message(message, signer.key, signer.certificate, chain=[*extra, *signer.chain])


def loop_signed(now: datetime | None = None, message: bytes = MESSAGE) -> bytes:
    """A message signed by a self-made leaf whose chain is a loop: CA A is
    issued by CA B, which is issued by CA A."""
    moment = now or datetime.now(UTC)
    key_a, key_b, leaf_key = _key(), _key(), _key()
    name_a = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loop CA A")])
    name_b = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Loop CA B")])
    ca_a = _ca(name_a, name_b, key_a.public_key(), key_b, 0x7101, moment)
    ca_b = _ca(name_b, name_a, key_b.public_key(), key_a, 0x7102, moment)
    leaf = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, "alice"),
                    x509.NameAttribute(NameOID.EMAIL_ADDRESS, "alice@example.com"),
                ]
            )
        )
        .issuer_name(name_a)
        .public_key(leaf_key.public_key())
        .serial_number(0x7103)
        .not_valid_before(moment - 30 * _DAY)
        .not_valid_after(moment + 365 * _DAY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name("alice@example.com")]), critical=False
        )
        .sign(key_a, hashes.SHA256())
    )
    return sign_message(message, leaf_key, leaf, chain=[ca_a, ca_b])


def _signature_part(message: bytes) -> tuple[bytes, bytes, bytes]:
    """(before the base64, the CMS DER, after it) of a multipart/signed."""
    marker = b'Content-Disposition: attachment; filename="smime.p7s"\r\n\r\n'
    head, _, rest = message.partition(marker)
    if not rest:
        raise ValueError("not a multipart/signed made by sign_message")
    # base64 lines never start with "-": the first that does is the boundary.
    body, separator, tail = rest.partition(b"\n--")
    return head + marker, base64.b64decode(b"".join(body.split())), separator + tail


def _replace_signature(message: bytes, der: bytes) -> bytes:
    head, _, tail = _signature_part(message)
    return head + base64_lines(der).rstrip(b"\r\n") + b"\r" + tail


def many_signers(signer: Identity, count: int, message: bytes = MESSAGE) -> bytes:
    """``message`` signed by ``signer``, its one SignerInfo repeated ``count``
    times (every copy verifies)."""
    signed = sign_message(message, signer.key, signer.certificate, chain=signer.chain)
    _, der, _ = _signature_part(signed)
    info = cms.ContentInfo.load(der)
    data = info["content"]
    one = data["signer_infos"][0].dump()
    infos = _der.tlv(0x31, one * count)
    rebuilt = _splice(data, "signer_infos", infos)
    return _replace_signature(signed, _content_info(info, rebuilt))


def _splice(data: cms.SignedData | cms.EnvelopedData, field: str, replacement: bytes) -> bytes:
    """The DER of ``data`` with one field's TLV replaced (the rest kept as is)."""
    parts = []
    for name, _, _ in data._fields:
        value = data[name]
        if name == field:
            parts.append(replacement)
        elif not isinstance(value, core.Void):
            parts.append(value.dump())
    return _der.tlv(0x30, b"".join(parts))


def _content_info(info: cms.ContentInfo, content: bytes) -> bytes:
    return _der.tlv(0x30, info["content_type"].dump() + _der.tlv(0xA0, content))


def many_recipients(
    recipient: Identity, count: int, message: bytes = MESSAGE, *, copies: bool = False
) -> bytes:
    """``message`` encrypted for ``recipient``, with ``count`` - 1 small
    RecipientInfos naming nobody in front of the genuine one, or (``copies``)
    the genuine RecipientInfo ``count`` times."""
    encrypted = encrypt_message(message, [recipient.certificate], cipher="aes-256-gcm")
    head, _, body = encrypted.partition(b"\r\n\r\n")
    der = base64.b64decode(b"".join(body.split()))
    info = cms.ContentInfo.load(der)
    data = info["content"]
    genuine = data["recipient_infos"][0].dump()
    # version 0, issuerAndSerialNumber (CN=x, serial n), rsaEncryption, one byte
    issuer = _der.tlv(0x30, _der.tlv(0x31, _der.tlv(0x30, b"\x06\x03\x55\x04\x03\x0c\x01x")))
    algorithm = _der.tlv(0x30, b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01\x05\x00")
    junk = b"".join(
        _der.tlv(
            0x30,
            b"\x02\x01\x00"
            + _der.tlv(0x30, issuer + _der.tlv(0x02, n.to_bytes(4, "big")))
            + algorithm
            + b"\x04\x01\x00",
        )
        for n in range(1, count)
    )
    if copies:
        junk = genuine * (count - 1)
    rebuilt = _splice(data, "recipient_infos", _der.tlv(0x31, junk + genuine))
    return head + b"\r\n\r\n" + base64_lines(_content_info(info, rebuilt))


def deep_ber_signed(depth: int) -> bytes:
    """An opaque signed-data message whose eContent is a constructed OCTET
    STRING nested ``depth`` deep (BER, indefinite lengths)."""
    octets = b"\x24\x80" * depth + b"\x04\x01x" + b"\x00\x00" * depth
    econtent = b"\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x01" + b"\xa0\x80" + octets + b"\x00\x00"
    signed = (
        b"\x02\x01\x01"  # version
        + b"\x31\x00"  # no digest algorithms
        + b"\x30\x80"
        + econtent
        + b"\x00\x00"
        + b"\x31\x00"  # no SignerInfos
    )
    der = (
        b"\x30\x80\x06\x09\x2a\x86\x48\x86\xf7\x0d\x01\x07\x02\xa0\x80\x30\x80"
        + signed
        + b"\x00\x00\x00\x00\x00\x00"
    )
    return (
        b"From: alice@example.com\r\n"
        b"MIME-Version: 1.0\r\n"
        b'Content-Type: application/pkcs7-mime; smime-type=signed-data; name="smime.p7m"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64_lines(der)
    )


def certificates_der(certificates: Sequence[x509.Certificate]) -> list[bytes]:
    return [c.public_bytes(serialization.Encoding.DER) for c in certificates]
