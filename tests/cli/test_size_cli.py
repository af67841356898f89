"""``mailcore size`` (contract §5, JSON F): outputs, formats, exit codes."""

from __future__ import annotations

import csv
import io
import json
import socket
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from benchmarks.sizing_data import expected_windows, generate_messages, write_eml, write_maildir
from mailcore.cli import main

NOW = 1_795_300_000
NOW_TEXT = "2026-11-21T21:46:40Z"
MESSAGES = list(generate_messages(150, seed=21, now=NOW, span_days=45))


@pytest.fixture(scope="module")
def boxes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    write_maildir(root / "org" / "alice", MESSAGES)
    write_eml(root / "org" / "bob", MESSAGES[:40])
    return root


def run(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "mailcore", *map(str, args)],
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_json_f(boxes: Path) -> None:
    result = run("size", boxes / "org" / "alice", "--now", NOW_TEXT, "--max-messages", "100")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert list(document) == ["now", "thresholds", "mailboxes"]
    assert document["now"] == NOW_TEXT
    assert document["thresholds"] == {"messages": 100, "bytes": 629145600}
    (mailbox,) = document["mailboxes"]
    assert list(mailbox) == ["path", "folders", "windows", "recommended_window"]
    expected = expected_windows(MESSAGES, NOW)
    got = {
        w["window"]: (w["messages"], w["bytes"], w["attachment_bytes"]) for w in mailbox["windows"]
    }
    assert got == expected
    exceeds = [w["exceeds"] for w in mailbox["windows"]]
    assert exceeds == [expected[w][0] > 100 or expected[w][1] > 629145600 for w in got]
    assert b"Traceback" not in result.stderr


def test_formats_and_output_file(boxes: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    code = main(["size", str(boxes / "org"), "--each", "--now", NOW_TEXT, "--format", "csv",
                 "-o", str(target), "--workers", "1"])  # fmt: skip
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    totals = [r for r in rows if r["folder"] == "" and r["window"] == "all"]
    assert [Path(r["path"]).name for r in totals] == ["alice", "bob"]
    assert int(totals[1]["messages"]) == 40
    page = tmp_path / "report.html"
    assert main(["size", str(boxes / "org"), "--each", "--now", NOW_TEXT, "--format", "html",
                 "-o", str(page)]) == 0  # fmt: skip
    text = page.read_text()

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.tags: list[tuple[str, dict[str, str | None]]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.tags.append((tag, dict(attrs)))

    parser = Collect()
    parser.feed(text)
    assert sum(1 for tag, _ in parser.tags if tag == "svg") == 2  # a chart per mailbox
    assert sum(1 for tag, a in parser.tags if tag == "line" and a.get("class") == "limit") == 4
    assert not any(tag in ("script", "img", "link", "iframe") for tag, _ in parser.tags)
    assert not any(
        str(v).startswith(("http:", "https:", "//")) for tag, a in parser.tags
        for k, v in a.items() if k in ("src", "href")
    )  # fmt: skip
    table = run("size", boxes / "org" / "alice", "--now", NOW_TEXT, "--format", "table")
    assert b"recommended window: " in table.stdout and b"1m " in table.stdout


def test_html_escapes_paths(tmp_path: Path) -> None:
    evil = tmp_path / "<b>x&y"
    write_maildir(evil, MESSAGES[:3])
    out = tmp_path / "r.html"
    assert main(["size", str(evil), "--now", NOW_TEXT, "--format", "html", "-o", str(out)]) == 0
    text = out.read_text()
    assert "<b>x&y" not in text and "&lt;b&gt;x&amp;y" in text


@pytest.mark.slow
def test_list_file_check_and_policy(boxes: Path, tmp_path: Path) -> None:
    listing = tmp_path / "list.txt"
    listing.write_text(f"# mailboxes\n{boxes / 'org' / 'alice'}\n\n{boxes / 'org' / 'bob'}\n")
    result = run("size", "--list", listing, "--now", NOW_TEXT, "--max-messages", "100",
                 "--check", "--details")  # fmt: skip
    assert result.returncode == 1  # alice exceeds at the policy's max interval (all)
    details = json.loads(result.stdout)
    assert details["org"]["exceeding"][-1] == {"window": "all", "mailboxes": 1}
    assert details["org"]["largest_window"] == "1m" or details["org"]["largest_window"]
    assert b"policy warning: max_sync_interval 'all'" in result.stderr
    policy = tmp_path / "policy.toml"
    policy.write_text('[sync]\nmax_sync_interval = "1d"\ndefault_sync_interval = "1d"\n')
    fine = run("--policy", policy, "size", "--list", listing, "--now", NOW_TEXT, "--check")
    assert fine.returncode == 0, fine.stderr


@pytest.mark.slow
def test_errors(boxes: Path, tmp_path: Path) -> None:
    missing = run("size", tmp_path / "nope")
    assert missing.returncode == 2
    assert missing.stderr.decode().count("\n") == 1 and b"no such file" in missing.stderr
    assert run("size").returncode == 2
    assert run("size", boxes / "org" / "alice", "--now", "yesterday").returncode == 2
    assert run("size", boxes / "org" / "alice", "--max-bytes", "lots").returncode == 2
    # A partial org run: the report is written, the exit code says a mailbox failed.
    out = tmp_path / "partial.json"
    partial = run("size", boxes / "org" / "alice", tmp_path / "nope", "-o", out, "--workers", "1")
    assert partial.returncode == 2 and len(json.loads(out.read_text())["mailboxes"]) == 1
    # -o is atomic: a failure leaves no file.
    target = tmp_path / "none.json"
    assert run("size", tmp_path / "nope", "-o", target).returncode == 2
    assert not target.exists()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = run("size", f"imaps://alice@127.0.0.1:{port}")
    assert down.returncode == 3 and b"unavailable" in down.stderr


@pytest.mark.slow
def test_dask_scheduler(boxes: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=1, processes=False, protocol="tcp", dashboard_address=None
    ) as cluster:
        code = main(["size", str(boxes / "org"), "--each", "--now", NOW_TEXT,
                     "--scheduler", cluster.scheduler_address, "-o", "-"])  # fmt: skip
        assert code == 0
    unreachable = run(
        "size", boxes / "org", "--each", "--scheduler", "tcp://127.0.0.1:1", "--timeout", "1"
    )
    assert unreachable.returncode == 3 and b"unavailable" in unreachable.stderr


@pytest.mark.parametrize("now", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_now_outside_the_calendar_is_a_usage_error(tmp_path: Path, now: str) -> None:
    from tests.cli.test_smime_cli import assert_one_line_error
    from tests.cli.test_smime_cli import run as run_cli

    maildir = tmp_path / "Maildir"
    for part in ("cur", "new", "tmp"):
        (maildir / part).mkdir(parents=True)
    (maildir / "cur" / "1").write_bytes(b"From: a@b.example\r\n\r\nx\r\n")
    result = run_cli("size", maildir, "--now", now)
    assert_one_line_error(result, 2)
    assert b"years 1-9999" in result.stderr
