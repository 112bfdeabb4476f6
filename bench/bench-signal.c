/* bench-signal.c - signal delivery beside a raw signalfd (`make bench`).
 *
 *   raise -> handler through weft_signal_dispatch   vs   raise -> read of
 *   a signalfd (the signal blocked), the kernel's own way to hand a signal
 *   to ordinary code.  A third loop raises a signal with a plain sigaction
 *   handler: the signal frame and sigreturn that any handler costs, which
 *   a signalfd read does not, so weft / plain is weft's own share.
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

static void plain_handler(int signum) {
  (void)signum;
  handled++;
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

/* The floor: a plain sigaction handler, which pays the same signal frame
 * and sigreturn as weft's, and nothing of weft's. */
static double plain_round(void) {
  double t0 = now();
  for (long i = 0; i < rounds; i++)
    raise(SIGWINCH);
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

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = plain_handler;
  sigemptyset(&sa.sa_mask);
  must(sigaction(SIGWINCH, &sa, NULL) == 0, "sigaction");

  double best_w = 1e9, best_r = 1e9, best_p = 1e9;
  for (int r = 0; r < RUNS; r++) {
    double w = weft_round(), b = raw_round(sfd), p = plain_round();
    best_w = w < best_w ? w : best_w;
    best_r = b < best_r ? b : best_r;
    best_p = p < best_p ? p : best_p;
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
  snprintf(w, sizeof w, "%.2f us", best_p * 1e6);
  printf("%-50s %12s %12s %6.2fx %8s\n",
         "  the floor: a plain C handler (vs signalfd read)", w, b,
         best_p / best_r, "-");
  printf("%-50s %12.2f\n", "  weft's own share: weft / plain handler",
         best_w / best_p);
  close(sfd);
  signal(SIGWINCH, SIG_DFL);
  weft_signal_set(SIGUSR1, WEFT_SIG_DFL, 0, NULL, NULL);
  return 0;
}
