"""The mailcore exception tree.

Our exception hierarchy::

    * MailcoreError                     base of everything mailcore raises on purpose
      x MalformedInput (ValueError)     input that does not parse; .where names the place
        + PolicyError                   a policy file that is not valid; .key names the key
        + MalformedMessage              a message that cannot be read as RFC 5322
        + MarkingSyntaxError            a protective marking that does not parse
        + MarkingListError              an administrator's markings list entry is invalid
        + VectorFormatError             a conformance vector file is not valid
      x ServiceUnavailable              a server a job needs cannot be reached (exit 3)
        + DirectoryUnavailable          a certificate directory cannot be reached
      x MarkingError                    a marking was refused on its merits
        + MarkingDowngrade              a reply/forward would lower the original marking
        + MarkingNotOffered             a marking is above what the policy offers
      x SmimeError                      an S/MIME operation failed on its merits
        + DecryptionFailed              not a recipient, wrong key, tampered ciphertext
        + SignatureInvalid              a signature does not verify (.result: JSON B)
        + UnsupportedAlgorithm          an algorithm mailcore does not (or will not) do
    MalformedInput also has:
        + MalformedSmime                CMS/DER or S/MIME MIME framing that does not parse
        + KeyLoadError                  a key, certificate or PKCS#12 file that cannot be read
        + MalformedIrm                  rights-management XML or label headers that do not parse
        + MalformedRecord             a contact or event record that is not valid (.record .field)
        + MailboxError                  a path that is not a mailbox mailcore can read
    MailcoreError also has:
      x MessageRefused                  the policy refuses a message (JSON D in .report)
        + EncryptionRefused             encryption required, a recipient lacks a certificate
      x IrmError                        a rights-management operation refused on its merits
      x ExportRefused                   the export policy does not let this data leave

A caller who wants "anything mailcore refused" catches :class:`MailcoreError`;
a caller who only cares about bad input catches :class:`MalformedInput` (or
plain :class:`ValueError`).
"""

from __future__ import annotations

__all__ = [
    "DecryptionFailed",
    "DirectoryUnavailable",
    "EncryptionRefused",
    "ExportRefused",
    "IrmError",
    "KeyLoadError",
    "MailboxError",
    "MailcoreError",
    "MalformedInput",
    "MalformedIrm",
    "MalformedMessage",
    "MalformedRecord",
    "MalformedSmime",
    "MarkingDowngrade",
    "MarkingError",
    "MarkingListError",
    "MarkingNotOffered",
    "MarkingSyntaxError",
    "MessageRefused",
    "PolicyError",
    "ServiceUnavailable",
    "SignatureInvalid",
    "SmimeError",
    "UnsupportedAlgorithm",
    "VectorFormatError",
]


class MailcoreError(Exception):
    """Base class of every error mailcore raises deliberately."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MalformedInput(MailcoreError, ValueError):
    """Input could not be read; ``where`` says which input and where in it."""

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(f"{where}: {message}" if where else message)
        self.where = where
        self.detail = message


class PolicyError(MalformedInput):
    """A policy file (or policy value) is not valid; ``key`` names the key."""

    def __init__(self, message: str, *, key: str | None = None, where: str | None = None) -> None:
        super().__init__(message, where=where)
        self.key = key


class MalformedMessage(MalformedInput):
    """A message could not be read as an RFC 5322 message."""


class MarkingSyntaxError(MalformedInput):
    """A protective marking does not follow the grammar (or strict rules)."""

    def __init__(
        self,
        message: str,
        *,
        defects: tuple[str, ...] = (),
        where: str | None = None,
    ) -> None:
        super().__init__(message, where=where)
        self.defects = defects


class MarkingListError(PolicyError):
    """An entry of the administrator's markings list is not valid."""


class VectorFormatError(MalformedInput):
    """A conformance vector suite is not in the documented format."""


class ServiceUnavailable(MailcoreError):
    """A server that the job needs could not be reached or timed out (exit code 3)."""


class DirectoryUnavailable(ServiceUnavailable):
    """A certificate directory could not be reached or timed out."""


class MessageRefused(MailcoreError):
    """The policy refuses the message (no signing key, encryption impossible...).

    ``report`` holds what was decided and why (the pipeline's report), so
    that the caller can say, for example, who lacked a certificate.
    """

    def __init__(self, message: str, *, report: object = None) -> None:
        super().__init__(message)
        self.report = report


class EncryptionRefused(MessageRefused):
    """Encryption was required but a recipient lacks a certificate (``reject``)."""


class MarkingError(MailcoreError):
    """A marking operation was refused on its merits (not bad input)."""


class MarkingDowngrade(MarkingError):
    """A reply or forward asked for a marking lower than the original's."""

    def __init__(self, message: str, *, original: str, requested: str) -> None:
        super().__init__(message)
        self.original = original
        self.requested = requested


class MarkingNotOffered(MarkingError):
    """A requested marking is above the highest one the policy offers."""


class MalformedSmime(MalformedInput):
    """CMS (DER/BER) or S/MIME MIME framing that does not parse."""


class KeyLoadError(MalformedInput):
    """A private key, certificate or PKCS#12 file cannot be read."""


class SmimeError(MailcoreError):
    """An S/MIME operation failed on its merits (not bad input)."""


class DecryptionFailed(SmimeError):
    """The message cannot be decrypted with the keys given.

    One message for every cause (not a recipient, wrong key, bad padding,
    tampered ciphertext or tag) so that errors are no decryption oracle.
    """


class SignatureInvalid(SmimeError):
    """A signature did not verify; ``result`` holds the full report."""

    def __init__(self, message: str, *, result: object = None) -> None:
        super().__init__(message)
        self.result = result


class UnsupportedAlgorithm(SmimeError):
    """An algorithm mailcore does not implement, or refuses as too weak."""


class MalformedIrm(MalformedInput):
    """Rights-management XML (MS-ASRM), ``msip_labels`` or related headers that do not parse."""


class IrmError(MailcoreError):
    """A rights-management operation refused on its merits (IRM off, template not offered)."""


class MalformedRecord(MalformedInput):
    """A contact or calendar record that is not valid; ``record`` and ``field`` say where."""

    def __init__(
        self,
        message: str,
        *,
        record: int | str | None = None,
        field: str | None = None,
        where: str | None = None,
    ) -> None:
        super().__init__(message, where=where)
        self.record = record
        self.field = field


class ExportRefused(MailcoreError):
    """The export policy does not let this data leave (e.g. ``[export] contacts = false``)."""


class MailboxError(MalformedInput):
    """A path that is not a mailbox mailcore can read (not found, unknown layout)."""
