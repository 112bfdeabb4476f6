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

-EINTR is the one status that may stand for an exception Python code
raised: a signal handler (weft.signal) or one of Python's own handlers
(weft's signal check) that failed inside a blocking weft call keeps its
exception here (:func:`keep_pending`) and makes the call return -EINTR;
:func:`error` then gives that exception instead of an InterruptedError,
and calls that retry after -EINTR raise it instead (:func:`take_pending`).
"""

import errno as _errno
import sys
import threading as _std_threading
import _socket as _std_socket

__all__ = ["WeftError", "BadHandleError", "ClosedError", "StateError",
           "InvalidValueError", "BrokenBarrierError", "NotSupportedError",
           "FFIError", "gaierror", "herror", "error", "unraisable",
           "keep_pending", "take_pending"]

WEFT_ERR_BASE = -10000
_EINTR = -_errno.EINTR


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


# The exception a signal handler raised during the blocking weft call
# that is returning -EINTR on this thread (handlers run on the main
# thread only, but a thread's -EINTR must never take another's).
_pending = _std_threading.local()


def keep_pending(exc):
    """Keep exc, raised by a signal handler inside a blocking weft call on
    this thread, for the -EINTR that call returns.  A second one before
    that keeps the first as its __context__."""
    old = getattr(_pending, "exc", None)
    if old is not None and old is not exc and exc.__context__ is None:
        exc.__context__ = old
    _pending.exc = exc


def take_pending():
    """The exception kept for this thread's -EINTR (and forget it), or
    None."""
    exc = getattr(_pending, "exc", None)
    if exc is not None:
        _pending.exc = None
    return exc


def error(code, name, message, detail=0):
    """The exception for a negative status ``code``; ``name`` and
    ``message`` are weft_err_name(code) and weft_last_error_message().
    For -EINTR, the exception a signal handler raised during the call,
    if one did (keep_pending)."""
    if code == _EINTR:
        exc = take_pending()
        if exc is not None:
            return exc
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
            # as CPython's default hook: no object, no ": <object>"
            stream.write("%s: %r\n" % (msg, obj) if obj is not None
                         else "%s:\n" % msg)
            traceback.print_exception(type(exc), exc, exc.__traceback__,
                                      file=stream)
            stream.flush()
    except Exception:
        pass  # as CPython: a failing report is dropped
