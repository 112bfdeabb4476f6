"""weft's statuses as Python exceptions (ABI.md 3).

A negative weft_status becomes the exception Python itself would raise:

- ``-errno`` is what ``OSError(errno, message)`` builds, so ETIMEDOUT is a
  ``TimeoutError``, ECONNREFUSED a ``ConnectionRefusedError``, and so on;
- weft's own codes are classes under :class:`WeftError`, each mixed with
  the built-in exception Python raises in that situation (``RuntimeError``
  for misuse, ``ValueError`` for bad values, the stdlib
  ``threading.BrokenBarrierError`` for a broken barrier), so existing
  ``except`` clauses keep working.

Every exception carries ``.code`` (the status), ``.name`` (``"ETIMEDOUT"``,
``"WEFT_ESTATE"``), ``.detail`` (weft_last_error_detail) and
``.message`` (weft_last_error_message, also its text).

Both backends build their exceptions with :func:`error`.
"""

import sys
import threading as _std_threading
import _socket as _std_socket

__all__ = ["WeftError", "BadHandleError", "ClosedError", "StateError",
           "InvalidValueError", "BrokenBarrierError", "NotSupportedError",
           "FFIError", "gaierror", "herror", "error", "unraisable"]

WEFT_ERR_BASE = -10000


class WeftError(Exception):
    """A failure that weft reports with one of its own status codes."""

    def __init__(self, code, name, message, detail=0):
        super().__init__(message)
        self.code = code
        self.name = name
        self.message = message
        self.detail = detail


class BadHandleError(WeftError, ValueError):
    """WEFT_EBADHANDLE: a closed, never-issued or wrong-kind handle."""


class ClosedError(WeftError):
    """WEFT_ECLOSED: the handle was closed while this call waited on it."""


class StateError(WeftError, RuntimeError):
    """WEFT_ESTATE: wrong state (released an unlocked lock, started a thread
    twice, joined the current thread)."""


class InvalidValueError(WeftError, ValueError):
    """WEFT_EVALUE: a bad argument value."""


class BrokenBarrierError(WeftError, _std_threading.BrokenBarrierError):
    """WEFT_EBROKEN: the barrier is broken; a threading.BrokenBarrierError."""


class NotSupportedError(WeftError, NotImplementedError):
    """WEFT_ENOTSUP: not supported on this platform or in this build."""


class FFIError(WeftError):
    """WEFT_EFFI: libffi refused a signature or a call."""


class gaierror(WeftError, _std_socket.gaierror):
    """WEFT_EGAI: name resolution failed.  As socket.gaierror (which it
    subclasses), errno is the EAI_* code (weft's detail) and strerror the
    message."""

    def __init__(self, code, name, message, detail=0):
        WeftError.__init__(self, code, name, message, detail)
        self.errno = detail
        self.strerror = message


class herror(WeftError, _std_socket.herror):
    """WEFT_EHOST: a host entry lookup failed (gethostbyaddr,
    gethostbyname_ex); as socket.herror (which it subclasses), errno is
    h_errno (weft's detail) and strerror hstrerror's text."""

    def __init__(self, code, name, message, detail=0):
        WeftError.__init__(self, code, name, message, detail)
        self.errno = detail
        self.strerror = message


class _RangeError(WeftError, OverflowError):
    """WEFT_ERANGE: a buffer too small.  The bindings retry with a larger
    one, so this escapes only from a direct call of a raw function."""


# weft's codes (abi/weft.h; their numbers never change once released).
_CLASSES = {
    -10000: BadHandleError,
    -10001: ClosedError,
    -10002: StateError,
    -10003: InvalidValueError,
    -10004: _RangeError,
    -10005: gaierror,
    -10008: NotSupportedError,
    -10009: BrokenBarrierError,
    -10010: herror,
    -10007: FFIError,
}


def error(code, name, message, detail=0):
    """The exception for a negative status ``code``; ``name`` and
    ``message`` are weft_err_name(code) and weft_last_error_message()."""
    if code > WEFT_ERR_BASE:
        exc = OSError(-code, message)  # picks TimeoutError & co. by errno
        exc.code = code
        exc.name = name
        exc.message = message
        exc.detail = detail
        return exc
    return _CLASSES.get(code, WeftError)(code, name, message, detail)


class _UnraisableArgs(object):
    """The attributes of sys.UnraisableHookArgs (which Python code cannot
    create)."""

    def __init__(self, exc, obj, msg):
        self.exc_type = type(exc)
        self.exc_value = exc
        self.exc_traceback = exc.__traceback__
        self.err_msg = msg
        self.object = obj


def unraisable(exc, obj, msg="Exception ignored in"):
    """Report an exception nobody can catch (a callback's, a thread's) as
    CPython does: through sys.unraisablehook, whose default prints
    "<msg>: <obj!r>" and the traceback to stderr."""
    try:
        hook = sys.unraisablehook
        if hook is not sys.__unraisablehook__:
            hook(_UnraisableArgs(exc, obj, msg))
            return
        import traceback
        stream = sys.stderr
        if stream is not None:
            stream.write("%s: %r\n" % (msg, obj))
            traceback.print_exception(type(exc), exc, exc.__traceback__,
                                      file=stream)
            stream.flush()
    except Exception:
        pass  # as CPython: a failing report is dropped
