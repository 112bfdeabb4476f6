/* stream.c - the stream kind: Python's buffered binary file (a
 * BufferedReader and a BufferedWriter, paired as in BufferedRWPair) over
 * the stream's own duplicate of a descriptor; weft_socket_makefile.
 *
 * The descriptor never blocks (a socket's calls pass MSG_DONTWAIT; any
 * other descriptor is put in O_NONBLOCK mode); the mode is the stream's,
 * as for sockets (timeout < 0 blocking, 0 non-blocking, > 0 timeout).  Every
 * call fixes its mode and deadline when it begins (struct op), tries the
 * system call first, and only when it would block waits (io_wait) on the
 * stream's weft__fdq: weft_thread_interrupt ends the wait with -EINTR,
 * weft_close with WEFT_ECLOSED, and signals and false readiness reports
 * resume it with the same deadline.  On sockets reads and writes are
 * recv and send (MSG_NOSIGNAL); on anything else read(2) and write(2),
 * with SIGPIPE blocked around the write and a SIGPIPE the write raised
 * taken back (pipe_write), so no call raises it.
 *
 * Two sides, each with its own lock: the read side owns rbuf, the write
 * side wbuf, so a thread blocked reading never holds up a writer.  A
 * side's lock is a busy flag under a mutex (side_enter), waited for with
 * weft__wait_cond: like every other wait of a call it is interruptible,
 * bounded by the call's deadline and ended by close.  In non-blocking
 * mode a call still waits for the side (the holder does not block).
 *
 * Reads never lose data.  What the stream read and did not hand out is
 * in rbuf[rstart, rend), which grows past the nominal size when it must
 * keep more (a long line, readall, a failed large read), and shrinks
 * back once it is empty.  A call that fails (any status < 0, WEFT_ERANGE
 * included) hands out nothing: everything it read stays buffered for the
 * next call.  So an error that comes after some data (a timeout, an
 * interrupt, EAGAIN, ECONNRESET) is returned at once, with the data kept,
 * rather than returning the data and the error on the next call; the
 * data comes out on the next read that can finish (read1 returns
 * buffered data without reading).  The same holds in non-blocking mode:
 * read(n) gives -EAGAIN, not a short result, when fewer than n bytes are
 * there (a short read means the end of the stream); read1 gives what is
 * there.
 *
 * The end of the stream is a raw read of 0 bytes and is not sticky: once
 * a call has reported it (a short read, 0 bytes, the last line), a later
 * call reads again.  reof marks an end that was read but not reported:
 * readline or readall reached it and failed with WEFT_ERANGE.  The next
 * call that needs more data takes the end from the mark instead of
 * reading, so the retry with a larger buffer gets exactly the same bytes.
 *
 * Writes: *written counts the bytes of buf that went out or into wbuf;
 * after a failure the rest was not taken (and, unlike BufferedWriter on
 * BlockingIOError, none of it is buffered then).  wbuf keeps what a
 * failed flush could not write, for the next flush.  A line-buffered
 * write whose flush fails has taken all of buf: it returns the flush's
 * status with *written = len.
 *
 * The duplicate shares its file status flags with the caller's
 * descriptor, so for a pipe or terminal that one becomes O_NONBLOCK too
 * (the header says so); a socket's flags are left as they are.
 *
 * Close: weft_close runs the kind's flush op first (stream_close_flush),
 * which writes the buffer out and whose status weft_close returns; then
 * the close op wakes every waiter (WEFT_ECLOSED); destroy, after the last
 * pin, closes the descriptor and frees the buffers.  The flush does not
 * wait behind another thread's write or flush, which may be blocked for
 * good: it sets wclosing, which ends that call's waits (its wake
 * descriptor, wkick, is raised) and every later one with WEFT_ECLOSED,
 * takes the write side and flushes what is buffered, with the stream's
 * timeout.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "error.h"
#include "fdwait.h"
#include "handle.h"
#include "socket.h"

#define DEFAULT_BUFFER 8192
/* A read buffer that grew past this many times its nominal size is given
 * back once it is empty. */
#define SHRINK_FACTOR 4

typedef struct side {
  pthread_mutex_t mu; /* guards busy and closed (and wclosing, wkick) */
  pthread_cond_t cv;  /* busy went to 0, closed or wclosing was set */
  int busy;           /* a call owns the side's buffer */
  pthread_t owner;    /* the thread of that call, while busy */
  int closed;         /* the close op ran */
} side;

typedef struct streamobj {
  int fd;        /* the stream's own duplicate, close-on-exec; O_NONBLOCK
                    unless it is a socket */
  int is_socket; /* recv/send; else read/write */
  int readable, writable;
  int line_buffered;      /* a write holding '\n' flushes */
  size_t size;            /* nominal buffer size; 0: unbuffered */
  _Atomic double timeout; /* < 0 blocking (-1), 0 non-blocking, > 0 */
  weft__fdq q;            /* threads waiting for fd */
  side rd, wr;
  /* Owned by the holder of rd. */
  char *rbuf;
  size_t rcap, rstart, rend;
  int reof; /* an end of stream was read after rbuf's data, unreported */
  /* Owned by the holder of wr. */
  char *wbuf;
  size_t wcap, wstart, wend;
  /* Under wr.mu: weft_close's flush has begun, and the wake descriptor
   * of the write-side holder while it waits in io_wait (-1: none). */
  int wclosing;
  int wkick;
} streamobj;

/* One call: its stream, mode and deadline, and the side it holds. */
typedef struct op {
  streamobj *s;
  weft_handle h; /* 0 for weft_close's flush (no handle to name) */
  const char *what;
  double timeout;
  weft__deadline d;
  side *held;
  int closer; /* weft_close's flush: wclosing does not end it */
} op;

/* ---- failures ---- */

static weft_status closed_error(const op *o) {
  if (o->h != 0)
    return weft__error(WEFT_ECLOSED, 0, "%s: stream %lld was closed",
                       o->what, (long long)o->h);
  return weft__error(WEFT_ECLOSED, 0, "%s: the stream was closed", o->what);
}

static weft_status timed_out(const op *o) {
  return weft__error(-ETIMEDOUT, ETIMEDOUT, "%s: timed out after %gs",
                     o->what, o->timeout);
}

static weft_status size_check(const void *buf, size_t len, const char *what) {
  if (len > (size_t)SSIZE_MAX)
    return weft__error(WEFT_EVALUE, 0,
                       "%s: size %zu is negative or too big", what, len);
  if (buf == NULL && len > 0)
    return weft__error(WEFT_EVALUE, 0, "%s: buf is NULL", what);
  return 0;
}

/* ---- sides ---- */

static void side_init(side *sd) {
  pthread_mutex_init(&sd->mu, NULL);
  weft__cond_init(&sd->cv);
  sd->busy = 0;
  sd->closed = 0;
}

static void side_destroy(side *sd) {
  pthread_cond_destroy(&sd->cv);
  pthread_mutex_destroy(&sd->mu);
}

/* Take the side for o, waiting (interruptibly, until o's deadline in
 * timeout mode) while another call holds it. */
static weft_status side_enter(op *o, side *sd) {
  static const weft__deadline forever = {{0, 0}, 1};
  const weft__deadline *d = o->timeout > 0 ? &o->d : &forever;
  int writer = sd == &o->s->wr && !o->closer;
  weft_status st = 0;
  int late = 0;
  pthread_mutex_lock(&sd->mu);
  for (;;) {
    if (sd->closed || (writer && o->s->wclosing)) {
      st = closed_error(o);
      break;
    }
    if (!sd->busy) {
      sd->busy = 1;
      sd->owner = pthread_self();
      o->held = sd;
      break;
    }
    if (!o->closer && pthread_equal(sd->owner, pthread_self())) {
      /* A signal handler run inside this thread's own call (as
       * CPython's BufferedReader says "reentrant call"). */
      st = weft__error(WEFT_ESTATE, 0,
                       "%s: reentrant call inside the stream's own %s",
                       o->what, sd == &o->s->wr ? "write" : "read");
      break;
    }
    if (late) {
      st = timed_out(o);
      break;
    }
    int r = weft__wait_cond(&sd->cv, &sd->mu, d);
    if (r == -EINTR) {
      st = weft__interrupted(o->what);
      break;
    }
    late = r == -ETIMEDOUT; /* re-check once: the side may be free */
  }
  pthread_mutex_unlock(&sd->mu);
  return st;
}

static void side_leave(side *sd) {
  pthread_mutex_lock(&sd->mu);
  sd->busy = 0;
  pthread_cond_broadcast(&sd->cv);
  pthread_mutex_unlock(&sd->mu);
}

/* ---- raw I/O ---- */

/* The call would block on `events`: wait as its mode says.  0: try
 * again; otherwise a recorded failure.  Only the write side's holder
 * waits for POLLOUT, so one wkick slot serves. */
static weft_status io_wait(op *o, short events) {
  streamobj *s = o->s;
  if (o->timeout == 0)
    return weft__error_text(-EAGAIN, EAGAIN, o->what,
                            strerrordesc_np(EAGAIN));
  int kickable = events == POLLOUT && !o->closer;
  if (kickable) {
    int wfd = weft__wake_fd(); /* < 0: fdq_wait fails the same way */
    pthread_mutex_lock(&s->wr.mu);
    int closing = s->wclosing;
    if (!closing)
      s->wkick = wfd;
    pthread_mutex_unlock(&s->wr.mu);
    if (closing)
      return closed_error(o);
  }
  int r = weft__fdq_wait(&s->q, s->fd, events, &o->d);
  if (kickable) {
    pthread_mutex_lock(&s->wr.mu);
    s->wkick = -1;
    pthread_mutex_unlock(&s->wr.mu);
  }
  if (r >= 0)
    return 0;
  if (r == -ETIMEDOUT)
    return timed_out(o);
  if (r == -EINTR)
    return weft__interrupted(o->what);
  if (r == WEFT_ECLOSED)
    return closed_error(o);
  return weft__errno(-r, o->what);
}

/* write(2) to a descriptor that is not a socket, without SIGPIPE: block
 * it in this thread around the write, and if the write raised one (EPIPE
 * and none was pending before), take it back before restoring the mask. */
static ssize_t pipe_write(int fd, const void *p, size_t n) {
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  sigemptyset(&pending);
  sigpending(&pending);
  int was_pending = sigismember(&pending, SIGPIPE);
  ssize_t r = write(fd, p, n);
  int err = errno;
  if (r < 0 && err == EPIPE && !was_pending) {
    static const struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
      ;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = err;
  return r;
}

/* One read of at most n > 0 bytes into p: the count (> 0), 0 at the end
 * of the stream (or at the reof mark, which this takes), or a recorded
 * failure. */
static ssize_t raw_read(op *o, void *p, size_t n) {
  streamobj *s = o->s;
  if (s->reof) {
    s->reof = 0;
    return 0;
  }
  for (;;) {
    ssize_t r = s->is_socket ? recv(s->fd, p, n, MSG_DONTWAIT)
                             : read(s->fd, p, n);
    if (r >= 0)
      return r;
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return weft__errno(errno, o->what);
    weft_status st = io_wait(o, POLLIN);
    if (st < 0)
      return st;
  }
}

/* One write of at most n > 0 bytes from p: the count (> 0) or a recorded
 * failure. */
static ssize_t raw_write(op *o, const char *p, size_t n) {
  streamobj *s = o->s;
  for (;;) {
    ssize_t r = s->is_socket ? send(s->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT)
                             : pipe_write(s->fd, p, n);
    if (r > 0)
      return r;
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
      return weft__errno(errno, o->what);
    /* EAGAIN, or nothing went (r == 0): wait until it can take more. */
    weft_status st = io_wait(o, POLLOUT);
    if (st < 0)
      return st;
  }
}

/* ---- the read buffer ---- */

/* Make room for `need` more bytes after rbuf's data (compacting, then
 * growing).  0 or a recorded -ENOMEM. */
static weft_status rb_reserve(op *o, size_t need) {
  streamobj *s = o->s;
  size_t have = s->rend - s->rstart;
  if (s->rcap - s->rend >= need)
    return 0;
  if (s->rstart > 0) {
    memmove(s->rbuf, s->rbuf + s->rstart, have);
    s->rstart = 0;
    s->rend = have;
    if (s->rcap - s->rend >= need)
      return 0;
  }
  size_t cap = s->rcap > 0 ? s->rcap : 64;
  while (cap - have < need)
    cap = cap <= SIZE_MAX / 2 ? cap * 2 : have + need;
  char *p = realloc(s->rbuf, cap);
  if (p == NULL)
    return weft__errno(ENOMEM, o->what);
  s->rbuf = p;
  s->rcap = cap;
  return 0;
}

/* One raw read appended to rbuf: up to n bytes unbuffered (readline's
 * byte at a time), all the room there is (at least n) buffered. */
static ssize_t rb_fill(op *o, size_t n) {
  streamobj *s = o->s;
  weft_status st = rb_reserve(o, n);
  if (st < 0)
    return st;
  size_t room = s->size == 0 ? n : s->rcap - s->rend;
  ssize_t r = raw_read(o, s->rbuf + s->rend, room);
  if (r > 0)
    s->rend += (size_t)r;
  return r;
}

/* Put back what a failed read(n) had copied out (rbuf is empty then). */
static weft_status rb_keep(op *o, const char *p, size_t n) {
  streamobj *s = o->s;
  s->rstart = s->rend = 0;
  weft_status st = rb_reserve(o, n);
  if (st < 0)
    return st; /* the bytes are lost: the call reports -ENOMEM */
  memcpy(s->rbuf, p, n);
  s->rend = n;
  return 0;
}

/* At the end of a read call: an empty buffer starts at 0 again, and one
 * that grew far past its size is given back. */
static void rb_settle(streamobj *s) {
  if (s->rstart != s->rend)
    return;
  s->rstart = s->rend = 0;
  size_t nominal = s->size > 64 ? s->size : 64;
  if (s->rcap <= (size_t)SHRINK_FACTOR * nominal)
    return;
  if (s->size == 0) { /* unbuffered: no buffer until one is needed */
    free(s->rbuf);
    s->rbuf = NULL;
    s->rcap = 0;
    return;
  }
  char *p = realloc(s->rbuf, s->size);
  if (p != NULL) {
    s->rbuf = p;
    s->rcap = s->size;
  }
}

/* Hand out the first len buffered bytes (readline, readall), or, by the
 * string rule, WEFT_ERANGE with *n = len and the bytes kept; at_end: the
 * call ended at the end of the stream, which the retry must see again. */
static weft_status deliver(op *o, size_t len, int at_end, void *buf,
                           size_t cap, size_t *n, const char *noun) {
  streamobj *s = o->s;
  *n = len;
  if (len > cap) {
    if (at_end)
      s->reof = 1;
    return weft__error(WEFT_ERANGE, 0,
                       "%s: the %s is %zu bytes, the buffer %zu", o->what,
                       noun, len, cap);
  }
  if (len > 0)
    memcpy(buf, s->rbuf + s->rstart, len);
  s->rstart += len;
  return 0;
}

/* Copy up to cap buffered bytes out: the count. */
static size_t rb_take(streamobj *s, char *buf, size_t cap) {
  size_t k = s->rend - s->rstart;
  if (k > cap)
    k = cap;
  if (k > 0)
    memcpy(buf, s->rbuf + s->rstart, k);
  s->rstart += k;
  return k;
}

/* ---- reads (the caller holds the read side) ---- */

static weft_status do_read(op *o, char *buf, size_t cap, size_t *n) {
  streamobj *s = o->s;
  if (s->size == 0) { /* unbuffered: at most one read, none if kept data */
    if (s->rend > s->rstart || cap == 0) {
      *n = rb_take(s, buf, cap);
      return 0;
    }
    ssize_t r = raw_read(o, buf, cap);
    if (r < 0)
      return (weft_status)r;
    *n = (size_t)r;
    return 0;
  }
  size_t got = rb_take(s, buf, cap);
  /* From here on rbuf is empty at every raw read. */
  while (got < cap) {
    size_t want = cap - got;
    ssize_t r;
    if (want >= s->size) { /* large: straight into the caller's buffer */
      r = raw_read(o, buf + got, want);
      if (r > 0)
        got += (size_t)r;
    } else {
      r = rb_fill(o, s->size);
      if (r > 0)
        got += rb_take(s, buf + got, want);
    }
    if (r == 0)
      break; /* the end: a short read */
    if (r < 0) {
      weft_status kept = rb_keep(o, buf, got);
      return kept < 0 ? kept : (weft_status)r;
    }
  }
  *n = got;
  return 0;
}

static weft_status do_read1(op *o, char *buf, size_t cap, size_t *n) {
  streamobj *s = o->s;
  if (s->rend > s->rstart || cap == 0) {
    *n = rb_take(s, buf, cap);
    return 0;
  }
  ssize_t r;
  if (s->size == 0 || cap >= s->size) {
    r = raw_read(o, buf, cap);
    if (r >= 0)
      *n = (size_t)r;
  } else {
    r = rb_fill(o, s->size);
    if (r >= 0)
      *n = rb_take(s, buf, cap);
  }
  return r < 0 ? (weft_status)r : 0;
}

static weft_status do_readall(op *o, char *buf, size_t cap, size_t *n) {
  streamobj *s = o->s;
  for (;;) {
    size_t have = s->rend - s->rstart;
    size_t chunk = have > DEFAULT_BUFFER ? have : DEFAULT_BUFFER;
    ssize_t r = rb_fill(o, chunk);
    if (r == 0)
      return deliver(o, have, 1, buf, cap, n, "data");
    if (r < 0)
      return (weft_status)r;
  }
}

static weft_status do_readline(op *o, int64_t limit, void *buf, size_t cap,
                               size_t *n) {
  streamobj *s = o->s;
  size_t lim = limit < 0 ? SIZE_MAX : (size_t)limit;
  size_t scanned = 0; /* bytes after rstart known to hold no '\n' */
  for (;;) {
    size_t have = s->rend - s->rstart;
    size_t upto = have < lim ? have : lim;
    if (upto > scanned) {
      char *start = s->rbuf + s->rstart;
      char *nl = memchr(start + scanned, '\n', upto - scanned);
      if (nl != NULL)
        return deliver(o, (size_t)(nl - start) + 1, 0, buf, cap, n, "line");
      scanned = upto;
    }
    if (have >= lim)
      return deliver(o, lim, 0, buf, cap, n, "line");
    /* Unbuffered: one byte at a time, never past the '\n'. */
    ssize_t r = rb_fill(o, s->size == 0 ? 1 : s->size);
    if (r == 0)
      return deliver(o, have, 1, buf, cap, n, "line");
    if (r < 0)
      return (weft_status)r;
  }
}

/* ---- writes (the caller holds the write side) ---- */

static weft_status flush_locked(op *o) {
  streamobj *s = o->s;
  while (s->wstart < s->wend) {
    ssize_t r = raw_write(o, s->wbuf + s->wstart, s->wend - s->wstart);
    if (r < 0)
      return (weft_status)r;
    s->wstart += (size_t)r;
  }
  s->wstart = s->wend = 0;
  return 0;
}

/* Write (p + *done, len - *done) out, advancing *done. */
static weft_status write_out(op *o, const char *p, size_t len, size_t *done) {
  while (*done < len) {
    ssize_t r = raw_write(o, p + *done, len - *done);
    if (r < 0)
      return (weft_status)r;
    *done += (size_t)r;
  }
  return 0;
}

/* *taken: how much of buf went out or into wbuf; the rest, after a
 * failure, was not taken.  As BufferedWriter: what fits is copied; else
 * the buffer is flushed, what is larger than the buffer is written
 * straight from buf, and the remainder is copied. */
static weft_status do_write(op *o, const char *buf, size_t len,
                            size_t *taken) {
  streamobj *s = o->s;
  if (s->size == 0)
    return write_out(o, buf, len, taken);
  if (len > s->wcap - s->wend && s->wstart > 0) {
    memmove(s->wbuf, s->wbuf + s->wstart, s->wend - s->wstart);
    s->wend -= s->wstart;
    s->wstart = 0;
  }
  weft_status st = 0;
  if (len > s->wcap - s->wend) {
    st = flush_locked(o);
    while (st == 0 && len - *taken > s->wcap) {
      ssize_t r = raw_write(o, buf + *taken, len - *taken);
      if (r < 0)
        st = (weft_status)r;
      else
        *taken += (size_t)r;
    }
    if (st < 0)
      return st;
  }
  if (len > *taken)
    memcpy(s->wbuf + s->wend, buf + *taken, len - *taken);
  s->wend += len - *taken;
  *taken = len;
  if (s->line_buffered && memchr(buf, '\n', len) != NULL)
    st = flush_locked(o); /* all of buf was taken: *taken stays len */
  return st;
}

/* ---- calls ---- */

static void op_mode(op *o) {
  o->timeout = atomic_load_explicit(&o->s->timeout, memory_order_relaxed);
  weft__deadline_init(&o->d, o->timeout, o->what); /* never NaN */
}

enum { READING, WRITING, FLUSHING };

/* Pin h, check the stream is open for the side (READING or WRITING; a
 * FLUSHING call of a read-only stream returns 1 holding nothing: it does
 * nothing), fix the call's mode and take the side.  On failure nothing
 * is held. */
static weft_status op_begin(op *o, weft_handle h, int how,
                            const char *what) {
  streamobj *s = weft__handle_pin(h, WEFT_KIND_STREAM, what);
  if (s == NULL)
    return WEFT__PIN_FAILED;
  *o = (op){.s = s, .h = h, .what = what};
  int writing = how != READING;
  weft_status st = 0;
  if (how == FLUSHING && !s->writable)
    st = 1;
  else if (writing ? !s->writable : !s->readable)
    st = weft__error(-EBADF, EBADF, "%s: stream is not %s", what,
                     writing ? "writable" : "readable");
  if (st == 0) {
    op_mode(o);
    st = side_enter(o, writing ? &s->wr : &s->rd);
  }
  if (st != 0)
    weft__handle_unpin(h);
  return st;
}

static void op_end(op *o) {
  if (o->held == &o->s->rd)
    rb_settle(o->s);
  side_leave(o->held);
  weft__handle_unpin(o->h);
}

typedef weft_status (*read_fn)(op *o, char *buf, size_t cap, size_t *n);

static weft_status read_call(weft_handle stream, void *buf, size_t cap,
                             size_t *n, read_fn fn, const char *what) {
  WEFT__CHECK_PTR(n, what);
  *n = 0; /* every failure says nothing was read */
  weft_status st = size_check(buf, cap, what);
  if (st < 0)
    return st;
  op o;
  st = op_begin(&o, stream, READING, what);
  if (st < 0)
    return st;
  st = fn(&o, buf, cap, n);
  if (st < 0 && st != WEFT_ERANGE)
    *n = 0;
  op_end(&o);
  return st;
}

WEFT_API weft_status weft_stream_read(weft_handle stream, void *buf,
                                      size_t cap, size_t *n) {
  return read_call(stream, buf, cap, n, do_read, "stream_read");
}

WEFT_API weft_status weft_stream_read1(weft_handle stream, void *buf,
                                       size_t cap, size_t *n) {
  return read_call(stream, buf, cap, n, do_read1, "stream_read1");
}

WEFT_API weft_status weft_stream_readall(weft_handle stream, void *buf,
                                         size_t cap, size_t *n) {
  return read_call(stream, buf, cap, n, do_readall, "stream_readall");
}

WEFT_API weft_status weft_stream_readline(weft_handle stream, int64_t limit,
                                          void *buf, size_t cap, size_t *n) {
  WEFT__CHECK_PTR(n, "stream_readline");
  *n = 0;
  weft_status st = size_check(buf, cap, "stream_readline");
  if (st < 0)
    return st;
  op o;
  st = op_begin(&o, stream, READING, "stream_readline");
  if (st < 0)
    return st;
  st = do_readline(&o, limit, buf, cap, n);
  if (st < 0 && st != WEFT_ERANGE)
    *n = 0;
  op_end(&o);
  return st;
}

WEFT_API weft_status weft_stream_write(weft_handle stream, const void *buf,
                                       size_t len, size_t *written) {
  WEFT__CHECK_PTR(written, "stream_write");
  /* Before anything can fail: callers resume after *written bytes when a
   * call fails (-EINTR waiting for the write side included). */
  *written = 0;
  weft_status st = size_check(buf, len, "stream_write");
  if (st < 0)
    return st;
  op o;
  st = op_begin(&o, stream, WRITING, "stream_write");
  if (st < 0)
    return st;
  if (len > 0)
    st = do_write(&o, buf, len, written);
  op_end(&o);
  return st;
}

WEFT_API weft_status weft_stream_flush(weft_handle stream) {
  op o;
  weft_status st = op_begin(&o, stream, FLUSHING, "stream_flush");
  if (st != 0)
    return st < 0 ? st : 0;
  st = flush_locked(&o);
  op_end(&o);
  return st;
}

/* ---- attributes ---- */

static streamobj *pin(weft_handle h, const char *what) {
  return weft__handle_pin(h, WEFT_KIND_STREAM, what);
}

WEFT_API weft_status weft_stream_fileno(weft_handle stream, int *fd) {
  WEFT__CHECK_PTR(fd, "stream_fileno");
  streamobj *s = pin(stream, "stream_fileno");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  *fd = s->fd;
  weft__handle_unpin(stream);
  return 0;
}

WEFT_API weft_status weft_stream_readable(weft_handle stream,
                                          int *readable) {
  WEFT__CHECK_PTR(readable, "stream_readable");
  streamobj *s = pin(stream, "stream_readable");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  *readable = s->readable;
  weft__handle_unpin(stream);
  return 0;
}

WEFT_API weft_status weft_stream_writable(weft_handle stream,
                                          int *writable) {
  WEFT__CHECK_PTR(writable, "stream_writable");
  streamobj *s = pin(stream, "stream_writable");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  *writable = s->writable;
  weft__handle_unpin(stream);
  return 0;
}

WEFT_API weft_status weft_stream_set_timeout(weft_handle stream,
                                             double timeout) {
  if (isnan(timeout))
    return weft__error(WEFT_EVALUE, 0, "stream_set_timeout: timeout is NaN");
  streamobj *s = pin(stream, "stream_set_timeout");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  atomic_store(&s->timeout, timeout < 0 ? -1.0 : timeout);
  weft__handle_unpin(stream);
  return 0;
}

WEFT_API weft_status weft_stream_get_timeout(weft_handle stream,
                                             double *timeout) {
  WEFT__CHECK_PTR(timeout, "stream_get_timeout");
  streamobj *s = pin(stream, "stream_get_timeout");
  if (s == NULL)
    return WEFT__PIN_FAILED;
  *timeout = atomic_load(&s->timeout);
  weft__handle_unpin(stream);
  return 0;
}

/* ---- creation ---- */

/* mode: 'r', 'w' and 'b', each at most once, at least one of r and w. */
static weft_status parse_mode(const char *mode, int *readable, int *writable,
                              const char *what) {
  WEFT__CHECK_PTR(mode, what);
  int r = 0, w = 0, b = 0;
  for (const char *p = mode; *p != '\0'; p++) {
    int *seen = *p == 'r' ? &r : *p == 'w' ? &w : *p == 'b' ? &b : NULL;
    if (seen == NULL || *seen)
      return weft__error(WEFT_EVALUE, 0,
                         "%s: invalid mode \"%.40s\" (r, w and b, each at "
                         "most once)",
                         what, mode);
    *seen = 1;
  }
  if (!r && !w)
    return weft__error(WEFT_EVALUE, 0,
                       "%s: mode \"%.40s\" has neither r nor w", what, mode);
  *readable = r;
  *writable = w;
  return 0;
}

static weft_status buffering_check(int64_t buffering, const char *what) {
  if (buffering < -1)
    return weft__error(WEFT_EVALUE, 0,
                       "%s: buffering must be >= -1, not %lld", what,
                       (long long)buffering);
  if ((uint64_t)buffering > (uint64_t)SSIZE_MAX && buffering != -1)
    return weft__error(WEFT_EVALUE, 0, "%s: buffering %lld is too big",
                       what, (long long)buffering);
  return 0;
}

static void stream_free(streamobj *s) {
  side_destroy(&s->rd);
  side_destroy(&s->wr);
  weft__fdq_destroy(&s->q);
  free(s->rbuf);
  free(s->wbuf);
  free(s);
}

/* A stream over a duplicate of fd (arguments checked). */
static weft_status stream_make(int fd, int readable, int writable,
                               int64_t buffering, double timeout,
                               weft_handle *out, const char *what) {
  int dup = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0)
    return weft__errno(errno, what);
  struct stat st_buf;
  int is_socket = fstat(dup, &st_buf) == 0 && S_ISSOCK(st_buf.st_mode);
  /* A socket's calls pass MSG_DONTWAIT, so its flags (which the caller's
   * descriptor shares) are left alone; read(2) and write(2) have no such
   * flag, so anything else is put in O_NONBLOCK mode. */
  int flags = is_socket ? 0 : fcntl(dup, F_GETFL);
  if (flags < 0 || (!is_socket && !(flags & O_NONBLOCK) &&
                    fcntl(dup, F_SETFL, flags | O_NONBLOCK) < 0)) {
    int err = errno;
    close(dup);
    return weft__errno(err, what);
  }

  streamobj *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(dup);
    return weft__errno(ENOMEM, what);
  }
  s->fd = dup;
  s->is_socket = is_socket;
  s->readable = readable;
  s->writable = writable;
  s->line_buffered = buffering == 1;
  s->size = buffering == -1 || buffering == 1 ? DEFAULT_BUFFER
                                              : (size_t)buffering;
  atomic_init(&s->timeout, timeout < 0 ? -1.0 : timeout);
  s->wkick = -1;
  weft__fdq_init(&s->q);
  side_init(&s->rd);
  side_init(&s->wr);
  int nomem = 0;
  if (readable && s->size > 0) {
    s->rbuf = malloc(s->size);
    s->rcap = s->size;
    nomem |= s->rbuf == NULL;
  }
  if (writable && s->size > 0) {
    s->wbuf = malloc(s->size);
    s->wcap = s->size;
    nomem |= s->wbuf == NULL;
  }
  weft_status st = nomem ? weft__errno(ENOMEM, what)
                         : weft__handle_new(WEFT_KIND_STREAM, s, out);
  if (st < 0) {
    stream_free(s);
    close(dup);
  }
  return st;
}

WEFT_API weft_status weft_stream_new(int fd, const char *mode,
                                     int64_t buffering, weft_handle *out) {
  WEFT__CHECK_PTR(out, "stream_new");
  int readable, writable;
  weft_status st = parse_mode(mode, &readable, &writable, "stream_new");
  if (st == 0)
    st = buffering_check(buffering, "stream_new");
  if (st < 0)
    return st;
  return stream_make(fd, readable, writable, buffering, -1.0, out,
                     "stream_new");
}

WEFT_API weft_status weft_socket_makefile(weft_handle sock, const char *mode,
                                          int64_t buffering,
                                          weft_handle *out) {
  WEFT__CHECK_PTR(out, "socket_makefile");
  int readable, writable;
  weft_status st = parse_mode(mode, &readable, &writable, "socket_makefile");
  if (st == 0)
    st = buffering_check(buffering, "socket_makefile");
  if (st < 0)
    return st;
  void *obj = weft__handle_pin(sock, WEFT_KIND_SOCKET, "socket_makefile");
  if (obj == NULL)
    return WEFT__PIN_FAILED;
  int fd;
  double timeout;
  weft__socket_fd_timeout(obj, &fd, &timeout);
  st = stream_make(fd, readable, writable, buffering, timeout, out,
                   "socket_makefile");
  weft__handle_unpin(sock);
  return st;
}

/* ---- the kind ---- */

/* weft_close's flush (see the top of the file). */
static weft_status stream_close_flush(void *obj) {
  streamobj *s = obj;
  if (!s->writable)
    return 0;
  pthread_mutex_lock(&s->wr.mu);
  s->wclosing = 1;
  if (s->wkick >= 0)
    weft__eventfd_raise(s->wkick);
  pthread_cond_broadcast(&s->wr.cv); /* side waiters: leave */
  pthread_mutex_unlock(&s->wr.mu);
  op o = {.s = s, .h = 0, .what = "close", .closer = 1};
  op_mode(&o);
  weft_status st = side_enter(&o, &s->wr);
  if (st < 0)
    return st;
  st = flush_locked(&o);
  side_leave(&s->wr);
  return st;
}

static void side_close(side *sd) {
  pthread_mutex_lock(&sd->mu);
  sd->closed = 1;
  pthread_cond_broadcast(&sd->cv);
  pthread_mutex_unlock(&sd->mu);
}

static void stream_close(void *obj) {
  streamobj *s = obj;
  side_close(&s->rd);
  side_close(&s->wr);
  weft__fdq_close(&s->q);
}

/* Runs when no pin is left: no thread is inside a call on the stream. */
static void stream_destroy(void *obj) {
  streamobj *s = obj;
  close(s->fd);
  stream_free(s);
}

/* The fork child: the parent's other threads, which may have held a side
 * or waited, are gone. */
static void side_atfork_child(side *sd) {
  pthread_mutex_init(&sd->mu, NULL);
  weft__cond_init(&sd->cv);
  sd->busy = 0;
}

static void stream_atfork_child(void *obj) {
  streamobj *s = obj;
  side_atfork_child(&s->rd);
  side_atfork_child(&s->wr);
  s->wkick = -1;
  weft__fdq_atfork_child(&s->q);
}

static const weft__kind_ops stream_ops = {.name = "stream",
                                          .close = stream_close,
                                          .destroy = stream_destroy,
                                          .flush = stream_close_flush,
                                          .atfork_child = stream_atfork_child};

__attribute__((constructor)) static void stream_register(void) {
  weft__kind_register(WEFT_KIND_STREAM, &stream_ops);
}
