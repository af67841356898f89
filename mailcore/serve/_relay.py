"""Hand a processed message to the next hop over SMTP, at most once.

A transaction is relayed whole or not at all: every recipient must be
accepted (RCPT) before the message is sent, because one reply to our
client's final dot covers all recipients (RFC 5321 §4.5.3.1 gives no
per-recipient result after DATA, unlike LMTP).  A recipient the next hop
refuses fails the whole message with the next hop's code: 4yz (our client
retries all, nothing was sent) or 5yz (our client bounces, naming the reason).

The client runs on the filter's event loop (no thread per transaction) and
keeps connections open for the next messages.  When the next hop offers
PIPELINING (RFC 2920, as Postfix does), MAIL, every RCPT and DATA go out in
one write and their replies are read in order: two round trips per message
instead of one per command.  If DATA was answered 354 although a recipient
was refused (the next hop now waits for the content), the connection is
dropped without the final dot, so nothing is delivered (RFC 5321 §4.1.1.4;
RFC 2920 §3.1).

The one window SMTP cannot close (RFC 1047): the final dot was sent but the
next hop's reply never came.  The message may or may not have been
accepted; the outcome is ``unknown``, answered 451 so that no mail is lost,
at the price of a possible duplicate.  The window is kept small: the reply
is awaited for the whole relay timeout, and connection failures before the
dot are told apart from it (they are plain ``deferred``: nothing can have
been delivered without the dot, RFC 5321 §4.1.1.4).  ``send(on_commit=...)``
is asked just before the dot goes, so that the filter can still stop a
transaction whose client has left (nobody would hear the 250), and tell the
transactions a shutdown may cut short from those it must see to the end.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from mailcore.serve._replies import Reply, clean_text

__all__ = ["Prepared", "Relay", "RelayResult", "prepare", "smtp_data"]

Outcome = Literal["delivered", "deferred", "refused", "unknown"]
Stage = Literal["connect", "mail", "rcpt", "data", "dot"]

_ENHANCED = re.compile(r"([245])\.([0-9]{1,3})\.([0-9]{1,3})\b")
_LINE_ENDS = re.compile(rb"\r\n|\r(?!\n)|\n")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)
_UNSAFE_ADDRESS = re.compile(r"[\x00-\x1f<>]")


def relayable(address: str) -> bool:
    """Whether :meth:`Relay.send` can write ``address`` into MAIL or RCPT.

    aiosmtpd accepts quoted local parts holding angle brackets
    (``"a>b"@example.com``); written back between ``<`` and ``>`` they would
    end the path early, so the relay refuses them.  The session asks this
    at MAIL and RCPT, so that such an address gets a permanent 553 there
    rather than a 451 after the whole message was sent.
    """
    return _UNSAFE_ADDRESS.search(address) is None


@dataclass(frozen=True, slots=True)
class RelayResult:
    """What the next hop did with one message.

    ``outcome``: ``delivered`` (2yz to the final dot), ``deferred`` (a 4yz
    reply or a connection failure before the dot), ``refused`` (a 5yz reply)
    or ``unknown`` (the connection failed after the dot: maybe delivered).
    ``code``/``text``: the next hop's reply (0 when there was none);
    ``stage``: the step that decided.
    """

    outcome: Outcome
    code: int
    text: str
    stage: Stage
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "code": self.code,
            "stage": self.stage,
            "ms": round(self.seconds * 1000, 1),
        }

    def reply(self, message_id: str) -> Reply:
        """Our answer to the client's final dot for this result."""
        said = f"{self.code} {self.text}".strip() if self.code else self.text
        if self.outcome == "delivered":
            return Reply(250, "2.0.0", f"Ok: {message_id} relayed; next hop said: {said}")
        if self.outcome == "unknown":
            return Reply(
                451,
                "4.4.2",
                f"Connection to the next hop lost after the message was sent ({said}); "
                "try again later",
            )
        status = _ENHANCED.search(self.text)
        if self.outcome == "deferred":
            enhanced = status.group(0) if status and status.group(1) == "4" else "4.4.1"
            return Reply(451, enhanced, f"Next hop did not take the message: {said}")
        enhanced = status.group(0) if status and status.group(1) == "5" else "5.0.0"
        code = self.code if 500 <= self.code <= 559 else 554
        return Reply(code, enhanced, f"Next hop refused the message: {said}")


def smtp_data(message: bytes) -> bytes:
    """``message`` as DATA content: CRLF line ends, dots stuffed, terminator added.

    RFC 5321 §2.3.8 (lines end in CRLF: a bare CR or LF is never passed on,
    a next hop might take it for a line end), §4.5.2 (a line starting with a
    dot gets another one).
    """
    data = message
    # The pipeline writes CRLF: the substitutions run only when needed.
    crlf = data.count(b"\r\n")
    if data.count(b"\n") != crlf or data.count(b"\r") != crlf:
        data = _LINE_ENDS.sub(b"\r\n", data)
    if data.startswith(b".") or b"\n." in data:
        data = _LEADING_DOT.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class Prepared(NamedTuple):
    """A message made ready for the relay by :func:`prepare`.

    The filter prepares each message where the pipeline ran (a worker
    process), so that the event loop only writes it.
    """

    wire: bytes
    """The DATA content: :func:`smtp_data` of the message."""
    size: int
    """The message's size, for ``SIZE=`` (RFC 1870)."""
    eightbit: bool
    """Whether it has 8-bit bytes, for ``BODY=8BITMIME`` (RFC 6152)."""


def prepare(message: bytes) -> Prepared:
    """``message`` ready for :meth:`Relay.send`."""
    return Prepared(smtp_data(message), len(message), not message.isascii())


class _Failure(Exception):
    def __init__(self, outcome: Outcome, stage: Stage, code: int, text: str) -> None:
        super().__init__(text)
        self.outcome: Outcome = outcome
        self.stage: Stage = stage
        self.code = code
        self.text = text


class _Stale(Exception):
    """A reused connection was closed by the next hop before MAIL was accepted."""


class _Garbled(Exception):
    """The next hop sent something that is not an SMTP reply."""


def _by_code(code: int, stage: Stage, text: str) -> _Failure:
    return _Failure("refused" if 500 <= code <= 599 else "deferred", stage, code, text)


# What a broken, closed or silent connection raises while we read or write.
_BROKEN = (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, _Garbled)


class _Connection:
    """One SMTP connection to the next hop, and a timer that cuts it when it stalls."""

    __slots__ = ("eightbit", "idle_since", "pipelining", "reader", "size", "timed_out",
                 "timer", "writer")  # fmt: skip

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.pipelining = False
        self.size = False
        self.eightbit = False
        self.idle_since = 0.0
        self.timed_out = False
        self.timer: asyncio.TimerHandle | None = None

    def arm(self, seconds: float) -> None:
        """From now on the next hop has ``seconds`` for the current step."""
        if self.timer is not None:
            self.timer.cancel()
        self.timer = asyncio.get_running_loop().call_later(seconds, self._expired)

    def disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _expired(self) -> None:
        # Closing the transport ends the read in progress (end of stream).
        self.timed_out = True
        self.writer.transport.abort()

    def usable(self) -> bool:
        return not self.writer.transport.is_closing() and not self.reader.at_eof()

    def discard(self) -> None:
        """Close at once (nothing more is said)."""
        self.disarm()
        self.writer.transport.abort()

    def quit(self) -> None:
        """Say QUIT and close (the reply is not awaited)."""
        self.disarm()
        if not self.writer.transport.is_closing():
            self.writer.write(b"QUIT\r\n")
            self.writer.close()

    async def reply(self) -> tuple[int, list[bytes]]:
        """One reply: its code and the text of each line (RFC 5321 §4.2)."""
        lines = []
        while True:
            line = await self.reader.readuntil(b"\n")
            code = line[:3]
            if not code.isdigit() or line[3:4] not in (b" ", b"-", b"\r", b"\n"):
                raise _Garbled
            lines.append(line[4:].rstrip(b"\r\n"))
            if line[3:4] != b"-":
                return int(code), lines


def _text(lines: list[bytes]) -> str:
    return clean_text(b" ".join(lines).decode("utf-8", "replace"))


class Relay:
    """An SMTP client for the next hop, keeping a few connections open.

    Coroutine-safe on one event loop: each :meth:`send` uses a connection of
    its own (taken from the idle ones or newly opened) and gives it back
    when the transaction ended cleanly.  ``timeout`` bounds each step:
    connecting, the replies to the commands, the sending of the message and
    the reply to its final dot.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        timeout: float = 60.0,
        helo: str = "localhost",
        max_idle: int = 20,
        idle_seconds: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout
        self.helo = helo
        self.max_idle = max_idle
        self.idle_seconds = idle_seconds
        self._idle: list[_Connection] = []
        self._closed = False

    # -- connections ----------------------------------------------------------------

    async def _connect(self) -> _Connection:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self.host, self.port), self.timeout
            )
        except (OSError, TimeoutError) as error:
            raise _Failure("deferred", "connect", 0, _describe(error)) from None
        connection = _Connection(reader, writer)
        connection.arm(self.timeout)
        try:
            code, lines = await connection.reply()
            if code != 220:  # RFC 5321 §4.3.1: 554 (or 421) instead of the greeting
                # A refused greeting or EHLO says nothing about the message:
                # the next hop is unusable for now (as Postfix's
                # smtp_skip_5xx_greeting treats it), so the MTA keeps it.
                raise _Failure("deferred", "connect", code, _text(lines))
            writer.write(f"EHLO {self.helo}\r\n".encode())
            code, lines = await connection.reply()
            if code == 250:
                keywords = {line.split(b" ", 1)[0].upper() for line in lines[1:]}
                connection.pipelining = b"PIPELINING" in keywords
                connection.size = b"SIZE" in keywords
                connection.eightbit = b"8BITMIME" in keywords
            else:  # RFC 5321 §3.2: a server without extensions
                writer.write(f"HELO {self.helo}\r\n".encode())
                code, lines = await connection.reply()
            if code != 250:
                raise _Failure("deferred", "connect", code, _text(lines))
        except _Failure:
            connection.discard()
            raise
        except _BROKEN as error:
            connection.discard()
            raise _Failure("deferred", "connect", 0, _describe(error, connection)) from None
        connection.disarm()
        return connection

    async def _take(self) -> tuple[_Connection, bool]:
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()
            if now - connection.idle_since < self.idle_seconds and connection.usable():
                return connection, True
            connection.quit()
        return await self._connect(), False

    def _give_back(self, connection: _Connection) -> None:
        connection.disarm()
        if not self._closed and len(self._idle) < self.max_idle and connection.usable():
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
            return
        connection.quit()

    def close(self) -> None:
        """Close the idle connections (QUIT); later sends open new ones."""
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.quit()

    # -- one transaction ------------------------------------------------------------

    async def send(
        self,
        sender: str,
        recipients: Sequence[str],
        message: bytes | Prepared,
        *,
        on_commit: Callable[[], bool] | None = None,
    ) -> RelayResult:
        """Relay ``message`` to every recipient, or to none; never twice.

        ``message`` is the message, or the message made ready by :func:`prepare`.

        ``on_commit`` is called just before the message and its final dot
        are written: from then on the next hop may have it.  If it returns
        false, they are not written: the connection is dropped, nothing is
        delivered, and the outcome is ``deferred``.  A reused
        connection that turns out to be closed by the next hop (before
        anything of this transaction was accepted) is replaced once by a
        new one: nothing was sent, so this is no second relay.
        """
        for address in (sender, *recipients):
            if _UNSAFE_ADDRESS.search(address):
                # aiosmtpd never hands such an address over; a library caller
                # could, and it would end the command line (RFC 5321 §4.1.2).
                raise ValueError(f"control character or angle bracket in address {address!r}")
        started = time.monotonic()
        prepared = message if isinstance(message, Prepared) else prepare(message)
        try:
            for attempt in (1, 2):
                connection, reused = await self._take()
                try:
                    return await self._transaction(
                        connection, sender, recipients, prepared, started, on_commit
                    )
                except _Stale:
                    connection.discard()
                    if attempt == 2 or not reused:
                        raise _Failure(
                            "deferred", "mail", 0, "next hop closed the connection"
                        ) from None
                    # What closed this one (a restart, the hop's idle
                    # timeout) has most likely closed the other idle ones
                    # too: the retry goes on a new connection.
                    idle, self._idle = self._idle, []
                    for other in idle:
                        other.discard()
                except BaseException:
                    # A failure reported below has set the connection's fate;
                    # anything else (a cancelled task) leaves it in an unknown
                    # state: it is not used again.
                    if connection not in self._idle:
                        connection.discard()
                    raise
            raise AssertionError("unreachable")
        except _Failure as failure:
            return RelayResult(
                failure.outcome,
                failure.code,
                failure.text,
                failure.stage,
                time.monotonic() - started,
            )

    async def _transaction(
        self,
        connection: _Connection,
        sender: str,
        recipients: Sequence[str],
        message: Prepared,
        started: float,
        on_commit: Callable[[], bool] | None,
    ) -> RelayResult:
        options = ""
        if connection.size:  # RFC 1870
            options += f" SIZE={message.size}"
        # RFC 6152: announce 8-bit content when the next hop takes it.
        if connection.eightbit and message.eightbit:
            options += " BODY=8BITMIME"
        # Addresses as aiosmtpd parsed them (one line, no CR/LF), in angle
        # brackets as RFC 5321 §4.1.2 writes a Path.
        mail = f"MAIL FROM:<{sender}>{options}\r\n".encode()
        rcpts = [f"RCPT TO:<{recipient}>\r\n".encode() for recipient in recipients]
        writer = connection.writer
        stage: Stage = "mail"
        try:
            connection.arm(self.timeout)
            if connection.pipelining:
                # RFC 2920 §3.1: DATA may end a group; its replies come in order.
                writer.write(b"".join((mail, *rcpts, b"DATA\r\n")))
            else:
                writer.write(mail)
            try:
                code, lines = await connection.reply()
            except _BROKEN:
                if connection.timed_out:
                    raise
                raise _Stale from None
            if code == 421:  # RFC 5321 §3.8: the next hop is closing this connection
                raise _Stale
            failure = None if code == 250 else _by_code(code, "mail", _text(lines))
            stage = "rcpt"
            for recipient, rcpt in zip(recipients, rcpts, strict=True):
                if failure is not None and not connection.pipelining:
                    break
                if not connection.pipelining:
                    connection.arm(self.timeout)
                    writer.write(rcpt)
                code, lines = await connection.reply()
                if failure is None and code not in (250, 251):
                    failure = _by_code(code, "rcpt", f"<{recipient}>: {_text(lines)}")
            stage = "data"
            if connection.pipelining or failure is None:
                if not connection.pipelining:
                    connection.arm(self.timeout)
                    writer.write(b"DATA\r\n")
                code, lines = await connection.reply()
                if failure is None and code != 354:
                    failure = _by_code(code, "data", _text(lines))
                elif failure is not None and code == 354:
                    # The next hop waits for the content of a transaction we
                    # must not complete: closing without the dot sends nothing.
                    connection.discard()
                    raise failure
            if failure is not None:
                await self._reset(connection, failure.code)
                raise failure
            if on_commit is not None and not on_commit():
                connection.discard()  # the next hop waits for content that never comes
                raise _Failure("deferred", "data", 0, "not sent: the transaction was withdrawn")
            # From here on the next hop may have the message: a failure
            # before its reply is "unknown", never plain "deferred".
            stage = "dot"
            connection.arm(self.timeout)
            writer.write(message.wire)
            await writer.drain()
            connection.arm(self.timeout)
            code, lines = await connection.reply()
        except (_Stale, _Failure):
            raise
        except _BROKEN as error:
            connection.discard()
            outcome: Outcome = "unknown" if stage == "dot" else "deferred"
            raise _Failure(outcome, stage, 0, _describe(error, connection)) from None
        if 200 <= code <= 299:
            self._give_back(connection)
            return RelayResult("delivered", code, _text(lines), "dot", time.monotonic() - started)
        await self._reset(connection, code)
        raise _by_code(code, "dot", _text(lines))

    async def _reset(self, connection: _Connection, code: int) -> None:
        """After a refused step: RSET and keep the connection, unless it is ending."""
        if code == 421 or code == 0:
            connection.discard()
            return
        try:
            connection.arm(self.timeout)
            connection.writer.write(b"RSET\r\n")
            reset, _ = await connection.reply()
        except _BROKEN:
            connection.discard()
            return
        if reset == 250:
            self._give_back(connection)
        else:
            connection.discard()


def _describe(error: BaseException, connection: _Connection | None = None) -> str:
    if isinstance(error, TimeoutError) or (connection is not None and connection.timed_out):
        return "timed out waiting for the next hop"
    if isinstance(error, ConnectionRefusedError):
        return "next hop refused the connection"
    if isinstance(error, asyncio.IncompleteReadError | ConnectionResetError | BrokenPipeError):
        return "next hop closed the connection"
    if isinstance(error, _Garbled | asyncio.LimitOverrunError):
        return "next hop sent something that is not an SMTP reply"
    if isinstance(error, OSError) and error.strerror:
        return clean_text(f"connection to the next hop failed: {error.strerror}")
    return clean_text(f"connection to the next hop failed: {type(error).__name__}")
