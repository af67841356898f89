"""Make the S/MIME message vectors with the openssl command line.

    python vectors/smime/generate_messages.py

Writes ``messages/`` (signed and encrypted messages), ``messages.json``
(a contract §7 suite with ``smime::verify::*`` and ``smime::decrypt::*``
cases) and the message section of ``README.md``.

The messages are made by an implementation independent of mailcore, the
``openssl cms`` command line, from the committed ``pki/`` keys and
certificates.  The inputs are fixed (entities, header fields, keys, flags),
but OpenSSL puts the signing time, fresh ECDSA nonces, content-encryption
keys, IVs and ephemeral ECDH keys in, so every run writes different bytes:
**run this only to change the vectors deliberately** and commit its output.

Every expectation is written here by hand from what OpenSSL was asked to do
(signer, digest, signature scheme, cipher, key transport).  Before a case is
written, OpenSSL itself checks it: ``openssl cms -verify`` (at the case's
time, with its trust anchors and CRLs, ``-purpose smimesign -auth_level 2
-partial_chain``) must accept exactly the messages the case calls valid,
except that OpenSSL does not compare the sender with the certificate; ``openssl cms -decrypt``
must give back the very entity that was encrypted, or fail where the case
expects DecryptionFailed; ``openssl cms -cmsout -print`` must show the
algorithms the expectation names.  Nothing from mailcore is used.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PKI = HERE / "pki"
MESSAGES = HERE / "messages"
SUITE = "messages.json"

AT = "2027-01-01T00:00:00Z"
"""The time cases check at: inside the validity of the user certificates
(2025-12-02 to 2028-01-01), the CAs (2025-01-01 to 2035-12-30) and the CRL
(2025-12-31 to 2028-01-01), so that the vectors do not rot."""
BEFORE = "2025-06-01T00:00:00Z"
"""Before the user certificates' notBefore (the CAs are valid then)."""
AFTER = "2028-06-01T00:00:00Z"
"""After the user certificates' notAfter (the CAs are still valid)."""

ROOT = "pki/root-ca.crt.pem"
ISSUING = "pki/issuing-ca.crt.pem"
CRL = "pki/issuing-ca.crl.pem"

README_BEGIN = "<!-- begin: message vectors, written by generate_messages.py -->"
README_END = "<!-- end: message vectors -->"

TEXT = (
    b"Content-Type: text/plain; charset=us-ascii\r\n"
    b"Content-Transfer-Encoding: 7bit\r\n"
    b"\r\n"
    b"This entity was signed or encrypted by the openssl command line\r\n"
    b"for mailcore's conformance vectors (vectors/smime/generate_messages.py).\r\n"
    b"Its bytes are fixed: the vectors compare their SHA-256.\r\n"
)
"""The entity of most messages (CRLF line ends, as S/MIME canonical form)."""

_ATTACHMENT = base64.encodebytes(bytes(range(256)) * 4).replace(b"\n", b"\r\n")
MIXED = (
    b'Content-Type: multipart/mixed; boundary="mailcore-vector-boundary"\r\n'
    b"\r\n"
    b"This is a multi-part message in MIME format.\r\n"
    b"--mailcore-vector-boundary\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Gr\xc3\xbc\xc3\x9fe: a multipart entity with an 8-bit text part and a\r\n"
    b"binary attachment (the bytes 0-255, four times).\r\n"
    b"--mailcore-vector-boundary\r\n"
    b"Content-Type: application/octet-stream\r\n"
    b'Content-Disposition: attachment; filename="bytes.bin"\r\n'
    b"Content-Transfer-Encoding: base64\r\n"
    b"\r\n" + _ATTACHMENT + b"--mailcore-vector-boundary--\r\n"
)
"""A larger entity, for the streaming and DER cases."""

_OPENSSL_NAMES = {
    # What `openssl cms -cmsout -print` shows for what an expectation names.
    "sha256": "sha256",
    "sha384": "sha384",
    "sha512": "sha512",
    "rsa-pkcs1v15": "rsaEncryption",
    "rsa-pss": "rsassaPss",
    "ecdsa": "ecdsa-with-",
    "aes-128-cbc": "aes-128-cbc",
    "aes-256-cbc": "aes-256-cbc",
    "aes-128-gcm": "aes-128-gcm",
    "aes-256-gcm": "aes-256-gcm",
    "des-ede3-cbc": "des-ede3-cbc",
    "rsaes-oaep-sha256": "rsaesOaep",
    "ecdh-x963-sha1": "dhSinglePass-stdDH-sha1kdf-scheme",
}


def _openssl(*args: str | Path, data: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["openssl", *map(str, args)], input=data, capture_output=True, check=False, timeout=60
    )


def _must(*args: str | Path, data: bytes = b"") -> bytes:
    result = _openssl(*args, data=data)
    if result.returncode != 0:
        sys.exit(f"openssl {' '.join(map(str, args))} failed: {result.stderr.decode()}")
    return result.stdout


def _epoch(moment: str) -> str:
    return str(int(datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()))


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _person(name: str) -> tuple[str, str]:
    """(display name, address) of the pki/ user ``name`` (``alice-rsa2048``)."""
    user = name.split("-")[0]
    return user.capitalize(), f"{user}@example.com"


def _base64_lines(data: bytes, eol: bytes) -> bytes:
    text = base64.b64encode(data)
    return b"".join(text[i : i + 64] + eol for i in range(0, len(text), 64))


def _split(message: bytes) -> tuple[bytes, bytes, bytes]:
    """(header block, the blank line, body) of an S/MIME message."""
    match = re.search(rb"\r?\n\r?\n", message)
    if match is None:
        sys.exit("openssl wrote a message without a body")
    return message[: match.start()], message[match.start() : match.end()], message[match.end() :]


class Generator:
    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.files: list[tuple[str, str]] = []
        self.cases: list[dict[str, Any]] = []
        self.entities: dict[str, bytes] = {}  # message file -> the entity inside

    # -- files ---------------------------------------------------------------------

    def _write(self, name: str, data: bytes, provenance: str, entity: bytes) -> str:
        relative = f"messages/{name}"
        (HERE / relative).write_bytes(data)
        self.files.append((relative, provenance))
        self.entities[relative] = entity
        return relative

    def _entity_file(self, entity: bytes) -> Path:
        path = self.scratch / f"entity-{_sha256(entity)[:12]}.txt"
        path.write_bytes(entity)
        return path

    def _scratch(self, name: str, data: bytes) -> Path:
        path = self.scratch / name
        path.write_bytes(data)
        return path

    def _check_print(self, data: bytes, names: Sequence[str], where: str) -> None:
        printed = _must("cms", "-cmsout", "-print", data=data).decode()
        for name in names:
            if _OPENSSL_NAMES[name] not in printed:
                sys.exit(f"{where}: openssl -print does not show {_OPENSSL_NAMES[name]}")

    # -- signing -----------------------------------------------------------------------

    def sign(
        self,
        name: str,
        signer: str,
        provenance: str,
        flags: Sequence[str] = (),
        *,
        shows: Sequence[str] = (),
        sender: str | None = None,
        chain: bool = True,
        entity: bytes = TEXT,
        ber: bool = False,
    ) -> str:
        """``openssl cms -sign`` by ``signer`` (a pki/ name) of ``entity``."""
        display, address = _person(signer)
        args: list[str | Path] = [
            "cms", "-sign", "-in", self._entity_file(entity),
            "-signer", PKI / f"{signer}.crt.pem", "-inkey", PKI / f"{signer}.key.pem",
            "-from", sender or f"{display} <{address}>", "-to", "Recipient <rcpt@example.org>",
            "-subject", f"mailcore vector {name}",
            *flags,
        ]  # fmt: skip
        if chain:
            args += ["-certfile", PKI / "issuing-ca.crt.pem"]
        message = _must(*args)
        self._check_print(message, shows, name)
        if ber and not self._cms(message)[:2] == b"\x30\x80":
            sys.exit(f"{name}: expected BER with an indefinite length from -stream")
        return self._write(name, message, provenance, entity)

    def _cms(self, message: bytes) -> bytes:
        """The CMS bytes, as written, of a pkcs7-mime or multipart/signed message."""
        signature = re.search(
            rb"Content-Type: application/pkcs7-signature.*?\r?\n\r?\n(.*?)\r?\n--", message, re.S
        )
        body = signature.group(1) if signature else _split(message)[2]
        return base64.b64decode(b"".join(body.split()))

    def tamper_multipart(self, name: str, source: str, provenance: str) -> str:
        """``source`` with one byte of the signed (first) part changed."""
        data = (HERE / source).read_bytes()
        at = data.index(b"signed or encrypted")
        tampered = data[:at] + b"S" + data[at + 1 :]
        return self._write(name, tampered, provenance, self.entities[source])

    def tamper_opaque(self, name: str, source: str, provenance: str) -> str:
        """``source`` (opaque, DER) with one byte of the eContent changed."""
        header, blank, body = _split((HERE / source).read_bytes())
        der = base64.b64decode(b"".join(body.split()))
        at = der.index(b"signed or encrypted")
        der = der[:at] + b"S" + der[at + 1 :]
        eol = b"\r\n" if blank.startswith(b"\r\n") else b"\n"
        tampered = header + blank + _base64_lines(der, eol)
        return self._write(name, tampered, provenance, self.entities[source])

    # -- encryption --------------------------------------------------------------------

    def encrypt(
        self,
        name: str,
        recipients: Sequence[str],
        provenance: str,
        flags: Sequence[str] = (),
        *,
        shows: Sequence[str] = (),
        keyopts: Sequence[str] = (),
        entity: bytes = TEXT,
        der: bool = False,
        ber: bool = False,
    ) -> str:
        """``openssl cms -encrypt`` of ``entity`` to ``recipients`` (pki/ names).

        With ``der``, OpenSSL writes ``-outform DER`` and this wraps it in an
        S/MIME message (CRLF line ends, base64 in 64-character lines).
        """
        args: list[str | Path] = ["cms", "-encrypt", "-in", self._entity_file(entity), *flags]
        for recipient in recipients:
            args += ["-recip", PKI / f"{recipient}.crt.pem"]
            for option in keyopts:
                args += ["-keyopt", option]
        subject = f"mailcore vector {name}"
        if der:
            cms = _must(*args, "-outform", "DER")
            kind = (
                "authEnveloped-data" if any("gcm" in flag for flag in flags) else "enveloped-data"
            )
            message = (
                b"From: Sender <sender@example.org>\r\n"
                b"To: " + ", ".join(_person(r)[1] for r in recipients).encode() + b"\r\n"
                b"Subject: " + subject.encode() + b"\r\n"
                b"MIME-Version: 1.0\r\n"
                b'Content-Disposition: attachment; filename="smime.p7m"\r\n'
                b"Content-Type: application/pkcs7-mime; smime-type=" + kind.encode() + b";"
                b' name="smime.p7m"\r\n'
                b"Content-Transfer-Encoding: base64\r\n"
                b"\r\n" + _base64_lines(cms, b"\r\n")
            )
        else:
            args += ["-from", "Sender <sender@example.org>", "-subject", subject]
            args += ["-to", ", ".join(_person(r)[1] for r in recipients)]
            message = _must(*args)
        self._check_print(message, shows, name)
        if ber and not self._cms(message)[:2] == b"\x30\x80":
            sys.exit(f"{name}: expected BER with an indefinite length from -stream")
        return self._write(name, message, provenance, entity)

    def tamper_ciphertext(self, name: str, source: str, provenance: str) -> str:
        """``source`` (DER inside) with one byte of the encryptedContent changed."""
        header, blank, body = _split((HERE / source).read_bytes())
        der = base64.b64decode(b"".join(body.split()))
        parsed = _must("asn1parse", "-inform", "DER", data=der).decode()
        # encryptedContent is the one primitive [0] (IMPLICIT OCTET STRING).
        found = re.findall(
            r"^\s*(\d+):d=\d+\s+hl=(\d+)\s+l=\s*(\d+) prim: cont \[ 0 \]", parsed, re.M
        )
        if len(found) != 1:
            sys.exit(f"{name}: expected one primitive [0] in {source}, found {len(found)}")
        offset, header_length, length = map(int, found[0])
        at = offset + header_length + length // 2
        der = der[:at] + bytes([der[at] ^ 0x01]) + der[at + 1 :]
        eol = b"\r\n" if blank.startswith(b"\r\n") else b"\n"
        tampered = header + blank + _base64_lines(der, eol)
        return self._write(name, tampered, provenance, self.entities[source])

    # -- cases -------------------------------------------------------------------------

    def verify_case(
        self,
        name: str,
        file: str,
        comment: str,
        *,
        valid: bool,
        reason: str | None,
        signers: list[dict[str, str]],
        trust: Sequence[str] = (ROOT,),
        at: str = AT,
        crls: Sequence[str] = (),
        check_sender: bool = True,
        openssl_checks_this: bool = True,
    ) -> None:
        """A verify case; ``openssl cms -verify`` must agree first.

        ``openssl_checks_this`` is False for what OpenSSL does not check
        (the sender): it must then accept what the case refuses.
        """
        anchors = b"".join((HERE / path).read_bytes() for path in (*trust, *crls))
        content = self.scratch / "verified"
        content.unlink(missing_ok=True)
        result = _openssl(
            "cms", "-verify", "-in", HERE / file, "-CAfile", self._scratch("anchors.pem", anchors),
            "-purpose", "smimesign", "-auth_level", "2", "-partial_chain", "-attime", _epoch(at),
            *(["-crl_check"] if crls else []), "-out", content,
        )  # fmt: skip
        accepted = result.returncode == 0
        errors = re.findall(
            r"Verify error: ?([^\n]*)|(digest failure|content verify error)",
            result.stderr.decode(),
        )
        said = (
            "Verification successful"
            if accepted
            else "; ".join(filter(None, (found[0] or found[1] for found in errors)))
            or result.stderr.decode().strip().splitlines()[-1]
        )
        if accepted != (valid if openssl_checks_this else True):
            sys.exit(f"{name}: openssl cms -verify says {said!r}, the case says valid={valid}")
        expected: dict[str, Any] = {"valid": valid, "reason": reason, "signers": signers}
        if accepted:
            if content.read_bytes() != self.entities[file]:
                sys.exit(f"{name}: openssl verified different content")
            if valid:
                expected["content_sha256"] = _sha256(self.entities[file])
        case_input: dict[str, Any] = {
            "message": {"file": file},
            "trust": list(trust),
            "at": at,
            "crls": list(crls),
            "check_sender": check_sender,
        }
        note = f"openssl cms -verify at {at}: {said}"
        if not openssl_checks_this:
            note += " (OpenSSL does not compare the sender with the certificate)"
        self.cases.append(
            {
                "id": f"smime::verify::{name}",
                "comment": f"{comment}. {note}",
                "input": case_input,
                "expected": expected,
                "result": "valid" if valid else "invalid",
            }
        )

    def decrypt_case(
        self,
        name: str,
        file: str,
        comment: str,
        *,
        key: str,
        certificate: bool = True,
        cipher: str | None = None,
        key_encryption: str | None = None,
        error: str | None = None,
    ) -> None:
        """A decrypt case; ``openssl cms -decrypt`` must agree first."""
        output = self.scratch / "decrypted"
        output.unlink(missing_ok=True)
        args: list[str | Path] = ["cms", "-decrypt", "-binary", "-in", HERE / file]
        args += ["-inkey", PKI / f"{key}.key.pem", "-out", output]
        if certificate:
            args += ["-recip", PKI / f"{key}.crt.pem"]
        result = _openssl(*args)
        case_input: dict[str, Any] = {"message": {"file": file}, "key": f"pki/{key}.key.pem"}
        if certificate:
            case_input["cert"] = f"pki/{key}.crt.pem"
        if error is not None:
            if result.returncode == 0:
                sys.exit(f"{name}: openssl cms -decrypt succeeded, the case expects {error}")
            said = result.stderr.decode().strip().splitlines()[-1].split(":")[-1]
            expected: dict[str, Any] = {"error": error}
        else:
            if result.returncode != 0 or output.read_bytes() != self.entities[file]:
                sys.exit(f"{name}: openssl cms -decrypt failed: {result.stderr.decode()}")
            said = "gives back the entity"
            assert cipher is not None and key_encryption is not None
            expected = {
                "cipher": cipher,
                "authenticated": cipher.endswith("-gcm"),
                "key_encryption": key_encryption,
                "recipient": "issuer_and_serial" if certificate else "trial",
                "content_sha256": _sha256(self.entities[file]),
            }
        self.cases.append(
            {
                "id": f"smime::decrypt::{name}",
                "comment": f"{comment}. openssl cms -decrypt: {said}",
                "input": case_input,
                "expected": expected,
                "result": "invalid" if error else "valid",
            }
        )


def _signer(email: str, digest: str, signature: str) -> dict[str, str]:
    return {"email": email, "digest": digest, "signature": signature}


ALICE = "alice@example.com"


def make(out: Generator) -> None:
    alice_sha256 = [_signer(ALICE, "sha256", "rsa-pkcs1v15")]
    signed_by = "openssl cms -sign"
    chain = "-certfile issuing-ca"

    # -- signed: what must verify ------------------------------------------------------
    multipart = out.sign(
        "signed-multipart-rsa-sha256.eml",
        "alice-rsa2048",
        f"{signed_by} (defaults: multipart/signed, SHA-256, PKCS #1 v1.5) by alice, {chain}",
        shows=["sha256", "rsa-pkcs1v15"],
    )
    out.verify_case(
        "multipart-rsa-sha256",
        multipart,
        "multipart/signed by alice (RSA-2048) with OpenSSL's defaults, LF line ends",
        valid=True,
        reason=None,
        signers=alice_sha256,
    )
    crlf = out.sign(
        "signed-multipart-crlfeol.eml",
        "alice-rsa2048",
        f"{signed_by} -crlfeol (CRLF line ends throughout) by alice, {chain}",
        ["-crlfeol"],
        shows=["sha256"],
    )
    out.verify_case(
        "multipart-crlfeol",
        crlf,
        "multipart/signed written with CRLF line ends (-crlfeol)",
        valid=True,
        reason=None,
        signers=alice_sha256,
    )
    for digest in ("sha384", "sha512"):
        file = out.sign(
            f"signed-multipart-rsa-{digest}.eml",
            "alice-rsa2048",
            f"{signed_by} -md {digest} by alice, {chain}",
            ["-md", digest],
            shows=[digest, "rsa-pkcs1v15"],
        )
        out.verify_case(
            f"multipart-rsa-{digest}",
            file,
            f"multipart/signed by alice with SHA-{digest[3:]}",
            valid=True,
            reason=None,
            signers=[_signer(ALICE, digest, "rsa-pkcs1v15")],
        )
    opaque = out.sign(
        "signed-opaque-rsa.eml",
        "alice-rsa2048",
        f"{signed_by} -nodetach (application/pkcs7-mime; smime-type=signed-data, DER) by"
        f" alice, {chain}",
        ["-nodetach"],
        shows=["sha256"],
    )
    out.verify_case(
        "opaque-rsa",
        opaque,
        "opaque signed-data (-nodetach) by alice",
        valid=True,
        reason=None,
        signers=alice_sha256,
    )
    stream = out.sign(
        "signed-opaque-stream-ber.eml",
        "alice-rsa2048",
        f"{signed_by} -nodetach -stream (BER: indefinite lengths, constructed eContent) by"
        f" alice, {chain}",
        ["-nodetach", "-stream"],
        shows=["sha256"],
        entity=MIXED,
        ber=True,
    )
    out.verify_case(
        "opaque-stream-ber",
        stream,
        "opaque signed-data streamed as BER (-nodetach -stream), a multipart entity with a"
        " binary attachment",
        valid=True,
        reason=None,
        signers=alice_sha256,
    )
    detached_stream = out.sign(
        "signed-multipart-stream.eml",
        "alice-rsa2048",
        f"{signed_by} -stream (multipart/signed written while the digest is computed; the"
        f" detached signature is DER all the same) by alice, {chain}",
        ["-stream"],
        shows=["sha256"],
        entity=MIXED,
    )
    out.verify_case(
        "multipart-stream",
        detached_stream,
        "multipart/signed with -stream, a multipart entity with a binary attachment",
        valid=True,
        reason=None,
        signers=alice_sha256,
    )
    pss = out.sign(
        "signed-multipart-rsa-pss.eml",
        "alice-rsa2048",
        f"{signed_by} -keyopt rsa_padding_mode:pss (RSASSA-PSS, SHA-256, MGF1-SHA-256) by"
        f" alice, {chain}",
        ["-keyopt", "rsa_padding_mode:pss"],
        shows=["sha256", "rsa-pss"],
    )
    out.verify_case(
        "multipart-rsa-pss",
        pss,
        "multipart/signed by alice with RSASSA-PSS",
        valid=True,
        reason=None,
        signers=[_signer(ALICE, "sha256", "rsa-pss")],
    )
    bob = out.sign(
        "signed-multipart-ecdsa-p256.eml",
        "bob-p256",
        f"{signed_by} by bob (ECDSA P-256, SHA-256), {chain}",
        shows=["sha256", "ecdsa"],
    )
    out.verify_case(
        "multipart-ecdsa-p256",
        bob,
        "multipart/signed by bob with ECDSA P-256",
        valid=True,
        reason=None,
        signers=[_signer("bob@example.com", "sha256", "ecdsa")],
    )
    carol = out.sign(
        "signed-opaque-ecdsa-p384.eml",
        "carol-p384",
        f"{signed_by} -nodetach -md sha384 by carol (ECDSA P-384), {chain}",
        ["-nodetach", "-md", "sha384"],
        shows=["sha384", "ecdsa"],
    )
    out.verify_case(
        "opaque-ecdsa-p384",
        carol,
        "opaque signed-data by carol with ECDSA P-384 and SHA-384",
        valid=True,
        reason=None,
        signers=[_signer("carol@example.com", "sha384", "ecdsa")],
    )
    out.verify_case(
        "multipart-rsa-sha256-with-crl",
        multipart,
        "the CRL is given and does not list alice: revocation is checked and passes",
        valid=True,
        reason=None,
        signers=alice_sha256,
        crls=[CRL],
    )

    # -- signed: the time the certificate is checked at ------------------------------
    out.verify_case(
        "multipart-rsa-sha256-after-expiry",
        multipart,
        f"the same message checked at {AFTER}, after alice's certificate expired"
        " (2028-01-01): `at` is honoured",
        valid=False,
        reason="expired",
        signers=alice_sha256,
        at=AFTER,
    )
    out.verify_case(
        "multipart-rsa-sha256-before-validity",
        multipart,
        f"the same message checked at {BEFORE}, before alice's certificate is valid (2025-12-02)",
        valid=False,
        reason="not_yet_valid",
        signers=alice_sha256,
        at=BEFORE,
    )

    # -- signed: what must not verify ------------------------------------------------
    out.verify_case(
        "tampered-multipart",
        out.tamper_multipart(
            "signed-multipart-tampered.eml",
            multipart,
            "signed-multipart-rsa-sha256.eml with one byte of the signed part changed after"
            " signing ('signed' to 'Signed'), by generate_messages.py",
        ),
        "one byte of the signed part changed after signing",
        valid=False,
        reason="content_mismatch",
        signers=alice_sha256,
    )
    out.verify_case(
        "tampered-opaque",
        out.tamper_opaque(
            "signed-opaque-tampered.eml",
            opaque,
            "signed-opaque-rsa.eml with one byte of the eContent changed after signing"
            " ('signed' to 'Signed'), base64 rewritten, by generate_messages.py",
        ),
        "one byte of the encapsulated content changed after signing",
        valid=False,
        reason="content_mismatch",
        signers=alice_sha256,
    )
    for name, person, what, reason in (
        ("expired", "frank-expired", "frank, whose certificate expired on 2024-01-01", "expired"),
        (
            "wrong-eku",
            "heidi-wrong-eku",
            "heidi, whose certificate is for serverAuth and clientAuth only",
            "wrong_key_usage",
        ),
        (
            "weak-rsa1024",
            "peggy-rsa1024",
            "peggy, whose key is RSA-1024 (OpenSSL refuses it at -auth_level 2)",
            "weak_algorithm",
        ),
    ):
        _, address = _person(person)
        file = out.sign(
            f"signed-{name}.eml",
            person,
            f"{signed_by} by {person}, {chain}",
            shows=["sha256", "rsa-pkcs1v15"],
        )
        out.verify_case(
            name,
            file,
            f"multipart/signed by {what}",
            valid=False,
            reason=reason,
            signers=[_signer(address, "sha256", "rsa-pkcs1v15")],
        )
    oscar = out.sign(
        "signed-revoked.eml",
        "oscar-revoked",
        f"{signed_by} by oscar-revoked (revoked in issuing-ca.crl), {chain}",
        shows=["sha256"],
    )
    oscar_signer = [_signer("oscar@example.com", "sha256", "rsa-pkcs1v15")]
    out.verify_case(
        "revoked",
        oscar,
        "multipart/signed by oscar, whose certificate the given CRL revokes (keyCompromise)",
        valid=False,
        reason="revoked",
        signers=oscar_signer,
        crls=[CRL],
    )
    out.verify_case(
        "revoked-without-crl",
        oscar,
        "the same message without the CRL: nothing says oscar is revoked (no fetching)",
        valid=True,
        reason=None,
        signers=oscar_signer,
    )
    out.verify_case(
        "untrusted-anchor",
        multipart,
        "alice's message, but the only trust anchor is carol's certificate, not the root",
        valid=False,
        reason="untrusted",
        signers=alice_sha256,
        trust=["pki/carol-p384.crt.pem"],
    )
    no_chain = out.sign(
        "signed-no-chain.eml",
        "alice-rsa2048",
        f"{signed_by} by alice without -certfile: the message lacks issuing-ca",
        shows=["sha256"],
        chain=False,
    )
    out.verify_case(
        "untrusted-no-chain",
        no_chain,
        "the message does not carry issuing-ca and nothing else supplies it: no path",
        valid=False,
        reason="untrusted",
        signers=alice_sha256,
    )
    out.verify_case(
        "issuing-ca-as-anchor",
        no_chain,
        "the same message with issuing-ca itself as the trust anchor",
        valid=True,
        reason=None,
        signers=alice_sha256,
        trust=[ISSUING],
    )
    mismatch = out.sign(
        "signed-sender-mismatch.eml",
        "alice-rsa2048",
        f"{signed_by} by alice with -from 'Mallory <mallory@example.com>', {chain}",
        shows=["sha256"],
        sender="Mallory <mallory@example.com>",
    )
    out.verify_case(
        "sender-mismatch",
        mismatch,
        "signed by alice but From is mallory@example.com",
        valid=False,
        reason="sender_mismatch",
        signers=alice_sha256,
        openssl_checks_this=False,
    )
    out.verify_case(
        "sender-mismatch-not-checked",
        mismatch,
        "the same message with check_sender false",
        valid=True,
        reason=None,
        signers=alice_sha256,
        check_sender=False,
    )

    # -- encrypted ---------------------------------------------------------------------
    encrypted_by = "openssl cms -encrypt"
    ciphers = (
        ("aes128cbc", "-aes-128-cbc", "aes-128-cbc"),
        ("aes256cbc", "-aes256", "aes-256-cbc"),
        ("aes128gcm", "-aes-128-gcm", "aes-128-gcm"),
        ("aes256gcm", "-aes-256-gcm", "aes-256-gcm"),
        ("des3", "-des3", "des-ede3-cbc"),
    )
    recipients = (
        ("alice", "alice-rsa2048", "rsa-pkcs1v15", "RSA-2048, PKCS #1 v1.5 key transport"),
        (
            "bob",
            "bob-p256",
            "ecdh-x963-sha1",
            "P-256, ECDH with OpenSSL's default X9.63 SHA-1 KDF",
        ),
    )
    made: dict[str, str] = {}
    for short, person, key_encryption, how in recipients:
        for tag, flag, cipher in ciphers:
            name = f"encrypted-{short}-{tag}"
            made[name] = out.encrypt(
                f"{name}.eml",
                [person],
                f"{encrypted_by} {flag} to {person}",
                [flag],
                shows=[cipher, key_encryption],
            )
            out.decrypt_case(
                f"{short}-{tag}",
                made[name],
                f"{cipher} to {short} ({how})",
                key=person,
                cipher=cipher,
                key_encryption=key_encryption,
            )
    out.decrypt_case(
        "alice-aes256cbc-without-certificate",
        made["encrypted-alice-aes256cbc"],
        "alice's key alone, no certificate: the RecipientInfo is found by trial",
        key="alice-rsa2048",
        certificate=False,
        cipher="aes-256-cbc",
        key_encryption="rsa-pkcs1v15",
    )
    oaep = out.encrypt(
        "encrypted-alice-oaep-sha256.eml",
        ["alice-rsa2048"],
        f"{encrypted_by} -aes256 -recip alice -keyopt rsa_padding_mode:oaep -keyopt"
        " rsa_oaep_md:sha256 (RSAES-OAEP, SHA-256, MGF1-SHA-256)",
        ["-aes256"],
        keyopts=["rsa_padding_mode:oaep", "rsa_oaep_md:sha256"],
        shows=["aes-256-cbc", "rsaes-oaep-sha256", "sha256"],
    )
    out.decrypt_case(
        "alice-oaep-sha256",
        oaep,
        "AES-256-CBC to alice with RSAES-OAEP (SHA-256)",
        key="alice-rsa2048",
        cipher="aes-256-cbc",
        key_encryption="rsaes-oaep-sha256",
    )
    for short, person, key_encryption, tag, flag, cipher in (
        ("alice", "alice-rsa2048", "rsa-pkcs1v15", "aes256cbc", "-aes256", "aes-256-cbc"),
        ("bob", "bob-p256", "ecdh-x963-sha1", "aes256gcm", "-aes-256-gcm", "aes-256-gcm"),
    ):
        file = out.encrypt(
            f"encrypted-{short}-stream-{tag}.eml",
            [person],
            f"{encrypted_by} -stream {flag} to {person} (BER: indefinite lengths,"
            " chunked encryptedContent), multipart entity",
            ["-stream", flag],
            shows=[cipher, key_encryption],
            entity=MIXED,
            ber=True,
        )
        out.decrypt_case(
            f"{short}-stream-{tag}",
            file,
            f"{cipher} to {short}, streamed as BER, a multipart entity with an attachment",
            key=person,
            cipher=cipher,
            key_encryption=key_encryption,
        )
        file = out.encrypt(
            f"encrypted-{short}-der-{tag}.eml",
            [person],
            f"{encrypted_by} -outform DER {flag} to {person}, wrapped in an S/MIME message"
            " (CRLF, base64) by generate_messages.py",
            [flag],
            shows=[cipher, key_encryption],
            entity=MIXED,
            der=True,
        )
        out.decrypt_case(
            f"{short}-der-{tag}",
            file,
            f"{cipher} to {short}, DER written by OpenSSL and wrapped in S/MIME with CRLF line"
            " ends",
            key=person,
            cipher=cipher,
            key_encryption=key_encryption,
        )
    both = out.encrypt(
        "encrypted-alice-and-bob-aes256gcm.eml",
        ["alice-rsa2048", "bob-p256"],
        f"{encrypted_by} -aes-256-gcm to alice and bob (one ktri, one kari)",
        ["-aes-256-gcm"],
        shows=["aes-256-gcm", "rsa-pkcs1v15", "ecdh-x963-sha1"],
    )
    for short, person, key_encryption in (
        ("alice", "alice-rsa2048", "rsa-pkcs1v15"),
        ("bob", "bob-p256", "ecdh-x963-sha1"),
    ):
        out.decrypt_case(
            f"alice-and-bob-as-{short}",
            both,
            f"AES-256-GCM to alice and bob, decrypted by {short}",
            key=person,
            cipher="aes-256-gcm",
            key_encryption=key_encryption,
        )

    # -- encrypted: what must not decrypt ------------------------------------------------
    out.decrypt_case(
        "not-a-recipient",
        both,
        "carol (P-384) is not among the recipients of the message to alice and bob",
        key="carol-p384",
        error="DecryptionFailed",
    )
    out.decrypt_case(
        "not-a-recipient-ec-message",
        made["encrypted-bob-aes128gcm"],
        "carol's key and certificate on a message to bob only",
        key="carol-p384",
        error="DecryptionFailed",
    )
    tampered = out.tamper_ciphertext(
        "encrypted-alice-aes256gcm-tampered.eml",
        made["encrypted-alice-aes256gcm"],
        "encrypted-alice-aes256gcm.eml with one bit of the encryptedContent flipped (in the"
        " middle), base64 rewritten, by generate_messages.py",
    )
    out.decrypt_case(
        "tampered-gcm",
        tampered,
        "AES-256-GCM ciphertext with one bit flipped: the tag does not verify",
        key="alice-rsa2048",
        error="DecryptionFailed",
    )
    tampered_bob = out.tamper_ciphertext(
        "encrypted-bob-aes128gcm-tampered.eml",
        made["encrypted-bob-aes128gcm"],
        "encrypted-bob-aes128gcm.eml with one bit of the encryptedContent flipped (in the"
        " middle), base64 rewritten, by generate_messages.py",
    )
    out.decrypt_case(
        "tampered-gcm-ecdh",
        tampered_bob,
        "AES-128-GCM to bob (ECDH) with one bit of the ciphertext flipped",
        key="bob-p256",
        error="DecryptionFailed",
    )


def _readme(out: Generator, version: str) -> None:
    count = len(out.cases)
    verify = sum(case["id"].startswith("smime::verify::") for case in out.cases)
    rows = "\n".join(f"| `{name}` | {provenance} |" for name, provenance in out.files)
    section = f"""{README_BEGIN}
## Message vectors (`messages/`, `messages.json`)

Signed and encrypted messages made by an implementation independent of
mailcore, the `openssl cms` command line, from the keys and certificates in
`pki/`, and a suite of {count} cases ({verify} `smime::verify`, {count - verify}
`smime::decrypt`) that checks mailcore's `verify_message` and
`decrypt_message` against these fixed bytes.

**Regenerate only deliberately**, with `python vectors/smime/generate_messages.py`.
The inputs are fixed (the entities, header fields, keys and flags), but the
signing time, ECDSA nonces, content-encryption keys, IVs and ephemeral ECDH
keys are new on every run, so every message changes: the committed files are
the output of one run, kept as they are.  Last generated on
{datetime.now(UTC).strftime("%Y-%m-%d")} with {version}.

Expectations are written by hand in generate_messages.py from what OpenSSL
was asked to do.  While generating, OpenSSL checks each case itself and the
generator stops if it disagrees: `openssl cms -verify -purpose smimesign
-auth_level 2 -partial_chain -attime <at>` (with `-crl_check` and the CRLs in
the CAfile when the case gives CRLs) must accept exactly the valid verify
cases, except `sender-mismatch` (OpenSSL does not compare From with the
certificate), and give back the signed entity; `openssl cms -decrypt
-binary` must give back the encrypted entity, or fail where DecryptionFailed
is expected; `openssl cms -cmsout -print` must show the algorithms named.
Each case's comment records OpenSSL's verdict.

**Time.** Every verify case gives a fixed `at`, the time certificates are
validated at: {AT} unless the case says otherwise.  That is inside the
validity of the user certificates (2025-12-02 to 2028-01-01), the CAs
(2025-01-01 to 2035-12-30) and the CRL (next update 2028-01-01), so the
vectors do not depend on today's date.  frank-expired (2023-01-01 to
2024-01-01) is expired then; two cases move `at` to {BEFORE[:10]} (not yet
valid) and {AFTER[:10]} (expired).  The signing-time attribute (the day of
generation) is not used for validation.

Regenerating the PKI with generate.py leaves these messages valid: the keys,
names and serial numbers are the same on every run.

| file | what it is and where it came from |
|---|---|
| `generate_messages.py` | the message generator, written by hand |
| `{SUITE}` | suite ({count} cases), written by generate_messages.py |
{rows}
{README_END}
"""
    path = HERE / "README.md"
    text = path.read_text("utf-8")
    pattern = re.compile(re.escape(README_BEGIN) + r".*?" + re.escape(README_END) + r"\n?", re.S)
    text = pattern.sub("", text).rstrip("\n") + "\n\n" + section
    path.write_text(text, encoding="utf-8")


def main() -> None:
    if shutil.which("openssl") is None:
        sys.exit("generate_messages.py needs the openssl command line")
    shutil.rmtree(MESSAGES, ignore_errors=True)
    MESSAGES.mkdir()
    with tempfile.TemporaryDirectory() as scratch:
        out = Generator(Path(scratch))
        make(out)
    suite = {
        "area": "smime",
        "description": "S/MIME messages signed and encrypted by the openssl command line:"
        " verification (digests, RSA PKCS #1 v1.5 and PSS, ECDSA, opaque, BER, time,"
        " revocation, usage, trust, sender) and decryption (AES-CBC, AES-GCM, 3DES,"
        " RSA PKCS #1 v1.5 and OAEP, ECDH, BER, DER, wrong key, tampering)",
        "source": "generated once by vectors/smime/generate_messages.py with the openssl"
        " command line (openssl cms -sign / -encrypt) from the pki/ keys and certificates;"
        " expectations written by hand in generate_messages.py and checked against"
        " openssl cms -verify / -decrypt / -print while generating",
        "cases": out.cases,
    }
    text = json.dumps(suite, indent=1, ensure_ascii=False) + "\n"
    (HERE / SUITE).write_text(text, encoding="utf-8")
    _readme(out, _must("version").decode().strip())
    print(f"wrote {len(out.files)} messages and {len(out.cases)} cases")


if __name__ == "__main__":
    main()
