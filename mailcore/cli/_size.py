"""``mailcore size PATH... [--now TIME] [--max-messages N] [--max-bytes SIZE]
[--format table|json|csv|html] [-o OUT]`` (contract §5, JSON F).

Beyond the contract's options: ``--each`` (each PATH is a folder of
mailboxes), ``--list FILE`` (mailbox paths, one a line), ``--scheduler
ADDRESS`` (run on a Dask cluster), ``--workers N``, ``--share PCT`` (the
org-wide view), ``--no-attachments`` (file names only: fastest),
``--maildir-time name|mtime``, ``--details`` (JSON F plus folders, bad
input, org view and policy check), ``--check`` (exit 1 when the policy is
wrong or a mailbox exceeds the limits at the policy's maximum window) and
IMAP settings (``imaps://user@host:port`` paths; the password from the
environment variable named by ``--imap-password-env``).

Bad input inside mailboxes and the policy check's findings are reported on
stderr, one line each; a mailbox that cannot be read at all makes the exit
code 2 (3 when a server could not be reached) after the report is written.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import dataclasses
import datetime as dt
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from mailcore._units import parse_size
from mailcore.cli._runtime import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    UsageError,
    write_output,
)
from mailcore.errors import ServiceUnavailable
from mailcore.policy import Policy

# The sizing code is imported when the command runs: every other command
# (``process`` on a folder, on several processes) starts without it.
if TYPE_CHECKING:
    from mailcore.sizing import SizingReport

__all__ = ["add_size_commands"]


def add_size_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``size``."""
    size = commands.add_parser("size", help="sync sizing per ActiveSync window (JSON F)")
    size.add_argument(
        "paths", nargs="*", metavar="PATH", help="Maildir, mbox, .eml tree or imaps://user@host"
    )
    size.add_argument("--now", metavar="TIME", help="ISO 8601 time (default: now)")
    size.add_argument("--max-messages", metavar="N", type=_count, help="message limit")
    size.add_argument("--max-bytes", metavar="SIZE", type=_size, help="size limit (600MiB)")
    size.add_argument(
        "--format", choices=("table", "json", "csv", "html"), default="json", dest="fmt"
    )
    size.add_argument("-o", "--output", metavar="OUT")
    size.add_argument(
        "--each", action="store_true", help="each PATH is a folder whose entries are mailboxes"
    )
    size.add_argument("--list", metavar="FILE", help="a file of mailbox paths, one a line")
    size.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler (tcp://host:8786)")
    size.add_argument("--workers", metavar="N", type=_count, help="local worker processes")
    size.add_argument(
        "--share", metavar="PCT", type=_share, default=0.95, help="org-wide share (95)"
    )
    size.add_argument(
        "--no-attachments",
        action="store_true",
        help="size from file names and metadata only (attachment_bytes null)",
    )
    size.add_argument(
        "--maildir-time",
        choices=("name", "mtime"),
        default="name",
        help="Maildir received time: file name (default) or mtime (Dovecot INTERNALDATE)",
    )
    size.add_argument("--details", action="store_true", help="JSON: add folders and checks")
    size.add_argument(
        "--check", action="store_true", help="exit 1 if a mailbox exceeds at the max interval"
    )
    size.add_argument(
        "--imap-password-env",
        metavar="VAR",
        default="MAILCORE_IMAP_PASSWORD",
        help="environment variable with the IMAP password",
    )
    size.add_argument("--imap-cafile", metavar="FILE", help="CA certificates for IMAP TLS")
    size.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_seconds,
        default=10.0,
        help="connection timeout for IMAP servers and the Dask scheduler (10)",
    )
    size.set_defaults(handler=_size_command)


def _count(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number")
    return int(text)


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("the timeout must be above 0 seconds")
    return value


def _share(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a percentage") from None
    if not 0 < value <= 100:
        raise argparse.ArgumentTypeError("the share is a percentage above 0, at most 100")
    return value / 100


def _now(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--now {text!r} is not ISO 8601 (2026-11-21T12:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    try:
        moment.astimezone(dt.UTC)  # a UTC time within years 1-9999, or refused
    except OverflowError:
        raise UsageError(f"--now {text!r} is outside the years 1-9999 in UTC") from None
    return moment.timestamp()


def _sources(args: argparse.Namespace) -> list[str]:
    import mailcore.sizing as sizing

    sources: list[str] = []
    if args.list:
        sources.extend(sizing.read_list_file(args.list))
    for path in args.paths:
        sources.extend(sizing.find_mailboxes(path) if args.each else [path])
    if not sources:
        raise UsageError("no mailboxes: give PATH... or --list FILE")
    return sources


def _executor(args: argparse.Namespace, count: int) -> tuple[cf.Executor | None, Any]:
    """(executor, thing to close) for the run."""
    if args.scheduler:
        try:
            from distributed import Client
        except ImportError:
            raise UsageError("--scheduler needs Dask: pip install 'mailcore[dask]'") from None
        try:
            client = Client(args.scheduler, timeout=args.timeout)  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as error:
            raise ServiceUnavailable(
                f"Dask scheduler {args.scheduler} unavailable: {error}"
            ) from None
        # pure=False: never reuse a cached result for mailboxes that may have changed.
        return client.get_executor(pure=False), client  # type: ignore[no-untyped-call]
    if args.workers is not None and count > 1:
        if args.workers <= 1:
            return None, None
        pool = cf.ProcessPoolExecutor(max_workers=args.workers)
        return pool, pool
    return None, None


def _size_command(args: argparse.Namespace, policy: Policy) -> int:
    import mailcore.sizing as sizing

    sources = _sources(args)
    password = os.environ.get(args.imap_password_env)
    options = sizing.scan_options(
        now=_now(args.now),
        policy=policy,
        max_messages=args.max_messages,
        max_bytes=args.max_bytes,
        attachments=not args.no_attachments,
        maildir_time=args.maildir_time,
        imap_password=password,
        imap_cafile=args.imap_cafile,
    )
    options = dataclasses.replace(options, imap_timeout=args.timeout)
    executor, closer = _executor(args, len(sources))
    bar = sizing.ProgressBar("sizing")
    try:
        report = sizing.size_mailboxes(
            sources,
            options=options,
            policy=policy,
            share=args.share,
            executor=executor,
            progress=bar,  # draws only on a terminal, after half a second
        )
    finally:
        bar.close()
        if closer is not None:
            if isinstance(closer, cf.Executor):
                closer.shutdown(wait=True)
            else:
                closer.close()
    if len(sources) == 1 and report.failures:
        failure = report.failures[0]
        if failure.unavailable:
            raise ServiceUnavailable(failure.error)
        raise UsageError(failure.error)
    write_output(_render(report, args).encode("utf-8"), args.output)
    return _finish(report, args)


def _render(report: SizingReport, args: argparse.Namespace) -> str:
    import mailcore.sizing as sizing

    if args.fmt == "json":
        document = report.details() if args.details else report.to_dict()
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    if args.fmt == "csv":
        return sizing.render_csv(report)
    if args.fmt == "html":
        return sizing.render_html(report)
    return sizing.render_table(report, folders=args.details)


def _finish(report: SizingReport, args: argparse.Namespace) -> int:
    for mailbox in report.mailboxes:
        if mailbox.bad_input.total:
            print(
                f"mailcore: warning: {mailbox.path}: bad input: {mailbox.bad_input.describe()}",
                file=sys.stderr,
            )
    for text in report.policy.problems:
        print(f"mailcore: policy problem: {text}", file=sys.stderr)
    for text in report.policy.warnings:
        print(f"mailcore: policy warning: {text}", file=sys.stderr)
    for failure in report.failures:
        print(f"mailcore: {failure.error}", file=sys.stderr)
    if report.failures:
        unavailable = all(f.unavailable for f in report.failures)
        return EXIT_UNAVAILABLE if unavailable else EXIT_USAGE
    if args.check:
        position = (
            [w.window for w in report.mailboxes[0].windows].index(report.policy.max_sync_interval)
            if report.mailboxes
            else 0
        )
        over = any(m.windows[position].exceeds for m in report.mailboxes)
        if over or not report.policy.ok:
            return EXIT_FAILED
    return EXIT_OK
