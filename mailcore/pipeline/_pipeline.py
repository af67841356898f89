"""``Pipeline``: what a gateway calls for every message.

Outbound, in this order, each step per the policy: protective marking,
IRM restriction, signature with the sender's key, then encryption to every
recipient (and the sender) when the directory has a certificate for all of
them — the all-or-nothing rule of :func:`~mailcore.directory.plan_encryption`.
The plan comes first, so that a message the policy rejects is never signed.

Inbound: every S/MIME layer is peeled (decrypted with a key the store
holds, signatures verified against the trust anchors), then the marking and
the IRM rights are read.  A message whose signature does not verify is
still returned, with the failure in the report: the caller decides.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cryptography import x509

from mailcore._address import first_address
from mailcore._message import MessageInput, RawMessage, as_bytes
from mailcore.directory._base import CertificateDirectory
from mailcore.directory._open import open_directory
from mailcore.directory._plan import plan_encryption, recipients_of
from mailcore.errors import EncryptionRefused, MessageRefused
from mailcore.marking import apply_marking, read_marking
from mailcore.pipeline._keys import FolderKeyStore, KeyStore
from mailcore.pipeline._report import ProcessReport, ProcessResult
from mailcore.policy import Policy
from mailcore.smime._enveloped import encrypt_entity
from mailcore.smime._keys import load_certificates
from mailcore.smime._mime import join_entity, split_entity
from mailcore.smime._signed import sign_entity

__all__ = ["Pipeline"]


def _without_bcc(raw: RawMessage) -> RawMessage:
    # RFC 5322 §3.6.3: Bcc addresses must not reach the other recipients —
    # neither in the outer header nor inside the signed/encrypted content.
    fields = raw.find("bcc")
    return RawMessage(raw.replace_fields([(field, b"") for field in fields])) if fields else raw


class Pipeline:
    """Mark, protect, sign and encrypt outgoing mail; open and check incoming mail.

    Every dependency can be given: ``directory`` (any
    :class:`~mailcore.directory.CertificateDirectory`; default: the one the
    policy describes), ``keys`` (a :class:`KeyStore`; default: the policy's
    folder of PKCS #12 files, password from ``key_password_env``), ``trust``
    (anchors for inbound signatures; default: the policy's files).  One
    pipeline serves any number of threads at once.
    """

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        directory: CertificateDirectory | None = None,
        keys: KeyStore | None = None,
        trust: Sequence[x509.Certificate] | None = None,
        crls: Sequence[x509.CertificateRevocationList] = (),
        base: str | Path | None = None,
    ) -> None:
        self.policy = policy or Policy()
        if base is None and self.policy.source:
            base = Path(self.policy.source).resolve().parent
        self._base = Path(base) if base is not None else Path.cwd()
        self._directory = directory
        self.keys: KeyStore = keys or self._default_keys()
        self.trust = tuple(trust) if trust is not None else self._default_trust()
        self.crls = tuple(crls)

    def _path(self, name: str) -> Path:
        path = Path(name)
        return path if path.is_absolute() else self._base / path

    def _default_keys(self) -> KeyStore:
        password = os.environ.get(self.policy.smime.key_password_env)
        return FolderKeyStore(
            self._path(self.policy.smime.key_store),
            password=None if password is None else password.encode(),
        )

    def _default_trust(self) -> tuple[x509.Certificate, ...]:
        return tuple(
            certificate
            for name in self.policy.smime.trust_anchors
            for certificate in load_certificates(self._path(name).read_bytes())
        )

    @property
    def directory(self) -> CertificateDirectory:
        """The certificate directory (opened from the policy on first use)."""
        if self._directory is None:
            self._directory = open_directory(self.policy, base=self._base)
        return self._directory

    def close(self) -> None:
        if self._directory is not None:
            self._directory.close()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- outbound --------------------------------------------------------------------

    def outbound(
        self,
        message: MessageInput,
        *,
        sender: str | None = None,
        recipients: Sequence[str] | None = None,
        marking: str | None = None,
        originals: Sequence[MessageInput] = (),
        irm_template: str | None = None,
        at: datetime | None = None,
    ) -> ProcessResult:
        """Process an outgoing message; returns the bytes to send and the report.

        ``sender`` and ``recipients`` are the SMTP envelope when known (else
        From, and To/Cc/Bcc).  ``marking`` is the sender's chosen marking
        (default: the policy's, or the originals' on a reply/forward given in
        ``originals``).  Raises :class:`~mailcore.EncryptionRefused` when the
        policy rejects a message it cannot encrypt, :class:`~mailcore.MessageRefused`
        when it must be signed and the sender has no key, and
        :class:`~mailcore.DirectoryUnavailable` when the directory cannot
        answer (unless the policy lets the message go unencrypted then).
        """
        policy = self.policy
        data = as_bytes(message)
        raw = RawMessage(data)
        warnings: list[str] = []

        if policy.classification.enabled or marking is not None or originals:
            marked = apply_marking(raw, marking, policy=policy, originals=originals)
            data = marked.message
            warnings.extend(marked.warnings)
        # Asked after the marking, which has located the header fields.
        sender = sender or first_address(raw.first("From"))
        irm_report = None
        if irm_template is not None:
            # Imported here, as in inbound: a gateway without IRM never loads
            # the IRM code (start-up time of every `process` worker).
            from mailcore.irm import apply_restriction, read_rights

            data = apply_restriction(data, irm_template, policy)
            irm_report = read_rights(data, user=sender, policy=policy).to_dict()
        raw = RawMessage(data)  # one parse of the marked message for what follows
        raw.locate_all()  # every field is needed below (the MIME split): one pass
        marking_report = read_marking(raw).to_dict()

        plan = None
        if policy.smime.encrypt:
            plan = plan_encryption(
                data,
                directory=self.directory,
                policy=policy,
                recipients=recipients if recipients is not None else recipients_of(raw),
                sender=sender,
                at=at,
            )
            if plan.decision == "reject":
                report = ProcessReport(
                    "outbound",
                    marking=marking_report,
                    irm=irm_report,
                    decision="reject",
                    plan=plan,
                    warnings=tuple(warnings),
                )
                who = ", ".join(f"{m.address} ({m.reason})" for m in plan.missing)
                raise EncryptionRefused(
                    f"encryption is required and these recipients have no usable "
                    f"certificate: {who}",
                    report=report,
                )
        decision = "not_requested" if plan is None else plan.decision
        raw = _without_bcc(raw)
        data = raw.data
        # The message is split into outer fields and MIME entity once; the
        # signature and the encryption work on that split.
        protect = policy.smime.sign or (plan is not None and plan.encrypt)
        entity = split_entity(raw) if protect else None

        signed = False
        if policy.smime.sign:
            key = self.keys.signing_key(sender) if sender else None
            if key is None or key.certificate is None:
                report = ProcessReport(
                    "outbound", marking=marking_report, irm=irm_report, decision=decision,
                    plan=plan, warnings=tuple(warnings),
                )  # fmt: skip
                raise MessageRefused(
                    f"signing is required and there is no key for the sender {sender!r}",
                    report=report,
                )
            assert entity is not None
            entity = sign_entity(
                entity,
                key.key,
                key.certificate,
                chain=key.chain,
                digest=policy.smime.digest,
            )
            signed = True

        encrypted = False
        if plan is not None and plan.encrypt:
            cipher = None if policy.smime.cipher == "auto" else policy.smime.cipher
            assert entity is not None
            data = encrypt_entity(
                entity,
                plan.certificates,
                cipher=cipher,  # type: ignore[arg-type]
                oaep=policy.smime.oaep,
            )
            encrypted = True
        else:
            if signed:
                assert entity is not None
                data = join_entity(entity)
            if plan is not None:
                who = ", ".join(f"{m.address} ({m.reason})" for m in plan.missing)
                warnings.append(f"sent unencrypted to everyone: no usable certificate for {who}")

        report = ProcessReport(
            "outbound",
            marking=marking_report,
            irm=irm_report,
            signed=signed,
            encrypted=encrypted,
            decision=decision,
            plan=plan,
            warnings=tuple(warnings),
        )
        return ProcessResult(data, report)

    # -- inbound ---------------------------------------------------------------------

    def inbound(
        self, message: MessageInput, *, user: str | None = None, at: datetime | None = None
    ) -> ProcessResult:
        """Open an incoming message: decrypt, verify, then read marking and rights.

        The result's message is the opened content when every layer opened,
        else the message as it came; the report says what each layer did.
        """
        from mailcore.irm import read_rights
        from mailcore.smime._open import open_message

        data = as_bytes(message)
        keys = [(loaded.key, loaded.certificate) for loaded in self.keys.decryption_keys()]
        opened = open_message(data, keys=keys, trust=self.trust, at=at, crls=self.crls)
        content = opened.message if opened.message is not None else data
        warnings = [] if opened.ok else ["a layer did not open: see layers"]
        rights = read_rights(content, user=user, now=at, policy=self.policy)
        irm = rights.to_dict() if rights.protected else None
        report = ProcessReport(
            "inbound",
            marking=read_marking(content).to_dict(),
            irm=irm,
            signed=opened.signed,
            encrypted=opened.encrypted,
            layers=tuple(layer.to_dict() for layer in opened.layers),
            warnings=tuple(warnings),
        )
        return ProcessResult(content, report)
