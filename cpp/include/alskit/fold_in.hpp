// Fold-in: embeddings for new users (rows not seen in training) from their histories.
//
// A fold-in batch is a CSR of histories over the trained item side; solving it is exactly one
// half-epoch whose left side starts at zero, so it reuses the row solvers unchanged.
#pragma once

#include "alskit/explicit_solver.hpp"
#include "alskit/implicit_solver.hpp"

namespace alskit {

/// Explicit: `residuals` hold r − b_g − b_i − b_u; `out` (nrows × k) receives the embeddings.
template <class Scalar, class Ptr>
void fold_in_explicit(const CsrView<Scalar, Ptr>& residuals, ConstMatrixMap<Scalar> items,
                      Scalar reg, MatrixMap<Scalar> out, int threads) {
    out.setZero();
    explicit_half_epoch(residuals, out, items, reg, threads);
}

/// Implicit: `conf` holds the weights v and `targets` the right-hand sides b (null: 1 + v, see
/// implicit_solver.hpp); `gram` is the stored QᵀQ + λI. Always Cholesky: a new user has no
/// previous embedding to warm-start conjugate gradient from.
template <class Scalar, class Ptr>
void fold_in_implicit(const CsrView<Scalar, Ptr>& conf, ConstMatrixMap<Scalar> items,
                      ConstSquareMap<Scalar> gram, MatrixMap<Scalar> out, int threads,
                      const Scalar* targets = nullptr) {
    out.setZero();
    implicit_half_epoch(conf, out, items, gram, ImplicitSolver::cholesky, 1, threads, targets);
}

}  // namespace alskit
