"""Just enough MIME to find attachment bytes, on raw bytes and fast.

A header-only pass decides which messages are multipart (RFC 2045 §5,
RFC 2046 §5.1); only those are walked.  The walk splits bodies on the
boundary delimiter lines of RFC 2046 §5.1.1 (the line break before a
delimiter belongs to the delimiter) and reads three fields per part:
``Content-Type``, ``Content-Disposition`` (RFC 2183) and
``Content-Transfer-Encoding``.  Sizes are decoded sizes, as a device would
store them: base64 and quoted-printable are decoded in C (``binascii``),
which is exact for the broken padding found in real mail; base64 that does
not decode is estimated as its alphabet characters x 3/4 (RFC 4648 §4).

What counts as an attachment: a leaf part whose disposition is
``attachment``, or that has a file name (``filename`` of RFC 2183 or the
older ``name`` parameter of Content-Type), and every ``message/rfc822``
part (a forwarded message is an attachment on a phone).
"""

from __future__ import annotations

import binascii
import mmap

__all__ = [
    "attachment_bytes",
    "base64_octets_estimate",
    "field_values",
    "header_end",
    "is_multipart",
    "looks_like_mail",
    "may_have_attachments",
    "parse_parameters",
]

_MAX_DEPTH = 32  # nested multiparts beyond this are counted as one leaf
_WHITESPACE = b" \t\r\n"
_DELIMITER_END = (b"", b"-", b"\r", b"\n", b" ", b"\t")


def header_end(data: bytes | mmap.mmap, start: int = 0, end: int | None = None) -> tuple[int, int]:
    """(end of the header block, start of the body); (-1, -1) if no blank line.

    RFC 5322 §2.1: the header section ends at the first empty line.  An
    entity that starts with an empty line has an empty header.
    """
    stop = len(data) if end is None else end
    # Slices, not startswith: ``data`` may be an mmap.
    if data[start : start + 1] == b"\n":
        return start, start + 1
    if data[start : start + 2] == b"\r\n":
        return start, start + 2
    lf = data.find(b"\n\n", start, stop)
    crlf = data.find(b"\n\r\n", start, stop)
    if crlf != -1 and (lf == -1 or crlf < lf):
        return crlf + 1, crlf + 3
    if lf != -1:
        return lf + 1, lf + 2
    return -1, -1


def field_values(block: bytes, name: bytes) -> list[bytes]:
    """Unfolded values of every field ``name`` (lower-case) in a header block."""
    lowered = b"\n" + block.lower()
    target = b"\n" + name + b":"
    values = []
    position = lowered.find(target)
    while position != -1:
        start = position + len(target) - 1  # offset in ``block`` (the \n prefix)
        end = start
        while True:
            newline = block.find(b"\n", end)
            if newline == -1:
                end = len(block)
                break
            end = newline + 1
            if block[end : end + 1] not in (b" ", b"\t"):
                break
        values.append(b" ".join(block[start:end].split()))
        position = lowered.find(target, position + 1)
    return values


def _first(block: bytes, name: bytes) -> bytes:
    values = field_values(block, name)
    return values[0] if values else b""


def parse_parameters(value: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    """(lower-case type, {lower-case name: value}) of a Content-Type-like value.

    Quoted strings may hold ``;``; RFC 2231 continuations (``name*0``) are
    joined, which is all a file-name test needs.
    """
    pieces: list[bytes] = []
    current = bytearray()
    quoted = escaped = False
    for byte in value:
        char = bytes((byte,))
        if escaped:
            current += char
            escaped = False
        elif quoted and char == b"\\":
            escaped = True
        elif char == b'"':
            quoted = not quoted
        elif char == b";" and not quoted:
            pieces.append(bytes(current))
            current = bytearray()
        else:
            current += char
    pieces.append(bytes(current))
    main = pieces[0].strip().lower()
    params: dict[bytes, bytes] = {}
    for piece in pieces[1:]:
        name, sep, val = piece.partition(b"=")
        if not sep:
            continue
        key = name.strip().lower()
        if b"*" in key:
            key = key.split(b"*", 1)[0]
            params[key] = params.get(key, b"") + val.strip()
        else:
            params[key] = val.strip()
    return main, params


def is_multipart(block: bytes) -> bool:
    """Does this header block declare a ``multipart/*`` body?"""
    value = _first(block, b"content-type")
    return value[:10].lower() == b"multipart/"


def may_have_attachments(block: bytes) -> bool:
    """Could this message have attachments (multipart, message/*, a disposition or name)?

    The header-only test that decides which messages are walked.
    """
    lowered = block.lower()
    if b"content-disposition:" in lowered:
        return True
    value = _first(block, b"content-type").lower()
    return value.startswith((b"multipart/", b"message/")) or b"name" in value


def looks_like_mail(head: bytes) -> bool:
    """Does a file start like a message (a header field, or an mbox ``From `` line)?"""
    if head.startswith(b"From "):
        return True
    line = head.split(b"\n", 1)[0]
    name, colon, _ = line.partition(b":")
    # RFC 5322 §2.2: field-name is printable ASCII except ":" (33-126).
    return bool(colon) and 0 < len(name) <= 200 and all(33 <= c <= 126 for c in name)


def base64_octets_estimate(octets: int) -> int:
    """Decoded size of a base64 body of ``octets`` bytes in 76-character CRLF lines.

    For sources that give only the encoded size (IMAP BODYSTRUCTURE).
    """
    lines = -(-octets // 78)
    return max(0, (octets - 2 * lines) * 3 // 4)


def _decoded_size(body: bytes, encoding: bytes) -> int:
    if encoding == b"base64":
        # Decoding in C costs about what counting would, and is exact for the
        # broken base64 of real mail ("=" mid-body, missing padding), read
        # the way the email package reads it: lines joined, padding added.
        alphabet = body.translate(None, _WHITESPACE)
        missing = -len(alphabet) % 4
        try:
            return len(binascii.a2b_base64(alphabet + b"=" * missing, strict_mode=True))
        except binascii.Error:
            pass
        for attempt in (alphabet, alphabet + b"=="):
            try:
                return len(binascii.a2b_base64(attempt))
            except binascii.Error:
                continue
        padding = len(alphabet) - len(alphabet.rstrip(b"="))
        return max(0, len(alphabet) * 3 // 4 - padding)
    if encoding == b"quoted-printable":
        try:
            return len(binascii.a2b_qp(body))
        except binascii.Error:
            return len(body)
    return len(body)


def _parts(body: bytes, boundary: bytes) -> list[bytes]:
    """The body parts between the delimiter lines (RFC 2046 §5.1.1)."""
    delimiter = b"--" + boundary
    parts: list[bytes] = []
    position = 0
    start = -1
    while True:
        found = body.find(delimiter, position)
        if found == -1:
            break
        at_line_start = found == 0 or body[found - 1] == 10  # "\n"
        after = found + len(delimiter)
        # A longer boundary may start with this one: the delimiter must end
        # the line (transport padding allowed) or be the closing "--".
        if not at_line_start or body[after : after + 1] not in _DELIMITER_END:
            position = after
            continue
        if start != -1:
            # The CRLF (or LF) before the delimiter belongs to the delimiter.
            stop = found - 1
            if stop > start and body[stop - 1] == 13:
                stop -= 1
            parts.append(body[start : max(start, stop)])
        closing = body.startswith(b"--", after)
        newline = body.find(b"\n", after)
        if closing or newline == -1:
            return parts
        start = newline + 1
        position = start
    if start != -1:
        parts.append(body[start:])  # no closing delimiter: a truncated message
    return parts


def _entity(entity: bytes, depth: int) -> int:
    head_end, body_start = header_end(entity)
    if head_end == -1:
        block, body = entity, b""
    else:
        block, body = entity[:head_end], entity[body_start:]
    ctype, params = parse_parameters(_first(block, b"content-type"))
    if ctype.startswith(b"multipart/") and depth < _MAX_DEPTH:
        boundary = params.get(b"boundary", b"")
        if boundary:
            return sum(_entity(part, depth + 1) for part in _parts(body, boundary))
    encoding = _first(block, b"content-transfer-encoding").strip().lower()
    if ctype == b"message/rfc822":
        return _decoded_size(body, encoding)
    disposition, dparams = parse_parameters(_first(block, b"content-disposition"))
    if disposition == b"attachment" or b"filename" in dparams or b"name" in params:
        return _decoded_size(body, encoding)
    return 0


def attachment_bytes(message: bytes) -> int:
    """Decoded bytes of the attachments of a whole message (0 when none)."""
    return _entity(message, 0)
