"""alskit on Dask against alskit on one machine, on MovieLens-20M-shaped synthetic data.

The data (``alskit.synthetic``, shape ``ml20m``) is written as 16 Parquet partitions; each
measurement runs in its own process so that its memory is its own:

- local: ``Dataset`` from the Parquet files, ``model.train`` on 2 threads;
- dask (broadcast and routed): a ``LocalCluster`` of 2 worker processes × 1 thread, the
  client reading the partitions with ``dd.read_parquet`` (it never loads the interactions).

Local and Dask runs repeat in ``--rounds`` rounds of alternating order (local, broadcast,
routed; then routed, broadcast, local), Spark once in the middle, so that the host's drift
over the run does not fall on one side of a ratio. Printed per scorer: median seconds per
epoch over every round (epochs after the first; the first includes no setup in either path,
but the median is used anyway) and each round's median, the ratio dask / local, bytes that
crossed between workers per half-epoch (measured from the workers' transfer counters, and
as planned by the trainer), and the client's peak resident memory over its resident size
before training against the factor matrices. Spark MLlib's ALS (``local[2]``, the same
files, seconds per iteration) is measured when ``pyspark`` is importable (and Java is
installed); ``--kinds``/``--blocks`` choose what else runs.

    flock /tmp/alskit-cpu.lock python bench/dask_scaling.py --k 64 --epochs 4
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

MB = 1024.0 * 1024.0


def write_parts(directory: Path, parts: int, shape: str) -> None:
    import pandas as pd

    from alskit.synthetic import generate

    data = generate(shape, kind="explicit", seed=1)
    frame = pd.DataFrame(
        {
            "user_id": data.users.ids(data.user_nums),
            "item_id": data.items.ids(data.item_nums),
            "rating": data.ratings,
        }
    )
    # Partitions of shuffled rows: each holds users and items of every block.
    order = np.random.default_rng(0).permutation(len(frame))
    for p, rows in enumerate(np.array_split(order, parts)):
        frame.iloc[np.sort(rows)].to_parquet(directory / f"part-{p:02d}.parquet", index=False)


def make_model(kind: str, k: int, epochs: int) -> Any:
    from alskit.als import BiasedMFScorer, ImplicitMFScorer

    if kind == "explicit":
        return BiasedMFScorer(embedding_size=k, epochs=epochs)
    return ImplicitMFScorer(embedding_size=k, epochs=epochs)


def run_local(directory: Path, kind: str, k: int, epochs: int) -> dict[str, Any]:
    import pandas as pd

    from alskit.data import Dataset
    from alskit.training import TrainingOptions

    frame = pd.concat([pd.read_parquet(p) for p in sorted(directory.glob("*.parquet"))])
    data = Dataset.from_interactions_df(frame)
    del frame
    model = make_model(kind, k, epochs)
    times = []
    start = time.perf_counter()
    for _ in model.training_loop(data, TrainingOptions(rng=42, threads=2)):
        now = time.perf_counter()
        times.append(now - start)
        start = now
    return {"epoch_seconds": times}


def run_dask(
    directory: Path, kind: str, k: int, epochs: int, mode: str, blocks: int | None
) -> dict[str, Any]:
    import dask.dataframe as dd

    import distributed
    from alskit.distributed import DaskTrainer
    from alskit.training import TrainingOptions
    from memory import PeakSampler, rss

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        data = dd.read_parquet(str(directory))
        times: list[float] = []
        moved: list[int] = []
        marks = [time.perf_counter(), 0.0]

        def sent() -> int:
            counts = client.run(lambda dask_worker: dask_worker.transfer_outgoing_bytes_total)
            return int(sum(counts.values()))

        marks[1] = 0.0

        def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
            now = time.perf_counter()
            times.append(now - marks[0])
            total = sent()
            moved.append(total - int(marks[1]))
            marks[1] = total
            marks[0] = time.perf_counter()

        trainer = DaskTrainer(client, mode=mode, blocks=blocks, on_epoch=on_epoch)  # type: ignore[arg-type]
        base = rss()
        with PeakSampler() as peak:
            marks[0] = time.perf_counter()
            start = time.perf_counter()
            model = trainer.train(make_model(kind, k, epochs), data, TrainingOptions(rng=42))
            total_seconds = time.perf_counter() - start
        factors = model.item_features_.nbytes + model.user_features_.nbytes
        return {
            "epoch_seconds": times[1:],  # the first epoch's time includes the data setup
            "first_epoch_with_setup": times[0],
            "total_seconds": total_seconds,
            "bytes_measured_per_epoch": moved[1:],
            "bytes_planned_per_half_epoch": trainer.stats.bytes_per_half_epoch,
            "blocks": trainer.stats.blocks,
            "client_rss_before_mb": base / MB,
            "client_peak_increase_mb": (peak.peak - base) / MB,
            "factors_mb": factors / MB,
        }


def run_spark(directory: Path, kind: str, k: int, epochs: int) -> dict[str, Any]:
    """Spark MLlib's ALS on ``local[2]`` from the same Parquet files, its defaults otherwise
    (10 user and 10 item blocks, float32 factors), with the system's BLAS where netlib finds
    one (``libblas.so.3``, e.g. Debian's OpenBLAS) on one thread per task. A fit blocks the
    data and then iterates, so the time of one iteration is the difference between a fit of
    ``epochs`` iterations and a fit of one (after a first fit that warms the JVM up),
    divided by ``epochs - 1``."""
    from pyspark.ml.recommendation import ALS
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("alskit-dask-bench")
        .config("spark.driver.memory", "16g")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    frame = spark.read.parquet(str(directory)).cache()
    rows = frame.count()
    implicit = kind == "implicit"
    fit_seconds: dict[int, float] = {}
    for iterations in (1, 1, epochs):  # the first fit warms the JVM up and is not kept
        als = ALS(
            rank=k,
            maxIter=iterations,
            regParam=0.1,
            implicitPrefs=implicit,
            alpha=1.0,
            userCol="user_id",
            itemCol="item_id",
            ratingCol="rating",
            seed=42,
        )
        start = time.perf_counter()
        model = als.fit(frame)  # eager: the factors are computed and counted in fit
        model.userFactors.count()
        fit_seconds[iterations] = time.perf_counter() - start
    spark.stop()
    per_iteration = (fit_seconds[epochs] - fit_seconds[1]) / (epochs - 1)
    return {"rows": rows, "fit_seconds": fit_seconds, "iteration_seconds": per_iteration}


def child(args: argparse.Namespace) -> None:
    directory = Path(args.data)
    if args.run == "local":
        out = run_local(directory, args.kind, args.k, args.epochs)
    elif args.run == "spark":
        out = run_spark(directory, args.kind, args.k, args.spark_epochs)
    else:
        blocks = int(args.blocks) if args.blocks else None
        out = run_dask(directory, args.kind, args.k, args.epochs, args.run, blocks)
    print(json.dumps(out))


def epochs_of(rounds: list[dict[str, Any]]) -> tuple[float, str]:
    """The median epoch over every round's runs, and each round's median."""
    times = [r["epoch_seconds"] for r in rounds]
    each = ", ".join(f"{statistics.median(t):.2f}" for t in times)
    return statistics.median([t for r in times for t in r]), each


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="ml20m")
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--parts", type=int, default=16)
    parser.add_argument("--kinds", default="implicit,explicit")
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="rounds of local and Dask runs, in alternating order (Spark once, in the middle)",
    )
    parser.add_argument(
        "--blocks",
        default="",
        help="comma-separated blocks per side to compare (default: the trainer's default)",
    )
    parser.add_argument(
        "--spark-epochs",
        type=int,
        default=3,
        help="iterations of the longer Spark fit (at least 2; measured only with pyspark)",
    )
    parser.add_argument(
        "--spark",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure Spark MLlib too, when pyspark is importable",
    )
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    parser.add_argument("--kind", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        child(args)
        return
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    try:
        import pyspark  # noqa: F401

        has_spark = args.spark
    except ImportError:
        has_spark = False
    with tempfile.TemporaryDirectory(prefix="alskit-dask-bench-") as tmp:
        directory = Path(tmp)
        t0 = time.perf_counter()
        write_parts(directory, args.parts, args.shape)
        seconds = time.perf_counter() - t0
        print(f"data: {args.shape}, {args.parts} Parquet partitions ({seconds:.0f} s)")
        for kind in args.kinds.split(","):
            order = [("local", "")]
            order += [(m, b) for b in args.blocks.split(",") for m in ("broadcast", "routed")]
            # Rounds in alternating order (local, broadcast, routed, then routed, broadcast,
            # local), Spark in the middle: a drift of the host's speed over the run weighs
            # on every path alike instead of on whichever ran last.
            schedule: list[tuple[str, str]] = []
            for r in range(args.rounds):
                schedule += order if r % 2 == 0 else order[::-1]
                if has_spark and r == max(0, args.rounds // 2 - 1):
                    schedule.append(("spark", ""))
            results: dict[tuple[str, str], list[Any]] = {}
            for run, blocks in schedule:
                cmd = [sys.executable, __file__, "--run", run, "--data", str(directory)]
                cmd += ["--kind", kind, "--k", str(args.k), "--epochs", str(args.epochs)]
                cmd += ["--blocks", blocks, "--spark-epochs", str(args.spark_epochs)]
                env = dict(os.environ, PYTHONWARNINGS="ignore")
                if run == "spark":  # one BLAS thread per Spark task (2 tasks on 2 cores)
                    env["OPENBLAS_NUM_THREADS"] = "1"
                proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
                if proc.returncode != 0:
                    raise SystemExit(f"{run} failed:\n{proc.stderr[-3000:]}")
                out = json.loads(proc.stdout.strip().splitlines()[-1])
                results.setdefault((run, blocks), []).append(out)
            local, each = epochs_of(results["local", ""])
            print(f"\n{kind}, k={args.k}: local (2 threads) {local:.2f} s/epoch (rounds: {each})")
            dask_best = float("inf")
            for run, blocks in order[1:]:
                med, each = epochs_of(results[run, blocks])
                dask_best = min(dask_best, med)
                rs = results[run, blocks]
                measured = (
                    statistics.median([b for r in rs for b in r["bytes_measured_per_epoch"]])
                    / 2
                    / MB
                )
                planned = {s: b / MB for s, b in rs[0]["bytes_planned_per_half_epoch"].items()}
                setup = ", ".join(f"{r['first_epoch_with_setup']:.1f}" for r in rs)
                peaks = ", ".join(f"+{r['client_peak_increase_mb']:.0f}" for r in rs)
                asked = f", asked {blocks}" if blocks else ""
                print(
                    f"  dask {run:9s} {med:.2f} s/epoch = {med / local:.2f}x local "
                    f"(rounds: {each}; first epoch with setup {setup} s, "
                    f"blocks {rs[0]['blocks']}{asked})\n"
                    f"    moved per half-epoch: {measured:.1f} MB measured (mean of the "
                    f"halves), planned user {planned['user']:.1f} MB / item "
                    f"{planned['item']:.1f} MB\n"
                    f"    client: {rs[0]['client_rss_before_mb']:.0f} MB before training, peak "
                    f"{peaks} MB (factors {rs[0]['factors_mb']:.0f} MB)"
                )
            for r in results.get(("spark", ""), []):
                it = r["iteration_seconds"]
                fits = ", ".join(f"{n} it. {s:.1f} s" for n, s in r["fit_seconds"].items())
                print(
                    f"  spark local[2] {it:.2f} s/iteration ({fits}; {r['rows']} rows): "
                    f"alskit on Dask {it / dask_best:.1f}x faster, local "
                    f"{it / local:.1f}x faster"
                )
        if not has_spark and args.spark:
            print("\nSpark MLlib: pyspark is not installed, not measured (pip install pyspark)")


if __name__ == "__main__":
    main()
