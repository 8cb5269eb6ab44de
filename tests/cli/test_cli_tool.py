"""The command line behaves like a well-made tool (issue 9), run as subprocesses.

Options that do not apply, duplicate pairs, output formats and paths, help, version,
``python -m alskit``, usage of the right command, closed pipes, stdin and pipes as input,
``train --resume`` and Ctrl-C during ``train``. Data are tiny and models small.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import alskit
from alskit.synthetic import generate
from cli_runner import SMALL_MODEL, assert_user_error, metric_rows, run


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("tool")
    frame = generate("tiny", kind="explicit", seed=3).interactions_df()
    ratings = root / "ratings.csv"
    frame[["user_id", "item_id", "rating"]].to_csv(ratings, index=False)
    clicks = root / "clicks.csv"
    frame[["user_id", "item_id"]].to_csv(clicks, index=False)
    # The same pairs again at the end, with other ratings: three duplicate pairs.
    again = frame[["user_id", "item_id", "rating"]].iloc[[5, 50, 500]].copy()
    again["rating"] = 6 - again["rating"]
    duplicated = root / "duplicated.csv"
    pd.concat([frame[["user_id", "item_id", "rating"]], again]).to_csv(duplicated, index=False)
    model = root / "model.alskit"
    result = run("train", ratings, *SMALL_MODEL, "--seed", "5", "-o", model)
    assert result.returncode == 0, result.stderr
    return {
        "root": root,
        "frame": frame,
        "ratings": ratings,
        "clicks": clicks,
        "duplicated": duplicated,
        "model": model,
        "train": result,
    }


# ---- train says what it did ----------------------------------------------------------------


def test_train_reports_data_model_and_file(files: dict[str, Any]) -> None:
    data = alskit.load_csv(files["ratings"])
    out = files["train"].stdout
    assert f"{data.user_count} users" in out and f"{data.item_count} items" in out
    assert f"{data.interaction_count} interactions" in out
    assert "BiasedMF" in out and "the data has ratings" in out  # which model, and why
    assert f"saved to {files['model']}" in out
    assert "4 features, 2 epochs" in out


def test_model_chosen_from_the_data_or_the_options(files: dict[str, Any]) -> None:
    clicks = run("evaluate", files["clicks"], *SMALL_MODEL, "-n", "5")
    assert clicks.returncode == 0, clicks.stderr
    assert "Model: ImplicitMF (chosen because the data has no ratings)" in clicks.stdout
    assert "RMSE" not in metric_rows(clicks.stdout)  # an implicit model predicts no ratings

    ratings = run("evaluate", files["ratings"], *SMALL_MODEL, "-n", "5")
    assert "Model: BiasedMF (chosen because the data has ratings)" in ratings.stdout

    out = files["root"] / "weighted.alskit"
    weighted = run("train", files["ratings"], "--weight", "10", *SMALL_MODEL, "-o", out)
    assert weighted.returncode == 0, weighted.stderr
    assert "ImplicitMF (chosen because --weight applies only to it)" in weighted.stdout
    model = alskit.load(out)
    assert isinstance(model, alskit.ImplicitMFScorer) and model.config.weight == 10


# ---- options that do not apply -------------------------------------------------------------


def test_options_of_the_other_model_are_refused(files: dict[str, Any]) -> None:
    out = files["root"] / "refused.alskit"
    result = run(
        "train", files["ratings"], "--model", "biased", "--solver", "cg", "--weight", "10",
        "-o", out,
    )  # fmt: skip
    assert_user_error(result, "--solver", "--weight", "--model biased")
    assert not out.exists()
    result = run("evaluate", files["ratings"], "--model", "implicit", "--damping", "50")
    assert_user_error(result, "--damping", "--model implicit")
    # Chosen from the data (ratings: biased), an implicit-only option is refused too.
    result = run("evaluate", files["ratings"], "--damping", "5", "--cg-steps", "2", "-n", "3")
    assert_user_error(result, "--cg-steps", "--model biased")


def test_invalid_value_names_the_option(files: dict[str, Any]) -> None:
    result = run("train", files["ratings"], "--weight", "-1", "-o", files["root"] / "w.alskit")
    assert_user_error(result, "--weight")


def test_negative_ratings_advice_names_the_option(files: dict[str, Any], tmp_path: Path) -> None:
    frame = files["frame"][["user_id", "item_id", "rating"]].copy()
    frame.loc[frame.index[::7], "rating"] *= -1
    signed = tmp_path / "signed.csv"
    frame.to_csv(signed, index=False)
    common = ["--model", "implicit", "--use-ratings", *SMALL_MODEL]
    refused = run("train", signed, *common, "-o", tmp_path / "r.alskit")
    assert_user_error(refused, "--use-ratings with negative ratings")
    assert "pass --negative-feedback" in refused.stderr and "=True" not in refused.stderr
    accepted = run("train", signed, *common, "--negative-feedback", "-o", tmp_path / "a.alskit")
    assert accepted.returncode == 0, accepted.stderr
    config = alskit.load(tmp_path / "a.alskit").config
    assert config.negative_feedback and config.use_ratings


def test_sep_backslash_t_is_a_tab(files: dict[str, Any], tmp_path: Path) -> None:
    tsv = tmp_path / "ratings.txt"  # not .tsv: the separator must come from --sep
    files["frame"][["user_id", "item_id", "rating"]].to_csv(tsv, sep="\t", index=False)
    result = run("train", tsv, "--sep", "\\t", *SMALL_MODEL, "-o", tmp_path / "t.alskit")
    assert result.returncode == 0, result.stderr
    assert alskit.load(tmp_path / "t.alskit").trained_epochs > 0


# ---- duplicates ----------------------------------------------------------------------------


def test_duplicates_refused_with_the_option_to_pass(files: dict[str, Any]) -> None:
    out = files["root"] / "dup.alskit"
    result = run("train", files["duplicated"], *SMALL_MODEL, "-o", out)
    assert_user_error(result, "3 duplicate", "--duplicates last", "duplicated.csv")
    assert "duplicates='" not in result.stderr  # no Python keyword on the command line
    assert not out.exists()


@pytest.mark.parametrize("policy", ["last", "sum"])
def test_duplicates_last_and_sum(files: dict[str, Any], policy: str) -> None:
    out = files["root"] / f"dup-{policy}.alskit"
    result = run(
        "train", files["duplicated"], "--duplicates", policy, *SMALL_MODEL, "--seed", "5",
        "-o", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = alskit.load_csv(files["duplicated"], duplicates=policy)  # type: ignore[arg-type]
    assert f"{data.interaction_count} interactions" in result.stdout
    same = alskit.BiasedMFScorer(features=4, epochs=2)
    same.train(data, alskit.TrainingOptions(rng=5, threads=1))
    model = alskit.load(out)
    np.testing.assert_array_equal(model.item_features_, same.item_features_)
    evaluated = run("evaluate", files["duplicated"], "--duplicates", policy, *SMALL_MODEL)
    assert evaluated.returncode == 0, evaluated.stderr


# ---- output: format from the extension, errors name the user's path -------------------------


def _read(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path)
    if fmt == "tsv":
        return pd.read_csv(path, sep="\t")
    if fmt == "parquet":
        return pd.read_parquet(path)
    if fmt == "json":
        return pd.DataFrame(json.loads(path.read_text()))
    return pd.DataFrame([json.loads(line) for line in path.read_text().splitlines()])


@pytest.mark.parametrize("name", ["r.csv", "r.tsv", "r.parquet", "r.json", "r.jsonl", "r.tsv.gz"])
def test_output_format_from_the_extension(files: dict[str, Any], name: str) -> None:
    out = files["root"] / name
    result = run("recommend", files["model"], "--users", "1", "7", "-n", "3", "-o", out)
    assert result.returncode == 0, result.stderr
    if name.endswith(".gz"):
        plain = out.with_suffix("")
        plain.write_bytes(gzip.decompress(out.read_bytes()))
        out = plain
    frame = _read(out, out.suffix[1:])
    assert list(frame.columns) == ["user_id", "item_id", "score", "rank"]
    want = alskit.load(files["model"]).recommend([1, 7], n=3)
    np.testing.assert_array_equal(frame["item_id"].to_numpy(), want.item_ids)
    # the shortest repr of each float32 score, read back, is that score exactly
    np.testing.assert_array_equal(frame["score"].to_numpy(dtype=want.scores.dtype), want.scores)
    assert frame["rank"].tolist() == [1, 2, 3, 1, 2, 3]


@pytest.mark.parametrize("name", ["recs.txt", "recs", "recs.parquet.gz"])
def test_unknown_output_extension_refused(files: dict[str, Any], name: str) -> None:
    out = files["root"] / name
    result = run("recommend", files["model"], "-n", "2", "-o", out)
    assert_user_error(result, str(out), ".csv", ".jsonl")
    assert not out.exists()


def test_errors_name_the_users_path(files: dict[str, Any]) -> None:
    missing = files["root"] / "missing" / "dir"
    result = run("train", files["ratings"], *SMALL_MODEL, "-o", missing / "z.alskit")
    assert_user_error(result, f"directory {missing} does not exist", "z.alskit")
    assert ".partial" not in result.stderr
    result = run("recommend", files["model"], "-o", missing / "recs.csv")
    assert_user_error(result, f"directory {missing} does not exist", "recs.csv")
    result = run("train", files["ratings"], *SMALL_MODEL, "-o", files["root"])
    assert_user_error(result, str(files["root"]), "Is a directory")
    result = run("recommend", files["model"], "-o", files["root"])
    assert_user_error(result, str(files["root"]), "Is a directory")


# ---- help, version, python -m alskit, usage ------------------------------------------------


def test_help_shows_defaults_and_a_description_per_command() -> None:
    top = run("--help")
    assert top.returncode == 0
    for command, summary in (
        ("quickstart", "train and evaluate three models on built-in synthetic ratings"),
        ("train", "train a model on a data file and save it"),
        ("recommend", "top-N recommendations from a saved model"),
        ("evaluate", "train on a holdout split and print accuracy metrics"),
    ):
        assert summary in " ".join(top.stdout.split()), top.stdout
        sub = run(command, "--help")
        assert sub.returncode == 0, sub.stderr
        assert summary[0].upper() + summary[1:] in " ".join(sub.stdout.split()), sub.stdout
    train = " ".join(run("train", "--help").stdout.split())
    for text in (
        "embedding size (default: 50)",
        "training epochs (default: 10)",
        "(default: error)",  # --duplicates
        "random seed (default: 42)",
        "confidence weight (default: 40.0)",
        "bias damping (default: 5.0)",
    ):
        assert text in train, text
    recommend = " ".join(run("recommend", "--help").stdout.split())
    assert "list length (default: 10)" in recommend and ".jsonl" in recommend


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"alskit {alskit.__version__}"


def test_python_dash_m_alskit(files: dict[str, Any]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "alskit", "recommend", files["model"], "--users", "2", "-n", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "user_id,item_id,score,rank"
    assert result.stdout.splitlines()[1].startswith("2,")


@pytest.mark.parametrize("command", ["train", "recommend", "evaluate"])
def test_wrong_option_prints_the_commands_usage(files: dict[str, Any], command: str) -> None:
    target = files["model"] if command == "recommend" else files["ratings"]
    result = run(command, target, "--bogus", "-o", files["root"] / "bogus.alskit")
    assert result.returncode == 2
    assert result.stderr.startswith(f"usage: alskit {command} "), result.stderr
    assert "unrecognized arguments: --bogus" in result.stderr
    bad_value = run(command, target, "--threads", "many")
    assert bad_value.stderr.startswith(f"usage: alskit {command} "), bad_value.stderr


def test_train_needs_an_output(files: dict[str, Any]) -> None:
    result = run("train", files["ratings"], *SMALL_MODEL)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: alskit train ")
    assert "-o/--output" in result.stderr


def test_dash_output_is_stdout_for_recommend_and_refused_for_train(
    files: dict[str, Any], tmp_path: Path
) -> None:
    to_stdout = run("recommend", files["model"], "--users", "2", "-n", "3")
    dashed = run("recommend", files["model"], "--users", "2", "-n", "3", "-o", "-")
    assert dashed.returncode == 0, dashed.stderr
    assert dashed.stdout == to_stdout.stdout and len(dashed.stdout.splitlines()) == 4
    refused = subprocess.run(  # in tmp_path: a file named "-" would land there
        [sys.executable, "-m", "alskit", "train", str(files["ratings"]), *SMALL_MODEL]
        + ["-o", "-"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert_user_error(refused, "-o -", "not written to standard output")
    assert list(tmp_path.iterdir()) == []


# ---- a reader that closes early ------------------------------------------------------------


def test_reader_closing_early_ends_quietly(files: dict[str, Any]) -> None:
    # Far more than a pipe's buffer: the writer is still writing when the reader leaves.
    args = [sys.executable, "-m", "alskit", "recommend", str(files["model"]), "-n", "80"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline() == b"user_id,item_id,score,rank\n"
    proc.stdout.readline()
    proc.stdout.close()
    stderr = proc.stderr.read()
    proc.stderr.close()
    assert proc.wait(timeout=120) == 0
    assert stderr == b""


def test_head_in_a_shell_pipeline(files: dict[str, Any]) -> None:
    if shutil.which("head") is None or shutil.which("bash") is None:
        pytest.skip("needs bash and head")
    script = (
        f"set -o pipefail; '{sys.executable}' -m alskit recommend '{files['model']}' -n 80 "
        "| head -2"
    )
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 2


def _train_onto(stdout: Any, files: dict[str, Any], out: Path) -> subprocess.CompletedProcess[str]:
    """`alskit train` of the module's model (same data, options and seed) with ``stdout``."""
    return subprocess.run(
        [sys.executable, "-m", "alskit", "train", str(files["ratings"]), *SMALL_MODEL]
        + ["--seed", "5", "-o", str(out)],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
    )


def test_train_into_a_closed_pipe_still_trains_and_saves(
    files: dict[str, Any], tmp_path: Path
) -> None:
    # train's stdout is progress; its product is the file. A reader that has gone (as
    # `| head -1` after the first line) must not stop the training: it did, with exit 0 and
    # no model. The reader is gone before the first line here, so no timing decides it.
    out = tmp_path / "piped.alskit"
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = _train_onto(write_end, files, out)
    finally:
        os.close(write_end)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    same = alskit.load(files["model"])
    assert np.array_equal(alskit.load(out).item_features_, same.item_features_)


def test_train_onto_a_full_stdout_saves_then_reports(files: dict[str, Any], tmp_path: Path) -> None:
    if not Path("/dev/full").exists():
        pytest.skip("needs /dev/full")
    out = tmp_path / "full.alskit"
    with open("/dev/full", "w") as full:
        result = _train_onto(full, files, out)
    assert result.returncode == 2
    assert "cannot write to standard output" in result.stderr
    assert f"saved to {out}" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert alskit.load(out).trained_epochs == alskit.load(files["model"]).trained_epochs


# ---- input from stdin and pipes ------------------------------------------------------------


def _trained_on(result: subprocess.CompletedProcess[str], count: int) -> None:
    assert result.returncode == 0, result.stderr
    assert f"on {count} interactions" in result.stdout, result.stdout


def test_stdin_reads_every_row(files: dict[str, Any]) -> None:
    count = len(files["frame"])
    out = files["root"] / "stdin.alskit"
    args = [sys.executable, "-m", "alskit", "train", "-", *SMALL_MODEL, "-o", str(out)]
    content = files["ratings"].read_bytes()
    for data in (content, gzip.compress(content)):  # compression told by the content
        result = subprocess.run(args, input=data, capture_output=True, timeout=120)
        decoded = subprocess.CompletedProcess(
            result.args, result.returncode, result.stdout.decode(), result.stderr.decode()
        )
        _trained_on(decoded, count)
    with open(files["ratings"], "rb") as stdin:  # stdin redirected from a file
        result = subprocess.run(args, stdin=stdin, capture_output=True, text=True, timeout=120)
    _trained_on(result, count)


def test_process_substitution_reads_every_row(files: dict[str, Any]) -> None:
    if shutil.which("bash") is None:
        pytest.skip("needs bash")
    out = files["root"] / "fifo.alskit"
    script = (
        f"'{sys.executable}' -m alskit train <(cat '{files['ratings']}') "
        f"{' '.join(SMALL_MODEL)} -o '{out}'"
    )
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    _trained_on(result, len(files["frame"]))
    # And evaluate on a pipe: the same split and figures as on the file.
    on_file = run("evaluate", files["clicks"], *SMALL_MODEL, "-n", "5")
    script = (
        f"cat '{files['clicks']}' | '{sys.executable}' -m alskit evaluate - "
        f"{' '.join(SMALL_MODEL)} -n 5"
    )
    on_pipe = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=120)
    assert on_pipe.returncode == 0, on_pipe.stderr
    assert metric_rows(on_pipe.stdout) == metric_rows(on_file.stdout)


# ---- resume and Ctrl-C ---------------------------------------------------------------------


def test_resume_continues_exactly(files: dict[str, Any]) -> None:
    model = files["root"] / "resume.alskit"
    first = run("train", files["ratings"], *SMALL_MODEL, "--seed", "9", "-o", model)
    assert first.returncode == 0, first.stderr
    more = run("train", files["ratings"], "--resume", model, "--epochs", "4", "--threads", "1")
    assert more.returncode == 0, more.stderr
    assert f"Resuming BiasedMF from {model} at epoch 2/4" in more.stdout
    resumed = alskit.load(model)
    assert resumed.trained_epochs == 4
    straight = alskit.BiasedMFScorer(features=4, epochs=4)
    straight.train(alskit.load_csv(files["ratings"]), alskit.TrainingOptions(rng=9, threads=1))
    np.testing.assert_array_equal(resumed.item_features_, straight.item_features_)
    assert resumed.user_features_ is not None and straight.user_features_ is not None
    np.testing.assert_array_equal(resumed.user_features_, straight.user_features_)

    done = run("train", files["ratings"], "--resume", model)
    assert_user_error(done, "already trained all its 4 epochs", "--epochs")
    changed = run("train", files["ratings"], "--resume", model, "--features", "8")
    assert_user_error(changed, "--features", "cannot change")
    other = run("train", files["ratings"], "--resume", model, "--model", "implicit")
    assert_user_error(other, "--model implicit", "biased")
    fewer = files["root"] / "fewer.csv"
    files["frame"][["user_id", "item_id", "rating"]].iloc[:-10].to_csv(fewer, index=False)
    different = run("train", fewer, "--resume", model, "--epochs", "5")
    assert_user_error(different, "differs")


def test_ctrl_c_saves_the_last_complete_epoch(tmp_path: Path) -> None:
    data = tmp_path / "ratings.csv"
    generate("small", kind="explicit", seed=2).interactions_df()[
        ["user_id", "item_id", "rating"]
    ].to_csv(data, index=False)
    out = tmp_path / "model.alskit"
    args = [
        sys.executable, "-m", "alskit", "train", str(data), "--features", "32", "--epochs",
        "10000", "--threads", "1", "--verbose", "-o", str(out),
    ]  # fmt: skip
    proc = subprocess.Popen(
        args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A child started from a non-interactive shell may inherit an ignored SIGINT.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "finished epoch 2/" in line:
            proc.send_signal(signal.SIGINT)  # as Ctrl-C does
            break
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    model = alskit.load(out)
    assert 2 <= model.trained_epochs < 10000
    assert f"({model.trained_epochs}/10000) to {out}" in stderr
    assert f"--resume {out}" in stderr

    # It continues from there.
    target = model.trained_epochs + 1
    result = run("train", data, "--resume", out, "--epochs", str(target), "--threads", "1")
    assert result.returncode == 0, result.stderr
    assert f"at epoch {model.trained_epochs}/{target}" in result.stdout
    assert alskit.load(out).trained_epochs == target
