"""``mailcore serve`` on the command line: flags, errors, exit codes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mailcore.cli import main
from mailcore.demo._pipeline_demo import PASSWORD
from tests.pipeline.conftest import World
from tests.serve.conftest import JO, PLANNING, Sink, make_message, send
from tests.serve.test_sigterm import REPO, wait_for_port
from tests.slapd import free_port


def test_flags_override_the_policy(world: World, sink: Sink, tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "serve.log"
    process = subprocess.Popen(
        [
            sys.executable, "-m", "mailcore", "--policy", str(world.folder / "policy.toml"),
            "serve", "--listen", f"127.0.0.1:{port}", "--relay", sink.address,
            "--internal-domain", "agency.gov.au", "--max-sessions", "5", "--log", str(log),
        ],
        cwd=REPO,
        env={**os.environ, "MAILCORE_DEMO_KEY_PASSWORD": PASSWORD},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for_port(port, process)
        answer = send(port, JO, [PLANNING], make_message(1))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.stderr is not None
    assert process.stderr.read() == b""  # the log went to --log
    process.stderr.close()
    assert answer.code == 250
    assert b"application/pkcs7-mime" in sink.messages[0].data
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert records[0]["event"] == "listening"
    assert records[0]["listen"] == f"127.0.0.1:{port}" and records[0]["relay"] == sink.address
    assert [r["direction"] for r in records if r["event"] == "message"] == ["outbound"]


def test_bad_listen_address(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--listen", "nowhere"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "serve.listen must be HOST:PORT" in error


def test_unknown_serve_key(
    write_policy: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_policy("[serve]\nlisten_port = 25\n")
    assert main(["--policy", str(path), "serve"]) == 2
    assert "unknown key 'listen_port' in [serve]" in capsys.readouterr().err


def test_port_in_use(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["serve", "--listen", f"127.0.0.1:{port}", "--relay", "127.0.0.1:1"])
    assert code == 2
    error = capsys.readouterr().err
    assert "address already in use" in error and "Traceback" not in error


def test_bad_max_sessions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--max-sessions", "0"]) == 2
    assert "--max-sessions must be 1 or more" in capsys.readouterr().err
