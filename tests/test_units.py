"""Sizes and sync windows as administrators write them (contract §4, §5, §6 F)."""

from __future__ import annotations

import pytest

from mailcore._units import SYNC_WINDOWS, parse_size

SIZES = {
    # contract §5: SIZE accepts 600MiB, 600MB, plain bytes.
    "contract-mebibytes": ("600MiB", 600 * 1024 * 1024),
    "contract-megabytes": ("600MB", 600_000_000),
    "contract-plain-int": (629145600, 629145600),
    "plain-digits-string": ("1024", 1024),
    "bytes-suffix": ("10B", 10),
    "kilobytes-decimal": ("2KB", 2000),
    "kibibytes-binary": ("2KiB", 2048),
    "gigabytes-decimal": ("1GB", 1_000_000_000),
    "gibibytes-binary": ("1GiB", 1 << 30),
    "tebibytes-binary": ("1TiB", 1 << 40),
    "fraction-of-a-unit": ("1.5GB", 1_500_000_000),
    "unit-case-insensitive": ("600mib", 600 * 1024 * 1024),
    "space-before-unit": ("600 MiB", 600 * 1024 * 1024),
    "zero": (0, 0),
}


@pytest.mark.parametrize(("text", "expected"), SIZES.values(), ids=SIZES.keys())
def test_parse_size(text: str | int, expected: int) -> None:
    assert parse_size(text) == expected


BAD_SIZES = {
    "word": "lots",
    "unknown-unit": "5PB",
    "fractional-bytes": "1.5",
    "negative-int": -1,
    "negative-string": "-5MB",
    "empty": "",
    "bool": True,
}


@pytest.mark.parametrize("text", BAD_SIZES.values(), ids=BAD_SIZES.keys())
def test_parse_size_refuses(text: str | int) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        parse_size(text)


def test_sync_windows_match_the_contract() -> None:
    # Contract §6 F: windows in order with their EAS FilterType values.
    assert list(SYNC_WINDOWS.items()) == [
        ("1d", 1),
        ("3d", 2),
        ("1w", 3),
        ("2w", 4),
        ("1m", 5),
        ("all", 0),
    ]
