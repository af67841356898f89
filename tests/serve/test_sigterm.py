"""SIGTERM mid-run on ``python -m mailcore serve``: no acceptance without delivery."""

from __future__ import annotations

import json
import os
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from mailcore.demo._pipeline_demo import PASSWORD, POLICY
from tests.pipeline.conftest import World
from tests.serve.conftest import JO, PLANNING, Sink, make_message, send
from tests.slapd import free_port

REPO = Path(__file__).resolve().parents[2]


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"mailcore serve exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("mailcore serve did not start listening")


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (of all its threads)."""
    tasks = Path(f"/proc/{pid}/task")
    return [int(child) for task in tasks.iterdir()
            for child in (task / "children").read_text().split()]  # fmt: skip


def test_sigterm_finishes_messages_in_flight(world: World, sink: Sink, tmp_path: Path) -> None:
    port = free_port()
    policy = world.folder / f"serve-{port}.toml"
    policy.write_text(
        POLICY + f'\n[serve]\nlisten = "127.0.0.1:{port}"\nrelay = "{sink.address}"\n'
        'internal_domains = ["agency.gov.au"]\nhostname = "filter.test"\n'
    )
    # The next hop takes a while, so that SIGTERM finds messages being relayed.
    sink.delay = 0.3
    log = tmp_path / "serve.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "mailcore", "--policy", str(policy), "serve"],
            cwd=REPO,
            env={**os.environ, "MAILCORE_DEMO_KEY_PASSWORD": PASSWORD},
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_for_port(port, process)
        accepted: list[int] = []
        other: list[int] = []
        lock = threading.Lock()
        stop = threading.Event()

        def client(first: int) -> None:
            number = first
            while not stop.is_set():
                try:
                    answer = send(port, JO, [PLANNING], make_message(number), timeout=20)
                    code = answer.code
                except (OSError, smtplib.SMTPException):
                    code = 0  # refused or closed by the shutdown: not accepted
                with lock:
                    (accepted if code == 250 else other).append(number)
                if code == 0:
                    return
                number += 100

        clients = [threading.Thread(target=client, args=(n,)) for n in range(8)]
        for thread in clients:
            thread.start()
        while len(accepted) < 16:
            time.sleep(0.02)
        # SIGTERM while a message is held at the next hop (its reply waits
        # sink.delay): then one is in flight for certain.  Right after a 250
        # the clients may all be between messages, in SMTP, with none in the
        # pipeline yet (the clients fall into step with the sink's delay).
        sink.seen_data.clear()
        assert sink.seen_data.wait(timeout=30)
        workers = children(process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
        stop.set()
        for thread in clients:
            thread.join(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    # The pipeline ran in worker processes; none outlived the filter.
    assert len(workers) == (os.cpu_count() or 1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)
    # Every 250 is in the sink; nothing is in the sink without its 250.
    delivered = sink.message_ids()
    assert sorted(delivered) == sorted(f"<m{n}@agency.gov.au>" for n in accepted)
    assert len(delivered) == len(set(delivered))
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    events = [line["event"] for line in lines]
    assert events[0] == "listening" and events[-1] == "stopped"
    stopping = lines[events.index("stopping")]
    assert stopping["in_flight"] > 0, "SIGTERM came when no message was in flight"
    assert lines[-1]["finished"] is True
    assert sum(event == "message" for event in events) >= len(accepted)
