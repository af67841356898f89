"""Reading private keys and certificates in the forms people have them.

Private keys (:func:`load_private_key`):

* PEM: PKCS #8 (``PRIVATE KEY``), encrypted PKCS #8 (``ENCRYPTED PRIVATE
  KEY``), traditional OpenSSL ``RSA PRIVATE KEY`` / ``EC PRIVATE KEY`` (also
  with ``Proc-Type: 4,ENCRYPTED``); certificates in the same PEM text (a
  "bundle": key, certificate, chain) come back with the key.
* DER: PKCS #8 (plain or encrypted) or traditional RSA / EC.
* PKCS #12 (RFC 7292, ``.p12``/``.pfx``), with a password, an empty
  password or none, DER or BER (NSS and older Windows write BER).

Certificates (:func:`load_certificates`): PEM (one or many), DER, and
PKCS #7 / CMS SignedData certificate bags (``-----BEGIN PKCS7-----``,
``.p7b``, ``.p7c``, the ``userSMIMECertificate`` LDAP attribute) in DER or
BER.

Everything that cannot be read raises :class:`~mailcore.KeyLoadError` with
a sentence saying what was wrong.  Messages never contain the password.
"""

from __future__ import annotations

import base64
import binascii
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

from asn1crypto import cms, core, keys  # type: ignore[import-untyped]  # no stubs
from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm as _CryptoUnsupported
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa, x448, x25519
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from mailcore.errors import KeyLoadError
from mailcore.smime._certs import certificate_key, key_type_of

__all__ = ["LoadedKey", "PrivateKey", "load_certificates", "load_private_key"]

PrivateKey = (
    rsa.RSAPrivateKey
    | ec.EllipticCurvePrivateKey
    | ed25519.Ed25519PrivateKey
    | ed448.Ed448PrivateKey
    | x25519.X25519PrivateKey
    | x448.X448PrivateKey
)
"""The private key types S/MIME uses (RFC 8551 §2.2, §2.3; RFC 8418, 8419)."""

_SUPPORTED = (
    rsa.RSAPrivateKey,
    ec.EllipticCurvePrivateKey,
    ed25519.Ed25519PrivateKey,
    ed448.Ed448PrivateKey,
    x25519.X25519PrivateKey,
    x448.X448PrivateKey,
)

# PEM labels (RFC 7468 and OpenSSL's traditional ones).
_KEY_LABELS = frozenset(
    {
        "PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "DSA PRIVATE KEY",
    }
)
_CERTIFICATE_LABELS = frozenset({"CERTIFICATE", "X509 CERTIFICATE"})
_PKCS7_LABELS = frozenset({"PKCS7", "PKCS #7 SIGNED DATA", "CMS"})
_PUBLIC_LABELS = frozenset({"PUBLIC KEY", "RSA PUBLIC KEY"})

# Warnings cryptography gives about inputs mailcore expects, silenced where
# they would arise (any other warning still reaches the caller):
# * PKCS #12 is parsed as DER and, failing that, as BER with a warning; BER
#   is what NSS (Thunderbird, Firefox) and older Windows exports write.
# * A serial number of zero or below breaks RFC 5280 §4.1.2.2, but such
#   certificates are in use (old CAs, self-signed test certificates);
#   mailcore reports the serial as it is.
# * A DSA key (cryptography >= 51 deprecates DSA and warns as it loads one):
#   mailcore refuses it by name right after loading ("dsa keys are not used").
_TOLERATED_WARNINGS = (
    r"PKCS#12 bundle could not be parsed as DER",
    r"DSA is deprecated",
    r"Parsed a serial number which wasn't positive",
)


@contextmanager
def _tolerating_known_warnings() -> Iterator[None]:
    # catch_warnings swaps the process-wide filter list while it runs (not
    # thread-safe before Python 3.14's context-aware warnings); the window
    # is one parse call.
    with warnings.catch_warnings():
        for message in _TOLERATED_WARNINGS:
            warnings.filterwarnings("ignore", message)
        yield


_NOT_A_KEY = (
    "not a private key: expected PEM, DER (PKCS #8 or traditional RSA/EC) or a PKCS #12 file"
)


@dataclass(frozen=True, slots=True)
class LoadedKey:
    """A private key with the certificates that came with it."""

    key: PrivateKey
    """The private key."""
    certificate: x509.Certificate | None = None
    """The certificate of ``key`` when the file held it (PKCS #12, or a PEM
    bundle); matched by public key."""
    chain: tuple[x509.Certificate, ...] = ()
    """The file's other certificates, in file order."""
    format: Literal["pem", "der", "pkcs12"] = "pem"
    """The form the key was read from."""

    @property
    def key_type(self) -> str:
        """``rsa``, ``ec``, ``ed25519``, ``ed448``, ``x25519`` or ``x448``."""
        return key_type_of(self.key)


# -- PEM --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _PemBlock:
    label: str
    text: bytes  # the whole block, BEGIN and END lines included
    body: bytes  # the base64 lines (header lines such as Proc-Type removed)

    def der(self) -> bytes:
        try:
            return base64.b64decode(self.body, validate=True)
        except (binascii.Error, ValueError):
            raise KeyLoadError(f"the PEM {self.label} block is not valid base64") from None


_BOM = b"\xef\xbb\xbf"  # UTF-8 byte-order mark, as Windows editors save text
_TEXT = frozenset(b"\t\n\r\x0b\x0c" + bytes(range(0x20, 0x7F)))


def _looks_like_pem(data: bytes) -> bool:
    # PEM text may have prose before the first block (openssl x509 -text,
    # "Bag Attributes"), and a byte-order mark; DER is binary from the start.
    begin = data.find(b"-----BEGIN ")
    return begin >= 0 and _TEXT.issuperset(data[:begin].removeprefix(_BOM))


def _pem_blocks(data: bytes) -> list[_PemBlock]:
    """Every ``-----BEGIN X-----`` ... ``-----END X-----`` block (RFC 7468).

    A line scanner rather than one regular expression, so that hostile
    input costs linear time.
    """
    data = data.removeprefix(_BOM)
    blocks: list[_PemBlock] = []
    label: bytes | None = None
    start = 0
    body: list[bytes] = []
    position = 0
    for line in data.splitlines(keepends=True):
        stripped = line.strip()
        here, position = position, position + len(line)
        if label is None:
            if stripped.startswith(b"-----BEGIN ") and stripped.endswith(b"-----"):
                label, start, body = stripped[11:-5], here, []
                if len(label) > 64:  # RFC 7468 labels are short words
                    raise KeyLoadError("a PEM BEGIN line has an overlong label")
            continue
        if stripped == b"-----END " + label + b"-----":
            blocks.append(
                _PemBlock(label.decode("ascii", "replace"), data[start:position], b"".join(body))
            )
            label = None
        elif stripped.startswith(b"-----"):
            break  # a new block before this one ended
        elif b":" not in stripped:  # RFC 1421 header lines (Proc-Type, DEK-Info)
            body.append(stripped)
    if label is not None:
        name = label.decode("ascii", "replace")
        raise KeyLoadError(f"the PEM {name} block has no matching END line")
    return blocks


def _labels(blocks: list[_PemBlock]) -> str:
    return ", ".join(dict.fromkeys(block.label for block in blocks)) or "no PEM blocks"


def _certificates_in_blocks(blocks: list[_PemBlock]) -> list[x509.Certificate]:
    found: list[x509.Certificate] = []
    for block in blocks:
        if block.label in _CERTIFICATE_LABELS:
            found.append(_der_certificate(block.der(), "the PEM certificate"))
        elif block.label in _PKCS7_LABELS:
            found.extend(_pkcs7_certificates(block.der()))
    return found


# -- certificates -------------------------------------------------------------------


def _der_certificate(der: bytes, what: str) -> x509.Certificate:
    try:
        with _tolerating_known_warnings():
            return x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion) as error:
        raise KeyLoadError(f"{what} does not parse: {error}") from None


def _pkcs7_der_certificates(der: bytes) -> Iterator[bytes] | None:
    """The DER certificates of a PKCS #7 SignedData, or None if it is not one.

    Read with asn1crypto, which takes BER: ``openssl crl2pkcs7`` writes the
    certificate SET unsorted and ``openssl cms -stream``, NSS and Outlook
    write indefinite lengths, both of which cryptography's DER reader
    refuses (and then warns while falling back).
    """
    try:
        info = cms.ContentInfo.load(der, strict=True)
        if info["content_type"].native != "signed_data":
            return None
        certificates = info["content"]["certificates"]
        if isinstance(certificates, core.Void):  # the optional field is absent
            return iter(())
        encodings = [
            choice.chosen.dump() for choice in certificates if choice.name == "certificate"
        ]
    except Exception:  # asn1crypto raises many types on bad input
        return None
    return iter(encodings)


def _pkcs7_certificates(der: bytes) -> list[x509.Certificate]:
    encodings = _pkcs7_der_certificates(der)
    if encodings is None:
        raise KeyLoadError("the PKCS #7 data is not a SignedData certificate bag")
    found = [
        _der_certificate(encoding, f"certificate {number} of the PKCS #7 bag")
        for number, encoding in enumerate(encodings, start=1)
    ]
    if not found:
        raise KeyLoadError("the PKCS #7 certificate bag holds no certificates")
    return found


def _as_bytes(data: object) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise TypeError(f"data must be bytes, not {type(data).__name__}")


def load_certificates(data: bytes) -> tuple[x509.Certificate, ...]:
    """Every certificate in ``data``, in order.

    Accepts PEM (any number of ``CERTIFICATE`` and ``PKCS7`` blocks; other
    blocks such as a private key are skipped), a DER certificate, or a
    DER/BER PKCS #7 certificate bag.  Raises :class:`~mailcore.KeyLoadError`
    when there is no certificate to read.
    """
    data = _as_bytes(data)
    if not data.strip():
        raise KeyLoadError("the certificate data is empty")
    if _looks_like_pem(data):
        blocks = _pem_blocks(data)
        found = _certificates_in_blocks(blocks)
        if not found:
            raise KeyLoadError(f"the PEM text holds no certificate (found: {_labels(blocks)})")
        return tuple(found)
    try:
        return (_der_certificate(data, "the DER certificate"),)
    except KeyLoadError as error:
        reason = error.detail
    if _pkcs7_der_certificates(data) is not None:
        return tuple(_pkcs7_certificates(data))
    if _is_pkcs12(data):
        raise KeyLoadError("this is a PKCS #12 file; read it with its password as a private key")
    detail = f" (as DER: {reason})" if data.startswith(b"\x30") else ""
    raise KeyLoadError(
        f"not a certificate: expected PEM, DER or a PKCS #7 certificate bag{detail}"
    )


# -- private keys -------------------------------------------------------------------


def _deserialise(
    loader: Callable[[bytes | None], PrivateKeyTypes],
    password: bytes | None,
    *,
    encrypted: bool,
) -> PrivateKeyTypes | None:
    """Run a cryptography key loader; None when the data is not a key.

    ``encrypted`` says the container is known to be encrypted, so that a
    failure with a password means the password was wrong.
    """
    try:
        with _tolerating_known_warnings():
            return loader(password)
    except TypeError:
        # cryptography: "Password was not given but private key is
        # encrypted" / "Password was given but private key is not encrypted".
        if password is None:
            raise KeyLoadError(
                "the private key is encrypted; a password is needed to read it"
            ) from None
    except ValueError as error:
        if password is not None and (encrypted or "password" in str(error).lower()):
            raise KeyLoadError(
                "wrong password for the encrypted private key (or the key is damaged)"
            ) from None
        return None
    except _CryptoUnsupported as error:
        raise KeyLoadError(f"the private key uses an unsupported algorithm: {error}") from None
    # A password was given for a key that is not encrypted: read it as is.
    try:
        with _tolerating_known_warnings():
            return loader(None)
    except (TypeError, ValueError):
        return None
    except _CryptoUnsupported as error:
        raise KeyLoadError(f"the private key uses an unsupported algorithm: {error}") from None


def _assemble(
    key: PrivateKeyTypes,
    certificates: list[x509.Certificate],
    form: Literal["pem", "der", "pkcs12"],
) -> LoadedKey:
    if not isinstance(key, _SUPPORTED):
        raise KeyLoadError(
            f"{key_type_of(key)} keys are not used for S/MIME;"
            " use an RSA, EC, Ed25519, Ed448, X25519 or X448 key"
        )
    mine = _public_der(key)
    certificate = next((c for c in certificates if _certificate_key_der(c) == mine), None)
    chain = tuple(c for c in certificates if c is not certificate)
    return LoadedKey(key, certificate, chain, form)


def _public_der(key: PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _certificate_key_der(certificate: x509.Certificate) -> bytes | None:
    key = certificate_key(certificate)
    if key is None:
        return None
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _load_pem_key(data: bytes, password: bytes | None) -> LoadedKey:
    blocks = _pem_blocks(data)
    keys = [block for block in blocks if block.label in _KEY_LABELS]
    labels = {block.label for block in blocks}
    if not keys:
        if labels & (_CERTIFICATE_LABELS | _PKCS7_LABELS):
            raise KeyLoadError(
                "the PEM text holds a certificate, not a private key;"
                " give the private key (or a PKCS #12 file)"
            )
        if labels & _PUBLIC_LABELS:
            raise KeyLoadError("the PEM text holds a public key, not a private key")
        if "OPENSSH PRIVATE KEY" in labels:
            raise KeyLoadError(
                "OpenSSH private keys are not read; convert the key to PKCS #8"
                " (ssh-keygen -p -m PKCS8 -f FILE)"
            )
        raise KeyLoadError(f"the PEM text holds no private key (found: {_labels(blocks)})")
    if len(keys) > 1:
        raise KeyLoadError(f"the PEM text holds {len(keys)} private keys; give only one")
    block = keys[0]
    # PKCS #8 says so in its label, RFC 1421 traditional keys in a header.
    encrypted = block.label == "ENCRYPTED PRIVATE KEY" or any(
        line.strip().startswith(b"Proc-Type:") and b"ENCRYPTED" in line
        for line in block.text.splitlines()
    )
    key = _deserialise(
        lambda secret: serialization.load_pem_private_key(block.text, secret),
        password,
        encrypted=encrypted,
    )
    if key is None:
        raise KeyLoadError(f"the PEM {block.label} block does not parse as a private key")
    return _assemble(key, _certificates_in_blocks(blocks), "pem")


def _is_pkcs12(data: bytes) -> bool:
    try:
        pfx = asn1_pkcs12.Pfx.load(data, strict=True)
        # asn1crypto names the only version, 3, "v3".
        return bool(pfx["version"].native == "v3" and pfx["auth_safe"]["content_type"].native)
    except Exception:  # asn1crypto raises many types on bad input
        return False


def _load_pkcs12(data: bytes, password: bytes | None) -> LoadedKey:
    # RFC 7292 App. B.1: an "empty" password may have been applied as the
    # empty string or as no password at all; try both.
    attempts: list[bytes | None]
    if password:
        attempts = [password]
    else:
        attempts = [None, b""] if password is None else [b"", None]
    bundle = None
    for attempt in attempts:
        try:
            # load_key_and_certificates, not load_pkcs12: the latter refuses
            # X25519/X448 keys (cryptography 50), which S/MIME encrypts to.
            with _tolerating_known_warnings():
                bundle = pkcs12.load_key_and_certificates(data, attempt)
            break
        except ValueError:
            continue
        except x509.InvalidVersion as error:
            raise KeyLoadError(
                f"a certificate in the PKCS #12 file does not parse: {error}"
            ) from None
        except _CryptoUnsupported as error:
            raise KeyLoadError(
                f"the PKCS #12 file uses an unsupported algorithm: {error}"
            ) from None
    if bundle is None:
        if password:
            raise KeyLoadError("wrong password for the PKCS #12 file (or the file is damaged)")
        raise KeyLoadError("the PKCS #12 file is protected by a password; give its password")
    key, certificate, additional = bundle
    if key is None:
        raise KeyLoadError("the PKCS #12 file holds no private key (only certificates)")
    certificates = [certificate] if certificate is not None else []
    return _assemble(key, [*certificates, *additional], "pkcs12")


def _is_certificate_data(data: bytes) -> bool:
    try:
        _der_certificate(data, "the DER certificate")
    except KeyLoadError:
        return _pkcs7_der_certificates(data) is not None
    return True


def _is_public_key(data: bytes) -> bool:
    try:
        with _tolerating_known_warnings():
            serialization.load_der_public_key(data)
    except (ValueError, _CryptoUnsupported):
        return False
    return True


def _is_encrypted_pkcs8(data: bytes) -> bool:
    try:
        info = keys.EncryptedPrivateKeyInfo.load(data, strict=True)
        return bool(info["encryption_algorithm"]["algorithm"].native)
    except Exception:  # asn1crypto raises many types on bad input
        return False


def _load_der_key(data: bytes, password: bytes | None) -> LoadedKey:
    if _is_pkcs12(data):
        return _load_pkcs12(data, password)
    key = _deserialise(
        lambda secret: serialization.load_der_private_key(data, secret),
        password,
        encrypted=_is_encrypted_pkcs8(data),
    )
    if key is not None:
        return _assemble(key, [], "der")
    if _is_certificate_data(data):
        raise KeyLoadError(
            "this is a certificate, not a private key; give the private key (or a PKCS #12 file)"
        )
    if _is_public_key(data):
        raise KeyLoadError("this is a public key, not a private key")
    raise KeyLoadError(_NOT_A_KEY)


def load_private_key(data: bytes, *, password: bytes | None = None) -> LoadedKey:
    """Read a private key from PEM, DER or PKCS #12 ``data``.

    ``password`` decrypts an encrypted key or a PKCS #12 file; it is
    ignored for a key that is not encrypted.  The certificate that belongs
    to the key (by public key) and any other certificates come back with it
    when the file carries them.

    Raises :class:`~mailcore.KeyLoadError` when ``data`` is not a key, the
    password is missing or wrong, or the key type is not used for S/MIME.
    """
    data = _as_bytes(data)
    if password is not None and not isinstance(password, bytes):
        raise TypeError(f"password must be bytes, not {type(password).__name__}")
    if not data.strip():
        raise KeyLoadError("the key data is empty")
    if _looks_like_pem(data):
        return _load_pem_key(data, password)
    return _load_der_key(data, password)
