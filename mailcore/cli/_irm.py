"""``mailcore irm show|apply (issue 5)``."""

from __future__ import annotations

import argparse

__all__ = ["add_irm_commands"]


def add_irm_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the command group (not built yet)."""
