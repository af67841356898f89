"""Shared fixtures and the Hypothesis profile."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# 200 examples per property keeps the whole suite well under a minute; a
# deeper run: HYPOTHESIS_PROFILE=thorough pytest tests/marking/test_properties.py
settings.register_profile(
    "mailcore",
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
# `make check`: the same properties with fewer examples (the full run,
# `make test`, keeps 200).
settings.register_profile(
    "quick",
    parent=settings.get_profile("mailcore"),
    max_examples=25,
)
settings.register_profile(
    "thorough",
    parent=settings.get_profile("mailcore"),
    max_examples=5000,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "mailcore"))

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def repo_root() -> Path:
    """The repository checkout (where ``vectors/`` lives)."""
    return REPO_ROOT


@pytest.fixture
def write_policy(tmp_path: Path) -> Callable[[str], Path]:
    """Write a TOML policy file and return its path."""

    def write(text: str) -> Path:
        path = tmp_path / "policy.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


# Fixtures that start a real server or fetch with a real tool.  A test that
# uses one is an integration test, marked here from its fixtures so that no
# such test can be left unmarked by hand (`make check` leaves them out).
INTEGRATION_FIXTURES = frozenset(
    {
        "slapd",  # OpenLDAP slapd (tests/slapd.py)
        "own_slapd",
        "world_slapd",
        "dovecot",  # Dovecot IMAP (tests/sizing/conftest.py)
        "spam_corpus",  # npm pack of the SpamAssassin corpus
        "site",  # a private Postfix in front of `mailcore serve` (tests/postfix.py)
    }
)


# Whole folders and modules of slow tests (other slow tests carry
# @pytest.mark.slow themselves): every serve test starts `mailcore serve`
# with its worker processes and SMTP sinks; PKITS validates 224 paths.
SLOW_PATHS = ("tests/serve/", "tests/smime/test_pkits.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that use an integration fixture, and those under SLOW_PATHS."""
    for item in items:
        if INTEGRATION_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
        where = Path(str(item.path)).resolve().relative_to(REPO_ROOT).as_posix()
        if where.startswith(SLOW_PATHS):
            item.add_marker(pytest.mark.slow)
