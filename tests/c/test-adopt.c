/* test-adopt.c - weft_thread_adopt: an alien thread (a Ruby Thread, say)
 * runs a weft thread's target as that thread. */
#include <errno.h>
#include <string.h>

#include "thread-util.h"

typedef struct seen {
  weft_handle h;        /* the adopted thread */
  weft_handle current;  /* weft_thread_current inside the target */
  uint64_t ident;       /* its ident, as the record says */
  uint64_t self_ident;  /* weft_thread_current_ident inside */
  int64_t native;
  int daemon;
  int hook_ran;
  weft_status nested, exit_st;
  weft_handle gate;     /* the target waits here if set */
  _Atomic int running;
} seen;

static int target(void *arg) {
  seen *s = arg;
  weft_thread_current(&s->current);
  weft_thread_get_ident(s->h, &s->ident);
  s->self_ident = weft_thread_current_ident();
  weft_thread_get_native_id(s->h, &s->native);
  weft_thread_get_daemon(s->current, &s->daemon);
  s->nested = weft_thread_adopt(s->h);
  s->exit_st = weft_thread_exit(3);
  atomic_store(&s->running, 1);
  if (s->gate != 0)
    weft_event_wait(s->gate, -1);
  return 42;
}

typedef struct adopter {
  weft_handle h;
  weft_handle before, after; /* weft_thread_current around the adoption */
  int want_dummy;
  weft_status st;
} adopter;

static void *adopter_main(void *p) {
  adopter *a = p;
  if (a->want_dummy)
    weft_thread_current(&a->before);
  a->st = weft_thread_adopt(a->h);
  weft_thread_current(&a->after);
  return NULL;
}

static void hook(void *arg, weft_handle thread) {
  seen *s = arg;
  if (thread == s->h)
    s->hook_ran++;
}

static void test_adopt(void) {
  seen s = {0};
  weft_handle hk;
  weft_thread_hook_new(hook, &s, &hk);
  weft_event_new(&s.gate);
  is(weft_thread_new(target, &s, "adopted", &s.h), 0, "thread_new");
  adopter a = {.h = s.h, .want_dummy = 1};
  pthread_t t = spawn(adopter_main, &a);
  ok(WAIT_FOR(atomic_load(&s.running), 10), "the target runs");
  int alive = 0;
  weft_thread_is_alive(s.h, &alive);
  is(alive, 1, "the adopted thread is alive while its target runs");
  size_t n = 0;
  weft_handle all[64];
  weft_thread_enumerate(all, 64, &n);
  int listed = 0;
  for (size_t i = 0; i < n && i < 64; i++)
    listed += all[i] == s.h;
  is(listed, 1, "enumerate lists it");
  is(weft_thread_start(s.h), WEFT_ESTATE, "it cannot be started again");
  is(weft_thread_join(s.h, 0), -ETIMEDOUT, "join(0) times out meanwhile");
  weft_event_set(s.gate);
  is(weft_thread_join(s.h, -1), 0, "join returns once the target returned");
  pthread_join(t, NULL);
  is(a.st, 0, "thread_adopt returned 0");
  is(s.current, s.h, "thread_current inside the target is the thread");
  ok(s.ident != 0 && s.ident == s.self_ident,
     "its ident is the adopting OS thread's");
  ok(s.native > 0, "it has a native id");
  is(s.daemon, 0, "daemon flag inherited from its creator (main)");
  is(s.hook_ran, 1, "start hooks ran once, with its handle");
  is(s.nested, WEFT_ESTATE, "an adopted thread cannot adopt another");
  is(s.exit_st, WEFT_ESTATE, "thread_exit is refused in an adopted thread");
  int result = 0;
  is(weft_thread_get_result(s.h, &result), 0, "result readable");
  is(result, 42, "the target's return value");
  weft_thread_is_alive(s.h, &alive);
  is(alive, 0, "no longer alive");
  ok(a.before != 0 && a.after == a.before,
     "the OS thread's own dummy entry comes back afterwards");
  is(weft_thread_adopt(s.h), WEFT_ESTATE,
     "a finished thread cannot be adopted");
  weft_close(s.h);
  weft_close(hk);
  weft_close(s.gate);
}

static int noop(void *arg) { return 0; }

static void test_refusals(void) {
  weft_handle th, tm, ev;
  weft_thread_new(noop, NULL, NULL, &th);
  is(weft_thread_adopt(th), WEFT_ESTATE, "the main thread may not adopt");
  ok(strstr(weft_last_error_message(), "main thread") != NULL, "says why: %s",
     weft_last_error_message());
  weft_timer_new(10, noop, NULL, NULL, &tm);
  adopter a = {.h = tm};
  pthread_t t = spawn(adopter_main, &a);
  pthread_join(t, NULL);
  is(a.st, WEFT_ESTATE, "a timer cannot be adopted");
  weft_thread_start(th);
  weft_thread_join(th, -1);
  a = (adopter){.h = th};
  t = spawn(adopter_main, &a);
  pthread_join(t, NULL);
  is(a.st, WEFT_ESTATE, "a started thread cannot be adopted");
  weft_event_new(&ev);
  a = (adopter){.h = ev};
  t = spawn(adopter_main, &a);
  pthread_join(t, NULL);
  is(a.st, WEFT_EBADHANDLE, "an event is not a thread");
  weft_close(th);
  a = (adopter){.h = th};
  t = spawn(adopter_main, &a);
  pthread_join(t, NULL);
  is(a.st, WEFT_EBADHANDLE, "a closed handle");
  weft_close(tm);
  weft_close(ev);
}

/* Closing the handle while the adopted target runs gives up the claim,
 * as for any running thread; the adoption still finishes cleanly. */
static int waits(void *arg) {
  weft_event_wait(*(weft_handle *)arg, -1);
  return 5;
}

static void test_close_while_running(void) {
  weft_handle ev, th;
  weft_event_new(&ev);
  weft_thread_new(waits, &ev, NULL, &th);
  adopter a = {.h = th};
  pthread_t t = spawn(adopter_main, &a);
  int alive = 0;
  ok(WAIT_FOR((weft_thread_is_alive(th, &alive), alive == 1), 10),
     "running");
  is(weft_close(th), 0, "close while it runs");
  weft_event_set(ev);
  pthread_join(t, NULL);
  is(a.st, 0, "the adoption finished");
  is(weft_thread_is_alive(th, &alive), WEFT_EBADHANDLE,
     "and the handle was released");
  weft_close(ev);
}

int main(void) {
  test_adopt();
  test_refusals();
  test_close_while_running();
  return done_testing();
}
