/* test-signal.c - the signal module: actions, the three delivery modes,
 * PEP 475 in every kind of wait, failing handlers, the wakeup descriptor,
 * chaining, timers, fork and exec, and bad input. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "thread-util.h"

static _Atomic int hits[NSIG];
static _Atomic int fail_next;
static _Atomic int64_t handler_tid;
static _Atomic double handler_at;

static int count_handler(void *arg, int signum) {
  (void)arg;
  atomic_fetch_add(&hits[signum], 1);
  atomic_store(&handler_tid, (int64_t)syscall(SYS_gettid));
  atomic_store(&handler_at, weft_monotonic());
  return atomic_exchange(&fail_next, 0);
}

static void reset_hits(void) {
  for (int i = 0; i < NSIG; i++)
    atomic_store(&hits[i], 0);
}

static void handle(int signum) {
  is(weft_signal_set(signum, WEFT_SIG_HANDLER, 0, count_handler, NULL), 0,
     "signal_set(%d, handler)", signum);
}

static void restore(int signum) {
  weft_signal_set(signum, WEFT_SIG_DFL, 0, NULL, NULL);
}

static void set_mode(int mode) {
  if (weft_signal_set_delivery(mode, 0) != 0)
    BAIL("set_delivery %d", mode);
}

/* An itimer for SIGALRM in `s` seconds (once). */
static void alarm_in(double s) {
  double os, oi;
  if (weft_signal_setitimer(ITIMER_REAL, s, 0, &os, &oi) != 0)
    BAIL("setitimer");
}

static int64_t constant(const char *name) {
  int64_t v = -1;
  weft_constant_get(name, &v);
  return v;
}

/* ---- bad input ---- */

static void test_bad_input(void) {
  int action;
  void *arg;
  int ran;
  int fd;
  double a, b;
  size_t len;
  char buf[64];
  is(weft_signal_set(0, WEFT_SIG_IGN, 0, NULL, NULL), -EINVAL,
     "signal 0 is -EINVAL");
  is(weft_signal_set(NSIG, WEFT_SIG_IGN, 0, NULL, NULL), -EINVAL,
     "signal NSIG is -EINVAL");
  is(weft_signal_set(-3, WEFT_SIG_IGN, 0, NULL, NULL), -EINVAL,
     "a negative signal is -EINVAL");
  is(weft_signal_set(SIGKILL, WEFT_SIG_HANDLER, 0, count_handler, NULL),
     -EINVAL, "a SIGKILL handler is -EINVAL");
  ok(strstr(weft_last_error_message(), "SIGKILL") != NULL,
     "and the message names it (%s)", weft_last_error_message());
  is(weft_signal_set(SIGSTOP, WEFT_SIG_IGN, 0, NULL, NULL), -EINVAL,
     "ignoring SIGSTOP is -EINVAL");
  is(weft_signal_set(32, WEFT_SIG_HANDLER, 0, count_handler, NULL), -EINVAL,
     "a signal glibc keeps (32) is -EINVAL");
  is(weft_signal_set(SIGUSR1, 7, 0, NULL, NULL), -EINVAL,
     "an unknown action is -EINVAL");
  is(weft_signal_set(SIGUSR1, WEFT_SIG_HANDLER, 0, NULL, NULL), WEFT_EVALUE,
     "a handler action without fn is WEFT_EVALUE");
  is(weft_signal_set(SIGUSR1, WEFT_SIG_DFL, WEFT_SIGNAL_CHAIN, NULL, NULL),
     -EINVAL, "CHAIN without a handler is -EINVAL");
  is(weft_signal_set(SIGUSR1, WEFT_SIG_HANDLER, 8, count_handler, NULL),
     -EINVAL, "an unknown flag is -EINVAL");
  is(weft_signal_get(0, &action, &arg), -EINVAL, "signal_get(0) is -EINVAL");
  is(weft_signal_get(SIGINT, NULL, &arg), WEFT_EVALUE,
     "signal_get with a NULL action is WEFT_EVALUE");
  is(weft_signal_dispatch(NSIG + 5, &ran), -EINVAL,
     "dispatch of a bad signal is -EINVAL");
  is(weft_signal_dispatch(0, NULL), WEFT_EVALUE,
     "dispatch with a NULL count is WEFT_EVALUE");
  is(weft_signal_set_delivery(9, 0), -EINVAL, "an unknown mode is -EINVAL");
  is(weft_signal_set_delivery(WEFT_SIGNAL_THREAD, 5), WEFT_EVALUE,
     "a thread for THREAD mode is WEFT_EVALUE");
  is(weft_signal_set_delivery(WEFT_SIGNAL_WAITS, 12345), WEFT_EBADHANDLE,
     "a bad dispatching thread is WEFT_EBADHANDLE");
  is(weft_signal_setitimer(99, 1, 0, &a, &b), -EINVAL,
     "setitimer of a bad timer is -EINVAL");
  is(weft_signal_setitimer(ITIMER_REAL, -1, 0, &a, &b), -EINVAL,
     "a negative time is -EINVAL");
  is(weft_signal_setitimer(ITIMER_REAL, NAN, 0, &a, &b), -EINVAL,
     "a NaN time is -EINVAL");
  is(weft_signal_setitimer(ITIMER_REAL, 1, INFINITY, &a, &b), -EINVAL,
     "an infinite interval is -EINVAL");
  is(weft_signal_getitimer(-1, &a, &b), -EINVAL,
     "getitimer of a bad timer is -EINVAL");
  is(weft_signal_strsignal(0, buf, sizeof buf, &len), -EINVAL,
     "strsignal(0) is -EINVAL");
  is(weft_signal_strsignal(SIGINT, NULL, 8, &len), WEFT_EVALUE,
     "strsignal into NULL with a size is WEFT_EVALUE");
  is(weft_signal_raise(0), -EINVAL, "raise(0) is -EINVAL");
  is(weft_signal_siginterrupt(NSIG, 1), -EINVAL,
     "siginterrupt(NSIG) is -EINVAL");
  is(weft_thread_interrupt_main(0), -EINVAL, "interrupt_main(0) is -EINVAL");
  is(weft_signal_pthread_kill(BIG, SIGUSR1), WEFT_EBADHANDLE,
     "pthread_kill of a bad handle is WEFT_EBADHANDLE");

  int p[2];
  if (pipe(p) != 0)
    BAIL("pipe");
  is(weft_signal_set_wakeup_fd(p[1], 1, &fd), WEFT_EVALUE,
     "a blocking wakeup fd is WEFT_EVALUE");
  ok(strstr(weft_last_error_message(), "non-blocking") != NULL,
     "which the message says (%s)", weft_last_error_message());
  close(p[0]);
  close(p[1]);
  is(weft_signal_set_wakeup_fd(p[1], 1, &fd), -EBADF,
     "a closed wakeup fd is -EBADF");
  is(weft_signal_set_wakeup_fd(-7, 1, &fd), WEFT_EVALUE,
     "a wakeup fd below -1 is WEFT_EVALUE");
  is(weft_signal_set_wakeup_fd(-1, 1, NULL), WEFT_EVALUE,
     "a NULL old fd is WEFT_EVALUE");
}

/* ---- actions ---- */

static _Atomic int foreign_hits;
static void foreign_handler(int signum) {
  (void)signum;
  atomic_fetch_add(&foreign_hits, 1);
}

static void install_foreign(int signum) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = foreign_handler;
  sigemptyset(&sa.sa_mask);
  sigaction(signum, &sa, NULL);
}

static void test_actions(void) {
  int action = -1;
  void *arg = (void *)1;
  int token;
  restore(SIGUSR1);
  is(weft_signal_get(SIGUSR1, &action, &arg), 0, "signal_get");
  ok(action == WEFT_SIG_DFL && arg == NULL, "SIGUSR1 is SIG_DFL");
  weft_signal_set(SIGUSR1, WEFT_SIG_IGN, 0, NULL, NULL);
  weft_signal_get(SIGUSR1, &action, &arg);
  is(action, WEFT_SIG_IGN, "then SIG_IGN");
  is(weft_signal_set(SIGUSR1, WEFT_SIG_HANDLER, 0, count_handler, &token), 0,
     "set a handler");
  weft_signal_get(SIGUSR1, &action, &arg);
  ok(action == WEFT_SIG_HANDLER && arg == &token,
     "then a handler, with its arg");
  struct sigaction sa;
  sigaction(SIGUSR1, NULL, &sa);
  ok(!(sa.sa_flags & SA_RESTART) && (sa.sa_flags & SA_ONSTACK),
     "installed without SA_RESTART, with SA_ONSTACK (as CPython)");
  install_foreign(SIGUSR1);
  weft_signal_get(SIGUSR1, &action, &arg);
  is(action, WEFT_SIG_FOREIGN, "a handler weft did not install is FOREIGN");
  restore(SIGUSR1);

  is(weft_signal_siginterrupt(SIGUSR1, 0), 0, "siginterrupt(sig, 0)");
  sigaction(SIGUSR1, NULL, &sa);
  ok(sa.sa_flags & SA_RESTART, "sets SA_RESTART");
  weft_signal_siginterrupt(SIGUSR1, 1);
  sigaction(SIGUSR1, NULL, &sa);
  ok(!(sa.sa_flags & SA_RESTART), "siginterrupt(sig, 1) clears it");
}

/* ---- dispatch ---- */

static void test_dispatch(void) {
  int ran = -1;
  set_mode(WEFT_SIGNAL_DISPATCH);
  reset_hits();
  handle(SIGUSR1);
  handle(SIGUSR2);
  is(weft_signal_raise(SIGUSR1), 0, "raise(SIGUSR1)");
  is(atomic_load(&hits[SIGUSR1]), 0,
     "the handler does not run in the C handler");
  is(weft_signal_dispatch(SIGUSR2, &ran), 0, "dispatch(SIGUSR2)");
  is(ran, 0, "runs nothing for another signal");
  is(weft_signal_dispatch(0, &ran), 0, "dispatch(0)");
  is(ran, 1, "runs the one tripped handler");
  is(atomic_load(&hits[SIGUSR1]), 1, "once");
  is((int)atomic_load(&handler_tid), self_tid(), "on the dispatching thread");
  weft_signal_dispatch(0, &ran);
  is(ran, 0, "a second dispatch runs nothing");

  weft_signal_raise(SIGUSR1);
  weft_signal_raise(SIGUSR1);
  weft_signal_dispatch(0, &ran);
  is(ran, 1,
     "two signals before a dispatch run the handler once (as "
     "CPython)");

  atomic_store(&fail_next, 1);
  weft_signal_raise(SIGUSR1);
  weft_signal_raise(SIGUSR2);
  is(weft_signal_dispatch(0, &ran), -EINTR,
     "a failing handler makes dispatch -EINTR");
  is(ran, 1, "having run only it");
  is(weft_signal_dispatch(0, &ran), 0, "the next dispatch");
  is(ran, 1, "runs the signal still tripped");
  ok(atomic_load(&hits[SIGUSR1]) == 3 && atomic_load(&hits[SIGUSR2]) == 1,
     "every handler ran as often as it was due");

  /* interrupt_main trips a weft handler, and does nothing otherwise. */
  reset_hits();
  is(weft_thread_interrupt_main(SIGUSR1), 0, "interrupt_main(SIGUSR1)");
  weft_signal_dispatch(0, &ran);
  is(atomic_load(&hits[SIGUSR1]), 1, "trips the handler");
  restore(SIGUSR1);
  is(weft_thread_interrupt_main(SIGUSR1), 0,
     "interrupt_main of a SIG_DFL signal is 0");
  weft_signal_dispatch(0, &ran);
  is(ran, 0, "and does nothing (the process lives on)");

  /* signal_wait sees trips, consumes nothing. */
  uint64_t seen = 0, now = 0;
  weft_signal_wait(seen, 0, &seen);
  uint64_t before = seen;
  is(weft_signal_wait(seen, 0.05, &now), -ETIMEDOUT,
     "signal_wait with nothing new times out");
  is(now, seen, "and gives the same count");
  weft_signal_raise(SIGUSR2);
  is(weft_signal_wait(seen, 5, &now), 0, "signal_wait after a trip");
  ok(now != before, "moves the count");
  is(weft_signal_wait(0, 0, NULL), WEFT_EVALUE,
     "signal_wait with a NULL count is WEFT_EVALUE");
  weft_signal_dispatch(0, &ran);
  is(ran, 1, "and left the handler to dispatch");
  restore(SIGUSR2);
  set_mode(WEFT_SIGNAL_WAITS);
}

/* ---- PEP 475: each kind of wait, on the main thread ---- */

typedef struct holder {
  weft_handle lock;
  gate locked, release;
} holder;

static void *hold_lock(void *arg) {
  holder *h = arg;
  weft_lock_acquire(h->lock, -1);
  gate_open(&h->locked);
  gate_wait(&h->release);
  weft_lock_release(h->lock);
  return NULL;
}

/* Run wait() with SIGALRM arriving after 50 ms: it must come back with
 * `want` no earlier than `timeout`, the handler having run in between. */
#define CHECK_RESUMES(what, want, timeout, call)                               \
  do {                                                                         \
    reset_hits();                                                              \
    double t0 = weft_monotonic();                                              \
    alarm_in(0.05);                                                            \
    weft_status st_ = (call);                                                  \
    double t1 = weft_monotonic();                                              \
    is(st_, (want), what ": the wait ends as if no signal came");              \
    is(atomic_load(&hits[SIGALRM]), 1, what ": the handler ran once");         \
    ok(atomic_load(&handler_at) < t1 && t1 - t0 >= (timeout)-0.002,            \
       what ": during the wait, which kept its deadline (%.3fs of %.3fs)",     \
       t1 - t0, (double)(timeout));                                            \
    is((int)atomic_load(&handler_tid), self_tid(),                             \
       what ": on the waiting thread");                                        \
  } while (0)

static int sleep_a_second(void *arg) {
  (void)arg;
  weft_status st = weft_sleep(1);
  return st;
}

static void test_pep475(void) {
  handle(SIGALRM);
  holder h;
  weft_lock_new(&h.lock);
  gate_reset(&h.locked);
  gate_reset(&h.release);
  pthread_t t = spawn(hold_lock, &h);
  gate_wait(&h.locked);
  CHECK_RESUMES("lock_acquire", -ETIMEDOUT, 0.3,
                weft_lock_acquire(h.lock, 0.3));

  weft_handle ev;
  weft_event_new(&ev);
  CHECK_RESUMES("event_wait (a condition variable)", -ETIMEDOUT, 0.3,
                weft_event_wait(ev, 0.3));
  CHECK_RESUMES("sleep", 0, 0.2, weft_sleep(0.2));

  weft_handle sem;
  weft_semaphore_new(0, &sem);
  CHECK_RESUMES("semaphore_acquire", -ETIMEDOUT, 0.3,
                weft_semaphore_acquire(sem, 0.3));

  weft_handle a, b;
  weft_socket_pair_new(AF_UNIX, SOCK_STREAM, 0, &a, &b);
  weft_socket_set_timeout(a, 0.3);
  char buf[16];
  size_t n;
  CHECK_RESUMES("socket_recv", -ETIMEDOUT, 0.3,
                weft_socket_recv(a, 0, buf, sizeof buf, &n));

  weft_handle rl[1] = {a};
  size_t nr, nw, nx;
  CHECK_RESUMES("select_wait", -ETIMEDOUT, 0.3,
                weft_select_wait(rl, 1, NULL, 0, NULL, 0, 0.3, &nr, &nw, &nx));

  weft_handle pl;
  weft_poller_new(0, &pl);
  weft_poller_register(pl, a, POLLIN, 1);
  int64_t keys[1];
  uint32_t evs[1];
  CHECK_RESUMES("poller_poll (epoll)", -ETIMEDOUT, 0.3,
                weft_poller_poll(pl, 0.3, keys, evs, 1, &n));
  weft_close(pl);
  weft_poller_new(WEFT_POLLER_POLL, &pl);
  weft_poller_register(pl, a, POLLIN, 1);
  CHECK_RESUMES("poller_poll (poll)", -ETIMEDOUT, 0.3,
                weft_poller_poll(pl, 0.3, keys, evs, 1, &n));

  weft_handle cond;
  weft_condition_new(0, &cond);
  weft_condition_acquire(cond, -1);
  CHECK_RESUMES("condition_wait", -ETIMEDOUT, 0.3,
                weft_condition_wait(cond, 0.3));
  weft_condition_release(cond);
  weft_close(cond);

  weft_handle sleeper;
  weft_thread_new(sleep_a_second, NULL, "sleeper", &sleeper);
  weft_thread_start(sleeper);
  CHECK_RESUMES("thread_join", -ETIMEDOUT, 0.3, weft_thread_join(sleeper, 0.3));
  weft_thread_join(sleeper, -1);
  weft_close(sleeper);

  weft_handle bar;
  int64_t index;
  weft_barrier_new(2, NULL, NULL, -1, &bar);
  CHECK_RESUMES("barrier_wait", WEFT_EBROKEN, 0.3,
                weft_barrier_wait(bar, 0.3, &index));
  weft_close(bar);

  weft_handle disp;
  size_t ran;
  weft_dispatcher_new(&disp);
  CHECK_RESUMES("dispatcher_run", -ETIMEDOUT, 0.3,
                weft_dispatcher_run(disp, 0.3, &ran));
  weft_close(disp);

  weft_handle listener;
  unsigned char addr[WEFT_SOCKADDR_MAX];
  size_t alen;
  weft_handle conn;
  weft_socket_new(AF_INET, SOCK_STREAM, 0, &listener);
  weft_sockaddr_make(AF_INET, "127.0.0.1", 0, 0, 0, 0, addr, sizeof addr,
                     &alen);
  weft_socket_bind(listener, addr, alen);
  weft_socket_listen(listener, 1);
  weft_socket_set_timeout(listener, 0.3);
  CHECK_RESUMES("socket_accept", -ETIMEDOUT, 0.3,
                weft_socket_accept(listener, addr, sizeof addr, &alen, &conn));
  weft_close(listener);

  /* A failing handler ends the wait at once with -EINTR. */
  atomic_store(&fail_next, 1);
  reset_hits();
  double t0 = weft_monotonic();
  alarm_in(0.05);
  is(weft_lock_acquire(h.lock, 10), -EINTR,
     "a failing handler makes lock_acquire -EINTR");
  ok(weft_monotonic() - t0 < 5, "promptly");
  atomic_store(&fail_next, 1);
  alarm_in(0.05);
  is(weft_socket_recv(a, 0, buf, sizeof buf, &n), -EINTR, "and socket_recv");
  is(n, 0, "having received nothing");
  atomic_store(&fail_next, 1);
  alarm_in(0.05);
  is(weft_event_wait(ev, 10), -EINTR, "and event_wait");

  gate_open(&h.release);
  pthread_join(t, NULL);
  weft_close(pl);
  weft_close(a);
  weft_close(b);
  weft_close(sem);
  weft_close(ev);
  weft_close(h.lock);
  restore(SIGALRM);
}

/* A handler that reads the stream its thread is reading gets WEFT_ESTATE
 * (CPython's "reentrant call"), not a deadlock on itself. */
static weft_handle reentered;
static _Atomic int reentry_status = 1;
static int read_again(void *arg, int signum) {
  (void)arg;
  (void)signum;
  char c;
  size_t n;
  atomic_store(&reentry_status, weft_stream_read(reentered, &c, 1, &n));
  return 0;
}

static void test_stream_reentry(void) {
  int sv[2];
  socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
  weft_stream_new(sv[0], "rb", -1, &reentered);
  weft_stream_set_timeout(reentered, 0.3);
  weft_signal_set(SIGALRM, WEFT_SIG_HANDLER, 0, read_again, NULL);
  alarm_in(0.05);
  char buf[4];
  size_t n;
  is(weft_stream_read(reentered, buf, sizeof buf, &n), -ETIMEDOUT,
     "a stream read with a handler that reads the same stream times out");
  is(atomic_load(&reentry_status), WEFT_ESTATE,
     "the handler's read is WEFT_ESTATE (reentrant call)");
  restore(SIGALRM);
  weft_close(reentered);
  close(sv[0]);
  close(sv[1]);
}

/* A signal that another thread takes still reaches the dispatching
 * thread's wait (the signal thread kicks it). */
typedef struct kicker {
  pthread_t target;
  gate ready;
} kicker;

static void *signal_me_later(void *arg) {
  kicker *k = arg;
  gate_open(&k->ready);
  sleep_s(0.05);
  pthread_kill(k->target, SIGUSR1);
  return NULL;
}

static void *block_and_wait(void *arg) {
  kicker *k = arg;
  k->target = pthread_self();
  sigset_t none;
  sigemptyset(&none);
  pthread_sigmask(SIG_SETMASK, &none, NULL);
  gate_open(&k->ready);
  sleep_s(0.5);
  return NULL;
}

static void test_other_thread(void) {
  handle(SIGUSR1);
  reset_hits();
  kicker k;
  gate_reset(&k.ready);
  pthread_t t = spawn(block_and_wait, &k);
  gate_wait(&k.ready);
  gate_reset(&k.ready);
  pthread_t s = spawn(signal_me_later, &k);
  weft_handle ev;
  weft_event_new(&ev);
  double t0 = weft_monotonic();
  is(weft_event_wait(ev, 0.3), -ETIMEDOUT,
     "event_wait while another thread takes the signal");
  is(atomic_load(&hits[SIGUSR1]), 1, "the handler ran");
  is((int)atomic_load(&handler_tid), self_tid(),
     "on the dispatching (main) thread, inside the wait");
  ok(atomic_load(&handler_at) < t0 + 0.3, "before the wait ended");
  pthread_join(s, NULL);
  pthread_join(t, NULL);
  weft_close(ev);
  restore(SIGUSR1);
}

static void test_thread_mode(void) {
  set_mode(WEFT_SIGNAL_THREAD);
  handle(SIGUSR2);
  reset_hits();
  weft_signal_raise(SIGUSR2);
  ok(WAIT_FOR(atomic_load(&hits[SIGUSR2]) == 1, 10),
     "THREAD mode: the handler runs without a dispatch");
  ok((int)atomic_load(&handler_tid) != self_tid(), "on weft's own thread");
  char name[32] = "";
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/comm",
           (int)atomic_load(&handler_tid));
  FILE *f = fopen(path, "r");
  if (f != NULL) {
    if (fgets(name, sizeof name, f) == NULL)
      name[0] = 0;
    name[strcspn(name, "\n")] = 0;
    fclose(f);
  }
  ok(strncmp(name, "weft-signals", 12) == 0, "named weft-signals (%s)", name);
  int mode = -1;
  weft_handle th = -1;
  weft_signal_get_delivery(&mode, &th);
  ok(mode == WEFT_SIGNAL_THREAD && th == 0, "get_delivery reports it");
  restore(SIGUSR2);
  set_mode(WEFT_SIGNAL_WAITS);
}

/* pause returns once a handler ran. */
static void test_pause(void) {
  handle(SIGALRM);
  reset_hits();
  alarm_in(0.05);
  is(weft_signal_pause(), 0, "pause");
  is(atomic_load(&hits[SIGALRM]), 1, "returns after the handler ran");
  atomic_store(&fail_next, 1);
  alarm_in(0.05);
  is(weft_signal_pause(), -EINTR, "pause with a failing handler is -EINTR");
  restore(SIGALRM);
}

/* The check runs inside a wait interrupted by a signal weft does not
 * handle; nonzero fails the wait. */
static _Atomic int checks, check_result;
static int check(void *arg) {
  (void)arg;
  atomic_fetch_add(&checks, 1);
  return atomic_load(&check_result);
}

static void *kill_main_later(void *arg) {
  sleep_s(0.05);
  pthread_kill(*(pthread_t *)arg, SIGUSR2);
  return NULL;
}

static void test_check(void) {
  install_foreign(SIGUSR2);
  atomic_store(&foreign_hits, 0);
  weft_signal_set_check(check, NULL);
  pthread_t me = pthread_self();
  pthread_t t = spawn(kill_main_later, &me);
  double t0 = weft_monotonic();
  is(weft_sleep(0.2), 0, "sleep with a foreign signal and a check");
  ok(weft_monotonic() - t0 >= 0.198, "resumes after the check");
  pthread_join(t, NULL);
  ok(atomic_load(&checks) >= 1 && atomic_load(&foreign_hits) == 1,
     "the check ran (%d) after the foreign handler", (int)atomic_load(&checks));
  atomic_store(&check_result, 1);
  t = spawn(kill_main_later, &me);
  is(weft_sleep(5), -EINTR, "a check that fails ends the sleep: -EINTR");
  pthread_join(t, NULL);
  weft_signal_set_check(NULL, NULL);
  atomic_store(&check_result, 0);
  restore(SIGUSR2);
}

/* ---- the wakeup descriptor ---- */

static void test_wakeup_fd(void) {
  int sv[2], old = 7;
  socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv);
  set_mode(WEFT_SIGNAL_DISPATCH);
  handle(SIGUSR1);
  is(weft_signal_set_wakeup_fd(sv[1], 1, &old), 0, "set_wakeup_fd");
  is(old, -1, "there was none");
  weft_signal_raise(SIGUSR1);
  unsigned char c = 0;
  is((int)read(sv[0], &c, 1), 1, "a signal writes one byte");
  is(c, SIGUSR1, "its number");
  /* Select on the other end through weft. */
  weft_handle s;
  weft_socket_fromfd_new(sv[0], AF_UNIX, SOCK_STREAM, 0, &s);
  weft_handle rl[1] = {s};
  size_t nr = 0, nw, nx;
  weft_signal_raise(SIGUSR1);
  is(weft_select_wait(rl, 1, NULL, 0, NULL, 0, 5, &nr, &nw, &nx), 0,
     "select_wait on the wakeup socket");
  is(nr, 1, "finds it readable");
  int ran;
  weft_signal_dispatch(0, &ran);
  is(ran, 1, "and the handler runs at dispatch");
  char drain[64];
  while (read(sv[0], drain, sizeof drain) > 0)
    ;
  weft_handle pl;
  weft_poller_new(0, &pl);
  weft_poller_register(pl, s, POLLIN, 42);
  int64_t key = 0;
  uint32_t ev = 0;
  size_t got = 0;
  weft_signal_raise(SIGUSR1);
  is(weft_poller_poll(pl, 5, &key, &ev, 1, &got), 0,
     "poller_poll on the wakeup socket");
  ok(got == 1 && key == 42 && (ev & POLLIN), "reports it readable");
  weft_close(pl);
  weft_signal_dispatch(0, &ran);

  /* A full buffer: counted with warn, not without. */
  uint64_t fails;
  int err;
  weft_signal_wakeup_errors(&fails, &err);
  char junk[4096];
  memset(junk, 0, sizeof junk);
  while (write(sv[1], junk, sizeof junk) > 0)
    ;
  weft_signal_raise(SIGUSR1);
  weft_signal_wakeup_errors(&fails, &err);
  ok(fails == 1 && err == EAGAIN, "a full buffer is counted (%d, errno %d)",
     (int)fails, err);
  weft_signal_set_wakeup_fd(sv[1], 0, &old);
  is(old, sv[1], "set_wakeup_fd returns the old fd");
  weft_signal_raise(SIGUSR1);
  weft_signal_wakeup_errors(&fails, &err);
  is((int)fails, 0, "without warn_on_full_buffer EAGAIN is not");
  weft_signal_set_wakeup_fd(-1, 1, &old);
  weft_signal_dispatch(0, &ran);
  weft_close(s);
  close(sv[0]);
  close(sv[1]);
  restore(SIGUSR1);
  set_mode(WEFT_SIGNAL_WAITS);
}

/* ---- chaining ---- */

static void test_chain(void) {
  set_mode(WEFT_SIGNAL_DISPATCH);
  install_foreign(SIGUSR1);
  atomic_store(&foreign_hits, 0);
  reset_hits();
  is(weft_signal_set(SIGUSR1, WEFT_SIG_HANDLER, WEFT_SIGNAL_CHAIN,
                     count_handler, NULL),
     0, "a handler chained to the previous C handler");
  weft_signal_raise(SIGUSR1);
  is(atomic_load(&foreign_hits), 1, "the previous one runs in the signal");
  int ran;
  weft_signal_dispatch(0, &ran);
  is(ran, 1, "and weft's at dispatch");
  weft_signal_set(SIGUSR1, WEFT_SIG_HANDLER, WEFT_SIGNAL_CHAIN, count_handler,
                  NULL);
  weft_signal_raise(SIGUSR1);
  is(atomic_load(&foreign_hits), 2,
     "set again, it still chains to the same one, once");
  weft_thread_interrupt_main(SIGUSR1);
  is(atomic_load(&foreign_hits), 3, "interrupt_main calls the chain too");
  weft_signal_dispatch(0, &ran);
  weft_signal_set(SIGUSR1, WEFT_SIG_HANDLER, 0, count_handler, NULL);
  weft_signal_raise(SIGUSR1);
  is(atomic_load(&foreign_hits), 3, "without CHAIN it is not called");
  weft_signal_dispatch(0, &ran);
  restore(SIGUSR1);
  set_mode(WEFT_SIGNAL_WAITS);
}

/* Setting a handler from inside a handler does not wait for itself. */
static int resetting_handler(void *arg, int signum) {
  (void)arg;
  atomic_fetch_add(&hits[signum], 1);
  return weft_signal_set(signum, WEFT_SIG_IGN, 0, NULL, NULL);
}

static void test_set_in_handler(void) {
  set_mode(WEFT_SIGNAL_DISPATCH);
  reset_hits();
  weft_signal_set(SIGUSR2, WEFT_SIG_HANDLER, 0, resetting_handler, NULL);
  weft_signal_raise(SIGUSR2);
  int ran, action;
  void *arg;
  is(weft_signal_dispatch(0, &ran), 0,
     "a handler that sets its own signal's action");
  weft_signal_get(SIGUSR2, &action, &arg);
  ok(atomic_load(&hits[SIGUSR2]) == 1 && action == WEFT_SIG_IGN,
     "returns, and the action is set");
  restore(SIGUSR2);
  set_mode(WEFT_SIGNAL_WAITS);
}

/* ---- the rest ---- */

static void test_misc(void) {
  char buf[64];
  size_t len = 0;
  is(weft_signal_strsignal(SIGINT, buf, sizeof buf, &len), 0, "strsignal");
  ok(strcmp(buf, "Interrupt") == 0 && len == 9,
     "strsignal(SIGINT) is "
     "\"%s\"",
     buf);
  int v = -1;
  weft_signal_valid(SIGINT, &v);
  is(v, 1, "SIGINT is valid");
  weft_signal_valid(SIGKILL, &v);
  is(v, 1, "SIGKILL is valid (it exists)");
  weft_signal_valid(32, &v);
  is(v, 0, "32 is not (glibc keeps it)");
  weft_signal_valid(NSIG, &v);
  is(v, 0, "NSIG is not");
  weft_signal_valid(SIGRTMAX, &v);
  is(v, 1, "SIGRTMAX is");
  ok(constant("SIGINT") == SIGINT && constant("NSIG") == NSIG &&
         constant("ITIMER_PROF") == ITIMER_PROF &&
         constant("SIGRTMIN") == SIGRTMIN && constant("SIGRTMAX") == SIGRTMAX &&
         constant("WEFT_SIGNAL_WAITS") == WEFT_SIGNAL_WAITS,
     "SIG*, NSIG, ITIMER_*, SIGRTMIN/MAX and weft's are constants by name");

  unsigned prev = 99;
  is(weft_signal_alarm(100, &prev), 0, "alarm(100)");
  is((int)prev, 0, "no alarm was set");
  weft_signal_alarm(0, &prev);
  ok(prev >= 99 && prev <= 100, "alarm(0) gives what was left (%u)", prev);

  double s, i;
  is(weft_signal_setitimer(ITIMER_VIRTUAL, 30, 2.5, &s, &i), 0,
     "setitimer(ITIMER_VIRTUAL)");
  weft_signal_getitimer(ITIMER_VIRTUAL, &s, &i);
  ok(s > 29 && s <= 30.1 && fabs(i - 2.5) < 1e-6,
     "getitimer reads it back (%g, %g)", s, i);
  weft_signal_setitimer(ITIMER_VIRTUAL, 0, 0, &s, &i);
  ok(s > 29 && fabs(i - 2.5) < 1e-6, "disarming returns the old values");
  weft_signal_getitimer(ITIMER_VIRTUAL, &s, &i);
  ok(s == 0 && i == 0, "and it is disarmed");

  weft_handle cur;
  weft_thread_current(&cur);
  is(weft_signal_pthread_kill(cur, 0), 0,
     "pthread_kill(current, 0) checks it is alive");
}

static int finish_fn(void *arg) {
  (void)arg;
  return 0;
}

static void test_pthread_kill_dead(void) {
  weft_handle t;
  weft_thread_new(finish_fn, NULL, NULL, &t);
  weft_thread_start(t);
  weft_thread_join(t, -1);
  is(weft_signal_pthread_kill(t, SIGUSR1), -ESRCH,
     "pthread_kill of a finished thread is -ESRCH");
  weft_close(t);
}

/* ---- fork and exec ---- */

static void test_fork(void) {
  /* The child starts weft's signal thread again. */
  const char *san = getenv("SANITIZER");
  if (san != NULL && strcmp(san, "tsan") == 0) {
    ok(1, "fork # SKIP ThreadSanitizer cannot start threads in a fork "
          "child");
    return;
  }
  set_mode(WEFT_SIGNAL_DISPATCH);
  handle(SIGUSR1);
  reset_hits();
  weft_signal_raise(SIGUSR1);
  pid_t pid = fork();
  if (pid == 0) {
    int ran = -1;
    weft_signal_dispatch(0, &ran);
    int ok1 = ran == 0;
    weft_signal_raise(SIGUSR1);
    weft_signal_dispatch(0, &ran);
    _exit(ok1 && ran == 1 ? 0 : 1);
  }
  int status = -1;
  waitpid(pid, &status, 0);
  ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
     "a fork child has no pending signals, and its handlers work");
  int ran;
  weft_signal_dispatch(0, &ran);
  is(ran, 1, "the parent's pending signal is still there");
  restore(SIGUSR1);

  /* WAITS mode in the child: the signal thread is made again. */
  set_mode(WEFT_SIGNAL_WAITS);
  handle(SIGUSR1);
  pid = fork();
  if (pid == 0) {
    kicker k;
    gate_reset(&k.ready);
    pthread_t t = spawn(block_and_wait, &k);
    gate_wait(&k.ready);
    gate_reset(&k.ready);
    pthread_t s = spawn(signal_me_later, &k);
    weft_handle ev;
    weft_event_new(&ev);
    reset_hits();
    weft_event_wait(ev, 0.3);
    int got = atomic_load(&hits[SIGUSR1]);
    pthread_join(s, NULL);
    pthread_join(t, NULL);
    _exit(got == 1 ? 0 : 1);
  }
  waitpid(pid, &status, 0);
  ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
     "in a fork child a signal another thread takes reaches the main "
     "thread's wait (the signal thread is made again)");
  restore(SIGUSR1);
}

static void test_exec(void) {
  weft_signal_set(SIGUSR1, WEFT_SIG_IGN, 0, NULL, NULL);
  handle(SIGUSR2);
  int p[2];
  if (pipe(p) != 0)
    BAIL("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    execl("/bin/cat", "cat", "/proc/self/status", (char *)NULL);
    _exit(127);
  }
  close(p[1]);
  char buf[8192];
  size_t n = 0;
  ssize_t r;
  while ((r = read(p[0], buf + n, sizeof buf - 1 - n)) > 0)
    n += (size_t)r;
  buf[n] = 0;
  close(p[0]);
  waitpid(pid, NULL, 0);
  unsigned long long ign = 0, cgt = ~0ULL;
  char *q = strstr(buf, "SigIgn:");
  if (q != NULL)
    ign = strtoull(q + 7, NULL, 16);
  q = strstr(buf, "SigCgt:");
  if (q != NULL)
    cgt = strtoull(q + 7, NULL, 16);
  ok(ign & (1ULL << (SIGUSR1 - 1)), "across exec an ignored signal stays "
                                    "ignored");
  ok(!(cgt & (1ULL << (SIGUSR2 - 1))),
     "and a handled one is back to SIG_DFL (POSIX)");
  restore(SIGUSR1);
  restore(SIGUSR2);
}

int main(void) {
  test_bad_input();
  test_actions();
  test_dispatch();
  test_pep475();
  test_other_thread();
  test_stream_reentry();
  test_thread_mode();
  test_pause();
  test_check();
  test_wakeup_fd();
  test_chain();
  test_set_in_handler();
  test_misc();
  test_pthread_kill_dead();
  test_fork();
  test_exec();
  return done_testing();
}
