"""Hostile input: markings in unexpected order (hardening issue item 8) and
input shaped to make a naive parser super-linear (item 9).

The timing tests do not assert a throughput (machines differ); they assert
linearity: the 4 MB run takes less than about 8 times the 1 MB run (plus a
small constant), and the 1 MB run takes under a second.  Each also checks
that the defects are capped and that the outcome fails closed.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from mailcore.errors import MarkingSyntaxError
from mailcore.marking import apply_marking, check_marking, parse_header, read_marking
from mailcore.marking._parse import MAX_DEFECTS
from mailcore.marking._read import _MAX_MESSAGE_DEFECTS
from tests.utils import build_message

AUTHOR = "jo.citizen@agency.gov.au"
MB = 1024 * 1024


def _subject_message(subject: str) -> bytes:
    return f"From: {AUTHOR}\r\nSubject: {subject}\r\n\r\nbody\r\n".encode()


def _fold(text: str, width: int = 76) -> str:
    return "\r\n ".join(text[i : i + width] for i in range(0, len(text), width))


# -- item 8: a tag that does not begin with SEC=/DLM= --------------------------


class TestOutOfOrderTags:
    @pytest.mark.parametrize(
        ("subject", "sec", "rank"),
        [
            ("Planning [NS=gov.au, SEC=SECRET]", "SECRET", 40),
            ("[VER=2018.4, NS=gov.au, SEC=PROTECTED]", "PROTECTED", 30),
            ("Cabinet [CAVEAT=SH:CABINET, SEC=PROTECTED]", "PROTECTED", 30),
            ("x [ORIGIN=a@b.gov.au, DLM=Sensitive:Cabinet]", None, 30),
        ],
    )
    def test_read_as_marked_at_the_level_it_names(
        self, subject: str, sec: str | None, rank: int
    ) -> None:
        read = read_marking(_subject_message(subject))
        assert read.marked and read.readable
        assert read.rank == rank
        assert read.marking is not None and read.marking.sec == sec
        assert "field_order" in read.defect_codes()
        with pytest.raises(MarkingSyntaxError) as caught:
            read_marking(_subject_message(subject), strict=True)
        assert "field_order" in caught.value.defects

    def test_check_fails_closed_even_with_allow_unmarked(self) -> None:
        message = _subject_message("Planning [NS=gov.au, SEC=SECRET]")
        result = check_marking(message, "PROTECTED", allow_unmarked=True)
        assert not result.passed and result.reason == "above_maximum"
        assert check_marking(message, "SECRET").passed

    def test_a_foreign_namespace_first_cannot_be_judged(self) -> None:
        message = _subject_message("x [NS=example.com, SEC=SECRET]")
        result = check_marking(message, "TOP-SECRET", allow_unmarked=True)
        assert not result.passed and result.reason == "unknown_level"

    def test_apply_replaces_it_and_warns_about_the_lowering(self) -> None:
        message = build_message(f"From: {AUTHOR}", "Subject: Planning [NS=gov.au, SEC=SECRET]")
        out = apply_marking(message, "OFFICIAL")
        text = out.message.decode()
        assert "Subject: Planning [SEC=OFFICIAL]\r\n" in text
        assert "SECRET" not in text
        assert any("SECRET" in warning for warning in out.warnings)

    @pytest.mark.parametrize(
        "subject",
        ["Re: [Ticket=4411] printer", "[a=b, c=d] notes", "[Note: sec=low] x", "[x=1, Sec: y]"],
    )
    def test_key_value_text_without_a_level_is_not_a_marking(self, subject: str) -> None:
        read = read_marking(_subject_message(subject))
        assert not read.marked
        out = apply_marking(build_message(f"From: {AUTHOR}", f"Subject: {subject}"), "OFFICIAL")
        assert f"Subject: {subject} [SEC=OFFICIAL]\r\n" in out.message.decode()


# -- item 9: linear time, capped defects -----------------------------------------


def _header(size: int) -> str:
    return "SEC=PROTECTED" + "," * size


def _read_header(text: str) -> object:
    try:
        return parse_header(text)
    except MarkingSyntaxError as error:
        return error


def _read_subject(text: str) -> object:
    return read_marking(_subject_message(text))


# (name, build(size) -> text, reader)
SHAPES: list[tuple[str, Callable[[int], str], Callable[[str], object]]] = [
    ("header-commas", _header, _read_header),
    ("header-equals", lambda n: "SEC=" + "=" * n, _read_header),
    ("header-spaces", lambda n: "SEC=PROTECTED" + " " * n + "x", _read_header),
    ("header-folded-fields", lambda n: _fold("SEC=A, " * (n // 7)), _read_header),
    ("subject-open-sec-folded", lambda n: _fold("[SEC=" * (n // 5)), _read_subject),
    ("subject-open-dlm-folded", lambda n: _fold("[DLM=" * (n // 5)), _read_subject),
    ("subject-brackets", lambda n: "[" * n, _read_subject),
    ("subject-brackets-then-tag", lambda n: "[" * n + " [SEC=SECRET]", _read_subject),
    ("subject-equals", lambda n: "[SEC=" + "=" * n, _read_subject),
    ("subject-spaces", lambda n: "[SEC=" + " " * n + "x]", _read_subject),
    ("subject-fields-before-sec", lambda n: "[a=b, " * (n // 6) + "SEC=SECRET]", _read_subject),
    ("subject-sec-no-equals", lambda n: "[SEC" * (n // 4), _read_subject),
    (
        "subject-encoded-words",
        lambda n: " ".join(["=?utf-8?q?=5BSEC=3D?="] * (n // 22)),
        _read_subject,
    ),
    (
        "subject-encoded-b",
        lambda n: " ".join(["=?utf-8?b?W1NFQz0=?="] * (n // 21)),
        _read_subject,
    ),
]


def _timed(reader: Callable[[str], object], text: str) -> tuple[float, object]:
    start = time.perf_counter()
    outcome = reader(text)
    return time.perf_counter() - start, outcome


@pytest.mark.parametrize(("name", "build", "reader"), SHAPES, ids=[s[0] for s in SHAPES])
def test_hostile_shapes_are_read_in_linear_time(
    name: str, build: Callable[[int], str], reader: Callable[[str], object]
) -> None:
    small, large = build(MB), build(4 * MB)
    reader(build(1024))  # warm imports and caches
    small_time = _timed(reader, small)[0]
    assert small_time < 1.0, f"{name}: 1 MB took {small_time:.2f}s"
    small_time = min(small_time, _timed(reader, small)[0])
    large_time, outcome = _timed(reader, large)
    assert large_time < 8 * small_time + 0.25, (
        f"{name}: 4 MB took {large_time:.2f}s, 1 MB {small_time:.2f}s: not linear"
    )
    # Bounded defects whatever the shape.
    if isinstance(outcome, MarkingSyntaxError):
        assert len(outcome.defects) <= MAX_DEFECTS + 1
    elif name.startswith("header"):
        assert len(outcome.defects) <= MAX_DEFECTS + 1  # type: ignore[attr-defined]
    else:
        assert len(outcome.defects) <= _MAX_MESSAGE_DEFECTS + 1  # type: ignore[attr-defined]


def test_a_huge_header_is_refused_clearly_and_fails_closed() -> None:
    with pytest.raises(MarkingSyntaxError) as caught:
        parse_header(_header(MB))
    assert caught.value.defects[-1] == "too_long"
    message = build_message(
        f"From: {AUTHOR}", "Subject: x", f"X-Protective-Marking: {_header(MB)}"
    )
    read = read_marking(message)
    assert read.marked and not read.readable
    assert read.defect_codes() == ["unparseable_header"]
    result = check_marking(message, "TOP-SECRET", allow_unmarked=True)
    assert not result.passed and result.reason == "unreadable"


def test_a_header_just_over_the_limit_is_still_read_leniently() -> None:
    text = "VER=2024.1, NS=gov.au, SEC=PROTECTED, NOTE=" + "n" * 1000 + ", ORIGIN=a@b.gov.au"
    marking = parse_header(text)
    assert marking.sec == "PROTECTED"
    assert {"too_long", "text_too_long"} <= {d.code for d in marking.defects}


def test_defects_are_capped_per_field() -> None:
    text = "SEC=PROTECTED" + ",x" * 600  # under the refusal length, many defects
    marking = parse_header(text)
    codes = [d.code for d in marking.defects]
    assert len(codes) == MAX_DEFECTS + 1
    assert codes[-1] == "too_many_defects" and codes.count("too_many_defects") == 1
    # The glued-on text makes the level unknown: it cannot be judged.
    assert marking.rank is None


def test_many_subject_tags_stop_and_fail_closed() -> None:
    # 40 harmless tags hide a SECRET one: reading stops after 32, and the
    # rest is one unreadable marking, never taken for nothing.
    subject = "[SEC=OFFICIAL] " * 40 + "[SEC=SECRET]"
    message = _subject_message(subject)
    read = read_marking(message)
    assert read.marked and not read.readable
    assert read.subject_markings[-1].problem == "too_many_markings"
    assert "too_many_markings" in read.defect_codes()
    result = check_marking(message, "PROTECTED")
    assert not result.passed and result.reason == "unreadable"
    out = apply_marking(build_message(f"From: {AUTHOR}", f"Subject: {subject}"), "OFFICIAL")
    assert b"SECRET" not in out.message
    assert any("cannot be judged" in warning for warning in out.warnings)


def test_a_subject_tag_too_long_to_be_a_marking_is_unreadable() -> None:
    subject = "[SEC=" + "A" * 10_000 + "] rest"
    read = read_marking(_subject_message(subject))
    assert read.marked and not read.readable
    assert read.subject_markings[0].problem == "too_long"
    assert "too_long" in read.defect_codes()
    assert not check_marking(_subject_message(subject), "TOP-SECRET").passed


def test_adjacent_encoded_words_decode_as_before() -> None:
    from mailcore.marking import decode_subject

    decoded = decode_subject("=?utf-8?q?Pl=C3?= =?utf-8?q?=A4ne?= [SEC=OFFICIAL] =?bogus?q?x?=")
    assert decoded.text == "Pläne [SEC=OFFICIAL] =?bogus?q?x?="
    assert decoded.bad_words == 1
    assert decoded.in_encoded_word(0, 2) and not decoded.in_encoded_word(6, 20)
