"""Applying a restriction profile to an outgoing message.

The sender picks a template; mailcore writes the metadata the mail
server's rights agent acts on (``Microsoft.Exchange.RMSApaAgent.
ProtectionTemplateId``, reference note §2.2), after checking the choice
against the policy's template list.  "No Restriction" (the all-zero id,
MS-ASRM §2.2.2.19.3) removes it.  Encryption itself is the rights server's
job: mailcore never sees a use license.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from mailcore._message import MessageInput, RawField, RawMessage
from mailcore.errors import IrmError
from mailcore.irm._mime import TEMPLATE_HEADER, detect_protection
from mailcore.irm._model import (
    NO_RESTRICTION,
    NO_RESTRICTION_ID,
    RestrictionProfile,
    normalise_guid,
)

if TYPE_CHECKING:
    from mailcore.policy import IrmPolicy, Policy

__all__ = ["apply_restriction", "resolve_template"]


def resolve_template(
    name_or_id: str, templates: Sequence[RestrictionProfile]
) -> RestrictionProfile:
    """The offered template named ``name_or_id`` (GUID, any case or braces; or its name).

    ``No Restriction`` (or the all-zero GUID) is always understood.  Names
    are compared case-insensitively; GUIDs are what to rely on, since names
    are localised.  Anything not offered raises :class:`IrmError`.
    """
    wanted = name_or_id.strip()
    guid = normalise_guid(wanted)
    if guid == NO_RESTRICTION_ID or wanted.casefold() == NO_RESTRICTION.name.casefold():
        return NO_RESTRICTION
    for profile in templates:
        if guid is not None and profile.template_id == guid:
            return profile
    if guid is None:
        matches = [p for p in templates if p.name.casefold() == wanted.casefold()]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise IrmError(
                f"template name {wanted!r} is ambiguous ({len(matches)} templates); use its GUID"
            )
    offered = ", ".join(f"{p.name} ({p.template_id})" for p in templates) or "none"
    raise IrmError(f"template {wanted!r} is not offered by the policy; offered: {offered}")


def apply_restriction(message: MessageInput, template: str, policy: IrmPolicy | Policy) -> bytes:
    """Apply the template ``template`` (name or GUID) to an outgoing message.

    Refuses (:class:`IrmError`) when the policy has IRM disabled, when the
    template is not in the policy's list, and when the message is already
    rights-protected (an rpmsg message cannot be re-protected or unprotected
    without its use license).  Applying the same template again changes
    nothing; only the template header changes, every other byte stays.
    """
    irm = cast("IrmPolicy", getattr(policy, "irm", policy))
    if not irm.enabled:
        # MS-ASCMD status 168 (IRM_FeatureDisabled) on the ActiveSync side.
        raise IrmError("IRM is disabled by the policy ([irm] enabled = false)")
    profile = resolve_template(template, irm.templates)
    raw = RawMessage(message)
    info = detect_protection(raw)
    if info.rights_managed:
        raise IrmError(
            "the message is already rights-protected (rpmsg); its protection can only be "
            "changed by the rights server with the use license"
        )
    fields = raw.find(TEMPLATE_HEADER)
    edits: list[tuple[RawField | None, bytes]] = [(field, b"") for field in fields]
    if profile.template_id != NO_RESTRICTION_ID:
        new = raw.encode_field(TEMPLATE_HEADER, profile.template_id)
        if fields:
            edits[0] = (fields[0], new)
        else:
            edits.append((None, new))
    if not edits:
        return raw.data
    return raw.replace_fields(edits)
