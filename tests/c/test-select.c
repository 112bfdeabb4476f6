/* test-select.c - weft_select_wait: readiness of sockets and Events, the
 * in-place rewrite of the lists, timeouts, bad handles, interrupts, a
 * close while waiting, and no FD_SETSIZE limit. */
#include <math.h>
#include <sys/resource.h>
#include <sys/select.h>

#include "select-util.h"

static weft_status sel(weft_handle *r, size_t nr, weft_handle *w, size_t nw,
                       weft_handle *x, size_t nx, double timeout,
                       size_t n[3]) {
  return weft_select_wait(r, nr, w, nw, x, nx, timeout, &n[0], &n[1], &n[2]);
}

static weft_handle event(int set) {
  weft_handle e;
  if (weft_event_new(&e) != 0)
    BAIL("event_new: %s", weft_last_error_message());
  if (set)
    weft_event_set(e);
  return e;
}

/* Send until the socket's buffer is full (it stops being writable). */
static void fill(weft_handle s) {
  static char buf[65536];
  size_t sent;
  while (weft_socket_send(s, buf, sizeof buf, MSG_DONTWAIT, &sent) == 0)
    ;
}

static void test_readiness(void) {
  weft_handle a, b, e = event(0);
  sock_pair(&a, &b);
  size_t n[3];
  weft_handle r[2] = {a, e}, w[1] = {a}, x[1] = {a};
  is(sel(r, 2, w, 1, x, 1, 0, n), 0, "a fresh socket is ready");
  ok(n[0] == 0 && n[1] == 1 && n[2] == 0 && w[0] == a,
     "for writing only (%zu %zu %zu)", n[0], n[1], n[2]);

  is(send1(b), 0, "send a byte to it");
  r[0] = a, r[1] = e;
  is(sel(r, 2, NULL, 0, NULL, 0, 0, n), 0, "select after the send");
  ok(n[0] == 1 && r[0] == a && r[1] == e,
     "the socket with data is readable, the clear Event is not");

  weft_event_set(e);
  r[0] = e, r[1] = a;
  is(sel(r, 2, NULL, 0, NULL, 0, 0, n), 0, "select after event_set");
  ok(n[0] == 2 && r[0] == e && r[1] == a,
     "a set Event is readable, and so is the socket, in their order");

  weft_event_clear(e);
  r[0] = e;
  is(sel(r, 1, NULL, 0, NULL, 0, 0, n), -ETIMEDOUT,
     "a cleared Event is not readable");

  fill(a);
  w[0] = a;
  is(sel(NULL, 0, w, 1, NULL, 0, 0, n), -ETIMEDOUT,
     "a socket with a full buffer is not writable");

  is(drain(a), -EAGAIN, "read what there was");
  weft_close(b);
  r[0] = a;
  is(sel(r, 1, NULL, 0, NULL, 0, 0, n), 0,
     "a socket whose peer closed is readable (end of stream)");
  is(n[0], 1, "it is reported");
  weft_close(a);
  weft_close(e);
}

static void test_exceptional(void) {
  weft_handle c, s;
  if (!tcp_pair_raw(&c, &s)) {
    ok(1, "urgent data # SKIP no TCP over loopback");
    return;
  }
  size_t n[3], sent;
  weft_handle x[1] = {s}, r[1] = {s};
  is(sel(r, 1, NULL, 0, x, 1, 0, n), -ETIMEDOUT,
     "a TCP socket without data is neither readable nor exceptional");
  is(weft_socket_send(c, "!", 1, MSG_OOB, &sent), 0, "send urgent data");
  is(sel(NULL, 0, NULL, 0, x, 1, 10, n), 0,
     "urgent data makes the receiver exceptional (POLLPRI)");
  ok(n[2] == 1 && x[0] == s, "it is in the exceptional list");
  weft_close(c);
  weft_close(s);
}

static weft_status do_select_read(job *j) {
  weft_handle r[1] = {j->h};
  return weft_select_wait(r, 1, NULL, 0, NULL, 0, 30, &j->n[0], &j->n[1],
                          &j->n[2]);
}

static weft_status do_select_forever(job *j) {
  weft_handle r[2] = {j->h, j->h2 ? j->h2 : j->h};
  return weft_select_wait(r, 2, NULL, 0, NULL, 0, -1, &j->n[0], &j->n[1],
                          &j->n[2]);
}

static void test_wakeups(void) {
  pthread_t t;
  weft_handle e = event(0);
  job j = {.call = do_select_read, .h = e};
  ok(job_start(&j, &t), "a select on a clear Event sleeps in poll");
  weft_event_set(e);
  pthread_join(t, NULL);
  is(j.st, 0, "event_set from another thread wakes it");
  is(j.n[0], 1, "with the Event readable");
  weft_close(e);

  weft_handle a, b;
  sock_pair(&a, &b);
  j = (job){.call = do_select_read, .h = a};
  ok(job_start(&j, &t), "a select on a socket sleeps in poll");
  send1(b);
  pthread_join(t, NULL);
  is(j.st, 0, "data sent from another thread wakes it");
  is(j.n[0], 1, "with the socket readable");
  weft_close(a);
  weft_close(b);
}

static void test_timeouts(void) {
  weft_handle e = event(0);
  weft_handle r[1] = {e};
  size_t n[3] = {9, 9, 9};
  is(sel(r, 1, NULL, 0, NULL, 0, 0, n), -ETIMEDOUT,
     "timeout 0 polls: -ETIMEDOUT when nothing is ready");
  ok(n[0] == 0 && n[1] == 0 && n[2] == 0, "every count is 0");
  is(strcmp(weft_last_error_message(), "select_wait: timed out after 0s"), 0,
     "the message says so (%s)", weft_last_error_message());
  n[0] = n[1] = n[2] = 9;
  is(sel(r, 1, NULL, 0, NULL, 0, 0.05, n), -ETIMEDOUT,
     "a 0.05 s select on a clear Event times out");
  ok(n[0] == 0 && n[1] == 0 && n[2] == 0, "every count is 0");
  is(strcmp(weft_last_error_message(), "select_wait: timed out after 0.05s"),
     0, "the message says so (%s)", weft_last_error_message());
  is(sel(NULL, 0, NULL, 0, NULL, 0, 0.01, n), -ETIMEDOUT,
     "a select on nothing sleeps out its timeout");
  weft_close(e);
}

static void test_compaction(void) {
  weft_handle e[6];
  for (int i = 0; i < 6; i++)
    e[i] = event(i == 1 || i == 3 || i == 4);
  weft_handle r[6];
  memcpy(r, e, sizeof r);
  size_t n[3];
  is(sel(r, 6, NULL, 0, NULL, 0, 0, n), 0, "select over six Events");
  is(n[0], 3, "three are ready");
  ok(r[0] == e[1] && r[1] == e[3] && r[2] == e[4],
     "the ready ones come first, in their order");
  ok(r[3] == e[0] && r[4] == e[2] && r[5] == e[5],
     "the others follow, in their order");

  weft_handle s[4], peer[4];
  for (int i = 0; i < 4; i++) {
    sock_pair(&s[i], &peer[i]);
    if (i % 2 == 0)
      fill(s[i]);
  }
  weft_handle w[4];
  memcpy(w, s, sizeof w);
  is(sel(NULL, 0, w, 4, NULL, 0, 0, n), 0, "select over four sockets");
  ok(n[1] == 2 && w[0] == s[1] && w[1] == s[3] && w[2] == s[0] &&
         w[3] == s[2],
     "the writable ones first, then the full ones, each in order");

  /* Duplicates: each occurrence is its own entry. */
  weft_handle d[3] = {e[0], e[1], e[1]};
  is(sel(d, 3, NULL, 0, NULL, 0, 0, n), 0, "a handle twice in one list");
  ok(n[0] == 2 && d[0] == e[1] && d[1] == e[1] && d[2] == e[0],
     "both occurrences are reported");
  weft_handle r2[1] = {s[1]}, w2[2] = {s[1], s[1]};
  is(sel(r2, 1, w2, 2, NULL, 0, 0, n), 0, "a socket in two lists");
  ok(n[0] == 0 && n[1] == 2, "each list says what it is ready for");

  for (int i = 0; i < 6; i++)
    weft_close(e[i]);
  for (int i = 0; i < 4; i++) {
    weft_close(s[i]);
    weft_close(peer[i]);
  }
}

static void test_arguments(void) {
  weft_handle a, b;
  sock_pair(&a, &b);
  weft_handle w[1] = {a};
  size_t n[3];
  is(sel(NULL, 0, w, 1, NULL, 0, 0, n), 0,
     "NULL lists with count 0 are fine");
  is(sel(NULL, 1, w, 1, NULL, 0, 0, n), WEFT_EVALUE,
     "a NULL list with a count is EVALUE");
  is(weft_select_wait(NULL, 0, w, 1, NULL, 0, 0, NULL, &n[1], &n[2]),
     WEFT_EVALUE, "a NULL count is EVALUE");
  is(sel(NULL, 0, w, 1, NULL, 0, NAN, n), WEFT_EVALUE,
     "a NaN timeout is EVALUE");
  /* Counts whose sum wraps around to a small total (as -1 through an FFI
   * might): refused before a list is read, whatever the per-handle size
   * select_wait works with. */
  weft_handle one[1] = {0};
  int refused = 1;
  for (size_t per = 8; per <= 512; per += 8) {
    size_t nr = SIZE_MAX / per, nx = SIZE_MAX - nr + 1 + 3; /* total 3 */
    weft_status st = sel(one, nr, NULL, 0, one, nx, 0, n);
    if (st != WEFT_EVALUE) {
      diag("per %zu: %s", per, weft_err_name(st));
      refused = 0;
    }
    st = sel(one, nr - 1, one, 1, one, nx, 0, n);
    if (st != WEFT_EVALUE) {
      diag("per %zu (split): %s", per, weft_err_name(st));
      refused = 0;
    }
  }
  ok(refused, "counts whose sum wraps are EVALUE");
  weft_close(a);
  weft_close(b);
}

static void test_bad_handles(void) {
  weft_handle e = event(1), dead = event(0), lock, poller;
  weft_close(dead);
  weft_lock_new(&lock);
  weft_poller_new(0, &poller);
  weft_handle bad[] = {0, -1, BIG, dead, lock, poller};
  const char *name[] = {"0",      "-1",      "2^53", "a closed Event",
                        "a Lock", "a poller"};
  for (int i = 0; i < 6; i++) {
    weft_handle r[2] = {e, e}, x[2] = {e, bad[i]};
    size_t n[3] = {77, 77, 77};
    is(sel(r, 2, NULL, 0, x, 2, 0, n), WEFT_EBADHANDLE,
       "%s in a list is EBADHANDLE", name[i]);
    ok(r[0] == e && r[1] == e && x[0] == e && x[1] == bad[i],
       "nothing is rewritten (%s)", name[i]);
    ok(n[0] == 77 && n[1] == 77 && n[2] == 77, "no count is set (%s)",
       name[i]);
    weft_handle r1[1] = {bad[i]};
    is(sel(r1, 1, NULL, 0, NULL, 0, 0, n), WEFT_EBADHANDLE,
       "%s alone is EBADHANDLE", name[i]);
  }
  is(weft_lock_acquire(lock, 0), 0, "the Lock was not touched");
  weft_close(lock);
  weft_close(poller);
  weft_close(e);
}

/* An Event's descriptor is made on its first select or registration;
 * when it cannot be (no descriptor left), the failure names the call. */
static void test_no_descriptor(void) {
  weft_handle poller, e1 = event(1), e2 = event(1);
  if (weft_poller_new(0, &poller) != 0)
    BAIL("poller_new: %s", weft_last_error_message());
  struct rlimit old, low;
  getrlimit(RLIMIT_NOFILE, &old);
  low = old;
  if (low.rlim_cur > 1024)
    low.rlim_cur = 1024;
  setrlimit(RLIMIT_NOFILE, &low);
  static int fill[1024];
  int nfill = 0, fd;
  while (nfill < 1024 && (fd = dup(2)) >= 0)
    fill[nfill++] = fd;
  if (nfill == 1024 || errno != EMFILE) {
    ok(1, "select_wait without a descriptor # SKIP cannot fill the table");
    ok(1, "poller_register without a descriptor # SKIP cannot fill it");
  } else {
    weft_handle r[1] = {e1};
    size_t n[3];
    weft_status st = sel(r, 1, NULL, 0, NULL, 0, 0, n);
    const char *m = weft_last_error_message();
    ok(st == -EMFILE && strncmp(m, "select_wait: ", 13) == 0,
       "select_wait without a descriptor for the Event: %s (%s)",
       weft_err_name(st), m);
    st = weft_poller_register(poller, e2, POLLIN, 1);
    m = weft_last_error_message();
    ok(st == -EMFILE && strncmp(m, "poller_register: ", 17) == 0,
       "poller_register without a descriptor for the Event: %s (%s)",
       weft_err_name(st), m);
  }
  while (nfill > 0)
    close(fill[--nfill]);
  setrlimit(RLIMIT_NOFILE, &old);
  weft_handle r[1] = {e1};
  size_t n[3];
  is(sel(r, 1, NULL, 0, NULL, 0, 0, n), 0, "with descriptors again it works");
  weft_close(poller);
  weft_close(e1);
  weft_close(e2);
}

static weft_status do_interrupt_self(job *j) {
  /* A pending interrupt: a select that can finish without blocking does,
   * and leaves it for the next one that would block. */
  weft_thread_interrupt(j->self);
  weft_handle r[1] = {j->h};
  weft_status st = weft_select_wait(r, 1, NULL, 0, NULL, 0, -1, &j->n[0],
                                    &j->n[1], &j->n[2]);
  j->keys[0] = st;
  j->keys[1] = (int64_t)j->n[0];
  weft_event_clear(j->h);
  r[0] = j->h;
  return weft_select_wait(r, 1, NULL, 0, NULL, 0, 30, &j->n[0], &j->n[1],
                          &j->n[2]);
}

static void test_interrupt(void) {
  pthread_t t;
  weft_handle e = event(0);
  job j = {.call = do_select_forever, .h = e};
  ok(job_start(&j, &t), "a select without timeout sleeps in poll");
  is(weft_thread_interrupt(j.self), 0, "interrupt it");
  pthread_join(t, NULL);
  is(j.st, -EINTR, "the select returns -EINTR");

  weft_event_set(e);
  j = (job){.call = do_interrupt_self, .h = e};
  t = spawn(job_main, &j);
  pthread_join(t, NULL);
  ok(j.keys[0] == 0 && j.keys[1] == 1,
     "with an interrupt pending, a select with a ready handle reports it");
  is(j.st, -EINTR, "and the next select that would block is interrupted");
  weft_close(e);
}

static void test_close_while_waiting(void) {
  pthread_t t;
  weft_handle e = event(0), other = event(0);
  job j = {.call = do_select_forever, .h = e, .h2 = other};
  ok(job_start(&j, &t), "a select on two Events sleeps in poll");
  weft_close(e);
  pthread_join(t, NULL);
  is(j.st, WEFT_ECLOSED, "closing one of them wakes it with ECLOSED");
  weft_handle r[1] = {other};
  size_t n[3];
  is(sel(r, 1, NULL, 0, NULL, 0, 0, n), -ETIMEDOUT,
     "the other one still works");

  weft_handle a, b;
  sock_pair(&a, &b);
  j = (job){.call = do_select_forever, .h = a};
  ok(job_start(&j, &t), "a select on a socket sleeps in poll");
  weft_close(a);
  pthread_join(t, NULL);
  is(j.st, WEFT_ECLOSED, "closing the socket wakes it with ECLOSED");
  weft_close(b);
  weft_close(other);
}

static void test_many(void) {
  enum { N = 5000 };
  long lim = raise_nofile();
  if (lim < 2 * N + 100) {
    ok(1, "select over %d sockets # SKIP RLIMIT_NOFILE is %ld", N, lim);
    return;
  }
  static weft_handle a[N], b[N], r[N], w[N];
  for (int i = 0; i < N; i++)
    sock_pair(&a[i], &b[i]);
  ok(sock_fd(a[N - 1]) >= FD_SETSIZE, "descriptors beyond FD_SETSIZE (%d)",
     sock_fd(a[N - 1]));
  int want = 0;
  for (int i = 0; i < N; i++)
    if (i % 7 == 3) {
      send1(b[i]);
      want++;
    }
  memcpy(r, a, sizeof r);
  size_t n[3];
  is(sel(r, N, NULL, 0, NULL, 0, 10, n), 0, "select over %d sockets", N);
  is(n[0], want, "as many are readable as were sent to");
  int exact = 1;
  for (int i = 0, k = 0; i < N; i++)
    if (i % 7 == 3)
      exact &= r[k++] == a[i];
  ok(exact, "exactly those, in order");
  memcpy(w, b, sizeof w);
  memcpy(r, b, sizeof r);
  is(sel(r, N, w, N, NULL, 0, 0, n), 0, "select over %d peers, twice", N);
  ok(n[0] == 0 && n[1] == N, "every peer is writable, none readable");
  for (int i = 0; i < N; i++) {
    weft_close(a[i]);
    weft_close(b[i]);
  }
}

int main(void) {
  size_t n[3];
  sel(NULL, 0, NULL, 0, NULL, 0, 0.001, n); /* this thread's wake fd */
  int fds0 = open_fds();
  test_readiness();
  test_exceptional();
  test_wakeups();
  test_timeouts();
  test_compaction();
  test_arguments();
  test_bad_handles();
  test_no_descriptor();
  test_interrupt();
  test_close_while_waiting();
  test_many();
  is(open_fds(), fds0, "every descriptor is released at the end");
  return done_testing();
}
