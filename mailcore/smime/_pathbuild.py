"""Bounded certification path building for pyhanko-certvalidator.

pyhanko-certvalidator builds paths by walking every chain of name-matching
issuers depth first, recursively, without a bound, keeping every dead end
in memory.  Certificates that name themselves as their issuer (self-made
"CA"s sharing one subject) make that walk factorial: ten of them in a 7 KB
message took minutes and 1.5 GB, a thousand overflowed the stack
(issue 17.1).  So paths are built here and only handed to its validation
(RFC 5280 §6), which is unchanged:

* breadth first (shortest paths first), a certificate at most once a path;
* an issuer is a certificate named by the child's issuer field, whose key
  identifier does not contradict the child's authorityKeyIdentifier (the
  rule pyhanko-certvalidator uses) and whose key verifies the child's
  signature — a candidate that demonstrably did not sign it is no issuer
  (one that cannot be checked here, e.g. DSA, is kept for the validator
  to judge);
* candidates with the same subject and the same key are one candidate
  (:func:`distinct_issuers`);
* at most :data:`MAX_PATH_DEPTH` CA certificates below the anchor,
  :data:`MAX_ISSUERS_PER_CERTIFICATE` issuers followed per certificate,
  :data:`MAX_PATH_STEPS` candidates examined and :data:`MAX_PATHS` paths
  validated per budget (one budget per message), and a deadline of
  :data:`PATH_DEADLINE` seconds as the last resort.

No path within the bounds is the same answer as no path at all
(``PathBuildingError``, hence ``untrusted``).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]  # no stubs
from cryptography import x509
from cryptography.exceptions import InvalidSignature

if TYPE_CHECKING:
    from pyhanko_certvalidator.context import ValidationContext
    from pyhanko_certvalidator.path import ValidationPath

__all__ = [
    "MAX_ISSUERS_PER_CERTIFICATE",
    "MAX_PATHS",
    "MAX_PATH_DEPTH",
    "MAX_PATH_STEPS",
    "PATH_DEADLINE",
    "Node",
    "PathBudget",
    "distinct_issuers",
    "validate_bounded",
]

MAX_PATH_DEPTH = 8
"""CA certificates between the end entity and the trust anchor: real
enterprise and public hierarchies have 1-3; 8 is also cryptography's
verifier's limit."""
MAX_ISSUERS_PER_CERTIFICATE = 8
"""Issuers (candidates whose key verifies the signature) followed from one
certificate: a CA with renewed or cross-signed certificates has 2-3."""
MAX_PATH_STEPS = 256
"""Candidate issuers examined (one signature check each) per budget."""
MAX_PATHS = 32
"""Complete paths handed to RFC 5280 validation per budget (each costs a
validation with its signature and revocation checks): two for each of a
message's at most 16 signers."""
PATH_DEADLINE = 0.5
"""Seconds of path building and validation per budget, a backstop: the
counts above bound the work well below it on any machine."""


@dataclass(frozen=True, slots=True)
class Node:
    """A certificate in both parsers' views."""

    asn1: asn1_x509.Certificate
    crypto: x509.Certificate


class PathBudget:
    """What path building may still spend (shared by a message's signers)."""

    def __init__(self) -> None:
        self.steps = MAX_PATH_STEPS
        self.paths = MAX_PATHS
        self.deadline = time.monotonic() + PATH_DEADLINE

    def step(self) -> bool:
        self.steps -= 1
        return self.steps >= 0 and not self.expired()

    def path(self) -> bool:
        self.paths -= 1
        return self.paths >= 0 and not self.expired()

    def expired(self) -> bool:
        return time.monotonic() > self.deadline


def distinct_issuers(nodes: Iterable[Node], moment: datetime) -> list[Node]:
    """One certificate per (subject, public key): the first valid at
    ``moment`` if there is one, else the first.  (More of them add no
    issuer: they verify exactly the same signatures.)"""
    chosen: dict[tuple[Any, bytes], Node] = {}
    for node in nodes:
        key = (node.asn1.subject.hashable, node.asn1.public_key.dump())
        kept = chosen.get(key)
        if kept is None or (not _current(kept, moment) and _current(node, moment)):
            chosen[key] = node
    return list(chosen.values())


def _current(node: Node, moment: datetime) -> bool:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    validity = node.asn1["tbs_certificate"]["validity"]
    return bool(validity["not_before"].native <= moment <= validity["not_after"].native)


def _signed_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """False only when ``issuer``'s key demonstrably did not sign ``child``."""
    try:
        child.verify_directly_issued_by(issuer)
    except InvalidSignature:
        return False
    except Exception:  # names, key types, algorithms: the validator decides
        return True
    return True


def build_paths(
    leaf: Node, others: Sequence[Node], context: ValidationContext, budget: PathBudget
) -> list[ValidationPath]:
    """Paths from a trust anchor to ``leaf``, shortest first, within bounds."""
    from pyhanko_certvalidator.authority import AuthorityWithCert
    from pyhanko_certvalidator.path import ValidationPath

    trust = context.path_builder.trust_manager
    itself = trust.as_trust_anchor(AuthorityWithCert(leaf.asn1))
    if itself is not None:
        return [ValidationPath(itself, [], None)] if budget.path() else []
    by_subject: dict[Any, list[Node]] = {}
    for node in others:
        if not trust.is_root(node.asn1):  # anchors are found as anchors
            by_subject.setdefault(node.asn1.subject.hashable, []).append(node)
    paths: list[ValidationPath] = []
    queue: deque[tuple[Node, ...]] = deque([(leaf,)])
    while queue:
        path = queue.popleft()
        head = path[-1].asn1
        for anchor in trust.find_potential_issuers(head):
            if not budget.path():
                return paths
            paths.append(ValidationPath(anchor, [n.asn1 for n in reversed(path[1:])], leaf.asn1))
        if len(path) > MAX_PATH_DEPTH:
            continue
        seen = {n.asn1.issuer_serial for n in path}
        kept = 0
        for issuer in by_subject.get(head.issuer.hashable, ()):
            if issuer.asn1.issuer_serial in seen:
                continue
            wanted, key_id = head.authority_key_identifier, issuer.asn1.key_identifier
            if wanted and key_id and wanted != key_id:
                continue
            if not budget.step():
                return paths
            if _signed_by(path[-1].crypto, issuer.crypto):
                queue.append((*path, issuer))
                kept += 1
                if kept == MAX_ISSUERS_PER_CERTIFICATE:
                    break
    return paths


class _Paths:
    """The found paths as pyhanko-certvalidator's CancelableAsyncIterator."""

    def __init__(self, paths: list[ValidationPath], name: str, budget: PathBudget) -> None:
        self._paths = iter(paths)
        self._name = name
        self._budget = budget
        self._emitted = 0

    def __aiter__(self) -> _Paths:
        return self

    async def __anext__(self) -> ValidationPath:
        from pyhanko_certvalidator.errors import PathBuildingError

        path = next(self._paths, None)
        if path is not None and (self._emitted == 0 or not self._budget.expired()):
            self._emitted += 1
            return path
        if self._emitted == 0:
            raise PathBuildingError(
                f'Unable to build a validation path for the certificate "{self._name}" '
                f"within {MAX_PATH_DEPTH} CA certificates and {MAX_PATH_STEPS} candidates"
            )
        raise StopAsyncIteration

    async def cancel(self) -> None:
        return None


async def validate_bounded(
    leaf: Node, others: Sequence[Node], context: ValidationContext, budget: PathBudget
) -> ValidationPath:
    """pyhanko-certvalidator's ``async_validate_path`` over bounded paths:
    the first valid one, else the error it would give."""
    from pyhanko_certvalidator import find_valid_path

    paths = build_paths(leaf, others, context, budget)
    found: ValidationPath = await find_valid_path(
        leaf.asn1,
        _Paths(paths, leaf.asn1.subject.human_friendly, budget),  # type: ignore[arg-type]
        validation_context=context,
    )
    return found
