/* local.c - local: one void * per thread, with a destructor. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "error.h"
#include "handle.h"
#include "local.h"

#define EXIT_ROUNDS 4 /* destructors that set values again: like pthread */
#define CLOSE_BATCH 64

typedef struct localobj {
  weft_local_dtor_fn dtor;
  void *dtor_arg;
  uint64_t id;   /* unique for the life of the process */
  uint32_t slot; /* index into every thread's entry array */
  weft_handle handle;
  _Atomic int closed;
  unsigned inflight; /* under L: exit destructors of this local running */
} localobj;

static pthread_mutex_t L = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t Lcv; /* broadcast when an exit destructor ends */
/* Under L. */
static localobj **ltab; /* slot -> open local */
static uint32_t ltab_cap, ltab_used;
static uint32_t *lfree, nfree, free_cap;
static uint64_t next_id;
static weft__tstate *lhead; /* threads that may hold values */

/* ---- slots (under L) ---- */

static weft_status slot_alloc(uint32_t *slot) {
  if (nfree > 0) {
    *slot = lfree[--nfree];
    return 0;
  }
  if (ltab_used == ltab_cap) {
    uint32_t cap = ltab_cap ? ltab_cap * 2 : 64;
    localobj **t = realloc(ltab, cap * sizeof *t);
    if (t == NULL)
      return -ENOMEM;
    memset(t + ltab_cap, 0, (cap - ltab_cap) * sizeof *t);
    ltab = t;
    ltab_cap = cap;
  }
  *slot = ltab_used++;
  return 0;
}

static void slot_release(uint32_t slot) {
  ltab[slot] = NULL;
  if (nfree == free_cap) {
    uint32_t cap = free_cap ? free_cap * 2 : 64;
    uint32_t *f = realloc(lfree, cap * sizeof *f);
    if (f == NULL)
      return; /* leak the slot rather than fail a close */
    lfree = f;
    free_cap = cap;
  }
  lfree[nfree++] = slot;
}

/* ---- the thread list (under L) ---- */

static void list_join(weft__tstate *T) {
  pthread_mutex_lock(&L);
  T->lprev = NULL;
  T->lnext = lhead;
  if (lhead)
    lhead->lprev = T;
  lhead = T;
  T->llisted = 1;
  pthread_mutex_unlock(&L);
}

static void list_leave(weft__tstate *T) {
  if (T->lprev)
    T->lprev->lnext = T->lnext;
  else
    lhead = T->lnext;
  if (T->lnext)
    T->lnext->lprev = T->lprev;
  T->lprev = T->lnext = NULL;
  T->llisted = 0;
}

/* ---- the ABI ---- */

WEFT_API weft_status weft_local_new(weft_local_dtor_fn dtor, void *dtor_arg,
                                    weft_handle *out) {
  WEFT__CHECK_PTR(out, "local_new");
  weft__thread_atfork_init();
  localobj *X = calloc(1, sizeof *X);
  if (X == NULL)
    return weft__error(-ENOMEM, ENOMEM, "local_new: out of memory");
  X->dtor = dtor;
  X->dtor_arg = dtor_arg;
  pthread_mutex_lock(&L);
  weft_status st = slot_alloc(&X->slot);
  if (st == 0) {
    X->id = ++next_id;
    ltab[X->slot] = X;
  }
  pthread_mutex_unlock(&L);
  if (st < 0) {
    free(X);
    return weft__error(st, ENOMEM, "local_new: out of memory");
  }
  st = weft__handle_new(WEFT_KIND_LOCAL, X, &X->handle);
  if (st == 0)
    *out = X->handle;
  if (st < 0) {
    pthread_mutex_lock(&L);
    slot_release(X->slot);
    pthread_mutex_unlock(&L);
    free(X);
  }
  return st;
}

/* Under T->lmu: make room for entry `slot`. */
static weft_status entries_reserve(weft__tstate *T, uint32_t slot) {
  if (slot < T->lcap)
    return 0;
  uint32_t cap = T->lcap ? T->lcap * 2 : 8;
  while (cap <= slot)
    cap *= 2;
  struct weft__lentry *e = realloc(T->lents, cap * sizeof *e);
  if (e == NULL)
    return weft__error(-ENOMEM, ENOMEM, "local_set: out of memory");
  memset(e + T->lcap, 0, (cap - T->lcap) * sizeof *e);
  T->lents = e;
  T->lcap = cap;
  return 0;
}

static weft_status local_store(localobj *X, weft_handle h, void *value) {
  weft__tstate *T = weft__tstate_get("local_set");
  if (T == NULL)
    return -ENOMEM;
  if (!T->llisted)
    list_join(T);
  weft_status st = 0;
  pthread_mutex_lock(&T->lmu);
  /* A close sets `closed` before it sweeps this thread under lmu: either
   * it sees our value, or we see `closed`. */
  if (atomic_load(&X->closed))
    st = weft__error(WEFT_ECLOSED, 0, "local_set: local %lld was closed",
                     (long long)h);
  else if ((st = entries_reserve(T, X->slot)) == 0)
    T->lents[X->slot] = (struct weft__lentry){X->id, value};
  pthread_mutex_unlock(&T->lmu);
  return st;
}

WEFT_API weft_status weft_local_set(weft_handle local, void *value) {
  localobj *X = weft__handle_pin(local, WEFT_KIND_LOCAL, "local_set");
  if (X == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = local_store(X, local, value);
  weft__handle_unpin(local);
  return st;
}

WEFT_API weft_status weft_local_get(weft_handle local, void **value) {
  WEFT__CHECK_PTR(value, "local_get");
  localobj *X = weft__handle_pin(local, WEFT_KIND_LOCAL, "local_get");
  if (X == NULL)
    return WEFT__PIN_FAILED;
  weft__tstate *T = weft__tstate_peek();
  void *v = NULL;
  if (T != NULL && T->llisted) {
    pthread_mutex_lock(&T->lmu);
    if (X->slot < T->lcap && T->lents[X->slot].id == X->id)
      v = T->lents[X->slot].value;
    pthread_mutex_unlock(&T->lmu);
  }
  *value = v;
  weft__handle_unpin(local);
  return 0;
}

/* ---- exit and close: the hand-over ---- */

/* Under L: take T's value in entry i out, with its open local in *Xp. */
static void *take_value(weft__tstate *T, uint32_t i, localobj **Xp) {
  pthread_mutex_lock(&T->lmu);
  struct weft__lentry *e = &T->lents[i];
  void *v = e->value;
  uint64_t id = e->id;
  e->value = NULL;
  pthread_mutex_unlock(&T->lmu);
  localobj *X = i < ltab_used ? ltab[i] : NULL;
  if (v == NULL || X == NULL || X->id != id)
    return NULL;
  *Xp = X;
  return v;
}

void weft__local_thread_exit(weft__tstate *T) {
  if (!T->llisted)
    return;
  pthread_mutex_lock(&L);
  for (int round = 0; round < EXIT_ROUNDS; round++) {
    int ran = 0;
    for (uint32_t i = 0; i < T->lcap; i++) {
      localobj *X;
      void *v = take_value(T, i, &X);
      if (v == NULL || X->dtor == NULL)
        continue;
      /* inflight keeps a close of X on another thread (and so X) waiting
       * until this destructor has returned; our pin keeps X when the
       * destructor closes X itself.  The pin fails only if a close is
       * already under way, and that one waits for us. */
      ran = 1;
      X->inflight++;
      T->lrunning = X;
      weft_handle pinned =
          weft__handle_pin(X->handle, WEFT_KIND_LOCAL, "local") ? X->handle
                                                                : 0;
      pthread_mutex_unlock(&L);
      X->dtor(X->dtor_arg, v);
      pthread_mutex_lock(&L);
      T->lrunning = NULL;
      /* A close waits for inflight to reach 0, or 1 when it runs inside
       * one of these destructors itself: wake it on every step. */
      X->inflight--;
      if (atomic_load(&X->closed))
        pthread_cond_broadcast(&Lcv);
      if (pinned) {
        pthread_mutex_unlock(&L);
        weft__handle_unpin(pinned);
        pthread_mutex_lock(&L);
      }
    }
    if (!ran)
      break;
  }
  list_leave(T);
  pthread_mutex_lock(&T->lmu);
  for (uint32_t i = 0; i < T->lcap; i++)
    T->lents[i].value = NULL; /* set again by the last round: dropped */
  pthread_mutex_unlock(&T->lmu);
  pthread_mutex_unlock(&L);
}

/* Under L: take up to CLOSE_BATCH values of X out of the threads. */
static size_t sweep(localobj *X, void **vals) {
  size_t n = 0;
  for (weft__tstate *T = lhead; T != NULL && n < CLOSE_BATCH; T = T->lnext) {
    pthread_mutex_lock(&T->lmu);
    struct weft__lentry *e =
        X->slot < T->lcap ? &T->lents[X->slot] : NULL;
    if (e != NULL && e->id == X->id && e->value != NULL) {
      vals[n++] = e->value;
      e->value = NULL;
    }
    pthread_mutex_unlock(&T->lmu);
  }
  return n;
}

/* Run X's destructor on values swept by a close.  lclosing makes
 * weft_thread_exit refuse meanwhile: leaving here would strand the rest of
 * the batch and the half-done close. */
static void close_dtors(localobj *X, void **vals, size_t n,
                        weft__tstate *self) {
  if (X->dtor == NULL)
    return;
  if (self != NULL)
    self->lclosing++;
  for (size_t i = 0; i < n; i++)
    X->dtor(X->dtor_arg, vals[i]);
  if (self != NULL)
    self->lclosing--;
}

/* Close: run dtor for every remaining value here, and return only when
 * no exit destructor of this local runs on another thread, so that after
 * weft_close no destructor of it runs anywhere (but in the caller's own
 * frames, if it closes the local from inside one). */
static void local_close(void *obj) {
  localobj *X = obj;
  weft__tstate *self = weft__tstate_peek();
  void *vals[CLOSE_BATCH];
  pthread_mutex_lock(&L);
  atomic_store(&X->closed, 1);
  for (;;) {
    size_t n = sweep(X, vals);
    if (n > 0) {
      pthread_mutex_unlock(&L);
      close_dtors(X, vals, n, self);
      pthread_mutex_lock(&L);
      continue;
    }
    unsigned mine = self != NULL && self->lrunning == X;
    if (X->inflight <= mine)
      break;
    pthread_cond_wait(&Lcv, &L);
  }
  slot_release(X->slot);
  pthread_mutex_unlock(&L);
}

static void local_destroy(void *obj) { free(obj); }

/* ---- fork ---- */

void weft__local_atfork_prepare(void) { pthread_mutex_lock(&L); }

void weft__local_atfork_parent(void) { pthread_mutex_unlock(&L); }

void weft__local_atfork_child(weft__tstate *self) {
  /* Dead threads may have held their lmu or run an exit destructor. */
  for (weft__tstate *T = lhead; T != NULL; T = T->lnext)
    pthread_mutex_init(&T->lmu, NULL);
  for (uint32_t i = 0; i < ltab_used; i++)
    if (ltab[i] != NULL)
      ltab[i]->inflight = self != NULL && self->lrunning == ltab[i];
  weft__cond_init(&Lcv); /* not destroyed: its waiters are not here */
  pthread_mutex_unlock(&L);
}

static const weft__kind_ops local_ops = {
    .name = "local", .close = local_close, .destroy = local_destroy};

__attribute__((constructor)) static void local_register(void) {
  weft__kind_register(WEFT_KIND_LOCAL, &local_ops);
  weft__cond_init(&Lcv);
}
