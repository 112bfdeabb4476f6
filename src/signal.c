/* signal.c - the signal module: handlers in any language, run at safe
 * points (weft.h, "signal"; the wait side is in sig.h).
 *
 * The C handler (c_handler) touches only atomics and makes only
 * async-signal-safe calls: trip() sets the signal's flag and the "any"
 * flag, bumps the trip count (a futex word: weft_signal_pause and
 * weft_signal_wait sleep on it), writes the wakeup descriptor and the
 * signal thread's eventfd; then the chained C handler, if any, runs.
 * errno is saved and restored around all of it.
 *
 * Handlers run in run_tripped(), on whatever thread got there: a
 * dispatch call, the dispatching thread's wait (weft__signal_in_wait), or
 * the signal thread in WEFT_SIGNAL_THREAD mode.  A signal's flag is
 * cleared before its handler runs, so a signal that comes while it runs
 * is run again; handlers run with no lock of weft's held.  Each slot
 * counts the threads running its handler, so that weft_signal_set can
 * promise the old arg is out of use (except on the calling thread).
 *
 * The signal thread ("weft-signals", a plain pthread with every signal
 * blocked) sleeps on relay_fd.  It is started with the first handler and,
 * in a fork child, again by the next call that needs it (relay_lost).  In
 * WAITS mode it kicks the dispatching thread's sleep (weft__thread_kick),
 * which is how a signal that another thread took, or one that came during
 * a condition-variable wait (glibc restarts those), still runs promptly.
 *
 * State under mu: the slots (action, fn, arg, chain), the delivery mode
 * and dispatching thread, the signal thread's existence.  The C handler
 * reads only atomics: tripped[], the chain flags and chain_sa[] (written
 * with chain_on[] cleared), wakeup_fd, relay_fd, mode.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#include "clock.h"
#include "constant.h"
#include "error.h"
#include "fdwait.h"
#include "handle.h"
#include "sig.h"
#include "thread.h"

typedef struct slot {
  int action; /* WEFT_SIG_*, for handlers weft installed */
  weft_signal_fn fn;
  void *arg;
  unsigned running; /* threads running fn now */
} slot;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_cv; /* broadcast when a slot's running drops */
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static slot slots[NSIG];

_Atomic int weft__signal_active;
static _Atomic int tripped[NSIG];
static _Atomic int any_tripped;
static _Atomic uint32_t trip_count; /* futex word */
static _Atomic int count_waiters;   /* threads sleeping on trip_count */
static _Atomic int chain_on[NSIG];
static struct sigaction chain_sa[NSIG];

static _Atomic int wakeup_fd = -1;
static _Atomic int wakeup_warn = 1;
static _Atomic uint64_t wakeup_failures;
static _Atomic int wakeup_errno;

static _Atomic int relay_fd = -1; /* the signal thread's eventfd */
static int relay_started;         /* under mu */
static _Atomic int relay_lost;    /* a fork child: start it again */

static _Atomic int mode = WEFT_SIGNAL_WAITS;
static weft_handle runner;          /* under mu; 0: the main thread */
static _Atomic int64_t runner_tid;  /* 0: the main thread (tid == pid) */
static _Atomic unsigned runner_gen; /* bumped when the above change */

static _Atomic(weft_signal_check_fn) check_fn; /* written under mu */
static void *check_arg;                        /* under mu */

static _Thread_local unsigned running_here[NSIG]; /* of each signal */
static _Thread_local int eintr_seen;
static _Thread_local unsigned cache_gen; /* runner_here's cache */
static _Thread_local int cache_here;

/* ---- the C handler ---- */

static void count_wake(void) {
  if (atomic_load(&count_waiters) > 0)
    syscall(SYS_futex, (uint32_t *)&trip_count, FUTEX_WAKE | FUTEX_PRIVATE_FLAG,
            INT32_MAX, NULL, NULL, 0);
}

/* Async-signal-safe: CPython's trip_signal order, flags first. */
static void trip(int signum) {
  atomic_store(&tripped[signum], 1);
  atomic_store(&any_tripped, 1);
  atomic_fetch_add(&trip_count, 1);
  count_wake();
  int fd = atomic_load(&wakeup_fd);
  if (fd >= 0) {
    unsigned char b = (unsigned char)signum;
    if (write(fd, &b, 1) < 0 &&
        (errno != EAGAIN || atomic_load(&wakeup_warn))) {
      atomic_store(&wakeup_errno, errno);
      atomic_fetch_add(&wakeup_failures, 1);
    }
  }
  int rfd = atomic_load(&relay_fd);
  if (rfd >= 0 && atomic_load(&mode) != WEFT_SIGNAL_DISPATCH) {
    uint64_t one = 1;
    ssize_t w = write(rfd, &one, sizeof one);
    (void)w; /* EAGAIN: the counter is huge, readable already */
  }
}

static void call_chained(int signum, siginfo_t *si, void *uc) {
  if (!atomic_load(&chain_on[signum]))
    return;
  const struct sigaction *sa = &chain_sa[signum];
  if (sa->sa_flags & SA_SIGINFO) {
    if (sa->sa_sigaction != NULL)
      sa->sa_sigaction(signum, si, uc);
  } else if (sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN &&
             sa->sa_handler != NULL) {
    sa->sa_handler(signum);
  }
}

static void c_handler(int signum, siginfo_t *si, void *uc) {
  int saved = errno;
  if (signum > 0 && signum < NSIG) {
    trip(signum);
    call_chained(signum, si, uc);
  }
  errno = saved;
}

static int is_ours(const struct sigaction *sa) {
  return (sa->sa_flags & SA_SIGINFO) && sa->sa_sigaction == c_handler;
}

/* ---- state ---- */

static void atfork_prepare(void) { pthread_mutex_lock(&mu); }
static void atfork_parent(void) { pthread_mutex_unlock(&mu); }

/* The child: pending signals are cleared (ABI.md 10), the parent's
 * running handlers are not ours to wait for, the signal thread and its
 * eventfd are the parent's. */
static void atfork_child(void) {
  pthread_mutex_init(&mu, NULL);
  weft__cond_init(&idle_cv); /* not destroyed: see thread.c's atfork */
  for (int s = 0; s < NSIG; s++) {
    atomic_store(&tripped[s], 0);
    slots[s].running = 0;
  }
  atomic_store(&any_tripped, 0);
  atomic_store(&count_waiters, 0);
  int rfd = atomic_exchange(&relay_fd, -1);
  if (rfd >= 0)
    close(rfd);
  if (relay_started) {
    relay_started = 0;
    atomic_store(&relay_lost, 1);
  }
  atomic_fetch_add(&runner_gen, 1);
}

static void init(void) {
  weft__cond_init(&idle_cv);
  pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static void ensure_init(void) { pthread_once(&init_once, init); }

static weft_status bad_signum(const char *what, int signum) {
  return weft__error(-EINVAL, EINVAL, "%s: signal number %d out of range 1..%d",
                     what, signum, NSIG - 1);
}

#define CHECK_SIGNUM(signum, what)                                             \
  do {                                                                         \
    if ((signum) < 1 || (signum) >= NSIG)                                      \
      return bad_signum((what), (signum));                                     \
  } while (0)

/* A thread's state and ids, pinned by h for `what`: 0, or an error
 * (recorded) for a bad handle. */
static weft_status thread_ids(weft_handle h, const char *what, int *alive,
                              uint64_t *ident, int64_t *tid) {
  weft__thread *rec = weft__handle_pin_any(h, WEFT__THREAD_KINDS, NULL, what);
  if (rec == NULL)
    return WEFT__PIN_FAILED;
  pthread_mutex_lock(&rec->mu);
  *alive = rec->state == WEFT__ST_STARTED;
  *ident = atomic_load(&rec->ident);
  *tid = rec->native_id;
  pthread_mutex_unlock(&rec->mu);
  weft__handle_unpin(h);
  return 0;
}

/* ---- the signal thread ---- */

static void *relay_main(void *unused) {
  (void)unused;
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, NULL);
  pthread_setname_np(pthread_self(), "weft-signals");
  for (;;) {
    int fd = atomic_load(&relay_fd);
    uint64_t v;
    if (fd < 0 || read(fd, &v, sizeof v) < 0) {
      if (fd < 0 || errno != EINTR) {
        struct timespec ts = {0, 10000000L}; /* fd gone (fork): idle */
        nanosleep(&ts, NULL);
      }
      continue;
    }
    if (!atomic_load(&any_tripped))
      continue;
    int m = atomic_load(&mode);
    if (m == WEFT_SIGNAL_THREAD) {
      int ran;
      weft_signal_dispatch(0, &ran); /* a failure has no call to end */
    } else if (m == WEFT_SIGNAL_WAITS) {
      pthread_mutex_lock(&mu);
      weft_handle h = runner;
      pthread_mutex_unlock(&mu);
      weft__thread_kick(h);
    }
  }
  return NULL;
}

/* Start the signal thread if it is not running; under mu.  A failure
 * leaves signals working except where only it can help (kicks). */
static void relay_ensure_locked(void) {
  if (relay_started)
    return;
  if (atomic_load(&mode) == WEFT_SIGNAL_DISPATCH) {
    atomic_store(&relay_lost, 0); /* set_delivery starts it if needed */
    return;
  }
  int fd = eventfd(0, EFD_CLOEXEC);
  if (fd < 0)
    return;
  atomic_store(&relay_fd, fd);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 256 * 1024);
  pthread_t t;
  if (pthread_create(&t, &attr, relay_main, NULL) == 0) {
    relay_started = 1;
    atomic_store(&relay_lost, 0);
  } else {
    atomic_store(&relay_fd, -1);
    close(fd);
  }
  pthread_attr_destroy(&attr);
}

static void relay_ensure(void) {
  if (!atomic_load(&relay_lost))
    return;
  pthread_mutex_lock(&mu);
  relay_ensure_locked();
  pthread_mutex_unlock(&mu);
}

/* ---- running handlers ---- */

/* Run the tripped handlers of `only` (0: all).  0, or -EINTR when one
 * failed (the rest stay tripped). */
static int run_tripped(int only, int *ran) {
  *ran = 0;
  if (only == 0 && !atomic_exchange(&any_tripped, 0))
    return 0;
  int lo = only ? only : 1, hi = only ? only + 1 : NSIG;
  for (int s = lo; s < hi; s++) {
    if (!atomic_load(&tripped[s]) || !atomic_exchange(&tripped[s], 0))
      continue;
    pthread_mutex_lock(&mu);
    slot *sl = &slots[s];
    weft_signal_fn fn = sl->action == WEFT_SIG_HANDLER ? sl->fn : NULL;
    void *arg = sl->arg;
    if (fn != NULL)
      sl->running++;
    pthread_mutex_unlock(&mu);
    if (fn == NULL)
      continue; /* set to SIG_DFL or SIG_IGN since it was tripped */
    running_here[s]++;
    int r = fn(arg, s);
    running_here[s]--;
    (*ran)++;
    pthread_mutex_lock(&mu);
    if (--sl->running == 0)
      pthread_cond_broadcast(&idle_cv);
    pthread_mutex_unlock(&mu);
    if (r != 0) {
      atomic_store(&any_tripped, 1); /* others may still be tripped */
      return -EINTR;
    }
  }
  return 0;
}

int weft__signal_runner_here(void) {
  if (atomic_load(&mode) != WEFT_SIGNAL_WAITS)
    return 0;
  unsigned gen = atomic_load(&runner_gen) * 2 + 1; /* never 0 */
  if (cache_gen != gen) {
    int64_t want = atomic_load(&runner_tid);
    int64_t tid = weft__gettid();
    cache_here = want == 0 ? tid == (int64_t)getpid() : tid == want;
    cache_gen = gen;
  }
  return cache_here;
}

int weft__signal_eintr(void) {
  if (!atomic_load_explicit(&weft__signal_active, memory_order_relaxed))
    return 0;
  eintr_seen = 1;
  int s = weft__signal_in_wait(NULL);
  eintr_seen = 0; /* not this thread's business, or done: never later */
  return s < 0 ? -EINTR : 0;
}

int weft__signal_in_wait(pthread_mutex_t *held) {
  if (atomic_load(&relay_lost))
    relay_ensure();
  if (!atomic_load(&any_tripped) && !eintr_seen)
    return 0;
  if (weft__intr_masked() || !weft__signal_runner_here()) {
    eintr_seen = 0;
    return 0;
  }
  weft_signal_check_fn check = NULL;
  void *carg = NULL;
  if (atomic_load(&check_fn) != NULL) { /* fn and arg as one pair */
    pthread_mutex_lock(&mu);
    check = atomic_load(&check_fn);
    carg = check_arg;
    pthread_mutex_unlock(&mu);
  }
  int tripped_any = atomic_load(&any_tripped);
  int interrupted = eintr_seen;
  eintr_seen = 0;
  if (!tripped_any && (!interrupted || check == NULL))
    return 0;
  if (held != NULL)
    pthread_mutex_unlock(held);
  int ran = 0;
  int r = tripped_any ? run_tripped(0, &ran) : 0;
  if (r == 0 && check != NULL && check(carg) != 0)
    r = -EINTR;
  if (held != NULL)
    pthread_mutex_lock(held);
  return r < 0 ? -EINTR : 1;
}

/* ---- handlers ---- */

WEFT_API weft_status weft_signal_set(int signum, int action, int flags,
                                     weft_signal_fn fn, void *arg) {
  ensure_init();
  CHECK_SIGNUM(signum, "signal_set");
  if (signum == SIGKILL || signum == SIGSTOP)
    return weft__error(-EINVAL, EINVAL,
                       "signal_set: signal %d (%s) cannot be caught or "
                       "ignored",
                       signum, signum == SIGKILL ? "SIGKILL" : "SIGSTOP");
  if (action != WEFT_SIG_DFL && action != WEFT_SIG_IGN &&
      action != WEFT_SIG_HANDLER)
    return weft__error(-EINVAL, EINVAL, "signal_set: unknown action %d",
                       action);
  if ((flags & ~WEFT_SIGNAL_CHAIN) != 0 ||
      (flags != 0 && action != WEFT_SIG_HANDLER))
    return weft__error(-EINVAL, EINVAL,
                       "signal_set: bad flags %d for action %d", flags, action);
  if (action == WEFT_SIG_HANDLER && fn == NULL)
    return weft__error(WEFT_EVALUE, 0, "signal_set: fn is NULL");

  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_ONSTACK;
  if (action == WEFT_SIG_HANDLER) {
    sa.sa_flags |= SA_SIGINFO;
    sa.sa_sigaction = c_handler;
  } else {
    sa.sa_handler = action == WEFT_SIG_IGN ? SIG_IGN : SIG_DFL;
  }

  pthread_mutex_lock(&mu);
  if (sigaction(signum, NULL, &old) != 0) {
    int err = errno;
    pthread_mutex_unlock(&mu);
    return weft__error(-err, err, "signal_set: signal %d: %s", signum,
                       strerror(err));
  }
  /* The chain: the C handler installed now, unless it is weft's own (a
   * handler replaced by another keeps the chain it had). */
  int chain = (flags & WEFT_SIGNAL_CHAIN) != 0;
  int keep = chain && is_ours(&old) && atomic_load(&chain_on[signum]);
  struct sigaction prev = keep ? chain_sa[signum] : old;
  int chainable = (prev.sa_flags & SA_SIGINFO)
                      ? prev.sa_sigaction != NULL && !is_ours(&prev)
                      : prev.sa_handler != SIG_DFL &&
                            prev.sa_handler != SIG_IGN &&
                            prev.sa_handler != NULL;
  atomic_store(&chain_on[signum], 0);
  if (chain && chainable)
    chain_sa[signum] = prev;
  if (sigaction(signum, &sa, NULL) != 0) {
    int err = errno;
    if (keep)
      atomic_store(&chain_on[signum], 1);
    pthread_mutex_unlock(&mu);
    return weft__error(-err, err, "signal_set: signal %d: %s", signum,
                       strerror(err));
  }
  if (chain && chainable)
    atomic_store(&chain_on[signum], 1);
  slot *sl = &slots[signum];
  sl->action = action;
  sl->fn = action == WEFT_SIG_HANDLER ? fn : NULL;
  sl->arg = action == WEFT_SIG_HANDLER ? arg : NULL;
  if (action == WEFT_SIG_HANDLER) {
    atomic_store(&weft__signal_active, 1);
    relay_ensure_locked();
  }
  /* The old fn is out of use once no other thread runs it (this one may,
   * when a handler sets its own signal's action). */
  while (sl->running > running_here[signum])
    pthread_cond_wait(&idle_cv, &mu);
  pthread_mutex_unlock(&mu);
  return 0;
}

WEFT_API weft_status weft_signal_get(int signum, int *action, void **arg) {
  ensure_init();
  WEFT__CHECK_PTR(action, "signal_get");
  WEFT__CHECK_PTR(arg, "signal_get");
  *action = WEFT_SIG_DFL;
  *arg = NULL;
  CHECK_SIGNUM(signum, "signal_get");
  struct sigaction cur;
  if (sigaction(signum, NULL, &cur) != 0)
    return weft__errno(errno, "signal_get");
  if (is_ours(&cur)) {
    pthread_mutex_lock(&mu);
    *action = WEFT_SIG_HANDLER;
    *arg = slots[signum].arg;
    pthread_mutex_unlock(&mu);
  } else if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_DFL) {
    *action = WEFT_SIG_DFL;
  } else if (!(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == SIG_IGN) {
    *action = WEFT_SIG_IGN;
  } else {
    *action = WEFT_SIG_FOREIGN;
  }
  return 0;
}

WEFT_API weft_status weft_signal_dispatch(int signum, int *ran) {
  ensure_init();
  WEFT__CHECK_PTR(ran, "signal_dispatch");
  *ran = 0;
  if (signum != 0)
    CHECK_SIGNUM(signum, "signal_dispatch");
  relay_ensure();
  if (run_tripped(signum, ran) < 0)
    return weft__error(-EINTR, EINTR,
                       "signal_dispatch: a signal handler failed");
  return 0;
}

WEFT_API weft_status weft_signal_set_delivery(int delivery,
                                              weft_handle thread) {
  ensure_init();
  if (delivery != WEFT_SIGNAL_DISPATCH && delivery != WEFT_SIGNAL_WAITS &&
      delivery != WEFT_SIGNAL_THREAD)
    return weft__error(-EINVAL, EINVAL, "signal_set_delivery: unknown mode %d",
                       delivery);
  if (thread != 0 && delivery != WEFT_SIGNAL_WAITS)
    return weft__error(WEFT_EVALUE, 0,
                       "signal_set_delivery: a thread is only for "
                       "WEFT_SIGNAL_WAITS");
  int64_t tid = 0;
  if (thread != 0) {
    int alive = 0;
    uint64_t ident;
    weft_status st =
        thread_ids(thread, "signal_set_delivery", &alive, &ident, &tid);
    if (st < 0)
      return st;
    if (!alive)
      return weft__error(WEFT_ESTATE, 0,
                         "signal_set_delivery: the thread is not alive");
  }
  pthread_mutex_lock(&mu);
  runner = thread;
  atomic_store(&runner_tid, tid);
  atomic_store(&mode, delivery);
  atomic_fetch_add(&runner_gen, 1);
  if (atomic_load(&weft__signal_active))
    relay_ensure_locked();
  pthread_mutex_unlock(&mu);
  /* A signal tripped meanwhile gets to its new place. */
  if (atomic_load(&any_tripped)) {
    int rfd = atomic_load(&relay_fd);
    if (rfd >= 0 && delivery != WEFT_SIGNAL_DISPATCH)
      weft__eventfd_raise(rfd);
  }
  return 0;
}

WEFT_API weft_status weft_signal_get_delivery(int *delivery,
                                              weft_handle *thread) {
  WEFT__CHECK_PTR(delivery, "signal_get_delivery");
  WEFT__CHECK_PTR(thread, "signal_get_delivery");
  pthread_mutex_lock(&mu);
  *delivery = atomic_load(&mode);
  *thread = runner;
  pthread_mutex_unlock(&mu);
  return 0;
}

WEFT_API weft_status weft_signal_set_check(weft_signal_check_fn fn, void *arg) {
  ensure_init();
  pthread_mutex_lock(&mu);
  check_arg = arg;
  atomic_store(&check_fn, fn);
  pthread_mutex_unlock(&mu);
  if (fn != NULL)
    atomic_store(&weft__signal_active, 1);
  return 0;
}

WEFT_API weft_status weft_signal_wait(uint64_t seen, double timeout,
                                      uint64_t *now) {
  ensure_init();
  WEFT__CHECK_PTR(now, "signal_wait");
  *now = atomic_load(&trip_count);
  weft__deadline d;
  weft_status st = weft__deadline_init(&d, timeout, "signal_wait");
  if (st < 0)
    return st;
  relay_ensure();
  atomic_fetch_add(&count_waiters, 1);
  for (;;) {
    uint32_t c = atomic_load(&trip_count);
    *now = c;
    if ((uint64_t)c != seen) {
      st = 0;
      break;
    }
    int r = weft__wait_futex(&trip_count, c, &d);
    if (r == -EINTR) {
      st = weft__interrupted("signal_wait");
      break;
    }
    if (r == -ETIMEDOUT) {
      st = weft__error(-ETIMEDOUT, ETIMEDOUT, "signal_wait: timed out");
      break;
    }
  }
  atomic_fetch_sub(&count_waiters, 1);
  return st;
}

WEFT_API weft_status weft_signal_pause(void) {
  ensure_init();
  relay_ensure();
  static const weft__deadline forever = {{0, 0}, 1};
  atomic_fetch_add(&count_waiters, 1);
  uint32_t start = atomic_load(&trip_count);
  weft_status st = 0;
  for (;;) {
    int r = weft__wait_futex(&trip_count, start, &forever);
    if (r == -EINTR) {
      st = weft__interrupted("signal_pause");
      break;
    }
    if (atomic_load(&trip_count) != start) {
      /* On the dispatching thread the handler runs before pause
       * returns. */
      if (weft__signal_runner_here() && atomic_load(&any_tripped)) {
        int ran;
        if (run_tripped(0, &ran) < 0)
          st = weft__error(-EINTR, EINTR,
                           "signal_pause: a signal handler failed");
      }
      break;
    }
  }
  atomic_fetch_sub(&count_waiters, 1);
  return st;
}

/* ---- the wakeup descriptor ---- */

WEFT_API weft_status weft_signal_set_wakeup_fd(int fd, int warn_on_full_buffer,
                                               int *old_fd) {
  ensure_init();
  WEFT__CHECK_PTR(old_fd, "signal_set_wakeup_fd");
  if (fd < -1)
    return weft__error(WEFT_EVALUE, 0,
                       "signal_set_wakeup_fd: fd %d is neither -1 nor a "
                       "descriptor",
                       fd);
  if (fd >= 0) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0)
      return weft__error(-errno, errno, "signal_set_wakeup_fd: fd %d: %s", fd,
                         strerror(errno));
    if (!(fl & O_NONBLOCK))
      return weft__error(WEFT_EVALUE, 0,
                         "signal_set_wakeup_fd: the fd %d must be in "
                         "non-blocking mode",
                         fd);
  }
  atomic_store(&wakeup_warn, warn_on_full_buffer != 0);
  *old_fd = atomic_exchange(&wakeup_fd, fd);
  return 0;
}

WEFT_API weft_status weft_signal_wakeup_errors(uint64_t *count,
                                               int *last_errno) {
  WEFT__CHECK_PTR(count, "signal_wakeup_errors");
  WEFT__CHECK_PTR(last_errno, "signal_wakeup_errors");
  *count = atomic_exchange(&wakeup_failures, 0);
  *last_errno = atomic_exchange(&wakeup_errno, 0);
  return 0;
}

/* ---- timers ---- */

WEFT_API weft_status weft_signal_alarm(unsigned int seconds,
                                       unsigned int *previous) {
  WEFT__CHECK_PTR(previous, "signal_alarm");
  *previous = alarm(seconds);
  return 0;
}

static int timer_which(int which) {
  return which == ITIMER_REAL || which == ITIMER_VIRTUAL ||
         which == ITIMER_PROF;
}

static double tv_seconds(const struct timeval *tv) {
  return (double)tv->tv_sec + (double)tv->tv_usec * 1e-6;
}

/* Seconds into a timeval, rounding up to the microsecond (as CPython),
 * so that a tiny positive time still arms the timer. */
static int seconds_tv(double s, struct timeval *tv) {
  if (!isfinite(s) || s < 0 || s > (double)INT64_MAX / 2)
    return -1;
  double whole = floor(s);
  double us = ceil((s - whole) * 1e6);
  if (us >= 1e6) {
    whole += 1;
    us -= 1e6;
  }
  tv->tv_sec = (time_t)whole;
  tv->tv_usec = (suseconds_t)us;
  return 0;
}

WEFT_API weft_status weft_signal_setitimer(int which, double seconds,
                                           double interval, double *old_seconds,
                                           double *old_interval) {
  WEFT__CHECK_PTR(old_seconds, "signal_setitimer");
  WEFT__CHECK_PTR(old_interval, "signal_setitimer");
  *old_seconds = *old_interval = 0;
  if (!timer_which(which))
    return weft__error(-EINVAL, EINVAL,
                       "signal_setitimer: %d is not ITIMER_REAL, "
                       "ITIMER_VIRTUAL or ITIMER_PROF",
                       which);
  struct itimerval nv, ov;
  if (seconds_tv(seconds, &nv.it_value) < 0 ||
      seconds_tv(interval, &nv.it_interval) < 0)
    return weft__error(-EINVAL, EINVAL,
                       "signal_setitimer: times must be finite and >= 0, "
                       "not %g and %g",
                       seconds, interval);
  if (setitimer(which, &nv, &ov) != 0)
    return weft__errno(errno, "signal_setitimer");
  *old_seconds = tv_seconds(&ov.it_value);
  *old_interval = tv_seconds(&ov.it_interval);
  return 0;
}

WEFT_API weft_status weft_signal_getitimer(int which, double *seconds,
                                           double *interval) {
  WEFT__CHECK_PTR(seconds, "signal_getitimer");
  WEFT__CHECK_PTR(interval, "signal_getitimer");
  *seconds = *interval = 0;
  if (!timer_which(which))
    return weft__error(-EINVAL, EINVAL,
                       "signal_getitimer: %d is not ITIMER_REAL, "
                       "ITIMER_VIRTUAL or ITIMER_PROF",
                       which);
  struct itimerval v;
  if (getitimer(which, &v) != 0)
    return weft__errno(errno, "signal_getitimer");
  *seconds = tv_seconds(&v.it_value);
  *interval = tv_seconds(&v.it_interval);
  return 0;
}

/* ---- the rest of the module ---- */

WEFT_API weft_status weft_signal_siginterrupt(int signum, int flag) {
  ensure_init();
  CHECK_SIGNUM(signum, "signal_siginterrupt");
  pthread_mutex_lock(&mu);
  struct sigaction sa;
  int r = sigaction(signum, NULL, &sa);
  if (r == 0) {
    if (flag)
      sa.sa_flags &= ~SA_RESTART;
    else
      sa.sa_flags |= SA_RESTART;
    r = sigaction(signum, &sa, NULL);
  }
  int err = errno;
  pthread_mutex_unlock(&mu);
  if (r != 0)
    return weft__error(-err, err, "signal_siginterrupt: signal %d: %s", signum,
                       strerror(err));
  return 0;
}

WEFT_API weft_status weft_signal_strsignal(int signum, char *buf, size_t cap,
                                           size_t *len) {
  WEFT__CHECK_PTR(len, "signal_strsignal");
  WEFT__CHECK_BUF(buf, cap, "signal_strsignal");
  *len = 0;
  CHECK_SIGNUM(signum, "signal_strsignal");
  const char *d = sigdescr_np(signum);
  if (d == NULL)
    return weft__error(
        -ENOENT, 0, "signal_strsignal: signal %d has no description", signum);
  return weft__string_out(d, buf, cap, len, "signal_strsignal");
}

static int valid(int signum) {
  if (signum < 1 || signum >= NSIG)
    return 0;
  /* glibc keeps 32 and 33 (between SIGSYS and SIGRTMIN) for itself */
  struct sigaction sa;
  return !(signum > SIGSYS && signum < SIGRTMIN) &&
         sigaction(signum, NULL, &sa) == 0;
}

WEFT_API weft_status weft_signal_valid(int signum, int *is_valid) {
  WEFT__CHECK_PTR(is_valid, "signal_valid");
  *is_valid = valid(signum);
  return 0;
}

WEFT_API weft_status weft_signal_raise(int signum) {
  CHECK_SIGNUM(signum, "signal_raise");
  if (raise(signum) != 0)
    return weft__errno(errno, "signal_raise");
  return 0;
}

WEFT_API weft_status weft_signal_pthread_kill(weft_handle thread, int signum) {
  if (signum != 0)
    CHECK_SIGNUM(signum, "signal_pthread_kill");
  int alive = 0;
  uint64_t ident = 0;
  int64_t tid;
  weft_status st =
      thread_ids(thread, "signal_pthread_kill", &alive, &ident, &tid);
  if (st < 0)
    return st;
  if (!alive || ident == 0)
    return weft__error(-ESRCH, ESRCH,
                       "signal_pthread_kill: the thread is not alive");
  int r = pthread_kill((pthread_t)ident, signum);
  if (r != 0)
    return weft__error(-r, r, "signal_pthread_kill: %s", strerror(r));
  return 0;
}

weft_status weft__signal_interrupt_main(int signum) {
  ensure_init();
  CHECK_SIGNUM(signum, "thread_interrupt_main");
  struct sigaction cur;
  if (sigaction(signum, NULL, &cur) != 0 || !is_ours(&cur))
    return 0; /* not weft's: nothing happens (CPython 3.10) */
  /* As a real signal for the main thread, but in this thread's context:
   * the dispatching thread runs the handler; a chained handler sees a
   * siginfo from this process. */
  siginfo_t si;
  memset(&si, 0, sizeof si);
  si.si_signo = signum;
  si.si_code = SI_USER;
  si.si_pid = getpid();
  si.si_uid = getuid();
  ucontext_t uc; /* this thread's, for a handler that reads it */
  getcontext(&uc);
  int saved = errno;
  trip(signum);
  call_chained(signum, &si, &uc);
  errno = saved;
  return 0;
}

/* ---- constants ---- */

static weft__constant signal_constants[] = {
    WEFT__CONST(NSIG),
    WEFT__CONST(SIGHUP),
    WEFT__CONST(SIGINT),
    WEFT__CONST(SIGQUIT),
    WEFT__CONST(SIGILL),
    WEFT__CONST(SIGTRAP),
    WEFT__CONST(SIGABRT),
    WEFT__CONST(SIGIOT),
    WEFT__CONST(SIGBUS),
    WEFT__CONST(SIGFPE),
    WEFT__CONST(SIGKILL),
    WEFT__CONST(SIGUSR1),
    WEFT__CONST(SIGSEGV),
    WEFT__CONST(SIGUSR2),
    WEFT__CONST(SIGPIPE),
    WEFT__CONST(SIGALRM),
    WEFT__CONST(SIGTERM),
#ifdef SIGSTKFLT
    WEFT__CONST(SIGSTKFLT),
#endif
    WEFT__CONST(SIGCHLD),
#ifdef SIGCLD
    WEFT__CONST(SIGCLD),
#endif
    WEFT__CONST(SIGCONT),
    WEFT__CONST(SIGSTOP),
    WEFT__CONST(SIGTSTP),
    WEFT__CONST(SIGTTIN),
    WEFT__CONST(SIGTTOU),
    WEFT__CONST(SIGURG),
    WEFT__CONST(SIGXCPU),
    WEFT__CONST(SIGXFSZ),
    WEFT__CONST(SIGVTALRM),
    WEFT__CONST(SIGPROF),
    WEFT__CONST(SIGWINCH),
    WEFT__CONST(SIGIO),
#ifdef SIGPOLL
    WEFT__CONST(SIGPOLL),
#endif
#ifdef SIGPWR
    WEFT__CONST(SIGPWR),
#endif
    WEFT__CONST(SIGSYS),
    /* glibc's SIGRTMIN/SIGRTMAX are calls: filled in by fill_rt. */
    {"SIGRTMIN", 0},
    {"SIGRTMAX", 0},
    {"SIG_DFL", WEFT_SIG_DFL},
    {"SIG_IGN", WEFT_SIG_IGN},
    WEFT__CONST(SIG_BLOCK),
    WEFT__CONST(SIG_UNBLOCK),
    WEFT__CONST(SIG_SETMASK),
    WEFT__CONST(ITIMER_REAL),
    WEFT__CONST(ITIMER_VIRTUAL),
    WEFT__CONST(ITIMER_PROF),
    WEFT__CONST(WEFT_SIG_DFL),
    WEFT__CONST(WEFT_SIG_IGN),
    WEFT__CONST(WEFT_SIG_HANDLER),
    WEFT__CONST(WEFT_SIG_FOREIGN),
    WEFT__CONST(WEFT_SIGNAL_CHAIN),
    WEFT__CONST(WEFT_SIGNAL_DISPATCH),
    WEFT__CONST(WEFT_SIGNAL_WAITS),
    WEFT__CONST(WEFT_SIGNAL_THREAD),
};

__attribute__((constructor)) static void fill_rt(void) {
  for (size_t i = 0; i < sizeof signal_constants / sizeof *signal_constants;
       i++) {
    if (strcmp(signal_constants[i].name, "SIGRTMIN") == 0)
      signal_constants[i].value = SIGRTMIN;
    else if (strcmp(signal_constants[i].name, "SIGRTMAX") == 0)
      signal_constants[i].value = SIGRTMAX;
  }
}

const weft__constant_table weft__signal_constants =
    WEFT__TABLE(signal_constants);
