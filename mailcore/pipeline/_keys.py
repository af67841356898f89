"""Where the pipeline finds private keys: senders' for signing, recipients' for decrypting."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from mailcore.directory._base import normalise_address
from mailcore.directory._select import addresses_of
from mailcore.errors import KeyLoadError
from mailcore.smime._keys import LoadedKey, load_private_key

__all__ = ["FolderKeyStore", "KeyStore", "MemoryKeyStore"]

_KEY_SUFFIXES = (".p12", ".pfx")


@runtime_checkable
class KeyStore(Protocol):
    """What the pipeline needs from a key store; implement it to plug in an HSM or a vault."""

    def signing_key(self, address: str) -> LoadedKey | None:
        """The key (with its certificate and chain) that signs mail from ``address``."""

    def decryption_keys(self) -> Sequence[LoadedKey]:
        """Every key inbound messages may be encrypted to."""


class MemoryKeyStore:
    """Keys given as a mapping of address -> :class:`~mailcore.smime.LoadedKey`."""

    def __init__(self, keys: dict[str, LoadedKey]) -> None:
        self._keys = {normalise_address(a): k for a, k in keys.items()}

    def signing_key(self, address: str) -> LoadedKey | None:
        return self._keys.get(normalise_address(address))

    def decryption_keys(self) -> Sequence[LoadedKey]:
        return tuple(self._keys.values())


class FolderKeyStore:
    """A folder of PKCS #12 files, one per person (the embedded default).

    ``alice@example.com.p12`` (or ``.pfx``) holds the key of
    alice@example.com: a sender's key is read on first use, alone (a store
    of thousands of people is not read whole to sign one message), and kept.
    A file named otherwise counts for the addresses its certificate carries;
    those, and every key for :meth:`decryption_keys`, are read when first
    needed.  ``password`` opens the files; one that cannot be read raises
    :class:`~mailcore.KeyLoadError` naming it.
    """

    def __init__(self, folder: str | Path, *, password: bytes | None = None) -> None:
        self.folder = Path(folder)
        self._password = password
        self._by_file: dict[Path, LoadedKey] = {}
        self._signers: dict[str, LoadedKey] = {}
        self._keys: dict[str, LoadedKey] | None = None
        self._lock = threading.Lock()

    def _read(self, file: Path) -> LoadedKey:
        loaded = self._by_file.get(file)
        if loaded is not None:
            return loaded
        try:
            loaded = load_private_key(file.read_bytes(), password=self._password)
        except KeyLoadError as error:
            raise KeyLoadError(error.detail, where=str(file)) from None
        except OSError as error:
            raise KeyLoadError(f"cannot be read: {error.strerror}", where=str(file)) from None
        if loaded.certificate is None:
            raise KeyLoadError("the PKCS #12 file holds no certificate", where=str(file))
        self._by_file[file] = loaded
        return loaded

    def _load_all(self) -> dict[str, LoadedKey]:
        with self._lock:
            if self._keys is not None:
                return self._keys
            keys: dict[str, LoadedKey] = {}
            files = sorted(self.folder.iterdir()) if self.folder.is_dir() else []
            for file in files:
                if file.suffix.lower() not in _KEY_SUFFIXES:
                    continue
                loaded = self._read(file)
                assert loaded.certificate is not None
                for address in addresses_of(loaded.certificate):
                    keys.setdefault(address, loaded)
            self._keys = keys
            return keys

    def signing_key(self, address: str) -> LoadedKey | None:
        wanted = normalise_address(address)
        known = self._signers.get(wanted)  # a dict read is atomic under the GIL
        if known is not None:
            return known
        with self._lock:
            if self._keys is not None:
                return self._keys.get(wanted)
            for suffix in _KEY_SUFFIXES:
                file = self.folder / f"{wanted}{suffix}"
                if file.is_file():
                    loaded = self._read(file)
                    assert loaded.certificate is not None
                    if wanted in addresses_of(loaded.certificate):
                        self._signers[wanted] = loaded
                        return loaded
        return self._load_all().get(wanted)

    def decryption_keys(self) -> Sequence[LoadedKey]:
        return tuple(dict.fromkeys(self._load_all().values()))
