/* fftest.c - libfftest, the ffi engine's test library: a function of
 * every signature the engine must call (fftest.h lists them).  Built as a
 * libtool module for the tests only (tests/c/ffi.am); the tests load
 * tests/ffi/.libs/libfftest.so by the path in $WEFT_FFTEST_LIB. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FT_API __attribute__((visibility("default")))
#include "fftest.h"

/* ---- scalars ---- */

#define FT_DEF_INT(C, T)                                                       \
  T ft_id_##C(T x) { return x; }                                               \
  T ft_add_##C(T a, T b) { return FT_ADD_##C(a, b); }                          \
  long long ft_widen_##C(T x) { return (long long)x; }
#define FT_DEF_FLOAT(C, T)                                                     \
  T ft_id_##C(T x) { return x; }                                               \
  T ft_add_##C(T a, T b) { return a + b; }
#define FT_PLUS(a, b) (a + b)
#define FT_ADD_bool(a, b) (a != b)
#define FT_ADD_c(a, b) (char)(a ^ b)
#define FT_ADD_b FT_PLUS
#define FT_ADD_B FT_PLUS
#define FT_ADD_h FT_PLUS
#define FT_ADD_H FT_PLUS
#define FT_ADD_i(a, b) (int)((unsigned)a + (unsigned)b)
#define FT_ADD_I FT_PLUS
#define FT_ADD_l(a, b) (long)((unsigned long)a + (unsigned long)b)
#define FT_ADD_L FT_PLUS
#define FT_ADD_q(a, b)                                                         \
  (long long)((unsigned long long)a + (unsigned long long)b)
#define FT_ADD_Q FT_PLUS
#define FT_ADD_size FT_PLUS
FT_INT_SCALARS(FT_DEF_INT)
FT_FLOAT_SCALARS(FT_DEF_FLOAT)

void *ft_id_P(void *x) { return x; }
const char *ft_id_z(const char *x) { return x; }

/* The first integer argument register, whole.  Written in assembly so
 * that no compiler code narrows it first. */
#if defined(__x86_64__)
__asm__(".text\n"
        ".globl ft_reg0_b\n"
        ".type ft_reg0_b, @function\n"
        "ft_reg0_b:\n"
        "  movq %rdi, %rax\n"
        "  ret\n"
        ".size ft_reg0_b, .-ft_reg0_b\n");
#define FT_REG0_ASM 1
#elif defined(__aarch64__)
__asm__(".text\n"
        ".globl ft_reg0_b\n"
        ".type ft_reg0_b, %function\n"
        "ft_reg0_b:\n"
        "  ret\n"
        ".size ft_reg0_b, .-ft_reg0_b\n");
#define FT_REG0_ASM 1
#endif
#ifdef FT_REG0_ASM
#define FT_REG0_ALIAS(name)                                                    \
  __asm__(".globl " #name "\n.type " #name ", %function\n.set " #name          \
          ", ft_reg0_b\n");
FT_REG0_ALIAS(ft_reg0_B)
FT_REG0_ALIAS(ft_reg0_h)
FT_REG0_ALIAS(ft_reg0_H)
FT_REG0_ALIAS(ft_reg0_i)
FT_REG0_ALIAS(ft_reg0_I)
FT_REG0_ALIAS(ft_reg0_bool)
#else
uint64_t ft_reg0_b(signed char x) { return (uint64_t)(int64_t)x; }
uint64_t ft_reg0_B(unsigned char x) { return x; }
uint64_t ft_reg0_h(short x) { return (uint64_t)(int64_t)x; }
uint64_t ft_reg0_H(unsigned short x) { return x; }
uint64_t ft_reg0_i(int x) { return (uint64_t)(int64_t)x; }
uint64_t ft_reg0_I(unsigned int x) { return x; }
uint64_t ft_reg0_bool(bool x) { return x; }
#endif

int64_t ft_recorded[16];

int ft_record6(signed char a, unsigned char b, short c, unsigned short d, int e,
               unsigned int f) {
  ft_recorded[0] = a;
  ft_recorded[1] = b;
  ft_recorded[2] = c;
  ft_recorded[3] = d;
  ft_recorded[4] = e;
  ft_recorded[5] = f;
  return 6;
}

/* ---- argument mixes ---- */

int ft_noargs(void) { return 42; }

void ft_store_i(int *p, int v) { *p = v; }

double ft_mix_idid(int a, double b, int c, double d) {
  return a + 2 * b + 3 * c + 4 * d;
}

float ft_mix_fifcdh(float a, int b, float c, char d, double e, short f) {
  return (float)(a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f);
}

double ft_mix_dlfq(double a, long b, float c, long long d) {
  return a + 2 * (double)b + 3 * c + 4 * (double)d;
}

double ft_mix_6i8f(int a, float b, long c, double d, short e, float f,
                   unsigned g, double h, long long i, float j, char k, double l,
                   float m, double n) {
  return a + 2 * b + 3 * (double)c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h +
         9 * (double)i + 10 * j + 11 * k + 12 * l + 13 * m + 14 * n;
}

long ft_sum7l(long a, long b, long c, long d, long e, long f, long g) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g;
}

double ft_sum9d(double a, double b, double c, double d, double e, double f,
                double g, double h, double i) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i;
}

double ft_mix_8i10d(int a, double b, long c, double d, int e, double f, long g,
                    double h, int i, double j, long k, double l, int m,
                    double n, long o, double p, double q, double r) {
  return a + 2 * b + 3 * (double)c + 4 * d + 5 * e + 6 * f + 7 * (double)g +
         8 * h + 9 * i + 10 * j + 11 * (double)k + 12 * l + 13 * m + 14 * n +
         15 * (double)o + 16 * p + 17 * q + 18 * r;
}

float ft_sum6f(float a, float b, float c, float d, float e, float f) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f;
}

long double ft_mix_igd(int a, long double b, double c) {
  return a + 2 * b + 3 * c;
}

size_t ft_strlen(const char *s) { return strlen(s); }

long ft_ptrdiff(const void *a, const void *b) {
  return (long)((const char *)a - (const char *)b);
}

/* ---- structs by value ----
 * FT_FIELDS_S(F, A) visits the struct's fields: F(field) for a scalar,
 * A(field, n) for an array of n. */
#define FT_FIELDS_s1(F, A) F(a)
#define FT_FIELDS_s2(F, A) F(a) F(b)
#define FT_FIELDS_sc3(F, A) A(a, 3)
#define FT_FIELDS_sc7(F, A) A(a, 7)
#define FT_FIELDS_sf1(F, A) F(a)
#define FT_FIELDS_sf2(F, A) F(a) F(b)
#define FT_FIELDS_sic(F, A) F(a) F(b)
#define FT_FIELDS_sdi(F, A) F(a) F(b)
#define FT_FIELDS_sfif(F, A) F(a) F(b) F(c)
#define FT_FIELDS_sdd(F, A) F(a) F(b)
#define FT_FIELDS_sf3(F, A) F(a) F(b) F(c)
#define FT_FIELDS_sdf(F, A) F(a) F(b)
#define FT_FIELDS_sfffc(F, A) F(a) F(b) F(c) F(d)
#define FT_FIELDS_si5(F, A) A(a, 5)
#define FT_FIELDS_sd4(F, A) A(a, 4)
#define FT_FIELDS_sld(F, A) F(a)
#define FT_FIELDS_snest(F, A) F(a) F(in.b) F(in.c)
#define FT_FIELDS_snf(F, A) F(a.a) F(a.b) F(b)
#define FT_FIELDS_s17(F, A) A(a, 17)
#define FT_FIELDS_s24(F, A) F(a) F(b) F(c) F(d)
#define FT_FIELDS_s32(F, A) A(a, 8)
#define FT_FIELDS_s48(F, A) F(a) A(b, 3) A(c, 9)
#define FT_FIELDS_s64(F, A) A(a, 4) A(b, 4)
#define FT_FIELDS_s80(F, A) A(a, 9) F(b)

#define FT_BUMP_F(f) x.f += 1;
#define FT_BUMP_A(f, n)                                                        \
  for (int j = 0; j < n; j++)                                                  \
    x.f[j] += 1;
#define FT_SUM_F(f) s += ++w * (double)x.f;
#define FT_SUM_A(f, n)                                                         \
  for (int j = 0; j < n; j++)                                                  \
    s += ++w * (double)x.f[j];
#define FT_MAKE_F(f) x.f = k + w++;
#define FT_MAKE_A(f, n)                                                        \
  for (int j = 0; j < n; j++)                                                  \
    x.f[j] = k + w++;

#define FT_DEF_STRUCT(S)                                                       \
  ft_##S ft_bump_##S(ft_##S x) {                                               \
    FT_FIELDS_##S(FT_BUMP_F, FT_BUMP_A) return x;                              \
  }                                                                            \
  double ft_sum_##S(ft_##S x) {                                                \
    double s = 0;                                                              \
    int w = 0;                                                                 \
    FT_FIELDS_##S(FT_SUM_F, FT_SUM_A) return s;                                \
  }                                                                            \
  ft_##S ft_make_##S(int k) {                                                  \
    ft_##S x;                                                                  \
    int w = 0;                                                                 \
    memset(&x, 0, sizeof x);                                                   \
    FT_FIELDS_##S(FT_MAKE_F, FT_MAKE_A) return x;                              \
  }                                                                            \
  double ft_mid_##S(int a, ft_##S x, double b) {                               \
    return a + 2 * ft_sum_##S(x) + 3 * b;                                      \
  }
FT_STRUCTS(FT_DEF_STRUCT)

ft_ufd ft_ufd_make(int tag, double v) {
  ft_ufd u;
  memset(&u, 0, sizeof u);
  if (tag == 0)
    u.f = (float)v;
  else
    u.d = v;
  return u;
}

double ft_ufd_get(int tag, ft_ufd u) { return tag == 0 ? u.f : u.d; }

double ft_two_structs(ft_sdi a, int b, ft_sfif c, double d) {
  return ft_sum_sdi(a) + 2 * b + 3 * ft_sum_sfif(c) + 4 * d;
}

double ft_struct_late(long a, long b, long c, long d, long e, double f,
                      ft_sic g) {
  return (double)(a + 2 * b + 3 * c + 4 * d + 5 * e) + 6 * f +
         7 * ft_sum_sic(g);
}

int ft_sum_packed(ft_packed x) { return x.a + 2 * x.b; }

/* ---- variadic ---- */

double ft_vsum(const char *fmt, ...) {
  va_list ap;
  double s = 0;
  int w = 0;
  va_start(ap, fmt);
  for (const char *p = fmt; *p; p++) {
    double v = 0;
    switch (*p) {
    case 'i':
      v = va_arg(ap, int);
      break;
    case 'u':
      v = va_arg(ap, unsigned);
      break;
    case 'l':
      v = (double)va_arg(ap, long);
      break;
    case 'q':
      v = (double)va_arg(ap, long long);
      break;
    case 'd':
      v = va_arg(ap, double);
      break;
    case 'p':
      v = va_arg(ap, void *) != NULL;
      break;
    case 's':
      v = (double)strlen(va_arg(ap, const char *));
      break;
    default:
      va_end(ap);
      return -1e300;
    }
    s += ++w * v;
  }
  va_end(ap);
  return s;
}

int ft_vformat(char *buf, size_t cap, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, cap, fmt, ap);
  va_end(ap);
  return n;
}

double ft_vsumd(int n, ...) {
  va_list ap;
  double s = 0;
  va_start(ap, n);
  for (int k = 0; k < n; k++)
    s += (k + 1) * va_arg(ap, double);
  va_end(ap);
  return s;
}

/* ---- callbacks ---- */

void ft_qsort(void *base, size_t n, size_t size, ft_cmp_fn cmp) {
  qsort(base, n, size, cmp);
}

int ft_call_cmp(ft_cmp_fn cmp, const void *a, const void *b) {
  return cmp(a, b);
}

#define FT_DEF_CALL(C, T)                                                      \
  T ft_call_##C(T (*cb)(T), T x) { return cb(x); }                             \
  T ft_call2_##C(T (*cb)(T, T), T a, T b) { return cb(a, b); }
FT_INT_SCALARS(FT_DEF_CALL)
FT_FLOAT_SCALARS(FT_DEF_CALL)
void *ft_call_P(void *(*cb)(void *), void *x) { return cb(x); }

void ft_many_values(int k, bool *a0, char *a1, signed char *a2,
                    unsigned char *a3, short *a4, unsigned short *a5, int *a6,
                    unsigned int *a7, long *a8, unsigned long *a9,
                    long long *a10, unsigned long long *a11, float *a12,
                    double *a13, long double *a14, void **a15, const char **a16,
                    size_t *a17, ft_sdi *a18, ft_sfif *a19) {
  *a0 = k & 1;
  *a1 = (char)('A' + k);
  *a2 = (signed char)(-1 - k);
  *a3 = (unsigned char)(200 + k);
  *a4 = (short)(-1000 - k);
  *a5 = (unsigned short)(60000 + k);
  *a6 = -100000 - k;
  *a7 = 4000000000u + (unsigned)k;
  *a8 = -(1L << 40) - k;
  *a9 = (1UL << 63) + (unsigned long)k;
  *a10 = -(1LL << 50) - k;
  *a11 = UINT64_MAX - (unsigned long long)k;
  *a12 = 1.5f + (float)k;
  *a13 = 2.25 + k;
  *a14 = 3.125L + k;
  *a15 = (void *)(uintptr_t)(0x1000 + k);
  *a16 = "many";
  *a17 = 123456789u + (size_t)k;
  a18->a = k + 0.5;
  a18->b = k - 7;
  a19->a = (float)k + 0.25f;
  a19->b = -k;
  a19->c = (float)k + 0.75f;
}

double ft_call_many(ft_many_fn cb, int k) {
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
  ft_many_values(k, &a0, &a1, &a2, &a3, &a4, &a5, &a6, &a7, &a8, &a9, &a10,
                 &a11, &a12, &a13, &a14, &a15, &a16, &a17, &a18, &a19);
  return cb(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14,
            a15, a16, a17, a18, a19);
}

double ft_call_stack(ft_stack_fn cb, int k) {
  return cb(k + 0.5, k + 1, k + 1.5, k + 2, k + 2.5, k + 3, k + 3.5, k + 4,
            k + 4.5, k + 5, k + 5.5, k + 6, k + 6.5, k + 7, k + 7.5, k + 8.5,
            k + 9.5);
}

ft_sdi ft_call_sdi(ft_sdi (*cb)(ft_sdi, int), ft_sdi x, int k) {
  return cb(x, k);
}

ft_s48 ft_call_s48(ft_s48 (*cb)(ft_s48), ft_s48 x) { return cb(x); }

ft_s80 ft_call_s80(ft_s80 (*cb)(ft_s80), ft_s80 x) { return cb(x); }

double ft_call_sfif_sd4(double (*cb)(ft_sfif, ft_sd4), ft_sfif a, ft_sd4 b) {
  return cb(a, b);
}

void ft_call_void(void (*cb)(int *), int *p) { cb(p); }

ft_sld ft_call_sld(ft_sld (*cb)(ft_sld, int), ft_sld x, int k) {
  return cb(x, k);
}

double ft_call_ufd(double (*cb)(int, ft_ufd), int tag, ft_ufd u) {
  return cb(tag, u);
}

ft_ufd ft_call_ufd_make(ft_ufd (*cb)(int, double), int tag, double v) {
  return cb(tag, v);
}

struct ft_job {
  int (*cb)(int);
  int x, n, result;
  long sum;
};

static void *ft_thread_main(void *arg) {
  struct ft_job *job = arg;
  job->result = job->cb(job->x);
  return NULL;
}

int ft_call_in_thread(int (*cb)(int), int x, unsigned long *tid) {
  struct ft_job job = {cb, x, 1, 0, 0};
  pthread_t t;
  if (pthread_create(&t, NULL, ft_thread_main, &job) != 0)
    return -1;
  if (tid != NULL)
    *tid = (unsigned long)t;
  pthread_join(t, NULL);
  return job.result;
}

static void *ft_threads_main(void *arg) {
  struct ft_job *job = arg;
  for (int i = 0; i < job->n; i++)
    job->sum += job->cb(job->x + i);
  return NULL;
}

long ft_call_in_threads(int (*cb)(int), int x, int n, int threads) {
  struct ft_job jobs[16];
  pthread_t t[16];
  long sum = 0;
  if (threads < 1 || threads > 16)
    return -1;
  for (int i = 0; i < threads; i++) {
    jobs[i] = (struct ft_job){cb, x, n, 0, 0};
    if (pthread_create(&t[i], NULL, ft_threads_main, &jobs[i]) != 0)
      return -1;
  }
  for (int i = 0; i < threads; i++) {
    pthread_join(t[i], NULL);
    sum += jobs[i].sum;
  }
  return sum;
}

/* ---- errno ---- */

int ft_set_errno(int e) {
  errno = e;
  return -1;
}

int ft_get_errno(void) { return errno; }

/* ---- pointers and strings ---- */

const char *ft_greeting(void) { return "hello, weft"; }

void *ft_null(void) { return NULL; }

int *ft_elem_at(int *a, size_t i) { return &a[i]; }

const char *ft_strchr(const char *s, int c) { return strchr(s, c); }

char *ft_upper(char *buf, size_t cap, const char *s) {
  size_t i = 0;
  if (cap == 0)
    return buf;
  for (; s[i] && i + 1 < cap; i++)
    buf[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 32 : s[i]);
  buf[i] = 0;
  return buf;
}
