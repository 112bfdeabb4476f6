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

#define BAIL(...)                                                            \
  do {                                                                       \
    printf("Bail out! ");                                                    \
    printf(__VA_ARGS__);                                                     \
    printf("\n");                                                            \
    exit(1);                                                                 \
  } while (0)

#endif
