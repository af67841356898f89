"""The policy file: what an administrator decided, as immutable values.

The sections and keys mirror the policies a mobile-mail deployment already
knows (contract §4).  Every key has a default, a missing file means all
defaults, and an unknown section or key is an error that names it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from mailcore._units import SYNC_WINDOWS, parse_size
from mailcore.errors import MarkingListError, PolicyError
from mailcore.irm._model import DO_NOT_FORWARD, ENCRYPT_ONLY, RestrictionProfile
from mailcore.marking._list import MarkingsList, default_markings, parse_markings_list
from mailcore.marking._vocab import parse_version

__all__ = [
    "ClassificationPolicy",
    "DirectoryPolicy",
    "ExportPolicy",
    "IrmPolicy",
    "Policy",
    "ServePolicy",
    "SmimePolicy",
    "SyncPolicy",
    "load_policy",
    "policy_from_mapping",
]

Downgrade = Literal["reject", "warn", "allow"]
_NAMESPACE = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\Z"
)
_CIPHERS = ("auto", "aes-256-gcm", "aes-128-gcm", "aes-256-cbc", "aes-128-cbc")
_CALENDAR_LEVELS = (
    "off",
    "meeting_time",
    "meeting_time_location",
    "meeting_time_location_subject",
    "all",
)
_CONTACT_FIELDS = ("all", "name_phone", "name_phone_email")


@dataclass(frozen=True, slots=True)
class ClassificationPolicy:
    """``[classification]``: the "Email classification" policies."""

    enabled: bool = False
    namespace: str = "gov.au"
    version: str = "2024.1"
    default: str = "UNOFFICIAL"
    markings: MarkingsList = field(default_factory=lambda: default_markings("2024.1"))
    downgrade: Downgrade = "reject"


@dataclass(frozen=True, slots=True)
class SmimePolicy:
    """``[smime]``: signing and encryption defaults."""

    sign: bool = False
    encrypt: bool = False
    on_missing_certificate: Literal["send_unencrypted", "reject"] = "send_unencrypted"
    on_directory_error: Literal["reject", "send_unencrypted"] = "reject"
    # Content cipher: "auto" chooses per RFC 8551 §2.7 from what the
    # recipients are known to support; a name forces that cipher.
    cipher: str = "auto"
    # RSA key transport: RSAES-OAEP instead of PKCS#1 v1.5.
    oaep: bool = False
    digest: str = "sha256"
    # Add the sender's own certificate to the recipients, so that the sent
    # copy stays readable; the sender then counts for the all-or-nothing rule.
    encrypt_to_sender: bool = True
    # Senders' keys for signing, and recipients' keys for inbound decryption:
    # a folder of PKCS #12 files named by address (alice@example.com.p12).
    key_store: str = "keys"
    # The PKCS #12 password comes from this environment variable, never the file.
    key_password_env: str = "MAILCORE_KEY_PASSWORD"
    # Trust anchors for verifying inbound signatures (certificate files).
    trust_anchors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DirectoryPolicy:
    """``[directory]``: where recipients' certificates come from, and which to trust."""

    source: Literal["ldap", "file"] = "file"
    server: tuple[str, ...] = ("ldap://127.0.0.1:389",)
    """LDAP servers, tried in order (failover)."""
    base_dn: str = ""
    anonymous: bool = True
    bind_dn: str = ""
    """Simple-bind DN when ``anonymous = false``."""
    password_env: str = "MAILCORE_LDAP_PASSWORD"
    """The environment variable holding the bind password (never the file)."""
    starttls: bool = False
    """Upgrade ``ldap://`` connections with StartTLS (certificate verified)."""
    ca_file: str = ""
    """CA certificates (PEM) that verify the LDAP server; empty: the system's."""
    filter: str = "(mail={address})"
    """Search filter template; ``{address}`` is replaced by the escaped
    address.  AD's other form: ``(proxyAddresses=smtp:{address})``."""
    batch_size: int = 50
    """Addresses per OR filter (one search per chunk)."""
    size_limit: int = 1000
    time_limit: int = 10
    """Server-side limits of one search (entries, seconds)."""
    connect_timeout: float = 5.0
    search_timeout: float = 10.0
    """Seconds to wait for a connection, and for a search's answer."""
    pool_size: int = 4
    """Connections kept open per directory, shared by threads."""
    cache_ttl: float = 3600.0
    negative_cache_ttl: float = 300.0
    """Seconds a found / not-found answer is reused (0 turns caching off)."""
    file: str = "directory.ldif"
    trust_anchors: tuple[str, ...] = ()
    """CA certificate files; when given, recipients' certificates must chain to them."""
    intermediates: tuple[str, ...] = ()
    crls: tuple[str, ...] = ()
    """CRL files (PEM/DER); a certificate they list is rejected as revoked."""
    min_rsa_bits: int = 2048
    """RSA keys shorter than this are rejected as ``weak_key``."""


@dataclass(frozen=True, slots=True)
class IrmPolicy:
    """``[irm]``: Information Rights Management.

    ``templates`` are the restriction profiles senders may apply (MS-ASRM
    Settings RightsManagementTemplates: at most 20); by default the built-in
    Do Not Forward and Encrypt-Only.
    """

    enabled: bool = False
    templates: tuple[RestrictionProfile, ...] = (DO_NOT_FORWARD, ENCRYPT_ONLY)


@dataclass(frozen=True, slots=True)
class ExportPolicy:
    """``[export]``: what contacts and calendar data may leave."""

    # Citrix "Export contacts" (default Off): off refuses contact export and
    # vCard sharing alike.
    contacts: bool = False
    # "Contact fields to export": all | name_phone | name_phone_email.
    contact_fields: str = "all"
    # "Export Calendar": the disclosure ladder, lowest first (_CALENDAR_LEVELS);
    # "off" (the default) refuses calendar export.
    calendar: str = "off"
    # SUMMARY of every event when the subject may not leave.
    calendar_placeholder: str = "Busy"


@dataclass(frozen=True, slots=True)
class SyncPolicy:
    """``[sync]``: sync windows and the device's limits."""

    max_sync_interval: str = "all"
    default_sync_interval: str = "3d"
    max_messages: int = 18000
    max_bytes: int = 600 * 1024 * 1024
    # Length of the "1 month" window (FilterType 5): [MS-ASCMD] does not fix
    # it; Z-Push's GetCutOffDate uses 31 days.  28-31.
    month_days: int = 31


@dataclass(frozen=True, slots=True)
class ServePolicy:
    """``[serve]``: ``mailcore serve``, the SMTP content filter (after-queue).

    The MTA hands each message to ``listen``; the result goes to ``relay``
    (the MTA's re-injection port).  Addresses are ``HOST:PORT`` (``[::1]:25``
    for IPv6); sizes accept ``10MiB``/``10MB``/bytes; times are seconds.
    """

    listen: str = "127.0.0.1:10025"
    relay: str = "127.0.0.1:10026"
    direction: Literal["auto", "outbound", "inbound"] = "auto"
    """``auto``: outbound when the envelope sender's domain is internal, else inbound."""
    internal_domains: tuple[str, ...] = ()
    """Domains whose senders are ours (``example.org``; ``.example.org`` for subdomains)."""
    max_message_size: int = 50 * 1024 * 1024
    """Bytes (SMTP SIZE, RFC 1870); more gets 552.  At least the MTA's own
    limit (Postfix message_size_limit defaults to 10,240,000)."""
    max_recipients: int = 1000
    """Per transaction; more gets 452 (RFC 5321 §4.5.3.1.10; Postfix's default)."""
    max_sessions: int = 20
    """Concurrent SMTP sessions; more get 421 (match the MTA's maxproc)."""
    workers: int = 0
    """Processes running the pipeline (threads when a library caller passes a
    ``Pipeline`` object); 0: the number of CPUs."""
    max_line_length: int = 1000
    """Octets per line with CRLF (RFC 5321 §4.5.3.1.6); longer lines get 500."""
    session_timeout: float = 300.0
    """Idle seconds before a session is closed (RFC 5321 §4.5.3.2.7: 5 minutes)."""
    process_timeout: float = 120.0
    """Seconds the pipeline may take for one message, waiting for a worker
    included; then 451 (the MTA retries), and a worker stuck on it is replaced."""
    relay_timeout: float = 60.0
    """Seconds per SMTP step with the next hop; then 451."""
    shutdown_timeout: float = 150.0
    """Seconds SIGTERM waits for messages in flight; then those not yet sent to
    the next hop get 421 and are not relayed (one whose final dot went out is
    still awaited, at most ``relay_timeout``)."""
    hostname: str = ""
    """Name in the greeting and in EHLO to the next hop; empty: this host's name."""
    tls_certificate: str = ""
    tls_key: str = ""
    """PEM files; when given, STARTTLS is offered (RFC 3207)."""
    require_tls: bool = False
    """Refuse mail before STARTTLS (530); needs a certificate."""

    @property
    def listen_address(self) -> tuple[str, int]:
        """``listen`` as (host, port)."""
        return _host_port("listen", self.listen)

    @property
    def relay_address(self) -> tuple[str, int]:
        """``relay`` as (host, port)."""
        return _host_port("relay", self.relay)


@dataclass(frozen=True, slots=True)
class Policy:
    """A whole policy file.  ``Policy()`` is the embedded default."""

    classification: ClassificationPolicy = field(default_factory=ClassificationPolicy)
    smime: SmimePolicy = field(default_factory=SmimePolicy)
    directory: DirectoryPolicy = field(default_factory=DirectoryPolicy)
    irm: IrmPolicy = field(default_factory=IrmPolicy)
    export: ExportPolicy = field(default_factory=ExportPolicy)
    sync: SyncPolicy = field(default_factory=SyncPolicy)
    serve: ServePolicy = field(default_factory=ServePolicy)
    source: str | None = field(default=None, compare=False)
    """The file the policy was read from (None: built-in defaults or a mapping)."""
    sha256: str | None = field(default=None, compare=False)
    """Hex SHA-256 of that file's bytes, so a log can show which policy ran."""


MAX_POLICY_SIZE = 1 << 20
"""The largest policy file read (1 MiB; real ones are a few KB)."""


def load_policy(path: str | os.PathLike[str] | None) -> Policy:
    """Load a TOML policy file; ``None`` gives the built-in defaults.

    A named file that does not exist or cannot be read raises
    :class:`PolicyError` (the CLI's exit 2): a mistyped ``--policy`` must
    never turn a gateway into a plaintext relay with the defaults.
    """
    if path is None:
        return Policy()
    location = Path(path)
    if not location.exists():
        raise PolicyError(
            "the policy file does not exist (with no --policy the built-in defaults apply)",
            where=str(location),
        )
    if not location.is_file():
        raise PolicyError("the policy file is not a regular file", where=str(location))
    try:
        with location.open("rb") as handle:
            # A policy is a page of TOML; a bound keeps a wrong path cheap.
            raw = handle.read(MAX_POLICY_SIZE + 1)
    except OSError as error:
        raise PolicyError(f"cannot be read: {error.strerror}", where=str(location)) from None
    if len(raw) > MAX_POLICY_SIZE:
        raise PolicyError(
            f"the policy file is larger than {MAX_POLICY_SIZE} bytes", where=str(location)
        )
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise PolicyError(
            f"not UTF-8 (TOML files are UTF-8): byte {error.start}", where=str(location)
        ) from None
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"not valid TOML: {error}", where=str(location)) from None
    except RecursionError:
        raise PolicyError("not valid TOML: nested too deeply", where=str(location)) from None
    policy = policy_from_mapping(data, source=str(location))
    return dataclasses.replace(policy, sha256=hashlib.sha256(raw).hexdigest())


def policy_from_mapping(data: Mapping[str, Any], *, source: str | None = None) -> Policy:
    """Build a policy from parsed TOML (or any mapping of the same shape)."""
    where = source or "policy"
    sections: dict[str, Any] = {}
    builders: dict[str, Callable[[Mapping[str, Any], str], Any]] = {
        "classification": _classification,
        "smime": _plain(SmimePolicy),
        "directory": _directory,
        "irm": _irm,
        "export": _export,
        "sync": _sync,
        "serve": _serve,
    }
    for name, value in data.items():
        builder = builders.get(name)
        if builder is None:
            raise PolicyError(
                f"unknown section [{name}]; known: {', '.join(builders)}",
                key=name,
                where=where,
            )
        if not isinstance(value, Mapping):
            raise PolicyError(f"[{name}] must be a table", key=name, where=where)
        sections[name] = builder(value, where)
    return Policy(**sections, source=source)


# -- sections ------------------------------------------------------------------


def _typed_values(
    cls: type, section: str, values: Mapping[str, Any], where: str
) -> dict[str, Any]:
    """Check names and basic types against the dataclass's defaults."""
    known = {f.name: f for f in fields(cls)}
    default = cls()
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in known:
            raise PolicyError(
                f"unknown key {key!r} in [{section}]; known: {', '.join(known)}",
                key=f"{section}.{key}",
                where=where,
            )
        expected = getattr(default, key)
        if isinstance(expected, bool):
            if not isinstance(value, bool):
                _wrong(section, key, "true or false", value, where)
        elif isinstance(expected, str) and not isinstance(value, str):
            _wrong(section, key, "a string", value, where)
        out[key] = value
    return out


def _wrong(section: str, key: str, expected: str, value: Any, where: str) -> None:
    raise PolicyError(
        f"{section}.{key} must be {expected}, not {value!r}",
        key=f"{section}.{key}",
        where=where,
    )


def _choice(section: str, key: str, value: Any, allowed: tuple[str, ...], where: str) -> None:
    if value not in allowed:
        _wrong(section, key, "one of " + ", ".join(repr(a) for a in allowed), value, where)


def _plain(cls: type) -> Callable[[Mapping[str, Any], str], Any]:
    def build(values: Mapping[str, Any], where: str) -> Any:
        section = cls.__name__.removesuffix("Policy").lower()
        out = _typed_values(cls, section, values, where)
        if cls is SmimePolicy and "trust_anchors" in out:
            anchors = out["trust_anchors"]
            anchors = [anchors] if isinstance(anchors, str) else anchors
            if not isinstance(anchors, list) or not all(isinstance(a, str) and a for a in anchors):
                _wrong(section, "trust_anchors", "a file name or a list of them", anchors, where)
            out["trust_anchors"] = tuple(anchors)
        if cls is SmimePolicy:
            if "on_missing_certificate" in out:
                _choice(
                    section,
                    "on_missing_certificate",
                    out["on_missing_certificate"],
                    ("send_unencrypted", "reject"),
                    where,
                )
            if "on_directory_error" in out:
                _choice(
                    section,
                    "on_directory_error",
                    out["on_directory_error"],
                    ("reject", "send_unencrypted"),
                    where,
                )
            if "cipher" in out:
                _choice(section, "cipher", out["cipher"], _CIPHERS, where)
            if "digest" in out:
                _choice(section, "digest", out["digest"], ("sha256", "sha384", "sha512"), where)
        return cls(**out)

    return build


def _classification(values: Mapping[str, Any], where: str) -> ClassificationPolicy:
    out = _typed_values(ClassificationPolicy, "classification", values, where)
    out.pop("markings", None)
    namespace = out.get("namespace", "gov.au")
    if not _NAMESPACE.match(namespace):
        # It is written into every X-Protective-Marking: a domain-like name,
        # nothing that could add fields or break the header.
        _wrong(
            "classification", "namespace", "a domain-like name such as 'gov.au'", namespace, where
        )
    version = out.get("version", "2024.1")
    if parse_version(version) is None:
        _wrong("classification", "version", "a version like '2024.1'", version, where)
    if "downgrade" in out:
        _choice(
            "classification", "downgrade", out["downgrade"], ("reject", "warn", "allow"), where
        )
    raw_markings = values.get("markings")
    if raw_markings is None:
        markings = default_markings(version)
    elif not isinstance(raw_markings, str):
        _wrong("classification", "markings", "a 'display,value;...' string", raw_markings, where)
        raise AssertionError  # unreachable: _wrong raises
    else:
        try:
            markings = parse_markings_list(raw_markings, version=version)
        except MarkingListError as error:
            raise MarkingListError(
                error.detail, key=error.key, where=f"{where}: {error.where}"
            ) from None
    default = out.get("default")
    if default is None:
        default = (
            markings.entries[0].display
            if "UNOFFICIAL" not in [e.display for e in markings]
            else "UNOFFICIAL"
        )
    elif markings.find(default) is None:
        raise PolicyError(
            f"classification.default {default!r} is not in the markings list",
            key="classification.default",
            where=where,
        )
    out["default"] = default
    return ClassificationPolicy(markings=markings, **out)


def _directory(values: Mapping[str, Any], where: str) -> DirectoryPolicy:
    raw = dict(values)
    server = raw.pop("server", None)
    lists = {key: raw.pop(key) for key in ("trust_anchors", "intermediates", "crls") if key in raw}
    numbers = {
        key: raw.pop(key)
        for key in (
            "batch_size",
            "size_limit",
            "time_limit",
            "pool_size",
            "connect_timeout",
            "search_timeout",
            "cache_ttl",
            "negative_cache_ttl",
            "min_rsa_bits",
        )
        if key in raw
    }
    out = _typed_values(DirectoryPolicy, "directory", raw, where)
    if "source" in out:
        _choice("directory", "source", out["source"], ("ldap", "file"), where)
    if server is not None:
        if isinstance(server, str):
            server = (server,)
        elif isinstance(server, list) and server and all(isinstance(s, str) for s in server):
            server = tuple(server)
        else:
            _wrong("directory", "server", "an address or a list of addresses", server, where)
        for address in server:
            if not address.startswith(("ldap://", "ldaps://")):
                _wrong("directory", "server", "ldap:// or ldaps:// addresses", address, where)
        out["server"] = server
    for list_key, value in lists.items():
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            _wrong("directory", list_key, "a file name or a list of file names", value, where)
        out[list_key] = tuple(value)
    for key_name, value in numbers.items():
        key: str = key_name
        whole = key in ("batch_size", "size_limit", "time_limit", "pool_size", "min_rsa_bits")
        if isinstance(value, bool) or not isinstance(value, int if whole else int | float):
            _wrong("directory", key, "a whole number" if whole else "a number", value, where)
        positive = key in ("batch_size", "pool_size", "connect_timeout", "search_timeout")
        if value < 0 or (positive and value == 0):
            _wrong("directory", key, "greater than 0" if positive else "0 or more", value, where)
        out[key] = value if whole else float(value)
    if "filter" in out:
        _check_filter_template(out["filter"], where)
    variable = out.get("password_env", "MAILCORE_LDAP_PASSWORD")
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
        _wrong("directory", "password_env", "an environment variable name", variable, where)
    return DirectoryPolicy(**out)


def _has_no_address_test(template: str) -> bool:
    from mailcore.directory._filter import FilterTemplate

    try:
        FilterTemplate.parse(template)
    except ValueError:
        return True
    return False


def _check_filter_template(template: str, where: str) -> None:
    # The template must compare one attribute with the address (so that a
    # batched answer can be mapped back to each address) and be balanced.
    depth = 0
    for character in template:
        depth += {"(": 1, ")": -1}.get(character, 0)
        if depth < 0:
            break
    if (
        template.count("{address}") != 1
        or _has_no_address_test(template)
        or depth != 0
        or not template.startswith("(")
    ):
        _wrong(
            "directory",
            "filter",
            "an LDAP filter with one '(attribute={address})' equality test",
            template,
            where,
        )


def _irm(values: Mapping[str, Any], where: str) -> IrmPolicy:
    raw = dict(values)
    templates = raw.pop("templates", None)
    out = _typed_values(IrmPolicy, "irm", raw, where)
    if templates is not None:
        from mailcore.irm._policy import templates_from_config

        out["templates"] = templates_from_config(templates, where)
    return IrmPolicy(**out)


def _export(values: Mapping[str, Any], where: str) -> ExportPolicy:
    out = _typed_values(ExportPolicy, "export", values, where)
    if "calendar" in out:
        _choice("export", "calendar", out["calendar"], _CALENDAR_LEVELS, where)
    if "contact_fields" in out:
        _choice("export", "contact_fields", out["contact_fields"], _CONTACT_FIELDS, where)
    placeholder = out.get("calendar_placeholder")
    if placeholder is not None and (
        not placeholder.strip() or any(ord(c) < 0x20 or ord(c) == 0x7F for c in placeholder)
    ):
        # It is written as every event's SUMMARY: one line of visible text.
        _wrong("export", "calendar_placeholder", "one line of text", placeholder, where)
    return ExportPolicy(**out)


def _sync(values: Mapping[str, Any], where: str) -> SyncPolicy:
    raw = dict(values)
    out: dict[str, Any] = {}
    for key in ("max_sync_interval", "default_sync_interval"):
        if key in raw:
            _choice("sync", key, raw.pop(key), tuple(SYNC_WINDOWS), where)
            out[key] = values[key]
    if "max_messages" in raw:
        count = raw.pop("max_messages")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            _wrong("sync", "max_messages", "a whole number of messages", count, where)
        out["max_messages"] = count
    if "max_bytes" in raw:
        size = raw.pop("max_bytes")
        try:
            out["max_bytes"] = parse_size(size)
        except (ValueError, TypeError) as error:
            raise PolicyError(
                f"sync.max_bytes: {error}", key="sync.max_bytes", where=where
            ) from None
    if "month_days" in raw:
        days = raw.pop("month_days")
        if isinstance(days, bool) or not isinstance(days, int) or not 28 <= days <= 31:
            _wrong("sync", "month_days", "a whole number of days from 28 to 31", days, where)
        out["month_days"] = days
    _typed_values(SyncPolicy, "sync", raw, where)  # names any unknown key
    result = SyncPolicy(**out)
    windows = list(SYNC_WINDOWS)  # in order, "all" last
    if windows.index(result.default_sync_interval) > windows.index(result.max_sync_interval):
        raise PolicyError(
            f"sync.default_sync_interval {result.default_sync_interval!r} is longer than "
            f"sync.max_sync_interval {result.max_sync_interval!r}",
            key="sync.default_sync_interval",
            where=where,
        )
    return result


_SERVE_DOMAIN = re.compile(
    r"\.?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\Z"
)
_SERVE_HOST_PORT = re.compile(r"(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):([0-9]{1,5})\Z")


def _host_port(key: str, text: str) -> tuple[str, int]:
    match = _SERVE_HOST_PORT.match(text)
    port = int(match.group(3)) if match else -1
    if match is None or not 0 <= port <= 65535:
        raise PolicyError(
            f"serve.{key} must be HOST:PORT (e.g. 127.0.0.1:10025 or [::1]:10025), not {text!r}",
            key=f"serve.{key}",
        )
    return match.group(1) or match.group(2), port


def _serve(values: Mapping[str, Any], where: str) -> ServePolicy:
    raw = dict(values)
    out: dict[str, Any] = {}
    if "internal_domains" in raw:
        domains = raw.pop("internal_domains")
        domains = [domains] if isinstance(domains, str) else domains
        if not isinstance(domains, list) or not all(
            isinstance(d, str) and _SERVE_DOMAIN.match(d) for d in domains
        ):
            _wrong("serve", "internal_domains", "a list of domain names", domains, where)
        out["internal_domains"] = tuple(d.lower() for d in domains)
    if "max_message_size" in raw:
        size = raw.pop("max_message_size")
        try:
            out["max_message_size"] = parse_size(size)
        except ValueError as error:
            raise PolicyError(
                f"serve.max_message_size: {error}", key="serve.max_message_size", where=where
            ) from None
        if out["max_message_size"] < 1024:
            _wrong("serve", "max_message_size", "at least 1KiB", size, where)
    # (key, smallest value): whole numbers, then seconds.
    for key, least in (
        ("max_recipients", 1),
        ("max_sessions", 1),
        ("workers", 0),
        # RFC 5321 §4.5.3.1.6: a server must take 1000-octet lines.
        ("max_line_length", 1000),
    ):
        if key in raw:
            value = raw.pop(key)
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                _wrong("serve", key, f"a whole number of at least {least}", value, where)
            out[key] = value
    for key in ("session_timeout", "process_timeout", "relay_timeout", "shutdown_timeout"):
        if key in raw:
            value = raw.pop(key)
            if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
                _wrong("serve", key, "a number of seconds greater than 0", value, where)
            out[key] = float(value)
    out.update(_typed_values(ServePolicy, "serve", raw, where))
    if "direction" in out:
        _choice("serve", "direction", out["direction"], ("auto", "outbound", "inbound"), where)
    for key in ("listen", "relay"):
        if key in out:
            try:
                _host_port(key, out[key])
            except PolicyError as error:
                raise PolicyError(error.detail, key=error.key, where=where) from None
    hostname = out.get("hostname", "")
    if hostname and (hostname.startswith(".") or not _SERVE_DOMAIN.match(hostname)):
        # It is sent in the greeting and in EHLO: a host name, nothing else.
        _wrong("serve", "hostname", "a host name", out["hostname"], where)
    result = ServePolicy(**out)
    if bool(result.tls_certificate) != bool(result.tls_key):
        raise PolicyError(
            "serve.tls_certificate and serve.tls_key go together (both PEM files)",
            key="serve.tls_certificate" if not result.tls_certificate else "serve.tls_key",
            where=where,
        )
    if result.require_tls and not result.tls_certificate:
        raise PolicyError(
            "serve.require_tls needs serve.tls_certificate and serve.tls_key",
            key="serve.require_tls",
            where=where,
        )
    return result
