"""A real OpenLDAP ``slapd`` for the tests: 127.0.0.1, free ports, a throw-away mdb database.

``make test`` installs ``slapd`` and ``ldap-utils`` when they are missing; a
missing server is a test failure, never a skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SLAPD = "/usr/sbin/slapd"
SCHEMA_DIR = Path("/etc/ldap/schema")
MODULE_DIR = Path("/usr/lib/ldap")
ROOT_PASSWORD = "secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Database:
    suffix: str
    root_dn: str


@dataclass
class Slapd:
    """One slapd process with one or more mdb databases.

    ``tls`` is (certificate PEM, key PEM, CA PEM) to also listen on ldaps://.
    """

    databases: list[Database]
    schemas: tuple[str, ...] = ("core", "cosine", "inetorgperson")
    extra_schemas: tuple[Path, ...] = ()
    tls: tuple[bytes, bytes, bytes] | None = None
    # Equality indexes, as any real directory has on the attributes it is
    # searched by (AD indexes mail and proxyAddresses).
    indexes: tuple[str, ...] = ("objectClass eq", "mail eq", "cn eq")
    port: int = field(default_factory=free_port)
    tls_port: int = field(default_factory=free_port)
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mailcore-slapd-")))
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def tls_url(self) -> str:
        return f"ldaps://localhost:{self.tls_port}"

    def _config(self) -> str:
        lines = [f"include {SCHEMA_DIR / (name + '.schema')}" for name in self.schemas]
        lines += [f"include {path}" for path in self.extra_schemas]
        lines += [
            f"pidfile {self.folder / 'slapd.pid'}",
            f"modulepath {MODULE_DIR}",
            "moduleload back_mdb",
            "sizelimit unlimited",
        ]
        if self.tls is not None:
            certificate, key, ca = self.tls
            for name, pem in (("server.pem", certificate), ("server.key", key), ("ca.pem", ca)):
                (self.folder / name).write_bytes(pem)
            lines += [
                f"TLSCertificateFile {self.folder / 'server.pem'}",
                f"TLSCertificateKeyFile {self.folder / 'server.key'}",
                f"TLSCACertificateFile {self.folder / 'ca.pem'}",
            ]
        for index, database in enumerate(self.databases):
            data = self.folder / f"db{index}"
            data.mkdir(exist_ok=True)
            lines += [
                "database mdb",
                "maxsize 104857600",
                f'suffix "{database.suffix}"',
                f'rootdn "{database.root_dn}"',
                f"rootpw {ROOT_PASSWORD}",
                f"directory {data}",
                *(f"index {index}" for index in self.indexes),
                "access to * by * read",
            ]
        return "\n".join(lines) + "\n"

    def start(self) -> Slapd:
        if not os.access(SLAPD, os.X_OK) or shutil.which("ldapadd") is None:
            raise RuntimeError("slapd and ldap-utils are needed (make test installs them)")
        config = self.folder / "slapd.conf"
        config.write_text(self._config())
        listen = self.url + "/"
        if self.tls is not None:
            listen += f" ldaps://127.0.0.1:{self.tls_port}/"
        self.process = subprocess.Popen(
            [SLAPD, "-f", str(config), "-h", listen, "-d", "0"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"slapd exited: {error}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("slapd did not start listening")

    def add(self, ldif: str | bytes, database: int = 0) -> None:
        """Load entries with the real ``ldapadd`` over LDAP."""
        data = ldif.encode() if isinstance(ldif, str) else ldif
        result = subprocess.run(
            [
                "ldapadd",
                "-x",
                "-H",
                self.url,
                "-D",
                self.databases[database].root_dn,
                "-w",
                ROOT_PASSWORD,
            ],
            input=data,
            capture_output=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"ldapadd failed: {result.stderr.decode()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stderr is not None:
            self.process.stderr.close()

    def restart(self) -> None:
        """Start again on the same ports with the same data."""
        self.stop()
        self.process = None
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
