-- Callbacks other than thread targets (a Barrier's action) run in the
-- state that made them, whichever thread triggers them.
require "busted.runner"({output = "TAP"})

local weft = require "weft"
local helper = require "helper"

-- A Lua thread that waits `cycles` times on barrier b.
local function waiter(b, cycles, arrived)
  return weft.Thread(function(b, cycles, arrived)
    for _ = 1, cycles do
      b:wait(60)
      if arrived then
        arrived:release()
      end
    end
  end, b, cycles, arrived)
end

describe("a barrier action", function()
  it("runs in this state when this state arrives last", function()
    local runs, seen = 0, nil
    local b = weft.Barrier(1, function()
      runs = runs + 1
      seen = weft.current_thread()
    end)
    assert.are.equal(0, b:wait())
    assert.are.equal(1, runs)
    assert.are.equal(weft.main_thread(), seen)
  end)

  it("runs in this state when this state waits in the barrier", function()
    -- Whichever thread is last, the action (a closure over `runs`) runs
    -- here, before anyone is released.
    local runs = 0
    local b = weft.Barrier(2, function() runs = runs + 1 end)
    local t = waiter(b, 50)
    t:start()
    for i = 1, 50 do
      b:wait(60)
      assert.are.equal(i, runs)
    end
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
  end)

  it("is queued to this state while it blocks elsewhere", function()
    -- Three threads meet at the barrier; this state only joins them: its
    -- join runs the action (the last thread interrupts it).
    local runs = 0
    local b = weft.Barrier(3, function() runs = runs + 1 end)
    local threads = {waiter(b, 5), waiter(b, 5), waiter(b, 5)}
    for _, t in ipairs(threads) do t:start() end
    for _, t in ipairs(threads) do
      assert.is_true(t:join(60))
      assert.are.equal(0, t.result)
    end
    assert.are.equal(5, runs)
  end)

  it("runs from weft.dispatch", function()
    local runs = 0
    local b = weft.Barrier(2, function() runs = runs + 1 end)
    local arrived = weft.Semaphore(0)
    local threads = {waiter(b, 1, arrived), waiter(b, 1, arrived)}
    for _, t in ipairs(threads) do t:start() end
    local ran = 0
    assert.is_true(helper.eventually(function()
      ran = ran + weft.dispatch(0.05)
      return ran >= 1
    end))
    assert.are.equal(1, ran)
    assert.are.equal(1, runs)
    for _, t in ipairs(threads) do assert.is_true(t:join(60)) end
    assert.are.equal(2, arrived:value())
  end)

  it("that raises breaks the barrier", function()
    local b = weft.Barrier(2, function() error("action failed (test)") end)
    local t = weft.Thread(function(b)
      local ok, err = pcall(b.wait, b, 60)
      assert(not ok and err.name == "WEFT_EBROKEN", tostring(err))
    end, b)
    t:start()
    helper.weft_error("WEFT_EBROKEN", b.wait, b, 60)
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
    assert.is_true(b:broken())
  end)

  it("of a closed barrier is not called", function()
    local runs = 0
    local b = weft.Barrier(1, function() runs = runs + 1 end)
    b:close()
    helper.weft_error("WEFT_EBADHANDLE", b.wait, b)
    assert.are.equal(0, runs)
  end)
end)

describe("weft.dispatch", function()
  it("returns 0 when nothing was queued", function()
    assert.are.equal(0, weft.dispatch(0))
    assert.are.equal(0, weft.dispatch(0.01))
  end)

  it("has a descriptor for event loops", function()
    local fd = weft.dispatcher_fd()
    assert.are.equal("integer", math.type(fd))
    assert.is_true(fd >= 0)
    assert.are.equal(fd, weft.dispatcher_fd())
  end)

  it("refuses a timeout that is not a number", function()
    helper.weft_error("WEFT_EVALUE", weft.dispatch, "1")
  end)
end)
