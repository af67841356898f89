"""Make the hostile-CMS negative vectors (issue 17.1).

    python vectors/smime/generate_hostile.py

Writes ``hostile/`` (the attack messages) and ``hostile.json`` (a contract
§7 suite of ``smime::verify::hostile-*`` and ``smime::decrypt::hostile-*``
cases).  The messages are built with :mod:`mailcore.smime._hostile` from the
committed ``pki/`` keys (bob-p256 signs and is the recipient); the junk
certificates and ECDSA signatures are fresh on every run, so **run this only
to change the vectors deliberately** and commit its output.

The expectations are written here by hand from the rules, not from
mailcore's output:

* RFC 5280 path validation: a message whose signer has a real path
  (bob -> issuing-ca -> root-ca, the issuing CA embedded) is valid whatever
  junk certificates ride along, because junk cannot be an issuer of bob
  (its key did not sign bob's certificate) and copies with one subject and
  one key are one candidate; without the real issuing CA, or on a loop of
  self-made CAs, there is no path: ``untrusted``.
* mailcore's documented limits (``mailcore.smime._verify.MAX_CERTIFICATES``
  = 32, ``MAX_SIGNERS`` = 16, ``mailcore.smime._decrypt.MAX_RECIPIENT_INFOS``
  = 1024) and BER nesting beyond what can be read: ``MalformedSmime``.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from mailcore.smime import _hostile  # noqa: E402
from mailcore.smime.pki import Identity  # noqa: E402

AT = "2027-01-01T00:00:00Z"
MOMENT = datetime(2027, 1, 1, tzinfo=UTC)
ROOT = "pki/root-ca.crt.pem"
README_BEGIN = "<!-- begin: message vectors (hostile), written by generate_hostile.py -->"
README_END = "<!-- end: hostile vectors -->"
MESSAGE = _hostile.MESSAGE.replace(b"Alice <alice@example.com>", b"Bob <bob@example.com>")


def _load(name: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate((HERE / "pki" / name).read_bytes())


def main() -> None:
    issuing = _load("issuing-ca.crt.pem")
    key = serialization.load_pem_private_key((HERE / "pki/bob-p256.key.pem").read_bytes(), None)
    bob = Identity(_load("bob-p256.crt.pem"), key, (issuing,), "bob@example.com")  # type: ignore[arg-type]
    alone = Identity(bob.certificate, bob.key, (), bob.email)
    name = issuing.subject

    def junk(count: int, same_key: bool) -> list[x509.Certificate]:
        return _hostile.junk_cas(count, name, same_key=same_key, now=MOMENT)

    verify = {"trust": [ROOT], "at": AT, "crls": [], "check_sender": True}
    malformed = {"error": "MalformedSmime"}
    cases = [
        (
            "verify::hostile-same-subject-same-key",
            "bob's message carrying 10 self-signed 'CA' certificates with the issuing CA's "
            "name and one key, no key identifiers, before the real issuing CA (was: > 60 s, "
            "> 600 MB). Junk did not sign bob's certificate; the real path is there: valid",
            "same-subject-same-key.eml",
            _hostile.signed_with(bob, junk(10, True), MESSAGE),
            verify,
            {"valid": True, "reason": None},
            "valid",
        ),
        (
            "verify::hostile-same-subject-distinct-keys",
            "as above with 10 different keys (was: > 60 s, > 800 MB): valid",
            "same-subject-distinct-keys.eml",
            _hostile.signed_with(bob, junk(10, False), MESSAGE),
            verify,
            {"valid": True, "reason": None},
            "valid",
        ),
        (
            "verify::hostile-junk-without-issuer",
            "10 junk 'CA's with the issuing CA's name, the real issuing CA left out: no path "
            "to root-ca exists: untrusted",
            "junk-without-issuer.eml",
            _hostile.signed_with(alone, junk(10, False), MESSAGE),
            verify,
            {"valid": False, "reason": "untrusted"},
            "invalid",
        ),
        (
            "verify::hostile-ca-loop",
            "a self-made leaf issued by CA A, A issued by B, B issued by A: no path: untrusted",
            "ca-loop.eml",
            _hostile.loop_signed(MOMENT),
            verify,
            {"valid": False, "reason": "untrusted"},
            "invalid",
        ),
        (
            "verify::hostile-1000-certificates",
            "1,000 junk 'CA's (one subject, one key) plus bob's chain: over the limit of 32 "
            "certificates a SignedData may carry (was: RecursionError after 26 s)",
            "1000-certificates.eml",
            _hostile.signed_with(bob, junk(1000, True), MESSAGE),
            verify,
            malformed,
            "invalid",
        ),
        (
            "verify::hostile-1000-signerinfos",
            "bob's SignerInfo 1,000 times: over the limit of 16 SignerInfos (was: 3 s)",
            "1000-signerinfos.eml",
            _hostile.many_signers(bob, 1000, MESSAGE),
            verify,
            malformed,
            "invalid",
        ),
        (
            "verify::hostile-deep-ber",
            "opaque signed-data whose eContent is a constructed OCTET STRING nested 10,000 "
            "deep (BER, indefinite lengths): does not parse",
            "deep-ber.eml",
            _hostile.deep_ber_signed(10_000),
            verify,
            malformed,
            "invalid",
        ),
        (
            "decrypt::hostile-2000-recipientinfos",
            "encrypted for bob (ECDH P-256) behind 1,999 tiny KeyTransRecipientInfos naming "
            "nobody: over the limit of 1,024 RecipientInfos",
            "2000-recipientinfos.eml",
            _hostile.many_recipients(bob, 2000, MESSAGE),
            {"key": "pki/bob-p256.key.pem", "cert": "pki/bob-p256.crt.pem"},
            malformed,
            "invalid",
        ),
    ]
    folder = HERE / "hostile"
    folder.mkdir(exist_ok=True)
    suite_cases = []
    for case_id, comment, file, data, given, expected, result in cases:
        (folder / file).write_bytes(data)
        suite_cases.append(
            {
                "id": f"smime::{case_id}",
                "comment": comment,
                "input": {"message": {"file": f"hostile/{file}"}, **given},
                "expected": expected,
                "result": result,
            }
        )
    suite = {
        "area": "smime",
        "description": "hostile CMS (issue 17.1): junk-CA path-building bombs, a CA loop, "
        "1,000 certificates, 1,000 SignerInfos, 2,000 RecipientInfos, deeply nested BER; each "
        "is verified or refused (quickly) with the outcome the rules give",
        "source": "generated by vectors/smime/generate_hostile.py with mailcore.smime._hostile "
        "from the pki/ keys; expectations written by hand from RFC 5280 and mailcore's "
        "documented limits (see the generator's docstring)",
        "cases": suite_cases,
    }
    (HERE / "hostile.json").write_text(json.dumps(suite, indent=1) + "\n", encoding="utf-8")
    _readme([(f"hostile/{c[2]}", c[1]) for c in cases], len(cases))


def _readme(files: list[tuple[str, str]], count: int) -> None:
    """This generator's README section (generate.py carries it over)."""
    rows = "\n".join(f"| `{name}` | {what} |" for name, what in files)
    section = f"""{README_BEGIN}
## Hostile vectors (`hostile/`, `hostile.json`)

Negative vectors of issue 17.1: messages that made verification or
decryption hang, eat memory or recurse.  Each must be verified or refused
quickly with the outcome the rules give (see generate_hostile.py).
**Regenerate only deliberately**, with `python vectors/smime/generate_hostile.py`.

| file | what it is and where it came from |
|---|---|
| `generate_hostile.py` | the hostile-vector generator, written by hand |
| `hostile.json` | suite ({count} cases), written by generate_hostile.py |
{rows}
{README_END}
"""
    path = HERE / "README.md"
    text = path.read_text("utf-8")
    pattern = re.compile(re.escape(README_BEGIN) + r".*?" + re.escape(README_END) + r"\n?", re.S)
    text = pattern.sub("", text).rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
