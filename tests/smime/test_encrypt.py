"""encrypt_message: the MIME framing, the CMS structures it writes (read
back with asn1crypto, not with mailcore's decrypt), the cipher choice of
RFC 8551 §2.7 and the recipients it refuses."""

from __future__ import annotations

import base64
import email
import email.policy
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from asn1crypto import algos, cms, core  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mailcore.errors import SmimeError, UnsupportedAlgorithm
from mailcore.smime._enveloped import (
    DEFAULT_CIPHER,
    ENCRYPTION_CIPHERS,
    CipherName,
    choose_cipher,
    encrypt_message,
)
from mailcore.smime.pki import Identity, KeyType, TestPKI

MESSAGE = (
    b"From: alice@example.com\r\n"
    b"To: bob@example.com\r\n"
    b"Subject: Quarterly figures\r\n"
    b"Message-ID: <1@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Caf\xc3\xa9 figures attached.\r\n"
)
ENTITY = (
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Caf\xc3\xa9 figures attached.\r\n"
)

# RFC 5753 §7.1.4 and RFC 3565 §2.3.2 identifiers, written out here so the
# test does not check mailcore's tables against themselves.
SHA256_KDF, SHA384_KDF, SHA512_KDF = "1.3.132.1.11.1", "1.3.132.1.11.2", "1.3.132.1.11.3"
AES128_WRAP, AES256_WRAP = "2.16.840.1.101.3.4.1.5", "2.16.840.1.101.3.4.1.45"


class _GCMParameters(core.Sequence):  # type: ignore[misc]
    """RFC 5084 §3.2, declared here independently of mailcore."""

    _fields = [  # noqa: RUF012
        ("nonce", core.OctetString),
        ("icv_length", core.Integer, {"default": 12}),
    ]


@pytest.fixture(scope="module")
def people(pki: TestPKI) -> dict[str, Identity]:
    return {
        kind: pki.issue(f"{kind}@example.com", kind, usage="encryption")
        for kind in ("rsa2048", "p256", "p384", "p521", "x25519")
    }


def split(message: bytes) -> tuple[email.message.Message, bytes]:
    """(the parsed message, the DER in its body)."""
    parsed = email.message_from_bytes(message, policy=email.policy.compat32)
    payload = parsed.get_payload()
    assert isinstance(payload, str)
    return parsed, base64.b64decode(payload)


def content_info(message: bytes) -> cms.ContentInfo:
    return cms.ContentInfo.load(split(message)[1])


class TestFraming:
    def test_headers_kept_and_content_fields_replaced(self, bob: Identity) -> None:
        out = encrypt_message(MESSAGE, [bob.certificate])
        head, _, body = out.partition(b"\r\n\r\n")
        assert head.startswith(
            b"From: alice@example.com\r\nTo: bob@example.com\r\n"
            b"Subject: Quarterly figures\r\nMessage-ID: <1@example.com>\r\n"
        )
        assert head.count(b"MIME-Version") == 1
        assert b"charset=utf-8" not in head and b"8bit" not in head
        assert (
            b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m"
            in head
        )
        assert b"Content-Disposition: attachment; filename=smime.p7m" in head
        assert b"Content-Transfer-Encoding: base64" in head
        lines = body.split(b"\r\n")
        assert all(len(line) <= 76 for line in lines)
        assert lines[-1] == b""  # the body ends with a line break

    def test_gcm_is_auth_enveloped(self, bob: Identity) -> None:
        out = encrypt_message(MESSAGE, [bob.certificate], cipher="aes-128-gcm")
        parsed, _ = split(out)
        assert parsed.get_param("smime-type") == "authEnveloped-data"
        assert content_info(out)["content_type"].native == "authenticated_enveloped_data"

    def test_lf_message_stays_lf(self, bob: Identity) -> None:
        out = encrypt_message(MESSAGE.replace(b"\r\n", b"\n"), [bob.certificate])
        assert b"\r" not in out
        assert out.startswith(b"From: alice@example.com\nTo:")

    def test_email_message_input(self, bob: Identity) -> None:
        message = EmailMessage()
        message["From"] = "alice@example.com"
        message["Subject"] = "Hello"
        message.set_content("Hello Bob\n")
        out = encrypt_message(message, [bob.certificate])
        assert out.startswith(b"From: alice@example.com")
        assert b"Subject: Hello" in out


class TestStructure:
    def test_cbc_enveloped_data(self, bob: Identity) -> None:
        info = content_info(encrypt_message(MESSAGE, [bob.certificate], cipher="aes-256-cbc"))
        assert info["content_type"].native == "enveloped_data"
        data = info["content"]
        # RFC 5652 §6.1: only version-0 ktri, no originatorInfo -> version 0.
        assert data["version"].native == "v0"
        encrypted = data["encrypted_content_info"]
        assert encrypted["content_type"].native == "data"
        algorithm = encrypted["content_encryption_algorithm"]
        assert algorithm["algorithm"].native == "aes256_cbc"
        assert len(algorithm["parameters"].native) == 16
        assert len(encrypted["encrypted_content"].native) % 16 == 0
        (recipient,) = data["recipient_infos"]
        ktri = recipient.chosen
        assert recipient.name == "ktri" and ktri["version"].native == "v0"
        assert ktri["rid"].name == "issuer_and_serial_number"
        assert ktri["rid"].chosen["serial_number"].native == bob.certificate.serial_number
        assert ktri["rid"].chosen["issuer"] == _asn1_issuer(bob.certificate)
        assert ktri["key_encryption_algorithm"]["algorithm"].native == "rsaes_pkcs1v15"

    @pytest.mark.parametrize("cipher", ["aes-128-gcm", "aes-256-gcm"])
    def test_gcm_parameters(self, bob: Identity, cipher: CipherName) -> None:
        der = split(encrypt_message(MESSAGE, [bob.certificate], cipher=cipher))[1]
        data = cms.ContentInfo.load(der)["content"]
        assert data["version"].native == "v0"
        algorithm = data["auth_encrypted_content_info"]["content_encryption_algorithm"]
        assert (
            algorithm["algorithm"].dotted
            == {
                "aes-128-gcm": "2.16.840.1.101.3.4.1.6",
                "aes-256-gcm": "2.16.840.1.101.3.4.1.46",
            }[cipher]
        )
        # RFC 5084 §3.2: nonce and ICV length; 16 differs from the DEFAULT
        # of 12, so it is written out.
        parameters = _GCMParameters.load(algorithm["parameters"].dump())
        assert len(parameters["nonce"].native) == 12
        assert parameters["icv_length"].native == 16
        assert algorithm["parameters"].dump()[-3:] == b"\x02\x01\x10"
        assert len(data["mac"].native) == 16
        assert data["auth_attrs"].native is None
        # The ciphertext of GCM is as long as the entity.
        encrypted = data["auth_encrypted_content_info"]["encrypted_content"].native
        assert len(encrypted) == len(ENTITY)

    def test_oaep_parameters_written_out(self, bob: Identity) -> None:
        info = content_info(encrypt_message(MESSAGE, [bob.certificate], oaep=True))
        algorithm = info["content"]["recipient_infos"][0].chosen["key_encryption_algorithm"]
        assert algorithm["algorithm"].native == "rsaes_oaep"
        der = algorithm["parameters"].dump()
        parameters = algos.RSAESOAEPParams.load(der)
        assert parameters["hash_algorithm"]["algorithm"].native == "sha256"
        assert parameters["mask_gen_algorithm"]["algorithm"].native == "mgf1"
        assert parameters["mask_gen_algorithm"]["parameters"]["algorithm"].native == "sha256"
        # Not the SHA-1 defaults: both fields are present in the encoding.
        assert der[2] == 0xA0 and b"\xa1" in der

    def test_subject_key_identifier(self, people: dict[str, Identity]) -> None:
        rsa_person, ec_person = people["rsa2048"], people["p256"]
        info = content_info(
            encrypt_message(MESSAGE, [rsa_person.certificate, ec_person.certificate], use_ski=True)
        )
        data = info["content"]
        assert data["version"].native == "v2"
        by_type = {ri.name: ri.chosen for ri in data["recipient_infos"]}
        ktri, kari = by_type["ktri"], by_type["kari"]
        assert ktri["version"].native == "v2"
        assert ktri["rid"].name == "subject_key_identifier"
        assert ktri["rid"].chosen.native == _ski(rsa_person.certificate)
        (encrypted_key,) = kari["recipient_encrypted_keys"]
        assert encrypted_key["rid"].name == "r_key_id"
        key_id = encrypted_key["rid"].chosen["subject_key_identifier"].native
        assert key_id == _ski(ec_person.certificate)

    @pytest.mark.parametrize(
        ("kind", "cipher", "scheme", "wrap"),
        [
            ("p256", "aes-128-cbc", SHA256_KDF, AES128_WRAP),
            ("p256", "aes-256-gcm", SHA256_KDF, AES256_WRAP),
            ("p384", "aes-256-cbc", SHA384_KDF, AES256_WRAP),
            ("p521", "aes-128-gcm", SHA512_KDF, AES128_WRAP),
            ("x25519", "aes-256-gcm", SHA256_KDF, AES256_WRAP),
        ],
    )
    def test_key_agreement(
        self,
        people: dict[str, Identity],
        kind: str,
        cipher: CipherName,
        scheme: str,
        wrap: str,
    ) -> None:
        person = people[kind]
        info = content_info(encrypt_message(MESSAGE, [person.certificate], cipher=cipher))
        (recipient,) = info["content"]["recipient_infos"]
        assert recipient.name == "kari"
        kari = recipient.chosen
        assert kari["version"].native == "v3"
        assert kari["ukm"].native is None
        originator = kari["originator"]
        assert originator.name == "originator_key"
        public = originator.chosen
        expected_algorithm = "1.3.101.110" if kind == "x25519" else "1.2.840.10045.2.1"
        assert public["algorithm"]["algorithm"].dotted == expected_algorithm
        key = public["public_key"].contents[1:]
        assert len(key) == {"p256": 65, "p384": 97, "p521": 133, "x25519": 32}[kind]
        algorithm = kari["key_encryption_algorithm"]
        assert algorithm["algorithm"].dotted == scheme
        assert (
            cms.KeyEncryptionAlgorithm.load(algorithm["parameters"].dump())["algorithm"].dotted
            == wrap
        )
        (encrypted_key,) = kari["recipient_encrypted_keys"]
        size = 16 if cipher.startswith("aes-128") else 32
        assert len(encrypted_key["encrypted_key"].native) == size + 8  # RFC 3394
        assert encrypted_key["rid"].chosen["serial_number"].native == (
            person.certificate.serial_number
        )

    def test_every_recipient_gets_a_recipient_info(self, people: dict[str, Identity]) -> None:
        certificates = [person.certificate for person in people.values()]
        info = content_info(encrypt_message(MESSAGE, certificates))
        names = sorted(ri.name for ri in info["content"]["recipient_infos"])
        assert names == ["kari", "kari", "kari", "kari", "ktri"]

    def test_fresh_key_and_iv_every_time(self, bob: Identity) -> None:
        first = content_info(encrypt_message(MESSAGE, [bob.certificate]))
        second = content_info(encrypt_message(MESSAGE, [bob.certificate]))
        iv = "content_encryption_algorithm"
        assert (
            first["content"]["encrypted_content_info"][iv]["parameters"].native
            != second["content"]["encrypted_content_info"][iv]["parameters"].native
        )


class TestCipherChoice:
    def test_default_without_capabilities(self, bob: Identity) -> None:
        assert DEFAULT_CIPHER == "aes-256-cbc"
        assert choose_cipher([bob.certificate]) == "aes-256-cbc"
        algorithm = content_info(encrypt_message(MESSAGE, [bob.certificate]))["content"][
            "encrypted_content_info"
        ]["content_encryption_algorithm"]
        assert algorithm["algorithm"].native == "aes256_cbc"

    def test_gcm_when_everyone_advertises_it(self, alice: Identity, bob: Identity) -> None:
        capabilities = {
            "alice@example.com": ["aes-256-gcm", "aes-256-cbc"],
            _fingerprint(bob.certificate): ["AES256_GCM", "aes128-gcm"],
        }
        assert choose_cipher([alice.certificate, bob.certificate], capabilities) == "aes-256-gcm"
        out = encrypt_message(
            MESSAGE, [alice.certificate, bob.certificate], capabilities=capabilities
        )
        assert split(out)[0].get_param("smime-type") == "authEnveloped-data"

    @pytest.mark.parametrize(
        ("alice_caps", "bob_caps", "expected"),
        [
            # strongest common one
            (["aes-256-gcm", "aes-128-gcm"], ["aes-128-gcm", "aes-128-cbc"], "aes-128-gcm"),
            (["aes-256-gcm", "aes-256-cbc"], ["aes-128-gcm", "aes-256-cbc"], "aes-256-cbc"),
            # OIDs and OpenSSL spellings are understood
            (["2.16.840.1.101.3.4.1.46"], ["id-aes256-GCM"], "aes-256-gcm"),
            # a recipient without capabilities is assumed to read AES-CBC
            (["aes-256-gcm", "aes-128-cbc"], None, "aes-128-cbc"),
            # nothing in common, or only ciphers mailcore does not write
            (["aes-256-gcm"], ["aes-128-cbc"], "aes-256-cbc"),
            (["des-ede3-cbc", "rc2-cbc"], ["des-ede3-cbc"], "aes-256-cbc"),
        ],
    )
    def test_common_capabilities(
        self,
        alice: Identity,
        bob: Identity,
        alice_caps: list[str],
        bob_caps: list[str] | None,
        expected: str,
    ) -> None:
        capabilities = {"ALICE@example.com": alice_caps}
        if bob_caps is not None:
            # colon-separated upper-case fingerprint, as tools print it
            hex_upper = _fingerprint(bob.certificate).upper()
            key = ":".join(hex_upper[i : i + 2] for i in range(0, len(hex_upper), 2))
            capabilities[key] = bob_caps
        assert choose_cipher([alice.certificate, bob.certificate], capabilities) == expected

    def test_single_recipient_gets_its_strongest(self, bob: Identity) -> None:
        for cipher in ENCRYPTION_CIPHERS:
            assert choose_cipher([bob.certificate], {"bob@example.com": [cipher]}) == cipher

    def test_capabilities_must_be_sequences(self, bob: Identity) -> None:
        with pytest.raises(TypeError):
            choose_cipher([bob.certificate], {"bob@example.com": "aes-256-gcm"})


class TestRefusals:
    def test_no_recipients(self) -> None:
        with pytest.raises(ValueError, match="at least one recipient"):
            encrypt_message(MESSAGE, [])

    def test_unknown_cipher(self, bob: Identity) -> None:
        with pytest.raises(ValueError, match="cipher"):
            encrypt_message(MESSAGE, [bob.certificate], cipher="des-ede3-cbc")  # type: ignore[arg-type]

    def test_single_certificate_not_a_list(self, bob: Identity) -> None:
        with pytest.raises(TypeError):
            encrypt_message(MESSAGE, bob.certificate)  # type: ignore[arg-type]

    def test_rsa_1024_refused(self, pki: TestPKI) -> None:
        weak = pki.issue("weak@example.com", "rsa1024")
        with pytest.raises(UnsupportedAlgorithm, match="1024 bits"):
            encrypt_message(MESSAGE, [weak.certificate])

    @pytest.mark.parametrize(
        ("kind", "usage"), [("rsa2048", "keyEncipherment"), ("p256", "keyAgreement")]
    )
    def test_signing_only_certificate_refused(
        self, pki: TestPKI, kind: KeyType, usage: str
    ) -> None:
        signer = pki.issue(f"signer-{kind}@example.com", kind, usage="signing")
        with pytest.raises(SmimeError, match=usage):
            encrypt_message(MESSAGE, [signer.certificate])

    def test_one_bad_recipient_refuses_the_message(self, pki: TestPKI, bob: Identity) -> None:
        signer = pki.issue("signer@example.com", "rsa2048", usage="signing")
        with pytest.raises(SmimeError, match=r"signer@example\.com"):
            encrypt_message(MESSAGE, [bob.certificate, signer.certificate])

    def test_ed25519_refused(self, pki: TestPKI) -> None:
        carlos = pki.issue("carlos@example.com", "ed25519", usage="signing")
        with pytest.raises(UnsupportedAlgorithm):
            encrypt_message(MESSAGE, [carlos.certificate])

    def test_other_curves_refused(self, pki: TestPKI) -> None:
        key = ec.generate_private_key(ec.SECP256K1())
        koblitz = pki.issue("k1@example.com", "p256", key=key)
        with pytest.raises(UnsupportedAlgorithm, match="secp256k1"):
            encrypt_message(MESSAGE, [koblitz.certificate])

    def test_use_ski_needs_the_extension(self, pki: TestPKI, bob: Identity) -> None:
        bare = _certificate_without_ski(pki, bob)
        encrypt_message(MESSAGE, [bare])  # issuer and serial work
        with pytest.raises(SmimeError, match="subjectKeyIdentifier"):
            encrypt_message(MESSAGE, [bare], use_ski=True)

    def test_certificate_without_key_usage_is_accepted(self, pki: TestPKI, bob: Identity) -> None:
        bare = _certificate_without_ski(pki, bob)
        assert not any(isinstance(e.value, x509.KeyUsage) for e in bare.extensions)
        out = encrypt_message(MESSAGE, [bare])
        assert content_info(out)["content_type"].native == "enveloped_data"


def _asn1_issuer(certificate: x509.Certificate) -> object:
    from asn1crypto import x509 as asn1_x509

    der = certificate.public_bytes(serialization.Encoding.DER)
    return asn1_x509.Certificate.load(der)["tbs_certificate"]["issuer"]


def _ski(certificate: x509.Certificate) -> bytes:
    return certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest


def _fingerprint(certificate: x509.Certificate) -> str:
    return certificate.fingerprint(hashes.SHA256()).hex()


def _certificate_without_ski(pki: TestPKI, person: Identity) -> x509.Certificate:
    """bob's key in a certificate with no extensions at all."""
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "bare")]))
        .issuer_name(pki.issuing.certificate.subject)
        .public_key(person.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .sign(pki.issuing.key, hashes.SHA256())  # type: ignore[arg-type]
    )
