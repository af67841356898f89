"""Text primitives shared by the vCard and iCalendar writers.

One-pass escaping (RFC 5545 §3.3.11, RFC 6350 §3.4), parameter quoting
(RFC 5545 §3.2, RFC 6868) and content-line folding at 75 octets that never
splits a UTF-8 sequence (RFC 5545 §3.1, RFC 6350 §3.2 "Multi-octet
characters MUST remain contiguous") and avoids splitting an escape or a
grapheme cluster where it can.
"""

from __future__ import annotations

__all__ = ["escape_text", "fold", "join_lines", "param_value"]

# RFC 5545 §3.3.11 / RFC 6350 §3.4: backslash, semicolon, comma and newline
# are escaped in TEXT; ':' is not.  Other C0 controls and DEL are not
# allowed in TEXT at all (TSAFE-CHAR excludes CONTROL), so they are dropped:
# Outlook notes carry stray vertical tabs, and a calendar must still parse.
_ESCAPES: dict[int, str | None] = {
    ord("\\"): "\\\\",
    ord(";"): "\\;",
    ord(","): "\\,",
    ord("\n"): "\\n",
}
_ESCAPES.update({c: None for c in range(0x20) if c not in (0x09, 0x0A)})
_ESCAPES[0x7F] = None
_TABLE = str.maketrans(_ESCAPES)
_NEEDS_WORK = frozenset("\\;,\n\r") | frozenset(chr(c) for c in range(0x20) if c != 9) | {"\x7f"}


def escape_text(value: str) -> str:
    """A TEXT value escaped for a content line, CR/LF/CRLF becoming ``\\n``."""
    if _NEEDS_WORK.isdisjoint(value):
        return value
    if "\r" in value:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
    return value.translate(_TABLE)


# RFC 6868: in a parameter value ^ -> ^^, newline -> ^n, " -> ^'.
_CARET = str.maketrans({"^": "^^", "\n": "^n", '"': "^'", "\r": None})
# A backslash is an ordinary character in a parameter (no escapes there), but
# quoting it stops readers that treat "\;" as an escape from mis-splitting.
_PARAM_SPECIAL = frozenset(':;,"^\n\r\\')


def param_value(value: str, *, quote: bool = False) -> str:
    """A parameter value: DQUOTEd when it holds ``: ; ,`` (RFC 5545 §3.2) or ``quote``.

    Free text (CN) is always quoted: readers differ on unquoted spaces and
    ``=`` (icalendar 7.3 drops a space before ``=``).

    A double quote cannot appear inside a quoted value, so it and newlines
    take the RFC 6868 caret encoding; other controls are dropped.
    """
    if not value.isprintable():
        value = "".join(c for c in value if c == "\n" or (c >= " " and c != "\x7f"))
    if not quote and _PARAM_SPECIAL.isdisjoint(value):
        return value
    return '"' + value.translate(_CARET) + '"'


def _extends(data: bytes, at: int) -> bool:
    """True when the code point at byte ``at`` continues the previous grapheme.

    A light approximation of UAX #29 for the cases that break phones: ZWJ
    sequences, variation selectors, emoji skin-tone modifiers, combining
    diacritics, tag characters and regional-indicator pairs (flags).
    """
    lead = data[at]
    if lead < 0xC0:
        return False
    if lead == 0xE2 and data[at + 1 : at + 3] == b"\x80\x8d":  # U+200D ZWJ
        return True
    if lead == 0xEF and data[at + 1 : at + 2] == b"\xb8" and 0x80 <= data[at + 2] <= 0x8F:
        return True  # U+FE00..FE0F variation selectors
    if lead in (0xCC, 0xCD) and (lead == 0xCC or data[at + 1] <= 0xAF):
        return True  # U+0300..036F combining diacritical marks
    if lead == 0xF0:
        tail = data[at + 1 : at + 4]
        if tail[:2] == b"\x9f\x8f" and 0xBB <= tail[2] <= 0xBF:
            return True  # U+1F3FB..1F3FF skin tones
        if tail[:2] == b"\x9f\x87" and 0xA6 <= tail[2] <= 0xBF:
            # A regional indicator continues a flag when an odd number of
            # indicators come right before it.
            count, back = 0, at
            while back >= 4 and data[back - 4 : back - 1] == b"\xf0\x9f\x87":
                count += 1
                back -= 4
            return count % 2 == 1
    if lead == 0xF3 and data[at + 1 : at + 2] == b"\xa0":
        return True  # U+E0000..E0FFF tags (subdivision flags)
    # The previous code point is a ZWJ: the joined emoji follows.
    return at >= 3 and data[at - 3 : at] == b"\xe2\x80\x8d"


def _cut(data: bytes, start: int, end: int) -> int:
    """The byte offset at which to end a physical line, at most ``end``."""
    cut = end
    while data[cut] & 0xC0 == 0x80:  # never inside a UTF-8 sequence
        cut -= 1
    floor = start + 16  # give up keeping a grapheme whole past this point
    best = cut
    while cut > floor and _extends(data, cut):
        cut -= 1
        while data[cut] & 0xC0 == 0x80:
            cut -= 1
    if cut > floor:
        best = cut
    # Do not end a line on the backslash of an escape (icalendar #1501):
    # legal, but some unfolders mis-read "\" + CRLF.
    backslashes = 0
    while best - backslashes - 1 >= start and data[best - backslashes - 1] == 0x5C:
        backslashes += 1
    if backslashes % 2 == 1 and best - 1 > floor:
        best -= 1
    return best


def fold(line: str) -> str:
    """Fold one content line to physical lines of at most 75 octets.

    Continuation lines start with one space, so they carry 74 octets of
    content.  ASCII lines (most of them) are cut by slicing; others are
    encoded once and cut on byte offsets.
    """
    if len(line) <= 75 and line.isascii():
        return line
    if line.isascii() and "\\" not in line:
        parts = [line[:75]]
        parts.extend(line[i : i + 74] for i in range(75, len(line), 74))
        return "\r\n ".join(parts)
    data = line.encode("utf-8", "surrogatepass")
    if len(data) <= 75:
        return line
    pieces = []
    start, limit = 0, 75
    while len(data) - start > limit:
        cut = _cut(data, start, start + limit)
        pieces.append(data[start:cut])
        start, limit = cut, 74
    pieces.append(data[start:])
    return b"\r\n ".join(pieces).decode("utf-8", "surrogatepass")


def join_lines(lines: list[str]) -> str:
    """Fold every line and join with CRLF, ending with CRLF."""
    return (
        "\r\n".join([line if len(line) <= 75 and line.isascii() else fold(line) for line in lines])
        + "\r\n"
    )
