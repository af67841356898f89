"""Hypothesis strategies for IRM licenses and labels.

Built from MS-ASRM's limits (§2.2.2: string lengths, the nine booleans)
and XML 1.0's character set, not from mailcore's tables.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from mailcore.irm import LicenseView, MailAction, SensitivityLabel

# The nine ActiveSync booleans as single flags.
ACTIONS = [
    MailAction.EDIT,
    MailAction.EXPORT,
    MailAction.EXTRACT,
    MailAction.FORWARD,
    MailAction.MODIFY_RECIPIENTS,
    MailAction.PRINT,
    MailAction.PROGRAMMATIC_ACCESS,
    MailAction.REPLY,
    MailAction.REPLY_ALL,
]

# XML 1.0 Char minus the C0/C1 controls (tab, LF and CR are allowed).
xml_text_char = st.characters(
    codec="utf-8", exclude_categories=("Cs", "Cc"), exclude_characters="\ufffe\uffff"
) | st.sampled_from("\t\n\r")


def xml_text(max_size: int) -> st.SearchStrategy[str]:
    return st.text(xml_text_char, min_size=1, max_size=max_size)


def action_sets() -> st.SearchStrategy[MailAction]:
    def combine(flags: list[MailAction]) -> MailAction:
        out = MailAction(0)
        for flag in flags:
            out |= flag
        return out

    return st.lists(st.sampled_from(ACTIONS), unique=True).map(combine)


def valid_actions() -> st.SearchStrategy[MailAction]:
    # MS-ASRM §2.2.2.3: ExportAllowed needs EditAllowed.
    return action_sets().map(lambda a: a | MailAction.EDIT if MailAction.EXPORT in a else a)


millisecond_times = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(9998, 12, 31)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000, tzinfo=UTC))

expiries = st.none() | millisecond_times


@st.composite
def licenses(draw: st.DrawFn, allowed: st.SearchStrategy[MailAction] | None = None) -> LicenseView:
    return LicenseView(
        template_id=str(draw(st.uuids())),
        template_name=draw(xml_text(256)),
        template_description=draw(xml_text(300)),
        content_owner=draw(xml_text(320)),
        owner=draw(st.booleans()),
        allowed=draw(allowed if allowed is not None else valid_actions()),
        expires=draw(expiries),
    )


# Label values: printable, no ';', no surrounding space (what the writer allows).
label_value = st.text(
    st.characters(
        codec="utf-8", exclude_categories=("Cs", "Cc", "Zl", "Zp"), exclude_characters=";"
    ),
    max_size=40,
).map(str.strip)


@st.composite
def labels(draw: st.DrawFn) -> SensitivityLabel:
    offset = draw(st.integers(-14 * 60, 14 * 60))
    zone = UTC if offset == 0 else __import__("datetime").timezone(timedelta(minutes=offset))
    set_date = draw(
        st.none()
        | st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
            lambda d: d.replace(tzinfo=zone)
        )
    )
    extra_names = draw(
        st.lists(st.from_regex(r"\AX[A-Za-z0-9_]{0,12}\Z"), unique_by=str.lower, max_size=3)
    )
    return SensitivityLabel(
        label_id=str(draw(st.uuids())),
        enabled=draw(st.booleans()),
        site_id=str(draw(st.uuids())),
        set_date=set_date,
        method=draw(st.none() | st.sampled_from(["Standard", "Privileged"])),
        name=draw(st.none() | label_value),
        content_bits=draw(st.none() | st.integers(0, 15)),
        action_id=draw(st.none() | st.uuids().map(str)),
        extra=tuple((name, draw(label_value)) for name in extra_names),
    )
