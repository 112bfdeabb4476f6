-- Lifetimes: __gc and __close close owned handles, wraps own nothing, and
-- objects sent to a running thread outlive the creator's references.
require "busted.runner"({output = "TAP"})

local weft = require "weft"
local helper = require "helper"
local core = weft.core

local function is_open(h)
  return (pcall(core.handle_kind, h))
end

local function collect()
  collectgarbage()
  collectgarbage()
end

describe("an owned object", function()
  it("closes its handle when collected", function()
    local h = weft.Lock().handle
    collect()
    assert.is_false(is_open(h))
  end)

  it("closes its handle at the end of a <close> scope", function()
    local h
    do
      local ev <close> = weft.Event()
      h = ev.handle
      assert.is_true(is_open(h))
    end
    assert.is_false(is_open(h))
  end)

  it("closes on close(), once", function()
    local s = weft.Semaphore(1)
    local h = s.handle
    s:close()
    assert.is_false(is_open(h))
    s:close()
    collect() -- and its __gc does nothing more
  end)

  it("of every class closes", function()
    local handles = {}
    for _, make in ipairs{weft.Lock, weft.RLock, weft.Condition, weft.Semaphore,
                          weft.BoundedSemaphore, weft.Event,
                          function() return weft.Barrier(2) end,
                          function() return weft.Barrier(2, function() end) end,
                          function() return weft.Thread("") end,
                          function() return weft.Timer(1, "") end} do
      handles[#handles + 1] = make().handle
    end
    collect()
    for _, h in ipairs(handles) do
      assert.is_false(is_open(h))
    end
  end)
end)

describe("a wrap", function()
  it("does not close a handle it does not own", function()
    local h = core.lock_new()
    do
      local w <close> = weft.wrap(h)
      w:acquire()
    end
    collect()
    assert.is_true(is_open(h))
    assert.is_true(core.lock_locked(h))
    core.close(h)
  end)

  it("of the current thread is borrowed", function()
    local main = weft.main_thread()
    local h = main.handle
    main:close()
    collect()
    assert.is_true(is_open(h))
    assert.are.equal("MainThread", weft.main_thread().name)
  end)

  it("owned=true closes", function()
    local h = core.event_new()
    weft.wrap(h, true):close()
    assert.is_false(is_open(h))
  end)
end)

describe("objects sent to a thread", function()
  it("stay open while it runs, though the creator dropped them", function()
    local go = weft.Event()
    local handles
    do
      local lock, sem = weft.Lock(), weft.Semaphore(0)
      handles = {lock.handle, sem.handle}
      local t = weft.Thread(function(go, lock, sem)
        assert(go:wait(60))
        lock:with(function() sem:release() end)
      end, go, lock, sem)
      t:start()
    end -- the thread object, lock and sem are unreachable here
    collect()
    assert.is_true(is_open(handles[1]))
    assert.is_true(is_open(handles[2]))
    go:set()
    -- the thread object stays registered (with its arguments) until a
    -- later start finds it finished
    assert.is_true(helper.eventually(function()
      return core.semaphore_get_value(handles[2]) == 1
    end))
  end)

  it("arrive as non-owning objects", function()
    local ev = weft.Event()
    local t = weft.Thread(function(ev)
      ev:close() -- closes nothing: the sender owns it
      collectgarbage()
    end, ev)
    t:start()
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
    ev:set()
    assert.is_true(ev:is_set())
  end)
end)

describe("a thread object", function()
  it("never started is collected with its target", function()
    local h = weft.Thread(function() end, {1, 2, 3}).handle
    collect()
    assert.is_false(is_open(h))
  end)

  it("survives many started and dropped threads", function()
    local sem = weft.Semaphore(0)
    for _ = 1, 100 do
      weft.Thread(function(s) s:release() end, sem):start()
    end
    collect()
    assert.is_true(helper.eventually(function() return sem:value() == 100 end))
  end)

  it("of a timer cancelled and dropped frees its target", function()
    for _ = 1, 20 do
      local t = weft.Timer(60, function() end, {"payload"})
      t:start()
      t:cancel()
      t:join()
    end
    collect()
  end)
end)

describe("a barrier's action", function()
  it("is freed with its barrier", function()
    local b = weft.Barrier(1, function() end)
    local h = b.handle
    b = nil
    collect()
    assert.is_false(is_open(h))
  end)

  it("stays referenced while the barrier lives", function()
    local ran = 0
    local b = weft.Barrier(1, function() ran = ran + 1 end)
    collect()
    b:wait()
    assert.are.equal(1, ran)
  end)
end)
