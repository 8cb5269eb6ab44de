// G = YᵀY + λI, the k×k Gram matrix of the fixed side (implicit ALS needs it once per half).
#pragma once

#include "alskit/errors.hpp"
#include "alskit/parallel.hpp"
#include "alskit/types.hpp"

#include <vector>

namespace alskit {

/// Rows are split into blocks of reduction_block_rows whose partial Gram matrices are computed
/// in parallel and added in block order, so the result is bit-identical for any thread count
/// (and for row blocks aligned to that size, summing their block partials in order).
template <class Scalar>
SquareMatrix<Scalar> gram(ConstMatrixMap<Scalar> factors, Scalar reg, int requested_threads) {
    constexpr Index block_rows = reduction_block_rows;
    const Index k = factors.cols();
    const Index blocks = (factors.rows() + block_rows - 1) / block_rows;
    std::vector<SquareMatrix<Scalar>> partial(static_cast<std::size_t>(blocks));
    ExceptionCollector errors;
    const int threads = resolve_threads(requested_threads, blocks);
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
#endif
    for (Index b = 0; b < blocks; ++b) {
        errors.run([&] {
            const Index lo = b * block_rows;
            const Index rows = std::min(block_rows, factors.rows() - lo);
            SquareMatrix<Scalar>& g = partial[static_cast<std::size_t>(b)];
            g.setZero(k, k);
            g.template selfadjointView<Eigen::Lower>().rankUpdate(
                factors.middleRows(lo, rows).transpose());
        });
    }
    (void)threads;
    errors.rethrow();

    SquareMatrix<Scalar> result = SquareMatrix<Scalar>::Zero(k, k);
    for (const auto& g : partial) result += g;
    result.template triangularView<Eigen::StrictlyUpper>() = result.transpose();
    result.diagonal().array() += reg;
    return result;
}

extern template SquareMatrix<float> gram(ConstMatrixMap<float>, float, int);
extern template SquareMatrix<double> gram(ConstMatrixMap<double>, double, int);

}  // namespace alskit
