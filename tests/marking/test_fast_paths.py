"""The shortcuts for unmarked mail must give what the general code gives.

``read_marking`` answers an unmarked message (no header field, a subject
with no "[" and no encoded-word) without scanning the subject, and
``rewrite_subject`` appends the tag to such a subject without taking it
apart.  Both are checked here against the general code on generated input,
including subjects that sit right at the edge of the shortcut.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from mailcore._message import RawMessage
from mailcore.marking import Marking, read_marking
from mailcore.marking._read import _read_located
from mailcore.marking._subject import _without_markings, may_hold_marking, rewrite_subject
from tests.strategies import markings_2024, subjects

# Subjects near the edge of the shortcut: brackets, encoded-words, spaces.
_EDGY = st.lists(
    st.sampled_from(
        [
            "Plan",
            "[",
            "]",
            "[SEC=OFFICIAL]",
            "[DLM=Sensitive]",
            "=?utf-8?q?=5BSEC=3DPROTECTED=5D?=",
            "=?utf-8?b?W1NFQz1PRkZJQ0lBTF0=?=",
            "=?",
            " ",
            "\t",
            "SEC=PROTECTED",
            "Ünïcode",
        ]
    ),
    max_size=6,
).map("".join)
_SUBJECTS = st.one_of(subjects, _EDGY, st.text(max_size=40))
_LINESEPS = st.sampled_from(["\r\n", "\n"])


def _message(subjects: list[str], linesep: str, header: str | None) -> bytes:
    lines = ["From: Jo <jo@agency.gov.au>", "To: sam@agency.gov.au"]
    lines += [f"Subject: {subject}" for subject in subjects]
    if header is not None:
        lines.append(f"X-Protective-Marking: {header}")
    text = linesep.join(lines) + linesep + linesep + "Body" + linesep
    return text.encode("utf-8", "surrogateescape")


def _general(data: bytes) -> object:
    raw = RawMessage(data)
    return _read_located(raw, raw.find_many("X-Protective-Marking", "Subject"), strict=False)


_ONE_LINE = _SUBJECTS.filter(lambda s: "\r" not in s and "\n" not in s)


@given(st.lists(_ONE_LINE, max_size=2), _LINESEPS)
@example(["Budget planning"], "\r\n")
@example(["Plan [SEC=OFFICIAL]"], "\r\n")
@example(["=?utf-8?q?=5BSEC=3DPROTECTED=5D?="], "\n")
@example([], "\r\n")
def test_reading_an_unmarked_message_matches_the_general_reading(
    subject_values: list[str], linesep: str
) -> None:
    data = _message(subject_values, linesep, header=None)
    assert read_marking(data) == _general(data)


@given(markings_2024(), _ONE_LINE)
@pytest.mark.slow
def test_a_marked_message_is_never_taken_for_unmarked(marking: Marking, subject: str) -> None:
    data = _message([subject], "\r\n", header=marking.header_value())
    reading = read_marking(data)
    assert reading == _general(data)
    assert reading.marked


@given(_SUBJECTS, st.one_of(st.none(), markings_2024()), _LINESEPS)
@example("Budget planning  \t", None, "\r\n")
@example("", None, "\r\n")
@pytest.mark.slow
def test_rewriting_a_subject_matches_the_general_way(
    subject: str, marking: Marking | None, linesep: str
) -> None:
    expected_base = _without_markings(subject, None, linesep)
    rewritten = rewrite_subject(subject, marking, linesep)
    if marking is None:
        assert rewritten == expected_base
    else:
        tag = marking.subject_tag()
        assert rewritten == (f"{expected_base} {tag}" if expected_base else tag)


def test_the_shortcut_is_taken_only_for_subjects_that_cannot_hold_a_tag() -> None:
    assert not may_hold_marking("Budget planning 7")
    assert may_hold_marking("Budget [SEC=OFFICIAL]")
    assert may_hold_marking("=?utf-8?q?=5BSEC=3DOFFICIAL=5D?=")
    # Encoded-word markings are found on the general path.
    reading = read_marking(_message(["=?utf-8?q?=5BSEC=3DPROTECTED=5D?="], "\r\n", None))
    assert reading.marked and reading.marking is not None
    assert reading.marking.sec == "PROTECTED"
