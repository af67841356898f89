"""mbox files split with ``mmap`` and ``bytes.find``, never line by line.

A message starts at a ``From `` line (RFC 4155 §2) at the start of the file
or after an empty line, and the line must carry an ``asctime()`` date (only
the file's first line is taken without one).  So an unquoted ``From`` in a
body (mboxo, "From time to time ...") does not split a message, and text
after the date on the separator line is ignored (CPython's
``mailbox_01.mbox`` has both).

A message's size is its bytes between the end of its ``From `` line and the
empty line before the next separator — what ``mailbox.mbox`` returns for a
message; its received time is the ``From`` line's date (``Date:`` if that
does not parse).  A file that does not end with a line break, or whose last
message has no header block end, is counted as truncated.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable

from mailcore.errors import MailboxError
from mailcore.sizing._dates import envelope_time, rfc5322_time
from mailcore.sizing._mime import (
    attachment_bytes,
    field_values,
    header_end,
    may_have_attachments,
)
from mailcore.sizing._tally import ScanOptions, Tally

__all__ = ["is_mbox_file", "scan_mbox"]

_TICK = 16384


def is_mbox_file(path: str) -> bool:
    """A regular file that is empty or starts with ``From ``."""
    try:
        with open(path, "rb") as handle:
            start = handle.read(5)
    except OSError:
        return False
    return start in (b"", b"From ")


def _separator(data: mmap.mmap, newline: int, size: int) -> tuple[bool, float | None, int]:
    """Is there a message separator after the ``\\n`` at ``newline``?

    Returns (is a separator, its envelope time, end of its line).
    """
    # The previous line must be empty: "\n\nFrom " or "\n\r\nFrom ".
    previous = data[newline - 1] if newline >= 1 else 10
    if previous == 13 and newline >= 2:
        previous = data[newline - 2]
    if previous != 10:
        return False, None, -1
    line_end = data.find(b"\n", newline + 1)
    if line_end == -1:
        line_end = size
    received = envelope_time(data[newline + 1 : line_end])
    # No date, no separator: "From here on" followed by "From: x" in a body
    # looks exactly like an undated separator, and bodies are the commoner case.
    return received is not None, received, line_end


def scan_mbox(
    path: str, options: ScanOptions, tally: Tally, tick: Callable[[int], None] | None = None
) -> None:
    """Add the messages of one mbox file to ``tally``."""
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise MailboxError(f"cannot be read: {error.strerror}", where=path) from None
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size == 0:
            return
        try:
            data = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as error:
            raise MailboxError(f"cannot be mapped: {error}", where=path) from None
        with data:
            if data[:5] != b"From ":
                raise MailboxError("not an mbox file: it does not start with 'From '", where=path)
            _split(data, size, path, options, tally, tick)


def _split(
    data: mmap.mmap,
    size: int,
    path: str,
    options: ScanOptions,
    tally: Tally,
    tick: Callable[[int], None] | None,
) -> None:
    attachments = options.attachments
    find = data.find
    c0, c1, c2, c3, c4 = tally.starts
    counts, sizes, atts = tally.counts, tally.sizes, tally.attachments
    line_end = find(b"\n")
    if line_end == -1:
        tally.note("truncated", f"{path}: a From line and nothing else")
        return
    received = envelope_time(data[5:line_end])
    seen = 0
    while True:
        start = line_end + 1
        # Find the next real separator: "\nFrom " after an empty line, dated.
        search = start
        while True:
            candidate = find(b"\nFrom ", search)
            if candidate == -1:
                next_received, next_line_end, stop, following = None, -1, size, -1
                break
            ok, next_received, next_line_end = _separator(data, candidate, size)
            if ok:
                # The message ends before the empty line (its "\n" or "\r\n").
                stop = candidate - 1 if data[candidate - 1] == 13 else candidate
                following = next_line_end
                break
            search = candidate + 1
        seen += 1
        if tick is not None and not seen % _TICK:
            tick(_TICK)
        if following == -1:
            # The last message: drop the trailing empty line mbox writers add.
            if data[size - 1] != 10:
                tally.note("truncated", f"{path}: ends inside message {seen}")
            elif size - 2 >= start and data[size - 2] == 10:
                stop = size - 1
            elif size - 3 >= start and data[size - 3 : size - 1] == b"\n\r":
                stop = size - 2
        length = max(0, stop - start)
        attachment = 0
        if received is None or attachments:
            head_end, _ = header_end(data, start, stop)
            block = data[start : head_end if head_end != -1 else min(stop, start + 65536)]
            if received is None:
                dates = field_values(block, b"date")
                received = rfc5322_time(dates[0]) if dates else None
                if received is None:
                    tally.note("bad_date", f"{path}: message {seen}")
            if attachments and may_have_attachments(block):
                attachment = attachment_bytes(data[start:stop])
        if received is None:
            index = 5
        elif received < c4:
            index = 5
        elif received >= c0:
            index = 0
        elif received >= c1:
            index = 1
        elif received >= c2:
            index = 2
        elif received >= c3:
            index = 3
        else:
            index = 4
        counts[index] += 1
        sizes[index] += length
        if atts is not None:
            atts[index] += attachment
        if following == -1:
            break
        received, line_end = next_received, following
        if line_end >= size:
            tally.note("truncated", f"{path}: ends after a From line")
            break
    if tick is not None:
        tick(seen % _TICK)
