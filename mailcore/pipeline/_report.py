"""What the pipeline did to one message, and why (JSON D of the contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mailcore.directory._plan import EncryptionPlan

__all__ = ["ProcessReport", "ProcessResult"]

Direction = Literal["outbound", "inbound"]


@dataclass(frozen=True, slots=True)
class ProcessReport:
    """JSON D: ``direction``, ``marking`` (JSON A), ``irm`` (JSON E), ``signed``,
    ``encrypted``, ``encryption`` (decision and who was missing), plus
    ``layers`` (inbound: each S/MIME layer's result; outbound: empty) and
    ``warnings``."""

    direction: Direction
    marking: dict[str, Any] | None = None
    irm: dict[str, Any] | None = None
    signed: bool = False
    encrypted: bool = False
    decision: Literal["encrypt", "send_unencrypted", "reject", "not_requested"] = "not_requested"
    plan: EncryptionPlan | None = None
    layers: tuple[dict[str, Any], ...] = ()
    warnings: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        missing = [] if self.plan is None else [m.to_dict() for m in self.plan.missing]
        encryption: dict[str, Any] | None = {"decision": self.decision, "missing": missing}
        if self.direction == "inbound":
            encryption = None  # inbound decrypts; there is no decision to report
        return {
            "direction": self.direction,
            "marking": self.marking,
            "irm": self.irm,
            "signed": self.signed,
            "encrypted": self.encrypted,
            "encryption": encryption,
            "layers": list(self.layers),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class ProcessResult:
    """The message as it leaves the pipeline, and the report."""

    message: bytes
    report: ProcessReport

    def to_dict(self) -> dict[str, Any]:
        return self.report.to_dict()
