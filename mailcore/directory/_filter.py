"""LDAP search filters built from untrusted addresses (RFC 4515).

Every address passes through :func:`escape_filter_value` before it enters a
filter: RFC 4515 §3 requires ``*``, ``(``, ``)``, ``\\`` and NUL in an
assertion value to be written as ``\\XX`` hex escapes.  Without that, an
address such as ``*@example.com`` would be a substring filter that matches
everybody in the domain.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FilterTemplate", "escape_filter_value"]

# RFC 4515 §3: "The <valueencoding> rule ensures that the entire filter
# string is a valid UTF-8 string and provides that the octets that represent
# the ASCII characters "*" (ASCII 0x2a), "(" (ASCII 0x28), ")" (ASCII 0x29),
# "\" (ASCII 0x5c), and NUL (ASCII 0x00) are represented as a backslash
# followed by the two hexadecimal digits".
_SPECIAL = {ord("*"): r"\2a", ord("("): r"\28", ord(")"): r"\29", ord("\\"): r"\5c", 0: r"\00"}

_ASSERTION = re.compile(r"\(([A-Za-z][A-Za-z0-9;.-]*)=([^()*\\]*)\{address\}\)")


def escape_filter_value(value: str) -> str:
    """``value`` as an RFC 4515 assertion value (special characters hex-escaped)."""
    return value.translate(_SPECIAL)


@dataclass(frozen=True, slots=True)
class FilterTemplate:
    """A filter such as ``(mail={address})`` and how to read its answers.

    ``attribute`` and ``prefix`` come from the template's equality test on
    ``{address}`` (``proxyAddresses`` and ``smtp:`` for AD's form); a batched
    search's entries are mapped back to the addresses through that attribute.
    """

    template: str
    attribute: str
    prefix: str

    @classmethod
    def parse(cls, template: str) -> FilterTemplate:
        match = _ASSERTION.search(template)
        if match is None or template.count("{address}") != 1:
            raise ValueError(
                f"filter template {template!r} needs one '(attribute={{address}})' test"
            )
        return cls(template, match.group(1), match.group(2))

    def for_address(self, address: str) -> str:
        """The filter for one address (escaped)."""
        return self.template.replace("{address}", escape_filter_value(address))

    def for_addresses(self, addresses: Sequence[str]) -> str:
        """One filter matching any of ``addresses``: an RFC 4515 OR (``|``)."""
        if len(addresses) == 1:
            return self.for_address(addresses[0])
        return "(|" + "".join(self.for_address(address) for address in addresses) + ")"

    def address_of(self, value: str) -> str | None:
        """The address an attribute value stands for (prefix removed), lowercased."""
        if self.prefix:
            if not value[: len(self.prefix)].lower() == self.prefix.lower():
                return None
            value = value[len(self.prefix) :]
        return value.strip().lower()
