/* thread.c - Thread: records, per-thread state, the registry of alive
 * threads, the main thread, start hooks, stack size, fork handling, and
 * the low-level thread module (_thread). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "handle.h"
#include "local.h"
#include "sig.h"
#include "thread.h"
#include "timer.h"

#define MIN_STACK_SIZE 32768

/* ---- per-thread state ---- */

static _Thread_local weft__tstate *tls;
static _Thread_local int intr_masked; /* weft__intr_mask depth */
static pthread_key_t tkey; /* value: the thread's tstate, for its exit */

/* ---- registry of alive records (under reg_mu) ---- */

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_cv; /* broadcast whenever a record leaves */
static weft__thread *reg_head;
static size_t reg_count;
/* The main thread's record; it holds a pin of its own ("main pin"). */
static weft__thread *main_rec;

static _Atomic uint64_t name_counter;
static _Atomic size_t stack_size;

static void registry_link(weft__thread *rec) {
  rec->rprev = NULL;
  rec->rnext = reg_head;
  if (reg_head)
    reg_head->rprev = rec;
  reg_head = rec;
  rec->registered = 1;
  reg_count++;
}

static void registry_add(weft__thread *rec) {
  pthread_mutex_lock(&reg_mu);
  registry_link(rec);
  pthread_mutex_unlock(&reg_mu);
}

static void registry_unlink(weft__thread *rec) {
  if (!rec->registered)
    return;
  if (rec->rprev)
    rec->rprev->rnext = rec->rnext;
  else
    reg_head = rec->rnext;
  if (rec->rnext)
    rec->rnext->rprev = rec->rprev;
  rec->registered = 0;
  reg_count--;
  pthread_cond_broadcast(&reg_cv);
}

static void registry_remove(weft__thread *rec) {
  pthread_mutex_lock(&reg_mu);
  registry_unlink(rec);
  pthread_mutex_unlock(&reg_mu);
}

/* ---- records ---- */

static char *counter_name(const char *prefix) {
  char buf[48];
  unsigned long long n = atomic_fetch_add(&name_counter, 1) + 1;
  snprintf(buf, sizeof buf, "%s-%llu", prefix, n);
  return strdup(buf);
}

weft_status weft__thread_init(weft__thread *rec, int kind,
                              weft_thread_fn target, void *arg,
                              const char *name, const char *what) {
  weft__thread_atfork_init();
  rec->kind = kind;
  rec->target = target;
  rec->arg = arg;
  rec->name = name ? strdup(name) : counter_name("Thread");
  if (rec->name == NULL)
    return weft__error(-ENOMEM, ENOMEM, "%s: out of memory", what);
  pthread_mutex_init(&rec->mu, NULL);
  weft__cond_init(&rec->cv);
  weft__intr_init(&rec->intr);
  rec->state = WEFT__ST_NEW;
  rec->daemon = weft__thread_current_daemon();
  return 0;
}

static void record_free(weft__thread *rec) {
  free(rec->name);
  pthread_mutex_destroy(&rec->intr.mu);
  pthread_mutex_destroy(&rec->mu);
  pthread_cond_destroy(&rec->cv);
  free(rec);
}

weft_status weft__thread_issue(weft__thread *rec, weft_handle *out) {
  weft_handle h;
  weft_status st = weft__handle_new(rec->kind, rec, &h);
  if (st < 0) {
    record_free(rec);
    return st;
  }
  rec->handle = h;
  *out = h;
  return 0;
}

/* A record for a thread that is already running (dummy or main). */
static weft__thread *record_running(char *name, int dummy, int daemon,
                                    uint64_t ident, int64_t native,
                                    const char *what) {
  weft__thread *rec = calloc(1, sizeof *rec);
  if (rec == NULL || name == NULL) {
    free(rec);
    free(name);
    weft__error(-ENOMEM, ENOMEM, "%s: out of memory", what);
    return NULL;
  }
  rec->kind = WEFT_KIND_THREAD;
  rec->name = name;
  pthread_mutex_init(&rec->mu, NULL);
  weft__cond_init(&rec->cv);
  weft__intr_init(&rec->intr);
  rec->state = WEFT__ST_STARTED;
  rec->dummy = dummy;
  rec->daemon = daemon;
  rec->ident = ident;
  rec->native_id = native;
  rec->pthread = (pthread_t)ident;
  weft_handle h;
  if (weft__handle_new(WEFT_KIND_THREAD, rec, &h) < 0) {
    record_free(rec);
    return NULL;
  }
  rec->handle = h;
  return rec;
}

weft_status weft__thread_claim_start(weft__thread *rec, const char *what) {
  weft_status st = 0;
  pthread_mutex_lock(&rec->mu);
  if (rec->state == WEFT__ST_CLOSED)
    st = weft__error(WEFT_ECLOSED, 0, "%s: thread %lld was closed", what,
                     (long long)rec->handle);
  else if (rec->state != WEFT__ST_NEW)
    st = weft__error(WEFT_ESTATE, 0, "%s: threads can only be started once",
                     what);
  else
    rec->state = WEFT__ST_STARTED;
  pthread_mutex_unlock(&rec->mu);
  if (st < 0)
    return st;
  if (weft__handle_pin(rec->handle, rec->kind, what) == NULL) {
    pthread_mutex_lock(&rec->mu); /* closed while we started it */
    rec->state = WEFT__ST_CLOSED;
    pthread_cond_broadcast(&rec->cv);
    pthread_mutex_unlock(&rec->mu);
    return weft__error(WEFT_ECLOSED, 0, "%s: thread %lld was closed", what,
                       (long long)rec->handle);
  }
  registry_add(rec);
  return 0;
}

void weft__thread_unstart(weft__thread *rec) {
  weft_handle h = rec->handle;
  registry_remove(rec);
  pthread_mutex_lock(&rec->mu);
  rec->state = WEFT__ST_NEW;
  int claim = rec->claim_released;
  rec->claim_released = 0;
  pthread_cond_broadcast(&rec->cv);
  pthread_mutex_unlock(&rec->mu);
  if (claim) /* a close came while it looked alive: honour it now */
    weft__handle_close_now(h);
  weft__handle_unpin(h);
}

void weft__thread_os_name(pthread_t t, const char *name) {
  char buf[16];
  size_t n = strlen(name);
  if (n > 15) {
    n = 15; /* back off while the cut would split a UTF-8 sequence */
    while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
      n--;
  }
  memcpy(buf, name, n);
  buf[n] = '\0';
  pthread_setname_np(t, buf); /* best effort: the weft name is the truth */
}

void weft__thread_began(weft__thread *rec, int os_owned) {
  pthread_mutex_lock(&rec->mu);
  rec->pthread = pthread_self();
  rec->ident = (uint64_t)rec->pthread;
  rec->native_id = weft__gettid();
  rec->os_running = os_owned;
  if (os_owned)
    weft__thread_os_name(rec->pthread, rec->name);
  pthread_cond_broadcast(&rec->cv);
  pthread_mutex_unlock(&rec->mu);
}

void weft__thread_finish(weft__thread *rec, int result) {
  /* Leaving the registry and becoming FINISHED is one step, so whoever
   * sees it gone (shutdown, enumerate) also sees it dead (is_alive, join),
   * and the other way round. */
  pthread_mutex_lock(&reg_mu);
  registry_unlink(rec);
  pthread_mutex_lock(&rec->mu);
  rec->state = WEFT__ST_FINISHED;
  rec->result = result;
  rec->os_running = 0;
  int dummy = rec->dummy;
  int close_it = rec->claim_released || dummy;
  weft_handle h = rec->handle;
  if (dummy) /* nobody waits on a dummy, and it may go once we unlock */
    pthread_cond_broadcast(&rec->cv);
  pthread_mutex_unlock(&rec->mu);
  pthread_mutex_unlock(&reg_mu);
  /* Others hold a pin while finishing, so rec lives on: wake joiners now
   * that they can take the mutex at once. */
  if (!dummy)
    pthread_cond_broadcast(&rec->cv);
  /* A dummy holds no pin: rec may be gone now; h is all we use. */
  if (close_it)
    weft__handle_close_now(h);
}

/* A running thread's close only gives up the claim (returns 1): finish
 * closes the handle.  Any other state closes at once (returns 0). */
weft_status weft__thread_before_close(void *obj) {
  weft__thread *rec = obj;
  weft_status st = 0;
  pthread_mutex_lock(&rec->mu);
  if (rec->state == WEFT__ST_STARTED && rec->claim_released) {
    st = weft__error(WEFT_EBADHANDLE, 0,
                     "close: bad handle %lld (already closed; the thread "
                     "is still running)",
                     (long long)rec->handle);
  } else if (rec->state == WEFT__ST_STARTED) {
    rec->claim_released = 1;
    st = 1;
  }
  pthread_mutex_unlock(&rec->mu);
  return st;
}

void weft__thread_close_op(void *obj) {
  weft__thread *rec = obj;
  pthread_mutex_lock(&rec->mu);
  if (rec->state == WEFT__ST_NEW)
    rec->state = WEFT__ST_CLOSED; /* a start that pinned first fails */
  pthread_cond_broadcast(&rec->cv);
  pthread_mutex_unlock(&rec->mu);
}

void weft__thread_destroy(void *obj) { record_free(obj); }

void weft__thread_atfork_child(void *obj) {
  weft__thread *rec = obj;
  pthread_mutex_init(&rec->mu, NULL);
  weft__cond_init(&rec->cv);
  weft__intr_init(&rec->intr); /* what it slept on was the parent's */
}

/* ---- the main thread ---- */

static void main_adopt(weft__thread *rec) {
  weft__handle_pin(rec->handle, WEFT_KIND_THREAD, "thread_main");
  main_rec = rec;
}

/* The main record, made if there is none yet.  ident 0 means "not seen
 * yet" (the library was loaded on another thread); it is bound when the
 * main thread first shows up.  Handles are issued outside reg_mu, so the
 * registry mutex never nests a handle-table mutex. */
static weft__thread *main_get(uint64_t ident) {
  pthread_mutex_lock(&reg_mu);
  weft__thread *rec = main_rec;
  pthread_mutex_unlock(&reg_mu);
  if (rec != NULL)
    return rec;
  weft__thread *fresh = record_running(strdup("MainThread"), 0, 0, ident,
                                       (int64_t)getpid(), "thread_main");
  if (fresh == NULL)
    return NULL;
  weft__handle_pin(fresh->handle, WEFT_KIND_THREAD, "thread_main");
  pthread_mutex_lock(&reg_mu);
  if (main_rec == NULL) {
    main_rec = fresh;
    registry_link(fresh);
    fresh = NULL;
  }
  rec = main_rec;
  pthread_mutex_unlock(&reg_mu);
  if (fresh != NULL) { /* another thread made it first */
    weft__handle_close_now(fresh->handle);
    weft__handle_unpin(fresh->handle);
  }
  return rec;
}

/* T is a fresh state on the main thread: run it as the main record. */
static void main_bind(weft__tstate *T) {
  uint64_t self = (uint64_t)pthread_self();
  weft__thread *rec = main_get(self);
  if (rec == NULL)
    return;
  pthread_mutex_lock(&rec->mu);
  int mine = rec->state == WEFT__ST_STARTED &&
             (rec->ident == 0 || rec->ident == self) && !rec->dummy;
  if (mine) {
    rec->ident = self;
    rec->pthread = pthread_self();
    rec->native_id = weft__gettid();
  }
  pthread_mutex_unlock(&rec->mu);
  if (mine) {
    T->rec = rec;
    T->kind = WEFT__TS_MAIN;
  }
}

/* ---- per-thread state ---- */

weft__tstate *weft__tstate_peek(void) { return tls; }

weft__tstate *weft__tstate_alloc(int kind) {
  weft__thread_atfork_init();
  weft__tstate *T = calloc(1, sizeof *T);
  if (T == NULL)
    return NULL;
  T->kind = kind;
  pthread_mutex_init(&T->lmu, NULL);
  return T;
}

void weft__tstate_install(weft__tstate *T) {
  tls = T;
  pthread_setspecific(tkey, T);
}

void weft__tstate_free(weft__tstate *T) {
  free(T->lents);
  pthread_mutex_destroy(&T->lmu);
  free(T);
}

weft__tstate *weft__tstate_get(const char *what) {
  weft__tstate *T = tls;
  if (T != NULL)
    return T;
  T = weft__tstate_alloc(WEFT__TS_ALIEN);
  if (T == NULL) {
    weft__error(-ENOMEM, ENOMEM, "%s: out of memory", what);
    return NULL;
  }
  weft__tstate_install(T);
  if (weft__gettid() == (int64_t)getpid())
    main_bind(T);
  return T;
}

static void hooks_abandon(weft__tstate *T);

void weft__tstate_exit(weft__tstate *T, int result) {
  T->exiting = 1;
  hooks_abandon(T);
  weft__local_thread_exit(T);
  if (T->kind == WEFT__TS_WORKER) {
    weft__timer_worker_exit(T, result);
  } else if (T->rec != NULL) {
    weft__thread *rec = T->rec;
    weft_handle h = rec->handle;
    T->rec = NULL;
    weft__thread_finish(rec, result);
    if (T->kind == WEFT__TS_THREAD)
      weft__handle_unpin(h); /* the own pin */
  }
  tls = NULL;
  pthread_setspecific(tkey, NULL);
  weft__tstate_free(T);
}

#if defined(__has_feature) /* clang */
#if __has_feature(address_sanitizer) && !defined(__SANITIZE_ADDRESS__)
#define __SANITIZE_ADDRESS__ 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
/* A thread ended by pthread_exit from code ASan did not build (CPython
 * ends a daemon thread that way when it asks for the GIL during
 * finalization) is unwound behind ASan's back: the abandoned frames keep
 * their redzones poisoned, and ASan's own thread teardown, which runs in
 * that memory after this destructor, reports them as a stack-buffer-
 * underflow in sigaltstack.  Nothing below this frame is alive any more:
 * unpoison it. */
static void unpoison_dead_stack(void) {
  pthread_attr_t a;
  void *lo;
  size_t size;
  if (pthread_getattr_np(pthread_self(), &a) != 0)
    return;
  char *here = __builtin_frame_address(0);
  if (pthread_attr_getstack(&a, &lo, &size) == 0 && here > (char *)lo &&
      here <= (char *)lo + size)
    __asan_unpoison_memory_region(lo, (size_t)(here - (char *)lo));
  pthread_attr_destroy(&a);
}
#else
static void unpoison_dead_stack(void) {}
#endif

/* The key destructor: a thread that had state exits without weft's help
 * (an alien thread, or pthread_exit). */
static void tstate_dtor(void *p) {
  weft__tstate *T = p;
  unpoison_dead_stack();
  tls = T;
  weft__tstate_exit(T, T->exit_result);
}

int weft__thread_current_daemon(void) {
  weft__tstate *T = weft__tstate_get("thread_new");
  if (T != NULL && T->rec != NULL) {
    pthread_mutex_lock(&T->rec->mu);
    int d = T->rec->daemon;
    pthread_mutex_unlock(&T->rec->mu);
    return d;
  }
  if (T != NULL) /* start_new threads are daemonic, as are alien ones (the
                    main thread got its record in weft__tstate_get) */
    return 1;
  return weft__gettid() != (int64_t)getpid(); /* out of memory: guess */
}

/* ---- start hooks ---- */

typedef struct weft__hookobj {
  weft_thread_hook_fn fn;
  void *arg;
  /* Under hook_mu. */
  int removed;
  unsigned running; /* threads inside fn now */
  unsigned refs;    /* 1 for the handle, 1 per snapshot holding it */
  struct weft__hookobj *prev, *next;
} hookobj;

static pthread_mutex_t hook_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hook_cv; /* broadcast when a removed hook is left */
static hookobj *hook_head, *hook_tail;
static _Atomic size_t hook_count;

static void hook_unref(hookobj *p) {
  if (--p->refs == 0)
    free(p);
}

/* Under hook_mu: a thread is out of p's function.  A close of p waits for
 * the count to drop to 0, or to 1 when it runs inside p itself, so every
 * exit from a removed hook wakes it, not only the last. */
static void hook_leave(hookobj *p) {
  p->running--;
  if (p->removed)
    pthread_cond_broadcast(&hook_cv);
}

/* Run hooks from a snapshot taken under hook_mu, so that hooks added or
 * removed meanwhile do not disturb the walk.  The walk's state lives in T
 * so that a hook calling weft_thread_exit leaves nothing behind. */
void weft__thread_hooks_run(weft__tstate *T, weft_handle thread) {
  if (atomic_load_explicit(&hook_count, memory_order_acquire) == 0)
    return;
  pthread_mutex_lock(&hook_mu);
  size_t n = atomic_load_explicit(&hook_count, memory_order_relaxed);
  hookobj **snap = n ? malloc(n * sizeof *snap) : NULL;
  if (snap == NULL) {
    pthread_mutex_unlock(&hook_mu);
    return;
  }
  size_t k = 0;
  for (hookobj *p = hook_head; p != NULL && k < n; p = p->next) {
    p->refs++;
    snap[k++] = p;
  }
  T->hsnap = snap;
  T->hsnap_n = k;
  for (T->hsnap_i = 0; T->hsnap_i < T->hsnap_n; T->hsnap_i++) {
    hookobj *p = snap[T->hsnap_i];
    if (!p->removed) {
      p->running++;
      T->hook_running = p;
      pthread_mutex_unlock(&hook_mu);
      p->fn(p->arg, thread);
      pthread_mutex_lock(&hook_mu);
      T->hook_running = NULL;
      hook_leave(p);
    }
    hook_unref(p);
  }
  T->hsnap = NULL;
  pthread_mutex_unlock(&hook_mu);
  free(snap);
}

/* A hook called weft_thread_exit: release what the walk held. */
static void hooks_abandon(weft__tstate *T) {
  if (T->hsnap == NULL)
    return;
  pthread_mutex_lock(&hook_mu);
  if (T->hook_running != NULL)
    hook_leave(T->hook_running);
  T->hook_running = NULL;
  for (size_t i = T->hsnap_i; i < T->hsnap_n; i++)
    hook_unref(T->hsnap[i]);
  pthread_mutex_unlock(&hook_mu);
  free(T->hsnap);
  T->hsnap = NULL;
}

WEFT_API weft_status weft_thread_hook_new(weft_thread_hook_fn hook, void *arg,
                                          weft_handle *out) {
  WEFT__CHECK_PTR(hook, "thread_hook_new");
  WEFT__CHECK_PTR(out, "thread_hook_new");
  weft__thread_atfork_init();
  hookobj *p = calloc(1, sizeof *p);
  if (p == NULL)
    return weft__error(-ENOMEM, ENOMEM, "thread_hook_new: out of memory");
  p->fn = hook;
  p->arg = arg;
  p->refs = 1;
  /* Issue the handle under hook_mu, so a close of it (which takes hook_mu)
   * always finds the hook linked.  Order: hook_mu, then the slab's mutex. */
  pthread_mutex_lock(&hook_mu);
  weft_status st = weft__handle_new(WEFT_KIND_HOOK, p, out);
  if (st < 0) {
    pthread_mutex_unlock(&hook_mu);
    free(p);
    return st;
  }
  p->prev = hook_tail;
  if (hook_tail)
    hook_tail->next = p;
  else
    hook_head = p;
  hook_tail = p;
  atomic_fetch_add_explicit(&hook_count, 1, memory_order_release);
  pthread_mutex_unlock(&hook_mu);
  return 0;
}

/* Removing a hook: once close returns, no other thread is inside it and
 * none will enter it (a hook may close itself from within). */
static void hook_close(void *obj) {
  hookobj *p = obj;
  weft__tstate *T = tls;
  pthread_mutex_lock(&hook_mu);
  p->removed = 1;
  if (p->prev)
    p->prev->next = p->next;
  else
    hook_head = p->next;
  if (p->next)
    p->next->prev = p->prev;
  else
    hook_tail = p->prev;
  p->prev = p->next = NULL;
  atomic_fetch_sub_explicit(&hook_count, 1, memory_order_relaxed);
  unsigned self = T != NULL && T->hook_running == p;
  while (p->running > self)
    pthread_cond_wait(&hook_cv, &hook_mu);
  pthread_mutex_unlock(&hook_mu);
}

static void hook_destroy(void *obj) {
  pthread_mutex_lock(&hook_mu);
  hook_unref(obj);
  pthread_mutex_unlock(&hook_mu);
}

/* ---- Thread ---- */

static void *thread_main(void *p) {
  weft__tstate *T = p;
  weft__thread *rec = T->rec;
  weft__tstate_install(T);
  weft__thread_began(rec, 1);
  weft__thread_hooks_run(T, rec->handle);
  int result = rec->target != NULL ? rec->target(rec->arg) : 0;
  weft__tstate_exit(T, result);
  return NULL;
}

void weft__thread_attr(pthread_attr_t *attr) {
  pthread_attr_init(attr);
  pthread_attr_setdetachstate(attr, PTHREAD_CREATE_DETACHED);
  size_t size = atomic_load_explicit(&stack_size, memory_order_relaxed);
  if (size != 0)
    pthread_attr_setstacksize(attr, size);
}

static weft_status thread_start(weft__thread *rec) {
  weft__tstate *T = weft__tstate_alloc(WEFT__TS_THREAD);
  if (T == NULL)
    return weft__error(-ENOMEM, ENOMEM, "thread_start: out of memory");
  weft_status st = weft__thread_claim_start(rec, "thread_start");
  if (st < 0) {
    weft__tstate_free(T);
    return st;
  }
  T->rec = rec;
  pthread_attr_t attr;
  pthread_t t;
  weft__thread_attr(&attr);
  int r = pthread_create(&t, &attr, thread_main, T);
  pthread_attr_destroy(&attr);
  if (r != 0) {
    weft__thread_unstart(rec);
    weft__tstate_free(T);
    return weft__errno(r, "thread_start");
  }
  /* Known when start returns; the thread stores the same value. */
  atomic_store(&rec->ident, (uint64_t)t);
  return 0;
}

WEFT_API weft_status weft_thread_new(weft_thread_fn target, void *arg,
                                     const char *name, weft_handle *out) {
  WEFT__CHECK_PTR(out, "thread_new");
  weft__thread *rec = calloc(1, sizeof *rec);
  if (rec == NULL)
    return weft__error(-ENOMEM, ENOMEM, "thread_new: out of memory");
  weft_status st = weft__thread_init(rec, WEFT_KIND_THREAD, target, arg,
                                     name, "thread_new");
  if (st < 0) {
    free(rec);
    return st;
  }
  return weft__thread_issue(rec, out);
}

/* Pin a Thread or Timer handle. */
static weft__thread *pin_thread(weft_handle h, const char *what) {
  return weft__handle_pin_any(h, WEFT__THREAD_KINDS, NULL, what);
}

WEFT_API weft_status weft_thread_start(weft_handle thread) {
  int kind;
  weft__thread *rec = weft__handle_pin_any(thread, WEFT__THREAD_KINDS, &kind,
                                           "thread_start");
  if (rec == NULL)
    return WEFT__PIN_FAILED;
  weft_status st =
      kind == WEFT_KIND_TIMER ? weft__timer_start(rec) : thread_start(rec);
  weft__handle_unpin(thread);
  return st;
}

WEFT_API weft_status weft_thread_join(weft_handle thread, double timeout) {
  weft__deadline d;
  weft_status st = weft__deadline_init(&d, timeout, "thread_join");
  if (st < 0)
    return st;
  weft__thread *rec = pin_thread(thread, "thread_join");
  if (rec == NULL)
    return WEFT__PIN_FAILED;
  uint64_t self = (uint64_t)pthread_self();
  pthread_mutex_lock(&rec->mu);
  if (rec->dummy)
    st = weft__error(WEFT_ESTATE, 0, "thread_join: cannot join a dummy "
                                     "thread");
  else if (rec->state == WEFT__ST_NEW)
    st = weft__error(WEFT_ESTATE, 0,
                     "thread_join: cannot join a thread before it is started");
  else if (rec->state == WEFT__ST_STARTED && rec->ident == self)
    st = weft__error(WEFT_ESTATE, 0, "thread_join: cannot join the current "
                                     "thread");
  while (st == 0 && rec->state == WEFT__ST_STARTED) {
    int r = timeout == 0 ? -ETIMEDOUT : weft__wait_cond(&rec->cv, &rec->mu, &d);
    if (r == -EINTR) {
      st = weft__interrupted("thread_join");
      break;
    }
    if (r < 0) {
      if (rec->state == WEFT__ST_STARTED)
        st = weft__error(-ETIMEDOUT, ETIMEDOUT,
                         "thread_join: timed out after %gs", timeout);
      break;
    }
  }
  if (st == 0 && rec->state == WEFT__ST_NEW) /* its start failed */
    st = weft__error(WEFT_ESTATE, 0,
                     "thread_join: cannot join a thread before it is started");
  pthread_mutex_unlock(&rec->mu);
  weft__handle_unpin(thread);
  return st;
}

WEFT_API weft_status weft_thread_is_alive(weft_handle thread, int *alive) {
  WEFT__CHECK_PTR(alive, "thread_is_alive");
  weft__thread *rec = pin_thread(thread, "thread_is_alive");
  if (rec == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&rec->mu);
  *alive = rec->state == WEFT__ST_STARTED;
  pthread_mutex_unlock(&rec->mu);
  weft__handle_unpin(thread);
  return 0;
}

WEFT_API weft_status weft_thread_get_name(weft_handle thread, char *buf,
                                          size_t cap, size_t *len) {
  WEFT__CHECK_PTR(len, "thread_get_name");
  weft__thread *rec = pin_thread(thread, "thread_get_name");
  if (rec == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&rec->mu);
  weft_status st = weft__string_out(rec->name, buf, cap, len,
                                    "thread_get_name");
  pthread_mutex_unlock(&rec->mu);
  weft__handle_unpin(thread);
  return st;
}

WEFT_API weft_status weft_thread_set_name(weft_handle thread,
                                          const char *name) {
  WEFT__CHECK_PTR(name, "thread_set_name");
  char *copy = strdup(name);
  if (copy == NULL)
    return weft__error(-ENOMEM, ENOMEM, "thread_set_name: out of memory");
  weft__thread *rec = pin_thread(thread, "thread_set_name");
  if (rec == NULL) {
    free(copy);
    return WEFT__PIN_FAILED;
  }
  pthread_mutex_lock(&rec->mu);
  char *old = rec->name;
  rec->name = copy;
  /* os_running under mu means the OS thread has not passed its finish,
   * so rec->pthread is still a live thread. */
  if (rec->os_running)
    weft__thread_os_name(rec->pthread, copy);
  pthread_mutex_unlock(&rec->mu);
  weft__handle_unpin(thread);
  free(old);
  return 0;
}

WEFT_API weft_status weft_thread_get_ident(weft_handle thread,
                                           uint64_t *ident) {
  WEFT__CHECK_PTR(ident, "thread_get_ident");
  weft__thread *rec = pin_thread(thread, "thread_get_ident");
  if (rec == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&rec->mu);
  *ident = rec->ident;
  pthread_mutex_unlock(&rec->mu);
  weft__handle_unpin(thread);
  return 0;
}

WEFT_API weft_status weft_thread_get_native_id(weft_handle thread,
                                               int64_t *native_id) {
  WEFT__CHECK_PTR(native_id, "thread_get_native_id");
  weft__thread *rec = pin_thread(thread, "thread_get_native_id");
  if (rec == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&rec->mu);
  /* A started Thread publishes its kernel id as soon as it runs. */
  while (rec->kind == WEFT_KIND_THREAD && rec->state == WEFT__ST_STARTED &&
         rec->native_id == 0)
    pthread_cond_wait(&rec->cv, &rec->mu);
  *native_id = rec->native_id;
  pthread_mutex_unlock(&rec->mu);
  weft__handle_unpin(thread);
  return 0;
}

WEFT_API weft_status weft_thread_get_daemon(weft_handle thread, int *daemon) {
  WEFT__CHECK_PTR(daemon, "thread_get_daemon");
  weft__thread *rec = pin_thread(thread, "thread_get_daemon");
  if (rec == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&rec->mu);
  *daemon = rec->daemon;
  pthread_mutex_unlock(&rec->mu);
  weft__handle_unpin(thread);
  return 0;
}

WEFT_API weft_status weft_thread_set_daemon(weft_handle thread, int daemon) {
  weft__thread *rec = pin_thread(thread, "thread_set_daemon");
  if (rec == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = 0;
  pthread_mutex_lock(&rec->mu);
  if (rec->state != WEFT__ST_NEW)
    st = weft__error(WEFT_ESTATE, 0, "thread_set_daemon: cannot set the "
                                     "daemon flag of a started thread");
  else
    rec->daemon = daemon != 0;
  pthread_mutex_unlock(&rec->mu);
  weft__handle_unpin(thread);
  return st;
}

WEFT_API weft_status weft_thread_get_result(weft_handle thread, int *result) {
  WEFT__CHECK_PTR(result, "thread_get_result");
  weft__thread *rec = pin_thread(thread, "thread_get_result");
  if (rec == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = 0;
  pthread_mutex_lock(&rec->mu);
  if (rec->state != WEFT__ST_FINISHED)
    st = weft__error(WEFT_ESTATE, 0,
                     "thread_get_result: the thread has not finished");
  else
    *result = rec->result;
  pthread_mutex_unlock(&rec->mu);
  weft__handle_unpin(thread);
  return st;
}

/* ---- current, main, enumerate, shutdown ---- */

/* Give the calling thread (alien, or from start_new) a dummy record. */
static weft_status make_dummy(weft__tstate *T) {
  if (T->kind != WEFT__TS_ALIEN && T->kind != WEFT__TS_RAW)
    return weft__error(WEFT_ESTATE, 0,
                       "thread_current: not inside a thread's function");
  uint64_t self = (uint64_t)pthread_self();
  weft__thread *rec =
      record_running(counter_name("Dummy"), 1, 1, self, weft__gettid(),
                     "thread_current");
  if (rec == NULL)
    return weft_last_error_code();
  registry_add(rec);
  T->rec = rec;
  return 0;
}

WEFT_API weft_status weft_thread_current(weft_handle *out) {
  WEFT__CHECK_PTR(out, "thread_current");
  weft__tstate *T = weft__tstate_get("thread_current");
  if (T == NULL)
    return -ENOMEM;
  if (T->rec == NULL) {
    weft_status st = make_dummy(T);
    if (st < 0)
      return st;
  }
  *out = T->rec->handle;
  return 0;
}

WEFT_API weft_status weft_thread_main(weft_handle *out) {
  WEFT__CHECK_PTR(out, "thread_main");
  if (weft__gettid() == (int64_t)getpid() &&
      weft__tstate_get("thread_main") == NULL)
    return -ENOMEM;
  weft__thread *rec = main_get(0);
  if (rec == NULL)
    return -ENOMEM;
  *out = rec->handle;
  return 0;
}

WEFT_API weft_status weft_thread_enumerate(weft_handle *buf, size_t cap,
                                           size_t *n) {
  WEFT__CHECK_PTR(n, "thread_enumerate");
  if (buf == NULL && cap > 0)
    return weft__error(WEFT_EVALUE, 0,
                       "thread_enumerate: buf is NULL but cap is %zu", cap);
  pthread_mutex_lock(&reg_mu);
  size_t i = 0;
  for (weft__thread *p = reg_head; p != NULL; p = p->rnext, i++)
    if (i < cap)
      buf[i] = p->handle;
  *n = reg_count;
  pthread_mutex_unlock(&reg_mu);
  if (i > cap)
    return weft__error(WEFT_ERANGE, 0,
                       "thread_enumerate: %zu threads do not fit in %zu", i,
                       cap);
  return 0;
}

WEFT_API weft_status weft_thread_active_count(size_t *count) {
  WEFT__CHECK_PTR(count, "thread_active_count");
  pthread_mutex_lock(&reg_mu);
  *count = reg_count;
  pthread_mutex_unlock(&reg_mu);
  return 0;
}

/* Under reg_mu: alive non-daemon threads other than `self` and main. */
static size_t non_daemon_left(const weft__thread *self) {
  size_t left = 0;
  for (weft__thread *p = reg_head; p != NULL; p = p->rnext)
    if (p != self && p != main_rec && !p->daemon)
      left++;
  return left;
}

WEFT_API weft_status weft_thread_shutdown(double timeout) {
  weft__deadline d;
  weft_status st = weft__deadline_init(&d, timeout, "thread_shutdown");
  if (st < 0)
    return st;
  weft__tstate *T = tls;
  const weft__thread *self = T != NULL ? T->rec : NULL;
  pthread_mutex_lock(&reg_mu);
  size_t left;
  while ((left = non_daemon_left(self)) > 0) {
    int r = timeout == 0 ? -ETIMEDOUT : weft__wait_cond(&reg_cv, &reg_mu, &d);
    if (r == -EINTR) {
      st = weft__interrupted("thread_shutdown");
      break;
    }
    if (r < 0) {
      if ((left = non_daemon_left(self)) > 0)
        st = weft__error(-ETIMEDOUT, ETIMEDOUT,
                         "thread_shutdown: %zu non-daemon threads still "
                         "alive after %gs",
                         left, timeout);
      break;
    }
  }
  pthread_mutex_unlock(&reg_mu);
  return st;
}

WEFT_API weft_status weft_thread_get_stack_size(size_t *size) {
  WEFT__CHECK_PTR(size, "thread_get_stack_size");
  *size = atomic_load_explicit(&stack_size, memory_order_relaxed);
  return 0;
}

WEFT_API weft_status weft_thread_set_stack_size(size_t size) {
  if (size != 0 && size < MIN_STACK_SIZE)
    return weft__error(WEFT_EVALUE, 0,
                       "thread_set_stack_size: size must be 0 or at least "
                       "%d bytes, not %zu",
                       MIN_STACK_SIZE, size);
  if (size != 0) {
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    int r = pthread_attr_setstacksize(&attr, size);
    pthread_attr_destroy(&attr);
    if (r != 0)
      return weft__error(WEFT_EVALUE, r,
                         "thread_set_stack_size: %zu bytes refused: %s", size,
                         strerrordesc_np(r));
  }
  atomic_store_explicit(&stack_size, size, memory_order_relaxed);
  return 0;
}

/* ---- the low-level thread module ---- */

static void *raw_main(void *p) {
  weft__tstate *T = p;
  weft__tstate_install(T);
  weft__thread_hooks_run(T, 0);
  int result = T->boot_fn(T->boot_arg);
  weft__tstate_exit(T, result);
  return NULL;
}

WEFT_API weft_status weft_thread_start_new(weft_thread_fn fn, void *arg,
                                           uint64_t *ident) {
  WEFT__CHECK_PTR(fn, "thread_start_new");
  WEFT__CHECK_PTR(ident, "thread_start_new");
  weft__tstate *T = weft__tstate_alloc(WEFT__TS_RAW);
  if (T == NULL)
    return weft__error(-ENOMEM, ENOMEM, "thread_start_new: out of memory");
  T->boot_fn = fn;
  T->boot_arg = arg;
  pthread_attr_t attr;
  pthread_t t;
  weft__thread_attr(&attr);
  int r = pthread_create(&t, &attr, raw_main, T);
  pthread_attr_destroy(&attr);
  if (r != 0) {
    weft__tstate_free(T);
    return weft__errno(r, "thread_start_new");
  }
  *ident = (uint64_t)t;
  return 0;
}

WEFT_API uint64_t weft_thread_current_ident(void) {
  return (uint64_t)pthread_self();
}

WEFT_API int64_t weft_thread_current_native_id(void) {
  return weft__gettid();
}

WEFT_API weft_status weft_thread_exit(int result) {
  weft__tstate *T = tls;
  int ours = T != NULL && (T->kind == WEFT__TS_THREAD ||
                           T->kind == WEFT__TS_RAW ||
                           (T->kind == WEFT__TS_WORKER && T->rec != NULL));
  if (!ours)
    return weft__error(WEFT_ESTATE, 0,
                       "thread_exit: the calling thread was not started by "
                       "weft");
  if (T->exiting || T->lrunning != NULL)
    return weft__error(WEFT_ESTATE, 0,
                       "thread_exit: the thread is already exiting");
  if (T->lclosing > 0)
    return weft__error(WEFT_ESTATE, 0,
                       "thread_exit: not inside a destructor run by a "
                       "local's close");
  T->exit_result = result;
  pthread_exit(NULL); /* the key destructor finishes the thread */
}

WEFT_API weft_status weft_thread_interrupt_main(int signum) {
  return weft__signal_interrupt_main(signum);
}

/* ---- adoption and interruption ---- */

weft__intr *weft__intr_self(void) {
  weft__tstate *T = tls;
  if (T == NULL || T->rec == NULL || intr_masked > 0)
    return NULL;
  return &T->rec->intr;
}

void weft__intr_mask(int delta) { intr_masked += delta; }

int weft__intr_masked(void) { return intr_masked > 0; }

int weft__intr_self_unmade(void) { return tls == NULL; }

weft__intr *weft__intr_self_make(void) {
  if (tls == NULL && weft__tstate_get("wait") == NULL)
    return NULL;
  return weft__intr_self();
}

void weft__thread_kick(weft_handle thread) {
  weft__thread *rec;
  if (thread == 0) {
    rec = main_get(0);
    if (rec == NULL)
      return;
    thread = rec->handle;
  }
  rec = pin_thread(thread, "signal");
  if (rec == NULL)
    return;
  weft__intr_kick(&rec->intr);
  weft__handle_unpin(thread);
}

WEFT_API weft_status weft_thread_interrupt(weft_handle thread) {
  weft__thread *rec = pin_thread(thread, "thread_interrupt");
  if (rec == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&rec->mu);
  int alive = rec->state == WEFT__ST_STARTED;
  pthread_mutex_unlock(&rec->mu);
  if (alive)
    weft__intr_raise(&rec->intr);
  weft__handle_unpin(thread);
  return 0;
}

WEFT_API weft_status weft_thread_interrupt_clear(int *was_pending) {
  WEFT__CHECK_PTR(was_pending, "thread_interrupt_clear");
  int was = 0;
  weft__tstate *T = tls;
  if (T != NULL && T->rec != NULL) {
    weft__intr *in = &T->rec->intr;
    pthread_mutex_lock(&in->mu);
    was = atomic_exchange(&in->pending, 0);
    pthread_mutex_unlock(&in->mu);
  }
  *was_pending = was;
  return 0;
}

WEFT_API weft_status weft_thread_adopt(weft_handle thread) {
  int kind;
  weft__thread *rec = weft__handle_pin_any(thread, WEFT__THREAD_KINDS, &kind,
                                           "thread_adopt");
  if (rec == NULL)
    return WEFT__PIN_FAILED;
  weft__tstate *T = weft__tstate_get("thread_adopt");
  weft_status st = 0;
  if (T == NULL)
    st = -ENOMEM;
  else if (T->kind != WEFT__TS_ALIEN)
    st = weft__error(WEFT_ESTATE, 0,
                     "thread_adopt: only a thread weft did not start may "
                     "adopt (this one %s)",
                     T->kind == WEFT__TS_MAIN      ? "is the main thread"
                     : T->kind == WEFT__TS_ADOPTED ? "already runs one"
                                                   : "was started by weft");
  else if (kind == WEFT_KIND_TIMER)
    st = weft__error(WEFT_ESTATE, 0,
                     "thread_adopt: a timer runs on weft's own threads");
  else
    st = weft__thread_claim_start(rec, "thread_adopt");
  if (st < 0) {
    weft__handle_unpin(thread);
    return st;
  }
  /* This OS thread is `rec` until the target returns; a dummy record it
   * had (from weft_thread_current) comes back afterwards. */
  weft__thread *dummy = T->rec;
  T->rec = rec;
  T->kind = WEFT__TS_ADOPTED;
  weft__thread_began(rec, 0); /* the OS thread and its name stay the host's */
  weft__thread_hooks_run(T, rec->handle);
  int result = rec->target != NULL ? rec->target(rec->arg) : 0;
  T->rec = dummy;
  T->kind = WEFT__TS_ALIEN;
  weft__thread_finish(rec, result);
  weft__handle_unpin(thread); /* the own pin (claim_start's) */
  weft__handle_unpin(thread); /* ours */
  return 0;
}

/* ---- fork ---- */

static void atfork_prepare(void) {
  pthread_mutex_lock(&hook_mu);
  weft__local_atfork_prepare();
  weft__timer_atfork_prepare();
  pthread_mutex_lock(&reg_mu);
}

static void atfork_parent(void) {
  pthread_mutex_unlock(&reg_mu);
  weft__timer_atfork_parent();
  weft__local_atfork_parent();
  pthread_mutex_unlock(&hook_mu);
}

/* In the child: stop every registered record but cur's (their threads
 * do not exist here).  Handles weft owns (dummies) or whose claim was
 * given up are released; the own pin a dead thread held is dropped. */
static void registry_stop_others(const weft__thread *cur,
                                 const weft__thread *old_main) {
  for (;;) {
    pthread_mutex_lock(&reg_mu);
    weft__thread *p = reg_head;
    while (p != NULL && p == cur)
      p = p->rnext;
    if (p != NULL)
      registry_unlink(p);
    pthread_mutex_unlock(&reg_mu);
    if (p == NULL)
      return;
    p->state = WEFT__ST_FINISHED;
    p->os_running = 0;
    weft_handle h = p->handle;
    int close_it = p->dummy || p->claim_released;
    int pinned = !p->dummy && p != old_main;
    if (close_it)
      weft__handle_close_now(h);
    if (pinned)
      weft__handle_unpin(h);
  }
}

/* In the child: cur, the forking thread's record (T its state), becomes
 * the main record; a dummy turns into MainThread, as in Python. */
static void registry_rebind_main(weft__tstate *T, weft__thread *cur,
                                 weft__thread *old_main) {
  if (cur != NULL) {
    cur->native_id = weft__gettid();
    cur->ident = (uint64_t)pthread_self();
    cur->pthread = pthread_self();
    if (cur->dummy) {
      char *name = strdup("MainThread");
      if (name != NULL) {
        free(cur->name);
        cur->name = name;
      }
      cur->dummy = 0;
      cur->daemon = 0;
      T->kind = WEFT__TS_MAIN;
    }
  }
  if (cur != old_main) {
    main_rec = NULL;
    if (cur != NULL)
      main_adopt(cur);
    if (old_main != NULL)
      weft__handle_unpin(old_main->handle); /* the old main pin */
  }
  if (cur == NULL && T != NULL)
    main_bind(T); /* it has state but no record: a fresh main record */
}

/* In the child only the forking thread runs.  Every other alive record
 * is stopped (Python's _after_fork); the forking thread's becomes the
 * main thread.  Every record's mutex and condvar were re-initialised
 * already, by handle.c's fork handler (weft__thread_atfork_child).
 * reg_mu is held on entry (atfork_prepare). */
static void registry_atfork_child(weft__tstate *T) {
  weft__thread *cur = T != NULL ? T->rec : NULL;
  if (cur == NULL && main_rec != NULL &&
      main_rec->ident == (uint64_t)pthread_self())
    cur = main_rec;
  weft__thread *old_main = main_rec;
  pthread_mutex_unlock(&reg_mu);
  weft__cond_init(&reg_cv); /* not destroyed first: see atfork_child */
  registry_stop_others(cur, old_main);
  registry_rebind_main(T, cur, old_main);
}

static void atfork_child(void) {
  weft__tstate *T = tls;
  hookobj *p;
  for (p = hook_head; p != NULL; p = p->next)
    p->running = T != NULL && T->hook_running == p;
  /* Condvars that parent threads waited on are initialised afresh, never
   * destroyed: glibc's pthread_cond_destroy waits for those waiters to
   * leave, and in the child they never will. */
  weft__cond_init(&hook_cv);
  pthread_mutex_unlock(&hook_mu);
  weft__local_atfork_child(T);
  weft__timer_atfork_child(T);
  registry_atfork_child(T);
}

/* Our fork handlers must run after the handle table's (its child handler
 * releases the slab mutexes that closing handles needs), so they are
 * registered at first use, when every constructor has run, rather than
 * from a constructor. */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_register(void) {
  pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

void weft__thread_atfork_init(void) {
  pthread_once(&atfork_once, atfork_register);
}

/* ---- registration ---- */

static const weft__kind_ops thread_ops = {
    .name = "thread",
    .close = weft__thread_close_op,
    .destroy = weft__thread_destroy,
    .before_close = weft__thread_before_close,
    .atfork_child = weft__thread_atfork_child,
};

static const weft__kind_ops hook_ops = {
    .name = "hook", .close = hook_close, .destroy = hook_destroy};

__attribute__((constructor)) static void thread_register(void) {
  weft__kind_register(WEFT_KIND_THREAD, &thread_ops);
  weft__kind_register(WEFT_KIND_HOOK, &hook_ops);
  weft__cond_init(&reg_cv);
  weft__cond_init(&hook_cv);
  pthread_key_create(&tkey, tstate_dtor);
  /* Loaded on the main thread: know it now; else when first seen. */
  uint64_t ident =
      weft__gettid() == (int64_t)getpid() ? (uint64_t)pthread_self() : 0;
  main_get(ident);
}
