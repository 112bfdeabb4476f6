/* test-thread.c - Thread: lifecycle, names, idents, daemon flag, join,
 * current/main/enumerate/active_count, alien threads, shutdown, stack
 * size, start hooks, close rules, bad handles. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/wait.h>

#include "thread-util.h"

/* ---- a target that reports what it saw and waits at a gate ---- */

typedef struct probe {
  gate go;
  _Atomic int ran;
  weft_handle current;
  uint64_t ident, pself;
  int64_t tid;
  char os_name[32];
  weft_status self_join;
  int result;
} probe;

static int probe_target(void *arg) {
  probe *p = arg;
  weft_thread_current(&p->current);
  p->ident = weft_thread_current_ident();
  p->pself = (uint64_t)pthread_self();
  p->tid = weft_thread_current_native_id();
  pthread_getname_np(pthread_self(), p->os_name, sizeof p->os_name);
  p->self_join = weft_thread_join(p->current, 0);
  atomic_store(&p->ran, 1);
  gate_wait(&p->go);
  return p->result;
}

static int return_arg(void *arg) { return (int)(intptr_t)arg; }

static void test_new(void) {
  weft_handle t, u;
  int kind = 0;
  is(weft_thread_new(return_arg, NULL, NULL, NULL), WEFT_EVALUE,
     "thread_new with a NULL out-pointer is WEFT_EVALUE");
  is(weft_thread_new(return_arg, NULL, NULL, &t), 0, "thread_new");
  weft_handle_kind(t, &kind);
  is(kind, WEFT_KIND_THREAD, "a thread handle has kind WEFT_KIND_THREAD");
  char n1[64];
  snprintf(n1, sizeof n1, "%s", name_of(t));
  ok(strncmp(n1, "Thread-", 7) == 0 && atoi(n1 + 7) > 0,
     "a thread without a name is called Thread-N (%s)", n1);
  weft_thread_new(return_arg, NULL, NULL, &u);
  ok(atoi(name_of(u) + 7) > atoi(n1 + 7),
     "the next unnamed thread gets a larger N (%s)", name_of(u));
  weft_close(u);
  weft_close(t);
  weft_thread_new(return_arg, NULL, "worker", &t);
  ok(strcmp(name_of(t), "worker") == 0, "a thread keeps the name it is given");
  char small[4];
  size_t len = 0;
  is(weft_thread_get_name(t, small, sizeof small, &len), WEFT_ERANGE,
     "get_name into a small buffer is WEFT_ERANGE");
  is(len, 6, "get_name reports the full length when the buffer is small");
  is(weft_thread_get_name(t, small, sizeof small, NULL), WEFT_EVALUE,
     "get_name with a NULL len is WEFT_EVALUE");
  is(is_alive(t), 0, "an unstarted thread is not alive");
  uint64_t ident = 1;
  int64_t native = 1;
  weft_thread_get_ident(t, &ident);
  is(ident, 0, "an unstarted thread has ident 0");
  weft_thread_get_native_id(t, &native);
  is(native, 0, "an unstarted thread has native id 0");
  int result;
  is(weft_thread_get_result(t, &result), WEFT_ESTATE,
     "get_result of an unstarted thread is WEFT_ESTATE");
  is(weft_thread_join(t, 0), WEFT_ESTATE,
     "joining an unstarted thread is WEFT_ESTATE");
  is(weft_thread_join(t, -1), WEFT_ESTATE,
     "joining an unstarted thread without timeout is WEFT_ESTATE too");
  is(handle_listed(t), 0, "an unstarted thread is not enumerated");
  is(weft_close(t), 0, "closing an unstarted thread");
  is(weft_thread_start(t), WEFT_EBADHANDLE,
     "a closed unstarted thread cannot be started");
}

static void test_lifecycle(void) {
  probe p = {.result = 42};
  weft_handle t;
  weft_thread_new(probe_target, &p, "life", &t);
  int daemon = -1;
  weft_thread_get_daemon(t, &daemon);
  is(daemon, 0, "a thread made by the main thread is not a daemon");
  is(weft_thread_start(t), 0, "start");
  is(is_alive(t), 1, "a thread is alive once start returns");
  is(weft_thread_start(t), WEFT_ESTATE, "a second start is WEFT_ESTATE");
  ok(WAIT_FOR(atomic_load(&p.ran), 10), "the target runs");
  int result;
  is(weft_thread_get_result(t, &result), WEFT_ESTATE,
     "get_result of a running thread is WEFT_ESTATE");
  is(weft_thread_set_daemon(t, 1), WEFT_ESTATE,
     "set_daemon after start is WEFT_ESTATE");
  double t0 = now_s();
  is(weft_thread_join(t, 0.05), -ETIMEDOUT,
     "join of a running thread times out");
  ok(now_s() - t0 >= 0.04, "a 0.05 s join waits at least 0.04 s");
  is(weft_thread_join(t, 0), -ETIMEDOUT, "join with timeout 0 polls");
  is(p.current, t, "weft_thread_current in the target gives its handle");
  is(p.self_join, WEFT_ESTATE, "a thread joining itself is WEFT_ESTATE");
  uint64_t ident = 0;
  int64_t native = 0;
  weft_thread_get_ident(t, &ident);
  is(ident, p.pself, "get_ident is the thread's pthread_self");
  is(p.ident, p.pself, "current_ident in the thread is its pthread_self");
  weft_thread_get_native_id(t, &native);
  is(native, p.tid, "get_native_id is the thread's gettid");
  ok(p.tid != getpid(), "the native id is not the process id");
  ok(strcmp(p.os_name, "life") == 0,
     "a name set before start is the OS thread name (%s)", p.os_name);
  is(handle_listed(t), 1, "a running thread is enumerated");
  gate_open(&p.go);
  is(weft_thread_join(t, -1), 0, "join waits for the thread");
  is(is_alive(t), 0, "a joined thread is not alive");
  is(weft_thread_get_result(t, &result), 0, "get_result after the end");
  is(result, 42, "get_result gives the target's return value");
  is(weft_thread_join(t, 0), 0, "a finished thread joins at once");
  is(weft_thread_join(t, -1), 0, "a thread can be joined again");
  is(handle_listed(t), 0, "a finished thread is not enumerated");
  weft_thread_get_ident(t, &ident);
  is(ident, p.pself, "a finished thread keeps its ident");
  is(weft_close(t), 0, "closing a finished thread");
  int alive;
  is(weft_thread_is_alive(t, &alive), WEFT_EBADHANDLE,
     "a closed thread's handle is invalid");
  is(weft_close(t), WEFT_EBADHANDLE, "closing twice is WEFT_EBADHANDLE");
}

static void test_results(void) {
  weft_handle t;
  int result = 1;
  weft_thread_new(NULL, NULL, NULL, &t);
  weft_thread_start(t);
  weft_thread_join(t, -1);
  weft_thread_get_result(t, &result);
  is(result, 0, "a thread with a NULL target finishes with result 0");
  weft_close(t);
  weft_thread_new(return_arg, (void *)(intptr_t)-5, NULL, &t);
  weft_thread_start(t);
  weft_thread_join(t, -1);
  weft_thread_get_result(t, &result);
  is(result, -5, "a failure status from the target is kept");
  weft_close(t);
}

static weft_handle shared_thread;
static _Atomic int joiner_tids[4];
static void *join_shared(void *arg) {
  atomic_store(&joiner_tids[(intptr_t)arg], self_tid());
  return (void *)(intptr_t)weft_thread_join(shared_thread, 30);
}

static void test_many_joiners(void) {
  probe p = {.result = 7};
  weft_thread_new(probe_target, &p, NULL, &shared_thread);
  weft_thread_start(shared_thread);
  pthread_t j[4];
  for (intptr_t i = 0; i < 4; i++)
    pthread_create(&j[i], NULL, join_shared, (void *)i);
  ok(wait_all_blocked(joiner_tids, 4), "four joiners wait for one thread");
  gate_open(&p.go);
  int all = 1;
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(j[i], &r);
    all &= (intptr_t)r == 0;
  }
  ok(all, "four threads joining one thread all return 0");
  weft_close(shared_thread);
}

/* ---- names ---- */

static void test_names(void) {
  probe p = {0};
  weft_handle t;
  weft_thread_new(probe_target, &p, "abcdefghijklmnopqrstuvwxyz", &t);
  weft_thread_start(t);
  WAIT_FOR(atomic_load(&p.ran), 10);
  ok(strcmp(p.os_name, "abcdefghijklmno") == 0,
     "a long name is truncated to 15 bytes for the OS (%s)", p.os_name);
  is(weft_thread_set_name(t, "renamed"), 0, "set_name of a running thread");
  ok(strcmp(name_of(t), "renamed") == 0, "get_name gives the new name");
  uint64_t ident;
  weft_thread_get_ident(t, &ident);
  char os[32] = "";
  pthread_getname_np((pthread_t)ident, os, sizeof os);
  ok(strcmp(os, "renamed") == 0,
     "set_name renames the running OS thread (%s)", os);
  /* "xy" then eight 2-byte characters: byte 15 is a continuation byte */
  const char *utf = "xy\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3"
                    "\xa9\xc3\xa9";
  weft_thread_set_name(t, utf);
  pthread_getname_np((pthread_t)ident, os, sizeof os);
  ok(strlen(os) == 14 && strncmp(os, utf, 14) == 0,
     "the OS name is cut on a UTF-8 boundary (%zu bytes)", strlen(os));
  ok(strcmp(name_of(t), utf) == 0, "the weft name is kept whole");
  is(weft_thread_set_name(t, NULL), WEFT_EVALUE,
     "set_name(NULL) is WEFT_EVALUE");
  gate_open(&p.go);
  weft_thread_join(t, -1);
  is(weft_thread_set_name(t, "after"), 0, "a finished thread can be renamed");
  ok(strcmp(name_of(t), "after") == 0, "and it keeps the new name");
  weft_close(t);
}

/* ---- daemon flag ---- */

static int make_child_thread(void *arg) {
  weft_handle *out = arg;
  return weft_thread_new(return_arg, NULL, NULL, out);
}

static void test_daemon(void) {
  weft_handle t, child = 0;
  int d = -1;
  weft_thread_new(make_child_thread, &child, NULL, &t);
  is(weft_thread_set_daemon(t, 5), 0, "set_daemon before start");
  weft_thread_get_daemon(t, &d);
  is(d, 1, "the daemon flag reads back as 1");
  weft_thread_start(t);
  weft_thread_join(t, -1);
  weft_thread_get_daemon(child, &d);
  is(d, 1, "a thread made by a daemon thread is a daemon");
  weft_close(child);
  weft_close(t);
  weft_thread_new(make_child_thread, &child, NULL, &t);
  weft_thread_start(t);
  weft_thread_join(t, -1);
  weft_thread_get_daemon(child, &d);
  is(d, 0, "a thread made by a non-daemon thread is not a daemon");
  weft_close(child);
  weft_close(t);
}

/* ---- close rules ---- */

static void test_close_running(void) {
  probe p = {0};
  weft_handle t;
  weft_thread_new(probe_target, &p, NULL, &t);
  weft_thread_start(t);
  WAIT_FOR(atomic_load(&p.ran), 10);
  is(weft_close(t), 0, "closing a running thread gives up the claim");
  is(is_alive(t), 1, "the handle stays valid while the thread runs");
  is(handle_listed(t), 1, "and the thread is still enumerated");
  is(weft_close(t), WEFT_EBADHANDLE,
     "closing a running thread twice is WEFT_EBADHANDLE");
  gate_open(&p.go);
  ok(WAIT_FOR(!handle_open(t), 10),
     "the handle is released when the thread finishes");
}

/* ---- bad handles and NULL pointers ---- */

typedef weft_status (*thread_call)(weft_handle h);
static weft_status c_start(weft_handle h) { return weft_thread_start(h); }
static weft_status c_join(weft_handle h) { return weft_thread_join(h, 0); }
static weft_status c_alive(weft_handle h) {
  int a;
  return weft_thread_is_alive(h, &a);
}
static weft_status c_get_name(weft_handle h) {
  char b[64];
  size_t n;
  return weft_thread_get_name(h, b, sizeof b, &n);
}
static weft_status c_set_name(weft_handle h) {
  return weft_thread_set_name(h, "x");
}
static weft_status c_ident(weft_handle h) {
  uint64_t i;
  return weft_thread_get_ident(h, &i);
}
static weft_status c_native(weft_handle h) {
  int64_t i;
  return weft_thread_get_native_id(h, &i);
}
static weft_status c_get_daemon(weft_handle h) {
  int d;
  return weft_thread_get_daemon(h, &d);
}
static weft_status c_set_daemon(weft_handle h) {
  return weft_thread_set_daemon(h, 1);
}
static weft_status c_result(weft_handle h) {
  int r;
  return weft_thread_get_result(h, &r);
}

static void test_bad_handles(void) {
  static const struct {
    const char *name;
    thread_call fn;
  } calls[] = {{"start", c_start},           {"join", c_join},
               {"is_alive", c_alive},         {"get_name", c_get_name},
               {"set_name", c_set_name},      {"get_ident", c_ident},
               {"get_native_id", c_native},   {"get_daemon", c_get_daemon},
               {"set_daemon", c_set_daemon},  {"get_result", c_result}};
  weft_handle closed, lock;
  weft_thread_new(NULL, NULL, NULL, &closed);
  weft_close(closed);
  weft_lock_new(&lock);
  const struct {
    const char *what;
    weft_handle h;
  } bad[] = {{"0", 0},
             {"-1", -1},
             {"2^53", (weft_handle)1 << 53},
             {"a closed thread", closed},
             {"a Lock", lock}};
  for (size_t c = 0; c < sizeof calls / sizeof calls[0]; c++)
    for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++)
      is(calls[c].fn(bad[b].h), WEFT_EBADHANDLE,
         "thread_%s on %s is WEFT_EBADHANDLE", calls[c].name, bad[b].what);
  weft_close(lock);

  weft_handle t;
  weft_thread_new(NULL, NULL, NULL, &t);
  is(weft_thread_is_alive(t, NULL), WEFT_EVALUE, "is_alive(NULL)");
  is(weft_thread_get_ident(t, NULL), WEFT_EVALUE, "get_ident(NULL)");
  is(weft_thread_get_native_id(t, NULL), WEFT_EVALUE, "get_native_id(NULL)");
  is(weft_thread_get_daemon(t, NULL), WEFT_EVALUE, "get_daemon(NULL)");
  is(weft_thread_get_result(t, NULL), WEFT_EVALUE, "get_result(NULL)");
  is(weft_thread_current(NULL), WEFT_EVALUE, "current(NULL)");
  is(weft_thread_main(NULL), WEFT_EVALUE, "main(NULL)");
  is(weft_thread_enumerate(NULL, 0, NULL), WEFT_EVALUE, "enumerate(n NULL)");
  size_t n;
  is(weft_thread_enumerate(NULL, 4, &n), WEFT_EVALUE,
     "enumerate with buf NULL and cap > 0 is WEFT_EVALUE");
  is(weft_thread_active_count(NULL), WEFT_EVALUE, "active_count(NULL)");
  is(weft_thread_get_stack_size(NULL), WEFT_EVALUE, "get_stack_size(NULL)");
  is(weft_thread_join(t, 0.0 / 0.0), WEFT_EVALUE,
     "join with a NaN timeout is WEFT_EVALUE");
  is(weft_thread_shutdown(0.0 / 0.0), WEFT_EVALUE,
     "shutdown with a NaN timeout is WEFT_EVALUE");
  weft_close(t);
}

/* ---- main, current, enumerate ---- */

static void test_main(void) {
  weft_handle m = 0, c = 0;
  is(weft_thread_main(&m), 0, "thread_main");
  is(weft_thread_current(&c), 0, "thread_current on the main thread");
  is(c, m, "the main thread's current handle is the main handle");
  ok(strcmp(name_of(m), "MainThread") == 0, "the main thread is MainThread");
  is(is_alive(m), 1, "the main thread is alive");
  int d = -1;
  weft_thread_get_daemon(m, &d);
  is(d, 0, "the main thread is not a daemon");
  uint64_t ident = 0;
  int64_t native = 0;
  weft_thread_get_ident(m, &ident);
  is(ident, (uint64_t)pthread_self(), "the main ident is its pthread_self");
  weft_thread_get_native_id(m, &native);
  is(native, getpid(), "the main thread's native id is the process id");
  is(weft_thread_join(m, 0), WEFT_ESTATE,
     "the main thread joining itself is WEFT_ESTATE");
  is(weft_thread_set_daemon(m, 1), WEFT_ESTATE,
     "set_daemon on the main thread is WEFT_ESTATE");
  int r;
  is(weft_thread_get_result(m, &r), WEFT_ESTATE,
     "get_result of the main thread is WEFT_ESTATE");
  is(handle_listed(m), 1, "the main thread is enumerated");
}

static void test_enumerate(void) {
  probe p[3] = {{.result = 0}};
  weft_handle t[3];
  size_t before = active();
  for (int i = 0; i < 3; i++) {
    weft_thread_new(probe_target, &p[i], NULL, &t[i]);
    weft_thread_start(t[i]);
  }
  size_t n = 0;
  weft_handle buf[64];
  is(weft_thread_enumerate(buf, 64, &n), 0, "enumerate");
  is(n, before + 3, "enumerate counts the three new threads");
  is(active(), n, "active_count is enumerate's length");
  int all = 1;
  for (int i = 0; i < 3; i++)
    all &= handle_listed(t[i]) == 1;
  ok(all, "every started thread is listed");
  weft_handle one[1] = {0};
  is(weft_thread_enumerate(one, 1, &n), WEFT_ERANGE,
     "enumerate into too small a buffer is WEFT_ERANGE");
  is(n, before + 3, "and still reports the full count");
  ok(one[0] != 0, "and fills what fits");
  is(weft_thread_enumerate(NULL, 0, &n), WEFT_ERANGE,
     "enumerate(NULL, 0) only counts (WEFT_ERANGE)");
  for (int i = 0; i < 3; i++)
    gate_open(&p[i].go);
  for (int i = 0; i < 3; i++) {
    weft_thread_join(t[i], -1);
    weft_close(t[i]);
  }
  is(active(), before, "active_count drops back when they finish");
}

/* ---- alien threads ---- */

typedef struct alien {
  gate go;
  _Atomic int ready;
  weft_handle h;
  char name[64];
  int daemon, alive;
  weft_status join, status;
  uint64_t ident, pself;
  int64_t native, tid;
  weft_handle again;
} alien;

static void *alien_main(void *arg) {
  alien *a = arg;
  a->status = weft_thread_current(&a->h);
  snprintf(a->name, sizeof a->name, "%s", name_of(a->h));
  weft_thread_get_daemon(a->h, &a->daemon);
  a->alive = is_alive(a->h);
  a->join = weft_thread_join(a->h, 0);
  weft_thread_get_ident(a->h, &a->ident);
  weft_thread_get_native_id(a->h, &a->native);
  a->pself = (uint64_t)pthread_self();
  a->tid = weft_thread_current_native_id();
  weft_thread_current(&a->again);
  atomic_store(&a->ready, 1);
  gate_wait(&a->go);
  return NULL;
}

static void test_alien(void) {
  alien a = {0};
  size_t before = active();
  pthread_t pt;
  pthread_create(&pt, NULL, alien_main, &a);
  WAIT_FOR(atomic_load(&a.ready), 10);
  is(a.status, 0, "an alien thread gets a current handle");
  ok(strncmp(a.name, "Dummy-", 6) == 0, "its name is Dummy-N (%s)", a.name);
  is(a.daemon, 1, "a dummy thread is a daemon");
  is(a.alive, 1, "a dummy thread is alive");
  is(a.join, WEFT_ESTATE, "a dummy thread cannot be joined");
  is(a.ident, a.pself, "a dummy's ident is its pthread_self");
  is(a.native, a.tid, "a dummy's native id is its gettid");
  is(a.again, a.h, "current gives the same handle every time");
  is(handle_listed(a.h), 1, "a dummy thread is enumerated");
  is(active(), before + 1, "a dummy thread counts as active");
  is(weft_thread_join(a.h, 0), WEFT_ESTATE,
     "another thread cannot join a dummy either");
  gate_open(&a.go);
  pthread_join(pt, NULL);
  is(handle_listed(a.h), 0, "the dummy is gone once its thread exits");
  ok(!handle_open(a.h), "its handle is released when its thread exits");
  is(active(), before, "and it no longer counts");
}

/* ---- shutdown ---- */

/* While the main thread waits in shutdown, a thread starts a second
 * non-daemon thread and finishes; the conductor lets the second one end
 * only once the main thread is waiting again. */
static probe second;
static weft_handle second_t;
static gate first_go;
static _Atomic int shutdown_main_tid;

static int start_second(void *arg) {
  (void)arg;
  gate_wait(&first_go);
  weft_thread_new(probe_target, &second, NULL, &second_t);
  weft_thread_start(second_t);
  return 0;
}

static void *conductor(void *arg) {
  weft_handle first = *(weft_handle *)arg;
  wait_all_blocked(&shutdown_main_tid, 1);
  gate_open(&first_go);
  weft_thread_join(first, 30);
  wait_all_blocked(&shutdown_main_tid, 1);
  gate_open(&second.go);
  return NULL;
}

static void test_shutdown(void) {
  is(weft_thread_shutdown(0), 0, "shutdown with nothing running returns");
  probe p = {0};
  weft_handle t;
  weft_thread_new(probe_target, &p, NULL, &t);
  weft_thread_start(t);
  double t0 = now_s();
  is(weft_thread_shutdown(0.05), -ETIMEDOUT,
     "shutdown times out while a non-daemon thread runs");
  ok(now_s() - t0 >= 0.04, "a 0.05 s shutdown waits at least 0.04 s");
  gate_open(&p.go);
  is(weft_thread_shutdown(10), 0, "shutdown returns once it finished");
  is(is_alive(t), 0, "shutdown waited for the thread");
  weft_close(t);

  probe d = {0};
  weft_thread_new(probe_target, &d, NULL, &t);
  weft_thread_set_daemon(t, 1);
  weft_thread_start(t);
  is(weft_thread_shutdown(0), 0, "shutdown does not wait for daemon threads");
  gate_open(&d.go);
  weft_thread_join(t, -1);
  weft_close(t);

  weft_thread_new(start_second, NULL, NULL, &t);
  weft_thread_start(t);
  atomic_store(&shutdown_main_tid, self_tid());
  pthread_t c;
  pthread_create(&c, NULL, conductor, &t);
  is(weft_thread_shutdown(30), 0,
     "shutdown with a thread started while it waits");
  is(is_alive(second_t), 0, "shutdown waited for that thread too");
  pthread_join(c, NULL);
  weft_thread_join(second_t, -1);
  weft_close(second_t);
  weft_close(t);
}

/* ---- stack size ---- */

static int stack_of_self(void *arg) {
  pthread_attr_t attr;
  size_t *size = arg;
  pthread_getattr_np(pthread_self(), &attr);
  pthread_attr_getstacksize(&attr, size);
  pthread_attr_destroy(&attr);
  return 0;
}

static void test_stack_size(void) {
  size_t size = 1;
  is(weft_thread_get_stack_size(&size), 0, "get_stack_size");
  is(size, 0, "the stack size is 0 (platform default) at first");
  is(weft_thread_set_stack_size(1000), WEFT_EVALUE,
     "a stack size below 32768 is WEFT_EVALUE");
  is(weft_thread_set_stack_size(32767), WEFT_EVALUE,
     "32767 bytes is WEFT_EVALUE");
  weft_thread_get_stack_size(&size);
  is(size, 0, "a refused stack size leaves it unchanged");
  is(weft_thread_set_stack_size(32768), 0, "32768 bytes is accepted");
  weft_thread_get_stack_size(&size);
  is(size, 32768, "and reads back");
  size_t want = 4u << 20, got = 0;
  weft_thread_set_stack_size(want);
  weft_handle t;
  weft_thread_new(stack_of_self, &got, NULL, &t);
  weft_thread_start(t);
  weft_thread_join(t, -1);
  weft_close(t);
  ok(got >= want, "a new thread gets the stack size (%zu >= %zu)", got, want);
  /* A size the system cannot give: start fails, the thread stays new. */
  weft_thread_set_stack_size((size_t)1 << 62); /* beyond any address space */
  weft_thread_new(NULL, NULL, NULL, &t);
  weft_status st = weft_thread_start(t);
  ok(st < 0 && st > WEFT_ERR_BASE,
     "a start the OS refuses is -errno (%s)", weft_err_name(st));
  is(is_alive(t), 0, "a thread whose start failed is not alive");
  is(handle_listed(t), 0, "nor enumerated");
  weft_thread_set_stack_size(0);
  is(weft_thread_start(t), 0, "it can be started once the cause is gone");
  is(weft_thread_join(t, -1), 0, "and joined");
  weft_close(t);
  weft_thread_get_stack_size(&size);
  is(size, 0, "set_stack_size(0) restores the default");
}

/* ---- start hooks ---- */

static _Atomic int hook_log[16];
static _Atomic int hook_n;
static _Atomic weft_handle hook_saw;

static void hook_a(void *arg, weft_handle thread) {
  (void)arg;
  atomic_store(&hook_saw, thread);
  hook_log[atomic_fetch_add(&hook_n, 1) & 15] = 'a';
}
static void hook_b(void *arg, weft_handle thread) {
  (void)thread;
  hook_log[atomic_fetch_add(&hook_n, 1) & 15] = *(char *)arg;
}
static int log_target(void *arg) {
  (void)arg;
  hook_log[atomic_fetch_add(&hook_n, 1) & 15] = 't';
  return 0;
}

static void run_logged(weft_handle *t) {
  atomic_store(&hook_n, 0);
  weft_thread_new(log_target, NULL, NULL, t);
  weft_thread_start(*t);
  weft_thread_join(*t, -1);
}

static _Atomic int slow_hook_in, slow_hook_done;
static gate slow_gate;
static void slow_hook(void *arg, weft_handle thread) {
  (void)arg;
  (void)thread;
  atomic_store(&slow_hook_in, 1);
  gate_wait(&slow_gate);
  atomic_store(&slow_hook_done, 1);
}

static weft_handle slow_handle;
static _Atomic int slow_closer_tid, slow_closed, done_at_close;
static void *close_slow(void *arg) {
  (void)arg;
  atomic_store(&slow_closer_tid, self_tid());
  weft_close(slow_handle);
  atomic_store(&done_at_close, atomic_load(&slow_hook_done));
  atomic_store(&slow_closed, 1);
  return NULL;
}

static weft_handle self_closing;
static _Atomic int self_close_status = 1;
static void closing_hook(void *arg, weft_handle thread) {
  (void)arg;
  (void)thread;
  atomic_store(&self_close_status, weft_close(self_closing));
}

static void test_hooks(void) {
  weft_handle ha, hb, t;
  char b = 'b';
  is(weft_thread_hook_new(NULL, NULL, &ha), WEFT_EVALUE,
     "hook_new with a NULL hook is WEFT_EVALUE");
  is(weft_thread_hook_new(hook_a, NULL, NULL), WEFT_EVALUE,
     "hook_new with a NULL out-pointer is WEFT_EVALUE");
  is(weft_thread_hook_new(hook_a, NULL, &ha), 0, "hook_new");
  int kind = 0;
  weft_handle_kind(ha, &kind);
  is(kind, WEFT_KIND_HOOK, "a hook handle has kind WEFT_KIND_HOOK");
  weft_thread_hook_new(hook_b, &b, &hb);
  run_logged(&t);
  is(atomic_load(&hook_n), 3, "two hooks and the target ran");
  ok(hook_log[0] == 'a' && hook_log[1] == 'b' && hook_log[2] == 't',
     "hooks run in install order, before the target (%c%c%c)", hook_log[0],
     hook_log[1], hook_log[2]);
  is(atomic_load(&hook_saw), t, "a hook receives the new thread's handle");
  weft_close(t);
  is(weft_close(ha), 0, "closing a hook removes it");
  run_logged(&t);
  ok(atomic_load(&hook_n) == 2 && hook_log[0] == 'b' && hook_log[1] == 't',
     "a removed hook no longer runs");
  weft_close(t);
  is(weft_close(ha), WEFT_EBADHANDLE, "closing a hook twice");
  weft_close(hb);
  run_logged(&t);
  is(atomic_load(&hook_n), 1, "with no hooks only the target runs");
  weft_close(t);

  /* Closing a hook while a thread is inside it waits for the call. */
  weft_thread_hook_new(slow_hook, NULL, &slow_handle);
  weft_thread_new(NULL, NULL, NULL, &t);
  weft_thread_start(t);
  WAIT_FOR(atomic_load(&slow_hook_in), 10);
  pthread_t closer;
  pthread_create(&closer, NULL, close_slow, NULL);
  wait_all_blocked(&slow_closer_tid, 1);
  is(atomic_load(&slow_closed), 0,
     "closing a hook waits while a thread runs it");
  gate_open(&slow_gate);
  pthread_join(closer, NULL);
  is(atomic_load(&done_at_close), 1,
     "and returns after the call has ended");
  weft_thread_join(t, -1);
  weft_close(t);

  /* A hook may remove itself. */
  weft_thread_hook_new(closing_hook, NULL, &self_closing);
  weft_thread_new(NULL, NULL, NULL, &t);
  weft_thread_start(t);
  is(weft_thread_join(t, 10), 0, "a hook that closes itself does not hang");
  is(atomic_load(&self_close_status), 0, "and its close succeeds");
  weft_close(t);
  ok(!handle_open(self_closing), "its handle is gone");
}

/* A hook that closes itself while another thread is inside it too: the
 * close waits for that other call and returns once it has ended. */
static weft_handle shared_hook;
static _Atomic int shared_entered, shared_closer_tid;
static _Atomic int shared_close_st = 1;
static gate shared_hold;

static void shared_hook_fn(void *arg, weft_handle thread) {
  (void)arg;
  (void)thread;
  if (atomic_fetch_add(&shared_entered, 1) == 0) {
    gate_wait(&shared_hold); /* the first thread stays inside */
    return;
  }
  atomic_store(&shared_closer_tid, (int)weft_thread_current_native_id());
  atomic_store(&shared_close_st, weft_close(shared_hook));
}

static void test_hook_close_shared(void) {
  weft_handle holder, closer;
  weft_thread_hook_new(shared_hook_fn, NULL, &shared_hook);
  weft_thread_new(NULL, NULL, "hook-holder", &holder);
  weft_thread_start(holder);
  WAIT_FOR(atomic_load(&shared_hold.waiting) == 1, 10);
  weft_thread_new(NULL, NULL, "hook-closer", &closer);
  weft_thread_start(closer);
  wait_all_blocked(&shared_closer_tid, 1);
  is(atomic_load(&shared_close_st), 1,
     "a hook closing itself waits while another thread is inside it");
  gate_open(&shared_hold);
  is(weft_thread_join(closer, 10), 0,
     "and returns once that other call has ended (no lost wakeup)");
  is(atomic_load(&shared_close_st), 0, "that close succeeds");
  weft_thread_join(holder, 10);
  weft_close(holder);
  weft_close(closer);
}

/* ---- fork ---- */

static _Atomic int shutdown_tid;
static void *shutdown_waiter(void *arg) {
  (void)arg;
  atomic_store(&shutdown_tid, self_tid());
  return (void *)(intptr_t)weft_thread_shutdown(30);
}

static void test_fork(void) {
  probe p = {0};
  weft_handle t, m0;
  weft_thread_main(&m0);
  weft_thread_new(probe_target, &p, NULL, &t);
  weft_thread_start(t);
  WAIT_FOR(atomic_load(&p.ran), 10);
  /* A thread waits in shutdown (on the registry's condvar) across fork. */
  pthread_t sw;
  pthread_create(&sw, NULL, shutdown_waiter, NULL);
  wait_all_blocked(&shutdown_tid, 1);
  pid_t pid = fork();
  if (pid == 0) {
    int bad = 0;
    weft_handle m, c, u;
    if (is_alive(t) != 0)
      bad |= 1; /* the parent's thread does not exist here */
    if (active() != 1)
      bad |= 2;
    if (weft_thread_main(&m) != 0 || weft_thread_current(&c) != 0 || m != c)
      bad |= 4;
    /* ThreadSanitizer cannot start threads in a fork child. */
    const char *san = getenv("SANITIZER");
    int can_thread = san == NULL || strcmp(san, "tsan") != 0;
    if (can_thread &&
        (weft_thread_new(return_arg, (void *)3, NULL, &u) != 0 ||
         weft_thread_start(u) != 0 || weft_thread_join(u, 10) != 0))
      bad |= 8;
    if (weft_thread_shutdown(5) != 0)
      bad |= 16;
    _exit(bad);
  }
  is(wait_child(pid, 30), 0,
     "in a fork child only the forking thread is alive and threads work, "
     "also when a parent thread waited in shutdown at the fork");
  is(is_alive(t), 1, "the parent's thread is unaffected by fork");
  gate_open(&p.go);
  weft_thread_join(t, -1);
  void *r = NULL;
  pthread_join(sw, &r);
  is((intptr_t)r, 0, "the parent's shutdown returns once the thread ends");
  weft_close(t);
}

/* Forking from an alien thread that has weft state (it set a local) but
 * no handle: in the child it is the main thread. */
static void *alien_fork(void *arg) {
  int v;
  weft_local_set(*(weft_handle *)arg, &v);
  pid_t pid = fork();
  if (pid == 0) {
    int bad = 0;
    weft_handle m = 0, c = 0;
    uint64_t ident = 0;
    if (weft_thread_main(&m) != 0 || weft_thread_current(&c) != 0 || m != c)
      bad |= 1;
    weft_thread_get_ident(m, &ident);
    if (ident != (uint64_t)pthread_self())
      bad |= 2;
    if (strcmp(name_of(m), "MainThread") != 0 || is_alive(m) != 1)
      bad |= 4;
    _exit(bad);
  }
  int status = -1;
  waitpid(pid, &status, 0);
  return (void *)(intptr_t)(WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static void test_fork_alien(void) {
  weft_handle l;
  weft_local_new(NULL, NULL, &l);
  pthread_t pt;
  void *r = NULL;
  pthread_create(&pt, NULL, alien_fork, &l);
  pthread_join(pt, &r);
  is((intptr_t)r, 0,
     "after fork in an alien thread with weft state, it is the child's "
     "main thread (current == main, its ident, MainThread)");
  weft_close(l);
}

int main(void) {
  test_new();
  test_lifecycle();
  test_results();
  test_many_joiners();
  test_names();
  test_daemon();
  test_close_running();
  test_bad_handles();
  test_main();
  test_enumerate();
  test_alien();
  test_shutdown();
  test_stack_size();
  test_hooks();
  test_hook_close_shared();
  test_fork();
  test_fork_alien();
  return done_testing();
}
