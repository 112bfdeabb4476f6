/* test-condition.c - Condition over its own RLock, a Lock and an RLock. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "sync-util.h"

/* Is the condition's lock held by this thread, judged through the lock's
 * own handle (lock_kind 0: the condition's own lock, judged by notify). */
static int lock_held(weft_handle cond, weft_handle lock, int lock_kind) {
  int v = 0;
  if (lock_kind == WEFT_KIND_RLOCK)
    weft_rlock_is_owned(lock, &v);
  else if (lock_kind == WEFT_KIND_LOCK)
    weft_lock_locked(lock, &v);
  else
    v = weft_condition_notify(cond, 0) == 0;
  return v;
}

static void test_new(void) {
  weft_handle c, lock, rlock, ev, dead;
  is(weft_condition_new(0, NULL), WEFT_EVALUE,
     "condition_new with NULL out is EVALUE");
  is(weft_condition_new(0, &c), 0, "condition_new(0) makes its own lock");
  int kind = 0;
  weft_handle_kind(c, &kind);
  is(kind, WEFT_KIND_CONDITION, "its kind is WEFT_KIND_CONDITION");
  is(weft_close(c), 0, "a condition with its own lock closes");

  weft_lock_new(&lock);
  weft_rlock_new(&rlock);
  is(weft_condition_new(lock, &c), 0, "a condition over a Lock");
  weft_close(c);
  is(weft_lock_acquire(lock, 0), 0,
     "closing it leaves a caller's Lock open and free");
  weft_lock_release(lock);
  is(weft_condition_new(rlock, &c), 0, "a condition over an RLock");
  weft_close(c);
  is(weft_rlock_acquire(rlock, 0), 0, "closing it leaves a caller's RLock");
  weft_rlock_release(rlock);

  weft_event_new(&ev);
  weft_lock_new(&dead);
  weft_close(dead);
  weft_handle bad[] = {-1, BIG, dead, ev};
  const char *name[] = {"-1", "2^53", "a closed lock", "an Event"};
  for (int i = 0; i < 4; i++)
    is(weft_condition_new(bad[i], &c), WEFT_EBADHANDLE,
       "condition_new over %s is EBADHANDLE", name[i]);
  weft_close(ev);
  weft_close(lock);
  weft_close(rlock);
}

static void test_bad_handles(void) {
  weft_handle lock, dead;
  weft_lock_new(&lock);
  weft_condition_new(0, &dead);
  weft_close(dead);
  weft_handle bad[] = {0, -1, BIG, dead, lock};
  const char *name[] = {"0", "-1", "2^53", "a closed condition", "a Lock"};
  for (int i = 0; i < 5; i++) {
    is(weft_condition_acquire(bad[i], 0), WEFT_EBADHANDLE,
       "acquire on %s is EBADHANDLE", name[i]);
    is(weft_condition_release(bad[i]), WEFT_EBADHANDLE,
       "release on %s is EBADHANDLE", name[i]);
    is(weft_condition_wait(bad[i], 0), WEFT_EBADHANDLE,
       "wait on %s is EBADHANDLE", name[i]);
    is(weft_condition_notify(bad[i], 1), WEFT_EBADHANDLE,
       "notify on %s is EBADHANDLE", name[i]);
    is(weft_condition_notify_all(bad[i]), WEFT_EBADHANDLE,
       "notify_all on %s is EBADHANDLE", name[i]);
  }
  int locked = 1;
  weft_lock_locked(lock, &locked);
  is(locked, 0, "none of them touched the Lock");
  weft_close(lock);
}

/* Behaviour common to the three kinds of lock. */
static void test_with(weft_handle lock, int lock_kind, const char *what) {
  weft_handle c;
  weft_condition_new(lock, &c);
  is(weft_condition_wait(c, 0), WEFT_ESTATE,
     "%s: wait without the lock is ESTATE", what);
  ok(strncmp(weft_last_error_message(), "condition_wait:", 15) == 0,
     "%s: the message names condition_wait", what);
  is(weft_condition_notify(c, 1), WEFT_ESTATE,
     "%s: notify without the lock is ESTATE", what);
  is(weft_condition_notify_all(c), WEFT_ESTATE,
     "%s: notify_all without the lock is ESTATE", what);
  is(weft_condition_acquire(c, NAN), WEFT_EVALUE,
     "%s: acquire with a NaN timeout is EVALUE", what);

  is(weft_condition_acquire(c, -1), 0, "%s: acquire", what);
  ok(lock_held(c, lock, lock_kind), "%s: acquire takes the lock", what);
  is(weft_condition_wait(c, NAN), WEFT_EVALUE,
     "%s: wait with a NaN timeout is EVALUE", what);
  is(weft_condition_notify(c, 1), 0, "%s: notify with no waiter", what);
  is(weft_condition_notify(c, 0), 0, "%s: notify(0)", what);
  is(weft_condition_notify_all(c), 0, "%s: notify_all with no waiter", what);
  is(weft_condition_wait(c, 0), -ETIMEDOUT, "%s: wait(0) is ETIMEDOUT", what);
  ok(lock_held(c, lock, lock_kind), "%s: and the lock is held after", what);
  double t0 = weft_monotonic();
  is(weft_condition_wait(c, 0.05), -ETIMEDOUT,
     "%s: wait(0.05) with no notify is ETIMEDOUT", what);
  double dt = weft_monotonic() - t0;
  ok(dt >= 0.04, "%s: after at least 0.04 s (%.3f)", what, dt);
  ok(lock_held(c, lock, lock_kind), "%s: and the lock is held after", what);
  is(weft_condition_release(c), 0, "%s: release", what);
  if (lock_kind != 0)
    ok(!lock_held(c, lock, lock_kind), "%s: release frees the lock", what);
  weft_close(c);
}

/* A call that succeeds leaves the last error as it was, also when it had
 * to find out whether the calling thread holds a Lock. */
static void test_success_keeps_last_error(void) {
  weft_handle lock, c, none;
  weft_lock_new(&lock);
  weft_condition_new(lock, &c);
  weft_condition_acquire(c, -1);
  is(weft_condition_new(-1, &none), WEFT_EBADHANDLE, "a failing call");
  char before[512];
  snprintf(before, sizeof before, "%s", weft_last_error_message());
  is(weft_condition_notify(c, 1), 0, "then notify over a held Lock");
  is(weft_condition_notify_all(c), 0, "and notify_all");
  is(weft_last_error_code(), WEFT_EBADHANDLE,
     "succeed and leave the last error code alone");
  ok(strcmp(weft_last_error_message(), before) == 0,
     "and its message (%s)", weft_last_error_message());
  weft_condition_release(c);
  weft_close(c);
  weft_close(lock);
}

/* ---- waiting, notifying ---- */

typedef struct waiter_arg {
  weft_handle c;
  int id;
  double timeout;
  _Atomic int started;
  weft_status st;
} waiter_arg;

static int woken[16], nwoken; /* guarded by the condition's lock */

static void *waiter(void *p) {
  waiter_arg *a = p;
  weft_condition_acquire(a->c, -1);
  atomic_store(&a->started, 1);
  a->st = weft_condition_wait(a->c, a->timeout);
  if (a->st == 0)
    woken[nwoken++] = a->id;
  weft_condition_release(a->c);
  return NULL;
}

/* Start waiter i and return once it is registered: the lock is free again
 * only after the waiter listed itself and released it inside wait. */
static pthread_t start_waiter(waiter_arg *a) {
  pthread_t t = spawn(waiter, a);
  while (!atomic_load(&a->started))
    sleep_s(0.001);
  weft_condition_acquire(a->c, -1);
  weft_condition_release(a->c);
  return t;
}

static int count_woken(weft_handle c, int want) {
  int n = 0;
  for (int i = 0; i < 2000; i++) {
    weft_condition_acquire(c, -1);
    n = nwoken;
    weft_condition_release(c);
    if (n >= want)
      break;
    sleep_s(0.005);
  }
  return n;
}

static int woken_set(int lo, int hi) { /* woken[lo..hi) == {lo..hi-1}? */
  int seen = 0;
  for (int i = lo; i < hi; i++)
    if (woken[i] >= lo && woken[i] < hi)
      seen |= 1 << woken[i];
  return seen == ((1 << hi) - 1) - ((1 << lo) - 1);
}

static void test_notify_n(void) {
  weft_handle c;
  weft_condition_new(0, &c);
  waiter_arg a[5];
  pthread_t t[5];
  nwoken = 0;
  for (int i = 0; i < 5; i++) {
    /* Bounded, so that a lost notify fails instead of hanging. */
    a[i] = (waiter_arg){.c = c, .id = i, .timeout = 30};
    t[i] = start_waiter(&a[i]);
  }
  weft_condition_acquire(c, -1);
  is(weft_condition_notify(c, 2), 0, "notify(2) with 5 waiters");
  weft_condition_release(c);
  is(count_woken(c, 2), 2, "two waiters wake");
  ok(woken_set(0, 2), "they are the two oldest");
  sleep_s(0.05);
  is(count_woken(c, 0), 2, "and no third one wakes");
  weft_condition_acquire(c, -1);
  weft_condition_notify(c, 1);
  weft_condition_release(c);
  is(count_woken(c, 3), 3, "notify(1) wakes one more");
  is(woken[2], 2, "the next oldest");
  weft_condition_acquire(c, -1);
  weft_condition_notify_all(c);
  weft_condition_release(c);
  is(count_woken(c, 5), 5, "notify_all wakes the rest");
  ok(woken_set(3, 5), "the two youngest");
  for (int i = 0; i < 5; i++)
    pthread_join(t[i], NULL);
  int all_ok = 1;
  for (int i = 0; i < 5; i++)
    all_ok &= a[i].st == 0;
  ok(all_ok, "every notified wait returned 0");
  weft_close(c);
}

static void test_timeout_unlists(void) {
  weft_handle c;
  weft_condition_new(0, &c);
  nwoken = 0;
  waiter_arg a = {.c = c, .id = 0, .timeout = 0.05};
  pthread_join(start_waiter(&a), NULL);
  is(a.st, -ETIMEDOUT, "a waiter that nobody notifies times out");
  waiter_arg b = {.c = c, .id = 1, .timeout = 30};
  pthread_t t = start_waiter(&b);
  weft_condition_acquire(c, -1);
  weft_condition_notify(c, 1);
  weft_condition_release(c);
  pthread_join(t, NULL);
  is(b.st, 0, "a later notify(1) goes to a live waiter, not a timed-out one");
  weft_close(c);
}

/* Python's wait releases an RLock fully and restores its depth. */
static weft_handle shared_rlock;
static _Atomic int got_it;

static void *take_and_notify(void *p) {
  weft_handle c = *(weft_handle *)p;
  weft_rlock_acquire(shared_rlock, -1); /* only possible if wait freed it */
  atomic_store(&got_it, 1);
  weft_condition_notify(c, 1);
  weft_rlock_release(shared_rlock);
  return NULL;
}

static void test_rlock_depth(void) {
  weft_handle c;
  weft_rlock_new(&shared_rlock);
  weft_condition_new(shared_rlock, &c);
  for (int i = 0; i < 3; i++)
    weft_rlock_acquire(shared_rlock, -1);
  pthread_t t = spawn(take_and_notify, &c);
  is(weft_condition_wait(c, 30), 0,
     "wait on an RLock held 3 deep is notified");
  ok(atomic_load(&got_it), "another thread took the RLock during the wait");
  pthread_join(t, NULL);
  int st = 0;
  for (int i = 0; i < 3; i++)
    st |= weft_rlock_release(shared_rlock);
  is(st, 0, "after wait the depth is 3 again: three releases succeed");
  is(weft_rlock_release(shared_rlock), WEFT_ESTATE, "and a fourth is ESTATE");
  weft_close(c);
  weft_close(shared_rlock);
}

/* A Lock held by another thread counts as held (Python's trick), and
 * wait really releases it. */
static weft_handle shared_lock;

static void *take_lock_and_notify(void *p) {
  weft_handle c = *(weft_handle *)p;
  weft_lock_acquire(shared_lock, -1);
  weft_condition_notify(c, 1);
  weft_lock_release(shared_lock);
  return NULL;
}

static void test_lock_released(void) {
  weft_handle c;
  weft_lock_new(&shared_lock);
  weft_condition_new(shared_lock, &c);
  weft_lock_acquire(shared_lock, -1);
  pthread_t t = spawn(take_lock_and_notify, &c);
  is(weft_condition_wait(c, 30), 0,
     "wait on a Lock lets another thread take it and notify");
  int locked = 0;
  weft_lock_locked(shared_lock, &locked);
  is(locked, 1, "the Lock is held again after wait");
  pthread_join(t, NULL);
  weft_lock_release(shared_lock);
  weft_close(c);
  weft_close(shared_lock);
}

static void test_lock_closed(void) {
  weft_handle lock, rlock, c1, c2;
  weft_lock_new(&lock);
  weft_rlock_new(&rlock);
  weft_condition_new(lock, &c1);
  weft_condition_new(rlock, &c2);
  weft_close(lock);
  weft_close(rlock);
  weft_handle cs[] = {c1, c2};
  for (int i = 0; i < 2; i++) {
    const char *w = i ? "RLock" : "Lock";
    is(weft_condition_acquire(cs[i], 0), WEFT_EBADHANDLE,
       "acquire after its %s was closed is EBADHANDLE", w);
    is(weft_condition_release(cs[i]), WEFT_EBADHANDLE,
       "release after its %s was closed is EBADHANDLE", w);
    is(weft_condition_wait(cs[i], 0), WEFT_EBADHANDLE,
       "wait after its %s was closed is EBADHANDLE", w);
    is(weft_condition_notify(cs[i], 1), WEFT_EBADHANDLE,
       "notify after its %s was closed is EBADHANDLE", w);
    is(weft_close(cs[i]), 0, "the condition itself still closes");
  }
}

/* ---- close while waiting ---- */

static void *closed_waiter(void *p) {
  waiter_arg *a = p;
  weft_condition_acquire(a->c, -1);
  atomic_store(&a->started, self_tid());
  a->st = weft_condition_wait(a->c, -1);
  return NULL;
}

static void test_close_waiting(void) {
  weft_handle lock, c;
  weft_lock_new(&lock);
  weft_condition_new(lock, &c);
  waiter_arg a = {.c = c};
  pthread_t t = spawn(closed_waiter, &a);
  ok(wait_all_blocked(&a.started, 1), "a waiter blocks in wait");
  is(weft_close(c), 0, "close the condition");
  pthread_join(t, NULL);
  is(a.st, WEFT_ECLOSED, "the waiter returns ECLOSED");
  int locked = 0;
  weft_lock_locked(lock, &locked);
  is(locked, 1, "having re-acquired the caller's Lock");
  weft_lock_release(lock);
  weft_close(lock);

  weft_condition_new(0, &c);
  a = (waiter_arg){.c = c};
  t = spawn(closed_waiter, &a);
  wait_all_blocked(&a.started, 1);
  weft_close(c);
  pthread_join(t, NULL);
  is(a.st, WEFT_ECLOSED, "with its own lock the waiter returns ECLOSED too");
}

int main(void) {
  test_new();
  test_bad_handles();
  weft_handle lock, rlock;
  weft_lock_new(&lock);
  weft_rlock_new(&rlock);
  test_with(0, 0, "own RLock");
  test_with(lock, WEFT_KIND_LOCK, "Lock");
  test_with(rlock, WEFT_KIND_RLOCK, "RLock");
  weft_close(lock);
  weft_close(rlock);
  test_success_keeps_last_error();
  test_notify_n();
  test_timeout_unlists();
  test_rlock_depth();
  test_lock_released();
  test_lock_closed();
  test_close_waiting();
  return done_testing();
}
