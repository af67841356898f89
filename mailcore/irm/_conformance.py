"""How an ``irm`` vector case is run.

Kinds (the second part of the case id):

``license``
    ``input.xml``: an MS-ASRM document with a ``RightsManagementLicense``;
    optional ``input.user``, ``input.now`` (ISO 8601), ``input.version``.
    ``expected`` lists JSON E fields the lenient reading must give
    (``defects`` compared as a set), or ``{"error": true}`` when even the
    lenient reader must refuse the document.
``templates``
    ``input.xml``; ``expected`` is ``{"templates": [[id, name], ...],
    "defects": [...]}`` or ``{"error": true}``.
``labels``
    ``input.header`` (an ``msip_labels`` value) or ``input.message``;
    ``expected`` is ``{"labels": [{...label fields...}], "defects": [...]}``.
``message``
    ``input.message`` (a whole message), optional ``input.user``;
    ``expected`` lists JSON E fields.
``decision``
    ``input.xml`` and ``input.now``; ``expected`` maps gateway actions to
    ``[allowed, reason]``.
``apply``
    ``input.message``, ``input.template``, ``input.policy`` (an ``[irm]``
    table); ``expected`` is ``{"headers": {name: value or null}}`` or
    ``{"error": "ExceptionName"}``.
``write-labels``
    ``input.labels``: label objects (JSON E label shape); ``expected`` is
    ``{"header": "..."}`` or ``{"error": "ExceptionName"}``.

For reading kinds, ``valid`` means the strict reader accepts the input and
the lenient one finds no error; ``acceptable`` means only the lenient reader
accepts it; ``invalid`` means the strict reader refuses it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mailcore._message import RawMessage
from mailcore._vectors import VectorCase
from mailcore.errors import MailcoreError, MalformedIrm
from mailcore.irm._compose import apply_restriction
from mailcore.irm._labels import (
    LabelReading,
    SensitivityLabel,
    format_msip_labels,
    parse_msip_labels,
    read_labels,
)
from mailcore.irm._model import normalise_guid
from mailcore.irm._report import read_rights
from mailcore.irm._xml import parse_license, parse_templates
from mailcore.policy import policy_from_mapping

__all__ = ["run_irm_case"]

# A fixed "now" so that cases with real expiry dates do not age.
_DEFAULT_NOW = "2026-11-21T12:00:00Z"


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare(expected: dict[str, Any], actual: dict[str, Any]) -> str | None:
    for key, want in expected.items():
        if key == "error":
            continue
        if key not in actual:
            return f"unknown expected key {key!r}"
        got = actual[key]
        if key == "defects":
            if sorted(set(want)) != sorted(set(got)):
                return f"defects: expected {sorted(set(want))}, got {sorted(set(got))}"
        elif isinstance(want, dict) and isinstance(got, dict):
            for sub, value in want.items():
                if got.get(sub) != value:
                    return f"{key}.{sub}: expected {value!r}, got {got.get(sub)!r}"
        elif got != want:
            return f"{key}: expected {want!r}, got {got!r}"
    return None


def _outcome(
    case: VectorCase,
    strict_ok: bool,
    lenient: dict[str, Any] | None,
    errors: bool,
    expected: dict[str, Any] | None = None,
) -> str | None:
    """The verdict shared by the reading kinds."""
    if expected is None:
        expected = case.expected if isinstance(case.expected, dict) else {}
    if lenient is None:
        if expected.get("error") and case.result == "invalid":
            return None
        return "the lenient reader refused it"
    if expected.get("error"):
        return "expected the lenient reader to refuse it"
    if case.result == "valid":
        if not strict_ok:
            return "the strict reader refused it"
        if errors:
            return f"valid input gave errors {lenient.get('defects')}"
    elif strict_ok:
        return f"expected {case.result}, but the strict reader accepted it"
    return _compare(expected, lenient)


def _license_case(case: VectorCase) -> str | None:
    data = case.text("xml").encode("utf-8")
    version = case.input.get("version")
    try:
        parse_license(data, strict=True, version=version)
        strict_ok = True
    except MalformedIrm:
        strict_ok = False
    try:
        license = parse_license(data, strict=False, version=version)
    except MalformedIrm:
        return _outcome(case, strict_ok, None, False)
    report = read_rights(
        license,
        user=case.input.get("user"),
        now=_time(case.input.get("now", _DEFAULT_NOW)),
    )
    errors = any(p.severity == "error" for p in license.problems)
    actual = report.to_dict()
    actual["state"] = report.state
    return _outcome(case, strict_ok, actual, errors)


def _templates_case(case: VectorCase) -> str | None:
    data = case.text("xml").encode("utf-8")
    try:
        parse_templates(data, strict=True)
        strict_ok = True
    except MalformedIrm:
        strict_ok = False
    try:
        listed = parse_templates(data, strict=False)
    except MalformedIrm:
        return _outcome(case, strict_ok, None, False)
    actual = {
        "templates": [[t.template_id, t.name] for t in listed.templates],
        "defects": [p.code for p in listed.problems],
    }
    errors = any(p.severity == "error" for p in listed.problems)
    return _outcome(case, strict_ok, actual, errors)


def _labels_case(case: VectorCase) -> str | None:
    def read(strict: bool) -> LabelReading:
        if "header" in case.input:
            return parse_msip_labels(case.text("header"), strict=strict)
        return read_labels(case.text("message").encode("utf-8"), strict=strict)

    try:
        read(True)
        strict_ok = True
    except MalformedIrm:
        strict_ok = False
    reading = read(False)
    got_labels = [label.to_dict() for label in reading.labels]
    actual: dict[str, Any] = {
        "labels": got_labels,
        "defects": [p.code for p in reading.problems],
        "justification": reading.justification,
    }
    errors = any(p.severity == "error" for p in reading.problems)
    expected = case.expected if isinstance(case.expected, dict) else {}
    others = {key: value for key, value in expected.items() if key != "labels"}
    verdict = _outcome(case, strict_ok, actual, errors, others)
    if verdict is not None or "labels" not in expected:
        return verdict
    if len(expected["labels"]) != len(got_labels):
        return f"expected {len(expected['labels'])} labels, got {got_labels}"
    for want, got in zip(expected["labels"], got_labels, strict=True):
        problem = _compare(want, got)
        if problem is not None:
            return f"label {got['id']}: {problem}"
    return None


def _message_case(case: VectorCase) -> str | None:
    try:
        report = read_rights(
            case.text("message").encode("utf-8"),
            user=case.input.get("user"),
            now=_time(case.input.get("now", _DEFAULT_NOW)),
            policy=policy_from_mapping({"irm": case.input.get("policy", {})}),
        )
    except MailcoreError as error:
        if case.result == "invalid":
            return None
        return f"raised {type(error).__name__}: {error}"
    if case.result == "invalid":
        return "expected the message to be refused"
    actual = report.to_dict()
    actual["state"] = report.state
    return _compare(case.expected, actual)


def _decision_case(case: VectorCase) -> str | None:
    license = parse_license(case.text("xml").encode("utf-8"), strict=case.result == "valid")
    now = _time(case.input.get("now", _DEFAULT_NOW))
    for action, (allowed, reason) in case.expected.items():
        decision = license.decide(action, now=now)
        if (decision.allowed, decision.reason) != (allowed, reason):
            return (
                f"{action}: expected {[allowed, reason]}, "
                f"got {[decision.allowed, decision.reason]}"
            )
        report = read_rights(license, now=now)
        if report.decide(action) != decision:
            return f"{action}: the report and the license decide differently"
    return None


def _apply_case(case: VectorCase) -> str | None:
    policy = policy_from_mapping({"irm": case.input.get("policy", {"enabled": True})})
    message = case.text("message").encode("utf-8")
    expected = case.expected
    try:
        output = apply_restriction(message, case.input["template"], policy)
    except MailcoreError as error:
        if case.result == "invalid" and expected.get("error") == type(error).__name__:
            return None
        return f"raised {type(error).__name__}: {error}"
    if case.result == "invalid":
        return "expected a refusal, the template was applied"
    raw = RawMessage(output)
    for name, want in expected.get("headers", {}).items():
        got = raw.get_all(name)
        if got != ([] if want is None else [want]):
            return f"{name}: expected {want!r}, got {got!r}"
    if output[raw.body_start :] != message[RawMessage(message).body_start :]:
        return "the body changed"
    if apply_restriction(output, case.input["template"], policy) != output:
        return "applying the same template again changed the message"
    return None


def _label_from(data: dict[str, Any]) -> SensitivityLabel:
    set_date = data.get("set_date")
    return SensitivityLabel(
        label_id=data["id"],
        enabled=data.get("enabled"),
        site_id=data.get("site_id"),
        set_date=None if set_date is None else datetime.fromisoformat(set_date),
        method=data.get("method"),
        name=data.get("name"),
        content_bits=data.get("content_bits"),
        action_id=data.get("action_id"),
        extra=tuple(data.get("extra", {}).items()),
    )


def _write_labels_case(case: VectorCase) -> str | None:
    labels = [_label_from(item) for item in case.input["labels"]]
    try:
        header = format_msip_labels(labels)
    except MailcoreError as error:
        if case.result == "invalid" and case.expected.get("error") == type(error).__name__:
            return None
        return f"raised {type(error).__name__}: {error}"
    if case.result == "invalid":
        return f"expected a refusal, got {header!r}"
    if "header" in case.expected and header != case.expected["header"]:
        return f"expected {case.expected['header']!r}, got {header!r}"
    again = parse_msip_labels(header, strict=True).labels
    if [normalise_guid(label.label_id) for label in labels] != [a.label_id for a in again]:
        return "reading the header back gave other labels"
    return None


_KINDS = {
    "license": _license_case,
    "templates": _templates_case,
    "labels": _labels_case,
    "message": _message_case,
    "decision": _decision_case,
    "apply": _apply_case,
    "write-labels": _write_labels_case,
}


def run_irm_case(case: VectorCase) -> str | None:
    """Run one irm case; None when it passed."""
    runner = _KINDS.get(case.kind)
    if runner is None:
        return f"unknown case kind {case.kind!r}"
    return runner(case)
