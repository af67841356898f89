"""decrypt_message: round trips with encrypt_message, CMS that mailcore
does not write itself (built here by hand from the RFCs), the input forms it
accepts, and failures: one DecryptionFailed for everything on the merits,
MalformedSmime for input that does not parse, nothing else."""

from __future__ import annotations

import base64
import dataclasses
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from asn1crypto import cms  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa, x25519
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from cryptography.x509.oid import NameOID
from hypothesis import given
from hypothesis import strategies as st

from mailcore.errors import (
    DecryptionFailed,
    KeyLoadError,
    MalformedInput,
    MalformedSmime,
    UnsupportedAlgorithm,
)
from mailcore.smime import _der
from mailcore.smime._decrypt import (
    DECRYPTION_FAILED,
    DecryptResult,
    PrivateKey,
    decrypt_message,
)
from mailcore.smime._enveloped import CipherName, encrypt_message
from mailcore.smime.pki import Identity, TestPKI

MESSAGE = (
    b"From: alice@example.com\r\n"
    b"To: bob@example.com\r\n"
    b"Subject: Figures\r\n"
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"The figures for the third quarter are attached.\r\n"
)
ENTITY = (
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"\r\n"
    b"The figures for the third quarter are attached.\r\n"
)
CIPHERS: list[CipherName] = ["aes-128-cbc", "aes-256-cbc", "aes-128-gcm", "aes-256-gcm"]
KINDS = ["rsa-v15", "rsa-oaep", "p256", "p384", "p521", "x25519"]
KEY_ENCRYPTION = {
    "rsa-v15": "rsa-pkcs1v15",
    "rsa-oaep": "rsaes-oaep-sha256",
    "p256": "ecdh-x963-sha256",
    "p384": "ecdh-x963-sha384",
    "p521": "ecdh-x963-sha512",
    "x25519": "ecdh-x963-sha256",
}
ALLOWED = (MalformedSmime, DecryptionFailed, UnsupportedAlgorithm)

# Identifiers from the RFCs, written out independently of mailcore's tables.
DATA = "1.2.840.113549.1.7.1"
ENVELOPED = "1.2.840.113549.1.7.3"
AUTH_ENVELOPED = "1.2.840.113549.1.9.16.1.23"
AES128_CBC, AES192_CBC, AES256_CBC = (
    "2.16.840.1.101.3.4.1.2",
    "2.16.840.1.101.3.4.1.22",
    "2.16.840.1.101.3.4.1.42",
)
AES128_GCM, AES256_GCM = "2.16.840.1.101.3.4.1.6", "2.16.840.1.101.3.4.1.46"
DES_EDE3_CBC = "1.2.840.113549.3.7"
AES128_WRAP, AES256_WRAP = "2.16.840.1.101.3.4.1.5", "2.16.840.1.101.3.4.1.45"
X963_SHA256 = "1.3.132.1.11.1"
HKDF_SHA256 = "1.2.840.113549.1.9.16.3.19"


@pytest.fixture(scope="module")
def people(pki: TestPKI) -> dict[str, Identity]:
    return {
        kind: pki.issue(f"{kind}@example.com", kind, usage="encryption")
        for kind in ("rsa2048", "p256", "p384", "p521", "x25519")
    }


@pytest.fixture(scope="module")
def outsiders(pki: TestPKI) -> dict[str, Identity]:
    return {
        kind: pki.issue(f"eve-{kind}@example.com", kind, usage="encryption")
        for kind in ("rsa2048", "p256", "x25519")
    }


def key_of(person: Identity) -> PrivateKey:
    """The identity's key, as decrypt_message takes it."""
    assert isinstance(
        person.key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey
    )
    return person.key


def person_for(people: dict[str, Identity], kind: str) -> Identity:
    return people["rsa2048" if kind.startswith("rsa") else kind]


def body_der(message: bytes) -> bytes:
    """The base64 body of a one-part message, decoded (RFC 2045 §6.8)."""
    _, _, body = message.partition(b"\r\n\r\n")
    return base64.b64decode(body)


def smime(
    der: bytes, content_type: str = "application/pkcs7-mime; smime-type=enveloped-data"
) -> bytes:
    return (
        b"To: bob@example.com\r\nMIME-Version: 1.0\r\n"
        + f"Content-Type: {content_type}\r\n".encode()
        + b"Content-Transfer-Encoding: base64\r\n\r\n"
        + base64.encodebytes(der).replace(b"\n", b"\r\n")
    )


# -- hand-built CMS (RFC 5652 §6, RFC 5083, RFC 5753, RFC 8418) ----------------------


def issuer_and_serial(certificate: x509.Certificate) -> bytes:
    return _der.sequence(
        certificate.issuer.public_bytes(), _der.integer(certificate.serial_number)
    )


def ktri(
    certificate: x509.Certificate, encrypted_key: bytes, algorithm: bytes | None = None
) -> bytes:
    algorithm = algorithm or _der.sequence(_der.oid("1.2.840.113549.1.1.1"), _der.null())
    return _der.sequence(
        _der.integer(0),
        issuer_and_serial(certificate),
        algorithm,
        _der.octet_string(encrypted_key),
    )


def rsa_v15(certificate: x509.Certificate, cek: bytes) -> bytes:
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return ktri(certificate, key.encrypt(cek, asym_padding.PKCS1v15()))


def kari(
    certificates: list[x509.Certificate],
    cek: bytes,
    *,
    scheme: str = X963_SHA256,
    ukm: bytes | None = None,
) -> bytes:
    """One KeyAgreeRecipientInfo for same-curve recipients sharing one
    ephemeral key (RFC 5652 §6.2.2 allows several recipientEncryptedKeys)."""
    first = certificates[0].public_key()
    wrap_oid = AES128_WRAP if len(cek) == 16 else AES256_WRAP
    key_wrap = _der.sequence(_der.oid(wrap_oid))
    ephemeral: ec.EllipticCurvePrivateKey | x25519.X25519PrivateKey
    if isinstance(first, x25519.X25519PublicKey):
        ephemeral = x25519.X25519PrivateKey.generate()
        point = ephemeral.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        algorithm = _der.sequence(_der.oid("1.3.101.110"))
    else:
        assert isinstance(first, ec.EllipticCurvePublicKey)
        ephemeral = ec.generate_private_key(first.curve)
        point = ephemeral.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        algorithm = _der.sequence(_der.oid("1.2.840.10045.2.1"))
    keys = []
    for certificate in certificates:
        peer = certificate.public_key()
        if isinstance(ephemeral, x25519.X25519PrivateKey):
            assert isinstance(peer, x25519.X25519PublicKey)
            shared = ephemeral.exchange(peer)
        else:
            assert isinstance(peer, ec.EllipticCurvePublicKey)
            shared = ephemeral.exchange(ec.ECDH(), peer)
        # RFC 5753 §7.2 ECC-CMS-SharedInfo.
        info = _der.sequence(
            key_wrap,
            *([_der.context(0, _der.octet_string(ukm))] if ukm is not None else []),
            _der.context(2, _der.octet_string((len(cek) * 8).to_bytes(4, "big"))),
        )
        if scheme == HKDF_SHA256:
            kek = HKDF(hashes.SHA256(), len(cek), salt=None, info=info).derive(shared)
        else:
            kek = X963KDF(hashes.SHA256(), len(cek), info).derive(shared)
        keys.append(
            _der.sequence(
                issuer_and_serial(certificate), _der.octet_string(aes_key_wrap(kek, cek))
            )
        )
    body = (
        _der.integer(3)
        + _der.context(0, _der.context(1, algorithm + _der.tlv(0x03, b"\x00" + point)))
        + (_der.context(1, _der.octet_string(ukm)) if ukm is not None else b"")
        + _der.sequence(_der.oid(scheme), key_wrap)
        + _der.sequence(*keys)
    )
    return _der.context(1, body)


def enveloped(infos: list[bytes], algorithm: bytes, ciphertext: bytes) -> bytes:
    body = _der.sequence(
        _der.integer(2),
        _der.set_of(*infos),
        _der.sequence(_der.oid(DATA), algorithm, _der.context(0, ciphertext, constructed=False)),
    )
    return _der.sequence(_der.oid(ENVELOPED), _der.context(0, body))


def auth_enveloped(
    infos: list[bytes], algorithm: bytes, ciphertext: bytes, mac: bytes, auth_attrs: bytes = b""
) -> bytes:
    body = _der.sequence(
        _der.integer(0),
        _der.set_of(*infos),
        _der.sequence(_der.oid(DATA), algorithm, _der.context(0, ciphertext, constructed=False)),
        *([_der.context(1, auth_attrs)] if auth_attrs else []),
        _der.octet_string(mac),
    )
    return _der.sequence(_der.oid(AUTH_ENVELOPED), _der.context(0, body))


def cbc(cipher_oid: str, cek: bytes, content: bytes, *, des: bool = False) -> tuple[bytes, bytes]:
    """(AlgorithmIdentifier, ciphertext) for CBC content encryption."""
    block = TripleDES(cek) if des else algorithms.AES(cek)
    iv = os.urandom(block.block_size // 8)
    padder = padding.PKCS7(block.block_size).padder()
    encryptor = Cipher(block, modes.CBC(iv)).encryptor()
    ciphertext = (
        encryptor.update(padder.update(content) + padder.finalize()) + encryptor.finalize()
    )
    return _der.sequence(_der.oid(cipher_oid), _der.octet_string(iv)), ciphertext


def gcm_algorithm(nonce: bytes, icv_length: int, oid: str = AES256_GCM) -> bytes:
    return _der.sequence(
        _der.oid(oid), _der.sequence(_der.octet_string(nonce), _der.integer(icv_length))
    )


# -- round trips -----------------------------------------------------------------------


class TestRoundTrip:
    @pytest.mark.parametrize("use_ski", [False, True], ids=["issuer-serial", "ski"])
    @pytest.mark.parametrize("kind", KINDS)
    @pytest.mark.parametrize("cipher", CIPHERS)
    def test_matrix(
        self, people: dict[str, Identity], cipher: CipherName, kind: str, use_ski: bool
    ) -> None:
        person = person_for(people, kind)
        out = encrypt_message(
            MESSAGE,
            [person.certificate],
            cipher=cipher,
            oaep=kind == "rsa-oaep",
            use_ski=use_ski,
        )
        result = decrypt_message(out, key_of(person), person.certificate)
        assert result.content == ENTITY
        assert result.cipher == cipher
        assert result.authenticated is cipher.endswith("gcm")
        assert result.recipient == ("subject_key_identifier" if use_ski else "issuer_and_serial")
        assert result.key_encryption == KEY_ENCRYPTION[kind]
        # Without the certificate the key is tried on every RecipientInfo.
        trial = decrypt_message(out, key_of(person))
        assert trial.content == ENTITY and trial.recipient == "trial"

    def test_many_mixed_recipients(self, people: dict[str, Identity], alice: Identity) -> None:
        everyone = [alice, *people.values()]
        for cipher in ("aes-256-cbc", "aes-128-gcm"):
            out = encrypt_message(MESSAGE, [p.certificate for p in everyone], cipher=cipher)
            for person in everyone:
                assert decrypt_message(out, key_of(person), person.certificate).content == ENTITY
                assert decrypt_message(out, key_of(person)).content == ENTITY

    @given(
        lines=st.lists(
            st.binary(max_size=120).filter(lambda b: b"\r" not in b and b"\n" not in b),
            max_size=30,
        ),
        cipher=st.sampled_from(CIPHERS),
        oaep=st.booleans(),
    )
    def test_random_content(
        self, bob: Identity, lines: list[bytes], cipher: CipherName, oaep: bool
    ) -> None:
        body = b"".join(line + b"\r\n" for line in lines)
        message = b"Subject: x\r\nContent-Type: application/octet-stream\r\n\r\n" + body
        out = encrypt_message(message, [bob.certificate], cipher=cipher, oaep=oaep)
        result = decrypt_message(out, key_of(bob), bob.certificate)
        assert result.content == b"Content-Type: application/octet-stream\r\n\r\n" + body

    def test_email_message_input(self, bob: Identity) -> None:
        import email
        import email.policy

        out = encrypt_message(MESSAGE, [bob.certificate])
        parsed = email.message_from_bytes(out, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        assert decrypt_message(parsed, key_of(bob)).content == ENTITY

    def test_result_is_frozen_and_summarised(self, bob: Identity) -> None:
        result = decrypt_message(encrypt_message(MESSAGE, [bob.certificate]), key_of(bob))
        assert result.to_dict() == {
            "cipher": "aes-256-cbc",
            "authenticated": False,
            "recipient": "trial",
            "key_encryption": "rsa-pkcs1v15",
            "size": len(ENTITY),
        }
        with pytest.raises(dataclasses.FrozenInstanceError):
            result.cipher = "x"  # type: ignore[misc]


@pytest.fixture(scope="module")
def der(bob: Identity) -> bytes:
    """A GCM message to bob, as DER."""
    return body_der(encrypt_message(MESSAGE, [bob.certificate], cipher="aes-128-gcm"))


class TestInputForms:
    @pytest.mark.parametrize(
        "content_type",
        [
            "application/x-pkcs7-mime; smime-type=enveloped-data; name=smime.p7m",
            'application/octet-stream; name="SMIME.P7M"',
            # smime-type is not trusted: the CMS content type decides
            "application/pkcs7-mime; smime-type=signed-data",
            "application/pkcs7-mime",
        ],
    )
    def test_content_types(self, bob: Identity, der: bytes, content_type: str) -> None:
        assert decrypt_message(smime(der, content_type), key_of(bob)).content == ENTITY

    def test_octet_stream_with_p7m_filename(self, bob: Identity, der: bytes) -> None:
        message = smime(der, "application/octet-stream").replace(
            b"MIME-Version: 1.0\r\n",
            b"MIME-Version: 1.0\r\nContent-Disposition: attachment; filename=mail.p7m\r\n",
        )
        assert decrypt_message(message, key_of(bob)).content == ENTITY

    def test_raw_der_and_pem(self, bob: Identity, der: bytes) -> None:
        assert decrypt_message(der, key_of(bob)).content == ENTITY
        pem = b"-----BEGIN CMS-----\n" + base64.encodebytes(der) + b"-----END CMS-----\n"
        assert decrypt_message(pem, key_of(bob)).content == ENTITY

    def test_binary_transfer_encoding(self, bob: Identity, der: bytes) -> None:
        message = (
            b"Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: binary\r\n\r\n"
            + der
        )
        assert decrypt_message(message, key_of(bob)).content == ENTITY


class TestStructuresMailcoreDoesNotWrite:
    """Decrypt paths for CMS that other agents send, built by hand."""

    def test_aes192_cbc(self, bob: Identity) -> None:
        cek = os.urandom(24)
        algorithm, ciphertext = cbc(AES192_CBC, cek, ENTITY)
        der = enveloped([rsa_v15(bob.certificate, cek)], algorithm, ciphertext)
        result = decrypt_message(smime(der), key_of(bob), bob.certificate)
        assert (result.content, result.cipher) == (ENTITY, "aes-192-cbc")

    def test_3des_and_allow_legacy(self, bob: Identity) -> None:
        cek = os.urandom(24)
        algorithm, ciphertext = cbc(DES_EDE3_CBC, cek, ENTITY, des=True)
        message = smime(enveloped([rsa_v15(bob.certificate, cek)], algorithm, ciphertext))
        result = decrypt_message(message, key_of(bob))
        assert (result.content, result.cipher) == (ENTITY, "des-ede3-cbc")
        with pytest.raises(UnsupportedAlgorithm, match="des-ede3-cbc"):
            decrypt_message(message, key_of(bob), allow_legacy=False)

    def test_auth_attributes_are_authenticated(self, bob: Identity) -> None:
        cek, nonce = os.urandom(32), os.urandom(12)
        # One attribute, contentType = id-data (RFC 5652 §11.1).
        attribute = _der.sequence(_der.oid("1.2.840.113549.1.9.3"), _der.set_of(_der.oid(DATA)))
        # RFC 5083 §2.2: the AAD is the DER with an EXPLICIT SET OF tag.
        aad = _der.set_of(attribute)
        sealed = AESGCM(cek).encrypt(nonce, ENTITY, aad)
        der = auth_enveloped(
            [rsa_v15(bob.certificate, cek)],
            gcm_algorithm(nonce, 16),
            sealed[:-16],
            sealed[-16:],
            auth_attrs=attribute,
        )
        assert decrypt_message(der, key_of(bob)).content == ENTITY
        # Changing the attribute (id-data -> id-signedData) breaks the tag.
        altered_attribute = _der.sequence(
            _der.oid("1.2.840.113549.1.9.3"), _der.set_of(_der.oid("1.2.840.113549.1.7.2"))
        )
        tampered = auth_enveloped(
            [rsa_v15(bob.certificate, cek)],
            gcm_algorithm(nonce, 16),
            sealed[:-16],
            sealed[-16:],
            auth_attrs=altered_attribute,
        )
        with pytest.raises(DecryptionFailed):
            decrypt_message(tampered, key_of(bob))

    def test_gcm_with_12_byte_tag(self, bob: Identity) -> None:
        cek, nonce = os.urandom(32), os.urandom(12)
        encryptor = Cipher(algorithms.AES(cek), modes.GCM(nonce)).encryptor()
        ciphertext = encryptor.update(ENTITY) + encryptor.finalize()
        tag = encryptor.tag[:12]
        infos = [rsa_v15(bob.certificate, cek)]
        der = auth_enveloped(infos, gcm_algorithm(nonce, 12), ciphertext, tag)
        result = decrypt_message(der, key_of(bob))
        assert result.content == ENTITY and result.authenticated
        bad = auth_enveloped(infos, gcm_algorithm(nonce, 12), ciphertext, bytes(12))
        with pytest.raises(DecryptionFailed):
            decrypt_message(bad, key_of(bob))

    def test_gcm_inside_enveloped_data(self, bob: Identity) -> None:
        # Not RFC 5084, but some senders do it: the tag after the ciphertext.
        cek, nonce = os.urandom(16), os.urandom(12)
        sealed = AESGCM(cek).encrypt(nonce, ENTITY, None)
        der = enveloped(
            [rsa_v15(bob.certificate, cek)], gcm_algorithm(nonce, 16, AES128_GCM), sealed
        )
        result = decrypt_message(der, key_of(bob))
        assert result.content == ENTITY and result.authenticated

    @pytest.mark.parametrize("ukm", [None, b"user keying material"])
    @pytest.mark.parametrize("scheme", [X963_SHA256, HKDF_SHA256], ids=["x963", "hkdf"])
    def test_x25519_kdfs(
        self, people: dict[str, Identity], scheme: str, ukm: bytes | None
    ) -> None:
        dana = people["x25519"]
        cek = os.urandom(32)
        algorithm, ciphertext = cbc(AES256_CBC, cek, ENTITY)
        der = enveloped(
            [kari([dana.certificate], cek, scheme=scheme, ukm=ukm)], algorithm, ciphertext
        )
        result = decrypt_message(der, key_of(dana), dana.certificate)
        assert result.content == ENTITY
        assert result.key_encryption == (
            "ecdh-hkdf-sha256" if scheme == HKDF_SHA256 else "ecdh-x963-sha256"
        )

    def test_one_kari_for_two_recipients(self, pki: TestPKI) -> None:
        first = pki.issue("one@example.com", "p256", usage="encryption")
        second = pki.issue("two@example.com", "p256", usage="encryption")
        cek = os.urandom(16)
        algorithm, ciphertext = cbc(AES128_CBC, cek, ENTITY)
        der = enveloped(
            [kari([first.certificate, second.certificate], cek, ukm=b"ukm")], algorithm, ciphertext
        )
        for person in (first, second):
            assert decrypt_message(der, key_of(person), person.certificate).content == ENTITY
            assert decrypt_message(der, key_of(person)).content == ENTITY

    def test_other_recipient_info_types_are_skipped(self, bob: Identity) -> None:
        cek = os.urandom(16)
        algorithm, ciphertext = cbc(AES128_CBC, cek, ENTITY)
        # KEKRecipientInfo [2] (RFC 5652 §6.2.3): version 4, kekid, aes128-wrap.
        kekri = _der.context(
            2,
            _der.integer(4)
            + _der.sequence(_der.octet_string(b"key-id"))
            + _der.sequence(_der.oid(AES128_WRAP))
            + _der.octet_string(os.urandom(24)),
        )
        der = enveloped([kekri, rsa_v15(bob.certificate, cek)], algorithm, ciphertext)
        assert decrypt_message(der, key_of(bob), bob.certificate).content == ENTITY

    def test_unknown_content_cipher(self, bob: Identity) -> None:
        cek = os.urandom(16)
        _, ciphertext = cbc(AES128_CBC, cek, ENTITY)
        camellia = _der.sequence(
            _der.oid("1.2.392.200011.61.1.1.1.2"), _der.octet_string(bytes(16))
        )
        der = enveloped([rsa_v15(bob.certificate, cek)], camellia, ciphertext)
        with pytest.raises(UnsupportedAlgorithm, match=r"1\.2\.392\.200011\.61\.1\.1\.1\.2"):
            decrypt_message(der, key_of(bob))

    def test_unsupported_key_transport_for_this_recipient(self, bob: Identity) -> None:
        cek = os.urandom(16)
        algorithm, ciphertext = cbc(AES128_CBC, cek, ENTITY)
        # RSAES-OAEP with MD5 (RFC 8017 lets it be named; mailcore has no MD5).
        md5 = _der.sequence(_der.oid("1.2.840.113549.2.5"), _der.null())
        oaep_md5 = _der.sequence(
            _der.oid("1.2.840.113549.1.1.7"), _der.sequence(_der.context(0, md5))
        )
        der = enveloped([ktri(bob.certificate, os.urandom(256), oaep_md5)], algorithm, ciphertext)
        with pytest.raises(UnsupportedAlgorithm, match="RSAES-OAEP"):
            decrypt_message(der, key_of(bob), bob.certificate)

    def test_require_authenticated(self, bob: Identity) -> None:
        cbc_message = encrypt_message(MESSAGE, [bob.certificate], cipher="aes-256-cbc")
        with pytest.raises(UnsupportedAlgorithm, match="integrity"):
            decrypt_message(cbc_message, key_of(bob), require_authenticated=True)
        gcm_message = encrypt_message(MESSAGE, [bob.certificate], cipher="aes-256-gcm")
        result = decrypt_message(gcm_message, key_of(bob), require_authenticated=True)
        assert result.authenticated


# -- failures: one DecryptionFailed, no oracle ----------------------------------------


def failure(call: Callable[[], object]) -> str:
    with pytest.raises(DecryptionFailed) as caught:
        call()
    assert type(caught.value) is DecryptionFailed
    return str(caught.value)


class TestDecryptionFailed:
    @pytest.mark.parametrize("kind", ["rsa2048", "p256", "x25519"])
    @pytest.mark.parametrize("cipher", ["aes-256-cbc", "aes-256-gcm"])
    def test_wrong_key_and_not_a_recipient(
        self,
        people: dict[str, Identity],
        outsiders: dict[str, Identity],
        kind: str,
        cipher: CipherName,
    ) -> None:
        out = encrypt_message(MESSAGE, [people[kind].certificate], cipher=cipher)
        eve = outsiders[kind]
        messages = {
            failure(lambda: decrypt_message(out, key_of(eve))),
            failure(lambda: decrypt_message(out, key_of(eve), eve.certificate)),
        }
        assert messages == {DECRYPTION_FAILED}

    def test_rsa_key_for_ec_message(self, people: dict[str, Identity], bob: Identity) -> None:
        out = encrypt_message(MESSAGE, [people["p256"].certificate])
        assert failure(lambda: decrypt_message(out, key_of(bob))) == DECRYPTION_FAILED

    @pytest.mark.parametrize("cipher", ["aes-128-cbc", "aes-256-cbc"])
    def test_tampered_cbc_padding(self, bob: Identity, cipher: CipherName) -> None:
        der = bytearray(body_der(encrypt_message(MESSAGE, [bob.certificate], cipher=cipher)))
        # Flip the high bit of the next-to-last ciphertext block's last byte:
        # the last plaintext byte (the PKCS #7 pad length) becomes >= 0x80.
        ciphertext_end = len(der)  # encryptedContent is the last thing in the DER
        der[ciphertext_end - 17] ^= 0x80
        assert failure(lambda: decrypt_message(bytes(der), key_of(bob))) == DECRYPTION_FAILED

    def test_tampered_cbc_content_is_not_detected(self, bob: Identity) -> None:
        # CBC has no integrity (why require_authenticated exists): a change
        # in the second block garbles it (and flips a bit of the third) and
        # is not noticed.  (A garbled first block no longer looks like a
        # MIME entity and is refused: see test_substitute_key_never_yields_content.)
        der = bytearray(
            body_der(encrypt_message(MESSAGE, [bob.certificate], cipher="aes-256-cbc"))
        )
        size = len(ENTITY) + 16 - len(ENTITY) % 16
        der[len(der) - size + 16] ^= 0x01
        result = decrypt_message(bytes(der), key_of(bob))
        assert result.content[:16] == ENTITY[:16]
        assert result.content[16:32] != ENTITY[16:32]
        assert result.content[48:] == ENTITY[48:]

    def test_garbled_first_block_refused_for_pkcs1v15(self, bob: Identity) -> None:
        # A first block that decrypts to garbage is no MIME entity: with PKCS#1
        # v1.5 key transport that is treated like a failed unwrap (implicit
        # rejection makes the two look alike), with the one failure message.
        # Garbage starts like an entity about 1 time in 100, so 5 tries.
        failures = 0
        for _ in range(5):
            der = bytearray(
                body_der(encrypt_message(MESSAGE, [bob.certificate], cipher="aes-256-cbc"))
            )
            der[len(der) - (len(ENTITY) + 16 - len(ENTITY) % 16)] ^= 0x01
            try:
                decrypt_message(bytes(der), key_of(bob))
            except DecryptionFailed as error:
                assert str(error) == DECRYPTION_FAILED
                failures += 1
        assert failures >= 3

    @pytest.mark.parametrize("where", ["tag", "ciphertext", "nonce"])
    def test_tampered_gcm(self, bob: Identity, where: str) -> None:
        der = bytearray(
            body_der(encrypt_message(MESSAGE, [bob.certificate], cipher="aes-256-gcm"))
        )
        # AuthEnvelopedData ends with ... encryptedContent, mac (04 10 + 16 bytes).
        assert der[-18:-16] == b"\x04\x10"
        position = {
            "tag": len(der) - 1,
            "ciphertext": len(der) - 19,
            "nonce": der.index(_der.oid(AES256_GCM)) + len(_der.oid(AES256_GCM)) + 4,
        }[where]
        der[position] ^= 0x01
        assert failure(lambda: decrypt_message(bytes(der), key_of(bob))) == DECRYPTION_FAILED

    def test_truncated_gcm_tag(self, bob: Identity) -> None:
        cek, nonce = os.urandom(32), os.urandom(12)
        sealed = AESGCM(cek).encrypt(nonce, ENTITY, None)
        der = auth_enveloped(
            [rsa_v15(bob.certificate, cek)], gcm_algorithm(nonce, 16), sealed[:-16], sealed[-16:-4]
        )
        assert failure(lambda: decrypt_message(der, key_of(bob))) == DECRYPTION_FAILED

    @pytest.mark.parametrize("cipher_oid", [AES256_CBC, AES256_GCM])
    def test_bad_pkcs1_padding_fails_like_a_wrong_key(
        self, bob: Identity, cipher_oid: str
    ) -> None:
        """RFC 3218 §2.3.2: an encryptedKey whose padding is wrong, or whose
        key has the wrong length, fails exactly as a wrong key does."""
        key = bob.certificate.public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        n = key.public_numbers().n
        cek, nonce = os.urandom(32), os.urandom(12)
        if cipher_oid == AES256_GCM:
            algorithm = gcm_algorithm(nonce, 16)
            sealed = AESGCM(cek).encrypt(nonce, ENTITY, None)

            def build(encrypted_key: bytes) -> bytes:
                info = ktri(bob.certificate, encrypted_key)
                return auth_enveloped([info], algorithm, sealed[:-16], sealed[-16:])
        else:
            algorithm, ciphertext = cbc(AES256_CBC, cek, ENTITY)

            def build(encrypted_key: bytes) -> bytes:
                return enveloped([ktri(bob.certificate, encrypted_key)], algorithm, ciphertext)

        bad_padding = (int.from_bytes(os.urandom(255), "big") % n).to_bytes(256, "big")
        short_key = key.encrypt(cek[:5], asym_padding.PKCS1v15())
        long_key = key.encrypt(cek + b"x", asym_padding.PKCS1v15())
        other_cek = key.encrypt(os.urandom(32), asym_padding.PKCS1v15())
        wrong_length = bad_padding[:100]
        assert (
            decrypt_message(build(key.encrypt(cek, asym_padding.PKCS1v15())), key_of(bob)).content
            == ENTITY
        )

        def attempt(encrypted: bytes) -> Callable[[], object]:
            return lambda: decrypt_message(build(encrypted), key_of(bob), bob.certificate)

        messages = {
            failure(attempt(encrypted))
            for encrypted in (bad_padding, short_key, long_key, other_cek, wrong_length)
        }
        assert messages == {DECRYPTION_FAILED}

    def test_substitute_key_never_yields_content(self, bob: Identity) -> None:
        """A random stand-in key (bad padding) decrypts CBC to valid padding
        about once in 256 tries; that garbage must never be returned."""
        cek = os.urandom(16)
        algorithm, ciphertext = cbc(AES128_CBC, cek, b"x")
        key = bob.certificate.public_key()
        assert isinstance(key, rsa.RSAPublicKey)
        n = key.public_numbers().n
        for _ in range(1000):
            garbage = (int.from_bytes(os.urandom(256), "big") % n).to_bytes(256, "big")
            der = enveloped([ktri(bob.certificate, garbage)], algorithm, ciphertext)
            with pytest.raises(DecryptionFailed):
                decrypt_message(der, key_of(bob), bob.certificate)

    def test_issuer_and_serial_both_match(self, bob: Identity) -> None:
        # RFC 5652 §10.2.4: serial numbers are unique per issuer only.  A
        # certificate from another CA with bob's serial (and, to make a
        # wrong match visible, bob's key) names a different recipient.
        now = datetime.now(UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        twin = (
            x509.CertificateBuilder()
            .subject_name(bob.certificate.subject)
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Another CA")]))
            .public_key(bob.certificate.public_key())
            .serial_number(bob.certificate.serial_number)
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .sign(ca_key, hashes.SHA256())
        )
        assert twin.serial_number == bob.certificate.serial_number
        out = encrypt_message(MESSAGE, [twin])
        assert decrypt_message(out, key_of(bob), twin).content == ENTITY
        assert failure(lambda: decrypt_message(out, key_of(bob), bob.certificate)) == (
            DECRYPTION_FAILED
        )

    def test_oaep_failure_is_the_same(self, bob: Identity) -> None:
        out = bytearray(body_der(encrypt_message(MESSAGE, [bob.certificate], oaep=True)))
        ktri = cms.ContentInfo.load(bytes(out))["content"]["recipient_infos"][0].chosen
        start = out.index(ktri["encrypted_key"].native)
        out[start + 100] ^= 0x01
        assert failure(lambda: decrypt_message(bytes(out), key_of(bob))) == DECRYPTION_FAILED

    def test_tampered_ec_wrapped_key(self, people: dict[str, Identity]) -> None:
        person = people["p384"]
        der = bytearray(
            body_der(encrypt_message(MESSAGE, [person.certificate], cipher="aes-256-gcm"))
        )
        kari = cms.ContentInfo.load(bytes(der))["content"]["recipient_infos"][0].chosen
        wrapped = kari["recipient_encrypted_keys"][0]["encrypted_key"].native
        assert len(wrapped) == 40  # RFC 3394: the 32-byte key plus 8
        der[der.index(wrapped) + 5] ^= 0x01
        assert failure(lambda: decrypt_message(bytes(der), key_of(person))) == DECRYPTION_FAILED


# -- malformed input -------------------------------------------------------------------


P7M = b"Content-Type: application/pkcs7-mime\r\n"


class TestMalformed:
    @pytest.mark.parametrize("cut", [1, 10, 100, 300])
    def test_truncated_der(self, bob: Identity, der: bytes, cut: int) -> None:
        with pytest.raises(MalformedSmime):
            decrypt_message(smime(der[:-cut]), key_of(bob))
        with pytest.raises(MalformedSmime):
            decrypt_message(der[:-cut], key_of(bob))

    def test_trailing_garbage(self, bob: Identity, der: bytes) -> None:
        with pytest.raises(MalformedSmime):
            decrypt_message(der + b"\x00\x01", key_of(bob))

    @pytest.mark.parametrize(
        "message",
        [
            b"Content-Type: text/plain\r\n\r\nhello\r\n",
            b"Content-Type: application/octet-stream; name=x.bin\r\n\r\nAAAA\r\n",
            b'Content-Type: multipart/signed; boundary="b"\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n',
            P7M + b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n",
            P7M + b"Content-Transfer-Encoding: base64\r\n\r\n",
            P7M + b"Content-Transfer-Encoding: base64\r\n\r\naGVsbG8=\r\n",  # "hello"
            P7M + b"Content-Transfer-Encoding: quoted-printable\r\n\r\nx\r\n",
            b"  not a header\r\n\r\n",
            b"",
            b"-----BEGIN CMS-----\nAAAA\n",
            b"-----BEGIN CMS-----\n!!\n-----END CMS-----\n",
        ],
    )
    def test_framing(self, bob: Identity, message: bytes) -> None:
        with pytest.raises(MalformedSmime) as caught:
            decrypt_message(message, key_of(bob))
        assert isinstance(caught.value, MalformedInput) and isinstance(caught.value, ValueError)

    def test_signed_data_is_not_enveloped(self, bob: Identity) -> None:
        signed = _der.sequence(
            _der.oid("1.2.840.113549.1.7.2"),
            _der.context(
                0,
                _der.sequence(
                    _der.integer(1), _der.set_of(), _der.sequence(_der.oid(DATA)), _der.set_of()
                ),
            ),
        )
        with pytest.raises(MalformedSmime, match="signed_data"):
            decrypt_message(smime(signed), key_of(bob))

    def test_bad_iv_length(self, bob: Identity) -> None:
        cek = os.urandom(16)
        _, ciphertext = cbc(AES128_CBC, cek, ENTITY)
        algorithm = _der.sequence(_der.oid(AES128_CBC), _der.octet_string(bytes(8)))
        with pytest.raises(MalformedSmime, match="IV"):
            decrypt_message(
                enveloped([rsa_v15(bob.certificate, cek)], algorithm, ciphertext), key_of(bob)
            )

    def test_bad_gcm_parameters(self, bob: Identity) -> None:
        cek = os.urandom(32)
        der = auth_enveloped(
            [rsa_v15(bob.certificate, cek)], gcm_algorithm(bytes(12), 4), b"x", b"y"
        )
        with pytest.raises(MalformedSmime, match="GCMParameters"):
            decrypt_message(der, key_of(bob))


class TestKeys:
    def test_unsupported_key_type(self, pki: TestPKI, bob: Identity) -> None:
        carlos = pki.issue("carlos@example.com", "ed25519", usage="signing")
        out = encrypt_message(MESSAGE, [bob.certificate])
        with pytest.raises(UnsupportedAlgorithm, match="Ed25519"):
            decrypt_message(out, carlos.key)

    def test_not_a_key(self, bob: Identity) -> None:
        out = encrypt_message(MESSAGE, [bob.certificate])
        with pytest.raises(TypeError):
            decrypt_message(out, bob.key_pem())  # type: ignore[arg-type]

    def test_certificate_of_another_key(self, alice: Identity, bob: Identity) -> None:
        out = encrypt_message(MESSAGE, [bob.certificate])
        with pytest.raises(KeyLoadError):
            decrypt_message(out, key_of(bob), alice.certificate)


# -- fuzzing: only the three deliberate errors come out ---------------------------------


@pytest.fixture(scope="module")
def seeds(people: dict[str, Identity], bob: Identity) -> list[tuple[bytes, Identity]]:
    made = []
    cases: list[tuple[Identity, CipherName, bool]] = [
        (bob, "aes-256-cbc", False),
        (bob, "aes-128-gcm", True),
        (people["p256"], "aes-256-gcm", False),
        (people["x25519"], "aes-128-cbc", False),
    ]
    for person, cipher, oaep in cases:
        out = encrypt_message(
            MESSAGE, [person.certificate], cipher=cipher, oaep=oaep, use_ski=oaep
        )
        made.append((body_der(out), person))
    return made


def outcome(der: bytes, person: Identity, with_certificate: bool) -> DecryptResult | None:
    certificate = person.certificate if with_certificate else None
    try:
        return decrypt_message(der, key_of(person), certificate)
    except ALLOWED:
        return None


class TestFuzz:
    @given(data=st.binary(max_size=2000))
    def test_random_bytes(self, bob: Identity, data: bytes) -> None:
        outcome(data, bob, True)
        outcome(b"\x30\x82" + data, bob, False)  # into the DER path
        outcome(smime(data), bob, False)  # into the MIME path

    @given(
        pick=st.integers(0, 3),
        edits=st.lists(
            st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
            min_size=1,
            max_size=6,
        ),
        cut=st.one_of(st.none(), st.floats(0, 1)),
        with_certificate=st.booleans(),
    )
    def test_mutated_der(
        self,
        seeds: list[tuple[bytes, Identity]],
        pick: int,
        edits: list[tuple[float, int]],
        cut: float | None,
        with_certificate: bool,
    ) -> None:
        der, person = seeds[pick]
        mutated = bytearray(der)
        for where, value in edits:
            mutated[int(where * len(mutated))] = value
        if cut is not None:
            mutated = mutated[: int(cut * len(mutated))]
        result = outcome(bytes(mutated), person, with_certificate)
        if result is not None and result.authenticated:
            # An authenticated result is the real content or nothing.
            assert result.content == ENTITY
