/* bench-signal.c - signal delivery beside a raw signalfd (`make bench`).
 *
 *   raise -> handler through weft_signal_dispatch   vs   raise -> read of
 *   a signalfd (the signal blocked), the kernel's own way to hand a signal
 *   to ordinary code.
 *
 * Both loops raise a signal at the calling thread and wait for it to be
 * handled; they alternate, best of RUNS.  Nothing here asserts on time.
 *
 * Usage: bench-signal [-q]   (-q: fewer iterations, for a smoke run) */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "weft.h"

#define RUNS 7

static long rounds = 200000;
static volatile long handled;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void must(int ok, const char *what) {
  if (ok)
    return;
  fprintf(stderr, "bench-signal: %s failed: %s / %s\n", what, strerror(errno),
          weft_last_error_message());
  exit(1);
}

static int on_signal(void *arg, int signum) {
  (void)arg;
  (void)signum;
  handled++;
  return 0;
}

static double weft_round(void) {
  double t0 = now();
  for (long i = 0; i < rounds; i++) {
    int ran = 0;
    raise(SIGUSR1);
    weft_signal_dispatch(0, &ran);
    if (ran != 1)
      must(0, "dispatch ran no handler");
  }
  return (now() - t0) / (double)rounds;
}

static double raw_round(int sfd) {
  struct signalfd_siginfo si;
  double t0 = now();
  for (long i = 0; i < rounds; i++) {
    raise(SIGUSR2);
    must(read(sfd, &si, sizeof si) == (ssize_t)sizeof si, "signalfd read");
  }
  return (now() - t0) / (double)rounds;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-q") == 0)
    rounds /= 20;
  setvbuf(stdout, NULL, _IOLBF, 0);
  must(weft_signal_set_delivery(WEFT_SIGNAL_DISPATCH, 0) == 0, "delivery");
  must(weft_signal_set(SIGUSR1, WEFT_SIG_HANDLER, 0, on_signal, NULL) == 0,
       "signal_set");
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  must(sigprocmask(SIG_BLOCK, &set, NULL) == 0, "sigprocmask");
  int sfd = signalfd(-1, &set, SFD_CLOEXEC);
  must(sfd >= 0, "signalfd");

  double best_w = 1e9, best_r = 1e9;
  for (int r = 0; r < RUNS; r++) {
    double w = weft_round(), b = raw_round(sfd);
    best_w = w < best_w ? w : best_w;
    best_r = b < best_r ? b : best_r;
  }
  printf("\nweft %s signal benchmarks: best of %d runs of %ld, ratio = weft "
         "/ baseline\n",
         weft_version(), RUNS, rounds);
  printf("\n%-50s %12s %12s %7s %8s\n", "measure", "weft", "baseline", "ratio",
         "target");
  char w[32], b[32];
  snprintf(w, sizeof w, "%.2f us", best_w * 1e6);
  snprintf(b, sizeof b, "%.2f us", best_r * 1e6);
  printf("%-50s %12s %12s %6.2fx %8s\n",
         "raise -> handler via dispatch (vs signalfd read)", w, b,
         best_w / best_r, "<=1.5x");
  close(sfd);
  weft_signal_set(SIGUSR1, WEFT_SIG_DFL, 0, NULL, NULL);
  return 0;
}
