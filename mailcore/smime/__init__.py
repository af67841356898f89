"""S/MIME 4.0 (RFC 8551) on CMS (RFC 5652): sign, verify, encrypt, decrypt.

CMS is parsed with asn1crypto (BER tolerant), written with mailcore's own DER
writer, and the cryptography is done with ``cryptography`` primitives::

    from mailcore.smime import load_private_key, load_certificates, sign_message

    key = load_private_key(open("alice.p12", "rb").read(), password=b"secret")
    signed = sign_message(message, key.key, key.certificate, chain=key.chain)

Certificates and keys (:func:`load_private_key`, :func:`load_certificates`,
:func:`describe`, :func:`choose_certificate`), signing and verification
(:func:`sign_message`, :func:`verify_message`), encryption and decryption
(:func:`encrypt_message`, :func:`decrypt_message`), and layered messages
(:func:`open_message`, :func:`sign_and_encrypt`).
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mailcore.smime._algorithms import (
        MAILCORE_CAPABILITIES,
        Capability,
        decode_capabilities,
        encode_capabilities,
    )
    from mailcore.smime._certs import (
        ENCRYPTION,
        SIGNING,
        CertificateInfo,
        Purpose,
        PurposeSplit,
        can_encrypt,
        can_sign,
        choose_certificate,
        describe,
        rejection_reason,
        split_by_purpose,
    )
    from mailcore.smime._decrypt import DecryptResult, decrypt_message
    from mailcore.smime._enveloped import (
        DEFAULT_CIPHER,
        ENCRYPTION_CIPHERS,
        CipherName,
        choose_cipher,
        encrypt_message,
    )
    from mailcore.smime._keys import (
        LoadedKey,
        PrivateKey,
        load_certificates,
        load_private_key,
    )
    from mailcore.smime._open import (
        Layer,
        OpenedMessage,
        open_message,
        sign_and_encrypt,
    )
    from mailcore.smime._signed import sign_message, signed_data
    from mailcore.smime._verify import (
        REASONS,
        Reason,
        SignerReport,
        VerifyResult,
        verify_message,
    )
else:
    from mailcore._lazy import lazy_exports

    # Each submodule loads when one of its names is first read.
    __getattr__, __dir__ = lazy_exports(
        __name__,
        globals(),
        {
            "._algorithms": (
                "MAILCORE_CAPABILITIES",
                "Capability",
                "decode_capabilities",
                "encode_capabilities",
            ),
            "._certs": (
                "ENCRYPTION",
                "SIGNING",
                "CertificateInfo",
                "Purpose",
                "PurposeSplit",
                "can_encrypt",
                "can_sign",
                "choose_certificate",
                "describe",
                "rejection_reason",
                "split_by_purpose",
            ),
            "._decrypt": (
                "DecryptResult",
                "decrypt_message",
            ),
            "._enveloped": (
                "DEFAULT_CIPHER",
                "ENCRYPTION_CIPHERS",
                "CipherName",
                "choose_cipher",
                "encrypt_message",
            ),
            "._keys": (
                "LoadedKey",
                "PrivateKey",
                "load_certificates",
                "load_private_key",
            ),
            "._open": (
                "Layer",
                "OpenedMessage",
                "open_message",
                "sign_and_encrypt",
            ),
            "._signed": (
                "sign_message",
                "signed_data",
            ),
            "._verify": (
                "REASONS",
                "Reason",
                "SignerReport",
                "VerifyResult",
                "verify_message",
            ),
        },
    )

__all__ = [
    "DEFAULT_CIPHER",
    "ENCRYPTION",
    "ENCRYPTION_CIPHERS",
    "MAILCORE_CAPABILITIES",
    "REASONS",
    "SIGNING",
    "Capability",
    "CertificateInfo",
    "CipherName",
    "DecryptResult",
    "Layer",
    "LoadedKey",
    "OpenedMessage",
    "PrivateKey",
    "Purpose",
    "PurposeSplit",
    "Reason",
    "SignerReport",
    "VerifyResult",
    "can_encrypt",
    "can_sign",
    "choose_certificate",
    "choose_cipher",
    "decode_capabilities",
    "decrypt_message",
    "describe",
    "encode_capabilities",
    "encrypt_message",
    "load_certificates",
    "load_private_key",
    "open_message",
    "rejection_reason",
    "sign_and_encrypt",
    "sign_message",
    "signed_data",
    "split_by_purpose",
    "verify_message",
]
