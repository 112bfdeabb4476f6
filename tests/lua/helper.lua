-- helper.lua - what the Lua tests share.  Tests synchronise on state
-- (events, semaphore values, joins), never on timing.
local weft = require "weft"

local helper = {}

-- The error value f(...) raises; fails the test if it returns.
function helper.error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error, got a return")
  return err
end

-- The weft error f(...) raises, checked to be a weft error named `name`.
function helper.weft_error(name, f, ...)
  local err = helper.error_of(f, ...)
  assert(getmetatable(err) == weft.Error,
         "expected a weft error " .. name .. ", got: " .. tostring(err))
  assert(err.name == name, "expected " .. name .. ", got: " .. tostring(err))
  return err
end

-- Poll f() until it is true (at most `limit` seconds, generous: a safety
-- net against hangs, not a timing assertion).
function helper.eventually(f, limit)
  local deadline = weft.monotonic() + (limit or 60)
  while not f() do
    if weft.monotonic() > deadline then
      return false
    end
    weft.sleep(0.001)
  end
  return true
end

return helper
