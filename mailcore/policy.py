"""The policy file: what an administrator decided, as immutable values.

The sections and keys mirror the policies a mobile-mail deployment already
knows (contract §4).  Every key has a default, a missing file means all
defaults, and an unknown section or key is an error that names it.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from mailcore._units import SYNC_WINDOWS, parse_size
from mailcore.errors import MarkingListError, PolicyError
from mailcore.marking._list import MarkingsList, default_markings, parse_markings_list
from mailcore.marking._vocab import parse_version

__all__ = [
    "ClassificationPolicy",
    "DirectoryPolicy",
    "ExportPolicy",
    "IrmPolicy",
    "Policy",
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


@dataclass(frozen=True, slots=True)
class DirectoryPolicy:
    """``[directory]``: where recipients' certificates come from."""

    source: Literal["ldap", "file"] = "file"
    server: tuple[str, ...] = ("ldap://127.0.0.1:389",)
    base_dn: str = ""
    anonymous: bool = True
    file: str = "directory.ldif"


@dataclass(frozen=True, slots=True)
class IrmPolicy:
    """``[irm]``: Information Rights Management."""

    enabled: bool = False


@dataclass(frozen=True, slots=True)
class ExportPolicy:
    """``[export]``: what contacts and calendar data may leave."""

    contacts: bool = False
    calendar: str = "meeting_time_location"


@dataclass(frozen=True, slots=True)
class SyncPolicy:
    """``[sync]``: sync windows and the device's limits."""

    max_sync_interval: str = "all"
    default_sync_interval: str = "3d"
    max_messages: int = 18000
    max_bytes: int = 600 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Policy:
    """A whole policy file.  ``Policy()`` is the embedded default."""

    classification: ClassificationPolicy = field(default_factory=ClassificationPolicy)
    smime: SmimePolicy = field(default_factory=SmimePolicy)
    directory: DirectoryPolicy = field(default_factory=DirectoryPolicy)
    irm: IrmPolicy = field(default_factory=IrmPolicy)
    export: ExportPolicy = field(default_factory=ExportPolicy)
    sync: SyncPolicy = field(default_factory=SyncPolicy)
    source: str | None = field(default=None, compare=False)


def load_policy(path: str | os.PathLike[str] | None) -> Policy:
    """Load a TOML policy file; ``None`` or a missing file gives the defaults."""
    if path is None:
        return Policy()
    location = Path(path)
    if not location.exists():
        return Policy(source=str(location))
    try:
        with location.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise PolicyError(f"not valid TOML: {error}", where=str(location)) from None
    except UnicodeDecodeError as error:
        raise PolicyError(
            f"not UTF-8 (TOML files are UTF-8): byte {error.start}", where=str(location)
        ) from None
    except OSError as error:
        raise PolicyError(f"cannot be read: {error.strerror}", where=str(location)) from None
    return policy_from_mapping(data, source=str(location))


def policy_from_mapping(data: Mapping[str, Any], *, source: str | None = None) -> Policy:
    """Build a policy from parsed TOML (or any mapping of the same shape)."""
    where = source or "policy"
    sections: dict[str, Any] = {}
    builders: dict[str, Callable[[Mapping[str, Any], str], Any]] = {
        "classification": _classification,
        "smime": _plain(SmimePolicy),
        "directory": _directory,
        "irm": _plain(IrmPolicy),
        "export": _export,
        "sync": _sync,
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
    return DirectoryPolicy(**out)


def _export(values: Mapping[str, Any], where: str) -> ExportPolicy:
    out = _typed_values(ExportPolicy, "export", values, where)
    if "calendar" in out:
        _choice("export", "calendar", out["calendar"], _CALENDAR_LEVELS, where)
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
