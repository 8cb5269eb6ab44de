"""The house rules a green test run should also guarantee: ruff-clean, formatted (Python and
C++), mypy-strict clean, the native stub in step with the built module, and no pybind11 in the
pure core."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize(
    "command",
    [("check", "python", "tests", "bench"), ("format", "--check", "python", "tests", "bench")],
    ids=["lint", "format"],
)
def test_ruff(command: tuple[str, ...]) -> None:
    if shutil.which("ruff") is None:
        pytest.skip("ruff is not installed (pip install '.[test]')")
    result = run("ruff", *command)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cpp_clang_format() -> None:
    """C++ keeps the repository's .clang-format style."""
    if shutil.which("clang-format") is None:
        pytest.skip("clang-format is not installed (pip install '.[test]')")
    sources = sorted(
        str(p.relative_to(ROOT))
        for folder in ("cpp", "bench")
        for p in (ROOT / folder).rglob("*")
        if p.suffix in {".hpp", ".cpp"}
    )
    assert sources
    result = run("clang-format", "--dry-run", "--Werror", *sources)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict() -> None:
    pytest.importorskip("mypy")
    result = run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_native_stub_matches_module() -> None:
    pytest.importorskip("mypy")
    import reference as ref

    modules = [f"alskit.{name}" for name in ref.VARIANTS if ref.load_variant(name)]
    result = run(sys.executable, "-m", "mypy.stubtest", *modules)
    assert result.returncode == 0, result.stdout + result.stderr


def test_core_headers_are_pure_cpp() -> None:
    headers = sorted((ROOT / "cpp" / "include" / "alskit").glob("*.hpp"))
    assert headers
    for header in headers:
        assert "pybind11" not in header.read_text(), f"{header.name} mentions pybind11"
