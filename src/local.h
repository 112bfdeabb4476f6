/* local.h - thread-local storage (internal).
 *
 * A local has a dense slot number; each thread keeps an array of
 * (local id, value) entries indexed by slot, so get and set are an index
 * and an id compare under the thread's own, normally uncontended, mutex.
 * A stale entry (its local closed, the slot reused) has another id.
 *
 * The locals mutex L guards the slot table, the list of threads that hold
 * entries, and the hand-over of values between a thread's exit and a
 * local's close: each non-NULL value is taken out under L by exactly one
 * of them, which then runs the destructor for it. */
#ifndef WEFT_LOCAL_H
#define WEFT_LOCAL_H

#include "thread.h"

struct weft__lentry {
  uint64_t id; /* the local's id; 0 or another local's for a stale entry */
  void *value;
};

/* The calling thread (state T) is exiting: run the destructors of its
 * values.  Also run by timer workers after each timer function. */
void weft__local_thread_exit(weft__tstate *T);

/* fork: L is held across fork; in the child, self is the forking thread's
 * state (may be NULL). */
void weft__local_atfork_prepare(void);
void weft__local_atfork_parent(void);
void weft__local_atfork_child(weft__tstate *self);

#endif
