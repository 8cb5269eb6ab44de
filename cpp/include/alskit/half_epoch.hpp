// What every half-epoch kernel shares: shape checks, per-thread workspace, the row loop.
#pragma once

#include "alskit/errors.hpp"
#include "alskit/gather.hpp"
#include "alskit/parallel.hpp"
#include "alskit/spd_solver.hpp"
#include "alskit/types.hpp"

#include <string>
#include <vector>

namespace alskit {

/// Buffers one thread needs to solve rows: allocated once per parallel region, reused per row.
template <class Scalar>
struct RowWorkspace {
    explicit RowWorkspace(Index k)
        : gather(k), system(k, k), rhs(k), x(k), residual(k), direction(k), product(k),
          solver(k) {}

    RowGather<Scalar> gather;
    SquareMatrix<Scalar> system;
    Vector<Scalar> rhs, x;
    Vector<Scalar> residual, direction, product;  // conjugate gradient (residual: dual too)
    SpdSolver<Scalar> solver;
};

template <class Scalar, class Ptr>
void check_half_epoch_shapes(const CsrView<Scalar, Ptr>& rows, Index solve_rows, Index solve_cols,
                             const ConstMatrixMap<Scalar>& fixed) {
    require(solve_rows == rows.nrows, "left has " + std::to_string(solve_rows) +
                                          " rows but the matrix has " +
                                          std::to_string(rows.nrows));
    require(fixed.rows() == rows.ncols, "right has " + std::to_string(fixed.rows()) +
                                            " rows but the matrix has " +
                                            std::to_string(rows.ncols) + " columns");
    require(solve_cols == fixed.cols(), "left has " + std::to_string(solve_cols) +
                                            " columns but right has " +
                                            std::to_string(fixed.cols()));
    require(fixed.cols() >= 1, "the embedding size must be at least 1");
}

/// Replaces every row r of `left` with solve_row(workspace, r) (a vector of length k); empty
/// rows become zero without calling it. Returns Σ_r ‖new_r − old_r‖², summed in row order so
/// the value never depends on the thread count.
template <class Scalar, class Ptr, class SolveRow>
double update_rows(const CsrView<Scalar, Ptr>& rows, MatrixMap<Scalar> left, int threads,
                   SolveRow solve_row) {
    const Index k = left.cols();
    std::vector<double> deltas(static_cast<std::size_t>(rows.nrows), 0.0);
    parallel_rows<RowWorkspace<Scalar>>(
        rows.nrows, threads,
        [&](RowWorkspace<Scalar>& ws, Index r) {
            auto current = left.row(r);
            if (rows.row_length(r) == 0) {
                deltas[static_cast<std::size_t>(r)] = static_cast<double>(current.squaredNorm());
                current.setZero();
                return;
            }
            const Vector<Scalar>& solution = solve_row(ws, r);
            deltas[static_cast<std::size_t>(r)] =
                static_cast<double>((solution.transpose() - current).squaredNorm());
            current = solution.transpose();
        },
        k);
    return ordered_sum(deltas);
}

}  // namespace alskit
