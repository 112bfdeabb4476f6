/* handle.c - the handle table: per-kind slabs of slots, pin/unpin, close. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "handle.h"

/* ---- slab ---- */

/* Allocate the chunk that index `used` opens (used < 2^24). */
static weft_status slab_grow(weft__slab *s) {
  uint32_t c = s->used >> WEFT__CHUNK_BITS;
  char *chunk = calloc(WEFT__CHUNK_SIZE, s->elem_size);
  if (chunk == NULL)
    return -ENOMEM;
  if (s->init_elem != NULL)
    for (uint32_t i = 0; i < WEFT__CHUNK_SIZE; i++)
      s->init_elem(chunk + (size_t)i * s->elem_size);
  atomic_store_explicit(&s->chunks[c], chunk, memory_order_release);
  return 0;
}

weft_status weft__slab_alloc(weft__slab *s, uint32_t *index) {
  weft_status st = 0;
  pthread_mutex_lock(&s->mu);
  if (s->nfree > 0) {
    *index = s->free[--s->nfree];
  } else if (s->used == WEFT__CHUNKS * WEFT__CHUNK_SIZE) {
    st = -EMFILE; /* every index is live or retired */
  } else {
    if ((s->used & (WEFT__CHUNK_SIZE - 1)) == 0) /* a chunk's first index */
      st = slab_grow(s);
    if (st == 0)
      *index = s->used++;
  }
  pthread_mutex_unlock(&s->mu);
  return st;
}

void weft__slab_release(weft__slab *s, uint32_t index) {
  pthread_mutex_lock(&s->mu);
  if (s->nfree == s->free_cap) {
    uint32_t cap = s->free_cap ? s->free_cap * 2 : 256;
    uint32_t *f = realloc(s->free, cap * sizeof *f);
    if (f == NULL) { /* leak the index rather than fail a close */
      pthread_mutex_unlock(&s->mu);
      return;
    }
    s->free = f;
    s->free_cap = cap;
  }
  s->free[s->nfree++] = index;
  pthread_mutex_unlock(&s->mu);
}

/* ---- generic slots ----
 *
 * word: gen << 40 | CLOSING << 33 | LIVE << 32 | pins (32 bits).
 * A free slot has LIVE clear and the generation its next handle gets;
 * a retired one has generation 0, which no handle carries. */

#define PINS_MASK 0xffffffffull
#define LIVE (1ull << 32)
#define CLOSING (1ull << 33)
#define GEN_SHIFT 40

typedef struct slot {
  _Atomic uint64_t word;
  void *_Atomic obj;
} slot;

static void slot_init(void *elem) {
  slot *s = elem;
  atomic_init(&s->word, (uint64_t)1 << GEN_SHIFT);
}

static weft__slab slabs[WEFT__KIND_MAX];
static const weft__kind_ops *kinds[WEFT__KIND_MAX];

void weft__kind_register(int kind, const weft__kind_ops *ops) {
  kinds[kind] = ops;
  if (ops->custom_close == NULL) {
    weft__slab init = WEFT__SLAB_INIT(slot, slot_init);
    slabs[kind] = init;
  }
}

static const char *kind_name(int kind) {
  if (kind > 0 && kind < WEFT__KIND_MAX && kinds[kind] != NULL)
    return kinds[kind]->name;
  return "unknown kind";
}

weft_status weft__handle_new(int kind, void *obj, weft_handle *out) {
  uint32_t index;
  weft_status st = weft__slab_alloc(&slabs[kind], &index);
  if (st < 0)
    return weft__error(st, -st, "%s_new: %s", kind_name(kind),
                       st == -ENOMEM ? "out of memory"
                                     : "every handle of this kind is in use");
  slot *s = weft__slab_at(&slabs[kind], index);
  uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
  uint32_t gen = (uint32_t)(w >> GEN_SHIFT);
  atomic_store_explicit(&s->obj, obj, memory_order_relaxed);
  atomic_store_explicit(&s->word, ((uint64_t)gen << GEN_SHIFT) | LIVE,
                        memory_order_release);
  *out = weft__handle_make(gen, kind, index);
  return 0;
}

static weft_status bad_handle(weft_handle h, const char *what,
                              const char *why) {
  return weft__error(WEFT_EBADHANDLE, 0, "%s: bad handle %lld (%s)", what,
                     (long long)h, why);
}

/* Find h's slot, or record why not. */
static slot *find_slot(weft_handle h, uint64_t kind_mask, int *kind_out,
                       uint32_t *gen_out, const char *what) {
  uint32_t gen, index;
  int kind;
  if (!weft__handle_split(h, &gen, &kind, &index)) {
    bad_handle(h, what, "not a handle value");
    return NULL;
  }
  if (!(kind_mask & (1ull << kind))) {
    bad_handle(h, what, kinds[kind] != NULL ? "wrong kind" : "unknown kind");
    return NULL;
  }
  slot *s = kinds[kind] != NULL && kinds[kind]->custom_close == NULL
                ? weft__slab_at(&slabs[kind], index)
                : NULL;
  if (s == NULL) {
    bad_handle(h, what, "never issued");
    return NULL;
  }
  if (kind_out)
    *kind_out = kind;
  *gen_out = gen;
  return s;
}

void *weft__handle_pin_any(weft_handle h, uint64_t kind_mask, int *kind_out,
                           const char *what) {
  uint32_t gen;
  slot *s = find_slot(h, kind_mask, kind_out, &gen, what);
  if (s == NULL)
    return NULL;
  uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
  for (;;) {
    if ((uint32_t)(w >> GEN_SHIFT) != gen || !(w & LIVE) || (w & CLOSING)) {
      bad_handle(h, what, "closed");
      return NULL;
    }
    if ((w & PINS_MASK) == PINS_MASK) { /* one more would carry into LIVE */
      weft__error(WEFT__PIN_FAILED, EAGAIN,
                  "%s: handle %lld has too many "
                  "concurrent users",
                  what, (long long)h);
      return NULL;
    }
    if (atomic_compare_exchange_weak_explicit(
            &s->word, &w, w + 1, memory_order_acquire, memory_order_relaxed))
      return atomic_load_explicit(&s->obj, memory_order_relaxed);
  }
}

void *weft__handle_peek(weft_handle h, int kind) {
  uint32_t gen, index;
  int k;
  if (!weft__handle_split(h, &gen, &k, &index) || k != kind ||
      kinds[k] == NULL || kinds[k]->custom_close != NULL)
    return NULL;
  slot *s = weft__slab_at(&slabs[k], index);
  if (s == NULL)
    return NULL;
  uint64_t w = atomic_load_explicit(&s->word, memory_order_acquire);
  if ((uint32_t)(w >> GEN_SHIFT) != gen || !(w & LIVE) || (w & CLOSING))
    return NULL;
  return atomic_load_explicit(&s->obj, memory_order_relaxed);
}

void *weft__handle_pin(weft_handle h, int kind, const char *what) {
  return weft__handle_pin_any(h, 1ull << kind, NULL, what);
}

/* Free a slot whose object has been destroyed: next generation, not
 * live; back to the free list unless it retired (weft__gen_next). */
static void slot_free(int kind, uint32_t index, slot *s, uint32_t gen) {
  uint32_t next = weft__gen_next(gen);
  atomic_store_explicit(&s->obj, NULL, memory_order_relaxed);
  atomic_store_explicit(&s->word, (uint64_t)next << GEN_SHIFT,
                        memory_order_release);
  if (next != 0)
    weft__slab_release(&slabs[kind], index);
}

void weft__handle_unpin(weft_handle h) {
  uint32_t gen = 0, index = 0;
  int kind = 0;
  weft__handle_split(h, &gen, &kind, &index);
  slot *s = weft__slab_at(&slabs[kind], index);
  uint64_t w = atomic_fetch_sub_explicit(&s->word, 1, memory_order_acq_rel);
  if ((w & PINS_MASK) == 1 && (w & CLOSING)) {
    /* The last user of a closed handle: nobody else can pin it now. */
    void *obj = atomic_load_explicit(&s->obj, memory_order_relaxed);
    if (kinds[kind]->destroy)
      kinds[kind]->destroy(obj);
    slot_free(kind, index, s, gen);
  }
}

weft_status weft__handle_close_now(weft_handle h) {
  uint32_t gen;
  int kind;
  slot *s = find_slot(h, ~0ull, &kind, &gen, "close");
  if (s == NULL)
    return WEFT_EBADHANDLE;
  /* Set CLOSING and take a pin in one step, so the object outlives the
   * close op even if every other user unpins meanwhile. */
  uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
  do {
    if ((uint32_t)(w >> GEN_SHIFT) != gen || !(w & LIVE) || (w & CLOSING))
      return bad_handle(h, "close", "already closed");
  } while (!atomic_compare_exchange_weak_explicit(
      &s->word, &w, (w | CLOSING) + 1, memory_order_acq_rel,
      memory_order_relaxed));
  void *obj = atomic_load_explicit(&s->obj, memory_order_relaxed);
  if (kinds[kind]->close)
    kinds[kind]->close(obj);
  weft__handle_unpin(h);
  return 0;
}

WEFT_API weft_status weft_close(weft_handle h) {
  uint32_t gen, index;
  int kind;
  if (!weft__handle_split(h, &gen, &kind, &index))
    return bad_handle(h, "close", "not a handle value");
  const weft__kind_ops *ops = kinds[kind];
  if (ops == NULL)
    return bad_handle(h, "close", "unknown kind");
  if (ops->custom_close)
    return ops->custom_close(h);
  if (ops->before_close) {
    void *obj = weft__handle_pin(h, kind, "close");
    if (obj == NULL)
      return WEFT_EBADHANDLE;
    weft_status st = ops->before_close(obj);
    weft__handle_unpin(h);
    if (st != 0)
      return st < 0 ? st : 0;
  }
  if (ops->flush) {
    void *obj = weft__handle_pin(h, kind, "close");
    if (obj == NULL)
      return WEFT_EBADHANDLE;
    weft_status flushed = ops->flush(obj);
    weft_status st = weft__handle_close_now(h);
    weft__handle_unpin(h);
    return st < 0 ? st : flushed;
  }
  return weft__handle_close_now(h);
}

WEFT_API weft_status weft_handle_kind(weft_handle h, int *kind) {
  WEFT__CHECK_PTR(kind, "handle_kind");
  uint32_t gen, index;
  int k;
  if (!weft__handle_split(h, &gen, &k, &index))
    return bad_handle(h, "handle_kind", "not a handle value");
  const weft__kind_ops *ops = kinds[k];
  if (ops == NULL)
    return bad_handle(h, "handle_kind", "unknown kind");
  if (ops->custom_is_open) {
    if (!ops->custom_is_open(h))
      return bad_handle(h, "handle_kind", "closed");
  } else {
    if (weft__handle_pin(h, k, "handle_kind") == NULL)
      return WEFT_EBADHANDLE;
    weft__handle_unpin(h);
  }
  *kind = k;
  return 0;
}

/* ---- fork ---- */

static weft__slab *kind_slab(int kind) {
  if (kinds[kind] == NULL)
    return NULL;
  return kinds[kind]->custom_close ? kinds[kind]->custom_slab : &slabs[kind];
}

static void atfork_prepare(void) {
  for (int k = 0; k < WEFT__KIND_MAX; k++)
    if (kind_slab(k) != NULL)
      pthread_mutex_lock(&kind_slab(k)->mu);
}

static void atfork_release(void) {
  for (int k = WEFT__KIND_MAX - 1; k >= 0; k--)
    if (kind_slab(k) != NULL)
      pthread_mutex_unlock(&kind_slab(k)->mu);
}

/* The child has one thread: walk every open object of the kinds that
 * keep internal mutexes and let them start afresh. */
static void atfork_child(void) {
  atfork_release();
  for (int k = 0; k < WEFT__KIND_MAX; k++) {
    if (kinds[k] == NULL || kinds[k]->atfork_child == NULL)
      continue;
    for (uint32_t i = 0; i < slabs[k].used; i++) {
      slot *s = weft__slab_at(&slabs[k], i);
      uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
      if (w & LIVE)
        kinds[k]->atfork_child(
            atomic_load_explicit(&s->obj, memory_order_relaxed));
    }
  }
}

__attribute__((constructor)) static void handle_init(void) {
  pthread_atfork(atfork_prepare, atfork_release, atfork_child);
}
