"""Subject markings: finding, decoding and stripping (EPMS 2024 §6.1)."""

from __future__ import annotations

import pytest

from mailcore.errors import MarkingSyntaxError
from mailcore.marking import (
    Caveat,
    Marking,
    decode_subject,
    parse_subject_tag,
    scan_subject,
    strip_markings,
)

# EPMS 2024 Table 2: the standard's subject examples.
TABLE_2 = {
    "official": ("[SEC=OFFICIAL]", Marking(sec="OFFICIAL")),
    "official-sensitive": ("[SEC=OFFICIAL:Sensitive]", Marking(sec="OFFICIAL:Sensitive")),
    "legal-privilege": (
        "[SEC=OFFICIAL:Sensitive, ACCESS=Legal-Privilege]",
        Marking(sec="OFFICIAL:Sensitive", access=("Legal-Privilege",)),
    ),
    "national-cabinet": (
        "[SEC=OFFICIAL:Sensitive, CAVEAT=SH:NATIONAL-CABINET]",
        Marking(sec="OFFICIAL:Sensitive", caveats=(Caveat("SH", "NATIONAL-CABINET"),)),
    ),
    "expires-downto": (
        "[SEC=PROTECTED, EXPIRES=2019-07-01, DOWNTO=OFFICIAL]",
        Marking(sec="PROTECTED", expires="2019-07-01", downto="OFFICIAL"),
    ),
    "accountable-austeo": (
        "[SEC=SECRET, CAVEAT=SH:ACCOUNTABLE-MATERIAL, CAVEAT=RI:AUSTEO]",
        Marking(
            sec="SECRET",
            caveats=(Caveat("SH", "ACCOUNTABLE-MATERIAL"), Caveat("RI", "AUSTEO")),
        ),
    ),
}


class TestStandardExamples:
    @pytest.mark.parametrize(("tag", "marking"), TABLE_2.values(), ids=TABLE_2.keys())
    def test_found_at_the_end(self, tag: str, marking: Marking) -> None:
        subject = f"This is an example subject line {tag}"
        [found] = scan_subject(subject, strict=True)
        assert found.marking == marking
        assert (found.start, found.end) == (len(subject) - len(tag), len(subject))
        assert found.text == tag
        assert not found.truncated

    @pytest.mark.parametrize(("tag", "marking"), TABLE_2.values(), ids=TABLE_2.keys())
    def test_parse_subject_tag(self, tag: str, marking: Marking) -> None:
        assert parse_subject_tag(tag, strict=True) == marking
        assert parse_subject_tag(tag[1:-1], strict=True) == marking  # without brackets
        assert marking.subject_tag() == tag


class TestScan:
    def test_leftmost_first(self) -> None:
        # Footnote 5: precedence to the first (leftmost) marking.
        found = scan_subject("Budget [SEC=PROTECTED] and [SEC=OFFICIAL]")
        assert [f.marking.sec for f in found if f.marking] == ["PROTECTED", "OFFICIAL"]
        assert found[0].start < found[1].start

    def test_marking_anywhere(self) -> None:
        # ABNF: [unstructured] "[" medium "]" [unstructured].
        [found] = scan_subject("[SEC=OFFICIAL] Budget")
        assert found.start == 0
        assert found.marking == Marking(sec="OFFICIAL")

    def test_no_marking(self) -> None:
        assert scan_subject("Budget [draft] (v2) {SEC=OFFICIAL} (SEC=OFFICIAL)") == []

    def test_prefix_words_are_not_levels(self) -> None:
        # Reference §9 item 12: OFFICIAL vs OFFICIAL:Sensitive, SECRET in TOP-SECRET.
        found = scan_subject("a [SEC=OFFICIAL:Sensitive] b [SEC=TOP-SECRET]")
        assert [f.marking.sec for f in found if f.marking] == ["OFFICIAL:Sensitive", "TOP-SECRET"]

    def test_bracket_inside_a_codeword(self) -> None:
        # Table 3: "]" is a safe-char; a "]" followed by more value text does
        # not end the tag.
        subject = "Plans [SEC=SECRET, CAVEAT=C:ALPHA]BETA] for review"
        [found] = scan_subject(subject, strict=True)
        assert found.marking is not None
        assert found.marking.caveats == (Caveat("C", "ALPHA]BETA"),)
        assert found.text == "[SEC=SECRET, CAVEAT=C:ALPHA]BETA]"

    def test_bracket_inside_a_codeword_followed_by_fields(self) -> None:
        tag = "[SEC=SECRET, CAVEAT=C:ALPHA]BETA, ACCESS=Legal-Privilege]"
        [found] = scan_subject(f"x {tag} y", strict=True)
        assert found.marking is not None
        assert found.marking.caveats == (Caveat("C", "ALPHA]BETA"),)
        assert found.marking.access == ("Legal-Privilege",)
        assert found.text == tag

    def test_escaped_comma_in_subject(self) -> None:
        [found] = scan_subject(r"x [SEC=PROTECTED, CAVEAT=C:A\, B]", strict=True)
        assert found.marking is not None
        assert found.marking.caveats == (Caveat("C", "A, B"),)

    def test_dlm_only_marking(self) -> None:
        # 2012.3: a DLM-only subject marking is legal.
        [found] = scan_subject("Budget [DLM=Sensitive]", strict=True)
        assert found.marking == Marking(sec=None, dlm="Sensitive")

    def test_lenient_case_and_spaces(self) -> None:
        [found] = scan_subject("x [ sec=protected ]")
        assert found.marking is not None
        assert found.marking.sec == "PROTECTED"
        codes = {d.code for d in found.marking.defects}
        assert {"space_inside_brackets", "tag_case", "value_case"} <= codes
        with pytest.raises(MarkingSyntaxError):
            scan_subject("x [ sec=protected ]", strict=True)

    def test_long_form_keys_flagged(self) -> None:
        # Reference §9 item 24: the subject carries only the medium form.
        [found] = scan_subject("x [SEC=OFFICIAL, NOTE=hi]")
        assert found.marking is not None
        assert "long_form_in_subject" in {d.code for d in found.marking.defects}
        with pytest.raises(MarkingSyntaxError):
            scan_subject("x [SEC=OFFICIAL, NOTE=hi]", strict=True)


def test_strict_refuses_non_ascii_value() -> None:
    with pytest.raises(MarkingSyntaxError):
        scan_subject("x [SEC=PROTECTED, CAVEAT=C:café]", strict=True)


class TestTruncation:
    # Reference §9 item 20: "[SEC=PROTEC" at the end is a cut-off marking,
    # never "unmarked".
    @pytest.mark.parametrize(
        "subject",
        [
            "Plans [SEC=PROTEC",
            "Plans [SEC=",
            "Plans [SEC=PROTECTED, CAVEAT=SH:CAB",
            "Plans [SEC=PROTECTED,",
        ],
    )
    def test_truncated_flagged(self, subject: str) -> None:
        [found] = scan_subject(subject)
        assert found.truncated
        assert found.end == len(subject)

    def test_complete_fields_of_a_truncated_marking_kept(self) -> None:
        [found] = scan_subject("Plans [SEC=PROTECTED, CAVEAT=SH:CAB")
        assert found.truncated
        assert found.marking is not None
        assert found.marking.sec == "PROTECTED"

    def test_strict_refuses_truncated(self) -> None:
        with pytest.raises(MarkingSyntaxError) as caught:
            scan_subject("Plans [SEC=PROTEC", strict=True)
        assert "truncated" in caught.value.defects

    def test_parse_subject_tag_refuses_truncated(self) -> None:
        with pytest.raises(MarkingSyntaxError):
            parse_subject_tag("[SEC=PROTECTED")


class TestParseSubjectTag:
    def test_two_markings_are_not_one(self) -> None:
        with pytest.raises(MarkingSyntaxError):
            parse_subject_tag("[SEC=OFFICIAL] [SEC=PROTECTED]")

    def test_text_around_is_not_a_tag(self) -> None:
        with pytest.raises(MarkingSyntaxError):
            parse_subject_tag("Budget [SEC=OFFICIAL]")

    def test_version_selects_the_vocabulary(self) -> None:
        # UNCLASSIFIED is a 2012.3 level, not a 2024.1 one.
        assert parse_subject_tag("SEC=UNCLASSIFIED", strict=True, version="2012.3").sec == (
            "UNCLASSIFIED"
        )
        with pytest.raises(MarkingSyntaxError):
            parse_subject_tag("SEC=UNCLASSIFIED", strict=True, version="2024.1")

    def test_bare_level_is_not_a_marking(self) -> None:
        with pytest.raises(MarkingSyntaxError):
            parse_subject_tag("PROTECTED")


class TestDecode:
    def test_plain_subject_unchanged(self) -> None:
        decoded = decode_subject("Budget [SEC=OFFICIAL]")
        assert decoded.text == "Budget [SEC=OFFICIAL]"
        assert not decoded.in_encoded_word(0, len(decoded.text))

    def test_q_encoded_marking_found(self) -> None:
        # Reference §9 item 3: the marking may sit inside an encoded-word.
        decoded = decode_subject("=?UTF-8?Q?Plans_f=C3=BCr_X_[SEC=OFFICIAL]?=")
        assert decoded.text == "Plans für X [SEC=OFFICIAL]"
        [found] = scan_subject(decoded.text)
        assert found.marking == Marking(sec="OFFICIAL")
        assert decoded.in_encoded_word(found.start, found.end)

    def test_b_encoded_marking_found(self) -> None:
        decoded = decode_subject("=?utf-8?B?UGxhbnMgW1NFQz1QUk9URUNURURd?=")
        assert decoded.text == "Plans [SEC=PROTECTED]"

    def test_plain_marking_after_encoded_words(self) -> None:
        decoded = decode_subject("=?UTF-8?Q?caf=C3=A9?= [SEC=OFFICIAL]")
        assert decoded.text == "café [SEC=OFFICIAL]"
        [found] = scan_subject(decoded.text)
        assert not decoded.in_encoded_word(found.start, found.end)

    def test_space_between_encoded_words_dropped(self) -> None:
        # RFC 2047 §6.2.
        assert decode_subject("=?UTF-8?Q?a?= =?UTF-8?Q?b?= c").text == "ab c"

    def test_space_between_encoded_and_plain_kept(self) -> None:
        assert decode_subject("x =?UTF-8?Q?a?= y").text == "x a y"

    def test_undecodable_word_left_as_is(self) -> None:
        decoded = decode_subject("=?x-unknown?Q?a?= c")
        assert decoded.text == "=?x-unknown?Q?a?= c"
        assert decoded.bad_words == 1

    def test_bad_base64_left_as_is(self) -> None:
        decoded = decode_subject("=?utf-8?B?!!!?= c")
        assert "c" in decoded.text


STRIP = {
    "end": ("Budget [SEC=OFFICIAL]", "Budget"),
    "start": ("[SEC=OFFICIAL] Budget", "Budget"),
    "middle": ("Budget [SEC=OFFICIAL] plans", "Budget plans"),
    "re-fwd-chain": (
        "Re: Fwd: [SEC=OFFICIAL] Budget [SEC=PROTECTED] notes [SEC=OFFICIAL]",
        "Re: Fwd: Budget notes",
    ),
    "prepend-tools": ("[SEC=OFFICIAL] Re: [SEC=OFFICIAL] Fwd: Budget", "Re: Fwd: Budget"),
    "append-tools": (
        "Re: Re: Budget [SEC=OFFICIAL] [SEC=OFFICIAL] [SEC=OFFICIAL]",
        "Re: Re: Budget",
    ),
    "any-case": ("RE: AW: Budget [sec=official]", "RE: AW: Budget"),
    "truncated": ("Re: Budget [SEC=PROTEC", "Re: Budget"),
    "bracket-in-codeword": ("Re: Plans [SEC=SECRET, CAVEAT=C:A]B] now", "Re: Plans now"),
    "other-brackets-kept": (
        "Re: [draft] Budget [SEC=OFFICIAL] (v2)",
        "Re: [draft] Budget (v2)",
    ),
    "no-marking": ("Re: Fwd: Budget", "Re: Fwd: Budget"),
    "only-a-marking": ("[SEC=OFFICIAL]", ""),
}


class TestStrip:
    @pytest.mark.parametrize(("subject", "expected"), STRIP.values(), ids=STRIP.keys())
    def test_strip(self, subject: str, expected: str) -> None:
        assert strip_markings(subject) == expected

    @pytest.mark.parametrize(("subject", "expected"), STRIP.values(), ids=STRIP.keys())
    def test_strip_leaves_nothing_to_find(self, subject: str, expected: str) -> None:
        assert scan_subject(strip_markings(subject)) == []
        assert strip_markings(expected) == expected
