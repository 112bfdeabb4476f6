"""The ctypes engine's calls as weft.ctypes uses them, on either backend.

weft.ctypes never touches libffi, layouts or bits itself: every type,
struct layout, field access, library, prepared function and closure is
the engine's (the "ffi:" sections of abi/weft.h), reached through the
functions here.  Both backends give the same ones:

- the SWIG backend has the hot ones in C, in the SWIGPYTHON block of
  bindings/weft.i: FuncBase (the base of weft.ctypes' function objects,
  whose __call__ is C), ffi_call_py (convert the Python arguments into a
  stack buffer by a code string, call weft_ffi_call, convert the
  result), ffi_closure_new_py (a closure whose handler converts C's
  arguments to Python values in C, under the GIL, on whatever thread C
  calls it from), ffi_read_through (p[i]), ffi_buffer_address, and
  ffi_setup / ffi_pointer_class (weft.ctypes' classes for the C above:
  the slots it reads and writes directly, p[i] of a POINTER in C);
- the ctypes backend does the same in Python (weft/_ffi_ctypes.py), over
  libweft's functions bound with Python's own ctypes (the generated
  wrappers of weft.lib would cost a second conversion per call).

The code string of a call (built by weft.ctypes for each prepared
function): byte 0 the result's code, byte 1 the mode (MODE_* + '@'), then
one code per argument.  Codes: the ctypes codes ``? c u b B h H i I l L
q Q f d g z Z P`` of scalars; ``X``, an aggregate by value, passed as the
address of its bytes (an int); ``*``, any other pointer (an int address
or None), which is also how a result is returned that Python wraps; and
``v`` for a void result.  In the lenient mode an argument of a Python
type that the code does not take as it is (a weft.ctypes instance, a
byref) makes the call return NotImplemented, before C is called, and
weft.ctypes converts the arguments itself and calls again, strict.
"""

import weft

MODE_RELEASE = 1  # release the GIL around the C call (CDLL; PyDLL not)
MODE_STRICT = 2   # a wrong argument type is a TypeError
MODE_DEFER = 4    # always NotImplemented (weft.ctypes converts itself)
MODE_EXACT = 8    # each argument exactly the Python type of its code's
                  # default conversion: int i, float d, bytes z, str Z,
                  # None P (a function without argtypes)

lib = weft.lib
backend = weft.backend

# The generated wrappers that both backends have and that are not hot.
type_named = lib.ffi_type_named
pointer_new = lib.ffi_pointer_new
array_new = lib.ffi_array_new
type_size = lib.ffi_type_size
type_align = lib.ffi_type_align
struct_new = lib.ffi_struct_new
struct_add = lib.ffi_struct_add
struct_finish = lib.ffi_struct_finish
field_layout = lib.ffi_struct_field_layout
library_open = lib.ffi_library_open
library_symbol = lib.ffi_library_symbol
find_library = lib.ffi_find_library
close = lib.close

_U64 = (1 << 64) - 1
_I64_HALF = 1 << 63


def to_int64(v):
    """An int as the int64_t bit pattern of its low 64 bits (ctypes masks
    an int that does not fit, as C converts)."""
    v &= _U64
    return v - (1 << 64) if v >= _I64_HALF else v


if backend == "swig":
    from . import _weft_swig as _sw

    call = _sw.ffi_call_py
    FuncBase = _sw.FuncBase
    buffer_address = _sw.ffi_buffer_address
    read_through = _sw.ffi_read_through
    closure_new = _sw.ffi_closure_new_py
    setup = _sw.ffi_setup
    pointer_class = _sw.ffi_pointer_class
    closure_address = lib.ffi_closure_address
    function_new = lib.ffi_function_new
    errno_get = lib.ffi_errno_get
    errno_set = lib.ffi_errno_set
    struct_get_int = lib.ffi_struct_get_int
    struct_set_int = lib.ffi_struct_set_int
    struct_get_double = lib.ffi_struct_get_double
    struct_set_double = lib.ffi_struct_set_double
    read_int = lib.ffi_read_int
    write_int = lib.ffi_write_int
    read_double = lib.ffi_read_double
    write_double = lib.ffi_write_double
    memmove = lib.ffi_memmove
    memset = lib.ffi_memset
    _string_at = lib.ffi_string_at

    def string_at(address, size=-1):
        return _string_at(address, size, size if size >= 0 else 64)

    def closure_forget(closure, key):
        close(closure)
        _sw.forget(key)
else:
    from ._ffi_ctypes import (call, buffer_address, closure_new,  # noqa
                              closure_address, closure_forget, function_new,
                              errno_get, errno_set, struct_get_int,
                              struct_set_int, struct_get_double,
                              struct_set_double, read_int, write_int,
                              read_double, write_double, memmove, memset,
                              string_at, FuncBase, read_through)
    setup = pointer_class = None  # the SWIG module's C shortcuts

__all__ = ["call", "FuncBase", "buffer_address", "closure_new",
           "closure_address", "closure_forget", "function_new", "errno_get",
           "errno_set", "MODE_RELEASE", "MODE_STRICT", "MODE_DEFER",
           "MODE_EXACT"]
