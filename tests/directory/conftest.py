"""A real slapd loaded with people and certificates, and the PKITS directory."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import cryptography_vectors
import pybase64
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

from mailcore.smime.pki import Identity, TestPKI
from tests.slapd import Database, Slapd

BASE_DN = "dc=example,dc=com"
PKITS_DN = "O=Test Certificates 2011,C=US"
PKITS = Path(os.path.dirname(cryptography_vectors.__file__)) / "x509" / "PKITS_data"
BULK = 200

# The objectclasses pkits.ldif uses beyond OpenLDAP's core/cosine/
# inetorgperson.  The package's pkits.schema does not load in OpenLDAP 2.5
# ('&' separators, undefined attribute types), so only what the entries need.
# Also AD's proxyAddresses (its OID in AD's schema; OpenLDAP's msuser.schema
# needs the whole AD schema), for the "(proxyAddresses=smtp:...)" filter.
PKITS_SCHEMA = """\
objectclass ( 1.2.840.113533.7.67.14 NAME 'entrustDNQualifierUser' SUP top AUXILIARY
  MAY dnQualifier )
objectclass ( 1.3.6.1.4.1.18227.2.1.2 NAME 'opencaEmailAddress' SUP top AUXILIARY
  MAY ( mail $ email ) )
objectclass ( 1.2.840.113533.7.67.15 NAME 'entrustNamedObject' SUP top AUXILIARY
  MAY ( dc $ cn $ sn $ c $ l $ st $ o $ ou $ title $ name $ givenName $ initials $
  generationQualifier $ dmdName ) )
objectclass ( 1.2.840.113549.1.9.24.2 NAME 'naturalPerson' SUP top AUXILIARY
  MAY ( email $ pseudonym $ serialNumber ) )
attributetype ( 1.2.840.113556.1.2.210 NAME 'proxyAddresses'
  EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch
  SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )
objectclass ( 1.3.6.1.4.1.99999.1.1 NAME 'mailcoreTestAdUser' SUP top AUXILIARY
  MAY proxyAddresses )
"""


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(Encoding.DER)


def ldif_value(name: str, value: bytes) -> str:
    return f"{name}:: {pybase64.b64encode(value).decode()}"


def person_ldif(
    uid: str,
    mails: list[str],
    certificates: list[bytes] = (),  # type: ignore[assignment]
    bags: list[bytes] = (),  # type: ignore[assignment]
) -> str:
    lines = [
        f"dn: uid={uid},ou=people,{BASE_DN}",
        "objectClass: inetOrgPerson",
        f"uid: {uid}",
        f"cn: {uid}",
        f"sn: {uid}",
        *(f"mail: {mail}" for mail in mails),
        *(ldif_value("userCertificate;binary", value) for value in certificates),
        *(ldif_value("userSMIMECertificate", value) for value in bags),
    ]
    return "\n".join(lines) + "\n"


@dataclass
class People:
    """Who is in the test directory, and with what."""

    pki: TestPKI
    other_pki: TestPKI
    ids: dict[str, Identity] = field(default_factory=dict)
    entries: list[str] = field(default_factory=list)
    revoked: list[x509.Certificate] = field(default_factory=list)

    def add(self, uid: str, mails: list[str], certs: list[bytes], bags: list[bytes] = ()) -> None:  # type: ignore[assignment]
        self.entries.append(person_ldif(uid, mails, certs, bags))

    def ldif(self) -> str:
        head = (
            f"dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\n"
            f"o: Example\ndc: example\n\n"
            f"dn: ou=people,{BASE_DN}\nobjectClass: organizationalUnit\nou: people\n"
        )
        return head + "\n" + "\n".join(self.entries)


def build_people() -> People:
    pki = TestPKI()
    people = People(pki, TestPKI())
    ids = people.ids
    now = pki.now
    ids["alice"] = pki.issue("alice@example.com", "rsa2048")
    people.add("alice", ["alice@example.com"], [der(ids["alice"].certificate)])
    ids["bob-sign"] = pki.issue("bob@example.com", "rsa2048", usage="signing")
    ids["bob"] = pki.issue("bob@example.com", "p256", usage="encryption")
    people.add(
        "bob", ["bob@example.com"], [der(ids["bob-sign"].certificate), der(ids["bob"].certificate)]
    )
    people.add("carol", ["carol@example.com"], [])
    ids["dave-old"] = pki.issue(
        "dave@example.com", not_before=now - timedelta(days=800), not_after=now - timedelta(days=1)
    )
    ids["dave"] = pki.issue("dave@example.com", "p256", usage="encryption")
    people.add(
        "dave",
        ["dave@example.com"],
        [der(ids["dave-old"].certificate), der(ids["dave"].certificate)],
    )
    ids["mallory"] = pki.issue("mallory@example.com", "p256")
    people.add("erin", ["erin@example.com"], [der(ids["mallory"].certificate)])
    ids["frank"] = pki.issue("frank@example.com", "p256")
    # OpenLDAP checks userCertificate's syntax; userSMIMECertificate is an
    # octet string, so garbage can be stored there (AD checks neither).
    people.add(
        "frank", ["frank@example.com"], [der(ids["frank"].certificate)], [b"\x30\x03\x02\x01\x00"]
    )
    ids["grace"] = pki.issue("grace@example.com", "p384")
    bag = pkcs7.serialize_certificates(
        [ids["grace"].certificate, pki.issuing.certificate], Encoding.DER
    )
    people.add("grace", ["grace@example.com"], [], [bag])
    ids["henry"] = pki.issue("henry@example.com", "rsa1024")
    people.add("henry", ["henry@example.com"], [der(ids["henry"].certificate)])
    ids["ivan"] = pki.issue("ivan@example.com", "p256")
    people.revoked.append(ids["ivan"].certificate)
    people.add("ivan", ["ivan@example.com"], [der(ids["ivan"].certificate)])
    ids["judy"] = pki.issue(
        "judy@example.com",
        "p256",
        not_before=now + timedelta(days=10),
        not_after=now + timedelta(days=400),
    )
    people.add("judy", ["judy@example.com"], [der(ids["judy"].certificate)])
    ids["kim"] = people.other_pki.issue("kim@example.com", "p256")
    people.add("kim", ["kim@example.com"], [der(ids["kim"].certificate)])
    ids["leo-short"] = pki.issue("leo@example.com", "p256", not_after=now + timedelta(days=100))
    ids["leo"] = pki.issue("leo@example.com", "p256", not_after=now + timedelta(days=900))
    people.add(
        "leo",
        ["leo@example.com", "leo.alias@example.com"],
        [der(ids["leo-short"].certificate), der(ids["leo"].certificate)],
    )
    ids["sam"] = pki.issue(
        "sam@example.com", "p256", eku=(x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,)
    )
    people.add("sam", ["sam@example.com"], [der(ids["sam"].certificate)])
    ids["olga"] = pki.issue("olga@example.com", "p256")
    people.entries.append(
        f"dn: uid=olga,ou=people,{BASE_DN}\nobjectClass: inetOrgPerson\n"
        "objectClass: mailcoreTestAdUser\nuid: olga\ncn: olga\nsn: olga\n"
        "proxyAddresses: SMTP:Olga@Example.com\nproxyAddresses: smtp:o.alias@example.com\n"
        "proxyAddresses: X500:/o=Example/ou=people/cn=olga\n"
        + ldif_value("userCertificate;binary", der(ids["olga"].certificate))
        + "\n"
    )
    for number in range(1, BULK + 1):
        address = f"bulk{number:03d}@example.com"
        ids[address] = pki.issue(address, "p256", usage="encryption")
        people.add(f"bulk{number:03d}", [address], [der(ids[address].certificate)])
    return people


@pytest.fixture(scope="session")
def people() -> People:
    return build_people()


def pkits_ldif() -> str:
    return (PKITS / "pkits.ldif").read_text().replace("file:///tmp/", f"file://{PKITS}/")


@pytest.fixture(scope="session")
def extra_schema(tmp_path_factory: pytest.TempPathFactory) -> Path:
    schema = tmp_path_factory.mktemp("schema") / "mailcore-tests.schema"
    schema.write_text(PKITS_SCHEMA)
    return schema


@pytest.fixture(scope="session")
def slapd(people: People, extra_schema: Path) -> Iterator[Slapd]:
    schema = extra_schema
    pki = people.pki
    server = pki.server("localhost")
    ca = pki.root.certificate_pem() + pki.issuing.certificate_pem()
    instance = Slapd(
        [Database(BASE_DN, f"cn=admin,{BASE_DN}"), Database(PKITS_DN, f"cn=admin,{PKITS_DN}")],
        extra_schemas=(schema,),
        tls=(server.certificate_pem() + server.chain_pem(), server.key_pem(), ca),
    )
    instance.start()
    try:
        instance.add(people.ldif())
        instance.add(pkits_ldif(), database=1)
        yield instance
    finally:
        instance.remove()


@pytest.fixture(scope="session")
def ca_file(people: People, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    path.write_bytes(people.pki.root.certificate_pem() + people.pki.issuing.certificate_pem())
    return path
