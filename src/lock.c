/* lock.c - Lock: a futex mutex whose word carries the handle generation. */
#include <errno.h>

#include "clock.h"
#include "error.h"
#include "handle.h"
#include "lock.h"

#if defined(__has_include)
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#define WEFT__HAVE_SINGLE_THREADED 1
#endif
#endif

/* While the process has a single thread, no other thread can see the lock
 * word, so plain loads and stores do (glibc's own locks do the same).
 * Sound because only that thread can end the single-threaded state:
 * pthread_create clears the flag before the new thread exists, and the
 * creation happens-before everything the new thread does, so a word
 * written on this path is seen by it.  The flag is only ever read here,
 * never cached across calls. */
static inline int single_threaded(void) {
#ifdef WEFT__HAVE_SINGLE_THREADED
  return __libc_single_threaded;
#else
  return 0;
#endif
}

/* The word: gen << GEN_SHIFT | LIVE | state.  Open means LIVE with the
 * handle's generation; close moves the word to the next generation
 * without LIVE in one CAS, so every later CAS through the old handle
 * fails. */
#define STATE_MASK 3u /* 0 free, 1 locked, 2 locked with waiters */
#define LIVE (1u << 3)
#define GEN_SHIFT 4

typedef struct lockobj {
  _Atomic uint32_t word;
} lockobj;

static void lock_init_elem(void *elem) {
  atomic_init(&((lockobj *)elem)->word, 1u << GEN_SHIFT);
}

static weft__slab locks = WEFT__SLAB_INIT(lockobj, lock_init_elem);

static __attribute__((noinline, cold)) void lock_bad(weft_handle h,
                                                     const char *what) {
  weft__error(WEFT_EBADHANDLE, 0, "%s: bad handle %lld (not a lock)", what,
              (long long)h);
}

/* The lock h names and the word it has while open and free ("base"), or
 * NULL after recording a bad-handle error. */
static inline lockobj *lock_find(weft_handle h, uint32_t *base,
                                 const char *what) {
  uint32_t gen, index;
  int kind;
  lockobj *lk;
  if (__builtin_expect(weft__handle_split(h, &gen, &kind, &index) &&
                           kind == WEFT_KIND_LOCK &&
                           (lk = weft__slab_at_sized(&locks, index,
                                                     sizeof *lk)) != NULL,
                       1)) {
    *base = (gen << GEN_SHIFT) | LIVE;
    return lk;
  }
  lock_bad(h, what);
  return NULL;
}

/* Why a word that is not ours fails: closed while this call waited on
 * the lock (it saw it open), or a closed handle. */
static __attribute__((noinline, cold)) weft_status
lock_gone(weft_handle h, int saw_open, const char *what) {
  if (saw_open)
    return weft__error(WEFT_ECLOSED, 0, "%s: lock %lld was closed", what,
                       (long long)h);
  return weft__error(WEFT_EBADHANDLE, 0, "%s: bad handle %lld (closed)",
                     what, (long long)h);
}

WEFT_API weft_status weft_lock_new(weft_handle *out) {
  WEFT__CHECK_PTR(out, "lock_new");
  uint32_t index;
  weft_status st = weft__slab_alloc(&locks, &index);
  if (st < 0)
    return weft__error(st, -st, "lock_new: %s",
                       st == -ENOMEM ? "out of memory" : "too many locks");
  lockobj *lk = weft__slab_at(&locks, index);
  uint32_t w = atomic_load_explicit(&lk->word, memory_order_relaxed);
  uint32_t gen = w >> GEN_SHIFT;
  atomic_store_explicit(&lk->word, (gen << GEN_SHIFT) | LIVE,
                        memory_order_release);
  *out = weft__handle_make(gen, WEFT_KIND_LOCK, index);
  return 0;
}

static __attribute__((noinline)) weft_status
lock_acquire_slow(lockobj *lk, weft_handle h, uint32_t base, uint32_t w,
                  double timeout) {
  weft__deadline d;
  weft_status st = weft__deadline_init(&d, timeout, "lock_acquire");
  if (st < 0)
    return st;
  int waited = 0, seen_open = 0;
  for (;;) {
    if ((w & ~STATE_MASK) != base)
      return lock_gone(h, seen_open, "lock_acquire");
    seen_open = 1; /* from here on, a close wakes us with WEFT_ECLOSED */
    if ((w & STATE_MASK) == 0) {
      /* Once we have slept, others may sleep too: keep the waiter mark. */
      if (atomic_compare_exchange_weak_explicit(
              &lk->word, &w, base | (waited ? 2 : 1), memory_order_acquire,
              memory_order_relaxed))
        return 0;
      continue;
    }
    if (timeout == 0)
      return weft__error(-ETIMEDOUT, ETIMEDOUT,
                         "lock_acquire: the lock is held (no wait asked)");
    if ((w & STATE_MASK) == 1 &&
        !atomic_compare_exchange_weak_explicit(&lk->word, &w, base | 2,
                                               memory_order_relaxed,
                                               memory_order_relaxed))
      continue;
    int r = weft__wait_futex(&lk->word, base | 2, &d);
    if (r == -EINTR)
      return weft__interrupted("lock_acquire");
    if (r == -ETIMEDOUT)
      return weft__error(-ETIMEDOUT, ETIMEDOUT,
                         "lock_acquire: timed out after %gs", timeout);
    waited = 1;
    w = atomic_load_explicit(&lk->word, memory_order_relaxed);
  }
}

WEFT_API weft_status weft_lock_acquire(weft_handle h, double timeout) {
  if (__builtin_expect(timeout != timeout, 0)) /* NaN */
    return weft__error(WEFT_EVALUE, 0, "lock_acquire: timeout is NaN");
  uint32_t base;
  lockobj *lk = lock_find(h, &base, "lock_acquire");
  if (lk == NULL)
    return WEFT_EBADHANDLE;
  uint32_t w = base;
  if (single_threaded()) {
    w = atomic_load_explicit(&lk->word, memory_order_relaxed);
    if (w == base) {
      atomic_store_explicit(&lk->word, base | 1, memory_order_relaxed);
      return 0;
    }
  } else if (__builtin_expect(atomic_compare_exchange_strong_explicit(
                                  &lk->word, &w, base | 1,
                                  memory_order_acquire, memory_order_relaxed),
                              1)) {
    return 0;
  }
  return lock_acquire_slow(lk, h, base, w, timeout);
}

static __attribute__((noinline)) weft_status
lock_release_slow(lockobj *lk, weft_handle h, uint32_t base, uint32_t w) {
  for (;;) {
    if ((w & ~STATE_MASK) != base)
      return lock_gone(h, 0, "lock_release");
    if ((w & STATE_MASK) == 0)
      return weft__error(WEFT_ESTATE, 0,
                         "lock_release: release of an unlocked lock");
    if (atomic_compare_exchange_weak_explicit(&lk->word, &w, base,
                                              memory_order_release,
                                              memory_order_relaxed)) {
      if ((w & STATE_MASK) == 2)
        weft__futex_wake(&lk->word, 1);
      return 0;
    }
  }
}

WEFT_API weft_status weft_lock_release(weft_handle h) {
  uint32_t base;
  lockobj *lk = lock_find(h, &base, "lock_release");
  if (lk == NULL)
    return WEFT_EBADHANDLE;
  uint32_t w = base | 1;
  if (single_threaded()) {
    w = atomic_load_explicit(&lk->word, memory_order_relaxed);
    if (w == (base | 1)) {
      atomic_store_explicit(&lk->word, base, memory_order_relaxed);
      return 0;
    }
  } else if (__builtin_expect(atomic_compare_exchange_strong_explicit(
                                  &lk->word, &w, base, memory_order_release,
                                  memory_order_relaxed),
                              1)) {
    return 0;
  }
  return lock_release_slow(lk, h, base, w);
}

WEFT_API weft_status weft_lock_locked(weft_handle h, int *locked) {
  WEFT__CHECK_PTR(locked, "lock_locked");
  uint32_t base;
  lockobj *lk = lock_find(h, &base, "lock_locked");
  if (lk == NULL)
    return WEFT_EBADHANDLE;
  uint32_t w = atomic_load_explicit(&lk->word, memory_order_relaxed);
  if ((w & ~STATE_MASK) != base)
    return lock_gone(h, 0, "lock_locked");
  *locked = (w & STATE_MASK) != 0;
  return 0;
}

/* Python tries acquire(False) and releases again; "that would fail" is
 * just "locked", read without taking the lock (so no other thread's poll
 * fails meanwhile, and a success records no error). */
weft_status weft__lock_held(weft_handle h) {
  int locked;
  weft_status st = weft_lock_locked(h, &locked);
  return st < 0 ? st : locked;
}

static weft_status lock_close(weft_handle h) {
  uint32_t base;
  lockobj *lk = lock_find(h, &base, "close");
  if (lk == NULL)
    return WEFT_EBADHANDLE;
  /* Whatever the lock state, the word moves to the next generation, not
   * live.  Waiters (they saw it open) wake and leave with WEFT_ECLOSED.
   * The word is the slot and its memory never goes away; the index is
   * reused unless the slot retired. */
  uint32_t next = weft__gen_next(base >> GEN_SHIFT);
  uint32_t w = atomic_load_explicit(&lk->word, memory_order_relaxed);
  do {
    if ((w & ~STATE_MASK) != base)
      return lock_gone(h, 0, "close");
  } while (!atomic_compare_exchange_weak_explicit(
      &lk->word, &w, next << GEN_SHIFT, memory_order_acq_rel,
      memory_order_relaxed));
  weft__futex_wake(&lk->word, INT32_MAX);
  if (next != 0)
    weft__slab_release(&locks, (uint32_t)(h & ((1 << WEFT__INDEX_BITS) - 1)));
  return 0;
}

static int lock_is_open(weft_handle h) {
  uint32_t base;
  lockobj *lk = lock_find(h, &base, "handle_kind");
  if (lk == NULL)
    return 0;
  uint32_t w = atomic_load_explicit(&lk->word, memory_order_relaxed);
  return (w & ~STATE_MASK) == base;
}

static const weft__kind_ops lock_ops = {.name = "lock",
                                        .custom_close = lock_close,
                                        .custom_is_open = lock_is_open,
                                        .custom_slab = &locks};

__attribute__((constructor)) static void lock_register(void) {
  weft__kind_register(WEFT_KIND_LOCK, &lock_ops);
}
