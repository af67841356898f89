"""A cache keyed by object identity, for immutable objects used again and again.

``functools.lru_cache`` keyed by an ``x509.Certificate`` hashes the whole
certificate (its DER) on every call, and compares DER on a hit: about a
microsecond each time.  A gateway passes the very same certificate objects
(from its directory cache or key store) for every message, so a first look
by identity finds them for the price of a dictionary lookup; anything else
falls through to the caller's own cache.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["IdentityCache"]

_Key = TypeVar("_Key")
_Value = TypeVar("_Value")


class IdentityCache(Generic[_Key, _Value]):
    """``compute(key)``, remembered for the very object ``key``.

    Entries hold a strong reference to their key, so an ``id`` is never
    reused while its entry exists.  When ``limit`` entries are held the
    cache starts again from empty (cheap, and enough for working sets
    that are small by nature, like the certificates of one gateway).
    Safe for threads: dictionary reads and writes are atomic, and a value
    computed twice by two threads at once is the same value.
    """

    __slots__ = ("_compute", "_entries", "_limit")

    def __init__(self, compute: Callable[[_Key], _Value], *, limit: int = 1024) -> None:
        self._compute = compute
        self._entries: dict[int, tuple[_Key, _Value]] = {}
        self._limit = limit

    def __call__(self, key: _Key) -> _Value:
        entry = self._entries.get(id(key))
        if entry is not None and entry[0] is key:
            return entry[1]
        value = self._compute(key)  # may raise: failures are not remembered
        if len(self._entries) >= self._limit:
            self._entries = {}
        self._entries[id(key)] = (key, value)
        return value

    def clear(self) -> None:
        """Forget every entry."""
        self._entries = {}
