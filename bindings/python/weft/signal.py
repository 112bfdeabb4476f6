"""weft.signal: Python's signal module, on weft's signal handling.

The API is the standard library's (3.11), so ``import weft.signal as
signal`` is meant to be a drop-in.  A handler set here is a weft handler
(weft_signal_set): it runs on the main thread, as Python's do, with
``(signum, frame)``, and also *inside* a blocking weft call the main
thread is in (a weft Lock.acquire, a weft socket's recv, weft.select,
...), which then goes on with the time it has left (PEP 475).  A handler
that raises ends that call with its exception, as it would end a
``time.sleep``.  What differs:

- ``frame`` is the current frame when the handler runs between two
  Python statements (as Python's handlers do), None when it runs inside a
  blocking weft call.
- a signal with a handler set here trips both weft's handler and Python's
  own (weft chains to it), so whichever of the two runs first runs the
  handler; the other finds nothing to do.  getsignal() gives what Python's
  getsignal gives for handlers set elsewhere (default_int_handler for
  SIGINT, handlers set with the standard signal module).
- the wakeup descriptor (set_wakeup_fd) is weft's: it receives a byte for
  each signal that has a weft handler, from any language; a signal only
  Python handles (Ctrl-C with no handler set here) writes to Python's
  own, which the standard signal.set_wakeup_fd sets.
- pause() returns after a signal with a weft handler (or with one of
  Python's that raises).
- strsignal() is None for signals the C library describes only by number
  (real-time signals).
- pthread_sigmask, sigpending, sigwait, sigwaitinfo, sigtimedwait and
  pidfd_send_signal are the standard library's own.

Importing weft (any module) already makes Python's own handlers, Ctrl-C
included, run inside blocking weft calls on the main thread.
"""

import operator as _operator
import signal as _std
import threading as _std_threading
import _signal
import _thread
from enum import IntEnum as _IntEnum

from . import _errors, lib as _lib

__all__ = ["signal", "getsignal", "default_int_handler", "alarm", "pause",
           "setitimer", "getitimer", "ItimerError", "set_wakeup_fd",
           "siginterrupt", "strsignal", "valid_signals", "raise_signal",
           "pthread_kill", "Signals", "Handlers", "NSIG"]


def _weft_constant(name, value):
    """One of weft's own constants (its value in abi/weft.h, which never
    changes, if the table lacks it)."""
    try:
        return _lib.constant_get(name)
    except FileNotFoundError:
        return value


# weft_signal_set's actions and flag.
_SIG_DFL = _weft_constant("WEFT_SIG_DFL", 0)
_SIG_IGN = _weft_constant("WEFT_SIG_IGN", 1)
_SIG_HANDLER = _weft_constant("WEFT_SIG_HANDLER", 2)
_SIG_FOREIGN = _weft_constant("WEFT_SIG_FOREIGN", 3)
_CHAIN = _weft_constant("WEFT_SIGNAL_CHAIN", 1)

# ---------------------------------------------------------------------------
# Constants: SIG*, NSIG, ITIMER_*, SIG_DFL/SIG_IGN, SIG_BLOCK..., from
# weft's table; the enums as CPython makes them
# ---------------------------------------------------------------------------

_constants = {name: value for name, value in
              (_lib.constant_at(i) for i in range(_lib.constant_count()))
              if name.startswith(("SIG", "ITIMER_")) or name == "NSIG"}
_constants.setdefault("SIG_DFL", 0)
_constants.setdefault("SIG_IGN", 1)
globals().update(_constants)
__all__ += sorted(_constants)
NSIG = _constants.get("NSIG", _std.NSIG)

# As CPython's signal.py: the module's names become the enums' members.
Signals = _IntEnum._convert_(
    "Signals", __name__,
    lambda name: name.isupper() and name.startswith("SIG")
    and not name.startswith("SIG_"))
Handlers = _IntEnum._convert_("Handlers", __name__,
                              lambda name: name in ("SIG_DFL", "SIG_IGN"))
if all(k in _constants for k in ("SIG_BLOCK", "SIG_UNBLOCK",
                                 "SIG_SETMASK")):
    Sigmasks = _IntEnum._convert_(
        "Sigmasks", __name__,
        lambda name: name in ("SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK"))
    __all__.append("Sigmasks")

# The standard library's, unchanged.
default_int_handler = _signal.default_int_handler
ItimerError = _signal.ItimerError  # an OSError
for _name in ("pthread_sigmask", "sigpending", "sigwait", "sigwaitinfo",
              "sigtimedwait", "struct_siginfo", "pidfd_send_signal"):
    if hasattr(_std, _name):
        globals()[_name] = getattr(_std, _name)
        __all__.append(_name)
del _name


def _int_to_enum(value, enum_klass):
    try:
        return enum_klass(value)
    except ValueError:
        return value


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------


def _signum(signalnum):
    """A signal number, 1 .. NSIG-1 (ValueError otherwise, before any C
    call, as Python says it)."""
    n = _operator.index(signalnum)
    if not 1 <= n < NSIG:
        raise ValueError("signal number out of range")
    return n


def _main_only(what):
    if _thread.get_ident() != _std_threading.main_thread().ident:
        raise ValueError("%s only works in main thread of the main "
                         "interpreter" % what)


def _seconds(value, what):
    """An itimer time as a float, with Python's refusals: a non-number is
    a TypeError, NaN a ValueError, an infinity an OverflowError."""
    if isinstance(value, (str, bytes, bytearray)) or not (
            hasattr(type(value), "__float__")
            or hasattr(type(value), "__index__")):
        raise TypeError("%s must be a number, not %s"
                        % (what, type(value).__name__))
    t = float(value)
    if t != t:
        raise ValueError("Invalid value NaN (not a number)")
    if t in (float("inf"), float("-inf")):
        raise OverflowError("%s: timestamp too large to convert" % what)
    return t


# ---------------------------------------------------------------------------
# Handlers
# ---------------------------------------------------------------------------

# signum -> (the Python handler, the callable weft calls): kept alive, and
# registered with the backend, while weft holds it.
_installed = {}

# What the trampoline passes to the handler it makes weft run.
_frames = _std_threading.local()

# How many handlers ran (pause() returns once one has).
_runs = 0

# Signals whose weft handler weft ran on some other thread (a delivery
# mode another binding chose): the main thread runs their handlers when
# Python's own flag, which weft's C handler trips too, brings it to the
# trampoline.
_deferred = set()


def _report_wakeup_errors():
    """Report failed writes to the wakeup descriptor, as CPython does
    (sys.unraisablehook)."""
    try:
        count, err = _lib.signal_wakeup_errors()
    except Exception:
        return
    if count:
        import os
        e = OSError(err, os.strerror(err)) if err else OSError(
            "%d writes to the signal wakeup fd failed" % count)
        _errors.unraisable(e, None, "Exception ignored when trying to "
                           "write to the signal wakeup fd")


def _runner(handler):
    """The callable weft runs for one installed handler: handler(signum,
    frame), on the main thread; 1 if it raised (weft then ends the
    interrupted call with -EINTR, which raises the kept exception)."""
    def run(signum):
        global _runs
        try:
            if _thread.get_ident() != _std_threading.main_thread().ident:
                _deferred.add(signum)
                return 0
            frame = getattr(_frames, "frame", None)
            _frames.frame = None  # taken: a nested run gets its own
            _report_wakeup_errors()
            _runs += 1
            handler(signum, frame)
        except BaseException as e:
            _errors.keep_pending(e)
            return 1
        return 0
    return run


def _trampoline(signum, frame):
    """Python's handler for every signal with a handler set here: Python
    calls it between statements or when a call of its own sees EINTR;
    it has weft run the handler, with frame, unless weft already ran it
    inside a blocking call."""
    global _runs
    _frames.frame = frame
    try:
        _lib.signal_dispatch(signum)  # -EINTR raises the handler's error
    finally:
        _frames.frame = None
    if signum in _deferred:
        _deferred.discard(signum)
        entry = _installed.get(signum)
        if entry is not None:
            _runs += 1
            entry[0](signum, frame)


def signal(signalnum, handler):
    """Set the handler of signal signalnum: SIG_DFL, SIG_IGN or a callable
    taking (signum, frame); the previous one is returned (None if it was
    not set from Python).  Main thread only (ValueError elsewhere)."""
    n = _operator.index(signalnum)
    _main_only("signal")
    n = _signum(n)
    if callable(handler):
        action = _SIG_HANDLER
    elif isinstance(handler, int) and handler == _signal.SIG_IGN:
        action = _SIG_IGN
    elif isinstance(handler, int) and handler == _signal.SIG_DFL:
        action = _SIG_DFL
    else:
        raise TypeError("signal handler must be signal.SIG_IGN, "
                        "signal.SIG_DFL, or a callable object")
    old = getsignal(n)
    if action == _SIG_HANDLER:
        run = _runner(handler)
        if n in _installed and _signal.getsignal(n) is _trampoline \
                and _lib.signal_get(n)[0] == _SIG_HANDLER:
            # Replacing a handler set here: weft's C handler keeps its
            # chain to Python's, and no signal finds neither installed.
            _lib.signal_set(n, _SIG_HANDLER, _CHAIN, run)
        else:
            # Python's C handler first, with this module's trampoline in
            # Python's table; then weft's, which chains to Python's.
            std_old = _signal.signal(n, _trampoline)
            try:
                _lib.signal_set(n, _SIG_HANDLER, _CHAIN, run)
            except BaseException:
                if std_old is not None:
                    _signal.signal(n, std_old)
                raise
        entry = (handler, run)
    else:
        _lib.signal_set(n, action, 0, None)
        _signal.signal(n, _signal.SIG_IGN if action == _SIG_IGN
                       else _signal.SIG_DFL)
        entry = None
    # weft no longer runs the previous callable on another thread.
    previous = _installed.pop(n, None)
    if entry is not None:
        _installed[n] = entry
    _deferred.discard(n)
    if previous is not None:
        _lib.forget(previous[1])
    return old


def getsignal(signalnum):
    """The current handler of signal signalnum: SIG_DFL, SIG_IGN, a
    callable, or None when it was not set from Python (a C handler, or
    another language's weft handler)."""
    n = _signum(signalnum)
    action, arg = _lib.signal_get(n)
    if action == _SIG_DFL:
        return Handlers.SIG_DFL
    if action == _SIG_IGN:
        return Handlers.SIG_IGN
    if action == _SIG_HANDLER:
        entry = _installed.get(n)
        return entry[0] if entry is not None and id(entry[1]) == arg \
            else None
    # A C handler weft did not install: Python's own (default_int_handler,
    # the standard module's handlers), or someone else's.
    h = _signal.getsignal(n)
    return None if h is _trampoline else _int_to_enum(h, Handlers)


# ---------------------------------------------------------------------------
# Sending, waiting, timers
# ---------------------------------------------------------------------------


def raise_signal(signalnum):
    """Send signal signalnum to the calling thread; its handler has run
    when this returns (on the main thread)."""
    _lib.signal_raise(_signum(signalnum))
    _lib.check_signals()


def pthread_kill(thread_id, signalnum):
    """Send signal signalnum to the thread with identifier thread_id (a
    weft thread, or any thread of Python's); 0 only checks that it is
    alive (ProcessLookupError if not).  The handler runs on the main
    thread."""
    ident = _operator.index(thread_id)
    n = _operator.index(signalnum)
    handle = None
    if ident == _lib.thread_current_ident():
        handle = _lib.thread_current()
    else:
        for h in _lib.thread_enumerate():
            try:
                if _lib.thread_get_ident(h) == ident:
                    handle = h
                    break
            except _errors.BadHandleError:
                pass  # it ended meanwhile
    if handle is not None:
        _lib.signal_pthread_kill(handle, n)
    else:
        _signal.pthread_kill(ident, n)  # a thread weft has not met
    _lib.check_signals()


def alarm(seconds):
    """Send SIGALRM in `seconds` seconds (0 cancels); the seconds that were
    left of the previous alarm."""
    return _lib.signal_alarm(_operator.index(seconds))


def pause():
    """Sleep until a signal with a handler set here arrives and its
    handler ran, or one of Python's own handlers raised."""
    runs = _runs
    while True:
        try:
            _lib.signal_pause()
            return
        except InterruptedError:
            # Python ran its own pending handlers (none raised), or the
            # thread was interrupted: go on until a handler set here ran.
            if _runs != runs:
                return


def setitimer(which, seconds, interval=0.0):
    """Arm interval timer `which` (ITIMER_REAL, ITIMER_VIRTUAL,
    ITIMER_PROF) to fire after `seconds` (0 disarms), then every
    `interval` seconds; its previous (delay, interval).  ItimerError for a
    bad timer or time."""
    which = _operator.index(which)
    s = _seconds(seconds, "seconds")
    i = _seconds(interval, "interval")
    try:
        return _lib.signal_setitimer(which, s, i)
    except OSError as e:
        raise ItimerError(e.errno, e.strerror) from None


def getitimer(which):
    """Interval timer `which`'s (delay, interval)."""
    which = _operator.index(which)
    try:
        return _lib.signal_getitimer(which)
    except OSError as e:
        raise ItimerError(e.errno, e.strerror) from None


def set_wakeup_fd(fd, *, warn_on_full_buffer=True):
    """Have every signal with a weft handler write its number (one byte)
    to fd, a non-blocking descriptor (ValueError for a blocking one); -1
    stops it.  The previous descriptor is returned.  Main thread only.
    A write that fails is reported through sys.unraisablehook, a full
    buffer only if warn_on_full_buffer."""
    fd = _operator.index(fd)
    _main_only("set_wakeup_fd")
    return _lib.signal_set_wakeup_fd(fd, 1 if warn_on_full_buffer else 0)


def siginterrupt(signalnum, flag):
    """flag true: system calls interrupted by signalnum fail with EINTR
    (the default); false: they restart.  weft's own calls go on either
    way."""
    n = _signum(signalnum)
    _lib.signal_siginterrupt(n, 1 if _operator.index(flag) else 0)


def strsignal(signalnum):
    """The system's description of signal signalnum ("Interrupt"), or
    None if it has none."""
    n = _signum(signalnum)
    try:
        return _lib.signal_strsignal(n)
    except FileNotFoundError:
        return None


def valid_signals():
    """The set of signal numbers this system has and a process may
    handle."""
    return {_int_to_enum(n, Signals) for n in range(1, NSIG)
            if _lib.signal_valid(n)}
