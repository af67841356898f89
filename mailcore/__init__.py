"""mailcore: the server side of secure enterprise mail.

S/MIME, certificate directories, protective markings, IRM metadata,
vCard/iCalendar export and sync sizing for mail gateways and ActiveSync
front ends.  Messages go in and out as ``bytes`` (or
``email.message.EmailMessage``); results are immutable and have a
``to_dict()`` that gives the documented JSON shapes.
"""

from mailcore.errors import (
    DecryptionFailed,
    DirectoryUnavailable,
    KeyLoadError,
    MailcoreError,
    MalformedInput,
    MalformedMessage,
    MalformedSmime,
    MarkingDowngrade,
    MarkingError,
    MarkingListError,
    MarkingNotOffered,
    MarkingSyntaxError,
    PolicyError,
    SignatureInvalid,
    SmimeError,
    UnsupportedAlgorithm,
    VectorFormatError,
)
from mailcore.marking import (
    Marking,
    apply_marking,
    check_marking,
    parse_header,
    read_marking,
)
from mailcore.policy import Policy, load_policy

__version__ = "0.1.0"

__all__ = [
    "DecryptionFailed",
    "DirectoryUnavailable",
    "KeyLoadError",
    "MailcoreError",
    "MalformedInput",
    "MalformedMessage",
    "MalformedSmime",
    "Marking",
    "MarkingDowngrade",
    "MarkingError",
    "MarkingListError",
    "MarkingNotOffered",
    "MarkingSyntaxError",
    "Policy",
    "PolicyError",
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
