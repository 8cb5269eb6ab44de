// Explicit instantiations: top-N and pair scoring for each scalar type (both indptr types of
// the exclusion matrix).
#include "alskit/scoring.hpp"

namespace alskit {

ALSKIT_SCORING_INSTANTIATIONS(, float)
ALSKIT_SCORING_INSTANTIATIONS(, double)

}  // namespace alskit
