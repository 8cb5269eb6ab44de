#include "alskit/implicit_solver.hpp"

namespace alskit {

#define ALSKIT_INSTANTIATE_IMPLICIT(Scalar, Ptr)                                        \
    template double implicit_half_epoch(const CsrView<Scalar, Ptr>&, MatrixMap<Scalar>, \
                                        ConstMatrixMap<Scalar>, ConstSquareMap<Scalar>, \
                                        ImplicitSolver, int, int, const Scalar*, Index, double*);
ALSKIT_INSTANTIATE_IMPLICIT(float, std::int32_t)
ALSKIT_INSTANTIATE_IMPLICIT(float, std::int64_t)
ALSKIT_INSTANTIATE_IMPLICIT(double, std::int32_t)
ALSKIT_INSTANTIATE_IMPLICIT(double, std::int64_t)

}  // namespace alskit
