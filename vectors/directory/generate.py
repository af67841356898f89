"""Make the directory decision vectors: ``python vectors/directory/generate.py``.

Certificates come from :class:`mailcore.smime.pki.TestPKI` fixed at
2026-01-01T00:00:00Z; each case's expected decision, missing recipients and
rejection reasons are written here by hand from the rules of the issue
(all-or-nothing, RFC 8550 §3 addresses, RFC 8550 §4.4 key usage, validity,
trust and revocation), not read back from mailcore.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from mailcore.smime.pki import TestPKI

HERE = Path(__file__).resolve().parent
NOW = datetime(2026, 1, 1, tzinfo=UTC)
AT = "2026-06-01T00:00:00Z"


def main() -> None:
    pki = TestPKI(now=NOW)
    other = TestPKI(now=NOW)
    certs = HERE / "certs"
    certs.mkdir(exist_ok=True)
    made: dict[str, x509.Certificate] = {}

    def save(name: str, certificate: x509.Certificate) -> str:
        (certs / f"{name}.pem").write_bytes(certificate.public_bytes(Encoding.PEM))
        made[name] = certificate
        return f"certs/{name}.pem"

    save("root-ca", pki.root.certificate)
    save("issuing-ca", pki.issuing.certificate)
    revoked = pki.issue("ivan@example.com", "p256").certificate
    save("ivan", revoked)
    (certs / "issuing-ca.crl.pem").write_bytes(pki.crl([revoked]).public_bytes(Encoding.PEM))
    save("alice", pki.issue("alice@example.com", "rsa2048").certificate)
    save("bob-enc", pki.issue("bob@example.com", "p256", usage="encryption").certificate)
    save("bob-sign", pki.issue("bob@example.com", "p256", usage="signing").certificate)
    save(
        "dave-expired",
        pki.issue(
            "dave@example.com", "p256", not_before=NOW - timedelta(days=400),
            not_after=NOW - timedelta(days=1),
        ).certificate,
    )  # fmt: skip
    save("dave", pki.issue("dave@example.com", "p256").certificate)
    save(
        "judy-future",
        pki.issue(
            "judy@example.com", "p256", not_before=NOW + timedelta(days=365),
            not_after=NOW + timedelta(days=700),
        ).certificate,
    )  # fmt: skip
    save("mallory", pki.issue("mallory@example.com", "p256").certificate)
    save("henry-rsa1024", pki.issue("henry@example.com", "rsa1024").certificate)
    save(
        "sam-serverauth",
        pki.issue("sam@example.com", "p256", eku=(ExtendedKeyUsageOID.SERVER_AUTH,)).certificate,
    )
    save("kim-other-ca", other.issue("kim@example.com", "p256").certificate)
    save("leo-short", pki.issue("leo@example.com", "p256", not_after=NOW + timedelta(days=200)).certificate)
    save("leo-long", pki.issue("leo@example.com", "p256", not_after=NOW + timedelta(days=900)).certificate)
    (certs / "garbage.der").write_bytes(b"\x30\x03\x02\x01\x00")

    def sha(name: str) -> str:
        return hashlib.sha256(made[name].public_bytes(Encoding.DER)).hexdigest()

    garbage = hashlib.sha256(b"\x30\x03\x02\x01\x00").hexdigest()

    directory = {
        "alice@example.com": ["certs/alice.pem"],
        "bob@example.com": ["certs/bob-sign.pem", "certs/bob-enc.pem"],
        "carol@example.com": [],
        "dave@example.com": ["certs/dave-expired.pem", "certs/garbage.der", "certs/dave.pem"],
        "erin@example.com": ["certs/mallory.pem"],
        "henry@example.com": ["certs/henry-rsa1024.pem"],
        "ivan@example.com": ["certs/ivan.pem"],
        "judy@example.com": ["certs/judy-future.pem"],
        "kim@example.com": ["certs/kim-other-ca.pem"],
        "leo@example.com": ["certs/leo-short.pem", "certs/leo-long.pem"],
        "sam@example.com": ["certs/sam-serverauth.pem"],
    }
    trust = {
        "trust_anchors": ["certs/root-ca.pem"],
        "intermediates": ["certs/issuing-ca.pem"],
        "crls": ["certs/issuing-ca.crl.pem"],
    }

    def found(name: str, rejected: list[tuple[str, str]] = ()) -> dict[str, object]:  # type: ignore[assignment]
        return {"status": "found", "sha256": sha(name), "rejected": sorted(rejected)}

    def none(status: str, rejected: list[tuple[str, str]] = ()) -> dict[str, object]:  # type: ignore[assignment]
        return {"status": status, "sha256": None, "rejected": sorted(rejected)}

    cases = []

    def case(ident: str, comment: str, recipients: list[str], expected: dict[str, object], *,
             sender: str | None = None, policy: dict[str, object] | None = None,
             with_trust: bool = False, result: str = "valid") -> None:  # fmt: skip
        cases.append({
            "id": f"directory::plan::{ident}",
            "comment": comment,
            "input": {
                "directory": directory, "recipients": recipients, "sender": sender,
                "policy": policy or {}, "at": AT, **(trust if with_trust else {}),
            },
            "expected": expected,
            "result": result,
        })  # fmt: skip

    case("all-found", "every recipient has a valid encryption certificate: encrypt",
         ["alice@example.com", "Bob@Example.com"],
         {"decision": "encrypt", "missing": [],
          "lookups": {"alice@example.com": found("alice"),
                      "bob@example.com": found("bob-enc", [(sha("bob-sign"), "wrong_key_usage")])}})  # fmt: skip
    case("one-not-found", "carol has an entry but no certificate: the whole message goes unencrypted",
         ["alice@example.com", "carol@example.com"],
         {"decision": "send_unencrypted",
          "missing": [{"address": "carol@example.com", "reason": "not_found"}],
          "lookups": {"alice@example.com": found("alice"),
                      "carol@example.com": none("not_found")}})  # fmt: skip
    case("no-entry-reject", "on_missing_certificate = reject: refuse instead",
         ["alice@example.com", "zoe@example.com"],
         {"decision": "reject",
          "missing": [{"address": "zoe@example.com", "reason": "not_found"}],
          "lookups": {"alice@example.com": found("alice"), "zoe@example.com": none("not_found")}},
         policy={"on_missing_certificate": "reject"})  # fmt: skip
    case("expired-and-malformed-skipped", "an expired certificate and unreadable bytes are skipped with reasons; the valid one is used",
         ["dave@example.com"],
         {"decision": "encrypt", "missing": [],
          "lookups": {"dave@example.com": found("dave", [(sha("dave-expired"), "expired"), (garbage, "malformed")])}})  # fmt: skip
    case("address-mismatch", "erin's entry holds mallory's certificate (RFC 8550 §3)",
         ["alice@example.com", "erin@example.com"],
         {"decision": "send_unencrypted",
          "missing": [{"address": "erin@example.com", "reason": "no_valid_certificate"}],
          "lookups": {"alice@example.com": found("alice"),
                      "erin@example.com": none("no_valid_certificate", [(sha("mallory"), "address_mismatch")])}})  # fmt: skip
    case("weak-future-wrong-eku", "RSA-1024, a certificate not valid yet, and a serverAuth-only EKU",
         ["henry@example.com", "judy@example.com", "sam@example.com"],
         {"decision": "send_unencrypted",
          "missing": [{"address": a, "reason": "no_valid_certificate"} for a in ("henry@example.com", "judy@example.com", "sam@example.com")],
          "lookups": {"henry@example.com": none("no_valid_certificate", [(sha("henry-rsa1024"), "weak_key")]),
                      "judy@example.com": none("no_valid_certificate", [(sha("judy-future"), "not_yet_valid")]),
                      "sam@example.com": none("no_valid_certificate", [(sha("sam-serverauth"), "wrong_key_usage")])}})  # fmt: skip
    case("trust-and-revocation", "with trust anchors and a CRL: another CA's certificate is untrusted, a listed one revoked",
         ["alice@example.com", "ivan@example.com", "kim@example.com"],
         {"decision": "send_unencrypted",
          "missing": [{"address": "ivan@example.com", "reason": "no_valid_certificate"},
                      {"address": "kim@example.com", "reason": "no_valid_certificate"}],
          "lookups": {"alice@example.com": found("alice"),
                      "ivan@example.com": none("no_valid_certificate", [(sha("ivan"), "revoked")]),
                      "kim@example.com": none("no_valid_certificate", [(sha("kim-other-ca"), "untrusted")])}},
         with_trust=True)  # fmt: skip
    case("no-anchors-no-trust-check", "without trust anchors (and CRL) kim's and ivan's certificates are used",
         ["kim@example.com", "ivan@example.com"],
         {"decision": "encrypt", "missing": [],
          "lookups": {"kim@example.com": found("kim-other-ca"), "ivan@example.com": found("ivan")}})  # fmt: skip
    case("latest-expiry", "of two valid certificates the one that expires last is chosen",
         ["leo@example.com"],
         {"decision": "encrypt", "missing": [], "lookups": {"leo@example.com": found("leo-long")}})  # fmt: skip
    case("sender-counts", "the sender is added (encrypt_to_sender) and lacks a certificate",
         ["alice@example.com"],
         {"decision": "send_unencrypted",
          "missing": [{"address": "carol@example.com", "reason": "not_found"}],
          "lookups": {"alice@example.com": found("alice"), "carol@example.com": none("not_found")}},
         sender="carol@example.com")  # fmt: skip
    case("sender-not-added", "encrypt_to_sender = false leaves the sender out",
         ["alice@example.com"],
         {"decision": "encrypt", "missing": [], "lookups": {"alice@example.com": found("alice")}},
         sender="carol@example.com", policy={"encrypt_to_sender": False})  # fmt: skip
    case("wildcard-address", "an address with '*' is not a pattern: it finds nobody",
         ["*@example.com"],
         {"decision": "send_unencrypted",
          "missing": [{"address": "*@example.com", "reason": "not_found"}],
          "lookups": {"*@example.com": none("not_found")}})  # fmt: skip
    case("invalid-address", "a recipient that is not an address is reported, never dropped",
         ["alice@example.com", "not an address"],
         {"decision": "send_unencrypted",
          "missing": [{"address": "not an address", "reason": "invalid_address"}],
          "lookups": {"alice@example.com": found("alice")}})  # fmt: skip

    suite = {
        "area": "directory",
        "description": "The all-or-nothing encryption decision and the choice of each recipient's certificate (JSON C / JSON D encryption)",
        "source": "generated by vectors/directory/generate.py with mailcore.smime.pki.TestPKI at 2026-01-01T00:00:00Z; decisions and reasons written by hand from the issue's rules, RFC 8550 §3 and §4.4",
        "cases": cases,
    }
    (HERE / "decisions.json").write_text(json.dumps(suite, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
