"""Round-trip and robustness properties (Hypothesis; strategies in tests/strategies.py)."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mailcore.errors import (
    MalformedInput,
    MarkingDowngrade,
    MarkingError,
    MarkingNotOffered,
    MarkingSyntaxError,
)
from mailcore.marking import (
    Marking,
    apply_marking,
    check_marking,
    parse_header,
    parse_subject_tag,
    read_marking,
    scan_subject,
    strip_markings,
)
from mailcore.policy import Policy, policy_from_mapping
from tests.strategies import bodies, markings_2012, markings_2024, messages, subjects
from tests.utils import field_name, header_fields, split_message

LINESEPS = st.sampled_from(["\r\n", "\n"])

# Lists that offer every level, so that any generated marking may be sent.
POLICY_2024 = policy_from_mapping(
    {"classification": {"markings": "UNOFFICIAL,SEC=UNOFFICIAL;TOP-SECRET,SEC=TOP-SECRET"}}
)
POLICY_2012 = policy_from_mapping(
    {
        "classification": {
            "version": "2012.3",
            "default": "UNCLASSIFIED",
            "markings": "UNCLASSIFIED,SEC=UNCLASSIFIED;TOP-SECRET,SEC=TOP-SECRET",
        }
    }
)
LIST_MARKINGS = st.sampled_from(
    [
        "UNOFFICIAL",
        "OFFICIAL",
        "OFFICIAL:Sensitive Legal Privilege",
        "PROTECTED",
        "PROTECTED CABINET",
    ]
)


def _short_form(marking: Marking) -> Marking:
    """What the subject carries: the medium form, no long-form fields."""
    return marking.replace(version=None, namespace=None, note=None, origin=None)


def _writable(marking: Marking) -> bool:
    try:
        marking.header_value()
    except MarkingSyntaxError as error:
        # EPMS 2024 §6: at most 998 characters; long generated text can exceed it.
        assert "too_long" in error.defects
        return False
    return True


# -- parse(format(m)) == m ---------------------------------------------------------


@given(markings_2024(), st.booleans(), LINESEPS)
@pytest.mark.slow
def test_header_round_trip_2024(marking: Marking, fold: bool, linesep: str) -> None:
    if not _writable(marking):
        return
    assert parse_header(marking.header_value(fold=fold, linesep=linesep), strict=True) == marking


@given(markings_2024())
@pytest.mark.slow
def test_subject_round_trip_2024(marking: Marking) -> None:
    assert parse_subject_tag(marking.subject_tag(), strict=True) == _short_form(marking)


@given(markings_2012(), st.booleans(), LINESEPS)
def test_header_round_trip_2012(marking: Marking, fold: bool, linesep: str) -> None:
    if not _writable(marking):
        return
    assert parse_header(marking.header_value(fold=fold, linesep=linesep), strict=True) == marking


@given(markings_2012())
def test_subject_round_trip_2012(marking: Marking) -> None:
    assert parse_subject_tag(marking.subject_tag(), strict=True) == _short_form(marking)
    assert parse_subject_tag(marking.subject_tag(), strict=True, version="2012.3") == _short_form(
        marking
    )


@given(markings_2024())
@pytest.mark.slow
def test_subject_tag_found_in_a_subject(marking: Marking) -> None:
    subject = "Re: Budget " + marking.subject_tag()
    [found] = scan_subject(subject, strict=True)
    assert found.marking == _short_form(marking)
    assert found.end == len(subject)


@given(st.one_of(markings_2024(), markings_2012()))
@pytest.mark.slow
def test_equivalent_spellings_read_the_same(marking: Marking) -> None:
    # The NS value is case-insensitive (Table 14) and FWS may be a tab
    # (RFC 5322): both spellings must read exactly like the canonical one
    # (mailcore reads the canonical form through a separate fast path).
    if not _writable(marking):
        return
    canonical = marking.header_value()
    for variant in (
        canonical.replace("NS=gov.au", "NS=GOV.AU", 1),
        canonical.replace(", NS=", ",\tNS=", 1),
    ):
        parsed = parse_header(variant, strict=True)
        assert parsed == parse_header(canonical) == marking
        assert parsed.defects == ()


# -- apply ------------------------------------------------------------------------


def _check_marked(header: bytes, body: bytes, out: bytes) -> None:
    """The body and the unrelated fields are byte-identical; one marking each."""
    out_header, out_body = split_message(out)
    assert out_body == body
    names = [field_name(f).lower() for f in header_fields(out_header)]
    assert names.count("x-protective-marking") == 1
    assert names.count("subject") == 1
    kept = [f for f in header_fields(header) if field_name(f).lower() != "subject"]
    assert [
        f for f in header_fields(out_header) if field_name(f).lower() in {"from", "to", "x-mailer"}
    ] == kept
    if b"\r\n" not in header:
        assert b"\r" not in out_header


@given(messages(), LIST_MARKINGS)
def test_apply_keeps_the_body_and_other_fields(
    message: tuple[bytes, bytes, bytes], marking: str
) -> None:
    data, header, body = message
    out = apply_marking(data, marking).message
    _check_marked(header, body, out)
    read = read_marking(out)
    assert len(read.subject_markings) == 1
    assert read.consistent


@given(messages(), st.none() | LIST_MARKINGS)
def test_apply_is_idempotent(message: tuple[bytes, bytes, bytes], marking: str | None) -> None:
    own = read_marking(message[0])
    if marking is None and own.marked and own.rank is None:
        # Nothing chosen and the message's own marking cannot be judged.
        with pytest.raises(MarkingError):
            apply_marking(message[0], marking)
        return
    if marking is None and (own.rank or 0) > Policy().classification.markings.highest_rank:
        # Kept at its own level, which the default policy cannot send.
        with pytest.raises(MarkingNotOffered):
            apply_marking(message[0], marking)
        return
    once = apply_marking(message[0], marking).message
    assert apply_marking(once, marking).message == once


@given(bodies, LIST_MARKINGS)
@example(b"\r\nSubject: [SEC=SECRET]\r\n\r\nX-Protective-Marking: SEC=SECRET", "PROTECTED")
def test_apply_never_touches_body_bytes(body: bytes, marking: str) -> None:
    header = b"From: jo@agency.gov.au\r\nSubject: Hi\r\n"
    out = apply_marking(header + b"\r\n" + body, marking).message
    assert split_message(out)[1] == body


@given(messages(), st.one_of(markings_2024(), markings_2012()))
@pytest.mark.slow
def test_apply_writes_exactly_the_marking(
    message: tuple[bytes, bytes, bytes], marking: Marking
) -> None:
    data, header, body = message
    policy: Policy = POLICY_2012 if marking.version == "2012.3" else POLICY_2024
    if not _writable(marking.replace(origin="jo@agency.gov.au")):
        return
    result = apply_marking(data, marking, policy=policy)
    expected = marking.replace(origin="jo@agency.gov.au")
    assert result.marking == expected
    _check_marked(header, body, result.message)
    read = read_marking(result.message, strict=False)
    assert read.marking == expected
    assert [s.marking for s in read.subject_markings] == [_short_form(expected)]
    assert apply_marking(result.message, marking, policy=policy).message == result.message


@given(markings_2024(), messages())
@pytest.mark.slow
def test_reply_inherits_the_original_marking(
    marking: Marking, message: tuple[bytes, bytes, bytes]
) -> None:
    # ISM-1089: the reply defaults to the original's whole marking, ORIGIN
    # included; anything lower is refused under the default policy.
    expected = marking.replace(origin="boss@agency.gov.au")
    if not _writable(expected):
        return
    original = apply_marking(
        b"From: boss@agency.gov.au\r\nSubject: Plan\r\n\r\nx\r\n", marking, policy=POLICY_2024
    ).message
    own = read_marking(message[0])
    if own.marked and own.rank is None:
        return  # the reply's own marking cannot be judged (tested elsewhere)
    reply = apply_marking(message[0], policy=POLICY_2024, originals=[original])
    if not own.marked:
        assert reply.marking == expected
    else:
        # Never lower than the original, nor than the reply's own marking.
        assert (reply.marking.rank or 0) >= max(expected.rank or 0, own.rank or 0)
        assert set(expected.caveats) <= set(reply.marking.caveats)
        assert set(expected.access) <= set(reply.marking.access)
    if marking.sec != "UNOFFICIAL":
        with pytest.raises(MarkingDowngrade):
            apply_marking(message[0], "UNOFFICIAL", policy=POLICY_2024, originals=[original])


# -- subjects ---------------------------------------------------------------------


@given(subjects)
def test_strip_leaves_no_marking(subject: str) -> None:
    stripped = strip_markings(subject)
    assert scan_subject(stripped) == []
    assert strip_markings(stripped) == stripped


@given(subjects)
def test_strip_keeps_the_other_words(subject: str) -> None:
    # Every word that is not part of a marking survives, in order.
    stripped = strip_markings(subject)
    spans = [(f.start, f.end) for f in scan_subject(subject)]
    outside = "".join(ch for i, ch in enumerate(subject) if not any(s <= i < e for s, e in spans))
    assert stripped.split() == outside.split()


# -- robustness -------------------------------------------------------------------


@given(st.text())
def test_parse_header_raises_only_marking_syntax_error(text: str) -> None:
    for strict in (False, True):
        try:
            parse_header(text, strict=strict)
        except MarkingSyntaxError:
            pass


_MARKINGISH = st.lists(
    st.one_of(
        st.text(max_size=4),
        st.sampled_from(
            [
                "VER=2024.1",
                "NS=gov.au",
                "SEC=",
                "DLM=",
                "CAVEAT=",
                "ACCESS=",
                "EXPIRES=",
                "DOWNTO=",
                "NOTE=",
                "ORIGIN=a@b.example",
                ", ",
                ",",
                "\\",
                "\\,",
                "]",
                "[",
                "[SEC=",
                "\r\n ",
                "\n",
                ":",
                "=",
                "SH:",
                "RI:REL",
                "EXCLUSIVE-FOR",
                "OFFICIAL",
                "Sensitive",
            ]
        ),
    ),
    max_size=16,
).map("".join)


@given(st.one_of(st.text(), _MARKINGISH))
def test_lenient_parsers_raise_only_marking_syntax_error(text: str) -> None:
    try:
        parse_header(text)
    except MarkingSyntaxError:
        pass
    scan_subject(text)  # lenient scanning never raises
    strip_markings(text)
    try:
        parse_subject_tag(text)
    except MarkingSyntaxError:
        pass


@given(st.one_of(st.text(), _MARKINGISH))
def test_strict_scan_raises_only_marking_syntax_error(text: str) -> None:
    try:
        scan_subject(text, strict=True)
    except MarkingSyntaxError:
        pass


_HEADERISH_LINES = st.lists(
    st.one_of(
        st.binary(max_size=20),
        st.sampled_from(
            [
                b"From: a@b.example",
                b"Subject: x [SEC=",
                b"Subject: [SEC=OFFICIAL]",
                b"X-Protective-Marking: VER=2024.1, NS=gov.au, SEC=",
                b" SEC=PROTECTED",
                b"\t",
                b"",
                b"From ",
                b"Subject: =?utf-8?b?W1NFQz1Q?=",
                b"x-protective-marking: NS=x",
            ]
        ),
    ),
    max_size=8,
)
_MESSAGEISH = st.one_of(
    st.binary(),
    st.builds(
        lambda lines, sep: sep.join(lines), _HEADERISH_LINES, st.sampled_from([b"\r\n", b"\n"])
    ),
)


@given(_MESSAGEISH, st.booleans())
def test_read_marking_raises_only_malformed_input(data: bytes, strict: bool) -> None:
    try:
        read_marking(data, strict=strict).to_dict()
    except MalformedInput:
        pass


@given(_MESSAGEISH)
def test_check_marking_raises_only_malformed_input(data: bytes) -> None:
    try:
        result = check_marking(data, "PROTECTED")
    except MalformedInput:
        return
    assert result.passed == (result.reason is None)


@given(st.one_of(_MESSAGEISH, _MESSAGEISH.map(b"From: jo@agency.gov.au\r\n".__add__)))
def test_apply_marking_raises_only_malformed_input(data: bytes) -> None:
    try:
        out = apply_marking(data, "OFFICIAL").message
    except MalformedInput:
        return
    assert len(read_marking(out).header_markings) == 1


# The canonical-form fast path of parse_header must give exactly what the
# general reader gives (mailcore/marking/_parse.py, _fast_header).
_FAST_SHAPES = st.builds(
    lambda version, sec, caveats, access, origin: ", ".join(
        [f"VER={version}", "NS=gov.au", f"SEC={sec}"]
        + [f"CAVEAT={c}" for c in caveats]
        + [f"ACCESS={a}" for a in access]
        + [f"ORIGIN={origin}"]
    ),
    st.sampled_from(["2018.1", "2018.3", "2018.4", "2024.1", "2025.1"]),
    st.sampled_from(
        ["UNOFFICIAL", "OFFICIAL", "OFFICIAL:Sensitive", "PROTECTED", "SECRET", "TOP-SECRET"]
    ),
    st.lists(
        st.sampled_from(["RI:AUSTEO", "RI:AGAO", "SH:CABINET", "SH:NATIONAL-CABINET", "SH:ORCON"]),
        max_size=3,
    ),
    st.lists(st.sampled_from(["Personal-Privacy", "Legal-Privilege"]), max_size=2),
    st.sampled_from(["jo@agency.gov.au", "a.b@c.d.example"]),
)


@given(_FAST_SHAPES, st.booleans())
def test_fast_path_agrees_with_the_general_reader(header: str, strict: bool) -> None:
    from mailcore.marking._parse import _fast_header, _header_fields, _interpret, _Reader

    reader = _Reader(strict, "X-Protective-Marking")
    try:
        general: Marking | None = _interpret(
            _header_fields(header, reader), reader, long_form=True
        )
    except MarkingSyntaxError:
        general = None
    fast = _fast_header(header)
    if fast is not None:
        # Taken only for markings the general reader accepts without defect.
        assert general is not None
        assert fast == general
        assert fast.defects == general.defects == ()


def test_fast_path_is_taken_for_the_common_forms() -> None:
    # Otherwise the agreement property above would hold vacuously.
    from mailcore.marking._parse import _fast_header

    for header in (
        "VER=2024.1, NS=gov.au, SEC=OFFICIAL, ORIGIN=jo@agency.gov.au",
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=SH:CABINET, "
        "ACCESS=Legal-Privilege, ORIGIN=jo@agency.gov.au",
    ):
        assert _fast_header(header) == parse_header(header, strict=True)
    # Anything off the canonical path is left to the general reader.
    assert _fast_header("VER=2024.1,NS=gov.au,SEC=OFFICIAL,ORIGIN=jo@agency.gov.au") is None
    assert (
        _fast_header(
            "VER=2024.1, NS=gov.au, SEC=OFFICIAL, ACCESS=Legal-Privilege, ORIGIN=jo@agency.gov.au"
        )
        is None
    )  # ACCESS needs OFFICIAL:Sensitive
