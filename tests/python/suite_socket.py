"""weft.socket behaves as Python's socket module, on weft socket handles.

One behaviour per test, loopback only.  Waits are bounded (a broken
build fails, it does not hang); the only timing assertions are lower
bounds ("did not return before its timeout").
"""

import builtins
import errno
import gc
import hashlib
import os
import socket as std
import tempfile
import threading as std_threading
import time
import unittest
import warnings

import weft
import weft.socket as socket
import weft.threading as threading
from weft import lib

WAIT = 30  # seconds: only a broken build ever waits this long


def has_ipv6_loopback():
    if not std.has_ipv6:
        return False
    try:
        with std.socket(std.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


HAVE_V6 = has_ipv6_loopback()


def serve(listener, handler):
    """Accept one connection on listener in a thread and run
    handler(conn) on it; the thread."""
    def run():
        conn, _ = listener.accept()
        with conn:
            handler(conn)
    t = std_threading.Thread(target=run, daemon=True)
    t.start()
    return t


def echo(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            break
        conn.sendall(data)


def recv_exactly(sock, n):
    out = bytearray()
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return bytes(out)


def blocked(call, *args):
    """Run call(*args) in a thread; (thread, outcome list)."""
    out = []

    def run():
        try:
            out.append(call(*args))
        except BaseException as e:
            out.append(e)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


class Listener(unittest.TestCase):
    """Each test gets a TCP listener on 127.0.0.1."""

    family, host = socket.AF_INET, "127.0.0.1"

    def setUp(self):
        self.srv = socket.socket(self.family, socket.SOCK_STREAM)
        self.srv.bind((self.host, 0))
        self.srv.listen()
        self.addr = self.srv.getsockname()

    def tearDown(self):
        self.srv.close()

    def connect(self, **kw):
        return socket.create_connection(self.addr[:2], **kw)


# ---------------------------------------------------------------------------
# Echo over each kind of socket
# ---------------------------------------------------------------------------


class Echo(Listener):

    def test_tcp_v4(self):
        t = serve(self.srv, echo)
        with self.connect() as c:
            c.sendall(b"hello, v4")
            self.assertEqual(recv_exactly(c, 9), b"hello, v4")
        t.join(WAIT)

    def test_accept_gives_the_peer_address(self):
        c = self.connect()
        conn, addr = self.srv.accept()
        self.assertEqual(addr, c.getsockname())
        self.assertEqual(conn.getpeername(), c.getsockname())
        conn.close()
        c.close()

    def test_accepted_sockets_keep_the_family_type_and_proto(self):
        c = self.connect()
        conn, _ = self.srv.accept()
        self.assertEqual((conn.family, conn.type),
                         (socket.AF_INET, socket.SOCK_STREAM))
        self.assertIsInstance(conn.family, socket.AddressFamily)
        conn.close()
        c.close()

    @unittest.skipUnless(HAVE_V6, "no IPv6 loopback")
    def test_tcp_v6(self):
        srv = socket.socket(socket.AF_INET6)
        srv.bind(("::1", 0))
        srv.listen()
        addr = srv.getsockname()
        self.assertEqual(len(addr), 4)
        t = serve(srv, echo)
        with socket.socket(socket.AF_INET6) as c:
            c.connect(("::1", addr[1]))  # a 2-tuple is accepted too
            c.sendall(b"hello, v6")
            self.assertEqual(recv_exactly(c, 9), b"hello, v6")
            self.assertEqual(c.getpeername()[:2], ("::1", addr[1]))
        t.join(WAIT)
        srv.close()

    def test_unix_path(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "sock")
            srv = socket.socket(socket.AF_UNIX)
            srv.bind(path)
            srv.listen()
            self.assertEqual(srv.getsockname(), path)
            t = serve(srv, echo)
            with socket.socket(socket.AF_UNIX) as c:
                c.connect(path)
                c.sendall(b"hello, path")
                self.assertEqual(recv_exactly(c, 11), b"hello, path")
            t.join(WAIT)
            srv.close()

    def test_unix_abstract(self):
        name = b"\0weft-test-abstract-%d" % os.getpid()
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(name)
        srv.listen()
        self.assertEqual(srv.getsockname(), name)
        t = serve(srv, echo)
        with socket.socket(socket.AF_UNIX) as c:
            c.connect(name)
            c.sendall(b"hello, abstract")
            self.assertEqual(recv_exactly(c, 15), b"hello, abstract")
        t.join(WAIT)
        srv.close()

    def test_udp(self):
        a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        a.bind(("127.0.0.1", 0))
        b.bind(("127.0.0.1", 0))
        a.settimeout(WAIT)
        b.settimeout(WAIT)
        self.assertEqual(a.sendto(b"ping", b.getsockname()), 4)
        data, addr = b.recvfrom(100)
        self.assertEqual((data, addr), (b"ping", a.getsockname()))
        b.sendto(b"pong", 0, addr)  # the three-argument form
        self.assertEqual(a.recvfrom(100), (b"pong", b.getsockname()))
        a.close()
        b.close()

    @unittest.skipUnless(HAVE_V6, "no IPv6 loopback")
    def test_udp_v6(self):
        a = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        a.bind(("::1", 0))
        a.settimeout(WAIT)
        a.sendto(b"self", a.getsockname())
        data, addr = a.recvfrom(100)
        self.assertEqual((data, addr), (b"self", a.getsockname()))
        a.close()

    def test_recv_into_and_recvfrom_into(self):
        a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        a.send(b"abcdef")
        buf = bytearray(10)
        self.assertEqual(b.recv_into(buf, 4), 4)
        self.assertEqual(buf[:4], b"abcd")
        a.send(b"xyz")
        n, addr = b.recvfrom_into(buf)
        self.assertEqual((n, buf[:3]), (3, b"xyz"))
        a.close()
        b.close()

    def test_sendall_of_a_few_mib_arrives_whole(self):
        data = os.urandom(3 << 20)
        digest = []

        def hasher(conn):
            h = hashlib.sha256()
            n = 0
            while n < len(data):
                chunk = conn.recv(1 << 16)
                if not chunk:
                    break
                h.update(chunk)
                n += len(chunk)
            digest.append(h.hexdigest())
        t = serve(self.srv, hasher)
        with self.connect() as c:
            self.assertIsNone(c.sendall(data))
            t.join(WAIT)
        self.assertEqual(digest, [hashlib.sha256(data).hexdigest()])

    def test_the_end_of_the_stream_is_empty_bytes(self):
        a, b = socket.socketpair()
        a.shutdown(socket.SHUT_WR)
        self.assertEqual(b.recv(10), b"")
        a.close()
        b.close()


# ---------------------------------------------------------------------------
# Modes: blocking, timeout, non-blocking
# ---------------------------------------------------------------------------


class Modes(Listener):

    def test_sockets_start_blocking(self):
        with socket.socket() as s:
            self.assertIsNone(s.gettimeout())
            self.assertTrue(s.getblocking())

    def test_recv_times_out_with_socket_timeout(self):
        a, b = socket.socketpair()
        b.settimeout(0.2)
        t0 = time.monotonic()
        with self.assertRaises(socket.timeout):
            b.recv(10)
        self.assertGreaterEqual(time.monotonic() - t0, 0.2)
        self.assertIs(socket.timeout, TimeoutError)
        a.close()
        b.close()

    def test_accept_times_out(self):
        self.srv.settimeout(0.1)
        t0 = time.monotonic()
        with self.assertRaises(TimeoutError):
            self.srv.accept()
        self.assertGreaterEqual(time.monotonic() - t0, 0.1)

    def test_settimeout_and_its_shorthands(self):
        with socket.socket() as s:
            s.settimeout(2.5)
            self.assertEqual((s.gettimeout(), s.timeout, s.getblocking()),
                             (2.5, 2.5, True))
            s.setblocking(False)
            self.assertEqual((s.gettimeout(), s.getblocking()), (0.0, False))
            s.setblocking(True)
            self.assertIsNone(s.gettimeout())

    def test_non_blocking_recv_is_blocking_io_error(self):
        a, b = socket.socketpair()
        b.setblocking(False)
        with self.assertRaises(BlockingIOError):
            b.recv(10)
        a.close()
        b.close()

    def test_non_blocking_accept_is_blocking_io_error(self):
        self.srv.setblocking(False)
        with self.assertRaises(BlockingIOError):
            self.srv.accept()

    def test_non_blocking_connect_does_not_wait(self):
        with socket.socket() as c:
            c.setblocking(False)
            self.assertIn(c.connect_ex(self.addr), (0, errno.EINPROGRESS))

    def test_a_non_blocking_send_that_fills_up_is_blocking_io_error(self):
        a, b = socket.socketpair()
        a.setblocking(False)
        with self.assertRaises(BlockingIOError):
            for _ in range(100000):
                a.send(b"x" * 65536)
        a.close()
        b.close()

    def test_the_default_timeout_applies_to_new_sockets(self):
        old = socket.getdefaulttimeout()
        try:
            socket.setdefaulttimeout(3.0)
            self.assertEqual(socket.getdefaulttimeout(), 3.0)
            with socket.socket() as s:
                self.assertEqual(s.gettimeout(), 3.0)
            c = self.connect()
            conn, _ = self.srv.accept()
            self.assertEqual((c.gettimeout(), conn.gettimeout()), (3.0, 3.0))
            c.close()
            conn.close()
        finally:
            socket.setdefaulttimeout(old)
        self.assertEqual(socket.getdefaulttimeout(), old)

    def test_create_connection_keeps_its_timeout(self):
        with self.connect(timeout=4.0) as c:
            self.assertEqual(c.gettimeout(), 4.0)
        with self.connect(timeout=None) as c:
            self.assertIsNone(c.gettimeout())

    def test_create_connection_binds_the_source_address(self):
        with self.connect(source_address=("127.0.0.1", 0)) as c:
            self.assertEqual(c.getsockname()[0], "127.0.0.1")

    def test_create_connection_to_a_closed_port_is_refused(self):
        port = self.addr[1]
        self.srv.close()
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port))

    @unittest.skipUnless(hasattr(builtins, "ExceptionGroup"), "3.11")
    def test_create_connection_can_raise_every_error(self):
        port = self.addr[1]
        self.srv.close()
        with self.assertRaises(builtins.ExceptionGroup) as cm:
            socket.create_connection(("127.0.0.1", port), all_errors=True)
        self.assertIsInstance(cm.exception.exceptions[0],
                              ConnectionRefusedError)

    def test_connect_ex_gives_the_errno(self):
        port = self.addr[1]
        self.srv.close()
        with socket.socket() as c:
            self.assertEqual(c.connect_ex(("127.0.0.1", port)),
                             errno.ECONNREFUSED)

    def test_an_interrupted_recv_resumes(self):
        # weft_thread_interrupt is what a signal will do: the call runs
        # the pending handlers and goes on (PEP 475).
        a, b = socket.socketpair()
        t, out = blocked(b.recv, 100)
        for _ in range(5):
            time.sleep(0.02)
            lib.thread_interrupt(t.handle)
        a.sendall(b"still here")
        t.join(WAIT)
        self.assertEqual(out, [b"still here"])
        a.close()
        b.close()


# ---------------------------------------------------------------------------
# Closing
# ---------------------------------------------------------------------------


class Closing(unittest.TestCase):

    def test_close_wakes_a_thread_blocked_in_recv(self):
        a, b = socket.socketpair()
        t, out = blocked(b.recv, 100)
        time.sleep(0.05)
        b.close()
        t.join(WAIT)
        self.assertFalse(t.is_alive())
        self.assertIsInstance(out[0], OSError)
        self.assertIsInstance(out[0], weft.ClosedError)
        self.assertEqual(out[0].errno, errno.EBADF)
        a.close()

    def test_close_wakes_a_thread_blocked_in_accept(self):
        srv = socket.create_server(("127.0.0.1", 0))
        t, out = blocked(srv.accept)
        time.sleep(0.05)
        srv.close()
        t.join(WAIT)
        self.assertIsInstance(out[0], OSError)

    def test_calls_on_a_closed_socket_are_ebadf(self):
        s = socket.socket()
        s.close()
        for call, args in [(s.recv, (1,)), (s.send, (b"x",)),
                           (s.getsockname, ()), (s.settimeout, (1,)),
                           (s.connect, (("127.0.0.1", 1),)),
                           (s.listen, ())]:
            with self.assertRaises(OSError, msg=call) as cm:
                call(*args)
            self.assertEqual(cm.exception.errno, errno.EBADF)

    def test_a_closed_socket_has_fileno_minus_one_and_closes_again(self):
        s = socket.socket()
        s.close()
        self.assertEqual(s.fileno(), -1)
        s.close()
        self.assertIn("[closed]", repr(s))

    def test_a_socket_closed_elsewhere_is_ebadf(self):
        s = socket.socket()
        weft.close(s.handle)
        with self.assertRaises(OSError) as cm:
            s.getsockname()
        self.assertEqual(cm.exception.errno, errno.EBADF)
        self.assertIsInstance(cm.exception, weft.BadHandleError)
        s.close()

    def test_the_collector_closes_an_unclosed_socket_with_a_warning(self):
        s = socket.socket()
        h = s.handle
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            del s
            gc.collect()
        self.assertTrue(any(issubclass(x.category, ResourceWarning)
                            for x in w))
        with self.assertRaises(weft.BadHandleError):
            lib.socket_fileno(h)

    def test_the_context_manager_closes(self):
        with socket.socket() as s:
            pass
        self.assertEqual(s.fileno(), -1)

    def test_detach_gives_the_descriptor_in_its_mode(self):
        s = socket.socket()
        fd = s.detach()
        self.assertEqual(s.fileno(), -1)
        self.assertTrue(os.get_blocking(fd))
        with std.socket(fileno=fd) as again:
            self.assertEqual(again.family, std.AF_INET)


# ---------------------------------------------------------------------------
# Handles, descriptors, copies
# ---------------------------------------------------------------------------


class Handles(unittest.TestCase):

    def test_a_handle_made_elsewhere_is_wrapped_not_taken(self):
        h = lib.socket_new(std.AF_INET, std.SOCK_DGRAM, 0)
        s = socket.socket(handle=h)
        self.assertEqual((s.handle, s.type), (h, socket.SOCK_DGRAM))
        del s
        gc.collect()
        self.assertGreaterEqual(lib.socket_fileno(h), 0)  # still open
        socket.socket(handle=h).close()
        with self.assertRaises(weft.BadHandleError):
            lib.socket_fileno(h)

    def test_a_handle_of_another_kind_is_refused(self):
        ev = threading.Event()
        with self.assertRaises(weft.BadHandleError):
            socket.socket(handle=ev.handle)

    def test_fromfd_duplicates(self):
        a, b = std.socketpair()
        w = socket.fromfd(a.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)
        self.assertNotEqual(w.fileno(), a.fileno())
        a.close()  # the duplicate lives on
        w.sendall(b"via fromfd")
        b.settimeout(WAIT)
        self.assertEqual(b.recv(100), b"via fromfd")
        w.close()
        b.close()

    def test_dup_is_an_independent_socket(self):
        a, b = socket.socketpair()
        a.settimeout(7.0)
        c = a.dup()
        self.assertEqual((c.family, c.gettimeout()), (a.family, 7.0))
        a.close()
        c.sendall(b"dup")
        self.assertEqual(b.recv(10), b"dup")
        c.close()
        b.close()

    def test_fileno_keyword_takes_the_descriptor_over(self):
        s = std.socket()
        fd = s.detach()
        w = socket.socket(fileno=fd)
        self.assertEqual((w.family, w.type),
                         (socket.AF_INET, socket.SOCK_STREAM))
        w.close()
        with self.assertRaises(OSError):
            os.fstat(fd)

    def test_socketpair_defaults_to_unix(self):
        a, b = socket.socketpair()
        self.assertEqual((a.family, b.family),
                         (socket.AF_UNIX, socket.AF_UNIX))
        a.close()
        b.close()

    def test_repr_names_handle_and_addresses(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            text = repr(s)
            self.assertIn("handle=%d," % s.handle, text)
        self.assertIn("laddr=('127.0.0.1'", text)

    def test_sockets_cannot_be_pickled(self):
        import pickle
        with socket.socket() as s:
            with self.assertRaises(TypeError):
                pickle.dumps(s)


# ---------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------


class Options(unittest.TestCase):

    def setUp(self):
        self.s = socket.socket()

    def tearDown(self):
        self.s.close()

    def test_int_options(self):
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.assertNotEqual(self.s.getsockopt(socket.SOL_SOCKET,
                                              socket.SO_REUSEADDR), 0)
        self.assertEqual(self.s.getsockopt(socket.SOL_SOCKET,
                                           socket.SO_TYPE),
                         socket.SOCK_STREAM)

    def test_bytes_options(self):
        one = (1).to_bytes(4, os.sys.byteorder)
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, one)
        self.assertEqual(self.s.getsockopt(socket.SOL_SOCKET,
                                           socket.SO_KEEPALIVE, 4), one)

    def test_none_with_optlen_passes_null(self):
        with self.assertRaises(OSError) as cm:
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, None,
                              4)
        self.assertEqual(cm.exception.errno, errno.EFAULT)

    def test_none_without_optlen_is_a_type_error(self):
        with self.assertRaises(TypeError):
            self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, None)

    def test_buflen_out_of_range_is_an_oserror(self):
        for bad in (1025, -1):
            with self.assertRaises(OSError):
                self.s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE, bad)

    def test_listen_has_a_default_backlog(self):
        self.s.bind(("127.0.0.1", 0))
        self.s.listen()
        self.assertEqual(self.s.getsockopt(socket.SOL_SOCKET,
                                           socket.SO_ACCEPTCONN), 1)


# ---------------------------------------------------------------------------
# makefile
# ---------------------------------------------------------------------------


class Makefile(unittest.TestCase):

    def setUp(self):
        self.a, self.b = socket.socketpair()

    def tearDown(self):
        self.a.close()
        self.b.close()

    def test_binary_readline(self):
        f = self.b.makefile("rb")
        self.a.sendall(b"first\nsecond\nrest")
        self.a.shutdown(socket.SHUT_WR)
        self.assertEqual(f.readline(), b"first\n")
        self.assertEqual(list(f), [b"second\n", b"rest"])
        f.close()

    def test_text_readline(self):
        f = self.b.makefile("r", encoding="utf-8", newline=None)
        self.a.sendall("caf\u00e9\r\nna\u00efve\n".encode("utf-8"))
        self.assertEqual(f.readline(), "caf\u00e9\n")
        self.assertEqual(f.readline(), "na\u00efve\n")
        self.assertEqual(f.mode, "r")
        f.close()

    def test_writes_are_flushed_to_the_peer(self):
        f = self.a.makefile("wb")
        f.write(b"through the file\n")
        f.flush()
        self.assertEqual(self.b.recv(100), b"through the file\n")
        f.close()

    def test_text_write_and_read_in_one_file(self):
        fa = self.a.makefile("rw", encoding="utf-8")
        fb = self.b.makefile("rw", encoding="utf-8")
        fa.write("question?\n")
        fa.flush()
        self.assertEqual(fb.readline(), "question?\n")
        fb.write("answer.\n")
        fb.flush()
        self.assertEqual(fa.readline(), "answer.\n")
        fa.close()
        fb.close()

    def test_the_file_is_a_buffered_io_base(self):
        import io
        f = self.b.makefile("rwb")
        self.assertIsInstance(f, io.BufferedIOBase)
        self.assertTrue(f.readable() and f.writable())
        self.assertFalse(f.seekable())
        self.assertNotEqual(f.fileno(), self.b.fileno())
        f.close()
        self.assertTrue(f.closed)

    def test_the_file_outlives_the_socket(self):
        f = self.b.makefile("rb")
        self.b.close()
        self.a.sendall(b"late\n")
        self.assertEqual(f.readline(), b"late\n")
        f.close()

    def test_unbuffered_reads_return_what_is_there(self):
        f = self.b.makefile("rb", buffering=0)
        self.a.sendall(b"abc")
        self.assertEqual(f.read(100), b"abc")
        f.close()

    def test_readinto_read1_and_readlines(self):
        f = self.b.makefile("rb")
        self.a.sendall(b"0123456789one\ntwo\n")
        self.a.shutdown(socket.SHUT_WR)
        buf = bytearray(4)
        self.assertEqual(f.readinto(buf), 4)
        self.assertEqual(buf, b"0123")
        self.assertEqual(f.read1(6), b"456789")
        self.assertEqual(f.readlines(), [b"one\n", b"two\n"])
        f.close()

    def test_unbuffered_text_is_refused(self):
        with self.assertRaises(ValueError):
            self.b.makefile("r", buffering=0)

    def test_a_bad_mode_is_refused(self):
        for bad in ("x", "rr", "a", ""):
            with self.assertRaises(ValueError, msg=bad):
                self.b.makefile(bad)

    def test_the_file_takes_the_socket_timeout(self):
        self.b.settimeout(0.1)
        f = self.b.makefile("rb")
        self.assertEqual(f.gettimeout(), 0.1)
        with self.assertRaises(TimeoutError):
            f.readline()
        self.a.sendall(b"then a line\n")
        f.settimeout(WAIT)
        self.assertEqual(f.readline(), b"then a line\n")
        f.close()


# ---------------------------------------------------------------------------
# Module functions
# ---------------------------------------------------------------------------


class Names(unittest.TestCase):

    def test_getaddrinfo_gives_five_tuples_with_enums(self):
        got = socket.getaddrinfo("127.0.0.1", 80, socket.AF_INET,
                                 socket.SOCK_STREAM)
        self.assertEqual(got, std.getaddrinfo("127.0.0.1", 80,
                                              std.AF_INET, std.SOCK_STREAM))
        family, kind = got[0][:2]
        self.assertIsInstance(family, socket.AddressFamily)
        self.assertIsInstance(kind, socket.SocketKind)

    def test_getaddrinfo_ports_as_ints_strings_and_none(self):
        for port in (80, "80", b"80", None):
            self.assertEqual(
                socket.getaddrinfo("127.0.0.1", port, socket.AF_INET,
                                   socket.SOCK_STREAM),
                std.getaddrinfo("127.0.0.1", port, std.AF_INET,
                                std.SOCK_STREAM), port)

    def test_getaddrinfo_of_no_host_is_a_passive_or_loopback_address(self):
        for flags in (0, socket.AI_PASSIVE):
            self.assertEqual(
                socket.getaddrinfo(None, 80, socket.AF_INET,
                                   socket.SOCK_STREAM, 0, flags),
                std.getaddrinfo(None, 80, std.AF_INET, std.SOCK_STREAM, 0,
                                flags))

    def test_getaddrinfo_canonname(self):
        got = socket.getaddrinfo("localhost", None, socket.AF_INET,
                                 socket.SOCK_STREAM, 0,
                                 socket.AI_CANONNAME)
        want = std.getaddrinfo("localhost", None, std.AF_INET,
                               std.SOCK_STREAM, 0, std.AI_CANONNAME)
        self.assertEqual(got[0][3], want[0][3])

    def test_an_unknown_host_is_gaierror_with_the_eai_code(self):
        name = "no-such-host.invalid"
        with self.assertRaises(std.gaierror) as want:
            std.getaddrinfo(name, 80)
        s = socket.socket()
        for call in (lambda: socket.getaddrinfo(name, 80),
                     lambda: socket.gethostbyname(name),
                     lambda: socket.create_connection((name, 80)),
                     lambda: s.connect((name, 80))):
            with self.assertRaises(socket.gaierror) as cm:
                call()
            self.assertEqual(cm.exception.errno, want.exception.errno)
            self.assertIsInstance(cm.exception, OSError)
        s.close()
        self.assertEqual(socket.EAI_NONAME, std.EAI_NONAME)

    def test_non_ascii_hosts_are_idna_encoded(self):
        name = "b\u00fccher.invalid"
        with self.assertRaises(std.gaierror) as want:
            std.getaddrinfo(name, 80)
        with self.assertRaises(socket.gaierror) as cm:
            socket.getaddrinfo(name, 80)
        self.assertEqual(cm.exception.errno, want.exception.errno)
        self.assertIn("xn--bcher-kva", cm.exception.message)

    def test_getnameinfo(self):
        flags = socket.NI_NUMERICHOST | socket.NI_NUMERICSERV
        self.assertEqual(socket.getnameinfo(("127.0.0.1", 80), flags),
                         ("127.0.0.1", "80"))
        self.assertEqual(socket.getnameinfo(("127.0.0.1", 80), 0),
                         std.getnameinfo(("127.0.0.1", 80), 0))

    def test_getnameinfo_needs_a_numeric_tuple(self):
        with self.assertRaises(TypeError):
            socket.getnameinfo("127.0.0.1", 0)
        with self.assertRaises(OSError):
            socket.getnameinfo(("127.0.0.1", 80, 0, 0), 0)
        with self.assertRaises(socket.gaierror):
            socket.getnameinfo(("no-such-host.invalid", 80), 0)

    def test_host_names_match_the_stdlib(self):
        self.assertEqual(socket.gethostname(), std.gethostname())
        self.assertEqual(socket.gethostbyname("localhost"),
                         std.gethostbyname("localhost"))
        self.assertEqual(socket.gethostbyname("127.0.0.1"), "127.0.0.1")
        self.assertEqual(socket.getfqdn(), std.getfqdn())

    def test_gethostbyname_ex_and_gethostbyaddr(self):
        self.assertEqual(socket.gethostbyname_ex("localhost"),
                         std.gethostbyname_ex("localhost"))
        self.assertEqual(socket.gethostbyaddr("127.0.0.1"),
                         std.gethostbyaddr("127.0.0.1"))

    def test_an_address_without_a_host_entry_is_herror(self):
        addr = "192.0.2.77"  # TEST-NET-1: no host entry
        try:
            std.gethostbyaddr(addr)
            self.skipTest("%s has a host entry here" % addr)
        except std.herror:
            pass
        except OSError as e:
            self.skipTest("the stdlib says %r" % e)
        with self.assertRaises(socket.herror):
            socket.gethostbyaddr(addr)

    def test_services_and_protocols_match_the_stdlib(self):
        try:
            want = (std.getservbyname("http", "tcp"), std.getservbyport(80),
                    std.getprotobyname("tcp"))
        except OSError:
            self.skipTest("no services database")
        self.assertEqual((socket.getservbyname("http", "tcp"),
                          socket.getservbyport(80),
                          socket.getprotobyname("tcp")), want)

    def test_unknown_services_and_protocols_are_oserrors(self):
        for call in (lambda: socket.getservbyname("no-such-service"),
                     lambda: socket.getservbyport(1, "no-such-proto"),
                     lambda: socket.getprotobyname("no-such-protocol")):
            with self.assertRaises(OSError):
                call()

    def test_create_server_and_dualstack(self):
        with socket.create_server(("127.0.0.1", 0)) as srv:
            self.assertEqual(srv.getsockopt(socket.SOL_SOCKET,
                                            socket.SO_ACCEPTCONN), 1)
        self.assertEqual(socket.has_dualstack_ipv6(),
                         std.has_dualstack_ipv6())
        self.assertEqual(socket.has_ipv6, std.has_ipv6)


class Helpers(unittest.TestCase):

    def test_inet_conversions_match_the_stdlib(self):
        for text in ("1.2.3.4", "127.1", "255.255.255.255"):
            self.assertEqual(socket.inet_aton(text), std.inet_aton(text))
        self.assertEqual(socket.inet_ntoa(b"\x7f\0\0\x01"), "127.0.0.1")
        for family, text in ((socket.AF_INET, "10.0.0.1"),
                             (socket.AF_INET6, "fe80::1:2")):
            packed = socket.inet_pton(family, text)
            self.assertEqual(packed, std.inet_pton(family, text))
            self.assertEqual(socket.inet_ntop(family, packed),
                             std.inet_ntop(family, packed))

    def test_byte_order_matches_the_stdlib(self):
        for fn in ("htons", "ntohs", "htonl", "ntohl"):
            for x in (0, 1, 0x1234, 65535):
                self.assertEqual(getattr(socket, fn)(x),
                                 getattr(std, fn)(x), (fn, x))

    def test_constants_match_the_stdlib(self):
        names = [n for n in dir(std) if n.isupper() and
                 n.startswith(("AF_", "SOCK_", "SO_", "SOL_", "IPPROTO_",
                               "MSG_", "AI_", "NI_", "EAI_", "SHUT_",
                               "TCP_", "IP_", "IPV6_", "SCM_", "INADDR_"))
                 and hasattr(socket, n)]
        self.assertGreater(len(names), 100)
        differ = [n for n in names if getattr(socket, n) !=
                  getattr(std, n)]
        self.assertEqual(differ, [])

    def test_the_exceptions_are_pythons(self):
        self.assertIs(socket.error, OSError)
        self.assertIs(socket.timeout, TimeoutError)
        self.assertTrue(issubclass(socket.gaierror, std.gaierror))
        self.assertTrue(issubclass(socket.herror, std.herror))


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------


class BadInput(unittest.TestCase):

    def setUp(self):
        self.s = socket.socket()

    def tearDown(self):
        self.s.close()

    def test_ports_out_of_range_are_overflow_errors(self):
        for port in (70000, -1, 65536):
            with self.assertRaises(OverflowError, msg=port):
                self.s.connect(("127.0.0.1", port))
        with self.assertRaises(OverflowError):
            socket.getservbyport(70000)

    def test_bad_address_shapes_are_type_errors(self):
        for bad in ("127.0.0.1", ("127.0.0.1",), ("127.0.0.1", 1, 2),
                    (1, 80), ("127.0.0.1", "80"), None):
            with self.assertRaises(TypeError, msg=bad):
                self.s.bind(bad)

    def test_a_bad_ipv6_flowinfo_is_an_overflow_error(self):
        with socket.socket(socket.AF_INET6) as s6:
            with self.assertRaises(OverflowError):
                s6.bind(("::1", 0, 1 << 20, 0))

    def test_a_unix_path_that_is_too_long_is_an_oserror(self):
        with socket.socket(socket.AF_UNIX) as u:
            with self.assertRaises(OSError):
                u.bind("x" * 200)

    def test_negative_buffer_sizes_are_value_errors(self):
        a, b = socket.socketpair()
        for call in (lambda: b.recv(-1), lambda: b.recvfrom(-1),
                     lambda: b.recv_into(bytearray(4), -1),
                     lambda: b.recvfrom_into(bytearray(4), -1)):
            with self.assertRaises(ValueError):
                call()
        a.close()
        b.close()

    def test_nbytes_beyond_the_buffer_is_a_value_error(self):
        a, b = socket.socketpair()
        with self.assertRaises(ValueError):
            b.recv_into(bytearray(4), 10)
        with self.assertRaises(ValueError):
            b.recvfrom_into(bytearray(4), 10)
        a.close()
        b.close()

    def test_wrong_argument_types_are_type_errors(self):
        a, b = socket.socketpair()
        for call in (lambda: a.send("text"), lambda: a.sendall(5),
                     lambda: b.recv(bytearray(4)), lambda: b.recv("4"),
                     lambda: b.recv_into(4)):
            with self.assertRaises(TypeError):
                call()
        a.close()
        b.close()

    def test_bad_timeouts(self):
        with self.assertRaises(ValueError):
            self.s.settimeout(-1)
        with self.assertRaises(ValueError):
            self.s.settimeout(float("nan"))
        with self.assertRaises(TypeError):
            self.s.settimeout("1")
        with self.assertRaises(ValueError):
            socket.setdefaulttimeout(-1)

    def test_bad_address_text_is_an_oserror(self):
        for call in (lambda: socket.inet_aton("1.2.3.x"),
                     lambda: socket.inet_ntoa(b"123"),
                     lambda: socket.inet_pton(socket.AF_INET, "x")):
            with self.assertRaises(OSError):
                call()
        with self.assertRaises(ValueError):
            socket.inet_ntop(socket.AF_INET, b"12345")

    def test_byte_order_values_out_of_range_are_overflow_errors(self):
        for fn, x in ((socket.htons, 70000), (socket.htons, -1),
                      (socket.htonl, 2 ** 32), (socket.ntohl, -1)):
            with self.assertRaises(OverflowError):
                fn(x)

    def test_a_port_that_is_no_port_is_an_oserror(self):
        with self.assertRaises(OSError):
            socket.getaddrinfo("127.0.0.1", 1.5)

    def test_a_family_weft_has_no_addresses_for(self):
        try:
            s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0)
        except (AttributeError, OSError):
            self.skipTest("no AF_NETLINK sockets here")
        with s:
            with self.assertRaises(OSError) as cm:
                s.bind((0, 0))
        self.assertEqual(cm.exception.errno, errno.EAFNOSUPPORT)


if __name__ == "__main__":
    unittest.main()
