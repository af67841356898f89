"""The administrator's markings list (``[classification] markings``).

Mobile-mail consoles take the list as ``display,value;`` pairs, e.g.::

    UNOFFICIAL,SEC=UNOFFICIAL;PROTECTED+Sensitive:Legal,SEC=PROTECTED DLM=Sensitive:Legal;

Each entry is split on its *first* comma (display texts contain ``+`` and
``:`` but a comma would be ambiguous); the value's fields may be joined by a
comma or by white space and are re-joined canonically with ``", "``.  Every
value is checked with the strict parser against the configured version when
the policy is loaded, and an error names the entry.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from mailcore.errors import MarkingListError, MarkingSyntaxError
from mailcore.marking._model import Marking
from mailcore.marking._parse import parse_subject_tag
from mailcore.marking._vocab import Family, family_for_version

__all__ = ["ListedMarking", "MarkingsList", "default_markings", "parse_markings_list"]

# A run of commas/white space that comes before the next marking tag
# (TAG= or the vendor typo TAG:).  Escapes are hidden first, so an escaped
# comma never separates and "\\," (an escaped backslash, then a comma) does.
_VALUE_SEPARATOR = re.compile(
    r"[,\s]+(?=(?:VER|NS|SEC|DLM|CAVEAT|ACCESS|EXPIRES|DOWNTO|NOTE|ORIGIN)[ \t]*[=:])",
    re.IGNORECASE,
)
_ESCAPES = {"\\\\": "\ue000", "\\,": "\ue001"}

_DEFAULTS: dict[Family, str] = {
    Family.EPMS_2018: (
        "UNOFFICIAL,SEC=UNOFFICIAL;"
        "OFFICIAL,SEC=OFFICIAL;"
        "OFFICIAL:Sensitive,SEC=OFFICIAL:Sensitive;"
        "OFFICIAL:Sensitive Personal Privacy,"
        "SEC=OFFICIAL:Sensitive ACCESS=Personal-Privacy;"
        "OFFICIAL:Sensitive Legal Privilege,"
        "SEC=OFFICIAL:Sensitive ACCESS=Legal-Privilege;"
        "OFFICIAL:Sensitive Legislative Secrecy,"
        "SEC=OFFICIAL:Sensitive ACCESS=Legislative-Secrecy;"
        "PROTECTED,SEC=PROTECTED;"
        "PROTECTED Personal Privacy,SEC=PROTECTED ACCESS=Personal-Privacy;"
        "PROTECTED Legal Privilege,SEC=PROTECTED ACCESS=Legal-Privilege;"
        "PROTECTED Legislative Secrecy,SEC=PROTECTED ACCESS=Legislative-Secrecy;"
        "PROTECTED CABINET,SEC=PROTECTED CAVEAT=SH:CABINET;"
    ),
    Family.EPMS_2012: (
        "UNOFFICIAL,SEC=UNOFFICIAL;"
        "UNCLASSIFIED,SEC=UNCLASSIFIED;"
        "For-Official-Use-Only,DLM=For-Official-Use-Only;"
        "Sensitive,DLM=Sensitive;"
        "Sensitive:Personal,DLM=Sensitive:Personal;"
        "Sensitive:Legal,DLM=Sensitive:Legal;"
        "PROTECTED,SEC=PROTECTED;"
        "PROTECTED+Sensitive,SEC=PROTECTED DLM=Sensitive;"
        "PROTECTED+Sensitive:Personal,SEC=PROTECTED DLM=Sensitive:Personal;"
        "PROTECTED+Sensitive:Legal,SEC=PROTECTED DLM=Sensitive:Legal;"
        "PROTECTED+Sensitive:Cabinet,SEC=PROTECTED DLM=Sensitive:Cabinet;"
    ),
    Family.EPMS_2005: (
        "UNCLASSIFIED,SEC=UNCLASSIFIED;IN-CONFIDENCE,SEC=IN-CONFIDENCE;PROTECTED,SEC=PROTECTED;"
    ),
}


@dataclass(frozen=True, slots=True)
class ListedMarking:
    """One entry of the list: what users see and the marking it stands for."""

    display: str
    marking: Marking

    @property
    def value(self) -> str:
        """The entry's value in canonical form (the subject medium form)."""
        return self.marking.medium_form()


@dataclass(frozen=True, slots=True)
class MarkingsList:
    """The markings a policy offers, in the administrator's order."""

    version: str
    entries: tuple[ListedMarking, ...]

    def __iter__(self) -> Iterator[ListedMarking]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def find(self, text: str) -> ListedMarking | None:
        """The entry whose display (or canonical value) is ``text``.

        An exact display match wins over a case-insensitive one.
        """
        stripped = text.strip()
        for entry in self.entries:
            if entry.display == stripped:
                return entry
        folded = stripped.casefold()
        for entry in self.entries:
            if entry.display.casefold() == folded:
                return entry
        try:
            wanted = parse_value(stripped, self.version)
        except MarkingSyntaxError:
            return None
        for entry in self.entries:
            if entry.marking == wanted:
                return entry
        return None

    @property
    def highest_rank(self) -> int:
        """The highest level the list offers (ISM-0272: offer no higher)."""
        return max((e.marking.rank or 0 for e in self.entries), default=0)


def normalise_value(value: str) -> str:
    """Re-join a vendor-written value canonically: fields joined by ``", "``."""
    value = value.strip()
    if value.startswith("[") and value.endswith("]"):
        value = value[1:-1].strip()
    for escape, stand_in in _ESCAPES.items():
        value = value.replace(escape, stand_in)
    text = ", ".join(part for part in _VALUE_SEPARATOR.split(value) if part)
    for escape, stand_in in _ESCAPES.items():
        text = text.replace(stand_in, escape)
    return text


def parse_value(value: str, version: str) -> Marking:
    """Parse a marking value (medium form, any separators) strictly."""
    return parse_subject_tag(normalise_value(value), strict=True, version=version)


def parse_markings_list(text: str, *, version: str) -> MarkingsList:
    """Parse and validate a ``display,value;`` list for EPMS ``version``.

    Empty entries (stray ``;``), surrounding white space and line breaks are
    ignored.  Raises :class:`~mailcore.MarkingListError` naming the entry for
    a missing value, an invalid value, or a display listed twice.
    """
    entries: list[ListedMarking] = []
    displays: set[str] = set()
    for number, raw in enumerate(text.split(";"), start=1):
        entry = raw.strip()
        if not entry:
            continue
        display, comma, value = entry.partition(",")
        display = display.strip()
        where = f"markings entry {number} ({entry[:60]!r})"
        if not comma or not value.strip():
            raise MarkingListError(
                "has no value; write 'display,value' (e.g. 'PROTECTED,SEC=PROTECTED')",
                key="classification.markings",
                where=where,
            )
        if not display:
            raise MarkingListError(
                "has an empty display text", key="classification.markings", where=where
            )
        if display.casefold() in displays:
            raise MarkingListError(
                f"display {display!r} is listed twice",
                key="classification.markings",
                where=where,
            )
        try:
            marking = parse_value(value, version)
        except MarkingSyntaxError as error:
            raise MarkingListError(
                f"value {value.strip()!r} is not a valid EPMS {version} marking: {error.detail}",
                key="classification.markings",
                where=where,
            ) from None
        displays.add(display.casefold())
        entries.append(ListedMarking(display, marking))
    if not entries:
        raise MarkingListError("the markings list is empty", key="classification.markings")
    return MarkingsList(version, tuple(entries))


@lru_cache(maxsize=16)
def default_markings(version: str) -> MarkingsList:
    """The list used when a policy sets no ``markings`` for ``version``."""
    family = family_for_version(version) or Family.EPMS_2018
    return parse_markings_list(_DEFAULTS[family], version=version)
