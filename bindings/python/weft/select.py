"""weft.select: Python's select module, on weft's select and pollers.

    import weft.select as select
    r, w, x = select.select([sock, event], [], [], 5.0)

select(), epoll and poll are the standard library's, over
weft_select_wait and weft's pollers (weft_poller_*), and :class:`Poller`
is weft's poller itself.  What differs:

- they wait on weft sockets (weft.socket), weft.threading Events and
  descriptors (ints, or objects with fileno()).  An Event is readable
  while it is set (weft's extension): one call waits for data and for
  another thread's signal.  Waits end early with weft.ClosedError when a
  socket or Event they wait on is closed.
- select() has no FD_SETSIZE limit.  With only weft sockets and Events it
  is weft_select_wait; with any descriptor among them it is a poll(2)
  poller made for the call (weft_poller_*, WEFT_POLLER_POLL), so plain
  files count as ready, as they do for select(2).  Either way the
  returned lists hold the objects given, in their order.
- epoll is an epoll poller and poll a poll(2) one; a weft socket or Event
  registers as a handle (closing it unregisters it), anything else as a
  descriptor.  poll() results name a socket by its fileno() and an
  Event by the Event object itself (it has no descriptor).  epoll's
  fileno() is the poller's epoll descriptor; fromfd() is not available
  (a weft poller cannot adopt another epoll instance).
"""

import errno as _errno
import math as _math
import operator as _operator

from . import _errors, lib as _lib
from .socket import socket as _socket
from .threading import Event as _Event

__all__ = ["select", "epoll", "poll", "Poller", "error"]

error = OSError

_constants = {name: value for name, value in
              (_lib.constant_at(i) for i in range(_lib.constant_count()))
              if name.startswith(("POLL", "EPOLL"))}
globals().update(_constants)
__all__ += sorted(_constants)

POLLER_POLL = _lib.constant_get("WEFT_POLLER_POLL")
_POLLIN, _POLLPRI, _POLLOUT = (_constants["POLLIN"], _constants["POLLPRI"],
                               _constants["POLLOUT"])
_POLLERR, _POLLHUP = _constants["POLLERR"], _constants["POLLHUP"]
_POLLNVAL = _constants.get("POLLNVAL", 0)
_READY = (_POLLIN | _POLLHUP | _POLLERR, _POLLOUT | _POLLERR, _POLLPRI)
_WANT = (_POLLIN, _POLLOUT, _POLLPRI)
_DEFAULT_MASK = _POLLIN | _POLLPRI | _POLLOUT
_FD_SETSIZE = 1024  # what epoll.poll's maxevents=-1 means, as in Python
_HANDLED = (_socket, _Event)


def _fd(obj):
    """obj's descriptor (an int, or obj.fileno()), checked as Python
    checks it."""
    if isinstance(obj, int):
        fd = obj
    else:
        try:
            fileno = obj.fileno
        except AttributeError:
            raise TypeError("argument must be an int, or have a fileno() "
                            "method.") from None
        fd = fileno()
        if not isinstance(fd, int):
            raise TypeError("fileno() returned a non-integer")
    if fd < 0:
        raise ValueError("file descriptor cannot be a negative integer "
                         "(%d)" % fd)
    return fd


def _seconds(timeout, what="timeout must be a float or None"):
    """A timeout in seconds as a float: None is -1 (forever)."""
    if timeout is None:
        return -1.0
    if isinstance(timeout, (str, bytes)):
        raise TypeError(what)
    try:
        t = float(timeout)
    except (TypeError, ValueError):
        raise TypeError(what) from None
    if _math.isnan(t):
        raise ValueError("Invalid value NaN (not a number)")
    return t


# ---------------------------------------------------------------------------
# select
# ---------------------------------------------------------------------------


def select(rlist, wlist, xlist, timeout=None):
    """Wait until some of the objects are ready for reading, writing or
    an exceptional condition, or for timeout seconds (None: forever);
    the three lists of those that are.  Objects: weft sockets, weft
    Events (ready for reading while set), descriptors."""
    t = _seconds(timeout)
    if t < 0 and timeout is not None:
        raise ValueError("timeout must be non-negative")
    lists = (list(rlist), list(wlist), list(xlist))
    handles = ([], [], [])
    plain = True
    for objs, hs in zip(lists, handles):
        for obj in objs:
            if isinstance(obj, _HANDLED):
                hs.append(obj.handle)
            else:
                hs.append(None)
                plain = False
    if plain:
        r, w, x, rn, wn, xn = _lib.select_wait(handles[0], handles[1],
                                               handles[2], t)
        return tuple(_pick(objs, hs, ready[:n]) for objs, hs, ready, n in
                     zip(lists, handles, (r, w, x), (rn, wn, xn)))
    return _select_poller(lists, handles, t)


def _pick(objs, hs, ready):
    if not ready:
        return []
    ready = set(ready)
    return [o for o, h in zip(objs, hs) if h in ready]


def _select_poller(lists, handles, t):
    """select over a poll(2) poller made for the call."""
    targets = {}  # ("h", handle) or ("fd", fd) -> [key, events]
    keys = ([], [], [])
    for l, (objs, hs) in enumerate(zip(lists, handles)):
        for obj, h in zip(objs, hs):
            target = ("h", h) if h is not None else ("fd", _fd(obj))
            entry = targets.get(target)
            if entry is None:
                entry = targets[target] = [len(targets), 0]
            entry[1] |= _WANT[l]
            keys[l].append(entry[0])
    p = _lib.poller_new(POLLER_POLL)
    try:
        for (kind, value), (key, events) in targets.items():
            if kind == "h":
                _lib.poller_register(p, value, events, key)
            else:
                _lib.poller_register_fd(p, value, events, key)
        ready = dict(_lib.poller_poll(p, t, max(len(targets), 1)))
    finally:
        _lib.close(p)
    for key, events in ready.items():
        if events & _POLLNVAL:
            raise OSError(_errno.EBADF, "Bad file descriptor")
    return tuple([o for o, k in zip(objs, ks)
                  if ready.get(k, 0) & _READY[l]]
                 for l, (objs, ks) in enumerate(zip(lists, keys)))


# ---------------------------------------------------------------------------
# Pollers
# ---------------------------------------------------------------------------


class _PollerBase(object):
    """A weft poller handle, with what its classes share."""

    _flags = 0

    def __init__(self):
        self._h = _lib.poller_new(self._flags)
        self._regs = {}  # key -> (handle or None, what poll() reports)

    @property
    def handle(self):
        """The weft poller handle (0 once closed)."""
        return self._h

    @property
    def closed(self):
        return self._h == 0

    def _check(self):
        if self._h == 0:
            raise ValueError("I/O operation on closed %s object"
                             % type(self).__name__)
        return self._h

    def close(self):
        """Close the poller; threads in poll() wake with
        weft.ClosedError."""
        h, self._h = self._h, 0
        if h:
            _lib.close(h)

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __enter__(self):
        self._check()
        return self

    def __exit__(self, *exc):
        self.close()

    def _key(self, obj):
        """(key, handle or None, reported) for a registration target."""
        if isinstance(obj, _Event):
            return -obj.handle, obj.handle, obj
        if isinstance(obj, _socket):
            fd = obj.fileno()
            if fd < 0:
                raise ValueError("file descriptor cannot be a negative "
                                 "integer (-1)")
            return fd, obj.handle, fd
        fd = _fd(obj)
        return fd, None, fd

    def _add(self, obj, mask):
        p = self._check()
        key, h, reported = self._key(obj)
        mask = _operator.index(mask)
        if h is not None:
            _lib.poller_register(p, h, mask, key)
        else:
            _lib.poller_register_fd(p, key, mask, key)
        self._regs[key] = (h, reported)

    def _mod(self, obj, mask):
        p = self._check()
        key, h, _ = self._key(obj)
        reg = self._regs.get(key)
        if reg is not None and reg[0] is not None:
            _lib.poller_modify(p, reg[0], _operator.index(mask), key)
        else:
            _lib.poller_modify_fd(p, key, _operator.index(mask), key)

    def _del(self, obj):
        p = self._check()
        key, h, _ = self._key(obj)
        reg = self._regs.pop(key, None)
        if reg is not None and reg[0] is not None:
            _lib.poller_unregister(p, reg[0])
        else:
            _lib.poller_unregister_fd(p, key)

    def _poll(self, t, maxevents):
        regs = self._regs
        return [(regs[k][1] if k < 0 and k in regs else k, ev)
                for k, ev in _lib.poller_poll(self._check(), t, maxevents)]


class epoll(_PollerBase):
    """An epoll poller (weft's, on Linux; its poll(2) emulation
    elsewhere): register, modify, unregister, poll(timeout, maxevents)."""

    def __init__(self, sizehint=-1, flags=0):
        if sizehint != -1 and sizehint <= 0:
            raise ValueError("negative sizehint")
        if flags and flags != _constants.get("EPOLL_CLOEXEC"):
            raise OSError(_errno.EINVAL, "Invalid argument")
        _PollerBase.__init__(self)

    def fileno(self):
        """The epoll descriptor (the poller's: do not close it); readable
        while registrations are ready, so this poller can sit in another
        event loop."""
        return _lib.poller_fileno(self._check())

    @classmethod
    def fromfd(cls, fd):
        raise _errors.NotSupportedError(
            -10008, "WEFT_ENOTSUP", "a weft poller cannot wrap a descriptor")

    def register(self, fd, eventmask=_DEFAULT_MASK):
        """Watch fd (a descriptor, a weft socket or Event) for eventmask
        (EPOLLIN, EPOLLOUT, EPOLLPRI, EPOLLRDHUP, EPOLLET, EPOLLONESHOT);
        FileExistsError if it is watched already."""
        self._add(fd, eventmask)

    def modify(self, fd, eventmask):
        """Change what fd is watched for; FileNotFoundError if it is not
        watched."""
        self._mod(fd, eventmask)

    def unregister(self, fd):
        self._del(fd)

    def poll(self, timeout=None, maxevents=-1):
        """Wait up to timeout seconds (None or negative: forever) for
        events; a list of at most maxevents (fd, events) pairs (an Event
        is reported as itself)."""
        t = _seconds(timeout)
        maxevents = _operator.index(maxevents)
        if maxevents == -1:
            maxevents = _FD_SETSIZE - 1
        elif maxevents < 1:
            raise ValueError("maxevents must be greater than 0, got %d"
                             % maxevents)
        return self._poll(t if t >= 0 else -1.0, maxevents)

    def __repr__(self):
        return "<weft.select.epoll handle=%d%s>" % (
            self._h, " closed" if self.closed else "")


class poll(_PollerBase):
    """A poll(2) poller: register, modify, unregister, poll(ms)."""

    _flags = POLLER_POLL

    def register(self, fd, eventmask=_DEFAULT_MASK):
        """Watch fd for eventmask (POLLIN, POLLPRI, POLLOUT, ...); a second
        register of fd modifies it."""
        key = self._key(fd)[0]
        if key in self._regs:
            self._mod(fd, eventmask)
        else:
            self._add(fd, eventmask)

    def modify(self, fd, eventmask):
        self._mod(fd, eventmask)

    def unregister(self, fd):
        key = self._key(fd)[0]
        if key not in self._regs:
            raise KeyError(key)
        self._del(fd)

    def poll(self, timeout=None):
        """Wait up to timeout milliseconds (None or negative: forever); a
        list of (fd, events)."""
        t = _seconds(timeout, "timeout must be an integer or None")
        return self._poll(t / 1000.0 if t >= 0 else -1.0,
                          max(len(self._regs), 1))


class Poller(object):
    """weft's poller itself: wait on weft sockets, Events and descriptors
    at once, and get back the keys you chose.

        p = Poller()
        p.register(sock, POLLIN, key="data")
        p.register(stop_event, POLLIN, key="stop")
        for key, events in p.poll(timeout=1.0):
            ...

    flags=POLLER_POLL asks for the poll(2) backend instead of epoll.
    Poller(handle=h) wraps a poller handle made elsewhere (closed by
    close(), not by the collector)."""

    def __init__(self, flags=0, *, handle=None):
        self._owned = handle is None
        self._h = _lib.poller_new(flags) if handle is None \
            else _operator.index(handle)
        self._ids = {}   # target id -> key number
        self._keys = {}  # key number -> (key, handle or None, fd)
        self._next = 1

    @property
    def handle(self):
        return self._h

    @property
    def closed(self):
        return self._h == 0

    def _check(self):
        if self._h == 0:
            raise ValueError("I/O operation on a closed Poller")
        return self._h

    def _target(self, target):
        """(id, handle or None, fd or None)."""
        if isinstance(target, _HANDLED):
            return ("h", target.handle), target.handle, None
        fd = _fd(target)
        return ("fd", fd), None, fd

    def register(self, target, events=_POLLIN, key=None):
        """Watch target (a weft socket or Event, a descriptor) for events
        (POLL* bits, EPOLLET, EPOLLONESHOT); poll() reports `key` (by
        default the target).  FileExistsError if it is watched already."""
        p = self._check()
        tid, h, fd = self._target(target)
        n = self._next
        if h is not None:
            _lib.poller_register(p, h, events, n)
        else:
            _lib.poller_register_fd(p, fd, events, n)
        self._next += 1
        old = self._ids.pop(tid, None)  # a registration a close ended
        self._keys.pop(old, None)
        self._ids[tid] = n
        self._keys[n] = target if key is None else key

    def modify(self, target, events, key=None):
        """Change what target is watched for (and its key, if given);
        FileNotFoundError if it is not watched."""
        p = self._check()
        tid, h, fd = self._target(target)
        n = self._ids.get(tid, 0)
        if h is not None:
            _lib.poller_modify(p, h, events, n)
        else:
            _lib.poller_modify_fd(p, fd, events, n)
        if key is not None:
            self._keys[n] = key

    def unregister(self, target):
        p = self._check()
        tid, h, fd = self._target(target)
        if h is not None:
            _lib.poller_unregister(p, h)
        else:
            _lib.poller_unregister_fd(p, fd)
        self._keys.pop(self._ids.pop(tid, None), None)

    def poll(self, timeout=None, maxevents=64):
        """Wait up to timeout seconds (None: forever) for registrations to
        be ready; a list of at most maxevents (key, events), [] if none
        was in time."""
        t = _seconds(timeout)
        keys = self._keys
        return [(keys.get(n), ev) for n, ev in
                _lib.poller_poll(self._check(), t if t >= 0 else -1.0,
                                 maxevents)]

    def close(self):
        h, self._h = self._h, 0
        if h:
            _lib.close(h)

    def __del__(self):
        try:
            if self._owned:
                self.close()
        except Exception:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return "<weft.select.Poller handle=%d%s, %d registered>" % (
            self._h, " closed" if self.closed else "", len(self._keys))
