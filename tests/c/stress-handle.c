/* stress-handle.c - the handle table at scale and under races:
 * a million live handles of a type-stable kind (Lock) and of a generic
 * kind (Event), and closes racing with use on other threads.  Run under
 * ASan and TSan by CI: a use-after-free or data race fails there. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"

#define MILLION 1000000

static int cmp_handle(const void *a, const void *b) {
  weft_handle x = *(const weft_handle *)a, y = *(const weft_handle *)b;
  return (x > y) - (x < y);
}

static void million(const char *what, weft_status (*make)(weft_handle *),
                    int kind) {
  long n = stress_n(MILLION);
  weft_handle *h = malloc(sizeof *h * (size_t)n);
  long made = 0;
  while (made < n && make(&h[made]) == 0)
    made++;
  is(made, n, "%ld %s handles live at once", n, what);
  int all_kind = 1;
  for (long i = 0; i < made; i++) {
    int k = 0;
    all_kind &= weft_handle_kind(h[i], &k) == 0 && k == kind;
  }
  ok(all_kind, "every %s handle is open with its kind", what);
  weft_handle *sorted = malloc(sizeof *h * (size_t)made);
  memcpy(sorted, h, sizeof *h * (size_t)made);
  qsort(sorted, (size_t)made, sizeof *h, cmp_handle);
  int distinct = 1;
  for (long i = 1; i < made; i++)
    distinct &= sorted[i] != sorted[i - 1];
  ok(distinct && sorted[0] > 0 && sorted[made - 1] < ((int64_t)1 << 53),
     "all distinct, > 0 and < 2^53");
  int closed = 1;
  for (long i = 0; i < made; i++)
    closed &= weft_close(h[i]) == 0;
  ok(closed, "all close");
  int stale = 1;
  for (long i = 0; i < made; i += 997)
    stale &= weft_close(h[i]) == WEFT_EBADHANDLE;
  ok(stale, "and are then bad handles");
  free(sorted);
  free(h);
}

/* ---- closes racing with use ---- */

#define SLOTS 16
static _Atomic weft_handle locks[SLOTS], events[SLOTS];
static _Atomic int stop;
static _Atomic long ops, unexpected;

static void expect(weft_status st, weft_status also) {
  if (st != 0 && st != WEFT_EBADHANDLE && st != WEFT_ECLOSED && st != also) {
    atomic_fetch_add(&unexpected, 1);
    diag("unexpected status %s: %s", weft_err_name(st),
         weft_last_error_message());
  }
}

static void *user(void *arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  while (!atomic_load(&stop)) {
    int i = (int)(rand_r(&seed) % SLOTS);
    weft_handle l = atomic_load(&locks[i]), e = atomic_load(&events[i]);
    weft_status st = weft_lock_acquire(l, 0.001);
    expect(st, -ETIMEDOUT);
    if (st == 0)
      expect(weft_lock_release(l), 0);
    expect(weft_event_wait(e, 0.0005), -ETIMEDOUT);
    if (rand_r(&seed) % 4 == 0)
      expect(weft_event_set(e), 0);
    else
      expect(weft_event_clear(e), 0);
    atomic_fetch_add(&ops, 1);
  }
  return NULL;
}

static void *closer(void *arg) {
  unsigned seed = 7;
  long rounds = *(long *)arg;
  for (long r = 0; r < rounds; r++) {
    int i = (int)(rand_r(&seed) % SLOTS);
    weft_handle fresh;
    weft_lock_new(&fresh);
    expect(weft_close(atomic_exchange(&locks[i], fresh)), 0);
    weft_event_new(&fresh);
    expect(weft_close(atomic_exchange(&events[i], fresh)), 0);
    if (r % 64 == 0)
      weft_sleep(0.001);
  }
  atomic_store(&stop, 1);
  return NULL;
}

static void close_races_with_use(void) {
  for (int i = 0; i < SLOTS; i++) {
    weft_handle h;
    weft_lock_new(&h);
    atomic_store(&locks[i], h);
    weft_event_new(&h);
    atomic_store(&events[i], h);
  }
  enum { USERS = 6 };
  pthread_t u[USERS], c;
  long rounds = stress_n(20000);
  for (int i = 0; i < USERS; i++)
    pthread_create(&u[i], NULL, user, (void *)(uintptr_t)(i + 1));
  pthread_create(&c, NULL, closer, &rounds);
  pthread_join(c, NULL);
  for (int i = 0; i < USERS; i++)
    pthread_join(u[i], NULL);
  is(atomic_load(&unexpected), 0,
     "%ld closes raced with %ld uses: every status was a clean one", rounds,
     atomic_load(&ops));
  int all = 1;
  for (int i = 0; i < SLOTS; i++)
    all &= weft_close(locks[i]) == 0 && weft_close(events[i]) == 0;
  ok(all, "the survivors close");
}

int main(void) {
  million("Lock", weft_lock_new, WEFT_KIND_LOCK);
  million("Event", weft_event_new, WEFT_KIND_EVENT);
  close_races_with_use();
  return done_testing();
}
