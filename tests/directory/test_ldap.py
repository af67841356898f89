"""LdapDirectory against a real slapd: finding, choosing, batching, TLS, injection."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given, settings
from hypothesis import strategies as st

from mailcore import DirectoryUnavailable
from mailcore.directory import CertificateSelector, LdapDirectory, LookupCache
from tests.directory.conftest import BASE_DN, BULK, PKITS, PKITS_DN, People
from tests.slapd import ROOT_PASSWORD, Slapd


def directory(slapd: Slapd, **options: object) -> LdapDirectory:
    options.setdefault("base_dn", BASE_DN)
    options.setdefault("search_timeout", 5)
    options.setdefault("connect_timeout", 2)
    return LdapDirectory([slapd.url], **options)  # type: ignore[arg-type]


class CountingDirectory(LdapDirectory):
    """Counts the searches sent (one per chunk)."""

    searches = 0

    def _search_chunk(self, chunk: list[str]) -> dict[str, list[bytes]]:
        type(self).searches += 1
        return super()._search_chunk(chunk)


def sha(identity_certificate: object) -> str:
    import hashlib

    return hashlib.sha256(identity_certificate.public_bytes(Encoding.DER)).hexdigest()  # type: ignore[attr-defined]


class TestFinding:
    def test_found_with_certificate(self, slapd: Slapd, people: People) -> None:
        with directory(slapd) as ldap:
            result = ldap.lookup(["alice@example.com"])["alice@example.com"]
        assert result.status == "found"
        assert result.certificate == people.ids["alice"].certificate
        assert result.to_dict()["certificate"]["sha256"] == sha(people.ids["alice"].certificate)
        assert result.rejected == ()

    def test_not_found_without_entry_or_certificate(self, slapd: Slapd) -> None:
        with directory(slapd) as ldap:
            report = ldap.lookup(["nobody@example.com", "carol@example.com"])
        assert report.to_dict() == {
            "nobody@example.com": {"status": "not_found", "certificate": None, "rejected": []},
            "carol@example.com": {"status": "not_found", "certificate": None, "rejected": []},
        }

    def test_address_case_does_not_matter(self, slapd: Slapd, people: People) -> None:
        with directory(slapd) as ldap:
            report = ldap.lookup(["ALICE@Example.COM"])
        assert list(report) == ["alice@example.com"]
        assert report["alice@example.com"].certificate == people.ids["alice"].certificate

    def test_encryption_only_chosen_over_signing_only(self, slapd: Slapd, people: People) -> None:
        with directory(slapd) as ldap:
            result = ldap.lookup(["bob@example.com"])["bob@example.com"]
        assert result.certificate == people.ids["bob"].certificate
        assert [r.to_dict() for r in result.rejected] == [
            {"sha256": sha(people.ids["bob-sign"].certificate), "reason": "wrong_key_usage"}
        ]

    def test_expired_rejected_valid_used(self, slapd: Slapd, people: People) -> None:
        with directory(slapd) as ldap:
            result = ldap.lookup(["dave@example.com"])["dave@example.com"]
        assert result.certificate == people.ids["dave"].certificate
        assert [(r.sha256, r.reason) for r in result.rejected] == [
            (sha(people.ids["dave-old"].certificate), "expired")
        ]

    def test_another_persons_certificate(self, slapd: Slapd, people: People) -> None:
        with directory(slapd) as ldap:
            result = ldap.lookup(["erin@example.com"])["erin@example.com"]
        assert result.status == "no_valid_certificate"
        assert [(r.sha256, r.reason) for r in result.rejected] == [
            (sha(people.ids["mallory"].certificate), "address_mismatch")
        ]

    def test_malformed_value_skipped_others_used(self, slapd: Slapd, people: People) -> None:
        with directory(slapd) as ldap:
            result = ldap.lookup(["frank@example.com"])["frank@example.com"]
        assert result.certificate == people.ids["frank"].certificate
        assert [r.reason for r in result.rejected] == ["malformed"]

    def test_smime_certificate_bag(self, slapd: Slapd, people: People) -> None:
        with directory(slapd) as ldap:
            result = ldap.lookup(["grace@example.com"])["grace@example.com"]
        assert result.certificate == people.ids["grace"].certificate
        # the CA certificate in the bag is no certificate of grace's
        assert [r.reason for r in result.rejected] == ["address_mismatch"]

    def test_weak_not_yet_valid_wrong_eku(self, slapd: Slapd) -> None:
        with directory(slapd) as ldap:
            report = ldap.lookup(["henry@example.com", "judy@example.com", "sam@example.com"])
        reasons = {a: [x.reason for x in r.rejected] for a, r in report.items()}
        assert reasons == {
            "henry@example.com": ["weak_key"],
            "judy@example.com": ["not_yet_valid"],
            "sam@example.com": ["wrong_key_usage"],
        }
        assert all(r.status == "no_valid_certificate" for r in report.values())

    def test_latest_expiry_preferred(self, slapd: Slapd, people: People) -> None:
        with directory(slapd) as ldap:
            result = ldap.lookup(["leo@example.com"])["leo@example.com"]
        assert result.certificate == people.ids["leo"].certificate
        assert result.rejected == ()

    def test_alias_address_entry_but_certificate_names_other(self, slapd: Slapd) -> None:
        # The entry is found by its second mail value, but neither certificate
        # carries that address: RFC 8550 §3 wants the recipient's own address.
        with directory(slapd) as ldap:
            result = ldap.lookup(["leo.alias@example.com"])["leo.alias@example.com"]
        assert result.status == "no_valid_certificate"
        assert {r.reason for r in result.rejected} == {"address_mismatch"}

    def test_trust_anchors_and_crl(self, slapd: Slapd, people: People) -> None:
        selector = CertificateSelector(
            trust_anchors=[people.pki.root.certificate],
            intermediates=[people.pki.issuing.certificate],
            crls=[people.pki.crl(people.revoked)],
        )
        with directory(slapd, selector=selector) as ldap:
            report = ldap.lookup(["alice@example.com", "ivan@example.com", "kim@example.com"])
        assert report["alice@example.com"].found
        assert [r.reason for r in report["ivan@example.com"].rejected] == ["revoked"]
        assert [r.reason for r in report["kim@example.com"].rejected] == ["untrusted"]

    def test_active_directory_proxy_addresses(self, slapd: Slapd, people: People) -> None:
        with directory(slapd, filter="(proxyAddresses=smtp:{address})") as ldap:
            report = ldap.lookup(["olga@example.com", "o.alias@example.com", "alice@example.com"])
        assert report["olga@example.com"].certificate == people.ids["olga"].certificate
        # the alias finds the entry, but the certificate names only the primary address
        assert [r.reason for r in report["o.alias@example.com"].rejected] == ["address_mismatch"]
        assert report["alice@example.com"].status == "not_found"  # no proxyAddresses at all

    def test_without_anchors_other_ca_is_accepted(self, slapd: Slapd, people: People) -> None:
        with directory(slapd) as ldap:
            assert ldap.lookup(["kim@example.com"])["kim@example.com"].found


class TestBatching:
    def test_two_hundred_recipients_in_four_searches(self, slapd: Slapd, people: People) -> None:
        addresses = [f"bulk{n:03d}@example.com" for n in range(1, BULK + 1)]
        CountingDirectory.searches = 0
        with CountingDirectory([slapd.url], base_dn=BASE_DN, batch_size=50) as ldap:
            report = ldap.lookup([*addresses, "nobody@example.com"])
        assert CountingDirectory.searches == 5  # ceil(201 / 50)
        assert len(report) == BULK + 1
        for address in addresses:
            assert report[address].certificate == people.ids[address].certificate
        assert report["nobody@example.com"].status == "not_found"

    def test_answers_go_to_the_right_address(self, slapd: Slapd, people: People) -> None:
        wanted = ["bob@example.com", "alice@example.com", "dave@example.com", "erin@example.com"]
        with directory(slapd, batch_size=10) as ldap:
            report = ldap.lookup(wanted)
        assert list(report) == wanted
        assert report["bob@example.com"].certificate == people.ids["bob"].certificate
        assert report["alice@example.com"].certificate == people.ids["alice"].certificate
        assert report["dave@example.com"].certificate == people.ids["dave"].certificate
        assert not report["erin@example.com"].found

    def test_threads_share_the_pool(self, slapd: Slapd, people: People) -> None:
        addresses = [f"bulk{n:03d}@example.com" for n in range(1, 41)]
        errors: list[BaseException] = []
        with directory(slapd, pool_size=3, batch_size=7) as ldap:

            def work(offset: int) -> None:
                try:
                    for _ in range(5):
                        chunk = addresses[offset : offset + 10]
                        report = ldap.lookup(chunk)
                        for address in chunk:
                            assert report[address].certificate == people.ids[address].certificate
                except BaseException as error:  # collected for the main thread
                    errors.append(error)

            threads = [threading.Thread(target=work, args=(i * 5,)) for i in range(6)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert errors == []

    def test_cache_answers_without_the_server(self, slapd: Slapd, people: People) -> None:
        clock = [0.0]
        cache = LookupCache(positive_ttl=60, negative_ttl=5, clock=lambda: clock[0])
        CountingDirectory.searches = 0
        with CountingDirectory([slapd.url], base_dn=BASE_DN, cache=cache) as ldap:
            ldap.lookup(["alice@example.com", "nobody@example.com"])
            ldap.lookup(["alice@example.com", "nobody@example.com"])
            assert CountingDirectory.searches == 1
            clock[0] = 10.0  # the negative answer is stale, the positive one is not
            report = ldap.lookup(["alice@example.com", "nobody@example.com"])
            assert CountingDirectory.searches == 2
            assert report["alice@example.com"].certificate == people.ids["alice"].certificate
            clock[0] = 100.0
            ldap.lookup(["alice@example.com"])
            assert CountingDirectory.searches == 3


class TestInjection:
    @pytest.mark.parametrize(
        "address",
        [
            "*@example.com",
            "*",
            "alice@example.com)(mail=*",
            "*)(|(mail=*",
            "alice@example.com\x00",
            "\\2a@example.com",
            "(alice@example.com)",
            "alice*",
        ],
    )
    def test_specials_match_nobody(self, slapd: Slapd, address: str) -> None:
        with directory(slapd) as ldap:
            found = ldap.fetch([address])
            result = ldap.lookup([address])[address]
        assert found == {}
        assert result.status == "not_found"

    def test_wildcard_in_a_batch_does_not_leak_certificates(self, slapd: Slapd) -> None:
        with directory(slapd) as ldap:
            found = ldap.fetch(["*@example.com", "alice@example.com"])
        assert list(found) == ["alice@example.com"]

    @settings(max_examples=40, deadline=None)
    @given(
        st.text(
            alphabet=st.sampled_from(list("*()\\\x00abc@.lice-xample")), min_size=1, max_size=24
        )
    )
    def test_only_exact_addresses_match(self, slapd: Slapd, address: str) -> None:
        with directory(slapd) as ldap:
            found = ldap.fetch([address])
        expected = (
            {"alice@example.com"} if address.strip().lower() == "alice@example.com" else set()
        )
        assert set(found) == expected


class TestTls:
    def test_ldaps_with_ca(self, slapd: Slapd, people: People, ca_file: Path) -> None:
        with LdapDirectory([slapd.tls_url], base_dn=BASE_DN, ca_file=str(ca_file)) as ldap:
            assert ldap.lookup(["alice@example.com"])["alice@example.com"].found

    def test_ldaps_unknown_ca_is_unavailable(self, slapd: Slapd) -> None:
        with LdapDirectory([slapd.tls_url], base_dn=BASE_DN, connect_timeout=2) as ldap:
            with pytest.raises(DirectoryUnavailable, match="no LDAP server answered"):
                ldap.lookup(["alice@example.com"])

    def test_starttls(self, slapd: Slapd, ca_file: Path) -> None:
        url = slapd.url.replace("127.0.0.1", "localhost")
        with LdapDirectory([url], base_dn=BASE_DN, starttls=True, ca_file=str(ca_file)) as ldap:
            assert ldap.lookup(["alice@example.com"])["alice@example.com"].found

    def test_starttls_host_name_checked(self, slapd: Slapd, ca_file: Path, people: People) -> None:
        # The server certificate names localhost and 127.0.0.1, not this name.
        url = f"ldap://127.0.0.2:{slapd.port}"
        with LdapDirectory(
            [url], base_dn=BASE_DN, starttls=True, ca_file=str(ca_file), connect_timeout=2
        ) as ldap:
            with pytest.raises(DirectoryUnavailable):
                ldap.lookup(["alice@example.com"])


class TestBind:
    def test_simple_bind(self, slapd: Slapd) -> None:
        with directory(slapd, bind_dn=f"cn=admin,{BASE_DN}", password=ROOT_PASSWORD) as ldap:
            assert ldap.lookup(["alice@example.com"])["alice@example.com"].found

    def test_wrong_password_is_a_clear_error(self, slapd: Slapd) -> None:
        with directory(slapd, bind_dn=f"cn=admin,{BASE_DN}", password="wrong") as ldap:
            with pytest.raises(
                DirectoryUnavailable, match=r"bind as 'cn=admin,.*refused: invalidCredentials"
            ):
                ldap.lookup(["alice@example.com"])

    def test_missing_base_dn(self, slapd: Slapd) -> None:
        with directory(slapd, base_dn="dc=nowhere,dc=org") as ldap:
            with pytest.raises(DirectoryUnavailable, match="does not exist"):
                ldap.lookup(["alice@example.com"])


class TestPkits:
    """The PKITS directory (cryptography-vectors' pkits.ldif) served by slapd."""

    def test_every_user_certificate_retrieved(self, slapd: Slapd) -> None:
        ldif = (PKITS / "pkits.ldif").read_text()
        # Several PKITS entries share a cn (in different subtrees): the
        # lookup by cn returns the certificates of all of them.
        expected: dict[str, set[bytes]] = {}
        for record in ldif.split("\n\n"):
            lines = record.splitlines()
            names = [line[4:].lower() for line in lines if line.startswith("cn: ")]
            files = [
                line.split("file:///tmp/", 1)[1]
                for line in lines
                if line.startswith("userCertificate;binary:< file:///tmp/")
            ]
            for name in names:
                for file in files:
                    expected.setdefault(name, set()).add((PKITS / file).read_bytes())
        assert sum(map(len, expected.values())) >= 210
        with LdapDirectory([slapd.url], base_dn=PKITS_DN, filter="(cn={address})") as ldap:
            found = ldap.fetch(sorted(expected))
        assert {name: set(values) for name, values in found.items()} == expected

    def test_pkits_certificates_name_no_mail_address(self, slapd: Slapd) -> None:
        with LdapDirectory([slapd.url], base_dn=PKITS_DN, filter="(cn={address})") as ldap:
            result = ldap.lookup(["Valid EE Certificate Test1"])["valid ee certificate test1"]
        # PKITS end entities carry no e-mail address: never usable for mail.
        assert result.status == "no_valid_certificate"
        assert [r.reason for r in result.rejected] == ["address_mismatch"]
