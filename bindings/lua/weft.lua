-- weft.lua - Python's threading for Lua 5.4, over the SWIG module weft.core.
--
--   local weft = require "weft"
--   local lock <close> = weft.Lock()
--   local t = weft.Thread{target = function(lock, n) ... end, args = {lock, 3}}
--   t:start(); t:join()
--
-- Objects are handles with methods.  An object made here owns its handle
-- and closes it when it is collected, closed (obj:close()) or goes out of
-- scope as a to-be-closed variable; weft.wrap(h) makes an object for a
-- handle that someone else owns (handles are process-wide: a Lock made in
-- Python can be used here by its number).
--
-- A Lua state is not thread-safe, so a thread's target runs in a fresh
-- Lua state: it is Lua source or a function (sent as string.dump: its
-- upvalues, except _ENV, arrive as nil), its arguments are copied (nil,
-- booleans, numbers, strings, tables of those, weft objects), and it talks
-- to other threads through weft objects.  Other callbacks (a Barrier's
-- action) run in the state that made them: see weft.dispatch.
--
-- Errors are values with fields code, name, message, detail and where, and
-- a __tostring (weft.Error is their metatable).  Timeouts are seconds; nil
-- waits forever; a wait that runs out returns false, as in Python.
--
-- weft.socket, weft.select, weft.poller and weft.io (sockets, readiness,
-- buffered streams) are in weft/socket.lua, loaded here; its top says how
-- their I/O reports timeouts and closed connections.  weft.signal (Python's
-- signal module) is weft/signal.lua, weft.ffi (a foreign function
-- interface over the ctypes engine) weft/ffi.lua.

local core = require "weft.core"

local error, getmetatable, pcall, rawset, setmetatable, type =
  error, getmetatable, pcall, rawset, setmetatable, type
local pack, unpack = table.pack, table.unpack

local weft = {core = core, Error = core.Error, version = core.version()}

-- obj:m(...) -> f(obj.handle, ...), in C (core.method).
local method = core.method

-- ---- constants ------------------------------------------------------------

-- Every constant weft knows, with the platform's value, by name.
local constants = {}
for i = 0, core.constant_count() - 1 do
  local name, value = core.constant_at(i)
  constants[name] = value
end
weft.constants = constants

local EVALUE = constants.WEFT_EVALUE
local ESTATE = constants.WEFT_ESTATE

local function raise(code, fmt, ...)
  error(core.error(code, fmt:format(...)))
end

-- weft.constant("AF_INET"): the value, or an error naming the constant.
function weft.constant(name)
  local v = constants[name]
  if v == nil then
    raise(constants.ENOENT and -constants.ENOENT or EVALUE,
          "no constant named %s", tostring(name))
  end
  return v
end

-- ---- timeouts (Python's rules) --------------------------------------------

local function check_timeout(timeout)
  if type(timeout) ~= "number" then
    raise(EVALUE, "timeout must be a number or nil, not %s", type(timeout))
  end
end

-- blocking=nil is true; anything but a boolean is refused.
local function check_blocking(blocking)
  if blocking == nil then
    return true
  elseif type(blocking) ~= "boolean" then
    raise(EVALUE, "blocking must be a boolean, not %s", type(blocking))
  end
  return blocking
end

-- Lock.acquire(blocking=true, timeout=-1): a negative timeout other than -1
-- is refused, and so is a timeout with blocking=false.
local function acquire_timeout(blocking, timeout)
  blocking = check_blocking(blocking)
  if timeout == nil or timeout == -1 then
    return blocking and -1 or 0
  end
  check_timeout(timeout)
  if not blocking then
    raise(EVALUE, "can't specify a timeout for a non-blocking call")
  end
  if timeout < 0 then
    raise(EVALUE, "timeout value must be a non-negative number")
  end
  return timeout
end

-- Semaphore.acquire(blocking=true, timeout=nil): a negative timeout polls.
local function sem_timeout(blocking, timeout)
  blocking = check_blocking(blocking)
  if timeout == nil then
    return blocking and -1 or 0
  end
  check_timeout(timeout)
  if not blocking then
    raise(EVALUE, "can't specify a timeout for a non-blocking call")
  end
  return timeout < 0 and 0 or timeout
end

-- wait(timeout=nil), join(timeout=nil): nil forever, a negative one polls.
local function wait_timeout(timeout)
  if timeout == nil then
    return -1
  end
  check_timeout(timeout)
  return timeout < 0 and 0 or timeout
end

-- ---- objects --------------------------------------------------------------

-- handle -> the object this state made for it (so wrap(h) finds it).
local objects = setmetatable({}, {__mode = "v"})

-- Close the handle if this object owns it; false and the error if that
-- failed.  Idempotent.
local function release_handle(self)
  if self._closed then
    return true
  end
  rawset(self, "_closed", true)
  if rawequal(objects[self.handle], self) then
    objects[self.handle] = nil
  end
  if self._action then
    core.callback_free(self._action)
  end
  if self._owned then
    return pcall(core.close, self.handle)
  end
  return true
end

local function close(self)
  local ok, err = release_handle(self)
  if not ok then
    error(err)
  end
end

-- __gc and __close must not raise.
local function finalize(self)
  release_handle(self)
end

local classes = {} -- kind -> class

local function class(name, kind, base)
  local cls = base and setmetatable({}, {__index = base}) or {}
  cls.__name = "weft." .. name
  cls.__weft = true -- target.c sends these by handle
  cls.__index = cls
  cls.__gc = finalize
  cls.__close = finalize
  cls.__eq = function(a, b) return a.handle == b.handle end
  cls.__tostring = function(self)
    return ("weft.%s: %d%s"):format(name, self.handle,
                                     self._closed and " (closed)" or "")
  end
  cls.close = close
  if kind then
    classes[kind] = cls
  end
  return cls
end

local function new(cls, handle, owned)
  local self = setmetatable({handle = handle, _owned = owned or false}, cls)
  objects[handle] = self
  return self
end

-- An object for a handle made elsewhere (another state, language or C).
-- It does not close the handle unless owned is true.
function weft.wrap(handle, owned)
  if math.type(handle) ~= "integer" then
    raise(EVALUE, "a handle is an integer, not %s",
          math.type(handle) or type(handle))
  end
  local obj = objects[handle]
  if obj and not obj._closed then
    return obj
  end
  local kind = core.handle_kind(handle)
  local cls = classes[kind]
  if not cls then
    raise(EVALUE, "handle %d is of a kind Lua does not wrap (%d)",
          handle, kind)
  end
  return new(cls, handle, owned)
end

-- ---- scoped locking -------------------------------------------------------

-- obj:with(f, ...): call f(...) holding obj; release it however f ends.
local function finish_with(self, ok, ...)
  self:release()
  if not ok then
    error((...), 0)
  end
  return ...
end

local function with(self, f, ...)
  self:acquire()
  return finish_with(self, pcall(f, ...))
end

-- local _ <close> = obj:guard(): held until the end of the scope.
local Guard = {__close = function(g) g[1]:release() end}

local function guard(self, ...)
  if not self:acquire(...) then
    return nil
  end
  return setmetatable({self}, Guard)
end

-- acquire(blocking, timeout), release(...), with, guard for a class whose
-- acquire and release are core functions of the handle.
local function lockish(cls, acquire, release, timeout_of)
  function cls:acquire(blocking, timeout)
    return acquire(self.handle, timeout_of(blocking, timeout))
  end
  cls.release = method(release)
  cls.with, cls.guard = with, guard
end

-- ---- Lock, RLock ----------------------------------------------------------

local lock_acquire, lock_release = core.lock_acquire, core.lock_release

local Lock = class("Lock", constants.WEFT_KIND_LOCK)
function weft.Lock()
  return new(Lock, core.lock_new(), true)
end

function Lock:acquire(blocking, timeout)
  if blocking == nil and timeout == nil then
    return lock_acquire(self.handle, -1)
  end
  return lock_acquire(self.handle, acquire_timeout(blocking, timeout))
end

Lock.release = method(lock_release)
Lock.locked = method(core.lock_locked)

Lock.with, Lock.guard = with, guard

local RLock = class("RLock", constants.WEFT_KIND_RLOCK)
function weft.RLock()
  return new(RLock, core.rlock_new(), true)
end

lockish(RLock, core.rlock_acquire, core.rlock_release, acquire_timeout)

RLock.is_owned = method(core.rlock_is_owned)

-- ---- Condition ------------------------------------------------------------

local function handle_of(obj, what)
  if math.type(obj) == "integer" then
    return obj
  end
  if type(obj) == "table" and getmetatable(obj) and getmetatable(obj).__weft then
    return obj.handle
  end
  raise(EVALUE, "%s must be a weft object or a handle, not %s", what,
        type(obj))
end

local Condition = class("Condition", constants.WEFT_KIND_CONDITION)

-- Condition(lock): over a Lock or RLock (object or handle); nil makes an
-- RLock of its own.
function weft.Condition(lock)
  local h = core.condition_new(lock == nil and 0 or handle_of(lock, "lock"))
  local c = new(Condition, h, true)
  rawset(c, "_lock", lock) -- the condition uses it by handle
  return c
end

lockish(Condition, core.condition_acquire, core.condition_release,
        acquire_timeout)

function Condition:wait(timeout)
  return core.condition_wait(self.handle, wait_timeout(timeout))
end

-- Python's wait_for: wait until predicate() is true, at most timeout
-- seconds in all; the predicate's last result.
function Condition:wait_for(predicate, timeout)
  local result = predicate()
  local endtime
  while not result do
    if timeout ~= nil then
      check_timeout(timeout)
      if endtime == nil then
        endtime = core.monotonic() + timeout
      else
        timeout = endtime - core.monotonic()
        if timeout <= 0 then
          break
        end
      end
    end
    self:wait(timeout)
    result = predicate()
  end
  return result
end

Condition.notify = method(core.condition_notify)

Condition.notify_all = method(core.condition_notify_all)

-- ---- Semaphore, BoundedSemaphore ------------------------------------------

local Semaphore = class("Semaphore", constants.WEFT_KIND_SEMAPHORE)

local function check_value(value)
  if value == nil then
    return 1
  end
  if math.type(value) ~= "integer" then
    raise(EVALUE, "semaphore value must be an integer, not %s",
          math.type(value) or type(value))
  end
  return value
end

function weft.Semaphore(value)
  return new(Semaphore, core.semaphore_new(check_value(value)), true)
end

-- A BoundedSemaphore is a semaphore handle too: same class.
function weft.BoundedSemaphore(value)
  return new(Semaphore, core.bounded_semaphore_new(check_value(value)), true)
end

lockish(Semaphore, core.semaphore_acquire, core.semaphore_release, sem_timeout)

Semaphore.value = method(core.semaphore_get_value)

-- ---- Event ----------------------------------------------------------------

local Event = class("Event", constants.WEFT_KIND_EVENT)
function weft.Event()
  return new(Event, core.event_new(), true)
end

Event.set = method(core.event_set)
Event.clear = method(core.event_clear)
Event.is_set = method(core.event_is_set)
function Event:wait(timeout)
  return core.event_wait(self.handle, wait_timeout(timeout))
end

-- ---- Barrier --------------------------------------------------------------

local Barrier = class("Barrier", constants.WEFT_KIND_BARRIER)

-- Barrier(parties, action, timeout): action (optional) runs in this state
-- once per cycle, before the cycle's threads are released; when the last
-- thread to arrive is another thread, this state runs it from its next
-- blocking weft call, or from weft.dispatch.
function weft.Barrier(parties, action, timeout)
  local t = timeout == nil and -1 or wait_timeout(timeout)
  local h, cb = core.barrier_new(parties, action, t)
  local b = new(Barrier, h, true)
  rawset(b, "_action", cb)
  return b
end

-- The arrival index, 0 .. parties - 1; a broken barrier raises WEFT_EBROKEN.
function Barrier:wait(timeout)
  if timeout == nil then
    return core.barrier_wait_default(self.handle)
  end
  return core.barrier_wait(self.handle, wait_timeout(timeout))
end

Barrier.reset = method(core.barrier_reset)
Barrier.abort = method(core.barrier_abort)
Barrier.parties = method(core.barrier_get_parties)
Barrier.n_waiting = method(core.barrier_get_n_waiting)
Barrier.broken = method(core.barrier_is_broken)

-- ---- Thread, Timer --------------------------------------------------------

-- Threads started from this state, kept (with their arguments) while they
-- may run: the arguments' objects must not be collected under them.
local running, nrunning, prune_at = {}, 0, 16

-- Python's exit rule.  Finalizers run newest first when a state closes, so
-- the wait must come from an object newer than every object a thread may
-- use: a token re-made at each start (and anchored, so only the close
-- collects it).  A thread's own state waits only for the threads it
-- started: its objects die with it.
local token
local function at_close()
  if not core.is_thread_state() then
    core.thread_shutdown(-1)
    return
  end
  for t in pairs(running) do
    local ok, daemon = pcall(core.thread_get_daemon, t.handle)
    if ok and not daemon then
      pcall(core.thread_join, t.handle, -1)
    end
  end
end
local token_mt = {__gc = function(tk) if tk.armed then at_close() end end}

local function track(t)
  running[t] = true
  nrunning = nrunning + 1
  if nrunning >= prune_at then
    for o in pairs(running) do
      local ok, alive = pcall(core.thread_is_alive, o.handle)
      if not (ok and alive) then
        running[o] = nil
        nrunning = nrunning - 1
      end
    end
    prune_at = math.max(16, 2 * nrunning)
  end
  if token then
    token.armed = false
  end
  token = setmetatable({armed = true}, token_mt)
  core.anchor_close_token(token)
end

local Thread = class("Thread", constants.WEFT_KIND_THREAD)

-- Thread attributes (Python's properties): t.name, t.ident, ...
local getters = {}
local setters = {}

local function property_index(cls)
  return function(self, key)
    local m = cls[key]
    if m ~= nil then
      return m
    end
    local get = getters[key]
    if get then
      return get(self)
    end
  end
end

local function property_newindex(self, key, value)
  local set = setters[key]
  if set then
    set(self, value)
  else
    rawset(self, key, value)
  end
end

Thread.__index = property_index(Thread)
Thread.__newindex = property_newindex

function getters.name(self) return core.thread_get_name(self.handle) end
function getters.daemon(self) return core.thread_get_daemon(self.handle) end
function getters.ident(self)
  local ident = core.thread_get_ident(self.handle)
  return ident ~= 0 and ident or nil
end
function getters.native_id(self)
  local id = core.thread_get_native_id(self.handle)
  return id ~= 0 and id or nil
end
-- The thread's result once it finished (0: the target returned; 1: it
-- raised; or the value given to weft.exit), else nil.
function getters.result(self)
  local ok, r = pcall(core.thread_get_result, self.handle)
  if ok then
    return r
  end
  if r.code ~= ESTATE then
    error(r)
  end
end

function setters.name(self, name)
  core.thread_set_name(self.handle, tostring(name))
end
function setters.daemon(self, daemon)
  core.thread_set_daemon(self.handle, daemon and 1 or 0)
end

-- Thread{target=, args=, name=, daemon=} or Thread(target, ...): target is
-- a Lua function or Lua source (see the top of the file).
local function thread_spec(spec, ...)
  if type(spec) == "table" and getmetatable(spec) == nil then
    local args = spec.args or {}
    if type(args) ~= "table" then
      raise(EVALUE, "args must be a table, not %s", type(args))
    end
    return spec.target or "", args, spec.name, spec.daemon, spec
  end
  return spec, pack(...)
end

local function made(cls, h, target, args, daemon)
  local t = new(cls, h, true)
  rawset(t, "_target", target)
  rawset(t, "_args", args) -- keeps objects sent to it alive while it runs
  if daemon ~= nil then
    core.thread_set_daemon(h, daemon and 1 or 0)
  end
  return t
end

function weft.Thread(spec, ...)
  local target, args, name, daemon = thread_spec(spec, ...)
  local h, tgt = core.thread_new(target, name, unpack(args, 1, args.n or #args))
  return made(Thread, h, tgt, args, daemon)
end

function Thread:start()
  if self._target then
    core.target_start(self._target)
  else
    core.thread_start(self.handle)
  end
  track(self)
end

-- true once the thread has finished, false if timeout ran out first.
function Thread:join(timeout)
  return core.thread_join(self.handle, wait_timeout(timeout))
end

Thread.is_alive = method(core.thread_is_alive)

local Timer = class("Timer", constants.WEFT_KIND_TIMER, Thread)
Timer.__index = property_index(Timer)
Timer.__newindex = property_newindex

-- Timer{interval=, target=, args=, name=, daemon=} or
-- Timer(interval, target, ...): target runs once, interval seconds after
-- start, unless cancelled.
function weft.Timer(interval, ...)
  local target, args, name, daemon
  if type(interval) == "table" and getmetatable(interval) == nil then
    local spec
    target, args, name, daemon, spec = thread_spec(interval)
    interval = spec.interval
  else
    target, args = thread_spec(...)
  end
  if type(interval) ~= "number" then
    raise(EVALUE, "interval must be a number, not %s", type(interval))
  end
  local h, tgt = core.timer_new(interval, target, name,
                                unpack(args, 1, args.n or #args))
  return made(Timer, h, tgt, args, daemon)
end

function Timer:cancel()
  if self._target then
    core.target_cancel(self._target)
  else
    core.timer_cancel(self.handle)
  end
end

-- ---- module functions -----------------------------------------------------

function weft.current_thread() return weft.wrap(core.thread_current()) end
function weft.main_thread() return weft.wrap(core.thread_main()) end

-- The alive threads (a thread that ends meanwhile is left out).
function weft.enumerate()
  local list = {}
  for _, h in ipairs(core.thread_enumerate()) do
    local ok, t = pcall(weft.wrap, h)
    if ok then
      list[#list + 1] = t
    end
  end
  return list
end

function weft.active_count() return core.thread_active_count() end
function weft.get_ident() return core.thread_current_ident() end
function weft.get_native_id() return core.thread_current_native_id() end
function weft.monotonic() return core.monotonic() end

function weft.sleep(seconds)
  if type(seconds) ~= "number" then
    raise(EVALUE, "seconds must be a number, not %s", type(seconds))
  end
  core.sleep(seconds)
end

-- stack_size([size]): the old size; sets it when size is given.
function weft.stack_size(size)
  local old = core.thread_get_stack_size()
  if size ~= nil then
    core.thread_set_stack_size(size)
  end
  return old
end

-- _thread.start_new_thread(target, ...): a daemonic thread without an
-- object; its ident.
function weft.start_new_thread(target, ...)
  return core.start_new_thread(target, ...)
end

-- End the calling thread (only in a thread's target), with `result`.
function weft.exit(result) core.thread_exit(result or 0) end

-- Run the callbacks other threads queued to this state (a Barrier's
-- action), waiting at most timeout seconds (nil: forever) for the first;
-- the number run.  A state's blocking weft calls run them too.
function weft.dispatch(timeout)
  if timeout ~= nil then
    check_timeout(timeout)
  end
  return core.dispatch(timeout)
end

-- A descriptor that polls readable while callbacks are queued: call
-- weft.dispatch(0) then.
function weft.dispatcher_fd() return core.dispatcher_fd() end

-- The classes (metatables), for getmetatable(obj) == weft.classes.Lock.
weft.classes = {
  Lock = Lock, RLock = RLock, Condition = Condition, Semaphore = Semaphore,
  Event = Event, Barrier = Barrier, Thread = Thread, Timer = Timer,
}

-- ---- socket, select, io ---------------------------------------------------

-- weft.socket, weft.select, weft.poller and weft.io live in weft/socket.lua,
-- which gets the helpers above.
require("weft.socket")(weft, {
  raise = raise, class = class, new = new, close = close,
  handle_of = handle_of, check_timeout = check_timeout,
})

-- ---- signal -----------------------------------------------------------------

-- weft.signal is require "weft.signal" (weft/signal.lua), loaded when first
-- used: loading it changes no signal's action.  weft.ffi (weft/ffi.lua)
-- too.
setmetatable(weft, {__index = function(t, key)
  if key == "signal" or key == "ffi" then
    local m = require("weft." .. key)
    rawset(t, key, m)
    return m
  end
end})

return weft
