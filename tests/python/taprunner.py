"""taprunner.py - run the Python binding's unittest suites as TAP.

Not a test itself: test-py-ctypes.py and test-py-swig.py call main() with
their backend.  They run from `make check` as `tests/run-host $PYTHON
<script>` with AM_TESTS_ENVIRONMENT (top_srcdir, top_builddir, WEFT_LIB,
SANITIZER); run by hand from a build directory they need at least
WEFT_LIB.

The package is imported from the source tree, its SWIG module and
_paths.py from the build tree (weft/__init__.py merges the two).
"""

import faulthandler
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("top_srcdir") or os.path.normpath(
    os.path.join(HERE, os.pardir, os.pardir))
BUILDDIR = os.environ.get("top_builddir") or os.getcwd()
SUITES = ["suite_lowlevel", "suite_threading", "suite_thread",
          "suite_process", "suite_buffers", "suite_socket", "suite_interop",
          "suite_select", "suite_io", "suite_signal", "suite_ffi"]
# A test that hangs is killed with every thread's traceback on stderr
# (which lands in the test's .log) instead of stalling make check.
TEST_TIMEOUT = 300


def package_path():
    """The sys.path entries that make `import weft` find this tree's
    package (for child processes: PYTHONPATH)."""
    return [os.path.join(SRCDIR, "bindings", "python"),
            os.path.join(BUILDDIR, "bindings", "python")]


def swig_module_built():
    weft_dir = os.path.join(BUILDDIR, "bindings", "python", "weft")
    return any(f.startswith("_weft_swig.") and f.endswith(".so")
               for f in os.listdir(weft_dir)) if os.path.isdir(weft_dir) \
        else False


def run_python(code, timeout=60, env=None):
    """Run code in a child interpreter with this package on its path (and
    this process's environment: backend, WEFT_LIB, sanitizer preload);
    (returncode, stdout, stderr)."""
    import subprocess
    child_env = dict(os.environ)
    child_env.update(env or {})
    p = subprocess.run([sys.executable, "-c", code], env=child_env,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       universal_newlines=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class TapResult(unittest.TestResult):
    """One TAP line per test; failures and errors as # diagnostics."""

    def __init__(self, tag):
        super().__init__()
        self.tag = tag
        self.n = 0

    def line(self, ok, test, note=""):
        self.n += 1
        sys.stdout.write("%s %d - %s [%s]%s\n" % (
            "ok" if ok else "not ok", self.n, test.id(), self.tag, note))
        sys.stdout.flush()

    def diag(self, text):
        for line in text.rstrip("\n").split("\n"):
            sys.stdout.write("# %s\n" % line)
        sys.stdout.flush()

    def startTest(self, test):
        super().startTest(test)
        faulthandler.dump_traceback_later(TEST_TIMEOUT, exit=True)

    def stopTest(self, test):
        faulthandler.cancel_dump_traceback_later()
        super().stopTest(test)

    def addSuccess(self, test):
        super().addSuccess(test)
        self.line(True, test)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.line(False, test)
        self.diag(self.failures[-1][1])

    def addError(self, test, err):
        super().addError(test, err)
        self.line(False, test)
        self.diag(self.errors[-1][1])

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self.line(True, test, " # SKIP %s" % reason)

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self.line(True, test, " # TODO expected failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self.line(False, test, " # unexpected success")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self.line(False, subtest)
            self.diag((self.failures or self.errors)[-1][1])


def preload_under_tsan(lib):
    """Under ThreadSanitizer, run again with libweft preloaded.

    Loaded by dlopen, libweft's thread-locals live in dynamic TLS, which
    glibc frees when it reuses a finished thread's stack; TSan does not see
    that reuse as ordered after the thread's last writes and reports a
    race in _dl_deallocate_tls for every weft thread.  Preloaded, the
    library's TLS is static and the false reports go."""
    preload = os.environ.get("LD_PRELOAD", "")
    if os.environ.get("SANITIZER") != "tsan" or lib in preload.split():
        return
    os.environ["LD_PRELOAD"] = (preload + " " + lib).strip()
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable] + sys.argv)


def main(backend):
    faulthandler.enable()
    if not os.environ.get("WEFT_LIB"):
        sys.stdout.write("Bail out! WEFT_LIB is not set (run through "
                         "make check)\n")
        sys.exit(1)
    preload_under_tsan(os.environ["WEFT_LIB"])
    if backend == "swig" and not swig_module_built():
        sys.stdout.write("1..0 # SKIP the SWIG module is not built "
                         "(configure found no SWIG or Python headers)\n")
        sys.exit(0)
    os.environ["WEFT_BACKEND"] = backend
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"  # children too
    sys.path[:0] = [HERE] + package_path()
    os.environ["PYTHONPATH"] = os.pathsep.join(
        package_path() + [p for p in [os.environ.get("PYTHONPATH")] if p])
    import weft
    if weft.backend != backend:
        sys.stdout.write("Bail out! asked for the %s backend, got %s\n"
                         % (backend, weft.backend))
        sys.exit(1)
    suite = unittest.TestSuite(
        unittest.defaultTestLoader.loadTestsFromName(name)
        for name in SUITES)
    result = TapResult(backend)
    suite.run(result)
    sys.stdout.write("1..%d\n" % result.n)
    sys.stdout.flush()
    # Exit as a Python program does: the interpreter waits for non-daemon
    # weft threads a failed test may have left running.
    sys.exit(0 if result.wasSuccessful() else 1)
