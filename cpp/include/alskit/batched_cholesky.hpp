// Cholesky solves of several SPD systems at once, one system per SIMD lane:
//     A = L Lᵀ,  L[i][j] = (A[i][j] − Σ_{p<j} L[i][p] L[j][p]) / L[j][j],
//     L[j][j] = √(A[j][j] − Σ_{p<j} L[j][p]²),  then L z = b and Lᵀ x = z.
//
// Factoring one k × k system is latency bound at small k (every column waits on the previous
// one, and one system is too small to keep the vector units busy) and, at larger k, Eigen's
// blocked LLT spends much of its time in panels too narrow for its matrix product. Interleaving
// `lanes` independent systems element by element turns each scalar operation of the textbook
// algorithm into one vector operation over all of them, and register tiles of several rows ×
// columns make each load feed several multiply-adds. Measured per system against Eigen's LLT
// (bench_half_epoch --cholesky-only: float32, one thread, 2026-12-07): 1.7 µs against 7.7 at
// k = 64, 9.1 against 28 at 128, 66 against 134 at 256, 618 against 996 at 512 (float64:
// 1.6–3.6× faster too).
//
// Every lane runs exactly the same sequence of operations and lanes never mix, so a system's
// solution does not depend on which systems share its batch — nor, therefore, on the thread
// count. Each entry's sum runs over p in order, whatever the tiling.
#pragma once

#include "alskit/spd_solver.hpp"
#include "alskit/types.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>

#if !defined(__GNUC__) && !defined(__clang__)
#error "alskit's batched Cholesky uses GCC/Clang vector extensions"
#endif

namespace alskit {

namespace detail {
/// One 32-byte vector of Scalars (declared outside the class template: GCC drops the
/// attribute of a vector typedef that depends on the enclosing template's parameter).
template <class Scalar>
struct LaneVector {
    typedef Scalar type __attribute__((vector_size(32)));
};
}  // namespace detail

template <class Scalar>
class InterleavedCholesky {
  public:
    /// 32-byte vectors: one AVX register (two SSE registers on the portable build).
    static constexpr int lanes = static_cast<int>(32 / sizeof(Scalar));
    /// Beyond this size systems are solved one by one (Eigen's LLT): the interleaved triangle
    /// (4 MB at k = 512) and the queued systems outgrow the caches and the gain shrinks (with
    /// AVX2: 1.0× at k = 768, against 1.6× at 512). One value for every build (the bindings,
    /// compiled once for all kernel variants, size the workspaces from it): the portable
    /// build, whose 32-byte vectors are pairs of SSE registers without FMA, factors 256 × 256
    /// systems at 0.7× Eigen's speed, a cost it pays only on CPUs without AVX2.
    static constexpr Index max_size = 512;

    explicit InterleavedCholesky(Index k)
        : k_(k), packed_(packed_size(k)), inverse_pivot_(static_cast<std::size_t>(k)) {}

    /// Bytes the constructor allocates; allocated_bytes() reads them from the buffers.
    static std::size_t bytes(Index k) {
        return (packed_size(k) + static_cast<std::size_t>(k)) * sizeof(Lane);
    }
    std::size_t allocated_bytes() const {
        return (packed_.size() + inverse_pivot_.size()) * sizeof(Lane);
    }

    /// Solves systems[l] · x = rhs[l] for l < count (1 ≤ count ≤ lanes). Each system is k × k,
    /// column-major, read from its lower triangle only. Afterwards usable(l) tells whether
    /// lane l's factorisation was sound and solution(l, out) writes its answer.
    void solve(const Scalar* const* systems, const Scalar* const* rhs, int count) {
        pack(systems, rhs, count);
        factor();
        substitute_back();
    }

    bool usable(int lane) const {
        const Scalar pivot_sq = min_pivot_sq_[lane];
        return pivot_sq > Scalar(0) && pivot_sq > singular_pivot_threshold(k_, max_diagonal_[lane]);
    }

    void solution(int lane, Scalar* out) const {
        const Lane* z = row(k_);
        for (Index j = 0; j < k_; ++j) out[j] = z[j][lane];
    }

  private:
    using Lane = typename detail::LaneVector<Scalar>::type;

    /// The packed triangle with its right-hand-side row (see packed_).
    static std::size_t packed_size(Index k) {
        return static_cast<std::size_t>((k + 1) * (k + 2) / 2);
    }

    // Packed lower triangle, row-major: row i holds columns 0..i. Row k is the right-hand
    // side, so the factorisation's own column loop performs the forward substitution.
    static std::size_t offset(Index i) { return static_cast<std::size_t>(i * (i + 1) / 2); }
    Lane* row(Index i) { return packed_.data() + offset(i); }
    const Lane* row(Index i) const { return packed_.data() + offset(i); }

    void pack(const Scalar* const* systems, const Scalar* const* rhs, int count) {
        // Unused lanes repeat system 0: the arithmetic stays well defined, results are ignored.
        const Scalar* a[lanes];
        const Scalar* b[lanes];
        for (int l = 0; l < lanes; ++l) {
            a[l] = systems[l < count ? l : 0];
            b[l] = rhs[l < count ? l : 0];
        }
        for (Index j = 0; j < k_; ++j) {
            const std::size_t column = static_cast<std::size_t>(j * k_);
            for (Index i = j; i < k_; ++i) {
                Lane v;
                for (int l = 0; l < lanes; ++l) v[l] = a[l][column + static_cast<std::size_t>(i)];
                row(i)[j] = v;
            }
            Lane v;
            for (int l = 0; l < lanes; ++l) v[l] = b[l][j];
            row(k_)[j] = v;
        }
        for (int l = 0; l < lanes; ++l) {
            max_diagonal_[l] = Scalar(0);
            min_pivot_sq_[l] = std::numeric_limits<Scalar>::infinity();
        }
    }

    /// Left-looking by blocks of `width` columns: for every entry of block column J,
    ///     L[i][j] = (A[i][j] − Σ_{p<j} L[i][p] L[j][p]) / L[j][j],
    /// the sum taken in order of p. Its part over the columns left of J (p < j0) runs as a
    /// register tile of `height` rows × the block's columns, so each load of L[i][p] or
    /// L[j][p] feeds several independent multiply-adds; the rest (j0 ≤ p < j) finishes in
    /// the same registers. The rows of J are factored first (factor_diagonal_tile), then every
    /// row below, the right-hand side (row k) included: that is the forward substitution.
    void factor() {
        for (Index j0 = 0; j0 < k_; j0 += width) {
            const int w = static_cast<int>(std::min<Index>(width, k_ - j0));
            switch (w) {
                case 1:
                    factor_block_column<1>(j0);
                    break;
                case 2:
                    factor_block_column<2>(j0);
                    break;
                case 3:
                    factor_block_column<3>(j0);
                    break;
                default:
                    factor_block_column<width>(j0);
                    break;
            }
        }
    }

    /// Block columns of this many columns; tiles of this many rows (height × width
    /// accumulators and `width` broadcast values of L[j][p] fill the 16 AVX registers, L[i][p]
    /// is read from memory by the multiply-add; against tiles of 2 and 4 rows, measured at
    /// k = 128–512: 15–40 % faster).
    static constexpr int width = 4;
    static constexpr int height = 3;

    /// The block column of W columns at j0: its own rows, then the rows below to k (the
    /// right-hand side), `height` at a time.
    template <int W>
    void factor_block_column(Index j0) {
        factor_diagonal_tile<W>(j0);
        Index i = j0 + W;
        for (; i + height <= k_ + 1; i += height) factor_tile<height, W>(j0, i);
        switch (k_ + 1 - i) {
            case 1:
                factor_tile<1, W>(j0, i);
                break;
            case 2:
                factor_tile<2, W>(j0, i);
                break;
            default:
                break;
        }
    }

    /// Rows i .. i + H − 1 (all below the block) of the W columns from j0.
    template <int H, int W>
    void factor_tile(Index j0, Index i) {
        Lane* r[H];
        const Lane* l[W];
        for (int a = 0; a < H; ++a) r[a] = row(i + a);
        for (int c = 0; c < W; ++c) l[c] = row(j0 + c);
        Lane acc[H][W];
        for (int a = 0; a < H; ++a)
            for (int c = 0; c < W; ++c) acc[a][c] = r[a][j0 + c];
        for (Index p = 0; p < j0; ++p) {
            Lane q[W];
            for (int c = 0; c < W; ++c) q[c] = l[c][p];
            for (int a = 0; a < H; ++a) {
                const Lane x = r[a][p];
                for (int c = 0; c < W; ++c) acc[a][c] -= x * q[c];
            }
        }
        for (int c = 0; c < W; ++c) {
            const Lane inv = inverse_pivot_[static_cast<std::size_t>(j0 + c)];
            for (int a = 0; a < H; ++a) {
                for (int b = 0; b < c; ++b) acc[a][c] -= acc[a][b] * l[c][j0 + b];
                acc[a][c] *= inv;
            }
        }
        for (int a = 0; a < H; ++a)
            for (int c = 0; c < W; ++c) r[a][j0 + c] = acc[a][c];
    }

    /// The W rows of the block column at j0: the same tile restricted to the lower triangle
    /// (rows and columns are the same rows of L), finished column by column with its pivots.
    template <int W>
    void factor_diagonal_tile(Index j0) {
        Lane* r[W];
        for (int a = 0; a < W; ++a) r[a] = row(j0 + a);
        Lane acc[W][W] = {};
        for (int a = 0; a < W; ++a)
            for (int c = 0; c <= a; ++c) acc[a][c] = r[a][j0 + c];
        for (Index p = 0; p < j0; ++p) {
            Lane q[W];
            for (int c = 0; c < W; ++c) q[c] = r[c][p];
            for (int a = 0; a < W; ++a)
                for (int c = 0; c <= a; ++c) acc[a][c] -= q[a] * q[c];
        }
        for (int c = 0; c < W; ++c) {
            for (int b = 0; b < c; ++b) acc[c][c] -= acc[c][b] * acc[c][b];
            pivot(j0 + c, acc[c][c]);
            acc[c][c] = r[c][j0 + c];
            const Lane inv = inverse_pivot_[static_cast<std::size_t>(j0 + c)];
            for (int a = c + 1; a < W; ++a) {
                for (int b = 0; b < c; ++b) acc[a][c] -= acc[a][b] * acc[c][b];
                acc[a][c] *= inv;
            }
        }
        for (int a = 0; a < W; ++a)
            for (int c = 0; c < a; ++c) r[a][j0 + c] = acc[a][c];
    }

    /// Diagonal entry j from s = A[j][j] − Σ_{p<j} L[j][p]²: stores L[j][j] and its inverse,
    /// records the pivot for usable(). (Takes s by reference and returns nothing: a 32-byte
    /// vector passed or returned by value draws -Wpsabi on the portable, non-AVX build.)
    void pivot(Index j, const Lane& s) {
        Lane* lj = row(j);
        Lane d = s;  // every lane is set below (initialised so that gcc sees it is)
        for (int l = 0; l < lanes; ++l) {
            max_diagonal_[l] = std::max(max_diagonal_[l], lj[j][l]);
            // std::min would skip a NaN pivot; it must mark the lane unusable instead.
            const Scalar sq = std::isnan(s[l]) ? -std::numeric_limits<Scalar>::infinity() : s[l];
            min_pivot_sq_[l] = std::min(min_pivot_sq_[l], sq);
            d[l] = std::sqrt(s[l]);
        }
        lj[j] = d;
        inverse_pivot_[static_cast<std::size_t>(j)] = Scalar(1) / d;
    }

    /// Solves Lᵀ x = z in place in row k (z, from the factorisation, already solves L z = b).
    /// Column-oriented so every step reads one contiguous row of L.
    void substitute_back() {
        Lane* z = row(k_);
        for (Index i = k_ - 1; i >= 0; --i) {
            const Lane xi = z[i] * inverse_pivot_[static_cast<std::size_t>(i)];
            z[i] = xi;
            const Lane* li = row(i);
            for (Index p = 0; p < i; ++p) z[p] -= li[p] * xi;
        }
    }

    Index k_;
    std::vector<Lane> packed_;
    std::vector<Lane> inverse_pivot_;
    Scalar max_diagonal_[lanes];
    Scalar min_pivot_sq_[lanes];
};

}  // namespace alskit
