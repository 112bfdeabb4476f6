/* clock.c - monotonic deadlines, futex and condition-variable waits. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <math.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "sig.h"

void weft__now(struct timespec *ts) { clock_gettime(CLOCK_MONOTONIC, ts); }

weft_status weft__deadline_init(weft__deadline *d, double timeout,
                                const char *what) {
  if (isnan(timeout))
    return weft__error(WEFT_EVALUE, 0, "%s: timeout is NaN", what);
  d->forever = timeout < 0 || isinf(timeout);
  if (d->forever) { /* no clock read: the hot path of blocking calls */
    d->at.tv_sec = 0;
    d->at.tv_nsec = 0;
    return 0;
  }
  weft__now(&d->at);
  if (timeout == 0)
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

int weft__deadline_left(const weft__deadline *d, struct timespec *rel) {
  struct timespec now;
  weft__now(&now);
  rel->tv_sec = d->at.tv_sec - now.tv_sec;
  rel->tv_nsec = d->at.tv_nsec - now.tv_nsec;
  if (rel->tv_nsec < 0) {
    rel->tv_sec--;
    rel->tv_nsec += 1000000000L;
  }
  if (rel->tv_sec < 0 || (rel->tv_sec == 0 && rel->tv_nsec == 0)) {
    rel->tv_sec = 0;
    rel->tv_nsec = 0;
    return 0;
  }
  return 1;
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

/* ---- interruptible waits ---- */

void weft__intr_init(weft__intr *in) {
  pthread_mutex_init(&in->mu, NULL);
  atomic_init(&in->pending, 0);
  in->word = NULL;
  in->cv = NULL;
  in->fd = -1;
  atomic_init(&in->kick, 0);
}

/* Set *flag (in's pending or kick) and wake in's sleeper until it took
 * the flag or is not sleeping.  The first wake nearly always lands; the
 * back-off covers a sleeper caught between its check and its sleep,
 * which takes a few instructions. */
static void intr_signal(weft__intr *in, _Atomic int *flag) {
  pthread_mutex_lock(&in->mu);
  atomic_store(flag, 1);
  pthread_mutex_unlock(&in->mu);
  for (unsigned round = 0;; round++) {
    pthread_mutex_lock(&in->mu);
    int again = atomic_load(flag) &&
                (in->word != NULL || in->cv != NULL || in->fd >= 0);
    if (again) {
      if (in->word != NULL)
        weft__futex_wake(in->word, INT32_MAX);
      if (in->cv != NULL)
        pthread_cond_broadcast(in->cv);
      if (in->fd >= 0) {
        uint64_t one = 1;
        ssize_t w = write(in->fd, &one, sizeof one);
        (void)w; /* EAGAIN: the counter is huge, i.e. readable already */
      }
    }
    pthread_mutex_unlock(&in->mu);
    if (!again)
      return;
    if (round < 4) {
      sched_yield();
    } else {
      struct timespec ts = {0, round < 20 ? 50000L : 1000000L};
      nanosleep(&ts, NULL);
    }
  }
}

void weft__intr_raise(weft__intr *in) { intr_signal(in, &in->pending); }

/* A sleeper that wakes takes the kick when it next enters: one extra
 * re-check. */
void weft__intr_kick(weft__intr *in) { intr_signal(in, &in->kick); }

/* Start a sleep: -EINTR if an interrupt is pending (consumed), 1 if a
 * kick is (consumed: re-check instead of sleeping), else 0 with the sleep
 * registered in `in` (one of word, cv, fd). */
static int intr_enter(weft__intr *in, _Atomic uint32_t *word,
                      pthread_cond_t *cv, int fd) {
  pthread_mutex_lock(&in->mu);
  if (atomic_exchange(&in->pending, 0)) {
    pthread_mutex_unlock(&in->mu);
    return -EINTR;
  }
  if (atomic_exchange(&in->kick, 0)) {
    pthread_mutex_unlock(&in->mu);
    return 1;
  }
  in->word = word;
  in->cv = cv;
  in->fd = fd;
  pthread_mutex_unlock(&in->mu);
  return 0;
}

void weft__intr_leave(weft__intr *in) {
  pthread_mutex_lock(&in->mu);
  in->word = NULL;
  in->cv = NULL;
  in->fd = -1;
  pthread_mutex_unlock(&in->mu);
}

int weft__intr_enter_fd(weft__intr *in, int fd) {
  return intr_enter(in, NULL, NULL, fd);
}

/* Begin a wait on word or cv: the signal module's check first (it runs
 * the tripped handlers here on the dispatching thread, `mu` released),
 * then the interrupt state, registered in *in (NULL: none).  1 means
 * "do not sleep, return *r": handlers ran or a kick came (0: re-check),
 * or a handler failed or an interrupt was pending (-EINTR). */
static int wait_begin(pthread_mutex_t *mu, _Atomic uint32_t *word,
                      pthread_cond_t *cv, weft__intr **in, int *r) {
  *in = weft__intr_self();
  if (atomic_load_explicit(&weft__signal_active, memory_order_relaxed)) {
    int s = weft__signal_in_wait(mu);
    if (s != 0) {
      *r = s < 0 ? -EINTR : 0;
      return 1;
    }
    if (*in == NULL && weft__signal_runner_here() &&
        weft__intr_self_unmade()) {
      /* The dispatching thread must be reachable by a kick: give it its
       * state (which may take the registry mutex: not with mu held),
       * then re-check. */
      if (mu != NULL)
        pthread_mutex_unlock(mu);
      weft__intr_self_make();
      if (mu != NULL)
        pthread_mutex_lock(mu);
      *r = 0;
      return 1;
    }
  }
  if (*in != NULL) {
    int e = intr_enter(*in, word, cv, -1);
    if (e != 0) {
      *r = e < 0 ? -EINTR : 0;
      return 1;
    }
  }
  return 0;
}

int weft__wait_futex(_Atomic uint32_t *word, uint32_t expected,
                     const weft__deadline *d) {
  weft__intr *in;
  int r;
  if (wait_begin(NULL, word, NULL, &in, &r))
    return r;
  r = weft__futex_wait(word, expected, d);
  if (in != NULL)
    weft__intr_leave(in);
  if (r == -EINTR) /* a signal: re-check, sleep again (PEP 475) */
    r = weft__signal_eintr();
  return r;
}

int weft__wait_cond(pthread_cond_t *cv, pthread_mutex_t *mu,
                    const weft__deadline *d) {
  weft__intr *in;
  int r;
  if (wait_begin(mu, NULL, cv, &in, &r))
    return r;
  r = weft__cond_wait(cv, mu, d);
  if (in != NULL)
    weft__intr_leave(in);
  return r;
}

void weft__intr_keep(void) {
  weft__intr *in = weft__intr_self();
  if (in != NULL)
    atomic_store(&in->pending, 1);
}

weft_status weft__interrupted(const char *what) {
  return weft__error(-EINTR, EINTR, "%s: interrupted", what);
}

WEFT_API weft_status weft_sleep(double seconds) {
  if (isnan(seconds) || seconds < 0)
    return weft__error(WEFT_EVALUE, 0, "sleep: seconds must be >= 0, not %g",
                       seconds);
  weft__deadline d;
  weft__deadline_init(&d, seconds, "sleep");
  /* A futex nobody wakes: the sleep ends at the deadline or on
   * weft_thread_interrupt.  Signals resume it with the remaining time
   * (PEP 475). */
  _Atomic uint32_t word = 0;
  while (seconds > 0 && !weft__deadline_expired(&d))
    if (weft__wait_futex(&word, 0, &d) == -EINTR)
      return weft__interrupted("sleep");
  return 0;
}
