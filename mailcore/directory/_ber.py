"""The BER subset LDAP uses (RFC 4511 §5.1), encoding and bounds-checked decoding.

LDAP restricts BER: definite lengths only, OCTET STRINGs in primitive form
only, TRUE encoded as ``FF`` (RFC 4511 §5.1).  Every tag LDAP defines has a
number below 31, so the one-octet identifier form is all that occurs.
Decoding never reads past the enclosing element: a length that does not fit
is :class:`BerError`, never an ``IndexError`` or a silently short value.
"""

from __future__ import annotations

__all__ = [
    "BerError",
    "decode_integer",
    "element_end",
    "encode_integer",
    "encode_length",
    "read_header",
    "tlv",
]

# A single LDAP message longer than this is refused rather than buffered:
# certificate entries are a few kilobytes, a whole 50-entry answer well under
# a megabyte; four length octets (AD always sends four) reach 4 GiB.
MAX_LENGTH = 64 * 1024 * 1024


class BerError(ValueError):
    """Bytes that are not the BER an LDAP peer may send; says what and at which offset."""


def encode_length(length: int) -> bytes:
    """X.690 §8.1.3 definite length: short form below 128, else long form."""
    if length < 0x80:
        return bytes((length,))
    size = (length.bit_length() + 7) // 8
    return bytes((0x80 | size,)) + length.to_bytes(size, "big")


def tlv(tag: int, content: bytes) -> bytes:
    """One element: identifier octet ``tag``, definite length, ``content``."""
    return bytes((tag,)) + encode_length(len(content)) + content


def encode_integer(value: int) -> bytes:
    """The content octets of an INTEGER or ENUMERATED (X.690 §8.3: minimal two's complement)."""
    size = value.bit_length() // 8 + 1  # one spare bit for the sign
    return value.to_bytes(size, "big", signed=True)


def decode_integer(data: bytes, start: int, end: int, what: str) -> int:
    """The INTEGER/ENUMERATED whose content is ``data[start:end]`` (1-4 octets in LDAP)."""
    if not 0 < end - start <= 4:
        raise BerError(f"{what}: an integer of {end - start} octets at offset {start}")
    return int.from_bytes(data[start:end], "big", signed=True)


def read_header(data: bytes, pos: int, limit: int, tag: int, what: str) -> tuple[int, int]:
    """The content ``(start, end)`` of the element at ``pos`` that must have ``tag``.

    ``limit`` is where the enclosing element ends: the element must end at
    or before it.  Raises :class:`BerError` on another tag, an indefinite or
    oversized length, or an element that runs past ``limit``.
    """
    if pos + 2 > limit:
        raise BerError(f"{what}: truncated at offset {pos}")
    found = data[pos]
    if found != tag:
        raise BerError(f"{what}: tag 0x{found:02x} at offset {pos}, expected 0x{tag:02x}")
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        size = length & 0x7F
        if size == 0:
            # RFC 4511 §5.1 (1): "Only the definite form of length encoding is used."
            raise BerError(f"{what}: indefinite length at offset {pos - 1}")
        if size > 4 or pos + size > limit:
            raise BerError(f"{what}: unreadable length at offset {pos - 1}")
        length = int.from_bytes(data[pos : pos + size], "big")
        pos += size
    end = pos + length
    if end > limit:
        raise BerError(f"{what}: {length} octets at offset {pos} run past the enclosing element")
    return pos, end


def element_end(data: bytes, pos: int) -> int | None:
    """Where the element starting at ``data[pos]`` ends (possibly beyond the
    bytes at hand), or None while its length octets are still incomplete.

    Used to frame messages on a stream: only the identifier and length
    octets are read.  Raises :class:`BerError` when the length is indefinite
    or beyond :data:`MAX_LENGTH`.
    """
    available = len(data)
    if pos + 2 > available:
        return None
    length = data[pos + 1]
    start = pos + 2
    if length & 0x80:
        size = length & 0x7F
        if size == 0:
            raise BerError(f"indefinite length at offset {pos + 1}")
        if size > 4:
            raise BerError(f"a length of {size} octets at offset {pos + 1}")
        if start + size > available:
            return None
        length = int.from_bytes(data[start : start + size], "big")
        start += size
    if length > MAX_LENGTH:
        raise BerError(f"a message of {length} octets at offset {pos} (limit {MAX_LENGTH})")
    return start + length
