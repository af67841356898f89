"""What every command shares: input, output, errors and exit codes.

Exit codes (contract §5): 0 done, 1 refused or failed on the merits,
2 usage error or malformed input, 3 a needed service is unavailable.  No
traceback reaches the user; output files are written whole or not at all.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from mailcore.errors import MailcoreError, MalformedInput, ServiceUnavailable

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_UNAVAILABLE",
    "EXIT_USAGE",
    "UsageError",
    "exit_code_for",
    "read_input",
    "write_json",
    "write_output",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3


class UsageError(Exception):
    """A command line that cannot be carried out as written."""


def exit_code_for(error: BaseException) -> int:
    """The contract's exit code for an exception."""
    if isinstance(error, ServiceUnavailable):
        return EXIT_UNAVAILABLE
    if isinstance(error, MalformedInput | UsageError):
        return EXIT_USAGE
    if isinstance(error, MailcoreError):
        return EXIT_FAILED
    if isinstance(error, OSError):
        return EXIT_USAGE
    return EXIT_FAILED


def one_line(error: BaseException) -> str:
    """The single stderr line for an error."""
    if isinstance(error, OSError) and error.strerror:
        name = f" {error.filename}" if error.filename else ""
        return f"cannot use{name}: {error.strerror}"
    text = str(error) or type(error).__name__
    return " ".join(text.split())


def run_guarded(action: Callable[[], int]) -> int:
    """Run a command; turn any exception into one line and an exit code."""
    try:
        return action()
    except KeyboardInterrupt:
        print("mailcore: interrupted", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:
        # The reader went away (e.g. piped into head): not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    except Exception as error:  # the CLI's one catch-all: no tracebacks
        prefix = (
            "" if isinstance(error, MailcoreError | OSError | UsageError) else "internal error: "
        )
        print(f"mailcore: {prefix}{one_line(error)}", file=sys.stderr)
        return exit_code_for(error)


def read_input(path: str | None) -> bytes:
    """The bytes of a message argument: a path, ``-`` or absent for stdin."""
    if path is None or path == "-":
        if sys.stdin is None:
            raise UsageError("no input: give a file or '-' with standard input open")
        return sys.stdin.buffer.read()
    location = Path(path)
    if location.is_dir():
        raise UsageError(f"{path} is a folder, not a message file")
    return location.read_bytes()


@contextmanager
def _atomic(target: Path) -> Iterator[Any]:
    """A temporary file beside ``target`` that replaces it when complete.

    The new file gets the old one's permissions (or the umask's), so that
    ``-o`` behaves like a shell redirection that cannot leave half a file.
    """
    handle = tempfile.NamedTemporaryFile(
        "wb", dir=target.parent, prefix=f".{target.name}.", delete=False
    )
    try:
        yield handle
        handle.close()
        if target.exists():
            mode = stat.S_IMODE(target.stat().st_mode)
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(handle.name, mode)
        os.replace(handle.name, target)
    except BaseException:
        handle.close()
        os.unlink(handle.name)
        raise


@contextmanager
def open_output(path: str | None) -> Iterator[IO[bytes]]:
    """Where ``-o FILE`` (or ``--report FILE``) output goes, whole or not at all.

    * none or ``-``: stdout;
    * the process's own stdout under another name (``/dev/stdout``,
      ``/proc/self/fd/1``): stdout, written in place, so that a shell's
      ``>>`` keeps what the file held;
    * a device, FIFO or other special file: written in place, as a shell
      redirection would (never replaced by a regular file: as root,
      ``-o /dev/null`` must not replace /dev/null);
    * a folder: a usage error;
    * anything else (a symbolic link is followed): a temporary file beside
      it that replaces it only when complete.
    """
    if path is None or path == "-" or _is_stdout(path):
        out = sys.stdout.buffer
        yield out
        out.flush()
        return
    target = Path(os.path.realpath(path))
    if target.exists() and not target.is_file():
        if target.is_dir():
            raise UsageError(f"{path} is a folder; -o needs a file")
        with target.open("wb") as handle:
            yield handle
        return
    with _atomic(target) as handle:
        yield handle


def _is_stdout(path: str) -> bool:
    try:
        named, own = os.stat(path), os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no such file, or no real stdout
        return False
    return (named.st_dev, named.st_ino) == (own.st_dev, own.st_ino)


def write_output(data: bytes, path: str | None) -> None:
    """Write a result to ``-o FILE`` (whole or not at all) or stdout (see
    :func:`open_output`)."""
    with open_output(path) as handle:
        handle.write(data)


def write_json(document: Any, path: str | None = None) -> None:
    """A JSON report, one document, newline-terminated."""
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
    write_output(text.encode("utf-8"), path)
