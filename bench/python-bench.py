"""python-bench.py - what a weft call costs from Python (make bench).

Each figure is printed beside its baseline, measured in the same run:

- Lock acquire+release: the stdlib's threading.Lock (the baseline) against
  weft.threading.Lock and the raw weft.lib calls, on each backend;
- a callback into Python: from a Python thread (a barrier action of a
  1-party barrier, minus the same barrier without one), and from a thread
  whose Python code has returned (local destructors run by weft as the
  thread exits, minus its exit with no destructors), where ctypes makes
  and destroys a PyThreadState per call and the SWIG module keeps one per
  thread.

Each backend runs in a child interpreter (WEFT_BACKEND picks it at
import); figures are the best of several runs, in ns per operation.
Never pass/fail: numbers only.
"""

import json
import os
import subprocess
import sys
import time

RUNS = 5
LOCK_N = 200000
CALLBACK_N = 20000
TIMER_N = 2000


def best(fn, n, runs=RUNS):
    """The fastest of `runs` runs of fn(n), in ns per operation."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter_ns()
        fn(n)
        out.append((time.perf_counter_ns() - t0) / n)
    return min(out)


def lock_loop(lock):
    acquire, release = lock.acquire, lock.release

    def run(n):
        for _ in range(n):
            acquire()
            release()
    return run


def child(backend):
    os.environ["WEFT_BACKEND"] = backend
    try:
        import weft
        import weft.threading as threading
    except ImportError as e:
        return {"unavailable": str(e)}
    lib = weft.lib
    res = {"lock": best(lock_loop(threading.Lock()), LOCK_N)}

    h = lib.lock_new()
    acquire, release = lib.lock_acquire, lib.lock_release

    def raw(n):
        for _ in range(n):
            acquire(h, -1.0)
            release(h)
    res["raw lock"] = best(raw, LOCK_N)

    b = lib.barrier_new(1, lambda: 0, -1.0)
    wait = lib.barrier_wait_default

    def action(n):
        for _ in range(n):
            wait(b)
    plain = lib.barrier_new(1, None, -1.0)

    def no_action(n):
        for _ in range(n):
            wait(plain)
    res["callback, Python thread"] = (best(action, CALLBACK_N)
                                      - best(no_action, CALLBACK_N))

    # Local destructors at a thread's exit: the thread's Python target has
    # returned, and weft runs one destructor per local, back to back, on
    # that thread (no other thread wants the GIL: this one waits in join).
    # The exit with Python destructors, minus the exit with none, over
    # their number is the cost of entering Python there once.
    def thread_exit(dtor, n):
        locs = [lib.local_new(dtor) for _ in range(n)]
        end = []

        def target():
            for loc in locs:
                lib.local_set(loc, 1)
            end.append(time.perf_counter_ns())
        t = lib.thread_new(target, None)
        lib.thread_start(t)
        lib.thread_join(t, -1.0)
        ns = time.perf_counter_ns() - end[0]
        lib.close(t)
        for loc in locs:
            lib.close(loc)
            if dtor is not None:
                lib.forget(dtor)  # one registration per local
        return ns

    def dtor(value):
        pass
    runs = [(thread_exit(dtor, TIMER_N), thread_exit(None, TIMER_N))
            for _ in range(RUNS)]
    res["callback, foreign thread"] = min(a - b for a, b in runs) / TIMER_N
    return res


def run_child(backend):
    p = subprocess.run([sys.executable, __file__, "--child", backend],
                       stdout=subprocess.PIPE, universal_newlines=True)
    if p.returncode != 0:
        return {"unavailable": "the child failed (%d)" % p.returncode}
    return json.loads(p.stdout)


def package_path():
    here = os.path.dirname(os.path.abspath(__file__))
    srcdir = os.environ.get("top_srcdir") or os.path.dirname(here)
    builddir = os.environ.get("top_builddir") or os.getcwd()
    return [os.path.join(srcdir, "bindings", "python"),
            os.path.join(builddir, "bindings", "python")]


def main():
    sys.dont_write_bytecode = True  # no __pycache__ in the source tree
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    sys.path[:0] = package_path()
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(child(sys.argv[2])))
        return
    os.environ["PYTHONPATH"] = os.pathsep.join(package_path())
    import threading
    stdlib = best(lock_loop(threading.Lock()), LOCK_N)
    results = {b: run_child(b) for b in ("swig", "ctypes")}
    sanitizer = os.environ.get("SANITIZER")
    print("python bench (%s, %s; ns/op, best of %d)%s"
          % (sys.implementation.name, sys.version.split()[0], RUNS,
             " -- %s build, not representative" % sanitizer
             if sanitizer else ""))
    print("  Lock acquire+release")
    print("    %-36s %8.0f ns  1.0x" % ("stdlib threading.Lock", stdlib))
    for b in ("swig", "ctypes"):
        r = results[b]
        if "unavailable" in r:
            print("    %-36s unavailable: %s" % (b, r["unavailable"]))
            continue
        for key, label in (("lock", "weft.threading.Lock (%s)"),
                           ("raw lock", "weft.lib raw calls (%s)")):
            print("    %-36s %8.0f ns %5.1fx" % (label % b, r[key],
                                                 r[key] / stdlib))
    for key, what in (("callback, Python thread",
                       "a barrier action, above the wait without one"),
                      ("callback, foreign thread",
                       "a local's destructor as a weft thread exits")):
        print("  Callback into Python from a %s (%s)" % (key[10:], what))
        base = results["swig"].get(key)
        for b in ("swig", "ctypes"):
            r = results[b]
            if key in r:
                print("    %-36s %8.0f ns %5.1fx" % (
                    b, r[key], r[key] / base if base else float("nan")))
        if base and key in results["ctypes"]:
            print("    %-36s %8.0f ns" % ("ctypes - swig, per callback",
                                          results["ctypes"][key] - base))


if __name__ == "__main__":
    main()
