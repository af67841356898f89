"""``mailcore directory lookup (issue 4)``."""

from __future__ import annotations

import argparse

__all__ = ["add_directory_commands"]


def add_directory_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the command group (not built yet)."""
