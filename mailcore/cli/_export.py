"""``mailcore export vcard|ical`` (issue 6; contract §5, §6a).

Input is JSON, JSON Lines, or an existing .vcf/.ics file (a path or ``-``
for stdin); output streams to ``-o FILE`` (written atomically: a refusal or
a malformed record leaves no file) or to stdout.  Policy refusals exit 1,
malformed input exits 2.  Keys left out of the output are reported on
stderr in one warning line.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mailcore.cli._runtime import EXIT_OK, UsageError, open_output
from mailcore.policy import Policy

# The export code is imported when the command runs, so that other commands
# start without icalendar, vobject and dateutil.
if TYPE_CHECKING:
    from mailcore.export import ExportSummary

__all__ = ["add_export_commands"]

_FORMATS = {"auto": "auto", "json": "json", "jsonl": "jsonl", "vcf": "vcard", "ics": "ical"}


def add_export_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``export`` command group."""
    group = commands.add_parser("export", help="contacts to vCard, calendar items to iCalendar")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    vcard = sub.add_parser("vcard", help="export contacts as vCards (policy [export] contacts)")
    vcard.add_argument(
        "--vcard-version", choices=("3.0", "4.0"), default="3.0", help="default 3.0"
    )
    _common(vcard)
    vcard.set_defaults(handler=_vcard)

    ical = sub.add_parser(
        "ical", help="export calendar items as iCalendar (policy [export] calendar)"
    )
    ical.add_argument(
        "--default-timezone",
        metavar="ZONE",
        help="IANA zone of items without a Timezone blob (default: write them in UTC)",
    )
    _common(ical)
    ical.set_defaults(handler=_ical)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("input", nargs="?", metavar="IN", help="JSON / JSON Lines / .vcf / .ics")
    parser.add_argument("-o", "--output", metavar="OUT")
    parser.add_argument(
        "--input-format", choices=tuple(_FORMATS), default="auto", help="default: detected"
    )
    parser.add_argument("--now", metavar="TIME", help="REV / DTSTAMP time (ISO 8601)")


def _now(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--now {text!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise UsageError(f"--now {text!r} needs a zone (e.g. Z)")
    return moment


def _source(path: str | None) -> Any:
    if path is None or path == "-":
        if sys.stdin is None:
            raise UsageError("no input: give a file or '-' with standard input open")
        return sys.stdin.buffer
    if Path(path).is_dir():
        raise UsageError(f"{path} is a folder, not an export file")
    return path


def _run(args: argparse.Namespace, write: Any) -> int:
    from mailcore.export import read_records

    records = read_records(_source(args.input), kind=_FORMATS[args.input_format])  # type: ignore[arg-type]
    summary: ExportSummary
    with open_output(args.output) as handle:  # the one writer of every -o
        summary = write(records, handle)
    if summary.unknown_keys:
        keys = ", ".join(f"{key} ({count})" for key, count in summary.unknown_keys[:20])
        more = " ..." if len(summary.unknown_keys) > 20 else ""
        print(f"mailcore: warning: left out unknown keys: {keys}{more}", file=sys.stderr)
    return EXIT_OK


def _vcard(args: argparse.Namespace, policy: Policy) -> int:
    from mailcore.export import write_vcards

    now = _now(args.now)
    return _run(
        args,
        lambda records, out: write_vcards(
            records, policy, out, version=args.vcard_version, now=now
        ),
    )


def _ical(args: argparse.Namespace, policy: Policy) -> int:
    from mailcore.export import write_ical

    now = _now(args.now)
    return _run(
        args,
        lambda records, out: write_ical(
            records, policy, out, now=now, default_timezone=args.default_timezone
        ),
    )
