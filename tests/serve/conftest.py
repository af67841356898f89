"""Real SMTP peers on 127.0.0.1: a sink (aiosmtpd), the filter in a thread, clients."""

from __future__ import annotations

import asyncio
import dataclasses
import smtplib
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope, Session

from mailcore.demo._pipeline_demo import PASSWORD
from mailcore.pipeline import Pipeline
from mailcore.policy import Policy, load_policy, policy_from_mapping
from mailcore.serve import ContentFilter
from tests.pipeline.conftest import JO as JO
from tests.pipeline.conftest import PLANNING as PLANNING
from tests.pipeline.conftest import SAM as SAM
from tests.pipeline.conftest import World
from tests.pipeline.conftest import world as world  # the demo PKI, keys and directory
from tests.slapd import free_port
from tests.smime.conftest import openssl as openssl


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: tuple[str, ...]
    data: bytes


class _Collect:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_EHLO(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Session, envelope: Envelope, hostname: str,
        responses: list[str],
    ) -> list[str]:  # fmt: skip
        session.host_name = hostname
        with self.sink.lock:
            self.sink.ehlos += 1
        if not self.sink.pipelining:
            return responses
        # RFC 2920, as Postfix offers it: aiosmtpd reads pipelined commands in order.
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self, server: Any, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.sink.seen_rcpt.set()
        if self.sink.rcpt_delay:
            await asyncio.sleep(self.sink.rcpt_delay)
        refusal = self.sink.refuse.get(address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:  # noqa: N802
        sink = self.sink
        sink.seen_data.set()
        if sink.delay:
            await asyncio.sleep(sink.delay)
        if sink.answer is not None:
            return sink.answer
        with sink.lock:
            sink.messages.append(
                Received(envelope.mail_from or "", tuple(envelope.rcpt_tos),
                         envelope.original_content or b"")
            )  # fmt: skip
        return "250 2.0.0 Ok: stored"


@dataclass
class Sink:
    """The next hop: an aiosmtpd server that keeps every message it accepts.

    It offers PIPELINING (as Postfix does) unless ``pipelining`` is false;
    ``delay`` holds the reply to the final dot, ``rcpt_delay`` each RCPT's.
    """

    port: int = field(default_factory=free_port)
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    delay: float = 0.0
    rcpt_delay: float = 0.0
    pipelining: bool = True
    ehlos: int = 0
    """Sessions opened (EHLO) so far."""
    seen_rcpt: threading.Event = field(default_factory=threading.Event)
    seen_data: threading.Event = field(default_factory=threading.Event)
    """Set when a RCPT, or a whole message (the final dot), has arrived."""
    answer: str | None = None
    refuse: dict[str, str] = field(default_factory=dict)
    controller: Controller | None = None

    def start(self) -> Sink:
        self.controller = Controller(
            _Collect(self), hostname="127.0.0.1", port=self.port, ready_timeout=10
        )
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def message_ids(self) -> list[str]:
        with self.lock:
            return [message_id(m.data) for m in self.messages]


def message_id(data: bytes) -> str:
    for line in data.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"message-id:"):
            return line.split(b":", 1)[1].strip().decode()
    raise AssertionError("no Message-ID")


class FilterThread:
    """A ContentFilter on its own event loop in a thread (like aiosmtpd's Controller)."""

    def __init__(self, content_filter: ContentFilter) -> None:
        self.filter = content_filter
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0

    def start(self) -> FilterThread:
        self.thread.start()
        future = asyncio.run_coroutine_threadsafe(self.filter.start(), self.loop)
        self.port = future.result(timeout=30)[1]
        return self

    def stop(self, timeout: float = 30) -> bool:
        future = asyncio.run_coroutine_threadsafe(self.filter.shutdown(timeout), self.loop)
        finished = future.result(timeout=timeout + 10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
        return bool(finished)


def demo_pipeline(world: World, policy: Policy) -> Pipeline:
    return Pipeline(
        policy,
        directory=world.file_directory(),
        keys=world.keys(),
        trust=[world.identities[JO].chain[0]],
    )


SIGN_ENCRYPT = {
    "classification": {"enabled": True},
    "smime": {"sign": True, "encrypt": True},
}


def serve_policy(sink: Sink, **serve: Any) -> Policy:
    settings: dict[str, Any] = {
        "listen": "127.0.0.1:0",
        "relay": sink.address,
        "internal_domains": ["agency.gov.au"],
        "hostname": "filter.test",
        "relay_timeout": 5,
    }
    settings.update(serve)
    return policy_from_mapping({**SIGN_ENCRYPT, "serve": settings})


@pytest.fixture
def sink() -> Iterator[Sink]:
    instance = Sink().start()
    try:
        yield instance
    finally:
        instance.stop()


def pooled_policy(world: World, sink: Sink, **serve: Any) -> Policy:
    """The demo policy file (key store, trust anchors, file directory) with a ``[serve]``
    section: what ``mailcore serve`` runs on, the pipeline in worker processes."""
    base = load_policy(world.folder / "policy.toml")
    return dataclasses.replace(base, serve=serve_policy(sink, **serve).serve)


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a zombie counts: it was not reaped)."""
    return Path(f"/proc/{pid}").exists()


@pytest.fixture
def demo_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo key store's password, in the environment the workers inherit."""
    monkeypatch.setenv("MAILCORE_DEMO_KEY_PASSWORD", PASSWORD)


@pytest.fixture
def pooled(world: World, sink: Sink, demo_password: None) -> Iterator[FilterThread]:
    """A filter built from the policy alone: the pipeline runs in worker processes."""
    thread = FilterThread(ContentFilter(pooled_policy(world, sink), log=None))
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture
def running(world: World, sink: Sink) -> Iterator[FilterThread]:
    policy = serve_policy(sink)
    thread = FilterThread(ContentFilter(policy, pipeline=demo_pipeline(world, policy), log=None))
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


BODY = "The revised figures are in the shared folder.\r\n"


def make_message(
    number: int, *, to: Sequence[str] = (PLANNING,), sender: str = JO, body: str = BODY
) -> bytes:
    return (
        f"From: Jo Citizen <{sender}>\r\nTo: {', '.join(to)}\r\n"
        f"Subject: Budget planning {number}\r\nDate: Sat, 21 Nov 2026 09:00:00 +1100\r\n"
        f"Message-ID: <m{number}@agency.gov.au>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset=us-ascii\r\n\r\n{body}"
    ).encode()


@dataclass(frozen=True)
class Answer:
    code: int
    text: str


def send(port: int, sender: str, recipients: Sequence[str], data: bytes,
         *, timeout: float = 30) -> Answer:  # fmt: skip
    """One SMTP transaction; the reply to the final dot (or the first refusal).

    What follows the answer (QUIT, or a 421 from a filter shutting down)
    does not change it: the message's fate was decided by that reply.
    """
    smtp = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=timeout)
    try:
        smtp.ehlo()
        code, text = smtp.mail(sender)
        if code == 250:
            for recipient in recipients:
                code, text = smtp.rcpt(recipient)
                if code not in (250, 251):
                    break
            else:
                code, text = smtp.data(data)
        answer = Answer(code, text.decode())
    except BaseException:
        smtp.close()
        raise
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()
    return answer


def send_until_accepted(
    port: int,
    sender: str,
    recipients: Sequence[str],
    data: bytes,
    *,
    deadline: float,
    pause: float = 0.05,
) -> tuple[Answer, int]:
    """As an MTA does: retry on 4yz and on connection failures; stop at 2yz or 5yz."""
    attempts = 0
    while True:
        attempts += 1
        try:
            answer = send(port, sender, recipients, data)
        except (OSError, smtplib.SMTPException) as error:
            answer = Answer(0, repr(error))
        if 200 <= answer.code < 300 or answer.code >= 500:
            return answer, attempts
        if time.monotonic() > deadline:
            raise AssertionError(f"still not accepted after {attempts} attempts: {answer}")
        time.sleep(pause)
