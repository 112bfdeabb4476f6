/* test-semaphore.c - Semaphore and BoundedSemaphore. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "sync-util.h"

static int64_t value_of(weft_handle s) {
  int64_t v = -1;
  weft_semaphore_get_value(s, &v);
  return v;
}

static void test_new(void) {
  weft_handle s;
  is(weft_semaphore_new(1, NULL), WEFT_EVALUE,
     "semaphore_new with NULL out is EVALUE");
  is(weft_semaphore_new(-1, &s), WEFT_EVALUE,
     "semaphore_new(-1) is EVALUE");
  is(weft_bounded_semaphore_new(1, NULL), WEFT_EVALUE,
     "bounded_semaphore_new with NULL out is EVALUE");
  is(weft_bounded_semaphore_new(-1, &s), WEFT_EVALUE,
     "bounded_semaphore_new(-1) is EVALUE");
  ok(strncmp(weft_last_error_message(), "bounded_semaphore_new:", 22) == 0,
     "the message names bounded_semaphore_new");
  int kind = 0;
  is(weft_semaphore_new(0, &s), 0, "semaphore_new(0) succeeds");
  weft_handle_kind(s, &kind);
  is(kind, WEFT_KIND_SEMAPHORE, "its kind is WEFT_KIND_SEMAPHORE");
  weft_close(s);
  kind = 0;
  is(weft_bounded_semaphore_new(0, &s), 0, "bounded_semaphore_new(0) too");
  weft_handle_kind(s, &kind);
  is(kind, WEFT_KIND_SEMAPHORE, "a bounded semaphore is a semaphore handle");
  weft_close(s);
}

static void test_counting(void) {
  weft_handle s;
  weft_semaphore_new(2, &s);
  is(value_of(s), 2, "the value starts at the initial value");
  is(weft_semaphore_acquire(s, 0), 0, "acquire 1 of 2");
  is(weft_semaphore_acquire(s, -1), 0, "acquire 2 of 2");
  is(value_of(s), 0, "the value is then 0");
  is(weft_semaphore_acquire(s, 0), -ETIMEDOUT, "a poll at 0 is ETIMEDOUT");
  double t0 = weft_monotonic();
  is(weft_semaphore_acquire(s, 0.05), -ETIMEDOUT,
     "a 0.05 s acquire at 0 is ETIMEDOUT");
  double dt = weft_monotonic() - t0;
  ok(dt >= 0.04, "after at least 0.04 s (%.3f)", dt);
  is(value_of(s), 0, "failed acquires leave the value at 0");
  is(weft_semaphore_release(s, 0), WEFT_EVALUE, "release(0) is EVALUE");
  is(weft_semaphore_release(s, -3), WEFT_EVALUE, "release(-3) is EVALUE");
  is(value_of(s), 0, "and they change nothing");
  is(weft_semaphore_release(s, 3), 0, "release(3)");
  is(value_of(s), 3, "adds 3");
  is(weft_semaphore_release(s, 1), 0,
     "an unbounded semaphore may go above its initial value");
  is(value_of(s), 4, "to 4");
  weft_close(s);

  weft_semaphore_new(INT64_MAX, &s);
  is(weft_semaphore_release(s, 1), WEFT_EVALUE,
     "a release past INT64_MAX is EVALUE");
  is(value_of(s), INT64_MAX, "and changes nothing");
  weft_close(s);
}

static void test_bounded(void) {
  weft_handle s;
  weft_bounded_semaphore_new(2, &s);
  is(weft_semaphore_release(s, 1), WEFT_EVALUE,
     "releasing a full bounded semaphore is EVALUE");
  ok(strncmp(weft_last_error_message(), "semaphore_release:", 18) == 0,
     "the message names semaphore_release");
  is(value_of(s), 2, "and changes nothing");
  weft_semaphore_acquire(s, 0);
  weft_semaphore_acquire(s, 0);
  is(weft_semaphore_release(s, 3), WEFT_EVALUE,
     "release(3) from 0 with a bound of 2 is EVALUE");
  is(value_of(s), 0, "and changes nothing");
  is(weft_semaphore_release(s, 2), 0, "release(2) up to the bound is fine");
  is(value_of(s), 2, "the value is back at the bound");
  weft_close(s);
}

/* ---- waiters ---- */

typedef struct acq_arg {
  weft_handle s;
  _Atomic int *tid; /* where to publish the thread's tid */
  _Atomic int done;
  weft_status st;
} acq_arg;

static void *acquirer(void *p) {
  acq_arg *a = p;
  atomic_store(a->tid, self_tid());
  a->st = weft_semaphore_acquire(a->s, -1);
  atomic_store(&a->done, 1);
  return NULL;
}

static int count_done(acq_arg *a, int n, int want) {
  int c = 0;
  for (int round = 0; round < 2000; round++) {
    c = 0;
    for (int i = 0; i < n; i++)
      c += atomic_load(&a[i].done);
    if (c >= want)
      break;
    sleep_s(0.005);
  }
  return c;
}

static void test_wakes(void) {
  weft_handle s;
  weft_semaphore_new(0, &s);
  acq_arg a[4];
  pthread_t t[4];
  _Atomic int tids[4];
  for (int i = 0; i < 4; i++) {
    atomic_init(&tids[i], 0);
    memset(&a[i], 0, sizeof a[i]);
    a[i].s = s;
    a[i].tid = &tids[i];
    t[i] = spawn(acquirer, &a[i]);
  }
  ok(wait_all_blocked(tids, 4), "four acquirers block at 0");
  is(weft_semaphore_release(s, 2), 0, "release(2)");
  is(count_done(a, 4, 2), 2, "lets two of them through");
  sleep_s(0.05);
  is(count_done(a, 4, 0), 2, "and only two");
  is(value_of(s), 0, "which took both units");
  is(weft_semaphore_release(s, 5), 0, "release(5)");
  is(count_done(a, 4, 4), 4, "lets the other two through");
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  int all_ok = 1;
  for (int i = 0; i < 4; i++)
    all_ok &= a[i].st == 0;
  ok(all_ok, "every acquirer got 0");
  is(value_of(s), 3, "and three units are left");
  weft_close(s);
}

static void test_bad_arguments(void) {
  weft_handle s, dead, lock;
  weft_semaphore_new(1, &s);
  weft_semaphore_new(1, &dead);
  weft_close(dead);
  weft_lock_new(&lock);
  weft_handle bad[] = {0, -1, BIG, dead, lock};
  const char *name[] = {"0", "-1", "2^53", "a closed semaphore", "a Lock"};
  int64_t v;
  for (int i = 0; i < 5; i++) {
    is(weft_semaphore_acquire(bad[i], 0), WEFT_EBADHANDLE,
       "acquire on %s is EBADHANDLE", name[i]);
    is(weft_semaphore_release(bad[i], 1), WEFT_EBADHANDLE,
       "release on %s is EBADHANDLE", name[i]);
    is(weft_semaphore_get_value(bad[i], &v), WEFT_EBADHANDLE,
       "get_value on %s is EBADHANDLE", name[i]);
  }
  is(weft_lock_acquire(lock, 0), 0, "the Lock was not touched");
  is(weft_semaphore_get_value(s, NULL), WEFT_EVALUE,
     "get_value with NULL out is EVALUE");
  is(weft_semaphore_acquire(s, NAN), WEFT_EVALUE, "a NaN timeout is EVALUE");
  is(value_of(s), 1, "and takes nothing");
  is(weft_close(s), 0, "close");
  is(weft_close(s), WEFT_EBADHANDLE, "closing twice is EBADHANDLE");
  weft_close(lock);
}

int main(void) {
  test_new();
  test_counting();
  test_bounded();
  test_wakes();
  test_bad_arguments();
  return done_testing();
}
