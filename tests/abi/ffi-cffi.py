"""ffi-cffi.py - "any FFI can call it": abi/weft.h, preprocessed with
`$CC -E -P -DWEFT_CDEF`, parses with cffi's cdef(), and calls through
cffi's ABI mode (ffi.dlopen) work: the version, a lock round trip, an
error with its message, a constant by name, a callback as a thread's
target (ABI.md 11)."""

import os
import re
import subprocess
import sys

from abitest import Tap, preprocessed_header, weft_lib

WEFT_ESTATE = -10002

t = Tap()
lib_path = weft_lib()
try:
    import cffi
except ImportError:
    # The header is under test, not the interpreter: when the configured
    # Python (pyenv's, say) has no cffi, Debian's python3-cffi will do.
    debian = "/usr/bin/python3"
    if (os.path.realpath(sys.executable) != os.path.realpath(debian)
            and subprocess.call([debian, "-c", "import cffi"],
                                stderr=subprocess.DEVNULL) == 0):
        sys.stdout.flush()
        os.execv(debian, [debian] + sys.argv)
    t.skip_all("cffi is not installed for this Python (pip install cffi, "
               "or Debian's python3-cffi)")

try:
    cdef = preprocessed_header()
except (OSError, subprocess.CalledProcessError) as e:
    t.ok(False, "$CC -E -P -DWEFT_CDEF abi/weft.h preprocesses", str(e))
    t.done()
t.ok("weft_version" in cdef and "#" not in cdef,
     "$CC -E -P -DWEFT_CDEF abi/weft.h gives declarations only", cdef[:2000])

ffi = cffi.FFI()
try:
    ffi.cdef(cdef)
    parsed = True
except Exception as e:  # cffi.CDefError and friends
    parsed = False
    t.ok(False, "cffi's cdef() parses the preprocessed header",
         "cffi %s: %s" % (cffi.__version__, e))
    t.done()
t.ok(parsed, "cffi's cdef() parses the preprocessed header")
t.ok(ffi.sizeof("weft_handle") == 8 and ffi.sizeof("weft_status") == 4,
     "cffi sees weft_handle as 8 bytes and weft_status as 4")

try:
    C = ffi.dlopen(lib_path)
except OSError as e:
    t.ok(False, "ffi.dlopen(WEFT_LIB) loads the library", str(e))
    t.done()
t.ok(True, "ffi.dlopen(WEFT_LIB) loads the library")


def check(name, fn):
    """Run one numbered check; a missing symbol or an exception fails it."""
    try:
        res = fn()
    except Exception as e:  # AttributeError for a symbol not exported
        t.ok(False, name, "%s: %s" % (type(e).__name__, e))
        return
    if isinstance(res, tuple):
        t.ok(res[0], name, res[1])
    else:
        t.ok(res, name)


def version():
    v = ffi.string(C.weft_version()).decode()
    n = C.weft_version_number()
    m = re.match(r"(\d+)\.(\d+)\.(\d+)$", v)
    want = m and int(m.group(1)) * 10000 + int(m.group(2)) * 100 + \
        int(m.group(3))
    return (m is not None and n == want,
            "weft_version() %r, weft_version_number() %d" % (v, n))


check("weft_version() and weft_version_number() agree", version)


def lock_round_trip():
    h = ffi.new("weft_handle *")
    locked = ffi.new("int *")
    steps = []
    steps.append(("lock_new", C.weft_lock_new(h), 0))
    steps.append(("handle in (0, 2^53)", int(0 < h[0] < 2 ** 53), 1))
    steps.append(("lock_acquire", C.weft_lock_acquire(h[0], 0.0), 0))
    steps.append(("lock_locked", C.weft_lock_locked(h[0], locked), 0))
    steps.append(("locked after acquire", locked[0], 1))
    steps.append(("lock_release", C.weft_lock_release(h[0]), 0))
    C.weft_lock_locked(h[0], locked)
    steps.append(("locked after release", locked[0], 0))
    steps.append(("close", C.weft_close(h[0]), 0))
    steps.append(("lock_locked after close",
                  C.weft_lock_locked(h[0], locked), -10000))
    bad = ["%s: got %d, want %d" % s for s in steps if s[1] != s[2]]
    return (not bad, "\n".join(bad))


check("a lock round trip: new, acquire, locked, release, close",
      lock_round_trip)


def error_message():
    h = ffi.new("weft_handle *")
    if C.weft_lock_new(h) != 0:
        return (False, "lock_new failed")
    st = C.weft_lock_release(h[0])
    msg = ffi.string(C.weft_last_error_message()).decode()
    name = ffi.string(C.weft_err_name(st)).decode()
    code = C.weft_last_error_code()
    C.weft_close(h[0])
    return (st == WEFT_ESTATE and code == st and name == "WEFT_ESTATE"
            and msg.startswith("lock_release"),
            "status %d (%s), last code %d, message %r" % (st, name, code, msg))


check("releasing an unlocked lock gives WEFT_ESTATE, its name and a "
      "message", error_message)


def constant():
    v = ffi.new("int64_t *")
    st = C.weft_constant_get(b"WEFT_ESTATE", v)
    return (st == 0 and v[0] == WEFT_ESTATE, "status %d value %d" % (st, v[0]))


check("weft_constant_get reads WEFT_ESTATE by name", constant)


def callback():
    seen = []

    @ffi.callback("weft_thread_fn")
    def target(arg):
        seen.append(int(ffi.cast("intptr_t", arg)))
        return 7

    h = ffi.new("weft_handle *")
    result = ffi.new("int *")
    steps = [("thread_new", C.weft_thread_new(target, ffi.cast("void *", 42),
                                              b"cffi", h), 0)]
    steps.append(("thread_start", C.weft_thread_start(h[0]), 0))
    steps.append(("thread_join", C.weft_thread_join(h[0], 30.0), 0))
    steps.append(("thread_get_result",
                  C.weft_thread_get_result(h[0], result), 0))
    steps.append(("result", result[0], 7))
    steps.append(("arg seen by the target", seen[0] if seen else -1, 42))
    steps.append(("close", C.weft_close(h[0]), 0))
    bad = ["%s: got %d, want %d" % s for s in steps if s[1] != s[2]]
    return (not bad, "\n".join(bad))


check("a cffi callback (weft_thread_fn) runs as a thread's target",
      callback)
t.done()
