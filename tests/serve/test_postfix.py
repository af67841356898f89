"""End to end with a real Postfix: ``content_filter`` to ``mailcore serve`` (issue 9).

smtplib -> Postfix smtpd (queue) -> ``scan`` transport -> ``python -m mailcore
serve`` -> Postfix reinjection smtpd (queue) -> relayhost -> aiosmtpd sink,
the after-queue pattern of Postfix's FILTER_README.  What the filter answers
decides what Postfix does: 250 the message goes on, 5yz Postfix bounces it
to the sender (RFC 3464 DSN), no answer at all (filter down) Postfix keeps it
in its queue and delivers it once the filter is back.

Postfix is a private instance (tests/postfix.py), never the system's one.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509

from mailcore.demo._pipeline_demo import PASSWORD, POLICY
from mailcore.smime import decrypt_message, verify_message
from tests.pipeline.conftest import CONTRACTOR, JO, PLANNING, SAM, World
from tests.postfix import Postfix
from tests.serve.conftest import Received, Sink, message_id, send
from tests.slapd import free_port
from tests.smime.conftest import run_openssl

REPO = Path(__file__).resolve().parents[2]
BODY = "The revised figures are in the shared folder.\r\n"
# A sender in the internal domain without a signing key: outbound, and the
# policy's sign = true cannot be met, a policy refusal (550 5.7.1).
KEYLESS = "nobody@agency.gov.au"
# The Australian Government email protective marking standard's default
# marking (the demo policy: classification on, no marking chosen).
MARKING_FIELD = b"X-Protective-Marking: VER=2024.1, NS=gov.au, SEC=UNOFFICIAL"
SUBJECT_TAG = b"Subject: Budget planning [SEC=UNOFFICIAL]"


@dataclass
class Serve:
    """``python -m mailcore --policy FILE serve`` as a subprocess."""

    policy: Path
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = None
    stderr: list[Path] = field(default_factory=list)

    def start(self) -> Serve:
        errors = self.log.with_name(f"serve-stderr-{len(self.stderr)}.txt")
        self.stderr.append(errors)
        with errors.open("wb") as stream:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "mailcore", "--policy", str(self.policy), "serve",
                 "--log", str(self.log)],
                cwd=REPO,
                env={**os.environ, "MAILCORE_DEMO_KEY_PASSWORD": PASSWORD},
                stdout=subprocess.DEVNULL,
                stderr=stream,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"mailcore serve exited with {self.process.returncode}: "
                    f"{errors.read_text(errors='replace')}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("mailcore serve did not start listening")

    def stop(self) -> int | None:
        """SIGTERM (graceful: messages in flight finish); the exit status."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise

    def records(self) -> list[dict[str, Any]]:
        """The JSON log's per-message lines."""
        lines = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [line for line in lines if line["event"] == "message"]


@dataclass
class Site:
    """The whole chain: Postfix in front of the filter, the sink behind Postfix."""

    postfix: Postfix
    serve: Serve
    sink: Sink

    def submit(self, sender: str, recipients: Sequence[str], data: bytes) -> str:
        """Hand a message to Postfix's smtpd; Postfix's queue id."""
        answer = send(self.postfix.port, sender, recipients, data)
        assert answer.code == 250, answer
        # Postfix's reply to the final dot: "2.0.0 Ok: queued as <ID>".
        found = re.search(r"queued as ([0-9A-Za-z]+)", answer.text)
        assert found is not None, answer.text
        return found.group(1)

    def copies(self, message_ids: Sequence[str]) -> dict[str, list[Received]]:
        with self.sink.lock:
            messages = list(self.sink.messages)
        return {
            wanted: [m for m in messages if message_id(m.data) == wanted] for wanted in message_ids
        }

    def in_queue(self, queue_ids: Sequence[str]) -> list[dict[str, Any]]:
        return [entry for entry in self.postfix.queue() if entry["queue_id"] in queue_ids]

    def delivered(self, message_ids: Sequence[str]) -> None:
        """Wait until every message reached the sink and Postfix's queue is empty.

        Once Postfix's queue is empty nothing is left to deliver: a copy
        counted then is a final count (exactly once, or not).
        """
        self.postfix.wait_for(
            f"{list(message_ids)} at the sink",
            lambda: all(self.copies(message_ids).values()) and not self.postfix.queue(),
        )


def make(message_id: str, *, sender: str = JO, to: Sequence[str] = (PLANNING,),
         bcc: Sequence[str] = (), body: str = BODY) -> bytes:  # fmt: skip
    lines = [f"From: <{sender}>", f"To: {', '.join(to)}"]
    if bcc:
        lines.append(f"Bcc: {', '.join(bcc)}")
    lines += [
        "Subject: Budget planning",
        "Date: Sat, 21 Nov 2026 09:00:00 +1100",
        f"Message-ID: {message_id}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
        body,
    ]
    return "\r\n".join(lines).encode()


def header(data: bytes) -> bytes:
    return data.split(b"\r\n\r\n", 1)[0]


@pytest.fixture(scope="module")
def site(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("postfix-site")
    sink = Sink().start()
    serve_port = free_port()
    postfix = Postfix(content_filter=f"127.0.0.1:{serve_port}", relay=sink.address)
    # The policy next to the demo's keys and directory (its paths are relative).
    policy = world.folder / f"serve-postfix-{serve_port}.toml"
    policy.write_text(
        POLICY + f'\n[serve]\nlisten = "127.0.0.1:{serve_port}"\n'
        f'relay = "127.0.0.1:{postfix.reinject_port}"\n'
        'internal_domains = ["agency.gov.au"]\nhostname = "filter.test"\nrelay_timeout = 10\n'
    )
    serve = Serve(policy, serve_port, folder / "serve.log")
    try:
        postfix.start()
        serve.start()
        yield Site(postfix, serve, sink)
    finally:
        try:
            serve.stop()
        finally:
            postfix.remove()
            sink.stop()


def root_certificate(world: World) -> x509.Certificate:
    return x509.load_pem_x509_certificate(world.root_pem.read_bytes())


class TestThroughPostfix:
    def test_encrypted_signed_marked_without_bcc(self, world: World, site: Site) -> None:
        mid = "<bcc@agency.gov.au>"
        site.submit(JO, [PLANNING, SAM], make(mid, to=[PLANNING], bcc=[SAM]))
        site.delivered([mid])
        [received] = site.copies([mid])[mid]
        assert received.sender == JO
        assert sorted(received.recipients) == sorted([PLANNING, SAM])
        top = header(received.data)
        # It went through the filter and back into Postfix: the reinjection
        # smtpd's Received field names the filter's EHLO.
        assert b"from filter.test" in top
        assert MARKING_FIELD in top and SUBJECT_TAG in top
        assert b"application/pkcs7-mime" in top
        assert BODY.encode() not in received.data
        # RFC 5322 §3.6.3: the Bcc recipient is in no header anyone sees.
        assert not re.search(rb"(?im)^bcc:", top) and SAM.encode() not in top
        for address in (PLANNING, SAM):
            identity = world.identities[address]
            opened = decrypt_message(received.data, identity.key, identity.certificate)
            # The signer must be the outer From (RFC 8550 §3).
            verdict = verify_message(opened.content, trust=[root_certificate(world)], sender=JO)
            assert verdict.valid, verdict
            inner = header(opened.content)
            assert BODY.encode() in opened.content
            assert not re.search(rb"(?im)^bcc:", inner) and SAM.encode() not in inner
        [record] = [r for r in site.serve.records() if r["message_id"] == mid]
        assert record["direction"] == "outbound" and record["decision"] == "accepted"

    def test_openssl_decrypts_and_verifies(
        self, world: World, site: Site, openssl: str, tmp_path: Path
    ) -> None:
        mid = "<openssl@agency.gov.au>"
        site.submit(JO, [SAM], make(mid, to=[SAM]))
        site.delivered([mid])
        [received] = site.copies([mid])[mid]
        sam = world.identities[SAM]
        (tmp_path / "m.eml").write_bytes(received.data)
        (tmp_path / "key.pem").write_bytes(sam.key_pem())
        (tmp_path / "cert.pem").write_bytes(sam.certificate_pem())
        decrypted = run_openssl(
            openssl, "cms", "-decrypt", "-in", tmp_path / "m.eml",
            "-inkey", tmp_path / "key.pem", "-recip", tmp_path / "cert.pem",
        )  # fmt: skip
        (tmp_path / "signed.eml").write_bytes(decrypted)
        content = run_openssl(
            openssl, "cms", "-verify", "-in", tmp_path / "signed.eml",
            "-CAfile", world.root_pem, "-certfile", world.folder / "trust" / "issuing-ca.pem",
        )  # fmt: skip
        assert BODY.strip().encode() in content

    def test_clear_signed_survives_postfix(self, world: World, site: Site) -> None:
        # No certificate for the contractor: signed, not encrypted (the demo
        # policy's send_unencrypted).  Postfix must not change a byte of it.
        mid = "<signed@agency.gov.au>"
        site.submit(JO, [CONTRACTOR], make(mid, to=[CONTRACTOR]))
        site.delivered([mid])
        [received] = site.copies([mid])[mid]
        assert b"multipart/signed" in header(received.data)
        verdict = verify_message(received.data, trust=[root_certificate(world)])
        assert verdict.valid, verdict

    def test_many_messages_exactly_once(self, site: Site) -> None:
        numbers = range(24)
        mids = [f"<many{n}@agency.gov.au>" for n in numbers]
        errors: list[BaseException] = []

        def client(first: int) -> None:
            try:
                for n in range(first, len(mids), 4):
                    site.submit(JO, [PLANNING], make(mids[n]))
            except BaseException as error:  # reported below
                errors.append(error)

        clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join(timeout=60)
        assert errors == []
        site.delivered(mids)
        copies = site.copies(mids)
        assert {mid: len(found) for mid, found in copies.items()} == dict.fromkeys(mids, 1)
        assert all(b"application/pkcs7-mime" in c[0].data for c in copies.values())


class TestPostfixActsOnTheAnswer:
    def test_policy_refusal_is_bounced_to_the_sender(self, site: Site) -> None:
        mid = "<refused@agency.gov.au>"
        queue_id = site.submit(KEYLESS, [PLANNING], make(mid, sender=KEYLESS))

        def bounces() -> list[Received]:
            with site.sink.lock:
                return [m for m in site.sink.messages
                        if m.recipients == (KEYLESS,) and mid.encode() in m.data]  # fmt: skip

        site.postfix.wait_for("the bounce at the sink", lambda: bool(bounces()))
        [bounce] = bounces()
        # RFC 3464: a DSN from the null sender, multipart/report with a
        # delivery-status part giving the filter's permanent failure.
        assert bounce.sender == "<>"
        assert b"report-type=delivery-status" in header(bounce.data)
        text = bounce.data.replace(b"\r\n ", b" ")
        assert b"Action: failed" in text and b"Status: 5.7.1" in text
        assert b"550 5.7.1 Message refused by policy" in text
        # Nothing went to the recipient, and Postfix keeps no copy to retry.
        assert site.copies([mid])[mid] == []
        site.postfix.wait_for("an empty queue", lambda: not site.in_queue([queue_id]))
        [record] = [r for r in site.serve.records() if r["message_id"] == mid]
        assert record["decision"] == "rejected" and record["reply"] == "550 5.7.1"

    def test_filter_down_postfix_keeps_then_delivers_once(self, site: Site) -> None:
        assert site.serve.stop() == 0
        try:
            mids = [f"<down{n}@agency.gov.au>" for n in range(3)]
            queue_ids = [site.submit(JO, [PLANNING], make(mid)) for mid in mids]

            def deferred() -> list[dict[str, Any]]:
                return [e for e in site.in_queue(queue_ids) if e["queue_name"] == "deferred"]

            site.postfix.wait_for("deferred copies", lambda: len(deferred()) == len(mids))
            for entry in deferred():
                [recipient] = entry["recipients"]
                assert recipient["address"] == PLANNING
                assert "Connection refused" in recipient["delay_reason"]
            assert site.copies(mids) == {mid: [] for mid in mids}
        finally:
            site.serve.start()
        # The same port again; Postfix retries when told (its backoff is 300 s).
        site.postfix.flush()
        site.delivered(mids)
        assert {mid: len(found) for mid, found in site.copies(mids).items()} == dict.fromkeys(
            mids, 1
        )
