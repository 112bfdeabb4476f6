/* stream-util.h - helpers shared by the stream tests: pipes, raw writes
 * and reads on the test's side of a pipe, byte comparisons, and a thread
 * that runs one stream call so that the test can act while it blocks.
 *
 * "The thread is blocked in the call" is read from
 * /proc/self/task/TID/syscall: a stream call waiting for its descriptor
 * sleeps in ppoll(2), one waiting for a side of the stream (another
 * thread holds it) in futex(2).  Where /proc cannot tell, a generous
 * sleep stands in. */
#ifndef WEFT_STREAM_UTIL_H
#define WEFT_STREAM_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sync-util.h"

/* Wait (up to 20 s) until thread tid sleeps in system call nr, twice in
 * a row 10 ms apart.  1 when it does, 0 on timeout. */
static inline int wait_in_syscall(int tid, long nr) {
  int streak = 0;
  for (int round = 0; round < 2000; round++) {
    long r = tid_syscall(tid);
    if (r == -1) { /* no /proc: a generous grace period */
      sleep_s(0.3);
      return 1;
    }
    streak = r == nr ? streak + 1 : 0;
    if (streak == 2)
      return 1;
    sleep_s(0.01);
  }
  return 0;
}

#define wait_in_poll(tid) wait_in_syscall((tid), SYS_ppoll)
#define wait_in_futex(tid) wait_in_syscall((tid), SYS_futex)

static inline void mkpipe(int p[2]) {
  if (pipe2(p, O_CLOEXEC) != 0)
    BAIL("pipe2: %s", strerror(errno));
}

static inline void mkpair(int p[2]) {
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) != 0)
    BAIL("socketpair: %s", strerror(errno));
}

static inline weft_handle mkstream(int fd, const char *mode,
                                   int64_t buffering) {
  weft_handle h = 0;
  weft_status st = weft_stream_new(fd, mode, buffering, &h);
  if (st != 0)
    BAIL("weft_stream_new(%d, %s, %lld): %s", fd, mode, (long long)buffering,
         weft_last_error_message());
  return h;
}

/* Write all of (p, n) to a raw descriptor (which a stream may have made
 * non-blocking: wait for it then). */
static inline void put_bytes(int fd, const void *p, size_t n) {
  const char *c = p;
  while (n > 0) {
    ssize_t r = write(fd, c, n);
    if (r < 0 && errno == EAGAIN) {
      struct pollfd pf = {fd, POLLOUT, 0};
      poll(&pf, 1, -1);
      continue;
    }
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      BAIL("write(%d): %s", fd, strerror(errno));
    c += r;
    n -= (size_t)r;
  }
}

static inline void put(int fd, const char *s) { put_bytes(fd, s, strlen(s)); }

/* 1 if fd has data to read (or its end) right now. */
static inline int readable_now(int fd) {
  struct pollfd pf = {fd, POLLIN, 0};
  return poll(&pf, 1, 0) == 1;
}

/* Read what fd has right now (never blocks), up to cap bytes. */
static inline size_t grab(int fd, char *buf, size_t cap) {
  size_t got = 0;
  while (got < cap && readable_now(fd)) {
    ssize_t r = read(fd, buf + got, cap - got);
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  return got;
}

/* Read exactly n bytes from a raw descriptor, waiting as needed; the
 * count (less than n only at the end or on an error). */
static inline size_t take_bytes(int fd, char *buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    struct pollfd pf = {fd, POLLIN, 0};
    poll(&pf, 1, -1);
    ssize_t r = read(fd, buf + got, n - got);
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
      continue;
    if (r <= 0)
      break;
    got += (size_t)r;
  }
  return got;
}

/* (got, n) holds exactly the string want. */
static inline int same(const void *got, size_t n, const char *want) {
  return n == strlen(want) && memcmp(got, want, n) == 0;
}

#define is_bytes(got, n, want, ...)                                          \
  do {                                                                       \
    size_t n_ = (n);                                                         \
    if (!ok(same((got), n_, (want)), __VA_ARGS__))                           \
      printf("#   got %zu bytes \"%.*s\", want \"%s\"\n", n_,                \
             (int)(n_ < 200 ? n_ : 200), (const char *)(got), (want));       \
  } while (0)

/* A thread (alien, made interruptible with weft_thread_current) that
 * runs one stream call. */
typedef struct job {
  weft_status (*call)(struct job *);
  weft_handle h;     /* the stream */
  char buf[512];     /* reads land here */
  size_t cap, n;     /* read: cap and *n; write: *written in n */
  const void *data;  /* writes come from here */
  size_t len;
  int64_t limit;     /* readline */
  weft_handle self;  /* the thread's own handle */
  _Atomic int tid;
  _Atomic int done;
  weft_status st;
  pthread_t thread;
} job;

static inline void *job_main(void *p) {
  job *j = p;
  weft_thread_current(&j->self);
  atomic_store(&j->tid, self_tid());
  j->st = j->call(j);
  atomic_store(&j->done, 1);
  return NULL;
}

static inline void job_start(job *j) {
  atomic_store(&j->tid, 0);
  atomic_store(&j->done, 0);
  if (j->cap == 0)
    j->cap = sizeof j->buf;
  j->thread = spawn(job_main, j);
  while (atomic_load(&j->tid) == 0)
    sleep_s(0.001);
}

static inline weft_status job_join(job *j) {
  pthread_join(j->thread, NULL);
  return j->st;
}

static inline weft_status call_readline(job *j) {
  return weft_stream_readline(j->h, j->limit, j->buf, j->cap, &j->n);
}

static inline weft_status call_read(job *j) {
  return weft_stream_read(j->h, j->buf, j->cap, &j->n);
}

static inline weft_status call_write(job *j) {
  return weft_stream_write(j->h, j->data, j->len, &j->n);
}

static inline weft_status call_flush(job *j) {
  return weft_stream_flush(j->h);
}

#endif
