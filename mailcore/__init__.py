"""mailcore: the server side of secure enterprise mail.

S/MIME, certificate directories, protective markings, IRM metadata,
vCard/iCalendar export and sync sizing for mail gateways and ActiveSync
front ends.  Messages go in and out as ``bytes`` (or
``email.message.EmailMessage``); results are immutable and have a
``to_dict()`` that gives the documented JSON shapes.
"""

from mailcore.errors import (
    DirectoryUnavailable,
    MailcoreError,
    MalformedInput,
    MalformedMessage,
    MarkingDowngrade,
    MarkingError,
    MarkingListError,
    MarkingNotOffered,
    MarkingSyntaxError,
    PolicyError,
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
    "DirectoryUnavailable",
    "MailcoreError",
    "MalformedInput",
    "MalformedMessage",
    "Marking",
    "MarkingDowngrade",
    "MarkingError",
    "MarkingListError",
    "MarkingNotOffered",
    "MarkingSyntaxError",
    "Policy",
    "PolicyError",
    "VectorFormatError",
    "__version__",
    "apply_marking",
    "check_marking",
    "load_policy",
    "parse_header",
    "read_marking",
]
