-- luajit-cdef.lua - "any FFI can call it", from LuaJIT: the preprocessed
-- abi/weft.h parses with ffi.cdef, and the version, a lock round trip, an
-- error with its message and a constant by name work through ffi.load.
-- Usage: luajit luajit-cdef.lua <preprocessed weft.h> <libweft.so>.  TAP.
local ffi = require("ffi")
local cdef_path, lib_path = arg[1], arg[2]
local WEFT_EBADHANDLE, WEFT_ESTATE = -10000, -10002

local n, failed = 0, 0
local function ok(cond, name, diag)
  n = n + 1
  io.write(string.format("%s %d - %s\n", cond and "ok" or "not ok", n, name))
  if not cond then
    failed = failed + 1
    if diag then
      for line in tostring(diag):gmatch("[^\n]+") do
        io.write("# ", line, "\n")
      end
    end
  end
  io.flush()
end
local function done()
  io.write(string.format("1..%d\n", n))
  os.exit(failed == 0 and 0 or 1)
end

local f = assert(io.open(cdef_path, "r"))
local text = f:read("*a")
f:close()
local parsed, err = pcall(ffi.cdef, text)
ok(parsed, "ffi.cdef parses the preprocessed abi/weft.h", err)
if not parsed then done() end
ok(ffi.sizeof("weft_handle") == 8 and ffi.sizeof("weft_status") == 4,
   "ffi sees weft_handle as 8 bytes and weft_status as 4")

local loaded, C = pcall(ffi.load, lib_path)
ok(loaded, "ffi.load(WEFT_LIB) loads the library", C)
if not loaded then done() end

-- One check; a missing symbol or an error fails it.
local function check(name, fn)
  local good, res, diag = pcall(fn)
  if not good then
    ok(false, name, res)
  else
    ok(res, name, diag)
  end
end

check("weft_version() and weft_version_number() agree", function()
  local v = ffi.string(C.weft_version())
  local num = C.weft_version_number()
  local a, b, c = v:match("^(%d+)%.(%d+)%.(%d+)$")
  local want = a and tonumber(a) * 10000 + tonumber(b) * 100 + tonumber(c)
  return a ~= nil and num == want,
    string.format("weft_version() %q, weft_version_number() %d", v, num)
end)

check("a lock round trip: new, acquire, locked, release, close", function()
  local h = ffi.new("weft_handle[1]")
  local locked = ffi.new("int[1]")
  local bad = {}
  local function step(what, got, want)
    if got ~= want then
      bad[#bad + 1] = string.format("%s: got %s, want %s", what,
                                    tostring(got), tostring(want))
    end
  end
  step("lock_new", C.weft_lock_new(h), 0)
  local hv = tonumber(h[0])
  step("handle in (0, 2^53)", hv > 0 and hv < 2 ^ 53, true)
  step("lock_acquire", C.weft_lock_acquire(h[0], 0), 0)
  step("lock_locked", C.weft_lock_locked(h[0], locked), 0)
  step("locked after acquire", locked[0], 1)
  step("lock_release", C.weft_lock_release(h[0]), 0)
  C.weft_lock_locked(h[0], locked)
  step("locked after release", locked[0], 0)
  step("close", C.weft_close(h[0]), 0)
  -- A handle that fits a Lua number works as well as the int64 cdata.
  step("lock_locked after close", C.weft_lock_locked(hv, locked),
       WEFT_EBADHANDLE)
  return #bad == 0, table.concat(bad, "\n")
end)

check("releasing an unlocked lock gives WEFT_ESTATE, its name and a message",
      function()
  local h = ffi.new("weft_handle[1]")
  assert(C.weft_lock_new(h) == 0, "lock_new failed")
  local st = C.weft_lock_release(h[0])
  local msg = ffi.string(C.weft_last_error_message())
  local name = ffi.string(C.weft_err_name(st))
  local code = C.weft_last_error_code()
  C.weft_close(h[0])
  return st == WEFT_ESTATE and code == st and name == "WEFT_ESTATE"
      and msg:sub(1, #"lock_release") == "lock_release",
    string.format("status %d (%s), last code %d, message %q", st, name,
                  code, msg)
end)

check("weft_constant_get reads WEFT_ESTATE by name", function()
  local v = ffi.new("int64_t[1]")
  local st = C.weft_constant_get("WEFT_ESTATE", v)
  return st == 0 and v[0] == WEFT_ESTATE,
    string.format("status %d value %s", st, tostring(v[0]))
end)
done()
