"""``mailcore export vcard|ical (issue 6)``."""

from __future__ import annotations

import argparse

__all__ = ["add_export_commands"]


def add_export_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the command group (not built yet)."""
