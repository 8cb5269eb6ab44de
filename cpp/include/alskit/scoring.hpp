// Batched scoring: top-N per user without a users × items matrix, and scores of pairs.
//
// score(u, i) = p_u · q_i + item_offset[i] + user_offset[u]   (offsets optional: biases)
#pragma once

#include "alskit/errors.hpp"
#include "alskit/parallel.hpp"
#include "alskit/types.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace alskit {

/// What to rank and what to leave out. Null pointers mean "none".
template <class Scalar, class Ptr>
struct TopNRequest {
    const Scalar* user_offsets = nullptr;           // one per query row
    const Scalar* item_offsets = nullptr;           // one per item
    const CsrView<Scalar, Ptr>* exclude = nullptr;  // row u: items never returned for user u
    const std::int32_t* candidates = nullptr;       // rank only these items (distinct)
    Index n_candidates = 0;
    const std::uint8_t* blocked = nullptr;  // per item: nonzero → never returned
    Index n = 10;
};

namespace detail {

/// Ranking order: higher score first, then lower item number (deterministic ties).
template <class Scalar>
struct Ranked {
    Scalar score;
    std::int32_t item;
    bool better_than(const Ranked& o) const {
        return score > o.score || (score == o.score && item < o.item);
    }
};

}  // namespace detail

/// For each query row u (user_factors.row(u)), the `n` best items by score, written to
/// out_items/out_scores (rows × n, RowMajor). Rows with fewer than n rankable items are
/// padded with item -1 and score NaN. Scores are computed for a block of rows at a time
/// (block × items), so memory stays O(block × items) per thread.
template <class Scalar, class Ptr>
void top_n(ConstMatrixMap<Scalar> user_factors, ConstMatrixMap<Scalar> item_factors,
           const TopNRequest<Scalar, Ptr>& req, std::int32_t* out_items, Scalar* out_scores,
           int requested_threads) {
    const Index rows = user_factors.rows();
    const Index n_items = item_factors.rows();
    const Index k = item_factors.cols();
    require(user_factors.cols() == k, "user factors and item factors differ in width");
    require(req.n >= 1, "n must be at least 1");
    require(req.exclude == nullptr || req.exclude->nrows == rows,
            "exclude must have one row per user");

    // Candidate subset: gather its factor rows once; `position` maps item → column (or -1).
    const bool subset = req.candidates != nullptr;
    const Index n_cols = subset ? req.n_candidates : n_items;
    Matrix<Scalar> gathered;
    std::vector<std::int32_t> position;
    if (subset) {
        gathered.resize(n_cols, k);
        position.assign(static_cast<std::size_t>(n_items), -1);
        for (Index c = 0; c < n_cols; ++c) {
            const std::int32_t item = req.candidates[c];
            require(item >= 0 && item < n_items, "candidates[", c, "] is not a valid item number");
            require(position[static_cast<std::size_t>(item)] < 0, "candidates contains item ", item,
                    " twice");
            position[static_cast<std::size_t>(item)] = static_cast<std::int32_t>(c);
            gathered.row(c) = item_factors.row(item);
        }
    }
    const ConstMatrixMap<Scalar> columns(subset ? gathered.data() : item_factors.data(), n_cols, k);
    auto item_of = [&](Index c) -> std::int32_t {
        return subset ? req.candidates[c] : static_cast<std::int32_t>(c);
    };
    auto column_of = [&](std::int32_t item) -> Index {
        return subset ? position[static_cast<std::size_t>(item)] : item;
    };

    // Per-column additive offsets and the blocked columns, prepared once for all rows.
    Vector<Scalar> column_offsets;
    if (req.item_offsets != nullptr) {
        column_offsets.resize(n_cols);
        for (Index c = 0; c < n_cols; ++c) column_offsets(c) = req.item_offsets[item_of(c)];
    }
    std::vector<Index> blocked_columns;
    if (req.blocked != nullptr) {
        for (Index c = 0; c < n_cols; ++c) {
            if (req.blocked[item_of(c)]) blocked_columns.push_back(c);
        }
    }

    // ~8 MB of scores per thread: enough rows per block for an efficient GEMM (its packing
    // of the item factors is amortised over the block) while the scan stays in cache.
    const Index block = std::clamp<Index>((1 << 21) / std::max<Index>(n_cols, 1), 1, 256);
    const Index n_blocks = (rows + block - 1) / block;
    const Scalar nan = std::numeric_limits<Scalar>::quiet_NaN();
    const Scalar minus_inf = -std::numeric_limits<Scalar>::infinity();
    constexpr Index span = 32;  // entries tested at once against the current threshold
    ExceptionCollector errors;
    const int threads = resolve_threads(requested_threads, n_blocks);
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#endif
    {
        Matrix<Scalar> scores;
        std::vector<detail::Ranked<Scalar>> heap;
        auto worse_on_top = [](const detail::Ranked<Scalar>& a, const detail::Ranked<Scalar>& b) {
            return a.better_than(b);  // heap top = the worst kept item
        };
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (Index b = 0; b < n_blocks; ++b) {
            errors.run([&] {
                const Index lo = b * block;
                const Index m = std::min(block, rows - lo);
                scores.resize(m, n_cols);
                scores.noalias() = user_factors.middleRows(lo, m) * columns.transpose();
                for (Index r = 0; r < m; ++r) {
                    const Index u = lo + r;
                    auto row = scores.row(r);
                    // Final scores in place (vectorized), then excluded entries set to -inf.
                    if (req.item_offsets != nullptr) row += column_offsets.transpose();
                    if (req.user_offsets != nullptr) row.array() += req.user_offsets[u];
                    for (Index c : blocked_columns) row(c) = minus_inf;
                    if (req.exclude != nullptr) {
                        for (Index j = req.exclude->row_begin(u); j < req.exclude->row_end(u);
                             ++j) {
                            const Index c = column_of(req.exclude->indices[j]);
                            if (c >= 0) row(c) = minus_inf;
                        }
                    }
                    // Once n items are kept, whole spans below the worst kept score are
                    // skipped with one vector comparison: most of the row never reaches the
                    // scalar heap code.
                    heap.clear();
                    Scalar threshold = minus_inf;
                    for (Index c0 = 0; c0 < n_cols; c0 += span) {
                        const Index len = std::min(span, n_cols - c0);
                        if (static_cast<Index>(heap.size()) == req.n &&
                            (row.segment(c0, len).array() < threshold).all()) {
                            continue;
                        }
                        for (Index c = c0; c < c0 + len; ++c) {
                            const Scalar s = row(c);
                            if (s == minus_inf || std::isnan(s) || s < threshold) continue;
                            const detail::Ranked<Scalar> cand{s, item_of(c)};
                            if (static_cast<Index>(heap.size()) < req.n) {
                                heap.push_back(cand);
                                std::push_heap(heap.begin(), heap.end(), worse_on_top);
                            } else if (cand.better_than(heap.front())) {
                                std::pop_heap(heap.begin(), heap.end(), worse_on_top);
                                heap.back() = cand;
                                std::push_heap(heap.begin(), heap.end(), worse_on_top);
                            }
                            if (static_cast<Index>(heap.size()) == req.n) {
                                threshold = heap.front().score;
                            }
                        }
                    }
                    std::sort_heap(heap.begin(), heap.end(), worse_on_top);
                    std::int32_t* items_out = out_items + u * req.n;
                    Scalar* scores_out = out_scores + u * req.n;
                    for (Index j = 0; j < req.n; ++j) {
                        const bool filled = j < static_cast<Index>(heap.size());
                        items_out[j] = filled ? heap[static_cast<std::size_t>(j)].item : -1;
                        scores_out[j] = filled ? heap[static_cast<std::size_t>(j)].score : nan;
                    }
                }
            });
        }
    }
    (void)threads;
    errors.rethrow();
}

/// out[j] = p_{users[j]} · q_{items[j]} (+ offsets); each users[j] / items[j] must be a row
/// of its factor matrix (checked here: the messages name them user_nums / item_nums).
template <class Scalar>
void score_pairs(ConstMatrixMap<Scalar> user_factors, ConstMatrixMap<Scalar> item_factors,
                 const std::int32_t* users, const std::int32_t* items, Index pairs,
                 const Scalar* user_offsets, const Scalar* item_offsets, Scalar* out,
                 int requested_threads) {
    require(user_factors.cols() == item_factors.cols(), "factor widths differ");
    for (Index j = 0; j < pairs; ++j) {
        require(users[j] >= 0 && users[j] < user_factors.rows(), "user_nums[", j, "] = ", users[j],
                " is not a valid row");
        require(items[j] >= 0 && items[j] < item_factors.rows(), "item_nums[", j, "] = ", items[j],
                " is not a valid row");
    }
    const int threads = resolve_threads(requested_threads, pairs / 4096 + 1);
#ifdef _OPENMP
#pragma omp parallel for num_threads(threads) schedule(static)
#endif
    for (Index j = 0; j < pairs; ++j) {
        Scalar s = user_factors.row(users[j]).dot(item_factors.row(items[j]));
        if (user_offsets) s += user_offsets[users[j]];
        if (item_offsets) s += item_offsets[items[j]];
        out[j] = s;
    }
    (void)threads;
}

// Compiled once, in cpp/src/scoring.cpp.
#define ALSKIT_SCORING_INSTANTIATIONS(EXTERN, Scalar)                                            \
    EXTERN template void top_n(ConstMatrixMap<Scalar>, ConstMatrixMap<Scalar>,                   \
                               const TopNRequest<Scalar, std::int32_t>&, std::int32_t*, Scalar*, \
                               int);                                                             \
    EXTERN template void top_n(ConstMatrixMap<Scalar>, ConstMatrixMap<Scalar>,                   \
                               const TopNRequest<Scalar, std::int64_t>&, std::int32_t*, Scalar*, \
                               int);                                                             \
    EXTERN template void score_pairs(ConstMatrixMap<Scalar>, ConstMatrixMap<Scalar>,             \
                                     const std::int32_t*, const std::int32_t*, Index,            \
                                     const Scalar*, const Scalar*, Scalar*, int);
ALSKIT_SCORING_INSTANTIATIONS(extern, float)
ALSKIT_SCORING_INSTANTIATIONS(extern, double)

}  // namespace alskit
