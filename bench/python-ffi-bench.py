"""python-ffi-bench.py - a C call through weft.ctypes against Python's
ctypes and cffi (make bench).

The same libc/libm functions, declared the same way, called in the same
loop by each contender in the same run:

- strlen(b"hello")       argtypes [c_char_p], restype c_size_t
- abs(-5)                argtypes [c_int], restype c_int
- sqrt(2.0)              argtypes [c_double], restype c_double
- snprintf(buf, 64, b"%d %s", 7, b"x")  variadic (the extra two by
  their Python types)
- qsort of 64 ints with a Python comparator: ns per comparator call

Contenders: ctypes' CDLL (the baseline: it releases the GIL around each
call) and PyDLL (keeps it), weft.ctypes' CDLL and PyDLL on each backend
(each in a child interpreter: WEFT_BACKEND picks it at import), and
cffi's ABI mode (ffi.dlopen; it releases the GIL too) if cffi is
importable.  Figures are ns per call, the best of several runs, the
loop's own cost included (the same for all: the first line says how
much); the ratio is against ctypes' CDLL.  Never pass/fail.
"""

import json
import os
import subprocess
import sys
import time

RUNS = 5
N = 100000
SORT_N = 64
SORT_RUNS = 400


def best(fn, n, runs=RUNS):
    out = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        fn(n)
        out.append((time.perf_counter_ns() - t0) / n)
    return min(out)


def loop1(f, a):
    def run(n):
        for _ in range(n):
            f(a)
    return run


def loop_snprintf(f, buf):
    def run(n):
        for _ in range(n):
            f(buf, 64, b"%d %s", 7, b"x")
    return run


def empty(n):
    for _ in range(n):
        pass


def noop_call(n):
    f = len
    for _ in range(n):
        f(b"")


def ctypes_like(mod, dll_type, libc_name, libm_name):
    """The figures for a ctypes-like module (ctypes or weft.ctypes)."""
    libc = dll_type(libc_name)
    libm = dll_type(libm_name)
    strlen = libc.strlen
    strlen.argtypes = [mod.c_char_p]
    strlen.restype = mod.c_size_t
    abs_ = libc.abs
    abs_.argtypes = [mod.c_int]
    abs_.restype = mod.c_int
    sqrt = libm.sqrt
    sqrt.argtypes = [mod.c_double]
    sqrt.restype = mod.c_double
    snprintf = libc.snprintf
    snprintf.argtypes = [mod.c_char_p, mod.c_size_t, mod.c_char_p]
    snprintf.restype = mod.c_int
    buf = mod.create_string_buffer(64)
    assert strlen(b"hello") == 5 and abs_(-5) == 5 and sqrt(4.0) == 2.0
    snprintf(buf, 64, b"%d %s", 7, b"x")
    assert buf.value == b"7 x", buf.value
    CMP = mod.CFUNCTYPE(mod.c_int, mod.POINTER(mod.c_int),
                        mod.POINTER(mod.c_int))
    calls = [0]

    def cmp(a, b):
        calls[0] += 1
        return a[0] - b[0]
    cb = CMP(cmp)
    qsort = libc.qsort
    qsort.argtypes = [mod.c_void_p, mod.c_size_t, mod.c_size_t, CMP]
    qsort.restype = None
    data = list(range(SORT_N, 0, -1))

    def sort(n):
        for _ in range(n):
            arr = (mod.c_int * SORT_N)(*data)
            qsort(arr, SORT_N, mod.sizeof(mod.c_int), cb)
    calls[0] = 0
    t0 = time.perf_counter_ns()
    sort(SORT_RUNS // 4)
    per_cb = (time.perf_counter_ns() - t0) / max(calls[0], 1)
    for _ in range(2):
        calls[0] = 0
        t0 = time.perf_counter_ns()
        sort(SORT_RUNS // 4)
        per_cb = min(per_cb, (time.perf_counter_ns() - t0) / calls[0])
    return {"strlen": best(loop1(strlen, b"hello"), N),
            "abs": best(loop1(abs_, -5), N),
            "sqrt": best(loop1(sqrt, 2.0), N),
            "snprintf": best(loop_snprintf(snprintf, buf), N // 4),
            "qsort callback": per_cb}


def cffi_figures(libc_name, libm_name):
    try:
        import cffi
    except ImportError as e:
        return {"unavailable": str(e)}
    ffi = cffi.FFI()
    ffi.cdef("size_t strlen(const char *); int abs(int); double sqrt(double);"
             "int snprintf(char *, size_t, const char *, ...);"
             "void qsort(void *, size_t, size_t, int (*)(const void *,"
             " const void *));")
    libc = ffi.dlopen(libc_name)
    libm = ffi.dlopen(libm_name)
    buf = ffi.new("char[64]")
    calls = [0]

    @ffi.callback("int(const void *, const void *)")
    def cmp(a, b):
        calls[0] += 1
        return ffi.cast("int *", a)[0] - ffi.cast("int *", b)[0]
    data = list(range(SORT_N, 0, -1))

    def sort(n):
        for _ in range(n):
            arr = ffi.new("int[]", data)
            libc.qsort(arr, SORT_N, 4, cmp)
    snprintf = libc.snprintf
    seven = ffi.cast("int", 7)
    x = ffi.new("char[]", b"x")

    def run_snprintf(n):
        for _ in range(n):
            snprintf(buf, 64, b"%d %s", seven, x)
    calls[0] = 0
    t0 = time.perf_counter_ns()
    sort(SORT_RUNS // 4)
    per_cb = (time.perf_counter_ns() - t0) / calls[0]
    return {"strlen": best(loop1(libc.strlen, b"hello"), N),
            "abs": best(loop1(libc.abs, -5), N),
            "sqrt": best(loop1(libm.sqrt, 2.0), N),
            "snprintf": best(run_snprintf, N // 4),
            "qsort callback": per_cb}


def child(what):
    import ctypes
    import ctypes.util
    libc_name = ctypes.util.find_library("c")
    libm_name = ctypes.util.find_library("m")
    out = {"loop": best(empty, N), "loop + len()": best(noop_call, N)}
    if what == "stdlib":
        out["ctypes CDLL"] = ctypes_like(ctypes, ctypes.CDLL, libc_name,
                                         libm_name)
        out["ctypes PyDLL"] = ctypes_like(ctypes, ctypes.PyDLL, libc_name,
                                          libm_name)
        out["cffi (ABI mode)"] = cffi_figures(libc_name, libm_name)
        return out
    try:
        import weft
        import weft.ctypes as wc
    except ImportError as e:
        return {"unavailable": str(e)}
    if weft.backend != what:
        return {"unavailable": "backend %s not built" % what}
    out["weft.ctypes CDLL (%s)" % what] = ctypes_like(wc, wc.CDLL, libc_name,
                                                      libm_name)
    out["weft.ctypes PyDLL (%s)" % what] = ctypes_like(wc, wc.PyDLL,
                                                       libc_name, libm_name)
    return out


def run_child(what):
    env = dict(os.environ)
    if what != "stdlib":
        env["WEFT_BACKEND"] = what
    p = subprocess.run([sys.executable, __file__, "--child", what],
                       stdout=subprocess.PIPE, universal_newlines=True,
                       env=env)
    if p.returncode != 0:
        return {"unavailable": "child exited %d" % p.returncode}
    return json.loads(p.stdout)


def package_path():
    """The package's directories in the source and build trees (as
    python-bench.py finds them: make passes top_srcdir and top_builddir)."""
    here = os.path.dirname(os.path.abspath(__file__))
    srcdir = os.environ.get("top_srcdir") or os.path.dirname(here)
    builddir = os.environ.get("top_builddir") or os.getcwd()
    return [os.path.join(srcdir, "bindings", "python"),
            os.path.join(builddir, "bindings", "python")]


def main():
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    sys.path[:0] = package_path()
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(sys.argv[2])))
        return
    os.environ["PYTHONPATH"] = os.pathsep.join(
        package_path() + [p for p in [os.environ.get("PYTHONPATH")] if p])
    results = [run_child("stdlib"), run_child("swig"), run_child("ctypes")]
    base = results[0]["ctypes CDLL"]
    print("python ffi bench (%s; ns/call, best of %d, loop included)"
          % (sys.version.split()[0], RUNS))
    print("  the loop alone: %.0f ns, with a call of len(): %.0f ns"
          % (results[0]["loop"], results[0]["loop + len()"]))
    measures = list(base)
    for m in measures:
        print("  %s" % m)
        for r in results:
            if "unavailable" in r:
                continue
            for label, figs in r.items():
                if not isinstance(figs, dict):
                    continue
                if "unavailable" in figs:
                    if m == measures[0]:
                        print("    %-34s unavailable: %s"
                              % (label, figs["unavailable"]))
                    continue
                print("    %-34s %8.0f ns %5.2fx"
                      % (label, figs[m], figs[m] / base[m]))
    for r, what in zip(results[1:], ("swig", "ctypes")):
        if "unavailable" in r:
            print("  weft.ctypes (%s): unavailable: %s"
                  % (what, r["unavailable"]))


if __name__ == "__main__":
    main()
