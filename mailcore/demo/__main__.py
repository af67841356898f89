"""Run the demo on the bundled sample messages with the default policy."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mailcore.demo._pipeline_demo import (
    run_export_demo,
    run_pipeline_demo,
    run_sizing_demo,
)
from mailcore.errors import MarkingDowngrade
from mailcore.marking import apply_marking, check_marking, read_marking
from mailcore.policy import Policy

SAMPLES = Path(__file__).resolve().parent


def _sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _headers(message: bytes) -> str:
    head = message.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    wanted = ("Subject:", "X-Protective-Marking:", " ")
    lines, keep = [], False
    for line in head.split("\r\n"):
        keep = line.startswith(wanted[:2]) or (keep and line.startswith(" "))
        if keep:
            lines.append("    " + line)
    return "\n".join(lines)


def main() -> int:
    policy = Policy()
    settings = policy.classification
    print("mailcore demo: protective markings with the built-in default policy")
    print(
        f"  EPMS version {settings.version}, namespace {settings.namespace}, "
        f"default {settings.default!r}, {len(settings.markings)} markings offered\n"
    )

    print("1. Mark an outgoing message with the policy default:")
    outgoing = apply_marking(_sample("outgoing.eml"), policy=policy)
    print(_headers(outgoing.message), "\n")

    print("2. Reply to a PROTECTED//CABINET message without choosing a marking")
    print("   (ISM-1089: the reply inherits the original's marking and ORIGIN):")
    original = _sample("original.eml")
    reply = apply_marking(_sample("reply.eml"), policy=policy, originals=[original])
    print(_headers(reply.message), "\n")

    print("3. Try to downgrade that reply to OFFICIAL:")
    try:
        apply_marking(_sample("reply.eml"), "OFFICIAL", policy=policy, originals=[original])
    except MarkingDowngrade as refused:
        print(f"   refused: {refused}\n")

    print("4. Read a legacy 2012.3 message with real-world defects (JSON A):")
    report = read_marking(_sample("legacy.eml")).to_dict()
    print("   " + json.dumps(report, ensure_ascii=False), "\n")

    print("5. Gateway check: may these messages leave for a system cleared to OFFICIAL:Sensitive?")
    for name in ("outgoing.eml", "original.eml", "legacy.eml"):
        message = outgoing.message if name == "outgoing.eml" else _sample(name)
        result = check_marking(message, "OFFICIAL:Sensitive", markings=settings.markings)
        verdict = "pass" if result.passed else f"blocked ({result.reason})"
        print(f"   {name:13} {result.level or 'unmarked':40} {verdict}")

    print("\n6. The whole outbound and inbound job (mailcore.pipeline) with a generated")
    print("   demo PKI, a PKCS #12 key store and an LDIF certificate directory:")
    folder = Path("demo-output")
    run_pipeline_demo(folder, SAMPLES)
    print("\n7. Contacts and calendar export under the policy's [export] section:")
    run_export_demo(folder, SAMPLES)
    print("\n8. Unlimited-sync sizing: what each ActiveSync sync window puts on a phone:")
    run_sizing_demo(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
