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

- loopback TCP through weft.socket on each backend against the stdlib's
  socket module (the baseline), both talking to the same stdlib peer in a
  process of its own: a ping-pong of small messages (round trips per
  second) and bulk transfers each way (MB/s, sendall of 64 KiB chunks and
  recv(65536)).

Each backend runs in a child interpreter (WEFT_BACKEND picks it at
import); figures are the best of several runs, in ns per operation
(throughputs for the sockets).  Never pass/fail: numbers only.
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
PINGPONG_N = 20000       # round trips per run
PINGPONG_MSG = 64        # bytes per message
BULK_BYTES = 64 << 20    # per run and direction
BULK_CHUNK = 64 << 10


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


# ---------------------------------------------------------------------------
# Loopback TCP: a stdlib peer in a process of its own, and the client loops
# that run over the stdlib's socket module and over weft.socket alike.
# ---------------------------------------------------------------------------


def peer():
    """The peer process: print the port, then serve connections one at a
    time.  The first byte says what for: e (echo), s (sink: read to the
    end, then answer one byte) or g (generate BULK_BYTES, then close)."""
    import socket
    pin_cpu()
    srv = socket.create_server(("127.0.0.1", 0))
    print(srv.getsockname()[1], flush=True)
    chunk = b"g" * BULK_CHUNK
    while True:
        conn, _ = srv.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        mode = conn.recv(1)
        if mode == b"q":
            return
        if mode == b"e":
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                conn.sendall(data)
        elif mode == b"s":
            while conn.recv(1 << 20):
                pass
            conn.sendall(b"k")
        elif mode == b"g":
            for _ in range(BULK_BYTES // BULK_CHUNK):
                conn.sendall(chunk)
        conn.close()


def pin_cpu():
    """Run on one CPU, the same for the peer and every client: each round
    trip then costs the same context switches for every contender,
    instead of whatever wake-up latency the scheduler's placement gives
    (which varies by far more than the differences measured)."""
    try:
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    except (AttributeError, OSError):
        pass


def net_bench(socket, port):
    """The socket figures for module `socket` (the stdlib's or
    weft.socket): round trips/s and MB/s, best of RUNS."""
    pin_cpu()
    def connect(mode):
        c = socket.create_connection(("127.0.0.1", port))
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c.sendall(mode)
        return c

    def pingpong():
        c = connect(b"e")
        msg = b"p" * PINGPONG_MSG
        send, recv = c.sendall, c.recv
        t0 = time.perf_counter()
        for _ in range(PINGPONG_N):
            send(msg)
            n = 0
            while n < PINGPONG_MSG:
                n += len(recv(4096))
        dt = time.perf_counter() - t0
        c.close()
        return PINGPONG_N / dt

    def bulk_send():
        c = connect(b"s")
        chunk = b"s" * BULK_CHUNK
        send = c.sendall
        t0 = time.perf_counter()
        for _ in range(BULK_BYTES // BULK_CHUNK):
            send(chunk)
        c.shutdown(socket.SHUT_WR)
        c.recv(1)
        dt = time.perf_counter() - t0
        c.close()
        return BULK_BYTES / dt / 1e6

    def bulk_recv():
        c = connect(b"g")
        recv = c.recv
        n = 0
        t0 = time.perf_counter()
        while True:
            data = recv(65536)
            if not data:
                break
            n += len(data)
        dt = time.perf_counter() - t0
        c.close()
        return n / dt / 1e6

    return {"ping-pong": max(pingpong() for _ in range(RUNS)),
            "bulk send": max(bulk_send() for _ in range(RUNS)),
            "bulk recv": max(bulk_recv() for _ in range(RUNS))}


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
    port = os.environ.get("WEFT_BENCH_PORT")
    if port:
        import weft.socket
        res["net"] = net_bench(weft.socket, int(port))
    return res


def run_child(backend, port):
    env = dict(os.environ, WEFT_BENCH_PORT=str(port))
    p = subprocess.run([sys.executable, __file__, "--child", backend],
                       stdout=subprocess.PIPE, universal_newlines=True,
                       env=env)
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
    if sys.argv[1:2] == ["--peer"]:
        peer()
        return
    os.environ["PYTHONPATH"] = os.pathsep.join(package_path())
    import socket
    import threading
    stdlib = best(lock_loop(threading.Lock()), LOCK_N)
    server = subprocess.Popen([sys.executable, __file__, "--peer"],
                              stdout=subprocess.PIPE,
                              universal_newlines=True)
    try:
        port = int(server.stdout.readline())
        net_stdlib = net_bench(socket, port)
        results = {b: run_child(b, port) for b in ("swig", "ctypes")}
        socket.create_connection(("127.0.0.1", port)).sendall(b"q")
    finally:
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
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
    print("  Loopback TCP, a stdlib peer in another process (more is "
          "better; x: of the stdlib's)")
    for key, what, unit, scale in (
            ("ping-pong", "ping-pong, %d-byte messages" % PINGPONG_MSG,
             "rt/s", 1),
            ("bulk send", "bulk send, sendall(%d KiB)" % (BULK_CHUNK >> 10),
             "MB/s", 1),
            ("bulk recv", "bulk receive, recv(65536)", "MB/s", 1)):
        print("    %s" % what)
        base = net_stdlib[key]
        print("      %-34s %8.0f %s  1.0x" % ("stdlib socket", base, unit))
        for b in ("swig", "ctypes"):
            net = results[b].get("net")
            if net is None:
                continue
            print("      %-34s %8.0f %s %5.2fx" % (
                "weft.socket (%s)" % b, net[key], unit, net[key] / base))


if __name__ == "__main__":
    main()
