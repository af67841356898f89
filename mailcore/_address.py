"""The first mailbox address of an address field (From, Sender)."""

from __future__ import annotations

import re
from email.utils import getaddresses

__all__ = ["first_address", "is_simple_address"]

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
