"""Algorithm identifiers shared by S/MIME signing, verification and encryption.

One table per kind of algorithm, keyed by dotted OID, plus the DER for the
identifiers mailcore writes:

* digests (:data:`DIGESTS`): what RFC 5754 / RFC 8551 §2.1 name, with the
  ``micalg`` spelling of RFC 8551 §3.5.3.2 and whether mailcore calls the
  digest weak (MD5 always; SHA-1 unless the caller allows it);
* signature algorithms: RSA PKCS #1 v1.5 (RFC 3370 §3.2, written as
  ``rsaEncryption`` as OpenSSL and Bouncy Castle do), RSASSA-PSS (RFC 4056),
  ECDSA (RFC 5753 / RFC 5758) and Ed25519 (RFC 8419);
* the SMIMECapabilities attribute (RFC 8551 §2.5.2): :func:`encode_capabilities`
  writes it (by default :data:`MAILCORE_CAPABILITIES`, what mailcore can
  decrypt, strongest first), :func:`decode_capabilities` reads a peer's.

Digest AlgorithmIdentifiers are written with absent parameters (RFC 5754
§2: "MUST generate SHA2 AlgorithmIdentifiers with absent parameters").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from asn1crypto import core  # type: ignore[import-untyped]  # no stubs
from cryptography.hazmat.primitives import hashes

from mailcore.errors import MalformedSmime
from mailcore.smime import _der

__all__ = [
    "AES128_CBC",
    "AES128_GCM",
    "AES256_CBC",
    "AES256_GCM",
    "ATTR_CONTENT_TYPE",
    "ATTR_ENCRYPTION_KEY_PREFERENCE",
    "ATTR_MESSAGE_DIGEST",
    "ATTR_SIGNING_TIME",
    "ATTR_SMIME_CAPABILITIES",
    "DIGESTS",
    "DIGESTS_BY_NAME",
    "ECDSA_WITH",
    "EC_PUBLIC_KEY",
    "ED25519",
    "ID_AUTH_ENVELOPED_DATA",
    "ID_COMPRESSED_DATA",
    "ID_DATA",
    "ID_ENVELOPED_DATA",
    "ID_SIGNED_DATA",
    "MAILCORE_CAPABILITIES",
    "MGF1",
    "RSAES_OAEP",
    "RSASSA_PSS",
    "RSA_ENCRYPTION",
    "RSA_WITH",
    "SIGNING_DIGESTS",
    "Capability",
    "Digest",
    "SignatureScheme",
    "decode_capabilities",
    "digest_algorithm",
    "encode_capabilities",
    "pss_parameters",
    "signature_algorithm",
]

# -- content types (RFC 5652 §4-§9, RFC 5083, RFC 3274) -------------------------
ID_DATA = "1.2.840.113549.1.7.1"
ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
ID_ENVELOPED_DATA = "1.2.840.113549.1.7.3"
ID_AUTH_ENVELOPED_DATA = "1.2.840.113549.1.9.16.1.23"
ID_COMPRESSED_DATA = "1.2.840.113549.1.9.16.1.9"

# -- signed attributes (RFC 5652 §11, RFC 8551 §2.5) ----------------------------
ATTR_CONTENT_TYPE = "1.2.840.113549.1.9.3"
ATTR_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
ATTR_SIGNING_TIME = "1.2.840.113549.1.9.5"
ATTR_SMIME_CAPABILITIES = "1.2.840.113549.1.9.15"
ATTR_ENCRYPTION_KEY_PREFERENCE = "1.2.840.113549.1.9.16.2.11"


# -- digests -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Digest:
    """A digest algorithm: mailcore's name, its OID, its ``micalg`` value."""

    name: str  # "sha256": the spelling of JSON B and of the CLI's --digest
    oid: str
    micalg: str  # RFC 8551 §3.5.3.2
    factory: Callable[[], hashes.HashAlgorithm]
    weak: bool = False  # refused unless explicitly allowed (SHA-1) or always (MD5)

    def new(self) -> hashes.HashAlgorithm:
        """A fresh ``cryptography`` hash object for this algorithm."""
        return self.factory()


DIGESTS: dict[str, Digest] = {
    d.oid: d
    for d in (
        Digest("md5", "1.2.840.113549.2.5", "md5", hashes.MD5, weak=True),
        Digest("sha1", "1.3.14.3.2.26", "sha-1", hashes.SHA1, weak=True),
        Digest("sha224", "2.16.840.1.101.3.4.2.4", "sha-224", hashes.SHA224),
        Digest("sha256", "2.16.840.1.101.3.4.2.1", "sha-256", hashes.SHA256),
        Digest("sha384", "2.16.840.1.101.3.4.2.2", "sha-384", hashes.SHA384),
        Digest("sha512", "2.16.840.1.101.3.4.2.3", "sha-512", hashes.SHA512),
    )
}
"""Every digest mailcore knows, by OID (verification looks them up here)."""

DIGESTS_BY_NAME: dict[str, Digest] = {d.name: d for d in DIGESTS.values()}

SIGNING_DIGESTS = ("sha256", "sha384", "sha512")
"""The digests mailcore signs with (RFC 8551 §2.1 MUST/SHOULD+)."""


def digest_algorithm(name: str) -> bytes:
    """DER DigestAlgorithmIdentifier for ``name`` (parameters absent)."""
    return _der.sequence(_der.oid(DIGESTS_BY_NAME[name].oid))


# -- signature algorithms ---------------------------------------------------------
SignatureScheme = Literal["rsa-pkcs1v15", "rsa-pss", "ecdsa", "ed25519"]
"""Signature schemes, spelled as in JSON B ``signers[].signature``."""

RSA_ENCRYPTION = "1.2.840.113549.1.1.1"
RSASSA_PSS = "1.2.840.113549.1.1.10"
RSAES_OAEP = "1.2.840.113549.1.1.7"
MGF1 = "1.2.840.113549.1.1.8"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
ED25519 = "1.3.101.112"

RSA_WITH: dict[str, str] = {
    "1.2.840.113549.1.1.4": "md5",
    "1.2.840.113549.1.1.5": "sha1",
    "1.2.840.113549.1.1.14": "sha224",
    "1.2.840.113549.1.1.11": "sha256",
    "1.2.840.113549.1.1.12": "sha384",
    "1.2.840.113549.1.1.13": "sha512",
}
"""``<digest>WithRSAEncryption`` OIDs (PKCS #1 v1.5) to the digest they fix."""

ECDSA_WITH: dict[str, str] = {
    "1.2.840.10045.4.1": "sha1",
    "1.2.840.10045.4.3.1": "sha224",
    "1.2.840.10045.4.3.2": "sha256",
    "1.2.840.10045.4.3.3": "sha384",
    "1.2.840.10045.4.3.4": "sha512",
}
"""``ecdsa-with-<digest>`` OIDs (RFC 5758 §3.2) to the digest they fix."""

_ECDSA_BY_DIGEST = {name: oid for oid, name in ECDSA_WITH.items()}


def pss_parameters(digest: str) -> bytes:
    """DER RSASSA-PSS-params (RFC 4055 §3.1) as mailcore writes them.

    The hash and MGF1's hash are ``digest``; the salt is as long as the
    digest output (RFC 8702 practice, what OpenSSL does); the trailer field
    keeps its default and is left out (DER omits defaults).
    """
    size = DIGESTS_BY_NAME[digest].new().digest_size
    return _der.sequence(
        _der.context(0, digest_algorithm(digest)),
        _der.context(1, _der.sequence(_der.oid(MGF1), digest_algorithm(digest))),
        _der.context(2, _der.integer(size)),
    )


def signature_algorithm(scheme: SignatureScheme, digest: str) -> bytes:
    """DER SignatureAlgorithmIdentifier for ``scheme`` with ``digest``.

    RSA PKCS #1 v1.5 is written as ``rsaEncryption`` with NULL parameters
    (RFC 3370 §3.2: every CMS implementation must accept it); ECDSA and
    Ed25519 identifiers have no parameters (RFC 5758 §3.2, RFC 8419 §2.3).
    """
    if scheme == "rsa-pkcs1v15":
        return _der.sequence(_der.oid(RSA_ENCRYPTION), _der.null())
    if scheme == "rsa-pss":
        return _der.sequence(_der.oid(RSASSA_PSS), pss_parameters(digest))
    if scheme == "ecdsa":
        return _der.sequence(_der.oid(_ECDSA_BY_DIGEST[digest]))
    return _der.sequence(_der.oid(ED25519))


# -- SMIMECapabilities (RFC 8551 §2.5.2) ---------------------------------------------
@dataclass(frozen=True, slots=True)
class Capability:
    """One SMIMECapability: an algorithm OID and its parameters (DER or None)."""

    oid: str
    parameters: bytes | None = None

    @property
    def name(self) -> str:
        """mailcore's name for the algorithm (``aes-256-gcm``), else the OID."""
        return _CAPABILITY_NAMES.get(self.oid, self.oid)


AES256_GCM = Capability("2.16.840.1.101.3.4.1.46")  # RFC 5084
AES128_GCM = Capability("2.16.840.1.101.3.4.1.6")
AES256_CBC = Capability("2.16.840.1.101.3.4.1.42")  # RFC 3565 §4.1: no parameters
AES128_CBC = Capability("2.16.840.1.101.3.4.1.2")
# RFC 3560 §5: the parameters are RSAES-OAEP-params; the empty SEQUENCE is
# RSAES-OAEP-Default-Identifier (SHA-1, MGF1 with SHA-1, empty label).
_OAEP_DEFAULT = Capability(RSAES_OAEP, _der.sequence())

_CAPABILITY_NAMES = {
    AES256_GCM.oid: "aes-256-gcm",
    AES128_GCM.oid: "aes-128-gcm",
    AES256_CBC.oid: "aes-256-cbc",
    AES128_CBC.oid: "aes-128-cbc",
    RSAES_OAEP: "rsaes-oaep",
    RSA_ENCRYPTION: "rsaes-pkcs1-v1_5",
    "1.2.840.113549.3.7": "des-ede3-cbc",
}

MAILCORE_CAPABILITIES: tuple[Capability, ...] = (
    AES256_GCM,
    AES128_GCM,
    AES256_CBC,
    AES128_CBC,
    _OAEP_DEFAULT,
)
"""What mailcore decrypts, in order of preference (AuthEnvelopedData GCM
first, RFC 8551 §2.7), then the OAEP key transport it accepts."""


def encode_capabilities(capabilities: Iterable[Capability] = MAILCORE_CAPABILITIES) -> bytes:
    """DER SMIMECapabilities (a SEQUENCE OF SMIMECapability, order kept).

    The order is the sender's preference (RFC 8551 §2.5.2), so it is a
    SEQUENCE and not sorted.
    """
    return _der.sequence(
        *(
            _der.sequence(_der.oid(c.oid), *(() if c.parameters is None else (c.parameters,)))
            for c in capabilities
        )
    )


class _Capability(core.Sequence):  # type: ignore[misc]  # asn1crypto is untyped
    _fields = [  # noqa: RUF012 - asn1crypto's declarative spec
        ("capability_id", core.ObjectIdentifier),
        ("parameters", core.Any, {"optional": True}),
    ]


class _Capabilities(core.SequenceOf):  # type: ignore[misc]  # asn1crypto is untyped
    _child_spec = _Capability


def decode_capabilities(data: bytes) -> tuple[Capability, ...]:
    """The capabilities in a DER (or BER) SMIMECapabilities value, in order.

    Raises :class:`MalformedSmime` when ``data`` is not an SMIMECapabilities.
    """
    try:
        parsed = _Capabilities.load(data)
        result = []
        for item in parsed:
            parameters = item["parameters"]
            result.append(
                Capability(
                    item["capability_id"].dotted,
                    None if isinstance(parameters, core.Void) else parameters.dump(),
                )
            )
        return tuple(result)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as error:
        raise MalformedSmime(
            f"not an SMIMECapabilities value: {error}", where="smimeCapabilities"
        ) from None
