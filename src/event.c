/* event.c - Event: a flag, a generation counter and a condition variable;
 * and, for select and pollers, an eventfd that polls readable exactly
 * while the flag is set. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "fdwait.h"
#include "handle.h"
#include "pollable.h"

/* Invariants: every field but `pl` is read and written under `mu`; `gen`
 * grows by one on every set(), so a waiter that saw generation g was woken
 * by a set() iff gen != g, even if clear() already lowered the flag again
 * (a set() immediately followed by clear() still releases every thread
 * that was waiting, as in CPython).  `efd` is -1 until select or a poller
 * first asks for it; from then on its counter is 1 while `flag` is set and
 * 0 while it is clear, and its number stays the same until destroy (a
 * fork child gets a new eventfd under the same number; only a child that
 * cannot make one at all is left with none, or another number). */
typedef struct eventobj {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint64_t gen;
  int flag;
  int closed;
  int efd;
  weft__pollable pl; /* its own mu (poller.c) */
} eventobj;

WEFT_API weft_status weft_event_new(weft_handle *out) {
  WEFT__CHECK_PTR(out, "event_new");
  eventobj *e = calloc(1, sizeof *e);
  if (e == NULL)
    return weft__errno(ENOMEM, "event_new");
  int r = weft__cond_init(&e->cv);
  if (r < 0) {
    free(e);
    return weft__errno(-r, "event_new");
  }
  pthread_mutex_init(&e->mu, NULL);
  e->efd = -1;
  weft__pollable_init(&e->pl);
  weft_status st = weft__handle_new(WEFT_KIND_EVENT, e, out);
  if (st < 0) {
    weft__pollable_destroy(&e->pl);
    pthread_cond_destroy(&e->cv);
    pthread_mutex_destroy(&e->mu);
    free(e);
  }
  return st;
}

/* Set (flag 1) or clear (flag 0). */
static weft_status event_change(weft_handle event, int flag,
                                const char *what) {
  eventobj *e = weft__handle_pin(event, WEFT_KIND_EVENT, what);
  if (e == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&e->mu);
  if (flag && !e->flag) {
    e->gen++;
    pthread_cond_broadcast(&e->cv);
    if (e->efd >= 0)
      weft__eventfd_raise(e->efd);
  } else if (!flag && e->flag && e->efd >= 0) {
    weft__eventfd_drain(e->efd);
  }
  e->flag = flag;
  pthread_mutex_unlock(&e->mu);
  if (!flag) /* where an edge-triggered waiter stops (pollable.h) */
    weft__pollable_rearm(&e->pl);
  weft__handle_unpin(event);
  return 0;
}

weft_status weft__event_pollable(void *obj, weft__pollable **p, int *fd) {
  eventobj *e = obj;
  pthread_mutex_lock(&e->mu);
  if (e->efd < 0) {
    e->efd = eventfd(e->flag ? 1 : 0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (e->efd < 0) {
      int err = errno;
      pthread_mutex_unlock(&e->mu);
      return -err;
    }
  }
  *fd = e->efd;
  pthread_mutex_unlock(&e->mu);
  *p = &e->pl;
  return 0;
}

WEFT_API weft_status weft_event_set(weft_handle event) {
  return event_change(event, 1, "event_set");
}

WEFT_API weft_status weft_event_clear(weft_handle event) {
  return event_change(event, 0, "event_clear");
}

WEFT_API weft_status weft_event_is_set(weft_handle event, int *is_set) {
  WEFT__CHECK_PTR(is_set, "event_is_set");
  eventobj *e = weft__handle_pin(event, WEFT_KIND_EVENT, "event_is_set");
  if (e == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&e->mu);
  *is_set = e->flag;
  pthread_mutex_unlock(&e->mu);
  weft__handle_unpin(event);
  return 0;
}

/* Wait with mu held until the flag is or was set since we came. */
static weft_status wait_set(eventobj *e, weft_handle h,
                            const weft__deadline *d, double timeout) {
  uint64_t gen = e->gen;
  int timed_out = 0;
  for (;;) {
    if (e->flag || e->gen != gen)
      return 0;
    if (e->closed)
      return weft__error(WEFT_ECLOSED, 0,
                         "event_wait: event %lld was closed", (long long)h);
    if (timeout == 0 || timed_out)
      return weft__error(-ETIMEDOUT, ETIMEDOUT,
                         "event_wait: timed out after %gs", timeout);
    int r = weft__wait_cond(&e->cv, &e->mu, d);
    if (r == -EINTR)
      return weft__interrupted("event_wait");
    timed_out = r == -ETIMEDOUT;
  }
}

WEFT_API weft_status weft_event_wait(weft_handle event, double timeout) {
  weft__deadline d;
  weft_status st = weft__deadline_init(&d, timeout, "event_wait");
  if (st < 0)
    return st;
  eventobj *e = weft__handle_pin(event, WEFT_KIND_EVENT, "event_wait");
  if (e == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&e->mu);
  st = wait_set(e, event, &d, timeout);
  pthread_mutex_unlock(&e->mu);
  weft__handle_unpin(event);
  return st;
}

static void event_close(void *obj) {
  eventobj *e = obj;
  pthread_mutex_lock(&e->mu);
  e->closed = 1;
  pthread_cond_broadcast(&e->cv);
  pthread_mutex_unlock(&e->mu);
  weft__pollable_close(&e->pl); /* efd is open until destroy */
}

/* Runs when no pin is left: no thread is inside cond_wait. */
static void event_destroy(void *obj) {
  eventobj *e = obj;
  if (e->efd >= 0)
    close(e->efd);
  weft__pollable_destroy(&e->pl);
  pthread_cond_destroy(&e->cv);
  pthread_mutex_destroy(&e->mu);
  free(e);
}

/* The eventfd is the parent's too: the child gets its own, under the
 * same number (pollers re-add it after this, poller.c).  Keeping the
 * parent's is never an option: the child's set and clear would change
 * what the parent's selects and pollers see. */
static void event_atfork_child(void *obj) {
  eventobj *e = obj;
  pthread_mutex_init(&e->mu, NULL);
  weft__cond_init(&e->cv);
  weft__pollable_atfork_child(&e->pl);
  if (e->efd < 0)
    return;
  int init = e->flag ? 1 : 0;
  int fd = eventfd(init, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0) {
    /* No descriptor left (the parent's table was full): let go of the
     * parent's, whose slot the new one takes (or, if even that fails, an
     * Event with no descriptor, made again on its next select). */
    close(e->efd);
    fd = eventfd(init, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) {
      e->efd = -1;
      return;
    }
  }
  if (fd != e->efd) {
    if (dup3(fd, e->efd, O_CLOEXEC) >= 0) {
      close(fd);
    } else { /* not the parent's, at least */
      close(e->efd);
      e->efd = fd;
    }
  }
}

static const weft__kind_ops event_ops = {.name = "event",
                                         .close = event_close,
                                         .destroy = event_destroy,
                                         .atfork_child = event_atfork_child};

__attribute__((constructor)) static void event_register(void) {
  weft__kind_register(WEFT_KIND_EVENT, &event_ops);
}
