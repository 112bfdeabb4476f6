/* clock.c - monotonic deadlines, futex and condition-variable waits. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <math.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"

void weft__now(struct timespec *ts) { clock_gettime(CLOCK_MONOTONIC, ts); }

weft_status weft__deadline_init(weft__deadline *d, double timeout,
                                const char *what) {
  if (isnan(timeout))
    return weft__error(WEFT_EVALUE, 0, "%s: timeout is NaN", what);
  d->forever = timeout < 0 || isinf(timeout);
  weft__now(&d->at);
  if (d->forever || timeout == 0)
    return 0;
  /* Past ~292 years a deadline is as good as forever. */
  if (timeout > 9.2e9) {
    d->forever = 1;
    return 0;
  }
  double whole = floor(timeout);
  d->at.tv_sec += (time_t)whole;
  d->at.tv_nsec += (long)((timeout - whole) * 1e9);
  if (d->at.tv_nsec >= 1000000000L) {
    d->at.tv_sec++;
    d->at.tv_nsec -= 1000000000L;
  }
  return 0;
}

int weft__deadline_expired(const weft__deadline *d) {
  if (d->forever)
    return 0;
  struct timespec now;
  weft__now(&now);
  return now.tv_sec > d->at.tv_sec ||
         (now.tv_sec == d->at.tv_sec && now.tv_nsec >= d->at.tv_nsec);
}

WEFT_API double weft_monotonic(void) {
  struct timespec ts;
  weft__now(&ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int weft__futex_wait(_Atomic uint32_t *word, uint32_t expected,
                     const weft__deadline *d) {
  if (!d->forever && weft__deadline_expired(d))
    return -ETIMEDOUT;
  /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time. */
  long r = syscall(SYS_futex, (uint32_t *)word,
                   FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, expected,
                   d->forever ? NULL : &d->at, NULL, FUTEX_BITSET_MATCH_ANY);
  if (r == 0)
    return 0;
  switch (errno) {
  case ETIMEDOUT:
    return -ETIMEDOUT;
  case EINTR:
    return -EINTR;
  default: /* EAGAIN: the word changed before we slept */
    return 0;
  }
}

void weft__futex_wake(_Atomic uint32_t *word, int n) {
  syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n,
          NULL, NULL, 0);
}

int weft__cond_init(pthread_cond_t *cv) {
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  int r = pthread_cond_init(cv, &attr);
  pthread_condattr_destroy(&attr);
  return -r;
}

int weft__cond_wait(pthread_cond_t *cv, pthread_mutex_t *mu,
                    const weft__deadline *d) {
  if (d->forever) {
    pthread_cond_wait(cv, mu);
    return 0;
  }
  int r = pthread_cond_timedwait(cv, mu, &d->at);
  return r == ETIMEDOUT ? -ETIMEDOUT : 0;
}

WEFT_API weft_status weft_sleep(double seconds) {
  if (isnan(seconds) || seconds < 0)
    return weft__error(WEFT_EVALUE, 0, "sleep: seconds must be >= 0, not %g",
                       seconds);
  weft__deadline d;
  weft__deadline_init(&d, seconds, "sleep");
  /* A forever deadline never expires: sleep(inf) sleeps an hour at a
   * time, for good. */
  while (!weft__deadline_expired(&d)) {
    struct timespec at = d.at;
    if (d.forever) {
      weft__now(&at);
      at.tv_sec += 3600;
    }
    int r = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
    if (r != 0 && r != EINTR)
      return weft__errno(r, "sleep");
    /* EINTR, PEP 475: resume with the remaining time.  Signal handlers run
     * here once the signal module exists. */
  }
  return 0;
}
