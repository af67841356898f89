"""The relay client against a real SMTP sink, and its wire format."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailcore.serve import Relay, RelayResult, prepare, smtp_data
from tests.serve.conftest import JO, PLANNING, SAM, Sink, make_message
from tests.slapd import free_port

T = TypeVar("T")


def unstuff(wire: bytes) -> bytes:
    """What an RFC 5321 §4.5.2 receiver makes of DATA content (written from the RFC)."""
    assert wire.endswith(b"\r\n.\r\n")
    lines = wire[: -len(b".\r\n")].split(b"\r\n")[:-1]
    return b"".join((line[1:] if line.startswith(b".") else line) + b"\r\n" for line in lines)


@given(st.binary(max_size=300))
def test_smtp_data_round_trip(message: bytes) -> None:
    wire = smtp_data(message)
    # Every line ends in CRLF, no line is a lone dot before the end.
    assert re.search(rb"\r(?!\n)|(?<!\r)\n", wire) is None
    assert b"\r\n.\r\n" not in wire[:-3]  # no early end of data
    normalised = re.sub(rb"\r\n|\r|\n", b"\r\n", message)
    if not normalised.endswith(b"\r\n"):
        normalised += b"\r\n"  # the last line is completed (an empty message: one empty line)
    assert unstuff(wire) == normalised


@given(st.binary(max_size=300))
def test_prepare(message: bytes) -> None:
    prepared = prepare(message)
    assert prepared.wire == smtp_data(message)
    assert prepared.size == len(message)
    assert prepared.eightbit == any(byte > 127 for byte in message)


def on_loop(make: Callable[[Relay], Awaitable[T]], port: int, **options: float) -> T:
    """Run ``make(relay)`` on a fresh event loop, then close the relay."""

    async def main() -> T:
        relay = Relay("127.0.0.1", port, timeout=options.get("timeout", 5))
        try:
            return await make(relay)
        finally:
            relay.close()
            await asyncio.sleep(0.05)  # the QUITs go out before the loop ends

    return asyncio.run(main())


@pytest.fixture(params=[True, False], ids=["pipelining", "lock-step"])
def any_sink(request: pytest.FixtureRequest, sink: Sink) -> Sink:
    """The sink with and without PIPELINING (RFC 2920): the relay uses what it offers."""
    sink.pipelining = request.param
    return sink


class TestRelay:
    def test_delivered(self, any_sink: Sink) -> None:
        result = on_loop(lambda relay: relay.send(JO, [PLANNING, SAM], make_message(1)),
                         any_sink.port)  # fmt: skip
        assert (result.outcome, result.code, result.stage) == ("delivered", 250, "dot")
        assert any_sink.messages[0].recipients == (PLANNING, SAM)
        assert any_sink.messages[0].data == make_message(1)

    def test_connection_reused(self, any_sink: Sink) -> None:
        async def three(relay: Relay) -> list[str]:
            outcomes: list[str] = []
            for number in range(3):
                result = await relay.send(JO, [PLANNING], make_message(number))
                outcomes.append(result.outcome)
            return outcomes

        assert on_loop(three, any_sink.port) == ["delivered"] * 3
        assert any_sink.message_ids() == [f"<m{n}@agency.gov.au>" for n in range(3)]
        assert any_sink.ehlos == 1  # one session for the three messages

    def test_concurrent_sends_each_once(self, any_sink: Sink) -> None:
        async def many(relay: Relay) -> list[str]:
            results = await asyncio.gather(
                *(relay.send(JO, [PLANNING], make_message(n)) for n in range(30))
            )
            return [result.outcome for result in results]

        assert on_loop(many, any_sink.port) == ["delivered"] * 30
        assert sorted(any_sink.message_ids()) == sorted(f"<m{n}@agency.gov.au>" for n in range(30))

    def test_stale_idle_connection_is_replaced_not_relayed_twice(self, any_sink: Sink) -> None:
        async def across_restart(relay: Relay) -> RelayResult:
            assert (await relay.send(JO, [PLANNING], make_message(1))).outcome == "delivered"
            # The idle connection kept by the relay dies with the server.
            await asyncio.to_thread(any_sink.stop)
            await asyncio.to_thread(any_sink.start)
            return await relay.send(JO, [PLANNING], make_message(2))

        result = on_loop(across_restart, any_sink.port)
        assert result.outcome == "delivered"
        assert any_sink.message_ids() == ["<m1@agency.gov.au>", "<m2@agency.gov.au>"]

    def test_nobody_listening(self) -> None:
        result = on_loop(lambda relay: relay.send(JO, [PLANNING], b"x"), free_port(), timeout=2)
        assert (result.outcome, result.code, result.stage) == ("deferred", 0, "connect")
        assert "refused the connection" in result.text
        assert result.reply("ID").code == 451

    def test_one_refused_recipient_stops_the_whole_message(self, any_sink: Sink) -> None:
        # With PIPELINING the sink answers DATA with 354 (one recipient is
        # fine): the relay must drop the connection without the final dot.
        any_sink.refuse[SAM] = "550 5.1.1 No such user"

        async def refused_then_next(relay: Relay) -> tuple[RelayResult, RelayResult]:
            first = await relay.send(JO, [PLANNING, SAM], make_message(3))
            second = await relay.send(JO, [PLANNING], make_message(4))
            return first, second

        result, after = on_loop(refused_then_next, any_sink.port)
        assert (result.outcome, result.code, result.stage) == ("refused", 550, "rcpt")
        assert SAM in result.text
        assert after.outcome == "delivered"
        assert any_sink.message_ids() == ["<m4@agency.gov.au>"]

    def test_deferred_sender(self, any_sink: Sink) -> None:
        any_sink.refuse[PLANNING] = "451 4.3.0 Try later"
        result = on_loop(lambda relay: relay.send(JO, [PLANNING], make_message(5)),
                         any_sink.port)  # fmt: skip
        assert (result.outcome, result.code, result.stage) == ("deferred", 451, "rcpt")
        assert result.reply("ID").status == "4.3.0"
        assert any_sink.messages == []

    def test_null_sender(self, any_sink: Sink) -> None:
        result = on_loop(lambda relay: relay.send("", [PLANNING], make_message(5)), any_sink.port)
        assert result.outcome == "delivered"
        assert any_sink.messages[0].sender == "<>"

    def test_slow_final_reply_is_unknown(self, sink: Sink) -> None:
        sink.delay = 2.0
        result = on_loop(lambda relay: relay.send(JO, [PLANNING], make_message(6)), sink.port,
                         timeout=0.5)  # fmt: skip
        # The dot went out; the next hop may have the message (RFC 1047).
        assert (result.outcome, result.code, result.stage) == ("unknown", 0, "dot")
        assert result.text == "timed out waiting for the next hop"

    def test_slow_recipient_is_deferred_and_nothing_sent(self, sink: Sink) -> None:
        sink.rcpt_delay = 2.0
        result = on_loop(lambda relay: relay.send(JO, [PLANNING], make_message(7)), sink.port,
                         timeout=0.5)  # fmt: skip
        assert (result.outcome, result.stage) == ("deferred", "rcpt")
        assert sink.messages == []

    def test_commit_is_called_only_when_the_dot_goes(self, sink: Sink) -> None:
        calls: list[str] = []
        sink.refuse[SAM] = "550 5.1.1 No such user"

        def commit(number: str) -> bool:
            calls.append(number)
            return False  # falsy, as list.append's None was: asked, then withdrawn

        async def two(relay: Relay) -> None:
            await relay.send(JO, [SAM], make_message(8), on_commit=lambda: commit("8"))
            await relay.send(JO, [PLANNING], make_message(9), on_commit=lambda: commit("9"))

        on_loop(two, sink.port)
        assert calls == ["9"]

    @pytest.mark.parametrize("address", ["a@b.example>\r\nRSET", "a\n@b.example", "<a@b>"])
    def test_address_that_would_end_the_command_is_refused(self, sink: Sink, address: str) -> None:
        with pytest.raises(ValueError, match="control character or angle bracket"):
            on_loop(lambda relay: relay.send(JO, [address], b"x"), sink.port)
        assert sink.messages == []


class TestReplyForResult:
    def test_texts_and_codes(self) -> None:
        cases = {
            "delivered": (RelayResult("delivered", 250, "Ok: queued as X", "dot", 0.1),
                          "250 2.0.0 Ok: ID relayed; next hop said: 250 Ok: queued as X"),
            "deferred keeps 4.x.x": (RelayResult("deferred", 451, "4.7.1 Later", "mail", 0),
                                     "451 4.7.1 Next hop did not take the message: "
                                     "451 4.7.1 Later"),
            "refused keeps code": (RelayResult("refused", 552, "5.3.4 Too big", "dot", 0),
                                   "552 5.3.4 Next hop refused the message: 552 5.3.4 Too big"),
            "odd 5xx becomes 554": (RelayResult("refused", 599, "nope", "dot", 0),
                                    "554 5.0.0 Next hop refused the message: 599 nope"),
            "unknown": (RelayResult("unknown", 0, "timed out waiting for the next hop", "dot", 0),
                        "451 4.4.2 Connection to the next hop lost after the message was sent "
                        "(timed out waiting for the next hop); try again later"),
        }  # fmt: skip
        for name, (result, expected) in cases.items():
            assert str(result.reply("ID")) == expected, name
