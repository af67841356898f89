"""The protective marking value and its canonical text forms."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, NamedTuple

from mailcore.errors import MarkingSyntaxError
from mailcore.marking._vocab import (
    DLM_RANK,
    GOV_AU,
    PRIVACY_2005,
    SEC_RANK,
    SEC_VALUES,
    Family,
)

__all__ = ["Caveat", "Defect", "Marking"]

# EPMS 2024 §6: a marking is at most 998 ASCII characters; RFC 5322 §2.1.1
# asks for lines of at most 78 characters, so folding starts there.
MAX_MARKING_LENGTH = 998
FOLD_WIDTH = 78
# Fields that take part in equality: all but ``defects``.
_COMPARED = 11

_GEN_DATE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?)?\Z"
)


@dataclass(frozen=True, slots=True)
class Defect:
    """A deviation from the standard found while reading a marking.

    ``code`` is a stable snake_case name (what the JSON reports carry);
    ``detail`` says what was seen and where.  Advisory defects break a
    recommendation rather than the grammar: strict mode does not refuse them.
    """

    code: str
    detail: str
    advisory: bool = False

    def __str__(self) -> str:
        return f"{self.code}: {self.detail}"


class Caveat(NamedTuple):
    """One ``CAVEAT=type:value`` element, e.g. ``Caveat("RI", "AUSTEO")``."""

    type: str
    value: str

    def __str__(self) -> str:
        # An untyped caveat (2011 drafts: CAVEAT=AUSTEO) has no "type:".
        return f"{self.type}:{self.value}" if self.type else self.value


def escape_text(value: str) -> str:
    r"""Escape ``\`` and ``,`` as the grammar requires (EPMS 2024 Table 3)."""
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "," in value:
        value = value.replace(",", "\\,")
    return value


_PRINTABLE = re.compile(r"[ -~]*\Z")
_NOT_PRINTABLE = re.compile(r"[^ -~]")


def _check_printable(parts: list[str]) -> None:
    # Only printable US-ASCII may appear (EPMS 2024 Table 3 safe-char); this
    # also refuses CR and LF, which could otherwise inject header fields.
    for part in parts:
        if _PRINTABLE.match(part) is None:
            bad = _NOT_PRINTABLE.search(part)
            char = bad.group(0) if bad else "?"
            raise MarkingSyntaxError(
                f"{part.split('=', 1)[0]} value {part!r} contains {char!r}; only "
                "printable ASCII is allowed in a protective marking",
                defects=("non_printable",),
            )


class Marking(NamedTuple):
    """An email protective marking (EPMS 2005.6 to 2024.1).

    Values are kept in their canonical spelling.  Markings of a foreign
    namespace keep their values as found: the gov.au vocabulary is never
    applied to them, and they have no :attr:`rank`.  ``defects`` records what
    the lenient parser had to forgive; it does not take part in equality.

    A marking is immutable.  It is a named tuple rather than a dataclass
    because markings are built on every message a gateway reads, and a
    tuple is several times cheaper to build; equality and hashing are
    redefined so that only markings compare equal, defects aside.
    """

    sec: str | None
    dlm: str | None = None
    caveats: tuple[Caveat, ...] = ()
    access: tuple[str, ...] = ()
    expires: str | None = None
    downto: str | None = None
    note: str | None = None
    origin: str | None = None
    version: str | None = None
    namespace: str | None = None
    extras: tuple[tuple[str, str], ...] = ()
    defects: tuple[Defect, ...] = ()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Marking):
            return NotImplemented
        return self[:_COMPARED] == other[:_COMPARED]

    def __ne__(self, other: object) -> bool:
        if not isinstance(other, Marking):
            return NotImplemented
        return self[:_COMPARED] != other[:_COMPARED]

    def __hash__(self) -> int:
        return hash(self[:_COMPARED])

    # -- facts ---------------------------------------------------------------

    @property
    def is_foreign(self) -> bool:
        """True when ``NS`` names a namespace other than gov.au."""
        return self.namespace is not None and self.namespace.casefold() != GOV_AU

    @property
    def rank(self) -> int | None:
        """Position on mailcore's common scale (UNOFFICIAL = 0), or None.

        None means the level cannot be judged: a foreign namespace, an
        unknown value, or no classification at all.
        """
        if self.is_foreign:
            return None
        ranks: list[int] = []
        if self.sec is not None:
            sec_rank = SEC_RANK.get(self.sec)
            if sec_rank is None and ":" in self.sec:
                # Only a 2005.6 level with a known privacy marking
                # (SEC=IN-CONFIDENCE:STAFF); "OFFICIAL:Sensitve" is unknown.
                level, _, privacy = self.sec.partition(":")
                if level in SEC_VALUES[Family.EPMS_2005] and privacy in PRIVACY_2005:
                    sec_rank = SEC_RANK[level]
            if sec_rank is None:
                return None
            ranks.append(sec_rank)
        if self.dlm is not None:
            dlm_rank = DLM_RANK.get(self.dlm)
            if dlm_rank is None:
                return None
            ranks.append(dlm_rank)
        return max(ranks) if ranks else None

    @property
    def expires_at(self) -> datetime | None:
        """EXPIRES as a time if it is a date (midnight UTC if no time).

        EPMS 2024 §2.1 genDate: "if missing the time is assumed to be
        T00:00:00Z"; a time without an offset is read as UTC too.  None when
        EXPIRES is absent or an event description.
        """
        if self.expires is None:
            return None
        match = _GEN_DATE.match(self.expires)
        if match is None:
            return None
        try:
            text = self.expires.replace("Z", "+00:00")
            if "T" not in text:
                text += "T00:00:00+00:00"
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment

    # -- text forms ----------------------------------------------------------

    def medium_form(self) -> str:
        """The subject form without brackets, in canonical order."""
        if not (self.dlm or self.caveats or self.expires or self.downto) and self.sec:
            # The common case: SEC and perhaps ACCESS.
            text = "SEC=" + self.sec
            for access in self.access:
                text += ", ACCESS=" + access
            if _PRINTABLE.match(text) is None:
                _check_printable([text])
            return text
        return ", ".join(self._parts(long_form=False))

    def subject_tag(self) -> str:
        """The subject tag, e.g. ``[SEC=OFFICIAL:Sensitive]``."""
        return "[" + self.medium_form() + "]"

    def header_value(self, *, fold: bool = False, linesep: str = "\r\n") -> str:
        """The ``X-Protective-Marking`` value (long form, canonical order).

        With ``fold``, lines are broken only after ``", "`` (the line ends in
        the comma, the next starts with one space), so that unfolding can
        never split a value (reference note §9 item 1).
        """
        return _header_value(self, fold, linesep)

    def _parts(self, *, long_form: bool, check: bool = True) -> list[str]:
        parts: list[str] = []
        add = parts.append
        if long_form:
            if self.version is not None:
                add("VER=" + self.version)
            if self.namespace is not None:
                add("NS=" + self.namespace)
        if self.sec is not None:
            add("SEC=" + self.sec)
        if self.dlm is not None:
            add("DLM=" + self.dlm)
        for caveat in self.caveats:
            prefix = caveat.type + ":" if caveat.type else ""
            add(f"CAVEAT={prefix}{escape_text(caveat.value)}")
        for access in self.access:
            add("ACCESS=" + access)
        if self.expires is not None:
            add("EXPIRES=" + escape_text(self.expires))
        if self.downto is not None:
            add("DOWNTO=" + self.downto)
        if long_form:
            for key, value in self.extras:
                add(f"{key}={escape_text(value)}")
            if self.note is not None:
                add("NOTE=" + escape_text(self.note))
            if self.origin is not None:
                add("ORIGIN=" + self.origin)
        if check and _PRINTABLE.match("".join(parts)) is None:
            _check_printable(parts)
        return parts

    # -- conversions ---------------------------------------------------------

    def replace(self, **changes: Any) -> Marking:
        """A copy with some fields changed (the marking itself is frozen)."""
        return self._replace(**changes)

    def to_dict(self) -> dict[str, Any]:
        """The marking fields of JSON A (values in canonical spelling)."""
        return {
            "version": self.version,
            "namespace": self.namespace,
            "sec": self.sec,
            "dlm": self.dlm,
            "caveats": [str(caveat) for caveat in self.caveats],
            "access": list(self.access),
            "expires": self.expires,
            "downto": self.downto,
            "note": self.note,
            "origin": self.origin,
        }

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={value!r}"
            for name, value in zip(self._fields, self, strict=True)
            if name == "sec" or value not in (None, ())
        )
        return f"Marking({shown})"

    def __str__(self) -> str:
        # For logs and debugging: never raises, unlike header_value().
        return ", ".join(self._parts(long_form=True, check=False))


# A gateway writes the same few markings (one per sender and level) all day:
# each header value is built and checked once.
@lru_cache(maxsize=512)
def _header_value(marking: Marking, fold: bool, linesep: str) -> str:
    parts = marking._parts(long_form=True)
    text = ", ".join(parts)
    if len(text) > MAX_MARKING_LENGTH:
        raise MarkingSyntaxError(
            f"marking is {len(text)} characters long; EPMS allows at most {MAX_MARKING_LENGTH}",
            defects=("too_long",),
        )
    if not fold:
        return text
    return _fold(parts, linesep, first_line_used=len("X-Protective-Marking: "))


def _fold(parts: list[str], linesep: str, *, first_line_used: int) -> str:
    lines: list[str] = []
    current = ""
    used = first_line_used
    for index, part in enumerate(parts):
        piece = part + ("," if index < len(parts) - 1 else "")
        if current and used + len(current) + 1 + len(piece) > FOLD_WIDTH:
            lines.append(current)
            current = " " + piece
            used = 0
        else:
            current = piece if not current else current + " " + piece
    lines.append(current)
    return linesep.join(lines)
