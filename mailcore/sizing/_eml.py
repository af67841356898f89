"""A folder tree of ``.eml`` files: each directory is a folder, each file a message.

The received time is the newest date of the ``Received:`` fields (RFC 5322
§3.6.7: the date after the last ``;``), else ``Date:``; the size is the
file's size on disk.  Files without the ``.eml`` extension are not messages.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from mailcore.sizing._dates import rfc5322_time
from mailcore.sizing._files import read_head
from mailcore.sizing._mime import field_values, looks_like_mail
from mailcore.sizing._tally import ScanOptions, Tally

__all__ = ["eml_folders", "has_eml", "received_time", "scan_eml_folder"]


def has_eml(root: str) -> bool:
    """Is there an ``.eml`` file anywhere under ``root``?"""
    for _, _, files in os.walk(root):
        if any(name.lower().endswith(".eml") for name in files):
            return True
    return False


def eml_folders(root: str) -> list[tuple[str, str]]:
    """(folder name, directory) for the root (INBOX) and every subdirectory with messages."""
    folders = [("INBOX", root)]
    for directory, subdirs, files in os.walk(root):
        subdirs.sort()
        if directory == root:
            continue
        if any(name.lower().endswith(".eml") for name in files):
            folders.append((os.path.relpath(directory, root).replace(os.sep, "/"), directory))
    return folders


def received_time(block: bytes) -> float | None:
    """The newest ``Received:`` date, else the ``Date:``; None if neither parses."""
    newest = None
    for value in field_values(block, b"received"):
        _, semicolon, date = value.rpartition(b";")
        if semicolon:
            moment = rfc5322_time(date)
            if moment is not None and (newest is None or moment > newest):
                newest = moment
    if newest is not None:
        return newest
    for value in field_values(block, b"date"):
        moment = rfc5322_time(value)
        if moment is not None:
            return moment
    return None


def scan_eml_folder(
    directory: str, options: ScanOptions, tally: Tally, tick: Callable[[int], None] | None = None
) -> None:
    """Add the ``.eml`` files directly in ``directory`` to ``tally``."""
    try:
        names = sorted(n for n in os.listdir(directory) if n.lower().endswith(".eml"))
    except OSError as error:
        tally.note("unreadable", f"{directory}: {error.strerror}")
        return
    for number, name in enumerate(names, start=1):
        if tick is not None and not number % 4096:
            tick(4096)
        path = os.path.join(directory, name)
        try:
            head, attachment = read_head(path, attachments=options.attachments)
        except IsADirectoryError:
            continue
        except OSError as error:
            tally.note("unreadable", f"{path}: {error.strerror}")
            continue
        block = head.block
        if block.startswith(b"From "):
            block = block.split(b"\n", 1)[-1]  # an mbox envelope line left on top
        if not looks_like_mail(block):
            tally.note("not_mail", path)
            continue
        received = received_time(block)
        if received is None:
            tally.note("bad_date", path)
        tally.add(received, head.size, attachment)
    if tick is not None:
        tick(len(names) % 4096)
