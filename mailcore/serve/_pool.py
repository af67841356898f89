"""Where the pipeline runs: worker processes on every core, or threads.

The pipeline is CPU-bound (RSA, hashing, MIME) and holds the GIL: threads
share one core.  :class:`WorkerPool` runs it in ``[serve] workers``
processes instead (``python -m mailcore.serve._worker``, a fresh
interpreter each: nothing is inherited through ``fork`` from a process that
has threads, sockets or LDAP connections).  Each worker builds its own
:class:`~mailcore.pipeline.Pipeline` from the policy; a request is the
message's bytes and envelope, a result the processed bytes and the report's
summary (:class:`~mailcore.serve._worker.Processed`).

A worker gets at most two messages at a time (the next one waits in its pipe
while it works on the first, so it never idles between messages); the others
wait in the filter, in order of arrival.  When a worker dies (a crash, a
``SIGKILL``), the message it was working on fails with :class:`WorkerLost`
(the client gets 451 and retries); the message waiting behind it goes back to
the queue (the pipeline has no side effect: nothing was sent anywhere), and a
new worker is started.  A message not finished ``process_timeout`` seconds
after it arrived fails with :class:`TimeoutError`; if a worker was busy with
it, that worker is killed (it would stay stuck) and replaced.

:class:`ThreadRunner` is the other place: a pool of threads sharing one
:class:`~mailcore.pipeline.Pipeline` object, for a library caller who passes
one to :class:`~mailcore.serve.ContentFilter` (an object cannot be sent to
another process).  A message that takes too long gets :class:`TimeoutError`
too; its thread runs on and its result is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import pickle
import sys
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import mailcore
from mailcore.errors import ServiceUnavailable
from mailcore.pipeline import Pipeline
from mailcore.policy import Policy
from mailcore.serve._direction import Direction
from mailcore.serve._log import MessageLog
from mailcore.serve._worker import HEADER, Processed, frame, process_one

__all__ = ["Runner", "ThreadRunner", "WorkerLost", "WorkerPool"]

_DEPTH = 2
"""Messages handed to one worker at a time (one in work, one waiting)."""
_START_SECONDS = 60.0
"""How long a new worker may take to load the policy, keys and trust anchors."""
_STOP_SECONDS = 10.0
"""How long closed workers may take to finish their message before they are killed."""


class WorkerLost(Exception):
    """The worker process that held the message died (crashed or killed)."""


class Runner(Protocol):
    """Runs the pipeline for :class:`~mailcore.serve.ContentFilter`."""

    async def start(self) -> None:
        """Get ready (start the workers)."""

    async def process(
        self, direction: Direction, sender: str, recipients: Sequence[str], data: bytes
    ) -> Processed:
        """One message; raises :class:`TimeoutError` or :class:`WorkerLost`."""

    async def close(self, grace: float) -> None:
        """Stop; after ``grace`` seconds nothing is left running."""


class ThreadRunner:
    """The pipeline on ``size`` threads sharing ``pipeline`` (a library caller's object)."""

    def __init__(self, pipeline: Pipeline, size: int, *, timeout: float) -> None:
        self.pipeline = pipeline
        self.size = size
        self.timeout = timeout
        self._threads: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        self._threads = ThreadPoolExecutor(self.size, thread_name_prefix="mailcore-pipeline")

    async def process(
        self, direction: Direction, sender: str, recipients: Sequence[str], data: bytes
    ) -> Processed:
        assert self._threads is not None, "start() first"
        loop = asyncio.get_running_loop()
        work = loop.run_in_executor(
            self._threads, process_one, self.pipeline, direction, sender, recipients, data
        )
        return await asyncio.wait_for(work, self.timeout)

    async def close(self, grace: float = 0.0) -> None:
        if self._threads is not None:
            # No waiting on the loop's thread: a thread still running a
            # message whose result nobody wants ends on its own (and the
            # interpreter joins it at exit).
            self._threads.shutdown(wait=False, cancel_futures=True)


@dataclass(eq=False)
class _Request:
    number: int
    frame: bytes
    future: asyncio.Future[Processed]
    timer: asyncio.TimerHandle | None = None
    worker: _Worker | None = None


@dataclass(eq=False)
class _Worker:
    process: asyncio.subprocess.Process
    pid: int
    held: deque[_Request] = field(default_factory=deque)
    """Sent to this worker and not answered yet, oldest (the one in work) first."""
    reader: asyncio.Task[None] | None = None
    gone: bool = False


class WorkerPool:
    """The pipeline in ``size`` worker processes built from ``policy``."""

    def __init__(self, policy: Policy, size: int, *, timeout: float, log: MessageLog) -> None:
        self.policy = policy
        self.size = size
        self.timeout = timeout
        self.log = log
        self._workers: list[_Worker] = []
        self._queue: deque[_Request] = deque()
        self._numbers = itertools.count(1)
        self._spawning: set[asyncio.Task[None]] = set()
        self._closing = False
        # The worker imports mailcore the way this process did, wherever it is.
        root = str(Path(mailcore.__file__).resolve().parent.parent)
        path = os.environ.get("PYTHONPATH")
        self._environment = {
            **os.environ,
            "PYTHONPATH": root if not path else os.pathsep.join((root, path)),
        }

    @property
    def pids(self) -> list[int]:
        """The process ids of the running workers."""
        return [worker.pid for worker in self._workers]

    # -- workers --------------------------------------------------------------------

    async def start(self) -> None:
        """Start every worker; raises :class:`ServiceUnavailable` if one cannot start."""
        started = await asyncio.gather(
            *(self._spawn() for _ in range(self.size)), return_exceptions=True
        )
        workers = [worker for worker in started if isinstance(worker, _Worker)]
        for worker in workers:
            self._adopt(worker)
        failure = next((e for e in started if isinstance(e, BaseException)), None)
        if failure is not None:
            await self.close(0)
            raise failure

    async def _spawn(self) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "mailcore.serve._worker",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            # Nothing a worker could print belongs in the filter's log.
            stderr=asyncio.subprocess.DEVNULL,
            env=self._environment,
        )  # fmt: skip
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(frame(self.policy))
        try:
            hello = await asyncio.wait_for(_read(process.stdout), _START_SECONDS)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            hello = None
        except BaseException:
            # Cancelled while the worker starts (shutdown): it must not
            # outlive the filter.
            await _stop(process, 0)
            raise
        if not (isinstance(hello, tuple) and hello and hello[0] == "ready"):
            await _stop(process, 0)
            why = (
                f"{hello[1]}: {hello[2]}"
                if isinstance(hello, tuple) and len(hello) == 3
                else ("it exited" if process.returncode is not None else "it did not answer")
            )
            raise ServiceUnavailable(f"a pipeline worker process did not start ({why})")
        return _Worker(process, process.pid)

    def _adopt(self, worker: _Worker) -> None:
        self._workers.append(worker)
        worker.reader = asyncio.ensure_future(self._results(worker))
        self._dispatch()

    async def _results(self, worker: _Worker) -> None:
        """Read the worker's results until it ends; then account for what it held."""
        stdout = worker.process.stdout
        assert stdout is not None
        try:
            while True:
                number, fields = cast(tuple[int, tuple[Any, ...]], await _read(stdout))
                if not worker.held or worker.held[0].number != number:
                    raise ValueError("a result for a message the worker did not hold")
                request = worker.held.popleft()
                if request.timer is not None:
                    request.timer.cancel()
                if not request.future.done():
                    request.future.set_result(Processed(*fields))
                self._dispatch()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the worker ended
        except Exception as error:  # a garbled result: this worker is not trusted again
            self.log.event("worker_failed", pid=worker.pid, error=type(error).__name__)
        await self._lost(worker)

    async def _lost(self, worker: _Worker) -> None:
        worker.gone = True
        if worker in self._workers:
            self._workers.remove(worker)
        await _stop(worker.process, 0)
        held = list(worker.held)
        worker.held.clear()
        if held:
            first, waiting = held[0], held[1:]
            if not first.future.done():
                first.future.set_exception(
                    WorkerLost("the pipeline worker processing the message died")
                )
            # Not started, or started with no effect outside the worker:
            # these go to another worker, ahead of later arrivals (unless
            # the pool is closing: then there is no other worker).
            for request in reversed(waiting):
                if request.future.done():
                    continue
                if self._closing:
                    request.future.set_exception(WorkerLost("the filter is shutting down"))
                else:
                    request.worker = None
                    self._queue.appendleft(request)
        if not self._closing:
            self.log.event("worker_exited", pid=worker.pid, status=worker.process.returncode,
                           lost=len(held) > 0)  # fmt: skip
            task = asyncio.ensure_future(self._replace())
            self._spawning.add(task)
            task.add_done_callback(self._spawning.discard)
        self._dispatch()

    async def _replace(self) -> None:
        delay = 0.0
        while not self._closing:
            try:
                worker = await self._spawn()
            except (ServiceUnavailable, OSError) as error:
                # Never a busy loop: wait longer after each failure (5 s at most);
                # messages meanwhile wait, then time out with 451.
                delay = min(5.0, max(0.5, delay * 2))
                self.log.event("worker_failed", error=type(error).__name__, retry_in=delay)
                await asyncio.sleep(delay)
                continue
            if self._closing:
                await _stop(worker.process, 0)
                return
            self._adopt(worker)
            return

    # -- messages -------------------------------------------------------------------

    async def process(
        self, direction: Direction, sender: str, recipients: Sequence[str], data: bytes
    ) -> Processed:
        """One message through a worker; :class:`TimeoutError` or :class:`WorkerLost`."""
        loop = asyncio.get_running_loop()
        number = next(self._numbers)
        request = _Request(
            number, frame((number, direction, sender, tuple(recipients), data)),
            loop.create_future(),
        )  # fmt: skip
        request.timer = loop.call_later(self.timeout, self._expire, request)
        self._queue.append(request)
        self._dispatch()
        try:
            return await request.future
        finally:
            if request.timer is not None:
                request.timer.cancel()
            if request.worker is None and not request.future.done():
                request.future.cancel()
            # A request given up (cancelled) while still queued is dropped.
            if request.worker is None and request in self._queue:
                self._queue.remove(request)

    def _dispatch(self) -> None:
        while self._queue:
            ready = [w for w in self._workers if not w.gone and len(w.held) < _DEPTH]
            if not ready:
                return
            worker = min(ready, key=lambda w: len(w.held))
            request = self._queue.popleft()
            if request.future.done():
                continue
            request.worker = worker
            worker.held.append(request)
            stdin = worker.process.stdin
            assert stdin is not None
            stdin.write(request.frame)

    def _expire(self, request: _Request) -> None:
        if request.future.done():
            return
        request.future.set_exception(TimeoutError())
        worker = request.worker
        if worker is None:
            self._queue.remove(request)
        elif worker.held and worker.held[0] is request and not worker.gone:
            # The worker is stuck on this message: stop it; what it held
            # besides goes to the others, and a new worker replaces it.
            with contextlib.suppress(ProcessLookupError):
                worker.process.kill()

    # -- shutdown -------------------------------------------------------------------

    async def close(self, grace: float = _STOP_SECONDS) -> None:
        """Stop every worker: each ends after the message in work, or is killed after ``grace``."""
        self._closing = True
        for task in list(self._spawning):
            task.cancel()
        for request in self._queue:
            if not request.future.done():
                request.future.set_exception(WorkerLost("the filter is shutting down"))
        self._queue.clear()
        workers, self._workers = list(self._workers), []
        for worker in workers:
            stdin = worker.process.stdin
            if stdin is not None:
                stdin.close()  # end of input: the worker exits
        await asyncio.gather(*(_stop(w.process, grace) for w in workers))
        readers = [w.reader for w in workers if w.reader is not None]
        await asyncio.gather(*readers, *self._spawning, return_exceptions=True)


async def _read(stream: asyncio.StreamReader) -> object:
    header = await stream.readexactly(HEADER.size)
    (size,) = HEADER.unpack(header)
    return pickle.loads(await stream.readexactly(size))


async def _stop(process: asyncio.subprocess.Process, grace: float) -> None:
    """Wait ``grace`` seconds for ``process`` to end, then kill it; reap it."""
    if process.returncode is None and grace > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), grace)
    if process.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
    await process.wait()
