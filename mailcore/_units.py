"""Sizes and durations as administrators write them in policy files."""

from __future__ import annotations

import re

__all__ = ["SYNC_WINDOWS", "parse_size"]

_SIZE = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]i?B|B)?\s*\Z", re.IGNORECASE)
_FACTORS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "tb": 1000**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}

# EAS FilterType values of the contract's sync windows (JSON F).
SYNC_WINDOWS: dict[str, int] = {
    "1d": 1,
    "3d": 2,
    "1w": 3,
    "2w": 4,
    "1m": 5,
    "all": 0,
}


def parse_size(text: str | int) -> int:
    """Bytes from ``600MiB``, ``600MB``, ``1.5GB`` or plain bytes.

    MB/GB are decimal (SI), MiB/GiB binary (IEC 80000-13).
    """
    if isinstance(text, bool) or not isinstance(text, int | str):
        raise ValueError(f"{text!r} is not a size; write bytes or a string like '600MiB'")
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"{text} is negative; a size is 0 or more bytes")
        return text
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(
            f"{text!r} is not a size; write bytes or a number with B, KB, MB, GB, KiB, MiB or GiB"
        )
    number, unit = match.groups()
    factor = _FACTORS[(unit or "").lower()]
    if "." in number and factor == 1:
        raise ValueError(f"{text!r}: a number of bytes must be whole")
    return int(float(number) * factor) if "." in number else int(number) * factor
