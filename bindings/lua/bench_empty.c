/* bench_empty.c - the baseline of bench-lua: a C function that does
 * nothing, called from Lua the way the binding's functions are. */
#include <lauxlib.h>
#include <lua.h>

static int noop(lua_State *L) {
  (void)L;
  return 0;
}

int luaopen_bench_empty(lua_State *L);

int luaopen_bench_empty(lua_State *L) {
  lua_newtable(L);
  lua_pushcfunction(L, noop);
  lua_setfield(L, -2, "noop");
  return 1;
}
