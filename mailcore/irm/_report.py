"""Effective rights of a message or license for a user at a time (JSON E)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from typing import TYPE_CHECKING, Any, cast

from mailcore._message import RawMessage, as_bytes
from mailcore.irm._decide import (
    GATEWAY_ACTIONS,
    Decision,
    decision_table,
    effective_actions,
    reply_recipients,
    state_table,
)
from mailcore.irm._labels import SensitivityLabel
from mailcore.irm._mime import ProtectionInfo, detect_protection
from mailcore.irm._model import (
    DO_NOT_FORWARD,
    ENCRYPT_ONLY,
    LicenseView,
    Problem,
    RestrictionProfile,
    _now,
)
from mailcore.irm._rights import ACTION_NAMES, ALL_ACTIONS, MailAction, Right, rights_to_actions
from mailcore.irm._xml import parse_license

if TYPE_CHECKING:
    from mailcore.policy import IrmPolicy, Policy

__all__ = ["RightsReport", "read_rights", "rights_for_license", "rights_for_message"]

# States, and how each one decides (see RightsReport.state).
_STATE_DECIDES = frozenset({"unprotected", "issuer", "expired", "undecodable", "rights-unknown"})


@dataclass(frozen=True, slots=True)
class RightsReport:
    """The rights on a message or license for one user at one time.

    ``state`` says where the answer comes from: ``unprotected``,
    ``licensed`` (an MS-ASRM license), ``template`` (a template whose rights
    are known), ``issuer`` (the user sent the protected message: RMS issuer,
    full control), ``expired``, ``undecodable`` (the server's "could not
    decode" license) or ``rights-unknown`` (protected, nothing says what is
    allowed: nothing is granted).  ``granted`` holds the raw booleans;
    ``actions`` what is effectively permitted.
    """

    protected: bool
    state: str
    template: RestrictionProfile | None
    owner: bool
    content_owner: str | None
    expires: datetime | None
    expired: bool
    view: bool
    granted: MailAction
    actions: MailAction
    labels: tuple[SensitivityLabel, ...] = ()
    problems: tuple[Problem, ...] = ()
    license: LicenseView | None = None

    def decide(self, action: str) -> Decision:
        """The gateway decision for ``action`` (one of ``GATEWAY_ACTIONS``)."""
        if self.state in _STATE_DECIDES:
            table = state_table(self.state)
        else:
            table = decision_table(self.granted.value)
        decision = table.get(action)
        if decision is None:
            raise ValueError(f"unknown action {action!r}; known: {', '.join(GATEWAY_ACTIONS)}")
        return decision

    def decisions(self) -> tuple[Decision, ...]:
        """Every gateway decision, in ``GATEWAY_ACTIONS`` order."""
        return tuple(self.decide(action) for action in GATEWAY_ACTIONS)

    @property
    def reply_recipients(self) -> str:
        """Whom a reply may go to: ``any``, ``either``, ``sender-only``, ``all-original``,
        ``forbidden`` (MS-ASRM §3.2.5.1)."""
        return reply_recipients(self.actions)

    @property
    def defects(self) -> list[str]:
        """The problem codes, each once, in the order found."""
        return list(dict.fromkeys(problem.code for problem in self.problems))

    def to_dict(self) -> dict[str, Any]:
        """JSON E of the contract."""
        rights: dict[str, bool] = {"view": self.view}
        for key in (
            "edit",
            "print",
            "reply",
            "reply_all",
            "forward",
            "extract",
            "export",
            "modify_recipients",
            "programmatic_access",
        ):
            rights[key] = _ACTION_BY_NAME[key] in self.actions
        template = self.template
        return {
            "protected": self.protected,
            "template_id": (template.template_id or None) if template else None,
            "template_name": _blank_none(template.name) if template else None,
            "owner": self.owner,
            "content_owner": _blank_none(self.content_owner),
            "expires": None if self.expires is None else format_time(self.expires),
            "expired": self.expired,
            "rights": rights,
            "labels": [label.to_dict() for label in self.labels],
            "defects": self.defects,
        }


_ACTION_BY_NAME = {name: action for action, name in ACTION_NAMES.items()}


def _blank_none(text: str | None) -> str | None:
    return text if text and text.strip() else None


def format_time(moment: datetime) -> str:
    """ISO 8601 UTC with ``Z``; milliseconds only when there are some."""
    utc = moment.astimezone(UTC)
    millis = f".{utc.microsecond // 1000:03d}" if utc.microsecond // 1000 else ""
    return f"{utc.year:04d}" + utc.strftime("-%m-%dT%H:%M:%S") + millis + "Z"


def _same_address(first: str | None, second: str | None) -> bool:
    return bool(first and second and first.strip().casefold() == second.strip().casefold())


def rights_for_license(
    license: LicenseView, *, user: str | None = None, now: datetime | None = None
) -> RightsReport:
    """The report for an MS-ASRM license (already evaluated by the server for its user).

    ``Owner`` is reported but never widens the flags (MS-ASRM §2.2.2.8);
    ``user`` is only checked against it.
    """
    moment = _now(now)
    problems = list(license.problems)
    if user and license.owner and not _same_address(user, license.content_owner):
        problems.append(
            Problem(
                "owner-mismatch",
                f"Owner is 1 but {user} is not the ContentOwner {license.content_owner!r}",
                "RightsManagementLicense/Owner",
                "warning",
            )
        )
    expired = license.expires is not None and moment >= license.expires
    if license.decode_failed:
        state, actions, view = "undecodable", MailAction(0), False
    elif expired:
        state, actions, view = "expired", MailAction(0), False
    else:
        state, actions, view = "licensed", effective_actions(license.allowed), True
    return RightsReport(
        protected=True,
        state=state,
        template=license.profile,
        owner=license.owner,
        content_owner=license.content_owner,
        expires=license.expires,
        expired=expired,
        view=view,
        granted=license.allowed,
        actions=actions,
        problems=tuple(problems),
        license=license,
    )


def _catalogue(
    templates: Iterable[RestrictionProfile] | None,
    policy: IrmPolicy | Policy | None,
) -> dict[str, RestrictionProfile]:
    known = {DO_NOT_FORWARD.template_id: DO_NOT_FORWARD, ENCRYPT_ONLY.template_id: ENCRYPT_ONLY}
    if policy is not None:
        irm = cast("IrmPolicy", getattr(policy, "irm", policy))
        for profile in irm.templates:
            known[profile.template_id] = profile
    for profile in templates or ():
        known[profile.template_id] = profile
    return known


def rights_for_message(
    info: ProtectionInfo,
    *,
    user: str | None = None,
    templates: Iterable[RestrictionProfile] | None = None,
    policy: IrmPolicy | Policy | None = None,
) -> RightsReport:
    """The report for a message, from what its MIME says (see :func:`detect_protection`).

    The sender of a protected message is its RMS issuer: for that user
    every right (issuer and owner have full control, reference note §3.4).
    Otherwise the rights of a known template apply; a protected message
    with no known template grants nothing.
    """
    problems = list(info.problems)
    if not info.protected:
        return RightsReport(
            protected=False,
            state="unprotected",
            template=None,
            owner=False,
            content_owner=None,
            expires=None,
            expired=False,
            view=True,
            granted=ALL_ACTIONS,
            actions=ALL_ACTIONS,
            labels=info.labels,
            problems=tuple(problems),
        )
    catalogue = _catalogue(templates, policy)
    template = None
    if info.template_id is not None:
        template = catalogue.get(info.template_id) or RestrictionProfile(info.template_id, "", "")
    issuer = _same_address(user, info.sender)
    if issuer:
        state, granted, view = "issuer", ALL_ACTIONS, True
    elif template is not None and template.rights is not None:
        state = "template"
        granted = rights_to_actions(template.rights)
        view = bool(template.rights & (Right.VIEW | Right.OWNER))
    else:
        state, granted, view = "rights-unknown", MailAction(0), False
        problems.append(
            Problem(
                "rights-unknown",
                "protected, but no license or known template says what is allowed: "
                "nothing is granted",
                "message",
                "warning",
            )
        )
    return RightsReport(
        protected=True,
        state=state,
        template=template,
        owner=issuer,
        content_owner=info.sender,
        expires=None,
        expired=False,
        view=view,
        granted=granted,
        actions=effective_actions(granted),
        labels=info.labels,
        problems=tuple(problems),
    )


def _is_xml(data: bytes) -> bool:
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<") or data[:2] in (b"\xff\xfe", b"\xfe\xff")


def read_rights(
    source: bytes | bytearray | Message | LicenseView,
    *,
    user: str | None = None,
    now: datetime | None = None,
    strict: bool = False,
    templates: Iterable[RestrictionProfile] | None = None,
    policy: IrmPolicy | Policy | None = None,
) -> RightsReport:
    """The rights on a message (RFC 5322 bytes) or an MS-ASRM license (XML bytes).

    ``user`` is the address the rights are evaluated for; ``now`` the time
    (default: the current time; must be timezone-aware).  ``strict`` refuses
    a license with any error (:class:`~mailcore.errors.MalformedIrm`);
    lenient reading (default) reports problems as defects and grants nothing
    it cannot read.  ``templates`` / ``policy`` supply template rights that
    a message's template id can be matched against.
    """
    if isinstance(source, LicenseView):
        return rights_for_license(source, user=user, now=now)
    if isinstance(source, Message):
        data = as_bytes(source)
    elif isinstance(source, bytes | bytearray):
        data = bytes(source)
    else:
        raise TypeError(f"expected message or license bytes, not {type(source).__name__}")
    if _is_xml(data):
        return rights_for_license(parse_license(data, strict=strict), user=user, now=now)
    _now(now)  # a naive time is refused for messages too
    info = detect_protection(RawMessage(data))
    return rights_for_message(info, user=user, templates=templates, policy=policy)
