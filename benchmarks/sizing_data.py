"""Deterministic generated mailboxes with known answers (issue 7 tests and benchmarks).

``generate_messages`` draws messages from a seed: received times skewed to
the recent past (more mail lately, working hours), lognormal body sizes
(median ~4 KiB), and a share of messages with base64 attachments of
lognormal size (median ~150 KiB).  Writers lay the same messages out as a
Maildir++ (``S=`` sizes and time-prefixed names, mtime = received), an
mbox (one file, or a folder of mbox files per folder) or a folder tree of
``.eml`` files.  :func:`expected_windows` computes the answer from the
generated values directly (for each window, every message at or after its
start), independently of the scanners under test.
"""

from __future__ import annotations

import base64
import math
import os
import random
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "WINDOW_DAYS",
    "GeneratedMessage",
    "cache_dir",
    "expected_windows",
    "generate_messages",
    "write_eml",
    "write_maildir",
    "write_mbox",
    "write_mbox_tree",
]

# Contract §6 F windows and their lengths in days (1m: the month setting).
WINDOW_DAYS: tuple[tuple[str, int | None], ...] = (
    ("1d", 1), ("3d", 3), ("1w", 7), ("2w", 14), ("1m", 31), ("all", None),
)  # fmt: skip
DEFAULT_FOLDERS: tuple[tuple[str, float], ...] = (
    ("INBOX", 0.6), ("Sent", 0.2), ("Archive", 0.15), ("Trash", 0.05),
)  # fmt: skip
_WORDS = (
    "the meeting report budget quarter figures review project draft please see attached "
    "thanks regards team update schedule client contract invoice approval deadline agenda "
    "minutes notes office travel policy security access server network release plan"
).split()
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class GeneratedMessage:
    """One generated message and the facts the tests check against."""

    folder: str
    received: int  # epoch seconds (delivery time)
    data: bytes  # the message as delivered (LF line ends)
    attachment: int  # decoded attachment bytes

    @property
    def size(self) -> int:
        return len(self.data)


def cache_dir() -> Path:
    """Where generated benchmark data lives: ``$MAILCORE_BENCH_CACHE`` or ``.cache/sizing``."""
    configured = os.environ.get("MAILCORE_BENCH_CACHE")
    root = Path(configured) if configured else Path(__file__).resolve().parent.parent / ".cache"
    path = root / "sizing"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _rfc5322_date(epoch: int) -> str:
    tm = time.gmtime(epoch)
    return (
        f"{_WEEKDAYS[tm.tm_wday]}, {tm.tm_mday:02d} {_MONTHS[tm.tm_mon - 1]} {tm.tm_year} "
        f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} +0000"
    )


def asctime(epoch: int) -> str:
    """``Www Mmm dd hh:mm:ss yyyy`` (C asctime, UTC), as in mbox ``From`` lines."""
    tm = time.gmtime(epoch)
    return (
        f"{_WEEKDAYS[tm.tm_wday]} {_MONTHS[tm.tm_mon - 1]} {tm.tm_mday:2d} "
        f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} {tm.tm_year}"
    )


class _Text:
    """A long deterministic text to cut bodies from (fast for a million messages)."""

    def __init__(self, rng: random.Random) -> None:
        lines = []
        for _ in range(4000):
            words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 12))]
            lines.append(" ".join(words).capitalize() + ".")
        self.text = ("\n".join(lines) + "\n").encode("ascii")

    def cut(self, rng: random.Random, size: int) -> bytes:
        out = bytearray()
        while len(out) < size:
            start = rng.randrange(0, len(self.text) - 1)
            start = self.text.find(b"\n", start) + 1
            out += self.text[start : start + min(size - len(out), len(self.text) - start)]
        if not out.endswith(b"\n"):
            out += b"\n"
        return bytes(out)


def generate_messages(
    count: int,
    *,
    seed: int,
    now: int,
    folders: Sequence[tuple[str, float]] = DEFAULT_FOLDERS,
    span_days: int = 730,
    attachment_share: float = 0.12,
    compact: bool = False,
    tricky_from: bool = False,
) -> Iterator[GeneratedMessage]:
    """``count`` messages, the same for the same arguments.

    ``compact`` draws small messages (median ~300 bytes, no attachments) for
    the million-message benchmark.  ``tricky_from`` puts unquoted ``From``
    lines in some bodies (after a text line, and after an empty line but
    without a date), which an mbox splitter must not take for separators.
    """
    rng = random.Random(seed)
    text = _Text(rng)
    random_bytes = rng.randbytes(1 << 20)
    names = [name for name, _ in folders]
    weights = [weight for _, weight in folders]
    for number in range(count):
        folder = rng.choices(names, weights)[0]
        # More mail recently: age = span x u^2; then within working hours.
        age = span_days * 86_400 * rng.random() ** 2
        received = int(now - age)
        if not compact:
            hour = 8 + int(rng.random() * 10)
            received -= received % 86_400
            received += hour * 3600 + rng.randrange(3600)
            if received > now:
                received -= 86_400
        median, sigma = (300, 0.4) if compact else (4096, 1.0)
        body_size = int(min(200_000, max(40, rng.lognormvariate(math.log(median), sigma))))
        headers = [
            f"Return-Path: <sender{number % 97}@example.com>",
            f"Received: from mx.example.com by mail.example.org; {_rfc5322_date(received)}",
            f"Date: {_rfc5322_date(received - rng.randrange(1, 120))}",
            f"From: Sender {number % 97} <sender{number % 97}@example.com>",
            "To: user@example.org",
            f"Subject: {' '.join(rng.choice(_WORDS) for _ in range(4))} #{number}",
            f"Message-ID: <{seed}.{number}@generated.example.com>",
            "MIME-Version: 1.0",
        ]
        body = text.cut(rng, body_size)
        if tricky_from and rng.random() < 0.05:
            body += b"From the desk of the director, see below.\n\n"
            body += b"From time to time we review this.\nThanks\n"
        attachment = 0
        if not compact and rng.random() < attachment_share:
            attachment = int(min(10_000_000, rng.lognormvariate(math.log(150_000), 1.2)))
            offset = rng.randrange(0, len(random_bytes))
            blob = (random_bytes[offset:] + random_bytes) * (attachment // len(random_bytes) + 1)
            encoded = base64.encodebytes(blob[:attachment])
            boundary = f"=_gen_{seed}_{number}"
            headers.append(f'Content-Type: multipart/mixed; boundary="{boundary}"')
            data = (
                "\n".join(headers).encode("ascii")
                + b"\n\nThis is a multi-part message in MIME format.\n"
                + f"--{boundary}\n".encode()
                + b"Content-Type: text/plain; charset=us-ascii\n\n"
                + body
                + f"--{boundary}\n".encode()
                + f'Content-Type: application/pdf; name="report-{number}.pdf"\n'.encode()
                + b"Content-Transfer-Encoding: base64\n"
                + f'Content-Disposition: attachment; filename="report-{number}.pdf"\n\n'.encode()
                + encoded
                + f"--{boundary}--\n".encode()
            )
        else:
            headers.append("Content-Type: text/plain; charset=us-ascii")
            data = "\n".join(headers).encode("ascii") + b"\n\n" + body
        yield GeneratedMessage(folder, received, data, attachment)


def expected_windows(
    messages: Iterable[GeneratedMessage],
    now: float,
    *,
    month_days: int = 31,
    folder: str | None = None,
) -> dict[str, tuple[int, int, int]]:
    """``{window: (messages, bytes, attachment bytes)}`` straight from the definition."""
    chosen = [m for m in messages if folder is None or m.folder == folder]
    out = {}
    for label, days in WINDOW_DAYS:
        if days is None:
            inside = chosen
        else:
            start = now - (month_days if label == "1m" else days) * 86_400
            inside = [m for m in chosen if m.received >= start]
        out[label] = (
            len(inside),
            sum(m.size for m in inside),
            sum(m.attachment for m in inside),
        )
    return out


def _write(path: str, data: bytes, mtime: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.utime(path, (mtime, mtime))


def write_maildir(
    root: str | os.PathLike[str], messages: Iterable[GeneratedMessage], *, sizes: bool = True
) -> Path:
    """A Maildir++: INBOX at the root, ``.Folder`` subfolders; a tenth of each in ``new/``."""
    base = Path(root)
    made: set[str] = set()
    for number, message in enumerate(messages):
        folder = base if message.folder == "INBOX" else base / ("." + message.folder)
        if message.folder not in made:
            for sub in ("cur", "new", "tmp"):
                (folder / sub).mkdir(parents=True, exist_ok=True)
            if message.folder != "INBOX":
                (folder / "maildirfolder").touch()
            made.add(message.folder)
        size = f",S={message.size}" if sizes else ""
        unique = f"{message.received}.M{number}P{os.getpid() % 1000}.gen{size}"
        if number % 10 == 0:
            path = folder / "new" / unique
        else:
            path = folder / "cur" / f"{unique}:2,S"
        _write(str(path), message.data, message.received)
    for sub in ("cur", "new", "tmp"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    return base


def _mbox_bytes(message: GeneratedMessage) -> bytes:
    # mboxrd quoting (RFC 4155 §2 notes): ">From " for body lines that begin "From ".
    lines = message.data.split(b"\n")
    body_start = lines.index(b"") if b"" in lines else len(lines)
    quoted = [
        b">" + line if index > body_start and line.startswith((b"From ", b">From ")) else line
        for index, line in enumerate(lines)
    ]
    return b"\n".join(quoted)


def write_mbox(
    path: str | os.PathLike[str],
    messages: Iterable[GeneratedMessage],
    *,
    quote: bool = False,
) -> Path:
    """One mbox file: ``From`` line, message, empty line.  ``quote``: mboxrd ``>From``.

    Without ``quote`` bodies are written as they are (mboxo-style), which
    keeps message sizes equal to the generated ones.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        for message in messages:
            data = _mbox_bytes(message) if quote else message.data
            handle.write(f"From sender@example.com {asctime(message.received)}\n".encode())
            handle.write(data)
            handle.write(b"\n")
    return target


def write_mbox_tree(root: str | os.PathLike[str], messages: Iterable[GeneratedMessage]) -> Path:
    """A folder of mbox files, one per folder (``INBOX``, ``Sent``, ...)."""
    base = Path(root)
    base.mkdir(parents=True, exist_ok=True)
    by_folder: dict[str, list[GeneratedMessage]] = {}
    for message in messages:
        by_folder.setdefault(message.folder, []).append(message)
    for folder, items in by_folder.items():
        write_mbox(base / folder, items)
    return base


def write_eml(root: str | os.PathLike[str], messages: Iterable[GeneratedMessage]) -> Path:
    """A folder tree of ``.eml`` files: INBOX messages at the root, others in subfolders."""
    base = Path(root)
    base.mkdir(parents=True, exist_ok=True)
    for number, message in enumerate(messages):
        folder = base if message.folder == "INBOX" else base / message.folder
        folder.mkdir(parents=True, exist_ok=True)
        _write(str(folder / f"{number:07d}.eml"), message.data, message.received)
    return base
