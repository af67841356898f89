"""Sizing results: immutable values whose ``to_dict()`` is contract JSON F."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from mailcore.sizing._windows import WINDOWS

__all__ = [
    "BAD_INPUT_CATEGORIES",
    "BadInput",
    "FolderSizing",
    "MailboxFailure",
    "MailboxSizing",
    "OrgView",
    "PolicyCheck",
    "SizingReport",
    "Thresholds",
    "WindowTotals",
    "format_time",
]

# Bad input is counted in these categories, never fatal and never silent:
#   truncated   an mbox that ends inside a message, a Maildir file shorter than its S= size
#   not_mail    a file where a message should be that does not start like one
#   unreadable  a file that cannot be opened or read (permissions, I/O error, vanished)
#   bad_date    a message without a received time or Date: that parses (in "all" only)
BAD_INPUT_CATEGORIES = ("truncated", "not_mail", "unreadable", "bad_date")


def format_time(epoch: float) -> str:
    """ISO 8601 UTC with a ``Z``, to the second (contract §5 TIME)."""
    moment = dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The device limits: more than ``messages`` or more than ``bytes`` is too much."""

    messages: int = 18_000
    bytes: int = 600 * 1024 * 1024

    def exceeded(self, messages: int, size: int) -> bool:
        """Is either limit crossed ("more than 18,000 messages or 600 MB")?"""
        return messages > self.messages or size > self.bytes

    def to_dict(self) -> dict[str, int]:
        """JSON F ``thresholds``."""
        return {"messages": self.messages, "bytes": self.bytes}


@dataclass(frozen=True, slots=True)
class BadInput:
    """Counts of bad input by category, with up to a few example places."""

    truncated: int = 0
    not_mail: int = 0
    unreadable: int = 0
    bad_date: int = 0
    examples: tuple[str, ...] = ()

    @property
    def total(self) -> int:
        """All bad items together."""
        return self.truncated + self.not_mail + self.unreadable + self.bad_date

    def counts(self) -> dict[str, int]:
        """``{category: count}`` in the documented order."""
        return {name: getattr(self, name) for name in BAD_INPUT_CATEGORIES}

    def describe(self) -> str:
        """``2 unreadable, 1 truncated``: the non-zero categories."""
        return ", ".join(f"{count} {name}" for name, count in self.counts().items() if count)

    @staticmethod
    def merged(items: Iterable[BadInput], keep: int = 5) -> BadInput:
        """The sum of several reports (examples: the first ``keep``)."""
        totals = dict.fromkeys(BAD_INPUT_CATEGORIES, 0)
        examples: list[str] = []
        for item in items:
            for name in BAD_INPUT_CATEGORIES:
                totals[name] += getattr(item, name)
            examples.extend(item.examples[: max(0, keep - len(examples))])
        return BadInput(**totals, examples=tuple(examples))

    def to_dict(self) -> dict[str, Any]:
        """Counts by category and the examples."""
        return {**self.counts(), "examples": list(self.examples)}


@dataclass(frozen=True, slots=True)
class WindowTotals:
    """What one sync window puts on the device."""

    window: str
    filter_type: int
    messages: int
    bytes: int
    attachment_bytes: int | None  # None: attachments were not scanned
    exceeds: bool

    def to_dict(self) -> dict[str, Any]:
        """One JSON F ``windows`` entry."""
        return {
            "window": self.window,
            "filter_type": self.filter_type,
            "messages": self.messages,
            "bytes": self.bytes,
            "attachment_bytes": self.attachment_bytes,
            "exceeds": self.exceeds,
        }


def window_totals(
    buckets: tuple[tuple[int, int, int | None], ...], thresholds: Thresholds
) -> tuple[WindowTotals, ...]:
    """Cumulative window totals from per-bucket (messages, bytes, attachment bytes).

    Bucket ``i`` holds the messages whose newest window is ``WINDOWS[i]``;
    windows nest, so window ``i`` is the sum of buckets ``0..i``.
    """
    out = []
    messages = size = 0
    attachments: int | None = 0
    for window, (count, total, att) in zip(WINDOWS, buckets, strict=True):
        messages += count
        size += total
        attachments = None if attachments is None or att is None else attachments + att
        out.append(
            WindowTotals(
                window.label,
                window.filter_type,
                messages,
                size,
                attachments,
                thresholds.exceeded(messages, size),
            )
        )
    return tuple(out)


def recommend(windows: tuple[WindowTotals, ...]) -> str | None:
    """The largest window under both limits (windows nest, so totals only grow)."""
    best = None
    for totals in windows:
        if totals.exceeds:
            break
        best = totals.window
    return best


@dataclass(frozen=True, slots=True)
class FolderSizing:
    """One folder of a mailbox: per-window totals and bad input."""

    name: str
    windows: tuple[WindowTotals, ...]
    buckets: tuple[tuple[int, int, int | None], ...]
    bad_input: BadInput

    def to_dict(self) -> dict[str, Any]:
        """The folder's name, windows (JSON F entries) and bad input."""
        return {
            "name": self.name,
            "windows": [w.to_dict() for w in self.windows],
            "bad_input": self.bad_input.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class MailboxSizing:
    """One mailbox: its folders, the summed windows and the recommended window."""

    path: str
    layout: str  # "maildir", "mbox", "eml", "imap"
    folders: tuple[FolderSizing, ...]
    windows: tuple[WindowTotals, ...]
    recommended_window: str | None
    bad_input: BadInput
    attachments_scanned: bool

    def window(self, label: str) -> WindowTotals:
        """The totals of one window (``"1m"``)."""
        for totals in self.windows:
            if totals.window == label:
                return totals
        raise KeyError(label)

    def to_dict(self) -> dict[str, Any]:
        """One JSON F ``mailboxes`` entry."""
        return {
            "path": self.path,
            "folders": len(self.folders),
            "windows": [w.to_dict() for w in self.windows],
            "recommended_window": self.recommended_window,
        }

    def details(self) -> dict[str, Any]:
        """JSON F entry plus layout, per-folder results and bad input."""
        return {
            **self.to_dict(),
            "layout": self.layout,
            "attachments_scanned": self.attachments_scanned,
            "bad_input": self.bad_input.to_dict(),
            "folder_details": [f.to_dict() for f in self.folders],
        }


@dataclass(frozen=True, slots=True)
class MailboxFailure:
    """A mailbox that could not be sized at all, and why."""

    path: str
    error: str
    unavailable: bool  # a server could not be reached (rather than bad input)

    def to_dict(self) -> dict[str, Any]:
        """``{"path", "error", "unavailable"}``."""
        return {"path": self.path, "error": self.error, "unavailable": self.unavailable}


@dataclass(frozen=True, slots=True)
class OrgView:
    """The organisation-wide view over many mailboxes."""

    mailboxes: int
    share: float
    exceeding: tuple[tuple[str, int], ...]  # (window, mailboxes over a limit)
    largest_window: str | None  # largest window keeping ``share`` of mailboxes under both

    def to_dict(self) -> dict[str, Any]:
        """Counts per window and the window for the chosen share."""
        return {
            "mailboxes": self.mailboxes,
            "share": self.share,
            "exceeding": [{"window": w, "mailboxes": n} for w, n in self.exceeding],
            "largest_window": self.largest_window,
        }


@dataclass(frozen=True, slots=True)
class PolicyCheck:
    """The ``[sync]`` policy checked against the rules and the measured mailboxes."""

    max_sync_interval: str
    default_sync_interval: str
    problems: tuple[str, ...]  # the policy is wrong
    warnings: tuple[str, ...]  # the policy is allowed but risky

    @property
    def ok(self) -> bool:
        """No problems (warnings allowed)."""
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        """The intervals, ``ok``, problems and warnings."""
        return {
            "max_sync_interval": self.max_sync_interval,
            "default_sync_interval": self.default_sync_interval,
            "ok": self.ok,
            "problems": list(self.problems),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class SizingReport:
    """Sizing of one or many mailboxes at one moment (JSON F)."""

    now: float
    thresholds: Thresholds
    mailboxes: tuple[MailboxSizing, ...]
    failures: tuple[MailboxFailure, ...]
    org: OrgView
    policy: PolicyCheck

    def to_dict(self) -> dict[str, Any]:
        """Contract JSON F, exactly."""
        return {
            "now": format_time(self.now),
            "thresholds": self.thresholds.to_dict(),
            "mailboxes": [m.to_dict() for m in self.mailboxes],
        }

    def details(self) -> dict[str, Any]:
        """JSON F plus folders, bad input, failures, the org-wide view and the policy check."""
        return {
            "now": format_time(self.now),
            "thresholds": self.thresholds.to_dict(),
            "mailboxes": [m.details() for m in self.mailboxes],
            "failures": [f.to_dict() for f in self.failures],
            "org": self.org.to_dict(),
            "policy": self.policy.to_dict(),
        }
