"""``ContentFilter``: the SMTP content filter (after-queue, like Postfix ``content_filter``).

The MTA hands each message to the filter over SMTP; the filter runs the
pipeline and hands the result to the next hop over SMTP, *inside* the DATA
transaction: the client gets 250 only after the next hop answered 250 for
the processed message (RFC 5321 §6.1: a server that answered 250 is
responsible for the message; we keep no queue, so we may say 250 only when
the next hop took that responsibility).  Everything else is 4yz (the MTA
keeps the message and retries) or 5yz (the MTA bounces it with our text).

One event loop takes the SMTP sessions (aiosmtpd); the pipeline (CPU-bound:
RSA) runs on a bounded pool of threads and the relay (blocking smtplib) on
another, so that a slow message never stalls the other sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import secrets
import signal
import socket
import ssl
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from aiosmtpd.smtp import SMTP, Envelope, Session

from mailcore import __version__
from mailcore._message import RawMessage
from mailcore.errors import MailcoreError, MessageRefused, PolicyError, ServiceUnavailable
from mailcore.pipeline import Pipeline, ProcessResult
from mailcore.policy import Policy, ServePolicy
from mailcore.serve._direction import Direction, choose_direction
from mailcore.serve._log import MessageLog, MessageRecord, message_id_of
from mailcore.serve._relay import Relay, RelayResult
from mailcore.serve._replies import Reply, reply_for_error

__all__ = ["ContentFilter"]

_SHUTTING_DOWN = b"421 4.3.2 Service shutting down, try again later\r\n"
_TOO_MANY = b"421 4.3.2 Too many connections, try again later\r\n"


class _Session(SMTP):
    """aiosmtpd's SMTP protocol plus the filter's session limit and drain."""

    def __init__(self, owner: ContentFilter, handler: _Handler, **options: Any) -> None:
        # RFC 5321 §4.5.3.1.6: text lines of 1000 octets with CRLF; one more
        # for a stuffed dot (§4.5.2).  aiosmtpd reads this before sizing its reader.
        self.line_length_limit = owner.settings.max_line_length + 1
        super().__init__(handler, **options)
        self.owner = owner
        self.in_flight = False
        self._refused = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        starting = self.transport is None and self._original_transport is None
        if starting:
            if self.owner.draining or len(self.owner.sessions) >= self.owner.settings.max_sessions:
                # RFC 5321 §3.8 / §4.2.2: 421 closes the session; the client
                # retries later.  No SMTP state is set up for this connection.
                self._refused = True
                transport.write(_SHUTTING_DOWN if self.owner.draining else _TOO_MANY)  # type: ignore[attr-defined]
                transport.close()
                return
            self.owner.sessions.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return
        self.owner.sessions.discard(self)
        super().connection_lost(error)

    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802 (aiosmtpd's command name)
        try:
            await super().smtp_DATA(arg)
        finally:
            self.in_flight = False
            if self.owner.draining:
                # The reply to this message has been written; the session ends.
                self.close_now()

    def close_now(self) -> None:
        """Say 421 and close (shutdown); a message in flight is answered first."""
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(_SHUTTING_DOWN)  # type: ignore[attr-defined]
            transport.close()


class ClientGone(ServiceUnavailable):
    """The SMTP client disconnected while its message was processed."""


@dataclass(frozen=True, slots=True)
class _Job:
    """One message as the DATA command delivered it."""

    id: str
    peer: str
    sender: str
    recipients: tuple[str, ...]
    data: bytes
    received: float


class _Handler:
    """aiosmtpd hooks: recipient limit, DATA (process and relay), unexpected errors."""

    def __init__(self, owner: ContentFilter) -> None:
        self.owner = owner

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self,
        server: _Session,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= self.owner.settings.max_recipients:
            # RFC 5321 §4.5.3.1.10: 452 asks the client to send the other
            # recipients in a later transaction (none is lost).
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: _Session, session: Session, envelope: Envelope
    ) -> str:
        transport = server.transport
        if transport is None or transport.is_closing():
            # The session was closed (421 at shutdown, or the client left)
            # before this message's turn: nobody can receive a 250, so it
            # is not relayed either — the client still holds it and retries.
            return "421 4.3.2 Service shutting down"
        server.in_flight = True
        data = envelope.original_content or b""
        peer = session.peer
        sender = envelope.mail_from or ""
        job = _Job(
            id=self.owner.next_id(),
            peer=f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else str(peer),
            # aiosmtpd keeps the null reverse-path (bounces) as "<>".
            sender="" if sender == "<>" else sender,
            recipients=tuple(envelope.rcpt_tos),
            data=data,
            received=time.monotonic(),
        )
        # The work is shielded: a client that disconnects does not cut a
        # relay short; the outcome is still logged, and shutdown waits for it.
        # The session's idle timer must not drop a client whose message is
        # being processed (aiosmtpd restarts it at the next command).
        idle = getattr(server, "_timeout_handle", None)
        if idle is not None:
            idle.cancel()

        def client_connected() -> bool:
            transport = server.transport
            return transport is not None and not transport.is_closing()

        task = asyncio.ensure_future(self.owner._handle_message(job, client_connected))
        self.owner.tasks.add(task)
        task.add_done_callback(self.owner.tasks.discard)
        reply = await asyncio.shield(task)
        return str(reply)

    async def handle_exception(self, error: Exception) -> str:
        # An error outside DATA (which catches its own): aiosmtpd's default
        # reply quotes the exception; ours says nothing about internals.
        self.owner.log.event("session_error", error=type(error).__name__)
        return "451 4.3.0 Internal error, try again later"


class ContentFilter:
    """The content filter: listen on ``[serve] listen``, relay to ``[serve] relay``.

    ``pipeline`` is built from ``policy`` unless given (any
    :class:`~mailcore.pipeline.Pipeline`: it must be thread-safe, which the
    pipeline is); ``settings`` overrides the policy's ``[serve]`` section;
    ``log`` receives one JSON line per message (default stderr; ``None``:
    no log).  Use :meth:`run` (blocking, SIGTERM/SIGINT stop it gracefully)
    or ``await start()`` ... ``await shutdown()`` inside a running loop.
    """

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        pipeline: Pipeline | None = None,
        settings: ServePolicy | None = None,
        log: TextIO | None = sys.stderr,
    ) -> None:
        self.policy = policy or Policy()
        self.settings = settings or self.policy.serve
        # Fail early, before binding, on addresses that do not parse.
        self.listen_address = self.settings.listen_address
        self.relay_address = self.settings.relay_address
        self._own_pipeline = pipeline is None
        self.pipeline = pipeline if pipeline is not None else Pipeline(self.policy)
        self.log = MessageLog(log)
        self.sessions: set[_Session] = set()
        self.tasks: set[asyncio.Future[Reply]] = set()
        self.draining = False
        # Message ids: a random prefix per run, then a counter (unique in
        # the log across restarts, and cheaper than random bytes each).
        self._id_prefix = secrets.token_hex(3).upper()
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._workers: ThreadPoolExecutor | None = None
        self._relayers: ThreadPoolExecutor | None = None
        self._relay: Relay | None = None
        self._tls = self._tls_context()

    # -- set-up ---------------------------------------------------------------------

    def next_id(self) -> str:
        """A new message id for the log and the 250 reply (12 hex digits)."""
        return f"{self._id_prefix}{next(self._ids) % 0x1000000:06X}"

    def _tls_context(self) -> ssl.SSLContext | None:
        settings = self.settings
        if not settings.tls_certificate:
            return None
        base = Path(self.policy.source).resolve().parent if self.policy.source else Path.cwd()
        certificate, key = (
            path if Path(path).is_absolute() else str(base / path)
            for path in (settings.tls_certificate, settings.tls_key)
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(certificate, key)
        except (OSError, ssl.SSLError) as error:
            raise PolicyError(
                f"serve.tls_certificate / serve.tls_key cannot be loaded: "
                f"{getattr(error, 'strerror', None) or error}",
                key="serve.tls_certificate",
            ) from None
        return context

    @property
    def address(self) -> tuple[str, int]:
        """Where the filter listens (the real port when ``listen`` asked for port 0)."""
        if self._server is None or not self._server.sockets:
            return self.listen_address
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self) -> tuple[str, int]:
        """Bind and start taking sessions; returns the address listened on."""
        settings = self.settings
        loop = asyncio.get_running_loop()
        hostname = settings.hostname or await loop.run_in_executor(None, socket.getfqdn)
        workers = settings.workers or os.cpu_count() or 1
        self._workers = ThreadPoolExecutor(workers, thread_name_prefix="mailcore-pipeline")
        self._relayers = ThreadPoolExecutor(
            settings.max_sessions, thread_name_prefix="mailcore-relay"
        )
        host, port = self.relay_address
        self._relay = Relay(
            host,
            port,
            timeout=settings.relay_timeout,
            helo=hostname,
            max_idle=settings.max_sessions,
        )
        handler = _Handler(self)

        def session() -> _Session:
            return _Session(
                self,
                handler,
                data_size_limit=settings.max_message_size,
                hostname=hostname,
                ident=f"ESMTP mailcore {__version__}",
                tls_context=self._tls,
                require_starttls=settings.require_tls,
                timeout=settings.session_timeout,
                loop=loop,
            )

        host, port = self.listen_address
        self._server = await loop.create_server(session, host, port, reuse_address=True)
        listening = self.address
        self.log.event(
            "listening",
            listen=f"{listening[0]}:{listening[1]}",
            relay=self.settings.relay,
            tls=self._tls is not None,
            direction=settings.direction,
            # With "auto" and no internal domain every message is inbound.
            internal_domains=list(settings.internal_domains),
        )
        return listening

    # -- one message ----------------------------------------------------------------

    def _process(self, direction: Direction, job: _Job) -> tuple[ProcessResult, float, float]:
        started = time.monotonic()
        if direction == "outbound":
            result = self.pipeline.outbound(
                job.data, sender=job.sender or None, recipients=list(job.recipients)
            )
        else:
            result = self.pipeline.inbound(job.data)
        return result, started, time.monotonic()

    async def _handle_message(
        self, job: _Job, client_connected: Callable[[], bool] = lambda: True
    ) -> Reply:
        """Process one message and relay it; the reply for the client's final dot.

        A client that has gone before the relay starts cannot receive a 250:
        the message is not relayed (the client still holds it and retries),
        so that it is never delivered twice.
        """
        loop = asyncio.get_running_loop()
        assert self._workers is not None and self._relayers is not None
        assert self._relay is not None
        settings = self.settings
        direction = choose_direction(settings.direction, job.sender, settings.internal_domains)
        timings: dict[str, float] = {}
        pipeline_summary: dict[str, Any] | None = None
        relay: RelayResult | None = None
        error: BaseException | None = None
        try:
            submitted = time.monotonic()
            work = loop.run_in_executor(self._workers, self._process, direction, job)
            result, started, ended = await asyncio.wait_for(work, settings.process_timeout)
            timings["queue"] = _ms(started - submitted)
            timings["process"] = _ms(ended - started)
            pipeline_summary = _summary(result.report.to_dict())
            if not client_connected():
                raise ClientGone("the client left before the relay; not relayed")
            relay = await loop.run_in_executor(
                self._relayers, self._relay.send, job.sender, job.recipients, result.message
            )
            timings["relay"] = _ms(relay.seconds)
            reply = relay.reply(job.id)
        except Exception as caught:  # every error has its reply; none reaches aiosmtpd
            error = caught
            reply = reply_for_error(caught)
            if isinstance(caught, MessageRefused) and caught.report is not None:
                to_dict = getattr(caught.report, "to_dict", None)
                pipeline_summary = _summary(to_dict()) if callable(to_dict) else None
        timings["total"] = _ms(time.monotonic() - job.received)
        self.log.write(
            MessageRecord(
                id=job.id,
                peer=job.peer,
                sender=job.sender,
                recipients=job.recipients,
                size=len(job.data),
                message_id=_message_id(job.data),
                direction=direction,
                decision=reply.decision,
                reply=f"{reply.code} {reply.status}",
                error=None if error is None else _error_name(error),
                pipeline=pipeline_summary,
                relay=None if relay is None else relay.to_dict(),
                timings=timings,
            ).to_dict()
        )
        return reply

    # -- shutdown -------------------------------------------------------------------

    async def shutdown(self, timeout: float | None = None) -> bool:
        """Stop taking mail and finish the messages in flight.

        The listening socket closes first; sessions that are not in a
        message's processing get 421 and are closed (their client keeps any
        message it has not had a 250 for); messages being processed or
        relayed are finished and answered.  Returns ``False`` when
        ``timeout`` seconds (default ``[serve] shutdown_timeout``) were not
        enough: those messages are left unanswered, never acknowledged.
        """
        timeout = self.settings.shutdown_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        self.draining = True
        self.log.event("stopping", in_flight=len(self.tasks), sessions=len(self.sessions))
        if self._server is not None:
            self._server.close()
        for session in list(self.sessions):
            if not session.in_flight:
                session.close_now()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=max(0.0, deadline - time.monotonic()))
        finished = not self.tasks
        # Let the last replies reach their clients before the sessions go.
        while self.sessions and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        for session in list(self.sessions):
            session.close_now()
        await asyncio.sleep(0)
        for pool in (self._workers, self._relayers):
            if pool is not None:
                # No waiting on the loop's thread: the pools are idle when
                # finished, and the interpreter joins any late thread at exit.
                pool.shutdown(wait=False, cancel_futures=True)
        if self._relay is not None:
            self._relay.close()
        if self._own_pipeline:
            self.pipeline.close()
        self.log.event("stopped", finished=finished, unanswered=len(self.tasks))
        return finished

    async def serve_until(self, stop: asyncio.Event) -> bool:
        """Serve until ``stop`` is set, then shut down gracefully."""
        await self.start()
        await stop.wait()
        return await self.shutdown()

    def run(self) -> int:
        """Serve until SIGTERM or SIGINT; 0 when every message in flight was finished."""

        async def main() -> bool:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            try:
                return await self.serve_until(stop)
            finally:
                for signum in (signal.SIGTERM, signal.SIGINT):
                    loop.remove_signal_handler(signum)

        return 0 if asyncio.run(main()) else 1


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _summary(report: dict[str, Any]) -> dict[str, Any]:
    encryption = report.get("encryption")
    return {
        "signed": report.get("signed"),
        "encrypted": report.get("encrypted"),
        "encryption": encryption.get("decision") if isinstance(encryption, dict) else None,
        "warnings": len(report.get("warnings") or ()),
    }


def _message_id(data: bytes) -> str | None:
    # For the log only: a message whose header does not parse has none.
    with contextlib.suppress(MailcoreError, ValueError):
        return message_id_of(RawMessage(data).first("Message-ID"))
    return None


def _error_name(error: BaseException) -> str:
    name = type(error).__name__
    return "Timeout" if isinstance(error, TimeoutError) else name
