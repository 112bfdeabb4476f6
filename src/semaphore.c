/* semaphore.c - Semaphore and BoundedSemaphore: a counter under a mutex. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "clock.h"
#include "error.h"
#include "handle.h"

/* Invariants: every field is read and written under `mu`; 0 <= value, and
 * value <= initial for a bounded semaphore; `waiters` counts threads
 * blocked in acquire, so release(n) can wake n of them (or all). */
typedef struct semobj {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int64_t value;
  int64_t initial; /* the bound of a bounded semaphore */
  int64_t waiters;
  int bounded;
  int closed;
} semobj;

static weft_status semaphore_new(int64_t value, int bounded,
                                 weft_handle *out, const char *what) {
  WEFT__CHECK_PTR(out, what);
  if (value < 0)
    return weft__error(WEFT_EVALUE, 0, "%s: value must be >= 0, not %lld",
                       what, (long long)value);
  semobj *s = calloc(1, sizeof *s);
  if (s == NULL)
    return weft__errno(ENOMEM, what);
  int r = weft__cond_init(&s->cv);
  if (r < 0) {
    free(s);
    return weft__errno(-r, what);
  }
  pthread_mutex_init(&s->mu, NULL);
  s->value = s->initial = value;
  s->bounded = bounded;
  weft_status st = weft__handle_new(WEFT_KIND_SEMAPHORE, s, out);
  if (st < 0) {
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s);
  }
  return st;
}

WEFT_API weft_status weft_semaphore_new(int64_t value, weft_handle *out) {
  return semaphore_new(value, 0, out, "semaphore_new");
}

WEFT_API weft_status weft_bounded_semaphore_new(int64_t value,
                                                weft_handle *out) {
  return semaphore_new(value, 1, out, "bounded_semaphore_new");
}

/* Take one unit, with mu held. */
static weft_status take(semobj *s, weft_handle h, const weft__deadline *d,
                        double timeout) {
  int timed_out = 0;
  for (;;) {
    if (s->closed)
      return weft__error(WEFT_ECLOSED, 0,
                         "semaphore_acquire: semaphore %lld was closed",
                         (long long)h);
    if (s->value > 0) {
      s->value--;
      return 0;
    }
    if (timeout == 0 || timed_out)
      return weft__error(-ETIMEDOUT, ETIMEDOUT,
                         "semaphore_acquire: timed out after %gs", timeout);
    s->waiters++;
    int r = weft__wait_cond(&s->cv, &s->mu, d);
    s->waiters--;
    if (r == -EINTR)
      return weft__interrupted("semaphore_acquire");
    timed_out = r == -ETIMEDOUT;
  }
}

WEFT_API weft_status weft_semaphore_acquire(weft_handle sem, double timeout) {
  weft__deadline d;
  weft_status st = weft__deadline_init(&d, timeout, "semaphore_acquire");
  if (st < 0)
    return st;
  semobj *s = weft__handle_pin(sem, WEFT_KIND_SEMAPHORE, "semaphore_acquire");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&s->mu);
  st = take(s, sem, &d, timeout);
  pthread_mutex_unlock(&s->mu);
  weft__handle_unpin(sem);
  return st;
}

/* Add n (>= 1) with mu held, refusing to pass the bound or overflow. */
static weft_status give(semobj *s, weft_handle h, int64_t n) {
  if (s->closed)
    return weft__error(WEFT_ECLOSED, 0,
                       "semaphore_release: semaphore %lld was closed",
                       (long long)h);
  if (s->bounded && n > s->initial - s->value)
    return weft__error(WEFT_EVALUE, 0,
                       "semaphore_release: semaphore released too many "
                       "times (value %lld + %lld > bound %lld)",
                       (long long)s->value, (long long)n,
                       (long long)s->initial);
  if (n > INT64_MAX - s->value)
    return weft__error(WEFT_EVALUE, 0,
                       "semaphore_release: value %lld + %lld overflows",
                       (long long)s->value, (long long)n);
  s->value += n;
  if (s->waiters <= n)
    pthread_cond_broadcast(&s->cv);
  else
    for (int64_t i = 0; i < n; i++)
      pthread_cond_signal(&s->cv);
  return 0;
}

WEFT_API weft_status weft_semaphore_release(weft_handle sem, int64_t n) {
  if (n < 1)
    return weft__error(WEFT_EVALUE, 0,
                       "semaphore_release: n must be >= 1, not %lld",
                       (long long)n);
  semobj *s = weft__handle_pin(sem, WEFT_KIND_SEMAPHORE, "semaphore_release");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&s->mu);
  weft_status st = give(s, sem, n);
  pthread_mutex_unlock(&s->mu);
  weft__handle_unpin(sem);
  return st;
}

WEFT_API weft_status weft_semaphore_get_value(weft_handle sem,
                                              int64_t *value) {
  WEFT__CHECK_PTR(value, "semaphore_get_value");
  semobj *s = weft__handle_pin(sem, WEFT_KIND_SEMAPHORE,
                               "semaphore_get_value");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&s->mu);
  *value = s->value;
  pthread_mutex_unlock(&s->mu);
  weft__handle_unpin(sem);
  return 0;
}

static void semaphore_close(void *obj) {
  semobj *s = obj;
  pthread_mutex_lock(&s->mu);
  s->closed = 1;
  pthread_cond_broadcast(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

/* Runs when no pin is left: no thread is inside cond_wait. */
static void semaphore_destroy(void *obj) {
  semobj *s = obj;
  pthread_cond_destroy(&s->cv);
  pthread_mutex_destroy(&s->mu);
  free(s);
}

static void semaphore_atfork_child(void *obj) {
  semobj *s = obj;
  pthread_mutex_init(&s->mu, NULL);
  weft__cond_init(&s->cv);
  s->waiters = 0;
}

static const weft__kind_ops semaphore_ops = {
    .name = "semaphore",
    .close = semaphore_close,
    .destroy = semaphore_destroy,
    .atfork_child = semaphore_atfork_child};

__attribute__((constructor)) static void semaphore_register(void) {
  weft__kind_register(WEFT_KIND_SEMAPHORE, &semaphore_ops);
}
