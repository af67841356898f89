"""How a ``directory`` vector case is run.

Kind ``plan``: ``input.directory`` maps each address to certificate files
(relative to the suite; PEM, DER or unreadable on purpose) and is served by
a :class:`~mailcore.directory.MemoryDirectory`; ``input.recipients``,
``input.sender``, ``input.at`` (ISO 8601), ``input.policy`` (``[smime]``
keys) and optional ``input.trust_anchors`` / ``intermediates`` / ``crls``
go to :func:`~mailcore.directory.plan_encryption`.  ``expected`` gives
``decision`` and ``missing`` (JSON D's ``encryption``) and ``lookups``:
for each address looked up, ``status``, the chosen certificate's
``sha256`` (or null) and ``rejected`` as sorted ``[sha256, reason]`` pairs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailcore._vectors import VectorCase
from mailcore.directory._memory import MemoryDirectory
from mailcore.directory._plan import plan_encryption
from mailcore.directory._select import CertificateSelector
from mailcore.policy import policy_from_mapping

__all__ = ["run_directory_case"]


def _compare(name: str, got: Any, expected: Any) -> str | None:
    return None if got == expected else f"{name}: got {got!r}, expected {expected!r}"


def run_directory_case(case: VectorCase) -> str | None:
    if case.kind != "plan":
        return f"unknown kind {case.kind!r}"
    given = case.input
    entries = {
        address: [(case.base / name).read_bytes() for name in files]
        for address, files in given["directory"].items()
    }
    selector = CertificateSelector.from_files(
        trust_anchors=given.get("trust_anchors", ()),
        intermediates=given.get("intermediates", ()),
        crls=given.get("crls", ()),
        base=case.base,
    )
    policy = policy_from_mapping({"smime": given.get("policy", {})})
    at = datetime.fromisoformat(given["at"].replace("Z", "+00:00"))
    plan = plan_encryption(
        directory=MemoryDirectory(entries, selector=selector),
        policy=policy,
        recipients=given["recipients"],
        sender=given.get("sender"),
        at=at,
    )
    expected = case.expected
    encryption = plan.to_dict()
    problem = _compare("decision", encryption["decision"], expected["decision"]) or _compare(
        "missing", encryption["missing"], expected["missing"]
    )
    if problem:
        return problem
    lookups = {
        address: {
            "status": result.status,
            "sha256": None if result.info is None else result.info.sha256,
            "rejected": sorted([r.sha256, r.reason] for r in result.rejected),
        }
        for address, result in (plan.lookups or {}).items()
    }
    return _compare("lookups", lookups, expected["lookups"])
