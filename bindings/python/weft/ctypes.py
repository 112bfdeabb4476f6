"""weft.ctypes: Python's ctypes API over weft's ctypes engine.

    from weft.ctypes import CDLL, c_int, c_char_p, Structure, CFUNCTYPE
    libc = CDLL("libc.so.6")
    libc.strlen.argtypes = [c_char_p]
    libc.strlen.restype = c_size_t
    libc.strlen(b"hello")                        # 5

The names and their semantics are ctypes': CDLL/PyDLL and function
objects with argtypes, restype and errcheck, use_errno with
get_errno/set_errno, the c_* types, sizeof, alignment, addressof, byref,
pointer, POINTER, cast, string_at, memmove, memset, create_string_buffer,
arrays (c_int * 4), Structure and Union with _fields_ (bitfields as a
third element), _pack_, _align_, _layout_ ('gcc-sysv', the default, or
'ms'), _anonymous_, Big/LittleEndianStructure, and CFUNCTYPE callbacks.

What differs from ctypes, on purpose:

- Every layout is the engine's, which is gcc's for the same declaration
  (docs/ffi.md): bitfields, #pragma pack (``_pack_`` works under both
  layouts, as gcc's pack under 'gcc-sysv' and MSVC's under 'ms'),
  aligned(), ms_struct and scalar_storage_order.
- ArgumentError is a TypeError (ctypes' is an Exception of its own).
- A float passed where no argtype says what it is (extra arguments of a
  variadic call, or a function without argtypes) is a double; ctypes
  refuses it.
- CDLL has close(): functions already taken from it then raise
  BadHandleError instead of calling into an unmapped library.
- PyDLL keeps the GIL during calls as in ctypes; CDLL releases it.

docs/bindings.md ("The ctypes engine in Python") has the details.
"""

import sys as _sys
import threading as _threading
from sys import getrefcount as _getrefcount
import weakref as _weakref

import weft as _weft
from . import _ffi
from ._errors import BadHandleError, FFIError

__all__ = [
    "ArgumentError", "CDLL", "PyDLL", "LibraryLoader", "cdll", "pydll",
    "CFUNCTYPE", "PYFUNCTYPE", "CFuncPtr", "Structure", "Union",
    "BigEndianStructure", "LittleEndianStructure", "BigEndianUnion",
    "LittleEndianUnion", "Array", "ARRAY", "POINTER", "pointer", "byref",
    "addressof", "sizeof", "alignment", "cast", "string_at", "wstring_at",
    "memmove", "memset", "create_string_buffer", "create_unicode_buffer",
    "get_errno", "set_errno", "resize", "RTLD_GLOBAL", "RTLD_LOCAL",
    "DEFAULT_MODE", "c_bool", "c_char", "c_wchar", "c_byte", "c_ubyte",
    "c_short", "c_ushort", "c_int", "c_uint", "c_long", "c_ulong",
    "c_longlong", "c_ulonglong", "c_size_t", "c_ssize_t", "c_float",
    "c_double", "c_longdouble", "c_char_p", "c_wchar_p", "c_void_p",
    "c_int8", "c_uint8", "c_int16", "c_uint16", "c_int32", "c_uint32",
    "c_int64", "c_uint64", "find_library",
]

_FFI_UNION, _FFI_MS, _FFI_BIG, _FFI_LITTLE = 1, 2, 4, 8
_CALL_VARIADIC, _CALL_ERRNO = 1, 2
RTLD_GLOBAL = _weft.constant("RTLD_GLOBAL")
RTLD_LOCAL = _weft.constant("RTLD_LOCAL")
DEFAULT_MODE = RTLD_LOCAL

_U64 = (1 << 64) - 1
_I64_MIN, _I64_MAX = -(1 << 63), (1 << 63) - 1
_to_int64 = _ffi.to_int64
_read_int = _ffi.read_int
_read_double = _ffi.read_double
_write_int = _ffi.write_int
_buffer_address = _ffi.buffer_address
_read_through = _ffi.read_through


class ArgumentError(TypeError):
    """A foreign function call could not convert one of its arguments
    ("argument 2: TypeError: wrong type").  Unlike ctypes' ArgumentError
    it is a TypeError, the error Python raises for a wrong argument."""


# ---------------------------------------------------------------------------
# The base of every C data type
# ---------------------------------------------------------------------------


class _CDataMeta(type):
    """What every C data type has: sizeof, arrays by `*`, from_address,
    from_buffer, from_buffer_copy, in_dll, from_param."""

    def __mul__(cls, length):
        return _array_type(cls, length)

    __rmul__ = __mul__

    def from_address(cls, address):
        return cls._view(address, None)

    def from_buffer(cls, source, offset=0):
        view = memoryview(source)
        if view.readonly:
            raise TypeError("underlying buffer is not writable")
        size = _type_size(cls)
        if offset < 0:
            raise ValueError("offset cannot be negative")
        if view.nbytes < offset + size:
            raise ValueError("Buffer size too small (%d instead of at least "
                             "%d bytes)" % (view.nbytes, offset + size))
        obj = cls._view(_ffi.buffer_address(source) + offset, None)
        obj._objects = {"buffer": source, "view": view}
        return obj

    def from_buffer_copy(cls, source, offset=0):
        data = bytes(memoryview(source))
        size = _type_size(cls)
        if offset < 0:
            raise ValueError("offset cannot be negative")
        if len(data) < offset + size:
            raise ValueError("Buffer size too small (%d instead of at least "
                             "%d bytes)" % (len(data), offset + size))
        obj = cls.__new__(cls)
        _alloc(obj, cls)
        if size:
            _ffi.memmove(obj._b_addr_, _ffi.buffer_address(data) + offset,
                         size)
        return obj

    def in_dll(cls, dll, name):
        return cls.from_address(_ffi.library_symbol(dll._handle, name))

    def from_param(cls, obj):
        if isinstance(obj, cls):
            return obj
        raise TypeError("expected %s instance instead of %s"
                        % (cls.__name__, type(obj).__name__))

    def _view(cls, address, base):
        """An instance over memory that is not its own (base keeps it)."""
        obj = object.__new__(cls)
        obj._b_addr_ = address
        obj._b_buf_ = None
        obj._b_base_ = base
        obj._objects = None
        return obj


class _CData(object, metaclass=_CDataMeta):
    __slots__ = ("_b_addr_", "_b_buf_", "_b_base_", "_objects",
                 "__weakref__")
    _wt_ = None      # the engine's type handle
    _wcode_ = "*"    # how a call passes it (weft._ffi codes)
    _wread_ = 0      # _get_item's shortcut (fundamentals)
    _wtakes_ = frozenset()  # Python types a call passes on as they are

    @property
    def _b_needsfree_(self):
        return self._b_buf_ is not None

    def __bytes__(self):
        return _ffi.string_at(self._b_addr_, _type_size(type(self))) \
            if _type_size(type(self)) else b""

    def __reduce__(self):
        return (_rebuild, (type(self), bytes(self)))

    def _keep(self, key, obj):
        if self._objects is None:
            self._objects = {}
        self._objects[key] = obj


def _rebuild(cls, data):
    return cls.from_buffer_copy(data)


def _alloc(obj, cls):
    """Give obj memory of its own: a zeroed bytearray, aligned."""
    size = _type_size(cls)
    align = _type_align(cls)
    extra = align - 1 if align > 16 else 0
    buf = bytearray(size + extra or 1)
    addr = _ffi.buffer_address(buf)
    if extra:
        addr = (addr + align - 1) & ~(align - 1)
    obj._b_buf_ = buf
    obj._b_addr_ = addr
    obj._b_base_ = None
    obj._objects = None


def _type_size(cls):
    size = cls.__dict__.get("_wsize_")
    if size is None:
        _complete(cls)
        size = cls._wsize_
    return size


def _type_align(cls):
    align = cls.__dict__.get("_walign_")
    if align is None:
        _complete(cls)
        align = cls._walign_
    return align


def _complete(cls):
    if issubclass(cls, _StructBase):
        cls._finish()
    else:
        raise TypeError("%s has no size" % cls.__name__)


def _handle(cls):
    """The engine type handle of a C type (a finished one)."""
    if cls is None:
        raise TypeError("None is not a C type here")
    if not isinstance(cls, _CDataMeta) or cls._wt_ is None:
        raise TypeError("%r is not a C type" % (cls,))
    if issubclass(cls, _StructBase) and "_wsize_" not in cls.__dict__:
        cls._finish()
    return cls._wt_


# ---------------------------------------------------------------------------
# Fundamental types
# ---------------------------------------------------------------------------

_CODE_HANDLES = {}


def _code_handle(code):
    h = _CODE_HANDLES.get(code)
    if h is None:
        h = _CODE_HANDLES[code] = _ffi.type_named(code)
    return h


class _SimpleMeta(_CDataMeta):

    def __new__(mcls, name, bases, ns):
        cls = super().__new__(mcls, name, bases, ns)
        code = ns.get("_type_")
        if code is None:
            code = getattr(cls, "_type_", None)
            if code is None:
                return cls  # _SimpleCData itself
        if not isinstance(code, str) or len(code) != 1 \
                or code not in _SIMPLE_CODES:
            raise AttributeError("class must define a '_type_' attribute "
                                 "which must be a single character string "
                                 "containing one of '%s'" % _SIMPLE_CODES)
        cls._wt_ = _code_handle(code)
        cls._wsize_ = _ffi.type_size(cls._wt_)
        cls._walign_ = _ffi.type_align(cls._wt_)
        cls._wcode_ = code
        # a subclass of a fundamental is not converted to a Python value
        # when it is a result or a field (ctypes' rule)
        cls._wplain_ = "_type_" in ns and bases[0] is _SimpleCData
        # how _get_item reads one: 1 read_int as it is, 2 read_double
        cls._wread_ = 0 if not cls._wplain_ else (
            1 if code in "bBhHiIlq" else 2 if code in "fdg" else 0)
        cls._wcodeord_ = ord(code)
        # what a call may pass on as it is for this argtype (the C
        # conversion takes it the way from_param would); nothing for a
        # class with a from_param of its own
        cls._wtakes_ = frozenset() if any(
            "from_param" in k.__dict__ for k in cls.__mro__) \
            else _TAKES.get(code, frozenset())
        return cls

    def from_param(cls, obj):
        if isinstance(obj, cls):
            return obj
        conv = _FROM_PARAM.get(cls._type_)
        if conv is not None:
            r = conv(cls, obj)
            if r is not _NO:
                return r
        ap = getattr(obj, "_as_parameter_", _NO)
        if ap is not _NO:
            return cls.from_param(ap)
        raise TypeError("wrong type")


_SIMPLE_CODES = "?cubBhHiIlLqQfdgzZP"
_TAKES = {c: frozenset([int, bool]) for c in "bBhHiIlLqQ"}
_TAKES.update({c: frozenset([int, float]) for c in "fdg"})
_TAKES.update({"?": frozenset([bool, int]),
               "z": frozenset([bytes, int, type(None)]),
               "Z": frozenset([str, int, type(None)]),
               "P": frozenset([bytes, str, int, type(None)])})
_NO = object()


def _from_param_int(cls, obj):
    if isinstance(obj, int) or (hasattr(obj, "__index__")
                                and not isinstance(obj, float)):
        return obj
    if isinstance(obj, _SimpleCData) and obj._type_ in "bBhHiIlLqQ" and \
            _type_size(type(obj)) == cls._wsize_:
        return obj
    return _NO


def _from_param_float(cls, obj):
    if isinstance(obj, (int, float)):
        return obj
    if isinstance(obj, _SimpleCData) and obj._type_ in "fdg":
        return obj
    return _NO


def _from_param_bool(cls, obj):
    return obj


def _from_param_char(cls, obj):
    if isinstance(obj, (bytes, bytearray)) and len(obj) == 1:
        return bytes(obj)
    if isinstance(obj, int) and 0 <= obj < 256:
        return obj
    return _NO


def _from_param_wchar(cls, obj):
    if isinstance(obj, str) and len(obj) == 1:
        return obj
    return _NO


def _from_param_char_p(cls, obj):
    if obj is None or isinstance(obj, (bytes, int)):
        return obj
    if isinstance(obj, Array) and obj._type_ is c_char:
        return obj
    if isinstance(obj, _Pointer) and obj._type_ is c_char:
        return obj
    if isinstance(obj, c_void_p):
        return obj
    if isinstance(obj, _CArg) and isinstance(obj._obj, c_char):
        return obj
    return _NO


def _from_param_wchar_p(cls, obj):
    if obj is None or isinstance(obj, (str, int)):
        return obj
    if isinstance(obj, Array) and obj._type_ is c_wchar:
        return obj
    if isinstance(obj, _Pointer) and obj._type_ is c_wchar:
        return obj
    if isinstance(obj, c_void_p):
        return obj
    return _NO


def _from_param_void_p(cls, obj):
    if obj is None or isinstance(obj, (int, bytes, str)):
        return obj
    if isinstance(obj, (_Pointer, Array, _CArg, CFuncPtr, c_char_p,
                        c_wchar_p, c_void_p)):
        return obj
    return _NO


_FROM_PARAM = {c: _from_param_int for c in "bBhHiIlLqQ"}
_FROM_PARAM.update({c: _from_param_float for c in "fdg"})
_FROM_PARAM.update({"?": _from_param_bool, "c": _from_param_char,
                    "u": _from_param_wchar, "z": _from_param_char_p,
                    "Z": _from_param_wchar_p, "P": _from_param_void_p})

_WCHAR_SIZE = _ffi.type_size(_code_handle("u"))
_WCHAR_CODEC = "utf-32" if _WCHAR_SIZE == 4 else "utf-16"
_WCHAR_CODEC += "-le" if _sys.byteorder == "little" else "-be"


def _wchar_buffer(s):
    """A str as NUL-terminated wchar_t bytes."""
    return (s + "\0").encode(_WCHAR_CODEC, "surrogatepass")


def wstring_at(address, size=-1):
    """The wide string at address (ctypes.wstring_at): size characters,
    or up to the first NUL with -1."""
    address = _address_of(address)
    if size >= 0:
        data = _ffi.string_at(address, size * _WCHAR_SIZE)
    else:
        out = []
        i = 0
        while True:
            ch = _ffi.read_int(address, i * _WCHAR_SIZE, ord("u"))
            if ch == 0:
                break
            out.append(ch)
            i += 1
        return "".join(map(chr, out))
    return data.decode(_WCHAR_CODEC, "surrogatepass")


def _read_scalar(code, address, offset=0):
    """The Python value of the scalar of code at address + offset."""
    if code in "fdg":
        return _ffi.read_double(address, offset, ord(code))
    v = _ffi.read_int(address, offset, ord(code))
    return _int_value(code, v)


def _int_value(code, v):
    if code in "bhilq":
        return v
    if code in "BHI":
        return v
    if code == "?":
        return bool(v)
    if code == "c":
        return bytes((v & 0xFF,))
    if code == "u":
        return chr(v & 0xFFFFFFFF if _WCHAR_SIZE == 4 else v & 0xFFFF)
    v &= _U64
    if code in "LQ":
        return v
    if code == "P":
        return v or None
    if code == "z":
        return _ffi.string_at(v) if v else None
    if code == "Z":
        return wstring_at(v) if v else None
    return v


def _int_bits(code, value, keep):
    """A Python value as the int64 the engine writes for code; keep(obj)
    holds what a pointer written points to."""
    if code == "c":
        if isinstance(value, (bytes, bytearray)) and len(value) == 1:
            return value[0]
        if isinstance(value, int) and 0 <= value < 256:
            return value
        raise TypeError("one character bytes, bytearray or integer "
                        "expected")
    if code == "u":
        if isinstance(value, str) and len(value) == 1:
            return ord(value)
        raise TypeError("one character unicode string expected")
    if code == "?":
        return 1 if value else 0
    if code in "zZP":
        if value is None:
            return 0
        if isinstance(value, int):
            return _to_int64(value)
        if code == "z" and isinstance(value, bytes):
            keep(value)
            return _ffi.buffer_address(value)
        if code == "Z" and isinstance(value, str):
            buf = bytearray(_wchar_buffer(value))
            keep(buf)
            return _ffi.buffer_address(buf)
        if code == "P" and isinstance(value, _ADDRESSABLE):
            keep(value)
            return _pointer_value(value)
        raise TypeError("%s expected instead of %s"
                        % ({"z": "bytes or integer address",
                            "Z": "unicode string or integer address",
                            "P": "int"}[code], type(value).__name__))
    if isinstance(value, float) or not hasattr(value, "__index__"):
        raise TypeError("int expected instead of %s" % type(value).__name__)
    return _to_int64(value.__index__())


def _write_scalar(code, address, offset, value, keep):
    if code in "fdg":
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError("must be real number, not %s"
                            % type(value).__name__) from None
        _ffi.write_double(address, offset, ord(code), value)
    else:
        _ffi.write_int(address, offset, ord(code),
                       _int_bits(code, value, keep))


class _SimpleCData(_CData, metaclass=_SimpleMeta):
    """The fundamental types' base: one scalar, read and written through
    .value."""
    __slots__ = ()

    def __init__(self, value=None):
        _alloc(self, type(self))
        if value is not None:
            self.value = value

    @property
    def value(self):
        return _read_scalar(self._type_, self._b_addr_)

    @value.setter
    def value(self, value):
        _write_scalar(self._type_, self._b_addr_, 0, value,
                      lambda o: self._keep("value", o))

    def __repr__(self):
        if type(self)._wplain_:
            return "%s(%r)" % (type(self).__name__, self.value)
        return "<%s object at %#x>" % (type(self).__name__, id(self))

    def __bool__(self):
        return bool(self.value)

    def __ctypes_from_outparam__(self):
        return self.value if type(self)._wplain_ else self


def _simple(name, code, doc):
    return _SimpleMeta(name, (_SimpleCData,), {"_type_": code,
                                                "__slots__": (),
                                                "__doc__": doc})


c_bool = _simple("c_bool", "?", "C bool (_Bool)")
c_char = _simple("c_char", "c", "C char: a one-byte bytes value")
c_wchar = _simple("c_wchar", "u", "C wchar_t: a one-character str")
c_byte = _simple("c_byte", "b", "C signed char")
c_ubyte = _simple("c_ubyte", "B", "C unsigned char")
c_short = _simple("c_short", "h", "C short")
c_ushort = _simple("c_ushort", "H", "C unsigned short")
c_int = _simple("c_int", "i", "C int")
c_uint = _simple("c_uint", "I", "C unsigned int")
c_long = _simple("c_long", "l", "C long")
c_ulong = _simple("c_ulong", "L", "C unsigned long")
c_longlong = _simple("c_longlong", "q", "C long long")
c_ulonglong = _simple("c_ulonglong", "Q", "C unsigned long long")
c_float = _simple("c_float", "f", "C float")
c_double = _simple("c_double", "d", "C double")
c_longdouble = _simple("c_longdouble", "g", "C long double (read as a "
                       "double)")
c_char_p = _simple("c_char_p", "z", "C char *: bytes, None or an address")
c_wchar_p = _simple("c_wchar_p", "Z", "C wchar_t *: str, None or an address")
c_void_p = _simple("c_void_p", "P", "C void *: an int address or None")


def _pick(signed, size):
    """The fundamental of `size` bytes that ctypes (and the engine) pick,
    trying char, short, int, long, long long."""
    for t in ((c_byte, c_short, c_int, c_long, c_longlong) if signed else
              (c_ubyte, c_ushort, c_uint, c_ulong, c_ulonglong)):
        if t._wsize_ == size:
            return t
    raise ImportError("no %d-byte integer type" % size)


c_int8, c_uint8 = _pick(True, 1), _pick(False, 1)
c_int16, c_uint16 = _pick(True, 2), _pick(False, 2)
c_int32, c_uint32 = _pick(True, 4), _pick(False, 4)
c_int64, c_uint64 = _pick(True, 8), _pick(False, 8)
c_size_t = _pick(False, c_void_p._wsize_)
c_ssize_t = _pick(True, c_void_p._wsize_)

# ---------------------------------------------------------------------------
# Pointers, byref
# ---------------------------------------------------------------------------


class _CArg(object):
    """What byref() returns: an address to pass, keeping its object."""
    __slots__ = ("_obj", "_offset", "_as_address")

    def __init__(self, obj, offset):
        self._obj = obj
        self._offset = offset
        self._as_address = obj._b_addr_ + offset

    def __repr__(self):
        return "<cparam 'P' (%#x)>" % self._as_address


def byref(obj, offset=0):
    """A light pointer to obj for a call (ctypes.byref)."""
    if not isinstance(obj, (_CData, CFuncPtr)):
        raise TypeError("byref() argument must be a ctypes instance, not "
                        "'%s'" % type(obj).__name__)
    return _CArg(obj, offset)


def addressof(obj):
    """The address of obj's memory (ctypes.addressof)."""
    if not isinstance(obj, (_CData, CFuncPtr)):
        raise TypeError("invalid type")
    return obj._b_addr_


def sizeof(obj_or_type):
    cls = obj_or_type if isinstance(obj_or_type, _CDataMeta) \
        else type(obj_or_type)
    if not isinstance(cls, _CDataMeta) or cls._wt_ is None:
        raise TypeError("this type has no size")
    return _type_size(cls)


def alignment(obj_or_type):
    cls = obj_or_type if isinstance(obj_or_type, _CDataMeta) \
        else type(obj_or_type)
    if not isinstance(cls, _CDataMeta) or cls._wt_ is None:
        raise TypeError("no alignment info")
    return _type_align(cls)


def _pointer_value(obj):
    """The address that obj stands for when passed as a pointer: a
    pointer's (c_void_p, c_char_p, POINTER(T), a function's) value, an
    array's or a struct's own address, byref's."""
    if isinstance(obj, _CArg):
        return obj._as_address
    if isinstance(obj, (_Pointer, CFuncPtr)) or (
            isinstance(obj, _SimpleCData) and obj._type_ in "zZP"):
        return _ffi.read_int(obj._b_addr_, 0, ord("P")) & _U64
    return obj._b_addr_


def _address_of(obj):
    """An address given as an int, None (0), bytes, or a C object."""
    if obj is None:
        return 0
    if isinstance(obj, int):
        return obj
    if isinstance(obj, bytes):
        return _ffi.buffer_address(obj)
    if isinstance(obj, _ADDRESSABLE):
        return _pointer_value(obj)
    raise TypeError("expected an address, bytes or a ctypes object, not "
                    "%s" % type(obj).__name__)


class _PointerMeta(_CDataMeta):

    def from_param(cls, obj):
        if obj is None or isinstance(obj, cls):
            return obj
        target = cls._type_
        if isinstance(obj, Array) and issubclass(obj._type_, target):
            return obj
        if isinstance(obj, target):
            return _CArg(obj, 0)
        if isinstance(obj, _CArg) and isinstance(obj._obj, target):
            return obj
        if isinstance(obj, _Pointer) and obj._type_ is target:
            return obj
        ap = getattr(obj, "_as_parameter_", _NO)
        if ap is not _NO:
            return cls.from_param(ap)
        raise TypeError("expected %s instance instead of %s"
                        % (cls.__name__, type(obj).__name__))


class _Pointer(_CData, metaclass=_PointerMeta):
    """POINTER(T)'s base: a T * that can be read through .contents and
    indexed."""
    __slots__ = ()
    _wcode_ = "*"

    def __init__(self, obj=None):
        _alloc(self, type(self))
        if obj is not None:
            self.contents = obj

    def _value(self):
        return _ffi.read_int(self._b_addr_, 0, ord("P")) & _U64

    @property
    def contents(self):
        p = self._value()
        if not p:
            raise ValueError("NULL pointer access")
        return self._type_._view(p, self)

    @contents.setter
    def contents(self, obj):
        if not isinstance(obj, self._type_):
            raise TypeError("expected %s instead of %s"
                            % (self._type_.__name__, type(obj).__name__))
        _ffi.write_int(self._b_addr_, 0, ord("P"), obj._b_addr_)
        self._keep("contents", obj)

    def _item_address(self, index):
        p = self._value()
        if not p:
            raise ValueError("NULL pointer access")
        return p + index * _type_size(self._type_)

    def _getitem(self, index):
        if index.__class__ is int:
            t = self._type_
            if t._wread_:
                return _read_through(self._b_addr_, index * t._wsize_,
                                     t._wcodeord_)
        if isinstance(index, slice):
            if index.stop is None:
                raise ValueError("slice stop is required")
            return [self[i] for i in range(*index.indices(index.stop))]
        return _get_item(self._type_, self._item_address(index), self)

    # the SWIG backend's is C (_ffi.setup, below CFuncPtr): p[i] of a
    # POINTER(T) of a plain fundamental by the class's _wthrough_
    __getitem__ = _getitem

    def __setitem__(self, index, value):
        _set_item(self._type_, self._item_address(index), value, self)

    def __bool__(self):
        return self._value() != 0

    def __repr__(self):
        return "<%s object at %#x>" % (type(self).__name__, id(self))


_POINTERS = {}
_pointers_in_c = False  # POINTER classes get C's p[i] (after _ffi.setup)


def POINTER(cls):
    """The type pointer to cls (cached, as in ctypes)."""
    if cls is None:
        return c_void_p
    p = _POINTERS.get(cls)
    if p is not None:
        return p
    if not isinstance(cls, _CDataMeta) or cls._wt_ is None:
        raise TypeError("must be a ctypes type")
    ns = {"__slots__": (), "_type_": cls}
    if cls._wread_:
        ns["_wthrough_"] = cls._wcodeord_ + 256 * cls._wsize_
    p = _PointerMeta("LP_" + cls.__name__, (_Pointer,), ns)
    p._wt_ = _ffi.pointer_new(cls._wt_)
    if "_wthrough_" in ns and _pointers_in_c:
        _ffi.pointer_class(p)  # p[i] straight to C's __getitem__
    _set_size(p, p._wt_)
    _POINTERS[cls] = p
    return p


def _set_size(cls, handle):
    cls._wsize_ = _ffi.type_size(handle)
    cls._walign_ = _ffi.type_align(handle)


def _pointer_of_value(cls, value):
    """A new pointer (or pointer-like fundamental) of type cls holding the
    address value (None: NULL)."""
    obj = object.__new__(cls)
    buf = bytearray(cls._wsize_)
    addr = _buffer_address(buf)
    if value:
        _write_int(addr, 0, 80, _to_int64(value))
    obj._b_buf_ = buf
    obj._b_addr_ = addr
    obj._b_base_ = None
    obj._objects = None
    return obj


def pointer(obj):
    """A new POINTER(type(obj)) to obj."""
    return POINTER(type(obj))(obj)


def _get_item(cls, address, base):
    """The value at address of type cls: a Python value for a plain
    fundamental, else an object over that memory."""
    k = cls._wread_
    if k == 1:
        return _read_int(address, 0, cls._wcodeord_)
    if k == 2:
        return _read_double(address, 0, cls._wcodeord_)
    if issubclass(cls, _SimpleCData) and cls._wplain_:
        return _read_scalar(cls._type_, address)
    return cls._view(address, base)


def _set_item(cls, address, value, owner):
    if issubclass(cls, _SimpleCData):
        if isinstance(value, cls):
            value = value.value
        _write_scalar(cls._type_, address, 0, value,
                      lambda o: owner._keep(address, o))
        return
    _copy_into(cls, address, value, owner, address)


def _copy_into(cls, address, value, owner, key):
    """Store value, an instance of cls (or for an array, a sequence; for
    a struct, a tuple of initializers), into the memory at address."""
    if isinstance(value, cls):
        size = _type_size(cls)
        if size and value._b_addr_ != address:
            _ffi.memmove(address, value._b_addr_, size)
        if value._objects or isinstance(value, CFuncPtr):
            owner._keep(key, value)
        return
    if issubclass(cls, Array) and not isinstance(value, _CData):
        view = cls._view(address, owner)
        if issubclass(cls._type_, c_char) and isinstance(value, bytes):
            view.value = value
            return
        if len(value) > cls._length_:
            raise IndexError("too many initializers")
        for i, v in enumerate(value):
            view[i] = v
        return
    if issubclass(cls, _StructBase) and isinstance(value, tuple):
        view = cls._view(address, owner)
        view.__init__(*value)
        return
    if issubclass(cls, (_Pointer, CFuncPtr)) and value is None:
        _write_int(address, 0, 80, 0)
        return
    if issubclass(cls, _Pointer) and isinstance(value, Array) \
            and issubclass(value._type_, cls._type_):
        _ffi.write_int(address, 0, ord("P"), value._b_addr_)
        owner._keep(key, value)
        return
    raise TypeError("incompatible types, %s instance instead of %s instance"
                    % (type(value).__name__, cls.__name__))


# ---------------------------------------------------------------------------
# Arrays
# ---------------------------------------------------------------------------


class _ArrayMeta(_CDataMeta):

    def __new__(mcls, name, bases, ns):
        cls = super().__new__(mcls, name, bases, ns)
        if getattr(cls, "_type_", None) is None:
            return cls  # Array itself
        item = cls._type_
        length = cls._length_
        if not isinstance(item, _CDataMeta) or item._wt_ is None:
            raise TypeError("_type_ must have storage info")
        if not isinstance(length, int):
            raise TypeError("The '_length_' attribute must be an integer")
        if length < 0:
            raise ValueError("The '_length_' attribute must not be negative")
        cls._wt_ = _ffi.array_new(_handle(item), length)
        _set_size(cls, cls._wt_)
        return cls

    def from_param(cls, obj):
        if isinstance(obj, cls):
            return obj
        if isinstance(obj, _Pointer) and obj._type_ is cls._type_:
            return obj
        raise TypeError("expected %s instance instead of %s"
                        % (cls.__name__, type(obj).__name__))


class Array(_CData, metaclass=_ArrayMeta):
    """T * n's base: n elements of T, indexed and sliced as a sequence."""
    __slots__ = ()
    _wcode_ = "*"

    def __init__(self, *values):
        _alloc(self, type(self))
        if len(values) > self._length_:
            raise IndexError("indices must be integers")
        t = self._type_
        if t._wread_ == 1:
            addr, size, code = self._b_addr_, t._wsize_, t._wcodeord_
            for i, v in enumerate(values):
                if v.__class__ is not int or not _I64_MIN <= v <= _I64_MAX:
                    v = _int_bits(t._type_, v, None)
                _write_int(addr, i * size, code, v)
            return
        for i, v in enumerate(values):
            self[i] = v

    def __len__(self):
        return self._length_

    def _index(self, i):
        if not isinstance(i, int):
            raise TypeError("indices must be integers")
        n = self._length_
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("invalid index")
        return self._b_addr_ + i * _type_size(self._type_)

    def __getitem__(self, i):
        if i.__class__ is int and 0 <= i < self._length_:
            t = self._type_
            k = t._wread_
            if k == 1:
                return _read_int(self._b_addr_, i * t._wsize_, t._wcodeord_)
            if k == 2:
                return _read_double(self._b_addr_, i * t._wsize_,
                                    t._wcodeord_)
        if isinstance(i, slice):
            items = [self[k] for k in range(*i.indices(self._length_))]
            if self._type_ is c_char:
                return b"".join(items)
            if self._type_ is c_wchar:
                return "".join(items)
            return items
        return _get_item(self._type_, self._index(i), self)

    def __setitem__(self, i, value):
        if i.__class__ is int and 0 <= i < self._length_ and \
                value.__class__ is int and _I64_MIN <= value <= _I64_MAX:
            t = self._type_
            if t._wread_ == 1:
                _write_int(self._b_addr_, i * t._wsize_, t._wcodeord_, value)
                return
        if isinstance(i, slice):
            keys = range(*i.indices(self._length_))
            if len(value) != len(keys):
                raise ValueError("Can only assign sequence of same size")
            for k, v in zip(keys, value):
                self[k] = v
            return
        _set_item(self._type_, self._index(i), value, self)

    def __iter__(self):
        for i in range(self._length_):
            yield self[i]

    def __repr__(self):
        return "<%s object at %#x>" % (type(self).__name__, id(self))

    # c_char and c_wchar arrays: strings (create_string_buffer)
    @property
    def value(self):
        if self._type_ is c_char:
            raw = self.raw
            n = raw.find(b"\0")
            return raw if n < 0 else raw[:n]
        if self._type_ is c_wchar:
            s = self[:]
            n = s.find("\0")
            return s if n < 0 else s[:n]
        raise AttributeError("value")

    @value.setter
    def value(self, value):
        if self._type_ is c_char:
            if not isinstance(value, bytes):
                raise TypeError("bytes expected instead of %s instance"
                                % type(value).__name__)
            if len(value) > self._length_:
                raise ValueError("byte string too long")
            data = value + (b"\0" if len(value) < self._length_ else b"")
            if data:
                _ffi.memmove(self._b_addr_, _ffi.buffer_address(data),
                             len(data))
            return
        if self._type_ is c_wchar:
            if not isinstance(value, str):
                raise TypeError("unicode string expected instead of %s "
                                "instance" % type(value).__name__)
            if len(value) > self._length_:
                raise ValueError("string too long")
            for i, ch in enumerate(value):
                self[i] = ch
            if len(value) < self._length_:
                self[len(value)] = "\0"
            return
        raise AttributeError("value")

    @property
    def raw(self):
        if self._type_ is not c_char:
            raise AttributeError("raw")
        return bytes(self)

    @raw.setter
    def raw(self, value):
        if self._type_ is not c_char:
            raise AttributeError("raw")
        value = bytes(memoryview(value))
        if len(value) > self._length_:
            raise ValueError("byte string too long")
        if value:
            _ffi.memmove(self._b_addr_, _ffi.buffer_address(value),
                         len(value))


_ARRAYS = {}


def _array_type(cls, length):
    if not isinstance(length, int):
        raise TypeError("can't multiply sequence by non-int of type '%s'"
                        % type(length).__name__)
    key = (cls, length)
    t = _ARRAYS.get(key)
    if t is None:
        if length < 0:
            raise ValueError("Array length must be >= 0, not %d" % length)
        t = _ArrayMeta("%s_Array_%d" % (cls.__name__, length), (Array,),
                       {"__slots__": (), "_type_": cls, "_length_": length})
        _ARRAYS[key] = t
    return t


def ARRAY(typ, length):
    return typ * length


def create_string_buffer(init, size=None):
    """A c_char array: of init bytes plus a NUL (or size bytes), or of
    init zero bytes if init is an int."""
    if isinstance(init, bytes):
        if size is None:
            size = len(init) + 1
        buf = (c_char * size)()
        buf.value = init
        return buf
    if isinstance(init, int):
        return (c_char * init)()
    raise TypeError(init)


def create_unicode_buffer(init, size=None):
    if isinstance(init, str):
        if size is None:
            size = len(init) + 1
        buf = (c_wchar * size)()
        buf.value = init
        return buf
    if isinstance(init, int):
        return (c_wchar * init)()
    raise TypeError(init)


# ---------------------------------------------------------------------------
# Structures and unions
# ---------------------------------------------------------------------------


class CField(object):
    """A field of a Structure or Union (ctypes 3.14's CField): where it is
    (offset, size; for a bitfield bit_offset and bit_size inside the
    byte_size bytes at byte_offset, read in the struct's byte order),
    read and written through the engine."""
    __slots__ = ("name", "type", "offset", "size", "byte_offset",
                 "byte_size", "bit_offset", "bit_size", "is_bitfield",
                 "is_anonymous", "index", "_st", "_kind")

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        kind = self._kind
        if kind == 1:
            return _int_value(self.type._type_, _ffi.struct_get_int(
                self._st, self.index, obj._b_addr_))
        if kind == 2:
            return _ffi.struct_get_double(self._st, self.index,
                                          obj._b_addr_)
        return self.type._view(obj._b_addr_ + self.offset, obj)

    def __set__(self, obj, value):
        kind = self._kind
        if kind and isinstance(value, self.type) and \
                isinstance(value, _SimpleCData):
            value = value.value
        if kind == 1:
            bits = _int_bits(self.type._type_, value,
                             lambda o: obj._keep(self.index, o))
            _ffi.struct_set_int(self._st, self.index, obj._b_addr_, bits)
        elif kind == 2:
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise TypeError("must be real number, not %s"
                                % type(value).__name__) from None
            _ffi.struct_set_double(self._st, self.index, obj._b_addr_,
                                   value)
        else:
            _copy_into(self.type, obj._b_addr_ + self.offset, value, obj,
                       self.index)

    def __repr__(self):
        if self.is_bitfield:
            return "<%s type=%s, ofs=%d, bit_size=%d, bit_offset=%d>" % (
                type(self).__name__, self.type.__name__, self.byte_offset,
                self.bit_size, self.bit_offset)
        return "<%s type=%s, ofs=%d, size=%d>" % (
            type(self).__name__, self.type.__name__, self.offset, self.size)


class _AnonField(object):
    """A field of an _anonymous_ member, reached from the outer struct."""
    __slots__ = ("outer", "inner", "offset")

    def __init__(self, outer, inner):
        self.outer = outer
        self.inner = inner
        self.offset = outer.offset + inner.offset

    def __get__(self, obj, cls=None):
        if obj is None:
            return self
        return self.inner.__get__(self.outer.__get__(obj))

    def __set__(self, obj, value):
        self.inner.__set__(self.outer.__get__(obj), value)


_LAYOUTS = {"gcc-sysv": 0, "ms": _FFI_MS}


class _StructMeta(_CDataMeta):
    """Structure's and Union's metaclass: the engine builds the layout
    when _fields_ is set (in the class body or later, once)."""

    def __new__(mcls, name, bases, ns, **kwargs):
        cls = super().__new__(mcls, name, bases, ns, **kwargs)
        if ns.get("_wbase_"):
            return cls  # Structure, Union and the endian bases
        flags = cls._wflags_
        layout = getattr(cls, "_layout_", None)
        if layout is not None:
            if layout not in _LAYOUTS:
                raise ValueError("unknown _layout_ %r (expected 'gcc-sysv' "
                                 "or 'ms')" % (layout,))
            flags |= _LAYOUTS[layout]
        pack = ns.get("_pack_", 0)
        align = ns.get("_align_", 0)
        for what, v in (("_pack_", pack), ("_align_", align)):
            if not isinstance(v, int) or isinstance(v, bool):
                raise TypeError("%s must be an int" % what)
            if v < 0:
                raise ValueError("%s must be a non-negative integer" % what)
        type.__setattr__(cls, "_wt_", _ffi.struct_new(flags, pack, align))
        type.__setattr__(cls, "_wfields_", None)
        if "_fields_" in ns:
            cls._set_fields(ns["_fields_"])
        return cls

    def __setattr__(cls, name, value):
        if name == "_fields_" and not cls.__dict__.get("_wbase_"):
            cls._set_fields(value)
            return
        super().__setattr__(name, value)

    def _set_fields(cls, fields):
        if cls.__dict__.get("_wfields_") is not None or \
                "_wsize_" in cls.__dict__:
            raise AttributeError("_fields_ is final")
        if not isinstance(fields, (list, tuple)):
            raise TypeError("_fields_ must be a sequence of pairs")
        st = cls._wt_
        base = cls.__mro__[1]
        entries = []
        if isinstance(base, _StructMeta) and not base.__dict__.get("_wbase_"):
            # a subclass of a struct with fields: the base first, as a
            # member at offset 0 (ctypes lays it out the same way)
            _ffi.struct_add(st, "", _handle(base), -1)
            entries.append(None)
        for i, f in enumerate(fields):
            if not isinstance(f, tuple) or len(f) not in (2, 3):
                raise TypeError("'_fields_' must be a sequence of (name, "
                                "C type) pairs")
            fname, ftype = f[0], f[1]
            if not isinstance(fname, str):
                raise TypeError("field name must be str, not %s"
                                % type(fname).__name__)
            if not isinstance(ftype, _CDataMeta) or ftype._wt_ is None:
                raise TypeError("second item in _fields_ tuple (index %d) "
                                "must be a C type" % i)
            bits = -1
            if len(f) == 3:
                bits = f[2]
                if not isinstance(bits, int) or isinstance(bits, bool):
                    raise TypeError("bit size must be an int")
                if not (issubclass(ftype, _SimpleCData)
                        and ftype._type_ in "?cubBhHiIlLqQ"):
                    raise TypeError("bit fields not allowed for type %s"
                                    % ftype.__name__)
                if bits < 0 or bits > 8 * ftype._wsize_ or \
                        (ftype._type_ == "?" and bits > 1):
                    raise ValueError("number of bits invalid for bit field "
                                     "%r" % fname)
            _ffi.struct_add(st, fname, _handle(ftype), bits)
            entries.append((fname, ftype, bits))
        _ffi.struct_finish(st)
        _set_size(cls, st)
        anonymous = set(cls.__dict__.get("_anonymous_", ()))
        descs = []
        for index, entry in enumerate(entries):
            if entry is None:
                continue
            fname, ftype, bits = entry
            offset, unit, bit_offset, fbits = _ffi.field_layout(st, index)
            d = CField()
            d.name, d.type, d.index, d._st = fname, ftype, index, st
            d.byte_offset = d.offset = offset
            d.byte_size = d.size = unit
            d.is_bitfield = bits >= 0
            d.bit_offset = bit_offset if bits >= 0 else 0
            d.bit_size = bits if bits >= 0 else 8 * unit
            d.is_anonymous = fname in anonymous
            if issubclass(ftype, _SimpleCData) and ftype._wplain_:
                d._kind = 2 if ftype._type_ in "fdg" else 1
            else:
                d._kind = 1 if d.is_bitfield else 0
            if fname:
                type.__setattr__(cls, fname, d)
            descs.append(d)
        for name in anonymous:
            outer = cls.__dict__.get(name)
            if not isinstance(outer, CField):
                raise AttributeError("'%s' is specified in _anonymous_ but "
                                     "not in _fields_" % name)
            for inner in _field_list(outer.type):
                if inner.name:
                    type.__setattr__(cls, inner.name,
                                     _AnonField(outer, inner))
        type.__setattr__(cls, "_wfields_", tuple(descs))
        type.__setattr__(cls, "_fields_", tuple(fields))

    def _finish(cls):
        """Lay out a struct that got no _fields_ (size 0; then final)."""
        if "_wsize_" not in cls.__dict__:
            if cls.__dict__.get("_wfields_") is None:
                cls._set_fields(())

    def from_param(cls, obj):
        if isinstance(obj, cls):
            return obj
        ap = getattr(obj, "_as_parameter_", _NO)
        if ap is not _NO:
            return cls.from_param(ap)
        raise TypeError("expected %s instance instead of %s"
                        % (cls.__name__, type(obj).__name__))


def _field_list(cls):
    """Every named field of a struct type, its bases' first."""
    out = []
    for k in reversed(cls.__mro__):
        out.extend(k.__dict__.get("_wfields_") or ())
    return out


class _StructBase(_CData, metaclass=_StructMeta):
    _wbase_ = True
    _wflags_ = 0
    _wcode_ = "X"

    def __init__(self, *args, **kwargs):
        cls = type(self)
        names = [f.name for f in _field_list(cls) if f.name]
        if len(args) > len(names):
            raise TypeError("too many initializers")
        for name, value in zip(names, args):
            setattr(self, name, value)
        for name, value in kwargs.items():
            if name in names[:len(args)]:
                raise TypeError("duplicate values for field %r" % name)
            setattr(self, name, value)

    def __new__(cls, *args, **kwargs):
        obj = object.__new__(cls)
        _alloc(obj, cls)
        return obj

    def __repr__(self):
        return "<%s object at %#x>" % (type(self).__name__, id(self))


class Structure(_StructBase):
    """A C struct: subclass it and set _fields_."""
    _wbase_ = True
    _wflags_ = 0


class Union(_StructBase):
    """A C union: subclass it and set _fields_."""
    _wbase_ = True
    _wflags_ = _FFI_UNION


class BigEndianStructure(Structure):
    """A struct whose scalar fields are stored big-endian."""
    _wbase_ = True
    _wflags_ = _FFI_BIG


class LittleEndianStructure(Structure):
    """A struct whose scalar fields are stored little-endian."""
    _wbase_ = True
    _wflags_ = _FFI_LITTLE


class BigEndianUnion(Union):
    _wbase_ = True
    _wflags_ = _FFI_UNION | _FFI_BIG


class LittleEndianUnion(Union):
    _wbase_ = True
    _wflags_ = _FFI_UNION | _FFI_LITTLE


def resize(obj, size):
    raise ValueError("weft.ctypes objects cannot be resized")


# ---------------------------------------------------------------------------
# Memory helpers
# ---------------------------------------------------------------------------


def cast(obj, typ):
    """obj (an int address, None, bytes, or a C object: a pointer's value,
    an array's address) as a pointer of type typ (ctypes.cast)."""
    if not (isinstance(typ, _CDataMeta) and (
            issubclass(typ, (_Pointer, CFuncPtr)) or
            (issubclass(typ, _SimpleCData) and typ._type_ in "zZP"))):
        raise TypeError("cast() argument 2 must be a pointer type, not %s"
                        % getattr(typ, "__name__", type(typ).__name__))
    addr = _address_of(obj)
    if issubclass(typ, CFuncPtr):
        return typ(addr)
    out = typ.__new__(typ)
    _alloc(out, typ)
    _ffi.write_int(out._b_addr_, 0, ord("P"), _to_int64(addr))
    if isinstance(obj, (_CData, CFuncPtr, bytes)):
        out._keep("cast", obj)
    return out


def string_at(address, size=-1):
    """The bytes at address: size of them, or up to the first NUL."""
    return _ffi.string_at(_address_of(address), size)


def memmove(dst, src, count):
    """memmove(dst, src, count); returns dst's address."""
    d = _address_of(dst)
    _ffi.memmove(d, _address_of(src), count)
    return d


def memset(dst, c, count):
    """memset(dst, c, count); returns dst's address."""
    d = _address_of(dst)
    _ffi.memset(d, c, count)
    return d


def get_errno():
    """The calling thread's saved errno of use_errno calls."""
    return _ffi.errno_get()


def set_errno(value):
    """Set it; returns the old value."""
    return _ffi.errno_set(value)


def find_library(name):
    """The file name of a library by short name ("c" gives "libc.so.6"),
    or None (the engine's weft_ffi_find_library)."""
    try:
        return _ffi.find_library(name)
    except (FileNotFoundError, ValueError):
        return None


# ---------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------

def _mode(bits):
    return chr(64 + bits)


def _restype_info(rt):
    """(engine handle or 0, result code, conversion of the raw result or
    None) of a restype."""
    if rt is None:
        return 0, "v", None
    if isinstance(rt, _CDataMeta):
        h = _handle(rt)
        if issubclass(rt, _SimpleCData):
            if rt._wplain_:
                return h, rt._type_, None
            code = rt._type_

            def wrap(r, rt=rt, code=code):
                if code in "zZP":
                    return _pointer_of_value(rt, r)
                obj = rt()
                obj.value = r
                return obj
            return h, "*" if code in "zZP" else code, wrap
        if issubclass(rt, (_Pointer, CFuncPtr)):
            def wrap_ptr(r, rt=rt):
                if issubclass(rt, CFuncPtr):
                    return rt(r or 0)
                return _pointer_of_value(rt, r)
            return h, "*", wrap_ptr
        if issubclass(rt, _StructBase):
            return h, "X", None
        raise TypeError("%s is not a valid result type" % rt.__name__)
    if callable(rt):
        # ctypes' deprecated form: the int result through a callable
        return _code_handle("i"), "i", rt
    raise TypeError("restype must be a type, a callable, or None")


def _default_type(a):
    """The C type of an argument that no argtype describes, as C's
    default promotions pass it (ctypes' rules; a float is a double)."""
    if isinstance(a, _CData):
        t = type(a)
        if isinstance(a, _SimpleCData):
            code = t._type_
            if code in "?cbBhHu":
                return c_int
            if code == "f":
                return c_double
        return t
    if isinstance(a, _CArg):
        return c_void_p
    if a is None:
        return c_void_p
    if isinstance(a, bool) or isinstance(a, int):
        return c_int
    if isinstance(a, bytes):
        return c_char_p
    if isinstance(a, str):
        return c_wchar_p
    if isinstance(a, float):
        return c_double
    if isinstance(a, CFuncPtr):
        return c_void_p
    return None


def _to_primitive(t, v, keep):
    """An argument that t.from_param gave (v) as what the strict call
    takes for t's code."""
    code = t._wcode_
    if code == "X":
        if not isinstance(v, t):
            raise TypeError("expected %s instance instead of %s"
                            % (t.__name__, type(v).__name__))
        keep.append(v)
        return v._b_addr_
    if code in "zZP*":
        if isinstance(v, _ADDRESSABLE):
            keep.append(v)
            return _pointer_value(v)
        if code == "*" and v is not None and not isinstance(v, int):
            raise TypeError("wrong type")
        return v
    if isinstance(v, _SimpleCData):
        return v.value
    return v


class _FuncMeta(_CDataMeta):

    def _view(cls, address, base):
        """A function pointer stored at address (a field, an element)."""
        f = cls(_ffi.read_int(address, 0, ord("P")) & _U64)
        f._b_base_ = base
        return f

    def from_param(cls, obj):
        if obj is None or isinstance(obj, cls):
            return obj
        if isinstance(obj, int):
            return obj
        ap = getattr(obj, "_as_parameter_", _NO)
        if ap is not _NO:
            return cls.from_param(ap)
        raise TypeError("expected %s instance instead of %s"
                        % (cls.__name__, type(obj).__name__))


class CFuncPtr(_ffi.FuncBase, metaclass=_FuncMeta):
    """A C function: from (name, library), an address, or (made with
    CFUNCTYPE) a Python callable, which it wraps in a closure C can
    call.  Calls go straight to _ffi.FuncBase's __call__ (C, on the SWIG
    backend), which comes back to _prepare and _call_converted here."""
    __slots__ = _CData.__slots__ + (
        "_argtypes", "_restype", "_errcheck", "_shapes", "_dll", "_closure",
        "_callable", "_addr", "_wflags", "_release", "_name", "__dict__")
    _wt_ = None
    _wcode_ = "*"  # a function pointer: an int only through from_param
    _wread_ = 0
    _wtakes_ = frozenset([type(None)])
    _keep = _CData._keep
    __bytes__ = _CData.__bytes__
    __reduce__ = _CData.__reduce__
    _flags_ = 0
    _argtypes_ = None
    _restype_ = c_int

    def __init__(self, *args):
        _alloc(self, type(self))
        self._argtypes = type(self)._argtypes_
        self._restype = type(self)._restype_
        self._errcheck = None
        self._h = 0
        self._fast = None
        self._post = None
        self._cplans = None
        self._shapes = {}
        self._dll = None
        self._closure = None
        self._callable = None
        self._name = None
        self._wflags = type(self)._flags_
        self._release = not (self._wflags & _FUNCFLAG_PYTHONAPI)
        if len(args) == 1 and isinstance(args[0], int):
            self._addr = args[0]
        elif len(args) == 1 and callable(args[0]):
            self._make_closure(args[0])
        elif len(args) in (1, 2) and isinstance(args[0], tuple):
            name, dll = args[0]
            self._bind(dll, name)
        elif not args:
            self._addr = 0
        else:
            raise TypeError("argument must be callable or integer function "
                            "address")
        _ffi.write_int(self._b_addr_, 0, ord("P"), _to_int64(self._addr))

    def _bind(self, dll, name):
        self._dll = dll
        self._name = name if isinstance(name, str) else None
        self.__name__ = name if isinstance(name, str) else "#%d" % name
        if dll._closed:
            raise _closed_error(dll)
        self._addr = _ffi.library_symbol(dll._handle, name)
        self._wflags = dll._func_flags_
        self._release = not (self._wflags & _FUNCFLAG_PYTHONAPI)
        dll._funcs.add(self)

    # argtypes, restype, errcheck: set any time; the engine's function is
    # prepared again at the next call
    @property
    def argtypes(self):
        return self._argtypes

    @argtypes.setter
    def argtypes(self, value):
        if value is not None:
            value = tuple(value)
            for i, t in enumerate(value):
                if not isinstance(t, _CDataMeta) or t._wt_ is None:
                    if not hasattr(t, "from_param"):
                        raise TypeError("item %d in _argtypes_ has no "
                                        "from_param method" % (i + 1))
                    raise TypeError("item %d in _argtypes_ is not a weft."
                                    "ctypes type" % (i + 1))
        self._argtypes = value
        self._reset()

    @argtypes.deleter
    def argtypes(self):
        self.argtypes = None

    @property
    def restype(self):
        return self._restype

    @restype.setter
    def restype(self, value):
        if value is not None and not isinstance(value, _CDataMeta) and \
                not callable(value):
            raise TypeError("restype must be a type, a callable, or None")
        _restype_info(value)  # refuses what it cannot return
        self._restype = value
        self._reset()

    @restype.deleter
    def restype(self):
        self.restype = c_int

    @property
    def errcheck(self):
        return self._errcheck

    @errcheck.setter
    def errcheck(self, value):
        if value is not None and not callable(value):
            raise TypeError("the errcheck attribute must be callable")
        self._errcheck = value
        self._reset()

    @errcheck.deleter
    def errcheck(self):
        self.errcheck = None

    def _reset(self):
        with _prepare_mu:
            old = set([self._h] + [h for h, _ in self._shapes.values()])
            self._h = 0
            self._fast = None
            self._shapes = {}
            self.__dict__.pop("_plans", None)
            self._cplans = None
        for h in old:
            if h:
                try:
                    _ffi.close(h)
                except BadHandleError:
                    pass

    def _invalidate(self):
        """The library was closed: calls now fail on the closed handles
        (BadHandleError) and nothing is prepared again."""
        for h in set([self._h] + [h for h, _ in self._shapes.values()]):
            if h:
                try:
                    _ffi.close(h)
                except BadHandleError:
                    pass
        self._addr = 0

    def __del__(self):
        try:
            self._reset()
            if self._closure is not None:
                closure, key = self._closure
                self._closure = None
                _ffi.closure_forget(closure, key)
        except Exception:
            pass

    def _check_open(self):
        if self._dll is not None and self._dll._closed:
            raise _closed_error(self._dll)
        if not self._addr:
            raise ValueError("NULL function pointer")

    def _prepare(self):
        """Make the engine's function for argtypes and restype; the
        code string of the fast call."""
        with _prepare_mu:
            if self._fast is None:
                self._prepare_locked()
        return self._fast

    def _prepare_locked(self):
        self._check_open()
        rh, rcode, conv = _restype_info(self._restype)
        errcheck = self._errcheck
        mode = _ffi.MODE_RELEASE if self._release else 0
        argtypes = self._argtypes
        flags = _CALL_ERRNO if self._wflags & _FUNCFLAG_USE_ERRNO else 0
        if argtypes is None or rcode == "X":
            fast = "%s%s" % (rcode, _mode(mode | _ffi.MODE_DEFER))
            h = 0
        else:
            handles = [_handle(t) for t in argtypes]
            h = _ffi.function_new(self._addr, rh, handles, 0, 0, flags)
            fast = rcode + _mode(mode) + "".join(t._wcode_ for t in argtypes)
        if conv is not None and errcheck is not None:
            def post(r, args, conv=conv, errcheck=errcheck, self=self):
                return errcheck(conv(r), self, args)
        elif errcheck is not None:
            def post(r, args, errcheck=errcheck, self=self):
                return errcheck(r, self, args)
        elif conv is not None:
            def post(r, args, conv=conv):
                return conv(r)
        else:
            post = None
        self._h = h
        self._post = post
        fast = fast.encode("ascii")
        self._strict = fast[:1] + _mode(
            (fast[1] - 64 | _ffi.MODE_STRICT) & ~_ffi.MODE_DEFER).encode() \
            + fast[2:]
        self._fast = fast
        return fast

    def _shape(self, types, nfixed):
        """The engine's function for this call shape (argument types,
        nfixed of them fixed), cached."""
        key = (tuple(types), nfixed)
        got = self._shapes.get(key)
        if got is not None:
            return got
        with _prepare_mu:
            got = self._shapes.get(key)
            if got is None:
                got = self._new_shape(key, types, nfixed)
        return got

    def _new_shape(self, key, types, nfixed):
        rh, rcode, _ = _restype_info(self._restype)
        flags = _CALL_ERRNO if self._wflags & _FUNCFLAG_USE_ERRNO else 0
        if nfixed < len(types) and nfixed > 0:
            flags |= _CALL_VARIADIC
        self._check_open()
        h = _ffi.function_new(self._addr, rh, [_handle(t) for t in types],
                              nfixed, 0, flags)
        mode = _ffi.MODE_STRICT | (_ffi.MODE_RELEASE if self._release else 0)
        codes = (rcode + _mode(mode) + "".join(t._wcode_ for t in types))
        got = self._shapes[key] = (h, codes.encode("ascii"))
        return got

    def _call_converted(self, args):
        """A call the fast path declined: convert every argument by its
        argtype's from_param (ctypes' rules), extra ones by the default
        promotions (a variadic call shape), then call strictly.  What a
        call does depends only on its arguments' Python types: it is kept
        as a plan by those types, and the next call with the same ones
        only runs the conversions the plan lists."""
        if self._fast is None:
            self._prepare()
        plans = self.__dict__.get("_plans")
        key = tuple([a.__class__ for a in args])
        plan = plans.get(key) if plans is not None else None
        if plan is None:
            plan, args = self._plan(args, key)
        h, codes, steps = plan
        keep = []
        if steps:
            values = list(args)
            for i, kind, t in steps:
                a = values[i]
                if kind == 4:  # an array or struct: its bytes' address
                    values[i] = a._b_addr_
                    continue
                if kind == 5:  # a pointer: its value
                    values[i] = _read_int(a._b_addr_, 0, 80) & _U64
                    continue
                if kind == 6:  # a plain fundamental: its value
                    values[i] = a.value
                    continue
                if kind == 2:  # an int with no argtype: a C int, if it fits
                    if not -(1 << 63) <= a < (1 << 64):
                        raise ArgumentError("argument %d: OverflowError: int "
                                            "too long to convert" % (i + 1))
                    continue
                if kind == 3:  # a fundamental C's default promotions widen
                    a = _promoted(a)
                values[i] = self._convert(i, t, a, keep)
            values = tuple(values)
        else:
            values = args
        if codes[:1] == b"X":
            r = self._restype()
            _call(h, codes, values, r._b_addr_)
        else:
            r = _call(h, codes, values)
        post = self._post
        if post is not None:
            return post(r, args)
        return r

    def _plan(self, args, key):
        """(function, codes, steps) for arguments of these Python types:
        steps lists (index, kind, C type) of the conversions to make
        (1 from_param, 2 an int's range, 3 promoted, then from_param);
        and args, an extra argument's _as_parameter_ in its place."""
        argtypes = self._argtypes
        steps = []
        types = []
        nfixed = 0
        cachable = True
        if argtypes is not None:
            n = len(argtypes)
            if len(args) < n:
                raise TypeError("this function takes at least %d argument%s "
                                "(%d given)" % (n, "" if n == 1 else "s",
                                                len(args)))
            for i, t in enumerate(argtypes):
                a = args[i]
                if a.__class__ not in t._wtakes_:
                    steps.append((i, _param_kind(t, a), t))
            types = list(argtypes)
            nfixed = n
        for i in range(len(types), len(args)):
            a = args[i]
            t = _DEFAULTS.get(a.__class__)
            if t is not None:
                if a.__class__ is int:
                    steps.append((i, 2, t))
                types.append(t)
                continue
            if not isinstance(a, (_CData, CFuncPtr, _CArg)) and \
                    hasattr(a, "_as_parameter_"):
                # what it stands for may differ from one object to the
                # next: converted here, and the plan not kept
                cachable = False
                a = a._as_parameter_
                t = _default_type(a)
                if t is None:
                    raise ArgumentError("argument %d: TypeError: Don't know "
                                        "how to convert parameter %d"
                                        % (i + 1, i + 1))
                args = args[:i] + (a,) + args[i + 1:]
                steps.append((i, 3 if isinstance(a, _SimpleCData) and
                              t is not type(a) else 1, t))
                types.append(t)
                continue
            t = _default_type(a)
            if t is None:
                raise ArgumentError("argument %d: TypeError: Don't know how "
                                    "to convert parameter %d"
                                    % (i + 1, i + 1))
            steps.append((i, 3 if isinstance(a, _SimpleCData) and
                          t is not type(a) else 1, t))
            types.append(t)
        if argtypes is not None and len(types) == len(argtypes) and self._h:
            h, codes = self._h, self._strict
        else:
            h, codes = self._shape(types, nfixed if argtypes else 0)
            if argtypes is None and not steps and codes[:1] != b"X":
                # no argtypes and nothing to convert: the next call of
                # these Python types goes straight through C
                self._h = h
                self._fast = codes[:1] + _mode(
                    (codes[1] - 64 | _ffi.MODE_EXACT) &
                    ~_ffi.MODE_STRICT).encode() + codes[2:]
        plan = (h, codes, steps)
        if cachable:
            # the plan as FuncBase's C carries it out (the SWIG backend):
            # one kind per argument, if none needs from_param
            kinds = bytearray(b"0" * len(args))
            for i, kind, _ in steps:
                # 6: the code to read the fundamental's value by
                kinds[i] = ord(args[i]._type_) if kind == 6 else kind + 48
            cplan = None if codes[:1] == b"X" or b"1" in kinds or \
                b"3" in kinds else (h, codes, bytes(kinds))
            with _prepare_mu:
                plans = self.__dict__.get("_plans")
                if plans is None or len(plans) >= _PLANS_MAX:
                    plans = self.__dict__["_plans"] = {}
                    self._cplans = {}
                plans[key] = plan
                if cplan is not None and self._cplans is not None:
                    self._cplans[key] = cplan
        return plan, args

    def _convert(self, i, t, a, keep):
        try:
            return _to_primitive(t, t.from_param(a), keep)
        except (TypeError, ValueError, OverflowError) as e:
            raise ArgumentError("argument %d: %s: %s"
                                % (i + 1, type(e).__name__, e)) from None

    # callbacks
    def _make_closure(self, fn):
        cls = type(self)
        argtypes = cls._argtypes_ or ()
        rt = cls._restype_
        rh, rcode, _ = _restype_info(rt)
        handles = [_handle(t) for t in argtypes]
        flags = _CALL_ERRNO if cls._flags_ & _FUNCFLAG_USE_ERRNO else 0
        sig = _ffi.function_new(None, rh, handles, 0, 0, flags)
        codes = [rcode]
        direct = rcode not in "X*"
        for t in argtypes:
            c = t._wcode_
            if not (issubclass(t, _SimpleCData) and t._wplain_):
                direct = False
            if issubclass(t, (_Pointer, Array)):
                c = "X"  # the address of C's pointer (see _callback_handler)
            codes.append(c)
        retsize = _type_size(rt) if isinstance(rt, _CDataMeta) else 0
        codes = "".join(codes).encode("ascii")
        try:
            if direct:
                self._closure = _ffi.closure_new(sig, fn, codes, retsize)
            elif _ffi.backend == "swig":
                convs, after, rconv = _callback_parts(argtypes, rt)
                self._closure = _ffi.closure_new(
                    sig, fn, codes, retsize, tuple(convs), tuple(after),
                    rconv)
            else:
                handler = _callback_handler(fn, *_callback_parts(argtypes,
                                                                 rt))
                self._closure = _ffi.closure_new(sig, handler, codes,
                                                 retsize)
        finally:
            _ffi.close(sig)
        self._callable = fn
        self._addr = _ffi.closure_address(self._closure[0])
        self.__name__ = getattr(fn, "__name__", "callback")

    def __repr__(self):
        return "<%s object at %#x>" % (type(self).__name__, id(self))

    def __bool__(self):
        return bool(self._addr)


_ADDRESSABLE = (_CData, _CArg, CFuncPtr)
_PLANS_MAX = 64  # call plans kept per function (by argument types)


def _param_kind(t, a):
    """How a plan passes a, an argument of argtype t: 1 through
    t.from_param, or when that is certain to give the object itself for
    any object of a's class (no from_param of t's own, an array, struct
    or pointer instance t takes), 4 by its address, 5 by its pointer
    value or 6 by its value (a plain fundamental read as it is)."""
    if any("from_param" in k.__dict__ for k in t.__mro__):
        return 1
    try:
        if t.from_param(a) is not a:
            return 1
    except Exception:
        return 1  # the call raises ArgumentError
    if isinstance(a, _SimpleCData) and a._wplain_ and a._wread_ and \
            t._wcode_ not in "zZP*X":
        return 6  # a plain fundamental of an integer or float code
    if isinstance(a, (Array, _StructBase)):
        return 4
    if isinstance(a, (_Pointer, CFuncPtr)) or (
            isinstance(a, _SimpleCData) and a._type_ in "zZP"):
        return 5
    return 1


def _promoted(a):
    """A fundamental's value as C's default promotions pass it."""
    a = a.value
    if isinstance(a, bytes):
        return a[0]
    if isinstance(a, str):
        return ord(a)
    if isinstance(a, bool):
        return int(a)
    return a

_prepare_mu = _threading.RLock()
# the C types of extra arguments by their Python type (ctypes' default
# conversions; a float is a double)
_DEFAULTS = {int: c_int, bool: c_int, bytes: c_char_p, str: c_wchar_p,
             float: c_double, type(None): c_void_p}
_FUNCFLAG_CDECL = 1
_FUNCFLAG_USE_ERRNO = 8
_FUNCFLAG_USE_LASTERROR = 16
_FUNCFLAG_PYTHONAPI = 4


def _callback_parts(argtypes, rt):
    """What a closure does around its callable when some argument or the
    result needs more than a scalar's conversion: (convs, after, rconv),
    per argument None or the conversion of the value C's code gave to the
    argument ctypes gives a callback (a class: a view of that class over
    the address C's code gave), per argument None or what to do
    with an argument the callable kept (_detach), and None or the
    conversion of the callable's result to what C's code takes."""
    convs = []
    views = []
    for t in argtypes:
        if issubclass(t, _SimpleCData):
            if t._wplain_:
                convs.append(None)
            elif t._type_ in "zZP":
                convs.append(lambda v, t=t: _pointer_of_value(t, v))
            else:
                def conv(v, t=t):
                    obj = t()
                    obj.value = v
                    return obj
                convs.append(conv)
        elif issubclass(t, _StructBase):
            def conv(v, t=t):
                # a copy: the bytes C passed are gone after the call
                return t.from_buffer_copy(_ffi.string_at(v, _type_size(t)))
            convs.append(conv)
        elif issubclass(t, CFuncPtr):
            convs.append(lambda v, t=t: t(v or 0))
        elif issubclass(t, (_Pointer, Array)):
            # a pointer over C's own argument (v is its address), made a
            # pointer with memory of its own after the call if the
            # callable kept it; an array is passed as a pointer to its
            # first element
            views.append(len(convs))
            convs.append(POINTER(t._type_) if issubclass(t, Array) else t)
        else:
            convs.append(lambda v, t=t: _pointer_of_value(t, v))
    rconv = None
    if isinstance(rt, _CDataMeta):
        if issubclass(rt, _StructBase):
            def rconv(r, rt=rt):
                if not isinstance(r, rt):
                    raise TypeError("expected %s instance instead of %s"
                                    % (rt.__name__, type(r).__name__))
                return bytes(r)
        elif issubclass(rt, (_Pointer, CFuncPtr)) or (
                issubclass(rt, _SimpleCData) and rt._type_ in "zZP"):
            def rconv(r):
                if r is None or isinstance(r, int):
                    return r
                return _pointer_value(r)
        elif issubclass(rt, _SimpleCData) and not rt._wplain_:
            def rconv(r, rt=rt):
                return r.value if isinstance(r, rt) else r

    after = [_detach if i in views else None for i in range(len(convs))]
    return convs, after, rconv


def _callback_handler(fn, convs, after, rconv):
    """_callback_parts around fn, in Python (the SWIG module does it in
    C)."""
    views = [i for i, a in enumerate(after) if a is not None]
    convs = [(lambda v, p=c: p._view(v, None)) if isinstance(c, type) else c
             for c in convs]

    def handler(*values):
        args = [c(v) if c is not None else v for c, v in zip(convs, values)]
        try:
            r = fn(*args)
        finally:
            for i in views:
                # referenced by args and getrefcount's argument only:
                # nothing kept it (CPython's reference counts)
                if _getrefcount(args[i]) > 2:
                    _detach(args[i])
        return rconv(r) if rconv is not None else r
    return handler


def _detach(ptr):
    """Give a pointer over C's memory memory of its own, same value."""
    v = _read_int(ptr._b_addr_, 0, 80)
    buf = bytearray(ptr._wsize_)
    addr = _buffer_address(buf)
    _write_int(addr, 0, 80, v)
    ptr._b_buf_ = buf
    ptr._b_addr_ = addr


_call = _ffi.call


def _closed_error(dll):
    return BadHandleError(-10001, "WEFT_EBADHANDLE",
                          "library %r is closed" % (dll._name,))


_FUNCTYPES = {}


def CFUNCTYPE(restype, *argtypes, use_errno=False, use_last_error=False):
    """The type of a C function pointer (cdecl): instances are made from
    a Python callable (a callback C can call, from any thread), an
    address, or (name, library)."""
    flags = _FUNCFLAG_CDECL
    if use_errno:
        flags |= _FUNCFLAG_USE_ERRNO
    if use_last_error:
        flags |= _FUNCFLAG_USE_LASTERROR
    return _functype(restype, argtypes, flags)


def PYFUNCTYPE(restype, *argtypes):
    """A function type whose calls keep the GIL (the Python C API's)."""
    return _functype(restype, argtypes, _FUNCFLAG_CDECL | _FUNCFLAG_PYTHONAPI)


def _functype(restype, argtypes, flags):
    key = (restype, argtypes, flags)
    try:
        return _FUNCTYPES[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable restype
        key = None
    for i, t in enumerate(argtypes):
        if not isinstance(t, _CDataMeta) or t._wt_ is None:
            raise TypeError("item %d in _argtypes_ is not a weft.ctypes type"
                            % (i + 1))
    _restype_info(restype)
    cls = _FuncMeta("CFunctionType", (CFuncPtr,), {
        "__slots__": (), "_argtypes_": tuple(argtypes),
        "_restype_": restype, "_flags_": flags})
    cls._wt_ = _code_handle("P")
    _set_size(cls, cls._wt_)
    if key is not None:
        _FUNCTYPES[key] = cls
    return cls


CFuncPtr._wt_ = _code_handle("P")
_set_size(CFuncPtr, CFuncPtr._wt_)
if _ffi.setup is not None:
    _Pointer.__getitem__ = _ffi.setup(_CData, CFuncPtr, _Pointer,
                                      _Pointer._getitem)
    for _p in list(_POINTERS.values()):
        if "_wthrough_" in _p.__dict__:
            _ffi.pointer_class(_p)
    _pointers_in_c = True

# ---------------------------------------------------------------------------
# Libraries
# ---------------------------------------------------------------------------


class CDLL(object):
    """A loaded library (dlopen), its functions as attributes: cdecl,
    returning int until restype says otherwise, and releasing the GIL
    while they run.  name None is the process's own namespace."""
    _func_flags_ = _FUNCFLAG_CDECL
    _func_restype_ = c_int

    def __init__(self, name, mode=DEFAULT_MODE, handle=None,
                 use_errno=False, use_last_error=False, winmode=None):
        if hasattr(name, "__fspath__"):
            name = name.__fspath__()
        self._name = name
        flags = self._func_flags_
        if use_errno:
            flags |= _FUNCFLAG_USE_ERRNO
        if use_last_error:
            flags |= _FUNCFLAG_USE_LASTERROR
        self._func_flags_ = flags
        self._closed = False
        self._funcs = _weakref.WeakSet()
        if handle is None:
            try:
                handle = _ffi.library_open(name, mode)
            except FFIError as e:
                # ctypes' error for a library dlopen refuses
                raise OSError(e.message.split(": ", 1)[-1]) from e
        self._handle = handle

        class _FuncPtr(CFuncPtr):
            __slots__ = ()
            _flags_ = flags
            _restype_ = self._func_restype_
        _FuncPtr._wt_ = CFuncPtr._wt_
        _FuncPtr._wsize_ = CFuncPtr._wsize_
        _FuncPtr._walign_ = CFuncPtr._walign_
        self._FuncPtr = _FuncPtr

    def __repr__(self):
        return "<%s '%s', handle %x at %#x>" % (
            type(self).__name__, self._name, self._handle, id(self))

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        func = self.__getitem__(name)
        self.__dict__[name] = func
        return func

    def __getitem__(self, name_or_ordinal):
        try:
            return self._FuncPtr((name_or_ordinal, self))
        except FileNotFoundError as e:
            raise AttributeError("%s: undefined symbol: %s"
                                 % (self._name, name_or_ordinal)) from e

    def function(self, signature):
        """A function declared by a C signature (weft's, not ctypes'), its
        argtypes and restype set from it: lib.function("size_t strlen(
        const char *s)"); "..." makes the rest of a call's arguments
        variadic ones.  The engine parses it (weft_ffi_library_function,
        docs/ffi.md): a malformed signature is a ValueError with the
        column, a missing symbol an AttributeError."""
        lib = _ffi.lib
        if self._closed:
            raise _closed_error(self)
        try:
            h = lib.ffi_library_function(self._handle, signature, 0)
        except FileNotFoundError as e:
            raise AttributeError("%s: undefined symbol in %r"
                                 % (self._name, signature)) from e
        try:
            name = lib.ffi_function_name(h)
            nargs, nfixed = lib.ffi_function_arg_count(h)
            restype = _type_of(lib.ffi_function_restype(h))
            argtypes = [_type_of(lib.ffi_function_argtype(h, i))
                        for i in range(nfixed)]
        finally:
            _ffi.close(h)
        f = self._FuncPtr((name, self))
        f.restype = restype
        f.argtypes = argtypes
        return f

    def close(self):
        """Close the library (weft's, not ctypes'): its functions' calls
        then raise BadHandleError; the dlclose happens when no call uses
        it any more."""
        if self._closed:
            return
        self._closed = True
        for f in list(self._funcs):
            f._invalidate()
        _ffi.close(self._handle)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _type_of(h):
    """The fundamental class of an engine type handle (closed here); None
    for void."""
    try:
        code = _ffi.lib.ffi_type_code(h)
    finally:
        _ffi.close(h)
    if code == 0:
        return None
    return _BY_CODE[chr(code)]


_BY_CODE = {t._type_: t for t in (
    c_bool, c_char, c_wchar, c_byte, c_ubyte, c_short, c_ushort, c_int,
    c_uint, c_long, c_ulong, c_longlong, c_ulonglong, c_float, c_double,
    c_longdouble, c_char_p, c_wchar_p, c_void_p)}


class PyDLL(CDLL):
    """A CDLL whose calls keep the GIL (and may use the Python C API)."""
    _func_flags_ = _FUNCFLAG_CDECL | _FUNCFLAG_PYTHONAPI


class LibraryLoader(object):
    """cdll.LoadLibrary(name), cdll.<name> (ctypes.LibraryLoader)."""

    def __init__(self, dlltype):
        self._dlltype = dlltype

    def __getattr__(self, name):
        if name[0] == "_":
            raise AttributeError(name)
        dll = self._dlltype(name)
        setattr(self, name, dll)
        return dll

    def __getitem__(self, name):
        return getattr(self, name)

    def LoadLibrary(self, name):
        return self._dlltype(name)


cdll = LibraryLoader(CDLL)
pydll = LibraryLoader(PyDLL)
