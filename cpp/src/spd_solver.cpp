// The row solver compiled once per variant: Eigen's LLT for each scalar type (the minimum-norm
// fallback it calls is in min_norm.cpp, compiled once for all variants).
#include "alskit/spd_solver.hpp"

namespace alskit {

template class SpdSolver<float>;
template class SpdSolver<double>;

}  // namespace alskit
