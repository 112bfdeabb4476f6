"""weft for Python: Python's threading toolkit on libweft's handles.

    import weft.threading as threading   # Thread, Lock, Event, ...
    import weft.thread                   # the low-level module (_thread)
    import weft.socket as socket         # socket, create_connection, ...
    import weft.select as select         # select, epoll, poll, Poller
    import weft.io                       # Stream: buffered binary files
    import weft.signal as signal         # handlers that run during waits
    import weft.ctypes as ctypes         # ctypes' API on weft's ffi engine

Every weft object is a handle (an int, ``.handle``) that the whole process
shares: a Lock made here can be acquired from Lua or C, and
``Lock(handle=h)`` wraps a handle made elsewhere.

Two backends give the same low-level API, ``weft.lib`` (weft_lock_new is
``weft.lib.lock_new``; out-parameters are returned, a negative status
raises): the SWIG extension module when it was built, else ctypes over
libweft.so.0 alone.  $WEFT_BACKEND=ctypes|swig chooses; ``weft.backend``
says which one is in use.  $WEFT_LIB names the library to load.

Importing weft makes Python's own signal handlers (Ctrl-C's
KeyboardInterrupt, handlers set with the standard signal module) run
inside blocking weft calls on the main thread (weft_signal_set_check):
a handler that raises ends the call with its exception, otherwise the
call goes on with the time it has left (PEP 475).

Python 3.8 or later; the SWIG backend needs 3.9.
"""

import os as _os
import pkgutil as _pkgutil

# A build tree keeps the SWIG module apart from these sources (and the
# tests put both on sys.path); installed, this is one directory.
__path__ = _pkgutil.extend_path(__path__, __name__)

from ._errors import (WeftError, BadHandleError, ClosedError,  # noqa: E402
                      StateError, InvalidValueError, BrokenBarrierError,
                      NotSupportedError, FFIError)

__all__ = ["lib", "backend", "version", "close", "handle_kind", "constant",
           "constants", "WeftError", "BadHandleError", "ClosedError",
           "StateError", "InvalidValueError", "BrokenBarrierError",
           "NotSupportedError", "FFIError"]


def _choose_backend():
    choice = _os.environ.get("WEFT_BACKEND", "")
    if choice not in ("", "ctypes", "swig"):
        raise ImportError("weft: WEFT_BACKEND must be ctypes or swig, not %r"
                          % choice)
    lib_path = _os.environ.get("WEFT_LIB")
    if lib_path:
        # Loaded first, it is the libweft.so.0 the SWIG module binds to
        # (the loader matches its SONAME), so both backends and every
        # other user in this process share one library.
        import ctypes
        ctypes.CDLL(lib_path)
    if choice != "ctypes":
        try:
            from . import _swig_backend
            return _swig_backend, "swig"
        except ImportError:
            if choice == "swig":
                raise
    from . import _ctypes_backend
    return _ctypes_backend, "ctypes"


lib, backend = _choose_backend()


def version():
    """The library's run-time version, "MAJOR.MINOR.PATCH"."""
    return lib.version()


def close(handle):
    """Close a handle of any kind (weft_close)."""
    lib.close(handle)


def handle_kind(handle):
    """The kind of an open handle (a WEFT_KIND_* value)."""
    return lib.handle_kind(handle)


def constant(name):
    """The value of one of weft's constants, by name ("WEFT_KIND_LOCK",
    later "AF_INET", ...).  KeyError if there is none."""
    try:
        return lib.constant_get(name)
    except FileNotFoundError:
        raise KeyError(name) from None


def constants():
    """Every constant, as a dict name -> value."""
    return dict(lib.constant_at(i) for i in range(lib.constant_count()))


# Python's own signal handlers run inside the main thread's blocking weft
# calls (weft_signal_set_check).
lib.install_signal_check()
