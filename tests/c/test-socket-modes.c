/* test-socket-modes.c - Python's three modes (blocking, non-blocking,
 * timeout), interrupts, close while blocked, and sendall of 64 MiB. */
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "socket-util.h"

static double now(void) { return weft_monotonic(); }

/* ---- non-blocking ---- */

static void test_nonblocking(void) {
  weft_handle c, s;
  tcp_pair(AF_INET, &c, &s);
  char buf[16];
  size_t n = 99;
  weft_socket_set_blocking(s, 0);
  is(weft_socket_recv(s, 0, buf, sizeof buf, &n), -EAGAIN,
     "non-blocking recv with no data is -EAGAIN");
  size_t sent;
  weft_socket_send(c, "abc", 3, 0, &sent);
  weft_socket_set_blocking(s, 1);
  is(weft_socket_recv(s, MSG_PEEK, buf, sizeof buf, &n), 0, "MSG_PEEK");
  ok(n == 3 && memcmp(buf, "abc", 3) == 0, "peeks the data");
  is(weft_socket_recv(s, 0, buf, sizeof buf, &n), 0, "recv after the peek");
  ok(n == 3 && memcmp(buf, "abc", 3) == 0, "still gets it: nothing was lost");
  is(weft_socket_recv(s, MSG_DONTWAIT, buf, sizeof buf, &n), -EAGAIN,
     "MSG_DONTWAIT makes one call of a blocking socket non-blocking");

  addr a;
  weft_handle l = listener(AF_INET, SOCK_STREAM, &a), x;
  weft_socket_set_timeout(l, 0);
  is(weft_socket_accept(l, NULL, 0, &n, &x), -EAGAIN,
     "non-blocking accept with nobody waiting is -EAGAIN");
  weft_handle nb;
  weft_socket_new(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0, &nb);
  weft_status st = weft_socket_connect(nb, a.b, a.len);
  ok(st == -EINPROGRESS || st == 0,
     "non-blocking connect is -EINPROGRESS (or done at once on loopback: %s)",
     weft_err_name(st));
  int fd;
  weft_socket_fileno(nb, &fd);
  struct pollfd p = {fd, POLLOUT, 0};
  poll(&p, 1, 5000);
  int err = -1;
  weft_socket_getsockopt(nb, SOL_SOCKET, SO_ERROR, &err);
  is(err, 0, "and completes (SO_ERROR 0 once writable)");
  weft_socket_set_timeout(l, 5);
  is(weft_socket_accept(l, NULL, 0, &n, &x), 0, "the listener gets it");
  weft_close(x);
  weft_close(nb);
  weft_close(l);
  weft_close(c);
  weft_close(s);
}

/* ---- timeouts ---- */

static void test_timeouts(void) {
  weft_handle c, s;
  tcp_pair(AF_INET, &c, &s);
  char buf[16];
  size_t n;
  weft_socket_set_timeout(s, 0.2);
  double t0 = now();
  is(weft_socket_recv(s, 0, buf, sizeof buf, &n), -ETIMEDOUT,
     "recv in timeout mode with no data is -ETIMEDOUT");
  ok(now() - t0 >= 0.2, "not before the timeout");
  ok(strstr(weft_last_error_message(), "timed out") != NULL,
     "the message says it timed out (%s)", weft_last_error_message());

  size_t sent;
  weft_socket_send(c, "abc", 3, 0, &sent);
  is(weft_socket_recv(s, MSG_WAITALL, buf, 10, &n), 0,
     "MSG_WAITALL that times out after some data returns them");
  is(n, 3, "the 3 bytes that came");
  is(weft_socket_recv(s, 0, buf, sizeof buf, &n), -ETIMEDOUT,
     "and the next call times out");

  /* A send that cannot go: fill both buffers. */
  weft_socket_setsockopt(c, SOL_SOCKET, SO_SNDBUF, 4096);
  weft_socket_setsockopt(s, SOL_SOCKET, SO_RCVBUF, 4096);
  weft_socket_set_timeout(c, 0.2);
  static char big[1 << 20];
  weft_status st = weft_socket_sendall(c, big, sizeof big, 0, &sent);
  is(st, -ETIMEDOUT, "sendall that cannot finish times out");
  ok(sent > 0 && sent < sizeof big, "having sent part (%zu bytes)", sent);
  /* Exactly `sent` bytes went: read them all. */
  weft_socket_shutdown(c, SHUT_WR);
  weft_socket_set_timeout(s, 5);
  size_t total = 0;
  while (weft_socket_recv(s, 0, big, sizeof big, &n) == 0 && n > 0)
    total += n;
  is(total, sent, "*sent is exactly what the peer receives");
  weft_close(c);
  weft_close(s);
}

/* A blocked call keeps its deadline through signals (PEP 475). */
static void on_usr1(int sig) { (void)sig; }

typedef struct blocked {
  weft_handle sock;
  double timeout;
  _Atomic int tid;
  _Atomic int done;
  weft_status st;
  double took;
  size_t n;
} blocked;

static void *recv_blocked(void *arg) {
  blocked *b = arg;
  weft_handle me;
  weft_thread_current(&me); /* interruptible */
  char buf[64];
  atomic_store(&b->tid, self_tid());
  double t0 = now();
  b->st = weft_socket_recv(b->sock, 0, buf, sizeof buf, &b->n);
  b->took = now() - t0;
  atomic_store(&b->done, 1);
  return NULL;
}

static void test_deadline_across_signals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1; /* no SA_RESTART: poll returns EINTR */
  sigaction(SIGUSR1, &sa, NULL);
  weft_handle c, s;
  tcp_pair(AF_INET, &c, &s);
  weft_socket_set_timeout(s, 0.3);
  blocked b = {.sock = s};
  pthread_t t = spawn(recv_blocked, &b);
  wait_in_poll(&b.tid);
  int sent_signals = 0;
  double until = now() + 5;
  while (!atomic_load(&b.done) && now() < until) {
    pthread_kill(t, SIGUSR1);
    sent_signals++;
    sleep_s(0.01);
  }
  int still_signalling = now() < until;
  pthread_join(t, NULL);
  is(b.st, -ETIMEDOUT, "signals do not end a timed recv early");
  ok(b.took >= 0.3, "it waited its whole timeout (%.3fs)", b.took);
  ok(still_signalling && sent_signals > 5,
     "and ended while signals still came (%d): they do not restart it",
     sent_signals);
  weft_close(c);
  weft_close(s);
  signal(SIGUSR1, SIG_DFL);
}

/* ---- interrupts ---- */

typedef struct intr_job {
  weft_handle sock;
  int op; /* 0 recv, 1 accept, 2 send (full), 3 connect, 4 recv WAITALL */
  addr to;
  _Atomic int tid;
  weft_status st, st2;
  size_t n;
} intr_job;

static int intr_target(void *arg) {
  intr_job *j = arg;
  char buf[64];
  size_t n;
  weft_handle x;
  static char big[1 << 20];
  atomic_store(&j->tid, self_tid());
  switch (j->op) {
  case 0:
    j->st = weft_socket_recv(j->sock, 0, buf, sizeof buf, &n);
    break;
  case 1:
    j->st = weft_socket_accept(j->sock, NULL, 0, &n, &x);
    if (j->st == 0)
      weft_close(x);
    break;
  case 2:
    j->st = weft_socket_sendall(j->sock, big, sizeof big, 0, &n);
    break;
  case 4: /* then the next call, which the interrupt must reach */
    j->st = weft_socket_recv(j->sock, MSG_WAITALL, buf, 10, &j->n);
    j->st2 = weft_socket_recv(j->sock, 0, buf, sizeof buf, &n);
    break;
  default:
    j->st = weft_socket_connect(j->sock, j->to.b, j->to.len);
  }
  return 0;
}

/* Run op on a weft thread, wait until it blocks, then act (interrupt or
 * close) and return its status. */
static weft_status block_then(intr_job *j, int close_it) {
  weft_handle t;
  weft_thread_new(intr_target, j, NULL, &t);
  weft_thread_start(t);
  if (!wait_in_poll(&j->tid))
    diag("the thread did not block in poll");
  if (close_it)
    weft_close(j->sock);
  else
    weft_thread_interrupt(t);
  weft_thread_join(t, 30);
  weft_close(t);
  return j->st;
}

/* A listener whose accept queue is full, so that a connect to it waits
 * (the kernel drops the SYN).  The filler connections go to *fill. */
static weft_handle full_listener(addr *a, weft_handle fill[8], int *nfill) {
  weft_handle l = listener(AF_INET, SOCK_STREAM, a);
  weft_socket_listen(l, 0);
  *nfill = 0;
  for (int i = 0; i < 8; i++) {
    weft_handle c;
    weft_socket_new(AF_INET, SOCK_STREAM, 0, &c);
    weft_socket_set_timeout(c, 0.3);
    weft_status st = weft_socket_connect(c, a->b, a->len);
    if (st != 0) {
      weft_close(c);
      return l;
    }
    fill[(*nfill)++] = c;
  }
  return l;
}

static void test_interrupt(void) {
  weft_handle c, s;
  tcp_pair(AF_INET, &c, &s);
  intr_job j = {.sock = s, .op = 0};
  is(block_then(&j, 0), -EINTR, "an interrupted recv is -EINTR");
  size_t sent, n;
  char buf[16];
  weft_socket_send(c, "late", 4, 0, &sent);
  weft_socket_set_timeout(s, 5);
  is(weft_socket_recv(s, 0, buf, sizeof buf, &n), 0, "the next recv works");
  ok(n == 4 && memcmp(buf, "late", 4) == 0, "and nothing was lost");
  weft_socket_set_timeout(s, -1);

  weft_socket_send(c, "abc", 3, 0, &sent);
  intr_job jw = {.sock = s, .op = 4};
  is(block_then(&jw, 0), 0,
     "an interrupted MSG_WAITALL recv that had data returns it");
  is(jw.n, 3, "the 3 bytes that came");
  is(jw.st2, -EINTR, "and the interrupt stays pending for the next call");

  addr a;
  weft_handle l = listener(AF_INET, SOCK_STREAM, &a);
  intr_job ja = {.sock = l, .op = 1};
  is(block_then(&ja, 0), -EINTR, "an interrupted accept is -EINTR");
  weft_close(l);

  weft_socket_setsockopt(c, SOL_SOCKET, SO_SNDBUF, 4096);
  intr_job js = {.sock = c, .op = 2};
  is(block_then(&js, 0), -EINTR, "an interrupted sendall is -EINTR");
  weft_close(c);
  weft_close(s);

  weft_handle fill[8];
  int nfill;
  weft_handle fl = full_listener(&a, fill, &nfill);
  weft_handle cc;
  weft_socket_new(AF_INET, SOCK_STREAM, 0, &cc);
  intr_job jc = {.sock = cc, .op = 3, .to = a};
  weft_status st = block_then(&jc, 0);
  is(st, -EINTR, "an interrupted connect is -EINTR");
  /* Make room: the attempt that was left running gets in, and the next
   * connect waits for it instead of starting another. */
  for (int i = 0; i < nfill; i++) {
    weft_handle x;
    weft_socket_set_timeout(fl, 2);
    if (weft_socket_accept(fl, NULL, 0, &n, &x) == 0)
      weft_close(x);
  }
  weft_socket_set_timeout(cc, 20);
  is(weft_socket_connect(cc, a.b, a.len), 0,
     "connecting again completes the interrupted attempt");
  for (int i = 0; i < nfill; i++)
    weft_close(fill[i]);
  weft_close(cc);
  weft_close(fl);
}

/* ---- close while blocked ---- */

static void test_close_while_blocked(void) {
  weft_handle c, s;
  int fd;
  tcp_pair(AF_INET, &c, &s);
  weft_socket_fileno(s, &fd);
  struct stat before, after;
  fstat(fd, &before);
  intr_job j = {.sock = s, .op = 0};
  is(block_then(&j, 1), WEFT_ECLOSED,
     "closing a socket wakes a thread blocked in recv with WEFT_ECLOSED");
  ok(fstat(fd, &after) < 0 || after.st_ino != before.st_ino,
     "its descriptor is closed once the waiter left");
  weft_close(c);

  addr a;
  weft_handle l = listener(AF_INET, SOCK_STREAM, &a);
  intr_job ja = {.sock = l, .op = 1};
  is(block_then(&ja, 1), WEFT_ECLOSED, "... blocked in accept");

  tcp_pair(AF_INET, &c, &s);
  weft_socket_setsockopt(c, SOL_SOCKET, SO_SNDBUF, 4096);
  intr_job js = {.sock = c, .op = 2};
  is(block_then(&js, 1), WEFT_ECLOSED, "... blocked in sendall");
  weft_close(s);

  weft_handle fill[8];
  int nfill;
  weft_handle fl = full_listener(&a, fill, &nfill);
  weft_handle cc;
  weft_socket_new(AF_INET, SOCK_STREAM, 0, &cc);
  intr_job jc = {.sock = cc, .op = 3, .to = a};
  is(block_then(&jc, 1), WEFT_ECLOSED, "... blocked in connect");
  for (int i = 0; i < nfill; i++)
    weft_close(fill[i]);
  weft_close(fl);
}

/* ---- sendall of 64 MiB ---- */

#define BULK ((size_t)64 << 20)

static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

typedef struct sink {
  weft_handle sock;
  size_t total;
  uint64_t sum;
  weft_status st;
} sink;

static int sink_run(void *arg) {
  sink *k = arg;
  static unsigned char buf[1 << 16];
  size_t n;
  k->sum = 0xcbf29ce484222325ull;
  /* Odd read sizes, so chunk boundaries never line up with sends. */
  size_t sizes[] = {1, 4093, 65536, 777, 31};
  for (int i = 0;; i++) {
    k->st = weft_socket_recv(k->sock, 0, buf, sizes[i % 5], &n);
    if (k->st != 0 || n == 0)
      break;
    k->sum = fnv(k->sum, buf, n);
    k->total += n;
  }
  return 0;
}

static void test_sendall_bulk(double timeout, const char *label) {
  weft_handle c, s, t;
  tcp_pair(AF_INET, &c, &s);
  weft_socket_set_timeout(c, timeout);
  unsigned char *data = malloc(BULK);
  uint64_t x = 88172645463325252ull;
  for (size_t i = 0; i < BULK; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    data[i] = (unsigned char)x;
  }
  sink k = {.sock = s};
  weft_thread_new(sink_run, &k, NULL, &t);
  weft_thread_start(t);
  size_t sent = 0;
  is(weft_socket_sendall(c, data, BULK, 0, &sent), 0, "%s: sendall 64 MiB",
     label);
  is(sent, BULK, "%s: reports all of it sent", label);
  weft_socket_shutdown(c, SHUT_WR);
  weft_thread_join(t, -1);
  is(k.st, 0, "%s: the receiver saw no error", label);
  is(k.total, BULK, "%s: the receiver got every byte", label);
  ok(k.sum == fnv(0xcbf29ce484222325ull, data, BULK),
     "%s: and the checksum matches", label);
  free(data);
  weft_close(t);
  weft_close(c);
  weft_close(s);
}

int main(void) {
  signal(SIGPIPE, SIG_DFL);
  test_nonblocking();
  test_timeouts();
  test_deadline_across_signals();
  test_interrupt();
  test_close_while_blocked();
  test_sendall_bulk(-1, "blocking");
  test_sendall_bulk(60, "timeout mode");
  return done_testing();
}
