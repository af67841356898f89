"""MS-ASRM XML: strict and lenient reading, safety, writing."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from mailcore.errors import MalformedInput, MalformedIrm
from mailcore.irm import (
    DO_NOT_FORWARD,
    ENCRYPT_ONLY,
    NO_EXPIRY,
    LicenseView,
    MailAction,
    RestrictionProfile,
    license_to_xml,
    parse_license,
    parse_templates,
    templates_to_xml,
)

DNF = "cf5cf348-a8d7-40d5-91ef-a600b88a395d"
# Reference note §1.6, element order shuffled as in the note (xs:all).
LICENSE = """<airsync:ApplicationData xmlns:airsync="AirSync" xmlns:rm="RightsManagement">
  <rm:RightsManagementLicense>
    <rm:Owner>0</rm:Owner>
    <rm:ContentOwner>alice@contoso.com</rm:ContentOwner>
    <rm:ReplyAllAllowed>1</rm:ReplyAllAllowed>
    <rm:EditAllowed>1</rm:EditAllowed>
    <rm:ReplyAllowed>1</rm:ReplyAllowed>
    <rm:ForwardAllowed>0</rm:ForwardAllowed>
    <rm:ExportAllowed>0</rm:ExportAllowed>
    <rm:ModifyRecipientsAllowed>0</rm:ModifyRecipientsAllowed>
    <rm:TemplateID>cf5cf348-a8d7-40d5-91ef-a600b88a395d</rm:TemplateID>
    <rm:ExtractAllowed>0</rm:ExtractAllowed>
    <rm:TemplateDescription>Recipients can read this message.</rm:TemplateDescription>
    <rm:ContentExpiryDate>9999-12-30T23:59:59.999Z</rm:ContentExpiryDate>
    <rm:TemplateName>Do Not Forward</rm:TemplateName>
    <rm:PrintAllowed>0</rm:PrintAllowed>
    <rm:ProgrammaticAccessAllowed>1</rm:ProgrammaticAccessAllowed>
  </rm:RightsManagementLicense>
</airsync:ApplicationData>
"""


def edited(old: str, new: str) -> bytes:
    assert old in LICENSE
    return LICENSE.replace(old, new).encode()


class TestReading:
    def test_reference_license(self) -> None:
        license = parse_license(LICENSE.encode())
        assert license.template_id == DNF
        assert license.template_name == "Do Not Forward"
        assert license.content_owner == "alice@contoso.com"
        assert license.owner is False
        assert license.expires is None  # the 9999-12-30 sentinel
        assert license.allowed == (
            MailAction.EDIT
            | MailAction.REPLY
            | MailAction.REPLY_ALL
            | MailAction.PROGRAMMATIC_ACCESS
        )
        assert license.problems == ()

    def test_str_input(self) -> None:
        assert parse_license(LICENSE) == parse_license(LICENSE.encode())

    def test_real_expiry_is_utc(self) -> None:
        license = parse_license(edited(NO_EXPIRY, "2010-07-01T02:14:43.245Z"))
        assert license.expires == datetime(2010, 7, 1, 2, 14, 43, 245000, tzinfo=UTC)

    def test_strict_error_lists_every_problem(self) -> None:
        data = edited("<rm:ReplyAllowed>1<", "<rm:ReplyAllowed>yes<").replace(
            b"<rm:PrintAllowed>0</rm:PrintAllowed>", b""
        )
        with pytest.raises(MalformedIrm) as caught:
            parse_license(data)
        text = str(caught.value)
        assert "2 problems" in text
        assert "ReplyAllowed" in text and "PrintAllowed" in text
        assert isinstance(caught.value, MalformedInput) and isinstance(caught.value, ValueError)

    def test_lenient_collects_structured_problems(self) -> None:
        data = edited("<rm:EditAllowed>1<", "<rm:EditAllowed>true<")
        license = parse_license(data, strict=False)
        [problem] = license.problems
        assert problem.code == "boolean-form"
        assert problem.severity == "error"
        assert problem.path == "RightsManagementLicense/EditAllowed"
        assert MailAction.EDIT in license.allowed

    def test_lenient_missing_expiry_is_expired_not_eternal(self) -> None:
        data = edited("<rm:ContentExpiryDate>9999-12-30T23:59:59.999Z</rm:ContentExpiryDate>", "")
        license = parse_license(data, strict=False)
        assert license.expires is not None
        assert license.expired(datetime(2000, 1, 1, tzinfo=UTC))

    @pytest.mark.parametrize("value", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
    def test_expiry_outside_the_calendar(self, value: str) -> None:
        # In UTC these are past 9999 / before year 1: refused as malformed in
        # strict mode, counted expired (grants nothing) in lenient mode.
        data = edited("9999-12-30T23:59:59.999Z", value)
        with pytest.raises(MalformedIrm):
            parse_license(data, strict=True)
        license = parse_license(data, strict=False)
        assert license.expired(datetime(2000, 1, 1, tzinfo=UTC))

    def test_warnings_do_not_refuse_in_strict_mode(self) -> None:
        data = edited("<rm:ForwardAllowed>0<", "<rm:ForwardAllowed>1<")
        license = parse_license(data, strict=True)
        assert [p.code for p in license.problems] == ["modify-recipients-mismatch"]
        assert license.problems[0].severity == "warning"

    def test_problems_do_not_affect_equality(self) -> None:
        clean = parse_license(LICENSE.encode())
        odd = parse_license(edited("<rm:EditAllowed>1<", "<rm:EditAllowed>true<"), strict=False)
        assert odd.problems and not clean.problems
        assert odd == clean

    @pytest.mark.parametrize("version", ["2.5", "12.1", "14.0"])
    def test_old_protocol_versions(self, version: str) -> None:
        with pytest.raises(MalformedIrm, match=r"14\.1"):
            parse_license(LICENSE.encode(), version=version)

    def test_size_cap(self) -> None:
        with pytest.raises(MalformedIrm, match="limit"):
            parse_license(LICENSE.encode(), max_size=100)

    def test_not_utf8(self) -> None:
        # No declaration and no BOM: UTF-8 (XML 1.0 §4.3.3); a Latin-1 byte is not.
        with pytest.raises(MalformedIrm, match="utf-8"):
            parse_license(LICENSE.replace("alice", "andré").encode("latin-1"))

    def test_utf16_with_bom(self) -> None:
        data = LICENSE.encode("utf-16")
        assert parse_license(data) == parse_license(LICENSE.encode())

    def test_declared_latin1(self) -> None:
        text = '<?xml version="1.0" encoding="iso-8859-1"?>\n' + LICENSE.replace("alice", "andré")
        license = parse_license(text.encode("latin-1"))
        assert license.content_owner == "andré@contoso.com"

    def test_unknown_encoding(self) -> None:
        text = '<?xml version="1.0" encoding="x-martian"?>\n' + LICENSE
        with pytest.raises(MalformedIrm, match="x-martian"):
            parse_license(text.encode())


class TestSafety:
    """No DTD is ever read: no entity expansion, no external entity."""

    BOMB = (
        '<?xml version="1.0"?>\n<!DOCTYPE r [\n <!ENTITY a "aaaaaaaaaa">\n'
        + "".join(
            f' <!ENTITY {chr(98 + n)} "{("&" + chr(97 + n) + ";") * 10}">\n' for n in range(9)
        )
        + "]>\n"
    )

    def test_billion_laughs(self) -> None:
        data = self.BOMB + LICENSE.replace("Do Not Forward", "&j;")
        with pytest.raises(MalformedIrm, match="document type"):
            parse_license(data.encode())

    @pytest.mark.parametrize(
        "doctype",
        [
            '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
            '<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>',
            '<!DOCTYPE r SYSTEM "http://127.0.0.1:9/r.dtd">',
            '<!DOCTYPE r PUBLIC "-//X//Y" "file:///etc/hostname">',
        ],
        ids=["xxe-file", "parameter-entity", "external-dtd", "public-id"],
    )
    def test_external_entities(self, doctype: str) -> None:
        data = '<?xml version="1.0"?>\n' + doctype + "\n" + LICENSE.replace("alice", "&x;")
        with pytest.raises(MalformedIrm, match="document type"):
            parse_license(data.encode(), strict=False)

    @pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
    def test_doctype_hidden_by_another_encoding(self, encoding: str) -> None:
        data = ('<!DOCTYPE r [<!ENTITY x "boom">]>\n' + LICENSE.replace("alice", "&x;")).encode(
            encoding
        )
        with pytest.raises(MalformedIrm, match="document type"):
            parse_license(data, strict=False)

    def test_undefined_entity(self) -> None:
        with pytest.raises(MalformedIrm, match="undefined entity"):
            parse_license(edited("alice", "&x;"), strict=False)

    def test_bomb_in_templates(self) -> None:
        data = self.BOMB + templates_to_xml([DO_NOT_FORWARD]).decode().replace(
            "Do Not Forward", "&j;"
        )
        with pytest.raises(MalformedIrm, match="document type"):
            parse_templates(data.encode(), strict=False)


def _license(**changes: object) -> LicenseView:
    base = LicenseView(
        template_id=DNF,
        template_name="Do Not Forward",
        template_description="Recipients can read this message.",
        content_owner="alice@contoso.com",
        owner=False,
        allowed=MailAction.EDIT | MailAction.REPLY | MailAction.REPLY_ALL,
        expires=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


class TestWriting:
    def test_shape(self) -> None:
        text = license_to_xml(_license()).decode()
        assert text.startswith('<rm:RightsManagementLicense xmlns:rm="RightsManagement">')
        assert "<rm:ContentExpiryDate>9999-12-30T23:59:59.999Z</rm:ContentExpiryDate>" in text
        assert "<rm:EditAllowed>1</rm:EditAllowed>" in text
        assert "<rm:ForwardAllowed>0</rm:ForwardAllowed>" in text
        # all 15 children, each once
        for name in ("Owner", "TemplateID", "ModifyRecipientsAllowed", "ContentOwner"):
            assert text.count(f"<rm:{name}>") == 1
        assert text.count("</rm:") == 16

    def test_date_is_milliseconds_utc(self) -> None:
        moment = datetime(2026, 11, 21, 23, 0, 0, 123456, tzinfo=UTC)
        text = license_to_xml(_license(expires=moment)).decode()
        assert "<rm:ContentExpiryDate>2026-11-21T23:00:00.123Z</rm:ContentExpiryDate>" in text

    def test_default_namespace_and_colon_spelling(self) -> None:
        plain = license_to_xml(_license(), prefix="")
        assert plain.startswith(b'<RightsManagementLicense xmlns="RightsManagement">')
        assert parse_license(plain) == _license()
        colon = license_to_xml(_license(), namespace="RightsManagement:")
        assert parse_license(colon) == _license()

    def test_escaping(self) -> None:
        license = _license(template_name="R&D <only>", content_owner="line\r\nbreak")
        assert parse_license(license_to_xml(license)) == license

    @pytest.mark.parametrize(
        ("changes", "match"),
        [
            ({"allowed": MailAction.EXPORT}, "EditAllowed"),
            ({"template_name": ""}, "empty"),
            ({"template_name": "n" * 257}, "256"),
            ({"content_owner": "o" * 321}, "320"),
            ({"template_description": "d" * 10241}, "10240"),
            ({"content_owner": "nul\x00"}, "U\\+0000"),
        ],
    )
    def test_refuses_what_strict_reading_refuses(
        self, changes: dict[str, object], match: str
    ) -> None:
        with pytest.raises(MalformedIrm, match=match):
            license_to_xml(_license(**changes))

    def test_naive_expiry(self) -> None:
        with pytest.raises(ValueError, match="naive"):
            license_to_xml(_license(expires=datetime(2030, 1, 1)))


class TestTemplates:
    def test_round_trip(self) -> None:
        profiles = [
            DO_NOT_FORWARD,
            RestrictionProfile("6f1e7a52-0b2c-4d7e-9a1b-3c4d5e6f7a8b", "View & print", "x < y"),
        ]
        listed = parse_templates(templates_to_xml(profiles))
        assert [(t.template_id, t.name, t.description) for t in listed] == [
            (p.template_id, p.name, p.description) for p in profiles
        ]
        assert listed.problems == ()
        assert len(listed) == 2

    def test_kinds_by_guid_not_name(self) -> None:
        data = templates_to_xml(
            [dataclasses.replace(ENCRYPT_ONLY, name="Verschlüsseln", rights=None)]
        )
        [template] = parse_templates(data)
        assert template.kind.value == "encrypt-only"

    def test_writer_limit(self) -> None:
        many = [
            RestrictionProfile(f"00000000-0000-4000-8000-{n:012d}", f"T{n}", "d")
            for n in range(21)
        ]
        with pytest.raises(MalformedIrm, match="20"):
            templates_to_xml(many)
        assert len(parse_templates(templates_to_xml(many[:20]))) == 20

    def test_no_templates_element(self) -> None:
        with pytest.raises(MalformedIrm, match="RightsManagementTemplates"):
            parse_templates(LICENSE.encode())


def test_years_before_1000_are_written_with_four_digits() -> None:
    # glibc's strftime("%Y") writes year 1 as "1": ISO 8601 needs "0001".
    from mailcore.irm._xml import format_datetime

    assert format_datetime(datetime(1, 1, 1, tzinfo=UTC)) == "0001-01-01T00:00:00.000Z"
