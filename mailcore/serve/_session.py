"""The SMTP side of one client connection: aiosmtpd's protocol, made cheap.

aiosmtpd (the well-kept asyncio SMTP server) does the protocol: commands,
replies, limits, STARTTLS.  This subclass adds the filter's session limit
and drain, and replaces three of its hot paths, which cost more than the
cryptography when a gateway sends many messages:

* PIPELINING (RFC 2920) is offered, and the replies to a group of pipelined
  commands (MAIL, RCPT, RSET) leave in one write, when the filter has no
  more input to read (§3.2) — or with the next reply that cannot wait
  (DATA's 354, STARTTLS's 220, ...).
* DATA content is read in blocks and searched for the end-of-data line,
  instead of one read per line; dot-unstuffing (RFC 5321 §4.5.2), the line
  length limit (§4.5.3.1.6) and the size limit (RFC 1870) give the same
  replies as aiosmtpd's own reader.
* An address in the plain ``<local@domain>`` form is taken as it is, without
  ``email``'s full RFC 5322 parser; anything else still goes through it.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any, AnyStr, Protocol

from aiosmtpd.smtp import MISSING, SMTP, syntax

__all__ = ["FilterSession", "SessionOwner"]

SHUTTING_DOWN = b"421 4.3.2 Service shutting down, try again later\r\n"
TOO_MANY = b"421 4.3.2 Too many connections, try again later\r\n"

_CHUNK = 1 << 30
"""Larger than anything buffered: a read takes all that has arrived."""
_END = b"\r\n.\r\n"
# RFC 5321 §4.1.2 Path with a dot-atom local part and a plain domain: the
# form almost every MTA sends.  get_angle_addr returns exactly these
# characters for it (checked by a test against the slow path).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_SIMPLE_PATH = re.compile(rf"<({_ATOM}(?:\.{_ATOM})*)@({_LABEL}(?:\.{_LABEL})*)>")


class SessionOwner(Protocol):
    """What a session needs from the filter."""

    @property
    def draining(self) -> bool:
        """True once shutdown began: no new session, none kept open."""

    @property
    def sessions(self) -> set[FilterSession]:
        """The open sessions (for the limit and the drain)."""

    @property
    def max_sessions(self) -> int:
        """More concurrent sessions get 421."""


class FilterSession(SMTP):
    """aiosmtpd's SMTP protocol plus the session limit, the drain and the fast paths."""

    def __init__(self, owner: SessionOwner, handler: Any, *, max_line_length: int,
                 **options: Any) -> None:  # fmt: skip
        # RFC 5321 §4.5.3.1.6: text lines of 1000 octets with CRLF; one more
        # for a stuffed dot (§4.5.2).  aiosmtpd reads this before sizing its reader.
        self.line_length_limit = max_line_length + 1
        super().__init__(handler, **options)
        self.owner = owner
        self.in_flight = False
        self._refused = False
        self._corked = False
        self._pending: list[bytes] = []
        self._flush_scheduled = False

    # -- the session limit and the drain --------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        starting = self.transport is None and self._original_transport is None
        if starting:
            owner = self.owner
            if owner.draining or len(owner.sessions) >= owner.max_sessions:
                # RFC 5321 §3.8 / §4.2.2: 421 closes the session; the client
                # retries later.  No SMTP state is set up for this connection.
                self._refused = True
                transport.write(SHUTTING_DOWN if owner.draining else TOO_MANY)  # type: ignore[attr-defined]
                transport.close()
                return
            owner.sessions.add(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused:
            return
        self.owner.sessions.discard(self)
        super().connection_lost(error)

    def close_now(self) -> None:
        """Say 421 and close (shutdown); a message in flight is answered first."""
        self._flush()
        transport = self.transport
        if transport is not None and not transport.is_closing():
            transport.write(SHUTTING_DOWN)  # type: ignore[attr-defined]
            transport.close()

    # -- replies (RFC 2920 §3.2) ----------------------------------------------------

    async def push(self, status: AnyStr) -> None:
        """Send one reply; after MAIL, RCPT or RSET it may wait for the next one."""
        response = status.encode("ascii") if isinstance(status, str) else bytes(status)
        if self._corked:
            self._pending.append(response + b"\r\n")
            if not self._flush_scheduled:
                # Runs when this session waits for input: the group is over.
                self._flush_scheduled = True
                self.loop.call_soon(self._flush)
            return
        if self._pending:
            response = b"".join(self._pending) + response
            self._pending.clear()
        self._writer.write(response + b"\r\n")
        await self._writer.drain()

    def _flush(self) -> None:
        self._flush_scheduled = False
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        transport = self.transport
        if transport is not None and not transport.is_closing():
            self._writer.write(data)

    @syntax("EHLO hostname")
    async def smtp_EHLO(self, hostname: str) -> None:  # noqa: N802 (aiosmtpd's command name)
        # One write for the reply's lines (the handler adds PIPELINING).
        self._corked = True
        try:
            await super().smtp_EHLO(hostname)
        finally:
            self._corked = False

    @syntax("MAIL FROM: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_MAIL(self, arg: str | None) -> None:  # noqa: N802 (aiosmtpd's command name)
        self._corked = True
        try:
            await super().smtp_MAIL(arg)
        finally:
            self._corked = False

    @syntax("RCPT TO: <address>", extended=" [SP <mail-parameters>]")
    async def smtp_RCPT(self, arg: str | None) -> None:  # noqa: N802 (aiosmtpd's command name)
        self._corked = True
        try:
            await super().smtp_RCPT(arg)
        finally:
            self._corked = False

    @syntax("RSET")
    async def smtp_RSET(self, arg: str) -> None:  # noqa: N802 (aiosmtpd's command name)
        self._corked = True
        try:
            await super().smtp_RSET(arg)
        finally:
            self._corked = False

    # -- addresses --------------------------------------------------------------------

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        match = _SIMPLE_PATH.match(arg)
        # The parameters follow after white space; a comment there (RFC 5322
        # CFWS, which get_angle_addr also skips) takes the slow path.
        rest = "" if match is None else arg[match.end() :].lstrip(" \t")
        if match is None or rest.startswith("("):
            return super()._getaddr(arg)
        if self.local_part_limit and len(match.group(1)) > self.local_part_limit:
            return None, None
        return f"{match.group(1)}@{match.group(2)}", rest

    # -- DATA -----------------------------------------------------------------------

    @syntax("DATA")
    async def smtp_DATA(self, arg: str) -> None:  # noqa: N802 (aiosmtpd's command name)
        try:
            await self._data(arg)
        finally:
            self.in_flight = False
            if self.owner.draining:
                # The reply to this message has been written; the session ends.
                self.close_now()
            elif self.transport is not None and not self.transport.is_closing():
                # The idle timer was paused while the message was processed;
                # it runs again from the reply, or a client that goes quiet
                # after a message would hold its session (and a place under
                # max_sessions) for ever.
                self._reset_timeout()

    async def _data(self, arg: str) -> None:
        # The checks and replies of aiosmtpd's smtp_DATA, in its order.
        if await self.check_helo_needed():
            return
        if await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        content, problem = await self._read_content()
        if problem is not None:
            # RFC 5321 §4.2.5: the reply comes after the whole content was read.
            await self.push(problem)
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            return
        self.envelope.content = self.envelope.original_content = content
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()  # type: ignore[no-untyped-call]
        await self.push("250 OK" if status is MISSING else status)

    async def _read_content(self) -> tuple[bytes, str | None]:
        """The content up to the line holding a lone dot, unstuffed; or the error reply."""
        reader = self._reader
        size_limit = self.data_size_limit
        # The CRLF that ended the DATA line starts the buffer: the content
        # ends at the first CRLF "." CRLF (RFC 5321 §4.1.1.4), which may be
        # at the very start (an empty message).
        buffer = bytearray(b"\r\n")
        searched = 0
        dropped = 0  # content bytes thrown away once over the size limit
        while True:
            chunk = await reader.read(_CHUNK)
            if not chunk:
                raise ConnectionResetError("connection closed during DATA")
            # RFC 5321 §4.5.3.2.5: the idle timeout runs per block, not per message.
            self._reset_timeout()
            buffer += chunk
            end = buffer.find(_END, searched)
            if end >= 0:
                break
            searched = max(0, len(buffer) - len(_END) + 1)
            # The buffer holds the 2 octets put first, the content so far
            # and perhaps ".\r" of an end-of-data line not yet complete:
            # those may not count, or whether a message of exactly the
            # limit is taken would depend on how TCP split its end.
            if size_limit and dropped + len(buffer) - 4 > size_limit:
                # Too big: keep reading to the end, without keeping the content
                # (only the tail where the end-of-data line may begin).
                keep = len(_END) - 1
                dropped += len(buffer) - keep
                del buffer[: len(buffer) - keep]
                searched = 0
        rest = bytes(buffer[end + len(_END) :])
        if rest and not reader.at_eof():
            # Commands pipelined after the final dot (RFC 2920 §3.1): the
            # reader had given us all it held, so they go back in order.
            reader.feed_data(rest)
        if dropped or (size_limit and end > size_limit):
            return b"", "552 Error: Too much mail data"
        raw = bytes(buffer[: end + 2])
        # RFC 5321 §4.5.3.1.6: lines with their CRLF (a stuffed dot counted).
        if max(map(len, raw.split(b"\r\n"))) + 2 > self.line_length_limit:
            return b"", "500 Line too long (see RFC5321 4.5.3.1.6)"
        # RFC 5321 §4.5.2: the first dot of every line that has one goes.
        if b"\r\n." in raw:
            raw = raw.replace(b"\r\n.", b"\r\n")
        return raw[2:], None
