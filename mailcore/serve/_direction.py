"""Which pipeline a message goes through: outbound (ours, leaving) or inbound."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

__all__ = ["Direction", "choose_direction", "is_internal"]

Direction = Literal["outbound", "inbound"]


def is_internal(address: str, domains: Iterable[str]) -> bool:
    """Whether ``address``'s domain is one of ``domains``.

    ``example.org`` matches that domain only; ``.example.org`` matches its
    subdomains (Postfix's notation).  Case does not matter (RFC 5321 §2.4:
    domains are case-insensitive).  The null sender ``<>`` is never internal.
    """
    _, at, domain = address.rpartition("@")
    if not at or not domain:
        return False
    domain = domain.rstrip(">").lower()
    for entry in domains:
        entry = entry.lower()
        if entry.startswith(".") and domain.endswith(entry):
            return True
        if domain == entry:
            return True
    return False


def choose_direction(
    setting: Literal["auto", "outbound", "inbound"],
    sender: str,
    internal_domains: Iterable[str],
) -> Direction:
    """The direction for one message per ``[serve] direction``.

    ``auto``: outbound when the envelope sender is internal, else inbound.
    A bounce (null sender) from our own MTA is therefore inbound: it is
    passed through opened, never refused for want of a signing key.
    """
    if setting != "auto":
        return setting
    return "outbound" if is_internal(sender, internal_domains) else "inbound"
