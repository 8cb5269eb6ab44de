"""alskit.implicit vs implicit 0.7.3: identical calls through both libraries, one run.

Both get the same MovieLens-20M-shaped data (alskit.synthetic, every interaction with value 1),
the same parameters (alpha 40, regularization 0.1, float32, --threads) and the same random
state, so they start from the same factors (alskit.implicit draws implicit's initialisation).
For each k and solver:

  * fit: median seconds per iteration (the fit callback's times) over --iterations, and the
    training loss of both results, computed by implicit's own calculate_loss;
  * recommend: top-N for every user with their training items filtered, both on the same
    factors; median of --repeats calls; the share of users whose lists agree.

Ratios are implicit / alskit (> 1: alskit is faster).

    python bench/implicit_api.py --shape ml20m --k 64 128 --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

import alskit
from alskit.implicit import AlternatingLeastSquares as Ours
from alskit.synthetic import generate


def fit_times(model: Any, matrix: sp.csr_matrix) -> list[float]:
    times: list[float] = []
    model.fit(matrix, show_progress=False, callback=lambda it, seconds, loss: times.append(seconds))
    return times


def median_call(run: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeats):
        result = None
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", default="ml20m", choices=sorted(alskit.synthetic.SHAPES))
    parser.add_argument("--k", type=int, nargs="+", default=[64, 128])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--iterations", type=int, default=3, help="fit iterations timed")
    parser.add_argument("--repeats", type=int, default=3, help="recommend calls timed")
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--solvers", nargs="+", default=["cg", "cholesky"])
    args = parser.parse_args()

    from implicit.cpu._als import calculate_loss
    from implicit.cpu.als import AlternatingLeastSquares as Theirs

    start = time.perf_counter()
    data = generate(args.shape, kind="implicit", seed=1)
    structure = data.interaction_matrix(None)
    ui = sp.csr_matrix(
        (np.ones(structure.nnz, np.float32), structure.indices, structure.indptr),
        shape=structure.shape,
    )
    users = ui.shape[0]
    print(
        f"data: {args.shape}, {ui.shape[0]} users x {ui.shape[1]} items, {ui.nnz} interactions "
        f"({time.perf_counter() - start:.1f}s to generate); {args.threads} threads, "
        f"alskit core {alskit.native_isa()}; fit: median of {args.iterations} iterations, "
        f"recommend: median of {args.repeats} calls",
        flush=True,
    )
    rows: list[tuple[str, int, float, float, str]] = []

    def record(what: str, k: int, ours: float, theirs: float, note: str = "") -> None:
        rows.append((what, k, ours, theirs, note))
        print(
            f"  {what:<22} k={k:<4} alskit {ours:8.3f} s  implicit {theirs:8.3f} s  "
            f"x{theirs / ours:5.2f}  {note}",
            flush=True,
        )

    with threadpool_limits(1, "blas"):  # as implicit recommends; alskit does not use BLAS here
        for k in args.k:
            common = {
                "factors": k,
                "regularization": 0.1,
                "alpha": 40.0,
                "iterations": args.iterations,
                "num_threads": args.threads,
                "random_state": 42,
            }
            ours_model = theirs_model = None
            for solver in args.solvers:
                use_cg = solver == "cg"
                ours_model = Ours(use_cg=use_cg, **common)
                theirs_model = Theirs(use_cg=use_cg, **common)
                ours_t = statistics.median(fit_times(ours_model, ui))
                theirs_t = statistics.median(fit_times(theirs_model, ui))
                cui = (ui * 40.0).tocsr()
                loss_ours = calculate_loss(
                    cui, ours_model.user_factors, ours_model.item_factors, 0.1, num_threads=2
                )
                loss_theirs = calculate_loss(
                    cui, theirs_model.user_factors, theirs_model.item_factors, 0.1, num_threads=2
                )
                record(
                    f"fit ({solver})",
                    k,
                    ours_t,
                    theirs_t,
                    f"loss alskit {loss_ours:.6f} implicit {loss_theirs:.6f} "
                    f"(rel. diff {abs(loss_ours - loss_theirs) / loss_theirs:.1e})",
                )
            assert ours_model is not None and theirs_model is not None
            # Recommend on the same factors (the last fit's, alskit's copy given to both).
            theirs_model.user_factors = ours_model.user_factors.copy()
            theirs_model.item_factors = ours_model.item_factors.copy()
            everyone = np.arange(users)
            ours_t, (ours_ids, _) = median_call(
                lambda m=ours_model, e=everyone: m.recommend(e, ui, N=args.n), args.repeats
            )
            theirs_t, (theirs_ids, _) = median_call(
                lambda m=theirs_model, e=everyone: m.recommend(e, ui, N=args.n), args.repeats
            )
            same = np.mean(
                [
                    set(a) == set(b)
                    for a, b in zip(ours_ids.tolist(), theirs_ids.tolist(), strict=True)
                ]
            )
            record(
                f"recommend all (N={args.n})", k, ours_t, theirs_t, f"same top-N sets {same:.4f}"
            )

    print("\nwhat                    k     alskit s  implicit s  implicit/alskit")
    for what, k, ours, theirs, _ in rows:
        print(f"{what:<23} {k:<5} {ours:8.3f}  {theirs:10.3f}  {theirs / ours:8.2f}")


if __name__ == "__main__":
    main()
