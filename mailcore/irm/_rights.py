"""RMS usage rights and the ActiveSync actions they become.

Two vocabularies meet here (reference note §3):

* :class:`Right`: the RMS / MIP usage rights a template grants, by their
  policy encodings (``VIEW``, ``REPLYALL``, ``OBJMODEL``...);
* :class:`MailAction`: the nine ``*Allowed`` booleans of an MS-ASRM
  ``RightsManagementLicense`` (§2.2.2.3-§2.2.2.13), i.e. what a mail client
  or gateway can permit.

Bit values are mailcore-internal: nothing on the wire uses them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

__all__ = [
    "ACTION_NAMES",
    "ALL_ACTIONS",
    "ALL_RIGHTS",
    "MailAction",
    "Right",
    "actions_to_rights",
    "parse_rights",
    "right_names",
    "rights_to_actions",
]


class Right(enum.Flag):
    """An RMS/MIP usage right (reference note §3.1, policy encodings)."""

    VIEW = enum.auto()
    EDIT = enum.auto()
    DOCEDIT = enum.auto()
    PRINT = enum.auto()
    EXTRACT = enum.auto()
    REPLY = enum.auto()
    REPLYALL = enum.auto()
    FORWARD = enum.auto()
    OWNER = enum.auto()
    EXPORT = enum.auto()
    OBJMODEL = enum.auto()
    VIEWRIGHTSDATA = enum.auto()
    EDITRIGHTSDATA = enum.auto()
    COMMENT = enum.auto()


ALL_RIGHTS = Right(0)
for _right in Right:
    ALL_RIGHTS |= _right
_RIGHTS_BY_NAME = {right.name: right for right in Right if right.name}


class MailAction(enum.Flag):
    """One of the nine ActiveSync actions (MS-ASRM §2.2.2.3-§2.2.2.13)."""

    EDIT = enum.auto()
    EXPORT = enum.auto()
    EXTRACT = enum.auto()
    FORWARD = enum.auto()
    MODIFY_RECIPIENTS = enum.auto()
    PRINT = enum.auto()
    PROGRAMMATIC_ACCESS = enum.auto()
    REPLY = enum.auto()
    REPLY_ALL = enum.auto()


ALL_ACTIONS = MailAction(0)
for _action in MailAction:
    ALL_ACTIONS |= _action

# The JSON E key of each action.
ACTION_NAMES: dict[MailAction, str] = {
    MailAction.EDIT: "edit",
    MailAction.EXPORT: "export",
    MailAction.EXTRACT: "extract",
    MailAction.FORWARD: "forward",
    MailAction.MODIFY_RECIPIENTS: "modify_recipients",
    MailAction.PRINT: "print",
    MailAction.PROGRAMMATIC_ACCESS: "programmatic_access",
    MailAction.REPLY: "reply",
    MailAction.REPLY_ALL: "reply_all",
}

# Reference note §3.2 (Exchange's derivation of the EAS booleans).  EDIT,
# not DOCEDIT, gives EditAllowed; OBJMODEL gives ProgrammaticAccessAllowed.
_RIGHT_FOR_ACTION: dict[MailAction, Right] = {
    MailAction.EDIT: Right.EDIT,
    MailAction.EXPORT: Right.EXPORT,
    MailAction.EXTRACT: Right.EXTRACT,
    MailAction.FORWARD: Right.FORWARD,
    MailAction.PRINT: Right.PRINT,
    MailAction.PROGRAMMATIC_ACCESS: Right.OBJMODEL,
    MailAction.REPLY: Right.REPLY,
    MailAction.REPLY_ALL: Right.REPLYALL,
}


def parse_rights(names: Iterable[str]) -> Right:
    """Rights from policy encodings (``"VIEW"``, ``"replyall"``...); ``ALL`` is every right.

    An unknown name raises :class:`ValueError` naming it.
    """
    rights = Right(0)
    for name in names:
        key = name.strip().upper()
        if key == "ALL":
            rights |= ALL_RIGHTS
            continue
        right = _RIGHTS_BY_NAME.get(key)
        if right is None:
            raise ValueError(f"unknown usage right {name!r}; known: {', '.join(_RIGHTS_BY_NAME)}")
        rights |= right
    return rights


def right_names(rights: Right) -> list[str]:
    """The policy encodings of ``rights``, in :class:`Right` order."""
    return [right.name for right in Right if right in rights and right.name]


def rights_to_actions(rights: Right, *, can_republish: bool = True) -> MailAction:
    """The ActiveSync actions a set of usage rights permits.

    OWNER implies every right (MSIPC ``IsUsageRightGranted``; MIP access
    check: "Does the user have OWNER? If yes, enable all controls").
    ModifyRecipients needs FORWARD and, for templates that must be
    republished when recipients change, the right to republish.
    """
    if Right.OWNER in rights:
        rights = ALL_RIGHTS
    actions = MailAction(0)
    for action, right in _RIGHT_FOR_ACTION.items():
        if right in rights:
            actions |= action
    if Right.FORWARD in rights and can_republish:
        actions |= MailAction.MODIFY_RECIPIENTS
    return actions


def actions_to_rights(actions: MailAction, *, owner: bool = False) -> Right:
    """A (lossy) rights set for some actions: always VIEW, OWNER only if ``owner``."""
    rights = Right.VIEW
    for action, right in _RIGHT_FOR_ACTION.items():
        if action in actions:
            rights |= right
    if owner:
        rights |= Right.OWNER
    return rights
