/* ffi_closure.c - the ctypes engine's closures: libffi trampolines that
 * call a language's handler(arg, ret, args).
 *
 * A closure record lives as long as its handle or a call through it:
 * `refs` counts the handle (1) and every call inside the trampoline.  The
 * last one out frees the executable code.  A call that C makes after the
 * close raced with (or came after) the free: that is the caller's bug, as
 * in ctypes.  In debug mode (configure --enable-debug, or WEFT_FFI_DEBUG=1
 * in the environment when the closure is made) the record and its code
 * are never freed, so such a call always lands in the trampoline, which
 * sees `closed`, says so on stderr and aborts. */
#define _GNU_SOURCE
#ifdef HAVE_CONFIG_H
#include "config.h" /* WEFT_DEBUG */
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error.h"
#include "fcall.h"
#include "handle.h"

typedef struct fclosure {
  _Atomic size_t refs;
  _Atomic int closed;
  int debug;
  weft_handle h;
  weft__ffn *sig; /* referenced: its cif is the closure's */
  weft_ffi_handler_fn handler;
  void *arg;
  ffi_closure *closure;  /* writable view */
  void *code;            /* executable address */
  struct fclosure *next; /* in the debug quarantine */
} fclosure;

static int debug_mode(void) {
#ifdef WEFT_DEBUG
  return 1;
#else
  const char *v = getenv("WEFT_FFI_DEBUG");
  return v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;
#endif
}

/* Closed closures in debug mode, kept (and reachable, for leak checkers)
 * so that a late call lands in a trampoline that can tell. */
static fclosure *quarantine;
static pthread_mutex_t quarantine_mu = PTHREAD_MUTEX_INITIALIZER;

static void fclosure_free(fclosure *c) {
  if (c->debug) {
    pthread_mutex_lock(&quarantine_mu);
    c->next = quarantine;
    quarantine = c;
    pthread_mutex_unlock(&quarantine_mu);
    return;
  }
  ffi_closure_free(c->closure);
  weft__ffn_unref(c->sig);
  free(c);
}

static void fclosure_unref(fclosure *c) {
  if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
    fclosure_free(c);
}

static void late_call(fclosure *c) {
  char msg[96];
  int n = snprintf(msg, sizeof msg,
                   "weft: ffi closure %lld called after weft_close\n",
                   (long long)c->h);
  if (n > 0) {
    ssize_t w = write(2, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg);
    (void)w;
  }
  abort();
}

/* Widen a handler's result to what libffi expects for small integers (a
 * whole ffi_arg, extended by the type's sign). */
static void widen(const weft__ftype *t, const void *from, void *ret) {
  size_t n = t->size;
  if (n < sizeof(ffi_arg) &&
      (t->kind == WEFT_FFI_KIND_SINT || t->kind == WEFT_FFI_KIND_UINT)) {
    int sign = t->kind == WEFT_FFI_KIND_SINT;
    int64_t v;
    if (n == 1) {
      int8_t s;
      uint8_t u;
      memcpy(&s, from, 1);
      memcpy(&u, from, 1);
      v = sign ? (int64_t)s : (int64_t)u;
    } else if (n == 2) {
      int16_t s;
      uint16_t u;
      memcpy(&s, from, 2);
      memcpy(&u, from, 2);
      v = sign ? (int64_t)s : (int64_t)u;
    } else {
      int32_t s;
      uint32_t u;
      memcpy(&s, from, 4);
      memcpy(&u, from, 4);
      v = sign ? (int64_t)s : (int64_t)u;
    }
    ffi_arg a = (ffi_arg)v;
    memcpy(ret, &a, sizeof a);
  } else if (n > 0 && from != ret) {
    memcpy(ret, from, n);
  }
}

static void trampoline(ffi_cif *cif, void *ret, void **args, void *user) {
  (void)cif;
  fclosure *c = user;
  atomic_fetch_add_explicit(&c->refs, 1, memory_order_acq_rel);
  const weft__ftype *rt = c->sig->ret;
  size_t room = weft__fret_room(rt);
  if (atomic_load_explicit(&c->closed, memory_order_acquire)) {
    if (c->debug)
      late_call(c);
    if (rt->size > 0)
      memset(ret, 0, room);
    fclosure_unref(c);
    return;
  }
  if (rt->kind == WEFT_FFI_KIND_VOID) {
    c->handler(c->arg, NULL, args);
  } else if (room <= 64) {
    _Alignas(16) unsigned char buf[64];
    memset(buf, 0, room);
    c->handler(c->arg, buf, args);
    widen(rt, buf, ret);
  } else {
    /* A large struct: libffi's buffer is the caller's, of its size. */
    memset(ret, 0, rt->size);
    c->handler(c->arg, ret, args);
  }
  fclosure_unref(c);
}

static void fclosure_close(void *obj) {
  fclosure *c = obj;
  atomic_store_explicit(&c->closed, 1, memory_order_release);
}

static void fclosure_destroy(void *obj) { fclosure_unref(obj); }

static const weft__kind_ops fclosure_ops = {.name = "ffi_closure",
                                            .close = fclosure_close,
                                            .destroy = fclosure_destroy};

__attribute__((constructor)) static void fclosure_register(void) {
  weft__kind_register(WEFT_KIND_FFI_CLOSURE, &fclosure_ops);
}

WEFT_API weft_status weft_ffi_closure_new(weft_handle signature,
                                          weft_ffi_handler_fn handler,
                                          void *arg, weft_handle *out) {
  static const char what[] = "ffi_closure_new";
  WEFT__CHECK_PTR(handler, what);
  WEFT__CHECK_PTR(out, what);
  weft__ffn *f = weft__ffn_pin(signature, what);
  if (f == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = 0;
  fclosure *c = NULL;
  if (f->flags & WEFT_FFI_CALL_VARIADIC) {
    st = weft__error(WEFT_EVALUE, 0,
                     "%s: a closure cannot have a variadic signature", what);
    goto out;
  }
  c = calloc(1, sizeof *c);
  if (c == NULL) {
    st = weft__errno(ENOMEM, what);
    goto out;
  }
  c->closure = ffi_closure_alloc(sizeof(ffi_closure), &c->code);
  if (c->closure == NULL) {
    int e = errno;
    free(c);
    c = NULL;
    st = weft__error(WEFT_EFFI, e,
                     "%s: no executable memory for the trampoline (%s; see "
                     "docs/ffi.md on W^X policies)",
                     what, strerror(e != 0 ? e : ENOMEM));
    goto out;
  }
  atomic_init(&c->refs, 1);
  atomic_init(&c->closed, 0);
  c->debug = debug_mode();
  c->handler = handler;
  c->arg = arg;
  weft__ffn_ref(f);
  c->sig = f;
  ffi_status fs =
      ffi_prep_closure_loc(c->closure, &f->cif, trampoline, c, c->code);
  if (fs != FFI_OK) {
    c->debug = 0;
    fclosure_free(c);
    c = NULL;
    st =
        weft__error(WEFT_EFFI, (int)fs, "%s: libffi refused the closure", what);
    goto out;
  }
  st = weft__handle_new(WEFT_KIND_FFI_CLOSURE, c, &c->h);
  if (st < 0) {
    c->debug = 0;
    fclosure_free(c);
    goto out;
  }
  *out = c->h;
out:
  weft__handle_unpin(signature);
  return st;
}

static fclosure *closure_pin(weft_handle h, const char *what) {
  return weft__handle_pin(h, WEFT_KIND_FFI_CLOSURE, what);
}

WEFT_API weft_status weft_ffi_closure_address(weft_handle closure,
                                              void **address) {
  static const char what[] = "ffi_closure_address";
  WEFT__CHECK_PTR(address, what);
  fclosure *c = closure_pin(closure, what);
  if (c == NULL)
    return WEFT__PIN_FAILED;
  *address = c->code;
  weft__handle_unpin(closure);
  return 0;
}

WEFT_API weft_status weft_ffi_closure_function(weft_handle closure,
                                               weft_handle *out) {
  static const char what[] = "ffi_closure_function";
  WEFT__CHECK_PTR(out, what);
  fclosure *c = closure_pin(closure, what);
  if (c == NULL)
    return WEFT__PIN_FAILED;
  weft__ffn *f = weft__ffn_rebind(c->sig, c->code, what);
  weft__handle_unpin(closure);
  return f != NULL ? weft__ffn_handle(f, out) : weft_last_error_code();
}
