"""One message through the pipeline, and the worker process that does it.

:func:`process_one` is the whole of a worker's job: it runs the outbound or
inbound pipeline and turns every outcome into plain data (the processed
bytes, or the reply for a refusal or failure), so that nothing but bytes,
strings and numbers crosses a process boundary.

``python -m mailcore.serve._worker`` is the worker process that
:class:`~mailcore.serve._pool.WorkerPool` starts: it reads the policy,
builds its own :class:`~mailcore.pipeline.Pipeline` (so the key store, the
trust anchors and any LDAP connection belong to this process alone) and
then answers one request after another on its standard input and output.
Each frame is a 4-byte big-endian length and a pickle; both ends are this
module, so no foreign pickle is ever read.  The worker ends at the end of
its input (the filter closed it, or died).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import sys
import time
from collections.abc import Sequence
from typing import IO, Any, NamedTuple

from mailcore._message import RawMessage
from mailcore.errors import MailcoreError, MessageRefused
from mailcore.pipeline import Pipeline
from mailcore.policy import Policy
from mailcore.serve._direction import Direction
from mailcore.serve._log import message_id_of
from mailcore.serve._relay import Prepared, prepare
from mailcore.serve._replies import Reply, reply_for_error

__all__ = ["HEADER", "Processed", "main", "process_one"]

HEADER = struct.Struct(">I")
"""Frame header: the length of the pickle that follows."""


class Processed(NamedTuple):
    """What the pipeline made of one message.

    ``message`` is the result made ready to relay, or ``None`` when ``refusal`` holds
    the reply instead (a policy refusal, a malformed message, a directory
    that is down); ``error`` is then the error's class name.  ``summary``
    is the report's ``signed``/``encrypted``/``encryption``/``warnings``
    for the log; ``started``/``ended`` are ``time.monotonic()`` readings
    (one clock for every process of the machine).
    """

    message: Prepared | None
    refusal: tuple[int, str, str] | None
    error: str | None
    summary: dict[str, Any] | None
    message_id: str | None
    started: float
    ended: float

    @property
    def reply(self) -> Reply | None:
        """The refusal as a :class:`Reply`."""
        return None if self.refusal is None else Reply(*self.refusal)


def process_one(
    pipeline: Pipeline,
    direction: Direction,
    sender: str,
    recipients: Sequence[str],
    data: bytes,
) -> Processed:
    """Run ``pipeline`` on one message; every error becomes its reply."""
    started = time.monotonic()
    message_id = _message_id(data)
    try:
        if direction == "outbound":
            result = pipeline.outbound(data, sender=sender or None, recipients=list(recipients))
        else:
            result = pipeline.inbound(data)
    except Exception as error:  # every error has its reply (reply_for_error)
        summary = None
        if isinstance(error, MessageRefused) and error.report is not None:
            to_dict = getattr(error.report, "to_dict", None)
            summary = summary_of(to_dict()) if callable(to_dict) else None
        reply = reply_for_error(error)
        return Processed(
            None,
            (reply.code, reply.status, reply.text),
            _error_name(error),
            summary,
            message_id,
            started,
            time.monotonic(),
        )
    summary = summary_of(result.report.to_dict())
    prepared = prepare(result.message)
    return Processed(prepared, None, None, summary, message_id, started, time.monotonic())


def summary_of(report: dict[str, Any]) -> dict[str, Any]:
    """The log's ``pipeline`` field: decisions only, no addresses or content."""
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


# -- the worker process --------------------------------------------------------------


def read_frame(stream: IO[bytes]) -> Any | None:
    """The next frame's object, or ``None`` at the end of the stream."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    (size,) = HEADER.unpack(header)
    payload = stream.read(size)
    if len(payload) < size:
        return None
    return pickle.loads(payload)


def frame(value: Any) -> bytes:
    """``value`` as one frame."""
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return HEADER.pack(len(payload)) + payload


def main() -> int:
    """Serve requests on stdin/stdout until stdin ends; the exit status."""
    # The requests and results keep their own descriptors; 0 and 1 go to
    # /dev/null so that nothing printed by a library can corrupt a frame.
    requests = os.fdopen(os.dup(0), "rb")
    results = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    os.close(null)
    # The filter decides when its workers stop (by closing their input):
    # a SIGTERM or Ctrl-C sent to the whole process group must not cut the
    # messages in flight short while the filter drains.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    policy = read_frame(requests)
    if not isinstance(policy, Policy):
        return 2
    try:
        pipeline = Pipeline(policy)
    except Exception as error:  # reported to the filter, which refuses to start
        results.write(frame(("failed", type(error).__name__, str(error))))
        results.flush()
        return 1
    results.write(frame(("ready", os.getpid())))
    results.flush()
    try:
        while (request := read_frame(requests)) is not None:
            number, direction, sender, recipients, data = request
            processed = process_one(pipeline, direction, sender, recipients, data)
            # A plain tuple: the class is named differently in ``__main__``.
            results.write(frame((number, tuple(processed))))
            results.flush()
    except BrokenPipeError:
        return 0  # the filter is gone: nobody wants the result
    finally:
        pipeline.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
