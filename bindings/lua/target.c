/* target.c - Lua thread and timer targets, each run in a fresh lua_State.
 *
 * A lua_State is not thread-safe, so the new weft thread cannot call a
 * function of its creator's state.  Instead the creator packs the target
 * (Lua source, or the function's string.dump) and its arguments into one
 * malloc'd block; the thread opens a new state with the standard
 * libraries, the creator's package.path and package.cpath and this module
 * preloaded, loads the target, unpacks the arguments and calls it.  The
 * states share nothing but weft handles.
 *
 * What travels: nil, booleans, integers (exactly) and floats, strings
 * (with any bytes), tables of those (no cycles, no metatables), and weft
 * objects of weft.lua, which arrive as non-owning objects for the same
 * handles.  Upvalues do not travel: a dumped function's _ENV is the new
 * state's globals, its other upvalues are nil.
 *
 * The new thread gets the block's slot id, not a pointer (weftlua_slot_*):
 * anyone holding the handle may start the thread (another Lua state,
 * Python, C), possibly after the creator let go of the block; the run then
 * finds nothing and fails cleanly.  References, under the slot lock: the
 * creator's userdata (weft.target) holds one; a start through
 * target_start holds one for the run it started (`pending`) until the run
 * enters, so "start, then close the Thread" is safe; a run takes (or
 * inherits) one while it unpacks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lualib.h>

#include "weftlua.h"

#define TARGET_MT "weft.target"
#define MAX_DEPTH 64

typedef struct target {
  int refs;           /* under the slot lock, like pending */
  int pending;        /* runs started by target_start, not yet entered */
  uint64_t id;        /* its slot */
  weft_handle handle; /* 0 for start_new_thread */
  int nargs;
  int has_objects;    /* the arguments hold weft objects */
  size_t chunk_len, args_len;
  const char *chunk, *args, *path, *cpath; /* into data[]; path may be NULL */
  char data[];
} target;

/* With the slot lock held. */
static void target_unref_locked(target *t) {
  if (--t->refs == 0) {
    weftlua_slot_free(t->id);
    free(t);
  }
}

static void target_unref(target *t) {
  weftlua_slot_lock();
  target_unref_locked(t);
  weftlua_slot_unlock();
}

/* A run is about to be started (take), or will not run after all (drop). */
static void pending_take(target *t) {
  weftlua_slot_lock();
  t->pending++;
  t->refs++;
  weftlua_slot_unlock();
}

static void pending_drop(target *t) {
  weftlua_slot_lock();
  if (t->pending > 0) {
    t->pending--;
    target_unref_locked(t);
  }
  weftlua_slot_unlock();
}

/* The run's entry: the block with a reference for the run, or NULL if its
 * creator released it before the run began. */
static target *target_enter(uint64_t id) {
  weftlua_slot_lock();
  target *t = weftlua_slot_get(id);
  if (t != NULL) {
    if (t->pending > 0)
      t->pending--; /* the reference target_start took */
    else
      t->refs++;    /* started by someone else */
  }
  weftlua_slot_unlock();
  return t;
}

/* ======================================================================
 * Packing (in the creator's state).  Nothing here raises: errors come back
 * as a message so the caller can free what it built first.
 * ====================================================================== */

typedef struct wbuf {
  char *p;
  size_t n, cap;
  int oom;
} wbuf;

static void put(wbuf *b, const void *s, size_t n) {
  if (b->oom || n == 0)
    return;
  if (b->cap - b->n < n) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->n < n)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
      b->oom = 1;
      return;
    }
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
}

static void put_tag(wbuf *b, char tag) { put(b, &tag, 1); }

static int dump_writer(lua_State *L, const void *p, size_t n, void *ud) {
  (void)L;
  put(ud, p, n);
  return ((wbuf *)ud)->oom;
}

typedef struct packer {
  wbuf b;
  int has_objects;
  const void *path[MAX_DEPTH]; /* the tables being packed, outermost first */
  char err[200];
} packer;

static int pack_value(lua_State *L, packer *pk, int idx, int depth);

static int pack_fail(packer *pk, const char *fmt, const char *arg) {
  snprintf(pk->err, sizeof pk->err, fmt, arg);
  return -1;
}

static int pack_table(lua_State *L, packer *pk, int idx, int depth) {
  if (lua_getmetatable(L, idx)) {
    int is_object = lua_getfield(L, -1, "__weft") != LUA_TNIL;
    lua_pop(L, 2);
    if (!is_object)
      return pack_fail(pk, "%s", "a table with a metatable cannot be sent "
                                 "to another Lua state");
    if (lua_getfield(L, idx, "handle") != LUA_TNUMBER ||
        !lua_isinteger(L, -1)) {
      lua_pop(L, 1);
      return pack_fail(pk, "%s", "a weft object without a handle");
    }
    int64_t h = lua_tointeger(L, -1);
    lua_pop(L, 1);
    put_tag(&pk->b, 'h');
    put(&pk->b, &h, sizeof h);
    pk->has_objects = 1;
    return 0;
  }
  const void *self = lua_topointer(L, idx);
  for (int i = 0; i < depth; i++)
    if (pk->path[i] == self)
      return pack_fail(pk, "%s", "a table that contains itself cannot be "
                                 "sent to another Lua state");
  if (depth == MAX_DEPTH)
    return pack_fail(pk, "%s", "tables nested too deeply to send");
  if (!lua_checkstack(L, 3))
    return pack_fail(pk, "%s", "Lua stack overflow");
  pk->path[depth] = self;
  put_tag(&pk->b, 'T');
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    int top = lua_gettop(L);
    if (pack_value(L, pk, top - 1, depth + 1) < 0 ||
        pack_value(L, pk, top, depth + 1) < 0) {
      lua_pop(L, 2);
      return -1;
    }
    lua_pop(L, 1);
  }
  put_tag(&pk->b, 'E');
  return 0;
}

static int pack_value(lua_State *L, packer *pk, int idx, int depth) {
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
    put_tag(&pk->b, 'n');
    return 0;
  case LUA_TBOOLEAN:
    put_tag(&pk->b, lua_toboolean(L, idx) ? 't' : 'f');
    return 0;
  case LUA_TNUMBER:
    if (lua_isinteger(L, idx)) {
      lua_Integer i = lua_tointeger(L, idx);
      put_tag(&pk->b, 'i');
      put(&pk->b, &i, sizeof i);
    } else {
      lua_Number d = lua_tonumber(L, idx);
      put_tag(&pk->b, 'd');
      put(&pk->b, &d, sizeof d);
    }
    return 0;
  case LUA_TSTRING: {
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    put_tag(&pk->b, 's');
    put(&pk->b, &n, sizeof n);
    put(&pk->b, s, n);
    return 0;
  }
  case LUA_TTABLE:
    return pack_table(L, pk, idx, depth);
  default:
    return pack_fail(pk, "a %s value cannot be sent to another Lua state",
                     lua_typename(L, lua_type(L, idx)));
  }
}

/* ======================================================================
 * Unpacking (in the new state, inside a protected call)
 * ====================================================================== */

typedef struct reader {
  const char *p;
  int wrap; /* stack index of weft.wrap, 0 if no objects travel */
} reader;

static void get(reader *r, void *dst, size_t n) {
  memcpy(dst, r->p, n);
  r->p += n;
}

static void unpack_value(lua_State *L, reader *r) {
  luaL_checkstack(L, 3, "unpacking thread arguments");
  char tag = *r->p++;
  switch (tag) {
  case 'n':
    lua_pushnil(L);
    break;
  case 't':
  case 'f':
    lua_pushboolean(L, tag == 't');
    break;
  case 'i': {
    lua_Integer i;
    get(r, &i, sizeof i);
    lua_pushinteger(L, i);
    break;
  }
  case 'd': {
    lua_Number d;
    get(r, &d, sizeof d);
    lua_pushnumber(L, d);
    break;
  }
  case 's': {
    size_t n;
    get(r, &n, sizeof n);
    lua_pushlstring(L, r->p, n);
    r->p += n;
    break;
  }
  case 'h': {
    int64_t h;
    get(r, &h, sizeof h);
    lua_pushvalue(L, r->wrap);
    lua_pushinteger(L, h);
    lua_call(L, 1, 1);
    break;
  }
  case 'T':
    lua_newtable(L);
    while (*r->p != 'E') {
      unpack_value(L, r);
      unpack_value(L, r);
      lua_rawset(L, -3);
    }
    r->p++;
    break;
  default:
    luaL_error(L, "weft: corrupt thread arguments (tag %d)", tag);
  }
}

/* ======================================================================
 * Building a target (creator side)
 * ====================================================================== */

static target **new_target_ud(lua_State *L) {
  target **ud = lua_newuserdatauv(L, sizeof *ud, 0);
  *ud = NULL;
  luaL_setmetatable(L, TARGET_MT);
  return ud;
}

static const char *opt_package_string(lua_State *L, const char *field,
                                      size_t *len) {
  const char *s = NULL;
  if (lua_getglobal(L, "package") == LUA_TTABLE &&
      lua_getfield(L, -1, field) == LUA_TSTRING)
    s = lua_tolstring(L, -1, len);
  lua_pop(L, lua_type(L, -1) == LUA_TTABLE ? 1 : 2);
  return s; /* still referenced by package[field] */
}

/* Pack the target at fidx and the arguments first..last into a target
 * (refs 1, owned by the userdata pushed on the stack); errors name `what`. */
static target *build_target(lua_State *L, const char *what, int fidx,
                            int first, int last) {
  target **ud = new_target_ud(L);
  packer *pk = calloc(1, sizeof *pk);
  if (pk == NULL)
    luaL_error(L, "weft: not enough memory");
  wbuf chunk = {0};
  const char *fail = NULL;
  int fail_code = WEFT_EVALUE;

  if (lua_type(L, fidx) == LUA_TFUNCTION) {
    if (lua_iscfunction(L, fidx)) {
      fail = "a C function cannot run in another Lua state; pass a Lua "
             "function or Lua source";
    } else {
      lua_pushvalue(L, fidx);
      lua_dump(L, dump_writer, &chunk, 0);
      lua_pop(L, 1);
    }
  } else if (lua_type(L, fidx) == LUA_TSTRING) {
    size_t n;
    const char *s = lua_tolstring(L, fidx, &n);
    /* Compile now, so a syntax error is the creator's error. */
    if (luaL_loadbufferx(L, s, n, "=(thread target)", "bt") != LUA_OK) {
      snprintf(pk->err, sizeof pk->err, "%s", lua_tostring(L, -1));
      fail = pk->err;
    }
    lua_pop(L, 1);
    put(&chunk, s, n);
  } else {
    free(pk);
    free(chunk.p);
    luaL_typeerror(L, fidx, "function or string (Lua source)");
  }

  for (int i = first; fail == NULL && i <= last; i++)
    if (pack_value(L, pk, i, 0) < 0) {
      lua_pushfstring(L, "argument %d: %s", i - first + 1, pk->err);
      fail = lua_tostring(L, -1); /* on the stack until raised */
    }

  size_t plen = 0, cplen = 0;
  const char *path = opt_package_string(L, "path", &plen);
  const char *cpath = opt_package_string(L, "cpath", &cplen);
  target *t = NULL;
  if (fail == NULL && !chunk.oom && !pk->b.oom) {
    size_t size = sizeof *t + chunk.n + pk->b.n + plen + 1 + cplen + 1;
    t = malloc(size);
  }
  if (t == NULL && fail == NULL) {
    fail = "not enough memory";
    fail_code = -ENOMEM;
  }
  if (fail != NULL) {
    lua_pushstring(L, fail);
    free(pk);
    free(chunk.p);
    weftlua_raisef(L, fail_code, "%s: %s", what, lua_tostring(L, -1));
  }
  t->refs = 1;
  t->pending = 0;
  t->handle = 0;
  t->nargs = last >= first ? last - first + 1 : 0;
  t->has_objects = pk->has_objects;
  char *d = t->data;
  t->chunk = chunk.n ? memcpy(d, chunk.p, chunk.n) : d;
  t->chunk_len = chunk.n;
  d += chunk.n;
  t->args = pk->b.n ? memcpy(d, pk->b.p, pk->b.n) : d;
  t->args_len = pk->b.n;
  d += pk->b.n;
  t->path = path ? memcpy(d, path, plen + 1) : NULL;
  d += plen + 1;
  t->cpath = cpath ? memcpy(d, cpath, cplen + 1) : NULL;
  free(pk->b.p);
  free(pk);
  free(chunk.p);
  weftlua_slot_lock();
  t->id = weftlua_slot_new(t);
  weftlua_slot_unlock();
  if (t->id == 0) {
    free(t);
    weftlua_raisef(L, -ENOMEM, "%s: not enough memory", what);
  }
  *ud = t;
  return t;
}

static target *check_target(lua_State *L, int idx) {
  target **ud = luaL_checkudata(L, idx, TARGET_MT);
  if (*ud == NULL)
    luaL_argerror(L, idx, "target already released");
  return *ud;
}

static int target_gc(lua_State *L) {
  target **ud = luaL_checkudata(L, 1, TARGET_MT);
  if (*ud != NULL)
    target_unref(*ud);
  *ud = NULL;
  return 0;
}

/* ======================================================================
 * Running a target (on the new thread)
 * ====================================================================== */

typedef struct runjob {
  target *t; /* NULL once the new state holds everything it needs */
} runjob;

/* A dumped function's upvalues: _ENV is the new state's globals, the rest
 * nil (load gives the first upvalue the globals, whatever its name). */
static void fix_upvalues(lua_State *L, int f) {
  const char *name;
  for (int i = 1; (name = lua_getupvalue(L, f, i)) != NULL; i++) {
    lua_pop(L, 1);
    if (strcmp(name, "_ENV") == 0)
      lua_pushglobaltable(L);
    else if (*name != '\0' && strcmp(name, "(no name)") != 0)
      lua_pushnil(L);
    else
      continue; /* stripped: names unknown, keep what load did */
    lua_setupvalue(L, f, i);
  }
}

static void set_package_string(lua_State *L, const char *field,
                               const char *value) {
  if (value == NULL)
    return;
  lua_getglobal(L, "package");
  lua_pushstring(L, value);
  lua_setfield(L, -2, field);
  lua_pop(L, 1);
}

static int boot(lua_State *L) {
  runjob *job = lua_touserdata(L, 1);
  target *t = job->t;
  luaL_openlibs(L);
  lua_pushboolean(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, WEFTLUA_THREAD_STATE);
  set_package_string(L, "path", t->path);
  set_package_string(L, "cpath", t->cpath);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_weft_core);
  lua_setfield(L, -2, "weft.core");
  lua_pop(L, 1);
  /* Load the module now: it marks this state as a thread's. */
  luaL_requiref(L, "weft.core", luaopen_weft_core, 0);
  lua_pop(L, 1);

  if (luaL_loadbufferx(L, t->chunk, t->chunk_len, "=(thread target)", "bt") !=
      LUA_OK)
    return lua_error(L);
  int f = lua_gettop(L);
  fix_upvalues(L, f);
  reader r = {t->args, 0};
  if (t->has_objects) {
    lua_getglobal(L, "require");
    lua_pushliteral(L, "weft");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "wrap");
    lua_remove(L, -2);
    r.wrap = lua_gettop(L);
  }
  int base = lua_gettop(L);
  for (int i = 0; i < t->nargs; i++)
    unpack_value(L, &r);
  if (r.wrap != 0) {
    lua_remove(L, r.wrap);
    base--;
  }
  job->t = NULL;
  target_unref(t);
  lua_call(L, lua_gettop(L) - base, 0);
  return 0;
}

/* "thread NAME" for the calling weft thread, for the exception message;
 * malloc'd, NULL if out of memory. */
static char *current_what(void) {
  weft_handle self;
  size_t len = 0;
  char small[64];
  if (weft_thread_current(&self) < 0)
    return strdup("thread");
  weft_status st = weft_thread_get_name(self, small, sizeof small, &len);
  char *what = malloc(len + 8);
  if (what == NULL)
    return NULL;
  memcpy(what, "thread ", 7);
  if (st == 0)
    memcpy(what + 7, small, len + 1);
  else if (weft_thread_get_name(self, what + 7, len + 1, &len) < 0)
    strcpy(what + 7, "?");
  return what;
}

/* The exit marker of core.thread_exit: its result, or -1 if idx is not. */
static int exit_result(lua_State *L, int idx, int *result) {
  if (!lua_istable(L, idx) || !lua_getmetatable(L, idx))
    return 0;
  luaL_getmetatable(L, WEFTLUA_EXIT);
  int is_exit = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  if (is_exit) {
    lua_getfield(L, idx, "result");
    *result = (int)lua_tointeger(L, -1);
    lua_pop(L, 1);
  }
  return is_exit;
}

static int run_failed(const char *msg) {
  char *what = current_what();
  weftlua_print_exception(what ? what : "thread", msg, strlen(msg));
  free(what);
  return 1;
}

/* weft_thread_fn of every Lua thread and timer; arg is the block's slot
 * id.  Result: 0 when the target returned, 1 when it raised (printed like
 * Python's excepthook), or the value given to core.thread_exit. */
static int run_target(void *arg) {
  runjob job = {target_enter((uint64_t)(uintptr_t)arg)};
  if (job.t == NULL)
    return run_failed("its Lua target was released (the Thread object was "
                      "closed or collected) before the thread ran");
  int result = 0;
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    target_unref(job.t);
    return run_failed("not enough memory for a Lua state");
  }
  lua_pushcfunction(L, weftlua_traceback);
  lua_pushcfunction(L, boot);
  lua_pushlightuserdata(L, &job);
  if (lua_pcall(L, 1, 0, 1) != LUA_OK && !exit_result(L, -1, &result)) {
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    if (msg == NULL)
      msg = "(error object is not a string)", len = strlen(msg);
    char *what = current_what();
    weftlua_print_exception(what ? what : "thread", msg, len);
    free(what);
    result = 1;
  }
  if (job.t != NULL)
    target_unref(job.t);
  lua_close(L);
  return result;
}

/* ======================================================================
 * The module's functions
 * ====================================================================== */

/* thread_new(target, name|nil, ...) -> handle, target userdata */
int weftlua_thread_new(lua_State *L) {
  const char *name = luaL_optstring(L, 2, NULL);
  target *t = build_target(L, "thread_new", 1, 3, lua_gettop(L));
  weft_handle h;
  weft_status st = weft_thread_new(run_target, (void *)(uintptr_t)t->id,
                                   name, &h);
  if (st < 0)
    return weftlua_raise(L, st); /* the userdata frees t */
  t->handle = h;
  lua_pushinteger(L, h);
  lua_insert(L, -2);
  return 2;
}

/* timer_new(interval, target, name|nil, ...) -> handle, target userdata */
int weftlua_timer_new(lua_State *L) {
  double interval = luaL_checknumber(L, 1);
  const char *name = luaL_optstring(L, 3, NULL);
  target *t = build_target(L, "timer_new", 2, 4, lua_gettop(L));
  weft_handle h;
  weft_status st = weft_timer_new(interval, run_target,
                                  (void *)(uintptr_t)t->id, name, &h);
  if (st < 0)
    return weftlua_raise(L, st);
  t->handle = h;
  lua_pushinteger(L, h);
  lua_insert(L, -2);
  return 2;
}

/* target_start(target userdata): start its thread or timer. */
int weftlua_target_start(lua_State *L) {
  target *t = check_target(L, 1);
  pending_take(t);
  weft_status st = weft_thread_start(t->handle);
  if (st < 0) {
    pending_drop(t); /* calls no weft function: the error stays */
    return weftlua_raise(L, st);
  }
  return 0;
}

/* target_cancel(target userdata): Timer.cancel.  A timer cancelled before
 * its function ran never runs: drop the run's reference here. */
int weftlua_target_cancel(lua_State *L) {
  target *t = check_target(L, 1);
  weft_status st = weft_timer_cancel(t->handle);
  if (st < 0)
    return weftlua_raise(L, st);
  int result;
  if (weft_thread_get_result(t->handle, &result) == 0 &&
      result == WEFT_ECLOSED)
    pending_drop(t);
  return 0;
}

/* start_new_thread(target, ...) -> ident: _thread.start_new_thread. */
int weftlua_start_new_thread(lua_State *L) {
  target *t = build_target(L, "start_new_thread", 1, 2, lua_gettop(L));
  pending_take(t);
  uint64_t ident;
  weft_status st = weft_thread_start_new(run_target,
                                         (void *)(uintptr_t)t->id, &ident);
  if (st < 0) {
    pending_drop(t); /* calls no weft function: the error stays */
    return weftlua_raise(L, st);
  }
  lua_pushinteger(L, (lua_Integer)ident);
  return 1;
}

void weftlua_target_init(lua_State *L) {
  if (luaL_newmetatable(L, TARGET_MT)) {
    lua_pushcfunction(L, target_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
}
