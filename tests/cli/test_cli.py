"""The command line (contract §5): outputs, exit codes, error lines."""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mailcore.cli import main
from mailcore.marking import apply_marking
from tests.utils import build_message, split_message

# Contract §6 A, in order.
JSON_A_KEYS = [
    "marked",
    "source",
    "consistent",
    "version",
    "namespace",
    "sec",
    "dlm",
    "caveats",
    "access",
    "expires",
    "downto",
    "note",
    "origin",
    "subject_tag",
    "defects",
]
MESSAGE = build_message(
    "From: Jo Citizen <jo.citizen@agency.gov.au>",
    "To: bob@example.com",
    "Subject: Budget [SEC=PROTECTED, CAVEAT=RI:AUSTEO]",
    "X-Protective-Marking: VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=RI:AUSTEO,\n"
    " ORIGIN=operations@agency.gov.au",
    body=b"Hello,\r\nFrom: not a header\r\n",
)
UNMARKED = build_message("From: jo.citizen@agency.gov.au", "Subject: Budget")


def run(
    *args: str | Path, stdin: bytes = b"", cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """``python -m mailcore ARGS`` in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-m", "mailcore", *map(str, args)],
        input=stdin,
        capture_output=True,
        timeout=60,
        cwd=cwd,
        check=False,
    )


def assert_usage_error(result: subprocess.CompletedProcess[bytes]) -> str:
    """Exit 2 with exactly one clear stderr line and no traceback."""
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, stderr
    assert "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("mailcore: ")
    return stderr


@pytest.fixture
def message_file(tmp_path: Path) -> Path:
    path = tmp_path / "in.eml"
    path.write_bytes(MESSAGE)
    return path


class TestShow:
    def test_json_a_keys_exactly(self, message_file: Path) -> None:
        result = run("marking", "show", message_file)
        assert result.returncode == 0, result.stderr
        document = json.loads(result.stdout)
        assert list(document) == JSON_A_KEYS

    def test_values(self, message_file: Path) -> None:
        document = json.loads(run("marking", "show", message_file).stdout)
        assert document["marked"] is True
        assert document["source"] == "both"
        assert document["consistent"] is True
        assert document["sec"] == "PROTECTED"
        assert document["caveats"] == ["RI:AUSTEO"]
        assert document["origin"] == "operations@agency.gov.au"
        assert document["subject_tag"] == "[SEC=PROTECTED, CAVEAT=RI:AUSTEO]"

    @pytest.mark.parametrize("args", [(), ("-",)], ids=["absent", "dash"])
    def test_stdin(self, args: tuple[str, ...]) -> None:
        result = run("marking", "show", *args, stdin=MESSAGE)
        assert result.returncode == 0
        assert json.loads(result.stdout)["sec"] == "PROTECTED"

    def test_unmarked(self) -> None:
        document = json.loads(run("marking", "show", stdin=UNMARKED).stdout)
        assert document["marked"] is False
        assert document["source"] is None
        assert list(document) == JSON_A_KEYS

    def test_malformed_message(self) -> None:
        result = run("marking", "show", stdin=b"this is not a message\r\n\r\n")
        assert_usage_error(result)
        assert result.stdout == b""

    def test_non_utf8_byte_in_the_marking(self) -> None:
        data = (
            b"From: a@b.example\r\n"
            b"X-Protective-Marking: VER=2024.1, NS=gov.au, SEC=PROTECTED, NOTE=caf\xe9, "
            b"ORIGIN=a@b.example\r\n\r\nbody\r\n"
        )
        result = run("marking", "show", stdin=data)
        assert b"internal error" not in result.stderr
        if result.returncode == 0:
            assert list(json.loads(result.stdout.decode("utf-8"))) == JSON_A_KEYS
        else:
            assert_usage_error(result)

    def test_strict_refuses_a_deviation(self) -> None:
        data = build_message("From: a@b.example", "Subject: Hi [sec=official]")
        assert run("marking", "show", stdin=data).returncode == 0
        assert_usage_error(run("marking", "show", "--strict", stdin=data))

    def test_missing_file(self, tmp_path: Path) -> None:
        stderr = assert_usage_error(run("marking", "show", tmp_path / "absent.eml"))
        assert "absent.eml" in stderr


class TestApply:
    def test_writes_the_output_file(self, message_file: Path, tmp_path: Path) -> None:
        out = tmp_path / "out.eml"
        result = run("marking", "apply", "--marking", "PROTECTED CABINET", message_file, "-o", out)
        assert result.returncode == 0, result.stderr
        assert result.stdout == b""
        assert out.read_bytes() == apply_marking(MESSAGE, "PROTECTED CABINET").message
        assert split_message(out.read_bytes())[1] == split_message(MESSAGE)[1]

    def test_to_stdout(self) -> None:
        result = run("marking", "apply", "--marking", "OFFICIAL:Sensitive", stdin=UNMARKED)
        assert result.returncode == 0, result.stderr
        assert result.stdout == apply_marking(UNMARKED, "OFFICIAL:Sensitive").message

    def test_default_marking(self) -> None:
        result = run("marking", "apply", stdin=UNMARKED)
        assert b"Subject: Budget [SEC=UNOFFICIAL]" in result.stdout

    def test_error_leaves_no_output_file(self, message_file: Path, tmp_path: Path) -> None:
        out = tmp_path / "out.eml"
        result = run("marking", "apply", "--marking", "NO SUCH MARKING", message_file, "-o", out)
        assert_usage_error(result)
        assert not out.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.eml"]  # no temp file either

    def test_error_keeps_an_existing_output_file(self, message_file: Path, tmp_path: Path) -> None:
        out = tmp_path / "out.eml"
        out.write_bytes(b"previous")
        assert_usage_error(run("marking", "apply", "--marking", "BOGUS", message_file, "-o", out))
        assert out.read_bytes() == b"previous"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.eml", "out.eml"]

    def test_output_folder_missing(self, message_file: Path, tmp_path: Path) -> None:
        stderr = assert_usage_error(
            run("marking", "apply", message_file, "-o", tmp_path / "no" / "out.eml")
        )
        assert "no" in stderr
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.eml"]

    def test_output_is_a_folder(self, message_file: Path, tmp_path: Path) -> None:
        # The write fails at the final rename: the temporary file must go.
        (tmp_path / "out").mkdir()
        assert_usage_error(run("marking", "apply", message_file, "-o", tmp_path / "out"))
        assert sorted(p.name for p in tmp_path.iterdir()) == ["in.eml", "out"]
        assert list((tmp_path / "out").iterdir()) == []

    def test_downgrade_refused_exit_1(self, tmp_path: Path) -> None:
        original = tmp_path / "original.eml"
        original.write_bytes(MESSAGE)
        reply = tmp_path / "reply.eml"
        reply.write_bytes(build_message("From: jo.citizen@agency.gov.au", "Subject: RE: Budget"))
        out = tmp_path / "out.eml"
        result = run(
            "marking", "apply", "--marking", "OFFICIAL", "--original", original, reply, "-o", out
        )
        assert result.returncode == 1
        assert b"Traceback" not in result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert not out.exists()

    def test_reply_inherits(self, tmp_path: Path) -> None:
        original = tmp_path / "original.eml"
        original.write_bytes(MESSAGE)
        reply = build_message("From: jo.citizen@agency.gov.au", "Subject: RE: Budget")
        result = run("marking", "apply", "--original", original, stdin=reply)
        assert result.returncode == 0, result.stderr
        assert b"Subject: RE: Budget [SEC=PROTECTED, CAVEAT=RI:AUSTEO]\r\n" in result.stdout
        assert b"ORIGIN=operations@agency.gov.au" in result.stdout

    def test_downgrade_warned_on_stderr(self, tmp_path: Path) -> None:
        policy = tmp_path / "policy.toml"
        policy.write_text('[classification]\ndowngrade = "warn"\n')
        original = tmp_path / "original.eml"
        original.write_bytes(MESSAGE)
        reply = build_message("From: jo.citizen@agency.gov.au", "Subject: RE: Budget")
        result = run(
            "--policy",
            policy,
            "marking",
            "apply",
            "--marking",
            "OFFICIAL",
            "--original",
            original,
            stdin=reply,
        )
        assert result.returncode == 0
        assert b"warning" in result.stderr
        assert b"[SEC=OFFICIAL]" in result.stdout

    def test_malformed_message(self, tmp_path: Path) -> None:
        out = tmp_path / "out.eml"
        assert_usage_error(run("marking", "apply", "-o", out, stdin=b"\x00\x01 junk\r\n\r\n"))
        assert not out.exists()

    def test_from_without_address(self, tmp_path: Path) -> None:
        out = tmp_path / "out.eml"
        data = build_message("From: undisclosed-recipients:;", "Subject: x")
        stderr = assert_usage_error(run("marking", "apply", "-o", out, stdin=data))
        assert "From" in stderr
        assert not out.exists()


class TestCheck:
    @pytest.mark.parametrize(
        ("maximum", "code"), [("SECRET", 0), ("PROTECTED", 0), ("OFFICIAL:Sensitive", 1)]
    )
    def test_exit_codes(self, message_file: Path, maximum: str, code: int) -> None:
        result = run("marking", "check", "--max", maximum, message_file)
        assert result.returncode == code, result.stderr
        assert json.loads(result.stdout)["passed"] is (code == 0)

    def test_unmarked_fails(self) -> None:
        result = run("marking", "check", "--max", "TOP-SECRET", stdin=UNMARKED)
        assert result.returncode == 1
        assert json.loads(result.stdout)["reason"] == "unmarked"

    def test_unmarked_allowed(self) -> None:
        assert (
            run(
                "marking", "check", "--max", "OFFICIAL", "--allow-unmarked", stdin=UNMARKED
            ).returncode
            == 0
        )

    def test_display_value_as_level(self, message_file: Path) -> None:
        assert run("marking", "check", "--max", "PROTECTED CABINET", message_file).returncode == 0

    def test_unknown_level(self, message_file: Path) -> None:
        stderr = assert_usage_error(run("marking", "check", "--max", "BANANA", message_file))
        assert "BANANA" in stderr

    def test_missing_max(self, message_file: Path) -> None:
        assert_usage_error(run("marking", "check", message_file))


class TestUsage:
    @pytest.mark.parametrize(
        "args",
        [
            (),
            ("bogus",),
            ("marking",),
            ("marking", "frobnicate"),
            ("marking", "show", "--no-such-flag"),
        ],
        ids=["nothing", "unknown-command", "no-action", "unknown-action", "unknown-flag"],
    )
    @pytest.mark.slow
    def test_usage_errors(self, args: tuple[str, ...]) -> None:
        assert_usage_error(run(*args))

    def test_version(self) -> None:
        result = run("--version")
        assert result.returncode == 0
        assert result.stdout.decode().startswith("mailcore ")


class TestPolicyFile:
    def test_unknown_key_named(self, tmp_path: Path, message_file: Path) -> None:
        policy = tmp_path / "policy.toml"
        policy.write_text("[classification]\ncolour = 1\n")
        stderr = assert_usage_error(run("--policy", policy, "marking", "show", message_file))
        assert "colour" in stderr
        assert str(policy) in stderr

    def test_bad_markings_entry_named(self, tmp_path: Path, message_file: Path) -> None:
        policy = tmp_path / "policy.toml"
        policy.write_text('[classification]\nmarkings = "A,SEC=UNOFFICIAL;B,SEC=BANANA"\n')
        stderr = assert_usage_error(run("--policy", policy, "marking", "show", message_file))
        assert "B,SEC=BANANA" in stderr

    def test_invalid_toml(self, tmp_path: Path, message_file: Path) -> None:
        policy = tmp_path / "policy.toml"
        policy.write_text("[classification\n")
        assert_usage_error(run("--policy", policy, "marking", "show", message_file))

    def test_not_utf8(self, tmp_path: Path, message_file: Path) -> None:
        policy = tmp_path / "policy.toml"
        policy.write_bytes(b'[classification]\nnamespace = "\xff"\n')
        stderr = assert_usage_error(run("--policy", policy, "marking", "show", message_file))
        assert "internal error" not in stderr

    def test_no_policy_option_means_defaults(self) -> None:
        result = run("marking", "apply", stdin=UNMARKED)
        assert result.returncode == 0
        assert b"[SEC=UNOFFICIAL]" in result.stdout

    def test_policy_is_used(self, tmp_path: Path) -> None:
        policy = tmp_path / "policy.toml"
        policy.write_text('[classification]\nversion = "2012.3"\ndefault = "UNCLASSIFIED"\n')
        result = run("--policy", policy, "marking", "apply", stdin=UNMARKED)
        assert result.returncode == 0, result.stderr
        assert b"VER=2012.3" in result.stdout
        assert b"[SEC=UNCLASSIFIED]" in result.stdout


class TestVectors:
    @pytest.mark.slow
    def test_last_line(self) -> None:
        result = run("vectors", "run")
        lines = result.stdout.decode().splitlines()
        match = re.fullmatch(r"(\d+) passed, (\d+) failed", lines[-1])
        assert match is not None, lines[-1:]
        passed, failed = int(match.group(1)), int(match.group(2))
        assert passed + failed > 0
        assert result.returncode == (0 if failed == 0 else 1)
        # every failure is listed by id before the summary
        assert sum(line.startswith("FAIL ") for line in lines) == failed

    def test_one_suite(self, tmp_path: Path) -> None:
        suite = tmp_path / "mini.json"
        suite.write_text(
            json.dumps(
                {
                    "area": "marking",
                    "description": "one header",
                    "source": "EPMS 2024 Table 17",
                    "cases": [
                        {
                            "id": "marking::header::official",
                            "input": {
                                "header": "VER=2024.1, NS=gov.au, SEC=OFFICIAL, ORIGIN=a@b.example"
                            },
                            "expected": {"sec": "OFFICIAL"},
                            "result": "valid",
                        },
                        {
                            "id": "marking::header::wrong-expectation",
                            "input": {
                                "header": "VER=2024.1, NS=gov.au, SEC=OFFICIAL, ORIGIN=a@b.example"
                            },
                            "expected": {"sec": "SECRET"},
                            "result": "valid",
                        },
                    ],
                }
            )
        )
        result = run("vectors", "run", suite)
        lines = result.stdout.decode().splitlines()
        assert lines[-1] == "1 passed, 1 failed"
        assert lines[0].startswith("FAIL marking::header::wrong-expectation")
        assert result.returncode == 1

    def test_bad_suite(self, tmp_path: Path) -> None:
        suite = tmp_path / "bad.json"
        suite.write_text("{not json")
        assert_usage_error(run("vectors", "run", suite))


class TestInProcess:
    def test_show(self, message_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["marking", "show", str(message_file)]) == 0
        captured = capsys.readouterr()
        assert list(json.loads(captured.out)) == JSON_A_KEYS
        assert captured.err == ""

    def test_show_from_stdin(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(MESSAGE)))
        assert main(["marking", "show"]) == 0
        assert json.loads(capsys.readouterr().out)["sec"] == "PROTECTED"

    def test_check(self, message_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["marking", "check", "--max", "OFFICIAL", str(message_file)]) == 1
        assert json.loads(capsys.readouterr().out)["reason"] == "above_maximum"
        assert main(["marking", "check", "--max", "SECRET", str(message_file)]) == 0

    def test_apply_to_file(self, message_file: Path, tmp_path: Path) -> None:
        out = tmp_path / "out.eml"
        assert (
            main(["marking", "apply", "--marking", "PROTECTED", str(message_file), "-o", str(out)])
            == 0
        )
        assert out.read_bytes() == apply_marking(MESSAGE, "PROTECTED").message

    def test_error_is_one_line(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        bad = tmp_path / "bad.eml"
        bad.write_bytes(b"garbage\r\n\r\n")
        assert main(["marking", "show", str(bad)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert len(captured.err.splitlines()) == 1
        assert "Traceback" not in captured.err

    def test_usage_error_returns_2(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["marking"]) == 2
        assert len(capsys.readouterr().err.splitlines()) == 1

    def test_bad_policy(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        policy = tmp_path / "p.toml"
        policy.write_text('[sync]\nmax_bytes = "lots"\n')
        assert main(["--policy", str(policy), "marking", "show", str(policy)]) == 2
        assert "sync.max_bytes" in capsys.readouterr().err


class TestOutputTargets:
    def test_symlink_is_followed_and_mode_kept(self, tmp_path: Path) -> None:
        source = tmp_path / "in.eml"
        source.write_bytes(UNMARKED)
        target = tmp_path / "target"
        target.write_bytes(b"old")
        target.chmod(0o640)
        link = tmp_path / "link"
        link.symlink_to(target)
        result = run("marking", "apply", "--marking", "PROTECTED", source, "-o", link)
        assert result.returncode == 0, result.stderr
        assert link.is_symlink()
        assert b"SEC=PROTECTED" in target.read_bytes()
        assert (target.stat().st_mode & 0o777) == 0o640

    def test_folder_as_input_is_a_usage_error(self, tmp_path: Path) -> None:
        result = run("marking", "show", tmp_path)
        assert result.returncode == 2
        assert b"Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("argument", ["not an address", "alice", "@example.com", "a@b@c"])
@pytest.mark.slow
def test_directory_lookup_refuses_what_is_not_an_address(argument: str) -> None:
    from tests.cli.test_smime_cli import assert_one_line_error, run

    result = run("directory", "lookup", "alice@example.com", argument)
    assert_one_line_error(result, 2)
    assert b"not an e-mail address" in result.stderr
    assert result.stdout == b""


class TestProcessExit:
    """launch() ends the process without the interpreter's tear-down: what
    was written must still arrive whole, and errors keep their exit codes."""

    def test_large_output_to_a_pipe_arrives_whole(self) -> None:
        body = b"".join(b"line %06d of a long message\r\n" % n for n in range(40_000))
        message = build_message("From: jo@agency.gov.au", "Subject: Long", body=body)
        result = subprocess.run(
            [sys.executable, "-m", "mailcore", "marking", "apply", "--marking", "OFFICIAL"],
            input=message,
            capture_output=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        head, out_body = split_message(result.stdout)
        assert b"X-Protective-Marking: " in head
        assert out_body == body  # the whole 1.2 MB, flushed before the exit

    def test_reader_gone_is_not_an_error(self) -> None:
        body = b"x" * 100 + b"\r\n"
        message = build_message("From: jo@agency.gov.au", "Subject: s", body=body * 20_000)
        command = [sys.executable, "-m", "mailcore", "marking", "apply", "--marking", "OFFICIAL"]
        with subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        ) as process:
            assert process.stdout is not None and process.stdin is not None
            process.stdin.write(message)
            process.stdin.close()
            process.stdout.read(10)
            process.stdout.close()  # like `| head -c 10`
            assert process.stderr is not None
            stderr = process.stderr.read()
            assert process.wait(timeout=60) == 0
        assert b"Traceback" not in stderr

    def test_exit_code_kept(self, tmp_path: Path) -> None:
        result = run("marking", "show", str(tmp_path / "missing.eml"))
        assert result.returncode == 2
        assert b"Traceback" not in result.stderr


class TestPolicyFileMustExist:
    """A mistyped --policy is a usage error for every command (issue 17.4):
    before, the built-in defaults applied (no signing, no encryption)."""

    @pytest.mark.parametrize(
        "command",
        [
            ("process", "--direction", "outbound"),
            ("marking", "show"),
            ("directory", "lookup", "bob@example.com"),
            ("size", "."),
        ],
    )
    def test_missing_policy_file_exits_2(self, tmp_path: Path, command: tuple[str, ...]) -> None:
        out = tmp_path / "out.eml"
        message = tmp_path / "m.eml"
        message.write_bytes(MESSAGE)
        args = ["--policy", str(tmp_path / "no-such.toml"), *command]
        if command[0] in ("process", "marking"):
            args += [str(message)]
        if command[0] == "process":
            args += ["-o", str(out)]
        result = run(*args, cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        error = result.stderr.decode()
        assert error.count("\n") == 1 and "Traceback" not in error
        assert "no-such.toml" in error and "does not exist" in error
        assert result.stdout == b""
        assert not out.exists()
