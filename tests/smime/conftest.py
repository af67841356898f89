"""Shared S/MIME fixtures: one generated PKI per test session, and the
``openssl`` command line as the interoperability oracle."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mailcore.smime.pki import Identity, TestPKI


@pytest.fixture(scope="session")
def pki() -> TestPKI:
    return TestPKI()


@pytest.fixture(scope="session")
def alice(pki: TestPKI) -> Identity:
    return pki.issue("alice@example.com", "rsa2048")


@pytest.fixture(scope="session")
def bob(pki: TestPKI) -> Identity:
    return pki.issue("bob@example.com", "rsa2048")


@pytest.fixture(scope="session")
def openssl() -> str:
    path = shutil.which("openssl")
    if path is None:  # make test installs it; a missing oracle is a failure, not a skip
        pytest.fail("the openssl command is needed for the interoperability tests")
    return path


def run_openssl(openssl: str, *args: str | Path, data: bytes = b"") -> bytes:
    """Run ``openssl ARGS``; raise with its stderr if it fails."""
    result = subprocess.run(
        [openssl, *map(str, args)], input=data, capture_output=True, timeout=60, check=False
    )
    if result.returncode != 0:
        raise AssertionError(
            f"openssl {' '.join(map(str, args))} failed: {result.stderr.decode()}"
        )
    return result.stdout
