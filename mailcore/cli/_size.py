"""``mailcore size (issue 7)``."""

from __future__ import annotations

import argparse

__all__ = ["add_size_commands"]


def add_size_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the command group (not built yet)."""
