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
 * register and is narrowed to its type.  A variadic call shape goes
 * through a variadic prototype of the same registers, so the compiler
 * also sets what the ABI asks of a variadic call (%al on x86-64).  This
 * is an ABI-level call, not a C-level one: the compiler is told another
 * prototype than the callee's, which is why it is limited to these two
 * ABIs and to signatures of scalars that fit in registers.
 *
 * Neither path pins the handle per call (two atomic read-modify-writes
 * would cost as much as a call through libffi): each thread keeps its
 * pins in a small cache (the pin cache, below), and a call that hits it
 * costs a few plain loads. */
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
#elif defined(__aarch64__) && !defined(_WIN32) && !defined(__APPLE__) &&       \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
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

/* initial-exec: no __tls_get_addr per call (see tc below). */
static __thread int saved_errno __attribute__((tls_model("initial-exec")));

WEFT_API weft_status weft_ffi_errno_get(int *value) {
  WEFT__CHECK_PTR(value, "ffi_errno_get");
  *value = saved_errno;
  return 0;
}

WEFT_API weft_status weft_ffi_errno_set(int value, int *old) {
  WEFT__CHECK_PTR(old, "ffi_errno_set");
  *old = saved_errno;
  saved_errno = value;
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
  if (!FAST_PATH || (f->flags & WEFT_FFI_CALL_LIBFFI) ||
      (f->abi != 0 && f->abi != FFI_DEFAULT_ABI) || f->nargs > FAST_ARGS ||
      f->address == NULL)
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
  f->narrow = nsse == 0 && nint <= 3 && !is_sse(rc) &&
              !(f->flags & (WEFT_FFI_CALL_ERRNO | WEFT_FFI_CALL_VARIADIC));
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

/* What libffi is given for a result of type t under abi.  On x86-64 a
 * struct or union that is exactly one long double (struct { long double
 * x; }, nested or as an array of one) is returned in %st0 as a long double
 * is (psABI class X87, X87UP), but libffi 3.4 classifies it as memory and
 * passes a hidden pointer the callee does not expect: give libffi the
 * long double itself (the result's bytes are the same). */
static ffi_type *ret_ffi(const weft__ftype *t, ffi_abi abi) {
#if defined(__x86_64__) && !defined(_WIN64)
  const weft__ftype *u = t;
  for (;;) {
    if ((u->kind == WEFT_FFI_KIND_STRUCT || u->kind == WEFT_FFI_KIND_UNION) &&
        u->nfields == 1 && u->fields[0].bits < 0)
      u = u->fields[0].type;
    else if (u->kind == WEFT_FFI_KIND_ARRAY && u->length == 1)
      u = u->elem;
    else
      break;
  }
  if (abi == FFI_UNIX64 && u != t && u->kind == WEFT_FFI_KIND_FLOAT &&
      u->size == sizeof(long double) && t->size == sizeof(long double))
    return &ffi_type_longdouble;
#else
  (void)abi;
#endif
  return t->ffi;
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
  atomic_init(&f->closed, 0);
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
                             (unsigned)nargs, ret_ffi(ret, fabi), f->ffi_args)
          : ffi_prep_cif(&f->cif, fabi, (unsigned)nargs, ret_ffi(ret, fabi),
                         f->ffi_args);
  if (fs != FFI_OK) {
    ffn_free(f);
    return weft__error(WEFT_EFFI, (int)fs, "%s: %s", what, ffi_status_text(fs));
  }
  for (size_t i = 0; i < nargs; i++)
    if (f->ffi_args[i]->type == FFI_TYPE_STRUCT)
      f->copy_args = 1;
  int k = ret->kind;
  f->lean = !(flags & WEFT_FFI_CALL_ERRNO) && !f->copy_args &&
            (k == WEFT_FFI_KIND_VOID || k == WEFT_FFI_KIND_FLOAT ||
             k == WEFT_FFI_KIND_SINT || k == WEFT_FFI_KIND_UINT ||
             k == WEFT_FFI_KIND_POINTER);
  f->ret_small = (k == WEFT_FFI_KIND_SINT || k == WEFT_FFI_KIND_UINT) &&
                 ret->size < sizeof(ffi_arg);
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

/* ---- the handle kind ---- */

static void ffn_close(void *obj) {
  weft__ffn *f = obj;
  atomic_store_explicit(&f->closed, 1, memory_order_relaxed);
}

static void ffn_destroy(void *obj) { weft__ffn_unref(obj); }

static const weft__kind_ops ffn_ops = {
    .name = "ffi_function", .close = ffn_close, .destroy = ffn_destroy};

__attribute__((constructor)) static void ffn_register(void) {
  weft__kind_register(WEFT_KIND_FFI_FUNCTION, &ffn_ops);
}

weft_status weft__ffn_handle(weft__ffn *f, weft_handle *out) {
  weft_status st = weft__handle_new(WEFT_KIND_FFI_FUNCTION, f, out);
  if (st < 0)
    weft__ffn_unref(f);
  return st;
}

weft__ffn *weft__ffn_pin(weft_handle h, const char *what) {
  return weft__handle_pin(h, WEFT_KIND_FFI_FUNCTION, what);
}

/* ---- the per-thread pin cache ----
 *
 * Pinning a handle is two atomic read-modify-writes, which cost as much
 * as a call through libffi.  So a thread that calls a function keeps its
 * pin: each thread has a small direct-mapped cache of the function
 * handles it called, each entry holding one pin.  A hit costs a few
 * plain loads and the check that the handle was not closed since (the
 * close op sets the function's `closed`; the pin keeps it alive to be
 * looked at).  A closed entry lets its pin go the next time the thread
 * looks at it: on a hit of that entry, on any miss (which sweeps the
 * whole cache), or when the thread exits.  So a closed function's memory
 * (its cif, a few hundred bytes) can outlive weft_close until every
 * thread that called it calls again or exits; nothing else is held (no
 * descriptor, no library: a function does not keep its library).
 *
 * A call can nest in another on the same thread (the C function calls a
 * closure whose handler calls weft_ffi_call): `depth` counts the calls
 * in progress, and while one is, no entry lets its pin go (an outer call
 * may be using it, and another thread may have closed it meanwhile); a
 * nested call that needs an occupied entry pins for itself instead. */

#define TC_SIZE 64

typedef struct tcache {
  unsigned depth; /* calls in progress on this thread */
  struct {
    weft_handle h;
    weft__ffn *f;
  } e[TC_SIZE];
} tcache;

/* initial-exec: one pointer of static TLS, no __tls_get_addr per call
 * (glibc keeps room for this much in libraries loaded by dlopen). */
static __thread tcache *tc __attribute__((tls_model("initial-exec")));
static pthread_key_t tc_key;
static int tc_key_ok;
static pthread_once_t tc_once = PTHREAD_ONCE_INIT;

static void tc_release(tcache *c, unsigned i) {
  weft_handle h = c->e[i].h;
  c->e[i].h = 0;
  c->e[i].f = NULL;
  weft__handle_unpin(h);
}

static void tc_destroy(void *arg) {
  tcache *c = arg;
  if (tc == c)
    tc = NULL;
  for (unsigned i = 0; i < TC_SIZE; i++)
    if (c->e[i].h != 0)
      tc_release(c, i);
  free(c);
}

static void tc_key_make(void) {
  tc_key_ok = pthread_key_create(&tc_key, tc_destroy) == 0;
}

static tcache *tc_make(void) {
  pthread_once(&tc_once, tc_key_make);
  if (!tc_key_ok)
    return NULL;
  tcache *c = calloc(1, sizeof *c);
  if (c == NULL || pthread_setspecific(tc_key, c) != 0) {
    free(c);
    return NULL;
  }
  tc = c;
  return c;
}

/* Pin fn into the cache; NULL with WEFT_EBADHANDLE recorded for a bad
 * handle, and with *pinned set (no cache: the caller unpins) when this
 * thread has no cache and cannot make one. */
static weft__ffn *tc_fill(weft_handle fn, int *pinned) {
  tcache *c = tc != NULL ? tc : tc_make();
  weft__ffn *f = weft__handle_pin(fn, WEFT_KIND_FFI_FUNCTION, "ffi_call");
  if (f == NULL)
    return NULL;
  unsigned i = (unsigned)fn & (TC_SIZE - 1);
  if (c == NULL || (c->depth > 0 && c->e[i].h != 0)) {
    *pinned = 1;
    return f;
  }
  if (c->depth == 0) {
    for (unsigned k = 0; k < TC_SIZE; k++)
      if (c->e[k].h != 0 &&
          atomic_load_explicit(&c->e[k].f->closed, memory_order_relaxed))
        tc_release(c, k);
    if (c->e[i].h != 0)
      tc_release(c, i);
  }
  c->e[i].h = fn;
  c->e[i].f = f;
  return f;
}

/* The function behind fn from this thread's cache, or NULL when the cache
 * does not hold it (open): weft_ffi_call then takes call_miss. */
static inline weft__ffn *tc_hit(tcache *c, weft_handle fn) {
  if (c == NULL)
    return NULL;
  unsigned i = (unsigned)fn & (TC_SIZE - 1);
  weft__ffn *f = c->e[i].f;
  if (c->e[i].h != fn || f == NULL) /* an empty entry has h 0, f NULL */
    return NULL;
  if (atomic_load_explicit(&f->closed, memory_order_relaxed)) {
    if (c->depth == 0)
      tc_release(c, i);
    return NULL; /* call_miss fails to pin it: WEFT_EBADHANDLE */
  }
  return f;
}

/* ---- making functions ---- */

/* The flag, abi and count checks of weft_ffi_function_new. */
static weft_status check_shape(size_t nargs, size_t nfixed, int abi, int flags,
                               const char *what) {
  if (flags & ~KNOWN_FLAGS)
    return weft__error(WEFT_EVALUE, 0, "%s: unknown flags 0x%x", what,
                       (unsigned)(flags & ~KNOWN_FLAGS));
  if (nargs > MAX_ARGS)
    return weft__error(WEFT_EVALUE, 0, "%s: %zu arguments (at most %d)", what,
                       nargs, MAX_ARGS);
  if ((flags & WEFT_FFI_CALL_VARIADIC) && nfixed > nargs)
    return weft__error(WEFT_EVALUE, 0, "%s: nfixed %zu is more than nargs %zu",
                       what, nfixed, nargs);
  if (abi < 0 || (abi != 0 && (abi <= FFI_FIRST_ABI || abi >= FFI_LAST_ABI)))
    return weft__error(WEFT_EVALUE, 0, "%s: unknown abi %d", what, abi);
  return 0;
}

WEFT_API weft_status weft_ffi_function_new(void *address, weft_handle restype,
                                           const weft_handle *argtypes,
                                           size_t nargs, size_t nfixed, int abi,
                                           int flags, weft_handle *out) {
  static const char what[] = "ffi_function_new";
  WEFT__CHECK_PTR(out, what);
  if (nargs > 0 && argtypes == NULL)
    return weft__error(WEFT_EVALUE, 0, "%s: argtypes is NULL with nargs %zu",
                       what, nargs);
  /* Handles first (a bad one is WEFT_EBADHANDLE whatever else is wrong),
   * then the shape, then the types' own checks. */
  size_t limit = nargs <= MAX_ARGS ? nargs : MAX_ARGS + 1;
  weft__ftype **types = calloc(limit + 1, sizeof *types);
  if (types == NULL)
    return weft__errno(ENOMEM, what);
  weft_status st = 0;
  size_t pinned = 0;
  weft__ftype *ret = restype == 0 ? weft__ftype_builtin("void")
                                  : weft__ftype_pin(restype, what);
  if (ret == NULL)
    st = WEFT__PIN_FAILED;
  for (; st == 0 && pinned < limit && pinned < nargs; pinned++) {
    types[pinned] = weft__ftype_pin(argtypes[pinned], what);
    if (types[pinned] == NULL)
      st = WEFT__PIN_FAILED;
  }
  if (st < 0 && pinned > 0 && types[pinned - 1] == NULL)
    pinned--; /* the one that failed is not pinned */
  if (st == 0)
    st = check_shape(nargs, nfixed, abi, flags, what);
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
  /* The library first: a bad handle is WEFT_EBADHANDLE whatever the
   * signature says. */
  if (lib != 0) {
    if (weft__handle_pin(lib, WEFT_KIND_FFI_LIBRARY, what) == NULL)
      return WEFT__PIN_FAILED;
    weft__handle_unpin(lib);
  }
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

static __attribute__((noinline)) weft_status call_refused(const weft__ffn *f,
                                                          void **args) {
  static const char what[] = "ffi_call";
  if (f->address == NULL)
    return weft__error(WEFT_ESTATE, 0,
                       "%s: the function has no address (a signature only)",
                       what);
  if (args == NULL)
    return weft__error(WEFT_EVALUE, 0, "%s: args is NULL", what);
  for (size_t i = 0; i < f->nargs; i++)
    if (args[i] == NULL)
      return weft__error(WEFT_EVALUE, 0, "%s: args[%zu] is NULL", what, i);
  return 0;
}

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
typedef int64_t (*fast_int3_fn)(int64_t, int64_t, int64_t);
/* For a variadic callee: the same registers, through a variadic
 * prototype, so the caller also sets what the ABI asks of a variadic
 * call (on x86-64 %al, the number of vector registers used). */
typedef int64_t (*fast_vint_fn)(int64_t, ...);
typedef double (*fast_vdouble_fn)(int64_t, ...);

/* An integer argument of class c at p, widened to 64 bits. */
static inline int64_t int_load(int c, const void *p) {
  switch (c) {
  case FC_S1: {
    int8_t x;
    memcpy(&x, p, 1);
    return x;
  }
  case FC_S2: {
    int16_t x;
    memcpy(&x, p, 2);
    return x;
  }
  case FC_S4: {
    int32_t x;
    memcpy(&x, p, 4);
    return x;
  }
  case FC_U1: {
    uint8_t x;
    memcpy(&x, p, 1);
    return x;
  }
  case FC_U2: {
    uint16_t x;
    memcpy(&x, p, 2);
    return x;
  }
  case FC_U4: {
    uint32_t x;
    memcpy(&x, p, 4);
    return x;
  }
  default: {
    int64_t x;
    memcpy(&x, p, 8);
    return x;
  }
  }
}

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

/* Up to three integer arguments and no floating ones, the most common
 * shape: three registers straight from the arguments, no arrays. */
static inline __attribute__((always_inline)) weft_status
fast_call_narrow(const weft__ffn *f, void *ret, void **args) {
  int64_t a[3] = {0, 0, 0};
  size_t n = f->nargs;
  if (n > 0 && args == NULL)
    return call_refused(f, args);
  for (size_t i = 0; i < n; i++) {
    if (args[i] == NULL)
      return call_refused(f, args);
    a[i] = int_load(f->arg_class[i], args[i]);
  }
  int64_t r = ((fast_int3_fn)f->address)(a[0], a[1], a[2]);
  if (ret != NULL && f->ret_class != FC_NONE)
    fast_store(f->ret_class, r, ret);
  return 0;
}

/* Every other fast-path shape: all registers of the widest prototype. */
static __attribute__((noinline)) weft_status fast_call(const weft__ffn *f,
                                                       void *ret, void **args) {
  int64_t ints[FAST_INTS] = {0};
  double sse[FAST_SSE] = {0};
  size_t ni = 0, ns = 0;
  for (size_t i = 0; i < f->nargs; i++)
    fast_load(f->arg_class[i], args[i], ints, &ni, sse, &ns);
  int use_errno = f->flags & WEFT_FFI_CALL_ERRNO;
  int keep = 0;
  if (use_errno) {
    keep = errno;
    errno = saved_errno;
  }
  int rc = f->ret_class;
  if (f->flags & WEFT_FFI_CALL_VARIADIC) {
    /* A float result is the low half of the vector register: read the
     * register as a double's bits and keep the first four bytes. */
    if (is_sse(rc)) {
      double r = ((fast_vdouble_fn)f->address)(INT_ARGS(ints), SSE_ARGS(sse));
      if (ret != NULL)
        memcpy(ret, &r, rc == FC_F64 ? sizeof(double) : sizeof(float));
    } else {
      int64_t r = ((fast_vint_fn)f->address)(INT_ARGS(ints), SSE_ARGS(sse));
      if (ret != NULL && rc != FC_NONE)
        fast_store(rc, r, ret);
    }
  } else if (rc == FC_F64) {
    double r = ((fast_double_fn)f->address)(INT_ARGS(ints), SSE_ARGS(sse));
    if (ret != NULL)
      memcpy(ret, &r, sizeof r);
  } else if (rc == FC_F32) {
    float r = ((fast_float_fn)f->address)(INT_ARGS(ints), SSE_ARGS(sse));
    if (ret != NULL)
      memcpy(ret, &r, sizeof r);
  } else {
    int64_t r = ((fast_int_fn)f->address)(INT_ARGS(ints), SSE_ARGS(sse));
    if (ret != NULL && rc != FC_NONE)
      fast_store(rc, r, ret);
  }
  if (use_errno) {
    saved_errno = errno;
    errno = keep;
  }
  return 0;
}
#endif

/* Copy a result libffi left in buf to ret: a small integer was widened
 * to a whole ffi_arg (its value is the low bytes of the number). */
static inline void result_out(const weft__ftype *t, const void *buf,
                              void *ret) {
  if (t->size < sizeof(ffi_arg) &&
      (t->kind == WEFT_FFI_KIND_SINT || t->kind == WEFT_FFI_KIND_UINT)) {
    ffi_arg a;
    memcpy(&a, buf, sizeof a);
    uint8_t b1 = (uint8_t)a;
    uint16_t b2 = (uint16_t)a;
    uint32_t b4 = (uint32_t)a;
    if (t->size == 1)
      memcpy(ret, &b1, 1);
    else if (t->size == 2)
      memcpy(ret, &b2, 2);
    else
      memcpy(ret, &b4, 4);
  } else {
    memcpy(ret, buf, t->size);
  }
}

/* The libffi path. */
static __attribute__((noinline)) weft_status slow_call(const weft__ffn *f,
                                                       void *ret, void **args) {
  /* libffi writes exactly a float, double or long double, a whole
   * ffi_arg for any integer, and for a struct returned in registers
   * possibly whole registers: a result of exactly one ffi_arg or a float
   * goes straight to ret, the others through room of our own. */
  const weft__ftype *t = f->ret;
  int direct =
      ret != NULL &&
      (t->kind == WEFT_FFI_KIND_FLOAT ||
       ((t->kind == WEFT_FFI_KIND_SINT || t->kind == WEFT_FFI_KIND_UINT ||
         t->kind == WEFT_FFI_KIND_POINTER) &&
        t->size == sizeof(ffi_arg)));
  _Alignas(16) unsigned char local[64];
  unsigned char *heap = NULL;
  void *buf = direct ? ret : local;
  if (!direct && weft__fret_room(t) > sizeof local) {
    if (ret != NULL) {
      buf = ret; /* a large struct: returned through memory, exactly */
    } else {
      heap = malloc(t->size);
      if (heap == NULL)
        return weft__errno(ENOMEM, "ffi_call");
      buf = heap;
    }
  }
  /* libffi may write to the args array (see copy_args): never the
   * caller's. */
  void *copy[32], **av = args, **av_heap = NULL;
  if (f->copy_args) {
    av = f->nargs <= 32 ? copy : (av_heap = malloc(f->nargs * sizeof *av));
    if (av == NULL) {
      free(heap);
      return weft__errno(ENOMEM, "ffi_call");
    }
    memcpy(av, args, f->nargs * sizeof *av);
  }
  int keep = 0;
  if (f->flags & WEFT_FFI_CALL_ERRNO) {
    keep = errno;
    errno = saved_errno;
  }
  ffi_call((ffi_cif *)&f->cif, FFI_FN(f->address), buf, av);
  if (f->flags & WEFT_FFI_CALL_ERRNO) {
    saved_errno = errno;
    errno = keep;
  }
  if (buf == local && ret != NULL && t->size > 0)
    result_out(t, buf, ret);
  if (__builtin_expect(heap != NULL, 0))
    free(heap);
  if (__builtin_expect(av_heap != NULL, 0))
    free(av_heap);
  return 0;
}

/* A call through f, which the caller keeps alive. */
static inline __attribute__((always_inline)) weft_status
call_with(const weft__ffn *f, void *ret, void **args) {
#if FAST_PATH
  if (f->narrow)
    return fast_call_narrow(f, ret, args); /* checks its arguments */
#endif
  int ok = f->address != NULL && (f->nargs == 0 || args != NULL);
  for (size_t i = 0; ok && i < f->nargs; i++)
    ok = args[i] != NULL;
  if (!ok)
    return call_refused(f, args);
#if FAST_PATH
  if (f->flags & WEFT_FFI_CALL_FAST)
    return fast_call(f, ret, args);
#endif
  if (f->lean) {
    /* A scalar result, no errno, no struct argument: libffi writes the
     * result whole to ret (a whole ffi_arg for a small integer, which is
     * narrowed here), and nothing else needs doing around the call. */
    union {
      ffi_arg a;
      long double ld;
    } scratch;
    void *buf = ret != NULL && !f->ret_small ? ret : &scratch;
    ffi_call((ffi_cif *)&f->cif, FFI_FN(f->address), buf, args);
    if (f->ret_small && ret != NULL)
      result_out(f->ret, &scratch, ret);
    return 0;
  }
  return slow_call(f, ret, args);
}

/* fn is not in this thread's cache: put it there and call. */
static __attribute__((noinline)) weft_status call_miss(weft_handle fn,
                                                       void *ret, void **args) {
  int pinned = 0;
  const weft__ffn *f = tc_fill(fn, &pinned);
  if (f == NULL)
    return WEFT__PIN_FAILED;
  tcache *c = tc;
  if (c != NULL)
    c->depth++;
  weft_status st = call_with(f, ret, args);
  if (c != NULL)
    c->depth--;
  if (pinned) /* a pin of its own: no cache, or a nested call's */
    weft__handle_unpin(fn);
  return st;
}

WEFT_API weft_status weft_ffi_call(weft_handle fn, void *ret, void **args) {
  tcache *c = tc;
  const weft__ffn *f = tc_hit(c, fn);
  if (__builtin_expect(f == NULL, 0))
    return call_miss(fn, ret, args);
  c->depth++;
  weft_status st = call_with(f, ret, args);
  c->depth--;
  return st;
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
