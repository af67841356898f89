"""The export API: records in, vCard / iCalendar bytes out, under the policy.

The writers are our own (templates, one-pass escaping, byte-aware folding,
cached VTIMEZONE blocks), streaming one record at a time; icalendar and
vobject are used only to read .ics/.vcf input and, in the tests, to check
the output.  A policy refusal is raised when the export is asked for, before
any output, so that nothing leaves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, Literal

from mailcore import __version__
from mailcore.errors import MalformedRecord
from mailcore.export._ical import EVENT_KEYS, CalendarWriter
from mailcore.export._levels import calendar_level, contact_level
from mailcore.export._text import join_lines
from mailcore.export._values import Where
from mailcore.export._vcard import CONTACT_KEYS, vcard_lines
from mailcore.policy import ExportPolicy, Policy

__all__ = [
    "ExportSummary",
    "UnknownHandler",
    "export_ical",
    "export_vcard",
    "export_vcards",
    "write_ical",
    "write_vcards",
]

VCardVersion = Literal["3.0", "4.0"]
UnknownHandler = Callable[[int, tuple[str, ...]], None]
"""Called with a record's number (1-based) and the keys left out of the output."""

PRODID = f"-//mailcore//mailcore {__version__}//EN"
_HEADER = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"
    f"PRODID:{PRODID}\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\n"
)
_FOOTER = "END:VCALENDAR\r\n"
_BUFFER = 1 << 16


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What a whole export wrote: record count and the keys it left out."""

    kind: Literal["vcard", "ical"]
    records: int
    unknown_keys: tuple[tuple[str, int], ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """``{"kind", "records", "unknown_keys": {key: count}}``."""
        return {
            "kind": self.kind,
            "records": self.records,
            "unknown_keys": dict(self.unknown_keys),
        }


def _encode(text: str, record: Mapping[str, Any], where: Where) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # JSON "\ud83c" alone decodes to a lone surrogate: not text.
        for key, value in record.items():
            if isinstance(value, str):
                try:
                    value.encode("utf-8")
                except UnicodeEncodeError:
                    where.fail(key, "contains a lone UTF-16 surrogate (broken emoji?)")
        where.fail(None, "contains a lone UTF-16 surrogate (broken emoji?)")


def _records(records: Iterable[Mapping[str, Any]]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    for number, record in enumerate(records, start=1):
        if not isinstance(record, Mapping):
            raise MalformedRecord(
                f"record {number}: expected an object, got {type(record).__name__}",
                record=number,
            )
        yield number, record


def _stamp(now: datetime | None) -> datetime:
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return moment.astimezone(UTC).replace(microsecond=0)


def export_vcards(
    records: Iterable[Mapping[str, Any]],
    policy: Policy | ExportPolicy,
    *,
    version: VCardVersion = "3.0",
    now: datetime | None = None,
    on_unknown: UnknownHandler | None = None,
) -> Iterator[bytes]:
    """vCards of MS-ASCNTC contacts, one ``bytes`` chunk per contact.

    Raises :class:`~mailcore.ExportRefused` at once when the policy's
    ``contacts`` is off; :class:`~mailcore.MalformedRecord` (while
    iterating) for a record with a wrong type or impossible value.  ``REV``
    is the record's ``LastModifiedTime`` or ``now``.
    """
    level = contact_level(policy)
    if version not in ("3.0", "4.0"):
        raise ValueError(f"vCard version must be 3.0 or 4.0, not {version!r}")
    v4 = version == "4.0"
    moment = _stamp(now)
    rev_default = _rev(moment, v4)

    def generate() -> Iterator[bytes]:
        for number, record in _records(records):
            where = Where(number, record)
            unknown = record.keys() - CONTACT_KEYS
            if unknown and on_unknown is not None:
                on_unknown(number, tuple(sorted(unknown)))
            rev = rev_default
            modified = record.get("LastModifiedTime")
            if modified:
                from mailcore.export._values import get_utc

                stamp = get_utc(record, "LastModifiedTime", where)
                assert stamp is not None
                rev = _rev(stamp, v4)
            text = join_lines(vcard_lines(record, where, level, v4, rev))
            yield _encode(text, record, where)

    return generate()


def export_vcard(
    record: Mapping[str, Any],
    policy: Policy | ExportPolicy,
    *,
    version: VCardVersion = "3.0",
    now: datetime | None = None,
) -> bytes:
    """One contact as a vCard attachment ("share a contact"), under the policy."""
    return b"".join(export_vcards([record], policy, version=version, now=now))


def export_ical(
    records: Iterable[Mapping[str, Any]],
    policy: Policy | ExportPolicy,
    *,
    now: datetime | None = None,
    default_timezone: str | None = None,
    on_unknown: UnknownHandler | None = None,
) -> Iterator[bytes]:
    """One VCALENDAR of MS-ASCAL calendar items, as ``bytes`` chunks.

    The first chunk is the calendar header, then one chunk per item (its
    VTIMEZONE when new, the VEVENT and its overrides), then the footer.
    ``default_timezone`` (an IANA name) is the zone of items that carry no
    ``Timezone`` blob (else they are written in UTC).  Raises
    :class:`~mailcore.ExportRefused` at once when ``calendar = "off"``.
    """
    level = calendar_level(policy)
    section = policy.export if isinstance(policy, Policy) else policy
    if default_timezone is not None:
        import zoneinfo

        try:
            zoneinfo.ZoneInfo(default_timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {default_timezone!r}") from None

    def report(where: Where, keys: tuple[str, ...]) -> None:
        if on_unknown is not None:
            on_unknown(where.number, keys)

    writer = CalendarWriter(
        level, section.calendar_placeholder, _stamp(now), default_timezone, report
    )

    def generate() -> Iterator[bytes]:
        yield _HEADER.encode("ascii")
        for number, record in _records(records):
            where = Where(number, record)
            unknown = record.keys() - EVENT_KEYS
            if unknown and on_unknown is not None:
                on_unknown(number, tuple(sorted(unknown)))
            yield _encode(join_lines(writer.event(record, where)), record, where)
        yield _FOOTER.encode("ascii")

    return generate()


def _write(chunks: Iterator[bytes], out: IO[bytes]) -> None:
    buffer: list[bytes] = []
    size = 0
    for chunk in chunks:
        buffer.append(chunk)
        size += len(chunk)
        if size >= _BUFFER:
            out.write(b"".join(buffer))
            buffer.clear()
            size = 0
    out.write(b"".join(buffer))


class _Counter:
    def __init__(self, then: UnknownHandler | None) -> None:
        self.keys: Counter[str] = Counter()
        self.records = 0
        self.then = then

    def __call__(self, number: int, keys: tuple[str, ...]) -> None:
        self.keys.update(keys)
        if self.then is not None:
            self.then(number, keys)

    def count(self, records: Iterable[Mapping[str, Any]]) -> Iterator[Mapping[str, Any]]:
        for record in records:
            self.records += 1
            yield record


def write_vcards(
    records: Iterable[Mapping[str, Any]],
    policy: Policy | ExportPolicy,
    out: IO[bytes],
    *,
    version: VCardVersion = "3.0",
    now: datetime | None = None,
    on_unknown: UnknownHandler | None = None,
) -> ExportSummary:
    """Stream vCards to a binary file; returns what was written."""
    counter = _Counter(on_unknown)
    chunks = export_vcards(
        counter.count(records), policy, version=version, now=now, on_unknown=counter
    )
    _write(chunks, out)
    return ExportSummary("vcard", counter.records, tuple(sorted(counter.keys.items())))


def write_ical(
    records: Iterable[Mapping[str, Any]],
    policy: Policy | ExportPolicy,
    out: IO[bytes],
    *,
    now: datetime | None = None,
    default_timezone: str | None = None,
    on_unknown: UnknownHandler | None = None,
) -> ExportSummary:
    """Stream one VCALENDAR to a binary file; returns what was written."""
    counter = _Counter(on_unknown)
    chunks = export_ical(
        counter.count(records),
        policy,
        now=now,
        default_timezone=default_timezone,
        on_unknown=counter,
    )
    _write(chunks, out)
    return ExportSummary("ical", counter.records, tuple(sorted(counter.keys.items())))


def _rev(moment: datetime, v4: bool) -> str:
    """REV as a UTC timestamp: basic format in vCard 4.0 (RFC 6350 §4.3.5),
    extended in 3.0; four-digit years always (strftime's %Y writes "1")."""
    m = moment
    if v4:
        return f"{m.year:04d}{m.month:02d}{m.day:02d}T{m.hour:02d}{m.minute:02d}{m.second:02d}Z"
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}Z"
