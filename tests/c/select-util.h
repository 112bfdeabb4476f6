/* select-util.h - helpers shared by the select and poller tests: threads
 * that are interruptible (they called weft_thread_current), telling that a
 * thread sleeps in poll(2) or epoll_wait, socket pairs, descriptor
 * counts and the descriptor limit. */
#ifndef WEFT_SELECT_UTIL_H
#define WEFT_SELECT_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sync-util.h"
#include "tap.h"
#include "weft.h"

/* A thread that makes itself interruptible (weft_thread_current), then
 * runs one call and keeps its status. */
typedef struct job {
  weft_status (*call)(struct job *);
  weft_handle h, h2; /* what the call works on */
  weft_handle self;  /* the thread's own handle */
  _Atomic int tid;   /* published just before the call */
  weft_status st;
  size_t n[3]; /* counts the call reports */
  int64_t keys[8];
  uint32_t events[8];
} job;

static inline void *job_main(void *p) {
  job *j = p;
  if (weft_thread_current(&j->self) != 0)
    BAIL("weft_thread_current: %s", weft_last_error_message());
  atomic_store(&j->tid, self_tid());
  j->st = j->call(j);
  return NULL;
}

/* Start j and wait until its call sleeps in poll; 1 if it does. */
static inline int job_start(job *j, pthread_t *t) {
  atomic_store(&j->tid, 0);
  *t = spawn(job_main, j);
  return wait_in_poll(&j->tid);
}

/* A connected AF_UNIX stream pair of sockets. */
static inline void sock_pair(weft_handle *a, weft_handle *b) {
  if (weft_socket_pair_new(AF_UNIX, SOCK_STREAM, 0, a, b) != 0)
    BAIL("socket_pair_new: %s", weft_last_error_message());
}

static inline int sock_fd(weft_handle s) {
  int fd = -1;
  weft_socket_fileno(s, &fd);
  return fd;
}

/* Send one byte (non-blocking). */
static inline weft_status send1(weft_handle s) {
  size_t sent;
  return weft_socket_send(s, "x", 1, MSG_DONTWAIT, &sent);
}

/* Read until the socket would block (-EAGAIN), as an edge-triggered
 * reader does; the status of the last recv. */
static inline weft_status drain(weft_handle s) {
  char buf[4096];
  size_t n;
  weft_status st;
  while ((st = weft_socket_recv(s, MSG_DONTWAIT, buf, sizeof buf, &n)) == 0 &&
         n > 0)
    ;
  return st;
}

/* A TCP connection over 127.0.0.1 made with plain system calls, both ends
 * as sockets (weft_socket_fromfd_new); 0 on failure. */
static inline int tcp_pair_raw(weft_handle *client, weft_handle *server) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int ok_ = l >= 0 && c >= 0 && bind(l, (struct sockaddr *)&a, len) == 0 &&
            listen(l, 1) == 0 &&
            getsockname(l, (struct sockaddr *)&a, &len) == 0 &&
            connect(c, (struct sockaddr *)&a, len) == 0;
  int s = ok_ ? accept4(l, NULL, NULL, SOCK_CLOEXEC) : -1;
  ok_ = s >= 0 && weft_socket_fromfd_new(c, -1, -1, -1, client) == 0 &&
        weft_socket_fromfd_new(s, -1, -1, -1, server) == 0;
  if (l >= 0)
    close(l);
  if (c >= 0)
    close(c);
  if (s >= 0)
    close(s);
  return ok_;
}

/* How many descriptors the process has open. */
static inline int open_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL)
    return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL)
    n += e->d_name[0] != '.';
  closedir(d);
  return n - 1; /* the directory's own */
}

/* Raise the soft descriptor limit to the hard one; the new soft limit. */
static inline long raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return -1;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur == RLIM_INFINITY ? LONG_MAX : (long)rl.rlim_cur;
}

#endif
