"""``mailcore process``: the whole pipeline per the policy (JSON D).

One message (``IN`` a file or stdin, ``-o`` the result) or a folder of
messages (``IN`` a folder, ``-o`` a folder) on ``--jobs`` processes.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mailcore.cli._fanout import fan_out
from mailcore.cli._runtime import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
    UsageError,
    exit_code_for,
    one_line,
    read_input,
    write_json,
    write_output,
)
from mailcore.errors import MessageRefused
from mailcore.pipeline import Pipeline
from mailcore.pipeline._report import ProcessReport
from mailcore.policy import Policy

__all__ = ["add_process_commands"]


def add_process_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``process``."""
    process = commands.add_parser(
        "process", help="mark, protect, sign and encrypt (or open) messages per the policy"
    )
    process.add_argument("input", nargs="?", metavar="IN", help="a message, '-', or a folder")
    process.add_argument(
        "-o", "--output", metavar="OUT", help="the result (a folder for a folder)"
    )
    process.add_argument(
        "--direction",
        choices=("outbound", "inbound"),
        default="outbound",
        help="default: outbound",
    )
    process.add_argument("--report", metavar="FILE", help="write the JSON D report here")
    process.add_argument("--marking", metavar="M", help="the sender's chosen marking")
    process.add_argument(
        "--original", metavar="FILE", action="append", default=[],
        help="the message replied to or forwarded (repeatable)",
    )  # fmt: skip
    process.add_argument("--irm-template", metavar="NAME_OR_GUID", help="restriction profile")
    process.add_argument("--sender", metavar="ADDR", help="envelope sender (default: From)")
    process.add_argument(
        "--recipient", metavar="ADDR", action="append", help="envelope recipients (repeatable)"
    )
    process.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
        help="processes for a folder of messages (default: the number of cores)",
    )  # fmt: skip
    process.set_defaults(handler=_process)


@dataclass(frozen=True, slots=True)
class _Options:
    direction: str
    marking: str | None
    originals: tuple[bytes, ...]
    irm_template: str | None
    sender: str | None
    recipients: tuple[str, ...] | None
    keep_reports: bool = True
    """Whether a folder's workers send each report back (only for --report:
    otherwise pickling 2,000 reports costs the main process CPU time that
    the workers need)."""


def _run_one(pipeline: Pipeline, data: bytes, options: _Options) -> tuple[bytes, ProcessReport]:
    if options.direction == "inbound":
        result = pipeline.inbound(data)
    else:
        result = pipeline.outbound(
            data,
            sender=options.sender,
            recipients=options.recipients,
            marking=options.marking,
            originals=options.originals,
            irm_template=options.irm_template,
        )
    return result.message, result.report


def _options(args: argparse.Namespace) -> _Options:
    return _Options(
        direction=args.direction,
        marking=args.marking,
        originals=tuple(read_input(path) for path in args.original),
        irm_template=args.irm_template,
        sender=args.sender,
        recipients=tuple(args.recipient) if args.recipient else None,
        keep_reports=bool(args.report),
    )


def _writable(path: str | None, what: str) -> None:
    """Refuse, before any work, an output path that cannot be written: a
    result must not be written when its report then cannot be."""
    if path is None or path == "-":
        return
    target = Path(os.path.realpath(path))
    if target.is_dir():
        raise UsageError(f"{path} is a folder; {what} needs a file")
    if target.exists() and not target.is_file():
        return  # a device or FIFO: written in place, as a redirection would
    if not target.parent.is_dir():
        raise UsageError(f"cannot write {what} {path}: no folder {target.parent}")
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {what} {path}: the folder is not writable")


def _process(args: argparse.Namespace, policy: Policy) -> int:
    if args.jobs < 1:
        raise UsageError("--jobs must be 1 or more")
    _writable(args.report, "--report")
    options = _options(args)
    if args.input is not None and Path(args.input).is_dir():
        return _process_folder(Path(args.input), args, policy, options)
    _writable(args.output, "-o")
    data = read_input(args.input)
    with Pipeline(policy) as pipeline:
        try:
            message, report = _run_one(pipeline, data, options)
        except MessageRefused as refused:
            if args.report and refused.report is not None:
                write_json(refused.report.to_dict(), args.report)  # type: ignore[attr-defined]
            raise
    write_output(message, args.output)
    if args.report:
        write_json(report.to_dict(), args.report)
    return EXIT_OK


# -- a folder of messages ------------------------------------------------------------

_worker_pipeline: Pipeline | None = None
_worker_options: _Options | None = None


def _start_worker(policy: Policy, options: _Options) -> None:
    global _worker_pipeline, _worker_options
    _worker_pipeline = Pipeline(policy)
    _worker_options = options


_Outcome = tuple[str, str, str, dict[str, Any] | None, int]


def _work(source: str, target: str) -> _Outcome:
    """(file, outcome, detail, report, exit code): outcome is encrypt /
    send_unencrypted / not_requested / inbound / rejected / failed."""
    assert _worker_pipeline is not None and _worker_options is not None
    keep = _worker_options.keep_reports
    try:
        data = Path(source).read_bytes()
        message, report = _run_one(_worker_pipeline, data, _worker_options)
        write_output(message, target)
    except MessageRefused as refused:
        refusal = refused.report if keep else None
        detail = refusal.to_dict() if isinstance(refusal, ProcessReport) else None
        return source, "rejected", one_line(refused), detail, exit_code_for(refused)
    except Exception as error:  # one bad message must not stop the others
        code = exit_code_for(error)
        return source, "failed", f"{one_line(error)} (exit {code})", None, code
    outcome = "inbound" if _worker_options.direction == "inbound" else report.decision
    return source, outcome, "", report.to_dict() if keep else None, EXIT_OK


def _work_job(job: tuple[str, str]) -> _Outcome:
    return _work(*job)


def _lost_job(job: tuple[str, str], why: str) -> _Outcome:
    return job[0], "failed", f"{why} (exit {EXIT_FAILED})", None, EXIT_FAILED


def _folder_exit_code(codes: Counter[int]) -> int:
    """One exit code for a folder: a service outage first (the whole run can
    be retried), then refusals on the merits, then malformed input; 0 only
    when every message was processed."""
    for code in (EXIT_UNAVAILABLE, EXIT_FAILED, EXIT_USAGE):
        if codes[code]:
            return code
    return EXIT_OK


def _process_folder(
    folder: Path, args: argparse.Namespace, policy: Policy, options: _Options
) -> int:
    if not args.output:
        raise UsageError("a folder of messages needs -o FOLDER for the results")
    target = Path(args.output)
    if target.exists() and not target.is_dir():
        raise UsageError(f"{args.output} is not a folder")
    target.mkdir(parents=True, exist_ok=True)
    # scandir: the file type comes with the listing, without a stat() per
    # message (2,000 of them are part of every run's start-up).
    with os.scandir(folder) as entries:
        names = sorted(e.name for e in entries if not e.name.startswith(".") and e.is_file())
    counts: Counter[str] = Counter()
    codes: Counter[int] = Counter()
    reports: dict[str, Any] = {}
    problems: list[str] = []
    jobs = [(os.path.join(folder, name), os.path.join(target, name)) for name in names]

    def progress(done: int) -> None:
        print(f"\r{done}/{len(jobs)} messages", end="", file=sys.stderr, flush=True)

    show_progress = sys.stderr.isatty()
    outcomes = fan_out(
        jobs,
        _work_job,
        processes=args.jobs,
        start=lambda: _start_worker(policy, options),
        lost=_lost_job,
        done=progress if show_progress else None,
    )
    for source, outcome, detail, report, code in outcomes:
        counts[outcome] += 1
        codes[code] += 1
        name = os.path.basename(source)
        reports[name] = report
        if detail:
            problems.append(f"{name}: {detail}")
    if show_progress:
        print(file=sys.stderr)
    for problem in problems:
        print(problem, file=sys.stderr)
    summary = ", ".join(f"{counts[k]} {k.replace('_', ' ')}" for k in sorted(counts)) or "nothing"
    print(f"{len(names)} messages: {summary}", file=sys.stderr)
    if args.report:
        write_json(reports, args.report)
    return _folder_exit_code(codes)
