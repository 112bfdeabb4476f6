/* lock.h - the primitive Lock (internal).
 *
 * A Lock is one 32-bit word in a type-stable slab: the word is both the
 * handle's slot (generation, LIVE) and the lock state (0 free,
 * 1 locked, 2 locked with waiters), so acquire and release are one CAS
 * each, like a bare futex mutex, and a stale handle can never touch a
 * lock that reused its slot: every CAS compares the generation too. */
#ifndef WEFT_LOCK_H
#define WEFT_LOCK_H

#include "weft.h"

/* Is the calling thread allowed to treat `lock` as held?  A Lock has no
 * owner, so, as in Python (a non-blocking acquire would fail), it is held
 * whenever it is locked.  Returns 1 held, 0 not held, or a negative
 * status (with an error recorded). */
weft_status weft__lock_held(weft_handle lock);

#endif
