"""``make demo`` runs ``python -m mailcore.demo``: it must work and say what it did."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mailcore.demo as demo
from mailcore.export import read_records
from mailcore.smime import decrypt_message, load_private_key


@pytest.mark.slow
def test_demo_runs_and_reports_each_step(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mailcore.demo"],
        cwd=tmp_path,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode()
    text = result.stdout.decode()
    assert "decision=encrypt" in text
    assert "decision=send_unencrypted, missing: contractor@partner.example (not_found)" in text
    assert "marking [SEC=PROTECTED, CAVEAT=SH:CABINET], signed=True, encrypted=True" in text
    assert "signature valid=True by jo.citizen@agency.gov.au" in text
    assert "signature ok=False (content_mismatch)" in text
    # The generated mailbox (seeded) crosses 600 MiB only with "all".
    assert "-> allow at most '1m': the largest window under both limits" in text
    out = tmp_path / "demo-output" / "out"
    assert (out / "contacts.vcf").read_bytes().count(b"BEGIN:VCARD") == len(
        list(read_records(Path(demo.__file__).parent / "contacts.json"))
    )
    calendar = (out / "calendar.ics").read_bytes()
    assert b"SUMMARY:Busy" in calendar and b"ATTENDEE" not in calendar
    # The encrypted group message opens with a recipient's key from the demo's store.
    planning = load_private_key(
        (tmp_path / "demo-output" / "keys" / "planning@agency.gov.au.p12").read_bytes(),
        password=b"demo-password",
    )
    opened = decrypt_message(
        (out / "1-group-encrypted.eml").read_bytes(), planning.key, planning.certificate
    )
    assert b"revised figures" in opened.content
