// Solving one k×k symmetric positive (semi-)definite system, exactly and without aborting.
#pragma once

#include "alskit/errors.hpp"
#include "alskit/types.hpp"

#include <Eigen/Cholesky>

#include <cstddef>
#include <limits>
#include <string>

namespace alskit {

using DoubleSquareMap = Eigen::Map<const Eigen::MatrixXd>;
using DoubleVectorMap = Eigen::Map<const Eigen::VectorXd>;

/// Pivot threshold shared by every Cholesky path: a pivot d with d² below it is rounding noise
/// next to the system's largest diagonal entry, and the system is treated as singular (a
/// Cholesky that "succeeded" on such noise would give a garbage solution).
template <class Scalar>
Scalar singular_pivot_threshold(Index k, Scalar max_diagonal) {
    return Scalar(10) * static_cast<Scalar>(k) * std::numeric_limits<Scalar>::epsilon() *
           max_diagonal;
}

namespace detail {

/// True when the factorisation succeeded and no pivot of L is below the singular threshold
/// (`max_diagonal`: the factored matrix's largest diagonal entry).
template <class Llt, class Scalar>
bool usable(const Llt& llt, Scalar max_diagonal) {
    if (llt.info() != Eigen::Success) return false;
    const Scalar min_pivot = llt.matrixLLT().diagonal().minCoeff();
    return min_pivot * min_pivot > singular_pivot_threshold(llt.rows(), max_diagonal);
}

}  // namespace detail

/// Cholesky first (the normal equations are SPD whenever λ > 0). When the factorisation fails
/// or is numerically singular (λ = 0 with fewer observations than factors), falls back to a
/// complete orthogonal decomposition, which returns the minimum-norm least-squares solution.
/// Throws NumericalError, naming the row, only if even that is not finite.
template <class Scalar>
class SpdSolver {
  public:
    explicit SpdSolver(Index k) : llt_(k) {}

    /// Bytes the constructor allocates (the factor's k × k storage); allocated_bytes() reads
    /// them from the factorization.
    static std::size_t bytes(Index k) { return static_cast<std::size_t>(k * k) * sizeof(Scalar); }
    std::size_t allocated_bytes() const {
        return static_cast<std::size_t>(llt_.rows() * llt_.cols()) * sizeof(Scalar);
    }

    /// `system` holds the matrix in its lower triangle (the upper one is ignored and may be
    /// overwritten by the fallback); the answer is written to `x`.
    void solve(SquareMatrix<Scalar>& system, const Vector<Scalar>& rhs, Vector<Scalar>& x,
               Index row);

    /// The fallback alone, for a system another Cholesky already found singular. A system
    /// that is not finite itself (its sums overflowed the scalar type) has no meaningful
    /// solution: the decomposition would return x = 0, a silently wrong (bias-only) model,
    /// so it is an error naming the cause.
    static void solve_robust(SquareMatrix<Scalar>& system, const Vector<Scalar>& rhs,
                             Vector<Scalar>& x, Index row);

  private:
    Eigen::LLT<SquareMatrix<Scalar>, Eigen::Lower> llt_;
};

// Defined out of the class (not inline) so that the extern declarations below keep every
// kernel translation unit from compiling Eigen's LLT again: it is compiled once per scalar
// type, in cpp/src/spd_solver.cpp.
template <class Scalar>
void SpdSolver<Scalar>::solve(SquareMatrix<Scalar>& system, const Vector<Scalar>& rhs,
                              Vector<Scalar>& x, Index row) {
    llt_.compute(system);
    if (detail::usable(llt_, system.diagonal().maxCoeff())) {
        x.noalias() = llt_.solve(rhs);
        if (x.allFinite()) return;
    }
    solve_robust(system, rhs, x, row);
}

/// x = A⁺ b, the minimum-norm least-squares solution of the k × k system whose full (both
/// triangles) matrix is `a`, computed in double by a complete orthogonal decomposition, for
/// either scalar type: it is the rare path, so it is compiled once for all variants (and float
/// systems, the ones most likely to be ill-conditioned, gain precision). Pivots below `threshold`
/// times the largest count as zero: the source type's rank threshold, so that a float system's
/// rounding noise is not taken for signal. In cpp/src/min_norm.cpp.
void solve_min_norm(const DoubleSquareMap& a, const DoubleVectorMap& b, double threshold,
                    Eigen::Ref<Eigen::VectorXd> x);

template <class Scalar>
void SpdSolver<Scalar>::solve_robust(SquareMatrix<Scalar>& system, const Vector<Scalar>& rhs,
                                     Vector<Scalar>& x, Index row) {
    if (!system.template triangularView<Eigen::Lower>().toDenseMatrix().allFinite() ||
        !rhs.allFinite()) {
        throw NumericalError("row " + std::to_string(row) +
                             ": the normal equations overflowed to a non-finite value "
                             "(ratings or confidence weights too large for the factor "
                             "dtype; rescale them or use float64)");
    }
    system.template triangularView<Eigen::StrictlyUpper>() = system.transpose();
    const Index k = system.rows();
    Eigen::MatrixXd a = system.template cast<double>();
    Eigen::VectorXd b = rhs.template cast<double>();
    Eigen::VectorXd solution(k);
    // Eigen's default rank threshold (k·ε) for the scalar type the system was built in.
    const double threshold = static_cast<double>(k) * std::numeric_limits<Scalar>::epsilon();
    solve_min_norm(DoubleSquareMap(a.data(), k, k), DoubleVectorMap(b.data(), k), threshold,
                   solution);
    x = solution.cast<Scalar>();
    if (!x.allFinite()) {
        throw NumericalError("row " + std::to_string(row) +
                             ": the least-squares system has no finite solution "
                             "(non-finite inputs, or increase regularization)");
    }
}

extern template class SpdSolver<float>;
extern template class SpdSolver<double>;

}  // namespace alskit
