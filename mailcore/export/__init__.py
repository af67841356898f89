"""Contacts to vCard and calendar items to iCalendar, under the export policy.

Input is ActiveSync-keyed records (MS-ASCNTC contacts, MS-ASCAL calendar
items; contract §6a) read from JSON, JSON Lines, or existing .vcf/.ics
files; output is vCard 3.0/4.0 (RFC 2426/6350) and iCalendar (RFC 5545)
written by mailcore's own streaming serializer.  ``[export]`` of the policy
decides what may leave (reference export.md §1.2)::

    from mailcore.export import export_vcards, read_records
    for chunk in export_vcards(read_records("contacts.jsonl"), policy):
        sink.write(chunk)
"""

from mailcore.export._export import (
    ExportSummary,
    UnknownHandler,
    export_ical,
    export_vcard,
    export_vcards,
    write_ical,
    write_vcards,
)
from mailcore.export._levels import CalendarLevel, ContactLevel, calendar_level, contact_level
from mailcore.export._reader import read_records
from mailcore.export._tz import TzRule, decode_timezone, encode_timezone, resolve_iana

__all__ = [
    "CalendarLevel",
    "ContactLevel",
    "ExportSummary",
    "TzRule",
    "UnknownHandler",
    "calendar_level",
    "contact_level",
    "decode_timezone",
    "encode_timezone",
    "export_ical",
    "export_vcard",
    "export_vcards",
    "read_records",
    "resolve_iana",
    "write_ical",
    "write_vcards",
]
