"""Byte-exact access to the header block of an RFC 5322 message.

Markings (and later S/MIME) must change a few header fields and leave every
other byte alone, so this module never re-serialises a parsed message: it
finds fields by offset in the raw bytes and splices new bytes in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from io import BytesIO

from mailcore.errors import MalformedMessage

__all__ = ["MessageInput", "RawField", "RawMessage", "as_bytes"]

MessageInput = bytes | bytearray | memoryview | EmailMessage | Message

_FIELD_NAME = re.compile(rb"[!-9;-~]+[ \t]*:")
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")


def as_bytes(message: MessageInput) -> bytes:
    """The message as bytes; an ``EmailMessage`` is generated unfolded."""
    if isinstance(message, bytes):
        return message
    if isinstance(message, bytearray | memoryview):
        return bytes(message)
    if isinstance(message, Message):
        out = BytesIO()
        # maxheaderlen=0: no refolding (RFC 1847 §2.1 for signed parts).
        BytesGenerator(out, mangle_from_=False, maxheaderlen=0).flatten(message)
        return out.getvalue()
    raise TypeError(
        f"a message must be bytes or email.message.EmailMessage, "
        f"not {type(message).__name__}"
    )


@dataclass(frozen=True, slots=True)
class RawField:
    """One header field: its name and where its bytes are.

    ``start``..``end`` covers the whole field including its final line
    break; ``value_start`` is where the value begins (after the colon).
    """

    name: str
    start: int
    value_start: int
    end: int


class RawMessage:
    """A message's bytes with its header fields located, not parsed."""

    __slots__ = ("body_start", "data", "fields", "header_end", "linesep")

    def __init__(self, message: MessageInput) -> None:
        data = as_bytes(message)
        if not data.strip():
            raise MalformedMessage("the message is empty", where="message")
        self.data = data
        header_end, body_start = _split(data)
        self.header_end = header_end
        self.body_start = body_start
        first_break = data.find(b"\n", 0, max(header_end, 1))
        self.linesep = (
            b"\r\n" if first_break > 0 and data[first_break - 1] == 13 else b"\n"
        )
        self.fields = _locate_fields(data, header_end)

    def get_all(self, name: str) -> list[str]:
        """Values of every field called ``name`` (case-insensitive), unfolded.

        Bytes are decoded as UTF-8 (RFC 6532) with undecodable bytes kept as
        surrogates, so that nothing is lost when they are written back.
        """
        lowered = name.lower()
        return [self.value(f) for f in self.fields if f.name.lower() == lowered]

    def first(self, name: str) -> str | None:
        """The first value of field ``name``, or None."""
        values = self.get_all(name)
        return values[0] if values else None

    def value(self, field: RawField) -> str:
        """A field's value, unfolded, without the leading space."""
        raw = self.data[field.value_start : field.end].decode(
            "utf-8", "surrogateescape"
        )
        return _UNFOLD.sub("", raw).rstrip("\r\n").lstrip(" \t")

    def replace_fields(self, edits: list[tuple[RawField | None, bytes]]) -> bytes:
        """Apply edits: ``(field, new bytes)`` replaces a field ("" removes it);
        ``(None, new bytes)`` appends a field at the end of the header block.
        """
        pieces: list[bytes] = []
        position = 0
        appended = b""
        for field, new in sorted(
            (e for e in edits if e[0] is not None), key=lambda e: e[0].start  # type: ignore[union-attr]
        ):
            assert field is not None
            pieces.append(self.data[position : field.start])
            pieces.append(new)
            position = field.end
        for field, new in edits:
            if field is None:
                appended += new
        if appended:
            pieces.append(self.data[position : self.header_end])
            if self.header_end and self.data[self.header_end - 1 : self.header_end] != b"\n":
                pieces.append(self.linesep)
            pieces.append(appended)
            position = self.header_end
        pieces.append(self.data[position:])
        return b"".join(pieces)

    def encode_field(self, name: str, value: str) -> bytes:
        """A new field's bytes, with the message's line separator."""
        return (
            name.encode("ascii")
            + b": "
            + value.encode("utf-8", "surrogateescape")
            + self.linesep
        )


def _split(data: bytes) -> tuple[int, int]:
    """(end of the header block, start of the body)."""
    if data.startswith(b"\r\n"):
        return 0, 2
    if data.startswith(b"\n"):
        return 0, 1
    crlf = data.find(b"\n\r\n")
    lf = data.find(b"\n\n")
    if crlf == -1 and lf == -1:
        return len(data), len(data)
    if lf == -1 or (crlf != -1 and crlf < lf):
        return crlf + 1, crlf + 3
    return lf + 1, lf + 2


def _locate_fields(data: bytes, header_end: int) -> list[RawField]:
    fields: list[RawField] = []
    position = 0
    line_number = 0
    while position < header_end:
        line_number += 1
        line_end = data.find(b"\n", position, header_end)
        line_end = header_end if line_end == -1 else line_end + 1
        first = data[position : position + 1]
        if first in (b" ", b"\t"):
            if not fields:
                raise MalformedMessage(
                    "the header block starts with a continuation line",
                    where="message line 1",
                )
            last = fields[-1]
            fields[-1] = RawField(last.name, last.start, last.value_start, line_end)
        else:
            match = _FIELD_NAME.match(data, position)
            if match is None:
                if line_number == 1 and data.startswith(b"From "):
                    position = line_end  # an mbox separator line
                    continue
                line = data[position:line_end].rstrip(b"\r\n")[:40]
                raise MalformedMessage(
                    f"{line!r} is not a header field (name: value)",
                    where=f"message line {line_number}",
                )
            name = data[position : match.end() - 1].rstrip(b" \t").decode("ascii")
            fields.append(RawField(name, position, match.end(), line_end))
        position = line_end
    return fields
