"""The directory a policy describes."""

from __future__ import annotations

import os
from pathlib import Path

from mailcore.directory._base import CertificateDirectory
from mailcore.directory._cache import LookupCache
from mailcore.directory._file import FileDirectory
from mailcore.directory._select import CertificateSelector
from mailcore.errors import PolicyError
from mailcore.policy import DirectoryPolicy, Policy

__all__ = ["open_directory"]


def open_directory(
    policy: Policy | DirectoryPolicy, *, base: str | Path | None = None
) -> CertificateDirectory:
    """A :class:`FileDirectory` or :class:`LdapDirectory` per ``[directory]``.

    Relative file names (the LDIF file, trust anchors, CRLs) are taken
    relative to ``base`` (default: the policy file's folder, else the
    current one).  The bind password comes from the environment variable
    ``password_env`` names, never from the policy file.
    """
    section = policy.directory if isinstance(policy, Policy) else policy
    if base is None and isinstance(policy, Policy) and policy.source:
        base = Path(policy.source).resolve().parent
    folder = Path(base) if base is not None else Path.cwd()
    selector = CertificateSelector.from_files(
        trust_anchors=section.trust_anchors,
        intermediates=section.intermediates,
        crls=section.crls,
        min_rsa_bits=section.min_rsa_bits,
        base=folder,
    )
    cache = LookupCache(positive_ttl=section.cache_ttl, negative_ttl=section.negative_cache_ttl)
    if section.source == "file":
        path = Path(section.file)
        if not path.is_absolute():
            path = folder / path
        return FileDirectory(path, filter=section.filter, selector=selector, cache=cache)
    password: str | None = None
    bind_dn: str | None = None
    if not section.anonymous:
        if not section.bind_dn:
            raise PolicyError(
                "directory.anonymous = false needs directory.bind_dn", key="directory.bind_dn"
            )
        password = os.environ.get(section.password_env)
        if password is None:
            raise PolicyError(
                f"the LDAP bind password is read from the environment variable "
                f"{section.password_env}, which is not set",
                key="directory.password_env",
            )
        bind_dn = section.bind_dn
    # ldap3 (and pyasn1) are loaded only for a directory that uses them.
    from mailcore.directory._ldap import LdapDirectory

    return LdapDirectory(
        section.server,
        base_dn=section.base_dn,
        filter=section.filter,
        bind_dn=bind_dn,
        password=password,
        starttls=section.starttls,
        ca_file=_resolve(section.ca_file, folder),
        batch_size=section.batch_size,
        size_limit=section.size_limit,
        time_limit=section.time_limit,
        connect_timeout=section.connect_timeout,
        search_timeout=section.search_timeout,
        pool_size=section.pool_size,
        selector=selector,
        cache=cache,
    )


def _resolve(name: str, folder: Path) -> str | None:
    if not name:
        return None
    path = Path(name)
    return str(path if path.is_absolute() else folder / path)
