"""Hand a processed message to the next hop over SMTP, at most once.

A transaction is relayed whole or not at all: every recipient must be
accepted (RCPT) before DATA is sent, because one reply to our client's
final dot covers all recipients (RFC 5321 §4.5.3.1 gives no per-recipient
result after DATA, unlike LMTP).  A recipient the next hop refuses fails
the whole message with the next hop's code: 4yz (our client retries all,
nothing was sent) or 5yz (our client bounces, naming the reason).

The one window SMTP cannot close (RFC 1047): the final dot was sent but the
next hop's reply never came.  The message may or may not have been
accepted; the outcome is ``unknown``, answered 451 so that no mail is lost,
at the price of a possible duplicate.  The window is kept small: the reply
is awaited for the whole relay timeout, and connection failures before the
dot are told apart from it (they are plain ``deferred``: nothing can have
been delivered without the dot, RFC 5321 §4.1.1.4).
"""

from __future__ import annotations

import re
import smtplib
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mailcore.serve._replies import Reply, clean_text

__all__ = ["Relay", "RelayResult"]

Outcome = Literal["delivered", "deferred", "refused", "unknown"]
Stage = Literal["connect", "mail", "rcpt", "data", "dot"]

_ENHANCED = re.compile(r"([245])\.([0-9]{1,3})\.([0-9]{1,3})\b")
_LINE_ENDS = re.compile(rb"\r\n|\r(?!\n)|\n")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


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

    RFC 5321 §2.3.8 (lines end in CRLF), §4.5.2 (a line starting with a dot
    gets another one).
    """
    data = message
    # The pipeline writes CRLF: the substitutions run only when needed.
    if data.count(b"\n") != data.count(b"\r\n") or data.count(b"\r") != data.count(b"\r\n"):
        data = _LINE_ENDS.sub(b"\r\n", data)
    if data.startswith(b".") or b"\n." in data:
        data = _LEADING_DOT.sub(b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


class _Failure(Exception):
    def __init__(self, outcome: Outcome, stage: Stage, code: int, text: str) -> None:
        super().__init__(text)
        self.outcome: Outcome = outcome
        self.stage: Stage = stage
        self.code = code
        self.text = text


def _text(reply: bytes | str) -> str:
    raw = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return clean_text(raw)


def _by_code(code: int, stage: Stage, text: str) -> _Failure:
    return _Failure("refused" if 500 <= code <= 599 else "deferred", stage, code, text)


class Relay:
    """An SMTP client for the next hop, keeping a few connections open.

    Thread-safe: each :meth:`send` uses one connection of its own (taken
    from the idle ones or newly opened) and gives it back when the
    transaction ended cleanly.
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
        self._idle: list[tuple[float, smtplib.SMTP]] = []
        self._lock = threading.Lock()
        self._closed = False

    # -- connections ----------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        try:
            connection = smtplib.SMTP(
                self.host, self.port, local_hostname=self.helo, timeout=self.timeout
            )
        except smtplib.SMTPConnectError as error:
            raise _by_code(error.smtp_code, "connect", _text(error.smtp_error)) from None
        except (OSError, smtplib.SMTPException) as error:
            raise _Failure("deferred", "connect", 0, _describe(error)) from None
        try:
            code, reply = connection.ehlo()
            if code != 250:
                code, reply = connection.helo()
            if code != 250:
                raise _by_code(code, "connect", _text(reply))
        except (OSError, smtplib.SMTPException) as error:
            _discard(connection)
            raise _Failure("deferred", "connect", 0, _describe(error)) from None
        except _Failure:
            _discard(connection)
            raise
        return connection

    def _take(self) -> tuple[smtplib.SMTP, bool]:
        now = time.monotonic()
        stale: list[smtplib.SMTP] = []
        connection = None
        with self._lock:
            while self._idle:
                since, candidate = self._idle.pop()
                if now - since < self.idle_seconds:
                    connection = candidate
                    break
                stale.append(candidate)
        for old in stale:
            _discard(old, quit=True)
        if connection is not None:
            return connection, True
        return self._connect(), False

    def _give_back(self, connection: smtplib.SMTP) -> None:
        with self._lock:
            if not self._closed and len(self._idle) < self.max_idle:
                self._idle.append((time.monotonic(), connection))
                return
        _discard(connection, quit=True)

    def close(self) -> None:
        """Close the idle connections (QUIT); later sends open new ones."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for _, connection in idle:
            _discard(connection, quit=True)

    # -- one transaction ------------------------------------------------------------

    def send(self, sender: str, recipients: Sequence[str], message: bytes) -> RelayResult:
        """Relay ``message`` to every recipient, or to none; never twice.

        A reused connection that turns out to be closed by the next hop
        (before anything of this transaction was accepted) is replaced
        once by a new one: nothing was sent, so this is no second relay.
        """
        started = time.monotonic()
        try:
            for attempt in (1, 2):
                connection, reused = self._take()
                try:
                    return self._transaction(connection, sender, recipients, message, started)
                except _Stale:
                    _discard(connection)
                    if attempt == 2 or not reused:
                        raise _Failure(
                            "deferred", "mail", 0, "next hop closed the connection"
                        ) from None
            raise AssertionError("unreachable")
        except _Failure as failure:
            return RelayResult(
                failure.outcome,
                failure.code,
                failure.text,
                failure.stage,
                time.monotonic() - started,
            )

    def _transaction(
        self,
        connection: smtplib.SMTP,
        sender: str,
        recipients: Sequence[str],
        message: bytes,
        started: float,
    ) -> RelayResult:
        options = []
        if connection.has_extn("size"):
            options.append(f"SIZE={len(message)}")
        # RFC 6152: announce 8-bit content when the next hop takes it.
        if connection.has_extn("8bitmime") and not message.isascii():
            options.append("BODY=8BITMIME")
        stage: Stage = "mail"
        try:
            try:
                # Addresses as aiosmtpd parsed them (one line, no CR/LF),
                # in angle brackets as RFC 5321 §4.1.2 writes a Path.
                mail_from = f"FROM:<{sender}>" + "".join(f" {option}" for option in options)
                code, reply = connection.docmd("MAIL", mail_from)
            except (smtplib.SMTPServerDisconnected, ConnectionError):
                raise _Stale from None
            if code == 421:
                raise _Stale
            if code != 250:
                raise _by_code(code, "mail", _text(reply))
            stage = "rcpt"
            for recipient in recipients:
                code, reply = connection.docmd("RCPT", f"TO:<{recipient}>")
                if code not in (250, 251):
                    raise _by_code(code, "rcpt", f"<{recipient}>: {_text(reply)}")
            stage = "data"
            code, reply = connection.docmd("DATA")
            if code != 354:
                raise _by_code(code, "data", _text(reply))
            connection.send(smtp_data(message))
            # From here on the next hop may have the message: a failure
            # before its reply is "unknown", never plain "deferred".
            stage = "dot"
            code, reply = connection.getreply()
        except _Stale:
            raise
        except _Failure as failure:
            self._reset(connection, failure.code)
            raise
        except (OSError, smtplib.SMTPException) as error:
            _discard(connection)
            outcome: Outcome = "unknown" if stage == "dot" else "deferred"
            raise _Failure(outcome, stage, 0, _describe(error)) from None
        if 200 <= code <= 299:
            self._give_back(connection)
            return RelayResult("delivered", code, _text(reply), "dot", time.monotonic() - started)
        self._reset(connection, code)
        raise _by_code(code, "dot", _text(reply))

    def _reset(self, connection: smtplib.SMTP, code: int) -> None:
        """After a refused step: RSET and keep the connection, unless it is ending."""
        if code == 421 or code == 0:
            _discard(connection)
            return
        try:
            reset, _ = connection.rset()
        except (OSError, smtplib.SMTPException):
            _discard(connection)
            return
        if reset == 250:
            self._give_back(connection)
        else:
            _discard(connection)


class _Stale(Exception):
    """A reused connection was closed by the next hop before MAIL was accepted."""


def _describe(error: BaseException) -> str:
    if isinstance(error, socket.timeout | TimeoutError):
        return "timed out waiting for the next hop"
    if isinstance(error, ConnectionRefusedError):
        return "next hop refused the connection"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return "next hop closed the connection"
    if isinstance(error, OSError) and error.strerror:
        return clean_text(f"connection to the next hop failed: {error.strerror}")
    return clean_text(f"connection to the next hop failed: {type(error).__name__}")


def _discard(connection: smtplib.SMTP, *, quit: bool = False) -> None:
    try:
        if quit:
            connection.quit()
        else:
            connection.close()
    except (OSError, smtplib.SMTPException):
        connection.close()
