// Explicit instantiations: each kernel is compiled once per (value, indptr) type pair.
#include "alskit/csr.hpp"

namespace alskit {

#define ALSKIT_INSTANTIATE_CSR(Scalar, Ptr)                                      \
    template void validate_csr(const CsrView<Scalar, Ptr>&, const std::string&); \
    template void transpose_csr(const CsrView<Scalar, Ptr>&, Ptr*, std::int32_t*, Scalar*, int);
ALSKIT_INSTANTIATE_CSR(float, std::int32_t)
ALSKIT_INSTANTIATE_CSR(float, std::int64_t)
ALSKIT_INSTANTIATE_CSR(double, std::int32_t)
ALSKIT_INSTANTIATE_CSR(double, std::int64_t)

}  // namespace alskit
