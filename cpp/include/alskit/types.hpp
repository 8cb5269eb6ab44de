// Matrix aliases and the non-owning CSR view that every kernel takes.
#pragma once

#include <Eigen/Core>

#include <cstdint>

namespace alskit {

using Index = std::int64_t;  // row/entry counters: never int32, so nothing wraps past 2^31

/// Factor matrices are RowMajor so that numpy's C-ordered (n, k) buffers map without a copy
/// and one entity's factors are contiguous.
template <class Scalar>
using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class Scalar>
using MatrixMap = Eigen::Map<Matrix<Scalar>>;
template <class Scalar>
using ConstMatrixMap = Eigen::Map<const Matrix<Scalar>>;
template <class Scalar>
using Vector = Eigen::Matrix<Scalar, Eigen::Dynamic, 1>;
template <class Scalar>
using ConstVectorMap = Eigen::Map<const Vector<Scalar>>;
/// The k×k normal-equation systems: symmetric, stored ColMajor as Eigen's LLT prefers.
template <class Scalar>
using SquareMatrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;

namespace detail {
/// Eigen's SIMD packet of Scalar on this build and its lane count: the unit of the
/// hand-written kernels (rank_update.hpp, normal_product.hpp).
template <class Scalar>
using Packet = typename Eigen::internal::packet_traits<Scalar>::type;
template <class Scalar>
constexpr int packet_lanes = Eigen::internal::unpacket_traits<Packet<Scalar>>::size;
}  // namespace detail

/// Compressed sparse rows over caller-owned buffers (numpy arrays, in the module).
///
/// Row r's entries are [indptr[r], indptr[r+1]) of `indices`/`values`. indptr[0] need not be
/// 0, so a view of rows [a, b) of a larger matrix is just `indptr + a` with nrows = b - a:
/// one kernel call then serves a whole half-epoch, a fold-in batch or a block of rows.
template <class Scalar, class Ptr>
struct CsrView {
    const Ptr* indptr = nullptr;            // nrows + 1 offsets
    const std::int32_t* indices = nullptr;  // column of each entry
    const Scalar* values = nullptr;         // value of each entry
    Index nrows = 0;
    Index ncols = 0;
    Index entries = 0;  // length of the indices/values buffers

    Index row_begin(Index r) const { return static_cast<Index>(indptr[r]); }
    Index row_end(Index r) const { return static_cast<Index>(indptr[r + 1]); }
    Index row_length(Index r) const { return row_end(r) - row_begin(r); }
};

}  // namespace alskit
