"""``mailcore process``: one message, a folder on several processes, exit codes."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mailcore.demo._pipeline_demo import PASSWORD
from tests.cli.test_smime_cli import assert_one_line_error
from tests.cli.test_smime_cli import run as run_cli
from tests.pipeline.conftest import CONTRACTOR, PLANNING, SAM, World, message
from tests.slapd import free_port

ENV = {"MAILCORE_DEMO_KEY_PASSWORD": PASSWORD}


def run(
    world: World, *args: str | Path, policy: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    return run_cli("--policy", policy or world.folder / "policy.toml", "process", *args, env=ENV)


@pytest.mark.slow
def test_one_message_with_report(world: World, tmp_path: Path) -> None:
    source = tmp_path / "m.eml"
    source.write_bytes(message(cc=SAM))
    out, report = tmp_path / "out.eml", tmp_path / "report.json"
    result = run(world, source, "-o", out, "--report", report)
    assert result.returncode == 0, result.stderr
    document = json.loads(report.read_text())
    assert list(document)[:6] == [
        "direction",
        "marking",
        "irm",
        "signed",
        "encrypted",
        "encryption",
    ]
    assert document["encrypted"] is True and document["signed"] is True
    assert b"application/pkcs7-mime" in out.read_bytes()

    opened, opened_report = tmp_path / "opened.eml", tmp_path / "opened.json"
    result = run(world, "--direction", "inbound", out, "-o", opened, "--report", opened_report)
    assert result.returncode == 0, result.stderr
    assert json.loads(opened_report.read_text())["signed"] is True
    assert opened.read_bytes().endswith(b"shared folder.\r\n")


def test_reject_exit_1_with_report(world: World, tmp_path: Path) -> None:
    policy = _reject_policy(world, tmp_path)
    source = tmp_path / "m.eml"
    source.write_bytes(message(f"{PLANNING}, {CONTRACTOR}"))
    out, report = tmp_path / "out.eml", tmp_path / "r.json"
    result = run(world, source, "-o", out, "--report", report, policy=policy)
    assert_one_line_error(result, 1)
    assert CONTRACTOR.encode() in result.stderr
    assert not out.exists()  # nothing written, nothing sent
    assert json.loads(report.read_text())["encryption"]["decision"] == "reject"


def test_directory_down_exit_3(world: World, tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        (world.folder / "policy.toml")
        .read_text()
        .replace('source = "file"', f'source = "ldap"\nserver = "ldap://127.0.0.1:{free_port()}"')
        .replace('"keys"', f'"{world.folder / "keys"}"')
        .replace('"trust/', f'"{world.folder / "trust"}/')
    )
    source = tmp_path / "m.eml"
    source.write_bytes(message())
    result = run(world, source, "-o", tmp_path / "out.eml", policy=policy)
    assert_one_line_error(result, 3)
    assert not (tmp_path / "out.eml").exists()


def test_folder_on_two_processes(world: World, tmp_path: Path) -> None:
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    for number in range(12):
        to = f"{PLANNING}, {CONTRACTOR}" if number % 3 == 0 else PLANNING
        (inbox / f"{number:02d}.eml").write_bytes(message(to, subject=f"m{number}"))
    (inbox / "broken.eml").write_bytes(b"no header block at all")
    report = tmp_path / "all.json"
    result = run(world, inbox, "-o", outbox, "--jobs", "2", "--report", report)
    # The one failure is malformed input: exit 2, as for a single message.
    assert result.returncode == 2
    summary = result.stderr.decode().strip().splitlines()[-1]
    assert summary == "13 messages: 8 encrypt, 1 failed, 4 send unencrypted"
    assert sorted(p.name for p in outbox.iterdir()) == [f"{n:02d}.eml" for n in range(12)]
    reports = json.loads(report.read_text())
    assert reports["00.eml"]["encryption"]["missing"] == [
        {"address": CONTRACTOR, "reason": "not_found"}
    ]
    assert reports["broken.eml"] is None


def test_folder_needs_output_folder(world: World, tmp_path: Path) -> None:
    result = run(world, tmp_path)
    assert_one_line_error(result, 2)


def _reject_policy(world: World, tmp_path: Path) -> Path:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        (world.folder / "policy.toml")
        .read_text()
        .replace('"send_unencrypted"', '"reject"')
        .replace('"keys"', f'"{world.folder / "keys"}"')
        .replace('"directory.ldif"', f'"{world.folder / "directory.ldif"}"')
        .replace('"trust/', f'"{world.folder / "trust"}/')
    )
    return policy


def test_folder_refusal_outranks_malformed_input(world: World, tmp_path: Path) -> None:
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    (inbox / "a.eml").write_bytes(message(PLANNING))
    (inbox / "b.eml").write_bytes(message(f"{PLANNING}, {CONTRACTOR}"))
    (inbox / "c.eml").write_bytes(b"no header block at all")
    result = run(world, inbox, "-o", outbox, "--jobs", "1", policy=_reject_policy(world, tmp_path))
    assert result.returncode == 1
    assert result.stderr.decode().strip().splitlines()[-1] == (
        "3 messages: 1 encrypt, 1 failed, 1 rejected"
    )
    assert [p.name for p in outbox.iterdir()] == ["a.eml"]


def test_folder_write_failure_is_reported_and_the_rest_go_on(world: World, tmp_path: Path) -> None:
    inbox, outbox = tmp_path / "in", tmp_path / "out"
    inbox.mkdir()
    for name in ("a.eml", "b.eml", "c.eml"):
        (inbox / name).write_bytes(message(PLANNING, subject=name))
    (outbox / "b.eml").mkdir(parents=True)  # the result for b.eml cannot be written
    result = run(world, inbox, "-o", outbox, "--jobs", "2")
    assert result.returncode == 2, result.stderr
    lines = result.stderr.decode().strip().splitlines()
    assert lines[-1] == "3 messages: 2 encrypt, 1 failed"
    assert any(line.startswith("b.eml: ") and "(exit 2)" in line for line in lines)
    assert (outbox / "a.eml").is_file() and (outbox / "c.eml").is_file()


def test_unwritable_report_is_refused_before_any_output(world: World, tmp_path: Path) -> None:
    source = tmp_path / "m.eml"
    source.write_bytes(message(PLANNING))
    out = tmp_path / "out.eml"
    result = run(world, source, "-o", out, "--report", tmp_path / "missing" / "r.json")
    assert_one_line_error(result, 2)
    assert b"--report" in result.stderr
    assert not out.exists()
    # The same for a folder run: nothing processed, no output folder made.
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "a.eml").write_bytes(message(PLANNING))
    result = run(world, inbox, "-o", tmp_path / "o", "--report", tmp_path / "missing" / "r.json")
    assert_one_line_error(result, 2)
    assert not (tmp_path / "o").exists()


def test_unwritable_output_is_refused_before_processing(world: World, tmp_path: Path) -> None:
    source = tmp_path / "m.eml"
    source.write_bytes(message(PLANNING))
    report = tmp_path / "r.json"
    result = run(world, source, "-o", tmp_path / "missing" / "out.eml", "--report", report)
    assert_one_line_error(result, 2)
    assert not report.exists()
