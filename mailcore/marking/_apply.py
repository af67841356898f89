"""Marking outgoing messages, replies and forwards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from mailcore._address import first_address, is_simple_address
from mailcore._message import MessageInput, RawMessage, encode_field
from mailcore.errors import (
    MalformedMessage,
    MarkingDowngrade,
    MarkingError,
    MarkingNotOffered,
    MarkingSyntaxError,
)
from mailcore.marking._list import MarkingsList, parse_value
from mailcore.marking._model import Caveat, Marking
from mailcore.marking._parse import parse_header, parse_subject_tag
from mailcore.marking._read import MessageMarking, read_marking
from mailcore.marking._subject import fold_subject, rewrite_subject
from mailcore.marking._vocab import SEC_RANK, SEC_VALUES, Family, family_for_version
from mailcore.policy import ClassificationPolicy, Policy

__all__ = [
    "MarkedMessage",
    "apply_marking",
    "combine_markings",
    "convert_marking",
    "resolve_marking",
]

HEADER = "X-Protective-Marking"

# PSPF 2018 transition (reference note §4.4): what a 2012.3 DLM becomes.
_DLM_TO_ACCESS = {
    "Sensitive:Personal": "Personal-Privacy",
    "Sensitive:Legal": "Legal-Privilege",
}
_ACCESS_TO_DLM = {value: key for key, value in _DLM_TO_ACCESS.items()}


@dataclass(frozen=True, slots=True)
class MarkedMessage:
    """The result of :func:`apply_marking`."""

    message: bytes
    marking: Marking
    inherited: Marking | None
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A summary: the marking written and what it came from."""
        return {
            "marking": self.marking.header_value(),
            "subject_tag": self.marking.subject_tag(),
            "inherited": None if self.inherited is None else self.inherited.medium_form(),
            "warnings": list(self.warnings),
        }


def _level_for_rank(rank: int, family: Family) -> str:
    """The lowest level of ``family`` that protects at least ``rank``."""
    for value in SEC_VALUES[family]:
        if SEC_RANK[value] >= rank:
            return value
    return SEC_VALUES[family][-1]


def convert_marking(marking: Marking, version: str) -> Marking:
    """Carry a marking into the vocabulary of EPMS ``version``.

    Legacy levels move up to the nearest level that protects at least as
    much (UNCLASSIFIED -> OFFICIAL, a DLM -> OFFICIAL:Sensitive, CONFIDENTIAL
    -> SECRET), 2012.3 DLMs become ACCESS markers or the CABINET caveat, and
    the reverse for a 2012.3 policy.  Foreign markings cannot be converted.
    """
    target = family_for_version(version) or Family.EPMS_2018
    rank = marking.rank
    if rank is None:
        raise MarkingError(
            f"the marking {marking.medium_form()!r} cannot be carried into "
            f"EPMS {version}: its level is unknown"
        )
    source_ok = marking.sec is None or marking.sec in SEC_VALUES[target]
    if (
        source_ok
        and (marking.dlm is None or target is Family.EPMS_2012)
        and (not marking.access or target is Family.EPMS_2018)
    ):
        return marking
    caveats = list(marking.caveats)
    access = list(marking.access)
    if target is Family.EPMS_2018:
        if marking.dlm in _DLM_TO_ACCESS:
            access.append(_DLM_TO_ACCESS[marking.dlm])
        if marking.dlm == "Sensitive:Cabinet":
            caveats.append(Caveat("SH", "CABINET"))
        caveats = [Caveat("C", c.value) if c.type == "SC" else c for c in caveats]
        return marking.replace(
            sec=_level_for_rank(rank, target),
            dlm=None,
            caveats=tuple(dict.fromkeys(caveats)),
            access=tuple(dict.fromkeys(access)),
            downto=None
            if marking.downto is None
            else _level_for_rank(SEC_RANK.get(marking.downto, 0), target),
        )
    # Into 2012.3 (or 2005.6): levels between the listed ones take a DLM.
    sec = _level_for_rank(rank, target)
    dlm = marking.dlm
    if target is Family.EPMS_2012 and SEC_RANK[sec] > rank and rank > 10 and rank < 30:
        sec = "UNCLASSIFIED"
        dlm = "Sensitive"
    if target is Family.EPMS_2012 and access:
        dlm = _ACCESS_TO_DLM.get(access[0], "Sensitive")
    return marking.replace(sec=sec, dlm=dlm, access=())


def combine_markings(markings: Sequence[Marking]) -> Marking:
    """One marking for several inputs (ISM-0270: the highest wins).

    SEC is the highest, CAVEAT and ACCESS the union; EXPIRES/DOWNTO survive
    only if every input has the same (an aggregate is never downgraded
    automatically); ORIGIN and NOTE only if every input has the same.
    """
    if not markings:
        raise ValueError("combine_markings needs at least one marking")
    highest = max(markings, key=lambda m: m.rank if m.rank is not None else -1)
    caveats: dict[Caveat, None] = {}
    access: dict[str, None] = {}
    for marking in markings:
        caveats.update(dict.fromkeys(marking.caveats))
        access.update(dict.fromkeys(marking.access))
    expiry = {(m.expires, m.downto) for m in markings}
    expires, downto = expiry.pop() if len(expiry) == 1 else (None, None)
    origins = {m.origin for m in markings if m.origin}
    notes = {m.note for m in markings if m.note}
    dlms = {m.dlm for m in markings if m.dlm is not None}
    return highest.replace(
        dlm=highest.dlm
        if len(dlms) <= 1
        else max(dlms, key=lambda d: (d == "Sensitive:Cabinet", d)),
        caveats=tuple(caveats),
        access=tuple(access),
        expires=expires,
        downto=downto,
        origin=origins.pop() if len(origins) == 1 else None,
        note=notes.pop() if len(notes) == 1 else None,
        defects=(),
    )


_LONG_FORM_GAPS = frozenset({"missing_version", "missing_namespace", "missing_origin"})


def resolve_marking(text: str, markings: MarkingsList) -> Marking:
    """A marking from a display value of the list or a marking value.

    A marking value may be a bare level (``PROTECTED``), the subject form
    (``SEC=PROTECTED, CAVEAT=SH:CABINET``) or the header long form (VER, NS
    and ORIGIN are then replaced by the policy's and the author's; NOTE is
    kept).  A value not in the list is accepted if it is valid for the list's
    version and not above the highest level the list offers (ISM-0272).
    """
    entry = markings.find(text)
    if entry is not None:
        return entry.marking
    candidate = text.strip()
    if candidate in SEC_RANK:
        candidate = "SEC=" + candidate
    marking: Marking | None
    try:
        marking = parse_value(candidate, markings.version)
    except MarkingSyntaxError as error:
        marking = _long_form(candidate, markings.version)
        if marking is None:
            raise MarkingSyntaxError(
                f"{text!r} is neither a display value of the markings list "
                f"({', '.join(repr(e.display) for e in markings.entries[:6])}"
                f"{', ...' if len(markings) > 6 else ''}) nor a valid EPMS "
                f"{markings.version} marking: {error.detail}",
                defects=error.defects,
                where="--marking",
            ) from None
    if (marking.rank or 0) > markings.highest_rank:
        raise MarkingNotOffered(
            f"{marking.medium_form()!r} is above the highest marking the policy offers"
        )
    return marking


def _long_form(text: str, version: str) -> Marking | None:
    """A header long form given as a marking value, or None."""
    try:
        marking = parse_header(text, strict=False)
    except MarkingSyntaxError:
        return None
    if any(d.code not in _LONG_FORM_GAPS for d in marking.defects if not d.advisory):
        return None
    marking = marking.replace(version=None, namespace=None, origin=None, defects=())
    try:
        parse_subject_tag(marking.medium_form(), strict=True, version=version)
    except MarkingSyntaxError:
        return None
    return marking


def _author(raw: RawMessage) -> str:
    value = raw.first("From")
    if not value:
        raise MalformedMessage(
            "the message has no From field, so there is no author for ORIGIN",
            where="From",
        )
    address = first_address(value)
    if address is None or not is_simple_address(address):
        raise MalformedMessage(
            f"{value!r} has no plain address to use as ORIGIN (EPMS simple-email)",
            where="From",
        )
    return address


def _inherit(
    sources: Sequence[tuple[str, MessageMarking]], version: str
) -> tuple[Marking | None, list[str]]:
    """Everything the sources are marked with, combined and converted.

    Every marking of every source counts (several header fields, header and
    subject), so no caveat or ACCESS marker is lost (ISM-0270).
    """
    found: list[Marking] = []
    unknown: list[str] = []
    for label, read in sources:
        if not read.marked:
            continue
        if read.rank is None or read.marking is None:
            unknown.append(f"{label}: its marking cannot be judged")
            continue
        found.extend(convert_marking(marking, version) for marking in read.all_markings)
    return (combine_markings(found) if found else None), unknown


def _is_downgrade(requested: Marking, inherited: Marking) -> bool:
    return (requested.rank or 0) < (inherited.rank or 0)


def apply_marking(
    message: MessageInput | RawMessage,
    marking: str | Marking | None = None,
    *,
    policy: Policy | ClassificationPolicy | None = None,
    originals: Sequence[MessageInput] = (),
    origin: str | None = None,
) -> MarkedMessage:
    """Mark an outgoing message: one header field and one subject tag.

    ``marking`` is a display value from the policy's list, a marking value,
    a :class:`Marking`, or None for the default: the originals' marking on a
    reply/forward (``originals``), kept at least as high as the message's own
    marking, else the policy default.  A marking lower than the originals' is
    refused, warned about or allowed per the policy's ``downgrade``; one
    lower than the message's own marking is applied with a warning.  Every
    other byte of the message stays as it was.
    """
    settings = _classification(policy)
    raw = message if isinstance(message, RawMessage) else RawMessage(message)
    # One scan of the header answers every question below (the reading,
    # the author, the rewrite) and the caller's usual next one (From).
    raw.find_many(HEADER, "Subject", "Thread-Topic", "From")
    version = settings.version
    warnings: list[str] = []
    inherited, unknown = _inherit(
        [
            (f"original {index}", read_marking(original))
            for index, original in enumerate(originals, start=1)
        ],
        version,
    )
    if unknown:
        text = "; ".join(unknown)
        if settings.downgrade == "reject":
            raise MarkingError(f"{text}; refusing to risk a downgrade")
        warnings.append(text)
    own = read_marking(raw)

    # A marking taken straight from the policy list was validated when the
    # policy was loaded; anything merged, converted or given by the caller is
    # checked again below.
    needs_check = True
    if marking is None:
        # No marking chosen: the originals' marking, and never lower than
        # what the message already carries; the policy default only for
        # mail that is not marked at all.
        if own.marked and own.rank is None:
            raise MarkingError(
                "the message is marked but its marking cannot be judged "
                f"({', '.join(own.defect_codes()) or 'unknown level'}); choose a marking"
            )
        carried, _ = _inherit([("the message", own)], version)
        if carried is not None:
            inherited = combine_markings([inherited, carried]) if inherited else carried
        chosen = inherited or resolve_marking(settings.default, settings.markings)
        keep_origin = inherited is not None
        needs_check = inherited is not None
    else:
        requested = (
            marking
            if isinstance(marking, Marking)
            else resolve_marking(marking, settings.markings)
        )
        needs_check = isinstance(marking, Marking) or inherited is not None
        chosen, keep_origin = _against_original(requested, inherited, settings, warnings)
        own_rank = own.rank
        if inherited is None and own_rank is not None and (chosen.rank or 0) < own_rank:
            # The caller chose explicitly; say so rather than lower silently.
            warnings.append(
                f"{chosen.medium_form()!r} is lower than the message's current "
                f"marking {own.marking.medium_form() if own.marking else ''!r}"
            )
        elif inherited is None and own.marked and own_rank is None:
            # It may be higher: say so rather than replace it silently.
            warnings.append(
                "the message's current marking cannot be judged "
                f"({', '.join(own.defect_codes()[:4]) or 'unknown level'}); it is replaced"
            )

    author = origin or _author(raw)
    if not is_simple_address(author):
        raise MarkingSyntaxError(f"{author!r} is not a plain address", where="ORIGIN")
    if keep_origin and not (chosen.origin and is_simple_address(chosen.origin)):
        keep_origin = False  # an inherited ORIGIN={{UPN}} is not written again
    final = Marking(
        sec=chosen.sec,
        dlm=chosen.dlm,
        caveats=chosen.caveats,
        access=chosen.access,
        expires=chosen.expires,
        downto=chosen.downto,
        note=chosen.note,
        origin=chosen.origin if keep_origin and chosen.origin else author,
        version=version,
        namespace=settings.namespace,
    )
    if needs_check:
        _validate(final, version)
        if (final.rank or 0) > settings.markings.highest_rank:
            # ISM-0272: never send a marking above what the system offers,
            # not even one inherited from an original.
            raise MarkingNotOffered(
                f"{final.medium_form()!r} is above the highest marking the "
                "policy offers; this system cannot send it"
            )
    hint = own.header_markings[0] if len(own.header_markings) == 1 else None
    return MarkedMessage(_write(raw, final, hint), final, inherited, tuple(warnings))


def _against_original(
    requested: Marking,
    inherited: Marking | None,
    settings: ClassificationPolicy,
    warnings: list[str],
) -> tuple[Marking, bool]:
    if inherited is None:
        return requested, False
    if _is_downgrade(requested, inherited):
        text = (
            f"{requested.medium_form()!r} is lower than the original's "
            f"{inherited.medium_form()!r} (ISM-1089)"
        )
        if settings.downgrade == "reject":
            raise MarkingDowngrade(
                text, original=inherited.medium_form(), requested=requested.medium_form()
            )
        if settings.downgrade == "warn":
            warnings.append(text)
        return requested, False
    # Same level or higher: keep the original's restrictions (ISM-1089).
    caveats = tuple(dict.fromkeys(requested.caveats + inherited.caveats))
    access = tuple(dict.fromkeys(requested.access + inherited.access))
    keep_expiry = (
        requested.expires is None
        and inherited.downto is not None
        and (SEC_RANK.get(inherited.downto, 99) < SEC_RANK.get(requested.sec or "", -1))
    )
    merged = requested.replace(
        caveats=caveats,
        access=access,
        dlm=requested.dlm or inherited.dlm,
        expires=inherited.expires if keep_expiry else requested.expires,
        downto=inherited.downto if keep_expiry else requested.downto,
        origin=inherited.origin,
    )
    same = merged.medium_form() == inherited.medium_form()
    return merged, same


def _validate(marking: Marking, version: str) -> None:
    try:
        # What we write must follow the ABNF: read it back strictly.
        parse_subject_tag(marking.medium_form(), strict=True, version=version)
        parse_header(marking.header_value(), strict=True)
    except MarkingSyntaxError as error:
        raise MarkingError(
            f"the resulting marking {marking.medium_form()!r} is not valid for "
            f"EPMS {version}: {error.detail}"
        ) from None


def _classification(policy: Policy | ClassificationPolicy | None) -> ClassificationPolicy:
    if policy is None:
        return ClassificationPolicy()
    if isinstance(policy, Policy):
        return policy.classification
    return policy


@lru_cache(maxsize=512)
def _header_field(marking: Marking, linesep: bytes) -> tuple[str, bytes]:
    """(the header value, the whole field): built once per distinct marking,
    like the value itself (a gateway writes few: one per sender and level)."""
    value = marking.header_value(fold=True, linesep=linesep.decode("ascii"))
    return value, encode_field(HEADER, value, linesep)


def _write(raw: RawMessage, marking: Marking, hint: Marking | None = None) -> bytes:
    linesep_bytes = raw.linesep
    linesep = linesep_bytes.decode("ascii")
    header_value, new_field = _header_field(marking, linesep_bytes)
    edits: list[tuple[Any, bytes]] = []
    located = raw.find_many(HEADER, "Subject", "Thread-Topic")
    existing = located[HEADER.lower()]
    unchanged = (
        len(existing) == 1
        and existing[0].name == HEADER
        and raw.data[existing[0].value_start : existing[0].end]
        .decode("utf-8", "surrogateescape")
        .rstrip("\r\n")
        .lstrip(" ")
        == header_value
    )
    if not unchanged:
        if existing:
            edits.append((existing[0], new_field))
            edits.extend((field, b"") for field in existing[1:])
        else:
            edits.append((None, new_field))
    for name in ("Subject", "Thread-Topic"):
        fields = located[name.lower()]
        if not fields:
            if name == "Subject":
                edits.append((None, raw.encode_field("Subject", marking.subject_tag())))
            continue
        for field in fields:
            old = raw.value(field)
            new = fold_subject(rewrite_subject(old, marking, linesep, hint=hint), linesep)
            if new != old:
                edits.append((field, raw.encode_field(field.name, new)))
    return raw.replace_fields(edits) if edits else raw.data
