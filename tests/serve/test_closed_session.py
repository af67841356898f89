"""A message whose session was closed before its turn is never relayed.

At shutdown a session that is not processing a message gets 421 and is
closed; a complete transaction already buffered could still reach the DATA
hook afterwards.  Relaying it then would deliver a message whose client never
got a 250 (and will send it again).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from aiosmtpd.smtp import Envelope, Session

from mailcore.serve._server import _Handler
from tests.serve.conftest import JO, PLANNING, FilterThread, Sink, make_message


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
    session.peer = ("127.0.0.1", 1)
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
