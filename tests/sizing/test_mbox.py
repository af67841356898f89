"""The mbox splitter: edge cases written for these tests (in the spirit of CPython's
``mailbox_01.mbox``: an unquoted ``From`` in a body, extra text on the separator line),
and the standard library's ``mailbox.mbox`` as an oracle on files where both rules agree.
"""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailcore.errors import MailboxError
from mailcore.sizing import size_mailbox

NOW = 1_700_000_000.0  # Tue Nov 14 22:13:20 2023 UTC
HEAD = b"From: a@example.com\nSubject: s\nDate: Tue, 14 Nov 2023 10:00:00 +0000\n\n"


def _size(path: Path, **kwargs: object) -> dict[str, tuple[int, int]]:
    sizing = size_mailbox(path, now=NOW, **kwargs)  # type: ignore[arg-type]
    return {w.window: (w.messages, w.bytes) for w in sizing.windows}


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "mbox"
    path.write_bytes(data)
    return path


def test_unquoted_from_in_body_and_extra_info(tmp_path: Path) -> None:
    first = HEAD + b"From time to time a body line starts like this.\nbye\n"
    second = HEAD + b"hello\n\nFrom time to time, after an empty line too.\nend\n"
    data = (
        b"From MAILER-DAEMON Tue Nov 14 10:00:00 2023 extra info\n" + first + b"\n"
        b"From bob@example.com Mon Nov 13 09:00:00 2023\n" + second + b"\n"
    )
    path = _write(tmp_path, data)
    got = _size(path, attachments=False)
    assert got["all"] == (2, len(first) + len(second))
    assert got["1d"] == (1, len(first))
    assert got["3d"] == (2, len(first) + len(second))


def test_stdlib_agrees_where_the_rules_agree(tmp_path: Path) -> None:
    bodies = [HEAD + b"one\n", HEAD + b"two\nlines\n", HEAD + b">From quoted\n"]
    data = b"".join(
        f"From x@example.com Mon Nov 13 0{i}:00:00 2023\n".encode() + body + b"\n"
        for i, body in enumerate(bodies)
    )
    path = _write(tmp_path, data)
    stdlib = mailbox.mbox(str(path), create=False)
    try:
        sizes = [len(stdlib.get_bytes(key)) for key in stdlib.keys()]
    finally:
        stdlib.close()
    assert _size(path)["all"] == (len(sizes), sum(sizes))


def test_crlf_mbox(tmp_path: Path) -> None:
    message = HEAD.replace(b"\n", b"\r\n") + b"body\r\n"
    data = (
        b"From a Mon Nov 13 09:00:00 2023\r\n" + message + b"\r\n"
        b"From b Mon Nov 13 10:00:00 2023\r\n" + message + b"\r\n"
    )
    assert _size(_write(tmp_path, data))["all"] == (2, 2 * len(message))


def test_zone_after_time_and_year(tmp_path: Path) -> None:
    data = (
        b"From a Tue Nov 14 23:30:00 +0200 2023\n" + HEAD + b"x\n\n"  # 21:30 UTC
        b"From b Tue Nov 14 08:00:00 2023 -0500\n" + HEAD + b"y\n\n"  # 13:00 UTC
    )
    got = _size(_write(tmp_path, data), attachments=False)
    assert got["1d"][0] == 2


def test_truncated_mbox_is_counted_and_reported(tmp_path: Path) -> None:
    data = b"From a Mon Nov 13 09:00:00 2023\n" + HEAD + b"ok\n\nFrom b Mon Nov 13 10:00:00 2023\n"
    data += HEAD + b"cut in the mid"
    sizing = size_mailbox(_write(tmp_path, data), now=NOW)
    assert sizing.window("all").messages == 2
    assert sizing.bad_input.truncated == 1
    assert sizing.window("all").bytes == len(HEAD) * 2 + len(b"ok\n") + len(b"cut in the mid")


def test_separator_at_end_of_file(tmp_path: Path) -> None:
    data = b"From a Mon Nov 13 09:00:00 2023\n" + HEAD + b"ok\n\nFrom b Mon Nov 13 10:00:00 2023"
    sizing = size_mailbox(_write(tmp_path, data), now=NOW)
    assert sizing.window("all").messages == 1
    assert sizing.bad_input.truncated == 1


def test_undated_from_lines(tmp_path: Path) -> None:
    # The first line is a separator even without a date: Date: is used instead.
    data = b"From nobody\n" + HEAD + b"first\n\nFrom broken no date here\n" + HEAD + b"x\n\n"
    sizing = size_mailbox(_write(tmp_path, data), now=NOW, attachments=False)
    assert sizing.window("all").messages == 1  # an undated From line later is body text
    assert sizing.window("1d").messages == 1  # Date: Tue, 14 Nov 2023 10:00
    assert sizing.bad_input.bad_date == 0
    data = b"From nobody\nSubject: no date\n\nbody\n\n"
    sizing = size_mailbox(_write(tmp_path, data), now=NOW, attachments=False)
    assert sizing.bad_input.bad_date == 1
    assert [w.messages for w in sizing.windows] == [0, 0, 0, 0, 0, 1]


def test_empty_and_not_an_mbox(tmp_path: Path) -> None:
    empty = _write(tmp_path, b"")
    assert size_mailbox(empty, now=NOW).window("all").messages == 0
    other = tmp_path / "notes.txt"
    other.write_bytes(b"Dear diary\n")
    with pytest.raises(MailboxError, match="does not start with 'From '"):
        size_mailbox(other, now=NOW)
    with pytest.raises(MailboxError, match="no such file"):
        size_mailbox(tmp_path / "missing", now=NOW)


_LINE = st.sampled_from(
    [b"text", b"From here on", b"From time to time", b"", b">From x", b"From: header-like"]
)


@settings(max_examples=60)
@given(st.lists(st.lists(_LINE, max_size=6), min_size=1, max_size=6))
def test_bodies_never_split_messages(tmp_path_factory: object, bodies: list[list[bytes]]) -> None:
    # Any body (blank lines, "From " lines without a date) stays one message.
    import tempfile

    messages = [HEAD + b"".join(line + b"\n" for line in body) for body in bodies]
    data = b"".join(
        f"From x@example.com Mon Nov 13 0{i % 10}:00:00 2023 extra\n".encode() + m + b"\n"
        for i, m in enumerate(messages)
    )
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "mbox"
        path.write_bytes(data)
        got = _size(path, attachments=False)
    assert got["all"] == (len(messages), sum(len(m) for m in messages))
