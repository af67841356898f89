"""``mailcore export vcard|ical`` end to end (contract §5: exit codes, -o)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import icalendar
import vobject  # type: ignore[import-untyped]  # no stubs


def run(*args: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "mailcore", *map(str, args)],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


def _policy(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


CONTACTS = [{"ServerId": "1", "FirstName": "Zoë 🎉", "MobilePhoneNumber": "+1 555", "Hobby": "x"}]
EVENTS = [
    {
        "UID": "E1",
        "Subject": "Plan",
        "StartTime": "20250303T090000Z",
        "EndTime": "20250303T100000Z",
    }
]


def test_vcard_to_file(tmp_path: Path) -> None:
    source = tmp_path / "c.jsonl"
    source.write_text("\n".join(json.dumps(c) for c in CONTACTS))
    policy = _policy(tmp_path, "[export]\ncontacts = true\n")
    out = tmp_path / "c.vcf"
    result = run(
        "--policy",
        policy,
        "export",
        "vcard",
        "--vcard-version",
        "4.0",
        source,
        "-o",
        out,
        "--now",
        "2025-01-01T00:00:00Z",
    )
    assert result.returncode == 0, result.stderr
    assert b"Hobby (1)" in result.stderr  # unknown keys reported on one warning line
    card = vobject.readOne(out.read_text("utf-8"))
    assert card.fn.value == "Zoë 🎉" and card.version.value == "4.0"
    assert b"REV:20250101T000000Z" in out.read_bytes()


def test_ical_from_stdin_to_stdout(tmp_path: Path) -> None:
    policy = _policy(
        tmp_path, '[export]\ncalendar = "meeting_time"\ncalendar_placeholder = "Taken"\n'
    )
    result = run("--policy", policy, "export", "ical", "-", stdin=json.dumps(EVENTS).encode())
    assert result.returncode == 0, result.stderr
    event = icalendar.Calendar.from_ical(result.stdout).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Taken"


def test_refusal_exits_1_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "c.json"
    source.write_text(json.dumps(CONTACTS))
    out = tmp_path / "c.vcf"
    result = run("export", "vcard", source, "-o", out)  # default policy: contacts off
    assert result.returncode == 1
    assert b"contacts = false" in result.stderr and b"Traceback" not in result.stderr
    assert not out.exists()
    result = run("export", "ical", source)  # default policy: calendar off
    assert result.returncode == 1 and result.stdout == b""


def test_malformed_record_exits_2_without_partial_file(tmp_path: Path) -> None:
    source = tmp_path / "e.jsonl"
    source.write_text(json.dumps(EVENTS[0]) + "\n" + json.dumps({"UID": "B", "StartTime": 5}))
    policy = _policy(tmp_path, '[export]\ncalendar = "all"\n')
    out = tmp_path / "e.ics"
    result = run("--policy", policy, "export", "ical", source, "-o", out)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert b"record 2" in result.stderr and b"StartTime" in result.stderr
    # No output file and no temporary file left behind.
    assert set(tmp_path.iterdir()) == {source, tmp_path / "policy.toml"}


def test_bad_policy_value_exits_2(tmp_path: Path) -> None:
    policy = _policy(tmp_path, '[export]\ncontact_fields = "everything"\n')
    result = run("--policy", policy, "export", "vcard", "-", stdin=b"[]")
    assert result.returncode == 2 and b"contact_fields" in result.stderr
