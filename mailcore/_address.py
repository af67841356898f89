"""The first mailbox address of an address field (From, Sender)."""

from __future__ import annotations

import re
from email.utils import getaddresses

__all__ = ["all_addresses", "first_address", "is_simple_address"]

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
