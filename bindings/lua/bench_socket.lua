-- bench_socket.lua - round-trip time of a TCP ping-pong on 127.0.0.1 from
-- Lua (make bench-lua, after bench.lua): 64-byte messages between a Lua
-- client and a C echo thread, through weft.core and through weft.socket,
-- then with weft.socket at both ends (the echo in a weft.Thread), against
-- the same ping-pong in C with raw system calls at both ends
-- (bench_empty.c).  Each figure is the best of 3 runs (round trips are
-- at the scheduler's mercy on a busy machine); they are ratios to the
-- baseline, never pass/fail.
local weft = require "weft"
local empty = require "bench.empty"

local N = tonumber(os.getenv("WEFT_BENCH_LUA_SOCKET_N")) or 10000
local SIZE = 64
local msg = string.rep("x", SIZE)
local now = weft.monotonic
local S = weft.socket

local function us_per_rt(seconds, n) return seconds * 1e6 / n end

local function best(f, ...)
  local b = math.huge
  for _ = 1, 3 do
    b = math.min(b, f(...))
  end
  return b
end

-- Warm up (the machine, not just the code: the first round trips of a
-- process are often several times slower) for half a second.
local warm = now() + 0.5
while now() < warm do
  empty.pingpong(1000, SIZE)
end
local base = best(function() return us_per_rt(empty.pingpong(N, SIZE), N) end)

-- loop(c, n) against a peer that `start(port)` connects to srv.
local function measure(start, loop)
  local srv <close> = S.bind("127.0.0.1", 0)
  local _, port = srv:getsockname()
  local peer = start(srv, port)
  local c <close> = assert(srv:accept())
  c:setoption("tcp-nodelay", true)
  loop(c, N // 10) -- warm up
  local t0 = now()
  loop(c, N)
  local dt = now() - t0
  c:close()
  if peer then
    assert(peer:join(60))
  end
  return us_per_rt(dt, N)
end

local function c_echo(_, port)
  empty.echo_connect(port)
end

-- The echo in a weft.Thread: a weft socket in its own Lua state.
local function lua_echo(_, port)
  local t = weft.Thread([[
    local S = require("weft").socket
    local c <close> = S.connect("127.0.0.1", ...)
    c:setoption("tcp-nodelay", true)
    while true do
      local data = c:recv(65536)
      if not data then break end
      c:sendall(data)
    end
  ]], port)
  t:start()
  return t
end

local sendall, recv = weft.core.socket_sendall, weft.core.socket_recv
local function core_loop(c, n)
  local h = c.handle
  for _ = 1, n do
    sendall(h, msg, 0)
    local got = #recv(h, 0, SIZE)
    while got < SIZE do
      got = got + #recv(h, 0, SIZE - got)
    end
  end
end

local function socket_loop(c, n)
  for _ = 1, n do
    c:send(msg)
    c:receive(SIZE)
  end
end

local function recv_loop(c, n)
  for _ = 1, n do
    c:sendall(msg)
    local got = #c:recv(SIZE)
    while got < SIZE do
      got = got + #c:recv(SIZE - got)
    end
  end
end

local core_rt = best(measure, c_echo, core_loop)
local recv_rt = best(measure, c_echo, recv_loop)
local socket_rt = best(measure, c_echo, socket_loop)
local both_rt = best(measure, lua_echo, socket_loop)

print(("lua: TCP ping-pong on 127.0.0.1, %d-byte messages (%d round trips)")
      :format(SIZE, N))
print(("  C, raw system calls at both ends   %7.2f us/rt  (baseline)"):format(base))
print(("  weft.core sendall+recv, C echo     %7.2f us/rt  %5.2fx")
      :format(core_rt, core_rt / base))
print(("  weft.socket sendall+recv, C echo   %7.2f us/rt  %5.2fx")
      :format(recv_rt, recv_rt / base))
print(("  weft.socket send+receive, C echo   %7.2f us/rt  %5.2fx")
      :format(socket_rt, socket_rt / base))
print(("  weft.socket at both ends (Thread)  %7.2f us/rt  %5.2fx")
      :format(both_rt, both_rt / base))
