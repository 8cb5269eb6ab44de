// One implicit-feedback ALS half-epoch (Hu, Koren & Volinsky 2008).
//
// With weights v_ui on observed cells, right-hand-side targets b_ui, and G = QᵀQ + λI computed
// once for the half-epoch (λ is not count-scaled):
//     (G + Σ_{i∈I_u} v_ui q_i q_iᵀ) p_u = Σ_{i∈I_u} b_ui q_i      (empty row → p_u = 0)
// b_ui defaults to 1 + v_ui: confidence 1 + v and preference 1 (LensKit). Explicit targets
// express other mappings of feedback to (confidence c, preference π) as v = c − 1, b = c·π:
// implicit's c = |α·r|, π = [r > 0]; Spark's c = 1 + α·|r|, π = [r > 0].
// Cholesky solves it exactly; a short row (RowWorkspace::solved_by_dual) with no negative
// weight exactly too, through its n × n dual (Woodbury): with G = LLᵀ, the whitened rows
// q̃_i = L⁻¹ q_i (computed once per half-epoch), W = diag(√v) Q̃_I and t = Q̃_Iᵀ b,
//     p_u = L⁻ᵀ (t − Wᵀ (I + W Wᵀ)⁻¹ W t)
// at n²k/2 + n³/3 + 4nk + k² instead of nk²/2 + k³/3 (I + WWᵀ has every eigenvalue ≥ 1).
// Conjugate gradient runs `steps` iterations warm-started from
// the current p_u and applies A·x = G·x + Q_Iᵀ(v ∘ (Q_I x)) without ever forming A.
// Subspace (iALS++, Rendle et al. 2021) runs `steps` sweeps of block coordinate descent,
// warm-started too: for each block S of `block_size` coordinates it solves the b × b system
//     A_SS δ = (b − A p)_S = Q_{I,S}ᵀ (b − v ∘ (Q_I p)) − (G p)_S,   p_S ← p_S + δ,
// exact per block, at n·k·b + b³/3 per block instead of n·k² + k³/3 per row.
#pragma once

#include "alskit/half_epoch.hpp"
#include "alskit/normal_product.hpp"
#include "alskit/rank_update.hpp"

#include <cmath>
#include <optional>
#include <vector>

namespace alskit {

enum class ImplicitSolver { cholesky, conjugate_gradient, subspace };

template <class Scalar>
using ConstSquareMap = Eigen::Map<const SquareMatrix<Scalar>>;

namespace detail {

/// Builds the system into the batch's free slot (solved by Cholesky with the batch).
/// `targets` (aligned with conf.values) holds b; null means b = 1 + v.
template <class Scalar, class Ptr>
void implicit_row_system(RowWorkspace<Scalar>& ws, const CsrView<Scalar, Ptr>& conf,
                         ConstMatrixMap<Scalar> right, ConstSquareMap<Scalar> gram,
                         const Scalar* targets, Index r) {
    const Index begin = conf.row_begin(r);
    const Index n = conf.row_length(r);
    Matrix<Scalar>& x = ws.gather.rows();
    SquareMatrix<Scalar>& system = ws.batch->system();
    Vector<Scalar>& rhs = ws.batch->rhs();
    system = gram;
    rhs.setZero();
    for (Index start = begin; start < begin + n; start += ws.gather.chunk()) {
        const Index m = std::min(ws.gather.chunk(), begin + n - start);
        // Row j of the product is sqrt(v_j) q_j, so XᵀX = Σ v_j q_j q_jᵀ, and the right-hand
        // side Σ b_j q_j is Xᵀ(b_j / sqrt(v_j)): one product over the gathered rows, not an
        // update of it per entry. An entry of zero weight (or one whose b_j / sqrt(v_j) would
        // overflow) adds b_j q_j alone; a negative weight (possible only with use_ratings and
        // negative ratings) goes in a second, subtracted update rather than being silently
        // dropped.
        Vector<Scalar>& weights = ws.gather.scratch();
        Index positive = 0;
        bool any_negative = false;
        for (Index j = start; j < start + m; ++j) {
            RowGather<Scalar>::prefetch_ahead(right, conf.indices, j, start + m);
            const Scalar v = conf.values[j];
            const auto q = right.row(conf.indices[j]);
            const Scalar b = targets != nullptr ? targets[j] : Scalar(1) + v;
            if (v > 0) {
                const Scalar root = std::sqrt(v);
                x.row(positive) = root * q;
                Scalar weight = b / root;
                if (!std::isfinite(weight)) {  // b/√v overflowed (v tiny): add b_j q_j as is
                    rhs.noalias() += b * q.transpose();
                    weight = 0;
                }
                weights(positive++) = weight;
            } else {
                rhs.noalias() += b * q.transpose();
                any_negative = any_negative || v < 0;
            }
        }
        if (positive > 0) rhs.noalias() += x.topRows(positive).transpose() * weights.head(positive);
        rank_update_lower<Scalar>(system, x.data(), positive, x.cols());
        if (any_negative) {
            Index negative = 0;
            for (Index j = start; j < start + m; ++j) {
                const Scalar v = conf.values[j];
                if (v < 0) x.row(negative++) = std::sqrt(-v) * right.row(conf.indices[j]);
            }
            rank_update_lower<Scalar>(system, x.data(), negative, x.cols(), Scalar(-1));
        }
    }
}

/// The fixed side as the dual solve reads it: the Cholesky factor L of G and the whitened rows
/// q̃_j = L⁻¹ q_j of every fixed row a dual-solved row references (the other rows of `rows`
/// are left unset). Each row is transformed on its own, so its bits do not depend on which
/// other rows are, nor on the thread count.
template <class Scalar>
struct Whitened {
    Eigen::LLT<SquareMatrix<Scalar>, Eigen::Lower> llt;
    Matrix<Scalar> rows;
};

/// Whether row r of `conf` is solved by its dual: short, and no negative weight (√v).
template <class Scalar, class Ptr>
bool implicit_dual_row(const CsrView<Scalar, Ptr>& conf, Index k, Index r) {
    const Index n = conf.row_length(r);
    if (n == 0 || !RowWorkspace<Scalar>::solved_by_dual(n, k)) return false;
    const ConstVectorMap<Scalar> v(conf.values + conf.row_begin(r), n);
    return (v.array() >= 0).all();
}

/// Whitens the fixed rows that dual-solved rows reference; empty when no row is solved by its
/// dual or G's Cholesky factor is unusable (then every row takes the primal path).
template <class Scalar, class Ptr>
std::optional<Whitened<Scalar>> whiten(const CsrView<Scalar, Ptr>& conf,
                                       ConstMatrixMap<Scalar> right, ConstSquareMap<Scalar> gram,
                                       int threads) {
    const Index k = right.cols();
    std::vector<std::int32_t> referenced;
    {
        std::vector<char> seen(static_cast<std::size_t>(right.rows()), 0);
        for (Index r = 0; r < conf.nrows; ++r) {
            if (!implicit_dual_row(conf, k, r)) continue;
            for (Index j = conf.row_begin(r); j < conf.row_end(r); ++j) {
                char& s = seen[static_cast<std::size_t>(conf.indices[j])];
                if (s == 0) referenced.push_back(conf.indices[j]);
                s = 1;
            }
        }
    }
    if (referenced.empty()) return std::nullopt;
    std::optional<Whitened<Scalar>> out(std::in_place);
    out->llt.compute(gram);
    if (!usable(out->llt, gram.diagonal().maxCoeff())) return std::nullopt;
    out->rows.resize(right.rows(), k);
    struct None {};
    parallel_rows<None>(
        static_cast<Index>(referenced.size()), threads,
        [&](None&, Index at) {
            const Index j = referenced[static_cast<std::size_t>(at)];
            Eigen::Map<Vector<Scalar>> q(out->rows.row(j).data(), k);
            q = right.row(j).transpose();
            out->llt.matrixL().solveInPlace(q);
        },
        [](None&) {});
    return out;
}

/// Solves a row (implicit_dual_row) through its dual; result in ws.x. Returns false (caller
/// solves the primal) if the dual Cholesky is unusable or the result not finite.
template <class Scalar, class Ptr>
bool implicit_row_dual(RowWorkspace<Scalar>& ws, const CsrView<Scalar, Ptr>& conf,
                       const Whitened<Scalar>& whitened, const Scalar* targets, Index r) {
    const Index begin = conf.row_begin(r);
    const Index n = conf.row_length(r);
    const Index k = whitened.rows.cols();
    const ConstMatrixMap<Scalar> fixed(whitened.rows.data(), whitened.rows.rows(), k);
    ws.gather.gather(fixed, conf.indices, begin, n);
    auto w = ws.gather.rows().topRows(n);
    const ConstVectorMap<Scalar> v(conf.values + begin, n);
    auto u = ws.residual.head(n);
    if (targets != nullptr) {
        u = ConstVectorMap<Scalar>(targets + begin, n);
    } else {
        u.array() = v.array() + Scalar(1);
    }
    ws.x.noalias() = w.transpose() * u;  // t = Q̃_Iᵀ b
    w = w.array().colwise() * v.array().sqrt();
    Eigen::Ref<SquareMatrix<Scalar>> dual = ws.dual.topLeftCorner(n, n);
    dual.setZero();
    dual.template selfadjointView<Eigen::Lower>().rankUpdate(w);
    dual.diagonal().array() += Scalar(1);
    const Scalar max_diagonal = dual.diagonal().maxCoeff();  // before the LLT overwrites it
    const Eigen::LLT<Eigen::Ref<SquareMatrix<Scalar>>, Eigen::Lower> llt(dual);  // in place
    if (!usable(llt, max_diagonal)) return false;
    u.noalias() = w * ws.x;
    llt.solveInPlace(u);
    ws.x.noalias() -= w.transpose() * u;
    whitened.llt.matrixU().solveInPlace(ws.x);
    return ws.x.allFinite();
}

/// Turns the predictions t = Q_I x of a chunk into the residual weights b − v ∘ t, with
/// b = 1 + v unless `targets` (the chunk's b) are given: the same expression either way, so
/// explicit targets 1 + v give the same bits (conjugate gradient takes the same expression
/// per entry, in normal_product's weights).
template <class T, class Scalar>
void residual_weights(T&& t, const ConstVectorMap<Scalar>& v, const Scalar* targets) {
    if (targets != nullptr) {
        const ConstVectorMap<Scalar> b(targets, v.size());
        t.array() = b.array() - v.array() * t.array();
    } else {
        t.array() = (v.array() + Scalar(1)) - v.array() * t.array();
    }
}

/// Conjugate gradient on the same system, starting from `start`; result in ws.x.
/// A row's factor rows are gathered once into the workspace and every step reads that
/// contiguous copy (memory traffic, not arithmetic, bounds this solver). Of a row longer than
/// the buffer, the first entries stay resident and the rest pass through its last chunk at
/// every step. The initial residual b − A·x = Q_Iᵀ(b − v ∘ (Q_I x)) − G·x and each step's A·d
/// are one pass over the rows apiece (normal_product.hpp).
template <class Scalar, class Ptr, class Start>
void implicit_row_cg(RowWorkspace<Scalar>& ws, const CsrView<Scalar, Ptr>& conf,
                     ConstMatrixMap<Scalar> right, ConstSquareMap<Scalar> gram,
                     const Scalar* targets, Index r, const Start& start, int steps) {
    const Index begin = conf.row_begin(r);
    const Index n = conf.row_length(r);
    const Index chunk = ws.gather.chunk();
    const Index capacity = ws.gather.capacity();
    // A multiple of chunk, so no chunk below straddles the resident part and the streamed one.
    const Index resident = n <= capacity ? n : capacity - chunk;
    Matrix<Scalar>& rows = ws.gather.rows();
    const Index k = right.cols();
    ws.gather.gather(right, conf.indices, begin, resident);

    // Adds to `out` the product of the gathered rows with `d`, each row weighted by
    // weight(v, b, j, t) (v, b: the chunk's weights and targets), chunk by chunk. Each chunk's
    // share is summed on its own before it is added: sums of a chunk's length, not of the
    // row's (a row may have millions of entries), keep the rounding small.
    auto add_product = [&](const Vector<Scalar>& d, Vector<Scalar>& out, auto&& weight) {
        for (Index s = 0; s < n; s += chunk) {
            const Index m = std::min(chunk, n - s);
            const Index at = s < resident ? s : resident;
            if (s >= resident) ws.gather.gather(right, conf.indices, begin + s, m, at);
            const Scalar* v = conf.values + begin + s;
            const Scalar* b = targets == nullptr ? nullptr : targets + begin + s;
            ws.partial.setZero();
            normal_product(rows.row(at).data(), m, k, k, d.data(), ws.partial.data(),
                           [&](Index j, Scalar t) { return weight(v, b, j, t); });
            out += ws.partial;
        }
    };

    ws.x = start.transpose();
    ws.residual.noalias() = -(gram * ws.x);
    // b − v ∘ (Q_I x) entry by entry, b = 1 + v unless given (as residual_weights)
    if (targets != nullptr) {
        add_product(ws.x, ws.residual, [](const Scalar* v, const Scalar* b, Index j, Scalar t) {
            return b[j] - v[j] * t;
        });
    } else {
        add_product(ws.x, ws.residual, [](const Scalar* v, const Scalar*, Index j, Scalar t) {
            return (v[j] + Scalar(1)) - v[j] * t;
        });
    }
    ws.direction = ws.residual;
    Scalar rs_old = ws.residual.squaredNorm();
    for (int it = 0; it < steps; ++it) {
        if (!(rs_old > Scalar(1e-20))) break;        // converged (also stops on NaN)
        ws.product.noalias() = gram * ws.direction;  // A·d
        add_product(ws.direction, ws.product,
                    [](const Scalar* v, const Scalar*, Index j, Scalar t) { return v[j] * t; });
        const Scalar curvature = ws.direction.dot(ws.product);
        if (!(curvature > 0)) break;  // A is SPD; a non-positive value is rounding: stop here
        const Scalar alpha = rs_old / curvature;
        ws.x.noalias() += alpha * ws.direction;
        ws.residual.noalias() -= alpha * ws.product;
        const Scalar rs_new = ws.residual.squaredNorm();
        ws.direction = ws.residual + (rs_new / rs_old) * ws.direction;
        rs_old = rs_new;
    }
    if (!ws.x.allFinite()) {
        throw NumericalError("row " + std::to_string(r) +
                             ": conjugate gradient diverged (non-finite inputs?)");
    }
}

/// Subspace sweeps on the same system, starting from `start`; result in ws.x. The row's factor
/// rows are gathered once, as for conjugate gradient, and so are their predictions Q_I p,
/// updated by each block's Q_{I,S} δ (2·n·b). One pass over the rows, chunk by chunk, applies
/// the previous block's update to the predictions and builds the next block's b × b system
/// and right-hand side (adjacent columns of the same rows, read once). Entries of a row past
/// the resident buffer are re-gathered, and their predictions recomputed, for each block.
template <class Scalar, class Ptr, class Start>
void implicit_row_subspace(RowWorkspace<Scalar>& ws, const CsrView<Scalar, Ptr>& conf,
                           ConstMatrixMap<Scalar> right, ConstSquareMap<Scalar> gram,
                           const Scalar* targets, Index r, const Start& start, int sweeps) {
    const Index begin = conf.row_begin(r);
    const Index n = conf.row_length(r);
    const Index k = right.cols();
    const Index chunk = ws.gather.chunk();
    const Index capacity = ws.gather.capacity();
    const Index resident = n <= capacity ? n : capacity - chunk;
    Matrix<Scalar>& rows = ws.gather.rows();
    Vector<Scalar>& t = ws.gather.scratch();
    SubspaceWorkspace<Scalar>& sub = *ws.subspace;
    Vector<Scalar>& predictions = sub.predictions;
    Vector<Scalar>& root = sub.root;
    Matrix<Scalar>& z = sub.scaled;
    ws.gather.gather(right, conf.indices, begin, resident);

    ws.x = start.transpose();
    predictions.head(resident).noalias() = rows.topRows(resident) * ws.x;
    // The last solved block (its first coordinate, size and step), not yet in the predictions.
    Index done0 = 0;
    const SubspaceBlock<Scalar>* done = nullptr;
    for (int sweep = 0; sweep < sweeps; ++sweep) {
        for (Index s0 = 0; s0 < k; s0 += sub.full.size) {
            SubspaceBlock<Scalar>& blk = s0 + sub.full.size <= k ? sub.full : sub.tail;
            const Index b = blk.size;
            blk.system = gram.block(s0, s0, b, b);
            blk.rhs.noalias() = -(gram.middleRows(s0, b) * ws.x);
            for (Index s = 0; s < n; s += chunk) {
                const Index m = std::min(chunk, n - s);
                const ConstVectorMap<Scalar> v(conf.values + begin + s, m);
                if (s < resident) {
                    auto e = predictions.segment(s, m);
                    if (done != nullptr) {
                        e.noalias() +=
                            rows.middleRows(s, m).middleCols(done0, done->size) * done->step;
                    }
                    t.head(m) = e;
                } else {
                    ws.gather.gather(right, conf.indices, begin + s, m, resident);
                    t.head(m).noalias() = rows.middleRows(resident, m) * ws.x;
                }
                const auto block =
                    rows.middleRows(s < resident ? s : resident, m).middleCols(s0, b);
                // the right-hand side: Q_{I,S}ᵀ (b − v ∘ (Q_I p))
                residual_weights(t.head(m), v, targets == nullptr ? nullptr : targets + begin + s);
                blk.rhs.noalias() += block.transpose() * t.head(m);
                // the system: Σ v_j q_jS q_jSᵀ as a rank update over sqrt(v_j) q_jS (a zero
                // weight adds nothing), the negative weights (possible with targets) in a
                // second, subtracted one
                root.head(m) = v.array().max(Scalar(0)).sqrt();
                z.topLeftCorner(m, b) = block.array().colwise() * root.head(m).array();
                rank_update_lower<Scalar>(blk.system, z.data(), m, z.cols());
                if ((v.array() < 0).any()) {
                    root.head(m) = (-v.array()).max(Scalar(0)).sqrt();
                    z.topLeftCorner(m, b) = block.array().colwise() * root.head(m).array();
                    rank_update_lower<Scalar>(blk.system, z.data(), m, z.cols(), Scalar(-1));
                }
            }
            blk.solver.solve(blk.system, blk.rhs, blk.step, r);
            ws.x.segment(s0, b) += blk.step;
            done0 = s0;
            done = &blk;
        }
    }
    if (!ws.x.allFinite()) {
        throw NumericalError("row " + std::to_string(r) +
                             ": the subspace solver diverged (non-finite inputs?)");
    }
}

}  // namespace detail

/// `gram` is G = QᵀQ + λI of `right` (see gram.hpp); `left` is updated in place. `targets`
/// is null (b = 1 + v) or holds one b per entry of `conf`, aligned with its values. `steps`:
/// conjugate-gradient iterations or subspace sweeps (ignored by Cholesky, but checked
/// whatever the solver: one rule); `block_size`: the subspace solver's b (1 ≤ b; b ≥ k is
/// one block, the exact solve). `row_deltas`: null, or room for each row's ‖Δ‖² (see
/// update_rows).
template <class Scalar, class Ptr>
double implicit_half_epoch(const CsrView<Scalar, Ptr>& conf, MatrixMap<Scalar> left,
                           ConstMatrixMap<Scalar> right, ConstSquareMap<Scalar> gram,
                           ImplicitSolver solver, int steps, int threads,
                           const Scalar* targets = nullptr, Index block_size = 1,
                           double* row_deltas = nullptr) {
    check_half_epoch_shapes(conf, left.rows(), left.cols(), right);
    require(gram.rows() == right.cols() && gram.cols() == right.cols(),
            "gram must be k × k with k = ", right.cols());
    require(steps >= 1, solver == ImplicitSolver::subspace ? "sweeps" : "cg_steps",
            " must be at least 1");
    require(block_size >= 1, "block_size must be at least 1");
    const RowSolver kind = solver == ImplicitSolver::cholesky   ? RowSolver::implicit_cholesky
                           : solver == ImplicitSolver::subspace ? RowSolver::implicit_subspace
                                                                : RowSolver::implicit_cg;
    const auto whitened = solver == ImplicitSolver::cholesky
                              ? detail::whiten(conf, right, gram, threads)
                              : std::nullopt;
    const Index k = right.cols();
    return update_rows(
        conf, left, kind, threads,
        [&](RowWorkspace<Scalar>& ws, Index r) -> const Vector<Scalar>* {
            switch (solver) {
                case ImplicitSolver::cholesky:
                    if (whitened && detail::implicit_dual_row(conf, k, r) &&
                        detail::implicit_row_dual(ws, conf, *whitened, targets, r)) {
                        return &ws.x;
                    }
                    detail::implicit_row_system(ws, conf, right, gram, targets, r);
                    return nullptr;  // solved with the thread's next batch
                case ImplicitSolver::subspace:
                    detail::implicit_row_subspace(ws, conf, right, gram, targets, r, left.row(r),
                                                  steps);
                    return &ws.x;
                case ImplicitSolver::conjugate_gradient:
                    break;
            }
            detail::implicit_row_cg(ws, conf, right, gram, targets, r, left.row(r), steps);
            return &ws.x;
        },
        block_size, row_deltas);
}

#define ALSKIT_DECLARE_IMPLICIT(Scalar, Ptr)                                    \
    extern template double implicit_half_epoch(                                 \
        const CsrView<Scalar, Ptr>&, MatrixMap<Scalar>, ConstMatrixMap<Scalar>, \
        ConstSquareMap<Scalar>, ImplicitSolver, int, int, const Scalar*, Index, double*);
ALSKIT_DECLARE_IMPLICIT(float, std::int32_t)
ALSKIT_DECLARE_IMPLICIT(float, std::int64_t)
ALSKIT_DECLARE_IMPLICIT(double, std::int32_t)
ALSKIT_DECLARE_IMPLICIT(double, std::int64_t)
#undef ALSKIT_DECLARE_IMPLICIT

}  // namespace alskit
