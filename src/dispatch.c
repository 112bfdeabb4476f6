/* dispatch.c - Dispatcher: a queue of calls run by threads the host picks.
 *
 * A binding whose runtime cannot be entered from a thread weft started
 * (Ruby; a Lua state) queues the work of a callback here and the host
 * runs it on one of its own threads.  Calls are records in a FIFO: a
 * waited call's record lives on its caller's stack (the caller sleeps on
 * `done` until the record says DONE or CANCELLED), an unwaited one is
 * malloc'd and freed by whoever runs or drops it.
 *
 * Invariants, under `mu`: a record is on the queue iff its state is
 * QUEUED; a waited caller leaves only once its record is DONE or
 * CANCELLED, so a runner or a close that marks it under `mu` never
 * touches a dead stack frame; the eventfd holds a count > 0 iff the queue
 * is not empty (or the dispatcher is closed, so an event loop notices).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "handle.h"

enum { QUEUED, RUNNING, DONE, CANCELLED };

typedef struct call {
  struct call *next;
  weft_dispatch_fn fn;
  void *arg;
  int waited; /* the record is on its caller's stack */
  int state;
} call;

typedef struct dispobj {
  pthread_mutex_t mu;
  pthread_cond_t more; /* runners: the queue became non-empty, or closed */
  pthread_cond_t done; /* waited callers: a record changed state */
  call *head, *tail;
  int closed;
  int efd;
} dispobj;

/* The dispatchers the calling thread is running the queue of, innermost
 * first (a dispatched call may run another dispatcher's queue). */
typedef struct running {
  dispobj *d;
  struct running *outer;
} running;
static _Thread_local running *runs;

static int running_here(dispobj *d) {
  for (running *r = runs; r != NULL; r = r->outer)
    if (r->d == d)
      return 1;
  return 0;
}

/* The eventfd follows the queue: readable iff non-empty (or closed). */
static void efd_raise(dispobj *d) {
  uint64_t one = 1;
  ssize_t n = write(d->efd, &one, sizeof one);
  (void)n; /* EAGAIN: the counter is already huge, i.e. readable */
}

static void efd_clear(dispobj *d) {
  uint64_t v;
  ssize_t n = read(d->efd, &v, sizeof v);
  (void)n; /* EAGAIN: it was clear */
}

WEFT_API weft_status weft_dispatcher_new(weft_handle *out) {
  WEFT__CHECK_PTR(out, "dispatcher_new");
  dispobj *d = calloc(1, sizeof *d);
  if (d == NULL)
    return weft__errno(ENOMEM, "dispatcher_new");
  d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (d->efd < 0) {
    weft_status st = weft__errno(errno, "dispatcher_new: eventfd");
    free(d);
    return st;
  }
  pthread_mutex_init(&d->mu, NULL);
  weft__cond_init(&d->more);
  weft__cond_init(&d->done);
  weft_status st = weft__handle_new(WEFT_KIND_DISPATCHER, d, out);
  if (st < 0) {
    close(d->efd);
    pthread_cond_destroy(&d->more);
    pthread_cond_destroy(&d->done);
    pthread_mutex_destroy(&d->mu);
    free(d);
  }
  return st;
}

/* Append c, with mu held. */
static void enqueue(dispobj *d, call *c) {
  c->next = NULL;
  c->state = QUEUED;
  if (d->tail != NULL) {
    d->tail->next = c;
  } else {
    d->head = c;
    efd_raise(d);
  }
  d->tail = c;
  pthread_cond_signal(&d->more);
}

/* Take the oldest call, with mu held and the queue non-empty. */
static call *dequeue(dispobj *d) {
  call *c = d->head;
  d->head = c->next;
  if (d->head == NULL) {
    d->tail = NULL;
    if (!d->closed)
      efd_clear(d);
  }
  c->next = NULL;
  return c;
}

WEFT_API weft_status weft_dispatcher_call(weft_handle dispatcher,
                                          weft_dispatch_fn fn, void *arg,
                                          int wait) {
  if (fn == NULL)
    return weft__error(WEFT_EVALUE, 0, "dispatcher_call: fn is NULL");
  if (wait != 0 && wait != 1)
    return weft__error(WEFT_EVALUE, 0,
                       "dispatcher_call: wait must be 0 or 1, not %d", wait);
  dispobj *d = weft__handle_pin(dispatcher, WEFT_KIND_DISPATCHER,
                                "dispatcher_call");
  if (d == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = 0;
  if (wait && running_here(d)) {
    /* Waiting for ourselves to drain the queue would never end. */
    weft__handle_unpin(dispatcher);
    fn(arg);
    return 0;
  }
  call stack_call = {.fn = fn, .arg = arg, .waited = wait};
  call *c = &stack_call;
  if (!wait && (c = malloc(sizeof *c)) == NULL) {
    weft__handle_unpin(dispatcher);
    return weft__errno(ENOMEM, "dispatcher_call");
  }
  *c = stack_call;
  pthread_mutex_lock(&d->mu);
  if (d->closed) {
    st = weft__error(WEFT_ECLOSED, 0,
                     "dispatcher_call: dispatcher %lld was closed",
                     (long long)dispatcher);
    if (!wait)
      free(c);
  } else {
    enqueue(d, c);
    /* Not interruptible: the record is on this stack and may be running. */
    while (wait && (c->state == QUEUED || c->state == RUNNING))
      pthread_cond_wait(&d->done, &d->mu);
    if (wait && c->state == CANCELLED)
      st = weft__error(WEFT_ECLOSED, 0,
                       "dispatcher_call: dispatcher %lld was closed before "
                       "the call ran",
                       (long long)dispatcher);
  }
  pthread_mutex_unlock(&d->mu);
  weft__handle_unpin(dispatcher);
  return st;
}

WEFT_API weft_status weft_dispatcher_run(weft_handle dispatcher,
                                         double timeout, size_t *ran) {
  WEFT__CHECK_PTR(ran, "dispatcher_run");
  weft__deadline dl;
  weft_status st = weft__deadline_init(&dl, timeout, "dispatcher_run");
  if (st < 0)
    return st;
  dispobj *d = weft__handle_pin(dispatcher, WEFT_KIND_DISPATCHER,
                                "dispatcher_run");
  if (d == NULL)
    return WEFT__PIN_FAILED;
  size_t n = 0;
  int timed_out = 0;
  pthread_mutex_lock(&d->mu);
  while (d->head == NULL && st == 0) {
    if (d->closed)
      st = weft__error(WEFT_ECLOSED, 0,
                       "dispatcher_run: dispatcher %lld was closed",
                       (long long)dispatcher);
    else if (timeout == 0 || timed_out)
      st = weft__error(-ETIMEDOUT, ETIMEDOUT,
                       "dispatcher_run: no call came within %gs", timeout);
    else {
      int r = weft__wait_cond(&d->more, &d->mu, &dl);
      if (r == -EINTR)
        st = weft__interrupted("dispatcher_run");
      timed_out = r == -ETIMEDOUT;
    }
  }
  running self = {d, runs};
  runs = &self;
  while (st == 0 && d->head != NULL) {
    call *c = dequeue(d);
    c->state = RUNNING;
    pthread_mutex_unlock(&d->mu);
    c->fn(c->arg);
    pthread_mutex_lock(&d->mu);
    n++;
    if (c->waited) {
      c->state = DONE;
      pthread_cond_broadcast(&d->done);
    } else {
      free(c);
    }
  }
  runs = self.outer;
  pthread_mutex_unlock(&d->mu);
  weft__handle_unpin(dispatcher);
  *ran = n;
  return st;
}

WEFT_API weft_status weft_dispatcher_fd(weft_handle dispatcher, int *fd) {
  WEFT__CHECK_PTR(fd, "dispatcher_fd");
  dispobj *d = weft__handle_pin(dispatcher, WEFT_KIND_DISPATCHER,
                                "dispatcher_fd");
  if (d == NULL)
    return WEFT__PIN_FAILED;
  *fd = d->efd;
  weft__handle_unpin(dispatcher);
  return 0;
}

/* Drop every queued call (waited callers get WEFT_ECLOSED), with mu held. */
static void drop_queue(dispobj *d, int wake) {
  while (d->head != NULL) {
    call *c = dequeue(d);
    if (c->waited)
      c->state = CANCELLED;
    else
      free(c);
  }
  if (wake)
    pthread_cond_broadcast(&d->done);
}

static void dispatcher_close(void *obj) {
  dispobj *d = obj;
  pthread_mutex_lock(&d->mu);
  d->closed = 1;
  drop_queue(d, 1);
  efd_raise(d); /* an event loop polling the fd comes to hear of it */
  pthread_cond_broadcast(&d->more);
  pthread_mutex_unlock(&d->mu);
}

/* Runs when no pin is left: nobody waits, nobody runs. */
static void dispatcher_destroy(void *obj) {
  dispobj *d = obj;
  close(d->efd);
  pthread_cond_destroy(&d->more);
  pthread_cond_destroy(&d->done);
  pthread_mutex_destroy(&d->mu);
  free(d);
}

/* In a fork child: the waited callers and the runners were threads of the
 * parent, and the eventfd is shared with the parent's dispatcher. */
static void dispatcher_atfork_child(void *obj) {
  dispobj *d = obj;
  pthread_mutex_init(&d->mu, NULL);
  weft__cond_init(&d->more);
  weft__cond_init(&d->done);
  d->head = d->tail = NULL; /* records of the parent: leak, never touch */
  int fd = eventfd(d->closed ? 1 : 0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd >= 0) {
    close(d->efd);
    d->efd = fd;
  }
}

static const weft__kind_ops dispatcher_ops = {
    .name = "dispatcher",
    .close = dispatcher_close,
    .destroy = dispatcher_destroy,
    .atfork_child = dispatcher_atfork_child};

__attribute__((constructor)) static void dispatcher_register(void) {
  weft__kind_register(WEFT_KIND_DISPATCHER, &dispatcher_ops);
}
