"""weft.signal behaves as Python's signal module, and its handlers run
inside the main thread's blocking weft calls.

One behaviour per test.  Every test puts back the handlers, timers and
wakeup descriptor it changed; what changes the process for good (SIGINT,
KeyboardInterrupt) runs in a child interpreter.  The only timing
assertions are lower bounds (a wait a handler interrupted still waited
its whole timeout) and "before its timeout" for waits a handler ended.
"""

import errno
import gc
import os
import signal as std
import sys
import textwrap
import time
import types
import unittest
import weakref

import weft
import weft.select as select
import weft.signal as signal
import weft.socket as socket
import weft.thread as thread
import weft.threading as threading
from weft import lib
from taprunner import run_python

WAIT = 30    # seconds: only a broken build waits this long
TICK = 0.1   # when an interval timer fires, inside a wait of...
SPAN = 0.5   # ...this long
FRAME = types.FrameType


class Failure(Exception):
    pass


def python(code):
    return run_python(textwrap.dedent(code))


def in_thread(fn):
    """fn() on a weft thread: what it returned, or raised."""
    out = []

    def target():
        try:
            out.append(fn())
        except BaseException as e:
            out.append(e)
    t = threading.Thread(target=target)
    t.start()
    t.join(WAIT)
    return out[0]


class Base(unittest.TestCase):
    """Records each handler's calls in self.got; puts everything back."""

    USED = ("SIGUSR1", "SIGUSR2", "SIGALRM")

    def setUp(self):
        gc.collect()
        self.cells = lib.cell_count()
        self.saved = {getattr(std, n): std.getsignal(getattr(std, n))
                      for n in self.USED}
        self.got = []

    def tearDown(self):
        signal.setitimer(signal.ITIMER_REAL, 0)  # before SIG_DFL: SIGALRM
        signal.alarm(0)
        signal.set_wakeup_fd(-1)
        for n, h in self.saved.items():
            signal.signal(n, signal.SIG_DFL)
            if h not in (None, std.SIG_DFL):
                std.signal(n, h)
        gc.collect()
        self.assertEqual(lib.cell_count(), self.cells, "callables leaked")

    def record(self, signum, frame):
        self.got.append((signum, frame))

    def fail_with(self, signum, frame):
        self.got.append((signum, frame))
        raise Failure(signum)


# ---------------------------------------------------------------------------
# The module's names
# ---------------------------------------------------------------------------


class Constants(unittest.TestCase):

    def test_the_numbers_are_the_platforms(self):
        for name in ("SIGINT", "SIGTERM", "SIGKILL", "SIGSTOP", "SIGUSR1",
                     "SIGALRM", "SIGCHLD", "NSIG", "ITIMER_REAL",
                     "ITIMER_VIRTUAL", "ITIMER_PROF", "SIG_DFL", "SIG_IGN",
                     "SIG_BLOCK", "SIG_UNBLOCK", "SIG_SETMASK", "SIGRTMIN",
                     "SIGRTMAX"):
            self.assertEqual(getattr(signal, name), getattr(std, name),
                             name)

    def test_every_signal_name_pythons_module_has(self):
        self.assertEqual(set(signal.Signals.__members__),
                         set(std.Signals.__members__))

    def test_the_enums(self):
        self.assertIs(signal.SIGINT, signal.Signals.SIGINT)
        self.assertIsInstance(signal.SIGINT, int)
        self.assertIs(signal.SIG_DFL, signal.Handlers.SIG_DFL)
        self.assertIs(signal.SIG_IGN, signal.Handlers.SIG_IGN)
        self.assertIs(signal.SIG_BLOCK, signal.Sigmasks.SIG_BLOCK)
        self.assertEqual(str(signal.Signals(2)), str(std.Signals(2)))

    def test_what_is_pythons(self):
        self.assertIs(signal.default_int_handler, std.default_int_handler)
        self.assertTrue(issubclass(signal.ItimerError, OSError))
        self.assertIs(signal.ItimerError, std.ItimerError)
        self.assertIs(signal.pthread_sigmask, std.pthread_sigmask)

    def test_all_names_exist(self):
        for name in signal.__all__:
            self.assertTrue(hasattr(signal, name), name)


# ---------------------------------------------------------------------------
# Handlers run from Python code
# ---------------------------------------------------------------------------


class Handlers(Base):

    def test_a_handler_has_run_by_the_next_statement_with_a_frame(self):
        signal.signal(signal.SIGUSR1, self.record)
        signal.raise_signal(signal.SIGUSR1)
        self.assertEqual(len(self.got), 1)
        signum, frame = self.got[0]
        self.assertEqual(signum, signal.SIGUSR1)
        self.assertIsInstance(frame, FRAME)

    def test_so_it_has_after_os_kill(self):
        signal.signal(signal.SIGUSR1, self.record)
        os.kill(os.getpid(), signal.SIGUSR1)
        self.assertEqual(len(self.got), 1)
        self.assertEqual(self.got[0][0], signal.SIGUSR1)
        self.assertIsInstance(self.got[0][1], FRAME)

    def test_it_gets_a_plain_int(self):
        signal.signal(signal.SIGUSR1, self.record)
        signal.raise_signal(signal.SIGUSR1)
        self.assertIs(type(self.got[0][0]), int)

    def test_each_signal_runs_its_handler_once(self):
        signal.signal(signal.SIGUSR1, self.record)
        for _ in range(3):
            signal.raise_signal(signal.SIGUSR1)
        self.assertEqual(len(self.got), 3)

    def test_a_handler_that_raises_raises_in_python_code(self):
        signal.signal(signal.SIGUSR1, self.fail_with)
        with self.assertRaises(Failure):
            signal.raise_signal(signal.SIGUSR1)
        with self.assertRaises(Failure):
            os.kill(os.getpid(), signal.SIGUSR1)
            for _ in range(1000):
                pass
        self.assertEqual(len(self.got), 2)

    def test_getsignal_round_trips(self):
        self.assertIs(signal.getsignal(signal.SIGUSR1), signal.SIG_DFL)
        self.assertIs(signal.signal(signal.SIGUSR1, self.record),
                      signal.SIG_DFL)
        self.assertEqual(signal.getsignal(signal.SIGUSR1), self.record)
        self.assertEqual(signal.signal(signal.SIGUSR1, signal.SIG_IGN),
                         self.record)
        self.assertIs(signal.getsignal(signal.SIGUSR1), signal.SIG_IGN)
        self.assertIs(std.getsignal(signal.SIGUSR1), std.SIG_IGN)
        self.assertIs(signal.signal(signal.SIGUSR1, signal.SIG_DFL),
                      signal.SIG_IGN)
        self.assertIs(std.getsignal(signal.SIGUSR1), std.SIG_DFL)

    def test_an_ignored_signal_does_nothing(self):
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        signal.raise_signal(signal.SIGUSR1)
        os.kill(os.getpid(), signal.SIGUSR1)

    def test_sig_dfl_and_sig_ign_may_be_plain_ints(self):
        signal.signal(signal.SIGUSR1, 1)
        self.assertIs(signal.getsignal(signal.SIGUSR1), signal.SIG_IGN)
        signal.signal(signal.SIGUSR1, 0)
        self.assertIs(signal.getsignal(signal.SIGUSR1), signal.SIG_DFL)

    def test_replacing_a_handler(self):
        signal.signal(signal.SIGUSR1, self.fail_with)
        signal.signal(signal.SIGUSR1, self.record)
        signal.raise_signal(signal.SIGUSR1)
        self.assertEqual(len(self.got), 1)
        self.assertEqual(signal.getsignal(signal.SIGUSR1), self.record)

    def test_a_handler_may_set_the_next_one(self):
        def first(signum, frame):
            self.got.append("first")
            signal.signal(signum, second)

        def second(signum, frame):
            self.got.append("second")
        signal.signal(signal.SIGUSR1, first)
        signal.raise_signal(signal.SIGUSR1)
        signal.raise_signal(signal.SIGUSR1)
        self.assertEqual(self.got, ["first", "second"])

    def test_getsignal_gives_pythons_own_handlers(self):
        self.assertIs(signal.getsignal(signal.SIGINT),
                      std.getsignal(signal.SIGINT))
        std.signal(signal.SIGUSR2, self.record)
        self.assertEqual(signal.getsignal(signal.SIGUSR2), self.record)
        self.assertEqual(signal.signal(signal.SIGUSR2, self.fail_with),
                         self.record)

    def test_a_handler_of_the_standard_module_still_runs(self):
        std.signal(signal.SIGUSR2, self.record)
        signal.raise_signal(signal.SIGUSR2)
        self.assertEqual(len(self.got), 1)

    def test_the_standard_module_may_take_a_signal_back(self):
        signal.signal(signal.SIGUSR2, self.fail_with)
        std.signal(signal.SIGUSR2, self.record)
        self.assertEqual(signal.getsignal(signal.SIGUSR2), self.record)
        os.kill(os.getpid(), signal.SIGUSR2)
        self.assertEqual([s for s, _ in self.got], [signal.SIGUSR2])

    def test_a_handler_is_released_when_replaced(self):
        class Handler(object):
            def __call__(self, signum, frame):
                pass
        h = Handler()
        ref = weakref.ref(h)
        signal.signal(signal.SIGUSR1, h)
        del h
        gc.collect()
        self.assertIsNotNone(ref())
        signal.signal(signal.SIGUSR1, signal.SIG_DFL)
        gc.collect()
        self.assertIsNone(ref())


class BadInput(Base):

    def test_signal_numbers_out_of_range(self):
        for n in (0, -1, signal.NSIG, signal.NSIG + 100):
            for call in (lambda: signal.signal(n, self.record),
                         lambda: signal.signal(n, signal.SIG_IGN),
                         lambda: signal.getsignal(n),
                         lambda: signal.strsignal(n),
                         lambda: signal.siginterrupt(n, True),
                         lambda: signal.raise_signal(n)):
                with self.assertRaises(ValueError) as cm:
                    call()
                self.assertEqual(str(cm.exception),
                                 "signal number out of range")

    def test_sigkill_and_sigstop_cannot_be_caught_or_ignored(self):
        for n in (signal.SIGKILL, signal.SIGSTOP):
            for h in (self.record, signal.SIG_IGN):
                with self.assertRaises(OSError) as cm:
                    signal.signal(n, h)
                self.assertEqual(cm.exception.errno, errno.EINVAL)
            self.assertIs(signal.getsignal(n), signal.SIG_DFL)

    def test_a_handler_is_callable_sig_dfl_or_sig_ign(self):
        for h in (42, "handler", None, 2.0):
            with self.assertRaises(TypeError):
                signal.signal(signal.SIGUSR1, h)
        self.assertIs(signal.getsignal(signal.SIGUSR1), signal.SIG_DFL)

    def test_a_signal_number_is_an_int(self):
        with self.assertRaises(TypeError):
            signal.signal("10", self.record)
        with self.assertRaises(TypeError):
            signal.getsignal(10.0)

    def test_only_the_main_thread_sets_handlers(self):
        e = in_thread(lambda: signal.signal(signal.SIGUSR1, self.record))
        self.assertIsInstance(e, ValueError)
        self.assertIn("main thread", str(e))
        e = in_thread(lambda: signal.set_wakeup_fd(-1))
        self.assertIsInstance(e, ValueError)
        self.assertIs(signal.getsignal(signal.SIGUSR1), signal.SIG_DFL)

    def test_any_thread_may_read_them(self):
        signal.signal(signal.SIGUSR1, self.record)
        self.assertEqual(in_thread(lambda: signal.getsignal(
            signal.SIGUSR1)), self.record)


# ---------------------------------------------------------------------------
# Handlers run inside blocking weft calls
# ---------------------------------------------------------------------------


class Waits(Base):

    def setUp(self):
        super().setUp()
        self.a, self.b = socket.socketpair()

    def tearDown(self):
        self.a.close()
        self.b.close()
        super().tearDown()

    def timed(self, call, *args):
        t0 = time.monotonic()
        result = call(*args)
        return result, time.monotonic() - t0

    def tick(self, handler):
        signal.signal(signal.SIGALRM, handler)
        signal.setitimer(signal.ITIMER_REAL, TICK)

    def assert_ran_once_inside(self):
        self.assertEqual(len(self.got), 1)
        self.assertEqual(self.got[0][0], signal.SIGALRM)
        self.assertIsNone(self.got[0][1])  # inside a weft call: no frame

    def test_an_acquire_runs_the_handler_and_times_out_as_it_would(self):
        lk = threading.Lock()
        lk.acquire()
        self.tick(self.record)
        got, took = self.timed(lk.acquire, True, SPAN)
        self.assertIs(got, False)
        self.assertGreaterEqual(took, SPAN)
        self.assert_ran_once_inside()

    def test_an_acquire_goes_on_until_the_lock_is_free(self):
        lk = threading.Lock()
        lk.acquire()
        threading.Timer(SPAN, lk.release).start()
        self.tick(self.record)
        self.assertIs(lk.acquire(timeout=WAIT), True)
        self.assert_ran_once_inside()

    def test_a_recv_runs_the_handler_and_times_out_as_it_would(self):
        self.b.settimeout(SPAN)
        self.tick(self.record)
        t0 = time.monotonic()
        with self.assertRaises(TimeoutError):
            self.b.recv(10)
        self.assertGreaterEqual(time.monotonic() - t0, SPAN)
        self.assert_ran_once_inside()

    def test_a_recv_gets_what_comes_after_the_handler(self):
        threading.Timer(SPAN, self.a.sendall, args=[b"later"]).start()
        self.tick(self.record)
        self.assertEqual(self.b.recv(10), b"later")
        self.assert_ran_once_inside()

    def test_a_select_runs_the_handler_and_times_out_as_it_would(self):
        self.tick(self.record)
        got, took = self.timed(select.select, [self.b], [], [], SPAN)
        self.assertEqual(got, ([], [], []))
        self.assertGreaterEqual(took, SPAN)
        self.assert_ran_once_inside()

    def test_event_wait_and_join_too(self):
        ev = threading.Event()
        self.tick(self.record)
        got, took = self.timed(ev.wait, SPAN)
        self.assertIs(got, False)
        self.assertGreaterEqual(took, SPAN)
        self.assert_ran_once_inside()
        del self.got[:]
        t = threading.Thread(target=time.sleep, args=(SPAN,))
        t.start()
        signal.setitimer(signal.ITIMER_REAL, TICK)
        t.join(WAIT)
        self.assertFalse(t.is_alive())
        self.assert_ran_once_inside()

    def test_a_handler_that_raises_ends_an_acquire(self):
        lk = threading.Lock()
        lk.acquire()
        self.tick(self.fail_with)
        t0 = time.monotonic()
        with self.assertRaises(Failure):
            lk.acquire(timeout=WAIT)
        self.assertLess(time.monotonic() - t0, WAIT / 2)
        self.assertTrue(lk.locked())
        lk.release()
        self.assertEqual(len(self.got), 1)

    def test_and_an_acquire_without_timeout(self):
        lk = threading.Lock()
        lk.acquire()
        self.tick(self.fail_with)
        with self.assertRaises(Failure):
            lk.acquire()
        self.assertEqual(len(self.got), 1)

    def test_a_handler_that_raises_ends_a_recv(self):
        self.tick(self.fail_with)
        with self.assertRaises(Failure):
            self.b.recv(10)
        self.a.sendall(b"kept")  # the recv took nothing
        self.assertEqual(self.b.recv(10), b"kept")

    def test_a_handler_that_raises_ends_a_select(self):
        self.tick(self.fail_with)
        t0 = time.monotonic()
        with self.assertRaises(Failure):
            select.select([self.b], [], [], WAIT)
        self.assertLess(time.monotonic() - t0, WAIT / 2)

    def test_a_handler_that_raises_ends_a_stream_read(self):
        f = self.b.makefile("rb")
        self.tick(self.fail_with)
        with self.assertRaises(Failure):
            f.read(4)
        f.close()

    def test_the_exception_is_the_handlers_own(self):
        self.tick(self.fail_with)
        with self.assertRaises(Failure) as cm:
            threading.Event().wait(WAIT)
        self.assertEqual(cm.exception.args, (signal.SIGALRM,))
        self.assertNotIsInstance(cm.exception, InterruptedError)

    def test_alarm_ends_a_wait(self):
        signal.signal(signal.SIGALRM, self.fail_with)
        self.assertEqual(signal.alarm(1), 0)
        with self.assertRaises(Failure):
            threading.Event().wait(WAIT)
        self.assertEqual(len(self.got), 1)

    def test_a_handler_of_the_standard_module_runs_inside_a_wait(self):
        std.signal(signal.SIGALRM, self.record)
        signal.setitimer(signal.ITIMER_REAL, TICK)
        got, took = self.timed(threading.Event().wait, SPAN)
        self.assertIs(got, False)
        self.assertGreaterEqual(took, SPAN)
        self.assertEqual(len(self.got), 1)

    def test_and_one_that_raises_ends_it(self):
        std.signal(signal.SIGALRM, self.fail_with)
        signal.setitimer(signal.ITIMER_REAL, TICK)
        with self.assertRaises(Failure):
            threading.Event().wait(WAIT)

    def test_a_signal_sent_to_another_thread_reaches_the_main_ones(self):
        signal.signal(signal.SIGUSR1, self.fail_with)
        ev = threading.Event()
        t = threading.Thread(target=ev.wait, args=(WAIT,))
        t.start()
        threading.Timer(TICK, signal.pthread_kill,
                        args=(t.ident, signal.SIGUSR1)).start()
        try:
            with self.assertRaises(Failure):
                threading.Event().wait(WAIT)
        finally:
            ev.set()
            t.join(WAIT)
        self.assertEqual(len(self.got), 1)

    def test_pause_returns_once_a_handler_ran(self):
        self.tick(self.record)
        signal.pause()
        self.assert_ran_once_inside()

    def test_pause_raises_what_the_handler_raises(self):
        self.tick(self.fail_with)
        with self.assertRaises(Failure):
            signal.pause()

    def test_interrupt_main_runs_a_weft_handler_inside_a_wait(self):
        signal.signal(signal.SIGUSR1, self.fail_with)
        threading.Timer(TICK, thread.interrupt_main,
                        args=(signal.SIGUSR1,)).start()
        with self.assertRaises(Failure):
            threading.Event().wait(WAIT)
        self.assertEqual(len(self.got), 1)

    def test_interrupt_main_runs_it_between_statements_too(self):
        signal.signal(signal.SIGUSR1, self.record)
        threading.Timer(TICK, thread.interrupt_main,
                        args=(signal.SIGUSR1,)).start()
        deadline = time.monotonic() + WAIT  # no weft call in this loop
        while not self.got and time.monotonic() < deadline:
            pass
        self.assertEqual(len(self.got), 1)
        self.assertIsInstance(self.got[0][1], FRAME)

    def test_other_threads_waits_are_not_disturbed(self):
        signal.signal(signal.SIGUSR1, self.record)
        ev = threading.Event()
        t = threading.Thread(target=lambda: self.got.append(ev.wait(SPAN)))
        t.start()
        time.sleep(TICK)
        signal.pthread_kill(t.ident, signal.SIGUSR1)
        t.join(WAIT)
        deadline = time.monotonic() + WAIT
        while len(self.got) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertIn(False, self.got)  # the thread's wait timed out
        self.assertEqual(len(self.got), 2)


# ---------------------------------------------------------------------------
# The wakeup descriptor
# ---------------------------------------------------------------------------


class WakeupFd(Base):

    def setUp(self):
        super().setUp()
        self.a, self.b = socket.socketpair()
        self.a.setblocking(False)

    def tearDown(self):
        signal.set_wakeup_fd(-1)
        self.a.close()
        self.b.close()
        super().tearDown()

    def test_the_signal_number_arrives_and_select_sees_it(self):
        signal.signal(signal.SIGUSR1, self.record)
        self.assertEqual(signal.set_wakeup_fd(self.a.fileno()), -1)
        signal.raise_signal(signal.SIGUSR1)
        r, w, x = select.select([self.b], [], [], WAIT)
        self.assertEqual(r, [self.b])
        self.assertEqual(self.b.recv(10), bytes([signal.SIGUSR1]))
        self.assertEqual(signal.set_wakeup_fd(-1), self.a.fileno())
        self.assertEqual(len(self.got), 1)

    def test_it_wakes_a_select_that_waits_on_it(self):
        signal.signal(signal.SIGALRM, self.record)
        signal.set_wakeup_fd(self.a.fileno())
        signal.setitimer(signal.ITIMER_REAL, TICK)
        r, w, x = select.select([self.b], [], [], WAIT)
        self.assertEqual(r, [self.b])
        self.assertEqual(self.b.recv(10), bytes([signal.SIGALRM]))

    def test_a_blocking_descriptor_is_refused(self):
        r, w = os.pipe()
        try:
            with self.assertRaises(ValueError):
                signal.set_wakeup_fd(w)
        finally:
            os.close(r)
            os.close(w)
        self.assertEqual(signal.set_wakeup_fd(-1), -1)

    def test_a_closed_descriptor_is_refused(self):
        r, w = os.pipe()
        os.close(r)
        os.close(w)
        with self.assertRaises(OSError) as cm:
            signal.set_wakeup_fd(w)
        self.assertEqual(cm.exception.errno, errno.EBADF)

    def fill(self):
        try:
            while True:
                self.a.send(b"x" * 65536)
        except BlockingIOError:
            pass

    def test_a_full_buffer_is_reported(self):
        signal.signal(signal.SIGUSR1, self.record)
        signal.set_wakeup_fd(self.a.fileno())
        self.fill()
        seen = []
        old, sys.unraisablehook = sys.unraisablehook, seen.append
        try:
            signal.raise_signal(signal.SIGUSR1)
        finally:
            sys.unraisablehook = old
        self.assertEqual(len(self.got), 1)
        self.assertEqual(len(seen), 1)
        self.assertIn("wakeup fd", seen[0].err_msg)
        self.assertEqual(seen[0].exc_value.errno, errno.EAGAIN)

    def test_unless_asked_not_to(self):
        signal.signal(signal.SIGUSR1, self.record)
        signal.set_wakeup_fd(self.a.fileno(), warn_on_full_buffer=False)
        self.fill()
        seen = []
        old, sys.unraisablehook = sys.unraisablehook, seen.append
        try:
            signal.raise_signal(signal.SIGUSR1)
        finally:
            sys.unraisablehook = old
        self.assertEqual((len(self.got), seen), (1, []))


# ---------------------------------------------------------------------------
# Timers, descriptions, sending
# ---------------------------------------------------------------------------


class Timers(Base):

    def test_setitimer_gives_the_old_values_and_getitimer_reads(self):
        self.assertEqual(signal.getitimer(signal.ITIMER_REAL), (0.0, 0.0))
        self.assertEqual(signal.setitimer(signal.ITIMER_REAL, 100, 5),
                         (0.0, 0.0))
        left, interval = signal.getitimer(signal.ITIMER_REAL)
        self.assertTrue(0 < left <= 100)
        self.assertEqual(interval, 5.0)
        left, interval = signal.setitimer(signal.ITIMER_REAL, 0)
        self.assertTrue(0 < left <= 100)
        self.assertEqual(interval, 5.0)
        self.assertEqual(signal.getitimer(signal.ITIMER_REAL), (0.0, 0.0))

    def test_the_virtual_and_profiling_timers(self):
        for which in (signal.ITIMER_VIRTUAL, signal.ITIMER_PROF):
            signal.setitimer(which, 50)
            self.assertGreater(signal.getitimer(which)[0], 0)
            signal.setitimer(which, 0)
            self.assertEqual(signal.getitimer(which), (0.0, 0.0))

    def test_a_bad_timer_is_an_itimer_error(self):
        for which in (-1, 12345):
            with self.assertRaises(signal.ItimerError) as cm:
                signal.setitimer(which, 1)
            self.assertEqual(cm.exception.errno, errno.EINVAL)
            with self.assertRaises(signal.ItimerError):
                signal.getitimer(which)
        with self.assertRaises(signal.ItimerError):
            signal.setitimer(signal.ITIMER_REAL, -1)

    def test_bad_times(self):
        with self.assertRaises(ValueError):
            signal.setitimer(signal.ITIMER_REAL, float("nan"))
        with self.assertRaises(OverflowError):
            signal.setitimer(signal.ITIMER_REAL, float("inf"))
        with self.assertRaises(TypeError):
            signal.setitimer(signal.ITIMER_REAL, "1")
        self.assertEqual(signal.getitimer(signal.ITIMER_REAL), (0.0, 0.0))

    def test_an_interval_timer_fires_again(self):
        signal.signal(signal.SIGALRM, self.record)
        signal.setitimer(signal.ITIMER_REAL, 0.02, 0.02)
        deadline = time.monotonic() + WAIT
        while len(self.got) < 3 and time.monotonic() < deadline:
            threading.Event().wait(0.05)
        signal.setitimer(signal.ITIMER_REAL, 0)
        self.assertGreaterEqual(len(self.got), 3)

    def test_alarm_gives_the_seconds_left(self):
        self.assertEqual(signal.alarm(100), 0)
        self.assertTrue(1 <= signal.alarm(0) <= 100)
        self.assertEqual(signal.alarm(0), 0)
        with self.assertRaises(TypeError):
            signal.alarm(1.5)


class Misc(Base):

    def test_strsignal(self):
        self.assertEqual(signal.strsignal(signal.SIGINT), "Interrupt")
        for n in range(1, 32):
            if n in std.valid_signals():
                self.assertEqual(signal.strsignal(n), std.strsignal(n), n)

    def test_valid_signals_are_pythons(self):
        got = signal.valid_signals()
        self.assertIsInstance(got, set)
        self.assertEqual(got, std.valid_signals())
        self.assertIn(signal.Signals.SIGINT, got)

    def test_siginterrupt(self):
        signal.signal(signal.SIGUSR1, self.record)
        signal.siginterrupt(signal.SIGUSR1, False)
        signal.raise_signal(signal.SIGUSR1)
        signal.siginterrupt(signal.SIGUSR1, True)
        signal.raise_signal(signal.SIGUSR1)
        self.assertEqual(len(self.got), 2)

    def test_pthread_kill_to_this_thread(self):
        signal.signal(signal.SIGUSR1, self.record)
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)
        self.assertEqual(len(self.got), 1)
        self.assertIsInstance(self.got[0][1], FRAME)

    def test_pthread_kill_0_checks_the_thread(self):
        signal.pthread_kill(threading.get_ident(), 0)
        ev = threading.Event()
        t = threading.Thread(target=ev.wait, args=(WAIT,))
        t.start()
        signal.pthread_kill(t.ident, 0)
        ev.set()
        t.join(WAIT)

    def test_raise_signal_with_the_default_action_of_sigchld(self):
        signal.raise_signal(signal.SIGCHLD)  # ignored by default


# ---------------------------------------------------------------------------
# Whole interpreters
# ---------------------------------------------------------------------------


class Interpreters(unittest.TestCase):

    def test_interrupt_main_raises_keyboard_interrupt(self):
        rc, out, err = python("""
            import time
            import weft.thread as thread, weft.threading as threading
            threading.Timer(0.05, thread.interrupt_main).start()
            try:
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    time.sleep(0.01)
                print("not interrupted")
            except KeyboardInterrupt:
                print("KeyboardInterrupt")
        """)
        self.assertEqual((rc, out, err), (0, "KeyboardInterrupt\n", ""))

    def test_ctrl_c_ends_a_weft_wait_with_keyboard_interrupt(self):
        rc, out, err = python("""
            import os, signal
            import weft.threading as threading
            lk = threading.Lock()
            lk.acquire()
            threading.Timer(0.05, os.kill,
                            args=(os.getpid(), signal.SIGINT)).start()
            try:
                print("acquired", lk.acquire(timeout=30))
            except KeyboardInterrupt:
                print("KeyboardInterrupt", lk.locked())
        """)
        self.assertEqual((rc, out, err), (0, "KeyboardInterrupt True\n", ""))

    def test_a_weft_sigint_handler_replaces_keyboard_interrupt(self):
        rc, out, err = python("""
            import os
            import weft.signal as signal, weft.threading as threading
            got = []
            signal.signal(signal.SIGINT, lambda s, f: got.append(f))
            threading.Timer(0.05, os.kill,
                            args=(os.getpid(), signal.SIGINT)).start()
            print(threading.Event().wait(0.3), got)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            try:
                signal.raise_signal(signal.SIGINT)
            except KeyboardInterrupt:
                print("KeyboardInterrupt")
        """)
        self.assertEqual((rc, out, err),
                         (0, "False [None]\nKeyboardInterrupt\n", ""))

    def test_sig_dfl_for_sigterm_ends_the_process(self):
        rc, out, err = python("""
            import weft.signal as signal
            signal.signal(signal.SIGTERM, lambda s, f: None)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)
            print("still here")
        """)
        self.assertEqual((rc, out), (-signal.SIGTERM, ""))

    def test_the_interpreter_exits_with_handlers_set(self):
        rc, out, err = python("""
            import weft.signal as signal, weft.threading as threading
            got = []
            for n in (signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM):
                signal.signal(n, lambda s, f: got.append(s))
            signal.raise_signal(signal.SIGUSR1)
            signal.setitimer(signal.ITIMER_REAL, 0.01)
            threading.Event().wait(0.1)
            print(got)
        """)
        self.assertEqual((rc, out, err), (0, "[%d, %d]\n" % (
            signal.SIGUSR1, signal.SIGALRM), ""))

    @unittest.skipIf(os.environ.get("SANITIZER") == "tsan",
                     "ThreadSanitizer cannot start threads in a fork child "
                     "(weft's signal thread is made again there)")
    def test_a_forked_child_keeps_its_handlers(self):
        rc, out, err = python("""
            import os
            import weft.signal as signal, weft.threading as threading
            got = []
            signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
            pid = os.fork()
            if pid == 0:
                signal.raise_signal(signal.SIGUSR1)
                threading.Event().wait(0.01)
                os._exit(0 if got == [signal.SIGUSR1] else 1)
            _, status = os.waitpid(pid, 0)
            print(os.waitstatus_to_exitcode(status), got)
        """)
        self.assertEqual((rc, out, err), (0, "0 []\n", ""))


if __name__ == "__main__":
    unittest.main()
