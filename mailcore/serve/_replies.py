"""SMTP replies for each outcome: the code decides whether the MTA keeps the message.

RFC 5321 §4.2.1: a 2yz reply to the final dot is acceptance (the client may
delete its copy), 4yz is a temporary failure (the client keeps the message
and retries), 5yz a permanent one (the client bounces it to the sender).
The second number follows RFC 3463's enhanced status codes (RFC 2034).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from mailcore.errors import (
    DirectoryUnavailable,
    KeyLoadError,
    MailcoreError,
    MalformedInput,
    PolicyError,
    ServiceUnavailable,
)

__all__ = ["Reply", "clean_text", "reply_for_error"]

Decision = Literal["accepted", "deferred", "rejected"]
# RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets with its CRLF.
_MAX_TEXT = 400
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]+")


def clean_text(text: str) -> str:
    """One line of printable ASCII, at most 400 characters.

    Reply text goes back on the wire: a CR or LF in it would forge a reply
    line (RFC 5321 §4.2: a reply ends at CRLF), so they become spaces.
    """
    line = " ".join(_UNPRINTABLE.sub(" ", text).split())
    return line if len(line) <= _MAX_TEXT else line[: _MAX_TEXT - 3] + "..."


@dataclass(frozen=True, slots=True)
class Reply:
    """One SMTP reply: ``code`` (RFC 5321), ``status`` (RFC 3463) and text."""

    code: int
    status: str
    text: str

    @property
    def decision(self) -> Decision:
        """What the reply means for the message: accepted, deferred or rejected."""
        if self.code < 400:
            return "accepted"
        return "deferred" if self.code < 500 else "rejected"

    def __str__(self) -> str:
        return f"{self.code} {self.status} {clean_text(self.text)}"


def reply_for_error(error: BaseException) -> Reply:
    """The reply for a message the pipeline did not process.

    Temporary (451) when retrying may work: a server the pipeline needs is
    down, the filter is misconfigured (no mail should bounce for an
    administrator's mistake), or an unexpected error.  Permanent when the
    message itself is the problem: 554 5.6.0 for a message that cannot be
    read (retrying the same bytes cannot help), 550 5.7.1 for a policy
    refusal (encryption required but impossible, no signing key, marking
    check failed).
    """
    if isinstance(error, DirectoryUnavailable):
        # RFC 3463 X.4.3: directory server failure.
        # The reply goes back on the wire and into bounces: no server names
        # or internal detail (those are in the log), just what happened.
        return Reply(451, "4.4.3", "Certificate directory unavailable, try again later")
    if isinstance(error, ServiceUnavailable):
        return Reply(451, "4.4.3", "A service the filter needs is unavailable, try again later")
    if isinstance(error, TimeoutError):  # before OSError, its base class
        return Reply(451, "4.3.0", "Processing took too long, try again later")
    if isinstance(error, PolicyError | KeyLoadError | OSError):
        # RFC 3463 X.3.5: system incorrectly configured (a policy, key store
        # or file the filter cannot use): the message is fine, keep it.
        return Reply(451, "4.3.5", "Filter configuration error, try again later")
    if isinstance(error, MalformedInput):
        # The parser's text can quote the message's own bytes: only its kind.
        return Reply(554, "5.6.0", f"Malformed message, not accepted ({type(error).__name__})")
    if isinstance(error, MailcoreError):
        return Reply(550, "5.7.1", f"Message refused by policy: {error}")
    return Reply(451, "4.3.0", "Internal error in the filter, try again later")
