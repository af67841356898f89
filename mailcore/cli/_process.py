"""``mailcore process (issue 8)``."""

from __future__ import annotations

import argparse

__all__ = ["add_process_commands"]


def add_process_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the command group (not built yet)."""
