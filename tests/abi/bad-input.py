"""bad-input.py - every exported function, loaded through ctypes with the
manifest's argtypes and restype, returns an error for bad input and never
crashes (ABI.md 2, 3).

For each function (one TAP line each):
  - each weft_handle argument gets 0, -1, 2^53, INT64_MAX, a closed handle
    and a wrong-kind handle, the other arguments being valid: the call must
    return WEFT_EBADHANDLE;
  - each out-pointer gets NULL (handles valid): WEFT_EVALUE, or WEFT_ERANGE
    / WEFT_EVALUE for an output buffer followed by its `cap`;
  - after each failure, weft_last_error_code() is that status and
    weft_last_error_message() starts with the operation ("lock_acquire: ");
  - a control call with every handle valid (fresh objects) must not give
    WEFT_EBADHANDLE, so the "valid" handles above really are valid;
  - functions without handles or out-pointers are in SPECIAL (a bad value
    that must fail, or a harmless call); those that cannot fail (no
    weft_status result) are called and must not crash.

The calls run in child processes (this script with --child N), which
print a marker before and after each call; a child that dies (signal,
sanitizer report) blames the call it had begun, and a new child goes on
after it.  Children inherit the environment, so a sanitizer build's
LD_PRELOAD (set by tests/run-host) reaches them.
"""

import ctypes
import json
import os
import socket
import subprocess
import sys

from abitest import Tap, load_manifest, weft_lib

WEFT_EBADHANDLE = -10000
WEFT_ESTATE = -10002
WEFT_EVALUE = -10003
WEFT_ERANGE = -10004

# Bad handle values; "closed" and "wrong kind" are made per call.
BAD_HANDLES = [("0", 0), ("-1", -1), ("2^53", 2 ** 53),
               ("INT64_MAX", 2 ** 63 - 1), ("a closed handle", "closed"),
               ("a wrong-kind handle", "wrong")]

# What kind of handle an argument takes, by its name in the header, and
# how to make one.  "any" takes every kind (weft_close).
ARG_KINDS = {"h": "any", "thread": "thread", "timer": "timer",
             "lock": "lock", "rlock": "rlock", "cond": "condition",
             "sem": "semaphore", "event": "event", "local": "local",
             "barrier": "barrier", "dispatcher": "dispatcher",
             "sock": "socket", "poller": "poller", "target": "socket",
             "stream": "stream", "ai": "addrinfo", "type": "ffi",
             "st": "ffi", "lib": "ffi_library", "restype": "ffi",
             "fn": "ffi_function", "signature": "ffi_function",
             "closure": "ffi_closure"}
# Kinds an argument also accepts (a Timer is a Thread; a Condition's lock
# may be an RLock; a poller watches sockets and Events).
ALSO_ACCEPTS = {"thread": ["timer"], "lock": ["rlock"], "socket": ["event"]}
# Arguments for which 0 is a valid handle (documented in weft.h).
ZERO_IS_VALID = {("weft_condition_new", "lock"),
                 ("weft_ffi_function_new", "restype"),  # void
                 ("weft_ffi_library_function", "lib"),  # the process
                 ("weft_signal_set_delivery", "thread")}
# Valid values for particular arguments (default: see valid_value).
VALID_VALUES = {("weft_constant_get", "name"): b"WEFT_EBADHANDLE",
                # No argument types, so argtypes (a buffer of zeros) is
                # not read as handles.
                ("weft_ffi_function_new", "nargs"): 0}
# Valid values by argument name, for every function: an address is
# 127.0.0.1:9 as a struct sockaddr_in; a family AF_INET; a mode "r".
SOCKADDR_IN = (socket.AF_INET.to_bytes(2, sys.byteorder) + (9).to_bytes(2, "big")
               + bytes([127, 0, 0, 1]) + bytes(8))
VALID_BY_NAME = {"addr": SOCKADDR_IN, "addr_len": len(SOCKADDR_IN),
                 "family": socket.AF_INET, "mode": b"r"}

# Functions with neither a handle nor an out-pointer, returning
# weft_status: what to call them with, and what must come back
# ("negative": any error; "any": only that it does not crash; "skip": not
# called, for a call that blocks by design).
SPECIAL = {
    "weft_sleep": [((-1.0,), [WEFT_EVALUE], "a negative time")],
    "weft_thread_set_stack_size": [
        ((1,), [WEFT_EVALUE], "1 byte"),
        ((32767,), [WEFT_EVALUE], "32767 bytes")],
    "weft_thread_interrupt_main": [
        ((-1,), "negative", "signal -1"),
        ((100000,), "negative", "signal 100000")],
    # Called on the child's main thread, which weft did not start.
    "weft_thread_exit": [((0,), [WEFT_ESTATE], "a thread weft did not start")],
    # Nothing to wait for: returns at once.
    "weft_thread_shutdown": [((0.0,), "any", "timeout 0")],
    "weft_last_error_code": [((), "any", "no arguments")],
    "weft_socket_set_default_timeout": [
        ((float("nan"),), [WEFT_EVALUE], "a NaN timeout")],
    "weft_signal_set": [
        ((0, 1, 0, None, None), [-22], "signal 0"),
        ((65536, 1, 0, None, None), [-22], "signal 65536"),
        ((9, 1, 0, None, None), [-22], "SIGKILL"),
        ((10, 5, 0, None, None), [-22], "an unknown action"),
        ((10, 2, 0, None, None), [WEFT_EVALUE], "a handler without fn")],
    "weft_signal_siginterrupt": [((0, 1), [-22], "signal 0")],
    "weft_signal_raise": [((-1,), [-22], "signal -1"),
                          ((65536,), [-22], "signal 65536")],
    # Removing the check (fn NULL) is always valid.
    "weft_signal_set_check": [((None, None), "any", "no check")],
    # Sleeps until a signal: tests/c/test-signal.c covers it.
    "weft_signal_pause": [((), "skip", "blocks until a signal")],
    # The ffi memory helpers: only a NULL address can be checked.
    "weft_ffi_write_int": [((None, 0, ord("i"), 1), [WEFT_EVALUE],
                            "a NULL address")],
    "weft_ffi_write_double": [((None, 0, ord("d"), 1.0), [WEFT_EVALUE],
                               "a NULL address")],
    "weft_ffi_memmove": [((None, None, 1), [WEFT_EVALUE], "NULL addresses")],
    "weft_ffi_memset": [((None, 0, 1), [WEFT_EVALUE], "a NULL address")],
}
# Values for the int arguments of functions that cannot fail.
ODD_INTS = [0, 1, -1, 2 ** 31 - 1, -2 ** 31, WEFT_EBADHANDLE, -10099]
BUF_LEN = 128  # WEFT_SOCKADDR_MAX: an address buffer must hold that


# ---------------------------------------------------------------------------
# The plan: the same list of calls in the parent and in every child.
# ---------------------------------------------------------------------------

def arg_kind(fn, arg):
    kind = ARG_KINDS.get(arg["name"])
    if kind is None:  # a new module's handle: guess from weft_<area>_
        kind = fn["name"].split("_")[1]
    return kind


def is_buffer(fn, i):
    """Argument i is an output buffer: followed by its size_t cap."""
    args = fn["args"]
    return (i + 1 < len(args) and (args[i + 1]["name"] == "cap" or
                                   args[i + 1]["name"].endswith("_cap"))
            and (args[i]["c"] in ("char *", "void *")
                 or args[i]["ctype"].startswith("POINTER(")))


def is_out_pointer(fn, i):
    a = fn["args"][i]
    return a["ctype"].startswith("POINTER(") or (
        is_buffer(fn, i) and not a["c"].startswith("const"))


def plan(manifest):
    """[(function name, case)]: case is a dict with what (text), arg (the
    bad argument's index or None), bad (the bad value's key), expect."""
    cases = []
    for fn in manifest["functions"]:
        name = fn["name"]
        handles = [i for i, a in enumerate(fn["args"])
                   if a["c"] == "weft_handle"]
        outs = [i for i in range(len(fn["args"])) if is_out_pointer(fn, i)]
        for i in handles:
            a = fn["args"][i]
            for label, bad in BAD_HANDLES:
                if bad == 0 and (name, a["name"]) in ZERO_IS_VALID:
                    continue
                if bad == "wrong" and arg_kind(fn, a) == "any":
                    continue
                cases.append((name, {
                    "what": "%s = %s" % (a["name"], label), "arg": i,
                    "bad": bad, "expect": [WEFT_EBADHANDLE]}))
        for i in outs:
            a = fn["args"][i]
            expect = ([WEFT_ERANGE, WEFT_EVALUE] if is_buffer(fn, i)
                      else [WEFT_EVALUE])
            cases.append((name, {"what": "%s = NULL" % a["name"], "arg": i,
                                 "bad": "null", "expect": expect}))
        if handles:
            cases.append((name, {"what": "every handle valid (control)",
                                 "arg": None, "bad": None,
                                 "expect": "not EBADHANDLE"}))
        if handles or outs:
            continue
        if name in SPECIAL:
            for args, expect, what in SPECIAL[name]:
                cases.append((name, {"what": what, "arg": None, "bad": None,
                                     "special": list(args),
                                     "expect": expect}))
        elif fn["c_restype"] != "weft_status":
            ints = [i for i, a in enumerate(fn["args"])
                    if a["ctype"] in ("c_int", "c_int32", "c_int64")]
            values = ODD_INTS if ints else [None]
            for v in values:
                cases.append((name, {
                    "what": "cannot fail" + ("" if v is None else
                                             ", int arguments %d" % v),
                    "arg": None, "bad": None, "odd_int": v,
                    "expect": ("nonnull" if fn["restype"] == "c_char_p"
                               else "any")}))
        else:
            cases.append((name, {"what": "no bad-input case", "arg": None,
                                 "bad": None, "expect": "missing"}))
    return cases


# ---------------------------------------------------------------------------
# The child: make the calls, print a marker around each.
# ---------------------------------------------------------------------------

class Child(object):
    def __init__(self, manifest):
        self.manifest = manifest
        self.lib = ctypes.CDLL(weft_lib())
        self.fns = dict((f["name"], f) for f in manifest["functions"])
        self.cbtypes = {}
        self.keep = []  # callbacks and buffers that must outlive calls
        for cb in manifest["callbacks"]:
            restype = self.ctype(cb["restype"])
            argtypes = [self.ctype(a["ctype"]) for a in cb["args"]]
            self.cbtypes[cb["name"]] = ctypes.CFUNCTYPE(restype, *argtypes)
        self.noop, self.null = {}, {}
        for cb in manifest["callbacks"]:
            ret = 0 if cb["restype"] else None
            self.noop[cb["name"]] = self.cbtypes[cb["name"]](
                lambda *a, _r=ret: _r)
            self.null[cb["name"]] = self.cbtypes[cb["name"]]()  # NULL

    def ctype(self, spelling):
        if spelling is None:
            return None
        if spelling.startswith("POINTER("):
            return ctypes.POINTER(self.ctype(spelling[8:-1]))
        if spelling in self.cbtypes:
            return self.cbtypes[spelling]
        return getattr(ctypes, spelling)

    def func(self, name):
        """The function with the manifest's types (AttributeError if the
        library does not export it)."""
        fn = self.fns[name]
        f = getattr(self.lib, name)
        f.restype = self.ctype(fn["restype"])
        f.argtypes = [self.ctype(a["ctype"]) for a in fn["args"]]
        return f

    def new_handle(self, kind):
        """A fresh open handle of `kind` ("any": a lock)."""
        out = ctypes.c_int64()
        make = {
            "any": lambda: self.func("weft_lock_new")(ctypes.byref(out)),
            "lock": lambda: self.func("weft_lock_new")(ctypes.byref(out)),
            "rlock": lambda: self.func("weft_rlock_new")(ctypes.byref(out)),
            "condition": lambda: self.func("weft_condition_new")(
                0, ctypes.byref(out)),
            "semaphore": lambda: self.func("weft_semaphore_new")(
                1, ctypes.byref(out)),
            "event": lambda: self.func("weft_event_new")(ctypes.byref(out)),
            "dispatcher": lambda: self.func("weft_dispatcher_new")(
                ctypes.byref(out)),
            # One party, so a control wait returns at once.
            "barrier": lambda: self.func("weft_barrier_new")(
                1, self.null["weft_barrier_action_fn"], None, -1.0,
                ctypes.byref(out)),
            "local": lambda: self.func("weft_local_new")(
                self.null["weft_local_dtor_fn"], None, ctypes.byref(out)),
            "thread": lambda: self.func("weft_thread_new")(
                self.null["weft_thread_fn"], None, b"abi-bad-input",
                ctypes.byref(out)),
            "timer": lambda: self.func("weft_timer_new")(
                3600.0, self.noop["weft_thread_fn"], None,
                b"abi-bad-input", ctypes.byref(out)),
            # Non-blocking, so a control recv or accept returns at once.
            "socket": lambda: self.func("weft_socket_new")(
                socket.AF_INET, socket.SOCK_DGRAM | socket.SOCK_NONBLOCK, 0,
                ctypes.byref(out)),
            "poller": lambda: self.func("weft_poller_new")(
                0, ctypes.byref(out)),
            "stream": lambda: self.new_stream(out),
            "addrinfo": lambda: self.func("weft_addrinfo_new")(
                b"127.0.0.1", b"7", 0, 0, 0, 0, ctypes.byref(out)),
            # A finished empty struct: valid for every ffi call (those
            # that need another sort of type give WEFT_EVALUE).
            "ffi": lambda: self.new_struct(out),
            # The process's own namespace.
            "ffi_library": lambda: self.func("weft_ffi_library_open")(
                None, 0, ctypes.byref(out)),
            # int abs(int): a control call passes args[0] NULL, which is
            # WEFT_EVALUE, and a NULL args too.
            "ffi_function": lambda: self.new_function(out),
            "ffi_closure": lambda: self.new_closure(out),
        }.get(kind)
        if make is None:
            raise RuntimeError("no way to make a %r handle: teach "
                               "tests/abi/bad-input.py" % kind)
        st = make()
        if st != 0 or out.value <= 0:
            raise RuntimeError("cannot make a valid %s handle: status %d "
                               "(%s)" % (kind, st, self.last_message()))
        return out.value

    def new_struct(self, out):
        st = self.func("weft_ffi_struct_new")(0, 0, 0, ctypes.byref(out))
        if st == 0:
            st = self.func("weft_ffi_struct_finish")(out.value)
        return st

    def new_function(self, out):
        t = ctypes.c_int64()
        st = self.func("weft_ffi_type_named")(b"int", ctypes.byref(t))
        if st != 0:
            return st
        address = ctypes.cast(ctypes.CDLL(None).abs, ctypes.c_void_p)
        args = (ctypes.c_int64 * 1)(t.value)
        return self.func("weft_ffi_function_new")(
            address, t.value, args, 1, 0, 0, 0, ctypes.byref(out))

    def new_closure(self, out):
        sig = ctypes.c_int64()
        st = self.new_function(sig)
        if st != 0:
            return st
        return self.func("weft_ffi_closure_new")(
            sig.value, self.noop["weft_ffi_handler_fn"], None,
            ctypes.byref(out))

    def new_stream(self, out):
        """A non-blocking read-write stream over one end of a socket pair
        (the other end stays open, so reads find no data and no EOF)."""
        if not hasattr(self, "pair"):
            self.pair = socket.socketpair()
        st = self.func("weft_stream_new")(self.pair[0].fileno(), b"rw", -1,
                                          ctypes.byref(out))
        if st == 0:
            st = self.func("weft_stream_set_timeout")(out.value, 0.0)
        return st

    def wrong_kind(self, kind):
        accepted = [kind] + ALSO_ACCEPTS.get(kind, [])
        return self.new_handle("lock" if "event" in accepted else "event")

    def closed_handle(self, kind):
        h = self.new_handle(kind)
        st = self.func("weft_close")(h)
        if st != 0:
            raise RuntimeError("cannot close a fresh %s handle: %d"
                               % (kind, st))
        return h

    def last_message(self):
        try:
            m = self.func("weft_last_error_message")()
            return (m or b"").decode("utf-8", "replace")
        except Exception as e:
            return "?(%s)" % e

    def valid_value(self, fn, i):
        a = fn["args"][i]
        c, ct = a["c"], a["ctype"]
        if (fn["name"], a["name"]) in VALID_VALUES:
            return VALID_VALUES[(fn["name"], a["name"])]
        if a["name"] in VALID_BY_NAME and not is_buffer(fn, i) and \
                not ct.startswith("POINTER("):
            return VALID_BY_NAME[a["name"]]
        if c == "weft_handle":
            return self.new_handle(arg_kind(fn, a))
        if ct in self.cbtypes:
            return self.noop[ct]
        if is_buffer(fn, i):
            if ct.startswith("POINTER("):
                buf = (self.ctype(ct[8:-1]) * BUF_LEN)()
            else:
                buf = ctypes.create_string_buffer(BUF_LEN)
            self.keep.append(buf)
            return buf
        if ct.startswith("POINTER("):
            cell = self.ctype(ct[8:-1])()
            self.keep.append(cell)
            return ctypes.byref(cell)
        if c == "const char *":
            return b"weft-abi-test"
        if c == "const void *":
            return b"weft-abi-test"
        if c in ("void *", "char *"):
            return None  # user data (arg, value)
        if a["name"] == "cap" or a["name"].endswith("_cap"):
            return BUF_LEN
        if ct == "c_double":
            return 0.0  # a timeout that polls, an interval of 0
        if a["name"] == "wait":
            return 0  # dispatcher_call: nobody drains the queue here
        return 1  # counts, flags, indexes: 1 is valid for every one so far

    def args_for(self, fn, case):
        if "special" in case:  # None for a callback: its NULL
            return [self.null[a["ctype"]] if v is None and a["ctype"] in
                    self.cbtypes else v
                    for v, a in zip(case["special"], fn["args"])]
        if "odd_int" in case:
            return [case["odd_int"] if case["odd_int"] is not None
                    and a["ctype"] in ("c_int", "c_int32", "c_int64")
                    else self.valid_value(fn, i)
                    for i, a in enumerate(fn["args"])]
        args = []
        for i, a in enumerate(fn["args"]):
            if i != case["arg"]:
                args.append(self.valid_value(fn, i))
            elif case["bad"] == "null":
                args.append(None)
            elif case["bad"] == "closed":
                args.append(self.closed_handle(arg_kind(fn, a)))
            elif case["bad"] == "wrong":
                args.append(self.wrong_kind(arg_kind(fn, a)))
            else:
                args.append(case["bad"])
        return args

    def run(self, name, case):
        """Make one call; a dict with the outcome."""
        if case["expect"] in ("missing", "skip"):
            return {"status": None}
        fn = self.fns[name]
        try:
            f = self.func(name)
        except AttributeError:
            return {"error": "not exported by the library"}
        try:
            args = self.args_for(fn, case)
        except Exception as e:
            return {"error": str(e)}
        res = f(*args)
        out = {"status": res if isinstance(res, int) else None,
               "args": [a if isinstance(a, (int, float)) else
                        (a.decode() if isinstance(a, bytes) else
                         ("NULL" if a is None else "<%s>" % type(a).__name__))
                        for a in args]}
        if fn["restype"] == "c_char_p":
            out["nonnull"] = res is not None
        if isinstance(res, int) and res < 0 and fn["c_restype"] == \
                "weft_status":
            out["last_code"] = self.func("weft_last_error_code")()
            out["last_message"] = self.last_message()
        return out


def child_main(start):
    manifest = load_manifest()
    cases = plan(manifest)
    child = Child(manifest)
    w = sys.stdout.write
    for i in range(start, len(cases)):
        w("BEGIN %d\n" % i)
        sys.stdout.flush()
        result = child.run(*cases[i])
        w("END %d %s\n" % (i, json.dumps(result)))
        sys.stdout.flush()
    w("DONE\n")
    sys.stdout.flush()
    # Skip interpreter teardown: weft's threads may still be about.
    os._exit(0)


# ---------------------------------------------------------------------------
# The parent: run children, judge each function.
# ---------------------------------------------------------------------------

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "WARNING: ThreadSanitizer",
                   "ERROR: ThreadSanitizer", "runtime error:",
                   "ERROR: LeakSanitizer")


def run_children(ncases, mode="--child", timeout=120):
    """{case index: result dict}; crashes and hangs are results too.
    Also the sanitizer reports seen."""
    results, reports = {}, []
    start = 0
    while start < ncases:
        p = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), mode, str(start)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=os.environ.copy(), universal_newlines=True)
        try:
            out, err = p.communicate(timeout=timeout)
            how = None
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            how = "hung (killed after %d s)" % timeout
        begun = None
        for line in out.splitlines():
            parts = line.split(" ", 2)
            if parts[0] == "BEGIN":
                begun = int(parts[1])
            elif parts[0] == "END":
                results[int(parts[1])] = json.loads(parts[2])
                begun = None
        if any(m in err for m in SANITIZER_MARKS):
            reports.append(err)
        if "DONE" in out.splitlines() and p.returncode == 0:
            break
        if how is None:
            how = ("killed by signal %d" % -p.returncode if p.returncode < 0
                   else "exited with status %d" % p.returncode)
        tail = "\n".join(err.strip().splitlines()[-15:])
        if begun is None:
            # Died outside a call: blame the next one, to make progress.
            begun = max(list(results) + [start - 1]) + 1
        results[begun] = {"crash": "%s during the call\n%s" % (how, tail)}
        start = begun + 1
    return results, reports


def judge(fn, case, r):
    """'' if the outcome is right, else what is wrong."""
    if r is None:
        return "no result (the child never reached it)"
    if "crash" in r:
        return "CRASHED: " + r["crash"]
    if "error" in r:
        return r["error"]
    expect, st = case["expect"], r.get("status")
    if expect == "missing":
        return ("no bad-input case: %s takes no handle and no out-pointer; "
                "add it to SPECIAL in tests/abi/bad-input.py" % fn["name"])
    if expect in ("any", "skip"):
        return ""
    if expect == "nonnull":
        return "" if r.get("nonnull") else "returned NULL"
    if expect == "not EBADHANDLE":
        return ("gave WEFT_EBADHANDLE: the test's valid handle is not valid "
                "(%s)" % r.get("last_message", "")
                if st == WEFT_EBADHANDLE else "")
    if expect == "negative":
        ok = st is not None and st < 0
    else:
        ok = st in expect
    if not ok:
        return "returned %s, want %s" % (st, " or ".join(
            str(e) for e in expect) if expect != "negative" else "< 0")
    if r.get("last_code") != st:
        return ("weft_last_error_code() is %s after a call that returned %s"
                % (r.get("last_code"), st))
    op = fn["name"][len("weft_"):]
    msg = r.get("last_message") or ""
    if not msg:
        return "no message in weft_last_error_message()"
    # "socket_bind: ..." or, naming an address, "socket_bind 1.2.3.4:80: ...".
    if not msg.startswith(op + ":") and not msg.startswith(op + " ") \
            and not msg.split(":")[0].endswith(op):
        return ("weft_last_error_message() %r does not start with the "
                "operation (%s: ...)" % (msg, op))
    return ""


def selfcheck_child(start):
    """Cases 0 and 2 return, case 1 dies: the parent must blame case 1."""
    for i in range(start, 3):
        sys.stdout.write("BEGIN %d\n" % i)
        sys.stdout.flush()
        if i == 1:
            os.abort()
        sys.stdout.write('END %d {"status": 0}\n' % i)
        sys.stdout.flush()
    sys.stdout.write("DONE\n")
    sys.stdout.flush()
    os._exit(0)


def main():
    t = Tap()
    weft_lib()
    results, _ = run_children(3, "--selfcheck")
    t.ok(sorted(results) == [0, 1, 2] and "crash" in results[1]
         and "crash" not in results[0] and "crash" not in results[2],
         "a child that dies is blamed on the call it had begun, and the "
         "calls after it still run", repr(results))
    manifest = load_manifest()
    cases = plan(manifest)
    results, reports = run_children(len(cases))
    byfn = {}
    for i, (name, case) in enumerate(cases):
        byfn.setdefault(name, []).append((i, case))
    for fn in manifest["functions"]:
        mine = byfn.get(fn["name"], [])
        problems = []
        for i, case in mine:
            why = judge(fn, case, results.get(i))
            if why and why == (results.get(i) or {}).get("error"):
                if why not in problems:  # say "not exported" once
                    problems.append(why)
            elif why:
                r = results.get(i) or {}
                call = "%s(%s)" % (fn["name"], ", ".join(
                    str(a) for a in r.get("args", [])))
                problems.append("%s [%s]: %s" % (case["what"], call, why))
        calls = "%d call%s" % (len(mine), "" if len(mine) == 1 else "s")
        if all(c["expect"] in ("any", "nonnull") for _, c in mine):
            name = "%s: no crash (%s)" % (fn["name"], calls)
        else:
            name = "%s: bad input rejected, no crash (%s)" % (
                fn["name"], calls)
        t.ok(mine and not problems, name, "\n".join(problems))
    t.ok(not reports, "the children ran without sanitizer reports",
         "\n".join(r[-4000:] for r in reports))
    t.done()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child_main(int(sys.argv[2]))
    elif len(sys.argv) == 3 and sys.argv[1] == "--selfcheck":
        selfcheck_child(int(sys.argv[2]))
    else:
        main()
