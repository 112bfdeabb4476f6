-- cross.lua - the Lua half of tests/cross/cross-host.c.
local weft = require "weft"

local thread

-- A Lua thread (a fresh lua_State on a weft thread) that waits on
-- Python's Event, then bumps the shared counter n times under Python's
-- Lock.  Both arrive as plain integer handles.
function start(event, lock, n)
  thread = weft.Thread(function(event, lock, n)
    local weft = require "weft"
    local counter = require "counter"
    local ev, lk = weft.wrap(event), weft.wrap(lock)
    assert(ev:wait(60), "the Event was never set")
    for _ = 1, n do
      lk:acquire()
      counter.add()
      lk:release()
    end
    return 0
  end, event, lock, n)
  thread:start()
  return thread.handle
end

-- Join it; its result (0: the target returned after its n increments;
-- an error in it gives 1).
function finish()
  assert(thread:join(60), "the Lua thread did not finish")
  return thread.result
end
