"""mailcore.cli._fanout: items on several processes, the command's own included."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mailcore.cli._fanout import fan_out


def _lost(item: int, why: str) -> tuple[str, int, str]:
    return ("lost", item, why)


def _square(item: int) -> tuple[str, int, int]:
    time.sleep(0.002)  # long enough for every process to take a share
    return ("done", item * item, os.getpid())


@pytest.mark.parametrize("processes", [1, 2, 3])
def test_results_in_item_order_and_work_shared(processes: int, tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    progress: list[int] = []

    def start() -> None:
        with starts.open("a") as handle:
            handle.write(f"{os.getpid()}\n")

    results = fan_out(
        list(range(60)),
        _square,
        processes=processes,
        start=start,
        lost=_lost,
        done=progress.append,
    )
    assert [result[1] for result in results] == [n * n for n in range(60)]
    assert all(result[0] == "done" for result in results)
    workers = {result[2] for result in results}
    assert len(workers) == processes
    assert os.getpid() in workers  # this process works too
    # start ran once in each process that worked, before its first item
    assert sorted(starts.read_text().split()) == sorted(str(pid) for pid in workers)
    assert progress == list(range(1, 61))


@settings(max_examples=15, deadline=None)
@given(count=st.integers(0, 40), processes=st.integers(1, 4))
def test_every_item_exactly_once(count: int, processes: int) -> None:
    results = fan_out(
        list(range(count)),
        lambda item: item + 1000,
        processes=processes,
        start=lambda: None,
        lost=_lost,
    )
    assert results == [n + 1000 for n in range(count)]


def test_items_of_a_killed_helper_are_reported_lost() -> None:
    parent = os.getpid()

    def work(item: int) -> tuple[str, int, int]:
        if item == 7 and os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        time.sleep(0.002)
        return ("done", item, os.getpid())

    # Item 7 goes to a helper for certain when this process never claims it:
    # this process sleeps before its first claim, so the helper takes 0..n.
    def start() -> None:
        if os.getpid() == parent:
            time.sleep(0.2)

    results = fan_out(list(range(20)), work, processes=2, start=start, lost=_lost)
    assert len(results) == 20
    lost = [result for result in results if result[0] == "lost"]
    assert ("lost", 7, "its worker process was killed (SIGKILL)") in lost
    for result in results:
        if result[0] == "done":
            assert result[1] == results.index(result)


def test_a_helper_that_raises_is_reported_not_hidden() -> None:
    parent = os.getpid()

    def start() -> None:
        if os.getpid() != parent:
            raise RuntimeError("no keys in this process")
        time.sleep(0.1)  # let the helper claim and fail first

    results = fan_out(list(range(5)), lambda item: ("done", item), processes=2,
                      start=start, lost=_lost)  # fmt: skip
    # The helper claimed one item (or none) before failing: that one is lost
    # with the exit status; this process did the rest.
    done = [result for result in results if result[0] == "done"]
    lost = [result for result in results if result[0] == "lost"]
    assert len(done) + len(lost) == 5
    assert len(lost) <= 1
    for result in lost:
        assert result[2] == "its worker process failed (exit 70)"


def test_an_error_in_this_process_stops_the_helpers() -> None:
    parent = os.getpid()

    def work(item: int) -> int:
        if os.getpid() == parent:
            raise KeyError("a bug")
        time.sleep(0.01)
        return item

    with pytest.raises(KeyError):
        fan_out(list(range(200)), work, processes=3, start=lambda: None, lost=_lost)
    # The helpers were stopped and reaped: no fork of this process is left
    # (a fork has this process's command line; other tests' servers do not).
    assert _forks_of_this_process() == []


def _forks_of_this_process() -> list[int]:
    me = os.getpid()
    command = Path(f"/proc/{me}/cmdline").read_bytes()
    forks = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            if parent == me and (entry / "cmdline").read_bytes() == command:
                forks.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue  # ended while we looked
    return forks
