"""Hostile inputs at the command line's ``main``: one table, each row a call and what it must do
(``bad``, ``ok`` or ``either``: the table machinery in tests/hostile.py). Whatever the row,
the process never crashes and no other exception escapes.
"""

from __future__ import annotations

import itertools
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alskit import (
    BiasedMFScorer,
    Dataset,
    cli,
    load_csv,
)
from hostile import (
    CSV_HEAD,
    I64_MAX,
    I64_MIN,
    PYBIND_DUMP,
    _marks,
    _truncated_gzip,
    deep_json,
    train_with,
    zip_bytes,
)

# ---- 8. the command line -------------------------------------------------------------------


@dataclass
class Files:
    root: Path
    ratings: Path
    model: Path
    extremes_model: Path
    nan: Path
    dup: Path
    empty: Path
    garbage: Path
    truncated_gz: Path
    big_id: Path
    one: Path
    deep_model: Path
    counter: itertools.count  # type: ignore[type-arg]

    def out(self, name: str) -> Path:
        return self.root / f"{next(self.counter)}-{name}"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    root = tmp_path_factory.mktemp("hostile-cli")
    rng = np.random.default_rng(3)
    lines = [CSV_HEAD]
    for user in range(-3, 9):  # user -3 exists: negative ids must work
        for item in rng.choice(8, 4, replace=False):
            lines.append(f"{user},{item},{int(rng.integers(1, 6))}\n")
    ratings = root / "ratings.csv"
    ratings.write_text("".join(lines))
    model = root / "model.alskit"
    train_with(BiasedMFScorer(features=2, epochs=1), load_csv(ratings)).save(model)
    extremes = root / "extremes.alskit"
    data = Dataset.from_arrays([I64_MIN, I64_MAX, 1], [I64_MAX, I64_MIN, 1], [1.0, 2.0, 3.0])
    train_with(BiasedMFScorer(features=2, epochs=1), data).save(extremes)
    with zipfile.ZipFile(model) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["model.json"] = deep_json()
    deep = root / "deep.alskit"
    deep.write_bytes(zip_bytes(members))

    def write(name: str, content: str | bytes) -> Path:
        path = root / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        return path

    return Files(
        root=root,
        ratings=ratings,
        model=model,
        extremes_model=extremes,
        nan=write("nan.csv", CSV_HEAD + "1,2,3\n1,3,nan\n"),
        dup=write("dup.csv", CSV_HEAD + "1,2,3\n1,2,4\n"),
        empty=write("empty.csv", ""),
        garbage=write("garbage.csv", bytes(range(256)) * 8),
        truncated_gz=write("cut.csv.gz", _truncated_gzip()),
        big_id=write("bigid.csv", CSV_HEAD + "9223372036854775808,1,3\n2,1,4\n"),
        one=write("one.csv", CSV_HEAD + "1,2,3\n"),
        deep_model=deep,
        counter=itertools.count(),
    )


SMALL = ["--epochs", "1", "--features", "2", "--threads", "1"]


def run_main(argv: list[Any], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """``alskit`` in-process: (exit status, stdout, stderr). Any exception escaping main() is
    what a user would see as a traceback, so it is left to fail the test."""
    try:
        status = cli.main([str(a) for a in argv])
    except SystemExit as e:  # argparse usage errors
        status = int(e.code) if isinstance(e.code, int) else 2
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def cli_bad(
    argv: Callable[[Files], list[Any]], pattern: str, *, id: str, bug: str | None = None
) -> Any:
    return pytest.param(argv, pattern, None, id=id, marks=_marks(bug))


def cli_ok(
    argv: Callable[[Files], list[Any]],
    check: Callable[[str], bool],
    *,
    id: str,
    bug: str | None = None,
) -> Any:
    return pytest.param(argv, None, check, id=id, marks=_marks(bug))


def cli_either(
    argv: Callable[[Files], list[Any]],
    pattern: str,
    check: Callable[[str], bool],
    *,
    id: str,
    bug: str | None = None,
) -> Any:
    return pytest.param(argv, pattern, check, id=id, marks=_marks(bug))


def _train_args(f: Files, *extra: Any) -> list[Any]:
    return ["train", f.ratings, "-o", f.out("m.alskit"), *SMALL, *extra]


def _csv_rows(stdout: str) -> list[list[str]]:
    return [line.split(",") for line in stdout.strip().splitlines()[1:]]


CLI_TABLE = [
    # argparse: usage and an error line
    cli_bad(lambda f: ["bogus"], r"invalid choice: 'bogus'", id="unknown-command"),
    cli_bad(lambda f: ["train", f.ratings], r"required: -o/--output", id="train-without-output"),
    cli_bad(
        lambda f: _train_args(f, "--features", "abc"),
        r"argument --features: invalid int value: 'abc'",
        id="features-not-int",
    ),
    cli_bad(
        lambda f: _train_args(f, "--model", "svd"),
        r"argument --model: invalid choice: 'svd'",
        id="unknown-model",
    ),
    cli_bad(
        lambda f: _train_args(f, "--threads", "many"),
        r"argument --threads: invalid int value",
        id="threads-not-int",
    ),
    cli_bad(
        lambda f: ["recommend", f.model, "-n", "ten"],
        r"argument -n: invalid int value: 'ten'",
        id="n-not-int",
    ),
    cli_bad(
        lambda f: ["quickstart", "--size", "huge"],
        r"argument --size: invalid choice: 'huge'",
        id="quickstart-size",
    ),
    cli_bad(
        lambda f: _train_args(f, "--user-embeddings", "sometimes"),
        r"argument --user-embeddings: invalid choice",
        id="user-embeddings-choice",
    ),
    # one line naming the problem
    cli_bad(
        lambda f: _train_args(f, "--features", "-5"),
        r"invalid model option: embedding_size",
        id="features-negative",
    ),
    cli_bad(
        lambda f: _train_args(f, "--features", "1000000000000"),
        r"embedding_size=1000000000000 needs .* GiB",
        id="features-absurd",
    ),
    cli_bad(
        lambda f: _train_args(f, "--regularization", "nan"),
        r"regularization",
        id="regularization-nan",
    ),
    cli_bad(lambda f: _train_args(f, "--damping", "-1"), r"damping", id="damping-negative"),
    cli_bad(
        lambda f: _train_args(f, "--model", "implicit", "--weight", "inf"),
        r"weight",
        id="weight-inf",
    ),
    cli_bad(
        lambda f: _train_args(f, "--model", "implicit", "--cg-steps", "0"),
        r"cg_steps",
        id="cg-steps-0",
    ),
    cli_bad(
        lambda f: ["train", f.ratings, "-o", f.out("m.alskit"), "--threads", "-1"],
        r"threads must be >= 0",
        id="threads-negative",
    ),
    cli_bad(
        lambda f: _train_args(f, "--seed", "-1"),
        r"seed|rng",
        id="seed-negative",
    ),
    cli_bad(lambda f: _train_args(f, "--sep", ""), r"separator", id="empty-separator"),
    cli_bad(
        lambda f: ["train", f.nan, "-o", f.out("m.alskit"), *SMALL],
        r"nan\.csv: rating at line 3 is nan",
        id="nan-rating",
    ),
    cli_bad(
        lambda f: ["train", f.dup, "-o", f.out("m.alskit"), *SMALL],
        r"duplicate .* line 2 and line 3",
        id="duplicate-rows",
    ),
    cli_bad(
        lambda f: ["train", f.empty, "-o", f.out("m.alskit"), *SMALL],
        r"empty\.csv: no interactions",
        id="empty-file",
    ),
    cli_bad(
        lambda f: ["train", f.garbage, "-o", f.out("m.alskit"), *SMALL],
        r"garbage\.csv",
        id="binary-garbage",
    ),
    cli_bad(
        lambda f: ["train", f.big_id, "-o", f.out("m.alskit"), *SMALL],
        r"9223372036854775808, beyond the int64 range",
        id="id-beyond-int64",
    ),
    cli_bad(
        lambda f: ["train", f.root, "-o", f.out("m.alskit"), *SMALL],
        r"directory",
        id="data-is-a-directory",
    ),
    cli_bad(
        lambda f: ["train", f.truncated_gz, "-o", f.out("m.alskit"), *SMALL],
        r"cut\.csv\.gz",
        id="truncated-gzip",
    ),
    cli_bad(
        lambda f: ["train", f.ratings, "-o", f.root, *SMALL],
        r"Is a directory|directory",
        id="output-is-a-directory",
    ),
    cli_bad(
        lambda f: ["recommend", f.model, "-n", "0"],
        r"n must be a positive integer, got 0",
        id="n-0",
    ),
    cli_bad(
        lambda f: ["recommend", f.model, "-n", "-1"],
        r"n must be a positive integer, got -1",
        id="n-negative",
    ),
    cli_bad(lambda f: ["recommend", f.model, "--users", "abc"], r"'abc'", id="unknown-str-user"),
    cli_bad(
        lambda f: ["recommend", f.model, "--users", "99999999999999999999999"],
        r"99999999999999999999999",
        id="user-beyond-int64",
    ),
    cli_bad(
        lambda f: ["recommend", f.model, "--threads", "-1"],
        r"threads must be >= 0",
        id="recommend-threads-negative",
    ),
    cli_bad(
        lambda f: ["recommend", f.root],
        r"not a readable alskit model file",
        id="model-is-a-directory",
    ),
    cli_bad(
        lambda f: ["recommend", f.ratings],
        r"ratings\.csv: not a readable alskit model file",
        id="model-is-a-csv",
    ),
    cli_bad(
        lambda f: ["recommend", f.deep_model],
        r"deep\.alskit",
        id="model-deeply-nested-json",
    ),
    cli_bad(
        lambda f: ["recommend", f.model, "-n", "2", "-o", f.root],
        r"Is a directory",
        id="recommend-output-is-a-directory",
    ),
    cli_bad(
        lambda f: ["quickstart", "--size", "tiny", "--threads", "-1"],
        r"threads must be >= 0",
        id="quickstart-threads-negative",
    ),
    # must work
    cli_ok(
        lambda f: ["recommend", f.model, "--users", "1", "-n", "1000"],
        lambda out: len(_csv_rows(out)) == 4,
        id="n-beyond-items",
    ),
    cli_ok(
        lambda f: ["recommend", f.extremes_model, "--users", str(I64_MAX), "-n", "1"],
        lambda out: _csv_rows(out)[0][0] == str(I64_MAX),
        id="int64-max-user",
    ),
    cli_ok(
        lambda f: ["train", f.one, "-o", f.out("one.alskit"), *SMALL],
        lambda out: "1 interactions" in out,
        id="train-single-interaction",
    ),
    cli_ok(
        lambda f: ["recommend", f.model, "--users", "-3", "-n", "2"],
        lambda out: [r[0] for r in _csv_rows(out)] == ["-3", "-3"],
        id="negative-user-id",
    ),
    cli_ok(
        lambda f: ["recommend", f.extremes_model, "--users", str(I64_MIN), "-n", "1"],
        lambda out: _csv_rows(out)[0][0] == str(I64_MIN),
        id="int64-min-user",
    ),
    cli_either(
        lambda f: ["recommend", f.model, "--users", "1", "-n", str(2**63)],
        r"\bn must be",
        lambda out: len(_csv_rows(out)) == 4,
        id="n-beyond-int64",
    ),
    cli_either(
        lambda f: ["evaluate", f.one, *SMALL],
        r"interactions|too few",
        lambda out: "NDCG" in out,
        id="evaluate-single-interaction",
    ),
]


@pytest.mark.parametrize(("argv", "pattern", "check"), CLI_TABLE)
def test_cli(
    files: Files, capsys: pytest.CaptureFixture[str], argv: Any, pattern: Any, check: Any
) -> None:
    status, out, err = run_main(argv(files), capsys)
    assert "Traceback" not in err, err
    if status == 0 and check is not None:
        assert err == "", err
        assert check(out), out
        return
    assert pattern is not None, (status, err)
    assert status == 2, (status, err)
    lines = err.strip().splitlines()
    assert lines, "no error message"
    if not lines[0].startswith("usage:"):
        assert len(lines) == 1, err  # user errors after parsing: exactly one line
    assert lines[-1].startswith("alskit"), lines[-1]
    assert PYBIND_DUMP not in lines[-1], lines[-1]
    assert re.search(pattern, lines[-1]), (pattern, lines[-1])
