"""Reading private keys and certificates (mailcore.smime._keys).

Every format is produced two ways where possible: by cryptography and by
the ``openssl`` command line, so that the loader is not only checked
against the library it is built on.
"""

from __future__ import annotations

import base64
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from asn1crypto import pkcs12 as asn1_pkcs12  # type: ignore[import-untyped]  # no stubs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, x448
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from hypothesis import given
from hypothesis import strategies as st

from mailcore.errors import KeyLoadError, MalformedInput
from mailcore.smime._certs import describe
from mailcore.smime._keys import LoadedKey, load_certificates, load_private_key
from mailcore.smime.pki import Identity, KeyType, TestPKI
from tests.smime.conftest import run_openssl
from tests.utils import dsa_private_key

PEM = serialization.Encoding.PEM
DER = serialization.Encoding.DER
PKCS8 = serialization.PrivateFormat.PKCS8
TRADITIONAL = serialization.PrivateFormat.TraditionalOpenSSL
PLAIN = serialization.NoEncryption()
PASSWORD = b"correct horse"
KEY_TYPES: dict[KeyType, str] = {
    "rsa2048": "rsa",
    "p256": "ec",
    "p384": "ec",
    "ed25519": "ed25519",
    "x25519": "x25519",
}


@pytest.fixture(scope="module")
def people(pki: TestPKI) -> dict[KeyType, Identity]:
    return {
        kind: pki.issue(
            f"{kind}@example.com", kind, usage="encryption" if kind == "x25519" else "dual"
        )
        for kind in KEY_TYPES
    }


@pytest.fixture(scope="module")
def carol(pki: TestPKI) -> Identity:
    return pki.issue("carol@example.com", "p256")


def _chain(pki: TestPKI) -> list[x509.Certificate]:
    return [pki.issuing.certificate, pki.root.certificate]


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(PEM)


def _same_key(loaded: LoadedKey, identity: Identity) -> bool:
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return loaded.key.public_key().public_bytes(
        DER, spki
    ) == identity.key.public_key().public_bytes(DER, spki)


def ber_pkcs12(der: bytes) -> bytes:
    """A DER PKCS #12 re-encoded as NSS writes it: indefinite lengths outside,
    the authSafe OCTET STRING in constructed chunks (the MAC still holds)."""
    pfx = asn1_pkcs12.Pfx.load(der)
    auth_safe = pfx["auth_safe"]
    octets = auth_safe["content"].contents
    chunks = b"".join(
        b"\x04\x81" + bytes([len(octets[i : i + 200])]) + octets[i : i + 200]
        for i in range(0, len(octets), 200)
    )
    content = b"\x24\x80" + chunks + b"\x00\x00"
    info = b"\x30\x80" + auth_safe["content_type"].dump() + b"\xa0\x80" + content + b"\0" * 4
    version, mac = pfx["version"].dump(), pfx["mac_data"].dump()
    return bytes(b"\x30\x80" + version + info + mac + b"\x00\x00")


# -- private keys: every format ------------------------------------------------------


class TestPrivateKeyFormats:
    @pytest.mark.parametrize("kind", list(KEY_TYPES))
    @pytest.mark.parametrize("encoding", ["pem", "der"])
    def test_pkcs8(self, people: dict[KeyType, Identity], kind: KeyType, encoding: str) -> None:
        identity = people[kind]
        data = identity.key.private_bytes(PEM if encoding == "pem" else DER, PKCS8, PLAIN)
        loaded = load_private_key(data)
        assert loaded.key_type == KEY_TYPES[kind]
        assert loaded.format == encoding
        assert _same_key(loaded, identity)
        assert loaded.certificate is None
        assert loaded.chain == ()

    @pytest.mark.parametrize("kind", list(KEY_TYPES))
    @pytest.mark.parametrize("encoding", ["pem", "der"])
    def test_encrypted_pkcs8(
        self, people: dict[KeyType, Identity], kind: KeyType, encoding: str
    ) -> None:
        identity = people[kind]
        data = identity.key.private_bytes(
            PEM if encoding == "pem" else DER,
            PKCS8,
            serialization.BestAvailableEncryption(PASSWORD),
        )
        assert _same_key(load_private_key(data, password=PASSWORD), identity)

    @pytest.mark.parametrize("kind", ["rsa2048", "p256", "p384"])
    @pytest.mark.parametrize("encoding", ["pem", "der"])
    def test_traditional(
        self, people: dict[KeyType, Identity], kind: KeyType, encoding: str
    ) -> None:
        identity = people[kind]
        data = identity.key.private_bytes(PEM if encoding == "pem" else DER, TRADITIONAL, PLAIN)
        if encoding == "pem":
            label = b"RSA PRIVATE KEY" if kind == "rsa2048" else b"EC PRIVATE KEY"
            assert label in data
        assert _same_key(load_private_key(data), identity)

    @pytest.mark.parametrize("kind", ["rsa2048", "p256"])
    def test_traditional_encrypted_pem(
        self, people: dict[KeyType, Identity], kind: KeyType
    ) -> None:
        identity = people[kind]
        data = identity.key.private_bytes(
            PEM, TRADITIONAL, serialization.BestAvailableEncryption(PASSWORD)
        )
        assert b"Proc-Type: 4,ENCRYPTED" in data
        assert _same_key(load_private_key(data, password=PASSWORD), identity)

    @pytest.mark.parametrize("kind", ["ed448", "x448"])
    def test_448_curves(self, kind: str) -> None:
        key = (
            ed448.Ed448PrivateKey.generate() if kind == "ed448" else x448.X448PrivateKey.generate()
        )
        loaded = load_private_key(key.private_bytes(PEM, PKCS8, PLAIN))
        assert loaded.key_type == kind

    def test_crlf_line_ends_and_prose_around(self, alice: Identity) -> None:
        pem = alice.key_pem().replace(b"\n", b"\r\n")
        data = b"Bag Attributes\r\n    friendlyName: alice\r\n" + pem + b"\r\ntrailing words\r\n"
        assert _same_key(load_private_key(data), alice)

    def test_byte_order_mark_and_openssl_text(self, openssl: str, alice: Identity) -> None:
        text = run_openssl(openssl, "x509", "-text", data=alice.certificate_pem())
        assert text.startswith(b"Certificate:")
        assert load_certificates(b"\xef\xbb\xbf" + text) == (alice.certificate,)
        assert _same_key(load_private_key(b"\xef\xbb\xbf" + alice.key_pem()), alice)

    def test_prose_starting_with_zero(self, alice: Identity) -> None:
        # "0" is 0x30, the first byte of every DER file: still PEM text.
        assert _same_key(load_private_key(b"0 comments\n" + alice.key_pem()), alice)

    def test_password_for_a_plain_key_is_ignored(self, alice: Identity) -> None:
        for data in (alice.key_pem(), alice.key.private_bytes(DER, PKCS8, PLAIN)):
            assert _same_key(load_private_key(data, password=b"not needed"), alice)

    def test_bytes_like_input(self, alice: Identity) -> None:
        assert _same_key(load_private_key(bytearray(alice.key_pem())), alice)  # type: ignore[arg-type]


class TestPemBundles:
    def test_key_certificate_and_chain(self, pki: TestPKI, alice: Identity) -> None:
        chain = _chain(pki)
        data = alice.key_pem() + alice.certificate_pem() + b"".join(map(_pem, chain))
        loaded = load_private_key(data)
        assert loaded.certificate == alice.certificate
        assert loaded.chain == tuple(chain)

    def test_certificate_before_the_key(self, pki: TestPKI, alice: Identity) -> None:
        data = _pem(pki.issuing.certificate) + alice.certificate_pem() + alice.key_pem()
        loaded = load_private_key(data)
        assert loaded.certificate == alice.certificate
        assert loaded.chain == (pki.issuing.certificate,)

    def test_certificate_of_another_key_is_only_chain(
        self, alice: Identity, bob: Identity
    ) -> None:
        loaded = load_private_key(alice.key_pem() + bob.certificate_pem())
        assert loaded.certificate is None
        assert loaded.chain == (bob.certificate,)

    def test_openssl_ecparam_output(self, openssl: str, tmp_path: Path) -> None:
        # `openssl ecparam -genkey` writes EC PARAMETERS before EC PRIVATE KEY.
        data = run_openssl(openssl, "ecparam", "-name", "prime256v1", "-genkey")
        assert b"EC PARAMETERS" in data
        assert load_private_key(data).key_type == "ec"


class TestPkcs12:
    def test_with_password(self, pki: TestPKI, alice: Identity) -> None:
        data = pkcs12.serialize_key_and_certificates(
            b"alice",
            alice.key,  # type: ignore[arg-type]
            alice.certificate,
            _chain(pki),
            serialization.BestAvailableEncryption(PASSWORD),
        )
        loaded = load_private_key(data, password=PASSWORD)
        assert loaded.format == "pkcs12"
        assert _same_key(loaded, alice)
        assert loaded.certificate == alice.certificate
        assert loaded.chain == tuple(_chain(pki))

    @pytest.mark.parametrize("password", [None, b""])
    def test_without_encryption(self, alice: Identity, password: bytes | None) -> None:
        data = pkcs12.serialize_key_and_certificates(
            b"alice",
            alice.key,  # type: ignore[arg-type]
            alice.certificate,
            None,
            PLAIN,
        )
        assert load_private_key(data, password=password).certificate == alice.certificate

    @pytest.mark.parametrize("kind", ["p256", "p384", "ed25519"])
    def test_other_key_types(self, people: dict[KeyType, Identity], kind: KeyType) -> None:
        identity = people[kind]
        data = pkcs12.serialize_key_and_certificates(
            b"x",
            identity.key,  # type: ignore[arg-type]
            identity.certificate,
            None,
            serialization.BestAvailableEncryption(PASSWORD),
        )
        loaded = load_private_key(data, password=PASSWORD)
        assert loaded.key_type == KEY_TYPES[kind]
        assert loaded.certificate == identity.certificate

    def test_x25519_from_openssl(
        self, openssl: str, people: dict[KeyType, Identity], tmp_path: Path
    ) -> None:
        # cryptography cannot write an X25519 key into PKCS #12; openssl can.
        identity = people["x25519"]
        (tmp_path / "key.pem").write_bytes(identity.key_pem())
        (tmp_path / "cert.pem").write_bytes(identity.certificate_pem())
        data = run_openssl(
            openssl, "pkcs12", "-export", "-inkey", tmp_path / "key.pem",
            "-in", tmp_path / "cert.pem", "-passout", "pass:" + PASSWORD.decode(),
        )  # fmt: skip
        loaded = load_private_key(data, password=PASSWORD)
        assert loaded.key_type == "x25519"
        assert loaded.certificate == identity.certificate

    def test_legacy_3des_sha1(self, alice: Identity) -> None:
        # What older Windows exports look like (PBES1, HMAC-SHA1).
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(2048)
            .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
            .hmac_hash(hashes.SHA1())
            .build(PASSWORD)
        )
        data = pkcs12.serialize_key_and_certificates(
            b"alice",
            alice.key,  # type: ignore[arg-type]
            alice.certificate,
            None,
            encryption,
        )
        assert _same_key(load_private_key(data, password=PASSWORD), alice)

    def test_ber_as_nss_writes_it(self, pki: TestPKI, alice: Identity) -> None:
        der = pkcs12.serialize_key_and_certificates(
            b"alice",
            alice.key,  # type: ignore[arg-type]
            alice.certificate,
            _chain(pki),
            serialization.BestAvailableEncryption(PASSWORD),
        )
        ber = ber_pkcs12(der)
        assert ber[:2] == b"\x30\x80"  # indefinite length
        # cryptography itself warns about this input ...
        with pytest.warns(UserWarning, match="BER"):
            pkcs12.load_pkcs12(ber, PASSWORD)
        # ... mailcore expects it: no warning (the suite turns them into errors).
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            loaded = load_private_key(ber, password=PASSWORD)
        assert loaded.certificate == alice.certificate
        assert len(loaded.chain) == 2

    def test_ber_wrong_password(self, alice: Identity) -> None:
        der = pkcs12.serialize_key_and_certificates(
            b"alice",
            alice.key,  # type: ignore[arg-type]
            alice.certificate,
            None,
            serialization.BestAvailableEncryption(PASSWORD),
        )
        with pytest.raises(KeyLoadError, match="wrong password"):
            load_private_key(ber_pkcs12(der), password=b"wrong")

    def test_openssl_export(
        self, openssl: str, pki: TestPKI, alice: Identity, tmp_path: Path
    ) -> None:
        (tmp_path / "key.pem").write_bytes(alice.key_pem())
        (tmp_path / "cert.pem").write_bytes(alice.certificate_pem())
        (tmp_path / "chain.pem").write_bytes(b"".join(map(_pem, _chain(pki))))
        data = run_openssl(
            openssl, "pkcs12", "-export", "-inkey", tmp_path / "key.pem",
            "-in", tmp_path / "cert.pem", "-certfile", tmp_path / "chain.pem",
            "-passout", "pass:" + PASSWORD.decode(),
        )  # fmt: skip
        loaded = load_private_key(data, password=PASSWORD)
        assert loaded.certificate == alice.certificate
        assert set(loaded.chain) == set(_chain(pki))

    @pytest.mark.parametrize("password", [None, b""])
    def test_openssl_export_empty_password(
        self, openssl: str, alice: Identity, tmp_path: Path, password: bytes | None
    ) -> None:
        (tmp_path / "key.pem").write_bytes(alice.key_pem())
        (tmp_path / "cert.pem").write_bytes(alice.certificate_pem())
        data = run_openssl(
            openssl, "pkcs12", "-export", "-inkey", tmp_path / "key.pem",
            "-in", tmp_path / "cert.pem", "-passout", "pass:",
        )  # fmt: skip
        assert load_private_key(data, password=password).certificate == alice.certificate

    def test_openssl_export_legacy(self, openssl: str, alice: Identity, tmp_path: Path) -> None:
        (tmp_path / "key.pem").write_bytes(alice.key_pem())
        (tmp_path / "cert.pem").write_bytes(alice.certificate_pem())
        data = run_openssl(
            openssl, "pkcs12", "-export", "-legacy", "-inkey", tmp_path / "key.pem",
            "-in", tmp_path / "cert.pem", "-passout", "pass:" + PASSWORD.decode(),
        )  # fmt: skip
        assert _same_key(load_private_key(data, password=PASSWORD), alice)

    def test_certificates_only(self, openssl: str, alice: Identity, tmp_path: Path) -> None:
        (tmp_path / "cert.pem").write_bytes(alice.certificate_pem())
        data = run_openssl(
            openssl, "pkcs12", "-export", "-nokeys", "-in", tmp_path / "cert.pem",
            "-passout", "pass:" + PASSWORD.decode(),
        )  # fmt: skip
        with pytest.raises(KeyLoadError, match="no private key"):
            load_private_key(data, password=PASSWORD)


class TestOpensslKeyFiles:
    """Key files written by the openssl command line."""

    @pytest.mark.parametrize(
        "args",
        [
            ("-nocrypt",),
            ("-v2", "aes-256-cbc"),
            ("-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"),
            ("-scrypt",),
        ],
        ids=["nocrypt", "aes256", "aes128-sha1", "scrypt"],
    )
    @pytest.mark.parametrize("outform", ["PEM", "DER"])
    def test_pkcs8_topk8(
        self, openssl: str, alice: Identity, args: tuple[str, ...], outform: str
    ) -> None:
        traditional = alice.key.private_bytes(PEM, TRADITIONAL, PLAIN)
        extra = [] if "-nocrypt" in args else ["-passout", "pass:" + PASSWORD.decode()]
        data = run_openssl(
            openssl, "pkcs8", "-topk8", *args, *extra, "-outform", outform, data=traditional
        )
        password = None if "-nocrypt" in args else PASSWORD
        assert _same_key(load_private_key(data, password=password), alice)

    def test_genpkey_ed25519(self, openssl: str) -> None:
        data = run_openssl(openssl, "genpkey", "-algorithm", "ed25519")
        assert load_private_key(data).key_type == "ed25519"

    def test_traditional_rsa(self, openssl: str, alice: Identity) -> None:
        data = run_openssl(openssl, "rsa", "-traditional", data=alice.key_pem())
        assert b"BEGIN RSA PRIVATE KEY" in data
        assert _same_key(load_private_key(data), alice)

    def test_traditional_rsa_encrypted(self, openssl: str, alice: Identity) -> None:
        data = run_openssl(
            openssl, "rsa", "-traditional", "-aes256", "-passout",
            "pass:" + PASSWORD.decode(), data=alice.key_pem(),
        )  # fmt: skip
        assert b"Proc-Type: 4,ENCRYPTED" in data
        assert _same_key(load_private_key(data, password=PASSWORD), alice)


# -- private keys: refusals ----------------------------------------------------------


def _encrypted_forms(alice: Identity) -> dict[str, bytes]:
    encryption = serialization.BestAvailableEncryption(PASSWORD)
    return {
        "pkcs8-pem": alice.key.private_bytes(PEM, PKCS8, encryption),
        "pkcs8-der": alice.key.private_bytes(DER, PKCS8, encryption),
        "traditional-pem": alice.key.private_bytes(PEM, TRADITIONAL, encryption),
        "pkcs12": pkcs12.serialize_key_and_certificates(
            b"alice",
            alice.key,  # type: ignore[arg-type]
            alice.certificate,
            None,
            encryption,
        ),
    }


class TestRefusals:
    @pytest.mark.parametrize("form", ["pkcs8-pem", "pkcs8-der", "traditional-pem", "pkcs12"])
    def test_wrong_password(self, alice: Identity, form: str) -> None:
        secret = b"hunter2-wrong"
        with pytest.raises(KeyLoadError, match="wrong password") as caught:
            load_private_key(_encrypted_forms(alice)[form], password=secret)
        assert "hunter2" not in str(caught.value)
        assert caught.value.__cause__ is None

    @pytest.mark.parametrize("form", ["pkcs8-pem", "pkcs8-der", "traditional-pem", "pkcs12"])
    def test_missing_password(self, alice: Identity, form: str) -> None:
        with pytest.raises(KeyLoadError, match="password"):
            load_private_key(_encrypted_forms(alice)[form])

    def test_messages_never_contain_the_password(self, alice: Identity) -> None:
        for data in [*_encrypted_forms(alice).values(), b"garbage", alice.certificate_pem()]:
            with pytest.raises(KeyLoadError) as caught:
                load_private_key(data, password=b"s3cr3t-pw")
            assert "s3cr3t" not in str(caught.value)

    @pytest.mark.parametrize(
        "data",
        [b"", b"   \n", b"garbage", b"\x30\x03\x02\x01\x00", bytes(range(256))],
        ids=["empty", "blank", "text", "short-der", "bytes"],
    )
    def test_garbage(self, data: bytes) -> None:
        with pytest.raises(KeyLoadError) as caught:
            load_private_key(data)
        assert isinstance(caught.value, MalformedInput)
        assert isinstance(caught.value, ValueError)

    def test_certificate_pem_instead_of_key(self, alice: Identity) -> None:
        with pytest.raises(KeyLoadError, match="certificate, not a private key"):
            load_private_key(alice.certificate_pem())

    def test_certificate_der_instead_of_key(self, alice: Identity) -> None:
        with pytest.raises(KeyLoadError, match="certificate, not a private key"):
            load_private_key(alice.certificate.public_bytes(DER))

    @pytest.mark.parametrize("encoding", ["pem", "der"])
    def test_pkcs7_bag_instead_of_key(self, alice: Identity, encoding: str) -> None:
        bag = pkcs7.serialize_certificates([alice.certificate], PEM if encoding == "pem" else DER)
        with pytest.raises(KeyLoadError, match="certificate, not a private key"):
            load_private_key(bag)

    @pytest.mark.parametrize("encoding", ["pem", "der"])
    def test_public_key_instead_of_key(self, alice: Identity, encoding: str) -> None:
        data = alice.key.public_key().public_bytes(
            PEM if encoding == "pem" else DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        with pytest.raises(KeyLoadError, match="public key, not a private key"):
            load_private_key(data)

    def test_two_keys(self, alice: Identity, bob: Identity) -> None:
        with pytest.raises(KeyLoadError, match="2 private keys"):
            load_private_key(alice.key_pem() + bob.key_pem())

    def test_unterminated_block(self, alice: Identity) -> None:
        with pytest.raises(KeyLoadError, match="no matching END"):
            load_private_key(alice.key_pem()[:-30])

    def test_overlong_label(self) -> None:
        with pytest.raises(KeyLoadError, match="overlong"):
            load_private_key(b"-----BEGIN " + b"X" * 10_000 + b"-----\n")

    def test_bad_base64_in_a_certificate_block(self, alice: Identity) -> None:
        broken = b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"
        with pytest.raises(KeyLoadError, match="base64"):
            load_private_key(alice.key_pem() + broken)

    def test_damaged_key(self, alice: Identity) -> None:
        lines = alice.key_pem().splitlines(keepends=True)
        lines[3] = b"A" * 64 + b"\n"
        with pytest.raises(KeyLoadError, match="does not parse"):
            load_private_key(b"".join(lines))

    def test_openssh_key(self, people: dict[KeyType, Identity]) -> None:
        data = people["ed25519"].key.private_bytes(PEM, serialization.PrivateFormat.OpenSSH, PLAIN)
        with pytest.raises(KeyLoadError, match="ssh-keygen"):
            load_private_key(data)

    def test_dsa_key(self) -> None:
        key = dsa_private_key(2048)
        with pytest.raises(KeyLoadError, match="dsa keys are not used for S/MIME"):
            load_private_key(key.private_bytes(PEM, PKCS8, PLAIN))

    def test_explicit_curve_parameters_of_a_named_curve(self, openssl: str) -> None:
        data = run_openssl(
            openssl, "ecparam", "-name", "prime256v1", "-genkey", "-param_enc", "explicit",
            "-noout",
        )  # fmt: skip
        assert load_private_key(data).key_type == "ec"

    def test_password_must_be_bytes(self, alice: Identity) -> None:
        with pytest.raises(TypeError, match="bytes"):
            load_private_key(alice.key_pem(), password="text")  # type: ignore[arg-type]

    def test_data_must_be_bytes(self, alice: Identity) -> None:
        with pytest.raises(TypeError, match="bytes"):
            load_private_key(alice.key_pem().decode())  # type: ignore[arg-type]


# -- certificates --------------------------------------------------------------------


class TestLoadCertificates:
    def test_pem_one(self, alice: Identity) -> None:
        assert load_certificates(alice.certificate_pem()) == (alice.certificate,)

    def test_pem_many_in_order(self, pki: TestPKI, alice: Identity, bob: Identity) -> None:
        certificates = [alice.certificate, bob.certificate, *_chain(pki)]
        assert load_certificates(b"".join(map(_pem, certificates))) == tuple(certificates)

    def test_der(self, alice: Identity) -> None:
        assert load_certificates(alice.certificate.public_bytes(DER)) == (alice.certificate,)

    def test_pem_with_a_key_skips_the_key(self, alice: Identity) -> None:
        assert load_certificates(alice.key_pem() + alice.certificate_pem()) == (alice.certificate,)

    def test_x509_certificate_label(self, alice: Identity) -> None:
        data = alice.certificate_pem().replace(b"CERTIFICATE", b"X509 CERTIFICATE")
        assert load_certificates(data) == (alice.certificate,)

    @pytest.mark.parametrize("encoding", ["pem", "der"])
    def test_pkcs7_bag(self, pki: TestPKI, alice: Identity, encoding: str) -> None:
        certificates = [alice.certificate, *_chain(pki)]
        bag = pkcs7.serialize_certificates(certificates, PEM if encoding == "pem" else DER)
        if encoding == "pem":
            assert bag.startswith(b"-----BEGIN PKCS7-----")
        assert set(load_certificates(bag)) == set(certificates)

    @pytest.mark.parametrize("outform", ["PEM", "DER"])
    def test_openssl_crl2pkcs7(
        self, openssl: str, pki: TestPKI, alice: Identity, tmp_path: Path, outform: str
    ) -> None:
        # openssl writes the certificate SET in file order, which is not DER;
        # cryptography's own reader warns about it, mailcore must not.
        (tmp_path / "a.pem").write_bytes(alice.certificate_pem())
        (tmp_path / "chain.pem").write_bytes(b"".join(map(_pem, _chain(pki))))
        bag = run_openssl(
            openssl, "crl2pkcs7", "-nocrl", "-certfile", tmp_path / "a.pem",
            "-certfile", tmp_path / "chain.pem", "-outform", outform,
        )  # fmt: skip
        assert load_certificates(bag) == (alice.certificate, *_chain(pki))

    def test_openssl_crl2pkcs7_with_crl(
        self, openssl: str, pki: TestPKI, alice: Identity, tmp_path: Path
    ) -> None:
        (tmp_path / "a.pem").write_bytes(alice.certificate_pem())
        (tmp_path / "crl.pem").write_bytes(pki.crl([]).public_bytes(PEM))
        bag = run_openssl(
            openssl, "crl2pkcs7", "-in", tmp_path / "crl.pem", "-certfile", tmp_path / "a.pem"
        )
        assert load_certificates(bag) == (alice.certificate,)

    def test_streamed_signed_message(
        self, openssl: str, pki: TestPKI, alice: Identity, tmp_path: Path
    ) -> None:
        # BER with indefinite lengths (openssl cms -stream, NSS, Outlook).
        (tmp_path / "a.pem").write_bytes(alice.certificate_pem())
        (tmp_path / "a.key").write_bytes(alice.key_pem())
        (tmp_path / "ca.pem").write_bytes(_pem(pki.issuing.certificate))
        signed = run_openssl(
            openssl, "cms", "-sign", "-nodetach", "-stream", "-outform", "DER",
            "-signer", tmp_path / "a.pem", "-inkey", tmp_path / "a.key",
            "-certfile", tmp_path / "ca.pem", data=b"hello\r\n",
        )  # fmt: skip
        assert signed[1] == 0x80
        assert set(load_certificates(signed)) == {alice.certificate, pki.issuing.certificate}

    def test_empty_bag(self, openssl: str, pki: TestPKI, tmp_path: Path) -> None:
        (tmp_path / "crl.pem").write_bytes(pki.crl([]).public_bytes(PEM))
        bag = run_openssl(openssl, "crl2pkcs7", "-in", tmp_path / "crl.pem", "-outform", "DER")
        with pytest.raises(KeyLoadError, match="no certificates"):
            load_certificates(bag)

    def test_zero_serial_is_read_without_warning(self, pki: TestPKI) -> None:
        # RFC 5280 forbids it; cryptography warns; such certificates exist.
        certificate = (
            x509.CertificateBuilder()
            .subject_name(pki.issuing.certificate.subject)
            .issuer_name(pki.issuing.certificate.subject)
            .public_key(pki.issuing.key.public_key())
            .serial_number(1)
            .not_valid_before(pki.now)
            .not_valid_after(pki.now)
            .sign(pki.issuing.key, hashes.SHA256())  # type: ignore[arg-type]
        )
        der = bytearray(certificate.public_bytes(DER))
        position = der.index(b"\x02\x01\x01")  # the serial number INTEGER
        der[position + 2] = 0
        [loaded] = load_certificates(bytes(der))
        assert describe(loaded).serial == "0x0"

    @pytest.mark.parametrize(
        "data",
        [b"", b"garbage", b"\x30\x00", bytes(range(256)), b"-----BEGIN CERTIFICATE-----\n"],
        ids=["empty", "text", "empty-sequence", "bytes", "unterminated"],
    )
    def test_garbage(self, data: bytes) -> None:
        with pytest.raises(KeyLoadError):
            load_certificates(data)

    def test_key_only(self, alice: Identity) -> None:
        with pytest.raises(KeyLoadError, match=r"no certificate.*PRIVATE KEY"):
            load_certificates(alice.key_pem())

    def test_pkcs12(self, alice: Identity) -> None:
        data = pkcs12.serialize_key_and_certificates(
            b"a",
            alice.key,  # type: ignore[arg-type]
            alice.certificate,
            None,
            PLAIN,
        )
        with pytest.raises(KeyLoadError, match="PKCS #12"):
            load_certificates(data)

    def test_damaged_certificate(self, alice: Identity) -> None:
        der = alice.certificate.public_bytes(DER)
        with pytest.raises(KeyLoadError, match="as DER"):
            load_certificates(der[:-10])

    def test_bad_version(self, alice: Identity) -> None:
        # cryptography raises its own InvalidVersion (not a ValueError) here.
        der = alice.certificate.public_bytes(DER)
        damaged = der.replace(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x07", 1)
        with pytest.raises(KeyLoadError, match="version"):
            load_certificates(damaged)

    def test_pkcs7_that_is_not_signed_data(self) -> None:
        # ContentInfo { id-data, [0] OCTET STRING "x" }
        data_info = bytes.fromhex("300f06092a864886f70d010701a0020400")
        pem = b"-----BEGIN PKCS7-----\n" + base64.b64encode(data_info)
        with pytest.raises(KeyLoadError, match="not a SignedData"):
            load_certificates(pem + b"\n-----END PKCS7-----\n")


# -- hypothesis: nothing but KeyLoadError ----------------------------------------------

_PREFIXES = [
    b"",
    b"\x30\x82",
    b"\x30\x80",
    b"-----BEGIN PRIVATE KEY-----\n",
    b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n",
    b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n",
    b"-----BEGIN CERTIFICATE-----\n",
    b"-----BEGIN PKCS7-----\n",
]


@st.composite
def _damaged(draw: st.DrawFn, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    cut = draw(st.integers(1, len(data)))
    return bytes(data[:cut])


def _only_key_load_errors(call: Callable[[], object]) -> None:
    try:
        call()
    except KeyLoadError:
        pass


_PASSWORDS = st.none() | st.sampled_from([b"", PASSWORD, b"wrong"])


class TestNothingButKeyLoadError:
    @given(
        prefix=st.sampled_from(_PREFIXES),
        data=st.binary(max_size=600),
        password=_PASSWORDS,
    )
    def test_random_bytes(self, prefix: bytes, data: bytes, password: bytes | None) -> None:
        _only_key_load_errors(lambda: load_private_key(prefix + data, password=password))
        _only_key_load_errors(lambda: load_certificates(prefix + data))

    @given(data=st.data(), password=_PASSWORDS)
    def test_damaged_files(
        self, fixed_files: dict[str, bytes], data: st.DataObject, password: bytes | None
    ) -> None:
        name = data.draw(st.sampled_from(sorted(fixed_files)))
        damaged = data.draw(_damaged(fixed_files[name]))
        _only_key_load_errors(lambda: load_private_key(damaged, password=password))
        _only_key_load_errors(lambda: [describe(c) for c in load_certificates(damaged)])


@pytest.fixture(scope="module")
def fixed_files(pki: TestPKI, alice: Identity) -> dict[str, bytes]:
    encryption = serialization.BestAvailableEncryption(PASSWORD)
    p12 = pkcs12.serialize_key_and_certificates(
        b"alice",
        alice.key,  # type: ignore[arg-type]
        alice.certificate,
        _chain(pki),
        encryption,
    )
    p256 = ec.generate_private_key(ec.SECP256R1())
    return {
        "key-der": alice.key.private_bytes(DER, PKCS8, PLAIN),
        "key-der-encrypted": alice.key.private_bytes(DER, PKCS8, encryption),
        "key-ec-der": p256.private_bytes(DER, TRADITIONAL, PLAIN),
        "key-pem": alice.key_pem(),
        "certificate-der": alice.certificate.public_bytes(DER),
        "certificate-pem": alice.certificate_pem(),
        "pkcs7-der": pkcs7.serialize_certificates([alice.certificate], DER),
        "pkcs12": p12,
        "pkcs12-ber": ber_pkcs12(p12),
    }
