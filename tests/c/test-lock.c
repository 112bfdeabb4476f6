/* test-lock.c - the primitive Lock. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"

static weft_handle shared;
static _Atomic int stage;

static _Atomic pid_t tids[8];

static void *acquire_forever(void *arg) {
  atomic_store(&tids[(intptr_t)arg], gettid());
  atomic_fetch_add(&stage, 1);
  weft_status st = weft_lock_acquire(shared, -1);
  return (void *)(intptr_t)st;
}

static void *release_it(void *arg) {
  (void)arg;
  return (void *)(intptr_t)weft_lock_release(shared);
}

/* Wait until n acquire_forever threads are asleep in their wait. */
static void wait_stage(int n) {
  while (atomic_load(&stage) < n)
    usleep(1000);
  for (int i = 0; i < n; i++)
    if (!wait_blocked(atomic_load(&tids[i])))
      BAIL("thread %d never blocked", i);
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
  atomic_store(&stage, 0);
  pthread_t t;
  void *ret;
  pthread_create(&t, NULL, acquire_forever, (void *)(intptr_t)0);
  wait_stage(1);
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
  atomic_store(&stage, 0);
  pthread_t t[3];
  void *ret;
  for (int i = 0; i < 3; i++)
    pthread_create(&t[i], NULL, acquire_forever, (void *)(intptr_t)i);
  wait_stage(3);
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
  test_any_thread_releases();
  test_handoff();
  test_close_wakes_waiter();
  test_wrong_kind();
  return done_testing();
}
