"""``mailcore directory lookup`` end to end (JSON C, exit codes 0/2/3)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_smime_cli import assert_one_line_error, run
from tests.directory.conftest import BASE_DN, People
from tests.slapd import ROOT_PASSWORD, Slapd, free_port


def policy(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(body)
    return path


@pytest.mark.slow
def test_lookup_over_ldap(slapd: Slapd, people: People, tmp_path: Path) -> None:
    file = policy(
        tmp_path,
        f'[directory]\nsource = "ldap"\nserver = "{slapd.url}"\nbase_dn = "{BASE_DN}"\n'
        f'anonymous = false\nbind_dn = "cn=admin,{BASE_DN}"\npassword_env = "TEST_LDAP_PW"\n',
    )
    result = run(
        "--policy", file, "directory", "lookup", "Alice@example.com", "carol@example.com",
        "*@example.com", env={"TEST_LDAP_PW": ROOT_PASSWORD},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == ["alice@example.com", "carol@example.com", "*@example.com"]
    alice = report["alice@example.com"]
    assert alice["status"] == "found"
    assert list(alice["certificate"]) == ["subject", "serial", "not_after", "sha256"]
    assert alice["rejected"] == []
    assert report["carol@example.com"] == {
        "status": "not_found",
        "certificate": None,
        "rejected": [],
    }
    assert report["*@example.com"]["status"] == "not_found"


def test_password_never_from_the_file(slapd: Slapd, tmp_path: Path) -> None:
    file = policy(
        tmp_path,
        f'[directory]\nsource = "ldap"\nserver = "{slapd.url}"\nbase_dn = "{BASE_DN}"\n'
        'anonymous = false\nbind_dn = "cn=admin"\npassword = "secret"\n',
    )
    result = run("--policy", file, "directory", "lookup", "a@example.com")
    assert_one_line_error(result, 2)
    assert b"unknown key 'password'" in result.stderr


def test_wrong_password_exit_3(slapd: Slapd, tmp_path: Path) -> None:
    file = policy(
        tmp_path,
        f'[directory]\nsource = "ldap"\nserver = "{slapd.url}"\nbase_dn = "{BASE_DN}"\n'
        f'anonymous = false\nbind_dn = "cn=admin,{BASE_DN}"\n',
    )
    result = run(
        "--policy", file, "directory", "lookup", "a@example.com",
        env={"MAILCORE_LDAP_PASSWORD": "wrong"},
    )  # fmt: skip
    assert_one_line_error(result, 3)
    assert b"invalidCredentials" in result.stderr


def test_unset_password_variable_exit_2(tmp_path: Path) -> None:
    file = policy(
        tmp_path, '[directory]\nsource = "ldap"\nanonymous = false\nbind_dn = "cn=admin"\n'
    )
    result = run(
        "--policy",
        file,
        "directory",
        "lookup",
        "a@example.com",
        env={"MAILCORE_LDAP_PASSWORD": ""},
    )
    # an empty value is a value (the bind then fails); only a missing variable is refused
    assert result.returncode == 3
    env = {k: v for k, v in os.environ.items() if k != "MAILCORE_LDAP_PASSWORD"}
    missing = subprocess.run(
        [sys.executable, "-m", "mailcore", "--policy", str(file), "directory", "lookup", "a@x.y"],
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert_one_line_error(missing, 2)
    assert b"MAILCORE_LDAP_PASSWORD" in missing.stderr


def test_directory_down_exit_3(tmp_path: Path) -> None:
    file = policy(
        tmp_path,
        f'[directory]\nsource = "ldap"\nserver = "ldap://127.0.0.1:{free_port()}"\n'
        "connect_timeout = 1\n",
    )
    result = run("--policy", file, "directory", "lookup", "a@example.com")
    assert_one_line_error(result, 3)
    assert result.stdout == b""


def test_file_directory_and_at(people: People, tmp_path: Path) -> None:
    (tmp_path / "people.ldif").write_text(people.ldif())
    file = policy(tmp_path, '[directory]\nfile = "people.ldif"\n')
    later = (people.pki.now.replace(year=people.pki.now.year + 5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = run("--policy", file, "directory", "lookup", "alice@example.com", "--at", later)
    assert result.returncode == 0, result.stderr
    alice = json.loads(result.stdout)["alice@example.com"]
    assert alice["status"] == "no_valid_certificate"
    assert alice["rejected"][0]["reason"] == "expired"


def test_missing_directory_file_exit_2(tmp_path: Path) -> None:
    file = policy(tmp_path, '[directory]\nfile = "absent.ldif"\n')
    result = run("--policy", file, "directory", "lookup", "alice@example.com")
    assert_one_line_error(result, 2)
    assert b"absent.ldif" in result.stderr
