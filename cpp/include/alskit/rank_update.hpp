// The symmetric rank-m update that builds every row's normal equations, lower triangle only:
//     A ← A + s · XᵀX = A + s · Σ_{j<m} x_j x_jᵀ      (X: m × k row-major, rows x_j; s = ±1)
// at the minimum m·k(k+1)/2 multiply-adds, plus the waste of the tiles that straddle the
// diagonal.
//
// The rows of X are the gathered factor rows of one CSR row: contiguous, short (k values) and
// few (a chunk of at most a few hundred), so a general syrk spends much of its time packing
// them into panels. Here they are used in place: A is swept in tiles of `strip` rows × `width`
// columns held in registers for the whole pass over X; for every x_j a tile takes `strip`
// consecutive values of x_j (packet loads, contiguous in the row-major X) times `width`
// broadcast values of it. Each entry of A is one sum over j in order, added to A once: the
// result depends on k and m only, never on the thread or the call site. Past k = 192 (where
// A outgrows the cache) and below one strip, Eigen's rankUpdate does it.
#pragma once

#include "alskit/types.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <array>
#include <cstddef>

namespace alskit {

namespace detail {

template <class Scalar>
struct RankUpdateTile {
    using Packet = detail::Packet<Scalar>;
    static constexpr int lanes = packet_lanes<Scalar>;
    static constexpr int packets = 2;  // per column of the tile
    static constexpr int width = 6;    // columns: 12 accumulators + 2 row packets + 1 broadcast
    static constexpr Index strip = packets * lanes;
    /// Beyond this k the update goes to Eigen, whose blocking of A then pays for itself
    /// (Eigen against these tiles, measured: 1.1-1.5× slower at k ≤ 128, equal at 256,
    /// 10-25% faster at 512-1000).
    static constexpr Index max_k = 192;
};

/// Adds x's contribution to a tile's accumulators: rows [i0, i0 + strip), columns
/// [c0, c0 + width).
template <class Scalar, class Packet>
inline void rank_update_accumulate(
    Packet (&acc)[RankUpdateTile<Scalar>::packets][RankUpdateTile<Scalar>::width],
    const Scalar* row, Index i0, Index c0) {
    using T = RankUpdateTile<Scalar>;
    namespace ei = Eigen::internal;
    Packet xi[T::packets];
    for (int p = 0; p < T::packets; ++p) xi[p] = ei::ploadu<Packet>(row + i0 + p * T::lanes);
    for (int c = 0; c < T::width; ++c) {
        const Packet b = ei::pset1<Packet>(row[c0 + c]);
        for (int p = 0; p < T::packets; ++p) acc[p][c] = ei::pmadd(xi[p], b, acc[p][c]);
    }
}

/// One tile of Σ_j x_j x_jᵀ over the m rows of x, added to A where its entries are in the
/// lower triangle of the k × k matrix. `last` replaces the final row: a padded copy of it, so
/// that no packet reads past X.
template <class Scalar>
void rank_update_tile(Eigen::Ref<SquareMatrix<Scalar>> a, const Scalar* x, Index m, Index stride,
                      const Scalar* last, Index i0, Index c0, Scalar sign) {
    using T = RankUpdateTile<Scalar>;
    using Packet = typename T::Packet;
    namespace ei = Eigen::internal;
    const Index k = a.rows();
    Packet acc[T::packets][T::width];
    for (int p = 0; p < T::packets; ++p)
        for (int c = 0; c < T::width; ++c) acc[p][c] = ei::pset1<Packet>(Scalar(0));
    for (Index j = 0; j + 1 < m; ++j) rank_update_accumulate<Scalar>(acc, x + j * stride, i0, c0);
    rank_update_accumulate<Scalar>(acc, last, i0, c0);

    const Packet s = ei::pset1<Packet>(sign);
    if (i0 >= c0 + T::width - 1 && i0 + T::strip <= k && c0 + T::width <= k) {
        // every entry of the tile is in the lower triangle: whole packets
        for (int c = 0; c < T::width; ++c) {
            Scalar* column = a.data() + (c0 + c) * a.outerStride() + i0;
            for (int p = 0; p < T::packets; ++p) {
                Scalar* at = column + p * T::lanes;
                ei::pstoreu(at, ei::pmadd(acc[p][c], s, ei::ploadu<Packet>(at)));
            }
        }
        return;
    }
    alignas(64) std::array<Scalar, static_cast<std::size_t>(T::strip)> lane{};
    for (int c = 0; c < T::width && c0 + c < k; ++c) {
        for (int p = 0; p < T::packets; ++p) ei::pstoreu(lane.data() + p * T::lanes, acc[p][c]);
        const Index col = c0 + c;
        for (Index i = std::max(i0, col); i < std::min<Index>(i0 + T::strip, k); ++i) {
            a(i, col) += sign * lane[static_cast<std::size_t>(i - i0)];
        }
    }
}

}  // namespace detail

/// A's lower triangle += sign · Σ_{j<m} x_j x_jᵀ, with x_j = x[j·stride, j·stride + k) and
/// k = a.rows() ≤ stride. The upper triangle is left as it was.
template <class Scalar>
void rank_update_lower(Eigen::Ref<SquareMatrix<Scalar>> a, const Scalar* x, Index m, Index stride,
                       Scalar sign = Scalar(1)) {
    using T = detail::RankUpdateTile<Scalar>;
    const Index k = a.rows();
    // An empty product returns here, before Eigen: its blocked kernel divides by the depth
    // (SIGFPE for k >= 48 on a chunk without positive weights).
    if (m <= 0 || k <= 0) return;
    if (k < T::strip || k > T::max_k) {  // narrower than a strip, or where Eigen is faster
        using Rows = Eigen::Map<const Matrix<Scalar>, 0, Eigen::OuterStride<>>;
        a.template selfadjointView<Eigen::Lower>().rankUpdate(
            Rows(x, m, k, Eigen::OuterStride<>(stride)).transpose(), sign);
        return;
    }
    // X's final row padded with zeros: a tile's packets may run past k, into the next row of X
    // (those lanes are never stored), but must not run past the end of X.
    alignas(64) std::array<Scalar, static_cast<std::size_t>(T::max_k + 2 * T::strip)> last;
    std::copy(x + (m - 1) * stride, x + (m - 1) * stride + k, last.begin());
    std::fill(last.begin() + k, last.begin() + k + 2 * T::strip, Scalar(0));
    for (Index c0 = 0; c0 < k; c0 += T::width) {
        // The fewest strips that cover rows [c0, k), ending at k where they can (then only
        // the top one straddles the diagonal and no packet runs past k).
        const Index count = (k - c0 + T::strip - 1) / T::strip;
        const Index first = std::max<Index>(0, k - count * T::strip);
        for (Index t = 0; t < count; ++t) {
            detail::rank_update_tile<Scalar>(a, x, m, stride, last.data(), first + t * T::strip, c0,
                                             sign);
        }
    }
}

}  // namespace alskit
