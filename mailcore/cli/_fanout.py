"""Run one job per item on several processes: the command's own and forked ones.

``process --jobs N`` on a folder: the command's process works through the
items itself and forks N - 1 helpers after its imports, so that every
process starts with the code already loaded and none sits idle handing out
work.  Items are claimed one chunk at a time from a pipe filled before the
fork (a read of 4 bytes from a pipe is atomic, so no two processes claim the
same chunk); each helper sends its results back in small pickled batches on
a pipe of its own.  An item claimed by a helper that dies gets the
``lost`` result, never silence.

Where ``os.fork`` does not exist, the items run in the one process.
"""

from __future__ import annotations

import gc
import os
import pickle
import select
import signal
import struct
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["fan_out"]

_Item = TypeVar("_Item")
_Result = TypeVar("_Result")

_CLAIM = struct.Struct("=I")
_LENGTH = struct.Struct("=I")
# All claims are written before any process reads them: they must fit in
# the smallest buffer a Linux pipe can have (one page, when the user's pipe
# quota is used up), or the write would wait for ever.
_CLAIMS_SPACE = 4096
_BATCH = 16  # results per message from a helper: few wake-ups, little lost to a crash


def fan_out(
    items: Sequence[_Item],
    work: Callable[[_Item], _Result],
    *,
    processes: int,
    start: Callable[[], None],
    lost: Callable[[_Item, str], _Result],
    done: Callable[[int], None] | None = None,
) -> list[_Result]:
    """``work(item)`` for every item, on ``processes`` processes; results in item order.

    ``start`` runs once in every process before its first item (the
    per-process set-up, such as loading keys).  ``lost(item, why)`` is the
    result of an item whose helper process ended before reporting it.
    ``done(count)`` is called in this process as results come in (a
    progress display).
    """
    count = len(items)
    # What exists now (the code, the caller's data) lives to the end: left
    # out of garbage collection, it is not traversed again by every full
    # collection, and after a fork not written to (each page written is
    # copied, in this process and in every helper).
    gc.freeze()
    try:
        if processes <= 1 or count <= 1 or not hasattr(os, "fork"):
            start()
            results = []
            for item in items:
                results.append(work(item))
                if done is not None:
                    done(len(results))
            return results
        return _Run(items, work, min(processes, count), start, lost, done).results()
    finally:
        gc.unfreeze()  # the caller's objects are collectable again


class _Run:
    """One fanned-out run: the claims pipe, the helpers and their result pipes."""

    def __init__(
        self,
        items: Sequence[Any],
        work: Callable[[Any], Any],
        processes: int,
        start: Callable[[], None],
        lost: Callable[[Any, str], Any],
        done: Callable[[int], None] | None,
    ) -> None:
        self._items = items
        self._work = work
        self._start = start
        self._lost = lost
        self._done = done
        self._results: list[Any] = [_MISSING] * len(items)
        self._finished = 0
        # Chunks small enough to keep every process busy to the end, large
        # enough that all claims fit in the pipe before any process reads.
        most = _CLAIMS_SPACE // _CLAIM.size
        self._chunk = max(1, -(-len(items) // most))
        self._processes = processes
        self._helpers: dict[int, int] = {}  # read end of its result pipe -> pid
        self._buffers: dict[int, bytearray] = {}
        self._deaths: list[str] = []

    def results(self) -> list[Any]:
        claims = self._claims_pipe()
        try:
            self._fork_helpers(claims)
            self._start()
            self._work_through(claims, helper=False)
            self._collect(block=True)
        finally:
            os.close(claims)
            self._reap()
        # Every process finishes the chunks it claims, so only a helper that
        # died leaves items unreported.
        why = self._deaths[0] if self._deaths else "its worker process did not report it"
        for index, result in enumerate(self._results):
            if result is _MISSING:
                self._record(index, self._lost(self._items[index], why))
        return self._results

    # -- both sides ----------------------------------------------------------------

    def _claims_pipe(self) -> int:
        read_end, write_end = os.pipe()
        starts = range(0, len(self._items), self._chunk)
        os.write(write_end, b"".join(_CLAIM.pack(first) for first in starts))
        os.close(write_end)  # an empty pipe then reads as end of file: no work left
        return read_end

    def _claim(self, claims: int) -> range | None:
        data = os.read(claims, _CLAIM.size)
        if not data:
            return None
        (first,) = _CLAIM.unpack(data)
        return range(first, min(first + self._chunk, len(self._items)))

    def _work_through(self, claims: int, *, helper: bool, send: int = -1) -> None:
        batch: list[tuple[int, Any]] = []
        while (chunk := self._claim(claims)) is not None:
            for index in chunk:
                result = self._work(self._items[index])
                if helper:
                    batch.append((index, result))
                    if len(batch) >= _BATCH:
                        _send(send, batch)
                        batch = []
                else:
                    self._record(index, result)
            if not helper and self._helpers:
                self._collect(block=False)
        if helper and batch:
            _send(send, batch)

    # -- this process ---------------------------------------------------------------

    def _fork_helpers(self, claims: int) -> None:
        # Anything still buffered would otherwise be written once per process.
        sys.stdout.flush()
        sys.stderr.flush()
        for _ in range(self._processes - 1):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:  # the helper
                os.close(read_end)
                self._helper(claims, write_end)
            os.close(write_end)
            os.set_blocking(read_end, False)
            self._helpers[read_end] = pid
            self._buffers[read_end] = bytearray()

    def _record(self, index: int, result: Any) -> None:
        self._results[index] = result
        self._finished += 1
        if self._done is not None:
            self._done(self._finished)

    def _collect(self, *, block: bool) -> None:
        """Read what the helpers have sent (all of it, to their end, if ``block``)."""
        while self._helpers:
            ready = list(self._helpers)
            if block:
                ready, _, _ = select.select(ready, [], [])
            progressed = False
            for pipe in ready:
                try:
                    data = os.read(pipe, 1 << 16)
                except BlockingIOError:
                    continue
                progressed = True
                if not data:  # the helper closed its pipe: it has finished
                    self._close(pipe)
                    continue
                self._unpack(pipe, data)
            if not block and not progressed:
                return

    def _unpack(self, pipe: int, data: bytes) -> None:
        buffer = self._buffers[pipe]
        buffer += data
        while len(buffer) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(buffer)
            end = _LENGTH.size + length
            if len(buffer) < end:
                break
            for index, result in pickle.loads(buffer[_LENGTH.size : end]):
                self._record(index, result)
            del buffer[:end]

    def _close(self, pipe: int) -> None:
        os.close(pipe)
        pid = self._helpers.pop(pipe)
        del self._buffers[pipe]
        _, status = os.waitpid(pid, 0)
        if status != 0:
            self._deaths.append(_ending(status))

    def _reap(self) -> None:
        """Stop and wait for any helper still running (only when this process
        is failing: normally every helper has ended by now)."""
        for pipe, pid in list(self._helpers.items()):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            os.close(pipe)
        self._helpers.clear()

    # -- a helper -------------------------------------------------------------------

    def _helper(self, claims: int, send: int) -> None:
        """The forked side: never returns (its exit skips the parent's clean-up)."""
        code = 0
        try:
            for pipe in self._helpers:
                os.close(pipe)  # the earlier helpers' pipes are not ours to hold open
            self._helpers = {}
            self._start()
            self._work_through(claims, helper=True, send=send)
            os.close(send)
        except BaseException:
            code = 70  # EX_SOFTWARE
        finally:
            os._exit(code)


class _Missing:
    __slots__ = ()


_MISSING: Any = _Missing()


def _send(pipe: int, batch: list[tuple[int, Any]]) -> None:
    payload = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(_LENGTH.pack(len(payload)) + payload)
    while view:
        view = view[os.write(pipe, view) :]


def _ending(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"its worker process was killed ({name})"
    return f"its worker process failed (exit {os.waitstatus_to_exitcode(status)})"
