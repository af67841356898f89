"""Vocabularies, rank orders and version families of the EPMS standards.

The Australian Government Email Protective Marking Standard (EPMS) has four
families that still occur in mail: 2005.6, 2012.3 (SEC + DLM), 2018.x and
2024.1 (the same vocabulary as 2018.4).  Each family has its own values; the
ranks below put all of them on one scale so that a gateway can compare a
legacy marking with a current one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

__all__ = [
    "ACCESS_VALUES",
    "DLM_RANK",
    "SEC_RANK",
    "Family",
    "family_for_version",
]


class Family(Enum):
    """A family of EPMS versions sharing one vocabulary."""

    EPMS_2005 = "2005"
    EPMS_2012 = "2012"
    EPMS_2018 = "2018"  # 2018.x, 2024.1 and later: one vocabulary


# One scale for every family.  Legacy values sit where the PSPF 2018
# transition put them: UNCLASSIFIED ~ OFFICIAL, a DLM ~ OFFICIAL:Sensitive,
# CONFIDENTIAL between PROTECTED and SECRET ("protect as SECRET").
SEC_RANK: dict[str, int] = {
    "UNOFFICIAL": 0,
    "UNCLASSIFIED": 10,
    "OFFICIAL": 10,
    "IN-CONFIDENCE": 20,
    "OFFICIAL:Sensitive": 20,
    "RESTRICTED": 25,
    "PROTECTED": 30,
    "HIGHLY-PROTECTED": 35,
    "CONFIDENTIAL": 38,
    "SECRET": 40,
    "TOP-SECRET": 50,
}

# 2012.3 dissemination limiting markers; Sensitive:Cabinet was protected as
# PROTECTED (PSPF 2012), the others sit just above UNCLASSIFIED.
DLM_RANK: dict[str, int] = {
    "For-Official-Use-Only": 15,
    "Sensitive": 20,
    "Sensitive:Personal": 20,
    "Sensitive:Legal": 20,
    "Sensitive:Cabinet": 30,
}

ACCESS_VALUES: tuple[str, ...] = (
    "Personal-Privacy",
    "Legal-Privilege",
    "Legislative-Secrecy",
)

SEC_VALUES: dict[Family, tuple[str, ...]] = {
    Family.EPMS_2005: (
        "UNCLASSIFIED",
        "IN-CONFIDENCE",
        "RESTRICTED",
        "PROTECTED",
        "HIGHLY-PROTECTED",
        "CONFIDENTIAL",
        "SECRET",
        "TOP-SECRET",
    ),
    Family.EPMS_2012: (
        "UNOFFICIAL",
        "UNCLASSIFIED",
        "PROTECTED",
        "CONFIDENTIAL",
        "SECRET",
        "TOP-SECRET",
    ),
    Family.EPMS_2018: (
        "UNOFFICIAL",
        "OFFICIAL",
        "OFFICIAL:Sensitive",
        "PROTECTED",
        "SECRET",
        "TOP-SECRET",
    ),
}

# 2005.6 privacy markings, written after the level: SEC=IN-CONFIDENCE:STAFF.
PRIVACY_2005: frozenset[str] = frozenset(
    {
        "AUDIT",
        "CLIENT",
        "COMMERCIAL",
        "HONOURS",
        "INTELLIGENCE",
        "LEGAL",
        "MEDICAL",
        "PERSONNEL",
        "PSYCHOLOGY",
        "SECURITY",
        "STAFF",
    }
)

CAVEAT_TYPES: dict[Family, frozenset[str]] = {
    Family.EPMS_2005: frozenset(),
    # 2012.3 §2.11.5: C, SC (source codeword), RI, SH.
    Family.EPMS_2012: frozenset({"C", "SC", "RI", "SH"}),
    # 2024 Table 7: C, FG, RI, SH.
    Family.EPMS_2018: frozenset({"C", "FG", "RI", "SH"}),
}

# Special-handling values with no free text (2024 Table 7).  2012.3's list
# is only partly known; the 2024 values are accepted there too rather than
# rejecting mail we cannot prove wrong.
SH_VALUES: tuple[str, ...] = (
    "NATIONAL-CABINET",
    "CABINET",
    "ORCON",
    "DELICATE-SOURCE",
    "ACCOUNTABLE-MATERIAL",
)
SH_EXCLUSIVE_FOR = "EXCLUSIVE-FOR"
RI_VALUES: tuple[str, ...] = ("AUSTEO", "AGAO")

# Every tag the grammar knows, in canonical (ABNF) order.
TAG_ORDER: dict[str, int] = {
    "VER": 0,
    "NS": 1,
    "SEC": 2,
    "DLM": 3,
    "CAVEAT": 4,
    "ACCESS": 5,
    "EXPIRES": 6,
    "DOWNTO": 7,
    "NOTE": 8,
    "ORIGIN": 9,
}
LONG_FORM_ONLY: frozenset[str] = frozenset({"VER", "NS", "NOTE", "ORIGIN"})

GOV_AU = "gov.au"

_VERSION = re.compile(r"([0-9]{4})\.([0-9]+)\Z")


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """A parsed ``VER`` value."""

    year: int
    minor: int

    @property
    def family(self) -> Family:
        """The vocabulary family this version belongs to."""
        if self.year >= 2018:
            return Family.EPMS_2018
        if self.year >= 2012:
            return Family.EPMS_2012
        return Family.EPMS_2005

    @property
    def access_before_caveat(self) -> bool:
        """2018.1 and 2018.2 wrote ACCESS before CAVEAT (Janusnet)."""
        return self.year == 2018 and self.minor <= 2


@lru_cache(maxsize=256)
def parse_version(value: str) -> VersionInfo | None:
    """Parse ``YYYY.N``; any year is accepted (never reject an unknown one)."""
    match = _VERSION.match(value)
    if match is None:
        return None
    return VersionInfo(int(match.group(1)), int(match.group(2)))


def family_for_version(value: str | None) -> Family | None:
    """The vocabulary family of a ``VER`` value, or None if it is not one."""
    if value is None:
        return None
    info = parse_version(value)
    return None if info is None else info.family


def _folded(values: tuple[str, ...] | frozenset[str]) -> dict[str, str]:
    return {value.casefold(): value for value in values}


# Case-insensitive lookups used by the lenient parser.
SEC_BY_FOLD: dict[str, str] = _folded(tuple(SEC_RANK))
DLM_BY_FOLD: dict[str, str] = _folded(tuple(DLM_RANK))
ACCESS_BY_FOLD: dict[str, str] = _folded(ACCESS_VALUES)
SH_BY_FOLD: dict[str, str] = _folded(SH_VALUES)
RI_BY_FOLD: dict[str, str] = _folded(RI_VALUES)
TAG_BY_FOLD: dict[str, str] = _folded(tuple(TAG_ORDER))
