"""IMAP over TLS against a real Dovecot started for the session."""

from __future__ import annotations

import imaplib
import time

import pytest

from benchmarks.sizing_data import expected_windows, generate_messages
from mailcore.errors import MailboxError, ServiceUnavailable
from mailcore.sizing import ImapMailbox, parse_imap_url, size_mailbox
from tests.sizing._dovecot import USERS, Dovecot

NOW = int(time.time())
MESSAGES = [
    m for m in generate_messages(120, seed=5, now=NOW, span_days=60) if m.folder != "Trash"
]


@pytest.fixture(scope="module")
def filled(dovecot: Dovecot) -> Dovecot:
    client = dovecot.client("alice")
    try:
        for folder in ("Sent", "Archive"):
            client.create(folder)
        for message in MESSAGES:
            data = message.data.replace(b"\n", b"\r\n")  # IMAP APPEND takes CRLF
            stamp = imaplib.Time2Internaldate(message.received)
            typ, _ = client.append(message.folder, None, stamp, data)
            assert typ == "OK"
    finally:
        client.logout()
    return dovecot


def _url(server: Dovecot, user: str = "alice", folder: str = "") -> str:
    return f"imaps://{user}@{server.host}:{server.port}" + (f"/{folder}" if folder else "")


def _crlf_expected(folder: str | None = None) -> dict[str, tuple[int, int]]:
    # RFC822.SIZE counts CRLF line ends: one more byte per line than the LF files.
    crlf = [
        type(m)(m.folder, m.received, m.data.replace(b"\n", b"\r\n"), m.attachment)
        for m in MESSAGES
    ]
    return {k: v[:2] for k, v in expected_windows(crlf, NOW, folder=folder).items()}


def test_sizes_every_folder(filled: Dovecot) -> None:
    sizing = size_mailbox(
        _url(filled), now=NOW, imap_password=USERS["alice"], imap_cafile=str(filled.cafile)
    )
    assert sizing.layout == "imap"
    assert [f.name for f in sizing.folders] == ["INBOX", "Archive", "Sent"]
    assert {w.window: (w.messages, w.bytes) for w in sizing.windows} == _crlf_expected()
    # BODYSTRUCTURE gives encoded sizes: decoded attachments are estimated (within 1%).
    truth = expected_windows(MESSAGES, NOW)["all"][2]
    assert abs((sizing.window("all").attachment_bytes or 0) - truth) <= truth / 100


def test_one_folder_and_the_dovecot_maildir_agree(filled: Dovecot) -> None:
    sent = size_mailbox(
        _url(filled, folder="Sent"),
        now=NOW,
        imap_password=USERS["alice"],
        imap_cafile=str(filled.cafile),
        attachments=False,
    )
    assert [f.name for f in sent.folders] == ["Sent"]
    assert {w.window: (w.messages, w.bytes) for w in sent.windows} == _crlf_expected("Sent")
    assert sent.window("all").attachment_bytes is None
    # Dovecot keeps INTERNALDATE as the file's mtime (names carry the APPEND time).
    files = size_mailbox(filled.maildir("alice"), now=NOW, maildir_time="mtime")
    assert {w.window: (w.messages, w.bytes) for w in files.windows} == {
        k: v[:2] for k, v in expected_windows(MESSAGES, NOW).items()
    }


def test_refusals(filled: Dovecot) -> None:
    with pytest.raises(MailboxError, match="refused the login"):
        size_mailbox(_url(filled), now=NOW, imap_password="wrong", imap_cafile=str(filled.cafile))
    with pytest.raises(MailboxError, match="no folder"):
        size_mailbox(
            _url(filled, folder="Nope"),
            now=NOW,
            imap_password=USERS["alice"],
            imap_cafile=str(filled.cafile),
        )
    # TLS is verified: without the test CA the server is not trusted.
    with pytest.raises(ServiceUnavailable, match="unavailable"):
        size_mailbox(_url(filled), now=NOW, imap_password=USERS["alice"])


def test_unreachable_server() -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(ServiceUnavailable):
        size_mailbox(f"imaps://alice@127.0.0.1:{port}", now=NOW, imap_password="x")


def test_urls() -> None:
    assert parse_imap_url("imaps://bob%40corp@mail.example.com/Sent%20Items") == ImapMailbox(
        "mail.example.com", 993, "bob@corp", "Sent Items"
    )
    for bad in ("imap://a@b", "imaps://host", "imaps://a@b:xx"):
        with pytest.raises(MailboxError):
            parse_imap_url(bad)
