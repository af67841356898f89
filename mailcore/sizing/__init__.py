"""Unlimited-sync sizing: what each ActiveSync sync window puts on a phone.

For each mailbox (Maildir/Maildir++, mbox, a folder tree of ``.eml``
files, or an IMAP account over TLS) and each email window — ``1d``,
``3d``, ``1w``, ``2w``, ``1m`` and ``all`` (FilterType 1-5 and 0) — the
messages, bytes and attachment bytes, whether the device limits are
crossed (more than 18,000 messages or 600 MiB by default), and the largest
window under both (the recommended one)::

    >>> from mailcore.sizing import size_mailbox, size_mailboxes
    >>> sizing = size_mailbox("/srv/mail/alice/Maildir", now="2026-11-21T00:00:00Z")
    ... # doctest: +SKIP
    >>> sizing.recommended_window, sizing.window("all").exceeds  # doctest: +SKIP
    ('1m', True)
    >>> report = size_mailboxes(paths)   # a local process pool   # doctest: +SKIP
    >>> report.to_dict()                 # contract JSON F        # doctest: +SKIP

Organisation-wide runs take any ``concurrent.futures.Executor`` (a Dask
``Client.get_executor()`` included).  Reports: :func:`render_table`,
:func:`render_csv`, :func:`render_html`.
"""

from mailcore.sizing._imap import ImapMailbox, parse_imap_url
from mailcore.sizing._model import (
    BAD_INPUT_CATEGORIES,
    BadInput,
    FolderSizing,
    MailboxFailure,
    MailboxSizing,
    OrgView,
    PolicyCheck,
    SizingReport,
    Thresholds,
    WindowTotals,
)
from mailcore.sizing._progress import ProgressBar
from mailcore.sizing._render import render_csv, render_html, render_table
from mailcore.sizing._size import (
    check_policy,
    org_view,
    scan_options,
    size_mailbox,
    size_mailboxes,
)
from mailcore.sizing._sources import detect_layout, find_mailboxes, read_list_file
from mailcore.sizing._tally import ScanOptions
from mailcore.sizing._windows import WINDOWS, Window, cutoffs

__all__ = [
    "BAD_INPUT_CATEGORIES",
    "WINDOWS",
    "BadInput",
    "FolderSizing",
    "ImapMailbox",
    "MailboxFailure",
    "MailboxSizing",
    "OrgView",
    "PolicyCheck",
    "ProgressBar",
    "ScanOptions",
    "SizingReport",
    "Thresholds",
    "Window",
    "WindowTotals",
    "check_policy",
    "cutoffs",
    "detect_layout",
    "find_mailboxes",
    "org_view",
    "parse_imap_url",
    "read_list_file",
    "render_csv",
    "render_html",
    "render_table",
    "scan_options",
    "size_mailbox",
    "size_mailboxes",
]
