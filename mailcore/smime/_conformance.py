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

``valid`` means the file must load and match ``expected``; ``invalid``
means loading must fail with the error ``expected.error`` names.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from mailcore._vectors import VectorCase
from mailcore.errors import MailcoreError, VectorFormatError
from mailcore.smime._certs import ENCRYPTION, SIGNING, describe, iso_z, rejection_reason
from mailcore.smime._keys import load_certificates, load_private_key

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


_KINDS: dict[str, Callable[[VectorCase], str | None]] = {
    "certificate": _certificate_case,
    "key": _key_case,
}


def run_smime_case(case: VectorCase) -> str | None:
    """Run one smime case; None when it passed."""
    runner = _KINDS.get(case.kind)
    if runner is None:
        return f"unknown case kind {case.kind!r}"
    return runner(case)
