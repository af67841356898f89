"""The relay client against a real SMTP sink, and its wire format."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from mailcore.serve import Relay, RelayResult, smtp_data
from tests.serve.conftest import JO, PLANNING, SAM, Sink, make_message
from tests.slapd import free_port


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


class TestRelay:
    def test_delivered(self, sink: Sink) -> None:
        relay = Relay("127.0.0.1", sink.port, timeout=5)
        result = relay.send(JO, [PLANNING, SAM], make_message(1))
        relay.close()
        assert (result.outcome, result.code, result.stage) == ("delivered", 250, "dot")
        assert sink.messages[0].recipients == (PLANNING, SAM)
        assert sink.messages[0].data == make_message(1)

    def test_stale_idle_connection_is_replaced_not_relayed_twice(self, sink: Sink) -> None:
        relay = Relay("127.0.0.1", sink.port, timeout=5)
        assert relay.send(JO, [PLANNING], make_message(1)).outcome == "delivered"
        sink.stop()  # the idle connection kept by the relay dies with the server
        sink.start()
        result = relay.send(JO, [PLANNING], make_message(2))
        relay.close()
        assert result.outcome == "delivered"
        assert sink.message_ids() == ["<m1@agency.gov.au>", "<m2@agency.gov.au>"]

    def test_nobody_listening(self) -> None:
        result = Relay("127.0.0.1", free_port(), timeout=2).send(JO, [PLANNING], b"x")
        assert (result.outcome, result.code, result.stage) == ("deferred", 0, "connect")
        assert result.reply("ID").code == 451

    def test_one_refused_recipient_stops_the_whole_message(self, sink: Sink) -> None:
        sink.refuse[SAM] = "550 5.1.1 No such user"
        relay = Relay("127.0.0.1", sink.port, timeout=5)
        result = relay.send(JO, [PLANNING, SAM], make_message(3))
        # The connection was reset (RSET) and kept: the next message goes through it.
        assert relay.send(JO, [PLANNING], make_message(4)).outcome == "delivered"
        relay.close()
        assert (result.outcome, result.code, result.stage) == ("refused", 550, "rcpt")
        assert SAM in result.text
        assert sink.message_ids() == ["<m4@agency.gov.au>"]

    def test_null_sender(self, sink: Sink) -> None:
        relay = Relay("127.0.0.1", sink.port, timeout=5)
        assert relay.send("", [PLANNING], make_message(5)).outcome == "delivered"
        relay.close()
        assert sink.messages[0].sender == "<>"


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
