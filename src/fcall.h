/* fcall.h - the ctypes engine's prepared calls (internal).
 *
 * A function object (weft__ffn) is an address plus a prepared libffi cif.
 * It is immutable once made and reference-counted: its handle holds one
 * reference and every closure made from it another, so a closure keeps
 * its signature (cif, types) after the function's handle is closed.  The
 * handle's object is the weft__ffn itself. */
#ifndef WEFT_FCALL_H
#define WEFT_FCALL_H

#include <ffi.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ftype.h"

/* How the fast path moves one value (an argument or a result): an
 * integer of 1, 2, 4 or 8 bytes widened by its sign, or a float or
 * double in a vector register.  0 is "none" (void). */
enum {
  FC_NONE = 0,
  FC_S1,
  FC_S2,
  FC_S4,
  FC_S8,
  FC_U1,
  FC_U2,
  FC_U4,
  FC_U8,
  FC_F32,
  FC_F64,
};

typedef struct weft__ffn {
  _Atomic size_t refs;
  _Atomic int closed; /* its handle was closed (weft_close ran) */
  void *address;
  weft__ftype *ret;   /* referenced; void's builtin for void */
  weft__ftype **args; /* nargs, referenced */
  size_t nargs, nfixed;
  int flags;  /* WEFT_FFI_CALL_*, with _FAST when it applies */
  int abi;    /* as given: 0 for the default */
  char *name; /* "" unless a signature string named it */
  ffi_cif cif;
  ffi_type **ffi_args;
  /* The fast path's description, when WEFT_FFI_CALL_FAST is set. */
  uint8_t ret_class;
  uint8_t narrow; /* at most 3 integer arguments, no floating ones */
  /* A struct argument: libffi's ffi_call (x86-64, 3.4) replaces args[i]
   * of a large struct by a pointer to its own copy, so the slow path
   * hands it a copy of the caller's args array. */
  uint8_t copy_args;
  /* The libffi path needs no buffer, errno or args copy of its own. */
  uint8_t lean;
  uint8_t ret_small; /* an integer result narrower than ffi_arg */
  uint8_t arg_class[16];
} weft__ffn;

/* The class a scalar type moves in (FC_NONE if it is not one the fast
 * path can move: long double, structs, arrays, void). */
int weft__fclass(const weft__ftype *t);

/* The function behind an open function handle, pinned; NULL with
 * WEFT_EBADHANDLE recorded. */
weft__ffn *weft__ffn_pin(weft_handle h, const char *what);

void weft__ffn_ref(weft__ffn *f);
void weft__ffn_unref(weft__ffn *f);

/* A new function object for `address` with f's signature (one reference,
 * for the caller's handle), or NULL on -ENOMEM (recorded). */
weft__ffn *weft__ffn_rebind(const weft__ffn *f, void *address,
                            const char *what);

/* Issue a handle for a new function object (consumes its reference on
 * failure). */
weft_status weft__ffn_handle(weft__ffn *f, weft_handle *out);

/* The bytes of a result of type t that the handler of a closure or a
 * ffi_call writes at most (libffi widens small integers to ffi_arg). */
static inline size_t weft__fret_room(const weft__ftype *t) {
  return t->size < sizeof(ffi_arg) ? sizeof(ffi_arg) : t->size;
}

#endif
