"""The conformance vector runner (contract §7).

A suite is ``vectors/<area>/<name>.json``::

    {"area": "marking", "description": "...", "source": "...",
     "cases": [{"id": "marking::header::escaped-comma", "comment": "...",
                "input": {...}, "expected": {...}, "result": "valid"}]}

``result`` is ``valid``, ``invalid`` or ``acceptable`` (accepted by the
lenient reader only).  Each area registers a function that runs one case
and returns None when it passed or a sentence saying what differed.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailcore.errors import VectorFormatError

__all__ = ["CaseOutcome", "VectorCase", "load_suites", "run_case", "run_vectors"]

RESULTS = ("valid", "invalid", "acceptable")
CaseRunner = Callable[["VectorCase"], str | None]


@dataclass(frozen=True, slots=True)
class VectorCase:
    """One case of a suite, with the folder its file paths are relative to."""

    area: str
    id: str
    comment: str
    input: dict[str, Any]
    expected: Any
    result: str
    base: Path

    @property
    def kind(self) -> str:
        """The second part of the id: ``marking::header::x`` -> ``header``."""
        parts = self.id.split("::")
        return parts[1] if len(parts) > 1 else ""

    def text(self, key: str) -> str:
        """An input value given inline, or as ``{"file": "relative/path"}``."""
        value = self.input[key]
        if isinstance(value, dict) and "file" in value:
            return (self.base / str(value["file"])).read_text("utf-8")
        if not isinstance(value, str):
            raise VectorFormatError(f"input.{key} must be a string", where=self.id)
        return value


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    """The outcome of running one case."""

    case: VectorCase
    problem: str | None

    @property
    def passed(self) -> bool:
        """True when the case behaved as expected."""
        return self.problem is None


# Each area's case runner, imported only when a suite of that area is run.
_RUNNERS = {
    "marking": "mailcore.marking._conformance:run_marking_case",
    "smime": "mailcore.smime._conformance:run_smime_case",
    "directory": "mailcore.directory._conformance:run_directory_case",
    "irm": "mailcore.irm._conformance:run_irm_case",
    "export": "mailcore.export._conformance:run_export_case",
    "sizing": "mailcore.sizing._conformance:run_sizing_case",
    "pipeline": "mailcore.pipeline._conformance:run_pipeline_case",
}


def _runner(area: str) -> CaseRunner | None:
    target = _RUNNERS.get(area)
    if target is None:
        return None
    module_name, _, function = target.partition(":")
    runner: CaseRunner = getattr(importlib.import_module(module_name), function)
    return runner


def default_root() -> Path:
    """The repository's ``vectors/`` folder (else ``./vectors``)."""
    beside = Path(__file__).resolve().parent.parent / "vectors"
    return beside if beside.is_dir() else Path.cwd() / "vectors"


def _suite_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    for path in paths:
        location = Path(path)
        if location.is_dir():
            yield from sorted(location.rglob("*.json"))
        elif location.is_file():
            yield location
        else:
            raise VectorFormatError("no such file or folder", where=str(location))


def load_suites(paths: Iterable[str | Path] | None = None) -> list[VectorCase]:
    """Every case of the suites under ``paths`` (default: ``vectors/``)."""
    cases: list[VectorCase] = []
    seen: set[str] = set()
    for file in _suite_files(paths or [default_root()]):
        where = str(file)
        try:
            suite = json.loads(file.read_text("utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise VectorFormatError(f"not valid JSON: {error}", where=where) from None
        if not isinstance(suite, dict) or not isinstance(suite.get("cases"), list):
            raise VectorFormatError("a suite is an object with a 'cases' list", where=where)
        for key in ("area", "description", "source"):
            if not isinstance(suite.get(key), str):
                raise VectorFormatError(f"the suite needs a string {key!r}", where=where)
        for number, case in enumerate(suite["cases"], start=1):
            here = f"{where} case {number}"
            if not isinstance(case, dict):
                raise VectorFormatError("a case is an object", where=here)
            missing = {"id", "input", "expected", "result"} - case.keys()
            if missing:
                raise VectorFormatError(f"missing {sorted(missing)}", where=here)
            if case["result"] not in RESULTS:
                raise VectorFormatError(f"result must be one of {RESULTS}", where=here)
            if case["id"] in seen:
                raise VectorFormatError(f"duplicate id {case['id']!r}", where=here)
            if not case["id"].startswith(suite["area"] + "::"):
                raise VectorFormatError(
                    f"id {case['id']!r} must start with '{suite['area']}::'", where=here
                )
            if not isinstance(case["input"], dict):
                raise VectorFormatError("input must be an object", where=here)
            seen.add(case["id"])
            cases.append(
                VectorCase(
                    area=suite["area"],
                    id=case["id"],
                    comment=case.get("comment", ""),
                    input=case["input"],
                    expected=case["expected"],
                    result=case["result"],
                    base=file.parent,
                )
            )
    return cases


def run_case(case: VectorCase) -> CaseOutcome:
    """Run one case with its area's runner."""
    runner = _runner(case.area)
    if runner is None:
        return CaseOutcome(case, f"no runner for area {case.area!r}")
    try:
        return CaseOutcome(case, runner(case))
    except Exception as error:  # a crash is a failed case, not a crashed run
        return CaseOutcome(case, f"raised {type(error).__name__}: {error}")


def run_vectors(paths: Iterable[str | Path] | None = None) -> list[CaseOutcome]:
    """Run every case under ``paths``."""
    return [run_case(case) for case in load_suites(paths)]
