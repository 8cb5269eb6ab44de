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
    bool exhaustive = false;  // score every tile (no bound skipping; same result): benchmarks
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

namespace detail {

/// The items that can be ranked (the candidates or all items, minus the blocked ones), in
/// decreasing order of their factor norm, gathered into one contiguous matrix.
template <class Scalar>
struct RankedColumns {
    Matrix<Scalar> factors;           // one row per rankable item, in the order below
    std::vector<std::int32_t> items;  // item number of each row
    Vector<Scalar> offsets;           // item offset of each row (empty: none)
    std::vector<double> norm;         // ‖q‖ of each row, decreasing (NaN/inf as +inf)
};

template <class Scalar, class Ptr>
RankedColumns<Scalar> ranked_columns(ConstMatrixMap<Scalar> item_factors,
                                     const TopNRequest<Scalar, Ptr>& req) {
    const Index n_items = item_factors.rows();
    std::vector<std::int32_t> items;
    if (req.candidates != nullptr) {
        std::vector<std::uint8_t> seen(static_cast<std::size_t>(n_items), 0);
        for (Index c = 0; c < req.n_candidates; ++c) {
            const std::int32_t item = req.candidates[c];
            require(item >= 0 && item < n_items, "candidates[", c, "] is not a valid item number");
            require(!seen[static_cast<std::size_t>(item)], "candidates contains item ", item,
                    " twice");
            seen[static_cast<std::size_t>(item)] = 1;
            if (req.blocked == nullptr || !req.blocked[item]) items.push_back(item);
        }
    } else {
        for (Index i = 0; i < n_items; ++i) {
            if (req.blocked == nullptr || !req.blocked[i]) {
                items.push_back(static_cast<std::int32_t>(i));
            }
        }
    }
    std::vector<double> norm_of(items.size());
    for (std::size_t c = 0; c < items.size(); ++c) {
        const double nrm = item_factors.row(items[c]).template cast<double>().norm();
        norm_of[c] = std::isfinite(nrm) ? nrm : std::numeric_limits<double>::infinity();
    }
    std::vector<std::size_t> order(items.size());
    for (std::size_t c = 0; c < order.size(); ++c) order[c] = c;
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return norm_of[a] > norm_of[b] || (norm_of[a] == norm_of[b] && items[a] < items[b]);
    });
    RankedColumns<Scalar> out;
    const Index n_cols = static_cast<Index>(items.size());
    out.factors.resize(n_cols, item_factors.cols());
    out.items.resize(items.size());
    out.norm.resize(items.size());
    if (req.item_offsets != nullptr) out.offsets.resize(n_cols);
    for (Index c = 0; c < n_cols; ++c) {
        const std::size_t from = order[static_cast<std::size_t>(c)];
        out.items[static_cast<std::size_t>(c)] = items[from];
        out.norm[static_cast<std::size_t>(c)] = norm_of[from];
        out.factors.row(c) = item_factors.row(items[from]);
        if (req.item_offsets != nullptr) out.offsets(c) = req.item_offsets[items[from]];
    }
    return out;
}

/// Upper bounds on the computed score of any item in a tile of `RankedColumns`: for a user p,
///   p·q ≤ ‖p‖·max‖q‖                    (Cauchy–Schwarz) and
///   p·q = p·c + p·(q − c) ≤ p·c + ‖p‖·r  (c: the tile's mean, r: max ‖q − c‖ over the tile),
/// the smaller of the two, widened by the rounding of a k-term dot product (|fl(p·q) − p·q| ≤
/// γ_k ‖p‖‖q‖, γ_k ≈ k·ε/2; taken as 4(k+2)·ε, which also covers the rounding of the norms),
/// rounded up into Scalar, plus the tile's largest item offset added as the scores add it
/// (rounding is monotone, so no computed score of the tile can exceed the bound).
template <class Scalar>
struct TileBounds {
    Index tile;
    std::vector<double> max_norm, radius, centroid_norm;
    std::vector<Scalar> max_offset;
    Matrix<Scalar> centroids;  // one row per tile
    double widen;              // relative rounding allowance
    double absolute;           // allowance for underflow

    Index tiles() const { return centroids.rows(); }

    TileBounds(const RankedColumns<Scalar>& columns, Index tile_) : tile(tile_) {
        const Index n_cols = columns.factors.rows();
        const Index k = columns.factors.cols();
        const Index n_tiles = (n_cols + tile - 1) / tile;
        const auto size = static_cast<std::size_t>(n_tiles);
        max_norm.resize(size);
        radius.resize(size);
        centroid_norm.resize(size);
        if (columns.offsets.size() > 0) max_offset.resize(size);
        centroids.resize(n_tiles, k);
        widen = 4.0 * static_cast<double>(k + 2) *
                static_cast<double>(std::numeric_limits<Scalar>::epsilon());
        absolute = 4.0 * static_cast<double>(k + 2) *
                   static_cast<double>(std::numeric_limits<Scalar>::min());
        for (Index t = 0; t < n_tiles; ++t) {
            const auto ts = static_cast<std::size_t>(t);
            const Index c0 = t * tile;
            const Index len = std::min(tile, n_cols - c0);
            const auto block = columns.factors.middleRows(c0, len).template cast<double>();
            centroids.row(t) = block.colwise().mean().template cast<Scalar>();
            const Eigen::RowVectorXd c = centroids.row(t).template cast<double>();
            double r = 0;
            for (Index i = 0; i < len; ++i) r = std::max(r, (block.row(i) - c).norm());
            radius[ts] = std::isfinite(r) ? r : std::numeric_limits<double>::infinity();
            centroid_norm[ts] = c.norm();
            max_norm[ts] = columns.norm[static_cast<std::size_t>(c0)];  // the tile's first
            if (!max_offset.empty()) {
                max_offset[ts] = columns.offsets.segment(c0, len).maxCoeff();
            }
        }
    }

    /// Bound of tile t for a user with ‖p‖ = `norm` and computed p·c_t = `centroid_score`
    /// (before the user's own offset). NaN or infinite inputs give a bound nothing is below.
    Scalar score_bound(Index t, double norm, Scalar centroid_score) const {
        const auto ts = static_cast<std::size_t>(t);
        const double by_norm = norm * max_norm[ts] * (1.0 + widen);
        const double by_centroid = static_cast<double>(centroid_score) +
                                   norm * radius[ts] * (1.0 + widen) +
                                   widen * norm * (max_norm[ts] + centroid_norm[ts]);
        const double d = std::min(by_norm, by_centroid) + absolute;
        constexpr Scalar inf = std::numeric_limits<Scalar>::infinity();
        if (!(d < static_cast<double>(std::numeric_limits<Scalar>::max()))) return inf;  // or NaN
        Scalar bound = std::nextafter(static_cast<Scalar>(d), inf);
        if (!max_offset.empty()) bound += max_offset[ts];
        return bound;
    }
};

/// The best `n` (score, item) pairs seen so far for one user: a heap with the worst on top.
template <class Scalar>
struct TopList {
    Ranked<Scalar>* heap = nullptr;  // n slots
    Index size = 0;
    Scalar threshold = -std::numeric_limits<Scalar>::infinity();  // worst kept, once full

    static bool worse_on_top(const Ranked<Scalar>& a, const Ranked<Scalar>& b) {
        return a.better_than(b);
    }
    void offer(const Ranked<Scalar>& cand, Index n) {
        if (size < n) {
            heap[size++] = cand;
            std::push_heap(heap, heap + size, worse_on_top);
        } else if (cand.better_than(heap[0])) {
            std::pop_heap(heap, heap + size, worse_on_top);
            heap[size - 1] = cand;
            std::push_heap(heap, heap + size, worse_on_top);
        }
        if (size == n) threshold = heap[0].score;
    }
};

}  // namespace detail

/// Items per score tile: about 256 KB of item factors (and as much of scores for 64 users).
inline Index top_n_tile(Index k, Index scalar_bytes) {
    return std::clamp<Index>((Index{1} << 18) / (std::max<Index>(k, 1) * scalar_bytes) / 32 * 32,
                             256, 4096);
}

/// For each query row u (user_factors.row(u)), the `n` best items by score, written to
/// out_items/out_scores (rows × n, RowMajor). Rows with fewer than n rankable items are
/// padded with item -1 and score NaN.
///
/// Scores are computed tile by tile — a block of 64 users × a tile of items small enough for
/// the L2 cache — and each tile is scanned for candidates while still in cache. Items are
/// visited in decreasing order of ‖q_i‖, and a tile is skipped for a user whose n-th best score
/// so far already beats the tile's upper bound (`TileBounds`): no item in it could enter the
/// list, so the result is the exact top-n of the computed scores. Excluded items are checked
/// only for scores that reach the current threshold (binary search in the user's sorted
/// exclusion row); blocked items and non-candidates are left out of the tiles altogether. The
/// ranking order is total (score, then item number) and every block of users is computed the
/// same way whatever thread runs it, so results do not depend on the thread count.
template <class Scalar, class Ptr>
void top_n(ConstMatrixMap<Scalar> user_factors, ConstMatrixMap<Scalar> item_factors,
           const TopNRequest<Scalar, Ptr>& req, std::int32_t* out_items, Scalar* out_scores,
           int requested_threads) {
    const Index rows = user_factors.rows();
    const Index k = item_factors.cols();
    require(user_factors.cols() == k, "user factors and item factors differ in width");
    require(req.n >= 1, "n must be at least 1");
    require(req.exclude == nullptr || req.exclude->nrows == rows,
            "exclude must have one row per user");

    const detail::RankedColumns<Scalar> columns = detail::ranked_columns(item_factors, req);
    const Index n_cols = columns.factors.rows();
    const bool offsets = req.item_offsets != nullptr;

    // Tiles: about 256 KB of item factors and of scores each, so that both stay in L2.
    constexpr Index user_block = 64;
    const Index tile = top_n_tile(k, Index{sizeof(Scalar)});
    const detail::TileBounds<Scalar> bounds(columns, tile);
    const Index n_tiles = bounds.tiles();

    const Index n_blocks = (rows + user_block - 1) / user_block;
    const Scalar nan = std::numeric_limits<Scalar>::quiet_NaN();
    const Scalar inf = std::numeric_limits<Scalar>::infinity();
    constexpr Index span = 32;  // entries tested at once against the current threshold
    ExceptionCollector errors;
    const int threads = resolve_threads(requested_threads, n_blocks);
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#endif
    {
        Matrix<Scalar> scores(user_block, tile);
        Matrix<Scalar> active_factors(user_block, k);
        Matrix<Scalar> centroid_scores(user_block, n_tiles);  // p_u · c_t
        std::vector<detail::Ranked<Scalar>> slots(static_cast<std::size_t>(user_block * req.n));
        std::vector<detail::TopList<Scalar>> lists(static_cast<std::size_t>(user_block));
        std::vector<double> user_norm(static_cast<std::size_t>(user_block));
        std::vector<Index> active;
        std::vector<std::int32_t> excluded;  // the block's exclusion rows, each sorted
        std::vector<Index> excluded_begin(static_cast<std::size_t>(user_block + 1));
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
        for (Index b = 0; b < n_blocks; ++b) {
            errors.run([&] {
                const Index lo = b * user_block;
                const Index m = std::min(user_block, rows - lo);
                excluded.clear();
                for (Index r = 0; r < m; ++r) {
                    const Index u = lo + r;
                    detail::TopList<Scalar>& list = lists[static_cast<std::size_t>(r)];
                    list.heap = &slots[static_cast<std::size_t>(r * req.n)];
                    list.size = 0;
                    list.threshold = -inf;
                    user_norm[static_cast<std::size_t>(r)] =
                        user_factors.row(u).template cast<double>().norm();
                    excluded_begin[static_cast<std::size_t>(r)] =
                        static_cast<Index>(excluded.size());
                    if (req.exclude != nullptr) {
                        const auto first = excluded.end() - excluded.begin();
                        excluded.insert(excluded.end(),
                                        req.exclude->indices + req.exclude->row_begin(u),
                                        req.exclude->indices + req.exclude->row_end(u));
                        if (!std::is_sorted(excluded.begin() + first, excluded.end())) {
                            std::sort(excluded.begin() + first, excluded.end());
                        }
                    }
                }
                excluded_begin[static_cast<std::size_t>(m)] = static_cast<Index>(excluded.size());
                centroid_scores.topRows(m).noalias() =
                    user_factors.middleRows(lo, m) * bounds.centroids.transpose();

                for (Index t = 0; t < n_tiles; ++t) {
                    // The users for whom this tile can still matter.
                    active.clear();
                    for (Index r = 0; r < m; ++r) {
                        const detail::TopList<Scalar>& list = lists[static_cast<std::size_t>(r)];
                        if (list.size == req.n && !req.exhaustive) {
                            Scalar bound = bounds.score_bound(
                                t, user_norm[static_cast<std::size_t>(r)], centroid_scores(r, t));
                            if (req.user_offsets != nullptr) bound += req.user_offsets[lo + r];
                            if (bound < list.threshold) continue;
                        }
                        active.push_back(r);
                    }
                    if (active.empty()) continue;
                    const Index na = static_cast<Index>(active.size());
                    const Index c0 = t * tile;
                    const Index len = std::min(tile, n_cols - c0);
                    auto block_scores = scores.topLeftCorner(na, len);
                    const auto tile_factors = columns.factors.middleRows(c0, len);
                    if (na == m) {
                        block_scores.noalias() =
                            user_factors.middleRows(lo, m) * tile_factors.transpose();
                    } else {
                        for (Index a = 0; a < na; ++a) {
                            active_factors.row(a) =
                                user_factors.row(lo + active[static_cast<std::size_t>(a)]);
                        }
                        block_scores.noalias() =
                            active_factors.topRows(na) * tile_factors.transpose();
                    }
                    for (Index a = 0; a < na; ++a) {
                        const Index r = active[static_cast<std::size_t>(a)];
                        const Index u = lo + r;
                        detail::TopList<Scalar>& list = lists[static_cast<std::size_t>(r)];
                        Scalar* row = scores.row(a).data();
                        if (offsets) {
                            Eigen::Map<Vector<Scalar>>(row, len) +=
                                columns.offsets.segment(c0, len);
                        }
                        if (req.user_offsets != nullptr) {
                            Eigen::Map<Vector<Scalar>>(row, len).array() += req.user_offsets[u];
                        }
                        const std::int32_t* ex_first =
                            excluded.data() + excluded_begin[static_cast<std::size_t>(r)];
                        const std::int32_t* ex_last =
                            excluded.data() + excluded_begin[static_cast<std::size_t>(r + 1)];
                        // Once n items are kept, whole spans below the worst kept score are
                        // skipped with one vector maximum: most of the row never reaches the
                        // scalar code.
                        for (Index s0 = 0; s0 < len; s0 += span) {
                            if (list.size == req.n && s0 + span <= len &&
                                Eigen::Map<const Eigen::Array<Scalar, span, 1>>(row + s0)
                                        .maxCoeff() < list.threshold) {
                                continue;
                            }
                            const Index s1 = std::min(s0 + span, len);
                            for (Index c = s0; c < s1; ++c) {
                                const Scalar s = row[c];
                                if (!(s >= list.threshold) || s == -inf) continue;  // or NaN
                                const std::int32_t item =
                                    columns.items[static_cast<std::size_t>(c0 + c)];
                                if (ex_first != ex_last &&
                                    std::binary_search(ex_first, ex_last, item)) {
                                    continue;
                                }
                                list.offer({s, item}, req.n);
                            }
                        }
                    }
                }
                for (Index r = 0; r < m; ++r) {
                    detail::TopList<Scalar>& list = lists[static_cast<std::size_t>(r)];
                    std::sort_heap(list.heap, list.heap + list.size,
                                   detail::TopList<Scalar>::worse_on_top);
                    std::int32_t* items_out = out_items + (lo + r) * req.n;
                    Scalar* scores_out = out_scores + (lo + r) * req.n;
                    for (Index j = 0; j < req.n; ++j) {
                        const bool filled = j < list.size;
                        items_out[j] = filled ? list.heap[j].item : -1;
                        scores_out[j] = filled ? list.heap[j].score : nan;
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
