"""The ctypes backend's half of weft._ffi: the engine's calls, closures
and memory helpers over libweft bound with Python's own ctypes.

The SWIG backend does the same in C (the ctypes engine part of the
SWIGPYTHON block of bindings/weft.i); the two follow the code strings
described in weft._ffi.  Python's ctypes is only the glue here: it holds
argument values while weft_ffi_call runs and reads what a closure's
handler gets, which is what the SWIG module does with a stack buffer.
"""

import ctypes as _C
import itertools
import threading

from . import _ctypes_backend as _B
from . import _errors

MODE_RELEASE, MODE_STRICT, MODE_DEFER, MODE_EXACT = 1, 2, 4, 8
_EXACT = {"i": (int, bool), "d": (float,), "z": (bytes,), "Z": (str,),
          "P": (type(None),)}

_raise = _B._raise
_c_int, _c_int64, _c_void_p = _C.c_int, _C.c_int64, _C.c_void_p
_c_size_t, _c_double = _C.c_size_t, _C.c_double
_byref = _C.byref


def _bind(name, restype, argtypes, keep_gil=True):
    lib = _B._lib_gil if keep_gil else _B._lib
    try:
        f = getattr(lib, name)
    except AttributeError:
        def f(*args):
            raise _errors.NotSupportedError(
                _errors.WEFT_ERR_BASE - 8, "WEFT_ENOTSUP",
                "%s: not in the loaded libweft (%s)" % (name, _B.LIBRARY))
        return f
    f.restype = restype
    f.argtypes = argtypes
    return f


_P64 = _C.POINTER(_c_int64)
_f_call = _bind("weft_ffi_call", _c_int, [_c_int64, _c_void_p, _c_void_p],
                keep_gil=False)
_f_call_gil = _bind("weft_ffi_call", _c_int, [_c_int64, _c_void_p, _c_void_p])
# The same without argtypes, for calls that pass ctypes objects only
# (ctypes converts nothing then): what the plans below call.
_raw_call = _C.CDLL(_B.LIBRARY).weft_ffi_call
_raw_call.restype = _c_int
_raw_call_gil = _C.PyDLL(_B.LIBRARY).weft_ffi_call
_raw_call_gil.restype = _c_int
_handles = {}  # handle -> its c_int64, for the plans' calls
_f_function_new = _bind("weft_ffi_function_new", _c_int, [
    _c_void_p, _c_int64, _P64, _c_size_t, _c_size_t, _c_int, _c_int, _P64])
_f_errno_get = _bind("weft_ffi_errno_get", _c_int, [_C.POINTER(_c_int)])
_f_errno_set = _bind("weft_ffi_errno_set", _c_int,
                     [_c_int, _C.POINTER(_c_int)])
_f_get_int = _bind("weft_ffi_struct_get_int", _c_int,
                   [_c_int64, _c_size_t, _c_void_p, _P64])
_f_set_int = _bind("weft_ffi_struct_set_int", _c_int,
                   [_c_int64, _c_size_t, _c_void_p, _c_int64])
_f_get_double = _bind("weft_ffi_struct_get_double", _c_int,
                      [_c_int64, _c_size_t, _c_void_p,
                       _C.POINTER(_c_double)])
_f_set_double = _bind("weft_ffi_struct_set_double", _c_int,
                      [_c_int64, _c_size_t, _c_void_p, _c_double])
_f_read_int = _bind("weft_ffi_read_int", _c_int,
                    [_c_void_p, _c_size_t, _c_int, _P64])
_f_write_int = _bind("weft_ffi_write_int", _c_int,
                     [_c_void_p, _c_size_t, _c_int, _c_int64])
_f_read_double = _bind("weft_ffi_read_double", _c_int,
                       [_c_void_p, _c_size_t, _c_int, _C.POINTER(_c_double)])
_f_write_double = _bind("weft_ffi_write_double", _c_int,
                        [_c_void_p, _c_size_t, _c_int, _c_double])
_f_memmove = _bind("weft_ffi_memmove", _c_int,
                   [_c_void_p, _c_void_p, _c_size_t])
_f_memset = _bind("weft_ffi_memset", _c_int, [_c_void_p, _c_int, _c_size_t])
_f_string_at = _bind("weft_ffi_string_at", _c_int,
                     [_c_void_p, _c_int64, _c_void_p, _c_size_t,
                      _C.POINTER(_c_size_t)])
_HANDLER = _C.CFUNCTYPE(None, _c_void_p, _c_void_p, _c_void_p)
_f_closure_new = _bind("weft_ffi_closure_new", _c_int,
                       [_c_int64, _HANDLER, _c_void_p, _P64])
_f_closure_address = _bind("weft_ffi_closure_address", _c_int,
                           [_c_int64, _C.POINTER(_c_void_p)])

# ---------------------------------------------------------------------------
# Memory and fields
# ---------------------------------------------------------------------------


def _check(st):
    if st < 0:
        _raise(st)


def struct_get_int(st, index, address):
    out = _c_int64()
    _check(_f_get_int(st, index, address, _byref(out)))
    return out.value


def struct_set_int(st, index, address, value):
    _check(_f_set_int(st, index, address, value))


def struct_get_double(st, index, address):
    out = _c_double()
    _check(_f_get_double(st, index, address, _byref(out)))
    return out.value


def struct_set_double(st, index, address, value):
    _check(_f_set_double(st, index, address, value))


def read_int(address, offset, code):
    out = _c_int64()
    _check(_f_read_int(address, offset, code, _byref(out)))
    return out.value


def write_int(address, offset, code, value):
    _check(_f_write_int(address, offset, code, value))


def read_double(address, offset, code):
    out = _c_double()
    _check(_f_read_double(address, offset, code, _byref(out)))
    return out.value


def write_double(address, offset, code, value):
    _check(_f_write_double(address, offset, code, value))


def read_through(address, offset, code):
    """The scalar of code at offset from the pointer stored at address
    (the SWIG module's ffi_read_through)."""
    if not -(1 << 63) <= offset < (1 << 63):  # ctypes' c_ssize_t wraps
        raise OverflowError("offset out of range: %d" % offset)
    p = read_int(address, 0, 80) & ((1 << 64) - 1)
    if not p:
        raise ValueError("NULL pointer access")
    if code in (102, 100, 103):  # f d g
        return read_double(p, offset, code)
    return read_int(p, offset, code)


def memmove(dst, src, size):
    _check(_f_memmove(dst, src, size))


def memset(dst, byte, size):
    _check(_f_memset(dst, byte, size))


def string_at(address, size=-1):
    cap = size if size >= 0 else 64
    while True:
        buf = _C.create_string_buffer(cap or 1)
        n = _c_size_t()
        st = _f_string_at(address, size, buf, cap, _byref(n))
        if st == _B.WEFT_ERANGE and n.value > cap:
            cap = n.value
            continue
        _check(st)
        return buf.raw[:n.value]


def buffer_address(obj):
    """The address of a writable buffer's bytes (a bytearray's; it must
    not be resized while the address is used), or of a bytes object's."""
    if obj.__class__ is bytes:
        return _C.cast(_C.c_char_p(obj), _c_void_p).value or 0
    return _C.addressof(_C.c_char.from_buffer(obj))


def errno_get():
    out = _c_int()
    _check(_f_errno_get(_byref(out)))
    return out.value


def errno_set(value):
    out = _c_int()
    _check(_f_errno_set(value, _byref(out)))
    return out.value


def function_new(address, restype, argtypes, nfixed, abi, flags):
    n = len(argtypes)
    arr = (_c_int64 * max(n, 1))(*argtypes)
    out = _c_int64()
    try:
        st = _f_function_new(address, restype, arr, n, nfixed, abi, flags,
                             _byref(out))
    except _C.ArgumentError as e:
        raise _B._argument_error(e) from None
    _check(st)
    return out.value


# ---------------------------------------------------------------------------
# Calls
# ---------------------------------------------------------------------------

_SCALAR = {
    "?": _C.c_bool, "c": _C.c_char, "u": _C.c_wchar, "b": _C.c_byte,
    "B": _C.c_ubyte, "h": _C.c_short, "H": _C.c_ushort, "i": _C.c_int,
    "I": _C.c_uint, "l": _C.c_long, "L": _C.c_ulong, "q": _C.c_longlong,
    "Q": _C.c_ulonglong, "f": _C.c_float, "d": _C.c_double,
    "g": _C.c_longdouble, "z": _C.c_char_p, "Z": _C.c_wchar_p,
    "P": _c_void_p, "*": _c_void_p,
}
_INTS = frozenset(b"bBhHiIlLqQ")
_FLOATS = frozenset(b"fdg")
_NI = NotImplemented


def _wrong(i, code, a):
    return TypeError("argument %d: wrong type for code %r: %s"
                     % (i + 1, code, type(a).__name__))


# Each code string gets a plan (cached): per thread, one ctypes object per
# argument (its slot), the array of their addresses that weft_ffi_call
# gets, and the result's object, all made once; a call stores the
# arguments into the slots and calls.  A call that C calls back into
# (a callback running the same function on this thread) may reuse them:
# weft_ffi_call has read its arguments before the C function runs, and
# the outer call's result is written after the inner one has read its.
_plans = {}
_plans_mu = threading.Lock()
_NONE = type(None)
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1


def _plan(codes):
    mode = codes[1] - 64
    strict = bool(mode & MODE_STRICT)
    defer = bool(mode & MODE_DEFER)
    exact = [_EXACT.get(chr(c), ()) for c in codes[2:]] \
        if mode & MODE_EXACT else None
    n = len(codes) - 2
    argcodes = [chr(c) for c in codes[2:]]
    rcode = chr(codes[0])
    f = _raw_call if mode & MODE_RELEASE else _raw_call_gil
    local = threading.local()
    _addressof = _C.addressof

    def make_state():
        slots, views = [], []
        ptrs = (_c_void_p * (n or 1))()
        for i, c in enumerate(argcodes):
            if c == "X":
                slots.append(None)
                views.append(None)
                continue
            slot = (_c_void_p if c == "*" else _SCALAR[c])()
            addr = _addressof(slot)
            ptrs[i] = addr
            slots.append(slot)
            if c in "zZP*":
                views.append((_c_void_p.from_address(addr),
                              _C.c_char_p.from_address(addr),
                              _C.c_wchar_p.from_address(addr)))
            else:
                views.append(None)
        r = None if rcode in "vX" else _SCALAR[rcode]()
        st = (slots, views, ptrs, r,
              _c_void_p(_addressof(r)) if r is not None else None)
        local.st = st
        return st

    def run(h, args, ret):
        if defer:
            return _NI
        if len(args) != n:
            if strict:
                raise TypeError("this function takes %d argument%s (%d "
                                "given)" % (n, "" if n == 1 else "s",
                                            len(args)))
            return _NI
        try:
            slots, views, ptrs, r, raddr = local.st
        except AttributeError:
            slots, views, ptrs, r, raddr = make_state()
        for i in range(n):
            a = args[i]
            c = argcodes[i]
            cls = a.__class__
            if exact is not None and (cls not in exact[i] or (
                    cls is int and not _I64_MIN <= a <= _I64_MAX)):
                return _NI
            if c in "bBhHiIlLqQ":
                if cls is int or cls is bool:
                    slots[i].value = a
                    continue
                if strict and cls is not float and hasattr(a, "__index__"):
                    slots[i].value = a.__index__()
                    continue
            elif c in "fdg":
                if cls is float or cls is int:
                    slots[i].value = a
                    continue
                if strict and hasattr(a, "__float__"):
                    slots[i].value = float(a)
                    continue
            elif c in "zZP*":
                if a is None or (cls is int and (c != "*" or strict)):
                    views[i][0].value = a
                    continue
                elif cls is bytes and c in "zP":
                    views[i][1].value = a
                    continue
                elif cls is str and c in "ZP":
                    views[i][2].value = a
                    continue
            elif c == "X":
                if strict and cls is int:
                    ptrs[i] = a
                    continue
            elif c == "?":
                slots[i].value = a
                continue
            elif c == "c":
                if (cls is bytes and len(a) == 1) or (cls is int
                                                      and 0 <= a < 256):
                    slots[i].value = a
                    continue
            elif c == "u":
                if cls is str and len(a) == 1:
                    slots[i].value = a
                    continue
            if strict:
                raise _wrong(i, c, a)
            return _NI
        if rcode == "X":
            raddr = _c_void_p(ret)
        hobj = _handles.get(h)
        if hobj is None:
            if len(_handles) > 4096:
                _handles.clear()
            hobj = _handles[h] = _c_int64(h)
        st = f(hobj, raddr, ptrs)
        if st < 0:
            _raise(st)
        if r is None:
            return None
        return r.value
    return run


def call(h, codes, args, ret=None):
    """ffi_call_py of the SWIG module, in Python: the function h called
    with args converted by codes (weft._ffi); ret, for an X result, is the
    address the result's bytes go to."""
    try:
        plan = _plans[codes]
    except KeyError:
        with _plans_mu:
            plan = _plans.setdefault(codes, _plan(codes))
    return plan(h, args, ret)


class FuncBase(object):
    """The base of weft.ctypes' function objects (the SWIG module's is in
    C): a call through the prepared function _h by its code string _fast,
    _call_converted when the codes decline, _post on the result."""
    __slots__ = ("_h", "_fast", "_post", "_cplans")

    def __call__(self, *args):
        codes = self._fast
        if codes is None:
            self._prepare()
            codes = self._fast
        r = call(self._h, codes, args)
        if r is _NI:
            return self._call_converted(args)
        post = self._post
        if post is not None:
            return post(r, args)
        return r


# ---------------------------------------------------------------------------
# Closures
# ---------------------------------------------------------------------------

_closures = {}  # key -> (handler, codes, retsize)
_keys = itertools.count(1)
_keys_mu = threading.Lock()
_UNRAISABLE = "Exception ignored on calling ctypes callback function"
_MSG_RESULT = "Exception ignored on converting result of ctypes callback " \
    "function"


def _arg_value(code, p):
    if code == "X":
        return p
    v = _SCALAR[code].from_address(p).value
    if code == "*" or code == "P":
        return v  # None for NULL, as ctypes' c_void_p
    return v


def _trampoline(key, ret, args):
    entry = _closures.get(key)
    if entry is None:
        return
    handler, codes, retsize = entry
    try:
        ptrs = (_c_void_p * (len(codes) - 1 or 1)).from_address(args) \
            if args else ()
        values = [_arg_value(codes[i + 1], ptrs[i])
                  for i in range(len(codes) - 1)]
        r = handler(*values)
    except BaseException as e:
        _errors.unraisable(e, handler, _UNRAISABLE)
        return
    rcode = codes[0]
    if rcode == "v" or not ret:
        return
    try:
        if rcode == "X":
            data = bytes(r)
            _C.memmove(ret, data, min(len(data), retsize))
        elif r is not None:
            cls = _SCALAR[rcode]
            if rcode in "zZP*":
                _c_void_p.from_address(ret).value = r
            else:
                cls.from_address(ret).value = r
    except BaseException as e:
        _errors.unraisable(e, handler, _MSG_RESULT)


_trampoline_c = _HANDLER(_trampoline)


def closure_new(sig, handler, codes, retsize):
    """A closure of signature sig whose calls run handler(*values), the
    values converted by codes (result code first); (handle, key)."""
    with _keys_mu:
        key = next(_keys)
    _closures[key] = (handler, codes.decode("ascii"), retsize)
    out = _c_int64()
    st = _f_closure_new(sig, _trampoline_c, key, _byref(out))
    if st < 0:
        del _closures[key]
        _raise(st)
    return out.value, key


def closure_address(closure):
    out = _c_void_p()
    _check(_f_closure_address(closure, _byref(out)))
    return out.value


def closure_forget(closure, key):
    try:
        _B.close(closure)
    finally:
        _closures.pop(key, None)
