"""CMS identifiers and small structures that asn1crypto 1.5.1 lacks, shared
by encryption and decryption so that the two sides cannot diverge.

* Content-encryption algorithms (RFC 3565 AES-CBC, RFC 5084 AES-GCM, legacy
  3DES) with their key sizes.
* ``GCMParameters`` (RFC 5084 §3.2), which asn1crypto parses as an untyped
  sequence.
* The key-agreement schemes of RFC 5753 §7.1.4 (ECDH with the ANSI X9.63
  KDF) and RFC 8418 §2 (with HKDF), which asn1crypto has no names for, and
  the ``ECC-CMS-SharedInfo`` (RFC 5753 §7.2) both KDFs take as input.
* Hash and key-wrap identifiers used by RSAES-OAEP (RFC 4055 / RFC 8017)
  and by key agreement (RFC 3394 AES key wrap).

Identifiers are kept as dotted strings: asn1crypto's global OID maps are
left alone (another module may rely on them), and dotted strings compare
the same whatever asn1crypto knows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from asn1crypto import core  # type: ignore[import-untyped]  # no stubs
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF

from mailcore.smime import _der

__all__ = [
    "AUTH_ENVELOPED_DATA",
    "CONTENT_CIPHERS",
    "DATA",
    "ENVELOPED_DATA",
    "HASHES",
    "ID_EC_PUBLIC_KEY",
    "ID_MGF1",
    "ID_P_SPECIFIED",
    "ID_X25519",
    "KEY_AGREEMENT_SCHEMES",
    "KEY_WRAPS",
    "RSAES_OAEP",
    "RSA_ENCRYPTION",
    "ContentCipher",
    "GCMParameters",
    "KeyAgreementScheme",
    "KeyWrap",
    "cipher_by_name",
    "derive_kek",
    "ecc_cms_shared_info",
]

# RFC 5652 §4, §6.1 and RFC 5083 §1: content types.
DATA = "1.2.840.113549.1.7.1"
ENVELOPED_DATA = "1.2.840.113549.1.7.3"
AUTH_ENVELOPED_DATA = "1.2.840.113549.1.9.16.1.23"

# RFC 8017 Appendix A / RFC 4055 §4.1: key transport.
RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
RSAES_OAEP = "1.2.840.113549.1.1.7"
ID_MGF1 = "1.2.840.113549.1.1.8"
ID_P_SPECIFIED = "1.2.840.113549.1.1.9"

# RFC 5480 §2.1.1 and RFC 8410 §3: originator public keys.
ID_EC_PUBLIC_KEY = "1.2.840.10045.2.1"
ID_X25519 = "1.3.101.110"

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "1.3.14.3.2.26": hashes.SHA1,
    "2.16.840.1.101.3.4.2.4": hashes.SHA224,
    "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512,
}
"""Digest algorithm OIDs (RFC 3279 §2.2.1, RFC 5754 §2) to hash classes."""


@dataclass(frozen=True, slots=True)
class ContentCipher:
    """A content-encryption algorithm: its mailcore name, OID and key size."""

    name: str  # "aes-256-gcm", as in the CLI's --cipher
    oid: str
    key_size: int  # bytes
    mode: Literal["cbc", "gcm"]
    legacy: bool = False  # decrypt-only (3DES): never chosen for encryption


CONTENT_CIPHERS: dict[str, ContentCipher] = {
    cipher.oid: cipher
    for cipher in (
        # RFC 3565 §4.1 (AES-CBC; parameters: the IV as an OCTET STRING).
        ContentCipher("aes-128-cbc", "2.16.840.1.101.3.4.1.2", 16, "cbc"),
        ContentCipher("aes-192-cbc", "2.16.840.1.101.3.4.1.22", 24, "cbc"),
        ContentCipher("aes-256-cbc", "2.16.840.1.101.3.4.1.42", 32, "cbc"),
        # RFC 5084 §3.2 (AES-GCM; parameters: GCMParameters).
        ContentCipher("aes-128-gcm", "2.16.840.1.101.3.4.1.6", 16, "gcm"),
        ContentCipher("aes-192-gcm", "2.16.840.1.101.3.4.1.26", 24, "gcm"),
        ContentCipher("aes-256-gcm", "2.16.840.1.101.3.4.1.46", 32, "gcm"),
        # RFC 3370 §5.1 (des-ede3-cbc; parameters: the 8-byte IV).
        ContentCipher("des-ede3-cbc", "1.2.840.113549.3.7", 24, "cbc", legacy=True),
    )
}
"""Content-encryption algorithms mailcore decrypts, by OID."""


def cipher_by_name(name: str) -> ContentCipher:
    """The content cipher called ``name`` (``KeyError`` if there is none)."""
    for cipher in CONTENT_CIPHERS.values():
        if cipher.name == name:
            return cipher
    raise KeyError(name)


class GCMParameters(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    """RFC 5084 §3.2::

    GCMParameters ::= SEQUENCE {
      aes-nonce        OCTET STRING, -- recommended size is 12 octets
      aes-ICVlen       AES-GCM-ICVlen DEFAULT 12 }
    AES-GCM-ICVlen ::= INTEGER (12 | 13 | 14 | 15 | 16)
    """

    _fields = [  # noqa: RUF012  # asn1crypto's declaration style
        ("aes_nonce", core.OctetString),
        ("aes_icvlen", core.Integer, {"default": 12}),
    ]


@dataclass(frozen=True, slots=True)
class KeyWrap:
    """A key-wrap algorithm: AES (RFC 3394, RFC 3565 §2.3.2) or, for old
    mail, Triple-DES (RFC 3217 §3, decrypt only)."""

    name: str
    oid: str
    key_size: int  # bytes of the key-encryption key
    legacy: bool = False


KEY_WRAPS: dict[str, KeyWrap] = {
    wrap.oid: wrap
    for wrap in (
        KeyWrap("aes128-wrap", "2.16.840.1.101.3.4.1.5", 16),
        KeyWrap("aes192-wrap", "2.16.840.1.101.3.4.1.25", 24),
        KeyWrap("aes256-wrap", "2.16.840.1.101.3.4.1.45", 32),
        # OpenSSL wraps a 3DES content key for an EC recipient with this.
        KeyWrap("des-ede3-wrap", "1.2.840.113549.1.9.16.3.6", 24, legacy=True),
    )
}


@dataclass(frozen=True, slots=True)
class KeyAgreementScheme:
    """An ECDH key-agreement scheme: the KDF and hash it implies."""

    name: str  # "ecdh-x963-sha256"
    oid: str
    kdf: Literal["x963", "hkdf"]
    hash: type[hashes.HashAlgorithm]
    # cofactorDH: the same as standard DH on curves with cofactor 1 (the
    # NIST prime curves); not defined for X25519.
    cofactor: bool = False


_SMIME_ALG = "1.2.840.113549.1.9.16.3."  # id-alg (RFC 5652 §12)

KEY_AGREEMENT_SCHEMES: dict[str, KeyAgreementScheme] = {
    scheme.oid: scheme
    for scheme in (
        # RFC 5753 §7.1.4 (and RFC 8418 for X25519): ANSI X9.63 KDF.
        KeyAgreementScheme("ecdh-x963-sha1", "1.3.133.16.840.63.0.2", "x963", hashes.SHA1),
        KeyAgreementScheme("ecdh-x963-sha224", "1.3.132.1.11.0", "x963", hashes.SHA224),
        KeyAgreementScheme("ecdh-x963-sha256", "1.3.132.1.11.1", "x963", hashes.SHA256),
        KeyAgreementScheme("ecdh-x963-sha384", "1.3.132.1.11.2", "x963", hashes.SHA384),
        KeyAgreementScheme("ecdh-x963-sha512", "1.3.132.1.11.3", "x963", hashes.SHA512),
        KeyAgreementScheme(
            "ecdh-cofactor-x963-sha1", "1.3.133.16.840.63.0.3", "x963", hashes.SHA1, True
        ),
        KeyAgreementScheme(
            "ecdh-cofactor-x963-sha224", "1.3.132.1.14.0", "x963", hashes.SHA224, True
        ),
        KeyAgreementScheme(
            "ecdh-cofactor-x963-sha256", "1.3.132.1.14.1", "x963", hashes.SHA256, True
        ),
        KeyAgreementScheme(
            "ecdh-cofactor-x963-sha384", "1.3.132.1.14.2", "x963", hashes.SHA384, True
        ),
        KeyAgreementScheme(
            "ecdh-cofactor-x963-sha512", "1.3.132.1.14.3", "x963", hashes.SHA512, True
        ),
        # RFC 8418: HKDF.
        KeyAgreementScheme("ecdh-hkdf-sha256", _SMIME_ALG + "19", "hkdf", hashes.SHA256),
        KeyAgreementScheme("ecdh-hkdf-sha384", _SMIME_ALG + "20", "hkdf", hashes.SHA384),
        KeyAgreementScheme("ecdh-hkdf-sha512", _SMIME_ALG + "21", "hkdf", hashes.SHA512),
    )
}


def ecc_cms_shared_info(key_wrap: bytes, kek_size: int, ukm: bytes | None) -> bytes:
    """DER of ``ECC-CMS-SharedInfo`` (RFC 5753 §7.2)::

        ECC-CMS-SharedInfo ::= SEQUENCE {
          keyInfo      AlgorithmIdentifier,           -- the key-wrap algorithm
          entityUInfo  [0] EXPLICIT OCTET STRING OPTIONAL,  -- the ukm
          suppPubInfo  [2] EXPLICIT OCTET STRING }    -- KEK length in bits, 32-bit BE

    ``key_wrap`` is the encoded key-wrap AlgorithmIdentifier exactly as the
    KeyAgreeRecipientInfo carries it.
    """
    items = [key_wrap]
    if ukm is not None:
        items.append(_der.context(0, _der.octet_string(ukm)))
    items.append(_der.context(2, _der.octet_string((kek_size * 8).to_bytes(4, "big"))))
    return _der.sequence(*items)


def derive_kek(
    scheme: KeyAgreementScheme,
    shared_secret: bytes,
    key_wrap: bytes,
    kek_size: int,
    ukm: bytes | None,
) -> bytes:
    """The key-encryption key from an ECDH shared secret.

    X9.63 (RFC 5753 §7.2): ``KDF(Z, ECC-CMS-SharedInfo)``.  HKDF (RFC 8418):
    IKM is Z, info the same SharedInfo, no salt; the ukm (if any) travels
    in SharedInfo's entityUInfo as for X9.63.  (Not checked against a
    third-party HKDF message with a ukm: mailcore never writes a ukm, and
    OpenSSL 3.0 has no X25519 in CMS.)
    """
    info = ecc_cms_shared_info(key_wrap, kek_size, ukm)
    if scheme.kdf == "x963":
        return X963KDF(algorithm=scheme.hash(), length=kek_size, sharedinfo=info).derive(
            shared_secret
        )
    return HKDF(algorithm=scheme.hash(), length=kek_size, salt=None, info=info).derive(
        shared_secret
    )
