// A thread's queue of built k × k row systems, solved together once it is full.
#pragma once

#include "alskit/batched_cholesky.hpp"
#include "alskit/spd_solver.hpp"
#include "alskit/types.hpp"

#include <cstddef>
#include <memory>
#include <vector>

namespace alskit {

/// Row kernels build each row's normal equations into system()/rhs(); update_rows then
/// push()es the row.
/// With k ≤ InterleavedCholesky::max_size the queue holds one system per SIMD lane and
/// solves them in one interleaved Cholesky; larger systems are solved one by one as pushed.
/// A system whose Cholesky is unusable (singular) goes through SpdSolver's robust fallback.
template <class Scalar>
class SystemBatch {
  public:
    using Batched = InterleavedCholesky<Scalar>;

    /// Systems queued before a solve: one per SIMD lane, or one when k is too large to batch.
    static int capacity(Index k) { return k <= Batched::max_size ? Batched::lanes : 1; }

    explicit SystemBatch(Index k)
        : capacity_(capacity(k)),
          systems_(static_cast<std::size_t>(capacity_), SquareMatrix<Scalar>(k, k)),
          rhs_(static_cast<std::size_t>(capacity_), Vector<Scalar>(k)),
          rows_(static_cast<std::size_t>(capacity_)),
          x_(k) {
        if (capacity_ > 1) {
            batched_ = std::make_unique<Batched>(k);
        } else {
            single_ = std::make_unique<SpdSolver<Scalar>>(k);
        }
    }

    /// Bytes the constructor allocates; allocated_bytes() reads them from the buffers.
    static std::size_t bytes(Index k) {
        const auto slots = static_cast<std::size_t>(capacity(k));
        const auto scalars = static_cast<std::size_t>(k * k + k);  // a system and its rhs
        return slots * (scalars * sizeof(Scalar) + sizeof(Index)) +
               static_cast<std::size_t>(k) * sizeof(Scalar) +
               (slots > 1 ? Batched::bytes(k) : SpdSolver<Scalar>::bytes(k));
    }
    std::size_t allocated_bytes() const {
        std::size_t total =
            rows_.size() * sizeof(Index) + static_cast<std::size_t>(x_.size()) * sizeof(Scalar);
        for (std::size_t s = 0; s < systems_.size(); ++s) {
            total += static_cast<std::size_t>(systems_[s].size() + rhs_[s].size()) * sizeof(Scalar);
        }
        return total + (batched_ ? batched_->allocated_bytes() : single_->allocated_bytes());
    }

    /// The next free slot: fill it (lower triangle of the system suffices), then push().
    SquareMatrix<Scalar>& system() { return systems_[static_cast<std::size_t>(size_)]; }
    Vector<Scalar>& rhs() { return rhs_[static_cast<std::size_t>(size_)]; }

    /// Queues the filled slot as row `row`'s system; solves the queue when it is full.
    /// done(row, solution) is called for each solved row, in queue order.
    template <class Done>
    void push(Index row, Done&& done) {
        rows_[static_cast<std::size_t>(size_++)] = row;
        if (size_ == capacity_) flush(done);
    }

    /// Solves whatever is queued (a thread's last, partial batch).
    template <class Done>
    void flush(Done&& done) {
        if (size_ == 0) return;
        const int count = size_;
        size_ = 0;  // empty even if a row's solve throws
        if (single_) {
            single_->solve(systems_[0], rhs_[0], x_, rows_[0]);
            done(rows_[0], x_);
            return;
        }
        const Scalar* a[Batched::lanes] = {};
        const Scalar* b[Batched::lanes] = {};
        for (int l = 0; l < count; ++l) {
            a[l] = systems_[static_cast<std::size_t>(l)].data();
            b[l] = rhs_[static_cast<std::size_t>(l)].data();
        }
        batched_->solve(a, b, count);
        for (int l = 0; l < count; ++l) {
            const auto slot = static_cast<std::size_t>(l);
            bool solved = batched_->usable(l);
            if (solved) {
                batched_->solution(l, x_.data());
                solved = x_.allFinite();
            }
            if (!solved)
                SpdSolver<Scalar>::solve_robust(systems_[slot], rhs_[slot], x_, rows_[slot]);
            done(rows_[slot], x_);
        }
    }

  private:
    int capacity_;
    int size_ = 0;
    std::vector<SquareMatrix<Scalar>> systems_;
    std::vector<Vector<Scalar>> rhs_;
    std::vector<Index> rows_;
    Vector<Scalar> x_;
    std::unique_ptr<Batched> batched_;           // k ≤ max_size: one system per lane
    std::unique_ptr<SpdSolver<Scalar>> single_;  // larger k: one system at a time
};

}  // namespace alskit
