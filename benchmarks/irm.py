"""IRM benchmarks (issue 5).

License parsing (lenient, the reading a gateway does; every problem
collected) against ``xml.etree.ElementTree.fromstring`` of the same
document: the peer only builds a tree, it checks nothing and does not read
a single value.  The gateway decision (may this be forwarded?) on a parsed
license against the same question asked of an ElementTree element with
``findtext``.  Goals from the issue: 20,000 licenses/s and 500,000
decisions/s.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from benchmarks._harness import Benchmark, Goal
from mailcore.irm import parse_license

__all__ = ["BENCHMARKS"]

_DNF = "cf5cf348-a8d7-40d5-91ef-a600b88a395d"
_NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _license(owner: str, forward: int, expiry: str) -> bytes:
    # The shape Exchange sends in a Sync response (MS-ASRM §2.2.2.14).
    return (
        '<airsync:ApplicationData xmlns:airsync="AirSync" xmlns:rm="RightsManagement">\n'
        "  <rm:RightsManagementLicense>\n"
        "    <rm:EditAllowed>1</rm:EditAllowed>\n"
        "    <rm:ReplyAllowed>1</rm:ReplyAllowed>\n"
        "    <rm:ReplyAllAllowed>1</rm:ReplyAllAllowed>\n"
        f"    <rm:ForwardAllowed>{forward}</rm:ForwardAllowed>\n"
        f"    <rm:ModifyRecipientsAllowed>{forward}</rm:ModifyRecipientsAllowed>\n"
        "    <rm:ExtractAllowed>0</rm:ExtractAllowed>\n"
        "    <rm:PrintAllowed>0</rm:PrintAllowed>\n"
        "    <rm:ExportAllowed>0</rm:ExportAllowed>\n"
        "    <rm:ProgrammaticAccessAllowed>1</rm:ProgrammaticAccessAllowed>\n"
        "    <rm:Owner>0</rm:Owner>\n"
        f"    <rm:ContentExpiryDate>{expiry}</rm:ContentExpiryDate>\n"
        f"    <rm:TemplateID>{_DNF}</rm:TemplateID>\n"
        "    <rm:TemplateName>Do Not Forward</rm:TemplateName>\n"
        "    <rm:TemplateDescription>Recipients can read this message, but they can't forward, "
        "print, or copy content. The conversation owner has full permission to their message "
        "and all replies.</rm:TemplateDescription>\n"
        f"    <rm:ContentOwner>{owner}</rm:ContentOwner>\n"
        "  </rm:RightsManagementLicense>\n"
        "</airsync:ApplicationData>\n"
    ).encode()


# Different owners, flags and expiries, so that nothing is served from a cache.
_DOCUMENTS = [
    _license(
        f"user{n}@contoso.com",
        n % 2,
        "9999-12-30T23:59:59.999Z" if n % 3 else f"2027-0{1 + n % 9}-15T08:30:00.000Z",
    )
    for n in range(64)
]
_LICENSES = [parse_license(document) for document in _DOCUMENTS]
_TREES = [ET.fromstring(document) for document in _DOCUMENTS]
_FORWARD = "{RightsManagement}RightsManagementLicense/{RightsManagement}ForwardAllowed"

_documents = itertools.cycle(_DOCUMENTS)
_peer_documents = itertools.cycle(_DOCUMENTS)
_licenses = itertools.cycle(_LICENSES)
_trees = itertools.cycle(_TREES)


def _parse() -> object:
    return parse_license(next(_documents), strict=False)


def _peer_parse() -> object:
    return ET.fromstring(next(_peer_documents))


def _decide() -> bool:
    return next(_licenses).decide("forward", now=_NOW).allowed


def _peer_decide() -> bool:
    return next(_trees).findtext(_FORWARD) == "1"


BENCHMARKS = [
    Benchmark(
        "irm license parse",
        "read and validate an MS-ASRM license (lenient, every rule checked)",
        _parse,
        "ElementTree.fromstring",
        _peer_parse,
        Goal(rate=20_000),
    ),
    Benchmark(
        "irm gateway decision",
        "may a parsed license's message be forwarded, with a reason (expiry checked)",
        _decide,
        "ElementTree findtext",
        _peer_decide,
        Goal(rate=500_000),
    ),
]
