"""The low-level API's rules for the socket, select and io calls: bytes
in and out, addresses, arrays, waits that return empty, -EINTR resumed,
and the GIL lists of the two backends (weft/_rules.py).

One behaviour per test; the same suite runs on both backends.
"""

import array
import errno
import hashlib
import os
import re
import socket as std
import threading as std_threading
import time
import unittest

import weft
import weft.threading as threading
from weft import _rules, lib

from taprunner import SRCDIR

WAIT = 30
AF_UNIX, AF_INET, AF_INET6 = std.AF_UNIX, std.AF_INET, std.AF_INET6
SOCK_STREAM = std.SOCK_STREAM
POLLIN = weft.constant("POLLIN")
POLLOUT = weft.constant("POLLOUT")


def pair():
    return lib.socket_pair_new(AF_UNIX, SOCK_STREAM, 0)


def close(*handles):
    for h in handles:
        try:
            lib.close(h)
        except weft.BadHandleError:
            pass


class Pair(unittest.TestCase):
    """Each test has a connected pair of weft sockets, a and b."""

    def setUp(self):
        self.a, self.b = pair()

    def tearDown(self):
        close(self.a, self.b)


class BytesIn(Pair):

    def test_any_bytes_like_object_is_sent(self):
        for data in [b"bytes", bytearray(b"array"), memoryview(b"view"),
                     memoryview(b"xslicex")[1:-1],
                     array.array("B", b"arr")]:
            n = lib.socket_send(self.a, data, 0)
            self.assertEqual(lib.socket_recv(self.b, 0, 100), bytes(data))
            self.assertEqual(n, len(bytes(data)))

    def test_items_wider_than_a_byte_count_as_their_bytes(self):
        data = array.array("i", [1, 2, 3])
        self.assertEqual(lib.socket_send(self.a, data, 0), data.itemsize * 3)
        self.assertEqual(lib.socket_recv(self.b, 0, 100), data.tobytes())

    def test_none_is_empty(self):
        self.assertEqual(lib.socket_send(self.a, None, 0), 0)

    def test_str_is_a_type_error(self):
        for bad in ["text", 5, 1.5, [1, 2]]:
            with self.assertRaises(TypeError, msg=bad):
                lib.socket_send(self.a, bad, 0)

    def test_an_int_is_null_with_that_length_only_where_listed(self):
        # setsockopt(level, name, None, optlen) as Python's: the kernel
        # gets NULL with 4 bytes to read, and says EFAULT.
        with self.assertRaises(OSError) as cm:
            lib.socket_setsockopt_bytes(self.a, std.SOL_SOCKET,
                                        std.SO_REUSEADDR, 4)
        s = std.socket(AF_UNIX)
        with self.assertRaises(OSError) as want:
            s.setsockopt(std.SOL_SOCKET, std.SO_REUSEADDR, None, 4)
        s.close()
        self.assertEqual(cm.exception.errno, want.exception.errno)
        self.assertEqual(_rules.NULL_WITH_LENGTH,
                         {"weft_socket_setsockopt_bytes"})


class BytesOut(Pair):

    def test_an_int_gives_at_most_that_many_bytes(self):
        lib.socket_sendall(self.a, b"0123456789", 0)
        self.assertEqual(lib.socket_recv(self.b, 0, 4), b"0123")
        self.assertEqual(lib.socket_recv(self.b, 0, 100), b"456789")

    def test_zero_gives_empty_bytes(self):
        lib.socket_sendall(self.a, b"x", 0)
        self.assertEqual(lib.socket_recv(self.b, 0, 0), b"")

    def test_a_writable_buffer_is_filled_and_the_count_returned(self):
        lib.socket_sendall(self.a, b"abc", 0)
        buf = bytearray(8)
        self.assertEqual(lib.socket_recv(self.b, 0, buf), 3)
        self.assertEqual(buf, b"abc\0\0\0\0\0")

    def test_a_slice_of_a_buffer_is_filled_in_place(self):
        lib.socket_sendall(self.a, b"abcdef", 0)
        buf = bytearray(b"........")
        self.assertEqual(lib.socket_recv(self.b, 0,
                                         memoryview(buf)[2:5]), 3)
        self.assertEqual(buf, b"..abc...")

    def test_a_read_only_buffer_is_a_type_error(self):
        for bad in [b"bytes", memoryview(b"ro"), "str", 1.5, None]:
            with self.assertRaises(TypeError, msg=bad):
                lib.socket_recv(self.b, 0, bad)

    def test_a_negative_size_is_an_overflow_error(self):
        with self.assertRaises(OverflowError):
            lib.socket_recv(self.b, 0, -1)

    def test_a_longer_line_than_the_first_buffer_is_retried(self):
        st = lib.socket_makefile(self.b, "r", -1)
        line = b"x" * 5000 + b"\n"
        lib.socket_sendall(self.a, line + b"next\n", 0)
        self.assertEqual(lib.stream_readline(st, -1, 16), line)
        self.assertEqual(lib.stream_readline(st, -1, 16), b"next\n")
        lib.close(st)

    def test_a_line_longer_than_a_given_buffer_is_kept(self):
        st = lib.socket_makefile(self.b, "r", -1)
        lib.socket_sendall(self.a, b"a long line\n", 0)
        with self.assertRaises(OverflowError):
            lib.stream_readline(st, -1, bytearray(4))
        self.assertEqual(lib.stream_readline(st, -1, 100), b"a long line\n")
        lib.close(st)

    def test_readall_grows_to_the_whole_stream(self):
        st = lib.socket_makefile(self.b, "r", -1)
        data = os.urandom(100000)
        lib.socket_sendall(self.a, data, 0)
        lib.socket_shutdown(self.a, std.SHUT_WR)
        self.assertEqual(lib.stream_readall(st, 10), data)
        lib.close(st)

    def test_option_bytes(self):
        raw = lib.socket_getsockopt_bytes(self.a, std.SOL_SOCKET,
                                          std.SO_TYPE, 4)
        self.assertEqual(int.from_bytes(raw, "little" if
                                        os.sys.byteorder == "little"
                                        else "big"), SOCK_STREAM)


class Strings(unittest.TestCase):

    def test_two_string_outputs(self):
        addr = lib.sockaddr_make(AF_INET, b"127.0.0.1", 80, 0, 0)
        host, serv = lib.socket_getnameinfo(addr, std.NI_NUMERICHOST
                                            | std.NI_NUMERICSERV)
        self.assertEqual((host, serv), ("127.0.0.1", "80"))

    def test_a_string_output_after_other_outputs(self):
        path = b"/tmp/" + b"p" * 90
        addr = lib.sockaddr_make(AF_UNIX, path, 0, 0, 0)
        self.assertEqual(lib.sockaddr_parse(addr),
                         (AF_UNIX, path.decode(), 0, 0, 0))


class Addresses(unittest.TestCase):

    def test_an_address_out_is_bytes_that_parse(self):
        s = lib.socket_new(AF_INET, SOCK_STREAM, 0)
        lib.socket_bind(s, lib.sockaddr_make(AF_INET, b"127.0.0.1", 0, 0,
                                             0))
        raw = lib.socket_getsockname(s)
        self.assertIsInstance(raw, bytes)
        family, host, port, flow, scope = lib.sockaddr_parse(raw)
        self.assertEqual((family, host, flow, scope),
                         (AF_INET, "127.0.0.1", 0, 0))
        self.assertGreater(port, 0)
        lib.close(s)

    def test_an_abstract_name_keeps_its_nuls(self):
        name = b"\0weft-test\0with-nul-%d" % os.getpid()
        raw = lib.sockaddr_make(AF_UNIX, name, 0, 0, 0)
        host = lib.sockaddr_parse(raw)[1]
        self.assertEqual(host.encode("utf-8", "surrogateescape"), name)

    def test_ipv6_fields_round_trip(self):
        raw = lib.sockaddr_make(AF_INET6, b"::1", 8080, 12345, 7)
        self.assertEqual(lib.sockaddr_parse(raw),
                         (AF_INET6, "::1", 8080, 12345, 7))

    def test_bad_addresses_are_value_errors(self):
        with self.assertRaises(ValueError):
            lib.sockaddr_make(AF_INET, b"127.0.0.1", 70000, 0, 0)
        with self.assertRaises(ValueError):
            lib.sockaddr_parse(b"\x02\x00")

    def test_an_unconnected_peer_address_is_an_error(self):
        s = lib.socket_new(AF_INET, SOCK_STREAM, 0)
        with self.assertRaises(OSError) as cm:
            lib.socket_getpeername(s)
        self.assertEqual(cm.exception.errno, errno.ENOTCONN)
        lib.close(s)


class Arrays(Pair):

    def test_select_returns_the_rewritten_lists_and_counts(self):
        lib.socket_sendall(self.a, b"x", 0)
        r, w, x, rn, wn, xn = lib.select_wait([self.a, self.b], [self.a],
                                              [], 5)
        self.assertEqual((r[:rn], w[:wn], x[:xn]), ([self.b], [self.a], []))
        self.assertEqual(sorted(r), sorted([self.a, self.b]))

    def test_any_sequence_of_ints_is_an_array(self):
        lib.socket_sendall(self.a, b"x", 0)
        r, _, _, rn, _, _ = lib.select_wait((self.b,), iter([]), [], 5)
        self.assertEqual(r[:rn], [self.b])

    def test_non_ints_and_values_out_of_range_are_refused(self):
        with self.assertRaises(TypeError):
            lib.select_wait([1.5], [], [], 0)
        with self.assertRaises(TypeError):
            lib.select_wait(5, [], [], 0)
        with self.assertRaises(OverflowError):
            lib.select_wait([2 ** 64], [], [], 0)

    def test_parallel_arrays_out_are_pairs(self):
        p = lib.poller_new(0)
        lib.poller_register(p, self.a, POLLOUT, 42)
        self.assertEqual(lib.poller_poll(p, 5, 8), [(42, POLLOUT)])
        lib.close(p)

    def test_at_most_cap_pairs_come_back(self):
        p = lib.poller_new(0)
        lib.poller_register(p, self.a, POLLOUT, 1)
        lib.poller_register(p, self.b, POLLOUT, 2)
        got = lib.poller_poll(p, 5, 1)
        self.assertEqual(len(got), 1)
        lib.close(p)

    def test_cap_zero_is_a_value_error(self):
        p = lib.poller_new(0)
        with self.assertRaises(ValueError):
            lib.poller_poll(p, 0, 0)
        lib.close(p)


class EmptyOnTimeout(Pair):

    def test_select_that_times_out_returns_no_ready_handle(self):
        r, w, x, rn, wn, xn = lib.select_wait([self.b], [], [], 0.01)
        self.assertEqual((rn, wn, xn), (0, 0, 0))

    def test_a_poll_that_times_out_returns_an_empty_list(self):
        p = lib.poller_new(0)
        lib.poller_register(p, self.b, POLLIN, 1)
        self.assertEqual(lib.poller_poll(p, 0.01, 8), [])
        lib.close(p)

    def test_other_socket_timeouts_raise(self):
        lib.socket_set_timeout(self.b, 0.01)
        with self.assertRaises(TimeoutError):
            lib.socket_recv(self.b, 0, 10)

    def test_non_blocking_calls_raise_blocking_io_error(self):
        lib.socket_set_timeout(self.b, 0)
        with self.assertRaises(BlockingIOError):
            lib.socket_recv(self.b, 0, 10)


def blocked_in(call, *args):
    """Run call(*args) on a weft thread; (thread, outcome list)."""
    out = []

    def target():
        try:
            out.append(call(*args))
        except BaseException as e:
            out.append(e)
    t = threading.Thread(target=target)
    t.start()
    return t, out


def interrupt_until_done(t, times=5):
    """Interrupt thread t a few times while it is (most likely) blocked."""
    for _ in range(times):
        time.sleep(0.02)
        lib.thread_interrupt(t.handle)


class Interrupts(Pair):
    """-EINTR (weft_thread_interrupt) is resumed, PEP 475 style."""

    def test_an_interrupted_recv_is_resumed(self):
        t, out = blocked_in(lib.socket_recv, self.b, 0, 100)
        interrupt_until_done(t)
        lib.socket_sendall(self.a, b"after", 0)
        t.join(WAIT)
        self.assertEqual(out, [b"after"])

    def test_an_interrupted_sendall_sends_each_byte_once(self):
        data = os.urandom(4 << 20)
        t, out = blocked_in(lib.socket_sendall, self.a, data, 0)
        interrupt_until_done(t)
        got = hashlib.sha256()
        n = 0
        while n < len(data):
            chunk = lib.socket_recv(self.b, 0, 65536)
            got.update(chunk)
            n += len(chunk)
        t.join(WAIT)
        self.assertEqual(out, [len(data)])
        self.assertEqual(got.hexdigest(), hashlib.sha256(data).hexdigest())

    def test_an_interrupted_select_keeps_its_deadline(self):
        t0 = time.monotonic()
        t, out = blocked_in(lib.select_wait, [self.b], [], [], 0.3)
        interrupt_until_done(t, 3)
        t.join(WAIT)
        self.assertEqual(out[0][3:], (0, 0, 0))
        self.assertGreaterEqual(time.monotonic() - t0, 0.3)

    def test_an_interrupted_poll_is_resumed(self):
        p = lib.poller_new(0)
        lib.poller_register(p, self.b, POLLIN, 9)
        t, out = blocked_in(lib.poller_poll, p, WAIT, 4)
        interrupt_until_done(t)
        lib.socket_sendall(self.a, b"x", 0)
        t.join(WAIT)
        self.assertEqual(out, [[(9, POLLIN)]])
        lib.close(p)

    def test_an_interrupted_accept_is_resumed(self):
        srv = lib.socket_new(AF_INET, SOCK_STREAM, 0)
        lib.socket_bind(srv, lib.sockaddr_make(AF_INET, b"127.0.0.1", 0,
                                               0, 0))
        lib.socket_listen(srv, 1)
        t, out = blocked_in(lib.socket_accept, srv)
        interrupt_until_done(t)
        c = lib.socket_new(AF_INET, SOCK_STREAM, 0)
        lib.socket_connect(c, lib.socket_getsockname(srv))
        t.join(WAIT)
        self.assertIsInstance(out[0], tuple)
        close(srv, c, out[0][1])

    def test_an_interrupted_stream_read_is_resumed(self):
        st = lib.socket_makefile(self.b, "r", -1)
        t, out = blocked_in(lib.stream_readline, st, -1, 64)
        interrupt_until_done(t)
        lib.socket_sendall(self.a, b"line\n", 0)
        t.join(WAIT)
        self.assertEqual(out, [b"line\n"])
        lib.close(st)

    def test_a_failed_sendall_says_how_much_went(self):
        lib.socket_set_timeout(self.a, 0)
        with self.assertRaises(BlockingIOError) as cm:
            lib.socket_sendall(self.a, b"x" * (16 << 20), 0)
        sent = cm.exception.characters_written
        self.assertGreater(sent, 0)
        self.assertLess(sent, 16 << 20)


class Counter(object):
    """A stdlib thread that counts while it can get the GIL."""

    def __init__(self):
        self.n = 0
        self.stop = False
        self.thread = std_threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            self.n += 1
            time.sleep(0.001)

    def finish(self):
        self.stop = True
        self.thread.join()
        return self.n


class Gil(Pair):

    def test_a_blocking_recv_releases_the_gil(self):
        lib.socket_set_timeout(self.b, 0.3)
        counter = Counter()
        time.sleep(0.02)
        before = counter.n
        with self.assertRaises(TimeoutError):
            lib.socket_recv(self.b, 0, 10)
        self.assertGreater(counter.n - before, 5)
        counter.finish()

    def test_a_select_releases_the_gil(self):
        counter = Counter()
        time.sleep(0.02)
        before = counter.n
        lib.select_wait([self.b], [], [], 0.3)
        self.assertGreater(counter.n - before, 5)
        counter.finish()


def swig_python_block():
    with open(os.path.join(SRCDIR, "bindings", "weft.i")) as f:
        text = f.read()
    start = text.index("#ifdef SWIGPYTHON")
    return text[start:text.index("#endif /* SWIGPYTHON */", start)]


class SwigLists(unittest.TestCase):
    """The SWIG block of weft.i names the same sets as _rules.py."""

    def test_nothread_is_keep_gil(self):
        block = swig_python_block()
        names = set(re.findall(r"^%nothread (weft_(?!py_)\w+);", block,
                                   re.M))
        self.assertEqual(names, set(_rules.KEEP_GIL))

    def test_retried_calls_are_retry_eintr(self):
        block = swig_python_block()
        names = set(re.findall(r"^WEFT_PY_(?:RETRY|RETRY_TIMED|RESUME|"
                               r"POLL_FIRST_RETRY)\((weft_\w+)", block,
                               re.M))
        self.assertEqual(names, set(_rules.RETRY_EINTR))
        resumed = set(re.findall(r"^WEFT_PY_RESUME\((weft_\w+)", block,
                                 re.M))
        self.assertEqual(resumed, set(_rules.RESUME))
        polled = set(re.findall(r"^WEFT_PY_POLL_FIRST_RETRY\((weft_\w+)",
                                block, re.M))
        self.assertEqual(polled, set(_rules.POLL_FIRST))

    def test_every_blocking_socket_call_releases_the_gil(self):
        waits = {"weft_socket_accept", "weft_socket_connect",
                 "weft_socket_recv", "weft_socket_send",
                 "weft_socket_sendall", "weft_select_wait",
                 "weft_poller_poll", "weft_stream_read",
                 "weft_stream_readline", "weft_stream_write",
                 "weft_addrinfo_new", "weft_sockaddr_make",
                 "weft_socket_bind", "weft_close"}
        self.assertEqual(waits & _rules.KEEP_GIL, set())


if __name__ == "__main__":
    unittest.main()
