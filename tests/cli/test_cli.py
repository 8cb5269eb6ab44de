"""The ``alskit`` command line, run as a subprocess (``python -m alskit.cli``).

Runs are few and tiny (synthetic tiny data, --epochs 2, --features 4): each one pays a
Python start-up. User errors must end with exit status 2 and one line on stderr starting
with "alskit", never a traceback.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import zipfile
from typing import Any

import numpy as np
import pandas as pd
import pytest

import alskit
from alskit.synthetic import generate
from cli_runner import SMALL_MODEL, assert_user_error, metric_rows, run


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Tiny CSV files (explicit and implicit), a trained model, a corrupt model."""
    root = tmp_path_factory.mktemp("cli")
    data = generate("tiny", kind="explicit", seed=1)
    frame = data.interactions_df()
    ratings = root / "ratings.csv"
    frame[["user_id", "item_id", "rating"]].to_csv(ratings, index=False)
    implicit = root / "clicks.csv"
    frame[["user_id", "item_id"]].to_csv(implicit, index=False)
    malformed = root / "malformed.csv"
    malformed.write_text('user_id,item_id,rating\n1,2,3\n1,"3,4\n2,5,abc\n')
    corrupt = root / "corrupt.alskit"
    corrupt.write_bytes(b"PK\x03\x04 definitely not a model" * 4)
    model = root / "model.alskit"
    result = run("train", ratings, "-o", model, *SMALL_MODEL, "--seed", "7")
    assert result.returncode == 0, result.stderr
    return {
        "root": root,
        "ratings": ratings,
        "implicit": implicit,
        "malformed": malformed,
        "corrupt": corrupt,
        "model": model,
        "train_stdout": result.stdout,
    }


# ---- help ----------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["quickstart"], ["train"], ["recommend"], ["evaluate"]])
def test_help(command: list[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: alskit"), result.stdout
    assert result.stderr == ""
    if not command:
        for sub in ("quickstart", "train", "recommend", "evaluate"):
            assert sub in result.stdout


def test_console_script_help() -> None:
    exe = shutil.which("alskit")
    if exe is None:
        pytest.skip("the alskit console script is not on PATH")
    result = subprocess.run([exe, "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "usage: alskit" in result.stdout


def test_no_command_is_a_usage_error() -> None:
    result = run()
    assert result.returncode == 2
    assert "usage: alskit" in result.stderr and "Traceback" not in result.stderr


# ---- the happy paths -----------------------------------------------------------------------


def test_quickstart_tiny() -> None:
    result = run("quickstart", "--size", "tiny", "--threads", "1")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "NDCG" in out and "RMSE" in out
    for model in ("BiasedMF", "ImplicitMF"):
        assert model in out
    assert "Traceback" not in result.stderr


def test_train_writes_a_loadable_model(files: dict[str, Any]) -> None:
    assert "saved to" in files["train_stdout"]
    model = alskit.load(files["model"])
    assert isinstance(model, alskit.BiasedMFScorer)
    assert model.config.embedding_size == 4 and model.config.epochs == 2
    assert len(model.users_) == 200 and len(model.items_) == 100


def test_train_with_the_subspace_solver(files: dict[str, Any]) -> None:
    out = files["root"] / "subspace.alskit"
    result = run(
        "train", files["implicit"], "-o", out, "--model", "implicit", "--solver", "subspace",
        "--block-size", "3", "--sweeps", "2", *SMALL_MODEL, "--seed", "7",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    model = alskit.load(out)
    assert (model.config.solver, model.config.block_size, model.config.sweeps) == (
        "subspace",
        3,
        2,
    )
    same = alskit.ImplicitMFScorer(features=4, epochs=2, solver="subspace", block_size=3, sweeps=2)
    same.train(alskit.load_csv(files["implicit"]), alskit.TrainingOptions(rng=7, threads=1))
    np.testing.assert_array_equal(model.item_features_, same.item_features_)
    # the subspace options are the implicit model's
    result = run("train", files["ratings"], "-o", out, "--model", "biased", "--block-size", "3")
    assert result.returncode == 2 and "--block-size" in result.stderr, result.stderr


def test_train_is_seeded_and_takes_model_options(files: dict[str, Any]) -> None:
    again = files["root"] / "again.alskit"
    result = run(
        "train",
        files["implicit"],
        "-o",
        again,
        "--model",
        "implicit",
        "--solver",
        "cg",
        "--dtype",
        "float32",
        "--user-embeddings",
        "false",
        *SMALL_MODEL,
        "--seed",
        "7",
    )
    assert result.returncode == 0, result.stderr
    model = alskit.load(again)
    assert isinstance(model, alskit.ImplicitMFScorer)
    assert model.config.solver == "cg" and model.config.dtype == "float32"
    assert model.user_features_ is None
    # The same seed and data in-process give the same factors.
    same = alskit.ImplicitMFScorer(
        features=4, epochs=2, solver="cg", dtype="float32", user_embeddings=False
    )
    same.train(alskit.load_csv(files["implicit"]), alskit.TrainingOptions(rng=7, threads=1))
    np.testing.assert_array_equal(model.item_features_, same.item_features_)


def test_recommend_users_to_stdout(files: dict[str, Any]) -> None:
    result = run("recommend", files["model"], "--users", "1", "5", "-n", "3")
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout))
    assert list(frame.columns) == ["user_id", "item_id", "score", "rank"]
    assert frame["user_id"].tolist() == [1, 1, 1, 5, 5, 5]
    assert frame["rank"].tolist() == [1, 2, 3, 1, 2, 3]
    want = alskit.load(files["model"]).recommend([1, 5], n=3)
    np.testing.assert_array_equal(frame["item_id"].to_numpy(), want.item_ids)
    # the shortest repr of each float32 score, read back, is that score exactly
    np.testing.assert_array_equal(frame["score"].to_numpy(dtype=want.scores.dtype), want.scores)


def test_recommend_all_users_to_files(files: dict[str, Any]) -> None:
    out = files["root"] / "all.csv"
    result = run("recommend", files["model"], "-n", "4", "-o", out)
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(out)
    assert len(frame) == 200 * 4
    assert sorted(frame["user_id"].unique().tolist()) == list(range(1, 201))
    model = alskit.load(files["model"])
    want = model.recommend(None, n=4)
    np.testing.assert_array_equal(frame["item_id"].to_numpy(), want.item_ids)

    pytest.importorskip("pyarrow")
    parquet = files["root"] / "some.parquet"
    result = run("recommend", files["model"], "--users", "3", "-n", "2", "-o", parquet)
    assert result.returncode == 0, result.stderr
    frame = pd.read_parquet(parquet)
    assert frame["user_id"].tolist() == [3, 3]
    np.testing.assert_array_equal(frame["item_id"].to_numpy(), model.recommend([3], 2).item_ids)


def test_evaluate_prints_metrics(files: dict[str, Any]) -> None:
    result = run("evaluate", files["ratings"], *SMALL_MODEL, "-n", "5")
    assert result.returncode == 0, result.stderr
    rows = metric_rows(result.stdout)
    # Ranking metrics carry their cutoff (issue 9); rating errors are global.
    for metric in ("NDCG@5", "Recall@5", "Precision@5", "RBP@5", "Hit@5", "RecipRank@5"):
        assert metric in rows, result.stdout
    for metric in ("RMSE", "MAE"):
        assert metric in rows, result.stdout
    assert 0 <= rows["NDCG@5"] <= 1 and 0 < rows["RMSE"] < 3


# ---- user errors: exit 2, one line, no traceback -------------------------------------------


def test_missing_data_file(files: dict[str, Any]) -> None:
    missing = files["root"] / "nope.csv"
    assert_user_error(run("train", missing, "-o", files["root"] / "m1.alskit"), "nope.csv")


def test_missing_column(files: dict[str, Any]) -> None:
    result = run("evaluate", files["ratings"], "--user-col", "nope", *SMALL_MODEL)
    assert_user_error(result, "nope")


def test_malformed_csv(files: dict[str, Any]) -> None:
    result = run("train", files["malformed"], "-o", files["root"] / "m2.alskit", *SMALL_MODEL)
    assert_user_error(result, "malformed.csv")
    assert not (files["root"] / "m2.alskit").exists()


def test_missing_model_file(files: dict[str, Any]) -> None:
    assert_user_error(run("recommend", files["root"] / "none.alskit"), "none.alskit")


def test_corrupt_model_file(files: dict[str, Any]) -> None:
    assert_user_error(run("recommend", files["corrupt"], "-n", "2"), "corrupt.alskit")


def test_unknown_user(files: dict[str, Any]) -> None:
    assert_user_error(run("recommend", files["model"], "--users", "1", "424242"), "424242")


# ---- bugs ----------------------------------------------------------------------------------


def test_train_output_directory_missing(files: dict[str, Any]) -> None:
    out = files["root"] / "no-such-dir" / "m.alskit"
    assert_user_error(run("train", files["ratings"], "-o", out, *SMALL_MODEL))


def test_recommend_output_directory_missing(files: dict[str, Any]) -> None:
    out = files["root"] / "no-such-dir" / "recs.csv"
    assert_user_error(run("recommend", files["model"], "-n", "2", "-o", out))


def test_evaluate_without_rating_column(files: dict[str, Any]) -> None:
    # (Without --model, data with no ratings now picks the implicit model: issue 9.)
    result = run("evaluate", files["implicit"], "--model", "biased", *SMALL_MODEL)
    assert_user_error(result, "rating")


def test_recommend_tampered_header(files: dict[str, Any]) -> None:
    bad = files["root"] / "tampered.alskit"
    with zipfile.ZipFile(files["model"]) as archive:
        content = {name: archive.read(name) for name in archive.namelist()}
    header = json.loads(content["model.json"])
    del header["state"]["global_bias"]
    content["model.json"] = json.dumps(header).encode()
    with zipfile.ZipFile(bad, "w") as archive:
        for name, data in content.items():
            archive.writestr(name, data)
    assert_user_error(run("recommend", bad, "-n", "2"))


def test_invalid_option_message_names_the_option(files: dict[str, Any]) -> None:
    result = run("train", files["ratings"], "-o", files["root"] / "m3.alskit", "--features", "0")
    assert_user_error(result)
    assert "embedding_size" in result.stderr or "features" in result.stderr
