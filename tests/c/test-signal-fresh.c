/* test-signal-fresh.c - a main thread that has never made a weft call
 * with thread state (the library was used only from another thread)
 * blocks in thread_shutdown, which waits holding the thread registry's
 * mutex: the signal module must give it its state without that mutex
 * (it deadlocked), and a signal then runs its handler inside the wait. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <sys/time.h>

#include "thread-util.h"

static _Atomic int hits;
static _Atomic int64_t handler_tid;

static int on_alarm(void *arg, int signum) {
  (void)arg;
  (void)signum;
  atomic_fetch_add(&hits, 1);
  atomic_store(&handler_tid, (int64_t)syscall(SYS_gettid));
  return 0;
}

static int nap(void *arg) {
  (void)arg;
  return weft_sleep(0.4);
}

/* Start a non-daemon weft thread from an alien thread, so that the main
 * thread itself gets no state. */
static void *starter(void *arg) {
  weft_handle *t = arg;
  if (weft_thread_new(nap, NULL, "napper", t) != 0 ||
      weft_thread_set_daemon(*t, 0) != 0 || weft_thread_start(*t) != 0)
    BAIL("start: %s", weft_last_error_message());
  return NULL;
}

int main(void) {
  alarm(30); /* a deadlock fails the test instead of hanging it */
  if (weft_signal_set(SIGALRM, WEFT_SIG_HANDLER, 0, on_alarm, NULL) != 0)
    BAIL("signal_set");
  weft_handle t;
  pthread_t p = spawn(starter, &t);
  pthread_join(p, NULL);
  double s, i;
  weft_signal_setitimer(ITIMER_REAL, 0.1, 0, &s, &i);
  double t0 = weft_monotonic();
  is(weft_thread_shutdown(10), 0,
     "thread_shutdown on a main thread without state returns");
  ok(weft_monotonic() - t0 >= 0.3, "after the non-daemon thread ended");
  is(atomic_load(&hits), 1, "SIGALRM's handler ran meanwhile");
  is((int)atomic_load(&handler_tid), self_tid(),
     "on the main thread, inside the wait");
  weft_close(t);
  return done_testing();
}
