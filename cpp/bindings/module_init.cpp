// The entry point of one variant's extension module (_core, _core_avx2): Python looks up
// PyInit_<file name>, and every variant forwards to the one set of bindings (module.cpp),
// which are compiled once for all variants. Only Python's header: no pybind11 to compile.
// This file is compiled with the baseline flags, so the AVX2 variant can refuse to load on a
// CPU without AVX2+FMA (an ImportError saying what to do) before any of its kernels runs.
#include <Python.h>

extern "C" PyObject* PyInit_alskit_bindings();

#define ALSKIT_CONCAT_(a, b) a##b
#define ALSKIT_CONCAT(a, b) ALSKIT_CONCAT_(a, b)

PyMODINIT_FUNC ALSKIT_CONCAT(PyInit_, ALSKIT_MODULE_NAME)() {
#ifdef ALSKIT_MODULE_NEEDS_AVX2
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        PyErr_SetString(PyExc_ImportError,
                        "alskit._core_avx2 needs AVX2+FMA, which this CPU lacks, and this "
                        "alskit was built for another machine (ALSKIT_ISA_VARIANTS=host); "
                        "install an alskit wheel, or rebuild on this machine or with "
                        "`pip install . -C cmake.define.ALSKIT_ISA_VARIANTS=all`");
        return nullptr;
    }
#endif
    return PyInit_alskit_bindings();
}
