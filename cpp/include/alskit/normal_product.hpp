// The matrix-free product with an implicit row's normal equations, one pass over its rows:
//     y ← y + Σ_{j<m} f_j(x_jᵀ d) · x_j      (X: m × k row-major, rows x_j; f_j a scalar map)
// Conjugate gradient applies A·d = G·d + Q_Iᵀ(v ∘ (Q_I d)) with f_j(t) = v_j t, and forms its
// first residual b − A·x with f_j(t) = b_j − v_j t. As two matrix-vector products (X·d, then
// Xᵀw) it reads X twice; here each group of rows is read from memory once: their dot products
// with d, then, while they are still in L1, their weighted sum into y. The gathered rows of a
// long row outgrow the L2 cache, so the passes over them set the solver's time. Every sum is
// taken in an order fixed by m and k alone: the result never depends on the thread count.
#pragma once

#include "alskit/types.hpp"

#include <Eigen/Core>

namespace alskit {

namespace detail {

template <class Scalar>
struct NormalProduct {
    using Packet = detail::Packet<Scalar>;
    static constexpr Index lanes = packet_lanes<Scalar>;
    /// Rows per group: their dot products share each load of d, their updates each load and
    /// store of y.
    static constexpr int group = 4;
};

/// t[g] = Σ_c x_g[c]·d[c] over [0, k) for the rows x_g of a group: packets over [0, kv) (kv a
/// multiple of lanes), two accumulators per row, each packet of d loaded once for the group;
/// then the remaining columns in order. A row's sum does not depend on the others'.
template <class Scalar, int G>
inline void group_dot(const Scalar* const (&x)[G], const Scalar* d, Index k, Index kv,
                      Scalar (&t)[G]) {
    using T = NormalProduct<Scalar>;
    using Packet = typename T::Packet;
    namespace ei = Eigen::internal;
    Packet even[G], odd[G];
    for (int g = 0; g < G; ++g) even[g] = odd[g] = ei::pset1<Packet>(Scalar(0));
    Index c = 0;
    for (; c + 2 * T::lanes <= kv; c += 2 * T::lanes) {
        const Packet d0 = ei::ploadu<Packet>(d + c);
        const Packet d1 = ei::ploadu<Packet>(d + c + T::lanes);
        for (int g = 0; g < G; ++g) {
            even[g] = ei::pmadd(ei::ploadu<Packet>(x[g] + c), d0, even[g]);
            odd[g] = ei::pmadd(ei::ploadu<Packet>(x[g] + c + T::lanes), d1, odd[g]);
        }
    }
    if (c < kv) {
        const Packet d0 = ei::ploadu<Packet>(d + c);
        for (int g = 0; g < G; ++g) even[g] = ei::pmadd(ei::ploadu<Packet>(x[g] + c), d0, even[g]);
    }
    for (int g = 0; g < G; ++g) {
        t[g] = ei::predux(ei::padd(even[g], odd[g]));
        for (c = kv; c < k; ++c) t[g] += x[g][c] * d[c];
    }
}

}  // namespace detail

/// y[0, k) += Σ_{j<m} weight(j, x_jᵀ d) · x_j with x_j = x[j·stride, j·stride + k) and d, y of
/// length k. `weight(j, t)` returns f_j(t).
template <class Scalar, class Weight>
void normal_product(const Scalar* x, Index m, Index k, Index stride, const Scalar* d, Scalar* y,
                    Weight&& weight) {
    using T = detail::NormalProduct<Scalar>;
    using Packet = typename T::Packet;
    namespace ei = Eigen::internal;
    const Index kv = k - k % T::lanes;
    Index j = 0;
    for (; j + T::group <= m; j += T::group) {
        const Scalar* r[T::group];
        Scalar ws[T::group];
        Packet w[T::group];
        for (int g = 0; g < T::group; ++g) r[g] = x + (j + g) * stride;
        detail::group_dot(r, d, k, kv, ws);
        for (int g = 0; g < T::group; ++g) {
            ws[g] = weight(j + g, ws[g]);
            w[g] = ei::pset1<Packet>(ws[g]);
        }
        for (Index c = 0; c < kv; c += T::lanes) {
            Packet acc = ei::ploadu<Packet>(y + c);
            for (int g = 0; g < T::group; ++g)
                acc = ei::pmadd(ei::ploadu<Packet>(r[g] + c), w[g], acc);
            ei::pstoreu(y + c, acc);
        }
        for (Index c = kv; c < k; ++c) {
            Scalar acc = y[c];
            for (int g = 0; g < T::group; ++g) acc += ws[g] * r[g][c];
            y[c] = acc;
        }
    }
    for (; j < m; ++j) {
        const Scalar* row[1] = {x + j * stride};
        Scalar t[1];
        detail::group_dot(row, d, k, kv, t);
        const Scalar s = weight(j, t[0]);
        const Packet w = ei::pset1<Packet>(s);
        for (Index c = 0; c < kv; c += T::lanes) {
            ei::pstoreu(y + c,
                        ei::pmadd(ei::ploadu<Packet>(row[0] + c), w, ei::ploadu<Packet>(y + c)));
        }
        for (Index c = kv; c < k; ++c) y[c] += s * row[0][c];
    }
}

}  // namespace alskit
