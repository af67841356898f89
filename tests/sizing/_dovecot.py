"""A throw-away Dovecot IMAP server on 127.0.0.1 (TLS only) for the tests.

Debian's ``dovecot-imapd`` (``make system-deps`` installs it).  The config,
certificate, users and mail live in a temporary folder; the server runs
as the current user when that is not root, else with Debian's ``dovecot``
and ``dovenull`` users (Dovecot refuses to run its login process as root).
"""

from __future__ import annotations

import datetime as dt
import imaplib
import ipaddress
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import time
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USERS = {"alice": "alice-secret", "bob": "bob-secret"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


class Dovecot:
    """A running server: ``host``, ``port``, ``cafile``; ``client(user)`` logs in."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.host = "127.0.0.1"
        self.port = _free_port()
        self.cafile, key = _certificate(directory)
        self.config = directory / "dovecot.conf"
        (directory / "users").write_text(
            "".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in USERS.items())
        )
        home = directory / "home"
        home.mkdir()
        root = os.getuid() == 0
        if root:
            internal, login = "dovecot", "dovenull"
            mail_user = pwd.getpwnam("dovecot")
            os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
            uid, gid = mail_user.pw_uid, mail_user.pw_gid
            directory.chmod(0o755)
        else:
            internal = login = pwd.getpwuid(os.getuid()).pw_name
            uid, gid = os.getuid(), os.getgid()
        self.home = home
        self.config.write_text(
            f"""
base_dir = {directory}/run
state_dir = {directory}/state
instance_name = mailcore-test-{self.port}
log_path = {directory}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{self.cafile}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain
auth_failure_delay = 0
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
first_valid_uid = 0
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {directory}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={home}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""
        )
        (directory / "users").chmod(0o644)
        self._run()
        deadline = time.monotonic() + 15
        while True:
            try:
                socket.create_connection((self.host, self.port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    log = directory / "dovecot.log"
                    text = log.read_text() if log.exists() else ""
                    raise RuntimeError(f"Dovecot did not start: {text}") from None
                time.sleep(0.05)

    def _run(self, *args: str) -> None:
        # The daemon inherits our descriptors: pipes would never reach EOF.
        with (self.directory / "start.log").open("ab") as log:
            subprocess.run(
                [DOVECOT, "-c", str(self.config), *args],
                check=True,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                timeout=30,
            )

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cafile))

    def client(self, user: str) -> imaplib.IMAP4_SSL:
        client = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=self.context(), timeout=10)
        try:
            client.login(user, USERS[user])
        except imaplib.IMAP4.error:
            client.shutdown()
            raise
        return client

    def maildir(self, user: str) -> Path:
        return self.home / user / "Maildir"

    def stop(self) -> None:
        # SIGTERM to the master (what "dovecot stop" sends) without waiting
        # the seconds it takes to confirm that every child has gone.
        pid_file = self.directory / "run" / "master.pid"
        try:
            os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
        except (OSError, ValueError):
            self._run("stop")
