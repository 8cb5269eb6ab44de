// Solving one k×k symmetric positive (semi-)definite system, exactly and without aborting.
#pragma once

#include "alskit/errors.hpp"
#include "alskit/types.hpp"

#include <Eigen/Cholesky>
#include <Eigen/QR>

#include <cmath>
#include <limits>
#include <string>

namespace alskit {

/// Cholesky first (the normal equations are SPD whenever λ > 0). When the factorisation fails
/// or is numerically singular (λ = 0 with fewer observations than factors), falls back to a
/// complete orthogonal decomposition, which returns the minimum-norm least-squares solution.
/// Throws NumericalError, naming the row, only if even that is not finite.
template <class Scalar>
class SpdSolver {
  public:
    explicit SpdSolver(Index k) : llt_(k) {}

    /// `system` holds the matrix in its lower triangle (the upper one is ignored and may be
    /// overwritten by the fallback); the answer is written to `x`.
    void solve(SquareMatrix<Scalar>& system, const Vector<Scalar>& rhs, Vector<Scalar>& x,
               Index row) {
        llt_.compute(system);
        if (llt_.info() == Eigen::Success && well_conditioned(system)) {
            x.noalias() = llt_.solve(rhs);
            if (x.allFinite()) return;
        }
        system.template triangularView<Eigen::StrictlyUpper>() = system.transpose();
        x = system.completeOrthogonalDecomposition().solve(rhs);  // rare path: may allocate
        if (!x.allFinite()) {
            throw NumericalError("row " + std::to_string(row) +
                                 ": the least-squares system has no finite solution "
                                 "(non-finite inputs, or increase regularization)");
        }
    }

  private:
    /// A pivot of L that is tiny next to the matrix's largest diagonal entry means a singular
    /// system whose Cholesky "succeeded" on rounding noise; its solution would be garbage.
    bool well_conditioned(const SquareMatrix<Scalar>& system) const {
        const Scalar max_diag = system.diagonal().maxCoeff();
        const Scalar min_pivot = llt_.matrixLLT().diagonal().minCoeff();
        const Scalar tolerance = Scalar(10) * static_cast<Scalar>(system.rows()) *
                                 std::numeric_limits<Scalar>::epsilon() * max_diag;
        return min_pivot * min_pivot > tolerance;
    }

    Eigen::LLT<SquareMatrix<Scalar>, Eigen::Lower> llt_;
};

}  // namespace alskit
