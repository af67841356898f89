"""Email protective markings: the ``X-Protective-Marking`` header and the
subject tag of the Australian Government EPMS (2005.6, 2012.3, 2018.x,
2024.1), with foreign namespaces kept opaque.

Reading::

    >>> from mailcore.marking import parse_header
    >>> m = parse_header("VER=2024.1, NS=gov.au, SEC=PROTECTED, "
    ...                  "CAVEAT=SH:CABINET, ORIGIN=jo@agency.gov.au")
    >>> m.sec, m.subject_tag()
    ('PROTECTED', '[SEC=PROTECTED, CAVEAT=SH:CABINET]')

Writing: :func:`apply_marking` marks an outgoing message (and replies,
given the originals); :func:`check_marking` is the gateway check.
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailcore.marking._apply import (
        MarkedMessage,
        apply_marking,
        combine_markings,
        convert_marking,
        resolve_marking,
    )
    from mailcore.marking._check import (
        CheckResult,
        check_marking,
        level_rank,
    )
    from mailcore.marking._list import (
        ListedMarking,
        MarkingsList,
        default_markings,
        parse_markings_list,
    )
    from mailcore.marking._model import (
        Caveat,
        Defect,
        Marking,
    )
    from mailcore.marking._parse import (
        SubjectMarking,
        parse_header,
        parse_subject_tag,
        scan_subject,
    )
    from mailcore.marking._read import MessageMarking, read_marking
    from mailcore.marking._subject import decode_subject, strip_markings
else:
    from mailcore._lazy import lazy_exports

    # Each submodule loads when one of its names is first read.
    __getattr__, __dir__ = lazy_exports(
        __name__,
        globals(),
        {
            "._apply": (
                "MarkedMessage",
                "apply_marking",
                "combine_markings",
                "convert_marking",
                "resolve_marking",
            ),
            "._check": (
                "CheckResult",
                "check_marking",
                "level_rank",
            ),
            "._list": (
                "ListedMarking",
                "MarkingsList",
                "default_markings",
                "parse_markings_list",
            ),
            "._model": (
                "Caveat",
                "Defect",
                "Marking",
            ),
            "._parse": (
                "SubjectMarking",
                "parse_header",
                "parse_subject_tag",
                "scan_subject",
            ),
            "._read": (
                "MessageMarking",
                "read_marking",
            ),
            "._subject": (
                "decode_subject",
                "strip_markings",
            ),
        },
    )

__all__ = [
    "Caveat",
    "CheckResult",
    "Defect",
    "ListedMarking",
    "MarkedMessage",
    "Marking",
    "MarkingsList",
    "MessageMarking",
    "SubjectMarking",
    "apply_marking",
    "check_marking",
    "combine_markings",
    "convert_marking",
    "decode_subject",
    "default_markings",
    "level_rank",
    "parse_header",
    "parse_markings_list",
    "parse_subject_tag",
    "read_marking",
    "resolve_marking",
    "scan_subject",
    "strip_markings",
]
