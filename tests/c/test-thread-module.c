/* test-thread-module.c - the low-level thread module: start_new,
 * current_ident, current_native_id, exit, interrupt_main. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "thread-util.h"

typedef struct raw {
  _Atomic int ready, done;
  void *arg_seen;
  uint64_t ident;
  int64_t tid;
  weft_handle current;
  char name[64];
  int daemon;
  weft_status join;
  int listed_before;
  gate hold;
  int use_hold;
} raw;

static int raw_fn(void *arg) {
  raw *r = arg;
  r->arg_seen = arg;
  r->ident = weft_thread_current_ident();
  r->tid = weft_thread_current_native_id();
  r->listed_before = (int)active();
  weft_thread_current(&r->current);
  snprintf(r->name, sizeof r->name, "%s", name_of(r->current));
  weft_thread_get_daemon(r->current, &r->daemon);
  r->join = weft_thread_join(r->current, 0);
  atomic_store(&r->ready, 1);
  if (r->use_hold)
    gate_wait(&r->hold);
  atomic_store(&r->done, 1);
  return 0;
}

static void test_start_new(void) {
  raw r = {.use_hold = 1};
  uint64_t ident = 0;
  size_t before = active();
  is(weft_thread_start_new(NULL, &r, &ident), WEFT_EVALUE,
     "start_new with a NULL function is WEFT_EVALUE");
  is(weft_thread_start_new(raw_fn, &r, NULL), WEFT_EVALUE,
     "start_new with a NULL ident pointer is WEFT_EVALUE");
  is(weft_thread_start_new(raw_fn, &r, &ident), 0, "start_new");
  ok(WAIT_FOR(atomic_load(&r.ready), 10), "the function runs");
  ok(r.arg_seen == &r, "it gets its argument");
  is(r.ident, ident, "start_new's ident is the thread's current_ident");
  ok(ident != 0, "an ident is nonzero");
  is((size_t)r.listed_before, before,
     "a start_new thread is not enumerated by itself");
  ok(strncmp(r.name, "Dummy-", 6) == 0,
     "weft_thread_current in it gives a dummy entry (%s)", r.name);
  is(r.daemon, 1, "which is a daemon");
  is(r.join, WEFT_ESTATE, "and cannot be joined");
  weft_handle cur = r.current;
  gate_open(&r.hold);
  ok(WAIT_FOR(!handle_open(cur), 10),
     "the dummy entry is released when the thread ends");
  is(active(), before, "and the count is back");
}

static int exit_fn(void *arg) {
  atomic_fetch_add((_Atomic int *)arg, 1);
  weft_thread_exit(5);
  atomic_fetch_add((_Atomic int *)arg, 100);
  return 0;
}

/* A start_new thread cannot be joined: its local's exit destructor tells
 * that it has ended. */
static weft_handle exit_local;
static _Atomic int exit_dtor_ran;
static void note_exit(void *arg, void *value) {
  (void)arg;
  (void)value;
  atomic_store(&exit_dtor_ran, 1);
}

static int exit_fn_noted(void *arg) {
  weft_local_set(exit_local, arg);
  return exit_fn(arg);
}

static void test_exit(void) {
  _Atomic int hits = 0;
  weft_handle t;
  int result = 0;
  weft_thread_new(exit_fn, &hits, NULL, &t);
  weft_thread_start(t);
  is(weft_thread_join(t, 10), 0, "a thread that calls thread_exit ends");
  weft_thread_get_result(t, &result);
  is(result, 5, "its result is thread_exit's argument");
  is(atomic_load(&hits), 1, "nothing after thread_exit runs");
  is(is_alive(t), 0, "and it is no longer alive");
  weft_close(t);

  uint64_t ident;
  atomic_store(&hits, 0);
  weft_local_new(note_exit, NULL, &exit_local);
  weft_thread_start_new(exit_fn_noted, &hits, &ident);
  ok(WAIT_FOR(atomic_load(&exit_dtor_ran), 10),
     "thread_exit in a start_new thread ends it");
  is(atomic_load(&hits), 1, "and nothing after thread_exit ran there");
  weft_close(exit_local);

  is(weft_thread_exit(0), WEFT_ESTATE,
     "thread_exit on the main thread is WEFT_ESTATE");
}

/* pthread_exit called from code that a sanitizer did not build (CPython
 * ends its daemon threads so at finalization): called through a pointer
 * of a type without noreturn, nothing tells ASan that these frames are
 * abandoned.  Under ASan their poisoned redzones must not be reported by
 * the thread's teardown (they were, as a stack-buffer-underflow in
 * sigaltstack); everywhere the thread must end with its exit run. */
static void (*volatile foreign_exit)(void *) = pthread_exit;

static int deep_frames(int n) {
  volatile char a[4], b[12], c[4];
  a[0] = b[0] = c[0] = (char)n;
  if (n > 0)
    return deep_frames(n - 1) + a[0] + b[0] + c[0];
  foreign_exit(NULL);
  return 0;
}

static int foreign_exit_fn(void *arg) {
  atomic_fetch_add((_Atomic int *)arg, 1);
  deep_frames(64);
  atomic_fetch_add((_Atomic int *)arg, 100);
  return 0;
}

static void test_foreign_pthread_exit(void) {
  _Atomic int hits = 0;
  for (int i = 0; i < 20; i++) {
    weft_handle t;
    if (weft_thread_new(foreign_exit_fn, &hits, NULL, &t) != 0 ||
        weft_thread_start(t) != 0 || weft_thread_join(t, 10) != 0)
      break;
    weft_close(t);
  }
  is(atomic_load(&hits), 20,
     "20 threads ended by pthread_exit from deep foreign frames are joined, "
     "and nothing after it ran");
}

static void *alien_exit(void *arg) {
  return (void *)(intptr_t)weft_thread_exit(0);
  (void)arg;
}

static void test_exit_alien(void) {
  pthread_t pt;
  void *r;
  pthread_create(&pt, NULL, alien_exit, NULL);
  pthread_join(pt, &r);
  is((intptr_t)r, WEFT_ESTATE, "thread_exit on an alien thread is WEFT_ESTATE");
}

static void test_idents(void) {
  is(weft_thread_current_ident(), (uint64_t)pthread_self(),
     "current_ident is pthread_self");
  is(weft_thread_current_native_id(), gettid(), "current_native_id is gettid");
}

static _Atomic int main_hits;
static int note_main(void *arg, int signum) {
  (void)arg;
  (void)signum;
  atomic_fetch_add(&main_hits, 1);
  return 0;
}

static void *interrupt_from_thread(void *arg) {
  (void)arg;
  weft_thread_interrupt_main(SIGUSR1);
  return NULL;
}

static void test_interrupt_main(void) {
  is(weft_thread_interrupt_main(0), -EINVAL, "interrupt_main(0) is -EINVAL");
  is(weft_thread_interrupt_main(-2), -EINVAL,
     "a negative signal number is -EINVAL");
  is(weft_thread_interrupt_main(NSIG), -EINVAL,
     "signal number NSIG is -EINVAL");
  is(weft_thread_interrupt_main(SIGUSR1), 0,
     "interrupt_main of a signal weft does not handle is 0 (nothing "
     "happens: the process lives on)");
  weft_signal_set(SIGUSR1, WEFT_SIG_HANDLER, 0, note_main, NULL);
  pthread_t t;
  pthread_create(&t, NULL, interrupt_from_thread, NULL);
  pthread_join(t, NULL);
  weft_handle ev;
  weft_event_new(&ev);
  weft_event_wait(ev, 0.05);
  is(atomic_load(&main_hits), 1,
     "from another thread, it trips the handler, which the main thread "
     "runs in its next wait");
  weft_close(ev);
  weft_signal_set(SIGUSR1, WEFT_SIG_DFL, 0, NULL, NULL);
}

static _Atomic weft_handle hook_thread = -1;
static void record_hook(void *arg, weft_handle thread) {
  (void)arg;
  atomic_store(&hook_thread, thread);
}

static void test_hooks(void) {
  weft_handle hook;
  raw r = {0};
  uint64_t ident;
  weft_thread_hook_new(record_hook, NULL, &hook);
  weft_thread_start_new(raw_fn, &r, &ident);
  WAIT_FOR(atomic_load(&r.done), 10);
  is(atomic_load(&hook_thread), 0,
     "start hooks run in start_new threads, with thread handle 0");
  weft_close(hook);
}

static int hook_exits(void *arg) {
  atomic_fetch_add((_Atomic int *)arg, 100);
  return 0;
}

static void exiting_hook(void *arg, weft_handle thread) {
  (void)arg;
  (void)thread;
  weft_thread_exit(9);
}

static void test_exit_in_hook(void) {
  weft_handle hook, t;
  _Atomic int hits = 0;
  int result = 0;
  weft_thread_hook_new(exiting_hook, NULL, &hook);
  weft_thread_new(hook_exits, &hits, NULL, &t);
  weft_thread_start(t);
  is(weft_thread_join(t, 10), 0, "a hook that calls thread_exit ends the "
                                 "thread");
  weft_thread_get_result(t, &result);
  is(result, 9, "with thread_exit's result");
  is(atomic_load(&hits), 0, "and the target never runs");
  is(weft_close(hook), 0, "that hook can still be removed");
  weft_close(t);
}

/* thread_exit from a destructor that a local's close runs: refused, so
 * the close completes and the thread goes on. */
static weft_handle close_exit_l;
static _Atomic int close_exit_st = 1;
static void exit_in_dtor(void *arg, void *value) {
  (void)arg;
  (void)value;
  atomic_store(&close_exit_st, weft_thread_exit(7));
}

static int close_own_local(void *arg) {
  (void)arg;
  int v;
  weft_local_set(close_exit_l, &v);
  return weft_close(close_exit_l) == 0 ? 3 : 4;
}

static void test_exit_in_close_dtor(void) {
  weft_handle t;
  int result = 0;
  weft_local_new(exit_in_dtor, NULL, &close_exit_l);
  weft_thread_new(close_own_local, NULL, NULL, &t);
  weft_thread_start(t);
  weft_thread_join(t, 10);
  is(atomic_load(&close_exit_st), WEFT_ESTATE,
     "thread_exit inside a destructor run by a local's close is "
     "WEFT_ESTATE");
  weft_thread_get_result(t, &result);
  is(result, 3, "the close completes and the thread runs on");
  weft_close(t);
}

int main(void) {
  test_idents();
  test_start_new();
  test_exit();
  test_exit_alien();
  test_foreign_pthread_exit();
  test_interrupt_main();
  test_hooks();
  test_exit_in_hook();
  test_exit_in_close_dtor();
  return done_testing();
}
