"""The gateway check (ISM-0565): at or below a level, else refused."""

from __future__ import annotations

import pytest

from mailcore.errors import MarkingSyntaxError
from mailcore.marking import check_marking, default_markings, level_rank
from tests.utils import build_message


def _message(subject: str | None = None, *headers: str) -> bytes:
    fields = ["From: jo@agency.gov.au"]
    fields += [f"X-Protective-Marking: {h}" for h in headers]
    if subject is not None:
        fields.append(f"Subject: {subject}")
    return build_message(*fields)


def _header(level: str) -> str:
    return f"VER=2024.1, NS=gov.au, SEC={level}, ORIGIN=jo@agency.gov.au"


LEVELS = {
    "below": ("OFFICIAL", "PROTECTED", True, None),
    "at": ("PROTECTED", "PROTECTED", True, None),
    "above": ("SECRET", "PROTECTED", False, "above_maximum"),
    "sensitive-above-official": ("OFFICIAL:Sensitive", "OFFICIAL", False, "above_maximum"),
    "official-below-sensitive": ("OFFICIAL", "OFFICIAL:Sensitive", True, None),
    "unofficial-below-official": ("UNOFFICIAL", "OFFICIAL", True, None),
    "top-secret-above-secret": ("TOP-SECRET", "SECRET", False, "above_maximum"),
}


@pytest.mark.parametrize(
    ("level", "maximum", "passed", "reason"), LEVELS.values(), ids=LEVELS.keys()
)
@pytest.mark.parametrize("carrier", ["subject", "header"])
def test_levels(carrier: str, level: str, maximum: str, passed: bool, reason: str | None) -> None:
    message = (
        _message(f"Hi [SEC={level}]") if carrier == "subject" else _message("Hi", _header(level))
    )
    result = check_marking(message, maximum)
    assert (result.passed, result.reason) == (passed, reason)


def test_unmarked_fails_by_default() -> None:
    result = check_marking(_message("Hi"), "TOP-SECRET")
    assert (result.passed, result.reason) == (False, "unmarked")


def test_unmarked_allowed_when_asked() -> None:
    assert check_marking(_message("Hi"), "OFFICIAL", allow_unmarked=True).passed


def test_allow_unmarked_does_not_admit_unreadable() -> None:
    result = check_marking(_message("Hi [SEC=PROTEC"), "TOP-SECRET", allow_unmarked=True)
    assert not result.passed


def test_truncated_fails() -> None:
    # Reference §9 item 20: cut off is not unmarked.
    result = check_marking(_message("Budget [SEC=PROTEC"), "TOP-SECRET")
    assert (result.passed, result.reason) == (False, "truncated")


def test_truncated_after_a_low_level_still_fails() -> None:
    result = check_marking(_message("Budget [SEC=UNOFFICIAL, CAVEAT=SH:CAB"), "TOP-SECRET")
    assert not result.passed


def test_foreign_namespace_fails() -> None:
    # Reference §9 item 8: an opaque level cannot be judged, so it is refused.
    message = _message("Hi", "VER=1.0, NS=acme.example, SEC=x-42, ORIGIN=a@acme.example")
    result = check_marking(message, "TOP-SECRET")
    assert (result.passed, result.reason) == (False, "unknown_level")


def test_unknown_level_fails() -> None:
    result = check_marking(_message("Hi [SEC=BANANA]"), "TOP-SECRET")
    assert not result.passed


def test_non_ascii_marking_fails_the_check() -> None:
    data = b"From: a@b.example\r\nSubject: Hi [SEC=caf\xe9]\r\n\r\nbody\r\n"
    result = check_marking(data, "TOP-SECRET")
    assert not result.passed


def test_highest_of_header_and_subject_decides() -> None:
    # The header wins for display, but a gateway enforces the maximum of
    # everything seen (reference §5 table, §9 item 5).
    message = _message("Hi [SEC=SECRET]", _header("OFFICIAL"))
    result = check_marking(message, "PROTECTED")
    assert (result.passed, result.reason) == (False, "above_maximum")
    assert result.level == "SEC=OFFICIAL"  # what is shown is still the header


def test_higher_header_decides_too() -> None:
    message = _message("Hi [SEC=OFFICIAL]", _header("SECRET"))
    assert not check_marking(message, "PROTECTED").passed


def test_highest_of_several_headers_decides() -> None:
    message = _message("Hi", _header("OFFICIAL"), _header("SECRET"))
    assert not check_marking(message, "PROTECTED").passed


def test_highest_of_several_subject_markings_decides() -> None:
    message = _message("Hi [SEC=OFFICIAL] [SEC=SECRET]")
    assert not check_marking(message, "PROTECTED").passed


def test_legacy_levels_on_the_same_scale() -> None:
    # Reference §4.4: a DLM is about OFFICIAL:Sensitive, CONFIDENTIAL above PROTECTED.
    assert not check_marking(_message("Hi [DLM=Sensitive]"), "OFFICIAL").passed
    assert check_marking(_message("Hi [DLM=Sensitive]"), "OFFICIAL:Sensitive").passed
    assert check_marking(_message("Hi [SEC=UNCLASSIFIED]"), "OFFICIAL").passed
    assert not check_marking(_message("Hi [SEC=CONFIDENTIAL]"), "PROTECTED").passed


def test_to_dict() -> None:
    result = check_marking(_message("Hi [SEC=SECRET]"), "PROTECTED")
    document = result.to_dict()
    assert set(document) == {"passed", "reason", "level", "max", "marking"}
    assert document["passed"] is False
    assert document["max"] == "PROTECTED"
    assert document["marking"]["sec"] == "SECRET"


class TestLevelRank:
    def test_order_of_2024_levels(self) -> None:
        ranks = [
            level_rank(level)
            for level in (
                "UNOFFICIAL",
                "OFFICIAL",
                "OFFICIAL:Sensitive",
                "PROTECTED",
                "SECRET",
                "TOP-SECRET",
            )
        ]
        assert ranks == sorted(ranks)
        assert len(set(ranks)) == len(ranks)

    def test_any_case(self) -> None:
        assert level_rank("protected") == level_rank("PROTECTED")

    def test_display_value_of_the_list(self) -> None:
        markings = default_markings("2024.1")
        assert level_rank("PROTECTED CABINET", markings) == level_rank("PROTECTED")

    def test_marking_value(self) -> None:
        assert level_rank("SEC=OFFICIAL:Sensitive") == level_rank("OFFICIAL:Sensitive")

    def test_unknown_level(self) -> None:
        with pytest.raises(MarkingSyntaxError, match="BANANA"):
            level_rank("BANANA")

    def test_unknown_maximum_is_malformed_input(self) -> None:
        with pytest.raises(MarkingSyntaxError):
            check_marking(_message("Hi [SEC=OFFICIAL]"), "BANANA")
