"""abitest.py - what the ABI tests share: TAP output, paths, the manifest.

Not a test itself.  The tests run as `tests/run-host $PYTHON <test>.py`
with the environment of AM_TESTS_ENVIRONMENT (top_srcdir, WEFT_LIB,
SANITIZER, CC, ...); run by hand they fall back to this source tree and
its _build*/ library if WEFT_LIB is unset.
"""

import json
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.environ.get("top_srcdir") or os.path.normpath(
    os.path.join(HERE, os.pardir, os.pardir))
sys.path.insert(0, os.path.join(SRCDIR, "tools"))
sys.dont_write_bytecode = True  # no tools/__pycache__ in the source tree

import abi  # noqa: E402  (tools/abi.py)

HEADER = os.path.join(SRCDIR, "abi", "weft.h")
MAP = os.path.join(SRCDIR, "abi", "weft.map")
MANIFEST = os.path.join(SRCDIR, "abi", "weft.manifest.json")
BASELINE = os.path.join(SRCDIR, "abi", "weft.abi")
SANITIZER = os.environ.get("SANITIZER", "")


def weft_lib():
    """The built library: $WEFT_LIB."""
    lib = os.environ.get("WEFT_LIB")
    if not lib:
        sys.stdout.write("Bail out! WEFT_LIB is not set (run through "
                         "make check)\n")
        sys.exit(1)
    return lib


class Tap(object):
    """Minimal TAP producer: ok(), skip(), diag(), done()."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        sys.stdout.write("%s %d - %s\n" % ("ok" if cond else "not ok",
                                           self.n, name))
        if not cond:
            self.failed += 1
            if diag:
                self.diag(diag)
        sys.stdout.flush()
        return cond

    def skip(self, name, reason):
        self.n += 1
        sys.stdout.write("ok %d - %s # SKIP %s\n" % (self.n, name, reason))

    def diag(self, text):
        for line in str(text).rstrip("\n").split("\n"):
            sys.stdout.write("# %s\n" % line)
        sys.stdout.flush()

    def skip_all(self, reason):
        sys.stdout.write("1..0 # SKIP %s\n" % reason)
        sys.exit(0)

    def done(self):
        sys.stdout.write("1..%d\n" % self.n)
        sys.stdout.flush()
        sys.exit(1 if self.failed else 0)


def load_manifest():
    with open(MANIFEST, encoding="utf-8") as f:
        return json.load(f)


def cc_command():
    """$CC as an argument list (it may carry flags)."""
    return shlex.split(os.environ.get("CC") or "cc")


def preprocessed_header():
    """abi/weft.h through `$CC -E -P -DWEFT_CDEF`: what cffi's cdef() and
    LuaJIT's ffi.cdef() read."""
    return subprocess.check_output(
        cc_command() + ["-E", "-P", "-DWEFT_CDEF", HEADER],
        universal_newlines=True, env=abi.tool_env())


def same_set(a, b, a_name, b_name):
    """'' if the lists name the same set, else what differs."""
    a, b = set(a), set(b)
    out = []
    if a - b:
        out.append("in %s, not in %s: %s" % (a_name, b_name,
                                            " ".join(sorted(a - b))))
    if b - a:
        out.append("in %s, not in %s: %s" % (b_name, a_name,
                                            " ".join(sorted(b - a))))
    return "\n".join(out)


def duplicates(names):
    seen, dup = set(), []
    for n in names:
        if n in seen:
            dup.append(n)
        seen.add(n)
    return dup
