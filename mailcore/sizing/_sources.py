"""What kind of mailbox a path is, and scanning one into per-folder tallies."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from mailcore.errors import MailboxError
from mailcore.sizing._eml import eml_folders, has_eml, scan_eml_folder
from mailcore.sizing._imap import ImapMailbox, parse_imap_url, scan_imap
from mailcore.sizing._maildir import is_maildir, maildir_folders, scan_maildir_folder
from mailcore.sizing._mbox import is_mbox_file, scan_mbox
from mailcore.sizing._tally import ScanOptions, Tally

__all__ = ["MailboxSource", "detect_layout", "find_mailboxes", "scan_source", "source_name"]

MailboxSource = str | os.PathLike[str] | ImapMailbox
Tick = Callable[[int], None]


def source_name(source: MailboxSource) -> str:
    """The path or URL shown in reports."""
    return str(source) if isinstance(source, ImapMailbox) else os.fspath(source)


def _mbox_files(directory: str) -> list[str]:
    found = []
    for base, subdirs, files in os.walk(directory):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        for name in sorted(files):
            path = os.path.join(base, name)
            if not name.startswith(".") and os.path.getsize(path) > 0 and is_mbox_file(path):
                found.append(path)
    return found


def detect_layout(source: MailboxSource) -> str:
    """The layout: ``maildir``, ``mbox``, ``mbox-tree`` (folder of mbox files), ``eml``, ``imap``.

    Raises :class:`MailboxError` for anything else.
    """
    if isinstance(source, ImapMailbox) or os.fspath(source).startswith("imaps://"):
        return "imap"
    path = os.fspath(source)
    if not os.path.exists(path):
        raise MailboxError("no such file or folder", where=path)
    if os.path.isfile(path):
        if is_mbox_file(path):
            return "mbox"
        raise MailboxError("not a mailbox: a file that does not start with 'From '", where=path)
    if not os.access(path, os.R_OK | os.X_OK):
        raise MailboxError("cannot be read (permission denied)", where=path)
    if is_maildir(path):
        return "maildir"
    if has_eml(path):
        return "eml"
    if _mbox_files(path):
        return "mbox-tree"
    raise MailboxError(
        "not a mailbox: no Maildir cur/, no .eml files and no mbox files", where=path
    )


def find_mailboxes(folder: str | os.PathLike[str]) -> list[str]:
    """The mailboxes directly inside ``folder`` (a folder of mailboxes), sorted.

    Every entry that is a Maildir, an mbox file or an EML tree counts;
    hidden entries are skipped.
    """
    root = os.fspath(folder)
    if not os.path.isdir(root):
        raise MailboxError("not a folder of mailboxes", where=root)
    found = []
    for name in sorted(os.listdir(root)):
        if name.startswith("."):
            continue
        path = os.path.join(root, name)
        try:
            detect_layout(path)
        except MailboxError:
            continue
        found.append(path)
    return found


def read_list_file(path: str | os.PathLike[str]) -> list[str]:
    """Mailbox paths from a list file: one per line, ``#`` comments and blank lines skipped."""
    try:
        text = Path(path).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MailboxError(f"list file cannot be read: {error}", where=os.fspath(path)) from None
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def scan_source(
    source: MailboxSource, options: ScanOptions, tick: Tick | None = None
) -> tuple[str, list[tuple[str, Tally]]]:
    """(layout, [(folder name, tally)]) for one mailbox."""
    layout = detect_layout(source)
    where = source_name(source)
    if layout == "imap":
        account = source if isinstance(source, ImapMailbox) else parse_imap_url(where)
        return layout, scan_imap(account, options, lambda name: Tally(options, name), tick)
    results: list[tuple[str, Tally]] = []
    if layout == "mbox":
        tally = Tally(options, where)
        scan_mbox(where, options, tally, tick)
        results.append(("INBOX", tally))
    elif layout == "mbox-tree":
        for path in _mbox_files(where):
            tally = Tally(options, path)
            scan_mbox(path, options, tally, tick)
            results.append((os.path.relpath(path, where).replace(os.sep, "/"), tally))
    elif layout == "maildir":
        for name, path in maildir_folders(where):
            tally = Tally(options, path)
            scan_maildir_folder(path, options, tally, tick)
            results.append((name, tally))
    else:
        for name, path in eml_folders(where):
            tally = Tally(options, path)
            scan_eml_folder(path, options, tally, tick)
            results.append((name, tally))
    return layout, results
