"""``mailcore smime ...`` end to end, on the committed vector PKI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PKI = Path(__file__).resolve().parents[2] / "vectors" / "smime" / "pki"
FORMATS = PKI.parent / "formats"
MESSAGE = (
    b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: Figures\r\n\r\n"
    b"Hello Bob,\r\nthe figures are attached.\r\n"
)
JSON_B_SIGNER_KEYS = [
    "subject", "email", "serial", "sha256", "digest", "signature", "signing_time", "chain",
]  # fmt: skip


def run(
    *args: str | Path, stdin: bytes = b"", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "mailcore", *map(str, args)],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
        env={**os.environ, **(env or {})},
    )


def assert_one_line_error(result: subprocess.CompletedProcess[bytes], code: int) -> None:
    assert result.returncode == code, result.stderr
    assert b"Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.fixture
def signed(tmp_path: Path) -> Path:
    source = tmp_path / "m.eml"
    source.write_bytes(MESSAGE)
    out = tmp_path / "signed.eml"
    result = run(
        "smime", "sign", "--key", PKI / "alice-rsa2048.key.pem",
        "--cert", PKI / "alice-rsa2048.crt.pem", "--chain", PKI / "issuing-ca.crt.pem",
        source, "-o", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


def test_sign_then_verify(signed: Path, tmp_path: Path) -> None:
    content = tmp_path / "verified.eml"
    result = run("smime", "verify", "--trust", PKI / "root-ca.crt.pem", signed, "-o", content)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert list(report) == ["valid", "reason", "signers"]
    assert report["valid"] is True and report["reason"] is None
    assert list(report["signers"][0]) == JSON_B_SIGNER_KEYS
    assert report["signers"][0]["email"] == "alice@example.com"
    # Only verified content is written, with the outer header fields.
    assert content.read_bytes().endswith(b"Hello Bob,\r\nthe figures are attached.\r\n")
    assert b"Subject: Figures" in content.read_bytes()


def test_tampered_signature_exits_1_and_writes_nothing(signed: Path, tmp_path: Path) -> None:
    tampered = tmp_path / "tampered.eml"
    tampered.write_bytes(signed.read_bytes().replace(b"Hello Bob", b"Hello Eve"))
    content = tmp_path / "content.eml"
    result = run("smime", "verify", "--trust", PKI / "root-ca.crt.pem", tampered, "-o", content)
    assert result.returncode == 1
    assert json.loads(result.stdout)["reason"] == "content_mismatch"
    assert not content.exists()


@pytest.mark.slow
def test_untrusted_root(signed: Path) -> None:
    result = run("smime", "verify", "--trust", PKI / "issuing-ca.crt.pem", signed)
    # Trusting only the issuing CA is a valid anchor too; an unrelated one is not.
    assert result.returncode == 0
    other = run("smime", "verify", "--trust", PKI / "bob-p256.crt.pem", signed)
    assert other.returncode == 1
    assert json.loads(other.stdout)["reason"] == "untrusted"


def test_unsigned_message_is_malformed_input(tmp_path: Path) -> None:
    source = tmp_path / "m.eml"
    source.write_bytes(MESSAGE)
    assert_one_line_error(run("smime", "verify", "--trust", PKI / "root-ca.crt.pem", source), 2)


@pytest.mark.slow
def test_encrypt_then_decrypt_with_pkcs12(signed: Path, tmp_path: Path) -> None:
    encrypted = tmp_path / "enc.eml"
    result = run(
        "smime", "encrypt", "--recipient", PKI / "bob-p256.crt.pem",
        "--recipient", PKI / "alice-rsa2048.crt.pem", "--cipher", "aes-256-gcm", signed,
        "-o", encrypted,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert b"smime-type=authEnveloped-data" in encrypted.read_bytes()
    assert b"Hello Bob" not in encrypted.read_bytes()
    decrypted = tmp_path / "dec.eml"
    result = run(
        "smime", "decrypt", "--key", FORMATS / "alice-rsa2048.p12",
        "--password-env", "MC_TEST_PASSWORD", encrypted, "-o", decrypted,
        env={"MC_TEST_PASSWORD": "mailcore"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert decrypted.read_bytes().startswith(b"From: alice@example.com")
    # The decrypted message still carries the intact signature.
    check = run("smime", "verify", "--trust", PKI / "root-ca.crt.pem", decrypted)
    assert check.returncode == 0, check.stdout


@pytest.mark.slow
def test_wrong_key_is_one_clear_line_exit_1(signed: Path, tmp_path: Path) -> None:
    encrypted = tmp_path / "enc.eml"
    run("smime", "encrypt", "--recipient", PKI / "bob-p256.crt.pem", signed, "-o", encrypted)
    out = tmp_path / "out.eml"
    result = run("smime", "decrypt", "--key", PKI / "alice-rsa2048.key.pem", encrypted, "-o", out)
    assert_one_line_error(result, 1)
    assert not out.exists()


def test_missing_password_variable_is_a_usage_error(tmp_path: Path) -> None:
    result = run(
        "smime", "decrypt", "--key", FORMATS / "alice-rsa2048.p12",
        "--password-env", "MC_SURELY_UNSET_VARIABLE", tmp_path / "x.eml",
    )  # fmt: skip
    assert_one_line_error(result, 2)


def test_certificate_file_that_does_not_match_the_key(tmp_path: Path) -> None:
    source = tmp_path / "m.eml"
    source.write_bytes(MESSAGE)
    result = run(
        "smime", "sign", "--key", PKI / "alice-rsa2048.key.pem",
        "--cert", PKI / "bob-p256.crt.pem", source,
    )  # fmt: skip
    assert_one_line_error(result, 2)


def test_expired_recipient_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "m.eml"
    source.write_bytes(MESSAGE)
    out = tmp_path / "out.eml"
    result = run(
        "smime", "encrypt", "--recipient", PKI / "frank-expired.crt.pem", source, "-o", out
    )
    assert_one_line_error(result, 2)
    assert not out.exists()


@pytest.mark.slow
def test_policy_cipher_is_the_default_and_the_command_line_wins(tmp_path: Path) -> None:
    source = tmp_path / "m.eml"
    source.write_bytes(MESSAGE)
    policy = tmp_path / "policy.toml"
    policy.write_text('[smime]\ncipher = "aes-128-gcm"\n')
    out = tmp_path / "out.eml"
    bob = PKI / "bob-p256.crt.pem"
    assert (
        run(
            "--policy", policy, "smime", "encrypt", "--recipient", bob, source, "-o", out
        ).returncode
        == 0
    )
    assert b"authEnveloped-data" in out.read_bytes()
    decrypted = run("smime", "decrypt", "--key", PKI / "bob-p256.key.pem", out)
    assert decrypted.returncode == 0 and b"the figures are attached" in decrypted.stdout
    forced = run(
        "--policy", policy, "smime", "encrypt", "--recipient", bob, "--cipher", "aes-256-cbc",
        source, "-o", out,
    )  # fmt: skip
    assert forced.returncode == 0
    assert b"smime-type=enveloped-data" in out.read_bytes()
