"""The ctypes backend: libweft.so through ctypes, nothing compiled.

Every wrapper is generated at import from the ABI manifest, which sets
the argtypes and restype of each function, so the wrappers cannot drift
from the library.  The rules they follow are in _rules.py; the SWIG
backend follows the same ones.

Signals: a call retried after -EINTR (_rules.RETRY_EINTR) first raises
what a signal handler raised during it (_eintr); any other -EINTR becomes
that exception in _errors.error.  check_signals() is PyErr_CheckSignals.

Callbacks: C gets one trampoline per callback type (a CFUNCTYPE object
that lives as long as the module) and, as its ``void *arg``, a key into
``_cells``, which holds the Python callable.  A call with a key that is no
longer there does nothing, so C can never reach a collected callable.
"""

import ctypes
import errno
import operator
import os
import time
import _thread
from ctypes import byref

from . import _errors, _manifest, _rules

__all__ = []  # filled with the generated functions

# ---------------------------------------------------------------------------
# The library
# ---------------------------------------------------------------------------


def _library_candidates():
    """$WEFT_LIB, else the installed copy next to this package's prefix
    (recorded at install time), else whatever the loader finds."""
    env = os.environ.get("WEFT_LIB")
    if env:
        return [env]
    out = []
    try:
        from . import _paths  # written by `make install`
        out.append(os.path.join(_paths.LIBDIR, "libweft.so.0"))
    except ImportError:
        pass
    out.append("libweft.so.0")
    return out


def _load():
    errors = []
    for candidate in _library_candidates():
        try:
            # One library, two views: calls through CDLL release the GIL,
            # calls through PyDLL keep it (_rules.KEEP_GIL).
            return ctypes.CDLL(candidate), ctypes.PyDLL(candidate), candidate
        except OSError as e:
            errors.append(str(e))
    raise ImportError("weft: cannot load libweft: " + "; ".join(errors))


_lib, _lib_gil, LIBRARY = _load()

# ---------------------------------------------------------------------------
# Cells: the callables C may call, by key
# ---------------------------------------------------------------------------

_cells = {}  # id(callable) -> [callable, registrations]
_cells_mu = _thread.allocate_lock()


def _cell_add(fn):
    if not callable(fn):
        raise TypeError("expected a callable or None, not %s"
                        % type(fn).__name__)
    key = id(fn)  # unique while the cell holds fn
    with _cells_mu:
        cell = _cells.get(key)
        if cell is None:
            _cells[key] = [fn, 1]
        else:
            cell[1] += 1
    return key


def _cell_drop(key):
    with _cells_mu:
        cell = _cells.get(key)
        if cell is not None:
            cell[1] -= 1
            if cell[1] == 0:
                del _cells[key]
            return cell[0]
    return None


def _cell_get(key):
    cell = _cells.get(key)
    return cell[0] if cell is not None else None


def forget(fn):
    """Drop one registration of fn: C will not call it any more (its
    handle is closed, or the one call it was for cannot happen)."""
    _cell_drop(id(fn))


def cell_count():
    """Registrations alive (for tests: nothing leaks)."""
    with _cells_mu:
        return sum(cell[1] for cell in _cells.values())


_UNRAISABLE = "Exception ignored in"  # as PyErr_WriteUnraisable (SWIG)


def _result(r):
    """A callable's return value as a C int: None is 0 (success), an int
    its value (-1 outside the int range), anything else 0."""
    if r is None or not isinstance(r, int):
        return 0
    return r if -2 ** 31 <= r < 2 ** 31 else -1


def _trampoline(cb, proto):
    """The C function pointer for callback type cb: it finds the callable
    by key and calls it with the arguments after `arg`."""
    take = _cell_drop if cb["name"] in _rules.ONESHOT else _cell_get
    if cb["restype"] is None:
        def tramp(key, *args):
            fn = take(key)
            if fn is not None:
                try:
                    fn(*args)
                except SystemExit:
                    pass
                except BaseException as e:
                    _errors.unraisable(e, fn, _UNRAISABLE)
    else:
        def tramp(key, *args):
            fn = take(key)
            if fn is None:
                return 0
            try:
                return _result(fn(*args))
            except SystemExit:
                return 0
            except BaseException as e:
                _errors.unraisable(e, fn, _UNRAISABLE)
                return -1
    return proto(tramp)


# ---------------------------------------------------------------------------
# Wrappers generated from the manifest
# ---------------------------------------------------------------------------

ETIMEDOUT = errno.ETIMEDOUT
WEFT_ERANGE = -10004
SOCKADDR_MAX = 128  # WEFT_SOCKADDR_MAX: the header's, fixed by the ABI


def _ctype(spelling, callbacks):
    """A manifest ctype spelling ("c_int64", "POINTER(c_int)", a callback
    typedef name) as a ctypes type."""
    if spelling in callbacks:
        return callbacks[spelling]
    if spelling.startswith("POINTER(") and spelling.endswith(")"):
        return ctypes.POINTER(_ctype(spelling[8:-1], callbacks))
    return getattr(ctypes, spelling)


def _int_range(ctype):
    bits = 8 * ctypes.sizeof(getattr(ctypes, ctype))
    if ctype.startswith("c_u") or ctype == "c_size_t":
        return 0, 2 ** bits - 1
    return -2 ** (bits - 1), 2 ** (bits - 1) - 1


_INT_RANGES = {t: _int_range(t) for t in (
    "c_int", "c_uint", "c_int32", "c_uint32", "c_int64", "c_uint64",
    "c_size_t")}


def _decode(b):
    return b.decode("utf-8", "surrogateescape")


def _cstr(s):
    """An input string: str (as UTF-8), bytes, or None (NULL)."""
    if s is None:
        return None
    if isinstance(s, str):
        s = s.encode("utf-8", "surrogateescape")
    elif not isinstance(s, bytes):
        raise TypeError("expected str, bytes or None, not %s"
                        % type(s).__name__)
    if b"\0" in s:
        raise ValueError("embedded null character")
    return s


def _raise(st):
    """Raise the exception for status st (on the thread that got it, so
    the last error is this call's)."""
    raise _errors.error(st, _decode(_f_err_name(st)),
                        _decode(_f_last_error_message()),
                        _f_last_error_detail())


def _raise_written(st, written):
    """_raise for a call that did part of its work first (_rules.RESUME):
    the exception says how much in characters_written, as io's
    BlockingIOError does."""
    e = _errors.error(st, _decode(_f_err_name(st)),
                      _decode(_f_last_error_message()),
                      _f_last_error_detail())
    e.characters_written = written
    raise e


def _argument_error(e):
    """ctypes' ArgumentError ("argument 2: TypeError: ...") as the
    exception inside it."""
    text = str(e)
    cls = OverflowError if "OverflowError" in text else TypeError
    return cls(text)


def _not_bytes(obj):
    return TypeError("a bytes-like object is required, not '%s'"
                     % type(obj).__name__)


def _bytes_in(obj, lengths_too=False):
    """Bytes in (_rules.py): (what ctypes passes as the pointer, length).
    bytes pass as they are; a writable buffer by address; a read-only one
    that is not bytes as a copy (pure ctypes has no way to its address);
    None is (NULL, 0); with lengths_too an int n is (NULL, n)."""
    if obj.__class__ is bytes:
        return obj, len(obj)
    if obj is None:
        return None, 0
    if lengths_too and isinstance(obj, int):
        return None, obj
    if isinstance(obj, str):
        raise _not_bytes(obj)
    try:
        view = memoryview(obj)
    except TypeError:
        raise _not_bytes(obj) from None
    if not view.c_contiguous:
        raise BufferError("a C-contiguous buffer is required")
    n = view.nbytes
    if view.readonly:
        return view.tobytes(), n
    return (ctypes.c_char * n).from_buffer(view), n


def _bytes_out(obj):
    """A bytes-out argument that is not an int: a writable buffer, as a
    ctypes array over it."""
    if isinstance(obj, (str, bytes)):
        raise TypeError("expected an int or a writable bytes-like object, "
                        "not %s" % type(obj).__name__)
    try:
        view = memoryview(obj)
    except TypeError:
        raise TypeError("expected an int or a writable bytes-like object, "
                        "not %s" % type(obj).__name__) from None
    if view.readonly:
        raise TypeError("expected an int or a writable bytes-like object, "
                        "not read-only %s" % type(obj).__name__)
    if not view.c_contiguous:
        raise BufferError("a C-contiguous buffer is required")
    return (ctypes.c_char * view.nbytes).from_buffer(view)


def _array_in(item, seq, lo, hi, what):
    """An array in: a ctypes array of item from a sequence of ints."""
    values = [operator.index(v) for v in seq]
    if values and (min(values) < lo or max(values) > hi):
        raise OverflowError("%s: a value is out of range" % what)
    return (item * len(values))(*values)


_PyErr_CheckSignals = ctypes.pythonapi.PyErr_CheckSignals
_PyErr_CheckSignals.restype = ctypes.c_int
_PyErr_CheckSignals.argtypes = []


def check_signals():
    """Run Python's pending signal handlers now (PyErr_CheckSignals; on
    the main thread only, elsewhere nothing): the exception one raises
    is raised here."""
    _PyErr_CheckSignals()  # a PyDLL function: ctypes raises the error


def install_signal_check():
    """Make Python's own signal handlers (Ctrl-C's KeyboardInterrupt, the
    standard signal module's) interrupt the main thread's blocking weft
    calls (weft_signal_set_check).

    The check must not run Python code: a ctypes callback's first line
    runs Python's pending signal handlers, and an exception of theirs
    there escapes the callback, where ctypes drops it, and the Ctrl-C is
    lost.  So the check is a C function, Py_IsInitialized (which ignores
    weft's arg): while Python lives, any signal that interrupts the main
    thread's wait ends the call with -EINTR, and the wrapper, back in
    Python, runs the handlers between two bytecodes and calls again with
    the time left (RETRY_EINTR).  (The SWIG backend's check calls
    PyErr_CheckSignals from C inside the wait instead.)"""
    try:
        f = _bare("weft_signal_set_check", ctypes.c_int,
                  [ctypes.c_void_p, ctypes.c_void_p])
    except AttributeError:  # a libweft without the signal module
        return
    f(ctypes.cast(ctypes.pythonapi.Py_IsInitialized, ctypes.c_void_p), None)


def _eintr(written=None):
    """After -EINTR in a call that is retried (_rules.RETRY_EINTR): raise
    the exception a signal handler raised during the call, if one did,
    or the one Python's own pending handlers raise now; return to retry.
    For a call that did part of its work (_rules.RESUME), the exception
    says how much in characters_written."""
    exc = _errors.take_pending()
    try:
        if exc is not None:
            raise exc
        _PyErr_CheckSignals()
    except BaseException as e:
        if written is not None:
            try:
                e.characters_written = written
            except (AttributeError, TypeError):
                pass
        raise


def _deadline(timeout):
    """Where the time of a RETRY_EINTR call's timeout ends (None: no
    end)."""
    try:
        return time.monotonic() + timeout if timeout > 0 else None
    except TypeError:  # ctypes will refuse it
        return None


def _missing(cname):
    def missing(*args, **kwargs):
        raise _errors.NotSupportedError(
            _errors.WEFT_ERR_BASE - 8, "WEFT_ENOTSUP",
            "%s: not in the loaded libweft (%s)" % (cname, LIBRARY))
    missing.__name__ = _rules.pyname(cname)
    return missing


def _range_check(name, ctype, c):
    lo, hi = _INT_RANGES[ctype]
    return ("if not %d <= %s <= %d: raise OverflowError(%r)"
            % (lo, name, hi, "%s out of range for %s" % (name, c)))


class _Gen(object):
    """The source of one wrapper, built argument by argument.

    The body is: checks (argument conversions), once (what is done
    before the first call), then the call; a call that may be made again
    (an output buffer that grows on WEFT_ERANGE, a RETRY_EINTR call) runs
    in a loop whose every round does setup first."""

    def __init__(self, fn, callbacks):
        self.fn = fn
        self.cname = fn["name"]
        self.callbacks = callbacks
        self.params = []   # Python parameters
        self.checks = []   # argument checks and conversions, first
        self.once = []     # then lines run once before the first call
        self.setup = []    # lines before each call
        self.cargs = []    # C argument expressions
        self.outs = []     # expressions of the returned values
        self.cells = []    # keys registered for this call
        self.grow = []     # (condition, lines) per buffer that may grow
        self.resume = None  # RESUME: (bytes-in name, out variable)
        self.bytes_in = {}  # bytes-in parameter -> (pointer, length) vars

    def build(self):
        args = self.fn["args"]
        i = 0
        while i < len(args):
            i += self.arg(args, i)
        return self.source()

    def arg(self, args, i):
        a = args[i]
        name, ctype, c = a["name"], a["ctype"], a["c"]
        rest = [x["c"] for x in args[i + 1:i + 3]]
        if ctype in self.callbacks and i + 1 < len(args) \
                and args[i + 1]["ctype"] == "c_void_p":
            # (callback, void *arg): one Python callable, or None
            self.params.append(name)
            key = "k_" + name
            self.once.append("%s = _cell_add(%s) if %s is not None else None"
                             % (key, name, name))
            self.cells.append(key)
            self.cargs.append("_tramp_%s if %s is not None else _null_%s"
                              % (ctype, name, ctype))
            self.cargs.append(key)
            return 2
        if c == "char *" and rest == ["size_t", "size_t *"]:
            # (buf, cap, len): a string, retried with the reported size
            b, cap, n = "b_" + name, "c_" + name, "n_" + name
            self.once.append("%s = 64" % cap)
            self.setup.append("%s = _create_string_buffer(%s)" % (b, cap))
            self.setup.append("%s = _c_size_t()" % n)
            self.grow.append(("%s.value >= %s" % (n, cap),
                              "%s = %s.value + 1" % (cap, n)))
            self.cargs += [b, cap, "_byref(%s)" % n]
            self.outs.append("_decode(%s.raw[:%s.value])" % (b, n))
            return 3
        if c == "void *" and rest == ["size_t", "size_t *"] \
                and name == "addr":
            # an address out: bytes, from a WEFT_SOCKADDR_MAX buffer
            b, n = "a_" + name, "n_" + name
            self.once.append("%s = _create_string_buffer(%d)"
                             % (b, SOCKADDR_MAX))
            self.setup.append("%s = _c_size_t()" % n)
            self.cargs += [b, str(SOCKADDR_MAX), "_byref(%s)" % n]
            self.outs.append("%s.raw[:%s.value]" % (b, n))
            return 3
        if c == "void *" and rest == ["size_t", "size_t *"]:
            # bytes out: an int (the most wanted; bytes returned, grown on
            # WEFT_ERANGE) or a writable buffer (filled; the count)
            self.params.append(name)
            w, b, cap, n = "w_" + name, "b_" + name, "c_" + name, \
                "n_" + name
            self.checks += [
                "if %s.__class__ is int or isinstance(%s, int):"
                % (name, name),
                "    " + _range_check(name, "c_size_t", "size_t"),
                "    %s, %s = None, %s" % (w, cap, name),
                "else:",
                "    %s = _bytes_out(%s)" % (w, name),
                "    %s = _sizeof(%s)" % (cap, w)]
            self.setup.append("%s = _create_string_buffer(%s) if %s is None "
                              "else %s" % (b, cap, w, w))
            self.setup.append("%s = _c_size_t()" % n)
            self.grow.append(("%s is None and %s.value > %s" % (w, n, cap),
                              "%s = %s.value" % (cap, n)))
            self.cargs += [b, cap, "_byref(%s)" % n]
            self.outs.append("_string_at(%s, %s.value) if %s is None else "
                             "%s.value" % (b, n, w, n))
            return 3
        if ctype.startswith("POINTER(") and rest == ["size_t", "size_t *"]:
            # (T *buf, cap, n): a list, retried with the reported count
            item = ctype[8:-1]
            b, cap, n = "b_" + name, "c_" + name, "n_" + name
            self.once.append("%s = 64" % cap)
            self.setup.append("%s = (_ct.%s * %s)()" % (b, item, cap))
            self.setup.append("%s = _c_size_t()" % n)
            self.grow.append(("%s.value > %s" % (n, cap),
                              "%s = %s.value" % (cap, n)))
            self.cargs += [b, cap, "_byref(%s)" % n]
            self.outs.append("%s[:%s.value]" % (b, n))
            return 3
        if ctype.startswith("POINTER(") and i + 3 < len(args) \
                and args[i + 1]["ctype"].startswith("POINTER(") \
                and [x["c"] for x in args[i + 2:i + 4]] == ["size_t",
                                                            "size_t *"]:
            # (T1 *a, T2 *b, cap, n): cap in, a list of (a[i], b[i]) out
            second, cap, n = args[i + 1]["name"], args[i + 2]["name"], \
                args[i + 3]["name"]
            a1, a2, o = "p_" + name, "p_" + second, "n_" + n
            self.params.append(cap)
            self.checks.append(_range_check(cap, "c_size_t", "size_t"))
            self.once.append("%s = (_ct.%s * %s)()" % (a1, ctype[8:-1], cap))
            self.once.append("%s = (_ct.%s * %s)()"
                             % (a2, args[i + 1]["ctype"][8:-1], cap))
            self.setup.append("%s = _c_size_t()" % o)
            self.cargs += [a1, a2, cap, "_byref(%s)" % o]
            self.outs.append("list(zip(%s[:%s.value], %s[:%s.value]))"
                             % (a1, o, a2, o))
            return 4
        if ctype.startswith("POINTER(") and rest[:1] == ["size_t"] \
                and rest[1:] != ["size_t *"]:
            # (T *a, size_t n): an array in (a sequence of ints); returned
            # as C left it unless it is const
            item = ctype[8:-1]
            lo, hi = _INT_RANGES[item]
            arr = "p_" + name
            self.params.append(name)
            self.once.append("%s = _array_in(_ct.%s, %s, %d, %d, %r)"
                             % (arr, item, name, lo, hi, name))
            self.cargs += [arr, "len(%s)" % arr]
            if not c.startswith("const "):
                self.outs.append("list(%s)" % arr)
            return 2
        if c == "const void *" and rest[:1] == ["size_t"]:
            # bytes in: any bytes-like object (None: NULL, 0)
            self.params.append(name)
            ptr, n = "p_" + name, "l_" + name
            self.bytes_in[name] = (ptr, n)
            if self.cname in _rules.NULL_WITH_LENGTH:
                self.checks.append("%s, %s = _bytes_in(%s, True)"
                                   % (ptr, n, name))
                self.checks.append(_range_check(n, "c_size_t", "size_t"))
            else:
                self.checks += [
                    "if %s.__class__ is bytes:" % name,
                    "    %s, %s = %s, len(%s)" % (ptr, n, name, name),
                    "else:",
                    "    %s, %s = _bytes_in(%s)" % (ptr, n, name)]
            self.cargs += [ptr, n]
            return 2
        if c == "const char *":
            self.params.append(name)
            self.checks.append("%s = _cstr(%s)" % (name, name))
            self.cargs.append(name)
            return 1
        if ctype.startswith("POINTER("):
            # an out-parameter
            item = ctype[8:-1]
            var = "o_" + name
            self.setup.append("%s = _ct.%s()" % (var, item))
            self.cargs.append("_byref(%s)" % var)
            if _rules.RESUME.get(self.cname) == name:
                self.resume = var
                self.outs.append("_done + %s.value" % var)
            else:
                self.outs.append("%s.value or 0" % var if item == "c_void_p"
                                 else "%s.value" % var)
            return 1
        self.params.append(name)
        self.cargs.append(name)
        if ctype in _INT_RANGES:
            # ctypes would silently wrap an int that does not fit (a
            # handle + 2^64 would name the same handle); SWIG refuses it.
            self.checks.append(_range_check(name, ctype, c))
        return 1

    def call(self, expr, ind):
        """`st = expr`, with ctypes' ArgumentError as the TypeError (or
        OverflowError) that SWIG raises, after dropping this call's cells."""
        lines = ["try:", "    st = " + expr, "except _ArgumentError as e:"]
        lines += ["    %s is None or _cell_drop(%s)" % (k, k)
                  for k in self.cells]
        lines.append("    raise _argument_error(e) from None")
        return [ind + line for line in lines]

    def retry_eintr(self):
        """The lines that prepare another call after -EINTR."""
        if self.resume is not None:
            lines = ["_eintr(_done + %s.value)" % self.resume]
        else:
            lines = ["_eintr()"]
        timeout = _rules.RETRY_EINTR[self.cname]
        if timeout is not None:
            lines.append("if _dl is not None:")
            lines.append("    %s = max(_dl - _monotonic(), 0.0)" % timeout)
        if self.resume is not None:
            (name, (ptr, n)), = self.bytes_in.items()
            lines.append("_done += %s.value" % self.resume)
            lines.append("%s, %s = _bytes_in(memoryview(%s)[_done:])"
                         % (ptr, n, name))
        return lines

    def source(self):
        fn = self.fn
        cname = self.cname
        call = "_f(%s)" % ", ".join(self.cargs)
        checked = (fn["c_restype"] == "weft_status"
                   and cname not in _rules.STATUS_VALUE)
        retry = cname in _rules.RETRY_EINTR
        body = self.checks + self.once
        if retry and _rules.RETRY_EINTR[cname] is not None:
            body.append("_dl = _deadline(%s)" % _rules.RETRY_EINTR[cname])
        if self.resume is not None:
            body.append("_done = 0")
        loop = bool(self.grow) or retry
        ind = "    " if loop else ""
        if loop:
            body.append("while True:")
        body += [ind + line for line in self.setup]
        if cname in _rules.POLL_FIRST:
            timeout = self.params[1]
            # Only a float or an int (not NaN) may skip ctypes' checks.
            body += self.call("_f_gil(%s, 0.0) if %s.__class__ in _NUMBERS "
                              "and %s == %s else %d"
                              % (self.params[0], timeout, timeout, timeout,
                                 -ETIMEDOUT), ind)
            body.append(ind + "if st == %d and %s != 0:" % (-ETIMEDOUT,
                                                           timeout))
            body += self.call(call, ind + "    ")
        else:
            body += self.call(call, ind)
        if self.grow:
            body.append(ind + "if st == %d:" % WEFT_ERANGE)
            if len(self.grow) == 1:
                cond, line = self.grow[0]
                body.append(ind + "    if %s:" % cond)
                body.append(ind + "        " + line)
                body.append(ind + "        continue")
            else:
                body.append(ind + "    _grew = False")
                for cond, line in self.grow:
                    body.append(ind + "    if %s:" % cond)
                    body.append(ind + "        " + line)
                    body.append(ind + "        _grew = True")
                body.append(ind + "    if _grew:")
                body.append(ind + "        continue")
        if retry:
            body.append(ind + "if st == %d:" % -errno.EINTR)
            body += [ind + "    " + line for line in self.retry_eintr()]
            body.append(ind + "    continue")
        if loop:
            body.append(ind + "break")
        if not checked:
            if fn["restype"] == "c_char_p":
                body.append("return _decode(st) if st is not None else None")
            else:
                body.append("return st")
            return self.wrap(body)
        if cname in _rules.TIMED and not self.outs:
            body.append("if st == 0:")
            body.append("    return True")
            body.append("if st == %d:" % -ETIMEDOUT)
            body.append("    return False")
            body += ["%s is None or _cell_drop(%s)" % (k, k)
                     for k in self.cells]
            body.append("_raise(st)")
            return self.wrap(body)
        if cname in _rules.EMPTY_ON_TIMEOUT:
            body.append("if st < 0 and st != %d:" % -ETIMEDOUT)
        else:
            body.append("if st < 0:")
        body += ["    %s is None or _cell_drop(%s)" % (k, k)
                 for k in self.cells]
        if self.resume is not None:
            body.append("    _raise_written(st, _done + %s.value)"
                        % self.resume)
        else:
            body.append("    _raise(st)")
        if len(self.outs) == 1:
            body.append("return " + self.outs[0])
        elif self.outs:
            body.append("return (%s)" % ", ".join(self.outs))
        return self.wrap(body)

    def wrap(self, body):
        return "def %s(%s):\n%s\n" % (
            _rules.pyname(self.fn["name"]), ", ".join(self.params),
            "\n".join("    " + line for line in body))


def _generate(manifest):
    callbacks = {}
    for cb in manifest.get("callbacks", []):
        restype = _ctype(cb["restype"], {}) if cb["restype"] else None
        # a pointer argument (weft_ffi_handler_fn's void **args) arrives
        # as an address, an int, as the SWIG trampolines pass it
        callbacks[cb["name"]] = ctypes.CFUNCTYPE(
            restype, *[ctypes.c_void_p if a["ctype"].startswith("POINTER(")
                       else _ctype(a["ctype"], {}) for a in cb["args"]])
    namespace = {
        "_ct": ctypes, "_byref": byref, "_c_size_t": ctypes.c_size_t,
        "_create_string_buffer": ctypes.create_string_buffer,
        "_decode": _decode, "_cstr": _cstr, "_raise": _raise,
        "_cell_add": _cell_add, "_cell_drop": _cell_drop,
        "_ArgumentError": ctypes.ArgumentError, "_NUMBERS": (float, int),
        "_argument_error": _argument_error, "_bytes_in": _bytes_in,
        "_bytes_out": _bytes_out, "_array_in": _array_in,
        "_sizeof": ctypes.sizeof, "_string_at": ctypes.string_at,
        "_deadline": _deadline, "_monotonic": time.monotonic,
        "_raise_written": _raise_written, "_eintr": _eintr,
    }
    for name, proto in callbacks.items():
        namespace["_null_" + name] = proto()  # a NULL function pointer
    for cb in manifest.get("callbacks", []):
        namespace["_tramp_" + cb["name"]] = _trampoline(
            cb, callbacks[cb["name"]])
    out = {"_trampolines": [namespace[k] for k in namespace
                            if k.startswith("_tramp_")]}
    for fn in manifest["functions"]:
        cname = fn["name"]
        if cname in _rules.EXCLUDED:
            continue
        name = _rules.pyname(cname)
        try:
            f = getattr(_lib, cname)
            f_gil = getattr(_lib_gil, cname)
        except AttributeError:
            out[name] = _missing(cname)
            continue
        for cf in (f, f_gil):
            cf.restype = _ctype(fn["restype"], callbacks) \
                if fn["restype"] else None
            cf.argtypes = [_ctype(a["ctype"], callbacks) for a in fn["args"]]
        src = _Gen(fn, callbacks).build()
        ns = dict(namespace)
        ns["_f"] = f_gil if cname in _rules.KEEP_GIL else f
        ns["_f_gil"] = f_gil
        exec(compile(src, "<weft ctypes: %s>" % cname, "exec"), ns)
        wrapper = ns[name]
        wrapper.__doc__ = fn["c"]
        wrapper.source = src
        out[name] = wrapper
    return out


def _bare(cname, restype, argtypes):
    f = getattr(_lib_gil, cname)
    f.restype = restype
    f.argtypes = argtypes
    return f


# What _raise needs, bound before anything can fail.
_f_err_name = _bare("weft_err_name", ctypes.c_char_p, [ctypes.c_int])
_f_last_error_message = _bare("weft_last_error_message", ctypes.c_char_p, [])
_f_last_error_detail = _bare("weft_last_error_detail", ctypes.c_int, [])

MANIFEST = _manifest.path()
_generated = _generate(_manifest.load())
globals().update(_generated)
__all__ = sorted(k for k in _generated if not k.startswith("_"))
del _generated


# ---------------------------------------------------------------------------
# Hot socket calls
# ---------------------------------------------------------------------------


def fast_socket_calls():
    """(recv, send, sendall): socket_recv, socket_send and socket_sendall
    as weft.socket calls them, about a third cheaper per call in the
    common case (a handle weft.socket holds, int flags, an int size or
    bytes): through a second view of the library whose functions have no
    argtypes, so ctypes converts only what is passed, already typed.
    Anything else, and -EINTR, goes to the generated wrappers, which
    behave the same (the rules of _rules.py)."""
    raw = ctypes.CDLL(LIBRARY)
    f_recv, f_send, f_sendall = (raw.weft_socket_recv, raw.weft_socket_send,
                                 raw.weft_socket_sendall)
    slow_recv, slow_send, slow_sendall = (socket_recv, socket_send,
                                          socket_sendall)
    c_int64, c_size_t = ctypes.c_int64, ctypes.c_size_t
    new_buffer, string_at = ctypes.create_string_buffer, ctypes.string_at
    ref = byref
    eintr = -errno.EINTR
    imin, imax = _INT_RANGES["c_int"]
    big = 2 ** 62  # sizes beyond go the slow way (and fail there)

    def recv(sock, flags, n):
        if n.__class__ is not int or flags.__class__ is not int \
                or not 0 <= n < big or not imin <= flags <= imax:
            return slow_recv(sock, flags, n)
        buf = new_buffer(n)
        got = c_size_t()
        st = f_recv(c_int64(sock), flags, buf, c_size_t(n), ref(got))
        if st < 0:
            if st == eintr:
                _eintr()
                return slow_recv(sock, flags, n)
            _raise(st)
        return string_at(buf, got.value)

    def send(sock, data, flags):
        if data.__class__ is not bytes or flags.__class__ is not int \
                or not imin <= flags <= imax:
            return slow_send(sock, data, flags)
        sent = c_size_t()
        st = f_send(c_int64(sock), data, c_size_t(len(data)), flags,
                    ref(sent))
        if st < 0:
            if st == eintr:
                _eintr()
                return slow_send(sock, data, flags)
            _raise(st)
        return sent.value

    def sendall(sock, data, flags):
        if data.__class__ is not bytes or flags.__class__ is not int \
                or not imin <= flags <= imax:
            return slow_sendall(sock, data, flags)
        sent = c_size_t()
        st = f_sendall(c_int64(sock), data, c_size_t(len(data)), flags,
                       ref(sent))
        if st < 0:
            done = sent.value
            if st != eintr:
                _raise_written(st, done)
            _eintr(done)
            try:
                return done + slow_sendall(sock, memoryview(data)[done:],
                                           flags)
            except BaseException as e:
                if hasattr(e, "characters_written"):
                    e.characters_written += done
                raise
        return sent.value

    return recv, send, sendall
