"""``FileDirectory``: certificates from an LDIF file or a folder of certificate files.

The embedded default that ``make demo`` and small deployments use: no server,
the same choice of certificate as over LDAP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding

from mailcore.directory._base import CertificateDirectory, normalise_address
from mailcore.directory._cache import LookupCache
from mailcore.directory._filter import FilterTemplate
from mailcore.directory._ldif import read_ldif
from mailcore.directory._select import CertificateSelector, addresses_of
from mailcore.errors import KeyLoadError, MalformedInput
from mailcore.smime._keys import load_certificates

__all__ = ["CERTIFICATE_ATTRIBUTES", "FileDirectory"]

CERTIFICATE_ATTRIBUTES = ("usercertificate", "usersmimecertificate")
"""Attributes holding certificates: ``userCertificate`` (X.509 DER, also as
``;binary``) and ``userSMIMECertificate`` (a PKCS #7 certificate bag, RFC 2798)."""


class FileDirectory(CertificateDirectory):
    """Certificates from an LDIF file (entries with ``mail`` and
    ``userCertificate``) or from a folder of PEM/DER/PKCS #7 files (indexed by
    the addresses in each certificate).

    ``filter`` names the attribute that holds an entry's addresses, as for
    LDAP (``(mail={address})``, or ``(proxyAddresses=smtp:{address})``).
    Files in a folder that hold no certificate are listed in ``problems``.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        filter: str = "(mail={address})",
        selector: CertificateSelector | None = None,
        cache: LookupCache | None = None,
    ) -> None:
        super().__init__(selector=selector, cache=cache)
        self.path = Path(path)
        self._template = FilterTemplate.parse(filter)
        self._index: dict[str, list[bytes]] = {}
        problems: list[tuple[str, str]] = []
        if self.path.is_dir():
            self._load_folder(problems)
        elif self.path.is_file():
            self._load_ldif()
        else:
            raise MalformedInput("the certificate directory does not exist", where=str(path))
        self.problems: tuple[tuple[str, str], ...] = tuple(problems)

    def _load_ldif(self) -> None:
        try:
            data = self.path.read_bytes()
        except OSError as error:
            raise MalformedInput(
                f"the directory file cannot be read: {error.strerror}", where=str(self.path)
            ) from None
        attribute = self._template.attribute.lower()
        for entry in read_ldif(data, where=str(self.path), base=self.path.parent):
            certificates = [
                value for name in CERTIFICATE_ATTRIBUTES for value in entry.values(name)
            ]
            for raw in entry.values(attribute):
                address = self._template.address_of(raw.decode("utf-8", "replace"))
                if address:
                    self._index.setdefault(address, []).extend(certificates)

    def _load_folder(self, problems: list[tuple[str, str]]) -> None:
        for file in sorted(self.path.rglob("*")):
            if not file.is_file() or file.name.startswith("."):
                continue
            try:
                data = file.read_bytes()
                certificates = load_certificates(data)
            except OSError as error:
                problems.append((str(file), f"cannot be read: {error.strerror}"))
                continue
            except KeyLoadError as error:
                problems.append((str(file), error.message))
                continue
            for certificate in certificates:
                der = certificate.public_bytes(Encoding.DER)
                for address in addresses_of(certificate):
                    self._index.setdefault(address, []).append(der)

    def addresses(self) -> tuple[str, ...]:
        """Every address the directory has an entry for."""
        return tuple(self._index)

    def fetch(self, addresses: Sequence[str]) -> Mapping[str, Sequence[bytes]]:
        found: dict[str, Sequence[bytes]] = {}
        for address in addresses:
            values = self._index.get(normalise_address(address))
            if values is not None:
                found[address] = tuple(values)
        return found
