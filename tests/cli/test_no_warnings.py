"""No dependency warning ever reaches a user's stderr.

Two promises, each checked in a fresh interpreter run with ``-W error`` (so a
warning is an exception, whatever filter the dependency or the test runner
sets) and without ``PYTHONWARNINGS``:

1. every module of the package imports cleanly, and every name the lazy
   packages export (PEP 562, ``mailcore/_lazy.py``) resolves;
2. every command of the contract (§5), on valid input, exits 0 and writes
   nothing at all on stderr.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    pkcs12,
)

from benchmarks.sizing_data import generate_messages, write_maildir
from mailcore.demo._pipeline_demo import PASSWORD, build_demo_folder
from mailcore.smime import encrypt_message, sign_message
from mailcore.smime.pki import Identity, TestPKI

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "mailcore" / "demo"
KEY_PASSWORD_VALUE = "mailcore-test"
DNF = "cf5cf348-a8d7-40d5-91ef-a600b88a395d"  # Do Not Forward
NOW = "2026-11-21T12:00:00Z"
MESSAGE = (
    b"From: alice@example.com\r\nTo: bob@example.com\r\nSubject: Figures\r\n"
    b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
    b"Hello Bob,\r\nthe figures are attached.\r\n"
)
FROM_BOB = MESSAGE.replace(b"From: alice@", b"From: bob@").replace(b"To: bob@", b"To: alice@")
LICENSE = f"""<rm:RightsManagementLicense xmlns:rm="RightsManagement">
  <rm:EditAllowed>1</rm:EditAllowed><rm:ReplyAllowed>1</rm:ReplyAllowed>
  <rm:ReplyAllAllowed>1</rm:ReplyAllAllowed><rm:ForwardAllowed>0</rm:ForwardAllowed>
  <rm:ModifyRecipientsAllowed>0</rm:ModifyRecipientsAllowed><rm:ExtractAllowed>0</rm:ExtractAllowed>
  <rm:PrintAllowed>0</rm:PrintAllowed><rm:ExportAllowed>0</rm:ExportAllowed>
  <rm:ProgrammaticAccessAllowed>1</rm:ProgrammaticAccessAllowed><rm:Owner>0</rm:Owner>
  <rm:ContentExpiryDate>2026-12-01T00:00:00.000Z</rm:ContentExpiryDate>
  <rm:TemplateID>{DNF}</rm:TemplateID><rm:TemplateName>Do Not Forward</rm:TemplateName>
  <rm:TemplateDescription>No forwarding.</rm:TemplateDescription>
  <rm:ContentOwner>a@example.com</rm:ContentOwner>
</rm:RightsManagementLicense>
"""


def clean_env(extra: Mapping[str, str] = {}) -> dict[str, str]:
    """The test's environment without PYTHONWARNINGS, running this checkout."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONWARNINGS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def run_python(
    *args: str | Path,
    stdin: bytes = b"",
    env: Mapping[str, str] = {},
    cwd: Path = REPO,
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-W", "error", *map(str, args)],
        input=stdin,
        capture_output=True,
        timeout=60,
        check=False,
        cwd=cwd,
        env=clean_env(env),
    )


def assert_clean(result: subprocess.CompletedProcess[bytes]) -> None:
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 0, (
        f"exit {result.returncode}, stderr:\n{stderr}\nstdout:\n{result.stdout[:2000]!r}"
    )
    assert result.stderr == b"", f"stderr not empty:\n{stderr}"


# -- 1. imports ---------------------------------------------------------------

# Modules that cannot be imported on their own, each with its reason; any
# other module found on disk must be imported by the walk.
NOT_IMPORTED = {
    # ``python -m mailcore``: runs the command line (and os._exit) when
    # imported; what it imports is mailcore.cli, imported by the walk, and
    # running it is what the command tests below do.
    "mailcore.__main__",
}
# The packages with PEP 562 lazy exports (mailcore/_lazy.py) the brief names;
# the walk forces the __all__ of every module, these included.
LAZY_PACKAGES = ("mailcore", "mailcore.smime", "mailcore.irm", "mailcore.marking")

IMPORT_SCRIPT = """
import importlib, json, pkgutil, sys

lazy, skip = json.loads(sys.argv[1]), set(json.loads(sys.argv[2]))
resolved = {}

def force(name):
    # Every exported name, so that a lazy package imports each submodule.
    module = importlib.import_module(name)
    resolved[name] = [getattr(module, export) is not None for export in module.__all__]

# The lazy packages first, each loading its submodules on first use.
for name in lazy:
    force(name)

def onerror(name):
    raise  # walk_packages would otherwise skip a package that fails to import

import mailcore

imported = ["mailcore"]
for info in pkgutil.walk_packages(mailcore.__path__, "mailcore.", onerror=onerror):
    if info.name in skip:
        continue
    importlib.import_module(info.name)
    imported.append(info.name)
for name in imported:
    if hasattr(sys.modules[name], "__all__"):
        force(name)
json.dump(
    {
        "file": mailcore.__file__,
        "imported": imported,
        "resolved": {name: len(flags) for name, flags in resolved.items()},
        "lazy": sorted(name for name in imported if "__getattr__" in vars(sys.modules[name])),
    },
    sys.stdout,
)
"""


def modules_on_disk() -> set[str]:
    names = set()
    for path in (REPO / "mailcore").rglob("*.py"):
        parts = path.relative_to(REPO).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_every_module_imports_without_a_warning() -> None:
    result = run_python(
        "-c", IMPORT_SCRIPT, json.dumps(LAZY_PACKAGES), json.dumps(sorted(NOT_IMPORTED))
    )
    assert_clean(result)
    report = json.loads(result.stdout)
    assert Path(report["file"]) == REPO / "mailcore" / "__init__.py"  # this checkout
    # Nothing skipped silently: the walk imported every module on disk but those named.
    on_disk = modules_on_disk()
    assert NOT_IMPORTED <= on_disk
    assert set(report["imported"]) == on_disk - NOT_IMPORTED
    # The lazy packages are lazy, and every name they export was read.
    assert set(LAZY_PACKAGES) <= set(report["lazy"])
    for name in report["lazy"]:
        assert report["resolved"].get(name, 0) > 0, name


# -- 2. commands --------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """A command line (shell words); ``{d}`` is the inputs folder, ``{out}`` this test's
    output file."""

    args: str
    expect: bytes = b""  # must be in the output file if the command writes {out}, else stdout
    fields: Mapping[str, object] = field(default_factory=dict)  # stdout is JSON with these
    stdin: str | None = None  # a file under {d} fed on stdin
    env: Mapping[str, str] = field(default_factory=dict)
    module: str = "mailcore"
    in_tmp: bool = False  # run in this test's own folder (the demo writes there)


KEY_PASSWORD = {"MC_KEY_PASSWORD": KEY_PASSWORD_VALUE}
DEMO_PASSWORD = {"MAILCORE_DEMO_KEY_PASSWORD": PASSWORD}
SIGN = "smime sign --key {d}/alice.key.pem --cert {d}/alice.crt.pem"
VERIFY = "smime verify --trust {d}/root.pem"
WORLD = "--policy {d}/world/policy.toml"  # the demo's: file directory, PKCS #12 key store
SIZE = f"size {{d}}/maildir --now {NOW}"

CASES: dict[str, Case] = {
    "help": Case("--help", b"usage: mailcore"),
    "version": Case("--version", b"mailcore "),
    "demo": Case("", b"mailcore demo", module="mailcore.demo", in_tmp=True),
    # marking
    "marking-show": Case("marking show {d}/original.eml", fields={"sec": "PROTECTED"}),
    "marking-show-stdin": Case("marking show", fields={"marked": True}, stdin="original.eml"),
    "marking-apply": Case(
        "marking apply --marking PROTECTED {d}/outgoing.eml -o {out}", b"SEC=PROTECTED"
    ),
    "marking-apply-reply": Case(
        "marking apply --original {d}/original.eml {d}/reply.eml", b"CAVEAT=SH:CABINET"
    ),
    "marking-check": Case("marking check --max SECRET {d}/original.eml", fields={"passed": True}),
    # smime sign
    "smime-sign": Case(
        f"{SIGN} --chain {{d}}/chain.pem {{d}}/plain.eml -o {{out}}", b"multipart/signed"
    ),
    "smime-sign-opaque": Case(f"{SIGN} --opaque {{d}}/plain.eml", b"smime-type=signed-data"),
    "smime-sign-pss": Case(f"{SIGN} --pss --digest sha384 {{d}}/plain.eml", b"multipart/signed"),
    "smime-sign-p256": Case(
        "smime sign --key {d}/bob.key.pem --cert {d}/bob.crt.pem {d}/plain.eml",
        b"multipart/signed",
    ),
    "smime-sign-ed25519": Case(
        "smime sign --key {d}/carol.key.pem --cert {d}/carol.crt.pem {d}/plain.eml",
        b"multipart/signed",
    ),
    "smime-sign-pkcs12": Case(
        "smime sign --key {d}/alice.p12 --cert {d}/alice.crt.pem --password-env MC_KEY_PASSWORD"
        " {d}/plain.eml",
        b"multipart/signed",
        env=KEY_PASSWORD,
    ),
    # smime encrypt
    "smime-encrypt": Case(
        "smime encrypt --recipient {d}/alice.crt.pem {d}/plain.eml -o {out}",
        b"smime-type=enveloped-data",
    ),
    "smime-encrypt-oaep-gcm": Case(
        "smime encrypt --recipient {d}/alice.crt.pem --oaep --cipher aes-256-gcm {d}/plain.eml",
        b"smime-type=authEnveloped-data",
    ),
    "smime-encrypt-p256": Case(
        "smime encrypt --recipient {d}/bob.crt.pem {d}/plain.eml", b"smime-type=enveloped-data"
    ),
    # smime decrypt
    "smime-decrypt-pem": Case(
        "smime decrypt --key {d}/alice.key.pem {d}/to-alice.eml -o {out}",
        b"the figures are attached",
    ),
    "smime-decrypt-pem-cert": Case(
        "smime decrypt --key {d}/alice.key.pem --cert {d}/alice.crt.pem {d}/to-alice.eml",
        b"the figures are attached",
    ),
    "smime-decrypt-pem-encrypted": Case(
        "smime decrypt --key {d}/alice.key-encrypted.pem --password-env MC_KEY_PASSWORD"
        " {d}/to-alice.eml",
        b"the figures are attached",
        env=KEY_PASSWORD,
    ),
    "smime-decrypt-pkcs12": Case(
        "smime decrypt --key {d}/alice.p12 --password-env MC_KEY_PASSWORD {d}/to-alice.eml",
        b"the figures are attached",
        env=KEY_PASSWORD,
    ),
    "smime-decrypt-p256": Case(
        "smime decrypt --key {d}/bob.key.pem {d}/to-bob.eml", b"the figures are attached"
    ),
    # smime verify
    "smime-verify": Case(f"{VERIFY} {{d}}/signed.eml", fields={"valid": True, "reason": None}),
    "smime-verify-content": Case(
        f"{VERIFY} {{d}}/signed.eml -o {{out}}", b"the figures are attached"
    ),
    "smime-verify-opaque-crl": Case(
        f"{VERIFY} --crl {{d}}/issuing.crl.pem --intermediate {{d}}/chain.pem"
        " {d}/signed-opaque.eml",
        fields={"valid": True},
    ),
    "smime-verify-p256": Case(f"{VERIFY} {{d}}/signed-p256.eml", fields={"valid": True}),
    # directory, process
    "directory-lookup": Case(
        f"{WORLD} directory lookup planning@agency.gov.au contractor@partner.example",
        b"planning@agency.gov.au",
    ),
    "process-outbound": Case(
        f"{WORLD} process --direction outbound {{d}}/to-planning.eml -o {{out}}",
        b"application/pkcs7-mime",
        env=DEMO_PASSWORD,
    ),
    "process-outbound-report": Case(
        f"{WORLD} process --marking PROTECTED --report {{out}} {{d}}/to-planning.eml",
        b'"encrypted": true',
        env=DEMO_PASSWORD,
    ),
    "process-inbound": Case(
        f"{WORLD} process --direction inbound {{d}}/processed.eml -o {{out}}",
        b"revised figures",
        env=DEMO_PASSWORD,
    ),
    # irm
    "irm-show-license": Case(
        f"irm show --now {NOW} {{d}}/license.xml", fields={"protected": True, "template_id": DNF}
    ),
    "irm-show-message": Case(
        "irm show --user alice@contoso.com {d}/irm.eml", fields={"protected": True, "owner": True}
    ),
    "irm-apply": Case(
        "--policy {d}/irm.toml irm apply --template 'Do Not Forward' {d}/plain.eml -o {out}",
        DNF.encode(),
    ),
    # export
    "export-vcard-3.0": Case(
        f"{WORLD} export vcard --now {NOW} {{d}}/contacts.json -o {{out}}", b"VERSION:3.0"
    ),
    "export-vcard-4.0": Case(
        f"{WORLD} export vcard --vcard-version 4.0 --now {NOW} {{d}}/contacts.json",
        b"VERSION:4.0",
    ),
    "export-ical": Case(
        f"{WORLD} export ical --now {NOW} {{d}}/events.json -o {{out}}", b"BEGIN:VEVENT"
    ),
    "export-ical-timezone-stdin": Case(
        f"{WORLD} export ical --default-timezone Australia/Sydney --now {NOW} -",
        b"BEGIN:VEVENT",
        stdin="events.json",
    ),
    # size
    "size-table": Case(f"{SIZE} --format table", b"maildir"),
    "size-json": Case(f"{SIZE} --format json", fields={"now": NOW}),
    "size-csv": Case(f"{SIZE} --format csv -o {{out}}", b"window"),
    "size-html": Case(f"{SIZE} --format html -o {{out}}", b"<table"),
    # vectors
    "vectors-marking": Case("vectors run vectors/marking/check.json", b" passed, 0 failed"),
    "vectors-smime-keys": Case("vectors run vectors/smime/keys.json", b" passed, 0 failed"),
}


def _write_key(path: Path, identity: Identity) -> None:
    path.write_bytes(identity.key_pem())
    path.with_name(path.name.replace(".key.pem", ".crt.pem")).write_bytes(
        identity.certificate_pem()
    )


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every command's valid input, made once."""
    folder = tmp_path_factory.mktemp("inputs")
    pki = TestPKI()
    alice = pki.issue("alice@example.com", "rsa2048")
    bob = pki.issue("bob@example.com", "p256")
    carol = pki.issue("carol@example.com", "ed25519", usage="signing")
    for name, identity in (("alice", alice), ("bob", bob), ("carol", carol)):
        _write_key(folder / f"{name}.key.pem", identity)
    (folder / "alice.key-encrypted.pem").write_bytes(
        alice.key.private_bytes(
            Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(KEY_PASSWORD_VALUE.encode())
        )
    )
    (folder / "alice.p12").write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"alice",
            alice.key,  # type: ignore[arg-type]
            alice.certificate,
            list(alice.chain),
            BestAvailableEncryption(KEY_PASSWORD_VALUE.encode()),
        )
    )
    (folder / "chain.pem").write_bytes(alice.chain_pem())
    (folder / "root.pem").write_bytes(pki.root.certificate_pem())
    (folder / "issuing.crl.pem").write_bytes(pki.crl().public_bytes(Encoding.PEM))
    (folder / "plain.eml").write_bytes(MESSAGE)
    chain = list(alice.chain)
    (folder / "signed.eml").write_bytes(
        sign_message(MESSAGE, alice.key, alice.certificate, chain=chain)
    )
    (folder / "signed-opaque.eml").write_bytes(
        sign_message(MESSAGE, alice.key, alice.certificate, chain=chain, opaque=True)
    )
    (folder / "signed-p256.eml").write_bytes(
        sign_message(FROM_BOB, bob.key, bob.certificate, chain=list(bob.chain))
    )
    (folder / "to-alice.eml").write_bytes(encrypt_message(MESSAGE, [alice.certificate]))
    (folder / "to-bob.eml").write_bytes(encrypt_message(MESSAGE, [bob.certificate]))

    for name in ("original.eml", "outgoing.eml", "reply.eml", "contacts.json", "events.json"):
        (folder / name).write_bytes((DEMO / name).read_bytes())
    (folder / "license.xml").write_text(LICENSE, encoding="utf-8")
    (folder / "irm.eml").write_bytes(
        b"From: alice@contoso.com\r\nTo: bob@fabrikam.com\r\nSubject: Plans\r\n"
        b"Microsoft.Exchange.RMSApaAgent.ProtectionTemplateId: " + DNF.encode() + b"\r\n\r\n"
        b"Body text.\r\n"
    )
    (folder / "irm.toml").write_text("[irm]\nenabled = true\n", encoding="utf-8")

    # The demo's world: policy with a file directory, a PKCS #12 key store.
    build_demo_folder(folder / "world")
    outgoing = (DEMO / "outgoing.eml").read_bytes()
    assert b"planning@agency.gov.au" in outgoing
    (folder / "to-planning.eml").write_bytes(outgoing)
    outbound = f"{WORLD} process {{d}}/to-planning.eml -o {{d}}/processed.eml"
    processed = run_python("-m", "mailcore", *outbound.format(d=folder).split(), env=DEMO_PASSWORD)
    assert_clean(processed)

    write_maildir(
        folder / "maildir", generate_messages(30, seed=7, now=1_795_300_000, span_days=45)
    )
    return folder


@pytest.mark.parametrize("name", list(CASES))
def test_command_succeeds_without_a_warning(name: str, inputs: Path, tmp_path: Path) -> None:
    case = CASES[name]
    out = tmp_path / "out"
    words = shlex.split(case.args)
    args = [word.format(d=inputs, out=out) for word in words]
    stdin = (inputs / case.stdin).read_bytes() if case.stdin else b""
    cwd = tmp_path if case.in_tmp else REPO
    result = run_python("-m", case.module, *args, stdin=stdin, env=case.env, cwd=cwd)
    assert_clean(result)
    writes_file = "{out}" in words
    produced = out.read_bytes() if writes_file else result.stdout
    assert produced, "no output"
    assert case.expect in produced, produced[:2000]
    if case.fields:
        document = json.loads(result.stdout)
        assert {key: document.get(key) for key in case.fields} == dict(case.fields)
