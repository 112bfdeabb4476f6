/* ffi_type.c - the ctypes engine's types: fundamentals, pointers, arrays,
 * structs and unions, their layout (gcc's and MS rules) and their libffi
 * descriptions.  The layout rules are in docs/ffi.md. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "constant.h"
#include "error.h"
#include "ftype.h"
#include "handle.h"

/* No type may exceed this many bytes, so bit positions fit 64 bits. */
#define SIZE_LIMIT ((size_t)1 << 56)
#define ALIGN_LIMIT (1 << 28) /* gcc's largest aligned() on ELF */
/* Types nest at most this deep (pointers, arrays and structs), which
 * bounds the recursion of the few walks that recurse. */
#define DEPTH_LIMIT 256

/* ---- fundamentals ---- */

enum {
  FT_VOID,
  FT_BOOL,
  FT_CHAR,
  FT_WCHAR,
  FT_SCHAR,
  FT_UCHAR,
  FT_SHORT,
  FT_USHORT,
  FT_INT,
  FT_UINT,
  FT_LONG,
  FT_ULONG,
  FT_LONGLONG,
  FT_ULONGLONG,
  FT_FLOAT,
  FT_DOUBLE,
  FT_LONGDOUBLE,
  FT_CHARP,
  FT_WCHARP,
  FT_VOIDP,
  FT_COUNT
};

static weft__ftype builtins[FT_COUNT];

/* The libffi integer type of a size and signedness. */
static ffi_type *int_ffi(size_t size, int is_signed) {
  switch (size) {
  case 1:
    return is_signed ? &ffi_type_sint8 : &ffi_type_uint8;
  case 2:
    return is_signed ? &ffi_type_sint16 : &ffi_type_uint16;
  case 4:
    return is_signed ? &ffi_type_sint32 : &ffi_type_uint32;
  default:
    return is_signed ? &ffi_type_sint64 : &ffi_type_uint64;
  }
}

static void builtin(int id, int code, const char *name, int kind, size_t size,
                    size_t align, ffi_type *ffi) {
  weft__ftype *t = &builtins[id];
  t->builtin = 1;
  t->code = code;
  t->name = name;
  t->kind = kind;
  t->size = size;
  t->align = align;
  t->ffi = ffi;
  atomic_init(&t->finished, 1);
}

#define SINT WEFT_FFI_KIND_SINT
#define UINT WEFT_FFI_KIND_UINT
#define INTEGER(id, code, name, type, is_signed)                               \
  builtin(id, code, name, (is_signed) ? SINT : UINT, sizeof(type),             \
          _Alignof(type), int_ffi(sizeof(type), (is_signed)))

static void builtins_init(void) {
  builtin(FT_VOID, 0, "void", WEFT_FFI_KIND_VOID, 0, 1, &ffi_type_void);
  INTEGER(FT_BOOL, '?', "bool", _Bool, 0);
  INTEGER(FT_CHAR, 'c', "char", char, CHAR_MIN < 0);
  INTEGER(FT_WCHAR, 'u', "wchar_t", wchar_t, WCHAR_MIN < 0);
  INTEGER(FT_SCHAR, 'b', "signed char", signed char, 1);
  INTEGER(FT_UCHAR, 'B', "unsigned char", unsigned char, 0);
  INTEGER(FT_SHORT, 'h', "short", short, 1);
  INTEGER(FT_USHORT, 'H', "unsigned short", unsigned short, 0);
  INTEGER(FT_INT, 'i', "int", int, 1);
  INTEGER(FT_UINT, 'I', "unsigned int", unsigned int, 0);
  INTEGER(FT_LONG, 'l', "long", long, 1);
  INTEGER(FT_ULONG, 'L', "unsigned long", unsigned long, 0);
  INTEGER(FT_LONGLONG, 'q', "long long", long long, 1);
  INTEGER(FT_ULONGLONG, 'Q', "unsigned long long", unsigned long long, 0);
  builtin(FT_FLOAT, 'f', "float", WEFT_FFI_KIND_FLOAT, sizeof(float),
          _Alignof(float), &ffi_type_float);
  builtin(FT_DOUBLE, 'd', "double", WEFT_FFI_KIND_FLOAT, sizeof(double),
          _Alignof(double), &ffi_type_double);
  builtin(FT_LONGDOUBLE, 'g', "long double", WEFT_FFI_KIND_FLOAT,
          sizeof(long double), _Alignof(long double), &ffi_type_longdouble);
  builtin(FT_CHARP, 'z', "char*", WEFT_FFI_KIND_POINTER, sizeof(char *),
          _Alignof(char *), &ffi_type_pointer);
  builtin(FT_WCHARP, 'Z', "wchar_t*", WEFT_FFI_KIND_POINTER, sizeof(wchar_t *),
          _Alignof(wchar_t *), &ffi_type_pointer);
  builtin(FT_VOIDP, 'P', "void*", WEFT_FFI_KIND_POINTER, sizeof(void *),
          _Alignof(void *), &ffi_type_pointer);
  builtins[FT_CHARP].elem = &builtins[FT_CHAR];
  builtins[FT_WCHARP].elem = &builtins[FT_WCHAR];
  builtins[FT_VOIDP].elem = &builtins[FT_VOID];
}

/* The fundamental ctypes picks for a fixed-width integer: the first of
 * (char,) short, int, long, long long with that size. */
static int fixed_width(size_t size, int is_signed) {
  static const int sints[] = {FT_SCHAR, FT_SHORT, FT_INT, FT_LONG, FT_LONGLONG};
  static const int uints[] = {FT_UCHAR, FT_USHORT, FT_UINT, FT_ULONG,
                              FT_ULONGLONG};
  for (size_t i = 0; i < 5; i++) {
    int id = is_signed ? sints[i] : uints[i];
    if (builtins[id].size == size)
      return id;
  }
  return -1;
}

typedef struct type_name {
  const char *name;
  int id; /* FT_*, or -(size * 2 + signed) - 1 for a fixed-width name */
} type_name;

#define FIXED(size, is_signed) (-((int)(size)*2 + (is_signed)) - 1)

static const type_name names[] = {
    {"?", FT_BOOL},
    {"bool", FT_BOOL},
    {"_Bool", FT_BOOL},
    {"c_bool", FT_BOOL},
    {"c", FT_CHAR},
    {"char", FT_CHAR},
    {"c_char", FT_CHAR},
    {"u", FT_WCHAR},
    {"wchar_t", FT_WCHAR},
    {"c_wchar", FT_WCHAR},
    {"b", FT_SCHAR},
    {"signed char", FT_SCHAR},
    {"c_byte", FT_SCHAR},
    {"B", FT_UCHAR},
    {"unsigned char", FT_UCHAR},
    {"c_ubyte", FT_UCHAR},
    {"h", FT_SHORT},
    {"short", FT_SHORT},
    {"c_short", FT_SHORT},
    {"H", FT_USHORT},
    {"unsigned short", FT_USHORT},
    {"c_ushort", FT_USHORT},
    {"i", FT_INT},
    {"int", FT_INT},
    {"c_int", FT_INT},
    {"I", FT_UINT},
    {"unsigned int", FT_UINT},
    {"unsigned", FT_UINT},
    {"c_uint", FT_UINT},
    {"l", FT_LONG},
    {"long", FT_LONG},
    {"c_long", FT_LONG},
    {"L", FT_ULONG},
    {"unsigned long", FT_ULONG},
    {"c_ulong", FT_ULONG},
    {"q", FT_LONGLONG},
    {"long long", FT_LONGLONG},
    {"c_longlong", FT_LONGLONG},
    {"Q", FT_ULONGLONG},
    {"unsigned long long", FT_ULONGLONG},
    {"c_ulonglong", FT_ULONGLONG},
    {"f", FT_FLOAT},
    {"float", FT_FLOAT},
    {"c_float", FT_FLOAT},
    {"d", FT_DOUBLE},
    {"double", FT_DOUBLE},
    {"c_double", FT_DOUBLE},
    {"g", FT_LONGDOUBLE},
    {"long double", FT_LONGDOUBLE},
    {"c_longdouble", FT_LONGDOUBLE},
    {"z", FT_CHARP},
    {"char*", FT_CHARP},
    {"c_char_p", FT_CHARP},
    {"Z", FT_WCHARP},
    {"wchar_t*", FT_WCHARP},
    {"c_wchar_p", FT_WCHARP},
    {"P", FT_VOIDP},
    {"void*", FT_VOIDP},
    {"c_void_p", FT_VOIDP},
    {"void", FT_VOID},
    {"int8", FIXED(1, 1)},
    {"int8_t", FIXED(1, 1)},
    {"c_int8", FIXED(1, 1)},
    {"uint8", FIXED(1, 0)},
    {"uint8_t", FIXED(1, 0)},
    {"c_uint8", FIXED(1, 0)},
    {"int16", FIXED(2, 1)},
    {"int16_t", FIXED(2, 1)},
    {"c_int16", FIXED(2, 1)},
    {"uint16", FIXED(2, 0)},
    {"uint16_t", FIXED(2, 0)},
    {"c_uint16", FIXED(2, 0)},
    {"int32", FIXED(4, 1)},
    {"int32_t", FIXED(4, 1)},
    {"c_int32", FIXED(4, 1)},
    {"uint32", FIXED(4, 0)},
    {"uint32_t", FIXED(4, 0)},
    {"c_uint32", FIXED(4, 0)},
    {"int64", FIXED(8, 1)},
    {"int64_t", FIXED(8, 1)},
    {"c_int64", FIXED(8, 1)},
    {"uint64", FIXED(8, 0)},
    {"uint64_t", FIXED(8, 0)},
    {"c_uint64", FIXED(8, 0)},
    {"size_t", FIXED(sizeof(size_t), 0)},
    {"c_size_t", FIXED(sizeof(size_t), 0)},
    {"ssize_t", FIXED(sizeof(size_t), 1)},
    {"c_ssize_t", FIXED(sizeof(size_t), 1)},
    {"intptr_t", FIXED(sizeof(void *), 1)},
    {"uintptr_t", FIXED(sizeof(void *), 0)},
    {"ptrdiff_t", FIXED(sizeof(ptrdiff_t), 1)},
};

weft__ftype *weft__ftype_builtin(const char *name) {
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (strcmp(names[i].name, name) != 0)
      continue;
    int id = names[i].id;
    if (id < 0) {
      int code = -id - 1;
      id = fixed_width((size_t)code / 2, code & 1);
      if (id < 0)
        return NULL;
    }
    return &builtins[id];
  }
  return NULL;
}

/* ---- objects, references, handles ---- */

static int is_record_kind(int kind) {
  return kind == WEFT_FFI_KIND_STRUCT || kind == WEFT_FFI_KIND_UNION;
}

void weft__ftype_ref(weft__ftype *t) {
  if (!t->builtin)
    atomic_fetch_add_explicit(&t->refs, 1, memory_order_relaxed);
}

/* Objects whose last reference went are queued on `dead` (through
 * their elem pointer, which is kept in `next_elem` first) and freed in a
 * loop, so a long chain of types is released without recursion. */
static void ftype_free_one(weft__ftype *t, weft__ftype **dead) {
  for (size_t i = 0; i < t->nfields; i++) {
    weft__ftype *f = t->fields[i].type;
    free(t->fields[i].name);
    if (!f->builtin &&
        atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1) {
      f->dead_next = *dead;
      *dead = f;
    }
  }
  weft__ftype *e = t->elem;
  if (e != NULL && !e->builtin &&
      atomic_fetch_sub_explicit(&e->refs, 1, memory_order_acq_rel) == 1) {
    e->dead_next = *dead;
    *dead = e;
  }
  free(t->fields);
  free(t->ffi_elements);
  if (is_record_kind(t->kind))
    pthread_mutex_destroy(&t->mu);
  free(t);
}

void weft__ftype_unref(weft__ftype *t) {
  if (t == NULL || t->builtin ||
      atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1)
    return;
  t->dead_next = NULL;
  weft__ftype *dead = t;
  while (dead != NULL) {
    weft__ftype *d = dead;
    dead = d->dead_next;
    ftype_free_one(d, &dead);
  }
}

static void ftype_destroy(void *obj) { weft__ftype_unref(obj); }

/* No close op: nobody waits on a type; the last unpin drops the handle's
 * reference. */
static const weft__kind_ops ftype_ops = {.name = "ffi_type",
                                         .destroy = ftype_destroy};

__attribute__((constructor)) static void ftype_register(void) {
  builtins_init();
  weft__kind_register(WEFT_KIND_FFI_TYPE, &ftype_ops);
}

weft__ftype *weft__ftype_pin(weft_handle h, const char *what) {
  return weft__handle_pin(h, WEFT_KIND_FFI_TYPE, what);
}

/* A new handle for t, which gets a reference of its own. */
static weft_status handle_for(weft__ftype *t, weft_handle *out) {
  weft__ftype_ref(t);
  weft_status st = weft__handle_new(WEFT_KIND_FFI_TYPE, t, out);
  if (st < 0)
    weft__ftype_unref(t);
  return st;
}

weft_status weft__ftype_handle(weft__ftype *t, weft_handle *out) {
  return handle_for(t, out);
}

/* A new compound object with one reference (its first handle's). */
static weft__ftype *ftype_alloc(int kind) {
  weft__ftype *t = calloc(1, sizeof *t);
  if (t == NULL)
    return NULL;
  atomic_init(&t->refs, 1);
  t->kind = kind;
  t->ffi = &t->ffi_own;
  atomic_init(&t->finished, 1);
  return t;
}

static weft_status handle_for_new(weft__ftype *t, weft_handle *out) {
  weft_status st = weft__handle_new(WEFT_KIND_FFI_TYPE, t, out);
  if (st < 0)
    weft__ftype_unref(t);
  return st;
}

static int is_record(const weft__ftype *t) { return is_record_kind(t->kind); }

static int is_finished(weft__ftype *t) {
  return atomic_load_explicit(&t->finished, memory_order_acquire);
}

static int is_integer(const weft__ftype *t) {
  return t->kind == WEFT_FFI_KIND_SINT || t->kind == WEFT_FFI_KIND_UINT;
}

/* Pin a type and check it is complete; NULL with the status in *st. */
static weft__ftype *pin_complete(weft_handle h, const char *what,
                                 weft_status *st) {
  weft__ftype *t = weft__ftype_pin(h, what);
  if (t == NULL) {
    *st = WEFT__PIN_FAILED;
    return NULL;
  }
  if (!is_finished(t)) {
    weft__handle_unpin(h);
    *st = weft__error(WEFT_ESTATE, 0, "%s: the struct is not finished", what);
    return NULL;
  }
  return t;
}

/* ---- fundamentals, pointers, arrays ---- */

WEFT_API weft_status weft_ffi_type_named(const char *name, weft_handle *out) {
  WEFT__CHECK_PTR(name, "ffi_type_named");
  WEFT__CHECK_PTR(out, "ffi_type_named");
  weft__ftype *t = weft__ftype_builtin(name);
  if (t == NULL)
    return weft__error(-ENOENT, 0, "ffi_type_named: no type named \"%s\"",
                       name);
  return handle_for(t, out);
}

WEFT_API weft_status weft_ffi_pointer_new(weft_handle type, weft_handle *out) {
  const char *what = "ffi_pointer_new";
  WEFT__CHECK_PTR(out, what);
  weft__ftype *elem = weft__ftype_pin(type, what);
  if (elem == NULL)
    return WEFT__PIN_FAILED;
  int depth = (is_finished(elem) ? elem->depth : 0) + 1;
  if (depth > DEPTH_LIMIT) {
    weft__handle_unpin(type);
    return weft__error(WEFT_EVALUE, 0, "%s: types nest deeper than %d", what,
                       DEPTH_LIMIT);
  }
  weft__ftype *t = ftype_alloc(WEFT_FFI_KIND_POINTER);
  if (t == NULL) {
    weft__handle_unpin(type);
    return weft__errno(ENOMEM, what);
  }
  t->depth = depth;
  t->size = sizeof(void *);
  t->align = _Alignof(void *);
  t->ffi = &ffi_type_pointer;
  weft__ftype_ref(elem);
  t->elem = elem;
  weft__handle_unpin(type);
  return handle_for_new(t, out);
}

/* Element lists of arrays up to this size repeat the element, so libffi
 * classifies an aggregate holding the array right (no ABI passes a
 * larger aggregate in registers); larger ones list it once, with the size
 * set, which libffi then trusts. */
#define FFI_EXPAND_LIMIT 128

/* The array object of `length` elem (checked), or NULL with the status
 * recorded in *st. */
static weft__ftype *array_make(weft__ftype *elem, size_t length,
                               const char *what, weft_status *st) {
  if (elem->kind == WEFT_FFI_KIND_VOID) {
    *st = weft__error(WEFT_EVALUE, 0, "%s: an array of void", what);
    return NULL;
  }
  if (elem->depth + 1 > DEPTH_LIMIT) {
    *st = weft__error(WEFT_EVALUE, 0, "%s: types nest deeper than %d", what,
                      DEPTH_LIMIT);
    return NULL;
  }
  if (elem->size != 0 && length > SIZE_LIMIT / elem->size) {
    *st = weft__error(WEFT_EVALUE, 0,
                      "%s: %zu elements of %zu bytes exceed 2^56 bytes", what,
                      length, elem->size);
    return NULL;
  }
  size_t size = elem->size * length;
  size_t n = size <= FFI_EXPAND_LIMIT ? length : 1;
  weft__ftype *t = ftype_alloc(WEFT_FFI_KIND_ARRAY);
  ffi_type **v = calloc(n + 1, sizeof(ffi_type *));
  if (t == NULL || v == NULL) {
    free(t);
    free(v);
    *st = weft__errno(ENOMEM, what);
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    v[i] = elem->ffi;
  t->size = size;
  t->align = elem->align;
  t->depth = elem->depth + 1;
  t->length = length;
  t->ffi_elements = v;
  t->ffi_own.size = size;
  t->ffi_own.alignment = (unsigned short)t->align;
  t->ffi_own.type = FFI_TYPE_STRUCT;
  t->ffi_own.elements = v;
  weft__ftype_ref(elem);
  t->elem = elem;
  return t;
}

WEFT_API weft_status weft_ffi_array_new(weft_handle type, size_t length,
                                        weft_handle *out) {
  const char *what = "ffi_array_new";
  WEFT__CHECK_PTR(out, what);
  weft_status st;
  weft__ftype *elem = pin_complete(type, what, &st);
  if (elem == NULL)
    return st;
  weft__ftype *t = array_make(elem, length, what, &st);
  weft__handle_unpin(type);
  return t != NULL ? handle_for_new(t, out) : st;
}

WEFT_API weft_status weft_ffi_type_size(weft_handle type, size_t *size) {
  WEFT__CHECK_PTR(size, "ffi_type_size");
  weft_status st;
  weft__ftype *t = pin_complete(type, "ffi_type_size", &st);
  if (t == NULL)
    return st;
  *size = t->size;
  weft__handle_unpin(type);
  return 0;
}

WEFT_API weft_status weft_ffi_type_align(weft_handle type, size_t *align) {
  WEFT__CHECK_PTR(align, "ffi_type_align");
  weft_status st;
  weft__ftype *t = pin_complete(type, "ffi_type_align", &st);
  if (t == NULL)
    return st;
  *align = t->align;
  weft__handle_unpin(type);
  return 0;
}

WEFT_API weft_status weft_ffi_type_kind(weft_handle type, int *kind) {
  WEFT__CHECK_PTR(kind, "ffi_type_kind");
  weft__ftype *t = weft__ftype_pin(type, "ffi_type_kind");
  if (t == NULL)
    return WEFT__PIN_FAILED;
  *kind = t->kind;
  weft__handle_unpin(type);
  return 0;
}

WEFT_API weft_status weft_ffi_type_code(weft_handle type, int *code) {
  WEFT__CHECK_PTR(code, "ffi_type_code");
  weft__ftype *t = weft__ftype_pin(type, "ffi_type_code");
  if (t == NULL)
    return WEFT__PIN_FAILED;
  *code = t->code;
  weft__handle_unpin(type);
  return 0;
}

/* t's name into buf (always NUL-terminated, truncated at cap); the full
 * length is returned.  Pointer chains are walked without recursion. */
static size_t name_of(const weft__ftype *t, char *buf, size_t cap) {
  size_t stars = 0;
  while (t->kind == WEFT_FFI_KIND_POINTER && t->code == 0) {
    stars++;
    t = t->elem;
  }
  char base[64];
  if (t->kind == WEFT_FFI_KIND_ARRAY)
    name_of(t->elem, base, sizeof base); /* short: its own name */
  const char *b = t->name != NULL                   ? t->name
                  : t->kind == WEFT_FFI_KIND_STRUCT ? "struct"
                  : t->kind == WEFT_FFI_KIND_UNION  ? "union"
                                                    : base;
  int n = t->kind == WEFT_FFI_KIND_ARRAY
              ? snprintf(buf, cap, "%s[%zu]", b, t->length)
              : snprintf(buf, cap, "%s", b);
  size_t len = n < 0 ? 0 : (size_t)n;
  for (size_t i = 0; i < stars; i++, len++)
    if (len + 1 < cap) {
      buf[len] = '*';
      buf[len + 1] = '\0';
    }
  return len;
}

WEFT_API weft_status weft_ffi_type_name(weft_handle type, char *buf, size_t cap,
                                        size_t *len) {
  const char *what = "ffi_type_name";
  WEFT__CHECK_PTR(len, what);
  WEFT__CHECK_BUF(buf, cap, what);
  weft__ftype *t = weft__ftype_pin(type, what);
  if (t == NULL)
    return WEFT__PIN_FAILED;
  size_t n = name_of(t, NULL, 0);
  char small[256];
  char *name = n < sizeof small ? small : malloc(n + 1);
  weft_status st;
  if (name == NULL) {
    st = weft__errno(ENOMEM, what);
  } else {
    name_of(t, name, n + 1);
    st = weft__string_out(name, buf, cap, len, what);
    if (name != small)
      free(name);
  }
  weft__handle_unpin(type);
  return st;
}

WEFT_API weft_status weft_ffi_type_element(weft_handle type, weft_handle *out) {
  const char *what = "ffi_type_element";
  WEFT__CHECK_PTR(out, what);
  weft__ftype *t = weft__ftype_pin(type, what);
  if (t == NULL)
    return WEFT__PIN_FAILED;
  weft_status st;
  if (t->elem == NULL)
    st = weft__error(WEFT_EVALUE, 0, "%s: %s is not a pointer or array", what,
                     t->name != NULL ? t->name : "the type");
  else
    st = handle_for(t->elem, out);
  weft__handle_unpin(type);
  return st;
}

WEFT_API weft_status weft_ffi_type_length(weft_handle type, size_t *length) {
  const char *what = "ffi_type_length";
  WEFT__CHECK_PTR(length, what);
  weft__ftype *t = weft__ftype_pin(type, what);
  if (t == NULL)
    return WEFT__PIN_FAILED;
  weft_status st = 0;
  if (t->kind == WEFT_FFI_KIND_ARRAY)
    *length = t->length;
  else
    st = weft__error(WEFT_EVALUE, 0, "%s: the type is not an array", what);
  weft__handle_unpin(type);
  return st;
}

/* ---- structs: building ---- */

static int power_of_two(long v) { return v > 0 && (v & (v - 1)) == 0; }

#define ENDIAN_FLAGS (WEFT_FFI_BIG_ENDIAN | WEFT_FFI_LITTLE_ENDIAN)

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define NATIVE_ENDIAN WEFT_FFI_BIG_ENDIAN
#else
#define NATIVE_ENDIAN WEFT_FFI_LITTLE_ENDIAN
#endif

WEFT_API weft_status weft_ffi_struct_new(int flags, int pack, int align,
                                         weft_handle *out) {
  const char *what = "ffi_struct_new";
  WEFT__CHECK_PTR(out, what);
  if (flags & ~(WEFT_FFI_UNION | WEFT_FFI_MS | ENDIAN_FLAGS))
    return weft__error(WEFT_EVALUE, 0, "%s: unknown flags 0x%x", what,
                       (unsigned)flags);
  if ((flags & ENDIAN_FLAGS) == ENDIAN_FLAGS)
    return weft__error(WEFT_EVALUE, 0,
                       "%s: both WEFT_FFI_BIG_ENDIAN and "
                       "WEFT_FFI_LITTLE_ENDIAN",
                       what);
  if (pack != 0 && (!power_of_two(pack) || pack > 16))
    return weft__error(WEFT_EVALUE, 0,
                       "%s: pack must be 0, 1, 2, 4, 8 or 16, not %d", what,
                       pack);
  if (align != 0 && (!power_of_two(align) || align > ALIGN_LIMIT))
    return weft__error(WEFT_EVALUE, 0,
                       "%s: align must be 0 or a power of two up to 2^28, "
                       "not %d",
                       what, align);
  if ((flags & ENDIAN_FLAGS) == 0)
    flags |= NATIVE_ENDIAN;
  weft__ftype *t = ftype_alloc(flags & WEFT_FFI_UNION ? WEFT_FFI_KIND_UNION
                                                      : WEFT_FFI_KIND_STRUCT);
  if (t == NULL)
    return weft__errno(ENOMEM, what);
  pthread_mutex_init(&t->mu, NULL);
  atomic_init(&t->finished, 0);
  t->flags = flags;
  t->pack = pack;
  t->user_align = align;
  t->align = 1;
  return handle_for_new(t, out);
}

/* Check a new field; 0 or the status recorded.  Called under s->mu. */
static weft_status field_check(const weft__ftype *s, const char *name,
                               weft__ftype *t, int bits, const char *what) {
  if (t->kind == WEFT_FFI_KIND_VOID)
    return weft__error(WEFT_EVALUE, 0, "%s: field \"%s\" has type void", what,
                       name);
  if (t->depth + 1 > DEPTH_LIMIT)
    return weft__error(WEFT_EVALUE, 0, "%s: types nest deeper than %d", what,
                       DEPTH_LIMIT);
  if (bits < -1)
    return weft__error(WEFT_EVALUE, 0, "%s: field \"%s\": bits is %d", what,
                       name, bits);
  if (bits >= 0) {
    if (!is_integer(t))
      return weft__error(WEFT_EVALUE, 0,
                         "%s: bitfield \"%s\" of a type that is not an "
                         "integer",
                         what, name);
    int max = t->code == '?' ? 1 : (int)(t->size * 8);
    if (bits > max)
      return weft__error(WEFT_EVALUE, 0,
                         "%s: bitfield \"%s\" is %d bits wide, wider than "
                         "its type %s (%d)",
                         what, name, bits, t->name, max);
    if (bits == 0 && name[0] != '\0')
      return weft__error(WEFT_EVALUE, 0,
                         "%s: zero-width bitfield \"%s\" has a name", what,
                         name);
  }
  if (name[0] == '\0' && bits < 0 && !is_record(t))
    return weft__error(WEFT_EVALUE, 0,
                       "%s: only bitfields and struct or union members may "
                       "be unnamed",
                       what);
  if (name[0] != '\0')
    for (size_t i = 0; i < s->nfields; i++)
      if (strcmp(s->fields[i].name, name) == 0)
        return weft__error(WEFT_EVALUE, 0, "%s: duplicate field \"%s\"", what,
                           name);
  return 0;
}

WEFT_API weft_status weft_ffi_struct_add(weft_handle st, const char *name,
                                         weft_handle type, int bits) {
  const char *what = "ffi_struct_add";
  WEFT__CHECK_PTR(name, what);
  weft__ftype *s = weft__ftype_pin(st, what);
  if (s == NULL)
    return WEFT__PIN_FAILED;
  weft__ftype *t = weft__ftype_pin(type, what);
  if (t == NULL) {
    weft__handle_unpin(st);
    return WEFT__PIN_FAILED;
  }
  weft_status rc = 0;
  if (!is_record(s)) {
    rc = weft__error(WEFT_EVALUE, 0, "%s: the type is not a struct", what);
  } else if (!is_finished(t)) {
    rc = weft__error(WEFT_ESTATE, 0,
                     "%s: field \"%s\" has an unfinished struct type", what,
                     name);
  } else {
    pthread_mutex_lock(&s->mu);
    if (is_finished(s))
      rc = weft__error(WEFT_ESTATE, 0, "%s: the struct is finished", what);
    else
      rc = field_check(s, name, t, bits, what);
    if (rc == 0 && s->nfields == s->fields_cap) {
      size_t cap = s->fields_cap ? s->fields_cap * 2 : 8;
      weft__ffield *f = realloc(s->fields, cap * sizeof *f);
      if (f == NULL) {
        rc = weft__errno(ENOMEM, what);
      } else {
        s->fields = f;
        s->fields_cap = cap;
      }
    }
    char *copy = rc == 0 ? strdup(name) : NULL;
    if (rc == 0 && copy == NULL)
      rc = weft__errno(ENOMEM, what);
    if (rc == 0) {
      weft__ffield *f = &s->fields[s->nfields++];
      memset(f, 0, sizeof *f);
      f->name = copy;
      f->type = t;
      f->bits = bits;
      weft__ftype_ref(t);
      if (t->depth + 1 > s->depth)
        s->depth = t->depth + 1;
    }
    pthread_mutex_unlock(&s->mu);
  }
  weft__handle_unpin(type);
  weft__handle_unpin(st);
  return rc;
}

/* ---- structs: layout ----
 *
 * Positions are in bits from the start of the struct.  The rules are
 * gcc's (stor-layout.c, place_field and update_alignment_for_field) for
 * x86-64 and other System V targets, and its ms_bitfield_layout_p rules;
 * docs/ffi.md states them in prose. */

static uint64_t round_up(uint64_t v, uint64_t m) {
  return m <= 1 ? v : (v + m - 1) / m * m;
}

static uint64_t round_down(uint64_t v, uint64_t m) {
  return m <= 1 ? v : v / m * m;
}

static uint64_t min_u(uint64_t a, uint64_t b) { return a < b ? a : b; }
static uint64_t max_u(uint64_t a, uint64_t b) { return a > b ? a : b; }

typedef struct layout_state {
  uint64_t pos;       /* the next free bit */
  uint64_t size;      /* bits used so far (a union's largest member) */
  uint64_t rec_align; /* bits */
  uint64_t pack;      /* bits; 0: none */
  /* MS rules: the open allocation unit of a run of bitfields */
  int in_run;
  uint64_t run_type_bits, remaining;
} layout_state;

static uint64_t capped(const layout_state *ls, uint64_t align_bits) {
  return ls->pack ? min_u(align_bits, ls->pack) : align_bits;
}

static void place_gcc(layout_state *ls, weft__ffield *f) {
  uint64_t tbits = f->type->size * 8, abits = f->type->align * 8;
  if (f->bits < 0) {
    uint64_t a = capped(ls, abits);
    ls->pos = round_up(ls->pos, a);
    f->bitpos = ls->pos;
    ls->pos += tbits;
    ls->rec_align = max_u(ls->rec_align, a);
  } else if (f->bits == 0) {
    /* Not capped by pack, and no alignment for the struct (unnamed). */
    ls->pos = round_up(ls->pos, abits);
    f->bitpos = ls->pos;
  } else {
    uint64_t w = (uint64_t)f->bits;
    /* A bitfield may not span more units of its type's alignment than
     * its type has, unless packed. */
    if (!ls->pack && (ls->pos % abits + w + abits - 1) / abits > tbits / abits)
      ls->pos = round_up(ls->pos, abits);
    f->bitpos = ls->pos;
    ls->pos += w;
    if (f->name[0] != '\0')
      ls->rec_align = max_u(ls->rec_align, capped(ls, abits));
  }
}

static void close_run(layout_state *ls) {
  if (ls->in_run)
    ls->pos += ls->remaining;
  ls->in_run = 0;
}

static void place_ms(layout_state *ls, weft__ffield *f) {
  uint64_t tbits = f->type->size * 8, abits = f->type->align * 8;
  uint64_t a = capped(ls, abits);
  if (f->bits < 0) {
    close_run(ls);
    ls->pos = round_up(ls->pos, a);
    f->bitpos = ls->pos;
    ls->pos += tbits;
    ls->rec_align = max_u(ls->rec_align, a);
  } else if (f->bits == 0) {
    /* Only after a bitfield: it ends the run and aligns like its type. */
    if (ls->in_run) {
      uint64_t prev = ls->run_type_bits;
      close_run(ls);
      if (prev != tbits)
        ls->pos = round_up(ls->pos, a);
      ls->rec_align = max_u(ls->rec_align, a);
    }
    f->bitpos = ls->pos;
  } else {
    uint64_t w = (uint64_t)f->bits;
    if (ls->in_run && ls->run_type_bits == tbits && ls->remaining >= w) {
      ls->remaining -= w;
    } else if (ls->in_run && ls->run_type_bits == tbits) {
      ls->pos += ls->remaining; /* the next unit, already aligned */
      ls->remaining = tbits - w;
    } else {
      close_run(ls);
      ls->pos = round_up(ls->pos, a);
      ls->in_run = 1;
      ls->run_type_bits = tbits;
      ls->remaining = tbits - w;
    }
    f->bitpos = ls->pos;
    ls->pos += w;
    ls->rec_align = max_u(ls->rec_align, a);
  }
}

/* The unit a bitfield is read from (see weft_ffi_struct_field_layout). */
static void bitfield_unit(weft__ffield *f, size_t struct_size, int big) {
  uint64_t p = f->bitpos, w = (uint64_t)f->bits;
  if (f->bits == 0) {
    f->offset = (size_t)(p / 8);
    f->unit = 0;
    f->bit_offset = 0;
    return;
  }
  uint64_t o = round_down(p, f->type->align * 8) / 8, u = f->type->size;
  if (p + w > (o + u) * 8 || o + u > struct_size) {
    o = p / 8;
    u = (p % 8 + w + 7) / 8;
  }
  f->offset = (size_t)o;
  f->unit = (size_t)u;
  uint64_t q = p - o * 8; /* from the unit's start, in the struct's order */
  f->bit_offset = (int)(big ? u * 8 - q - w : q);
}

/* ---- structs: the libffi description ----
 *
 * libffi has no unions, bitfields or packing: it lays out `elements` in
 * order with their natural alignment, and uses them only to classify an
 * aggregate passed by value; the size and alignment we set it trusts.
 * So a struct lists its fields in order, a bitfield unit as an integer
 * of the unit's size (bytes for odd sizes), and padding as bytes where
 * libffi's own placement would fall short of the real offset.  A packed
 * field below libffi's placement cannot be described (`misaligned`; the
 * x86-64 psABI passes such structs in memory).  A union lists its
 * largest member when all its members are floating-point of one type
 * (an HFA stays one), else integers of its alignment covering its size
 * (its registers then are integer ones, as the psABI's class merge
 * gives). */

typedef struct elem_list {
  ffi_type **v;
  size_t n, cap;
  uint64_t cursor; /* where libffi would place the next element */
  int misaligned;
} elem_list;

static int elem_push(elem_list *l, ffi_type *t) {
  if (l->n + 1 >= l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    ffi_type **v = realloc(l->v, cap * sizeof *v);
    if (v == NULL)
      return -1;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = t;
  l->v[l->n] = NULL;
  return 0;
}

/* Add t so that libffi places it at byte `offset`. */
static int elem_at(elem_list *l, ffi_type *t, uint64_t offset) {
  uint64_t a = t->alignment ? t->alignment : 1;
  if (round_up(l->cursor, a) > offset) {
    l->misaligned = 1;
  } else {
    while (round_up(l->cursor, a) < offset) {
      if (elem_push(l, &ffi_type_uint8) < 0)
        return -1;
      l->cursor++;
    }
  }
  if (elem_push(l, t) < 0)
    return -1;
  l->cursor = round_up(l->cursor, a) + t->size;
  return 0;
}

/* The single floating-point type every scalar of t is, or NULL. */
static ffi_type *float_base(const weft__ftype *t) {
  if (t->kind == WEFT_FFI_KIND_FLOAT)
    return t->ffi;
  if (t->kind == WEFT_FFI_KIND_ARRAY)
    return t->length > 0 ? float_base(t->elem) : NULL;
  if (!is_record(t) || t->nfields == 0)
    return NULL;
  ffi_type *base = NULL;
  for (size_t i = 0; i < t->nfields; i++) {
    ffi_type *b = t->fields[i].bits >= 0 ? NULL : float_base(t->fields[i].type);
    if (b == NULL || (base != NULL && b != base))
      return NULL;
    base = b;
  }
  return base;
}

/* What the bytes [lo, hi) of t (placed at `at`) hold, for the x86-64
 * class of an eightbyte: 1 if only float or double (and at least one),
 * 0 if anything else overlaps (an integer, a pointer, a bitfield, a long
 * double), -1 if nothing does (padding). */
static int float_bytes(const weft__ftype *t, uint64_t at, uint64_t lo,
                       uint64_t hi) {
  if (at >= hi || at + t->size <= lo || t->size == 0)
    return -1;
  if (t->kind == WEFT_FFI_KIND_FLOAT)
    return t->size <= sizeof(double) ? 1 : 0;
  if (t->kind == WEFT_FFI_KIND_ARRAY) {
    int any = -1;
    size_t n = t->elem->size;
    for (size_t i = 0; n > 0 && i < t->length && at + i * n < hi; i++) {
      int r = float_bytes(t->elem, at + i * n, lo, hi);
      if (r == 0)
        return 0;
      if (r == 1)
        any = 1;
    }
    return any;
  }
  if (!is_record(t))
    return 0;
  int any = -1;
  for (size_t i = 0; i < t->nfields; i++) {
    const weft__ffield *f = &t->fields[i];
    if (f->bits == 0)
      continue;
    int r =
        f->bits > 0
            ? (at + f->offset < hi && at + f->offset + f->unit > lo ? 0 : -1)
            : float_bytes(f->type, at + f->offset, lo, hi);
    if (r == 0)
      return 0;
    if (r == 1)
      any = 1;
  }
  return any;
}

/* A union of at most 16 bytes for the x86-64 psABI: each eightbyte is
 * SSE when only float and double members overlap it (union { float f;
 * double d; } travels in a vector register), else INTEGER.  Described as
 * a double, a float or an integer per eightbyte.  0 if it does not apply
 * (the generic description is then right), 1 if done, -1 on ENOMEM. */
static int union_eightbytes(weft__ftype *s, elem_list *l) {
#if defined(__x86_64__)
  if (s->size > 16 || s->size % 4 != 0)
    return 0;
  int fl[2] = {0, 0}, any = 0;
  for (uint64_t k = 0; k * 8 < s->size; k++) {
    fl[k] = float_bytes(s, 0, k * 8, min_u(k * 8 + 8, s->size)) == 1;
    any |= fl[k];
  }
  if (!any)
    return 0;
  for (uint64_t k = 0; k * 8 < s->size; k++) {
    uint64_t n = min_u(8, s->size - k * 8);
    ffi_type *e = fl[k] ? (n == 8 ? &ffi_type_double : &ffi_type_float)
                        : int_ffi((size_t)n, 0);
    if (elem_at(l, e, k * 8) < 0)
      return -1;
  }
  return 1;
#else
  (void)s;
  (void)l;
  return 0;
#endif
}

static int struct_elements(weft__ftype *s, elem_list *l) {
  if (s->kind == WEFT_FFI_KIND_UNION) {
    if (s->size == 0)
      return 0;
    int done = union_eightbytes(s, l);
    if (done < 0)
      return -1;
    if (done) {
      /* the eightbytes cover the size */
    } else if (float_base(s) != NULL) {
      const weft__ftype *big = NULL;
      for (size_t i = 0; i < s->nfields; i++)
        if (big == NULL || s->fields[i].type->size > big->size)
          big = s->fields[i].type;
      if (elem_at(l, big->ffi, 0) < 0)
        return -1;
    } else {
      ffi_type *unit = int_ffi(s->align <= 8 ? s->align : 8, 0);
      for (uint64_t off = 0; off + unit->size <= s->size; off += unit->size)
        if (elem_at(l, unit, off) < 0)
          return -1;
    }
  } else {
    for (size_t i = 0; i < s->nfields; i++) {
      weft__ffield *f = &s->fields[i];
      if (f->bits < 0) {
        if (f->type->size > 0 && elem_at(l, f->type->ffi, f->offset) < 0)
          return -1;
        continue;
      }
      /* The bytes the bitfield occupies, as bytes (integer class on
       * every ABI, as a bitfield is). */
      uint64_t first = f->bitpos / 8;
      uint64_t last = f->bits > 0 ? (f->bitpos + (uint64_t)f->bits - 1) / 8 : 0;
      for (uint64_t b = max_u(first, l->cursor); f->bits > 0 && b <= last; b++)
        if (elem_at(l, &ffi_type_uint8, b) < 0)
          return -1;
    }
  }
  /* No tail padding: libffi trusts the preset size, and padding bytes
   * listed as uint8 would make an eightbyte of floats INTEGER class
   * (struct { double a; float b; } would travel in the wrong registers). */
  return 0;
}

static weft_status layout(weft__ftype *s, const char *what) {
  layout_state ls = {0};
  ls.rec_align = 8;
  ls.pack = (uint64_t)s->pack * 8;
  int ms = s->flags & WEFT_FFI_MS, uni = s->flags & WEFT_FFI_UNION;
  for (size_t i = 0; i < s->nfields; i++) {
    weft__ffield *f = &s->fields[i];
    if (uni) {
      ls.pos = 0;
      ls.in_run = 0;
    }
    if (ms)
      place_ms(&ls, f);
    else
      place_gcc(&ls, f);
    if (ms && !uni && i + 1 == s->nfields && f->bits > 0)
      close_run(&ls); /* the last unit is used up */
    uint64_t end = uni ? round_up(ls.pos, 8) : ls.pos;
    ls.size = max_u(ls.size, end);
    if (ls.pos > (uint64_t)SIZE_LIMIT * 8)
      return weft__error(WEFT_EVALUE, 0, "%s: the struct exceeds 2^56 bytes",
                         what);
  }
  uint64_t align = max_u(ls.rec_align / 8, (uint64_t)s->user_align);
  s->align = (size_t)align;
  s->size = (size_t)round_up((ls.size + 7) / 8, align);
  int big = (s->flags & WEFT_FFI_BIG_ENDIAN) != 0;
  for (size_t i = 0; i < s->nfields; i++) {
    weft__ffield *f = &s->fields[i];
    if (f->bits < 0) {
      f->offset = (size_t)(f->bitpos / 8);
      f->unit = f->type->size;
      f->bit_offset = 0;
    } else {
      bitfield_unit(f, s->size, big);
    }
  }
  return 0;
}

WEFT_API weft_status weft_ffi_struct_finish(weft_handle st) {
  const char *what = "ffi_struct_finish";
  weft__ftype *s = weft__ftype_pin(st, what);
  if (s == NULL)
    return WEFT__PIN_FAILED;
  weft_status rc = 0;
  if (!is_record(s)) {
    rc = weft__error(WEFT_EVALUE, 0, "%s: the type is not a struct", what);
    weft__handle_unpin(st);
    return rc;
  }
  pthread_mutex_lock(&s->mu);
  if (is_finished(s))
    rc = weft__error(WEFT_ESTATE, 0, "%s: the struct is finished", what);
  else
    rc = layout(s, what);
  elem_list l = {0};
  /* Allocate the list first, so an empty one is still a valid (NULL-
   * terminated) list, then fill it from the start. */
  if (rc == 0 && elem_push(&l, NULL) < 0)
    rc = weft__errno(ENOMEM, what);
  l.n = 0;
  if (rc == 0 && struct_elements(s, &l) < 0) {
    free(l.v);
    rc = weft__errno(ENOMEM, what);
  }
  if (rc == 0) {
    s->ffi_elements = l.v;
    s->misaligned = l.misaligned;
    s->ffi_own.size = s->size;
    s->ffi_own.alignment =
        (unsigned short)(s->align < USHRT_MAX ? s->align : 0x8000);
    s->ffi_own.type = FFI_TYPE_STRUCT;
    s->ffi_own.elements = s->ffi_elements;
    atomic_store_explicit(&s->finished, 1, memory_order_release);
  }
  pthread_mutex_unlock(&s->mu);
  weft__handle_unpin(st);
  return rc;
}

/* ---- structs: queries ---- */

WEFT_API weft_status weft_ffi_struct_flags(weft_handle st, int *flags,
                                           int *pack, int *align) {
  const char *what = "ffi_struct_flags";
  WEFT__CHECK_PTR(flags, what);
  WEFT__CHECK_PTR(pack, what);
  WEFT__CHECK_PTR(align, what);
  weft__ftype *s = weft__ftype_pin(st, what);
  if (s == NULL)
    return WEFT__PIN_FAILED;
  weft_status rc = 0;
  if (!is_record(s)) {
    rc = weft__error(WEFT_EVALUE, 0, "%s: the type is not a struct", what);
  } else {
    *flags = s->flags;
    *pack = s->pack;
    *align = s->user_align;
  }
  weft__handle_unpin(st);
  return rc;
}

/* Pin a finished struct; NULL with the status in *rc. */
static weft__ftype *pin_struct(weft_handle st, const char *what,
                               weft_status *rc) {
  weft__ftype *s = weft__ftype_pin(st, what);
  if (s == NULL) {
    *rc = WEFT__PIN_FAILED;
    return NULL;
  }
  if (!is_record(s))
    *rc = weft__error(WEFT_EVALUE, 0, "%s: the type is not a struct", what);
  else if (!is_finished(s))
    *rc = weft__error(WEFT_ESTATE, 0, "%s: the struct is not finished", what);
  else
    return s;
  weft__handle_unpin(st);
  return NULL;
}

/* Field index of s, or NULL (-ENOENT recorded). */
static weft__ffield *field_at(weft__ftype *s, size_t index, const char *what) {
  if (index < s->nfields)
    return &s->fields[index];
  weft__error(-ENOENT, 0, "%s: index %zu is past the %zu fields", what, index,
              s->nfields);
  return NULL;
}

WEFT_API weft_status weft_ffi_struct_field_count(weft_handle st,
                                                 size_t *count) {
  const char *what = "ffi_struct_field_count";
  WEFT__CHECK_PTR(count, what);
  weft_status rc;
  weft__ftype *s = pin_struct(st, what, &rc);
  if (s == NULL)
    return rc;
  *count = s->nfields;
  weft__handle_unpin(st);
  return 0;
}

WEFT_API weft_status weft_ffi_struct_field_index(weft_handle st,
                                                 const char *name,
                                                 size_t *index) {
  const char *what = "ffi_struct_field_index";
  WEFT__CHECK_PTR(name, what);
  WEFT__CHECK_PTR(index, what);
  weft_status rc;
  weft__ftype *s = pin_struct(st, what, &rc);
  if (s == NULL)
    return rc;
  rc = weft__error(-ENOENT, 0, "%s: no field named \"%s\"", what, name);
  for (size_t i = 0; name[0] != '\0' && i < s->nfields; i++)
    if (strcmp(s->fields[i].name, name) == 0) {
      *index = i;
      rc = 0;
      break;
    }
  weft__handle_unpin(st);
  return rc;
}

WEFT_API weft_status weft_ffi_struct_field_name(weft_handle st, size_t index,
                                                char *buf, size_t cap,
                                                size_t *len) {
  const char *what = "ffi_struct_field_name";
  WEFT__CHECK_PTR(len, what);
  WEFT__CHECK_BUF(buf, cap, what);
  weft_status rc;
  weft__ftype *s = pin_struct(st, what, &rc);
  if (s == NULL)
    return rc;
  weft__ffield *f = field_at(s, index, what);
  rc = f != NULL ? weft__string_out(f->name, buf, cap, len, what) : -ENOENT;
  weft__handle_unpin(st);
  return rc;
}

WEFT_API weft_status weft_ffi_struct_field_type(weft_handle st, size_t index,
                                                weft_handle *out) {
  const char *what = "ffi_struct_field_type";
  WEFT__CHECK_PTR(out, what);
  weft_status rc;
  weft__ftype *s = pin_struct(st, what, &rc);
  if (s == NULL)
    return rc;
  weft__ffield *f = field_at(s, index, what);
  rc = f != NULL ? handle_for(f->type, out) : -ENOENT;
  weft__handle_unpin(st);
  return rc;
}

WEFT_API weft_status weft_ffi_struct_field_layout(weft_handle st, size_t index,
                                                  size_t *offset, size_t *unit,
                                                  int *bit_offset, int *bits) {
  const char *what = "ffi_struct_field_layout";
  WEFT__CHECK_PTR(offset, what);
  WEFT__CHECK_PTR(unit, what);
  WEFT__CHECK_PTR(bit_offset, what);
  WEFT__CHECK_PTR(bits, what);
  weft_status rc;
  weft__ftype *s = pin_struct(st, what, &rc);
  if (s == NULL)
    return rc;
  weft__ffield *f = field_at(s, index, what);
  if (f != NULL) {
    *offset = f->offset;
    *unit = f->unit;
    *bit_offset = f->bit_offset;
    *bits = f->bits;
  }
  weft__handle_unpin(st);
  return f != NULL ? 0 : -ENOENT;
}

/* ---- struct fields by index ---- */

#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define NATIVE_ORDER WEFT_FFI_BIG_ENDIAN
#else
#define NATIVE_ORDER WEFT_FFI_LITTLE_ENDIAN
#endif

typedef unsigned __int128 u128;

/* The n (<= 16) bytes at p as an unsigned integer in byte order `big`. */
static u128 load_order(const unsigned char *p, size_t n, int big) {
  u128 v = 0;
  for (size_t i = 0; i < n; i++)
    v |= (u128)p[big ? n - 1 - i : i] << (8 * i);
  return v;
}

static void store_order(unsigned char *p, size_t n, int big, u128 v) {
  for (size_t i = 0; i < n; i++)
    p[big ? n - 1 - i : i] = (unsigned char)(v >> (8 * i));
}

/* ---- the accessors' per-thread cache ----
 *
 * A field read or write pins its struct handle: two atomic read-modify-
 * writes, several times the cost of the access itself.  So each thread
 * keeps the structs it accessed in a small direct-mapped cache of (handle,
 * type) entries, each holding a reference to the type (which keeps the
 * immutable, finished struct alive); a hit checks with one load
 * (weft__handle_peek) that the handle is still open and still stands for
 * that type.  A closed handle is a miss, and the miss pins, which fails
 * with WEFT_EBADHANDLE as always.  An entry's reference goes when the
 * entry is reused or the thread exits, so a struct can outlive its last
 * handle that long (memory only). */

#define SC_SIZE 32

typedef struct scache {
  struct {
    weft_handle h;
    weft__ftype *t;
  } e[SC_SIZE];
} scache;

static __thread scache *sc __attribute__((tls_model("initial-exec")));
static pthread_key_t sc_key;
static int sc_key_ok;
static pthread_once_t sc_once = PTHREAD_ONCE_INIT;

static void sc_destroy(void *arg) {
  scache *c = arg;
  if (sc == c)
    sc = NULL;
  for (unsigned i = 0; i < SC_SIZE; i++)
    if (c->e[i].t != NULL)
      weft__ftype_unref(c->e[i].t);
  free(c);
}

static void sc_key_make(void) {
  sc_key_ok = pthread_key_create(&sc_key, sc_destroy) == 0;
}

static scache *sc_make(void) {
  pthread_once(&sc_once, sc_key_make);
  scache *c = sc_key_ok ? calloc(1, sizeof *c) : NULL;
  if (c != NULL && pthread_setspecific(sc_key, c) != 0) {
    free(c);
    c = NULL;
  }
  sc = c;
  return c;
}

/* The finished struct behind st, alive until this thread's next accessor
 * call (cached), or pinned (*pinned set: the caller unpins); NULL with the
 * status in *rc. */
static weft__ftype *struct_use(weft_handle st, int *pinned, weft_status *rc,
                               const char *what) {
  scache *c = sc;
  unsigned i = (unsigned)st & (SC_SIZE - 1);
  if (c != NULL && c->e[i].h == st && st != 0 &&
      weft__handle_peek(st, WEFT_KIND_FFI_TYPE) == c->e[i].t)
    return c->e[i].t;
  weft__ftype *s = pin_struct(st, what, rc);
  if (s == NULL)
    return NULL;
  if (c == NULL)
    c = sc_make();
  if (c == NULL) {
    *pinned = 1;
    return s;
  }
  weft__ftype_ref(s);
  if (c->e[i].t != NULL)
    weft__ftype_unref(c->e[i].t);
  c->e[i].h = st;
  c->e[i].t = s;
  weft__handle_unpin(st);
  return s;
}

/* Reverse the n bytes of a floating value between the platform's order
 * and the struct's (flags), if they differ; its own inverse. */
static void to_order(unsigned char *b, size_t n, int flags) {
  if ((flags & (WEFT_FFI_BIG_ENDIAN | WEFT_FFI_LITTLE_ENDIAN)) == NATIVE_ORDER)
    return;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned char t = b[i];
    b[i] = b[n - 1 - i];
    b[n - 1 - i] = t;
  }
}

/* The scalar field `index` of a finished struct, pinned; NULL with the
 * status in *rc.  want_float: the field must be floating (else integer,
 * pointer or bool). */
static weft__ffield *scalar_field(weft_handle st, size_t index,
                                  const void *address, int want_float,
                                  weft__ftype **sp, int *pinned,
                                  weft_status *rc, const char *what) {
  weft__ftype *s = struct_use(st, pinned, rc, what);
  if (s == NULL)
    return NULL;
  weft__ffield *f = address != NULL ? field_at(s, index, what) : NULL;
  if (address == NULL) {
    *rc = weft__error(WEFT_EVALUE, 0, "%s: address is NULL", what);
  } else if (f == NULL) {
    *rc = -ENOENT;
  } else {
    int k = f->type->kind;
    int is_float = k == WEFT_FFI_KIND_FLOAT;
    int is_int = is_integer(f->type) || k == WEFT_FFI_KIND_POINTER;
    if (f->bits == 0)
      *rc = weft__error(WEFT_EVALUE, 0,
                        "%s: field %zu is a zero-width bitfield", what, index);
    else if (!is_float && !is_int)
      *rc = weft__error(WEFT_EVALUE, 0, "%s: field %zu (%s) is not a scalar",
                        what, index,
                        f->type->name != NULL ? f->type->name : "aggregate");
    else if (is_float != want_float)
      *rc = weft__error(
          WEFT_EVALUE, 0, "%s: field %zu is %s: use ffi_struct_%s_%s", what,
          index, f->type->name, strstr(what, "get") ? "get" : "set",
          is_float ? "double" : "int");
    else {
      *sp = s;
      return f;
    }
  }
  if (*pinned)
    weft__handle_unpin(st);
  return NULL;
}

/* Sign- or zero-extend the low `bits` of v by t's signedness (bool: the
 * value as C's _Bool conversion gives it). */
static int64_t extend(const weft__ftype *t, u128 v, int bits) {
  if (bits < 128)
    v &= ((u128)1 << bits) - 1;
  if (t->code == '?')
    return v != 0;
  if (t->kind == WEFT_FFI_KIND_SINT && bits < 64 && (v >> (bits - 1)) & 1)
    return (int64_t)(uint64_t)(v | ~(((u128)1 << bits) - 1));
  return (int64_t)(uint64_t)v;
}

WEFT_API weft_status weft_ffi_struct_get_int(weft_handle st, size_t index,
                                             const void *address,
                                             int64_t *value) {
  static const char what[] = "ffi_struct_get_int";
  WEFT__CHECK_PTR(value, what);
  weft__ftype *s;
  weft_status rc = 0;
  int pinned = 0;
  weft__ffield *f = scalar_field(st, index, address, 0, &s, &pinned, &rc, what);
  if (f == NULL)
    return rc;
  int big = (s->flags & WEFT_FFI_BIG_ENDIAN) != 0;
  const unsigned char *p = (const unsigned char *)address + f->offset;
  if (f->bits < 0) {
    *value = extend(f->type, load_order(p, f->type->size, big),
                    (int)f->type->size * 8);
  } else {
    u128 unit = load_order(p, f->unit, big);
    *value = extend(f->type, unit >> f->bit_offset, f->bits);
  }
  if (pinned)
    weft__handle_unpin(st);
  return 0;
}

WEFT_API weft_status weft_ffi_struct_set_int(weft_handle st, size_t index,
                                             void *address, int64_t value) {
  static const char what[] = "ffi_struct_set_int";
  weft__ftype *s;
  weft_status rc = 0;
  int pinned = 0;
  weft__ffield *f = scalar_field(st, index, address, 0, &s, &pinned, &rc, what);
  if (f == NULL)
    return rc;
  int big = (s->flags & WEFT_FFI_BIG_ENDIAN) != 0;
  unsigned char *p = (unsigned char *)address + f->offset;
  u128 v = (u128)(uint64_t)value;
  if (f->type->code == '?')
    v = value != 0;
  if (f->bits < 0) {
    store_order(p, f->type->size, big, v);
  } else {
    u128 mask = (((u128)1 << f->bits) - 1) << f->bit_offset;
    u128 unit = load_order(p, f->unit, big);
    unit = (unit & ~mask) | ((v << f->bit_offset) & mask);
    store_order(p, f->unit, big, unit);
  }
  if (pinned)
    weft__handle_unpin(st);
  return 0;
}

WEFT_API weft_status weft_ffi_struct_get_double(weft_handle st, size_t index,
                                                const void *address,
                                                double *value) {
  static const char what[] = "ffi_struct_get_double";
  WEFT__CHECK_PTR(value, what);
  weft__ftype *s;
  weft_status rc = 0;
  int pinned = 0;
  weft__ffield *f = scalar_field(st, index, address, 1, &s, &pinned, &rc, what);
  if (f == NULL)
    return rc;
  unsigned char b[sizeof(long double)];
  size_t n = f->type->size;
  memcpy(b, (const unsigned char *)address + f->offset, n);
  to_order(b, n, s->flags);
  if (n == sizeof(float)) {
    float x;
    memcpy(&x, b, n);
    *value = x;
  } else if (n == sizeof(double)) {
    double x;
    memcpy(&x, b, n);
    *value = x;
  } else {
    long double x;
    memcpy(&x, b, n);
    *value = (double)x;
  }
  if (pinned)
    weft__handle_unpin(st);
  return 0;
}

WEFT_API weft_status weft_ffi_struct_set_double(weft_handle st, size_t index,
                                                void *address, double value) {
  static const char what[] = "ffi_struct_set_double";
  weft__ftype *s;
  weft_status rc = 0;
  int pinned = 0;
  weft__ffield *f = scalar_field(st, index, address, 1, &s, &pinned, &rc, what);
  if (f == NULL)
    return rc;
  unsigned char b[sizeof(long double)];
  size_t n = f->type->size;
  if (n == sizeof(float)) {
    float x = (float)value;
    memcpy(b, &x, n);
  } else if (n == sizeof(double)) {
    memcpy(b, &value, n);
  } else {
    long double x = value;
    memset(b, 0, sizeof b);
    memcpy(b, &x, n);
  }
  to_order(b, n, s->flags);
  memcpy((unsigned char *)address + f->offset, b, n);
  if (pinned)
    weft__handle_unpin(st);
  return 0;
}

/* ---- constants ---- */

static const weft__constant ffi_constants[] = {
    WEFT__CONST(WEFT_FFI_KIND_VOID),    WEFT__CONST(WEFT_FFI_KIND_SINT),
    WEFT__CONST(WEFT_FFI_KIND_UINT),    WEFT__CONST(WEFT_FFI_KIND_FLOAT),
    WEFT__CONST(WEFT_FFI_KIND_POINTER), WEFT__CONST(WEFT_FFI_KIND_ARRAY),
    WEFT__CONST(WEFT_FFI_KIND_STRUCT),  WEFT__CONST(WEFT_FFI_KIND_UNION),
    WEFT__CONST(WEFT_FFI_UNION),        WEFT__CONST(WEFT_FFI_MS),
    WEFT__CONST(WEFT_FFI_BIG_ENDIAN),   WEFT__CONST(WEFT_FFI_LITTLE_ENDIAN),
};

const weft__constant_table weft__ffi_constants = WEFT__TABLE(ffi_constants);
