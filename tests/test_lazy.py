"""Packages whose public names load on first use (mailcore._lazy).

Three lists must agree in each such package: the names imported under
``if TYPE_CHECKING:`` (what type checkers see), the names given to
``lazy_exports`` (what is loaded at run time) and ``__all__``.  And the
point of it: the ``process`` command must start without the code it does
not run.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from mailcore._lazy import lazy_exports

LAZY_PACKAGES = ["mailcore", "mailcore.smime", "mailcore.irm", "mailcore.marking"]


def _declared(package: str) -> tuple[set[str], set[str], list[str]]:
    """(names under TYPE_CHECKING, names given to lazy_exports, __all__) from the source."""
    module = importlib.import_module(package)
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text())
    typed: set[str] = set()
    lazy: set[str] = set()
    listed: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            for statement in node.body:
                assert isinstance(statement, ast.ImportFrom)
                typed.update(alias.name for alias in statement.names)
            for statement in node.orelse:
                for call in ast.walk(statement):
                    if (
                        isinstance(call, ast.Call)
                        and getattr(call.func, "id", "") == "lazy_exports"
                    ):
                        mapping = call.args[2]
                        assert isinstance(mapping, ast.Dict)
                        for names in mapping.values:
                            assert isinstance(names, ast.Tuple)
                            lazy.update(ast.literal_eval(names))
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "__all__":
            listed = ast.literal_eval(node.value)
    return typed, lazy, listed


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_the_three_lists_agree(package: str) -> None:
    typed, lazy, listed = _declared(package)
    assert lazy, "no lazy_exports call found"
    assert typed == lazy
    assert lazy <= set(listed)  # __all__ may hold eager names too (mailcore's errors)
    assert len(listed) == len(set(listed))


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_name_resolves_to_its_module_object(package: str) -> None:
    module = importlib.import_module(package)
    _, lazy, listed = _declared(package)
    for name in listed:
        value = getattr(module, name)
        assert value is not None
        assert name in dir(module)
    for name in lazy:
        # Loaded once, then a plain attribute of the package.
        assert name in vars(module)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent_name'"):
        module.nonexistent_name  # noqa: B018


def test_a_name_in_two_modules_is_refused() -> None:
    with pytest.raises(ValueError, match="two modules"):
        lazy_exports("pkg", {}, {"._a": ("x", "y"), "._b": ("y",)})


def test_names_come_from_the_named_submodule() -> None:
    import mailcore.smime
    from mailcore.smime import _signed

    assert mailcore.smime.sign_message is _signed.sign_message


def test_process_command_starts_without_the_code_it_does_not_run() -> None:
    # What `mailcore process` imports before its first message: no IRM code
    # (IRM is off unless a template is asked for), no decryption or
    # verification, no LDAP client, no path validator.
    script = (
        "import sys, json; import mailcore.cli, mailcore.cli._process; "
        "print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, check=True, timeout=60
    )
    loaded = set(json.loads(result.stdout))
    for absent in (
        "mailcore.irm._report",
        "mailcore.irm._xml",
        "mailcore.smime._decrypt",
        "mailcore.smime._verify",
        "mailcore.smime._open",
        "ldap3",
        "pyhanko_certvalidator",
        "asyncio",
    ):
        assert absent not in loaded, absent
    assert "mailcore.pipeline._pipeline" in loaded
