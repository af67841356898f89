"""LookupCache: lifetimes, and certificates that stop being valid while cached."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailcore.directory import LookupCache
from mailcore.directory._model import LookupResult
from mailcore.smime.pki import TestPKI

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _found(not_before: datetime, not_after: datetime) -> LookupResult:
    pki = TestPKI(now=NOW)
    identity = pki.issue("ann@example.com", "p256", not_before=not_before, not_after=not_after)
    return LookupResult("ann@example.com", "found", identity.certificate)


def test_a_certificate_is_returned_only_inside_its_validity() -> None:
    result = _found(NOW - timedelta(days=1), NOW + timedelta(days=1))
    cache = LookupCache(positive_ttl=10**9, negative_ttl=10)
    cache.put(result)
    assert cache.get("ann@example.com", NOW) is result
    # Expired since it was cached: not returned, so the directory is asked again.
    assert cache.get("ann@example.com", NOW + timedelta(days=2)) is None
    # Not valid yet (a clock moved back).
    assert cache.get("ann@example.com", NOW - timedelta(days=2)) is None
    # The edges are inside (RFC 5280 §4.1.2.5: both times inclusive).
    certificate = result.certificate
    assert certificate is not None
    assert cache.get("ann@example.com", certificate.not_valid_after_utc) is result
    assert cache.get("ann@example.com", certificate.not_valid_before_utc) is result


def test_found_and_not_found_answers_have_their_own_lifetimes() -> None:
    clock = [0.0]
    cache = LookupCache(positive_ttl=60, negative_ttl=5, clock=lambda: clock[0])
    found = _found(NOW - timedelta(days=1), NOW + timedelta(days=1))
    missing = LookupResult("bob@example.com", "not_found", None)
    cache.put(found)
    cache.put(missing)
    clock[0] = 4.0
    assert cache.get("bob@example.com", NOW) is missing
    clock[0] = 6.0
    assert cache.get("bob@example.com", NOW) is None
    assert cache.get("ann@example.com", NOW) is found
    clock[0] = 61.0
    assert cache.get("ann@example.com", NOW) is None
    assert len(cache) == 0


def test_the_oldest_entries_go_first() -> None:
    cache = LookupCache(positive_ttl=60, negative_ttl=60, max_entries=3)
    for number in range(5):
        cache.put(LookupResult(f"p{number}@example.com", "not_found", None))
    assert len(cache) == 3
    assert cache.get("p0@example.com", NOW) is None
    assert cache.get("p4@example.com", NOW) is not None
