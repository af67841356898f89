"""Generated mailboxes with known answers, in every file layout."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from benchmarks.sizing_data import (
    expected_windows,
    generate_messages,
    write_eml,
    write_maildir,
    write_mbox,
    write_mbox_tree,
)
from mailcore.policy import SyncPolicy
from mailcore.sizing import MailboxSizing, size_mailbox

NOW = 1_795_300_000  # 2026-11-21T...
MESSAGES = list(generate_messages(600, seed=11, now=NOW, span_days=90, tricky_from=True))
WRITERS = {
    "maildir": lambda root, msgs: write_maildir(root / "box", msgs),
    "mbox": lambda root, msgs: write_mbox(root / "box.mbox", msgs),
    "mbox-tree": lambda root, msgs: write_mbox_tree(root / "tree", msgs),
    "eml": lambda root, msgs: write_eml(root / "eml", msgs),
}


def _got(sizing: MailboxSizing) -> dict[str, tuple[int, int, int | None]]:
    return {w.window: (w.messages, w.bytes, w.attachment_bytes) for w in sizing.windows}


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("generated")
    return {name: writer(root, MESSAGES) for name, writer in WRITERS.items()}


@pytest.mark.parametrize("layout", list(WRITERS))
@pytest.mark.parametrize("attachments", [True, False])
@pytest.mark.slow
def test_every_layout_gives_the_known_answer(
    layouts: dict[str, Path], layout: str, attachments: bool
) -> None:
    sizing = size_mailbox(layouts[layout], now=NOW, attachments=attachments)
    expected = expected_windows(MESSAGES, NOW)
    assert sizing.layout == layout
    assert sizing.bad_input.total == 0
    for window, (count, size, att) in _got(sizing).items():
        assert (count, size) == expected[window][:2], window
        assert att == (expected[window][2] if attachments else None), window
    assert len(sizing.folders) == (1 if layout == "mbox" else 4)


@pytest.mark.parametrize("layout", ["maildir", "eml", "mbox-tree"])
def test_folders_are_sized_separately(layouts: dict[str, Path], layout: str) -> None:
    sizing = size_mailbox(layouts[layout], now=NOW)
    names = {f.name: f for f in sizing.folders}
    assert set(names) == {"INBOX", "Sent", "Archive", "Trash"}
    for name, folder in names.items():
        expected = expected_windows(MESSAGES, NOW, folder=name)
        got = {w.window: (w.messages, w.bytes, w.attachment_bytes) for w in folder.windows}
        assert got == expected, name


def test_month_length_is_a_setting(layouts: dict[str, Path]) -> None:
    short = size_mailbox(layouts["maildir"], now=NOW, policy=SyncPolicy(month_days=28))
    assert short.window("1m").messages == expected_windows(MESSAGES, NOW, month_days=28)["1m"][0]
    assert (
        short.window("1m").messages
        < size_mailbox(layouts["maildir"], now=NOW).window("1m").messages
    )


def test_thresholds_and_recommended_window(layouts: dict[str, Path]) -> None:
    expected = expected_windows(MESSAGES, NOW)
    # A limit just under the 2w count: 1w is the largest window under both limits.
    policy = SyncPolicy(max_messages=expected["2w"][0] - 1, max_bytes=10**12)
    sizing = size_mailbox(layouts["maildir"], now=NOW, policy=policy)
    assert [w.exceeds for w in sizing.windows] == [False, False, False, True, True, True]
    assert sizing.recommended_window == "1w"
    # The byte limit alone can bind: exactly the 1d bytes is not "more than".
    policy = SyncPolicy(max_messages=10**9, max_bytes=expected["1d"][1])
    sizing = size_mailbox(layouts["maildir"], now=NOW, policy=policy)
    assert sizing.recommended_window == "1d"
    policy = SyncPolicy(max_messages=10**9, max_bytes=expected["1d"][1] - 1)
    assert size_mailbox(layouts["maildir"], now=NOW, policy=policy).recommended_window is None


def test_window_edge_is_inclusive(tmp_path: Path) -> None:
    # Contract §6 F: in a window when received at or after now minus the window.
    box = tmp_path / "box"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    message = b"From: a@example.com\nSubject: x\n\nbody\n"
    for stamp in (NOW - 86_400, NOW - 86_400 - 1):
        (box / "cur" / f"{stamp}.M1P1.h,S={len(message)}:2,S").write_bytes(message)
    sizing = size_mailbox(box, now=NOW, attachments=False)
    assert sizing.window("1d").messages == 1
    assert sizing.window("3d").messages == 2


def test_maildir_without_size_tags_uses_stat(tmp_path: Path) -> None:
    box = write_maildir(tmp_path / "plain", MESSAGES[:80], sizes=False)
    sizing = size_mailbox(box, now=NOW, attachments=False)
    expected = expected_windows(MESSAGES[:80], NOW)
    assert {w.window: (w.messages, w.bytes) for w in sizing.windows} == {
        k: v[:2] for k, v in expected.items()
    }


def test_maildir_time_from_mtime(tmp_path: Path) -> None:
    box = write_maildir(tmp_path / "m", MESSAGES[:50])
    # Rename every message as if delivered now (a migration): names lie, mtimes do not.
    for sub in ("cur", "new"):
        for folder in [box, *box.glob(".*")]:
            for path in (folder / sub).iterdir():
                _stamp, rest = path.name.split(".", 1)
                os.rename(path, path.with_name(f"{NOW}.{rest}"))
    by_name = size_mailbox(box, now=NOW, attachments=False)
    by_mtime = size_mailbox(box, now=NOW, attachments=False, maildir_time="mtime")
    assert by_name.window("1d").messages == 50
    expected = expected_windows(MESSAGES[:50], NOW)
    assert {w.window: w.messages for w in by_mtime.windows} == {
        k: v[0] for k, v in expected.items()
    }


def test_json_f_shape(layouts: dict[str, Path]) -> None:
    entry = size_mailbox(layouts["maildir"], now=NOW).to_dict()
    assert list(entry) == ["path", "folders", "windows", "recommended_window"]
    assert [w["window"] for w in entry["windows"]] == ["1d", "3d", "1w", "2w", "1m", "all"]
    assert [w["filter_type"] for w in entry["windows"]] == [1, 2, 3, 4, 5, 0]
    assert list(entry["windows"][0]) == [
        "window", "filter_type", "messages", "bytes", "attachment_bytes", "exceeds",
    ]  # fmt: skip
    names_only = size_mailbox(layouts["maildir"], now=NOW, attachments=False).to_dict()
    assert all(w["attachment_bytes"] is None for w in names_only["windows"])
