"""Reading the start of a message file (and the whole of it when needed)."""

from __future__ import annotations

import errno
import os
import stat

from mailcore.sizing._mime import attachment_bytes, header_end, may_have_attachments

__all__ = ["HEAD", "MessageHead", "read_head"]

HEAD = 8192  # most header blocks fit; longer ones are read on up to MAX_HEAD
MAX_HEAD = 256 * 1024


class MessageHead:
    """The header block of a file, its size on disk and mtime."""

    __slots__ = ("block", "complete", "mtime", "size")

    def __init__(self, block: bytes, complete: bool, size: int, mtime: float) -> None:
        self.block = block
        self.complete = complete  # a blank line ended the header block
        self.size = size
        self.mtime = mtime


def read_head(path: str | bytes, *, attachments: bool) -> tuple[MessageHead, int]:
    """The header block of a message file and its attachment bytes.

    Reads the first 8 KiB (more only when the header block is longer) and
    the whole file only when the header says it may have attachments.
    Raises ``OSError`` for files that cannot be read.
    """
    # O_NONBLOCK: a FIFO or device in a mailbox folder must not hang the
    # scan; anything that is not a regular file is refused right after open.
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file", path)
        data = os.read(fd, HEAD)
        end, _ = header_end(data)
        while end == -1 and len(data) < min(info.st_size, MAX_HEAD):
            more = os.read(fd, HEAD * 4)
            if not more:
                break
            data += more
            end, _ = header_end(data)
        block = data if end == -1 else data[:end]
        found = 0
        if attachments and may_have_attachments(block):
            rest = bytearray(data)
            while True:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    break
                rest += chunk
            found = attachment_bytes(bytes(rest))
        return MessageHead(block, end != -1, info.st_size, info.st_mtime), found
    finally:
        os.close(fd)
