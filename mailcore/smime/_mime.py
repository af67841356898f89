"""MIME framing for S/MIME: the entity that is signed or encrypted, and the
message around it.

RFC 8551 §3.1: what gets signed or encrypted is a MIME entity (its content
header fields and body), canonicalised to CRLF line ends; the message's
other header fields (From, To, Subject, ...) stay outside.  Signed bytes are
produced once and never re-serialised (RFC 1847 §2.1), and inbound
multipart/signed parts are sliced from the raw bytes, never rebuilt.
"""

from __future__ import annotations

import base64
import re
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.message import Message
from functools import lru_cache

import pybase64

from mailcore._message import MessageInput, RawField, RawMessage
from mailcore.errors import MalformedSmime

__all__ = [
    "Entity",
    "SignedParts",
    "base64_lines",
    "canonicalise",
    "content_type",
    "find_signed_parts",
    "join_entity",
    "make_seven_bit",
    "replace_entity",
    "split_entity",
    "wrap",
]

_BARE_LF = re.compile(rb"\n(?<!\r\n)")  # an LF not preceded by CR
_CONTENT_FIELD = re.compile(r"(?i)content-|mime-version\Z")
_PARAM = re.compile(
    r';\s*([A-Za-z0-9!#$%&\'*+.^_`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;\s]*)', re.DOTALL
)
_DEFAULT_TYPE = b"Content-Type: text/plain; charset=us-ascii\r\n"


def canonicalise(data: bytes) -> bytes:
    """Every line end as CRLF (RFC 8551 §3.1.1)."""
    # Already canonical (the usual case): no LF without its CR.  This search
    # runs at C speed from one LF to the next (a literal first character),
    # several times quicker than counting CRLFs or substituting.
    if _BARE_LF.search(data) is None:
        return data
    # Same result as substituting ``\r?\n`` with CRLF, at C speed.
    return data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def _canonical_view(view: memoryview) -> bytes | memoryview:
    """:func:`canonicalise` for a view, returned as it is when canonical
    (so that the caller joins it without copying it first)."""
    if _BARE_LF.search(view) is None:
        return view
    return canonicalise(bytes(view))


# Raw bytes per block when encoding large content: a multiple of 57 (one
# 76-character line), so that blocks join into whole lines.
_BASE64_BLOCK = 57 * 4096


def base64_lines(data: bytes, linesep: bytes = b"\r\n") -> bytes:
    """Base64 in 76-character lines (RFC 2045 §6.8), each ending in ``linesep``."""
    return b"".join(base64_blocks(data, linesep))


def base64_blocks(
    data: bytes | memoryview | Sequence[bytes | memoryview], linesep: bytes = b"\r\n"
) -> list[bytes]:
    """:func:`base64_lines` as a list of pieces that join into the same bytes.

    ``data`` may be a list of buffers, encoded as if joined (without
    joining them).  Large content is encoded block by block so that only
    one block's encoding and line list exist at a time besides the result;
    the caller can join the pieces straight into the message.
    """
    if isinstance(data, bytes | memoryview):
        data = [data]
    if sum(len(piece) for piece in data) <= _BASE64_BLOCK:
        joined = b"".join(data)
        return [_base64_block(joined, linesep)] if joined else []
    return [_base64_block(block, linesep) for block in _blocks(data, _BASE64_BLOCK)]


def _blocks(pieces: Sequence[bytes | memoryview], size: int) -> Iterator[bytes | memoryview]:
    """The concatenation of ``pieces`` in blocks of ``size`` bytes (the last
    one shorter), as views where a block lies within one piece."""
    pending: list[bytes | memoryview] = []
    pending_size = 0
    for piece in pieces:
        view = memoryview(piece)
        position, end = 0, len(view)
        while position < end:
            take = min(size - pending_size, end - position)
            if not pending_size and take == size:
                yield view[position : position + size]
            else:
                pending.append(view[position : position + take])
                pending_size += take
                if pending_size == size:
                    yield b"".join(pending)
                    pending, pending_size = [], 0
            position += take
    if pending:
        yield b"".join(pending)


def _base64_block(data: bytes | memoryview, linesep: bytes) -> bytes:
    # RFC 2045 §6.8: 76-character lines.  pybase64's SIMD encoder does the
    # encoding in a fraction of a microsecond per kilobyte, but its
    # line-breaking ``encodebytes`` is ten times slower than that; the lines
    # are cut here instead, by a precompiled struct that slices 64 lines per
    # C call, and joined with ``linesep`` (no second pass to turn LF into CRLF).
    encoded = pybase64.b64encode(data)
    size = len(encoded)
    if not size:
        return b""
    whole = size // _LINE
    lines: list[bytes] = []
    blocked = whole - whole % _LINES_PER_UNPACK
    if blocked:
        for group in _UNPACK_BLOCK.iter_unpack(memoryview(encoded)[: blocked * _LINE]):
            lines.extend(group)
    if whole > blocked:
        lines.extend(_unpack_lines(whole - blocked).unpack_from(encoded, blocked * _LINE))
    if size > whole * _LINE:
        lines.append(encoded[whole * _LINE :])
    lines.append(b"")  # the last line ends in linesep too
    return linesep.join(lines)


_LINE = 76
_LINES_PER_UNPACK = 64
_UNPACK_BLOCK = struct.Struct(f"{_LINE}s" * _LINES_PER_UNPACK)


@lru_cache(maxsize=_LINES_PER_UNPACK)
def _unpack_lines(count: int) -> struct.Struct:
    """A struct that cuts ``count`` (< 64) whole lines."""
    return struct.Struct(f"{_LINE}s" * count)


def content_type(value: str | None) -> tuple[str, dict[str, str]]:
    """(lowercased type/subtype, parameters) of a Content-Type value."""
    if not value:
        return "text/plain", {}
    main, _, rest = value.partition(";")
    params: dict[str, str] = {}
    for match in _PARAM.finditer(";" + rest):
        raw = match.group(2)
        if raw.startswith('"'):
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        params[match.group(1).lower()] = raw
    return main.strip().lower() or "text/plain", params


@dataclass(frozen=True, slots=True)
class Entity:
    """A message cut in two: the header fields that stay outside, and the
    MIME entity (content fields + body) that is signed or encrypted."""

    outer: bytes  # header fields other than Content-*/MIME-Version, as found
    inner: bytes  # the entity, CRLF line ends
    linesep: bytes  # the message's own line separator, for what we write


def split_entity(message: MessageInput | RawMessage) -> Entity:
    """Split a message into outer header fields and the inner MIME entity."""
    raw = message if isinstance(message, RawMessage) else RawMessage(message)
    data = raw.data
    linesep = raw.linesep
    outer: list[bytes] = []
    mime_fields: list[bytes] = []
    has_type = False
    for name, start, _, end in raw.fields:
        lowered = name.lower()
        if lowered.startswith("content-"):
            mime_fields.append(_ensure_line_end(data[start:end]))
            has_type = has_type or lowered.startswith("content-type")
        elif lowered != "mime-version":
            outer.append(_ensure_line_end(data[start:end], linesep))
    if not has_type:
        mime_fields.insert(0, _DEFAULT_TYPE)
    head = canonicalise(b"".join(mime_fields))
    # The body is joined from a view: one copy of it, not two.
    body = _canonical_view(memoryview(data)[raw.body_start :])
    inner = b"".join((head, b"\r\n", body))
    return Entity(b"".join(outer), inner, linesep)


def _ensure_line_end(field: bytes, linesep: bytes = b"\r\n") -> bytes:
    return field if field.endswith(b"\n") else field + linesep


def make_seven_bit(entity: bytes) -> bytes:
    """A single-part entity with 8-bit or binary content re-encoded for signing.

    RFC 8551 §3.1.2: signed content should be 7-bit safe so that no relay
    re-encodes it and breaks the signature.  Text is moved to
    quoted-printable, anything else to base64.  Multipart entities and
    entities that are 7-bit already are returned unchanged.
    """
    blank = entity.find(b"\r\n\r\n")
    # The usual case, checked without copying the body: all of it is ASCII
    # (a non-ASCII head goes the long way, which looks at the body only).
    if entity.isascii() and not _has_long_line(entity, len(entity) if blank < 0 else blank + 4):
        return entity
    head, separator, body = entity.partition(b"\r\n\r\n")
    if not separator:
        head, body = entity.rstrip(b"\r\n"), b""
    if body.isascii() and not _has_long_line(body):
        return entity
    fields = RawMessage(head + b"\r\n\r\n")
    kind, _ = content_type(fields.first("Content-Type"))
    if kind.startswith("multipart/"):
        return entity
    encoding = (fields.first("Content-Transfer-Encoding") or "").strip().lower()
    if encoding in ("base64", "quoted-printable"):
        return entity
    kept = b"".join(
        head_field
        for field in fields.fields
        if field.name.lower() != "content-transfer-encoding"
        for head_field in [fields.data[field.start : field.end]]
    )
    if kind.startswith("text/"):
        import quopri

        encoded = canonicalise(quopri.encodestring(body.replace(b"\r\n", b"\n")))
        return kept + b"Content-Transfer-Encoding: quoted-printable\r\n\r\n" + encoded
    return kept + b"Content-Transfer-Encoding: base64\r\n\r\n" + base64_lines(body)


def _has_long_line(body: bytes, start: int = 0) -> bool:
    """Whether a CRLF-separated line of ``body`` (from ``start``) is over
    998 bytes (RFC 5322 §2.1.1)."""
    # Jump from line start to the last CRLF that starts within 998 bytes:
    # about one C-level search per kilobyte instead of one per line.
    position, size = start, len(body)
    while size - position > 998:
        found = body.rfind(b"\r\n", position, position + 1000)
        if found < 0:
            return True
        position = found + 2
    return False


def wrap(outer: bytes, fields: list[str], body: bytes, linesep: bytes = b"\r\n") -> bytes:
    """A message: the outer fields, MIME-Version, the given fields, the body."""
    head = outer + b"MIME-Version: 1.0" + linesep
    head += b"".join(f.encode("ascii") + linesep for f in fields)
    return head + linesep + body


def join_entity(entity: Entity) -> bytes:
    """The message an :class:`Entity` stands for: outer fields, MIME-Version, the entity."""
    return b"".join((entity.outer, b"MIME-Version: 1.0", entity.linesep, entity.inner))


def replace_entity(message: MessageInput, entity: bytes) -> bytes:
    """The message with its MIME entity replaced (after decrypting or
    verifying): the outer header fields as they were, then ``entity``."""
    outer = split_entity(message)
    return outer.outer + b"MIME-Version: 1.0" + outer.linesep + entity


@dataclass(frozen=True, slots=True)
class SignedParts:
    """The two parts of a multipart/signed message, as raw bytes."""

    signed: bytes  # the first part exactly as sent: what the signature covers
    signature: bytes  # the second part's body, transfer-decoded
    protocol: str
    micalg: str | None


def _field(raw: RawMessage, fields: list[RawField], name: str) -> str | None:
    for field in fields:
        if field.name.lower() == name:
            return raw.value(field)
    return None


def find_signed_parts(message: MessageInput) -> SignedParts:
    """Slice a multipart/signed message into its signed part and signature.

    RFC 1847 §2.1 / RFC 2046 §5.1.1: the signed part runs from after the
    first delimiter line to the CRLF before the next delimiter (that CRLF
    belongs to the delimiter).  Raises :class:`MalformedSmime` for anything
    that is not a two-part multipart/signed with a boundary.
    """
    raw = RawMessage(message)
    kind, params = content_type(raw.first("Content-Type"))
    if kind != "multipart/signed":
        raise MalformedSmime(f"Content-Type is {kind}, not multipart/signed", where="message")
    boundary = params.get("boundary")
    if not boundary:
        raise MalformedSmime("multipart/signed without a boundary", where="Content-Type")
    body = raw.data[raw.body_start :]
    delimiter = b"--" + boundary.encode("ascii", "surrogateescape")
    pattern = re.compile(rb"(?:\A|\r?\n)" + re.escape(delimiter) + rb"(--)?[ \t]*(?:\r?\n|\Z)")
    marks = list(pattern.finditer(body))
    if len(marks) < 3 or marks[-1].group(1) is None:
        raise MalformedSmime(
            "multipart/signed needs two parts and a closing boundary", where="message body"
        )
    signed = body[marks[0].end() : marks[1].start()]
    second = body[marks[1].end() : marks[2].start()]
    part = RawMessage(second if b"\n" in second else second + b"\n")
    encoding = (part.first("Content-Transfer-Encoding") or "7bit").strip().lower()
    payload = part.data[part.body_start :]
    if encoding == "base64":
        try:
            signature = base64.b64decode(re.sub(rb"\s+", b"", payload), validate=True)
        except ValueError:
            raise MalformedSmime(
                "the signature part is not valid base64", where="signature"
            ) from None
    else:
        signature = payload
    return SignedParts(signed, signature, params.get("protocol", ""), params.get("micalg"))


def as_message(data: bytes) -> Message:
    """Parse bytes for reading only (never for re-serialising signed parts)."""
    import email

    return email.message_from_bytes(data)
