"""The ``alskit`` command line: quickstart, train, recommend, evaluate.

User errors end with one line on stderr (``alskit COMMAND: error: ...``) and exit status 2;
a wrong option prints the command's usage; a reader that closes the output early (``| head``)
ends the run quietly with status 0; Ctrl-C exits with status 130 (``train -o F`` first saves
the last complete epoch to F).
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from . import __version__
from .als import SCORERS, ALSBase, ALSConfig, BiasedMFScorer, ImplicitMFScorer, kind_of, load
from .data import Dataset, load_interactions
from .recommendations import format_of
from .training import TrainingOptions

MODELS = SCORERS  # --model KIND: the registered scorers
LABELS = {kind: cls.label for kind, cls in SCORERS.items()}

# Each model option: its config field (the scorers whose config has it take the option).
MODEL_FIELDS: dict[str, str] = {
    "features": "embedding_size",
    "epochs": "epochs",
    "regularization": "regularization",
    "dtype": "dtype",
    "user_embeddings": "user_embeddings",
    "damping": "damping",
    "weight": "weight",
    "use_ratings": "use_ratings",
    "negative_feedback": "negative_feedback",
    "solver": "solver",
    "cg_steps": "cg_steps",
    "block_size": "block_size",
    "sweeps": "sweeps",
}


def _takers(dest: str) -> list[str]:
    """The scorers whose config has the option's field."""
    field = MODEL_FIELDS[dest]
    return sorted(k for k, cls in MODELS.items() if field in cls.config_class().model_fields)


# Each model option: its config field, and the model it applies to (None: every model).
MODEL_OPTIONS: dict[str, tuple[str, str | None]] = {
    dest: (field, None if len(_takers(dest)) == len(MODELS) else "/".join(_takers(dest)))
    for dest, field in MODEL_FIELDS.items()
}

# The Dataset's advice for duplicate pairs names its Python keyword; here, the option.
_DUPLICATES_ADVICE = (
    "pass duplicates='last' or 'sum'",
    "pass --duplicates last or --duplicates sum",
)
_TRAINING_ADVICE = (  # the Python names in training errors, as the command line spells them
    ("use_ratings=True with negative ratings", "--use-ratings with negative ratings"),
    ("set negative_feedback=True", "pass --negative-feedback"),
)


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def _flag(dest: str) -> str:
    return "--" + dest.replace("_", "-")


def _default(model: str | None, field: str) -> Any:
    """A model option's default, from its config (the one place it is defined)."""
    config = ALSConfig if model is None else MODELS[model].config_class()
    return config.model_fields[field].default


# ---- data and models -----------------------------------------------------------------------


def _load_data(path: str, args: argparse.Namespace) -> Dataset:
    source = "/dev/stdin" if path == "-" else path
    if path != "-" and not Path(path).exists():
        raise CommandError(f"data file not found: {path}")
    try:
        return load_interactions(
            source,
            sep=args.sep,
            user_col=args.user_col,
            item_col=args.item_col,
            rating_col=args.rating_col,
            duplicates=args.duplicates,
        )
    except ImportError as e:
        raise CommandError(f"cannot read {path}: {_describe(e)}") from e
    except (ValueError, TypeError, KeyError, OSError) as e:
        message = _describe(e).replace(*_DUPLICATES_ADVICE)
        message = message.removeprefix(f"{source}: ")  # the loader names the file too
        raise CommandError(f"cannot read {path}: {message}") from e


def _given_options(args: argparse.Namespace) -> list[str]:
    """The model options given on the command line (their defaults are None)."""
    return [dest for dest in MODEL_OPTIONS if getattr(args, dest, None) is not None]


def _check_applicable(args: argparse.Namespace, kind: str) -> None:
    wrong = [d for d in _given_options(args) if kind not in _takers(d)]
    if wrong:
        flags = ", ".join(_flag(d) for d in wrong)
        others = " or ".join(f"--model {k}" for k in sorted({k for d in wrong for k in _takers(d)}))
        verb = "does" if len(wrong) == 1 else "do"
        raise CommandError(f"{flags} {verb} not apply to --model {kind} (only to {others})")


def _choose_model(args: argparse.Namespace, data: Dataset) -> tuple[str, str]:
    """The model kind and why: ``--model``, else the options that only one model takes,
    else the data (ratings: biased; none: implicit)."""
    if args.model is not None:
        kind, reason = args.model, f"--model {args.model}"
    else:
        specific = [d for d in _given_options(args) if MODEL_OPTIONS[d][1] is not None]
        implied = set(MODELS).intersection(*(_takers(d) for d in specific)) if specific else set()
        if len(implied) == 1:
            (kind,) = implied
            flags = ", ".join(_flag(d) for d in specific)
            reason = f"chosen because {flags} applies only to it"
        elif data.ratings is not None:
            kind, reason = "biased", "chosen because the data has ratings"
        else:
            kind, reason = "implicit", "chosen because the data has no ratings"
    _check_applicable(args, kind)
    return kind, reason


def _model_options(args: argparse.Namespace) -> dict[str, Any]:
    return {MODEL_OPTIONS[d][0]: getattr(args, d) for d in _given_options(args)}


def _describe(error: BaseException) -> str:
    """One line naming what was wrong (pydantic errors name the field)."""
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in error.errors()
        )
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])  # str(KeyError) would add quotes
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"{error.filename}: {error.strerror}"
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _make_model(kind: str, args: argparse.Namespace) -> ALSBase:
    _check_applicable(args, kind)
    options = _model_options(args)
    try:
        return MODELS[kind](**options)
    except ValueError as e:
        # Name the command-line option next to the config field.
        text = _describe(e)
        for dest, (field, _) in MODEL_OPTIONS.items():
            text = text.replace(f"{field}:", f"{field} ({_flag(dest)}):")
        raise CommandError(f"invalid model option: {text}") from e


def _kind_of(model: ALSBase) -> str:
    return kind_of(model)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _summary(model: ALSBase) -> str:
    c = model.config
    return f"{_plural(c.embedding_size, 'feature')}, {_plural(c.epochs, 'epoch')}, {c.dtype}"


def _file_size(path: str) -> str:
    size = Path(path).stat().st_size
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def _say(text: str) -> None:
    """Print a paragraph wrapped to a terminal's width."""
    print(textwrap.fill(text, width=88, break_on_hyphens=False))


def _data_line(path: str, data: Dataset) -> str:
    what = "ratings" if data.ratings is not None else "interactions (no ratings)"
    name = "stdin" if path == "-" else path
    return (
        f"Data: {name}: {data.user_count} users, {data.item_count} items, "
        f"{data.interaction_count} {what}"
    )


# ---- output paths --------------------------------------------------------------------------


def _check_output(path: str) -> None:
    """Refuse, before any work, an output path that cannot be written (naming the user's
    path, never a temporary one)."""
    p = Path(path)
    if p.is_dir():
        raise CommandError(f"cannot write {path}: {os.strerror(errno.EISDIR)}")
    parent = p.parent
    if not parent.exists():
        raise CommandError(f"cannot write {path}: directory {parent} does not exist")
    if not parent.is_dir():
        raise CommandError(f"cannot write {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise CommandError(f"cannot write {path}: directory {parent} is not writable")


def _output_format(path: str) -> str:
    try:
        return format_of(path)
    except ValueError as e:
        raise CommandError(str(e)) from None


def _save(model: ALSBase, path: str) -> None:
    try:
        model.save(path)
    except OSError as e:
        raise CommandError(f"cannot write {path}: {e.strerror or _describe(e)}") from e


# ---- commands ------------------------------------------------------------------------------


def cmd_quickstart(args: argparse.Namespace) -> int:
    from .evaluation import measure
    from .evaluation.report import Column, describe_split, format_table, metric_label
    from .synthetic import generate

    start = time.perf_counter()
    data = generate(args.size, kind="explicit", seed=args.seed)
    print(
        f"Synthetic ratings ({args.size}, no download): {data.user_count} users, "
        f"{data.item_count} items, {data.interaction_count} ratings 1-5, generated in "
        f"{time.perf_counter() - start:.2f} s"
    )
    models = (
        ("BiasedMF", BiasedMFScorer(features=32, epochs=15)),
        ("ImplicitMF", ImplicitMFScorer(features=32, epochs=15)),
        ("ImplicitMF cg", ImplicitMFScorer(features=32, epochs=15, solver="cg")),
    )
    _say(
        "Models: 32 features, 15 epochs, float32; BiasedMF predicts ratings, ImplicitMF "
        "ranks by what users rated (exact Cholesky solves, or conjugate gradient: cg)."
    )
    results = []
    for label, model in models:
        # The same seed gives every model the same split.
        result = measure(model, data, rng=args.seed, threads=args.threads, n=args.n)
        results.append((label, result))
    first = results[0][1]
    _say(describe_split(first, data.user_count))
    print()
    n = args.n
    columns = [Column("model")]
    columns += [Column(metric_label(m, n), 4) for m in ("NDCG", "Recall")]
    columns += [Column("RMSE", 4), Column("MAE", 4), Column("train s", 2), Column("recs s", 2)]
    rows = [
        [
            label,
            result.summary()["NDCG"],
            result.summary()["Recall"],
            result.global_metrics.get("RMSE"),
            result.global_metrics.get("MAE"),
            result.seconds["train"],
            result.seconds["recommend"],
        ]
        for label, result in results
    ]
    print(format_table(columns, rows))
    print()
    _say(
        f"NDCG@{n}, Recall@{n}: mean over the {first.test_users} test users of their top-{n} "
        f"list (of the items they had not rated). RMSE, MAE: over all "
        f"{first.test_interactions} held-out ratings pooled (-: the model does not predict "
        "ratings)."
    )
    print()
    print(_NEXT_STEPS)
    return 0


_NEXT_STEPS = """\
Next, on your own data (CSV/TSV with user_id,item_id[,rating] columns, a MovieLens
u.data/ratings.dat/ratings.csv, or Parquet; '-' reads stdin):
  alskit evaluate ratings.csv                        measure on a holdout split
  alskit train ratings.csv -o model.alskit           train on everything, save
  alskit recommend model.alskit --users 1 2 -n 10    top-10 lists (CSV on stdout)"""


def _data_options_given(args: argparse.Namespace) -> str:
    """The data options as given (to repeat them in a suggested command)."""
    parts = []
    for dest, default in (
        ("sep", None),
        ("user_col", "user_id"),
        ("item_col", "item_id"),
        ("rating_col", "rating"),
        ("duplicates", "error"),
    ):
        value = getattr(args, dest)
        if value != default:
            parts.append(f"{_flag(dest)} {value!r}" if dest == "sep" else f"{_flag(dest)} {value}")
    return "".join(" " + p for p in parts)


def cmd_train(args: argparse.Namespace) -> int:
    output = args.output if args.output is not None else args.resume
    if output is None:
        args.parser.error("the following arguments are required: -o/--output (or --resume)")
    if output == "-":
        raise CommandError(
            "-o -: a model is a file (a zip archive), not written to standard output; give "
            "a file name, e.g. -o model.alskit"
        )
    _check_output(output)
    # Everything the options alone can refuse is refused before the data is read.
    resumed = None
    if args.resume is not None:
        resumed = _prepare_resume(_read_model(args.resume), args)
    elif args.model is not None:
        _make_model(args.model, args)  # refuse bad options before reading the data
    _verbose(args)
    data = _load_data(args.data, args)
    report = _Report()
    report.say(_data_line(args.data, data))
    if resumed is not None:
        model = resumed
        report.say(
            f"Resuming {LABELS[_kind_of(model)]} from {args.resume} at epoch "
            f"{model.trained_epochs}/{model.config.epochs} ({_summary(model)})"
        )
    else:
        kind, reason = _choose_model(args, data)
        model = _make_model(kind, args)
        report.say(f"Model: {LABELS[kind]} ({reason}); {_summary(model)}")
    start = time.perf_counter()
    options = TrainingOptions(rng=args.seed, threads=args.threads, resume=resumed is not None)
    try:
        model.train(data, options)
    except ValueError as e:
        message = _describe(e)
        for python, command_line in _TRAINING_ADVICE:
            message = message.replace(python, command_line)
        raise CommandError(f"training failed: {message}") from e
    except KeyboardInterrupt:
        if model.trained_epochs < model.config.epochs:
            return _interrupted(model, args, output)
        # Held to the end of the last epoch: all epochs are done, so finish (the loop runs
        # no more epochs, only the finalization) and save a complete model.
        model.train(data, TrainingOptions(threads=args.threads, resume=True, progress=False))
    _save(model, output)
    report.say(
        f"Trained {LABELS[_kind_of(model)]} on {data.interaction_count} interactions of "
        f"{data.user_count} users and {data.item_count} items in "
        f"{time.perf_counter() - start:.2f} s; saved to {output} "
        f"({_summary(model)}, {_file_size(output)})"
    )
    if report.error is not None:
        raise CommandError(
            f"cannot write to standard output: {_describe(report.error)} (the model was "
            f"trained and saved to {output})"
        )
    return 0


def _interrupted(model: ALSBase, args: argparse.Namespace, output: str) -> int:
    """After Ctrl-C (held until the epoch ended): save the last complete epoch."""
    prefix = "alskit train: interrupted"
    if model.trained_epochs == 0:
        print(f"{prefix} before the first epoch completed; nothing saved", file=sys.stderr)
        return 130
    _save(model, output)
    print(
        f"{prefix}: saved the model at its last complete epoch "
        f"({model.trained_epochs}/{model.config.epochs}) to {output}; continue with: "
        f"alskit train {args.data} --resume {output}{_data_options_given(args)}",
        file=sys.stderr,
    )
    return 130


def _prepare_resume(model: ALSBase, args: argparse.Namespace) -> ALSBase:
    """The loaded model, checked against the options (only --epochs may change)."""
    kind = _kind_of(model)
    if args.model is not None and args.model != kind:
        raise CommandError(f"--model {args.model} does not match {args.resume}, a {kind} model")
    fixed = [_flag(d) for d in _given_options(args) if d != "epochs"]
    if fixed:
        raise CommandError(
            f"{', '.join(fixed)} cannot change when resuming {args.resume} (it keeps its "
            "configuration); only --epochs can"
        )
    if args.epochs is not None:
        if args.epochs < model.trained_epochs:
            raise CommandError(
                f"--epochs {args.epochs} is fewer than the {model.trained_epochs} epochs "
                f"{args.resume} has already trained"
            )
        model.config = model.validate_config({**model.dump_config(), "epochs": args.epochs})
    if model.trained_epochs >= model.config.epochs:
        raise CommandError(
            f"{args.resume} has already trained all its {model.config.epochs} epochs; "
            f"pass --epochs N (more than {model.config.epochs}) to train further"
        )
    return model


def _verbose(args: argparse.Namespace) -> None:
    """With --verbose, every epoch is logged to stderr (time, deltas)."""
    if args.verbose:
        logging.basicConfig(format="%(name)s: %(message)s", stream=sys.stderr)
        logging.getLogger("alskit").setLevel(logging.INFO)


def _read_model(path: str) -> ALSBase:
    if not Path(path).exists():
        raise CommandError(f"model file not found: {path}")
    try:
        return load(path)
    except (ValueError, OSError) as e:
        raise CommandError(f"cannot load {path}: {_describe(e)}") from e


def cmd_recommend(args: argparse.Namespace) -> int:
    output = None if args.output == "-" else args.output  # "-": standard output
    fmt = "csv"
    if output is not None:
        _check_output(output)
        fmt = _output_format(output)
    model = _read_model(args.model_file)
    users: Any = None
    if args.users:
        users = _parse_ids(args.users, model.users_.ids().dtype.kind == "i")
    try:
        recs = model.recommend(users, args.n, threads=args.threads)
    except (KeyError, ValueError) as e:
        raise CommandError(f"cannot recommend: {_describe(e)}") from e
    frame = recs.to_df()
    if output is None:
        frame.to_csv(sys.stdout, index=False)
        return 0
    try:
        recs.write(output, fmt)  # atomically: a failed write keeps the previous file
    except ImportError as e:
        raise CommandError(
            f"writing Parquet ({output}) needs pyarrow: pip install 'alskit[parquet]'"
        ) from e
    except OSError as e:
        raise CommandError(f"cannot write {output}: {e.strerror or _describe(e)}") from e
    return 0


def _parse_ids(tokens: list[str], integer_ids: bool) -> Any:
    """Command-line ids as the model's id type: integers (negative ones too) for a model
    with integer ids, else strings."""
    if not integer_ids:
        return np.asarray(tokens)
    try:
        values = [int(t) for t in tokens]
    except ValueError as e:
        raise CommandError(f"the model has integer user ids: {e}") from e
    limit = np.iinfo(np.int64)
    beyond = [v for v in values if not limit.min <= v <= limit.max]
    if beyond:
        raise CommandError(f"unknown user id {beyond[0]} (beyond the int64 range)")
    return np.asarray(values, dtype=np.int64)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluation import measure
    from .evaluation.report import describe_split, metrics_table

    if args.model is not None:
        _make_model(args.model, args)  # refuse bad options before reading the data
    _verbose(args)
    data = _load_data(args.data, args)
    print(_data_line(args.data, data))
    kind, reason = _choose_model(args, data)
    model = _make_model(kind, args)
    print(f"Model: {LABELS[kind]} ({reason}); {_summary(model)}")
    try:
        result = measure(model, data, rng=args.seed, threads=args.threads, n=args.n)
    except ValueError as e:
        raise CommandError(f"evaluation failed: {_describe(e)}") from e
    _say(describe_split(result, data.user_count))
    print()
    print(metrics_table(result))
    print()
    print(
        f"Trained in {result.seconds['train']:.2f} s; top-{args.n} lists for the test users "
        f"in {result.seconds['recommend']:.2f} s."
    )
    given = "".join(_option_words(d, getattr(args, d)) for d in _given_options(args))
    shared = "".join(
        _option_words(d, getattr(args, d))
        for d in _given_options(args)
        if MODEL_OPTIONS[d][1] is None
    )
    print("Next:")
    if data.ratings is not None:  # the other model can train on it too: compare
        other = "implicit" if kind == "biased" else "biased"
        why = {
            "implicit": "often better top-N lists: it learns from which items users rated",
            "biased": "it predicts the ratings too, for RMSE and MAE",
        }[other]
        print(f"  alskit evaluate {args.data} --model {other}{shared}{_data_options_given(args)}")
        print(f"      ({why})")
    print(
        f"  alskit train {args.data} --model {kind}{given}{_data_options_given(args)} "
        "-o model.alskit"
    )
    return 0


def _option_words(dest: str, value: Any) -> str:
    """A given model option as it is written on the command line."""
    if dest in ("use_ratings", "negative_feedback"):  # flags
        return f" {_flag(dest)}"
    return f" {_flag(dest)} {str(value).lower() if isinstance(value, bool) else value}"


# ---- the parser ----------------------------------------------------------------------------


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows each option's default, except where there is none to show (None/False) or the
    help text states it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.default in (None, False) or "default" in text:
            return text
        return super()._get_help_string(action)


def _add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "data",
        help="interactions file: CSV/TSV with user, item[, rating] columns, MovieLens "
        "u.data/ratings.dat/ratings.csv, or .parquet (may be .gz/.bz2/.xz); '-' reads stdin",
    )
    p.add_argument(
        "--sep",
        default=None,
        type=lambda text: "\t" if text == "\\t" else text,
        help="field separator; '\\t' is a tab (default: from the file name: tab for "
        ".tsv/.tab, else ',')",
    )
    p.add_argument("--user-col", default="user_id", help="user column name")
    p.add_argument("--item-col", default="item_id", help="item column name")
    p.add_argument("--rating-col", default="rating", help="rating column name")
    p.add_argument(
        "--duplicates",
        choices=["error", "last", "sum"],
        default="error",
        help="a (user, item) pair given more than once: refuse the file, keep the last "
        "row, or add up the ratings",
    )


def _add_model_options(p: argparse.ArgumentParser) -> None:
    def d(field: str, model: str | None = None) -> str:
        return f"(default: {_default(model, field)})"

    p.add_argument(
        "--model",
        choices=sorted(MODELS),
        default=None,
        help="which scorer (default: biased if the data has ratings, else implicit)",
    )
    g = p.add_argument_group("model options (both models)")
    g.add_argument("--features", type=int, help=f"embedding size {d('embedding_size')}")
    g.add_argument("--epochs", type=int, help=f"training epochs {d('epochs')}")
    g.add_argument("--regularization", type=float, help=f"L2 regularization {d('regularization')}")
    g.add_argument("--dtype", choices=["float32", "float64"], help=f"factor precision {d('dtype')}")
    g.add_argument(
        "--user-embeddings",
        choices=["true", "false", "prefer"],
        type=str.lower,
        help=f"keep user embeddings (default: {str(_default(None, 'user_embeddings')).lower()})",
    )
    g = p.add_argument_group("biased model options")
    g.add_argument("--damping", type=float, help=f"bias damping {d('damping', 'biased')}")
    g = p.add_argument_group("implicit model options")
    g.add_argument("--weight", type=float, help=f"confidence weight {d('weight', 'implicit')}")
    g.add_argument(
        "--use-ratings",
        action="store_true",
        default=None,
        help="confidence from the rating values (default: presence only)",
    )
    g.add_argument(
        "--negative-feedback",
        action="store_true",
        default=None,
        help="with --use-ratings, negative ratings are dislikes (preference 0, confidence "
        "1 + weight·|rating|; default: refused)",
    )
    g.add_argument(
        "--solver",
        choices=["cholesky", "cg", "subspace"],
        help=f"exact Cholesky, conjugate gradient or subspace (iALS++) {d('solver', 'implicit')}",
    )
    g.add_argument(
        "--cg-steps", type=int, help=f"conjugate-gradient steps {d('cg_steps', 'implicit')}"
    )
    g.add_argument(
        "--block-size",
        type=int,
        help=f"subspace solver's block of coordinates {d('block_size', 'implicit')}",
    )
    g.add_argument(
        "--sweeps", type=int, help=f"subspace sweeps per half-epoch {d('sweeps', 'implicit')}"
    )
    p.add_argument("--seed", type=int, default=42, help="random seed")
    p.add_argument(
        "-v", "--verbose", action="store_true", help="log every epoch's time and deltas to stderr"
    )


def _add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=None, help="native threads (default: all)")


def _command(
    sub: Any, name: str, summary: str, description: str, epilog: str
) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name,
        help=summary,
        description=textwrap.fill(f"{summary[0].upper()}{summary[1:]}. {description}", 78),
        epilog=epilog,
        formatter_class=_HelpFormatter,
    )
    p.set_defaults(parser=p)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alskit",
        description="Fast, exact ALS matrix factorization for recommenders.",
        epilog="Start with 'alskit quickstart'; 'alskit COMMAND --help' describes a command.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"alskit {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = _command(
        sub,
        "quickstart",
        "train and evaluate three models on built-in synthetic ratings",
        "No download: the data is generated.",
        "example:\n  alskit quickstart --size tiny",
    )
    p.add_argument(
        "--size",
        default="small",
        choices=["tiny", "small", "medium", "large"],
        help="synthetic data size (small: the MovieLens-100K shape)",
    )
    p.add_argument("-n", type=int, default=20, help="recommendation list length")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    _add_threads(p)
    p.set_defaults(run=cmd_quickstart)

    p = _command(
        sub,
        "train",
        "train a model on a data file and save it",
        "Ctrl-C saves the last complete epoch; --resume continues it.",
        "examples:\n  alskit train ratings.csv -o model.alskit\n"
        "  alskit train clicks.csv --model implicit --features 64 -o model.alskit\n"
        "  alskit train ratings.csv --resume model.alskit --epochs 20",
    )
    _add_data_options(p)
    _add_model_options(p)
    _add_threads(p)
    p.add_argument("-o", "--output", help="model file to write (default: the --resume file)")
    p.add_argument(
        "--resume",
        metavar="MODEL",
        help="continue training MODEL (saved by 'alskit train', e.g. after Ctrl-C) on the "
        "same data, up to its epochs or --epochs",
    )
    p.set_defaults(run=cmd_train)

    p = _command(
        sub,
        "recommend",
        "top-N recommendations from a saved model",
        "Writes (user_id, item_id, score, rank) rows, excluding items each user has seen.",
        "examples:\n  alskit recommend model.alskit --users 1 2 -n 5\n"
        "  alskit recommend model.alskit -o recs.parquet",
    )
    p.add_argument("model_file", help="model written by 'alskit train'")
    p.add_argument("--users", nargs="*", help="user ids (default: all users)")
    p.add_argument("-n", type=int, default=10, help="list length")
    p.add_argument(
        "-o",
        "--output",
        help="output file, format from its extension: .csv, .tsv, .parquet, .json "
        "(an array of rows) or .jsonl (one row a line); '-' is stdout (default: CSV to "
        "stdout)",
    )
    _add_threads(p)
    p.set_defaults(run=cmd_recommend)

    p = _command(
        sub,
        "evaluate",
        "train on a holdout split and print accuracy metrics",
        "A fifth of the users, at random, have 20% of their interactions held out; the "
        "model trains on the rest and is measured on its top-N lists for them (and, for "
        "ratings, on its rating predictions).",
        "examples:\n  alskit evaluate ratings.csv\n  alskit evaluate clicks.csv -n 10",
    )
    _add_data_options(p)
    _add_model_options(p)
    _add_threads(p)
    p.add_argument("-n", type=int, default=20, help="list length (the metrics' cutoff)")
    p.set_defaults(run=cmd_evaluate)
    return parser


class _Report:
    """The progress lines of a command whose product is a file (``train``): a reader that
    has gone (``| head``) or a failing stdout stops the lines, never the work. A failure
    other than a closed pipe is kept for the command to report once its file is saved."""

    def __init__(self) -> None:
        self.open = True
        self.error: OSError | None = None

    def say(self, text: str) -> None:
        if not self.open:
            return
        try:
            print(text, flush=True)
        except OSError as e:  # BrokenPipeError included: the reader has gone
            self.open = False
            if not isinstance(e, BrokenPipeError):
                self.error = e
            _quiet_stdout()


def _quiet_stdout() -> None:
    """The reader of stdout has gone (e.g. ``| head``): send what is left nowhere, so the
    interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        # From the command's own parser, so its usage is printed, not the top-level one.
        args.parser.error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "user_embeddings", None) is not None:
        args.user_embeddings = {"true": True, "false": False}.get(
            args.user_embeddings, args.user_embeddings
        )
    try:
        status = int(args.run(args))
        sys.stdout.flush()  # a closed pipe shows here, inside the handler below
        return status
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except CommandError as e:
        print(f"alskit {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, KeyError, OSError, EOFError, MemoryError) as e:
        # Bad input met deeper down (data a model cannot use): still one line and status 2,
        # never a traceback.
        print(f"alskit {args.command}: error: {_describe(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"alskit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
