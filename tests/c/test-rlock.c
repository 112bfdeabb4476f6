/* test-rlock.c - RLock: ownership, recursion, timeouts, bad handles. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "sync-util.h"

static weft_handle rl;

/* What another thread sees of an rlock the main thread holds. */
static struct {
  weft_status poll, timed, release;
  int owned;
  double waited;
} other;

static void *other_thread(void *arg) {
  (void)arg;
  other.poll = weft_rlock_acquire(rl, 0);
  double t0 = weft_monotonic();
  other.timed = weft_rlock_acquire(rl, 0.05);
  other.waited = weft_monotonic() - t0;
  other.release = weft_rlock_release(rl);
  weft_rlock_is_owned(rl, &other.owned);
  return NULL;
}

static _Atomic int blocked_tid, blocked_got_it;
static weft_status blocked_status;
static int blocked_owned_after;

static void *blocking_acquirer(void *arg) {
  (void)arg;
  atomic_store(&blocked_tid, self_tid());
  blocked_status = weft_rlock_acquire(rl, -1);
  atomic_store(&blocked_got_it, 1);
  weft_rlock_is_owned(rl, &blocked_owned_after);
  /* Recursion works on this thread too; leave the lock fully released. */
  weft_rlock_acquire(rl, 0);
  weft_rlock_release(rl);
  weft_rlock_release(rl);
  return NULL;
}

static void test_basics(void) {
  is(weft_rlock_new(NULL), WEFT_EVALUE, "rlock_new with NULL out is EVALUE");
  is(weft_rlock_new(&rl), 0, "rlock_new succeeds");
  ok(rl > 0 && rl < BIG, "the handle is in (0, 2^53)");
  int kind = 0;
  weft_handle_kind(rl, &kind);
  is(kind, WEFT_KIND_RLOCK, "its kind is WEFT_KIND_RLOCK");

  int owned = -1;
  is(weft_rlock_is_owned(rl, &owned), 0, "is_owned succeeds");
  is(owned, 0, "a new rlock is not owned");
  is(weft_rlock_release(rl), WEFT_ESTATE,
     "releasing an unowned rlock is ESTATE");
  ok(strncmp(weft_last_error_message(), "rlock_release:", 14) == 0,
     "the message names rlock_release");

  is(weft_rlock_acquire(rl, -1), 0, "acquire succeeds");
  weft_rlock_is_owned(rl, &owned);
  is(owned, 1, "the acquiring thread owns it");
  is(weft_rlock_acquire(rl, 0), 0, "the owner may acquire again (poll)");
  is(weft_rlock_acquire(rl, -1), 0, "and again (blocking)");
  is(weft_rlock_release(rl), 0, "release 1 of 3");
  is(weft_rlock_release(rl), 0, "release 2 of 3");
  weft_rlock_is_owned(rl, &owned);
  is(owned, 1, "still owned after 2 of 3 releases");
  is(weft_rlock_release(rl), 0, "release 3 of 3");
  weft_rlock_is_owned(rl, &owned);
  is(owned, 0, "not owned after as many releases as acquires");
  is(weft_rlock_release(rl), WEFT_ESTATE, "one release too many is ESTATE");
}

static void test_other_thread(void) {
  weft_rlock_acquire(rl, -1);
  weft_rlock_acquire(rl, -1);
  pthread_join(spawn(other_thread, NULL), NULL);
  is(other.poll, -ETIMEDOUT, "another thread's poll acquire is ETIMEDOUT");
  is(other.timed, -ETIMEDOUT, "another thread's 0.05 s acquire times out");
  ok(other.waited >= 0.04, "after at least 0.04 s (%.3f)", other.waited);
  is(other.release, WEFT_ESTATE, "a non-owner's release is ESTATE");
  is(other.owned, 0, "a non-owner is told it does not own it");
  int owned = 0;
  weft_rlock_is_owned(rl, &owned);
  is(owned, 1, "a non-owner's failed release leaves it owned");

  atomic_store(&blocked_tid, 0);
  pthread_t t = spawn(blocking_acquirer, NULL);
  _Atomic int *tids = &blocked_tid;
  ok(wait_all_blocked(tids, 1), "a blocking acquirer sleeps while it is held");
  weft_rlock_release(rl);
  sleep_s(0.05);
  ok(!atomic_load(&blocked_got_it), "one release of two does not let it in");
  weft_rlock_release(rl);
  pthread_join(t, NULL);
  is(blocked_status, 0, "the last release lets the blocked acquirer in");
  is(blocked_owned_after, 1, "which then owns it");
  weft_rlock_is_owned(rl, &owned);
  is(owned, 0, "and the former owner no longer does");
  is(weft_rlock_acquire(rl, 0), 0, "it is free again once that thread left");
  weft_rlock_release(rl);
}

static void test_bad_arguments(void) {
  weft_handle lock, dead;
  weft_lock_new(&lock);
  weft_rlock_new(&dead);
  weft_close(dead);
  weft_handle bad[] = {0, -1, BIG, dead, lock};
  const char *name[] = {"0", "-1", "2^53", "a closed rlock", "a Lock"};
  int owned;
  for (int i = 0; i < 5; i++) {
    is(weft_rlock_acquire(bad[i], 0), WEFT_EBADHANDLE,
       "acquire on %s is EBADHANDLE", name[i]);
    is(weft_rlock_release(bad[i]), WEFT_EBADHANDLE,
       "release on %s is EBADHANDLE", name[i]);
    is(weft_rlock_is_owned(bad[i], &owned), WEFT_EBADHANDLE,
       "is_owned on %s is EBADHANDLE", name[i]);
  }
  is(weft_rlock_is_owned(rl, NULL), WEFT_EVALUE,
     "is_owned with NULL out is EVALUE");
  is(weft_rlock_acquire(rl, NAN), WEFT_EVALUE, "a NaN timeout is EVALUE");
  weft_rlock_acquire(rl, -1);
  is(weft_rlock_acquire(rl, NAN), WEFT_EVALUE,
     "a NaN timeout is EVALUE for the owner too");
  weft_rlock_release(rl);
  is(weft_lock_acquire(lock, 0), 0, "the Lock was not touched");
  weft_lock_release(lock);
  weft_close(lock);

  /* A new rlock that may reuse the closed one's slot. */
  weft_handle fresh;
  weft_rlock_new(&fresh);
  ok(fresh != dead, "a new rlock gets a handle other than a closed one's");
  is(weft_rlock_acquire(dead, 0), WEFT_EBADHANDLE,
     "the closed handle stays bad after its slot is reused");
  weft_rlock_is_owned(fresh, &owned);
  is(owned, 0, "and did not touch the new rlock");
  weft_close(fresh);
}

static void test_close(void) {
  weft_handle h;
  weft_rlock_new(&h);
  weft_rlock_acquire(h, -1);
  is(weft_close(h), 0, "an owned rlock can be closed");
  is(weft_rlock_release(h), WEFT_EBADHANDLE, "release after close is bad");
  is(weft_close(h), WEFT_EBADHANDLE, "closing twice is EBADHANDLE");
  int kind;
  is(weft_handle_kind(h, &kind), WEFT_EBADHANDLE, "a closed rlock has no kind");
}

int main(void) {
  test_basics();
  test_other_thread();
  test_bad_arguments();
  test_close();
  weft_close(rl);
  return done_testing();
}
