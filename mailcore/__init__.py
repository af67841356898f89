"""mailcore: the server side of secure enterprise mail.

S/MIME, certificate directories, protective markings, IRM metadata,
vCard/iCalendar export and sync sizing for mail gateways and ActiveSync
front ends.  Messages go in and out as ``bytes`` (or
``email.message.EmailMessage``); results are immutable and have a
``to_dict()`` that gives the documented JSON shapes.
"""

from typing import TYPE_CHECKING

from mailcore.errors import (
    DecryptionFailed,
    DirectoryUnavailable,
    EncryptionRefused,
    ExportRefused,
    IrmError,
    KeyLoadError,
    MailboxError,
    MailcoreError,
    MalformedInput,
    MalformedIrm,
    MalformedMessage,
    MalformedRecord,
    MalformedSmime,
    MarkingDowngrade,
    MarkingError,
    MarkingListError,
    MarkingNotOffered,
    MarkingSyntaxError,
    MessageRefused,
    PolicyError,
    ServiceUnavailable,
    SignatureInvalid,
    SmimeError,
    UnsupportedAlgorithm,
    VectorFormatError,
)

if TYPE_CHECKING:
    from mailcore.marking import (
        Marking,
        apply_marking,
        check_marking,
        parse_header,
        read_marking,
    )
    from mailcore.policy import Policy, load_policy
else:
    from mailcore._lazy import lazy_exports

    # Each submodule loads when one of its names is first read.
    __getattr__, __dir__ = lazy_exports(
        __name__,
        globals(),
        {
            ".marking": (
                "Marking",
                "apply_marking",
                "check_marking",
                "parse_header",
                "read_marking",
            ),
            ".policy": (
                "Policy",
                "load_policy",
            ),
        },
    )

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
    "Marking",
    "MarkingDowngrade",
    "MarkingError",
    "MarkingListError",
    "MarkingNotOffered",
    "MarkingSyntaxError",
    "MessageRefused",
    "Policy",
    "PolicyError",
    "ServiceUnavailable",
    "SignatureInvalid",
    "SmimeError",
    "UnsupportedAlgorithm",
    "VectorFormatError",
    "__version__",
    "apply_marking",
    "check_marking",
    "load_policy",
    "parse_header",
    "read_marking",
]

__version__ = "0.1.0"
