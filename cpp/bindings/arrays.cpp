#include "arrays.hpp"

#include <cmath>

namespace alskit::bindings {

namespace {

// numpy reports native order as '=' ('|' when order is irrelevant); '<'/'>' mean swapped.
bool native_byte_order(const py::dtype& dt) {
    const char order = dt.byteorder();
    return order == '=' || order == '|';
}

std::string describe(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

}  // namespace

py::array require_array(const py::object& obj, const char* name, int ndim) {
    if (!py::isinstance<py::array>(obj)) {
        throw py::type_error(std::string(name) + " must be a numpy.ndarray, got " +
                             py::str(py::type::of(obj).attr("__name__")).cast<std::string>());
    }
    auto a = py::reinterpret_borrow<py::array>(obj);
    if (a.ndim() != ndim) {
        throw py::value_error(std::string(name) + " must be " + std::to_string(ndim) +
                              "-dimensional, got shape with " + std::to_string(a.ndim()) +
                              " dimensions");
    }
    if (!(a.flags() & py::array::c_style)) {
        throw py::value_error(std::string(name) +
                              " must be C-contiguous (use numpy.ascontiguousarray)");
    }
    if (!native_byte_order(a.dtype())) {
        throw py::type_error(std::string(name) + " must be in native byte order, got " +
                             describe(a));
    }
    return a;
}

void require_writeable(const py::array& a, const char* name) {
    if (!a.writeable()) {
        throw py::value_error(std::string(name) +
                              " is read-only, but it is updated in place (pass a writeable copy)");
    }
}

ValueType value_type(const py::array& a, const char* name) {
    if (a.dtype().kind() == 'f' && a.itemsize() == 4) return ValueType::float32;
    if (a.dtype().kind() == 'f' && a.itemsize() == 8) return ValueType::float64;
    throw py::type_error(std::string(name) + " must have dtype float32 or float64, got " +
                         describe(a));
}

const char* value_type_name(ValueType t) { return t == ValueType::float32 ? "float32" : "float64"; }

void require_value_type(const py::array& a, ValueType expected, const char* name) {
    if (value_type(a, name) != expected) {
        throw py::type_error(std::string(name) + " must have dtype " + value_type_name(expected) +
                             " (the same as the other floating-point arguments), got " +
                             describe(a));
    }
}

PtrType ptr_type(const py::array& a, const char* name) {
    if (a.dtype().kind() == 'i' && a.itemsize() == 4) return PtrType::int32;
    if (a.dtype().kind() == 'i' && a.itemsize() == 8) return PtrType::int64;
    throw py::type_error(std::string(name) + " must have dtype int32 or int64, got " + describe(a));
}

void require_int32(const py::array& a, const char* name) {
    if (!(a.dtype().kind() == 'i' && a.itemsize() == 4)) {
        throw py::type_error(std::string(name) + " must have dtype int32, got " + describe(a));
    }
}

void require_shape(const py::array& a, py::ssize_t rows, py::ssize_t cols, const char* name) {
    if (a.shape(0) != rows || a.shape(1) != cols) {
        throw py::value_error(std::string(name) + " must have shape (" + std::to_string(rows) +
                              ", " + std::to_string(cols) + "), got (" +
                              std::to_string(a.shape(0)) + ", " + std::to_string(a.shape(1)) + ")");
    }
}

void require_finite(const py::array& a, ValueType type, const char* name) {
    const py::ssize_t n = a.size();
    py::ssize_t bad = -1;
    {
        py::gil_scoped_release release;
        auto first_bad = [&](auto* data) {
            for (py::ssize_t j = 0; j < n; ++j) {
                if (!std::isfinite(data[j])) return j;
            }
            return py::ssize_t{-1};
        };
        bad = type == ValueType::float32 ? first_bad(static_cast<const float*>(a.data()))
                                         : first_bad(static_cast<const double*>(a.data()));
    }
    if (bad >= 0) {
        throw py::value_error(std::string(name) + " contains a non-finite value (flat index " +
                              std::to_string(bad) + ")");
    }
}

CsrArrays csr_arrays(const py::object& indptr, const py::object& indices, const py::object& values,
                     Index ncols, bool values_optional, const std::string& prefix) {
    const std::string indptr_name = prefix + "indptr";
    const std::string indices_name = prefix + "indices";
    const std::string values_name = prefix + "values";
    CsrArrays csr;
    csr.prefix = prefix;
    csr.indptr = require_array(indptr, indptr_name.c_str(), 1);
    csr.ptr = ptr_type(csr.indptr, indptr_name.c_str());
    if (csr.indptr.shape(0) < 1)
        throw py::value_error(indptr_name + " must have at least one entry");
    csr.indices = require_array(indices, indices_name.c_str(), 1);
    require_int32(csr.indices, indices_name.c_str());
    if (values.is_none() && values_optional) {
        csr.value = ValueType::float32;
    } else {
        csr.values = require_array(values, values_name.c_str(), 1);
        csr.has_values = true;
        csr.value = value_type(csr.values, values_name.c_str());
        if (csr.values.shape(0) != csr.indices.shape(0)) {
            throw py::value_error(values_name + " has " + std::to_string(csr.values.shape(0)) +
                                  " entries but " + indices_name + " has " +
                                  std::to_string(csr.indices.shape(0)));
        }
    }
    if (ncols < 0) throw py::value_error("ncols must be non-negative");
    csr.ncols = ncols;
    return csr;
}

}  // namespace alskit::bindings
