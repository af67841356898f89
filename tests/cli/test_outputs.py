"""Where -o and --report write (issue 17.10): special files in place, the
process's own stdout in place (so a shell's >> keeps what was there)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CONTACTS = [{"ServerId": "1", "FirstName": "Zoe", "Email1Address": "zoe@example.com"}]
POLICY = REPO / "tests" / "cli" / "outputs-policy.toml"
MESSAGE = b"From: jo@agency.gov.au\r\nSubject: Plan\r\n\r\nBody.\r\n"


def mailcore(
    *args: str | Path, stdout: int | object = subprocess.PIPE
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "mailcore", "--policy", str(POLICY), *map(str, args)],
        stdout=stdout,  # type: ignore[arg-type]
        stderr=subprocess.PIPE,
        cwd=REPO,
        timeout=60,
        check=False,
    )


@pytest.fixture
def contacts(tmp_path: Path) -> Path:
    path = tmp_path / "contacts.json"
    path.write_text(json.dumps(CONTACTS), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [("export", "vcard"), ("marking", "apply")])
def test_a_fifo_is_written_in_place(
    tmp_path: Path, contacts: Path, command: tuple[str, ...]
) -> None:
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    source = contacts
    if command[0] == "marking":
        source = tmp_path / "m.eml"
        source.write_bytes(MESSAGE)
    result = mailcore(*command, source, "-o", fifo)
    reader.join(timeout=30)
    assert result.returncode == 0, result.stderr
    assert fifo.is_fifo()  # not replaced by a regular file
    marker = b"BEGIN:VCARD" if command[0] == "export" else b"[SEC="
    assert received and marker in received[0]


@pytest.mark.parametrize(
    ("args", "marker"),
    [
        (("export", "vcard", "{contacts}", "-o", "/dev/stdout"), b"BEGIN:VCARD"),
        (("marking", "apply", "{message}", "-o", "/dev/stdout"), b"[SEC="),
        (
            (
                "process",
                "--direction",
                "outbound",
                "{message}",
                "-o",
                "{out}",
                "--report",
                "/dev/stdout",
            ),
            b'"direction": "outbound"',
        ),
    ],
)
def test_own_stdout_under_append_keeps_what_was_there(
    tmp_path: Path, contacts: Path, args: tuple[str, ...], marker: bytes
) -> None:
    message = tmp_path / "m.eml"
    message.write_bytes(MESSAGE)
    log = tmp_path / "log.txt"
    log.write_bytes(b"earlier line\n")
    values = {"contacts": contacts, "message": message, "out": tmp_path / "out.eml"}
    filled = [a.format(**values) for a in args]
    with log.open("ab") as appended:  # what `mailcore ... >> log.txt` gives
        result = mailcore(*filled, stdout=appended)
    assert result.returncode == 0, result.stderr
    written = log.read_bytes()
    assert written.startswith(b"earlier line\n")
    assert marker in written


def test_a_regular_file_is_still_replaced_whole(tmp_path: Path, contacts: Path) -> None:
    out = tmp_path / "out.vcf"
    out.write_bytes(b"old content that is longer than nothing\n" * 100)
    result = mailcore("export", "vcard", contacts, "-o", out)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes().startswith(b"BEGIN:VCARD")
    assert b"old content" not in out.read_bytes()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
