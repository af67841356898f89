"""The pipeline in worker processes: every core, crashes and stuck workers, no orphans."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mailcore.errors import ServiceUnavailable
from mailcore.serve import ContentFilter
from tests.pipeline.conftest import World
from tests.serve.conftest import (
    JO,
    PLANNING,
    SAM,
    FilterThread,
    Sink,
    alive,
    make_message,
    pooled_policy,
    send,
    send_until_accepted,
)
from tests.slapd import free_port


def records(stream: io.StringIO, event: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line["event"] == event]


def test_pipeline_runs_in_worker_processes(pooled: FilterThread, sink: Sink) -> None:
    pids = pooled.filter.worker_pids
    assert len(pids) == (os.cpu_count() or 1)
    assert os.getpid() not in pids and all(alive(pid) for pid in pids)
    answer = send(pooled.port, JO, [PLANNING, SAM], make_message(1, to=[PLANNING, SAM]))
    assert answer.code == 250
    # Signed and encrypted by a worker with the policy's own key store and directory.
    assert b"application/pkcs7-mime" in sink.messages[0].data
    assert sink.messages[0].recipients == (PLANNING, SAM)


def test_workers_setting_and_no_orphans(world: World, sink: Sink, demo_password: None) -> None:
    stream = io.StringIO()
    thread = FilterThread(ContentFilter(pooled_policy(world, sink, workers=3), log=stream))
    thread.start()
    pids = thread.filter.worker_pids
    try:
        assert len(pids) == 3
        assert send(thread.port, JO, [PLANNING], make_message(2)).code == 250
    finally:
        assert thread.stop() is True
    # Every worker ended and was reaped (a zombie would still be in /proc).
    assert not any(alive(pid) for pid in pids)
    [listening] = records(stream, "listening")
    assert (listening["workers"], listening["pipeline"]) == (3, "processes")


def test_injected_pipeline_runs_on_threads(running: FilterThread) -> None:
    # A Pipeline object cannot go to another process: no worker is started.
    assert running.filter.worker_pids == []


def test_killed_worker_gives_4xx_then_delivery_once(
    world: World, sink: Sink, demo_password: None
) -> None:
    stream = io.StringIO()
    thread = FilterThread(ContentFilter(pooled_policy(world, sink), log=stream)).start()
    count, clients = 80, 8
    answers: dict[int, int] = {}
    attempts: Counter[int] = Counter()
    killed: list[int] = []

    def client(first: int) -> None:
        for number in range(first, count, clients):
            answer, tries = send_until_accepted(
                thread.port, JO, [PLANNING], make_message(number),
                deadline=time.monotonic() + 90,
            )  # fmt: skip
            answers[number] = answer.code
            attempts[number] = tries

    workers = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    try:
        for worker in workers:
            worker.start()
        while len(sink.messages) < count // 4:
            time.sleep(0.01)
        # Mid-run a worker stops answering, so that it surely holds messages
        # (eight clients keep more in flight than two workers take), then
        # dies the hard way, as after a crash in C code.
        victim = thread.filter.worker_pids[0]
        os.kill(victim, signal.SIGSTOP)
        time.sleep(0.3)
        os.kill(victim, signal.SIGKILL)
        killed.append(victim)
        for worker in workers:
            worker.join(timeout=120)
        deadline = time.monotonic() + 30
        while len(thread.filter.worker_pids) < (os.cpu_count() or 1):
            assert time.monotonic() < deadline, "no worker replaced the killed one"
            time.sleep(0.05)
        replacements = thread.filter.worker_pids
    finally:
        thread.stop()
    assert answers == dict.fromkeys(range(count), 250)
    # The message the worker held got 451 (the client retried it)...
    lost = [r for r in records(stream, "message") if r["error"] == "WorkerLost"]
    assert lost and all(r["reply"] == "451 4.3.0" for r in lost)
    assert sum(attempts.values()) >= count + len(lost)
    [exited] = records(stream, "worker_exited")
    assert exited["pid"] == victim and exited["lost"] is True
    # ...a new worker took its place...
    assert victim not in replacements and len(replacements) == (os.cpu_count() or 1)
    # ...and every message arrived exactly once.
    assert Counter(sink.message_ids()) == Counter(f"<m{n}@agency.gov.au>" for n in range(count))
    assert not any(alive(pid) for pid in [*killed, *replacements])


def test_stuck_worker_times_out_and_is_replaced(
    world: World, sink: Sink, demo_password: None
) -> None:
    stream = io.StringIO()
    policy = pooled_policy(world, sink, workers=1, process_timeout=1)
    thread = FilterThread(ContentFilter(policy, log=stream)).start()
    try:
        [stuck] = thread.filter.worker_pids
        os.kill(stuck, signal.SIGSTOP)  # it never answers again
        answer = send(thread.port, JO, [PLANNING], make_message(3))
        # RFC 3463 X.3.0: the MTA keeps the message and retries.
        assert (answer.code, answer.text.split()[0]) == (451, "4.3.0")
        answer, _ = send_until_accepted(
            thread.port, JO, [PLANNING], make_message(3), deadline=time.monotonic() + 60
        )
        assert answer.code == 250
        [fresh] = thread.filter.worker_pids
    finally:
        thread.stop()
    assert fresh != stuck and not alive(stuck) and not alive(fresh)
    [timed_out, *_] = records(stream, "message")
    assert (timed_out["error"], timed_out["reply"]) == ("Timeout", "451 4.3.0")
    assert sink.message_ids() == ["<m3@agency.gov.au>"]


def test_worker_that_cannot_start(
    world: World, sink: Sink, demo_password: None, tmp_path: Path
) -> None:
    # The policy was fine when the filter was made; its trust anchor is
    # gone when the workers start: start() fails, and no process is left.
    anchor = tmp_path / "root-ca.pem"
    anchor.write_bytes(world.root_pem.read_bytes())
    port = free_port()
    policy = pooled_policy(world, sink, listen=f"127.0.0.1:{port}")
    policy = dataclasses.replace(
        policy, smime=dataclasses.replace(policy.smime, trust_anchors=(str(anchor),))
    )
    content_filter = ContentFilter(policy, log=None)
    anchor.unlink()
    before = _children()
    thread = FilterThread(content_filter)
    with pytest.raises(ServiceUnavailable, match=r"did not start \(FileNotFoundError: "):
        thread.start()
    thread.loop.call_soon_threadsafe(thread.loop.stop)
    thread.thread.join(timeout=10)
    thread.loop.close()
    assert content_filter.worker_pids == []
    assert _children() == before  # the workers that were started are gone, reaped
    with pytest.raises(ConnectionRefusedError):  # nothing listens any more
        send(port, JO, [PLANNING], make_message(5), timeout=2)


def _children() -> set[str]:
    """This process's child processes (all its threads')."""
    tasks = Path(f"/proc/{os.getpid()}/task")
    return {pid for task in tasks.iterdir() for pid in (task / "children").read_text().split()}
