/* clock.h - monotonic deadlines and futex waits (internal). */
#ifndef WEFT_CLOCK_H
#define WEFT_CLOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "weft.h"

/* A deadline on CLOCK_MONOTONIC.  `forever` is set for timeouts < 0. */
typedef struct weft__deadline {
  struct timespec at;
  int forever;
} weft__deadline;

/* Turn an ABI timeout (double seconds; < 0 forever, 0 poll) into a
 * deadline.  NaN is WEFT_EVALUE. */
weft_status weft__deadline_init(weft__deadline *d, double timeout,
                                const char *what);

/* 1 if the deadline has passed (never for `forever`). */
int weft__deadline_expired(const weft__deadline *d);

/* Monotonic now. */
void weft__now(struct timespec *ts);

/* Sleep on a 32-bit futex word while it equals `expected`, until the
 * deadline.  Returns 0 (woken or value changed; re-check), -ETIMEDOUT or
 * -EINTR (a signal arrived; callers retry with the same deadline). */
int weft__futex_wait(_Atomic uint32_t *word, uint32_t expected,
                     const weft__deadline *d);

/* Wake up to n waiters (INT32_MAX: all). */
void weft__futex_wake(_Atomic uint32_t *word, int n);

/* Make a condition variable that waits on CLOCK_MONOTONIC: 0 or -errno. */
int weft__cond_init(pthread_cond_t *cv);

/* Wait on a condition variable made by weft__cond_init, until the
 * deadline.  Returns 0 (woken, maybe spuriously; re-check) or -ETIMEDOUT. */
int weft__cond_wait(pthread_cond_t *cv, pthread_mutex_t *mu,
                    const weft__deadline *d);

#endif
