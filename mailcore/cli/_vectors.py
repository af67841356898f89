"""``mailcore vectors run [PATH...]``."""

from __future__ import annotations

import argparse
import sys

from mailcore._vectors import run_vectors
from mailcore.cli._runtime import EXIT_FAILED, EXIT_OK
from mailcore.policy import Policy

__all__ = ["add_vector_commands"]


def add_vector_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``vectors`` command group."""
    group = commands.add_parser("vectors", help="conformance vectors")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)
    run = sub.add_parser("run", help="run the conformance vectors")
    run.add_argument(
        "paths", nargs="*", metavar="PATH", help="suites or folders (default: vectors/)"
    )
    run.set_defaults(handler=_run)


def _run(args: argparse.Namespace, policy: Policy) -> int:
    outcomes = run_vectors(args.paths or None)
    failed = [o for o in outcomes if not o.passed]
    for outcome in failed:
        print(f"FAIL {outcome.case.id}: {outcome.problem}")
    passed = len(outcomes) - len(failed)
    print(f"{passed} passed, {len(failed)} failed")
    sys.stdout.flush()
    return EXIT_FAILED if failed else EXIT_OK
