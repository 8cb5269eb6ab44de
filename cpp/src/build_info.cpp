#include "alskit/build_info.hpp"

namespace alskit {

const char* compiled_isa() {
#if defined(__AVX2__) && defined(__FMA__)
    return "avx2";
#else
    return "baseline";
#endif
}

}  // namespace alskit
