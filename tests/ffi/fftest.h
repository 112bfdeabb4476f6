/* fftest.h - the functions of libfftest, the ffi engine's test library
 * (tests/ffi/fftest.c).  The C tests include this to call the functions
 * directly and compare with calls through weft; the bindings' tests load
 * the library by the path in $WEFT_FFTEST_LIB and declare what they use.
 *
 * Every function is deterministic and keeps no state but the one noted
 * (ft_recorded, the errno functions).  Struct checksums weight each field
 * (and each array element) by its position, so a swapped or shifted field
 * changes the sum. */
#ifndef WEFT_FFTEST_H
#define WEFT_FFTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef FT_API
#define FT_API
#endif

/* ---- scalars ------------------------------------------------------------
 * For every scalar type T with ctypes code C:
 *   T ft_id_C(T x)             returns x
 *   T ft_add_C(T a, T b)       returns a + b (bool: a != b; char: a ^ b)
 *   long long ft_widen_C(T x)  x converted to long long (integers only) */
#define FT_INT_SCALARS(X)                                                      \
  X(bool, bool)                                                                \
  X(c, char)                                                                   \
  X(b, signed char)                                                            \
  X(B, unsigned char)                                                          \
  X(h, short)                                                                  \
  X(H, unsigned short)                                                         \
  X(i, int)                                                                    \
  X(I, unsigned int)                                                           \
  X(l, long)                                                                   \
  X(L, unsigned long)                                                          \
  X(q, long long)                                                              \
  X(Q, unsigned long long)                                                     \
  X(size, size_t)
#define FT_FLOAT_SCALARS(X)                                                    \
  X(f, float)                                                                  \
  X(d, double)                                                                 \
  X(g, long double)

#define FT_DECL_INT(C, T)                                                      \
  FT_API T ft_id_##C(T x);                                                     \
  FT_API T ft_add_##C(T a, T b);                                               \
  FT_API long long ft_widen_##C(T x);
#define FT_DECL_FLOAT(C, T)                                                    \
  FT_API T ft_id_##C(T x);                                                     \
  FT_API T ft_add_##C(T a, T b);
FT_INT_SCALARS(FT_DECL_INT)
FT_FLOAT_SCALARS(FT_DECL_FLOAT)

FT_API void *ft_id_P(void *x);
FT_API const char *ft_id_z(const char *x);

/* The raw 64-bit first integer argument register (rdi, x0) as the callee
 * finds it: the test of widening to 64 bits.  Declared with a narrow
 * argument; the value is the whole register. */
FT_API uint64_t ft_reg0_b(signed char x);
FT_API uint64_t ft_reg0_B(unsigned char x);
FT_API uint64_t ft_reg0_h(short x);
FT_API uint64_t ft_reg0_H(unsigned short x);
FT_API uint64_t ft_reg0_i(int x);
FT_API uint64_t ft_reg0_I(unsigned int x);
FT_API uint64_t ft_reg0_bool(bool x);

/* Six integer arguments of every width and sign, stored widened to
 * int64_t in ft_recorded[0..5]; returns 6. */
FT_API extern int64_t ft_recorded[16];
FT_API int ft_record6(signed char a, unsigned char b, short c, unsigned short d,
                      int e, unsigned int f);

/* ---- argument mixes ------------------------------------------------------
 * Each returns sum((k+1) * arg_k) over its arguments (k from 0), as a
 * double, so an argument in the wrong place shows. */
FT_API int ft_noargs(void);
FT_API void ft_store_i(int *p, int v);
FT_API double ft_mix_idid(int a, double b, int c, double d);
FT_API float ft_mix_fifcdh(float a, int b, float c, char d, double e, short f);
FT_API double ft_mix_dlfq(double a, long b, float c, long long d);
/* 6 integers and 8 floats, interleaved: the largest fast-path shape. */
FT_API double ft_mix_6i8f(int a, float b, long c, double d, short e, float f,
                          unsigned g, double h, long long i, float j, char k,
                          double l, float m, double n);
/* 7 integers: one goes on the stack. */
FT_API long ft_sum7l(long a, long b, long c, long d, long e, long f, long g);
/* 9 doubles: one goes on the stack. */
FT_API double ft_sum9d(double a, double b, double c, double d, double e,
                       double f, double g, double h, double i);
/* 8 integers and 10 doubles, mixed: stack arguments of both kinds. */
FT_API double ft_mix_8i10d(int a, double b, long c, double d, int e, double f,
                           long g, double h, int i, double j, long k, double l,
                           int m, double n, long o, double p, double q,
                           double r);
/* Six float arguments and a float result (the low half of xmm). */
FT_API float ft_sum6f(float a, float b, float c, float d, float e, float f);
/* A long double between others. */
FT_API long double ft_mix_igd(int a, long double b, double c);
/* Pointers and sizes. */
FT_API size_t ft_strlen(const char *s);
FT_API long ft_ptrdiff(const void *a, const void *b);

/* ---- structs by value ---------------------------------------------------
 * For each struct S:
 *   S ft_bump_S(S x)       every field (array element) + 1
 *   double ft_sum_S(S x)   the weighted checksum of the fields
 *   S ft_make_S(int k)     the struct whose field j (element) is k + j
 * and ft_mid_S(int a, S x, double b) = a + 2 * ft_sum_S(x) + 3 * b. */
typedef struct {
  char a;
} ft_s1; /* 1  */
typedef struct {
  short a;
  char b;
} ft_s2; /* 4  */
typedef struct {
  char a[3];
} ft_sc3; /* 3  */
typedef struct {
  char a[7];
} ft_sc7; /* 7  */
typedef struct {
  float a;
} ft_sf1; /* 4  */
typedef struct {
  float a, b;
} ft_sf2; /* 8  */
typedef struct {
  int a;
  char b;
} ft_sic; /* 8  */
typedef struct {
  double a;
  int b;
} ft_sdi; /* 16 */
typedef struct {
  float a;
  int b;
  float c;
} ft_sfif; /* 12 */
typedef struct {
  double a, b;
} ft_sdd; /* 16 */
typedef struct {
  float a, b, c;
} ft_sf3; /* 12 */
typedef struct {
  int a[5];
} ft_si5; /* 20 */
typedef struct {
  double a[4];
} ft_sd4; /* 32 */
typedef struct {
  long double a;
} ft_sld; /* 16 */
typedef struct {
  char a;
  struct {
    short b;
    float c;
  } in;
} ft_snest; /* 12 */
typedef struct {
  ft_sf2 a;
  float b;
} ft_snf; /* 12 */
typedef struct {
  double a;
  float b;
} ft_sdf; /* 16: two SSE eightbytes, the second half padding */
typedef struct {
  float a, b, c;
  char d;
} ft_sfffc; /* 16: SSE, then float + char: INTEGER */
typedef union {
  float f;
  double d;
} ft_ufd; /* 8 */
typedef struct {
  char a[17];
} ft_s17; /* 17 */
typedef struct {
  double a;
  long b;
  float c;
  int d;
} ft_s24; /* 24 */
typedef struct {
  float a[8];
} ft_s32; /* 32 */
typedef struct {
  int a;
  double b[3];
  char c[9];
} ft_s48; /* 48 */
typedef struct {
  double a[4];
  long b[4];
} ft_s64; /* 64 */

typedef struct {
  double a[9];
  char b;
} ft_s80; /* 80: past the 64 bytes that fit any register scheme */

#define FT_STRUCTS(X)                                                          \
  X(s1)                                                                        \
  X(s2)                                                                        \
  X(sc3)                                                                       \
  X(sc7)                                                                       \
  X(sf1)                                                                       \
  X(sf2)                                                                       \
  X(sic)                                                                       \
  X(sdi)                                                                       \
  X(sfif)                                                                      \
  X(sdd)                                                                       \
  X(sdf)                                                                       \
  X(sfffc)                                                                     \
  X(sf3)                                                                       \
  X(si5)                                                                       \
  X(sd4)                                                                       \
  X(sld)                                                                       \
  X(snest)                                                                     \
  X(snf)                                                                       \
  X(s17)                                                                       \
  X(s24)                                                                       \
  X(s32)                                                                       \
  X(s48)                                                                       \
  X(s64)                                                                       \
  X(s80)

#define FT_DECL_STRUCT(S)                                                      \
  FT_API ft_##S ft_bump_##S(ft_##S x);                                         \
  FT_API double ft_sum_##S(ft_##S x);                                          \
  FT_API ft_##S ft_make_##S(int k);                                            \
  FT_API double ft_mid_##S(int a, ft_##S x, double b);
FT_STRUCTS(FT_DECL_STRUCT)

/* The union: its float is read when tag is 0, else its double. */
FT_API ft_ufd ft_ufd_make(int tag, double v);
FT_API double ft_ufd_get(int tag, ft_ufd u);
/* Two structs and scalars, some on the stack. */
FT_API double ft_two_structs(ft_sdi a, int b, ft_sfif c, double d);
/* A struct after all registers are used (it goes on the stack). */
FT_API double ft_struct_late(long a, long b, long c, long d, long e, double f,
                             ft_sic g);
/* A packed struct that the psABI passes in memory. */
typedef struct __attribute__((packed)) {
  char a;
  int b;
} ft_packed;
FT_API int ft_sum_packed(ft_packed x);

/* ---- variadic -------------------------------------------------------------
 * ft_vsum: the variadic arguments as fmt says, one letter each (i int,
 * u unsigned, l long, q long long, d double, p pointer: +1 if non-NULL,
 * s string: its length), each weighted by its position (k+1) and summed.
 * ft_vformat: vsnprintf(buf, cap, fmt, ...), its result. */
FT_API double ft_vsum(const char *fmt, ...);
FT_API int ft_vformat(char *buf, size_t cap, const char *fmt, ...);
/* n doubles after n, summed with weights: stack varargs when n > 8. */
FT_API double ft_vsumd(int n, ...);

/* ---- callbacks ------------------------------------------------------------
 */
typedef int (*ft_cmp_fn)(const void *, const void *);
/* qsort(base, n, size, cmp). */
FT_API void ft_qsort(void *base, size_t n, size_t size, ft_cmp_fn cmp);
/* cmp(a, b). */
FT_API int ft_call_cmp(ft_cmp_fn cmp, const void *a, const void *b);
/* Each scalar: cb(x) and cb(a, b) through a function pointer. */
#define FT_DECL_CALL(C, T)                                                     \
  FT_API T ft_call_##C(T (*cb)(T), T x);                                       \
  FT_API T ft_call2_##C(T (*cb)(T, T), T a, T b);
FT_INT_SCALARS(FT_DECL_CALL)
FT_FLOAT_SCALARS(FT_DECL_CALL)
FT_API void *ft_call_P(void *(*cb)(void *), void *x);
/* A callback with one argument of every scalar type and a struct by
 * value, many of them on the stack: returns cb(...)'s result for the
 * values ft_many_values describes. */
typedef double (*ft_many_fn)(bool, char, signed char, unsigned char, short,
                             unsigned short, int, unsigned int, long,
                             unsigned long, long long, unsigned long long,
                             float, double, long double, void *, const char *,
                             size_t, ft_sdi, ft_sfif);
FT_API double ft_call_many(ft_many_fn cb, int k);
/* What ft_call_many passes for k, written to the arguments. */
FT_API void ft_many_values(int k, bool *a0, char *a1, signed char *a2,
                           unsigned char *a3, short *a4, unsigned short *a5,
                           int *a6, unsigned int *a7, long *a8,
                           unsigned long *a9, long long *a10,
                           unsigned long long *a11, float *a12, double *a13,
                           long double *a14, void **a15, const char **a16,
                           size_t *a17, ft_sdi *a18, ft_sfif *a19);
/* cb(k, k + 0.5, ..., k + 4.5) with 10 doubles and 7 longs interleaved
 * (stack arguments of both kinds into a closure). */
typedef double (*ft_stack_fn)(double, long, double, long, double, long, double,
                              long, double, long, double, long, double, long,
                              double, double, double);
FT_API double ft_call_stack(ft_stack_fn cb, int k);
/* Structs through callbacks. */
FT_API ft_sdi ft_call_sdi(ft_sdi (*cb)(ft_sdi, int), ft_sdi x, int k);
FT_API ft_s48 ft_call_s48(ft_s48 (*cb)(ft_s48), ft_s48 x);
FT_API ft_s80 ft_call_s80(ft_s80 (*cb)(ft_s80), ft_s80 x);
FT_API double ft_call_sfif_sd4(double (*cb)(ft_sfif, ft_sd4), ft_sfif a,
                               ft_sd4 b);
FT_API void ft_call_void(void (*cb)(int *), int *p);
/* The struct of one long double and the union of float and double, whose
 * registers are the odd ones (x87, SSE), both ways. */
FT_API ft_sld ft_call_sld(ft_sld (*cb)(ft_sld, int), ft_sld x, int k);
FT_API double ft_call_ufd(double (*cb)(int, ft_ufd), int tag, ft_ufd u);
FT_API ft_ufd ft_call_ufd_make(ft_ufd (*cb)(int, double), int tag, double v);
/* Start a pthread that runs cb(x), join it, return its result (and the
 * thread's id in *tid when tid is not NULL). */
FT_API int ft_call_in_thread(int (*cb)(int), int x, unsigned long *tid);
/* cb(x) n times from each of `threads` threads at once; the sum. */
FT_API long ft_call_in_threads(int (*cb)(int), int x, int n, int threads);

/* ---- errno ----------------------------------------------------------------
 */
/* errno = e, then -1. */
FT_API int ft_set_errno(int e);
/* The errno the function finds. */
FT_API int ft_get_errno(void);

/* ---- pointers and strings -------------------------------------------------
 */
FT_API const char *ft_greeting(void);     /* "hello, weft" */
FT_API void *ft_null(void);               /* NULL */
FT_API int *ft_elem_at(int *a, size_t i); /* &a[i] */
FT_API const char *ft_strchr(const char *s, int c);
/* Copies s upper-cased into buf (at most cap bytes with the NUL);
 * returns buf. */
FT_API char *ft_upper(char *buf, size_t cap, const char *s);

#endif
