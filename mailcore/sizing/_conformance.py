"""How a ``sizing`` vector case is run.

Kinds (the second part of the case id):

``mbox``
    ``input.mbox``: the text of an mbox file; ``input.now`` (ISO 8601),
    optional ``input.month_days``.
``maildir`` / ``eml``
    ``input.files``: ``{relative path: text}`` laid out in a folder
    (Maildir: ``cur/...``, ``.Sent/cur/...``; EML: ``Inbox/a.eml``).
``envelope``
    ``input.line``: an mbox ``From`` line; ``expected.time`` ISO or null.
``attachments``
    ``input.message``: a whole message; ``expected.attachment_bytes``.

For the mailbox kinds ``expected`` has ``windows`` (``{window: [messages,
bytes]}``, each optional), ``attachment_bytes`` (the ``all`` window),
``folders`` and ``bad_input`` (counts by category), each optional.
``result: invalid`` means the input is not a mailbox (MailboxError).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from mailcore._vectors import VectorCase
from mailcore.errors import MailboxError
from mailcore.policy import SyncPolicy
from mailcore.sizing._dates import envelope_time
from mailcore.sizing._mime import attachment_bytes
from mailcore.sizing._model import MailboxSizing, format_time
from mailcore.sizing._size import size_mailbox

__all__ = ["run_sizing_case"]


def _lay_out(case: VectorCase, root: Path) -> Path:
    if case.kind == "mbox":
        path = root / "mbox"
        path.write_bytes(case.text("mbox").encode("utf-8"))
        return path
    files = case.input.get("files")
    if not isinstance(files, dict):
        raise ValueError("input.files must be an object of path: text")
    base = root / "box"
    base.mkdir()
    if case.kind == "maildir":
        for sub in ("cur", "new", "tmp"):
            (base / sub).mkdir()
    for name, text in files.items():
        target = base / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(str(text).encode("utf-8"))
    return base


def _compare(expected: dict[str, Any], sizing: MailboxSizing) -> str | None:
    windows = expected.get("windows", {})
    for label, want in windows.items():
        got = sizing.window(label)
        if [got.messages, got.bytes] != want:
            return f"window {label}: got {[got.messages, got.bytes]}, expected {want}"
    if "attachment_bytes" in expected:
        got_att = sizing.window("all").attachment_bytes
        if got_att != expected["attachment_bytes"]:
            return f"attachment_bytes: got {got_att}, expected {expected['attachment_bytes']}"
    if "folders" in expected and [f.name for f in sizing.folders] != expected["folders"]:
        return f"folders: got {[f.name for f in sizing.folders]}, expected {expected['folders']}"
    for category, count in expected.get("bad_input", {}).items():
        if sizing.bad_input.counts()[category] != count:
            return f"bad_input.{category}: got {sizing.bad_input.counts()[category]}, want {count}"
    if "recommended_window" in expected and (
        sizing.recommended_window != expected["recommended_window"]
    ):
        return f"recommended_window: got {sizing.recommended_window}"
    return None


def run_sizing_case(case: VectorCase) -> str | None:
    """Run one case; None when it behaved as expected."""
    if case.kind == "envelope":
        moment = envelope_time(case.text("line").encode("latin-1"))
        got = None if moment is None else format_time(moment)
        want = case.expected.get("time")
        return None if got == want else f"time: got {got}, expected {want}"
    if case.kind == "attachments":
        count = attachment_bytes(case.text("message").encode("utf-8"))
        want = case.expected.get("attachment_bytes")
        return None if count == want else f"attachment_bytes: got {count}, expected {want}"
    if case.kind not in ("mbox", "maildir", "eml"):
        return f"unknown kind {case.kind!r}"
    policy = SyncPolicy(
        month_days=int(case.input.get("month_days", 31)),
        max_messages=int(case.input.get("max_messages", 18000)),
        max_bytes=int(case.input.get("max_bytes", 600 * 1024 * 1024)),
    )
    with tempfile.TemporaryDirectory(prefix="mailcore-vector-") as directory:
        path = _lay_out(case, Path(directory))
        try:
            sizing = size_mailbox(path, now=str(case.input["now"]), policy=policy)
        except MailboxError as error:
            if case.result == "invalid":
                return None
            return f"refused: {error}"
    if case.result == "invalid":
        return "sized, but the input is not a mailbox"
    return _compare(case.expected, sizing)
