/* rlock.c - RLock: a futex mutex with an owner and a recursion count. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include "clock.h"
#include "error.h"
#include "handle.h"
#include "sync.h"

#define STATE_MASK 3u /* 0 free, 1 locked, 2 locked with waiters */
#define CLOSED 4u     /* set once by close; waiters leave with ECLOSED */

/* Invariants: `owner` is the holder's ident while the word is locked and
 * 0 while it is free; only the holder writes `owner` and `count`, so the
 * holder may read them without synchronisation, and another thread reading
 * `owner` never sees its own ident unless it holds the lock. */
typedef struct rlockobj {
  _Atomic uint32_t word;
  _Atomic uint64_t owner;
  uint64_t count; /* recursion depth, >= 1 while held */
} rlockobj;

static uint64_t self_ident(void) { return (uint64_t)pthread_self(); }

static weft_status closed_error(weft_handle h, const char *what) {
  return weft__error(WEFT_ECLOSED, 0, "%s: rlock %lld was closed", what,
                     (long long)h);
}

static weft_status check_timeout(double timeout, const char *what) {
  if (isnan(timeout))
    return weft__error(WEFT_EVALUE, 0, "%s: timeout is NaN", what);
  return 0;
}

/* Take the futex word (not already ours), waiting up to timeout. */
static weft_status word_lock(rlockobj *rl, weft_handle h, double timeout,
                             const char *what) {
  uint32_t w = 0;
  if (atomic_compare_exchange_strong_explicit(&rl->word, &w, 1,
                                              memory_order_acquire,
                                              memory_order_relaxed))
    return 0;
  weft__deadline d;
  weft_status st = weft__deadline_init(&d, timeout, what);
  if (st < 0)
    return st;
  int waited = 0;
  for (;;) {
    if (w & CLOSED)
      return closed_error(h, what);
    if (w == 0) {
      /* Once we have slept, others may sleep too: keep the waiter mark. */
      if (atomic_compare_exchange_weak_explicit(&rl->word, &w, waited ? 2 : 1,
                                                memory_order_acquire,
                                                memory_order_relaxed))
        return 0;
      continue;
    }
    if (timeout == 0)
      return weft__error(-ETIMEDOUT, ETIMEDOUT, "%s: rlock is held", what);
    if (w == 1 && !atomic_compare_exchange_weak_explicit(
                      &rl->word, &w, 2, memory_order_relaxed,
                      memory_order_relaxed))
      continue;
    int r = weft__wait_futex(&rl->word, 2, &d);
    if (r == -EINTR)
      return weft__interrupted(what);
    if (r == -ETIMEDOUT)
      return weft__error(-ETIMEDOUT, ETIMEDOUT, "%s: timed out after %gs",
                         what, timeout);
    waited = 1;
    w = atomic_load_explicit(&rl->word, memory_order_relaxed);
  }
}

/* Give the futex word back (keeping CLOSED) and wake one sleeper. */
static void word_unlock(rlockobj *rl) {
  uint32_t old = atomic_fetch_and_explicit(&rl->word, CLOSED,
                                           memory_order_release);
  if ((old & STATE_MASK) == 2)
    weft__futex_wake(&rl->word, 1);
}

static weft_status rlock_acquire(weft_handle h, double timeout,
                                 uint64_t count, const char *what) {
  weft_status st = check_timeout(timeout, what);
  if (st < 0)
    return st;
  rlockobj *rl = weft__handle_pin(h, WEFT_KIND_RLOCK, what);
  if (rl == NULL)
    return WEFT__PIN_FAILED;
  uint64_t me = self_ident();
  if (atomic_load_explicit(&rl->owner, memory_order_relaxed) == me) {
    if (count != 0) /* acquire_restore while still owning: misuse */
      st = weft__error(WEFT_ESTATE, 0, "%s: rlock already owned", what);
    else
      rl->count++;
  } else if ((st = word_lock(rl, h, timeout, what)) == 0) {
    atomic_store_explicit(&rl->owner, me, memory_order_relaxed);
    rl->count = count != 0 ? count : 1;
  }
  weft__handle_unpin(h);
  return st;
}

/* Drop one level (all of them if save != NULL, storing the depth). */
static weft_status rlock_release(weft_handle h, uint64_t *save,
                                 const char *what) {
  rlockobj *rl = weft__handle_pin(h, WEFT_KIND_RLOCK, what);
  if (rl == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = 0;
  if (atomic_load_explicit(&rl->owner, memory_order_relaxed) != self_ident()) {
    st = weft__error(WEFT_ESTATE, 0,
                     "%s: cannot release an rlock this thread does not own",
                     what);
  } else {
    if (save != NULL) {
      *save = rl->count;
      rl->count = 0;
    } else {
      rl->count--;
    }
    if (rl->count == 0) {
      atomic_store_explicit(&rl->owner, 0, memory_order_relaxed);
      word_unlock(rl);
    }
  }
  weft__handle_unpin(h);
  return st;
}

WEFT_API weft_status weft_rlock_new(weft_handle *out) {
  WEFT__CHECK_PTR(out, "rlock_new");
  rlockobj *rl = calloc(1, sizeof *rl);
  if (rl == NULL)
    return weft__errno(ENOMEM, "rlock_new");
  weft_status st = weft__handle_new(WEFT_KIND_RLOCK, rl, out);
  if (st < 0)
    free(rl);
  return st;
}

WEFT_API weft_status weft_rlock_acquire(weft_handle rlock, double timeout) {
  return rlock_acquire(rlock, timeout, 0, "rlock_acquire");
}

WEFT_API weft_status weft_rlock_release(weft_handle rlock) {
  return rlock_release(rlock, NULL, "rlock_release");
}

WEFT_API weft_status weft_rlock_is_owned(weft_handle rlock, int *owned) {
  WEFT__CHECK_PTR(owned, "rlock_is_owned");
  rlockobj *rl = weft__handle_pin(rlock, WEFT_KIND_RLOCK, "rlock_is_owned");
  if (rl == NULL)
    return WEFT__PIN_FAILED;
  *owned = atomic_load_explicit(&rl->owner, memory_order_relaxed) ==
           self_ident();
  weft__handle_unpin(rlock);
  return 0;
}

weft_status weft__rlock_release_save(weft_handle rlock, uint64_t *count) {
  WEFT__CHECK_PTR(count, "rlock_release_save");
  return rlock_release(rlock, count, "rlock_release_save");
}

weft_status weft__rlock_acquire_restore(weft_handle rlock, uint64_t count,
                                        double timeout) {
  if (count == 0)
    return weft__error(WEFT_EVALUE, 0, "rlock_acquire_restore: count is 0");
  return rlock_acquire(rlock, timeout, count, "rlock_acquire_restore");
}

/* Close: mark the word and wake every sleeper; a holder keeps nothing. */
static void rlock_close(void *obj) {
  rlockobj *rl = obj;
  atomic_fetch_or_explicit(&rl->word, CLOSED, memory_order_acq_rel);
  weft__futex_wake(&rl->word, INT32_MAX);
}

static void rlock_destroy(void *obj) { free(obj); }

static const weft__kind_ops rlock_ops = {
    .name = "rlock", .close = rlock_close, .destroy = rlock_destroy};

__attribute__((constructor)) static void rlock_register(void) {
  weft__kind_register(WEFT_KIND_RLOCK, &rlock_ops);
}
