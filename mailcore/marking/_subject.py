"""Subject lines: RFC 2047 decoding and marking-preserving rewrites."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from email.header import Header
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

from mailcore.marking._model import Marking
from mailcore.marking._parse import SubjectMarking, scan_subject

__all__ = ["DecodedSubject", "decode_subject", "rewrite_subject"]

# RFC 2047 §2: encoded-word = "=?" charset "?" encoding "?" encoded-text "?="
_ENCODED_WORD = re.compile(r"=\?([^?\s]++)\?([QqBb])\?([^?\s]*+)\?=")
# A run of encoded-words with only white space between them (RFC 2047 §6.2:
# that white space is dropped).  A run is decoded in a few C-level passes,
# not with Python work per word, so that a subject of many words is cheap.
_WORD = r"=\?[^?\s]++\?[QqBb]\?[^?\s]*+\?="
_RUN = re.compile(_WORD + r"(?:[ \t]++" + _WORD + r")*+")
_TRAILING_SPACE = re.compile(r"[ \t]*+")
_MAX_LINE = 998  # RFC 5322 §2.1.1
_PLAIN = re.compile(r"[ -~]*\Z")  # printable ASCII: safe as a raw header value


class _Segment(NamedTuple):
    start: int  # in the decoded text
    end: int
    encoded: bool
    raw_start: int  # in the raw value
    raw_end: int


class DecodedSubject(NamedTuple):
    """A subject decoded from RFC 2047, with the encoded parts remembered."""

    raw: str
    text: str
    segments: tuple[_Segment, ...]
    bad_words: int = 0

    def in_encoded_word(self, start: int, end: int) -> bool:
        """True when ``text[start:end]`` overlaps text from an encoded-word."""
        return any(s.encoded and s.start < end and start < s.end for s in self.segments)


def _decode_word(charset: str, encoding: str, payload: str) -> str | None:
    try:
        if encoding in "Bb":
            data = base64.b64decode(payload + "=" * (-len(payload) % 4))
        else:
            data = binascii.a2b_qp(payload.encode("ascii"), header=True)
        # RFC 2231 §5 allows a language suffix: =?utf-8*en?Q?...?=
        codec = codecs.lookup(charset.split("*", 1)[0])
        return data.decode(codec.name, "replace")
    except (LookupError, ValueError, UnicodeEncodeError):
        return None


def _decode_run(run: str) -> str | None:
    """The text of a run of adjacent encoded-words, or None if any word in
    it cannot be decoded (the caller then goes word by word).  Consecutive
    words of one charset are decoded together: their bytes are joined, so a
    character split between two words survives."""
    words = _ENCODED_WORD.findall(run)
    out: list[str] = []
    try:
        for (charset, encoding), group in groupby(words, key=itemgetter(0, 1)):
            codec = codecs.lookup(charset.split("*", 1)[0])
            if encoding in "Bb":
                a2b = binascii.a2b_base64
                data = b"".join(
                    [a2b(p + "=" * (-len(p) % 4), strict_mode=False) for _, _, p in group]
                )
            else:
                payload = "".join([p for _, _, p in group])
                data = binascii.a2b_qp(payload.encode("ascii"), header=True)
            out.append(data.decode(codec.name, "replace"))
    except (LookupError, ValueError, UnicodeEncodeError):
        return None
    return "".join(out)


def decode_subject(raw: str) -> DecodedSubject:
    """Decode the encoded-words of an unfolded subject.

    White space between two adjacent encoded-words is dropped (RFC 2047 §6.2).
    A word that cannot be decoded (unknown charset, bad base64) stays as it is.
    A run of adjacent words makes one segment.
    """
    if "=?" not in raw:
        return DecodedSubject(raw, raw, (_Segment(0, len(raw), False, 0, len(raw)),))
    parts: list[str] = []
    segments: list[_Segment] = []
    length = 0
    position = 0
    bad = 0
    for match in _RUN.finditer(raw):
        start, end = match.span()
        decoded = _decode_run(match.group(0))
        if decoded is None:
            # Some word will not decode: this run goes word by word.
            inner = _decode_words(match.group(0))
            bad += inner.bad_words
            pieces = [(s.start, s.end, s.encoded, s.raw_start, s.raw_end) for s in inner.segments]
            text = inner.text
        else:
            pieces = [(0, len(decoded), True, 0, end - start)]
            text = decoded
        if position < start:
            parts.append(raw[position:start])
            segments.append(_Segment(length, length + start - position, False, position, start))
            length += start - position
        parts.append(text)
        segments.extend(
            _Segment(length + a, length + b, encoded, start + ra, start + rb)
            for a, b, encoded, ra, rb in pieces
        )
        length += len(text)
        position = end
    tail = raw[position:]
    if tail:
        parts.append(tail)
        segments.append(_Segment(length, length + len(tail), False, position, len(raw)))
    return DecodedSubject(raw, "".join(parts), tuple(segments), bad)


def _decode_words(raw: str) -> DecodedSubject:
    """Word by word (the way for a run in which some word is bad)."""
    parts: list[str] = []
    segments: list[_Segment] = []
    length = 0
    position = 0
    bad = 0
    previous_encoded = False
    for match in _ENCODED_WORD.finditer(raw):
        between = raw[position : match.start()]
        decoded = _decode_word(match.group(1), match.group(2), match.group(3))
        if decoded is None:
            bad += 1
            continue
        if between and not (previous_encoded and not between.strip(" \t")):
            parts.append(between)
            segments.append(
                _Segment(length, length + len(between), False, position, match.start())
            )
            length += len(between)
        parts.append(decoded)
        segments.append(_Segment(length, length + len(decoded), True, match.start(), match.end()))
        length += len(decoded)
        position = match.end()
        previous_encoded = True
    tail = raw[position:]
    if tail:
        parts.append(tail)
        segments.append(_Segment(length, length + len(tail), False, position, len(raw)))
    return DecodedSubject(raw, "".join(parts), tuple(segments), bad)


def _removal_spans(text: str, found: list[SubjectMarking]) -> list[tuple[int, int]]:
    """Spans to cut: each marking plus the white space that went with it."""
    spans: list[tuple[int, int]] = []
    for item in found:
        start, end = item.start, item.end
        # Take the white space after the marking; if the marking ends the
        # subject, take the white space before it instead.
        space = _TRAILING_SPACE.match(text, end)
        if space is not None:
            end = space.end()
        if end == len(text):
            start = len(text[:start].rstrip(" \t"))
        spans.append((start, end))
    return spans


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    pieces = []
    position = 0
    for start, end in spans:
        if start < position:
            start = position
        pieces.append(text[position:start])
        position = max(position, end)
    pieces.append(text[position:])
    return "".join(pieces)


def strip_markings(subject: str) -> str:
    """A decoded subject with every marking (any position) removed."""
    found = scan_subject(subject)
    if not found:
        return subject
    return _cut(subject, _removal_spans(subject, found)).rstrip(" \t")


def may_hold_marking(raw: str) -> bool:
    """False when a raw subject value cannot hold a marking: a subject tag
    opens with "[", and an RFC 2047 encoded-word ("=?") could hide one."""
    return "[" in raw or "=?" in raw


def rewrite_subject(
    raw: str, marking: Marking | None, linesep: str, *, hint: Marking | None = None
) -> str:
    """The new raw (unfolded) subject value: old markings out, one in.

    Markings in plain text are cut from the raw value, so every other byte of
    it stays; a marking inside an encoded-word forces the text to be encoded
    again without it.  The new tag is always plain ASCII after the text, never
    inside an encoded-word (reference note §9 item 3).  ``hint`` is a marking
    the subject probably carries (the header's), which saves parsing it.
    """
    if not may_hold_marking(raw):
        # Most outgoing mail: nothing to take out (the general way below
        # gives the same; tests/marking/test_fast_paths.py checks it).
        base = raw.rstrip(" \t")
    else:
        base = _without_markings(raw, hint, linesep)
    if marking is None:
        return base
    tag = marking.subject_tag()
    return base + " " + tag if base else tag


def _without_markings(raw: str, hint: Marking | None, linesep: str) -> str:
    decoded = decode_subject(raw)
    found = scan_subject(decoded.text, expected=hint)
    spans = _removal_spans(decoded.text, found)
    if any(decoded.in_encoded_word(s, e) for s, e in spans):
        rest = _cut(decoded.text, spans).rstrip(" \t")
        if _PLAIN.match(rest) and "=?" not in rest:
            base = rest
        else:
            # Decoded text may hold anything an encoded-word can carry,
            # CR and LF included: it goes back into an encoded-word, never
            # raw into the header (that would inject header fields).
            # Undecodable bytes (surrogates) become U+FFFD.
            clean = rest.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            base = Header(clean, "utf-8").encode(linesep=linesep)
    else:
        raw_spans = [_to_raw(decoded, s, e) for s, e in spans]
        base = _cut(raw, raw_spans).rstrip(" \t")
    return base


def _to_raw(decoded: DecodedSubject, start: int, end: int) -> tuple[int, int]:
    """Map a span of plain decoded text back to the raw value."""
    return _raw_offset(decoded, start), _raw_offset(decoded, end)


def _raw_offset(decoded: DecodedSubject, point: int) -> int:
    for segment in decoded.segments:
        if not segment.encoded and segment.start <= point <= segment.end:
            return segment.raw_start + (point - segment.start)
    # The point sits where an encoded-word ends: the raw end of that word.
    for segment in decoded.segments:
        if segment.end == point:
            return segment.raw_end
    return len(decoded.raw)


def fold_subject(value: str, linesep: str) -> str:
    """Fold a subject only if a line would break RFC 5322's 998 limit."""
    if len(value) + len("Subject: ") <= _MAX_LINE:
        return value
    lines: list[str] = []
    current = ""
    for word in value.split(" "):
        if current and len(current) + 1 + len(word) > 76:
            lines.append(current)
            current = word
        else:
            current = word if not current else current + " " + word
    lines.append(current)
    return (linesep + " ").join(lines)
