/* test-lua-host - a C program that embeds Lua 5.4 and loads weft with
 * require "weft", finding weft.core on package.cpath, as an application
 * (or the cross-language test) does; a handle made in C is used by a Lua
 * thread; lua_close waits for non-daemon threads; daemon threads outlive
 * the last state; one state at a time owns the Lua signal handlers, and
 * its close gives them up; weft runs a Lua handler only on the state's
 * own thread. */
#include <errno.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "weft.h"

/* Run `code` in L; 1 if it ran without error (the error is printed). */
static int run(lua_State *L, const char *code) {
  if (luaL_dostring(L, code) == LUA_OK)
    return 1;
  diag("lua: %s", lua_tostring(L, -1));
  lua_pop(L, 1);
  return 0;
}

static lua_State *new_state(void) {
  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  const char *src = getenv("top_srcdir"), *build = getenv("top_builddir");
  if (src == NULL || build == NULL) {
    diag("top_srcdir and top_builddir must be set (make check does)");
    exit(99);
  }
  lua_getglobal(L, "package");
  lua_pushfstring(L, "%s/bindings/lua/?.lua;%s/tests/lua/?.lua", src, src);
  lua_setfield(L, -2, "path");
  lua_pushfstring(L, "%s/bindings/lua/?.so", build);
  lua_setfield(L, -2, "cpath");
  lua_pop(L, 1);
  return L;
}

/* A thread's target: weft_signal_dispatch on a thread no Lua state runs
 * on; the number of handlers weft called goes to *arg. */
static int dispatch_here(void *arg) {
  return weft_signal_dispatch(0, arg) < 0;
}

static int action_of(int signum) {
  int action = -1;
  void *arg;
  weft_signal_get(signum, &action, &arg);
  return action;
}

/* A weft thread's target: a Lua state of its own that owns the signal
 * handlers (see test_signals). */
static int lua_on_thread(void *arg) {
  weft_handle *ev = arg;
  lua_State *L = new_state();
  lua_pushinteger(L, *ev);
  lua_setglobal(L, "READY");
  int r = run(L, "local weft = require 'weft'\n"
                 "local signal = weft.signal\n"
                 "local done = weft.Event()\n"
                 "signal.signal('SIGUSR2', function() done:set() end)\n"
                 "local mode, thread = signal.get_delivery()\n"
                 "assert(mode == 'waits', mode)\n"
                 "assert(thread == weft.current_thread().handle, thread)\n"
                 "weft.wrap(READY):set()\n"
                 "assert(done:wait(60))\n"
                 "signal.signal('SIGUSR2', 'default')");
  lua_close(L);
  return r ? 0 : 1;
}

/* Signals: owning states, handlers run by C's dispatch, foreign threads. */
static void test_signals(void) {
  lua_State *A = new_state(), *B = new_state();
  ok(run(A, "signal = require 'weft.signal'\n"
            "hits = 0\n"
            "signal.signal('SIGUSR1', function() hits = hits + 1 end)\n"
            "signal.raise('SIGUSR1')\n"
            "assert(hits == 1)"),
     "a state sets a handler, which runs");
  is(action_of(SIGUSR1), WEFT_SIG_HANDLER, "weft has it");
  ok(run(B, "signal = require 'weft.signal'\n"
            "local ok, err = pcall(signal.signal, 'SIGUSR2', print)\n"
            "assert(not ok and err.name == 'WEFT_ESTATE', tostring(err))\n"
            "ok, err = pcall(signal.signal, 'SIGUSR1', 'default')\n"
            "assert(not ok and err.name == 'WEFT_ESTATE', tostring(err))\n"
            "assert(signal.getsignal('SIGUSR1') == nil)"),
     "another state may not set actions while it owns them");

  /* C's dispatch on the state's thread, outside any Lua call, runs the
   * handler in the owning state. */
  ok(run(A, "signal.set_delivery('dispatch'); signal.raise('SIGUSR1')"),
     "delivery dispatch, a signal tripped");
  int ran = -1;
  is(weft_signal_dispatch(0, &ran), 0, "C dispatches on the state's thread");
  is(ran, 1, "one handler ran");
  ok(run(A, "assert(hits == 2, hits)"), "in the owning state");

  /* A handler's error that went to C comes out at the next instruction. */
  ok(run(A, "signal.signal('SIGUSR1', function() error('to C', 0) end)\n"
            "signal.raise('SIGUSR1')"),
     "a failing handler, tripped");
  is(weft_signal_dispatch(0, &ran), -EINTR, "C's dispatch says it failed");
  lua_State *L = A;
  int st = luaL_dostring(L, "return 1");
  ok(st != LUA_OK && lua_isstring(L, -1) &&
         strcmp(lua_tostring(L, -1), "to C") == 0,
     "the state raises its error at its next instruction");
  lua_settop(L, 0);
  ok(run(A, "return 1"), "once");

  /* On a thread no Lua state runs on, weft's call reaches no Lua. */
  ok(run(A, "hits = 0\n"
            "signal.signal('SIGUSR1', function() hits = hits + 1 end)\n"
            "signal.raise('SIGUSR1')"),
     "a signal tripped again");
  weft_handle t;
  int ran_there = -1;
  weft_thread_new(dispatch_here, &ran_there, "dispatcher", &t);
  weft_thread_start(t);
  is(weft_thread_join(t, 60), 0, "another thread dispatched");
  weft_close(t);
  ok(run(A, "assert(hits == 0, hits)"),
     "the handler did not run there: no Lua state is entered from a "
     "foreign thread");
  ok(run(A, "signal.set_delivery('waits')"), "delivery waits again");

  lua_close(A);
  is(action_of(SIGUSR1), WEFT_SIG_DFL, "the owner's close reset its handler");
  ok(run(B, "hits = 0\n"
            "signal.signal('SIGUSR1', function() hits = hits + 1 end)\n"
            "signal.raise('SIGUSR1')\n"
            "assert(hits == 1)\n"
            "assert(signal.signal('SIGUSR1', 'default') ~= nil)"),
     "then another state may own the handlers");
  lua_close(B);
  is(action_of(SIGUSR1), WEFT_SIG_DFL, "and nothing is left behind");

  /* A state on another thread names it as the one whose waits run
   * handlers, and its close names the main thread again. */
  weft_handle ready, th;
  weft_event_new(&ready);
  weft_thread_new(lua_on_thread, &ready, "lua-signals", &th);
  weft_thread_start(th);
  is(weft_event_wait(ready, 60), 0, "a state on a thread owns a handler");
  is(weft_signal_pthread_kill(th, SIGUSR2), 0, "a signal for that thread");
  is(weft_thread_join(th, 60), 0, "its handler ran there");
  int result = -1;
  weft_thread_get_result(th, &result);
  is(result, 0, "in its state, with delivery naming its thread");
  int mode = -1;
  weft_handle runner = -1;
  weft_signal_get_delivery(&mode, &runner);
  ok(mode == WEFT_SIGNAL_WAITS && runner == 0,
     "its close named the main thread again");
  weft_close(th);
  weft_close(ready);
}

int main(void) {
  weft_handle ev, sem;
  weft_event_new(&ev);
  weft_semaphore_new(0, &sem);

  lua_State *L = new_state();
  ok(run(L, "weft = require 'weft'"), "require 'weft' through package.cpath");
  ok(run(L, "assert(package.loaded['weft.core'] == weft.core)"),
     "weft.core is the module found on the cpath");

  /* A handle made in C, used by a Lua thread (a fresh state). */
  lua_pushinteger(L, ev);
  lua_setglobal(L, "EV");
  ok(run(L, "weft.Thread(function(h) require('weft').wrap(h):set() end, EV)"
            ":start()"),
     "a Lua thread started from the host's state");
  is(weft_event_wait(ev, 60), 0, "it set the host's event");

  /* A second state in the same process loads the module too. */
  lua_State *L2 = new_state();
  ok(run(L2, "local weft = require 'weft'; assert(weft.Lock():acquire())"),
     "a second state requires weft");
  lua_close(L2);

  /* lua_close waits for a non-daemon thread still running. */
  lua_pushinteger(L, sem);
  lua_setglobal(L, "SEM");
  ok(run(L, "weft.Thread(function(h)\n"
            "  local weft = require 'weft'\n"
            "  weft.sleep(0.05)\n"
            "  weft.wrap(h):release(7)\n"
            "end, SEM):start()"),
     "a thread that outlives the script");
  lua_close(L);
  int64_t value = -1;
  weft_semaphore_get_value(sem, &value);
  is(value, 7, "lua_close waited for it");

  /* A daemon thread outlives the last state: the module stays mapped. */
  weft_handle go, done;
  weft_event_new(&go);
  weft_semaphore_new(0, &done);
  lua_State *L3 = new_state();
  lua_pushinteger(L3, go);
  lua_setglobal(L3, "GO");
  lua_pushinteger(L3, done);
  lua_setglobal(L3, "DONE");
  ok(run(L3, "local weft = require 'weft'\n"
             "weft.Thread{target = function(go, done)\n"
             "  local weft = require 'weft'\n"
             "  weft.wrap(go):wait()\n"
             "  weft.wrap(done):release()\n"
             "end, args = {GO, DONE}, daemon = true}:start()"),
     "a daemon thread");
  lua_close(L3);
  weft_event_set(go);
  is(weft_semaphore_acquire(done, 60), 0,
     "runs on after the process's last Lua state closed");

  test_signals();

  weft_close(ev);
  weft_close(sem);
  return done_testing();
}
