"""Peak memory of alskit training against the ideal, on MovieLens-20M-shaped data.

The ideal is what training cannot do without: the rating matrix in both orientations (CSR:
indptr + int32 indices + values) and both factor matrices. Resident memory is sampled every
5 ms from /proc/self/statm while training runs; the figure reported is the peak increase over
the resident size just before training (the Dataset is already built then, and it holds the
user-major structure, which training shares instead of copying).

    python bench/memory.py --shape ml20m --k 64 --epochs 2
"""

from __future__ import annotations

import argparse
import os
import threading
import time

import numpy as np

import alskit
from alskit.synthetic import generate

PAGE = os.sysconf("SC_PAGE_SIZE")
MB = 1024.0 * 1024.0


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE


class PeakSampler:
    def __init__(self) -> None:
        self.peak = rss()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss())
            time.sleep(0.005)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="ml20m", choices=sorted(alskit.synthetic.SHAPES))
    parser.add_argument("--k", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = parser.parse_args()

    data = generate(args.shape, kind="explicit", seed=1)
    data.interaction_matrix("rating")  # the Dataset's own cached CSR, built before measuring
    nnz, users, items = data.interaction_count, data.user_count, data.item_count
    itemsize = np.dtype(args.dtype).itemsize
    ptr = 4 if nnz < 2**31 else 8
    csr_one = (users + 1) * ptr + nnz * 4 + nnz * itemsize
    csr_other = (items + 1) * ptr + nnz * 4 + nnz * itemsize
    factors = (users + items) * args.k * itemsize
    ideal = csr_one + csr_other + factors

    for name, model in (
        ("BiasedMF", alskit.BiasedMFScorer(features=args.k, epochs=args.epochs, dtype=args.dtype)),
        (
            "ImplicitMF",
            alskit.ImplicitMFScorer(features=args.k, epochs=args.epochs, dtype=args.dtype),
        ),
    ):
        before = rss()
        with PeakSampler() as sampler:
            model.train(data, alskit.TrainingOptions(rng=1, threads=args.threads))
        extra = sampler.peak - before
        print(
            f"{name:<11} {args.shape} k={args.k} {args.dtype}: peak training memory "
            f"{extra / MB:8.1f} MB; ideal (CSR both ways + factors) {ideal / MB:8.1f} MB; "
            f"ratio {extra / ideal:5.2f}; over ideal {(extra - ideal) / MB:+7.1f} MB"
        )
        del model


if __name__ == "__main__":
    main()
