"""Whole interpreters: what happens at exit, what goes to stderr, how the
package finds its library and backend.  Each test runs a child Python
with this tree's package and this process's environment."""

import os
import textwrap
import unittest

import weft
from taprunner import run_python


def python(code, **env):
    return run_python(textwrap.dedent(code), env=env)


class Exit(unittest.TestCase):

    def test_the_interpreter_waits_for_non_daemon_threads(self):
        rc, out, err = python("""
            import time, weft.threading as threading
            def late():
                time.sleep(0.3)
                print("thread done", flush=True)
            threading.Thread(target=late).start()
            print("main done", flush=True)
        """)
        self.assertEqual((rc, out, err), (0, "main done\nthread done\n", ""))

    def test_threads_started_by_threads_are_waited_for_too(self):
        rc, out, err = python("""
            import time, weft.threading as threading
            def grandchild():
                time.sleep(0.2)
                print("grandchild", flush=True)
            threading.Thread(target=lambda: threading.Thread(
                target=grandchild).start()).start()
        """)
        self.assertEqual((rc, out, err), (0, "grandchild\n", ""))

    def test_a_pending_timer_is_waited_for(self):
        rc, out, err = python("""
            import weft.threading as threading
            threading.Timer(0.2, print, args=["timer fired"]).start()
        """)
        self.assertEqual((rc, out, err), (0, "timer fired\n", ""))

    def test_daemon_threads_do_not_hold_the_exit(self):
        # Were they waited for, the child would never end (timeout: error).
        rc, out, err = python("""
            import weft.threading as threading
            ev = threading.Event()
            threading.Thread(target=ev.wait, daemon=True).start()
            t = threading.Thread(target=ev.wait)
            t.daemon = True
            t.start()
            print("bye", flush=True)
        """)
        self.assertEqual((rc, out, err), (0, "bye\n", ""))

    def test_an_unhandled_exception_in_a_thread(self):
        rc, out, err = python("""
            import weft.threading as threading
            def work():
                raise ValueError("boom")
            t = threading.Thread(target=work, name="worker")
            t.start()
            t.join()
            print("still running", flush=True)
        """)
        self.assertEqual((rc, out), (0, "still running\n"))
        self.assertTrue(err.startswith("Exception in thread worker:\n"
                                       "Traceback (most recent call "
                                       "last):\n"), err)
        self.assertTrue(err.endswith("ValueError: boom\n"), err)

    def test_an_exception_in_a_start_new_thread_function(self):
        rc, out, err = python("""
            import time, weft.thread as thread
            def failing():
                raise KeyError("lost")
            thread.start_new_thread(failing, ())
            time.sleep(0.3)
        """)
        self.assertEqual(rc, 0)
        self.assertTrue(err.startswith("Exception ignored in thread started "
                                       "by: <function failing"), err)
        self.assertIn("KeyError: 'lost'", err)


class Loading(unittest.TestCase):

    def test_the_backend_is_chosen_by_weft_backend(self):
        rc, out, err = python("import weft; print(weft.backend)",
                              WEFT_BACKEND="ctypes")
        self.assertEqual((rc, out), (0, "ctypes\n"), err)

    def test_an_unknown_backend_is_an_import_error(self):
        rc, out, err = python("""
            try:
                import weft
            except ImportError as e:
                print("ImportError:", e)
        """, WEFT_BACKEND="cffi")
        self.assertEqual(rc, 0, err)
        self.assertIn("WEFT_BACKEND must be ctypes or swig", out)

    def test_without_weft_lib_the_loader_finds_the_library(self):
        libdir = os.path.dirname(os.environ["WEFT_LIB"])
        env = dict(os.environ)
        env.pop("WEFT_LIB")
        env["LD_LIBRARY_PATH"] = libdir
        code = ("import weft, weft.threading as t; "
                "l = t.Lock(); print(weft.backend, l.acquire())")
        import subprocess
        import sys
        p = subprocess.run([sys.executable, "-c", code], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True, timeout=60)
        self.assertEqual((p.returncode, p.stdout),
                         (0, "%s True\n" % weft.backend), p.stderr)


if __name__ == "__main__":
    unittest.main()
