"""mailcore.directory._paths: the fast path answer is always the full one.

A recipient's certificate path is valid exactly when pyhanko-certvalidator
says so; cryptography's verifier answers first where its answer cannot
differ.  Checked here on every path of NIST's PKITS (as the S/MIME
messages of cryptography-vectors carry them: end entity plus the path's
CA certificates, the PKITS trust anchor), and on the project's own PKI.
"""

from __future__ import annotations

import email
import subprocess
import sys
import warnings
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7

from mailcore.directory._paths import PathValidator

try:
    import cryptography_vectors
except ImportError:  # a missing data set is a failure, not a skip
    PKITS: Path | None = None
else:
    PKITS = Path(cryptography_vectors.__file__).resolve().parent / "x509" / "PKITS_data"

AT = datetime(2020, 6, 1, tzinfo=UTC)
VECTORS_PKI = Path(__file__).resolve().parents[2] / "vectors" / "smime" / "pki"


def _pkits() -> Path:
    if PKITS is None:
        pytest.fail("cryptography-vectors is not installed (make test installs it)")
    return PKITS


def _names() -> list[str]:
    if PKITS is None:
        return ["cryptography-vectors-is-not-installed"]
    return sorted(path.stem for path in (PKITS / "smime").glob("*.eml"))


@cache
def _anchor() -> x509.Certificate:
    data = (_pkits() / "certs" / "TrustAnchorRootCertificate.crt").read_bytes()
    return x509.load_der_x509_certificate(data)


def _path_of(name: str) -> tuple[x509.Certificate, list[x509.Certificate]] | None:
    """(end entity, the other certificates) the PKITS message carries."""
    message = email.message_from_bytes((_pkits() / "smime" / f"{name}.eml").read_bytes())
    data = next(
        part.get_payload(decode=True)
        for part in message.walk()
        if "pkcs7" in part.get_content_type()
    )
    assert isinstance(data, bytes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # BER sets, a zero serial: PKITS tests them on purpose
        try:
            certificates = pkcs7.load_der_pkcs7_certificates(data)
        except ValueError:
            return None  # DSA parameter inheritance: cryptography cannot parse the key
    # The end entity issues none of the others.
    leaves = [
        c
        for c in certificates
        if not any(o is not c and o.issuer == c.subject for o in certificates)
    ]
    leaf = leaves[0] if len(leaves) == 1 else certificates[0]
    return leaf, [c for c in certificates if c is not leaf]


@pytest.mark.parametrize("name", _names())
@pytest.mark.slow
def test_fast_answer_is_never_other_than_the_full_one(name: str) -> None:
    path = _path_of(name)
    if path is None:
        assert name == "SignedValidDSAParameterInheritanceTest5"
        return
    leaf, others = path
    validator = PathValidator([_anchor()], others)
    quick = validator.quick_answer(leaf, AT)
    assert quick in (True, None)  # it accepts, or leaves the question to the full validation
    full = validator.full_answer(leaf, AT)
    if quick is True:
        assert full is True
    assert validator.valid(leaf, AT) is full


def test_fast_answer_covers_the_plain_paths() -> None:
    # Measured with cryptography 50.0.2: 101 of the 149 PKITS paths that are
    # valid take the fast way; the others carry policy constraints, policy
    # mappings, name constraints or inhibitAnyPolicy, or a CA without
    # keyUsage.  A drop means the fast path stopped working, silently.
    quick = 0
    for name in _names():
        path = _path_of(name)
        if path is not None:
            leaf, others = path
            quick += PathValidator([_anchor()], others).quick_answer(leaf, AT) is True
    assert quick >= 101


def test_fast_answer_defers_on_name_constraints() -> None:
    # A valid PKITS path through a CA with name constraints: left to the
    # full validation even though the fast verifier accepts it.
    path = _path_of("SignedValidDNnameConstraintsTest1")
    assert path is not None
    leaf, others = path
    validator = PathValidator([_anchor()], others)
    assert validator.quick_answer(leaf, AT) is None
    assert validator.valid(leaf, AT) is True


def test_the_projects_pki_takes_the_fast_way() -> None:
    def load(name: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate((VECTORS_PKI / name).read_bytes())

    validator = PathValidator([load("root-ca.crt.pem")], [load("issuing-ca.crt.pem")])
    leaf = load("alice-rsa2048.crt.pem")
    now = datetime.now(UTC)
    assert validator.quick_answer(leaf, now) is True
    assert validator.full_answer(leaf, now) is True
    # No anchor for it: refused both ways.
    stranger = PathValidator([load("issuing-ca.crt.pem")], [])
    assert stranger.quick_answer(load("root-ca.crt.pem"), now) is None
    assert stranger.valid(load("root-ca.crt.pem"), now) is False
    assert PathValidator([], []).valid(leaf, now) is False


def test_a_plain_lookup_does_not_load_the_full_validator(tmp_path: Path) -> None:
    script = f"""
import sys
from datetime import UTC, datetime
from cryptography import x509
from mailcore.directory import CertificateSelector
pki = {str(VECTORS_PKI)!r}
def load(name):
    return x509.load_pem_x509_certificate(open(pki + "/" + name, "rb").read())
selector = CertificateSelector(
    trust_anchors=[load("root-ca.crt.pem")], intermediates=[load("issuing-ca.crt.pem")]
)
leaf = load("alice-rsa2048.crt.pem")
assert selector.rejection(leaf, "alice@example.com", datetime.now(UTC)) is None
print("pyhanko_certvalidator" in sys.modules, "asyncio" in sys.modules)
"""
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, check=True, timeout=60
    )
    assert result.stdout.split() == [b"False", b"False"]
