"""``LdapDirectory``: certificates from LDAP, the way Active Directory publishes them.

One search per chunk of addresses (an OR filter), connections kept in a
thread-safe pool, servers tried in order when one cannot be reached, TLS
(``ldaps://`` or StartTLS) with the server's certificate verified.
Anything that keeps the directory from answering is
:class:`~mailcore.DirectoryUnavailable` — never an empty answer, because
"no certificate" must not be confused with "could not ask".

ldap3 connects, fails over, secures and binds; the search itself is sent
and read on the bound connection's socket by mailcore (``_protocol``,
``_search``): the filter template is compiled to BER once and each address
inserted as octets, and only the attributes a lookup needs are decoded.
That is most of the time a 50-recipient lookup took through ldap3's
general-purpose filter compiler and response decoder.
"""

from __future__ import annotations

import math
import queue
import ssl
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from mailcore.directory._base import CertificateDirectory, normalise_address
from mailcore.directory._cache import LookupCache
from mailcore.directory._file import CERTIFICATE_ATTRIBUTES
from mailcore.directory._filter import FilterTemplate
from mailcore.directory._protocol import (
    ConnectionClosed,
    Entry,
    SearchRequest,
    SearchResponseReader,
)
from mailcore.directory._search import exchange
from mailcore.directory._select import CertificateSelector
from mailcore.errors import DirectoryUnavailable

with warnings.catch_warnings():
    # ldap3 2.9.1 (its last release) reads pyasn1's tagMap and typeMap when
    # it is imported, which pyasn1 >= 0.6 deprecates: nothing else to do about it.
    warnings.filterwarnings(
        "ignore", r"(tagMap|typeMap) is deprecated", DeprecationWarning, "ldap3"
    )
    from ldap3 import ANONYMOUS, NONE, SIMPLE, SYNC, Connection, Server, Tls
    from ldap3.core.exceptions import LDAPException

__all__ = ["LdapDirectory"]

# What a search asks for: the certificate attributes in the forms AD and
# OpenLDAP return them (userCertificate needs ";binary" in LDAPv3, RFC 4523
# §2.1; AD also answers the plain name), and the address attribute.
_REQUESTED = ("userCertificate;binary", "userCertificate", "userSMIMECertificate")

# LDAP result codes (RFC 4511 §4.1.9) that mean "no answer", not "nobody".
_SUCCESS = 0
_REFERRAL = 10
_NO_SUCH_OBJECT = 32

_CERTIFICATE_TYPES = frozenset(name.encode("ascii") for name in CERTIFICATE_ATTRIBUTES)


class _ServerAddress:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("ldap", "ldaps") or not parts.hostname:
            raise ValueError(f"not an ldap:// or ldaps:// address: {url!r}")
        self.url = url
        self.secure = parts.scheme == "ldaps"
        self.host = parts.hostname
        self.port = parts.port or (636 if self.secure else 389)


class LdapDirectory(CertificateDirectory):
    """Recipients' certificates from one or more LDAP servers.

    ``servers`` are tried in order; ``password`` is used for a simple bind
    as ``bind_dn`` (anonymous when ``bind_dn`` is None).  ``filter`` is the
    search template (``(mail={address})`` by default; AD's proxy form
    ``(proxyAddresses=smtp:{address})``).  ``batch_size`` addresses share
    one search.  ``connect_timeout`` and ``search_timeout`` are seconds.
    """

    def __init__(
        self,
        servers: Sequence[str],
        *,
        base_dn: str,
        filter: str = "(mail={address})",
        bind_dn: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        ca_file: str | None = None,
        batch_size: int = 50,
        size_limit: int = 1000,
        time_limit: int = 10,
        connect_timeout: float = 5.0,
        search_timeout: float = 10.0,
        pool_size: int = 4,
        selector: CertificateSelector | None = None,
        cache: LookupCache | None = None,
    ) -> None:
        super().__init__(selector=selector, cache=cache)
        if not servers:
            raise ValueError("at least one LDAP server is needed")
        self._servers = tuple(_ServerAddress(url) for url in servers)
        self._base_dn = base_dn
        self._template = FilterTemplate.parse(filter)
        self._bind_dn = bind_dn
        self._password = password
        self._starttls = starttls
        self._ca_file = ca_file or None
        self._batch_size = max(1, batch_size)
        self._size_limit = size_limit
        self._time_limit = time_limit
        self._connect_timeout = connect_timeout
        self._search_timeout = search_timeout
        self._idle: queue.LifoQueue[Connection] = queue.LifoQueue(maxsize=max(1, pool_size))
        self._closed = False
        self._lock = threading.Lock()
        self._attributes = [*_REQUESTED, self._template.attribute]
        self._request = SearchRequest(
            base_dn, self._attributes, size_limit=size_limit, time_limit=time_limit
        )
        self._key_type = self._template.attribute.lower().encode("ascii")

    # -- connections -----------------------------------------------------------------

    def _tls(self) -> Tls:
        # Certificate and host name are always verified: a directory that
        # answers over unverified TLS could hand out an attacker's key.
        return Tls(
            validate=ssl.CERT_REQUIRED,
            version=ssl.PROTOCOL_TLS_CLIENT,
            ca_certs_file=self._ca_file,
        )

    def _open(self) -> Connection:
        """A new bound connection to the first server that answers."""
        failures: list[str] = []
        for address in self._servers:
            use_tls = address.secure or self._starttls
            server = Server(
                address.host,
                port=address.port,
                use_ssl=address.secure,
                tls=self._tls() if use_tls else None,
                get_info=NONE,
                connect_timeout=self._connect_timeout,
            )
            connection = Connection(
                server,
                user=self._bind_dn,
                password=self._password,
                authentication=SIMPLE if self._bind_dn else ANONYMOUS,
                client_strategy=SYNC,
                read_only=True,
                # ldap3 packs this into SO_RCVTIMEO as whole seconds.
                receive_timeout=max(1, math.ceil(self._search_timeout)),
                raise_exceptions=False,
                check_names=False,
            )
            try:
                connection.open()
                if self._starttls and not address.secure and not connection.start_tls():
                    raise _Refused(f"StartTLS refused: {_describe(connection.result)}")
                if self._bind_dn and not connection.bind():
                    # Wrong credentials are not an outage of this one server:
                    # the next server would refuse them too.  Say so plainly.
                    _unbind(connection)
                    raise DirectoryUnavailable(
                        f"LDAP bind as {self._bind_dn!r} at {address.url} refused: "
                        f"{_describe(connection.result)}"
                    )
                return connection
            except (LDAPException, OSError, _Refused) as error:
                _unbind(connection)
                failures.append(f"{address.url}: {_error_text(error)}")
        raise DirectoryUnavailable("no LDAP server answered (" + "; ".join(failures) + ")")

    @contextmanager
    def _connection(self) -> Iterator[tuple[Connection, bool]]:
        if self._closed:
            raise DirectoryUnavailable("the LDAP directory has been closed")
        try:
            connection, reused = self._idle.get_nowait(), True
        except queue.Empty:
            connection, reused = self._open(), False
        healthy = False
        try:
            yield connection, reused
            healthy = True
        finally:
            if healthy and not self._closed and not connection.closed:
                try:
                    self._idle.put_nowait(connection)
                except queue.Full:
                    _unbind(connection)
            else:
                _unbind(connection)

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                _unbind(self._idle.get_nowait())
            except queue.Empty:
                return

    # -- searching -------------------------------------------------------------------

    def fetch(self, addresses: Sequence[str]) -> Mapping[str, Sequence[bytes]]:
        wanted = [normalise_address(address) for address in addresses]
        found: dict[str, list[bytes]] = {}
        for start in range(0, len(wanted), self._batch_size):
            chunk = wanted[start : start + self._batch_size]
            for address, values in self._search_chunk(chunk).items():
                found.setdefault(address, []).extend(values)
        return {address: tuple(values) for address, values in found.items()}

    def _search_chunk(self, chunk: list[str]) -> dict[str, list[bytes]]:
        search_filter = self._template.ber_for_addresses(chunk)
        for attempt in (1, 2):
            try:
                with self._connection() as (connection, reused):
                    try:
                        entries = self._search(connection, search_filter)
                    except ConnectionClosed as error:
                        if reused and attempt == 1:
                            # A pooled connection the server has since closed:
                            # one retry on a fresh connection, not on a timeout.
                            raise _Stale from error
                        raise DirectoryUnavailable(error.message) from None
            except _Stale:
                continue
            return self._assign(chunk, entries)
        raise DirectoryUnavailable("LDAP search failed twice")  # pragma: no cover

    def _search(self, connection: Connection, search_filter: bytes) -> list[Entry]:
        sock = connection.socket
        if sock is None or connection.closed:
            raise ConnectionClosed("LDAP search failed: the connection is closed")
        # ldap3's allocator: one counter for every id ldap3 itself sends (the
        # bind, StartTLS, the final unbind), so ours never collide with them.
        message_id = int(connection.server.next_message_id())
        reader = exchange(
            sock,
            self._request.encode(message_id, search_filter),
            SearchResponseReader(message_id),
            self._search_timeout,
        )
        if reader.trailing:
            # More than the answer arrived: the stream is out of step, so the
            # connection is not pooled again (the answer itself is complete).
            _unbind(connection)
        done = reader.done
        assert done is not None  # exchange() returns only once the search is done
        if done.code == _NO_SUCH_OBJECT:
            raise DirectoryUnavailable(
                f"the base DN {self._base_dn!r} does not exist on the LDAP server"
            )
        if done.code == _REFERRAL:
            where = ", ".join(done.referrals) or "no URL given"
            raise DirectoryUnavailable(
                f"the LDAP server referred the search to another server ({where}); "
                "referrals are not followed: configure that server instead"
            )
        if done.code != _SUCCESS:
            # sizeLimitExceeded, timeLimitExceeded, busy, unavailable...: a
            # partial answer could make a present certificate look missing.
            raise DirectoryUnavailable(f"LDAP search did not complete: {done.describe()}")
        return reader.entries

    def _assign(self, chunk: list[str], entries: list[Entry]) -> dict[str, list[bytes]]:
        wanted = set(chunk)
        found: dict[str, list[bytes]] = {}
        key_type = self._key_type
        address_of = self._template.address_of
        for entry in entries:
            certificates: list[bytes] = []
            owners: set[str] = set()
            for name, values in entry:
                # Types arrive lowercased; "userCertificate;binary" counts as
                # userCertificate (RFC 4523 §2.1 transfer option).
                if name.split(b";", 1)[0] in _CERTIFICATE_TYPES:
                    certificates.extend(values)
                if name == key_type:
                    for value in values:
                        address = address_of(value.decode("utf-8", "replace"))
                        if address in wanted:
                            owners.add(address)
            # An entry belongs to the addresses its own attribute values
            # name: whatever the server's matching rules let through (a NUL
            # in an assertion value, say), nothing else is attributed.
            for owner in owners:
                found.setdefault(owner, []).extend(certificates)
        return found


class _Refused(Exception):
    pass


class _Stale(Exception):
    pass


def _describe(result: Mapping[str, Any] | None) -> str:
    if not result:
        return "no answer"
    text = str(result.get("description") or result.get("result"))
    message = str(result.get("message") or "").strip()
    return f"{text} ({message})" if message else text


def _error_text(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _unbind(connection: Connection) -> None:
    try:
        connection.unbind()
    except (LDAPException, OSError):
        pass  # closing a broken connection: nothing more to do
    # ldap3 leaves the socket open when the TLS handshake or the host name
    # check failed; close it here so that no descriptor leaks.
    sock = getattr(connection, "socket", None)
    if sock is not None:
        try:
            sock.close()
        except OSError:
            pass
