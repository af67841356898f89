"""A message whose session was closed before its turn is never relayed.

At shutdown a session that is not processing a message gets 421 and is
closed; a complete transaction already buffered could still reach the DATA
hook afterwards.  Relaying it then would deliver a message whose client never
got a 250 (and will send it again).
"""

from __future__ import annotations

import asyncio
import io
import json
import time
from dataclasses import dataclass, field

from aiosmtpd.smtp import Envelope, Session

from mailcore.serve import ContentFilter
from mailcore.serve._server import _Handler, _Job
from tests.pipeline.conftest import World
from tests.serve.conftest import (
    JO,
    PLANNING,
    FilterThread,
    Sink,
    demo_pipeline,
    make_message,
    send,
    serve_policy,
)
from tests.serve.test_limits import ready


@dataclass
class _Transport:
    closing: bool

    def is_closing(self) -> bool:
        return self.closing


@dataclass
class _FakeSession:
    transport: _Transport | None
    in_flight: bool = field(default=False)


def _envelope() -> Envelope:
    envelope = Envelope()
    envelope.mail_from = JO
    envelope.rcpt_tos = [PLANNING]
    envelope.original_content = make_message(9001)
    return envelope


def _call(running: FilterThread, server: _FakeSession) -> str:
    handler = _Handler(running.filter)
    session = Session(loop=running.loop)
    # aiosmtpd annotates peer as str, but stores the transport's peername,
    # (host, port), as here.
    session.peer = ("127.0.0.1", 1)  # type: ignore[assignment]
    # server is a stand-in for aiosmtpd's SMTP (only what _Handler reads).
    coroutine = handler.handle_DATA(server, session, _envelope())  # type: ignore[arg-type]
    return asyncio.run_coroutine_threadsafe(coroutine, running.loop).result(timeout=30)


def test_closed_session_is_not_relayed(running: FilterThread, sink: Sink) -> None:
    for transport in (_Transport(closing=True), None):
        reply = _call(running, _FakeSession(transport))
        assert reply.startswith("421 ")
    assert sink.message_ids() == []


def test_open_session_is_relayed(running: FilterThread, sink: Sink) -> None:
    reply = _call(running, _FakeSession(_Transport(closing=False)))
    assert reply.startswith("250 ")
    assert sink.message_ids() == ["<m9001@agency.gov.au>"]


def test_client_gone_before_relay_is_not_relayed(running: FilterThread, sink: Sink) -> None:
    job = _Job(
        id="t1",
        peer="127.0.0.1:1",
        sender=JO,
        recipients=(PLANNING,),
        data=make_message(9002),
        received=time.monotonic(),
    )
    coroutine = running.filter._handle_message(job, lambda: False)
    reply = asyncio.run_coroutine_threadsafe(coroutine, running.loop).result(timeout=30)
    assert reply.code == 451  # nobody hears it; the client still holds the message
    assert sink.message_ids() == []


def test_slow_next_hop_does_not_trip_the_idle_timer(world: World, sink: Sink) -> None:
    # The session times out after 1 s of silence; the next hop takes 2.5 s to
    # answer.  The client must get its 250 (and the message arrive once), not
    # be dropped while its message is being relayed.
    sink.delay = 2.5
    policy = serve_policy(sink, session_timeout=1)
    thread = FilterThread(ContentFilter(policy, pipeline=demo_pipeline(world, policy), log=None))
    thread.start()
    try:
        answer = send(thread.port, JO, [PLANNING], make_message(9003), timeout=30)
    finally:
        thread.stop()
    assert answer.code == 250
    assert sink.message_ids() == ["<m9003@agency.gov.au>"]


def test_client_gone_during_the_relay_is_not_delivered(world: World, sink: Sink) -> None:
    # The client leaves while the next hop is still taking the recipients:
    # the relay stops before the final dot, so the next hop delivers nothing
    # (the client, which never heard a 250, will send the message again).
    stream = io.StringIO()
    sink.rcpt_delay = 1.0
    policy = serve_policy(sink)
    thread = FilterThread(
        ContentFilter(policy, pipeline=demo_pipeline(world, policy), log=stream)
    ).start()
    try:
        wire = ready(thread.port)
        assert wire.command(f"MAIL FROM:<{JO}>".encode())[0] == 250
        assert wire.command(f"RCPT TO:<{PLANNING}>".encode())[0] == 250
        assert wire.command(b"DATA")[0] == 354
        wire.sock.sendall(make_message(9004) + b".\r\n")
        assert sink.seen_rcpt.wait(timeout=20)
        wire.close()
        time.sleep(1.5)  # the next hop answers RCPT and DATA meanwhile
    finally:
        thread.stop()
    assert sink.messages == []
    [record] = [json.loads(line) for line in stream.getvalue().splitlines()
                if '"event":"message"' in line]  # fmt: skip
    assert (record["error"], record["decision"]) == ("ClientGone", "deferred")
    assert (record["relay"]["outcome"], record["relay"]["stage"]) == ("deferred", "data")
