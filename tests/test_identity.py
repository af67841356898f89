"""IdentityCache: remembered per object, never confused between objects."""

from __future__ import annotations

import threading

import pytest

from mailcore._identity import IdentityCache


class _Thing:
    """Equal to any other _Thing: the cache must still tell them apart."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Thing)

    def __hash__(self) -> int:
        return 0


def test_a_value_is_computed_once_per_object() -> None:
    calls: list[str] = []

    def compute(thing: _Thing) -> str:
        calls.append(thing.name)
        return thing.name.upper()

    cache: IdentityCache[_Thing, str] = IdentityCache(compute)
    first, second = _Thing("a"), _Thing("b")
    assert [cache(first), cache(first), cache(second), cache(first)] == ["A", "A", "B", "A"]
    assert calls == ["a", "b"]  # equal objects are still different keys


def test_an_id_reused_by_a_new_object_is_not_confused() -> None:
    cache: IdentityCache[_Thing, str] = IdentityCache(lambda thing: thing.name)
    # The cache holds its keys, so ids cannot be reused while they are
    # remembered; after a reset they may be, and must be computed afresh.
    for number in range(50):
        thing = _Thing(str(number))
        assert cache(thing) == str(number)
        cache.clear()


def test_failures_are_not_remembered() -> None:
    attempts = []

    def compute(thing: _Thing) -> str:
        attempts.append(thing)
        if len(attempts) == 1:
            raise ValueError("first time fails")
        return "ok"

    cache: IdentityCache[_Thing, str] = IdentityCache(compute)
    thing = _Thing("x")
    with pytest.raises(ValueError):
        cache(thing)
    assert cache(thing) == "ok"
    assert len(attempts) == 2


def test_the_limit_bounds_what_is_held() -> None:
    cache: IdentityCache[_Thing, str] = IdentityCache(lambda thing: thing.name, limit=10)
    things = [_Thing(str(n)) for n in range(35)]
    assert [cache(t) for t in things] == [t.name for t in things]
    assert len(cache._entries) <= 10


def test_threads_get_the_right_value() -> None:
    cache: IdentityCache[_Thing, str] = IdentityCache(lambda thing: thing.name, limit=16)
    things = [_Thing(str(n)) for n in range(40)]
    wrong: list[str] = []

    def work() -> None:
        for _ in range(200):
            for thing in things:
                if cache(thing) != thing.name:
                    wrong.append(thing.name)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
