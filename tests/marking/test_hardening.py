"""Regression tests for problems found in review: injection, misjudged
levels, lost caveats, text taken for markings, and unsafe generated headers."""

from __future__ import annotations

import email

import pytest

from mailcore.errors import MalformedInput, MarkingSyntaxError
from mailcore.marking import (
    Caveat,
    apply_marking,
    check_marking,
    default_markings,
    parse_header,
    parse_subject_tag,
    read_marking,
    resolve_marking,
    scan_subject,
)
from mailcore.marking._parse import _dedupe, _Reader
from mailcore.marking._subject import rewrite_subject
from tests.utils import build_message

AUTHOR = "jo.citizen@agency.gov.au"


class TestNoHeaderInjection:
    @pytest.mark.parametrize(
        "subject",
        [
            "=?us-ascii?Q?Hi=0D=0ABcc:_evil@attacker.example_[SEC=OFFICIAL]?=",
            "=?us-ascii?B?SGkNCkJjYzogZXZpbEBhdHRhY2tlci5leGFtcGxlIFtTRUM9T0ZGSUNJQUxd?=",
            "=?us-ascii?Q?Hi=0ABcc:_evil@attacker.example_[SEC=OFFICIAL]?=",
        ],
    )
    def test_decoded_line_breaks_never_reach_the_header(self, subject: str) -> None:
        # A marking inside an encoded-word forces re-encoding; the CR/LF that
        # the encoded-word carried must not come out raw (header injection).
        message = build_message(
            f"From: {AUTHOR}", f"Subject: {subject}", f"Thread-Topic: {subject}"
        )
        out = apply_marking(message, "PROTECTED").message
        parsed = email.message_from_bytes(out)
        assert parsed["Bcc"] is None
        names = [name.lower() for name in parsed.keys()]
        assert names.count("subject") == 1 and "bcc" not in names

    def test_encode_field_refuses_bare_line_breaks(self) -> None:
        from mailcore._message import RawMessage

        raw = RawMessage(build_message(f"From: {AUTHOR}", "Subject: x"))
        with pytest.raises(MalformedInput):
            raw.encode_field("Subject", "a\r\nBcc: x@y.example")
        # Folding (a break followed by white space) is fine.
        assert raw.encode_field("Subject", "a\r\n b").startswith(b"Subject: a\r\n b")


class TestLevelsAreNotGuessed:
    @pytest.mark.parametrize(
        "sec", ["OFFICIAL:Sensitve", "OFFICIAL:Sensitive//Legal-Privilege", "UNOFFICIAL:SECRET"]
    )
    def test_a_colon_does_not_make_a_known_prefix(self, sec: str) -> None:
        marking = parse_header(f"VER=2024.1, NS=gov.au, SEC={sec}, ORIGIN=a@b.gov.au")
        assert marking.rank is None
        message = build_message("From: a@b.gov.au", f"Subject: hi [SEC={sec}]")
        assert not check_marking(message, "TOP-SECRET").passed

    def test_2005_privacy_suffix_keeps_its_level(self) -> None:
        marking = parse_header("VER=2005.6, NS=gov.au, SEC=IN-CONFIDENCE:STAFF, ORIGIN=a@b.gov.au")
        assert (
            marking.rank
            == parse_header("VER=2005.6, NS=gov.au, SEC=IN-CONFIDENCE, ORIGIN=a@b.gov.au").rank
        )

    def test_an_unknown_second_sec_cannot_be_outranked(self) -> None:
        marking = parse_header(
            "VER=2024.1, NS=gov.au, SEC=OFFICIAL, SEC=SECRET:AUSTEO, ORIGIN=a@b.gov.au"
        )
        assert marking.rank is None
        known = parse_header("VER=2024.1, NS=gov.au, SEC=OFFICIAL, SEC=SECRET, ORIGIN=a@b.gov.au")
        assert known.sec == "SECRET"

    def test_a_second_subject_field_counts(self) -> None:
        message = build_message(
            "From: a@b.gov.au", "Subject: hi [SEC=OFFICIAL]", "Subject: hi [SEC=SECRET]"
        )
        result = check_marking(message, "OFFICIAL")
        assert not result.passed and result.reason == "above_maximum"


class TestInheritance:
    def test_every_marking_of_an_original_is_combined(self) -> None:
        original = build_message(
            "From: boss@agency.gov.au",
            "Subject: Plans [SEC=PROTECTED, CAVEAT=RI:AUSTEO]",
            "X-Protective-Marking: VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=SH:CABINET, "
            "ORIGIN=boss@agency.gov.au",
        )
        reply = build_message(f"From: {AUTHOR}", "Subject: Re: Plans")
        out = apply_marking(reply, originals=[original])
        assert set(out.marking.caveats) == {Caveat("SH", "CABINET"), Caveat("RI", "AUSTEO")}

    def test_invalid_inherited_origin_and_unknown_tags_are_not_written(self) -> None:
        original = build_message(
            "From: boss@agency.gov.au",
            "Subject: Plans",
            "X-Protective-Marking: VER=2024.1, NS=gov.au, SEC=PROTECTED, "
            "ACESS=Legal-Privilege, ORIGIN={{UPN}}",
        )
        reply = build_message(f"From: {AUTHOR}", "Subject: Re: Plans")
        out = apply_marking(reply, originals=[original])
        assert out.marking.origin == AUTHOR
        assert "ACESS" not in out.marking.header_value()
        # What mailcore writes, its own strict reader accepts.
        assert read_marking(out.message, strict=True).marking == out.marking


class TestProseIsNotAMarking:
    @pytest.mark.parametrize(
        "subject",
        [
            "Minutes [Sec: Committee secretary notes] attached",
            "Budget [SEC=OFFICIAL and more words here",
        ],
    )
    def test_user_text_is_kept(self, subject: str) -> None:
        marking = parse_subject_tag("[SEC=PROTECTED]")
        rewritten = rewrite_subject(subject, marking, "\r\n")
        assert rewritten == subject + " [SEC=PROTECTED]"
        assert scan_subject(subject) == []

    def test_a_cut_off_marking_is_still_stripped(self) -> None:
        marking = parse_subject_tag("[SEC=PROTECTED]")
        assert rewrite_subject("Budget [SEC=PROTEC", marking, "\r\n") == "Budget [SEC=PROTECTED]"

    def test_a_broken_tag_does_not_swallow_the_next(self) -> None:
        found = scan_subject("a [SEC=0 0 , [SEC=UNOFFICIAL]")
        assert [f.marking.sec for f in found if f.marking] == ["UNOFFICIAL"]


class TestMarkingArgument:
    def test_bare_level_and_long_form(self) -> None:
        markings = default_markings("2024.1")
        assert resolve_marking("PROTECTED", markings).sec == "PROTECTED"
        long_form = resolve_marking(
            "VER=2024.1, NS=gov.au, SEC=PROTECTED, NOTE=Budget\\, draft, ORIGIN=x@y.gov.au",
            markings,
        )
        assert (long_form.sec, long_form.note, long_form.origin) == (
            "PROTECTED",
            "Budget, draft",
            None,
        )

    def test_error_names_the_offered_displays(self) -> None:
        with pytest.raises(MarkingSyntaxError, match="'UNOFFICIAL'"):
            resolve_marking("BOGUS", default_markings("2024.1"))


def test_deduplication_is_linear() -> None:
    # 20,000 distinct caveats: a quadratic check would take seconds.
    items = [Caveat("C", f"x{n}") for n in range(20000)]
    reader = _Reader(False, "test")
    assert _dedupe(items + items[:1], "CAVEAT", reader) == items
    assert [d.code for d in reader.defects] == ["duplicate_value"]


def test_ri_eo_is_a_2012_caveat() -> None:
    marking = parse_header(
        "VER=2012.3, NS=gov.au, SEC=PROTECTED, CAVEAT=RI:EO, ORIGIN=a@b.gov.au", strict=True
    )
    assert marking.caveats == (Caveat("RI", "EO"),)
