/* counter.c - one process-wide counter for the cross-language test, with a
 * racy increment: read, yield, write.  Without a lock around it, threads
 * lose updates; under a shared weft Lock, none are lost.  Python reaches it
 * through ctypes (counter_add, counter_get), Lua through require "counter"
 * (the same .so, so the same counter). */
#include <lauxlib.h>
#include <lua.h>
#include <sched.h>

static volatile long counter;

__attribute__((visibility("default"))) long counter_add(void) {
  long v = counter;
  sched_yield(); /* let another thread in, if the lock does not stop it */
  counter = v + 1;
  return v + 1;
}

__attribute__((visibility("default"))) long counter_get(void) {
  return counter;
}

static int l_add(lua_State *L) {
  lua_pushinteger(L, counter_add());
  return 1;
}

static int l_get(lua_State *L) {
  lua_pushinteger(L, counter_get());
  return 1;
}

__attribute__((visibility("default"))) int luaopen_counter(lua_State *L) {
  static const luaL_Reg fns[] = {{"add", l_add}, {"get", l_get}, {NULL, NULL}};
  luaL_newlib(L, fns);
  return 1;
}
