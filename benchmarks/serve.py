"""``mailcore serve`` benchmarks (issue 9: the SMTP content filter).

Both rows send a batch of the pipeline benchmark's messages (10 KB, three
recipients; sign + encrypt) over 20 concurrent SMTP connections, each
connection sending its share one message after another, and count a batch
only when every message got 250 *and* the sink received every Message-ID of
the batch exactly once.  ``mailcore serve`` runs as its own process
(``python -m mailcore serve``, with its default worker processes).  One call
is one batch: messages/s = ops/s x batch size (2,000 messages; 40 under
``--quick``).

The load generator and the sink stand for a real MTA (Postfix, written in
C) on either side of the filter, so that the figures measure the filter and
not a Python SMTP client:

* The load generator is a raw asyncio SMTP client (no smtplib), in a process
  of its own: per connection EHLO once, then for each message MAIL, three
  RCPT and DATA sent in one write when the server offers PIPELINING (RFC
  2920, as Postfix's smtp client does; one command at a time otherwise),
  then the message already dot-stuffed (prepared before the clock starts)
  and its final dot; it checks that every reply is 250 (354 for DATA).
* The sink is a minimal SMTP server in that same process (an
  ``asyncio.Protocol``, PIPELINING offered): it accepts every command,
  answers the commands a read brought in one write, and keeps a count per
  Message-ID of what it received, which is checked after each batch.

Both paths use the very same generator and sink; the ``mailcore process``
peer is the command line on a folder of the same messages (default
``--jobs``, process start included).

* ``serve.20conn`` — the batch through ``mailcore serve`` against the same
  batch sent straight to the sink (unprocessed): the whole cost of the
  filter, pipeline included.  Reported; the goal (0.05x) only catches a
  collapse, since the sink alone does no cryptography at all.
* ``serve.vs.process`` — the same batch through ``mailcore serve`` against
  ``mailcore process`` on a folder of the same messages.  Goal 0.7x (issue 9).

The latency of each message (MAIL to the reply to the final dot) is
collected over every batch sent through ``serve``; p50 and p99 are printed
to stderr when the run ends, with the best messages/s of each path.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from functools import cache
from pathlib import Path
from typing import IO, Any, ClassVar

from benchmarks._harness import Benchmark, Goal
from mailcore.demo._pipeline_demo import PASSWORD, PEOPLE, POLICY, build_demo_folder

__all__ = ["BENCHMARKS"]

QUICK = "--quick" in sys.argv
COUNT = 40 if QUICK else 2000
CONNECTIONS = 20
JO, PLANNING, SAM = PEOPLE
RECIPIENTS = (PLANNING, SAM, JO)
BODY = "".join(
    f"Line {n:03d}: the revised figures are in the shared folder, see below.\r\n"
    for n in range(140)
)[:10_000]
_LATENCIES: list[float] = []
# Best batch time per path, for the messages/s line printed at exit (the
# table shows batches/s, which rounds to 0 for batches this big).
_BEST: dict[str, float] = {}
_REPO = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _message(number: int) -> bytes:
    return (
        f"From: Jo Citizen <{JO}>\r\nTo: {PLANNING}, {SAM}\r\nCc: {JO}\r\n"
        f"Subject: Budget planning {number}\r\nMessage-ID: <s{number}@agency.gov.au>\r\n"
        f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n{BODY}\r\n"
    ).encode()


def _message_id(number: int) -> bytes:
    return f"<s{number}@agency.gov.au>".encode()


@cache
def _messages() -> tuple[bytes, ...]:
    return tuple(_message(number) for number in range(COUNT))


# -- the load generator and the sink (their own process) -------------------------------

_MESSAGE_ID = re.compile(rb"(?im)^message-id:[ \t]*(\S+)")
_LEADING_DOT = re.compile(rb"(?m)^\.")
_BATCH_SECONDS = 600


class _Sink(asyncio.Protocol):
    """A minimal SMTP server: accepts everything, counts Message-IDs (RFC 2920 offered)."""

    # What every connection received since the batch began.
    received: ClassVar[Counter[bytes]] = Counter()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = bytearray()
        self.in_data = False
        transport.write(b"220 sink.test ESMTP\r\n")

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        out: list[bytes] = []
        while True:
            if self.in_data:
                # The buffer starts with the CRLF that ended "DATA": the
                # content ends at CRLF "." CRLF (RFC 5321 §4.1.1.4).
                end = buffer.find(b"\r\n.\r\n")
                if end < 0:
                    break
                header_end = buffer.find(b"\r\n\r\n", 0, end + 2)
                found = _MESSAGE_ID.search(buffer, 2, header_end if header_end >= 0 else end)
                self.received[found.group(1) if found else b"(none)"] += 1
                del buffer[: end + 5]
                self.in_data = False
                out.append(b"250 2.0.0 Ok: queued\r\n")
                continue
            end = buffer.find(b"\r\n")
            if end < 0:
                break
            verb = bytes(buffer[:4]).upper()
            if verb == b"DATA":
                del buffer[:end]  # keep the CRLF: it may precede the end-of-data line
                self.in_data = True
                out.append(b"354 Go ahead\r\n")
                continue
            del buffer[: end + 2]
            if verb == b"EHLO":
                out.append(b"250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 0\r\n")
            elif verb in (b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                out.append(b"250 2.0.0 Ok\r\n")
            elif verb == b"QUIT":
                out.append(b"221 2.0.0 Bye\r\n")
                self.transport.write(b"".join(out))
                self.transport.close()
                return
            else:
                out.append(b"500 5.5.2 Unknown command\r\n")
        if out:
            self.transport.write(b"".join(out))


async def _reply(reader: asyncio.StreamReader) -> int:
    while True:
        line = await reader.readuntil(b"\n")
        if line[3:4] != b"-":
            return int(line[:3])


async def _client(port: int, numbers: range, data: list[bytes], latencies: list[float]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        if await _reply(reader) != 220:
            raise RuntimeError("no greeting")
        writer.write(b"EHLO bench.test\r\n")
        pipelining = False
        while True:
            line = await reader.readuntil(b"\n")
            pipelining = pipelining or line[4:].strip().upper() == b"PIPELINING"
            if line[3:4] != b"-":
                break
        commands = [
            f"MAIL FROM:<{JO}>\r\n".encode(),
            *(f"RCPT TO:<{recipient}>\r\n".encode() for recipient in RECIPIENTS),
            b"DATA\r\n",
        ]
        expected = [250] * (len(commands) - 1) + [354]
        for number in numbers:
            started = time.perf_counter()
            if pipelining:
                writer.write(b"".join(commands))
                codes = [await _reply(reader) for _ in commands]
            else:
                codes = []
                for command in commands:
                    writer.write(command)
                    codes.append(await _reply(reader))
            if codes != expected:
                raise RuntimeError(f"message {number}: replies {codes}")
            writer.write(data[number])
            code = await _reply(reader)
            if code != 250:
                raise RuntimeError(f"message {number}: {code} to the final dot")
            latencies.append(time.perf_counter() - started)
        writer.write(b"QUIT\r\n")
        await _reply(reader)
    finally:
        writer.close()


async def _batch(port: int, data: list[bytes]) -> dict[str, Any]:
    _Sink.received.clear()
    latencies: list[float] = []
    started = time.perf_counter()
    outcomes = await asyncio.wait_for(
        asyncio.gather(
            *(
                _client(port, range(first, len(data), CONNECTIONS), data, latencies)
                for first in range(CONNECTIONS)
            ),
            return_exceptions=True,
        ),
        _BATCH_SECONDS,
    )
    elapsed = time.perf_counter() - started
    failures = [repr(outcome) for outcome in outcomes if isinstance(outcome, BaseException)]
    expected = Counter(_message_id(number) for number in range(len(data)))
    if not failures and _Sink.received != expected:
        missing = expected - _Sink.received
        extra = _Sink.received - expected
        failures.append(f"sink: {sum(missing.values())} missing, {sum(extra.values())} extra")
    return {"elapsed": elapsed, "latencies": latencies, "failures": failures}


def _peer_main(count: int) -> None:
    """The generator and sink process: commands on stdin, JSON answers on stdout."""
    # The messages as the generator sends them: dot-stuffed (RFC 5321
    # §4.5.2) and terminated, before any clock starts.
    data = [_LEADING_DOT.sub(b"..", _message(number)) + b".\r\n" for number in range(count)]

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Sink, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        print(json.dumps({"sink": port}), flush=True)
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            target = int(line.split()[1])
            print(json.dumps(await _batch(target, data)), flush=True)
        server.close()

    asyncio.run(main())


class _Peer:
    """The generator and sink process, driven from the benchmark."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c",
             f"from benchmarks.serve import _peer_main; _peer_main({COUNT})"],
            cwd=_REPO,
            env={**os.environ, "PYTHONPATH": str(_REPO)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        self.sink_port = int(self._answer()["sink"])

    def _answer(self) -> dict[str, Any]:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise RuntimeError("the load generator process ended")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def batch(self, port: int) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(f"batch {port}\n")
        self.process.stdin.flush()
        return self._answer()

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@cache
def _peer() -> _Peer:
    peer = _Peer()
    atexit.register(peer.stop)
    return peer


# -- the filter and the process peer ---------------------------------------------------


@cache
def _world() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="mailcore-bench-serve-"))
    atexit.register(shutil.rmtree, folder, True)
    build_demo_folder(folder)
    inbox = folder / "inbox"
    inbox.mkdir()
    for number, data in enumerate(_messages()):
        (inbox / f"{number:05d}.eml").write_bytes(data)
    return folder


def _environment() -> dict[str, str]:
    return {**os.environ, "MAILCORE_DEMO_KEY_PASSWORD": PASSWORD}


@cache
def _serve() -> int:
    """Start ``mailcore serve`` (stopped with SIGTERM at exit); its port."""
    folder = _world()
    port = _free_port()
    policy = folder / "serve.toml"
    policy.write_text(
        POLICY + f'\n[serve]\nlisten = "127.0.0.1:{port}"\n'
        f'relay = "127.0.0.1:{_peer().sink_port}"\n'
        'internal_domains = ["agency.gov.au"]\nhostname = "bench.test"\n'
        f"max_sessions = {CONNECTIONS + 5}\n"  # the readiness probe may still hold one
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "mailcore", "--policy", str(policy), "serve",
         "--log", str(folder / "serve.log")],
        env=_environment(),
        stdout=subprocess.DEVNULL,
    )  # fmt: skip

    def stop() -> None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    atexit.register(stop)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return port
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    raise RuntimeError("mailcore serve did not start")


def _send_batch(port: int, latencies: list[float] | None) -> None:
    """Every message of the batch over 20 connections; all must get 250, and arrive once."""
    answer = _peer().batch(port)
    if answer["failures"]:
        failures = answer["failures"]
        raise RuntimeError(f"{len(failures)} failures, e.g. {failures[0]}")
    if latencies is not None:
        latencies.extend(answer["latencies"])


def _timed(path: str, started: float) -> None:
    elapsed = time.perf_counter() - started
    _BEST[path] = min(_BEST.get(path, elapsed), elapsed)


def _through_serve() -> None:
    port = _serve()
    started = time.perf_counter()
    _send_batch(port, _LATENCIES)
    _timed("mailcore serve", started)


def _direct_to_sink() -> None:
    port = _peer().sink_port
    started = time.perf_counter()
    _send_batch(port, None)
    _timed("sink fed directly", started)


def _process() -> None:
    folder = _world()
    out = folder / "out"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "mailcore", "--policy", str(folder / "policy.toml"),
         "process", str(folder / "inbox"), "-o", str(out)],
        env=_environment(),
        check=True,
        capture_output=True,
    )  # fmt: skip
    _timed("mailcore process", started)


def _report() -> None:
    for path, seconds in _BEST.items():
        print(f"{path}: {COUNT / seconds:,.0f} msgs/s (best batch of {COUNT})", file=sys.stderr)
    if not _LATENCIES:
        return
    ordered = sorted(_LATENCIES)
    p50 = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(
        f"serve latency over {len(ordered)} messages ({CONNECTIONS} connections): "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms",
        file=sys.stderr,
    )


atexit.register(_report)

BENCHMARKS = [
    Benchmark(
        f"serve.20conn.{COUNT}msgs (x{COUNT} = msgs/s)",
        f"{COUNT} messages through mailcore serve (sign + encrypt) over 20 connections",
        _through_serve,
        "the same to the sink directly",
        _direct_to_sink,
        Goal(ratio=0.05),
    ),
    Benchmark(
        f"serve.vs.process.{COUNT}msgs (x{COUNT} = msgs/s)",
        f"{COUNT} messages through mailcore serve against mailcore process on them",
        _through_serve,
        "mailcore process (folder, default --jobs)",
        _process,
        Goal(ratio=0.7),
    ),
]
