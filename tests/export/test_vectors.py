"""The export vectors run, and the runner notices a wrong expectation."""

from __future__ import annotations

from pathlib import Path

from mailcore._vectors import VectorCase, load_suites
from mailcore.export._conformance import run_export_case

SUITES = Path(__file__).resolve().parents[2] / "vectors" / "export"


def test_every_export_vector_passes() -> None:
    cases = load_suites([SUITES])
    assert len(cases) >= 20
    problems = {case.id: run_export_case(case) for case in cases}
    assert {k: v for k, v in problems.items() if v} == {}


def test_runner_reports_a_wrong_line() -> None:
    case = VectorCase(
        area="export",
        id="export::vcard::probe",
        comment="",
        input={"policy": {"contacts": True}, "records": [{"FirstName": "A"}]},
        expected={"lines": ["FN:B"]},
        result="valid",
        base=SUITES,
    )
    assert run_export_case(case) == "line 'FN:B' missing or out of order"
