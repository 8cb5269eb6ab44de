"""alskit.lenskit vs lenskit.als: training time through LensKit's API, side by side, and the
adapter's own cost (converting the LensKit Dataset) as a share of alskit's training time.

Same synthetic MovieLens-shaped data (alskit.synthetic) as a LensKit Dataset, same config
(embedding_size k, epochs, regularization 0.1, weight 40 / damping 5), float32 factors (the
dtype of LensKit 2025.3+), the same thread count for both (LensKit's LK_NUM_THREADS and torch
threads; alskit's threads from LensKit's parallel config). Each repeat trains, in turn:
``lenskit.als.X.train``, ``alskit.lenskit.X.train`` (conversion included), and alskit's own
``alskit.X.train`` on an alskit Dataset, in an order that rotates from repeat to repeat; and
times ``to_alskit_dataset`` alone. Reported:
medians over the repeats, lenskit / adapter (> 1: the adapter is faster) and conversion /
alskit training time.

    python bench/lenskit_adapter.py --shape ml20m --k 64 --epochs 3 --repeats 3 --threads 2

Needs ``pip install torch==2.13.0 lenskit==2025.8.1`` and ``alskit[lenskit]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import alskit
from alskit.synthetic import SHAPES, generate


def timed(run: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    start = time.perf_counter()
    run(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shape", default="ml20m", choices=sorted(SHAPES))
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=3, help="epochs per training run")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--kinds", nargs="+", default=["implicit", "explicit"])
    args = parser.parse_args()
    # LensKit reads its thread counts when it first initializes its parallel support.
    os.environ["LK_NUM_THREADS"] = str(args.threads)
    os.environ["LK_NUM_BACKEND_THREADS"] = str(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    import lenskit.als as lk
    from lenskit.data import from_interactions_df
    from lenskit.training import TrainingOptions

    import alskit.lenskit as adapter

    warnings.simplefilter("ignore", DeprecationWarning)
    start = time.perf_counter()
    data = generate(args.shape, kind="explicit", seed=1)
    lk_data = from_interactions_df(data.interactions_df())
    print(
        f"data: {args.shape}, {data.user_count} users x {data.item_count} items, "
        f"{data.interaction_count} ratings ({time.perf_counter() - start:.1f}s to build both); "
        f"k={args.k}, {args.epochs} epochs per run, {args.repeats} repeats, {args.threads} "
        f"threads, float32; LensKit {'.'.join(map(str, adapter.LENSKIT_VERSION))}, "
        f"alskit core {alskit.native_isa()}"
    )
    common = {"embedding_size": args.k, "epochs": args.epochs}
    print(
        f"{'model':<10}{'lenskit.als s':>15}{'alskit.lenskit s':>18}{'alskit s':>10}"
        f"{'convert s':>11}{'speed-up':>10}{'overhead':>10}{'adapter-alskit':>16}"
    )
    for kind in args.kinds:
        lk_cls = lk.BiasedMFScorer if kind == "explicit" else lk.ImplicitMFScorer
        ad_cls = adapter.BiasedMFScorer if kind == "explicit" else adapter.ImplicitMFScorer
        own_cls = alskit.BiasedMFScorer if kind == "explicit" else alskit.ImplicitMFScorer
        times: dict[str, list[float]] = {"lenskit": [], "adapter": [], "own": [], "convert": []}

        order = ["lenskit", "adapter", "own"]
        for rep in range(args.repeats):
            # The order rotates from repeat to repeat, so no library always runs first or
            # right after another (torch's threads, the allocator's state).
            for name in order[rep % 3 :] + order[: rep % 3]:
                if name == "own":
                    model: Any = own_cls(**common, dtype="float32")
                    train_data: Any = data
                    opts: Any = alskit.TrainingOptions(
                        rng=rep, threads=args.threads, progress=False
                    )
                else:
                    model = (lk_cls if name == "lenskit" else ad_cls)(**common)
                    train_data, opts = lk_data, TrainingOptions(rng=rep)
                times[name].append(timed(model.train, train_data, opts))
            ratings = kind == "explicit"
            times["convert"].append(timed(adapter.to_alskit_dataset, lk_data, ratings=ratings))
        med = {name: statistics.median(values) for name, values in times.items()}
        print(
            f"{kind:<10}{med['lenskit']:>15.2f}{med['adapter']:>18.2f}{med['own']:>10.2f}"
            f"{med['convert']:>11.3f}{med['lenskit'] / med['adapter']:>9.2f}x"
            f"{100 * med['convert'] / med['own']:>9.2f}%"
            f"{100 * (med['adapter'] - med['own']) / med['own']:>15.2f}%"
        )


if __name__ == "__main__":
    main()
