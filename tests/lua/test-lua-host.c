/* test-lua-host - a C program that embeds Lua 5.4 and loads weft with
 * require "weft", finding weft.core on package.cpath, as an application
 * (or the cross-language test) does; a handle made in C is used by a Lua
 * thread; lua_close waits for non-daemon threads; daemon threads outlive
 * the last state. */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>

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

  weft_close(ev);
  weft_close(sem);
  return done_testing();
}
