"""Limits and bad SMTP input: the right reply code, and the filter keeps serving."""

from __future__ import annotations

import datetime
import ipaddress
import smtplib
import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailcore.serve import ContentFilter
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


class Wire:
    """A raw SMTP client: one line out, one (possibly multi-line) reply in."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.file = self.sock.makefile("rb")
        self.greeting = self.reply()

    def reply(self) -> tuple[int, str]:
        lines = []
        while True:
            line = self.file.readline()
            if not line:
                return 0, "connection closed"
            lines.append(line.decode("ascii", "replace").rstrip("\r\n"))
            if line[3:4] != b"-":
                return int(line[:3]), "\n".join(lines)

    def command(self, line: bytes) -> tuple[int, str]:
        self.sock.sendall(line + b"\r\n")
        return self.reply()

    def close(self) -> None:
        self.file.close()
        self.sock.close()


@pytest.fixture
def limited(world: World, sink: Sink) -> Iterator[FilterThread]:
    policy = serve_policy(
        sink, max_message_size=4096, max_recipients=3, max_sessions=3, direction="inbound"
    )
    thread = FilterThread(ContentFilter(policy, pipeline=demo_pipeline(world, policy), log=None))
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


def ready(port: int) -> Wire:
    wire = Wire(port)
    assert wire.greeting[0] == 220
    assert wire.command(b"EHLO client.test")[0] == 250
    return wire


class TestSize:
    def test_announced_size_over_the_limit(self, limited: FilterThread) -> None:
        wire = ready(limited.port)
        # RFC 1870 §6.2: the server refuses a declared SIZE over its limit with 552.
        assert wire.command(b"MAIL FROM:<a@partner.example> SIZE=5000")[0] == 552
        assert wire.command(b"MAIL FROM:<a@partner.example> SIZE=1000")[0] == 250
        wire.close()

    def test_ehlo_advertises_the_limit(self, limited: FilterThread) -> None:
        wire = Wire(limited.port)
        code, text = wire.command(b"EHLO client.test")
        assert code == 250 and "SIZE 4096" in text and "8BITMIME" in text
        wire.close()

    def test_oversize_data_gets_552_and_nothing_is_relayed(
        self, limited: FilterThread, sink: Sink
    ) -> None:
        big = make_message(1, body=("x" * 70 + "\r\n") * 80)
        assert len(big) > 4096
        with smtplib.SMTP("127.0.0.1", limited.port) as smtp:
            smtp.ehlo()
            smtp.mail("a@partner.example")  # no SIZE: found out while reading DATA
            smtp.rcpt(PLANNING)
            code, _ = smtp.data(big)
            assert code == 552
            # The session goes on: the next message is taken.
            smtp.mail("a@partner.example")
            smtp.rcpt(PLANNING)
            assert smtp.data(make_message(2))[0] == 250
        assert len(sink.messages) == 1

    @pytest.mark.parametrize("extra", [0, 1])
    @pytest.mark.parametrize("cut", [b"", b".", b".\r"])
    def test_the_limit_does_not_depend_on_where_the_end_arrives(
        self, limited: FilterThread, sink: Sink, extra: int, cut: bytes
    ) -> None:
        # A message of exactly max_message_size is taken, one octet more is
        # not (RFC 1870 §6.1: the content, its final CRLF included), however
        # TCP splits the end-of-data line from it.
        head = make_message(3, body="")
        size = 4096 + extra
        lines, rest = divmod(size - len(head) - 2, 72)
        content = head + (b"x" * 70 + b"\r\n") * lines + b"y" * rest + b"\r\n"
        assert len(content) == size
        wire = ready(limited.port)
        try:
            assert wire.command(b"MAIL FROM:<a@partner.example>")[0] == 250
            assert wire.command(f"RCPT TO:<{PLANNING}>".encode())[0] == 250
            assert wire.command(b"DATA")[0] == 354
            wire.sock.sendall(content + cut)
            time.sleep(0.3)  # the filter reads what has arrived so far
            wire.sock.sendall(b".\r\n"[len(cut) :])
            assert wire.reply()[0] == (250 if extra == 0 else 552)
        finally:
            wire.close()


class TestRecipients:
    def test_fourth_recipient_gets_452(self, limited: FilterThread, sink: Sink) -> None:
        wire = ready(limited.port)
        assert wire.command(b"MAIL FROM:<a@partner.example>")[0] == 250
        codes = [wire.command(f"RCPT TO:<r{n}@agency.gov.au>".encode())[0] for n in range(4)]
        # RFC 5321 §4.5.3.1.10: 452, the client sends the rest in another transaction.
        assert codes == [250, 250, 250, 452]
        assert wire.command(b"DATA")[0] == 354
        wire.sock.sendall(make_message(3) + b".\r\n")
        assert wire.reply()[0] == 250
        wire.close()
        assert sink.messages[0].recipients == tuple(f"r{n}@agency.gov.au" for n in range(3))


class TestSessions:
    def test_session_over_the_limit_gets_421(self, limited: FilterThread) -> None:
        wires = [Wire(limited.port) for _ in range(3)]
        assert [w.greeting[0] for w in wires] == [220, 220, 220]
        extra = Wire(limited.port)
        assert extra.greeting[0] == 421 and "Too many connections" in extra.greeting[1]
        extra.close()
        wires[0].command(b"QUIT")
        wires[0].close()
        for _ in range(100):  # the slot frees when the server sees the close
            again = Wire(limited.port)
            if again.greeting[0] == 220:
                break
            again.close()
        assert again.greeting[0] == 220
        again.close()
        for wire in wires[1:]:
            wire.close()


class TestBadInput:
    @pytest.mark.parametrize(
        ("line", "codes"),
        {
            "unknown command": (b"FOO bar", {500}),
            "empty line": (b"", {500}),
            "non-ascii command": (b"M\xc3\x84IL FROM:<a@b>", {500}),
            "mail without from": (b"MAIL", {501}),
            "mail garbage address": (b"MAIL FROM:<<>>@", {501, 553}),
            "rcpt before mail": (b"RCPT TO:<a@agency.gov.au>", {503}),
            "data before rcpt": (b"DATA", {503}),
            "bad body parameter": (b"MAIL FROM:<a@b.example> BODY=9BIT", {501}),
            "helo without name": (b"HELO", {501}),
            "command line too long": (b"NOOP " + b"x" * 600, {500}),
            "binary junk": (b"\x00\x01\x02\xff\xfe", {500}),
        }.values(),
        ids=[
            "unknown command", "empty line", "non-ascii command", "mail without from",
            "mail garbage address", "rcpt before mail", "data before rcpt",
            "bad body parameter", "helo without name", "command line too long", "binary junk",
        ],
    )  # fmt: skip
    def test_reply_code(self, limited: FilterThread, line: bytes, codes: set[int]) -> None:
        wire = ready(limited.port)
        assert wire.command(line)[0] in codes
        assert wire.command(b"NOOP")[0] == 250  # still serving this session
        wire.close()

    def test_over_long_data_line_gets_500(self, limited: FilterThread, sink: Sink) -> None:
        wire = ready(limited.port)
        wire.command(b"MAIL FROM:<a@partner.example>")
        wire.command(f"RCPT TO:<{PLANNING}>".encode())
        assert wire.command(b"DATA")[0] == 354
        # RFC 5321 §4.5.3.1.6: 1000 octets per line with CRLF.
        wire.sock.sendall(b"Subject: x\r\n\r\n" + b"z" * 1200 + b"\r\n.\r\n")
        assert wire.reply()[0] == 500
        assert wire.command(b"NOOP")[0] == 250
        wire.close()
        assert sink.messages == []

    @settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(lines=st.lists(st.binary(max_size=80).filter(lambda b: b"\n" not in b), max_size=6))
    def test_random_lines_never_crash_the_filter(
        self, limited: FilterThread, sink: Sink, lines: list[bytes]
    ) -> None:
        wire = ready(limited.port)
        for line in lines:
            code, _ = wire.command(line.replace(b"\r", b""))
            if code == 0:
                break
            # A reply, never a dropped connection or an internal error.
            assert 200 <= code < 600 and code != 451, (line, code)
        wire.close()
        before = len(sink.messages)
        assert send(limited.port, "a@partner.example", [PLANNING], make_message(4)).code == 250
        assert len(sink.messages) == before + 1


def _server_certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "filter.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class TestStartTls:
    def test_starttls_then_mail(self, world: World, sink: Sink, tmp_path: Path) -> None:
        cert, key = _server_certificate(tmp_path)
        policy = serve_policy(sink, tls_certificate=str(cert), tls_key=str(key), require_tls=True)
        thread = FilterThread(
            ContentFilter(policy, pipeline=demo_pipeline(world, policy), log=None)
        ).start()
        try:
            wire = ready(thread.port)
            # RFC 3207 §4: a server that requires TLS answers 530 before STARTTLS.
            assert wire.command(b"MAIL FROM:<a@partner.example>")[0] == 530
            wire.close()
            context = ssl.create_default_context(cafile=str(cert))
            with smtplib.SMTP("127.0.0.1", thread.port) as smtp:
                smtp.ehlo()
                assert smtp.has_extn("starttls")
                smtp.starttls(context=context)
                smtp.ehlo()
                assert not smtp.has_extn("starttls")
                smtp.sendmail(JO, [PLANNING], make_message(5))
                assert isinstance(smtp.sock, ssl.SSLSocket)
        finally:
            thread.stop()
        assert len(sink.messages) == 1
        assert b"application/pkcs7-mime" in sink.messages[0].data
