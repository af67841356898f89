"""Directory benchmarks (issue: certificate directory), on a real slapd started here.

* ``directory.batched.50`` — one :meth:`LdapDirectory.lookup` of a 50-recipient
  message (cache off: one OR-filter search, then each certificate parsed and
  checked) against the peer doing what a naive gateway does: one ldap3 search
  per recipient on an open connection (no certificate parsing at all).
  Both sides talk to the same slapd over plain LDAP on an already open
  connection.  Where the time goes on ours: slapd's own work for the one
  search (~0.5 ms here), the certificate checks (~12 us per recipient, most
  of it cryptography parsing the extensions), and mailcore's own BER search
  (the filter template is compiled once, each address inserted as octets;
  the answer decoded without ldap3's general-purpose response decoder).
* ``directory.cached.1000`` — a lookup of 1,000 addresses answered from the
  cache; the goal (100 lookups/s) is 100,000 addresses/s.  Peer: the same
  1,000 addresses as one batched search without cache.
"""

from __future__ import annotations

import atexit
from functools import cache

from ldap3 import ANONYMOUS, NONE, SUBTREE, Connection, Server

from benchmarks._harness import Benchmark, Goal
from mailcore.directory import LdapDirectory, LookupCache
from mailcore.smime.pki import TestPKI
from tests.slapd import Database, Slapd

__all__ = ["BENCHMARKS"]

BASE_DN = "dc=example,dc=com"
PEOPLE = 1000
RECIPIENTS = [f"user{n:04d}@example.com" for n in range(50)]
EVERYONE = [f"user{n:04d}@example.com" for n in range(PEOPLE)]


def _ldif(pki: TestPKI) -> str:
    import pybase64
    from cryptography.hazmat.primitives.serialization import Encoding

    records = [
        f"dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\no: x\ndc: example\n",
        f"dn: ou=people,{BASE_DN}\nobjectClass: organizationalUnit\nou: people\n",
    ]
    for address in EVERYONE:
        uid = address.split("@")[0]
        der = pki.issue(address, "p256", usage="encryption").certificate.public_bytes(Encoding.DER)
        records.append(
            f"dn: uid={uid},ou=people,{BASE_DN}\nobjectClass: inetOrgPerson\nuid: {uid}\n"
            f"cn: {uid}\nsn: {uid}\nmail: {address}\n"
            f"userCertificate;binary:: {pybase64.b64encode(der).decode()}\n"
        )
    return "\n".join(records)


@cache
def _server() -> Slapd:
    slapd = Slapd([Database(BASE_DN, f"cn=admin,{BASE_DN}")]).start()
    atexit.register(slapd.remove)
    slapd.add(_ldif(TestPKI()))
    return slapd


@cache
def _uncached() -> LdapDirectory:
    return LdapDirectory([_server().url], base_dn=BASE_DN, batch_size=50)


@cache
def _cached() -> LdapDirectory:
    directory = LdapDirectory(
        [_server().url],
        base_dn=BASE_DN,
        cache=LookupCache(positive_ttl=3600, negative_ttl=300),
    )
    directory.lookup(EVERYONE)  # fill the cache
    return directory


@cache
def _peer_connection() -> Connection:
    server = Server("127.0.0.1", port=int(_server().url.rsplit(":", 1)[1]), get_info=NONE)
    connection = Connection(server, authentication=ANONYMOUS, auto_bind=True)
    return connection


def _batched() -> None:
    report = _uncached().lookup(RECIPIENTS)
    assert len(report) == 50 and all(result.found for result in report.values())


def _one_search_per_recipient() -> None:
    connection = _peer_connection()
    for address in RECIPIENTS:
        connection.search(
            BASE_DN, f"(mail={address})", SUBTREE, attributes=["userCertificate;binary"]
        )
        assert connection.response is not None
        assert len(connection.response) == 1


def _cached_lookup() -> None:
    _cached().lookup(EVERYONE)


def _everyone_uncached() -> None:
    _uncached().lookup(EVERYONE)


BENCHMARKS = [
    Benchmark(
        "directory.batched.50",
        "LdapDirectory.lookup of 50 recipients (cache off) on a local slapd",
        _batched,
        "ldap3: one search per recipient",
        _one_search_per_recipient,
        Goal(ratio=5.0),
    ),
    Benchmark(
        "directory.cached.1000 (x1000 = addresses/s)",
        "LdapDirectory.lookup of 1,000 cached addresses",
        _cached_lookup,
        "LdapDirectory.lookup of 1,000, cache off",
        _everyone_uncached,
        Goal(rate=100.0),
    ),
]
