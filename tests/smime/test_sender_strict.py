"""Who signed is who the report shows (issue 17.2, 17.5).

RFC 5322 §3.6 allows one From field; §3.6.2 wants a Sender when From names
several authors.  A signature by alice must never read as a valid message
from someone else, however the From field is written.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailcore._address import strict_mailboxes
from mailcore.smime._open import open_message
from mailcore.smime._signed import sign_message
from mailcore.smime._verify import verify_message
from mailcore.smime.pki import Identity, TestPKI

ALICE = "alice@example.com"
BODY = b"To: bob@example.com\r\nSubject: Plan\r\n\r\nThe plan.\r\n"


def signed_with_header(alice: Identity, header: str) -> bytes:
    """alice's multipart/signed message with ``header`` (CRLF-joined fields)
    in place of its From field: the outer header is not signed."""
    signed = sign_message(
        f"From: {ALICE}\r\n".encode() + BODY, alice.key, alice.certificate, chain=alice.chain
    )
    head, rest = signed.split(b"\r\n", 1)
    assert head == f"From: {ALICE}".encode()
    return header.encode() + b"\r\n" + rest


@pytest.mark.parametrize(
    "header",
    [
        f"From: {ALICE}",
        f"From: Alice Citizen <{ALICE}>",
        f'From: "Citizen, Alice" <{ALICE}>',
        f"From: Alice A. Citizen <{ALICE}> (work)",
        f"From: {ALICE.upper()}",
        f"From: ceo@agency.gov.au, {ALICE}\r\nSender: {ALICE}",
        f"From: {ALICE}\r\nSender: {ALICE}",
    ],
)
def test_a_plain_sender_verifies(pki: TestPKI, alice: Identity, header: str) -> None:
    result = verify_message(signed_with_header(alice, header), trust=[pki.root.certificate])
    assert (result.valid, result.reason) == (True, None)
    assert result.signers[0].email == ALICE


@pytest.mark.parametrize(
    "header",
    [
        # a second From field, the forged one first
        f"From: ceo@agency.gov.au\r\nFrom: {ALICE}",
        f"From: {ALICE}\r\nFrom: ceo@agency.gov.au",
        # several authors and no Sender: alice alone signed
        f"From: ceo@agency.gov.au, {ALICE}",
        f"From: {ALICE}, ceo@agency.gov.au",
        # the CVE-2023-27043 parse: getaddresses used to read alice here
        f"From: ceo@agency.gov.au)<{ALICE}>",
        f"From: ceo@agency.gov.au (<{ALICE}>",
        f'From: "ceo@agency.gov.au <{ALICE}>',
        # two addresses in one mailbox, a group, an empty element
        f"From: ceo@agency.gov.au <{ALICE}>",
        f"From: Team: {ALICE};",
        f"From: {ALICE},",
        # Sender fields that do not say who sent it
        f"From: {ALICE}\r\nSender: {ALICE}\r\nSender: ceo@agency.gov.au",
        f"From: ceo@agency.gov.au, {ALICE}\r\nSender: {ALICE}, ceo@agency.gov.au",
        # no From at all
        "Reply-To: alice@example.com",
    ],
)
def test_an_ambiguous_sender_is_a_mismatch(pki: TestPKI, alice: Identity, header: str) -> None:
    result = verify_message(signed_with_header(alice, header), trust=[pki.root.certificate])
    assert (result.valid, result.reason) == (False, "sender_mismatch")
    assert result.content is None


def test_the_sender_check_can_be_turned_off(pki: TestPKI, alice: Identity) -> None:
    message = signed_with_header(alice, f"From: ceo@agency.gov.au, {ALICE}")
    result = verify_message(message, trust=[pki.root.certificate], check_sender=False)
    assert result.valid


class TestStrictMailboxes:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("a@b.example", ("a@b.example",)),
            ("<a@b.example>", ("a@b.example",)),
            ('"Smith, J" <j@x.example>, k@y.example', ("j@x.example", "k@y.example")),
            ('"a b"@x.example', ('"a b"@x.example',)),
            ('"alice"@x.example', ("alice@x.example",)),
            ("x@[192.0.2.1]", ("x@[192.0.2.1]",)),
            ("=?utf-8?q?J=C3=B6?= <jo@x.example>", ("jo@x.example",)),
            ("Jö <jö@x.example>", ("jö@x.example",)),
            ("(c (nested)) a@b.example (trailing)", ("a@b.example",)),
        ],
    )
    def test_valid(self, value: str, expected: tuple[str, ...]) -> None:
        assert strict_mailboxes(value) == expected

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "   ",
            "a@b)<c@d>",
            "a@b (unclosed",
            '"unclosed <a@b>',
            "a@b <c@d>",
            "A <a@b> <c@d>",
            "<a@b",
            "group: a@b;",
            "a@b,",
            ",a@b",
            "a..b@c",
            ".a@b",
            "a@b.",
            "a@@b",
            "ab",
            "a@b\x00",
            "[a]@b",
        ],
    )
    def test_refused(self, value: str) -> None:
        assert strict_mailboxes(value) is None

    @given(
        names=st.lists(
            st.tuples(
                st.lists(
                    st.from_regex(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,8}", fullmatch=True),
                    max_size=3,
                ),
                st.from_regex(r"[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){0,2}", fullmatch=True),
                st.from_regex(r"[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){1,2}", fullmatch=True),
            ),
            min_size=1,
            max_size=4,
        )
    )
    def test_built_lists_read_back(self, names: list[tuple[list[str], str, str]]) -> None:
        # An independent writer of RFC 5322 §3.4 name-addr / addr-spec lists.
        mailboxes, expected = [], []
        for words, local, domain in names:
            address = f"{local}@{domain}"
            expected.append(address)
            mailboxes.append(f"{' '.join(words)} <{address}>" if words else address)
        assert strict_mailboxes(", ".join(mailboxes)) == tuple(expected)

    @given(st.text(max_size=200))
    def test_any_text_gives_addresses_or_none(self, value: str) -> None:
        found = strict_mailboxes(value)
        assert found is None or (found and all("@" in address for address in found))

    def test_linear_on_long_input(self) -> None:
        # Bounded: a 60 KB field of specials is read (and refused) at once.
        assert strict_mailboxes("(" * 60_000) is None
        assert strict_mailboxes("a@b, " * 12_000 + "a@b") is not None
        assert strict_mailboxes("x" * 100_000 + "@b") is None  # over the field bound


def test_outer_signature_around_a_failed_inner_one_is_not_signed(
    pki: TestPKI, alice: Identity
) -> None:
    """Issue 17.5: a valid outer signature (anyone's) around an inner one
    that failed must not give ``signed: true``."""
    carol = pki.issue("carol@example.com", "rsa2048")
    inner = sign_message(
        f"From: {ALICE}\r\n".encode() + BODY, carol.key, carol.certificate, chain=carol.chain
    )
    outer = sign_message(inner, alice.key, alice.certificate, chain=alice.chain)
    opened = open_message(outer, trust=[pki.root.certificate])
    assert [(layer.kind, layer.ok, layer.reason) for layer in opened.layers] == [
        ("signed", True, None),
        ("signed", False, "sender_mismatch"),
    ]
    assert opened.message is None
    assert opened.signed is False
    assert opened.to_dict()["signed"] is False


def test_both_layers_valid_is_signed(pki: TestPKI, alice: Identity) -> None:
    inner = sign_message(
        f"From: {ALICE}\r\n".encode() + BODY, alice.key, alice.certificate, chain=alice.chain
    )
    outer = sign_message(inner, alice.key, alice.certificate, chain=alice.chain)
    opened = open_message(outer, trust=[pki.root.certificate])
    assert opened.ok and opened.signed and opened.message is not None
