"""Escaping and folding (RFC 5545 §3.1, §3.3.11; RFC 6350 §3.2, §3.4)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from mailcore.export._text import escape_text, fold, param_value
from tests.export.strategies import text


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\":
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


@given(text)
def test_escape_round_trips(value: str) -> None:
    escaped = escape_text(value)
    assert "\n" not in escaped and "\r" not in escaped
    expected = value.replace("\r\n", "\n").replace("\r", "\n")
    expected = "".join(c for c in expected if c in "\t\n" or (ord(c) >= 0x20 and c != "\x7f"))
    assert _unescape(escaped) == expected


def test_escape_examples() -> None:
    # RFC 5545 §3.3.11: backslash first; ':' is not escaped.
    assert escape_text("a\\b;c,d\ne:f") == "a\\\\b\\;c\\,d\\ne:f"
    assert escape_text("x\r\ny\rz") == "x\\ny\\nz"
    assert escape_text("plain") == "plain"


@given(st.text(min_size=0, max_size=400).map(lambda s: "DESCRIPTION:" + escape_text(s)))
def test_fold_limits_octets_and_unfolds_to_the_line(line: str) -> None:
    folded = fold(line)
    for physical in folded.encode("utf-8", "surrogatepass").split(b"\r\n"):
        assert len(physical) <= 75
        physical.decode("utf-8")  # never splits a UTF-8 sequence
    assert folded.replace("\r\n ", "") == line


def test_fold_keeps_emoji_and_flags_whole() -> None:
    line = "SUMMARY:" + "x" * 63 + "👩‍👩‍👧‍👦🇩🇪🇫🇷" * 3
    folded = fold(line)
    parts = folded.split("\r\n ")
    assert all(len(p.encode()) <= 75 for p in parts)
    # No physical line starts with a joiner, a modifier or half a flag.
    for part in parts[1:]:
        assert not part.startswith("\u200d")
    assert folded.replace("\r\n ", "") == line
    assert "🇩🇪" in "".join(parts[1:]) or "🇩🇪" in parts[0]


def test_fold_does_not_end_a_line_on_an_escape_backslash() -> None:
    line = "NOTE:" + "a" * 69 + "\\n" + "b" * 10
    first = fold(line).split("\r\n ")[0]
    assert not first.endswith("\\")


def test_param_quoting() -> None:
    assert param_value("Europe/Berlin") == "Europe/Berlin"
    assert param_value("Doe, Jane") == '"Doe, Jane"'
    # RFC 6868: " -> ^' , newline -> ^n, ^ -> ^^
    assert param_value('Say "hi"\n^') == "\"Say ^'hi^'^n^^\""
    assert param_value("Jane", quote=True) == '"Jane"'
