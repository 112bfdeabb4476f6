"""weft.thread behaves as Python's low-level module (_thread)."""

import signal
import sys
import threading as std_threading
import time
import unittest

import weft.thread as thread
import weft.threading

WAIT = 30


def wait_for(predicate):
    deadline = time.monotonic() + WAIT
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.005)
    return predicate()


class StartNewThread(unittest.TestCase):

    def test_runs_the_function_and_returns_its_ident(self):
        got = []
        ident = thread.start_new_thread(
            lambda a, b=None: got.append((a, b, thread.get_ident())), (1,),
            {"b": 2})
        self.assertTrue(wait_for(lambda: got))
        self.assertEqual(got, [(1, 2, ident)])
        self.assertIs(thread.start_new, thread.start_new_thread)

    def test_such_threads_are_not_enumerated(self):
        ev, idents = weft.threading.Event(), []
        thread.start_new_thread(
            lambda: (idents.append(thread.get_ident()), ev.wait(WAIT)), ())
        self.assertTrue(wait_for(lambda: idents))
        listed = [t.ident for t in weft.threading.enumerate()]
        ev.set()
        self.assertNotIn(idents[0], listed)

    def test_arguments_are_checked(self):
        with self.assertRaises(TypeError):
            thread.start_new_thread(42, ())
        with self.assertRaises(TypeError):
            thread.start_new_thread(print, [1])
        with self.assertRaises(TypeError):
            thread.start_new_thread(print, (), [])

    def test_an_exception_goes_to_unraisablehook(self):
        seen = []
        old, sys.unraisablehook = sys.unraisablehook, seen.append

        def failing():
            raise OSError("in a thread")
        try:
            thread.start_new_thread(failing, ())
            self.assertTrue(wait_for(lambda: seen))
        finally:
            sys.unraisablehook = old
        self.assertIsInstance(seen[0].exc_value, OSError)
        self.assertIs(seen[0].object, failing)
        self.assertEqual(seen[0].err_msg,
                         "Exception ignored in thread started by")

    def test_exit_ends_the_thread_quietly(self):
        seen, steps = [], []
        old, sys.unraisablehook = sys.unraisablehook, seen.append

        def stops():
            steps.append(1)
            thread.exit()
            steps.append(2)
        try:
            thread.start_new_thread(stops, ())
            self.assertTrue(wait_for(lambda: steps))
            time.sleep(0.05)
        finally:
            sys.unraisablehook = old
        self.assertEqual((steps, seen), ([1], []))
        self.assertIs(thread.exit_thread, thread.exit)


class Locks(unittest.TestCase):

    def test_allocate_lock(self):
        lk = thread.allocate_lock()
        self.assertIsInstance(lk, thread.LockType)
        self.assertIsInstance(thread.allocate(), thread.LockType)
        self.assertTrue(lk.acquire(1))
        self.assertFalse(lk.acquire(0))  # the Python 2 waitflag
        lk.release()
        with self.assertRaises(thread.error):
            lk.release()
        self.assertIs(thread.error, RuntimeError)

    def test_module_functions(self):
        self.assertEqual(thread.get_ident(), std_threading.get_ident())
        self.assertEqual(thread.get_native_id(),
                         std_threading.get_native_id())
        self.assertIs(thread.RLock, weft.threading.RLock)
        old = thread.stack_size()
        self.assertEqual(thread.stack_size(old), 0)
        self.assertGreater(thread.TIMEOUT_MAX, 0)


class InterruptMain(unittest.TestCase):

    def test_the_main_thread_gets_the_signal(self):
        got = []
        old = signal.signal(signal.SIGINT, lambda *a: got.append(a[0]))
        try:
            t = weft.threading.Thread(target=thread.interrupt_main)
            t.start()
            t.join(WAIT)
            self.assertTrue(wait_for(lambda: got))
        finally:
            signal.signal(signal.SIGINT, old)
        self.assertEqual(got, [signal.SIGINT])

    def test_a_bad_signal_number(self):
        with self.assertRaises(ValueError):
            thread.interrupt_main(-1)
        with self.assertRaises(ValueError):
            thread.interrupt_main(100000)


if __name__ == "__main__":
    unittest.main()
