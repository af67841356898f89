"""Package attributes loaded on first use (PEP 562).

``import mailcore.smime`` (or any of its submodules) would otherwise load
signing, encryption, decryption, verification and path validation all at
once; a command that only signs and encrypts then pays ~50 ms of start-up
for code it never runs, in every process it starts.  A package lists its
public names per submodule here, and each submodule is imported when one of
its names is first read.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


class _LazyExports:
    """The ``__getattr__`` and ``__dir__`` of a package with lazy exports."""

    __slots__ = ("_namespace", "_package", "_where")

    def __init__(
        self, package: str, namespace: dict[str, Any], modules: Mapping[str, tuple[str, ...]]
    ) -> None:
        self._package = package
        self._namespace = namespace
        self._where = {name: module for module, names in modules.items() for name in names}
        if len(self._where) != sum(len(names) for names in modules.values()):
            raise ValueError(f"{package}: a name is exported by two modules")

    def getattr(self, name: str) -> Any:
        module = self._where.get(name)
        if module is None:
            raise AttributeError(f"module {self._package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module, self._package), name)
        # Kept in the package's namespace: the next read is a plain lookup.
        self._namespace[name] = value
        return value

    def dir(self) -> list[str]:
        return sorted(set(self._namespace) | set(self._where))


def lazy_exports(
    package: str, namespace: dict[str, Any], modules: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` for ``package``: ``modules`` maps
    a submodule (relative, e.g. ``"._signed"``) to the names it exports.

    The package imports the same names under ``if TYPE_CHECKING:`` for type
    checkers, and binds these only at run time (``else:``), so that a
    misspelt name is still an error to mypy rather than ``Any``::

        if TYPE_CHECKING:
            from mailcore.smime._signed import sign_message
        else:
            __getattr__, __dir__ = lazy_exports(__name__, globals(), {...})
    """
    exports = _LazyExports(package, namespace, modules)
    return exports.getattr, exports.dir
