// CSR validation and a parallel transpose.
#pragma once

#include "alskit/errors.hpp"
#include "alskit/parallel.hpp"
#include "alskit/types.hpp"

#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace alskit {

/// Checks everything a kernel relies on, so that a malformed matrix is an error and never an
/// out-of-bounds read: non-negative monotone indptr within the buffers, every column index in
/// [0, ncols), every value finite. `name` prefixes the messages (e.g. "ratings." or "").
template <class Scalar, class Ptr>
void validate_csr(const CsrView<Scalar, Ptr>& m, const std::string& name) {
    require(m.nrows >= 0 && m.ncols >= 0, name, "shape is negative");
    require(m.ncols <= std::numeric_limits<std::int32_t>::max(), name,
            "ncols: more than 2^31-1 columns cannot be indexed by int32 indices");
    const Index first = static_cast<Index>(m.indptr[0]);
    require(first >= 0, name, "indptr[0] is negative");
    for (Index r = 0; r < m.nrows; ++r) {
        if (m.indptr[r + 1] < m.indptr[r]) {
            fail_argument(name + "indptr is not monotone at row " + std::to_string(r) +
                          " (it must be non-decreasing)");
        }
    }
    const Index last = static_cast<Index>(m.indptr[m.nrows]);
    require(last <= m.entries, name, "indptr points past the end of indices (", last, " > ",
            m.entries, ")");
    for (Index j = first; j < last; ++j) {
        const std::int32_t c = m.indices[j];
        if (c < 0 || c >= m.ncols) {
            fail_argument(name + "indices[" + std::to_string(j) + "] = " + std::to_string(c) +
                          " is outside [0, " + std::to_string(m.ncols) + ")");
        }
    }
    if (m.values == nullptr) return;
    for (Index j = first; j < last; ++j) {
        if (!std::isfinite(m.values[j])) {
            fail_argument(name + "values[" + std::to_string(j) + "] is not finite");
        }
    }
}

/// Writes the transpose (ncols × nrows) into caller-allocated buffers: out_indptr has ncols+1
/// entries (starting at 0), out_indices/out_values have indptr[nrows]-indptr[0]; out_values
/// may be null to transpose the structure only. Within each output row the
/// entries are in increasing column order, exactly as a serial counting sort gives, whatever the
/// thread count: each block of input rows scatters into its own precomputed slots.
template <class Scalar, class Ptr>
void transpose_csr(const CsrView<Scalar, Ptr>& m, Ptr* out_indptr, std::int32_t* out_indices,
                   Scalar* out_values, int requested_threads) {
    require(m.nrows <= std::numeric_limits<std::int32_t>::max(),
            "transpose: more than 2^31-1 rows cannot become int32 column indices");
    const Index ncols = m.ncols;
    // A fixed number of row blocks (not one per thread) keeps the work split independent of
    // the thread count; per-block column counts cost blocks × ncols integers.
    const Index blocks = std::max<Index>(1, std::min<Index>(64, m.nrows / 4096));
    const Index rows_per_block = (m.nrows + blocks - 1) / std::max<Index>(blocks, 1);
    std::vector<Index> offsets(static_cast<std::size_t>(blocks * ncols), 0);
    const int threads = resolve_threads(requested_threads, blocks);

    auto block_range = [&](Index b, Index& lo, Index& hi) {
        lo = std::min(m.nrows, b * rows_per_block);
        hi = std::min(m.nrows, lo + rows_per_block);
    };
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static)
#endif
    for (Index b = 0; b < blocks; ++b) {
        Index lo, hi;
        block_range(b, lo, hi);
        Index* counts = offsets.data() + b * ncols;
        for (Index j = m.row_begin(lo); j < m.row_begin(hi); ++j) {
            ++counts[m.indices[j]];
        }
    }
    // Exclusive scan in (column, block) order turns the counts into write positions.
    Index running = 0;
    for (Index c = 0; c < ncols; ++c) {
        out_indptr[c] = static_cast<Ptr>(running);
        for (Index b = 0; b < blocks; ++b) {
            Index& slot = offsets[static_cast<std::size_t>(b * ncols + c)];
            const Index count = slot;
            slot = running;
            running += count;
        }
    }
    out_indptr[ncols] = static_cast<Ptr>(running);
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static)
#endif
    for (Index b = 0; b < blocks; ++b) {
        Index lo, hi;
        block_range(b, lo, hi);
        Index* next = offsets.data() + b * ncols;
        for (Index r = lo; r < hi; ++r) {
            for (Index j = m.row_begin(r); j < m.row_end(r); ++j) {
                const Index pos = next[m.indices[j]]++;
                out_indices[pos] = static_cast<std::int32_t>(r);
                if (out_values != nullptr) out_values[pos] = m.values[j];
            }
        }
    }
    (void)threads;
}

#define ALSKIT_DECLARE_CSR(Scalar, Ptr)                                                           \
    extern template void validate_csr(const CsrView<Scalar, Ptr>&, const std::string&);           \
    extern template void transpose_csr(const CsrView<Scalar, Ptr>&, Ptr*, std::int32_t*, Scalar*, \
                                       int);
ALSKIT_DECLARE_CSR(float, std::int32_t)
ALSKIT_DECLARE_CSR(float, std::int64_t)
ALSKIT_DECLARE_CSR(double, std::int32_t)
ALSKIT_DECLARE_CSR(double, std::int64_t)
#undef ALSKIT_DECLARE_CSR

}  // namespace alskit
