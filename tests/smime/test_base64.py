"""Base64 bodies (RFC 2045 §6.8): mailcore cuts the lines itself, in blocks
of 64 per C call, so the lines must be exactly those of the standard
library's encoder whatever the length, the pieces and the line separator."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailcore.smime._mime import _BASE64_BLOCK, base64_blocks, base64_lines


def _expected(data: bytes, linesep: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", linesep)


@given(st.binary(max_size=20_000), st.sampled_from([b"\r\n", b"\n"]))
def test_lines_match_the_standard_encoder(data: bytes, linesep: bytes) -> None:
    assert base64_lines(data, linesep) == _expected(data, linesep)


@given(st.lists(st.binary(max_size=6_000), max_size=5), st.sampled_from([b"\r\n", b"\n"]))
def test_pieces_encode_as_if_joined(pieces: list[bytes], linesep: bytes) -> None:
    joined = b"".join(pieces)
    assert b"".join(base64_blocks(pieces, linesep)) == _expected(joined, linesep)
    assert b"".join(base64_blocks([memoryview(p) for p in pieces], linesep)) == _expected(
        joined, linesep
    )


@pytest.mark.parametrize(
    "size",
    [
        0, 1, 56, 57, 58, 57 * 63, 57 * 64, 57 * 64 + 1, 57 * 128 - 1,
        _BASE64_BLOCK - 1, _BASE64_BLOCK, _BASE64_BLOCK + 1, 2 * _BASE64_BLOCK + 58,
    ],
)  # fmt: skip
def test_lengths_at_line_and_block_edges(size: int) -> None:
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    assert base64_lines(data) == _expected(data, b"\r\n")
    halves: list[bytes | memoryview] = [data[: size // 3], memoryview(data)[size // 3 :]]
    assert b"".join(base64_blocks(halves)) == _expected(data, b"\r\n")


def test_every_line_is_at_most_76_characters() -> None:
    lines = base64_lines(bytes(10_000)).split(b"\r\n")
    assert lines[-1] == b""
    assert all(len(line) == 76 for line in lines[:-2])
    assert 0 < len(lines[-2]) <= 76
