/* barrier.c - Barrier: CPython's state machine under a mutex.
 *
 * The states and transitions are those of Lib/threading.py's Barrier:
 *
 *   FILLING    threads arrive and wait; the parties-th arrival releases
 *              the cycle: DRAINING (or BROKEN if its action fails).
 *   DRAINING   the cycle's threads leave; arrivals wait; the last to leave
 *              sets FILLING.
 *   RESETTING  reset() with threads inside: they leave with WEFT_EBROKEN;
 *              arrivals wait; the last to leave sets FILLING.
 *   BROKEN     a wait timed out, the action failed, or abort(): every
 *              wait fails with WEFT_EBROKEN until reset().
 *
 * One difference: CPython runs the action with the barrier's lock held;
 * here it runs with `mu` released (so it may call the barrier, and a slow
 * action does not block n_waiting), and `acting` stands for that lock:
 * while it is set, arrivals wait as they would for the lock, and a waiter
 * whose timeout runs out waits for the action's outcome before it may
 * break the barrier, as a CPython waiter must first re-acquire the lock.
 * reset, abort or close during the action count as coming before it
 * finished: the actor then reports the barrier's new state.
 *
 * Invariants (every mutable field under `mu`):
 *   - count is the number of threads between enter and leave: those of
 *     the current cycle while FILLING, those still leaving otherwise;
 *   - FILLING and not acting implies count < parties, so each arrival's
 *     index (count before it arrived) is unique in its cycle;
 *   - DRAINING and RESETTING turn into FILLING only when count drops to 0,
 *     so a waiter cannot sleep through its own cycle's release: it waits
 *     for state != FILLING and the state cannot come back before it left;
 *   - every state change broadcasts `cv`. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "clock.h"
#include "error.h"
#include "handle.h"

enum { FILLING = 0, DRAINING = 1, RESETTING = -1, BROKEN = -2 };

typedef struct barrierobj {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  weft_barrier_action_fn action; /* read-only, like arg, timeout, parties */
  void *arg;
  double timeout; /* the default for wait_default */
  int64_t parties;
  int64_t count;
  int state;
  int acting; /* the releasing thread runs the action, mu released */
  int closed;
  uint64_t forks; /* bumped in a fork child, see release() */
} barrierobj;

/* release() reports that this thread is a fork child's copy of the actor
 * (internal only: turned into WEFT_EBROKEN by wait_cycle). */
#define FORKED 1

WEFT_API weft_status weft_barrier_new(int64_t parties,
                                      weft_barrier_action_fn action, void *arg,
                                      double timeout, weft_handle *out) {
  WEFT__CHECK_PTR(out, "barrier_new");
  if (parties < 1)
    return weft__error(WEFT_EVALUE, 0,
                       "barrier_new: parties must be >= 1, not %lld",
                       (long long)parties);
  if (isnan(timeout))
    return weft__error(WEFT_EVALUE, 0, "barrier_new: timeout is NaN");
  barrierobj *b = calloc(1, sizeof *b);
  if (b == NULL)
    return weft__errno(ENOMEM, "barrier_new");
  int r = weft__cond_init(&b->cv);
  if (r < 0) {
    free(b);
    return weft__errno(-r, "barrier_new");
  }
  pthread_mutex_init(&b->mu, NULL);
  b->parties = parties;
  b->action = action;
  b->arg = arg;
  b->timeout = timeout;
  b->state = FILLING;
  weft_status st = weft__handle_new(WEFT_KIND_BARRIER, b, out);
  if (st < 0) {
    pthread_cond_destroy(&b->cv);
    pthread_mutex_destroy(&b->mu);
    free(b);
  }
  return st;
}

static weft_status broken_error(const char *what, const char *why) {
  return weft__error(WEFT_EBROKEN, 0, "%s: %s", what, why);
}

static weft_status closed_error(weft_handle h, const char *what) {
  return weft__error(WEFT_ECLOSED, 0, "%s: barrier %lld was closed", what,
                     (long long)h);
}

/* Python's _break, with mu held. */
static void break_barrier(barrierobj *b) {
  b->state = BROKEN;
  pthread_cond_broadcast(&b->cv);
}

/* Python's _enter, with mu held: wait while the previous cycle drains,
 * resets or runs its action; fail if the barrier is broken. */
static weft_status enter(barrierobj *b, weft_handle h, const char *what) {
  for (;;) {
    if (b->closed)
      return closed_error(h, what);
    if (b->state == BROKEN)
      return broken_error(what, "the barrier is broken");
    if (b->state == FILLING && !b->acting)
      return 0;
    weft__deadline forever = {.forever = 1};
    if (weft__wait_cond(&b->cv, &b->mu, &forever) == -EINTR)
      return weft__interrupted(what);
  }
}

/* Python's _release, with mu held, by the last arrival: run the action,
 * then let the cycle go. */
static weft_status release(barrierobj *b, weft_handle h, const char *what) {
  if (b->action != NULL) {
    uint64_t forks = b->forks;
    b->acting = 1;
    pthread_mutex_unlock(&b->mu);
    int failed = b->action(b->arg) != 0;
    pthread_mutex_lock(&b->mu);
    /* The action forked and this is the child: the cycle's other parties
     * stayed in the parent, and atfork_child already emptied the barrier. */
    if (b->forks != forks)
      return FORKED;
    b->acting = 0;
    pthread_cond_broadcast(&b->cv); /* arrivals waiting for the action */
    if (b->closed)
      return closed_error(h, what);
    if (failed) {
      break_barrier(b);
      return broken_error(what, "the barrier's action failed");
    }
    if (b->state != FILLING)
      return broken_error(what,
                          b->state == BROKEN
                              ? "the barrier was broken while its action ran"
                              : "the barrier was reset while its action ran");
  }
  b->state = DRAINING;
  pthread_cond_broadcast(&b->cv);
  return 0;
}

/* Python's _wait, with mu held: wait until the cycle is released (0),
 * broken or reset (WEFT_EBROKEN), or the timeout runs out (break the
 * barrier; WEFT_EBROKEN with detail ETIMEDOUT, as Python raises
 * BrokenBarrierError in that thread too). */
static weft_status wait_released(barrierobj *b, weft_handle h, double timeout,
                                 const char *what) {
  weft__deadline d;
  weft__deadline_init(&d, timeout, what); /* the caller refused NaN */
  int timed_out = 0;
  while (b->state == FILLING) {
    if (b->closed)
      return closed_error(h, what);
    if ((timeout == 0 || timed_out) && !b->acting) {
      break_barrier(b);
      return weft__error(WEFT_EBROKEN, ETIMEDOUT,
                         "%s: timed out after %gs; the barrier is broken", what,
                         timeout);
    }
    if (timed_out) {
      pthread_cond_wait(&b->cv, &b->mu); /* for the action's outcome */
    } else {
      /* Interrupted: leave the cycle without breaking it, as a Python
       * thread that a KeyboardInterrupt takes out of wait() does. */
      int r = weft__wait_cond(&b->cv, &b->mu, &d);
      if (r == -EINTR)
        return weft__interrupted(what);
      timed_out = r == -ETIMEDOUT;
    }
  }
  if (b->state != DRAINING)
    return broken_error(what, b->state == BROKEN
                                  ? "the barrier was broken while waiting"
                                  : "the barrier was reset while waiting");
  return 0;
}

/* Python's _exit, with mu held: the last thread out of a drained or reset
 * cycle opens the next one. */
static void leave(barrierobj *b) {
  if (--b->count == 0 && (b->state == DRAINING || b->state == RESETTING)) {
    b->state = FILLING;
    pthread_cond_broadcast(&b->cv);
  }
}

/* Python's wait, with mu held. */
static weft_status wait_cycle(barrierobj *b, weft_handle h, double timeout,
                              int64_t *index, const char *what) {
  weft_status st = enter(b, h, what);
  if (st < 0)
    return st;
  int64_t i = b->count++;
  if (i + 1 == b->parties)
    st = release(b, h, what);
  else
    st = wait_released(b, h, timeout, what);
  if (st == FORKED)
    return broken_error(what, "the process forked while the barrier's action "
                              "ran; the other parties are in the parent");
  leave(b);
  if (st == 0)
    *index = i;
  return st;
}

static weft_status barrier_wait(weft_handle barrier, int use_default,
                                double timeout, int64_t *index,
                                const char *what) {
  WEFT__CHECK_PTR(index, what);
  if (isnan(timeout))
    return weft__error(WEFT_EVALUE, 0, "%s: timeout is NaN", what);
  barrierobj *b = weft__handle_pin(barrier, WEFT_KIND_BARRIER, what);
  if (b == NULL)
    return WEFT__PIN_FAILED;
  if (use_default)
    timeout = b->timeout;
  pthread_mutex_lock(&b->mu);
  weft_status st = wait_cycle(b, barrier, timeout, index, what);
  pthread_mutex_unlock(&b->mu);
  weft__handle_unpin(barrier);
  return st;
}

WEFT_API weft_status weft_barrier_wait(weft_handle barrier, double timeout,
                                       int64_t *index) {
  return barrier_wait(barrier, 0, timeout, index, "barrier_wait");
}

WEFT_API weft_status weft_barrier_wait_default(weft_handle barrier,
                                               int64_t *index) {
  return barrier_wait(barrier, 1, 0, index, "barrier_wait_default");
}

/* Python's reset, with mu held. */
static void reset(barrierobj *b) {
  if (b->count > 0) {
    if (b->state == FILLING || b->state == BROKEN)
      b->state = RESETTING;
  } else {
    b->state = FILLING;
  }
  pthread_cond_broadcast(&b->cv);
}

/* Run reset or break_barrier on the pinned barrier. */
static weft_status change(weft_handle barrier, void (*fn)(barrierobj *),
                          const char *what) {
  barrierobj *b = weft__handle_pin(barrier, WEFT_KIND_BARRIER, what);
  if (b == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&b->mu);
  fn(b);
  pthread_mutex_unlock(&b->mu);
  weft__handle_unpin(barrier);
  return 0;
}

WEFT_API weft_status weft_barrier_reset(weft_handle barrier) {
  return change(barrier, reset, "barrier_reset");
}

WEFT_API weft_status weft_barrier_abort(weft_handle barrier) {
  return change(barrier, break_barrier, "barrier_abort");
}

enum { PARTIES, N_WAITING, IS_BROKEN };

/* Read one property under mu. */
static weft_status get(weft_handle barrier, int which, int64_t *value,
                       const char *what) {
  barrierobj *b = weft__handle_pin(barrier, WEFT_KIND_BARRIER, what);
  if (b == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&b->mu);
  if (which == PARTIES)
    *value = b->parties;
  else if (which == N_WAITING)
    *value = b->state == FILLING ? b->count : 0;
  else
    *value = b->state == BROKEN;
  pthread_mutex_unlock(&b->mu);
  weft__handle_unpin(barrier);
  return 0;
}

WEFT_API weft_status weft_barrier_get_parties(weft_handle barrier,
                                              int64_t *parties) {
  WEFT__CHECK_PTR(parties, "barrier_get_parties");
  return get(barrier, PARTIES, parties, "barrier_get_parties");
}

WEFT_API weft_status weft_barrier_get_n_waiting(weft_handle barrier,
                                                int64_t *n_waiting) {
  WEFT__CHECK_PTR(n_waiting, "barrier_get_n_waiting");
  return get(barrier, N_WAITING, n_waiting, "barrier_get_n_waiting");
}

WEFT_API weft_status weft_barrier_is_broken(weft_handle barrier, int *broken) {
  WEFT__CHECK_PTR(broken, "barrier_is_broken");
  int64_t v;
  weft_status st = get(barrier, IS_BROKEN, &v, "barrier_is_broken");
  if (st == 0)
    *broken = (int)v;
  return st;
}

static void barrier_close(void *obj) {
  barrierobj *b = obj;
  pthread_mutex_lock(&b->mu);
  b->closed = 1;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
}

/* Runs when no pin is left: no thread is inside a wait or the action. */
static void barrier_destroy(void *obj) {
  barrierobj *b = obj;
  pthread_cond_destroy(&b->cv);
  pthread_mutex_destroy(&b->mu);
  free(b);
}

/* The threads inside the barrier were threads of the parent: forget
 * them, and the cycle they were in (a broken barrier stays broken).  If
 * the fork was made by an action, its thread learns it from `forks`. */
static void barrier_atfork_child(void *obj) {
  barrierobj *b = obj;
  pthread_mutex_init(&b->mu, NULL);
  weft__cond_init(&b->cv);
  b->count = 0;
  b->acting = 0;
  b->forks++;
  if (b->state != BROKEN)
    b->state = FILLING;
}

static const weft__kind_ops barrier_ops = {
    .name = "barrier",
    .close = barrier_close,
    .destroy = barrier_destroy,
    .atfork_child = barrier_atfork_child};

__attribute__((constructor)) static void barrier_register(void) {
  weft__kind_register(WEFT_KIND_BARRIER, &barrier_ops);
}
