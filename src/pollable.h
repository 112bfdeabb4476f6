/* pollable.h - handles that select and pollers wait on (internal).
 *
 * A socket and an Event each embed a weft__pollable.  It lists the
 * object's registrations in pollers, so that closing the handle removes
 * them while the object's descriptor is still open: epoll keys its
 * entries by (file, descriptor number), and an entry whose number was
 * closed and reused could otherwise never be deleted, or would delete the
 * new file's.  So a closed handle vanishes from every poller at once, as
 * a closed descriptor does from epoll.
 *
 * Lock order: a poller's mutex, then a pollable's mu.  The close of a
 * pollable does not nest them the other way: it detaches its list under
 * mu, then takes each poller's mutex in turn (poller.c).
 */
#ifndef WEFT_POLLABLE_H
#define WEFT_POLLABLE_H

#include <pthread.h>
#include <stdatomic.h>

#include "weft.h"

struct weft__preg; /* a registration (poller.c) */

typedef struct weft__pollable {
  pthread_mutex_t mu;      /* guards regs and closed */
  struct weft__preg *regs; /* this object's registrations (poller.c) */
  int closed;              /* closed: no new registration */
  /* Bumped when an operation on the object would block (a recv that
   * found no data, an Event cleared): the poll(2) backend's EPOLLET
   * emulation re-arms a quiet registration when this changes. */
  _Atomic unsigned rearm;
} weft__pollable;

void weft__pollable_init(weft__pollable *p);
void weft__pollable_destroy(weft__pollable *p);

/* From the kind's close op, before the descriptor can be closed: refuse
 * new registrations and remove every current one from its poller.
 * Defined in poller.c. */
void weft__pollable_close(weft__pollable *p);

/* In a fork child: re-initialise mu (the registrations stay: the child's
 * pollers keep theirs, poller.c). */
void weft__pollable_atfork_child(weft__pollable *p);

static inline void weft__pollable_rearm(weft__pollable *p) {
  atomic_fetch_add_explicit(&p->rearm, 1, memory_order_relaxed);
}

/* The pollable part and the descriptor of a pinned socket or Event handle
 * (the Event's eventfd, which polls readable exactly while the Event is
 * set, is made here on first use).  WEFT_EBADHANDLE for other kinds; a
 * -errno if the Event's descriptor cannot be made; both are recorded,
 * their messages starting with `what`.  The descriptor stays open while
 * the handle is pinned.  Defined in poller.c, which asks socket.c and
 * event.c. */
weft_status weft__pollable_of(weft_handle h, void *obj, int kind,
                              weft__pollable **p, int *fd, const char *what);

/* The kinds weft__pollable_of takes, as a mask for weft__handle_pin_any. */
#define WEFT__POLLABLE_KINDS                                                \
  ((1ull << WEFT_KIND_SOCKET) | (1ull << WEFT_KIND_EVENT))

/* What socket.c and event.c give weft__pollable_of. */
void weft__socket_pollable(void *obj, weft__pollable **p, int *fd);
weft_status weft__event_pollable(void *obj, weft__pollable **p, int *fd);

#endif
