#include "alskit/gram.hpp"

namespace alskit {

template SquareMatrix<float> gram(ConstMatrixMap<float>, float, int);
template SquareMatrix<double> gram(ConstMatrixMap<double>, double, int);

}  // namespace alskit
