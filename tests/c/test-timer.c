/* test-timer.c - Timer: a thread whose function runs once after an
 * interval unless cancelled; it holds no thread while pending. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>

#include "thread-util.h"

typedef struct shot {
  _Atomic int runs;
  double fired_at;
  weft_handle current;
  uint64_t ident;
  int64_t tid;
  char os_name[32];
  gate hold; /* if hold_it, the function waits here */
  int hold_it;
  int result;
  _Atomic int *order; /* if set: record the firing order */
  int my_order;
} shot;

static int shot_fn(void *arg) {
  shot *s = arg;
  s->fired_at = now_s();
  weft_thread_current(&s->current);
  s->ident = weft_thread_current_ident();
  s->tid = weft_thread_current_native_id();
  pthread_getname_np(pthread_self(), s->os_name, sizeof s->os_name);
  if (s->order)
    s->my_order = atomic_fetch_add(s->order, 1);
  atomic_fetch_add(&s->runs, 1);
  if (s->hold_it)
    gate_wait(&s->hold);
  return s->result;
}

static void test_new(void) {
  weft_handle t;
  int kind = 0;
  shot s = {0};
  is(weft_timer_new(0.1, shot_fn, &s, NULL, NULL), WEFT_EVALUE,
     "timer_new with a NULL out-pointer is WEFT_EVALUE");
  is(weft_timer_new(-0.5, shot_fn, &s, NULL, &t), WEFT_EVALUE,
     "a negative interval is WEFT_EVALUE");
  is(weft_timer_new(NAN, shot_fn, &s, NULL, &t), WEFT_EVALUE,
     "a NaN interval is WEFT_EVALUE");
  is(weft_timer_new(0.1, shot_fn, &s, NULL, &t), 0, "timer_new");
  weft_handle_kind(t, &kind);
  is(kind, WEFT_KIND_TIMER, "a timer handle has kind WEFT_KIND_TIMER");
  ok(strncmp(name_of(t), "Thread-", 7) == 0,
     "an unnamed timer is called Thread-N (%s)", name_of(t));
  is(is_alive(t), 0, "an unstarted timer is not alive");
  is(weft_thread_join(t, 0), WEFT_ESTATE,
     "joining an unstarted timer is WEFT_ESTATE");
  int d = -1;
  weft_thread_get_daemon(t, &d);
  is(d, 0, "a timer made by the main thread is not a daemon");
  weft_close(t);
  weft_timer_new(0.1, shot_fn, &s, "alarm", &t);
  ok(strcmp(name_of(t), "alarm") == 0, "a timer keeps its name");
  weft_close(t);
}

static void test_fires(void) {
  shot s = {.result = 17, .hold_it = 1};
  weft_handle t;
  weft_timer_new(0.05, shot_fn, &s, "pinger", &t);
  double t0 = now_s();
  is(weft_thread_start(t), 0, "weft_thread_start starts a timer");
  is(is_alive(t), 1, "a pending timer is alive");
  is(handle_listed(t), 1, "a pending timer is enumerated");
  uint64_t ident = 1;
  int64_t native = 1;
  weft_thread_get_ident(t, &ident);
  weft_thread_get_native_id(t, &native);
  ok(ident == 0 && native == 0,
     "a pending timer has ident and native id 0");
  is(weft_thread_start(t), WEFT_ESTATE, "a second start is WEFT_ESTATE");
  is(weft_thread_set_daemon(t, 1), WEFT_ESTATE,
     "set_daemon on a started timer is WEFT_ESTATE");
  ok(WAIT_FOR(atomic_load(&s.runs) == 1, 10), "the function runs");
  ok(s.fired_at - t0 >= 0.04, "a 0.05 s timer fires after at least 0.04 s");
  is(is_alive(t), 1, "a timer is alive while its function runs");
  is(weft_thread_join(t, 0.02), -ETIMEDOUT,
     "joining a running timer times out");
  weft_thread_get_ident(t, &ident);
  weft_thread_get_native_id(t, &native);
  is(ident, s.ident, "once running, get_ident is the running thread's ident");
  is(native, s.tid, "and get_native_id its kernel id");
  is(s.current, t, "weft_thread_current in the function gives the timer");
  ok(strcmp(s.os_name, "pinger") == 0,
     "the OS thread carries the timer's name (%s)", s.os_name);
  weft_thread_set_name(t, "ponger");
  char os[32] = "";
  pthread_getname_np((pthread_t)ident, os, sizeof os);
  ok(strcmp(os, "ponger") == 0, "renaming a running timer renames its OS "
                                "thread (%s)", os);
  is(weft_timer_cancel(t), 0, "cancelling a running timer is allowed");
  gate_open(&s.hold);
  is(weft_thread_join(t, -1), 0, "join waits for the function");
  int result = 0;
  weft_thread_get_result(t, &result);
  is(result, 17, "cancel during the run changes nothing: result is kept");
  is(atomic_load(&s.runs), 1, "the function ran once");
  is(handle_listed(t), 0, "a finished timer is not enumerated");
  is(weft_timer_cancel(t), 0, "cancelling a finished timer is allowed");
  weft_thread_get_result(t, &result);
  is(result, 17, "and does nothing");
  weft_close(t);
}

static void test_cancel(void) {
  shot s = {0};
  weft_handle t;
  weft_timer_new(0.2, shot_fn, &s, NULL, &t);
  weft_thread_start(t);
  is(weft_timer_cancel(t), 0, "cancel a pending timer");
  is(is_alive(t), 0, "a cancelled timer is finished at once");
  is(weft_thread_join(t, 1), 0, "joining a cancelled timer returns");
  int result = 0;
  is(weft_thread_get_result(t, &result), 0, "a cancelled timer has a result");
  is(result, WEFT_ECLOSED, "and it is WEFT_ECLOSED");
  is(handle_listed(t), 0, "a cancelled timer is not enumerated");
  usleep(300000);
  is(atomic_load(&s.runs), 0, "a cancelled function never runs");
  is(weft_timer_cancel(t), 0, "cancelling twice is harmless");
  weft_close(t);

  shot b = {0};
  weft_timer_new(0, shot_fn, &b, NULL, &t);
  is(weft_timer_cancel(t), 0, "cancel before start");
  is(weft_thread_start(t), 0, "a timer cancelled before start still starts");
  is(is_alive(t), 0, "and is finished at once");
  weft_thread_get_result(t, &result);
  is(result, WEFT_ECLOSED, "with result WEFT_ECLOSED");
  usleep(50000);
  is(atomic_load(&b.runs), 0, "and its function never runs");
  weft_close(t);

  weft_timer_new(INFINITY, shot_fn, &b, NULL, &t);
  weft_thread_start(t);
  is(weft_thread_join(t, 0.02), -ETIMEDOUT,
     "a timer with an infinite interval stays pending");
  is(weft_timer_cancel(t), 0, "and can be cancelled");
  is(weft_thread_join(t, -1), 0, "which finishes it");
  weft_close(t);
}

static void test_bad(void) {
  weft_handle th, lock, closed;
  weft_thread_new(NULL, NULL, NULL, &th);
  weft_lock_new(&lock);
  weft_timer_new(1, NULL, NULL, NULL, &closed);
  weft_close(closed);
  is(weft_timer_cancel(0), WEFT_EBADHANDLE, "timer_cancel(0)");
  is(weft_timer_cancel(-1), WEFT_EBADHANDLE, "timer_cancel(-1)");
  is(weft_timer_cancel((weft_handle)1 << 53), WEFT_EBADHANDLE,
     "timer_cancel(2^53)");
  is(weft_timer_cancel(closed), WEFT_EBADHANDLE,
     "timer_cancel on a closed timer");
  is(weft_timer_cancel(th), WEFT_EBADHANDLE,
     "timer_cancel on a Thread is WEFT_EBADHANDLE (wrong kind)");
  is(weft_timer_cancel(lock), WEFT_EBADHANDLE,
     "timer_cancel on a Lock is WEFT_EBADHANDLE");
  is(weft_thread_start(closed), WEFT_EBADHANDLE,
     "thread_start on a closed timer");
  weft_close(th);
  weft_close(lock);
}

static void test_null_function(void) {
  weft_handle t;
  int result = 1;
  weft_timer_new(0, NULL, NULL, NULL, &t);
  weft_thread_start(t);
  is(weft_thread_join(t, 10), 0, "a timer with a NULL function fires");
  weft_thread_get_result(t, &result);
  is(result, 0, "and its result is 0");
  weft_close(t);
}

/* Deadlines 0.4 s apart, fixed in absolute time (each interval counts
 * from its own start), so only a worker stalled that long could swap
 * two functions. */
static void test_order(void) {
  _Atomic int order = 0;
  shot s[3] = {{.order = &order}, {.order = &order}, {.order = &order}};
  double at[3] = {0.9, 0.1, 0.5}, base = now_s();
  weft_handle t[3];
  for (int i = 0; i < 3; i++) {
    double iv = base + at[i] - now_s();
    weft_timer_new(iv > 0 ? iv : 0, shot_fn, &s[i], NULL, &t[i]);
    weft_thread_start(t[i]);
  }
  for (int i = 0; i < 3; i++)
    weft_thread_join(t[i], -1);
  ok(s[1].my_order == 0 && s[2].my_order == 1 && s[0].my_order == 2,
     "timers fire in deadline order, not start order");
  for (int i = 0; i < 3; i++)
    weft_close(t[i]);
}

/* A slow function does not hold up other timers. */
static void test_slow_does_not_block(void) {
  shot slow = {.hold_it = 1}, quick = {0};
  weft_handle ts, tq;
  weft_timer_new(0, shot_fn, &slow, NULL, &ts);
  weft_timer_new(0.05, shot_fn, &quick, NULL, &tq);
  weft_thread_start(ts);
  weft_thread_start(tq);
  WAIT_FOR(atomic_load(&slow.runs), 10);
  ok(WAIT_FOR(atomic_load(&quick.runs), 10),
     "a timer fires while another timer's function is still running");
  ok(slow.tid != quick.tid, "they ran on different threads");
  gate_open(&slow.hold);
  weft_thread_join(ts, -1);
  weft_thread_join(tq, -1);
  weft_close(ts);
  weft_close(tq);
}

static void test_close_pending(void) {
  shot s = {0};
  weft_handle t;
  weft_timer_new(0.05, shot_fn, &s, NULL, &t);
  weft_thread_start(t);
  is(weft_close(t), 0, "closing a pending timer gives up the claim");
  is(weft_close(t), WEFT_EBADHANDLE, "closing it twice is WEFT_EBADHANDLE");
  ok(WAIT_FOR(atomic_load(&s.runs) == 1, 10),
     "a closed pending timer still fires");
  ok(WAIT_FOR(!handle_open(t), 10),
     "its handle is released once it has fired");
}

static int exit_early(void *arg) {
  atomic_fetch_add((_Atomic int *)arg, 1);
  weft_thread_exit(33);
  atomic_fetch_add((_Atomic int *)arg, 100);
  return 0;
}

static void test_exit_in_timer(void) {
  _Atomic int hits = 0;
  weft_handle t;
  int result = 0;
  weft_timer_new(0, exit_early, &hits, NULL, &t);
  weft_thread_start(t);
  is(weft_thread_join(t, 10), 0, "a timer whose function calls thread_exit "
                                 "finishes");
  weft_thread_get_result(t, &result);
  is(result, 33, "with thread_exit's result");
  is(atomic_load(&hits), 1, "and nothing after thread_exit ran");
  weft_close(t);
  shot s = {0};
  weft_timer_new(0, shot_fn, &s, NULL, &t);
  weft_thread_start(t);
  is(weft_thread_join(t, 10), 0, "timers still fire after a worker exited");
  weft_close(t);
}

static void test_shutdown(void) {
  shot s = {0};
  weft_handle t;
  weft_timer_new(0.1, shot_fn, &s, NULL, &t);
  weft_thread_start(t);
  is(weft_thread_shutdown(10), 0, "shutdown waits for a pending timer");
  is(atomic_load(&s.runs), 1, "which has fired when shutdown returns");
  weft_close(t);
  shot d = {0};
  weft_timer_new(5, shot_fn, &d, NULL, &t);
  weft_thread_set_daemon(t, 1);
  weft_thread_start(t);
  is(weft_thread_shutdown(0), 0, "shutdown does not wait for daemon timers");
  weft_timer_cancel(t);
  weft_close(t);
}

/* Runs before any timer has fired, so no worker exists yet. */
static void test_pending_hold_no_thread(void) {
  weft_handle t[200];
  shot s = {0};
  int base = os_thread_count();
  for (int i = 0; i < 200; i++) {
    weft_timer_new(30, shot_fn, &s, NULL, &t[i]);
    weft_thread_start(t[i]);
  }
  int during = os_thread_count();
  ok(during <= base + 1,
     "200 pending timers add at most the service thread (%d -> %d)", base,
     during);
  for (int i = 0; i < 200; i++) {
    weft_timer_cancel(t[i]);
    weft_close(t[i]);
  }
  is(atomic_load(&s.runs), 0, "no cancelled timer ran");
}

static void test_worker_reuse(void) {
  shot a = {0}, b = {.hold_it = 1};
  weft_handle ta, tb;
  weft_timer_new(0, shot_fn, &a, NULL, &ta);
  weft_thread_start(ta);
  weft_thread_join(ta, -1);
  _Atomic int worker = (int)a.tid;
  wait_all_blocked(&worker, 1); /* a's worker waits for work now */
  int idle = os_thread_count();
  weft_timer_new(0, shot_fn, &b, NULL, &tb);
  weft_thread_start(tb);
  WAIT_FOR(atomic_load(&b.runs), 10);
  int busy = os_thread_count();
  ok(busy <= idle, "a due timer runs on an idle worker, no new thread "
                   "(%d -> %d)", idle, busy);
  gate_open(&b.hold);
  weft_thread_join(tb, -1);
  weft_close(ta);
  weft_close(tb);
}

static _Atomic weft_handle hooked = -1;
static _Atomic int hook_before_fn = -1;
static _Atomic int hook_fn_runs;
static void timer_hook(void *arg, weft_handle thread) {
  (void)arg;
  atomic_store(&hooked, thread);
  atomic_store(&hook_before_fn, atomic_load(&hook_fn_runs) == 0);
}
static int count_run(void *arg) {
  (void)arg;
  atomic_fetch_add(&hook_fn_runs, 1);
  return 0;
}

static void test_hooks(void) {
  weft_handle hook, t;
  weft_thread_hook_new(timer_hook, NULL, &hook);
  weft_timer_new(0, count_run, NULL, NULL, &t);
  weft_thread_start(t);
  weft_thread_join(t, -1);
  is(atomic_load(&hooked), t, "start hooks run for a timer, with its handle");
  is(atomic_load(&hook_before_fn), 1, "before the timer's function");
  weft_close(hook);
  weft_close(t);
}

/* fork while the service thread and an idle worker wait on their
 * condvars: the child runs on, the parent's timers are stopped there, and
 * new timers work. */
static void test_fork(void) {
  shot a = {0}, p = {0};
  weft_handle ta, tp;
  weft_timer_new(0, shot_fn, &a, NULL, &ta);
  weft_thread_start(ta);
  weft_thread_join(ta, -1); /* its worker goes idle */
  weft_timer_new(300, shot_fn, &p, NULL, &tp);
  weft_thread_start(tp); /* the service waits for this one */
  _Atomic int tids[2];
  atomic_store(&tids[0], (int)a.tid);
  atomic_store(&tids[1], tid_named("weft-timers"));
  wait_all_blocked(tids, 2);
  pid_t pid = fork();
  if (pid == 0) {
    int bad = 0;
    if (is_alive(tp) != 0)
      bad |= 1;
    /* ThreadSanitizer cannot start threads in a fork child. */
    const char *san = getenv("SANITIZER");
    if (san == NULL || strcmp(san, "tsan") != 0) {
      shot c = {.result = 5};
      weft_handle tc;
      int result = 0;
      if (weft_timer_new(0, shot_fn, &c, NULL, &tc) != 0 ||
          weft_thread_start(tc) != 0 || weft_thread_join(tc, 10) != 0 ||
          weft_thread_get_result(tc, &result) != 0 || result != 5)
        bad |= 2;
    }
    _exit(bad);
  }
  is(wait_child(pid, 30), 0,
     "fork while the timer service and a worker wait: the child runs on, "
     "its copy of a pending timer is stopped, and new timers fire");
  is(is_alive(tp), 1, "the parent's pending timer is unaffected");
  weft_timer_cancel(tp);
  weft_close(tp);
  weft_close(ta);
}

int main(void) {
  /* A first thread, so that a sanitizer's helper thread exists already. */
  weft_handle warm;
  weft_thread_new(NULL, NULL, NULL, &warm);
  weft_thread_start(warm);
  weft_thread_join(warm, -1);
  weft_close(warm);
  int base = os_thread_count();
  test_new();
  test_bad();
  test_pending_hold_no_thread();
  ok(os_thread_count() <= base + 1,
     "only the timer service thread exists while nothing is due");
  test_fires();
  test_cancel();
  test_null_function();
  test_order();
  test_slow_does_not_block();
  test_worker_reuse();
  test_close_pending();
  test_exit_in_timer();
  test_hooks();
  test_shutdown();
  test_fork();
  int retired = WAIT_FOR(os_thread_count() <= base + 1, 10);
  ok(retired, "idle workers retire after a few seconds (%d -> %d threads)",
     base, os_thread_count());
  return done_testing();
}
