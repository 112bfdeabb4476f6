"""weft.threading behaves as Python's threading, on real weft threads.

One behaviour per test; waits are bounded (a broken build fails, it does
not hang) and nothing asserts how long something took.
"""

import gc
import io
import sys
import threading as std_threading
import time
import unittest
import warnings
import weakref

import weft
import weft.threading as threading
from weft import lib

NAN = float("nan")
WAIT = 30  # seconds: only a broken build ever waits this long


def eventually(predicate, timeout=WAIT):
    """Poll until predicate() is true; its last value."""
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.005)
    return predicate()


def start(target, *args, **kwargs):
    t = threading.Thread(target=target, args=args, kwargs=kwargs)
    t.start()
    return t


class NoLeak(unittest.TestCase):
    """Every test leaves as many registered callables as it found."""

    def setUp(self):
        gc.collect()
        self.cells = lib.cell_count()

    def tearDown(self):
        gc.collect()
        self.assertTrue(eventually(lambda: (gc.collect(),
                                            lib.cell_count())[1]
                                   == self.cells, 5),
                        "callables leaked: %d -> %d"
                        % (self.cells, lib.cell_count()))


class LockTests(NoLeak):

    def test_acquire_and_release(self):
        lk = threading.Lock()
        self.assertFalse(lk.locked())
        self.assertIs(lk.acquire(), True)
        self.assertTrue(lk.locked())
        self.assertIs(lk.acquire(False), False)
        self.assertIs(lk.acquire(timeout=0.01), False)
        lk.release()
        self.assertFalse(lk.locked())

    def test_releasing_an_unlocked_lock_is_a_runtime_error(self):
        with self.assertRaises(RuntimeError):
            threading.Lock().release()
        with self.assertRaises(threading.ThreadError):
            threading.Lock().release()

    def test_context_manager(self):
        lk = threading.Lock()
        with lk:
            self.assertTrue(lk.locked())
        self.assertFalse(lk.locked())

    def test_any_thread_may_release(self):
        lk = threading.Lock()
        lk.acquire()
        start(lk.release).join(WAIT)
        self.assertFalse(lk.locked())

    def test_acquire_times_out_while_another_thread_holds_it(self):
        lk, held, done = threading.Lock(), threading.Event(), \
            threading.Event()

        def holder():
            with lk:
                held.set()
                done.wait(WAIT)
        t = start(holder)
        held.wait(WAIT)
        self.assertIs(lk.acquire(timeout=0.05), False)
        self.assertIs(lk.acquire(blocking=False), False)
        done.set()
        t.join(WAIT)
        self.assertIs(lk.acquire(timeout=WAIT), True)

    def test_contended_increments_are_not_lost(self):
        lk, total = threading.Lock(), [0]

        def work():
            for _ in range(500):
                with lk:
                    v = total[0]
                    time.sleep(0)
                    total[0] = v + 1
        threads = [start(work) for _ in range(4)]
        for t in threads:
            t.join(WAIT)
        self.assertEqual(total[0], 2000)

    def test_arguments_are_checked_as_python_does(self):
        lk = threading.Lock()
        with self.assertRaises(ValueError):
            lk.acquire(False, 1)
        with self.assertRaises(ValueError):
            lk.acquire(timeout=-5)
        with self.assertRaises(ValueError):
            lk.acquire(timeout=NAN)
        with self.assertRaises(TypeError):
            lk.acquire(timeout="1")
        with self.assertRaises(OverflowError):
            lk.acquire(timeout=threading.TIMEOUT_MAX * 2)
        self.assertFalse(lk.locked())
        self.assertTrue(lk.acquire(timeout=threading.TIMEOUT_MAX))

    def test_a_handle_is_shared_and_borrowed(self):
        lk = threading.Lock()
        other = threading.Lock(handle=lk.handle)
        self.assertEqual(other.handle, lk.handle)
        other.acquire()
        self.assertTrue(lk.locked())
        del other
        gc.collect()  # a borrowed handle stays open
        lk.release()
        self.assertEqual(lib.handle_kind(lk.handle),
                         weft.constant("WEFT_KIND_LOCK"))

    def test_a_handle_of_another_kind_is_refused(self):
        ev = threading.Event()
        with self.assertRaises(weft.BadHandleError):
            threading.Lock(handle=ev.handle)
        with self.assertRaises(ValueError):
            threading.Lock(handle=0)
        with self.assertRaises(TypeError):
            threading.Lock(handle="1")
        with self.assertRaises(TypeError):
            threading.Lock(handle=1.5)

    def test_a_closed_lock_fails_cleanly(self):
        lk = threading.Lock()
        lk.close()
        lk.close()  # a second close does nothing
        with self.assertRaises(weft.BadHandleError):
            lk.acquire()
        with self.assertRaises(ValueError):
            lk.release()
        self.assertIn("closed", repr(lk))

    def test_closing_wakes_a_waiter(self):
        lk, errors = threading.Lock(), []
        lk.acquire()

        def waiter():
            try:
                lk.acquire()
            except weft.ClosedError as e:
                errors.append(e)
        t = start(waiter)
        time.sleep(0.05)
        lk.close()
        t.join(WAIT)
        self.assertEqual(len(errors), 1)

    def test_thread_module_aliases(self):
        lk = threading.Lock()
        self.assertTrue(lk.acquire_lock())
        self.assertTrue(lk.locked_lock())
        lk.release_lock()


class RLockTests(NoLeak):

    def test_the_owner_may_acquire_again(self):
        rl = threading.RLock()
        self.assertTrue(rl.acquire())
        self.assertTrue(rl.acquire(False))
        self.assertTrue(rl._is_owned())
        rl.release()
        rl.release()
        self.assertFalse(rl._is_owned())
        with self.assertRaises(RuntimeError):
            rl.release()

    def test_other_threads_neither_acquire_nor_release(self):
        rl, got = threading.RLock(), []
        with rl:
            def other():
                got.append(rl.acquire(timeout=0.01))
                try:
                    rl.release()
                except RuntimeError:
                    got.append("refused")
            start(other).join(WAIT)
        self.assertEqual(got, [False, "refused"])

    def test_context_manager_nests(self):
        rl = threading.RLock()
        with rl:
            with rl:
                self.assertTrue(rl._is_owned())
        self.assertFalse(rl._is_owned())


class ConditionTests(NoLeak):

    def test_wait_and_notify(self):
        cond, items, out = threading.Condition(), [], []

        def consumer():
            with cond:
                self.assertTrue(cond.wait_for(lambda: items, WAIT))
                out.append(items.pop())
        t = start(consumer)
        with cond:
            items.append("item")
            cond.notify()
        t.join(WAIT)
        self.assertEqual(out, ["item"])

    def test_notify_n_wakes_n(self):
        cond, ready, woken = threading.Condition(), [0], [0]

        def waiter():
            with cond:
                ready[0] += 1
                cond.wait(WAIT)
                woken[0] += 1
        threads = [start(waiter) for _ in range(5)]
        # Seen under the lock, every waiter has released it in wait().
        self.assertTrue(eventually(lambda: (cond.acquire(), ready[0],
                                            cond.release())[1] == 5))
        with cond:
            cond.notify(2)
        self.assertTrue(eventually(lambda: woken[0] >= 2))
        time.sleep(0.1)
        self.assertEqual(woken[0], 2)
        with cond:
            cond.notify_all()
        for t in threads:
            t.join(WAIT)
        self.assertEqual(woken[0], 5)

    def test_wait_times_out(self):
        cond = threading.Condition()
        with cond:
            self.assertIs(cond.wait(0.01), False)
            self.assertIs(cond.wait(-1), False)  # negative: a poll
            self.assertIs(cond.wait_for(lambda: False, 0.01), False)
            self.assertEqual(cond.wait_for(lambda: 42), 42)

    def test_wait_or_notify_without_the_lock_is_a_runtime_error(self):
        cond = threading.Condition()
        with self.assertRaises(RuntimeError):
            cond.wait(0)
        with self.assertRaises(RuntimeError):
            cond.notify()
        with self.assertRaises(RuntimeError):
            cond.notify_all()

    def test_over_a_plain_lock(self):
        lk = threading.Lock()
        cond = threading.Condition(lk)
        with cond:
            self.assertTrue(lk.locked())
            self.assertIs(cond.wait(0.01), False)
            self.assertTrue(lk.locked())
        self.assertFalse(lk.locked())

    def test_needs_a_weft_lock(self):
        with self.assertRaises(TypeError):
            threading.Condition(std_threading.Lock())

    def test_notify_arguments(self):
        cond = threading.Condition()
        with cond:
            cond.notify(0)
            with self.assertRaises(ValueError):
                cond.notify(-1)
            with self.assertRaises(TypeError):
                cond.notify("2")
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                cond.notifyAll()
            self.assertTrue(issubclass(w[0].category, DeprecationWarning))


class SemaphoreTests(NoLeak):

    def test_counts(self):
        sem = threading.Semaphore(2)
        self.assertTrue(sem.acquire())
        self.assertTrue(sem.acquire(timeout=0))
        self.assertIs(sem.acquire(False), False)
        self.assertIs(sem.acquire(timeout=0.01), False)
        sem.release(2)
        self.assertEqual(sem._value, 2)
        with sem:
            self.assertEqual(sem._value, 1)
        self.assertEqual(sem._value, 2)

    def test_limits_concurrency(self):
        sem, mu = threading.Semaphore(2), threading.Lock()
        inside, peak = [0], [0]

        def work():
            for _ in range(20):
                with sem:
                    with mu:
                        inside[0] += 1
                        peak[0] = max(peak[0], inside[0])
                    time.sleep(0.001)
                    with mu:
                        inside[0] -= 1
        threads = [start(work) for _ in range(5)]
        for t in threads:
            t.join(WAIT)
        self.assertEqual(inside[0], 0)
        self.assertLessEqual(peak[0], 2)

    def test_release_n_wakes_n(self):
        sem, got = threading.Semaphore(0), []
        threads = [start(lambda: got.append(sem.acquire(timeout=WAIT)))
                   for _ in range(3)]
        sem.release(3)
        for t in threads:
            t.join(WAIT)
        self.assertEqual(got, [True] * 3)

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            threading.Semaphore(-1)
        with self.assertRaises(TypeError):
            threading.Semaphore(1.5)
        sem = threading.Semaphore()
        with self.assertRaises(ValueError):
            sem.release(0)
        with self.assertRaises(ValueError):
            sem.acquire(False, 1)

    def test_bounded_refuses_releasing_too_many(self):
        sem = threading.BoundedSemaphore(1)
        sem.acquire()
        sem.release()
        with self.assertRaises(ValueError):
            sem.release()


class EventTests(NoLeak):

    def test_set_clear_wait(self):
        ev = threading.Event()
        self.assertFalse(ev.is_set())
        self.assertIs(ev.wait(0.01), False)
        self.assertIs(ev.wait(-1), False)
        ev.set()
        self.assertTrue(ev.is_set())
        self.assertIs(ev.wait(), True)
        ev.clear()
        self.assertFalse(ev.is_set())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.assertFalse(ev.isSet())

    def test_set_wakes_every_waiter(self):
        ev, got = threading.Event(), []
        threads = [start(lambda: got.append(ev.wait(WAIT)))
                   for _ in range(4)]
        ev.set()
        for t in threads:
            t.join(WAIT)
        self.assertEqual(got, [True] * 4)

    def test_an_event_shared_by_handle(self):
        ev = threading.Event()
        view = threading.Event(handle=ev.handle)
        view.set()
        self.assertTrue(ev.is_set())
        self.assertTrue(lib.event_wait(ev.handle, 0))


class BarrierTests(NoLeak):

    def run_parties(self, barrier, n, timeout=None):
        out = []

        def party():
            try:
                out.append(barrier.wait(timeout))
            except Exception as e:
                out.append(e)
        threads = [start(party) for _ in range(n)]
        for t in threads:
            t.join(WAIT)
        return out

    def test_every_party_gets_its_index(self):
        b = threading.Barrier(3)
        self.assertEqual(b.parties, 3)
        self.assertEqual(sorted(self.run_parties(b, 3)), [0, 1, 2])
        self.assertEqual(sorted(self.run_parties(b, 3)), [0, 1, 2])
        self.assertFalse(b.broken)

    def test_the_action_runs_once_per_cycle(self):
        runs = []
        b = threading.Barrier(2, action=lambda: runs.append(1))
        self.run_parties(b, 2)
        self.run_parties(b, 2)
        self.assertEqual(runs, [1, 1])
        b.close()

    def test_abort_breaks_it_until_reset(self):
        b = threading.Barrier(3)
        out = []
        t = start(lambda: out.append(self.run_parties(b, 1)))
        self.assertTrue(eventually(lambda: b.n_waiting == 1))
        b.abort()
        t.join(WAIT)
        self.assertIsInstance(out[0][0], std_threading.BrokenBarrierError)
        self.assertIsInstance(out[0][0], threading.BrokenBarrierError)
        self.assertTrue(b.broken)
        with self.assertRaises(threading.BrokenBarrierError):
            b.wait()
        b.reset()
        self.assertFalse(b.broken)
        self.assertEqual(sorted(self.run_parties(b, 3)), [0, 1, 2])

    def test_a_wait_that_times_out_breaks_it(self):
        b = threading.Barrier(2)
        with self.assertRaises(threading.BrokenBarrierError):
            b.wait(0.01)
        self.assertTrue(b.broken)

    def test_the_default_timeout(self):
        b = threading.Barrier(2, timeout=0.01)
        with self.assertRaises(threading.BrokenBarrierError):
            b.wait()

    def test_a_failing_action_raises_in_its_thread(self):
        def action():
            raise KeyError("from the action")
        b = threading.Barrier(2, action=action)
        out = self.run_parties(b, 2)
        kinds = sorted(type(e).__name__ for e in out)
        self.assertEqual(kinds, ["BrokenBarrierError", "KeyError"])
        self.assertTrue(b.broken)
        b.close()

    def test_bad_arguments(self):
        with self.assertRaises(ValueError):
            threading.Barrier(0)
        with self.assertRaises(TypeError):
            threading.Barrier(2, action=42)
        with self.assertRaises(TypeError):
            threading.Barrier("2")
        with self.assertRaises(TypeError):
            threading.Barrier()


class ThreadTests(NoLeak):

    def test_start_join_and_attributes(self):
        seen = {}

        def target(a, b=None):
            seen["args"] = (a, b)
            seen["current"] = threading.current_thread()
            seen["ident"] = threading.get_ident()
            seen["native"] = threading.get_native_id()
        t = threading.Thread(target=target, args=(1,), kwargs={"b": 2})
        self.assertIsNone(t.ident)
        self.assertIsNone(t.native_id)
        self.assertFalse(t.is_alive())
        t.start()
        t.join(WAIT)
        self.assertFalse(t.is_alive())
        self.assertEqual(seen["args"], (1, 2))
        self.assertIs(seen["current"], t)
        self.assertEqual(t.ident, seen["ident"])
        self.assertEqual(t.native_id, seen["native"])
        self.assertIn("stopped", repr(t))

    def test_names(self):
        def work():
            pass
        t = threading.Thread(target=work)
        self.assertRegex(t.name, r"^Thread-\d+ \(work\)$")
        t.name = "renamed"
        self.assertEqual(t.name, "renamed")
        self.assertEqual(threading.Thread(name="given").name, "given")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            t.setName("again")
            self.assertEqual(t.getName(), "again")

    def test_daemon_flag(self):
        self.assertFalse(threading.Thread().daemon)  # main is not daemonic
        self.assertTrue(threading.Thread(daemon=True).daemon)
        inherited = []
        t = threading.Thread(target=lambda: inherited.append(
            threading.Thread().daemon), daemon=True)
        t.start()
        t.join(WAIT)
        self.assertEqual(inherited, [True])
        with self.assertRaises(RuntimeError):
            t.daemon = False  # started
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.assertTrue(t.isDaemon())

    def test_misuse_is_a_runtime_error(self):
        t = threading.Thread(target=lambda: None)
        with self.assertRaises(RuntimeError):
            t.join()  # before start
        t.start()
        with self.assertRaises(RuntimeError):
            t.start()  # twice
        t.join(WAIT)
        errors = []

        def join_self():
            try:
                threading.current_thread().join()
            except RuntimeError as e:
                errors.append(e)
        start(join_self).join(WAIT)
        self.assertEqual(len(errors), 1)

    def test_join_with_a_timeout_returns(self):
        ev = threading.Event()
        t = start(ev.wait, WAIT)
        self.assertIsNone(t.join(0.01))
        self.assertTrue(t.is_alive())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.assertTrue(t.isAlive())
        ev.set()
        t.join(WAIT)
        self.assertFalse(t.is_alive())

    def test_a_subclass_overrides_run(self):
        class Worker(threading.Thread):
            def __init__(self):
                super().__init__(name="worker")
                self.result = None

            def run(self):
                self.result = threading.current_thread().name
        w = Worker()
        w.start()
        w.join(WAIT)
        self.assertEqual(w.result, "worker")

    def test_a_subclass_must_call_init(self):
        class Bad(threading.Thread):
            def __init__(self):
                pass
        with self.assertRaises(RuntimeError):
            Bad().start()

    def test_enumerate_and_active_count(self):
        ev = threading.Event()
        t = start(ev.wait, WAIT)
        self.assertIn(t, threading.enumerate())
        self.assertIn(threading.main_thread(), threading.enumerate())
        self.assertGreaterEqual(threading.active_count(), 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.assertGreaterEqual(threading.activeCount(), 2)
        ev.set()
        t.join(WAIT)
        self.assertNotIn(t, threading.enumerate())

    def test_main_thread(self):
        main = threading.main_thread()
        self.assertIs(threading.current_thread(), main)
        self.assertIs(type(main), threading._MainThread)
        self.assertEqual(main.name, "MainThread")
        self.assertFalse(main.daemon)
        self.assertEqual(main.ident, threading.get_ident())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            self.assertIs(threading.currentThread(), main)

    def test_a_thread_started_elsewhere_is_a_dummy(self):
        got = []

        def in_stdlib_thread():
            me = threading.current_thread()
            got.append((type(me), me.daemon, me.is_alive(),
                        me is threading.current_thread()))
            try:
                me.join(0)
            except RuntimeError:
                got.append("not joinable")
        t = std_threading.Thread(target=in_stdlib_thread)
        t.start()
        t.join()
        self.assertEqual(got, [(threading._DummyThread, True, True, True),
                               "not joinable"])

    def test_a_thread_wrapped_by_handle(self):
        ev = threading.Event()
        t = start(ev.wait, WAIT)
        view = threading.Thread(handle=t.handle)
        self.assertTrue(view.is_alive())
        self.assertEqual(view.ident, t.ident)
        self.assertIs(threading._wrap(t.handle), t)
        ev.set()
        view.join(WAIT)
        self.assertFalse(t.is_alive())

    def test_unstarted_and_finished_threads_are_collected(self):
        ref1 = weakref.ref(threading.Thread(target=lambda: None))
        t = start(lambda: None)
        t.join(WAIT)
        ref2 = weakref.ref(t)
        del t
        gc.collect()
        self.assertIsNone(ref1())
        self.assertIsNone(ref2())

    def test_a_running_thread_outlives_its_last_reference(self):
        ev, out = threading.Event(), []

        def target():
            ev.wait(WAIT)
            out.append(threading.current_thread().name)
        threading.Thread(target=target, name="orphan").start()
        gc.collect()
        ev.set()
        self.assertTrue(eventually(lambda: out == ["orphan"]))

    def test_stack_size(self):
        old = threading.stack_size(1 << 20)
        try:
            self.assertEqual(threading.stack_size(1 << 20), 1 << 20)
            start(lambda: None).join(WAIT)
            with self.assertRaises(ValueError):
                threading.stack_size(100)
            with self.assertRaises(ValueError):
                threading.stack_size(-1)
        finally:
            threading.stack_size(old)


class ExceptHookTests(NoLeak):

    def test_the_default_prints_like_cpython(self):
        def boom():
            raise ValueError("boom")
        err, old = io.StringIO(), sys.stderr
        sys.stderr = err
        try:
            t = threading.Thread(target=boom, name="worker")
            t.start()
            t.join(WAIT)
        finally:
            sys.stderr = old
        text = err.getvalue()
        self.assertTrue(text.startswith("Exception in thread worker:\n"
                                        "Traceback (most recent call "
                                        "last):\n"), text)
        self.assertTrue(text.endswith("ValueError: boom\n"), text)
        self.assertEqual(lib.thread_get_result(t.handle), 1)

    def test_systemexit_is_silent(self):
        err, old = io.StringIO(), sys.stderr
        sys.stderr = err
        try:
            start(sys.exit, 3).join(WAIT)
        finally:
            sys.stderr = old
        self.assertEqual(err.getvalue(), "")

    def test_a_replaced_hook_gets_the_arguments(self):
        seen = []
        old, threading.excepthook = threading.excepthook, seen.append
        try:
            t = threading.Thread(target=lambda: 1 / 0)
            t.start()
            t.join(WAIT)
        finally:
            threading.excepthook = old
        args = seen[0]
        self.assertIs(args.exc_type, ZeroDivisionError)
        self.assertIsInstance(args.exc_value, ZeroDivisionError)
        self.assertIsNotNone(args.exc_traceback)
        self.assertIs(args.thread, t)
        self.assertIs(threading.__excepthook__, old)

    def test_a_failing_hook_falls_back_to_sys_excepthook(self):
        seen = []

        def bad_hook(args):
            raise RuntimeError("hook failed")
        old = threading.excepthook, sys.excepthook
        threading.excepthook = bad_hook
        sys.excepthook = lambda *exc: seen.append(exc[0])
        try:
            t = threading.Thread(target=lambda: 1 / 0)
            t.start()
            t.join(WAIT)
        finally:
            threading.excepthook, sys.excepthook = old
        self.assertEqual(seen, [RuntimeError])


class TraceTests(NoLeak):

    def test_settrace_reaches_new_threads(self):
        calls = []

        def tracer(frame, event, arg):
            if event == "call":
                calls.append(frame.f_code.co_name)
            return None

        def traced_target():
            pass
        threading.settrace(tracer)
        try:
            self.assertIs(threading.gettrace(), tracer)
            start(traced_target).join(WAIT)
        finally:
            threading.settrace(None)
        self.assertIn("traced_target", calls)
        self.assertIsNone(sys.gettrace())  # not this thread's

    def test_setprofile_reaches_new_threads(self):
        events = []

        def profiler(frame, event, arg):
            if event == "call":
                events.append(frame.f_code.co_name)

        def profiled_target():
            pass
        threading.setprofile(profiler)
        try:
            self.assertIs(threading.getprofile(), profiler)
            start(profiled_target).join(WAIT)
        finally:
            threading.setprofile(None)
        self.assertIn("profiled_target", events)


class TimerTests(NoLeak):

    def test_fires_after_the_interval(self):
        got = []
        t = threading.Timer(0.01, got.append, args=["fired"])
        self.assertIsInstance(t, threading.Thread)
        t.start()
        t.join(WAIT)
        self.assertEqual(got, ["fired"])
        self.assertTrue(t.finished.is_set())

    def test_cancel_before_it_fires(self):
        got = []
        t = threading.Timer(WAIT, got.append, kwargs={"object": "no"})
        t.start()
        self.assertIn(t, threading.enumerate())  # pending: alive
        t.cancel()
        t.join(WAIT)
        self.assertFalse(t.is_alive())
        self.assertEqual(got, [])

    def test_cancel_before_start(self):
        got = []
        t = threading.Timer(0, got.append, args=["no"])
        t.cancel()
        t.start()
        t.join(WAIT)
        self.assertEqual(got, [])

    def test_a_negative_interval_fires_at_once(self):
        got = []
        t = threading.Timer(-1, got.append, args=["now"])
        t.start()
        t.join(WAIT)
        self.assertEqual(got, ["now"])

    def test_a_subclass_run_does_its_own_waiting(self):
        class Repeat(threading.Timer):
            def run(self):
                while not self.finished.wait(self.interval):
                    self.function(*self.args)
        ticks = []
        r = Repeat(0.001, ticks.append, args=[1])
        r.start()
        self.assertTrue(eventually(lambda: len(ticks) >= 3))
        r.cancel()
        r.join(WAIT)
        self.assertFalse(r.is_alive())


class LocalTests(NoLeak):

    def test_each_thread_sees_its_own_attributes(self):
        loc = threading.local()
        loc.x = "main"
        seen = []

        def other():
            seen.append(getattr(loc, "x", None))
            loc.x = "other"
            seen.append(loc.x)
        start(other).join(WAIT)
        self.assertEqual(seen, [None, "other"])
        self.assertEqual(loc.x, "main")
        with self.assertRaises(AttributeError):
            loc.__dict__ = {}

    def test_a_subclass_init_runs_in_each_thread(self):
        class Local(threading.local):
            def __init__(self, value):
                self.value = value
                self.thread = threading.get_ident()
        loc = Local(7)
        seen = []
        start(lambda: seen.append((loc.value, loc.thread))).join(WAIT)
        self.assertEqual(seen[0][0], 7)
        self.assertNotEqual(seen[0][1], loc.thread)
        with self.assertRaises(TypeError):
            threading.local(1)

    def test_properties_of_a_subclass_see_the_same_thread(self):
        class Local(threading.local):
            @property
            def double(self):
                return self.x * 2

            @double.setter
            def double(self, value):
                self.x = value // 2
        loc = Local()
        loc.double = 10
        self.assertEqual((loc.x, loc.double), (5, 10))
        seen = []

        def other():
            loc.double = 4
            seen.append((loc.x, loc.double))
        start(other).join(WAIT)
        self.assertEqual((seen, loc.x), ([(2, 4)], 5))
        self.assertEqual(threading._NO_DICT, {})

    def test_attributes_go_when_their_thread_exits(self):
        class Payload(object):
            pass
        loc, refs = threading.local(), []

        def other():
            loc.payload = Payload()
            refs.append(weakref.ref(loc.payload))
        start(other).join(WAIT)
        gc.collect()
        self.assertIsNone(refs[0]())

    def test_attributes_go_when_a_stdlib_thread_exits(self):
        class Payload(object):
            pass
        loc, refs = threading.local(), []

        def other():
            loc.payload = Payload()
            refs.append(weakref.ref(loc.payload))
        t = std_threading.Thread(target=other)
        t.start()
        t.join()
        self.assertTrue(eventually(lambda: (gc.collect(), refs[0]())[1]
                                   is None))

    def test_attributes_go_with_the_local(self):
        class Payload(object):
            pass
        loc = threading.local()
        loc.payload = Payload()
        ref = weakref.ref(loc.payload)
        handle = loc.handle
        del loc
        gc.collect()
        self.assertIsNone(ref())
        with self.assertRaises(weft.BadHandleError):
            lib.local_get(handle)


class ModuleTests(NoLeak):

    def test_idents_are_the_stdlib_ones(self):
        self.assertEqual(threading.get_ident(), std_threading.get_ident())
        self.assertEqual(threading.get_native_id(),
                         std_threading.get_native_id())

    def test_exported_names(self):
        self.assertIs(threading.BrokenBarrierError,
                      std_threading.BrokenBarrierError)
        self.assertIs(threading.ThreadError, RuntimeError)
        self.assertIs(threading.ExceptHookArgs, std_threading.ExceptHookArgs)
        self.assertEqual(threading.TIMEOUT_MAX, std_threading.TIMEOUT_MAX)
        for name in threading.__all__:
            self.assertTrue(hasattr(threading, name), name)

    def test_every_kind_wraps_an_existing_handle(self):
        rl, sem, bar = threading.RLock(), threading.Semaphore(2), \
            threading.Barrier(1)
        cond = threading.Condition(rl)
        with threading.RLock(handle=rl.handle):
            self.assertTrue(rl._is_owned())
        threading.Semaphore(handle=sem.handle).acquire()
        self.assertEqual(sem._value, 1)
        self.assertEqual(threading.Barrier(handle=bar.handle).wait(), 0)
        view = threading.Condition(handle=cond.handle)
        with view:
            self.assertTrue(rl._is_owned())
            self.assertIs(view.wait(0.01), False)
        for cls, other in [(threading.RLock, sem), (threading.Semaphore, rl),
                           (threading.Condition, bar),
                           (threading.Thread, cond)]:
            with self.assertRaises(weft.BadHandleError):
                cls(handle=other.handle)

    def test_package_functions(self):
        ev = threading.Event()
        self.assertEqual(weft.handle_kind(ev.handle),
                         weft.constant("WEFT_KIND_EVENT"))
        self.assertEqual(weft.constants()["WEFT_EBADHANDLE"], -10000)
        with self.assertRaises(KeyError):
            weft.constant("NO_SUCH_CONSTANT")
        weft.close(ev.handle)
        with self.assertRaises(weft.BadHandleError):
            ev.set()
        with self.assertRaises(weft.BadHandleError):
            ev.close()  # closed behind its back: says so, once
        ev.close()
        self.assertIn(weft.backend, ("ctypes", "swig"))

    def test_objects_are_usable_through_the_low_level_api(self):
        lk = threading.Lock()
        with lk:
            self.assertIs(lib.lock_acquire(lk.handle, 0), False)
        self.assertIs(lib.lock_acquire(lk.handle, 0), True)
        self.assertTrue(lk.locked())
        lk.release()

    @unittest.skipUnless(weft.backend == "swig", "needs both backends")
    def test_both_backends_share_one_library(self):
        # What a polyglot process does: a handle made through one binding
        # used through another.
        from weft import _ctypes_backend as ct
        ev = threading.Event()
        self.assertEqual(ct.event_is_set(ev.handle), 0)
        ct.event_set(ev.handle)
        self.assertTrue(ev.is_set())
        h = ct.lock_new()
        lk = threading.Lock(handle=h)
        with lk:
            self.assertEqual(ct.lock_locked(h), 1)
        ct.close(h)


if __name__ == "__main__":
    unittest.main()
