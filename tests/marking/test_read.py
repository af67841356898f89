"""Reading a whole message's marking (JSON A of the contract)."""

from __future__ import annotations

import json

import pytest

from mailcore.errors import MalformedInput, MalformedMessage, MarkingSyntaxError
from mailcore.marking import Caveat, read_marking
from tests.utils import build_message

# Contract §6 A: keys are fixed.
JSON_A_KEYS = [
    "marked",
    "source",
    "consistent",
    "version",
    "namespace",
    "sec",
    "dlm",
    "caveats",
    "access",
    "expires",
    "downto",
    "note",
    "origin",
    "subject_tag",
    "defects",
]
HEADER = "VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=RI:AUSTEO, ORIGIN=ops@agency.gov.au"


class TestJsonA:
    def test_keys_exactly(self) -> None:
        data = build_message(
            "From: ops@agency.gov.au",
            "Subject: Hi [SEC=PROTECTED, CAVEAT=RI:AUSTEO]",
            f"X-Protective-Marking: {HEADER}",
        )
        document = read_marking(data).to_dict()
        assert list(document) == JSON_A_KEYS

    def test_contract_example_values(self) -> None:
        data = build_message(
            "From: operations@example.com",
            "Subject: Hi [SEC=PROTECTED, DLM=Sensitive, CAVEAT=RI:AUSTEO]",
            "X-Protective-Marking: VER=2012.3, NS=gov.au, SEC=PROTECTED, DLM=Sensitive, "
            "CAVEAT=RI:AUSTEO, ORIGIN=operations@example.com",
        )
        assert read_marking(data).to_dict() == {
            "marked": True,
            "source": "both",
            "consistent": True,
            "version": "2012.3",
            "namespace": "gov.au",
            "sec": "PROTECTED",
            "dlm": "Sensitive",
            "caveats": ["RI:AUSTEO"],
            "access": [],
            "expires": None,
            "downto": None,
            "note": None,
            "origin": "operations@example.com",
            "subject_tag": "[SEC=PROTECTED, DLM=Sensitive, CAVEAT=RI:AUSTEO]",
            "defects": [],
        }

    def test_unmarked_has_every_key(self) -> None:
        document = read_marking(build_message("From: a@b.example", "Subject: Hi")).to_dict()
        assert list(document) == JSON_A_KEYS
        assert document["marked"] is False
        assert document["source"] is None
        assert document["caveats"] == [] and document["access"] == []
        assert document["defects"] == []


def test_json_a_is_valid_utf8_for_non_utf8_bytes() -> None:
    data = (
        b"From: a@b.example\r\n"
        b"X-Protective-Marking: VER=2024.1, NS=gov.au, SEC=PROTECTED, NOTE=caf\xe9, "
        b"ORIGIN=a@b.example\r\n\r\nbody\r\n"
    )
    document = read_marking(data).to_dict()
    json.dumps(document, ensure_ascii=False).encode("utf-8")
    assert document["sec"] == "PROTECTED"


class TestSources:
    def test_header_only(self) -> None:
        read = read_marking(build_message("From: a@b.example", f"X-Protective-Marking: {HEADER}"))
        assert read.source == "header"
        assert read.subject_tag is None

    def test_subject_only(self) -> None:
        read = read_marking(build_message("From: a@b.example", "Subject: Hi [SEC=OFFICIAL]"))
        assert read.source == "subject"
        assert read.marking is not None and read.marking.sec == "OFFICIAL"

    def test_header_wins_and_inconsistency_reported(self) -> None:
        # EPMS 2024 §6: the header takes precedence; contract: consistent false.
        data = build_message(
            "From: a@b.example", "Subject: Hi [SEC=OFFICIAL]", f"X-Protective-Marking: {HEADER}"
        )
        read = read_marking(data)
        assert read.source == "both"
        assert not read.consistent
        assert read.marking is not None and read.marking.sec == "PROTECTED"
        assert read.to_dict()["subject_tag"] == "[SEC=OFFICIAL]"
        assert "header_subject_mismatch" in read.defect_codes()

    def test_leftmost_subject_marking_shown(self) -> None:
        read = read_marking(
            build_message("From: a@b.example", "Subject: [SEC=OFFICIAL] x [SEC=SECRET]")
        )
        assert read.marking is not None and read.marking.sec == "OFFICIAL"
        assert read.subject_tag == "[SEC=OFFICIAL]"
        assert "multiple_subject_markings" in read.defect_codes()

    def test_rank_is_the_highest_seen(self) -> None:
        low = read_marking(build_message("From: a@b.example", "Subject: [SEC=OFFICIAL]"))
        both = read_marking(
            build_message("From: a@b.example", "Subject: [SEC=OFFICIAL] x [SEC=SECRET]")
        )
        high = read_marking(build_message("From: a@b.example", "Subject: [SEC=SECRET]"))
        assert low.rank is not None and both.rank == high.rank
        assert both.rank is not None and both.rank > low.rank

    def test_two_headers_are_a_defect(self) -> None:
        # EPMS 2024 §6.2: at most one X-Protective-Marking field.
        data = build_message(
            "From: a@b.example",
            f"X-Protective-Marking: {HEADER}",
            "X-Protective-Marking: VER=2024.1, NS=gov.au, SEC=OFFICIAL, ORIGIN=a@b.example",
        )
        read = read_marking(data)
        assert "multiple_headers" in read.defect_codes()
        assert read.marking is not None and read.marking.sec == "PROTECTED"
        with pytest.raises(MarkingSyntaxError):
            read_marking(data, strict=True)

    def test_field_name_case_insensitive(self) -> None:
        read = read_marking(build_message("From: a@b.example", f"x-protective-marking: {HEADER}"))
        assert read.marking is not None and read.marking.caveats == (Caveat("RI", "AUSTEO"),)

    def test_folded_subject(self) -> None:
        # Reference §9 item 2: Outlook folds just before the marking.
        read = read_marking(
            build_message("From: a@b.example", "Subject: A long subject\n [SEC=PROTECTED]")
        )
        assert read.marking is not None and read.marking.sec == "PROTECTED"

    def test_encoded_subject(self) -> None:
        read = read_marking(
            build_message(
                "From: a@b.example", "Subject: =?UTF-8?Q?Plans_f=C3=BCr_X_[SEC=OFFICIAL]?="
            )
        )
        assert read.marking is not None and read.marking.sec == "OFFICIAL"
        assert "marking_in_encoded_word" in read.defect_codes()

    def test_marking_not_at_the_end_is_advisory(self) -> None:
        data = build_message("From: a@b.example", "Subject: [SEC=OFFICIAL] Budget")
        read = read_marking(data, strict=True)
        assert "marking_not_at_end" in read.defect_codes()


class TestNamespaceOfSubjectOnlyMail:
    # EPMS 2024 §6.1: the namespace is implied from the From domain ending in .gov.au.
    @pytest.mark.parametrize(
        ("sender", "namespace"),
        [
            ("jo@agency.gov.au", "gov.au"),
            ("Jo <jo@dept.nsw.gov.au>", "gov.au"),
            ("jo@evilgov.au", None),  # §9 item 7: at a dot boundary only
            ("jo@example.com", None),
            ("jo@gov.au.example.com", None),
        ],
    )
    def test_namespace_from_sender(self, sender: str, namespace: str | None) -> None:
        read = read_marking(build_message(f"From: {sender}", "Subject: Hi [SEC=OFFICIAL]"))
        assert read.to_dict()["namespace"] == namespace


class TestStrictAndErrors:
    def test_strict_refuses_lowercase(self) -> None:
        data = build_message("From: a@b.example", "Subject: Hi [sec=official]")
        assert read_marking(data).marking is not None
        with pytest.raises(MarkingSyntaxError):
            read_marking(data, strict=True)

    def test_unparseable_header_recorded(self) -> None:
        read = read_marking(build_message("From: a@b.example", "X-Protective-Marking: hello"))
        assert read.marked
        assert not read.readable
        assert read.rank is None
        assert "unparseable_header" in read.defect_codes()

    @pytest.mark.parametrize(
        "data",
        [b"", b"not a message", b" starts folded\r\n\r\n", b"\x00\x01\x02"],
        ids=["empty", "no-colon", "continuation-first", "binary"],
    )
    def test_not_a_message(self, data: bytes) -> None:
        with pytest.raises(MalformedMessage) as caught:
            read_marking(data)
        assert isinstance(caught.value, MalformedInput)

    def test_body_lines_are_not_markings(self) -> None:
        data = build_message(
            "From: a@b.example",
            "Subject: Hi",
            body=b"X-Protective-Marking: SEC=SECRET\r\nSubject: [SEC=SECRET]\r\n",
        )
        assert not read_marking(data).marked
