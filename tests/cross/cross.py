# cross.py - the Python half of tests/cross/cross-host.c.
import ctypes
import os

import weft.threading as wt

counter = ctypes.CDLL(os.environ["CROSS_COUNTER"])
counter.counter_add.restype = ctypes.c_long
counter.counter_get.restype = ctypes.c_long

N = 2000
event = wt.Event()
lock = wt.Lock()


def work():
    for _ in range(N):
        with lock:
            counter.counter_add()


def go(lua_thread):
    """Set the Event the Lua thread waits on, then race it for the Lock
    from a Python weft thread.  Returns the counter as it was before the
    Event was set (the Lua thread must not have touched it)."""
    lua = wt.Thread(handle=lua_thread)  # borrowed: the Lua side owns it
    assert lua.is_alive(), "the Lua thread should be waiting"
    before = counter.counter_get()
    worker = wt.Thread(target=work, name="py-worker")
    worker.start()
    event.set()
    worker.join()
    return before


def count():
    return counter.counter_get()
