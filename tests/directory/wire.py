"""An independent view of LDAP's wire format for the tests.

Everything here goes through pyasn1 with ldap3's RFC 4511 module
(``ldap3.protocol.rfc4511``, to encode answers) or asn1crypto (the ASN.1 of
RFC 4511 §4.5.1 written out below, to decode requests), never through
mailcore's own encoder or decoder, so that the tests compare mailcore with
a second implementation of the same ASN.1.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from asn1crypto import core  # type: ignore[import-untyped]  # no stubs
from asn1crypto import parser as ber_parser
from ldap3.protocol import rfc4511
from pyasn1.codec.ber import encoder

NOTICE_OF_DISCONNECTION = "1.3.6.1.4.1.1466.20036"

Tree = tuple[Any, ...]


# AttributeValueAssertion
class _Assertion(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields: ClassVar[list[Any]] = [
        ("attributeDesc", core.OctetString),
        ("assertionValue", core.OctetString),
    ]


class _Substring(core.Choice):  # type: ignore[misc]  # asn1crypto is untyped
    _alternatives: ClassVar[list[Any]] = [
        ("initial", core.OctetString, {"implicit": 0}),
        ("any", core.OctetString, {"implicit": 1}),
        ("final", core.OctetString, {"implicit": 2}),
    ]


class _Substrings(core.SequenceOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = _Substring


class _SubstringFilter(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields: ClassVar[list[Any]] = [("type", core.OctetString), ("substrings", _Substrings)]


class _MatchingRuleAssertion(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields: ClassVar[list[Any]] = [
        ("matchingRule", core.OctetString, {"implicit": 1, "optional": True}),
        ("type", core.OctetString, {"implicit": 2, "optional": True}),
        ("matchValue", core.OctetString, {"implicit": 3}),
        ("dnAttributes", core.Boolean, {"implicit": 4, "default": False}),
    ]


class Filter(core.Choice):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 4511 §4.5.1 Filter, in asn1crypto (pyasn1 cannot decode ldap3's
    recursive definition of and/or)."""


class _FilterSet(core.SetOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = Filter


Filter._alternatives = [
    ("and", _FilterSet, {"implicit": 0}),
    ("or", _FilterSet, {"implicit": 1}),
    ("not", Filter, {"explicit": 2}),
    ("equalityMatch", _Assertion, {"implicit": 3}),
    ("substrings", _SubstringFilter, {"implicit": 4}),
    ("greaterOrEqual", _Assertion, {"implicit": 5}),
    ("lessOrEqual", _Assertion, {"implicit": 6}),
    ("present", core.OctetString, {"implicit": 7}),
    ("approxMatch", _Assertion, {"implicit": 8}),
    ("extensibleMatch", _MatchingRuleAssertion, {"implicit": 9}),
]


class _Enumerated(core.Enumerated):  # type: ignore[misc]  # asn1crypto is untyped
    _map: ClassVar[dict[int, str]] = {number: str(number) for number in range(4)}


class _Attributes(core.SequenceOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = core.OctetString


class SearchRequest(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 4511 §4.5.1 SearchRequest ([APPLICATION 3])."""

    class_ = 1
    tag = 3
    _fields: ClassVar[list[Any]] = [
        ("baseObject", core.OctetString),
        ("scope", _Enumerated),
        ("derefAliases", _Enumerated),
        ("sizeLimit", core.Integer),
        ("timeLimit", core.Integer),
        ("typesOnly", core.Boolean),
        ("filter", Filter),
        ("attributes", _Attributes),
    ]


class _Request(core.Choice):  # type: ignore[misc]  # asn1crypto is untyped
    _alternatives: ClassVar[list[Any]] = [("searchRequest", SearchRequest)]


class Message(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """An LDAPMessage carrying a SearchRequest."""

    _fields: ClassVar[list[Any]] = [("messageID", core.Integer), ("protocolOp", _Request)]


def filter_tree(value: Any) -> Tree:
    """An asn1crypto ``Filter`` as plain tuples (names of RFC 4511 §4.5.1)."""
    name = value.name
    component = value.chosen
    if name in ("and", "or"):
        return (name, tuple(filter_tree(item) for item in component))
    if name == "not":
        return ("not", filter_tree(component))
    if name in ("equalityMatch", "greaterOrEqual", "lessOrEqual", "approxMatch"):
        return (
            name,
            component["attributeDesc"].native.decode(),
            component["assertionValue"].native,
        )
    if name == "present":
        return ("present", component.native.decode())
    if name == "substrings":
        pieces = tuple((piece.name, piece.chosen.native) for piece in component["substrings"])
        return ("substrings", component["type"].native.decode(), pieces)
    assert name == "extensibleMatch", name
    rule = component["matchingRule"].native
    kind = component["type"].native
    return (
        "extensible",
        None if rule is None else rule.decode(),
        None if kind is None else kind.decode(),
        component["matchValue"].native,
        bool(component["dnAttributes"].native),
    )


def decode_filter(data: bytes) -> Tree:
    """A BER ``Filter`` alone, decoded by asn1crypto (the whole input must be used)."""
    return filter_tree(Filter.load(data, strict=True))


def _message(message_id: int, name: str, operation: Any) -> bytes:
    message = rfc4511.LDAPMessage()
    message["messageID"] = rfc4511.MessageID(message_id)
    protocol = rfc4511.ProtocolOp()
    protocol.setComponentByName(name, operation)
    message["protocolOp"] = protocol
    return bytes(encoder.encode(message))


def entry_message(
    message_id: int, dn: str, attributes: Sequence[tuple[str, Sequence[bytes]]]
) -> bytes:
    entry = rfc4511.SearchResultEntry()
    entry["object"] = rfc4511.LDAPDN(dn)
    listing = rfc4511.PartialAttributeList()
    for index, (name, values) in enumerate(attributes):
        attribute = rfc4511.PartialAttribute()
        attribute["type"] = rfc4511.AttributeDescription(name)
        vals = rfc4511.Vals()
        for position, value in enumerate(values):
            vals[position] = rfc4511.AttributeValue(value)
        attribute["vals"] = vals
        listing[index] = attribute
    entry["attributes"] = listing
    return _message(message_id, "searchResEntry", entry)


def _result(result: Any, code: int, matched: str, message: str, referrals: Sequence[str]) -> Any:
    result["resultCode"] = rfc4511.ResultCode(code)
    result["matchedDN"] = rfc4511.LDAPDN(matched)
    result["diagnosticMessage"] = rfc4511.LDAPString(message)
    if referrals:
        referral = rfc4511.Referral()
        for index, uri in enumerate(referrals):
            referral[index] = rfc4511.URI(uri)
        result["referral"] = referral
    return result


def done_message(
    message_id: int,
    code: int = 0,
    matched: str = "",
    message: str = "",
    referrals: Sequence[str] = (),
) -> bytes:
    done = _result(rfc4511.SearchResultDone(), code, matched, message, referrals)
    return _message(message_id, "searchResDone", done)


def reference_message(message_id: int, uris: Sequence[str]) -> bytes:
    reference = rfc4511.SearchResultReference()
    for index, uri in enumerate(uris):
        reference[index] = rfc4511.URI(uri)
    return _message(message_id, "searchResRef", reference)


def bind_response(message_id: int, code: int = 0) -> bytes:
    response = _result(rfc4511.BindResponse(), code, "", "", ())
    return _message(message_id, "bindResponse", response)


def notice_of_disconnection(code: int = 52, message: str = "server shutting down") -> bytes:
    response = _result(rfc4511.ExtendedResponse(), code, "", message, ())
    response["responseName"] = rfc4511.ResponseName(NOTICE_OF_DISCONNECTION)
    return _message(0, "extendedResp", response)


def widen(data: bytes) -> bytes:
    """The same elements with every length in the 4-octet long form (as AD sends them).

    Walks the BER with asn1crypto's parser: constructed elements are
    re-encoded recursively, primitive contents copied.
    """
    out = bytearray()
    pos = 0
    while pos < len(data):
        rest = data[pos:]
        _, method, _, header, contents, _ = ber_parser.parse(rest)
        pos += ber_parser.peek(rest)
        identifier = header[:1]
        inner = widen(contents) if method == 1 else contents
        out += identifier + b"\x84" + len(inner).to_bytes(4, "big") + inner
    return bytes(out)
