/* test-poller.c - pollers, with the epoll backend and the poll(2) one
 * (WEFT_POLLER_POLL): registrations of handles and raw descriptors, level
 * and edge triggering, one-shot, caps, closing targets and the poller,
 * interrupts, many registrations, bad input and fork. */
#include <math.h>
#include <sys/wait.h>

#include "select-util.h"

static int pflags;    /* the backend under test */
static const char *B; /* its name, at the start of every check */

static weft_handle mk_poller(void) {
  weft_handle p;
  if (weft_poller_new(pflags, &p) != 0)
    BAIL("poller_new: %s", weft_last_error_message());
  return p;
}

static weft_handle event(int set) {
  weft_handle e;
  if (weft_event_new(&e) != 0)
    BAIL("event_new: %s", weft_last_error_message());
  if (set)
    weft_event_set(e);
  return e;
}

/* The last poll's results. */
static int64_t K[64];
static uint32_t E[64];
static size_t N;

static weft_status pollp(weft_handle p, double timeout, size_t cap) {
  N = 99;
  return weft_poller_poll(p, timeout, K, E, cap, &N);
}

/* 1 if the last poll reported key (with events `ev` if ev != 0). */
static int got(int64_t key, uint32_t ev) {
  for (size_t i = 0; i < N; i++)
    if (K[i] == key && (ev == 0 || E[i] == ev))
      return 1;
  return 0;
}

/* Poll once without waiting: 1 if exactly key was reported. */
static int only(weft_handle p, int64_t key) {
  return pollp(p, 0, 64) == 0 && N == 1 && K[0] == key;
}

static int quiet(weft_handle p) {
  return pollp(p, 0, 64) == -ETIMEDOUT && N == 0;
}

static void test_event(void) {
  weft_handle p = mk_poller(), e = event(0);
  is(weft_poller_register(p, e, POLLIN, 42), 0, "%s: register an Event", B);
  ok(quiet(p), "%s: a clear Event is not reported (-ETIMEDOUT, n 0)", B);
  weft_event_set(e);
  ok(only(p, 42) && E[0] == POLLIN, "%s: set: reported, key 42, POLLIN", B);
  ok(only(p, 42), "%s: level-triggered: reported again while set", B);
  weft_event_clear(e);
  ok(quiet(p), "%s: cleared: not reported", B);
  is(weft_poller_register(p, e, POLLIN, 1), -EEXIST,
     "%s: registering twice is -EEXIST", B);
  is(weft_poller_modify(p, e, POLLIN, 43), 0, "%s: modify the key", B);
  weft_event_set(e);
  ok(only(p, 43), "%s: the new key is reported", B);
  is(weft_poller_unregister(p, e), 0, "%s: unregister", B);
  ok(quiet(p), "%s: an unregistered Event is not reported", B);
  is(weft_poller_unregister(p, e), -ENOENT, "%s: unregister again: -ENOENT",
     B);
  is(weft_poller_modify(p, e, POLLIN, 1), -ENOENT,
     "%s: modify after unregister: -ENOENT", B);
  is(weft_poller_register(p, e, POLLIN, 44), 0,
     "%s: register it again after unregister", B);
  ok(only(p, 44), "%s: and it is reported under the new key", B);
  weft_close(p);
  weft_close(e);
}

static void test_fds(void) {
  weft_handle p = mk_poller();
  int fd[2];
  if (pipe2(fd, O_CLOEXEC | O_NONBLOCK) != 0)
    BAIL("pipe2");
  is(weft_poller_register_fd(p, fd[0], POLLIN, 7), 0,
     "%s: register a pipe's read end", B);
  ok(quiet(p), "%s: an empty pipe is not readable", B);
  ok(write(fd[1], "x", 1) == 1, "write to the pipe");
  ok(only(p, 7) && E[0] == POLLIN, "%s: the read end is reported, key 7", B);
  is(weft_poller_register_fd(p, fd[1], POLLOUT, 8), 0,
     "%s: register the write end", B);
  ok(pollp(p, 0, 64) == 0 && N == 2 && got(7, POLLIN) && got(8, POLLOUT),
     "%s: both ends are reported", B);
  is(weft_poller_modify_fd(p, fd[0], POLLIN, 9), 0, "%s: modify_fd", B);
  ok(pollp(p, 0, 64) == 0 && N == 2 && got(9, POLLIN) && got(8, POLLOUT),
     "%s: under the new key", B);
  is(weft_poller_unregister_fd(p, fd[1]), 0, "%s: unregister_fd", B);
  ok(only(p, 9), "%s: only the read end is left", B);
  is(weft_poller_unregister_fd(p, fd[1]), -ENOENT,
     "%s: unregister_fd again: -ENOENT", B);
  is(weft_poller_modify_fd(p, fd[1], POLLOUT, 1), -ENOENT,
     "%s: modify_fd of an unregistered fd: -ENOENT", B);
  is(weft_poller_register_fd(p, fd[0], POLLIN, 1), -EEXIST,
     "%s: register_fd twice: -EEXIST", B);
  is(weft_poller_register_fd(p, -1, POLLIN, 1), -EBADF,
     "%s: register_fd(-1): -EBADF", B);
  int closed = dup(fd[1]);
  close(closed);
  is(weft_poller_register_fd(p, closed, POLLIN, 1), -EBADF,
     "%s: register_fd of a closed descriptor: -EBADF", B);
  weft_poller_unregister_fd(p, fd[0]);
  close(fd[0]);
  close(fd[1]);
  weft_close(p);
}

static void test_sockets(void) {
  weft_handle p = mk_poller(), a, b;
  sock_pair(&a, &b);
  is(weft_poller_register(p, a, POLLIN | POLLOUT, 1), 0,
     "%s: register a socket for POLLIN|POLLOUT", B);
  ok(only(p, 1) && E[0] == POLLOUT, "%s: a fresh socket reports POLLOUT", B);
  is(weft_poller_modify(p, a, POLLIN | POLLRDHUP, 2), 0,
     "%s: modify to POLLIN|POLLRDHUP", B);
  ok(quiet(p), "%s: nothing to read: not reported", B);
  send1(b);
  ok(only(p, 2) && E[0] == POLLIN, "%s: data: POLLIN under key 2", B);
  weft_close(b);
  int hup = only(p, 2);
  ok(hup && (E[0] & POLLRDHUP) && (E[0] & POLLIN),
     "%s: the peer closed: POLLIN|POLLRDHUP (%#x)", B, (unsigned)E[0]);
  weft_close(a);
  weft_close(p);
}

static void test_edge(void) {
  weft_handle p = mk_poller(), a, b;
  sock_pair(&a, &b);
  weft_socket_set_timeout(a, 0);
  is(weft_poller_register(p, a, POLLIN | EPOLLET, 3), 0,
     "%s: register a socket with EPOLLET", B);
  ok(quiet(p), "%s: EPOLLET: nothing yet", B);
  send1(b);
  ok(only(p, 3) && E[0] == POLLIN, "%s: EPOLLET socket: data is reported", B);
  ok(quiet(p), "%s: EPOLLET socket: not again while unread", B);
  is(drain(a), -EAGAIN, "%s: read until EAGAIN", B);
  send1(b);
  ok(only(p, 3), "%s: EPOLLET socket: new data after EAGAIN is reported", B);
  ok(quiet(p), "%s: EPOLLET socket: once", B);
  is(weft_poller_modify(p, a, POLLIN | EPOLLET, 4), 0, "%s: modify re-arms",
     B);
  ok(only(p, 4), "%s: EPOLLET socket: reported after modify", B);

  weft_handle e = event(0);
  weft_poller_register(p, e, POLLIN | EPOLLET, 5);
  weft_event_set(e);
  ok(only(p, 5), "%s: EPOLLET Event: set is reported", B);
  ok(quiet(p), "%s: EPOLLET Event: not again while set", B);
  weft_event_set(e);
  ok(quiet(p), "%s: EPOLLET Event: setting it again is no edge", B);
  weft_event_clear(e);
  weft_event_set(e);
  ok(only(p, 5), "%s: EPOLLET Event: clear then set is reported", B);

  int fd[2];
  if (pipe2(fd, O_CLOEXEC | O_NONBLOCK) != 0)
    BAIL("pipe2");
  weft_poller_register_fd(p, fd[0], POLLIN | EPOLLET, 6);
  ok(write(fd[1], "x", 1) == 1, "write to a pipe");
  ok(only(p, 6), "%s: EPOLLET fd: reported", B);
  ok(quiet(p), "%s: EPOLLET fd: not again", B);
  char c;
  while (read(fd[0], &c, 1) == 1)
    ;
  ok(write(fd[1], "y", 1) == 1, "read it all, write again");
  if (pflags & WEFT_POLLER_POLL) {
    ok(quiet(p), "%s: EPOLLET fd is EPOLLONESHOT in the poll backend", B);
    weft_poller_modify_fd(p, fd[0], POLLIN | EPOLLET, 6);
  }
  ok(only(p, 6), "%s: EPOLLET fd: the new edge is reported%s", B,
     pflags & WEFT_POLLER_POLL ? " after modify" : "");
  weft_poller_unregister_fd(p, fd[0]);
  close(fd[0]);
  close(fd[1]);
  weft_close(e);
  weft_close(a);
  weft_close(b);
  weft_close(p);
}

static void test_oneshot(void) {
  weft_handle p = mk_poller(), e = event(1);
  is(weft_poller_register(p, e, POLLIN | EPOLLONESHOT, 6), 0,
     "%s: register a set Event with EPOLLONESHOT", B);
  ok(only(p, 6), "%s: EPOLLONESHOT: reported", B);
  ok(quiet(p), "%s: EPOLLONESHOT: not again though still set", B);
  weft_event_clear(e);
  weft_event_set(e);
  ok(quiet(p), "%s: EPOLLONESHOT: not even after clear and set", B);
  is(weft_poller_modify(p, e, POLLIN | EPOLLONESHOT, 7), 0,
     "%s: modify re-arms it", B);
  ok(only(p, 7), "%s: EPOLLONESHOT: reported once more after modify", B);
  ok(quiet(p), "%s: and then quiet again", B);
  weft_close(e);
  weft_close(p);
}

static void test_cap(void) {
  weft_handle p = mk_poller(), e[5];
  int seen[5] = {0};
  for (int i = 0; i < 5; i++) {
    e[i] = event(1);
    weft_poller_register(p, e[i], POLLIN, 100 + i);
  }
  int within = 1;
  for (int round = 0; round < 3; round++) {
    within &= pollp(p, 0, 2) == 0 && N >= 1 && N <= 2;
    for (size_t i = 0; i < N; i++)
      if (K[i] >= 100 && K[i] < 105)
        seen[K[i] - 100] = 1;
  }
  ok(within, "%s: with 5 ready and cap 2, each poll reports 1 or 2", B);
  ok(seen[0] && seen[1] && seen[2] && seen[3] && seen[4],
     "%s: three polls report all five", B);

  for (int i = 0; i < 5; i++)
    weft_poller_modify(p, e[i], POLLIN | EPOLLONESHOT, 200 + i);
  int count[5] = {0}, polls = 0;
  size_t total = 0;
  while (pollp(p, 0, 2) == 0 && polls < 10) {
    polls++;
    total += N;
    for (size_t i = 0; i < N; i++)
      if (K[i] >= 200 && K[i] < 205)
        count[K[i] - 200]++;
  }
  ok(total == 5 && count[0] == 1 && count[1] == 1 && count[2] == 1 &&
         count[3] == 1 && count[4] == 1,
     "%s: EPOLLONESHOT, cap 2: each key once over %d polls", B, polls);
  for (int i = 0; i < 5; i++)
    weft_close(e[i]);
  weft_close(p);
}

static void test_close_target(void) {
  weft_handle p = mk_poller(), p2 = mk_poller(), a, b;
  sock_pair(&a, &b);
  weft_poller_register(p, a, POLLOUT, 10);
  ok(only(p, 10), "%s: a registered socket is reported", B);
  int fd = sock_fd(a);
  is(weft_close(a), 0, "%s: close the socket", B);
  ok(quiet(p), "%s: a closed socket vanishes from the poller", B);
  is(weft_poller_unregister(p, a), WEFT_EBADHANDLE,
     "%s: unregister of the closed socket: EBADHANDLE", B);
  weft_handle c, d;
  sock_pair(&c, &d);
  if (sock_fd(c) != fd && sock_fd(d) != fd)
    diag("the descriptor number %d was not reused", fd);
  weft_handle reuse = sock_fd(c) == fd ? c : d;
  is(weft_poller_register(p, reuse, POLLOUT, 11), 0,
     "%s: register a new socket on descriptor %d", B, fd);
  ok(only(p, 11), "%s: only its own key is reported, never the old one", B);
  is(weft_poller_register(p, a, POLLOUT, 12), WEFT_EBADHANDLE,
     "%s: registering a closed socket: EBADHANDLE", B);

  weft_handle e = event(1);
  weft_poller_register(p, e, POLLIN, 20);
  weft_poller_register(p2, e, POLLIN, 21);
  ok(pollp(p, 0, 64) == 0 && got(20, POLLIN) && only(p2, 21),
     "%s: an Event in two pollers is reported by both", B);
  weft_close(e);
  ok(only(p, 11) && quiet(p2), "%s: closing the Event removes it from both",
     B);
  weft_close(b);
  weft_close(c);
  weft_close(d);
  weft_close(p);
  weft_close(p2);
}

static weft_status do_poll_forever(job *j) {
  size_t n;
  return weft_poller_poll(j->h, -1, j->keys, j->events, 8, &n);
}

static weft_status do_interrupt_self(job *j) {
  size_t n;
  weft_thread_interrupt(j->self);
  weft_status st = weft_poller_poll(j->h, -1, j->keys, j->events, 8, &n);
  j->n[0] = (size_t)(st == 0 ? n : 0);
  weft_event_clear(j->h2);
  return weft_poller_poll(j->h, 30, j->keys, j->events, 8, &n);
}

static void test_close_poller(void) {
  weft_handle p = mk_poller(), e = event(0);
  weft_poller_register(p, e, POLLIN, 1);
  job j[3];
  pthread_t t[3];
  int slept = 1;
  for (int i = 0; i < 3; i++) {
    j[i] = (job){.call = do_poll_forever, .h = p};
    slept &= job_start(&j[i], &t[i]);
  }
  ok(slept, "%s: three threads sleep in poller_poll", B);
  is(weft_close(p), 0, "%s: close the poller", B);
  int closed = 1;
  for (int i = 0; i < 3; i++) {
    pthread_join(t[i], NULL);
    closed &= j[i].st == WEFT_ECLOSED;
  }
  ok(closed, "%s: every one returns ECLOSED", B);
  size_t n;
  is(weft_poller_poll(p, 0, K, E, 1, &n), WEFT_EBADHANDLE,
     "%s: then the poller is a bad handle", B);
  weft_handle p2 = mk_poller();
  weft_event_set(e);
  is(weft_poller_register(p2, e, POLLIN, 2), 0,
     "%s: its Event can go into another poller", B);
  ok(only(p2, 2), "%s: and works there", B);
  weft_close(p2);
  is(weft_close(e), 0, "%s: and closes", B);
}

static void test_interrupt(void) {
  weft_handle p = mk_poller(), e = event(0);
  weft_poller_register(p, e, POLLIN, 1);
  job j = {.call = do_poll_forever, .h = p}, j2 = j;
  pthread_t t, t2;
  ok(job_start(&j, &t) && job_start(&j2, &t2),
     "%s: two threads sleep in poller_poll", B);
  is(weft_thread_interrupt(j.self), 0, "%s: interrupt one", B);
  pthread_join(t, NULL);
  is(j.st, -EINTR, "%s: it returns -EINTR", B);
  ok(wait_in_poll(&j2.tid), "%s: the other one still sleeps", B);
  weft_event_set(e);
  pthread_join(t2, NULL);
  ok(j2.st == 0 && j2.keys[0] == 1, "%s: and wakes for its event", B);

  j = (job){.call = do_interrupt_self, .h = p, .h2 = e};
  t = spawn(job_main, &j);
  pthread_join(t, NULL);
  is(j.n[0], 1, "%s: with an interrupt pending, a ready poll reports", B);
  is(j.st, -EINTR, "%s: and the next poll that would block is interrupted",
     B);
  weft_close(e);
  weft_close(p);
}

static void test_many(void) {
  enum { M = 5000 };
  long lim = raise_nofile();
  if (lim < M + 200) {
    ok(1, "%s: %d registrations # SKIP RLIMIT_NOFILE is %ld", B, M, lim);
    return;
  }
  static weft_handle e[M];
  weft_handle p = mk_poller();
  int regs = 1;
  for (int i = 0; i < M; i++) {
    e[i] = event(0);
    regs &= weft_poller_register(p, e[i], POLLIN | EPOLLONESHOT, i) == 0;
  }
  ok(regs, "%s: %d Events registered", B, M);
  ok(quiet(p), "%s: none is ready", B);
  weft_event_set(e[M / 2]);
  ok(only(p, M / 2), "%s: 1 ready of %d is reported alone", B, M);
  static int count[M];
  memset(count, 0, sizeof count);
  int want = 0;
  for (int i = 0; i < M; i++)
    if (i % 13 == 5) {
      weft_poller_modify(p, e[i], POLLIN | EPOLLONESHOT, i);
      weft_event_set(e[i]);
      want++;
    }
  static int64_t keys[M];
  static uint32_t evs[M];
  size_t n, total = 0;
  int bad = 0;
  while (weft_poller_poll(p, 0, keys, evs, M, &n) == 0)
    for (size_t i = 0; i < n; i++) {
      total++;
      if (keys[i] < 0 || keys[i] >= M || keys[i] % 13 != 5 ||
          evs[i] != POLLIN)
        bad++;
      else
        count[keys[i]]++;
    }
  int once = 1;
  for (int i = 5; i < M; i += 13)
    once &= count[i] == 1;
  ok(total == (size_t)want && bad == 0 && once,
     "%s: exactly the %d ready ones are reported, each once (%zu, %d bad)", B,
     want, total, bad);
  for (int i = 0; i < M; i++)
    weft_close(e[i]);
  ok(quiet(p), "%s: closing them all empties the poller", B);
  weft_close(p);
}

static void test_bad_input(void) {
  weft_handle p = mk_poller(), e = event(1), dead = event(0), lock;
  weft_close(dead);
  weft_lock_new(&lock);
  weft_poller_register(p, e, POLLIN, 1);
  size_t n = 5;
  is(weft_poller_poll(p, 0, K, E, 0, &n), WEFT_EVALUE, "%s: cap 0: EVALUE",
     B);
  is(n, 0, "%s: and *n is 0", B);
  is(weft_poller_poll(p, 0, NULL, E, 4, &n), WEFT_EVALUE,
     "%s: NULL keys: EVALUE", B);
  is(weft_poller_poll(p, 0, K, NULL, 4, &n), WEFT_EVALUE,
     "%s: NULL events: EVALUE", B);
  is(weft_poller_poll(p, 0, K, E, 4, NULL), WEFT_EVALUE, "%s: NULL n: EVALUE",
     B);
  is(weft_poller_poll(p, NAN, K, E, 4, &n), WEFT_EVALUE,
     "%s: NaN timeout: EVALUE", B);
  uint32_t unknown[] = {POLLNVAL, EPOLLEXCLUSIVE, EPOLLWAKEUP, 1u << 20};
  for (int i = 0; i < 4; i++) {
    weft_handle e2 = event(0);
    is(weft_poller_register(p, e2, POLLIN | unknown[i], 1), WEFT_EVALUE,
       "%s: register with bit %#x: EVALUE", B, unknown[i]);
    is(weft_poller_modify(p, e, POLLIN | unknown[i], 1), WEFT_EVALUE,
       "%s: modify with bit %#x: EVALUE", B, unknown[i]);
    is(weft_poller_register_fd(p, 0, unknown[i], 1), WEFT_EVALUE,
       "%s: register_fd with bit %#x: EVALUE", B, unknown[i]);
    weft_close(e2);
  }
  ok(only(p, 1), "%s: a refused modify changed nothing", B);
  weft_handle bad[] = {0, -1, BIG, dead, lock, p};
  const char *name[] = {"0",      "-1",      "2^53", "a closed Event",
                        "a Lock", "a poller"};
  for (int i = 0; i < 6; i++) {
    is(weft_poller_register(p, bad[i], POLLIN, 1), WEFT_EBADHANDLE,
       "%s: register %s: EBADHANDLE", B, name[i]);
    is(weft_poller_modify(p, bad[i], POLLIN, 1), WEFT_EBADHANDLE,
       "%s: modify %s: EBADHANDLE", B, name[i]);
    is(weft_poller_unregister(p, bad[i]), WEFT_EBADHANDLE,
       "%s: unregister %s: EBADHANDLE", B, name[i]);
    if (bad[i] == p)
      continue;
    is(weft_poller_register(bad[i], e, POLLIN, 1), WEFT_EBADHANDLE,
       "%s: %s as the poller: EBADHANDLE", B, name[i]);
    is(weft_poller_poll(bad[i], 0, K, E, 4, &n), WEFT_EBADHANDLE,
       "%s: poll on %s: EBADHANDLE", B, name[i]);
    is(weft_poller_register_fd(bad[i], 0, POLLIN, 1), WEFT_EBADHANDLE,
       "%s: register_fd on %s: EBADHANDLE", B, name[i]);
  }
  weft_handle out;
  is(weft_poller_new(2, &out), WEFT_EVALUE, "%s: unknown flags: EVALUE", B);
  is(weft_poller_new(pflags, NULL), WEFT_EVALUE, "%s: NULL out: EVALUE", B);
  int kind = 0;
  weft_handle_kind(p, &kind);
  is(kind, WEFT_KIND_POLLER, "%s: a poller's kind is WEFT_KIND_POLLER", B);
  is(weft_lock_acquire(lock, 0), 0, "%s: the Lock was not touched", B);
  weft_close(lock);
  weft_close(e);
  weft_close(p);
}

/* The child checks its copy of the poller and exits with a bit per
 * failure; the parent then checks its own was not disturbed. */
static int child_checks(weft_handle p, weft_handle e, int rd, int wr) {
  int fail = 0;
  if (!only(p, 1))
    fail |= 1; /* the inherited registration of a set Event */
  weft_event_clear(e);
  if (!quiet(p))
    fail |= 2; /* the child's Event is its own */
  if (write(wr, "c", 1) != 1 || !only(p, 2))
    fail |= 4; /* the inherited pipe registration */
  if (weft_poller_unregister_fd(p, rd) != 0 || !quiet(p))
    fail |= 8;
  weft_handle e2 = event(1);
  if (weft_poller_register(p, e2, POLLIN, 3) != 0 || !only(p, 3))
    fail |= 16; /* new registrations work */
  weft_close(e2);
  if (weft_poller_unregister(p, e) != 0)
    fail |= 32;
  weft_close(p);
  return fail;
}

static void test_fork(void) {
  weft_handle p = mk_poller(), e = event(1);
  int fd[2];
  if (pipe2(fd, O_CLOEXEC | O_NONBLOCK) != 0)
    BAIL("pipe2");
  weft_poller_register(p, e, POLLIN, 1);
  weft_poller_register_fd(p, fd[0], POLLIN, 2);
  ok(only(p, 1), "%s: before fork: the Event is reported", B);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0)
    _exit(child_checks(p, e, fd[0], fd[1]));
  int status = 0;
  waitpid(pid, &status, 0);
  ok(WIFEXITED(status), "%s: the child exits", B);
  is(WEXITSTATUS(status), 0,
     "%s: the child used its inherited poller (failure bits)", B);
  char c;
  int drained = 0;
  while (read(fd[0], &c, 1) == 1)
    drained++;
  ok(only(p, 1), "%s: the parent's poller still reports its Event", B);
  ok(write(fd[1], "p", 1) == 1 && pollp(p, 0, 64) == 0 && N == 2 &&
         got(1, POLLIN) && got(2, POLLIN),
     "%s: and its pipe, which the child unregistered in its copy", B);
  weft_poller_unregister_fd(p, fd[0]);
  close(fd[0]);
  close(fd[1]);
  weft_close(e);
  weft_close(p);
}

/* The epoll descriptor polls readable while a registration is ready, so
 * a poller nests in another event loop; the poll(2) backend has none. */
static void test_fileno(void) {
  weft_handle p = mk_poller(), e = event(0);
  int fd = -1;
  weft_status st = weft_poller_fileno(p, &fd);
  if (pflags == WEFT_POLLER_POLL) {
    is(st, WEFT_ENOTSUP, "%s: poller_fileno is WEFT_ENOTSUP", B);
  } else {
    is(st, 0, "%s: poller_fileno", B);
    weft_poller_register(p, e, POLLIN, 5);
    struct pollfd pf = {fd, POLLIN, 0};
    is(poll(&pf, 1, 0), 0, "%s: its descriptor is quiet while nothing is "
                           "ready", B);
    weft_event_set(e);
    ok(poll(&pf, 1, 1000) == 1 && (pf.revents & POLLIN),
       "%s: and readable once a registration is", B);
    ok(only(p, 5), "%s: which the poller then reports", B);
  }
  is(weft_poller_fileno(p, NULL), WEFT_EVALUE, "%s: a NULL fd is WEFT_EVALUE",
     B);
  weft_close(e);
  weft_close(p);
  is(weft_poller_fileno(p, &fd), WEFT_EBADHANDLE,
     "%s: a closed poller is WEFT_EBADHANDLE", B);
}

static void run(int flags, const char *name) {
  pflags = flags;
  B = name;
  test_event();
  test_fds();
  test_sockets();
  test_edge();
  test_oneshot();
  test_cap();
  test_close_target();
  test_close_poller();
  test_interrupt();
  test_many();
  test_bad_input();
  test_fork();
  test_fileno();
}

int main(void) {
  /* Make this thread known before its first descriptor wait: under TSan,
   * a fork after fdwait.c's fork handlers were registered before
   * thread.c's is reported as a lock-order inversion in the child
   * (fdwait.c's child handler re-initialises the wakes mutex its prepare
   * handler holds instead of unlocking it). */
  weft_handle self;
  weft_thread_current(&self);
  size_t n[3];
  weft_select_wait(NULL, 0, NULL, 0, NULL, 0, 0.001, &n[0], &n[1], &n[2]);
  int fds0 = open_fds();
  run(0, "epoll");
  run(WEFT_POLLER_POLL, "poll");
  is(open_fds(), fds0, "every descriptor is released at the end");
  return done_testing();
}
