"""weft.threading: Python's threading module, on weft's handles.

The API is the standard library's (current Python's, with the old
camelCase names too), so ``import weft.threading as threading`` is meant
to be a drop-in.  What differs:

- every object is a weft handle, shared by the whole process: ``.handle``
  is the int, and ``Lock(handle=h)`` (Event, Condition, Semaphore,
  Barrier, Thread, ...) wraps a handle made elsewhere (another language,
  another binding) without taking it over.  ``.close()`` closes a handle
  now; otherwise an object closes the handle it made when it is
  collected.
- threads are weft threads: enumerate(), active_count(), current_thread()
  and the exit rule (the interpreter waits for non-daemon threads) cover
  every weft thread of the process, whichever language started it.  A
  thread this module did not start is a _DummyThread (or the
  _MainThread).
- signal handlers run during a blocking wait (acquire, join, wait) of
  the main thread, as Python's do, and the wait then goes on with the
  time it has left; one that raises (Ctrl-C's KeyboardInterrupt) ends
  the wait with its exception (weft.signal).
"""

import operator as _operator
import sys as _sys
import threading as _std
import weakref as _weakref
import _thread as _std_thread
from itertools import count as _count
from time import monotonic as _time
from traceback import print_exception as _print_exception

from . import _errors, lib as _lib

__all__ = ["get_ident", "get_native_id", "active_count", "activeCount",
           "Condition", "current_thread", "currentThread", "enumerate",
           "main_thread", "TIMEOUT_MAX", "Event", "Lock", "RLock",
           "Semaphore", "BoundedSemaphore", "Thread", "Barrier",
           "BrokenBarrierError", "Timer", "ThreadError", "ExceptHookArgs",
           "setprofile", "settrace", "getprofile", "gettrace", "local",
           "stack_size", "excepthook"]

# The standard library's: existing ``except`` clauses keep working (weft's
# own BrokenBarrierError, which waits raise, is a subclass).
BrokenBarrierError = _std.BrokenBarrierError
ExceptHookArgs = _std.ExceptHookArgs
ThreadError = _std_thread.error  # RuntimeError
TIMEOUT_MAX = _std.TIMEOUT_MAX

_KIND = {name: _lib.constant_get("WEFT_KIND_" + name.upper())
         for name in ("thread", "timer", "lock", "rlock", "condition",
                      "semaphore", "event", "local", "barrier")}
_WEFT_EBADHANDLE = -10000


def _deprecated(old, new):
    import warnings
    warnings.warn("%s is deprecated, use %s instead" % (old, new),
                  DeprecationWarning, stacklevel=3)


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------


def _seconds(timeout):
    """A timeout as a float, refusing what Python refuses: non-numbers
    (TypeError; str included) and NaN (ValueError)."""
    if isinstance(timeout, float):
        t = timeout
    elif isinstance(timeout, int):
        t = float(timeout)
    else:
        if isinstance(timeout, (str, bytes)) or not (
                hasattr(type(timeout), "__float__")
                or hasattr(type(timeout), "__index__")):
            raise TypeError("timeout must be a number, not %s"
                            % type(timeout).__name__)
        t = float(timeout)
    if t != t:
        raise ValueError("Invalid value NaN (not a number)")
    return t


def _wait_seconds(timeout):
    """A wait's timeout: None waits forever (-1 for weft); a negative one,
    like 0, only polls (as Python's waits treat it)."""
    if timeout is None:
        return -1.0
    return max(_seconds(timeout), 0.0)


def _acquire_seconds(blocking, timeout):
    """Lock.acquire's (blocking, timeout) as one weft timeout, with
    Python's checks (_thread's lock_acquire_parse_args)."""
    t = _seconds(timeout)
    if not blocking:
        if t != -1:
            raise ValueError("can't specify a timeout for a non-blocking call")
        return 0.0
    if t < 0:
        if t != -1:
            raise ValueError("timeout value must be a non-negative number")
        return -1.0
    if t > TIMEOUT_MAX:
        raise OverflowError("timeout value is too large")
    return t


def _handle_value(handle):
    h = _operator.index(handle)
    if not 0 < h < 2 ** 53:
        raise _errors.error(_WEFT_EBADHANDLE, "WEFT_EBADHANDLE",
                            "bad handle %d (not a handle value)" % h)
    return h


# ---------------------------------------------------------------------------
# Handles
# ---------------------------------------------------------------------------


class _Handle(object):
    """What every weft object shares: its handle (``.handle``), whether it
    made the handle (then it closes it when collected) and close()."""

    __slots__ = ("_handle", "_owned", "__weakref__")
    _kinds = ()

    def _own(self, handle):
        self._handle = handle
        self._owned = True

    def _borrow(self, handle):
        """Wrap a handle made elsewhere, after checking its kind."""
        h = _handle_value(handle)
        kind = _lib.handle_kind(h)
        if kind not in self._kinds:
            raise _errors.error(
                _WEFT_EBADHANDLE, "WEFT_EBADHANDLE",
                "handle %d is not a %s (its kind is %d)"
                % (h, type(self).__name__, kind))
        self._handle = h
        self._owned = False

    @property
    def handle(self):
        """The weft handle (an int), usable from any language."""
        return self._handle

    def close(self):
        """Close the handle now (waiters wake with weft.ClosedError).
        Closing a closed object does nothing."""
        if self._handle and self._owned is not None:
            self._owned = None
            _lib.close(self._handle)

    def __del__(self):
        try:
            if getattr(self, "_owned", None):
                self._owned = None
                _lib.close(self._handle)
        except Exception:
            pass  # interpreter shutdown, or closed elsewhere


# ---------------------------------------------------------------------------
# Lock, RLock
# ---------------------------------------------------------------------------


def _lock_methods(acquire_call, release_call):
    """acquire, release, __enter__ and __exit__ of a lock kind, over its
    weft calls (closures: the fast path looks nothing up)."""

    def acquire(self, blocking=True, timeout=-1):
        """Acquire the lock; True, or False when it was not acquired in
        time (blocking=False: at once)."""
        if blocking is True and timeout == -1:
            return acquire_call(self._handle, -1.0)
        return acquire_call(self._handle, _acquire_seconds(blocking,
                                                           timeout))

    def release(self):
        """Release the lock; RuntimeError if it is not locked (Lock) or
        not owned by this thread (RLock)."""
        release_call(self._handle)

    def __enter__(self):
        return acquire_call(self._handle, -1.0)

    def __exit__(self, *exc):
        release_call(self._handle)
    return acquire, release, __enter__, __exit__


class _LockBase(_Handle):
    """What Lock and RLock share."""

    __slots__ = ()

    def __init__(self, *, handle=None):
        if handle is None:
            self._own(self._new())
        else:
            self._borrow(handle)

    def __repr__(self):
        try:
            state = self._state()
        except _errors.WeftError:
            state = "closed"
        return "<%s %s object handle=%d>" % (state, type(self).__name__,
                                             self._handle)


class Lock(_LockBase):
    """A primitive lock: any thread may release it.  Also _thread's
    LockType (with the acquire_lock/release_lock/locked_lock names)."""

    __slots__ = ()
    _kinds = (_KIND["lock"],)
    _new = staticmethod(_lib.lock_new)
    acquire, release, __enter__, __exit__ = _lock_methods(
        _lib.lock_acquire, _lib.lock_release)

    def locked(self):
        return bool(_lib.lock_locked(self._handle))

    def _is_owned(self):  # what Condition asks of a lock
        return self.locked()

    def _state(self):
        return "locked" if self.locked() else "unlocked"

    acquire_lock = acquire
    release_lock = release
    locked_lock = locked


class RLock(_LockBase):
    """A reentrant lock: its owner may acquire it again, and must release
    it as many times."""

    __slots__ = ()
    _kinds = (_KIND["rlock"],)
    _new = staticmethod(_lib.rlock_new)
    acquire, release, __enter__, __exit__ = _lock_methods(
        _lib.rlock_acquire, _lib.rlock_release)

    def _is_owned(self):
        return bool(_lib.rlock_is_owned(self._handle))

    def _state(self):
        return "owned" if self._is_owned() else "not owned here"


# ---------------------------------------------------------------------------
# Condition
# ---------------------------------------------------------------------------


class Condition(_Handle):
    """A condition variable over a weft Lock or RLock (a new RLock by
    default)."""

    __slots__ = ("_lock",)
    _kinds = (_KIND["condition"],)

    def __init__(self, lock=None, *, handle=None):
        if handle is not None:
            self._borrow(handle)
            self._lock = lock
            return
        if lock is None:
            lock = RLock()
        elif not isinstance(lock, (Lock, RLock)):
            raise TypeError("Condition needs a weft Lock or RLock, not %s"
                            % type(lock).__name__)
        # The condition refers to the lock by handle: keep the object (and
        # so its handle) alive as long as the condition.
        self._lock = lock
        self._own(_lib.condition_new(lock.handle))

    def acquire(self, blocking=True, timeout=-1):
        return _lib.condition_acquire(self._handle,
                                      _acquire_seconds(blocking, timeout))

    def __enter__(self):
        return _lib.condition_acquire(self._handle, -1.0)

    def release(self):
        _lib.condition_release(self._handle)

    def __exit__(self, *exc):
        _lib.condition_release(self._handle)

    def _is_owned(self):
        if self._lock is None:
            raise RuntimeError("the lock of a borrowed condition is unknown")
        return self._lock._is_owned()

    def wait(self, timeout=None):
        """Release the lock, wait for a notify or the timeout, re-acquire
        the lock.  True if notified, False on timeout; RuntimeError if the
        lock is not held."""
        return _lib.condition_wait(self._handle, _wait_seconds(timeout))

    def wait_for(self, predicate, timeout=None):
        """Wait until predicate() is true (at most timeout seconds); the
        last value of predicate()."""
        endtime = None
        waittime = timeout
        result = predicate()
        while not result:
            if waittime is not None:
                if endtime is None:
                    endtime = _time() + waittime
                else:
                    waittime = endtime - _time()
                    if waittime <= 0:
                        break
            self.wait(waittime)
            result = predicate()
        return result

    def notify(self, n=1):
        """Wake up to n waiters; RuntimeError if the lock is not held."""
        n = _operator.index(n)
        if n < 0:
            raise ValueError("n must be >= 0")
        _lib.condition_notify(self._handle, n)

    def notify_all(self):
        _lib.condition_notify_all(self._handle)

    def notifyAll(self):
        _deprecated("Condition.notifyAll", "notify_all")
        self.notify_all()

    def __repr__(self):
        return "<Condition(%r) handle=%d>" % (self._lock, self._handle)


# ---------------------------------------------------------------------------
# Semaphore, BoundedSemaphore
# ---------------------------------------------------------------------------


class Semaphore(_Handle):
    """A counter that acquire() decrements (waiting at 0) and release()
    increments."""

    __slots__ = ()
    _kinds = (_KIND["semaphore"],)
    _new = staticmethod(_lib.semaphore_new)

    def __init__(self, value=1, *, handle=None):
        if handle is not None:
            self._borrow(handle)
            return
        value = _operator.index(value)
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._own(self._new(value))

    def acquire(self, blocking=True, timeout=None):
        """Decrement; True, or False if that was not possible in time."""
        if not blocking:
            if timeout is not None:
                raise ValueError("can't specify timeout for non-blocking "
                                 "acquire")
            t = 0.0
        else:
            t = _wait_seconds(timeout)
        return _lib.semaphore_acquire(self._handle, t)

    def __enter__(self):
        return _lib.semaphore_acquire(self._handle, -1.0)

    def release(self, n=1):
        """Increment by n, waking up to n waiters."""
        n = _operator.index(n)
        if n < 1:
            raise ValueError("n must be one or more")
        _lib.semaphore_release(self._handle, n)

    def __exit__(self, *exc):
        _lib.semaphore_release(self._handle, 1)

    @property
    def _value(self):
        return _lib.semaphore_get_value(self._handle)

    def __repr__(self):
        return "<%s value=%s handle=%d>" % (type(self).__name__,
                                            self._value, self._handle)


class BoundedSemaphore(Semaphore):
    """A semaphore whose release above its initial value is a
    ValueError."""

    __slots__ = ()
    _new = staticmethod(_lib.bounded_semaphore_new)


# ---------------------------------------------------------------------------
# Event
# ---------------------------------------------------------------------------


class Event(_Handle):
    """A flag that threads can wait for."""

    __slots__ = ()
    _kinds = (_KIND["event"],)

    def __init__(self, *, handle=None):
        if handle is None:
            self._own(_lib.event_new())
        else:
            self._borrow(handle)

    def is_set(self):
        return bool(_lib.event_is_set(self._handle))

    def isSet(self):
        _deprecated("Event.isSet", "is_set")
        return self.is_set()

    def set(self):
        """Set the flag and wake every waiter."""
        _lib.event_set(self._handle)

    def clear(self):
        _lib.event_clear(self._handle)

    def wait(self, timeout=None):
        """Wait until the flag is set; True, or False on timeout."""
        return _lib.event_wait(self._handle, _wait_seconds(timeout))

    def __repr__(self):
        try:
            state = "set" if self.is_set() else "unset"
        except _errors.WeftError:
            state = "closed"
        return "<Event %s handle=%d>" % (state, self._handle)


# ---------------------------------------------------------------------------
# Barrier
# ---------------------------------------------------------------------------

# The exception a barrier's action raised, per thread: the wait() of the
# thread that ran it raises it (as in CPython), the others
# BrokenBarrierError.
_action_failure = _std_thread._local()


class Barrier(_Handle):
    """A barrier for `parties` threads; see threading.Barrier."""

    __slots__ = ("_action",)
    _kinds = (_KIND["barrier"],)

    def __init__(self, parties=None, action=None, timeout=None, *,
                 handle=None):
        self._action = None
        if handle is not None:
            self._borrow(handle)
            return
        if parties is None:
            raise TypeError("Barrier() needs parties (or a handle)")
        if action is not None and not callable(action):
            raise TypeError("action must be callable, not %s"
                            % type(action).__name__)
        parties = _operator.index(parties)
        if parties < 1:
            raise ValueError("parties must be > 0")
        if action is not None:
            def run_action():
                try:
                    action()
                except BaseException as e:
                    _action_failure.exc = e
                    return 1
                return 0
            self._action = run_action
        self._own(_lib.barrier_new(parties, self._action,
                                   _wait_seconds(timeout)))

    def wait(self, timeout=None):
        """Wait for the other parties; this thread's index in the cycle
        (0 .. parties - 1).  BrokenBarrierError if the barrier breaks."""
        try:
            if timeout is None:
                return _lib.barrier_wait_default(self._handle)
            return _lib.barrier_wait(self._handle, _wait_seconds(timeout))
        except BrokenBarrierError:
            exc = getattr(_action_failure, "exc", None)
            if exc is None:
                raise
            _action_failure.exc = None
            raise exc from None

    def reset(self):
        _lib.barrier_reset(self._handle)

    def abort(self):
        _lib.barrier_abort(self._handle)

    @property
    def parties(self):
        return _lib.barrier_get_parties(self._handle)

    @property
    def n_waiting(self):
        return _lib.barrier_get_n_waiting(self._handle)

    @property
    def broken(self):
        return bool(_lib.barrier_is_broken(self._handle))

    def close(self):
        _Handle.close(self)
        self._forget_action()

    def __del__(self):
        try:
            _Handle.__del__(self)
            self._forget_action()
        except Exception:
            pass

    def _forget_action(self):
        # Safe even if an action still runs on another thread: the backend
        # finds the callable by key, and a missing one does nothing.
        action, self._action = self._action, None
        if action is not None and _lib is not None:
            _lib.forget(action)

    def __repr__(self):
        return "<Barrier parties=%s handle=%d>" % (self.parties, self._handle)


# ---------------------------------------------------------------------------
# local
# ---------------------------------------------------------------------------

_local_keys = _count(1).__next__


class _LocalImpl(object):
    """A local's per-thread dicts.  weft keeps one int per thread in the
    local handle: the key of that thread's dict in `dicts`.  When a thread
    exits, weft runs the destructor on it, which drops the dict, so the
    thread's attributes go away with it."""

    __slots__ = ("handle", "dicts", "dtor", "args", "mu", "depth",
                 "__weakref__")

    def __init__(self, args):
        self.args = args
        self.dicts = {}
        self.mu = _std_thread.RLock()
        self.depth = 0  # accesses in progress (nested ones), under mu
        ref = _weakref.ref(self)  # the dtor must not keep self alive

        def dtor(key):
            impl = ref()
            if impl is not None:
                impl.dicts.pop(key, None)
        self.dtor = dtor
        self.handle = _lib.local_new(dtor)

    def get_dict(self):
        """This thread's dict, and whether it was just made."""
        key = _lib.local_get(self.handle)
        if key:
            return self.dicts[key], False
        key = _local_keys()
        d = self.dicts[key] = {}
        _lib.local_set(self.handle, key)
        return d, True

    def __del__(self):
        try:
            _lib.close(self.handle)  # runs the destructors of what is left
            _lib.forget(self.dtor)
        except Exception:
            pass


# What a local's __dict__ is between two accesses: the real one (this
# thread's) is swapped in for each access only, so that no thread's
# attributes outlive it by staying in the object.
_NO_DICT = {}


class local(object):
    """Thread-local data: each thread sees its own attributes.  A
    subclass's __init__ runs in each thread that first uses the object,
    with the arguments given at creation."""

    __slots__ = ("_local__impl", "__dict__")

    def __new__(cls, *args, **kw):
        if (args or kw) and cls.__init__ is object.__init__:
            raise TypeError("Initialization arguments are not supported")
        self = object.__new__(cls)
        impl = _LocalImpl((args, kw))
        object.__setattr__(self, "_local__impl", impl)
        impl.get_dict()  # this thread's; type() runs __init__
        object.__setattr__(self, "__dict__", _NO_DICT)
        return self

    def _local__enter(self):
        """Swap this thread's dict in, under the local's lock (running the
        subclass's __init__ in a thread's first access); the impl."""
        impl = object.__getattribute__(self, "_local__impl")
        impl.mu.acquire()
        impl.depth += 1
        try:
            d, made = impl.get_dict()
            object.__setattr__(self, "__dict__", d)
            if made:
                args, kw = impl.args
                type(self).__init__(self, *args, **kw)
        except BaseException:
            local._local__leave(self, impl)
            raise
        return impl

    def _local__leave(self, impl):
        # An access made during another (a property, __init__) leaves the
        # dict in place for the outer one.
        impl.depth -= 1
        if impl.depth == 0:
            object.__setattr__(self, "__dict__", _NO_DICT)
        impl.mu.release()

    @property
    def handle(self):
        """The weft local handle (its values are keys only this object
        understands)."""
        return object.__getattribute__(self, "_local__impl").handle

    def __getattribute__(self, name):
        impl = local._local__enter(self)
        try:
            return object.__getattribute__(self, name)
        finally:
            local._local__leave(self, impl)

    def __setattr__(self, name, value):
        if name == "__dict__":
            raise AttributeError("%r object attribute '__dict__' is "
                                 "read-only" % type(self).__name__)
        impl = local._local__enter(self)
        try:
            return object.__setattr__(self, name, value)
        finally:
            local._local__leave(self, impl)

    def __delattr__(self, name):
        if name == "__dict__":
            raise AttributeError("%r object attribute '__dict__' is "
                                 "read-only" % type(self).__name__)
        impl = local._local__enter(self)
        try:
            return object.__delattr__(self, name)
        finally:
            local._local__leave(self, impl)


# ---------------------------------------------------------------------------
# Thread
# ---------------------------------------------------------------------------

# The Thread objects of this module, by handle (their run() keeps them
# alive while they run), and wrappers of threads started elsewhere.
_known = _weakref.WeakValueDictionary()
_foreign = {}

_trace_hook = None
_profile_hook = None


class _Boot(object):
    """The callable C runs as a thread's target.  Before start() it holds
    its Thread weakly, so an unstarted Thread can be collected; start()
    makes the hold strong until run() begins."""

    __slots__ = ("ref", "strong")

    def __init__(self, thread):
        self.ref = _weakref.ref(thread)
        self.strong = None

    def __call__(self):
        thread = self.strong or self.ref()
        self.strong = None
        return thread._bootstrap() if thread is not None else 0


class Thread(_Handle):
    """A thread of control running run() (by default target(*args,
    **kwargs)); see threading.Thread.  Thread(handle=h) wraps a thread
    made elsewhere."""

    __slots__ = ("__dict__",)
    _kinds = (_KIND["thread"], _KIND["timer"])

    def __init__(self, group=None, target=None, name=None, args=(),
                 kwargs=None, *, daemon=None, handle=None):
        assert group is None, "group argument must be None for now"
        self._target = target
        self._args = args
        self._kwargs = {} if kwargs is None else kwargs
        self._stderr = _sys.stderr
        self._invoke_excepthook = _make_invoke_excepthook()
        self._boot = None
        if handle is not None:
            self._borrow(handle)
        else:
            self._boot = _Boot(self)
            self._own(self._new_handle(self._boot, name))
            if name is None and getattr(target, "__name__", None):
                self.name = "%s (%s)" % (self.name, target.__name__)
            if daemon is not None:
                _lib.thread_set_daemon(self._handle, bool(daemon))
        _known.setdefault(self._handle, self)
        self._started = False
        self._initialized = True

    def _new_handle(self, boot, name):
        return _lib.thread_new(boot, None if name is None else str(name))

    def _check_init(self):
        if not self.__dict__.get("_initialized"):
            raise RuntimeError("thread.__init__() not called")

    def start(self):
        """Start run() in a new thread; RuntimeError if started before."""
        self._check_init()
        boot = self._boot
        if boot is not None:
            boot.strong = self
        try:
            _lib.thread_start(self._handle)
        except BaseException:
            if boot is not None and not self._started:
                boot.strong = None  # (a second start leaves the first's)
            raise
        self._started = True

    def run(self):
        """The thread's activity; by default target(*args, **kwargs)."""
        try:
            if self._target is not None:
                self._target(*self._args, **self._kwargs)
        finally:
            # Avoid a refcycle if the thread is running a function with
            # an argument that has a member that points to the thread.
            del self._target, self._args, self._kwargs

    def _bootstrap(self):
        """Runs in the new thread: hooks, run(), the excepthook.  Its
        result is the weft thread's result (0, or 1 after an exception)."""
        trace, profile = _trace_hook, _profile_hook
        if trace is not None:
            _sys.settrace(trace)
        if profile is not None:
            _sys.setprofile(profile)
        try:
            self.run()
            return 0
        except BaseException:
            self._invoke_excepthook(self)
            return 1
        finally:
            if trace is not None:
                _sys.settrace(None)
            if profile is not None:
                _sys.setprofile(None)

    def join(self, timeout=None):
        """Wait until the thread ends (at most timeout seconds; then check
        is_alive()).  RuntimeError for the current thread or an unstarted
        one."""
        self._check_init()
        _lib.thread_join(self._handle, _wait_seconds(timeout))

    def is_alive(self):
        """True from start() until run() returns."""
        self._check_init()
        return bool(_lib.thread_is_alive(self._handle))

    def isAlive(self):
        _deprecated("Thread.isAlive", "is_alive")
        return self.is_alive()

    @property
    def name(self):
        return _lib.thread_get_name(self._handle)

    @name.setter
    def name(self, name):
        _lib.thread_set_name(self._handle, str(name))

    def getName(self):
        _deprecated("getName()", "the name attribute")
        return self.name

    def setName(self, name):
        _deprecated("setName()", "the name attribute")
        self.name = name

    @property
    def ident(self):
        """The thread identifier (get_ident() in it), None before start."""
        return _lib.thread_get_ident(self._handle) or None

    @property
    def native_id(self):
        """The kernel's thread id, None before start."""
        return _lib.thread_get_native_id(self._handle) or None

    @property
    def daemon(self):
        return bool(_lib.thread_get_daemon(self._handle))

    @daemon.setter
    def daemon(self, daemonic):
        self._check_init()
        _lib.thread_set_daemon(self._handle, bool(daemonic))

    def isDaemon(self):
        _deprecated("isDaemon()", "the daemon attribute")
        return self.daemon

    def setDaemon(self, daemonic):
        _deprecated("setDaemon()", "the daemon attribute")
        self.daemon = daemonic

    def close(self):
        """Give up the handle: a running thread runs on (weft_close)."""
        alive = self._boot is not None and self.is_alive()
        _Handle.close(self)
        if not alive:
            self._forget_boot()

    def _forget_boot(self):
        """The target can no longer be called (never started, finished or
        cancelled): drop its registration."""
        boot, self._boot = self._boot, None
        if boot is not None:
            boot.strong = None
            _lib.forget(boot)

    def __del__(self):
        # Only an unstarted or finished Thread is collected (a started one
        # is held by its boot, then by its run()).
        try:
            _Handle.__del__(self)
            self._forget_boot()
        except Exception:
            pass

    def __repr__(self):
        try:
            ident = self.ident
            status = "started" if self.is_alive() else \
                ("stopped" if ident else "initial")
            if self.daemon:
                status += " daemon"
            if ident is not None:
                status += " %s" % ident
            return "<%s(%s, %s)>" % (type(self).__name__, self.name, status)
        except _errors.WeftError:
            return "<%s(handle=%d, closed)>" % (type(self).__name__,
                                                self._handle)


class _MainThread(Thread):
    """The process's initial thread."""

    __slots__ = ()


class _DummyThread(Thread):
    """A thread this module did not start: an alien thread (weft calls it
    a dummy: always alive, daemonic, not joinable) or a weft thread
    started by another language or binding."""

    __slots__ = ()


def _wrap(handle):
    """The Thread object for a thread handle."""
    t = _known.get(handle)
    if t is None:
        t = _foreign.get(handle)
        if t is None:
            cls = _MainThread if handle == _lib.thread_main() else \
                _DummyThread
            t = _foreign[handle] = cls(handle=handle)
    return t


def _prune_foreign(alive):
    for h in [h for h in _foreign if h not in alive]:
        del _foreign[h]


# ---------------------------------------------------------------------------
# Timer
# ---------------------------------------------------------------------------


class Timer(Thread):
    """Call function(*args, **kwargs) after `interval` seconds, unless
    cancel() comes first.  Pending timers share one weft service thread.
    A subclass that overrides run() does its own waiting (with
    self.finished), as CPython's does."""

    def __init__(self, interval, function, args=None, kwargs=None):
        self.interval = interval
        self.function = function
        self.args = args if args is not None else []
        self.kwargs = kwargs if kwargs is not None else {}
        self.finished = Event()
        Thread.__init__(self)

    def _new_handle(self, boot, name):
        self._is_timer = type(self).run is Timer.run
        if not self._is_timer:
            return Thread._new_handle(self, boot, name)
        # Python's Timer waits with finished.wait(interval): a negative
        # interval fires at once.
        return _lib.timer_new(_wait_seconds(self.interval), boot, name)

    def start(self):
        Thread.start(self)
        self._drop_if_cancelled()

    def cancel(self):
        """Stop the timer if its function has not started yet."""
        self.finished.set()
        if self._is_timer:
            _lib.timer_cancel(self._handle)
            self._drop_if_cancelled()

    def _drop_if_cancelled(self):
        # A weft timer cancelled before its function began finishes
        # without calling it: its target will never run now.
        if self._is_timer and self._started and not self.is_alive():
            self._forget_boot()

    def run(self):
        if not self.finished.is_set():
            self.function(*self.args, **self.kwargs)
        self.finished.set()


# ---------------------------------------------------------------------------
# Module functions
# ---------------------------------------------------------------------------


def current_thread():
    """The Thread object of the calling thread."""
    h = _lib.thread_current()
    t = _known.get(h) or _foreign.get(h)
    if t is None:
        t = _wrap(h)
        if len(_foreign) > 64:
            _prune_foreign(set(_lib.thread_enumerate()))
    return t


def currentThread():
    _deprecated("currentThread()", "current_thread()")
    return current_thread()


def main_thread():
    """The main thread's object (the process's initial thread)."""
    return _wrap(_lib.thread_main())


def enumerate():
    """Every alive weft thread of the process (timers, dummy and main
    threads included), as Thread objects."""
    handles = _lib.thread_enumerate()
    _prune_foreign(set(handles))
    return [_wrap(h) for h in handles]


def active_count():
    """The number of alive threads: len(enumerate())."""
    return _lib.thread_active_count()


def activeCount():
    _deprecated("activeCount()", "active_count()")
    return active_count()


def get_ident():
    """The calling thread's identifier (a nonzero int)."""
    return _lib.thread_current_ident()


def get_native_id():
    """The calling thread's kernel id."""
    return _lib.thread_current_native_id()


def stack_size(size=0):
    """Set the stack size of threads created from now on (0: the
    platform's default, else at least 32768) and return the old one.
    Called without an argument it sets 0, as _thread.stack_size does."""
    size = _operator.index(size)
    if size < 0:
        raise ValueError("size must be 0 or a positive value")
    old = _lib.thread_get_stack_size()
    _lib.thread_set_stack_size(size)
    return old


def settrace(func):
    """Trace function for the threads started from now on (sys.settrace
    in each before its run())."""
    global _trace_hook
    _trace_hook = func


def setprofile(func):
    """Profile function for the threads started from now on."""
    global _profile_hook
    _profile_hook = func


def gettrace():
    return _trace_hook


def getprofile():
    return _profile_hook


def excepthook(args):
    """Handle an exception raised by Thread.run(): print "Exception in
    thread NAME:" and the traceback to stderr; SystemExit is ignored."""
    if args.exc_type == SystemExit:
        return
    if _sys is not None and _sys.stderr is not None:
        stderr = _sys.stderr
    elif args.thread is not None:
        stderr = args.thread._stderr
        if stderr is None:
            return
    else:
        return
    name = args.thread.name if args.thread is not None else get_ident()
    print("Exception in thread %s:" % name, file=stderr, flush=True)
    _print_exception(args.exc_type, args.exc_value, args.exc_traceback,
                     file=stderr)
    stderr.flush()


__excepthook__ = excepthook


def _make_invoke_excepthook():
    # As CPython's: the hooks at creation are the fallbacks when the
    # module's are gone (interpreter shutdown).
    old_excepthook = excepthook
    old_sys_excepthook = _sys.excepthook
    sys_exc_info = _sys.exc_info
    local_sys = _sys

    def invoke_excepthook(thread):
        hook = globals().get("excepthook") or old_excepthook
        args = ExceptHookArgs([*sys_exc_info(), thread])
        try:
            hook(args)
        except Exception as exc:
            exc.__suppress_context__ = True
            del exc
            stderr_hook = (local_sys.excepthook if local_sys is not None
                           and local_sys.excepthook is not None
                           else old_sys_excepthook)
            stderr_hook(*sys_exc_info())
        finally:
            args = None
    return invoke_excepthook


# ---------------------------------------------------------------------------
# Exit: wait for non-daemon threads, as Python does
# ---------------------------------------------------------------------------


def _shutdown():
    """Wait for every non-daemon weft thread of the process (Python's
    exit rule, weft_thread_shutdown), from threading's shutdown."""
    _lib.thread_shutdown(-1.0)


try:
    _std._register_atexit(_shutdown)  # after threading joins its own
except (AttributeError, RuntimeError):  # before 3.9, or already exiting
    import atexit as _atexit
    _atexit.register(_shutdown)
