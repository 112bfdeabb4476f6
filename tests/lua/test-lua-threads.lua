-- Real threads: each target runs in a fresh Lua state on a weft thread and
-- talks to the others through handles.
require "busted.runner"({output = "TAP"})

local weft = require "weft"
local helper = require "helper"

-- Count under a lock, checking that nobody else counts in between: the
-- counter is a semaphore's value, `bad` counts the violations.
local function bump(lock, counter, bad, n)
  for _ = 1, n do
    lock:acquire()
    local v = counter:value()
    require("weft").sleep(0)
    if counter:value() ~= v then
      bad:release()
    end
    counter:release()
    lock:release()
  end
end

describe("a Lua thread", function()
  it("waits on an Event the main state sets; both count under a Lock", function()
    local ev, lock = weft.Event(), weft.Lock()
    local counter, bad, started = weft.Semaphore(0), weft.Semaphore(0), weft.Event()
    local t = weft.Thread{
      target = function(ev, lock, counter, bad, started, n)
        local weft = require "weft"
        started:set()
        assert(ev:wait(60), "the event was never set")
        -- the function above is not an upvalue here: send it as source
        load(n.bump)(lock, counter, bad, n.count)
      end,
      args = {ev, lock, counter, bad, started,
              {bump = string.dump(bump), count = 200}},
    }
    t:start()
    assert.is_true(started:wait(60))
    assert.is_true(t:is_alive())
    assert.are.equal(0, counter:value()) -- it waits for the event
    ev:set()
    bump(lock, counter, bad, 200)
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
    assert.are.equal(400, counter:value())
    assert.are.equal(0, bad:value())
  end)

  it("several threads and the main state count together", function()
    local lock, counter, bad = weft.Lock(), weft.Semaphore(0), weft.Semaphore(0)
    local threads = {}
    for i = 1, 4 do
      threads[i] = weft.Thread(bump, lock, counter, bad, 100)
    end
    -- bump's upvalues (none but _ENV) and require inside: it runs as is
    for _, t in ipairs(threads) do t:start() end
    bump(lock, counter, bad, 100)
    for _, t in ipairs(threads) do
      assert.is_true(t:join(60))
      assert.are.equal(0, t.result)
    end
    assert.are.equal(500, counter:value())
    assert.are.equal(0, bad:value())
  end)

  it("gets its arguments exactly", function()
    local args = {
      math.maxinteger, math.mininteger, (1 << 62) + 1, 0.1, -0.0, 1 / 0,
      "a\0b\255", true, false, nil, {1, {x = "y", [2.5] = -7}, [true] = "t"},
      0 / 0, n = 12,
    }
    local t = weft.Thread{
      target = function(...)
        local n = select("#", ...)
        local a = {...}
        assert(n == 12, "count " .. n)
        assert(a[1] == math.maxinteger and math.type(a[1]) == "integer")
        assert(a[2] == math.mininteger)
        assert(a[3] == (1 << 62) + 1 and math.type(a[3]) == "integer")
        assert(a[4] == 0.1 and math.type(a[4]) == "float")
        assert(a[5] == 0 and 1 / a[5] < 0, "negative zero")
        assert(a[6] == 1 / 0)
        assert(a[7] == "a\0b\255")
        assert(a[8] == true and a[9] == false and a[10] == nil)
        assert(a[11][1] == 1 and a[11][2].x == "y" and a[11][2][2.5] == -7)
        assert(a[11][true] == "t")
        assert(a[12] ~= a[12], "NaN")
      end,
      args = args,
    }
    t:start()
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
  end)

  it("runs Lua source with its arguments as ...", function()
    local ev = weft.Event()
    local t = weft.Thread{target = "local ev, x = ...; assert(x == 42); ev:set()",
                          args = {ev, 42}}
    t:start()
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
    assert.is_true(ev:is_set())
  end)

  it("runs a string.dump given as its target", function()
    local sem = weft.Semaphore(0)
    local t = weft.Thread(string.dump(function(s, n) s:release(n) end), sem, 3)
    t:start()
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
    assert.are.equal(3, sem:value())
  end)

  it("does not get upvalues other than _ENV", function()
    local captured = 7
    local ev = weft.Event()
    local t = weft.Thread(function(ev)
      assert(captured == nil, "upvalue travelled")
      assert(string.format("%d", 1) == "1", "no globals")
      ev:set()
    end, ev)
    assert.are.equal(7, captured)
    t:start()
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
    assert.is_true(ev:is_set())
  end)

  it("uses handles given as integers through weft.wrap", function()
    local h = weft.core.semaphore_new(0)
    local t = weft.Thread(function(h)
      local sem = require("weft").wrap(h)
      sem:release(5)
      sem:close() -- not owned: stays open
    end, h)
    t:start()
    assert.is_true(t:join(60))
    assert.are.equal(5, weft.core.semaphore_get_value(h))
    weft.core.close(h)
  end)

  it("reports its ident exactly (int64 through a semaphore)", function()
    local sem = weft.Semaphore(0)
    local t = weft.Thread(function(sem)
      local weft = require "weft"
      sem:release(weft.get_ident())
      assert(weft.current_thread().ident == weft.get_ident())
    end, sem)
    t:start()
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
    assert.are.equal("integer", math.type(t.ident))
    assert.are.equal(t.ident, sem:value())
    assert.are_not.equal(weft.get_ident(), t.ident)
  end)

  it("uses handles above 2^32 exactly", function()
    -- a slot reused gets the next generation (bits 30 and up)
    local lock = weft.Lock()
    for _ = 1, 1000 do
      if lock.handle >= (1 << 33) then
        break
      end
      lock:close()
      lock = weft.Lock()
    end
    assert.is_true(lock.handle >= (1 << 33))
    assert.are.equal("integer", math.type(lock.handle))
    local t = weft.Thread(function(h) assert(require("weft").wrap(h):acquire()) end,
                          lock.handle)
    t:start()
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
    assert.is_true(lock:locked())
    assert.are.equal(lock.handle, weft.wrap(lock.handle).handle)
  end)

  it("has a name, a daemon flag and a native id", function()
    local named = weft.Event()
    local t = weft.Thread{target = function(ev)
      local weft = require "weft"
      assert(weft.current_thread().name == "worker")
      assert(weft.current_thread().daemon == true)
      ev:set()
    end, args = {named}, name = "worker", daemon = true}
    assert.are.equal("worker", t.name)
    assert.is_true(t.daemon)
    assert.is_nil(t.ident)
    assert.is_nil(t.native_id)
    t.daemon = false
    t.daemon = true
    t:start()
    assert.is_true(t:join(60))
    assert.is_true(named:is_set())
    assert.are.equal(0, t.result)
    t.name = "renamed"
    assert.are.equal("renamed", t.name)
    helper.weft_error("WEFT_ESTATE", function() t.daemon = false end)
    t.note = "user data" -- other fields are the user's
    assert.are.equal("user data", t.note)
  end)

  it("join with a timeout returns false while it runs", function()
    local ev = weft.Event()
    local t = weft.Thread(function(ev) ev:wait() end, ev)
    t:start()
    assert.is_false(t:join(0.01))
    assert.is_false(t:join(0))
    assert.is_true(t:is_alive())
    ev:set()
    assert.is_true(t:join())
    assert.is_false(t:is_alive())
  end)

  it("that raises has result 1", function()
    local t = weft.Thread{target = function() error("expected failure (test)") end,
                          name = "failing"}
    t:start()
    assert.is_true(t:join(60))
    assert.are.equal(1, t.result)
  end)

  it("ends early with weft.exit(result)", function()
    local t = weft.Thread(function()
      require("weft").exit(7)
      error("not reached")
    end)
    t:start()
    assert.is_true(t:join(60))
    assert.are.equal(7, t.result)
  end)

  it("starts threads of its own", function()
    local sem = weft.Semaphore(0)
    local t = weft.Thread(function(sem)
      local weft = require "weft"
      local inner = weft.Thread(function(sem) sem:release(10) end, sem)
      inner:start()
      assert(inner:join(60))
      sem:release(1)
    end, sem)
    t:start()
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
    assert.are.equal(11, sem:value())
  end)

  it("can be started by whoever holds its handle", function()
    local sem = weft.Semaphore(0)
    local t = weft.Thread(function(s) s:release(2) end, sem)
    -- another Lua state starts it, through a wrap of the handle
    local starter = weft.Thread(function(t) t:start(); assert(t:join(60)) end, t)
    starter:start()
    assert.is_true(starter:join(60))
    assert.are.equal(0, starter.result)
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
    assert.are.equal(2, sem:value())
    -- and the raw module starts one too
    local t2 = weft.Thread(function(s) s:release(3) end, sem)
    weft.core.thread_start(t2.handle)
    assert.is_true(t2:join(60))
    assert.are.equal(5, sem:value())
  end)

  it("started then closed at once still runs", function()
    local sem = weft.Semaphore(0)
    for _ = 1, 20 do
      local t = weft.Thread(function(s) s:release() end, sem)
      t:start()
      t:close()
    end
    collectgarbage()
    assert.is_true(helper.eventually(function() return sem:value() == 20 end))
  end)

  it("is listed by enumerate while alive", function()
    local ev = weft.Event()
    local t = weft.Thread(function(ev) ev:wait() end, ev)
    t:start()
    local found = false
    for _, th in ipairs(weft.enumerate()) do
      if th == t then
        found = true
        assert.is_true(rawequal(th, t)) -- this state's own object
      end
    end
    assert.is_true(found)
    ev:set()
    t:join()
  end)
end)

describe("a Timer", function()
  it("runs its target in a fresh state after the interval", function()
    local ev = weft.Event()
    local t = weft.Timer(0.01, function(ev, v) assert(v == "x"); ev:set() end, ev, "x")
    t:start()
    assert.is_true(ev:wait(60))
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
  end)

  it("accepts the table form", function()
    local ev = weft.Event()
    local t = weft.Timer{interval = 0, target = "(...):set()", args = {ev}, name = "tick"}
    assert.are.equal("tick", t.name)
    t:start()
    assert.is_true(ev:wait(60))
    assert.is_true(t:join(60))
  end)
end)

describe("start_new_thread", function()
  it("runs a target without an object and returns its ident", function()
    local sem = weft.Semaphore(0)
    local ident = weft.start_new_thread(function(sem)
      sem:release(require("weft").get_ident())
    end, sem)
    assert.are.equal("integer", math.type(ident))
    assert.is_true(helper.eventually(function() return sem:value() ~= 0 end))
    assert.are.equal(ident, sem:value())
  end)
end)
