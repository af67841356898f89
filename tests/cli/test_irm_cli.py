"""``mailcore irm show | apply`` end to end (contract §5, JSON E)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.utils import build_message, split_message

DNF = "cf5cf348-a8d7-40d5-91ef-a600b88a395d"
HEADER = "Microsoft.Exchange.RMSApaAgent.ProtectionTemplateId"
VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "irm"
MESSAGE = build_message("From: alice@contoso.com", "To: bob@fabrikam.com", "Subject: Plans")
LICENSE = f"""<rm:RightsManagementLicense xmlns:rm="RightsManagement">
  <rm:EditAllowed>1</rm:EditAllowed><rm:ReplyAllowed>1</rm:ReplyAllowed>
  <rm:ReplyAllAllowed>1</rm:ReplyAllAllowed><rm:ForwardAllowed>0</rm:ForwardAllowed>
  <rm:ModifyRecipientsAllowed>0</rm:ModifyRecipientsAllowed><rm:ExtractAllowed>0</rm:ExtractAllowed>
  <rm:PrintAllowed>0</rm:PrintAllowed><rm:ExportAllowed>0</rm:ExportAllowed>
  <rm:ProgrammaticAccessAllowed>1</rm:ProgrammaticAccessAllowed><rm:Owner>0</rm:Owner>
  <rm:ContentExpiryDate>2026-12-01T00:00:00.000Z</rm:ContentExpiryDate>
  <rm:TemplateID>{DNF}</rm:TemplateID><rm:TemplateName>Do Not Forward</rm:TemplateName>
  <rm:TemplateDescription>No forwarding.</rm:TemplateDescription>
  <rm:ContentOwner>a@example.com</rm:ContentOwner>
</rm:RightsManagementLicense>
"""


def run(*args: str | Path, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "mailcore", *map(str, args)],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[bytes], code: int) -> None:
    assert result.returncode == code, result.stderr
    assert b"Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture
def enabled(tmp_path: Path) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text("[irm]\nenabled = true\n", encoding="utf-8")
    return path


def test_show_license_is_json_e(tmp_path: Path) -> None:
    source = tmp_path / "license.xml"
    source.write_text(LICENSE, encoding="utf-8")
    result = run("irm", "show", "--now", "2026-11-21T12:00:00Z", source)
    assert result.returncode == 0, result.stderr
    # Contract §6 E, the example: a DNF license read by a recipient.
    assert json.loads(result.stdout) == {
        "protected": True,
        "template_id": DNF,
        "template_name": "Do Not Forward",
        "owner": False,
        "content_owner": "a@example.com",
        "expires": "2026-12-01T00:00:00Z",
        "expired": False,
        "rights": {
            "view": True,
            "edit": True,
            "print": False,
            "reply": True,
            "reply_all": True,
            "forward": False,
            "extract": False,
            "export": False,
            "modify_recipients": False,
            "programmatic_access": True,
        },
        "labels": [],
        "defects": [],
    }


def test_show_after_expiry(tmp_path: Path) -> None:
    source = tmp_path / "license.xml"
    source.write_text(LICENSE, encoding="utf-8")
    result = run("irm", "show", "--now", "2026-12-01T00:00:00Z", source)
    report = json.loads(result.stdout)
    assert report["expired"] is True
    assert not any(report["rights"].values())


def test_show_message_from_stdin() -> None:
    message = build_message("From: alice@contoso.com", f"{HEADER}: {DNF}")
    result = run("irm", "show", "--user", "alice@contoso.com", "-", stdin=message)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["owner"] is True and report["rights"]["forward"] is True


def test_show_strict_refuses_what_lenient_reports(tmp_path: Path) -> None:
    source = tmp_path / "license.xml"
    source.write_text(LICENSE.replace(">1</rm:EditAllowed>", ">true</rm:EditAllowed>"), "utf-8")
    lenient = run("irm", "show", "--now", "2026-11-21T12:00:00Z", source)
    assert json.loads(lenient.stdout)["defects"] == ["boolean-form"]
    assert_one_line_error(run("irm", "show", "--strict", source), 2)


@pytest.mark.parametrize(
    "payload", ["billion-laughs", "xxe-file"], ids=["billion-laughs", "xxe-file"]
)
def test_show_refuses_attacks(tmp_path: Path, payload: str) -> None:
    suite = json.loads((VECTORS / "licenses.json").read_text("utf-8"))
    [case] = [c for c in suite["cases"] if c["id"] == f"irm::license::{payload}"]
    source = tmp_path / "attack.xml"
    source.write_text(case["input"]["xml"], encoding="utf-8")
    result = run("irm", "show", source)
    assert_one_line_error(result, 2)
    assert b"document type" in result.stderr
    assert result.stdout == b""


@pytest.mark.parametrize(
    "args", [("--now", "tomorrow"), ("--now", "2026-11-21T12:00:00")], ids=["word", "naive"]
)
def test_show_bad_time(tmp_path: Path, args: tuple[str, str]) -> None:
    source = tmp_path / "m.eml"
    source.write_bytes(MESSAGE)
    assert_one_line_error(run("irm", "show", *args, source), 2)


def test_apply_refused_when_disabled(tmp_path: Path) -> None:
    source = tmp_path / "m.eml"
    source.write_bytes(MESSAGE)
    out = tmp_path / "out.eml"
    result = run("irm", "apply", "--template", "Do Not Forward", source, "-o", out)
    assert_one_line_error(result, 1)
    assert b"disabled" in result.stderr
    assert not out.exists()


def test_apply_writes_the_template(tmp_path: Path, enabled: Path) -> None:
    source = tmp_path / "m.eml"
    source.write_bytes(MESSAGE)
    out = tmp_path / "out.eml"
    result = run("--policy", enabled, "irm", "apply", "--template", DNF.upper(), source, "-o", out)
    assert result.returncode == 0, result.stderr
    head, body = split_message(out.read_bytes())
    assert f"{HEADER}: {DNF}\r\n".encode() in head
    assert body == split_message(MESSAGE)[1]
    shown = run("irm", "show", out)
    assert json.loads(shown.stdout)["template_name"] == "Do Not Forward"


def test_apply_not_offered_leaves_no_file(tmp_path: Path, enabled: Path) -> None:
    out = tmp_path / "out.eml"
    out.write_bytes(b"previous")
    result = run(
        "--policy", enabled, "irm", "apply", "--template", "Secret", "-", "-o", out, stdin=MESSAGE
    )
    assert_one_line_error(result, 1)
    assert out.read_bytes() == b"previous"


def test_apply_malformed_message(enabled: Path) -> None:
    result = run(
        "--policy",
        enabled,
        "irm",
        "apply",
        "--template",
        "Encrypt-Only",
        stdin=b"no header\r\n\r\n",
    )
    assert_one_line_error(result, 2)


def test_apply_needs_a_template() -> None:
    assert_one_line_error(run("irm", "apply", stdin=MESSAGE), 2)
