// What every half-epoch kernel shares: shape checks, per-thread workspace, the row loop.
#pragma once

#include "alskit/errors.hpp"
#include "alskit/gather.hpp"
#include "alskit/parallel.hpp"
#include "alskit/system_batch.hpp"
#include "alskit/types.hpp"

#include <string>
#include <vector>

namespace alskit {

/// Buffers one thread needs to solve rows: allocated once per parallel region, reused per row.
template <class Scalar>
struct RowWorkspace {
    explicit RowWorkspace(Index k)
        : gather(k),
          batch(k),
          dual(k / 2, k / 2),
          rhs(k),
          x(k),
          residual(k),
          direction(k),
          product(k) {}

    RowGather<Scalar> gather;
    SystemBatch<Scalar> batch;  // k × k systems waiting for the (batched) Cholesky solve
    SquareMatrix<Scalar> dual;  // the n × n dual system of a short explicit row (n < k/2)
    Vector<Scalar> rhs, x;
    Vector<Scalar> residual, direction, product;  // conjugate gradient (residual: dual too)
};

template <class Scalar, class Ptr>
void check_half_epoch_shapes(const CsrView<Scalar, Ptr>& rows, Index solve_rows, Index solve_cols,
                             const ConstMatrixMap<Scalar>& fixed) {
    require(solve_rows == rows.nrows, "left has " + std::to_string(solve_rows) +
                                          " rows but the matrix has " + std::to_string(rows.nrows));
    require(fixed.rows() == rows.ncols, "right has " + std::to_string(fixed.rows()) +
                                            " rows but the matrix has " +
                                            std::to_string(rows.ncols) + " columns");
    require(solve_cols == fixed.cols(), "left has " + std::to_string(solve_cols) +
                                            " columns but right has " +
                                            std::to_string(fixed.cols()));
    require(fixed.cols() >= 1, "the embedding size must be at least 1");
}

/// Replaces every row r of `left` with its new factors. solve_row(workspace, r) either
/// returns a pointer to the solution (length k), or builds the row's k × k system into
/// workspace.batch's free slot and returns nullptr: those systems are then solved in batches.
/// Empty rows become zero without calling it. Returns Σ_r ‖new_r − old_r‖², summed in row
/// order so the value never depends on the thread count.
template <class Scalar, class Ptr, class SolveRow>
double update_rows(const CsrView<Scalar, Ptr>& rows, MatrixMap<Scalar> left, int threads,
                   SolveRow solve_row) {
    const Index k = left.cols();
    std::vector<double> deltas(static_cast<std::size_t>(rows.nrows), 0.0);
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
                ws.batch.push(r, store);
            }
        },
        [&](RowWorkspace<Scalar>& ws) { ws.batch.flush(store); }, k);
    return ordered_sum(deltas);
}

}  // namespace alskit
