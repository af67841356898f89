"""How an ``export`` vector case is run.

Kinds (the second part of the case id):

``vcard`` / ``ical``
    ``input.records`` (a list of ActiveSync records), ``input.policy`` (an
    ``[export]`` table), optional ``input.version`` (vCard) and
    ``input.default_timezone`` (iCalendar).  Output is made with the fixed
    time ``input.now`` (default 2025-01-01T00:00:00Z).  ``expected`` is
    ``{"lines": [...]}`` (unfolded content lines that must all appear, in
    this order), optionally ``"absent": [...]`` (substrings that must not
    appear) and ``"output": "..."`` (the exact text); or ``{"error":
    "ExceptionName", "field": "..."}`` for a ``invalid`` case.
``timezone``
    ``input.blob`` and ``input.year``; ``expected`` is ``{"iana": name or
    null}`` or ``{"error": "MalformedRecord"}``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mailcore._vectors import VectorCase
from mailcore.errors import MailcoreError, MalformedRecord
from mailcore.export._export import export_ical, export_vcards
from mailcore.export._tz import BadTimezone, decode_timezone, resolve_iana
from mailcore.policy import policy_from_mapping

__all__ = ["run_export_case"]


def _unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").replace("\r\n\t", "").split("\r\n")[:-1]


def _render(case: VectorCase) -> str:
    policy = policy_from_mapping({"export": case.input.get("policy", {})})
    now = datetime.fromisoformat(case.input.get("now", "2025-01-01T00:00:00+00:00"))
    now = now.replace(tzinfo=now.tzinfo or UTC)
    records = case.input["records"]
    if case.kind == "vcard":
        chunks = export_vcards(records, policy, version=case.input.get("version", "3.0"), now=now)
    else:
        chunks = export_ical(
            records, policy, now=now, default_timezone=case.input.get("default_timezone")
        )
    return b"".join(chunks).decode("utf-8")


def _output_case(case: VectorCase) -> str | None:
    expected: dict[str, Any] = case.expected
    try:
        text = _render(case)
    except MailcoreError as error:
        if case.result == "invalid" and expected.get("error") == type(error).__name__:
            field = expected.get("field")
            if field is not None and getattr(error, "field", None) != field:
                return f"error names field {getattr(error, 'field', None)!r}, not {field!r}"
            return None
        return f"raised {type(error).__name__}: {error}"
    if case.result == "invalid":
        return "expected an error, got output"
    if "output" in expected and text != expected["output"]:
        return f"output differs: {text!r}"
    lines = _unfold(text)
    position = 0
    for want in expected.get("lines", []):
        try:
            position = lines.index(want, position) + 1
        except ValueError:
            return f"line {want!r} missing or out of order"
    for banned in expected.get("absent", []):
        if banned in text:
            return f"{banned!r} must not appear"
    for physical in text.encode("utf-8").split(b"\r\n"):
        if len(physical) > 75:
            return f"a line is longer than 75 octets: {physical!r}"
    return None


def _timezone_case(case: VectorCase) -> str | None:
    try:
        rule = decode_timezone(case.input["blob"])
    except BadTimezone as error:
        if case.expected.get("error") == MalformedRecord.__name__:
            return None
        return f"refused: {error}"
    if case.expected.get("error"):
        return "expected the blob to be refused"
    got = resolve_iana(rule, int(case.input.get("year", 2025)))
    want = case.expected.get("iana")
    return None if got == want else f"expected {want!r}, got {got!r}"


def run_export_case(case: VectorCase) -> str | None:
    """Run one export case; None when it passed."""
    if case.kind in ("vcard", "ical"):
        return _output_case(case)
    if case.kind == "timezone":
        return _timezone_case(case)
    return f"unknown case kind {case.kind!r}"
