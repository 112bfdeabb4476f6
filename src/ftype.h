/* ftype.h - the ctypes engine's types (internal).
 *
 * A type object (weft__ftype) is immutable once complete, and shared:
 * several handles and other types may refer to one object, each holding
 * a reference.  A handle's slot points at the object; the handle's
 * destroy drops its reference.  Builtin fundamentals are static and
 * never freed.  A struct is the one mutable object: fields are added
 * under its mutex until finish publishes the layout (`finished`, release)
 * and from then on nothing writes it, so readers that saw finished
 * (acquire) need no lock. */
#ifndef WEFT_FTYPE_H
#define WEFT_FTYPE_H

#include <ffi.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>

#include "weft.h"

typedef struct weft__ftype weft__ftype;

typedef struct weft__ffield {
  char *name; /* "" when unnamed */
  weft__ftype *type;
  int bits;        /* -1: not a bitfield; 0: zero-width; else the width */
  size_t offset;   /* byte offset of the field or of its unit */
  size_t unit;     /* bytes read for it (0 for a zero-width bitfield) */
  int bit_offset;  /* bitfields: lowest bit within the unit's value */
  uint64_t bitpos; /* the first bit, from the start, in the struct's order */
} weft__ffield;

struct weft__ftype {
  _Atomic size_t refs; /* unused for builtins */
  int builtin;
  int kind; /* WEFT_FFI_KIND_* */
  int code; /* ctypes code, or 0 */
  const char *name;
  size_t size, align;
  int depth; /* nesting: 0 for fundamentals, 1 + the deepest part */
  weft__ftype *dead_next; /* while being freed */
  ffi_type *ffi;          /* what libffi is given for this type */
  /* pointer target, array element */
  weft__ftype *elem;
  size_t length;
  /* compound types own their libffi description */
  ffi_type ffi_own;
  ffi_type **ffi_elements;
  /* structs and unions */
  pthread_mutex_t mu;   /* guards the fields until finished */
  _Atomic int finished; /* also 1 for every non-struct type */
  int flags, pack, user_align;
  int misaligned; /* a packed field below its type's alignment */
  size_t nfields, fields_cap;
  weft__ffield *fields;
};

/* The type behind an open type handle, pinned (unpin with
 * weft__handle_unpin); NULL with WEFT_EBADHANDLE recorded. */
weft__ftype *weft__ftype_pin(weft_handle h, const char *what);

/* Take and drop a reference to a type object. */
void weft__ftype_ref(weft__ftype *t);
void weft__ftype_unref(weft__ftype *t);

/* The builtin fundamental called `name` (weft_ffi_type_named's names;
 * "void" too), or NULL.  Builtins are static: no reference to take. */
weft__ftype *weft__ftype_builtin(const char *name);

/* A new handle of t (which gets a reference for it). */
weft_status weft__ftype_handle(weft__ftype *t, weft_handle *out);

#endif
