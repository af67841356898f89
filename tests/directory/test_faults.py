"""A directory that cannot answer is DirectoryUnavailable — fast, and never 'not found'."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailcore import DirectoryUnavailable
from mailcore.directory import LdapDirectory, plan_encryption
from mailcore.policy import SmimePolicy
from tests.directory.conftest import BASE_DN, People
from tests.slapd import Database, Slapd, free_port

MESSAGE = (
    b"From: alice@example.com\r\nTo: bob@example.com, dave@example.com\r\n"
    b"Subject: plan\r\n\r\nbody\r\n"
)


@pytest.fixture
def own_slapd(people: People, extra_schema: Path) -> Iterator[Slapd]:
    """A slapd of this test's own, to be stopped and restarted."""
    instance = Slapd([Database(BASE_DN, f"cn=admin,{BASE_DN}")], extra_schemas=(extra_schema,))
    instance.start()
    try:
        instance.add(people.ldif())
        yield instance
    finally:
        instance.remove()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def test_server_stopped_mid_run_then_back(own_slapd: Slapd, people: People) -> None:
    with LdapDirectory(
        [own_slapd.url], base_dn=BASE_DN, connect_timeout=1, search_timeout=2
    ) as ldap:
        assert ldap.lookup(["bob@example.com"])["bob@example.com"].found  # pooled connection
        own_slapd.stop()
        started = time.monotonic()
        with pytest.raises(DirectoryUnavailable):
            ldap.lookup(["dave@example.com"])
        assert time.monotonic() - started < 5
        with pytest.raises(DirectoryUnavailable):
            plan_encryption(MESSAGE, directory=ldap)  # the default: reject, never plaintext
        own_slapd.restart()
        report = ldap.lookup(["dave@example.com"])
        assert report["dave@example.com"].certificate == people.ids["dave"].certificate


@pytest.mark.slow
def test_server_that_never_answers(silent_server: int) -> None:
    url = f"ldap://127.0.0.1:{silent_server}"
    with LdapDirectory([url], base_dn=BASE_DN, connect_timeout=1, search_timeout=1) as ldap:
        started = time.monotonic()
        with pytest.raises(DirectoryUnavailable, match=r"no LDAP server answered|search failed"):
            ldap.lookup(["bob@example.com"])
        elapsed = time.monotonic() - started
    assert elapsed < 4, f"gave up after {elapsed:.1f} s, the timeout is 1 s"


@pytest.mark.slow
def test_never_answering_server_with_policy_that_allows_plaintext(silent_server: int) -> None:
    url = f"ldap://127.0.0.1:{silent_server}"
    policy = SmimePolicy(on_directory_error="send_unencrypted")
    with LdapDirectory([url], base_dn=BASE_DN, connect_timeout=1, search_timeout=1) as ldap:
        plan = plan_encryption(MESSAGE, directory=ldap, policy=policy)
    assert plan.decision == "send_unencrypted"
    assert plan.directory_error is not None
    assert plan.to_dict() == {
        "decision": "send_unencrypted",
        "missing": [
            {"address": "bob@example.com", "reason": "directory_unavailable"},
            {"address": "dave@example.com", "reason": "directory_unavailable"},
            {"address": "alice@example.com", "reason": "directory_unavailable"},
        ],
    }


def test_nothing_listening_is_unavailable_quickly() -> None:
    with LdapDirectory([f"ldap://127.0.0.1:{free_port()}"], base_dn=BASE_DN) as ldap:
        started = time.monotonic()
        with pytest.raises(DirectoryUnavailable, match="no LDAP server answered"):
            ldap.lookup(["bob@example.com"])
    assert time.monotonic() - started < 2


def test_failover_to_the_next_server(slapd: Slapd, people: People, silent_server: int) -> None:
    servers = [f"ldap://127.0.0.1:{free_port()}", slapd.url]
    with LdapDirectory(servers, base_dn=BASE_DN, connect_timeout=1) as ldap:
        assert ldap.lookup(["bob@example.com"])["bob@example.com"].found


def test_closed_directory_refuses(slapd: Slapd) -> None:
    ldap = LdapDirectory([slapd.url], base_dn=BASE_DN)
    ldap.close()
    with pytest.raises(DirectoryUnavailable, match="closed"):
        ldap.lookup(["bob@example.com"])
