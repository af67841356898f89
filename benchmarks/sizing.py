"""Sizing benchmarks (issue 7), all on generated mailboxes (benchmarks/sizing_data.py).

Rows, each against its peer in the same run on the same files (warm cache):

* mbox: ``size_mailbox`` (dates and sizes) against ``mailbox.mbox`` iteration
  reading each message's ``From`` date and size (goal 20x), and against a raw
  ``mmap`` + ``find(b"\\nFrom ")`` loop, the floor of any splitter (goal:
  within 2x, i.e. ratio >= 0.5).
* Maildir, names only: messages per second (goal 500,000/s; the row name
  gives the multiplier), peer ``os.scandir`` + ``stat`` per file.
* Maildir with headers (attachment bytes): against ``mailbox.Maildir``
  iteration reading each message's date, size and attachments (goal 5x).
* A 1,000,000-message generated mailbox, names only (goal: under 10 s,
  i.e. >= 0.1 runs/s); the row name carries tracemalloc's peak during one
  run for 1M and for 100k messages (flat memory: the same peak).
* 1,000 mailboxes (100 messages each, header blocks read for attachment
  bytes) on the default process pool and on a Dask LocalCluster (2 worker
  processes), each against the serial loop in one process.

Data lives under ``.cache/sizing`` (``$MAILCORE_BENCH_CACHE``), made on first
use; ``--quick`` uses small sets (a few seconds in all).
"""

from __future__ import annotations

import concurrent.futures as cf
import functools
import mailbox
import mmap
import os
import shutil
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._harness import Benchmark, Goal
from benchmarks.sizing_data import cache_dir, generate_messages, write_maildir, write_mbox
from mailcore.sizing import size_mailbox, size_mailboxes
from mailcore.sizing._size import _size_batch, scan_options

__all__ = ["BENCHMARKS"]

QUICK = "--quick" in sys.argv
NOW = 1_795_300_000
MBOX_MESSAGES = 100 if QUICK else 20_000
MAILDIR_MESSAGES = 2_000 if QUICK else 100_000
HEADER_MESSAGES = 100 if QUICK else 4_000
BIG_MESSAGES = 2_000 if QUICK else 1_000_000
ORG_MAILBOXES = 8 if QUICK else 1_000
ORG_MESSAGES = 20 if QUICK else 100


def _built(name: str, build: Callable[[Path], None]) -> Path:
    """A data set under the cache, built once (a marker file says it is complete)."""
    path = cache_dir() / name
    marker = path / ".complete"
    if not marker.exists():
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True)
        build(path)
        marker.touch()
    return path


@functools.cache
def _mbox() -> Path:
    def build(root: Path) -> None:
        # No unquoted "From " body lines: mailbox.mbox would split on them.
        messages = generate_messages(MBOX_MESSAGES, seed=1, now=NOW, attachment_share=0.02)
        write_mbox(root / "mbox", messages)

    return _built(f"mbox-{MBOX_MESSAGES}", build) / "mbox"


@functools.cache
def _maildir(count: int, compact: bool, name: str) -> Path:
    def build(root: Path) -> None:
        messages = generate_messages(count, seed=2, now=NOW, compact=compact)
        write_maildir(root / "Maildir", messages)

    return _built(name, build) / "Maildir"


@functools.cache
def _org() -> list[str]:
    def build(root: Path) -> None:
        for number in range(ORG_MAILBOXES):
            messages = generate_messages(ORG_MESSAGES, seed=100 + number, now=NOW, compact=True)
            write_maildir(root / f"user{number:04d}", messages)

    root = _built(f"org-{ORG_MAILBOXES}x{ORG_MESSAGES}", build)
    return sorted(str(p) for p in root.iterdir() if p.is_dir())


# -- mbox ------------------------------------------------------------------------


def _ours_mbox() -> Any:
    return size_mailbox(_mbox(), now=NOW, attachments=False)


def _stdlib_mbox() -> int:
    box = mailbox.mbox(str(_mbox()), create=False)
    total = 0
    try:
        for message in box:
            envelope = message.get_from()
            time.strptime(" ".join(envelope.split()[1:6]), "%a %b %d %H:%M:%S %Y")
            total += len(message.as_bytes())
    finally:
        box.close()
    return total


def _raw_mmap_scan() -> int:
    with (
        open(_mbox(), "rb") as handle,
        mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as m,
    ):
        count = 0
        position = m.find(b"\nFrom ")
        while position != -1:
            count += 1
            position = m.find(b"\nFrom ", position + 1)
        return count


# -- Maildir -----------------------------------------------------------------------


def _names_box() -> Path:
    return _maildir(MAILDIR_MESSAGES, True, f"maildir-names-{MAILDIR_MESSAGES}")


def _scandir_stat() -> int:
    total = 0
    root = _names_box()
    for folder in [root, *(p for p in root.iterdir() if p.name.startswith("."))]:
        for sub in ("cur", "new"):
            with os.scandir(folder / sub) as entries:
                for entry in entries:
                    info = entry.stat()
                    total += info.st_size + int(info.st_mtime > 0)
    return total


def _headers_box() -> Path:
    return _maildir(HEADER_MESSAGES, False, f"maildir-headers-{HEADER_MESSAGES}")


def _stdlib_maildir() -> int:
    box = mailbox.Maildir(str(_headers_box()), create=False)
    total = 0
    folders = [box, *(box.get_folder(name) for name in box.list_folders())]
    for folder in folders:
        for message in folder:
            message.get("Date")
            for part in message.walk():
                if part.get_filename():
                    total += len(part.get_payload(decode=True) or b"")
            total += len(message.as_bytes())
    return total


def _big_box() -> Path:
    return _maildir(BIG_MESSAGES, True, f"maildir-big-{BIG_MESSAGES}")


def _listdir_only() -> int:
    count = 0
    root = _big_box()
    for folder in [root, *(p for p in root.iterdir() if p.name.startswith("."))]:
        for sub in ("cur", "new"):
            with os.scandir(folder / sub) as entries:
                for _ in entries:
                    count += 1
    return count


def _peak(path: Path) -> float:
    """KiB allocated at the peak of one names-only run."""
    tracemalloc.start()
    try:
        size_mailbox(path, now=NOW, attachments=False)
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


def _big_name() -> str:
    if QUICK:
        return f"sizing.maildir.{BIG_MESSAGES:,}msgs.names (quick)"
    small = _maildir(100_000, True, "maildir-names-100000")
    return (
        f"sizing.maildir.1M-msgs.names (peak {_peak(_big_box()):.0f} KiB; "
        f"100k: {_peak(small):.0f} KiB)"
    )


# -- organisation ------------------------------------------------------------------


# The org rows read every header block (attachment bytes): with names only a
# warm 100k-message run is ~0.2 s, less than starting the worker processes.
def _serial_org() -> Any:
    options = scan_options(now=NOW, attachments=True)
    return _size_batch(list(enumerate(_org())), options)


def _pool_org() -> Any:
    return size_mailboxes(_org(), now=NOW, attachments=True)


class _Dask:
    """A LocalCluster with two worker processes, started on first use."""

    executor: cf.Executor | None = None
    client: Any = None

    @classmethod
    def run(cls) -> Any:
        if cls.executor is None:
            import atexit

            from distributed import Client, LocalCluster

            cluster = LocalCluster(
                n_workers=2, threads_per_worker=1, processes=not QUICK, dashboard_address=None
            )
            cls.client = Client(cluster)
            cls.executor = cls.client.get_executor(pure=False)

            def stop() -> None:
                cls.client.close()
                cluster.close()

            atexit.register(stop)
        return size_mailboxes(_org(), now=NOW, attachments=True, executor=cls.executor)


BENCHMARKS = [
    Benchmark(
        f"sizing.mbox.{MBOX_MESSAGES:,}msgs.vs-mailbox.mbox",
        "size_mailbox on an mbox (From date + size) vs mailbox.mbox iteration",
        _ours_mbox,
        "mailbox.mbox iteration (get_from + size)",
        _stdlib_mbox,
        Goal(ratio=20.0),
    ),
    Benchmark(
        f"sizing.mbox.{MBOX_MESSAGES:,}msgs.vs-raw-mmap",
        "size_mailbox on an mbox vs a bare mmap find(b'\\nFrom ') loop (within 2x)",
        _ours_mbox,
        "mmap + find(b'\\nFrom ') only",
        _raw_mmap_scan,
        Goal(ratio=0.5),
    ),
    Benchmark(
        f"sizing.maildir.names (x{MAILDIR_MESSAGES:,} = msgs/s)",
        "size_mailbox(attachments=False) on a Maildir++ with S= names",
        lambda: size_mailbox(_names_box(), now=NOW, attachments=False),
        "os.scandir + stat per file",
        _scandir_stat,
        Goal(rate=500_000 / MAILDIR_MESSAGES),
    ),
    Benchmark(
        f"sizing.maildir.headers.{HEADER_MESSAGES:,}msgs.vs-mailbox.Maildir",
        "size_mailbox with attachment bytes vs mailbox.Maildir (date, size, attachments)",
        lambda: size_mailbox(_headers_box(), now=NOW, attachments=True),
        "mailbox.Maildir iteration + walk",
        _stdlib_maildir,
        Goal(ratio=5.0),
    ),
    Benchmark(
        _big_name(),
        "one generated 1,000,000-message Maildir++, names only; goal < 10 s per run",
        lambda: size_mailbox(_big_box(), now=NOW, attachments=False),
        "os.scandir names only (no parsing)",
        _listdir_only,
        Goal(rate=0.1),
    ),
    Benchmark(
        f"sizing.org.{ORG_MAILBOXES:,}mailboxes.process-pool",
        "size_mailboxes on the default process pool vs one process",
        _pool_org,
        "serial loop",
        _serial_org,
        Goal(ratio=1.0),
    ),
    Benchmark(
        f"sizing.org.{ORG_MAILBOXES:,}mailboxes.dask-localcluster",
        "size_mailboxes on Dask (LocalCluster, 2 worker processes) vs one process",
        _Dask.run,
        "serial loop",
        _serial_org,
        Goal(ratio=1.0),
    ),
]
