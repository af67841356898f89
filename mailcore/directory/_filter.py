"""LDAP search filters built from untrusted addresses (RFC 4515 text, RFC 4511 BER).

A template such as ``(&(objectClass=person)(mail={address}))`` is parsed
once (RFC 4515 §3 grammar) and compiled to the BER ``Filter`` of RFC 4511
§4.5.1 with one hole, where an address goes.  On that path an address is
inserted as raw octets: nothing in it is filter syntax, so ``*@example.com``
is the assertion value "*@example.com" and matches no wildcard.

The text form is kept for logs and for callers who hand a filter to another
LDAP library: there every address passes through :func:`escape_filter_value`,
because RFC 4515 §3 requires ``*``, ``(``, ``)``, ``\\`` and NUL in an
assertion value to be written as ``\\XX`` hex escapes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from mailcore.directory._ber import encode_length, tlv

__all__ = ["FilterTemplate", "escape_filter_value"]

# RFC 4515 §3: "The <valueencoding> rule ensures that the entire filter
# string is a valid UTF-8 string and provides that the octets that represent
# the ASCII characters "*" (ASCII 0x2a), "(" (ASCII 0x28), ")" (ASCII 0x29),
# "\" (ASCII 0x5c), and NUL (ASCII 0x00) are represented as a backslash
# followed by the two hexadecimal digits".
_SPECIAL = {ord("*"): r"\2a", ord("("): r"\28", ord(")"): r"\29", ord("\\"): r"\5c", 0: r"\00"}

_ASSERTION = re.compile(r"\(([A-Za-z][A-Za-z0-9;.-]*)=([^()*\\]*)\{address\}\)")
_PLACEHOLDER = "{address}"

# RFC 4512 §2.5: attributedescription = attributetype options, the type a
# descr (keystring) or a numericoid, each option ";" 1*keychar.
_OID = r"(?:[A-Za-z][A-Za-z0-9-]*|[0-9]+(?:\.[0-9]+)+)"
_ATTRIBUTE = re.compile(_OID + r"(?:;[A-Za-z0-9-]+)*")
_MATCHING_RULE = re.compile(_OID)
_HEX = re.compile(r"[0-9A-Fa-f]{2}")

# RFC 4511 §4.5.1 Filter CHOICE tags (context-specific; constructed except present).
_AND, _OR, _NOT = 0xA0, 0xA1, 0xA2
_EQUALITY, _SUBSTRINGS, _GREATER_OR_EQUAL, _LESS_OR_EQUAL = 0xA3, 0xA4, 0xA5, 0xA6
_PRESENT, _APPROX, _EXTENSIBLE = 0x87, 0xA8, 0xA9
_OCTET_STRING, _SEQUENCE = 0x04, 0x30
_SUBSTRING_INITIAL, _SUBSTRING_ANY, _SUBSTRING_FINAL = 0x80, 0x81, 0x82
_RULE, _TYPE, _MATCH_VALUE, _DN_ATTRIBUTES = 0x81, 0x82, 0x83, 0x84
_NESTING = 64  # deeper than any real template; refused, not a RecursionError


def escape_filter_value(value: str) -> str:
    """``value`` as an RFC 4515 assertion value (special characters hex-escaped)."""
    return value.translate(_SPECIAL)


@dataclass(frozen=True, slots=True)
class _Hole:
    """A filter that still needs the address: ``prefix`` + address is the
    equality's assertion value, then each layer (identifier octet, encoded
    siblings before, after) wraps the result, innermost first."""

    prefix: bytes
    layers: tuple[tuple[bytes, bytes, bytes], ...]

    def wrap(self, tag: int, before: bytes, after: bytes) -> _Hole:
        return _Hole(self.prefix, (*self.layers, (bytes((tag,)), before, after)))

    def fill(self, value: bytes) -> bytes:
        value = self.prefix + value
        out = b"\x04" + encode_length(len(value)) + value
        for tag, before, after in self.layers:
            content = before + out + after
            out = tag + encode_length(len(content)) + content
        return out


_Part = bytes | _Hole


class _Parser:
    """RFC 4515 §3 filter grammar, compiled straight to RFC 4511 BER.

    Whitespace between components (not inside an item) is tolerated, as
    OpenLDAP's and ldap3's parsers do; RFC 4526's absolute true ``(&)`` and
    false ``(|)`` are accepted.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, what: str, at: int | None = None) -> ValueError:
        where = (self.pos if at is None else at) + 1  # counted from 1 for people
        return ValueError(f"filter template {self.text!r}: {what} at character {where}")

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def whole(self) -> _Part:
        self.skip_space()
        part = self.filter(0)
        self.skip_space()
        if self.pos != len(self.text):
            raise self.fail("text after the filter")
        return part

    def filter(self, depth: int) -> _Part:
        if depth > _NESTING:
            raise self.fail("filters nested too deeply")
        if not self.text.startswith("(", self.pos):
            raise self.fail("'(' expected")
        self.pos += 1
        self.skip_space()
        kind = self.text[self.pos : self.pos + 1]
        if kind in ("&", "|"):
            self.pos += 1
            part = self.combine(_AND if kind == "&" else _OR, self.filters(depth))
        elif kind == "!":
            self.pos += 1
            self.skip_space()
            part = self.combine(_NOT, [self.filter(depth + 1)])
            self.skip_space()
        else:
            part = self.item()
        if not self.text.startswith(")", self.pos):
            raise self.fail("')' expected")
        self.pos += 1
        return part

    def filters(self, depth: int) -> list[_Part]:
        parts: list[_Part] = []
        self.skip_space()
        while self.text.startswith("(", self.pos):
            parts.append(self.filter(depth + 1))
            self.skip_space()
        return parts

    @staticmethod
    def combine(tag: int, parts: list[_Part]) -> _Part:
        # At most one part holds the placeholder (one {address} per template).
        for index, hole in enumerate(parts):
            if isinstance(hole, _Hole):
                before = b"".join(p for p in parts[:index] if isinstance(p, bytes))
                after = b"".join(p for p in parts[index + 1 :] if isinstance(p, bytes))
                return hole.wrap(tag, before, after)
        return tlv(tag, b"".join(p for p in parts if isinstance(p, bytes)))

    def item(self) -> _Part:
        start = self.pos
        end = self.text.find(")", start)
        if end < 0:
            raise self.fail("')' expected", len(self.text))
        self.pos = end
        text = self.text[start:end]
        if "(" in text:
            raise self.fail("'(' inside an assertion", start + text.index("("))
        equals = text.find("=")
        if equals < 0:
            raise self.fail("'=' expected", end)
        left, right = text[:equals], text[equals + 1 :]
        value_at = start + equals + 1
        if _PLACEHOLDER in text:
            return self.placeholder(left, right, start, value_at)
        if left.endswith(":"):
            return self.extensible(left[:-1], right, start, value_at)
        operator = left[-1:]
        if operator in ("~", ">", "<"):
            tag = {"~": _APPROX, ">": _GREATER_OR_EQUAL, "<": _LESS_OR_EQUAL}[operator]
            attribute = self.attribute(left[:-1], start)
            return tlv(tag, attribute + tlv(_OCTET_STRING, self.value(right, value_at)))
        attribute_name = left
        attribute = self.attribute(left, start)
        if right == "*":
            return tlv(_PRESENT, attribute_name.encode("ascii"))
        if "*" in right:
            return self.substrings(attribute, right, value_at)
        return tlv(_EQUALITY, attribute + tlv(_OCTET_STRING, self.value(right, value_at)))

    def placeholder(self, left: str, right: str, start: int, value_at: int) -> _Hole:
        prefix = right[: -len(_PLACEHOLDER)]
        if left[-1:] in ("~", ">", "<", ":") or not right.endswith(_PLACEHOLDER):
            raise self.fail("{address} must end the value of an equality test", start)
        if "*" in prefix or "\\" in prefix:
            raise self.fail("no '*' or '\\' may come before {address}", value_at)
        attribute = self.attribute(left, start)
        return _Hole(self.value(prefix, value_at), ((bytes((_EQUALITY,)), attribute, b""),))

    def attribute(self, name: str, at: int) -> bytes:
        if not _ATTRIBUTE.fullmatch(name):
            raise self.fail(f"{name!r} is not an attribute description (RFC 4512 §2.5)", at)
        return tlv(_OCTET_STRING, name.encode("ascii"))

    def value(self, text: str, at: int) -> bytes:
        """RFC 4515 §3 valueencoding to octets: UTF-8, ``\\XX`` escapes decoded."""
        for offset, character in enumerate(text):
            if character in "*()\x00":
                raise self.fail(f"unescaped {character!r} in a value", at + offset)
        if "\\" not in text:
            return text.encode("utf-8")
        out = bytearray()
        pieces = text.split("\\")
        out += pieces[0].encode("utf-8")
        offset = at + len(pieces[0])
        for piece in pieces[1:]:
            if not _HEX.match(piece):
                raise self.fail("'\\' not followed by two hex digits", offset)
            out.append(int(piece[:2], 16))
            out += piece[2:].encode("utf-8")
            offset += len(piece) + 1
        return bytes(out)

    def substrings(self, attribute: bytes, text: str, at: int) -> bytes:
        pieces = text.split("*")
        items: list[bytes] = []
        offset = at
        for index, piece in enumerate(pieces):
            if piece:
                if index == 0:
                    tag = _SUBSTRING_INITIAL
                elif index == len(pieces) - 1:
                    tag = _SUBSTRING_FINAL
                else:
                    tag = _SUBSTRING_ANY
                items.append(tlv(tag, self.value(piece, offset)))
            offset += len(piece) + 1
        if not items:
            # SubstringFilter.substrings is SIZE (1..MAX) (RFC 4511 §4.5.1).
            raise self.fail("a substring test with no substring", at)
        return tlv(_SUBSTRINGS, attribute + tlv(_SEQUENCE, b"".join(items)))

    def extensible(self, left: str, right: str, start: int, value_at: int) -> bytes:
        # extensible = ( attr [dnattrs] [matchingrule] COLON EQUALS assertionvalue )
        #            / ( [dnattrs] matchingrule COLON EQUALS assertionvalue )
        pieces = left.split(":")
        name, options = pieces[0], pieces[1:]
        dn = bool(options) and options[0].lower() == "dn"
        if dn:
            options = options[1:]
        if len(options) > 1:
            raise self.fail("too many ':' in an extensible match", start)
        rule = options[0] if options else None
        if rule is not None and not _MATCHING_RULE.fullmatch(rule):
            raise self.fail(f"{rule!r} is not a matching rule OID or name", start)
        if not name and rule is None:
            raise self.fail("an extensible match needs an attribute or a matching rule", start)
        content = b""
        if rule is not None:
            content += tlv(_RULE, rule.encode("ascii"))
        if name:
            self.attribute(name, start)
            content += tlv(_TYPE, name.encode("ascii"))
        content += tlv(_MATCH_VALUE, self.value(right, value_at))
        if dn:
            # RFC 4511 §5.1 (3)/(4): TRUE is FF; the default FALSE is left out.
            content += b"\x84\x01\xff"
        return tlv(_EXTENSIBLE, content)


@dataclass(frozen=True, slots=True)
class FilterTemplate:
    """A filter such as ``(mail={address})`` and how to read its answers.

    ``attribute`` and ``prefix`` come from the template's equality test on
    ``{address}`` (``proxyAddresses`` and ``smtp:`` for AD's form); a batched
    search's entries are mapped back to the addresses through that attribute.
    The whole template is checked against RFC 4515 on construction
    (``ValueError`` saying what is wrong and where).
    """

    template: str
    attribute: str
    prefix: str
    _compiled: _Part = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_compiled", _Parser(self.template).whole())

    @classmethod
    def parse(cls, template: str) -> FilterTemplate:
        match = _ASSERTION.search(template)
        if match is None or template.count(_PLACEHOLDER) != 1:
            raise ValueError(
                f"filter template {template!r} needs one '(attribute={{address}})' test"
            )
        return cls(template, match.group(1), match.group(2))

    def for_address(self, address: str) -> str:
        """The filter for one address (escaped)."""
        return self.template.replace(_PLACEHOLDER, escape_filter_value(address))

    def for_addresses(self, addresses: Sequence[str]) -> str:
        """One filter matching any of ``addresses``: an RFC 4515 OR (``|``)."""
        if len(addresses) == 1:
            return self.for_address(addresses[0])
        return "(|" + "".join(self.for_address(address) for address in addresses) + ")"

    def ber_for_addresses(self, addresses: Sequence[str]) -> bytes:
        """:meth:`for_addresses` as the BER ``Filter`` of RFC 4511 §4.5.1.

        The same structure as the text form (an ``or`` [1] SET of the
        template once per address; the template alone for one address), with
        each address's UTF-8 octets as the assertion value, unescaped: BER
        has no filter syntax to escape from.
        """
        hole = self._compiled
        if not isinstance(hole, _Hole):  # pragma: no cover  (parse() guarantees one)
            raise ValueError(f"filter template {self.template!r} has no {_PLACEHOLDER}")
        # surrogatepass: an address that is not valid Unicode still becomes
        # octets (it then matches nothing) instead of failing the whole lookup.
        fill = hole.fill
        if len(addresses) == 1:
            return fill(addresses[0].encode("utf-8", "surrogatepass"))
        content = b"".join([fill(a.encode("utf-8", "surrogatepass")) for a in addresses])
        return b"\xa1" + encode_length(len(content)) + content

    def address_of(self, value: str) -> str | None:
        """The address an attribute value stands for (prefix removed), lowercased."""
        if self.prefix:
            if not value[: len(self.prefix)].lower() == self.prefix.lower():
                return None
            value = value[len(self.prefix) :]
        return value.strip().lower()
