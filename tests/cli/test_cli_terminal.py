"""The command line in a real terminal (a pseudo-terminal): progress bars show, runs succeed.

Progress is off under pytest and off a terminal, so only a pseudo-terminal with the test
environment's markers removed shows what a person sees. Issue 9: a new user's first
``alskit quickstart`` in a terminal failed there, and nothing in the tests saw it.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from alskit.synthetic import generate

pty = pytest.importorskip("pty")  # POSIX only

BAR = re.compile(r"\d+%\|.*\| *\d+/\d+ \[")  # tqdm: "100%|████| 15/15 [00:01<00:00, ...]"


def run_in_terminal(
    *args: str, size: tuple[int, int] | None, timeout: float = 180
) -> tuple[int, str]:
    """Run ``python -m alskit ARGS`` with a pseudo-terminal as stdin, stdout and stderr;
    returns the exit status and everything the terminal showed. ``size`` (rows, columns)
    sets the window size; ``None`` leaves it unset (0 × 0, as under ``script`` or CI)."""
    master, slave = os.openpty()
    if size is not None:
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[0], size[1], 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "PYTEST_CURRENT_TEST")}
    env["TERM"] = "xterm"
    proc = subprocess.Popen(
        [sys.executable, "-m", "alskit", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,  # the terminal becomes the child's own
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if not ready:
                if proc.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        status = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return status, b"".join(chunks).decode("utf-8", errors="replace")


@pytest.fixture(scope="module")
def ratings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("terminal") / "ratings.csv"
    frame = generate("tiny", kind="explicit", seed=4).interactions_df()
    frame[["user_id", "item_id", "rating"]].to_csv(path, index=False)
    return path


@pytest.mark.parametrize("size", [None, (30, 100)], ids=["unsized", "100-columns"])
def test_quickstart_shows_progress(size: tuple[int, int] | None) -> None:
    status, screen = run_in_terminal("quickstart", "--size", "tiny", "--threads", "1", size=size)
    assert status == 0, screen
    assert "Traceback" not in screen and "Error" not in screen, screen
    for model in ("BiasedMFScorer", "ImplicitMFScorer"):
        assert re.search(model + r": +\d+%\|", screen), screen
    assert BAR.search(screen) and "epoch/s" in screen, screen
    assert "15/15" in screen  # the bar reached the end
    assert "NDCG@20" in screen and "Next, on your own data" in screen


def test_train_shows_progress(ratings: Path) -> None:
    out = ratings.with_name("model.alskit")
    status, screen = run_in_terminal(
        "train", str(ratings), "--epochs", "3", "--features", "4", "--threads", "1",
        "-o", str(out), size=(24, 80),
    )  # fmt: skip
    assert status == 0, screen
    assert re.search(r"BiasedMFScorer: 100%\|.*\| 3/3 \[", screen), screen
    assert "epoch/s" in screen and f"saved to {out}" in screen
    assert out.exists()


def test_evaluate_shows_progress(ratings: Path) -> None:
    status, screen = run_in_terminal(
        "evaluate", str(ratings), "--model", "implicit", "--epochs", "3", "--features", "4",
        "--threads", "1", size=None,
    )  # fmt: skip
    assert status == 0, screen
    assert re.search(r"ImplicitMFScorer: 100%\|.*\| 3/3 \[", screen), screen
    assert BAR.search(screen) and "epoch/s" in screen
    assert "NDCG@20" in screen
