"""Bad input is counted by category and reported, never a crash or a silent total."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mailcore.errors import MailboxError
from mailcore.sizing import size_mailbox

NOW = 1_700_000_000
MESSAGE = b"From: a@example.com\nDate: Tue, 14 Nov 2023 10:00:00 +0000\nSubject: x\n\nbody\n"


def _maildir(root: Path) -> Path:
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    return root


@pytest.mark.parametrize("attachments", [True, False])
def test_maildir_bad_files(tmp_path: Path, attachments: bool) -> None:
    box = _maildir(tmp_path / "box")
    good = box / "cur" / f"{NOW - 100}.M1P1.h,S={len(MESSAGE)}:2,S"
    good.write_bytes(MESSAGE)
    (box / "cur" / "README.txt").write_bytes(b"This folder holds mail.\n")  # not mail
    (box / "cur" / "notes").write_bytes(MESSAGE)  # odd name, but mail: counted by stat
    os.symlink(box / "gone", box / "cur" / "dangling")  # unreadable
    (box / "cur" / ".hidden").write_bytes(b"ignored by the Maildir rules")
    (box / "tmp" / f"{NOW}.M9P9.h").write_bytes(MESSAGE)  # not delivered yet
    sizing = size_mailbox(box, now=NOW, attachments=attachments)
    assert sizing.window("all").messages == 2
    assert sizing.window("all").bytes == 2 * len(MESSAGE)
    assert sizing.bad_input.not_mail == 1
    assert sizing.bad_input.unreadable == 1
    assert any("README.txt" in e for e in sizing.bad_input.examples)


def test_maildir_file_shorter_than_its_size_tag(tmp_path: Path) -> None:
    box = _maildir(tmp_path / "box")
    (box / "cur" / f"{NOW}.M1P1.h,S=5000:2,S").write_bytes(MESSAGE)
    sizing = size_mailbox(box, now=NOW, attachments=True)
    assert sizing.bad_input.truncated == 1
    assert sizing.window("all").bytes == len(MESSAGE)  # what is on disk


def test_eml_tree_bad_files(tmp_path: Path) -> None:
    root = tmp_path / "eml"
    (root / "Inbox").mkdir(parents=True)
    (root / "Inbox" / "ok.eml").write_bytes(MESSAGE)
    (root / "Inbox" / "nodate.eml").write_bytes(b"Subject: x\nDate: someday\n\nbody\n")
    (root / "Inbox" / "binary.eml").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "Inbox" / "empty.eml").write_bytes(b"")
    (root / "Inbox" / "notes.txt").write_bytes(b"not a message file")
    os.symlink(root / "gone", root / "Inbox" / "dangling.eml")
    sizing = size_mailbox(root, now=NOW)
    assert sizing.layout == "eml"
    assert sizing.window("all").messages == 2  # ok + nodate
    assert sizing.window("1d").messages == 1
    assert sizing.bad_input.counts() == {
        "truncated": 0, "not_mail": 2, "unreadable": 1, "bad_date": 1,
    }  # fmt: skip


def test_received_beats_date_in_eml(tmp_path: Path) -> None:
    root = tmp_path / "eml"
    root.mkdir()
    (root / "m.eml").write_bytes(
        b"Received: from a by b; Tue, 14 Nov 2023 09:00:00 +0000\n"
        b"Received: from c by a; Mon, 13 Nov 2023 09:00:00 +0000\n"
        b"Date: Fri, 1 Sep 2023 00:00:00 +0000\n\nbody\n"
    )
    assert size_mailbox(root, now=NOW).window("1d").messages == 1


def test_not_a_mailbox(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(MailboxError, match="not a mailbox"):
        size_mailbox(tmp_path / "empty", now=NOW)
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    with pytest.raises(MailboxError, match="does not start with 'From '"):
        size_mailbox(tmp_path / "photo.jpg", now=NOW)


def test_unusual_maildir_names(tmp_path: Path) -> None:
    box = _maildir(tmp_path / "box")
    (box / "cur" / f"{NOW}.M1P1.host,W=900,S={len(MESSAGE)}:2,S").write_bytes(MESSAGE)
    (box / "cur" / f"{NOW}.M2P1.h,SX=1,S={len(MESSAGE)}:2,S").write_bytes(MESSAGE)
    (box / "new" / f"{NOW}.M3.odd\nname,S={len(MESSAGE)}").write_bytes(MESSAGE)
    (box / "new" / f"{NOW}.M4P1.h,S=12abc").write_bytes(MESSAGE)  # not a size: stat
    sizing = size_mailbox(box, now=NOW, attachments=False)
    assert sizing.window("1d").messages == 4
    assert sizing.window("1d").bytes == 4 * len(MESSAGE)


def test_fifo_in_a_mailbox_does_not_hang(tmp_path: Path) -> None:
    # Opening a FIFO for reading blocks until a writer comes; the scan must
    # count it as unreadable instead (Maildir header pass and .eml tree).
    box = _maildir(tmp_path / "box")
    (box / "cur" / f"{NOW - 100}.M1P1.h,S={len(MESSAGE)}:2,S").write_bytes(MESSAGE)
    os.mkfifo(box / "cur" / f"{NOW - 50}.M2P2.h:2,S")
    sizing = size_mailbox(box, now=NOW, attachments=True)
    assert sizing.bad_input.unreadable == 1
    assert sizing.window("all").messages == 1
    tree = tmp_path / "eml" / "Inbox"
    tree.mkdir(parents=True)
    (tree / "ok.eml").write_bytes(MESSAGE)
    os.mkfifo(tree / "pipe.eml")
    sizing = size_mailbox(tmp_path / "eml", now=NOW)
    assert sizing.bad_input.unreadable == 1
    assert sizing.window("all").messages == 1


def test_imap_address_with_password_is_refused_without_echoing_it() -> None:
    from mailcore.sizing._imap import parse_imap_url

    with pytest.raises(MailboxError) as raised:
        parse_imap_url("imaps://alice:s3cret@mail.example:993/INBOX")
    assert "s3cret" not in str(raised.value)
    with pytest.raises(MailboxError, match="not a valid"):
        parse_imap_url("imaps://alice@[::1")
