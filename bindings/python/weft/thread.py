"""weft.thread: the low-level thread module (Python 2's thread, Python 3's
_thread), on weft.

Threads started here have no handle to manage: they are daemonic, not
listed by enumerate(), and end when their function returns (or raises
SystemExit: exit()).
"""

import operator as _operator
import signal as _signal
import _thread as _std_thread

from . import _errors, lib as _lib
from .threading import (Lock as LockType, RLock, get_ident,  # noqa: F401
                        get_native_id, stack_size, TIMEOUT_MAX)

__all__ = ["error", "LockType", "RLock", "allocate_lock", "allocate",
           "start_new_thread", "start_new", "exit", "exit_thread",
           "get_ident", "get_native_id", "interrupt_main", "stack_size",
           "TIMEOUT_MAX"]

error = RuntimeError  # _thread.error


def allocate_lock():
    """A new, unlocked Lock."""
    return LockType()


allocate = allocate_lock


def start_new_thread(function, args, kwargs=None):
    """Start function(*args, **kwargs) in a new thread; its identifier.
    An exception in function is reported through sys.unraisablehook
    (SystemExit quietly ends the thread)."""
    if not callable(function):
        raise TypeError("first arg must be callable")
    if not isinstance(args, tuple):
        raise TypeError("2nd arg must be a tuple")
    if kwargs is not None and not isinstance(kwargs, dict):
        raise TypeError("optional 3rd arg must be a dictionary")

    def run():
        try:
            function(*args, **(kwargs or {}))
        except SystemExit:
            pass
        except BaseException as e:
            _errors.unraisable(e, function,
                               "Exception ignored in thread started by")
        return 0
    return _lib.thread_start_new(run)


start_new = start_new_thread


def exit():
    """End the calling thread (raises SystemExit, as _thread.exit)."""
    raise SystemExit


exit_thread = exit


def interrupt_main(signum=_signal.SIGINT):
    """Simulate signal signum (SIGINT: KeyboardInterrupt) arriving in the
    main thread.  A handler set with weft.signal runs as for a real
    signal, inside a blocking weft call the main thread is in, too; a
    handler of Python's own (default_int_handler) runs when the main
    thread next runs Python code, as in Python.  With SIG_DFL or SIG_IGN
    nothing happens."""
    signum = _operator.index(signum)
    if not 1 <= signum < _signal.NSIG:
        raise ValueError("signal number out of range")
    # weft trips its handler, if signum has one, and wakes the main
    # thread's blocking call; Python's flag makes the main thread's next
    # statement run it (or Python's own handler): the first of the two
    # runs it.
    _lib.thread_interrupt_main(signum)
    _std_thread.interrupt_main(signum)
