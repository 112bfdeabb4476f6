/* signal.c - the C half of weft.signal: Lua signal handlers over weft's
 * signal module.
 *
 * A Lua handler runs at the next Lua instruction after its signal, as
 * lua.c's SIGINT does, or inside a blocking weft call of the Lua thread.
 * For each signal with a Lua handler the process has two C handlers:
 *
 *   - weft's (installed by weft_signal_set with WEFT_SIGNAL_CHAIN), which
 *     trips the signal and then calls
 *   - ours (sig_action), installed with sigaction just before, whose only
 *     work is lua.c's laction: lua_sethook(owner, sig_hook, every event,
 *     count 1) on the owner state's main thread.
 *
 * sig_hook clears itself (restoring a hook the program had, such as
 * debug.sethook's) and calls weft_signal_dispatch, which calls
 * sig_callback for each tripped signal on this thread: it runs the Lua
 * handler.  Inside a blocking weft call of the dispatching thread
 * (WEFT_SIGNAL_WAITS) weft calls sig_callback itself.  In WEFT_SIGNAL_
 * DISPATCH mode the hook does not dispatch: only weft.signal.dispatch()
 * runs handlers then.
 *
 * The owner.  Signals belong to the process, so one Lua state at a time
 * holds the Lua handlers: the first to set one, from its home thread (a
 * thread target's state may not), until it closes; its close resets them
 * to the default action (as CPython's finalization does).  If that thread
 * is not the process's main thread, the state names it as WAITS mode's
 * dispatching thread (weft_signal_set_delivery) while it owns the
 * handlers, unless someone named another thread first.
 *
 * Where a handler runs.  sig_callback enters Lua only on the owner's
 * thread: in the state of the hook or dispatch() that is running on this
 * thread (sig_running: a coroutine, maybe), else in the owner's main
 * thread if this is the owner's home thread (a blocking call of the state,
 * which may be a coroutine's: its main thread then waits in
 * coroutine.resume and runs the handler above that frame).  Called on any
 * other thread (WEFT_SIGNAL_THREAD mode, another binding's or C's
 * weft_signal_dispatch), it touches no Lua state and returns 0: that
 * signal's handler does not run.
 *
 * Errors.  A handler runs under lua_pcall (weft's frames are on the C
 * stack).  When it raises, its error value is kept in the state
 * (registry box, sig_failed on this thread) and sig_callback returns 1:
 * the weft call that ran it returns -EINTR, and the binding raises the
 * kept error instead of EINTR (weftlua_signal_reraise, called by
 * weftlua_raise and weftlua_wait_again).  The hook is armed too, so an
 * error whose -EINTR went to C code (not to a weft.core call) comes out
 * at the next Lua instruction.
 *
 * Coroutines.  Hooks are per lua_State: the signal arms the owner's main
 * thread, as lua.c does, and coroutines made while it is armed.  A
 * coroutine that runs without yielding and without a blocking weft call
 * delays the handler until it yields or returns (lua.c's limit too).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>

#include "weftlua.h"

/* Registry keys (light userdata) of the owner state. */
static char handlers_key; /* table: signum -> the Lua handler */
static char errbox_key;   /* table whose [1] is a failed handler's error */
static char record_key;   /* userdata whose __gc gives the handlers up */
#define RECORD_MT "weft.signal.record"

/* The owner's main thread; NULL if no state owns the handlers.  Written
 * under sig_mu; read by the C handler and by sig_callback (acquire). */
static pthread_mutex_t sig_mu = PTHREAD_MUTEX_INITIALIZER;
static lua_State *_Atomic sig_L;
static pthread_t sig_home;           /* the owner's thread (before sig_L) */
static weft_handle sig_named;        /* the thread we named for WAITS, or 0 */

/* The arg of our weft handlers: how weft_signal_get tells ours. */
static char sig_tag;

/* This thread's state running sig_hook or dispatch(), if any. */
static _Thread_local lua_State *sig_running;
/* A handler failed on this thread; its error is in the state's box. */
static _Thread_local int sig_failed;

/* The hook sig_hook replaced, restored when it runs. */
static _Atomic lua_Hook saved_hook;
static atomic_int saved_mask, saved_count;

static void sig_hook(lua_State *L, lua_Debug *ar);

static lua_State *main_of(lua_State *L) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  lua_State *m = lua_tothread(L, -1);
  lua_pop(L, 1);
  return m;
}

/* lua.c's laction: run sig_hook at L's next instruction.  Safe in a
 * signal handler (Lua's "reasonable assumptions" for lua_sethook). */
static void sig_arm(lua_State *L) {
  lua_Hook h = lua_gethook(L);
  if (h != sig_hook) {
    atomic_store(&saved_hook, h);
    atomic_store(&saved_mask, lua_gethookmask(L));
    atomic_store(&saved_count, lua_gethookcount(L));
  }
  lua_sethook(L, sig_hook,
              LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT, 1);
}

/* Our C handler, called by weft's after it tripped the signal. */
static void sig_action(int signum) {
  (void)signum;
  lua_State *L = atomic_load_explicit(&sig_L, memory_order_acquire);
  if (L != NULL)
    sig_arm(L);
}

/* ======================================================================
 * Running a handler
 * ====================================================================== */

/* In a lua_pcall: call the handler of signum (arg 1), if it still has one. */
static int sig_protected(lua_State *L) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &handlers_key);
  if (!lua_istable(L, -1))
    return 0;
  lua_rawgeti(L, -1, lua_tointeger(L, 1));
  if (lua_isnil(L, -1))
    return 0;
  lua_pushvalue(L, 1);
  lua_call(L, 1, 0);
  return 0;
}

/* Run signum's handler in L (this thread runs L).  Nothing here may
 * raise: weft's frames are below.  The box exists (sig_claim made it) and
 * its [1] is in the array part, so storing the error allocates nothing. */
static int sig_call(lua_State *L, int signum) {
  if (!lua_checkstack(L, 4))
    return 0;
  int top = lua_gettop(L);
  lua_pushcfunction(L, sig_protected);
  lua_pushinteger(L, signum);
  if (lua_pcall(L, 1, 0, 0) == LUA_OK) {
    lua_settop(L, top);
    return 0;
  }
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &errbox_key) == LUA_TTABLE) {
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
    sig_failed = 1;
  }
  lua_settop(L, top);
  sig_arm(L); /* in case this -EINTR does not reach weft.core */
  return 1;
}

/* weft's handler function: see the top of the file for where it runs. */
static int sig_callback(void *arg, int signum) {
  (void)arg;
  lua_State *L = sig_running;
  if (L == NULL) {
    L = atomic_load_explicit(&sig_L, memory_order_acquire);
    if (L == NULL || !pthread_equal(pthread_self(), sig_home))
      return 0; /* a foreign thread: no Lua state may be entered here */
  }
  return sig_call(L, signum);
}

void weftlua_signal_reraise(lua_State *L) {
  if (!sig_failed)
    return;
  sig_failed = 0;
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &errbox_key) != LUA_TTABLE) {
    lua_pop(L, 1);
    return;
  }
  lua_rawgeti(L, -1, 1);
  lua_pushnil(L);
  lua_rawseti(L, -3, 1);
  lua_error(L);
}

/* Run the tripped handlers (signum's, or all for 0) with L as the running
 * state. */
static weft_status sig_dispatch_in(lua_State *L, int signum, int *ran) {
  lua_State *outer = sig_running;
  sig_running = L;
  weft_status st = weft_signal_dispatch(signum, ran);
  sig_running = outer;
  return st;
}

static void sig_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, atomic_load(&saved_hook), atomic_load(&saved_mask),
              atomic_load(&saved_count));
  weftlua_signal_reraise(L);
  int mode;
  weft_handle thread;
  if (weft_signal_get_delivery(&mode, &thread) == 0 &&
      mode == WEFT_SIGNAL_DISPATCH)
    return; /* the program runs them (weft.signal.dispatch) */
  int ran;
  if (sig_dispatch_in(L, 0, &ran) == -EINTR)
    weftlua_signal_reraise(L);
}

/* ======================================================================
 * The owner
 * ====================================================================== */

static int is_owner(lua_State *L) {
  return atomic_load(&sig_L) == main_of(L);
}

/* The state closes: give its handlers up (SIG_DFL) and stop owning. */
static int record_gc(lua_State *L) {
  lua_State *m = main_of(L);
  pthread_mutex_lock(&sig_mu);
  if (atomic_load(&sig_L) == m) {
    for (int s = 1; s < NSIG; s++) {
      int action;
      void *arg;
      if (weft_signal_get(s, &action, &arg) == 0 &&
          action == WEFT_SIG_HANDLER && arg == &sig_tag)
        weft_signal_set(s, WEFT_SIG_DFL, 0, NULL, NULL);
    }
    int mode;
    weft_handle thread;
    if (sig_named != 0 && weft_signal_get_delivery(&mode, &thread) == 0 &&
        mode == WEFT_SIGNAL_WAITS && thread == sig_named)
      weft_signal_set_delivery(WEFT_SIGNAL_WAITS, 0);
    sig_named = 0;
    atomic_store(&sig_L, NULL);
  }
  pthread_mutex_unlock(&sig_mu);
  return 0;
}

/* The state's tables and record, made once (allocation may raise, so
 * before sig_mu is taken). */
static void sig_tables(lua_State *L) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &record_key) != LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  lua_createtable(L, NSIG, 0);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &handlers_key);
  lua_createtable(L, 1, 0);
  lua_pushboolean(L, 0);
  lua_rawseti(L, -2, 1); /* [1] in the array part from now on */
  lua_pushnil(L);
  lua_rawseti(L, -2, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &errbox_key);
  lua_newuserdatauv(L, 1, 0);
  if (luaL_newmetatable(L, RECORD_MT)) {
    lua_pushcfunction(L, record_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &record_key);
}

/* May L set signal actions?  own: it sets a Lua handler, so it becomes
 * the owner if there is none.  Raises WEFT_ESTATE if not. */
static void sig_claim(lua_State *L, int own) {
  lua_getfield(L, LUA_REGISTRYINDEX, WEFTLUA_THREAD_STATE);
  int thread_state = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (thread_state)
    weftlua_raisef(L, WEFT_ESTATE,
                   "signal: only a main Lua state can set signal actions, "
                   "not a thread's");
  lua_State *m = main_of(L);
  if (own)
    sig_tables(L);
  weft_handle self = 0, main_thread = 0;
  if (own) {
    weft_thread_current(&self);
    weft_thread_main(&main_thread);
  }
  pthread_mutex_lock(&sig_mu);
  lua_State *owner = atomic_load(&sig_L);
  if (owner != NULL && owner != m) {
    pthread_mutex_unlock(&sig_mu);
    weftlua_raisef(L, WEFT_ESTATE,
                   "signal: another Lua state has the signal handlers");
  }
  if (owner == NULL && own) {
    sig_home = pthread_self();
    int mode;
    weft_handle thread;
    if (self != 0 && self != main_thread &&
        weft_signal_get_delivery(&mode, &thread) == 0 &&
        mode == WEFT_SIGNAL_WAITS && thread == 0 &&
        weft_signal_set_delivery(WEFT_SIGNAL_WAITS, self) == 0)
      sig_named = self;
    atomic_store_explicit(&sig_L, m, memory_order_release);
  }
  pthread_mutex_unlock(&sig_mu);
}

/* ======================================================================
 * %native functions
 * ====================================================================== */

/* What Lua sees of an action: "default", "ignore", this state's handler,
 * or nil (a C handler, or another binding's or state's). */
static void push_action(lua_State *L, int signum, int action, void *arg) {
  if (action == WEFT_SIG_DFL) {
    lua_pushliteral(L, "default");
    return;
  }
  if (action == WEFT_SIG_IGN) {
    lua_pushliteral(L, "ignore");
    return;
  }
  if (action == WEFT_SIG_HANDLER && arg == &sig_tag && is_owner(L)) {
    if (lua_rawgetp(L, LUA_REGISTRYINDEX, &handlers_key) == LUA_TTABLE) {
      lua_rawgeti(L, -1, signum);
      lua_remove(L, -2);
      return;
    }
    lua_pop(L, 1);
  }
  lua_pushnil(L);
}

static int check_signum(lua_State *L, int idx) {
  return (int)weftlua_checkrange(L, idx, INT_MIN, INT_MAX);
}

/* signal_set(signum, handler) -> the previous one.  handler: "default",
 * "ignore" or a callable (weft/signal.lua checked it). */
int weftlua_signal_set(lua_State *L) {
  int signum = check_signum(L, 1);
  luaL_checkany(L, 2);
  lua_settop(L, 2);
  int action = WEFT_SIG_HANDLER;
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char *s = lua_tostring(L, 2);
    if (strcmp(s, "default") == 0)
      action = WEFT_SIG_DFL;
    else if (strcmp(s, "ignore") == 0)
      action = WEFT_SIG_IGN;
    else
      return weftlua_raisef(L, WEFT_EVALUE, "signal: unknown action \"%s\"",
                            s);
  }
  sig_claim(L, action == WEFT_SIG_HANDLER);
  int prev;
  void *prev_arg;
  weft_status st = weft_signal_get(signum, &prev, &prev_arg);
  if (st < 0)
    return weftlua_raise(L, st);
  push_action(L, signum, prev, prev_arg); /* 3: the result */
  int has_table =
      lua_rawgetp(L, LUA_REGISTRYINDEX, &handlers_key) == LUA_TTABLE; /* 4 */
  if (action != WEFT_SIG_HANDLER) {
    st = weft_signal_set(signum, action, 0, NULL, NULL);
    if (st < 0)
      return weftlua_raise(L, st);
    if (has_table && signum > 0 && signum < NSIG) {
      lua_pushnil(L);
      lua_rawseti(L, 4, signum);
    }
    lua_settop(L, 3);
    return 1;
  }
  if (signum <= 0 || signum >= NSIG) /* weft_signal_get let it through? */
    return weftlua_raisef(L, -EINVAL, "signal: bad signal number %d", signum);
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = sig_action;
  sigemptyset(&sa.sa_mask);
  if (sigaction(signum, &sa, &old) != 0) {
    int e = errno;
    return weftlua_raisef(L, -e, "signal %d: %s", signum, strerror(e));
  }
  lua_rawgeti(L, 4, signum); /* 5: the old entry, for a failure */
  lua_pushvalue(L, 2);
  lua_rawseti(L, 4, signum); /* the array part: allocates nothing */
  st = weft_signal_set(signum, WEFT_SIG_HANDLER, WEFT_SIGNAL_CHAIN,
                       sig_callback, &sig_tag);
  if (st < 0) {
    sigaction(signum, &old, NULL);
    lua_rawseti(L, 4, signum);
    return weftlua_raise(L, st);
  }
  lua_settop(L, 3);
  return 1;
}

/* signal_get(signum) -> "default", "ignore", the handler or nil. */
int weftlua_signal_get(lua_State *L) {
  int signum = check_signum(L, 1);
  int action;
  void *arg;
  weft_status st = weft_signal_get(signum, &action, &arg);
  if (st < 0)
    return weftlua_raise(L, st);
  push_action(L, signum, action, arg);
  return 1;
}

/* signal_dispatch(signum) -> how many handlers ran.  A handler's error
 * comes out of it. */
int weftlua_signal_dispatch(lua_State *L) {
  int signum = check_signum(L, 1);
  lua_State *owner = atomic_load(&sig_L);
  if (owner != NULL && owner != main_of(L))
    return weftlua_raisef(L, WEFT_ESTATE,
                          "signal.dispatch: the handlers belong to another "
                          "Lua state");
  int ran = 0;
  weft_status st = sig_dispatch_in(L, signum, &ran);
  if (st < 0)
    return weftlua_raise(L, st);
  lua_pushinteger(L, ran);
  return 1;
}

/* signal_check_main(what): raise WEFT_ESTATE in a thread target's state
 * (Python's "only the main thread" rule for set_wakeup_fd). */
int weftlua_signal_check_main(lua_State *L) {
  (void)luaL_optstring(L, 1, "signal");
  sig_claim(L, 0);
  return 0;
}
