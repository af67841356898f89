"""Interoperability with the OpenSSL command line, both directions.

mailcore signs → ``openssl cms -verify -CAfile root.pem -purpose smimesign``
accepts it and hands back the very entity mailcore signed; ``openssl cms
-sign`` (digests, RSA-PSS, EC keys, opaque, streaming BER, SKI signer ids)
→ mailcore reports it valid with the right signer.

OpenSSL 3.0 cannot sign or verify Ed25519 CMS at all ("no default digest" /
"invalid digest", fixed in later releases), so mailcore's Ed25519 output is
checked here against RFC 8419 directly with asn1crypto and cryptography.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from asn1crypto import cms  # type: ignore[import-untyped]  # no stubs
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding

from mailcore.smime._mime import base64_lines, find_signed_parts, make_seven_bit, split_entity
from mailcore.smime._signed import sign_message
from mailcore.smime._verify import verify_message
from mailcore.smime.pki import Identity, TestPKI
from tests.smime.conftest import run_openssl

MESSAGE = (
    b"From: Alice <alice@example.com>\r\n"
    b"To: bob@example.com\r\n"
    b"Subject: Interop\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"\r\n"
    b"Gr\xc3\xbc\xc3\x9fe from mailcore.\r\n"
    b"From the start of a line.\r\n"
)
ENTITY = b"Content-Type: text/plain; charset=us-ascii\r\n\r\nSigned by OpenSSL.\r\n"


@pytest.fixture(scope="session")
def identities(pki: TestPKI, alice: Identity) -> dict[str, Identity]:
    made = {"rsa2048": alice}
    for kind in ("p256", "p384", "p521", "ed25519"):
        made[kind] = pki.issue("alice@example.com", kind)
    return made


@pytest.fixture(scope="session")
def folder(pki: TestPKI, identities: dict[str, Identity], tmp_path_factory) -> Path:
    """root.pem, entity.txt and <kind>.pem / <kind>.key / <kind>.chain.pem."""
    path = tmp_path_factory.mktemp("interop")
    (path / "root.pem").write_bytes(pki.root.certificate.public_bytes(Encoding.PEM))
    (path / "entity.txt").write_bytes(ENTITY)
    for kind, identity in identities.items():
        (path / f"{kind}.pem").write_bytes(identity.certificate_pem())
        (path / f"{kind}.key").write_bytes(identity.key_pem())
        (path / f"{kind}.chain.pem").write_bytes(identity.chain_pem())
    return path


# -- mailcore signs, OpenSSL verifies --------------------------------------------------

MAILCORE_CASES = {
    "rsa-sha256": ("rsa2048", "sha256", False),
    "rsa-sha384": ("rsa2048", "sha384", False),
    "rsa-sha512": ("rsa2048", "sha512", False),
    "rsa-pss-sha256": ("rsa2048", "sha256", True),
    "rsa-pss-sha512": ("rsa2048", "sha512", True),
    "p256-sha256": ("p256", "sha256", False),
    "p384-sha384": ("p384", "sha384", False),
    "p521-sha512": ("p521", "sha512", False),
}


@pytest.mark.parametrize("opaque", [False, True], ids=["detached", "opaque"])
@pytest.mark.parametrize(
    ("kind", "digest", "pss"), MAILCORE_CASES.values(), ids=MAILCORE_CASES.keys()
)
def test_openssl_verifies_mailcore(
    openssl: str,
    folder: Path,
    identities: dict[str, Identity],
    tmp_path: Path,
    kind: str,
    digest: str,
    pss: bool,
    opaque: bool,
) -> None:
    identity = identities[kind]
    signed = sign_message(
        MESSAGE,
        identity.key,
        identity.certificate,
        chain=identity.chain,
        digest=digest,
        pss=pss,
        opaque=opaque,
    )
    (tmp_path / "signed.eml").write_bytes(signed)
    content = run_openssl(
        openssl,
        "cms",
        "-verify",
        "-CAfile",
        folder / "root.pem",
        "-purpose",
        "smimesign",
        "-in",
        tmp_path / "signed.eml",
    )
    assert content == make_seven_bit(split_entity(MESSAGE).inner)
    printed = run_openssl(openssl, "cms", "-cmsout", "-print", "-in", tmp_path / "signed.eml")
    assert (b"rsassaPss" in printed) == pss


def test_openssl_rejects_tampered_mailcore_signature(
    openssl: str, folder: Path, identities: dict[str, Identity], tmp_path: Path
) -> None:
    """The oracle is not blind: a changed signed part fails in OpenSSL too."""
    identity = identities["p256"]
    signed = sign_message(MESSAGE, identity.key, identity.certificate, chain=identity.chain)
    (tmp_path / "signed.eml").write_bytes(signed.replace(b"mailcore.", b"mailcore!"))
    with pytest.raises(AssertionError, match="failed"):
        run_openssl(
            openssl,
            "cms",
            "-verify",
            "-CAfile",
            folder / "root.pem",
            "-in",
            tmp_path / "signed.eml",
        )


@pytest.mark.parametrize("opaque", [False, True], ids=["detached", "opaque"])
def test_ed25519_follows_rfc_8419(identities: dict[str, Identity], opaque: bool) -> None:
    """RFC 8419 §3: id-sha512 digest, id-Ed25519 without parameters, PureEdDSA
    over the DER signed attributes."""
    identity = identities["ed25519"]
    signed = sign_message(
        MESSAGE, identity.key, identity.certificate, chain=identity.chain, opaque=opaque
    )
    if opaque:
        info = cms.ContentInfo.load(base64.b64decode(signed.split(b"\r\n\r\n", 1)[1]))
        content = info["content"]["encap_content_info"]["content"].native
    else:
        info = cms.ContentInfo.load(find_signed_parts(signed).signature)
        content = find_signed_parts(signed).signed
    signer = info["content"]["signer_infos"][0]
    assert signer["digest_algorithm"]["algorithm"].dotted == "2.16.840.1.101.3.4.2.3"
    assert signer["signature_algorithm"]["algorithm"].dotted == "1.3.101.112"
    assert signer["signature_algorithm"]["parameters"].native is None
    attributes = {a["type"].native: a["values"][0].native for a in signer["signed_attrs"]}
    digest = hashes.Hash(hashes.SHA512())
    digest.update(content)
    assert attributes["message_digest"] == digest.finalize()
    public = identity.certificate.public_key()
    assert isinstance(public, ed25519.Ed25519PublicKey)
    signed_attributes = b"\x31" + signer["signed_attrs"].dump()[1:]
    public.verify(signer["signature"].native, signed_attributes)  # raises if wrong


# -- OpenSSL signs, mailcore verifies --------------------------------------------------

OPENSSL_CASES = {
    "sha256": ("rsa2048", ["-md", "sha256"], "sha256", "rsa-pkcs1v15"),
    "sha384": ("rsa2048", ["-md", "sha384"], "sha384", "rsa-pkcs1v15"),
    "sha512": ("rsa2048", ["-md", "sha512"], "sha512", "rsa-pkcs1v15"),
    "pss": ("rsa2048", ["-keyopt", "rsa_padding_mode:pss"], "sha256", "rsa-pss"),
    "pss-sha384-max-salt": (
        "rsa2048",
        ["-md", "sha384", "-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:max"],
        "sha384",
        "rsa-pss",
    ),
    "p256": ("p256", ["-md", "sha256"], "sha256", "ecdsa"),
    "p384": ("p384", ["-md", "sha384"], "sha384", "ecdsa"),
    "p521": ("p521", ["-md", "sha512"], "sha512", "ecdsa"),
    "opaque": ("rsa2048", ["-nodetach"], "sha256", "rsa-pkcs1v15"),
    "opaque-ec": ("p384", ["-nodetach", "-md", "sha384"], "sha384", "ecdsa"),
    "stream-multipart": ("rsa2048", ["-stream"], "sha256", "rsa-pkcs1v15"),
    "stream-opaque": ("p256", ["-stream", "-nodetach"], "sha256", "ecdsa"),
    "subject-key-identifier": ("rsa2048", ["-keyid"], "sha256", "rsa-pkcs1v15"),
    "binary": ("p256", ["-binary"], "sha256", "ecdsa"),
}


@pytest.mark.parametrize(
    ("kind", "options", "digest", "scheme"), OPENSSL_CASES.values(), ids=OPENSSL_CASES.keys()
)
def test_mailcore_verifies_openssl(
    pki: TestPKI,
    openssl: str,
    folder: Path,
    identities: dict[str, Identity],
    kind: str,
    options: list[str],
    digest: str,
    scheme: str,
) -> None:
    signed = run_openssl(
        openssl,
        "cms",
        "-sign",
        "-in",
        folder / "entity.txt",
        "-signer",
        folder / f"{kind}.pem",
        "-inkey",
        folder / f"{kind}.key",
        "-certfile",
        folder / f"{kind}.chain.pem",
        "-from",
        "alice@example.com",
        "-subject",
        "Interop",
        *options,
    )
    result = verify_message(signed, trust=[pki.root.certificate])
    assert result.valid, result.reason
    assert result.content == ENTITY
    _check_report(result.signers[0], identities[kind], digest, scheme)


def test_mailcore_verifies_openssl_ber_der(
    pki: TestPKI, openssl: str, folder: Path, identities: dict[str, Identity]
) -> None:
    """``-stream -outform DER``: indefinite-length BER, wrapped in MIME here."""
    der = run_openssl(
        openssl,
        "cms",
        "-sign",
        "-nodetach",
        "-stream",
        "-outform",
        "DER",
        "-in",
        folder / "entity.txt",
        "-signer",
        folder / "p384.pem",
        "-inkey",
        folder / "p384.key",
        "-md",
        "sha384",
    )
    assert der[:2] == b"\x30\x80"
    message = (
        b"From: alice@example.com\r\nMIME-Version: 1.0\r\n"
        b"Content-Type: application/x-pkcs7-mime; smime-type=signed-data\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n" + base64_lines(der)
    )
    result = verify_message(
        message, trust=[pki.root.certificate], intermediates=identities["p384"].chain
    )
    assert result.valid, result.reason
    assert result.content == ENTITY
    _check_report(result.signers[0], identities["p384"], "sha384", "ecdsa")


def test_mailcore_rejects_tampered_openssl_message(
    pki: TestPKI, openssl: str, folder: Path
) -> None:
    signed = run_openssl(
        openssl,
        "cms",
        "-sign",
        "-in",
        folder / "entity.txt",
        "-signer",
        folder / "rsa2048.pem",
        "-inkey",
        folder / "rsa2048.key",
        "-certfile",
        folder / "rsa2048.chain.pem",
        "-from",
        "alice@example.com",
    )
    tampered = signed.replace(b"Signed by OpenSSL.", b"Signed by 0penSSL.")
    assert tampered != signed
    result = verify_message(tampered, trust=[pki.root.certificate])
    assert (result.valid, result.reason) == (False, "content_mismatch")


def _check_report(report, identity: Identity, digest: str, scheme: str) -> None:
    certificate = identity.certificate
    assert report.subject == "emailAddress=alice@example.com,CN=alice"
    assert report.email == "alice@example.com"
    assert report.serial == f"0x{certificate.serial_number:x}"
    assert report.sha256 == certificate.fingerprint(hashes.SHA256()).hex()
    assert report.digest == digest
    assert report.signature == scheme
    assert report.signing_time is not None
    assert report.chain == ("CN=mailcore Test Issuing CA", "CN=mailcore Test Root CA")
    assert report.certificate == certificate
