"""``mailcore marking show | apply | check``."""

from __future__ import annotations

import argparse

from mailcore.cli._runtime import EXIT_FAILED, EXIT_OK, read_input, write_json, write_output
from mailcore.marking import apply_marking, check_marking, read_marking
from mailcore.policy import Policy

__all__ = ["add_marking_commands"]


def add_marking_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``marking`` command group."""
    group = commands.add_parser("marking", help="protective markings")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    show = sub.add_parser("show", help="report the message's protective marking (JSON A)")
    show.add_argument("input", nargs="?", metavar="IN")
    show.add_argument(
        "--strict", action="store_true", help="refuse markings that break the standard"
    )
    show.set_defaults(handler=_show)

    apply = sub.add_parser("apply", help="mark a message per the policy")
    apply.add_argument(
        "--marking", metavar="M", help="display value from the policy list or a marking value"
    )
    apply.add_argument(
        "--original",
        action="append",
        default=[],
        metavar="FILE",
        help="the message replied to or forwarded (repeatable)",
    )
    apply.add_argument("input", nargs="?", metavar="IN")
    apply.add_argument("-o", "--output", metavar="OUT")
    apply.set_defaults(handler=_apply)

    check = sub.add_parser("check", help="exit 0 if the marking is at or below LEVEL")
    check.add_argument("--max", required=True, metavar="LEVEL", dest="maximum")
    check.add_argument("--allow-unmarked", action="store_true", help="let unmarked mail pass")
    check.add_argument("input", nargs="?", metavar="IN")
    check.set_defaults(handler=_check)


def _show(args: argparse.Namespace, policy: Policy) -> int:
    write_json(read_marking(read_input(args.input), strict=args.strict).to_dict())
    return EXIT_OK


def _apply(args: argparse.Namespace, policy: Policy) -> int:
    message = read_input(args.input)
    originals = [read_input(path) for path in args.original]
    result = apply_marking(message, args.marking, policy=policy, originals=originals)
    for warning in result.warnings:
        import sys

        print(f"mailcore: warning: {warning}", file=sys.stderr)
    write_output(result.message, args.output)
    return EXIT_OK


def _check(args: argparse.Namespace, policy: Policy) -> int:
    result = check_marking(
        read_input(args.input),
        args.maximum,
        markings=policy.classification.markings,
        allow_unmarked=args.allow_unmarked,
    )
    write_json(result.to_dict())
    return EXIT_OK if result.passed else EXIT_FAILED
