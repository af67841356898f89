"""Shutdown when ``shutdown_timeout`` runs out: never a 250 without delivery, never a
delivery without its reply.

A message still in the pipeline, or being relayed but whose final dot has
not gone, is given up: the relay is cut before the dot (the next hop
delivers nothing, RFC 5321 §4.1.1.4) and the client gets 421 (it keeps the
message).  A message whose dot went out is seen to the end, past the
timeout, so that its client hears what the next hop did.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from mailcore.pipeline import Pipeline, ProcessResult
from mailcore.serve import ContentFilter
from tests.pipeline.conftest import World
from tests.serve.conftest import (
    JO,
    PLANNING,
    Answer,
    FilterThread,
    Sink,
    alive,
    demo_pipeline,
    make_message,
    pooled_policy,
    send,
    serve_policy,
)


class _SlowPipeline(Pipeline):
    def outbound(self, *args: Any, **kwargs: Any) -> ProcessResult:
        time.sleep(2)
        return super().outbound(*args, **kwargs)


def _in_background(port: int, number: int) -> tuple[threading.Thread, list[Answer]]:
    answers: list[Answer] = []
    thread = threading.Thread(
        target=lambda: answers.append(send(port, JO, [PLANNING], make_message(number)))
    )
    thread.start()
    return thread, answers


def _stopped(stream: io.StringIO) -> dict[str, Any]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[-1]["event"] == "stopped"
    return lines[-1]


def _message_records(stream: io.StringIO) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [line for line in lines if line["event"] == "message"]


def _shut_down_when(filter_thread: FilterThread, ready: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + 20
    while not ready():
        assert time.monotonic() < deadline, "the message never reached that point"
        time.sleep(0.01)
    return filter_thread.stop(timeout=0.3)


def test_message_in_the_pipeline_is_given_up_with_421(world: World, sink: Sink) -> None:
    stream = io.StringIO()
    policy = serve_policy(sink)
    slow = _SlowPipeline(policy, directory=world.file_directory(), keys=world.keys(),
                         trust=[world.identities[JO].chain[0]])  # fmt: skip
    filter_thread = FilterThread(ContentFilter(policy, pipeline=slow, log=stream)).start()
    client, answers = _in_background(filter_thread.port, 1)
    finished = _shut_down_when(filter_thread, lambda: bool(filter_thread.filter.tasks))
    client.join(timeout=30)
    assert finished is False
    [answer] = answers
    assert (answer.code, answer.text.split()[0]) == (421, "4.3.2")
    time.sleep(2)  # the pipeline's thread ends meanwhile: its result goes nowhere
    assert sink.messages == []
    [record] = _message_records(stream)
    assert (record["reply"], record["error"], record["relay"]) == ("421 4.3.2", "Shutdown", None)
    assert _stopped(stream) | {"time": None} == {
        "event": "stopped", "time": None, "finished": False, "unanswered": 1,
    }  # fmt: skip


def test_relay_before_the_final_dot_is_cut(world: World, sink: Sink) -> None:
    stream = io.StringIO()
    sink.rcpt_delay = 3  # the next hop is slow to take the recipient
    policy = serve_policy(sink)
    filter_thread = FilterThread(
        ContentFilter(policy, pipeline=demo_pipeline(world, policy), log=stream)
    ).start()
    client, answers = _in_background(filter_thread.port, 2)
    finished = _shut_down_when(filter_thread, sink.seen_rcpt.is_set)
    client.join(timeout=30)
    assert finished is False
    assert [answer.code for answer in answers] == [421]
    time.sleep(3.5)  # what the next hop would do once its RCPT reply went out
    assert sink.messages == []
    assert _message_records(stream)[0]["error"] == "Shutdown"


def test_message_whose_dot_was_sent_is_seen_to_the_end(world: World, sink: Sink) -> None:
    stream = io.StringIO()
    sink.delay = 1.5  # the next hop has the whole message and takes its time to answer
    policy = serve_policy(sink)
    filter_thread = FilterThread(
        ContentFilter(policy, pipeline=demo_pipeline(world, policy), log=stream)
    ).start()
    client, answers = _in_background(filter_thread.port, 3)
    started = time.monotonic()
    finished = _shut_down_when(filter_thread, sink.seen_data.is_set)
    waited = time.monotonic() - started
    client.join(timeout=30)
    # Past the 0.3 s timeout: the client gets the next hop's verdict, once.
    assert finished is True and waited >= 1.0
    assert [answer.code for answer in answers] == [250]
    assert sink.message_ids() == ["<m3@agency.gov.au>"]
    assert _stopped(stream)["finished"] is True


@pytest.mark.parametrize("stuck", [False, True], ids=["idle", "stuck worker"])
def test_no_worker_process_outlives_the_filter(
    world: World, sink: Sink, demo_password: None, stuck: bool
) -> None:
    policy = pooled_policy(world, sink)
    filter_thread = FilterThread(ContentFilter(policy, log=None)).start()
    pids = filter_thread.filter.worker_pids
    assert send(filter_thread.port, JO, [PLANNING], make_message(4)).code == 250
    if stuck:
        for pid in pids:
            os.kill(pid, signal.SIGSTOP)  # a message there would never end
        client, answers = _in_background(filter_thread.port, 5)
        finished = _shut_down_when(filter_thread, lambda: bool(filter_thread.filter.tasks))
        client.join(timeout=30)
        assert finished is False and [answer.code for answer in answers] == [421]
    else:
        assert filter_thread.stop() is True
    assert not any(alive(pid) for pid in pids)
    assert sink.message_ids() == ["<m4@agency.gov.au>"]
