"""Direction by the envelope sender's domain."""

from __future__ import annotations

import pytest

from mailcore.serve import choose_direction, is_internal

DOMAINS = ("agency.gov.au", ".cabinet.gov.au")


@pytest.mark.parametrize(
    ("sender", "internal"),
    [
        ("jo@agency.gov.au", True),
        ("Jo@AGENCY.Gov.Au", True),  # RFC 5321 §2.4: domains are case-insensitive
        ("jo@sub.agency.gov.au", False),  # no leading dot: that domain only
        ("sam@cabinet.gov.au", False),  # leading dot: subdomains only (Postfix)
        ("sam@pm.cabinet.gov.au", True),
        ("jo@agency.gov.au.evil.example", False),
        ("jo@notagency.gov.au", False),
        ("", False),  # the null sender of a bounce
        ("no-domain", False),
    ],
)
def test_is_internal(sender: str, internal: bool) -> None:
    assert is_internal(sender, DOMAINS) is internal


def test_choose_direction() -> None:
    assert choose_direction("auto", "jo@agency.gov.au", DOMAINS) == "outbound"
    assert choose_direction("auto", "x@partner.example", DOMAINS) == "inbound"
    assert choose_direction("auto", "", DOMAINS) == "inbound"
    assert choose_direction("outbound", "x@partner.example", DOMAINS) == "outbound"
    assert choose_direction("inbound", "jo@agency.gov.au", DOMAINS) == "inbound"
