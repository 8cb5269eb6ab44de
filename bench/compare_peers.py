"""Time ALS epochs of alskit and its peers on the same data in one run, and print ratios.

Peers (each skipped with a note when not installed):
  * implicit (``pip install implicit``): AlternatingLeastSquares with use_cg True and False;
  * LensKit 2025.8 (``pip install torch==2.13.0 lenskit==2025.8.1``): lenskit.als scorers.

Every library gets the same synthetic MovieLens-shaped data (alskit.synthetic), the same k,
regularization 0.1, confidence weight 40 (implicit) and thread count, float32 factors.
Reported: median seconds per epoch over the timed epochs (after one warm-up epoch), and each
peer's time divided by alskit's for the same method (> 1: alskit is faster); alskit's
subspace solver (iALS++) and, for large k, every alskit method are also set against implicit's
conjugate gradient, the fastest peer solver.

    python bench/compare_peers.py --shape ml20m --k 64 --epochs 3 --threads 2
    python bench/compare_peers.py --k 256 512 --epochs 2 --skip lenskit implicit-cholesky
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

import alskit
from alskit.synthetic import generate


def median_epoch(epochs: Iterator[Any], timed: int) -> float:
    """Median wall time of `timed` epochs of an epoch iterator, after one warm-up epoch."""
    next(epochs)
    times = []
    for _ in range(timed):
        start = time.perf_counter()
        next(epochs)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def alskit_epochs(model: alskit.ALSBase, data: alskit.Dataset, threads: int) -> Iterator[Any]:
    return iter(model.training_loop(data, alskit.TrainingOptions(rng=42, threads=threads)))


def implicit_epochs(matrix: Any, k: int, use_cg: bool, threads: int, timed: int) -> list[float]:
    from implicit.cpu.als import AlternatingLeastSquares
    from threadpoolctl import threadpool_limits

    times: list[float] = []
    # BLAS at one thread, as implicit itself recommends (it checks when the model is made).
    with threadpool_limits(1, "blas"):
        # implicit treats the stored value as the confidence c = 1 + v: alpha = 41 gives v = 40.
        model = AlternatingLeastSquares(
            factors=k,
            regularization=0.1,
            alpha=41.0,
            use_cg=use_cg,
            iterations=timed + 1,
            calculate_training_loss=False,
            num_threads=threads,
            random_state=42,
        )
        model.fit(matrix, show_progress=False, callback=lambda it, t, loss: times.append(t))
    return times[1:]


def lenskit_epochs(scorer: Any, frame: Any) -> Iterator[Any]:
    from lenskit.data import from_interactions_df
    from lenskit.training import TrainingOptions

    data = from_interactions_df(frame)
    trainer = scorer.create_trainer(data, TrainingOptions(rng=42))
    while True:
        yield trainer.train_epoch()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", default="ml20m", choices=sorted(alskit.synthetic.SHAPES))
    parser.add_argument("--k", type=int, nargs="+", default=[64])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per method")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--cg-steps", type=int, default=3)
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["implicit", "implicit-cholesky", "lenskit"],
        help="peers not to time (implicit-cholesky: implicit's exact solver only, slow at large k)",
    )
    args = parser.parse_args()
    os.environ.setdefault("LK_NUM_THREADS", str(args.threads))
    os.environ.setdefault("LK_NUM_BACKEND_THREADS", str(args.threads))

    start = time.perf_counter()
    data = generate(args.shape, kind="explicit", seed=1)
    print(
        f"data: {args.shape}, {data.user_count} users x {data.item_count} items, "
        f"{data.interaction_count} ratings ({time.perf_counter() - start:.1f}s to generate); "
        f"{args.threads} threads, alskit core {alskit.native_isa()}"
    )
    ui = data.interaction_matrix(None)
    import scipy.sparse as sp

    ones = sp.csr_matrix((np.ones(ui.nnz, np.float32), ui.indices, ui.indptr), shape=ui.shape)
    frame = data.interactions_df()

    rows: list[tuple[str, int, str, float, float]] = []

    def record(method: str, k: int, peer: str, seconds: float, ours: float) -> None:
        rows.append((method, k, peer, seconds, seconds / ours))
        print(
            f"  {method:<18} k={k:<4} {peer:<22} {seconds:8.3f} s/epoch   x{seconds / ours:5.2f}",
            flush=True,
        )

    for k in args.k:
        common = {"features": k, "epochs": args.epochs + 1, "dtype": "float32"}
        ours: dict[str, float] = {}
        models: list[tuple[str, alskit.ALSBase]] = [
            ("explicit-cholesky", alskit.BiasedMFScorer(**common)),
            ("implicit-cholesky", alskit.ImplicitMFScorer(**common)),
            (
                f"implicit-cg{args.cg_steps}",
                alskit.ImplicitMFScorer(**common, solver="cg", cg_steps=args.cg_steps),
            ),
            ("implicit-subspace", alskit.ImplicitMFScorer(**common, solver="subspace")),
        ]
        for method, model in models:
            ours[method] = median_epoch(alskit_epochs(model, data, args.threads), args.epochs)
            record(method, k, "alskit", ours[method], ours[method])

        if "implicit" not in args.skip:
            try:
                import implicit  # noqa: F401
            except ImportError:
                print("  implicit: not installed (pip install implicit)")
            else:
                solvers = [(True, f"implicit-cg{args.cg_steps}")]
                if "implicit-cholesky" not in args.skip:
                    solvers.append((False, "implicit-cholesky"))
                for use_cg, method in solvers:
                    seconds = statistics.median(
                        implicit_epochs(ones, k, use_cg, args.threads, args.epochs)
                    )
                    record(method, k, f"implicit (use_cg={use_cg})", seconds, ours[method])
                    if use_cg:  # the fastest peer solver against every other alskit method
                        for other, mine in ours.items():
                            if other != method:
                                record(other, k, "implicit (use_cg=True)", seconds, mine)

        if "lenskit" not in args.skip:
            try:
                import lenskit.als as lk
            except ImportError:
                print("  lenskit: not installed (pip install torch==2.13.0 lenskit==2025.8.1)")
            else:
                lk_common = {"embedding_size": k, "epochs": args.epochs + 1}
                seconds = median_epoch(
                    lenskit_epochs(lk.BiasedMFScorer(**lk_common), frame), args.epochs
                )
                record("explicit-cholesky", k, "lenskit 2025.8", seconds, ours["explicit-cholesky"])
                seconds = median_epoch(
                    lenskit_epochs(lk.ImplicitMFScorer(**lk_common), frame), args.epochs
                )
                record("implicit-cholesky", k, "lenskit 2025.8", seconds, ours["implicit-cholesky"])

    print("\nmethod              k     library                  s/epoch  peer/alskit")
    for method, k, peer, seconds, ratio in rows:
        print(f"{method:<19} {k:<5} {peer:<24} {seconds:7.3f}  {ratio:6.2f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
