-- bench_ffi.lua - per-call cost of weft.ffi (make bench-lua): an empty C
-- function, int bench_empty_noop(void *), called through weft.ffi (the
-- engine's fast path, its libffi path, a blocking = true call), against
-- the same empty function called as a Lua C function (bench_empty.c's
-- noop), plus a callback's round trip (Lua -> C -> Lua), and struct
-- field reads (an int in place, a bitfield through
-- weft_ffi_struct_get_int) against a Lua table field.  One run;
-- figures are ratios to the baseline measured here, never pass/fail.
local weft = require "weft"
local ffi = weft.ffi
local empty = require "bench.empty"

local N = tonumber(os.getenv("WEFT_BENCH_LUA_N")) or 2000000
local now = weft.monotonic

local function ns_per_op(loop, n)
  n = n or N
  loop(n // 10) -- warm up
  local t0 = now()
  loop(n)
  return (now() - t0) * 1e9 / n
end

-- The module's own file, opened again as a C library (the same mapping).
local path = assert(package.searchpath("bench.empty", package.cpath))
local lib = ffi.load(path)
local fast = lib:func("bench_empty_noop", "int", {"void*"})
local slow = lib:func("bench_empty_noop", "int", {"void*"}, {libffi = true})
local blocking = lib:func("bench_empty_noop", "int", {"void*"},
                          {blocking = true})
local noop = empty.noop

local function per_call(f)
  return function(n)
    for _ = 1, n do f(nil) end
  end
end
local cb = ffi.callback("int", {"int"}, function(x) return x end)
local S = ffi.struct{{"x", "int"}, {"flags", "unsigned int", 3}}
local s, t = S{x = 1, flags = 5}, {x = 1, flags = 5}
local sink = 0
local loops = {
  base = per_call(noop), fast = per_call(fast), slow = per_call(slow),
  blocking = per_call(blocking),
  cb = function(n) for i = 1, n do cb(i) end end,
  table = function(n) for _ = 1, n do sink = sink + t.flags end end,
  field = function(n) for _ = 1, n do sink = sink + s.flags end end,
  plain = function(n) for _ = 1, n do sink = sink + s.x end end,
}
-- The machine is shared: the best of several interleaved rounds.
local best = {}
for _ = 1, 5 do
  for _, k in ipairs{"base", "fast", "slow", "blocking", "cb", "table",
                     "field", "plain"} do
    local t = ns_per_op(loops[k], k == "cb" and N // 4 or N // 2)
    best[k] = math.min(best[k] or math.huge, t)
  end
end
local base, t_fast, t_slow, t_blocking, t_cb =
  best.base, best.fast, best.slow, best.blocking, best.cb

print(("lua: weft.ffi call of an empty C function (best of 5 rounds of %d calls)")
      :format(N // 2))
print(("  Lua C function noop(nil)      %7.1f ns/call  (baseline)"):format(base))
print(("  weft.ffi, fast path           %7.1f ns/call  %5.2fx"):format(t_fast, t_fast / base))
print(("  weft.ffi, libffi path         %7.1f ns/call  %5.2fx"):format(t_slow, t_slow / base))
print(("  weft.ffi, blocking = true     %7.1f ns/call  %5.2fx"):format(t_blocking, t_blocking / base))
print(("  callback round trip (C->Lua)  %7.1f ns/call  %5.2fx"):format(t_cb, t_cb / base))
print("lua: reading a field of a weft.ffi struct")
print(("  Lua table field               %7.1f ns/read  (baseline)"):format(best.table))
print(("  int field s.x (in place)      %7.1f ns/read  %5.2fx"):format(best.plain,
      best.plain / best.table))
print(("  bitfield s.flags (the engine) %7.1f ns/read  %5.2fx"):format(best.field,
      best.field / best.table))
