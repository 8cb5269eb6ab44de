// What a kernel library was built for: the instruction set its variant was compiled with
// ("avx2" with AVX2+FMA, otherwise "baseline"). Each variant's kernels are compiled with their
// own flags, so this is answered by the kernels, not by the code that calls them.
#pragma once

namespace alskit {

/// The instruction set of the kernels linked into this binary; in cpp/src/build_info.cpp.
const char* compiled_isa();

}  // namespace alskit
