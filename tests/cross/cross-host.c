/* cross-host.c - one process, two interpreters, one set of weft handles.
 *
 * A C host embeds Python and Lua 5.4.  Python (weft.threading) creates an
 * Event and a Lock; a Lua thread (its own lua_State on a weft thread)
 * waits on that Event by handle; Python sets it; then the Lua thread and
 * a Python weft thread each bump a racy counter (tests/cross/counter.c)
 * under that Lock.  No update may be lost, and the Lua thread must not
 * have moved before the Event was set.
 *
 *   cross-host SCRIPT.py SCRIPT.lua      (TAP on stdout)
 *
 * SCRIPT.py defines `event`, `lock`, `N`, go(thread) and count();
 * SCRIPT.lua defines start(event, lock, n) -> thread handle and
 * finish() -> the Lua thread's result.
 */
#include <Python.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdio.h>

#include "tap.h"

/* Python: call __main__.name(*args) with integer args; the result as a
 * long long (-1 with the traceback printed to stderr on failure). */
static long long py_call(const char *name, int n, long long a) {
  PyObject *main = PyImport_AddModule("__main__");
  PyObject *fn = PyObject_GetAttrString(main, name);
  PyObject *res = NULL;
  if (fn != NULL)
    res = n == 0 ? PyObject_CallNoArgs(fn)
                 : PyObject_CallFunction(fn, "L", a);
  Py_XDECREF(fn);
  long long v = -1;
  if (res != NULL)
    v = PyLong_AsLongLong(res);
  if (PyErr_Occurred())
    PyErr_Print();
  Py_XDECREF(res);
  return v;
}

/* Python: the integer expression `expr` evaluated in __main__. */
static long long py_eval(const char *expr) {
  PyObject *main = PyImport_AddModule("__main__");
  PyObject *d = PyModule_GetDict(main);
  PyObject *res = PyRun_String(expr, Py_eval_input, d, d);
  long long v = res != NULL ? PyLong_AsLongLong(res) : -1;
  if (PyErr_Occurred())
    PyErr_Print();
  Py_XDECREF(res);
  return v;
}

/* Lua: call global `name` with integer args; results stay on the stack.
 * Returns 0 or prints the error and returns -1. */
static int lua_callg(lua_State *L, const char *name, int nargs,
                     const long long *args, int nres) {
  lua_getglobal(L, name);
  for (int i = 0; i < nargs; i++)
    lua_pushinteger(L, (lua_Integer)args[i]);
  if (lua_pcall(L, nargs, nres, 0) != LUA_OK) {
    diag("lua %s: %s", name, lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 3)
    BAIL("usage: cross-host SCRIPT.py SCRIPT.lua");

  Py_Initialize();
  FILE *f = fopen(argv[1], "r");
  if (f == NULL)
    BAIL("cannot open %s", argv[1]);
  ok(PyRun_SimpleFileEx(f, argv[1], 1) == 0, "Python ran %s", argv[1]);
  long long event = py_eval("event.handle");
  long long lock = py_eval("lock.handle");
  long long n = py_eval("N");
  ok(event > 0 && lock > 0, "Python made an Event (%lld) and a Lock (%lld)",
     event, lock);

  /* Python waits for nothing while Lua runs: let other threads take the
   * GIL (Python weft threads) until we call back in. */
  PyThreadState *saved = PyEval_SaveThread();

  lua_State *L = luaL_newstate();
  luaL_openlibs(L);
  int lua_ok = luaL_dofile(L, argv[2]) == LUA_OK;
  if (!lua_ok)
    diag("lua: %s", lua_tostring(L, -1));
  ok(lua_ok, "Lua ran %s", argv[2]);
  long long args[3] = {event, lock, n};
  long long thread = -1;
  if (lua_callg(L, "start", 3, args, 1) == 0) {
    thread = (long long)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  ok(thread > 0, "Lua started a thread (%lld) that waits on the Event",
     thread);

  PyEval_RestoreThread(saved);
  long long before = py_call("go", 1, thread);
  is((int)before, 0, "the Lua thread did nothing until Python set the Event");
  saved = PyEval_SaveThread();

  long long result = -1;
  if (lua_callg(L, "finish", 0, NULL, 1) == 0) {
    result = (long long)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  is((int)result, 0, "the Lua thread made its increments and returned");

  PyEval_RestoreThread(saved);
  long long total = py_call("count", 0, 0);
  is((int)total, (int)(2 * n),
     "the counter is %lld: no update lost between Python and Lua", 2 * n);

  lua_close(L);
  ok(Py_FinalizeEx() == 0, "Python finalized cleanly");
  return done_testing();
}
