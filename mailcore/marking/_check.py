"""The gateway check: is a message marked at or below a level?"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mailcore._message import MessageInput
from mailcore.errors import MarkingSyntaxError
from mailcore.marking._list import MarkingsList
from mailcore.marking._parse import parse_subject_tag
from mailcore.marking._read import MessageMarking, read_marking
from mailcore.marking._vocab import SEC_BY_FOLD, SEC_RANK

__all__ = ["CheckResult", "check_marking", "level_rank"]

Reason = Literal["above_maximum", "unmarked", "unreadable", "truncated", "unknown_level"]


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Whether a message passed the check, and why not."""

    passed: bool
    reason: Reason | None
    level: str | None
    maximum: str
    marking: MessageMarking

    def to_dict(self) -> dict[str, Any]:
        """``{"passed", "reason", "level", "max", "marking": JSON A}``."""
        return {
            "passed": self.passed,
            "reason": self.reason,
            "level": self.level,
            "max": self.maximum,
            "marking": self.marking.to_dict(),
        }


def level_rank(level: str, markings: MarkingsList | None = None) -> int:
    """The rank of a level given as a SEC value, display value or marking.

    Levels of every EPMS version are accepted (``PROTECTED``,
    ``OFFICIAL:Sensitive``, ``UNCLASSIFIED``) so that a gateway can state
    one maximum for mail of all versions.
    """
    text = level.strip()
    if text in SEC_RANK:
        return SEC_RANK[text]
    canonical = SEC_BY_FOLD.get(text.casefold())
    if canonical is not None:
        return SEC_RANK[canonical]
    if markings is not None:
        entry = markings.find(text)
        if entry is not None and entry.marking.rank is not None:
            return entry.marking.rank
    try:
        rank = parse_subject_tag(text).rank
    except MarkingSyntaxError:
        rank = None
    if rank is None:
        raise MarkingSyntaxError(f"{level!r} is not a classification level", where="--max")
    return rank


def check_marking(
    message: MessageInput,
    maximum: str,
    *,
    markings: MarkingsList | None = None,
    allow_unmarked: bool = False,
) -> CheckResult:
    """Check a message's marking against a maximum level (ISM-0565).

    The decision uses the highest of every marking seen (several header
    fields, header and subject).  Unmarked and unreadable messages fail
    unless ``allow_unmarked`` (which admits only genuinely unmarked mail).
    """
    limit = level_rank(maximum, markings)
    read = read_marking(message)
    shown = None if read.marking is None else read.marking.medium_form()
    if not read.marked:
        return CheckResult(
            allow_unmarked, None if allow_unmarked else "unmarked", None, maximum, read
        )
    if any(s.truncated for s in read.subject_markings):
        return CheckResult(False, "truncated", shown, maximum, read)
    if not read.readable:
        return CheckResult(False, "unreadable", shown, maximum, read)
    rank = read.rank
    if rank is None:
        return CheckResult(False, "unknown_level", shown, maximum, read)
    if rank > limit:
        return CheckResult(False, "above_maximum", shown, maximum, read)
    return CheckResult(True, None, shown, maximum, read)
