-- Error values and bad input: every mistake is a clean Lua error.
require "busted.runner"({output = "TAP"})

local weft = require "weft"
local helper = require "helper"
local core = weft.core
local C = weft.constants

describe("a weft error", function()
  it("carries the code, the name, the message and the caller's line", function()
    local lock = weft.Lock()
    local ok, err = pcall(lock.release, lock)
    assert.is_false(ok)
    assert.are.equal(weft.Error, getmetatable(err))
    assert.are.equal(C.WEFT_ESTATE, err.code)
    assert.are.equal("WEFT_ESTATE", err.name)
    assert.are.equal("lock_release: release of an unlocked lock", err.message)
    assert.are.equal(0, err.detail)
    assert.matches("test%-lua%-errors%.lua:%d+: $", err.where)
  end)

  it("prints as where, name and message", function()
    local ok, err = pcall(core.lock_release, weft.Lock().handle)
    assert.is_false(ok)
    assert.matches("^.*test%-lua%-errors%.lua:%d+: WEFT_ESTATE: lock_release: ",
                   tostring(err))
  end)

  it("names OS errors by errno", function()
    local err = helper.weft_error("ENOENT", core.constant_get, "NO_SUCH_NAME")
    assert.are.equal(-C.ENOENT, err.code)
  end)

  it("keeps the OS errno as a negative code", function()
    assert.are.equal("ETIMEDOUT", core.err_name(-C.ETIMEDOUT))
    assert.are.equal("WEFT_EBROKEN", core.err_name(C.WEFT_EBROKEN))
    assert.are.equal("UNKNOWN", core.err_name(-99999))
  end)

  it("is made by core.error for the binding's own checks", function()
    local err = core.error(C.WEFT_EVALUE, "bad")
    assert.are.equal(C.WEFT_EVALUE, err.code)
    assert.are.equal("bad", err.message)
  end)
end)

describe("closed and wrong handles", function()
  it("a closed handle gives WEFT_EBADHANDLE", function()
    local lock = weft.Lock()
    lock:close()
    helper.weft_error("WEFT_EBADHANDLE", lock.acquire, lock)
    helper.weft_error("WEFT_EBADHANDLE", core.lock_release, lock.handle)
  end)

  it("closing twice is harmless", function()
    local ev = weft.Event()
    ev:close()
    ev:close()
    assert.matches("%(closed%)", tostring(ev))
  end)

  it("a handle of another kind gives WEFT_EBADHANDLE", function()
    local lock = weft.Lock()
    helper.weft_error("WEFT_EBADHANDLE", core.event_set, lock.handle)
    helper.weft_error("WEFT_EBADHANDLE", core.thread_join, lock.handle, 0)
  end)

  it("a handle never issued gives WEFT_EBADHANDLE", function()
    helper.weft_error("WEFT_EBADHANDLE", core.lock_acquire, 12345, 0)
    helper.weft_error("WEFT_EBADHANDLE", weft.wrap, 1 << 40)
    helper.weft_error("WEFT_EBADHANDLE", core.close, 0)
  end)
end)

describe("wrong types", function()
  it("a string for a handle", function()
    local err = helper.error_of(core.lock_acquire, "lock", 0)
    assert.matches("lock_acquire", tostring(err))
  end)

  it("a float for an integer", function()
    local err = helper.error_of(core.lock_acquire, 1.5, 0)
    assert.matches("integer representation", tostring(err))
    helper.weft_error("WEFT_EVALUE", weft.wrap, 1.0)
    helper.weft_error("WEFT_EVALUE", weft.Semaphore, 1.5)
  end)

  it("integers out of the C type's range", function()
    local c = weft.Condition()
    c:acquire()
    local err = helper.error_of(core.condition_notify, c.handle, -1)
    assert.matches("out of range", tostring(err))
    c:release()
    err = helper.error_of(core.thread_set_daemon, weft.current_thread().handle,
                          1 << 40)
    assert.matches("out of range", tostring(err))
  end)

  it("too few arguments", function()
    local err = helper.error_of(core.lock_acquire, 1)
    assert.matches("expected 2..2 args", tostring(err))
  end)

  it("non-boolean blocking, non-number timeouts", function()
    local lock = weft.Lock()
    helper.weft_error("WEFT_EVALUE", lock.acquire, lock, 1)
    helper.weft_error("WEFT_EVALUE", lock.acquire, lock, true, "1")
    helper.weft_error("WEFT_EVALUE", weft.Event().wait, weft.Event(), {})
    helper.weft_error("WEFT_EVALUE", weft.sleep, nil)
    assert.is_false(lock:locked())
  end)

  it("a thread target that is neither a function nor source", function()
    local err = helper.error_of(weft.Thread, {target = 42})
    assert.matches("function or string", tostring(err))
    helper.weft_error("WEFT_EVALUE", weft.Thread, {target = print})
    helper.weft_error("WEFT_EVALUE", weft.Thread, {target = "x = = 1"})
    helper.weft_error("WEFT_EVALUE", weft.Thread, {target = "", args = 3})
  end)

  it("a wrapped handle must be an object or an integer", function()
    helper.weft_error("WEFT_EVALUE", weft.Condition, "lock")
  end)
end)

describe("negative timeouts", function()
  it("are refused where Python refuses them", function()
    local lock = weft.Lock()
    helper.weft_error("WEFT_EVALUE", lock.acquire, lock, true, -2)
    helper.weft_error("WEFT_EVALUE", lock.acquire, lock, false, 1)
    helper.weft_error("WEFT_EVALUE", weft.sleep, -1)
    helper.weft_error("WEFT_EVALUE", weft.Timer, -1, "")
    helper.weft_error("WEFT_EVALUE", weft.Semaphore().acquire,
                      weft.Semaphore(), false, 1)
    assert.is_false(lock:locked())
  end)

  it("NaN is refused", function()
    helper.weft_error("WEFT_EVALUE", weft.Event().wait, weft.Event(), 0 / 0)
    helper.weft_error("WEFT_EVALUE", weft.sleep, 0 / 0)
  end)

  it("poll where Python polls", function()
    local ev = weft.Event()
    assert.is_false(ev:wait(-5))
    assert.is_false(weft.Semaphore(0):acquire(true, -1))
    assert.is_true(weft.Lock():acquire(true, -1)) -- -1: forever
  end)
end)

describe("thread arguments that cannot travel", function()
  local before = weft.active_count()

  it("functions, coroutines and userdata", function()
    local err = helper.weft_error("WEFT_EVALUE", weft.Thread, "", print)
    assert.matches("argument 1: a function value", err.message)
    err = helper.weft_error("WEFT_EVALUE", weft.Thread, "", 1,
                            coroutine.create(print))
    assert.matches("argument 2: a thread value", err.message)
    err = helper.weft_error("WEFT_EVALUE", weft.Thread, "", {io.stdout})
    assert.matches("userdata", err.message)
  end)

  it("tables with metatables or cycles", function()
    local err = helper.weft_error("WEFT_EVALUE", weft.Thread, "",
                                  setmetatable({}, {}))
    assert.matches("metatable", err.message)
    local t = {}
    t.self = {t}
    err = helper.weft_error("WEFT_EVALUE", weft.Thread, "", t)
    assert.matches("contains itself", err.message)
  end)

  it("tables nested too deeply", function()
    local t = {}
    for _ = 1, 100 do
      t = {t}
    end
    helper.weft_error("WEFT_EVALUE", weft.Thread, "", t)
  end)

  it("start no thread", function()
    assert.are.equal(before, weft.active_count())
  end)
end)

describe("misuse", function()
  it("starting a thread twice", function()
    local t = weft.Thread("")
    t:start()
    helper.weft_error("WEFT_ESTATE", t.start, t)
    assert.is_true(t:join())
  end)

  it("joining the current thread", function()
    helper.weft_error("WEFT_ESTATE", weft.current_thread().join,
                      weft.current_thread())
  end)

  it("weft.exit outside a thread target", function()
    helper.weft_error("WEFT_ESTATE", weft.exit, 3)
  end)

  it("an unknown constant", function()
    local err = helper.error_of(weft.constant, "NO_SUCH_THING")
    assert.matches("NO_SUCH_THING", tostring(err))
  end)
end)
