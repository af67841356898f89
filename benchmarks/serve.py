"""``mailcore serve`` benchmarks (issue 9: the SMTP content filter).

Both rows send a batch of the pipeline benchmark's messages (10 KB, three
recipients; sign + encrypt) over 20 concurrent SMTP connections, each
connection sending its share one message after another, and count a batch
only when every message got 250.  ``mailcore serve`` runs as its own process
(``python -m mailcore serve``) relaying to an aiosmtpd sink in this process.
One call is one batch: messages/s = ops/s x batch size (2,000 messages; 40
under ``--quick``).

* ``serve.20conn`` — the batch through ``mailcore serve`` against the same
  batch sent straight to the sink (unprocessed): the whole cost of the
  filter, pipeline included.  Reported; the goal (0.05x) only catches a
  collapse, since the sink alone does no cryptography at all.
* ``serve.vs.process`` — the same batch through ``mailcore serve`` against
  ``mailcore process`` on a folder of the same messages (default ``--jobs``,
  process start included).  Goal 0.7x (issue 9).

The latency of each message (MAIL to the reply to the final dot) is
collected over every batch sent through ``serve``; p50 and p99 are printed
to stderr when the run ends.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import tempfile
import threading
import time
from functools import cache
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

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


@cache
def _messages() -> tuple[bytes, ...]:
    return tuple(_message(number) for number in range(COUNT))


class _Count:
    """The sink: accepts everything, keeps a count (no copies: memory stays flat)."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.count += 1
        return "250 2.0.0 Ok"


@cache
def _sink() -> int:
    port = _free_port()
    controller = Controller(_Count(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    atexit.register(controller.stop)
    return port


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
        POLICY + f'\n[serve]\nlisten = "127.0.0.1:{port}"\nrelay = "127.0.0.1:{_sink()}"\n'
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
    deadline = time.monotonic() + 30
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
    """Every message of the batch over 20 connections; all must get 250."""
    messages = _messages()
    failures: list[str] = []
    lock = threading.Lock()

    def connection(first: int) -> None:
        try:
            with smtplib.SMTP("127.0.0.1", port, local_hostname="bench.test", timeout=120) as smtp:
                smtp.ehlo()
                for number in range(first, len(messages), CONNECTIONS):
                    started = time.perf_counter()
                    smtp.mail(JO)
                    for recipient in RECIPIENTS:
                        smtp.rcpt(recipient)
                    code, reply = smtp.data(messages[number])
                    elapsed = time.perf_counter() - started
                    with lock:
                        if code != 250:
                            failures.append(f"{code} {reply!r}")
                        elif latencies is not None:
                            latencies.append(elapsed)
        except (OSError, smtplib.SMTPException) as error:
            with lock:
                failures.append(repr(error))

    threads = [threading.Thread(target=connection, args=(n,)) for n in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} messages not accepted, e.g. {failures[0]}")


def _timed(path: str, started: float) -> None:
    elapsed = time.perf_counter() - started
    _BEST[path] = min(_BEST.get(path, elapsed), elapsed)


def _through_serve() -> None:
    port = _serve()
    started = time.perf_counter()
    _send_batch(port, _LATENCIES)
    _timed("mailcore serve", started)


def _direct_to_sink() -> None:
    port = _sink()
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
