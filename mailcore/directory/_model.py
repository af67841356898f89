"""What a lookup found: immutable results that give the contract's JSON C."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Any, Literal

from cryptography import x509

from mailcore.smime._certs import CertificateInfo, describe

__all__ = [
    "REJECTION_REASONS",
    "LookupReport",
    "LookupResult",
    "LookupStatus",
    "Rejection",
    "RejectionReason",
]

LookupStatus = Literal["found", "not_found", "no_valid_certificate"]
RejectionReason = Literal[
    "expired",
    "not_yet_valid",
    "wrong_key_usage",
    "address_mismatch",
    "untrusted",
    "revoked",
    "weak_key",
    "malformed",
]
REJECTION_REASONS: tuple[RejectionReason, ...] = (
    "malformed",
    "address_mismatch",
    "expired",
    "not_yet_valid",
    "wrong_key_usage",
    "weak_key",
    "untrusted",
    "revoked",
)
"""Every reason, in the order the checks run (the first failing one is given)."""


@dataclass(frozen=True, slots=True)
class Rejection:
    """A certificate found for an address but not usable, and why."""

    sha256: str
    """Hex SHA-256 of the certificate's DER (of the raw value when it does not parse)."""
    reason: RejectionReason

    def to_dict(self) -> dict[str, str]:
        return {"sha256": self.sha256, "reason": self.reason}


@dataclass(frozen=True)
class LookupResult:
    """The answer for one address."""

    address: str
    """The address as looked up (lowercased)."""
    status: LookupStatus
    certificate: x509.Certificate | None
    """The chosen encryption certificate (``status == "found"``)."""
    rejected: tuple[Rejection, ...] = ()

    @property
    def found(self) -> bool:
        return self.status == "found"

    @cached_property
    def info(self) -> CertificateInfo | None:
        """What mailcore reads from ``certificate`` (described on first use:
        a plan needs only the certificate, a report needs its description)."""
        return None if self.certificate is None else describe(self.certificate)

    def to_dict(self) -> dict[str, Any]:
        """The per-address object of JSON C."""
        info = self.info
        return {
            "status": self.status,
            "certificate": None if info is None else info.to_dict(),
            "rejected": [rejection.to_dict() for rejection in self.rejected],
        }


class LookupReport(Mapping[str, LookupResult]):
    """Results by address, in the order asked; ``to_dict()`` is JSON C."""

    __slots__ = ("_results",)

    def __init__(self, results: Mapping[str, LookupResult]) -> None:
        self._results = MappingProxyType(dict(results))

    def __getitem__(self, address: str) -> LookupResult:
        return self._results[address.strip().lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    def __repr__(self) -> str:
        statuses = ", ".join(f"{a}: {r.status}" for a, r in self._results.items())
        return f"LookupReport({{{statuses}}})"

    @property
    def missing(self) -> tuple[LookupResult, ...]:
        """The results without a usable certificate."""
        return tuple(result for result in self._results.values() if not result.found)

    def to_dict(self) -> dict[str, Any]:
        return {address: result.to_dict() for address, result in self._results.items()}
