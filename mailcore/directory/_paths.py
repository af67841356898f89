"""Is there a valid path from a recipient's certificate to a trust anchor?

The answer is pyhanko-certvalidator's (RFC 5280 §6 path validation, the
same validator that verifies signatures), computed the fast way where that
cannot change it:

* cryptography's verifier (Rust) is tried first.  Its profile is the Web
  PKI's, stricter than RFC 5280 almost everywhere: X.509 v3 only, SHA-2
  signatures only, CA keys of at least 2048 bits, basicConstraints critical
  and keyUsage present in every CA, every certificate valid at the time,
  the anchor included.
* Where it is not stricter, the fast answer is not used: a path with
  policy constraints, policy mappings, inhibitAnyPolicy or name constraints
  (RFC 5280 §6.1.4 can fail a path on these where the Web PKI profile
  does not look), or with a critical extension outside the ones both
  validators process, goes to pyhanko-certvalidator.
* A path the fast verifier refuses goes to pyhanko-certvalidator too.

So a path is valid exactly when pyhanko-certvalidator finds it valid; what
changes is the cost of the common case, an enterprise CA with one or two
intermediates: ~0.1 ms instead of ~4 ms, and no ~30 ms import of
pyhanko-certvalidator and asyncio in a process that never needs them
(every ``process`` worker).  tests/directory/test_paths.py checks the
agreement on NIST's PKITS paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]  # no stubs
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID
from cryptography.x509.verification import (
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

__all__ = ["PathValidator"]

# RFC 5280 §6.1.3-§6.1.4 checks that can fail a path and that the Web PKI
# profile leaves out (or handles differently): such paths take the full way.
_FULL_VALIDATION_ONLY = frozenset(
    {
        ExtensionOID.POLICY_CONSTRAINTS,
        ExtensionOID.POLICY_MAPPINGS,
        ExtensionOID.INHIBIT_ANY_POLICY,
        ExtensionOID.NAME_CONSTRAINTS,
    }
)
# Critical extensions both validators process.  Any other critical one makes
# RFC 5280 refuse the path, which the fast verifier's permissive end-entity
# profile would not do.
_CRITICAL_UNDERSTOOD = frozenset(
    {
        ExtensionOID.BASIC_CONSTRAINTS,
        ExtensionOID.KEY_USAGE,
        ExtensionOID.EXTENDED_KEY_USAGE,
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
        ExtensionOID.CERTIFICATE_POLICIES,
        ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
        ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    }
)


class PathValidator:
    """Path validation against fixed anchors and intermediates; immutable,
    safe to share between threads."""

    def __init__(
        self, anchors: Sequence[x509.Certificate], intermediates: Sequence[x509.Certificate]
    ) -> None:
        self._anchors = tuple(anchors)
        self._intermediates = list(intermediates)
        self._store = Store(list(self._anchors)) if self._anchors else None
        # The end entity's extensions are the directory selector's business
        # (it checks key usage and purposes itself); CAs get the Web PKI rules.
        self._ca_policy = ExtensionPolicy.webpki_defaults_ca()
        self._ee_policy = ExtensionPolicy.permit_all()
        self._asn1: tuple[tuple[Any, ...], tuple[Any, ...]] | None = None

    def valid(self, certificate: x509.Certificate, at: datetime) -> bool:
        """Whether ``certificate`` has a valid path to an anchor at ``at``
        (revocation is not checked here)."""
        if self._store is None:
            return False
        quick = self.quick_answer(certificate, at)
        return quick if quick is not None else self.full_answer(certificate, at)

    def quick_answer(self, certificate: x509.Certificate, at: datetime) -> bool | None:
        """True when the fast verifier finds a path on which its answer is
        pyhanko-certvalidator's; None when only the full validation can tell."""
        if self._store is None:
            return None
        moment = at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(moment)
            .extension_policies(ca_policy=self._ca_policy, ee_policy=self._ee_policy)
            .build_client_verifier()
        )
        try:
            chain = verifier.verify(certificate, self._intermediates).chain
        except (VerificationError, ValueError):
            return None
        for member in chain:
            try:
                extensions = member.extensions
            except ValueError:
                return None
            for extension in extensions:
                if extension.oid in _FULL_VALIDATION_ONLY:
                    return None
                if extension.critical and extension.oid not in _CRITICAL_UNDERSTOOD:
                    return None
        return True

    def full_answer(self, certificate: x509.Certificate, at: datetime) -> bool:
        """pyhanko-certvalidator's answer (the one this module gives)."""
        # Imported here: most processes never need it (module docstring).
        from pyhanko_certvalidator import ValidationContext
        from pyhanko_certvalidator import errors as pathing
        from pyhanko_certvalidator.policy_decl import (
            CertRevTrustPolicy,
            RevocationCheckingPolicy,
            RevocationCheckingRule,
        )

        from mailcore.smime._pathbuild import Node, PathBudget, distinct_issuers, validate_bounded
        from mailcore.smime._verify import _run as run_coroutine

        anchors, intermediates = self._asn1_certificates()
        # Bounded path building (issue 17.1): a directory entry's chain is
        # no more trusted than a message's.
        others = distinct_issuers(
            (Node(a, c) for a, c in zip(intermediates, self._intermediates, strict=True)), at
        )
        # Revocation is checked separately (the selector's CRLs).
        no_revocation = RevocationCheckingPolicy(
            ee_certificate_rule=RevocationCheckingRule.NO_CHECK,
            intermediate_ca_cert_rule=RevocationCheckingRule.NO_CHECK,
        )
        context = ValidationContext(
            trust_roots=list(anchors),
            other_certs=[n.asn1 for n in others],
            moment=at,
            allow_fetching=False,
            revinfo_policy=CertRevTrustPolicy(no_revocation),
        )
        try:
            end_entity = asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
            leaf = Node(end_entity, certificate)
            run_coroutine(validate_bounded(leaf, others, context, PathBudget()))
        except (pathing.PathError, pathing.ValidationError, pathing.PathBuildingError):
            return False
        except (ValueError, TypeError, KeyError):  # asn1crypto on a value it cannot read
            return False
        return True

    def _asn1_certificates(self) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        # Converted on first use: the fast path never needs them.  (A race
        # converts twice, to equal values: harmless.)
        if self._asn1 is None:
            self._asn1 = (
                tuple(_asn1(c) for c in self._anchors),
                tuple(_asn1(c) for c in self._intermediates),
            )
        return self._asn1


def _asn1(certificate: x509.Certificate) -> Any:
    return asn1_x509.Certificate.load(certificate.public_bytes(Encoding.DER))
