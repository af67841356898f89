"""Attachment bytes from the raw-bytes MIME walk, checked against the email package."""

from __future__ import annotations

import email
from email import policy as email_policy
from email.message import EmailMessage, Message

from hypothesis import given, settings
from hypothesis import strategies as st

from mailcore.sizing._imap import attachment_octets, parse_response
from mailcore.sizing._mime import (
    attachment_bytes,
    base64_octets_estimate,
    may_have_attachments,
    parse_parameters,
)


def oracle(data: bytes) -> int:
    """The same rule, through the email package's full parser (compat32)."""
    message = email.message_from_bytes(data)
    return _walk(message)


def _walk(part: Message) -> int:
    if part.is_multipart() and part.get_content_type() != "message/rfc822":
        payload = part.get_payload()
        assert isinstance(payload, list)
        total = 0
        for item in payload:
            assert isinstance(item, Message)
            total += _walk(item)
        return total
    if part.get_content_type() == "message/rfc822":
        return _raw_body_len(part)
    attachment = (
        part.get_content_disposition() == "attachment"
        or part.get_param("filename", header="content-disposition") is not None
        or part.get_param("name") is not None
    )
    if not attachment:
        return 0
    decoded = part.get_payload(decode=True)
    return len(decoded) if isinstance(decoded, bytes) else 0


def _raw_body_len(part: Message) -> int:
    inner = part.get_payload()
    assert isinstance(inner, list)
    assert isinstance(inner[0], Message)
    return len(inner[0].as_bytes())


_BLOB = st.binary(min_size=0, max_size=3000)


@settings(max_examples=80)
@given(
    text=st.text(alphabet=st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=200),
    blobs=st.lists(st.tuples(_BLOB, st.sampled_from(["attachment", "inline"])), max_size=4),
    nested=st.booleans(),
)
def test_matches_email_package(text: str, blobs: list[tuple[bytes, str]], nested: bool) -> None:
    message = EmailMessage()
    message["From"] = "a@example.com"
    message["Subject"] = "attachments"
    message.set_content(text + "\n")
    if nested:
        message.add_alternative("<p>hi</p>\n", subtype="html")
    for number, (blob, disposition) in enumerate(blobs):
        message.add_attachment(
            blob,
            maintype="application",
            subtype="octet-stream",
            filename=f"f{number}.bin" if disposition == "attachment" else None,
            disposition=disposition,
        )
    data = message.as_bytes(policy=email_policy.SMTP)
    expected = sum(len(blob) for blob, disposition in blobs if disposition == "attachment")
    assert oracle(data) == expected  # the oracle itself follows the rule
    assert attachment_bytes(data) == expected
    assert may_have_attachments(data.split(b"\r\n\r\n", 1)[0]) == bool(blobs or nested)


def test_quoted_printable_inline_image_and_forwarded_message() -> None:
    data = (
        b'Content-Type: multipart/mixed; boundary="outer"\n\n'
        b"--outer\nContent-Type: text/plain\n\nhello\n"
        b'--outer\nContent-Type: text/csv; name="a.csv"\n'
        b"Content-Transfer-Encoding: quoted-printable\n\n"
        b"a=3Db,c=\nd\n"
        b'--outer\nContent-Type: multipart/related; boundary="outerX"\n\n'
        b'--outerX\nContent-Type: image/png\nContent-Disposition: inline; filename="i.png"\n'
        b"Content-Transfer-Encoding: base64\n\naGVsbG8=\n--outerX--\n"
        b"--outer\nContent-Type: message/rfc822\n\nSubject: fwd\n\nbody\n"
        b"--outer--\n"
    )
    # "a=b,cd" (6: the last line break belongs to the delimiter) + "hello" (5) + the
    # forwarded message (18).
    assert attachment_bytes(data) == 6 + 5 + len(b"Subject: fwd\n\nbody")
    assert attachment_bytes(data) == oracle(data)


def test_single_part_attachment_and_no_attachment() -> None:
    pdf = (
        b"Content-Type: application/pdf\nContent-Disposition: attachment; filename=x.pdf\n"
        b"Content-Transfer-Encoding: base64\n\nQUJDREVGRw==\n"
    )
    assert may_have_attachments(pdf.split(b"\n\n")[0])
    assert attachment_bytes(pdf) == 7
    plain = b"Content-Type: text/plain\n\nFrom me\n"
    assert not may_have_attachments(plain.split(b"\n\n")[0])
    assert attachment_bytes(plain) == 0


def test_parameters() -> None:
    assert parse_parameters(b'multipart/mixed; boundary="a;b"; x=1') == (
        b"multipart/mixed",
        {b"boundary": b"a;b", b"x": b"1"},
    )
    assert parse_parameters(b"attachment; filename*0=a; filename*1=b")[1] == {b"filename": b"ab"}


def test_bodystructure() -> None:
    # RFC 3501 §7.4.2's example plus an attachment part with a disposition.
    raw = [
        b'1 (BODYSTRUCTURE (("TEXT" "PLAIN" ("CHARSET" "US-ASCII") NIL NIL "7BIT" 1152 23)'
        b'("APPLICATION" "PDF" ("NAME" "a.pdf") NIL NIL "BASE64" 780 NIL '
        b'("attachment" ("filename" "a.pdf")) NIL NIL)'
        b'("TEXT" "PLAIN" NIL NIL NIL "7BIT" 4554 73 NIL ("inline" NIL) NIL NIL) "MIXED"))'
    ]
    tokens = parse_response(raw)
    structure = tokens[1][1]
    assert attachment_octets(structure) == base64_octets_estimate(780) == 570
    literal = [
        (b'1 (BODYSTRUCTURE ("APPLICATION" "PDF" ({4}', b"name"),
        b' "x") NIL NIL "7BIT" 9))',
    ]
    assert attachment_octets(parse_response(literal)[1][1]) == 9
