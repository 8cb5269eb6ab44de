// One explicit-feedback ALS half-epoch (ALS-WR: regularization scaled by the row's count).
//
// For every row u with observed columns I_u (n_u = |I_u|) and residual ratings r̃:
//     (Q_Iᵀ Q_I + λ n_u I) p_u = Q_Iᵀ r̃_u          (empty row → p_u = 0)
// Shapes: ratings nrows × ncols, left nrows × k (updated in place), right ncols × k.
#pragma once

#include "alskit/half_epoch.hpp"
#include "alskit/rank_update.hpp"

namespace alskit {

namespace detail {

/// A short row (RowWorkspace::solved_by_dual) is solved through its n × n dual:
/// (X Xᵀ + λn I) y = r, p = Xᵀ y, which is the same solution as the primal system (push-through
/// identity) at O(n²k + n³) instead of O(nk² + k³) work. Returns false (caller solves the
/// primal) if the dual Cholesky is unusable.
template <class Scalar, class Ptr>
bool explicit_row_dual(RowWorkspace<Scalar>& ws, const CsrView<Scalar, Ptr>& ratings,
                       ConstMatrixMap<Scalar> right, Scalar ridge, Index r) {
    const Index begin = ratings.row_begin(r);
    const Index n = ratings.row_length(r);
    ws.gather.gather(right, ratings.indices, begin, n);
    const auto x = ws.gather.rows().topRows(n);
    Eigen::Ref<SquareMatrix<Scalar>> dual = ws.dual.topLeftCorner(n, n);
    dual.setZero();
    dual.template selfadjointView<Eigen::Lower>().rankUpdate(x);
    dual.diagonal().array() += ridge;
    const Scalar max_diagonal = dual.diagonal().maxCoeff();  // before the LLT overwrites it
    const Eigen::LLT<Eigen::Ref<SquareMatrix<Scalar>>, Eigen::Lower> llt(dual);  // in place
    if (!usable(llt, max_diagonal)) return false;
    auto y = ws.residual.head(n);
    y.noalias() = llt.solve(ConstVectorMap<Scalar>(ratings.values + begin, n));
    ws.x.noalias() = x.transpose() * y;
    return ws.x.allFinite();
}

/// Builds the primal k × k system into the batch's free slot, chunk by chunk over the row's
/// observations.
template <class Scalar, class Ptr>
void explicit_row_primal(RowWorkspace<Scalar>& ws, const CsrView<Scalar, Ptr>& ratings,
                         ConstMatrixMap<Scalar> right, Scalar ridge, Index r) {
    const Index begin = ratings.row_begin(r);
    const Index n = ratings.row_length(r);
    Matrix<Scalar>& x = ws.gather.rows();
    SquareMatrix<Scalar>& system = ws.batch->system();
    Vector<Scalar>& rhs = ws.batch->rhs();
    system.setZero();
    system.diagonal().setConstant(ridge);
    rhs.setZero();
    for (Index start = 0; start < n; start += ws.gather.chunk()) {
        const Index m = std::min(ws.gather.chunk(), n - start);
        ws.gather.gather(right, ratings.indices, begin + start, m);
        const ConstVectorMap<Scalar> values(ratings.values + begin + start, m);
        rhs.noalias() += x.topRows(m).transpose() * values;
        rank_update_lower<Scalar>(system, x.data(), m, x.cols());
    }
}

}  // namespace detail

/// `row_deltas`: null, or room for each row's ‖Δ‖² (see update_rows).
template <class Scalar, class Ptr>
double explicit_half_epoch(const CsrView<Scalar, Ptr>& ratings, MatrixMap<Scalar> left,
                           ConstMatrixMap<Scalar> right, Scalar reg, int threads,
                           double* row_deltas = nullptr) {
    check_half_epoch_shapes(ratings, left.rows(), left.cols(), right);
    const Index k = right.cols();
    return update_rows(
        ratings, left, RowSolver::explicit_ratings, threads,
        [&](RowWorkspace<Scalar>& ws, Index r) -> const Vector<Scalar>* {
            const Index n = ratings.row_length(r);
            const Scalar ridge = reg * static_cast<Scalar>(n);
            const bool dual = RowWorkspace<Scalar>::solved_by_dual(n, k) && ridge > 0;
            if (dual && detail::explicit_row_dual(ws, ratings, right, ridge, r)) {
                return &ws.x;
            }
            detail::explicit_row_primal(ws, ratings, right, ridge, r);
            return nullptr;  // solved with the thread's next batch
        },
        1, row_deltas);
}

extern template double explicit_half_epoch(const CsrView<float, std::int32_t>&, MatrixMap<float>,
                                           ConstMatrixMap<float>, float, int, double*);
extern template double explicit_half_epoch(const CsrView<float, std::int64_t>&, MatrixMap<float>,
                                           ConstMatrixMap<float>, float, int, double*);
extern template double explicit_half_epoch(const CsrView<double, std::int32_t>&, MatrixMap<double>,
                                           ConstMatrixMap<double>, double, int, double*);
extern template double explicit_half_epoch(const CsrView<double, std::int64_t>&, MatrixMap<double>,
                                           ConstMatrixMap<double>, double, int, double*);

}  // namespace alskit
