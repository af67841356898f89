"""MIP sensitivity labels in mail: the ``msip_labels`` header.

Microsoft's metadata syntax (reference note §2.3) is
``MSIP_Label_<LabelGUID>_<Attribute>=<value>`` pairs "delimited by a
semicolon and a whitespace" in one header.  Real mail also has: pairs
without the space, a trailing ``;``, values folded across lines, any order,
any case, and (older mail) one ``msip_label_<guid>_<attr>`` header per
attribute.  The reader accepts all of it; the writer emits the documented
form and refuses values that would add pairs or header fields.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mailcore._message import MessageInput, RawField, RawMessage
from mailcore.errors import MalformedIrm
from mailcore.irm._model import Problem, normalise_guid

__all__ = [
    "HEADER",
    "LabelReading",
    "SensitivityLabel",
    "format_msip_labels",
    "parse_msip_labels",
    "read_labels",
    "set_labels",
]

HEADER = "msip_labels"
JUSTIFICATION = "msip_justification"
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ATTR = r"[A-Za-z][A-Za-z0-9_]*"
_KEY = re.compile(rf"MSIP_Label_({_GUID})_({_ATTR})\Z", re.IGNORECASE)
_UNFOLD = re.compile(r"\r?\n(?=[ \t])")
# Values must not end a pair (;), start a field (CR/LF) or hold controls.
_BAD_VALUE = re.compile(r"[;\x00-\x1f\x7f]")
# Documented attributes, in the writer's order (reference note §6.4).
_KNOWN: tuple[str, ...] = (
    "Enabled",
    "SiteId",
    "SetDate",
    "Method",
    "Name",
    "ContentBits",
    "ActionId",
)
_KNOWN_LOWER = {name.lower(): name for name in _KNOWN}
# mip::AssignmentMethod (Standard, Privileged) and Graph's "auto".
_METHODS = {"standard": "Standard", "privileged": "Privileged", "auto": "Auto"}
# MIP metadata: custom keys and values up to 255 characters.
_MAX_LENGTH = 255
_FOLD_AT = 78


@dataclass(frozen=True, slots=True)
class SensitivityLabel:
    """One label (one ``MSIP_Label_<guid>_*`` group).

    A known attribute whose value cannot be read is kept verbatim in
    ``extra`` (and its field is None), so that nothing is lost on rewrite.
    """

    label_id: str
    enabled: bool | None = None
    site_id: str | None = None
    set_date: datetime | None = None
    method: str | None = None
    name: str | None = None
    content_bits: int | None = None
    action_id: str | None = None
    extra: tuple[tuple[str, str], ...] = ()

    @property
    def encrypts(self) -> bool:
        """ContentBits 0x8: the label applies encryption (MIP metadata)."""
        return self.content_bits is not None and bool(self.content_bits & 0x8)

    def to_dict(self) -> dict[str, Any]:
        """The label as JSON (``labels`` entries of JSON E)."""
        return {
            "id": self.label_id,
            "enabled": self.enabled,
            "site_id": self.site_id,
            "set_date": None if self.set_date is None else _format_date(self.set_date),
            "method": self.method,
            "name": self.name,
            "content_bits": self.content_bits,
            "action_id": self.action_id,
            "extra": dict(self.extra),
        }


@dataclass(frozen=True, slots=True)
class LabelReading:
    """What a message (or one header value) says about labels."""

    labels: tuple[SensitivityLabel, ...] = ()
    problems: tuple[Problem, ...] = ()
    unrecognised: tuple[tuple[str, str], ...] = ()
    justification: str | None = None


class _Groups:
    """Attributes gathered per label GUID, first occurrence wins."""

    def __init__(self) -> None:
        self.groups: dict[str, dict[str, tuple[str, str]]] = {}
        self.problems: list[Problem] = []
        self.unrecognised: list[tuple[str, str]] = []

    def add(self, key: str, value: str, where: str, *, legacy: bool = False) -> None:
        match = _KEY.match(key)
        if match is None:
            self.problems.append(
                Problem(
                    "label-key-unknown",
                    f"{key!r} is not MSIP_Label_<guid>_<attribute>; kept as is",
                    where,
                    "warning",
                )
            )
            self.unrecognised.append((key, value))
            return
        guid, attribute = match.group(1).lower(), match.group(2)
        attributes = self.groups.setdefault(guid, {})
        lowered = attribute.lower()
        previous = attributes.get(lowered)
        if previous is None:
            attributes[lowered] = (attribute, value)
        elif previous[1] != value:
            if legacy:
                self.problems.append(
                    Problem(
                        "label-legacy-conflict",
                        f"legacy header says {attribute}={value!r}; msip_labels says "
                        f"{previous[1]!r}, which is kept",
                        where,
                        "warning",
                    )
                )
            else:
                self.problems.append(
                    Problem(
                        "label-duplicate",
                        f"{attribute} of label {guid} given twice ({previous[1]!r}, {value!r}); "
                        "the first is kept",
                        where,
                        "error",
                    )
                )

    def add_value(self, value: str, where: str) -> None:
        for segment in _UNFOLD.sub("", value).split(";"):
            pair = segment.strip()
            if not pair:
                continue  # trailing ";" or ";;"
            key, equals, text = pair.partition("=")
            if not equals:
                self.problems.append(
                    Problem("label-pair-invalid", f"{pair!r} is not key=value", where, "error")
                )
                continue
            self.add(key.strip(), text.strip(), where)

    def finish(self, strict: bool, justification: str | None = None) -> LabelReading:
        labels = tuple(
            _build(guid, attributes, self.problems) for guid, attributes in self.groups.items()
        )
        tenants: dict[str, str] = {}
        for label in labels:
            if label.enabled and label.site_id is not None:
                if label.site_id in tenants:
                    self.problems.append(
                        Problem(
                            "label-tenant-duplicate",
                            f"labels {tenants[label.site_id]} and {label.label_id} are both "
                            f"enabled for tenant {label.site_id} (one label per tenant)",
                            HEADER,
                            "warning",
                        )
                    )
                tenants[label.site_id] = label.label_id
        problems = tuple(self.problems)
        errors = [p for p in problems if p.severity == "error"]
        if strict and errors:
            raise MalformedIrm("; ".join(str(p) for p in errors), where=HEADER)
        return LabelReading(labels, problems, tuple(self.unrecognised), justification)


def _build(
    guid: str, attributes: dict[str, tuple[str, str]], problems: list[Problem]
) -> SensitivityLabel:
    where = f"{HEADER} label {guid}"
    values: dict[str, Any] = {}
    extra: list[tuple[str, str]] = []

    def odd(code: str, attribute: str, value: str, expected: str) -> None:
        problems.append(
            Problem(code, f"{attribute}={value!r} is not {expected}; kept as is", where, "warning")
        )
        extra.append((attribute, value))

    for lowered, (attribute, value) in attributes.items():
        known = _KNOWN_LOWER.get(lowered)
        if known is None:
            extra.append((attribute, value))
        elif known == "Enabled":
            if value.lower() in ("true", "false"):
                values["enabled"] = value.lower() == "true"
            else:
                odd("label-enabled-invalid", attribute, value, "true or false")
        elif known in ("SiteId", "ActionId"):
            normal = normalise_guid(value)
            if normal is None:
                odd(f"label-{lowered}-invalid", attribute, value, "a GUID")
            else:
                values["site_id" if known == "SiteId" else "action_id"] = normal
        elif known == "SetDate":
            moment = _parse_date(value)
            if moment is None:
                odd("label-setdate-invalid", attribute, value, "an ISO 8601 time with a zone")
            else:
                values["set_date"] = moment
        elif known == "Method":
            method = _METHODS.get(value.lower())
            if method is None:
                problems.append(
                    Problem(
                        "label-method-unknown",
                        f"Method={value!r} is not Standard or Privileged",
                        where,
                        "warning",
                    )
                )
                method = value
            values["method"] = method
        elif known == "Name":
            values["name"] = value
        elif known == "ContentBits":
            if value.isascii() and value.isdigit():
                values["content_bits"] = int(value)
            else:
                odd("label-contentbits-invalid", attribute, value, "a whole number")
    # Enabled and SiteId are mandatory (MIP metadata).
    if "enabled" not in attributes:
        problems.append(Problem("label-enabled-missing", "no Enabled attribute", where, "warning"))
    if "siteid" not in attributes:
        problems.append(Problem("label-siteid-missing", "no SiteId attribute", where, "warning"))
    return SensitivityLabel(guid, extra=tuple(extra), **values)


def _parse_date(text: str) -> datetime | None:
    try:
        # Python 3.11 reads Z, +HH:MM and the +HHMM form MIP writes.
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _format_date(moment: datetime) -> str:
    offset = moment.utcoffset()
    fraction = f".{moment.microsecond:06d}" if moment.microsecond else ""
    base = f"{moment.year:04d}" + moment.strftime("-%m-%dT%H:%M:%S") + fraction
    if offset is None or offset == timedelta(0):
        return base + "Z"
    return base + moment.strftime("%z")


def parse_msip_labels(value: str, *, strict: bool = False) -> LabelReading:
    """Read one ``msip_labels`` value (folded or not).

    ``strict`` raises :class:`MalformedIrm` for errors (a pair without ``=``,
    one attribute given twice with different values); warnings (unknown
    keys, odd values, missing Enabled/SiteId) are only recorded.
    """
    groups = _Groups()
    groups.add_value(value, HEADER)
    return groups.finish(strict)


def _legacy_key(name: str) -> bool:
    return _KEY.match(name) is not None


def read_labels(message: MessageInput | RawMessage, *, strict: bool = False) -> LabelReading:
    """Every label of a message: ``msip_labels`` fields, then legacy per-attribute headers."""
    raw = message if isinstance(message, RawMessage) else RawMessage(message)
    groups = _Groups()
    legacy: list[RawField] = []
    justification = None
    for field in raw.fields:
        lowered = field.name.lower()
        if lowered == HEADER:
            groups.add_value(raw.value(field), HEADER)
        elif lowered == JUSTIFICATION:
            justification = raw.value(field)
        elif lowered.startswith("msip_label_") and _legacy_key(field.name):
            legacy.append(field)
    for field in legacy:
        groups.add(field.name, raw.value(field).strip(), field.name, legacy=True)
    return groups.finish(strict, justification)


def _check_value(text: str, where: str) -> str:
    if _BAD_VALUE.search(text):
        raise MalformedIrm(
            "a label value must not hold ';', a line break or a control character "
            "(it would inject pairs or header fields)",
            where=where,
        )
    if text != text.strip():
        raise MalformedIrm("a label value must not start or end with white space", where=where)
    if len(text) > _MAX_LENGTH:
        raise MalformedIrm(f"{len(text)} characters; at most {_MAX_LENGTH}", where=where)
    return text


def _pairs(label: SensitivityLabel) -> list[tuple[str, str]]:
    guid = normalise_guid(label.label_id)
    if guid is None:
        raise MalformedIrm(f"label id {label.label_id!r} is not a GUID", where=HEADER)
    if label.enabled is None or label.site_id is None:
        # MIP metadata: Enabled and SiteId are mandatory.
        raise MalformedIrm(
            f"label {guid} needs Enabled and SiteId (mandatory in MIP metadata)", where=HEADER
        )
    pairs: list[tuple[str, str]] = []
    if label.enabled is not None:
        pairs.append(("Enabled", "true" if label.enabled else "false"))
    for attribute, identifier in (("SiteId", label.site_id), ("ActionId", label.action_id)):
        if identifier is not None and normalise_guid(identifier) is None:
            raise MalformedIrm(f"{attribute} {identifier!r} is not a GUID", where=HEADER)
    if label.site_id is not None:
        pairs.append(("SiteId", normalise_guid(label.site_id) or ""))
    if label.set_date is not None:
        if label.set_date.tzinfo is None:
            raise MalformedIrm("SetDate needs a time zone", where=HEADER)
        pairs.append(("SetDate", _format_date(label.set_date)))
    if label.method is not None:
        pairs.append(("Method", label.method))
    if label.name is not None:
        pairs.append(("Name", label.name))
    if label.content_bits is not None:
        if label.content_bits < 0:
            raise MalformedIrm("ContentBits must not be negative", where=HEADER)
        pairs.append(("ContentBits", str(label.content_bits)))
    if label.action_id is not None:
        pairs.append(("ActionId", normalise_guid(label.action_id) or ""))
    used = {attribute.lower() for attribute, _ in pairs}
    for attribute, value in label.extra:
        if not re.fullmatch(_ATTR, attribute):
            raise MalformedIrm(f"{attribute!r} is not an attribute name", where=HEADER)
        if attribute.lower() in used:
            raise MalformedIrm(f"attribute {attribute} is given twice", where=HEADER)
        used.add(attribute.lower())
        pairs.append((attribute, value))
    out = []
    for attribute, value in pairs:
        key = f"MSIP_Label_{guid}_{attribute}"
        if len(key) > _MAX_LENGTH:
            raise MalformedIrm(f"key {key!r} is longer than {_MAX_LENGTH}", where=HEADER)
        out.append((key, _check_value(value, f"{HEADER} {key}")))
    return out


def format_msip_labels(labels: Iterable[SensitivityLabel]) -> str:
    """The ``msip_labels`` value (unfolded): ``key=value; key=value``.

    Attributes in a stable order (Enabled, SiteId, SetDate, Method, Name,
    ContentBits, ActionId, then the extras as given).
    """
    listed = list(labels)
    ids = [normalise_guid(label.label_id) for label in listed]
    if len(set(ids)) != len(ids):
        raise MalformedIrm("a label is given twice", where=HEADER)
    return "; ".join(f"{key}={value}" for label in listed for key, value in _pairs(label))


def _fold(name: str, value: str, linesep: str) -> str:
    """Fold only at ``; `` boundaries (unfolding restores the exact value)."""
    pieces = value.split("; ")
    lines: list[str] = []
    current = pieces[0]
    used = len(name) + 2
    for piece in pieces[1:]:
        if used + len(current) + 1 + len(piece) + 1 > _FOLD_AT:
            lines.append(current + ";")
            current = piece
            used = 1
        else:
            current += "; " + piece
    lines.append(current)
    return (linesep + " ").join(lines)


def set_labels(message: MessageInput, labels: Iterable[SensitivityLabel]) -> bytes:
    """Write ``labels`` as the message's ``msip_labels`` header (no labels: remove it).

    Earlier ``msip_labels`` fields and legacy per-attribute headers are
    replaced; every other byte of the message stays as it was.
    """
    raw = RawMessage(message)
    value = format_msip_labels(labels)
    old = [
        field
        for field in raw.fields
        if field.name.lower() == HEADER
        or (field.name.lower().startswith("msip_label_") and _legacy_key(field.name))
    ]
    edits: list[tuple[RawField | None, bytes]] = [(field, b"") for field in old]
    if value:
        encoded = raw.encode_field(HEADER, _fold(HEADER, value, raw.linesep.decode("ascii")))
        firsts = [i for i, field in enumerate(old) if field.name.lower() == HEADER]
        if firsts:
            edits[firsts[0]] = (old[firsts[0]], encoded)
        else:
            edits.append((None, encoded))
    return raw.replace_fields(edits)
