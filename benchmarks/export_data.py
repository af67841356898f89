"""Deterministic ActiveSync contacts and calendar items for the export benchmarks.

Shaped like reference export.md §5.2: contacts with name, three phones,
e-mail, address, company and a note; events in Europe/Berlin with an
organiser, three attendees, a description with emoji and umlauts, one in
five recurring (with a deleted and a moved occurrence).
"""

from __future__ import annotations

import base64
import random
import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["BERLIN_BLOB", "contacts", "events"]

_FIRST = ["Anna", "Jürgen", "Zoë", "Li", "Oluwaseun", "María", "Søren", "Chloé", "Aarav", "Émile"]
_LAST = ["Müller", "O'Brien", "Nguyễn", "Smith", "Kowalski", "García", "Øster", "Dubois"]
_WORDS = ["budget", "review", "plan", "🎉", "Größe", "sync", "roadmap", "café", "Q3", "launch"]


def _berlin_blob() -> str:
    # [MS-ASDTYPE] §2.7.6: Bias -60, DST last Sunday of March 02:00 to last
    # Sunday of October 03:00, DaylightBias -60.
    name = "W. Europe Standard Time".encode("utf-16-le").ljust(64, b"\0")
    raw = struct.pack("<l", -60) + name + struct.pack("<8H", 0, 10, 0, 5, 3, 0, 0, 0)
    raw += struct.pack("<l", 0) + name + struct.pack("<8H", 0, 3, 0, 5, 2, 0, 0, 0)
    raw += struct.pack("<l", -60)
    return base64.b64encode(raw).decode("ascii")


BERLIN_BLOB = _berlin_blob()


def contacts(count: int, seed: int = 6) -> Iterator[dict[str, Any]]:
    """``count`` contacts, the same for the same seed."""
    rng = random.Random(seed)
    for number in range(count):
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        yield {
            "ServerId": f"2:{number}",
            "FirstName": first,
            "LastName": last,
            "MobilePhoneNumber": f"+49 170 {rng.randrange(10**7):07d}",
            "BusinessPhoneNumber": f"+49 30 {rng.randrange(10**7):07d}",
            "HomePhoneNumber": f"+49 89 {rng.randrange(10**7):07d}",
            "Email1Address": f"{first.lower()}.{number}@example.com",
            "BusinessAddressStreet": f"Hauptstraße {rng.randrange(1, 200)}",
            "BusinessAddressCity": "Berlin",
            "BusinessAddressPostalCode": f"{rng.randrange(10000, 99999)}",
            "BusinessAddressCountry": "Germany",
            "CompanyName": "ACME, Inc; Europe",
            "JobTitle": "Engineer",
            "Body": " ".join(rng.choices(_WORDS, k=12)) + "\nSecond line, with; punctuation",
        }


def events(count: int, seed: int = 6) -> Iterator[dict[str, Any]]:
    """``count`` calendar items, the same for the same seed."""
    rng = random.Random(seed)
    base = datetime(2025, 1, 6, 8, 0, tzinfo=UTC)
    for number in range(count):
        start = base + timedelta(days=rng.randrange(365), hours=rng.randrange(10))
        end = start + timedelta(minutes=rng.choice([30, 60, 90]))
        record: dict[str, Any] = {
            "UID": f"040000008200E00074C5B7101A82E008{number:016X}",
            "DtStamp": "20250101T000000Z",
            "Subject": " ".join(rng.choices(_WORDS, k=4)),
            "StartTime": f"{start:%Y%m%dT%H%M%SZ}",
            "EndTime": f"{end:%Y%m%dT%H%M%SZ}",
            "Timezone": BERLIN_BLOB,
            "Location": f"Raum {rng.randrange(100)}, Gebäude Süd",
            "Body": " ".join(rng.choices(_WORDS, k=20)) + "\nÄnderungen 🎉 willkommen",
            "OrganizerName": "Chef, Die",
            "OrganizerEmail": "chef@example.com",
            "Attendees": [
                {
                    "Email": f"user{n}@example.com",
                    "Name": f"User {n}",
                    "AttendeeType": 1,
                    "AttendeeStatus": rng.choice([0, 2, 3, 4]),
                }
                for n in range(3)
            ],
            "BusyStatus": 2,
            "Sensitivity": 0,
            "Reminder": 15,
        }
        if number % 5 == 0:
            weekly = timedelta(days=7)
            record["Recurrence"] = {
                "Type": 1,
                "Interval": 1,
                "Occurrences": 10,
                "DayOfWeek": 1 << ((start.weekday() + 1) % 7),
            }
            record["Exceptions"] = [
                {"ExceptionStartTime": f"{start + weekly:%Y%m%dT%H%M%SZ}", "Deleted": 1},
                {
                    "ExceptionStartTime": f"{start + 2 * weekly:%Y%m%dT%H%M%SZ}",
                    "StartTime": f"{start + 2 * weekly + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
                    "EndTime": f"{end + 2 * weekly + timedelta(hours=1):%Y%m%dT%H%M%SZ}",
                },
            ]
        yield record
