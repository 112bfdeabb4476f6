/* test-interrupt.c - weft_thread_interrupt: every blocking call returns
 * -EINTR having done nothing, a pending interrupt waits for the next call
 * that would block, and the interrupted thread can carry on. */
#include <errno.h>
#include <string.h>

#include "sync-util.h"

/* A thread (alien, so it gets a dummy record, as a Ruby thread does) that
 * runs one blocking call and reports its status. */
typedef struct job {
  weft_status (*call)(struct job *);
  weft_handle h, h2;  /* what it blocks on */
  weft_handle self;   /* its own thread handle */
  _Atomic int tid;
  _Atomic int ready;
  weft_status st;
  int after;          /* a follow-up check made by the thread itself */
} job;

static void *job_main(void *p) {
  job *j = p;
  weft_thread_current(&j->self);
  atomic_store(&j->tid, self_tid());
  atomic_store(&j->ready, 1);
  j->st = j->call(j);
  return NULL;
}

/* Wait (up to 10 s) until thread tid sleeps in futex(2): every blocking
 * call of weft's sleeps there. */
static int sleeps_in_futex(int tid) {
  for (int i = 0; i < 10000; i++) {
    int r = tid_in_futex(tid);
    if (r != 0)
      return r < 0 ? wait_blocked(tid) : 1;
    usleep(1000);
  }
  return 0;
}

/* Start j, wait until its call sleeps, interrupt it, join it. */
static weft_status interrupt_job(job *j, const char *what) {
  pthread_t t = spawn(job_main, j);
  while (!atomic_load(&j->ready))
    sleep_s(0.001);
  ok(sleeps_in_futex(atomic_load(&j->tid)), "%s: the thread blocks", what);
  is(weft_thread_interrupt(j->self), 0, "%s: interrupt returns 0", what);
  pthread_join(t, NULL);
  return j->st;
}

static weft_status do_lock(job *j) { return weft_lock_acquire(j->h, -1); }
static weft_status do_rlock(job *j) { return weft_rlock_acquire(j->h, -1); }
static weft_status do_event(job *j) { return weft_event_wait(j->h, -1); }
static weft_status do_sem(job *j) { return weft_semaphore_acquire(j->h, 30); }
static weft_status do_sleep(job *j) { return weft_sleep(30); }
static weft_status do_join(job *j) { return weft_thread_join(j->h, -1); }
static weft_status do_shutdown(job *j) { return weft_thread_shutdown(-1); }
static weft_status do_cond_acquire(job *j) {
  return weft_condition_acquire(j->h, -1);
}
static weft_status do_cond_wait(job *j) {
  weft_condition_acquire(j->h, -1);
  weft_status st = weft_condition_wait(j->h, -1);
  int owned = 0;
  weft_rlock_is_owned(j->h2, &owned);
  j->after = owned; /* wait re-acquired the lock before returning */
  weft_condition_release(j->h);
  return st;
}
static weft_status do_barrier(job *j) {
  int64_t index;
  return weft_barrier_wait(j->h, -1, &index);
}
static weft_status do_dispatch(job *j) {
  size_t ran = 99;
  weft_status st = weft_dispatcher_run(j->h, -1, &ran);
  j->after = (int)ran;
  return st;
}

static int held_forever(void *arg) {
  weft_event_wait(*(weft_handle *)arg, -1);
  return 0;
}

static void test_each_call(void) {
  job j;
  weft_handle lk, rl, ev, sem, cond, bar, disp;

  weft_lock_new(&lk);
  weft_lock_acquire(lk, -1);
  j = (job){.call = do_lock, .h = lk};
  is(interrupt_job(&j, "lock_acquire"), -EINTR, "lock_acquire gives -EINTR");
  is(weft_lock_release(lk), 0, "the lock was still ours: release works");
  int locked = 1;
  weft_lock_locked(lk, &locked);
  is(locked, 0, "and nobody else holds it");
  weft_close(lk);

  weft_rlock_new(&rl);
  weft_rlock_acquire(rl, -1);
  j = (job){.call = do_rlock, .h = rl};
  is(interrupt_job(&j, "rlock_acquire"), -EINTR, "rlock_acquire gives -EINTR");
  is(weft_rlock_release(rl), 0, "the rlock was still ours");
  weft_close(rl);

  weft_event_new(&ev);
  j = (job){.call = do_event, .h = ev};
  is(interrupt_job(&j, "event_wait"), -EINTR, "event_wait gives -EINTR");
  weft_close(ev);

  weft_semaphore_new(0, &sem);
  j = (job){.call = do_sem, .h = sem};
  is(interrupt_job(&j, "semaphore_acquire"), -EINTR,
     "semaphore_acquire gives -EINTR");
  weft_semaphore_release(sem, 1);
  int64_t v = -1;
  weft_semaphore_get_value(sem, &v);
  is((int)v, 1, "a later release is not taken by the interrupted waiter");
  weft_close(sem);

  j = (job){.call = do_sleep};
  double t0 = weft_monotonic();
  is(interrupt_job(&j, "sleep"), -EINTR, "sleep(30) gives -EINTR");
  ok(weft_monotonic() - t0 < 20, "long before its time");

  weft_handle gate, th;
  weft_event_new(&gate);
  weft_thread_new(held_forever, &gate, "held", &th);
  weft_thread_start(th);
  j = (job){.call = do_join, .h = th};
  is(interrupt_job(&j, "thread_join"), -EINTR, "thread_join gives -EINTR");
  j = (job){.call = do_shutdown};
  is(interrupt_job(&j, "thread_shutdown"), -EINTR,
     "thread_shutdown gives -EINTR");
  weft_event_set(gate);
  is(weft_thread_join(th, -1), 0, "the thread it waited for finishes");
  weft_close(th);
  weft_close(gate);

  weft_rlock_new(&rl);
  weft_condition_new(rl, &cond);
  weft_rlock_acquire(rl, -1);
  j = (job){.call = do_cond_acquire, .h = cond};
  is(interrupt_job(&j, "condition_acquire"), -EINTR,
     "condition_acquire gives -EINTR");
  weft_rlock_release(rl);
  j = (job){.call = do_cond_wait, .h = cond, .h2 = rl};
  is(interrupt_job(&j, "condition_wait"), -EINTR,
     "condition_wait gives -EINTR");
  is(j.after, 1, "having re-acquired the lock");
  weft_condition_acquire(cond, -1);
  is(weft_condition_notify(cond, 1), 0, "notify finds no stale waiter");
  weft_condition_release(cond);
  weft_close(cond);
  weft_close(rl);

  weft_barrier_new(2, NULL, NULL, -1, &bar);
  j = (job){.call = do_barrier, .h = bar};
  is(interrupt_job(&j, "barrier_wait"), -EINTR, "barrier_wait gives -EINTR");
  int broken = 1;
  int64_t n_waiting = -1;
  weft_barrier_is_broken(bar, &broken);
  weft_barrier_get_n_waiting(bar, &n_waiting);
  is(broken, 0, "the barrier is not broken");
  is((int)n_waiting, 0, "and the interrupted party left it");
  weft_close(bar);

  weft_dispatcher_new(&disp);
  j = (job){.call = do_dispatch, .h = disp};
  is(interrupt_job(&j, "dispatcher_run"), -EINTR,
     "dispatcher_run gives -EINTR");
  is(j.after, 0, "having run nothing");
  weft_close(disp);
}

/* An interrupt that finds no blocking call stays pending for the next
 * call that would block; a call that need not block does not take it. */
static void test_pending(void) {
  weft_handle me, lk, ev;
  weft_thread_current(&me);
  weft_lock_new(&lk);
  weft_event_new(&ev);
  is(weft_thread_interrupt(me), 0, "interrupting oneself");
  is(weft_lock_acquire(lk, -1), 0, "a free lock is still acquired");
  is(weft_event_wait(ev, 0), -ETIMEDOUT, "a poll does not take it");
  is(weft_event_wait(ev, -1), -EINTR, "the next blocking wait takes it");
  is(weft_last_error_code(), -EINTR, "last error is -EINTR");
  ok(strstr(weft_last_error_message(), "interrupted") != NULL,
     "message says interrupted: %s", weft_last_error_message());
  is(weft_event_wait(ev, 0.01), -ETIMEDOUT, "and only that one");
  weft_thread_interrupt(me);
  weft_thread_interrupt(me);
  is(weft_event_wait(ev, -1), -EINTR, "two interrupts before a wait...");
  is(weft_event_wait(ev, 0.01), -ETIMEDOUT, "...are one");
  int was = -1;
  weft_thread_interrupt(me);
  is(weft_thread_interrupt_clear(&was), 0, "interrupt_clear");
  is(was, 1, "says an interrupt was pending");
  is(weft_event_wait(ev, 0.01), -ETIMEDOUT,
     "and the next wait is not interrupted");
  weft_thread_interrupt_clear(&was);
  is(was, 0, "with none pending it says so");
  is(weft_thread_interrupt_clear(NULL), WEFT_EVALUE,
     "a NULL was_pending is WEFT_EVALUE");
  weft_lock_release(lk);
  weft_close(lk);
  weft_close(ev);
}

static int blocked_target(void *arg) {
  return weft_event_wait(*(weft_handle *)arg, -1) == -EINTR ? 7 : 1;
}

static void test_weft_thread_and_bad_input(void) {
  weft_handle ev, th;
  weft_event_new(&ev);
  weft_thread_new(blocked_target, &ev, "interruptee", &th);
  weft_thread_start(th);
  int64_t native = 0;
  while (native == 0)
    weft_thread_get_native_id(th, &native);
  ok(sleeps_in_futex((int)native), "a weft thread blocks in event_wait");
  is(weft_thread_interrupt(th), 0, "interrupt it");
  is(weft_thread_join(th, -1), 0, "it finishes");
  int result = 0;
  weft_thread_get_result(th, &result);
  is(result, 7, "its wait returned -EINTR");
  is(weft_thread_interrupt(th), 0, "interrupting a finished thread: 0");
  weft_close(th);
  is(weft_thread_interrupt(th), WEFT_EBADHANDLE, "a closed handle");
  is(weft_thread_interrupt(ev), WEFT_EBADHANDLE, "an event is not a thread");
  is(weft_thread_interrupt(0), WEFT_EBADHANDLE, "handle 0");

  weft_handle unstarted;
  weft_thread_new(NULL, NULL, NULL, &unstarted);
  is(weft_thread_interrupt(unstarted), 0, "an unstarted thread: nothing");
  weft_thread_start(unstarted);
  is(weft_thread_join(unstarted, -1), 0, "it runs and is joined normally");
  weft_close(unstarted);
  weft_close(ev);
}

/* Many interrupts racing with waits that come and go: each interrupt ends
 * exactly one wait or stays pending; nothing hangs. */
typedef struct racer {
  weft_handle ev;
  weft_handle self;
  _Atomic int ready, stop;
  long eintr;
} racer;

static void *racer_main(void *p) {
  racer *r = p;
  weft_thread_current(&r->self);
  atomic_store(&r->ready, 1);
  while (!atomic_load(&r->stop))
    if (weft_event_wait(r->ev, 0.001) == -EINTR)
      r->eintr++;
  return NULL;
}

static void test_race(void) {
  racer r = {0};
  weft_event_new(&r.ev);
  pthread_t t = spawn(racer_main, &r);
  while (!atomic_load(&r.ready))
    sleep_s(0.001);
  long n = stress_n(20000);
  for (long i = 0; i < n; i++)
    weft_thread_interrupt(r.self);
  atomic_store(&r.stop, 1);
  pthread_join(t, NULL);
  ok(r.eintr >= 1 && r.eintr <= n, "%ld interrupts ended %ld waits", n,
     r.eintr);
  weft_close(r.ev);
}

int main(void) {
  test_each_call();
  test_pending();
  test_weft_thread_and_bad_input();
  test_race();
  return done_testing();
}
