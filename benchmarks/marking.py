"""Protective-marking benchmarks (issue: foundation and markings).

Peers are what a user would write with the standard library alone: parse the
message with ``email`` and pull the marking out with a regex, or edit an
``EmailMessage`` and serialise it again.
"""

from __future__ import annotations

import email
import email.policy
import itertools
import re
from collections.abc import Callable

from benchmarks._harness import Benchmark, Goal
from mailcore.marking import apply_marking, parse_header, read_marking
from mailcore.policy import Policy

__all__ = ["BENCHMARKS"]

_ORIGINS = [f"user{n}@agency{n % 7}.gov.au" for n in range(64)]

# A realistic mix: canonical 2024.1 headers (most mail), legacy 2012.3 with
# DLM, free text (NOTE, EXPIRES events with escapes), and lenient forms
# (no space after commas, wrong case, regex order), each with its own ORIGIN
# so that nothing can be served from a cache.
_SHAPES = [
    "VER=2024.1, NS=gov.au, SEC=OFFICIAL, ORIGIN={o}",
    "VER=2024.1, NS=gov.au, SEC=OFFICIAL:Sensitive, ACCESS=Personal-Privacy, ORIGIN={o}",
    "VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=SH:CABINET, ORIGIN={o}",
    "VER=2018.4, NS=gov.au, SEC=UNOFFICIAL, ORIGIN={o}",
    "VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=RI:AUSTEO, ACCESS=Legal-Privilege, ORIGIN={o}",
    "VER=2012.3, NS=gov.au, SEC=PROTECTED, DLM=Sensitive:Legal, ORIGIN={o}",
    "VER=2024.1, NS=gov.au, SEC=PROTECTED, EXPIRES=2027-07-01, DOWNTO=OFFICIAL, "
    "NOTE=Budget\\, draft 3, ORIGIN={o}",
    "VER=2012.3,NS=gov.au,SEC=UNCLASSIFIED,DLM=For-Official-Use-Only,ORIGIN={o}",
]
HEADERS_MIXED = [shape.format(o=o) for o, shape in zip(_ORIGINS, itertools.cycle(_SHAPES))]
HEADERS_CANONICAL = [_SHAPES[n % 5].format(o=o) for n, o in enumerate(_ORIGINS)]

_HEADER = (
    "VER=2024.1, NS=gov.au, SEC=PROTECTED, CAVEAT=SH:CABINET, ORIGIN=jo.citizen@agency.gov.au"
)


def message_20kb() -> bytes:
    """A 20 KB text message with a consistent header and subject marking."""
    head = (
        "Received: from mx1.agency.gov.au (mx1.agency.gov.au [192.0.2.10])\r\n"
        "\tby gw.agency.gov.au with ESMTPS id 4F2a; Sat, 21 Nov 2026 01:02:03 +1100\r\n"
        "Received: from [192.0.2.77] by mx1.agency.gov.au; Sat, 21 Nov 2026 01:02:01 +1100\r\n"
        "From: Jo Citizen <jo.citizen@agency.gov.au>\r\n"
        "To: Planning Team <planning@agency.gov.au>\r\n"
        "Subject: Re: Planning for the budget round [SEC=PROTECTED, CAVEAT=SH:CABINET]\r\n"
        "Date: Sat, 21 Nov 2026 01:02:00 +1100\r\n"
        "Message-ID: <20261121010200.4F2a@agency.gov.au>\r\n"
        f"X-Protective-Marking: {_HEADER}\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 7bit\r\n"
        "\r\n"
    )
    line = "The committee will meet on Tuesday to go through the figures again.\r\n"
    body = line * ((20 * 1024 - len(head)) // len(line))
    return (head + body).encode("ascii")


MESSAGE = message_20kb()
_SEC = re.compile(r"SEC=([^,\]]+)")
_PAIR = re.compile(r"([A-Za-z]+)=((?:\\.|[^,])*)")
_POLICY = Policy()


def _peer_show() -> object:
    value = email.message_from_bytes(MESSAGE)["X-Protective-Marking"]
    return _SEC.search(value)


def _peer_apply() -> bytes:
    message = email.message_from_bytes(MESSAGE, policy=email.policy.SMTP)
    del message["X-Protective-Marking"]
    message["X-Protective-Marking"] = (
        "VER=2024.1, NS=gov.au, SEC=PROTECTED, ORIGIN=jo.citizen@agency.gov.au"
    )
    subject = re.sub(r"\s*\[SEC=[^\]]*\]", "", str(message["Subject"]))
    message.replace_header("Subject", subject + " [SEC=PROTECTED]")
    return message.as_bytes()


# Hostile input (hardening issue item 9): the slowest shape found, a 4 MB
# Subject of Q encoded-words each decoding to "[SEC=".  The goal is 20 MB/s,
# i.e. 5 reads of it per second.
HOSTILE_MB = 4
MESSAGE_HOSTILE = (
    "From: a@agency.gov.au\r\nSubject: "
    + " ".join(["=?utf-8?q?=5BSEC=3D?="] * (HOSTILE_MB * 1024 * 1024 // 22))
    + "\r\n\r\nbody\r\n"
).encode("ascii")


def _peer_hostile() -> object:
    # What _peer_show does, on the same message: the raw Subject and a regex
    # (no decoding; the stdlib's policy=default decoder exhausts memory on it).
    return _SEC.search(email.message_from_bytes(MESSAGE_HOSTILE)["Subject"])


def _cycle(values: list[str]) -> Callable[[], str]:
    return itertools.cycle(values).__next__


_next_mixed = _cycle(HEADERS_MIXED)
_next_canonical = _cycle(HEADERS_CANONICAL)
_next_peer = _cycle(HEADERS_MIXED)


def _peer_header() -> object:
    # The stdlib's own header parsing plus a naive split into TAG=value.
    value = email.message_from_string("X-Protective-Marking: " + _next_peer() + "\n\n")[
        "X-Protective-Marking"
    ]
    return dict(_PAIR.findall(value))


BENCHMARKS = [
    Benchmark(
        "marking.show.20kB",
        "read_marking(message).to_dict() on a 20 KB message (JSON A)",
        lambda: read_marking(MESSAGE).to_dict(),
        "email.message_from_bytes + regex",
        _peer_show,
        Goal(ratio=5.0),
    ),
    Benchmark(
        "marking.parse_header.mixed",
        "parse_header over 64 distinct real-world headers (8 shapes, lenient)",
        lambda: parse_header(_next_mixed()),
        "email header + naive split",
        _peer_header,
        Goal(rate=100_000),
    ),
    Benchmark(
        "marking.parse_header.canonical",
        "parse_header over 64 distinct canonical 2018+/2024 headers",
        lambda: parse_header(_next_canonical()),
        "email header + naive split",
        _peer_header,
        Goal(rate=100_000),
    ),
    Benchmark(
        "marking.apply.20kB",
        "apply_marking(message, 'PROTECTED') on a 20 KB message",
        lambda: apply_marking(MESSAGE, "PROTECTED", policy=_POLICY),
        "EmailMessage edit + as_bytes",
        _peer_apply,
        Goal(rate=10_000),
    ),
    Benchmark(
        "marking.show.hostile-4MB",
        f"read_marking(message).to_dict() on a {HOSTILE_MB} MB hostile Subject "
        "(encoded-words of '[SEC='); goal >= 20 MB/s, i.e. >= 5 reads/s",
        lambda: read_marking(MESSAGE_HOSTILE).to_dict(),
        "email.message_from_bytes + regex",
        _peer_hostile,
        Goal(rate=20 / HOSTILE_MB),
    ),
]
