#include "alskit/explicit_solver.hpp"

namespace alskit {

template double explicit_half_epoch(const CsrView<float, std::int32_t>&, MatrixMap<float>,
                                    ConstMatrixMap<float>, float, int, double*);
template double explicit_half_epoch(const CsrView<float, std::int64_t>&, MatrixMap<float>,
                                    ConstMatrixMap<float>, float, int, double*);
template double explicit_half_epoch(const CsrView<double, std::int32_t>&, MatrixMap<double>,
                                    ConstMatrixMap<double>, double, int, double*);
template double explicit_half_epoch(const CsrView<double, std::int64_t>&, MatrixMap<double>,
                                    ConstMatrixMap<double>, double, int, double*);

}  // namespace alskit
