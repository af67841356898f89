"""How a ``marking`` vector case is run.

Kinds (the second part of the case id):

``header``
    ``input.header``: an X-Protective-Marking value.
``subject``
    ``input.subject`` (and optional ``input.from``): read as a message with
    just those fields.
``message``
    ``input.message``: a whole message.
``markings``
    ``input.markings`` and ``input.version``: an administrator's list;
    ``expected`` is ``[[display, value], ...]`` or ``{"error": "text"}``.
``apply`` / ``reply``
    ``input.message``, optional ``input.marking``, ``input.originals`` and
    ``input.policy`` (a ``[classification]`` table); ``expected`` is
    ``{"message": ...}`` (exact bytes), ``{"headers": {...}}`` (unfolded
    values) or ``{"error": "ExceptionName"}``.
``check``
    ``input.message`` and ``input.max``; ``expected`` is
    ``{"passed": bool, "reason": ...}``.

For the reading kinds, ``valid`` means the strict reader accepts the input
and the lenient one reports no (non-advisory) defect; ``acceptable`` means
only the lenient reader accepts it; ``invalid`` means the strict reader
refuses it.  ``expected`` lists the fields (JSON A names; ``defects`` as a
set of codes; ``rank``) that the lenient reading must give, or
``{"error": true}`` when even the lenient reader must refuse.
"""

from __future__ import annotations

from typing import Any

import mailcore.errors as errors
from mailcore._vectors import VectorCase
from mailcore.errors import MailcoreError, MarkingSyntaxError
from mailcore.marking._apply import apply_marking
from mailcore.marking._check import check_marking
from mailcore.marking._list import parse_markings_list
from mailcore.marking._parse import parse_header
from mailcore.marking._read import read_marking
from mailcore.policy import policy_from_mapping

__all__ = ["run_marking_case"]


def _message_for(case: VectorCase) -> bytes:
    if case.kind == "subject":
        lines = []
        if "from" in case.input:
            lines.append("From: " + case.input["from"])
        lines.append("Subject: " + case.text("subject"))
        return ("\r\n".join(lines) + "\r\n\r\nbody\r\n").encode("utf-8")
    return case.text("message").encode("utf-8")


def _read(case: VectorCase, strict: bool) -> dict[str, Any]:
    if case.kind == "header":
        marking = parse_header(case.text("header"), strict=strict)
        result = marking.to_dict()
        result["defects"] = sorted({d.code for d in marking.defects})
        result["advisory"] = all(d.advisory for d in marking.defects)
        result["rank"] = marking.rank
        return result
    read = read_marking(_message_for(case), strict=strict)
    result = read.to_dict()
    result["advisory"] = all(d.advisory for d in read.defects)
    result["defects"] = sorted(set(result["defects"]))
    result["rank"] = read.rank
    return result


def _compare(expected: dict[str, Any], actual: dict[str, Any]) -> str | None:
    for key, want in expected.items():
        if key == "error":
            continue
        if key not in actual:
            return f"unknown expected key {key!r}"
        got = actual[key]
        if key == "defects":
            if sorted(set(want)) != got:
                return f"defects: expected {sorted(set(want))}, got {got}"
        elif got != want:
            return f"{key}: expected {want!r}, got {got!r}"
    return None


def _reading_case(case: VectorCase) -> str | None:
    expected = case.expected if isinstance(case.expected, dict) else {}
    try:
        _read(case, strict=True)
        strict_ok = True
    except MarkingSyntaxError:
        strict_ok = False
    try:
        lenient = _read(case, strict=False)
    except MarkingSyntaxError as error:
        if expected.get("error") and case.result == "invalid":
            return None
        return f"the lenient reader refused it: {error}"
    if expected.get("error"):
        return "expected the lenient reader to refuse it"
    if case.result == "valid":
        if not strict_ok:
            return "the strict reader refused it"
        if not lenient["advisory"]:
            return f"valid input gave defects {lenient['defects']}"
    elif strict_ok and lenient["advisory"]:
        return f"expected {case.result}, but the strict reader accepted it"
    return _compare(expected, lenient)


def _markings_case(case: VectorCase) -> str | None:
    try:
        parsed = parse_markings_list(
            case.text("markings"), version=case.input.get("version", "2024.1")
        )
    except errors.MarkingListError as error:
        if case.result != "invalid":
            return f"refused: {error}"
        want = case.expected.get("error", "") if isinstance(case.expected, dict) else ""
        if want and want not in str(error):
            return f"error {str(error)!r} does not mention {want!r}"
        return None
    if case.result == "invalid":
        return "expected the list to be refused"
    got = [[entry.display, entry.value] for entry in parsed]
    return None if got == case.expected else f"expected {case.expected}, got {got}"


def _apply_case(case: VectorCase) -> str | None:
    policy = policy_from_mapping({"classification": case.input.get("policy", {})})
    originals = [text.encode("utf-8") for text in case.input.get("originals", [])]
    expected = case.expected
    try:
        result = apply_marking(
            case.text("message").encode("utf-8"),
            case.input.get("marking"),
            policy=policy,
            originals=originals,
        )
    except MailcoreError as error:
        want = expected.get("error")
        if case.result == "invalid" and want == type(error).__name__:
            return None
        return f"raised {type(error).__name__}: {error}"
    if case.result == "invalid":
        return "expected an error, the message was marked"
    output = result.message.decode("utf-8")
    if "message" in expected and output != expected["message"]:
        return f"output differs: {output!r}"
    if "headers" in expected:
        read = read_marking(result.message)
        from mailcore._message import RawMessage

        raw = RawMessage(result.message)
        for name, want in expected["headers"].items():
            got = raw.get_all(name)
            if got != ([want] if isinstance(want, str) else want):
                return f"{name}: expected {want!r}, got {got!r}"
        del read
    if "warnings" in expected and len(result.warnings) != expected["warnings"]:
        return f"expected {expected['warnings']} warnings, got {list(result.warnings)}"
    again = apply_marking(result.message, result.marking, policy=policy, originals=originals)
    if again.message != result.message:
        return "applying the same marking again changed the message"
    return None


def _check_case(case: VectorCase) -> str | None:
    result = check_marking(
        case.text("message").encode("utf-8"),
        case.input["max"],
        allow_unmarked=case.input.get("allow_unmarked", False),
    )
    got = {"passed": result.passed, "reason": result.reason}
    want = {key: case.expected[key] for key in ("passed", "reason") if key in case.expected}
    return None if all(got[k] == v for k, v in want.items()) else f"expected {want}, got {got}"


def run_marking_case(case: VectorCase) -> str | None:
    """Run one marking case; None when it passed."""
    if case.kind in ("header", "subject", "message"):
        return _reading_case(case)
    if case.kind == "markings":
        return _markings_case(case)
    if case.kind in ("apply", "reply"):
        return _apply_case(case)
    if case.kind == "check":
        return _check_case(case)
    return f"unknown case kind {case.kind!r}"
