/* test-dispatch.c - Dispatcher: calls queued from other threads run on the
 * thread that drains the queue, in order; waited calls block until run;
 * the wakeup fd follows the queue; close cancels. */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "sync-util.h"

static pthread_t drainer; /* the thread that must run every call */

typedef struct rec {
  _Atomic int n;
  int order[16];
  int wrong_thread;
} rec;

typedef struct item {
  rec *r;
  int id;
} item;

static void note(void *p) {
  item *it = p;
  if (!pthread_equal(pthread_self(), drainer))
    it->r->wrong_thread++;
  int i = atomic_fetch_add(&it->r->n, 1);
  if (i < 16)
    it->r->order[i] = it->id;
}

static int readable(weft_handle d) {
  int fd = -1;
  weft_dispatcher_fd(d, &fd);
  struct pollfd p = {.fd = fd, .events = POLLIN};
  return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

static void test_queue(void) {
  weft_handle d;
  drainer = pthread_self();
  is(weft_dispatcher_new(&d), 0, "dispatcher_new");
  int kind = 0;
  weft_handle_kind(d, &kind);
  is(kind, WEFT_KIND_DISPATCHER, "its kind is WEFT_KIND_DISPATCHER");
  int fd = -1;
  is(weft_dispatcher_fd(d, &fd), 0, "dispatcher_fd");
  ok(fd >= 0, "a descriptor");
  ok(!readable(d), "not readable while the queue is empty");
  size_t ran = 99;
  is(weft_dispatcher_run(d, 0, &ran), -ETIMEDOUT, "run(0) on an empty queue");
  is((int)ran, 0, "ran nothing");

  rec r = {0};
  item it[3] = {{&r, 1}, {&r, 2}, {&r, 3}};
  for (int i = 0; i < 3; i++)
    is(weft_dispatcher_call(d, note, &it[i], 0), 0, "call %d, no wait", i + 1);
  is(atomic_load(&r.n), 0, "nothing ran at call time");
  ok(readable(d), "the fd is readable with calls queued");
  is(weft_dispatcher_run(d, 0, &ran), 0, "run drains");
  is((int)ran, 3, "three calls ran");
  ok(r.order[0] == 1 && r.order[1] == 2 && r.order[2] == 3, "in FIFO order");
  ok(!readable(d), "the fd is clear again");
  weft_close(d);
}

/* A waited call from another thread returns only once the drainer ran it. */
typedef struct caller {
  weft_handle d;
  item it;
  _Atomic int returned;
  weft_status st;
} caller;

static void *caller_main(void *p) {
  caller *c = p;
  c->st = weft_dispatcher_call(c->d, note, &c->it, 1);
  atomic_store(&c->returned, 1);
  return NULL;
}

static void test_waited(void) {
  weft_handle d;
  weft_dispatcher_new(&d);
  rec r = {0};
  caller c = {.d = d, .it = {&r, 7}};
  pthread_t t = spawn(caller_main, &c);
  size_t ran = 0;
  is(weft_dispatcher_run(d, 10, &ran), 0, "run waits for the call");
  is((int)ran, 1, "and runs it");
  pthread_join(t, NULL);
  is(c.st, 0, "the waited call returned 0");
  is(r.wrong_thread, 0, "every call ran on the draining thread");
  is(atomic_load(&r.n), 1, "exactly once");

  /* Closing cancels a waited call that did not run. */
  caller c2 = {.d = d, .it = {&r, 8}};
  t = spawn(caller_main, &c2);
  while (!readable(d))
    sleep_s(0.001);
  is(weft_close(d), 0, "close with a call queued");
  pthread_join(t, NULL);
  is(c2.st, WEFT_ECLOSED, "the waiting caller gets WEFT_ECLOSED");
  is(atomic_load(&r.n), 1, "and its call never ran");
}

/* Inside a dispatched call, a waited call to the same dispatcher runs
 * inline instead of deadlocking. */
typedef struct nest {
  weft_handle d;
  rec *r;
  item inner;
  weft_status st;
} nest;

static void outer(void *p) {
  nest *n = p;
  n->st = weft_dispatcher_call(n->d, note, &n->inner, 1);
}

static void test_nested(void) {
  weft_handle d;
  weft_dispatcher_new(&d);
  rec r = {0};
  nest n = {.d = d, .r = &r, .inner = {&r, 5}};
  weft_dispatcher_call(d, outer, &n, 0);
  size_t ran = 0;
  is(weft_dispatcher_run(d, 0, &ran), 0, "run");
  is(n.st, 0, "a waited call from inside a dispatched call returns 0");
  is(atomic_load(&r.n), 1, "having run inline");
  is((int)ran, 1, "it did not go through the queue");
  weft_close(d);
}

typedef struct runner {
  weft_handle d;
  weft_status st;
  _Atomic int tid;
} runner;

static void *runner_main(void *p) {
  runner *r = p;
  atomic_store(&r->tid, self_tid());
  size_t ran;
  r->st = weft_dispatcher_run(r->d, -1, &ran);
  return NULL;
}

static void test_close_and_bad_input(void) {
  weft_handle d;
  weft_dispatcher_new(&d);
  runner r = {.d = d};
  pthread_t t = spawn(runner_main, &r);
  while (atomic_load(&r.tid) == 0)
    sleep_s(0.001);
  ok(wait_blocked(atomic_load(&r.tid)), "a runner waits for calls");
  weft_close(d);
  pthread_join(t, NULL);
  is(r.st, WEFT_ECLOSED, "close wakes it with WEFT_ECLOSED");

  weft_dispatcher_new(&d);
  size_t ran;
  is(weft_dispatcher_call(d, NULL, NULL, 0), WEFT_EVALUE, "fn NULL");
  is(weft_dispatcher_call(d, note, NULL, 2), WEFT_EVALUE, "wait 2");
  is(weft_dispatcher_run(d, 0, NULL), WEFT_EVALUE, "ran NULL");
  is(weft_dispatcher_fd(d, NULL), WEFT_EVALUE, "fd NULL");
  is(weft_dispatcher_run(d, 0.0 / 0.0, &ran), WEFT_EVALUE, "NaN timeout");
  double t0 = weft_monotonic();
  is(weft_dispatcher_run(d, 0.05, &ran), -ETIMEDOUT, "run(0.05) times out");
  ok(weft_monotonic() - t0 >= 0.04, "after the timeout");
  weft_close(d);
  is(weft_dispatcher_call(d, note, NULL, 0), WEFT_EBADHANDLE, "closed");
  is(weft_dispatcher_run(d, 0, &ran), WEFT_EBADHANDLE, "closed");
  weft_handle lk;
  weft_lock_new(&lk);
  is(weft_dispatcher_call(lk, note, NULL, 0), WEFT_EBADHANDLE, "a lock");
  weft_close(lk);
}

/* Many producers, two drainers: every call runs exactly once. */
static void count(void *p) { atomic_fetch_add((_Atomic long *)p, 1); }

typedef struct producer {
  weft_handle d;
  _Atomic long *counter;
  long n;
} producer;

static void *producer_main(void *p) {
  producer *pr = p;
  for (long i = 0; i < pr->n; i++)
    weft_dispatcher_call(pr->d, count, pr->counter, (int)(i & 1));
  return NULL;
}

static void *drain_main(void *p) {
  runner *r = p;
  size_t ran;
  while (weft_dispatcher_run(r->d, -1, &ran) == 0)
    ;
  return NULL;
}

static void test_stress(void) {
  weft_handle d;
  weft_dispatcher_new(&d);
  _Atomic long counter = 0;
  long n = stress_n(20000);
  producer p = {d, &counter, n};
  runner r = {.d = d};
  pthread_t dr[2], pt[3];
  for (int i = 0; i < 2; i++)
    dr[i] = spawn(drain_main, &r);
  for (int i = 0; i < 3; i++)
    pt[i] = spawn(producer_main, &p);
  for (int i = 0; i < 3; i++)
    pthread_join(pt[i], NULL);
  size_t ran;
  while (atomic_load(&counter) < 3 * n)
    weft_dispatcher_run(d, 0.01, &ran);
  weft_close(d);
  for (int i = 0; i < 2; i++)
    pthread_join(dr[i], NULL);
  is(atomic_load(&counter), 3 * n, "%ld calls from 3 threads ran once each",
     3 * n);
}

int main(void) {
  test_queue();
  test_waited();
  test_nested();
  test_close_and_bad_input();
  test_stress();
  return done_testing();
}
