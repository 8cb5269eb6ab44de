"""Every third-party module that alskit imports is declared by the installed distribution.

Reads every ``import`` in the installed package (its source files, so this also holds for an
installed wheel) and checks each third-party module against the requirements in alskit's own
metadata: an unguarded import must be a run-time dependency; an import inside ``try: ...
except ImportError`` and every module fetched through ``_compat.require_module`` /
``optional_module`` must be installed by an extra, named in the error the user gets.
"""

from __future__ import annotations

import ast
import importlib.metadata as metadata
import re
import sys
from pathlib import Path

import pytest

import alskit
from alskit.data import _compat

PACKAGE = Path(alskit.__file__).parent
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_EXTRA = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")
_CATCHES_IMPORT = re.compile(r"\b(ImportError|ModuleNotFoundError|Exception|BaseException)\b")
#: Extras tested by a CI job of their own, in their own venv, not by the test extra (LensKit
#: pulls torch): .ci/lenskit.
OWN_JOB = {"lenskit"}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements() -> tuple[set[str], dict[str, set[str]]]:
    """(run-time dependencies, extra → distributions), from the installed metadata."""
    runtime: set[str] = set()
    extras: dict[str, set[str]] = {}
    for line in metadata.requires("alskit") or []:
        match = _NAME.match(line)
        assert match, line
        name = _normal(match.group(1))
        marker = line.partition(";")[2]
        extra = _EXTRA.search(marker)
        if extra:
            extras.setdefault(extra.group(1), set()).add(name)
        else:
            runtime.add(name)
    return runtime, extras


def _distributions(module: str) -> set[str]:
    """The installed distributions providing top-level ``module``."""
    found = metadata.packages_distributions().get(module, [])
    return {_normal(d) for d in found} or {_normal(module)}


def _guarded(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside a ``try`` whose handlers catch ImportError (or ModuleNotFoundError)?"""
    child, parent = node, parents.get(node)
    while parent is not None:
        if isinstance(parent, ast.Try) and child in parent.body:
            for handler in parent.handlers:
                names = ast.unparse(handler.type) if handler.type is not None else "BaseException"
                if _CATCHES_IMPORT.search(names):
                    return True
        child, parent = parent, parents.get(parent)
    return False


def _imports() -> list[tuple[str, int, str, bool]]:
    """(file, line, top-level module, guarded) of every absolute third-party import."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.partition(".")[0]
                if top in sys.stdlib_module_names or top in ("alskit", "__future__"):
                    continue
                rel = str(path.relative_to(PACKAGE.parent))
                found.append((rel, node.lineno, top, _guarded(node, parents)))
    return found


def _lazy_modules() -> list[tuple[str, int, str]]:
    """(file, line, module) of every literal ``require_module``/``optional_module`` call."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name | ast.Attribute)
                and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr)
                in ("require_module", "optional_module")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                top = str(node.args[0].value).partition(".")[0]
                found.append((str(path.relative_to(PACKAGE.parent)), node.lineno, top))
    return found


def test_the_scan_sees_the_package() -> None:
    modules = {m for _, _, m, _ in _imports()}
    assert {"numpy", "pydantic"} <= modules  # the scan cannot pass by reading nothing


def test_unguarded_imports_are_runtime_dependencies() -> None:
    runtime, _ = _requirements()
    undeclared = [
        f"{file}:{line}: import {module}"
        for file, line, module, guarded in _imports()
        if not guarded and not _distributions(module) & runtime
    ]
    assert not undeclared, "third-party imports not declared as dependencies:\n" + "\n".join(
        undeclared
    )


def test_optional_modules_come_from_an_extra() -> None:
    runtime, extras = _requirements()
    optional = [(f, ln, m) for f, ln, m, guarded in _imports() if guarded]
    problems = []
    for file, line, module in optional + _lazy_modules():
        dists = _distributions(module)
        if dists & runtime:
            continue  # a guarded import of a dependency is harmless
        extra = _compat.EXTRAS.get(module)
        if extra is None or not dists & extras.get(extra, set()):
            problems.append(f"{file}:{line}: {module} (extra {extra!r}; extras: {extras})")
    assert not problems, "optional imports without an extra that installs them:\n" + "\n".join(
        problems
    )


@pytest.mark.parametrize("module", sorted(_compat.EXTRAS))
def test_missing_optional_module_names_the_extra(
    module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_compat, "optional_module", lambda name: None)
    with pytest.raises(ImportError, match=rf"pip install 'alskit\[{_compat.EXTRAS[module]}\]'"):
        _compat.require_module(module, "this feature")


def test_test_extra_installs_every_optional_module() -> None:
    """So that no test skips for a missing package in CI."""
    _, extras = _requirements()
    for extra in set(_compat.EXTRAS.values()) - OWN_JOB:
        assert extras[extra] <= extras["test"], extra
