/* handle.h - the handle table (internal).
 *
 * A handle is gen << 30 | kind << 24 | index: 24 bits of slot index,
 * 6 bits of kind, 23 bits of generation (never 0), so every handle is
 * > 0 and < 2^53.  Each kind has its own table of slots, so the kind bits
 * of a handle select the table and a wrong-kind handle is refused before
 * any memory is read.  Tables grow by chunks that are never freed, so a
 * stale handle always reads valid slot memory; the generation in the slot
 * word tells it is stale.
 *
 * Generic kinds keep a slot word of generation | LIVE | CLOSING | pins.
 * A call pins the handle (one CAS) for as long as it uses the object;
 * close sets CLOSING, runs the kind's close op (which wakes waiters), and
 * the last unpin destroys the object and frees the slot with the next
 * generation.  So a close that races with use never frees memory in use.
 *
 * Kinds with their own slot layout (Lock, whose lock word is its slot
 * word) use the slab and the encoding helpers directly.
 */
#ifndef WEFT_HANDLE_H
#define WEFT_HANDLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "weft.h"

#define WEFT__KIND_MAX 64
#define WEFT__INDEX_BITS 24
#define WEFT__KIND_BITS 6
#define WEFT__GEN_BITS 23
#define WEFT__GEN_MASK ((1u << WEFT__GEN_BITS) - 1)
#define WEFT__CHUNK_BITS 12
#define WEFT__CHUNK_SIZE (1u << WEFT__CHUNK_BITS)
#define WEFT__CHUNKS (1u << (WEFT__INDEX_BITS - WEFT__CHUNK_BITS))

static inline weft_handle weft__handle_make(uint32_t gen, int kind,
                                            uint32_t index) {
  return ((weft_handle)gen << (WEFT__INDEX_BITS + WEFT__KIND_BITS)) |
         ((weft_handle)kind << WEFT__INDEX_BITS) | (weft_handle)index;
}

/* Split a handle; 0 if it cannot be one (<= 0, >= 2^53, generation 0). */
static inline int weft__handle_split(weft_handle h, uint32_t *gen, int *kind,
                                     uint32_t *index) {
  if (h <= 0 || h >= ((weft_handle)1 << 53))
    return 0;
  *index = (uint32_t)(h & ((1 << WEFT__INDEX_BITS) - 1));
  *kind = (int)((h >> WEFT__INDEX_BITS) & ((1 << WEFT__KIND_BITS) - 1));
  *gen = (uint32_t)(h >> (WEFT__INDEX_BITS + WEFT__KIND_BITS));
  return *gen != 0;
}

/* The generation after gen, or 0 when gen was the last one (2^23 - 1).
 * A slot whose generations are used up retires: it is left not live and
 * is never given back to its slab, so no handle value is ever issued
 * twice and a stale handle can never reach a later object, however long
 * it was kept.  (Wrapping to 1 instead would make a handle held across
 * 2^23 - 1 reuses of its slot valid again: with the LIFO free list that
 * is one new/close loop of a few seconds.)  Retiring costs one slot per
 * 2^23 - 1 reuses, so a kind runs out (WEFT_ERANGE from its _new) only
 * after some 2^47 creations. */
static inline uint32_t weft__gen_next(uint32_t gen) {
  return (gen + 1) & WEFT__GEN_MASK;
}

/* ---- slab: chunked, type-stable arrays of fixed-size elements ---- */

typedef struct weft__slab {
  size_t elem_size;
  void (*init_elem)(void *elem); /* run once on each new element */
  _Atomic(char *) chunks[WEFT__CHUNKS];
  pthread_mutex_t mu; /* guards growth and the free list */
  uint32_t used;      /* elements handed out at least once */
  uint32_t *free;     /* stack of free indices */
  uint32_t nfree, free_cap;
} weft__slab;

#define WEFT__SLAB_INIT(type, init)                                            \
  {                                                                            \
    .elem_size = sizeof(type), .init_elem = (init),                            \
    .mu = PTHREAD_MUTEX_INITIALIZER                                            \
  }

/* The element at index, or NULL if its chunk was never allocated.
 * Lock-free; the memory stays valid for the life of the process.  Pass
 * the element size when it is a compile-time constant (a hot path). */
static inline void *weft__slab_at_sized(weft__slab *s, uint32_t index,
                                        size_t elem_size) {
  char *chunk = atomic_load_explicit(&s->chunks[index >> WEFT__CHUNK_BITS],
                                     memory_order_acquire);
  if (chunk == NULL)
    return NULL;
  return chunk + (size_t)(index & (WEFT__CHUNK_SIZE - 1)) * elem_size;
}

static inline void *weft__slab_at(weft__slab *s, uint32_t index) {
  return weft__slab_at_sized(s, index, s->elem_size);
}

/* Take a free index (-ENOMEM, or -EMFILE when all 2^24 are live or
 * retired). */
weft_status weft__slab_alloc(weft__slab *s, uint32_t *index);
/* Give an index back; its element must already be marked free. */
void weft__slab_release(weft__slab *s, uint32_t index);

/* ---- generic kinds ---- */

typedef struct weft__kind_ops {
  const char *name; /* "lock", "thread": used in error messages */
  /* Called once by weft_close with a pin held: mark the object closed and
   * wake every waiter.  May be NULL. */
  void (*close)(void *obj);
  /* Called once after close, when no pin is left: free the object. */
  void (*destroy)(void *obj);
  /* Optional: decide whether weft_close may proceed now.  Returns 0 to
   * close as usual, 1 to keep the handle open (the kind arranged a later
   * weft__handle_close_now), or a negative status to refuse. */
  weft_status (*before_close)(void *obj);
  /* Optional: work that weft_close does before it closes, whose failure
   * it reports without keeping the handle open (a stream's flush).
   * weft_close calls it once, after before_close, with a pin held; it may
   * block (ended by the object's own timeout or weft_thread_interrupt).
   * Whatever it returns, weft_close then closes the handle, and returns
   * its status (0 or the negative status it recorded with weft__error),
   * unless the close itself failed (another thread closed the handle
   * meanwhile: WEFT_EBADHANDLE). */
  weft_status (*flush)(void *obj);
  /* Kinds with their own slot layout set these two instead of the above:
   * close the handle, and tell whether it is open. */
  weft_status (*custom_close)(weft_handle h);
  int (*custom_is_open)(weft_handle h);
  weft__slab *custom_slab; /* so fork can keep its free list consistent */
  /* Optional, generic kinds: in a fork child, re-initialise the object's
   * internal mutexes and condvars and forget waiters (they were threads
   * of the parent).  Runs once for every open handle of the kind. */
  void (*atfork_child)(void *obj);
} weft__kind_ops;

/* Register a generic kind (at library load, from the kind's file). */
void weft__kind_register(int kind, const weft__kind_ops *ops);

/* Issue a handle for obj.  On failure obj is untouched (not destroyed). */
weft_status weft__handle_new(int kind, void *obj, weft_handle *out);

/* Pin h if it is an open handle of `kind` and return its object; else
 * record WEFT_EBADHANDLE ("<what>: bad handle ...") and return NULL. */
void *weft__handle_pin(weft_handle h, int kind, const char *what);

/* The same, accepting any kind whose bit (1 << kind) is in kind_mask;
 * *kind_out (may be NULL) receives the handle's kind. */
void *weft__handle_pin_any(weft_handle h, uint64_t kind_mask, int *kind_out,
                           const char *what);

/* The object of h if h is an open handle of `kind` now, else NULL; no pin
 * is taken and no error recorded.  For a caller that keeps the object
 * alive by other means (a reference of its own) and only needs to know
 * that the handle still stands for it: one load, no atomic
 * read-modify-write (the ffi field accessors' per-thread cache). */
void *weft__handle_peek(weft_handle h, int kind);

/* Drop a pin; the last pin on a closed handle destroys the object. */
void weft__handle_unpin(weft_handle h);

/* Close regardless of before_close (used by kinds that deferred). */
weft_status weft__handle_close_now(weft_handle h);

/* The status a pin failure left, for entries that return it. */
#define WEFT__PIN_FAILED WEFT_EBADHANDLE

/* fork: handle.c registers pthread_atfork handlers that hold every
 * slab's mutex across fork(), so the child inherits consistent free lists
 * and can keep creating and closing handles, and that run each kind's
 * atfork_child op on its open objects in the child. */

#endif
