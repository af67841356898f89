"""IRM restriction metadata: templates, licenses, labels, effective rights.

Microsoft Information Rights Management / Azure Information Protection
metadata on mail, as Exchange ActiveSync exposes it (MS-ASRM) and as
protected and labelled messages carry it in MIME.  Metadata only: nothing
is decrypted.

Reading rights (a message, or an MS-ASRM license as XML)::

    >>> from mailcore.irm import read_rights
    >>> report = read_rights(license_xml, user="bob@example.com")   # doctest: +SKIP
    >>> report.decide("forward").allowed, report.to_dict()["rights"]  # doctest: +SKIP

Composing: :func:`apply_restriction` applies a template the policy offers
to an outgoing message (``"No Restriction"`` removes it).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailcore.irm._compose import apply_restriction, resolve_template
    from mailcore.irm._decide import (
        GATEWAY_ACTIONS,
        Decision,
        effective_actions,
        reply_recipients,
    )
    from mailcore.irm._labels import (
        LabelReading,
        SensitivityLabel,
        format_msip_labels,
        parse_msip_labels,
        read_labels,
        set_labels,
    )
    from mailcore.irm._mime import ProtectionInfo, detect_protection
    from mailcore.irm._model import (
        DO_NOT_FORWARD,
        DO_NOT_FORWARD_ID,
        DO_NOT_FORWARD_RIGHTS,
        ENCRYPT_ONLY,
        ENCRYPT_ONLY_ID,
        ENCRYPT_ONLY_RIGHTS,
        NO_RESTRICTION,
        NO_RESTRICTION_ID,
        LicenseView,
        Problem,
        ProfileKind,
        RestrictionProfile,
        normalise_guid,
    )
    from mailcore.irm._report import (
        RightsReport,
        read_rights,
        rights_for_license,
        rights_for_message,
    )
    from mailcore.irm._rights import (
        ALL_ACTIONS,
        ALL_RIGHTS,
        MailAction,
        Right,
        actions_to_rights,
        parse_rights,
        right_names,
        rights_to_actions,
    )
    from mailcore.irm._xml import (
        NO_EXPIRY,
        TemplateList,
        license_to_xml,
        parse_license,
        parse_templates,
        templates_to_xml,
    )
else:
    from mailcore._lazy import lazy_exports

    # Each submodule loads when one of its names is first read.
    __getattr__, __dir__ = lazy_exports(
        __name__,
        globals(),
        {
            "._compose": (
                "apply_restriction",
                "resolve_template",
            ),
            "._decide": (
                "GATEWAY_ACTIONS",
                "Decision",
                "effective_actions",
                "reply_recipients",
            ),
            "._labels": (
                "LabelReading",
                "SensitivityLabel",
                "format_msip_labels",
                "parse_msip_labels",
                "read_labels",
                "set_labels",
            ),
            "._mime": (
                "ProtectionInfo",
                "detect_protection",
            ),
            "._model": (
                "DO_NOT_FORWARD",
                "DO_NOT_FORWARD_ID",
                "DO_NOT_FORWARD_RIGHTS",
                "ENCRYPT_ONLY",
                "ENCRYPT_ONLY_ID",
                "ENCRYPT_ONLY_RIGHTS",
                "NO_RESTRICTION",
                "NO_RESTRICTION_ID",
                "LicenseView",
                "Problem",
                "ProfileKind",
                "RestrictionProfile",
                "normalise_guid",
            ),
            "._report": (
                "RightsReport",
                "read_rights",
                "rights_for_license",
                "rights_for_message",
            ),
            "._rights": (
                "ALL_ACTIONS",
                "ALL_RIGHTS",
                "MailAction",
                "Right",
                "actions_to_rights",
                "parse_rights",
                "right_names",
                "rights_to_actions",
            ),
            "._xml": (
                "NO_EXPIRY",
                "TemplateList",
                "license_to_xml",
                "parse_license",
                "parse_templates",
                "templates_to_xml",
            ),
        },
    )

__all__ = [
    "ALL_ACTIONS",
    "ALL_RIGHTS",
    "DO_NOT_FORWARD",
    "DO_NOT_FORWARD_ID",
    "DO_NOT_FORWARD_RIGHTS",
    "ENCRYPT_ONLY",
    "ENCRYPT_ONLY_ID",
    "ENCRYPT_ONLY_RIGHTS",
    "GATEWAY_ACTIONS",
    "NO_EXPIRY",
    "NO_RESTRICTION",
    "NO_RESTRICTION_ID",
    "Decision",
    "LabelReading",
    "LicenseView",
    "MailAction",
    "Problem",
    "ProfileKind",
    "ProtectionInfo",
    "RestrictionProfile",
    "Right",
    "RightsReport",
    "SensitivityLabel",
    "TemplateList",
    "actions_to_rights",
    "apply_restriction",
    "detect_protection",
    "effective_actions",
    "format_msip_labels",
    "license_to_xml",
    "normalise_guid",
    "parse_license",
    "parse_msip_labels",
    "parse_rights",
    "parse_templates",
    "read_labels",
    "read_rights",
    "reply_recipients",
    "resolve_template",
    "right_names",
    "rights_for_license",
    "rights_for_message",
    "rights_to_actions",
    "set_labels",
    "templates_to_xml",
]
