-- weft/signal.lua - Python's signal module for Lua 5.4, over weft.core.
--
--   local signal = require "weft.signal"        -- or weft.signal
--   local old = signal.signal("SIGINT", function(signum) ... end)
--   signal.alarm(1)
--   ...
--   signal.signal("SIGINT", old)
--
-- A handler is a function (or a callable) called with the signal number.
-- It runs in this Lua state, never inside the C signal handler:
--
--   * at the next Lua instruction after the signal (the C handler sets a
--     hook, as lua.c does for SIGINT), or
--   * inside a blocking weft call of this state's thread (a lock's
--     acquire, a socket's recv, weft.select, weft.sleep, ...), which then
--     goes on with the time it had left (PEP 475).
--
-- A handler that raises an error aborts the interrupted code: the error
-- value comes out of the blocking call (which did nothing), or is raised
-- at the instruction the signal interrupted.
--
-- At a glance: signal(sig, handler) and getsignal(sig), handler a function,
-- "default" (SIG_DFL) or "ignore" (SIG_IGN), nil meaning a handler not set
-- from Lua; alarm, pause, setitimer/getitimer, set_wakeup_fd,
-- wakeup_errors, siginterrupt, strsignal, valid_signals, raise (also
-- raise_signal), pthread_kill, dispatch, set_delivery/get_delivery; the
-- constants SIG* (SIGINT, SIG_BLOCK, ...), NSIG and ITIMER_*, with this
-- platform's values.  A signal is a number or a name ("SIGINT").
--
-- Rules (see bindings/lua/signal.c for the mechanism):
--
--   * One Lua state at a time has Lua handlers: the first that sets one,
--     on its thread, until it closes (its close resets them to "default").
--     A thread target's state cannot set signal actions (Python's "only
--     the main thread"); another state gets WEFT_ESTATE while one owns
--     them.
--   * Handlers run on that state's thread only: no Lua state is entered
--     from a foreign thread.  If the state does not run on the process's
--     main thread, it names its thread as the one whose blocking calls run
--     handlers (weft_signal_set_delivery(WAITS, thread)).
--   * Delivery "waits" (the default) runs handlers at the next
--     instruction and in blocking calls; "dispatch" only in dispatch()
--     (with set_wakeup_fd, from an event loop); "thread" runs them on
--     weft's signal thread, which a Lua handler never does: do not use it
--     with Lua handlers.
--   * Coroutines: the hook is set on the state's main coroutine (lua.c's
--     rule), so a coroutine that runs on without yielding or blocking in
--     weft delays its handlers until it yields.

local weft = require "weft"
local core = weft.core
local C = weft.constants

local error, getmetatable, pairs, pcall, tostring, type =
  error, getmetatable, pairs, pcall, tostring, type
local mtype, tointeger = math.type, math.tointeger

local EVALUE = C.WEFT_EVALUE
local EINVAL = -(C.EINVAL or 22)
local ENOENT = -(C.ENOENT or 2)

local signal = {}

local function raise(code, fmt, ...)
  error(core.error(code, fmt:format(...)), 3)
end

-- ---- constants --------------------------------------------------------------

for name, value in pairs(C) do
  if name:match("^SIG") or name == "NSIG" or name:match("^ITIMER_") then
    signal[name] = value
  end
end
-- The handlers' names, as getsignal returns them (Python's SIG_DFL, SIG_IGN).
signal.SIG_DFL, signal.SIG_IGN = "default", "ignore"
local NSIG = C.NSIG or 65

local DELIVERY = {
  dispatch = C.WEFT_SIGNAL_DISPATCH or 0, waits = C.WEFT_SIGNAL_WAITS or 1,
  thread = C.WEFT_SIGNAL_THREAD or 2,
}
local DELIVERY_NAME = {}
for name, v in pairs(DELIVERY) do DELIVERY_NAME[v] = name end

-- ---- arguments --------------------------------------------------------------

local INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1

local function integer(v, what)
  local i = type(v) == "number" and tointeger(v)
  if not i then
    raise(EVALUE, "%s must be an integer, not %s", what, mtype(v) or type(v))
  end
  return i
end

-- A signal: a number or a name ("SIGINT").  A number no C int holds is
-- a bad signal number (EINVAL), as weft says for the others.
local function signum_of(sig)
  if type(sig) == "string" then
    local n = sig:match("^SIG%u") and C[sig]
    if not n then
      raise(EVALUE, "unknown signal %q", sig)
    end
    return n
  end
  local n = integer(sig, "a signal")
  if n < INT_MIN or n > INT_MAX then
    raise(EINVAL, "signal number %d out of range", n)
  end
  return n
end

-- An itimer: ITIMER_REAL's value or its name ("ITIMER_REAL").
local function which_of(which)
  if type(which) == "string" then
    local n = which:match("^ITIMER_") and C[which]
    if not n then
      raise(EVALUE, "unknown itimer %q", which)
    end
    return n
  end
  local n = integer(which, "which")
  if n < INT_MIN or n > INT_MAX then
    raise(EINVAL, "itimer %d out of range", n)
  end
  return n
end

local function seconds_of(v, what)
  if type(v) ~= "number" then
    raise(EVALUE, "%s must be a number, not %s", what, type(v))
  end
  return v
end

local function callable(v)
  if type(v) == "function" then
    return true
  end
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__call ~= nil
end

-- ---- handlers ---------------------------------------------------------------

-- signal(sig, handler): set the action for sig; the previous one (a
-- function, "default", "ignore", or nil for a handler not set from this
-- state).  Bad signal numbers, SIGKILL and SIGSTOP raise EINVAL.
function signal.signal(sig, handler)
  local signum = signum_of(sig)
  if handler ~= "default" and handler ~= "ignore" and not callable(handler) then
    raise(EVALUE, 'a signal handler is a function, "default" or "ignore", '
          .. "not %s", type(handler) == "string" and ("%q"):format(handler)
          or type(handler))
  end
  return core.signal_set(signum, handler)
end

-- getsignal(sig): the action for sig, as signal() returns it.
function signal.getsignal(sig)
  return core.signal_get(signum_of(sig))
end

-- dispatch([sig]): run the handlers of the signals that arrived (sig's
-- only, if given) now, on this state; how many ran.  A handler's error
-- comes out of it.  The only way handlers run in delivery "dispatch".
function signal.dispatch(sig)
  return core.signal_dispatch(sig == nil and 0 or signum_of(sig))
end

-- set_delivery(mode[, thread]): "waits" (thread: whose blocking calls run
-- handlers; nil is the main thread), "dispatch" or "thread" (see the top).
function signal.set_delivery(mode, thread)
  local m = DELIVERY[mode]
  if m == nil then
    m = mtype(mode) == "integer" and mode or
        raise(EVALUE, "unknown delivery %s", tostring(mode))
  end
  local h = thread == nil and 0 or
            (type(thread) == "table" and thread.handle or integer(thread, "thread"))
  core.signal_set_delivery(m, h)
end

-- get_delivery(): the mode's name and the thread's handle (0: the main
-- thread).
function signal.get_delivery()
  local m, h = core.signal_get_delivery()
  return DELIVERY_NAME[m] or m, h
end

-- ---- timers, waiting ---------------------------------------------------------

-- alarm(seconds): SIGALRM in that many seconds (0 cancels); the seconds
-- that were left of the previous alarm.
function signal.alarm(seconds)
  local n = integer(seconds, "seconds")
  if n < 0 or n > 0xffffffff then
    raise(EVALUE, "seconds must be 0..%d, not %d", 0xffffffff, n)
  end
  return core.signal_alarm(n)
end

-- pause(): sleep until a signal's handler has run.
function signal.pause()
  core.signal_pause()
end

-- setitimer(which, seconds[, interval]): fire after seconds (0 disarms),
-- then every interval; the old seconds and interval.
function signal.setitimer(which, seconds, interval)
  return core.signal_setitimer(which_of(which), seconds_of(seconds, "seconds"),
                               interval == nil and 0 or
                               seconds_of(interval, "interval"))
end

-- getitimer(which): seconds left and the interval.
function signal.getitimer(which)
  return core.signal_getitimer(which_of(which))
end

-- ---- the wakeup descriptor ---------------------------------------------------

-- set_wakeup_fd(fd[, warn_on_full_buffer]): each signal writes its number
-- (a byte) to fd, a non-blocking descriptor or an object with fileno()
-- (a weft socket); -1 for none.  The previous descriptor (-1: none).  With
-- warn_on_full_buffer false, a full buffer is not counted as an error
-- (wakeup_errors).
function signal.set_wakeup_fd(fd, warn_on_full_buffer)
  core.signal_check_main()
  if type(fd) == "table" and fd.fileno then
    fd = fd:fileno()
  end
  fd = integer(fd, "fd")
  if fd < -1 or fd > INT_MAX then
    raise(EVALUE, "fd must be -1..%d, not %d", INT_MAX, fd)
  end
  return core.signal_set_wakeup_fd(fd, warn_on_full_buffer == false and 0 or 1)
end

-- wakeup_errors(): how many writes to the wakeup descriptor failed since
-- the last call, and the last one's errno (0: none).
function signal.wakeup_errors()
  return core.signal_wakeup_errors()
end

-- ---- the rest -----------------------------------------------------------------

-- siginterrupt(sig, flag): true, system calls sig interrupts fail with
-- EINTR (the default once a handler is set); false, they restart.
function signal.siginterrupt(sig, flag)
  local signum = signum_of(sig)
  if type(flag) ~= "boolean" then
    flag = integer(flag, "flag") ~= 0
  end
  core.signal_siginterrupt(signum, flag and 1 or 0)
end

-- strsignal(sig): the description ("Interrupt"), or nil if the system
-- has none.
function signal.strsignal(sig)
  local ok, r = pcall(core.signal_strsignal, signum_of(sig))
  if ok then
    return r
  end
  if getmetatable(r) == weft.Error and r.code == ENOENT then
    return nil
  end
  error(r, 0)
end

-- valid_signals(): the signal numbers this system has, as a sorted list.
function signal.valid_signals()
  local list = {}
  for s = 1, NSIG - 1 do
    if core.signal_valid(s) then
      list[#list + 1] = s
    end
  end
  return list
end

-- raise(sig): send sig to this thread; its Lua handler runs before the
-- next instruction.
function signal.raise(sig)
  core.signal_raise(signum_of(sig))
end
signal.raise_signal = signal.raise

-- pthread_kill(thread, sig): send sig to a thread (an object or a handle);
-- sig 0 only checks that it is alive.
function signal.pthread_kill(thread, sig)
  local h = type(thread) == "table" and thread.handle or
            integer(thread, "thread")
  core.signal_pthread_kill(h, signum_of(sig))
end

return signal
