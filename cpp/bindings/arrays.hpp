// numpy → core views: every check names the offending argument (TypeError for a wrong type
// or dtype, ValueError for a wrong shape, layout or writeability). No array is ever copied.
#pragma once

#include "alskit/types.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

namespace alskit::bindings {

namespace py = pybind11;

enum class ValueType { float32, float64 };
enum class PtrType { int32, int64 };

/// `obj` must be a numpy.ndarray (lists would be converted into temporaries, losing in-place
/// updates) with `ndim` dimensions, C-contiguous and in native byte order.
py::array require_array(const py::object& obj, const char* name, int ndim);
void require_writeable(const py::array& a, const char* name);
ValueType value_type(const py::array& a, const char* name);
PtrType ptr_type(const py::array& a, const char* name);
void require_value_type(const py::array& a, ValueType expected, const char* name);
void require_int32(const py::array& a, const char* name);
void require_shape(const py::array& a, py::ssize_t rows, py::ssize_t cols, const char* name);
const char* value_type_name(ValueType t);
/// Every entry finite (checked with the GIL released); ValueError naming the argument.
void require_finite(const py::array& a, ValueType type, const char* name);

template <class Scalar>
ConstMatrixMap<Scalar> const_matrix(const py::array& a) {
    return ConstMatrixMap<Scalar>(static_cast<const Scalar*>(a.data()), a.shape(0), a.shape(1));
}

template <class Scalar>
MatrixMap<Scalar> mutable_matrix(py::array& a) {
    return MatrixMap<Scalar>(static_cast<Scalar*>(a.mutable_data()), a.shape(0), a.shape(1));
}

/// A checked CSR triple (indptr, indices, values) over ncols columns.
struct CsrArrays {
    py::array indptr, indices, values;  // `values` is meaningful only if has_values
    bool has_values = false;
    PtrType ptr;
    ValueType value;
    Index ncols;
    std::string prefix;  // prepended to argument names in messages ("exclude_" → exclude_indptr)

    template <class Scalar, class Ptr>
    CsrView<Scalar, Ptr> view() const {
        CsrView<Scalar, Ptr> v;
        v.indptr = static_cast<const Ptr*>(indptr.data());
        v.indices = static_cast<const std::int32_t*>(indices.data());
        v.values = has_values ? static_cast<const Scalar*>(values.data()) : nullptr;
        v.nrows = indptr.shape(0) - 1;
        v.ncols = ncols;
        v.entries = indices.shape(0);
        return v;
    }
};

/// Checks types and lengths; `values` may be None when `values_optional`. `prefix` is part of
/// the argument names in messages (e.g. "exclude_" for exclude_indptr/exclude_indices).
CsrArrays csr_arrays(const py::object& indptr, const py::object& indices, const py::object& values,
                     Index ncols, bool values_optional = false, const std::string& prefix = "");

/// Calls f(Scalar{}, Ptr{}) with the C++ types matching the arrays' dtypes.
template <class F>
decltype(auto) dispatch(ValueType value, PtrType ptr, F&& f) {
    if (value == ValueType::float32) {
        if (ptr == PtrType::int32) return f(float{}, std::int32_t{});
        return f(float{}, std::int64_t{});
    }
    if (ptr == PtrType::int32) return f(double{}, std::int32_t{});
    return f(double{}, std::int64_t{});
}

}  // namespace alskit::bindings
