// One explicit-feedback ALS half-epoch (ALS-WR: regularization scaled by the row's count).
//
// For every row u with observed columns I_u (n_u = |I_u|) and residual ratings r̃:
//     (Q_Iᵀ Q_I + λ n_u I) p_u = Q_Iᵀ r̃_u          (empty row → p_u = 0)
// Shapes: ratings nrows × ncols, left nrows × k (updated in place), right ncols × k.
#pragma once

#include "alskit/half_epoch.hpp"

namespace alskit {

template <class Scalar, class Ptr>
double explicit_half_epoch(const CsrView<Scalar, Ptr>& ratings, MatrixMap<Scalar> left,
                           ConstMatrixMap<Scalar> right, Scalar reg, int threads) {
    check_half_epoch_shapes(ratings, left.rows(), left.cols(), right);
    return update_rows(ratings, left, threads,
                       [&](RowWorkspace<Scalar>& ws, Index r) -> const Vector<Scalar>& {
                           const Index begin = ratings.row_begin(r);
                           const Index n = ratings.row_length(r);
                           Matrix<Scalar>& x = ws.gather.rows();
                           ws.system.setZero();
                           ws.system.diagonal().setConstant(reg * static_cast<Scalar>(n));
                           ws.rhs.setZero();
                           for (Index start = 0; start < n; start += ws.gather.chunk()) {
                               const Index m = std::min(ws.gather.chunk(), n - start);
                               ws.gather.gather(right, ratings.indices, begin + start, m);
                               const ConstVectorMap<Scalar> values(ratings.values + begin + start,
                                                                   m);
                               ws.rhs.noalias() += x.topRows(m).transpose() * values;
                               ws.system.template selfadjointView<Eigen::Lower>().rankUpdate(
                                   x.topRows(m).transpose());
                           }
                           ws.solver.solve(ws.system, ws.rhs, ws.x, r);
                           return ws.x;
                       });
}

extern template double explicit_half_epoch(const CsrView<float, std::int32_t>&, MatrixMap<float>,
                                           ConstMatrixMap<float>, float, int);
extern template double explicit_half_epoch(const CsrView<float, std::int64_t>&, MatrixMap<float>,
                                           ConstMatrixMap<float>, float, int);
extern template double explicit_half_epoch(const CsrView<double, std::int32_t>&,
                                           MatrixMap<double>, ConstMatrixMap<double>, double, int);
extern template double explicit_half_epoch(const CsrView<double, std::int64_t>&,
                                           MatrixMap<double>, ConstMatrixMap<double>, double, int);

}  // namespace alskit
