/* bench.c - weft's costs beside the raw pthread baselines (`make bench`).
 *
 * Each figure is measured in the same run as its baseline, alternating the
 * two, and is the best (minimum) of RUNS runs so a noisy neighbour cannot
 * inflate it.  Nothing here asserts on time: the table is for people.
 *
 *   lock acquire+release   weft_lock_acquire/release   vs pthread_mutex
 *   thread start+join      weft_thread_new/start/join/close
 *                                                      vs pthread_create/join
 *   Event ping-pong        two threads, two Events     vs mutex + condvar
 *   10,000 pending timers  RSS and thread count        vs a thread per timer
 *
 * Usage: bench [-q]   (-q: fewer iterations, for a smoke run) */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

#define RUNS 5
#define TIMERS 10000

static long lock_iters = 5000000, thread_iters = 2000, pingpong_iters = 20000;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void must(weft_status st, const char *what) {
  if (st == 0)
    return;
  fprintf(stderr, "bench: %s failed: %s: %s\n", what, weft_err_name(st),
          weft_last_error_message());
  exit(1);
}

static void must_os(int err, const char *what) {
  if (err == 0)
    return;
  fprintf(stderr, "bench: %s failed: %s\n", what, strerror(err));
  exit(1);
}

static double min2(double a, double b) { return a < b ? a : b; }

/* ---- table ------------------------------------------------------------- */

/* One line of the table; figures in KiB or plain counts are whole. */
static void row(const char *measure, const char *unit, double weft,
                double base, const char *target) {
  char w[32], b[32], r[32];
  int prec = unit[0] == '\0' || strcmp(unit, "KiB") == 0 ? 0 : 1;
  const char *sep = unit[0] ? " " : "";
  snprintf(w, sizeof w, "%.*f%s%s", prec, weft, sep, unit);
  snprintf(b, sizeof b, "%.*f%s%s", prec, base, sep, unit);
  if (base > 0)
    snprintf(r, sizeof r, "%.2fx", weft / base);
  else
    snprintf(r, sizeof r, "-");
  printf("%-50s %12s %12s %7s %8s\n", measure, w, b, r, target);
  fflush(stdout);
}

/* ---- 1. lock acquire+release ------------------------------------------- */

static double lock_weft(weft_handle lock) {
  double t0 = now();
  for (long i = 0; i < lock_iters; i++) {
    weft_lock_acquire(lock, -1);
    weft_lock_release(lock);
  }
  return (now() - t0) / (double)lock_iters * 1e9;
}

static double lock_pthread(pthread_mutex_t *m) {
  double t0 = now();
  for (long i = 0; i < lock_iters; i++) {
    pthread_mutex_lock(m);
    pthread_mutex_unlock(m);
  }
  return (now() - t0) / (double)lock_iters * 1e9;
}

/* glibc's mutexes (and weft's Lock) skip atomics while the process has a
 * single thread, so the figure is taken in both situations. */
static void bench_lock(const char *measure) {
  weft_handle lock;
  pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
  double w = 1e30, b = 1e30;
  must(weft_lock_new(&lock), "lock_new");
  /* One check that the loop measures working calls, not error returns. */
  must(weft_lock_acquire(lock, -1), "lock_acquire");
  must(weft_lock_release(lock), "lock_release");
  for (int r = 0; r < RUNS; r++) {
    w = min2(w, lock_weft(lock));
    b = min2(b, lock_pthread(&m));
  }
  must(weft_close(lock), "close");
  row(measure, "ns", w, b, "<= 1.5x");
}

/* ---- 2. thread start+join ---------------------------------------------- */

static int nothing(void *arg) { return 0; }
static void *nothing_p(void *arg) { return arg; }

static double thread_weft(void) {
  double t0 = now();
  for (long i = 0; i < thread_iters; i++) {
    weft_handle t;
    must(weft_thread_new(nothing, NULL, "bench", &t), "thread_new");
    must(weft_thread_start(t), "thread_start");
    must(weft_thread_join(t, -1), "thread_join");
    must(weft_close(t), "close");
  }
  return (now() - t0) / (double)thread_iters * 1e6;
}

static double thread_pthread(void) {
  double t0 = now();
  for (long i = 0; i < thread_iters; i++) {
    pthread_t t;
    must_os(pthread_create(&t, NULL, nothing_p, NULL), "pthread_create");
    must_os(pthread_join(t, NULL), "pthread_join");
  }
  return (now() - t0) / (double)thread_iters * 1e6;
}

static void bench_thread(void) {
  double w = 1e30, b = 1e30;
  for (int r = 0; r < RUNS; r++) {
    w = min2(w, thread_weft());
    b = min2(b, thread_pthread());
  }
  row("thread start+join (vs pthread_create+join)", "us", w, b, "<= 1.1x");
}

/* ---- 3. Event ping-pong ------------------------------------------------ */

static weft_handle ping, pong;

/* The far side: wait for ping, clear it, answer with pong.  The near side
 * sets ping again only after seeing pong, so no set is lost to a clear. */
static int pong_side(void *arg) {
  for (long i = 0; i < pingpong_iters; i++) {
    must(weft_event_wait(ping, -1), "event_wait");
    must(weft_event_clear(ping), "event_clear");
    must(weft_event_set(pong), "event_set");
  }
  return 0;
}

static double pingpong_weft(void) {
  weft_handle t;
  must(weft_event_new(&ping), "event_new");
  must(weft_event_new(&pong), "event_new");
  must(weft_thread_new(pong_side, NULL, "pong", &t), "thread_new");
  must(weft_thread_start(t), "thread_start");
  double t0 = now();
  for (long i = 0; i < pingpong_iters; i++) {
    must(weft_event_set(ping), "event_set");
    must(weft_event_wait(pong, -1), "event_wait");
    must(weft_event_clear(pong), "event_clear");
  }
  double dt = now() - t0;
  must(weft_thread_join(t, -1), "thread_join");
  must(weft_close(t), "close");
  must(weft_close(ping), "close");
  must(weft_close(pong), "close");
  return dt / (double)pingpong_iters * 1e6;
}

/* The same exchange with a mutex, a condvar and a turn flag. */
static pthread_mutex_t pp_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_cond = PTHREAD_COND_INITIALIZER;
static int pp_turn; /* 0: near side's turn, 1: far side's; under pp_mutex */

static void pp_take_turn(int mine) {
  pthread_mutex_lock(&pp_mutex);
  while (pp_turn != mine)
    pthread_cond_wait(&pp_cond, &pp_mutex);
  pp_turn = !mine;
  pthread_cond_signal(&pp_cond);
  pthread_mutex_unlock(&pp_mutex);
}

static void *pp_far(void *arg) {
  for (long i = 0; i < pingpong_iters; i++)
    pp_take_turn(1);
  return arg;
}

static double pingpong_pthread(void) {
  pthread_t t;
  pp_turn = 0;
  must_os(pthread_create(&t, NULL, pp_far, NULL), "pthread_create");
  double t0 = now();
  for (long i = 0; i < pingpong_iters; i++)
    pp_take_turn(0);
  /* The far side's last turn ends the exchange. */
  pthread_mutex_lock(&pp_mutex);
  while (pp_turn != 0)
    pthread_cond_wait(&pp_cond, &pp_mutex);
  pthread_mutex_unlock(&pp_mutex);
  double dt = now() - t0;
  must_os(pthread_join(t, NULL), "pthread_join");
  return dt / (double)pingpong_iters * 1e6;
}

static void bench_pingpong(void) {
  double w = 1e30, b = 1e30;
  for (int r = 0; r < RUNS; r++) {
    w = min2(w, pingpong_weft());
    b = min2(b, pingpong_pthread());
  }
  row("Event ping-pong round trip (vs condvar)", "us", w, b, "-");
}

/* ---- 4. 10,000 pending timers ------------------------------------------ */

/* VmRSS in KiB and the number of threads, from /proc/self/status. */
static void proc_status(long *rss_kib, long *threads) {
  char line[256];
  FILE *f = fopen("/proc/self/status", "r");
  *rss_kib = *threads = -1;
  if (f == NULL)
    return;
  while (fgets(line, sizeof line, f)) {
    sscanf(line, "VmRSS: %ld", rss_kib);
    sscanf(line, "Threads: %ld", threads);
  }
  fclose(f);
}

static int never(void *arg) { return 0; }

static weft_handle timers[TIMERS];

static void timers_weft(long *rss_kib, long *threads, double *start_us) {
  long rss0, thr0, rss1, thr1;
  proc_status(&rss0, &thr0);
  double t0 = now();
  for (int i = 0; i < TIMERS; i++) {
    must(weft_timer_new(3600, never, NULL, NULL, &timers[i]), "timer_new");
    must(weft_thread_start(timers[i]), "thread_start");
  }
  *start_us = (now() - t0) / TIMERS * 1e6;
  usleep(200000); /* let the service thread file them all */
  proc_status(&rss1, &thr1);
  for (int i = 0; i < TIMERS; i++) {
    must(weft_timer_cancel(timers[i]), "timer_cancel");
    must(weft_thread_join(timers[i], -1), "thread_join");
    must(weft_close(timers[i]), "close");
  }
  *rss_kib = rss1 - rss0;
  *threads = thr1 - thr0;
}

/* The baseline is what a Timer costs when each one is a thread blocked in
 * a timed wait (Python's threading.Timer).  It runs in a child process
 * started before weft has done anything, so neither side reuses the
 * other's memory. */
static pthread_mutex_t tp_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t tp_cond = PTHREAD_COND_INITIALIZER;
static int tp_stop; /* under tp_mutex */

static void *timer_thread(void *arg) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 3600;
  pthread_mutex_lock(&tp_mutex);
  while (!tp_stop)
    if (pthread_cond_timedwait(&tp_cond, &tp_mutex, &deadline) == ETIMEDOUT)
      break;
  pthread_mutex_unlock(&tp_mutex);
  return arg;
}

static void timers_pthread_child(int fd) {
  static pthread_t t[TIMERS];
  long res[3] = {0, 0, 0}, rss0, thr0, rss1, thr1;
  int n = 0;
  proc_status(&rss0, &thr0);
  double t0 = now();
  while (n < TIMERS && pthread_create(&t[n], NULL, timer_thread, NULL) == 0)
    n++;
  double dt = now() - t0;
  usleep(200000);
  proc_status(&rss1, &thr1);
  pthread_mutex_lock(&tp_mutex);
  tp_stop = 1;
  pthread_cond_broadcast(&tp_cond);
  pthread_mutex_unlock(&tp_mutex);
  for (int i = 0; i < n; i++)
    pthread_join(t[i], NULL);
  res[0] = n == TIMERS ? rss1 - rss0 : -1;
  res[1] = thr1 - thr0;
  res[2] = n ? (long)(dt / n * 1e9) : 0;
  if (write(fd, res, sizeof res) != (ssize_t)sizeof res)
    _exit(1);
  _exit(0);
}

/* Run the baseline in a child; 1 with res = {RSS KiB, threads, ns per
 * pthread_create} when all TIMERS threads could be made. */
static int timers_pthread(long res[3]) {
  int p[2], status, ok;
  if (pipe(p) != 0)
    return 0;
  pid_t pid = fork();
  if (pid < 0)
    return 0;
  if (pid == 0) {
    close(p[0]);
    timers_pthread_child(p[1]);
  }
  close(p[1]);
  ok = read(p[0], res, 3 * sizeof(long)) == 3 * (ssize_t)sizeof(long);
  close(p[0]);
  waitpid(pid, &status, 0);
  return ok && res[0] >= 0;
}

int main(int argc, char **argv) {
  long base[3] = {0, 0, 0}, rss, threads;
  double start_us;
  if (argc > 1 && strcmp(argv[1], "-q") == 0) {
    lock_iters /= 10;
    thread_iters /= 10;
    pingpong_iters /= 10;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("weft %s benchmarks: best of %d runs, ratio = weft / baseline\n",
         weft_version(), RUNS);
#ifdef WEFT_BENCH_SANITIZER
  if (WEFT_BENCH_SANITIZER[0])
    printf("NOTE: a sanitizer build (%s): these figures mean little\n",
           WEFT_BENCH_SANITIZER);
#endif
  printf("\n%-50s %12s %12s %7s %8s\n", "measure", "weft", "baseline",
         "ratio", "target");
  /* The lock in a single-threaded process first, before any thread. */
  bench_lock("lock acquire+release, 1 thread (vs pthread_mutex)");
  /* Memory next, while the process is fresh: the baseline's child is
   * forked before weft has started anything. */
  if (!timers_pthread(base))
    base[0] = base[1] = base[2] = 0;
  timers_weft(&rss, &threads, &start_us);
  bench_lock("lock acquire+release, threaded (vs pthread_mutex)");
  bench_thread();
  bench_pingpong();
  row("10,000 pending timers: RSS added (vs thread each)", "KiB", (double)rss,
      (double)base[0], "-");
  row("10,000 pending timers: threads added", "", (double)threads,
      (double)base[1], "-");
  row("timer new+start (vs pthread_create)", "us", start_us,
      (double)base[2] * 1e-3, "-");
  return 0;
}
