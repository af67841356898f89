"""NIST PKITS as a conformance set for :func:`mailcore.smime.verify_message`.

The data is the 2011 edition of PKITS as shipped by the ``cryptography-vectors``
package (``x509/PKITS_data``): 224 S/MIME messages (``smime/*.eml``), each
signed by the end-entity certificate of one PKITS path test and carrying that
path's certificates and CRLs, plus the trust anchor and every CRL of the set.

How the messages are verified, and why:

* ``trust``: ``TrustAnchorRootCertificate.crt`` only.
* ``at``: a fixed moment inside the PKITS validity window (the certificates
  and CRLs run from 2010-01-01 to 2030-12-31, except those a test puts out
  of it on purpose).  The verdicts are the same at 2012-01-01 and 2029-06-01.
* ``crls``: every CRL of the set.  Without them 45 messages whose path is
  revoked or whose CRL is broken come out valid (mailcore only checks
  revocation when the caller gives CRLs; it then also uses those the
  message carries).
* ``intermediates``: none; each message carries its own path.  Passing all
  PKITS CA certificates as well makes the run about 30 times slower (path
  building over 200 CAs) and turns SignedInvalidSeparateCertificateandCRLKeys
  Test21 valid: pyhanko-certvalidator accepts a CRL signed by a revoked
  CRL-signing certificate when it is given the same CRL twice (here once by
  the caller, once by the message) and GoodCACert is among the certificates.
* ``check_sender=False``: no PKITS certificate holds an e-mail address, so
  every message would be ``sender_mismatch``.
* ``allow_sha1=True``: the 2011 PKITS is SHA-256 throughout except for the
  three DSA messages (SHA-1 with DSA), which mailcore refuses anyway as an
  unsupported algorithm; it changes no verdict today and keeps those three
  about DSA, not SHA-1, should mailcore ever implement DSA.

The expected verdict is the PKITS one under its default settings (any
policy acceptable, no explicit policy required, mapping and anyPolicy not
inhibited): the file name says it for the 202 messages named ``Valid...`` or
``Invalid...``; the other 22 (mostly the policy tests of PKITS §4.8) name no
verdict, so :data:`DEFAULT_SETTINGS_VERDICTS` states theirs.

Warnings verify_message emits are recorded rather than raised, and checked
against :data:`KNOWN_WARNINGS` by their own test.  A raised
:class:`~mailcore.errors.MalformedSmime` or
:class:`~mailcore.errors.UnsupportedAlgorithm` counts as "not valid" (the
documented way of refusing a message); any other exception is a mailcore bug
and fails the test.  Where mailcore disagrees with PKITS the case is listed in
:data:`KNOWN_DISAGREEMENTS` with the reason, and the test checks that it still
disagrees, so that fixing one forces the list to be updated.
"""

from __future__ import annotations

import functools
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import pytest
from cryptography import x509

from mailcore.errors import MalformedSmime, UnsupportedAlgorithm
from mailcore.smime import verify_message

try:
    import cryptography_vectors
except ImportError:  # a missing data set is a failure, not a skip
    PKITS: Path | None = None
else:
    PKITS = Path(cryptography_vectors.__file__).resolve().parent / "x509" / "PKITS_data"

AT = datetime(2020, 6, 1, tzinfo=UTC)
MESSAGE_COUNT = 224  # in cryptography-vectors 50.0.2
MEASURED_AGREEMENT = 221  # of MESSAGE_COUNT, measured with mailcore 0.1.0

DEFAULT_SETTINGS_VERDICTS: dict[str, bool] = {
    # PKITS §4.4.1: the CA's CRL is missing, so the status cannot be known.
    "SignedMissingCRLTest1": False,
    # PKITS §4.8 (certificate policies), verdicts under the default settings.
    "SignedAllCertificatesSamePolicyTest1": True,  # 4.8.1
    "SignedAllCertificatesNoPoliciesTest2": True,  # 4.8.2, invalid only if explicit
    "SignedDifferentPoliciesTest3": True,  # 4.8.3, invalid only if explicit
    "SignedDifferentPoliciesTest4": False,  # 4.8.4
    "SignedDifferentPoliciesTest5": False,  # 4.8.5
    "SignedOverlappingPoliciesTest6": True,  # 4.8.6
    "SignedDifferentPoliciesTest7": False,  # 4.8.7
    "SignedDifferentPoliciesTest8": False,  # 4.8.8
    "SignedDifferentPoliciesTest9": False,  # 4.8.9
    "SignedAllCertificatesSamePoliciesTest10": True,  # 4.8.10
    "SignedAllCertificatesAnyPolicyTest11": True,  # 4.8.11
    "SignedDifferentPoliciesTest12": False,  # 4.8.12
    "SignedAllCertificatesSamePoliciesTest13": True,  # 4.8.13
    "SignedAnyPolicyTest14": True,  # 4.8.14, invalid only for initial policy 2
    "SignedUserNoticeQualifierTest15": True,  # 4.8.15
    "SignedUserNoticeQualifierTest16": True,  # 4.8.16
    "SignedUserNoticeQualifierTest17": True,  # 4.8.17
    "SignedUserNoticeQualifierTest18": True,  # 4.8.18
    "SignedUserNoticeQualifierTest19": True,  # 4.8.19
    "SignedCPSPointerQualifierTest20": True,  # 4.8.20
    # PKITS §4.12.3: invalid only if initial-any-policy-inhibit is set.
    "SignedinhibitAnyPolicyTest3": True,
}
"""Verdicts of the messages whose name says neither Valid nor Invalid."""

KNOWN_DISAGREEMENTS: dict[str, str] = {
    "SignedValidNameChainingUIDsTest6": (
        "'untrusted': asn1crypto 1.5.1 re-encodes the UID CA certificate's "
        "subjectUniqueID BIT STRING (unused-bits 5 becomes 0) when the TBS is dumped, "
        "so pyhanko-certvalidator checks the trust anchor's signature over bytes "
        "that were not signed"
    ),
    "SignedValidDSASignaturesTest4": (
        "raises UnsupportedAlgorithm: mailcore does not implement DSA (dsa-with-sha1)"
    ),
    "SignedValidDSAParameterInheritanceTest5": (
        "raises MalformedSmime: the DSA certificates inherit their domain parameters "
        "(no AlgorithmIdentifier parameters, RFC 3279 §2.3.2), which cryptography "
        "cannot parse, so the message's certificates are reported as not parsing"
    ),
}
"""Messages where mailcore's verdict is not PKITS's, and why.

``SignedInvalidDSASignatureTest6`` is not listed: mailcore refuses it (DSA,
UnsupportedAlgorithm), which is the PKITS verdict, though not for the PKITS
reason (a bad DSA signature on the end-entity certificate)."""

KNOWN_WARNINGS: dict[str, str] = {}
"""Messages whose verification emits a warning, and why (a mailcore bug each)."""

_MISSING = "cryptography-vectors-is-not-installed"


def _names() -> list[str]:
    if PKITS is None:
        return [_MISSING]
    return sorted(path.stem for path in (PKITS / "smime").glob("*.eml"))


NAMES = _names()


def _data() -> Path:
    if PKITS is None:
        pytest.fail(
            "the PKITS tests need the cryptography-vectors package: "
            "pip install -e '.[test]' (or cryptography-vectors==50.0.2)"
        )
    return PKITS


@functools.cache
def _anchor() -> x509.Certificate:
    return x509.load_der_x509_certificate(
        (_data() / "certs" / "TrustAnchorRootCertificate.crt").read_bytes()
    )


@functools.cache
def _crls() -> tuple[x509.CertificateRevocationList, ...]:
    return tuple(
        x509.load_der_x509_crl(path.read_bytes())
        for path in sorted((_data() / "crls").glob("*.crl"))
    )


class Outcome(NamedTuple):
    valid: bool
    detail: str
    """The reason, ``valid``, or the exception mailcore raised."""
    warnings: tuple[str, ...]
    """What verify_message warned about (the suite turns warnings into errors,
    which would hide the verdict, so they are recorded and checked apart)."""


@functools.cache
def _outcome(name: str) -> Outcome:
    message = (_data() / "smime" / f"{name}.eml").read_bytes()
    trust, crls = [_anchor()], _crls()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = verify_message(
                message, trust=trust, at=AT, crls=crls, check_sender=False, allow_sha1=True
            )
        except (MalformedSmime, UnsupportedAlgorithm) as error:
            valid, detail = False, f"raised {type(error).__name__}: {error}"
        else:
            valid, detail = result.valid, result.reason or "valid"
    warned = tuple(f"{w.category.__name__}: {w.message}" for w in caught)
    return Outcome(valid, detail, warned)


def _expected(name: str) -> bool:
    if name in DEFAULT_SETTINGS_VERDICTS:
        return DEFAULT_SETTINGS_VERDICTS[name]
    return "Valid" in name and "Invalid" not in name


def _verdict(valid: bool) -> str:
    return "valid" if valid else "invalid"


@pytest.mark.parametrize("name", NAMES)
def test_pkits_message(name: str) -> None:
    _data()
    outcome = _outcome(name)
    expected = _expected(name)
    if name in KNOWN_DISAGREEMENTS:
        assert outcome.valid != expected, (
            f"{name} now agrees with PKITS ({outcome.detail}): "
            "remove it from KNOWN_DISAGREEMENTS and raise MEASURED_AGREEMENT"
        )
    else:
        assert outcome.valid == expected, (
            f"{name}: PKITS says {_verdict(expected)}, mailcore says {outcome.detail}"
        )


def test_the_set_is_complete() -> None:
    data = _data()
    assert (data / "certs" / "TrustAnchorRootCertificate.crt").is_file()
    assert len(NAMES) == MESSAGE_COUNT
    assert len(_crls()) > 0
    assert _anchor().not_valid_before_utc < AT < _anchor().not_valid_after_utc


def test_every_name_has_a_verdict() -> None:
    _data()
    unnamed = {name for name in NAMES if "Valid" not in name and "Invalid" not in name}
    assert unnamed == set(DEFAULT_SETTINGS_VERDICTS)
    assert set(KNOWN_DISAGREEMENTS) <= set(NAMES)


def test_warnings() -> None:
    _data()
    warned = {name: _outcome(name).warnings for name in NAMES if _outcome(name).warnings}
    assert sorted(warned) == sorted(KNOWN_WARNINGS), warned


def test_agreement() -> None:
    _data()
    agree = [name for name in NAMES if _outcome(name).valid == _expected(name)]
    disagree = sorted(set(NAMES) - set(agree))
    assert disagree == sorted(KNOWN_DISAGREEMENTS)
    assert len(agree) >= MEASURED_AGREEMENT, disagree
