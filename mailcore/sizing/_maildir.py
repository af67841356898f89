"""Maildir and Maildir++ mailboxes, sized from file names where possible.

Maildir (https://cr.yp.to/proto/maildir.html): delivered messages are the
files in ``new/`` and ``cur/`` (``tmp/`` holds deliveries in progress);
names starting with a dot are not messages.  By convention a name starts
with the delivery time in seconds (``1732190000.M1P2.host``), and
Maildir++ (Courier, Dovecot) adds ``,S=<bytes>`` (and Dovecot ``,W=``)
before the ``:2,`` flags.  Maildir++ subfolders are the ``.Name``
directories of the root (``.Sent``, ``.Archive.2024``); the root is INBOX.

With a time prefix and ``S=`` a message costs no system call: the fast path
reads only directory entries.  Otherwise the file is ``stat``-ed (and, when
its name does not follow the convention, its first bytes are checked to be
a message).  Sizing attachments reads each header block, and the whole
file only for messages that may have attachments.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

from mailcore.sizing._files import read_head
from mailcore.sizing._mime import looks_like_mail
from mailcore.sizing._tally import ScanOptions, Tally

__all__ = ["is_maildir", "maildir_folders", "scan_maildir_folder"]

_TICK = 16384


def is_maildir(path: str) -> bool:
    """A directory with ``cur/`` is a Maildir."""
    return os.path.isdir(os.path.join(path, "cur"))


def maildir_folders(root: str) -> list[tuple[str, str]]:
    """(folder name, folder path): INBOX and the Maildir++ ``.Name`` subfolders."""
    folders = [("INBOX", root)]
    try:
        entries = sorted(os.listdir(root))
    except OSError:
        return folders
    for name in entries:
        if name.startswith(".") and name not in (".", ".."):
            path = os.path.join(root, name)
            if os.path.isdir(os.path.join(path, "cur")):
                folders.append((name[1:], path))
    return folders


def _name_fields(name: str) -> tuple[int | None, int | None]:
    """(time prefix, S= size) of a Maildir name; None where absent."""
    dot = name.find(".")
    stamp = name[:dot] if dot > 0 else ""
    received = int(stamp) if stamp.isdigit() and len(stamp) <= 12 else None
    size = None
    base = name.split(":", 1)[0]
    marker = base.find(",S=")
    if marker != -1:
        value = base[marker + 3 :].split(",", 1)[0]
        if value.isdigit():
            size = int(value)
    return received, size


def _entries(directory: str, tally: Tally) -> Iterator[str]:
    try:
        with os.scandir(directory) as it:
            for entry in it:
                yield entry.name
    except FileNotFoundError:
        return  # a Maildir may lack new/ until the first delivery
    except OSError as error:
        tally.note("unreadable", f"{directory}: {error.strerror}")


def scan_maildir_folder(
    path: str, options: ScanOptions, tally: Tally, tick: Callable[[int], None] | None = None
) -> None:
    """Add the messages of one Maildir folder (``new/`` and ``cur/``) to ``tally``."""
    for sub in ("new", "cur"):
        directory = os.path.join(path, sub)
        if options.attachments:
            _scan_heads(directory, options, tally, tick)
        else:
            _scan_names(directory, options, tally, tick)


# "<digits>.<unique>[,key=value...],S=<digits>[,...][:2,flags]", one name a line.
_FAST_NAMES = re.compile(r"^(\d+)\.[^\n,:]*(?:,[^S\n][^,:\n]*)*,S=(\d+)(?=[,:\n]|$)", re.M)
_CHUNK = 4096


def _chunks(names: Iterator[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    for name in names:
        chunk.append(name)
        if len(chunk) == _CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _scan_names(
    directory: str, options: ScanOptions, tally: Tally, tick: Callable[[int], None] | None
) -> None:
    c0, c1, c2, c3, c4 = tally.starts
    counts, sizes = tally.counts, tally.sizes
    use_mtime = options.maildir_time == "mtime"
    n0 = n1 = n2 = n3 = n4 = n5 = 0
    b0 = b1 = b2 = b3 = b4 = b5 = 0
    slow: list[str] = []
    # Names are matched a chunk at a time (one regex pass over the joined
    # names, in C), which keeps memory flat and costs well under 1 us a name.
    for chunk in _chunks(_entries(directory, tally)):
        if tick is not None:
            tick(len(chunk))
        joined = "\n".join(chunk)
        matches = [] if use_mtime else _FAST_NAMES.findall(joined)
        if len(matches) != len(chunk) or joined.count("\n") != len(chunk) - 1:
            # Some names need the slow path (or one holds a newline): one by one.
            matches = []
            for name in chunk:
                found = None if use_mtime or "\n" in name else _FAST_NAMES.match(name)
                if found is None:
                    slow.append(name)
                else:
                    matches.append((found[1], found[2]))
        for stamp, value in matches:
            received = int(stamp)
            size = int(value)
            if received < c4:
                n5 += 1
                b5 += size
            elif received >= c0:
                n0 += 1
                b0 += size
            elif received >= c1:
                n1 += 1
                b1 += size
            elif received >= c2:
                n2 += 1
                b2 += size
            elif received >= c3:
                n3 += 1
                b3 += size
            else:
                n4 += 1
                b4 += size
    for index, (n, b) in enumerate(((n0, b0), (n1, b1), (n2, b2), (n3, b3), (n4, b4), (n5, b5))):
        counts[index] += n
        sizes[index] += b
    for name in slow:
        if not name.startswith("."):
            _slow_entry(directory, name, options, tally)


def _slow_entry(directory: str, name: str, options: ScanOptions, tally: Tally) -> None:
    """A message whose name lacks the time or size, or when mtimes are wanted."""
    path = os.path.join(directory, name)
    received, size = _name_fields(name)
    try:
        info = os.stat(path)
    except OSError as error:
        tally.note("unreadable", f"{path}: {error.strerror}")
        return
    if not os.path.isfile(path):
        return  # a directory or device in cur/ is not a message
    if received is None or size is None:
        # Not the usual naming: make sure it is mail before counting it.
        try:
            with open(path, "rb") as handle:
                head = handle.read(1024)
        except OSError as error:
            tally.note("unreadable", f"{path}: {error.strerror}")
            return
        if not looks_like_mail(head):
            tally.note("not_mail", path)
            return
    if options.maildir_time == "mtime" or received is None:
        received = int(info.st_mtime)
    if size is None:
        size = info.st_size
    tally.add(received, size)


def _scan_heads(
    directory: str, options: ScanOptions, tally: Tally, tick: Callable[[int], None] | None
) -> None:
    use_mtime = options.maildir_time == "mtime"
    seen = 0
    for name in _entries(directory, tally):
        if name.startswith("."):
            continue
        seen += 1
        if tick is not None and not seen % _TICK:
            tick(_TICK)
        path = os.path.join(directory, name)
        try:
            head, attachment = read_head(path, attachments=True)
        except IsADirectoryError:
            continue
        except OSError as error:
            tally.note("unreadable", f"{path}: {error.strerror}")
            continue
        if not looks_like_mail(head.block):
            tally.note("not_mail", path)
            continue
        received, size = _name_fields(name)
        if use_mtime or received is None:
            received = int(head.mtime)
        if size is None:
            size = head.size
        elif head.size < size:
            # Shorter on disk than delivered: the file was cut (disk full, crash).
            tally.note("truncated", path)
            size = head.size
        tally.add(received, size, attachment)
    if tick is not None:
        tick(seen % _TICK)
