#!/usr/bin/env bash
# Measures every speed target of the performance round (issue 12) in one run, one script
# after the other, each printing its own figures and ratios side by side: the share of peak
# (bench_half_epoch), the epochs against LensKit and implicit at k = 64 and 128 and against
# implicit's CG at k = 256 (compare_peers.py), top-N for every user against implicit at
# k = 64 and 128 (recommend_peers.py) and the top-N split to the GEMM floor.
# usage: bench/perf_targets.sh   (in a venv with alskit, implicit and lenskit installed, after
#        building build/bench as bench/README.md shows; BENCH=path overrides the binary)
# About 25 minutes on 2 cores. Run it on an otherwise idle machine.
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
bench=${BENCH:-build/bench/bench/bench_half_epoch}
stamp() { echo "### $1 ($(date -u +%H:%M:%S) UTC)"; }

echo "commit $(git rev-parse --short HEAD), $(date -u +%F), $(nproc) cores"
stamp "share of peak: bench_half_epoch k = 64, 128"
"$bench" --shape ml20m --k 64,128 --repeats 3 --threads 2 --subspace 32
stamp "epochs against LensKit and implicit: compare_peers.py k = 64, 128"
python bench/compare_peers.py --shape ml20m --k 64 128 --epochs 3 --threads 2 \
    --skip implicit-cholesky
stamp "large k against implicit's CG: compare_peers.py k = 256"
python bench/compare_peers.py --shape ml20m --k 256 --epochs 2 --threads 2 \
    --skip lenskit implicit-cholesky
for k in 64 128; do
    stamp "top-N for every user against implicit: recommend_peers.py k = $k"
    python bench/recommend_peers.py --shape ml20m --k "$k"
done
stamp "top-N split: bench_half_epoch --topn-only"
"$bench" --shape ml20m --k 64,128 --topn-only
stamp "end"
