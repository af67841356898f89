"""Byte-exact access to a message's header block (mailcore._message)."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailcore._message import RawMessage, as_bytes
from mailcore.errors import MalformedInput, MalformedMessage
from tests.utils import split_message

CRLF_MESSAGE = (
    b"Received: from a.example\r\n"
    b"\tby b.example; Tue, 1 Jan 2030 00:00:00 +0000\r\n"
    b"From: Jo Citizen <jo@agency.gov.au>\r\n"
    b"Subject: Budget\r\n"
    b"  and plans\r\n"
    b"subject: second\r\n"
    b"\r\n"
    b"Subject: in the body\r\n"
)


class TestSplit:
    def test_fields_found_in_order(self) -> None:
        raw = RawMessage(CRLF_MESSAGE)
        assert [f.name for f in raw.fields] == ["Received", "From", "Subject", "subject"]

    def test_field_spans_cover_the_header_block(self) -> None:
        raw = RawMessage(CRLF_MESSAGE)
        header, body = split_message(CRLF_MESSAGE)
        assert b"".join(raw.data[f.start : f.end] for f in raw.fields) == header
        assert raw.data[raw.body_start :] == body == b"Subject: in the body\r\n"

    def test_crlf_detected(self) -> None:
        assert RawMessage(CRLF_MESSAGE).linesep == b"\r\n"

    def test_lf_detected(self) -> None:
        assert RawMessage(CRLF_MESSAGE.replace(b"\r\n", b"\n")).linesep == b"\n"

    def test_body_fields_are_not_headers(self) -> None:
        assert RawMessage(CRLF_MESSAGE).get_all("Subject") == ["Budget  and plans", "second"]

    def test_header_only_message(self) -> None:
        raw = RawMessage(b"From: a@b.example\r\nSubject: x")
        assert raw.first("Subject") == "x"
        assert raw.body_start == len(raw.data)

    def test_message_with_empty_header_block(self) -> None:
        raw = RawMessage(b"\r\nonly a body\r\n")
        assert raw.fields == []
        assert raw.data[raw.body_start :] == b"only a body\r\n"

    def test_mbox_separator_line_skipped(self) -> None:
        raw = RawMessage(b"From jo@b.example Mon Jan  1 00:00:00 2030\nFrom: jo@b.example\n\nx\n")
        assert [f.name for f in raw.fields] == ["From"]

    def test_obsolete_space_before_colon(self) -> None:
        raw = RawMessage(b"From : jo@agency.gov.au\r\nSubject: x\r\n\r\nbody\r\n")
        assert raw.first("From") == "jo@agency.gov.au"
        assert [f.name for f in raw.fields] == ["From", "Subject"]

    def test_obsolete_space_before_colon_not_first(self) -> None:
        raw = RawMessage(b"Subject : x\r\nFrom: jo@agency.gov.au\r\n\r\nbody\r\n")
        assert raw.first("subject") == "x"


class TestValues:
    def test_lookup_is_case_insensitive(self) -> None:
        raw = RawMessage(CRLF_MESSAGE)
        assert raw.get_all("SUBJECT") == raw.get_all("subject")
        assert raw.first("from") == "Jo Citizen <jo@agency.gov.au>"

    def test_values_are_unfolded(self) -> None:
        # RFC 5322 §2.2.3: unfolding removes the CRLF before the WSP only.
        assert RawMessage(CRLF_MESSAGE).first("Received") == (
            "from a.example\tby b.example; Tue, 1 Jan 2030 00:00:00 +0000"
        )

    def test_absent_field(self) -> None:
        raw = RawMessage(CRLF_MESSAGE)
        assert raw.first("X-Protective-Marking") is None
        assert raw.get_all("X-Protective-Marking") == []

    def test_undecodable_bytes_survive(self) -> None:
        data = b"From: a@b.example\r\nSubject: caf\xc3\xa9 \xff\r\n\r\n"
        raw = RawMessage(data)
        value = raw.first("Subject")
        assert value is not None
        assert value.startswith("café ")
        assert raw.encode_field("Subject", value) == b"Subject: caf\xc3\xa9 \xff\r\n"


class TestEdits:
    def test_replace_keeps_every_other_byte(self) -> None:
        raw = RawMessage(CRLF_MESSAGE)
        subject = raw.fields[2]
        out = raw.replace_fields([(subject, raw.encode_field("Subject", "New"))])
        assert out == CRLF_MESSAGE.replace(
            b"Subject: Budget\r\n  and plans\r\n", b"Subject: New\r\n"
        )

    def test_remove_and_append(self) -> None:
        raw = RawMessage(CRLF_MESSAGE)
        out = raw.replace_fields([(raw.fields[3], b""), (None, raw.encode_field("X-New", "v"))])
        header, body = split_message(out)
        assert header.endswith(b"  and plans\r\nX-New: v\r\n")
        assert b"subject: second" not in header
        assert body == b"Subject: in the body\r\n"

    def test_append_uses_the_message_line_ending(self) -> None:
        raw = RawMessage(b"From: a@b.example\nSubject: x\n\nbody\n")
        out = raw.replace_fields([(None, raw.encode_field("X-New", "v"))])
        assert out == b"From: a@b.example\nSubject: x\nX-New: v\n\nbody\n"

    def test_append_to_header_only_message_without_final_break(self) -> None:
        raw = RawMessage(b"From: a@b.example\r\nSubject: x")
        out = raw.replace_fields([(None, raw.encode_field("X-New", "v"))])
        header, body = split_message(out)
        assert b"X-New: v\r\n" in header
        assert body == b""

    def test_replace_last_field_and_append_without_final_break(self) -> None:
        raw = RawMessage(b"From: a@b.example\r\nSubject: x")
        out = raw.replace_fields(
            [
                (raw.fields[1], raw.encode_field("Subject", "y")),
                (None, raw.encode_field("X-New", "v")),
            ]
        )
        header, body = split_message(out)
        assert header == b"From: a@b.example\r\nSubject: y\r\nX-New: v\r\n"
        assert body == b""


class TestInput:
    def test_email_message_accepted(self) -> None:
        message = EmailMessage()
        message["From"] = "Jo <jo@agency.gov.au>"
        message["Subject"] = "Hello"
        message.set_content("hello\n")
        raw = RawMessage(message)
        assert raw.first("From") == "Jo <jo@agency.gov.au>"
        assert raw.first("Subject") == "Hello"

    def test_bytearray_and_memoryview(self) -> None:
        assert as_bytes(bytearray(b"a: b\r\n")) == b"a: b\r\n"
        assert as_bytes(memoryview(b"a: b\r\n")) == b"a: b\r\n"

    def test_str_is_api_misuse(self) -> None:
        with pytest.raises(TypeError, match="str"):
            as_bytes("From: a@b.example\r\n\r\n")  # type: ignore[arg-type]


BAD_MESSAGES = {
    "empty": b"",
    "white-space-only": b"  \r\n \r\n",
    "starts-with-continuation": b" folded\r\nFrom: a@b.example\r\n\r\n",
    "line-without-colon": b"From: a@b.example\r\nnot a field\r\n\r\n",
    "binary-junk": b"\x00\xff\xfe\r\n\r\n",
    "space-in-name": b"Bad Name: x\r\n\r\n",
}


@pytest.mark.parametrize("data", BAD_MESSAGES.values(), ids=BAD_MESSAGES.keys())
def test_malformed_messages(data: bytes) -> None:
    with pytest.raises(MalformedMessage) as caught:
        RawMessage(data)
    assert isinstance(caught.value, MalformedInput)


def test_malformed_message_names_the_line() -> None:
    with pytest.raises(MalformedMessage, match="line 3"):
        RawMessage(b"From: a@b.example\r\nTo: c@d.example\r\nnot a field\r\n\r\n")


class TestAllAddresses:
    """The fast path must agree with email.utils.getaddresses."""

    @pytest.mark.parametrize(
        "value",
        [
            "a@example.com",
            "a@example.com, B <b@example.com>,c@example.com",
            '"Doe, Jo" <jo@example.com>, x@example.com',
            "undisclosed-recipients:;",
            "team: a@example.com, b@example.com;",
            "a@example.com (Alice), b@example.com",
            "Bob <bob@example.com>, , c@example.com",
            "not an address",
        ],
    )
    def test_matches_getaddresses(self, value: str) -> None:
        from email.utils import getaddresses

        from mailcore._address import all_addresses

        expected = [address for _, address in getaddresses([value]) if address]
        assert all_addresses([value]) == expected

    @given(
        st.lists(
            st.tuples(
                st.sampled_from(["", "Al", "Bo Bo"]),
                st.from_regex(r"[a-z]{1,8}@[a-z]{1,8}\.example", fullmatch=True),
            ),
            min_size=1,
            max_size=5,
        )
    )
    @pytest.mark.slow
    def test_generated_lists(self, mailboxes: list[tuple[str, str]]) -> None:
        from email.utils import getaddresses

        from mailcore._address import all_addresses

        value = ", ".join(f"{n} <{a}>" if n else a for n, a in mailboxes)
        assert all_addresses([value]) == [a for _, a in getaddresses([value]) if a]


_NAMES = st.sampled_from(["From", "to", "TO", "Cc", "Subject", "X-Tag", "Received", "bcc"])
_VALUE_LINE = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=12)


@st.composite
def _header_blocks(draw: st.DrawFn) -> tuple[bytes, list[tuple[str, bytes]]]:
    """A message and, independently, the (name, field bytes) it is made of."""
    linesep = draw(st.sampled_from([b"\r\n", b"\n"]))
    fields: list[tuple[str, bytes]] = []
    for _ in range(draw(st.integers(0, 8))):
        name = draw(_NAMES)
        lines = draw(st.lists(_VALUE_LINE, min_size=1, max_size=3))
        space = draw(st.sampled_from([b"", b" ", b"\t"]))
        text = name.encode() + space + b":" + b" " + lines[0].encode() + linesep
        text += b"".join(b" " + line.encode() + linesep for line in lines[1:])
        fields.append((name, text))
    body = linesep + b"To: not a header" + linesep
    return b"".join(text for _, text in fields) + body, fields


class TestLookupPaths:
    """Fields are found by a per-name scan on the first question and from an
    index of every field afterwards: both must give the same answer."""

    @given(_header_blocks())
    def test_fields_match_the_blocks_they_were_built_from(
        self, generated: tuple[bytes, list[tuple[str, bytes]]]
    ) -> None:
        data, built = generated
        if not built:
            return
        raw = RawMessage(data)
        assert [(f.name, data[f.start : f.end]) for f in raw.fields] == built

    @given(_header_blocks(), st.lists(_NAMES, min_size=1, max_size=3))
    def test_scan_and_index_agree(
        self, generated: tuple[bytes, list[tuple[str, bytes]]], names: list[str]
    ) -> None:
        data, built = generated
        if not built:
            return
        scanned = RawMessage(data).find_many(*names)
        indexed_message = RawMessage(data)
        indexed_message.find("Subject")  # the first question scans...
        indexed = indexed_message.find_many(*names)  # ...later ones use the index
        assert scanned == indexed
        for name in names:
            expected = [text for field_name, text in built if field_name.lower() == name.lower()]
            assert [data[f.start : f.end] for f in indexed[name.lower()]] == expected

    @given(
        _header_blocks(),
        st.lists(_NAMES, min_size=1, max_size=4),
        st.lists(st.lists(_NAMES, min_size=1, max_size=3), min_size=1, max_size=4),
    )
    def test_later_questions_agree_with_the_blocks(
        self,
        generated: tuple[bytes, list[tuple[str, bytes]]],
        first: list[str],
        later: list[list[str]],
    ) -> None:
        # The first scan's answer serves later questions about its names;
        # other names go to the index of every field.  Either way, and in
        # any order, the answer is the fields the message was built from.
        data, built = generated
        if not built:
            return
        message = RawMessage(data)
        for names in [first, *later]:
            answer = message.find_many(*names)
            for name in names:
                expected = [
                    text for field_name, text in built if field_name.lower() == name.lower()
                ]
                assert [data[f.start : f.end] for f in answer[name.lower()]] == expected
                assert [data[f.start : f.end] for f in message.find(name)] == expected
            # Answers are copies: changing one changes nothing later.
            for fields in answer.values():
                fields.clear()
