"""Faults: the next hop or the directory down or slow, and a slow pipeline.

The rule under test: a 250 only after the next hop took the processed
message; otherwise 4yz, and a client that retries as an MTA does gets every
message delivered exactly once.  The one exception SMTP cannot close
(RFC 1047) is a connection lost after the final dot, before the next hop's
reply: the filter answers 451 (maybe delivered) and logs the relay outcome
``unknown``; a duplicate can only come from those.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from mailcore.pipeline import Pipeline, ProcessResult
from mailcore.policy import Policy, policy_from_mapping
from mailcore.serve import ContentFilter
from tests.pipeline.conftest import World
from tests.serve.conftest import (
    JO,
    PLANNING,
    SAM,
    SIGN_ENCRYPT,
    FilterThread,
    Sink,
    demo_pipeline,
    make_message,
    send,
    send_until_accepted,
    serve_policy,
)
from tests.slapd import Database, Slapd


def start_filter(world: World, policy: Policy, log: io.StringIO | None = None,
                 pipeline: Pipeline | None = None) -> FilterThread:  # fmt: skip
    pipeline = pipeline or demo_pipeline(world, policy)
    return FilterThread(ContentFilter(policy, pipeline=pipeline, log=log)).start()


def log_records(stream: io.StringIO) -> list[dict[str, Any]]:
    return [
        record
        for record in map(json.loads, stream.getvalue().splitlines())
        if record["event"] == "message"
    ]


class TestNextHop:
    def test_down_gives_451_then_delivery_when_back(self, world: World, sink: Sink) -> None:
        thread = start_filter(world, serve_policy(sink))
        try:
            sink.stop()
            answer = send(thread.port, JO, [PLANNING], make_message(1))
            assert answer.code == 451 and answer.text.startswith("4.4.1 ")
            assert "next hop refused the connection" in answer.text
            sink.start()
            answer = send(thread.port, JO, [PLANNING], make_message(1))
            assert answer.code == 250
        finally:
            thread.stop()
        assert sink.message_ids() == ["<m1@agency.gov.au>"]

    def test_restarted_mid_run_every_message_once(self, world: World, sink: Sink) -> None:
        log = io.StringIO()
        thread = start_filter(world, serve_policy(sink, relay_timeout=2), log)
        count, clients = 120, 8
        answers: dict[int, int] = {}
        attempts: Counter[int] = Counter()

        def client(first: int) -> None:
            for number in range(first, count, clients):
                answer, tries = send_until_accepted(
                    thread.port, JO, [PLANNING], make_message(number),
                    deadline=time.monotonic() + 60,
                )  # fmt: skip
                answers[number] = answer.code
                attempts[number] = tries

        workers = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        try:
            for worker in workers:
                worker.start()
            while len(sink.messages) < count // 4:
                time.sleep(0.01)
            sink.stop()  # mid-run: relays fail, clients get 451 and retry
            time.sleep(0.5)
            sink.start()
            for worker in workers:
                worker.join(timeout=120)
        finally:
            thread.stop()
        assert answers == dict.fromkeys(range(count), 250)
        assert sum(attempts.values()) > count, "the outage did not hit any message"
        seen = Counter(sink.message_ids())
        assert set(seen) == {f"<m{n}@agency.gov.au>" for n in range(count)}
        unknown = sum(r["relay"]["outcome"] == "unknown" for r in log_records(log) if r["relay"])
        duplicates = sum(n - 1 for n in seen.values())
        # Exactly once, but for the RFC 1047 window (logged as "unknown").
        assert duplicates <= unknown
        if unknown == 0:
            assert all(n == 1 for n in seen.values())

    def test_recipient_deferred_nothing_sent_to_anyone(self, world: World, sink: Sink) -> None:
        thread = start_filter(world, serve_policy(sink))
        try:
            sink.refuse[SAM] = "450 4.2.1 Mailbox busy"
            answer = send(thread.port, JO, [PLANNING, SAM], make_message(2, to=[PLANNING, SAM]))
            assert answer.code == 451 and answer.text.startswith("4.2.1 ")
            assert SAM in answer.text
            assert sink.messages == []  # all-or-nothing: Planning did not get it either
            del sink.refuse[SAM]
            answer = send(thread.port, JO, [PLANNING, SAM], make_message(2, to=[PLANNING, SAM]))
            assert answer.code == 250
        finally:
            thread.stop()
        assert [m.recipients for m in sink.messages] == [(PLANNING, SAM)]

    @pytest.mark.parametrize(
        ("answer", "code", "status"),
        [("452 4.3.1 Insufficient storage", 451, "4.3.1"),
         ("554 5.7.1 Spam", 554, "5.7.1"),
         ("552 5.3.4 Message too big", 552, "5.3.4")],
        ids=["4xx", "5xx", "552"],
    )  # fmt: skip
    def test_next_hop_reply_to_data(
        self, world: World, sink: Sink, answer: str, code: int, status: str
    ) -> None:
        sink.answer = answer
        thread = start_filter(world, serve_policy(sink))
        try:
            reply = send(thread.port, JO, [PLANNING], make_message(3))
        finally:
            thread.stop()
        assert (reply.code, reply.text.split()[0]) == (code, status)
        assert answer in reply.text  # the next hop's reason reaches the sender

    def test_slow_next_hop_gives_451_unknown(self, world: World, sink: Sink) -> None:
        log = io.StringIO()
        sink.delay = 2.5
        thread = start_filter(world, serve_policy(sink, relay_timeout=1), log)
        try:
            reply = send(thread.port, JO, [PLANNING], make_message(4))
        finally:
            thread.stop()
        assert reply.code == 451 and reply.text.startswith("4.4.2 ")
        assert "lost after the message was sent" in reply.text
        [record] = log_records(log)
        assert record["relay"]["outcome"] == "unknown" and record["relay"]["stage"] == "dot"
        assert record["decision"] == "deferred"


class _SlowPipeline(Pipeline):
    def outbound(self, *args: Any, **kwargs: Any) -> ProcessResult:
        time.sleep(1.5)
        return super().outbound(*args, **kwargs)


def test_slow_pipeline_gives_451_and_never_relays_late(world: World, sink: Sink) -> None:
    policy = serve_policy(sink, process_timeout=0.5)
    slow = _SlowPipeline(
        policy, directory=world.file_directory(), keys=world.keys(),
        trust=[world.identities[JO].chain[0]],
    )  # fmt: skip
    thread = start_filter(world, policy, pipeline=slow)
    try:
        reply = send(thread.port, JO, [PLANNING], make_message(5))
        assert reply.code == 451 and reply.text.startswith("4.3.0 ")
        time.sleep(1.5)  # the pipeline finishes meanwhile; its result must be dropped
    finally:
        thread.stop()
    assert sink.messages == []


@pytest.fixture
def slapd(world: World) -> Iterator[Slapd]:
    instance = Slapd([Database("dc=agency,dc=gov,dc=au", "cn=admin,dc=agency,dc=gov,dc=au")])
    instance.start()
    try:
        instance.add(
            "dn: dc=agency,dc=gov,dc=au\nobjectClass: dcObject\nobjectClass: organization\n"
            "o: Agency\ndc: agency\n\ndn: ou=people,dc=agency,dc=gov,dc=au\n"
            "objectClass: organizationalUnit\nou: people\n\n"
            + (world.folder / "directory.ldif").read_text()
        )
        yield instance
    finally:
        instance.remove()


def test_directory_down_gives_451_then_delivery(world: World, sink: Sink, slapd: Slapd) -> None:
    policy = policy_from_mapping(
        {
            **SIGN_ENCRYPT,
            "smime": {"sign": True, "encrypt": True, "on_directory_error": "reject"},
            "directory": {
                "source": "ldap",
                "server": slapd.url,
                "base_dn": "dc=agency,dc=gov,dc=au",
                # No cached answers: every message asks the server.
                "cache_ttl": 0,
                "negative_cache_ttl": 0,
                "connect_timeout": 1,
                "search_timeout": 2,
                "trust_anchors": "trust/root-ca.pem",
                "intermediates": "trust/issuing-ca.pem",
            },
            "serve": {
                "listen": "127.0.0.1:0",
                "relay": sink.address,
                "internal_domains": ["agency.gov.au"],
            },
        }
    )
    pipeline = Pipeline(
        policy, keys=world.keys(), trust=[world.identities[JO].chain[0]], base=world.folder
    )
    thread = start_filter(world, policy, pipeline=pipeline)
    try:
        assert send(thread.port, JO, [PLANNING], make_message(6)).code == 250
        slapd.stop()
        reply = send(thread.port, JO, [PLANNING], make_message(7))
        # RFC 3463 X.4.3: directory server failure; the MTA keeps the message.
        assert reply.code == 451 and reply.text.startswith("4.4.3 ")
        assert len(sink.messages) == 1
        slapd.process = None
        slapd.start()
        answer, _ = send_until_accepted(
            thread.port, JO, [PLANNING], make_message(7), deadline=time.monotonic() + 30
        )
        assert answer.code == 250
    finally:
        thread.stop()
        pipeline.close()
    assert sink.message_ids() == ["<m6@agency.gov.au>", "<m7@agency.gov.au>"]
    assert all(b"application/pkcs7-mime" in m.data for m in sink.messages)
