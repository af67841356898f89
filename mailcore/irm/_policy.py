"""The ``[irm] templates`` policy key: which restriction profiles senders may apply.

Each entry is a built-in by name (``"do-not-forward"``, ``"encrypt-only"``)
or GUID, or a table for a tenant template::

    [irm]
    enabled = true
    templates = [
      "do-not-forward",
      { id = "6f1e...", name = "Confidential View Only",
        description = "Recipients can only view.", rights = ["VIEW", "VIEWRIGHTSDATA"] },
    ]

``rights`` is optional (policy encodings, reference note §3.1); without it
only the rights server knows what the template grants.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mailcore.errors import PolicyError
from mailcore.irm._model import (
    DO_NOT_FORWARD,
    ENCRYPT_ONLY,
    NO_RESTRICTION_ID,
    RestrictionProfile,
    normalise_guid,
)
from mailcore.irm._rights import parse_rights

__all__ = ["templates_from_config"]

KEY = "irm.templates"
_BUILT_IN = {
    "do-not-forward": DO_NOT_FORWARD,
    DO_NOT_FORWARD.template_id: DO_NOT_FORWARD,
    "encrypt-only": ENCRYPT_ONLY,
    ENCRYPT_ONLY.template_id: ENCRYPT_ONLY,
}
_TABLE_KEYS = ("id", "name", "description", "rights", "locale")
# MS-ASRM §2.2.2.17 (at most 20) and §2.2.2.20.x / §2.2.2.18.x (lengths).
_MAX_TEMPLATES = 20
_NAME_MAX = 256
_DESCRIPTION_MAX = 10240


def _fail(message: str, where: str) -> PolicyError:
    return PolicyError(f"{KEY}: {message}", key=KEY, where=where)


def _text(entry: Mapping[str, Any], key: str, limit: int, number: int, where: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _fail(f"entry {number}: {key} must be a non-empty string", where)
    if len(value) > limit:
        raise _fail(f"entry {number}: {key} has {len(value)} characters; at most {limit}", where)
    if any(ord(c) < 0x20 and c not in "\t\n" for c in value):
        raise _fail(f"entry {number}: {key} holds a control character", where)
    return value


def _table(entry: Mapping[str, Any], number: int, where: str) -> RestrictionProfile:
    unknown = [key for key in entry if key not in _TABLE_KEYS]
    if unknown:
        raise _fail(
            f"entry {number}: unknown key {unknown[0]!r}; known: {', '.join(_TABLE_KEYS)}", where
        )
    raw_id = entry.get("id")
    guid = normalise_guid(raw_id) if isinstance(raw_id, str) else None
    if guid is None:
        raise _fail(f"entry {number}: id must be a template GUID, not {raw_id!r}", where)
    if guid == NO_RESTRICTION_ID:
        raise _fail(
            f"entry {number}: the all-zero id means 'No Restriction', not a template", where
        )
    name = _text(entry, "name", _NAME_MAX, number, where)
    description = (
        _text(entry, "description", _DESCRIPTION_MAX, number, where)
        if "description" in entry
        else name
    )
    rights = None
    if "rights" in entry:
        names = entry["rights"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _fail(f"entry {number}: rights must be a list of right names", where)
        try:
            rights = parse_rights(names)
        except ValueError as error:
            raise _fail(f"entry {number}: {error}", where) from None
    locale = entry.get("locale")
    if locale is not None and not isinstance(locale, str):
        raise _fail(f"entry {number}: locale must be a string", where)
    return RestrictionProfile(guid, name, description, rights, locale)


def templates_from_config(value: Any, where: str) -> tuple[RestrictionProfile, ...]:
    """The templates of an ``[irm] templates`` value; :class:`PolicyError` names the entry."""
    if not isinstance(value, list):
        raise _fail("must be a list of template names, GUIDs or tables", where)
    if len(value) > _MAX_TEMPLATES:
        raise _fail(f"{len(value)} templates; at most {_MAX_TEMPLATES} (MS-ASRM §2.2.2.17)", where)
    profiles: list[RestrictionProfile] = []
    for number, entry in enumerate(value, start=1):
        if isinstance(entry, str):
            key = normalise_guid(entry) or entry.strip().lower()
            profile = _BUILT_IN.get(key)
            if profile is None:
                raise _fail(
                    f"entry {number}: {entry!r} is not a built-in template "
                    "(do-not-forward, encrypt-only); describe others as a table with an id",
                    where,
                )
        elif isinstance(entry, Mapping):
            profile = _table(entry, number, where)
        else:
            raise _fail(f"entry {number} must be a name, GUID or table, not {entry!r}", where)
        if any(p.template_id == profile.template_id for p in profiles):
            raise _fail(f"entry {number}: template {profile.template_id} is listed twice", where)
        profiles.append(profile)
    return tuple(profiles)
