"""Load: 2,000 messages over 20 concurrent connections, every one delivered exactly once.

The figures printed here (``-s``) are indicative only: client, filter and
sink share one process.  ``python -m benchmarks`` measures ``mailcore
serve`` as its own process and reports messages/s and p50/p99 latency.
"""

from __future__ import annotations

import smtplib
import threading
import time
from collections import Counter

import pytest

from tests.serve.conftest import JO, PLANNING, SAM, FilterThread, Sink, make_message

MESSAGES = 2000
CONNECTIONS = 20


@pytest.fixture(params=["pooled", "running"], ids=["worker processes", "threads"])
def filter_thread(request: pytest.FixtureRequest) -> FilterThread:
    """The filter as ``mailcore serve`` runs it, and with a pipeline object given."""
    thread: FilterThread = request.getfixturevalue(request.param)
    return thread


def test_every_message_exactly_once(filter_thread: FilterThread, sink: Sink) -> None:
    running = filter_thread
    replies: dict[int, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()

    def connection(first: int) -> None:
        # One session per connection, its messages one after another (as an
        # MTA's delivery agent reuses a connection).
        with smtplib.SMTP("127.0.0.1", running.port, timeout=60) as smtp:
            smtp.ehlo()
            for number in range(first, MESSAGES, CONNECTIONS):
                started = time.perf_counter()
                smtp.mail(JO)
                smtp.rcpt(PLANNING)
                smtp.rcpt(SAM)
                code, _ = smtp.data(make_message(number, to=[PLANNING, SAM]))
                with lock:
                    replies[number] = code
                    latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=connection, args=(n,)) for n in range(CONNECTIONS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    elapsed = time.perf_counter() - started
    assert replies == dict.fromkeys(range(MESSAGES), 250)
    seen = Counter(sink.message_ids())
    assert seen == Counter(f"<m{n}@agency.gov.au>" for n in range(MESSAGES))
    assert all(b"application/pkcs7-mime" in m.data for m in sink.messages)
    latencies.sort()
    print(
        f"\n{MESSAGES} messages, {CONNECTIONS} connections: {MESSAGES / elapsed:.0f} msgs/s, "
        f"p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
        f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms"
    )
