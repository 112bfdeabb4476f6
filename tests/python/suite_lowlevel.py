"""The low-level API, weft.lib: the same on both backends.

The mechanical rules of weft/_rules.py (out-parameters returned, output
buffers retried, strings, callbacks), statuses as exceptions, callback
lifetimes, the GIL, and bad input.
"""

import errno
import gc
import inspect
import re
import sys
import threading as std_threading
import time
import unittest
import weakref

import weft
from weft import _errors, _manifest, _rules, lib

KIND_LOCK = weft.constant("WEFT_KIND_LOCK")
NAN = float("nan")


def bound_functions():
    """The manifest's functions that Python binds."""
    return [f for f in _manifest.load()["functions"]
            if f["name"] not in _rules.EXCLUDED]


def run_thread(target, name=None):
    """Run target on a new weft thread; (handle, result)."""
    t = lib.thread_new(target, name)
    lib.thread_start(t)
    assert lib.thread_join(t, 30)
    return t, lib.thread_get_result(t)


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


class Surface(unittest.TestCase):

    def test_every_manifest_function_is_bound(self):
        missing = [f["name"] for f in bound_functions()
                   if not callable(getattr(lib, _rules.pyname(f["name"]),
                                           None))]
        self.assertEqual(missing, [])

    def test_thread_exit_is_not_bound(self):
        self.assertFalse(hasattr(lib, "thread_exit"))

    def test_version(self):
        n = lib.version_number()
        self.assertEqual(weft.version(), "%d.%d.%d" % (n // 10000,
                                                       n // 100 % 100,
                                                       n % 100))

    @unittest.skipUnless(weft.backend == "swig", "compares SWIG to ctypes")
    def test_swig_functions_take_what_ctypes_ones_take(self):
        from weft import _ctypes_backend as ct
        differ = []
        for f in bound_functions():
            name = _rules.pyname(f["name"])
            want = len(inspect.signature(getattr(ct, name)).parameters)
            try:
                getattr(lib, name)(*range(20))
            except TypeError as e:
                text = str(e)
            m = (re.search(r"expected (\d+) arguments", text)
                 or re.search(r"takes (exactly one|no) argument", text))
            got = {"exactly one": 1, "no": 0}.get(m.group(1), None) \
                if m else None
            if got is None and m:
                got = int(m.group(1))
            if got != want:
                differ.append("%s: ctypes %d, swig %s" % (name, want, got))
        self.assertEqual(differ, [])


class OutParameters(unittest.TestCase):

    def test_one_out_parameter_is_the_result(self):
        h = lib.lock_new()
        self.assertIsInstance(h, int)
        self.assertGreater(h, 0)
        self.assertEqual(lib.handle_kind(h), KIND_LOCK)
        self.assertEqual(lib.lock_locked(h), 0)
        lib.close(h)

    def test_several_out_parameters_are_a_tuple(self):
        name, value = lib.constant_at(0)
        self.assertIsInstance(name, str)
        self.assertEqual(lib.constant_get(name), value)

    def test_no_out_parameter_returns_none(self):
        e = lib.event_new()
        self.assertIsNone(lib.event_set(e))
        lib.close(e)

    def test_pointer_out_parameter_is_an_int(self):
        loc = lib.local_new(None)
        self.assertEqual(lib.local_get(loc), 0)
        lib.local_set(loc, 123456789)
        self.assertEqual(lib.local_get(loc), 123456789)
        lib.close(loc)

    def test_strings_longer_than_the_first_buffer_are_retried(self):
        t = lib.thread_new(None, None)
        for name in ["x" * 1000, "\u00e9\u540d" * 300, "", "a"]:
            lib.thread_set_name(t, name)
            self.assertEqual(lib.thread_get_name(t), name)
        lib.close(t)

    def test_every_constant_reads_back_by_name(self):
        for i in range(lib.constant_count()):
            name, value = lib.constant_at(i)
            self.assertEqual(lib.constant_get(name), value, name)

    def test_handle_lists_longer_than_the_first_buffer_are_retried(self):
        ev = lib.event_new()
        threads = [lib.thread_new(lambda: lib.event_wait(ev, 30) and 0, None)
                   for _ in range(80)]
        try:
            for t in threads:
                lib.thread_start(t)
            alive = lib.thread_enumerate()
            self.assertTrue(set(threads) <= set(alive))
            self.assertEqual(len(alive), len(set(alive)))
        finally:
            lib.event_set(ev)
            for t in threads:
                lib.thread_join(t, 30)
                lib.close(t)
            lib.close(ev)


class Strings(unittest.TestCase):

    def setUp(self):
        self.t = lib.thread_new(None, None)

    def tearDown(self):
        lib.close(self.t)

    def test_str_bytes_and_none(self):
        self.assertTrue(lib.thread_get_name(self.t).startswith("Thread-"))
        lib.thread_set_name(self.t, b"from bytes")
        self.assertEqual(lib.thread_get_name(self.t), "from bytes")

    def test_undecodable_bytes_round_trip(self):
        lib.thread_set_name(self.t, b"\xff\xfe")
        self.assertEqual(lib.thread_get_name(self.t), "\udcff\udcfe")
        lib.thread_set_name(self.t, "\udcff")
        self.assertEqual(lib.thread_get_name(self.t), "\udcff")

    def test_an_embedded_nul_is_a_value_error(self):
        for bad in ["a\0b", b"a\0b", "\0"]:
            with self.assertRaises(ValueError):
                lib.thread_set_name(self.t, bad)
        with self.assertRaises(ValueError):
            lib.constant_get("WEFT_EBADHANDLE\0tail")

    def test_a_non_string_is_a_type_error(self):
        for bad in [5, 1.5, ["x"], bytearray(b"x")]:
            with self.assertRaises(TypeError):
                lib.thread_set_name(self.t, bad)


class Errors(unittest.TestCase):

    def test_an_errno_status_is_the_oserror_subclass(self):
        with self.assertRaises(FileNotFoundError) as cm:
            lib.constant_get("NO_SUCH_CONSTANT")
        e = cm.exception
        self.assertEqual(e.errno, errno.ENOENT)
        self.assertEqual(e.code, -errno.ENOENT)
        self.assertEqual(e.name, "ENOENT")
        self.assertTrue(e.message.startswith("constant_get"), e.message)
        self.assertIn(e.message, str(e))

    def test_errno_subclasses_are_pythons(self):
        for code, cls in [(errno.ETIMEDOUT, TimeoutError),
                          (errno.ECONNREFUSED, ConnectionRefusedError),
                          (errno.EINTR, InterruptedError),
                          (errno.EACCES, PermissionError)]:
            e = _errors.error(-code, "X", "msg", code)
            self.assertIs(type(e), cls)
            self.assertEqual((e.errno, e.code, e.detail), (code, -code, code))

    def test_weft_codes_have_their_classes(self):
        table = [(-10000, weft.BadHandleError, ValueError),
                 (-10001, weft.ClosedError, weft.WeftError),
                 (-10002, weft.StateError, RuntimeError),
                 (-10003, weft.InvalidValueError, ValueError),
                 (-10007, weft.FFIError, weft.WeftError),
                 (-10008, weft.NotSupportedError, NotImplementedError),
                 (-10009, weft.BrokenBarrierError,
                  std_threading.BrokenBarrierError),
                 (-10099, weft.WeftError, Exception)]
        for code, cls, base in table:
            e = _errors.error(code, "NAME", "the message", 7)
            self.assertIs(type(e), cls)
            self.assertIsInstance(e, base)
            self.assertIsInstance(e, weft.WeftError)
            self.assertEqual((e.code, e.name, e.message, e.detail, str(e)),
                             (code, "NAME", "the message", 7,
                              "the message"))

    def test_a_closed_handle_is_a_bad_handle(self):
        h = lib.lock_new()
        lib.close(h)
        with self.assertRaises(weft.BadHandleError) as cm:
            lib.lock_acquire(h, 0)
        e = cm.exception
        self.assertIsInstance(e, ValueError)
        self.assertEqual((e.code, e.name), (-10000, "WEFT_EBADHANDLE"))
        self.assertTrue(e.message.startswith("lock_acquire: "), e.message)

    def test_misuse_is_a_runtime_error(self):
        h = lib.lock_new()
        with self.assertRaises(RuntimeError) as cm:
            lib.lock_release(h)
        self.assertIsInstance(cm.exception, weft.StateError)
        self.assertIn("unlocked", cm.exception.message)
        self.assertEqual(lib.last_error_code(), -10002)  # a value
        lib.close(h)

    def test_bad_values_are_value_errors(self):
        with self.assertRaises(weft.InvalidValueError):
            lib.sleep(-1)
        with self.assertRaises(ValueError):
            lib.thread_set_stack_size(1)
        with self.assertRaises(ValueError):
            lib.semaphore_new(-1)

    def test_a_broken_barrier_is_brokenbarriererror(self):
        b = lib.barrier_new(2, None, -1)
        lib.barrier_abort(b)
        with self.assertRaises(std_threading.BrokenBarrierError) as cm:
            lib.barrier_wait(b, 1)
        self.assertIsInstance(cm.exception, weft.BrokenBarrierError)
        lib.close(b)

    def test_closing_wakes_a_waiter_with_closederror(self):
        ev = lib.event_new()
        closer = std_threading.Timer(0.1, lib.close, (ev,))
        closer.start()
        with self.assertRaises(weft.ClosedError):
            lib.event_wait(ev, 30)
        closer.join()

    def test_timeouts_are_answers(self):
        lk, ev = lib.lock_new(), lib.event_new()
        self.assertIs(lib.lock_acquire(lk, -1), True)
        self.assertIs(lib.lock_acquire(lk, 0), False)
        self.assertIs(lib.lock_acquire(lk, 0.01), False)
        self.assertIs(lib.event_wait(ev, 0.01), False)
        t = lib.thread_new(lambda: lib.event_wait(ev, 30) and 0, None)
        lib.thread_start(t)
        self.assertIs(lib.thread_join(t, 0.01), False)
        lib.event_set(ev)
        self.assertIs(lib.thread_join(t, 30), True)
        for h in (lk, ev, t):
            lib.close(h)

    def test_nan_is_refused_even_by_a_free_lock(self):
        lk = lib.lock_new()
        with self.assertRaises(ValueError):
            lib.lock_acquire(lk, NAN)
        self.assertEqual(lib.lock_locked(lk), 0)
        lib.close(lk)


class Callbacks(unittest.TestCase):

    def setUp(self):
        gc.collect()
        self.cells = lib.cell_count()

    def tearDown(self):
        gc.collect()
        self.assertEqual(lib.cell_count(), self.cells, "callables leaked")

    def test_the_target_result_is_the_thread_result(self):
        for value, result in [(7, 7), (None, 0), ("text", 0), (-3, -3),
                              (2 ** 40, -1), (True, 1)]:
            t, got = run_thread(lambda: value)
            self.assertEqual(got, result, value)
            lib.close(t)

    def test_an_exception_goes_to_unraisablehook(self):
        seen = []
        old, sys.unraisablehook = sys.unraisablehook, seen.append

        def target():
            raise KeyError("boom")
        try:
            t, result = run_thread(target)
        finally:
            sys.unraisablehook = old
        self.assertEqual(result, -1)
        self.assertEqual(len(seen), 1)
        self.assertIsInstance(seen[0].exc_value, KeyError)
        self.assertIs(seen[0].object, target)
        lib.close(t)

    def test_systemexit_ends_the_call_quietly(self):
        seen = []
        old, sys.unraisablehook = sys.unraisablehook, seen.append

        def target():
            raise SystemExit(3)
        try:
            t, result = run_thread(target)
        finally:
            sys.unraisablehook = old
        self.assertEqual((result, seen), (0, []))
        lib.close(t)

    def test_c_keeps_the_callable_alive(self):
        ran = []

        class Target(object):
            def __call__(self):
                ran.append(1)
        target = Target()
        ref = weakref.ref(target)
        t = lib.thread_new(target, None)
        del target
        gc.collect()
        self.assertIsNotNone(ref(), "collected while C holds it")
        lib.thread_start(t)
        lib.thread_join(t, 30)
        gc.collect()
        self.assertEqual(ran, [1])
        self.assertIsNone(ref(), "a one-shot target outlives its call")
        lib.close(t)

    def test_a_failed_call_drops_its_callable(self):
        with self.assertRaises(ValueError):
            lib.thread_new(lambda: 0, "a\0b")
        with self.assertRaises(TypeError):
            lib.thread_new(lambda: 0, 42)
        with self.assertRaises(ValueError):
            lib.barrier_new(0, lambda: 0, -1)
        with self.assertRaises(TypeError):
            lib.thread_new("not callable", None)

    def test_a_forgotten_callable_is_not_called(self):
        ran = []

        def target():
            ran.append(1)
        t = lib.thread_new(target, None)
        lib.forget(target)
        lib.thread_start(t)
        lib.thread_join(t, 30)
        self.assertEqual((ran, lib.thread_get_result(t)), ([], 0))
        lib.close(t)

    def test_a_hook_runs_in_each_new_thread_until_closed(self):
        seen = []

        def hook(thread):
            seen.append((thread, lib.thread_current()))
        hk = lib.thread_hook_new(hook)
        t1, _ = run_thread(None)
        lib.close(hk)
        lib.forget(hook)
        t2, _ = run_thread(None)
        self.assertIn((t1, t1), seen)
        self.assertNotIn(t2, [s[0] for s in seen])
        lib.close(t1)
        lib.close(t2)

    def test_a_local_destructor_runs_when_the_thread_exits(self):
        got = []

        def dtor(value):
            got.append((value, lib.thread_current_ident()))
        loc = lib.local_new(dtor)
        idents = []

        def target():
            idents.append(lib.thread_current_ident())
            lib.local_set(loc, 42)
        t, _ = run_thread(target)
        self.assertEqual(got, [(42, idents[0])])
        lib.local_set(loc, 43)
        lib.close(loc)  # runs the rest here
        self.assertEqual(got[-1], (43, lib.thread_current_ident()))
        lib.forget(dtor)
        lib.close(t)

    def test_a_barrier_action_runs_once_per_cycle(self):
        runs = []

        def action():
            runs.append(1)
        b = lib.barrier_new(3, action, -1)
        indexes = []
        threads = [lib.thread_new(lambda: indexes.append(
            lib.barrier_wait(b, 30)), None) for _ in range(3)]
        for t in threads:
            lib.thread_start(t)
        for t in threads:
            lib.thread_join(t, 30)
            lib.close(t)
        self.assertEqual((sorted(indexes), runs), ([0, 1, 2], [1]))
        lib.close(b)
        lib.forget(action)

    def test_a_foreign_thread_keeps_its_thread_state(self):
        # The hook and the target are two callbacks on one weft thread:
        # SWIG enters both with the same PyThreadState (what a stdlib
        # threading.local shows), ctypes makes one per callback.
        tls = std_threading.local()
        seen = []

        def hook(thread):
            tls.mark = thread

        def target():
            seen.append(getattr(tls, "mark", None))
        hk = lib.thread_hook_new(hook)
        try:
            t, _ = run_thread(target)
        finally:
            lib.close(hk)
            lib.forget(hook)
        if weft.backend == "swig":
            self.assertEqual(seen, [t])
        else:
            self.assertEqual(seen, [None])
        lib.close(t)


class Gil(unittest.TestCase):

    def test_a_blocking_wait_releases_the_gil(self):
        ev = lib.event_new()
        counter = Counter()
        time.sleep(0.02)
        before = counter.n
        self.assertFalse(lib.event_wait(ev, 0.3))
        self.assertGreater(counter.n - before, 5)
        counter.finish()
        lib.close(ev)

    def test_a_contended_acquire_releases_the_gil(self):
        lk = lib.lock_new()
        lib.lock_acquire(lk, -1)
        releaser = std_threading.Timer(0.2, lib.lock_release, (lk,))
        counter = Counter()
        releaser.start()
        time.sleep(0.02)
        before = counter.n
        self.assertTrue(lib.lock_acquire(lk, 30))
        self.assertGreater(counter.n - before, 5)
        counter.finish()
        releaser.join()
        lib.lock_release(lk)
        lib.close(lk)

    def test_callbacks_take_the_gil_on_weft_threads(self):
        total = []

        def target():
            for _ in range(1000):
                total.append(1)
        threads = [lib.thread_new(target, None) for _ in range(8)]
        for t in threads:
            lib.thread_start(t)
        for t in threads:
            lib.thread_join(t, 30)
            lib.close(t)
        self.assertEqual(len(total), 8000)


class BadInput(unittest.TestCase):

    def test_closed_handles(self):
        made = {"lock": lib.lock_new(), "rlock": lib.rlock_new(),
                "event": lib.event_new(), "sem": lib.semaphore_new(1),
                "thread": lib.thread_new(None, None),
                "barrier": lib.barrier_new(1, None, -1)}
        for h in made.values():
            lib.close(h)
        calls = [(lib.lock_acquire, made["lock"], 0),
                 (lib.lock_release, made["lock"]),
                 (lib.rlock_acquire, made["rlock"], 0),
                 (lib.event_set, made["event"]),
                 (lib.event_wait, made["event"], 0),
                 (lib.semaphore_release, made["sem"], 1),
                 (lib.thread_start, made["thread"]),
                 (lib.thread_get_name, made["thread"]),
                 (lib.barrier_wait, made["barrier"], 0),
                 (lib.close, made["lock"])]
        for fn, *args in calls:
            with self.assertRaises(weft.BadHandleError, msg=fn):
                fn(*args)

    def test_wrong_kinds(self):
        ev, lk = lib.event_new(), lib.lock_new()
        for fn, *args in [(lib.lock_acquire, ev, 0), (lib.event_set, lk),
                          (lib.thread_join, lk, 0),
                          (lib.condition_new, ev)]:
            with self.assertRaises(weft.BadHandleError, msg=fn):
                fn(*args)
        lib.close(ev)
        lib.close(lk)

    def test_values_that_are_no_handle(self):
        for bad in [0, -1, 2 ** 53, 2 ** 63 - 1]:
            with self.assertRaises(weft.BadHandleError):
                lib.event_set(bad)
        for bad in [2 ** 63, 2 ** 64 + 1, -2 ** 63 - 1]:
            with self.assertRaises(OverflowError):
                lib.event_set(bad)

    def test_wrong_types(self):
        lk = lib.lock_new()
        for fn, *args in [(lib.event_set, "1"), (lib.event_set, 1.0),
                          (lib.event_set, None), (lib.lock_acquire, lk, "1"),
                          (lib.lock_acquire, lk, None),
                          (lib.semaphore_release, lk, 1.5),
                          (lib.thread_new, 5, None)]:
            with self.assertRaises(TypeError, msg=(fn, args)):
                fn(*args)
        self.assertEqual(lib.lock_locked(lk), 0)
        lib.close(lk)

    def test_negative_values_where_not_allowed(self):
        with self.assertRaises(ValueError):
            lib.sleep(-0.5)
        with self.assertRaises(ValueError):
            lib.timer_new(-1, None, None)
        with self.assertRaises(ValueError):
            lib.barrier_new(-2, None, -1)
        with self.assertRaises(OverflowError):
            lib.thread_set_stack_size(-1)
        with self.assertRaises(ValueError):
            lib.barrier_new(1, None, NAN)

    def test_out_of_range_ints(self):
        t = lib.thread_new(None, None)
        for bad in [2 ** 31, -2 ** 31 - 1]:
            with self.assertRaises(OverflowError):
                lib.thread_set_daemon(t, bad)
        lib.close(t)


if __name__ == "__main__":
    unittest.main()
