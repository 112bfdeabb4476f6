/* condition.c - Condition: waiters in a FIFO over a Lock or RLock handle.
 *
 * As in CPython, each wait puts a record (on the waiter's stack) at the
 * tail of the condition's list BEFORE it releases the user lock, so a
 * notify issued by the next holder of the lock always finds it; notify(n)
 * takes the n oldest records off the list and marks them.  A waiter that
 * times out takes itself off if it is still listed; if it was already
 * taken off, it was notified and says so.
 *
 * Invariants: the list and every record's state change only under `mu`;
 * a record is on the list iff its state is WAITING; a waiter leaves wait()
 * only after it has taken `mu` and seen a state other than WAITING (or
 * unlisted itself), so a notifier that marks and wakes a record under `mu`
 * never touches a dead stack frame.  Close marks every listed record
 * CLOSED; those waiters re-acquire the lock and return WEFT_ECLOSED.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "clock.h"
#include "error.h"
#include "handle.h"
#include "lock.h"
#include "sync.h"

enum { WAITING, NOTIFIED, CLOSED };

typedef struct waiter {
  struct waiter *prev, *next;
  _Atomic uint32_t state; /* futex word */
} waiter;

typedef struct condobj {
  weft_handle lock; /* a Lock or an RLock, by handle */
  int lock_kind;    /* WEFT_KIND_LOCK or WEFT_KIND_RLOCK */
  int owns_lock;    /* made by condition_new(0); closed with the condition */
  pthread_mutex_t mu;
  waiter *head, *tail; /* FIFO: head is the oldest waiter */
  int closed;          /* under mu: no new waiter may list itself */
} condobj;

/* Prefix the last error's message with `what`, keeping code and detail,
 * so a failure of the underlying lock reads "condition_wait: ...". */
static weft_status relabel(weft_status code, const char *what) {
  char msg[400];
  snprintf(msg, sizeof msg, "%s", weft_last_error_message());
  return weft__error(code, weft_last_error_detail(), "%s: %s", what, msg);
}

/* The status for a failure of the condition's lock.  A lock the condition
 * made itself is closed only by the condition's close, so its failing
 * means the condition was closed. */
static weft_status lock_error(condobj *c, weft_status st, const char *what) {
  if (c->owns_lock && (st == WEFT_EBADHANDLE || st == WEFT_ECLOSED))
    return weft__error(WEFT_ECLOSED, 0, "%s: condition was closed", what);
  return relabel(st, what);
}

static void list_push(condobj *c, waiter *w) {
  w->next = NULL;
  w->prev = c->tail;
  if (c->tail != NULL)
    c->tail->next = w;
  else
    c->head = w;
  c->tail = w;
}

static void list_remove(condobj *c, waiter *w) {
  if (w->prev != NULL)
    w->prev->next = w->next;
  else
    c->head = w->next;
  if (w->next != NULL)
    w->next->prev = w->prev;
  else
    c->tail = w->prev;
  w->prev = w->next = NULL;
}

/* Take the oldest waiter off the list and wake it with `state`.
 * Called with mu held. */
static void wake_head(condobj *c, uint32_t state) {
  waiter *w = c->head;
  list_remove(c, w);
  atomic_store_explicit(&w->state, state, memory_order_relaxed);
  weft__futex_wake(&w->state, 1);
}

/* 0 if the calling thread holds the condition's lock, else a status.  An
 * RLock knows its owner; a Lock does not, so, like Python, take "locked"
 * (a non-blocking acquire would fail) to mean "held" (weft__lock_held). */
static weft_status check_owned(condobj *c, const char *what) {
  int held = 0;
  weft_status st;
  if (c->lock_kind == WEFT_KIND_RLOCK)
    st = weft_rlock_is_owned(c->lock, &held);
  else
    st = held = weft__lock_held(c->lock);
  if (st < 0)
    return lock_error(c, st, what);
  if (held != 1)
    return weft__error(WEFT_ESTATE, 0, "%s: the lock is not held", what);
  return 0;
}

WEFT_API weft_status weft_condition_new(weft_handle lock, weft_handle *out) {
  WEFT__CHECK_PTR(out, "condition_new");
  int kind = WEFT_KIND_RLOCK, owns = lock == 0;
  weft_status st;
  if (owns) {
    if ((st = weft_rlock_new(&lock)) < 0)
      return relabel(st, "condition_new");
  } else {
    if ((st = weft_handle_kind(lock, &kind)) < 0)
      return relabel(st, "condition_new");
    if (kind != WEFT_KIND_LOCK && kind != WEFT_KIND_RLOCK)
      return weft__error(WEFT_EBADHANDLE, 0,
                         "condition_new: bad handle %lld (not a lock or an "
                         "rlock)", (long long)lock);
  }
  condobj *c = calloc(1, sizeof *c);
  if (c == NULL) {
    st = weft__errno(ENOMEM, "condition_new");
    goto fail;
  }
  c->lock = lock;
  c->lock_kind = kind;
  c->owns_lock = owns;
  pthread_mutex_init(&c->mu, NULL);
  if ((st = weft__handle_new(WEFT_KIND_CONDITION, c, out)) == 0)
    return 0;
  pthread_mutex_destroy(&c->mu);
  free(c);
fail:
  if (owns)
    weft_close(lock);
  return st;
}

WEFT_API weft_status weft_condition_acquire(weft_handle cond, double timeout) {
  if (isnan(timeout))
    return weft__error(WEFT_EVALUE, 0, "condition_acquire: timeout is NaN");
  condobj *c = weft__handle_pin(cond, WEFT_KIND_CONDITION,
                                "condition_acquire");
  if (c == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = c->lock_kind == WEFT_KIND_RLOCK
                       ? weft_rlock_acquire(c->lock, timeout)
                       : weft_lock_acquire(c->lock, timeout);
  if (st < 0)
    st = lock_error(c, st, "condition_acquire");
  weft__handle_unpin(cond);
  return st;
}

WEFT_API weft_status weft_condition_release(weft_handle cond) {
  condobj *c = weft__handle_pin(cond, WEFT_KIND_CONDITION,
                                "condition_release");
  if (c == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = c->lock_kind == WEFT_KIND_RLOCK
                       ? weft_rlock_release(c->lock)
                       : weft_lock_release(c->lock);
  if (st < 0)
    st = lock_error(c, st, "condition_release");
  weft__handle_unpin(cond);
  return st;
}

/* Release the user lock completely; *saved gets what restore needs. */
static weft_status lock_release_save(condobj *c, uint64_t *saved) {
  if (c->lock_kind == WEFT_KIND_RLOCK)
    return weft__rlock_release_save(c->lock, saved);
  *saved = 1;
  return weft_lock_release(c->lock);
}

static weft_status lock_acquire_restore(condobj *c, uint64_t saved) {
  if (c->lock_kind == WEFT_KIND_RLOCK)
    return weft__rlock_acquire_restore(c->lock, saved, -1);
  return weft_lock_acquire(c->lock, -1);
}

/* Sleep until the record leaves WAITING or the deadline passes; on a
 * timeout or an interrupt, unlist it (a record already notified takes the
 * notification instead).  Returns the status wait() reports. */
static weft_status sleep_listed(condobj *c, waiter *w,
                                const weft__deadline *d, double timeout) {
  pthread_mutex_lock(&c->mu);
  while (atomic_load_explicit(&w->state, memory_order_relaxed) == WAITING) {
    pthread_mutex_unlock(&c->mu);
    int r = weft__wait_futex(&w->state, WAITING, d);
    pthread_mutex_lock(&c->mu);
    if (r < 0 &&
        atomic_load_explicit(&w->state, memory_order_relaxed) == WAITING) {
      list_remove(c, w);
      pthread_mutex_unlock(&c->mu);
      if (r == -EINTR)
        return weft__interrupted("condition_wait");
      return weft__error(-ETIMEDOUT, ETIMEDOUT,
                         "condition_wait: timed out after %gs", timeout);
    }
  }
  uint32_t state = atomic_load_explicit(&w->state, memory_order_relaxed);
  pthread_mutex_unlock(&c->mu);
  if (state == CLOSED)
    return weft__error(WEFT_ECLOSED, 0,
                       "condition_wait: condition was closed");
  return 0;
}

WEFT_API weft_status weft_condition_wait(weft_handle cond, double timeout) {
  weft__deadline d;
  weft_status st = weft__deadline_init(&d, timeout, "condition_wait");
  if (st < 0)
    return st;
  condobj *c = weft__handle_pin(cond, WEFT_KIND_CONDITION, "condition_wait");
  if (c == NULL)
    return WEFT__PIN_FAILED;
  if ((st = check_owned(c, "condition_wait")) < 0)
    goto out;

  waiter w;
  atomic_init(&w.state, WAITING);
  pthread_mutex_lock(&c->mu);
  if (c->closed) {
    pthread_mutex_unlock(&c->mu);
    st = weft__error(WEFT_ECLOSED, 0, "condition_wait: condition was closed");
    goto out;
  }
  list_push(c, &w);
  pthread_mutex_unlock(&c->mu);

  uint64_t saved;
  if ((st = lock_release_save(c, &saved)) < 0) {
    pthread_mutex_lock(&c->mu);
    if (atomic_load_explicit(&w.state, memory_order_relaxed) == WAITING)
      list_remove(c, &w);
    pthread_mutex_unlock(&c->mu);
    st = lock_error(c, st, "condition_wait");
    goto out;
  }
  st = sleep_listed(c, &w, &d, timeout);
  /* Re-acquire whatever happened, as Python does, and without giving in
   * to weft_thread_interrupt: the caller must get its lock back.  A
   * caller's lock that is gone reports its own error. */
  weft__intr_mask(1);
  weft_status lst = lock_acquire_restore(c, saved);
  weft__intr_mask(-1);
  if (lst < 0)
    st = lock_error(c, lst, "condition_wait");
out:
  weft__handle_unpin(cond);
  return st;
}

static weft_status notify(weft_handle cond, size_t n, const char *what) {
  condobj *c = weft__handle_pin(cond, WEFT_KIND_CONDITION, what);
  if (c == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = check_owned(c, what);
  if (st == 0) {
    pthread_mutex_lock(&c->mu);
    for (; n > 0 && c->head != NULL; n--)
      wake_head(c, NOTIFIED);
    pthread_mutex_unlock(&c->mu);
  }
  weft__handle_unpin(cond);
  return st;
}

WEFT_API weft_status weft_condition_notify(weft_handle cond, size_t n) {
  return notify(cond, n, "condition_notify");
}

WEFT_API weft_status weft_condition_notify_all(weft_handle cond) {
  return notify(cond, SIZE_MAX, "condition_notify_all");
}

/* Wake every waiter with CLOSED.  Waiters then re-acquire the caller's
 * lock, as Python's wait always does.  A lock the condition made itself
 * is closed here too: no caller could release it once the condition is
 * gone, and threads blocked on it (in acquire, or re-acquiring in wait)
 * must wake with WEFT_ECLOSED. */
static void condition_close(void *obj) {
  condobj *c = obj;
  pthread_mutex_lock(&c->mu);
  c->closed = 1;
  while (c->head != NULL)
    wake_head(c, CLOSED);
  pthread_mutex_unlock(&c->mu);
  if (c->owns_lock)
    weft_close(c->lock);
}

static void condition_destroy(void *obj) {
  condobj *c = obj;
  pthread_mutex_destroy(&c->mu);
  free(c);
}

/* The listed waiters were threads of the parent. */
static void condition_atfork_child(void *obj) {
  condobj *c = obj;
  pthread_mutex_init(&c->mu, NULL);
  c->head = c->tail = NULL;
}

static const weft__kind_ops condition_ops = {
    .name = "condition",
    .close = condition_close,
    .destroy = condition_destroy,
    .atfork_child = condition_atfork_child};

__attribute__((constructor)) static void condition_register(void) {
  weft__kind_register(WEFT_KIND_CONDITION, &condition_ops);
}
