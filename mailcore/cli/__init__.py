"""The ``mailcore`` command line (contract §5)."""

from __future__ import annotations

import argparse
import atexit
import os
import sys
import threading
from collections.abc import Sequence
from typing import NoReturn

from mailcore import __version__
from mailcore.cli._directory import add_directory_commands
from mailcore.cli._export import add_export_commands
from mailcore.cli._irm import add_irm_commands
from mailcore.cli._marking import add_marking_commands
from mailcore.cli._process import add_process_commands
from mailcore.cli._runtime import EXIT_USAGE, UsageError, one_line, run_guarded
from mailcore.cli._serve import add_serve_commands
from mailcore.cli._size import add_size_commands
from mailcore.cli._smime import add_smime_commands
from mailcore.cli._vectors import add_vector_commands
from mailcore.policy import load_policy

__all__ = ["launch", "main"]


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error in one line and exits 2."""

    def error(self, message: str) -> NoReturn:
        print(f"mailcore: {message} (see '{self.prog} --help')", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree."""
    parser = _Parser(prog="mailcore", description="Secure enterprise mail content tools.")
    parser.add_argument(
        "--policy", metavar="FILE", help="policy file (TOML); default: built-in defaults"
    )
    parser.add_argument("--version", action="version", version=f"mailcore {__version__}")
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    add_marking_commands(commands)
    add_smime_commands(commands)
    add_directory_commands(commands)
    add_process_commands(commands)
    add_irm_commands(commands)
    add_export_commands(commands)
    add_size_commands(commands)
    add_serve_commands(commands)
    add_vector_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return int(stop.code or 0)

    def run() -> int:
        if not hasattr(args, "handler"):
            raise UsageError("no command given")
        policy = load_policy(args.policy)
        result: int = args.handler(args, policy)
        return result

    return run_guarded(run)


def launch() -> NoReturn:
    """Console-script entry point (and ``python -m mailcore``).

    Ends the process without the interpreter's tear-down of every module
    and object, which with cryptography and the pipeline loaded costs about
    20 ms on every run of a command that may itself take 100 ms.  Nothing
    is lost by it: the exit handlers still run, the standard streams are
    flushed here, and every file a command writes is closed before it
    returns.  A thread still running (none of the commands leaves one) gets
    the ordinary exit, which waits for it.
    """
    code = main()
    if threading.active_count() > 1:
        sys.exit(code)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except BrokenPipeError:
            pass  # the reader went away (piped into head): as run_guarded
        except OSError as error:  # e.g. a full disk under a redirection
            if stream is sys.stdout:
                print(
                    f"mailcore: cannot write standard output: {one_line(error)}", file=sys.stderr
                )
                code = code or EXIT_USAGE
    os._exit(code)
