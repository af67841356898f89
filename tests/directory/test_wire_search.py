"""mailcore's own search on ldap3's connections: same answers as ldap3, same faults.

Against the real slapd, every filter form gives exactly the entries ldap3's
own ``Connection.search`` returns for the text form of the same filter.
A scripted LDAP server (a real TCP server speaking answers encoded by
pyasn1) supplies what slapd will not do on demand: referrals, a wrong
message ID, a Notice of Disconnection on a pooled connection, extra bytes,
half an answer.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from asn1crypto import parser as ber_parser  # type: ignore[import-untyped]  # no stubs
from ldap3 import ANONYMOUS, NONE, SUBTREE, Connection, Server

from mailcore import DirectoryUnavailable
from mailcore.directory import FilterTemplate, LdapDirectory
from tests.directory.conftest import BASE_DN, BULK, PKITS_DN, People, der
from tests.directory.wire import (
    Filter,
    bind_response,
    done_message,
    entry_message,
    filter_tree,
    notice_of_disconnection,
)
from tests.slapd import ROOT_PASSWORD, Slapd

Normalised = list[dict[bytes, list[bytes]]]


def ours(ldap: LdapDirectory, template: FilterTemplate, addresses: list[str]) -> Normalised:
    with ldap._connection() as (connection, _):
        entries = ldap._search(connection, template.ber_for_addresses(addresses))
    return sorted(
        ({name: sorted(values) for name, values in entry} for entry in entries), key=repr
    )


def theirs(slapd: Slapd, base: str, text: str, attributes: list[str]) -> Normalised:
    server = Server("127.0.0.1", port=slapd.port, get_info=NONE)
    connection = Connection(server, authentication=ANONYMOUS, auto_bind=True)
    try:
        connection.search(base, text, SUBTREE, attributes=attributes)
        assert connection.result["result"] == 0
        found = [
            {
                name.lower().encode(): sorted(bytes(value) for value in values)
                for name, values in entry["raw_attributes"].items()
                if values  # ldap3 lists every requested attribute, [] when absent
            }
            for entry in connection.response or []
            if entry["type"] == "searchResEntry"
        ]
    finally:
        connection.unbind()
    return sorted(found, key=repr)


SOME = [
    "alice@example.com",
    "bob@example.com",
    "leo.alias@example.com",
    "frank@example.com",
    "grace@example.com",
    "nobody@example.com",
    "*@example.com",
    "alice@example.com)(mail=*",
    "bulk001@example.com",
    "BULK002@EXAMPLE.COM",
]


class TestSameAnswersAsLdap3:
    @pytest.mark.parametrize(
        "template",
        [
            "(mail={address})",
            "(&(objectClass=inetOrgPerson)(mail={address}))",
            "(|(mail={address})(uid=bob))",
            "(&(!(uid=bob))(mail={address}))",
            "(&(cn=b*)(mail={address}))",
            "(&(cn=*)(mail={address}))",
            "(&(cn~=alice)(mail={address}))",
            "(&(uid>=c)(mail={address}))",
            "(&(uid<=c)(mail={address}))",
            "(&(uid:caseExactMatch:=alice)(mail={address}))",
            "(&(:dn:2.5.13.2:=example)(mail={address}))",
            "(&(|(uid=alice)(uid=bob)(uid=bulk*))(mail={address}))",
            "(proxyAddresses=smtp:{address})",
        ],
    )
    def test_filter_forms(self, slapd: Slapd, template: str) -> None:
        parsed = FilterTemplate.parse(template)
        addresses = [*SOME, "olga@example.com", "o.alias@example.com"]
        # Not "with LdapDirectory(...) as ldap": __enter__ is typed as returning
        # the CertificateDirectory base, and these tests use LdapDirectory's own names.
        ldap = LdapDirectory([slapd.url], base_dn=BASE_DN, filter=template)
        with ldap:
            mine = ours(ldap, parsed, addresses)
            single = ours(ldap, parsed, ["alice@example.com"])
        assert mine == theirs(slapd, BASE_DN, parsed.for_addresses(addresses), ldap._attributes)
        assert single == theirs(
            slapd, BASE_DN, parsed.for_address("alice@example.com"), ldap._attributes
        )

    def test_many_entries(self, slapd: Slapd) -> None:
        parsed = FilterTemplate.parse("(mail={address})")
        addresses = [f"bulk{n:03d}@example.com" for n in range(1, BULK + 1)]
        ldap = LdapDirectory([slapd.url], base_dn=BASE_DN)
        with ldap:
            mine = ours(ldap, parsed, addresses)
        assert len(mine) == BULK
        assert mine == theirs(slapd, BASE_DN, parsed.for_addresses(addresses), ldap._attributes)

    def test_pkits_over_ldaps(self, slapd: Slapd, ca_file: object) -> None:
        parsed = FilterTemplate.parse("(cn={address})")
        names = ["Valid EE Certificate Test1", "Trust Anchor", "Good CA", "no such name"]
        ldap = LdapDirectory(
            [slapd.tls_url], base_dn=PKITS_DN, filter="(cn={address})", ca_file=str(ca_file)
        )
        with ldap:
            mine = ours(ldap, parsed, names)
        assert len(mine) >= 3
        assert mine == theirs(slapd, PKITS_DN, parsed.for_addresses(names), ldap._attributes)


class TestResultCodes:
    def test_size_limit_exceeded_is_unavailable(self, slapd: Slapd) -> None:
        with LdapDirectory([slapd.url], base_dn=BASE_DN, size_limit=1) as ldap:
            with pytest.raises(DirectoryUnavailable, match="did not complete: sizeLimitExceeded"):
                ldap.fetch(["alice@example.com", "bob@example.com"])
            # one answer fits the limit
            assert list(ldap.fetch(["alice@example.com"])) == ["alice@example.com"]

    def test_bound_search_after_ldap3s_own_messages(self, slapd: Slapd) -> None:
        with LdapDirectory(
            [slapd.url], base_dn=BASE_DN, bind_dn=f"cn=admin,{BASE_DN}", password=ROOT_PASSWORD
        ) as ldap:
            for _ in range(3):
                assert "alice@example.com" in ldap.fetch(["alice@example.com"])


# -- a scripted server -----------------------------------------------------------------

Script = Callable[[int, int, int, bytes], bytes | None]
"""(connection number, message ID, operation tag, request) -> reply, None to hang up."""


class ScriptedServer:
    """A real LDAP-speaking TCP server on 127.0.0.1 that answers per a script."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.requests: list[tuple[int, int, int]] = []  # (connection, message ID, tag)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._accepter = threading.Thread(target=self._accept, daemon=True)
        self._accepter.start()

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        self.listener.settimeout(0.1)
        while not self._stop.is_set():
            try:
                sock, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._sockets.append(sock)
            thread = threading.Thread(
                target=self._serve, args=(sock, self.connections), daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def _serve(self, sock: socket.socket, number: int) -> None:
        buffer = b""
        sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            buffer += data
            while buffer:
                try:
                    size = ber_parser.peek(buffer)
                except ValueError:
                    break  # incomplete
                if size > len(buffer):
                    break
                message, buffer = buffer[:size], buffer[size:]
                _, _, _, _, contents, _ = ber_parser.parse(message)
                _, _, _, _, identifier, _ = ber_parser.parse(contents)
                rest = contents[ber_parser.peek(contents) :]
                _, _, tag, _, _, _ = ber_parser.parse(rest)
                message_id = int.from_bytes(identifier, "big")
                self.requests.append((number, message_id, tag))
                if tag == 2:  # UnbindRequest
                    return
                reply = self.script(number, message_id, tag, rest)
                if reply is None:
                    sock.close()
                    return
                try:
                    sock.sendall(reply)
                except OSError:
                    return

    def close(self) -> None:
        self._stop.set()
        self._accepter.join()
        for thread in self._threads:
            thread.join()
        for sock in self._sockets:
            sock.close()
        self.listener.close()


@pytest.fixture
def scripted() -> Iterator[Callable[[Script], ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(script: Script) -> ScriptedServer:
        server = ScriptedServer(script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def _asked(request: bytes) -> list[bytes]:
    """The addresses an equality / OR-of-equalities search asks for (decoded by asn1crypto)."""
    # SearchRequest content: base, scope, deref, size, time, typesOnly, filter, attributes
    _, _, _, _, contents, _ = ber_parser.parse(request)
    pos = 0
    for _ in range(6):
        pos += ber_parser.peek(contents[pos:])
    size = ber_parser.peek(contents[pos:])
    tree = filter_tree(Filter.load(contents[pos : pos + size]))
    items = tree[1] if tree[0] == "or" else (tree,)
    return [item[2] for item in items]


def _alice(people: People) -> Callable[[int], bytes]:
    def entries(message_id: int) -> bytes:
        return entry_message(
            message_id,
            f"uid=alice,ou=people,{BASE_DN}",
            [
                ("mail", [b"alice@example.com"]),
                ("userCertificate;binary", [der(people.ids["alice"].certificate)]),
            ],
        )

    return entries


class TestScriptedFaults:
    def test_referral_is_unavailable_saying_so(
        self, scripted: Callable[[Script], ScriptedServer]
    ) -> None:
        server = scripted(
            lambda _n, mid, _tag, _req: done_message(
                mid, 10, "", "try there", ["ldap://elsewhere.example/dc=example,dc=com"]
            )
        )
        with LdapDirectory([server.url], base_dn=BASE_DN, search_timeout=2) as ldap:
            with pytest.raises(
                DirectoryUnavailable,
                match=r"referred the search to another server "
                r"\(ldap://elsewhere\.example/dc=example,dc=com\)",
            ):
                ldap.lookup(["alice@example.com"])

    def test_busy_server_is_unavailable(
        self, scripted: Callable[[Script], ScriptedServer]
    ) -> None:
        server = scripted(lambda _n, mid, _tag, _req: done_message(mid, 51, "", "too busy"))
        with LdapDirectory([server.url], base_dn=BASE_DN, search_timeout=2) as ldap:
            with pytest.raises(DirectoryUnavailable, match=r"busy \(too busy\)"):
                ldap.lookup(["alice@example.com"])

    def test_wrong_message_id_drops_the_connection(
        self, scripted: Callable[[Script], ScriptedServer], people: People
    ) -> None:
        alice = _alice(people)

        def script(number: int, mid: int, _tag: int, _req: bytes) -> bytes:
            if number == 1:
                return alice(mid + 1) + done_message(mid + 1)
            return alice(mid) + done_message(mid)

        server = scripted(script)
        with LdapDirectory([server.url], base_dn=BASE_DN, search_timeout=2) as ldap:
            with pytest.raises(DirectoryUnavailable, match=r"message ID \d+ to search \d+"):
                ldap.lookup(["alice@example.com"])
            # Not pooled: the next lookup opens a new connection, which answers properly.
            assert ldap.lookup(["alice@example.com"])["alice@example.com"].found
        assert server.connections == 2

    def test_notice_of_disconnection_on_a_pooled_connection_is_retried(
        self, scripted: Callable[[Script], ScriptedServer], people: People
    ) -> None:
        alice = _alice(people)

        def script(number: int, mid: int, _tag: int, _req: bytes) -> bytes:
            searches = [r for r in server.requests if r[0] == number and r[2] == 3]
            if number == 1 and len(searches) == 2:
                return notice_of_disconnection(52, "idle too long")
            return alice(mid) + done_message(mid)

        server = scripted(script)
        with LdapDirectory([server.url], base_dn=BASE_DN, search_timeout=2) as ldap:
            assert ldap.fetch(["alice@example.com"])
            assert ldap.fetch(["alice@example.com"])  # pooled one refused, fresh one answers
        assert server.connections == 2

    def test_notice_on_a_fresh_connection_is_unavailable(
        self, scripted: Callable[[Script], ScriptedServer]
    ) -> None:
        server = scripted(lambda _n, _mid, _tag, _req: notice_of_disconnection(51, "overloaded"))
        with LdapDirectory([server.url], base_dn=BASE_DN, search_timeout=2) as ldap:
            with pytest.raises(DirectoryUnavailable, match="closing the connection: busy"):
                ldap.fetch(["alice@example.com"])
        assert server.connections == 1  # no retry: the connection was new

    def test_hang_up_on_a_pooled_connection_is_retried(
        self, scripted: Callable[[Script], ScriptedServer], people: People
    ) -> None:
        alice = _alice(people)

        def script(number: int, mid: int, _tag: int, _req: bytes) -> bytes | None:
            searches = [r for r in server.requests if r[0] == number and r[2] == 3]
            if number == 1 and len(searches) == 2:
                return None
            return alice(mid) + done_message(mid)

        server = scripted(script)
        with LdapDirectory([server.url], base_dn=BASE_DN, search_timeout=2) as ldap:
            ldap.fetch(["alice@example.com"])
            assert ldap.fetch(["alice@example.com"])
        assert server.connections == 2

    def test_extra_bytes_after_the_answer(
        self, scripted: Callable[[Script], ScriptedServer], people: People
    ) -> None:
        alice = _alice(people)
        server = scripted(
            lambda _n, mid, _tag, _req: alice(mid) + done_message(mid) + done_message(mid)
        )
        with LdapDirectory([server.url], base_dn=BASE_DN, search_timeout=2) as ldap:
            assert ldap.fetch(["alice@example.com"])  # the answer itself was complete
            assert ldap.fetch(["alice@example.com"])
        assert server.connections == 2  # but the connection was not trusted again

    @pytest.mark.slow
    def test_half_an_answer_then_silence(
        self, scripted: Callable[[Script], ScriptedServer], people: People
    ) -> None:
        alice = _alice(people)
        server = scripted(lambda _n, mid, _tag, _req: alice(mid)[:-20])
        with LdapDirectory([server.url], base_dn=BASE_DN, search_timeout=1) as ldap:
            started = time.monotonic()
            with pytest.raises(DirectoryUnavailable, match="no complete answer within 1 s"):
                ldap.fetch(["alice@example.com"])
        assert time.monotonic() - started < 2.5

    def test_message_ids_never_collide_with_ldap3s(
        self, scripted: Callable[[Script], ScriptedServer], people: People
    ) -> None:
        alice = _alice(people)

        def script(_n: int, mid: int, tag: int, _req: bytes) -> bytes:
            if tag == 0:  # BindRequest
                return bind_response(mid)
            return alice(mid) + done_message(mid)

        server = scripted(script)
        with LdapDirectory(
            [server.url], base_dn=BASE_DN, bind_dn="cn=reader", password="x", search_timeout=2
        ) as ldap:
            for _ in range(3):
                assert ldap.fetch(["alice@example.com"])
        deadline = time.monotonic() + 2
        while not any(tag == 2 for _, _, tag in server.requests) and time.monotonic() < deadline:
            time.sleep(0.01)
        tags = [tag for _, _, tag in server.requests]
        ids = [mid for _, mid, _ in server.requests]
        assert tags == [0, 3, 3, 3, 2]  # bind, three searches, unbind
        assert len(set(ids)) == len(ids)
        assert ids == sorted(ids)

    def test_the_search_carries_the_addresses_as_octets(
        self, scripted: Callable[[Script], ScriptedServer]
    ) -> None:
        asked: list[list[bytes]] = []

        def script(_n: int, mid: int, _tag: int, request: bytes) -> bytes:
            asked.append(_asked(request))
            return done_message(mid)

        server = scripted(script)
        with LdapDirectory([server.url], base_dn=BASE_DN, search_timeout=2) as ldap:
            report = ldap.lookup(["*@example.com", "A@Example.com", "x\x00)(y"])
        assert asked == [[b"*@example.com", b"a@example.com", b"x\x00)(y"]]
        assert all(result.status == "not_found" for result in report.values())
