"""The search request encoder and the response reader, against independent ASN.1 code.

Requests are decoded with asn1crypto (tests/directory/wire.py), answers are
encoded with pyasn1 and ldap3's RFC 4511 module; the reader is fed them in
every split, truncated, garbled and one byte per ``recv`` through a real
socket pair.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailcore import DirectoryUnavailable
from mailcore.directory import FilterTemplate
from mailcore.directory._protocol import (
    ConnectionClosed,
    SearchDone,
    SearchRequest,
    SearchResponseReader,
)
from mailcore.directory._search import exchange
from tests.directory.wire import (
    Message,
    decode_filter,
    done_message,
    entry_message,
    filter_tree,
    notice_of_disconnection,
    reference_message,
    widen,
)

names = st.from_regex(r"[A-Za-z][A-Za-z0-9-]{0,15}(;[a-z]{1,6})?", fullmatch=True)
entries = st.lists(
    st.tuples(
        st.text(max_size=30),  # the DN: skipped, but must be stepped over
        st.lists(st.tuples(names, st.lists(st.binary(max_size=300), max_size=3)), max_size=4),
    ),
    max_size=5,
)
message_ids = st.integers(1, 2**31 - 1)


def answer(message_id: int, found: list[tuple[str, list[tuple[str, list[bytes]]]]]) -> bytes:
    return b"".join(entry_message(message_id, dn, attrs) for dn, attrs in found)


def expected(found: list[tuple[str, list[tuple[str, list[bytes]]]]]) -> list[object]:
    return [
        [(name.lower().encode(), list(values)) for name, values in attrs] for _, attrs in found
    ]


def read_all(message_id: int, pieces: list[bytes]) -> SearchResponseReader:
    reader = SearchResponseReader(message_id)
    complete = False
    for piece in pieces:
        assert not complete, "the reader finished before the end of the answer"
        complete = reader.feed(piece)
    assert complete
    return reader


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({0, len(data), *(cut % (len(data) + 1) for cut in cuts)})
    return [data[a:b] for a, b in itertools.pairwise(points)]


class TestRequest:
    @settings(max_examples=60, deadline=None)
    @given(
        message_ids,
        st.text(max_size=40),
        st.integers(0, 2**31 - 1),
        st.integers(0, 2**31 - 1),
        st.lists(names, max_size=4),
        st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=3),
    )
    def test_decodes_as_the_search_asked_for(
        self,
        message_id: int,
        base: str,
        size_limit: int,
        time_limit: int,
        attributes: list[str],
        addresses: list[str],
    ) -> None:
        template = FilterTemplate.parse("(&(objectClass=person)(mail={address}))")
        search_filter = template.ber_for_addresses(addresses)
        request = SearchRequest(base, attributes, size_limit=size_limit, time_limit=time_limit)
        message = Message.load(request.encode(message_id, search_filter), strict=True)
        assert message["messageID"].native == message_id
        search = message["protocolOp"].chosen
        assert search["baseObject"].native == base.encode()
        assert int(search["scope"].native) == 2  # wholeSubtree
        assert int(search["derefAliases"].native) == 3  # derefAlways, as ldap3 sends
        assert search["sizeLimit"].native == size_limit
        assert search["timeLimit"].native == time_limit
        assert search["typesOnly"].native is False
        assert [a.native.decode() for a in search["attributes"]] == attributes
        assert filter_tree(search["filter"]) == decode_filter(search_filter)

    def test_refuses_what_ldap_cannot_carry(self) -> None:
        with pytest.raises(ValueError, match="limits"):
            SearchRequest("dc=x", [], size_limit=-1, time_limit=0)
        request = SearchRequest("dc=x", [], size_limit=0, time_limit=0)
        with pytest.raises(ValueError, match="message ID"):
            request.encode(0, b"\x87\x02cn")
        with pytest.raises(ValueError, match="message ID"):
            request.encode(2**31, b"\x87\x02cn")


class TestReader:
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        message_ids,
        entries,
        st.lists(st.integers(0, 10_000), max_size=6),
        st.booleans(),
        st.booleans(),
    )
    def test_entries_in_any_split(
        self,
        message_id: int,
        found: list[tuple[str, list[tuple[str, list[bytes]]]]],
        cuts: list[int],
        long_lengths: bool,
        with_reference: bool,
    ) -> None:
        data = answer(message_id, found)
        if with_reference:
            data = reference_message(message_id, ["ldap://other.example/dc=x"]) + data
        data += done_message(message_id, 0, "", "fine")
        if long_lengths:
            data = widen(data)  # AD writes every length in four octets
        reader = read_all(message_id, split(data, cuts))
        assert reader.entries == expected(found)
        assert reader.done == SearchDone(0, "", "fine")
        assert reader.references == int(with_reference)
        assert reader.trailing == b""

    @settings(max_examples=30, deadline=None)
    @given(message_ids, entries)
    def test_one_byte_at_a_time(
        self, message_id: int, found: list[tuple[str, list[tuple[str, list[bytes]]]]]
    ) -> None:
        data = answer(message_id, found) + done_message(message_id)
        reader = read_all(message_id, [data[i : i + 1] for i in range(len(data))])
        assert reader.entries == expected(found)

    def test_result_fields_and_referrals(self) -> None:
        data = done_message(7, 10, "dc=example,dc=com", "go elsewhere", ["ldap://a/", "ldap://b/"])
        reader = read_all(7, [data])
        assert reader.done == SearchDone(
            10, "dc=example,dc=com", "go elsewhere", ("ldap://a/", "ldap://b/")
        )
        assert reader.done.describe() == "referral (go elsewhere)"
        assert read_all(7, [done_message(7, 4)]).done.describe() == "sizeLimitExceeded"  # type: ignore[union-attr]

    def test_trailing_bytes_are_kept(self) -> None:
        data = done_message(3) + entry_message(3, "cn=x", [])
        reader = read_all(3, [data])
        assert reader.trailing == entry_message(3, "cn=x", [])

    def test_controls_after_the_operation_are_skipped(self) -> None:
        # LDAPMessage ::= SEQUENCE { messageID, protocolOp, controls [0] OPTIONAL }
        body = bytes.fromhex("020105") + bytes.fromhex("650a0a010004000403796573")
        # Controls [0] holding one Control: SEQUENCE { controlType "1" }.
        controls = b"\xa0\x05\x30\x03\x04\x011"
        data = b"\x30" + bytes((len(body) + len(controls),)) + body + controls
        assert read_all(5, [data]).done == SearchDone(0, "", "yes")

    def test_wrong_message_id(self) -> None:
        reader = SearchResponseReader(8)
        with pytest.raises(DirectoryUnavailable, match="message ID 9 to search 8"):
            reader.feed(entry_message(9, "cn=x", []))

    def test_notice_of_disconnection(self) -> None:
        reader = SearchResponseReader(8)
        with pytest.raises(ConnectionClosed, match="closing the connection: unavailable"):
            reader.feed(notice_of_disconnection(52, "bye"))

    def test_other_operation(self) -> None:
        # A BindResponse ([APPLICATION 1]) where search answers belong.
        reader = SearchResponseReader(2)
        with pytest.raises(DirectoryUnavailable, match="operation tag 0x61"):
            reader.feed(bytes.fromhex("300c02010261070a010004000400"))

    @pytest.mark.parametrize(
        ("data", "complaint"),
        [
            (bytes.fromhex("3080020101"), "indefinite length"),
            (bytes.fromhex("3085"), "length of 5 octets"),
            (bytes.fromhex("040100"), "not a SEQUENCE"),
            (bytes.fromhex("3003020101"), "without a protocolOp"),
            (bytes.fromhex("30050201016500"), "resultCode"),
            (bytes.fromhex("3006020001650100"), "integer of 0 octets"),
            (bytes.fromhex("30070201016580" + "0000"), "indefinite length"),
            (bytes.fromhex("300702010164020400"), "attributes"),
            (bytes.fromhex("30080201016403040500"), "run past"),
            (bytes.fromhex("3084ffffffff"), "limit"),
            (bytes.fromhex("3012020101640d04003009300704016131000400"), "extra octets"),
            (bytes.fromhex("300c020101640704003003300100"), "attribute type"),
        ],
    )
    def test_malformed_is_unavailable_with_a_reason(self, data: bytes, complaint: str) -> None:
        reader = SearchResponseReader(1)
        with pytest.raises(DirectoryUnavailable, match=complaint):
            reader.feed(data)

    @settings(max_examples=80, deadline=None)
    @given(message_ids, entries, st.data())
    @pytest.mark.slow
    def test_truncated_never_completes_nor_crashes(
        self,
        message_id: int,
        found: list[tuple[str, list[tuple[str, list[bytes]]]]],
        data: st.DataObject,
    ) -> None:
        whole = answer(message_id, found) + done_message(message_id)
        cut = data.draw(st.integers(0, len(whole) - 1))
        reader = SearchResponseReader(message_id)
        assert reader.feed(whole[:cut]) is False
        assert reader.done is None

    @settings(max_examples=150, deadline=None)
    @given(message_ids, entries, st.data())
    @pytest.mark.slow
    def test_garbled_is_unavailable_or_clean(
        self,
        message_id: int,
        found: list[tuple[str, list[tuple[str, list[bytes]]]]],
        data: st.DataObject,
    ) -> None:
        whole = bytearray(answer(message_id, found) + done_message(message_id))
        for _ in range(data.draw(st.integers(1, 4))):
            position = data.draw(st.integers(0, len(whole) - 1))
            whole[position] = data.draw(st.integers(0, 255))
        reader = SearchResponseReader(message_id)
        try:
            complete = reader.feed(bytes(whole))
        except DirectoryUnavailable:
            return
        # Still readable: then it is well-formed LDAP (a changed value or
        # name), complete or waiting for more — never half a result.
        assert complete == (reader.done is not None)

    @settings(max_examples=100, deadline=None)
    @given(st.binary(max_size=64), message_ids)
    def test_noise_is_unavailable_or_incomplete(self, noise: bytes, message_id: int) -> None:
        reader = SearchResponseReader(message_id)
        try:
            reader.feed(noise)
        except DirectoryUnavailable:
            pass


class _OneByteReads:
    """A real socket whose reads return one byte at most."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def settimeout(self, value: float | None) -> None:
        self._sock.settimeout(value)

    def sendall(self, data: bytes) -> None:
        self._sock.sendall(data)

    def recv(self, size: int) -> bytes:
        return self._sock.recv(1)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    ours, theirs = socket.socketpair()
    try:
        yield ours, theirs
    finally:
        ours.close()
        theirs.close()


def _serve(sock: socket.socket, reply: bytes, *, per_byte_delay: float = 0.0) -> threading.Thread:
    """Read one request, then send ``reply`` (byte by byte when delayed)."""

    def run() -> None:
        request = sock.recv(65536)
        assert request[:1] == b"\x30"
        try:
            if per_byte_delay:
                for index in range(len(reply)):
                    sock.sendall(reply[index : index + 1])
                    time.sleep(per_byte_delay)
            else:
                for index in range(len(reply)):
                    sock.sendall(reply[index : index + 1])
        except OSError:
            pass  # the client gave up

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


class TestExchange:
    REQUEST = SearchRequest("dc=x", ["mail"], size_limit=0, time_limit=0).encode(
        4, FilterTemplate.parse("(mail={address})").ber_for_addresses(["a@x"])
    )

    def test_answer_one_byte_per_recv_through_a_socket_pair(
        self, pair: tuple[socket.socket, socket.socket]
    ) -> None:
        found = [
            ("uid=a,dc=x", [("mail", [b"a@x"]), ("userCertificate;binary", [b"\x30" * 700])]),
            ("uid=b,dc=x", [("mail", [b"b@x", b"c@x"])]),
        ]
        reply = answer(4, found) + done_message(4)
        ours, theirs = pair
        thread = _serve(theirs, reply)
        reader = exchange(_OneByteReads(ours), self.REQUEST, SearchResponseReader(4), 10)  # type: ignore[arg-type]
        thread.join()
        assert reader.entries == expected(found)
        assert reader.done == SearchDone(0, "", "")

    def test_timeout_bounds_the_whole_search(
        self, pair: tuple[socket.socket, socket.socket]
    ) -> None:
        # A server that trickles its answer (each byte well within any
        # per-read timeout) is still cut off when the search's time is up.
        reply = answer(4, [("uid=a,dc=x", [("mail", [b"a@x" * 50])])]) + done_message(4)
        ours, theirs = pair
        _serve(theirs, reply, per_byte_delay=0.02)
        started = time.monotonic()
        with pytest.raises(DirectoryUnavailable, match=r"no complete answer within 0\.5 s"):
            exchange(ours, self.REQUEST, SearchResponseReader(4), 0.5)
        assert 0.45 < time.monotonic() - started < 1.5

    def test_end_of_stream_is_connection_closed(
        self, pair: tuple[socket.socket, socket.socket]
    ) -> None:
        ours, theirs = pair
        theirs.close()
        with pytest.raises(ConnectionClosed):
            exchange(ours, self.REQUEST, SearchResponseReader(4), 2)

    def test_half_an_answer_then_close(self, pair: tuple[socket.socket, socket.socket]) -> None:
        ours, theirs = pair
        reply = answer(4, [("uid=a,dc=x", [("mail", [b"a@x"])])]) + done_message(4)

        def run() -> None:
            theirs.recv(65536)
            theirs.sendall(reply[: len(reply) - 3])
            theirs.close()

        threading.Thread(target=run, daemon=True).start()
        with pytest.raises(ConnectionClosed, match="closed the connection"):
            exchange(ours, self.REQUEST, SearchResponseReader(4), 2)
