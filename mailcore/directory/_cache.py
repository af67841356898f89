"""A small thread-safe cache with separate lifetimes for found and not-found answers."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime

from mailcore.directory._model import LookupResult

__all__ = ["LookupCache"]


class LookupCache:
    """Remembers :class:`LookupResult` values by address.

    A found certificate is kept ``positive_ttl`` seconds, a missing one
    ``negative_ttl`` seconds (shorter by default: a person who just enrolled
    should not wait an hour).  A cached certificate that has expired meanwhile
    is not returned.  At most ``max_entries`` addresses, oldest dropped first.
    """

    def __init__(
        self,
        *,
        positive_ttl: float,
        negative_ttl: float,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._positive_ttl = positive_ttl
        self._negative_ttl = negative_ttl
        self._max_entries = max_entries
        self._clock = clock
        # address -> (expiry on the clock, result, the certificate's validity
        # window or None): the window is read from the certificate once, at
        # put, not on every get.
        self._entries: OrderedDict[
            str, tuple[float, LookupResult, tuple[datetime, datetime] | None]
        ] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, address: str, at: datetime) -> LookupResult | None:
        entry = self._entries.get(address)  # a dict read is atomic under the GIL
        if entry is None:
            return None
        expires, result, window = entry
        if expires < self._clock():
            with self._lock:
                self._entries.pop(address, None)
            return None
        if window is not None and not window[0] <= at <= window[1]:
            return None  # expired (or, with a moved clock, not yet valid) since cached
        return result

    def put(self, result: LookupResult) -> None:
        ttl = self._positive_ttl if result.found else self._negative_ttl
        if ttl <= 0:
            return
        certificate = result.certificate
        window = (
            None
            if certificate is None
            else (certificate.not_valid_before_utc, certificate.not_valid_after_utc)
        )
        with self._lock:
            self._entries[result.address] = (self._clock() + ttl, result, window)
            self._entries.move_to_end(result.address)
            while len(self._entries) > self._max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
