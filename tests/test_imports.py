"""The package's import structure: no import cycle between alskit's modules, and every
module imports alone in a fresh interpreter (so no import works only because another module
happened to be imported first)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import alskit

PACKAGE = Path(alskit.__file__).parent
# The LensKit adapter needs LensKit (its own CI job); __main__ runs the command line.
ALONE_EXEMPT = ("alskit.lenskit", "alskit.__main__")


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _native_module(name: str) -> bool:
    """A compiled module of the package (alskit._core: its stub ships beside it)?"""
    return PACKAGE.parent.joinpath(*name.split(".")).with_suffix(".pyi").exists()


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _imports(name: str, path: Path) -> set[str]:
    """The alskit modules ``name`` imports anywhere (module level or inside a function; not
    under ``if TYPE_CHECKING``): for ``from X import y``, X, or X.y when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    parents = {c: p for p in ast.walk(tree) for c in ast.iter_child_nodes(p)}
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("alskit"))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("alskit"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in MODULES or _native_module(sub) else target)
    return found - {name}


def test_the_scan_sees_the_package() -> None:
    assert {"alskit.als._base", "alskit.persistence", "alskit.cli"} <= set(MODULES)
    assert "alskit.persistence" in _imports("alskit.als._registry", MODULES["alskit.als._registry"])


def test_no_import_cycle() -> None:
    graph = {name: _imports(name, path) & set(MODULES) for name, path in MODULES.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycles.append(path[path.index(target) :] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_model_files_know_no_model() -> None:
    """persistence is a generic archive: the scorers use it, it never imports them."""
    imported = _imports("alskit.persistence", MODULES["alskit.persistence"])
    assert not {m for m in imported if m.startswith("alskit.als")}, imported


def test_each_module_imports_alone_in_a_fresh_interpreter() -> None:
    names = [n for n in MODULES if not n.startswith(ALONE_EXEMPT)]
    runs = {
        name: subprocess.Popen(
            [sys.executable, "-c", f"import {name}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    }
    failures = []
    for name, run in runs.items():
        _, err = run.communicate(timeout=300)
        if run.returncode != 0:
            failures.append(f"import {name}:\n{err.strip().splitlines()[-1]}")
    assert not failures, "\n".join(failures)
