"""Interoperability of encrypt/decrypt with the ``openssl cms`` command
line (OpenSSL 3.0), in both directions.

mailcore -> openssl: ``openssl cms -decrypt -inkey KEY -recip CERT``
recovers the MIME entity byte for byte.  openssl -> mailcore: what
``openssl cms -encrypt`` writes (AES-CBC, AES-GCM AuthEnvelopedData, 3DES,
RSA-OAEP variants, ECDH with every KDF it offers, ``-keyid``, ``-stream``
BER, DER/PEM/S/MIME output) decrypts to the entity.  X25519 is not here:
OpenSSL 3.0 has no X25519 key agreement in CMS ("operation not supported
for this keytype"); mailcore's X25519 is covered by round trips.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import given, settings
from hypothesis import strategies as st

from mailcore.errors import DecryptionFailed, MalformedSmime, UnsupportedAlgorithm
from mailcore.smime._decrypt import DECRYPTION_FAILED, PrivateKey, decrypt_message
from mailcore.smime._enveloped import CipherName, encrypt_message
from mailcore.smime.pki import Identity, TestPKI
from tests.smime.conftest import run_openssl

MESSAGE = (
    b"From: alice@example.com\r\n"
    b"To: bob@example.com, carol@example.com\r\n"
    b"Subject: Interop\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="xyz"\r\n'
    b"\r\n"
    b"--xyz\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Gr\xc3\xbc\xc3\x9fe aus Berlin.\r\n"
    b"--xyz\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n"
    b"AAECAwQFBgcICQ==\r\n"
    b"--xyz--\r\n"
)
ENTITY = MESSAGE[MESSAGE.index(b"Content-Type") :]
CIPHERS: list[CipherName] = ["aes-128-cbc", "aes-256-cbc", "aes-128-gcm", "aes-256-gcm"]


class Party:
    """An identity with its key and certificate written to files."""

    def __init__(self, identity: Identity, folder: Path, name: str) -> None:
        self.identity = identity
        self.key_file = folder / f"{name}.key.pem"
        self.cert_file = folder / f"{name}.cert.pem"
        self.key_file.write_bytes(identity.key_pem())
        self.cert_file.write_bytes(identity.certificate_pem())

    @property
    def key(self) -> PrivateKey:
        key = self.identity.key
        assert isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
        return key


@pytest.fixture(scope="module")
def parties(pki: TestPKI, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Party]:
    folder = tmp_path_factory.mktemp("interop")
    (folder / "entity.txt").write_bytes(ENTITY)
    return {
        kind: Party(pki.issue(f"{kind}@example.com", kind, usage="encryption"), folder, kind)
        for kind in ("rsa2048", "rsa3072", "p256", "p384", "p521")
    }


@pytest.fixture(scope="module")
def entity_file(parties: dict[str, Party]) -> Path:
    return parties["rsa2048"].key_file.parent / "entity.txt"


def openssl_decrypt(openssl: str, party: Party, message: bytes, *options: str) -> bytes:
    return run_openssl(
        openssl,
        "cms",
        "-decrypt",
        "-inkey",
        party.key_file,
        "-recip",
        party.cert_file,
        *options,
        data=message,
    )


def openssl_encrypt(
    openssl: str, entity_file: Path, recipients: list[tuple[Party, list[str]]], *options: str
) -> bytes:
    """``openssl cms -encrypt`` with per-recipient ``-keyopt``s."""
    arguments: list[str | Path] = ["cms", "-encrypt", "-binary", "-in", entity_file, *options]
    for party, keyopts in recipients:
        arguments += ["-recip", party.cert_file]
        for keyopt in keyopts:
            arguments += ["-keyopt", keyopt]
    return run_openssl(openssl, *arguments)


# -- mailcore encrypts, openssl decrypts ------------------------------------------------


class TestOpensslDecrypts:
    @pytest.mark.parametrize(
        ("kind", "oaep"),
        [("rsa2048", False), ("rsa2048", True), ("p256", False), ("p384", False), ("p521", False)],
        ids=["rsa-v15", "rsa-oaep", "p256", "p384", "p521"],
    )
    @pytest.mark.parametrize("cipher", CIPHERS)
    def test_cipher_and_recipient(
        self, openssl: str, parties: dict[str, Party], cipher: CipherName, kind: str, oaep: bool
    ) -> None:
        party = parties[kind]
        out = encrypt_message(MESSAGE, [party.identity.certificate], cipher=cipher, oaep=oaep)
        assert openssl_decrypt(openssl, party, out) == ENTITY

    @pytest.mark.parametrize("kind", ["rsa2048", "p384"])
    def test_subject_key_identifier(
        self, openssl: str, parties: dict[str, Party], kind: str
    ) -> None:
        party = parties[kind]
        out = encrypt_message(
            MESSAGE, [party.identity.certificate], cipher="aes-256-gcm", use_ski=True, oaep=True
        )
        assert openssl_decrypt(openssl, party, out) == ENTITY

    def test_many_recipients(self, openssl: str, parties: dict[str, Party]) -> None:
        everyone = list(parties.values())
        for cipher in ("aes-256-cbc", "aes-256-gcm"):
            out = encrypt_message(
                MESSAGE,
                [party.identity.certificate for party in everyone],
                cipher=cipher,
            )
            for party in everyone:
                assert openssl_decrypt(openssl, party, out) == ENTITY

    def test_lf_message(self, openssl: str, parties: dict[str, Party]) -> None:
        party = parties["rsa2048"]
        out = encrypt_message(MESSAGE.replace(b"\r\n", b"\n"), [party.identity.certificate])
        # The entity is canonicalised to CRLF before encryption (RFC 8551 §3.1.1).
        assert openssl_decrypt(openssl, party, out) == ENTITY


# -- openssl encrypts, mailcore decrypts ------------------------------------------------


def check(message: bytes, party: Party) -> str:
    """Decrypt with and without the certificate; return the cipher name."""
    with_certificate = decrypt_message(message, party.key, party.identity.certificate)
    assert with_certificate.content == ENTITY
    assert decrypt_message(message, party.key).content == ENTITY
    return with_certificate.cipher


class TestMailcoreDecrypts:
    @pytest.mark.parametrize(
        ("option", "cipher"),
        [
            ("-aes128", "aes-128-cbc"),
            ("-aes192", "aes-192-cbc"),
            ("-aes256", "aes-256-cbc"),
            ("-aes-128-gcm", "aes-128-gcm"),
            ("-aes-192-gcm", "aes-192-gcm"),
            ("-aes-256-gcm", "aes-256-gcm"),
            ("-des3", "des-ede3-cbc"),
            (None, "des-ede3-cbc"),  # OpenSSL 3.0's default cipher
        ],
    )
    @pytest.mark.parametrize("outform", ["SMIME", "DER", "PEM"])
    def test_ciphers(
        self,
        openssl: str,
        parties: dict[str, Party],
        entity_file: Path,
        option: str | None,
        cipher: str,
        outform: str,
    ) -> None:
        party = parties["rsa2048"]
        options = ["-outform", outform, *([option] if option else [])]
        message = openssl_encrypt(openssl, entity_file, [(party, [])], *options)
        assert check(message, party) == cipher

    @pytest.mark.parametrize(
        ("keyopts", "expected"),
        [
            ([], "rsaes-oaep-sha1"),
            (["rsa_oaep_md:sha256"], "rsaes-oaep-sha256"),
            (["rsa_oaep_md:sha256", "rsa_mgf1_md:sha256"], "rsaes-oaep-sha256"),
            (["rsa_oaep_md:sha256", "rsa_mgf1_md:sha1"], "rsaes-oaep-sha256-mgf1-sha1"),
            (["rsa_oaep_md:sha512", "rsa_oaep_label:0123456789abcdef"], "rsaes-oaep-sha512-label"),
        ],
    )
    def test_oaep(
        self,
        openssl: str,
        parties: dict[str, Party],
        entity_file: Path,
        keyopts: list[str],
        expected: str,
    ) -> None:
        party = parties["rsa3072"]
        options = ["rsa_padding_mode:oaep", *keyopts]
        message = openssl_encrypt(openssl, entity_file, [(party, options)], "-aes-256-gcm")
        assert check(message, party) == "aes-256-gcm"
        result = decrypt_message(message, party.key, party.identity.certificate)
        assert result.key_encryption == expected

    @pytest.mark.parametrize("kind", ["p256", "p384", "p521"])
    @pytest.mark.parametrize(
        ("keyopts", "expected"),
        [
            ([], "ecdh-x963-sha1"),  # OpenSSL's default KDF
            (["ecdh_kdf_md:sha256"], "ecdh-x963-sha256"),
            (["ecdh_kdf_md:sha384"], "ecdh-x963-sha384"),
            (["ecdh_kdf_md:sha512"], "ecdh-x963-sha512"),
            (["ecdh_cofactor_mode:1"], "ecdh-cofactor-x963-sha1"),
        ],
    )
    def test_ecdh(
        self,
        openssl: str,
        parties: dict[str, Party],
        entity_file: Path,
        kind: str,
        keyopts: list[str],
        expected: str,
    ) -> None:
        party = parties[kind]
        for cipher in ("-aes128", "-aes-256-gcm", "-des3"):
            message = openssl_encrypt(openssl, entity_file, [(party, keyopts)], cipher)
            check(message, party)
            result = decrypt_message(message, party.key)
            assert result.key_encryption == expected

    @pytest.mark.parametrize("outform", ["DER", "SMIME"])
    @pytest.mark.parametrize("cipher", ["-aes256", "-aes-256-gcm", "-des3"])
    def test_stream_ber(
        self,
        openssl: str,
        parties: dict[str, Party],
        entity_file: Path,
        outform: str,
        cipher: str,
    ) -> None:
        recipients: list[tuple[Party, list[str]]] = [
            (parties["rsa2048"], []),
            (parties["p256"], []),
        ]
        message = openssl_encrypt(
            openssl, entity_file, recipients, "-stream", "-outform", outform, cipher
        )
        der = message if outform == "DER" else base64.b64decode(message.split(b"\n\n", 1)[1])
        assert der[1] == 0x80  # indefinite length: BER, not DER
        for party, _ in recipients:
            check(message, party)

    def test_keyid(self, openssl: str, parties: dict[str, Party], entity_file: Path) -> None:
        recipients: list[tuple[Party, list[str]]] = [
            (parties["rsa2048"], []),
            (parties["p384"], []),
        ]
        message = openssl_encrypt(openssl, entity_file, recipients, "-keyid", "-aes-128-gcm")
        for party, _ in recipients:
            result = decrypt_message(message, party.key, party.identity.certificate)
            assert result.content == ENTITY
            assert result.recipient == "subject_key_identifier"

    def test_not_a_recipient(
        self, openssl: str, parties: dict[str, Party], entity_file: Path
    ) -> None:
        message = openssl_encrypt(openssl, entity_file, [(parties["rsa2048"], [])], "-aes256")
        outsider = parties["rsa3072"]
        for certificate in (outsider.identity.certificate, None):
            with pytest.raises(DecryptionFailed) as caught:
                decrypt_message(message, outsider.key, certificate)
            assert str(caught.value) == DECRYPTION_FAILED

    def test_tampered_gcm_tag(
        self, openssl: str, parties: dict[str, Party], entity_file: Path
    ) -> None:
        party = parties["p256"]
        der = bytearray(
            openssl_encrypt(openssl, entity_file, [(party, [])], "-aes-256-gcm", "-outform", "DER")
        )
        der[-1] ^= 0x01  # the last byte of the mac
        with pytest.raises(DecryptionFailed) as caught:
            decrypt_message(bytes(der), party.key)
        assert str(caught.value) == DECRYPTION_FAILED

    @settings(max_examples=100)
    @given(
        edits=st.lists(
            st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
            min_size=1,
            max_size=4,
        )
    )
    def test_mutated_ber(
        self, stream_der: tuple[bytes, Party], edits: list[tuple[float, int]]
    ) -> None:
        der, party = stream_der
        mutated = bytearray(der)
        for where, value in edits:
            mutated[int(where * len(mutated))] = value
        try:
            result = decrypt_message(bytes(mutated), party.key, party.identity.certificate)
        except (MalformedSmime, DecryptionFailed, UnsupportedAlgorithm):
            return
        assert result.content == ENTITY  # GCM: the real content or nothing


@pytest.fixture(scope="module")
def stream_der(openssl: str, parties: dict[str, Party], entity_file: Path) -> tuple[bytes, Party]:
    """An openssl ``-stream`` (BER) AuthEnvelopedData, the seed for fuzzing."""
    party = parties["rsa2048"]
    message = openssl_encrypt(
        openssl, entity_file, [(party, [])], "-stream", "-outform", "DER", "-aes-128-gcm"
    )
    return message, party
