/* core.c - the hand-written parts of the Lua module "weft.core" that are
 * not about thread targets: error values, exact integers, blocking calls,
 * the per-state record and the callbacks a state owns.
 *
 * A lua_State may only be entered by one OS thread at a time.  Thread and
 * timer targets therefore get a state of their own (target.c).  Every
 * other Lua callback (a barrier's action, a weft.ffi callback) belongs to
 * the state that registered it, its "owner", and runs there:
 *
 *   - if the owner is blocked in barrier_wait, it cannot touch its state
 *     until that call returns, so the callback runs at once, on the
 *     calling thread, in the owner's state ("borrowing" it: the owner's
 *     barrier_wait does not return into Lua before the borrow ends);
 *   - otherwise the call is queued on the owner's weft dispatcher and the
 *     owner's home thread is interrupted: a blocking weft call it is in
 *     (or its next one) returns -EINTR, and the binding runs the queue and
 *     calls again (weftlua_wait_again).  weft.dispatch(timeout) and the
 *     dispatcher's descriptor drain it from an event loop.  If the owner
 *     enters a borrowable call (weftlua_block_begin) before it drains,
 *     the waiting caller claims its queued call and runs it there itself
 *     (the queue's copy then runs nothing): a C function that waits for
 *     the callback cannot wait for a drain that never comes.
 *
 * weftlua_owner_run is that rule for any C code (ffi.c's callbacks use
 * it); the barrier action is its other user.  A borrower that blocks in a
 * borrowable call itself lends the state on for the duration.
 *
 * A callback is known to C by an id, not a pointer: the id's slot says
 * whether the callback still exists, so a call racing with the Lua object's
 * collection finds nothing instead of freed memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weftlua.h"

#define ERROR_MT "weft.Error"
#define OWNER_KEY "weft.owner"
#define CALLBACK_MT "weft.callback"

/* ======================================================================
 * Error values
 * ====================================================================== */

/* Whether a chunk's source is one of the binding's own Lua files:
 * weft.lua, or weft/NAME.lua (weft/socket.lua). */
static int is_weft_source(const char *src) {
  size_t n = strlen(src);
  if ((n >= 9 && strcmp(src + n - 9, "/weft.lua") == 0) ||
      strcmp(src, "@weft.lua") == 0)
    return 1;
  if (n < 4 || strcmp(src + n - 4, ".lua") != 0)
    return 0;
  const char *slash = strrchr(src, '/');
  if (slash == NULL || strchr(slash, '.') != src + n - 4)
    return 0;
  return (slash - src >= 5 && memcmp(slash - 5, "/weft", 5) == 0) ||
         (slash - src == 5 && memcmp(src, "@weft", 5) == 0);
}

/* "file:line:" of the innermost caller that is not the binding's own Lua
 * code, so an error points at the user's line. */
static void push_where(lua_State *L) {
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); level++) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.currentline <= 0)
      continue;
    if (is_weft_source(ar.source))
      continue;
    lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
    return;
  }
  lua_pushliteral(L, "");
}

static void push_error(lua_State *L, weft_status code, const char *message,
                       int detail) {
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, code);
  lua_setfield(L, -2, "code");
  lua_pushstring(L, weft_err_name(code));
  lua_setfield(L, -2, "name");
  lua_pushstring(L, *message != '\0' ? message : weft_strerror(code));
  lua_setfield(L, -2, "message");
  lua_pushinteger(L, detail);
  lua_setfield(L, -2, "detail");
  push_where(L);
  lua_setfield(L, -2, "where");
  luaL_setmetatable(L, ERROR_MT);
}

int weftlua_raise(lua_State *L, weft_status code) {
  if (code == -EINTR)
    weftlua_signal_reraise(L); /* a signal handler's error, if it was one */
  /* Read the thread-local message before anything can overwrite it. */
  int detail = weft_last_error_detail();
  if (weft_last_error_code() != code)
    detail = 0;
  const char *message =
      weft_last_error_code() == code ? weft_last_error_message() : "";
  push_error(L, code, message, detail);
  return lua_error(L);
}

int weftlua_raisef(lua_State *L, weft_status code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  const char *message = lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  push_error(L, code, message, 0);
  return lua_error(L);
}

int weftlua_push_timed(lua_State *L, weft_status st) {
  if (st < 0 && st != -ETIMEDOUT)
    weftlua_raise(L, st);
  lua_pushboolean(L, st == 0);
  return 1;
}

int weftlua_raise_sent(lua_State *L, weft_status code, size_t sent) {
  int detail = weft_last_error_code() == code ? weft_last_error_detail() : 0;
  const char *message =
      weft_last_error_code() == code ? weft_last_error_message() : "";
  push_error(L, code, message, detail);
  lua_pushinteger(L, (lua_Integer)sent);
  lua_setfield(L, -2, "sent");
  return lua_error(L);
}

/* core.error(code, message): an error value, not raised (weft.lua raises
 * its own argument errors with it, so every weft error looks alike). */
int weftlua_error_new(lua_State *L) {
  weft_status code = (weft_status)weftlua_checkrange(L, 1, INT32_MIN, 0);
  push_error(L, code, luaL_optstring(L, 2, ""), 0);
  return 1;
}

static int error_tostring(lua_State *L) {
  lua_getfield(L, 1, "where");
  lua_getfield(L, 1, "name");
  lua_getfield(L, 1, "message");
  lua_pushfstring(L, "%s%s: %s", luaL_optstring(L, -3, ""),
                  luaL_optstring(L, -2, "?"), luaL_optstring(L, -1, ""));
  return 1;
}

/* ======================================================================
 * Integers
 * ====================================================================== */

lua_Integer weftlua_checkrange(lua_State *L, int idx, lua_Integer lo,
                               lua_Integer hi) {
  lua_Integer v = luaL_checkinteger(L, idx);
  if (v < lo || v > hi)
    luaL_argerror(L, idx,
                  lua_pushfstring(L, "%I is out of range [%I, %I]", v, lo, hi));
  return v;
}

/* ======================================================================
 * Buffers and arrays
 * ====================================================================== */

size_t weftlua_checksize(lua_State *L, int idx, const char *what) {
  lua_Integer v = luaL_checkinteger(L, idx);
  if (v < 0)
    weftlua_raisef(L, WEFT_EVALUE, "%s: a size must be >= 0, not %I", what,
                   v);
  return (size_t)v;
}

weft_handle *weftlua_check_handles(lua_State *L, int idx, size_t *n) {
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_Integer len = luaL_len(L, idx); /* __len may say anything */
  *n = (size_t)(len > 0 ? len : 0);
  if (*n == 0)
    return NULL;
  if (*n > SIZE_MAX / sizeof(weft_handle))
    luaL_argerror(L, idx, lua_pushfstring(L, "%I handles are too many", len));
  weft_handle *a = lua_newuserdatauv(L, *n * sizeof *a, 0);
  for (size_t i = 0; i < *n; i++) {
    int isnum;
    lua_geti(L, idx, (lua_Integer)i + 1);
    a[i] = (weft_handle)lua_tointegerx(L, -1, &isnum);
    if (!isnum)
      luaL_argerror(L, idx,
                    lua_pushfstring(L, "item %I is not a handle (%s)",
                                    (lua_Integer)i + 1, luaL_typename(L, -1)));
    lua_pop(L, 1);
  }
  return a;
}

void weftlua_push_handles(lua_State *L, const weft_handle *a, size_t n) {
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushinteger(L, (lua_Integer)a[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* ======================================================================
 * The per-state record
 * ====================================================================== */

/* Shared by the state and by callbacks in flight on other threads (refs);
 * freed by the last of them.  Fields under `mu` unless said otherwise. */
struct weftlua_owner {
  atomic_int refs;
  pthread_mutex_t mu;
  pthread_cond_t cv;    /* borrowed dropped to 0, or a queued call is done */
  int closed;           /* the state is closing: callbacks fail at once */
  int thread_state;     /* created by target.c (read-only) */
  weft_handle home;     /* the thread that loaded the module (read-only) */
  weft_handle dispatcher; /* 0 until first needed */
  lua_State *in_call;   /* a coroutine of this state inside barrier_wait */
  int borrowed;         /* another thread runs a callback in in_call */
  lua_State *draining;  /* the coroutine running the dispatcher's queue;
                           touched only by the thread running the state */
};

static weftlua_owner *owner_of(lua_State *L) {
  lua_getfield(L, LUA_REGISTRYINDEX, OWNER_KEY);
  weftlua_owner **p = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return p != NULL ? *p : NULL;
}

/* The record of a state whose close has not begun; raises otherwise. */
static weftlua_owner *check_owner(lua_State *L) {
  weftlua_owner *o = owner_of(L);
  if (o == NULL)
    weftlua_raisef(L, WEFT_ECLOSED, "weft.core: the Lua state is closing");
  return o;
}

static void owner_unref(weftlua_owner *o) {
  if (atomic_fetch_sub(&o->refs, 1) != 1)
    return;
  pthread_cond_destroy(&o->cv);
  pthread_mutex_destroy(&o->mu);
  free(o);
}

/* The owner's dispatcher, made on first use; 0 if it cannot be made or
 * the state is closing.  With o->mu held. */
static weft_handle owner_dispatcher(weftlua_owner *o) {
  if (o->dispatcher == 0 && !o->closed)
    weft_dispatcher_new(&o->dispatcher);
  return o->closed ? 0 : o->dispatcher;
}

/* Run what is queued to this state (at most `timeout` waiting for it);
 * `make`: create the dispatcher if there is none yet.  -ETIMEDOUT when
 * nothing came. */
static weft_status drain(lua_State *L, weftlua_owner *o, double timeout,
                         int make, size_t *ran) {
  pthread_mutex_lock(&o->mu);
  weft_handle d = make ? owner_dispatcher(o) : o->dispatcher;
  pthread_mutex_unlock(&o->mu);
  *ran = 0;
  if (d == 0)
    return make ? WEFT_ECLOSED : -ETIMEDOUT;
  lua_State *outer = o->draining;
  o->draining = L;
  weft_status st = weft_dispatcher_run(d, timeout, ran);
  o->draining = outer;
  return st;
}

/* Python's exit rule, for the state's close: wait for every non-daemon
 * thread, running what other threads queue to this state meanwhile. */
static void shutdown_threads(lua_State *L) {
  weftlua_wait w;
  weftlua_wait_begin(&w, -1);
  while (weft_thread_shutdown(-1) == -EINTR)
    weftlua_wait_again(L, &w);
}

/* __gc of the record's userdata: the state is closing (it is referenced
 * from the registry, so nothing else collects it).  Created first, it is
 * finalized after every weft object of the state. */
static int owner_gc(lua_State *L) {
  weftlua_owner **p = lua_touserdata(L, 1);
  weftlua_owner *o = *p;
  if (o == NULL)
    return 0;
  if (!o->thread_state)
    shutdown_threads(L);
  *p = NULL;
  pthread_mutex_lock(&o->mu);
  o->closed = 1; /* from here on nothing is queued */
  weft_handle d = o->dispatcher;
  pthread_mutex_unlock(&o->mu);
  if (d != 0) {
    /* Release the callers still waiting: their calls fail. */
    size_t ran;
    o->draining = NULL;
    while (weft_dispatcher_run(d, 0, &ran) == 0 && ran > 0)
      ;
    weft_close(d);
  }
  owner_unref(o);
  return 0;
}

static void owner_init(lua_State *L) {
  if (owner_of(L) != NULL)
    return; /* the module was loaded before in this state */
  weftlua_owner **p = lua_newuserdatauv(L, sizeof *p, 0);
  *p = NULL;
  luaL_newmetatable(L, OWNER_KEY);
  lua_pushcfunction(L, owner_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  weftlua_owner *o = calloc(1, sizeof *o);
  if (o == NULL)
    luaL_error(L, "weft.core: not enough memory");
  atomic_init(&o->refs, 1);
  pthread_mutex_init(&o->mu, NULL);
  pthread_cond_init(&o->cv, NULL);
  lua_getfield(L, LUA_REGISTRYINDEX, WEFTLUA_THREAD_STATE);
  o->thread_state = lua_toboolean(L, -1);
  lua_pop(L, 1);
  weft_thread_current(&o->home);
  *p = o;
  lua_setfield(L, LUA_REGISTRYINDEX, OWNER_KEY);
}

/* Keep weft.lua's close token reachable until the state closes. */
int weftlua_anchor_close_token(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "weft.close_token");
  return 0;
}

int weftlua_is_thread_state(lua_State *L) {
  weftlua_owner *o = owner_of(L);
  lua_pushboolean(L, o != NULL && o->thread_state);
  return 1;
}

/* ======================================================================
 * Blocking calls
 * ====================================================================== */

void weftlua_wait_begin(weftlua_wait *w, double timeout) {
  w->timeout = timeout;
  w->deadline = timeout > 0 ? weft_monotonic() + timeout : 0;
}

double weftlua_wait_again(lua_State *L, weftlua_wait *w) {
  weftlua_signal_reraise(L); /* a signal handler failed: no retry */
  weftlua_owner *o = owner_of(L);
  size_t ran;
  if (o != NULL)
    drain(L, o, 0, 0, &ran);
  if (w->timeout <= 0)
    return w->timeout;
  double left = w->deadline - weft_monotonic();
  return left > 0 ? left : 0;
}

weftlua_owner *weftlua_block_begin(lua_State *L, lua_State **saved) {
  weftlua_owner *o = owner_of(L);
  if (o == NULL)
    return NULL; /* closing: no callback can borrow the state any more */
  pthread_mutex_lock(&o->mu);
  *saved = o->in_call;
  /* A state blocked in a call runs Lua only through a borrow: a caller
   * that finds in_call set is that borrower, blocking in turn (a barrier
   * action that waits on a barrier).  It lends the state on until
   * block_end takes it back, so other callbacks can run meanwhile. */
  if (*saved != NULL)
    o->borrowed = 0;
  o->in_call = L;
  /* Callers waiting for a queued call may now run it here themselves. */
  pthread_cond_broadcast(&o->cv);
  pthread_mutex_unlock(&o->mu);
  return o;
}

void weftlua_block_end(weftlua_owner *o, lua_State *saved) {
  if (o == NULL)
    return;
  pthread_mutex_lock(&o->mu);
  while (o->borrowed)
    pthread_cond_wait(&o->cv, &o->mu);
  o->in_call = saved;
  if (saved != NULL)
    o->borrowed = 1; /* the borrow block_begin lent on */
  pthread_mutex_unlock(&o->mu);
}

/* ======================================================================
 * Slots: ids for C records that another thread may look up after their
 * owner let go of them.  id = gen << 32 | index; a stale id finds NULL.
 * ====================================================================== */

typedef struct slot {
  uint32_t gen;
  uint32_t next_free; /* while p is NULL */
  void *p;
} slot;

static pthread_mutex_t slot_mu = PTHREAD_MUTEX_INITIALIZER;
static slot *slots;
static uint32_t slot_len, slot_cap, slot_free_head = UINT32_MAX;

void weftlua_slot_lock(void) { pthread_mutex_lock(&slot_mu); }
void weftlua_slot_unlock(void) { pthread_mutex_unlock(&slot_mu); }

uint64_t weftlua_slot_new(void *p) {
  uint32_t i = slot_free_head;
  if (i != UINT32_MAX) {
    slot_free_head = slots[i].next_free;
  } else {
    if (slot_len == slot_cap) {
      uint32_t cap = slot_cap ? slot_cap * 2 : 64;
      slot *n = realloc(slots, cap * sizeof *n);
      if (n == NULL)
        return 0;
      slots = n;
      slot_cap = cap;
    }
    i = slot_len++;
    slots[i].gen = 1;
  }
  slots[i].p = p;
  return (uint64_t)slots[i].gen << 32 | i;
}

void *weftlua_slot_get(uint64_t id) {
  uint32_t i = (uint32_t)id;
  if (i >= slot_len || slots[i].gen != (uint32_t)(id >> 32))
    return NULL;
  return slots[i].p;
}

void weftlua_slot_free(uint64_t id) {
  uint32_t i = (uint32_t)id;
  if (weftlua_slot_get(id) == NULL)
    return;
  slots[i].p = NULL;
  slots[i].gen++;
  slots[i].next_free = slot_free_head;
  slot_free_head = i;
}

/* ======================================================================
 * Callbacks owned by a state
 * ====================================================================== */

typedef struct callback {
  int ref; /* the function, in the owner's registry */
  weftlua_owner *owner;
} callback;

/* Register the function at idx; 0 if out of memory. */
static uint64_t cb_new(lua_State *L, int idx, weftlua_owner *o) {
  callback *c = malloc(sizeof *c);
  if (c == NULL)
    return 0;
  lua_pushvalue(L, idx);
  c->ref = luaL_ref(L, LUA_REGISTRYINDEX);
  c->owner = o;
  weftlua_slot_lock();
  uint64_t id = weftlua_slot_new(c);
  weftlua_slot_unlock();
  if (id == 0) {
    luaL_unref(L, LUA_REGISTRYINDEX, c->ref);
    free(c);
    return 0;
  }
  atomic_fetch_add(&o->refs, 1);
  return id;
}

/* On the owner's state (the thread running it). */
static void cb_free_id(lua_State *L, uint64_t id) {
  weftlua_slot_lock();
  callback *c = weftlua_slot_get(id);
  weftlua_slot_free(id);
  weftlua_slot_unlock();
  if (c == NULL)
    return;
  luaL_unref(L, LUA_REGISTRYINDEX, c->ref);
  owner_unref(c->owner);
  free(c);
}

/* Any thread: the owner of id with a reference taken, or NULL. */
static weftlua_owner *cb_owner(uint64_t id) {
  weftlua_slot_lock();
  callback *c = weftlua_slot_get(id);
  weftlua_owner *o = c != NULL ? c->owner : NULL;
  if (o != NULL)
    atomic_fetch_add(&o->refs, 1);
  weftlua_slot_unlock();
  return o;
}

typedef struct cbjob {
  uint64_t id;
  const char *what;
} cbjob;

/* In a lua_pcall: run the callback (if it still exists) in a coroutine of
 * its own, so a traceback shows the callback and not the frames of the
 * state it interrupted; raise that traceback if it fails. */
static int cb_protected(lua_State *L) {
  cbjob *job = lua_touserdata(L, 1);
  weftlua_slot_lock();
  callback *c = weftlua_slot_get(job->id);
  int ref = c != NULL ? c->ref : LUA_NOREF;
  weftlua_slot_unlock();
  if (ref == LUA_NOREF)
    return luaL_error(L, "%s: its object was collected", job->what);
  lua_State *co = lua_newthread(L);
  lua_rawgeti(co, LUA_REGISTRYINDEX, ref);
  int nres;
  int st = lua_resume(co, L, 0, &nres);
  if (st == LUA_OK)
    return 0;
  if (st == LUA_YIELD)
    return luaL_error(L, "%s: a callback cannot yield", job->what);
  lua_xmove(co, L, 1); /* the error value */
  const char *msg = luaL_tolstring(L, -1, NULL);
  luaL_traceback(L, co, msg, 0);
#if LUA_VERSION_RELEASE_NUM >= 50406
  lua_closethread(co, L);
#else
  lua_resetthread(co);
#endif
  return lua_error(L);
}

/* Call callback id in L, which this thread may use now.  0 if it returned;
 * 1 if it raised (printed like an uncaught thread exception). */
static int cb_call_in(lua_State *L, uint64_t id, const char *what) {
  /* Nothing here may raise: L's error handler may belong to another
   * thread's C stack.  lua_checkstack reports instead of raising. */
  if (!lua_checkstack(L, 4))
    return 1;
  int top = lua_gettop(L);
  cbjob job = {id, what};
  lua_pushcfunction(L, cb_protected);
  lua_pushlightuserdata(L, &job);
  int st = lua_pcall(L, 1, 0, 0);
  if (st != LUA_OK) {
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    if (msg == NULL)
      msg = "(error object is not a string)", len = strlen(msg);
    weftlua_print_exception(what, msg, len);
  }
  lua_settop(L, top);
  return st != LUA_OK;
}

/* A queued call.  Shared by the queue and the caller waiting for it
 * (refs, under the owner's mu): if the state enters a blocking call
 * (weftlua_block_begin) before draining its queue, the caller claims the
 * call and runs it in that call's coroutine itself, so a C function that
 * waits for the callback (pthread_join on the thread making it) cannot
 * wait for a drain that never comes. */
typedef struct cbcall {
  weftlua_run_fn fn;
  void *arg;
  weftlua_owner *owner;
  int rc;
  int done;
  int claimed; /* run (or being run) by the queue or by the caller */
  int refs;
} cbcall;

/* With the owner's mu held. */
static void cbcall_unref(cbcall *c) {
  if (--c->refs == 0)
    free(c);
}

/* A queued call, run by weft_dispatcher_run in drain(). */
static void cb_dispatched(void *arg) {
  cbcall *c = arg;
  weftlua_owner *o = c->owner;
  pthread_mutex_lock(&o->mu);
  int closed = o->closed;
  int claimed = c->claimed;
  c->claimed = 1;
  pthread_mutex_unlock(&o->mu);
  int rc = 1;
  if (!claimed && !closed && o->draining != NULL)
    rc = c->fn(o->draining, c->arg);
  pthread_mutex_lock(&o->mu);
  if (!claimed) {
    c->rc = rc;
    c->done = 1;
    pthread_cond_broadcast(&o->cv);
  }
  cbcall_unref(c);
  pthread_mutex_unlock(&o->mu);
}

static int on_home_thread(weftlua_owner *o) {
  weft_handle self;
  return weft_thread_current(&self) == 0 && self == o->home;
}

weftlua_owner *weftlua_owner_ref(lua_State *L) {
  weftlua_owner *o = check_owner(L);
  atomic_fetch_add(&o->refs, 1);
  return o;
}

void weftlua_owner_unref(weftlua_owner *o) { owner_unref(o); }

/* Run fn(L, arg) in the state of `o` from any thread (see the top of the
 * file); fn's result, or 1 if it could not run. */
int weftlua_owner_run(weftlua_owner *o, weftlua_run_fn fn, void *arg,
                      const char *what) {
  int rc = 1;
  pthread_mutex_lock(&o->mu);
  while (o->borrowed && o->in_call != NULL && !o->closed)
    pthread_cond_wait(&o->cv, &o->mu);
  if (o->closed) {
    pthread_mutex_unlock(&o->mu);
  } else if (o->in_call != NULL) {
    lua_State *L = o->in_call;
    o->borrowed = 1;
    pthread_mutex_unlock(&o->mu);
    rc = fn(L, arg);
    pthread_mutex_lock(&o->mu);
    o->borrowed = 0;
    pthread_cond_broadcast(&o->cv);
    pthread_mutex_unlock(&o->mu);
  } else if (on_home_thread(o)) {
    /* The owner's thread is inside a weft call that is not its own
     * barrier_wait (another state's, C's): waiting for it to drain its
     * queue would wait for ourselves. */
    pthread_mutex_unlock(&o->mu);
    fprintf(stderr, "weft: %s not run: its Lua state is busy on this "
                    "thread\n", what);
  } else {
    cbcall *c = calloc(1, sizeof *c);
    weft_handle d = owner_dispatcher(o);
    if (c != NULL) {
      *c = (cbcall){fn, arg, o, 1, 0, 0, 2};
      /* Queued under mu, so owner_gc's last drain (after it set closed)
       * sees it; queued before the interrupt, so the drain the interrupt
       * causes finds it. */
      if (d == 0 || weft_dispatcher_call(d, cb_dispatched, c, 0) < 0) {
        free(c);
        c = NULL;
      }
    }
    if (c != NULL) {
      weft_thread_interrupt(o->home);
      while (!c->done) {
        if (!c->claimed && o->in_call != NULL && !o->borrowed &&
            !o->closed) {
          /* The state blocks in a call that lets callbacks borrow it. */
          c->claimed = 1;
          lua_State *L = o->in_call;
          o->borrowed = 1;
          pthread_mutex_unlock(&o->mu);
          c->rc = fn(L, arg);
          pthread_mutex_lock(&o->mu);
          o->borrowed = 0;
          c->done = 1;
          pthread_cond_broadcast(&o->cv);
          break;
        }
        pthread_cond_wait(&o->cv, &o->mu);
      }
      rc = c->rc;
      cbcall_unref(c);
    }
    pthread_mutex_unlock(&o->mu);
  }
  return rc;
}

static int cb_run(lua_State *L, void *arg) {
  cbjob *job = arg;
  return cb_call_in(L, job->id, job->what);
}

/* Run callback id in its owning state from any thread; 0 if it returned
 * normally. */
static int cb_invoke(uint64_t id, const char *what) {
  weftlua_owner *o = cb_owner(id);
  if (o == NULL)
    return 1;
  cbjob job = {id, what};
  int rc = weftlua_owner_run(o, cb_run, &job, what);
  owner_unref(o);
  return rc;
}

/* The callback userdata: frees its id when collected or closed. */
static uint64_t *check_callback(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, CALLBACK_MT);
}

int weftlua_callback_free(lua_State *L) {
  uint64_t *id = check_callback(L, 1);
  if (*id != 0)
    cb_free_id(L, *id);
  *id = 0;
  return 0;
}

/* ======================================================================
 * Barrier with a Lua action; dispatch
 * ====================================================================== */

static int barrier_action(void *arg) {
  return cb_invoke((uint64_t)(uintptr_t)arg, "barrier action");
}

int weftlua_barrier_new(lua_State *L) {
  int64_t parties = luaL_checkinteger(L, 1);
  int has_action = !lua_isnoneornil(L, 2);
  if (has_action)
    luaL_checktype(L, 2, LUA_TFUNCTION);
  double timeout = luaL_checknumber(L, 3);
  uint64_t *id = NULL;
  if (has_action) {
    id = lua_newuserdatauv(L, sizeof *id, 0);
    *id = 0;
    luaL_setmetatable(L, CALLBACK_MT);
    if ((*id = cb_new(L, 2, check_owner(L))) == 0)
      return weftlua_raisef(L, -ENOMEM, "barrier_new: not enough memory");
  }
  weft_handle h;
  weft_status st =
      weft_barrier_new(parties, has_action ? barrier_action : NULL,
                       has_action ? (void *)(uintptr_t)*id : NULL, timeout, &h);
  if (st < 0) {
    if (has_action) {
      cb_free_id(L, *id); /* calls no weft function: the error stays */
      *id = 0;
    }
    return weftlua_raise(L, st);
  }
  lua_pushinteger(L, h);
  if (has_action)
    lua_pushvalue(L, -2);
  else
    lua_pushnil(L);
  return 2;
}

int weftlua_dispatch(lua_State *L) {
  double timeout = luaL_optnumber(L, 1, -1);
  weftlua_owner *o = check_owner(L);
  weftlua_wait w;
  weftlua_wait_begin(&w, timeout);
  size_t ran;
  weft_status st;
  while ((st = drain(L, o, timeout, 1, &ran)) == -EINTR)
    timeout = weftlua_wait_again(L, &w);
  if (st == -ETIMEDOUT)
    ran = 0;
  else if (st < 0)
    return weftlua_raise(L, st);
  lua_pushinteger(L, (lua_Integer)ran);
  return 1;
}

int weftlua_dispatcher_fd(lua_State *L) {
  weftlua_owner *o = check_owner(L);
  pthread_mutex_lock(&o->mu);
  weft_handle d = owner_dispatcher(o);
  pthread_mutex_unlock(&o->mu);
  int fd;
  weft_status st = weft_dispatcher_fd(d, &fd);
  if (st < 0)
    return weftlua_raise(L, st);
  lua_pushinteger(L, fd);
  return 1;
}

/* ======================================================================
 * Methods
 * ====================================================================== */

static int method_call(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushliteral(L, "handle");
  lua_rawget(L, 1);
  lua_replace(L, 1);
  return lua_tocfunction(L, lua_upvalueindex(1))(L);
}

/* core.method(fn): obj:m(...) calls fn(obj.handle, ...) with no Lua frame
 * in between (weft.lua's forwarding methods: the hot path of a lock). */
int weftlua_method(lua_State *L) {
  if (lua_tocfunction(L, 1) == NULL)
    luaL_typeerror(L, 1, "C function");
  lua_settop(L, 1);
  lua_pushcclosure(L, method_call, 1);
  return 1;
}

/* ======================================================================
 * Thread exit, exceptions
 * ====================================================================== */

int weftlua_thread_exit(lua_State *L) {
  lua_Integer result =
      lua_isnoneornil(L, 1) ? 0 : weftlua_checkrange(L, 1, INT32_MIN, INT32_MAX);
  weftlua_owner *o = owner_of(L);
  if (o == NULL || !o->thread_state)
    return weftlua_raisef(L, WEFT_ESTATE,
                          "thread_exit: only a Lua thread target can end "
                          "its thread");
  lua_createtable(L, 0, 1);
  lua_pushinteger(L, result);
  lua_setfield(L, -2, "result");
  luaL_setmetatable(L, WEFTLUA_EXIT);
  return lua_error(L);
}

void weftlua_print_exception(const char *what, const char *msg, size_t len) {
  /* The traceback ends in the binding's own C frame: not the user's. */
  static const char tail[] = "\n\t[C]: in ?";
  size_t n = sizeof tail - 1;
  if (len >= n && memcmp(msg + len - n, tail, n) == 0)
    len -= n;
  /* One call, so lines from several threads do not interleave. */
  fprintf(stderr, "Exception in %s:\n%.*s\n", what, (int)len, msg);
  fflush(stderr);
}

int weftlua_traceback(lua_State *L) {
  if (lua_getmetatable(L, 1)) {
    luaL_getmetatable(L, WEFTLUA_EXIT);
    int is_exit = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    if (is_exit)
      return 1;
  }
  const char *msg = luaL_tolstring(L, 1, NULL);
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* ======================================================================
 * Module init
 * ====================================================================== */

void weftlua_init(lua_State *L) {
  int module = lua_gettop(L);
  if (luaL_newmetatable(L, ERROR_MT)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_setfield(L, module, "Error");
  luaL_newmetatable(L, WEFTLUA_EXIT);
  lua_pop(L, 1);
  if (luaL_newmetatable(L, CALLBACK_MT)) {
    lua_pushcfunction(L, weftlua_callback_free);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  weftlua_target_init(L);
  owner_init(L);
  /* weft/ffi.lua opens weft.ffi's C half with this. */
  lua_pushcfunction(L, weftlua_ffi_open);
  lua_setfield(L, module, "ffi_open");
}
