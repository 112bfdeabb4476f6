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

/* ---- interruptible waits (weft_thread_interrupt) ----
 *
 * Every blocking call of the API sleeps through weft__wait_futex or
 * weft__wait_cond, which a weft_thread_interrupt of the sleeping thread
 * ends.  Each thread record carries a weft__intr: a pending flag and what
 * its thread sleeps on now, under `mu`.
 *
 * The sleeper takes the interrupt only when it is about to sleep: if one
 * is pending it consumes it and returns -EINTR without sleeping.  After a
 * wake-up it returns 0 and its caller re-checks; a caller that can make
 * progress does (an interrupt never costs a notify, a release or a
 * set()), one that cannot sleeps again and gets the -EINTR then.
 *
 * The interrupter sets the flag and wakes what the sleeper registered,
 * again and again until the sleeper has consumed the flag or left: a wake
 * sent between the sleeper's check and its sleep is lost (the futex word
 * did not change; a condvar broadcast without the mutex), the next one
 * lands.  It holds `mu` while waking, and the sleeper unregisters under
 * `mu`, so the futex word or condvar it wakes is still alive. */
typedef struct weft__intr {
  pthread_mutex_t mu;
  _Atomic int pending;
  _Atomic uint32_t *word; /* the futex the thread sleeps on, or NULL */
  pthread_cond_t *cv;     /* the condvar it sleeps on, or NULL */
  int fd;                 /* an eventfd its poll(2) watches, or -1 */
  _Atomic int kick;       /* the signal thread asks for a re-check */
} weft__intr;

void weft__intr_init(weft__intr *in);

/* The calling thread's weft__intr (NULL: not interruptible: it has no
 * record, or weft__intr_mask is in force).  Defined in thread.c. */
weft__intr *weft__intr_self(void);

/* Mask interrupts on the calling thread (nested), for waits that must
 * finish (Condition's re-acquire of its lock). */
void weft__intr_mask(int delta);

/* Set in's flag and wake its sleeper (see above). */
void weft__intr_raise(weft__intr *in);

/* Wake in's sleeper for a re-check, without an interrupt: its wait
 * returns 0 (or, if it is not sleeping, its next one returns 0 at once).
 * For the signal thread: the dispatching thread's next wait runs the
 * tripped handlers. */
void weft__intr_kick(weft__intr *in);

/* 1 while weft__intr_mask is in force on the calling thread. */
int weft__intr_masked(void);

/* weft__intr_self, making the calling thread's state first if it has
 * none (the main thread before any other call: the signal module's
 * dispatching thread must be reachable by a kick).  Making it may take
 * the thread registry's mutex: call it with no lock held. */
weft__intr *weft__intr_self_make(void);

/* 1 if the calling thread has no state yet (weft__intr_self_make would
 * make it). */
int weft__intr_self_unmade(void);

/* Interruptible weft__futex_wait: 0 (re-check), -ETIMEDOUT or -EINTR
 * (interrupted; the caller returns it).  A signal is a plain wake-up. */
int weft__wait_futex(_Atomic uint32_t *word, uint32_t expected,
                     const weft__deadline *d);

/* Interruptible weft__cond_wait: 0 (re-check), -ETIMEDOUT or -EINTR. */
int weft__wait_cond(pthread_cond_t *cv, pthread_mutex_t *mu,
                    const weft__deadline *d);

/* For waits in poll(2) and epoll_wait (fdwait.c, poller.c): begin a
 * sleep whose wake-up is a write to the eventfd `fd`.  -EINTR if an
 * interrupt was pending (consumed; the caller returns it without
 * sleeping), else 0 with fd registered until weft__intr_leave.  An
 * interrupt that comes meanwhile writes 1 to fd: the sleeper drains it,
 * leaves, and its caller re-checks, as after any wake-up. */
int weft__intr_enter_fd(weft__intr *in, int fd);
/* (weft__intr_enter_fd gives 1, without registering, when a kick was
 * pending: the caller returns 0 to re-check, without sleeping.) */
void weft__intr_leave(weft__intr *in);

/* The time left until d, into *rel: 0 if it has passed (rel is then
 * {0, 0}), 1 otherwise.  Not for `forever` deadlines. */
int weft__deadline_left(const weft__deadline *d, struct timespec *rel);

/* A call that consumed an interrupt (-EINTR from a wait) but returns
 * something else (it had made progress it must report) puts it back: the
 * calling thread's next blocking call returns -EINTR. */
void weft__intr_keep(void);

/* Record the -EINTR of an interrupted call: "<what>: interrupted". */
weft_status weft__interrupted(const char *what);

#endif
