"""The ``alskit`` command line: quickstart, train, recommend, evaluate."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .als import ALSBase, BiasedMFScorer, ImplicitMFScorer
from .data import Dataset, load_interactions
from .training import TrainingOptions

MODELS: dict[str, type[ALSBase]] = {"biased": BiasedMFScorer, "implicit": ImplicitMFScorer}


class CommandError(Exception):
    """A user-facing failure: printed as one line, exit status 2."""


def _table(rows: list[dict[str, Any]]) -> str:
    """A plain aligned text table (numbers to 4 significant digits)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:.4g}"
        return "" if value is None else str(value)

    cells = [[cell(row.get(c)) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.rjust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(lines)


def _load_data(path: str, args: argparse.Namespace) -> Dataset:
    if not Path(path).exists():
        raise CommandError(f"data file not found: {path}")
    try:
        return load_interactions(
            path,
            sep=args.sep,
            user_col=args.user_col,
            item_col=args.item_col,
            rating_col=args.rating_col,
        )
    except (ValueError, TypeError, KeyError, OSError, ImportError) as e:
        raise CommandError(f"cannot read {path}: {_describe(e)}") from e


def _model_options(args: argparse.Namespace) -> dict[str, Any]:
    names = (
        "features",
        "epochs",
        "regularization",
        "damping",
        "weight",
        "use_ratings",
        "solver",
        "cg_steps",
        "dtype",
        "user_embeddings",
    )
    options = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    if "features" in options:
        options["embedding_size"] = options.pop("features")
    if args.model == "implicit":
        options.pop("damping", None)
    else:
        for n in ("weight", "use_ratings", "solver", "cg_steps"):
            options.pop(n, None)
    return options


def _describe(error: Exception) -> str:
    """One line naming what was wrong (pydantic errors name the field)."""
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in error.errors()
        )
    if isinstance(error, KeyError) and error.args:
        return str(error.args[0])  # str(KeyError) would add quotes
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def _make_model(args: argparse.Namespace) -> ALSBase:
    try:
        return MODELS[args.model](**_model_options(args))
    except ValueError as e:
        raise CommandError(f"invalid model option: {_describe(e)}") from e


def cmd_quickstart(args: argparse.Namespace) -> int:
    from .evaluation import measure
    from .synthetic import generate

    start = time.perf_counter()
    data = generate(args.size, kind="explicit", seed=args.seed)
    print(
        f"Synthetic data ({args.size}): {data.user_count} users, {data.item_count} items, "
        f"{data.interaction_count} ratings, generated in {time.perf_counter() - start:.2f}s"
    )
    rows = []
    for label, model in (
        ("BiasedMF", BiasedMFScorer(features=32, epochs=15, dtype="float32")),
        ("ImplicitMF", ImplicitMFScorer(features=32, epochs=15, dtype="float32")),
        ("ImplicitMF-cg", ImplicitMFScorer(features=32, epochs=15, dtype="float32", solver="cg")),
    ):
        result = measure(model, data, rng=args.seed, threads=args.threads)
        summary = result.summary()
        rows.append(
            {
                "model": label,
                "NDCG": summary["NDCG"],
                "Recall@20": summary["Recall"],
                "RMSE": summary.get("RMSE"),
                "MAE": summary.get("global_MAE"),
                "train_s": result.seconds["train"],
                "recommend_s": result.seconds["recommend"],
            }
        )
    print()
    print(_table(rows))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from .persistence import save

    data = _load_data(args.data, args)
    model = _make_model(args)
    start = time.perf_counter()
    try:
        model.train(data, TrainingOptions(rng=args.seed, threads=args.threads, progress=None))
    except ValueError as e:
        raise CommandError(f"training failed: {_describe(e)}") from e
    save(model, args.output)
    print(
        f"trained {model!r} on {data.interaction_count} interactions in "
        f"{time.perf_counter() - start:.2f}s; saved to {args.output}"
    )
    return 0


def _read_model(path: str) -> ALSBase:
    from .persistence import load

    if not Path(path).exists():
        raise CommandError(f"model file not found: {path}")
    try:
        return load(path)
    except ValueError as e:
        raise CommandError(f"cannot load {path}: {_describe(e)}") from e


def cmd_recommend(args: argparse.Namespace) -> int:
    model = _read_model(args.model_file)
    users: Any = None
    if args.users:
        users = _parse_ids(args.users, model.users_.ids().dtype.kind == "i")
    try:
        recs = model.recommend(users, args.n, threads=args.threads)
    except (KeyError, ValueError) as e:
        raise CommandError(f"cannot recommend: {_describe(e)}") from e
    frame = recs.to_df()
    if args.output is None:
        frame.to_csv(sys.stdout, index=False)
    elif args.output.endswith(".parquet"):
        try:
            recs.to_parquet(args.output)
        except ImportError as e:
            raise CommandError("writing Parquet needs pyarrow (pip install pyarrow)") from e
    else:
        recs.to_csv(args.output)
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

    data = _load_data(args.data, args)
    model = _make_model(args)
    result = measure(model, data, rng=args.seed, threads=args.threads, n=args.n)
    summary = result.summary()
    summary.update({f"{k}_s": v for k, v in result.seconds.items()})
    print(_table([{"metric": k, "value": v} for k, v in summary.items()]))
    return 0


def _add_data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "data",
        help="interactions file: CSV/TSV with user, item[, rating] columns, MovieLens "
        "u.data/ratings.dat/ratings.csv, or .parquet",
    )
    p.add_argument(
        "--sep",
        default=None,
        help="field separator (default: from the file name: tab for .tsv/.tab, else ',')",
    )
    p.add_argument("--user-col", default="user_id", help="user column name")
    p.add_argument("--item-col", default="item_id", help="item column name")
    p.add_argument("--rating-col", default="rating", help="rating column name")


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", choices=sorted(MODELS), default="biased", help="which scorer")
    p.add_argument("--features", type=int, help="embedding size (default 50)")
    p.add_argument("--epochs", type=int, help="training epochs (default 10)")
    p.add_argument("--regularization", type=float, help="L2 regularization (default 0.1)")
    p.add_argument("--damping", type=float, help="bias damping, biased model (default 5)")
    p.add_argument("--weight", type=float, help="confidence weight, implicit model (default 40)")
    p.add_argument(
        "--use-ratings",
        action="store_true",
        default=None,
        help="implicit model: confidence from rating values",
    )
    p.add_argument("--solver", choices=["cholesky", "cg"], help="implicit model solver")
    p.add_argument("--cg-steps", type=int, help="conjugate-gradient steps (default 3)")
    p.add_argument("--dtype", choices=["float32", "float64"], help="factor precision")
    p.add_argument(
        "--user-embeddings",
        choices=["true", "false", "prefer"],
        type=str.lower,
        help="keep user embeddings (default true)",
    )
    p.add_argument("--seed", type=int, default=42, help="random seed (default 42)")


def _add_threads(p: argparse.ArgumentParser) -> None:
    p.add_argument("--threads", type=int, default=None, help="native threads (default: all)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alskit", description="Fast, exact ALS matrix factorization for recommenders."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("quickstart", help="train and evaluate on built-in synthetic data")
    p.add_argument(
        "--size",
        default="small",
        choices=["tiny", "small", "medium", "large"],
        help="synthetic data size (default small: MovieLens-100K shape)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    _add_threads(p)
    p.set_defaults(run=cmd_quickstart)

    p = sub.add_parser("train", help="train a model on a data file and save it")
    _add_data_options(p)
    _add_model_options(p)
    _add_threads(p)
    p.add_argument("-o", "--output", required=True, help="model file to write")
    p.set_defaults(run=cmd_train)

    p = sub.add_parser("recommend", help="top-N recommendations from a saved model")
    p.add_argument("model_file", help="model written by 'alskit train'")
    p.add_argument("--users", nargs="*", help="user ids (default: all users)")
    p.add_argument("-n", type=int, default=10, help="list length (default 10)")
    p.add_argument("-o", "--output", help="CSV or .parquet file (default: CSV to stdout)")
    _add_threads(p)
    p.set_defaults(run=cmd_recommend)

    p = sub.add_parser("evaluate", help="train on a holdout split and print metrics")
    _add_data_options(p)
    _add_model_options(p)
    _add_threads(p)
    p.add_argument("-n", type=int, default=20, help="list length (default 20)")
    p.set_defaults(run=cmd_evaluate)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "user_embeddings", None) is not None:
        args.user_embeddings = {"true": True, "false": False}.get(
            args.user_embeddings, args.user_embeddings
        )
    try:
        return int(args.run(args))
    except CommandError as e:
        print(f"alskit {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, KeyError, OSError, EOFError, MemoryError) as e:
        # Bad input met deeper down (an unwritable output path, data a model cannot use):
        # still one line and status 2, never a traceback.
        print(f"alskit {args.command}: error: {_describe(e)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"alskit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
