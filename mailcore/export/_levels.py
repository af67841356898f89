"""The export policy as disclosure levels (reference export.md §1.2).

``[export]`` of the policy file: ``contacts`` on/off and ``contact_fields``
(Citrix "Contact fields to export"), ``calendar`` (Citrix "Export
Calendar", an ordered ladder) and ``calendar_placeholder``.  The writers
test a level before each property, so nothing above the level is even
formatted.
"""

from __future__ import annotations

from enum import IntEnum

from mailcore.errors import ExportRefused
from mailcore.policy import ExportPolicy, Policy

__all__ = ["CalendarLevel", "ContactLevel", "calendar_level", "contact_level"]


class ContactLevel(IntEnum):
    """Contact fields to export, lowest first."""

    NAME_PHONE = 1  # N, FN, NICKNAME, phonetic names, every TEL
    NAME_PHONE_EMAIL = 2  # + EMAIL
    ALL = 3  # + everything mapped


class CalendarLevel(IntEnum):
    """Export Calendar, lowest first; recurrence and zones belong to TIME."""

    TIME = 1  # times, recurrence, exceptions, zones, busy status; SUMMARY = placeholder
    TIME_LOCATION = 2  # + LOCATION, GEO
    TIME_LOCATION_SUBJECT = 3  # + the real SUMMARY
    ALL = 4  # + DESCRIPTION, ORGANIZER, ATTENDEE, CATEGORIES, CLASS, VALARM, URL...


_CONTACT = {
    "name_phone": ContactLevel.NAME_PHONE,
    "name_phone_email": ContactLevel.NAME_PHONE_EMAIL,
    "all": ContactLevel.ALL,
}
_CALENDAR = {
    "meeting_time": CalendarLevel.TIME,
    "meeting_time_location": CalendarLevel.TIME_LOCATION,
    "meeting_time_location_subject": CalendarLevel.TIME_LOCATION_SUBJECT,
    "all": CalendarLevel.ALL,
}


def _section(policy: Policy | ExportPolicy) -> ExportPolicy:
    return policy.export if isinstance(policy, Policy) else policy


def contact_level(policy: Policy | ExportPolicy) -> ContactLevel:
    """The contact level; :class:`ExportRefused` when ``contacts = false``."""
    section = _section(policy)
    if not section.contacts:
        raise ExportRefused(
            "contact export is off in the policy ([export] contacts = false): "
            "no address-book sync and no vCard sharing"
        )
    return _CONTACT[section.contact_fields]


def calendar_level(policy: Policy | ExportPolicy) -> CalendarLevel:
    """The calendar level; :class:`ExportRefused` when ``calendar = "off"``."""
    section = _section(policy)
    level = _CALENDAR.get(section.calendar)
    if level is None:
        raise ExportRefused('calendar export is off in the policy ([export] calendar = "off")')
    return level
