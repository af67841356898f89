"""Sizing one mailbox, or many on any ``concurrent.futures.Executor``.

Organisation-wide runs submit *batches* of mailboxes (one task per
mailbox costs the scheduler more than a small mailbox's scan) and workers
return small per-folder, per-window totals; the driver merges them and
computes the org-wide view.  The default executor is a local process pool
(scanning is CPU work in Python: threads would share one core); a Dask
cluster's ``Client.get_executor()`` works the same way.
"""

from __future__ import annotations

import concurrent.futures as cf
import datetime as dt
import math
import multiprocessing
import os
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Literal

from mailcore.errors import MailcoreError, MalformedInput, ServiceUnavailable
from mailcore.policy import Policy, SyncPolicy
from mailcore.sizing._model import (
    BadInput,
    MailboxFailure,
    MailboxSizing,
    OrgView,
    PolicyCheck,
    SizingReport,
    Thresholds,
    recommend,
    window_totals,
)
from mailcore.sizing._sources import MailboxSource, scan_source, source_name
from mailcore.sizing._tally import BUCKETS, ScanOptions
from mailcore.sizing._windows import WINDOWS

__all__ = [
    "Progress",
    "check_policy",
    "org_view",
    "scan_options",
    "size_mailbox",
    "size_mailboxes",
]

Progress = Callable[[int, int | None], None]
Now = float | str | dt.datetime | None


def _epoch(now: Now) -> float:
    if now is None:
        return float(int(time.time()))
    if isinstance(now, str):
        try:
            now = dt.datetime.fromisoformat(now.strip())
        except ValueError:
            raise MalformedInput(
                f"{now!r} is not an ISO 8601 time such as 2026-11-21T12:00:00Z", where="now"
            ) from None
    if isinstance(now, dt.datetime):
        if now.tzinfo is None:
            now = now.replace(tzinfo=dt.UTC)  # the contract's times are UTC
        return now.timestamp()
    return float(now)


def scan_options(
    *,
    now: Now = None,
    policy: Policy | SyncPolicy | None = None,
    max_messages: int | None = None,
    max_bytes: int | None = None,
    attachments: bool = True,
    maildir_time: Literal["name", "mtime"] = "name",
    imap_password: str | None = None,
    imap_cafile: str | None = None,
) -> ScanOptions:
    """Scan settings from a policy (``[sync]``) and overrides."""
    sync = policy.sync if isinstance(policy, Policy) else policy or SyncPolicy()
    thresholds = Thresholds(
        sync.max_messages if max_messages is None else max_messages,
        sync.max_bytes if max_bytes is None else max_bytes,
    )
    return ScanOptions(
        now=_epoch(now),
        month_days=sync.month_days,
        thresholds=thresholds,
        attachments=attachments,
        maildir_time=maildir_time,
        imap_password=imap_password,
        imap_cafile=imap_cafile,
    )


def _size_one(
    source: MailboxSource, options: ScanOptions, tick: Callable[[int], None] | None = None
) -> MailboxSizing:
    layout, tallies = scan_source(source, options, tick)
    folders = tuple(tally.freeze(name, options.thresholds) for name, tally in tallies)
    sums = []
    for index in range(BUCKETS):
        count = sum(f.buckets[index][0] for f in folders)
        size = sum(f.buckets[index][1] for f in folders)
        atts = [f.buckets[index][2] for f in folders]
        sums.append((count, size, None if not options.attachments else sum(a or 0 for a in atts)))
    windows = window_totals(tuple(sums), options.thresholds)
    return MailboxSizing(
        path=source_name(source),
        layout=layout,
        folders=folders,
        windows=windows,
        recommended_window=recommend(windows),
        bad_input=BadInput.merged(f.bad_input for f in folders),
        attachments_scanned=options.attachments,
    )


def size_mailbox(
    source: MailboxSource,
    *,
    now: Now = None,
    policy: Policy | SyncPolicy | None = None,
    options: ScanOptions | None = None,
    attachments: bool = True,
    maildir_time: Literal["name", "mtime"] = "name",
    imap_password: str | None = None,
    imap_cafile: str | None = None,
    progress: Progress | None = None,
) -> MailboxSizing:
    """Size one mailbox: a Maildir, an mbox file, a folder of mbox or ``.eml`` files,
    or an IMAP account (``imaps://user@host:port`` or :class:`ImapMailbox`).

    ``now`` defaults to the current time; thresholds and the month length come
    from ``policy`` (``[sync]``).  ``attachments=False`` takes the fastest path
    (Maildir file names only, no file opened; ``attachment_bytes`` is then
    ``None``).  Raises :class:`MailboxError` when ``source`` is not a mailbox
    and :class:`ServiceUnavailable` when an IMAP server cannot be reached.
    """
    if options is None:
        options = scan_options(
            now=now,
            policy=policy,
            attachments=attachments,
            maildir_time=maildir_time,
            imap_password=imap_password,
            imap_cafile=imap_cafile,
        )
    seen = 0

    def tick(count: int) -> None:
        nonlocal seen
        seen += count
        if progress is not None:
            progress(seen, None)

    return _size_one(source, options, tick if progress is not None else None)


def _size_batch(
    batch: Sequence[tuple[int, MailboxSource]],
    options: ScanOptions,
    tick: Callable[[int], None] | None = None,
    run: str = "",
) -> list[tuple[int, MailboxSizing | MailboxFailure]]:
    """A worker's job: a batch of mailboxes, each result or failure (never an exception).

    ``run`` is unused here: a fresh value per run makes each task distinct, so
    that executors that cache results by their arguments (Dask's ``pure=True``
    default) do not hand back an earlier run's sizes of mailboxes that changed.
    """
    del run
    out: list[tuple[int, MailboxSizing | MailboxFailure]] = []
    for index, source in batch:
        try:
            out.append((index, _size_one(source, options, tick)))
        except (MailcoreError, OSError) as error:
            unavailable = isinstance(error, ServiceUnavailable)
            out.append((index, MailboxFailure(source_name(source), str(error), unavailable)))
    return out


def org_view(mailboxes: Sequence[MailboxSizing], share: float = 0.95) -> OrgView:
    """Mailboxes over a limit per window, and the largest window keeping ``share`` under both."""
    if not 0 < share <= 1:
        raise ValueError(f"share must be above 0 and at most 1, not {share}")
    exceeding = []
    largest = None
    total = len(mailboxes)
    meets = total > 0
    for position, window in enumerate(WINDOWS):
        over = sum(1 for m in mailboxes if m.windows[position].exceeds)
        exceeding.append((window.label, over))
        # Windows nest, so the share under the limits only falls as they grow.
        meets = meets and (total - over) / total >= share
        if meets:
            largest = window.label
    return OrgView(total, share, tuple(exceeding), largest)


def check_policy(sync: SyncPolicy, mailboxes: Sequence[MailboxSizing] = ()) -> PolicyCheck:
    """Check ``[sync]``: default within max, ``all`` as default, and the measured mailboxes."""
    labels = [w.label for w in WINDOWS]
    problems: list[str] = []
    warnings: list[str] = []
    maximum, default = sync.max_sync_interval, sync.default_sync_interval
    if default in labels and maximum in labels and labels.index(default) > labels.index(maximum):
        problems.append(
            f"default_sync_interval {default!r} is longer than max_sync_interval {maximum!r}"
        )
    if default == "all":
        warnings.append(
            "default_sync_interval 'all' syncs every message of every synced folder: "
            "large mailboxes will sync slowly"
        )
    for key, label in (("max_sync_interval", maximum), ("default_sync_interval", default)):
        if label not in labels:
            continue
        over = [m.path for m in mailboxes if m.windows[labels.index(label)].exceeds]
        if over:
            warnings.append(
                f"{key} {label!r}: {len(over)} of {len(mailboxes)} mailbox(es) exceed the limits"
                f" (first: {over[0]})"
            )
    return PolicyCheck(maximum, default, tuple(problems), tuple(warnings))


def _default_executor(jobs: int) -> cf.Executor:
    workers = max(1, min(os.cpu_count() or 1, jobs))
    # forkserver: no fork() of a multi-threaded parent (the CLI's progress
    # thread, a Dask client), which CPython warns about from 3.12.
    methods = multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=context)


def size_mailboxes(
    sources: Iterable[MailboxSource],
    *,
    now: Now = None,
    policy: Policy | SyncPolicy | None = None,
    options: ScanOptions | None = None,
    attachments: bool = True,
    maildir_time: Literal["name", "mtime"] = "name",
    imap_password: str | None = None,
    imap_cafile: str | None = None,
    share: float = 0.95,
    executor: cf.Executor | None = None,
    batch_size: int | None = None,
    progress: Progress | None = None,
) -> SizingReport:
    """Size many mailboxes (JSON F with :meth:`SizingReport.to_dict`).

    ``executor``: any :class:`concurrent.futures.Executor` (a Dask
    ``Client.get_executor()`` included); by default one mailbox runs here and
    several run on a local process pool.  Mailboxes go out in batches of
    ``batch_size`` (default: about four batches per worker, at most 25).
    A mailbox that cannot be sized is listed in ``failures``, not fatal.
    """
    sync = policy.sync if isinstance(policy, Policy) else policy or SyncPolicy()
    if options is None:
        options = scan_options(
            now=now,
            policy=sync,
            attachments=attachments,
            maildir_time=maildir_time,
            imap_password=imap_password,
            imap_cafile=imap_cafile,
        )
    if not 0 < share <= 1:
        raise ValueError(f"share must be above 0 and at most 1, not {share}")
    items = list(enumerate(sources))
    results: dict[int, MailboxSizing | MailboxFailure] = {}
    if items:
        own = executor is None and len(items) > 1
        pool = _default_executor(len(items)) if own else executor
        workers = getattr(pool, "_max_workers", None) or os.cpu_count() or 1
        size = batch_size or max(1, min(25, math.ceil(len(items) / (4 * workers))))
        batches = [items[i : i + size] for i in range(0, len(items), size)]
        try:
            if pool is None and len(items) == 1 and progress is not None:
                # One mailbox: progress in messages (the total is not known).
                seen = 0

                def tick(count: int) -> None:
                    nonlocal seen
                    seen += count
                    progress(seen, None)

                results.update(_size_batch(items, options, tick))
            elif pool is None:
                for batch in batches:
                    results.update(_size_batch(batch, options))
                    if progress is not None:
                        progress(len(results), len(items))
            else:
                run = uuid.uuid4().hex
                futures = [
                    pool.submit(_size_batch, batch, options, None, run) for batch in batches
                ]
                for future in cf.as_completed(futures):
                    results.update(future.result())
                    if progress is not None:
                        progress(len(results), len(items))
        finally:
            if own and pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
    ordered = [results[i] for i in range(len(items))]
    sized = tuple(r for r in ordered if isinstance(r, MailboxSizing))
    failed = tuple(r for r in ordered if isinstance(r, MailboxFailure))
    return SizingReport(
        now=options.now,
        thresholds=options.thresholds,
        mailboxes=sized,
        failures=failed,
        org=org_view(sized, share),
        policy=check_policy(sync, sized),
    )
