"""Reports for people: the progress bar, table and CSV."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

import pytest

from benchmarks.sizing_data import generate_messages, write_maildir
from mailcore.sizing import ProgressBar, render_csv, render_table, size_mailboxes

NOW = 1_795_300_000


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_only_on_a_terminal() -> None:
    plain = io.StringIO()
    bar = ProgressBar("sizing", stream=plain, delay=0)
    bar(5, 10)
    bar.close()
    assert plain.getvalue() == ""
    tty = Tty()
    bar = ProgressBar("sizing", stream=tty, delay=0)
    bar(10, 10)
    bar.close()
    assert "sizing [" in tty.getvalue() and "10/10" in tty.getvalue()
    assert tty.getvalue().endswith("\n")
    quiet = Tty()
    ProgressBar("sizing", stream=quiet, delay=60)(1, 10)  # a quick scan shows nothing
    assert quiet.getvalue() == ""


def test_progress_on_a_real_pty() -> None:
    primary, secondary = os.openpty()
    with os.fdopen(secondary, "w") as stream:
        bar = ProgressBar("scan", stream=stream, delay=0)
        bar(3, None)
        bar.close()
    assert b"3 messages" in os.read(primary, 1000)
    os.close(primary)


def test_table_and_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_maildir(tmp_path / "a", generate_messages(30, seed=1, now=NOW, span_days=10))
    write_maildir(tmp_path / "=cmd", generate_messages(5, seed=2, now=NOW, span_days=10))
    report = size_mailboxes(["a", "=cmd"], now=NOW, batch_size=1)
    table = render_table(report, folders=True)
    assert "recommended window: all" in table
    assert "organisation: 2 mailboxes" in table and "folder INBOX" in table
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert {r["window"] for r in rows} == {"1d", "3d", "1w", "2w", "1m", "all"}
    total = [r for r in rows if r["folder"] == "" and r["window"] == "all"]
    assert int(total[0]["messages"]) == 30
    assert total[1]["path"] == "'=cmd"  # no spreadsheet formula from a path
