/* test-lock.c - the primitive Lock. */
#include <errno.h>
#include <string.h>

#include "sync-util.h"

static weft_handle shared;

static _Atomic int tids[8];

static void *acquire_forever(void *arg) {
  atomic_store(&tids[(intptr_t)arg], self_tid());
  weft_status st = weft_lock_acquire(shared, -1);
  return (void *)(intptr_t)st;
}

static void *release_it(void *arg) {
  (void)arg;
  return (void *)(intptr_t)weft_lock_release(shared);
}

/* Start n acquire_forever threads and wait until they sleep in it. */
static void start_waiters(pthread_t *t, int n) {
  for (int i = 0; i < n; i++)
    atomic_store(&tids[i], 0);
  for (int i = 0; i < n; i++)
    t[i] = spawn(acquire_forever, (void *)(intptr_t)i);
  if (!wait_all_blocked(tids, n))
    BAIL("%d waiters never blocked", n);
}

static void test_basics(void) {
  weft_handle l;
  int locked = -1;
  is(weft_lock_new(&l), 0, "lock_new");
  is(weft_lock_locked(l, &locked), 0, "locked");
  is(locked, 0, "a new lock is unlocked");
  is(weft_lock_acquire(l, -1), 0, "acquire");
  weft_lock_locked(l, &locked);
  is(locked, 1, "locked after acquire");
  is(weft_lock_acquire(l, 0), -ETIMEDOUT, "a held lock does not poll");
  is(weft_lock_release(l), 0, "release");
  is(weft_lock_release(l), WEFT_ESTATE, "second release is an error");
  is(weft_lock_locked(l, NULL), WEFT_EVALUE, "locked(NULL)");
  is(weft_close(l), 0, "close");
  is(weft_lock_release(l), WEFT_EBADHANDLE, "release after close");
  is(weft_lock_locked(l, &locked), WEFT_EBADHANDLE, "locked after close");

  weft_lock_new(&l);
  weft_lock_acquire(l, -1);
  is(weft_close(l), 0, "a held lock can be closed");
  is(weft_lock_release(l), WEFT_EBADHANDLE,
     "its holder's release is then EBADHANDLE");
  is(weft_lock_acquire(l, 0), WEFT_EBADHANDLE, "and so is an acquire");
}

/* The first thread of the process starts while the lock is held: the
 * single-threaded fast path must have left a word the new thread sees. */
static weft_status poll_result;
static int locked_seen;

static void *poll_lock(void *arg) {
  (void)arg;
  poll_result = weft_lock_acquire(shared, 0);
  weft_lock_locked(shared, &locked_seen);
  return NULL;
}

static void test_first_thread_sees_held(void) {
  weft_lock_new(&shared);
  weft_lock_acquire(shared, -1); /* no other thread exists yet */
  pthread_join(spawn(poll_lock, NULL), NULL);
  is(poll_result, -ETIMEDOUT,
     "a lock taken before the first thread started is held for it");
  is(locked_seen, 1, "and it reads it as locked");
  weft_close(shared);
}

static void test_any_thread_releases(void) {
  weft_lock_new(&shared);
  weft_lock_acquire(shared, -1);
  pthread_t t;
  void *ret;
  pthread_create(&t, NULL, release_it, NULL);
  pthread_join(t, &ret);
  is((intptr_t)ret, 0, "another thread may release a Lock");
  int locked = 1;
  weft_lock_locked(shared, &locked);
  is(locked, 0, "and it is then unlocked");
  weft_close(shared);
}

static void test_handoff(void) {
  weft_lock_new(&shared);
  weft_lock_acquire(shared, -1);
  pthread_t t;
  void *ret;
  start_waiters(&t, 1);
  is(weft_lock_release(shared), 0, "release with a waiter");
  pthread_join(t, &ret);
  is((intptr_t)ret, 0, "the waiter acquires it");
  int locked = 0;
  weft_lock_locked(shared, &locked);
  is(locked, 1, "and holds it");
  weft_close(shared);
}

static void test_close_wakes_waiter(void) {
  weft_lock_new(&shared);
  weft_lock_acquire(shared, -1);
  pthread_t t[3];
  void *ret;
  start_waiters(t, 3);
  is(weft_close(shared), 0, "close a lock with waiters");
  for (int i = 0; i < 3; i++) {
    pthread_join(t[i], &ret);
    is((intptr_t)ret, WEFT_ECLOSED, "waiter %d wakes with WEFT_ECLOSED", i);
  }
}

static void test_wrong_kind(void) {
  weft_handle l;
  weft_lock_new(&l);
  /* Same index and generation, another kind: refused before any access. */
  weft_handle other = (l & ~((int64_t)63 << 24)) | ((int64_t)WEFT_KIND_EVENT << 24);
  is(weft_lock_acquire(other, 0), WEFT_EBADHANDLE, "wrong-kind handle");
  weft_close(l);
}

int main(void) {
  test_basics();
  test_first_thread_sees_held(); /* must start the process's first thread */
  test_any_thread_releases();
  test_handoff();
  test_close_wakes_waiter();
  test_wrong_kind();
  return done_testing();
}
