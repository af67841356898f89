"""Write ``outbound.json``: ``python vectors/pipeline/generate.py``.

The cases run :meth:`mailcore.pipeline.Pipeline.outbound` with the S/MIME
vector PKI (``../smime/pki``, made 2026-01-01) and then open the result as
each recipient.  Expectations are written here by hand from the issue's
rules (order of steps, all-or-nothing, Bcc never in the output, the sender
can read the sent copy); outputs are not compared byte for byte because
signatures and encryption are randomised.
"""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
PKI = "../smime/pki"
AT = "2026-06-01T00:00:00Z"

DIRECTORY = {
    "alice@example.com": [f"{PKI}/alice-rsa2048.crt.pem"],
    "bob@example.com": [f"{PKI}/bob-p256.crt.pem"],
    "carol@example.com": [f"{PKI}/carol-p384.crt.pem"],
    "erin@example.com": [f"{PKI}/erin-rsa-signing.crt.pem", f"{PKI}/erin-rsa-encryption.crt.pem"],
    "frank@example.com": [f"{PKI}/frank-expired.crt.pem"],
}
KEYS = {
    "alice@example.com": [f"{PKI}/alice-rsa2048.key.pem", f"{PKI}/alice-rsa2048.crt.pem", f"{PKI}/issuing-ca.crt.pem"],
    "bob@example.com": [f"{PKI}/bob-p256.key.pem", f"{PKI}/bob-p256.crt.pem", f"{PKI}/issuing-ca.crt.pem"],
    "carol@example.com": [f"{PKI}/carol-p384.key.pem", f"{PKI}/carol-p384.crt.pem", f"{PKI}/issuing-ca.crt.pem"],
    "erin@example.com": [f"{PKI}/erin-rsa-encryption.key.pem", f"{PKI}/erin-rsa-encryption.crt.pem", f"{PKI}/issuing-ca.crt.pem"],
}


def message(to: str, cc: str = "", bcc: str = "", sender: str = "alice@example.com") -> str:
    lines = [f"From: Alice <{sender}>", f"To: {to}"]
    lines += [f"Cc: {cc}"] if cc else []
    lines += [f"Bcc: {bcc}"] if bcc else []
    lines += ["Subject: Quarterly figures", "Message-ID: <v1@example.com>", "MIME-Version: 1.0",
              "Content-Type: text/plain; charset=us-ascii", "", "The figures are attached.", ""]  # fmt: skip
    return "\r\n".join(lines)


def main() -> None:
    cases = []

    def case(ident: str, comment: str, msg: str, policy: dict[str, object], expected: dict[str, object],
             result: str = "valid", **extra: object) -> None:  # fmt: skip
        cases.append({
            "id": f"pipeline::outbound::{ident}", "comment": comment,
            "input": {"message": msg, "policy": policy, "directory": DIRECTORY, "keys": KEYS,
                      "trust": [f"{PKI}/root-ca.crt.pem"], "at": AT, **extra},
            "expected": expected, "result": result,
        })  # fmt: skip

    both = {"smime": {"sign": True, "encrypt": True}}
    case("sign-encrypt-all-found", "every recipient has a certificate: signed, then encrypted to all and the sender",
         message("bob@example.com", cc="Carol <carol@example.com>", bcc="erin@example.com"), both,
         {"signed": True, "encrypted": True, "encryption": {"decision": "encrypt", "missing": []},
          "readable_by": ["alice@example.com", "bob@example.com", "carol@example.com", "erin@example.com"],
          "absent_fields": ["bcc"], "outer_fields": ["from", "to", "cc", "subject", "message-id"]})  # fmt: skip
    case("one-without-certificate", "dave has no entry: the whole message goes out signed but unencrypted",
         message("bob@example.com, dave@example.com"), both,
         {"signed": True, "encrypted": False,
          "encryption": {"decision": "send_unencrypted", "missing": [{"address": "dave@example.com", "reason": "not_found"}]},
          "readable_by": [], "absent_fields": []})  # fmt: skip
    case("expired-certificate", "frank's only certificate has expired: no_valid_certificate, sent unencrypted",
         message("frank@example.com"), both,
         {"signed": True, "encrypted": False,
          "encryption": {"decision": "send_unencrypted", "missing": [{"address": "frank@example.com", "reason": "no_valid_certificate"}]}})  # fmt: skip
    case("reject", "on_missing_certificate = reject: refused, nothing signed",
         message("bob@example.com, dave@example.com"),
         {"smime": {"sign": True, "encrypt": True, "on_missing_certificate": "reject"}},
         {"error": "EncryptionRefused"}, result="invalid")  # fmt: skip
    case("sign-only", "sign = true, encrypt = false: a multipart/signed message, no plan",
         message("dave@example.com"), {"smime": {"sign": True}},
         {"signed": True, "encrypted": False, "encryption": {"decision": "not_requested", "missing": []}})  # fmt: skip
    case("no-signing-key", "sign = true and the sender holds no key: refused",
         message("bob@example.com", sender="dave@example.com"), {"smime": {"sign": True}},
         {"error": "MessageRefused"}, result="invalid")  # fmt: skip
    case("encrypt-only-dedicated-certificate", "erin has a signing-only and an encryption-only certificate: the latter is used",
         message("erin@example.com"), {"smime": {"encrypt": True}},
         {"signed": False, "encrypted": True, "encryption": {"decision": "encrypt", "missing": []},
          "readable_by": ["erin@example.com", "alice@example.com"]})  # fmt: skip
    case("marking-default", "classification on: the policy default marking is applied before signing",
         message("bob@example.com"), {"classification": {"enabled": True}, **both},
         {"signed": True, "encrypted": True, "marking_sec": "UNOFFICIAL",
          "outer_fields": ["x-protective-marking", "subject"]})  # fmt: skip
    case("sender-not-a-recipient", "encrypt_to_sender = false: the sender cannot read the sent copy",
         message("bob@example.com"), {"smime": {"encrypt": True, "encrypt_to_sender": False}},
         {"encrypted": True, "readable_by": ["bob@example.com"], "unreadable_by": ["alice@example.com"]})  # fmt: skip

    suite = {
        "area": "pipeline",
        "description": "Pipeline.outbound end to end: marking, signature, the all-or-nothing encryption decision, Bcc removal, who can read the result",
        "source": "written by vectors/pipeline/generate.py by hand from the pipeline issue's rules; certificates and keys of vectors/smime/pki (TestPKI, 2026-01-01)",
        "cases": cases,
    }
    (HERE / "outbound.json").write_text(json.dumps(suite, indent=1) + "\n")


if __name__ == "__main__":
    main()
