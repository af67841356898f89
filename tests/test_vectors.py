"""The conformance vectors (contract §7), run as tests, and the suite format."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mailcore._vectors import VectorCase, default_root, load_suites, run_case
from mailcore.errors import MalformedInput, VectorFormatError

CASES = load_suites()


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
@pytest.mark.slow
def test_vector(case: VectorCase) -> None:
    outcome = run_case(case)
    assert outcome.passed, f"{case.id}: {outcome.problem}"


def test_the_suite_is_not_empty(repo_root: Path) -> None:
    # Contract §7: the vectors ship with the repository, under vectors/.
    assert default_root() == repo_root / "vectors"
    assert len(CASES) > 0
    assert {case.result for case in CASES} <= {"valid", "invalid", "acceptable"}


def test_ids_are_namespaced_and_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))
    for case in CASES:
        assert case.id.startswith(case.area + "::")


# -- the loader -------------------------------------------------------------------


def _case(**changes: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "id": "marking::header::x",
        "comment": "",
        "input": {"header": "VER=2024.1, NS=gov.au, SEC=OFFICIAL, ORIGIN=a@b.example"},
        "expected": {"sec": "OFFICIAL"},
        "result": "valid",
    }
    case.update(changes)
    return case


def _suite(path: Path, cases: list[dict[str, Any]], **changes: Any) -> Path:
    suite: dict[str, Any] = {
        "area": "marking",
        "description": "test suite",
        "source": "hand-written",
        "cases": cases,
    }
    suite.update(changes)
    path.write_text(json.dumps(suite), encoding="utf-8")
    return path


class TestLoader:
    def test_valid_suite(self, tmp_path: Path) -> None:
        _suite(tmp_path / "a.json", [_case(), _case(id="marking::header::y")])
        cases = load_suites([tmp_path])
        assert [c.id for c in cases] == ["marking::header::x", "marking::header::y"]
        assert cases[0].kind == "header"
        assert cases[0].base == tmp_path
        assert run_case(cases[0]).passed

    def test_duplicate_id_in_one_file(self, tmp_path: Path) -> None:
        _suite(tmp_path / "a.json", [_case(), _case()])
        with pytest.raises(VectorFormatError, match="marking::header::x"):
            load_suites([tmp_path])

    def test_duplicate_id_across_files(self, tmp_path: Path) -> None:
        _suite(tmp_path / "a.json", [_case()])
        _suite(tmp_path / "b.json", [_case()])
        with pytest.raises(VectorFormatError, match="duplicate"):
            load_suites([tmp_path])

    @pytest.mark.parametrize("result", ["passed", "VALID", "", None])
    def test_bad_result(self, tmp_path: Path, result: object) -> None:
        _suite(tmp_path / "a.json", [_case(result=result)])
        with pytest.raises(VectorFormatError, match="result"):
            load_suites([tmp_path])

    @pytest.mark.parametrize("key", ["id", "input", "expected", "result"])
    def test_missing_case_key(self, tmp_path: Path, key: str) -> None:
        case = _case()
        del case[key]
        _suite(tmp_path / "a.json", [case])
        with pytest.raises(VectorFormatError, match=key):
            load_suites([tmp_path])

    @pytest.mark.parametrize("key", ["area", "description", "source", "cases"])
    def test_missing_suite_key(self, tmp_path: Path, key: str) -> None:
        path = _suite(tmp_path / "a.json", [_case()])
        suite = json.loads(path.read_text())
        del suite[key]
        path.write_text(json.dumps(suite))
        with pytest.raises(VectorFormatError):
            load_suites([path])

    def test_id_outside_the_area(self, tmp_path: Path) -> None:
        _suite(tmp_path / "a.json", [_case(id="smime::verify::x")])
        with pytest.raises(VectorFormatError, match="marking::"):
            load_suites([tmp_path])

    def test_not_json(self, tmp_path: Path) -> None:
        (tmp_path / "a.json").write_text("{")
        with pytest.raises(VectorFormatError, match="JSON"):
            load_suites([tmp_path])

    def test_not_utf8(self, tmp_path: Path) -> None:
        (tmp_path / "a.json").write_bytes(b'{"area": "\xff"}')
        with pytest.raises(VectorFormatError):
            load_suites([tmp_path])

    def test_missing_path(self, tmp_path: Path) -> None:
        with pytest.raises(VectorFormatError) as caught:
            load_suites([tmp_path / "absent.json"])
        assert isinstance(caught.value, MalformedInput)

    def test_input_from_a_file(self, tmp_path: Path) -> None:
        (tmp_path / "h.txt").write_text("VER=2024.1, NS=gov.au, SEC=PROTECTED, ORIGIN=a@b.example")
        _suite(
            tmp_path / "a.json",
            [_case(input={"header": {"file": "h.txt"}}, expected={"sec": "PROTECTED"})],
        )
        [case] = load_suites([tmp_path])
        assert case.text("header").startswith("VER=2024.1")
        assert run_case(case).passed

    def test_unknown_area_fails_the_case(self, tmp_path: Path) -> None:
        _suite(tmp_path / "a.json", [_case(id="telepathy::x")], area="telepathy")
        [case] = load_suites([tmp_path])
        outcome = run_case(case)
        assert not outcome.passed
        assert outcome.problem is not None and "telepathy" in outcome.problem

    def test_wrong_expectation_fails(self, tmp_path: Path) -> None:
        _suite(tmp_path / "a.json", [_case(expected={"sec": "SECRET"})])
        [case] = load_suites([tmp_path])
        outcome = run_case(case)
        assert not outcome.passed
        assert outcome.problem is not None and "SECRET" in outcome.problem
