"""Recipients' encryption certificates, and the all-or-nothing encryption decision.

Certificates are looked up the way Active Directory publishes them
(``userCertificate;binary``, also ``userSMIMECertificate``), in LDAP
(:class:`LdapDirectory`) or in an LDIF file or folder of certificates
(:class:`FileDirectory`)::

    from mailcore.directory import open_directory, plan_encryption

    directory = open_directory(policy)            # per [directory]
    report = directory.lookup(["alice@example.com"])
    report.to_dict()                               # JSON C
    plan = plan_encryption(message, directory=directory, policy=policy)
    plan.decision                                  # "encrypt", "send_unencrypted" or "reject"
"""

from typing import TYPE_CHECKING, Any

from mailcore.directory._base import CertificateDirectory, normalise_address
from mailcore.directory._cache import LookupCache
from mailcore.directory._file import FileDirectory
from mailcore.directory._filter import FilterTemplate, escape_filter_value
from mailcore.directory._ldif import LdifEntry, read_ldif
from mailcore.directory._memory import MemoryDirectory
from mailcore.directory._model import (
    REJECTION_REASONS,
    LookupReport,
    LookupResult,
    LookupStatus,
    Rejection,
    RejectionReason,
)
from mailcore.directory._open import open_directory
from mailcore.directory._plan import (
    Decision,
    EncryptionPlan,
    MissingRecipient,
    plan_encryption,
    recipients_of,
)
from mailcore.directory._select import CertificateSelector, addresses_of

if TYPE_CHECKING:
    from mailcore.directory._ldap import LdapDirectory

__all__ = [
    "REJECTION_REASONS",
    "CertificateDirectory",
    "CertificateSelector",
    "Decision",
    "EncryptionPlan",
    "FileDirectory",
    "FilterTemplate",
    "LdapDirectory",
    "LdifEntry",
    "LookupCache",
    "LookupReport",
    "LookupResult",
    "LookupStatus",
    "MemoryDirectory",
    "MissingRecipient",
    "Rejection",
    "RejectionReason",
    "addresses_of",
    "escape_filter_value",
    "normalise_address",
    "open_directory",
    "plan_encryption",
    "read_ldif",
    "recipients_of",
]


def __getattr__(name: str) -> Any:
    # ldap3 and pyasn1 take a noticeable share of start-up: loaded on first use.
    if name == "LdapDirectory":
        from mailcore.directory._ldap import LdapDirectory

        return LdapDirectory
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
