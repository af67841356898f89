"""Export input: JSON (a list), JSON Lines, or existing .vcf / .ics files.

JSON Lines is read line by line, so a million contacts stream through in
constant memory; a JSON list is read whole.  .vcf and .ics input is parsed
with vobject / icalendar and turned into the same ActiveSync-keyed records
(see :mod:`mailcore.export._reimport`).
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Literal

from mailcore.errors import MalformedInput, MalformedRecord

__all__ = ["InputKind", "detect_kind", "read_records"]

InputKind = Literal["auto", "json", "jsonl", "vcard", "ical"]
_BOM = b"\xef\xbb\xbf"


def detect_kind(head: bytes) -> InputKind:
    """The input kind from its first bytes (after a BOM and white space)."""
    text = head.removeprefix(_BOM).lstrip()
    if text.startswith(b"["):
        return "json"
    upper = text[:20].upper()
    if upper.startswith(b"BEGIN:VCARD"):
        return "vcard"
    if upper.startswith(b"BEGIN:VCALENDAR"):
        return "ical"
    return "jsonl"


def _open(source: bytes | str | os.PathLike[str] | IO[bytes]) -> tuple[IO[bytes], bool, str]:
    if isinstance(source, bytes | bytearray):
        return io.BytesIO(bytes(source)), True, "input"
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        return path.open("rb"), True, str(path)
    return source, False, getattr(source, "name", "input")


def read_records(
    source: bytes | str | os.PathLike[str] | IO[bytes], *, kind: InputKind = "auto"
) -> Iterator[dict[str, Any]]:
    """Records from JSON, JSON Lines, vCard or iCalendar input.

    ``source`` is the data itself (``bytes``), a path, or a binary file.
    A line or item that is not a JSON object raises :class:`MalformedRecord`
    with ``record`` set to its number.
    """
    handle, owned, name = _open(source)
    try:
        stream: Any = handle if hasattr(handle, "peek") else io.BufferedReader(handle)  # type: ignore[type-var,unused-ignore]
        if kind == "auto":
            kind = detect_kind(stream.peek(64)[:64])
        if kind == "jsonl":
            yield from _json_lines(stream, name)
        elif kind == "json":
            yield from _json_list(stream.read(), name)
        else:
            from mailcore.export._reimport import read_ical, read_vcards

            text = _decode(stream.read(), name)
            yield from (read_vcards(text) if kind == "vcard" else read_ical(text))
    finally:
        if owned:
            handle.close()


def _decode(data: bytes, name: str) -> str:
    try:
        return data.removeprefix(_BOM).decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedInput(f"not UTF-8 at byte {error.start}", where=name) from None


def _json_lines(stream: IO[bytes], name: str) -> Iterator[dict[str, Any]]:
    for number, line in enumerate(stream, start=1):
        if number == 1:
            line = line.removeprefix(_BOM)
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except UnicodeDecodeError as error:
            raise MalformedRecord(
                f"{name} line {number}: not UTF-8 at byte {error.start}", record=number
            ) from None
        except json.JSONDecodeError as error:
            raise MalformedRecord(
                f"{name} line {number}: not a JSON object ({error.msg} at column {error.colno})",
                record=number,
            ) from None
        except RecursionError:
            raise MalformedRecord(
                f"{name} line {number}: nested too deeply to be a record", record=number
            ) from None
        if not isinstance(value, dict):
            raise MalformedRecord(
                f"{name} line {number}: expected a JSON object, got {type(value).__name__}",
                record=number,
            )
        yield value


def _json_list(data: bytes, name: str) -> Iterator[dict[str, Any]]:
    try:
        document = json.loads(_decode(data, name))
    except RecursionError:
        raise MalformedInput("nested too deeply to be a list of records", where=name) from None
    except json.JSONDecodeError as error:
        raise MalformedInput(
            f"not valid JSON ({error.msg} at line {error.lineno} column {error.colno})",
            where=name,
        ) from None
    if not isinstance(document, list):
        raise MalformedInput("a JSON export is a list of records", where=name)
    for number, value in enumerate(document, start=1):
        if not isinstance(value, dict):
            raise MalformedRecord(
                f"{name} item {number}: expected a JSON object, got {type(value).__name__}",
                record=number,
            )
        yield value
