// The alskit._core extension: argument checks, GIL release and error mapping around the
// kernels of cpp/include/alskit. Compiled once and linked into every instruction-set variant's
// module, whose PyInit (module_init.cpp) forwards to PyInit_alskit_bindings below; the kernels
// it calls are the variant's own.
#include "alskit/build_info.hpp"
#include "alskit/csr.hpp"
#include "alskit/fold_in.hpp"
#include "alskit/gram.hpp"
#include "alskit/parallel.hpp"
#include "alskit/scoring.hpp"
#include "arrays.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace alskit::bindings {
namespace {

using py::arg;

double check_reg(double reg) {
    if (!(reg >= 0) || !std::isfinite(reg)) {
        throw py::value_error("reg must be finite and non-negative");
    }
    return reg;
}

int check_threads(int threads) {
    if (threads < 0) throw py::value_error("threads must be >= 0 (0 means all available)");
    return threads;
}

bool cpu_supports_avx2() {
#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

/// Fully validates a CSR (structure, index ranges, finite values) with the GIL released;
/// `prefix` is part of the argument names in messages.
template <class Scalar, class Ptr>
void validate(const CsrView<Scalar, Ptr>& view, const std::string& prefix = "") {
    py::gil_scoped_release release;
    validate_csr(view, prefix);
}

void validate_csr_py(const py::object& indptr, const py::object& indices, const py::object& values,
                     Index ncols) {
    const CsrArrays csr = csr_arrays(indptr, indices, values, ncols, true);
    dispatch(csr.value, csr.ptr,
             [&](auto s, auto p) { validate(csr.view<decltype(s), decltype(p)>()); });
}

py::tuple transpose_csr_py(const py::object& indptr, const py::object& indices,
                           const py::object& values, Index ncols, int threads) {
    const CsrArrays csr = csr_arrays(indptr, indices, values, ncols, true);
    check_threads(threads);
    return dispatch(csr.value, csr.ptr, [&](auto s, auto p) -> py::tuple {
        using Scalar = decltype(s);
        using Ptr = decltype(p);
        const auto view = csr.view<Scalar, Ptr>();
        validate(view);
        const py::ssize_t nnz = view.row_begin(view.nrows) - view.row_begin(0);
        py::array_t<Ptr> out_indptr(ncols + 1);
        py::array_t<std::int32_t> out_indices(nnz);
        py::object out_values = py::none();
        Scalar* values_ptr = nullptr;
        if (csr.has_values) {
            py::array_t<Scalar> v(out_indices.shape(0));
            values_ptr = v.mutable_data();
            out_values = v;
        }
        Ptr* indptr_ptr = out_indptr.mutable_data();
        std::int32_t* indices_ptr = out_indices.mutable_data();
        {
            py::gil_scoped_release release;
            transpose_csr(view, indptr_ptr, indices_ptr, values_ptr, threads);
        }
        return py::make_tuple(out_indptr, out_indices, out_values);
    });
}

py::array gram_py(const py::object& factors_obj, double reg, int threads, bool trusted) {
    const py::array factors = require_array(factors_obj, "factors", 2);
    const ValueType type = value_type(factors, "factors");
    check_reg(reg);
    check_threads(threads);
    if (!trusted) require_finite(factors, type, "factors");
    return dispatch(type, PtrType::int32, [&](auto s, auto) -> py::array {
        using Scalar = decltype(s);
        const auto y = const_matrix<Scalar>(factors);
        SquareMatrix<Scalar> g;
        {
            py::gil_scoped_release release;
            g = gram<Scalar>(y, static_cast<Scalar>(reg), threads);
        }
        py::array_t<Scalar> out({g.rows(), g.cols()});
        std::copy(g.data(), g.data() + g.size(), out.mutable_data());  // symmetric: order-free
        return out;
    });
}

/// The checks shared by every half-epoch: a valid CSR, a writeable left matrix and a right
/// matrix of the same dtype. `trusted`: the caller vouches for the contents (a CSR it has
/// validated, finite factors), so only the O(1) checks of types and shapes run.
struct HalfEpochArgs {
    CsrArrays csr;
    py::array left, right;
};

HalfEpochArgs half_epoch_args(const py::object& indptr, const py::object& indices,
                              const py::object& values, const py::object& left,
                              const py::object& right, int threads, bool trusted) {
    HalfEpochArgs a;
    a.right = require_array(right, "right", 2);
    a.csr = csr_arrays(indptr, indices, values, a.right.shape(0));
    a.left = require_array(left, "left", 2);
    require_writeable(a.left, "left");
    require_value_type(a.left, a.csr.value, "left");
    require_value_type(a.right, a.csr.value, "right");
    require_shape(a.left, a.csr.indptr.shape(0) - 1, a.right.shape(1), "left");
    check_threads(threads);
    // A NaN factor would otherwise surface as silently zeroed rows (the min-norm fallback
    // finds rank 0) or as a stalled CG; refusing it here costs O((rows + cols)·k).
    if (!trusted) {
        require_finite(a.left, a.csr.value, "left");
        require_finite(a.right, a.csr.value, "right");
    }
    return a;
}

/// `row_deltas` (None or a writeable float64 array of one entry per row, sharing no memory
/// with the other arguments) receives each row's ‖Δ‖²: the terms of the returned sum, for
/// callers that split the rows anywhere.
double* row_deltas_data(const py::object& obj, py::ssize_t rows) {
    if (obj.is_none()) return nullptr;
    py::array a = require_array(obj, "row_deltas", 1);
    require_writeable(a, "row_deltas");
    if (a.dtype().kind() != 'f' || a.itemsize() != 8) {  // whatever the factors' dtype
        throw py::type_error("row_deltas must have dtype float64, got " +
                             py::str(a.dtype()).cast<std::string>());
    }
    if (a.shape(0) != rows) {
        throw py::value_error("row_deltas must have " + std::to_string(rows) +
                              " entries (one per row), got " + std::to_string(a.shape(0)));
    }
    return static_cast<double*>(a.mutable_data());
}

double explicit_half_epoch_py(const py::object& indptr, const py::object& indices,
                              const py::object& values, py::object left, const py::object& right,
                              double reg, int threads, bool trusted, const py::object& row_deltas) {
    HalfEpochArgs a = half_epoch_args(indptr, indices, values, left, right, threads, trusted);
    check_reg(reg);
    double* const deltas = row_deltas_data(row_deltas, a.left.shape(0));
    return dispatch(a.csr.value, a.csr.ptr, [&](auto s, auto p) {
        using Scalar = decltype(s);
        const auto view = a.csr.view<Scalar, decltype(p)>();
        if (!trusted) validate(view);
        auto l = mutable_matrix<Scalar>(a.left);
        const auto r = const_matrix<Scalar>(a.right);
        py::gil_scoped_release release;
        return explicit_half_epoch(view, l, r, static_cast<Scalar>(reg), threads, deltas);
    });
}

ImplicitSolver parse_solver(const std::string& solver) {
    if (solver == "cholesky") return ImplicitSolver::cholesky;
    if (solver == "cg") return ImplicitSolver::conjugate_gradient;
    if (solver == "subspace") return ImplicitSolver::subspace;
    throw py::value_error("solver must be 'cholesky', 'cg' or 'subspace', got '" + solver + "'");
}

/// The subspace solver's block size: required with it (its default lives in the config), and
/// unused (1) by the other solvers. Its range is the core's check.
Index subspace_block(const std::string& solver, const py::object& block_size) {
    if (solver != "subspace") return 1;
    if (block_size.is_none()) throw py::value_error("solver='subspace' needs a block_size");
    if (!py::isinstance<py::int_>(block_size) || py::isinstance<py::bool_>(block_size)) {
        throw py::type_error("block_size must be an integer");
    }
    return block_size.cast<Index>();
}

/// Bytes of solver workspace a half-epoch (or fold-in) with these arguments allocates: one
/// RowWorkspace per thread (threads=0: all available), as RowWorkspace::bytes computes it, and
/// the buffers the half-epoch shares for a fixed side of `fixed_rows` rows (shared_bytes).
/// Beyond k = 2^29 it returns the size at 2^29, a lower bound that keeps the per-thread size
/// within 64 bits (exabytes with k × k systems; and the factors of such a k never fit).
py::int_ workspace_bytes_py(const py::int_& k_arg, const py::object& dtype,
                            const std::string& solver, int threads, const py::object& block_size,
                            Index fixed_rows) {
    constexpr Index max_k = Index{1} << 29;
    const int above = PyObject_RichCompareBool(k_arg.ptr(), py::int_(max_k).ptr(), Py_GT);
    if (above < 0) throw py::error_already_set();
    const Index k = above ? max_k : k_arg.cast<Index>();
    if (k < 1) throw py::value_error("k must be at least 1, got " + std::to_string(k));
    const py::dtype dt = py::dtype::from_args(dtype);
    const bool single = dt.kind() == 'f' && dt.itemsize() == 4;
    if (!single && !(dt.kind() == 'f' && dt.itemsize() == 8)) {
        throw py::type_error("dtype must be float32 or float64, got " +
                             py::str(dt).cast<std::string>());
    }
    RowSolver kind = RowSolver::explicit_ratings;
    if (solver == "cholesky") {
        kind = RowSolver::implicit_cholesky;
    } else if (solver == "cg") {
        kind = RowSolver::implicit_cg;
    } else if (solver == "subspace") {
        kind = RowSolver::implicit_subspace;
    } else if (solver != "explicit") {
        throw py::value_error("solver must be 'explicit', 'cholesky', 'cg' or 'subspace', got '" +
                              solver + "'");
    }
    const Index block = subspace_block(solver, block_size);
    if (block < 1) throw py::value_error("block_size must be at least 1");
    if (fixed_rows < 0 || fixed_rows > std::numeric_limits<std::int32_t>::max()) {
        throw py::value_error("fixed_rows must be between 0 and 2^31 - 1, got " +
                              std::to_string(fixed_rows));
    }
    const int count = check_threads(threads) > 0 ? threads : max_threads();
    constexpr Index any = RowWorkspace<float>::unbounded;  // the longest row is not known here
    const std::size_t per_thread = single ? RowWorkspace<float>::bytes(k, kind, any, block)
                                          : RowWorkspace<double>::bytes(k, kind, any, block);
    const std::size_t shared = single ? RowWorkspace<float>::shared_bytes(k, kind, fixed_rows)
                                      : RowWorkspace<double>::shared_bytes(k, kind, fixed_rows);
    return py::int_(py::int_(per_thread).attr("__mul__")(count).attr("__add__")(shared));
}

py::array require_gram(const py::object& gram_obj, ValueType type, py::ssize_t k, bool trusted) {
    py::array g = require_array(gram_obj, "gram", 2);
    require_value_type(g, type, "gram");
    require_shape(g, k, k, "gram");
    if (!trusted) require_finite(g, type, "gram");
    return g;
}

/// The optional targets b of an implicit solve (see implicit_solver.hpp): one per entry of
/// `values`, of its dtype, finite. Null when not given (b = 1 + v).
std::optional<py::array> optional_targets(const py::object& targets_obj, const CsrArrays& csr,
                                          bool trusted) {
    if (targets_obj.is_none()) return std::nullopt;
    py::array t = require_array(targets_obj, "targets", 1);
    require_value_type(t, csr.value, "targets");
    if (t.shape(0) != csr.values.shape(0)) {
        throw py::value_error("targets must have one entry per entry of values (" +
                              std::to_string(csr.values.shape(0)) + "), got " +
                              std::to_string(t.shape(0)));
    }
    if (!trusted) require_finite(t, csr.value, "targets");
    return t;
}

template <class Scalar>
const Scalar* targets_data(const std::optional<py::array>& t) {
    return t ? static_cast<const Scalar*>(t->data()) : nullptr;
}

double implicit_half_epoch_py(const py::object& indptr, const py::object& indices,
                              const py::object& values, py::object left, const py::object& right,
                              const py::object& gram_obj, const py::object& targets_obj,
                              const std::string& solver, int cg_steps, int sweeps,
                              const py::object& block_size, int threads, bool trusted,
                              const py::object& row_deltas) {
    HalfEpochArgs a = half_epoch_args(indptr, indices, values, left, right, threads, trusted);
    double* const deltas = row_deltas_data(row_deltas, a.left.shape(0));
    const py::array g = require_gram(gram_obj, a.csr.value, a.right.shape(1), trusted);
    const std::optional<py::array> targets = optional_targets(targets_obj, a.csr, trusted);
    const ImplicitSolver method = parse_solver(solver);
    // (steps and block size: checked by the core)
    const int steps = method == ImplicitSolver::subspace ? sweeps : cg_steps;
    const Index block = subspace_block(solver, block_size);
    return dispatch(a.csr.value, a.csr.ptr, [&](auto s, auto p) {
        using Scalar = decltype(s);
        const auto view = a.csr.view<Scalar, decltype(p)>();
        if (!trusted) validate(view);
        auto l = mutable_matrix<Scalar>(a.left);
        const auto r = const_matrix<Scalar>(a.right);
        const ConstSquareMap<Scalar> gm(static_cast<const Scalar*>(g.data()), g.shape(0),
                                        g.shape(1));
        const Scalar* b = targets_data<Scalar>(targets);
        py::gil_scoped_release release;
        return implicit_half_epoch(view, l, r, gm, method, steps, threads, b, block, deltas);
    });
}

/// Shared by both fold-ins: checks the history CSR and `right` (their contents unless
/// `trusted`), allocates the (rows × k) result and runs solve(view, right, out) with the GIL
/// released.
template <class Solve>
py::array fold_in(const CsrArrays& csr, const py::array& right, int threads, bool trusted,
                  Solve solve) {
    require_value_type(right, csr.value, "right");
    if (!trusted) require_finite(right, csr.value, "right");
    check_threads(threads);
    return dispatch(csr.value, csr.ptr, [&](auto s, auto p) -> py::array {
        using Scalar = decltype(s);
        const auto view = csr.view<Scalar, decltype(p)>();
        if (!trusted) validate(view);
        py::array_t<Scalar> out({static_cast<py::ssize_t>(view.nrows), right.shape(1)});
        py::array out_array = out;
        auto o = mutable_matrix<Scalar>(out_array);
        const auto r = const_matrix<Scalar>(right);
        {
            py::gil_scoped_release release;  // re-acquired before the result is returned
            solve(view, r, o);
        }
        return out_array;
    });
}

py::array fold_in_explicit_py(const py::object& indptr, const py::object& indices,
                              const py::object& values, const py::object& right_obj, double reg,
                              int threads, bool trusted) {
    const py::array right = require_array(right_obj, "right", 2);
    const CsrArrays csr = csr_arrays(indptr, indices, values, right.shape(0));
    check_reg(reg);
    return fold_in(csr, right, threads, trusted, [&](const auto& view, auto r, auto o) {
        using Scalar = typename decltype(r)::Scalar;
        fold_in_explicit(view, r, static_cast<Scalar>(reg), o, threads);
    });
}

py::array fold_in_implicit_py(const py::object& indptr, const py::object& indices,
                              const py::object& values, const py::object& right_obj,
                              const py::object& gram_obj, const py::object& targets_obj,
                              int threads, bool trusted) {
    const py::array right = require_array(right_obj, "right", 2);
    const CsrArrays csr = csr_arrays(indptr, indices, values, right.shape(0));
    require_value_type(right, csr.value, "right");  // before gram: the dtype error names right
    const py::array g = require_gram(gram_obj, csr.value, right.shape(1), trusted);
    const std::optional<py::array> targets = optional_targets(targets_obj, csr, trusted);
    return fold_in(csr, right, threads, trusted, [&](const auto& view, auto r, auto o) {
        using Scalar = typename decltype(r)::Scalar;
        const ConstSquareMap<Scalar> gm(static_cast<const Scalar*>(g.data()), g.shape(0),
                                        g.shape(1));
        fold_in_implicit(view, r, gm, o, threads, targets_data<Scalar>(targets));
    });
}

/// An optional 1-D array of `length` entries with the given check; None → null pointer.
template <class T, class Check>
const T* optional_vector(const py::object& obj, const char* name, py::ssize_t length, Check check,
                         py::array& keep) {
    if (obj.is_none()) return nullptr;
    keep = require_array(obj, name, 1);
    check(keep);
    if (keep.shape(0) != length) {
        throw py::value_error(std::string(name) + " must have " + std::to_string(length) +
                              " entries, got " + std::to_string(keep.shape(0)));
    }
    return static_cast<const T*>(keep.data());
}

/// The (user_factors, item_factors) pair of the scoring functions: same dtype and width.
struct FactorPair {
    py::array users, items;
    ValueType type;
};

FactorPair factor_pair(const py::object& users_obj, const py::object& items_obj) {
    FactorPair f;
    f.users = require_array(users_obj, "user_factors", 2);
    f.items = require_array(items_obj, "item_factors", 2);
    f.type = value_type(f.users, "user_factors");
    require_value_type(f.items, f.type, "item_factors");
    if (f.users.shape(1) != f.items.shape(1)) {
        throw py::value_error("user_factors has " + std::to_string(f.users.shape(1)) +
                              " columns but item_factors has " + std::to_string(f.items.shape(1)));
    }
    return f;
}

py::tuple top_n_py(const py::object& users_obj, const py::object& items_obj, Index n,
                   const py::object& exclude_indptr, const py::object& exclude_indices,
                   const py::object& candidates_obj, const py::object& blocked_obj,
                   const py::object& user_offsets_obj, const py::object& item_offsets_obj,
                   int threads) {
    const FactorPair factors = factor_pair(users_obj, items_obj);
    const py::array& users = factors.users;
    const py::array& items = factors.items;
    const ValueType type = factors.type;
    check_threads(threads);  // (n: checked by the core)
    const py::ssize_t rows = users.shape(0);
    const py::ssize_t n_items = items.shape(0);
    if (exclude_indptr.is_none() != exclude_indices.is_none()) {
        throw py::value_error("exclude_indptr and exclude_indices must be given together");
    }
    std::optional<CsrArrays> exclude;
    if (!exclude_indptr.is_none()) {
        exclude =
            csr_arrays(exclude_indptr, exclude_indices, py::none(), n_items, true, "exclude_");
        if (exclude->indptr.shape(0) != rows + 1) {
            throw py::value_error("exclude_indptr must have one entry per user plus one (" +
                                  std::to_string(rows + 1) + "), got " +
                                  std::to_string(exclude->indptr.shape(0)));
        }
    }
    py::array keep_candidates, keep_blocked, keep_user_offsets, keep_item_offsets;
    Index n_candidates = 0;
    const std::int32_t* candidates = nullptr;
    if (!candidates_obj.is_none()) {
        keep_candidates = require_array(candidates_obj, "candidates", 1);
        require_int32(keep_candidates, "candidates");
        candidates = static_cast<const std::int32_t*>(keep_candidates.data());
        n_candidates = keep_candidates.shape(0);
    }
    // No list can be longer than what there is to rank; this also keeps an absurd n from
    // allocating rows × n.
    n = std::min<Index>(n, std::max<Index>(candidates ? n_candidates : items.shape(0), 1));
    const auto* blocked = optional_vector<std::uint8_t>(
        blocked_obj, "blocked", n_items,
        [](const py::array& a) {
            if (a.dtype().kind() != 'b') {
                throw py::type_error("blocked must be a boolean array, got " +
                                     py::str(a.dtype()).cast<std::string>());
            }
        },
        keep_blocked);
    return dispatch(
        type, exclude ? exclude->ptr : PtrType::int64, [&](auto s, auto p) -> py::tuple {
            using Scalar = decltype(s);
            using Ptr = decltype(p);
            auto float_check = [&](const char* name) {
                return [type, name](const py::array& a) { require_value_type(a, type, name); };
            };
            TopNRequest<Scalar, Ptr> req;
            req.user_offsets =
                optional_vector<Scalar>(user_offsets_obj, "user_offsets", rows,
                                        float_check("user_offsets"), keep_user_offsets);
            req.item_offsets =
                optional_vector<Scalar>(item_offsets_obj, "item_offsets", n_items,
                                        float_check("item_offsets"), keep_item_offsets);
            req.candidates = candidates;
            req.n_candidates = n_candidates;
            req.blocked = blocked;
            req.n = n;
            CsrView<Scalar, Ptr> exclude_view;
            if (exclude) {
                exclude_view = exclude->view<Scalar, Ptr>();
                validate(exclude_view, exclude->prefix);
                req.exclude = &exclude_view;
            }
            const auto width = static_cast<py::ssize_t>(std::max<Index>(n, 0));  // n < 1: core
            py::array_t<std::int32_t> out_items({rows, width});
            py::array_t<Scalar> out_scores({rows, width});
            const auto u = const_matrix<Scalar>(users);
            const auto q = const_matrix<Scalar>(items);
            std::int32_t* items_ptr = out_items.mutable_data();
            Scalar* scores_ptr = out_scores.mutable_data();
            {
                py::gil_scoped_release release;
                top_n(u, q, req, items_ptr, scores_ptr, threads);
            }
            return py::make_tuple(out_items, out_scores);
        });
}

py::array score_pairs_py(const py::object& users_obj, const py::object& items_obj,
                         const py::object& user_nums_obj, const py::object& item_nums_obj,
                         const py::object& user_offsets_obj, const py::object& item_offsets_obj,
                         int threads) {
    const FactorPair factors = factor_pair(users_obj, items_obj);
    const py::array& users = factors.users;
    const py::array& items = factors.items;
    const ValueType type = factors.type;
    const py::array user_nums = require_array(user_nums_obj, "user_nums", 1);
    const py::array item_nums = require_array(item_nums_obj, "item_nums", 1);
    require_int32(user_nums, "user_nums");
    require_int32(item_nums, "item_nums");
    if (user_nums.shape(0) != item_nums.shape(0)) {
        throw py::value_error("user_nums and item_nums differ in length");
    }
    check_threads(threads);
    const Index pairs = user_nums.shape(0);
    const auto* un = static_cast<const std::int32_t*>(user_nums.data());
    const auto* in = static_cast<const std::int32_t*>(item_nums.data());  // checked by the core
    return dispatch(type, PtrType::int32, [&](auto s, auto) -> py::array {
        using Scalar = decltype(s);
        auto float_check = [&](const char* name) {
            return [type, name](const py::array& a) { require_value_type(a, type, name); };
        };
        py::array keep_u, keep_i;
        const Scalar* uo = optional_vector<Scalar>(user_offsets_obj, "user_offsets", users.shape(0),
                                                   float_check("user_offsets"), keep_u);
        const Scalar* io = optional_vector<Scalar>(item_offsets_obj, "item_offsets", items.shape(0),
                                                   float_check("item_offsets"), keep_i);
        py::array_t<Scalar> out(pairs);
        Scalar* out_ptr = out.mutable_data();
        const auto u = const_matrix<Scalar>(users);
        const auto q = const_matrix<Scalar>(items);
        {
            py::gil_scoped_release release;
            score_pairs(u, q, un, in, pairs, uo, io, out_ptr, threads);
        }
        return out;
    });
}

}  // namespace
}  // namespace alskit::bindings

PYBIND11_MODULE(alskit_bindings, m) {
    using namespace alskit::bindings;
    namespace core = alskit;
    m.doc() = "alskit native core: ALS half-epochs, Gram matrices, fold-in and CSR utilities.";

    static py::exception<core::NumericalError> numerical_error(m, "NumericalError",
                                                               PyExc_FloatingPointError);
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const core::InvalidArgument& e) {
            py::set_error(PyExc_ValueError, e.what());
        } catch (const core::NumericalError& e) {
            py::set_error(numerical_error, e.what());
        }
    });

    m.def(
        "reduction_block_rows", [] { return static_cast<long>(core::reduction_block_rows); },
        "Rows per block of the blocked reductions (gram, the half-epochs' sum of squared "
        "row changes).");
    m.def("openmp_enabled", &core::openmp_enabled, "Whether the kernels were built with OpenMP.");
    m.def("max_threads", &core::max_threads, "Threads a kernel uses when threads=0.");
    m.def("enter_fork_child_mode", &core::enter_fork_child_mode,
          "In a forked child: run single-threaded if the parent started the OpenMP pool "
          "(which does not survive fork); returns whether it switched.");
    m.def("isa", &core::compiled_isa, "Instruction set this module's kernels were compiled for.");
    m.def("cpu_supports_avx2", &cpu_supports_avx2, "Whether this CPU has AVX2 and FMA.");
    m.def("workspace_bytes", &workspace_bytes_py, arg("k"), arg("dtype"), py::kw_only(),
          arg("solver"), arg("threads") = 0, arg("block_size") = py::none(), arg("fixed_rows") = 0,
          "Bytes of solver workspace a half-epoch or fold-in of embedding size k allocates at "
          "most (solver: 'explicit', 'cholesky', 'cg' or 'subspace', which needs its "
          "block_size; threads=0: all available; fixed_rows: rows of the fixed side, for the "
          "buffers the threads share).");
    m.def("validate_csr", &validate_csr_py, arg("indptr"), arg("indices"), arg("values"),
          arg("ncols"), "Raise ValueError naming the first problem of a CSR matrix.");
    m.def("transpose_csr", &transpose_csr_py, arg("indptr"), arg("indices"), arg("values"),
          arg("ncols"), py::kw_only(), arg("threads") = 0,
          "Transpose a CSR matrix; returns (indptr, indices, values or None).");
    m.def("gram", &gram_py, arg("factors"), arg("reg"), py::kw_only(), arg("threads") = 0,
          arg("trusted") = false,
          "Return factorsᵀ·factors + reg·I (deterministic for any thread count). "
          "`trusted`: the factors are known finite (not scanned again).");
    m.def("explicit_half_epoch", &explicit_half_epoch_py, arg("indptr"), arg("indices"),
          arg("values"), arg("left"), arg("right"), arg("reg"), py::kw_only(), arg("threads") = 0,
          arg("trusted") = false, arg("row_deltas") = py::none(),
          "Solve every row of `left` in place for explicit (ALS-WR) ALS; returns Σ‖Δrow‖². "
          "`trusted`: the CSR was validated and the factors are finite (not scanned again). "
          "`row_deltas`: a float64 array, one entry per row, that receives each ‖Δrow‖².");
    m.def("implicit_half_epoch", &implicit_half_epoch_py, arg("indptr"), arg("indices"),
          arg("values"), arg("left"), arg("right"), arg("gram"), py::kw_only(),
          arg("targets") = py::none(), arg("solver") = "cholesky", arg("cg_steps") = 3,
          arg("sweeps") = 1, arg("block_size") = py::none(), arg("threads") = 0,
          arg("trusted") = false, arg("row_deltas") = py::none(),
          "Solve every row of `left` in place for implicit (HKV) ALS; returns Σ‖Δrow‖². "
          "`targets` (one per value; default 1 + value) are the right-hand-side weights. "
          "solver: 'cholesky' (exact), 'cg' (cg_steps iterations) or 'subspace' (iALS++: "
          "sweeps of block_size-coordinate blocks); the iterative ones start from `left`. "
          "`trusted`: the CSR was validated and the factors, gram and targets are finite. "
          "`row_deltas`: a float64 array, one entry per row, that receives each ‖Δrow‖².");
    m.def("fold_in_explicit", &fold_in_explicit_py, arg("indptr"), arg("indices"), arg("values"),
          arg("right"), arg("reg"), py::kw_only(), arg("threads") = 0, arg("trusted") = false,
          "Embeddings of new rows from residual ratings over `right`. `trusted`: the CSR was "
          "validated and `right` is finite.");
    m.def("fold_in_implicit", &fold_in_implicit_py, arg("indptr"), arg("indices"), arg("values"),
          arg("right"), arg("gram"), py::kw_only(), arg("targets") = py::none(), arg("threads") = 0,
          arg("trusted") = false,
          "Embeddings of new rows from confidence weights (and optional right-hand-side "
          "targets) over `right`, given its Gram. `trusted`: the CSR was validated and "
          "`right`, `gram` and the targets are finite.");
    m.def("top_n", &top_n_py, arg("user_factors"), arg("item_factors"), arg("n"), py::kw_only(),
          arg("exclude_indptr") = py::none(), arg("exclude_indices") = py::none(),
          arg("candidates") = py::none(), arg("blocked") = py::none(),
          arg("user_offsets") = py::none(), arg("item_offsets") = py::none(), arg("threads") = 0,
          "Best n items per row of user_factors; returns (items int32, scores), padded with "
          "-1/NaN.");
    m.def("score_pairs", &score_pairs_py, arg("user_factors"), arg("item_factors"),
          arg("user_nums"), arg("item_nums"), py::kw_only(), arg("user_offsets") = py::none(),
          arg("item_offsets") = py::none(), arg("threads") = 0,
          "Scores of (user, item) pairs: p·q plus optional offsets.");
}
