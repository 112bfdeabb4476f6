/* fdwait.h - waiting for descriptors: interruptible, and ended by a close
 * (internal).
 *
 * Every wait of the socket, select and io calls sleeps in poll(2) through
 * weft__poll_wait, with one more descriptor in the set: the calling
 * thread's wake eventfd.  Two things write to it:
 *
 *   - weft_thread_interrupt (clock.c's weft__intr, registered with
 *     weft__intr_enter_fd): the sleeper wakes, its caller re-checks, and
 *     its next sleep returns -EINTR;
 *   - the close of the object the thread waits on (weft__fdq_close): the
 *     object's waiters are listed in its weft__fdq, and close writes to
 *     each one's wake descriptor.
 *
 * A wake descriptor belongs to its OS thread: made on the thread's first
 * wait, closed when the thread exits, and re-made in a fork child (the
 * child's copy would be shared with the parent's thread).
 *
 * Waits never close or reuse the descriptor they watch: it belongs to an
 * object pinned by the caller, whose destroy (after the last unpin)
 * closes it.  So a close that races with a wait wakes it, and the number
 * is never reused under it.
 *
 * Signals: poll(2) returning EINTR is a plain re-check with the time left
 * (PEP 475); the signal module runs its handlers there.
 */
#ifndef WEFT_FDWAIT_H
#define WEFT_FDWAIT_H

#include <poll.h>
#include <pthread.h>

#include "clock.h"
#include "weft.h"

/* The calling thread's wake eventfd (non-blocking, close-on-exec), made
 * on first use; -errno if it cannot be made (-EMFILE). */
int weft__wake_fd(void);

/* Read an eventfd's counter to 0 (no-op if it is 0). */
void weft__eventfd_drain(int fd);

/* Write 1 to an eventfd. */
void weft__eventfd_raise(int fd);

/* Sleep in poll(2) on fds[0 .. n-1] and the calling thread's wake
 * descriptor, which this call puts in fds[n] (so fds has room for n + 1),
 * until one is ready, the deadline passes, or the thread is interrupted.
 * Returns the number of fds[0 .. n-1] with revents (> 0), 0 when only the
 * wake descriptor fired (interrupt or close: the caller re-checks),
 * -ETIMEDOUT, -EINTR (an interrupt was pending: nothing waited), or
 * -errno.  A deadline that has already passed polls once (timeout 0). */
int weft__poll_wait(struct pollfd *fds, size_t n, const weft__deadline *d);

/* The blocked waiters of one object, which its close wakes. */
typedef struct weft__fdwaiter {
  struct weft__fdwaiter *prev, *next;
  int wake_fd;
} weft__fdwaiter;

typedef struct weft__fdq {
  pthread_mutex_t mu; /* guards head and closed */
  weft__fdwaiter *head;
  int closed;
} weft__fdq;

void weft__fdq_init(weft__fdq *q);
void weft__fdq_destroy(weft__fdq *q);
/* In a fork child: the waiters were threads of the parent. */
void weft__fdq_atfork_child(weft__fdq *q);

/* Mark q closed and wake every waiter; their waits return WEFT_ECLOSED
 * and every later one too. */
void weft__fdq_close(weft__fdq *q);

/* 1 once weft__fdq_close ran. */
int weft__fdq_closed(weft__fdq *q);

/* Wait until fd polls one of `events` (POLLIN, POLLOUT, ...), as a
 * waiter of q.  Returns the revents (> 0; POLLERR, POLLHUP count), 0 to
 * re-check (woken by an interrupt or spuriously), -ETIMEDOUT, -EINTR,
 * WEFT_ECLOSED (q was closed before or during the wait), or -errno.  No
 * error is recorded: the caller words it. */
int weft__fdq_wait(weft__fdq *q, int fd, short events,
                   const weft__deadline *d);

#endif
