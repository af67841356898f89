"""How a ``pipeline`` vector case is run.

Kind ``outbound``: ``input.message`` (text), ``input.policy`` (policy
sections), ``input.directory`` (address -> certificate files, served by a
:class:`~mailcore.directory.MemoryDirectory`), ``input.keys`` (address ->
[key file, certificate file, chain files...]), ``input.trust`` (anchors) and ``input.at``.
The message goes through :meth:`Pipeline.outbound`; ``expected`` gives any
of ``signed``, ``encrypted``, ``encryption`` (JSON D), ``marking_sec``,
``readable_by`` / ``unreadable_by`` (addresses whose key must / must not
open the result, signature verified), ``absent_fields`` and
``outer_fields`` (header field names), or ``error`` (the exception class
name) for an ``invalid`` case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from mailcore._message import RawMessage
from mailcore._vectors import VectorCase
from mailcore.directory._memory import MemoryDirectory
from mailcore.errors import MailcoreError
from mailcore.pipeline._keys import MemoryKeyStore
from mailcore.pipeline._pipeline import Pipeline
from mailcore.policy import Policy, policy_from_mapping
from mailcore.smime._keys import LoadedKey, load_certificates, load_private_key

__all__ = ["run_pipeline_case"]


def _keys(case: VectorCase) -> dict[str, LoadedKey]:
    keys: dict[str, LoadedKey] = {}
    for address, (key_file, cert_file, *chain_files) in case.input["keys"].items():
        loaded = load_private_key((case.base / key_file).read_bytes())
        (certificate,) = load_certificates((case.base / cert_file).read_bytes())
        chain = tuple(
            c for f in chain_files for c in load_certificates((case.base / f).read_bytes())
        )
        keys[address] = LoadedKey(loaded.key, certificate, chain)
    return keys


def run_pipeline_case(case: VectorCase) -> str | None:
    if case.kind != "outbound":
        return f"unknown kind {case.kind!r}"
    given = case.input
    at = datetime.fromisoformat(given["at"].replace("Z", "+00:00"))
    directory = MemoryDirectory(
        {
            a: [(case.base / f).read_bytes() for f in files]
            for a, files in given["directory"].items()
        }
    )
    keys = _keys(case)
    trust = [c for f in given["trust"] for c in load_certificates((case.base / f).read_bytes())]
    policy = policy_from_mapping(given["policy"])
    pipeline = Pipeline(policy, directory=directory, keys=MemoryKeyStore(keys), trust=trust)
    expected: dict[str, Any] = case.expected
    try:
        result = pipeline.outbound(given["message"].encode(), at=at)
    except MailcoreError as error:
        if expected.get("error") == type(error).__name__:
            return None
        return f"raised {type(error).__name__}: {error}"
    if "error" in expected:
        return f"expected {expected['error']}, got a result"
    report = result.report.to_dict()
    for key in ("signed", "encrypted", "encryption"):
        if key in expected and report[key] != expected[key]:
            return f"{key}: got {report[key]!r}, expected {expected[key]!r}"
    if (
        "marking_sec" in expected
        and (report["marking"] or {}).get("sec") != expected["marking_sec"]
    ):
        return f"marking: got {report['marking']!r}"
    names = {field.name.lower() for field in RawMessage(result.message).fields}
    for name in expected.get("absent_fields", []):
        if name in names:
            return f"the output has a {name} field"
    for name in expected.get("outer_fields", []):
        if name not in names:
            return f"the output lacks its {name} field"
    for address, must in [(a, True) for a in expected.get("readable_by", [])] + [
        (a, False) for a in expected.get("unreadable_by", [])
    ]:
        reader = Pipeline(Policy(), keys=MemoryKeyStore({address: keys[address]}), trust=trust)
        opened = reader.inbound(result.message, at=at).report.to_dict()
        readable = opened["encrypted"] and all(layer["ok"] for layer in opened["layers"])
        if readable != must:
            return f"{address}: readable={readable}, expected {must} ({opened['layers']})"
        if must and result.report.signed and not opened["signed"]:
            return f"{address}: the signature did not verify"
    return None
