"""weft.socket: Python's socket module, on weft's socket handles.

The API is the standard library's (3.11), so ``import weft.socket as
socket`` is meant to be a drop-in for TCP, UDP and UNIX sockets::

    import weft.socket as socket
    with socket.create_connection(("example.org", 80), timeout=5) as s:
        s.sendall(b"HEAD / HTTP/1.0\\r\\n\\r\\n")
        print(s.recv(4096))

What differs:

- every socket is a weft handle, shared by the whole process: ``.handle``
  is the int, and ``socket(handle=h)`` wraps a socket handle made
  elsewhere (another language, the C API) without taking it over: the
  collector leaves it open, close() closes it.  A socket made here that
  is collected unclosed is closed, with a ResourceWarning, as in Python.
- closing a socket wakes every thread blocked in it (recv, accept,
  connect, send, ...): they raise an error that is both an OSError
  (errno EBADF) and a weft.ClosedError.  Any call on a closed socket
  raises OSError(EBADF) (also a weft.BadHandleError), as in Python.
- the default timeout (setdefaulttimeout) is weft's, and weft's is
  process-wide: it is the timeout every new weft socket starts with,
  whichever language makes it, and it is not the stdlib socket module's.
- the descriptor underneath never blocks (O_NONBLOCK, and MSG_DONTWAIT
  on sends and receives: the mode is weft's); fromfd() and makefile()
  work on duplicates, and leave the caller's descriptor as it was until
  the first accept() or connect() through fromfd()'s socket, which sets
  O_NONBLOCK on the descriptor the two share.  detach() hands back a
  descriptor in the blocking mode the socket was in.
- makefile() gives a weft.io.Stream (an io.BufferedIOBase), or a
  TextIOWrapper over one; it takes the socket's timeout when it is made.
- gaierror is raised for every resolver failure (WEFT_EGAI; errno: the
  EAI_* code); gethostbyaddr and gethostbyname_ex raise herror (WEFT_EHOST;
  errno: h_errno, as CPython's) when the address or name has no host
  entry.  Both subclass the stdlib's, so ``except socket.gaierror``
  written for either module catches them.
- addresses are AF_INET, AF_INET6 and AF_UNIX ones (Linux abstract names
  as bytes); other families' addresses are refused (EAFNOSUPPORT).  No
  sendmsg/recvmsg, ioctl, if_nameindex or sethostname.
- a blocking call interrupted by weft_thread_interrupt runs the pending
  signal handlers and resumes (PEP 475), but with the socket's full
  timeout again, not the time left.
"""

import builtins as _builtins
import errno as _errno
import io as _io
import operator as _operator
import os as _os
import sys as _sys
import warnings as _warnings
from enum import IntEnum as _IntEnum, IntFlag as _IntFlag

from . import _errors, lib as _lib
from ._errors import gaierror, herror
from .io import Stream as _Stream, _mode_check

__all__ = ["socket", "SocketType", "socketpair", "fromfd", "dup",
           "create_connection", "create_server", "has_dualstack_ipv6",
           "getaddrinfo", "getnameinfo", "gethostbyname", "gethostbyname_ex",
           "gethostbyaddr", "gethostname", "getfqdn", "getservbyname",
           "getservbyport", "getprotobyname", "inet_aton", "inet_ntoa",
           "inet_pton", "inet_ntop", "htonl", "htons", "ntohl", "ntohs",
           "getdefaulttimeout", "setdefaulttimeout", "has_ipv6", "close",
           "error", "timeout", "gaierror", "herror", "ClosedSocketError",
           "BadSocketError", "AddressFamily", "SocketKind", "MsgFlag",
           "AddressInfo"]

error = OSError
timeout = TimeoutError  # socket.timeout is TimeoutError since 3.10

_KIND_SOCKET = _lib.constant_get("WEFT_KIND_SOCKET")
_WEFT_EBADHANDLE = -10000
_WEFT_EGAI = -10005

# ---------------------------------------------------------------------------
# Constants: every name of weft's table in the socket module's groups
# ---------------------------------------------------------------------------

_PREFIXES = ("AF_", "SOCK_", "SO_", "SOL_", "IPPROTO_", "IPPORT_",
             "INADDR_", "IP_", "IPV6_", "TCP_", "MSG_", "SCM_", "AI_", "NI_",
             "EAI_", "SHUT_", "TIPC_", "SIO_", "RCVALL_")
_constants = {name: value for name, value in
              (_lib.constant_at(i) for i in range(_lib.constant_count()))
              if name.startswith(_PREFIXES) or name == "SOMAXCONN"}


def _group(prefix):
    return [(k, v) for k, v in _constants.items() if k.startswith(prefix)]


AddressFamily = _IntEnum("AddressFamily", _group("AF_"), module=__name__)
SocketKind = _IntEnum("SocketKind", _group("SOCK_"), module=__name__)
MsgFlag = _IntFlag("MsgFlag", _group("MSG_"), module=__name__)
AddressInfo = _IntFlag("AddressInfo", _group("AI_"), module=__name__)
globals().update(_constants)
for _enum in (AddressFamily, SocketKind, MsgFlag, AddressInfo):
    globals().update(_enum.__members__)
__all__ += sorted(_constants)
del _enum

_AF_INET = _constants["AF_INET"]
_AF_INET6 = _constants.get("AF_INET6")
_AF_UNIX = _constants.get("AF_UNIX")
_SOCK_STREAM = _constants["SOCK_STREAM"]
_AI_CANONNAME = _constants.get("AI_CANONNAME", 0)
_EAI_NONAME = _constants.get("EAI_NONAME", -2)


def _intenum(value, enum_klass):
    """value as a member of enum_klass, or the int if it has none."""
    try:
        return enum_klass(value)
    except ValueError:
        return value


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------


class ClosedSocketError(_errors.ClosedError, OSError):
    """A call that was waiting on a socket when it was closed: an OSError
    with errno EBADF, and a weft.ClosedError."""


class BadSocketError(_errors.BadHandleError, OSError):
    """A call on a closed socket (closed here or anywhere else): an
    OSError with errno EBADF, as in Python, and a weft.BadHandleError."""


def _ebadf(e, closed_here):
    cls = ClosedSocketError if isinstance(e, _errors.ClosedError) \
        else BadSocketError
    text = "Bad file descriptor" if closed_here else e.message
    x = cls(e.code, e.name, text, e.detail)
    x.errno, x.strerror = _errno.EBADF, text
    return x



def _gai_noname(what):
    return _errors.error(_WEFT_EGAI, "WEFT_EGAI",
                         "%s: Name or service not known" % what, _EAI_NONAME)


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------


def _timeout_value(value):
    """A socket timeout for weft: None -> -1 (blocking), else seconds >=
    0 (ValueError otherwise, as in Python)."""
    if value is None:
        return -1.0
    if isinstance(value, float):
        t = value
    elif isinstance(value, int):
        t = float(value)
    else:
        if isinstance(value, (str, bytes)) or not (
                hasattr(type(value), "__float__")
                or hasattr(type(value), "__index__")):
            raise TypeError("'%s' object cannot be interpreted as an "
                            "integer or float" % type(value).__name__)
        t = float(value)
    if t != t:
        raise ValueError("Invalid value NaN (not a number)")
    if t < 0:
        raise ValueError("Timeout value out of range")
    return t


def _idna(host):
    """A host name as bytes: ASCII as it is, other text IDNA-encoded (as
    Python's socket does); bytes as they are."""
    if isinstance(host, str):
        try:
            return host.encode("ascii")
        except UnicodeEncodeError:
            return host.encode("idna")
    if isinstance(host, (bytes, bytearray)):
        return bytes(host)
    raise TypeError("str, bytes or bytearray expected, not %s"
                    % type(host).__name__)


def _port(port, caller):
    port = _operator.index(port)
    if not 0 <= port <= 65535:
        raise OverflowError("%s(): port must be 0-65535." % caller)
    return port


# Addresses made from numeric hosts, and addresses read back: both are
# pure functions of their keys, and sendto/recvfrom make or read one per
# call.
_made = {}
_parsed = {}
_CACHE_MAX = 256


def _make_inet(family, address, caller):
    if family == _AF_INET:
        if not isinstance(address, tuple):
            raise TypeError("%s(): AF_INET address must be tuple, not %s"
                            % (caller, type(address).__name__))
        if len(address) != 2:
            raise TypeError("AF_INET address must be a pair (host, port)")
        host, port = address
        flowinfo = scope_id = 0
    else:
        if not isinstance(address, tuple):
            raise TypeError("%s(): AF_INET6 address must be tuple, not %s"
                            % (caller, type(address).__name__))
        if not 2 <= len(address) <= 4:
            raise TypeError("AF_INET6 address must be a tuple (host, "
                            "port[, flowinfo[, scopeid]])")
        host, port, flowinfo, scope_id = (address + (0, 0))[:4]
        flowinfo = _operator.index(flowinfo)
        scope_id = _operator.index(scope_id)
        if not 0 <= flowinfo <= 0xfffff:
            raise OverflowError("%s(): flowinfo must be 0-1048575."
                                % caller)
    host = _idna(host)
    port = _port(port, caller)
    raw = _lib.sockaddr_make(family, host, port, flowinfo, scope_id)
    # Keep it if host was numeric: then it reads back as it was.
    try:
        back = _lib.sockaddr_parse(raw)[1]
    except _errors.WeftError:
        return raw
    if back.encode("ascii", "replace") == host and len(address) == 2 \
            and address[0].__class__ is str and address[1].__class__ is int:
        if len(_made) >= _CACHE_MAX:
            _made.clear()
        _made[family, address] = raw
    return raw


def _make(family, address, caller):
    """The struct sockaddr (bytes) for a Python address of `family`."""
    if address.__class__ is tuple and len(address) == 2 \
            and address[0].__class__ is str and address[1].__class__ is int:
        raw = _made.get((family, address))
        if raw is not None:
            return raw
    if family == _AF_INET or family == _AF_INET6:
        return _make_inet(family, address, caller)
    if family == _AF_UNIX:
        if isinstance(address, str):
            path = _os.fsencode(address)
        else:
            try:
                path = memoryview(address).tobytes()
            except TypeError:
                raise TypeError("a bytes-like object is required, not '%s'"
                                % type(address).__name__) from None
        try:
            return _lib.sockaddr_make(family, path, 0, 0, 0)
        except _errors.InvalidValueError as e:
            raise OSError(e.message) from None
    return _lib.sockaddr_make(family, b"", 0, 0, 0)  # EAFNOSUPPORT


def _address(raw):
    """A struct sockaddr (bytes) as Python's address: (host, port),
    (host, port, flowinfo, scope_id), a path (str) or an abstract name
    (bytes); None for none; (family, bytes) for other families."""
    if not raw:
        return None
    try:
        return _parsed[raw]
    except KeyError:
        pass
    try:
        family, host, port, flowinfo, scope_id = _lib.sockaddr_parse(raw)
    except OSError as e:
        if e.errno != _errno.EAFNOSUPPORT:
            raise
        return int.from_bytes(raw[:2], _sys.byteorder), raw[2:]
    if family == _AF_INET:
        a = (host, port)
    elif family == _AF_INET6:
        a = (host, port, flowinfo, scope_id)
    elif family == _AF_UNIX and host.startswith("\0"):
        a = host.encode("utf-8", "surrogateescape")
    else:
        a = host
    if len(_parsed) >= _CACHE_MAX:
        _parsed.clear()
    _parsed[raw] = a
    return a


# ---------------------------------------------------------------------------
# The socket
# ---------------------------------------------------------------------------

# The hot calls, looked up once; the ctypes backend has cheaper versions
# of three of them (measured: bench/python-bench.py).
_recv = _lib.socket_recv
_recvfrom = _lib.socket_recvfrom
_send = _lib.socket_send
_sendall = _lib.socket_sendall
_sendto = _lib.socket_sendto
if hasattr(_lib, "fast_socket_calls"):
    _recv, _send, _sendall = _lib.fast_socket_calls()


class socket(object):
    """A socket: socket(family=AF_INET, type=SOCK_STREAM, proto=0,
    fileno=None), or socket(handle=h) over a weft socket handle made
    elsewhere.  fileno=fd takes the descriptor over (weft works on a
    duplicate of it and closes fd)."""

    __slots__ = ("_h", "_owned", "_family", "_type", "_proto",
                 "__weakref__")

    def __init__(self, family=-1, type=-1, proto=-1, fileno=None, *,
                 handle=None):
        self._h = 0
        self._owned = None
        self._family = self._type = self._proto = None
        if handle is not None:
            h = _operator.index(handle)
            kind = _lib.handle_kind(h) if 0 < h < 2 ** 53 else None
            if kind != _KIND_SOCKET:
                raise _errors.error(
                    _WEFT_EBADHANDLE, "WEFT_EBADHANDLE",
                    "handle %d is not a socket (its kind is %s)" % (h, kind))
            self._h, self._owned = h, False
            return
        if fileno is not None:
            fd = _operator.index(fileno)
            h = _lib.socket_fromfd_new(fd, family, type, proto)
            _os.close(fd)
        else:
            h = _lib.socket_new(_AF_INET if family == -1 else family,
                                _SOCK_STREAM if type == -1 else type,
                                0 if proto == -1 else proto)
        self._h, self._owned = h, True

    @classmethod
    def _own(cls, h, family=None, type=None, proto=None):
        """A socket of this module that owns handle h."""
        self = cls.__new__(cls)
        self._h, self._owned = h, True
        self._family, self._type, self._proto = family, type, proto
        return self

    def _error(self, e):
        """The exception for weft's e from a call on this socket: a closed
        or closing socket is EBADF."""
        if isinstance(e, (_errors.BadHandleError, _errors.ClosedError)):
            return _ebadf(e, self._owned is None)
        return e

    # ---- identity ----

    @property
    def handle(self):
        """The weft socket handle (an int), usable from any language; 0
        once closed."""
        return self._h

    @property
    def family(self):
        if self._family is None:
            self._family = _intenum(self._get(_lib.socket_get_family),
                                    AddressFamily)
        return self._family

    @property
    def type(self):
        if self._type is None:
            self._type = _intenum(self._get(_lib.socket_get_type),
                                  SocketKind)
        return self._type

    @property
    def proto(self):
        if self._proto is None:
            self._proto = self._get(_lib.socket_get_proto)
        return self._proto

    def _get(self, getter):
        try:
            return getter(self._h)
        except _errors.WeftError as e:
            raise self._error(e) from None

    def fileno(self):
        """The descriptor (the socket's: do not close it), -1 once
        closed."""
        if self._owned is None:
            return -1
        try:
            return _lib.socket_fileno(self._h)
        except _errors.BadHandleError:
            return -1

    def __repr__(self):
        closed = self._owned is None
        s = "<%s.%s%s handle=%d, fd=%d, family=%s, type=%s, proto=%s" % (
            type(self).__module__, type(self).__qualname__,
            " [closed]" if closed else "", self._h, self.fileno(),
            *(("?",) * 3 if closed and self._family is None else
              (int(self.family), int(self.type), self.proto)))
        if not closed:
            for what, fn in (("laddr", self.getsockname),
                             ("raddr", self.getpeername)):
                try:
                    addr = fn()
                except (OSError, _errors.WeftError):
                    continue
                if addr:
                    s += ", %s=%r" % (what, addr)
        return s + ">"

    def __getstate__(self):
        raise TypeError("cannot pickle %r object" % type(self).__name__)

    # ---- lifetime ----

    def close(self):
        """Close the socket (its handle): threads blocked in it wake with
        ClosedSocketError.  Closing a closed socket does nothing."""
        if self._owned is None:
            return
        self._owned = None
        h, self._h = self._h, 0
        try:
            _lib.close(h)
        except _errors.BadHandleError:
            pass  # closed elsewhere already

    def __del__(self):
        if getattr(self, "_owned", None):
            try:
                _warnings.warn("unclosed %r" % (self,), ResourceWarning,
                               source=self)
            except Exception:
                pass
            try:
                self.close()
            except Exception:
                pass  # interpreter shutdown

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.close()

    def detach(self):
        """Close the socket without closing its descriptor; the descriptor
        (in the blocking mode the socket was in)."""
        if self._owned is None:
            raise _ebadf(_errors.BadHandleError(
                _WEFT_EBADHANDLE, "WEFT_EBADHANDLE", "closed"), True)
        blocking = self.gettimeout() is None
        try:
            fd = _lib.socket_detach(self._h)
        except _errors.WeftError as e:
            raise self._error(e) from None
        self._owned, self._h = None, 0
        if blocking:
            _os.set_blocking(fd, True)
        return fd

    def dup(self):
        """A new socket over a duplicate of the descriptor, with this
        socket's timeout."""
        try:
            h = _lib.socket_fromfd_new(_lib.socket_fileno(self._h),
                                       self.family, self.type, self.proto)
        except _errors.WeftError as e:
            raise self._error(e) from None
        sock = type(self)._own(h, self._family, self._type, self._proto)
        sock.settimeout(self.gettimeout())
        return sock

    # ---- modes ----

    def settimeout(self, value):
        """None: blocking; 0: non-blocking; > 0: each call waits at most
        that many seconds (TimeoutError)."""
        t = _timeout_value(value)
        try:
            _lib.socket_set_timeout(self._h, t)
        except _errors.WeftError as e:
            raise self._error(e) from None

    def gettimeout(self):
        t = self._get(_lib.socket_get_timeout)
        return None if t < 0 else t

    @property
    def timeout(self):
        return self.gettimeout()

    def setblocking(self, flag):
        try:
            _lib.socket_set_blocking(self._h, 1 if flag else 0)
        except _errors.WeftError as e:
            raise self._error(e) from None

    def getblocking(self):
        """False in non-blocking mode, True in the other two."""
        return bool(self._get(_lib.socket_get_blocking))

    # ---- connections ----

    def _addr(self, address, caller):
        return _make(self.family, address, caller)

    def bind(self, address):
        raw = self._addr(address, "bind")
        try:
            _lib.socket_bind(self._h, raw)
        except _errors.WeftError as e:
            raise self._error(e) from None

    def listen(self, backlog=None):
        """Listen, with room for `backlog` pending connections (by default
        min(SOMAXCONN, 128), as in Python)."""
        if backlog is None:
            backlog = min(_constants.get("SOMAXCONN", 128), 128)
        try:
            _lib.socket_listen(self._h, max(_operator.index(backlog), 0))
        except _errors.WeftError as e:
            raise self._error(e) from None

    def accept(self):
        """A connection: (socket, address).  The new socket starts in the
        default timeout's mode."""
        try:
            raw, h = _lib.socket_accept(self._h)
        except _errors.WeftError as e:
            raise self._error(e) from None
        sock = socket._own(h, self.family, self.type, self.proto)
        return sock, _address(raw)

    def _accept(self):  # what socketserver and asyncio call
        sock, addr = self.accept()
        return sock.detach(), addr

    def connect(self, address):
        raw = self._addr(address, "connect")
        try:
            _lib.socket_connect(self._h, raw)
        except _errors.WeftError as e:
            raise self._error(e) from None

    def connect_ex(self, address):
        """connect, returning an errno value (0: connected) instead of
        raising for the connection's own outcome."""
        raw = self._addr(address, "connect_ex")
        try:
            return _lib.socket_connect_ex(self._h, raw)
        except _errors.WeftError as e:
            raise self._error(e) from None

    def getsockname(self):
        try:
            return _address(_lib.socket_getsockname(self._h))
        except _errors.WeftError as e:
            raise self._error(e) from None

    def getpeername(self):
        try:
            return _address(_lib.socket_getpeername(self._h))
        except _errors.WeftError as e:
            raise self._error(e) from None

    def shutdown(self, how):
        try:
            _lib.socket_shutdown(self._h, how)
        except _errors.WeftError as e:
            raise self._error(e) from None

    # ---- options ----

    def getsockopt(self, level, optname, buflen=None):
        """An int option, or with buflen (1..1024) the option's bytes."""
        try:
            if not buflen:
                return _lib.socket_getsockopt(self._h, level, optname)
            if not 0 < buflen <= 1024:
                raise OSError("getsockopt buflen out of range")
            return _lib.socket_getsockopt_bytes(self._h, level, optname,
                                                buflen)
        except _errors.WeftError as e:
            raise self._error(e) from None

    def setsockopt(self, level, optname, value, optlen=None):
        """setsockopt(level, optname, int or bytes-like), or
        setsockopt(level, optname, None, optlen)."""
        try:
            if optlen is not None:
                if value is not None:
                    raise TypeError("setsockopt() with optlen needs None "
                                    "as its value")
                _lib.socket_setsockopt_bytes(self._h, level, optname,
                                             _operator.index(optlen))
            elif isinstance(value, int):
                _lib.socket_setsockopt(self._h, level, optname, value)
            elif value is None:
                raise TypeError("a bytes-like object is required, not "
                                "'NoneType'")
            else:
                _lib.socket_setsockopt_bytes(self._h, level, optname, value)
        except _errors.WeftError as e:
            raise self._error(e) from None

    # ---- data ----

    def recv(self, bufsize, flags=0):
        """Up to bufsize bytes; b"" at the end of the stream."""
        if bufsize.__class__ is not int:
            bufsize = _operator.index(bufsize)
        try:
            return _recv(self._h, flags, bufsize)
        except _errors.WeftError as e:
            raise self._error(e) from None
        except OverflowError:
            if bufsize < 0:
                raise ValueError("negative buffersize in recv") from None
            raise

    def recvfrom(self, bufsize, flags=0):
        """(bytes, address of the sender)."""
        if bufsize.__class__ is not int:
            bufsize = _operator.index(bufsize)
        try:
            data, raw = _recvfrom(self._h, flags, bufsize)
        except _errors.WeftError as e:
            raise self._error(e) from None
        except OverflowError:
            if bufsize < 0:
                raise ValueError("negative buffersize in recvfrom") \
                    from None
            raise
        return data, _address(raw)

    def _into(self, buffer, nbytes, what):
        """buffer as the writable byte view recv_into fills: its first
        nbytes bytes (0: all of them)."""
        if isinstance(buffer, int):
            raise TypeError("recv_into() argument 'buffer' must be "
                            "read-write bytes-like object, not int")
        nbytes = _operator.index(nbytes)
        if nbytes < 0:
            raise ValueError("negative buffersize in %s" % what)
        view = memoryview(buffer)
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        if nbytes > view.nbytes:
            raise ValueError("buffer too small for requested bytes"
                             if what == "recv_into" else
                             "nbytes is greater than the length of the "
                             "buffer")
        return view if nbytes == 0 or nbytes == view.nbytes \
            else view[:nbytes]

    def recv_into(self, buffer, nbytes=0, flags=0):
        """Receive into buffer (at most nbytes; 0: its size); the count."""
        view = self._into(buffer, nbytes, "recv_into")
        try:
            return _recv(self._h, flags, view)
        except _errors.WeftError as e:
            raise self._error(e) from None

    def recvfrom_into(self, buffer, nbytes=0, flags=0):
        """(count, address of the sender)."""
        view = self._into(buffer, nbytes, "recvfrom_into")
        try:
            n, raw = _recvfrom(self._h, flags, view)
        except _errors.WeftError as e:
            raise self._error(e) from None
        return n, _address(raw)

    def send(self, data, flags=0):
        """Send some of data; how many bytes went."""
        try:
            return _send(self._h, data, flags)
        except _errors.WeftError as e:
            raise self._error(e) from None

    def sendall(self, data, flags=0):
        """Send all of data.  In timeout mode the timeout bounds the whole
        call; on failure the exception's characters_written says how many
        bytes went."""
        try:
            _sendall(self._h, data, flags)
        except _errors.WeftError as e:
            raise self._error(e) from None

    def sendto(self, data, flags_or_address, address=None):
        """sendto(data, address) or sendto(data, flags, address): how many
        bytes went."""
        if address is None:
            flags, address = 0, flags_or_address
        else:
            flags = flags_or_address
        raw = self._addr(address, "sendto")
        try:
            return _sendto(self._h, data, flags, raw)
        except _errors.WeftError as e:
            raise self._error(e) from None

    def makefile(self, mode="r", buffering=None, *, encoding=None,
                 errors=None, newline=None):
        """A file over a duplicate of the descriptor (it closes on its
        own): a weft.io.Stream for a binary mode, a TextIOWrapper over one
        otherwise.  buffering 0 (binary only) is raw-like: each read is at
        most one recv.  The file takes the socket's timeout now."""
        raw = _mode_check(mode)
        binary = "b" in mode
        if buffering is None or buffering < 0:
            buffering = -1
        if buffering == 0 and not binary:
            raise ValueError("unbuffered streams must be binary")
        try:
            h = _lib.socket_makefile(self._h, raw, buffering)
        except _errors.WeftError as e:
            raise self._error(e) from None
        stream = _Stream._own(h, raw + "b")
        if binary:
            return stream
        from .io import _text_encoding
        text = _io.TextIOWrapper(stream, _text_encoding(encoding), errors,
                                 newline)
        text.mode = mode
        return text


SocketType = socket


def _wrap_pair(pair, family, type, proto):
    a, b = pair
    return (socket._own(a, _intenum(family, AddressFamily),
                        _intenum(type, SocketKind), proto),
            socket._own(b, _intenum(family, AddressFamily),
                        _intenum(type, SocketKind), proto))


def socketpair(family=None, type=_SOCK_STREAM, proto=0):
    """A pair of connected sockets (AF_UNIX by default)."""
    if family is None:
        family = _AF_UNIX if _AF_UNIX is not None else _AF_INET
    return _wrap_pair(_lib.socket_pair_new(family, type, proto), family,
                      type, proto)


def fromfd(fd, family, type, proto=0):
    """A socket over a duplicate of fd (which stays the caller's, with its
    flags as they were until an accept() or connect() needs O_NONBLOCK:
    the two share them)."""
    return socket._own(_lib.socket_fromfd_new(_operator.index(fd), family,
                                              type, proto))


def dup(fd):
    return _os.dup(fd)


def close(fd):
    """Close a descriptor (socket.close(fd))."""
    _os.close(fd)


_GLOBAL_DEFAULT_TIMEOUT = object()


def getdefaulttimeout():
    """The timeout new sockets start with (None: blocking).  weft's, which
    is process-wide."""
    t = _lib.socket_get_default_timeout()
    return None if t < 0 else t


def setdefaulttimeout(timeout):
    """Set the timeout every new weft socket of the process starts with
    (whichever language makes it); sockets made before keep theirs."""
    _lib.socket_set_default_timeout(_timeout_value(timeout))


def _port_text(port):
    if port is None:
        return None
    if isinstance(port, int):
        return str(port)
    if isinstance(port, str):
        return port
    if isinstance(port, bytes):
        return port.decode("ascii", "surrogateescape")
    raise OSError("Int or String expected")


def create_connection(address, timeout=_GLOBAL_DEFAULT_TIMEOUT,
                      source_address=None, *, all_errors=False):
    """Connect to (host, port), trying each address the name resolves to
    in turn; the socket, which keeps `timeout` (the default timeout if
    not given).  source_address (host, port) binds first.  all_errors:
    raise an ExceptionGroup of every try's error."""
    host, port = address
    if timeout is _GLOBAL_DEFAULT_TIMEOUT:
        t = _lib.socket_get_default_timeout()
    else:
        t = _timeout_value(timeout)
    if all_errors:
        return _create_connection_all(host, port, t, source_address)
    if source_address:
        src_host, src_port = source_address
        src_host, src_port = _idna(src_host or ""), _port_text(src_port)
    else:
        src_host = src_port = None
    h = _lib.socket_create_connection(_idna(host), _port_text(port), t,
                                      src_host, src_port)
    return socket._own(h)


def _create_connection_all(host, port, t, source_address):
    exceptions = []
    for af, socktype, proto, _canon, sa in getaddrinfo(host, port, 0,
                                                       _SOCK_STREAM):
        sock = None
        try:
            sock = socket(af, socktype, proto)
            sock.settimeout(None if t < 0 else t)
            if source_address:
                sock.bind(source_address)
            sock.connect(sa)
            exceptions.clear()
            return sock
        except OSError as exc:
            exceptions.append(exc)
            if sock is not None:
                sock.close()
    if exceptions:
        group = getattr(_builtins, "ExceptionGroup", None)
        try:
            if group is None:  # before 3.11
                raise exceptions[-1]
            raise group("create_connection failed", list(exceptions))
        finally:
            exceptions.clear()
    raise error("getaddrinfo returns an empty list")


def has_dualstack_ipv6():
    """True if an AF_INET6 socket here can take IPv4 connections too."""
    if not has_ipv6 or "IPV6_V6ONLY" not in _constants:
        return False
    try:
        with socket(_AF_INET6, _SOCK_STREAM) as sock:
            sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY, 0)  # noqa: F821
            return True
    except OSError:
        return False


def create_server(address, *, family=_AF_INET, backlog=None,
                  reuse_port=False, dualstack_ipv6=False):
    """A listening SOCK_STREAM socket bound to address (as Python's)."""
    if reuse_port and "SO_REUSEPORT" not in _constants:
        raise ValueError("SO_REUSEPORT not supported on this platform")
    if dualstack_ipv6:
        if not has_dualstack_ipv6():
            raise ValueError("dualstack_ipv6 not supported on this "
                             "platform")
        if family != _AF_INET6:
            raise ValueError("dualstack_ipv6 requires AF_INET6 family")
    sock = socket(family, _SOCK_STREAM)
    try:
        try:
            sock.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)  # noqa: F821
        except OSError:
            pass
        if reuse_port:
            sock.setsockopt(SOL_SOCKET, SO_REUSEPORT, 1)  # noqa: F821
        if has_ipv6 and family == _AF_INET6 and "IPV6_V6ONLY" in _constants:
            sock.setsockopt(IPPROTO_IPV6, IPV6_V6ONLY,  # noqa: F821
                            0 if dualstack_ipv6 else 1)
        try:
            sock.bind(address)
        except OSError as err:
            msg = "%s (while attempting to bind on address %r)" % (
                err.strerror, address)
            raise error(err.errno, msg) from None
        sock.listen(backlog)
        return sock
    except BaseException:
        sock.close()
        raise


# ---------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------


def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
    """Resolve (host, port): a list of (family, type, proto, canonname,
    sockaddr).  host None, str (IDNA-encoded if not ASCII) or bytes; port
    None, an int, a service name or bytes."""
    if host is not None and not isinstance(host, (str, bytes)):
        raise TypeError("getaddrinfo() argument 1 must be string or None")
    ai = _lib.addrinfo_new(None if host is None else _idna(host),
                           _port_text(port), family, type, proto, flags)
    try:
        out = []
        for i in range(_lib.addrinfo_count(ai)):
            f, t, p, raw = _lib.addrinfo_get(ai, i)
            canon = _lib.addrinfo_canonname(ai, i) \
                if flags & _AI_CANONNAME else ""
            out.append((_intenum(f, AddressFamily), _intenum(t, SocketKind),
                        p, canon, _address(raw)))
        return out
    finally:
        _lib.close(ai)


def _numeric_family(host):
    """AF_INET or AF_INET6 for a numeric host (bytes), else None."""
    text = host.decode("ascii", "replace")
    for family, h in ((_AF_INET, text),
                      (_AF_INET6, text.split("%", 1)[0])):
        if family is None:
            continue
        try:
            _lib.socket_inet_pton(family, h, 16)
            return family
        except (OSError, ValueError):
            continue
    return None


def getnameinfo(sockaddr, flags):
    """(host, port) as text for a numeric sockaddr, by NI_* flags."""
    if not isinstance(sockaddr, tuple) or not 2 <= len(sockaddr) <= 4:
        raise TypeError("getnameinfo(): illegal sockaddr argument")
    host, port = sockaddr[0], sockaddr[1]
    if not isinstance(host, (str, bytes)):
        raise TypeError("getnameinfo(): illegal sockaddr argument")
    host = _idna(host)
    family = _numeric_family(host)
    if family is None:
        raise _gai_noname("getnameinfo %s" % host.decode("ascii", "replace"))
    if family == _AF_INET and len(sockaddr) != 2:
        raise OSError("IPv4 sockaddr must be 2 tuple")
    if family == _AF_INET:
        raw = _make(family, (host, port), "getnameinfo")
    else:
        raw = _make(family, (host,) + sockaddr[1:], "getnameinfo")
    return _lib.socket_getnameinfo(raw, flags)


def gethostbyname(hostname):
    """A host name's IPv4 address, as text."""
    return _lib.socket_gethostbyname(_idna(hostname))


def _host_lines(text):
    name, aliases, addrs = (text.split("\n") + ["", ""])[:3]
    return name, aliases.split(), addrs.split()


def gethostbyname_ex(hostname):
    """(hostname, aliases, IPv4 addresses)."""
    return _host_lines(_lib.socket_gethostbyname_ex(_idna(hostname)))


def gethostbyaddr(ip_address):
    """(hostname, aliases, addresses) of an IPv4 or IPv6 address (or a
    host name, resolved first)."""
    return _host_lines(_lib.socket_gethostbyaddr(_idna(ip_address)))


def gethostname():
    return _lib.socket_gethostname()


def getfqdn(name=""):
    """A fully qualified name for name (this host's by default)."""
    return _lib.socket_getfqdn(name)


def getservbyname(servicename, protocolname=None):
    """A service's port ("http" -> 80)."""
    try:
        return _lib.socket_getservbyname(servicename, protocolname)
    except FileNotFoundError:
        raise OSError("service/proto not found") from None


def getservbyport(port, protocolname=None):
    """A port's service name (80 -> "http")."""
    port = _operator.index(port)
    if not 0 <= port <= 65535:
        raise OverflowError("getservbyport: port must be 0-65535.")
    try:
        return _lib.socket_getservbyport(port, protocolname)
    except FileNotFoundError:
        raise OSError("port/proto not found") from None


def getprotobyname(protocolname):
    try:
        return _lib.socket_getprotobyname(protocolname)
    except FileNotFoundError:
        raise OSError("protocol not found") from None


# ---------------------------------------------------------------------------
# Address and byte-order helpers
# ---------------------------------------------------------------------------


def inet_aton(ip_string):
    """Dotted-quad text to 4 bytes."""
    try:
        return _lib.socket_inet_aton(ip_string, 4)
    except _errors.InvalidValueError:
        raise OSError("illegal IP address string passed to inet_aton") \
            from None


def inet_ntoa(packed_ip):
    try:
        return _lib.socket_inet_ntoa(packed_ip)
    except _errors.InvalidValueError:
        raise OSError("packed IP wrong length for inet_ntoa") from None


def inet_pton(address_family, ip_string):
    try:
        return _lib.socket_inet_pton(address_family, ip_string, 16)
    except _errors.InvalidValueError:
        raise OSError("illegal IP address string passed to inet_pton") \
            from None


def inet_ntop(address_family, packed_ip):
    try:
        return _lib.socket_inet_ntop(address_family, packed_ip)
    except _errors.InvalidValueError:
        raise ValueError("invalid length of packed IP address string") \
            from None


def _byte_order(fn, bits, name):
    def convert(x):
        x = _operator.index(x)
        try:
            return fn(x)
        except (_errors.InvalidValueError, OverflowError):
            raise OverflowError("%s: value must be 0 .. 2**%d - 1, not %d"
                                % (name, bits, x)) from None
    convert.__name__ = name
    convert.__doc__ = "Convert a %d-bit integer between host and network " \
        "byte order." % bits
    return convert


htonl = _byte_order(_lib.socket_htonl, 32, "htonl")
ntohl = _byte_order(_lib.socket_ntohl, 32, "ntohl")
htons = _byte_order(_lib.socket_htons, 16, "htons")
ntohs = _byte_order(_lib.socket_ntohs, 16, "ntohs")

has_ipv6 = bool(_lib.socket_has_ipv6())
