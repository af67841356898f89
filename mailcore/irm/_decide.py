"""Gateway decisions: may this message be replied to, forwarded, printed...

A decision depends only on the license's nine booleans and on its state
(unprotected, expired, undecodable, rights unknown), so every decision is
computed once per combination and then looked up: a gateway asks these
questions for every message it relays.
"""

from __future__ import annotations

from functools import cache
from typing import Any, NamedTuple

from mailcore.irm._rights import MailAction

__all__ = [
    "GATEWAY_ACTIONS",
    "Decision",
    "decision_table",
    "effective_actions",
    "reply_recipients",
    "state_table",
]

# The questions a gateway asks (issue 5 "Decisions a gateway needs").
GATEWAY_ACTIONS: tuple[str, ...] = (
    "reply",
    "reply_all",
    "forward",
    "forward_with_content",
    "print",
    "extract",
    "remove_protection",
    "programmatic_access",
)


class Decision(NamedTuple):
    """One answer: the action, whether it is allowed, a reason code and a sentence.

    Reason codes: ``unprotected``, ``granted``, ``issuer``, ``not-granted``,
    ``edit-not-granted``, ``export-requires-edit``, ``expired``,
    ``undecodable``, ``rights-unknown``.
    """

    action: str
    allowed: bool
    reason: str
    detail: str

    def to_dict(self) -> dict[str, Any]:
        """``{"action", "allowed", "reason", "detail"}``."""
        return {
            "action": self.action,
            "allowed": self.allowed,
            "reason": self.reason,
            "detail": self.detail,
        }


def effective_actions(allowed: MailAction) -> MailAction:
    """The actions a license really permits, given the spec's dependencies.

    MS-ASRM §2.2.2.3: EditAllowed MUST be 1 if ExportAllowed is 1, so export
    without edit is not honoured.  §2.2.2.7: ModifyRecipientsAllowed follows
    ForwardAllowed (Exchange derives it as FORWARD and republishing), so it
    is never honoured without forward.  Both rules only remove rights, so the
    result is monotone in ``allowed``.
    """
    if MailAction.EXPORT in allowed and MailAction.EDIT not in allowed:
        allowed &= ~MailAction.EXPORT
    if MailAction.MODIFY_RECIPIENTS in allowed and MailAction.FORWARD not in allowed:
        allowed &= ~MailAction.MODIFY_RECIPIENTS
    return allowed


def reply_recipients(allowed: MailAction) -> str:
    """Whom a reply may go to (MS-ASRM §3.2.5.1 step 3).

    ``any`` (ModifyRecipientsAllowed), ``either`` (the sender or all original
    recipients), ``sender-only``, ``all-original`` or ``forbidden``.
    """
    allowed = effective_actions(allowed)
    if MailAction.MODIFY_RECIPIENTS in allowed:
        return "any"
    reply = MailAction.REPLY in allowed
    reply_all = MailAction.REPLY_ALL in allowed
    if reply and reply_all:
        return "either"
    if reply:
        return "sender-only"
    if reply_all:
        return "all-original"
    return "forbidden"


_SIMPLE: dict[str, tuple[MailAction, str]] = {
    "reply": (MailAction.REPLY, "ReplyAllowed"),
    "reply_all": (MailAction.REPLY_ALL, "ReplyAllAllowed"),
    "print": (MailAction.PRINT, "PrintAllowed"),
    "extract": (MailAction.EXTRACT, "ExtractAllowed"),
    "programmatic_access": (MailAction.PROGRAMMATIC_ACCESS, "ProgrammaticAccessAllowed"),
}


def _flag(ok: bool, action: str, element: str) -> Decision:
    if ok:
        return Decision(action, True, "granted", f"the license grants it ({element} is 1)")
    return Decision(action, False, "not-granted", f"the license withholds it ({element} is 0)")


@cache
def decision_table(mask: int) -> dict[str, Decision]:
    """Every gateway decision for a license whose booleans are ``mask``.

    ``mask`` is the :class:`MailAction` value of the raw ``*Allowed`` flags.
    """
    allowed = MailAction(mask)
    table = {
        action: _flag(flag in allowed, action, name) for action, (flag, name) in _SIMPLE.items()
    }
    forward = MailAction.FORWARD in allowed
    edit = MailAction.EDIT in allowed
    table["forward"] = _flag(forward, "forward", "ForwardAllowed")
    if forward and MailAction.MODIFY_RECIPIENTS not in allowed:
        table["forward"] = Decision(
            "forward",
            True,
            "granted",
            "the license grants it (ForwardAllowed is 1), but ModifyRecipientsAllowed is 0: "
            "the server may refuse recipients the original did not have",
        )
    if not forward:
        table["forward_with_content"] = table["forward"]._replace(action="forward_with_content")
    elif edit:
        table["forward_with_content"] = Decision(
            "forward_with_content",
            True,
            "granted",
            "ForwardAllowed and EditAllowed are 1: the original may be included inline",
        )
    else:
        # MS-ASRM §2.2.2.3: with EditAllowed 0 the original must not be
        # inlined; the server attaches it as message.rpmsg instead.
        table["forward_with_content"] = Decision(
            "forward_with_content",
            False,
            "edit-not-granted",
            "EditAllowed is 0: forward only with the original attached as message.rpmsg",
        )
    export = MailAction.EXPORT in allowed
    if export and not edit:
        table["remove_protection"] = Decision(
            "remove_protection",
            False,
            "export-requires-edit",
            "ExportAllowed is 1 but EditAllowed is 0, which MS-ASRM §2.2.2.3 forbids: "
            "not honoured",
        )
    else:
        table["remove_protection"] = _flag(export, "remove_protection", "ExportAllowed")
    return {action: table[action] for action in GATEWAY_ACTIONS}


_STATE_TEXT = {
    "unprotected": (True, "the message carries no rights protection"),
    "issuer": (True, "the user issued the protected content and has full control"),
    "expired": (
        False,
        "the content has expired; the client must purge it (MS-ASRM §2.2.2.1)",
    ),
    "undecodable": (
        False,
        "the server could not decode the protected item (all-zero TemplateID): no rights",
    ),
    "rights-unknown": (
        False,
        "the message is protected but no license or known template says what is allowed",
    ),
}


@cache
def state_table(state: str) -> dict[str, Decision]:
    """Decisions that follow from the state alone (``unprotected``, ``expired``...)."""
    allowed, detail = _STATE_TEXT[state]
    return {action: Decision(action, allowed, state, detail) for action in GATEWAY_ACTIONS}
