// The entry point of one variant's extension module (_core, _core_avx2): Python looks up
// PyInit_<file name>, and every variant forwards to the one set of bindings (module.cpp),
// which are compiled once for all variants. Only Python's header: no pybind11 to compile.
#include <Python.h>

extern "C" PyObject* PyInit_alskit_bindings();

#define ALSKIT_CONCAT_(a, b) a##b
#define ALSKIT_CONCAT(a, b) ALSKIT_CONCAT_(a, b)

PyMODINIT_FUNC ALSKIT_CONCAT(PyInit_, ALSKIT_MODULE_NAME)() { return PyInit_alskit_bindings(); }
