"""smtplib client -> ContentFilter -> aiosmtpd sink: what arrives, and what is logged."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailcore.serve import ContentFilter
from mailcore.smime import decrypt_message, verify_message
from tests.pipeline.conftest import CONTRACTOR, World
from tests.serve.conftest import (
    JO,
    PLANNING,
    SAM,
    FilterThread,
    Sink,
    demo_pipeline,
    make_message,
    send,
    serve_policy,
)
from tests.smime.conftest import run_openssl

BODY = "The revised figures are in the shared folder.\r\n"


class TestOutbound:
    def test_signed_and_encrypted_for_every_recipient(
        self, world: World, running: FilterThread, sink: Sink
    ) -> None:
        answer = send(running.port, JO, [PLANNING, SAM], make_message(1, to=[PLANNING, SAM]))
        assert answer.code == 250 and answer.text.startswith("2.0.0 ")
        # The next hop's own answer is passed on (Postfix logs it).
        assert "next hop said: 250 2.0.0 Ok: stored" in answer.text
        [received] = sink.messages
        assert received.sender == JO and received.recipients == (PLANNING, SAM)
        assert b"application/pkcs7-mime" in received.data
        assert BODY.encode() not in received.data  # encrypted on the wire
        for address in (PLANNING, SAM, JO):
            identity = world.identities[address]
            opened = decrypt_message(received.data, identity.key, identity.certificate)
            verdict = verify_message(
                opened.content, trust=[world.identities[JO].chain[0]], check_sender=False
            )
            assert verdict.valid
            assert BODY.encode() in opened.content

    def test_openssl_decrypts_what_arrives(
        self, world: World, running: FilterThread, sink: Sink, openssl: str, tmp_path: Path
    ) -> None:
        assert send(running.port, JO, [PLANNING], make_message(2)).code == 250
        planning = world.identities[PLANNING]
        (tmp_path / "m.eml").write_bytes(sink.messages[0].data)
        (tmp_path / "key.pem").write_bytes(planning.key_pem())
        (tmp_path / "cert.pem").write_bytes(planning.certificate_pem())
        decrypted = run_openssl(
            openssl, "cms", "-decrypt", "-in", tmp_path / "m.eml",
            "-inkey", tmp_path / "key.pem", "-recip", tmp_path / "cert.pem",
        )  # fmt: skip
        assert b"multipart/signed" in decrypted or b"pkcs7-signature" in decrypted
        assert BODY.encode() in decrypted

    def test_marking_is_applied(self, running: FilterThread, sink: Sink) -> None:
        assert send(running.port, JO, [PLANNING], make_message(3)).code == 250
        header = sink.messages[0].data.split(b"\r\n\r\n", 1)[0]
        assert b"X-Protective-Marking: VER=2024.1, NS=gov.au, SEC=UNOFFICIAL" in header

    def test_recipient_without_certificate_goes_unencrypted(
        self, running: FilterThread, sink: Sink
    ) -> None:
        # The policy's send_unencrypted: signed, not encrypted (all-or-nothing rule).
        answer = send(running.port, JO, [PLANNING, CONTRACTOR], make_message(4))
        assert answer.code == 250
        data = sink.messages[0].data
        assert b"application/pkcs7-mime" not in data and b"multipart/signed" in data

    def test_dots_and_8bit_survive_the_relay(self, world: World, sink: Sink) -> None:
        # RFC 5321 §4.5.2 dot-stuffing both ways, and 8-bit bytes (RFC 6152).
        policy = serve_policy(sink, direction="inbound")
        thread = FilterThread(
            ContentFilter(policy, pipeline=demo_pipeline(world, policy), log=None)
        )
        thread.start()
        try:
            body = ".leading dot\r\n..two dots\r\n.\r\nCaf\xc3\xa9\r\n"
            data = make_message(5, body="").replace(b"us-ascii", b"utf-8") + body.encode("latin-1")
            assert send(thread.port, "someone@partner.example", [PLANNING], data).code == 250
        finally:
            thread.stop()
        assert sink.messages[0].data == data


class TestInbound:
    def test_encrypted_mail_arrives_opened(self, world: World, sink: Sink) -> None:
        policy = serve_policy(sink)
        pipeline = demo_pipeline(world, policy)
        protected = pipeline.outbound(make_message(6), sender=JO, recipients=[PLANNING]).message
        thread = FilterThread(ContentFilter(policy, pipeline=pipeline, log=None)).start()
        try:
            # The envelope sender is outside agency.gov.au: inbound.
            answer = send(thread.port, "relay@partner.example", [PLANNING], protected)
        finally:
            thread.stop()
        assert answer.code == 250
        received = sink.messages[0].data
        assert b"application/pkcs7-mime" not in received
        assert BODY.encode() in received

    def test_bounce_with_null_sender_passes(self, running: FilterThread, sink: Sink) -> None:
        # MAIL FROM:<> (a DSN, RFC 5321 §4.5.5) is inbound: passed on, not refused.
        answer = send(running.port, "", [JO], make_message(7, to=[JO]))
        assert answer.code == 250
        assert sink.messages[0].sender == "<>"
        assert BODY.encode() in sink.messages[0].data


@pytest.fixture
def logged(world: World, sink: Sink) -> Iterator[tuple[FilterThread, io.StringIO]]:
    stream = io.StringIO()
    policy = serve_policy(sink)
    thread = FilterThread(ContentFilter(policy, pipeline=demo_pipeline(world, policy), log=stream))
    thread.start()
    try:
        yield thread, stream
    finally:
        thread.stop()


class TestLog:
    def test_one_json_line_per_message_without_content(
        self, world: World, logged: tuple[FilterThread, io.StringIO], sink: Sink
    ) -> None:
        thread, stream = logged
        secret_body = "The launch code is 0000 and the PIN is 1234.\r\n"
        assert send(thread.port, JO, [PLANNING], make_message(8, body=secret_body)).code == 250
        refused = make_message(9, to=[CONTRACTOR])
        sink.refuse[CONTRACTOR] = "550 5.1.1 No such user"
        assert send(thread.port, JO, [CONTRACTOR], refused).code == 550
        lines = [json.loads(line) for line in stream.getvalue().splitlines()]
        messages = [line for line in lines if line["event"] == "message"]
        assert lines[0]["event"] == "listening"
        assert len(messages) == 2
        first, second = messages
        assert first["message_id"] == "<m8@agency.gov.au>"
        assert first["direction"] == "outbound" and first["decision"] == "accepted"
        assert first["reply"] == "250 2.0.0"
        assert first["pipeline"] == {
            "signed": True, "encrypted": True, "encryption": "encrypt", "warnings": 0,
        }  # fmt: skip
        assert first["relay"]["outcome"] == "delivered" and first["relay"]["code"] == 250
        assert set(first["timings"]) == {"queue", "process", "relay", "total"}
        assert first["sender"] == JO and first["recipients"] == [PLANNING]
        assert second["decision"] == "rejected" and second["reply"] == "550 5.1.1"
        assert second["relay"]["outcome"] == "refused" and second["relay"]["stage"] == "rcpt"
        text = stream.getvalue()
        for content in ("launch code", "Budget planning", "Jo Citizen", "BEGIN", "MII"):
            assert content not in text
        key = world.identities[JO].key_pem().decode()
        assert key.splitlines()[1][:40] not in text
