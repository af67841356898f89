"""Reading protective markings: the header long form and the subject tag.

Reading happens in two steps.  A tokenizer turns the text into raw
``(tag, value)`` fields: :func:`_header_fields` splits the header value on
unescaped commas, :func:`scan_subject` walks a subject and finds each
bracketed tag.  :func:`_interpret` then checks the fields against the
grammar and the vocabulary of the marking's version, canonicalises what the
lenient mode forgives and records every deviation as a :class:`Defect`.

Strict mode follows the EPMS 2024 ABNF (which the standard calls definitive,
§7) and its semantic rules (Table 1); it raises on the first non-advisory
defect.  Lenient mode reads what real mail contains and raises only when
nothing marking-like is left.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple, TypeVar

from mailcore.errors import MarkingSyntaxError
from mailcore.marking._model import MAX_MARKING_LENGTH, Caveat, Defect, Marking
from mailcore.marking._vocab import (
    ACCESS_BY_FOLD,
    ACCESS_VALUES,
    CAVEAT_TYPES,
    DLM_BY_FOLD,
    DLM_RANK,
    GOV_AU,
    LONG_FORM_ONLY,
    PRIVACY_2005,
    RI_BY_FOLD,
    SEC_BY_FOLD,
    SEC_RANK,
    SEC_VALUES,
    SH_BY_FOLD,
    SH_EXCLUSIVE_FOR,
    SH_VALUES,
    TAG_BY_FOLD,
    TAG_ORDER,
    Family,
    VersionInfo,
    parse_version,
)

__all__ = ["SubjectMarking", "parse_header", "parse_subject_tag", "scan_subject"]

_UNFOLD = re.compile(r"\r?\n(?=[ \t])")
_ESCAPED_SPLIT = re.compile(r"((?:\\.|\\\Z|[^,\\])*)(,|\Z)", re.DOTALL)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
_SIMPLE_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z"
)
_COUNTRY_CODES = re.compile(r"[A-Z]{3}(?:/[A-Z]{3})*\Z")
_REL = re.compile(r"REL(?:/|\s+)(.*)\Z", re.IGNORECASE | re.DOTALL)
# Only at the start of a run of white space, and possessive: a long run is
# tried once, not once from each of its positions (which was quadratic).
_SPACED_TAG = re.compile(
    r"(?<!\s)\s++(?=(?:VER|NS|SEC|DLM|CAVEAT|ACCESS|EXPIRES|DOWNTO|NOTE|ORIGIN)\s*+[=:])",
    re.IGNORECASE,
)
_OFFICIAL_SENSITIVE = re.compile(r"OFFICIAL\s*:\s*SENSITIVE\Z", re.IGNORECASE)
_KEY = re.compile(r"[ \t]*+([A-Za-z]++)[ \t]*+([=:])")
# A subject tag: "[" and a list of KEY=value fields one of which is SEC or
# DLM.  It normally begins with SEC/DLM; a tag that puts other fields first
# ("[NS=gov.au, SEC=SECRET]") is a marking in the wrong order, not text
# (failing open on it would let a SECRET tag through as unmarked).  A value
# before SEC/DLM holds no "[", "]" or unescaped ",", so one attempt never
# runs past the next "[" and the search stays linear; group 1 is the first
# key.
_SUBJECT_OPEN = re.compile(
    r"\[[ \t]*+(?=([A-Za-z]++)[ \t]*+[=:])"
    r"(?=(?:[Ss][Ee][Cc]|[Dd][Ll][Mm])[ \t]*+[=:]"
    r"|(?:[A-Za-z]++[ \t]*+=(?:[^\[\],\\]++|\\.)*+,[ \t]*+)+?"
    r"(?:[Ss][Ee][Cc]|[Dd][Ll][Mm])[ \t]*+=)",
    re.DOTALL,
)
_SPACES = re.compile(r"[ \t]*+")

# Tags whose values come from a fixed list: a space inside them can only be a
# missing comma (vendor lists write "SEC=PROTECTED DLM=Sensitive:Legal").
_ENUMERATED = frozenset({"VER", "NS", "SEC", "DLM", "ACCESS", "DOWNTO", "ORIGIN"})
_SINGLE = ("VER", "NS", "SEC", "DLM", "EXPIRES", "DOWNTO", "NOTE", "ORIGIN")
_MAX_TEXT = 128
# Hostile input (reference: hardening issue item 9).  At most this many
# defects are kept per field, then one "too_many_defects"; a header value
# longer than _MAX_READ is refused unread (lenient mode reads a marking up to
# four times the standard's 998 characters), a subject tag not closed within
# _MAX_READ characters is unreadable, and a subject with more than
# _MAX_SUBJECT_TAGS tags is not read further (the rest counts as one
# unreadable marking, so the check fails closed).
MAX_DEFECTS = 32
_MAX_READ = 4 * MAX_MARKING_LENGTH
_MAX_SUBJECT_TAGS = 32
_WSP = (" ", "\t")
_NOT_PRINTABLE = re.compile(r"[^ -~]")
_T = TypeVar("_T", Caveat, str)


# A raw field: (tag as written, value as written with escapes in place).
_Field = tuple[str, str]


class _Reader:
    """Collects defects; raises at once in strict mode."""

    __slots__ = ("context_version", "defects", "strict", "version_info", "where")

    def __init__(self, strict: bool, where: str, context_version: str | None = None) -> None:
        self.strict = strict
        self.where = where
        # The version a subject tag or a policy value is read under (they
        # carry no VER of their own).
        self.context_version = context_version
        self.version_info: VersionInfo | None = None
        self.defects: list[Defect] = []

    def defect(self, code: str, detail: str, *, advisory: bool = False) -> None:
        if self.strict and not advisory:
            raise MarkingSyntaxError(detail, defects=(code,), where=self.where)
        defects = self.defects
        if len(defects) < MAX_DEFECTS:
            defects.append(Defect(code, detail, advisory))
        elif len(defects) == MAX_DEFECTS:
            defects.append(
                Defect("too_many_defects", f"more than {MAX_DEFECTS} defects; the rest not kept")
            )

    def fail(self, code: str, detail: str) -> MarkingSyntaxError:
        codes = (*(d.code for d in self.defects), code)
        return MarkingSyntaxError(detail, defects=codes, where=self.where)


# -- header --------------------------------------------------------------------


def parse_header(value: str, *, strict: bool = False) -> Marking:
    """Parse an ``X-Protective-Marking`` value (the long form).

    The value may be folded.  In lenient mode (the default) deviations are
    recorded in ``Marking.defects``; in strict mode the first one raises
    :class:`~mailcore.MarkingSyntaxError`, as does any value with no
    ``TAG=value`` field at all.
    """
    if len(value) <= MAX_MARKING_LENGTH:
        fast = _fast_header(value)  # the canonical form, unfolded: most mail
        if fast is not None:
            return fast
    reader = _Reader(strict, "X-Protective-Marking")
    text = _unfold(value, reader).strip(" \t")
    if len(text) <= MAX_MARKING_LENGTH:
        fast = _fast_header(text)
        if fast is not None:
            return fast
    fields = _header_fields(text, reader)
    return _interpret(fields, reader, long_form=True)


# The canonical 2018+/2024 long form without free text: what gateways see
# all day.  One regex reads it; anything else (or anything that breaks a
# semantic rule) goes the general way, which gives the same result for these
# inputs (tests/marking/test_properties.py checks that).
_FAST_HEADER = re.compile(
    r"VER=(20(?:1[89]|[2-9][0-9])\.[0-9]+), NS=gov\.au, "
    r"SEC=(UNOFFICIAL|OFFICIAL:Sensitive|OFFICIAL|PROTECTED|SECRET|TOP-SECRET)"
    r"((?:, CAVEAT=(?:RI:(?:AUSTEO|AGAO)|SH:(?:NATIONAL-CABINET|CABINET|ORCON|"
    r"DELICATE-SOURCE|ACCOUNTABLE-MATERIAL)))*)"
    r"((?:, ACCESS=(?:Personal-Privacy|Legal-Privilege|Legislative-Secrecy))*)"
    r", ORIGIN=([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)\Z"
)


def _fast_header(text: str) -> Marking | None:
    match = _FAST_HEADER.match(text)
    if match is None:
        return None
    version, sec, caveat_text, access_text, origin = match.groups()
    sec_rank = SEC_RANK[sec]
    caveats: tuple[Caveat, ...] = ()
    if caveat_text:
        caveats = tuple(Caveat(*item.split(":", 1)) for item in caveat_text.split(", CAVEAT=")[1:])
        if len(set(caveats)) != len(caveats):
            return None
        for caveat in caveats:
            needed = 20 if caveat.value == "NATIONAL-CABINET" else 30
            if sec_rank < needed:
                return None
            if caveat.value == "NATIONAL-CABINET" and version.startswith("2018."):
                return None  # 2018.1-2018.3 predate it: the general path decides
    access: tuple[str, ...] = ()
    if access_text:
        access = tuple(access_text.split(", ACCESS=")[1:])
        if len(set(access)) != len(access) or sec_rank < 20:
            return None
    return Marking(
        sec=sec,
        caveats=caveats,
        access=access,
        origin=origin,
        version=version,
        namespace=GOV_AU,
    )


def _unfold(value: str, reader: _Reader) -> str:
    if "\n" in value or "\r" in value:
        value = _UNFOLD.sub("", value)
        if "\n" in value or "\r" in value:
            raise reader.fail(
                "bare_line_break",
                "a line break not followed by white space is not folding",
            )
    return value


def _header_fields(text: str, reader: _Reader) -> list[_Field]:
    """The fields of an unfolded, stripped header value."""
    if not text:
        raise reader.fail("empty", "the marking is empty")
    if len(text) > MAX_MARKING_LENGTH:
        # EPMS 2024 §6: "no greater than 998 ASCII characters in length".
        detail = f"the marking is {len(text)} characters; at most {MAX_MARKING_LENGTH}"
        if len(text) > _MAX_READ:
            # Far too long to be a marking: refused before it is split, so
            # hostile input costs one pass over it.
            raise reader.fail("too_long", detail + " (not read)")
        reader.defect("too_long", detail)
    if "\\" in text:
        pieces = []
        for match in _ESCAPED_SPLIT.finditer(text):
            pieces.append(match.group(1))
            if not match.group(2):
                break  # the end of the text, not a comma
    else:
        pieces = text.split(",")
    fields: list[_Field] = []
    append = fields.append
    first = True
    for piece in pieces:
        written = piece  # as written, for glueing back an unescaped comma
        if first:
            first = False
        elif piece[:1] in (" ", "\t"):
            piece = piece.lstrip(" \t")
        else:
            # RFC 5322 FWS needs at least one space or tab after the comma.
            reader.defect(
                "no_space_after_comma",
                f"no space after the comma before {piece[:20]!r}",
            )
        # Fast path: an exact tag, '=' and (for listed values) no space.
        tag, equals, rest = piece.partition("=")
        if equals and tag in TAG_ORDER and not (tag in _ENUMERATED and " " in rest):
            append((tag, rest))
        else:
            _split_field(piece, fields, reader, written)
    if not fields:
        raise reader.fail("no_fields", f"no TAG=value field in {text[:60]!r}")
    return fields


def _split_field(
    piece: str, fields: list[_Field], reader: _Reader, written: str | None = None
) -> None:
    match = _KEY.match(piece)
    if match is None:
        if fields and not reader.strict:
            # An unescaped comma inside free text: glue it back on.
            tag, previous = fields[-1]
            reader.defect("unescaped_comma", f"unescaped ',' inside the {tag} value")
            fields[-1] = (tag, previous + "," + (piece if written is None else written))
            return
        raise reader.fail("bad_field", f"{piece[:40]!r} is not TAG=value")
    tag, value = match.group(1), piece[match.end() :]
    if match.group(2) == ":":
        if tag.upper() not in TAG_ORDER:
            raise reader.fail("bad_field", f"{piece[:40]!r} is not TAG=value")
        reader.defect("colon_for_equals", f"'{tag}:' written for '{tag}='")
    elif match.group(0) != tag + "=":
        reader.defect("space_around_equals", f"white space around '=' in {tag}")
    _add_field(fields, tag, TAG_BY_FOLD.get(tag.casefold(), tag), value, reader)


# -- subject -------------------------------------------------------------------


class SubjectMarking(NamedTuple):
    """A marking found in a subject: where it is and what it says.

    ``start``/``end`` delimit the tag including its brackets.  A truncated
    marking (``[SEC=PROTEC`` at the end of a cut subject) has
    ``truncated=True``; its ``marking`` holds the fields that were complete,
    if any.  ``problem`` names why a tag that was not read is a marking
    all the same (``too_long``: not closed within the length a marking can
    have; ``too_many_markings``: the subject holds more tags than are read,
    and this item stands for the rest of it); its ``marking`` is None.
    """

    start: int
    end: int
    text: str
    marking: Marking | None
    truncated: bool = False
    problem: str | None = None


def scan_subject(
    subject: str,
    *,
    strict: bool = False,
    version: str | None = None,
    expected: Marking | None = None,
    expected_tag: str | None = None,
) -> list[SubjectMarking]:
    """Find every marking in a (decoded, unfolded) subject, leftmost first.

    A tag is ``[`` and a list of ``KEY=value`` fields that names SEC or DLM
    (any case, space and ``:`` tolerated); it should begin with ``SEC=`` or
    ``DLM=``, and one that does not (``[NS=gov.au, SEC=SECRET]``) is a
    marking with a ``field_order`` defect.  Because ``]`` is a legal value
    character, a free-text value ends at the first ``]`` that is followed
    by the end, white space or ``[``; failing that, at its first ``]``.  In
    lenient mode a tag that does not parse is still returned (with
    ``marking=None``) so that it can be stripped; in strict mode it raises.

    The work is linear in the length of the subject: a tag is read up to
    ``4 * MAX_MARKING_LENGTH`` characters (a longer one is unreadable,
    ``problem="too_long"``), and after 32 tags the rest of the subject is
    one unreadable item (``problem="too_many_markings"``).

    ``expected`` is a marking already read without defects (the header's):
    a tag that is exactly its canonical subject form is taken from it rather
    than parsed again (the common, consistent case); ``expected_tag`` is
    its subject tag if the caller has it already.
    """
    found: list[SubjectMarking] = []
    position = 0
    shortcut = None
    tags = 0
    if expected is not None and not expected.defects:
        shortcut = expected_tag or expected.subject_tag()
        if shortcut.count("]") != 1:
            shortcut = None  # a ']' inside a value: let the scanner decide
    upper = subject.upper()  # to find "SEC"/"DLM" with str.find
    sec = dlm = -2  # the next "SEC" and "DLM" (-1: none; -2: not looked for)
    while True:
        # A tag names SEC or DLM, and holds no "[" before it: the nearest
        # "[" before the next such name is the first place a tag can open.
        # (Each name is looked for again only once passed: linear.)
        if sec == -2 or -1 < sec < position:
            sec = upper.find("SEC", position)
        if dlm == -2 or -1 < dlm < position:
            dlm = upper.find("DLM", position)
        keyword = dlm if sec == -1 or (dlm != -1 and dlm < sec) else sec
        if keyword == -1:
            return found
        skip = subject.rfind("[", position, keyword)
        if skip == -1:
            skip = subject.find("[", keyword)
            if skip == -1:
                return found
        opening = _SUBJECT_OPEN.search(subject, skip)
        if opening is None:
            return found
        start = opening.start()
        tags += 1
        if tags > _MAX_SUBJECT_TAGS:
            # Hostile or broken: the rest is not read, and is not taken
            # for unmarked either (it may hide any level).
            detail = f"more than {_MAX_SUBJECT_TAGS} tags in the subject; the rest is not read"
            if strict:
                raise MarkingSyntaxError(detail, defects=("too_many_markings",), where="Subject")
            end = len(subject)
            found.append(
                SubjectMarking(start, end, subject[start:end], None, False, "too_many_markings")
            )
            return found
        if shortcut is not None and subject.startswith(shortcut, start):
            end = start + len(shortcut)
            if end == len(subject) or subject[end] in " \t[":
                assert expected is not None
                same = Marking(
                    sec=expected.sec,
                    dlm=expected.dlm,
                    caveats=expected.caveats,
                    access=expected.access,
                    expires=expected.expires,
                    downto=expected.downto,
                )
                found.append(SubjectMarking(start, end, shortcut, same))
                position = end
                continue
        reader = _Reader(strict, "Subject", version)
        if opening.end() != start + 1:
            reader.defect("space_inside_brackets", "white space after '['")
        first = opening.group(1).upper()
        if first not in ("SEC", "DLM") and (first in LONG_FORM_ONLY or first not in TAG_ORDER):
            # (A medium-form field first, CAVEAT=... before SEC=, is an
            # order defect that the interpretation reports itself.)
            reader.defect(
                "field_order",
                f"the subject marking begins with {opening.group(1)}=, not SEC= or DLM=",
            )
        limit = min(len(subject), start + _MAX_READ)
        fields, end, truncated = _subject_fields(subject, opening.end(), reader, limit)
        if end < 0:
            # Not closed within the length a marking can have: unreadable.
            detail = f"the subject marking is not closed within {_MAX_READ} characters"
            if strict:
                raise reader.fail("too_long", detail)
            close = subject.find("]", limit)
            end = len(subject) if close == -1 else close + 1
            found.append(SubjectMarking(start, end, subject[start:end], None, False, "too_long"))
            position = end
            continue
        marking: Marking | None = None
        if truncated:
            if strict:
                raise reader.fail("truncated", "the subject marking is cut off before ']'")
            reader.defect("truncated", "the subject marking is cut off before ']'")
        if fields:
            try:
                marking = _interpret(fields, reader, long_form=False)
            except MarkingSyntaxError:
                if strict:
                    raise
        elif strict and not truncated:
            raise reader.fail("no_fields", "empty subject marking")
        item = SubjectMarking(start, end, subject[start:end], marking, truncated)
        if strict or _is_marking(item):
            found.append(item)
        position = end


def _subject_fields(
    subject: str, position: int, reader: _Reader, limit: int
) -> tuple[list[_Field], int, bool]:
    """Tokenise one subject tag; returns (fields, end, truncated).

    Nothing at or after ``limit`` is looked at (each search stops there, so
    one tag costs at most its length times the fields in it); a tag not
    closed before ``limit`` (when ``limit`` is short of the end) gives
    ``end=-1``.
    """
    fields: list[_Field] = []
    length = len(subject)
    cut = limit < length  # the window ends before the subject does
    end_of_window = -1 if cut else length
    while True:
        if position >= limit:
            return fields, end_of_window, True
        if subject.startswith("[", position):
            return fields, position, True  # a new tag starts: this one was cut
        match = _KEY.match(subject, position, limit)
        if match is None:
            # Not a field: a stray token; skip it to the next ',' or ']'
            # (a '[' first means this tag was cut and another one starts).
            stop = _next_of(subject, position, ",][", limit)
            if stop == -1:
                return fields, end_of_window, True
            if subject[stop] == "[":
                return fields, stop, True
            reader.defect(
                "bad_field", f"{subject[position : min(stop, position + 40)]!r} is not TAG=value"
            )
            if subject[stop] == "]":
                return fields, stop + 1, False
            position = _after_separator(subject, stop + 1, reader)
            continue
        tag = match.group(1)
        if match.group(2) == ":":
            if tag.upper() not in TAG_ORDER:
                stop = _next_of(subject, position, ",]", limit)
                if stop == -1:
                    return fields, end_of_window, True
                position = stop
                reader.defect("bad_field", f"{tag!r} is not a marking tag")
                if subject[stop] == "]":
                    return fields, stop + 1, False
                position = _after_separator(subject, stop + 1, reader)
                continue
            reader.defect("colon_for_equals", f"'{tag}:' written for '{tag}='")
        elif match.group(0) != tag + "=":
            reader.defect("space_around_equals", f"white space around '=' in {tag}")
        canonical = TAG_BY_FOLD.get(tag.casefold(), tag)
        start = match.end()
        comma = _unescaped_comma(subject, start, limit)
        region_end = limit if comma == -1 else comma
        if canonical in _ENUMERATED or canonical == "DOWNTO":
            close = subject.find("]", start, region_end)
            opening = subject.find("[", start, region_end if close == -1 else close)
            if opening != -1:
                # A listed value never holds '[': this tag was cut off and a
                # new one starts here.
                return fields, opening, True
        else:
            close = _closing_bracket(subject, start, region_end, comma, limit)
        if close != -1:
            value = subject[start:close]
            _add_field(fields, tag, canonical, value, reader)
            return fields, close + 1, False
        if comma == -1:
            # Ran off the end: the last value is incomplete, drop it.
            return fields, end_of_window, True
        _add_field(fields, tag, canonical, subject[start:comma], reader)
        position = _after_separator(subject, comma + 1, reader)
        if position >= length:
            return fields, length, True


def _add_field(
    fields: list[_Field], tag: str, canonical: str, value: str, reader: _Reader
) -> None:
    """Add one field; a listed value with a space may hide a missing comma."""
    if canonical in _ENUMERATED and " " in value.strip():
        parts = _SPACED_TAG.split(value)
        if len(parts) > 1:
            reader.defect(
                "space_separator",
                f"fields separated by a space, not ', ', after {tag}",
            )
            fields.append((tag, parts[0]))
            for part in parts[1:]:
                _split_field(part, fields, reader)
            return
    fields.append((tag, value))


def _after_separator(subject: str, position: int, reader: _Reader) -> int:
    match = _SPACES.match(subject, position)
    end = position if match is None else match.end()
    if end == position:
        reader.defect(
            "no_space_after_comma",
            f"no space after the comma before {subject[end : end + 20]!r}",
        )
    return end


def _next_of(text: str, position: int, chars: str, limit: int) -> int:
    best = -1
    for char in chars:
        found = text.find(char, position, limit if best == -1 else best)
        if found != -1:
            best = found
    return best


def _unescaped_comma(text: str, position: int, limit: int) -> int:
    while True:
        comma = text.find(",", position, limit)
        if comma == -1:
            return -1
        index = comma
        while index > position and text[index - 1] == "\\":
            index -= 1
        if (comma - index) % 2 == 0:
            return comma
        position = comma + 1


def _closing_bracket(text: str, start: int, region_end: int, comma: int, limit: int) -> int:
    """The ``]`` that closes a free-text value in ``text[start:region_end]``."""
    first = text.find("]", start, region_end)
    if first == -1:
        return -1
    close = first
    while close != -1:
        after = close + 1
        if after >= len(text) or text[after] in " \t[":
            return close
        close = text.find("]", after, region_end)
    if comma != -1 and _KEY.match(text, comma + 1, limit):
        # The text goes on with another field: the ']'s are part of the value.
        return -1
    return first


def parse_subject_tag(text: str, *, strict: bool = False, version: str | None = None) -> Marking:
    """Parse one subject tag, with or without its brackets.

    ``[SEC=OFFICIAL:Sensitive, ACCESS=Legal-Privilege]`` and
    ``SEC=OFFICIAL:Sensitive, ACCESS=Legal-Privilege`` give the same marking.
    ``version`` (a ``VER`` value) selects the vocabulary to check against;
    without it the version is inferred from the values.
    """
    stripped = text.strip()
    body = stripped if stripped.startswith("[") else "[" + stripped + "]"
    found = scan_subject(body, strict=strict, version=version)
    if not found or found[0].start != 0 or found[0].end != len(body):
        raise MarkingSyntaxError(
            f"{text[:60]!r} is not a single subject marking",
            defects=("bad_field",),
            where="Subject",
        )
    marking = found[0].marking
    if marking is None or found[0].truncated:
        raise MarkingSyntaxError(
            f"{text[:60]!r} is not a complete subject marking",
            defects=("truncated",) if found[0].truncated else ("bad_field",),
            where="Subject",
        )
    return marking


_KNOWN_VALUES = tuple(
    value.upper() for value in (*SEC_RANK, *DLM_RANK, *ACCESS_VALUES, *SH_VALUES)
)
_PARTIAL = re.compile(r"\[\s*(.*)\Z", re.DOTALL)


def _is_marking(item: SubjectMarking) -> bool:
    """Whether a tag the lenient scanner found is a marking at all.

    The lenient scanner also reports prose that merely opens like a marking
    (``[Sec: Committee notes]``, ``[SEC=OFFICIAL and more words``); that text
    is the user's and is neither reported nor stripped.  A recognised level, or a tag cut off
    inside a plausible value (``[SEC=PROTEC``), is a marking.
    """
    marking = item.marking
    if marking is not None and marking.rank is None:
        codes = {defect.code for defect in marking.defects}
        value = marking.sec if marking.sec is not None else marking.dlm or ""
        if "colon_for_equals" in codes or " " in value.strip():
            return False
    if not item.truncated:
        return marking is not None
    match = _PARTIAL.match(item.text)  # a cut-off tag: is the cut plausible?
    pieces = (match.group(1) if match else "").split(",")
    last = pieces[-1].strip()
    value = last.partition("=")[2].strip().upper() if "=" in last else ""
    return " " not in value or any(known.startswith(value) for known in _KNOWN_VALUES)


# -- interpretation ------------------------------------------------------------


def _unescape(value: str, tag: str, reader: _Reader) -> str:
    if "\\" not in value:
        return value

    def one(match: re.Match[str]) -> str:
        char = match.group(1)
        if char not in ",\\":
            reader.defect(
                "bad_escape",
                f"'\\{char}' in {tag}: only '\\,' and '\\\\' are escapes",
            )
        return char

    if value.endswith("\\") and (len(value) - len(value.rstrip("\\"))) % 2:
        reader.defect("bad_escape", f"a lone '\\' ends the {tag} value")
        value = value[:-1] + "\\\\"
    return _UNESCAPE.sub(one, value)


def _text(value: str, tag: str, reader: _Reader) -> str:
    text = _unescape(value, tag, reader)
    if not text:
        reader.defect("empty_value", f"{tag} is empty")
    elif len(text) > _MAX_TEXT:
        reader.defect("text_too_long", f"{tag} is {len(text)} characters; at most 128")
    return text


def _enum_value(value: str, tag: str, reader: _Reader) -> str:
    if value[:1] not in _WSP and value[-1:] not in _WSP:
        return value
    stripped = value.strip(" \t")
    if stripped != value:
        reader.defect("value_whitespace", f"white space around the {tag} value")
    return stripped


def _classification(value: str, tag: str, reader: _Reader) -> str:
    value = _enum_value(value, tag, reader)
    if value in SEC_RANK:
        return value
    canonical = SEC_BY_FOLD.get(value.casefold())
    if canonical is not None:
        reader.defect("value_case", f"{tag}={value} written for {canonical}")
        return canonical
    if _OFFICIAL_SENSITIVE.match(value):
        # Body-text spelling (PSPF) leaking into a marking: EPMS 2024 fn 12.
        reader.defect(
            "official_sensitive_space",
            f"{tag}={value} written for OFFICIAL:Sensitive",
        )
        return "OFFICIAL:Sensitive"
    spaced = SEC_BY_FOLD.get(value.replace(" ", "-").casefold())
    if spaced is not None:
        reader.defect("space_for_hyphen", f"{tag}={value} written for {spaced}")
        return spaced
    level, colon, privacy = value.partition(":")
    if colon and level.upper() in SEC_VALUES[Family.EPMS_2005]:
        # EPMS 2005.6: SEC=<level>:<privacy marking>
        if privacy.upper() not in PRIVACY_2005:
            reader.defect(
                "unknown_privacy_marking", f"{privacy!r} is not a 2005.6 privacy marking"
            )
        if level != level.upper() or privacy != privacy.upper():
            reader.defect("value_case", f"{tag}={value} written in the wrong case")
        return level.upper() + ":" + privacy.upper()
    reader.defect("unknown_classification", f"{tag}={value} is not a known level")
    return value


def _caveat(value: str, family: Family | None, reader: _Reader) -> Caveat:
    kind, colon, rest = value.partition(":")
    if not colon:
        if family is Family.EPMS_2018 or family is None:
            # 2011 drafts had untyped caveats (CAVEAT=AUSTEO).
            reader.defect("untyped_caveat", f"CAVEAT={value} has no type")
        return Caveat("", _text(value, "CAVEAT", reader))
    upper = kind.upper()
    if upper != kind:
        reader.defect("value_case", f"caveat type {kind!r} written for {upper!r}")
    allowed = CAVEAT_TYPES[family or Family.EPMS_2018]
    if family is None:
        allowed = CAVEAT_TYPES[Family.EPMS_2018] | CAVEAT_TYPES[Family.EPMS_2012]
    if upper not in allowed:
        reader.defect(
            "unknown_caveat_type", f"CAVEAT type {kind!r} is not one of {sorted(allowed)}"
        )
        return Caveat(kind, _text(rest, "CAVEAT", reader))
    if upper == "RI":
        return Caveat("RI", _releasability(rest, reader))
    if upper == "SH":
        return Caveat("SH", _special_handling(rest, reader))
    return Caveat(upper, _text(rest, "CAVEAT", reader))


def _releasability(value: str, reader: _Reader) -> str:
    if value in ("AUSTEO", "AGAO"):
        return value
    info = reader.version_info
    if value == "EO" and info is not None and info.family is Family.EPMS_2012:
        return value  # 2012.3 §2.11.5 lists an "EO" literal
    canonical = RI_BY_FOLD.get(value.strip().casefold())
    if canonical is not None:
        reader.defect("value_case", f"RI:{value} written for RI:{canonical}")
        return canonical
    rel = _REL.match(value.strip())
    if rel is not None:
        codes = rel.group(1)
        # EPMS 2024 Table 8: rel "/" country-codes; the prose writes a space.
        if not value.startswith("REL/"):
            reader.defect("rel_format", f"RI:{value} written for RI:REL/{codes}")
        if not _COUNTRY_CODES.match(codes):
            fixed = codes.upper().replace(" ", "")
            if _COUNTRY_CODES.match(fixed):
                reader.defect("value_case", f"country codes {codes!r}")
                codes = fixed
            else:
                reader.defect(
                    "bad_country_codes",
                    f"{codes!r} is not ISO 3166-1 alpha-3 codes joined by '/'",
                )
        return "REL/" + codes
    reader.defect("unknown_caveat_value", f"RI:{value} is not AUSTEO, AGAO or REL")
    return _unescape(value, "CAVEAT", reader)


def _special_handling(value: str, reader: _Reader) -> str:
    if value in SH_VALUES:
        info = reader.version_info
        if (
            value == "NATIONAL-CABINET"
            and info is not None
            and info.year == 2018
            and info.minor < 4
        ):
            # NATIONAL-CABINET arrived with EPMS 2018.4 (Janusnet, Sep 2020).
            reader.defect("not_in_version", "SH:NATIONAL-CABINET exists only from 2018.4 on")
        return value
    if value.startswith(SH_EXCLUSIVE_FOR):
        person = _text(value[len(SH_EXCLUSIVE_FOR) :], "EXCLUSIVE-FOR", reader)
        return SH_EXCLUSIVE_FOR + person
    folded = value.strip().replace(" ", "-").casefold()
    canonical = SH_BY_FOLD.get(folded)
    if canonical is not None:
        code = "space_for_hyphen" if " " in value.strip() else "value_case"
        reader.defect(code, f"SH:{value} written for SH:{canonical}")
        return canonical
    if value.upper().startswith(SH_EXCLUSIVE_FOR):
        reader.defect("value_case", f"SH:{value[:13]} written for EXCLUSIVE-FOR")
        person = _text(value[len(SH_EXCLUSIVE_FOR) :], "EXCLUSIVE-FOR", reader)
        return SH_EXCLUSIVE_FOR + person
    reader.defect("unknown_caveat_value", f"SH:{value} is not a special-handling value")
    return _unescape(value, "CAVEAT", reader)


def _access(value: str, family: Family | None, reader: _Reader) -> str:
    value = _enum_value(value, "ACCESS", reader)
    if value in ACCESS_VALUES:
        canonical = value
    else:
        canonical = ACCESS_BY_FOLD.get(value.casefold().replace(" ", "-"), "")
        if canonical:
            reader.defect("value_case", f"ACCESS={value} written for {canonical}")
        else:
            reader.defect("unknown_access", f"ACCESS={value} is not a known marker")
            canonical = value
    if family is not None and family is not Family.EPMS_2018:
        reader.defect("not_in_version", "ACCESS exists only from EPMS 2018.1 on")
    return canonical


def _dlm(value: str, family: Family | None, reader: _Reader) -> str:
    value = _enum_value(value, "DLM", reader)
    canonical = value if value in DLM_RANK else DLM_BY_FOLD.get(value.casefold())
    if canonical is None:
        # "For-Official-Use Only" (sic, vendor docs) and other near misses.
        canonical = DLM_BY_FOLD.get(value.replace(" ", "-").casefold())
        if canonical is None:
            reader.defect("unknown_dlm", f"DLM={value} is not a known DLM")
            return value
    if canonical != value:
        reader.defect("value_case", f"DLM={value} written for {canonical}")
    if family is Family.EPMS_2018:
        reader.defect("not_in_version", "DLM was withdrawn in EPMS 2018.1")
    return canonical


def _infer_family(sec: str | None, dlm: str | None) -> Family:
    if dlm is not None:
        return Family.EPMS_2012
    if sec is None:
        return Family.EPMS_2018
    if sec in SEC_VALUES[Family.EPMS_2018]:
        return Family.EPMS_2018
    if sec in SEC_VALUES[Family.EPMS_2012]:
        return Family.EPMS_2012
    return Family.EPMS_2005


def _interpret(fields: list[_Field], reader: _Reader, *, long_form: bool) -> Marking:
    values: dict[str, str] = {}
    caveats: list[str] = []
    accesses: list[str] = []
    extras: list[tuple[str, str]] = []
    order: list[str] = []
    for tag, value in fields:
        if not value.isascii() or _NOT_PRINTABLE.search(value):
            # EPMS 2024 Table 3: only printable US-ASCII.  Lenient reading
            # keeps the value with '?' in place of each such character, so
            # that the marking can still be reported and written.
            if tag.upper() == "ORIGIN":
                # An SMTPUTF8 address: not a simple-email (reference §9.17).
                reader.defect("bad_origin", f"ORIGIN={value!r} is not a plain address")
            else:
                reader.defect(
                    "non_printable", f"{tag} value {value!r} has non-printable characters"
                )
            value = _NOT_PRINTABLE.sub("?", value)
        if tag not in TAG_ORDER:
            canonical = TAG_BY_FOLD.get(tag.casefold())
            if canonical is None:
                reader.defect("unknown_tag", f"{tag}= is not a marking tag")
                extras.append((tag, _unescape(value, tag, reader)))
                continue
            reader.defect("tag_case", f"{tag}= written for {canonical}=")
            tag = canonical
        order.append(tag)
        if tag == "CAVEAT":
            caveats.append(value)
        elif tag == "ACCESS":
            accesses.append(value)
        elif tag in values:
            if tag == "SEC":
                values["SEC+"] = value
            reader.defect("duplicate_tag", f"{tag} appears more than once")
        else:
            values[tag] = value
    _check_order(order, values.get("VER"), reader, long_form)

    if not long_form:
        for tag in ("VER", "NS", "NOTE", "ORIGIN"):
            if tag in values:
                reader.defect(
                    "long_form_in_subject",
                    f"{tag}= belongs in the header, not the subject",
                )

    namespace = values.get("NS")
    foreign = False
    if namespace is not None:
        namespace = _enum_value(namespace, "NS", reader)
        # EPMS 2024 Table 14: the namespace value is case-insensitive.
        if namespace.casefold() == GOV_AU:
            namespace = GOV_AU
        else:
            foreign = True
    elif long_form:
        reader.defect("missing_namespace", "no NS= field")

    version = values.get("VER")
    family: Family | None = None
    if version is None and reader.context_version is not None:
        context = parse_version(reader.context_version)
        reader.version_info = context
        family = None if context is None else context.family
    elif version is not None:
        version = _enum_value(version, "VER", reader)
        info = parse_version(version)
        reader.version_info = info
        if info is None and not foreign:
            reader.defect("bad_version", f"VER={version} is not YYYY.N")
        elif info is not None:
            family = info.family
    elif long_form:
        reader.defect("missing_version", "no VER= field")

    if foreign:
        return _foreign(values, caveats, accesses, extras, version, namespace, reader)

    sec_raw = values.get("SEC")
    sec = None if sec_raw is None else _classification(sec_raw, "SEC", reader)
    if "SEC+" in values:
        other = _classification(values["SEC+"], "SEC", reader)
        # Two levels: the higher one counts; if either is unknown the
        # marking cannot be judged, so the unknown one is kept.
        if other not in SEC_RANK or (sec in SEC_RANK and SEC_RANK[other] > SEC_RANK[sec]):
            sec = other
    dlm = None if "DLM" not in values else _dlm(values["DLM"], family, reader)
    known_family = family
    if family is None:
        family = _infer_family(sec, dlm)
    if sec is not None and sec in SEC_RANK and sec not in SEC_VALUES[family]:
        reader.defect(
            "not_in_version",
            f"SEC={sec} is not a level of EPMS "
            f"{version or reader.context_version or family.value}",
        )
    if sec is None and dlm is None:
        reader.defect("missing_classification", "no SEC= field")
    elif sec is None and family is not Family.EPMS_2012:
        reader.defect("missing_classification", "no SEC= field")

    caveat_list = [_caveat(raw, known_family, reader) for raw in caveats]
    if len(caveat_list) > 1:
        caveat_list = _dedupe(caveat_list, "CAVEAT", reader)
    access_list = [_access(raw, known_family, reader) for raw in accesses]
    if len(access_list) > 1:
        access_list = _dedupe(access_list, "ACCESS", reader)
    expires = values.get("EXPIRES")
    if expires is not None:
        expires = _text(expires, "EXPIRES", reader)
    downto = values.get("DOWNTO")
    if downto is not None:
        downto = _classification(downto, "DOWNTO", reader)
    note = values.get("NOTE")
    if note is not None:
        note = _text(note, "NOTE", reader)
    origin = values.get("ORIGIN")
    if origin is not None:
        origin = _enum_value(origin, "ORIGIN", reader)
        if not _SIMPLE_EMAIL.match(origin):
            reader.defect("bad_origin", f"ORIGIN={origin!r} is not a plain address")
    elif long_form:
        reader.defect("missing_origin", "no ORIGIN= field")

    _check_semantics(sec, downto, access_list, caveat_list, family, reader)
    return Marking(
        sec=sec,
        dlm=dlm,
        caveats=tuple(caveat_list),
        access=tuple(access_list),
        expires=expires,
        downto=downto,
        note=note,
        origin=origin,
        version=version,
        namespace=namespace,
        extras=tuple(extras),
        defects=tuple(reader.defects),
    )


def _dedupe(items: list[_T], tag: str, reader: _Reader) -> list[_T]:
    seen: dict[_T, None] = {}
    for item in items:
        if item in seen:
            # The ABNF allows a repeated CAVEAT; repeating one adds nothing.
            reader.defect("duplicate_value", f"{tag}={item} appears twice", advisory=True)
        else:
            seen[item] = None
    return list(seen)


def _foreign(
    values: dict[str, str],
    caveats: list[str],
    accesses: list[str],
    extras: list[tuple[str, str]],
    version: str | None,
    namespace: str | None,
    reader: _Reader,
) -> Marking:
    # A foreign namespace keeps its values opaque (reference §9 item 8).
    def opaque(tag: str) -> str | None:
        raw = values.get(tag)
        return None if raw is None else _unescape(raw, tag, reader)

    parsed_caveats = []
    for raw in caveats:
        kind, _, rest = raw.partition(":")
        parsed_caveats.append(Caveat(kind, _unescape(rest, "CAVEAT", reader)))
    marking = Marking(
        sec=opaque("SEC"),
        dlm=opaque("DLM"),
        caveats=tuple(parsed_caveats),
        access=tuple(_unescape(a, "ACCESS", reader) for a in accesses),
        expires=opaque("EXPIRES"),
        downto=opaque("DOWNTO"),
        note=opaque("NOTE"),
        origin=opaque("ORIGIN"),
        version=version,
        namespace=namespace,
        extras=tuple(extras),
    )
    if "ORIGIN" not in values:
        reader.defect("missing_origin", "no ORIGIN= field")
    if reader.defects:
        marking = marking.replace(defects=tuple(reader.defects))
    return marking


def _check_order(order: list[str], version: str | None, reader: _Reader, long_form: bool) -> None:
    ranks = [TAG_ORDER[tag] for tag in order if tag != "DLM"]
    if ranks == sorted(ranks) and "EXPIRES" not in order and "DOWNTO" not in order:
        return  # the common case: canonical order, nothing to pair
    info = parse_version(version.strip()) if version else None
    access_first_ok = info is not None and info.access_before_caveat
    last = -1
    last_tag = ""
    seen_expires = False
    for index, tag in enumerate(order):
        if tag == "DLM":
            continue  # 2012.3 position unverified: accepted after SEC anywhere
        rank = TAG_ORDER[tag]
        if tag == "EXPIRES":
            seen_expires = True
            if order[index + 1 : index + 2] != ["DOWNTO"]:
                reader.defect(
                    "expires_without_downto",
                    "EXPIRES must be followed directly by DOWNTO",
                )
        if tag == "DOWNTO" and (index == 0 or order[index - 1] != "EXPIRES"):
            reader.defect("downto_without_expires", "DOWNTO must follow EXPIRES directly")
        if rank < last:
            if tag == "ACCESS" and seen_expires and last_tag in ("EXPIRES", "DOWNTO", "ACCESS"):
                # The 2024 regex form (and pmcau, AusGovLabellingAgent) put
                # ACCESS after EXPIRES/DOWNTO; the ABNF, which is definitive,
                # puts it before.
                reader.defect("access_after_expires", "ACCESS after EXPIRES/DOWNTO (regex order)")
                continue
            if tag == "CAVEAT" and last_tag == "ACCESS" and access_first_ok:
                continue
            if tag == "CAVEAT" and last_tag == "ACCESS":
                reader.defect("access_before_caveat", "ACCESS before CAVEAT (2018.1/2018.2 order)")
                continue
            reader.defect("field_order", f"{tag} is out of order after {last_tag}")
            continue
        last = rank
        last_tag = tag


def _check_semantics(
    sec: str | None,
    downto: str | None,
    access: list[str],
    caveats: list[Caveat],
    family: Family,
    reader: _Reader,
) -> None:
    """EPMS 2024 Table 1 rules: DOWNTO below SEC, and the levels that ACCESS
    and caveats need."""
    sec_rank = SEC_RANK.get(sec) if sec else None
    if sec_rank is None:
        return
    if downto is not None:
        down_rank = SEC_RANK.get(downto)
        if down_rank is not None and down_rank >= sec_rank:
            reader.defect("downto_not_lower", f"DOWNTO={downto} is not lower than SEC={sec}")
    if family is not Family.EPMS_2018:
        return
    if access and sec_rank < SEC_RANK["OFFICIAL:Sensitive"]:
        reader.defect(
            "access_below_sensitive",
            f"ACCESS needs OFFICIAL:Sensitive or higher, not {sec}",
        )
    for caveat in caveats:
        needed = (
            "OFFICIAL:Sensitive"
            if (caveat.type, caveat.value) == ("SH", "NATIONAL-CABINET")
            else "PROTECTED"
        )
        if sec_rank < SEC_RANK[needed]:
            reader.defect(
                "caveat_below_level",
                f"CAVEAT={caveat} needs {needed} or higher, not {sec}",
            )


def iter_defect_codes(markings: Iterable[Marking]) -> list[str]:
    """Defect codes of several markings, in order, without repeats."""
    codes: list[str] = []
    for marking in markings:
        for defect in marking.defects:
            if defect.code not in codes:
                codes.append(defect.code)
    return codes
