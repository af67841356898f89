"""The pipeline part of ``make demo``: a generated PKI, an LDIF directory, a policy file."""

from __future__ import annotations

from pathlib import Path

import pybase64
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    pkcs12,
)

from mailcore.pipeline import Pipeline
from mailcore.policy import load_policy
from mailcore.smime.pki import Identity, TestPKI

PASSWORD = "demo-password"  # the demo's PKCS #12 password, read from the environment
PEOPLE = ("jo.citizen@agency.gov.au", "planning@agency.gov.au", "sam.minister@cabinet.gov.au")
WITHOUT_CERTIFICATE = "contractor@partner.example"

POLICY = """\
# The demo's policy (contract §4): markings on, sign and encrypt, file directory.
[classification]
enabled = true

[smime]
sign = true
encrypt = true
on_missing_certificate = "send_unencrypted"
on_directory_error = "reject"
key_store = "keys"
key_password_env = "MAILCORE_DEMO_KEY_PASSWORD"
trust_anchors = ["trust/root-ca.pem"]

[export]
contacts = true
contact_fields = "name_phone_email"
calendar = "meeting_time_location"

[directory]
source = "file"
file = "directory.ldif"
trust_anchors = ["trust/root-ca.pem"]
intermediates = ["trust/issuing-ca.pem"]
"""


def _ldif(identities: dict[str, Identity]) -> str:
    records = []
    for address in (*PEOPLE, WITHOUT_CERTIFICATE):
        uid = address.split("@")[0]
        lines = [f"dn: uid={uid},ou=people,dc=agency,dc=gov,dc=au", "objectClass: inetOrgPerson"]
        lines += [f"uid: {uid}", f"cn: {uid}", f"sn: {uid}", f"mail: {address}"]
        if address in identities:
            der = identities[address].certificate.public_bytes(Encoding.DER)
            lines.append(f"userCertificate;binary:: {pybase64.b64encode(der).decode()}")
        records.append("\n".join(lines) + "\n")
    return "\n".join(records)


def build_demo_folder(folder: Path) -> dict[str, Identity]:
    """Write the PKI, key store, directory and policy the demo runs on."""
    pki = TestPKI()
    identities = {address: pki.issue(address, "rsa2048") for address in PEOPLE}
    (folder / "keys").mkdir(parents=True, exist_ok=True)
    (folder / "trust").mkdir(exist_ok=True)
    for address, identity in identities.items():
        bundle = pkcs12.serialize_key_and_certificates(
            address.encode(),
            identity.key,  # type: ignore[arg-type]
            identity.certificate,
            list(identity.chain),
            BestAvailableEncryption(PASSWORD.encode()),
        )
        (folder / "keys" / f"{address}.p12").write_bytes(bundle)
    (folder / "trust" / "root-ca.pem").write_bytes(pki.root.certificate_pem())
    (folder / "trust" / "issuing-ca.pem").write_bytes(pki.issuing.certificate_pem())
    (folder / "directory.ldif").write_text(_ldif(identities))
    (folder / "policy.toml").write_text(POLICY)
    return identities


def _summary(report: dict[str, object]) -> str:
    encryption = report["encryption"] or {}
    assert isinstance(encryption, dict)
    marking = report["marking"] or {}
    assert isinstance(marking, dict)
    missing = ", ".join(f"{m['address']} ({m['reason']})" for m in encryption.get("missing", []))
    parts = [
        f"marking {marking.get('subject_tag')}",
        f"signed={report['signed']}",
        f"encrypted={report['encrypted']}",
        f"decision={encryption.get('decision')}",
    ]
    if missing:
        parts.append(f"missing: {missing}")
    return ", ".join(parts)


def run_pipeline_demo(folder: Path, samples: Path) -> None:
    import os

    build_demo_folder(folder)
    os.environ["MAILCORE_DEMO_KEY_PASSWORD"] = PASSWORD
    policy = load_policy(folder / "policy.toml")
    out = folder / "out"
    out.mkdir(exist_ok=True)
    print(f"   demo PKI, key store, LDIF directory and policy written to {folder}/")
    with Pipeline(policy) as pipeline:
        group = (
            (samples / "outgoing.eml")
            .read_bytes()
            .replace(
                b"To: Planning Team <planning@agency.gov.au>",
                b"To: Planning Team <planning@agency.gov.au>\r\nCc: sam.minister@cabinet.gov.au",
            )
        )
        result = pipeline.outbound(group)
        (out / "1-group-encrypted.eml").write_bytes(result.message)
        print("\n   a) group message, every recipient has a certificate:")
        print(f"      {_summary(result.report.to_dict())}")

        mixed = (
            (samples / "outgoing.eml")
            .read_bytes()
            .replace(
                b"To: Planning Team <planning@agency.gov.au>",
                f"To: planning@agency.gov.au, {WITHOUT_CERTIFICATE}".encode(),
            )
        )
        result = pipeline.outbound(mixed)
        (out / "2-group-unencrypted.eml").write_bytes(result.message)
        print(f"\n   b) group message, {WITHOUT_CERTIFICATE} has no certificate (all-or-nothing):")
        print(f"      {_summary(result.report.to_dict())}")
        for warning in result.report.warnings:
            print(f"      warning: {warning}")

        reply = pipeline.outbound(
            (samples / "reply.eml").read_bytes(),
            originals=[(samples / "original.eml").read_bytes()],
        )
        (out / "3-reply-protected.eml").write_bytes(reply.message)
        print("\n   c) reply to a PROTECTED//CABINET message, no marking chosen:")
        print(f"      {_summary(reply.report.to_dict())}")

        opened = pipeline.inbound(reply.message, user="sam.minister@cabinet.gov.au")
        (out / "4-reply-opened.eml").write_bytes(opened.message)
        print("\n   d) inbound: Sam's gateway opens the reply:")
        for layer in opened.report.layers:
            detail = layer.get("detail") or {}
            if layer["kind"] == "encrypted":
                print(f"      encrypted layer opened ({detail.get('cipher')})")
            else:
                signer = (detail.get("signers") or [{}])[0]
                print(f"      signature valid={detail.get('valid')} by {signer.get('email')}")
        marking = opened.report.marking or {}
        print(f"      marking read: {marking.get('subject_tag')}")
        unencrypted = (out / "2-group-unencrypted.eml").read_bytes()
        tampered = unencrypted.replace(b"revised figures", b"REVISED FIGURES")
        check = pipeline.inbound(tampered)
        layer = check.report.layers[0]
        print(
            f"      message b) changed in transit: signature ok={layer['ok']} "
            f"({layer['reason']}); returned with the failure in the report"
        )
    print(f"\n   messages written to {out}/")


def run_export_demo(folder: Path, samples: Path) -> None:
    """Contacts to vCard and events to iCalendar under the demo policy's [export]."""
    from mailcore.export import read_records, write_ical, write_vcards

    policy = load_policy(folder / "policy.toml")
    out = folder / "out"
    out.mkdir(parents=True, exist_ok=True)
    settings = policy.export
    print(
        f"   policy: contacts={settings.contacts} ({settings.contact_fields}), "
        f"calendar={settings.calendar!r} (the subject leaves as {settings.calendar_placeholder!r})"
    )
    with (out / "contacts.vcf").open("wb") as handle:
        contacts = write_vcards(read_records(samples / "contacts.json"), policy, handle)
    with (out / "calendar.ics").open("wb") as handle:
        events = write_ical(read_records(samples / "events.json"), policy, handle)
    print(f"   {contacts.records} contacts -> {out / 'contacts.vcf'}")
    print(f"   {events.records} event(s) -> {out / 'calendar.ics'}:")
    text = (out / "calendar.ics").read_text()
    event = text[text.index("BEGIN:VEVENT") : text.index("END:VEVENT")]
    for line in event.splitlines()[1:]:
        if line.split(":", 1)[0].split(";", 1)[0] in (
            "DTSTART",
            "RRULE",
            "EXDATE",
            "SUMMARY",
            "LOCATION",
        ):
            print(f"      {line}")
    print("      (no attendees, organiser, body or alarm: they are above the policy's level)")


def _demo_maildir(folder: Path, now: float) -> Path:
    """A Maildir with a year of mail: a few messages a day, a heavy last month."""
    import random

    maildir = folder / "mailbox" / "Maildir"
    for sub in ("cur", "new", "tmp", ".Projects/cur", ".Projects/new", ".Projects/tmp"):
        (maildir / sub).mkdir(parents=True, exist_ok=True)
    chooser = random.Random(2026)  # the same mailbox every time
    day = 86_400
    for number in range(3_000):
        age = chooser.random() ** 2.5 * 365 * day  # more recent mail than old mail
        received = int(now - age)
        size = int(chooser.lognormvariate(11.9, 1.0)) + 600
        box = maildir / (".Projects" if number % 5 == 0 else "") / "cur"
        name = f"{received}.M{number}P1.demo,S={size}:2,S"
        (box / name).write_bytes(b"")  # names carry time and size: no content needed
    return maildir


def run_sizing_demo(folder: Path) -> None:
    """Size a generated mailbox against the phone limits of [sync]."""
    import time

    from mailcore.sizing import render_table, size_mailboxes

    policy = load_policy(folder / "policy.toml")
    now = time.time()
    maildir = _demo_maildir(folder, now)
    report = size_mailboxes([maildir], now=now, policy=policy, attachments=False)
    (sizing,) = report.mailboxes
    print(f"   a generated Maildir of 3,000 messages in {maildir}:")
    for line in render_table(report).splitlines():
        print(f"   {line}" if line else "")
    print(
        f"   -> allow at most {sizing.recommended_window!r}: the largest window under both limits"
    )
