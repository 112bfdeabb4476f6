"""weft.io.Stream: a buffered binary file (io.BufferedIOBase) over a
weft stream, here on pipes and files.

One behaviour per test; waits are bounded, and the only timing
assertions are lower bounds.
"""

import io
import os
import tempfile
import time
import unittest

import weft
import weft.io
import weft.threading as threading

WAIT = 30


class Pipe(unittest.TestCase):
    """A pipe (r, w): each test makes its streams over it."""

    def setUp(self):
        self.r, self.w = os.pipe()

    def tearDown(self):
        for fd in (self.r, self.w):
            try:
                os.close(fd)
            except OSError:
                pass

    def feed(self, data, close=True):
        os.write(self.w, data)
        if close:
            os.close(self.w)


class Reading(Pipe):

    def test_read_all_and_read_n(self):
        self.feed(b"0123456789")
        with weft.io.Stream(self.r, "rb") as f:
            self.assertEqual(f.read(3), b"012")
            self.assertEqual(f.read(), b"3456789")
            self.assertEqual(f.read(), b"")

    def test_read1_returns_what_is_there(self):
        self.feed(b"abc", close=False)
        with weft.io.Stream(self.r, "rb") as f:
            self.assertEqual(f.read1(100), b"abc")

    def test_readinto_fills_a_buffer(self):
        self.feed(b"abcdef")
        with weft.io.Stream(self.r) as f:
            buf = bytearray(4)
            self.assertEqual(f.readinto(buf), 4)
            self.assertEqual(buf, b"abcd")
            view = memoryview(bytearray(8))
            self.assertEqual(f.readinto(view), 2)

    def test_readline_and_its_limit(self):
        self.feed(b"first line\nsecond\nno newline")
        with weft.io.Stream(self.r) as f:
            self.assertEqual(f.readline(), b"first line\n")
            self.assertEqual(f.readline(3), b"sec")
            self.assertEqual(f.readline(), b"ond\n")
            self.assertEqual(f.readline(), b"no newline")
            self.assertEqual(f.readline(), b"")

    def test_iteration_and_readlines(self):
        self.feed(b"a\nb\nc\n")
        with weft.io.Stream(self.r) as f:
            self.assertEqual(next(iter(f)), b"a\n")
            self.assertEqual(f.readlines(), [b"b\n", b"c\n"])

    def test_a_long_line(self):
        line = b"y" * 100000 + b"\n"
        done = []
        t = threading.Thread(target=lambda: done.append(
            os.write(self.w, line)))
        t.start()
        with weft.io.Stream(self.r) as f:
            self.assertEqual(f.readline(), line)
        t.join(WAIT)

    def test_text_over_a_stream(self):
        self.feed("h\u00e9llo\nw\u00f6rld\n".encode("utf-8"))
        with io.TextIOWrapper(weft.io.Stream(self.r), "utf-8") as f:
            self.assertEqual(f.read(), "h\u00e9llo\nw\u00f6rld\n")

    def test_open_fd_gives_text_or_binary(self):
        self.feed(b"text\n")
        with weft.io.open_fd(self.r, "r", encoding="ascii") as f:
            self.assertEqual(f.readline(), "text\n")
        with weft.io.open_fd(self.r, "rb") as f:
            self.assertIsInstance(f, weft.io.Stream)

    def test_a_timeout_loses_nothing(self):
        self.feed(b"part", close=False)
        with weft.io.Stream(self.r) as f:
            f.settimeout(0.1)
            t0 = time.monotonic()
            with self.assertRaises(TimeoutError):
                f.readline()
            self.assertGreaterEqual(time.monotonic() - t0, 0.1)
            os.write(self.w, b"ial\n")
            self.assertEqual(f.readline(), b"partial\n")

    def test_non_blocking_read_is_blocking_io_error(self):
        with weft.io.Stream(self.r) as f:
            f.settimeout(0)
            self.assertEqual(f.gettimeout(), 0.0)
            with self.assertRaises(BlockingIOError):
                f.read(1)

    def test_closing_wakes_a_blocked_reader(self):
        f = weft.io.Stream(self.r)
        out = []

        def reader():
            try:
                out.append(f.read(1))
            except BaseException as e:
                out.append(e)
        t = threading.Thread(target=reader)
        t.start()
        time.sleep(0.05)
        f.close()
        t.join(WAIT)
        self.assertIsInstance(out[0], weft.ClosedError)

    def test_unbuffered_reads_once(self):
        self.feed(b"abc", close=False)
        with weft.io.Stream(self.r, "rb", 0) as f:
            self.assertEqual(f.read(10), b"abc")


class Writing(Pipe):

    def test_write_and_flush(self):
        with weft.io.Stream(self.w, "wb") as f:
            self.assertEqual(f.write(b"hello"), 5)
            f.flush()
            self.assertEqual(os.read(self.r, 100), b"hello")

    def test_any_bytes_like_object(self):
        with weft.io.Stream(self.w, "wb") as f:
            f.write(bytearray(b"ab"))
            f.write(memoryview(b"cd"))
        self.assertEqual(os.read(self.r, 100), b"abcd")

    def test_close_flushes(self):
        f = weft.io.Stream(self.w, "wb")
        f.write(b"at close")
        f.close()
        self.assertEqual(os.read(self.r, 100), b"at close")

    def test_line_buffering_flushes_each_line(self):
        with weft.io.Stream(self.w, "wb", 1) as f:
            f.write(b"a line\n")
            self.assertEqual(os.read(self.r, 100), b"a line\n")

    def test_a_full_pipe_in_non_blocking_mode(self):
        f = weft.io.Stream(self.w, "wb")
        f.settimeout(0)
        with self.assertRaises(BlockingIOError) as cm:
            f.write(b"x" * (4 << 20))
        self.assertGreater(cm.exception.characters_written, 0)
        self.assertLess(cm.exception.characters_written, 4 << 20)
        try:
            f.close()  # its flush cannot finish either
        except BlockingIOError:
            pass
        self.assertTrue(f.closed)

    def test_writelines(self):
        with weft.io.Stream(self.w, "wb") as f:
            f.writelines([b"a", b"b", b"c"])
        self.assertEqual(os.read(self.r, 100), b"abc")


class State(Pipe):

    def test_a_buffered_io_base(self):
        with weft.io.Stream(self.r) as f:
            self.assertIsInstance(f, io.BufferedIOBase)
            self.assertTrue(f.readable())
            self.assertFalse(f.writable())
            self.assertFalse(f.seekable())
            self.assertNotEqual(f.fileno(), self.r)
            self.assertEqual(f.name, f.fileno())
            self.assertEqual(f.mode, "rb")

    def test_the_descriptor_stays_the_callers(self):
        f = weft.io.Stream(self.w, "wb")
        f.close()
        os.write(self.w, b"still open")
        self.assertEqual(os.read(self.r, 100), b"still open")

    def test_calls_on_a_closed_stream_are_value_errors(self):
        f = weft.io.Stream(self.r)
        f.close()
        self.assertTrue(f.closed)
        for call in (f.read, f.readline, f.fileno, f.flush,
                     lambda: f.write(b"x")):
            with self.assertRaises(ValueError):
                call()
        f.close()

    def test_reading_a_write_only_stream_is_unsupported(self):
        with weft.io.Stream(self.w, "wb") as f:
            with self.assertRaises(io.UnsupportedOperation):
                f.read(1)

    def test_a_handle_made_elsewhere(self):
        h = weft.lib.stream_new(self.r, "r", -1)
        f = weft.io.Stream(handle=h)
        self.assertEqual((f.handle, f.mode), (h, "rb"))
        del f
        self.assertTrue(weft.lib.stream_readable(h))  # not taken
        weft.io.Stream(handle=h).close()

    def test_a_handle_of_another_kind_is_refused(self):
        ev = threading.Event()
        with self.assertRaises(weft.BadHandleError):
            weft.io.Stream(handle=ev.handle)

    def test_bad_modes_are_refused(self):
        for bad in ("x", "rr", "", "a"):
            with self.assertRaises(ValueError, msg=bad):
                weft.io.Stream(self.r, bad)

    def test_a_file(self):
        with tempfile.TemporaryFile() as tmp:
            with weft.io.Stream(tmp.fileno(), "wb") as f:
                f.write(b"to a file\n")
            tmp.seek(0)
            self.assertEqual(tmp.read(), b"to a file\n")


if __name__ == "__main__":
    unittest.main()
