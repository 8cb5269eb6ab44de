"""Top-N for every user of a MovieLens-20M-shaped model: alskit vs implicit, one process run.

Both libraries rank with the same factors (an alskit ImplicitMF trained for one CG epoch) and
exclude each user's training items; reported: wall seconds (median of --repeats), users/s,
the ratio implicit/alskit (> 1: alskit is faster) and the peak resident memory each call
adds. The top-10 lists are compared for agreement as a sanity check.

    python bench/recommend_peers.py --shape ml20m --k 64 --threads 2
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import alskit
from alskit.synthetic import generate
from memory import MB, PeakSampler, rss


def timed(run: Callable[[], Any], repeats: int) -> tuple[float, float, Any]:
    """Median seconds of `repeats` plain runs, then the peak extra resident bytes of one more
    run under the memory sampler (kept out of the timed runs: its polling costs CPU)."""
    times, result = [], None
    for _ in range(repeats):
        result = None
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    result = None
    before = rss()
    with PeakSampler() as sampler:
        result = run()
    return statistics.median(times), sampler.peak - before, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="ml20m", choices=sorted(alskit.synthetic.SHAPES))
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("-n", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    data = generate(args.shape, kind="implicit", seed=1)
    model = alskit.ImplicitMFScorer(
        features=args.k, epochs=1, solver="cg", dtype="float32", user_embeddings=True
    )
    model.train(data, alskit.TrainingOptions(rng=1, threads=args.threads))
    users = data.user_count
    print(
        f"{args.shape}: {users} users x {data.item_count} items, {data.interaction_count} "
        f"interactions; k={args.k}, top-{args.n}, {args.threads} threads"
    )

    ours_s, ours_mem, ours = timed(
        lambda: model.recommend(n=args.n, threads=args.threads), args.repeats
    )
    print(
        f"  alskit   recommend(all users): {ours_s:7.3f} s  {users / ours_s:10.0f} users/s  "
        f"peak +{ours_mem / MB:7.1f} MB"
    )

    try:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("  implicit: not installed (pip install implicit)")
        return
    import scipy.sparse as sp

    ui = data.interaction_matrix(None)
    matrix = sp.csr_matrix((np.ones(ui.nnz, np.float32), ui.indices, ui.indptr), shape=ui.shape)
    with threadpool_limits(1, "blas"):  # implicit checks the BLAS threads when made
        peer = AlternatingLeastSquares(factors=args.k, num_threads=args.threads)
    assert model.user_features_ is not None
    peer.user_factors = model.user_features_
    peer.item_factors = model.item_features_
    everyone = np.arange(users)

    def implicit_recommend() -> Any:
        with threadpool_limits(1, "blas"):  # as implicit recommends; its own threads rank
            return peer.recommend(everyone, matrix, N=args.n, filter_already_liked_items=True)

    theirs_s, theirs_mem, theirs = timed(implicit_recommend, args.repeats)
    print(
        f"  implicit recommend(all users): {theirs_s:7.3f} s  {users / theirs_s:10.0f} "
        f"users/s  peak +{theirs_mem / MB:7.1f} MB"
    )
    print(f"  ratio implicit/alskit: {theirs_s / ours_s:.2f}x")

    ours_items = model.items_.numbers(ours.item_ids).reshape(users, args.n)
    pairs = zip(ours_items, theirs[0], strict=True)
    same = np.mean([len(np.intersect1d(a, b)) / args.n for a, b in pairs])
    print(f"  agreement of the top-{args.n} sets: {same:.4f}")


if __name__ == "__main__":
    main()
