// The row solver compiled once: Eigen's LLT for each scalar type, and the minimum-norm
// fallback (complete orthogonal decomposition, in double) for both.
#include "alskit/spd_solver.hpp"

#include <Eigen/QR>

namespace alskit {

void solve_min_norm(const DoubleSquareMap& a, const DoubleVectorMap& b, double threshold,
                    Eigen::Ref<Eigen::VectorXd> x) {
    Eigen::CompleteOrthogonalDecomposition<Eigen::MatrixXd> cod(a.rows(), a.cols());
    cod.setThreshold(threshold);
    cod.compute(a);  // rare path: may allocate
    x = cod.solve(b);
}

template class SpdSolver<float>;
template class SpdSolver<double>;

}  // namespace alskit
