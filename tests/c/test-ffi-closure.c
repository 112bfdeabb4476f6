/* test-ffi-closure.c - closures: one of every scalar type as argument and
 * result, structs by value in and out, a callback of twenty arguments of
 * every type (many on the stack), called from C directly, through
 * qsort-style functions of libfftest, from other threads and through
 * weft_ffi_call; closing (while a call is inside the handler too), many
 * closures at once, the late-call check of WEFT_FFI_DEBUG=1 (in a child
 * process, whose abort message is read through a pipe), and bad input. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h" /* WEFT_DEBUG: --enable-debug */
#include "ffi-util.h"

/* A signature only (address NULL). */
static weft_handle sig(int flags, weft_handle ret, int n, ...) {
  weft_handle args[32], h = 0;
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++)
    args[i] = va_arg(ap, weft_handle);
  va_end(ap);
  weft_status st =
      weft_ffi_function_new(NULL, ret, args, (size_t)n, 0, 0, flags, &h);
  if (st != 0)
    BAIL("signature: %s: %s", weft_err_name(st), weft_last_error_message());
  return h;
}

/* A closure of signature s (closed here) and its address. */
static weft_handle closure(weft_handle s, weft_ffi_handler_fn h, void *arg,
                           void **addr) {
  weft_handle c = 0;
  weft_status st = weft_ffi_closure_new(s, h, arg, &c);
  if (st != 0)
    BAIL("closure_new: %s: %s", weft_err_name(st), weft_last_error_message());
  weft_close(s);
  if (weft_ffi_closure_address(c, addr) != 0 || *addr == NULL)
    BAIL("closure_address: %s", weft_last_error_message());
  return c;
}

/* What a handler saw. */
struct seen {
  _Atomic long calls;
  _Atomic int dirty_ret; /* ret was not zeroed on entry */
};

static void check_ret_zeroed(struct seen *s, const void *ret, size_t n) {
  const unsigned char *p = ret;
  for (size_t i = 0; i < n; i++)
    if (p[i] != 0)
      s->dirty_ret = 1;
}

/* ---- scalars ------------------------------------------------------------- */

static const uint64_t edges[] = {0,
                                 1,
                                 UINT64_MAX,
                                 0x7f,
                                 0x80,
                                 0xff,
                                 0x7fff,
                                 0x8000,
                                 0xffff,
                                 0x7fffffff,
                                 0x80000000,
                                 0xffffffff,
                                 0x80000000000000,
                                 0x8000000000000000,
                                 0x7fffffffffffffff,
                                 0x0123456789abcdef};
#define NEDGES (sizeof edges / sizeof edges[0])

/* For each scalar: h_id_C returns its argument, h_add_C what ft_add_C
 * computes (through the library, directly). */
#define H_DEF(C, T)                                                            \
  static void h_id_##C(void *arg, void *ret, void **args) {                    \
    T x;                                                                       \
    check_ret_zeroed(arg, ret, sizeof(T) < 8 ? 8 : sizeof(T));                 \
    ((struct seen *)arg)->calls++;                                             \
    memcpy(&x, args[0], sizeof x);                                             \
    memcpy(ret, &x, sizeof x);                                                 \
  }                                                                            \
  static __typeof__(&ft_add_##C) add_##C;                                      \
  static void h_add_##C(void *arg, void *ret, void **args) {                   \
    T a, b, r;                                                                 \
    ((struct seen *)arg)->calls++;                                             \
    memcpy(&a, args[0], sizeof a);                                             \
    memcpy(&b, args[1], sizeof b);                                             \
    r = add_##C(a, b);                                                         \
    memcpy(ret, &r, sizeof r);                                                 \
  }
FT_INT_SCALARS(H_DEF)
FT_FLOAT_SCALARS(H_DEF)

#define T_INT(C, T)                                                            \
  do {                                                                         \
    struct seen s1 = {0, 0}, s2 = {0, 0};                                      \
    void *p1 = NULL, *p2 = NULL;                                               \
    add_##C = D(ft_add_##C);                                                   \
    weft_handle c1 = closure(sig(0, ty(#T), 1, ty(#T)), h_id_##C, &s1, &p1);   \
    weft_handle c2 =                                                           \
        closure(sig(0, ty(#T), 2, ty(#T), ty(#T)), h_add_##C, &s2, &p2);       \
    int good = 1;                                                              \
    for (size_t k = 0; k < NEDGES; k++) {                                      \
      T v = (T)edges[k], w = (T)edges[(k + 5) % NEDGES];                       \
      T r1 = D(ft_call_##C)((T(*)(T))p1, v);                                   \
      T r2 = D(ft_call2_##C)((T(*)(T, T))p2, v, w);                            \
      if (good && (r1 != v || r2 != add_##C(v, w)))                            \
        diag(#T " %llx: id %llx, add %llx (want %llx)", (long long)v,          \
             (long long)r1, (long long)r2, (long long)add_##C(v, w));          \
      good = good && r1 == v && r2 == add_##C(v, w);                           \
    }                                                                          \
    ok(good &&s1.calls == (long)NEDGES && s2.calls == (long)NEDGES,            \
       #T ": a closure of (" #T ") and of (" #T ", " #T ") called from C");    \
    ok(!s1.dirty_ret, #T ": ret is zeroed on entry");                          \
    weft_close(c1);                                                            \
    weft_close(c2);                                                            \
  } while (0);

static const long double fedges[] = {0.0L,   -0.0L, 1.0L,    -1.5L,  0.1L,
                                     1e-40L, 3e38L, -1e300L, 1e-320L};
#define NFEDGES (sizeof fedges / sizeof fedges[0])

#define T_FLOAT(C, T)                                                          \
  do {                                                                         \
    struct seen s1 = {0, 0}, s2 = {0, 0};                                      \
    void *p1 = NULL, *p2 = NULL;                                               \
    add_##C = D(ft_add_##C);                                                   \
    weft_handle c1 = closure(sig(0, ty(#T), 1, ty(#T)), h_id_##C, &s1, &p1);   \
    weft_handle c2 =                                                           \
        closure(sig(0, ty(#T), 2, ty(#T), ty(#T)), h_add_##C, &s2, &p2);       \
    int good = 1;                                                              \
    for (size_t k = 0; k < NFEDGES; k++) {                                     \
      T v = (T)fedges[k], w = (T)fedges[(k + 4) % NFEDGES];                    \
      T r1 = D(ft_call_##C)((T(*)(T))p1, v);                                   \
      T r2 = D(ft_call2_##C)((T(*)(T, T))p2, v, w);                            \
      if (good && (r1 != v || r2 != v + w))                                    \
        diag(#T " %Lg: id %Lg, add %Lg", (long double)v, (long double)r1,      \
             (long double)r2);                                                 \
      good = good && r1 == v && r2 == v + w;                                   \
    }                                                                          \
    ok(good &&s1.calls == (long)NFEDGES && s2.calls == (long)NFEDGES,          \
       #T ": closures of one and two arguments called from C");                \
    weft_close(c1);                                                            \
    weft_close(c2);                                                            \
  } while (0);

static void h_ptr(void *arg, void *ret, void **args) {
  void *p;
  memcpy(&p, args[0], sizeof p);
  p = (char *)p + 1;
  memcpy(ret, &p, sizeof p);
}

static void test_scalars(void) {
  FT_INT_SCALARS(T_INT)
  FT_FLOAT_SCALARS(T_FLOAT)
  void *pa = NULL;
  weft_handle c =
      closure(sig(0, ty("void*"), 1, ty("void*")), h_ptr, NULL, &pa);
  char buf[4];
  ok(D(ft_call_P)((void *(*)(void *))pa, buf) == buf + 1,
     "void*: a closure of (void*)");
  weft_close(c);
}

/* ---- through weft_ffi_call ----------------------------------------------- */

static void h_mix(void *arg, void *ret, void **args) {
  double a, r;
  int b;
  float c;
  long d;
  memcpy(&a, args[0], sizeof a);
  memcpy(&b, args[1], sizeof b);
  memcpy(&c, args[2], sizeof c);
  memcpy(&d, args[3], sizeof d);
  r = a + 2 * b + 3 * c + 4 * (double)d;
  memcpy(ret, &r, sizeof r);
}

static void test_closure_function(void) {
  struct seen s = {0, 0};
  void *p = NULL;
  weft_handle i = ty("int");
  add_i = D(ft_add_i);
  weft_handle c = closure(sig(0, i, 2, i, i), h_add_i, &s, &p);
  int kind = 0;
  ok(weft_handle_kind(c, &kind) == 0 && kind == WEFT_KIND_FFI_CLOSURE,
     "handle kind WEFT_KIND_FFI_CLOSURE");
  weft_handle f = 0, fl = 0;
  is(weft_ffi_closure_function(c, &f), 0, "closure_function");
  void *fa = NULL;
  ok(weft_ffi_function_address(f, &fa) == 0 && fa == p,
     "its address is the closure's");
  int a = 40, b = 2, r = 0;
  void *args[] = {&a, &b};
  ok(weft_ffi_call(f, &r, args) == 0 && r == 42,
     "the closure called through weft_ffi_call: %d", r);
  /* The same address with the libffi path forced. */
  weft_handle ab[] = {i, i};
  is(weft_ffi_function_new(p, i, ab, 2, 0, 0, WEFT_FFI_CALL_LIBFFI, &fl), 0,
     "a libffi-path function at the closure's address");
  r = 0;
  ok(weft_ffi_call(fl, &r, args) == 0 && r == 42, "called: %d", r);
  ok(s.calls == 2, "the handler ran twice");
  weft_close(fl);
  weft_close(f);
  weft_close(c);

  /* Every scalar through a signature that takes the fast path: a closure
   * of (double, int, float, long) -> double. */
  weft_handle d = ty("double"), fh = ty("float"), l = ty("long");
  c = closure(sig(0, d, 4, d, i, fh, l), h_mix, NULL, &p);
  weft_ffi_closure_function(c, &f);
  ok(f > 0 && (fflags(f) & WEFT_FFI_CALL_FAST),
     "closure_function of (double, int, float, long): the fast path");
  double x = 0.5, rd = 0;
  float z = -2.0f;
  long w = 1L << 40;
  void *a4[] = {&x, &a, &z, &w};
  ok(weft_ffi_call(f, &rd, a4) == 0 && rd == 0.5 + 80 - 6 + 4.0 * (1L << 40),
     "called through weft_ffi_call: %g", rd);
  ok(((double (*)(double, int, float, long))p)(x, a, z, w) == rd,
     "called from C: the same");
  weft_close(f);
  weft_close(c);
}

/* ---- qsort-style callbacks ----------------------------------------------- */

static void h_cmp_int(void *arg, void *ret, void **args) {
  const int *a, *b;
  memcpy(&a, args[0], sizeof a);
  memcpy(&b, args[1], sizeof b);
  ((struct seen *)arg)->calls++;
  int r = *a < *b ? -1 : *a > *b;
  memcpy(ret, &r, sizeof r);
}

/* Structs by their b, then a descending. */
static void h_cmp_sdi(void *arg, void *ret, void **args) {
  const ft_sdi *a, *b;
  memcpy(&a, args[0], sizeof a);
  memcpy(&b, args[1], sizeof b);
  int r =
      a->b != b->b ? (a->b < b->b ? -1 : 1) : (a->a > b->a ? -1 : a->a < b->a);
  memcpy(ret, &r, sizeof r);
}

static void test_qsort(void) {
  struct seen s = {0, 0};
  void *p = NULL;
  weft_handle P = ty("void*");
  weft_handle c = closure(sig(0, ty("int"), 2, P, P), h_cmp_int, &s, &p);
  int v[200];
  unsigned seed = 12345;
  for (int k = 0; k < 200; k++) {
    seed = seed * 1103515245 + 12345;
    v[k] = (int)(seed >> 8) - (1 << 22);
  }
  D(ft_qsort)(v, 200, sizeof v[0], (ft_cmp_fn)p);
  int sorted = 1;
  for (int k = 1; k < 200; k++)
    sorted = sorted && v[k - 1] <= v[k];
  ok(sorted && s.calls > 200, "qsort of 200 ints through a closure (%ld calls)",
     (long)s.calls);
  int x = 3, y = 5;
  ok(D(ft_call_cmp)((ft_cmp_fn)p, &x, &y) == -1 &&
         D(ft_call_cmp)((ft_cmp_fn)p, &y, &x) == 1 &&
         D(ft_call_cmp)((ft_cmp_fn)p, &x, &x) == 0,
     "the comparator called once each way");
  weft_close(c);

  c = closure(sig(0, ty("int"), 2, P, P), h_cmp_sdi, NULL, &p);
  ft_sdi a[50];
  for (int k = 0; k < 50; k++) {
    a[k].a = k;
    a[k].b = (k * 7) % 5;
  }
  D(ft_qsort)(a, 50, sizeof a[0], (ft_cmp_fn)p);
  sorted = 1;
  for (int k = 1; k < 50; k++)
    sorted = sorted && (a[k - 1].b < a[k].b ||
                        (a[k - 1].b == a[k].b && a[k - 1].a > a[k].a));
  ok(sorted, "qsort of 50 structs through a closure");
  weft_close(c);
}

/* ---- every type at once --------------------------------------------------
 * h_many checks each of its 20 arguments against ft_many_values(k) for the
 * k its arg points to; returns 2k + 1, or -(1 + the first wrong one). */

static void h_many(void *arg, void *ret, void **args) {
  int k = *(int *)arg;
  bool a0;
  char a1;
  signed char a2;
  unsigned char a3;
  short a4;
  unsigned short a5;
  int a6;
  unsigned int a7;
  long a8;
  unsigned long a9;
  long long a10;
  unsigned long long a11;
  float a12;
  double a13;
  long double a14;
  void *a15;
  const char *a16;
  size_t a17;
  ft_sdi a18;
  ft_sfif a19;
  static __typeof__(&ft_many_values) values;
  if (values == NULL)
    values = D(ft_many_values);
  values(k, &a0, &a1, &a2, &a3, &a4, &a5, &a6, &a7, &a8, &a9, &a10, &a11, &a12,
         &a13, &a14, &a15, &a16, &a17, &a18, &a19);
  int bad = 0;
#define CHK(n, T)                                                              \
  if (!bad && *(T *)args[n] != a##n)                                           \
    bad = n + 1;
  CHK(0, bool)
  CHK(1, char)
  CHK(2, signed char)
  CHK(3, unsigned char)
  CHK(4, short)
  CHK(5, unsigned short)
  CHK(6, int)
  CHK(7, unsigned int)
  CHK(8, long)
  CHK(9, unsigned long)
  CHK(10, long long)
  CHK(11, unsigned long long)
  CHK(12, float)
  CHK(13, double)
  CHK(14, long double)
  CHK(15, void *)
  if (!bad && strcmp(*(const char **)args[16], a16) != 0)
    bad = 17;
  CHK(17, size_t)
  ft_sdi s18;
  ft_sfif s19;
  memcpy(&s18, args[18], sizeof s18);
  memcpy(&s19, args[19], sizeof s19);
  if (!bad && (s18.a != a18.a || s18.b != a18.b))
    bad = 19;
  if (!bad && (s19.a != a19.a || s19.b != a19.b || s19.c != a19.c))
    bad = 20;
#undef CHK
  double r = bad ? -bad : 2.0 * k + 1;
  memcpy(ret, &r, sizeof r);
}

static void test_many(void) {
  weft_handle sdi = ft_type("sdi"), sfif = ft_type("sfif");
  weft_handle s =
      sig(0, ty("double"), 20, ty("bool"), ty("char"), ty("signed char"),
          ty("unsigned char"), ty("short"), ty("unsigned short"), ty("int"),
          ty("unsigned int"), ty("long"), ty("unsigned long"), ty("long long"),
          ty("unsigned long long"), ty("float"), ty("double"),
          ty("long double"), ty("void*"), ty("char*"), ty("size_t"), sdi, sfif);
  int k = 0;
  void *p = NULL;
  weft_handle c = closure(s, h_many, &k, &p);
  int good = 1;
  for (k = 0; k < 4; k++) {
    double r = D(ft_call_many)((ft_many_fn)p, k);
    if (r != 2.0 * k + 1)
      diag("k=%d: %g (a negative value is the first wrong argument)", k, r);
    good = good && r == 2.0 * k + 1;
  }
  ok(good, "a closure of every scalar type and two structs (20 arguments)");
  weft_close(c);
  weft_close(sdi);
  weft_close(sfif);
}

/* The weighted sum of 17 arguments, doubles and longs alternating (the
 * last three doubles). */
static void h_stack(void *arg, void *ret, void **args) {
  double r = 0;
  for (int i = 0; i < 17; i++) {
    int is_long = i < 14 && (i & 1);
    double v = is_long ? (double)*(long *)args[i] : *(double *)args[i];
    r += (i + 1) * v;
  }
  memcpy(ret, &r, sizeof r);
}

static void test_stack(void) {
  weft_handle d = ty("double"), l = ty("long");
  weft_handle s =
      sig(0, d, 17, d, l, d, l, d, l, d, l, d, l, d, l, d, l, d, d, d);
  void *p = NULL;
  weft_handle c = closure(s, h_stack, NULL, &p);
  int good = 1;
  for (int k = 0; k < 3; k++) {
    double want = 0;
    double v[17] = {k + 0.5, k + 1, k + 1.5, k + 2,   k + 2.5, k + 3,
                    k + 3.5, k + 4, k + 4.5, k + 5,   k + 5.5, k + 6,
                    k + 6.5, k + 7, k + 7.5, k + 8.5, k + 9.5};
    for (int i = 0; i < 17; i++)
      want += (i + 1) * v[i];
    double r = D(ft_call_stack)((ft_stack_fn)p, k);
    if (r != want)
      diag("k=%d: %g, want %g", k, r, want);
    good = good && r == want;
  }
  ok(good, "a closure of 10 doubles and 7 longs (stack arguments of both "
           "kinds)");
  weft_close(c);
}

/* ---- structs by value ---------------------------------------------------- */

static void h_sdi(void *arg, void *ret, void **args) {
  ft_sdi x;
  int k;
  memcpy(&x, args[0], sizeof x);
  memcpy(&k, args[1], sizeof k);
  x.a *= k;
  x.b += k;
  memcpy(ret, &x, sizeof x);
}

static void h_s48(void *arg, void *ret, void **args) {
  ft_s48 x;
  memcpy(&x, args[0], sizeof x);
  x = ((__typeof__(&ft_bump_s48))arg)(x);
  memcpy(ret, &x, sizeof x);
}

static void h_s80(void *arg, void *ret, void **args) {
  ft_s80 x;
  memcpy(&x, args[0], sizeof x);
  x = ((__typeof__(&ft_bump_s80))arg)(x);
  memcpy(ret, &x, sizeof x);
}

static void h_sfif_sd4(void *arg, void *ret, void **args) {
  ft_sfif a;
  ft_sd4 b;
  memcpy(&a, args[0], sizeof a);
  memcpy(&b, args[1], sizeof b);
  double r = a.a + 2 * a.b + 3 * a.c + 4 * b.a[0] + 5 * b.a[1] + 6 * b.a[2] +
             7 * b.a[3];
  memcpy(ret, &r, sizeof r);
}

static void h_void(void *arg, void *ret, void **args) {
  int *p;
  *(int *)arg = ret == NULL; /* void: ret is NULL */
  memcpy(&p, args[0], sizeof p);
  *p = 99;
}

static void h_sld(void *arg, void *ret, void **args) {
  ft_sld x;
  int k;
  memcpy(&x, args[0], sizeof x);
  memcpy(&k, args[1], sizeof k);
  x.a = x.a * k + 0.25L;
  memcpy(ret, &x, sizeof x);
}

/* The union's float when tag is 0, else its double. */
static void h_ufd_get(void *arg, void *ret, void **args) {
  int tag;
  ft_ufd u;
  memcpy(&tag, args[0], sizeof tag);
  memcpy(&u, args[1], sizeof u);
  double r = tag == 0 ? u.f : u.d;
  memcpy(ret, &r, sizeof r);
}

static void h_ufd_make(void *arg, void *ret, void **args) {
  int tag;
  double v;
  ft_ufd u;
  memcpy(&tag, args[0], sizeof tag);
  memcpy(&v, args[1], sizeof v);
  memset(&u, 0, sizeof u);
  if (tag == 0)
    u.f = (float)v;
  else
    u.d = v;
  memcpy(ret, &u, sizeof u);
}

static void test_odd_registers(void) {
  weft_handle sld = ft_type("sld"), ufd = ft_type("ufd"), i = ty("int"),
              d = ty("double");
  void *p = NULL;
  weft_handle c = closure(sig(0, sld, 2, sld, i), h_sld, NULL, &p);
  ft_sld x = {1.0L / 3};
  ft_sld r = D(ft_call_sld)((ft_sld(*)(ft_sld, int))p, x, 3);
  ok(r.a == x.a * 3 + 0.25L, "struct {long double} in and out (x87): %Lg", r.a);
  weft_close(c);
  c = closure(sig(0, d, 2, i, ufd), h_ufd_get, NULL, &p);
  weft_handle c2 = 0;
  void *p2 = NULL;
  c2 = closure(sig(0, ufd, 2, i, d), h_ufd_make, NULL, &p2);
  for (int tag = 0; tag < 2; tag++) {
    ft_ufd u = D(ft_ufd_make)(tag, tag ? 1e100 : 2.5);
    double got = D(ft_call_ufd)((double (*)(int, ft_ufd))p, tag, u);
    ok(got == (tag ? 1e100 : 2.5), "union {float; double} in (tag %d): %g", tag,
       got);
    ft_ufd m = D(ft_call_ufd_make)((ft_ufd(*)(int, double))p2, tag,
                                   tag ? -7e200 : 0.5);
    ok(D(ft_ufd_get)(tag, m) == (tag ? -7e200 : 0.5),
       "union {float; double} out (tag %d)", tag);
  }
  weft_close(c);
  weft_close(c2);
  weft_close(sld);
  weft_close(ufd);
}

static void test_structs(void) {
  weft_handle sdi = ft_type("sdi"), s48 = ft_type("s48"),
              sfif = ft_type("sfif"), sd4 = ft_type("sd4");
  void *p = NULL;
  weft_handle c = closure(sig(0, sdi, 2, sdi, ty("int")), h_sdi, NULL, &p);
  ft_sdi x = {1.5, 10};
  ft_sdi r = D(ft_call_sdi)((ft_sdi(*)(ft_sdi, int))p, x, 3);
  ok(r.a == 4.5 && r.b == 13, "struct {double; int} in and out: {%g, %d}", r.a,
     r.b);
  weft_close(c);

  c = closure(sig(0, s48, 1, s48), h_s48, (void *)D(ft_bump_s48), &p);
  ft_s48 y = D(ft_make_s48)(2);
  ft_s48 ry = D(ft_call_s48)((ft_s48(*)(ft_s48))p, y);
  ok(D(ft_sum_s48)(ry) == D(ft_sum_s48)(D(ft_bump_s48)(y)),
     "a 48-byte struct in and out (memory class)");
  weft_close(c);

  weft_handle s80 = ft_type("s80");
  c = closure(sig(0, s80, 1, s80), h_s80, (void *)D(ft_bump_s80), &p);
  ft_s80 z = D(ft_make_s80)(4);
  ft_s80 rz = D(ft_call_s80)((ft_s80(*)(ft_s80))p, z);
  ok(D(ft_sum_s80)(rz) == D(ft_sum_s80)(D(ft_bump_s80)(z)),
     "an 80-byte struct in and out (the caller's buffer)");
  weft_close(c);
  weft_close(s80);

  c = closure(sig(0, ty("double"), 2, sfif, sd4), h_sfif_sd4, NULL, &p);
  ft_sfif a = {0.5f, -3, 2.25f};
  ft_sd4 b = {{1, 2, 3, 4.5}};
  double rd = D(ft_call_sfif_sd4)((double (*)(ft_sfif, ft_sd4))p, a, b);
  ok(rd == 0.5 - 6 + 6.75 + 4 + 10 + 18 + 31.5,
     "struct {float; int; float} and struct {double[4]}: %g", rd);
  weft_close(c);

  int ret_null = 0, cell = 0;
  c = closure(sig(0, 0, 1, ty("void*")), h_void, &ret_null, &p);
  D(ft_call_void)((void (*)(int *))p, &cell);
  ok(cell == 99 && ret_null, "a void closure (ret NULL)");
  weft_close(c);
  weft_close(sdi);
  weft_close(s48);
  weft_close(sfif);
  weft_close(sd4);
}

/* ---- other threads ------------------------------------------------------- */

struct tseen {
  _Atomic long calls;
  _Atomic unsigned long last; /* a pthread_t (glibc: unsigned long) */
};

static void h_twice(void *arg, void *ret, void **args) {
  struct tseen *s = arg;
  int x;
  memcpy(&x, args[0], sizeof x);
  s->calls++;
  s->last = (unsigned long)pthread_self();
  x *= 2;
  memcpy(ret, &x, sizeof x);
}

static void test_threads(void) {
  struct tseen s;
  memset(&s, 0, sizeof s);
  void *p = NULL;
  weft_handle i = ty("int");
  weft_handle c = closure(sig(0, i, 1, i), h_twice, &s, &p);
  unsigned long tid = 0;
  int r = D(ft_call_in_thread)((int (*)(int))p, 21, &tid);
  ok(r == 42 && s.calls == 1, "called from a thread C started: %d", r);
  ok(s.last == tid && !pthread_equal((pthread_t)s.last, pthread_self()),
     "the handler ran on that thread");
  s.calls = 0;
  long sum = D(ft_call_in_threads)((int (*)(int))p, 1, 5000, 8);
  /* each thread: sum over i < n of 2 (x + i) */
  long want = 8L * 2 * (5000L * 1 + 5000L * 4999 / 2);
  ok(sum == want && s.calls == 40000,
     "8 threads at once, 5000 calls each: sum %ld (want %ld), %ld calls", sum,
     want, (long)s.calls);
  weft_close(c);
}

/* Close while a call is inside the handler: the call completes. */
static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int inside, released;

static void h_block(void *arg, void *ret, void **args) {
  int x;
  memcpy(&x, args[0], sizeof x);
  pthread_mutex_lock(&gate_mu);
  inside = 1;
  pthread_cond_broadcast(&gate_cv);
  while (!released)
    pthread_cond_wait(&gate_cv, &gate_mu);
  pthread_mutex_unlock(&gate_mu);
  x += 1;
  memcpy(ret, &x, sizeof x);
}

static void *block_caller(void *p) {
  int (*f)(int) = (int (*)(int))p;
  return (void *)(intptr_t)f(6);
}

static weft_status close_status = 1;
static _Atomic int close_done;

static void *closer(void *arg) {
  close_status = weft_close(*(weft_handle *)arg);
  close_done = 1;
  return NULL;
}

static void test_close_while_inside(void) {
  void *p = NULL;
  weft_handle i = ty("int");
  weft_handle c = closure(sig(0, i, 1, i), h_block, NULL, &p);
  pthread_t caller, cl;
  pthread_create(&caller, NULL, block_caller, p);
  pthread_mutex_lock(&gate_mu);
  while (!inside)
    pthread_cond_wait(&gate_cv, &gate_mu);
  pthread_mutex_unlock(&gate_mu);
  pthread_create(&cl, NULL, closer, &c);
  usleep(50000);
  void *addr = NULL;
  /* Whether close waits for the handler or defers the release, the
   * handle is gone for new callers once it has returned. */
  if (close_done)
    is(weft_ffi_closure_address(c, &addr), WEFT_EBADHANDLE,
       "closed while a call is inside: the handle is gone");
  else
    ok(1, "weft_close waits for the call inside the handler");
  pthread_mutex_lock(&gate_mu);
  released = 1;
  pthread_cond_broadcast(&gate_cv);
  pthread_mutex_unlock(&gate_mu);
  void *res = NULL;
  pthread_join(caller, &res);
  pthread_join(cl, NULL);
  is((int)(intptr_t)res, 7, "the call inside the handler completed");
  is(close_status, 0, "the close succeeded");
}

/* ---- many closures ------------------------------------------------------- */

static void h_const(void *arg, void *ret, void **args) {
  int v = (int)(intptr_t)arg + *(int *)args[0];
  memcpy(ret, &v, sizeof v);
}

static void test_many_closures(void) {
  enum { N = 1000 };
  static weft_handle cs[N];
  static void *ps[N];
  weft_handle i = ty("int");
  weft_handle s = sig(0, i, 1, i);
  int good = 1;
  for (int k = 0; k < N; k++) {
    good = good &&
           weft_ffi_closure_new(s, h_const, (void *)(intptr_t)k, &cs[k]) == 0;
    good = good && weft_ffi_closure_address(cs[k], &ps[k]) == 0;
  }
  ok(good, "%d closures of one signature", N);
  for (int k = 0; k < N; k++)
    good = good && D(ft_call_i)((int (*)(int))ps[k], 1000000) == 1000000 + k;
  ok(good, "each calls its own handler with its own arg");
  int distinct = 1;
  for (int k = 1; k < N; k++)
    distinct = distinct && ps[k] != ps[k - 1];
  ok(distinct, "each has its own address");
  for (int k = 0; k < N; k += 2)
    good = good && weft_close(cs[k]) == 0;
  for (int k = 1; k < N; k += 2)
    good = good && D(ft_call_i)((int (*)(int))ps[k], 5) == 5 + k;
  ok(good, "closing half leaves the others working");
  for (int k = 1; k < N; k += 2)
    weft_close(cs[k]);
  /* The signature stays usable for new closures. */
  weft_handle c = 0;
  void *p = NULL;
  ok(weft_ffi_closure_new(s, h_const, (void *)(intptr_t)7, &c) == 0 &&
         weft_ffi_closure_address(c, &p) == 0 &&
         D(ft_call_i)((int (*)(int))p, 1) == 8,
     "a new closure after all that");
  weft_close(c);
  weft_close(s);
}

/* ---- close, late calls --------------------------------------------------- */

static void h_nop(void *arg, void *ret, void **args) {
  int v = 5;
  memcpy(ret, &v, sizeof v);
}

/* The child of test_late_call: make a closure, close it, call it. */
static int late_call_child(void) {
  weft_handle i = ty("int"), c = 0;
  void *p = NULL;
  c = closure(sig(0, i, 1, i), h_nop, NULL, &p);
  printf("%lld\n", (long long)c);
  fflush(stdout);
  weft_close(c);
  D(ft_call_i)((int (*)(int))p, 1);
  return 0; /* not reached: the call aborts */
}

static void test_late_call(void) {
  int out[2], err[2];
  if (pipe(out) != 0 || pipe(err) != 0)
    BAIL("pipe");
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    dup2(err[1], 2);
    close(out[0]);
    close(err[0]);
    setenv("WEFT_FFI_DEBUG", "1", 1);
    char *argv[] = {"test-ffi-closure", "late-call", NULL};
    execv("/proc/self/exe", argv);
    _exit(127);
  }
  close(out[1]);
  close(err[1]);
  char obuf[64] = "", ebuf[4096] = "";
  size_t on = 0, en = 0;
  ssize_t n;
  while ((n = read(out[0], obuf + on, sizeof obuf - 1 - on)) > 0)
    on += (size_t)n;
  while ((n = read(err[0], ebuf + en, sizeof ebuf - 1 - en)) > 0)
    en += (size_t)n;
  obuf[on] = ebuf[en] = '\0';
  close(out[0]);
  close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
     "WEFT_FFI_DEBUG=1: a call after the close aborts (status 0x%x)", status);
  char want[128];
  long long h = atoll(obuf);
  snprintf(want, sizeof want, "weft: ffi closure %lld called after weft_close",
           h);
  ok(h > 0 && strstr(ebuf, want) != NULL, "with the message \"%s\"", want);
  if (strstr(ebuf, want) == NULL)
    diag("stderr: %s", ebuf);
}

/* A handler that closes its own closure, then calls it again while the
 * first call is still inside (so the code is surely still mapped). */
struct selfclose {
  weft_handle c;
  void *addr;
  int depth, inner, close_status;
};

static void h_selfclose(void *arg, void *ret, void **args) {
  struct selfclose *s = arg;
  int v = 100;
  if (s->depth++ == 0) {
    s->close_status = weft_close(s->c);
    s->inner = ((int (*)(int))s->addr)(1);
  }
  memcpy(ret, &v, sizeof v);
}

static void test_close(void) {
  void *p = NULL;
  weft_handle i = ty("int");
  weft_handle c = closure(sig(0, i, 1, i), h_nop, NULL, &p), f = 0;
  is(weft_close(c), 0, "close");
  is(weft_ffi_closure_address(c, &p), WEFT_EBADHANDLE,
     "closure_address after close");
  is(weft_ffi_closure_function(c, &f), WEFT_EBADHANDLE,
     "closure_function after close");
  is(weft_close(c), WEFT_EBADHANDLE, "close twice");

  /* Without WEFT_FFI_DEBUG, a late call that finds the closure mapped
   * returns zeros and does not run the handler. */
#ifndef WEFT_DEBUG
  unsetenv("WEFT_FFI_DEBUG"); /* read when a closure is made */
  struct selfclose sc = {0, NULL, 0, -1, 1};
  sc.c = closure(sig(0, i, 1, i), h_selfclose, &sc, &sc.addr);
  int outer = D(ft_call_i)((int (*)(int))sc.addr, 0);
  ok(outer == 100 && sc.close_status == 0,
     "a handler closes its own closure: its call completes (%d)", outer);
  ok(sc.inner == 0 && sc.depth == 1,
     "a call after the close returns 0 without the handler (got %d, "
     "handler ran %d times)",
     sc.inner, sc.depth);
#endif

  /* The function from closure_function outlives nothing: closing it
   * leaves the closure alone. */
  c = closure(sig(0, i, 1, i), h_nop, NULL, &p);
  weft_ffi_closure_function(c, &f);
  weft_close(f);
  ok(D(ft_call_i)((int (*)(int))p, 0) == 5,
     "closing the closure's function leaves the closure working");
  weft_close(c);
}

/* ---- bad input ----------------------------------------------------------- */

static void test_bad_input(void) {
  weft_handle i = ty("int"), c = 0;
  weft_handle s = sig(0, i, 1, i);
  void *p = NULL;
  is(weft_ffi_closure_new(s, NULL, NULL, &c), WEFT_EVALUE,
     "a NULL handler: WEFT_EVALUE");
  is(weft_ffi_closure_new(s, h_nop, NULL, NULL), WEFT_EVALUE,
     "out NULL: WEFT_EVALUE");
  is(weft_ffi_closure_new(0, h_nop, NULL, &c), WEFT_EBADHANDLE,
     "signature 0: WEFT_EBADHANDLE");
  is(weft_ffi_closure_new(i, h_nop, NULL, &c), WEFT_EBADHANDLE,
     "a type as signature: WEFT_EBADHANDLE");
  weft_handle args[] = {ty("char*"), ty("int")}, v = 0;
  weft_ffi_function_new(NULL, i, args, 2, 1, 0, WEFT_FFI_CALL_VARIADIC, &v);
  is(weft_ffi_closure_new(v, h_nop, NULL, &c), WEFT_EVALUE,
     "a variadic signature: WEFT_EVALUE");
  weft_close(v);
  ok(c == 0, "no handle written");
  is(weft_ffi_closure_address(0, &p), WEFT_EBADHANDLE, "closure_address(0)");
  is(weft_ffi_closure_address(s, &p), WEFT_EBADHANDLE,
     "closure_address of a function");
  weft_handle f = 0;
  is(weft_ffi_closure_function(s, &f), WEFT_EBADHANDLE,
     "closure_function of a function");
  /* A signature with a real address is fine: the address is not used. */
  weft_handle withaddr = fn("ft_id_i", 0, i, 1, i);
  is(weft_ffi_closure_new(withaddr, h_nop, NULL, &c), 0,
     "a function with an address as the signature");
  ok(weft_ffi_closure_address(c, &p) == 0 && p != sym("ft_id_i"),
     "the closure has its own address");
  weft_close(c);
  weft_close(withaddr);
  /* The signature closed right after: the closure keeps what it needs. */
  weft_handle s2 = sig(0, i, 1, i);
  weft_ffi_closure_new(s2, h_nop, NULL, &c);
  weft_close(s2);
  weft_ffi_closure_address(c, &p);
  ok(D(ft_call_i)((int (*)(int))p, 0) == 5,
     "the signature closed: the closure works");
  weft_close(c);
  weft_close(s);
}

/* ---- a call that nests in another ---------------------------------------
 * The handler of qsort's comparator closes the very function that is
 * calling qsort (through weft, fast path or libffi), then makes 80 calls
 * through 80 other functions, which miss this thread's pin cache and would
 * sweep it: the outer call must keep its function until it returns (under
 * ASan a use after free shows), and only then does the handle go. */

struct nested {
  weft_handle outer;
  weft_handle others[80];
  int closed, wrong;
  long calls;
};

static void h_nested(void *arg, void *ret, void **args) {
  struct nested *n = arg;
  const int *a, *b;
  memcpy(&a, args[0], sizeof a);
  memcpy(&b, args[1], sizeof b);
  if (n->calls++ == 0) {
    n->closed = weft_close(n->outer) == 0;
    for (int k = 0; k < 80; k++) {
      int x = k, r = -1;
      void *xa[] = {&x};
      if (weft_ffi_call(n->others[k], &r, xa) != 0 || r != k)
        n->wrong++;
    }
    /* The closed function itself, from inside its own call. */
    if (weft_ffi_call(n->outer, NULL, NULL) != WEFT_EBADHANDLE)
      n->wrong++;
  }
  int r = *a < *b ? -1 : *a > *b;
  memcpy(ret, &r, sizeof r);
}

static void test_nested(void) {
  weft_handle P = ty("void*"), Z = ty("size_t"), I = ty("int");
  for (int libffi = 0; libffi < 2; libffi++) {
    struct nested n = {0};
    void *p = NULL;
    weft_handle c = closure(sig(0, I, 2, P, P), h_nested, &n, &p);
    weft_handle qargs[] = {P, Z, Z, P};
    int flags = libffi ? WEFT_FFI_CALL_LIBFFI : 0;
    weft_ffi_function_new(sym("ft_qsort"), 0, qargs, 4, 0, 0, flags, &n.outer);
    for (int k = 0; k < 80; k++)
      weft_ffi_function_new(sym("ft_id_i"), I, &I, 1, 0, 0, flags,
                            &n.others[k]);
    int v[64];
    for (int k = 0; k < 64; k++)
      v[k] = (k * 37) % 64;
    void *base = v;
    size_t count = 64, size = sizeof v[0];
    void *av[] = {&base, &count, &size, &p};
    weft_status st = weft_ffi_call(n.outer, NULL, av);
    int sorted = 1;
    for (int k = 1; k < 64; k++)
      sorted = sorted && v[k - 1] <= v[k];
    ok(st == 0 && sorted && n.closed && n.wrong == 0,
       "%s: a handler closes the calling function and calls 80 others: "
       "status %d, sorted %d, closed %d, %d wrong",
       libffi ? "libffi path" : "fast path", st, sorted, n.closed, n.wrong);
    ok(weft_ffi_call(n.outer, NULL, av) == WEFT_EBADHANDLE,
       "afterwards the closed function is WEFT_EBADHANDLE");
    for (int k = 0; k < 80; k++)
      weft_close(n.others[k]);
    weft_close(c);
  }
}

int main(int argc, char **argv) {
  fft_open();
  if (argc > 1 && strcmp(argv[1], "late-call") == 0)
    return late_call_child();
  test_scalars();
  test_closure_function();
  test_qsort();
  test_many();
  test_stack();
  test_structs();
  test_odd_registers();
  test_threads();
  test_close_while_inside();
  test_nested();
  test_many_closures();
  test_close();
  test_late_call();
  test_bad_input();
  weft_close(fft_lib);
  return done_testing();
}
