/* sync.h - RLock, Condition, Semaphore, Event (internal).
 *
 * Each is a generic handle kind (handle.h): a call pins the handle for as
 * long as it uses the object, the kind's close op marks the object closed
 * and wakes every waiter (they return WEFT_ECLOSED), and the last unpin
 * frees it.  A Condition refers to its lock by handle and reaches an RLock
 * through the two calls below, Python's _release_save and _acquire_restore.
 */
#ifndef WEFT_SYNC_H
#define WEFT_SYNC_H

#include <stdint.h>

#include "weft.h"

/* Release an RLock completely, whatever its recursion depth, and store that
 * depth in *count.  WEFT_ESTATE if the calling thread does not own it. */
weft_status weft__rlock_release_save(weft_handle rlock, uint64_t *count);

/* Acquire an RLock (as weft_rlock_acquire) and set its recursion depth to
 * count (>= 1), undoing weft__rlock_release_save. */
weft_status weft__rlock_acquire_restore(weft_handle rlock, uint64_t count,
                                        double timeout);

#endif
