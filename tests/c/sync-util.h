/* sync-util.h - helpers shared by the synchronisation tests.
 *
 * Tests start threads with raw pthreads, and tell "this thread is blocked
 * in a wait" by reading /proc/self/task/TID/syscall: a waiter is blocked
 * once the kernel shows it inside futex(2).  Where /proc cannot tell, a
 * generous sleep stands in. */
#ifndef WEFT_SYNC_UTIL_H
#define WEFT_SYNC_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"
#include "weft.h"

#define BIG ((weft_handle)1 << 53)

static inline void sleep_s(double s) {
  struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) != 0)
    ;
}

static inline pthread_t spawn(void *(*fn)(void *), void *arg) {
  pthread_t t;
  if (pthread_create(&t, NULL, fn, arg) != 0)
    BAIL("pthread_create failed");
  return t;
}

static inline int self_tid(void) { return (int)syscall(SYS_gettid); }

/* The system call thread `tid` is in: its number, -2 running, -1 /proc
 * cannot tell. */
static inline long tid_syscall(int tid) {
  char path[64], buf[128];
  snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
  FILE *f = fopen(path, "r");
  if (f == NULL)
    return -1;
  char *line = fgets(buf, sizeof buf, f);
  fclose(f);
  if (line == NULL)
    return -1;
  if (buf[0] == 'r')
    return -2; /* "running" */
  if (buf[0] < '0' || buf[0] > '9')
    return -1;
  return atol(buf);
}

/* 1 blocked in futex, 0 not, -1 /proc cannot tell. */
static inline int tid_in_futex(int tid) {
  long nr = tid_syscall(tid);
  return nr == -1 ? -1 : nr == SYS_futex;
}

/* 1 if thread `tid` sleeps in one of the system calls weft's descriptor
 * waits use (poll, ppoll, epoll_wait, epoll_pwait), 0 if not, -1 if /proc
 * cannot tell. */
static inline int tid_in_poll(int tid) {
  long nr = tid_syscall(tid);
  if (nr == -1)
    return -1;
  return nr == SYS_ppoll || nr == SYS_epoll_pwait
#ifdef SYS_poll
         || nr == SYS_poll
#endif
#ifdef SYS_epoll_wait
         || nr == SYS_epoll_wait
#endif
#ifdef SYS_epoll_pwait2
         || nr == SYS_epoll_pwait2
#endif
      ;
}

/* Wait (up to 20 s) until thread *tidp (0 until published) sleeps in a
 * descriptor wait, twice in a row 20 ms apart.  1 when it does. */
static inline int wait_in_poll(_Atomic int *tidp) {
  int streak = 0;
  for (int round = 0; round < 1000; round++) {
    int tid = atomic_load(tidp);
    int r = tid ? tid_in_poll(tid) : 0;
    if (r < 0) { /* no /proc: a generous grace period */
      sleep_s(0.3);
      return 1;
    }
    streak = r ? streak + 1 : 0;
    if (streak == 2)
      return 1;
    sleep_s(0.02);
  }
  return 0;
}

/* Wait (up to 20 s) until the n threads whose tids are published in
 * tids[] (0 until a thread is about to block) all sleep in futex(2), twice
 * in a row 20 ms apart.  Returns 1 when they do, 0 on timeout. */
static inline int wait_all_blocked(_Atomic int *tids, int n) {
  int streak = 0;
  for (int round = 0; round < 1000; round++) {
    int all = 1, unknown = 0;
    for (int i = 0; i < n && all; i++) {
      int tid = atomic_load(&tids[i]);
      int r = tid ? tid_in_futex(tid) : 0;
      if (r < 0)
        unknown = 1;
      all = r != 0;
    }
    if (all && unknown) { /* no /proc: a generous grace period */
      sleep_s(0.3);
      return 1;
    }
    streak = all ? streak + 1 : 0;
    if (streak == 2)
      return 1;
    sleep_s(0.02);
  }
  return 0;
}

#endif
