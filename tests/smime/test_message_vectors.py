"""The S/MIME message vectors: messages signed and encrypted by the openssl
command line (``vectors/smime/messages.json``, made once by
``vectors/smime/generate_messages.py``), verified and decrypted by mailcore."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from mailcore._vectors import VectorCase, load_suites
from mailcore.smime._conformance import run_smime_case

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "smime"
CASES = load_suites([VECTORS / "messages.json"])
BY_ID = {case.id: case for case in CASES}


def _case(name: str) -> VectorCase:
    return BY_ID[name]


def _with_input(case: VectorCase, **changes: Any) -> VectorCase:
    return dataclasses.replace(case, input={**case.input, **changes})


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_case(case: VectorCase) -> None:
    problem = run_smime_case(case)
    assert problem is None, problem


class TestSuite:
    def test_kinds_and_results(self) -> None:
        kinds = {case.kind for case in CASES}
        assert kinds == {"verify", "decrypt"}
        for kind in kinds:
            results = {case.result for case in CASES if case.kind == kind}
            assert results == {"valid", "invalid"}, kind

    def test_every_refusal_reason_is_exercised(self) -> None:
        reasons = {case.expected.get("reason") for case in CASES if case.kind == "verify"}
        assert reasons >= {
            None,
            "content_mismatch",
            "expired",
            "not_yet_valid",
            "revoked",
            "wrong_key_usage",
            "weak_algorithm",
            "untrusted",
            "sender_mismatch",
        }

    def test_every_cipher_is_exercised(self) -> None:
        ciphers = {case.expected.get("cipher") for case in CASES if case.kind == "decrypt"}
        assert ciphers >= {"aes-128-cbc", "aes-256-cbc", "aes-128-gcm", "aes-256-gcm"}
        assert "des-ede3-cbc" in ciphers

    def test_every_message_file_is_used(self) -> None:
        on_disk = {f"messages/{path.name}" for path in (VECTORS / "messages").iterdir()}
        used = {case.input["message"]["file"] for case in CASES}
        assert used == on_disk
        assert all((VECTORS / name).is_file() for name in used)

    def test_every_verify_case_fixes_its_time(self) -> None:
        # Without `at` a case would depend on today's date and rot.
        for case in CASES:
            if case.kind == "verify":
                assert isinstance(case.input.get("at"), str), case.id


class TestTime:
    """The `at` of the cases sits where the PKI makes it mean what it says."""

    @staticmethod
    def _certificate(name: str) -> x509.Certificate:
        return x509.load_pem_x509_certificate((VECTORS / "pki" / name).read_bytes())

    def test_valid_cases_are_inside_every_validity_period(self) -> None:
        crl = x509.load_pem_x509_crl((VECTORS / "pki" / "issuing-ca.crl.pem").read_bytes())
        anchors = [self._certificate(n) for n in ("root-ca.crt.pem", "issuing-ca.crt.pem")]
        signers = [
            self._certificate(f"{n}.crt.pem")
            for n in ("alice-rsa2048", "bob-p256", "carol-p384", "oscar-revoked")
        ]
        for case in CASES:
            if case.kind != "verify" or case.result != "valid":
                continue
            at = _moment(case.input["at"])
            for certificate in [*anchors, *signers]:
                assert certificate.not_valid_before_utc <= at, case.id
                assert at <= certificate.not_valid_after_utc, case.id
            assert crl.next_update_utc is not None and at <= crl.next_update_utc

    def test_expired_cases_are_outside(self) -> None:
        frank = self._certificate("frank-expired.crt.pem")
        alice = self._certificate("alice-rsa2048.crt.pem")
        expired = _case("smime::verify::expired")
        assert _moment(expired.input["at"]) > frank.not_valid_after_utc
        after = _case("smime::verify::multipart-rsa-sha256-after-expiry")
        assert _moment(after.input["at"]) > alice.not_valid_after_utc
        before = _case("smime::verify::multipart-rsa-sha256-before-validity")
        assert _moment(before.input["at"]) < alice.not_valid_before_utc

    def test_at_is_honoured(self) -> None:
        case = _case("smime::verify::multipart-rsa-sha256")
        later = _with_input(case, at="2030-01-01T00:00:00Z")
        assert "valid=False (reason expired)" in (run_smime_case(later) or "")
        expected = {"valid": False, "reason": "expired"}
        refused = dataclasses.replace(later, expected=expected, result="invalid")
        assert run_smime_case(refused) is None


class TestRunner:
    def test_notices_a_wrong_signer(self) -> None:
        case = _case("smime::verify::multipart-rsa-sha384")
        signer = {"email": "alice@example.com", "digest": "sha256", "signature": "rsa-pkcs1v15"}
        wrong = dataclasses.replace(case, expected={**case.expected, "signers": [signer]})
        assert "signers[0] digest" in (run_smime_case(wrong) or "")
        two = dataclasses.replace(case, expected={"signers": [signer, signer]})
        assert "signers: expected 2, got 1" in (run_smime_case(two) or "")

    def test_notices_a_wrong_reason(self) -> None:
        case = _case("smime::verify::revoked")
        wrong = dataclasses.replace(case, expected={**case.expected, "reason": "expired"})
        assert "reason" in (run_smime_case(wrong) or "")
        # Without the CRL the same message is valid, which an invalid case refuses.
        assert "valid=True" in (run_smime_case(_with_input(case, crls=[])) or "")

    def test_notices_a_wrong_verdict_for_sender(self) -> None:
        case = _case("smime::verify::sender-mismatch")
        assert run_smime_case(_with_input(case, check_sender=False)) is not None

    def test_notices_wrong_content(self) -> None:
        case = _case("smime::decrypt::alice-aes256gcm")
        wrong = dataclasses.replace(case, expected={**case.expected, "content_sha256": "00"})
        assert "content_sha256" in (run_smime_case(wrong) or "")
        cipher = dataclasses.replace(case, expected={"cipher": "aes-128-gcm"})
        assert "cipher" in (run_smime_case(cipher) or "")

    def test_notices_a_decryption_that_should_have_failed(self) -> None:
        case = _case("smime::decrypt::alice-aes256gcm")
        failure = {"error": "DecryptionFailed"}
        refused = dataclasses.replace(case, expected=failure, result="invalid")
        assert "but it decrypted" in (run_smime_case(refused) or "")

    def test_notices_a_failure_that_should_have_decrypted(self) -> None:
        case = _case("smime::decrypt::tampered-gcm")
        accepted = dataclasses.replace(case, expected={"cipher": "aes-256-gcm"}, result="valid")
        assert "DecryptionFailed" in (run_smime_case(accepted) or "")

    def test_the_wrong_key_is_not_accepted(self) -> None:
        case = _case("smime::decrypt::alice-aes128cbc")
        carol = _with_input(case, key="pki/carol-p384.key.pem", cert="pki/carol-p384.crt.pem")
        assert "DecryptionFailed" in (run_smime_case(carol) or "")
