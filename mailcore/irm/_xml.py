"""MS-ASRM XML: ``RightsManagementLicense`` and ``RightsManagementTemplates``.

Reading is strict by default (every problem is an error that refuses the
document) and lenient on request (problems are collected and a conservative
value is used: an unreadable boolean grants nothing).  Either way every
problem is collected, not just the first.

Parsing uses expat with document type declarations refused outright: no
internal subset means no entity declarations, so no entity expansion
("billion laughs") and no external entities (XXE) can happen.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from mailcore.errors import MalformedIrm
from mailcore.irm._model import (
    NO_RESTRICTION_ID,
    LicenseView,
    Problem,
    RestrictionProfile,
    normalise_guid,
)
from mailcore.irm._rights import MailAction

__all__ = [
    "MAX_XML_SIZE",
    "NAMESPACE",
    "NO_EXPIRY",
    "TemplateList",
    "format_datetime",
    "license_to_xml",
    "parse_datetime",
    "parse_license",
    "parse_templates",
    "templates_to_xml",
]

# MS-ASRM §2.2.1 / §6: targetNamespace "RightsManagement"; examples and
# several servers write "RightsManagement:" (like "AirSync:").  Both read.
NAMESPACE = "RightsManagement"
_NAMESPACES = frozenset({"RightsManagement", "RightsManagement:"})
# MS-ASRM §2.2.2.1: this ContentExpiryDate means "never expires".
NO_EXPIRY = "9999-12-30T23:59:59.999Z"
# 20 templates of 10,240-character descriptions fit well below this.
MAX_XML_SIZE = 4 * 1024 * 1024
# MS-ASRM §2.2.2.17: at most 20 templates.
MAX_TEMPLATES = 20
# Protocol versions that have the RightsManagement code page (MS-ASRM §2.2.2.x).
VERSIONS = ("14.1", "16.0", "16.1")

_LICENSE = "RightsManagementLicense"
# The license's boolean children in WBXML token order (0x09-0x12), with the
# action each one grants (Owner grants nothing: §2.2.2.8).
_BOOLEANS: tuple[tuple[str, MailAction | None], ...] = (
    ("EditAllowed", MailAction.EDIT),
    ("ReplyAllowed", MailAction.REPLY),
    ("ReplyAllAllowed", MailAction.REPLY_ALL),
    ("ForwardAllowed", MailAction.FORWARD),
    ("ModifyRecipientsAllowed", MailAction.MODIFY_RECIPIENTS),
    ("ExtractAllowed", MailAction.EXTRACT),
    ("PrintAllowed", MailAction.PRINT),
    ("ExportAllowed", MailAction.EXPORT),
    ("ProgrammaticAccessAllowed", MailAction.PROGRAMMATIC_ACCESS),
    ("Owner", None),
)
_FLAG = {name: action for name, action in _BOOLEANS if action is not None}
# String children and their length limits in characters (MS-ASRM §6
# NonEmptyStringType; §2.2.2.2, §2.2.2.20, §2.2.2.18).
_STRINGS: dict[str, int | None] = {
    "TemplateID": None,
    "TemplateName": 256,
    "TemplateDescription": 10240,
    "ContentOwner": 320,
}
# Schema order of all 15 children (token order 0x09-0x17).
_LICENSE_CHILDREN: tuple[str, ...] = (
    *(name for name, _ in _BOOLEANS),
    "ContentExpiryDate",
    "TemplateID",
    "TemplateName",
    "TemplateDescription",
    "ContentOwner",
)
_KNOWN_CHILDREN = frozenset(_LICENSE_CHILDREN)
# ElementTree tags of the license and its children in either namespace spelling.
_LICENSE_TAGS = tuple(f"{{{ns}}}RightsManagementLicense" for ns in sorted(_NAMESPACES))
_CHILD_TAGS = {f"{{{ns}}}{name}": name for ns in _NAMESPACES for name in _LICENSE_CHILDREN}
_BOOLEAN_BITS = tuple((name, 0 if action is None else action.value) for name, action in _BOOLEANS)
_TEMPLATE_CHILDREN = ("TemplateID", "TemplateName", "TemplateDescription")

# MS-ASDTYPE §2.3: YYYY-MM-DDTHH:MM:SS.MSSZ, always UTC.
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z\Z")
# XML 1.0 §2.2 Char: what may appear in a document at all.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# -- a safe tree ---------------------------------------------------------------------
#
# The document is decoded here, then refused if it holds a document type
# declaration, then parsed (from the decoded text) by the C ElementTree
# parser.  XML has no way to declare an entity outside a DTD, so with no
# "<!DOCTYPE" nothing can be expanded or fetched; any other "&name;" is an
# undefined-entity error.  The check runs on the decoded text, the very
# text the parser gets, so no encoding can hide a declaration from it.

_DECLARED = re.compile(rb"""<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def _decode(data: bytes, what: str) -> str:
    encoding = "utf-8"
    for bom, name in _BOMS:
        if data.startswith(bom):
            data, encoding = data[len(bom) :], name
            break
    else:
        if data[:2] == b"<\x00":
            encoding = "utf-16-le"
        elif data[:2] == b"\x00<":
            encoding = "utf-16-be"
        else:
            declared = _DECLARED.match(data, 0, 200)
            if declared is not None:
                encoding = declared.group(1).decode("ascii")
    try:
        return data.decode(encoding)
    except LookupError:
        raise MalformedIrm(f"unknown encoding {encoding!r}", where=what) from None
    except UnicodeDecodeError as error:
        raise MalformedIrm(
            f"not {encoding}: byte {error.start} cannot be decoded", where=what
        ) from None


def _parse_tree(data: bytes | str, what: str, max_size: int) -> ET.Element:
    if len(data) > max_size:
        raise MalformedIrm(
            f"the document is {len(data)} bytes; the limit is {max_size}", where=what
        )
    text = data if isinstance(data, str) else _decode(data, what)
    if "<!DOCTYPE" in text:
        raise MalformedIrm(
            "document type declarations are refused (no DTD, no entities)", where=what
        )
    parser = ET.XMLParser()
    try:
        # A str is parsed as the text it is (the parser ignores the
        # declared encoding), i.e. exactly what was checked above.
        parser.feed(text)
        return parser.close()
    except ET.ParseError as error:
        line, column = error.position
        message = str(error).split(":", 1)[0]
        raise MalformedIrm(
            f"not well-formed XML: {message} (line {line}, column {column + 1})", where=what
        ) from None


def _split(tag: str) -> tuple[str | None, str]:
    """(namespace, local name) of an ElementTree tag."""
    if tag[:1] == "{":
        ns, _, name = tag[1:].partition("}")
        return ns, name
    return None, tag


def _find(root: ET.Element, name: str) -> list[ET.Element]:
    """Elements called ``name`` in any namespace, in document order."""
    found = [
        element
        for element in root.iter()
        if isinstance(element.tag, str) and _split(element.tag)[1] == name
    ]
    return found


# -- values ------------------------------------------------------------------------


def parse_datetime(text: str, *, strict: bool = True) -> datetime | None:
    """An MS-ASDTYPE dateTime; None for the no-expiry sentinel.

    Strict: exactly ``YYYY-MM-DDTHH:MM:SS.MSSZ``.  Lenient: any ISO 8601
    time with a zone.  Raises :class:`ValueError` when it cannot be read.
    """
    if text == NO_EXPIRY:
        return None
    match = _DATE.match(text)
    if match is not None:
        year, month, day, hour, minute, second, millis = map(int, match.groups())
        return datetime(year, month, day, hour, minute, second, millis * 1000, tzinfo=UTC)
    if strict:
        raise ValueError(f"{text!r} is not YYYY-MM-DDTHH:MM:SS.MSSZ")
    stripped = text.strip()
    if stripped == NO_EXPIRY:
        return None
    moment = datetime.fromisoformat(stripped.replace("z", "Z"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-01:00 is past year 9999 in UTC
        raise ValueError(f"{text!r} is outside the years 1-9999 in UTC") from None


def format_datetime(moment: datetime | None) -> str:
    """The MS-ASDTYPE form (milliseconds, UTC); None is the no-expiry sentinel."""
    if moment is None:
        return NO_EXPIRY
    if moment.tzinfo is None:
        raise ValueError("a naive datetime cannot be written (add a time zone)")
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}" + utc.strftime("-%m-%dT%H:%M:%S") + f".{utc.microsecond // 1000:03d}Z"


class _Collector:
    """Problems found while reading one document."""

    __slots__ = ("problems",)

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def error(self, code: str, path: str, message: str) -> None:
        self.problems.append(Problem(code, message, path, "error"))

    def warning(self, code: str, path: str, message: str) -> None:
        self.problems.append(Problem(code, message, path, "warning"))

    def finish(self, strict: bool, what: str) -> tuple[Problem, ...]:
        problems = tuple(self.problems)
        errors = [p for p in problems if p.severity == "error"]
        if strict and errors:
            listed = "; ".join(str(p) for p in errors)
            count = f"{len(errors)} problems" if len(errors) > 1 else "1 problem"
            raise MalformedIrm(f"{count}: {listed}", where=what)
        return problems


def _check_namespace(node: ET.Element, path: str, out: _Collector) -> None:
    ns, name = _split(node.tag)
    if ns not in _NAMESPACES:
        found = "no namespace" if ns is None else f"namespace {ns!r}"
        out.error(
            "namespace",
            path,
            f"{name} is in {found}, not 'RightsManagement' (MS-ASRM §2.2.1)",
        )


def _text_only(node: ET.Element, name: str, path: str, out: _Collector) -> str:
    if len(node):
        out.error("element-nested", path, f"{name} must hold text, not elements")
    return node.text or ""


def _no_text(node: ET.Element, path: str, out: _Collector) -> None:
    pieces = [node.text or ""] + [child.tail or "" for child in node]
    if "".join(pieces).strip():
        name = _split(node.tag)[1]
        out.error("text-unexpected", path, f"{name} is a container and holds no text")


def _boolean(text: str, path: str, out: _Collector) -> bool:
    # MS-ASDTYPE §2.1: only "1" and "0"; the XSD's xs:boolean and EWS also
    # use true/false, accepted by the lenient reader only.
    if text == "1":
        return True
    if text == "0":
        return False
    word = text.strip().lower()
    if word in ("1", "true", "0", "false"):
        out.error("boolean-form", path, f"{text!r} is not 0 or 1 (MS-ASDTYPE §2.1)")
        return word in ("1", "true")
    out.error("boolean-invalid", path, f"{text!r} is not a boolean; read as 0 (not granted)")
    return False


def _string(name: str, text: str, path: str, out: _Collector) -> str:
    limit = _STRINGS[name]
    if not text:
        out.error("string-empty", path, f"{name} must not be empty (NonEmptyStringType)")
    elif limit is not None and len(text) > limit:
        out.error("string-too-long", path, f"{name} has {len(text)} characters; at most {limit}")
    return text


def _template_id(text: str, path: str, out: _Collector) -> str:
    guid = normalise_guid(text)
    if guid is None:
        if text:
            out.warning("template-id-not-guid", path, f"TemplateID {text!r} is not a GUID")
        return text
    return guid


# -- the license --------------------------------------------------------------------


def parse_license(
    data: bytes | str,
    *,
    strict: bool = True,
    version: str | None = None,
    max_size: int = MAX_XML_SIZE,
) -> LicenseView:
    """Read a ``RightsManagementLicense`` (alone or inside a Sync/ItemOperations/Search response).

    ``strict`` refuses any error with :class:`MalformedIrm` listing every
    problem; lenient reading keeps them in ``LicenseView.problems``.  A
    document that is not XML, or holds no license, is refused either way.
    ``version`` is the ActiveSync protocol version the license came with,
    if known (the elements exist from 14.1 on).
    """
    what = "license"
    root = _parse_tree(data, what, max_size)
    # The namespaced spellings first (a C-level search), any other after.
    licenses = [element for spelling in _LICENSE_TAGS for element in root.iter(spelling)] or _find(
        root, _LICENSE
    )
    if not licenses:
        raise MalformedIrm(f"no {_LICENSE} element (found <{_split(root.tag)[1]}>)", where=what)
    out = _Collector()
    if len(licenses) > 1:
        out.error("license-multiple", _LICENSE, f"{len(licenses)} licenses; the first is read")
    if version is not None and version not in VERSIONS:
        out.error(
            "version-unsupported",
            _LICENSE,
            f"ActiveSync {version} has no RightsManagement elements (from 14.1 on)",
        )
    node = licenses[0]
    if node.tag not in _LICENSE_TAGS:
        _check_namespace(node, _LICENSE, out)
    if (node.text and not node.text.isspace()) or any(
        child.tail and not child.tail.isspace() for child in node
    ):
        _no_text(node, _LICENSE, out)
    values: dict[str, str] = {}
    for child in node:
        tag = child.tag
        name = _CHILD_TAGS.get(tag) if isinstance(tag, str) else None
        if name is None:
            # Not one of the 15 in the RightsManagement namespace.
            name = _split(tag)[1] if isinstance(tag, str) else ""
            if name not in _KNOWN_CHILDREN:
                path = f"{_LICENSE}/{name}"
                out.error("element-unknown", path, f"{name} is not a license element")
                continue
            _check_namespace(child, f"{_LICENSE}/{name}", out)
        if len(child):
            text = _text_only(child, name, f"{_LICENSE}/{name}", out)
        else:
            text = child.text or ""
        if name in values:
            path = f"{_LICENSE}/{name}"
            # xs:all: each child exactly once.  A repeat that disagrees on a
            # boolean grants nothing (lenient reading is conservative).
            out.error("element-duplicate", path, f"{name} appears more than once")
            if name in _FLAG and text != values[name]:
                values[name] = "0"
            continue
        values[name] = text
    if len(values) != len(_LICENSE_CHILDREN):
        for name in _LICENSE_CHILDREN:
            if name not in values:
                out.error("element-missing", f"{_LICENSE}/{name}", f"{name} is missing")
    mask = 0
    owner = False
    for name, bit in _BOOLEAN_BITS:
        value = values.get(name)
        if value == "1":
            granted = True
        elif value == "0" or value is None:
            granted = False
        else:
            granted = _boolean(value, f"{_LICENSE}/{name}", out)
        if bit == 0:
            owner = granted
        elif granted:
            mask |= bit
    allowed = MailAction(mask)
    strings = {}
    for name, limit in _STRINGS.items():
        if name in values:
            text = values[name]
            if not text or (limit is not None and len(text) > limit):
                _string(name, text, f"{_LICENSE}/{name}", out)
            strings[name] = text
    template_id = _template_id(strings.get("TemplateID", ""), f"{_LICENSE}/TemplateID", out)
    if "ContentExpiryDate" in values:
        expires = _expiry(values["ContentExpiryDate"], f"{_LICENSE}/ContentExpiryDate", out)
    else:
        # Nothing says how long the license lasts: treat it as already
        # expired rather than as never expiring.
        expires = datetime.min.replace(tzinfo=UTC)
    _license_rules(allowed, template_id, strings, out)
    problems = out.finish(strict, what)
    return LicenseView(
        template_id=template_id,
        template_name=strings.get("TemplateName", ""),
        template_description=strings.get("TemplateDescription", ""),
        content_owner=strings.get("ContentOwner", ""),
        owner=owner,
        allowed=allowed,
        expires=expires,
        problems=problems,
    )


def _expiry(text: str, path: str, out: _Collector) -> datetime | None:
    try:
        return parse_datetime(text, strict=True)
    except ValueError:
        pass
    try:
        moment = parse_datetime(text, strict=False)
    except ValueError:
        out.error(
            "date-invalid",
            path,
            f"{text!r} is not a date; the content is treated as expired",
        )
        return datetime.min.replace(tzinfo=UTC)
    out.error("date-format", path, f"{text!r} is not YYYY-MM-DDTHH:MM:SS.MSSZ (MS-ASDTYPE §2.3)")
    return moment


def _license_rules(
    allowed: MailAction, template_id: str, strings: dict[str, str], out: _Collector
) -> None:
    if MailAction.EXPORT in allowed and MailAction.EDIT not in allowed:
        out.error(
            "export-without-edit",
            f"{_LICENSE}/ExportAllowed",
            "ExportAllowed is 1 but EditAllowed is 0 (MS-ASRM §2.2.2.3: EditAllowed MUST be 1)",
        )
    if (MailAction.MODIFY_RECIPIENTS in allowed) != (MailAction.FORWARD in allowed):
        # §2.2.2.7 says MUST equal; Exchange derives it as FORWARD and
        # republishing, so it can be 0 with ForwardAllowed 1: a warning.
        out.warning(
            "modify-recipients-mismatch",
            f"{_LICENSE}/ModifyRecipientsAllowed",
            "ModifyRecipientsAllowed differs from ForwardAllowed (MS-ASRM §2.2.2.7)",
        )
    if template_id == NO_RESTRICTION_ID:
        out.warning(
            "undecodable",
            f"{_LICENSE}/TemplateID",
            "all-zero TemplateID: the server could not decode this item; nothing is granted",
        )
        if allowed:
            out.warning(
                "undecodable-with-rights",
                f"{_LICENSE}/TemplateID",
                "an undecodable license (all-zero TemplateID) claims rights; they are ignored",
            )


# -- templates -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TemplateList:
    """A ``RightsManagementTemplates`` document: the templates and what was found."""

    templates: tuple[RestrictionProfile, ...]
    problems: tuple[Problem, ...] = ()

    def __iter__(self) -> Iterator[RestrictionProfile]:
        """The templates, in document order."""
        return iter(self.templates)

    def __len__(self) -> int:
        return len(self.templates)


def parse_templates(
    data: bytes | str, *, strict: bool = True, max_size: int = MAX_XML_SIZE
) -> TemplateList:
    """Read a ``RightsManagementTemplates`` element (alone or inside a Settings response)."""
    what = "templates"
    root = _parse_tree(data, what, max_size)
    found = _find(root, "RightsManagementTemplates")
    if not found:
        raise MalformedIrm(
            f"no RightsManagementTemplates element (found <{_split(root.tag)[1]}>)", where=what
        )
    out = _Collector()
    node = found[0]
    base = "RightsManagementTemplates"
    _check_namespace(node, base, out)
    _no_text(node, base, out)
    templates: list[RestrictionProfile] = []
    seen: set[str] = set()
    for number, child in enumerate(node, start=1):
        path = f"{base}/RightsManagementTemplate[{number}]"
        name = _split(child.tag)[1] if isinstance(child.tag, str) else ""
        if name != "RightsManagementTemplate":
            out.error("element-unknown", path, f"{name} is not a template")
            continue
        _check_namespace(child, path, out)
        _no_text(child, path, out)
        profile = _template(child, path, out)
        if profile is None:
            continue
        if profile.template_id in seen:
            out.error(
                "template-duplicate", path, f"template {profile.template_id} is listed twice"
            )
            continue
        seen.add(profile.template_id)
        templates.append(profile)
    if len(node) > MAX_TEMPLATES:
        out.error(
            "too-many-templates",
            base,
            f"{len(node)} templates; at most {MAX_TEMPLATES} (MS-ASRM §2.2.2.17)",
        )
    return TemplateList(tuple(templates), out.finish(strict, what))


def _template(node: ET.Element, path: str, out: _Collector) -> RestrictionProfile | None:
    values: dict[str, str] = {}
    names = []
    for child in node:
        name = _split(child.tag)[1] if isinstance(child.tag, str) else ""
        here = f"{path}/{name}"
        if name not in _TEMPLATE_CHILDREN:
            out.error("element-unknown", here, f"{name} is not a template element")
            continue
        _check_namespace(child, here, out)
        text = _text_only(child, name, here, out)
        if name in values:
            out.error("element-duplicate", here, f"{name} appears more than once")
            continue
        values[name] = _string(name, text, here, out)
        names.append(name)
    missing = [name for name in _TEMPLATE_CHILDREN if name not in values]
    for name in missing:
        out.error("element-missing", f"{path}/{name}", f"{name} is missing")
    if not missing and names != list(_TEMPLATE_CHILDREN):
        # MS-ASRM §6: a sequence, TemplateID, TemplateName, TemplateDescription.
        out.error(
            "element-order", path, "children must be TemplateID, TemplateName, TemplateDescription"
        )
    if "TemplateID" not in values or not values["TemplateID"]:
        return None
    template_id = _template_id(values["TemplateID"], f"{path}/TemplateID", out)
    if template_id == NO_RESTRICTION_ID:
        out.error("template-no-restriction", path, "the all-zero id is not a template")
    return RestrictionProfile(
        template_id, values.get("TemplateName", ""), values.get("TemplateDescription", "")
    )


# -- writing ----------------------------------------------------------------------


def _escape(text: str, what: str) -> str:
    bad = _NOT_XML_CHAR.search(text)
    if bad is not None:
        raise MalformedIrm(f"U+{ord(bad.group()):04X} cannot be written in XML", where=what)
    # "\r" would come back as "\n" (XML 1.0 §2.11): keep it as a reference.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _check_string(name: str, text: str, where: str) -> None:
    limit = _STRINGS[name]
    if not text:
        raise MalformedIrm(f"{name} must not be empty", where=where)
    if limit is not None and len(text) > limit:
        raise MalformedIrm(f"{name} has {len(text)} characters; at most {limit}", where=where)


def _prefix_check(prefix: str) -> str:
    if prefix and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", prefix):
        raise ValueError(f"{prefix!r} is not an XML namespace prefix")
    return f"{prefix}:" if prefix else ""


def license_to_xml(
    license: LicenseView, *, prefix: str = "rm", namespace: str = NAMESPACE
) -> bytes:
    """Write a ``RightsManagementLicense`` element (UTF-8, children in schema order).

    Refuses (:class:`MalformedIrm`) what a strict reader would refuse: empty
    or over-long strings, ExportAllowed without EditAllowed.
    """
    where = "license"
    if namespace not in _NAMESPACES:
        raise ValueError(
            f"namespace must be 'RightsManagement' or 'RightsManagement:', not {namespace!r}"
        )
    allowed = license.allowed
    if MailAction.EXPORT in allowed and MailAction.EDIT not in allowed:
        raise MalformedIrm("ExportAllowed needs EditAllowed (MS-ASRM §2.2.2.3)", where=where)
    strings = {
        "TemplateID": license.template_id,
        "TemplateName": license.template_name,
        "TemplateDescription": license.template_description,
        "ContentOwner": license.content_owner,
    }
    for name, text in strings.items():
        _check_string(name, text, where)
    p = _prefix_check(prefix)
    xmlns = f' xmlns:{prefix}="{namespace}"' if prefix else f' xmlns="{namespace}"'
    lines = [f"<{p}{_LICENSE}{xmlns}>"]
    for name, action in _BOOLEANS:
        flag = license.owner if action is None else action in allowed
        lines.append(f"  <{p}{name}>{1 if flag else 0}</{p}{name}>")
    lines.append(
        f"  <{p}ContentExpiryDate>{format_datetime(license.expires)}</{p}ContentExpiryDate>"
    )
    for name, text in strings.items():
        lines.append(f"  <{p}{name}>{_escape(text, f'{where}/{name}')}</{p}{name}>")
    lines.append(f"</{p}{_LICENSE}>\n")
    return "\n".join(lines).encode("utf-8")


def templates_to_xml(
    templates: Iterable[RestrictionProfile], *, prefix: str = "rm", namespace: str = NAMESPACE
) -> bytes:
    """Write a ``RightsManagementTemplates`` element (at most 20 templates)."""
    where = "templates"
    listed: Sequence[RestrictionProfile] = tuple(templates)
    if len(listed) > MAX_TEMPLATES:
        raise MalformedIrm(
            f"{len(listed)} templates; at most {MAX_TEMPLATES} (MS-ASRM §2.2.2.17)", where=where
        )
    if namespace not in _NAMESPACES:
        raise ValueError(
            f"namespace must be 'RightsManagement' or 'RightsManagement:', not {namespace!r}"
        )
    p = _prefix_check(prefix)
    xmlns = f' xmlns:{prefix}="{namespace}"' if prefix else f' xmlns="{namespace}"'
    lines = [f"<{p}RightsManagementTemplates{xmlns}>"]
    for number, profile in enumerate(listed, start=1):
        here = f"{where}[{number}]"
        if profile.template_id == NO_RESTRICTION_ID:
            raise MalformedIrm("the all-zero id is not a template", where=here)
        lines.append(f"  <{p}RightsManagementTemplate>")
        for name, text in zip(
            _TEMPLATE_CHILDREN,
            (profile.template_id, profile.name, profile.description),
            strict=True,
        ):
            _check_string(name, text, here)
            lines.append(f"    <{p}{name}>{_escape(text, f'{here}/{name}')}</{p}{name}>")
        lines.append(f"  </{p}RightsManagementTemplate>")
    lines.append(f"</{p}RightsManagementTemplates>\n")
    return "\n".join(lines).encode("utf-8")
