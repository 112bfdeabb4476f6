/*
 * weftlua.h - the hand-written half of the Lua module "weft.core".
 *
 * SWIG generates the wrappers of abi/weft.h from bindings/weft.i; what a
 * typemap cannot say lives in core.c (error values, integers, blocking
 * calls, the per-state record, callbacks run by the owning state) and
 * target.c (thread and timer targets run in fresh lua_States) and
 * signal.c (Lua signal handlers, for weft/signal.lua).  The
 * `%native` functions below are registered in the module by weft.i.
 */
#ifndef WEFTLUA_H
#define WEFTLUA_H

#include <lauxlib.h>
#include <lua.h>
#include <stdint.h>

#include "weft.h"

/* ---- errors (core.c) ---------------------------------------------------
 * A failed weft call raises a table {code, name, message, detail, where}
 * whose metatable (core.Error) has a __tostring. */

/* Raise the error value for `code`, with weft_last_error_message(). */
int weftlua_raise(lua_State *L, weft_status code);
/* Raise the error value for `code` with a message of the binding's own. */
int weftlua_raisef(lua_State *L, weft_status code, const char *fmt, ...);
/* Push true for 0, false for -ETIMEDOUT; raise otherwise.  Returns 1. */
int weftlua_push_timed(lua_State *L, weft_status st);
/* Raise the error value for a failed sendall or stream write, with a
 * field `sent`: how many bytes went before the failure. */
int weftlua_raise_sent(lua_State *L, weft_status code, size_t sent);

/* ---- integers (core.c) ---------------------------------------------------
 * Lua integers are 64-bit; SWIG's own typemaps go through a double. */
lua_Integer weftlua_checkrange(lua_State *L, int idx, lua_Integer lo,
                               lua_Integer hi);

/* ---- signals (signal.c) ------------------------------------------------
 * A Lua signal handler that raised made the weft call that ran it return
 * -EINTR; if one did on this thread, raise its error value in L (a state
 * whose handler it was).  weftlua_raise calls it for -EINTR and
 * weftlua_wait_again before a retry, so the handler's error comes out of
 * the interrupted call instead of EINTR. */
void weftlua_signal_reraise(lua_State *L);

/* ---- buffers and arrays (core.c) ------------------------------------------
 * What weft.i's socket, select and io typemaps call. */

/* A size argument (a buffer's capacity): an integer >= 0; a negative one
 * raises WEFT_EVALUE naming `what`. */
size_t weftlua_checksize(lua_State *L, int idx, const char *what);
/* A list of handles (a table of integers) as a C array in a userdata left
 * on the stack (NULL for an empty list), its length in *n. */
weft_handle *weftlua_check_handles(lua_State *L, int idx, size_t *n);
/* Push a list of the first n handles of a. */
void weftlua_push_handles(lua_State *L, const weft_handle *a, size_t n);

/* ---- blocking calls (core.c) ---------------------------------------------
 * A blocking call that returns -EINTR ran nothing: the state runs the
 * callbacks queued to it, then calls again with the time left (PEP 475). */
typedef struct weftlua_wait {
  double timeout;  /* as given: < 0 forever, 0 poll */
  double deadline; /* monotonic, when timeout > 0 */
} weftlua_wait;

void weftlua_wait_begin(weftlua_wait *w, double timeout);
/* After -EINTR: run what is queued to L's state; the timeout to retry with. */
double weftlua_wait_again(lua_State *L, weftlua_wait *w);

/* barrier_wait (and an ffi call made with blocking = true) may run
 * callbacks of this state on another thread while it blocks (see core.c);
 * these bracket the call.  A borrower that blocks in turn lends the state
 * on until its block_end. */
typedef struct weftlua_owner weftlua_owner;
weftlua_owner *weftlua_block_begin(lua_State *L, lua_State **saved);
void weftlua_block_end(weftlua_owner *o, lua_State *saved);

/* ---- slots (core.c) -------------------------------------------------------
 * A C record that another thread may reach after its owner let go of it
 * is passed as an id, not a pointer: the id of a freed record finds NULL.
 * Every call with the slot lock held. */
void weftlua_slot_lock(void);
void weftlua_slot_unlock(void);
uint64_t weftlua_slot_new(void *p); /* 0 if out of memory */
void *weftlua_slot_get(uint64_t id);
void weftlua_slot_free(uint64_t id);

/* ---- the per-state record (core.c) --------------------------------------- */

/* Code to run in a state: fn(L, arg) with L usable by the calling thread
 * (the state's own thread, or one borrowing it); it must not raise (it
 * makes its own lua_pcall).  0 if it did its work. */
typedef int (*weftlua_run_fn)(lua_State *L, void *arg);

/* The record of L's state with a reference taken (raises if the state is
 * closing), and dropping one.  The record outlives the state while
 * referenced; weftlua_owner_run then fails. */
weftlua_owner *weftlua_owner_ref(lua_State *L);
void weftlua_owner_unref(weftlua_owner *o);

/* Run fn in o's state from any thread, by the rules of a callback (the
 * top of core.c): at once if the state is blocked in a call bracketed by
 * weftlua_block_begin/_end (barrier_wait, an ffi call made with blocking
 * = true: borrowed), else queued to its dispatcher, its home thread
 * interrupted, and waited for (run by the caller itself if the state
 * enters such a call first); not at all (1, with a message on stderr) if
 * the caller is the home thread busy elsewhere, or the state is closing
 * (1).  fn's result otherwise. */
int weftlua_owner_run(weftlua_owner *o, weftlua_run_fn fn, void *arg,
                      const char *what);

/* Registry key under which target.c marks a state it created (its close
 * does not wait for the process's threads). */
#define WEFTLUA_THREAD_STATE "weft.thread_state"

/* What luaopen_weft_core adds beyond SWIG's init: the Error metatable, the
 * per-state record and its close hook, tidy globals.  The module table is
 * at the top of the stack. */
void weftlua_init(lua_State *L);

/* Print "Exception in <what>:" and the message/traceback to stderr in one
 * write, as Python's excepthook does. */
void weftlua_print_exception(const char *what, const char *msg, size_t len);

/* A message handler for lua_pcall: the error with a traceback, through
 * __tostring; the exit marker (core.thread_exit) passes unchanged. */
int weftlua_traceback(lua_State *L);

/* The marker thread_exit raises: a table with this metatable. */
#define WEFTLUA_EXIT "weft.exit"

int luaopen_weft_core(lua_State *L);

/* target.c's metatables (called by weftlua_init). */
void weftlua_target_init(lua_State *L);

/* ffi.c: the C half of weft.ffi, a table (core.ffi_open(), called once
 * per state by weft/ffi.lua). */
int weftlua_ffi_open(lua_State *L);

/* ---- %native functions ----------------------------------------------------
 * core.c */
int weftlua_error_new(lua_State *L);      /* (code, message) -> error value */
int weftlua_dispatch(lua_State *L);       /* (timeout) -> n run */
int weftlua_dispatcher_fd(lua_State *L);  /* () -> fd */
int weftlua_barrier_new(lua_State *L);    /* (parties, action|nil, timeout)
                                             -> handle, callback */
int weftlua_callback_free(lua_State *L);  /* (callback) */
int weftlua_thread_exit(lua_State *L);    /* (result) */
int weftlua_is_thread_state(lua_State *L);
int weftlua_anchor_close_token(lua_State *L);
int weftlua_method(lua_State *L);         /* (C function) -> method */
/* target.c */
int weftlua_thread_new(lua_State *L);     /* (target, name, ...) -> h, tgt */
int weftlua_timer_new(lua_State *L);      /* (interval, target, name, ...) */
int weftlua_target_start(lua_State *L);   /* (tgt) */
int weftlua_target_cancel(lua_State *L);  /* (tgt): Timer.cancel */
int weftlua_start_new_thread(lua_State *L); /* (target, ...) -> ident */
/* signal.c */
int weftlua_signal_set(lua_State *L);     /* (signum, handler) -> previous */
int weftlua_signal_get(lua_State *L);     /* (signum) -> handler */
int weftlua_signal_dispatch(lua_State *L); /* (signum) -> n run */
int weftlua_signal_check_main(lua_State *L); /* () raises in a thread's */

#endif /* WEFTLUA_H */
