"""Running the ``alskit`` command line as a subprocess, shared by the CLI test modules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

# Tiny models: each run pays a Python start-up, the training itself should not add much.
SMALL_MODEL = ["--epochs", "2", "--features", "4", "--threads", "1"]


def run(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alskit.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
    )


def train(data: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``alskit train data`` with a small model; returns the run and the model's path."""
    out = data.with_name(data.name + ".alskit")
    return run("train", data, *SMALL_MODEL, "-o", out), out


def assert_user_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit status 2 and one line on stderr, starting "alskit" and naming every fragment."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("alskit"), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


def metric_rows(stdout: str) -> dict[str, float]:
    """The rows of the metrics table that ``alskit evaluate`` prints (label -> value)."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.split()[:2] == ["metric", "value"])
    rows = {}
    for line in lines[start + 2 :]:
        if not line.strip():
            break
        label, value, *_ = line.split()
        rows[label] = float(value)
    return rows
