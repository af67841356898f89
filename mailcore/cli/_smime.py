"""``mailcore smime sign | encrypt | decrypt | verify`` (contract §5)."""

from __future__ import annotations

import argparse
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from mailcore.cli._runtime import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    read_input,
    write_json,
    write_output,
)
from mailcore.errors import KeyLoadError
from mailcore.policy import Policy
from mailcore.smime._mime import replace_entity

__all__ = ["add_smime_commands"]


def add_smime_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register the ``smime`` command group."""
    group = commands.add_parser("smime", help="S/MIME sign, encrypt, decrypt, verify")
    sub = group.add_subparsers(dest="action", metavar="ACTION", required=True)

    sign = sub.add_parser("sign", help="sign a message (multipart/signed by default)")
    sign.add_argument(
        "--key", required=True, metavar="K", help="private key (PEM, DER or PKCS#12)"
    )
    sign.add_argument("--cert", required=True, metavar="C", help="signer certificate")
    sign.add_argument("--chain", metavar="F", help="intermediate certificates to include")
    sign.add_argument("--opaque", action="store_true", help="application/pkcs7-mime signed-data")
    sign.add_argument(
        "--digest", choices=("sha256", "sha384", "sha512"), help="default: [smime] digest"
    )
    sign.add_argument("--pss", action="store_true", help="RSA-PSS instead of PKCS#1 v1.5")
    sign.add_argument("--password-env", metavar="VAR", help="PKCS#12/PEM password from $VAR")
    sign.add_argument("input", nargs="?", metavar="IN")
    sign.add_argument("-o", "--output", metavar="OUT")
    sign.set_defaults(handler=_sign)

    encrypt = sub.add_parser("encrypt", help="encrypt to the given certificates")
    encrypt.add_argument("--recipient", action="append", required=True, metavar="CERT")
    encrypt.add_argument(
        "--cipher", choices=("aes-256-gcm", "aes-128-gcm", "aes-256-cbc", "aes-128-cbc")
    )
    encrypt.add_argument("--oaep", action="store_true", help="RSAES-OAEP key transport")
    encrypt.add_argument("input", nargs="?", metavar="IN")
    encrypt.add_argument("-o", "--output", metavar="OUT")
    encrypt.set_defaults(handler=_encrypt)

    decrypt = sub.add_parser("decrypt", help="decrypt with a private key")
    decrypt.add_argument("--key", required=True, metavar="K")
    decrypt.add_argument("--cert", metavar="C")
    decrypt.add_argument("--password-env", metavar="VAR", help="PKCS#12/PEM password from $VAR")
    decrypt.add_argument("input", nargs="?", metavar="IN")
    decrypt.add_argument("-o", "--output", metavar="OUT")
    decrypt.set_defaults(handler=_decrypt)

    verify = sub.add_parser("verify", help="verify; JSON B on stdout, verified content to -o")
    verify.add_argument("--trust", action="append", required=True, metavar="CA")
    verify.add_argument("--at", metavar="TIME", help="validate at this ISO 8601 time")
    verify.add_argument("--crl", action="append", default=[], metavar="CRL", help="CRL (PEM/DER)")
    verify.add_argument(
        "--intermediate",
        action="append",
        default=[],
        metavar="CERT",
        help="extra intermediate certificates",
    )
    verify.add_argument("input", nargs="?", metavar="IN")
    verify.add_argument("-o", "--output", metavar="OUT")
    verify.set_defaults(handler=_verify)


def _password(variable: str | None) -> bytes | None:
    if variable is None:
        return None
    value = os.environ.get(variable)
    if value is None:
        raise UsageError(f"--password-env {variable}: that environment variable is not set")
    return value.encode("utf-8")


def _file(path: str) -> bytes:
    location = Path(path)
    if location.is_dir():
        raise UsageError(f"{path} is a folder, not a file")
    return location.read_bytes()


def _time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--at {text!r} is not an ISO 8601 time (2026-11-21T12:00:00Z)") from None
    if moment.tzinfo is None:
        raise UsageError(f"--at {text!r} needs a time zone (add Z for UTC)")
    return moment


def _sign(args: argparse.Namespace, policy: Policy) -> int:
    from mailcore.smime._keys import load_certificates, load_private_key
    from mailcore.smime._signed import sign_message

    loaded = load_private_key(_file(args.key), password=_password(args.password_env))
    certificate = _certificate_for(loaded.key, load_certificates(_file(args.cert)), args.cert)
    chain = load_certificates(_file(args.chain)) if args.chain else loaded.chain
    signed = sign_message(
        read_input(args.input),
        loaded.key,
        certificate,
        chain=chain,
        opaque=args.opaque,
        digest=args.digest or policy.smime.digest,
        pss=args.pss,
    )
    write_output(signed, args.output)
    return EXIT_OK


def _encrypt(args: argparse.Namespace, policy: Policy) -> int:
    from mailcore.smime._enveloped import encrypt_message

    recipients = [_recipient(path) for path in args.recipient]
    # The command line overrides the policy's [smime] cipher and oaep.
    cipher = args.cipher or (None if policy.smime.cipher == "auto" else policy.smime.cipher)
    encrypted = encrypt_message(
        read_input(args.input),
        recipients,
        cipher=cipher,  # type: ignore[arg-type]
        oaep=args.oaep or policy.smime.oaep,
    )
    write_output(encrypted, args.output)
    return EXIT_OK


def _decrypt(args: argparse.Namespace, policy: Policy) -> int:
    from mailcore.smime._decrypt import decrypt_message
    from mailcore.smime._keys import load_certificates, load_private_key

    loaded = load_private_key(_file(args.key), password=_password(args.password_env))
    certificate = (
        _certificate_for(loaded.key, load_certificates(_file(args.cert)), args.cert)
        if args.cert
        else loaded.certificate
    )
    message = read_input(args.input)
    result = decrypt_message(message, loaded.key, certificate)
    # The resulting message: the outer header fields, then what was inside.
    write_output(replace_entity(message, result.content), args.output)
    return EXIT_OK


def _verify(args: argparse.Namespace, policy: Policy) -> int:
    from mailcore.smime._keys import load_certificates
    from mailcore.smime._verify import verify_message

    trust = [cert for path in args.trust for cert in load_certificates(_file(path))]
    intermediates = [c for path in args.intermediate for c in load_certificates(_file(path))]
    crls = [_load_crl(_file(path), path) for path in args.crl]
    message = read_input(args.input)
    result = verify_message(
        message,
        trust=trust,
        at=_time(args.at),
        crls=crls,
        intermediates=intermediates,
    )
    write_json(result.to_dict())
    if result.valid and result.content is not None and args.output:
        # Only verified content is ever written, with the outer header fields.
        write_output(replace_entity(message, result.content), args.output)
    return EXIT_OK if result.valid else EXIT_FAILED


def _load_crl(data: bytes, path: str) -> x509.CertificateRevocationList:
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_crl(data)
        return x509.load_der_x509_crl(data)
    except ValueError:
        raise KeyLoadError(f"{path} is not a CRL (PEM or DER)", where=path) from None


def _public_bytes(key: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    public = key.public_key() if hasattr(key, "public_key") else key
    encoded: bytes = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return encoded


def _certificate_for(
    key: object, certificates: tuple[x509.Certificate, ...], path: str
) -> x509.Certificate:
    """The certificate in ``path`` that belongs to ``key`` (a file may hold a chain)."""
    from mailcore.smime._certs import certificate_key

    wanted = _public_bytes(key)
    for certificate in certificates:
        public = certificate_key(certificate)
        if public is not None and _public_bytes(public) == wanted:
            return certificate
    raise UsageError(f"{path} holds no certificate for the private key given with --key")


def _recipient(path: str) -> x509.Certificate:
    from mailcore.smime._certs import ENCRYPTION, choose_certificate
    from mailcore.smime._keys import load_certificates

    certificates = load_certificates(_file(path))
    chosen = choose_certificate(certificates, ENCRYPTION)
    if chosen is None:
        raise UsageError(f"{path} holds no certificate that is valid now and allows encryption")
    return chosen
