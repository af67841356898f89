"""The all-or-nothing encryption decision for a whole message.

Mobile secure-mail clients document the group rule: a message is encrypted
only when *every* recipient has a valid encryption certificate; when any one
lacks it, the message goes unencrypted to everyone (``send_unencrypted``)
or is refused (``reject``), per ``[smime] on_missing_certificate``.  The plan
always lists who is missing and why, so the choice is never silent.

A directory that cannot answer is not "missing": :func:`plan_encryption`
raises :class:`~mailcore.DirectoryUnavailable` unless the policy explicitly
says ``on_directory_error = "send_unencrypted"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import getaddresses
from typing import Any, Literal

from cryptography import x509

from mailcore._address import all_addresses, is_simple_address
from mailcore._message import MessageInput, RawMessage
from mailcore.directory._base import CertificateDirectory, normalise_address
from mailcore.directory._model import LookupReport
from mailcore.errors import DirectoryUnavailable
from mailcore.policy import Policy, SmimePolicy

__all__ = ["Decision", "EncryptionPlan", "MissingRecipient", "plan_encryption", "recipients_of"]

Decision = Literal["encrypt", "send_unencrypted", "reject", "not_requested"]
MissingReason = Literal[
    "not_found", "no_valid_certificate", "invalid_address", "directory_unavailable"
]


@dataclass(frozen=True, slots=True)
class MissingRecipient:
    """A recipient without a usable encryption certificate, and why."""

    address: str
    reason: MissingReason

    def to_dict(self) -> dict[str, str]:
        return {"address": self.address, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class EncryptionPlan:
    """What to do with one message; ``to_dict()`` is JSON D's ``encryption``."""

    decision: Decision
    recipients: tuple[str, ...]
    """Everyone the message must be readable by (To, Cc, Bcc, and the sender
    when the policy adds the sender), lowercased, without repeats."""
    certificates: tuple[x509.Certificate, ...] = ()
    """One per recipient, in ``recipients`` order, when the decision is ``encrypt``."""
    missing: tuple[MissingRecipient, ...] = ()
    lookups: LookupReport | None = None
    """The directory's full answer (JSON C), when it answered."""
    directory_error: str | None = None
    """Why the directory could not answer, when the policy let the message go anyway."""

    @property
    def encrypt(self) -> bool:
        return self.decision == "encrypt"

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "missing": [m.to_dict() for m in self.missing]}


def recipients_of(message: MessageInput | RawMessage) -> tuple[str, ...]:
    """The addresses of To, Cc and Bcc, in order, lowercased, without repeats.

    Group syntax (``undisclosed-recipients:;``) contributes nobody; an entry
    that is not an address is kept as written, so that the plan reports it
    as ``invalid_address`` instead of dropping a recipient silently.
    """
    raw = message if isinstance(message, RawMessage) else RawMessage(message)
    values = [value for name in ("to", "cc", "bcc") for value in raw.get_all(name)]
    return tuple(dict.fromkeys(normalise_address(address) for address in all_addresses(values)))


def _sender_of(message: MessageInput) -> str | None:
    raw = RawMessage(message)
    for value in raw.get_all("from"):
        for _, address in getaddresses([value]):
            if address:
                return normalise_address(address)
    return None


def plan_encryption(
    message: MessageInput | None = None,
    *,
    directory: CertificateDirectory,
    policy: Policy | SmimePolicy | None = None,
    recipients: Iterable[str] | None = None,
    sender: str | None = None,
    at: datetime | None = None,
) -> EncryptionPlan:
    """Decide whether ``message`` can be encrypted to all its recipients.

    Recipients are ``recipients`` when given (an SMTP envelope), else the
    message's To, Cc and Bcc; the sender (``sender``, else From) is added
    when ``[smime] encrypt_to_sender`` is on.  Raises
    :class:`~mailcore.DirectoryUnavailable` when the directory cannot
    answer and ``on_directory_error`` is ``reject`` (the default).
    """
    smime = policy.smime if isinstance(policy, Policy) else (policy or SmimePolicy())
    if recipients is not None:
        wanted = [normalise_address(address) for address in recipients]
    elif message is not None:
        wanted = list(recipients_of(message))
    else:
        raise ValueError("give a message or a list of recipients")
    if smime.encrypt_to_sender:
        own = normalise_address(sender) if sender else None
        if own is None and message is not None:
            own = _sender_of(message)
        if own:
            wanted.append(own)
    everyone = tuple(dict.fromkeys(address for address in wanted if address))
    if not everyone:
        raise ValueError("the message has no recipients to encrypt to")

    invalid = [a for a in everyone if not is_simple_address(a)]
    valid = [a for a in everyone if a not in invalid]
    try:
        lookups = directory.lookup(valid, at=at)
    except DirectoryUnavailable as error:
        if smime.on_directory_error != "send_unencrypted":
            raise
        missing = tuple(
            MissingRecipient(a, "invalid_address" if a in invalid else "directory_unavailable")
            for a in everyone
        )
        return EncryptionPlan(
            "send_unencrypted", everyone, missing=missing, directory_error=error.message
        )

    missing_list: list[MissingRecipient] = []
    for address in everyone:
        if address in invalid:
            missing_list.append(MissingRecipient(address, "invalid_address"))
            continue
        result = lookups[address]
        if result.status == "not_found":
            missing_list.append(MissingRecipient(address, "not_found"))
        elif result.status == "no_valid_certificate":
            missing_list.append(MissingRecipient(address, "no_valid_certificate"))
    if not missing_list:
        chosen = tuple(lookups[a].certificate for a in everyone)
        return EncryptionPlan(
            "encrypt",
            everyone,
            certificates=tuple(c for c in chosen if c is not None),
            lookups=lookups,
        )
    decision: Decision = (
        "reject" if smime.on_missing_certificate == "reject" else "send_unencrypted"
    )
    return EncryptionPlan(decision, everyone, missing=tuple(missing_list), lookups=lookups)
