"""``MemoryDirectory``: certificates held in a mapping (tests, vectors, embedding)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from mailcore.directory._base import CertificateDirectory, normalise_address
from mailcore.directory._cache import LookupCache
from mailcore.directory._select import CertificateSelector

__all__ = ["MemoryDirectory"]


class MemoryDirectory(CertificateDirectory):
    """A directory whose entries are given: address -> certificates (objects or raw bytes)."""

    def __init__(
        self,
        entries: Mapping[str, Iterable[x509.Certificate | bytes]],
        *,
        selector: CertificateSelector | None = None,
        cache: LookupCache | None = None,
    ) -> None:
        super().__init__(selector=selector, cache=cache)
        self._entries = {
            normalise_address(address): tuple(
                value if isinstance(value, bytes) else value.public_bytes(Encoding.DER)
                for value in values
            )
            for address, values in entries.items()
        }

    def fetch(self, addresses: Sequence[str]) -> Mapping[str, Sequence[bytes]]:
        wanted = map(normalise_address, addresses)
        return {address: self._entries[address] for address in wanted if address in self._entries}
