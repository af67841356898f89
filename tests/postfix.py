"""A private Postfix for the tests: its own config, queue and ports on 127.0.0.1.

The after-queue content filter of Postfix's FILTER_README ("advanced content
filter"): mail received on ``port`` is queued, then handed over SMTP to the
filter at ``content_filter`` (a dedicated ``scan`` transport); the filter
sends the result back to ``reinject_port`` (an smtpd with ``content_filter``
off), and Postfix delivers it to ``relay``.  There is no local delivery:
Postfix's own notices (bounces) go straight to ``relay`` too; they skip the
filter, as ``internal_mail_filter_classes`` is empty by default.

The system instance in /etc/postfix is never used or touched: every command
gets ``-c folder``, and the queue, data and log live in ``folder``.  Postfix's
master daemon must start as root (it binds, then drops to ``mail_owner``);
``make test`` installs Debian's ``postfix`` when it is missing, and a
missing or unusable Postfix is a test failure, never a skip.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.slapd import free_port

POSTFIX = "/usr/sbin/postfix"
POSTQUEUE = "/usr/sbin/postqueue"

# master(5): service type private unpriv chroot wakeup maxproc command.  No
# chroot: a chroot would need copies of /etc files inside the queue folder.
_MASTER = """\
127.0.0.1:{port} inet n - n - - smtpd
127.0.0.1:{reinject_port} inet n - n - 10 smtpd
  -o content_filter=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters
  -o smtpd_helo_restrictions=
  -o smtpd_client_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_relay_restrictions=
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o mynetworks=127.0.0.0/8
  -o smtpd_authorized_xforward_hosts=127.0.0.0/8
scan unix - - n - 10 smtp
  -o smtp_send_xforward_command=yes
  -o disable_mime_output_conversion=yes
  -o smtp_generic_maps=
pickup unix n - n 60 1 pickup
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
rewrite unix - - n - - trivial-rewrite
bounce unix - - n - 0 bounce
defer unix - - n - 0 bounce
trace unix - - n - 0 bounce
verify unix - - n - 1 verify
flush unix n - n 1000? 0 flush
proxymap unix - - n - - proxymap
proxywrite unix - - n - 1 proxymap
smtp unix - - n - - smtp
relay unix - - n - - smtp
showq unix n - n - - showq
error unix - - n - - error
retry unix - - n - - error
discard unix - - n - - discard
anvil unix - - n - 1 anvil
scache unix - - n - 1 scache
postlog unix-dgram n - n - 1 postlogd
"""


@dataclass
class Postfix:
    """One private Postfix: ``port`` -> filter -> ``reinject_port`` -> ``relay``.

    ``content_filter`` and ``relay`` are ``HOST:PORT``.
    """

    content_filter: str
    relay: str
    port: int = field(default_factory=free_port)
    reinject_port: int = field(default_factory=free_port)
    hostname: str = "mta.test"
    folder: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="mailcore-postfix-"))
    )

    @property
    def config_directory(self) -> Path:
        return self.folder / "etc"

    @property
    def queue_directory(self) -> Path:
        return self.folder / "queue"

    @property
    def maillog(self) -> Path:
        return self.folder / "maillog"

    def _main_cf(self) -> str:
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": self.queue_directory,
            "data_directory": self.folder / "data",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "myhostname": self.hostname,
            "myorigin": "$myhostname",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            # Nothing is delivered locally: every address goes to the relay.
            "mydestination": "",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            "relayhost": f"[{self._host(self.relay)}]:{self._port(self.relay)}",
            # FILTER_README: every message goes through the filter once;
            # address mappings happen after it (on the reinjection smtpd).
            "content_filter": f"scan:[{self._host(self.content_filter)}]:"
            f"{self._port(self.content_filter)}",
            "receive_override_options": "no_address_mappings",
            # 127.0.0.1 only: no DNS (a container may have none).
            "smtp_dns_support_level": "disabled",
            "smtpd_peername_lookup": "no",
            # No logging to syslog (a container has none): postlogd writes here.
            "maillog_file": self.maillog,
            "maillog_file_prefixes": self.folder,
            "biff": "no",
            # The tests flush the queue themselves; no retry between.
            "queue_run_delay": "300s",
            "minimal_backoff_time": "300s",
        }
        return "".join(f"{name} = {value}\n" for name, value in settings.items())

    @staticmethod
    def _host(address: str) -> str:
        return address.rsplit(":", 1)[0]

    @staticmethod
    def _port(address: str) -> int:
        return int(address.rsplit(":", 1)[1])

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> Postfix:
        """Write main.cf and master.cf and start the master daemon."""
        if not os.access(POSTFIX, os.X_OK):
            raise RuntimeError(
                f"{POSTFIX} is needed: Debian's postfix package (make test installs it)"
            )
        if os.geteuid() != 0:
            raise RuntimeError(
                "Postfix's master daemon must be started as root (it drops to the "
                "postfix user itself); run the Postfix test as root"
            )
        # The daemons run as the postfix user and must reach the queue.
        self.folder.chmod(0o755)
        for directory in (self.config_directory, self.queue_directory):
            directory.mkdir(mode=0o755, exist_ok=True)
        (self.config_directory / "main.cf").write_text(self._main_cf())
        master = _MASTER.format(port=self.port, reinject_port=self.reinject_port)
        (self.config_directory / "master.cf").write_text(master)
        # ``postfix start`` creates the queue folders (post-install
        # create-missing) and waits until the master daemon is ready.
        result = self._run(POSTFIX, "-c", str(self.config_directory), "start")
        if result.returncode != 0:
            raise RuntimeError(f"postfix start failed: {result.stderr}{self.log()}")
        for port in (self.port, self.reinject_port):
            self._wait_listening(port)
        return self

    def _wait_listening(self, port: int, seconds: float = 20) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"postfix does not listen on {port}: {self.log()}")

    def log(self) -> str:
        """Postfix's own log (postlogd), for failure messages."""
        try:
            return self.maillog.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def queue(self) -> list[dict[str, Any]]:
        """The queue as ``postqueue -j`` lists it: one dict per message."""
        result = self._run(POSTQUEUE, "-c", str(self.config_directory), "-j")
        if result.returncode != 0:
            raise RuntimeError(f"postqueue -j failed: {result.stderr}")
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]

    def flush(self) -> None:
        """``postqueue -f``: attempt every queued message now."""
        result = self._run(POSTQUEUE, "-c", str(self.config_directory), "-f")
        if result.returncode != 0:
            raise RuntimeError(f"postqueue -f failed: {result.stderr}")

    def wait_for(
        self, what: str, check: Callable[[], bool], seconds: float = 20, pause: float = 0.05
    ) -> None:
        """Poll ``check`` until it holds; fail with the queue and log otherwise."""
        deadline = time.monotonic() + seconds
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what}; queue: {self.queue()}\n"
                    f"postfix log:\n{self.log()}"
                )
            time.sleep(pause)

    def _master_pid(self) -> int | None:
        try:
            return int((self.queue_directory / "pid" / "master.pid").read_text().split()[0])
        except (FileNotFoundError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """``postfix stop``; the master we started is killed if it lingers."""
        pid = self._master_pid()
        if pid is None:
            return
        self._run(POSTFIX, "-c", str(self.config_directory), "stop", timeout=30)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
