"""How an ``smime`` vector case is run.

Kinds (the second part of the case id):

``certificate``
    ``input.file``: a certificate file (PEM, DER or PKCS #7 bag) relative to
    the suite; optional ``input.index`` (which of its certificates to
    describe, default 0) or ``input.email`` (the first one with that
    address), and ``input.at`` (ISO 8601 time).  ``expected``
    lists :class:`~mailcore.smime.CertificateInfo` fields to compare
    (``subject``, ``issuer``, ``emails``, ``serial``, ``sha256``,
    ``not_before``, ``not_after``, ``key_type``, ``key_bits``, ``curve``,
    ``is_ca``, ``purposes`` as a sorted list), plus ``count`` (how many
    certificates the file holds) and, with ``input.at``, ``reasons``:
    ``{"signing": reason-or-null, "encryption": reason-or-null}`` from
    :func:`~mailcore.smime.rejection_reason`.
``key``
    ``input.file``: a private key file, optional ``input.password`` (text,
    used as UTF-8).  ``expected`` is ``{"key_type": ..., "has_certificate":
    bool, "chain_length": n, "format": "pem"|"der"|"pkcs12"}`` (any of
    them) or ``{"error": "KeyLoadError"}``.

``verify``
    ``input.message``: ``{"file": path}`` (or the message as text),
    ``input.trust``: certificate files (each may hold several) that are the
    trust anchors, ``input.at``: the ISO 8601 time to validate at (give it:
    without it the case depends on today's date), optional ``input.crls``
    (CRL files, PEM or DER) and ``input.check_sender`` (default true); they
    go to :func:`~mailcore.smime.verify_message`.  ``expected`` gives any of
    ``valid``, ``reason``, ``content_sha256`` (of the verified content, when
    valid) and ``signers``: a list as long as the message's SignerInfos,
    each entry comparing the keys it gives with
    :meth:`~mailcore.smime.SignerReport.to_dict` plus ``valid`` and
    ``reason``.  Or ``{"error": "MalformedSmime"}`` (any error class).
``decrypt``
    ``input.message`` as for ``verify``, ``input.key``: a private key file,
    optional ``input.password`` and ``input.cert`` (the key's certificate,
    which selects the RecipientInfo).  ``expected`` gives any of
    ``cipher``, ``content_sha256`` (of the decrypted entity),
    ``authenticated``, ``key_encryption``, ``recipient`` and ``size``
    (:class:`~mailcore.smime.DecryptResult`), or ``{"error":
    "DecryptionFailed"}``.

For ``certificate`` and ``key``, ``valid`` means the file must load and
match ``expected`` and ``invalid`` means loading must fail with the error
``expected.error`` names.  For ``verify``, ``valid`` means the verdict is
valid and ``invalid`` that it is not (or that the error named was raised);
for ``decrypt``, ``valid`` means it decrypts and ``invalid`` that it fails
with the error named.  Only the keys ``expected`` gives are compared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime
from typing import Any

from cryptography import x509

from mailcore._vectors import VectorCase
from mailcore.errors import MailcoreError, VectorFormatError
from mailcore.smime._certs import ENCRYPTION, SIGNING, describe, iso_z, rejection_reason
from mailcore.smime._decrypt import decrypt_message
from mailcore.smime._keys import load_certificates, load_private_key
from mailcore.smime._verify import verify_message

__all__ = ["run_smime_case"]


def _file(case: VectorCase) -> bytes:
    name = case.input.get("file")
    if not isinstance(name, str):
        raise VectorFormatError("input.file must be a relative path", where=case.id)
    return (case.base / name).read_bytes()


def _expected(case: VectorCase) -> dict[str, Any]:
    if not isinstance(case.expected, dict):
        raise VectorFormatError("expected must be an object", where=case.id)
    return case.expected


def _refused(case: VectorCase, error: MailcoreError) -> str | None:
    """None when a refusal was the expected outcome, else what went wrong."""
    want = _expected(case).get("error")
    if case.result == "invalid" and want == type(error).__name__:
        return None
    return f"raised {type(error).__name__}: {error}"


def _compare(expected: dict[str, Any], actual: dict[str, Any]) -> str | None:
    for key, want in expected.items():
        if key not in actual:
            return f"unknown expected key {key!r}"
        if actual[key] != want:
            return f"{key}: expected {want!r}, got {actual[key]!r}"
    return None


def _certificate_case(case: VectorCase) -> str | None:
    expected = _expected(case)
    try:
        certificates = load_certificates(_file(case))
        infos = [describe(certificate) for certificate in certificates]
    except MailcoreError as error:
        return _refused(case, error)
    if "email" in case.input:
        # A bag's order is not kept (DER sorts a SET OF), so pick by address.
        wanted = str(case.input["email"]).lower()
        matches = [n for n, info in enumerate(infos) if wanted in info.emails]
        if not matches:
            return f"no certificate in the file carries {wanted}"
        index = matches[0]
    else:
        index = int(case.input.get("index", 0))
        if not 0 <= index < len(certificates):
            return f"input.index {index} but the file holds {len(certificates)}"
    certificate, info = certificates[index], infos[index]
    if case.result == "invalid":
        return "expected the certificate to be refused"
    actual: dict[str, Any] = {
        "count": len(certificates),
        "subject": info.subject,
        "issuer": info.issuer,
        "emails": list(info.emails),
        "serial": info.serial,
        "sha256": info.sha256,
        "not_before": iso_z(info.not_before),
        "not_after": iso_z(info.not_after),
        "key_type": info.key_type,
        "key_bits": info.key_bits,
        "curve": info.curve,
        "is_ca": info.is_ca,
        "purposes": sorted(info.purposes),
    }
    if "at" in case.input:
        at = datetime.fromisoformat(str(case.input["at"]).replace("Z", "+00:00"))
        actual["reasons"] = {
            purpose: rejection_reason(certificate, purpose, at=at)
            for purpose in (SIGNING, ENCRYPTION)
        }
    return _compare(expected, actual)


def _key_case(case: VectorCase) -> str | None:
    password = case.input.get("password")
    if password is not None and not isinstance(password, str):
        raise VectorFormatError("input.password must be text", where=case.id)
    try:
        loaded = load_private_key(
            _file(case), password=None if password is None else password.encode("utf-8")
        )
    except MailcoreError as error:
        return _refused(case, error)
    if case.result == "invalid":
        return "expected the key to be refused"
    actual = {
        "key_type": loaded.key_type,
        "has_certificate": loaded.certificate is not None,
        "chain_length": len(loaded.chain),
        "format": loaded.format,
    }
    return _compare(_expected(case), actual)


def _relative(case: VectorCase, name: object, what: str) -> bytes:
    if not isinstance(name, str):
        raise VectorFormatError(f"{what} must be a relative path", where=case.id)
    return (case.base / name).read_bytes()


def _message(case: VectorCase) -> bytes:
    value = case.input.get("message")
    if isinstance(value, dict) and "file" in value:
        return _relative(case, value["file"], "input.message.file")
    if isinstance(value, str):
        return value.encode("utf-8")
    raise VectorFormatError('input.message must be {"file": path} or text', where=case.id)


def _paths(case: VectorCase, key: str) -> list[object]:
    value = case.input.get(key, [])
    if not isinstance(value, list):
        raise VectorFormatError(f"input.{key} must be a list of relative paths", where=case.id)
    return value


def _crl(data: bytes) -> x509.CertificateRevocationList:
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_crl(data)
    return x509.load_der_x509_crl(data)


def _moment(case: VectorCase) -> datetime | None:
    value = case.input.get("at")
    if value is None:
        return None
    if not isinstance(value, str):
        raise VectorFormatError("input.at must be an ISO 8601 time", where=case.id)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _compare_signers(expected: object, actual: list[dict[str, Any]]) -> str | None:
    if not isinstance(expected, list):
        return "expected.signers must be a list"
    if len(expected) != len(actual):
        return f"signers: expected {len(expected)}, got {len(actual)}: {actual!r}"
    for number, (want, got) in enumerate(zip(expected, actual, strict=True)):
        if not isinstance(want, dict):
            return "each of expected.signers must be an object"
        problem = _compare(want, got)
        if problem is not None:
            return f"signers[{number}] {problem}"
    return None


def _verify_case(case: VectorCase) -> str | None:
    expected = _expected(case)
    check_sender = case.input.get("check_sender", True)
    if not isinstance(check_sender, bool):
        raise VectorFormatError("input.check_sender must be true or false", where=case.id)
    message = _message(case)
    trust = [
        certificate
        for path in _paths(case, "trust")
        for certificate in load_certificates(_relative(case, path, "input.trust[]"))
    ]
    crls = [_crl(_relative(case, path, "input.crls[]")) for path in _paths(case, "crls")]
    try:
        verdict = verify_message(
            message, trust=trust, at=_moment(case), crls=crls, check_sender=check_sender
        )
    except MailcoreError as error:
        return _refused(case, error)
    if "error" in expected:
        return f"expected {expected['error']}, but it verified: valid={verdict.valid}"
    if verdict.valid != (case.result == "valid"):
        return f"result {case.result!r}, but valid={verdict.valid} (reason {verdict.reason})"
    signers = [
        {**signer.to_dict(), "valid": signer.valid, "reason": signer.reason}
        for signer in verdict.signers
    ]
    actual: dict[str, Any] = {
        "valid": verdict.valid,
        "reason": verdict.reason,
        "content_sha256": (
            None if verdict.content is None else hashlib.sha256(verdict.content).hexdigest()
        ),
    }
    wanted = {key: value for key, value in expected.items() if key != "signers"}
    problem = _compare(wanted, actual)
    if problem is None and "signers" in expected:
        problem = _compare_signers(expected["signers"], signers)
    return problem


def _decrypt_case(case: VectorCase) -> str | None:
    expected = _expected(case)
    password = case.input.get("password")
    if password is not None and not isinstance(password, str):
        raise VectorFormatError("input.password must be text", where=case.id)
    loaded = load_private_key(
        _relative(case, case.input.get("key"), "input.key"),
        password=None if password is None else password.encode("utf-8"),
    )
    certificate = None
    if "cert" in case.input:
        certificate = load_certificates(_relative(case, case.input["cert"], "input.cert"))[0]
    message = _message(case)
    try:
        result = decrypt_message(message, loaded.key, certificate)
    except MailcoreError as error:
        return _refused(case, error)
    if case.result == "invalid" or "error" in expected:
        return f"expected {expected.get('error', 'a failure')}, but it decrypted"
    actual: dict[str, Any] = {
        **result.to_dict(),
        "content_sha256": hashlib.sha256(result.content).hexdigest(),
    }
    return _compare(expected, actual)


_KINDS: dict[str, Callable[[VectorCase], str | None]] = {
    "certificate": _certificate_case,
    "key": _key_case,
    "verify": _verify_case,
    "decrypt": _decrypt_case,
}


def run_smime_case(case: VectorCase) -> str | None:
    """Run one smime case; None when it passed."""
    runner = _KINDS.get(case.kind)
    if runner is None:
        return f"unknown case kind {case.kind!r}"
    return runner(case)
