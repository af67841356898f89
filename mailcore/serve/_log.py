"""One JSON line per message: what happened, never what the message says.

The record holds envelope data (addresses, size), the Message-ID (to find
duplicates across hops), the direction, the pipeline's decisions (signed,
encrypted, encryption decision), the next hop's result, our reply code and
timings.  It never holds a header value other than the Message-ID, a body
byte, a key or a certificate, and error texts are replaced by the error's
class name (a parser's message may quote the input).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

from mailcore.serve._replies import clean_text

__all__ = ["MessageLog", "MessageRecord", "message_id_of"]


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """The log record of one message (one DATA transaction)."""

    id: str
    peer: str
    sender: str
    recipients: tuple[str, ...]
    size: int
    message_id: str | None
    direction: str | None
    decision: str
    """``accepted``, ``deferred`` or ``rejected``: what our reply told the client."""
    reply: str
    """Our reply's code and enhanced status, e.g. ``250 2.0.0``."""
    error: str | None = None
    """The class name of the error that decided the reply, if any."""
    pipeline: dict[str, Any] | None = None
    """``signed``, ``encrypted`` and ``encryption`` (the decision) of JSON D."""
    relay: dict[str, Any] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    """Milliseconds: ``queue`` (waiting for a worker), ``process``, ``relay``, ``total``."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": "message",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "id": self.id,
            "peer": self.peer,
            "sender": self.sender,
            "recipients": list(self.recipients),
            "size": self.size,
            "message_id": self.message_id,
            "direction": self.direction,
            "decision": self.decision,
            "reply": self.reply,
            "error": self.error,
            "pipeline": self.pipeline,
            "relay": self.relay,
            "timings": self.timings,
        }


class MessageLog:
    """Writes records as JSON lines to a text stream (one write per line, locked)."""

    def __init__(self, stream: TextIO | None) -> None:
        self.stream = stream
        self._lock = threading.Lock()

    def event(self, event: str, **fields: Any) -> None:
        """A non-message line (``listening``, ``stopping``, ``stopped``)."""
        self.write({"event": event, "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    **fields})  # fmt: skip

    def write(self, record: dict[str, Any]) -> None:
        if self.stream is None:
            return
        line = json.dumps(record, ensure_ascii=True, separators=(",", ":")) + "\n"
        with self._lock:
            try:
                self.stream.write(line)
                self.stream.flush()
            except (OSError, ValueError):
                pass  # a closed log must not stop the mail


def message_id_of(header_value: str | None) -> str | None:
    """The Message-ID for the log: one line, at most 200 characters."""
    if header_value is None:
        return None
    return clean_text(header_value)[:200] or None
