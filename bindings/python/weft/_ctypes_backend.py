"""The ctypes backend: libweft.so through ctypes, nothing compiled.

Every wrapper is generated at import from the ABI manifest, which sets
the argtypes and restype of each function, so the wrappers cannot drift
from the library.  The rules they follow are in _rules.py; the SWIG
backend follows the same ones.

Callbacks: C gets one trampoline per callback type (a CFUNCTYPE object
that lives as long as the module) and, as its ``void *arg``, a key into
``_cells``, which holds the Python callable.  A call with a key that is no
longer there does nothing, so C can never reach a collected callable.
"""

import ctypes
import errno
import os
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


def _argument_error(e):
    """ctypes' ArgumentError ("argument 2: TypeError: ...") as the
    exception inside it."""
    text = str(e)
    cls = OverflowError if "OverflowError" in text else TypeError
    return cls(text)


def _missing(cname):
    def missing(*args, **kwargs):
        raise _errors.NotSupportedError(
            _errors.WEFT_ERR_BASE - 8, "WEFT_ENOTSUP",
            "%s: not in the loaded libweft (%s)" % (cname, LIBRARY))
    missing.__name__ = _rules.pyname(cname)
    return missing


class _Gen(object):
    """The source of one wrapper, built argument by argument."""

    def __init__(self, fn, callbacks):
        self.fn = fn
        self.callbacks = callbacks
        self.params = []   # Python parameters
        self.setup = []    # lines before the call (and before each retry)
        self.cargs = []    # C argument expressions
        self.outs = []     # expressions of the returned values
        self.cells = []    # keys registered for this call
        self.retry = None  # (buffer setup line, grow line) for ERANGE
        self.checks = []   # argument checks and conversions, first
        self.once = []     # then lines run once before the first call

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
            self.retry = ("buf = _create_string_buffer(cap)",
                          "cap = n.value + 1")
            self.setup.append("n = _c_size_t()")
            self.cargs += ["buf", "cap", "_byref(n)"]
            self.outs.append("_decode(buf.raw[:n.value])")
            return 3
        if ctype.startswith("POINTER(") and rest == ["size_t", "size_t *"]:
            # (T *buf, cap, n): a list, retried with the reported count
            item = ctype[8:-1]
            self.retry = ("buf = (_ct.%s * cap)()" % item,
                          "cap = n.value")
            self.setup.append("n = _c_size_t()")
            self.cargs += ["buf", "cap", "_byref(n)"]
            self.outs.append("buf[:n.value]")
            return 3
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
            self.outs.append("%s.value or 0" % var if item == "c_void_p"
                             else "%s.value" % var)
            return 1
        self.params.append(name)
        self.cargs.append(name)
        if ctype in _INT_RANGES:
            # ctypes would silently wrap an int that does not fit (a
            # handle + 2^64 would name the same handle); SWIG refuses it.
            lo, hi = _INT_RANGES[ctype]
            self.checks.append("if not %d <= %s <= %d: raise OverflowError("
                             "%r)" % (lo, name, hi, "%s out of range for %s"
                                      % (name, c)))
        return 1

    def call(self, expr, ind):
        """`st = expr`, with ctypes' ArgumentError as the TypeError (or
        OverflowError) that SWIG raises, after dropping this call's cells."""
        lines = ["try:", "    st = " + expr, "except _ArgumentError as e:"]
        lines += ["    %s is None or _cell_drop(%s)" % (k, k)
                  for k in self.cells]
        lines.append("    raise _argument_error(e) from None")
        return [ind + line for line in lines]

    def source(self):
        fn = self.fn
        cname = fn["name"]
        call = "_f(%s)" % ", ".join(self.cargs)
        checked = (fn["c_restype"] == "weft_status"
                   and cname not in _rules.STATUS_VALUE)
        body = self.checks + self.once
        if self.retry is not None:
            body.append("cap = 64")
            body.append("while True:")
            ind = "    "
            body.append(ind + self.retry[0])
        else:
            ind = ""
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
        if self.retry is not None:
            body.append(ind + "if st == %d:" % WEFT_ERANGE)
            body.append(ind + "    " + self.retry[1])
            body.append(ind + "    continue")
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
        body.append("if st < 0:")
        body += ["    %s is None or _cell_drop(%s)" % (k, k)
                 for k in self.cells]
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
        callbacks[cb["name"]] = ctypes.CFUNCTYPE(
            restype, *[_ctype(a["ctype"], {}) for a in cb["args"]])
    namespace = {
        "_ct": ctypes, "_byref": byref, "_c_size_t": ctypes.c_size_t,
        "_create_string_buffer": ctypes.create_string_buffer,
        "_decode": _decode, "_cstr": _cstr, "_raise": _raise,
        "_cell_add": _cell_add, "_cell_drop": _cell_drop,
        "_ArgumentError": ctypes.ArgumentError, "_NUMBERS": (float, int),
        "_argument_error": _argument_error,
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
