/* test-core.c - status codes, the last error, constants, version, time,
 * and the handle rules every kind shares. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

static void test_status_names(void) {
  ok(strcmp(weft_err_name(0), "OK") == 0, "err_name(0) is OK");
  ok(strcmp(weft_err_name(WEFT_EBADHANDLE), "WEFT_EBADHANDLE") == 0,
     "err_name names weft codes");
  ok(strcmp(weft_err_name(-ETIMEDOUT), "ETIMEDOUT") == 0,
     "err_name names -errno codes");
  ok(strcmp(weft_err_name(-999999), "UNKNOWN") == 0,
     "err_name of an unknown code is UNKNOWN");
  ok(strcmp(weft_strerror(-ECONNREFUSED), "Connection refused") == 0,
     "strerror of -errno is the OS text");
  ok(strlen(weft_strerror(WEFT_ECLOSED)) > 0, "strerror of a weft code");
  ok(weft_strerror(123456) != NULL, "strerror never returns NULL");
  ok(WEFT_EBADHANDLE <= WEFT_ERR_BASE && WEFT_ENOTSUP <= WEFT_ERR_BASE,
     "weft codes are at or below WEFT_ERR_BASE");
}

static void test_last_error(void) {
  weft_handle lock;
  weft_lock_new(&lock);
  is(weft_lock_release(lock), WEFT_ESTATE, "release of unlocked lock fails");
  is(weft_last_error_code(), WEFT_ESTATE, "last_error_code follows");
  ok(strstr(weft_last_error_message(), "lock_release") != NULL,
     "last_error_message names the operation: %s",
     weft_last_error_message());
  is(weft_lock_acquire(lock, 0), 0, "acquire");
  is(weft_lock_acquire(lock, 0.01), -ETIMEDOUT, "timed acquire times out");
  is(weft_last_error_detail(), ETIMEDOUT, "detail is the errno value");
  weft_close(lock);
}

static void test_constants(void) {
  int64_t v = 0;
  is(weft_constant_get("WEFT_ECLOSED", &v), 0, "constant_get finds a code");
  is(v, WEFT_ECLOSED, "with its value");
  is(weft_constant_get("EAGAIN", &v), 0, "errno names are constants");
  is(v, EAGAIN, "EAGAIN has the platform value");
  is(weft_constant_get("WEFT_KIND_LOCK", &v), 0, "kinds are constants");
  is(weft_constant_get("NO_SUCH_THING", &v), -ENOENT, "unknown name");
  is(weft_constant_get(NULL, &v), WEFT_EVALUE, "NULL name");
  is(weft_constant_get("EAGAIN", NULL), WEFT_EVALUE, "NULL out");

  size_t n = weft_constant_count(), len = 0, found = 0;
  ok(n > 100, "constant_count enumerates many (%zu)", n);
  char name[64];
  int all_ok = 1;
  for (size_t i = 0; i < n; i++) {
    int64_t value, again;
    if (weft_constant_at(i, name, sizeof name, &len, &value) != 0 ||
        len != strlen(name) || weft_constant_get(name, &again) != 0) {
      all_ok = 0;
      continue;
    }
    /* Aliases (EWOULDBLOCK = EAGAIN) resolve to the first: same value. */
    all_ok &= again == value;
    found += strcmp(name, "WEFT_EBADHANDLE") == 0;
  }
  ok(all_ok, "every enumerated constant looks up to its value");
  is(found, 1, "enumeration lists WEFT_EBADHANDLE once");
  is(weft_constant_at(n, name, sizeof name, &len, &v), -ENOENT,
     "constant_at past the end");
  is(weft_constant_at(0, name, 2, &len, &v), WEFT_ERANGE,
     "constant_at with a small buffer");
  is(len, strlen("WEFT_OK"), "reports the full length");
  is(weft_constant_at(0, NULL, 0, &len, &v), WEFT_ERANGE,
     "a NULL buffer asks for the length");
}

static void test_version(void) {
  char want[32];
  snprintf(want, sizeof want, "%d.%d.%d", WEFT_VERSION_MAJOR,
           WEFT_VERSION_MINOR, WEFT_VERSION_PATCH);
  ok(strcmp(weft_version(), want) == 0, "version is %s", want);
  is(weft_version_number(), WEFT_VERSION_MAJOR * 10000 +
                                WEFT_VERSION_MINOR * 100 + WEFT_VERSION_PATCH,
     "version_number");
}

static void test_time(void) {
  double t0 = weft_monotonic();
  is(weft_sleep(0.02), 0, "sleep");
  double dt = weft_monotonic() - t0;
  ok(dt >= 0.019, "sleep lasted at least its time (%.4f s)", dt);
  is(weft_sleep(-1), WEFT_EVALUE, "negative sleep");
  is(weft_sleep(NAN), WEFT_EVALUE, "NaN sleep");
  is(weft_sleep(0), 0, "zero sleep");
  weft_handle lock;
  weft_lock_new(&lock);
  weft_lock_acquire(lock, -1);
  is(weft_lock_acquire(lock, NAN), WEFT_EVALUE, "NaN timeout is refused");
  t0 = weft_monotonic();
  is(weft_lock_acquire(lock, 0.05), -ETIMEDOUT, "timeout");
  ok(weft_monotonic() - t0 >= 0.049, "timed wait lasted its timeout");
  weft_close(lock);
}

/* Timeouts at the extremes.  The tiniest positive one times out at once;
 * huge ones (up to DBL_MAX, and inf) wait like forever, on a futex (Lock)
 * and on a condition variable (Semaphore), instead of overflowing into a
 * deadline in the past. */
static weft_handle extreme_lock, extreme_sem;
static double extreme_timeout;
static _Atomic pid_t extreme_tid;

static void *extreme_lock_waiter(void *arg) {
  (void)arg;
  atomic_store(&extreme_tid, gettid());
  weft_status st = weft_lock_acquire(extreme_lock, extreme_timeout);
  if (st == 0)
    weft_lock_release(extreme_lock);
  return (void *)(intptr_t)st;
}

static void *extreme_sem_waiter(void *arg) {
  (void)arg;
  atomic_store(&extreme_tid, gettid());
  return (void *)(intptr_t)weft_semaphore_acquire(extreme_sem,
                                                  extreme_timeout);
}

/* Start `waiter`, let it block, wake it with `wake` and return its
 * status, or 1 if it never blocked. */
static int wait_and_wake(void *(*waiter)(void *), void (*wake)(void)) {
  atomic_store(&extreme_tid, 0);
  pthread_t t;
  pthread_create(&t, NULL, waiter, NULL);
  while (atomic_load(&extreme_tid) == 0)
    usleep(1000);
  int blocked = wait_blocked(atomic_load(&extreme_tid));
  wake();
  void *ret;
  pthread_join(t, &ret);
  return blocked ? (int)(intptr_t)ret : 1;
}

static void release_extreme_lock(void) { weft_lock_release(extreme_lock); }
static void release_extreme_sem(void) {
  weft_semaphore_release(extreme_sem, 1);
}

static void test_extreme_timeouts(void) {
  weft_lock_new(&extreme_lock);
  weft_semaphore_new(0, &extreme_sem);
  weft_lock_acquire(extreme_lock, -1);
  is(weft_lock_acquire(extreme_lock, 5e-324), -ETIMEDOUT,
     "the smallest positive timeout times out (Lock)");
  is(weft_semaphore_acquire(extreme_sem, 5e-324), -ETIMEDOUT,
     "the smallest positive timeout times out (Semaphore)");
  const double huge[] = {9.1e9, 9.3e9, 1e300, DBL_MAX, INFINITY};
  for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++) {
    extreme_timeout = huge[i];
    is(wait_and_wake(extreme_lock_waiter, release_extreme_lock), 0,
       "a %g s timeout waits until woken (Lock)", huge[i]);
    weft_lock_acquire(extreme_lock, -1);
    is(wait_and_wake(extreme_sem_waiter, release_extreme_sem), 0,
       "a %g s timeout waits until woken (Semaphore)", huge[i]);
  }
  weft_close(extreme_lock);
  weft_close(extreme_sem);
}

static void test_handles(void) {
  weft_handle lock, lock2;
  int kind = 0;
  is(weft_lock_new(&lock), 0, "lock_new");
  ok(lock > 0 && lock < ((int64_t)1 << 53), "handle is > 0 and < 2^53");
  is(weft_handle_kind(lock, &kind), 0, "handle_kind");
  is(kind, WEFT_KIND_LOCK, "of a lock is WEFT_KIND_LOCK");
  is(weft_handle_kind(lock, NULL), WEFT_EVALUE, "handle_kind NULL out");
  const weft_handle bad[] = {0, -1, (int64_t)1 << 53, INT64_MAX, INT64_MIN,
                             lock + 1, lock ^ ((int64_t)1 << 24)};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    is(weft_close(bad[i]), WEFT_EBADHANDLE, "close(%lld) is a bad handle",
       (long long)bad[i]);
    is(weft_lock_acquire(bad[i], 0), WEFT_EBADHANDLE,
       "lock_acquire(%lld) is a bad handle", (long long)bad[i]);
    is(weft_handle_kind(bad[i], &kind), WEFT_EBADHANDLE,
       "handle_kind(%lld) is a bad handle", (long long)bad[i]);
  }
  is(weft_close(lock), 0, "close");
  is(weft_close(lock), WEFT_EBADHANDLE, "closing twice is an error");
  is(weft_lock_acquire(lock, 0), WEFT_EBADHANDLE, "a closed handle is bad");
  is(weft_handle_kind(lock, &kind), WEFT_EBADHANDLE, "kind of closed");
  is(weft_lock_new(&lock2), 0, "a new lock may reuse the slot");
  ok(lock2 != lock, "but never the handle value");
  is(weft_lock_acquire(lock, 0), WEFT_EBADHANDLE,
     "the old handle does not reach the new lock");
  int locked = 1;
  is(weft_lock_locked(lock2, &locked), 0, "new lock");
  is(locked, 0, "is not locked by the stale acquire");
  is(weft_lock_new(NULL), WEFT_EVALUE, "lock_new(NULL)");
  weft_close(lock2);
}

/* 1 if the child exits with 0 within 20 s; a child that deadlocked is
 * killed and counts as a failure. */
static int child_succeeds(pid_t pid) {
  int status = -1;
  for (int i = 0; i < 2000; i++) {
    if (waitpid(pid, &status, WNOHANG) == pid)
      return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    usleep(10000);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  diag("fork child %d hung and was killed", (int)pid);
  return 0;
}

/* ABI.md 10: after fork() the child may keep using weft. */
static void test_fork_child_keeps_working(void) {
  weft_handle before;
  weft_lock_new(&before);
  weft_lock_acquire(before, -1);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    weft_handle l;
    int fails = 0;
    fails += weft_lock_release(before) != 0; /* inherited state */
    for (int i = 0; i < 1000; i++) {
      fails += weft_lock_new(&l) != 0;
      fails += weft_lock_acquire(l, 0) != 0;
      fails += weft_close(l) != 0;
    }
    _exit(fails ? 1 : 0);
  }
  ok(child_succeeds(pid), "a fork child creates, uses and closes handles");
  weft_close(before);
}

/* Fork while other threads hold and wait on primitives' internal state:
 * the child must find every primitive usable. */
static weft_handle busy_event, busy_sem, block_sem;
static _Atomic int busy_stop;

static void *busy(void *arg) {
  (void)arg;
  while (!atomic_load(&busy_stop)) {
    weft_event_set(busy_event);
    weft_event_clear(busy_event);
    weft_semaphore_release(busy_sem, 1);
    weft_semaphore_acquire(busy_sem, 0);
  }
  return NULL;
}

/* Blocked in the semaphore's condvar when the forks happen (only the
 * end of the test releases block_sem). */
static void *blocked_waiter(void *arg) {
  (void)arg;
  weft_semaphore_acquire(block_sem, 60);
  return NULL;
}

static void test_fork_resets_primitives(void) {
  weft_handle cond;
  weft_event_new(&busy_event);
  weft_semaphore_new(0, &busy_sem);
  weft_semaphore_new(0, &block_sem);
  weft_condition_new(0, &cond);
  pthread_t b, w;
  pthread_create(&w, NULL, blocked_waiter, NULL);
  pthread_create(&b, NULL, busy, NULL);
  int good = 0, forks = 20;
  for (int i = 0; i < forks; i++) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      int fails = 0;
      fails += weft_event_set(busy_event) != 0;
      fails += weft_event_wait(busy_event, 0) != 0;
      fails += weft_semaphore_release(busy_sem, 2) != 0;
      fails += weft_semaphore_acquire(busy_sem, 0) != 0;
      fails += weft_semaphore_release(block_sem, 1) != 0;
      fails += weft_semaphore_acquire(block_sem, 0) != 0;
      fails += weft_condition_acquire(cond, -1) != 0;
      fails += weft_condition_notify_all(cond) != 0;
      fails += weft_condition_wait(cond, 0.001) != -ETIMEDOUT;
      fails += weft_condition_release(cond) != 0;
      fails += weft_close(busy_event) != 0;
      _exit(fails);
    }
    good += child_succeeds(pid);
  }
  is(good, forks, "fork children use primitives other threads were busy on");
  atomic_store(&busy_stop, 1);
  pthread_join(b, NULL);
  weft_semaphore_release(block_sem, 1);
  pthread_join(w, NULL);
  weft_close(busy_event);
  weft_close(busy_sem);
  weft_close(block_sem);
  weft_close(cond);
}

int main(void) {
  test_status_names();
  test_last_error();
  test_constants();
  test_version();
  test_time();
  test_extreme_timeouts();
  test_handles();
  test_fork_child_keeps_working();
  test_fork_resets_primitives();
  return done_testing();
}
