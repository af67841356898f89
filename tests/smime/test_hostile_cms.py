"""Hostile CMS (issue 17.1): every attack is verified or refused in under a
second, with its exact outcome, and the limits leave real mail alone.

The bound asserted is functional (< 1 s on a loaded 2-core machine); the
figures are the ``smime.verify.attack-corpus`` benchmark's.  Before the
fix the junk-CA messages took minutes and gigabytes, 1,000 certificates
ended in RecursionError, 1,000 SignerInfos took 3 s and 100,000
RecipientInfos up to 22 s a key.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import TypeVar

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from mailcore.directory._paths import PathValidator
from mailcore.errors import DecryptionFailed, MalformedSmime
from mailcore.smime import _hostile, _pathbuild
from mailcore.smime._decrypt import MAX_RECIPIENT_INFOS, decrypt_message
from mailcore.smime._verify import MAX_CERTIFICATES, MAX_SIGNERS, VerifyResult, verify_message
from mailcore.smime.pki import Identity, TestPKI

_T = TypeVar("_T")
LIMIT = 1.0  # seconds


@pytest.fixture(scope="module")
def signer(pki: TestPKI) -> Identity:
    """A P-256 alice: fast to make and to verify."""
    return pki.issue("alice@example.com", "p256")


def _timed(function: Callable[[], _T]) -> _T:
    start = time.perf_counter()
    try:
        return function()
    finally:
        elapsed = time.perf_counter() - start
        assert elapsed < LIMIT, f"took {elapsed:.2f} s"


def _verify(message: bytes, pki: TestPKI) -> VerifyResult:
    return _timed(lambda: verify_message(message, trust=[pki.root.certificate]))


def _refused(message: bytes, pki: TestPKI, match: str) -> None:
    start = time.perf_counter()
    with pytest.raises(MalformedSmime, match=match):
        verify_message(message, trust=[pki.root.certificate])
    assert time.perf_counter() - start < LIMIT


class TestJunkCertificates:
    """Self-made "CA"s named like the signer's issuer, before the real one."""

    def test_legitimate_chain_still_verifies(self, pki: TestPKI, signer: Identity) -> None:
        result = _verify(_hostile.signed_with(signer, []), pki)
        assert result.valid
        assert result.signers[0].chain == (
            "CN=mailcore Test Issuing CA",
            "CN=mailcore Test Root CA",
        )

    @pytest.mark.parametrize("count", [8, 10])
    def test_same_subject_same_key(self, pki: TestPKI, signer: Identity, count: int) -> None:
        junk = _hostile.junk_cas(count, signer.certificate.issuer)
        result = _verify(_hostile.signed_with(signer, junk), pki)
        assert result.valid, result.reason  # the real path is still found

    def test_same_subject_distinct_keys(self, pki: TestPKI, signer: Identity) -> None:
        junk = _hostile.junk_cas(10, signer.certificate.issuer, same_key=False)
        result = _verify(_hostile.signed_with(signer, junk), pki)
        assert result.valid, result.reason

    def test_junk_without_the_real_issuer_is_untrusted(
        self, pki: TestPKI, signer: Identity
    ) -> None:
        junk = _hostile.junk_cas(10, signer.certificate.issuer, same_key=False)
        alone = dataclasses.replace(signer, chain=())
        result = _verify(_hostile.signed_with(alone, junk), pki)
        assert (result.valid, result.reason) == (False, "untrusted")

    def test_chain_loop_is_untrusted(self, pki: TestPKI) -> None:
        result = _verify(_hostile.loop_signed(), pki)
        assert (result.valid, result.reason) == (False, "untrusted")

    def test_at_the_certificate_limit_it_verifies(self, pki: TestPKI, signer: Identity) -> None:
        # the signer and its issuing CA are two of the MAX_CERTIFICATES
        junk = _hostile.junk_cas(MAX_CERTIFICATES - 2, signer.certificate.issuer, same_key=False)
        assert _verify(_hostile.signed_with(signer, junk), pki).valid

    def test_over_the_certificate_limit_is_refused(self, pki: TestPKI, signer: Identity) -> None:
        junk = _hostile.junk_cas(MAX_CERTIFICATES - 1, signer.certificate.issuer)
        _refused(
            _hostile.signed_with(signer, junk),
            pki,
            f"carries {MAX_CERTIFICATES + 1} certificates; mailcore reads at most 32",
        )

    def test_a_thousand_certificates_are_refused(self, pki: TestPKI, signer: Identity) -> None:
        # Before: RecursionError out of pyhanko-certvalidator's path walker.
        junk = _hostile.junk_cas(1000, signer.certificate.issuer)
        _refused(
            _hostile.signed_with(signer, junk),
            pki,
            "carries 1002 certificates; mailcore reads at most 32",
        )

    def test_directory_paths_are_bounded_too(self, pki: TestPKI, signer: Identity) -> None:
        junk = _hostile.junk_cas(10, signer.certificate.issuer, same_key=False)
        validator = PathValidator([pki.root.certificate], [*junk, pki.issuing.certificate])
        assert _timed(lambda: validator.full_answer(signer.certificate, pki.now))
        lonely = PathValidator([pki.root.certificate], junk)
        assert not _timed(lambda: lonely.full_answer(signer.certificate, pki.now))


class TestStructureLimits:
    def test_signers_at_the_limit_verify(self, pki: TestPKI, signer: Identity) -> None:
        result = _verify(_hostile.many_signers(signer, MAX_SIGNERS), pki)
        assert result.valid
        assert len(result.signers) == MAX_SIGNERS

    def test_a_thousand_signers_are_refused(self, pki: TestPKI, signer: Identity) -> None:
        _refused(
            _hostile.many_signers(signer, 1000),
            pki,
            "carries 1000 SignerInfos; mailcore reads at most 16",
        )

    def test_a_hundred_thousand_recipients_are_refused(self, bob: Identity) -> None:
        message = _hostile.many_recipients(bob, 100_000)
        start = time.perf_counter()
        with pytest.raises(MalformedSmime, match=r"carries 100000 RecipientInfos; .* 1024"):
            decrypt_message(message, bob.key, bob.certificate)
        assert time.perf_counter() - start < LIMIT

    def test_recipients_at_the_limit_cost_under_a_second_per_key(self, bob: Identity) -> None:
        # The worst case under the limit: every RecipientInfo a copy of the
        # genuine one, tried (no certificate given) with a key that is not
        # a recipient's: one RSA-2048 decryption each.
        message = _hostile.many_recipients(bob, MAX_RECIPIENT_INFOS, copies=True)
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        start = time.perf_counter()
        with pytest.raises(DecryptionFailed):
            decrypt_message(message, stranger)
        assert time.perf_counter() - start < LIMIT
        assert _timed(lambda: decrypt_message(message, bob.key, bob.certificate)).content

    def test_deeply_nested_ber_is_refused(self, pki: TestPKI) -> None:
        _refused(_hostile.deep_ber_signed(100_000), pki, "does not parse")


def test_recursion_in_path_validation_is_malformed_smime(
    pki: TestPKI, signer: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    def recurse(*_: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(_pathbuild, "build_paths", recurse)
    _refused(_hostile.signed_with(signer, []), pki, "nested too deeply or too large")


def test_memory_error_in_path_validation_is_malformed_smime(
    pki: TestPKI, signer: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    def exhaust(*_: object) -> None:
        raise MemoryError

    monkeypatch.setattr(_pathbuild, "build_paths", exhaust)
    _refused(_hostile.signed_with(signer, []), pki, "nested too deeply or too large")


def test_an_exhausted_budget_is_untrusted(
    pki: TestPKI, signer: Identity, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No candidate issuer may be examined: no path within the bounds.
    monkeypatch.setattr(_pathbuild, "MAX_PATH_STEPS", 0)
    result = _verify(_hostile.signed_with(signer, []), pki)
    assert (result.valid, result.reason) == (False, "untrusted")


def test_depth_is_bounded(pki: TestPKI, signer: Identity, monkeypatch: pytest.MonkeyPatch) -> None:
    # alice -> issuing CA -> root needs one CA below the anchor.
    monkeypatch.setattr(_pathbuild, "MAX_PATH_DEPTH", 0)
    result = _verify(_hostile.signed_with(signer, []), pki)
    assert (result.valid, result.reason) == (False, "untrusted")
