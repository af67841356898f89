"""Organisation-wide runs on executors (process pool, threads, Dask) and the org view."""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.sizing_data import expected_windows, generate_messages, write_maildir, write_mbox
from mailcore.policy import SyncPolicy
from mailcore.sizing import (
    BadInput,
    MailboxSizing,
    Thresholds,
    WindowTotals,
    check_policy,
    find_mailboxes,
    org_view,
    size_mailboxes,
)
from mailcore.sizing._model import window_totals

NOW = 1_795_300_000
SIZES = [5, 40, 80, 120, 160, 200]


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """Six mailboxes of different sizes, and each one's 'all' count."""
    root = tmp_path_factory.mktemp("org")
    counts = {}
    for number, size in enumerate(SIZES):
        messages = list(generate_messages(size, seed=number, now=NOW, span_days=40))
        if number % 2:
            path = write_mbox(root / f"user{number}", messages)
        else:
            path = write_maildir(root / f"user{number}", messages)
        counts[str(path)] = expected_windows(messages, NOW)["all"][0]
    (root / "README").write_text("not a mailbox")
    return root, counts


@pytest.fixture(scope="module")
def dask_executor() -> Iterator[cf.Executor]:
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
    )
    client = distributed.Client(cluster)
    try:
        yield client.get_executor()
    finally:
        client.close()
        cluster.close()


@pytest.mark.parametrize("engine", ["default-pool", "threads", "dask", "serial-batch"])
@pytest.mark.slow
def test_engines_agree(
    org: tuple[Path, dict[str, int]], engine: str, request: pytest.FixtureRequest
) -> None:
    root, counts = org
    paths = find_mailboxes(root)
    assert paths == sorted(counts)  # README is not a mailbox
    executor: cf.Executor | None = None
    if engine == "threads":
        executor = cf.ThreadPoolExecutor(2)
    elif engine == "dask":
        executor = request.getfixturevalue("dask_executor")
    batch = 1 if engine == "serial-batch" else None
    policy = SyncPolicy(max_messages=100)
    try:
        report = size_mailboxes(
            paths, now=NOW, policy=policy, executor=executor, batch_size=batch, attachments=False
        )
    finally:
        if engine == "threads" and executor is not None:
            executor.shutdown()
    assert [m.path for m in report.mailboxes] == paths  # input order kept
    assert {m.path: m.window("all").messages for m in report.mailboxes} == counts
    over_all = sum(1 for c in counts.values() if c > 100)
    assert dict(report.org.exceeding)["all"] == over_all
    assert report.failures == ()


def test_failures_are_listed_not_fatal(org: tuple[Path, dict[str, int]], tmp_path: Path) -> None:
    _root, counts = org
    paths = [*sorted(counts)[:2], str(tmp_path / "missing")]
    report = size_mailboxes(paths, now=NOW, executor=cf.ThreadPoolExecutor(1))
    assert len(report.mailboxes) == 2
    assert [f.path for f in report.failures] == [str(tmp_path / "missing")]
    assert "no such file" in report.failures[0].error
    assert not report.failures[0].unavailable
    assert "failures" not in report.to_dict()  # JSON F exactly
    assert report.details()["failures"][0]["path"] == str(tmp_path / "missing")


def _mailbox(path: str, counts: list[int], limit: Thresholds) -> MailboxSizing:
    buckets = [(c, c * 1000, 0) for c in counts]
    windows: tuple[WindowTotals, ...] = window_totals(tuple(buckets), limit)
    return MailboxSizing(path, "maildir", (), windows, None, BadInput(), True)


def test_org_view_share() -> None:
    limit = Thresholds(messages=100, bytes=10**12)
    # Per-bucket counts: cumulative 'all' = sum.  20 mailboxes; one exceeds at 1w
    # (cumulative 101), two more at 1m, everyone at all.
    boxes = [_mailbox(f"m{i}", [1, 1, 1, 1, 1, 200], limit) for i in range(17)]
    boxes.append(_mailbox("big", [50, 0, 51, 0, 0, 0], limit))
    boxes += [_mailbox(f"mid{i}", [10, 10, 10, 10, 70, 0], limit) for i in range(2)]
    view = org_view(boxes, share=0.95)
    assert dict(view.exceeding) == {"1d": 0, "3d": 0, "1w": 1, "2w": 1, "1m": 3, "all": 20}
    assert view.largest_window == "2w"  # 19/20 = 95% under both at 2w
    assert org_view(boxes, share=0.96).largest_window == "3d"
    assert org_view(boxes, share=0.5).largest_window == "1m"
    assert org_view([], share=0.95).largest_window is None
    with pytest.raises(ValueError):
        org_view(boxes, share=0)


def test_policy_check() -> None:
    assert check_policy(SyncPolicy()).ok
    bad = check_policy(SyncPolicy(max_sync_interval="1w", default_sync_interval="1m"))
    assert not bad.ok and "longer than" in bad.problems[0]
    warned = check_policy(SyncPolicy(default_sync_interval="all"))
    assert warned.ok and "'all'" in warned.warnings[0]
    limit = Thresholds(messages=10, bytes=10**12)
    over = check_policy(SyncPolicy(), [_mailbox("x", [1, 1, 1, 1, 1, 100], limit)])
    assert any("max_sync_interval 'all': 1 of 1" in w for w in over.warnings)


class _Recording(cf.ThreadPoolExecutor):
    """Records the arguments of every task, as a caching executor would key them."""

    def __init__(self) -> None:
        super().__init__(1)
        self.calls: list[tuple[object, ...]] = []

    def submit(self, fn, /, *args, **kwargs):
        self.calls.append(args)
        return super().submit(fn, *args, **kwargs)


def test_tasks_differ_between_runs(tmp_path: Path) -> None:
    # Dask caches results of tasks with equal arguments (pure=True by default):
    # two runs over the same paths must not submit equal tasks, or the second
    # could get the first one's sizes of mailboxes that have changed since.
    box = write_maildir(tmp_path / "box", generate_messages(10, seed=1, now=NOW, span_days=5))
    with _Recording() as executor:
        size_mailboxes([box, box], now=NOW, executor=executor, batch_size=1)
        size_mailboxes([box, box], now=NOW, executor=executor, batch_size=1)
    assert len(executor.calls) == 4
    first, second = executor.calls[0], executor.calls[2]
    assert first[0] == second[0]  # the same batch of mailboxes
    assert first != second  # yet a different task
