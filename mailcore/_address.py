"""Mailbox addresses of address fields (From, Sender, To...): quick and strict readings."""

from __future__ import annotations

import re
from email.utils import getaddresses

__all__ = ["all_addresses", "first_address", "is_simple_address", "strict_mailboxes"]

_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*\Z")
# 'Display Name <addr>' with no quotes, comments or groups: most mail.
_ANGLE = re.compile(r"[^<>\"(),;:\\]*<([^<>\s]+)>\s*\Z")


def first_address(value: str | None) -> str | None:
    """The addr-spec of the first mailbox in ``value``, or None.

    Plain and ``Name <addr>`` forms take a fast path; anything else goes
    through :func:`email.utils.getaddresses` (quoted names, comments,
    groups, several mailboxes).
    """
    if not value:
        return None
    text = value.strip()
    if _PLAIN.match(text):
        return text
    angle = _ANGLE.match(text)
    if angle is not None:
        return angle.group(1)
    addresses = [address for _, address in getaddresses([text]) if address]
    return addresses[0] if addresses else None


def is_simple_address(address: str) -> bool:
    """True for an EPMS ``simple-email``: dot-atoms around '@', no CFWS."""
    return _PLAIN.match(address) is not None


_COMPLEX = re.compile(r'["():;\\]')


def all_addresses(values: list[str]) -> list[str]:
    """The addr-specs of every mailbox in address fields (To, Cc, Bcc), in order.

    Comma-separated plain and ``Name <addr>`` lists take a fast path;
    quotes, comments, groups and anything unusual go through
    :func:`email.utils.getaddresses`.  Group names contribute nothing.
    """
    found: list[str] = []
    for value in values:
        text = value.strip()
        if not text:
            continue
        if _COMPLEX.search(text) is None:
            pieces = [piece.strip() for piece in text.split(",")]
            fast: list[str] = []
            for piece in pieces:
                if not piece:
                    continue
                if _PLAIN.match(piece):
                    fast.append(piece)
                    continue
                angle = _ANGLE.match(piece)
                if angle is None:
                    break
                fast.append(angle.group(1))
            else:
                found.extend(fast)
                continue
        found.extend(address for _, address in getaddresses([text]) if address)
    return found


# -- strict reading (RFC 5322 §3.4) --------------------------------------------------

# atext (RFC 5322 §3.2.3), and any non-ASCII character (RFC 6532 §3.2).
_ATEXT = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~"
)
_SPECIALS = frozenset('()<>[]:;@\\,."')
_WSP = frozenset(" \t\r\n")
_MAX_FIELD = 998 * 64  # RFC 5322 §2.1.1 line limit, times a generous fold count


def _tokens(value: str) -> list[tuple[str, str]] | None:
    """(kind, text) tokens of an address field; None if it cannot be read.

    Kinds: ``atom``, ``quoted`` (text without the quotes, escapes undone),
    ``literal`` (a domain literal with its brackets) and each special as
    itself.  Comments and white space are dropped; an unbalanced comment,
    quote or bracket makes the whole value unreadable.
    """
    tokens: list[tuple[str, str]] = []
    index, length = 0, len(value)
    while index < length:
        char = value[index]
        if char in _WSP:
            index += 1
        elif char == "(":  # comment, may nest (RFC 5322 §3.2.2)
            depth = 0
            while index < length:
                char = value[index]
                if char == "\\":
                    index += 2
                    continue
                depth += (char == "(") - (char == ")")
                index += 1
                if depth == 0:
                    break
            if depth != 0:
                return None
        elif char == '"':
            text: list[str] = []
            index += 1
            while index < length and value[index] != '"':
                if value[index] == "\\":
                    index += 1
                    if index >= length:
                        return None
                text.append(value[index])
                index += 1
            if index >= length:
                return None
            tokens.append(("quoted", "".join(text)))
            index += 1
        elif char == "[":
            end = value.find("]", index)
            if end == -1 or "[" in value[index + 1 : end] or "\\" in value[index:end]:
                return None
            tokens.append(("literal", value[index : end + 1]))
            index = end + 1
        elif char in _SPECIALS:  # ')' and ']' alone fall here and fail the grammar
            tokens.append((char, char))
            index += 1
        elif char in _ATEXT or ord(char) > 0x7F:
            start = index
            while index < length and (value[index] in _ATEXT or ord(value[index]) > 0x7F):
                index += 1
            tokens.append(("atom", value[start:index]))
        else:  # a control character
            return None
    return tokens


def _addr_spec(tokens: list[tuple[str, str]], start: int, stop: int) -> str | None:
    """``local@domain`` from tokens[start:stop], or None (RFC 5322 §3.4.1)."""
    part = tokens[start:stop]
    ats = [i for i, (kind, _) in enumerate(part) if kind == "@"]
    if len(ats) != 1:
        return None
    local, domain = part[: ats[0]], part[ats[0] + 1 :]

    def dotted(pieces: list[tuple[str, str]], words: tuple[str, ...]) -> str | None:
        # word *("." word): no leading, trailing or doubled dots.
        if not pieces or len(pieces) % 2 == 0:
            return None
        for position, (kind, _) in enumerate(pieces):
            if (kind == ".") != (position % 2 == 1) or (position % 2 == 0 and kind not in words):
                return None
        return "".join(text if kind != "quoted" else _quote(text) for kind, text in pieces)

    local_text = dotted(local, ("atom", "quoted"))
    if len(domain) == 1 and domain[0][0] == "literal":
        domain_text: str | None = domain[0][1]
    else:
        domain_text = dotted(domain, ("atom",))
    if local_text is None or domain_text is None:
        return None
    return f"{local_text}@{domain_text}"


def _quote(text: str) -> str:
    if text and all(char in _ATEXT for char in text):
        return text  # "alice" and alice are the same local part
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def strict_mailboxes(value: str) -> tuple[str, ...] | None:
    """The addr-specs of an RFC 5322 §3.4 ``mailbox-list``, or None.

    For the fields whose address decides who a message is from (From,
    Sender), where a lenient reading is an attack surface: ``From:
    ceo@agency.gov.au)<alice@example.com>`` reads as alice in
    :func:`email.utils.getaddresses` before CPython's fix of CVE-2023-27043.
    Anything outside the grammar gives None, never a guess: unbalanced
    comments, quotes or brackets, a mailbox with two addresses or none, a
    group, an empty list element, a stray special.  Only one obsolete form is
    taken, the obs-phrase (a dot in a display name: ``Jo A. Citizen``).
    """
    if len(value) > _MAX_FIELD:
        return None
    tokens = _tokens(value)
    if not tokens:
        return None
    found: list[str] = []
    start = 0
    while start <= len(tokens):
        stop = start
        depth = 0
        while stop < len(tokens) and not (tokens[stop][0] == "," and depth == 0):
            kind = tokens[stop][0]
            depth += (kind == "<") - (kind == ">")
            stop += 1
        address = _mailbox(tokens, start, stop)
        if address is None:
            return None
        found.append(address)
        start = stop + 1
        if stop == len(tokens):
            break
    return tuple(found)


def _mailbox(tokens: list[tuple[str, str]], start: int, stop: int) -> str | None:
    """``name-addr`` or ``addr-spec`` from tokens[start:stop] (RFC 5322 §3.4)."""
    if start >= stop:
        return None
    opens = [i for i in range(start, stop) if tokens[i][0] == "<"]
    if not opens:
        return _addr_spec(tokens, start, stop)
    # [display-name] "<" addr-spec ">", the ">" last and no other angle.
    if len(opens) != 1 or tokens[stop - 1][0] != ">":
        return None
    name = tokens[start : opens[0]]
    if any(kind not in ("atom", "quoted", ".") for kind, _ in name):
        return None
    if name and name[0][0] == ".":
        return None  # obs-phrase begins with a word
    inner_stop = stop - 1
    if any(tokens[i][0] in ("<", ">") for i in range(opens[0] + 1, inner_stop)):
        return None
    return _addr_spec(tokens, opens[0] + 1, inner_stop)
