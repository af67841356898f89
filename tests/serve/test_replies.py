"""Which reply each pipeline error gets: temporary (the MTA retries) or permanent."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mailcore.errors import (
    DirectoryUnavailable,
    EncryptionRefused,
    KeyLoadError,
    MalformedMessage,
    MarkingDowngrade,
    MessageRefused,
    PolicyError,
    ServiceUnavailable,
)
from mailcore.serve import Reply, reply_for_error
from mailcore.serve._replies import clean_text

CASES = {
    "directory down": (DirectoryUnavailable("ldap://x: timed out"), 451, "4.4.3"),
    "service down": (ServiceUnavailable("imap down"), 451, "4.4.3"),
    "timeout": (TimeoutError(), 451, "4.3.0"),
    "bad key store": (KeyLoadError("bad PKCS #12"), 451, "4.3.5"),
    "bad policy": (PolicyError("x"), 451, "4.3.5"),
    "missing file": (FileNotFoundError(2, "No such file"), 451, "4.3.5"),
    "bug": (ZeroDivisionError(), 451, "4.3.0"),
    "encryption refused": (EncryptionRefused("no certificate for bob"), 550, "5.7.1"),
    "no signing key": (MessageRefused("no key for jo"), 550, "5.7.1"),
    "marking": (MarkingDowngrade("lower", original="A", requested="B"), 550, "5.7.1"),
    "malformed": (MalformedMessage("line 1: not a header field"), 554, "5.6.0"),
}


@pytest.mark.parametrize(("error", "code", "status"), CASES.values(), ids=list(CASES))
def test_reply_for_error(error: BaseException, code: int, status: str) -> None:
    reply = reply_for_error(error)
    assert (reply.code, reply.status) == (code, status)
    assert reply.decision == ("deferred" if code < 500 else "rejected")


def test_refusal_text_says_why() -> None:
    reply = reply_for_error(EncryptionRefused("carol@example.com (not_found)"))
    assert str(reply) == "550 5.7.1 Message refused by policy: carol@example.com (not_found)"


def test_internal_error_text_reveals_nothing() -> None:
    assert "secret" not in str(reply_for_error(RuntimeError("secret detail")))


@given(st.text(max_size=600))
def test_reply_is_one_printable_line(text: str) -> None:
    line = str(Reply(550, "5.7.1", text))
    # RFC 5321 §4.2 (a reply ends at CRLF) and §4.5.3.1.5 (512 octets with CRLF).
    assert all(0x20 <= ord(c) <= 0x7E for c in line)
    assert len(line) + 2 <= 512
    assert clean_text(clean_text(text)) == clean_text(text)


def test_replies_never_quote_message_bytes_or_servers() -> None:
    from mailcore.errors import DirectoryUnavailable, MalformedMessage
    from mailcore.serve._replies import reply_for_error

    malformed = reply_for_error(MalformedMessage("b'Subject: secret plans' is not a field"))
    assert malformed.code == 554 and "secret" not in str(malformed.text)
    down = reply_for_error(DirectoryUnavailable("no LDAP server answered (ldap://dc1.corp:389)"))
    assert down.code == 451 and "dc1.corp" not in str(down.text)
