/* bench-socket.c - weft's sockets and poller beside raw C baselines
 * (`make bench`).
 *
 * Each figure is measured in the same run as its baseline, alternating the
 * two, best of RUNS (the best is the run least disturbed by the machine).
 * Nothing here asserts on time: the table is for people.
 *
 *   loopback TCP bulk      weft_socket_sendall/recv   vs blocking send/recv
 *   ping-pong round trip   weft_socket_send/recv      vs blocking send/recv
 *                          (both sides on one CPU, and on two)
 *   poller wait            1 ready of 10,000 registered vs 1 ready of 10
 *
 * Usage: bench-socket [-q]   (-q: fewer iterations, for a smoke run) */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

#define RUNS 7
#define CHUNK (64 * 1024)

static long bulk_bytes = 64L << 20, rounds = 20000, polls = 200000;
/* Bulk runs are short and many: throughput on this machine class swings
 * from run to run more than between weft and the baseline. */
#define BULK_RUNS 25

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void must(weft_status st, const char *what) {
  if (st == 0)
    return;
  fprintf(stderr, "bench-socket: %s failed: %s: %s\n", what,
          weft_err_name(st), weft_last_error_message());
  exit(1);
}

static void must_os(int ok, const char *what) {
  if (ok)
    return;
  fprintf(stderr, "bench-socket: %s failed: %s\n", what, strerror(errno));
  exit(1);
}

static void row(const char *measure, const char *unit, double weft,
                double base, const char *target) {
  char w[32], b[32];
  snprintf(w, sizeof w, "%.1f %s", weft, unit);
  snprintf(b, sizeof b, "%.1f %s", base, unit);
  printf("%-50s %12s %12s %6.2fx %8s\n", measure, w, b, weft / base, target);
  fflush(stdout);
}

/* ---- connected loopback TCP pairs, raw and weft ------------------------ */

static void raw_pair(int *client, int *server) {
  struct sockaddr_in sa = {.sin_family = AF_INET,
                           .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof sa;
  int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  must_os(l >= 0, "socket");
  must_os(bind(l, (struct sockaddr *)&sa, sizeof sa) == 0, "bind");
  must_os(listen(l, 1) == 0, "listen");
  must_os(getsockname(l, (struct sockaddr *)&sa, &len) == 0, "getsockname");
  *client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  must_os(connect(*client, (struct sockaddr *)&sa, sizeof sa) == 0,
          "connect");
  *server = accept4(l, NULL, NULL, SOCK_CLOEXEC);
  must_os(*server >= 0, "accept");
  close(l);
  int one = 1;
  setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(*server, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void weft_pair(weft_handle *client, weft_handle *server) {
  unsigned char a[WEFT_SOCKADDR_MAX];
  size_t len;
  weft_handle l;
  must(weft_socket_new(AF_INET, SOCK_STREAM, 0, &l), "socket_new");
  must(weft_sockaddr_make(AF_INET, "127.0.0.1", 9, 0, 0, 0, a, sizeof a,
                          &len),
       "sockaddr_make");
  must(weft_socket_bind(l, a, len), "bind");
  must(weft_socket_listen(l, 1), "listen");
  must(weft_socket_getsockname(l, a, sizeof a, &len), "getsockname");
  must(weft_socket_new(AF_INET, SOCK_STREAM, 0, client), "socket_new");
  must(weft_socket_connect(*client, a, len), "connect");
  must(weft_socket_accept(l, NULL, 0, &len, server), "accept");
  must(weft_close(l), "close");
  must(weft_socket_setsockopt(*client, IPPROTO_TCP, TCP_NODELAY, 1), "nodelay");
  must(weft_socket_setsockopt(*server, IPPROTO_TCP, TCP_NODELAY, 1), "nodelay");
}

/* The two sides run pinned: where the scheduler puts them unpinned
 * decides the figure more than anything either side does (a wake-up
 * across CPUs of this machine class costs tens of microseconds, on one
 * CPU a few), so each placement is measured on its own, the same for
 * weft and the baseline. */
static int far_cpu; /* the echo side's CPU; the near side is on CPU 0 */

static void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void unpin(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (int i = 0; i < CPU_SETSIZE; i++)
    CPU_SET(i, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* ---- 1. bulk throughput ------------------------------------------------ */

static char *bulk_buf_send, *bulk_buf_recv;

static void *raw_sink(void *arg) {
  int fd = *(int *)arg;
  pin_to(far_cpu);
  while (recv(fd, bulk_buf_recv, CHUNK, 0) > 0)
    ;
  return NULL;
}

static double bulk_raw(void) {
  int c, s;
  pthread_t t;
  raw_pair(&c, &s);
  pthread_create(&t, NULL, raw_sink, &s);
  double t0 = now();
  for (long done = 0; done < bulk_bytes;) {
    ssize_t n = send(c, bulk_buf_send, CHUNK, MSG_NOSIGNAL);
    must_os(n > 0, "send");
    done += n;
  }
  shutdown(c, SHUT_WR);
  pthread_join(t, NULL);
  double dt = now() - t0;
  close(c);
  close(s);
  return (double)bulk_bytes / dt / 1e6;
}

static int weft_sink(void *arg) {
  weft_handle s = *(weft_handle *)arg;
  size_t n;
  pin_to(far_cpu);
  while (weft_socket_recv(s, 0, bulk_buf_recv, CHUNK, &n) == 0 && n > 0)
    ;
  return 0;
}

static double bulk_weft(void) {
  weft_handle c, s, t;
  weft_pair(&c, &s);
  must(weft_thread_new(weft_sink, &s, "sink", &t), "thread_new");
  must(weft_thread_start(t), "thread_start");
  double t0 = now();
  for (long done = 0; done < bulk_bytes;) {
    size_t n;
    must(weft_socket_send(c, bulk_buf_send, CHUNK, 0, &n), "send");
    done += (long)n;
  }
  must(weft_socket_shutdown(c, SHUT_WR), "shutdown");
  must(weft_thread_join(t, -1), "join");
  double dt = now() - t0;
  weft_close(t);
  weft_close(c);
  weft_close(s);
  return (double)bulk_bytes / dt / 1e6;
}

static void bench_bulk(int cpu, const char *measure) {
  bulk_buf_send = calloc(1, CHUNK);
  bulk_buf_recv = calloc(1, CHUNK);
  double w = 0, b = 0;
  far_cpu = cpu;
  pin_to(0);
  for (int r = 0; r < BULK_RUNS; r++) {
    double x = bulk_weft(), y = bulk_raw();
    w = x > w ? x : w;
    b = y > b ? y : b;
  }
  unpin();
  row(measure, "MB/s", w, b, ">= 0.95x");
  free(bulk_buf_send);
  free(bulk_buf_recv);
}

/* ---- 2. ping-pong ------------------------------------------------------ */

static void *raw_echo(void *arg) {
  int fd = *(int *)arg;
  char b;
  pin_to(far_cpu);
  while (recv(fd, &b, 1, 0) == 1)
    send(fd, &b, 1, MSG_NOSIGNAL);
  return NULL;
}

static double pingpong_raw(void) {
  int c, s;
  pthread_t t;
  char b = 'x';
  raw_pair(&c, &s);
  pthread_create(&t, NULL, raw_echo, &s);
  for (long i = 0; i < rounds / 10; i++) { /* both settle where pinned */
    send(c, &b, 1, MSG_NOSIGNAL);
    must_os(recv(c, &b, 1, 0) == 1, "recv");
  }
  double t0 = now();
  for (long i = 0; i < rounds; i++) {
    send(c, &b, 1, MSG_NOSIGNAL);
    must_os(recv(c, &b, 1, 0) == 1, "recv");
  }
  double dt = now() - t0;
  shutdown(c, SHUT_WR);
  pthread_join(t, NULL);
  close(c);
  close(s);
  return dt / (double)rounds * 1e6;
}

static int weft_echo(void *arg) {
  weft_handle s = *(weft_handle *)arg;
  char b;
  size_t n;
  pin_to(far_cpu);
  while (weft_socket_recv(s, 0, &b, 1, &n) == 0 && n == 1)
    weft_socket_send(s, &b, 1, 0, &n);
  return 0;
}

static double pingpong_weft(void) {
  weft_handle c, s, t;
  char b = 'x';
  size_t n;
  weft_pair(&c, &s);
  must(weft_thread_new(weft_echo, &s, "echo", &t), "thread_new");
  must(weft_thread_start(t), "thread_start");
  for (long i = 0; i < rounds / 10; i++) {
    weft_socket_send(c, &b, 1, 0, &n);
    must(weft_socket_recv(c, 0, &b, 1, &n), "recv");
  }
  double t0 = now();
  for (long i = 0; i < rounds; i++) {
    weft_socket_send(c, &b, 1, 0, &n);
    must(weft_socket_recv(c, 0, &b, 1, &n), "recv");
  }
  double dt = now() - t0;
  weft_socket_shutdown(c, SHUT_WR);
  must(weft_thread_join(t, -1), "join");
  weft_close(t);
  weft_close(c);
  weft_close(s);
  return dt / (double)rounds * 1e6;
}

static void bench_pingpong(int cpu, const char *measure) {
  double w = 1e30, b = 1e30;
  far_cpu = cpu;
  pin_to(0);
  for (int r = 0; r < RUNS; r++) {
    double x = pingpong_weft(), y = pingpong_raw();
    w = x < w ? x : w;
    b = y < b ? y : b;
  }
  unpin();
  row(measure, "us", w, b, "<= 1.05x");
}

/* ---- 3. poller wait with many registrations --------------------------- */

/* Time one weft_poller_poll that finds 1 ready among n registered
 * descriptors: both ends of n / 2 socket pairs, watched for POLLIN; one
 * end has a byte waiting (level-triggered, so every call finds it). */
static double poller_cost(int n) {
  int pairs = n / 2;
  weft_handle p, *a = malloc(sizeof *a * (size_t)pairs),
                 *b = malloc(sizeof *b * (size_t)pairs);
  must(weft_poller_new(0, &p), "poller_new");
  for (int i = 0; i < pairs; i++) {
    must(weft_socket_pair_new(AF_UNIX, SOCK_STREAM, 0, &a[i], &b[i]),
         "socket_pair_new");
    must(weft_poller_register(p, a[i], POLLIN, 2 * i), "poller_register");
    must(weft_poller_register(p, b[i], POLLIN, 2 * i + 1), "poller_register");
  }
  size_t sent;
  must(weft_socket_send(b[pairs / 2], "x", 1, 0, &sent), "send");
  int64_t keys[16];
  uint32_t events[16];
  size_t got = 0;
  double best = 1e30;
  for (int r = 0; r < RUNS; r++) {
    double t0 = now();
    for (long i = 0; i < polls; i++)
      must(weft_poller_poll(p, -1, keys, events, 16, &got), "poller_poll");
    double dt = (now() - t0) / (double)polls * 1e9;
    best = dt < best ? dt : best;
  }
  if (got != 1 || keys[0] != 2 * (pairs / 2)) {
    fprintf(stderr, "bench-socket: the poller found %zu ready\n", got);
    exit(1);
  }
  for (int i = 0; i < pairs; i++) {
    weft_close(a[i]);
    weft_close(b[i]);
  }
  weft_close(p);
  free(a);
  free(b);
  return best;
}

static void bench_poller(void) {
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = rl.rlim_max;
  setrlimit(RLIMIT_NOFILE, &rl);
  if (rl.rlim_cur < 10100) {
    printf("%-50s (skipped: only %ld descriptors)\n",
           "poller wait, 1 ready of 10,000", (long)rl.rlim_cur);
    return;
  }
  double small = poller_cost(10), big = poller_cost(10000);
  row("poller wait, 1 ready of 10,000 (vs 1 of 10)", "ns", big, small,
      "<= 1.2x");
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-q") == 0) {
    bulk_bytes /= 8;
    rounds /= 10;
    polls /= 10;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  printf("\nweft %s socket benchmarks: best of %d runs, ratio = weft / "
         "baseline\n",
         weft_version(), RUNS);
  printf("\n%-50s %12s %12s %7s %8s\n", "measure", "weft", "baseline",
         "ratio", "target");
  int two = sysconf(_SC_NPROCESSORS_ONLN) > 1;
  bench_bulk(0, "loopback TCP bulk, 64 KiB sends, one CPU");
  if (two)
    bench_bulk(1, "loopback TCP bulk, 64 KiB sends, two CPUs");
  bench_pingpong(0, "TCP ping-pong, 1 byte, both on one CPU");
  if (two)
    bench_pingpong(1, "TCP ping-pong, 1 byte, on two CPUs");
  bench_poller();
  return 0;
}
