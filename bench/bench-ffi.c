/* bench-ffi.c - the cost of a call through the ctypes engine (`make bench`).
 *
 * For a few small C functions, ns per call of:
 *   direct       a C call through a volatile function pointer (the floor)
 *   raw ffi_call libffi's ffi_call with a cif prepared once (the baseline)
 *   weft fast    weft_ffi_call on a function that takes the fast path
 *   weft libffi  weft_ffi_call with WEFT_FFI_CALL_LIBFFI (ffi_call inside)
 * Each ratio is against raw ffi_call measured in the same run.  The four
 * loops alternate within a run and each figure is the best of RUNS runs,
 * on one CPU (the thread is pinned), so a noisy neighbour cannot inflate
 * it.  Nothing here asserts on time.
 *
 * Usage: bench-ffi [-q]   (-q: fewer iterations, for a smoke run) */
#include <ffi.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "weft.h"

#define RUNS 7

static long iters = 2000000;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void must(weft_status st, const char *what) {
  if (st == 0)
    return;
  fprintf(stderr, "bench-ffi: %s failed: %s: %s\n", what, weft_err_name(st),
          weft_last_error_message());
  exit(1);
}

static double min2(double a, double b) { return a < b ? a : b; }

/* ---- the functions called ----------------------------------------------- */

typedef struct {
  double a;
  int b;
} pair_di;

__attribute__((noinline)) static int inc(int x) {
  __asm__ volatile("" ::: "memory");
  return x + 1;
}

__attribute__((noinline)) static size_t len(const char *s) {
  size_t n = 0;
  while (s[n])
    n++;
  return n;
}

__attribute__((noinline)) static double mix(int a, double b, long c, float d) {
  __asm__ volatile("" ::: "memory");
  return a + b + (double)c + d;
}

__attribute__((noinline)) static double sum_di(pair_di p) {
  __asm__ volatile("" ::: "memory");
  return p.a + p.b;
}

static int (*volatile inc_p)(int) = inc;
static size_t (*volatile len_p)(const char *) = len;
static double (*volatile mix_p)(int, double, long, float) = mix;
static double (*volatile sum_di_p)(pair_di) = sum_di;

/* ---- one signature ------------------------------------------------------ */

/* A signature under test: its loops, and what they take. */
typedef struct {
  const char *name;
  void (*fn)(void);
  ffi_cif cif;
  weft_handle fast, slow;
  void **args;
  double (*direct)(void);
  int fast_expected;
} sig;

static volatile long sink;
static const char *text = "a string of 27 characters..";
static int ia = 7;
static double da = 0.5;
static long la = 3;
static float fa = 0.25f;
static pair_di pa = {1.5, 2};

static double direct_inc(void) {
  long acc = 0;
  double t0 = now();
  for (long i = 0; i < iters; i++)
    acc += inc_p((int)i);
  double dt = now() - t0;
  sink = acc;
  return dt;
}

static double direct_len(void) {
  long acc = 0;
  double t0 = now();
  for (long i = 0; i < iters; i++)
    acc += (long)len_p(text);
  double dt = now() - t0;
  sink = acc;
  return dt;
}

static double direct_mix(void) {
  double acc = 0;
  double t0 = now();
  for (long i = 0; i < iters; i++)
    acc += mix_p(ia, da, la, fa);
  double dt = now() - t0;
  sink = (long)acc;
  return dt;
}

static double direct_sum_di(void) {
  double acc = 0;
  double t0 = now();
  for (long i = 0; i < iters; i++)
    acc += sum_di_p(pa);
  double dt = now() - t0;
  sink = (long)acc;
  return dt;
}

static double raw_loop(sig *s) {
  union {
    ffi_arg i;
    double d;
    char bytes[16];
  } r;
  double t0 = now();
  for (long i = 0; i < iters; i++)
    ffi_call(&s->cif, s->fn, &r, s->args);
  double dt = now() - t0;
  sink = (long)r.i;
  return dt;
}

static double weft_loop(weft_handle f, void **args) {
  char r[16];
  double t0 = now();
  for (long i = 0; i < iters; i++)
    weft_ffi_call(f, r, args);
  double dt = now() - t0;
  sink = r[0];
  return dt;
}

static void row(const char *measure, double w, double b, const char *target) {
  char ws[32], bs[32];
  snprintf(ws, sizeof ws, "%.1f ns", w);
  snprintf(bs, sizeof bs, "%.1f ns", b);
  printf("%-50s %12s %12s %6.2fx %8s\n", measure, ws, bs, w / b, target);
}

static void bench(sig *s, ffi_type *rt, int n, ffi_type **at, weft_handle wrt,
                  const weft_handle *wat) {
  if (ffi_prep_cif(&s->cif, FFI_DEFAULT_ABI, (unsigned)n, rt, at) != FFI_OK) {
    fprintf(stderr, "bench-ffi: ffi_prep_cif %s failed\n", s->name);
    exit(1);
  }
  must(weft_ffi_function_new((void *)s->fn, wrt, wat, (size_t)n, 0, 0, 0,
                             &s->fast),
       "function_new");
  must(weft_ffi_function_new((void *)s->fn, wrt, wat, (size_t)n, 0, 0,
                             WEFT_FFI_CALL_LIBFFI, &s->slow),
       "function_new libffi");
  int flags = 0, abi = 0;
  must(weft_ffi_function_flags(s->fast, &flags, &abi), "function_flags");
  int fast = (flags & WEFT_FFI_CALL_FAST) != 0;
  /* One checked call each way, so the loops measure working calls. */
  char r1[16], r2[16];
  memset(r1, 0, sizeof r1);
  memset(r2, 0, sizeof r2);
  must(weft_ffi_call(s->fast, r1, s->args), "call");
  must(weft_ffi_call(s->slow, r2, s->args), "call libffi");
  if (memcmp(r1, r2, sizeof r1) != 0) {
    fprintf(stderr, "bench-ffi: %s: the two paths disagree\n", s->name);
    exit(1);
  }

  double d = 1e30, raw = 1e30, w = 1e30, wl = 1e30;
  for (int r = 0; r < RUNS; r++) {
    d = min2(d, s->direct());
    raw = min2(raw, raw_loop(s));
    w = min2(w, weft_loop(s->fast, s->args));
    wl = min2(wl, weft_loop(s->slow, s->args));
  }
  d *= 1e9 / (double)iters;
  raw *= 1e9 / (double)iters;
  w *= 1e9 / (double)iters;
  wl *= 1e9 / (double)iters;
  char m[96];
  printf("%s\n", s->name);
  snprintf(m, sizeof m, "  weft %s path (vs raw ffi_call)",
           fast ? "fast" : "default, libffi");
  row(m, w, raw, fast ? "<=0.3x" : "<=1.1x");
  row("  weft, WEFT_FFI_CALL_LIBFFI (vs raw ffi_call)", wl, raw, "<=1.1x");
  row("  direct C call via a pointer (vs raw ffi_call)", d, raw, "-");
  if (fast != s->fast_expected)
    printf("  NOTE: the fast path was %sexpected here\n",
           s->fast_expected ? "" : "not ");
  weft_close(s->fast);
  weft_close(s->slow);
}

static weft_handle named(const char *name) {
  weft_handle h = 0;
  must(weft_ffi_type_named(name, &h), name);
  return h;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-q") == 0)
    iters /= 20;
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* One CPU: no migration between the loops compared. */
  int cpu = sched_getcpu();
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu >= 0 ? cpu : 0, &set);
  int pinned = sched_setaffinity(0, sizeof set, &set) == 0;

  printf("\nweft %s ffi call benchmarks: best of %d runs of %ld calls%s, "
         "ratio = weft / raw ffi_call\n",
         weft_version(), RUNS, iters, pinned ? ", pinned to one CPU" : "");
  printf("\n%-50s %12s %12s %7s %8s\n", "measure", "weft", "baseline", "ratio",
         "target");

  weft_handle ti = named("int"), tz = named("char*"), td = named("double"),
              tl = named("long"), tf = named("float"), tsz = named("size_t");

  void *a_inc[] = {&ia};
  sig s_inc = {.name = "int f(int)",
               .fn = (void (*)(void))inc,
               .args = a_inc,
               .direct = direct_inc,
               .fast_expected = 1};
  ffi_type *at_inc[] = {&ffi_type_sint};
  bench(&s_inc, &ffi_type_sint, 1, at_inc, ti, &ti);

  void *a_len[] = {&text};
  sig s_len = {.name = "size_t f(const char *) (strlen-like)",
               .fn = (void (*)(void))len,
               .args = a_len,
               .direct = direct_len,
               .fast_expected = 1};
  ffi_type *at_len[] = {&ffi_type_pointer};
  bench(&s_len, &ffi_type_uint64, 1, at_len, tsz, &tz);

  void *a_mix[] = {&ia, &da, &la, &fa};
  sig s_mix = {.name = "double f(int, double, long, float)",
               .fn = (void (*)(void))mix,
               .args = a_mix,
               .direct = direct_mix,
               .fast_expected = 1};
  ffi_type *at_mix[] = {&ffi_type_sint, &ffi_type_double, &ffi_type_slong,
                        &ffi_type_float};
  weft_handle wt_mix[] = {ti, td, tl, tf};
  bench(&s_mix, &ffi_type_double, 4, at_mix, td, wt_mix);

  /* A struct by value: never the fast path. */
  ffi_type *di_elems[] = {&ffi_type_double, &ffi_type_sint, NULL};
  ffi_type di_type = {0, 0, FFI_TYPE_STRUCT, di_elems};
  ffi_type *at_di[] = {&di_type};
  weft_handle st = 0;
  must(weft_ffi_struct_new(0, 0, 0, &st), "struct_new");
  must(weft_ffi_struct_add(st, "a", td, -1), "struct_add");
  must(weft_ffi_struct_add(st, "b", ti, -1), "struct_add");
  must(weft_ffi_struct_finish(st), "struct_finish");
  void *a_di[] = {&pa};
  sig s_di = {.name = "double f(struct {double; int;})",
              .fn = (void (*)(void))sum_di,
              .args = a_di,
              .direct = direct_sum_di,
              .fast_expected = 0};
  bench(&s_di, &ffi_type_double, 1, at_di, td, &st);
  weft_close(st);
  return 0;
}
