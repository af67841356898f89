"""The generated PKI: chains validate with openssl, usages are as asked."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509

from mailcore.smime.pki import TestPKI
from tests.smime.conftest import run_openssl


def test_chain_verifies_with_openssl(pki: TestPKI, openssl: str, tmp_path: Path) -> None:
    leaf = pki.issue("carol@example.com", "p256", usage="signing")
    (tmp_path / "root.pem").write_bytes(pki.root.certificate_pem())
    (tmp_path / "chain.pem").write_bytes(leaf.chain_pem())
    (tmp_path / "leaf.pem").write_bytes(leaf.certificate_pem())
    out = run_openssl(
        openssl,
        "verify",
        "-CAfile",
        tmp_path / "root.pem",
        "-untrusted",
        tmp_path / "chain.pem",
        "-purpose",
        "smimesign",
        tmp_path / "leaf.pem",
    )
    assert out.strip().endswith(b"OK")


def test_usages(pki: TestPKI) -> None:
    signing = pki.issue("s@example.com", "rsa2048", usage="signing")
    usage = signing.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_encipherment
    encryption = pki.issue("e@example.com", "p384", usage="encryption")
    usage = encryption.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.key_agreement and not usage.digital_signature
