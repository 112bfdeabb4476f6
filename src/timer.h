/* timer.h - Timer: a thread whose function runs once after an interval
 * (internal).
 *
 * A timer's record embeds the thread record (first member), so every
 * weft_thread_* call works on it.  Pending timers sit in one min-heap of
 * deadlines served by one service thread; a due timer moves to a ready
 * queue drained by a pool of worker threads (idle workers are reused and
 * leave after a couple of idle seconds), so a slow function delays no
 * other timer and pending timers hold no thread. */
#ifndef WEFT_TIMER_H
#define WEFT_TIMER_H

#include "thread.h"

/* weft_thread_start on a Timer handle. */
weft_status weft__timer_start(weft__thread *rec);

/* A worker's state is being torn down (it left through pthread_exit, or
 * it retired): finish the timer it was running, if any, and leave the
 * pool. */
void weft__timer_worker_exit(weft__tstate *T, int result);

/* fork: the service mutex is held across fork; in the child the pool and
 * the service thread are gone and start again on demand. */
void weft__timer_atfork_prepare(void);
void weft__timer_atfork_parent(void);
void weft__timer_atfork_child(weft__tstate *self);

#endif
