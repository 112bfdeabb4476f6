/* stress-sync.c - the synchronisation primitives under load.
 *
 *  - 64 threads x 100k lock/unlock on a shared counter, with Lock and with
 *    RLock (the counter must come out exact; TSan would also see a race);
 *  - Condition ping-pong between two threads, in strict alternation;
 *  - close while waiting on every primitive: blocked threads all return
 *    WEFT_ECLOSED and the handle is then WEFT_EBADHANDLE;
 *  - close racing with use: only the documented statuses come back, and
 *    ASan sees no use after free.
 * Sizes scale with WEFT_STRESS_SCALE (sanitizer builds set it). */
#include <errno.h>
#include <string.h>

#include "sync-util.h"

#define NTHREADS 64

/* ---- counters ---- */

static weft_handle counter_lock;
static long counter, per_thread;
static _Atomic long failures;

static void *lock_worker(void *arg) {
  (void)arg;
  for (long i = 0; i < per_thread; i++) {
    if (weft_lock_acquire(counter_lock, -1) != 0) {
      atomic_fetch_add(&failures, 1);
      continue;
    }
    counter++;
    if (weft_lock_release(counter_lock) != 0)
      atomic_fetch_add(&failures, 1);
  }
  return NULL;
}

/* Every 8th round takes the RLock twice, so recursion is under load too. */
static void *rlock_worker(void *arg) {
  (void)arg;
  for (long i = 0; i < per_thread; i++) {
    int depth = i % 8 == 0 ? 2 : 1, held = 0;
    for (int d = 0; d < depth; d++)
      if (weft_rlock_acquire(counter_lock, -1) == 0)
        held++;
    if (held != depth)
      atomic_fetch_add(&failures, 1);
    counter++;
    for (int d = 0; d < held; d++)
      if (weft_rlock_release(counter_lock) != 0)
        atomic_fetch_add(&failures, 1);
  }
  return NULL;
}

static void run_counter(const char *what, void *(*worker)(void *)) {
  pthread_t t[NTHREADS];
  counter = 0;
  atomic_store(&failures, 0);
  double t0 = weft_monotonic();
  for (int i = 0; i < NTHREADS; i++)
    t[i] = spawn(worker, NULL);
  for (int i = 0; i < NTHREADS; i++)
    pthread_join(t[i], NULL);
  diag("%s: %d x %ld in %.2f s", what, NTHREADS, per_thread,
       weft_monotonic() - t0);
  is(atomic_load(&failures), 0, "%s: every acquire and release succeeded",
     what);
  is(counter, NTHREADS * per_thread, "%s: the counter is exact", what);
}

static void test_counters(void) {
  per_thread = stress_n(100000);
  weft_lock_new(&counter_lock);
  run_counter("Lock", lock_worker);
  weft_close(counter_lock);
  weft_rlock_new(&counter_lock);
  run_counter("RLock", rlock_worker);
  weft_close(counter_lock);
}

/* ---- Condition ping-pong ---- */

static weft_handle pp_cond;
static int pp_turn;   /* whose move: 0 ping, 1 pong; under the lock */
static long pp_seq;   /* moves made so far; under the lock */
static long pp_rounds;
static _Atomic long pp_bad;

static void *pp_player(void *arg) {
  int me = (int)(intptr_t)arg;
  for (long i = 0; i < pp_rounds; i++) {
    if (weft_condition_acquire(pp_cond, -1) != 0) {
      atomic_fetch_add(&pp_bad, 1);
      return NULL;
    }
    weft_status st = 0;
    while (pp_turn != me && st == 0)
      st = weft_condition_wait(pp_cond, 30); /* bounded: fail, not hang */
    if (st != 0 || pp_seq != 2 * i + me)
      atomic_fetch_add(&pp_bad, 1);
    pp_seq++;
    pp_turn = !me;
    weft_condition_notify(pp_cond, 1);
    weft_condition_release(pp_cond);
    if (st != 0)
      return NULL;
  }
  return NULL;
}

static void run_ping_pong(weft_handle lock, const char *what) {
  weft_condition_new(lock, &pp_cond);
  pp_turn = 0;
  pp_seq = 0;
  atomic_store(&pp_bad, 0);
  double t0 = weft_monotonic();
  pthread_t a = spawn(pp_player, (void *)(intptr_t)0);
  pthread_t b = spawn(pp_player, (void *)(intptr_t)1);
  pthread_join(a, NULL);
  pthread_join(b, NULL);
  diag("ping-pong over %s: %ld round trips in %.2f s", what, pp_rounds,
       weft_monotonic() - t0);
  is(atomic_load(&pp_bad), 0, "ping-pong over %s: moves strictly alternate",
     what);
  is(pp_seq, 2 * pp_rounds, "ping-pong over %s: every move was made", what);
  weft_close(pp_cond);
}

static void test_ping_pong(void) {
  pp_rounds = stress_n(10000);
  weft_handle lock, rlock;
  weft_lock_new(&lock);
  weft_rlock_new(&rlock);
  run_ping_pong(0, "its own RLock");
  run_ping_pong(lock, "a Lock");
  run_ping_pong(rlock, "an RLock");
  weft_close(lock);
  weft_close(rlock);
}

/* ---- close while waiting ---- */

#define NWAIT 4

typedef weft_status (*block_fn)(weft_handle h);

static weft_handle user_lock; /* the caller's lock of a condition */

static weft_status block_lock(weft_handle h) {
  return weft_lock_acquire(h, -1);
}
static weft_status block_rlock(weft_handle h) {
  return weft_rlock_acquire(h, -1);
}
static weft_status block_sem(weft_handle h) {
  return weft_semaphore_acquire(h, -1);
}
static weft_status block_event(weft_handle h) {
  return weft_event_wait(h, -1);
}
static weft_status block_cond_acquire(weft_handle h) {
  return weft_condition_acquire(h, -1);
}
static weft_status block_cond_wait(weft_handle h) {
  weft_status st = weft_condition_acquire(h, -1);
  return st < 0 ? st : weft_condition_wait(h, -1);
}
/* A wait re-acquires the caller's lock even when closed; give it back so
 * the next waiter can re-acquire it in turn. */
static weft_status block_cond_wait_lock(weft_handle h) {
  weft_status st = block_cond_wait(h);
  if (weft_lock_release(user_lock) != 0)
    st = 1;
  return st;
}
static weft_status block_cond_wait_rlock(weft_handle h) {
  weft_status st = block_cond_wait(h);
  if (weft_rlock_release(user_lock) != 0)
    st = 1;
  return st;
}

typedef struct blocker {
  weft_handle h;
  block_fn fn;
  _Atomic int *tid;
  weft_status st;
} blocker;

static void *blocker_thread(void *p) {
  blocker *b = p;
  atomic_store(b->tid, self_tid());
  b->st = b->fn(b->h);
  return NULL;
}

static void close_while_waiting(const char *what, weft_handle h, block_fn fn,
                                weft_status (*probe)(weft_handle)) {
  blocker b[NWAIT];
  pthread_t t[NWAIT];
  _Atomic int tids[NWAIT];
  for (int i = 0; i < NWAIT; i++) {
    atomic_init(&tids[i], 0);
    b[i] = (blocker){.h = h, .fn = fn, .tid = &tids[i]};
    t[i] = spawn(blocker_thread, &b[i]);
  }
  ok(wait_all_blocked(tids, NWAIT), "%s: %d threads block", what, NWAIT);
  is(weft_close(h), 0, "%s: close while they wait", what);
  int nclosed = 0;
  for (int i = 0; i < NWAIT; i++) {
    pthread_join(t[i], NULL);
    nclosed += b[i].st == WEFT_ECLOSED;
  }
  is(nclosed, NWAIT, "%s: every waiter returns ECLOSED", what);
  int kind;
  is(weft_handle_kind(h, &kind), WEFT_EBADHANDLE,
     "%s: the handle is then bad", what);
  is(probe(h), WEFT_EBADHANDLE, "%s: and its calls are EBADHANDLE", what);
}

static weft_status probe_cond(weft_handle h) {
  return weft_condition_notify(h, 1);
}
static weft_status probe_sem(weft_handle h) {
  return weft_semaphore_release(h, 1);
}

static void test_close_waiting(void) {
  weft_handle h;
  weft_lock_new(&h);
  weft_lock_acquire(h, -1);
  close_while_waiting("Lock", h, block_lock, weft_lock_release);

  weft_rlock_new(&h);
  weft_rlock_acquire(h, -1);
  close_while_waiting("RLock", h, block_rlock, weft_rlock_release);

  weft_condition_new(0, &h);
  close_while_waiting("Condition (own lock) wait", h, block_cond_wait,
                      probe_cond);

  weft_condition_new(0, &h);
  weft_condition_acquire(h, -1);
  close_while_waiting("Condition (own lock) acquire", h, block_cond_acquire,
                      probe_cond);

  weft_lock_new(&user_lock);
  weft_condition_new(user_lock, &h);
  close_while_waiting("Condition over a Lock", h, block_cond_wait_lock,
                      probe_cond);
  is(weft_lock_acquire(user_lock, 0), 0,
     "Condition over a Lock: the Lock is free and usable after");
  weft_close(user_lock);

  weft_rlock_new(&user_lock);
  weft_condition_new(user_lock, &h);
  close_while_waiting("Condition over an RLock", h, block_cond_wait_rlock,
                      probe_cond);
  is(weft_rlock_acquire(user_lock, 0), 0,
     "Condition over an RLock: the RLock is free and usable after");
  weft_close(user_lock);

  weft_semaphore_new(0, &h);
  close_while_waiting("Semaphore", h, block_sem, probe_sem);

  weft_bounded_semaphore_new(0, &h);
  close_while_waiting("BoundedSemaphore", h, block_sem, probe_sem);

  weft_event_new(&h);
  close_while_waiting("Event", h, block_event, weft_event_set);
}

/* ---- close racing with use ---- */

typedef struct racer {
  weft_handle h;
  int kind;
  _Atomic int bad; /* statuses outside the documented set */
} racer;

static int allowed(weft_status st) {
  return st == 0 || st == -ETIMEDOUT || st == WEFT_ECLOSED ||
         st == WEFT_EBADHANDLE;
}

/* One round of use; returns the last status (EBADHANDLE ends the race). */
static weft_status use_once(racer *r) {
  weft_handle h = r->h;
  weft_status st, st2 = 0;
  switch (r->kind) {
  case WEFT_KIND_RLOCK:
    if ((st = weft_rlock_acquire(h, 0.001)) == 0)
      st2 = weft_rlock_release(h);
    break;
  case WEFT_KIND_CONDITION:
    if ((st = weft_condition_acquire(h, 0.001)) == 0) {
      st = weft_condition_notify(h, 1);
      if (st == 0)
        st = weft_condition_wait(h, 0.001);
      st2 = weft_condition_release(h);
    }
    break;
  case WEFT_KIND_SEMAPHORE:
    if ((st = weft_semaphore_acquire(h, 0.001)) == 0)
      st2 = weft_semaphore_release(h, 1);
    break;
  default:
    st = weft_event_wait(h, 0.001);
    if (allowed(st))
      st2 = weft_event_set(h);
    if (st2 == 0)
      st2 = weft_event_clear(h);
    break;
  }
  if (!allowed(st) || !allowed(st2))
    atomic_fetch_add(&r->bad, 1);
  return st == WEFT_EBADHANDLE ? st : st2;
}

static void *racer_thread(void *p) {
  racer *r = p;
  while (use_once(r) != WEFT_EBADHANDLE)
    ;
  return NULL;
}

static void race_close(const char *what, int kind, long rounds) {
  int bad = 0;
  for (long i = 0; i < rounds; i++) {
    racer r = {.kind = kind};
    switch (kind) {
    case WEFT_KIND_RLOCK: weft_rlock_new(&r.h); break;
    case WEFT_KIND_CONDITION: weft_condition_new(0, &r.h); break;
    case WEFT_KIND_SEMAPHORE: weft_semaphore_new(1, &r.h); break;
    default: weft_event_new(&r.h); break;
    }
    pthread_t t[NWAIT];
    for (int k = 0; k < NWAIT; k++)
      t[k] = spawn(racer_thread, &r);
    sleep_s(0.001 * (double)(i % 4));
    weft_close(r.h);
    for (int k = 0; k < NWAIT; k++)
      pthread_join(t[k], NULL);
    bad += atomic_load(&r.bad);
  }
  is(bad, 0, "%s: close racing with use gives only documented statuses",
     what);
}

static void test_race_close(void) {
  long rounds = stress_n(100);
  race_close("RLock", WEFT_KIND_RLOCK, rounds);
  race_close("Condition", WEFT_KIND_CONDITION, rounds);
  race_close("Semaphore", WEFT_KIND_SEMAPHORE, rounds);
  race_close("Event", WEFT_KIND_EVENT, rounds);
}

int main(void) {
  test_counters();
  test_ping_pong();
  test_close_waiting();
  test_race_close();
  return done_testing();
}
