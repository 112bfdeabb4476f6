/* thread-util.h - small helpers shared by the threading tests.  Tests
 * that must know a thread is blocked in a wait use sync-util.h's
 * tid_in_futex / wait_all_blocked (a thread parked at a gate below sleeps
 * in nanosleep, not futex, so the two are told apart). */
#ifndef WEFT_THREAD_UTIL_H
#define WEFT_THREAD_UTIL_H

#include <dirent.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sync-util.h"
#include "tap.h"

static inline double now_s(void) { return weft_monotonic(); }

/* Poll `expr` every millisecond for up to `secs` seconds; its final value. */
#define WAIT_FOR(expr, secs)                                                 \
  ({                                                                         \
    double until_ = now_s() + (secs);                                        \
    while (!(expr) && now_s() < until_)                                      \
      usleep(1000);                                                          \
    (expr);                                                                  \
  })

/* A gate a thread waits at until the test opens it (plain atomics, so the
 * threading tests do not lean on weft's own primitives). */
typedef struct gate {
  _Atomic int open;
  _Atomic int waiting;
} gate;

static inline void gate_wait(gate *g) {
  atomic_fetch_add(&g->waiting, 1);
  while (!atomic_load(&g->open))
    usleep(500);
}

static inline void gate_open(gate *g) { atomic_store(&g->open, 1); }

static inline void gate_reset(gate *g) {
  atomic_store(&g->open, 0);
  atomic_store(&g->waiting, 0);
}

/* The thread's name, in a static buffer ("" on error). */
static inline const char *name_of(weft_handle h) {
  static _Thread_local char buf[256];
  size_t len;
  if (weft_thread_get_name(h, buf, sizeof buf, &len) != 0)
    buf[0] = '\0';
  return buf;
}

static inline int handle_listed(weft_handle h) {
  weft_handle buf[4096];
  size_t n = 0;
  if (weft_thread_enumerate(buf, 4096, &n) != 0)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (buf[i] == h)
      return 1;
  return 0;
}

static inline size_t active(void) {
  size_t n = 0;
  weft_thread_active_count(&n);
  return n;
}

static inline int is_alive(weft_handle h) {
  int alive = -1;
  if (weft_thread_is_alive(h, &alive) != 0)
    return -1;
  return alive;
}

/* Threads: from /proc/self/status (-1 if unreadable). */
static inline int os_thread_count(void) {
  FILE *f = fopen("/proc/self/status", "r");
  if (f == NULL)
    return -1;
  char line[256];
  int n = -1;
  while (fgets(line, sizeof line, f) != NULL)
    if (sscanf(line, "Threads: %d", &n) == 1)
      break;
  fclose(f);
  return n;
}

/* The kernel id of this process's thread whose OS name is `name`, or 0. */
static inline int tid_named(const char *name) {
  DIR *d = opendir("/proc/self/task");
  if (d == NULL)
    return 0;
  int tid = 0;
  struct dirent *e;
  while (tid == 0 && (e = readdir(d)) != NULL) {
    char path[300], comm[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
    FILE *f = fopen(path, "r");
    if (f == NULL)
      continue;
    if (fgets(comm, sizeof comm, f) != NULL) {
      comm[strcspn(comm, "\n")] = '\0';
      if (strcmp(comm, name) == 0)
        tid = atoi(e->d_name);
    }
    fclose(f);
  }
  closedir(d);
  return tid;
}

/* Wait up to `secs` seconds for child `pid` to exit: its exit status, or
 * -1 if it was killed by a signal or did not exit in time (then it is
 * killed, so a hung child fails the check instead of hanging the test). */
static inline int wait_child(pid_t pid, double secs) {
  double until = now_s() + secs;
  int status = 0;
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (r < 0 || now_s() > until) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    usleep(2000);
  }
}

static inline int handle_open(weft_handle h) {
  int kind;
  return weft_handle_kind(h, &kind) == 0;
}

#endif
