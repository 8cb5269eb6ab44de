// OpenMP plumbing: thread counts, exceptions out of parallel regions, ordered sums.
#pragma once

#include "alskit/types.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <optional>
#include <vector>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace alskit {

inline bool openmp_enabled() {
#ifdef _OPENMP
    return true;
#else
    return false;
#endif
}

inline int max_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

/// Process-wide threading state. libgomp's worker pool does not survive fork(): in a child
/// forked after a multi-threaded region, a region asking for more than one thread waits
/// forever for workers that do not exist. A child switched to `single_threaded` runs every
/// region on its own thread (same results: they never depend on the thread count).
struct ThreadingState {
    std::atomic<bool> pool_started{false};     // a region with more than one thread has run
    std::atomic<bool> single_threaded{false};  // forked after that: one thread from now on
};

inline ThreadingState& threading_state() {
    static ThreadingState state;
    return state;
}

/// To be called in a forked child (e.g. from a pthread_atfork / os.register_at_fork child
/// handler): if the parent had started the OpenMP pool, the child runs single-threaded.
/// Returns whether it switched.
inline bool enter_fork_child_mode() {
    ThreadingState& state = threading_state();
    if (!state.pool_started.load(std::memory_order_relaxed)) return false;
    state.single_threaded.store(true, std::memory_order_relaxed);
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    return true;
}

/// `requested` <= 0 means "all available"; never more threads than work items (and one
/// thread only in a child forked after the pool started).
inline int resolve_threads(int requested, Index work_items) {
    ThreadingState& state = threading_state();
    if (state.single_threaded.load(std::memory_order_relaxed)) return 1;
    int threads = requested > 0 ? requested : max_threads();
    if (work_items < threads) threads = static_cast<int>(std::max<Index>(work_items, 1));
    if (threads > 1) state.pool_started.store(true, std::memory_order_relaxed);
    return threads;
}

/// An exception escaping an OpenMP region calls std::terminate, so each task runs through
/// `run`, the first exception is kept and later work is skipped; `rethrow` raises it after
/// the region has joined.
class ExceptionCollector {
  public:
    template <class F>
    void run(F&& task) noexcept {
        if (failed_.load(std::memory_order_relaxed)) return;
        try {
            task();
        } catch (...) {
#ifdef _OPENMP
#pragma omp critical(alskit_exception_collector)
#endif
            {
                if (!first_) first_ = std::current_exception();
            }
            failed_.store(true, std::memory_order_relaxed);
        }
    }

    bool failed() const { return failed_.load(std::memory_order_relaxed); }

    void rethrow() const {
        if (first_) std::rethrow_exception(first_);
    }

  private:
    std::exception_ptr first_;
    std::atomic<bool> failed_{false};
};

/// Runs body(workspace, row) for every row in [0, nrows) across threads, then
/// finish(workspace) once per thread (for work a thread batched up). Each thread builds one
/// Workspace(workspace_args...) in place (never copied or moved) and reuses it for all its
/// rows. Rows are handed out
/// dynamically in small chunks because row lengths follow a power law.
template <class Workspace, class Body, class Finish, class... WorkspaceArgs>
void parallel_rows(Index nrows, int requested_threads, Body body, Finish finish,
                   const WorkspaceArgs&... workspace_args) {
    const int threads = resolve_threads(requested_threads, nrows);
    ExceptionCollector errors;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
#endif
    {
        std::optional<Workspace> workspace;
        errors.run([&] { workspace.emplace(workspace_args...); });
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 8) nowait
#endif
        for (Index row = 0; row < nrows; ++row) {
            if (workspace) errors.run([&] { body(*workspace, row); });
        }
        if (workspace) errors.run([&] { finish(*workspace); });
    }
    (void)threads;
    errors.rethrow();
}

/// Rows per block of the blocked reductions (Gram matrices, Σ‖Δ‖²): a reduction sums within
/// each block of this many rows in order, then the block sums in block order. The value is
/// part of the results' bits: row blocks aligned to it (alskit.distributed's) reproduce a
/// whole-matrix reduction exactly by summing their block partials in the same order.
constexpr Index reduction_block_rows = 4096;

/// Σ terms in index order within blocks of reduction_block_rows, then the block sums in
/// order: the total never depends on which thread computed which term, and equals the
/// ordered sum of the block totals of any block-aligned split of the terms.
inline double ordered_sum(const double* terms, std::size_t count) {
    double total = 0.0;
    const std::size_t block = static_cast<std::size_t>(reduction_block_rows);
    for (std::size_t lo = 0; lo < count; lo += block) {
        const std::size_t hi = std::min(count, lo + block);
        double partial = 0.0;
        for (std::size_t i = lo; i < hi; ++i) partial += terms[i];
        total += partial;
    }
    return total;
}

}  // namespace alskit
