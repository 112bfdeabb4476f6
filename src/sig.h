/* sig.h - the signal module's hooks into weft's waits (internal).
 *
 * Every blocking call sleeps through clock.c's weft__wait_futex and
 * weft__wait_cond or fdwait.c's and poller.c's polls.  Each checks, before
 * it sleeps, whether the calling thread is the dispatching thread of
 * WEFT_SIGNAL_WAITS mode with signals tripped (weft__signal_in_wait): if
 * so it runs their handlers there, having released the caller's mutex,
 * and returns "re-check" (0) to its caller, whose loop sleeps again with
 * the same deadline, or -EINTR if a handler failed.  A kernel EINTR is a
 * re-check too, after weft__signal_eintr ran the handlers and the
 * binding's check (no lock is held where the kernel says EINTR).
 * Signals that arrive while the dispatching thread sleeps reach it
 * through the signal thread, which kicks its wait (weft__intr_kick). */
#ifndef WEFT_SIG_H
#define WEFT_SIG_H

#include <pthread.h>
#include <stdatomic.h>

#include "weft.h"

/* Set once a handler or a check is installed: until then waits skip the
 * signal checks (one relaxed load). */
extern _Atomic int weft__signal_active;

/* On the dispatching thread of WEFT_SIGNAL_WAITS mode, with signals
 * tripped or a kernel EINTR noted: release `held` (if not NULL), run the
 * handlers and the binding's check, take `held` again.  0: nothing to do
 * here (sleep); 1: something ran (re-check); -EINTR: a handler or the
 * check failed. */
int weft__signal_in_wait(pthread_mutex_t *held);

/* 1 if the calling thread is the dispatching thread of WAITS mode. */
int weft__signal_runner_here(void);

/* A wait of the calling thread came back with EINTR from the kernel,
 * holding no lock: on the dispatching thread, run the tripped handlers and
 * the binding's check now.  0 (re-check), or -EINTR if one failed. */
int weft__signal_eintr(void);

/* weft_thread_interrupt_main's body. */
weft_status weft__signal_interrupt_main(int signum);

/* thread.c: kick `thread`'s blocking call (0: the main thread's). */
void weft__thread_kick(weft_handle thread);

#endif
