/* stress-handle.c - the handle table at scale and under races:
 * a million live handles of a type-stable kind (Lock) and of a generic
 * kind (Event), a full table, one slot reused past its last generation,
 * and closes racing with use on other threads.  Run under ASan and TSan
 * by CI: a use-after-free or data race fails there. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* ---- a full table ---- */

/* Every one of a kind's 2^24 slots in use: the next _new is -EMFILE,
 * not an index that spills into the kind bits.  In a fork child, so the
 * full table goes away with it.  Not under TSan: one thread, and 2^24
 * lock words cost gigabytes of shadow memory there. */
static void full_table(void) {
#ifdef __SANITIZE_THREAD__
  ok(1, "# SKIP 2^24 Locks under TSan");
#else
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    long n = 0;
    weft_handle h, last = 0;
    weft_status st;
    while ((st = weft_lock_new(&h)) == 0 && n <= (1L << 24)) {
      last = h;
      n++;
    }
    int kind = 0;
    _exit(n == (1L << 24) && st == -EMFILE &&
                  weft_handle_kind(last, &kind) == 0 &&
                  kind == WEFT_KIND_LOCK && weft_lock_acquire(last, 0) == 0
              ? 0
              : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
     "2^24 live Locks fill the table; the next lock_new is -EMFILE "
     "(child status %#x)", status);
#endif
}

/* ---- generations ---- */

/* A handle kept while its slot is reused more times than there are
 * generations (2^23 - 1) must never be issued again: the slot retires
 * instead of wrapping around.  The free list is LIFO, so closing `stale`
 * and then making and closing one handle at a time reuses its slot. */
static void generations(const char *what, weft_status (*make)(weft_handle *)) {
  const long cycles = 1L << 23;
  weft_handle stale, h;
  make(&stale);
  weft_close(stale);
  long made = 0, reissued = 0, closed = 0;
  for (long i = 0; i < cycles; i++) {
    if (make(&h) != 0)
      break;
    made++;
    reissued += h == stale;
    closed += weft_close(h) == 0;
  }
  is(made, cycles, "%s: %ld handles made one after another", what, cycles);
  is(closed, made, "%s: and closed", what);
  is(reissued, 0, "%s: a closed handle's value is never issued again",
     what);
  int kind;
  is(weft_handle_kind(stale, &kind), WEFT_EBADHANDLE,
     "%s: and the old handle stays bad", what);
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
  full_table();
  million("Lock", weft_lock_new, WEFT_KIND_LOCK);
  million("Event", weft_event_new, WEFT_KIND_EVENT);
  generations("Lock", weft_lock_new);
  generations("Event", weft_event_new);
  close_races_with_use();
  return done_testing();
}
