-- bench.lua - per-call cost of a trivial weft call from Lua (make
-- bench-lua): lock:acquire() + lock:release() through weft.lua and through
-- weft.core directly, against the same two calls to an empty C function
-- (bench_empty.c).  One run; figures are ratios to the baseline measured
-- here, never pass/fail.
local weft = require "weft"
local empty = require "bench.empty"

local N = tonumber(os.getenv("WEFT_BENCH_LUA_N")) or 2000000
local now = weft.monotonic

local function ns_per_op(loop)
  loop(N // 10) -- warm up
  local t0 = now()
  loop(N)
  return (now() - t0) * 1e9 / N
end

local lock = weft.Lock()
local h = lock.handle
local noop = empty.noop
local acquire, release = weft.core.lock_acquire, weft.core.lock_release

local function run(label)
  local base = ns_per_op(function(n)
    for _ = 1, n do
      noop(h, -1)
      noop(h)
    end
  end)
  local core = ns_per_op(function(n)
    for _ = 1, n do
      acquire(h, -1)
      release(h)
    end
  end)
  local idiom = ns_per_op(function(n)
    for _ = 1, n do
      lock:acquire()
      lock:release()
    end
  end)
  local with = ns_per_op(function(n)
    local f = function() end
    for _ = 1, n do
      lock:with(f)
    end
  end)
  print(("lua: Lock acquire+release, %s (%d ops)"):format(label, N))
  print(("  empty C function x2      %7.1f ns/op  (baseline)"):format(base))
  print(("  weft.core (SWIG)         %7.1f ns/op  %5.2fx"):format(core, core / base))
  print(("  weft.lua lock:acquire()  %7.1f ns/op  %5.2fx"):format(idiom, idiom / base))
  print(("  weft.lua lock:with(f)    %7.1f ns/op  %5.2fx"):format(with, with / base))
end

run("single-threaded process")
-- weft's Lock takes a slower (atomic) path once a second thread exists.
local stop = weft.Event()
local t = weft.Thread(function(stop) stop:wait() end, stop)
t:start()
run("with a second thread alive")
stop:set()
t:join()
