"""Opening layered messages (RFC 8551 §3.7) and building them."""

from __future__ import annotations

import pytest

from mailcore.errors import MalformedSmime
from mailcore.smime._enveloped import encrypt_message
from mailcore.smime._open import open_message, sign_and_encrypt
from mailcore.smime._signed import sign_message
from mailcore.smime.pki import Identity, TestPKI

MESSAGE = (
    b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: Layers\r\n\r\n"
    b"The innermost content.\r\n"
)


@pytest.mark.parametrize("triple", [False, True])
def test_sign_encrypt_and_back(pki: TestPKI, alice: Identity, bob: Identity, triple: bool) -> None:
    wrapped = sign_and_encrypt(
        MESSAGE, alice.key, alice.certificate, [bob.certificate], chain=alice.chain, triple=triple
    )
    assert b"innermost" not in wrapped
    opened = open_message(wrapped, keys=[(bob.key, bob.certificate)], trust=[pki.root.certificate])
    kinds = [layer.kind for layer in opened.layers]
    assert kinds == (["signed", "encrypted", "signed"] if triple else ["encrypted", "signed"])
    assert opened.ok and opened.signed and opened.encrypted
    assert opened.message is not None
    assert opened.message.endswith(b"The innermost content.\r\n")
    assert b"Subject: Layers" in opened.message
    assert opened.to_dict()["layers"][0]["ok"] is True


def test_wrong_key_stops_and_releases_nothing(
    pki: TestPKI, alice: Identity, bob: Identity
) -> None:
    wrapped = sign_and_encrypt(MESSAGE, alice.key, alice.certificate, [bob.certificate])
    opened = open_message(
        wrapped, keys=[(alice.key, alice.certificate)], trust=[pki.root.certificate]
    )
    assert not opened.ok
    assert opened.message is None
    assert [(layer.kind, layer.reason) for layer in opened.layers] == [
        ("encrypted", "not_decrypted")
    ]


def test_bad_inner_signature_releases_nothing(
    pki: TestPKI, alice: Identity, bob: Identity
) -> None:
    signed = sign_message(MESSAGE, alice.key, alice.certificate, chain=alice.chain)
    tampered = signed.replace(b"innermost", b"outermost")
    wrapped = encrypt_message(tampered, [bob.certificate])
    opened = open_message(wrapped, keys=[(bob.key, bob.certificate)], trust=[pki.root.certificate])
    assert [layer.kind for layer in opened.layers] == ["encrypted", "signed"]
    assert opened.layers[1].reason == "content_mismatch"
    assert opened.message is None and not opened.signed


def test_plain_message_has_no_layers() -> None:
    opened = open_message(MESSAGE)
    assert opened.layers == () and opened.message == MESSAGE and opened.ok


def test_pkcs7_mime_that_is_not_cms_is_malformed() -> None:
    broken = (
        b"From: a@example.com\r\n"
        b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nbm90IGNtcw==\r\n"
    )
    with pytest.raises(MalformedSmime):
        open_message(broken)
