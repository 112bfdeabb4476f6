/* thread.h - thread records and per-thread state (internal).
 *
 * A thread record (weft__thread) is the object behind a Thread handle and,
 * as the first member of a timer, behind a Timer handle.  Its mutable
 * fields are guarded by its own mutex `mu`; joiners wait on `cv`.  Every
 * alive record with a handle (started threads, pending or running timers,
 * dummy threads, the main thread) is on the registry list, which
 * enumerate, active_count and shutdown read.
 *
 * Ownership: a started thread or timer holds one pin on its own handle
 * ("own pin") from start until it has finished, so its record outlives
 * every use by its OS thread.  For a timer the own pin travels with it:
 * heap, then ready queue, then the worker running it.  Dummy records hold
 * no pin: weft owns their handle and closes it when the thread exits.
 *
 * Each OS thread that uses weft has a weft__tstate, reached through a
 * _Thread_local pointer and also stored under a pthread key whose
 * destructor runs weft__tstate_exit for threads that exit by themselves
 * (alien threads, and weft threads leaving through pthread_exit).
 *
 * Lock order: hook_mu, locals L, timer service S, registry R are never
 * nested in one another (fork's prepare takes them in that order), nor
 * around a handle-table mutex, except hook_mu around the hook kind's slab
 * mutex in hook_new (fork takes slab mutexes after all of these); rec->mu
 * (inside R when a record finishes) and a tstate's lmu (inside L) are
 * innermost.
 * No user callback runs while weft holds any of them.
 */
#ifndef WEFT_THREAD_H
#define WEFT_THREAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "weft.h"

/* Record states.  STARTED is "alive". */
enum { WEFT__ST_NEW, WEFT__ST_STARTED, WEFT__ST_FINISHED, WEFT__ST_CLOSED };

/* What an OS thread is to weft. */
enum {
  WEFT__TS_ALIEN,  /* not started by weft (may get a dummy record) */
  WEFT__TS_MAIN,   /* the process's initial thread */
  WEFT__TS_THREAD, /* runs a Thread's target */
  WEFT__TS_RAW,    /* started by weft_thread_start_new */
  WEFT__TS_WORKER, /* a timer worker; rec is the timer it runs, if any */
  WEFT__TS_ADOPTED /* an alien thread inside weft_thread_adopt */
};

#define WEFT__THREAD_KINDS                                                  \
  ((1ull << WEFT_KIND_THREAD) | (1ull << WEFT_KIND_TIMER))

typedef struct weft__thread weft__thread;
struct weft__thread {
  /* Immutable once the handle is issued. */
  int kind; /* WEFT_KIND_THREAD or WEFT_KIND_TIMER */
  weft_handle handle;
  weft_thread_fn target;
  void *arg;

  pthread_mutex_t mu;
  pthread_cond_t cv; /* broadcast on finish, on native id, on revert */
  /* Under mu.  daemon does not change once state leaves NEW. */
  int state;
  int daemon;
  int dummy;          /* not joinable; weft closes the handle at exit */
  int result;         /* valid when FINISHED */
  int claim_released; /* weft_close came while alive: close at finish */
  int os_running;     /* pthread is this record's live OS thread and its
                         OS name follows the record's name */
  char *name;
  _Atomic uint64_t ident; /* also stored by start, without mu */
  int64_t native_id;
  pthread_t pthread;

  /* weft_thread_interrupt of the OS thread running this record. */
  weft__intr intr;

  /* Under the registry mutex. */
  weft__thread *rprev, *rnext;
  int registered;
};

struct weft__hookobj;
struct weft__lentry;

typedef struct weft__tstate weft__tstate;
struct weft__tstate {
  int kind;           /* WEFT__TS_* */
  weft__thread *rec;  /* the record this OS thread runs as, or NULL */
  int exit_result;    /* set by weft_thread_exit */
  int exiting;        /* inside weft__tstate_exit */
  int worker_live;    /* a timer worker still counted in the pool */
  weft_thread_fn boot_fn; /* weft_thread_start_new's function */
  void *boot_arg;

  /* Start hooks being run by this thread (thread.c, under hook_mu). */
  struct weft__hookobj **hsnap;
  size_t hsnap_n, hsnap_i;
  struct weft__hookobj *hook_running;

  /* Thread-local values (local.c).  lents/lcap are guarded by lmu; the
   * list links and llisted by the locals mutex L. */
  pthread_mutex_t lmu;
  struct weft__lentry *lents;
  uint32_t lcap;
  int llisted;
  weft__tstate *lprev, *lnext;
  void *lrunning;    /* the local whose exit destructor runs here now */
  unsigned lclosing; /* > 0 while a local's close runs destructors here */
};

static inline int64_t weft__gettid(void) { return (int64_t)syscall(SYS_gettid); }

/* ---- per-thread state ---- */

/* The calling thread's state, or NULL if it has none yet. */
weft__tstate *weft__tstate_peek(void);
/* The calling thread's state, created (as an alien thread's, or the main
 * thread's) if needed; NULL with an error recorded ("<what>: out of
 * memory") if out of memory. */
weft__tstate *weft__tstate_get(const char *what);
/* A fresh state for a thread about to be started (kind WEFT__TS_*). */
weft__tstate *weft__tstate_alloc(int kind);
/* Free a state that is no thread's (never installed, or exited). */
void weft__tstate_free(weft__tstate *T);
/* Make T the calling thread's state (first thing a new thread does). */
void weft__tstate_install(weft__tstate *T);
/* The calling thread is done: destroy its locals, finish its record with
 * `result`, free T.  Runs from the thread's own code or from the key
 * destructor. */
void weft__tstate_exit(weft__tstate *T, int result);

/* ---- records ---- */

/* Initialise a zeroed record.  name NULL gives "Thread-N".  The daemon
 * flag is the calling thread's. */
weft_status weft__thread_init(weft__thread *rec, int kind,
                              weft_thread_fn target, void *arg,
                              const char *name, const char *what);
/* Issue rec's handle; on failure the record is freed. */
weft_status weft__thread_issue(weft__thread *rec, weft_handle *out);

/* NEW -> STARTED, own pin taken, registered.  WEFT_ESTATE if started
 * before, WEFT_ECLOSED if closed meanwhile. */
weft_status weft__thread_claim_start(weft__thread *rec, const char *what);
/* Undo claim_start after a failed start: back to NEW, own pin dropped. */
void weft__thread_unstart(weft__thread *rec);
/* The calling OS thread now runs rec: ident, native id and, when weft
 * owns the OS thread (os_owned; not an adopted one), its OS name. */
void weft__thread_began(weft__thread *rec, int os_owned);
/* rec has finished with `result`: unregister, wake joiners, and close the
 * handle if its claim was given up (or if it is a dummy).  The own pin is
 * the caller's to drop afterwards. */
void weft__thread_finish(weft__thread *rec, int result);

/* Run the start hooks for `thread` on the calling thread. */
void weft__thread_hooks_run(weft__tstate *T, weft_handle thread);

/* The calling thread's daemon flag (what a new thread inherits). */
int weft__thread_current_daemon(void);

/* pthread attributes for a new detached weft thread (the current stack
 * size applied).  Destroy with pthread_attr_destroy. */
void weft__thread_attr(pthread_attr_t *attr);

/* Set an OS thread's name, truncated to 15 bytes on a UTF-8 boundary. */
void weft__thread_os_name(pthread_t t, const char *name);

/* Register weft's thread-side fork handlers (idempotent; called by every
 * constructor of threads, timers, hooks, locals and thread states). */
void weft__thread_atfork_init(void);

/* Kind operations shared by Thread and Timer handles. */
weft_status weft__thread_before_close(void *obj);
void weft__thread_close_op(void *obj);
void weft__thread_destroy(void *obj);
/* In a fork child: the record's mutex and condvar start afresh. */
void weft__thread_atfork_child(void *obj);

#endif
