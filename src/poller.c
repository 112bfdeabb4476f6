/* poller.c - select and pollers: weft_select_wait, the poller kind
 * (WEFT_KIND_POLLER, an epoll or a poll(2) backend), and the registration
 * lists of pollable handles (pollable.h).
 *
 * ---- registrations ----
 *
 * A poller keeps its registrations in slots: chunks of `reg` that are
 * never freed or moved while the poller lives, so a pointer to a slot, or
 * its index, stays valid for that long.  A slot's generation grows every
 * time it is freed; epoll's data.u64 for a registration is
 * gen << 32 | index, and a wait translates it back under the poller's
 * mutex, dropping an event whose slot is free or of another generation
 * now (unregistered, or its target closed, while epoll_wait ran).  Index
 * 0 is no registration: its data.u64 (0) is the poller's own eventfd.
 * A hash on the target's id (the handle, or -1 - fd for a raw
 * descriptor) finds a registration in O(1).
 *
 * A registration of a handle is on two lists: the poller's table (its
 * "P link": in_table, under the poller's mutex) and the target's
 * weft__pollable list (its "T link": link.linked, under the pollable's
 * mu).  Invariants:
 *
 *   I1  Outside the poller's mutex, link.linked implies in_table.
 *   I2  A slot is freed (under the poller's mutex) by whichever side
 *       removes the second of its two links: a poller-side removal
 *       (unregister, the poller's close) that finds the T link still
 *       there unlinks it and frees the slot; otherwise the target's close
 *       has taken the slot over and frees it.
 *   I3  While a slot is in_table its target is alive: the target's close
 *       (weft__pollable_close, which runs before the target can be
 *       destroyed) takes every one of its registrations out of the table
 *       before it returns.  So code holding the poller's mutex may read
 *       a registered target's pollable and lock its mu.
 *   I4  The poller's memory lives while `refs` > 0: one reference for the
 *       handle (dropped by destroy) and one for each registration a
 *       target's close has detached but not yet processed (taken under
 *       the pollable's mu while the T link is still there, which by I1
 *       and the close below means the poller is not yet freed).
 *   I5  After the poller's close no registration is in its table or on a
 *       target's list (except those a concurrent target close owns, which
 *       it frees under the poller's mutex and then unreferences).
 *
 * Lock order: poller mu, then pollable mu (pollable.h).  A target's close
 * detaches its whole list under its mu and only then takes each poller's
 * mutex in turn.  No lock is held across epoll_wait or poll(2).
 *
 * A blocked select_wait links a `selwait` record (on the same lists) into
 * each target it waits on, so that closing one wakes it (WEFT_ECLOSED);
 * the target's close handles those records entirely under its mu.
 *
 * ---- waits ----
 *
 * epoll: a waiter registers the poller's eventfd as its interrupt
 * descriptor (weft__intr_enter_fd) for the time of one epoll_wait.  The
 * eventfd is in the epoll set; whoever finds it readable drains it, unless
 * the poller is closed: close leaves it readable, so that every waiter
 * wakes and returns WEFT_ECLOSED.  An interrupt another waiter drained is
 * written again by weft__intr_raise until its thread wakes.
 *
 * poll(2): a waiter polls a snapshot of the registrations taken under the
 * mutex, through weft__poll_wait (its thread's wake descriptor is the
 * interrupt descriptor), and is listed as a waiter meanwhile: every change
 * of the registrations, and the close, writes to each waiter's wake
 * descriptor so that it takes a new snapshot.
 *
 * ---- fork ----
 *
 * The child's epoll descriptor is the parent's instance: the poller's
 * atfork_child op puts a new epoll instance and eventfd over the same
 * descriptor numbers and re-adds every registration.  It runs after the
 * Event and socket kinds' (handle.c runs the kinds in the order of their
 * numbers), so an Event's descriptor is the child's own by then.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "fdwait.h"
#include "handle.h"
#include "pollable.h"
#include "sig.h"

/* ---- the platform edge ---- */

#if defined(__linux__)
#define WEFT__HAVE_EPOLL 1
#include <sys/epoll.h>
_Static_assert(EPOLLIN == POLLIN && EPOLLPRI == POLLPRI &&
                   EPOLLOUT == POLLOUT && EPOLLERR == POLLERR &&
                   EPOLLHUP == POLLHUP && EPOLLRDHUP == POLLRDHUP,
               "epoll and poll bits agree");
#else
#define WEFT__HAVE_EPOLL 0
#define EPOLLET (1u << 31)
#define EPOLLONESHOT (1u << 30)
#endif
#ifndef POLLRDHUP
#define POLLRDHUP 0
#endif

#define READY_BITS                                                           \
  ((uint32_t)(POLLIN | POLLPRI | POLLOUT | POLLRDHUP | POLLERR | POLLHUP))
#define MODE_BITS ((uint32_t)EPOLLET | (uint32_t)EPOLLONESHOT)

/* poll(2) reports these whatever was asked. */
#define ALWAYS_BITS ((uint32_t)(POLLERR | POLLHUP | POLLNVAL))

/* ---- list links ---- */

enum { PREG_POLLER = 1, PREG_SELECT = 2 };

/* What a weft__pollable lists: the head of a poller's `reg` or of a
 * select_wait's `selwait`. */
struct weft__preg {
  struct weft__preg *prev, *next; /* under the pollable's mu */
  int linked;                     /* on the pollable's list (its mu) */
  int type;                       /* PREG_*: constant */
};

typedef struct pollerobj pollerobj;

/* A poller's registration slot (see the invariants above). */
typedef struct reg {
  struct weft__preg link; /* first: the T link */
  pollerobj *poller;      /* constant */
  /* Everything below is under the poller's mutex. */
  uint32_t index, gen;
  uint32_t hnext; /* next index in the hash chain, or in the free list */
  int used;       /* allocated (not on the free list) */
  int in_table;   /* the P link */
  int64_t id;     /* target handle, or -1 - fd */
  int fd;
  weft__pollable *target; /* NULL for a raw descriptor */
  uint32_t events;
  int64_t key;
  int fired;    /* epoll: EPOLLONESHOT reported, so disarmed in the kernel */
  int nokernel; /* epoll: not in the kernel's set (a fork child's) */
  /* poll(2) backend */
  uint32_t pidx;       /* position in pfds */
  uint32_t quiet;      /* EPOLLET emulation: bits reported, quiet now */
  unsigned rearm_seen; /* the target's rearm counter when they were */
  int disabled;        /* EPOLLONESHOT fired (or EPOLLET on a raw fd) */
} reg;

#define CHUNK_REGS 256u

typedef struct pwaiter {
  struct pwaiter *prev, *next;
  int wake_fd;
} pwaiter;

enum { BACKEND_EPOLL = 1, BACKEND_POLL = 2 };

struct pollerobj {
  pthread_mutex_t mu;
  int backend; /* constant */
  _Atomic int closed;
  _Atomic unsigned refs; /* I4 */
  int epfd, efd;         /* epoll backend */
  /* slots */
  reg **chunks;
  uint32_t nchunks, chunks_cap;
  uint32_t nslots;    /* slots handed out at least once (slot 0 too) */
  uint32_t free_head; /* free list through hnext; 0 = empty */
  /* hash: id -> index, chained through hnext */
  uint32_t *buckets;
  uint32_t nbuckets; /* a power of two, or 0 */
  uint32_t count;    /* registrations in the table */
  /* poll(2) backend: the registrations' descriptors, dense */
  struct pollfd *pfds;
  uint32_t *pslot; /* pfds[i] is slot pslot[i]'s */
  uint32_t npfd, pfd_cap;
  uint32_t rot; /* where the next report starts, for fairness */
  pwaiter *waiters;
};

/* ---- pollables ---- */

void weft__pollable_init(weft__pollable *p) {
  pthread_mutex_init(&p->mu, NULL);
  p->regs = NULL;
  p->closed = 0;
  atomic_init(&p->rearm, 0);
}

void weft__pollable_destroy(weft__pollable *p) {
  pthread_mutex_destroy(&p->mu);
}

static void plist_add(weft__pollable *p, struct weft__preg *l) {
  l->prev = NULL;
  l->next = p->regs;
  if (p->regs != NULL)
    p->regs->prev = l;
  p->regs = l;
  l->linked = 1;
}

static void plist_del(weft__pollable *p, struct weft__preg *l) {
  if (l->prev != NULL)
    l->prev->next = l->next;
  else
    p->regs = l->next;
  if (l->next != NULL)
    l->next->prev = l->prev;
  l->prev = l->next = NULL;
  l->linked = 0;
}

/* The select_wait records of threads of the parent are gone; the
 * registrations stay (the child's pollers keep them). */
void weft__pollable_atfork_child(weft__pollable *p) {
  pthread_mutex_init(&p->mu, NULL);
  struct weft__preg *l = p->regs;
  while (l != NULL) {
    struct weft__preg *next = l->next;
    if (l->type == PREG_SELECT)
      plist_del(p, l);
    l = next;
  }
}

weft_status weft__pollable_of(weft_handle h, void *obj, int kind,
                              weft__pollable **p, int *fd, const char *what) {
  if (kind == WEFT_KIND_SOCKET) {
    weft__socket_pollable(obj, p, fd);
    return 0;
  }
  if (kind == WEFT_KIND_EVENT) {
    weft_status st = weft__event_pollable(obj, p, fd);
    if (st < 0)
      return weft__error(st, -st, "%s: event %lld: no descriptor: %s", what,
                         (long long)h, strerror(-st));
    return 0;
  }
  return weft__error(WEFT_EBADHANDLE, 0, "%s: bad handle %lld (wrong kind)",
                     what, (long long)h);
}

/* ---- slots ---- */

static reg *slot_at(pollerobj *x, uint32_t index) {
  return &x->chunks[index / CHUNK_REGS][index % CHUNK_REGS];
}

static weft_status slot_alloc(pollerobj *x, reg **out) {
  if (x->free_head != 0) {
    reg *r = slot_at(x, x->free_head);
    x->free_head = r->hnext;
    r->used = 1;
    r->hnext = 0;
    *out = r;
    return 0;
  }
  if (x->nslots == UINT32_MAX)
    return -ENOSPC;
  if (x->nslots == x->nchunks * CHUNK_REGS) {
    if (x->nchunks == x->chunks_cap) {
      uint32_t cap = x->chunks_cap ? x->chunks_cap * 2 : 8;
      reg **c = realloc(x->chunks, cap * sizeof *c);
      if (c == NULL)
        return -ENOMEM;
      x->chunks = c;
      x->chunks_cap = cap;
    }
    reg *chunk = calloc(CHUNK_REGS, sizeof *chunk);
    if (chunk == NULL)
      return -ENOMEM;
    for (uint32_t i = 0; i < CHUNK_REGS; i++) {
      chunk[i].link.type = PREG_POLLER;
      chunk[i].poller = x;
      chunk[i].index = x->nchunks * CHUNK_REGS + i;
      chunk[i].gen = 1;
    }
    x->chunks[x->nchunks++] = chunk;
  }
  reg *r = slot_at(x, x->nslots++);
  r->used = 1;
  *out = r;
  return 0;
}

/* Give a slot back: its events translate to nothing from now on. */
static void slot_free(pollerobj *x, reg *r) {
  r->used = 0;
  r->in_table = 0;
  r->target = NULL;
  r->gen = r->gen + 1 != 0 ? r->gen + 1 : 1;
  r->hnext = x->free_head;
  x->free_head = r->index;
}

/* The registration an event names, if it is still that one. */
static reg *slot_lookup(pollerobj *x, uint32_t index, uint32_t gen) {
  if (index == 0 || index >= x->nslots)
    return NULL;
  reg *r = slot_at(x, index);
  return r->used && r->in_table && r->gen == gen ? r : NULL;
}

/* ---- the hash ---- */

static uint32_t hash_id(int64_t id, uint32_t nbuckets) {
  uint64_t z = (uint64_t)id + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (uint32_t)(z ^ (z >> 31)) & (nbuckets - 1);
}

static reg *hash_find(pollerobj *x, int64_t id) {
  if (x->nbuckets == 0)
    return NULL;
  for (uint32_t i = x->buckets[hash_id(id, x->nbuckets)]; i != 0;) {
    reg *r = slot_at(x, i);
    if (r->id == id)
      return r;
    i = r->hnext;
  }
  return NULL;
}

/* Room for one more entry (so that an insert cannot fail). */
static weft_status hash_reserve(pollerobj *x) {
  if (x->count < x->nbuckets)
    return 0;
  uint32_t nb = x->nbuckets ? x->nbuckets * 2 : 64;
  if (nb == 0)
    return -ENOSPC;
  uint32_t *b = calloc(nb, sizeof *b);
  if (b == NULL)
    return -ENOMEM;
  for (uint32_t i = 1; i < x->nslots; i++) {
    reg *r = slot_at(x, i);
    if (r->used && r->in_table) {
      uint32_t h = hash_id(r->id, nb);
      r->hnext = b[h];
      b[h] = i;
    }
  }
  free(x->buckets);
  x->buckets = b;
  x->nbuckets = nb;
  return 0;
}

static void hash_insert(pollerobj *x, reg *r) {
  uint32_t h = hash_id(r->id, x->nbuckets);
  r->hnext = x->buckets[h];
  x->buckets[h] = r->index;
  x->count++;
}

static void hash_remove(pollerobj *x, reg *r) {
  uint32_t *pi = &x->buckets[hash_id(r->id, x->nbuckets)];
  while (*pi != r->index)
    pi = &slot_at(x, *pi)->hnext;
  *pi = r->hnext;
  r->hnext = 0;
  x->count--;
}

/* ---- the poll(2) backend's registration array and waiters ---- */

static void wake_waiters(pollerobj *x) {
  for (pwaiter *w = x->waiters; w != NULL; w = w->next)
    weft__eventfd_raise(w->wake_fd);
}

static weft_status pfd_reserve(pollerobj *x) {
  if (x->npfd < x->pfd_cap)
    return 0;
  uint32_t cap = x->pfd_cap ? x->pfd_cap * 2 : 16;
  struct pollfd *p = realloc(x->pfds, cap * sizeof *p);
  if (p == NULL)
    return -ENOMEM;
  x->pfds = p;
  uint32_t *s = realloc(x->pslot, cap * sizeof *s);
  if (s == NULL)
    return -ENOMEM;
  x->pslot = s;
  x->pfd_cap = cap;
  return 0;
}

static void pfd_add(pollerobj *x, reg *r) {
  r->pidx = x->npfd++;
  x->pfds[r->pidx].fd = r->fd;
  x->pfds[r->pidx].events = (short)(r->events & READY_BITS);
  x->pslot[r->pidx] = r->index;
}

static void pfd_remove(pollerobj *x, reg *r) {
  uint32_t last = --x->npfd;
  if (r->pidx != last) {
    x->pfds[r->pidx] = x->pfds[last];
    x->pslot[r->pidx] = x->pslot[last];
    slot_at(x, x->pslot[last])->pidx = r->pidx;
  }
}

/* A fresh start for the EPOLLET / EPOLLONESHOT emulation. */
static void reg_rearm(reg *r) {
  r->quiet = 0;
  r->disabled = 0;
  r->rearm_seen =
      r->target != NULL
          ? atomic_load_explicit(&r->target->rearm, memory_order_relaxed)
          : 0;
}

/* ---- the kernel side of a registration ---- */

#if WEFT__HAVE_EPOLL
static int epoll_op(pollerobj *x, int op, reg *r) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = r->events;
  ev.data.u64 = (uint64_t)r->gen << 32 | r->index;
  return epoll_ctl(x->epfd, op, r->fd, &ev) < 0 ? -errno : 0;
}
#endif

/* Put r (in_table already) in the backend's set: 0 or -errno. */
static int backend_add(pollerobj *x, reg *r) {
#if WEFT__HAVE_EPOLL
  if (x->backend == BACKEND_EPOLL) {
    r->fired = r->nokernel = 0;
    return epoll_op(x, EPOLL_CTL_ADD, r);
  }
#endif
  pfd_add(x, r);
  reg_rearm(r);
  wake_waiters(x);
  return 0;
}

static int backend_mod(pollerobj *x, reg *r) {
#if WEFT__HAVE_EPOLL
  if (x->backend == BACKEND_EPOLL) {
    int e = epoll_op(x, r->nokernel ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, r);
    if (e == 0)
      r->fired = r->nokernel = 0;
    return e;
  }
#endif
  x->pfds[r->pidx].events = (short)(r->events & READY_BITS);
  reg_rearm(r);
  wake_waiters(x);
  return 0;
}

/* Take r out of the backend's set (the descriptor is open; errors from a
 * raw descriptor the caller closed already are ignored). */
static void backend_del(pollerobj *x, reg *r) {
#if WEFT__HAVE_EPOLL
  if (x->backend == BACKEND_EPOLL) {
    if (!r->nokernel) {
      struct epoll_event ev;
      memset(&ev, 0, sizeof ev);
      epoll_ctl(x->epfd, EPOLL_CTL_DEL, r->fd, &ev);
    }
    return;
  }
#endif
  pfd_remove(x, r);
  wake_waiters(x);
}

/* Poller side: take r out of the table and the backend (poller mu held);
 * unlink it from its target and free it unless the target's close owns
 * it now (I2). */
static void reg_drop(pollerobj *x, reg *r, int kernel) {
  if (r->in_table) {
    hash_remove(x, r);
    if (kernel)
      backend_del(x, r);
    r->in_table = 0;
  }
  weft__pollable *p = r->target;
  if (p == NULL) {
    slot_free(x, r);
    return;
  }
  pthread_mutex_lock(&p->mu);
  int mine = r->link.linked;
  if (mine)
    plist_del(p, &r->link);
  pthread_mutex_unlock(&p->mu);
  if (mine)
    slot_free(x, r);
}

/* ---- the poller's lifetime ---- */

static void poller_free(pollerobj *x) {
  if (x->epfd >= 0)
    close(x->epfd);
  if (x->efd >= 0)
    close(x->efd);
  for (uint32_t i = 0; i < x->nchunks; i++)
    free(x->chunks[i]);
  free(x->chunks);
  free(x->buckets);
  free(x->pfds);
  free(x->pslot);
  pthread_mutex_destroy(&x->mu);
  free(x);
}

static void poller_unref(pollerobj *x) {
  if (atomic_fetch_sub_explicit(&x->refs, 1, memory_order_acq_rel) == 1)
    poller_free(x);
}

/* A blocked select_wait's record on one target's list. */
typedef struct selwait {
  struct weft__preg link; /* first */
  weft__pollable *p;
  int wake_fd;
  _Atomic int *closed;
} selwait;

/* The target side (pollable.h): refuse new registrations, wake the
 * select_waits, and take every registration out of its poller while the
 * descriptor is still open. */
void weft__pollable_close(weft__pollable *p) {
  pthread_mutex_lock(&p->mu);
  p->closed = 1;
  reg *mine = NULL; /* detached registrations, through link.next */
  struct weft__preg *l = p->regs;
  p->regs = NULL;
  while (l != NULL) {
    struct weft__preg *next = l->next;
    l->linked = 0;
    l->prev = l->next = NULL;
    if (l->type == PREG_SELECT) {
      selwait *w = (selwait *)l;
      atomic_store(w->closed, 1);
      weft__eventfd_raise(w->wake_fd);
    } else {
      reg *r = (reg *)l;
      atomic_fetch_add_explicit(&r->poller->refs, 1, memory_order_relaxed);
      r->link.next = mine != NULL ? &mine->link : NULL;
      mine = r;
    }
    l = next;
  }
  pthread_mutex_unlock(&p->mu);

  while (mine != NULL) {
    reg *r = mine;
    mine = (reg *)r->link.next; /* read before r can be reused */
    pollerobj *x = r->poller;
    pthread_mutex_lock(&x->mu);
    if (r->in_table) {
      hash_remove(x, r);
      backend_del(x, r);
      r->in_table = 0;
    }
    r->link.next = NULL;
    slot_free(x, r);
    pthread_mutex_unlock(&x->mu);
    poller_unref(x);
  }
}

static void poller_close(void *obj) {
  pollerobj *x = obj;
  pthread_mutex_lock(&x->mu);
  atomic_store(&x->closed, 1);
  for (uint32_t i = 1; i < x->nslots; i++) {
    reg *r = slot_at(x, i);
    if (r->used && r->in_table)
      reg_drop(x, r, 0);
  }
  x->npfd = 0;
  if (x->efd >= 0)
    weft__eventfd_raise(x->efd); /* stays readable: every waiter wakes */
  wake_waiters(x);
  pthread_mutex_unlock(&x->mu);
}

static void poller_destroy(void *obj) { poller_unref(obj); }

static void poller_atfork_child(void *obj) {
  pollerobj *x = obj;
  pthread_mutex_init(&x->mu, NULL);
  x->waiters = NULL;         /* threads of the parent */
  atomic_store(&x->refs, 1); /* closes of the parent's threads */
#if WEFT__HAVE_EPOLL
  if (x->backend != BACKEND_EPOLL)
    return;
  /* New instances over the old numbers, which were the parent's. */
  int ep = epoll_create1(EPOLL_CLOEXEC);
  int ev =
      eventfd(atomic_load(&x->closed) ? 1 : 0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (ep < 0 || ev < 0 || dup3(ep, x->epfd, O_CLOEXEC) < 0 ||
      dup3(ev, x->efd, O_CLOEXEC) < 0) {
    /* Better a poller that fails (EBADF) than one that steals the
     * parent's events. */
    close(x->epfd);
    close(x->efd);
    x->epfd = x->efd = -1;
  }
  if (ep >= 0)
    close(ep);
  if (ev >= 0)
    close(ev);
  if (x->epfd < 0)
    return;
  struct epoll_event e;
  memset(&e, 0, sizeof e);
  e.events = EPOLLIN;
  e.data.u64 = 0;
  epoll_ctl(x->epfd, EPOLL_CTL_ADD, x->efd, &e);
  for (uint32_t i = 1; i < x->nslots; i++) {
    reg *r = slot_at(x, i);
    if (r->used && r->in_table)
      r->nokernel = r->nokernel || r->fired ||
                    epoll_op(x, EPOLL_CTL_ADD, r) < 0; /* modify adds it */
  }
#endif
}

static const weft__kind_ops poller_ops = {.name = "poller",
                                          .close = poller_close,
                                          .destroy = poller_destroy,
                                          .atfork_child =
                                              poller_atfork_child};

__attribute__((constructor)) static void poller_register_kind(void) {
  weft__kind_register(WEFT_KIND_POLLER, &poller_ops);
}

WEFT_API weft_status weft_poller_new(int flags, weft_handle *out) {
  WEFT__CHECK_PTR(out, "poller_new");
  if (flags & ~WEFT_POLLER_POLL)
    return weft__error(WEFT_EVALUE, 0, "poller_new: unknown flags %#x",
                       (unsigned)flags);
  pollerobj *x = calloc(1, sizeof *x);
  if (x == NULL)
    return weft__errno(ENOMEM, "poller_new");
  pthread_mutex_init(&x->mu, NULL);
  atomic_init(&x->closed, 0);
  atomic_init(&x->refs, 1);
  x->epfd = x->efd = -1;
  x->nslots = 0;
  x->backend = BACKEND_POLL;
#if WEFT__HAVE_EPOLL
  if (!(flags & WEFT_POLLER_POLL))
    x->backend = BACKEND_EPOLL;
#endif
  reg *zero;
  weft_status st = slot_alloc(x, &zero); /* index 0: no registration */
  if (st < 0) {
    poller_free(x);
    return weft__errno(-st, "poller_new");
  }
#if WEFT__HAVE_EPOLL
  if (x->backend == BACKEND_EPOLL) {
    x->epfd = epoll_create1(EPOLL_CLOEXEC);
    x->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    struct epoll_event e;
    memset(&e, 0, sizeof e);
    e.events = EPOLLIN;
    e.data.u64 = 0;
    if (x->epfd < 0 || x->efd < 0 ||
        epoll_ctl(x->epfd, EPOLL_CTL_ADD, x->efd, &e) < 0) {
      int err = errno;
      poller_free(x);
      return weft__errno(err, "poller_new");
    }
  }
#endif
  st = weft__handle_new(WEFT_KIND_POLLER, x, out);
  if (st < 0)
    poller_free(x);
  return st;
}

/* ---- registering ---- */

static weft_status check_events(uint32_t events, const char *what) {
  if (events & ~(READY_BITS | MODE_BITS))
    return weft__error(WEFT_EVALUE, 0, "%s: unknown event bits %#x", what,
                       (unsigned)(events & ~(READY_BITS | MODE_BITS)));
  return 0;
}

/* A registration's target: a pinned handle, or a raw descriptor. */
typedef struct target {
  weft_handle h; /* 0 for a raw descriptor */
  int64_t id;
  int fd;
  weft__pollable *p;
} target;

static weft_status target_pin(weft_handle h, target *t, const char *what) {
  int kind;
  void *obj = weft__handle_pin_any(h, WEFT__POLLABLE_KINDS, &kind, what);
  if (obj == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = weft__pollable_of(h, obj, kind, &t->p, &t->fd, what);
  if (st < 0) {
    weft__handle_unpin(h);
    return st;
  }
  t->h = h;
  t->id = h;
  return 0;
}

static weft_status target_fd(int fd, target *t, const char *what) {
  if (fd < 0)
    return weft__error(-EBADF, EBADF, "%s: bad descriptor %d", what, fd);
  t->h = 0;
  t->id = -1 - (int64_t)fd;
  t->fd = fd;
  t->p = NULL;
  return 0;
}

static const char *target_text(const target *t, char *buf, size_t cap) {
  if (t->h != 0)
    snprintf(buf, cap, "handle %lld", (long long)t->h);
  else
    snprintf(buf, cap, "descriptor %d", t->fd);
  return buf;
}

static weft_status do_register(pollerobj *x, const target *t, uint32_t events,
                               int64_t key, const char *what) {
  char tb[48];
  if (atomic_load(&x->closed))
    return weft__error(WEFT_ECLOSED, 0, "%s: the poller was closed", what);
  if (hash_find(x, t->id) != NULL)
    return weft__error(-EEXIST, EEXIST, "%s: %s is registered already", what,
                       target_text(t, tb, sizeof tb));
  /* epoll checks the descriptor itself */
  if (x->backend == BACKEND_POLL && t->p == NULL && fcntl(t->fd, F_GETFD) < 0)
    return weft__errno(errno, what);
  weft_status st = hash_reserve(x);
  if (st == 0 && x->backend == BACKEND_POLL)
    st = pfd_reserve(x);
  reg *r = NULL;
  if (st == 0)
    st = slot_alloc(x, &r);
  if (st < 0)
    return weft__errno(-st, what);
  r->id = t->id;
  r->fd = t->fd;
  r->events = events;
  r->key = key;
  r->target = t->p;
  if (t->p != NULL) {
    pthread_mutex_lock(&t->p->mu);
    int closed = t->p->closed;
    if (!closed)
      plist_add(t->p, &r->link);
    pthread_mutex_unlock(&t->p->mu);
    if (closed) {
      r->target = NULL;
      slot_free(x, r);
      return weft__error(WEFT_EBADHANDLE, 0, "%s: bad handle %lld (closed)",
                         what, (long long)t->h);
    }
  }
  r->in_table = 1;
  hash_insert(x, r);
  int e = backend_add(x, r);
  if (e < 0) {
    reg_drop(x, r, 0);
    return weft__errno(-e, what);
  }
  return 0;
}

static weft_status do_modify(pollerobj *x, const target *t, uint32_t events,
                             int64_t key, const char *what) {
  char tb[48];
  reg *r = hash_find(x, t->id);
  if (r == NULL)
    return weft__error(-ENOENT, ENOENT, "%s: %s is not registered", what,
                       target_text(t, tb, sizeof tb));
  uint32_t old_events = r->events;
  r->events = events;
  int e = backend_mod(x, r);
  if (e < 0) {
    r->events = old_events;
    return weft__errno(-e, what);
  }
  r->key = key;
  return 0;
}

static weft_status do_unregister(pollerobj *x, const target *t,
                                 const char *what) {
  char tb[48];
  reg *r = hash_find(x, t->id);
  if (r == NULL)
    return weft__error(-ENOENT, ENOENT, "%s: %s is not registered", what,
                       target_text(t, tb, sizeof tb));
  reg_drop(x, r, 1);
  return 0;
}

enum { OP_REGISTER, OP_MODIFY, OP_UNREGISTER };

static weft_status poller_op(weft_handle poller, int op, const target *t,
                             uint32_t events, int64_t key, const char *what) {
  pollerobj *x = weft__handle_pin(poller, WEFT_KIND_POLLER, what);
  if (x == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&x->mu);
  weft_status st;
  switch (op) {
  case OP_REGISTER:
    st = do_register(x, t, events, key, what);
    break;
  case OP_MODIFY:
    st = do_modify(x, t, events, key, what);
    break;
  default:
    st = do_unregister(x, t, what);
    break;
  }
  pthread_mutex_unlock(&x->mu);
  weft__handle_unpin(poller);
  return st;
}

static weft_status handle_op(weft_handle poller, weft_handle h, int op,
                             uint32_t events, int64_t key, const char *what) {
  if (op != OP_UNREGISTER) {
    weft_status st = check_events(events, what);
    if (st < 0)
      return st;
  }
  target t;
  weft_status st = target_pin(h, &t, what);
  if (st < 0)
    return st;
  st = poller_op(poller, op, &t, events, key, what);
  weft__handle_unpin(h);
  return st;
}

static weft_status fd_op(weft_handle poller, int fd, int op, uint32_t events,
                         int64_t key, const char *what) {
  if (op != OP_UNREGISTER) {
    weft_status st = check_events(events, what);
    if (st < 0)
      return st;
  }
  target t;
  weft_status st = target_fd(fd, &t, what);
  if (st < 0)
    return st;
  return poller_op(poller, op, &t, events, key, what);
}

WEFT_API weft_status weft_poller_register(weft_handle poller,
                                          weft_handle target_h,
                                          uint32_t events, int64_t key) {
  return handle_op(poller, target_h, OP_REGISTER, events, key,
                   "poller_register");
}

WEFT_API weft_status weft_poller_modify(weft_handle poller,
                                        weft_handle target_h, uint32_t events,
                                        int64_t key) {
  return handle_op(poller, target_h, OP_MODIFY, events, key, "poller_modify");
}

WEFT_API weft_status weft_poller_unregister(weft_handle poller,
                                            weft_handle target_h) {
  return handle_op(poller, target_h, OP_UNREGISTER, 0, 0,
                   "poller_unregister");
}

WEFT_API weft_status weft_poller_register_fd(weft_handle poller, int fd,
                                             uint32_t events, int64_t key) {
  return fd_op(poller, fd, OP_REGISTER, events, key, "poller_register_fd");
}

WEFT_API weft_status weft_poller_modify_fd(weft_handle poller, int fd,
                                           uint32_t events, int64_t key) {
  return fd_op(poller, fd, OP_MODIFY, events, key, "poller_modify_fd");
}

WEFT_API weft_status weft_poller_unregister_fd(weft_handle poller, int fd) {
  return fd_op(poller, fd, OP_UNREGISTER, 0, 0, "poller_unregister_fd");
}

/* ---- waiting ---- */

typedef struct outs {
  int64_t *keys;
  uint32_t *events;
  size_t cap, n;
} outs;

/* How often a poll(2) waiter re-checks quiet EPOLLET registrations, whose
 * target's rearm counter may change without telling the poller. */
#define QUIET_RECHECK_NS 10000000L

#if WEFT__HAVE_EPOLL
/* Translate what epoll_wait gave (poller mu held).  Returns WEFT_ECLOSED
 * when the poller was closed. */
static weft_status epoll_translate(pollerobj *x, struct epoll_event *evs,
                                   int nev, outs *o) {
  if (atomic_load(&x->closed))
    return WEFT_ECLOSED;
  for (int i = 0; i < nev; i++) {
    uint64_t d = evs[i].data.u64;
    if (d == 0) {
      weft__eventfd_drain(x->efd); /* an interrupt: its thread re-checks */
      continue;
    }
    reg *r = slot_lookup(x, (uint32_t)d, (uint32_t)(d >> 32));
    if (r == NULL || o->n == o->cap)
      continue; /* gone meanwhile */
    if (r->events & EPOLLONESHOT)
      r->fired = 1; /* the kernel disarmed it: a fork child leaves it out */
    o->keys[o->n] = r->key;
    o->events[o->n] = evs[i].events;
    o->n++;
  }
  return 0;
}

/* One epoll_wait: first without blocking (so that what is ready is
 * reported and a pending interrupt left for the next wait), then until
 * the deadline. */
static weft_status epoll_wait_loop(pollerobj *x, const weft__deadline *d,
                                   double timeout, outs *o,
                                   struct epoll_event *evs, int maxev) {
  for (int first = 1;; first = 0) {
    if (atomic_load(&x->closed))
      return WEFT_ECLOSED;
    if (x->epfd < 0)
      return weft__errno(EBADF, "poller_poll");
    int ms = 0;
    weft__intr *in = NULL;
    if (!first) {
      if (d->forever) {
        ms = -1;
      } else {
        struct timespec rel;
        weft__deadline_left(d, &rel);
        long long t = (long long)rel.tv_sec * 1000 +
                      (rel.tv_nsec + 999999) / 1000000; /* round up */
        ms = t > INT_MAX ? INT_MAX : (int)t;
      }
      in = weft__intr_self();
      if (atomic_load_explicit(&weft__signal_active, memory_order_relaxed)) {
        int s = weft__signal_in_wait(NULL);
        if (s < 0)
          return weft__interrupted("poller_poll");
        if (s > 0)
          continue; /* handlers ran: wait again with the time left */
        if (in == NULL && weft__signal_runner_here() &&
            weft__intr_self_unmade())
          in = weft__intr_self_make();
      }
      if (in != NULL) {
        int e = weft__intr_enter_fd(in, x->efd);
        if (e < 0)
          return weft__interrupted("poller_poll");
        if (e > 0)
          continue; /* kicked: re-check */
      }
    }
    int r = epoll_wait(x->epfd, evs, maxev, ms);
    int err = errno;
    if (in != NULL)
      weft__intr_leave(in);
    if (r < 0 && err == EINTR && weft__signal_eintr() < 0)
      return weft__interrupted("poller_poll");
    if (r < 0 && err != EINTR)
      return weft__errno(err, "poller_poll");
    if (r > 0) {
      pthread_mutex_lock(&x->mu);
      weft_status st = epoll_translate(x, evs, r, o);
      pthread_mutex_unlock(&x->mu);
      if (st < 0)
        return weft__error(st, 0, "poller_poll: the poller was closed");
      if (o->n > 0)
        return 0;
    }
    if (timeout == 0 || (!first && weft__deadline_expired(d)))
      return weft__error(-ETIMEDOUT, ETIMEDOUT,
                         "poller_poll: timed out after %gs", timeout);
  }
}

/* Never more events from the kernel than cap: an edge-triggered or
 * one-shot event taken and not reported would be lost. */
#define EPOLL_STACK 64
#define EPOLL_MAX 1024

static weft_status epoll_poll(pollerobj *x, const weft__deadline *d,
                              double timeout, outs *o) {
  struct epoll_event stack[EPOLL_STACK], *evs = stack;
  size_t maxev = o->cap < EPOLL_MAX ? o->cap : EPOLL_MAX;
  if (maxev > EPOLL_STACK) {
    evs = malloc(maxev * sizeof *evs);
    if (evs == NULL) {
      evs = stack;
      maxev = EPOLL_STACK;
    }
  }
  weft_status st = epoll_wait_loop(x, d, timeout, o, evs, (int)maxev);
  if (evs != stack)
    free(evs);
  return st;
}
#endif

/* The events a poll(2) snapshot asks of r, or -1 to leave it out (poller
 * mu held); *quiet is set if r is quiet under the EPOLLET emulation. */
static int pollb_events(reg *r, int *quiet) {
  if (r->disabled)
    return -1;
  uint32_t ev = r->events & READY_BITS;
  if (r->target != NULL && (r->events & EPOLLET) &&
      !(r->events & EPOLLONESHOT) && r->quiet != 0) {
    unsigned now =
        atomic_load_explicit(&r->target->rearm, memory_order_relaxed);
    if (now != r->rearm_seen) {
      r->quiet = 0;
    } else {
      *quiet = 1;
      if (r->quiet & (POLLERR | POLLHUP))
        return -1; /* poll(2) would report them again and again */
      ev &= ~r->quiet;
    }
  }
  return (int)ev;
}

/* What r reports of revents, updating the emulation (poller mu held). */
static uint32_t pollb_report(reg *r, uint32_t revents) {
  if (r->disabled)
    return 0;
  uint32_t bits = revents & ((r->events & READY_BITS) | ALWAYS_BITS);
  int et = (r->events & EPOLLET) && !(r->events & EPOLLONESHOT);
  if (et && r->target != NULL) {
    unsigned now =
        atomic_load_explicit(&r->target->rearm, memory_order_relaxed);
    if (now != r->rearm_seen)
      r->quiet = 0;
    bits &= ~r->quiet;
    if (bits != 0) {
      r->quiet |= bits;
      r->rearm_seen = now;
    }
  } else if (bits != 0 && (et || (r->events & EPOLLONESHOT))) {
    r->disabled = 1; /* EPOLLET on a raw descriptor is EPOLLONESHOT */
  }
  return bits;
}

typedef struct snapshot {
  struct pollfd *fds; /* n + 1: weft__poll_wait's slot */
  uint32_t *idx, *gen;
  uint32_t n, cap;
} snapshot;

static weft_status snapshot_take(pollerobj *x, snapshot *s, int *quiet) {
  if (x->npfd + 1 > s->cap) {
    uint32_t cap = x->npfd + 1 + 16;
    struct pollfd *f = realloc(s->fds, cap * sizeof *f);
    if (f == NULL)
      return -ENOMEM;
    s->fds = f;
    uint32_t *i = realloc(s->idx, cap * sizeof *i);
    if (i == NULL)
      return -ENOMEM;
    s->idx = i;
    uint32_t *g = realloc(s->gen, cap * sizeof *g);
    if (g == NULL)
      return -ENOMEM;
    s->gen = g;
    s->cap = cap;
  }
  *quiet = 0;
  s->n = x->npfd;
  if (x->npfd > 0)
    memcpy(s->fds, x->pfds, x->npfd * sizeof *s->fds);
  for (uint32_t i = 0; i < x->npfd; i++) {
    reg *r = slot_at(x, x->pslot[i]);
    if (r->events & MODE_BITS) { /* the emulation may hold bits back */
      int ev = pollb_events(r, quiet);
      s->fds[i].fd = ev < 0 ? -1 : r->fd;
      s->fds[i].events = (short)(ev < 0 ? 0 : ev);
    }
    s->fds[i].revents = 0;
    s->idx[i] = r->index;
    s->gen[i] = r->gen;
  }
  return 0;
}

static void snapshot_translate(pollerobj *x, snapshot *s, outs *o) {
  uint32_t n = s->n, start = n ? x->rot % n : 0, last = start;
  for (uint32_t j = 0; j < n && o->n < o->cap; j++) {
    uint32_t k = (start + j) % n;
    if (s->fds[k].fd < 0 || s->fds[k].revents == 0)
      continue;
    reg *r = slot_lookup(x, s->idx[k], s->gen[k]);
    if (r == NULL)
      continue;
    uint32_t bits = pollb_report(r, (uint16_t)s->fds[k].revents);
    if (bits == 0)
      continue;
    o->keys[o->n] = r->key;
    o->events[o->n] = bits;
    o->n++;
    last = k + 1;
  }
  x->rot = last;
}

static weft_status pollb_poll(pollerobj *x, const weft__deadline *d,
                              double timeout, outs *o) {
  snapshot s = {NULL, NULL, NULL, 0, 0};
  pwaiter w = {NULL, NULL, -1};
  weft_status st = 0;
  for (int first = 1;; first = 0) {
    if (!first && w.wake_fd < 0) {
      w.wake_fd = weft__wake_fd();
      if (w.wake_fd < 0) {
        st = weft__errno(-w.wake_fd, "poller_poll");
        break;
      }
    }
    int quiet = 0;
    pthread_mutex_lock(&x->mu);
    if (atomic_load(&x->closed)) {
      pthread_mutex_unlock(&x->mu);
      st = weft__error(WEFT_ECLOSED, 0, "poller_poll: the poller was closed");
      break;
    }
    int e = snapshot_take(x, &s, &quiet);
    if (e == 0 && !first) { /* a waiter: changes and the close wake it */
      w.prev = NULL;
      w.next = x->waiters;
      if (x->waiters != NULL)
        x->waiters->prev = &w;
      x->waiters = &w;
    }
    pthread_mutex_unlock(&x->mu);
    if (e < 0) {
      st = weft__errno(-e, "poller_poll");
      break;
    }

    int r;
    if (first) {
      do
        r = poll(s.fds, s.n, 0);
      while (r < 0 && errno == EINTR);
      r = r < 0 ? -errno : r;
    } else {
      /* Quiet EPOLLET registrations are re-checked every so often. */
      weft__deadline dd = *d;
      if (quiet) {
        weft__deadline soon;
        weft__now(&soon.at);
        soon.forever = 0;
        soon.at.tv_nsec += QUIET_RECHECK_NS;
        if (soon.at.tv_nsec >= 1000000000L) {
          soon.at.tv_sec++;
          soon.at.tv_nsec -= 1000000000L;
        }
        if (dd.forever || soon.at.tv_sec < dd.at.tv_sec ||
            (soon.at.tv_sec == dd.at.tv_sec &&
             soon.at.tv_nsec < dd.at.tv_nsec))
          dd = soon;
      }
      r = weft__poll_wait(s.fds, s.n, &dd);
    }

    pthread_mutex_lock(&x->mu);
    if (!first) {
      if (w.prev != NULL)
        w.prev->next = w.next;
      else
        x->waiters = w.next;
      if (w.next != NULL)
        w.next->prev = w.prev;
    }
    int closed = atomic_load(&x->closed);
    if (!closed && r > 0)
      snapshot_translate(x, &s, o);
    pthread_mutex_unlock(&x->mu);

    if (closed) {
      st = weft__error(WEFT_ECLOSED, 0, "poller_poll: the poller was closed");
      break;
    }
    if (o->n > 0)
      break;
    if (r == -EINTR) {
      st = weft__interrupted("poller_poll");
      break;
    }
    if (r < 0 && r != -ETIMEDOUT) {
      st = weft__errno(-r, "poller_poll");
      break;
    }
    if (timeout == 0 || (!first && weft__deadline_expired(d))) {
      st = weft__error(-ETIMEDOUT, ETIMEDOUT,
                       "poller_poll: timed out after %gs", timeout);
      break;
    }
  }
  free(s.fds);
  free(s.idx);
  free(s.gen);
  return st;
}

WEFT_API weft_status weft_poller_fileno(weft_handle poller, int *fd) {
  WEFT__CHECK_PTR(fd, "poller_fileno");
  pollerobj *p = weft__handle_pin(poller, WEFT_KIND_POLLER, "poller_fileno");
  if (p == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = 0;
  if (p->backend == BACKEND_EPOLL)
    *fd = p->epfd;
  else
    st = weft__error(WEFT_ENOTSUP, 0,
                     "poller_fileno: the poll(2) backend has no descriptor");
  weft__handle_unpin(poller);
  return st;
}

WEFT_API weft_status weft_poller_poll(weft_handle poller, double timeout,
                                      int64_t *keys, uint32_t *events,
                                      size_t cap, size_t *n) {
  WEFT__CHECK_PTR(n, "poller_poll");
  *n = 0;
  WEFT__CHECK_PTR(keys, "poller_poll");
  WEFT__CHECK_PTR(events, "poller_poll");
  if (cap == 0)
    return weft__error(WEFT_EVALUE, 0, "poller_poll: cap must be >= 1");
  weft__deadline d;
  weft_status st = weft__deadline_init(&d, timeout, "poller_poll");
  if (st < 0)
    return st;
  pollerobj *x = weft__handle_pin(poller, WEFT_KIND_POLLER, "poller_poll");
  if (x == NULL)
    return WEFT__PIN_FAILED;
  outs o = {keys, events, cap, 0};
#if WEFT__HAVE_EPOLL
  if (x->backend == BACKEND_EPOLL)
    st = epoll_poll(x, &d, timeout, &o);
  else
#endif
    st = pollb_poll(x, &d, timeout, &o);
  weft__handle_unpin(poller);
  *n = o.n;
  return st;
}

/* ---- select ---- */

/* Ready for reading, writing, exceptional, as select(2) counts them. */
static const short want_bits[3] = {POLLIN, POLLOUT, POLLPRI};
static const short ready_bits[3] = {POLLIN | POLLHUP | POLLERR,
                                    POLLOUT | POLLERR, POLLPRI};

#define SELECT_STACK 32

/* One select_wait: the three lists and, per occurrence k (the lists one
 * after the other), its pollfd and its record for the target's list. */
typedef struct selcall {
  weft_handle *lists[3];
  size_t counts[3], total;
  struct pollfd *fds; /* total + 1: weft__poll_wait's slot */
  selwait *sw;
  _Atomic int closed; /* a target was closed while we waited */
} selcall;

/* Pin every occurrence in order; on a failure unpin those before it. */
static weft_status select_pin(selcall *c) {
  size_t k = 0;
  for (int l = 0; l < 3; l++)
    for (size_t i = 0; i < c->counts[l]; i++, k++) {
      weft_handle h = c->lists[l][i];
      int kind;
      void *obj =
          weft__handle_pin_any(h, WEFT__POLLABLE_KINDS, &kind, "select_wait");
      weft_status st =
          obj == NULL
              ? WEFT__PIN_FAILED
              : weft__pollable_of(h, obj, kind, &c->sw[k].p, &c->fds[k].fd,
                                  "select_wait");
      if (st < 0) {
        if (obj != NULL)
          weft__handle_unpin(h);
        size_t j = 0;
        for (int m = 0; m < 3 && j < k; m++)
          for (size_t n = 0; n < c->counts[m] && j < k; n++, j++)
            weft__handle_unpin(c->lists[m][n]);
        return st;
      }
      c->fds[k].events = want_bits[l];
      c->fds[k].revents = 0;
    }
  return 0;
}

static void select_unpin(selcall *c) {
  for (int l = 0; l < 3; l++)
    for (size_t i = 0; i < c->counts[l]; i++)
      weft__handle_unpin(c->lists[l][i]);
}

/* 1 if an occurrence is ready.  One with revents its list does not count
 * (POLLHUP for a write, POLLERR for an exceptional wait) would come back
 * at once from every poll: it is left out of the rest of the wait. */
static int select_scan(selcall *c) {
  int ready = 0;
  size_t k = 0;
  for (int l = 0; l < 3; l++)
    for (size_t i = 0; i < c->counts[l]; i++, k++) {
      if (c->fds[k].revents & ready_bits[l])
        ready = 1;
      else if (c->fds[k].revents != 0)
        c->fds[k].fd = -1;
    }
  return ready;
}

/* Block until an occurrence is ready: 1, or -ETIMEDOUT, -EINTR, -errno;
 * 0 when a target was closed (c->closed).  Each target lists our record
 * meanwhile, so that its close wakes us. */
static int select_block(selcall *c, const weft__deadline *d) {
  int wfd = weft__wake_fd();
  if (wfd < 0)
    return wfd;
  for (size_t k = 0; k < c->total; k++) {
    selwait *w = &c->sw[k];
    w->link.type = PREG_SELECT;
    w->link.linked = 0;
    w->wake_fd = wfd;
    w->closed = &c->closed;
    pthread_mutex_lock(&w->p->mu);
    if (w->p->closed)
      atomic_store(&c->closed, 1);
    else
      plist_add(w->p, &w->link);
    pthread_mutex_unlock(&w->p->mu);
  }
  int r = 0;
  while (!atomic_load(&c->closed)) {
    r = weft__poll_wait(c->fds, c->total, d);
    if (r < 0)
      break;
    r = r > 0 && select_scan(c); /* else woken: re-check */
    if (r)
      break;
  }
  for (size_t k = 0; k < c->total; k++) {
    selwait *w = &c->sw[k];
    pthread_mutex_lock(&w->p->mu);
    if (w->link.linked)
      plist_del(w->p, &w->link);
    pthread_mutex_unlock(&w->p->mu);
  }
  return r;
}

/* Rewrite each list: its ready occurrences first, in order, then the
 * others, in order (tmp: room for total handles). */
static void select_compact(selcall *c, weft_handle *tmp, size_t nready[3]) {
  size_t k = 0;
  for (int l = 0; l < 3; l++) {
    size_t nt = 0;
    nready[l] = 0;
    for (size_t i = 0; i < c->counts[l]; i++, k++) {
      weft_handle h = c->lists[l][i];
      if (c->fds[k].fd >= 0 && (c->fds[k].revents & ready_bits[l]))
        c->lists[l][nready[l]++] = h;
      else
        tmp[nt++] = h;
    }
    if (nt > 0)
      memcpy(c->lists[l] + nready[l], tmp, nt * sizeof *tmp);
  }
}

WEFT_API weft_status weft_select_wait(weft_handle *rlist, size_t nr,
                                      weft_handle *wlist, size_t nw,
                                      weft_handle *xlist, size_t nx,
                                      double timeout, size_t *rn, size_t *wn,
                                      size_t *xn) {
  static const char what[] = "select_wait";
  selcall c = {{rlist, wlist, xlist}, {nr, nw, nx}, 0, NULL, NULL, 0};
  size_t *outn[3] = {rn, wn, xn};
  for (int l = 0; l < 3; l++) {
    if (c.lists[l] == NULL && c.counts[l] != 0)
      return weft__error(WEFT_EVALUE, 0, "%s: a NULL list with count %zu",
                         what, c.counts[l]);
    WEFT__CHECK_PTR(outn[l], what);
  }
  const size_t per =
      sizeof(struct pollfd) + sizeof(selwait) + sizeof(weft_handle);
  /* total * per + one more pollfd must fit, and the sum must not wrap */
  const size_t max = SIZE_MAX / per - 1;
  if (nr > max || nw > max - nr || nx > max - nr - nw)
    return weft__error(WEFT_EVALUE, 0, "%s: too many handles", what);
  c.total = nr + nw + nx;
  weft__deadline d;
  weft_status st = weft__deadline_init(&d, timeout, what);
  if (st < 0)
    return st;

  struct pollfd fds_stack[SELECT_STACK + 1];
  selwait sw_stack[SELECT_STACK];
  weft_handle tmp_stack[SELECT_STACK];
  weft_handle *tmp = tmp_stack;
  void *heap = NULL;
  c.fds = fds_stack;
  c.sw = sw_stack;
  if (c.total > SELECT_STACK) {
    heap = malloc(c.total * per + sizeof(struct pollfd));
    if (heap == NULL)
      return weft__errno(ENOMEM, what);
    c.fds = heap;
    c.sw = (selwait *)(c.fds + c.total + 1);
    tmp = (weft_handle *)(c.sw + c.total);
  }
  st = select_pin(&c);
  if (st < 0) {
    free(heap);
    return st;
  }

  /* First without blocking, so that what is ready is reported even when
   * an interrupt is pending; then wait, unless timeout is 0. */
  int r;
  do
    r = poll(c.fds, (nfds_t)c.total, 0);
  while (r < 0 && errno == EINTR);
  r = r < 0 ? -errno : r > 0 && select_scan(&c);
  if (r == 0 && timeout != 0)
    r = select_block(&c, &d);
  select_unpin(&c);

  size_t nready[3] = {0, 0, 0};
  if (atomic_load(&c.closed))
    st = weft__error(WEFT_ECLOSED, 0,
                     "%s: a handle was closed while it "
                     "waited",
                     what);
  else if (r == -EINTR)
    st = weft__interrupted(what);
  else if (r < 0 && r != -ETIMEDOUT)
    st = weft__errno(-r, what);
  else if (r <= 0)
    st = weft__error(-ETIMEDOUT, ETIMEDOUT, "%s: timed out after %gs", what,
                     timeout);
  else
    select_compact(&c, tmp, nready);
  for (int l = 0; l < 3; l++)
    *outn[l] = nready[l];
  free(heap);
  return st;
}
