/* stress-alien.c - alien threads coming and going: each gets a dummy
 * entry and a thread-local value; both are released when it exits, also
 * while other threads enumerate and close locals. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdint.h>

#include "thread-util.h"

#define N 2000
#define BATCH 50

static weft_handle L;
static _Atomic int dtors, bad_names;
static weft_handle dummies[N];

static void free_value(void *arg, void *value) {
  (void)arg;
  free(value);
  atomic_fetch_add(&dtors, 1);
}

static void *alien(void *arg) {
  intptr_t i = (intptr_t)arg;
  weft_thread_current(&dummies[i]);
  if (strncmp(name_of(dummies[i]), "Dummy-", 6) != 0)
    atomic_fetch_add(&bad_names, 1);
  int *v = malloc(sizeof *v);
  *v = (int)i;
  weft_local_set(L, v);
  return NULL;
}

static void run_batches(int n) {
  pthread_t t[BATCH];
  for (int b = 0; b < n; b += BATCH) {
    for (int k = 0; k < BATCH; k++)
      pthread_create(&t[k], NULL, alien, (void *)(intptr_t)(b + k));
    for (int k = 0; k < BATCH; k++)
      pthread_join(t[k], NULL);
  }
}

static void test_churn(void) {
  size_t base = active();
  weft_local_new(free_value, NULL, &L);
  run_batches(N);
  is(atomic_load(&bad_names), 0, "every alien thread got a Dummy-N entry");
  is(atomic_load(&dtors), N, "every alien thread's local value was destroyed");
  int released = 1;
  for (int i = 0; i < N; i++)
    released &= !handle_open(dummies[i]);
  ok(released, "every dummy handle was released when its thread exited");
  is(active(), base, "no dummy thread is left");
  weft_close(L);
}

/* Others enumerate and read names of borrowed handles meanwhile: a handle
 * that goes away under them gives WEFT_EBADHANDLE, never a crash. */
static _Atomic int stop, odd_status;
static int enumerator(void *arg) {
  (void)arg;
  weft_handle buf[256];
  while (!atomic_load(&stop)) {
    size_t n = 0;
    weft_status st = weft_thread_enumerate(buf, 256, &n);
    if (st != 0 && st != WEFT_ERANGE)
      atomic_fetch_add(&odd_status, 1);
    for (size_t i = 0; i < n && i < 256; i++) {
      char name[64];
      size_t len;
      st = weft_thread_get_name(buf[i], name, sizeof name, &len);
      if (st != 0 && st != WEFT_EBADHANDLE)
        atomic_fetch_add(&odd_status, 1);
    }
  }
  return 0;
}

static void test_churn_while_enumerating(void) {
  size_t base = active();
  weft_handle e[2];
  atomic_store(&dtors, 0);
  weft_local_new(free_value, NULL, &L);
  for (int i = 0; i < 2; i++) {
    weft_thread_new(enumerator, NULL, NULL, &e[i]);
    weft_thread_start(e[i]);
  }
  run_batches(N / 2);
  atomic_store(&stop, 1);
  for (int i = 0; i < 2; i++) {
    weft_thread_join(e[i], -1);
    weft_close(e[i]);
  }
  is(atomic_load(&odd_status), 0,
     "enumerating during the churn only ever sees valid or closed handles");
  is(atomic_load(&dtors), N / 2, "every value destroyed during the churn");
  is(active(), base, "and every dummy is gone");
  weft_close(L);
}

/* Close a local while alien threads holding values exit. */
static gate go;
static void *hold_then_exit(void *arg) {
  int *v = malloc(sizeof *v);
  *v = (int)(intptr_t)arg;
  weft_local_set(L, v);
  gate_wait(&go);
  return NULL;
}

static void test_close_vs_exit(void) {
  int exact = 1;
  for (int round = 0; round < 20; round++) {
    atomic_store(&dtors, 0);
    gate_reset(&go);
    weft_local_new(free_value, NULL, &L);
    pthread_t t[BATCH];
    for (int k = 0; k < BATCH; k++)
      pthread_create(&t[k], NULL, hold_then_exit, (void *)(intptr_t)k);
    WAIT_FOR(atomic_load(&go.waiting) == BATCH, 10);
    gate_open(&go);
    weft_close(L);
    for (int k = 0; k < BATCH; k++)
      pthread_join(t[k], NULL);
    exact &= atomic_load(&dtors) == BATCH;
  }
  ok(exact, "closing a local while alien threads exit destroys each value "
            "exactly once");
}

int main(void) {
  test_churn();
  test_churn_while_enumerating();
  test_close_vs_exit();
  return done_testing();
}
