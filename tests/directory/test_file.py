"""FileDirectory (LDIF file or certificate folder), the LDIF reader, and filter escaping."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given
from hypothesis import strategies as st

from mailcore import MalformedInput
from mailcore.directory import (
    FileDirectory,
    FilterTemplate,
    MemoryDirectory,
    escape_filter_value,
    open_directory,
    read_ldif,
)
from mailcore.policy import policy_from_mapping
from tests.directory.conftest import People


class TestLdif:
    def test_folded_base64_and_comments(self) -> None:
        value = bytes(range(256))
        encoded = base64.b64encode(value).decode()
        folded = "\n ".join(encoded[i : i + 60] for i in range(0, len(encoded), 60))
        text = (
            "version: 1\n# a comment\n#  continued\n"
            f"dn: uid=a,dc=x\nmail: a@x.example\nuserCertificate;binary:: {folded}\n"
            "cn: A long\n  name\n\ndn: uid=b,dc=x\nmail:b@x.example\n"
        )
        entries = read_ldif(text.encode())
        assert [e.dn for e in entries] == ["uid=a,dc=x", "uid=b,dc=x"]
        assert entries[0].values("userCertificate") == (value,)
        assert entries[0].values("cn") == (b"A long name",)
        assert entries[1].values("mail") == (b"b@x.example",)

    def test_file_url_values(self, tmp_path: Path) -> None:
        (tmp_path / "c.der").write_bytes(b"\x30\x00")
        entries = read_ldif(
            f"dn: cn=a\nuserCertificate;binary:< file://{tmp_path}/c.der\n".encode()
        )
        assert entries[0].values("usercertificate") == (b"\x30\x00",)

    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("mail: a@x\n", r"line 1.*must start with 'dn:'"),
            ("dn: a\nno colon here\n", r"line 2.*attribute: value"),
            ("dn: a\nmail:: !!!\n", r"line 2.*base64"),
            ("dn: a\nchangetype: modify\n", r"line 2.*change records"),
            ("dn: a\nx:< http://evil.example/x\n", r"only file://"),
            ("dn: a\nx:< file:///nonexistent/x\n", r"cannot be read"),
        ],
    )
    def test_errors_name_the_line(self, text: str, message: str) -> None:
        with pytest.raises(MalformedInput, match=message):
            read_ldif(text.encode(), where="d.ldif")

    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["mail", "cn", "userCertificate;binary"]),
                st.binary(max_size=80),
            ),
            min_size=1,
            max_size=6,
        )
    )
    def test_base64_round_trip(self, attributes: list[tuple[str, bytes]]) -> None:
        lines = ["dn: cn=x"] + [f"{n}:: {base64.b64encode(v).decode()}" for n, v in attributes]
        (entry,) = read_ldif("\n".join(lines).encode())
        for name in {n for n, _ in attributes}:
            assert entry.values(name) == tuple(v for n, v in attributes if n == name)


class TestFileDirectory:
    def test_ldif_like_ldap(self, people: People, tmp_path: Path) -> None:
        path = tmp_path / "d.ldif"
        path.write_text(people.ldif())
        directory = FileDirectory(path)
        report = directory.lookup(["alice@example.com", "bob@example.com", "carol@example.com"])
        assert report["alice@example.com"].certificate == people.ids["alice"].certificate
        assert report["bob@example.com"].certificate == people.ids["bob"].certificate
        assert report["carol@example.com"].status == "not_found"

    def test_proxy_addresses_form(self, people: People, tmp_path: Path) -> None:
        certificate = people.ids["alice"].certificate.public_bytes(Encoding.DER)
        path = tmp_path / "ad.ldif"
        path.write_text(
            "dn: cn=Alice,dc=corp\nproxyAddresses: SMTP:Alice@Example.com\n"
            "proxyAddresses: X500:/o=corp/cn=alice\n"
            f"userCertificate:: {base64.b64encode(certificate).decode()}\n"
        )
        directory = FileDirectory(path, filter="(proxyAddresses=smtp:{address})")
        assert directory.lookup(["alice@example.com"])["alice@example.com"].found
        assert directory.addresses() == ("alice@example.com",)

    def test_folder_of_certificates(self, people: People, tmp_path: Path) -> None:
        (tmp_path / "alice.pem").write_bytes(people.ids["alice"].certificate_pem())
        (tmp_path / "dave.der").write_bytes(
            people.ids["dave"].certificate.public_bytes(Encoding.DER)
        )
        (tmp_path / "notes.txt").write_text("not a certificate")
        directory = FileDirectory(tmp_path)
        report = directory.lookup(["alice@example.com", "dave@example.com", "bob@example.com"])
        assert [r.status for r in report.values()] == ["found", "found", "not_found"]
        assert [Path(p).name for p, _ in directory.problems] == ["notes.txt"]

    def test_missing_file(self, tmp_path: Path) -> None:
        with pytest.raises(MalformedInput, match="does not exist"):
            FileDirectory(tmp_path / "nope.ldif")

    def test_open_directory_from_policy(self, people: People, tmp_path: Path) -> None:
        (tmp_path / "people.ldif").write_text(people.ldif())
        (tmp_path / "root.pem").write_bytes(people.pki.root.certificate_pem())
        (tmp_path / "issuing.pem").write_bytes(people.pki.issuing.certificate_pem())
        policy = policy_from_mapping(
            {
                "directory": {
                    "source": "file",
                    "file": "people.ldif",
                    "trust_anchors": ["root.pem"],
                    "intermediates": "issuing.pem",
                }
            }
        )
        directory = open_directory(policy, base=tmp_path)
        report = directory.lookup(["alice@example.com", "kim@example.com"])
        assert report["alice@example.com"].found
        assert [r.reason for r in report["kim@example.com"].rejected] == ["untrusted"]

    def test_memory_directory(self, people: People) -> None:
        directory = MemoryDirectory({"Alice@example.com": [people.ids["alice"].certificate]})
        assert directory.lookup(["alice@example.com"])["alice@example.com"].found


class TestFilter:
    def test_escapes(self) -> None:
        assert escape_filter_value("*()\\\x00a") == r"\2a\28\29\5c\00a"

    def test_batched_or_filter(self) -> None:
        template = FilterTemplate.parse("(&(objectClass=person)(mail={address}))")
        assert template.attribute == "mail"
        assert template.for_addresses(["a@x", "*@x"]) == (
            r"(|(&(objectClass=person)(mail=a@x))(&(objectClass=person)(mail=\2a@x)))"
        )

    @given(st.text())
    @pytest.mark.slow
    def test_escaped_value_has_no_bare_specials(self, value: str) -> None:
        escaped = escape_filter_value(value)
        assert not re.search(r"[*()\x00]", escaped)
        # every backslash starts an escape of two hex digits (RFC 4515 §3)
        assert re.fullmatch(r"(?:[^\\]|\\[0-9a-f]{2})*", escaped, re.S)
        unescaped = re.sub(r"\\([0-9a-f]{2})", lambda m: chr(int(m.group(1), 16)), escaped)
        assert unescaped == value

    def test_address_of_prefix(self) -> None:
        template = FilterTemplate.parse("(proxyAddresses=smtp:{address})")
        assert template.address_of("SMTP:Bob@X.example") == "bob@x.example"
        assert template.address_of("X500:/o=x") is None
