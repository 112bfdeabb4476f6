/* fdwait.c - waits for descriptors that weft_thread_interrupt and a close
 * can end (see fdwait.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"
#include "fdwait.h"
#include "sig.h"
#include "thread.h"

/* ---- the per-thread wake descriptor ----
 *
 * Each thread's is in its TLS, and listed (under wakes_mu) so that a fork
 * child can close the copies of every parent thread's. */
typedef struct wake {
  int fd;
  struct wake *prev, *next;
} wake;

static _Thread_local wake self = {-1, NULL, NULL};
static pthread_mutex_t wakes_mu = PTHREAD_MUTEX_INITIALIZER;
static wake *wakes;
static pthread_key_t wake_key; /* value: &self, so its exit closes it */
static pthread_once_t wake_once = PTHREAD_ONCE_INIT;

static void wake_unlist(wake *w) {
  if (w->prev != NULL)
    w->prev->next = w->next;
  else
    wakes = w->next;
  if (w->next != NULL)
    w->next->prev = w->prev;
  w->prev = w->next = NULL;
}

/* The thread exits (key destructor). */
static void wake_exit(void *p) {
  wake *w = p;
  pthread_mutex_lock(&wakes_mu);
  wake_unlist(w);
  pthread_mutex_unlock(&wakes_mu);
  close(w->fd);
  w->fd = -1;
}

static void atfork_prepare(void) { pthread_mutex_lock(&wakes_mu); }
static void atfork_parent(void) { pthread_mutex_unlock(&wakes_mu); }

/* The child's descriptors are copies of the parent threads' (the same
 * eventfds): close them all; this thread makes a new one when it waits.
 * The other threads' list nodes are in TLS that no thread owns now. */
static void atfork_child(void) {
  /* This thread took wakes_mu in prepare, so it may unlock it. */
  pthread_mutex_unlock(&wakes_mu);
  for (wake *w = wakes; w != NULL; w = w->next)
    close(w->fd);
  wakes = NULL;
  self.fd = -1;
  self.prev = self.next = NULL;
  pthread_setspecific(wake_key, NULL);
}

static void wake_init(void) {
  pthread_key_create(&wake_key, wake_exit);
  pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

int weft__wake_fd(void) {
  if (self.fd >= 0)
    return self.fd;
  pthread_once(&wake_once, wake_init);
  int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (fd < 0)
    return -errno;
  pthread_mutex_lock(&wakes_mu);
  self.fd = fd;
  self.prev = NULL;
  self.next = wakes;
  if (wakes != NULL)
    wakes->prev = &self;
  wakes = &self;
  pthread_mutex_unlock(&wakes_mu);
  pthread_setspecific(wake_key, &self);
  return fd;
}

void weft__eventfd_drain(int fd) {
  uint64_t v;
  ssize_t n = read(fd, &v, sizeof v);
  (void)n; /* EAGAIN: it was 0 */
}

void weft__eventfd_raise(int fd) {
  uint64_t one = 1;
  ssize_t n = write(fd, &one, sizeof one);
  (void)n; /* EAGAIN: the counter is huge, i.e. readable already */
}

/* ---- poll with the wake descriptor ---- */

int weft__poll_wait(struct pollfd *fds, size_t n, const weft__deadline *d) {
  int wfd = weft__wake_fd();
  if (wfd < 0)
    return wfd;
  fds[n].fd = wfd;
  fds[n].events = POLLIN;
  weft__intr *in = weft__intr_self();
  if (atomic_load_explicit(&weft__signal_active, memory_order_relaxed)) {
    int s = weft__signal_in_wait(NULL);
    if (s != 0)
      return s < 0 ? -EINTR : 0; /* handlers ran: the caller re-checks */
    if (in == NULL && weft__signal_runner_here() &&
        weft__intr_self_unmade())
      in = weft__intr_self_make();
  }
  if (in != NULL) {
    int e = weft__intr_enter_fd(in, wfd);
    if (e != 0)
      return e < 0 ? -EINTR : 0;
  }
  int r, eintr = 0;
  for (;;) {
    struct timespec rel, *tp = NULL;
    int more = 1;
    if (!d->forever) {
      more = weft__deadline_left(d, &rel);
      tp = &rel;
    }
    for (size_t i = 0; i <= n; i++)
      fds[i].revents = 0;
    r = ppoll(fds, (nfds_t)n + 1, tp, NULL);
    if (r < 0) {
      r = -errno;
      if (r == -EINTR) { /* a signal: handlers (below, unregistered), */
        r = 0;           /* then the caller re-checks with the time */
        eintr = 1;       /* left (PEP 475) */
      }
      break;
    }
    if (fds[n].revents != 0) {
      weft__eventfd_drain(wfd);
      r--;
      break;
    }
    if (r > 0)
      break;
    if (!more || weft__deadline_expired(d)) {
      r = -ETIMEDOUT;
      break;
    }
    /* ppoll came back early (its clock and ours differ by a hair). */
  }
  if (in != NULL)
    weft__intr_leave(in);
  if (eintr)
    r = weft__signal_eintr();
  return r;
}

/* ---- waiters of an object ---- */

void weft__fdq_init(weft__fdq *q) {
  pthread_mutex_init(&q->mu, NULL);
  q->head = NULL;
  q->closed = 0;
}

void weft__fdq_destroy(weft__fdq *q) { pthread_mutex_destroy(&q->mu); }

void weft__fdq_atfork_child(weft__fdq *q) {
  pthread_mutex_init(&q->mu, NULL);
  q->head = NULL; /* nodes on the stacks of the parent's threads */
}

void weft__fdq_close(weft__fdq *q) {
  pthread_mutex_lock(&q->mu);
  q->closed = 1;
  for (weft__fdwaiter *w = q->head; w != NULL; w = w->next)
    weft__eventfd_raise(w->wake_fd);
  pthread_mutex_unlock(&q->mu);
}

int weft__fdq_closed(weft__fdq *q) {
  pthread_mutex_lock(&q->mu);
  int c = q->closed;
  pthread_mutex_unlock(&q->mu);
  return c;
}

int weft__fdq_wait(weft__fdq *q, int fd, short events,
                   const weft__deadline *d) {
  int wfd = weft__wake_fd();
  if (wfd < 0)
    return wfd;
  weft__fdwaiter w = {NULL, NULL, wfd};
  pthread_mutex_lock(&q->mu);
  if (q->closed) {
    pthread_mutex_unlock(&q->mu);
    return WEFT_ECLOSED;
  }
  w.next = q->head;
  if (q->head != NULL)
    q->head->prev = &w;
  q->head = &w;
  pthread_mutex_unlock(&q->mu);

  struct pollfd fds[2] = {{fd, events, 0}, {-1, 0, 0}};
  int r = weft__poll_wait(fds, 1, d);
  if (r > 0)
    r = fds[0].revents;

  pthread_mutex_lock(&q->mu);
  if (w.prev != NULL)
    w.prev->next = w.next;
  else
    q->head = w.next;
  if (w.next != NULL)
    w.next->prev = w.prev;
  if (q->closed)
    r = WEFT_ECLOSED;
  pthread_mutex_unlock(&q->mu);
  return r;
}
