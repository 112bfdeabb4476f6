/* tap.h - a tiny TAP producer for weft's C tests.
 *
 *   plan(n) or done_testing(); ok(cond, fmt, ...); is(got, want, fmt, ...)
 * Every check prints "ok N - ..." or "not ok N - ...", with the weft error
 * message on failure, and the program exits non-zero if any check failed. */
#ifndef WEFT_TAP_H
#define WEFT_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weft.h"

static int tap_n, tap_failed;

static inline void plan(int n) { printf("1..%d\n", n); fflush(stdout); }

static inline int tap_report(int pass, const char *fmt, va_list ap) {
  tap_n++;
  printf("%sok %d - ", pass ? "" : "not ", tap_n);
  vprintf(fmt, ap);
  printf("\n");
  if (!pass) {
    tap_failed++;
    printf("#   last weft error: %s\n", weft_last_error_message());
  }
  fflush(stdout);
  return pass;
}

static inline __attribute__((format(printf, 2, 3))) int
ok(int pass, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tap_report(pass, fmt, ap);
  va_end(ap);
  return pass;
}

/* is(got, want, ...): integer equality with both values shown. */
#define is(got, want, ...)                                                   \
  do {                                                                       \
    long long got_ = (long long)(got), want_ = (long long)(want);            \
    if (!ok(got_ == want_, __VA_ARGS__))                                     \
      printf("#   got %lld (%s), want %lld (%s)\n", got_,                    \
             weft_err_name((int)got_), want_, weft_err_name((int)want_));    \
  } while (0)

static inline void diag(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  printf("# ");
  vprintf(fmt, ap);
  printf("\n");
  va_end(ap);
}

static inline int done_testing(void) {
  printf("1..%d\n", tap_n);
  return tap_failed ? 1 : 0;
}

/* Wait (up to 10 s) until thread `tid` is asleep in the kernel (state S
 * in /proc), so a test knows a waiter really is blocked before it acts.
 * Returns 1 if it is. */
#include <sys/types.h>
#include <unistd.h>
static inline int wait_blocked(pid_t tid) {
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
  for (int i = 0; i < 10000; i++) {
    FILE *f = fopen(path, "r");
    if (f == NULL)
      return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (p != NULL && p[1] == ' ' && p[2] == 'S')
      return 1;
    usleep(1000);
  }
  return 0;
}

/* The WEFT_STRESS_SCALE factor (default 1) applied to n, at least 1. */
static inline long stress_n(long n) {
  const char *s = getenv("WEFT_STRESS_SCALE");
  double f = s != NULL ? atof(s) : 1.0;
  long v = (long)((double)n * (f > 0 ? f : 1.0));
  return v > 0 ? v : 1;
}

#define BAIL(...)                                                            \
  do {                                                                       \
    printf("Bail out! ");                                                    \
    printf(__VA_ARGS__);                                                     \
    printf("\n");                                                            \
    exit(1);                                                                 \
  } while (0)

#endif
