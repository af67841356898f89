"""The demo's world as fixtures: a PKI, a key store, a directory (LDIF file and slapd)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from mailcore.demo._pipeline_demo import (
    PASSWORD,
    PEOPLE,
    WITHOUT_CERTIFICATE,
    build_demo_folder,
)
from mailcore.directory import FileDirectory
from mailcore.pipeline import FolderKeyStore
from mailcore.smime.pki import Identity
from tests.slapd import Database, Slapd
from tests.smime.conftest import openssl as openssl

JO, PLANNING, SAM = PEOPLE
CONTRACTOR = WITHOUT_CERTIFICATE


@dataclass
class World:
    folder: Path
    identities: dict[str, Identity]

    @property
    def root_pem(self) -> Path:
        return self.folder / "trust" / "root-ca.pem"

    def keys(self) -> FolderKeyStore:
        return FolderKeyStore(self.folder / "keys", password=PASSWORD.encode())

    def file_directory(self) -> FileDirectory:
        return FileDirectory(self.folder / "directory.ldif")


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    folder = tmp_path_factory.mktemp("world")
    return World(folder, build_demo_folder(folder))


@pytest.fixture(scope="session")
def world_slapd(world: World) -> Iterator[Slapd]:
    instance = Slapd([Database("dc=agency,dc=gov,dc=au", "cn=admin,dc=agency,dc=gov,dc=au")])
    instance.start()
    try:
        instance.add(
            "dn: dc=agency,dc=gov,dc=au\nobjectClass: dcObject\nobjectClass: organization\n"
            "o: Agency\ndc: agency\n\ndn: ou=people,dc=agency,dc=gov,dc=au\n"
            "objectClass: organizationalUnit\nou: people\n\n"
            + (world.folder / "directory.ldif").read_text()
        )
        yield instance
    finally:
        instance.remove()


def message(
    to: str = PLANNING,
    *,
    cc: str = "",
    bcc: str = "",
    sender: str = JO,
    subject: str = "Budget planning",
    body: str = "The revised figures are in the shared folder.\r\n",
) -> bytes:
    lines = [f"From: Jo Citizen <{sender}>", f"To: {to}"]
    if cc:
        lines.append(f"Cc: {cc}")
    if bcc:
        lines.append(f"Bcc: {bcc}")
    lines += [
        f"Subject: {subject}",
        "Date: Sat, 21 Nov 2026 09:00:00 +1100",
        "Message-ID: <m1@agency.gov.au>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        "",
    ]
    return "\r\n".join(lines).encode() + body.encode()
