"""``mailcore irm show | apply`` (contract §5, JSON E)."""

from __future__ import annotations

import argparse
from datetime import datetime

from mailcore.cli._runtime import EXIT_OK, UsageError, read_input, write_json, write_output
from mailcore.policy import Policy

__all__ = ["add_irm_commands"]


def add_irm_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``irm`` command group."""
    group = commands.add_parser("irm", help="IRM restriction metadata")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    show = sub.add_parser(
        "show", help="rights on a message (.eml) or an MS-ASRM license (.xml) (JSON E)"
    )
    show.add_argument("--user", metavar="ADDR", help="the user the rights are evaluated for")
    show.add_argument("--now", metavar="TIME", help="evaluate at this ISO 8601 time")
    show.add_argument("--strict", action="store_true", help="refuse a license that breaks MS-ASRM")
    show.add_argument("input", nargs="?", metavar="IN")
    show.set_defaults(handler=_show)

    apply = sub.add_parser("apply", help="apply a restriction profile to an outgoing message")
    apply.add_argument(
        "--template",
        required=True,
        metavar="NAME_OR_GUID",
        help="a template the policy offers, or 'No Restriction' to remove one",
    )
    apply.add_argument("input", nargs="?", metavar="IN")
    apply.add_argument("-o", "--output", metavar="OUT")
    apply.set_defaults(handler=_apply)


def _time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--now {text!r} is not an ISO 8601 time (2026-11-21T12:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise UsageError(f"--now {text!r} needs a time zone (add Z for UTC)")
    return moment


def _show(args: argparse.Namespace, policy: Policy) -> int:
    from mailcore.irm import read_rights

    now = None if args.now is None else _time(args.now)
    report = read_rights(
        read_input(args.input), user=args.user, now=now, strict=args.strict, policy=policy
    )
    write_json(report.to_dict())
    return EXIT_OK


def _apply(args: argparse.Namespace, policy: Policy) -> int:
    from mailcore.irm import apply_restriction

    message = read_input(args.input)
    write_output(apply_restriction(message, args.template, policy), args.output)
    return EXIT_OK
