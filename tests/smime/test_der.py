"""The DER writer, checked against asn1crypto's decoder and encoder."""

from __future__ import annotations

from datetime import UTC, datetime

from asn1crypto import core  # type: ignore[import-untyped]  # no stubs
from hypothesis import given
from hypothesis import strategies as st

from mailcore.smime import _der


@given(st.integers(min_value=-(2**200), max_value=2**200))
def test_integer_matches_asn1crypto(value: int) -> None:
    assert _der.integer(value) == core.Integer(value).dump()


@given(st.binary(max_size=70000))
def test_octet_string_lengths(value: bytes) -> None:
    encoded = _der.octet_string(value)
    assert encoded == core.OctetString(value).dump()
    assert core.OctetString.load(encoded).native == value


@given(
    st.integers(min_value=0, max_value=2),
    st.integers(min_value=0, max_value=39),
    st.lists(st.integers(min_value=0, max_value=2**64), max_size=8),
)
def test_oid_matches_asn1crypto(first: int, second: int, rest: list[int]) -> None:
    dotted = ".".join(str(arc) for arc in [first, second, *rest])
    assert _der.oid(dotted) == core.ObjectIdentifier(dotted).dump()


@given(st.lists(st.binary(max_size=20), max_size=6))
def test_set_of_is_sorted_and_sequence_keeps_order(items: list[bytes]) -> None:
    encoded = [_der.octet_string(item) for item in items]
    assert (
        _der.sequence(*encoded)
        == core.SequenceOf([core.OctetString(i) for i in items], spec=core.OctetString).dump()
    )
    decoded = core.SetOf.load(_der.set_of(*encoded), spec=core.OctetString)
    assert [x.dump() for x in decoded] == sorted(encoded)


def test_times_and_small_types() -> None:
    moment = datetime(2026, 11, 21, 12, 0, 0, tzinfo=UTC)
    assert _der.utc_time(moment) == core.UTCTime(moment).dump()
    assert _der.generalized_time(moment) == core.GeneralizedTime(moment).dump()
    assert _der.signing_time(datetime(2051, 1, 1, tzinfo=UTC))[0] == 0x18
    assert _der.null() == core.Null().dump()
    assert _der.boolean(True) == core.Boolean(True).dump()
    assert _der.context(0, _der.integer(5)) == b"\xa0\x03\x02\x01\x05"
