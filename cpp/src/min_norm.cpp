// The row solver's minimum-norm fallback (complete orthogonal decomposition, in double):
// the rare path, compiled once with the baseline flags and linked into every variant.
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

}  // namespace alskit
