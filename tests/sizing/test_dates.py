"""Received-time parsers against independent references (time.strptime, RFC examples)."""

from __future__ import annotations

import calendar
import time

from hypothesis import given
from hypothesis import strategies as st

from mailcore.sizing._dates import envelope_time, imap_date_time, rfc5322_time


@given(st.integers(min_value=0, max_value=4_000_000_000))
def test_envelope_matches_strptime(epoch: int) -> None:
    text = time.asctime(time.gmtime(epoch))
    reference = calendar.timegm(time.strptime(text, "%a %b %d %H:%M:%S %Y"))
    assert envelope_time(f"From someone@example.com {text}".encode()) == reference
    assert envelope_time(f"From MAILER-DAEMON {text} extra info".encode()) == reference


def test_envelope_variants() -> None:
    base = calendar.timegm((2022, 8, 7, 11, 40, 37))
    assert envelope_time(b"From MAILER-DAEMON Sun Aug  7 11:40:37 2022 extra info") == base
    assert envelope_time(b"From a Sun Aug  7 13:40:37 +0200 2022") == base
    assert envelope_time(b"From a Sun Aug  7 11:40 2022") == base - 37
    assert envelope_time(b"From Sun Aug  7 11:40:37 2022") == base  # no sender
    # A Y2K-bug year is still a date (year 102), so the line is still a separator.
    assert envelope_time(b"From a Tue Jun  4 10:00:00 102") == calendar.timegm(
        (102, 6, 4, 10, 0, 0)
    )
    for bad in (
        b"From time to time",
        b"From a Sun Aug 32 11:40:37 2022",
        b"From a Sun Feb 30 11:40:37 2022",
        b"From a Sun Aug  7 25:40:37 2022",
        b"From a Sun Aug  7 11:40:37 20222",
        b"From a Sun Foo  7 11:40:37 2022",
        b"From ",
    ):
        assert envelope_time(bad) is None, bad


def test_rfc5322_and_imap_dates() -> None:
    # RFC 5322 appendix A.1.1's date, and its obsolete two-digit year form.
    assert rfc5322_time(b"Fri, 21 Nov 1997 09:55:06 -0600") == calendar.timegm(
        (1997, 11, 21, 15, 55, 6)
    )
    assert rfc5322_time("21 Nov 97 09:55:06 GMT") == calendar.timegm((1997, 11, 21, 9, 55, 6))
    assert rfc5322_time(b"not a date") is None
    assert rfc5322_time(b"") is None
    assert imap_date_time(b'"17-Jul-1996 02:44:25 -0700"') == calendar.timegm(
        (1996, 7, 17, 9, 44, 25)
    )
    assert imap_date_time(" 1-Jan-2020 00:00:00 +0000") == calendar.timegm((2020, 1, 1, 0, 0, 0))
    assert imap_date_time("17-Foo-1996 02:44:25 -0700") is None
    assert imap_date_time("garbage") is None
