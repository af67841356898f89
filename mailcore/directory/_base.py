"""The directory interface, and the lookup logic every implementation shares."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from mailcore.directory._cache import LookupCache
from mailcore.directory._model import LookupReport, LookupResult
from mailcore.directory._select import CertificateSelector

__all__ = ["CertificateDirectory", "normalise_address"]


def normalise_address(address: str) -> str:
    """The form addresses are looked up and reported in: trimmed, lowercased."""
    return address.strip().lower()


class CertificateDirectory(abc.ABC):
    """Where recipients' encryption certificates come from.

    Implementations provide :meth:`fetch` (the raw certificate values stored
    for each address); :meth:`lookup` chooses among them with the
    directory's :class:`CertificateSelector` and caches the answers.
    Implementations are safe to share between threads.
    """

    def __init__(
        self,
        *,
        selector: CertificateSelector | None = None,
        cache: LookupCache | None = None,
    ) -> None:
        self.selector = selector or CertificateSelector()
        self.cache = cache

    @abc.abstractmethod
    def fetch(self, addresses: Sequence[str]) -> Mapping[str, Sequence[bytes]]:
        """Raw certificate values per address (normalised addresses in, an
        address absent from the answer has no entry).  Raises
        :class:`~mailcore.DirectoryUnavailable` when the source cannot answer."""

    def close(self) -> None:  # noqa: B027 (optional hook)
        """Release connections; the directory must not be used afterwards."""

    def __enter__(self) -> CertificateDirectory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def lookup(self, addresses: Iterable[str], *, at: datetime | None = None) -> LookupReport:
        """The encryption certificate for each address (JSON C via ``to_dict``).

        Every address gets a result: ``found``, ``not_found`` or
        ``no_valid_certificate`` with each rejected certificate's reason.
        ``at`` (default now) is the time validity is judged at; answers are
        cached only for lookups at the current time.
        """
        moment = datetime.now(UTC) if at is None else at
        if moment.tzinfo is None:
            raise TypeError("at must be timezone-aware")
        wanted = list(dict.fromkeys(normalise_address(a) for a in addresses))
        results: dict[str, LookupResult] = {}
        cache = self.cache if at is None else None
        pending: list[str] = []
        for address in wanted:
            cached = cache.get(address, moment) if cache is not None else None
            if cached is None:
                pending.append(address)
            else:
                results[address] = cached
        if pending:
            found = self.fetch(pending)
            for address in pending:
                result = self.selector.select(address, found.get(address, ()), moment)
                results[address] = result
                if cache is not None:
                    cache.put(result)
        return LookupReport({address: results[address] for address in wanted})
