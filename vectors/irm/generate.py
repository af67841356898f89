"""Write the irm vector suites (run: python vectors/irm/generate.py).

Every expected value below is written by hand from the sources named in
each suite's "source" (MS-ASRM, MS-ASDTYPE, MS-OXORMMS, the MIP metadata
documentation and the reference note's observations of real mail), not
computed by mailcore.  The script only saves typing: it assembles license
documents from the 15 elements, so that each case changes one thing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DNF = "cf5cf348-a8d7-40d5-91ef-a600b88a395d"
EO = "c026002d-cda6-401e-bfad-28de214d0fba"
ZERO = "00000000-0000-0000-0000-000000000000"
TENANT = "6f1e7a52-0b2c-4d7e-9a1b-3c4d5e6f7a8b"
SITE = "cb46c030-1825-4e81-a295-151c039dbf02"
LABEL = "2096f6a2-d2f7-48be-b329-b73aaa526e5d"
ACTION = "88124cf5-1340-457d-90e1-0000a9427c99"
DNF_DESCRIPTION = (
    "Recipients can read this message, but they can't forward, print, or copy content. "
    "The conversation owner has full permission to their message and all replies."
)

# The DNF license of the reference note §1.6 (values per MS-ASRM).
DNF_VALUES: dict[str, str] = {
    "Owner": "0",
    "ContentOwner": "alice@contoso.com",
    "ReplyAllAllowed": "1",
    "EditAllowed": "1",
    "ReplyAllowed": "1",
    "ForwardAllowed": "0",
    "ExportAllowed": "0",
    "ModifyRecipientsAllowed": "0",
    "TemplateID": DNF,
    "ExtractAllowed": "0",
    "TemplateDescription": DNF_DESCRIPTION,
    "ContentExpiryDate": "9999-12-30T23:59:59.999Z",
    "TemplateName": "Do Not Forward",
    "PrintAllowed": "0",
    "ProgrammaticAccessAllowed": "1",
}
BOOLEANS = [
    "EditAllowed", "ReplyAllowed", "ReplyAllAllowed", "ForwardAllowed",
    "ModifyRecipientsAllowed", "ExtractAllowed", "PrintAllowed", "ExportAllowed",
    "ProgrammaticAccessAllowed",
]  # fmt: skip


def license_xml(
    changes: dict[str, str | None] | None = None,
    *,
    ns: str = "RightsManagement",
    wrapper: bool = True,
    extra: str = "",
) -> str:
    """The §1.6 license with some elements changed (None drops one)."""
    values: dict[str, str | None] = {**DNF_VALUES, **(changes or {})}
    children = "".join(
        f"\n    <rm:{name}>{value}</rm:{name}>"
        for name, value in values.items()
        if value is not None
    )
    body = f"<rm:RightsManagementLicense>{children}{extra}\n  </rm:RightsManagementLicense>"
    if wrapper:
        return (
            f'<airsync:ApplicationData xmlns:airsync="AirSync" xmlns:rm="{ns}">\n  '
            f"{body}\n</airsync:ApplicationData>\n"
        )
    return body.replace(
        "<rm:RightsManagementLicense>", f'<rm:RightsManagementLicense xmlns:rm="{ns}">', 1
    )


def rights(**on: bool) -> dict[str, bool]:
    keys = ["view", "edit", "print", "reply", "reply_all", "forward", "extract", "export",
            "modify_recipients", "programmatic_access"]  # fmt: skip
    return {key: on.get(key, False) for key in keys}


ALL = {k: True for k in rights()}
DNF_RIGHTS = rights(view=True, edit=True, reply=True, reply_all=True, programmatic_access=True)
EO_RIGHTS = {**ALL, "export": False}
ALL_ONE = {name: "1" for name in BOOLEANS}
ALL_ZERO = {name: "0" for name in BOOLEANS}

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
""" + license_xml({"TemplateName": "&lol9;"}, wrapper=False)
XXE_FILE = (
    '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    + license_xml({"ContentOwner": "&xxe;"}, wrapper=False)
)
XXE_PARAMETER = (
    '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY % ext SYSTEM "http://127.0.0.1:9/x.dtd"> %ext;]>\n'
    + license_xml(wrapper=False)
)
XXE_EXTERNAL_DTD = (
    '<?xml version="1.0"?>\n<!DOCTYPE r SYSTEM "http://127.0.0.1:9/rm.dtd">\n'
    + license_xml(wrapper=False)
)


def case(
    cid: str, comment: str, inp: dict[str, Any], expected: Any, result: str = "valid"
) -> dict[str, Any]:
    return {"id": cid, "comment": comment, "input": inp, "expected": expected, "result": result}


def licenses() -> list[dict[str, Any]]:
    l_ = "irm::license::"
    dnf_json = {
        "protected": True, "template_id": DNF, "template_name": "Do Not Forward", "owner": False,
        "content_owner": "alice@contoso.com", "expires": None, "expired": False,
        "rights": DNF_RIGHTS, "labels": [], "defects": [],
    }  # fmt: skip
    return [
        case(
            l_ + "dnf-reference-example",
            "Reference note §1.6 (MS-ASRM element semantics); the whole JSON E of contract §6",
            {"xml": license_xml()},
            dnf_json,
        ),
        case(
            l_ + "namespace-trailing-colon",
            'MS-ASRM examples write xmlns:rm="RightsManagement:"',
            {"xml": license_xml(ns="RightsManagement:")},
            {"rights": DNF_RIGHTS, "defects": []},
        ),
        case(
            l_ + "standalone-element",
            "the license element alone, no ApplicationData",
            {"xml": license_xml(wrapper=False)},
            {"template_id": DNF, "rights": DNF_RIGHTS},
        ),
        case(
            l_ + "itemoperations-properties",
            "parent itemoperations:Properties (MS-ASRM §2.2.2.14)",
            {
                "xml": '<itemoperations:Properties xmlns:itemoperations="ItemOperations" '
                'xmlns:rm="RightsManagement">'
                + license_xml(wrapper=False).replace(' xmlns:rm="RightsManagement"', "")
                + "</itemoperations:Properties>"
            },
            {"rights": DNF_RIGHTS},
        ),
        case(
            l_ + "encrypt-only",
            "Encrypt-Only: every boolean 1 but ExportAllowed (reference §3.3)",
            {
                "xml": license_xml(
                    {
                        **ALL_ONE,
                        "ExportAllowed": "0",
                        "TemplateID": EO,
                        "TemplateName": "Encrypt-Only",
                        "TemplateDescription": "Encrypted",
                    }
                )
            },
            {"template_id": EO, "rights": EO_RIGHTS, "defects": []},
        ),
        case(
            l_ + "view-only",
            "every Allowed 0: the content can only be viewed",
            {"xml": license_xml(ALL_ZERO)},
            {"rights": rights(view=True), "defects": []},
        ),
        case(
            l_ + "all-rights-owner",
            "the owner with every right",
            {"xml": license_xml({**ALL_ONE, "Owner": "1"}), "user": "alice@contoso.com"},
            {"owner": True, "rights": ALL, "defects": []},
        ),
        case(
            l_ + "owner-is-informational",
            "MS-ASRM §2.2.2.8: Owner never widens the Allowed flags",
            {"xml": license_xml({**ALL_ZERO, "Owner": "1"}), "user": "alice@contoso.com"},
            {"owner": True, "rights": rights(view=True), "defects": []},
        ),
        case(
            l_ + "owner-mismatch",
            "Owner is TRUE for the user named in ContentOwner (§2.2.2.2)",
            {"xml": license_xml({"Owner": "1"}), "user": "bob@contoso.com"},
            {"owner": True, "rights": DNF_RIGHTS, "defects": ["owner-mismatch"]},
        ),
        case(
            l_ + "export-without-edit",
            "MS-ASRM §2.2.2.3: EditAllowed MUST be 1 if ExportAllowed is 1",
            {"xml": license_xml({"EditAllowed": "0", "ExportAllowed": "1"})},
            {
                "rights": {**DNF_RIGHTS, "edit": False, "export": False},
                "defects": ["export-without-edit"],
            },
            "invalid",
        ),
        case(
            l_ + "forward-without-modify-recipients",
            "§2.2.2.7 says MUST equal, Exchange can "
            "differ: a warning; ForwardAllowed still grants forward",
            {"xml": license_xml({"ForwardAllowed": "1"})},
            {"rights": {**DNF_RIGHTS, "forward": True}, "defects": ["modify-recipients-mismatch"]},
        ),
        case(
            l_ + "modify-recipients-without-forward",
            "ModifyRecipients follows Forward: not honoured alone",
            {"xml": license_xml({"ModifyRecipientsAllowed": "1"})},
            {"rights": DNF_RIGHTS, "defects": ["modify-recipients-mismatch"]},
        ),
        case(
            l_ + "expired",
            "after ContentExpiryDate the client must purge the content (§2.2.2.1)",
            {
                "xml": license_xml({**ALL_ONE, "ContentExpiryDate": "2026-01-01T00:00:00.000Z"}),
                "now": "2026-11-21T12:00:00Z",
            },
            {
                "protected": True,
                "expires": "2026-01-01T00:00:00Z",
                "expired": True,
                "rights": rights(),
                "defects": [],
            },
        ),
        case(
            l_ + "expired-owner",
            "expiry wins over the informational Owner flag",
            {
                "xml": license_xml(
                    {**ALL_ONE, "Owner": "1", "ContentExpiryDate": "2026-01-01T00:00:00.000Z"}
                ),
                "user": "alice@contoso.com",
                "now": "2026-11-21T12:00:00Z",
            },
            {"owner": True, "expired": True, "rights": rights()},
        ),
        case(
            l_ + "expires-at-now",
            "at the expiry instant the content has expired",
            {
                "xml": license_xml({"ContentExpiryDate": "2026-11-21T12:00:00.000Z"}),
                "now": "2026-11-21T12:00:00Z",
            },
            {"expired": True, "rights": rights()},
        ),
        case(
            l_ + "not-yet-expired",
            "one millisecond before the expiry",
            {
                "xml": license_xml({"ContentExpiryDate": "2026-11-21T12:00:00.001Z"}),
                "now": "2026-11-21T12:00:00Z",
            },
            {"expires": "2026-11-21T12:00:00.001Z", "expired": False, "rights": DNF_RIGHTS},
        ),
        case(
            l_ + "undecodable",
            "Exchange's no-rights license when it cannot decrypt (reference §1.4): "
            "all-zero TemplateID, single-space strings; not 'No Restriction'",
            {
                "xml": license_xml(
                    {
                        **ALL_ZERO,
                        "TemplateID": ZERO,
                        "TemplateName": " ",
                        "TemplateDescription": " ",
                        "ContentOwner": " ",
                        "ContentExpiryDate": "2026-12-21T12:00:00.000Z",
                    }
                )
            },
            {
                "protected": True,
                "template_id": ZERO,
                "template_name": None,
                "content_owner": None,
                "expired": False,
                "rights": rights(),
                "defects": ["undecodable"],
                "state": "undecodable",
            },
        ),
        case(
            l_ + "boolean-true-false",
            "xs:boolean words: lenient only (MS-ASDTYPE §2.1 says 0/1)",
            {"xml": license_xml({"EditAllowed": "true", "ForwardAllowed": "false"})},
            {"rights": DNF_RIGHTS, "defects": ["boolean-form"]},
            "acceptable",
        ),
        case(
            l_ + "boolean-whitespace",
            "' 1 ' is not 0 or 1; lenient trims it",
            {"xml": license_xml({"ReplyAllowed": " 1 "})},
            {"rights": DNF_RIGHTS, "defects": ["boolean-form"]},
            "acceptable",
        ),
        case(
            l_ + "boolean-junk",
            "an unreadable boolean grants nothing",
            {"xml": license_xml({"ReplyAllowed": "yes"})},
            {"rights": {**DNF_RIGHTS, "reply": False}, "defects": ["boolean-invalid"]},
            "invalid",
        ),
        case(
            l_ + "element-missing",
            "xs:all: every child exactly once; a missing one grants nothing",
            {"xml": license_xml({"ReplyAllowed": None})},
            {"rights": {**DNF_RIGHTS, "reply": False}, "defects": ["element-missing"]},
            "invalid",
        ),
        case(
            l_ + "element-duplicate-disagreeing",
            "a repeated boolean that disagrees grants nothing",
            {"xml": license_xml(extra="\n    <rm:ReplyAllowed>0</rm:ReplyAllowed>")},
            {"rights": {**DNF_RIGHTS, "reply": False}, "defects": ["element-duplicate"]},
            "invalid",
        ),
        case(
            l_ + "element-unknown",
            "RemoveRightsManagementProtection belongs to ItemOperations Fetch",
            {"xml": license_xml(extra="\n    <rm:RemoveRightsManagementProtection/>")},
            {"rights": DNF_RIGHTS, "defects": ["element-unknown"]},
            "invalid",
        ),
        case(
            l_ + "element-nested",
            "a boolean holding an element",
            {"xml": license_xml({"PrintAllowed": "<rm:X>1</rm:X>"})},
            {"defects": ["element-nested", "boolean-invalid"]},
            "invalid",
        ),
        case(
            l_ + "text-in-container",
            "the license is a container (no text)",
            {"xml": license_xml(extra="\n    stray text")},
            {"rights": DNF_RIGHTS, "defects": ["text-unexpected"]},
            "invalid",
        ),
        case(
            l_ + "date-without-milliseconds",
            "MS-ASDTYPE §2.3 wants .MSS; lenient reads ISO 8601",
            {"xml": license_xml({"ContentExpiryDate": "2027-01-01T00:00:00Z"})},
            {"expires": "2027-01-01T00:00:00Z", "defects": ["date-format"]},
            "acceptable",
        ),
        case(
            l_ + "date-with-offset",
            "a non-UTC offset: lenient converts to UTC",
            {"xml": license_xml({"ContentExpiryDate": "2027-01-01T10:00:00.000+10:00"})},
            {"expires": "2027-01-01T00:00:00Z", "defects": ["date-format"]},
            "acceptable",
        ),
        case(
            l_ + "date-garbage",
            "an unreadable expiry: treated as expired, nothing granted",
            {"xml": license_xml({"ContentExpiryDate": "next Tuesday"})},
            {"expired": True, "rights": rights(), "defects": ["date-invalid"]},
            "invalid",
        ),
        case(
            l_ + "no-namespace",
            "elements without the RightsManagement namespace",
            {
                "xml": license_xml()
                .replace("rm:", "")
                .replace(' xmlns="RightsManagement"', "")
                .replace('xmlns:rm="RightsManagement"', "")
            },
            {"rights": DNF_RIGHTS, "defects": ["namespace"]},
            "acceptable",
        ),
        case(
            l_ + "template-name-empty",
            "NonEmptyStringType (MS-ASRM §6)",
            {"xml": license_xml({"TemplateName": ""})},
            {"template_name": None, "defects": ["string-empty"]},
            "acceptable",
        ),
        case(
            l_ + "template-name-256",
            "TemplateName: 1-256 characters (§2.2.2.20)",
            {"xml": license_xml({"TemplateName": "N" * 256})},
            {"template_name": "N" * 256, "defects": []},
        ),
        case(
            l_ + "template-name-257",
            "one character over the limit",
            {"xml": license_xml({"TemplateName": "N" * 257})},
            {"defects": ["string-too-long"]},
            "acceptable",
        ),
        case(
            l_ + "content-owner-320",
            "ContentOwner: 1-320 characters (§2.2.2.2)",
            {"xml": license_xml({"ContentOwner": "a" * 308 + "@contoso.com"})},
            {"defects": []},
        ),
        case(
            l_ + "content-owner-321",
            "one character over the limit",
            {"xml": license_xml({"ContentOwner": "a" * 309 + "@contoso.com"})},
            {"defects": ["string-too-long"]},
            "acceptable",
        ),
        case(
            l_ + "description-10240",
            "TemplateDescription: 1-10240 characters (§2.2.2.18)",
            {"xml": license_xml({"TemplateDescription": "d" * 10240})},
            {"defects": []},
        ),
        case(
            l_ + "description-10241",
            "one character over the limit",
            {"xml": license_xml({"TemplateDescription": "d" * 10241})},
            {"defects": ["string-too-long"]},
            "acceptable",
        ),
        case(
            l_ + "template-id-braced-upper",
            "GUIDs are normalised: lower case, no braces",
            {"xml": license_xml({"TemplateID": "{CF5CF348-A8D7-40D5-91EF-A600B88A395D}"})},
            {"template_id": DNF, "defects": []},
        ),
        case(
            l_ + "template-id-not-guid",
            "the spec allows any non-empty string: a warning",
            {"xml": license_xml({"TemplateID": "Contoso-Confidential"})},
            {"template_id": "Contoso-Confidential", "defects": ["template-id-not-guid"]},
        ),
        case(
            l_ + "escaped-text",
            "character references and CDATA are text",
            {
                "xml": license_xml(
                    {
                        "TemplateName": "R&amp;D &lt;only&gt;",
                        "ContentOwner": "<![CDATA[alice@contoso.com]]>",
                    }
                )
            },
            {"template_name": "R&D <only>", "content_owner": "alice@contoso.com"},
        ),
        case(
            l_ + "two-licenses",
            "one license per item",
            {
                "xml": '<r xmlns:rm="RightsManagement">'
                + license_xml(wrapper=False).replace(' xmlns:rm="RightsManagement"', "") * 2
                + "</r>"
            },
            {"defects": ["license-multiple"]},
            "invalid",
        ),
        case(
            l_ + "version-14.0",
            "the elements exist from ActiveSync 14.1 (MS-ASRM_R418)",
            {"xml": license_xml(), "version": "14.0"},
            {"defects": ["version-unsupported"]},
            "invalid",
        ),
        case(
            l_ + "version-16.1",
            "16.1 has the elements",
            {"xml": license_xml(), "version": "16.1"},
            {"defects": []},
        ),
        case(
            l_ + "billion-laughs",
            "entity expansion bomb: refused, DTDs are never read",
            {"xml": BILLION_LAUGHS},
            {"error": True},
            "invalid",
        ),
        case(
            l_ + "xxe-file",
            "external entity (XXE): refused",
            {"xml": XXE_FILE},
            {"error": True},
            "invalid",
        ),
        case(
            l_ + "xxe-parameter-entity",
            "external parameter entity: refused",
            {"xml": XXE_PARAMETER},
            {"error": True},
            "invalid",
        ),
        case(
            l_ + "external-dtd",
            "an external DTD subset: refused",
            {"xml": XXE_EXTERNAL_DTD},
            {"error": True},
            "invalid",
        ),
        case(
            l_ + "not-well-formed",
            "unclosed element",
            {"xml": license_xml()[:-30]},
            {"error": True},
            "invalid",
        ),
        case(
            l_ + "no-license",
            "a Sync ApplicationData without a license",
            {"xml": '<ApplicationData xmlns="AirSync"><Subject>x</Subject></ApplicationData>'},
            {"error": True},
            "invalid",
        ),
    ]


def templates_doc(
    entries: list[tuple[str, str, str]], *, order: tuple[int, ...] = (0, 1, 2)
) -> str:
    names = ("TemplateID", "TemplateName", "TemplateDescription")
    body = ""
    for entry in entries:
        inner = "".join(f"<rm:{names[i]}>{entry[i]}</rm:{names[i]}>" for i in order)
        body += f"\n      <rm:RightsManagementTemplate>{inner}</rm:RightsManagementTemplate>"
    return (
        '<settings:Settings xmlns:settings="Settings" xmlns:rm="RightsManagement">\n'
        "  <settings:RightsManagementInformation><settings:Status>1</settings:Status><settings:Get>\n"
        f"    <rm:RightsManagementTemplates>{body}\n    </rm:RightsManagementTemplates>\n"
        "  </settings:Get></settings:RightsManagementInformation>\n</settings:Settings>\n"
    )


def guid(n: int) -> str:
    return f"00000000-0000-4000-8000-{n:012d}"


def templates() -> list[dict[str, Any]]:
    t_ = "irm::templates::"
    two = [
        (DNF, "Do Not Forward", DNF_DESCRIPTION),
        (TENANT, "Confidential View Only", "View only"),
    ]
    twenty = [(guid(n), f"Template {n}", f"Description {n}") for n in range(1, 21)]
    return [
        case(
            t_ + "settings-response",
            "Settings RightsManagementInformation Get (MS-ASCMD §2.2.3.156)",
            {"xml": templates_doc(two)},
            {
                "templates": [[DNF, "Do Not Forward"], [TENANT, "Confidential View Only"]],
                "defects": [],
            },
        ),
        case(
            t_ + "none",
            "IRM on, no templates (Horde answers like this)",
            {"xml": templates_doc([])},
            {"templates": [], "defects": []},
        ),
        case(
            t_ + "localised",
            "names are localised; the GUID identifies the template",
            {"xml": templates_doc([(DNF, "Nicht weiterleiten", "Empfänger können lesen")])},
            {"templates": [[DNF, "Nicht weiterleiten"]]},
        ),
        case(
            t_ + "twenty",
            "at most 20 templates (MS-ASRM §2.2.2.17)",
            {"xml": templates_doc(twenty)},
            {"templates": [[g, n] for g, n, _ in twenty], "defects": []},
        ),
        case(
            t_ + "twenty-one",
            "one over the limit",
            {"xml": templates_doc([*twenty, (guid(21), "Template 21", "Description 21")])},
            {"defects": ["too-many-templates"]},
            "acceptable",
        ),
        case(
            t_ + "order-swapped",
            "xs:sequence TemplateID, TemplateName, TemplateDescription",
            {"xml": templates_doc(two[:1], order=(1, 0, 2))},
            {"templates": [[DNF, "Do Not Forward"]], "defects": ["element-order"]},
            "acceptable",
        ),
        case(
            t_ + "missing-description",
            "each template needs all three children",
            {"xml": templates_doc(two[:1], order=(0, 1))},
            {"defects": ["element-missing"]},
            "acceptable",
        ),
        case(
            t_ + "duplicate",
            "the same template twice",
            {"xml": templates_doc([two[0], two[0]])},
            {"templates": [[DNF, "Do Not Forward"]], "defects": ["template-duplicate"]},
            "acceptable",
        ),
        case(
            t_ + "no-restriction-is-not-a-template",
            "the all-zero id is a compose request value",
            {"xml": templates_doc([(ZERO, "No Restriction", "none")])},
            {"defects": ["template-no-restriction"]},
            "acceptable",
        ),
        case(
            t_ + "billion-laughs",
            "DTDs are refused here too",
            {
                "xml": BILLION_LAUGHS.split("<rm:RightsManagementLicense")[0]
                + '<rm:RightsManagementTemplates xmlns:rm="RightsManagement">'
                "<rm:RightsManagementTemplate><rm:TemplateID>x</rm:TemplateID>"
                "<rm:TemplateName>&lol9;</rm:TemplateName><rm:TemplateDescription>d"
                "</rm:TemplateDescription></rm:RightsManagementTemplate></rm:RightsManagementTemplates>"
            },
            {"error": True},
            "invalid",
        ),
    ]


def pair(attribute: str, value: str, guid_: str = LABEL) -> str:
    return f"MSIP_Label_{guid_}_{attribute}={value}"


DOC_PAIRS = [pair("Enabled", "true"), pair("SetDate", "2018-11-08T21:13:16-0800"),
             pair("Method", "Privileged"), pair("Name", "Confidential"), pair("SiteId", SITE),
             pair("ContentBits", "2"), pair("ActionId", ACTION)]  # fmt: skip
DOC_LABEL = {"id": LABEL, "enabled": True, "site_id": SITE, "set_date": "2018-11-08T21:13:16-0800",
             "method": "Privileged", "name": "Confidential", "content_bits": 2,
             "action_id": ACTION, "extra": {}}  # fmt: skip


def message(*fields: str, body: str = "Hello.\r\n") -> str:
    return "".join(field + "\r\n" for field in fields) + "\r\n" + body


def labels() -> list[dict[str, Any]]:
    b_ = "irm::labels::"
    amd = "3dd8961f-e488-4e60-8e11-a82d994e183d"
    amd_site = "3dd8961f-e488-4e60-8e11-a82d994e183d"
    return [
        case(
            b_ + "documented",
            "the MIP metadata documentation's example ('; ' separated)",
            {"header": "; ".join(DOC_PAIRS)},
            {"labels": [DOC_LABEL], "defects": []},
        ),
        case(
            b_ + "no-space",
            "pairs separated by ';' without a space (seen in real mail)",
            {"header": ";".join(DOC_PAIRS)},
            {"labels": [DOC_LABEL], "defects": []},
        ),
        case(
            b_ + "trailing-semicolon",
            "a trailing ';'",
            {"header": "; ".join(DOC_PAIRS) + ";"},
            {"labels": [DOC_LABEL], "defects": []},
        ),
        case(
            b_ + "any-order",
            "attribute order does not matter",
            {"header": "; ".join(reversed(DOC_PAIRS))},
            {"labels": [DOC_LABEL], "defects": []},
        ),
        case(
            b_ + "folded-value",
            "folding inside a value (AMD mail on LKML)",
            {
                "message": message(
                    "From: a@amd.com",
                    f"msip_labels: MSIP_Label_{amd}_Enabled=true;\r\n MSIP_Label_{amd}_SetDate=2021-06-01T10:00:00Z;"
                    f"\r\n MSIP_Label_{amd}_Method=Standard;\r\n MSIP_Label_{amd}_Name=AMD Official Use\r\n Only-AIP 2.0;"
                    f"\r\n MSIP_Label_{amd}_SiteId={amd_site};\r\n MSIP_Label_{amd}_ActionId={ACTION};"
                    f"\r\n MSIP_Label_{amd}_ContentBits=1",
                )
            },
            {
                "labels": [
                    {
                        "id": amd,
                        "enabled": True,
                        "name": "AMD Official Use Only-AIP 2.0",
                        "method": "Standard",
                        "set_date": "2021-06-01T10:00:00Z",
                        "content_bits": 1,
                    }
                ],
                "defects": [],
            },
        ),
        case(
            b_ + "case-variants",
            "keys and values in other cases: True, privileged, msip_label_",
            {
                "header": f"msip_label_{LABEL.upper()}_enabled=True; MSIP_LABEL_{LABEL}_METHOD=privileged; "
                f"MSIP_Label_{LABEL}_siteid={SITE.upper()}"
            },
            {
                "labels": [
                    {"id": LABEL, "enabled": True, "method": "Privileged", "site_id": SITE}
                ],
                "defects": [],
            },
        ),
        case(
            b_ + "legacy-per-attribute-headers",
            "older mail: one header per attribute, plus msip_justification",
            {
                "message": message(
                    "From: a@amd.com",
                    f"msip_label_{amd}_enabled: true",
                    f"msip_label_{amd}_setdate: 2019-05-01T08:00:00Z",
                    f"msip_label_{amd}_method: Standard",
                    f"msip_label_{amd}_name: Public",
                    f"msip_label_{amd}_siteid: {amd_site}",
                    "msip_justification: I confirm the recipients are approved",
                )
            },
            {
                "labels": [
                    {
                        "id": amd,
                        "enabled": True,
                        "name": "Public",
                        "method": "Standard",
                        "site_id": amd_site,
                        "set_date": "2019-05-01T08:00:00Z",
                    }
                ],
                "justification": "I confirm the recipients are approved",
                "defects": [],
            },
        ),
        case(
            b_ + "legacy-conflict",
            "msip_labels wins over a disagreeing legacy header",
            {
                "message": message(
                    f"msip_labels: {pair('Enabled', 'true')}; {pair('SiteId', SITE)}; "
                    f"{pair('Name', 'Confidential')}",
                    f"msip_label_{LABEL}_name: Public",
                )
            },
            {
                "labels": [{"id": LABEL, "name": "Confidential"}],
                "defects": ["label-legacy-conflict"],
            },
        ),
        case(
            b_ + "two-tenants",
            "one label per tenant; two tenants, two labels",
            {
                "header": "; ".join(
                    [
                        pair("Enabled", "true"),
                        pair("SiteId", SITE),
                        pair("Enabled", "true", TENANT),
                        pair("SiteId", amd_site, TENANT),
                    ]
                )
            },
            {
                "labels": [{"id": LABEL, "site_id": SITE}, {"id": TENANT, "site_id": amd_site}],
                "defects": [],
            },
        ),
        case(
            b_ + "same-tenant-twice",
            "two enabled labels for one tenant",
            {
                "header": "; ".join(
                    [
                        pair("Enabled", "true"),
                        pair("SiteId", SITE),
                        pair("Enabled", "true", TENANT),
                        pair("SiteId", SITE, TENANT),
                    ]
                )
            },
            {"defects": ["label-tenant-duplicate"]},
        ),
        case(
            b_ + "mandatory-missing",
            "Enabled and SiteId are mandatory",
            {"header": pair("Name", "Confidential")},
            {
                "labels": [
                    {"id": LABEL, "enabled": None, "site_id": None, "name": "Confidential"}
                ],
                "defects": ["label-enabled-missing", "label-siteid-missing"],
            },
        ),
        case(
            b_ + "custom-and-versioned",
            "extension and versioned attributes are kept verbatim",
            {
                "header": "; ".join(
                    [
                        pair("Enabled", "true"),
                        pair("SiteId", SITE),
                        pair("ContosoTag", "Project X"),
                        pair("ContentBitsV2", "9"),
                    ]
                )
            },
            {
                "labels": [
                    {"id": LABEL, "extra": {"ContosoTag": "Project X", "ContentBitsV2": "9"}}
                ],
                "defects": [],
            },
        ),
        case(
            b_ + "odd-values",
            "unreadable values are kept verbatim with a warning",
            {
                "header": "; ".join(
                    [
                        pair("Enabled", "yes"),
                        pair("SiteId", "tenant"),
                        pair("ContentBits", "0x8"),
                        pair("Method", "Manual"),
                    ]
                )
            },
            {
                "labels": [
                    {
                        "id": LABEL,
                        "enabled": None,
                        "site_id": None,
                        "content_bits": None,
                        "method": "Manual",
                        "extra": {"Enabled": "yes", "SiteId": "tenant", "ContentBits": "0x8"},
                    }
                ],
                "defects": [
                    "label-enabled-invalid",
                    "label-siteid-invalid",
                    "label-contentbits-invalid",
                    "label-method-unknown",
                ],
            },
        ),
        case(
            b_ + "unknown-key",
            "a key that is not MSIP_Label_<guid>_<attr>",
            {
                "header": "; ".join(
                    [pair("Enabled", "true"), pair("SiteId", SITE), "Sensitivity=Private"]
                )
            },
            {"labels": [{"id": LABEL}], "defects": ["label-key-unknown"]},
        ),
        case(
            b_ + "pair-without-equals",
            "a segment that is not key=value",
            {"header": "; ".join([pair("Enabled", "true"), pair("SiteId", SITE), "garbage"])},
            {"labels": [{"id": LABEL}], "defects": ["label-pair-invalid"]},
            "acceptable",
        ),
        case(
            b_ + "conflicting-duplicate",
            "one attribute twice with different values",
            {
                "header": "; ".join(
                    [pair("Enabled", "true"), pair("SiteId", SITE), pair("Enabled", "false")]
                )
            },
            {"labels": [{"id": LABEL, "enabled": True}], "defects": ["label-duplicate"]},
            "acceptable",
        ),
        case(b_ + "empty", "an empty header", {"header": ""}, {"labels": [], "defects": []}),
    ]


RPMSG_B64 = "dugEYMQR44YAAAAA"  # the 8-byte rpmsg prefix (MS-OXORMMS §2.2.4.4) + 4 zero bytes
RPMSG_MESSAGE = message(
    "From: Alice <alice@contoso.com>", "To: bob@fabrikam.com", "Subject: Plans",
    "Content-Class: rpmsg.message", "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="b1"',
    body="--b1\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    "This message is protected with Microsoft Information Protection.\r\n"
    "--b1\r\nContent-Type: application/x-microsoft-rpmsg-message; name=\"message.rpmsg\"\r\n"
    "Content-Description: message.rpmsg\r\n"
    "Content-Disposition: attachment; filename=\"message.rpmsg\"\r\n"
    f"Content-Transfer-Encoding: base64\r\n\r\n{RPMSG_B64}\r\n--b1--\r\n",
)  # fmt: skip


def plain(*extra: str) -> str:
    return message(
        "From: Alice <alice@contoso.com>", "To: bob@fabrikam.com", "Subject: Plans", *extra
    )


def messages() -> list[dict[str, Any]]:
    m_ = "irm::message::"
    th = "Microsoft.Exchange.RMSApaAgent.ProtectionTemplateId"
    export = RPMSG_MESSAGE.replace("Content-Class: rpmsg.message\r\n", "").replace(
        "application/x-microsoft-rpmsg-message", "application/octet-stream"
    )
    forwarded = message(
        "From: carol@contoso.com",
        "To: dave@contoso.com",
        "Subject: Fwd: Plans",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="outer"',
        body="--outer\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n--outer\r\n"
        "Content-Type: message/rfc822\r\n\r\n" + RPMSG_MESSAGE + "\r\n--outer--\r\n",
    )
    return [
        case(
            m_ + "unprotected",
            "no marker: nothing is restricted",
            {"message": plain()},
            {
                "protected": False,
                "template_id": None,
                "template_name": None,
                "owner": False,
                "content_owner": None,
                "expires": None,
                "expired": False,
                "rights": ALL,
                "labels": [],
                "defects": [],
            },
        ),
        case(
            m_ + "rpmsg-exchange",
            "Content-Class rpmsg.message + message.rpmsg (MS-OXORMMS): "
            "protected, and without a license nothing is known to be allowed",
            {"message": RPMSG_MESSAGE, "user": "bob@fabrikam.com"},
            {
                "protected": True,
                "template_id": None,
                "content_owner": "alice@contoso.com",
                "rights": rights(),
                "defects": ["rights-unknown"],
                "state": "rights-unknown",
            },
        ),
        case(
            m_ + "rpmsg-sender-is-issuer",
            "the RMS issuer keeps full control (reference §3.4)",
            {"message": RPMSG_MESSAGE, "user": "Alice@Contoso.com"},
            {"protected": True, "owner": True, "rights": ALL, "defects": [], "state": "issuer"},
        ),
        case(
            m_ + "rpmsg-export",
            "exports: no Content-Class, the part typed octet-stream",
            {"message": export},
            {
                "protected": True,
                "defects": ["rpmsg-type", "content-class-missing", "rights-unknown"],
            },
        ),
        case(
            m_ + "rpmsg-bad-prefix",
            "an attachment named message.rpmsg that is not rpmsg data",
            {"message": RPMSG_MESSAGE.replace(RPMSG_B64, "aGVsbG8gd29ybGQ=")},
            {"protected": True, "defects": ["rpmsg-prefix", "rights-unknown"]},
        ),
        case(
            m_ + "content-class-only",
            "Content-Class without the attachment",
            {"message": plain("Content-Class: rpmsg.message")},
            {"protected": True, "defects": ["rpmsg-part-missing", "rights-unknown"]},
        ),
        case(
            m_ + "forwarded-protected-message",
            "an attached protected message does not protect the outer one",
            {"message": forwarded},
            {"protected": False, "rights": ALL},
        ),
        case(
            m_ + "template-header-dnf",
            "the rights agent's template header: Do Not Forward",
            {"message": plain(f"{th}: {DNF}")},
            {
                "protected": True,
                "template_id": DNF,
                "template_name": "Do Not Forward",
                "content_owner": "alice@contoso.com",
                "rights": DNF_RIGHTS,
                "defects": [],
                "state": "template",
            },
        ),
        case(
            m_ + "template-header-encrypt-only",
            "Encrypt-Only by GUID (upper case, braces)",
            {"message": plain(f"{th}: {{{EO.upper()}}}")},
            {"template_id": EO, "rights": EO_RIGHTS, "defects": []},
        ),
        case(
            m_ + "template-header-tenant",
            "a tenant template whose rights the policy lists",
            {
                "message": plain(f"{th}: {TENANT}"),
                "policy": {
                    "templates": [
                        {
                            "id": TENANT,
                            "name": "Confidential View Only",
                            "rights": ["VIEW", "VIEWRIGHTSDATA"],
                        }
                    ]
                },
            },
            {
                "template_id": TENANT,
                "template_name": "Confidential View Only",
                "rights": rights(view=True),
                "defects": [],
            },
        ),
        case(
            m_ + "template-header-unknown",
            "a tenant template nobody described: rights unknown",
            {"message": plain(f"{th}: {TENANT}")},
            {
                "protected": True,
                "template_id": TENANT,
                "template_name": None,
                "rights": rights(),
                "defects": ["rights-unknown"],
            },
        ),
        case(
            m_ + "template-header-garbage",
            "a template header that is not a GUID",
            {"message": plain(f"{th}: confidential")},
            {"protected": False, "defects": ["template-header-invalid"]},
        ),
        case(
            m_ + "label-encrypts",
            "an enabled label with ContentBits 0x8 asks for encryption",
            {
                "message": plain(
                    "msip_labels: "
                    + "; ".join(
                        [pair("Enabled", "true"), pair("SiteId", SITE), pair("ContentBits", "8")]
                    )
                )
            },
            {
                "protected": True,
                "labels": [
                    {
                        **{k: None for k in DOC_LABEL},
                        "id": LABEL,
                        "enabled": True,
                        "site_id": SITE,
                        "content_bits": 8,
                        "extra": {},
                    }
                ],
                "rights": rights(),
                "defects": ["rights-unknown"],
            },
        ),
        case(
            m_ + "label-without-encryption",
            "a label that only marks (header, footer)",
            {"message": plain("msip_labels: " + "; ".join(DOC_PAIRS))},
            {"protected": False, "labels": [DOC_LABEL], "rights": ALL, "defects": []},
        ),
        case(
            m_ + "not-a-message",
            "not RFC 5322",
            {"message": "this is not\r\na message\r\n"},
            None,
            "invalid",
        ),
    ]


def decisions() -> list[dict[str, Any]]:
    d_ = "irm::decision::"
    ok = [True, "granted"]
    no = [False, "not-granted"]
    return [
        case(
            d_ + "dnf",
            "Do Not Forward: reply yes, forward/print/extract/remove no",
            {"xml": license_xml()},
            {
                "reply": ok,
                "reply_all": ok,
                "forward": no,
                "forward_with_content": no,
                "print": no,
                "extract": no,
                "remove_protection": no,
                "programmatic_access": ok,
            },
        ),
        case(
            d_ + "forward-without-edit",
            "MS-ASRM §2.2.2.3: without EditAllowed the original is attached as rpmsg, not inlined",
            {
                "xml": license_xml(
                    {"ForwardAllowed": "1", "ModifyRecipientsAllowed": "1", "EditAllowed": "0"}
                )
            },
            {"forward": ok, "forward_with_content": [False, "edit-not-granted"]},
        ),
        case(
            d_ + "all-rights",
            "everything granted",
            {"xml": license_xml(ALL_ONE)},
            {"forward": ok, "forward_with_content": ok, "remove_protection": ok, "print": ok},
        ),
        case(
            d_ + "export-without-edit",
            "ExportAllowed without EditAllowed is not honoured",
            {"xml": license_xml({"EditAllowed": "0", "ExportAllowed": "1"})},
            {"remove_protection": [False, "export-requires-edit"]},
            "acceptable",
        ),
        case(
            d_ + "expired",
            "expired: nothing",
            {
                "xml": license_xml({**ALL_ONE, "ContentExpiryDate": "2025-01-01T00:00:00.000Z"}),
                "now": "2026-11-21T12:00:00Z",
            },
            {a: [False, "expired"] for a in ("reply", "forward", "print", "remove_protection")},
        ),
        case(
            d_ + "undecodable",
            "the server could not decode: nothing",
            {"xml": license_xml({**ALL_ZERO, "TemplateID": ZERO})},
            {a: [False, "undecodable"] for a in ("reply", "reply_all", "forward", "extract")},
        ),
    ]


def apply_cases() -> list[dict[str, Any]]:
    a_ = "irm::apply::"
    th = "Microsoft.Exchange.RMSApaAgent.ProtectionTemplateId"
    on = {"enabled": True}
    tenant_policy = {
        "enabled": True,
        "templates": ["do-not-forward", {"id": TENANT, "name": "Confidential View Only"}],
    }
    return [
        case(
            a_ + "dnf-by-name",
            "the default policy offers Do Not Forward; names match case-insensitively",
            {"message": plain(), "template": "do not forward", "policy": on},
            {"headers": {th: DNF}},
        ),
        case(
            a_ + "encrypt-only-by-guid",
            "GUID in upper case with braces",
            {"message": plain(), "template": "{" + EO.upper() + "}", "policy": on},
            {"headers": {th: EO}},
        ),
        case(
            a_ + "replace-existing",
            "a new choice replaces the old header",
            {"message": plain(f"{th}: {DNF}"), "template": EO, "policy": on},
            {"headers": {th: EO}},
        ),
        case(
            a_ + "no-restriction-removes",
            "'No Restriction' (MS-ASRM §2.2.2.19.3) removes it",
            {"message": plain(f"{th}: {DNF}"), "template": "No Restriction", "policy": on},
            {"headers": {th: None}},
        ),
        case(
            a_ + "zero-guid-removes",
            "the all-zero GUID is 'No Restriction'",
            {"message": plain(f"{th}: {DNF}"), "template": ZERO, "policy": on},
            {"headers": {th: None}},
        ),
        case(
            a_ + "tenant-template",
            "a tenant template listed in the policy",
            {"message": plain(), "template": "Confidential View Only", "policy": tenant_policy},
            {"headers": {th: TENANT}},
        ),
        case(
            a_ + "lf-line-endings",
            "a message with LF line endings keeps them",
            {"message": plain().replace("\r\n", "\n"), "template": DNF, "policy": on},
            {"headers": {th: DNF}},
        ),
        case(
            a_ + "disabled",
            "[irm] enabled = false (the default): refused",
            {"message": plain(), "template": "Do Not Forward", "policy": {}},
            {"error": "IrmError"},
            "invalid",
        ),
        case(
            a_ + "not-offered",
            "Encrypt-Only when the policy offers only the tenant template",
            {
                "message": plain(),
                "template": "Encrypt-Only",
                "policy": {
                    "enabled": True,
                    "templates": [{"id": TENANT, "name": "Confidential View Only"}],
                },
            },
            {"error": "IrmError"},
            "invalid",
        ),
        case(
            a_ + "unknown-guid",
            "a GUID nobody offers",
            {"message": plain(), "template": TENANT, "policy": on},
            {"error": "IrmError"},
            "invalid",
        ),
        case(
            a_ + "already-protected",
            "an rpmsg message cannot be re-protected without its license",
            {"message": RPMSG_MESSAGE, "template": "Do Not Forward", "policy": on},
            {"error": "IrmError"},
            "invalid",
        ),
    ]


def write_labels() -> list[dict[str, Any]]:
    w_ = "irm::write-labels::"
    return [
        case(
            w_ + "documented-order",
            "Enabled, SiteId, SetDate, Method, Name, ContentBits, ActionId, '; '",
            {"labels": [DOC_LABEL]},
            {
                "header": "; ".join(
                    [
                        pair("Enabled", "true"),
                        pair("SiteId", SITE),
                        pair("SetDate", "2018-11-08T21:13:16-0800"),
                        pair("Method", "Privileged"),
                        pair("Name", "Confidential"),
                        pair("ContentBits", "2"),
                        pair("ActionId", ACTION),
                    ]
                )
            },
        ),
        case(
            w_ + "utc-set-date",
            "a UTC SetDate is written with Z",
            {
                "labels": [
                    {
                        "id": LABEL,
                        "enabled": False,
                        "site_id": SITE,
                        "set_date": "2022-01-19T10:08:26+00:00",
                    }
                ]
            },
            {
                "header": "; ".join(
                    [
                        pair("Enabled", "false"),
                        pair("SiteId", SITE),
                        pair("SetDate", "2022-01-19T10:08:26Z"),
                    ]
                )
            },
        ),
        case(
            w_ + "semicolon-injection",
            "a ';' would add a pair",
            {
                "labels": [
                    {
                        "id": LABEL,
                        "enabled": True,
                        "site_id": SITE,
                        "name": f"x; MSIP_Label_{TENANT}_Enabled=true",
                    }
                ]
            },
            {"error": "MalformedIrm"},
            "invalid",
        ),
        case(
            w_ + "crlf-injection",
            "a line break would add a header field",
            {
                "labels": [
                    {
                        "id": LABEL,
                        "enabled": True,
                        "site_id": SITE,
                        "name": "x\r\nBcc: eve@example.com",
                    }
                ]
            },
            {"error": "MalformedIrm"},
            "invalid",
        ),
        case(
            w_ + "value-too-long",
            "MIP: values up to 255 characters",
            {"labels": [{"id": LABEL, "enabled": True, "site_id": SITE, "name": "n" * 256}]},
            {"error": "MalformedIrm"},
            "invalid",
        ),
        case(
            w_ + "mandatory-missing",
            "Enabled and SiteId are mandatory (MIP metadata): not written without them",
            {"labels": [{"id": LABEL, "name": "Confidential"}]},
            {"error": "MalformedIrm"},
            "invalid",
        ),
        case(
            w_ + "label-id-not-guid",
            "the label id must be a GUID",
            {"labels": [{"id": "confidential", "enabled": True, "site_id": SITE}]},
            {"error": "MalformedIrm"},
            "invalid",
        ),
    ]


SUITES = {
    "licenses.json": (
        "MS-ASRM RightsManagementLicense reading, strict and lenient, and its rights",
        "Hand-written from MS-ASRM §2.2.2 and §6 (XSD), MS-ASDTYPE §2.1/§2.3 and the "
        "reference note (§1.4 undecodable license, §1.6 example); attack payloads are "
        "the classic billion-laughs and XXE documents",
        licenses,
    ),
    "templates.json": (
        "MS-ASRM RightsManagementTemplates (Settings response)",
        "Hand-written from MS-ASRM §2.2.2.16/§2.2.2.17 and MS-ASCMD §2.2.3.156",
        templates,
    ),
    "labels.json": (
        "msip_labels reading: documented form and real-world variants",
        "MIP metadata documentation (concept-mip-metadata.md) and the shapes observed in "
        "public AMD mail (reference note §2.3)",
        labels,
    ),
    "messages.json": (
        "Recognising protected and labelled messages; rights from MIME",
        "MS-OXORMMS §2.2.3, MS-OXCMAIL §2.2.3.2.15, the rights agent's template header "
        "and MIP ContentBits (reference note §2)",
        messages,
    ),
    "decisions.json": (
        "Gateway decisions on a parsed license, with reasons",
        "MS-ASRM §2.2.2.3-§2.2.2.13 and §3.2.5.1",
        decisions,
    ),
    "apply.json": (
        "Applying a restriction profile to an outgoing message per the policy",
        "MS-ASRM §2.2.2.19.3 (No Restriction), contract §4/§5 ([irm] enabled = false refuses)",
        apply_cases,
    ),
    "write_labels.json": (
        "Writing msip_labels: documented order, injection refused",
        "MIP metadata documentation (syntax, 255-character limit); RFC 5322 §2.2",
        write_labels,
    ),
}


def main() -> None:
    for name, (description, source, build) in SUITES.items():
        suite = {"area": "irm", "description": description, "source": source, "cases": build()}
        (HERE / name).write_text(json.dumps(suite, indent=1, ensure_ascii=False) + "\n", "utf-8")


if __name__ == "__main__":
    main()
