/* test-local.c - local: per-thread values and their destructors. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "thread-util.h"

/* The destructor records every call: value, arg, and the calling thread. */
#define MAXLOG 4096
static struct {
  void *value, *arg;
  uint64_t thread;
} dlog[MAXLOG];
static _Atomic int ndtor;

static void record_dtor(void *arg, void *value) {
  int i = atomic_fetch_add(&ndtor, 1);
  if (i < MAXLOG) {
    dlog[i].value = value;
    dlog[i].arg = arg;
    dlog[i].thread = weft_thread_current_ident();
  }
}

static int dtor_count_of(void *value) {
  int n = 0, total = atomic_load(&ndtor);
  for (int i = 0; i < total && i < MAXLOG; i++)
    n += dlog[i].value == value;
  return n;
}

static weft_handle L;
static int tag_arg;

static void test_basics(void) {
  weft_handle l;
  int kind = 0;
  void *v = (void *)1;
  is(weft_local_new(NULL, NULL, NULL), WEFT_EVALUE,
     "local_new with a NULL out-pointer is WEFT_EVALUE");
  is(weft_local_new(NULL, NULL, &l), 0, "local_new without a destructor");
  weft_handle_kind(l, &kind);
  is(kind, WEFT_KIND_LOCAL, "a local handle has kind WEFT_KIND_LOCAL");
  is(weft_local_get(l, &v), 0, "local_get");
  ok(v == NULL, "a new local reads NULL");
  is(weft_local_get(l, NULL), WEFT_EVALUE, "local_get(NULL) is WEFT_EVALUE");
  is(weft_local_set(l, &kind), 0, "local_set");
  weft_local_get(l, &v);
  ok(v == &kind, "get returns what this thread set");
  weft_local_set(l, &v);
  weft_local_get(l, &v);
  ok(v == (void *)&v, "set replaces the value");
  weft_local_set(l, NULL);
  weft_local_get(l, &v);
  ok(v == NULL, "a value can be set back to NULL");
  is(weft_close(l), 0, "close a local");
  is(weft_local_set(l, &v), WEFT_EBADHANDLE, "set on a closed local");
  is(weft_local_get(l, &v), WEFT_EBADHANDLE, "get on a closed local");
  is(weft_close(l), WEFT_EBADHANDLE, "closing a local twice");
  weft_handle lock;
  weft_lock_new(&lock);
  is(weft_local_set(lock, &v), WEFT_EBADHANDLE, "set on a Lock handle");
  is(weft_local_get(lock, &v), WEFT_EBADHANDLE, "get on a Lock handle");
  weft_close(lock);
  is(weft_local_set(0, &v), WEFT_EBADHANDLE, "set on handle 0");
  is(weft_local_get(-1, &v), WEFT_EBADHANDLE, "get on handle -1");
  is(weft_local_get((weft_handle)1 << 53, &v), WEFT_EBADHANDLE,
     "get on handle 2^53");
}

/* ---- per-thread values ---- */

typedef struct seen {
  void *before, *after;
  void *set;
  gate hold;
  _Atomic int ready;
  int use_hold;
} seen;

static int set_and_read(void *arg) {
  seen *s = arg;
  weft_local_get(L, &s->before);
  if (s->set)
    weft_local_set(L, s->set);
  weft_local_get(L, &s->after);
  atomic_store(&s->ready, 1);
  if (s->use_hold)
    gate_wait(&s->hold);
  return 0;
}

static void run_weft(seen *s, weft_handle *t) {
  weft_thread_new(set_and_read, s, NULL, t);
  weft_thread_start(*t);
}

static void test_per_thread(void) {
  int mine, theirs;
  weft_local_new(record_dtor, &tag_arg, &L);
  weft_local_set(L, &mine);
  seen s = {.set = &theirs};
  weft_handle t;
  atomic_store(&ndtor, 0);
  run_weft(&s, &t);
  weft_thread_join(t, -1);
  ok(s.before == NULL, "another thread sees NULL, not this thread's value");
  ok(s.after == &theirs, "each thread reads its own value");
  void *v;
  weft_local_get(L, &v);
  ok(v == &mine, "a thread's set does not change this thread's value");
  is(dtor_count_of(&theirs), 1,
     "the destructor ran for the thread's value by the time join returned");
  ok(dlog[0].arg == &tag_arg, "the destructor gets its dtor_arg");
  uint64_t ident;
  weft_thread_get_ident(t, &ident);
  ok(dlog[0].thread == ident, "the exit destructor runs on the exiting thread");
  weft_close(t);

  seen n = {.set = NULL};
  run_weft(&n, &t);
  weft_thread_join(t, -1);
  is(atomic_load(&ndtor), 1, "no destructor runs for a NULL value");
  weft_close(t);
  is(dtor_count_of(&mine), 0, "the main thread's value is still there");
}

/* ---- alien threads ---- */

static void *alien_set(void *arg) {
  weft_local_set(L, arg);
  return NULL;
}

static void test_alien(void) {
  int v;
  atomic_store(&ndtor, 0);
  pthread_t pt;
  pthread_create(&pt, NULL, alien_set, &v);
  pthread_join(pt, NULL);
  is(dtor_count_of(&v), 1, "the destructor runs when an alien thread exits");
}

/* ---- close ---- */

static void test_close(void) {
  int mine, held;
  weft_handle l;
  weft_local_new(record_dtor, &tag_arg, &l);
  weft_handle keep = L;
  L = l;
  weft_local_set(l, &mine);
  seen s = {.set = &held, .use_hold = 1};
  weft_handle t;
  run_weft(&s, &t);
  WAIT_FOR(atomic_load(&s.ready), 10);
  atomic_store(&ndtor, 0);
  is(weft_close(l), 0, "close a local that two threads hold values in");
  is(atomic_load(&ndtor), 2, "close ran the destructor for both values");
  ok(dtor_count_of(&mine) == 1 && dtor_count_of(&held) == 1,
     "once for each value");
  ok(dlog[0].thread == weft_thread_current_ident() &&
         dlog[1].thread == weft_thread_current_ident(),
     "on the closing thread");
  gate_open(&s.hold);
  weft_thread_join(t, -1);
  is(atomic_load(&ndtor), 2,
     "a value destroyed by close is not destroyed again at thread exit");
  weft_close(t);
  L = keep;
  weft_close(L);
}

/* ---- slot reuse ---- */

static void test_reuse(void) {
  weft_handle a, b;
  int x;
  void *v = (void *)1;
  weft_local_new(NULL, NULL, &a);
  weft_local_set(a, &x);
  weft_close(a);
  weft_local_new(NULL, NULL, &b); /* may reuse a's slot */
  weft_local_get(b, &v);
  ok(v == NULL, "a new local does not see a closed local's old value");
  weft_close(b);
}

/* ---- many locals, and destructors that set values again ---- */

static weft_handle many[100];
static int many_vals[100];

static int set_all(void *arg) {
  (void)arg;
  for (int i = 0; i < 100; i++)
    weft_local_set(many[i], &many_vals[i]);
  return 0;
}

static weft_handle again_l, later_l;
static int later_val;
static void set_later(void *arg, void *value) {
  (void)arg;
  (void)value;
  weft_local_set(later_l, &later_val);
}

static int set_again(void *arg) {
  weft_local_set(again_l, arg);
  return 0;
}

static weft_handle self_l;
static _Atomic int self_close_st = 1;
static void close_self(void *arg, void *value) {
  (void)arg;
  (void)value;
  atomic_store(&self_close_st, weft_close(self_l));
}

static int set_self(void *arg) {
  weft_local_set(self_l, arg);
  return 0;
}

static void test_many(void) {
  for (int i = 0; i < 100; i++)
    weft_local_new(record_dtor, NULL, &many[i]);
  atomic_store(&ndtor, 0);
  weft_handle t;
  weft_thread_new(set_all, NULL, NULL, &t);
  weft_thread_start(t);
  weft_thread_join(t, -1);
  is(atomic_load(&ndtor), 100, "a thread's exit destroys all its values");
  int all = 1;
  for (int i = 0; i < 100; i++)
    all &= dtor_count_of(&many_vals[i]) == 1;
  ok(all, "each exactly once");
  weft_close(t);
  for (int i = 0; i < 100; i++)
    weft_close(many[i]);

  int x;
  weft_local_new(set_later, NULL, &again_l);
  weft_local_new(record_dtor, NULL, &later_l);
  atomic_store(&ndtor, 0);
  weft_thread_new(set_again, &x, NULL, &t);
  weft_thread_start(t);
  weft_thread_join(t, -1);
  is(dtor_count_of(&later_val), 1,
     "a value set by an exit destructor is destroyed too");
  weft_close(t);
  weft_close(again_l);
  weft_close(later_l);

  weft_local_new(close_self, NULL, &self_l);
  weft_thread_new(set_self, &x, NULL, &t);
  weft_thread_start(t);
  is(weft_thread_join(t, 10), 0,
     "an exit destructor that closes its own local does not hang");
  is(atomic_load(&self_close_st), 0, "and that close succeeds");
  weft_close(t);
}

/* An exit destructor that closes its local while another thread's exit
 * destructor of the same local runs: the close waits for that one and
 * returns once it has ended. */
static weft_handle shared_l;
static _Atomic int shared_entered, shared_closer_tid;
static _Atomic int shared_close_st = 1;
static gate shared_hold;

static void shared_dtor(void *arg, void *value) {
  (void)arg;
  (void)value;
  if (atomic_fetch_add(&shared_entered, 1) == 0) {
    gate_wait(&shared_hold); /* the first exiting thread stays inside */
    return;
  }
  atomic_store(&shared_closer_tid, (int)weft_thread_current_native_id());
  atomic_store(&shared_close_st, weft_close(shared_l));
}

static int set_shared(void *arg) {
  weft_local_set(shared_l, arg);
  return 0;
}

static void test_close_from_dtor_shared(void) {
  int x, y;
  weft_handle holder, closer;
  weft_local_new(shared_dtor, NULL, &shared_l);
  weft_thread_new(set_shared, &x, NULL, &holder);
  weft_thread_start(holder);
  WAIT_FOR(atomic_load(&shared_hold.waiting) == 1, 10);
  weft_thread_new(set_shared, &y, NULL, &closer);
  weft_thread_start(closer);
  wait_all_blocked(&shared_closer_tid, 1);
  is(atomic_load(&shared_close_st), 1,
     "closing a local from its exit destructor waits while another "
     "thread's exit destructor of it runs");
  gate_open(&shared_hold);
  is(weft_thread_join(closer, 10), 0,
     "and returns once that destructor has ended (no lost wakeup)");
  is(atomic_load(&shared_close_st), 0, "that close succeeds");
  weft_thread_join(holder, 10);
  weft_close(holder);
  weft_close(closer);
}

/* ---- timers: each run is its own thread ---- */

typedef struct tl {
  void *before;
  int mine;
  int tid;
} tl;

static int timer_locals(void *arg) {
  tl *s = arg;
  s->tid = (int)weft_thread_current_native_id();
  weft_local_get(L, &s->before);
  weft_local_set(L, &s->mine);
  return 0;
}

static void test_timers(void) {
  weft_local_new(record_dtor, NULL, &L);
  atomic_store(&ndtor, 0);
  tl a = {0}, b = {(void *)1, 0, 0};
  weft_handle ta, tb;
  weft_timer_new(0, timer_locals, &a, NULL, &ta);
  weft_thread_start(ta);
  weft_thread_join(ta, -1);
  is(dtor_count_of(&a.mine), 1,
     "a timer's values are destroyed when its function returns");
  /* Once a's worker idles, the next due timer runs on it. */
  _Atomic int worker = a.tid;
  wait_all_blocked(&worker, 1);
  weft_timer_new(0, timer_locals, &b, NULL, &tb);
  weft_thread_start(tb);
  weft_thread_join(tb, -1);
  is(b.tid, a.tid, "the next timer runs on the same, idle worker");
  ok(b.before == NULL, "and starts with empty locals");
  weft_close(ta);
  weft_close(tb);
  weft_close(L);
}

/* ---- close racing thread exits ---- */

#define RACERS 64
static int race_vals[RACERS];
static gate race_go;

static int race_target(void *arg) {
  weft_local_set(L, arg);
  gate_wait(&race_go);
  return 0;
}

static void test_close_vs_exit(void) {
  int rounds = 10, exact = 1;
  for (int r = 0; r < rounds; r++) {
    weft_local_new(record_dtor, NULL, &L);
    atomic_store(&ndtor, 0);
    gate_reset(&race_go);
    weft_handle t[RACERS];
    for (int i = 0; i < RACERS; i++) {
      weft_thread_new(race_target, &race_vals[i], NULL, &t[i]);
      weft_thread_start(t[i]);
    }
    WAIT_FOR(atomic_load(&race_go.waiting) == RACERS, 10);
    gate_open(&race_go); /* they exit while we close */
    weft_close(L);
    for (int i = 0; i < RACERS; i++) {
      weft_thread_join(t[i], -1);
      weft_close(t[i]);
    }
    for (int i = 0; i < RACERS; i++)
      exact &= dtor_count_of(&race_vals[i]) == 1;
    exact &= atomic_load(&ndtor) == RACERS;
  }
  ok(exact, "close racing thread exits destroys every value exactly once");
}

int main(void) {
  test_basics();
  test_per_thread();
  test_alien();
  weft_close(L);
  weft_local_new(record_dtor, &tag_arg, &L);
  test_close();
  test_reuse();
  test_many();
  test_close_from_dtor_shared();
  test_timers();
  test_close_vs_exit();
  return done_testing();
}
