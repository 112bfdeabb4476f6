/* stress-poller.c - pollers under load, with both backends:
 *
 *  - threads register, modify and unregister sockets and Events in one
 *    poller while others poll it, others close the targets (registered or
 *    not) and one interrupts the pollers: only the documented statuses
 *    come back, every reported key is one that was registered, and at the
 *    end nothing is left (no key of a closed target is reported, every
 *    descriptor is released);
 *  - pollers closed while threads poll them, register in them and close
 *    their targets.
 * ASan and TSan see no use after free and no race.  Sizes scale with
 * WEFT_STRESS_SCALE. */
#include "select-util.h"

#define POOL 64
#define NPOLL 3
#define NREG 4
#define NCLOSE 2

static int pflags;
static const char *B;
static weft_handle P;
static _Atomic weft_handle pool[POOL]; /* targets anyone may close */
static _Atomic int64_t next_key;
static _Atomic int stop;
static _Atomic long bad_status, bad_key, polled, reported;
static long iters;

static unsigned rnd(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 8;
}

/* Count a status that is not one of ok[0 .. n-1]. */
static void expect_in(weft_status st, const weft_status *ok_, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (st == ok_[i])
      return;
  {
    atomic_fetch_add(&bad_status, 1);
    if (atomic_load(&bad_status) < 5)
      diag("unexpected status %d (%s): %s", st, weft_err_name(st),
           weft_last_error_message());
  }
}

#define EXPECT(st, ...)                                                      \
  expect_in((st), (const weft_status[]){__VA_ARGS__},                        \
            sizeof((const weft_status[]){__VA_ARGS__}) /                     \
                sizeof(weft_status))

typedef struct poller_arg {
  _Atomic weft_handle self;
} poller_arg;

static void *poll_worker(void *p) {
  poller_arg *a = p;
  weft_handle self;
  weft_thread_current(&self);
  atomic_store(&a->self, self);
  int64_t keys[16];
  uint32_t evs[16];
  while (!atomic_load(&stop)) {
    size_t n;
    weft_status st = weft_poller_poll(P, 0.005, keys, evs, 16, &n);
    EXPECT(st, 0, -ETIMEDOUT, -EINTR);
    atomic_fetch_add(&polled, 1);
    int64_t top = atomic_load(&next_key);
    for (size_t i = 0; i < n; i++)
      if (keys[i] < 0 || keys[i] >= top)
        atomic_fetch_add(&bad_key, 1);
    atomic_fetch_add(&reported, (long)n);
  }
  return NULL;
}

/* Hand a target over to the pool; close whatever it displaces. */
static void publish(weft_handle h, unsigned *seed) {
  weft_handle old = atomic_exchange(&pool[rnd(seed) % POOL], h);
  if (old != 0)
    EXPECT(weft_close(old), 0);
}

static void *reg_worker(void *p) {
  unsigned seed = (unsigned)(uintptr_t)p * 7919u + 1;
  for (long i = 0; i < iters; i++) {
    weft_handle t[2];
    int nt;
    if (rnd(&seed) % 2) {
      sock_pair(&t[0], &t[1]);
      nt = 2;
      if (rnd(&seed) % 2)
        send1(t[1]);
    } else {
      if (weft_event_new(&t[0]) != 0)
        BAIL("event_new");
      nt = 1;
      if (rnd(&seed) % 2)
        weft_event_set(t[0]);
    }
    for (int k = 0; k < nt; k++) {
      uint32_t ev = (rnd(&seed) % 2 ? POLLIN : POLLIN | POLLOUT) |
                    (rnd(&seed) % 4 == 0 ? EPOLLET : 0) |
                    (rnd(&seed) % 4 == 0 ? EPOLLONESHOT : 0);
      EXPECT(
          weft_poller_register(P, t[k], ev, atomic_fetch_add(&next_key, 1)),
          0);
      switch (rnd(&seed) % 4) {
      case 0:
        EXPECT(weft_poller_modify(P, t[k], POLLIN,
                                  atomic_fetch_add(&next_key, 1)),
               0);
        break;
      case 1:
        EXPECT(weft_poller_unregister(P, t[k]), 0);
        break;
      default:
        break;
      }
    }
    /* Work on a target someone else may close at any moment. */
    weft_handle o = atomic_load(&pool[rnd(&seed) % POOL]);
    if (o != 0) {
      switch (rnd(&seed) % 3) {
      case 0:
        EXPECT(weft_poller_register(P, o, POLLIN,
                                    atomic_fetch_add(&next_key, 1)),
               0, -EEXIST, WEFT_EBADHANDLE);
        break;
      case 1:
        EXPECT(
            weft_poller_modify(P, o, POLLOUT, atomic_fetch_add(&next_key, 1)),
            0, -ENOENT, WEFT_EBADHANDLE);
        break;
      default:
        EXPECT(weft_poller_unregister(P, o), 0, -ENOENT, WEFT_EBADHANDLE);
        break;
      }
    }
    for (int k = 0; k < nt; k++) {
      if (rnd(&seed) % 3 == 0)
        EXPECT(weft_close(t[k]), 0); /* registered or not */
      else
        publish(t[k], &seed);
    }
  }
  return NULL;
}

static void *close_worker(void *p) {
  unsigned seed = (unsigned)(uintptr_t)p * 104729u + 3;
  while (!atomic_load(&stop)) {
    weft_handle h = atomic_exchange(&pool[rnd(&seed) % POOL], 0);
    if (h != 0)
      EXPECT(weft_close(h), 0);
    else
      sched_yield();
  }
  return NULL;
}

static void *interrupt_worker(void *p) {
  poller_arg *a = p;
  unsigned seed = 99;
  while (!atomic_load(&stop)) {
    weft_handle t = atomic_load(&a[rnd(&seed) % NPOLL].self);
    if (t != 0)
      weft_thread_interrupt(t);
    sleep_s(0.001);
  }
  return NULL;
}

static void test_churn(void) {
  P = 0;
  if (weft_poller_new(pflags, &P) != 0)
    BAIL("poller_new: %s", weft_last_error_message());
  atomic_store(&stop, 0);
  atomic_store(&next_key, 0);
  atomic_store(&bad_status, 0);
  atomic_store(&bad_key, 0);
  atomic_store(&polled, 0);
  atomic_store(&reported, 0);
  poller_arg pa[NPOLL];
  pthread_t tp[NPOLL], tr[NREG], tc[NCLOSE], ti;
  for (int i = 0; i < NPOLL; i++) {
    atomic_init(&pa[i].self, 0);
    tp[i] = spawn(poll_worker, &pa[i]);
  }
  for (int i = 0; i < NCLOSE; i++)
    tc[i] = spawn(close_worker, (void *)(uintptr_t)(i + 1));
  ti = spawn(interrupt_worker, pa);
  for (int i = 0; i < NREG; i++)
    tr[i] = spawn(reg_worker, (void *)(uintptr_t)(i + 1));
  for (int i = 0; i < NREG; i++)
    pthread_join(tr[i], NULL);
  atomic_store(&stop, 1);
  for (int i = 0; i < NCLOSE; i++)
    pthread_join(tc[i], NULL);
  pthread_join(ti, NULL);
  for (int i = 0; i < NPOLL; i++)
    pthread_join(tp[i], NULL);
  for (int i = 0; i < POOL; i++) {
    weft_handle h = atomic_exchange(&pool[i], 0);
    if (h != 0)
      EXPECT(weft_close(h), 0);
  }
  diag("%s: %lld keys, %ld polls reported %ld events", B,
       (long long)atomic_load(&next_key), atomic_load(&polled),
       atomic_load(&reported));
  is(atomic_load(&bad_status), 0, "%s: churn: only documented statuses", B);
  is(atomic_load(&bad_key), 0, "%s: churn: every key reported was issued", B);
  ok(atomic_load(&reported) > 0, "%s: churn: events were reported", B);

  /* Every target is closed: nothing may be left that reports.  New
   * registrations report their own keys only. */
  int64_t keys[64];
  uint32_t evs[64];
  size_t n;
  weft_status st;
  long stale = 0;
  while ((st = weft_poller_poll(P, 0, keys, evs, 64, &n)) == 0)
    stale += (long)n;
  is(stale, 0, "%s: churn: no closed target is reported afterwards", B);
  is(st, -ETIMEDOUT, "%s: churn: the poller is empty", B);
  weft_handle e[8];
  int64_t base = atomic_load(&next_key);
  for (int i = 0; i < 8; i++) {
    weft_event_new(&e[i]);
    weft_event_set(e[i]);
    weft_poller_register(P, e[i], POLLIN | EPOLLONESHOT, base + i);
  }
  size_t total = 0;
  int own = 1;
  while (weft_poller_poll(P, 0, keys, evs, 64, &n) == 0) {
    total += n;
    for (size_t i = 0; i < n; i++)
      own &= keys[i] >= base && keys[i] < base + 8;
  }
  ok(total == 8 && own,
     "%s: churn: new registrations report their own "
     "keys only (%zu)",
     B, total);
  for (int i = 0; i < 8; i++)
    weft_close(e[i]);
  is(weft_close(P), 0, "%s: churn: close the poller", B);
}

/* ---- closing a poller in use ---- */

typedef struct round_arg {
  weft_handle q;
  weft_handle t[16];
  _Atomic int go;
} round_arg;

static void *round_poll(void *p) {
  round_arg *r = p;
  while (!atomic_load(&r->go))
    ;
  int64_t keys[8];
  uint32_t evs[8];
  size_t n;
  for (;;) {
    weft_status st = weft_poller_poll(r->q, 0.01, keys, evs, 8, &n);
    EXPECT(st, 0, -ETIMEDOUT, WEFT_ECLOSED, WEFT_EBADHANDLE);
    if (st == WEFT_ECLOSED || st == WEFT_EBADHANDLE)
      return NULL;
  }
}

static void *round_close_targets(void *p) {
  round_arg *r = p;
  while (!atomic_load(&r->go))
    ;
  for (int i = 0; i < 16; i += 2)
    EXPECT(weft_close(r->t[i]), 0);
  return NULL;
}

static void *round_register(void *p) {
  round_arg *r = p;
  while (!atomic_load(&r->go))
    ;
  for (int k = 0; k < 4; k++)
    for (int i = 1; i < 16; i += 2) {
      weft_status st = weft_poller_unregister(r->q, r->t[i]);
      EXPECT(st, 0, -ENOENT, WEFT_EBADHANDLE);
      st = weft_poller_register(r->q, r->t[i], POLLOUT, i);
      EXPECT(st, 0, WEFT_EBADHANDLE, WEFT_ECLOSED);
    }
  return NULL;
}

static void test_close_in_use(void) {
  long rounds = stress_n(500);
  for (long k = 0; k < rounds; k++) {
    round_arg r;
    atomic_init(&r.go, 0);
    if (weft_poller_new(pflags, &r.q) != 0)
      BAIL("poller_new");
    for (int i = 0; i < 16; i += 2) {
      sock_pair(&r.t[i], &r.t[i + 1]);
      weft_poller_register(r.q, r.t[i], POLLOUT, i);
      weft_poller_register(r.q, r.t[i + 1], POLLOUT, i + 1);
    }
    pthread_t t[3];
    t[0] = spawn(round_poll, &r);
    t[1] = spawn(round_close_targets, &r);
    t[2] = spawn(round_register, &r);
    atomic_store(&r.go, 1);
    if (k % 2)
      sched_yield();
    EXPECT(weft_close(r.q), 0);
    for (int i = 0; i < 3; i++)
      pthread_join(t[i], NULL);
    for (int i = 1; i < 16; i += 2)
      EXPECT(weft_close(r.t[i]), 0);
  }
  is(atomic_load(&bad_status), 0,
     "%s: %ld pollers closed while in use: only documented statuses", B,
     rounds);
}

static void run(int flags, const char *name) {
  pflags = flags;
  B = name;
  iters = stress_n(10000);
  test_churn();
  test_close_in_use();
}

int main(void) {
  raise_nofile();
  size_t n[3];
  weft_select_wait(NULL, 0, NULL, 0, NULL, 0, 0.001, &n[0], &n[1], &n[2]);
  int fds0 = open_fds();
  run(0, "epoll");
  run(WEFT_POLLER_POLL, "poll");
  is(open_fds(), fds0, "every descriptor is released at the end");
  return done_testing();
}
