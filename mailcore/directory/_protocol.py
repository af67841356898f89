"""RFC 4511 search messages: the SearchRequest sent, the responses read back.

Only what a certificate lookup needs: a SearchRequest (§4.5.1) encoded from
pre-built parts, and an incremental reader for the answers to it —
SearchResultEntry (§4.5.2, the attributes only: the entry's name is
skipped), SearchResultReference (ignored: references are not followed) and
SearchResultDone (§4.5.2, an LDAPResult §4.1.9), plus the Notice of
Disconnection (§4.4.1) a server sends before it drops a connection.

Anything else — bytes that are not the BER of §5.1, another message ID,
another operation — is :class:`~mailcore.DirectoryUnavailable`: a
connection that said something unexpected is not trusted for the rest of
the answer, and a partial answer must never read as "no certificate".
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

from mailcore.directory._ber import (
    BerError,
    decode_integer,
    element_end,
    encode_integer,
    encode_length,
    read_header,
    tlv,
)
from mailcore.errors import DirectoryUnavailable

with warnings.catch_warnings():
    # ldap3 2.9.1 (its last release) reads pyasn1's tagMap and typeMap when
    # it is imported, which pyasn1 >= 0.6 deprecates: nothing else to do about it.
    warnings.filterwarnings(
        "ignore", r"(tagMap|typeMap) is deprecated", DeprecationWarning, "ldap3"
    )
    from ldap3.core.results import RESULT_CODES

__all__ = [
    "ConnectionClosed",
    "Entry",
    "SearchDone",
    "SearchRequest",
    "SearchResponseReader",
]

# RFC 4511 §4.5.1 SearchRequest fields.
SCOPE_SUBTREE = 2  # wholeSubtree
DEREF_ALWAYS = 3  # derefAlways (ldap3's default, kept so that answers do not change)

# Identifier octets: LDAPMessage is a SEQUENCE, the operations [APPLICATION n].
_SEQUENCE, _SET, _INTEGER, _OCTET_STRING, _ENUMERATED = 0x30, 0x31, 0x02, 0x04, 0x0A
_SEARCH_REQUEST = 0x63  # [APPLICATION 3] constructed
_SEARCH_ENTRY = 0x64  # [APPLICATION 4]
_SEARCH_DONE = 0x65  # [APPLICATION 5]
_SEARCH_REFERENCE = 0x73  # [APPLICATION 19]
_EXTENDED_RESPONSE = 0x78  # [APPLICATION 24]
_REFERRAL = 0xA3  # LDAPResult.referral [3]
_RESPONSE_NAME = 0x8A  # ExtendedResponse.responseName [10]
_NOTICE_OF_DISCONNECTION = b"1.3.6.1.4.1.1466.20036"  # RFC 4511 §4.4.1

Entry = list[tuple[bytes, list[bytes]]]
"""An entry's attributes: (type lowercased, its values) in the order sent."""


class ConnectionClosed(DirectoryUnavailable):
    """The server ended the connection (Notice of Disconnection, end of stream,
    reset): on a pooled connection that may just be an idle timeout, worth one
    retry on a fresh connection."""


@dataclass(frozen=True, slots=True)
class SearchDone:
    """The LDAPResult of a SearchResultDone (RFC 4511 §4.1.9)."""

    code: int
    matched_dn: str
    message: str
    referrals: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The result code's name in RFC 4511 §4.1.9 (``sizeLimitExceeded``...)."""
        name = RESULT_CODES.get(self.code)
        return name if isinstance(name, str) else f"result code {self.code}"

    def describe(self) -> str:
        message = self.message.strip()
        return f"{self.name} ({message})" if message else self.name


class SearchRequest:
    """A SearchRequest with everything but the message ID and filter encoded once."""

    __slots__ = ("_head", "_tail")

    def __init__(
        self,
        base_dn: str,
        attributes: Sequence[str],
        *,
        size_limit: int,
        time_limit: int,
        scope: int = SCOPE_SUBTREE,
        deref_aliases: int = DEREF_ALWAYS,
    ) -> None:
        if size_limit < 0 or time_limit < 0:
            raise ValueError("LDAP size and time limits are 0 (none) or more")
        # SearchRequest ::= [APPLICATION 3] SEQUENCE { baseObject LDAPDN,
        #   scope ENUMERATED, derefAliases ENUMERATED, sizeLimit INTEGER,
        #   timeLimit INTEGER, typesOnly BOOLEAN, filter Filter,
        #   attributes AttributeSelection }
        self._head = b"".join(
            (
                tlv(_OCTET_STRING, base_dn.encode("utf-8")),
                tlv(_ENUMERATED, encode_integer(scope)),
                tlv(_ENUMERATED, encode_integer(deref_aliases)),
                tlv(_INTEGER, encode_integer(size_limit)),
                tlv(_INTEGER, encode_integer(time_limit)),
                b"\x01\x01\x00",  # typesOnly FALSE: the values are what we came for
            )
        )
        self._tail = tlv(
            _SEQUENCE, b"".join(tlv(_OCTET_STRING, name.encode("ascii")) for name in attributes)
        )

    def encode(self, message_id: int, search_filter: bytes) -> bytes:
        """The LDAPMessage carrying this search with ``search_filter`` (BER ``Filter``)."""
        if not 0 < message_id < 2**31:
            raise ValueError(f"message ID {message_id} outside 1..2^31-1 (RFC 4511 §4.1.1)")
        operation = self._head + search_filter + self._tail
        content = (
            tlv(_INTEGER, encode_integer(message_id))
            + bytes((_SEARCH_REQUEST,))
            + encode_length(len(operation))
            + operation
        )
        return b"\x30" + encode_length(len(content)) + content


class SearchResponseReader:
    """Reads the answers to one search from a byte stream, fed in any pieces.

    :meth:`feed` returns True once SearchResultDone has arrived; then
    :attr:`entries` holds every entry and :attr:`done` the result.  Bytes
    after the SearchResultDone are kept in :attr:`trailing` (the connection
    should not be reused: it is out of step).
    """

    def __init__(self, message_id: int) -> None:
        self.message_id = message_id
        self.entries: list[Entry] = []
        self.references = 0
        self.done: SearchDone | None = None
        self.trailing = b""
        self._pieces: list[bytes] = []  # bytes of a message not yet complete
        self._have = 0  # their total length
        self._need = 0  # the length that message will have (0: not yet known)
        self._messages = 0

    def feed(self, data: bytes) -> bool:
        """Take the next bytes from the stream; True when the search is complete."""
        if self.done is not None:
            self.trailing += data
            return True
        if not data:
            return False
        if self._pieces:
            self._pieces.append(data)
            self._have += len(data)
            if self._have < self._need:
                return False  # still inside one long message: no re-scanning
            data = b"".join(self._pieces)
            self._pieces = []
        size = len(data)
        pos = 0
        need = 0
        while pos < size:
            if data[pos] != _SEQUENCE:
                raise self._malformed(f"a message starts with 0x{data[pos]:02x}, not a SEQUENCE")
            try:
                end = element_end(data, pos)
            except BerError as error:
                raise self._malformed(str(error)) from None
            if end is None or end > size:
                need = 0 if end is None else end - pos
                break
            self._message(data, pos, end)
            self._messages += 1
            pos = end
            if self.done is not None:
                self.trailing = data[pos:]
                return True
        if pos < size:
            self._pieces = [data[pos:]]
            self._have = size - pos
            # Unknown length (the header itself is split): re-scan on the next bytes.
            self._need = need or self._have + 1
        else:
            self._pieces, self._have, self._need = [], 0, 0
        return False

    def _malformed(self, what: str) -> DirectoryUnavailable:
        return DirectoryUnavailable(
            f"malformed LDAP response (message {self._messages + 1} of the answer): {what}"
        )

    def _message(self, data: bytes, start: int, end: int) -> None:
        try:
            pos, end = read_header(data, start, end, _SEQUENCE, "LDAPMessage")
            low, high = read_header(data, pos, end, _INTEGER, "messageID")
            message_id = decode_integer(data, low, high, "messageID")
            if high >= end:
                raise BerError("LDAPMessage without a protocolOp")
            operation = data[high]
            if message_id != self.message_id:
                if message_id == 0 and operation == _EXTENDED_RESPONSE:
                    self._unsolicited(data, high, end)
                    return
                raise DirectoryUnavailable(
                    f"LDAP answer with message ID {message_id} to search {self.message_id}"
                )
            if operation == _SEARCH_ENTRY:
                self.entries.append(self._entry(data, high, end))
            elif operation == _SEARCH_DONE:
                self.done = self._result(data, high, end)
            elif operation == _SEARCH_REFERENCE:
                # A continuation reference names another server to ask
                # (§4.5.3); like ldap3 by default, references are not followed.
                read_header(data, high, end, _SEARCH_REFERENCE, "SearchResultReference")
                self.references += 1
            else:
                raise DirectoryUnavailable(
                    f"LDAP answer with operation tag 0x{operation:02x} to a search"
                )
            # A [0] Controls element may follow the operation; none is asked
            # for, so none is read.
        except BerError as error:
            raise self._malformed(str(error)) from None

    @staticmethod
    def _entry(data: bytes, pos: int, limit: int) -> Entry:
        # SearchResultEntry ::= [APPLICATION 4] SEQUENCE { objectName LDAPDN,
        #   attributes PartialAttributeList }
        # PartialAttribute ::= SEQUENCE { type AttributeDescription, vals SET OF value }
        pos, limit = read_header(data, pos, limit, _SEARCH_ENTRY, "SearchResultEntry")
        _, pos = read_header(data, pos, limit, _OCTET_STRING, "objectName")
        pos, limit = read_header(data, pos, limit, _SEQUENCE, "attributes")
        attributes: Entry = []
        while pos < limit:
            pos, stop = read_header(data, pos, limit, _SEQUENCE, "PartialAttribute")
            low, pos = read_header(data, pos, stop, _OCTET_STRING, "attribute type")
            name = data[low:pos].lower()  # descriptors are ASCII, case-insensitive (RFC 4512 §2.5)
            pos, end = read_header(data, pos, stop, _SET, "attribute values")
            if end != stop:
                raise BerError(f"PartialAttribute: extra octets at offset {end}")
            values: list[bytes] = []
            while pos < end:
                low, pos = read_header(data, pos, end, _OCTET_STRING, "attribute value")
                values.append(data[low:pos])
            attributes.append((name, values))
        return attributes

    @staticmethod
    def _ldap_result(data: bytes, pos: int, limit: int, what: str) -> tuple[SearchDone, int]:
        # LDAPResult ::= SEQUENCE { resultCode ENUMERATED, matchedDN LDAPDN,
        #   diagnosticMessage LDAPString, referral [3] Referral OPTIONAL }
        low, pos = read_header(data, pos, limit, _ENUMERATED, f"{what} resultCode")
        code = decode_integer(data, low, pos, f"{what} resultCode")
        low, pos = read_header(data, pos, limit, _OCTET_STRING, f"{what} matchedDN")
        matched = data[low:pos].decode("utf-8", "replace")
        low, pos = read_header(data, pos, limit, _OCTET_STRING, f"{what} diagnosticMessage")
        message = data[low:pos].decode("utf-8", "replace")
        referrals: list[str] = []
        if pos < limit and data[pos] == _REFERRAL:
            pos, end = read_header(data, pos, limit, _REFERRAL, f"{what} referral")
            while pos < end:
                low, pos = read_header(data, pos, end, _OCTET_STRING, f"{what} referral URI")
                referrals.append(data[low:pos].decode("utf-8", "replace"))
        return SearchDone(code, matched, message, tuple(referrals)), pos

    def _result(self, data: bytes, pos: int, limit: int) -> SearchDone:
        pos, limit = read_header(data, pos, limit, _SEARCH_DONE, "SearchResultDone")
        done, _ = self._ldap_result(data, pos, limit, "SearchResultDone")
        return done

    def _unsolicited(self, data: bytes, pos: int, limit: int) -> None:
        # ExtendedResponse ::= [APPLICATION 24] SEQUENCE { COMPONENTS OF
        #   LDAPResult, responseName [10] LDAPOID OPTIONAL, ... }
        pos, limit = read_header(data, pos, limit, _EXTENDED_RESPONSE, "ExtendedResponse")
        result, pos = self._ldap_result(data, pos, limit, "ExtendedResponse")
        name = b""
        if pos < limit and data[pos] == _RESPONSE_NAME:
            low, pos = read_header(data, pos, limit, _RESPONSE_NAME, "responseName")
            name = data[low:pos]
        if name == _NOTICE_OF_DISCONNECTION:
            raise ConnectionClosed(
                f"the LDAP server is closing the connection: {result.describe()}"
            )
        # Another unsolicited notification (§4.4): nothing this search needs.
