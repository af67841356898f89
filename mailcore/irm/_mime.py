"""Recognising rights-protected and labelled messages in MIME.

Markers (reference note §2): ``Content-Class: rpmsg.message`` (MS-OXCMAIL
§2.2.3.2.15), the ``message.rpmsg`` attachment of type
``application/x-microsoft-rpmsg-message`` (MS-OXORMMS §2.2.3.1/2), the
``Microsoft.Exchange.RMSApaAgent.ProtectionTemplateId`` header the rights
agent acts on, and ``msip_labels`` with the encrypt content bit.  Nothing
is decrypted: this is metadata only.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from mailcore._address import first_address
from mailcore._message import MessageInput, RawMessage
from mailcore.irm._labels import LabelReading, SensitivityLabel, read_labels
from mailcore.irm._model import NO_RESTRICTION_ID, Problem, normalise_guid

__all__ = [
    "CONTENT_CLASS",
    "RPMSG_FILENAME",
    "RPMSG_TYPE",
    "TEMPLATE_HEADER",
    "ProtectionInfo",
    "detect_protection",
]

CONTENT_CLASS = "rpmsg.message"
RPMSG_TYPE = "application/x-microsoft-rpmsg-message"
RPMSG_FILENAME = "message.rpmsg"
TEMPLATE_HEADER = "Microsoft.Exchange.RMSApaAgent.ProtectionTemplateId"
# MS-OXORMMS §2.2.4.4: the compressed rpmsg stream starts with these bytes.
RPMSG_PREFIX = bytes.fromhex("76E80460C411E386")


@dataclass(frozen=True, slots=True)
class ProtectionInfo:
    """What a message's MIME says about its protection."""

    content_class: bool
    rpmsg_part: bool
    template_id: str | None
    labels: tuple[SensitivityLabel, ...]
    sender: str | None
    problems: tuple[Problem, ...] = ()

    @property
    def rights_managed(self) -> bool:
        """Already protected by RMS: Content-Class rpmsg.message or an rpmsg part."""
        return self.content_class or self.rpmsg_part

    @property
    def label_encrypts(self) -> bool:
        """An enabled label asks for encryption (ContentBits 0x8)."""
        return any(label.enabled and label.encrypts for label in self.labels)

    @property
    def protected(self) -> bool:
        """Protected now, or marked for protection by the rights agent or a label."""
        return self.rights_managed or self.template_id is not None or self.label_encrypts


def _rpmsg_parts(root: Message) -> list[Message]:
    """rpmsg parts of this message, not of messages attached to it.

    An attached message/rfc822 that is itself protected does not make the
    outer message protected, so message/* parts are not descended into.
    """
    found: list[Message] = []
    pending = [root]
    while pending:
        part = pending.pop()
        if part.get_content_maintype() == "multipart":
            payload = part.get_payload()
            if isinstance(payload, list):
                pending.extend(p for p in reversed(payload) if isinstance(p, Message))
            continue
        filename = part.get_filename()
        if part.get_content_type() == RPMSG_TYPE or (
            isinstance(filename, str) and filename.strip().lower() == RPMSG_FILENAME
        ):
            found.append(part)
    return found


def detect_protection(message: MessageInput | RawMessage) -> ProtectionInfo:
    """Inspect a message's headers and MIME structure for IRM markers and labels."""
    raw = message if isinstance(message, RawMessage) else RawMessage(message)
    problems: list[Problem] = []
    found = raw.find_many("Content-Class", TEMPLATE_HEADER, "Content-Type", "From")
    classes = [raw.value(f).strip().lower() for f in found["content-class"]]
    content_class = CONTENT_CLASS in classes
    template_id = _template_id([raw.value(f) for f in found[TEMPLATE_HEADER.lower()]], problems)
    rpmsg = False
    content_type = raw.value(found["content-type"][0]).lower() if found["content-type"] else ""
    if content_type.lstrip().startswith("multipart/") or "rpmsg" in content_type:
        parsed = BytesParser(policy=compat32).parsebytes(raw.data)
        parts = _rpmsg_parts(parsed)
        rpmsg = bool(parts)
        for part in parts:
            if part.get_content_type() != RPMSG_TYPE:
                problems.append(
                    Problem(
                        "rpmsg-type",
                        f"message.rpmsg is typed {part.get_content_type()}, not {RPMSG_TYPE}",
                        "message.rpmsg",
                        "warning",
                    )
                )
            body = part.get_payload(decode=True)
            if isinstance(body, bytes) and body and not body.startswith(RPMSG_PREFIX):
                problems.append(
                    Problem(
                        "rpmsg-prefix",
                        "the rpmsg attachment does not start with the rpmsg prefix "
                        "(MS-OXORMMS §2.2.4.4)",
                        "message.rpmsg",
                        "warning",
                    )
                )
    if content_class and not rpmsg:
        problems.append(
            Problem(
                "rpmsg-part-missing",
                "Content-Class is rpmsg.message but there is no message.rpmsg attachment",
                "Content-Class",
                "warning",
            )
        )
    if rpmsg and not content_class:
        problems.append(
            Problem(
                "content-class-missing",
                "a message.rpmsg attachment without Content-Class: rpmsg.message "
                "(typical of exports)",
                "Content-Class",
                "warning",
            )
        )
    labels: LabelReading = read_labels(raw)
    problems.extend(labels.problems)
    sender_fields = found["from"]
    sender = first_address(raw.value(sender_fields[0])) if sender_fields else None
    return ProtectionInfo(
        content_class=content_class,
        rpmsg_part=rpmsg,
        template_id=template_id,
        labels=labels.labels,
        sender=sender,
        problems=tuple(problems),
    )


def _template_id(values: list[str], problems: list[Problem]) -> str | None:
    ids: list[str] = []
    for value in values:
        guid = normalise_guid(value)
        if guid is None:
            problems.append(
                Problem(
                    "template-header-invalid",
                    f"{value.strip()!r} is not a template GUID",
                    TEMPLATE_HEADER,
                    "warning",
                )
            )
        elif guid == NO_RESTRICTION_ID:
            # In a compose request the all-zero id asks for no protection.
            problems.append(
                Problem(
                    "template-header-no-restriction",
                    "the template id is the all-zero 'No Restriction' id",
                    TEMPLATE_HEADER,
                    "warning",
                )
            )
        else:
            ids.append(guid)
    if len(set(ids)) > 1:
        problems.append(
            Problem(
                "template-header-conflict",
                f"{len(set(ids))} different template ids; the first is used",
                TEMPLATE_HEADER,
                "warning",
            )
        )
    return ids[0] if ids else None
