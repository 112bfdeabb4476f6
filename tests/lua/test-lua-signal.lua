-- weft.signal from Lua: handlers at the next instruction, inside blocking
-- weft calls (which resume), handlers that fail, the wakeup descriptor,
-- dispatch(), delivery, bad input.  Every test leaves every action as it
-- found it ("default") and every timer disarmed.
require "busted.runner"({output = "TAP"})

local weft = require "weft"
local helper = require "helper"
local signal = require "weft.signal"
local S = weft.socket

local SIGUSR1, SIGUSR2, SIGALRM = signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM

-- Signals the tests handle; each test ends with all of them "default".
local USED = {SIGUSR1, SIGUSR2, SIGALRM}

local function restore()
  signal.setitimer("ITIMER_REAL", 0)
  signal.set_delivery("waits")
  for _, s in ipairs(USED) do
    signal.signal(s, "default")
  end
end

-- A connected socket pair and a to-be-closed value that closes both (Lua
-- allows one <close> per local statement).
local function pair()
  local a, b = S.pair()
  return a, b, setmetatable({}, {__close = function()
    a:close()
    b:close()
  end})
end

-- Arm ITIMER_REAL for `seconds` (SIGALRM, once).
local function alarm_in(seconds)
  signal.setitimer("ITIMER_REAL", seconds)
end

-- Count instructions until flag() is true: a pure Lua loop (no weft
-- call), with a safety net against a handler that never runs.
local function spin_until(flag)
  local deadline = weft.monotonic() + 60
  local n = 0
  while not flag() do
    n = n + 1
    if n % 1000000 == 0 and weft.monotonic() > deadline then
      return false
    end
  end
  return true
end

describe("a Lua handler", function()
  after_each(restore)

  it("runs at the next Lua instruction after raise", function()
    local got
    assert.are.equal("default", signal.signal(SIGUSR1, function(s) got = s end))
    signal.raise(SIGUSR1)
    local seen = got -- the first instruction after raise returned
    assert.are.equal(SIGUSR1, seen)
  end)

  it("runs at the next Lua instruction after weft_signal_raise", function()
    local got
    signal.signal("SIGUSR2", function(s) got = s end)
    weft.core.signal_raise(SIGUSR2)
    local seen = got
    assert.are.equal(SIGUSR2, seen)
  end)

  it("interrupts a pure Lua loop (an itimer's SIGALRM)", function()
    local hit = false
    signal.signal(SIGALRM, function() hit = true end)
    alarm_in(0.01)
    assert.is_true(spin_until(function() return hit end))
  end)

  it("interrupts a pure Lua loop when another thread sends the signal",
     function()
    local hit = false
    signal.signal(SIGUSR1, function() hit = true end)
    local t = weft.Thread(function(main, signum)
      require("weft.signal").pthread_kill(main, signum)
    end, weft.main_thread(), SIGUSR1)
    t:start()
    assert.is_true(spin_until(function() return hit end))
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
  end)

  it("interrupts a pure Lua loop after another thread's interrupt_main",
     function()
    local hit = false
    signal.signal(SIGUSR1, function() hit = true end)
    local t = weft.Thread(function(signum)
      require("weft").core.thread_interrupt_main(signum)
    end, SIGUSR1)
    t:start()
    assert.is_true(spin_until(function() return hit end))
    assert.is_true(t:join(60))
  end)

  it("is what signal returns and getsignal gives", function()
    local function h() end
    local function h2() end
    assert.are.equal("default", signal.signal(SIGUSR1, h))
    assert.are.equal(h, signal.getsignal(SIGUSR1))
    assert.are.equal(h, signal.signal("SIGUSR1", h2))
    assert.are.equal(h2, signal.signal(SIGUSR1, "ignore"))
    assert.are.equal("ignore", signal.getsignal(SIGUSR1))
    assert.are.equal("ignore", signal.signal(SIGUSR1, signal.SIG_DFL))
    assert.are.equal(signal.SIG_DFL, signal.getsignal(SIGUSR1))
  end)

  it("may be a callable table", function()
    local calls = {}
    local obj = setmetatable({}, {__call = function(_, s) calls[#calls + 1] = s end})
    signal.signal(SIGUSR1, obj)
    signal.raise(SIGUSR1)
    assert.are.same({SIGUSR1}, calls)
  end)

  it("of an ignored signal does not run", function()
    local hit = false
    signal.signal(SIGUSR1, function() hit = true end)
    signal.signal(SIGUSR1, "ignore")
    signal.raise(SIGUSR1)
    assert.is_false(hit)
  end)

  it("that raises an error raises it where the signal interrupted",
     function()
    local boom = {"boom"}
    signal.signal(SIGUSR1, function() error(boom) end)
    local reached = false
    local ok, err = pcall(function()
      signal.raise(SIGUSR1)
      reached = true
    end)
    assert.is_false(ok)
    assert.are.equal(boom, err)
    assert.is_false(reached)
    -- It is gone: the next signal runs the handler again, nothing stale.
    signal.signal(SIGUSR1, function() end)
    signal.raise(SIGUSR1)
  end)

  it("leaves a debug hook the program had", function()
    local lines = 0
    debug.sethook(function() lines = lines + 1 end, "l")
    local got
    signal.signal(SIGUSR1, function(s) got = s end)
    signal.raise(SIGUSR1)
    local seen = got
    local before = lines
    local _ = 1
    local _ = 2
    local after = lines
    debug.sethook()
    assert.are.equal(SIGUSR1, seen)
    assert.is_true(after > before)
  end)
end)

describe("a blocking weft call the signal interrupts", function()
  after_each(restore)

  it("runs the handler, resumes and completes: a lock's acquire", function()
    local lock = weft.Lock()
    assert.is_true(lock:acquire())
    local hit = 0
    signal.signal(SIGALRM, function()
      hit = hit + 1
      lock:release() -- the wait can only end because the handler ran
    end)
    alarm_in(0.02)
    assert.is_true(lock:acquire(true, 60))
    assert.are.equal(1, hit)
    lock:release()
  end)

  it("keeps its deadline: a lock's acquire with a timeout runs out",
     function()
    local lock = weft.Lock()
    assert.is_true(lock:acquire())
    local hit = 0
    signal.signal(SIGALRM, function() hit = hit + 1 end)
    local t0 = weft.monotonic()
    alarm_in(0.01)
    assert.is_false(lock:acquire(true, 0.5))
    local elapsed = weft.monotonic() - t0
    assert.are.equal(1, hit)
    assert.is_true(elapsed >= 0.5 - 0.005, "returned after " .. elapsed)
    lock:release()
  end)

  it("runs the handler, resumes and completes: a socket's recv", function()
    local a, b, _closing <close> = pair()
    signal.signal(SIGALRM, function() b:sendall("x") end)
    alarm_in(0.02)
    assert.are.equal("x", a:recv(1))
  end)

  it("keeps the socket's timeout: recv runs out after the handler ran",
     function()
    local a, b, _closing <close> = pair()
    a:settimeout(0.5)
    local hit = 0
    signal.signal(SIGALRM, function() hit = hit + 1 end)
    alarm_in(0.01)
    local data, why = a:recv(1)
    assert.is_nil(data)
    assert.are.equal("timeout", why)
    assert.are.equal(1, hit)
    b:close()
  end)

  it("runs the handler, resumes and completes: weft.select", function()
    local a, b, _closing <close> = pair()
    signal.signal(SIGALRM, function() b:sendall("y") end)
    alarm_in(0.02)
    local r, w = weft.select({a}, {}, 60)
    assert.are.equal(1, #r)
    assert.are.equal(a, r[1])
    assert.are.equal(0, #w)
    assert.are.equal("y", a:recv(1))
  end)

  it("runs the handler, resumes and completes: an event's wait with a "
     .. "timeout", function()
    local ev = weft.Event()
    signal.signal(SIGALRM, function() ev:set() end)
    alarm_in(0.02)
    assert.is_true(ev:wait(60))
  end)

  it("runs the handler, resumes and completes: weft.sleep", function()
    local hit = 0
    signal.signal(SIGALRM, function() hit = hit + 1 end)
    local t0 = weft.monotonic()
    alarm_in(0.01)
    weft.sleep(0.5)
    assert.is_true(weft.monotonic() - t0 >= 0.5 - 0.005)
    assert.are.equal(1, hit)
  end)

  it("in a coroutine runs the handler and completes", function()
    local lock = weft.Lock()
    assert.is_true(lock:acquire())
    signal.signal(SIGALRM, function() lock:release() end)
    alarm_in(0.02)
    local co = coroutine.wrap(function()
      local ok = lock:acquire(true, 60)
      coroutine.yield(ok)
    end)
    assert.is_true(co())
    lock:release()
  end)

  it("is ended by a handler's error, which comes out of the call (a lock)",
     function()
    local lock = weft.Lock()
    assert.is_true(lock:acquire())
    local boom = {"boom"}
    signal.signal(SIGALRM, function() error(boom) end)
    -- (Armed inside the pcall: should the signal come before the wait
    -- starts, its error still comes out there.)
    local ok, err = pcall(function()
      alarm_in(0.02)
      return lock:acquire(true, 60)
    end)
    assert.is_false(ok)
    assert.are.equal(boom, err)
    -- The call did nothing: the lock is still ours, and nothing is left
    -- pending to fail a later call.
    assert.is_true(lock:locked())
    assert.is_false(lock:acquire(false))
    lock:release()
    assert.is_true(lock:acquire(true, 1))
    lock:release()
  end)

  it("is ended by a handler's error: a socket's recv and weft.select",
     function()
    local a, b, _closing <close> = pair()
    signal.signal(SIGALRM, function() error("recv handler", 0) end)
    local ok, err = pcall(function()
      alarm_in(0.02)
      return a:recv(1)
    end)
    assert.is_false(ok)
    assert.are.equal("recv handler", err)
    signal.signal(SIGALRM, function() error("select handler", 0) end)
    ok, err = pcall(function()
      alarm_in(0.02)
      return weft.select({a}, {}, 60)
    end)
    assert.is_false(ok)
    assert.are.equal("select handler", err)
    b:sendall("z")
    assert.are.equal("z", a:recv(1))
  end)

  -- An interval timer for pause: one signal that came before pause began
  -- is not the one it waits for.
  it("pause returns once the handler ran", function()
    local hit = 0
    signal.signal(SIGALRM, function() hit = hit + 1 end)
    signal.setitimer("ITIMER_REAL", 0.02, 0.02)
    signal.pause()
    signal.setitimer("ITIMER_REAL", 0)
    assert.is_true(hit >= 1)
  end)

  it("pause raises the error of a handler that failed", function()
    signal.signal(SIGALRM, function()
      signal.setitimer("ITIMER_REAL", 0)
      error("pause handler", 0)
    end)
    local ok, err = pcall(function()
      signal.setitimer("ITIMER_REAL", 0.02, 0.02)
      signal.pause()
    end)
    assert.is_false(ok)
    assert.are.equal("pause handler", err)
  end)
end)

describe("set_wakeup_fd", function()
  after_each(function()
    signal.set_wakeup_fd(-1)
    restore()
  end)

  it("writes the signal number to a non-blocking socket for weft.select",
     function()
    local r, w, _closing <close> = pair()
    w:setblocking(false)
    signal.signal(SIGUSR1, function() end)
    assert.are.equal(-1, signal.set_wakeup_fd(w))
    signal.raise(SIGUSR1)
    local ready = weft.select({r}, {}, 60)
    assert.are.equal(r, ready[1])
    assert.are.equal(string.char(SIGUSR1), r:recv(1))
    assert.are.equal(w:fileno(), signal.set_wakeup_fd(-1))
    local count, last = signal.wakeup_errors()
    assert.are.equal(0, count)
    assert.are.equal(0, last)
  end)

  it("refuses a descriptor that is not open, or below -1", function()
    -- (weft's sockets are always non-blocking underneath: a blocking
    -- descriptor is the C tests' to refuse.)
    local r, w, _closing <close> = pair()
    local fd = w:fileno()
    w:close()
    helper.weft_error("EBADF", signal.set_wakeup_fd, fd)
    helper.weft_error("WEFT_EVALUE", signal.set_wakeup_fd, -2)
    helper.weft_error("WEFT_EVALUE", signal.set_wakeup_fd, "3")
    assert.are.equal(-1, signal.set_wakeup_fd(-1))
  end)
end)

describe("delivery", function()
  after_each(restore)

  it("dispatch: handlers run only in dispatch()", function()
    local hits = {}
    signal.signal(SIGUSR1, function(s) hits[#hits + 1] = s end)
    signal.signal(SIGUSR2, function(s) hits[#hits + 1] = s end)
    signal.set_delivery("dispatch")
    local mode, thread = signal.get_delivery()
    assert.are.equal("dispatch", mode)
    assert.are.equal(0, thread)
    signal.raise(SIGUSR1)
    signal.raise(SIGUSR2)
    for _ = 1, 100 do end -- instructions
    weft.sleep(0.01)      -- and a blocking call
    assert.are.same({}, hits)
    assert.are.equal(1, signal.dispatch(SIGUSR2))
    assert.are.same({SIGUSR2}, hits)
    assert.are.equal(1, signal.dispatch())
    assert.are.same({SIGUSR2, SIGUSR1}, hits)
    assert.are.equal(0, signal.dispatch())
  end)

  it("dispatch: a handler's error comes out of dispatch()", function()
    signal.signal(SIGUSR1, function() error("dispatched", 0) end)
    signal.set_delivery("dispatch")
    signal.raise(SIGUSR1)
    local ok, err = pcall(signal.dispatch)
    assert.is_false(ok)
    assert.are.equal("dispatched", err)
    assert.are.equal(0, signal.dispatch())
  end)

  it("waits is the default, with the main thread", function()
    local mode, thread = signal.get_delivery()
    assert.are.equal("waits", mode)
    assert.are.equal(0, thread)
  end)
end)

describe("the rest of the module", function()
  after_each(restore)

  it("has the platform's constants", function()
    assert.are.equal(weft.constants.SIGINT, signal.SIGINT)
    assert.is_true(signal.NSIG > signal.SIGUSR2)
    assert.is_number(signal.ITIMER_REAL)
    assert.is_number(signal.ITIMER_VIRTUAL)
    assert.is_number(signal.ITIMER_PROF)
  end)

  it("alarm and getitimer report what is left", function()
    signal.signal(SIGALRM, function() end)
    assert.are.equal(0, signal.alarm(100))
    assert.is_true(signal.alarm(0) > 0)
    assert.are.same({0, 0}, {signal.setitimer("ITIMER_REAL", 50, 10)})
    local left, interval = signal.getitimer(signal.ITIMER_REAL)
    assert.is_true(left > 0 and left <= 50)
    assert.are.equal(10, interval)
    local old_left, old_interval = signal.setitimer("ITIMER_REAL", 0)
    assert.is_true(old_left > 0)
    assert.are.equal(10, old_interval)
    assert.are.same({0, 0}, {signal.getitimer("ITIMER_REAL")})
  end)

  it("strsignal, valid_signals, siginterrupt", function()
    assert.is_string(signal.strsignal(signal.SIGINT))
    local valid = signal.valid_signals()
    local has = {}
    for _, s in ipairs(valid) do has[s] = true end
    assert.is_true(has[signal.SIGINT])
    assert.is_true(has[SIGUSR1])
    assert.is_nil(has[0])
    signal.signal(SIGUSR1, function() end)
    signal.siginterrupt(SIGUSR1, false)
    signal.siginterrupt(SIGUSR1, true)
  end)

  it("is weft.signal", function()
    assert.are.equal(signal, weft.signal)
  end)
end)

describe("bad input", function()
  after_each(restore)

  local function h() end

  it("refuses signal 0, NSIG, SIGKILL and SIGSTOP (EINVAL)", function()
    helper.weft_error("EINVAL", signal.signal, 0, h)
    helper.weft_error("EINVAL", signal.signal, signal.NSIG, h)
    helper.weft_error("EINVAL", signal.signal, -1, h)
    helper.weft_error("EINVAL", signal.signal, 1 << 40, h)
    helper.weft_error("EINVAL", signal.signal, signal.SIGKILL, h)
    helper.weft_error("EINVAL", signal.signal, "SIGSTOP", "ignore")
    helper.weft_error("EINVAL", signal.getsignal, 0)
    helper.weft_error("EINVAL", signal.getsignal, signal.NSIG)
    helper.weft_error("EINVAL", signal.raise, signal.NSIG)
    helper.weft_error("EINVAL", signal.strsignal, 0)
    -- Nothing changed.
    assert.are.equal("default", signal.getsignal(signal.SIGKILL))
  end)

  it("refuses what is not a handler or a signal", function()
    helper.weft_error("WEFT_EVALUE", signal.signal, SIGUSR1, 42)
    helper.weft_error("WEFT_EVALUE", signal.signal, SIGUSR1, "nope")
    helper.weft_error("WEFT_EVALUE", signal.signal, SIGUSR1, nil)
    helper.weft_error("WEFT_EVALUE", signal.signal, "SIGNOPE", h)
    helper.weft_error("WEFT_EVALUE", signal.signal, "INT", h)
    helper.weft_error("WEFT_EVALUE", signal.signal, 1.5, h)
    assert.are.equal("default", signal.getsignal(SIGUSR1))
  end)

  it("refuses a bad itimer or time", function()
    helper.weft_error("EINVAL", signal.setitimer, 12345, 1)
    helper.weft_error("EINVAL", signal.getitimer, 12345)
    helper.weft_error("EINVAL", signal.setitimer, "ITIMER_REAL", -1)
    helper.weft_error("EINVAL", signal.setitimer, "ITIMER_REAL", 1, -1)
    helper.weft_error("EINVAL", signal.setitimer, "ITIMER_REAL", 0 / 0)
    helper.weft_error("WEFT_EVALUE", signal.setitimer, "ITIMER_NOPE", 1)
    helper.weft_error("WEFT_EVALUE", signal.setitimer, "ITIMER_REAL", "1")
    assert.are.same({0, 0}, {signal.getitimer("ITIMER_REAL")})
  end)

  it("refuses an unknown delivery", function()
    helper.weft_error("WEFT_EVALUE", signal.set_delivery, "nope")
    helper.weft_error("EINVAL", signal.set_delivery, 99)
    assert.are.equal("waits", (signal.get_delivery()))
  end)

  it("refuses signal actions from a thread's state (WEFT_ESTATE)", function()
    local t = weft.Thread(function(signum)
      local signal = require "weft.signal"
      local ok, err = pcall(signal.signal, signum, function() end)
      assert(not ok and err.name == "WEFT_ESTATE", tostring(err))
      ok, err = pcall(signal.signal, signum, "ignore")
      assert(not ok and err.name == "WEFT_ESTATE", tostring(err))
      ok, err = pcall(signal.set_wakeup_fd, -1)
      assert(not ok and err.name == "WEFT_ESTATE", tostring(err))
    end, SIGUSR1)
    t:start()
    assert.is_true(t:join(60))
    assert.are.equal(0, t.result)
    assert.are.equal("default", signal.getsignal(SIGUSR1))
  end)
end)

describe("afterwards", function()
  it("every action the tests used is the default again", function()
    for _, s in ipairs(USED) do
      assert.are.equal("default", signal.getsignal(s))
    end
    assert.are.same({0, 0}, {signal.getitimer("ITIMER_REAL")})
  end)
end)
