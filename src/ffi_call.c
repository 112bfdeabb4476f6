/* ffi_call.c - the ctypes engine's prepared calls: function handles over
 * a libffi cif, the register-only fast path, errno capture, signature
 * strings, and the struct field accessors' neighbour weft_ffi_address_of.
 *
 * The fast path.  On x86-64 (System V) and AArch64 (AAPCS64) integer and
 * vector registers are handed out independently, each in argument order:
 * f(int a, double b, long c) takes a in the first integer register, c in
 * the second and b in the first vector register, exactly as g(long a,
 * long c, double b) does.  So one C function pointer type of the shape
 * (6 or 8 integers, 8 doubles) calls every signature whose arguments all
 * fit in registers: integers are widened to 64 bits by their own sign
 * (the psABI leaves the upper bits to the caller, and clang relies on
 * them being extended), a float travels as the low 32 bits of a double's
 * register, and registers the callee does not read are harmless (the
 * caller owns the stack; no register carries a count for a non-variadic
 * callee).  The result comes back in the integer or the vector return
 * register and is narrowed to its type.  This is an ABI-level call, not
 * a C-level one: the compiler is told a different prototype than the
 * callee's, which is why it is limited to these two ABIs and to
 * non-variadic signatures of scalars.
 *
 * The fast path does not pin the handle (two atomic read-modify-writes
 * would cost as much as the call).  Instead each function handle's slot
 * index has a type-stable "fast entry" that never goes away: the handle
 * value it is for, the address and the packed classes.  A call reads
 * the entry seqlock-style (handle, fields, acquire fence, handle again)
 * and then uses only what it read, so a close that races with it can at
 * worst send it to the slow path, which pins and fails cleanly. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "constant.h"
#include "error.h"
#include "fcall.h"
#include "fsig.h"
#include "handle.h"

#if defined(__x86_64__) && !defined(_WIN32)
#define FAST_PATH 1
#define FAST_INTS 6
#elif defined(__aarch64__) && !defined(_WIN32) && !defined(__APPLE__)
#define FAST_PATH 1
#define FAST_INTS 8
#else
#define FAST_PATH 0
#define FAST_INTS 0
#endif
#define FAST_SSE 8
#define FAST_ARGS 14 /* at most FAST_INTS + FAST_SSE, and 16 fit the desc */

#define KNOWN_FLAGS                                                            \
  (WEFT_FFI_CALL_VARIADIC | WEFT_FFI_CALL_ERRNO | WEFT_FFI_CALL_LIBFFI)
#define MAX_ARGS 1024

/* ---- errno ---- */

static _Thread_local int saved_errno;

WEFT_API weft_status weft_ffi_errno_get(int *value) {
  WEFT__CHECK_PTR(value, "ffi_errno_get");
  *value = saved_errno;
  return 0;
}

WEFT_API weft_status weft_ffi_errno_set(int value, int *old) {
  int was = saved_errno;
  saved_errno = value;
  if (old != NULL)
    *old = was;
  return 0;
}

/* ---- function objects ---- */

static void ffn_free(weft__ffn *f) {
  for (size_t i = 0; i < f->nargs; i++)
    weft__ftype_unref(f->args[i]);
  weft__ftype_unref(f->ret);
  free(f->args);
  free(f->ffi_args);
  free(f->name);
  free(f);
}

void weft__ffn_ref(weft__ffn *f) {
  atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

void weft__ffn_unref(weft__ffn *f) {
  if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1)
    ffn_free(f);
}

int weft__fclass(const weft__ftype *t) {
  static const uint8_t sint[9] = {0, FC_S1, FC_S2, 0, FC_S4, 0, 0, 0, FC_S8};
  static const uint8_t uint[9] = {0, FC_U1, FC_U2, 0, FC_U4, 0, 0, 0, FC_U8};
  switch (t->kind) {
  case WEFT_FFI_KIND_SINT:
    return t->size <= 8 ? sint[t->size] : FC_NONE;
  case WEFT_FFI_KIND_UINT:
    return t->size <= 8 ? uint[t->size] : FC_NONE;
  case WEFT_FFI_KIND_POINTER:
  case WEFT_FFI_KIND_ARRAY: /* decays to a pointer */
    return sizeof(void *) == 8 ? FC_U8 : FC_U4;
  case WEFT_FFI_KIND_FLOAT:
    return t->size == sizeof(float)    ? FC_F32
           : t->size == sizeof(double) ? FC_F64
                                       : FC_NONE;
  default:
    return FC_NONE;
  }
}

static int is_sse(int c) { return c == FC_F32 || c == FC_F64; }

/* Decide the fast path and fill its description. */
static void plan_fast(weft__ffn *f) {
  if (!FAST_PATH ||
      (f->flags & (WEFT_FFI_CALL_LIBFFI | WEFT_FFI_CALL_VARIADIC)) ||
      (f->abi != 0 && f->abi != FFI_DEFAULT_ABI) || f->nargs > FAST_ARGS)
    return;
  int rc = weft__fclass(f->ret);
  if (rc == FC_NONE && f->ret->kind != WEFT_FFI_KIND_VOID)
    return;
  if (f->ret->kind == WEFT_FFI_KIND_ARRAY)
    return; /* C functions cannot return arrays */
  size_t nint = 0, nsse = 0;
  for (size_t i = 0; i < f->nargs; i++) {
    int c = weft__fclass(f->args[i]);
    if (c == FC_NONE)
      return;
    if (is_sse(c) ? ++nsse > FAST_SSE : ++nint > FAST_INTS)
      return;
    f->arg_class[i] = (uint8_t)c;
  }
  f->ret_class = (uint8_t)rc;
  f->flags |= WEFT_FFI_CALL_FAST;
}

/* What libffi is given for an argument of type t. */
static ffi_type *arg_ffi(const weft__ftype *t) {
  return t->kind == WEFT_FFI_KIND_ARRAY ? &ffi_type_pointer : t->ffi;
}

/* A type that C's default argument promotions leave as it is. */
static int promoted(const weft__ftype *t) {
  switch (t->kind) {
  case WEFT_FFI_KIND_SINT:
  case WEFT_FFI_KIND_UINT:
    return t->size >= sizeof(int) && t->code != '?';
  case WEFT_FFI_KIND_FLOAT:
    return t->size != sizeof(float);
  default:
    return 1;
  }
}

/* Check one argument or result type; 0 or a recorded error. */
static weft_status check_type(const weft__ftype *t, long index,
                              const char *what) {
  char where[48];
  if (index < 0)
    snprintf(where, sizeof where, "the return type");
  else
    snprintf(where, sizeof where, "argument %ld", index);
  if (!atomic_load_explicit(&t->finished, memory_order_acquire))
    return weft__error(WEFT_ESTATE, 0, "%s: %s is an unfinished struct", what,
                       where);
  if (t->kind == WEFT_FFI_KIND_VOID && index >= 0)
    return weft__error(WEFT_EVALUE, 0, "%s: %s is void", what, where);
  if (t->kind == WEFT_FFI_KIND_ARRAY && index < 0)
    return weft__error(WEFT_EVALUE, 0,
                       "%s: a C function cannot return an array", what);
  if ((t->kind == WEFT_FFI_KIND_STRUCT || t->kind == WEFT_FFI_KIND_UNION) &&
      t->misaligned && t->size <= 16)
    return weft__error(WEFT_EVALUE, 0,
                       "%s: %s is a packed struct of %zu bytes with a field "
                       "below its alignment, which libffi cannot pass by "
                       "value (pass a pointer to it)",
                       what, where, t->size);
  return 0;
}

static const char *ffi_status_text(ffi_status s) {
  switch (s) {
  case FFI_BAD_TYPEDEF:
    return "a type libffi cannot describe (an empty struct?)";
  case FFI_BAD_ABI:
    return "an ABI this platform does not have";
#ifdef FFI_BAD_ARGTYPE
  case FFI_BAD_ARGTYPE:
    return "an argument type a variadic call cannot take";
#endif
  default:
    return "libffi refused the signature";
  }
}

/* Make a function object from resolved types (each referenced here). */
static weft_status ffn_make(void *address, weft__ftype *ret,
                            weft__ftype *const *args, size_t nargs,
                            size_t nfixed, int abi, int flags, const char *name,
                            weft__ffn **out, const char *what) {
  weft_status st = check_type(ret, -1, what);
  for (size_t i = 0; st == 0 && i < nargs; i++) {
    st = check_type(args[i], (long)i, what);
    if (st == 0 && (flags & WEFT_FFI_CALL_VARIADIC) && i >= nfixed &&
        !promoted(args[i]))
      st = weft__error(WEFT_EVALUE, 0,
                       "%s: variadic argument %zu is %s, which C promotes: "
                       "pass it as %s",
                       what, i, args[i]->name,
                       args[i]->kind == WEFT_FFI_KIND_FLOAT ? "double" : "int");
  }
  if (st < 0)
    return st;
  weft__ffn *f = calloc(1, sizeof *f);
  if (f == NULL)
    return weft__errno(ENOMEM, what);
  atomic_init(&f->refs, 1);
  f->address = address;
  f->nargs = nargs;
  f->nfixed = (flags & WEFT_FFI_CALL_VARIADIC) ? nfixed : nargs;
  f->flags = flags;
  f->abi = abi;
  f->name = strdup(name != NULL ? name : "");
  f->args = calloc(nargs ? nargs : 1, sizeof *f->args);
  f->ffi_args = calloc(nargs ? nargs : 1, sizeof *f->ffi_args);
  if (f->name == NULL || f->args == NULL || f->ffi_args == NULL) {
    free(f->name);
    free(f->args);
    free(f->ffi_args);
    free(f);
    return weft__errno(ENOMEM, what);
  }
  weft__ftype_ref(ret);
  f->ret = ret;
  for (size_t i = 0; i < nargs; i++) {
    weft__ftype_ref(args[i]);
    f->args[i] = args[i];
    f->ffi_args[i] = arg_ffi(args[i]);
  }
  ffi_abi fabi = abi == 0 ? FFI_DEFAULT_ABI : (ffi_abi)abi;
  ffi_status fs =
      (flags & WEFT_FFI_CALL_VARIADIC)
          ? ffi_prep_cif_var(&f->cif, fabi, (unsigned)f->nfixed,
                             (unsigned)nargs, ret->ffi, f->ffi_args)
          : ffi_prep_cif(&f->cif, fabi, (unsigned)nargs, ret->ffi, f->ffi_args);
  if (fs != FFI_OK) {
    ffn_free(f);
    return weft__error(WEFT_EFFI, (int)fs, "%s: %s", what, ffi_status_text(fs));
  }
  plan_fast(f);
  *out = f;
  return 0;
}

weft__ffn *weft__ffn_rebind(const weft__ffn *f, void *address,
                            const char *what) {
  weft__ffn *g = NULL;
  if (ffn_make(address, f->ret, f->args, f->nargs, f->nfixed, f->abi,
               f->flags & KNOWN_FLAGS, f->name, &g, what) < 0)
    return NULL;
  return g;
}

/* ---- fast entries ---- */

typedef struct fast_entry {
  _Atomic weft_handle h; /* the handle this describes; 0 for none */
  _Atomic(void *) address;
  _Atomic uint64_t args; /* 4 bits per argument, argument 0 lowest */
  _Atomic uint32_t meta; /* ret class | nargs << 4 | errno << 9 */
} fast_entry;

#define FAST_CHUNK_BITS 12
#define FAST_CHUNK (1u << FAST_CHUNK_BITS)
static _Atomic(fast_entry *)
    fast_chunks[1u << (WEFT__INDEX_BITS - FAST_CHUNK_BITS)];
static pthread_mutex_t fast_mu = PTHREAD_MUTEX_INITIALIZER;

static fast_entry *fast_at(uint32_t index, int make) {
  _Atomic(fast_entry *) *slot = &fast_chunks[index >> FAST_CHUNK_BITS];
  fast_entry *c = atomic_load_explicit(slot, memory_order_acquire);
  if (c == NULL && make) {
    pthread_mutex_lock(&fast_mu);
    c = atomic_load_explicit(slot, memory_order_relaxed);
    if (c == NULL) {
      c = calloc(FAST_CHUNK, sizeof *c); /* never freed: type-stable */
      if (c != NULL)
        atomic_store_explicit(slot, c, memory_order_release);
    }
    pthread_mutex_unlock(&fast_mu);
  }
  return c != NULL ? &c[index & (FAST_CHUNK - 1)] : NULL;
}

static uint32_t handle_index(weft_handle h) {
  return (uint32_t)(h & ((1 << WEFT__INDEX_BITS) - 1));
}

static void fast_publish(weft_handle h, const weft__ffn *f) {
  if (!(f->flags & WEFT_FFI_CALL_FAST) || f->address == NULL)
    return;
  fast_entry *e = fast_at(handle_index(h), 1);
  if (e == NULL)
    return; /* no memory: calls take the slow path */
  uint64_t args = 0;
  for (size_t i = 0; i < f->nargs; i++)
    args |= (uint64_t)f->arg_class[i] << (4 * i);
  uint32_t meta = f->ret_class | (uint32_t)f->nargs << 4 |
                  (uint32_t)((f->flags & WEFT_FFI_CALL_ERRNO) != 0) << 9;
  atomic_store_explicit(&e->address, f->address, memory_order_relaxed);
  atomic_store_explicit(&e->args, args, memory_order_relaxed);
  atomic_store_explicit(&e->meta, meta, memory_order_relaxed);
  atomic_store_explicit(&e->h, h, memory_order_release);
}

/* Retire h's entry before its object (and slot) can be reused. */
static void fast_retire(weft_handle h) {
  fast_entry *e = fast_at(handle_index(h), 0);
  if (e == NULL || atomic_load_explicit(&e->h, memory_order_relaxed) != h)
    return;
  atomic_store_explicit(&e->h, 0, memory_order_relaxed);
  atomic_thread_fence(memory_order_release);
}

/* ---- the handle kind ---- */

typedef struct ffn_holder {
  weft__ffn *f;
  weft_handle h;
} ffn_holder;

static void ffn_destroy(void *obj) {
  ffn_holder *k = obj;
  fast_retire(k->h);
  weft__ffn_unref(k->f);
  free(k);
}

static const weft__kind_ops ffn_ops = {.name = "ffi_function",
                                       .destroy = ffn_destroy};

__attribute__((constructor)) static void ffn_register(void) {
  weft__kind_register(WEFT_KIND_FFI_FUNCTION, &ffn_ops);
}

weft_status weft__ffn_handle(weft__ffn *f, weft_handle *out) {
  ffn_holder *k = calloc(1, sizeof *k);
  if (k == NULL) {
    weft__ffn_unref(f);
    return weft__errno(ENOMEM, "ffi_function");
  }
  k->f = f;
  weft_handle h = 0;
  weft_status st = weft__handle_new(WEFT_KIND_FFI_FUNCTION, k, &h);
  if (st < 0) {
    weft__ffn_unref(f);
    free(k);
    return st;
  }
  /* Nobody else has h yet: the holder and the fast entry are ours. */
  k->h = h;
  fast_publish(h, f);
  *out = h;
  return 0;
}

weft__ffn *weft__ffn_pin(weft_handle h, const char *what) {
  ffn_holder *k = weft__handle_pin(h, WEFT_KIND_FFI_FUNCTION, what);
  return k != NULL ? k->f : NULL;
}

/* ---- making functions ---- */

WEFT_API weft_status weft_ffi_function_new(void *address, weft_handle restype,
                                           const weft_handle *argtypes,
                                           size_t nargs, size_t nfixed, int abi,
                                           int flags, weft_handle *out) {
  static const char what[] = "ffi_function_new";
  WEFT__CHECK_PTR(out, what);
  if (flags & ~KNOWN_FLAGS)
    return weft__error(WEFT_EVALUE, 0, "%s: unknown flags 0x%x", what,
                       (unsigned)(flags & ~KNOWN_FLAGS));
  if (nargs > 0 && argtypes == NULL)
    return weft__error(WEFT_EVALUE, 0, "%s: argtypes is NULL with nargs %zu",
                       what, nargs);
  if (nargs > MAX_ARGS)
    return weft__error(WEFT_EVALUE, 0, "%s: %zu arguments (at most %d)", what,
                       nargs, MAX_ARGS);
  if ((flags & WEFT_FFI_CALL_VARIADIC) && nfixed > nargs)
    return weft__error(WEFT_EVALUE, 0, "%s: nfixed %zu is more than nargs %zu",
                       what, nfixed, nargs);
  if (abi < 0 || (abi != 0 && (abi <= FFI_FIRST_ABI || abi >= FFI_LAST_ABI)))
    return weft__error(WEFT_EVALUE, 0, "%s: unknown abi %d", what, abi);
  weft__ftype **types = calloc(nargs + 1, sizeof *types);
  if (types == NULL)
    return weft__errno(ENOMEM, what);
  weft_status st = 0;
  size_t pinned = 0;
  weft__ftype *ret = restype == 0 ? weft__ftype_builtin("void")
                                  : weft__ftype_pin(restype, what);
  if (ret == NULL)
    st = WEFT__PIN_FAILED;
  for (; st == 0 && pinned < nargs; pinned++) {
    types[pinned] = weft__ftype_pin(argtypes[pinned], what);
    if (types[pinned] == NULL)
      st = WEFT__PIN_FAILED;
  }
  if (st < 0 && pinned > 0)
    pinned--; /* the one that failed is not pinned */
  weft__ffn *f = NULL;
  if (st == 0)
    st = ffn_make(address, ret, types, nargs, nfixed, abi, flags, NULL, &f,
                  what);
  for (size_t i = 0; i < pinned; i++)
    weft__handle_unpin(argtypes[i]);
  if (ret != NULL && restype != 0)
    weft__handle_unpin(restype);
  free(types);
  return st < 0 ? st : weft__ffn_handle(f, out);
}

static weft_status from_signature(void *address, const weft__fsig *sig,
                                  int flags, weft_handle *out,
                                  const char *what) {
  if (sig->variadic)
    flags |= WEFT_FFI_CALL_VARIADIC;
  weft__ffn *f = NULL;
  weft_status st = ffn_make(address, sig->ret, sig->args, sig->nargs,
                            sig->nargs, 0, flags, sig->name, &f, what);
  return st < 0 ? st : weft__ffn_handle(f, out);
}

WEFT_API weft_status weft_ffi_function_parse(void *address,
                                             const char *signature, int flags,
                                             weft_handle *out) {
  static const char what[] = "ffi_function_parse";
  WEFT__CHECK_PTR(out, what);
  if (flags & ~KNOWN_FLAGS)
    return weft__error(WEFT_EVALUE, 0, "%s: unknown flags 0x%x", what,
                       (unsigned)(flags & ~KNOWN_FLAGS));
  weft__fsig sig;
  weft_status st = weft__fsig_parse(signature, &sig, what);
  if (st < 0)
    return st;
  st = from_signature(address, &sig, flags, out, what);
  weft__fsig_release(&sig);
  return st;
}

/* dlsym in the process's namespace, as weft_ffi_library_symbol does in a
 * library. */
static weft_status default_symbol(const char *name, void **address,
                                  const char *what) {
  dlerror();
  void *p = dlsym(RTLD_DEFAULT, name);
  if (p == NULL) {
    const char *e = dlerror();
    return weft__error(-ENOENT, 0, "%s: %s", what,
                       e != NULL ? e : "no such symbol");
  }
  *address = p;
  return 0;
}

WEFT_API weft_status weft_ffi_library_function(weft_handle lib,
                                               const char *signature, int flags,
                                               weft_handle *out) {
  static const char what[] = "ffi_library_function";
  WEFT__CHECK_PTR(out, what);
  if (flags & ~KNOWN_FLAGS)
    return weft__error(WEFT_EVALUE, 0, "%s: unknown flags 0x%x", what,
                       (unsigned)(flags & ~KNOWN_FLAGS));
  weft__fsig sig;
  weft_status st = weft__fsig_parse(signature, &sig, what);
  if (st < 0)
    return st;
  void *address = NULL;
  if (sig.name[0] == '\0')
    st = weft__error(WEFT_EVALUE, 0, "%s: the signature names no function",
                     what);
  else if (lib == 0)
    st = default_symbol(sig.name, &address, what);
  else
    st = weft_ffi_library_symbol(lib, sig.name, &address);
  if (st == 0)
    st = from_signature(address, &sig, flags, out, what);
  weft__fsig_release(&sig);
  return st;
}

/* ---- calling ---- */

#if FAST_PATH
#if FAST_INTS == 6
#define INT_PARAMS int64_t, int64_t, int64_t, int64_t, int64_t, int64_t
#define INT_ARGS(a) a[0], a[1], a[2], a[3], a[4], a[5]
#else
#define INT_PARAMS                                                             \
  int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t
#define INT_ARGS(a) a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]
#endif
#define SSE_PARAMS                                                             \
  double, double, double, double, double, double, double, double
#define SSE_ARGS(d) d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]

typedef int64_t (*fast_int_fn)(INT_PARAMS, SSE_PARAMS);
typedef double (*fast_double_fn)(INT_PARAMS, SSE_PARAMS);
typedef float (*fast_float_fn)(INT_PARAMS, SSE_PARAMS);

/* Load an argument of class c from p into the registers' arrays. */
static inline void fast_load(int c, const void *p, int64_t *ints, size_t *ni,
                             double *sse, size_t *ns) {
  union {
    uint64_t u;
    double d;
  } v = {0};
  switch (c) {
  case FC_S1:
    ints[(*ni)++] = *(const int8_t *)p;
    return;
  case FC_S2: {
    int16_t x;
    memcpy(&x, p, 2);
    ints[(*ni)++] = x;
    return;
  }
  case FC_S4: {
    int32_t x;
    memcpy(&x, p, 4);
    ints[(*ni)++] = x;
    return;
  }
  case FC_U1:
    ints[(*ni)++] = *(const uint8_t *)p;
    return;
  case FC_U2: {
    uint16_t x;
    memcpy(&x, p, 2);
    ints[(*ni)++] = x;
    return;
  }
  case FC_U4: {
    uint32_t x;
    memcpy(&x, p, 4);
    ints[(*ni)++] = x;
    return;
  }
  case FC_S8:
  case FC_U8:
    memcpy(&ints[(*ni)++], p, 8);
    return;
  case FC_F32:
    memcpy(&v.u, p, 4);
    sse[(*ns)++] = v.d;
    return;
  default:
    memcpy(&sse[(*ns)++], p, 8);
    return;
  }
}

/* Store a result of class c from the return registers to ret. */
static inline void fast_store(int c, int64_t r, void *ret) {
  switch (c) {
  case FC_S1:
  case FC_U1: {
    uint8_t x = (uint8_t)r;
    memcpy(ret, &x, 1);
    return;
  }
  case FC_S2:
  case FC_U2: {
    uint16_t x = (uint16_t)r;
    memcpy(ret, &x, 2);
    return;
  }
  case FC_S4:
  case FC_U4: {
    uint32_t x = (uint32_t)r;
    memcpy(ret, &x, 4);
    return;
  }
  default:
    memcpy(ret, &r, 8);
    return;
  }
}

/* 1 if the call was made, 0 to take the slow path. */
static inline int fast_call(weft_handle fn, void *ret, void **args,
                            weft_status *st) {
  fast_entry *e = fast_at(handle_index(fn), 0);
  if (e == NULL || atomic_load_explicit(&e->h, memory_order_acquire) != fn)
    return 0;
  void *address = atomic_load_explicit(&e->address, memory_order_relaxed);
  uint64_t classes = atomic_load_explicit(&e->args, memory_order_relaxed);
  uint32_t meta = atomic_load_explicit(&e->meta, memory_order_relaxed);
  atomic_thread_fence(memory_order_acquire);
  if (atomic_load_explicit(&e->h, memory_order_relaxed) != fn)
    return 0;
  size_t nargs = (meta >> 4) & 31;
  int rc = (int)(meta & 15);
  int64_t ints[FAST_INTS] = {0};
  double sse[FAST_SSE] = {0};
  size_t ni = 0, ns = 0;
  if (nargs > 0 && args == NULL) {
    *st = weft__error(WEFT_EVALUE, 0, "ffi_call: args is NULL");
    return 1;
  }
  for (size_t i = 0; i < nargs; i++) {
    if (args[i] == NULL) {
      *st = weft__error(WEFT_EVALUE, 0, "ffi_call: args[%zu] is NULL", i);
      return 1;
    }
    fast_load((int)(classes >> (4 * i)) & 15, args[i], ints, &ni, sse, &ns);
  }
  int use_errno = (meta >> 9) & 1;
  int keep = 0;
  if (use_errno) {
    keep = errno;
    errno = saved_errno;
  }
  if (rc == FC_F64) {
    double r = ((fast_double_fn)address)(INT_ARGS(ints), SSE_ARGS(sse));
    if (ret != NULL)
      memcpy(ret, &r, sizeof r);
  } else if (rc == FC_F32) {
    float r = ((fast_float_fn)address)(INT_ARGS(ints), SSE_ARGS(sse));
    if (ret != NULL)
      memcpy(ret, &r, sizeof r);
  } else {
    int64_t r = ((fast_int_fn)address)(INT_ARGS(ints), SSE_ARGS(sse));
    if (ret != NULL && rc != FC_NONE)
      fast_store(rc, r, ret);
  }
  if (use_errno) {
    saved_errno = errno;
    errno = keep;
  }
  *st = 0;
  return 1;
}
#endif

/* The slow path: libffi, with the handle pinned. */
static weft_status slow_call(weft_handle fn, void *ret, void **args) {
  static const char what[] = "ffi_call";
  weft__ffn *f = weft__ffn_pin(fn, what);
  if (f == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = 0;
  if (f->address == NULL) {
    st =
        weft__error(WEFT_ESTATE, 0,
                    "%s: the function has no address (a signature only)", what);
    goto out;
  }
  if (f->nargs > 0 && args == NULL) {
    st = weft__error(WEFT_EVALUE, 0, "%s: args is NULL", what);
    goto out;
  }
  for (size_t i = 0; i < f->nargs; i++)
    if (args[i] == NULL) {
      st = weft__error(WEFT_EVALUE, 0, "%s: args[%zu] is NULL", what, i);
      goto out;
    }
  /* libffi writes a whole register for small results and may write the
   * registers of a small struct whole: give it room, copy out the size. */
  size_t room = weft__fret_room(f->ret);
  _Alignas(16) unsigned char local[64];
  void *buf = room <= sizeof local ? local : ret;
  unsigned char *heap = NULL;
  if (buf == NULL) {
    heap = malloc(room);
    if (heap == NULL) {
      st = weft__errno(ENOMEM, what);
      goto out;
    }
    buf = heap;
  }
  int keep = 0;
  if (f->flags & WEFT_FFI_CALL_ERRNO) {
    keep = errno;
    errno = saved_errno;
  }
  ffi_call(&f->cif, FFI_FN(f->address), buf, args);
  if (f->flags & WEFT_FFI_CALL_ERRNO) {
    saved_errno = errno;
    errno = keep;
  }
  if (ret != NULL && buf != ret && f->ret->size > 0) {
    if (f->ret->size < sizeof(ffi_arg) &&
        (f->ret->kind == WEFT_FFI_KIND_SINT ||
         f->ret->kind == WEFT_FFI_KIND_UINT)) {
      /* A widened integer: its low bytes, in memory order. */
      ffi_arg a;
      memcpy(&a, buf, sizeof a);
      uint64_t v = a;
      uint8_t b1 = (uint8_t)v;
      uint16_t b2 = (uint16_t)v;
      uint32_t b4 = (uint32_t)v;
      memcpy(ret,
             f->ret->size == 1   ? (void *)&b1
             : f->ret->size == 2 ? (void *)&b2
                                 : (void *)&b4,
             f->ret->size);
    } else {
      memcpy(ret, buf, f->ret->size);
    }
  }
  free(heap);
out:
  weft__handle_unpin(fn);
  return st;
}

WEFT_API weft_status weft_ffi_call(weft_handle fn, void *ret, void **args) {
#if FAST_PATH
  weft_status st;
  if (fast_call(fn, ret, args, &st))
    return st;
#endif
  return slow_call(fn, ret, args);
}

/* ---- queries ---- */

WEFT_API weft_status weft_ffi_function_address(weft_handle fn, void **address) {
  static const char what[] = "ffi_function_address";
  WEFT__CHECK_PTR(address, what);
  weft__ffn *f = weft__ffn_pin(fn, what);
  if (f == NULL)
    return WEFT__PIN_FAILED;
  *address = f->address;
  weft__handle_unpin(fn);
  return 0;
}

WEFT_API weft_status weft_ffi_function_flags(weft_handle fn, int *flags,
                                             int *abi) {
  static const char what[] = "ffi_function_flags";
  WEFT__CHECK_PTR(flags, what);
  WEFT__CHECK_PTR(abi, what);
  weft__ffn *f = weft__ffn_pin(fn, what);
  if (f == NULL)
    return WEFT__PIN_FAILED;
  *flags = f->flags;
  *abi = f->abi;
  weft__handle_unpin(fn);
  return 0;
}

WEFT_API weft_status weft_ffi_function_arg_count(weft_handle fn, size_t *nargs,
                                                 size_t *nfixed) {
  static const char what[] = "ffi_function_arg_count";
  WEFT__CHECK_PTR(nargs, what);
  WEFT__CHECK_PTR(nfixed, what);
  weft__ffn *f = weft__ffn_pin(fn, what);
  if (f == NULL)
    return WEFT__PIN_FAILED;
  *nargs = f->nargs;
  *nfixed = f->nfixed;
  weft__handle_unpin(fn);
  return 0;
}

WEFT_API weft_status weft_ffi_function_restype(weft_handle fn,
                                               weft_handle *out) {
  static const char what[] = "ffi_function_restype";
  WEFT__CHECK_PTR(out, what);
  weft__ffn *f = weft__ffn_pin(fn, what);
  if (f == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = weft__ftype_handle(f->ret, out);
  weft__handle_unpin(fn);
  return st;
}

WEFT_API weft_status weft_ffi_function_argtype(weft_handle fn, size_t index,
                                               weft_handle *out) {
  static const char what[] = "ffi_function_argtype";
  WEFT__CHECK_PTR(out, what);
  weft__ffn *f = weft__ffn_pin(fn, what);
  if (f == NULL)
    return WEFT__PIN_FAILED;
  weft_status st =
      index < f->nargs
          ? weft__ftype_handle(f->args[index], out)
          : weft__error(-ENOENT, 0,
                        "%s: no argument %zu (the function has %zu)", what,
                        index, f->nargs);
  weft__handle_unpin(fn);
  return st;
}

WEFT_API weft_status weft_ffi_function_name(weft_handle fn, char *buf,
                                            size_t cap, size_t *len) {
  static const char what[] = "ffi_function_name";
  WEFT__CHECK_PTR(len, what);
  WEFT__CHECK_BUF(buf, cap, what);
  weft__ffn *f = weft__ffn_pin(fn, what);
  if (f == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = weft__string_out(f->name, buf, cap, len, what);
  weft__handle_unpin(fn);
  return st;
}

WEFT_API weft_status weft_ffi_address_of(const void *buffer, void **address) {
  static const char what[] = "ffi_address_of";
  WEFT__CHECK_PTR(buffer, what);
  WEFT__CHECK_PTR(address, what);
  *address = (void *)buffer;
  return 0;
}

/* ---- constants ---- */

static const weft__constant ffi_call_constants[] = {
    WEFT__CONST(WEFT_FFI_CALL_VARIADIC),
    WEFT__CONST(WEFT_FFI_CALL_ERRNO),
    WEFT__CONST(WEFT_FFI_CALL_LIBFFI),
    WEFT__CONST(WEFT_FFI_CALL_FAST),
    WEFT__CONST(FFI_DEFAULT_ABI),
#if defined(__x86_64__)
    WEFT__CONST(FFI_UNIX64),
    WEFT__CONST(FFI_WIN64),
    WEFT__CONST(FFI_GNUW64),
#elif defined(__aarch64__)
    WEFT__CONST(FFI_SYSV),
#endif
};

const weft__constant_table weft__ffi_call_constants =
    WEFT__TABLE(ffi_call_constants);
