"""A mailbox on an IMAP server, through the standard library's ``imaplib`` over TLS.

Per folder (RFC 3501): ``EXAMINE`` (read-only), ``SEARCH SINCE`` for the
messages that can be in a dated window, ``FETCH INTERNALDATE`` for those,
and ``FETCH RFC822.SIZE`` (with ``BODYSTRUCTURE`` when attachments are
sized) for all, in chunks.  ``SINCE`` has day granularity in the server's
zone, so the search starts two days early and the exact window is decided
on ``INTERNALDATE`` — the received time a server keeps (Z-Push's IMAP
backend uses the same search).

BODYSTRUCTURE gives encoded part sizes only; base64 attachments are
estimated as 76-character lines (:func:`base64_octets_estimate`).
Connection and TLS failures raise :class:`ServiceUnavailable`; a refused
login or a missing folder raises :class:`MailboxError`.
"""

from __future__ import annotations

import base64
import datetime as dt
import imaplib
import re
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from mailcore.errors import MailboxError, ServiceUnavailable
from mailcore.sizing._dates import imap_date_time
from mailcore.sizing._mime import base64_octets_estimate
from mailcore.sizing._tally import ScanOptions, Tally

__all__ = [
    "ImapMailbox",
    "attachment_octets",
    "decode_mailbox_name",
    "parse_imap_url",
    "parse_response",
]

_CHUNK = 2000
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun",
           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # fmt: skip


@dataclass(frozen=True, slots=True)
class ImapMailbox:
    """An IMAP account to size: ``imaps://user@host:port[/folder]`` (RFC 5092 style).

    The password is not part of the value: it comes from the options
    (``ScanOptions.imap_password``), so the value can be logged and shown.
    """

    host: str
    port: int
    user: str
    folder: str | None = None  # one folder only; None: every selectable folder

    def __str__(self) -> str:
        path = f"/{self.folder}" if self.folder else ""
        return f"imaps://{self.user}@{self.host}:{self.port}{path}"


def parse_imap_url(url: str) -> ImapMailbox:
    """``imaps://user@host[:993][/folder]`` as an :class:`ImapMailbox`.

    A password in the URL is refused (it would end up in reports and error
    messages): it comes from ``--imap-password-env``.
    """
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:  # imaps://u@[::1 and other unparsable netlocs
        raise MailboxError("not a valid imaps:// address", where=_without_secret(url)) from None
    if password is not None:
        raise MailboxError(
            "put no password in the address (use --imap-password-env)",
            where=_without_secret(url),
        )
    if parts.scheme != "imaps":
        raise MailboxError("only imaps:// (IMAP over TLS) is supported", where=url)
    try:
        port = parts.port or 993
    except ValueError:
        raise MailboxError("the port is not a number", where=url) from None
    if not parts.hostname or not parts.username:
        raise MailboxError("write imaps://user@host[:port][/folder]", where=url)
    folder = unquote(parts.path.lstrip("/")) or None
    return ImapMailbox(parts.hostname, port, unquote(parts.username), folder)


def _without_secret(url: str) -> str:
    """The address with anything between ``:`` and ``@`` of the user part hidden."""
    return re.sub(r"^(imaps?://[^:/@]*):[^@/]*@", r"\1:***@", url)


# -- responses -------------------------------------------------------------------

_TOKEN = re.compile(rb'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|\{(\d+)\}\r?\n?|([^\s()"{}]+))')


def _pieces(raw: list[Any]) -> Iterator[bytes | tuple[bytes]]:
    """imaplib's response list flattened: text, and literals as 1-tuples."""
    for item in raw:
        if isinstance(item, tuple):
            yield item[0]
            yield (item[1],)
        elif isinstance(item, bytes):
            yield item


def parse_response(raw: list[Any]) -> list[Any]:
    """Parse imaplib response data into nested lists of ``bytes`` (None for NIL).

    Literals (``{n}`` followed by n bytes, RFC 3501 §4.3) arrive from
    imaplib as tuples and are taken as strings.
    """
    stack: list[list[Any]] = [[]]
    for piece in _pieces(raw):
        if isinstance(piece, tuple):
            stack[-1].append(piece[0])
            continue
        position = 0
        while position < len(piece):
            match = _TOKEN.match(piece, position)
            if match is None or match.end() == position:
                if piece[position:].strip():
                    raise MailboxError(f"unreadable IMAP response near {piece[position:][:40]!r}")
                break
            position = match.end()
            opening, closing, quoted, literal, atom = match.groups()
            if opening:
                stack.append([])
            elif closing:
                if len(stack) == 1:
                    raise MailboxError("unbalanced ')' in an IMAP response")
                done = stack.pop()
                stack[-1].append(done)
            elif quoted is not None:
                stack[-1].append(re.sub(rb"\\(.)", rb"\1", quoted))
            elif literal is not None:
                continue  # the literal's bytes follow as the next piece
            elif atom is not None:
                stack[-1].append(None if atom.upper() == b"NIL" else atom)
    while len(stack) > 1:  # imaplib leaves the closing ")" after a literal separate
        done = stack.pop()
        stack[-1].append(done)
    return stack[0]


def _fetch_items(raw: list[Any]) -> Iterator[tuple[int, dict[bytes, Any]]]:
    """(sequence number, {ITEM: value}) for each message of a FETCH response."""
    tokens = parse_response(raw)
    index = 0
    while index + 2 < len(tokens) + 1:
        number = tokens[index]
        if index + 2 > len(tokens):
            break
        if not (isinstance(number, bytes) and number.isdigit()):
            index += 1
            continue
        items = tokens[index + 2] if tokens[index + 1] == b"FETCH" else tokens[index + 1]
        if isinstance(items, list):
            pairs = {
                items[i].upper(): items[i + 1]
                for i in range(0, len(items) - 1, 2)
                if isinstance(items[i], bytes)
            }
            yield int(number), pairs
        index += 3 if tokens[index + 1] == b"FETCH" else 2


def _params(value: Any) -> dict[bytes, bytes]:
    if not isinstance(value, list):
        return {}
    return {
        value[i].lower(): value[i + 1]
        for i in range(0, len(value) - 1, 2)
        if isinstance(value[i], bytes) and isinstance(value[i + 1], bytes)
    }


def attachment_octets(structure: Any, depth: int = 0) -> int:
    """Decoded attachment bytes from a BODYSTRUCTURE (RFC 3501 §7.4.2), same rule as files."""
    if not isinstance(structure, list) or not structure or depth > 32:
        return 0
    if isinstance(structure[0], list):  # multipart: parts, then the subtype
        return sum(attachment_octets(p, depth + 1) for p in structure if isinstance(p, list))
    fields = structure + [None] * 12
    kind = (fields[0] or b"").lower()
    subtype = (fields[1] or b"").lower()
    params = _params(fields[2])
    encoding = (fields[5] or b"").lower()
    try:
        octets = int(fields[6] or 0)
    except ValueError:
        octets = 0
    size = base64_octets_estimate(octets) if encoding == b"base64" else octets
    if kind == b"message" and subtype == b"rfc822":
        return size
    extension = 10 if kind == b"message" and subtype == b"rfc822" else 8 if kind == b"text" else 7
    disposition = fields[extension + 1]
    dtype, dparams = b"", {}
    if isinstance(disposition, list) and disposition:
        dtype = (disposition[0] or b"").lower()
        dparams = _params(disposition[1] if len(disposition) > 1 else None)
    if dtype == b"attachment" or b"filename" in dparams or b"name" in params:
        return size
    return 0


def decode_mailbox_name(raw: bytes) -> str:
    """RFC 3501 §5.1.3 modified UTF-7 mailbox name as text."""
    text = raw.decode("ascii", "replace")
    out = []
    for plain, encoded in re.findall(r"([^&]*)(?:&([^-]*)-)?", text):
        out.append(plain)
        if encoded == "":
            if f"&{encoded}-" in text:
                out.append("&")
            continue
        padded = encoded.replace(",", "/") + "=" * (-len(encoded) % 4)
        try:
            out.append(base64.b64decode(padded).decode("utf-16-be"))
        except (ValueError, UnicodeDecodeError):
            out.append(f"&{encoded}-")
    return "".join(out)


def _quote(name: bytes) -> str:
    return '"' + name.decode("ascii", "replace").replace("\\", "\\\\").replace('"', '\\"') + '"'


def _sequence_set(numbers: list[int]) -> str:
    """``1:5,7,9:12`` (RFC 3501 §9 sequence-set) from sorted numbers."""
    ranges: list[str] = []
    start = previous = None
    for number in numbers:
        if previous is not None and number == previous + 1:
            previous = number
            continue
        if start is not None:
            ranges.append(f"{start}:{previous}" if start != previous else str(start))
        start = previous = number
    if start is not None:
        ranges.append(f"{start}:{previous}" if start != previous else str(start))
    return ",".join(ranges)


def _chunks(numbers: list[int]) -> Iterator[list[int]]:
    for index in range(0, len(numbers), _CHUNK):
        yield numbers[index : index + _CHUNK]


# -- scanning --------------------------------------------------------------------


class _Session:
    def __init__(self, mailbox: ImapMailbox, options: ScanOptions) -> None:
        self.where = str(mailbox)
        context = ssl.create_default_context(cafile=options.imap_cafile)
        try:
            self.client = imaplib.IMAP4_SSL(
                mailbox.host, mailbox.port, ssl_context=context, timeout=options.imap_timeout
            )
        except (OSError, ssl.SSLError, imaplib.IMAP4.error) as error:
            raise ServiceUnavailable(f"{self.where}: IMAP server unavailable: {error}") from None
        if options.imap_password is None:
            self.close()
            raise MailboxError("no IMAP password given", where=self.where)
        try:
            self.client.login(mailbox.user, options.imap_password)
        except imaplib.IMAP4.error:
            self.close()
            raise MailboxError("the IMAP server refused the login", where=self.where) from None
        except (OSError, imaplib.IMAP4.abort) as error:
            self.close()
            raise ServiceUnavailable(f"{self.where}: connection lost: {error}") from None

    def command(self, name: str, *args: str | None) -> list[Any]:
        try:
            typ, data = getattr(self.client, name)(*args)
        except (TimeoutError, imaplib.IMAP4.abort, OSError) as error:
            raise ServiceUnavailable(f"{self.where}: connection lost: {error}") from None
        except imaplib.IMAP4.error as error:
            raise MailboxError(f"IMAP {name.upper()} failed: {error}", where=self.where) from None
        if typ != "OK":
            raise MailboxError(f"IMAP {name.upper()} refused: {data!r}", where=self.where)
        return list(data)

    def fetch(self, numbers: str, items: str) -> list[Any]:
        try:
            typ, data = self.client.fetch(numbers, items)
        except (TimeoutError, imaplib.IMAP4.abort, OSError) as error:
            raise ServiceUnavailable(f"{self.where}: connection lost: {error}") from None
        except imaplib.IMAP4.error as error:
            raise MailboxError(f"IMAP FETCH failed: {error}", where=self.where) from None
        if typ != "OK":
            raise MailboxError(f"IMAP FETCH refused: {data!r}", where=self.where)
        return list(data)

    def close(self) -> None:
        try:
            self.client.logout()
        except (imaplib.IMAP4.error, OSError):
            pass


def imap_folders(session: _Session, only: str | None) -> list[tuple[str, bytes]]:
    """(display name, raw name) of the selectable folders."""
    raw = session.command("list", '""', "*")
    folders = []
    for line in raw:
        if line is None:
            continue
        tokens = parse_response([line])  # a tuple when the name is a literal
        if len(tokens) < 3 or not isinstance(tokens[0], list):
            continue
        flags = {f.lower() for f in tokens[0] if isinstance(f, bytes)}
        name = tokens[2]
        if not isinstance(name, bytes) or b"\\noselect" in flags or b"\\nonexistent" in flags:
            continue
        display = decode_mailbox_name(name)
        if only is None or display == only:
            folders.append((display, name))
    if only is not None and not folders:
        raise MailboxError(f"no folder {only!r} on the server", where=session.where)
    folders.sort(key=lambda pair: (pair[0].upper() != "INBOX", pair[0]))
    return folders


def scan_imap(
    mailbox: ImapMailbox,
    options: ScanOptions,
    new_tally: Callable[[str], Tally],
    tick: Callable[[int], None] | None = None,
) -> list[tuple[str, Tally]]:
    """Size every folder of an IMAP account; returns (folder, tally) pairs."""
    session = _Session(mailbox, options)
    results = []
    try:
        for display, raw in imap_folders(session, mailbox.folder):
            tally = new_tally(f"{mailbox}/{display}")
            _scan_folder(session, raw, options, tally)
            results.append((display, tally))
            if tick is not None:
                tick(sum(tally.counts))
    finally:
        session.close()
    return results


def _scan_folder(session: _Session, raw: bytes, options: ScanOptions, tally: Tally) -> None:
    data = session.command("select", _quote(raw), "True")  # readonly: EXAMINE
    try:
        exists = int(data[0])
    except (TypeError, ValueError, IndexError):
        raise MailboxError("no EXISTS count from EXAMINE", where=session.where) from None
    if exists == 0:
        return
    earliest = dt.datetime.fromtimestamp(tally.starts[-1], tz=dt.UTC) - dt.timedelta(days=2)
    since = f"{earliest.day}-{_MONTHS[earliest.month - 1]}-{earliest.year}"
    found = session.command("search", None, "SINCE", since)
    recent = sorted(int(n) for n in b" ".join(x for x in found if x).split())
    received: dict[int, float | None] = {}
    for chunk in _chunks(recent):
        fetched = session.fetch(_sequence_set(chunk), "(INTERNALDATE)")
        for number, items in _fetch_items(fetched):
            value = items.get(b"INTERNALDATE")
            moment = imap_date_time(value) if isinstance(value, bytes) else None
            if moment is None:
                tally.note("bad_date", f"{session.where} message {number}")
            received[number] = moment
    what = "(RFC822.SIZE BODYSTRUCTURE)" if options.attachments else "(RFC822.SIZE)"
    everything = list(range(1, exists + 1))
    for chunk in _chunks(everything):
        spec = f"{chunk[0]}:{chunk[-1]}"
        for number, items in _fetch_items(session.fetch(spec, what)):
            try:
                size = int(items.get(b"RFC822.SIZE") or b"")
            except ValueError:
                tally.note("not_mail", f"{session.where} message {number}: no RFC822.SIZE")
                continue
            structure = items.get(b"BODYSTRUCTURE")
            attachment = attachment_octets(structure) if options.attachments else 0
            # Messages outside the SINCE search are older than every dated window.
            tally.add(received.get(number, tally.starts[-1] - 1), size, attachment)
