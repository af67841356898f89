"""Hypothesis strategies for protective markings and messages.

Everything here is built from the EPMS texts (reference note §2 for 2024.1,
§4 for 2012.3), not from mailcore's own tables, so that a property can catch
a vocabulary or grammar mistake in the library.
"""

from __future__ import annotations

import string

from hypothesis import strategies as st

from mailcore.marking import Caveat, Marking

__all__ = [
    "ACCESS_2024",
    "DLM_2012",
    "SEC_2012",
    "SEC_2024",
    "bodies",
    "header_text",
    "markings_2012",
    "markings_2024",
    "messages",
    "simple_emails",
    "subject_text",
    "subjects",
]

# EPMS 2024 Table 5, lowest first (Table 1 orders them).
SEC_2024: tuple[str, ...] = (
    "UNOFFICIAL",
    "OFFICIAL",
    "OFFICIAL:Sensitive",
    "PROTECTED",
    "SECRET",
    "TOP-SECRET",
)
# EPMS 2024 Table 9.
ACCESS_2024: tuple[str, ...] = ("Personal-Privacy", "Legal-Privilege", "Legislative-Secrecy")
# EPMS 2024 Table 7: special-handling values without free text.
SH_2024: tuple[str, ...] = (
    "NATIONAL-CABINET",
    "CABINET",
    "ORCON",
    "DELICATE-SOURCE",
    "ACCOUNTABLE-MATERIAL",
)
# EPMS 2012.3 §2.11.4, lowest first.
SEC_2012: tuple[str, ...] = (
    "UNOFFICIAL",
    "UNCLASSIFIED",
    "PROTECTED",
    "CONFIDENTIAL",
    "SECRET",
    "TOP-SECRET",
)
# EPMS 2012.3 DLM values (reference note §4.2).
DLM_2012: tuple[str, ...] = (
    "For-Official-Use-Only",
    "Sensitive",
    "Sensitive:Personal",
    "Sensitive:Legal",
    "Sensitive:Cabinet",
)

# EPMS 2024 Table 3 safe-char plus the two escaped specials: printable ASCII.
_PRINTABLE = "".join(chr(c) for c in range(32, 127))

# Free text (NOTE, codewords, FG, EXCLUSIVE-FOR, EXPIRES events): 1 to 128
# printable characters; "," and "\" are drawn often because they need escapes.
header_text = st.text(
    alphabet=st.one_of(st.sampled_from(",\\ "), st.sampled_from(_PRINTABLE)),
    min_size=1,
    max_size=128,
)

# Text carried in a subject tag as well.  "]" is a safe-char, so the subject
# form is ambiguous when a "]" inside a value is followed by white space or
# "[" (reference note §9 item 23); mailcore documents that such a "]" ends
# the tag.  Those values are left out of subject round trips.
subject_text = header_text.filter(lambda t: "] " not in t and "][" not in t)

_ATEXT = string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~-"
_dot_atom = st.lists(
    st.text(alphabet=_ATEXT, min_size=1, max_size=10), min_size=1, max_size=3
).map(".".join)
# EPMS 2024 Table 4: simple-email = dot-atom-text "@" dot-atom-text.
simple_emails = st.builds(lambda local, domain: f"{local}@{domain}", _dot_atom, _dot_atom)

_country_codes = st.lists(
    st.text(alphabet=string.ascii_uppercase, min_size=3, max_size=3), min_size=1, max_size=4
).map("/".join)

_dates = st.builds(
    lambda y, m, d: f"{y:04d}-{m:02d}-{d:02d}",
    st.integers(2000, 2099),
    st.integers(1, 12),
    st.integers(1, 28),
)
_times = st.builds(
    lambda h, mi, s, frac, zone: f"T{h:02d}:{mi:02d}:{s:02d}{frac}{zone}",
    st.integers(0, 23),
    st.integers(0, 59),
    st.integers(0, 59),
    st.sampled_from(["", ".5", ".123"]),
    st.sampled_from(["Z", "+10:00", "-05:30"]),
)
# EPMS 2024 Table 11: expires-date = full-date ["T" full-time], or an event.
_gen_dates = st.one_of(_dates, st.builds(str.__add__, _dates, _times))


def _caveats_2024(sec: str) -> st.SearchStrategy[tuple[Caveat, ...]]:
    rank = SEC_2024.index(sec)
    if rank >= SEC_2024.index("PROTECTED"):
        one = st.one_of(
            st.builds(Caveat, st.just("C"), subject_text),
            st.builds(Caveat, st.just("FG"), subject_text),
            st.builds(Caveat, st.just("RI"), st.sampled_from(["AUSTEO", "AGAO"])),
            st.builds(Caveat, st.just("RI"), _country_codes.map("REL/".__add__)),
            st.builds(Caveat, st.just("SH"), st.sampled_from(SH_2024)),
            st.builds(Caveat, st.just("SH"), subject_text.map("EXCLUSIVE-FOR".__add__)),
        )
    elif sec == "OFFICIAL:Sensitive":
        # Table 1: NATIONAL-CABINET from OFFICIAL:Sensitive, others from PROTECTED.
        one = st.just(Caveat("SH", "NATIONAL-CABINET"))
    else:
        return st.just(())
    return st.lists(one, max_size=3, unique=True).map(tuple)


@st.composite
def markings_2024(draw: st.DrawFn) -> Marking:
    """A marking that is valid under EPMS 2024.1 (ABNF and Table 1 rules)."""
    sec = draw(st.sampled_from(SEC_2024))
    rank = SEC_2024.index(sec)
    access: tuple[str, ...] = ()
    if rank >= SEC_2024.index("OFFICIAL:Sensitive"):
        access = tuple(draw(st.lists(st.sampled_from(ACCESS_2024), unique=True, max_size=3)))
    expires = downto = None
    if rank > 0 and draw(st.booleans()):
        expires = draw(st.one_of(_gen_dates, subject_text))
        downto = draw(st.sampled_from(SEC_2024[:rank]))  # lower than SEC
    marking = Marking(
        sec=sec,
        caveats=draw(_caveats_2024(sec)),
        access=access,
        expires=expires,
        downto=downto,
        note=draw(st.none() | header_text),
        origin=draw(simple_emails),
        version="2024.1",
        namespace="gov.au",
    )
    return marking


@st.composite
def markings_2012(draw: st.DrawFn) -> Marking:
    """A 2012.3 marking with a DLM (SEC optional, no ACCESS, SC caveats)."""
    sec = draw(st.sampled_from((None, "UNOFFICIAL", "UNCLASSIFIED", "PROTECTED")))
    caveats: tuple[Caveat, ...] = ()
    if sec == "PROTECTED":
        caveats = tuple(
            draw(
                st.lists(
                    st.one_of(
                        st.builds(Caveat, st.sampled_from(["C", "SC"]), subject_text),
                        st.builds(Caveat, st.just("RI"), st.sampled_from(["AUSTEO", "AGAO"])),
                        st.builds(Caveat, st.just("SH"), st.sampled_from(SH_2024)),
                    ),
                    max_size=3,
                    unique=True,
                )
            )
        )
    expires = downto = None
    if sec is not None and sec != "UNOFFICIAL" and draw(st.booleans()):
        expires = draw(st.one_of(_gen_dates, subject_text))
        downto = draw(st.sampled_from(SEC_2012[: SEC_2012.index(sec)]))
    return Marking(
        sec=sec,
        dlm=draw(st.sampled_from(DLM_2012)),
        caveats=caveats,
        expires=expires,
        downto=downto,
        note=draw(st.none() | header_text),
        origin=draw(simple_emails),
        version="2012.3",
        namespace="gov.au",
    )


# -- messages ------------------------------------------------------------------

_words = st.text(
    alphabet=st.characters(
        codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\x7f"
    ),
    min_size=1,
    max_size=12,
)
_subject_pieces = st.one_of(
    _words,
    st.sampled_from(
        [
            "Re:",
            "RE:",
            "Fwd:",
            "AW:",
            "[SEC=OFFICIAL]",
            "[SEC=PROTECTED, CAVEAT=SH:CABINET]",
            "[sec=official:sensitive]",
            "[ SEC=UNOFFICIAL ]",
            "[DLM=Sensitive]",
            "[SEC=PROTEC",
            "[SEC=",
            "[",
            "]",
            "[SEC=SECRET, CAVEAT=C:A]B]",
            "=?UTF-8?Q?caf=C3=A9?=",
            "=?UTF-8?Q?Plans_[SEC=OFFICIAL]?=",
            "=?utf-8?B?W1NFQz1QUk9URUNURURd?=",
        ]
    ),
)
# Subjects as people and tools write them: words, reply prefixes, markings
# anywhere (whole, lowercase, cut off, inside encoded-words).
subjects = st.lists(_subject_pieces, max_size=8).map(" ".join)

# Bodies: arbitrary bytes, and lines that look like header fields or
# markings, with either line ending.
_body_lines = st.one_of(
    st.binary(max_size=40),
    st.sampled_from(
        [
            b"From: mallory@example.com",
            b"Subject: [SEC=TOP-SECRET] not the subject",
            b"X-Protective-Marking: VER=2024.1, NS=gov.au, SEC=SECRET, ORIGIN=m@e.x",
            b" folded-looking line",
            b"",
            b"--boundary",
            b"\x00\xff\xfe",
        ]
    ),
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.builds(
        lambda lines, sep: sep.join(lines),
        st.lists(_body_lines, max_size=10),
        st.sampled_from([b"\r\n", b"\n"]),
    ),
)


@st.composite
def messages(draw: st.DrawFn) -> tuple[bytes, bytes, bytes]:
    """(message, header block, body) with a From, a subject and a body."""
    sep = draw(st.sampled_from([b"\r\n", b"\n"]))
    subject = draw(subjects)
    lines = [
        b"From: Jo Citizen <jo@agency.gov.au>",
        b"To: bob@example.com,",
        b"  carol@example.com",
        b"Subject: " + subject.encode("utf-8"),
        b"X-Mailer:   odd  spacing  ",
    ]
    header = sep.join(lines) + sep
    body = draw(bodies)
    return header + sep + body, header, body
