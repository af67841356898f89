"""The SMTP side's fast paths give aiosmtpd's answers: PIPELINING, DATA in blocks, addresses."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailcore.serve._session import FilterSession
from tests.serve.conftest import JO, PLANNING, FilterThread, Sink
from tests.serve.test_limits import Wire, ready

OUTSIDER = "someone@partner.example"  # not internal: inbound, the content passes unchanged


class _Owner:
    draining = False
    max_sessions = 1
    sessions: set[FilterSession] = set()  # noqa: RUF012 (a stand-in, never shared)


@pytest.fixture(scope="module")
def session() -> Iterator[FilterSession]:
    loop = asyncio.new_event_loop()
    try:
        yield FilterSession(
            _Owner(), object(), max_line_length=1000, hostname="filter.test", loop=loop
        )
    finally:
        loop.close()


# RFC 5321 §4.1.2 Path: dot-atom local parts and domains, plus a few forms
# that must take the slow path (quoted local part, address literal, route).
_ATEXT = st.text("abcXYZ019!#$%&'*+/=?^_`{|}~-", min_size=1, max_size=8)
_DOT_ATOM = st.lists(_ATEXT, min_size=1, max_size=3).map(".".join)
_LABEL = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,6}[A-Za-z0-9])?", fullmatch=True)
_DOMAIN = st.lists(_LABEL, min_size=1, max_size=3).map(".".join)
_ODD = st.sampled_from(
    ['"quoted local"@example.org', "a@[192.0.2.1]", "@relay.example:a@example.org", "a@", ""]
)
_PARAMETERS = st.sampled_from(
    ["", " SIZE=1000", " BODY=8BITMIME", "  SIZE=5 BODY=7BIT", "x", "\tSIZE=1", " (note) SIZE=1"]
)


@given(
    address=st.one_of(st.tuples(_DOT_ATOM, _DOMAIN).map("@".join), _ODD),
    parameters=_PARAMETERS,
)
def test_address_fast_path_agrees_with_aiosmtpd(
    session: FilterSession, address: str, parameters: str
) -> None:
    argument = f"<{address}>{parameters}"
    assert session._getaddr(argument) == SMTP._getaddr(session, argument)


def test_ehlo_offers_pipelining(running: FilterThread) -> None:
    wire = Wire(running.port)
    code, text = wire.command(b"EHLO client.test")
    wire.close()
    assert code == 250 and "250-PIPELINING" in text.splitlines()


def _writes_of(running: FilterThread) -> list[bytes]:
    """Record what the filter's one open session writes, from now on."""
    [session] = list(running.filter.sessions)
    transport: Any = session.transport
    writes: list[bytes] = []
    original = transport.write

    def write(data: bytes) -> None:
        writes.append(bytes(data))
        original(data)

    transport.write = write
    return writes


def test_a_pipelined_group_is_answered_in_one_write(running: FilterThread, sink: Sink) -> None:
    wire = ready(running.port)
    writes = _writes_of(running)
    # RFC 2920 §3.1: MAIL, RCPT... and DATA (last) in one group.
    wire.sock.sendall(
        f"MAIL FROM:<{OUTSIDER}>\r\nRCPT TO:<{PLANNING}>\r\nRCPT TO:<{JO}>\r\nDATA\r\n".encode()
    )
    assert [wire.reply()[0] for _ in range(4)] == [250, 250, 250, 354]
    # §3.2: the server answers the group at once, in one write.
    assert writes == [
        b"250 OK\r\n250 2.1.5 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n"
    ]
    wire.sock.sendall(b"Subject: one\r\n\r\nbody\r\n.\r\n")
    assert wire.reply()[0] == 250
    wire.close()
    assert sink.messages[0].data == b"Subject: one\r\n\r\nbody\r\n"


def test_a_group_ending_without_data_is_answered_when_input_stops(
    running: FilterThread,
) -> None:
    wire = ready(running.port)
    # No DATA: the replies must still come (nothing more to read, §3.2).
    wire.sock.sendall(f"RSET\r\nMAIL FROM:<{OUTSIDER}>\r\nRCPT TO:<{PLANNING}>\r\n".encode())
    assert [wire.reply()[0] for _ in range(3)] == [250, 250, 250]
    wire.close()


def test_commands_pipelined_after_the_final_dot(running: FilterThread, sink: Sink) -> None:
    wire = ready(running.port)
    first = b"Subject: first\r\n\r\n.hidden dot\r\n"
    second = b"Subject: second\r\n\r\nplain\r\n"
    # RFC 2920 §3.1: the content may be followed by the next commands.
    wire.sock.sendall(f"MAIL FROM:<{OUTSIDER}>\r\nRCPT TO:<{PLANNING}>\r\nDATA\r\n".encode())
    assert [wire.reply()[0] for _ in range(3)] == [250, 250, 354]
    wire.sock.sendall(
        b"Subject: first\r\n\r\n..hidden dot\r\n.\r\n"
        + f"MAIL FROM:<{OUTSIDER}>\r\nRCPT TO:<{JO}>\r\nDATA\r\n".encode()
    )
    assert [wire.reply()[0] for _ in range(4)] == [250, 250, 250, 354]
    wire.sock.sendall(second + b".\r\nQUIT\r\n")
    assert [wire.reply()[0] for _ in range(2)] == [250, 221]
    wire.close()
    assert [m.data for m in sink.messages] == [first, second]
    assert [m.recipients for m in sink.messages] == [(PLANNING,), (JO,)]


def test_empty_message_is_answered(running: FilterThread, sink: Sink) -> None:
    wire = ready(running.port)
    assert wire.command(f"MAIL FROM:<{OUTSIDER}>".encode())[0] == 250
    assert wire.command(f"RCPT TO:<{PLANNING}>".encode())[0] == 250
    assert wire.command(b"DATA")[0] == 354
    wire.sock.sendall(b".\r\n")  # the end of data right away: no content at all
    code, text = wire.reply()
    assert (code, text.split()[1]) == (554, "5.6.0")  # the pipeline cannot read an empty message
    assert wire.command(b"NOOP")[0] == 250
    wire.close()
    assert sink.messages == []


_LINE = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
_BODY_LINE = st.one_of(_LINE, _LINE.map(lambda line: "." + line), st.just("."), st.just(""))


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(body=st.lists(_BODY_LINE, max_size=30), cuts=st.lists(st.integers(1, 40), max_size=12))
def test_content_arrives_whole_however_it_is_cut(
    running: FilterThread, sink: Sink, body: list[str], cuts: list[int]
) -> None:
    message = ("Subject: cut\r\n\r\n" + "".join(f"{line}\r\n" for line in body)).encode()
    # RFC 5321 §4.5.2: the client stuffs dots; the filter must undo it exactly.
    wire_data = (
        b"".join(
            (b"." + line if line.startswith(b".") else line) + b"\r\n"
            for line in message.split(b"\r\n")[:-1]
        )
        + b".\r\n"
    )
    before = len(sink.messages)  # the examples share the sink
    wire = ready(running.port)
    assert wire.command(f"MAIL FROM:<{OUTSIDER}>".encode())[0] == 250
    assert wire.command(f"RCPT TO:<{PLANNING}>".encode())[0] == 250
    assert wire.command(b"DATA")[0] == 354
    wire.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = 0
    for cut in cuts:  # pieces of any size: the end-of-data line may straddle two
        piece = wire_data[start : start + cut]
        if not piece:
            break
        wire.sock.sendall(piece)
        start += cut
        time.sleep(0.002)
    wire.sock.sendall(wire_data[start:])
    assert wire.reply()[0] == 250
    wire.close()
    assert len(sink.messages) == before + 1
    assert sink.messages[-1].data == message
