"""``mailcore serve``: the pipeline as an SMTP content filter (after-queue).

``mailcore --policy FILE serve [--listen HOST:PORT] [--relay HOST:PORT]``
runs until SIGTERM/SIGINT, then finishes the messages in flight and exits 0
(1 when ``shutdown_timeout`` cut some short: those were answered 421 and not
relayed, so the MTA still has them).  The pipeline runs in ``--workers``
processes, which end with the filter.  The flags override ``[serve]``; one
JSON line per message goes to stderr or ``--log FILE``.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from typing import Any

from mailcore.cli._runtime import UsageError
from mailcore.policy import Policy, policy_from_mapping

__all__ = ["add_serve_commands"]


def add_serve_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``serve``."""
    serve = commands.add_parser(
        "serve", help="run the pipeline as an SMTP content filter (Postfix content_filter)"
    )
    serve.add_argument("--listen", metavar="HOST:PORT", help="default: [serve] listen")
    serve.add_argument("--relay", metavar="HOST:PORT", help="the next hop; default: [serve] relay")
    serve.add_argument(
        "--direction",
        choices=("auto", "outbound", "inbound"),
        help="default: [serve] direction (auto: by the sender's domain)",
    )
    serve.add_argument(
        "--internal-domain", metavar="DOMAIN", action="append",
        help="a domain whose senders are ours (repeatable; replaces [serve] internal_domains)",
    )  # fmt: skip
    serve.add_argument(
        "--max-sessions", type=int, metavar="N", help="default: [serve] max_sessions"
    )
    serve.add_argument(
        "--workers", type=int, metavar="N",
        help="processes running the pipeline; default: [serve] workers (0: one per core)",
    )  # fmt: skip
    serve.add_argument(
        "--log", metavar="FILE", help="append the JSON log lines here (default: stderr)"
    )
    serve.set_defaults(handler=_serve)


def _settings(args: argparse.Namespace, policy: Policy) -> Policy:
    changes: dict[str, Any] = {}
    for name in ("listen", "relay", "direction"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.internal_domain:
        changes["internal_domains"] = args.internal_domain
    for name in ("max_sessions", "workers"):
        value = getattr(args, name)
        if value is not None:
            least = 1 if name == "max_sessions" else 0
            if value < least:
                raise UsageError(f"--{name.replace('_', '-')} must be {least} or more")
            changes[name] = value
    if not changes:
        return policy
    # The flags go through the same checks as the policy file's keys.
    current = {
        field.name: getattr(policy.serve, field.name) for field in dataclasses.fields(policy.serve)
    }
    current["internal_domains"] = list(current["internal_domains"])
    merged = policy_from_mapping({"serve": {**current, **changes}}, source="command line")
    return dataclasses.replace(policy, serve=merged.serve)


def _serve(args: argparse.Namespace, policy: Policy) -> int:
    from mailcore.serve import ContentFilter

    policy = _settings(args, policy)
    # aiosmtpd logs every session on "mail.log"; the filter's own JSON
    # lines are the log, so only aiosmtpd's errors are kept.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    if args.log:
        with open(args.log, "a", encoding="utf-8") as stream:
            return ContentFilter(policy, log=stream).run()
    return ContentFilter(policy, log=sys.stderr).run()
