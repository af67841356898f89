"""One MS-ASCNTC contact -> vCard 3.0 (RFC 2426) or 4.0 (RFC 6350) lines.

Field mapping per reference export.md §2.1.  Phones are written in a fixed
order, mobile, work, home, work fax, home fax first (a vendor-fixed bug put
fax first); properties are written in a fixed order, never sorted.  Each
property is formatted only when the contact level allows it.
"""

from __future__ import annotations

import binascii
import re
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from mailcore._address import first_address
from mailcore.export._body import read_body
from mailcore.export._levels import ContactLevel
from mailcore.export._text import escape_text
from mailcore.export._values import YEARLESS, Where, get_date, get_str, get_strings

__all__ = ["CONTACT_KEYS", "contact_uid", "vcard_lines"]

# (element, vCard 3.0 TYPE, vCard 4.0 TYPE) in output order.
_PHONES = (
    ("MobilePhoneNumber", "CELL,VOICE", "cell,voice"),
    ("BusinessPhoneNumber", "WORK,VOICE", "work,voice"),
    ("Business2PhoneNumber", "WORK,VOICE", "work,voice"),
    ("HomePhoneNumber", "HOME,VOICE", "home,voice"),
    ("Home2PhoneNumber", "HOME,VOICE", "home,voice"),
    ("BusinessFaxNumber", "WORK,FAX", "work,fax"),
    ("HomeFaxNumber", "HOME,FAX", "home,fax"),
    ("CompanyMainPhone", "WORK,X-COMPANY-MAIN", "work,x-company-main"),
    ("CarPhoneNumber", "CAR,VOICE", "x-car,voice"),
    ("PagerNumber", "PAGER", "pager"),
    ("RadioPhoneNumber", "X-RADIO", "x-radio"),
    ("AssistantPhoneNumber", "X-ASSISTANT", "x-assistant"),
    ("MMS", "MSG", "text"),
)
_ADDRESSES = (("Business", "WORK", "work"), ("Home", "HOME", "home"), ("Other", None, None))
_ADDRESS_PARTS = ("Street", "City", "State", "PostalCode", "Country")
_NAME_KEYS = (
    "LastName", "FirstName", "MiddleName", "Title", "Suffix", "FileAs", "NickName",
    "YomiFirstName", "YomiLastName",
)  # fmt: skip
_EMAIL_KEYS = ("Email1Address", "Email2Address", "Email3Address")
# Text properties of the ALL level, in output order: (element, 3.0 name, 4.0 name).
_EXTRA_TEXT = (
    ("JobTitle", "TITLE", "TITLE"),
    ("OfficeLocation", "X-OFFICE-LOCATION", "X-OFFICE-LOCATION"),
    ("YomiCompanyName", "X-PHONETIC-ORG", "X-PHONETIC-ORG"),
    ("IMAddress", "X-MS-IMADDRESS", "X-MS-IMADDRESS"),
    ("IMAddress2", "X-MS-IMADDRESS", "X-MS-IMADDRESS"),
    ("IMAddress3", "X-MS-IMADDRESS", "X-MS-IMADDRESS"),
    ("Spouse", "X-SPOUSE", "RELATED;VALUE=text;TYPE=spouse"),
    ("AssistantName", "X-ASSISTANT", "RELATED;VALUE=text;TYPE=agent"),
    ("ManagerName", "X-MANAGER", "X-MANAGER"),
    ("CustomerId", "X-CUSTOMER-ID", "X-CUSTOMER-ID"),
    ("GovernmentId", "X-GOVERNMENT-ID", "X-GOVERNMENT-ID"),
    ("AccountName", "X-ACCOUNT-NAME", "X-ACCOUNT-NAME"),
    ("Alias", "X-ALIAS", "X-ALIAS"),
)
# Known elements that carry nothing a vCard can hold (sizes, ranks, RTF).
_IGNORED = frozenset(
    {
        "ServerId", "LastModifiedTime", "WeightedRank", "BodySize", "BodyTruncated",
        "NativeBodyType", "Rtf", "Category",
    }
)  # fmt: skip

# fmt: off
CONTACT_KEYS = frozenset(
    {key for key, _, _ in _PHONES}
    | {f"{kind}Address{part}" for kind, _, _ in _ADDRESSES for part in _ADDRESS_PARTS}
    | set(_NAME_KEYS)
    | set(_EMAIL_KEYS)
    | {key for key, _, _ in _EXTRA_TEXT}
    | {
        "CompanyName", "Department", "Birthday", "Anniversary", "WebPage", "Categories",
        "Children", "Picture", "Body",
    }
    | _IGNORED
)
# fmt: on

_ADDRESS_KEYS = tuple(
    (kind, type3, type4, tuple(f"{kind}Address{part}" for part in _ADDRESS_PARTS))
    for kind, type3, type4 in _ADDRESSES
)
_NAMESPACE = uuid.UUID("6ba7b811-9dad-11d1-80b4-00c04fd430c8")  # RFC 4122 URL namespace
_UUID = re.compile(r"(?:urn:uuid:)?([0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12})\Z")
_URI_SAFE = re.compile(r"[^\s\x00-\x1f\x7f\"<>\\^`{|}]+\Z")


def contact_uid(record: Mapping[str, Any], where: Where) -> str:
    """A stable ``urn:uuid:`` UID: kept when the id is one, else derived.

    RFC 6350 §6.7.6 wants a URI; a UUID derived (v5) from the ServerId is
    stable across exports without revealing the server's id scheme.
    """
    server_id = get_str(record, "ServerId", where)
    if server_id is None:
        # No identity given: derive one from the content, stable for equal input.
        server_id = repr(sorted((k, repr(v)) for k, v in record.items()))
    match = _UUID.match(server_id)
    if match is not None:
        return "urn:uuid:" + match.group(1).lower()
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, 'mailcore:contact:' + server_id)}"


def _addr_spec(value: str) -> str:
    """The address of ``"Name" <a@b>`` (AS may send the RFC 5322 form)."""
    text = value.strip()
    if not any(c in text for c in '<"(,'):
        return text  # already a bare address (possibly with UTF-8, RFC 6531)
    return first_address(text) or text


def _picture(value: str, where: Where) -> tuple[str, str | None]:
    data = "".join(value.split()) if not value.isalnum() else value
    try:
        head = binascii.a2b_base64(data[:16], strict_mode=True)
        binascii.a2b_base64(data, strict_mode=True)
    except binascii.Error:
        where.fail("Picture", "not valid base64")
    if head.startswith(b"\xff\xd8\xff"):
        return data, "JPEG"
    if head.startswith(b"\x89PNG"):
        return data, "PNG"
    if head.startswith(b"GIF8"):
        return data, "GIF"
    return data, None


def _date(value: date, v4: bool) -> str:
    if value.year == YEARLESS:
        # RFC 6350 §4.3.1 "--MMDD"; vCard 3.0 has no yearless date, so the
        # Apple convention (year 1604 flagged by X-APPLE-OMIT-YEAR).
        return f"--{value.month:02d}{value.day:02d}" if v4 else value.isoformat()
    # Four-digit years always (ISO 8601; strftime's %Y gives "1" for year 1).
    return f"{value.year:04d}{value.month:02d}{value.day:02d}" if v4 else value.isoformat()


def _date_line(name: str, value: date, v4: bool) -> str:
    if value.year == YEARLESS and not v4:
        return f"{name};X-APPLE-OMIT-YEAR={YEARLESS}:{_date(value, v4)}"
    return f"{name}:{_date(value, v4)}"


def vcard_lines(
    record: Mapping[str, Any],
    where: Where,
    level: ContactLevel,
    v4: bool,
    rev: str,
) -> list[str]:
    """The content lines (unfolded) of one contact."""
    # Only elements present are read: most contacts carry a handful of the
    # sixty-odd elements, and this loop is the hot path of a big export.
    text: dict[str, str] = {}
    for key in _NAME_KEYS:
        if key in record:
            value = get_str(record, key, where)
            if value is not None:
                text[key] = value
    lines = ["BEGIN:VCARD", "VERSION:4.0" if v4 else "VERSION:3.0"]
    lines.append("UID:" + contact_uid(record, where))
    name = [text.get(k, "") for k in ("LastName", "FirstName", "MiddleName", "Title", "Suffix")]
    phones: list[tuple[str, str]] = []
    for key, type3, type4 in _PHONES:
        value = get_str(record, key, where) if key in record else None
        if value is not None and value.strip():
            phones.append((type4 if v4 else type3, value.strip()))
    emails: list[str] = []
    if level >= ContactLevel.NAME_PHONE_EMAIL:
        for key in _EMAIL_KEYS:
            value = get_str(record, key, where) if key in record else None
            if value is not None and value.strip():
                emails.append(_addr_spec(value))
    company = get_str(record, "CompanyName", where) if level >= ContactLevel.ALL else None
    composed = " ".join(
        part for part in (name[3], name[1], name[2], name[0], name[4]) if part.strip()
    )
    full = (
        composed
        or text.get("FileAs")
        or text.get("NickName")
        or company
        or (emails[0] if emails else None)
        or (phones[0][1] if phones else "")
    )
    if any(name) or not v4:  # N is required in 3.0 (RFC 2426 §3.1.2)
        lines.append("N:" + ";".join([escape_text(part) for part in name]))
    lines.append("FN:" + escape_text(full))
    if "NickName" in text:
        lines.append("NICKNAME:" + escape_text(text["NickName"]))
    if "YomiFirstName" in text:
        lines.append("X-PHONETIC-FIRST-NAME:" + escape_text(text["YomiFirstName"]))
    if "YomiLastName" in text:
        lines.append("X-PHONETIC-LAST-NAME:" + escape_text(text["YomiLastName"]))
    for kind, number in phones:
        lines.append(f"TEL;TYPE={kind}:{escape_text(number)}")
    for index, address in enumerate(emails):
        if v4:
            lines.append(f"EMAIL;PREF={index + 1}:{escape_text(address)}")
        else:
            pref = ",PREF" if index == 0 and len(emails) > 1 else ""
            lines.append(f"EMAIL;TYPE=INTERNET{pref}:{escape_text(address)}")
    if level >= ContactLevel.ALL:
        _all_fields(record, where, v4, company, lines)
    lines.append(f"REV:{rev}")
    lines.append("END:VCARD")
    return lines


def _all_fields(
    record: Mapping[str, Any], where: Where, v4: bool, company: str | None, lines: list[str]
) -> None:
    for _kind, type3, type4, keys in _ADDRESS_KEYS:
        if record.keys().isdisjoint(keys):
            continue
        parts = [get_str(record, key, where) or "" for key in keys]
        if any(parts):
            kind_type = type4 if v4 else type3
            params = f";TYPE={kind_type}" if kind_type else ""
            # RFC 6350 §6.3.1: post office box; extended address; street; ...
            lines.append(f"ADR{params}:;;" + ";".join([escape_text(p) for p in parts]))
    department = get_str(record, "Department", where)
    if company or department:
        lines.append(f"ORG:{escape_text(company or '')}" + (
            f";{escape_text(department)}" if department else ""))  # fmt: skip
    for key, name3, name4 in _EXTRA_TEXT:
        value = get_str(record, key, where) if key in record else None
        if value is not None:
            lines.append(f"{name4 if v4 else name3}:{escape_text(value)}")
    for child in get_strings(record, "Children", where):
        lines.append(
            f"{'RELATED;VALUE=text;TYPE=child' if v4 else 'X-CHILD'}:{escape_text(child)}"
        )
    birthday = get_date(record, "Birthday", where)
    if birthday is not None:
        lines.append(_date_line("BDAY", birthday, v4))
    anniversary = get_date(record, "Anniversary", where)
    if anniversary is not None:
        lines.append(_date_line("ANNIVERSARY" if v4 else "X-ANNIVERSARY", anniversary, v4))
    web = get_str(record, "WebPage", where)
    if web is not None:
        if not _URI_SAFE.match(web.strip()):
            where.fail("WebPage", "not a URL (spaces, quotes or control characters)")
        lines.append(f"URL:{web.strip()}")
    categories = get_strings(record, "Categories", where)
    if categories:
        lines.append("CATEGORIES:" + ",".join([escape_text(c) for c in categories]))
    picture = get_str(record, "Picture", where)
    if picture is not None:
        data, image = _picture(picture, where)
        if v4:
            mime = f"image/{image.lower()}" if image else "application/octet-stream"
            lines.append(f"PHOTO:data:{mime};base64,{data}")
        else:
            # RFC 2426 §3.1.4: ENCODING=b (not 2.1's BASE64).
            lines.append(f"PHOTO;ENCODING=b{';TYPE=' + image if image else ''}:{data}")
    body = read_body(record, where)
    if body.text:
        lines.append("NOTE:" + escape_text(body.text))
