"""The administrator's markings list (``[classification] markings``)."""

from __future__ import annotations

import pytest

from mailcore.errors import MarkingListError, PolicyError
from mailcore.marking import Caveat, Marking, default_markings, parse_markings_list


def _pairs(text: str, version: str = "2012.3") -> list[tuple[str, str]]:
    return [(entry.display, entry.value) for entry in parse_markings_list(text, version=version)]


class TestVendorForms:
    def test_comma_joined_values(self) -> None:
        # Citrix-style "SEC=CONFIDENTIAL,DLM=Sensitive": the entry splits on
        # its first comma only; the rest is the value.
        assert _pairs("CONFIDENTIAL+Sensitive,SEC=CONFIDENTIAL,DLM=Sensitive") == [
            ("CONFIDENTIAL+Sensitive", "SEC=CONFIDENTIAL, DLM=Sensitive")
        ]

    def test_space_joined_values(self) -> None:
        assert _pairs("PROTECTED+Sensitive:Legal,SEC=PROTECTED DLM=Sensitive:Legal") == [
            ("PROTECTED+Sensitive:Legal", "SEC=PROTECTED, DLM=Sensitive:Legal")
        ]

    def test_canonical_values_unchanged(self) -> None:
        assert _pairs("P,SEC=PROTECTED, DLM=Sensitive") == [("P", "SEC=PROTECTED, DLM=Sensitive")]

    def test_stray_semicolons_and_line_breaks(self) -> None:
        text = (
            ";UNOFFICIAL,SEC=UNOFFICIAL;;\r\n"
            "  PROTECTED,SEC=PROTECTED ;\r\n"
            "\tPROTECTED+Sensitive,SEC=PROTECTED,DLM=Sensitive;\n"
        )
        assert _pairs(text) == [
            ("UNOFFICIAL", "SEC=UNOFFICIAL"),
            ("PROTECTED", "SEC=PROTECTED"),
            ("PROTECTED+Sensitive", "SEC=PROTECTED, DLM=Sensitive"),
        ]

    def test_display_texts_with_plus_and_colon(self) -> None:
        [entry] = parse_markings_list(
            "OFFICIAL:Sensitive+Legal Privilege,SEC=OFFICIAL:Sensitive ACCESS=Legal-Privilege",
            version="2024.1",
        )
        assert entry.display == "OFFICIAL:Sensitive+Legal Privilege"
        assert entry.marking == Marking(sec="OFFICIAL:Sensitive", access=("Legal-Privilege",))

    def test_bracketed_value(self) -> None:
        assert _pairs("P,[SEC=PROTECTED, CAVEAT=SH:CABINET]", "2024.1") == [
            ("P", "SEC=PROTECTED, CAVEAT=SH:CABINET")
        ]

    def test_tab_between_fields(self) -> None:
        assert _pairs("P,SEC=PROTECTED\tCAVEAT=SH:CABINET", "2024.1") == [
            ("P", "SEC=PROTECTED, CAVEAT=SH:CABINET")
        ]

    def test_escaped_comma_stays_in_the_value(self) -> None:
        [entry] = parse_markings_list(r"P,SEC=PROTECTED, CAVEAT=C:A\, B", version="2024.1")
        assert entry.marking.caveats == (Caveat("C", "A, B"),)

    def test_codeword_with_spaces(self) -> None:
        [entry] = parse_markings_list("P,SEC=PROTECTED CAVEAT=C:BLUE FIRE", version="2024.1")
        assert entry.marking.caveats == (Caveat("C", "BLUE FIRE"),)

    def test_colon_word_inside_a_codeword(self) -> None:
        [entry] = parse_markings_list("P,SEC=PROTECTED, CAVEAT=C:ALPHA Bravo:1", version="2024.1")
        assert entry.marking.caveats == (Caveat("C", "ALPHA Bravo:1"),)

    def test_escaped_backslash_before_the_next_field(self) -> None:
        [entry] = parse_markings_list(
            "P,SEC=PROTECTED, CAVEAT=C:A\\\\, CAVEAT=SH:CABINET", version="2024.1"
        )
        assert entry.marking.caveats == (Caveat("C", "A\\"), Caveat("SH", "CABINET"))


class TestRefused:
    def test_missing_semicolon_between_dlms(self) -> None:
        # The vendor-document typo of reference §9 item 14.
        with pytest.raises(
            MarkingListError, match="Sensitive:LegalDLM=Sensitive:Personal"
        ) as caught:
            parse_markings_list(
                "Sensitive:Legal,DLM=Sensitive:LegalDLM=Sensitive:Personal;", version="2012.3"
            )
        assert caught.value.key == "classification.markings"

    def test_display_listed_twice(self) -> None:
        with pytest.raises(MarkingListError, match="PROTECTED") as caught:
            parse_markings_list("PROTECTED,SEC=PROTECTED;PROTECTED,SEC=SECRET", version="2024.1")
        assert "entry 2" in str(caught.value)

    def test_display_listed_twice_in_another_case(self) -> None:
        # find() matches displays case-insensitively, so these would collide.
        with pytest.raises(MarkingListError, match="entry 2"):
            parse_markings_list("Protected,SEC=PROTECTED;PROTECTED,SEC=SECRET", version="2024.1")

    @pytest.mark.parametrize(
        ("text", "entry"),
        [
            ("UNOFFICIAL,SEC=UNOFFICIAL;PROTECTED", "entry 2"),
            ("UNOFFICIAL,SEC=UNOFFICIAL;PROTECTED,", "entry 2"),
            (",SEC=PROTECTED", "entry 1"),
            ("X,SEC=BANANA", "entry 1"),
            ("X,SEC=OFFICIAL ACCESS=Legal-Privilege", "entry 1"),  # Table 1
            ("X,SEC=PROTECTED, NOTE=hi", "entry 1"),  # long form only
        ],
        ids=[
            "no-value",
            "empty-value",
            "empty-display",
            "unknown-level",
            "semantic-rule",
            "long-form",
        ],
    )
    def test_bad_entry_named(self, text: str, entry: str) -> None:
        with pytest.raises(MarkingListError, match=entry) as caught:
            parse_markings_list(text, version="2024.1")
        assert isinstance(caught.value, PolicyError)

    @pytest.mark.parametrize("text", ["", " ; ;\r\n", ";;;"])
    def test_empty_list(self, text: str) -> None:
        with pytest.raises(MarkingListError, match="empty"):
            parse_markings_list(text, version="2024.1")

    def test_lowercase_value_refused(self) -> None:
        # Values are case-sensitive (EPMS 2024 §7.1); the list is validated strictly.
        with pytest.raises(MarkingListError):
            parse_markings_list("P,SEC=protected", version="2024.1")


class TestFind:
    LIST = "UNOFFICIAL,SEC=UNOFFICIAL;PROTECTED Cabinet,SEC=PROTECTED CAVEAT=SH:CABINET"

    def test_by_display(self) -> None:
        markings = parse_markings_list(self.LIST, version="2024.1")
        entry = markings.find("PROTECTED Cabinet")
        assert entry is not None
        assert entry.marking.caveats == (Caveat("SH", "CABINET"),)

    def test_by_display_any_case(self) -> None:
        markings = parse_markings_list(self.LIST, version="2024.1")
        assert markings.find("protected cabinet") is markings.find("PROTECTED Cabinet")

    def test_by_value(self) -> None:
        markings = parse_markings_list(self.LIST, version="2024.1")
        entry = markings.find("SEC=PROTECTED, CAVEAT=SH:CABINET")
        assert entry is not None and entry.display == "PROTECTED Cabinet"

    def test_missing(self) -> None:
        markings = parse_markings_list(self.LIST, version="2024.1")
        assert markings.find("SECRET") is None
        assert markings.find("SEC=PROTECTED") is None

    def test_order_and_length(self) -> None:
        markings = parse_markings_list(self.LIST, version="2024.1")
        assert len(markings) == 2
        assert [e.display for e in markings] == ["UNOFFICIAL", "PROTECTED Cabinet"]


class TestDefaults:
    @pytest.mark.parametrize("version", ["2024.1", "2018.4", "2012.3", "2005.6"])
    def test_default_lists_are_valid(self, version: str) -> None:
        markings = default_markings(version)
        assert markings.version == version
        assert len(markings) > 0
        displays = [e.display.casefold() for e in markings]
        assert len(displays) == len(set(displays))

    def test_2012_list_has_the_dlms(self) -> None:
        dlms = {entry.marking.dlm for entry in default_markings("2012.3")}
        assert {
            "For-Official-Use-Only",
            "Sensitive",
            "Sensitive:Personal",
            "Sensitive:Legal",
        } <= dlms

    def test_2024_list_has_no_legacy_values(self) -> None:
        for entry in default_markings("2024.1"):
            assert entry.marking.dlm is None
            assert entry.marking.sec not in {"UNCLASSIFIED", "CONFIDENTIAL"}
