// Gathering one CSR row's fixed-side factor rows into a dense, cache-sized buffer.
#pragma once

#include "alskit/types.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace alskit {

/// The per-row rank-n update Σ_j w_j q_j q_jᵀ is computed as one dense product XᵀX over the
/// gathered rows X (a syrk at BLAS-3 speed) instead of n rank-1 updates. Long rows are
/// processed in chunks of `chunk_rows()` so the working set stays in L2 and memory stays
/// bounded however popular an item is. A buffer may hold several chunks (`capacity()` rows):
/// conjugate gradient keeps a row's gathered copy for all its steps.
template <class Scalar>
class RowGather {
  public:
    explicit RowGather(Index k, Index capacity) : rows_(capacity, k), scratch_(chunk_rows(k)) {}
    explicit RowGather(Index k) : RowGather(k, chunk_rows(k)) {}

    static Index chunk_rows(Index k) { return std::max<Index>(64, 32768 / std::max<Index>(k, 1)); }
    Index chunk() const { return scratch_.size(); }
    Index capacity() const { return rows_.rows(); }

    /// Bytes the constructor allocates; allocated_bytes() reads them from the buffers.
    static std::size_t bytes(Index k, Index capacity) {
        return static_cast<std::size_t>(capacity * k + chunk_rows(k)) * sizeof(Scalar);
    }
    static std::size_t bytes(Index k) { return bytes(k, chunk_rows(k)); }
    std::size_t allocated_bytes() const {
        return static_cast<std::size_t>(rows_.size() + scratch_.size()) * sizeof(Scalar);
    }

    Matrix<Scalar>& rows() { return rows_; }
    /// A chunk-length vector for per-entry intermediates (e.g. X·p in conjugate gradient).
    Vector<Scalar>& scratch() { return scratch_; }

    /// Copies fixed.row(indices[begin + j]) into rows().row(to + j) for j < count.
    void gather(ConstMatrixMap<Scalar> fixed, const std::int32_t* indices, Index begin, Index count,
                Index to = 0) {
        for (Index j = 0; j < count; ++j) {
            prefetch_ahead(fixed, indices, begin + j, begin + count);
            rows_.row(to + j) = fixed.row(indices[begin + j]);
        }
    }

    /// Asks the cache for the row `prefetch_distance` entries after entry e (if before `end`).
    /// Rows are scattered over a factor matrix larger than the cache, and a loop over them is
    /// otherwise bound by memory latency; fetching ahead overlaps it with the work on entry e.
    static void prefetch_ahead(ConstMatrixMap<Scalar> fixed, const std::int32_t* indices, Index e,
                               Index end) {
        constexpr Index prefetch_distance = 8;
        if (e + prefetch_distance >= end) return;
        constexpr std::uintptr_t line = 64;
        const auto first =
            reinterpret_cast<std::uintptr_t>(fixed.row(indices[e + prefetch_distance]).data());
        const std::uintptr_t last = first +
                                    static_cast<std::uintptr_t>(fixed.cols()) *
                                        static_cast<std::uintptr_t>(sizeof(Scalar)) -
                                    1;
        // From the line holding the row's first byte to the one holding its last: numpy rows
        // need not start on a cache-line boundary.
        for (std::uintptr_t a = first & ~(line - 1); a <= last; a += line) {
            __builtin_prefetch(reinterpret_cast<const void*>(a));
        }
    }

  private:
    Matrix<Scalar> rows_;
    Vector<Scalar> scratch_;
};

}  // namespace alskit
