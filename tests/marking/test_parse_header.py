"""Reading and writing the X-Protective-Marking long form (EPMS 2024 §7)."""

from __future__ import annotations

import pytest

from mailcore.errors import MalformedInput, MarkingSyntaxError
from mailcore.marking import Caveat, Marking, parse_header, read_marking
from tests.utils import build_message

AUTHOR = "neville.jones@entity.gov.au"

# EPMS 2024 Table 2 / Table 17: the six standard examples, as
# (subject medium form, the marking they stand for).
TABLE_17: dict[str, tuple[str, Marking]] = {
    "official": ("SEC=OFFICIAL", Marking(sec="OFFICIAL")),
    "official-sensitive": ("SEC=OFFICIAL:Sensitive", Marking(sec="OFFICIAL:Sensitive")),
    "legal-privilege": (
        "SEC=OFFICIAL:Sensitive, ACCESS=Legal-Privilege",
        Marking(sec="OFFICIAL:Sensitive", access=("Legal-Privilege",)),
    ),
    "national-cabinet": (
        "SEC=OFFICIAL:Sensitive, CAVEAT=SH:NATIONAL-CABINET",
        Marking(sec="OFFICIAL:Sensitive", caveats=(Caveat("SH", "NATIONAL-CABINET"),)),
    ),
    "expires-downto": (
        "SEC=PROTECTED, EXPIRES=2019-07-01, DOWNTO=OFFICIAL",
        Marking(sec="PROTECTED", expires="2019-07-01", downto="OFFICIAL"),
    ),
    "accountable-austeo": (
        "SEC=SECRET, CAVEAT=SH:ACCOUNTABLE-MATERIAL, CAVEAT=RI:AUSTEO",
        Marking(
            sec="SECRET",
            caveats=(Caveat("SH", "ACCOUNTABLE-MATERIAL"), Caveat("RI", "AUSTEO")),
        ),
    ),
}


def _table_17_header(medium: str, *, trailing: str = "", linesep: str = "\r\n") -> str:
    """The header value as printed in Table 17: folded after every comma that
    follows ``NS=gov.au,``, each continuation with one leading space."""
    parts = [*medium.split(", "), f"ORIGIN={AUTHOR}"]
    lines = ["VER=2024.1, NS=gov.au,", *(p + "," for p in parts[:-1]), parts[-1]]
    return (trailing + linesep + " ").join(lines)


def _expected(marking: Marking) -> Marking:
    return marking.replace(version="2024.1", namespace="gov.au", origin=AUTHOR)


class TestStandardExamples:
    @pytest.mark.parametrize(("medium", "marking"), TABLE_17.values(), ids=TABLE_17.keys())
    def test_folded_as_printed(self, medium: str, marking: Marking) -> None:
        value = _table_17_header(medium)
        assert value.count("\r\n ") == medium.count(", ") + 2
        parsed = parse_header(value, strict=True)
        assert parsed == _expected(marking)
        assert parsed.defects == ()

    @pytest.mark.parametrize(("medium", "marking"), TABLE_17.values(), ids=TABLE_17.keys())
    def test_trailing_spaces_before_the_break(self, medium: str, marking: Marking) -> None:
        # Reference note §2.5: the published document has "NS=gov.au,  " etc.
        value = _table_17_header(medium, trailing="  ")
        assert parse_header(value, strict=True) == _expected(marking)

    @pytest.mark.parametrize(("medium", "marking"), TABLE_17.values(), ids=TABLE_17.keys())
    def test_lf_folding(self, medium: str, marking: Marking) -> None:
        assert parse_header(_table_17_header(medium, linesep="\n"), strict=True) == _expected(
            marking
        )

    @pytest.mark.parametrize(("medium", "marking"), TABLE_17.values(), ids=TABLE_17.keys())
    def test_unfolded(self, medium: str, marking: Marking) -> None:
        value = f"VER=2024.1, NS=gov.au, {medium}, ORIGIN={AUTHOR}"
        assert parse_header(value, strict=True) == _expected(marking)

    @pytest.mark.parametrize(("medium", "marking"), TABLE_17.values(), ids=TABLE_17.keys())
    def test_whole_message_with_both_carriers(self, medium: str, marking: Marking) -> None:
        # Table 2 subject plus Table 17 header in one message: consistent.
        data = build_message(
            f"From: {AUTHOR}",
            f"Subject: This is an example subject line [{medium}]",
            "X-Protective-Marking: " + _table_17_header(medium, trailing=" ", linesep="\n"),
        )
        read = read_marking(data, strict=True)
        assert read.marking == _expected(marking)
        assert read.source == "both"
        assert read.consistent
        assert read.defects == ()

    @pytest.mark.parametrize(("medium", "marking"), TABLE_17.values(), ids=TABLE_17.keys())
    def test_written_form_matches_the_standard(self, medium: str, marking: Marking) -> None:
        full = _expected(marking)
        assert full.header_value() == f"VER=2024.1, NS=gov.au, {medium}, ORIGIN={AUTHOR}"
        assert full.subject_tag() == f"[{medium}]"


class TestGrammar:
    def test_several_spaces_and_tabs_are_fws(self) -> None:
        # RFC 5322 FWS: one or more WSP after the comma.
        value = "VER=2024.1,\t NS=gov.au,   SEC=OFFICIAL,\tORIGIN=a@b.example"
        assert parse_header(value, strict=True).sec == "OFFICIAL"

    def test_namespace_is_case_insensitive(self) -> None:
        # Table 14: namespace-value = "gov.au" ; case-insensitive
        parsed = parse_header(
            "VER=2024.1, NS=GOV.AU, SEC=OFFICIAL, ORIGIN=a@b.example", strict=True
        )
        assert parsed.namespace == "gov.au"
        assert not parsed.is_foreign

    def test_unknown_future_version_accepted(self) -> None:
        # VER is YYYY.V; an unknown year must not be refused (reference §1).
        parsed = parse_header(
            "VER=2031.7, NS=gov.au, SEC=PROTECTED, ORIGIN=a@b.example", strict=True
        )
        assert parsed.version == "2031.7"

    def test_note(self) -> None:
        parsed = parse_header(
            "VER=2024.1, NS=gov.au, SEC=PROTECTED, NOTE=Handle with care, ORIGIN=a@b.example",
            strict=True,
        )
        assert parsed.note == "Handle with care"

    def test_event_expiry(self) -> None:
        # Table 11 footnote 14: not a date, so an event description.
        parsed = parse_header(
            "VER=2024.1, NS=gov.au, SEC=PROTECTED, EXPIRES=Cabinet decision announced, "
            "DOWNTO=OFFICIAL, ORIGIN=a@b.example",
            strict=True,
        )
        assert parsed.expires == "Cabinet decision announced"
        assert parsed.expires_at is None

    def test_rel_country_codes(self) -> None:
        # Table 8: rel "/" country-codes.
        parsed = parse_header(
            "VER=2024.1, NS=gov.au, SEC=SECRET, CAVEAT=RI:REL/AUS/NZL, ORIGIN=a@b.example",
            strict=True,
        )
        assert parsed.caveats == (Caveat("RI", "REL/AUS/NZL"),)

    def test_exclusive_for_keeps_its_text(self) -> None:
        # Table 8: exclusive-for named-person-or-indicator, no separator.
        parsed = parse_header(
            "VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=SH:EXCLUSIVE-FOR Jane Citizen, "
            "ORIGIN=a@b.example",
            strict=True,
        )
        assert parsed.caveats == (Caveat("SH", "EXCLUSIVE-FOR Jane Citizen"),)

    def test_codeword_and_foreign_government(self) -> None:
        parsed = parse_header(
            "VER=2024.1, NS=gov.au, SEC=TOP-SECRET, CAVEAT=C:BLUE FIRE, CAVEAT=FG:NZL, "
            "ORIGIN=a@b.example",
            strict=True,
        )
        assert parsed.caveats == (Caveat("C", "BLUE FIRE"), Caveat("FG", "NZL"))

    def test_version_2012_with_dlm(self) -> None:
        parsed = parse_header(
            "VER=2012.3, NS=gov.au, SEC=UNCLASSIFIED, DLM=Sensitive:Legal, ORIGIN=a@b.example",
            strict=True,
        )
        assert (parsed.sec, parsed.dlm) == ("UNCLASSIFIED", "Sensitive:Legal")

    def test_access_before_caveat_is_the_2018_1_order(self) -> None:
        # Janusnet: 2018.1/2018.2 wrote ACCESS before CAVEAT; not a defect there.
        parsed = parse_header(
            "VER=2018.1, NS=gov.au, SEC=PROTECTED, ACCESS=Legal-Privilege, "
            "CAVEAT=SH:CABINET, ORIGIN=a@b.example",
            strict=True,
        )
        assert parsed.caveats == (Caveat("SH", "CABINET"),)
        assert parsed.access == ("Legal-Privilege",)

    def test_2005_privacy_suffix(self) -> None:
        parsed = parse_header("VER=2005.6, NS=gov.au, SEC=IN-CONFIDENCE:STAFF, ORIGIN=a@b.example")
        assert parsed.sec == "IN-CONFIDENCE:STAFF"
        assert (
            parsed.rank
            == parse_header("VER=2005.6, NS=gov.au, SEC=IN-CONFIDENCE, ORIGIN=a@b.example").rank
        )


class TestEscapes:
    def test_escaped_comma_and_backslash(self) -> None:
        parsed = parse_header(
            r"VER=2024.1, NS=gov.au, SEC=PROTECTED, NOTE=one\, two \\ three, ORIGIN=a@b.example",
            strict=True,
        )
        assert parsed.note == "one, two \\ three"

    def test_escaped_backslash_before_a_separator(self) -> None:
        # "\\," is an escaped backslash, then a real separator.
        parsed = parse_header(
            "VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=C:A\\\\, ORIGIN=a@b.example",
            strict=True,
        )
        assert parsed.caveats == (Caveat("C", "A\\"),)
        assert parsed.origin == "a@b.example"

    def test_escapes_in_caveats_and_events(self) -> None:
        parsed = parse_header(
            r"VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=C:X\,Y, EXPIRES=after a\, b, "
            r"DOWNTO=OFFICIAL, ORIGIN=a@b.example",
            strict=True,
        )
        assert parsed.caveats == (Caveat("C", "X,Y"),)
        assert parsed.expires == "after a, b"

    def test_writer_escapes(self) -> None:
        marking = Marking(
            sec="PROTECTED", caveats=(Caveat("C", "X,Y"),), note="a\\b, c", origin="a@b.example"
        )
        assert (
            marking.header_value()
            == r"SEC=PROTECTED, CAVEAT=C:X\,Y, NOTE=a\\b\, c, ORIGIN=a@b.example"
        )
        assert marking.subject_tag() == r"[SEC=PROTECTED, CAVEAT=C:X\,Y]"

    def test_escaped_comma_at_the_very_end(self) -> None:
        parsed = parse_header(r"VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=C:A\,")
        assert parsed.caveats == (Caveat("C", "A,"),)
        assert {d.code for d in parsed.defects} == {"missing_origin"}

    def test_other_escapes_are_lenient_only(self) -> None:
        # Only "\," and "\\" are escapes (Table 3); pmcau's "\=" is tolerated.
        value = r"VER=2024.1, NS=gov.au, SEC=PROTECTED, NOTE=a\=b, ORIGIN=a@b.example"
        assert parse_header(value).note == "a=b"
        with pytest.raises(MarkingSyntaxError) as caught:
            parse_header(value, strict=True)
        assert "bad_escape" in caught.value.defects


NON_ASCII_VALUES = {
    "latin-letter-in-note": "VER=2024.1, NS=gov.au, SEC=PROTECTED, NOTE=café, ORIGIN=a@b.example",
    "latin-letter-in-codeword": (
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=C:café, ORIGIN=a@b.example"
    ),
    "tab-in-codeword": "VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=C:a\tb, ORIGIN=a@b.example",
    "undecodable-byte-in-event": (
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, EXPIRES=caf\udce9, DOWNTO=OFFICIAL, "
        "ORIGIN=a@b.example"
    ),
}


class TestOnlyPrintableAscii:
    # EPMS 2024 Table 3: safe-char = %d32-43 / %d45-91 / %d93-126, "Only
    # printable characters are permitted"; the writer refuses anything else
    # (TestLineBreakInjection), so the strict reader must too.
    @pytest.mark.parametrize("value", NON_ASCII_VALUES.values(), ids=NON_ASCII_VALUES.keys())
    def test_strict_refuses(self, value: str) -> None:
        with pytest.raises(MarkingSyntaxError):
            parse_header(value, strict=True)

    @pytest.mark.parametrize("value", NON_ASCII_VALUES.values(), ids=NON_ASCII_VALUES.keys())
    def test_lenient_flags_it(self, value: str) -> None:
        assert parse_header(value).defects != ()

    @pytest.mark.parametrize("value", NON_ASCII_VALUES.values(), ids=NON_ASCII_VALUES.keys())
    def test_what_is_read_can_be_shown(self, value: str) -> None:
        # str() of a marking read leniently must not raise.
        assert "PROTECTED" in str(parse_header(value))


class TestForeignNamespace:
    def test_values_kept_opaque(self) -> None:
        # Reference §9 item 8: never read SEC with the gov.au vocabulary.
        parsed = parse_header("VER=1.0, NS=acme.example, SEC=x-42, ORIGIN=a@b.example")
        assert parsed.sec == "x-42"
        assert parsed.namespace == "acme.example"
        assert parsed.is_foreign
        assert parsed.rank is None

    def test_gov_au_words_not_interpreted(self) -> None:
        # SEC=official is lowercase gov.au vocabulary, but not in this namespace.
        parsed = parse_header("VER=2024.1, NS=vic.gov.au, SEC=official, ORIGIN=a@b.example")
        assert parsed.sec == "official"
        assert parsed.rank is None
        assert "value_case" not in {d.code for d in parsed.defects}

    def test_foreign_marking_round_trips(self) -> None:
        value = "VER=1.0, NS=acme.example, SEC=x-42, ORIGIN=a@b.example"
        assert parse_header(value).header_value() == value


# Each lenient deviation: the value, and the defect the lenient reader names.
DEVIATIONS: dict[str, str] = {
    "no_space_after_comma": "VER=2024.1,NS=gov.au,SEC=OFFICIAL,ORIGIN=a@b.example",
    "value_case": "VER=2024.1, NS=gov.au, SEC=official, ORIGIN=a@b.example",
    "tag_case": "VER=2024.1, NS=gov.au, sec=OFFICIAL, ORIGIN=a@b.example",
    "missing_origin": "VER=2024.1, NS=gov.au, SEC=OFFICIAL",
    "missing_version": "NS=gov.au, SEC=OFFICIAL, ORIGIN=a@b.example",
    "missing_namespace": "VER=2024.1, SEC=OFFICIAL, ORIGIN=a@b.example",
    "missing_classification": "VER=2024.1, NS=gov.au, ORIGIN=a@b.example",
    "official_sensitive_space": (
        "VER=2024.1, NS=gov.au, SEC=OFFICIAL: Sensitive, ORIGIN=a@b.example"
    ),
    "space_for_hyphen": "VER=2024.1, NS=gov.au, SEC=TOP SECRET, ORIGIN=a@b.example",
    "colon_for_equals": "VER=2012.3, NS=gov.au, SEC=PROTECTED, DLM:Sensitive, ORIGIN=a@b.example",
    "space_around_equals": "VER=2024.1, NS=gov.au, SEC = OFFICIAL, ORIGIN=a@b.example",
    "value_whitespace": "VER=2024.1, NS=gov.au, SEC= TOP-SECRET, ORIGIN=a@b.example",
    "space_separator": "VER=2012.3, NS=gov.au, SEC=PROTECTED DLM=Sensitive, ORIGIN=a@b.example",
    "unknown_tag": (
        "VER=2024.1, NS=gov.au, SEC=OFFICIAL, ACESS=Legal-Privilege, ORIGIN=a@b.example"
    ),
    "unknown_classification": "VER=2024.1, NS=gov.au, SEC=BANANA, ORIGIN=a@b.example",
    "not_in_version": "VER=2024.1, NS=gov.au, SEC=UNCLASSIFIED, ORIGIN=a@b.example",
    "bad_version": "VER=24, NS=gov.au, SEC=PROTECTED, ORIGIN=a@b.example",
    "duplicate_tag": "VER=2024.1, NS=gov.au, SEC=OFFICIAL, SEC=PROTECTED, ORIGIN=a@b.example",
    "field_order": "VER=2024.1, NS=gov.au, ORIGIN=a@b.example, SEC=OFFICIAL",
    "access_after_expires": (
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, EXPIRES=2019-07-01, DOWNTO=OFFICIAL, "
        "ACCESS=Legal-Privilege, ORIGIN=a@b.example"
    ),
    "access_before_caveat": (
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, ACCESS=Legal-Privilege, CAVEAT=SH:CABINET, "
        "ORIGIN=a@b.example"
    ),
    "expires_without_downto": (
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, EXPIRES=2019-07-01, ORIGIN=a@b.example"
    ),
    "downto_without_expires": (
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, DOWNTO=OFFICIAL, ORIGIN=a@b.example"
    ),
    "downto_not_lower": (
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, EXPIRES=2019-07-01, DOWNTO=SECRET, "
        "ORIGIN=a@b.example"
    ),
    "access_below_sensitive": (
        "VER=2024.1, NS=gov.au, SEC=OFFICIAL, ACCESS=Legal-Privilege, ORIGIN=a@b.example"
    ),
    "caveat_below_level": (
        "VER=2024.1, NS=gov.au, SEC=OFFICIAL:Sensitive, CAVEAT=SH:CABINET, ORIGIN=a@b.example"
    ),
    "rel_format": "VER=2024.1, NS=gov.au, SEC=SECRET, CAVEAT=RI:REL AUS/NZL, ORIGIN=a@b.example",
    "bad_country_codes": "VER=2024.1, NS=gov.au, SEC=SECRET, CAVEAT=RI:REL/AU, ORIGIN=a@b.example",
    "untyped_caveat": "VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=AUSTEO, ORIGIN=a@b.example",
    "unknown_caveat_type": (
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=XX:foo, ORIGIN=a@b.example"
    ),
    "unknown_caveat_value": (
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=SH:FOO, ORIGIN=a@b.example"
    ),
    "unknown_access": "VER=2024.1, NS=gov.au, SEC=PROTECTED, ACCESS=Foo, ORIGIN=a@b.example",
    "unknown_dlm": "VER=2012.3, NS=gov.au, SEC=PROTECTED, DLM=Foo, ORIGIN=a@b.example",
    "bad_origin": "VER=2024.1, NS=gov.au, SEC=OFFICIAL, ORIGIN=Jo <a@b.example>",
    "bad_escape": r"VER=2024.1, NS=gov.au, SEC=PROTECTED, NOTE=a\=b, ORIGIN=a@b.example",
    "empty_value": "VER=2024.1, NS=gov.au, SEC=PROTECTED, NOTE=, ORIGIN=a@b.example",
    "text_too_long": "VER=2024.1, NS=gov.au, SEC=PROTECTED, NOTE="
    + "x" * 129
    + ", ORIGIN=a@b.example",
    "too_long": (
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, "
        + ", ".join(f"CAVEAT=C:{i:03d}" + "x" * 100 for i in range(9))
        + ", ORIGIN=a@b.example"
    ),
}


@pytest.mark.parametrize(("code", "value"), DEVIATIONS.items(), ids=DEVIATIONS.keys())
def test_lenient_names_the_deviation_and_strict_refuses(code: str, value: str) -> None:
    lenient = parse_header(value)
    assert code in {d.code for d in lenient.defects}
    with pytest.raises(MarkingSyntaxError) as caught:
        parse_header(value, strict=True)
    assert code in caught.value.defects


def test_repeated_value_is_advisory() -> None:
    # The ABNF allows *(comma-FWS caveat) and *(comma-FWS IMM), so a repeat is
    # grammatical: strict accepts it, the repeat is flagged and dropped.
    value = (
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=SH:CABINET, CAVEAT=SH:CABINET, "
        "ACCESS=Legal-Privilege, ACCESS=Legal-Privilege, ORIGIN=a@b.example"
    )
    parsed = parse_header(value, strict=True)
    assert parsed.caveats == (Caveat("SH", "CABINET"),)
    assert parsed.access == ("Legal-Privilege",)
    assert {d.code for d in parsed.defects} == {"duplicate_value"}
    assert all(d.advisory for d in parsed.defects)


LENIENT_READINGS: dict[str, tuple[str, dict[str, object]]] = {
    "lowercase-level": (
        "VER=2024.1, NS=gov.au, SEC=official:sensitive, ORIGIN=a@b.example",
        {"sec": "OFFICIAL:Sensitive"},
    ),
    "body-text-spelling": (
        "VER=2024.1, NS=gov.au, SEC=OFFICIAL: Sensitive, ORIGIN=a@b.example",
        {"sec": "OFFICIAL:Sensitive"},
    ),
    "top-secret-with-space": (
        "VER=2024.1, NS=gov.au, SEC=TOP SECRET, ORIGIN=a@b.example",
        {"sec": "TOP-SECRET"},
    ),
    "rel-with-space": (
        "VER=2024.1, NS=gov.au, SEC=SECRET, CAVEAT=RI:REL AUS/NZL, ORIGIN=a@b.example",
        {"caveats": (Caveat("RI", "REL/AUS/NZL"),)},
    ),
    "delicate-source-prose-spelling": (
        "VER=2024.1, NS=gov.au, SEC=SECRET, CAVEAT=SH:DELICATE SOURCE, ORIGIN=a@b.example",
        {"caveats": (Caveat("SH", "DELICATE-SOURCE"),)},
    ),
    "regex-order-access": (
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, EXPIRES=2019-07-01, DOWNTO=OFFICIAL, "
        "ACCESS=Legal-Privilege, ORIGIN=a@b.example",
        {"access": ("Legal-Privilege",), "expires": "2019-07-01", "downto": "OFFICIAL"},
    ),
    "vendor-space-separated": (
        "VER=2012.3, NS=gov.au, SEC=PROTECTED DLM=Sensitive:Legal, ORIGIN=a@b.example",
        {"sec": "PROTECTED", "dlm": "Sensitive:Legal"},
    ),
    "dlm-colon": (
        "VER=2012.3,NS=gov.au,SEC=PROTECTED,DLM:Sensitive,ORIGIN=a@b.example",
        {"dlm": "Sensitive", "origin": "a@b.example"},
    ),
    "two-levels-the-higher-counts": (
        "VER=2024.1, NS=gov.au, SEC=OFFICIAL, SEC=PROTECTED, ORIGIN=a@b.example",
        {"sec": "PROTECTED"},
    ),
    "purview-bare-sec": ("SEC=UNOFFICIAL", {"sec": "UNOFFICIAL", "origin": None}),
    "unescaped-comma-in-note": (
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, NOTE=one, two, ORIGIN=a@b.example",
        {"note": "one, two", "origin": "a@b.example"},
    ),
}


@pytest.mark.parametrize(
    ("value", "fields"), LENIENT_READINGS.values(), ids=LENIENT_READINGS.keys()
)
def test_lenient_reading_canonicalises(value: str, fields: dict[str, object]) -> None:
    parsed = parse_header(value)
    for name, expected in fields.items():
        assert getattr(parsed, name) == expected, name


NOT_MARKINGS = {
    "empty": "",
    "blank": "   ",
    "prose": "hello world",
    "only-commas": ", , ,",
}


@pytest.mark.parametrize("value", NOT_MARKINGS.values(), ids=NOT_MARKINGS.keys())
@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
def test_nothing_marking_like_raises(value: str, strict: bool) -> None:
    with pytest.raises(MarkingSyntaxError) as caught:
        parse_header(value, strict=strict)
    assert isinstance(caught.value, MalformedInput)


class TestLineBreakInjection:
    @pytest.mark.parametrize(
        "value",
        [
            "VER=2024.1, NS=gov.au, SEC=OFFICIAL,\r\nBcc: victim@example.com",
            "VER=2024.1, NS=gov.au, SEC=OFFICIAL,\nBcc: victim@example.com",
            "VER=2024.1, NS=gov.au, SEC=OFFICIAL,\rBcc: victim@example.com",
            "VER=2024.1, NS=gov.au, SEC=OFFICIAL,\r ORIGIN=a@b.example",
            "VER=2024.1, NS=gov.au, SEC=OFFICIAL, ORIGIN=a@b.example\r\n",
        ],
        ids=["crlf", "lf", "cr", "bare-cr-before-space", "crlf-at-end"],
    )
    @pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
    def test_bare_line_break_raises(self, value: str, strict: bool) -> None:
        with pytest.raises(MarkingSyntaxError):
            parse_header(value, strict=strict)

    def test_folding_is_not_injection(self) -> None:
        value = "VER=2024.1, NS=gov.au,\r\n\tSEC=OFFICIAL,\n ORIGIN=a@b.example"
        assert parse_header(value, strict=True).origin == "a@b.example"

    @pytest.mark.parametrize("field", ["note", "origin", "expires", "sec"])
    def test_line_break_in_a_value_cannot_be_written(self, field: str) -> None:
        base = Marking(sec="PROTECTED", expires="x", downto="OFFICIAL", origin="a@b.example")
        marking = base.replace(**{field: "a\r\nBcc: victim@example.com"})
        with pytest.raises(MarkingSyntaxError):
            marking.header_value()
        with pytest.raises(MarkingSyntaxError):
            marking.header_value(fold=True)

    def test_line_break_in_a_caveat_cannot_reach_the_subject(self) -> None:
        marking = Marking(sec="PROTECTED", caveats=(Caveat("C", "x\r\nBcc: v@example.com"),))
        with pytest.raises(MarkingSyntaxError):
            marking.subject_tag()

    def test_non_ascii_cannot_be_written(self) -> None:
        # Table 3: only printable US-ASCII.
        with pytest.raises(MarkingSyntaxError):
            Marking(sec="PROTECTED", note="Straße").header_value()


class TestFolding:
    LONG = Marking(
        sec="PROTECTED",
        caveats=(
            Caveat("SH", "CABINET"),
            Caveat("C", "SOMEVERYLONGCODEWORD"),
            Caveat("RI", "AUSTEO"),
            Caveat("FG", "GERMANY"),
        ),
        access=("Legal-Privilege", "Personal-Privacy", "Legislative-Secrecy"),
        expires="2030-01-01",
        downto="OFFICIAL",
        note="x" * 100,
        origin="jo@agency.gov.au",
        version="2024.1",
        namespace="gov.au",
    )

    @pytest.mark.parametrize("linesep", ["\r\n", "\n"], ids=["crlf", "lf"])
    def test_folds_only_after_comma_space(self, linesep: str) -> None:
        folded = self.LONG.header_value(fold=True, linesep=linesep)
        lines = ("X-Protective-Marking: " + folded).split(linesep)
        assert len(lines) > 1
        for line in lines[:-1]:
            assert line.endswith(",")
        for line in lines[1:]:
            assert line.startswith(" ") and not line.startswith("  ")
        assert folded.replace(linesep, "") == self.LONG.header_value()

    def test_lines_fit_78_unless_one_field_is_longer(self) -> None:
        folded = self.LONG.header_value(fold=True)
        lines = ("X-Protective-Marking: " + folded).split("\r\n")
        for line in lines:
            if len(line) > 78:
                # only a field that is itself too long may overflow, alone
                assert line.count(", ") == 0, line
        assert any(line.startswith(" NOTE=") and len(line) > 78 for line in lines)

    def test_unfolded_by_default(self) -> None:
        assert "\n" not in self.LONG.header_value()

    def test_folded_value_reads_back(self) -> None:
        assert parse_header(self.LONG.header_value(fold=True), strict=True) == self.LONG

    def test_too_long_cannot_be_written(self) -> None:
        # EPMS 2024 §6: at most 998 characters.
        marking = self.LONG.replace(
            caveats=tuple(Caveat("C", f"{i:03d}" + "x" * 120) for i in range(8))
        )
        with pytest.raises(MarkingSyntaxError) as caught:
            marking.header_value()
        assert "too_long" in caught.value.defects
