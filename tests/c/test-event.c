/* test-event.c - Event: set, clear, is_set, wait. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sync-util.h"

static int is_set(weft_handle e) {
  int v = -1;
  weft_event_is_set(e, &v);
  return v;
}

static void test_flag(void) {
  weft_handle e;
  is(weft_event_new(NULL), WEFT_EVALUE, "event_new with NULL out is EVALUE");
  is(weft_event_new(&e), 0, "event_new succeeds");
  int kind = 0;
  weft_handle_kind(e, &kind);
  is(kind, WEFT_KIND_EVENT, "its kind is WEFT_KIND_EVENT");
  is(is_set(e), 0, "a new event is clear");
  is(weft_event_wait(e, 0), -ETIMEDOUT, "wait(0) on a clear event");
  ok(strncmp(weft_last_error_message(), "event_wait:", 11) == 0,
     "the message names event_wait");
  double t0 = weft_monotonic();
  is(weft_event_wait(e, 0.05), -ETIMEDOUT, "wait(0.05) on a clear event");
  double dt = weft_monotonic() - t0;
  ok(dt >= 0.04, "after at least 0.04 s (%.3f)", dt);
  is(weft_event_set(e), 0, "set");
  is(is_set(e), 1, "is_set after set");
  is(weft_event_set(e), 0, "set again");
  is(is_set(e), 1, "is still set");
  is(weft_event_wait(e, 0), 0, "wait(0) on a set event is 0");
  is(weft_event_wait(e, -1), 0, "wait(-1) on a set event returns 0 at once");
  is(weft_event_clear(e), 0, "clear");
  is(is_set(e), 0, "is_set after clear");
  is(weft_event_clear(e), 0, "clear again");
  is(weft_event_wait(e, 0), -ETIMEDOUT, "wait(0) after clear times out");
  weft_close(e);
}

typedef struct wait_arg {
  weft_handle e;
  double timeout;
  _Atomic int *tid;
  weft_status st;
} wait_arg;

static void *waiter(void *p) {
  wait_arg *a = p;
  atomic_store(a->tid, self_tid());
  a->st = weft_event_wait(a->e, a->timeout);
  return NULL;
}

/* Start n waiters, wait until they all sleep, run `act`, join them and
 * return how many got 0. */
static int with_waiters(weft_handle e, int n, double timeout,
                        void (*act)(weft_handle), int *blocked) {
  wait_arg a[8];
  pthread_t t[8];
  _Atomic int tids[8];
  for (int i = 0; i < n; i++) {
    atomic_init(&tids[i], 0);
    a[i] = (wait_arg){.e = e, .timeout = timeout, .tid = &tids[i]};
    t[i] = spawn(waiter, &a[i]);
  }
  *blocked = wait_all_blocked(tids, n);
  act(e);
  int n0 = 0;
  for (int i = 0; i < n; i++) {
    pthread_join(t[i], NULL);
    n0 += a[i].st == 0;
  }
  return n0;
}

static void act_set(weft_handle e) { weft_event_set(e); }
static void act_set_clear(weft_handle e) {
  weft_event_set(e);
  weft_event_clear(e);
}

static void test_waiters(void) {
  weft_handle e;
  int blocked;
  weft_event_new(&e);
  /* Bounded waits, so that a lost wakeup fails instead of hanging. */
  is(with_waiters(e, 4, 30, act_set, &blocked), 4,
     "set wakes every waiter with 0");
  ok(blocked, "they were blocked before set");
  weft_event_clear(e);
  is(with_waiters(e, 4, 30, act_set_clear, &blocked), 4,
     "set then clear at once still wakes every waiter with 0");
  ok(blocked, "they were blocked before set");
  is(is_set(e), 0, "and the event is clear after");
  weft_close(e);
}

static void test_bad_arguments(void) {
  weft_handle e, dead, lock;
  weft_event_new(&e);
  weft_event_new(&dead);
  weft_close(dead);
  weft_lock_new(&lock);
  weft_handle bad[] = {0, -1, BIG, dead, lock};
  const char *name[] = {"0", "-1", "2^53", "a closed event", "a Lock"};
  int v;
  for (int i = 0; i < 5; i++) {
    is(weft_event_set(bad[i]), WEFT_EBADHANDLE, "set on %s is EBADHANDLE",
       name[i]);
    is(weft_event_clear(bad[i]), WEFT_EBADHANDLE,
       "clear on %s is EBADHANDLE", name[i]);
    is(weft_event_is_set(bad[i], &v), WEFT_EBADHANDLE,
       "is_set on %s is EBADHANDLE", name[i]);
    is(weft_event_wait(bad[i], 0), WEFT_EBADHANDLE,
       "wait on %s is EBADHANDLE", name[i]);
  }
  is(weft_lock_acquire(lock, 0), 0, "the Lock was not touched");
  is(weft_event_is_set(e, NULL), WEFT_EVALUE, "is_set with NULL is EVALUE");
  is(weft_event_wait(e, NAN), WEFT_EVALUE, "a NaN timeout is EVALUE");
  weft_event_set(e);
  is(weft_event_wait(e, NAN), WEFT_EVALUE, "even on a set event");
  is(weft_close(e), 0, "close");
  is(weft_close(e), WEFT_EBADHANDLE, "closing twice is EBADHANDLE");
  weft_close(lock);
}

/* 1 if select finds e readable now. */
static int selects_ready(weft_handle e) {
  weft_handle r[1] = {e};
  size_t n[3];
  return weft_select_wait(r, 1, NULL, 0, NULL, 0, 0, &n[0], &n[1], &n[2]) ==
         0;
}

/* An Event's descriptor (made for select and pollers) is the parent's in
 * a fork child until the child replaces it, even when the child has no
 * descriptor left (the parent's table was full): a set in the child must
 * never make the parent's Event poll readable. */
static void test_fork_full_table(void) {
  weft_handle e;
  weft_event_new(&e);
  ok(!selects_ready(e), "a clear Event does not select (its eventfd made)");
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
  int full = nfill < 1024 && errno == EMFILE;
  pid_t pid = fork();
  if (pid == 0) {
    int bad = weft_event_set(e) != 0 || !selects_ready(e);
    _exit(bad);
  }
  int status = -1;
  waitpid(pid, &status, 0);
  while (nfill > 0)
    close(fill[--nfill]);
  setrlimit(RLIMIT_NOFILE, &old);
  if (!full) {
    ok(1, "# SKIP cannot fill the descriptor table");
    ok(1, "# SKIP cannot fill the descriptor table");
  } else {
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "the child set its copy of the Event, which selects there");
    ok(is_set(e) == 0 && !selects_ready(e),
       "the parent's Event stays clear and does not select");
  }
  weft_close(e);
}

int main(void) {
  test_flag();
  test_waiters();
  test_bad_arguments();
  test_fork_full_table();
  return done_testing();
}
