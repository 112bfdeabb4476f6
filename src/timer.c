/* timer.c - Timer: a min-heap of deadlines, one service thread, and a
 * pool of workers that run due timer functions. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "clock.h"
#include "error.h"
#include "handle.h"
#include "local.h"
#include "timer.h"

#define IDLE_SECONDS 2.0 /* an idle worker retires after this */
#define MAX_STARTING 4   /* workers being spawned at once, at most */
#define RETRY_SECONDS 0.1 /* retry a failed worker spawn after this */
#define FAR_SEC ((time_t)1 << 40) /* "never": an infinite interval */

/* Where a started timer is.  The own pin goes with it: HEAP and QUEUE
 * hold it, then the worker that runs it (or takes it cancelled). */
enum { W_NONE, W_HEAP, W_QUEUE, W_RUNNING, W_DONE };

typedef struct timerobj {
  weft__thread th; /* first: a timer is a thread */
  double interval;
  /* Under S. */
  struct timespec due;
  uint64_t seq; /* FIFO among equal deadlines */
  size_t pos;   /* index in the heap while W_HEAP */
  int where;
  int cancelled;
  struct timerobj *qnext;
} timerobj;

static pthread_mutex_t S = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t svc_cv;  /* the service: a new earliest deadline */
static pthread_cond_t work_cv; /* idle workers: the queue has work */
/* Under S. */
static timerobj **heap;
static size_t heap_len, heap_cap;
static uint64_t heap_seq;
static timerobj *q_head, *q_tail;
static size_t q_len;
static int svc_running;
static unsigned nworkers, nidle, nstarting;

/* ---- the heap (under S) ---- */

static int before(const timerobj *a, const timerobj *b) {
  if (a->due.tv_sec != b->due.tv_sec)
    return a->due.tv_sec < b->due.tv_sec;
  if (a->due.tv_nsec != b->due.tv_nsec)
    return a->due.tv_nsec < b->due.tv_nsec;
  return a->seq < b->seq;
}

static void heap_set(size_t i, timerobj *t) {
  heap[i] = t;
  t->pos = i;
}

static void sift_up(size_t i) {
  timerobj *t = heap[i];
  while (i > 0 && before(t, heap[(i - 1) / 2])) {
    heap_set(i, heap[(i - 1) / 2]);
    i = (i - 1) / 2;
  }
  heap_set(i, t);
}

static void sift_down(size_t i) {
  timerobj *t = heap[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= heap_len)
      break;
    if (c + 1 < heap_len && before(heap[c + 1], heap[c]))
      c++;
    if (!before(heap[c], t))
      break;
    heap_set(i, heap[c]);
    i = c;
  }
  heap_set(i, t);
}

static weft_status heap_push(timerobj *t) {
  if (heap_len == heap_cap) {
    size_t cap = heap_cap ? heap_cap * 2 : 64;
    timerobj **h = realloc(heap, cap * sizeof *h);
    if (h == NULL)
      return weft__error(-ENOMEM, ENOMEM, "thread_start: out of memory");
    heap = h;
    heap_cap = cap;
  }
  t->seq = heap_seq++;
  heap_set(heap_len++, t);
  sift_up(heap_len - 1);
  return 0;
}

static void heap_remove(timerobj *t) {
  size_t i = t->pos;
  timerobj *last = heap[--heap_len];
  if (i < heap_len) {
    heap_set(i, last);
    sift_up(i);
    sift_down(last->pos);
  }
}

/* ---- workers ---- */

static void *worker_main(void *p);

/* Under S. */
static int spawn_worker(void) {
  weft__tstate *T = weft__tstate_alloc(WEFT__TS_WORKER);
  if (T == NULL)
    return -1;
  T->worker_live = 1;
  pthread_attr_t attr;
  pthread_t t;
  weft__thread_attr(&attr);
  int r = pthread_create(&t, &attr, worker_main, T);
  pthread_attr_destroy(&attr);
  if (r != 0) {
    weft__tstate_free(T);
    return -1;
  }
  nworkers++;
  nstarting++;
  return 0;
}

/* Under S: spawn workers for queued timers that no idle or starting
 * worker will take.  Spawning is paced (MAX_STARTING at once): a worker
 * that starts and still sees work kicks again. */
static void pool_kick(void) {
  while (q_len > nidle + nstarting && nstarting < MAX_STARTING)
    if (spawn_worker() < 0)
      break;
}

/* Under S: the next queued timer, or NULL after IDLE_SECONDS idle. */
static timerobj *worker_take(void) {
  weft__deadline d;
  weft__deadline_init(&d, IDLE_SECONDS, "timer");
  while (q_head == NULL) {
    nidle++;
    int r = weft__cond_wait(&work_cv, &S, &d);
    nidle--;
    if (r < 0 && q_head == NULL)
      return NULL;
  }
  timerobj *t = q_head;
  q_head = t->qnext;
  if (q_head == NULL)
    q_tail = NULL;
  q_len--;
  t->qnext = NULL;
  pool_kick();
  return t;
}

/* Run timer t as the logical thread it is, then give up its own pin. */
static void run_timer(weft__tstate *T, timerobj *t) {
  weft__thread *rec = &t->th;
  weft_handle h = rec->handle;
  T->rec = rec;
  weft__thread_began(rec, 1);
  weft__thread_hooks_run(T, h);
  int result = rec->target != NULL ? rec->target(rec->arg) : 0;
  weft__local_thread_exit(T); /* its "thread" ends: so do its locals */
  T->rec = NULL;
  weft__thread_finish(rec, result);
  weft__thread_os_name(pthread_self(), "weft-timer");
  weft__handle_unpin(h);
}

static void *worker_main(void *p) {
  weft__tstate *T = p;
  weft__tstate_install(T);
  weft__thread_os_name(pthread_self(), "weft-timer");
  pthread_mutex_lock(&S);
  nstarting--;
  timerobj *t;
  while ((t = worker_take()) != NULL) {
    if (t->cancelled) { /* cancel finished it; we drop the pin */
      t->where = W_DONE;
      pthread_mutex_unlock(&S);
      weft__handle_unpin(t->th.handle);
      pthread_mutex_lock(&S);
      continue;
    }
    t->where = W_RUNNING;
    pthread_mutex_unlock(&S);
    run_timer(T, t);
    pthread_mutex_lock(&S);
  }
  nworkers--;
  T->worker_live = 0;
  pthread_mutex_unlock(&S);
  weft__tstate_exit(T, 0);
  return NULL;
}

void weft__timer_worker_exit(weft__tstate *T, int result) {
  if (T->rec != NULL) { /* weft_thread_exit inside a timer function */
    weft__thread *rec = T->rec;
    weft_handle h = rec->handle;
    T->rec = NULL;
    weft__thread_finish(rec, result);
    weft__handle_unpin(h);
  }
  if (T->worker_live) {
    pthread_mutex_lock(&S);
    T->worker_live = 0;
    nworkers--;
    pool_kick();
    pthread_mutex_unlock(&S);
  }
}

/* ---- the service thread ---- */

/* Under S: move a due timer from the heap to the ready queue. */
static void dispatch(timerobj *t) {
  heap_remove(t);
  t->where = W_QUEUE;
  if (q_tail)
    q_tail->qnext = t;
  else
    q_head = t;
  q_tail = t;
  q_len++;
  if (nidle > 0)
    pthread_cond_signal(&work_cv);
  pool_kick();
}

static int is_due(const timerobj *t, const struct timespec *now) {
  return t->due.tv_sec < now->tv_sec ||
         (t->due.tv_sec == now->tv_sec && t->due.tv_nsec <= now->tv_nsec);
}

static void *svc_main(void *unused) {
  (void)unused;
  weft__thread_os_name(pthread_self(), "weft-timers");
  pthread_mutex_lock(&S);
  for (;;) {
    struct timespec now;
    weft__now(&now);
    while (heap_len > 0 && is_due(heap[0], &now))
      dispatch(heap[0]);
    if (q_len > 0 && nworkers == 0)
      pool_kick(); /* every earlier spawn failed: try again */
    weft__deadline d = {.forever = 1};
    if (heap_len > 0 && heap[0]->due.tv_sec < FAR_SEC) {
      d.forever = 0;
      d.at = heap[0]->due;
    }
    if (q_len > 0 && nworkers == 0) {
      weft__deadline retry;
      weft__deadline_init(&retry, RETRY_SECONDS, "timer");
      if (d.forever || retry.at.tv_sec < d.at.tv_sec ||
          (retry.at.tv_sec == d.at.tv_sec && retry.at.tv_nsec < d.at.tv_nsec))
        d = retry;
    }
    weft__cond_wait(&svc_cv, &S, &d);
  }
  return NULL;
}

/* Under S. */
static weft_status service_ensure(void) {
  if (svc_running)
    return 0;
  pthread_attr_t attr;
  pthread_t t;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int r = pthread_create(&t, &attr, svc_main, NULL);
  pthread_attr_destroy(&attr);
  if (r != 0)
    return weft__errno(r, "thread_start: timer service");
  svc_running = 1;
  return 0;
}

/* ---- the ABI ---- */

WEFT_API weft_status weft_timer_new(double interval, weft_thread_fn fn,
                                    void *arg, const char *name,
                                    weft_handle *out) {
  WEFT__CHECK_PTR(out, "timer_new");
  if (isnan(interval) || interval < 0)
    return weft__error(WEFT_EVALUE, 0,
                       "timer_new: interval must be >= 0, not %g", interval);
  timerobj *t = calloc(1, sizeof *t);
  if (t == NULL)
    return weft__error(-ENOMEM, ENOMEM, "timer_new: out of memory");
  weft_status st =
      weft__thread_init(&t->th, WEFT_KIND_TIMER, fn, arg, name, "timer_new");
  if (st < 0) {
    free(t);
    return st;
  }
  t->interval = interval;
  return weft__thread_issue(&t->th, out);
}

weft_status weft__timer_start(weft__thread *rec) {
  timerobj *t = (timerobj *)rec;
  weft_status st = weft__thread_claim_start(rec, "thread_start");
  if (st < 0)
    return st;
  weft__deadline d;
  weft__deadline_init(&d, t->interval, "thread_start");
  pthread_mutex_lock(&S);
  if (t->cancelled) { /* cancelled before it started: done at once */
    t->where = W_DONE;
    pthread_mutex_unlock(&S);
    weft__thread_finish(rec, WEFT_ECLOSED);
    weft__handle_unpin(rec->handle);
    return 0;
  }
  t->due = d.at;
  if (d.forever)
    t->due.tv_sec = FAR_SEC;
  st = service_ensure();
  if (st == 0)
    st = heap_push(t);
  if (st < 0) {
    pthread_mutex_unlock(&S);
    weft__thread_unstart(rec);
    return st;
  }
  t->where = W_HEAP;
  if (t->pos == 0)
    pthread_cond_signal(&svc_cv);
  pthread_mutex_unlock(&S);
  return 0;
}

WEFT_API weft_status weft_timer_cancel(weft_handle timer) {
  timerobj *t = weft__handle_pin(timer, WEFT_KIND_TIMER, "timer_cancel");
  if (t == NULL)
    return WEFT__PIN_FAILED;
  int finish = 0, drop_pin = 0;
  pthread_mutex_lock(&S);
  switch (t->where) {
  case W_NONE: /* not started (or starting): start finishes it */
    t->cancelled = 1;
    break;
  case W_HEAP: /* the heap's pin is ours now */
    heap_remove(t);
    t->where = W_DONE;
    t->cancelled = 1;
    finish = drop_pin = 1;
    break;
  case W_QUEUE: /* the worker that takes it drops the pin */
    finish = !t->cancelled; /* a second cancel: finished already */
    t->cancelled = 1;
    break;
  default: /* running or done: nothing to do */
    break;
  }
  pthread_mutex_unlock(&S);
  if (finish)
    weft__thread_finish(&t->th, WEFT_ECLOSED);
  if (drop_pin)
    weft__handle_unpin(timer);
  weft__handle_unpin(timer);
  return 0;
}

/* ---- fork ---- */

void weft__timer_atfork_prepare(void) { pthread_mutex_lock(&S); }

void weft__timer_atfork_parent(void) { pthread_mutex_unlock(&S); }

void weft__timer_atfork_child(weft__tstate *self) {
  /* The service and the workers are gone; the registry's fork handler
   * stops their timers.  Pool and service start again on demand. */
  for (size_t i = 0; i < heap_len; i++)
    heap[i]->where = W_DONE;
  for (timerobj *t = q_head; t != NULL; t = t->qnext)
    t->where = W_DONE;
  heap_len = 0;
  q_head = q_tail = NULL;
  q_len = 0;
  svc_running = 0;
  nidle = nstarting = 0;
  nworkers = self != NULL && self->kind == WEFT__TS_WORKER && self->worker_live;
  /* Initialised afresh, not destroyed: the service and idle workers of
   * the parent wait on them, and pthread_cond_destroy would wait for
   * those waiters forever. */
  weft__cond_init(&svc_cv);
  weft__cond_init(&work_cv);
  pthread_mutex_unlock(&S);
}

static const weft__kind_ops timer_ops = {
    .name = "timer",
    .close = weft__thread_close_op,
    .destroy = weft__thread_destroy,
    .before_close = weft__thread_before_close,
    .atfork_child = weft__thread_atfork_child,
};

__attribute__((constructor)) static void timer_register(void) {
  weft__kind_register(WEFT_KIND_TIMER, &timer_ops);
  weft__cond_init(&svc_cv);
  weft__cond_init(&work_cv);
}
