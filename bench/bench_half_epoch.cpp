// Times explicit and implicit ALS epochs on a synthetic power-law problem held in memory and
// reports median seconds, rows/s, model GFLOP/s and that as a share of this machine's FP32
// peak (measured in the same run, beside each method's epochs, by large Eigen matrix
// products, one per thread).
//
//   bench_half_epoch [--shape small|ml20m|both] [--k 32,64,128] [--repeats 3] [--threads 0]
//                    [--cg-steps 3] [--subspace 32,64] [--topn | --topn-only | --cg-only]
//                    [--cholesky-only]  (the k × k solves alone, batched against Eigen's LLT)
//                    [--only implicit-cholesky,implicit-subspace]  (methods named so)
#include "alskit/batched_cholesky.hpp"
#include "alskit/csr.hpp"
#include "alskit/explicit_solver.hpp"
#include "alskit/gram.hpp"
#include "alskit/implicit_solver.hpp"
#include "alskit/parallel.hpp"
#include "alskit/scoring.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace alskit;
using Clock = std::chrono::steady_clock;

namespace {

struct Shape {
    const char* name;
    Index users, items, nnz;
};

struct Problem {
    Index users = 0, items = 0;
    std::vector<std::int64_t> ui_indptr, iu_indptr;
    std::vector<std::int32_t> ui_indices, iu_indices;
    std::vector<float> ui_values, iu_values;
    CsrView<float, std::int64_t> ui() const {
        return {ui_indptr.data(),
                ui_indices.data(),
                ui_values.data(),
                users,
                items,
                static_cast<Index>(ui_indices.size())};
    }
    CsrView<float, std::int64_t> iu() const {
        return {iu_indptr.data(),
                iu_indices.data(),
                iu_values.data(),
                items,
                users,
                static_cast<Index>(iu_indices.size())};
    }
};

/// User activity and item popularity both follow power laws (as in MovieLens): row lengths
/// from a Pareto tail with a 20-rating floor, items drawn by a Zipf-like popularity.
Problem make_problem(const Shape& s, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    Problem p;
    p.users = s.users;
    p.items = s.items;
    std::vector<double> weight(static_cast<std::size_t>(s.users));
    std::uniform_real_distribution<double> unif(0.0, 1.0);
    for (auto& w : weight) w = std::pow(1.0 - unif(rng), -1.0 / 1.2);  // Pareto(α=1.2)
    std::vector<double> item_cdf(static_cast<std::size_t>(s.items));
    double acc = 0;
    for (Index i = 0; i < s.items; ++i) {
        acc += 1.0 / std::pow(static_cast<double>(i) + 10.0, 1.1);
        item_cdf[static_cast<std::size_t>(i)] = acc;
    }
    for (auto& c : item_cdf) c /= acc;
    // Random item numbering, so popular items are spread over the matrix as in real data.
    std::vector<std::int32_t> relabel(static_cast<std::size_t>(s.items));
    for (Index i = 0; i < s.items; ++i)
        relabel[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i);
    std::shuffle(relabel.begin(), relabel.end(), rng);

    // Lengths proportional to the weights, capped at a third of the items (as real power
    // users are); what the cap removes is handed to the uncapped rows until nnz is reached.
    const Index floor_len = std::min<Index>(20, s.items);
    const Index cap = std::max<Index>(floor_len, s.items / 3);
    std::vector<Index> lengths(static_cast<std::size_t>(s.users), floor_len);
    for (int round = 0; round < 20; ++round) {
        Index assigned = 0;
        double free_weight = 0;
        for (Index u = 0; u < s.users; ++u) {
            assigned += lengths[static_cast<std::size_t>(u)];
            if (lengths[static_cast<std::size_t>(u)] < cap)
                free_weight += weight[static_cast<std::size_t>(u)];
        }
        const double missing = static_cast<double>(s.nnz - assigned);
        if (missing < 1 || free_weight <= 0) break;
        for (Index u = 0; u < s.users; ++u) {
            Index& len = lengths[static_cast<std::size_t>(u)];
            if (len >= cap) continue;
            const double extra = missing * weight[static_cast<std::size_t>(u)] / free_weight;
            len = std::min<Index>(cap, len + static_cast<Index>(std::floor(extra + unif(rng))));
        }
    }
    p.ui_indptr.assign(1, 0);
    p.ui_indices.reserve(static_cast<std::size_t>(s.nnz * 1.02));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<std::int32_t> row;
    for (Index u = 0; u < s.users; ++u) {
        const Index len = lengths[static_cast<std::size_t>(u)];
        row.clear();
        while (static_cast<Index>(row.size()) < len) {
            for (Index j = static_cast<Index>(row.size()); j < len; ++j) {
                const double x = unif(rng);
                const auto it = std::lower_bound(item_cdf.begin(), item_cdf.end(), x);
                row.push_back(relabel[static_cast<std::size_t>(
                    std::min<std::ptrdiff_t>(it - item_cdf.begin(), s.items - 1))]);
            }
            std::sort(row.begin(), row.end());
            row.erase(std::unique(row.begin(), row.end()), row.end());
        }
        p.ui_indices.insert(p.ui_indices.end(), row.begin(), row.end());
        p.ui_indptr.push_back(static_cast<std::int64_t>(p.ui_indices.size()));
    }
    p.ui_values.resize(p.ui_indices.size());
    for (auto& v : p.ui_values) v = normal(rng);
    p.iu_indptr.resize(static_cast<std::size_t>(s.items + 1));
    p.iu_indices.resize(p.ui_indices.size());
    p.iu_values.resize(p.ui_indices.size());
    transpose_csr(p.ui(), p.iu_indptr.data(), p.iu_indices.data(), p.iu_values.data(), 0);
    return p;
}

double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/// FP32 peak of this machine as our kernels can reach it: one n×n Eigen product per thread
/// at the same time (Eigen itself is single-threaded here). This machine's throughput drifts
/// (shared hosts), so the peak is measured again beside every timed epoch (`best(2)` before
/// each) and each method is set against the peak of its own repeats.
class PeakMeter {
  public:
    explicit PeakMeter(int threads) : team_(resolve_threads(threads, 1 << 20)) {
        for (int t = 0; t < team_; ++t) {
            a_.push_back(Matrix<float>::Random(n, n));
            b_.push_back(Matrix<float>::Random(n, n));
            c_.push_back(Matrix<float>::Zero(n, n));
        }
    }
    /// GFLOP/s of the best of `rounds` products.
    double best(int rounds) {
        double most = 0;
        for (int r = 0; r < rounds; ++r) {
            const auto t0 = Clock::now();
#ifdef _OPENMP
#pragma omp parallel for num_threads(team_) schedule(static, 1)
#endif
            for (int t = 0; t < team_; ++t) c_[t].noalias() = a_[t] * b_[t];
            most = std::max(most, 2.0 * n * n * n * team_ / seconds_since(t0) / 1e9);
        }
        return most;
    }

  private:
    static constexpr Index n = 2048;
    int team_;
    std::vector<Matrix<float>> a_, b_, c_;
};

struct Args {
    std::string shape = "both";
    std::vector<int> ks = {32, 64, 128};
    int repeats = 3;
    int threads = 0;
    int cg_steps = 3;
    std::vector<int> blocks = {};  // subspace (iALS++) block sizes to time, one sweep each
    bool topn = false;             // also time top-10 for every user on the CG-trained factors
    bool topn_only = false;        // only CG (to train the factors) and top-N
    bool cg_only = false;          // only the conjugate-gradient epoch
    bool cholesky_only = false;    // only the k × k solves, one thread
    std::vector<std::string> only = {};  // time only the methods whose names start so
};

Args parse(int argc, char** argv) {
    Args a;
    for (int i = 1; i < argc; ++i) {
        const std::string key = argv[i];
        const std::string value = i + 1 < argc ? argv[i + 1] : "";
        if (key == "--shape")
            a.shape = value;
        else if (key == "--repeats")
            a.repeats = std::stoi(value);
        else if (key == "--threads")
            a.threads = std::stoi(value);
        else if (key == "--cg-steps")
            a.cg_steps = std::stoi(value);
        else if (key == "--subspace") {
            std::stringstream ss(value);
            std::string item;
            while (std::getline(ss, item, ',')) a.blocks.push_back(std::stoi(item));
        } else if (key == "--topn") {
            a.topn = true;
            --i;
        } else if (key == "--topn-only") {
            a.topn = a.topn_only = true;
            --i;
        } else if (key == "--cg-only") {
            a.topn_only = a.cg_only = true;  // topn_only skips the other solvers
            --i;
        } else if (key == "--cholesky-only") {
            a.cholesky_only = true;
            --i;
        } else if (key == "--only") {
            std::stringstream ss(value);
            std::string item;
            while (std::getline(ss, item, ',')) a.only.push_back(item);
        } else if (key == "--k") {
            a.ks.clear();
            std::stringstream ss(value);
            std::string item;
            while (std::getline(ss, item, ',')) a.ks.push_back(std::stoi(item));
        } else {
            std::fprintf(stderr, "unknown argument %s\n", key.c_str());
            std::exit(2);
        }
        ++i;
    }
    return a;
}

/// The k × k solve of the Cholesky paths alone, one thread: a SIMD vector of random SPD
/// systems (XᵀX + I, X 2k × k) factored and solved together by the interleaved Cholesky, against
/// Eigen's LLT solving them one by one. Median of 5 rounds, each of at least ~0.1 s.
void cholesky_split(const std::vector<int>& ks) {
    using Batch = InterleavedCholesky<float>;
    constexpr int lanes = Batch::lanes;
    std::printf("k x k solves, float32, one thread (interleaved batched up to k = %ld):\n",
                static_cast<long>(Batch::max_size));
    std::printf("%6s %14s %10s %14s %10s %8s\n", "k", "batched_us", "GFLOP/s", "eigen_llt_us",
                "GFLOP/s", "ratio");
    std::mt19937 rng(3);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (const int k : ks) {
        std::vector<SquareMatrix<float>> systems;
        std::vector<Vector<float>> rhs;
        const float* a[lanes];
        const float* b[lanes];
        for (int l = 0; l < lanes; ++l) {
            Matrix<float> x(2 * k, k);
            for (Index i = 0; i < x.size(); ++i) x.data()[i] = normal(rng);
            systems.emplace_back(x.transpose() * x + SquareMatrix<float>::Identity(k, k));
            rhs.emplace_back(Vector<float>::NullaryExpr(k, [&] { return normal(rng); }));
        }
        for (int l = 0; l < lanes; ++l) {
            a[l] = systems[static_cast<std::size_t>(l)].data();
            b[l] = rhs[static_cast<std::size_t>(l)].data();
        }
        Batch batch(k);
        Eigen::LLT<SquareMatrix<float>, Eigen::Lower> llt(k);
        Vector<float> x(k);
        const int reps = std::max(1, static_cast<int>(3e7 / (double(k) * k * k)));
        std::vector<double> batched, eigen;
        for (int round = 0; round < 5; ++round) {
            auto t0 = Clock::now();
            for (int r = 0; r < reps; ++r) batch.solve(a, b, lanes);
            batched.push_back(seconds_since(t0) / (reps * lanes));
            t0 = Clock::now();
            for (int r = 0; r < reps; ++r) {
                for (int l = 0; l < lanes; ++l) {
                    llt.compute(systems[static_cast<std::size_t>(l)]);
                    x.noalias() = llt.solve(rhs[static_cast<std::size_t>(l)]);
                }
            }
            eigen.push_back(seconds_since(t0) / (reps * lanes));
        }
        const double flops = double(k) * k * k / 3 + 2.0 * k * k;
        const double tb = median(batched), te = median(eigen);
        std::printf("%6d %14.2f %10.1f %14.2f %10.1f %7.2fx\n", k, tb * 1e6, flops / tb / 1e9,
                    te * 1e6, flops / te / 1e9, te / tb);
    }
}

/// Top-10 for every user with their training items excluded, split into its parts: the score
/// products alone over the same tiles (the GEMM floor), + selection, + exclusion, and the
/// kernel as used (tiles skipped by the norm bound).
void topn_split(const Problem& p, ConstMatrixMap<float> users, ConstMatrixMap<float> items, int k,
                const Args& args) {
    const Index n = 10;
    std::vector<std::int32_t> out_items(static_cast<std::size_t>(p.users * n));
    std::vector<float> out_scores(static_cast<std::size_t>(p.users * n));
    const auto exclude = p.ui();
    auto time_median = [&](auto&& run) {
        run();
        std::vector<double> times;
        for (int r = 0; r < args.repeats; ++r) {
            const auto start = Clock::now();
            run();
            times.push_back(seconds_since(start));
        }
        return median(times);
    };
    // The score products alone, with the kernel's tiles (64 users × 1024 items at k = 64).
    const Index tile = top_n_tile(k, 4);
    const Index blocks = (p.users + 63) / 64;
    const int threads = resolve_threads(args.threads, blocks);
    const double gemm = time_median([&] {
#pragma omp parallel num_threads(threads)
        {
            Matrix<float> scores(64, tile);
            float sink = 0;
#pragma omp for schedule(dynamic, 1)
            for (Index b = 0; b < blocks; ++b) {
                const Index lo = b * 64, m = std::min<Index>(64, p.users - lo);
                for (Index c0 = 0; c0 < p.items; c0 += tile) {
                    const Index len = std::min(tile, p.items - c0);
                    scores.topLeftCorner(m, len).noalias() =
                        users.middleRows(lo, m) * items.middleRows(c0, len).transpose();
                    sink += scores(0, 0);
                }
            }
            if (sink == 12345.f) std::printf(" ");
        }
    });
    auto kernel = [&](bool exclusion, bool exhaustive) {
        TopNRequest<float, std::int64_t> req;
        req.n = n;
        req.exclude = exclusion ? &exclude : nullptr;
        req.exhaustive = exhaustive;
        return time_median(
            [&] { top_n(users, items, req, out_items.data(), out_scores.data(), args.threads); });
    };
    const double select = kernel(false, true);
    const double excl = kernel(true, true);
    const double used = kernel(true, false);
    const double flops = 2.0 * static_cast<double>(p.users) * static_cast<double>(p.items) * k;
    std::printf(
        "top-10 k=%d: GEMM floor %.3f s (%.1f GFLOP/s); +selection %.3f s; +exclusion %.3f s; "
        "as used (bound skipping) %.3f s\n",
        k, gemm, flops / gemm / 1e9, select, excl, used);
    std::fflush(stdout);
}

/// The arithmetic one exact half-epoch must do, counted as computed, row by row on the path
/// the kernel takes. Primal (k × k system): the symmetric rank-n update touches its lower
/// triangle, k² flops per non-zero; the right-hand side 2k per non-zero; the Cholesky
/// factorisation k³/3 and the two triangular solves 2k². Dual (RowWorkspace::solved_by_dual):
/// the n × n update n²k, its Cholesky n³/3 and solves 2n², and Xᵀy 2nk; implicit adds its
/// Q̃ᵀb and Wt (4nk), the whitening √v (nk), L⁻ᵀ (k²) and each referenced fixed row's L⁻¹q
/// (k²). Implicit rows with a negative weight take the primal path; the bench has none.
double exact_flops(const CsrView<float, std::int64_t>& rows, int k_int, bool implicit) {
    const double k = k_int;
    double flops = 0;
    std::vector<char> seen(static_cast<std::size_t>(rows.ncols), 0);
    for (Index r = 0; r < rows.nrows; ++r) {
        const Index len = rows.row_length(r);
        if (len == 0) continue;
        const double n = static_cast<double>(len);
        if (!RowWorkspace<float>::solved_by_dual(len, k_int)) {
            flops += n * k * k + 2 * n * k + k * k * k / 3 + 2 * k * k;
            continue;
        }
        flops += n * n * k + n * n * n / 3 + 2 * n * n + 2 * n * k;
        if (!implicit) continue;
        flops += 5 * n * k + k * k;
        for (Index j = rows.row_begin(r); j < rows.row_end(r); ++j) {
            char& s = seen[static_cast<std::size_t>(rows.indices[j])];
            if (s == 0) flops += k * k;
            s = 1;
        }
    }
    return flops;
}

void run_shape(const Shape& shape, const Args& args, PeakMeter& meter) {
    auto t0 = Clock::now();
    const Problem p = make_problem(shape, 42);
    const Index nnz = static_cast<Index>(p.ui_indices.size());
    std::printf("\n== %s: %lld users x %lld items, %lld non-zeros (built in %.1f s)\n", shape.name,
                static_cast<long long>(p.users), static_cast<long long>(p.items),
                static_cast<long long>(nnz), seconds_since(t0));
    std::printf("%-20s %5s %10s %12s %10s %8s %8s\n", "method", "k", "epoch_s", "rows/s", "GFLOP/s",
                "peak", "%peak");
    const double rows = static_cast<double>(p.users + p.items);
    for (int k : args.ks) {
        const double kk = static_cast<double>(k);
        Matrix<float> P = Matrix<float>::Random(p.users, k) * 0.1f;
        Matrix<float> Q = Matrix<float>::Random(p.items, k) * 0.1f;
        MatrixMap<float> pm(P.data(), P.rows(), P.cols());
        MatrixMap<float> qm(Q.data(), Q.rows(), Q.cols());
        ConstMatrixMap<float> pc(P.data(), P.rows(), P.cols());
        ConstMatrixMap<float> qc(Q.data(), Q.rows(), Q.cols());
        // The least arithmetic an epoch (both halves) must do on the path each row takes,
        // counted as computed (exact_flops below). Implicit adds the Gram of the fixed side
        // (symmetric, k² per fixed row, so `rows`·k² over both halves).
        const double nz = static_cast<double>(nnz);
        const double explicit_flops = exact_flops(p.ui(), k, false) + exact_flops(p.iu(), k, false);
        const double gram_flops = rows * kk * kk;
        const double chol_flops =
            exact_flops(p.ui(), k, true) + exact_flops(p.iu(), k, true) + gram_flops;
        // CG with s steps per row: each matrix-vector product is G·p (2k²) plus, per non-zero,
        // a dot product and an axpy (4k); the initial residual is one more product and the
        // right-hand side (2k per non-zero).
        const double s = args.cg_steps;
        const double cg_flops =
            (s + 1.0) * (2.0 * rows * kk * kk + 8.0 * nz * kk) + 4.0 * nz * kk + gram_flops;

        auto report = [&](const char* method, double flops, auto&& epoch) {
            const std::string name = method;
            if (!args.only.empty() &&
                std::none_of(args.only.begin(), args.only.end(), [&](const std::string& prefix) {
                    return name.rfind(prefix, 0) == 0;
                })) {
                return;
            }
            epoch();  // warm-up: page faults, workspace allocation
            std::vector<double> times, peaks;
            for (int r = 0; r < args.repeats; ++r) {
                peaks.push_back(meter.best(2));
                const auto start = Clock::now();
                epoch();
                times.push_back(seconds_since(start));
            }
            const double med = median(times);
            const double gflops = flops / med / 1e9;
            const double peak = median(peaks);
            std::printf("%-20s %5d %10.3f %12.0f %10.1f %8.1f %7.1f%%\n", method, k, med,
                        rows / med, gflops, peak, 100.0 * gflops / peak);
            std::fflush(stdout);
        };
        if (!args.topn_only)
            report("explicit-cholesky", explicit_flops, [&] {
                explicit_half_epoch(p.ui(), pm, qc, 0.1f, args.threads);
                explicit_half_epoch(p.iu(), qm, pc, 0.1f, args.threads);
            });
        // Implicit: confidence weights v = 40 on every observed cell.
        std::vector<float> ones_ui(p.ui_values.size(), 40.0f);
        auto ui = p.ui();
        auto iu = p.iu();
        ui.values = ones_ui.data();
        iu.values = ones_ui.data();
        P = Matrix<float>::Random(p.users, k).cwiseAbs() * 0.01f;
        Q = Matrix<float>::Random(p.items, k).cwiseAbs() * 0.01f;
        const float* no_targets = nullptr;
        auto implicit_epoch = [&](ImplicitSolver solver, int steps = 0, Index block = 1) {
            if (steps == 0) steps = args.cg_steps;
            SquareMatrix<float> gq = gram<float>(qc, 0.1f, args.threads);
            implicit_half_epoch(ui, pm, qc, ConstSquareMap<float>(gq.data(), k, k), solver, steps,
                                args.threads, no_targets, block);
            SquareMatrix<float> gp = gram<float>(pc, 0.1f, args.threads);
            implicit_half_epoch(iu, qm, pc, ConstSquareMap<float>(gp.data(), k, k), solver, steps,
                                args.threads, no_targets, block);
        };
        if (!args.topn_only) {
            report("implicit-cholesky", chol_flops,
                   [&] { implicit_epoch(ImplicitSolver::cholesky); });
        }
        for (int b : args.blocks) {
            // One sweep over blocks of b: per block and non-zero the rank update b² (its lower
            // triangle, counted as computed), the previous block's update of the prediction 2b
            // and the right-hand side 2b; per row G_S·p, the b × b Cholesky and solves.
            const double bb = std::min<double>(b, kk);
            const double blocks = std::ceil(kk / bb);
            const double sub_flops =
                2.0 * nz * blocks * (bb * bb + 4.0 * bb) +
                rows * blocks * (2.0 * bb * kk + bb * bb * bb / 3.0 + 2.0 * bb * bb) + gram_flops;
            const std::string name = "implicit-subspace" + std::to_string(b);
            report(name.c_str(), sub_flops,
                   [&] { implicit_epoch(ImplicitSolver::subspace, 1, b); });
        }
        const std::string cg_name = "implicit-cg" + std::to_string(args.cg_steps);
        report(cg_name.c_str(), cg_flops,
               [&] { implicit_epoch(ImplicitSolver::conjugate_gradient); });
        if (args.topn && !args.cg_only) topn_split(p, pc, qc, k, args);
    }
}

}  // namespace

int main(int argc, char** argv) {
    const Args args = parse(argc, argv);
    if (args.cholesky_only) {
        cholesky_split(args.ks);
        return 0;
    }
    const int threads = resolve_threads(args.threads, 1 << 20);
    PeakMeter meter(args.threads);
    std::printf(
        "alskit native benchmark: %d threads, OpenMP %s, FP32 peak (Eigen GEMM) %.1f GFLOP/s at "
        "the start; each method against the peak measured beside its epochs (column peak)\n",
        threads, openmp_enabled() ? "on" : "off", meter.best(4));
    std::printf(
        "FLOP model per epoch, both halves (R = users + items), counted as computed:\n"
        "  explicit Cholesky per row of n: n*k^2 + 2nk + k^3/3 + 2k^2, or by its dual (short rows) "
        "n^2*k + n^3/3 + 2n^2 + 2nk;\n"
        "  implicit Cholesky the same, + 5nk + k^2 per dual row and k^2 per fixed row it reads, "
        "+ R*k^2 (Grams)\n"
        "  CG, s steps: (s+1)*(2Rk^2 + 8*nnz*k) + 4*nnz*k + R*k^2\n"
        "  subspace, block b, one sweep (B = k/b blocks): 2*nnz*B*(b^2 + 4b) + "
        "R*B*(2bk + b^3/3 + 2b^2) + R*k^2\n");
    const Shape small{"small (ML-100K shape)", 943, 1682, 100000};
    const Shape large{"ML-20M shape", 138493, 26744, 20000263};
    if (args.shape == "small" || args.shape == "both") run_shape(small, args, meter);
    if (args.shape == "ml20m" || args.shape == "both") run_shape(large, args, meter);
    return 0;
}
