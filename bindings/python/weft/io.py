"""weft.io: Python's buffered binary files, on weft's stream handles.

A weft stream (weft_stream_*) is a BufferedReader and a BufferedWriter
paired over the stream's own duplicate of a descriptor: a socket's
(socket.makefile) or any other (a pipe, a file, a terminal).
:class:`Stream` is an :class:`io.BufferedIOBase` over one, so it works
wherever a binary file does (``io.TextIOWrapper(stream)``, ``for line in
stream``, ``shutil.copyfileobj``)::

    import weft.io
    with weft.io.Stream(fd, "rb") as f:     # f reads a duplicate of fd
        for line in f:
            ...

What differs from io's own buffered files:

- the descriptor is a duplicate, always in O_NONBLOCK mode underneath:
  the stream's mode is its timeout (``settimeout``, as for sockets: None
  blocking, 0 non-blocking, > 0 that long per call).  A read that runs
  out of time raises TimeoutError, one that would block in non-blocking
  mode BlockingIOError; either way it loses nothing (what was read stays
  buffered for the next read).  A write that could not finish raises
  BlockingIOError or TimeoutError with ``characters_written``.
- reads and writes may run at once from two threads (each side has its
  own lock), and close() from a third wakes them (weft.ClosedError).
- ``.handle`` is the stream's weft handle, usable from any language;
  ``Stream(handle=h)`` wraps one made elsewhere (closed by close(), not by
  the collector).
- buffering=0 is raw-like: each read is at most one read(2), readline
  reads byte by byte, each write is written at once.  buffering=1 makes
  writes line-buffered.
- no seek, tell, truncate or peek.
"""

import io as _io
import operator as _operator

from . import _errors, lib as _lib

__all__ = ["Stream", "open_fd", "DEFAULT_BUFFER_SIZE"]

DEFAULT_BUFFER_SIZE = _io.DEFAULT_BUFFER_SIZE
_KIND_STREAM = _lib.constant_get("WEFT_KIND_STREAM")
_READLINE_FIRST = 256  # readline's first buffer; a longer line is retried


def _size(n, what):
    """A read size: None or negative is -1 (all), else an int."""
    if n is None:
        return -1
    try:
        return _operator.index(n)
    except TypeError:
        raise TypeError("argument should be integer or None, not '%s'"
                        % type(n).__name__) from None


def _mode_check(mode):
    if not isinstance(mode, str):
        raise TypeError("mode must be str, not %s" % type(mode).__name__)
    if not mode or not set(mode) <= set("rwb") or \
            any(mode.count(c) > 1 for c in mode):
        raise ValueError("invalid mode %r (only r, w, b allowed)" % (mode,))
    writing = "w" in mode
    reading = "r" in mode or not writing
    return ("r" if reading else "") + ("w" if writing else "")


class Stream(_io.BufferedIOBase):
    """A buffered binary file over a duplicate of `fd` (which stays the
    caller's): ``Stream(fd, mode="rb", buffering=-1)``, or
    ``Stream(handle=h)`` over a stream handle made elsewhere.  mode holds
    'r' and/or 'w' ('b' is accepted: streams are bytes); buffering -1 is
    DEFAULT_BUFFER_SIZE, 0 unbuffered, 1 line-buffered writes, > 1 the
    buffer's size."""

    def __init__(self, fd=None, mode="rb", buffering=-1, *, handle=None):
        self._handle = 0
        self._owned = None
        if handle is not None:
            if fd is not None:
                raise TypeError("Stream() takes fd or handle, not both")
            h = _operator.index(handle)
            if _lib.handle_kind(h) != _KIND_STREAM:
                raise _errors.error(-10000, "WEFT_EBADHANDLE",
                                    "handle %d is not a stream" % h)
            self._handle, self._owned = h, False
        else:
            if fd is None:
                raise TypeError("Stream() needs a descriptor (or a handle)")
            if not isinstance(fd, int):
                fd = fd.fileno()
            raw = _mode_check(mode)
            self._handle = _lib.stream_new(fd, raw, _operator.index(
                buffering))
            self._owned = True
        self.mode = mode if handle is None else self._mode_of()

    @classmethod
    def _own(cls, handle, mode):
        """A Stream that owns `handle` (socket.makefile's)."""
        self = cls.__new__(cls)
        self._handle, self._owned = handle, True
        self.mode = mode
        return self

    def _mode_of(self):
        r = _lib.stream_readable(self._handle)
        w = _lib.stream_writable(self._handle)
        return ("r" if r else "") + ("w" if w else "") + "b"

    # ---- state ----

    @property
    def handle(self):
        """The weft stream handle (an int), usable from any language."""
        return self._handle

    @property
    def closed(self):
        return self._owned is None

    def _h(self):
        if self._owned is None:
            raise ValueError("I/O operation on closed file.")
        return self._handle

    def close(self):
        """Flush and close the stream (its handle); closing a closed stream
        does nothing.  A failed flush raises after the stream is closed."""
        if self._owned is None:
            return
        self._owned = None
        _lib.close(self._handle)

    def __del__(self):
        try:
            if self._owned:
                self._owned = None
                _lib.close(self._handle)
            else:
                self._owned = None
        except Exception:
            pass  # interpreter shutdown, a failed flush, closed elsewhere

    def detach(self):
        raise _io.UnsupportedOperation("a weft stream has no raw stream")

    def readable(self):
        return bool(_lib.stream_readable(self._h()))

    def writable(self):
        return bool(_lib.stream_writable(self._h()))

    def seekable(self):
        self._h()
        return False

    def fileno(self):
        """The stream's own descriptor (a duplicate; do not close it)."""
        return _lib.stream_fileno(self._h())

    @property
    def name(self):
        return self.fileno()

    def settimeout(self, timeout):
        """The stream's mode, as socket.settimeout: None blocking, 0
        non-blocking, > 0 seconds per call."""
        from .socket import _timeout_value
        _lib.stream_set_timeout(self._h(), _timeout_value(timeout))

    def gettimeout(self):
        t = _lib.stream_get_timeout(self._h())
        return None if t < 0 else t

    # ---- reading ----

    @staticmethod
    def _refused(h, reading):
        """After a failed call on h: UnsupportedOperation if the stream's
        mode does not allow it (else the failure stands)."""
        try:
            ok = (_lib.stream_readable if reading else
                  _lib.stream_writable)(h)
        except _errors.WeftError:
            return  # closed meanwhile
        if not ok:
            raise _io.UnsupportedOperation("not readable" if reading
                                           else "not writable")

    def read(self, size=-1):
        """Up to `size` bytes (all, to the end of the stream, when size is
        None or negative); fewer only at the end."""
        size = _size(size, "read")
        h = self._h()
        try:
            if size < 0:
                return _lib.stream_readall(h, DEFAULT_BUFFER_SIZE)
            return _lib.stream_read(h, size)
        except (OSError, _errors.WeftError):
            self._refused(h, True)
            raise

    def read1(self, size=-1):
        """Up to `size` bytes with at most one read(2) (none if some are
        buffered); size < 0: up to the buffer's size."""
        size = _size(size, "read1")
        h = self._h()
        try:
            return _lib.stream_read1(h, DEFAULT_BUFFER_SIZE if size < 0
                                     else size)
        except (OSError, _errors.WeftError):
            self._refused(h, True)
            raise

    def readinto(self, b):
        """Fill b (any writable bytes-like object) as read() would; the
        count."""
        h = self._h()
        try:
            return _lib.stream_read(h, _byte_view(b))
        except (OSError, _errors.WeftError):
            self._refused(h, True)
            raise

    def readinto1(self, b):
        h = self._h()
        try:
            return _lib.stream_read1(h, _byte_view(b))
        except (OSError, _errors.WeftError):
            self._refused(h, True)
            raise

    def readall(self):
        return self.read(-1)

    def readline(self, size=-1):
        """Through the next b"\\n" (kept), at most `size` bytes, or to the
        end of the stream (b"" at the end)."""
        size = _size(size, "readline")
        h = self._h()
        first = _READLINE_FIRST if size < 0 or size > _READLINE_FIRST \
            else size
        try:
            return _lib.stream_readline(h, size, first)
        except (OSError, _errors.WeftError):
            self._refused(h, True)
            raise

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def __iter__(self):
        self._h()
        return self

    # ---- writing ----

    def write(self, b):
        """Buffer b (any bytes-like object), writing out as the buffer
        fills; the count (len(b)).  If not all could be taken, raises
        (BlockingIOError, TimeoutError, ...) with characters_written."""
        h = self._h()
        try:
            return _lib.stream_write(h, b)
        except (OSError, _errors.WeftError):
            self._refused(h, False)
            raise

    def flush(self):
        if self._owned is None:
            raise ValueError("flush of closed file")
        _lib.stream_flush(self._handle)

    def __repr__(self):
        if self._owned is None:
            return "<weft.io.Stream [closed] handle=%d>" % self._handle
        try:
            fd = self.fileno()
        except Exception:
            fd = -1
        return "<weft.io.Stream handle=%d name=%d mode=%r>" % (
            self._handle, fd, self.mode)

    def __getstate__(self):
        raise TypeError("cannot pickle %r object" % type(self).__name__)


def _byte_view(b):
    """b as a writable byte buffer (readinto's argument: any writable
    bytes-like object, any item size)."""
    if b.__class__ is bytearray:
        return b
    if isinstance(b, int):  # the low level would take it as a size
        raise TypeError("readinto() argument must be read-write bytes-like "
                        "object, not int")
    view = memoryview(b)
    return view.cast("B") if view.format != "B" or view.ndim != 1 else view


def _text_encoding(encoding):
    f = getattr(_io, "text_encoding", None)  # 3.10
    return f(encoding, 3) if f is not None else encoding


def open_fd(fd, mode="r", buffering=-1, encoding=None, errors=None,
            newline=None):
    """Like open(fd, mode, ...) for a descriptor that stays the caller's:
    a Stream, or a TextIOWrapper over one when mode has no 'b'."""
    binary = "b" in mode
    if buffering == 0 and not binary:
        raise ValueError("unbuffered streams must be binary")
    stream = Stream(fd, mode, buffering)
    if binary:
        return stream
    text = _io.TextIOWrapper(stream, _text_encoding(encoding), errors,
                             newline, line_buffering=buffering == 1)
    text.mode = mode
    return text
