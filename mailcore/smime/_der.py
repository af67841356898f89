"""A small DER writer (X.690 §10): what mailcore emits, it encodes itself.

Parsing stays with asn1crypto (which also reads BER, as Outlook and
Thunderbird send it); writing is done here so that every byte we sign or
encrypt is canonical DER and built once.  Each function returns the
complete TLV as bytes; compose them by nesting calls.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = [
    "boolean",
    "context",
    "generalized_time",
    "header",
    "header_bytes",
    "integer",
    "issuer_and_serial",
    "null",
    "octet_string",
    "oid",
    "sequence",
    "set_of",
    "tlv",
    "utc_time",
]

_SEQUENCE = 0x30
_SET = 0x31


def _length(size: int) -> bytes:
    # X.690 §8.1.3: short form below 128, else the minimal long form.
    if size < 0x80:
        return bytes((size,))
    body = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def tlv(tag: int, content: bytes) -> bytes:
    """A tag-length-value with a one-byte tag."""
    size = len(content)
    # The common lengths inline (this is on every hot path); same bytes
    # as ``_length``.
    if size < 0x80:
        return bytes((tag, size)) + content
    if size < 0x100:
        return bytes((tag, 0x81, size)) + content
    if size < 0x10000:
        return bytes((tag, 0x82, size >> 8, size & 0xFF)) + content
    return bytes((tag,)) + _length(size) + content


def sequence(*items: bytes) -> bytes:
    """SEQUENCE of already-encoded items, in the order given."""
    return tlv(_SEQUENCE, b"".join(items))


def header_bytes(tag: int, size: int) -> bytes:
    """The tag and length octets of a TLV whose contents are ``size`` bytes
    (to write a large value without copying it into the TLV)."""
    return bytes((tag,)) + _length(size)


def set_of(*items: bytes) -> bytes:
    """SET OF: X.690 §11.6 wants the encodings sorted for DER."""
    return tlv(_SET, b"".join(sorted(items)))


def integer(value: int) -> bytes:
    """INTEGER in two's complement, minimal length (X.690 §8.3)."""
    size = (value if value >= 0 else ~value).bit_length() // 8 + 1
    return tlv(0x02, value.to_bytes(size, "big", signed=True))


def boolean(value: bool) -> bytes:
    """BOOLEAN; DER writes TRUE as 0xFF (X.690 §11.1)."""
    return tlv(0x01, b"\xff" if value else b"\x00")


def null() -> bytes:
    """NULL."""
    return b"\x05\x00"


def octet_string(value: bytes) -> bytes:
    """OCTET STRING (primitive, as DER requires)."""
    return tlv(0x04, value)


def oid(dotted: str) -> bytes:
    """OBJECT IDENTIFIER from dotted notation (X.690 §8.19)."""
    parts = [int(part) for part in dotted.split(".")]
    if len(parts) < 2 or parts[0] > 2 or (parts[0] < 2 and parts[1] > 39):
        raise ValueError(f"{dotted!r} is not an object identifier")
    arcs = [parts[0] * 40 + parts[1], *parts[2:]]
    body = bytearray()
    for arc in arcs:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(0x06, bytes(body))


def context(number: int, content: bytes, *, constructed: bool = True) -> bytes:
    """A context-specific tag [number] around already-encoded content.

    For EXPLICIT tagging pass the inner TLV; for IMPLICIT pass the inner
    value's content octets (and ``constructed`` as the inner type was).
    """
    if number > 30:
        raise ValueError("only tag numbers up to 30 are supported")
    return tlv(0x80 | (0x20 if constructed else 0) | number, content)


def utc_time(moment: datetime) -> bytes:
    """UTCTime YYMMDDHHMMSSZ (RFC 5280 §4.1.2.5.1: years 1950-2049)."""
    m = moment.astimezone(UTC)
    text = f"{m.year % 100:02d}{m.month:02d}{m.day:02d}{m.hour:02d}{m.minute:02d}{m.second:02d}Z"
    return tlv(0x17, text.encode("ascii"))


def generalized_time(moment: datetime) -> bytes:
    """GeneralizedTime YYYYMMDDHHMMSSZ, no fraction (DER)."""
    moment = moment.astimezone(UTC)
    return tlv(0x18, moment.strftime("%Y%m%d%H%M%SZ").encode("ascii"))


def signing_time(moment: datetime) -> bytes:
    """RFC 5652 §11.3: UTCTime for 1950-2049, GeneralizedTime otherwise."""
    year = (moment if moment.tzinfo is UTC else moment.astimezone(UTC)).year
    return utc_time(moment) if 1950 <= year < 2050 else generalized_time(moment)


# -- reading: just enough DER to take certificates apart without asn1crypto --


def header(data: bytes | memoryview, position: int, end: int) -> tuple[int, int, int]:
    """(tag, start, end of contents) of the DER TLV at ``position``.

    One-byte tags and definite lengths only (DER); raises ValueError for
    anything else or a TLV that overruns ``end``.
    """
    if position + 2 > end:
        raise ValueError("truncated TLV")
    tag = data[position]
    if tag & 0x1F == 0x1F:
        raise ValueError("multi-byte tag")
    first = data[position + 1]
    position += 2
    if first < 0x80:
        size = first
    else:
        count = first & 0x7F
        if not 0 < count <= 8 or position + count > end:
            raise ValueError("indefinite or overlong length")
        size = int.from_bytes(data[position : position + count], "big")
        # DER: the minimal long form, and only for 128 and above.
        if size < 0x80 or data[position] == 0:
            raise ValueError("non-minimal length")
        position += count
    if position + size > end:
        raise ValueError("TLV runs past its container")
    return tag, position, position + size


def issuer_and_serial(certificate: bytes) -> tuple[bytes, bytes]:
    """(issuer Name TLV, serialNumber TLV) exactly as encoded in a DER
    certificate (RFC 5280 §4.1: the TBSCertificate's first fields)."""
    size = len(certificate)
    tag, start, end = header(certificate, 0, size)
    if tag != _SEQUENCE or end != size:
        raise ValueError("not a certificate")
    tag, position, tbs_end = header(certificate, start, end)
    if tag != _SEQUENCE:
        raise ValueError("not a TBSCertificate")
    fields: list[tuple[int, int, int]] = []
    # [0] EXPLICIT version (optional), serialNumber, signature, issuer.
    while len(fields) < 4 and position < tbs_end:
        tag, _, after = header(certificate, position, tbs_end)
        fields.append((tag, position, after))
        position = after
    if fields and fields[0][0] == 0xA0:
        del fields[0]
    if len(fields) < 3 or [tag for tag, _, _ in fields[:3]] != [0x02, _SEQUENCE, _SEQUENCE]:
        raise ValueError("not a TBSCertificate")
    (_, serial_start, serial_end), _, (_, issuer_start, issuer_end) = fields[:3]
    return certificate[issuer_start:issuer_end], certificate[serial_start:serial_end]
