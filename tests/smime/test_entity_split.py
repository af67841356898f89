"""The MIME entity that is signed or encrypted (RFC 8551 §3.1).

``split_entity`` and ``make_seven_bit`` take shortcuts for the usual case
(canonical, 7-bit text); these properties hold them to what the rules say,
written out here independently: outer fields are everything but Content-*
and MIME-Version, the entity is the content fields plus the body with CRLF
line ends, and content is re-encoded only when it is 8-bit or has a line
over 998 octets.
"""

from __future__ import annotations

import quopri
import re

from hypothesis import example, given
from hypothesis import strategies as st

from mailcore._message import RawMessage
from mailcore.smime._mime import make_seven_bit, split_entity

_NAMES = st.sampled_from(
    ["From", "To", "Subject", "Content-Type", "content-transfer-encoding", "MIME-Version",
     "Content-Disposition", "X-Mailer", "Mime-Version", "Content-Typex"]
)  # fmt: skip
_VALUES = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=10)
_BODIES = st.one_of(
    st.binary(max_size=300),
    st.lists(st.sampled_from([b"line", b"\xc3\xa9t\xc3\xa9", b"x" * 1000, b""]), max_size=5).map(
        b"\r\n".join
    ),
    st.lists(st.sampled_from([b"a", b"b b", b""]), max_size=5).map(b"\n".join),
)


@st.composite
def _messages(draw: st.DrawFn) -> tuple[bytes, list[tuple[str, bytes]], bytes, bytes]:
    linesep = draw(st.sampled_from([b"\r\n", b"\n"]))
    fields = [
        (name, name.encode() + b": " + draw(_VALUES).encode() + linesep)
        for name in draw(st.lists(_NAMES, min_size=1, max_size=7))
    ]
    body = draw(_BODIES)
    data = b"".join(text for _, text in fields) + linesep + body
    return data, fields, body, linesep


def _crlf(data: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", data)


@given(_messages())
def test_the_split_follows_the_rules(
    generated: tuple[bytes, list[tuple[str, bytes]], bytes, bytes],
) -> None:
    data, fields, body, linesep = generated
    entity = split_entity(RawMessage(data))
    content = [text for name, text in fields if name.lower().startswith("content-")]
    outer = [
        text
        for name, text in fields
        if not name.lower().startswith("content-") and name.lower() != "mime-version"
    ]
    if not any(name.lower().startswith("content-type") for name, _ in fields):
        content.insert(0, b"Content-Type: text/plain; charset=us-ascii\r\n")
    assert entity.outer == b"".join(outer)
    assert entity.inner == _crlf(b"".join(content)) + b"\r\n" + _crlf(body)
    assert entity.linesep == linesep


def _reference_seven_bit(entity: bytes) -> bytes:
    head, separator, body = entity.partition(b"\r\n\r\n")
    if not separator:
        head, body = entity.rstrip(b"\r\n"), b""
    if body.isascii() and all(len(line) <= 998 for line in body.split(b"\r\n")):
        return entity
    fields = RawMessage(head + b"\r\n\r\n")
    kind = (fields.first("Content-Type") or "text/plain").split(";")[0].strip().lower()
    encoding = (fields.first("Content-Transfer-Encoding") or "").strip().lower()
    if kind.startswith("multipart/") or encoding in ("base64", "quoted-printable"):
        return entity
    return b""  # re-encoded: checked separately below


@given(_messages())
@example((b"Content-Type: text/plain\r\n\r\n" + b"x" * 999, [], b"", b"\r\n"))
@example((b"Content-Type: text/plain\r\n\r\n" + b"x" * 998, [], b"", b"\r\n"))
def test_seven_bit_content_is_left_alone_and_only_that(
    generated: tuple[bytes, list[tuple[str, bytes]], bytes, bytes],
) -> None:
    entity = split_entity(RawMessage(generated[0])).inner
    expected = _reference_seven_bit(entity)
    result = make_seven_bit(entity)
    if expected:
        assert result is entity
        return
    # Re-encoded: 7-bit, short lines, and the same content after decoding.
    assert result.isascii()
    head, _, body = result.partition(b"\r\n\r\n")
    assert all(len(line) <= 998 for line in body.split(b"\r\n"))
    original_body = entity.partition(b"\r\n\r\n")[2]
    if b"quoted-printable" in head.lower():
        assert _crlf(quopri.decodestring(body)) == _crlf(original_body)
