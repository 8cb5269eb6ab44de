// What every half-epoch kernel shares: shape checks, per-thread workspace, the row loop.
#pragma once

#include "alskit/errors.hpp"
#include "alskit/gather.hpp"
#include "alskit/parallel.hpp"
#include "alskit/spd_solver.hpp"
#include "alskit/system_batch.hpp"
#include "alskit/types.hpp"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace alskit {

/// Which row solver a workspace serves: each allocates only the buffers it uses.
enum class RowSolver { explicit_ratings, implicit_cholesky, implicit_cg, implicit_subspace };

/// One b × b block system of the subspace solver, its right-hand side, step and factorisation.
template <class Scalar>
struct SubspaceBlock {
    explicit SubspaceBlock(Index b) : size(b), system(b, b), rhs(b), step(b), solver(b) {}
    static std::size_t bytes(Index b) {
        return static_cast<std::size_t>(b * b + 2 * b) * sizeof(Scalar) +
               SpdSolver<Scalar>::bytes(b);
    }
    std::size_t allocated_bytes() const {
        return static_cast<std::size_t>(system.size() + rhs.size() + step.size()) * sizeof(Scalar) +
               solver.allocated_bytes();
    }

    Index size;
    SquareMatrix<Scalar> system;
    Vector<Scalar> rhs, step;
    SpdSolver<Scalar> solver;
};

/// The subspace solver's buffers for k, block size b and a gather buffer of `gathered` rows:
/// blocks of b coordinates and, when b does not divide k, one of the remainder; the gathered
/// rows' predictions; one chunk's square-root weights and weighted rows for the update.
template <class Scalar>
struct SubspaceWorkspace {
    SubspaceWorkspace(Index k, Index b, Index gathered)
        : full(std::min(b, k)),
          tail(k % std::min(b, k)),
          predictions(gathered),
          root(RowGather<Scalar>::chunk_rows(k)),
          scaled(RowGather<Scalar>::chunk_rows(k), std::min(b, k)) {}
    static std::size_t bytes(Index k, Index b, Index gathered) {
        const Index full = std::min(b, k);
        const Index chunk = RowGather<Scalar>::chunk_rows(k);
        return SubspaceBlock<Scalar>::bytes(full) + SubspaceBlock<Scalar>::bytes(k % full) +
               static_cast<std::size_t>(gathered + chunk + chunk * full) * sizeof(Scalar);
    }
    std::size_t allocated_bytes() const {
        return full.allocated_bytes() + tail.allocated_bytes() +
               static_cast<std::size_t>(predictions.size() + root.size() + scaled.size()) *
                   sizeof(Scalar);
    }

    SubspaceBlock<Scalar> full, tail;
    Vector<Scalar> predictions, root;
    Matrix<Scalar> scaled;
};

/// Buffers one thread needs to solve rows: allocated once per parallel region, reused per row.
/// bytes(k, solver, ...) is what the constructor allocates (computed from the same sizes,
/// before allocating: the memory check of a training run uses it).
template <class Scalar>
struct RowWorkspace {
    /// `longest`: the longest row the workspace will solve (bounds the gather buffer of the
    /// iterative solvers); `block`: the subspace solver's block size.
    RowWorkspace(Index k, RowSolver solver, Index longest = unbounded, Index block = 1)
        : gather(k, gather_rows(k, solver, longest)),
          dual(dual_size(k, solver), dual_size(k, solver)),
          x(solution_size(k, solver)),
          residual(residual_size(k, solver)),
          direction(cg_size(k, solver)),
          product(cg_size(k, solver)),
          partial(cg_size(k, solver)) {
        if (uses_batch(solver)) batch.emplace(k);
        if (solver == RowSolver::implicit_subspace) subspace.emplace(k, block, gather.capacity());
    }

    RowGather<Scalar> gather;
    std::optional<SystemBatch<Scalar>> batch;  // k × k systems for the (batched) Cholesky
    std::optional<SubspaceWorkspace<Scalar>> subspace;
    SquareMatrix<Scalar> dual;  // the n × n dual system of a short row (see solved_by_dual)
    Vector<Scalar> x;
    Vector<Scalar> residual, direction, product;  // conjugate gradient (residual: dual too)
    Vector<Scalar> partial;  // conjugate gradient: one chunk's share of a product

    /// A row of n observations is solved through its n × n dual system (explicit_solver.hpp,
    /// implicit_solver.hpp), n²k + n³/3 work instead of nk² + k³/3, when n is at most this
    /// and its rows fit one gather chunk. Where primal systems are batched (k ≤ max_size, a SIMD
    /// vector of them factorised together), the dual's Cholesky, solved alone (latency
    /// bound), wins below n = k/2 (measured break-even 0.5k at k = 64, 0.7k at 128; from
    /// k = 256 the chunk, 32768/k rows, bounds n about as tightly or more); beyond, where
    /// each k × k system is factorised alone, up to n = k.
    static Index max_dual_rows(Index k) {
        const Index batched = SystemBatch<Scalar>::capacity(k) > 1 ? (k - 1) / 2 : k - 1;
        return std::min(batched, RowGather<Scalar>::chunk_rows(k));
    }
    static bool solved_by_dual(Index n, Index k) { return n <= max_dual_rows(k); }

    /// The iterative solvers (conjugate gradient, subspace) read a row's gathered factors at
    /// every step: they keep up to `resident_chunks` chunks of them (8 MB in float32 at any
    /// k ≤ 512, no more than the longest row needs), so all but the very longest rows are
    /// gathered once (for CG a third less time per epoch than re-gathering at every step).
    /// The Cholesky solvers use each chunk once.
    static constexpr Index resident_chunks = 64;
    static constexpr Index unbounded = std::numeric_limits<Index>::max();
    static bool iterative(RowSolver solver) {
        return solver == RowSolver::implicit_cg || solver == RowSolver::implicit_subspace;
    }
    static Index gather_rows(Index k, RowSolver solver, Index longest = unbounded) {
        const Index chunk = RowGather<Scalar>::chunk_rows(k);
        if (!iterative(solver)) return chunk;
        const Index chunks = longest / chunk + (longest % chunk != 0 ? 1 : 0);
        return std::clamp<Index>(chunks, 1, resident_chunks) * chunk;
    }

    /// Only the exact solvers queue k × k systems for the batched Cholesky.
    static bool uses_batch(RowSolver solver) { return !iterative(solver); }
    static Index dual_size(Index k, RowSolver solver) {
        return uses_batch(solver) ? max_dual_rows(k) : 0;
    }
    /// x: a solution not left in the batch (every solver has one: the exact ones for the dual).
    static Index solution_size(Index k, RowSolver) { return k; }
    /// residual: conjugate gradient's, and the duals' n-vectors.
    static Index residual_size(Index k, RowSolver solver) {
        return solver == RowSolver::implicit_subspace ? 0 : k;
    }
    /// Bytes one half-epoch allocates besides the per-thread workspaces, for a fixed side of
    /// `fixed_rows` rows: the implicit Cholesky solver's whitened fixed rows and factor of G
    /// (implicit_solver.hpp), when some row is solved by its dual.
    static std::size_t shared_bytes(Index k, RowSolver solver, Index fixed_rows) {
        if (solver != RowSolver::implicit_cholesky || fixed_rows == 0) return 0;
        return static_cast<std::size_t>((fixed_rows + k) * k) * sizeof(Scalar);
    }
    static Index cg_size(Index k, RowSolver solver) {
        return solver == RowSolver::implicit_cg ? k : 0;
    }

    /// Bytes the constructor allocates for (k, solver, longest, block).
    static std::size_t bytes(Index k, RowSolver solver, Index longest = unbounded,
                             Index block = 1) {
        const auto vector = [](Index n) { return static_cast<std::size_t>(n) * sizeof(Scalar); };
        const Index d = dual_size(k, solver);
        return RowGather<Scalar>::bytes(k, gather_rows(k, solver, longest)) +
               (uses_batch(solver) ? SystemBatch<Scalar>::bytes(k) : 0) +
               (solver == RowSolver::implicit_subspace
                    ? SubspaceWorkspace<Scalar>::bytes(k, block, gather_rows(k, solver, longest))
                    : 0) +
               vector(d * d) + vector(solution_size(k, solver)) + vector(residual_size(k, solver)) +
               3 * vector(cg_size(k, solver));
    }
    /// Bytes this workspace holds, read from its buffers (checks bytes()).
    std::size_t allocated_bytes() const {
        const auto held = [](const auto& buffer) {
            return static_cast<std::size_t>(buffer.size()) * sizeof(Scalar);
        };
        return gather.allocated_bytes() + (batch ? batch->allocated_bytes() : 0) +
               (subspace ? subspace->allocated_bytes() : 0) + held(dual) + held(x) +
               held(residual) + held(direction) + held(product) + held(partial);
    }
};

template <class Scalar, class Ptr>
void check_half_epoch_shapes(const CsrView<Scalar, Ptr>& rows, Index solve_rows, Index solve_cols,
                             const ConstMatrixMap<Scalar>& fixed) {
    require(solve_rows == rows.nrows, "left has ", solve_rows, " rows but the matrix has ",
            rows.nrows);
    require(fixed.rows() == rows.ncols, "right has ", fixed.rows(), " rows but the matrix has ",
            rows.ncols, " columns");
    require(solve_cols == fixed.cols(), "left has ", solve_cols, " columns but right has ",
            fixed.cols());
    require(fixed.cols() >= 1, "the embedding size must be at least 1");
}

/// Replaces every row r of `left` with its new factors. solve_row(workspace, r) either
/// returns a pointer to the solution (length k), or builds the row's k × k system into
/// workspace.batch's free slot (solvers other than
/// conjugate gradient) and returns nullptr: those systems are then solved in batches.
/// Empty rows become zero without calling it. Returns Σ_r ‖new_r − old_r‖², summed in row
/// order so the value never depends on the thread count. `row_deltas` (null, or room for
/// one double per row) receives each row's ‖new_r − old_r‖², the sum's terms: a caller that
/// splits a matrix's rows at any row (not only at reduction blocks) adds them up again with
/// ordered_sum's order.
template <class Scalar, class Ptr, class SolveRow>
double update_rows(const CsrView<Scalar, Ptr>& rows, MatrixMap<Scalar> left, RowSolver solver,
                   int threads, SolveRow solve_row, Index block = 1, double* row_deltas = nullptr) {
    const Index k = left.cols();
    Index longest = 0;
    for (Index r = 0; r < rows.nrows; ++r) longest = std::max(longest, rows.row_length(r));
    std::vector<double> own;
    if (row_deltas == nullptr) own.resize(static_cast<std::size_t>(rows.nrows));
    double* const deltas = row_deltas != nullptr ? row_deltas : own.data();
    const auto store = [&](Index r, const Vector<Scalar>& solution) {
        auto current = left.row(r);
        deltas[static_cast<std::size_t>(r)] =
            static_cast<double>((solution.transpose() - current).squaredNorm());
        current = solution.transpose();
    };
    parallel_rows<RowWorkspace<Scalar>>(
        rows.nrows, threads,
        [&](RowWorkspace<Scalar>& ws, Index r) {
            if (rows.row_length(r) == 0) {
                auto current = left.row(r);
                deltas[static_cast<std::size_t>(r)] = static_cast<double>(current.squaredNorm());
                current.setZero();
                return;
            }
            if (const Vector<Scalar>* solution = solve_row(ws, r)) {
                store(r, *solution);
            } else {
                ws.batch->push(r, store);
            }
        },
        [&](RowWorkspace<Scalar>& ws) {
            if (ws.batch) ws.batch->flush(store);
        },
        k, solver, longest, block);
    return ordered_sum(deltas, static_cast<std::size_t>(rows.nrows));
}

}  // namespace alskit
