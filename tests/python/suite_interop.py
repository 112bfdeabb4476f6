"""weft.socket talks to peers weft did not write: the standard library's
socket module, on the other end of TCP, UNIX and UDP sockets, in both
directions, and descriptors the stdlib made, passed to weft.

One behaviour per test, loopback only; waits are bounded.
"""

import hashlib
import os
import socket as std
import tempfile
import threading as std_threading
import unittest

import weft.socket as socket

WAIT = 30


def std_echo_server(family, address):
    """A stdlib listener that echoes one connection; (listener, thread)."""
    srv = std.socket(family, std.SOCK_STREAM)
    srv.bind(address)
    srv.listen()
    srv.settimeout(WAIT)

    def run():
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(WAIT)
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
    t = std_threading.Thread(target=run, daemon=True)
    t.start()
    return srv, t


def weft_echo_server(family, address):
    srv = socket.socket(family, socket.SOCK_STREAM)
    srv.bind(address)
    srv.listen()
    srv.settimeout(WAIT)

    def run():
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(WAIT)
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
    t = std_threading.Thread(target=run, daemon=True)
    t.start()
    return srv, t


def exchange(client, data):
    """Send data through an echo server and read it all back."""
    client.sendall(data)
    client.shutdown(std.SHUT_WR)
    out = bytearray()
    while True:
        chunk = client.recv(65536)
        if not chunk:
            return bytes(out)
        out += chunk


class StdlibServer(unittest.TestCase):
    """A stdlib server, a weft client."""

    def test_tcp(self):
        srv, t = std_echo_server(std.AF_INET, ("127.0.0.1", 0))
        with socket.create_connection(srv.getsockname(), timeout=WAIT) as c:
            self.assertEqual(exchange(c, b"weft to stdlib"),
                             b"weft to stdlib")
        t.join(WAIT)
        srv.close()

    def test_tcp_bulk(self):
        data = os.urandom(2 << 20)
        srv, t = std_echo_server(std.AF_INET, ("127.0.0.1", 0))
        with socket.socket() as c:
            c.settimeout(WAIT)
            c.connect(srv.getsockname())
            got = []
            reader = std_threading.Thread(
                target=lambda: got.append(hashlib.sha256(
                    read_all(c)).hexdigest()))
            reader.start()
            c.sendall(data)
            c.shutdown(socket.SHUT_WR)
            reader.join(WAIT)
        self.assertEqual(got, [hashlib.sha256(data).hexdigest()])
        t.join(WAIT)
        srv.close()

    def test_unix(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "std.sock")
            srv, t = std_echo_server(std.AF_UNIX, path)
            with socket.socket(socket.AF_UNIX) as c:
                c.settimeout(WAIT)
                c.connect(path)
                self.assertEqual(exchange(c, b"over a path"),
                                 b"over a path")
            t.join(WAIT)
            srv.close()

    def test_unix_abstract(self):
        name = b"\0weft-interop-std-%d" % os.getpid()
        srv, t = std_echo_server(std.AF_UNIX, name)
        with socket.socket(socket.AF_UNIX) as c:
            c.settimeout(WAIT)
            c.connect(name)
            self.assertEqual(c.getpeername(), name)
            self.assertEqual(exchange(c, b"abstract"), b"abstract")
        t.join(WAIT)
        srv.close()

    def test_makefile_reads_the_stdlib_lines(self):
        a, b = std.socketpair()
        w = socket.fromfd(b.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)
        b.close()
        a.sendall(b"one\ntwo\n")
        a.close()
        with w.makefile("r", encoding="ascii") as f:
            self.assertEqual(f.readlines(), ["one\n", "two\n"])
        w.close()


def read_all(sock):
    out = bytearray()
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return bytes(out)
        out += chunk


class WeftServer(unittest.TestCase):
    """A weft server, a stdlib client."""

    def test_tcp(self):
        srv, t = weft_echo_server(socket.AF_INET, ("127.0.0.1", 0))
        with std.create_connection(srv.getsockname(), timeout=WAIT) as c:
            self.assertEqual(exchange(c, b"stdlib to weft"),
                             b"stdlib to weft")
        t.join(WAIT)
        srv.close()

    def test_unix(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "weft.sock")
            srv, t = weft_echo_server(socket.AF_UNIX, path)
            with std.socket(std.AF_UNIX) as c:
                c.settimeout(WAIT)
                c.connect(path)
                self.assertEqual(exchange(c, b"to a weft path"),
                                 b"to a weft path")
            t.join(WAIT)
            srv.close()

    def test_the_stdlib_sees_the_weft_address(self):
        srv, t = weft_echo_server(socket.AF_INET, ("127.0.0.1", 0))
        with std.create_connection(srv.getsockname(), timeout=WAIT) as c:
            self.assertEqual(c.getpeername(), srv.getsockname())
        t.join(WAIT)
        srv.close()


class Datagrams(unittest.TestCase):

    def test_udp_both_ways(self):
        w = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s = std.socket(std.AF_INET, std.SOCK_DGRAM)
        w.bind(("127.0.0.1", 0))
        s.bind(("127.0.0.1", 0))
        w.settimeout(WAIT)
        s.settimeout(WAIT)
        w.sendto(b"from weft", s.getsockname())
        self.assertEqual(s.recvfrom(100), (b"from weft", w.getsockname()))
        s.sendto(b"from stdlib", w.getsockname())
        self.assertEqual(w.recvfrom(100), (b"from stdlib", s.getsockname()))
        w.close()
        s.close()


class Descriptors(unittest.TestCase):
    """Descriptors the stdlib made, taken by weft with fromfd."""

    def test_a_stdlib_socketpair_end_in_weft(self):
        a, b = std.socketpair()
        w = socket.fromfd(a.fileno(), socket.AF_UNIX, socket.SOCK_STREAM)
        a.close()
        b.settimeout(WAIT)
        w.settimeout(WAIT)
        w.sendall(b"ping")
        self.assertEqual(b.recv(10), b"ping")
        b.sendall(b"pong")
        self.assertEqual(w.recv(10), b"pong")
        self.assertEqual(w.family, socket.AF_UNIX)
        w.close()
        b.close()

    def test_both_ends_of_a_stdlib_socketpair_in_weft(self):
        a, b = std.socketpair()
        wa = socket.fromfd(a.fileno(), a.family, a.type)
        wb = socket.fromfd(b.fileno(), b.family, b.type)
        a.close()
        b.close()
        wa.sendall(b"both weft now")
        self.assertEqual(wb.recv(100), b"both weft now")
        wa.close()
        wb.close()

    def test_a_stdlib_connection_taken_over_by_fileno(self):
        srv, t = std_echo_server(std.AF_INET, ("127.0.0.1", 0))
        c = std.create_connection(srv.getsockname(), timeout=WAIT)
        w = socket.socket(fileno=c.detach())
        w.settimeout(WAIT)
        self.assertEqual(exchange(w, b"taken over"), b"taken over")
        w.close()
        t.join(WAIT)
        srv.close()

    def test_a_detached_weft_socket_in_the_stdlib(self):
        a, b = socket.socketpair()
        s = std.socket(fileno=a.detach())
        s.sendall(b"detached")
        self.assertEqual(b.recv(100), b"detached")
        s.close()
        b.close()


if __name__ == "__main__":
    unittest.main()
