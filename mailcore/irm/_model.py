"""The IRM model: template GUIDs, restriction profiles, licenses, problems.

Templates are identified by GUID (lower case, no braces); names and
descriptions are localised presentation data (MS-ASRM §3.2.4.2).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from mailcore.irm._decide import (
    GATEWAY_ACTIONS,
    Decision,
    decision_table,
    effective_actions,
    state_table,
)
from mailcore.irm._rights import ALL_RIGHTS, MailAction, Right, right_names

__all__ = [
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
]

# MS-ASRM §2.2.2.19.3: in a compose request the all-zero id means "remove
# protection"; inside a license it is Exchange's "could not decode" form.
NO_RESTRICTION_ID = "00000000-0000-0000-0000-000000000000"
# Reference note §1.4 (decompiled Exchange, EAS captures, syncgw).
DO_NOT_FORWARD_ID = "cf5cf348-a8d7-40d5-91ef-a600b88a395d"
# Reference note §1.4 ([2nd]: support-wiki transcriptions; verify on a tenant).
ENCRYPT_ONLY_ID = "c026002d-cda6-401e-bfad-28de214d0fba"

# Reference note §3.3: Exchange's Do Not Forward right set.
DO_NOT_FORWARD_RIGHTS = (
    Right.VIEW
    | Right.EDIT
    | Right.DOCEDIT
    | Right.OBJMODEL
    | Right.VIEWRIGHTSDATA
    | Right.REPLY
    | Right.REPLYALL
)
# "all usage rights except Save As, Export and Full Control".
ENCRYPT_ONLY_RIGHTS = ALL_RIGHTS & ~(Right.EXPORT | Right.OWNER)

_GUID = re.compile(
    r"\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?\Z"
)


def normalise_guid(text: str) -> str | None:
    """``text`` as a lower-case GUID without braces, or None if it is not one."""
    match = _GUID.match(text.strip())
    if match is None or (text.strip().startswith("{") != text.strip().endswith("}")):
        return None
    return match.group(1).lower()


class ProfileKind(enum.Enum):
    """What kind of restriction a template id stands for."""

    NO_RESTRICTION = "no-restriction"
    DO_NOT_FORWARD = "do-not-forward"
    ENCRYPT_ONLY = "encrypt-only"
    TEMPLATE = "template"


_KINDS = {
    NO_RESTRICTION_ID: ProfileKind.NO_RESTRICTION,
    DO_NOT_FORWARD_ID: ProfileKind.DO_NOT_FORWARD,
    ENCRYPT_ONLY_ID: ProfileKind.ENCRYPT_ONLY,
}


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong (``error``) or odd (``warning``) found while reading.

    ``path`` names the place (``RightsManagementLicense/EditAllowed``,
    ``msip_labels``); ``code`` is stable and listed in the reports' defects.
    """

    code: str
    message: str
    path: str = ""
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        return f"{where}{self.message} [{self.code}]"


@dataclass(frozen=True, slots=True)
class RestrictionProfile:
    """A restriction a sender can choose (an MS-ASRM ``RightsManagementTemplate``).

    ``rights`` is what the template grants when known (built-ins, or a policy
    that lists them); ``None`` means only the server knows.
    """

    template_id: str
    name: str
    description: str
    rights: Right | None = None
    locale: str | None = None

    @property
    def kind(self) -> ProfileKind:
        """Built-in or tenant template, by GUID (names are localised)."""
        return _KINDS.get(self.template_id, ProfileKind.TEMPLATE)

    def to_dict(self) -> dict[str, Any]:
        """``{"id", "name", "description", "kind", "rights"}``."""
        return {
            "id": self.template_id,
            "name": self.name,
            "description": self.description,
            "kind": self.kind.value,
            "rights": None if self.rights is None else right_names(self.rights),
        }


DO_NOT_FORWARD = RestrictionProfile(
    DO_NOT_FORWARD_ID,
    "Do Not Forward",
    "Recipients can read this message, but they can't forward, print, or copy content. "
    "The conversation owner has full permission to their message and all replies.",
    DO_NOT_FORWARD_RIGHTS,
)
ENCRYPT_ONLY = RestrictionProfile(
    ENCRYPT_ONLY_ID,
    "Encrypt-Only",
    "The message is encrypted. Recipients have every right except removing the protection "
    "(Save As, Export) and Full Control.",
    ENCRYPT_ONLY_RIGHTS,
)
NO_RESTRICTION = RestrictionProfile(
    NO_RESTRICTION_ID,
    "No Restriction",
    "Remove rights protection from the outgoing message.",
    None,
)


@dataclass(frozen=True, slots=True)
class LicenseView:
    """An MS-ASRM ``RightsManagementLicense``: the rights as evaluated for one user.

    ``owner`` is informational only (MS-ASRM §2.2.2.8): it never widens the
    ``allowed`` flags.  ``expires`` is None for the
    ``9999-12-30T23:59:59.999Z`` sentinel.  ``problems`` (what the reader
    found) do not take part in equality.
    """

    template_id: str
    template_name: str
    template_description: str
    content_owner: str
    owner: bool
    allowed: MailAction
    expires: datetime | None
    problems: tuple[Problem, ...] = field(default=(), compare=False)

    @property
    def decode_failed(self) -> bool:
        """Exchange's "could not decode" license: the all-zero TemplateID (§1.4)."""
        return self.template_id == NO_RESTRICTION_ID

    @property
    def profile(self) -> RestrictionProfile:
        """The template named by the license (rights unknown: the server evaluated them)."""
        return RestrictionProfile(self.template_id, self.template_name, self.template_description)

    def expired(self, now: datetime | None = None) -> bool:
        """True when ``now`` (default: the current time) is at or after the expiry."""
        if self.expires is None:
            return False
        return _now(now) >= self.expires

    def effective(self, now: datetime | None = None) -> MailAction:
        """The actions permitted at ``now``: none when expired or undecodable.

        Expiry wins even for the owner: MS-ASRM §2.2.2.1 makes the client
        purge the content; the owner may fetch it again for a new license.
        """
        if self.decode_failed or self.expired(now):
            return MailAction(0)
        return effective_actions(self.allowed)

    def decide(self, action: str, *, now: datetime | None = None) -> Decision:
        """The gateway decision for ``action`` (one of ``GATEWAY_ACTIONS``) at ``now``."""
        if now is not None and now.tzinfo is None:
            _now(now)  # raises: naive times are ambiguous
        if self.template_id == NO_RESTRICTION_ID:
            table = state_table("undecodable")
        else:
            expires = self.expires
            if expires is not None and _now(now) >= expires:
                table = state_table("expired")
            else:
                table = decision_table(self.allowed.value)
        decision = table.get(action)
        if decision is None:
            raise ValueError(f"unknown action {action!r}; known: {', '.join(GATEWAY_ACTIONS)}")
        return decision


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware (naive times are ambiguous)")
    return now
