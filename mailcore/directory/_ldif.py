"""A reader for LDIF content records (RFC 2849), for file-based directories.

Only what a certificate directory needs: entries (``dn:`` then attributes),
folded lines, base64 values (``::``) and ``file://`` URL values (``:<``,
which the PKITS directory uses).  Change records are refused: a directory
file describes entries, it does not edit them.  Errors name the line.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from urllib.parse import unquote, urlsplit

import pybase64

from mailcore.errors import MalformedInput

__all__ = ["LdifEntry", "read_ldif"]


@dataclass(frozen=True, slots=True)
class LdifEntry:
    """One entry: its DN and its attribute values (names lowercased)."""

    dn: str
    attributes: MappingProxyType[str, tuple[bytes, ...]]

    def values(self, name: str) -> tuple[bytes, ...]:
        """Values of ``name`` and of every ``name;option`` form."""
        wanted = name.lower()
        found: list[bytes] = []
        for key, values in self.attributes.items():
            if key == wanted or key.split(";", 1)[0] == wanted:
                found.extend(values)
        return tuple(found)


def _logical_lines(text: bytes) -> Iterator[tuple[int, bytes]]:
    """Unfold (RFC 2849: a line starting with one space continues the last)."""
    current: bytearray | None = None
    start = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith(b" ") and current is not None:
            current += line[1:]
            continue
        if current is not None:
            yield start, bytes(current)
        if line.startswith(b"#"):
            # A comment; its continuation lines belong to it and are dropped.
            current = None
            continue
        current, start = bytearray(line), number
    if current is not None:
        yield start, bytes(current)


def _url_value(url: str, base: Path | None, where: str) -> bytes:
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        # Fetching other URLs would let a directory file make network calls.
        raise MalformedInput(f"only file:// URLs may be used as values, not {url!r}", where=where)
    path = Path(unquote(parts.path))
    if not path.is_absolute() and base is not None:
        path = base / path
    try:
        return path.read_bytes()
    except OSError as error:
        raise MalformedInput(
            f"the value's file {str(path)!r} cannot be read: {error.strerror}", where=where
        ) from None


def _parse_line(line: bytes, base: Path | None, where: str) -> tuple[str, bytes]:
    name, colon, rest = line.partition(b":")
    if not colon or not name:
        raise MalformedInput("expected 'attribute: value'", where=where)
    try:
        attribute = name.decode("ascii").strip()
    except UnicodeDecodeError:
        raise MalformedInput("attribute names are ASCII", where=where) from None
    if rest.startswith(b":"):
        try:
            value = pybase64.b64decode(rest[1:].strip(), validate=True)
        except (binascii.Error, ValueError):
            raise MalformedInput(
                f"{attribute}: the base64 value does not decode", where=where
            ) from None
    elif rest.startswith(b"<"):
        value = _url_value(rest[1:].strip().decode("utf-8", "replace"), base, where)
    else:
        value = rest[1:] if rest.startswith(b" ") else rest
        value = value.lstrip(b" ")
    return attribute, value


def read_ldif(data: bytes, *, where: str = "LDIF", base: Path | None = None) -> list[LdifEntry]:
    """The entries of an LDIF file.

    ``base`` resolves relative ``file:`` URLs.  Raises
    :class:`~mailcore.MalformedInput` naming the line for anything that is
    not an RFC 2849 content record.
    """
    entries: list[LdifEntry] = []
    dn: str | None = None
    attributes: dict[str, list[bytes]] = {}

    def finish() -> None:
        nonlocal dn, attributes
        if dn is not None:
            frozen = {key: tuple(values) for key, values in attributes.items()}
            entries.append(LdifEntry(dn, MappingProxyType(frozen)))
        dn, attributes = None, {}

    for number, line in _logical_lines(data):
        place = f"{where}, line {number}"
        if not line.strip():
            finish()
            continue
        attribute, value = _parse_line(line, base, place)
        key = attribute.lower()
        if dn is None:
            if key == "version" and not entries:
                continue
            if key != "dn":
                raise MalformedInput(
                    f"a record must start with 'dn:', not {attribute!r}", where=place
                )
            try:
                dn = value.decode("utf-8")
            except UnicodeDecodeError:
                raise MalformedInput("the DN is not UTF-8", where=place) from None
            continue
        if key in ("changetype", "control"):
            raise MalformedInput("change records are not a directory's content", where=place)
        attributes.setdefault(key, []).append(value)
    finish()
    return entries
