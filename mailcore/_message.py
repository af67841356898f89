"""Byte-exact access to the header block of an RFC 5322 message.

Markings (and later S/MIME) must change a few header fields and leave every
other byte alone, so this module never re-serialises a parsed message: it
finds fields by offset in the raw bytes and splices new bytes in.
"""

from __future__ import annotations

import re
from email.generator import BytesGenerator
from email.message import EmailMessage, Message
from functools import lru_cache
from io import BytesIO
from typing import NamedTuple

from mailcore.errors import MalformedInput, MalformedMessage

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
        f"a message must be bytes or email.message.EmailMessage, not {type(message).__name__}"
    )


class RawField(NamedTuple):
    """One header field: its name and where its bytes are.

    ``start``..``end`` covers the whole field including its final line
    break; ``value_start`` is where the value begins (after the colon).
    """

    name: str
    start: int
    value_start: int
    end: int


class RawMessage:
    """A message's bytes with its header fields located, not parsed.

    The header block is checked on construction (every line is a field or a
    continuation); fields are located only when asked for.
    """

    __slots__ = ("_fields", "_index", "_scanned", "body_start", "data", "header_end")
    # _scanned: the per-name scan has answered once, and holds that answer
    # (lowercased name -> fields); later questions about those names are
    # answered from it, any other from an index of every field.

    def __init__(self, message: MessageInput) -> None:
        data = as_bytes(message)
        if not data.strip():
            raise MalformedMessage("the message is empty", where="message")
        self.data = data
        header_end, body_start = _split(data)
        self.header_end = header_end
        self.body_start = body_start
        _check_header_block(data, header_end)
        self._fields: list[RawField] | None = None
        self._index: dict[str, list[RawField]] | None = None
        self._scanned: dict[str, list[RawField]] | None = None

    @property
    def linesep(self) -> bytes:
        """The message's line separator (CRLF or LF), from its first line."""
        first_break = self.data.find(b"\n", 0, max(self.header_end, 1))
        return b"\r\n" if first_break > 0 and self.data[first_break - 1] == 13 else b"\n"

    @property
    def fields(self) -> list[RawField]:
        """Every header field, in order."""
        if self._fields is None:
            self._fields = _locate_fields(self.data, self.header_end)
        return self._fields

    def _by_name(self) -> dict[str, list[RawField]]:
        if self._index is None:
            index: dict[str, list[RawField]] = {}
            for field in self.fields:
                index.setdefault(field.name.lower(), []).append(field)
            self._index = index
        return self._index

    def locate_all(self) -> None:
        """Locate and index every field now, for a caller that will ask
        about several names and then about every field (one pass instead
        of a scan for the first question and a second pass later)."""
        self._by_name()

    def find(self, name: str) -> list[RawField]:
        """The fields called ``name`` (case-insensitive), in order."""
        key = name.lower()
        scanned = self._scanned
        if scanned is not None and key in scanned:
            return list(scanned[key])
        if scanned is not None or self._fields is not None:
            return list(self._by_name().get(key, ()))
        # One C-level scan for this name rather than locating every field.
        return self.find_many(name)[key]

    def find_many(self, *names: str) -> dict[str, list[RawField]]:
        """Fields for several names (lowercased keys), in one scan.

        The first question scans for its names only; asking first for every
        name that will be needed makes that one scan the only one.
        """
        scanned = self._scanned
        if scanned is not None or self._fields is not None:
            asked = [name.lower() for name in names]
            if scanned is not None and all(key in scanned for key in asked):
                return {key: list(scanned[key]) for key in asked}
            # Asked about other names: locating every field once and
            # indexing them by name is cheaper than another scan per question.
            index = self._by_name()
            return {key: list(index.get(key, ())) for key in asked}
        first, rest, keys = _names_patterns(names)
        found: dict[str, list[RawField]] = {key: [] for key in keys}
        data, header_end = self.data, self.header_end
        matches = []
        head = first.match(data, 0, header_end)
        if head is not None:
            matches.append(head)
        matches.extend(rest.finditer(data, 0, header_end))
        search_end = _FIELD_END.search
        new = tuple.__new__
        for match in matches:
            end = search_end(data, match.end(), header_end)
            stop = header_end if end is None else end.end()
            name = match.group(1).decode("ascii")
            found[name.lower()].append(new(RawField, (name, match.start(1), match.end(), stop)))
        self._scanned = found
        return {key: list(fields) for key, fields in found.items()}

    def get_all(self, name: str) -> list[str]:
        """Values of every field called ``name`` (case-insensitive), unfolded.

        Bytes are decoded as UTF-8 (RFC 6532) with undecodable bytes kept as
        surrogates, so that nothing is lost when they are written back.
        """
        return [self.value(f) for f in self.find(name)]

    def first(self, name: str) -> str | None:
        """The first value of field ``name``, or None."""
        values = self.get_all(name)
        return values[0] if values else None

    def value(self, field: RawField) -> str:
        """A field's value, unfolded, without the leading space."""
        raw = self.data[field.value_start : field.end].rstrip(b"\r\n").lstrip(b" \t")
        text = raw.decode("utf-8", "surrogateescape")
        return _UNFOLD.sub("", text) if "\n" in text else text

    def replace_fields(self, edits: list[tuple[RawField | None, bytes]]) -> bytes:
        """Apply edits: ``(field, new bytes)`` replaces a field (``b""``
        removes it); ``(None, new bytes)`` appends a field at the end of the
        header block.
        """
        pieces: list[bytes] = []
        position = 0
        replaced = sorted((e for e in edits if e[0] is not None), key=lambda e: e[0].start)  # type: ignore[union-attr]
        for field, new in replaced:
            assert field is not None
            pieces.append(self.data[position : field.start])
            pieces.append(new)
            position = field.end
        appended = b"".join(new for field, new in edits if field is None)
        if appended:
            pieces.append(self.data[position : self.header_end])
            position = self.header_end
            head = b"".join(pieces)
            # A last header line without its line break (a header-only
            # message) gets one, so that the new field stays in the header.
            if head and not head.endswith(b"\n"):
                head += self.linesep
            pieces = [head, appended]
        pieces.append(self.data[position:])
        return b"".join(pieces)

    def encode_field(self, name: str, value: str) -> bytes:
        """A new field's bytes, with the message's line separator.

        A line break is allowed only as folding (followed by white space);
        anything else would start a new header field, so it is refused.
        """
        return encode_field(name, value, self.linesep)


def encode_field(name: str, value: str, linesep: bytes) -> bytes:
    """:meth:`RawMessage.encode_field` for a given line separator."""
    unfolded = _UNFOLD.sub("", value)
    if "\r" in unfolded or "\n" in unfolded or "\0" in unfolded:
        raise MalformedInput(
            f"refusing to write {name}: its value holds a line break or NUL "
            "that would inject header fields",
            where=name,
        )
    return name.encode("ascii") + b": " + value.encode("utf-8", "surrogateescape") + linesep


def _split(data: bytes) -> tuple[int, int]:
    """(end of the header block, start of the body)."""
    if data.startswith(b"\r\n"):
        return 0, 2
    if data.startswith(b"\n"):
        return 0, 1
    crlf = data.find(b"\n\r\n")
    # Look for a bare LF blank line only before the CRLF one: no need to
    # scan the whole body of a CRLF message.
    lf = data.find(b"\n\n", 0, len(data) if crlf == -1 else crlf + 1)
    if crlf == -1 and lf == -1:
        return len(data), len(data)
    if lf == -1 or (crlf != -1 and crlf < lf):
        return crlf + 1, crlf + 3
    return lf + 1, lf + 2


# A line that is neither a continuation (starts with WSP) nor "name:".
_BAD_LINE = re.compile(rb"\n(?![ \t]|[!-9;-~]+[ \t]*:)([^\n]*)")
_FIRST_LINE = re.compile(rb"[!-9;-~]+[ \t]*:")
_FIRST_LINE_NAME = re.compile(rb"([!-9;-~]+)[ \t]*:")


def _check_header_block(data: bytes, header_end: int) -> None:
    start = _mbox_skip(data, header_end)
    if data[start : start + 1] in (b" ", b"\t"):
        raise MalformedMessage(
            "the header block starts with a continuation line", where="message line 1"
        )
    if start < header_end and _FIRST_LINE.match(data, start) is None:
        bad_start = start
    else:
        # The header block's last line feed is left out: what follows it is
        # the blank line, which the look-ahead must not judge.
        bad = _BAD_LINE.search(data, start, header_end - 1)
        if bad is None:
            return
        bad_start = bad.start() + 1
    line_number = data.count(b"\n", 0, bad_start) + 1
    line_end = data.find(b"\n", bad_start, header_end)
    line = data[bad_start : header_end if line_end == -1 else line_end].rstrip(b"\r")[:40]
    raise MalformedMessage(
        f"{line!r} is not a header field (name: value)",
        where=f"message line {line_number}",
    )


def _mbox_skip(data: bytes, header_end: int) -> int:
    # An mbox "From sender date" line, not an obsolete "From : addr" field
    # (RFC 5322 §4.5.1 allows white space before the colon).
    if data.startswith(b"From ") and _FIRST_LINE.match(data) is None:
        newline = data.find(b"\n", 0, header_end)
        return header_end if newline == -1 else newline + 1  # mbox separator
    return 0


@lru_cache(maxsize=64)
def _names_patterns(
    names: tuple[str, ...],
) -> tuple[re.Pattern[bytes], re.Pattern[bytes], tuple[str, ...]]:
    """(a pattern for the first line, one for the lines after a line feed).

    A literal "\n" prefix lets the regex engine skip ahead quickly; an
    anchor or look-behind per character would be several times slower.
    """
    alternatives = b"|".join(re.escape(name.encode("ascii")) for name in names)
    field = rb"(" + alternatives + rb")[ \t]*:"
    keys = tuple(name.lower() for name in names)
    return re.compile(field, re.IGNORECASE), re.compile(rb"\n" + field, re.IGNORECASE), keys


_FIELD_END = re.compile(rb"\n(?![ \t])")


_FIELD_AFTER_LF = re.compile(rb"\n([!-9;-~]+)[ \t]*:")


def _locate_fields(data: bytes, header_end: int) -> list[RawField]:
    # C-level scans instead of a Python loop over lines: headers are on the
    # hot path of every marking and S/MIME operation.  A literal "\n" first
    # lets the regex engine jump from line to line (a ^ anchor in MULTILINE
    # mode is tried at every position); the first line is matched on its own.
    start = _mbox_skip(data, header_end)
    fields: list[RawField] = []
    new = tuple.__new__
    pending = _FIRST_LINE_NAME.match(data, start, header_end)
    name = pending.group(1).decode("ascii") if pending is not None else None
    field_start = start
    value_start = pending.end() if pending is not None else 0
    for match in _FIELD_AFTER_LF.finditer(data, start, header_end):
        line_start = match.start() + 1
        if name is not None:
            fields.append(new(RawField, (name, field_start, value_start, line_start)))
        name = match.group(1).decode("ascii")
        field_start, value_start = line_start, match.end()
    if name is not None:
        fields.append(new(RawField, (name, field_start, value_start, header_end)))
    return fields
