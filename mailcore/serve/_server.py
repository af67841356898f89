"""``ContentFilter``: the SMTP content filter (after-queue, like Postfix ``content_filter``).

The MTA hands each message to the filter over SMTP; the filter runs the
pipeline and hands the result to the next hop over SMTP, *inside* the DATA
transaction: the client gets 250 only after the next hop answered 250 for
the processed message (RFC 5321 §6.1: a server that answered 250 is
responsible for the message; we keep no queue, so we may say 250 only when
the next hop took that responsibility).  Everything else is 4yz (the MTA
keeps the message and retries) or 5yz (the MTA bounces it with our text).

One event loop takes the SMTP sessions (aiosmtpd, :mod:`._session`) and
relays (:mod:`._relay`, on the same loop); the pipeline (CPU-bound: RSA) runs
in ``[serve] workers`` processes (:class:`~mailcore.serve._pool.WorkerPool`),
so that it uses every core and a slow message never stalls the sessions.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import signal
import socket
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from aiosmtpd.smtp import SMTP, Envelope, Session

from mailcore import __version__
from mailcore.errors import PolicyError, ServiceUnavailable
from mailcore.pipeline import Pipeline
from mailcore.policy import Policy, ServePolicy
from mailcore.serve._direction import choose_direction
from mailcore.serve._log import MessageLog, MessageRecord
from mailcore.serve._pool import Runner, ThreadRunner, WorkerPool
from mailcore.serve._relay import Relay, RelayResult, relayable
from mailcore.serve._replies import Reply, reply_for_error
from mailcore.serve._session import FilterSession

__all__ = ["ContentFilter"]

_ABANDONED = Reply(421, "4.3.2", "Service shutting down, message not relayed; try again later")
_LAST_REPLIES = 1.0
"""Seconds the last replies get to reach their clients after the messages ended."""
_WORKERS_STOP = 10.0
"""Seconds idle worker processes get to exit before they are killed."""


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
    """aiosmtpd hooks: EHLO, recipient limit, DATA (process and relay), unexpected errors."""

    def __init__(self, owner: ContentFilter) -> None:
        self.owner = owner

    async def handle_EHLO(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str,
        responses: list[str],
    ) -> list[str]:  # fmt: skip
        # RFC 2920: the client may send MAIL, RCPT... DATA without waiting
        # for each reply (FilterSession answers such a group in one write).
        # With this hook aiosmtpd leaves recording the client's name to us.
        session.host_name = hostname
        return [*responses[:-1], "250-PIPELINING", responses[-1]]

    async def handle_MAIL(  # noqa: N802 (aiosmtpd's hook name)
        self,
        server: FilterSession,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        # "<>" is the null reverse-path of bounces (RFC 5321 §4.5.5).
        if address != "<>" and not relayable(address):
            # RFC 3463 X.1.7: bad sender's mailbox address syntax.
            return "553 5.1.7 Sender address cannot be relayed (angle bracket or control)"
        # With this hook, recording the sender is ours (aiosmtpd's default).
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(  # noqa: N802 (aiosmtpd's hook name)
        self,
        server: FilterSession,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if not relayable(address):
            # RFC 3463 X.1.3: bad destination mailbox address syntax.  Said
            # now, permanently, not as a 451 after the message was sent.
            return "553 5.1.3 Recipient address cannot be relayed (angle bracket or control)"
        if len(envelope.rcpt_tos) >= self.owner.settings.max_recipients:
            # RFC 5321 §4.5.3.1.10: 452 asks the client to send the other
            # recipients in a later transaction (none is lost).
            return "452 4.5.3 Too many recipients"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 Ok"

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: FilterSession, session: Session, envelope: Envelope
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

    The pipeline runs in ``[serve] workers`` processes (default: one per
    core), each with its own :class:`~mailcore.pipeline.Pipeline` built from
    ``policy`` (its keys, trust anchors and directory connections).  A
    library caller may pass ``pipeline`` instead (any object with the
    :class:`~mailcore.pipeline.Pipeline` methods, e.g. one with an in-memory
    key store): an object cannot be sent to another process, so it then
    runs on ``workers`` threads of this process, which share one core for
    the cryptography (it must be thread-safe, which the pipeline is).
    ``settings`` overrides the policy's ``[serve]`` section; ``log``
    receives one JSON line per message (default stderr; ``None``: no log).
    Use :meth:`run` (blocking, SIGTERM/SIGINT stop it gracefully) or
    ``await start()`` ... ``await shutdown()`` inside a running loop.
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
        self.pipeline = pipeline
        if pipeline is None:
            # Fail early too on a policy the workers could not build a
            # pipeline from (trust anchors, key store settings).
            Pipeline(self.policy).close()
        self.log = MessageLog(log)
        self.sessions: set[FilterSession] = set()
        self.tasks: set[asyncio.Future[Reply]] = set()
        self.draining = False
        # Message ids: a random prefix per run, then a counter (unique in
        # the log across restarts, and cheaper than random bytes each).
        self._id_prefix = secrets.token_hex(3).upper()
        self._ids = itertools.count(1)
        self._server: asyncio.Server | None = None
        self._runner: Runner | None = None
        self._relay: Relay | None = None
        self._committed: set[asyncio.Future[Reply]] = set()
        self._abandoning = False
        self._tls = self._tls_context()

    # -- set-up ---------------------------------------------------------------------

    @property
    def max_sessions(self) -> int:
        """Concurrent sessions; more get 421."""
        return self.settings.max_sessions

    @property
    def worker_pids(self) -> list[int]:
        """The pipeline's worker processes (none when a pipeline object was given)."""
        return self._runner.pids if isinstance(self._runner, WorkerPool) else []

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
        """Start the workers, bind and start taking sessions; the address listened on."""
        settings = self.settings
        loop = asyncio.get_running_loop()
        hostname = settings.hostname or await loop.run_in_executor(None, socket.getfqdn)
        workers = settings.workers or os.cpu_count() or 1
        runner: Runner
        if self.pipeline is not None:
            runner = ThreadRunner(self.pipeline, workers, timeout=settings.process_timeout)
        else:
            runner = WorkerPool(
                self.policy, workers, timeout=settings.process_timeout, log=self.log
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

        def session() -> FilterSession:
            return FilterSession(
                self,
                handler,
                max_line_length=settings.max_line_length,
                data_size_limit=settings.max_message_size,
                hostname=hostname,
                ident=f"ESMTP mailcore {__version__}",
                tls_context=self._tls,
                require_starttls=settings.require_tls,
                timeout=settings.session_timeout,
                loop=loop,
            )

        # Bound first (a port in use fails at once), serving only once the
        # pipeline is ready: no mail is taken that could not be processed.
        host, port = self.listen_address
        server = await loop.create_server(
            session, host, port, reuse_address=True, start_serving=False
        )
        try:
            await runner.start()
        except BaseException:
            server.close()
            raise
        self._runner = runner
        self._server = server
        await server.start_serving()
        listening = self.address
        self.log.event(
            "listening",
            listen=f"{listening[0]}:{listening[1]}",
            relay=self.settings.relay,
            tls=self._tls is not None,
            direction=settings.direction,
            # With "auto" and no internal domain every message is inbound.
            internal_domains=list(settings.internal_domains),
            workers=workers,
            pipeline="processes" if isinstance(runner, WorkerPool) else "threads",
            # Which policy is in force, so a log reader can tell a typo'd or
            # edited file from the intended one (None: built-in defaults).
            policy=self.policy.source,
            policy_sha256=self.policy.sha256,
        )
        return listening

    # -- one message ----------------------------------------------------------------

    async def _handle_message(
        self, job: _Job, client_connected: Callable[[], bool] = lambda: True
    ) -> Reply:
        """Process one message and relay it; the reply for the client's final dot.

        A client that has gone before the final dot goes to the next hop
        cannot receive a 250: the message is not relayed (the client still
        holds it and retries), so that it is never delivered twice.
        """
        assert self._runner is not None and self._relay is not None
        settings = self.settings
        direction = choose_direction(settings.direction, job.sender, settings.internal_domains)
        timings: dict[str, float] = {}
        pipeline_summary: dict[str, Any] | None = None
        message_id: str | None = None
        relay: RelayResult | None = None
        error: str | None = None
        this = asyncio.current_task()
        try:
            submitted = time.monotonic()
            processed = await self._runner.process(direction, job.sender, job.recipients, job.data)
            timings["queue"] = _ms(processed.started - submitted)
            timings["process"] = _ms(processed.ended - processed.started)
            pipeline_summary = processed.summary
            message_id = processed.message_id
            refusal = processed.reply
            if refusal is not None:
                reply, error = refusal, processed.error
            else:
                assert processed.message is not None
                if not client_connected():
                    raise ClientGone("the client left before the relay; not relayed")

                withdrawn = False

                def commit() -> bool:
                    # The last moment to keep the message from the next hop:
                    # a client that has left would never hear the 250.
                    nonlocal withdrawn
                    withdrawn = not client_connected()
                    if not withdrawn and this is not None:
                        self._committed.add(this)
                    return not withdrawn

                relay = await self._relay.send(
                    job.sender, job.recipients, processed.message, on_commit=commit
                )
                timings["relay"] = _ms(relay.seconds)
                if withdrawn:
                    error = ClientGone.__name__
                reply = relay.reply(job.id)
        except asyncio.CancelledError:
            if not self._abandoning or this is None:
                raise
            # Shutdown gave up on this message before its final dot went to
            # the next hop: nothing was relayed, and the client keeps it.
            this.uncancel()
            reply, error = _ABANDONED, "Shutdown"
        except Exception as caught:  # every error has its reply; none reaches aiosmtpd
            error = "Timeout" if isinstance(caught, TimeoutError) else type(caught).__name__
            reply = reply_for_error(caught)
        finally:
            if this is not None:
                self._committed.discard(this)
        timings["total"] = _ms(time.monotonic() - job.received)
        self.log.write(
            MessageRecord(
                id=job.id,
                peer=job.peer,
                sender=job.sender,
                recipients=job.recipients,
                size=len(job.data),
                message_id=message_id,
                direction=direction,
                decision=reply.decision,
                reply=f"{reply.code} {reply.status}",
                error=error,
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
        relayed are finished and answered.

        After ``timeout`` seconds (default ``[serve] shutdown_timeout``) the
        messages still in the pipeline, or being relayed but not yet sent
        whole, are given up: their relay is cut before the final dot (so
        the next hop delivers nothing, RFC 5321 §4.1.1.4) and their client
        gets 421 (it keeps the message and sends it again).  A message whose
        final dot already went to the next hop is seen to the end (the relay
        timeout still bounds each step: the sending, then the reply):
        cutting it short could deliver a message whose client never hears
        of it.  So no 250 is ever given for
        a message not delivered, and no message is delivered without its
        reply (but for the RFC 1047 window, see :mod:`._relay`).  Returns
        ``False`` when some message had to be given up; the worker
        processes have ended either way.
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
        abandoned = 0
        if self.tasks:
            self._abandoning = True
            for task in list(self.tasks):
                if task not in self._committed:
                    task.cancel()
                    abandoned += 1
            await asyncio.wait(list(self.tasks))
        # Let the last replies reach their clients before the sessions go.
        last = max(deadline, time.monotonic() + _LAST_REPLIES) if abandoned else deadline
        while self.sessions and time.monotonic() < last:
            await asyncio.sleep(0.01)
        for session in list(self.sessions):
            session.close_now()
        await asyncio.sleep(0)
        if self._runner is not None:
            # Every message has its answer: what a worker may still be doing
            # (for a message given up) is of no use; the others are idle.
            await self._runner.close(0 if abandoned else _WORKERS_STOP)
        if self._relay is not None:
            self._relay.close()
        self.log.event("stopped", finished=abandoned == 0, unanswered=abandoned)
        return abandoned == 0

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
