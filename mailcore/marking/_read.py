"""Reading the marking of a whole message (header fields and subject)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from mailcore._address import first_address
from mailcore._message import MessageInput, RawField, RawMessage
from mailcore.errors import MarkingSyntaxError
from mailcore.marking._model import Defect, Marking
from mailcore.marking._parse import MAX_DEFECTS, SubjectMarking, parse_header, scan_subject
from mailcore.marking._subject import decode_subject, may_hold_marking
from mailcore.marking._vocab import GOV_AU

__all__ = ["MessageMarking", "read_marking", "sender_domain_is_gov_au"]

Source = Literal["header", "subject", "both"]
_MAX_MESSAGE_DEFECTS = 4 * MAX_DEFECTS


@dataclass(frozen=True, slots=True)
class MessageMarking:
    """What a message says about its protective marking (JSON A).

    ``marking`` is the one that counts for display: the header's (the higher
    one if there are several fields), else the leftmost subject marking
    (EPMS 2024 §6.1 fn 5).  ``rank`` is what counts for decisions: the
    highest level of everything seen, or None if anything seen cannot be
    judged (foreign namespace, unknown value, cut off, unparseable).
    """

    marking: Marking | None
    source: Source | None
    consistent: bool
    subject_tag: str | None
    header_markings: tuple[Marking | None, ...]
    subject_markings: tuple[SubjectMarking, ...]
    defects: tuple[Defect, ...]

    @property
    def marked(self) -> bool:
        """True when any marking was seen, even one that cannot be read."""
        return bool(self.header_markings or self.subject_markings)

    @property
    def readable(self) -> bool:
        """True when every marking seen was parsed completely."""
        return all(m is not None for m in self.header_markings) and all(
            s.marking is not None and not s.truncated for s in self.subject_markings
        )

    @property
    def all_markings(self) -> list[Marking]:
        """Every marking that could be read, header fields first."""
        seen = [m for m in self.header_markings if m is not None]
        seen += [s.marking for s in self.subject_markings if s.marking is not None]
        return seen

    @property
    def rank(self) -> int | None:
        """The highest level seen, or None when any cannot be judged."""
        if not self.marked or not self.readable:
            return None
        ranks = [m.rank for m in self.all_markings]
        if any(r is None for r in ranks):
            return None
        return max(r for r in ranks if r is not None)

    def defect_codes(self) -> list[str]:
        """Defect codes, each once, message-level first."""
        codes: list[str] = []
        for defect in self.defects:
            if defect.code not in codes:
                codes.append(defect.code)
        return codes

    def to_dict(self) -> dict[str, Any]:
        """JSON A of the contract."""
        marking = self.marking if self.marking is not None else _NO_MARKING
        return {
            "marked": self.marked,
            "source": self.source,
            "consistent": self.consistent,
            "version": marking.version,
            "namespace": marking.namespace,
            "sec": marking.sec,
            "dlm": marking.dlm,
            "caveats": [str(caveat) for caveat in marking.caveats],
            "access": list(marking.access),
            "expires": marking.expires,
            "downto": marking.downto,
            "note": marking.note,
            "origin": marking.origin,
            "subject_tag": self.subject_tag,
            "defects": self.defect_codes(),
        }


_NO_MARKING = Marking(sec=None)
_UNMARKED = MessageMarking(
    marking=None,
    source=None,
    consistent=True,
    subject_tag=None,
    header_markings=(),
    subject_markings=(),
    defects=(),
)


def sender_domain_is_gov_au(from_value: str | None) -> bool:
    """True when the From domain ends in ``.gov.au`` at a dot boundary.

    EPMS 2024 §6.1: a subject-only marking is in the gov.au namespace when the
    sender's domain ends with .gov.au (``evilgov.au`` does not).
    """
    address = first_address(from_value)
    if address is None or "@" not in address:
        return False
    domain = address.rsplit("@", 1)[1].lower()
    return domain == GOV_AU or domain.endswith("." + GOV_AU)


def _same_level(a: Marking, b: Marking) -> bool:
    if (a.sec, a.dlm, a.caveats, a.access, a.expires, a.downto) == (
        b.sec,
        b.dlm,
        b.caveats,
        b.access,
        b.expires,
        b.downto,
    ):
        return True
    return (a.sec, a.dlm, set(a.caveats), set(a.access), a.expires, a.downto) == (
        b.sec,
        b.dlm,
        set(b.caveats),
        set(b.access),
        b.expires,
        b.downto,
    )


def _clean(value: str) -> str:
    """Undecodable bytes (kept as surrogates) become U+FFFD for reporting."""
    if value.isascii():
        return value
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def read_marking(message: MessageInput | RawMessage, *, strict: bool = False) -> MessageMarking:
    """Read a message's protective marking from its header fields and subject.

    Lenient by default: deviations become defects.  With ``strict`` a marking
    that breaks the standard raises :class:`~mailcore.MarkingSyntaxError`.
    """
    raw = message if isinstance(message, RawMessage) else RawMessage(message)
    located = raw.find_many("X-Protective-Marking", "Subject")
    subject_fields = located["subject"]
    if (
        not located["x-protective-marking"]
        and len(subject_fields) <= 1
        and not (subject_fields and may_hold_marking(raw.value(subject_fields[0])))
    ):
        # Unmarked mail (what a gateway marks all day): no header field,
        # and a subject that cannot hold a tag.  The general reading below
        # finds the same nothing (tests/marking/test_fast_paths.py).
        return _UNMARKED
    return _read_located(raw, located, strict=strict)


def _read_located(
    raw: RawMessage, located: dict[str, list[RawField]], *, strict: bool
) -> MessageMarking:
    defects: list[Defect] = []
    headers: list[Marking | None] = []
    for value in [_clean(raw.value(f)) for f in located["x-protective-marking"]]:
        try:
            headers.append(parse_header(value, strict=strict))
        except MarkingSyntaxError as error:
            if strict:
                raise
            headers.append(None)
            defects.append(Defect("unparseable_header", error.message))
    if len(headers) > 1:
        # EPMS 2024 §6.2: at most one X-Protective-Marking field.
        defects.append(Defect("multiple_headers", f"{len(headers)} X-Protective-Marking fields"))

    subjects = [_clean(raw.value(f)) for f in located["subject"]]
    subject_tag: str | None = None
    found: list[SubjectMarking] = []
    clean = [m for m in headers if m is not None and not m.defects]
    expected = clean[0] if len(headers) == 1 and clean else None
    expected_tag = expected.subject_tag() if expected is not None and subjects else None
    # Every Subject field is read (there should be one): a marking hidden in
    # a second field still counts for decisions.
    for number, subject in enumerate(subjects):
        decoded = decode_subject(subject)
        here = scan_subject(
            decoded.text, strict=strict, expected=expected, expected_tag=expected_tag
        )
        encoded = len(decoded.segments) > 1 or decoded.segments[0].encoded
        for item in here if encoded else ():
            if decoded.in_encoded_word(item.start, item.end):
                defects.append(
                    Defect(
                        "marking_in_encoded_word",
                        "the subject marking is inside an RFC 2047 encoded-word",
                    )
                )
        if number == 0 and here and decoded.text[here[0].end :].strip(" \t"):
            defects.append(
                Defect(
                    "marking_not_at_end",
                    "the subject marking is not at the end (EPMS 2024 §6.1)",
                    advisory=True,
                )
            )
        found.extend(here)
    if found:
        first = found[0]
        complete = first.marking is not None and not first.truncated
        # Values in canonical spelling (contract §6); a cut-off or
        # unreadable tag is shown as it was found.
        if first.problem is not None:
            # Not read (hostile or broken): shown by its beginning only.
            subject_tag = first.text if len(first.text) <= 80 else first.text[:77] + "..."
        elif first.text == expected_tag or not complete or first.marking is None:
            subject_tag = first.text
        else:
            subject_tag = first.marking.subject_tag()
    if len(found) > 1:
        defects.append(
            Defect(
                "multiple_subject_markings",
                f"{len(found)} markings in the subject; the leftmost is shown",
            )
        )
    if len(subjects) > 1:
        defects.append(Defect("multiple_subjects", f"{len(subjects)} Subject fields"))

    readable_headers = [m for m in headers if m is not None]
    primary: Marking | None = None
    if len(readable_headers) == 1:
        primary = readable_headers[0]
    elif readable_headers:
        primary = max(readable_headers, key=lambda m: -1 if m.rank is None else m.rank)
    elif found:
        primary = found[0].marking
    if primary is not None and primary.namespace is None:
        # EPMS 2024 §6.1: with no NS, the namespace is gov.au when the
        # sender's domain ends in .gov.au.
        if sender_domain_is_gov_au(raw.first("From")):
            primary = primary.replace(namespace=GOV_AU)

    source: Source | None = None
    if headers and found:
        source = "both"
    elif headers:
        source = "header"
    elif found:
        source = "subject"

    everything = readable_headers + [s.marking for s in found if s.marking is not None]
    consistent = True
    for other in everything[1:]:
        if not _same_level(everything[0], other):
            consistent = False
            break
    if headers and found and not consistent:
        defects.append(
            Defect(
                "header_subject_mismatch",
                "the header and the subject disagree; the header wins",
            )
        )
    for marking in everything:
        if marking.defects:
            defects.extend(marking.defects)
    for item in found:
        if item.problem == "too_long":
            defects.append(Defect("too_long", "a subject marking is too long to be read"))
        elif item.problem is not None:
            defects.append(
                Defect(item.problem, "the subject holds too many markings; the rest is not read")
            )
        elif item.truncated and item.marking is None:
            defects.append(Defect("truncated", "the subject marking is cut off"))
    if len(defects) > _MAX_MESSAGE_DEFECTS:
        # Each field keeps at most MAX_DEFECTS; the message keeps a bounded
        # number too (its own findings come first).
        defects[_MAX_MESSAGE_DEFECTS:] = [
            Defect(
                "too_many_defects", f"more than {_MAX_MESSAGE_DEFECTS} defects; the rest not kept"
            )
        ]
    if strict:
        broken = [d for d in defects if not d.advisory]
        if broken:
            raise MarkingSyntaxError(
                broken[0].detail,
                defects=tuple(d.code for d in broken),
                where="message",
            )
    return MessageMarking(
        marking=primary,
        source=source,
        consistent=consistent,
        subject_tag=subject_tag,
        header_markings=tuple(headers),
        subject_markings=tuple(found),
        defects=tuple(defects),
    )
