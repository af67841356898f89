"""Helpers shared by the tests: building messages and cutting them apart.

The cutting helpers are written from RFC 5322 §2.1 and §2.2.3 directly, so
that tests do not check mailcore's header scanner against itself.
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = [
    "build_message",
    "dsa_private_key",
    "field_name",
    "header_fields",
    "split_message",
    "unfold",
]


def build_message(
    *fields: str,
    body: bytes = b"Body text.\r\n",
    linesep: bytes = b"\r\n",
) -> bytes:
    r"""A message from ``"Name: value"`` strings (may contain ``\n`` + WSP folds)."""
    lines = [field.encode("utf-8").replace(b"\n", linesep) for field in fields]
    return b"".join(line + linesep for line in lines) + linesep + body


def split_message(data: bytes) -> tuple[bytes, bytes]:
    """(header block including its last line break, body after the empty line).

    RFC 5322 §2.1: the header section ends at the first empty line.
    """
    position = 0
    while position < len(data):
        end = data.find(b"\n", position)
        if end == -1:
            return data, b""
        line = data[position : end + 1]
        if line in (b"\n", b"\r\n"):
            return data[:position], data[end + 1 :]
        position = end + 1
    return data, b""


def header_fields(header_block: bytes) -> list[bytes]:
    """Each field's raw bytes, continuation lines and line breaks included."""
    fields: list[bytes] = []
    for line in header_block.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and fields:
            fields[-1] += line
        else:
            fields.append(line)
    return fields


def field_name(raw_field: bytes) -> str:
    """The name of a raw field, as written."""
    return raw_field.split(b":", 1)[0].decode("ascii").strip()


def unfold(raw_field: bytes) -> str:
    """RFC 5322 §2.2.3: the field's value with CRLF/LF before WSP removed."""
    value = raw_field.split(b":", 1)[1].decode("utf-8", "surrogateescape")
    value = value.replace("\r\n", "").replace("\n", "")
    return value.strip(" \t")


def dsa_private_key(bits: int = 2048) -> Any:
    """A new DSA private key, for tests of how mailcore refuses DSA.

    cryptography >= 51 deprecates DSA and warns when its module attributes
    are read; the warning is the test's own business here, so it is silenced
    for this one call (mailcore itself never names DSA's classes).
    """
    from cryptography.utils import CryptographyDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        from cryptography.hazmat.primitives.asymmetric import dsa

        return dsa.generate_private_key(bits)
