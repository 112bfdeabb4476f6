/* stress-timers.c - 10,000 timers, half cancelled: exactly the other half
 * fires, once each, and pending timers hold no threads.  Then timers
 * cancelled while they come due. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "thread-util.h"

#define N 10000
#define RACE 2000

static _Atomic int fired[N];
static weft_handle timers[N];

static int fire(void *arg) {
  atomic_fetch_add(&fired[(intptr_t)arg], 1);
  return (int)(intptr_t)arg;
}

static void test_ten_thousand(void) {
  int base = os_thread_count();
  size_t base_active = active();
  double t0 = now_s();
  int made = 1;
  for (intptr_t i = 0; i < N; i++) {
    /* due 2.0 .. 2.5 s from now: still pending when we look */
    made &= weft_timer_new(2.0 + (double)(i % 500) * 0.001, fire, (void *)i,
                           NULL, &timers[i]) == 0;
    made &= weft_thread_start(timers[i]) == 0;
  }
  ok(made, "10,000 timers created and started");
  int cancelled = 1;
  for (int i = 0; i < N; i += 2)
    cancelled &= weft_timer_cancel(timers[i]) == 0;
  ok(cancelled, "every even timer cancelled");
  int pending_threads = os_thread_count();
  int early = 0;
  for (int i = 0; i < N; i++)
    early += atomic_load(&fired[i]);
  diag("setup took %.3f s; %d fired early; threads %d -> %d", now_s() - t0,
       early, base, pending_threads);
  ok(pending_threads >= 0 && pending_threads < 16,
     "5,000 pending timers run on a handful of threads (%d)",
     pending_threads);
  ok(pending_threads <= base + 2,
     "pending timers add at most a service thread (%d -> %d)", base,
     pending_threads);
  is(active(), base_active + N / 2, "the pending timers are enumerated");

  int joined = 1, peak = 0;
  for (int i = 0; i < N; i++) {
    joined &= weft_thread_join(timers[i], 30) == 0;
    if (i % 500 == 0) {
      int n = os_thread_count();
      peak = n > peak ? n : peak;
    }
  }
  ok(joined, "every timer can be joined");
  diag("peak thread count while firing: %d", peak);
  int once = 1, never = 1, results = 1;
  for (int i = 0; i < N; i++) {
    int r = 0;
    weft_thread_get_result(timers[i], &r);
    if (i % 2) {
      once &= atomic_load(&fired[i]) == 1;
      results &= r == i;
    } else {
      never &= atomic_load(&fired[i]) == 0;
      results &= r == WEFT_ECLOSED;
    }
  }
  ok(once, "every uncancelled timer fired exactly once");
  ok(never, "no cancelled timer fired");
  ok(results, "results: the function's return, or WEFT_ECLOSED if cancelled");
  is(active(), base_active, "no timer is alive afterwards");
  int closed = 1;
  for (int i = 0; i < N; i++)
    closed &= weft_close(timers[i]) == 0;
  ok(closed, "every timer handle closes");
}

/* Cancel from another thread while the timers come due. */
static void *cancel_all(void *arg) {
  (void)arg;
  for (int i = RACE - 1; i >= 0; i--)
    weft_timer_cancel(timers[i]);
  return NULL;
}

static void test_cancel_race(void) {
  for (int i = 0; i < RACE; i++)
    atomic_store(&fired[i], 0);
  for (intptr_t i = 0; i < RACE; i++) {
    weft_timer_new((double)(i % 20) * 0.0005, fire, (void *)i, NULL,
                   &timers[i]);
    weft_thread_start(timers[i]);
  }
  pthread_t c;
  pthread_create(&c, NULL, cancel_all, NULL);
  pthread_join(c, NULL);
  int consistent = 1, nfired = 0;
  for (int i = 0; i < RACE; i++) {
    int r = -1;
    weft_thread_join(timers[i], 30);
    weft_thread_get_result(timers[i], &r);
    int f = atomic_load(&fired[i]);
    nfired += f;
    consistent &= (f == 1 && r == i) || (f == 0 && r == WEFT_ECLOSED);
    weft_close(timers[i]);
  }
  diag("%d of %d fired before their cancel", nfired, RACE);
  ok(consistent, "a timer cancelled as it comes due either fired once or "
                 "was cancelled, never both");
}

int main(void) {
  test_ten_thousand();
  test_cancel_race();
  return done_testing();
}
