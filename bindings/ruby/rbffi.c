/* rbffi.c - the C half of Weft::FFI: the ctypes engine for Ruby.
 *
 * bindings/ruby/weft_ffi.rb is the idiomatic layer (Weft::FFI.load,
 * Library#func, Struct's layout DSL, MemoryPointer); this file holds what
 * must be fast or must touch C: calls (Function#call), memory
 * (Pointer), callbacks (Callback), and the engine calls the Ruby layer
 * builds on (Weft::FFI::Raw).
 *
 * Ruby's rules, kept as rbweft.c keeps them:
 *   - A call keeps the GVL unless its function was made `blocking: true`
 *     (as ruby-ffi's): giving the GVL up and taking it back costs more
 *     than a short C function (bench-ffi.rb measures it).  A blocking
 *     call runs under rb_nogvl with RUBY_UBF_IO: Thread#kill and Ctrl-C
 *     interrupt the system call it waits in (EINTR), as with ruby-ffi.
 *   - Ruby is never entered from a thread it does not know.  A callback
 *     that C calls on a Ruby thread runs there: directly when that thread
 *     holds the GVL (a non-blocking call: qsort), else after
 *     rb_thread_call_with_gvl (a blocking call).  On any other thread the
 *     call is queued to the binding's dispatcher thread and the C caller
 *     waits for its result (weft_rb_with_gvl).
 *   - A callback's exception never longjmps through C: on a thread whose
 *     Ruby call is inside C, it is raised once that call returns
 *     (weft_rb_defer); on the dispatcher thread it is reported as a
 *     Thread's would be.  The C caller gets zeros.
 *   - C holds no VALUE: a callback's Proc is an id in rbweft.c's marked
 *     table; the Callback object keeps what its conversions need.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <ruby.h>
#include <ruby/thread.h>

#include "rbweft.h"

int ruby_thread_has_gvl_p(void); /* libruby's; see rbweft.c */

static VALUE m_ffi, m_raw, c_pointer, c_function, c_library, c_callback;
static ID id_call, id_new, id_pointer, id_to_ptr, id_code, id_detail,
    id_variadic_call;

/* -------------------------------------------------------------- errors */

/* Raise weft's class for `code` (Weft::ClosedError, ...) with a message of
 * ours, #code set as weft_rb_raise sets it. */
NORETURN(static void raise_weft(const char *klass, weft_status code,
                                const char *fmt, ...));
static void raise_weft(const char *klass, weft_status code, const char *fmt,
                       ...) {
  va_list ap;
  va_start(ap, fmt);
  VALUE msg = rb_vsprintf(fmt, ap);
  va_end(ap);
  VALUE k = rb_const_get(rb_define_module("Weft"), rb_intern(klass));
  VALUE exc = rb_exc_new_str(k, msg);
  rb_ivar_set(exc, id_code, INT2NUM(code));
  rb_ivar_set(exc, id_detail, INT2FIX(0));
  rb_exc_raise(exc);
}

static void check(weft_status st) {
  if (st < 0)
    weft_rb_raise(st);
}

/* --------------------------------------------------------- conversions */

/* How a C value of some type crosses into Ruby and back. */
enum {
  CV_VOID,
  CV_BOOL,
  CV_S8,
  CV_S16,
  CV_S32,
  CV_S64,
  CV_U8,
  CV_U16,
  CV_U32,
  CV_U64,
  CV_FLOAT,
  CV_DOUBLE,
  CV_LDOUBLE,
  CV_STRING,  /* char *: a String (its bytes, NUL-terminated) or nil */
  CV_POINTER, /* any other pointer, an array argument */
  CV_STRUCT,  /* a struct or union by value */
  CV_COUNT
};

static const char *const cv_name[CV_COUNT] = {
    "void",        "bool",   "int8",    "int16",  "int32", "int64",
    "uint8",       "uint16", "uint32",  "uint64", "float", "double",
    "long double", "char*",  "pointer", "struct"};

struct conv {
  int cv;
  size_t size; /* of the C value */
  VALUE klass; /* CV_STRUCT: its Weft::FFI::Struct subclass, or Qnil */
};

/* The conversion of a type handle. */
static void conv_of(weft_handle t, struct conv *c) {
  int kind = 0, code = 0;
  size_t size = 0;
  c->klass = Qnil;
  check(weft_ffi_type_kind(t, &kind));
  check(weft_ffi_type_code(t, &code));
  check(weft_ffi_type_size(t, &size));
  c->size = size;
  switch (kind) {
  case WEFT_FFI_KIND_VOID:
    c->cv = CV_VOID;
    break;
  case WEFT_FFI_KIND_SINT:
  case WEFT_FFI_KIND_UINT: {
    int u = kind == WEFT_FFI_KIND_UINT;
    if (code == '?')
      c->cv = CV_BOOL;
    else if (size == 1)
      c->cv = u ? CV_U8 : CV_S8;
    else if (size == 2)
      c->cv = u ? CV_U16 : CV_S16;
    else if (size == 4)
      c->cv = u ? CV_U32 : CV_S32;
    else
      c->cv = u ? CV_U64 : CV_S64;
    break;
  }
  case WEFT_FFI_KIND_FLOAT:
    c->cv = size == 4 ? CV_FLOAT : size == 8 ? CV_DOUBLE : CV_LDOUBLE;
    break;
  case WEFT_FFI_KIND_POINTER:
    c->cv = code == 'z' ? CV_STRING : CV_POINTER;
    break;
  case WEFT_FFI_KIND_ARRAY: /* an argument: decays to a pointer */
    c->cv = CV_POINTER;
    c->size = sizeof(void *);
    break;
  default:
    c->cv = CV_STRUCT;
    break;
  }
}

/* The conversion of a ctypes code, for Pointer's reads and writes. */
static int conv_of_code(int code, struct conv *c) {
  c->klass = Qnil;
  switch (code) {
  case '?':
    c->cv = CV_BOOL, c->size = sizeof(_Bool);
    break;
  case 'c':
  case 'b':
    c->cv = CV_S8, c->size = 1;
    break;
  case 'B':
    c->cv = CV_U8, c->size = 1;
    break;
  case 'h':
    c->cv = CV_S16, c->size = 2;
    break;
  case 'H':
    c->cv = CV_U16, c->size = 2;
    break;
  case 'i':
  case 'u':
    c->cv = CV_S32, c->size = 4;
    break;
  case 'I':
    c->cv = CV_U32, c->size = 4;
    break;
  case 'l':
  case 'q':
    c->cv = CV_S64, c->size = 8;
    break;
  case 'L':
  case 'Q':
    c->cv = CV_U64, c->size = 8;
    break;
  case 'f':
    c->cv = CV_FLOAT, c->size = sizeof(float);
    break;
  case 'd':
    c->cv = CV_DOUBLE, c->size = sizeof(double);
    break;
  case 'g':
    c->cv = CV_LDOUBLE, c->size = sizeof(long double);
    break;
  case 'z':
    c->cv = CV_STRING, c->size = sizeof(void *);
    break;
  case 'P':
  case 'Z':
    c->cv = CV_POINTER, c->size = sizeof(void *);
    break;
  default:
    return -1;
  }
  return 0;
}

/* What to_c found wrong. */
#define BAD_TYPE 1
#define BAD_RANGE 2
#define NEED_COPY 3 /* a String argument without its NUL: pass a copy */

/* An Integer argument of conversion cv, range-checked: unsigned types
 * also take negative values down to the signed minimum, wrapping as C
 * converts them (NUM2UINT does the same). */
static int int_to_c(VALUE v, int cv, int64_t *out) {
  int64_t x;
  if (RB_FIXNUM_P(v)) {
    x = FIX2LONG(v);
  } else if (RB_TYPE_P(v, T_BIGNUM)) {
    int nlz = 0;
    size_t bytes = rb_absint_size(v, &nlz);
    int neg = RBIGNUM_NEGATIVE_P(v);
    if (bytes > 8)
      return BAD_RANGE;
    if (!neg && cv == CV_U64) {
      *out = (int64_t)rb_big2ull(v);
      return 0;
    }
    /* |v| >= 2^63: only -2^63 fits */
    if (bytes == 8 && nlz == 0 && !(neg && rb_absint_singlebit_p(v)))
      return BAD_RANGE;
    x = rb_big2ll(v);
  } else {
    return BAD_TYPE;
  }
  switch (cv) {
  case CV_S8:
    if (x < INT8_MIN || x > INT8_MAX)
      return BAD_RANGE;
    break;
  case CV_U8:
    if (x < INT8_MIN || x > UINT8_MAX)
      return BAD_RANGE;
    break;
  case CV_S16:
    if (x < INT16_MIN || x > INT16_MAX)
      return BAD_RANGE;
    break;
  case CV_U16:
    if (x < INT16_MIN || x > UINT16_MAX)
      return BAD_RANGE;
    break;
  case CV_S32:
    if (x < INT32_MIN || x > INT32_MAX)
      return BAD_RANGE;
    break;
  case CV_U32:
    if (x < INT32_MIN || x > (int64_t)UINT32_MAX)
      return BAD_RANGE;
    break;
  default:
    break;
  }
  *out = x;
  return 0;
}

struct rptr {
  char *addr;
  size_t size; /* bytes known to be there; SIZE_MAX: unknown */
  int owned;   /* weft_ffi_alloc'd here: freed by #free or the GC */
  int freed;   /* #free ran: this and the Pointers into it are dead */
  VALUE keep;  /* what owns the memory (a parent Pointer), or Qnil */
};

static const rb_data_type_t ptr_type;

static struct rptr *ptr_of(VALUE v) { return rb_check_typeddata(v, &ptr_type); }

/* A Weft::StateError if the memory r points into was freed by
 * MemoryPointer#free (keep: a Pointer, a Callback for its code, or nil). */
static void check_alive(const struct rptr *r) {
  for (VALUE k = r->keep; rb_typeddata_is_kind_of(k, &ptr_type);
       k = ((struct rptr *)RTYPEDDATA_DATA(k))->keep)
    if (((struct rptr *)RTYPEDDATA_DATA(k))->freed)
      raise_weft("StateError", WEFT_ESTATE,
                 "access to memory that was freed (MemoryPointer#free)");
}

/* The address a pointer argument stands for: nil, a Pointer, an Integer,
 * or anything with #to_ptr (a Struct, a Callback).  -1: none of those. */
static int address_of(VALUE v, void **out) {
  if (NIL_P(v)) {
    *out = NULL;
    return 0;
  }
  if (RB_TYPE_P(v, T_DATA) && RTYPEDDATA_P(v) &&
      RTYPEDDATA_TYPE(v) == &ptr_type) {
    struct rptr *r = RTYPEDDATA_DATA(v);
    if (!NIL_P(r->keep))
      check_alive(r);
    *out = r->addr;
    return 0;
  }
  if (RB_INTEGER_TYPE_P(v)) {
    int64_t x;
    if (int_to_c(v, CV_U64, &x) != 0)
      return -1;
    *out = (void *)(uintptr_t)x;
    return 0;
  }
  if (rb_respond_to(v, id_to_ptr)) {
    VALUE p = rb_funcallv(v, id_to_ptr, 0, NULL);
    if (rb_typeddata_is_kind_of(p, &ptr_type)) {
      *out = ((struct rptr *)RTYPEDDATA_DATA(p))->addr;
      return 0;
    }
  }
  return -1;
}

/* The memory of a Struct instance (its @pointer) for a struct by value:
 * an instance of c->klass, or a Pointer to such bytes. */
static int struct_address(const struct conv *c, VALUE v, void **out) {
  if (!NIL_P(c->klass) && rb_obj_is_kind_of(v, c->klass)) {
    VALUE p = rb_ivar_get(v, id_pointer);
    if (rb_typeddata_is_kind_of(p, &ptr_type)) {
      *out = ((struct rptr *)RTYPEDDATA_DATA(p))->addr;
      return 0;
    }
  }
  if (rb_typeddata_is_kind_of(v, &ptr_type)) {
    *out = ((struct rptr *)RTYPEDDATA_DATA(v))->addr;
    return *out == NULL ? BAD_TYPE : 0;
  }
  return BAD_TYPE;
}

/* Store Ruby value v as conversion c at dst (c->size bytes; structs are
 * not stored here).  String arguments point into the String: the caller
 * keeps it alive (and unchanged) for as long as C uses the pointer.
 * 0, BAD_TYPE or BAD_RANGE. */
static int to_c(const struct conv *c, VALUE v, void *dst) {
  int64_t x;
  int r;
  switch (c->cv) {
  case CV_BOOL:
    if (v == Qtrue || v == Qfalse) {
      *(uint8_t *)dst = v == Qtrue;
      return 0;
    }
    if ((r = int_to_c(v, CV_S64, &x)) != 0)
      return r;
    *(uint8_t *)dst = x != 0;
    return 0;
  case CV_S8:
  case CV_U8:
    if ((r = int_to_c(v, c->cv, &x)) != 0)
      return r;
    *(int8_t *)dst = (int8_t)x;
    return 0;
  case CV_S16:
  case CV_U16:
    if ((r = int_to_c(v, c->cv, &x)) != 0)
      return r;
    *(int16_t *)dst = (int16_t)x;
    return 0;
  case CV_S32:
  case CV_U32:
    if ((r = int_to_c(v, c->cv, &x)) != 0)
      return r;
    *(int32_t *)dst = (int32_t)x;
    return 0;
  case CV_S64:
  case CV_U64:
    if ((r = int_to_c(v, c->cv, &x)) != 0)
      return r;
    *(int64_t *)dst = x;
    return 0;
  case CV_FLOAT:
  case CV_DOUBLE:
  case CV_LDOUBLE: {
    double d;
    if (RB_FLOAT_TYPE_P(v))
      d = RFLOAT_VALUE(v);
    else if (RB_INTEGER_TYPE_P(v))
      d = NUM2DBL(v);
    else
      return BAD_TYPE;
    if (c->cv == CV_FLOAT)
      *(float *)dst = (float)d;
    else if (c->cv == CV_DOUBLE)
      *(double *)dst = d;
    else
      *(long double *)dst = d;
    return 0;
  }
  case CV_STRING:
    if (RB_TYPE_P(v, T_STRING)) {
      if (memchr(RSTRING_PTR(v), 0, RSTRING_LEN(v)) != NULL)
        return BAD_RANGE; /* C would see it shorter */
      *(const char **)dst = StringValueCStr(v);
      return 0;
    }
    /* nil, a Pointer, an address */
    /* fall through */
  case CV_POINTER:
    if (c->cv == CV_POINTER && RB_TYPE_P(v, T_STRING)) {
      /* its bytes, with the NUL Ruby keeps after them (a shared
       * substring has none: the caller passes a copy) */
      *(const char **)dst = RSTRING_PTR(v);
      return RSTRING_PTR(v)[RSTRING_LEN(v)] == 0 ? 0 : NEED_COPY;
    }
    return address_of(v, (void **)dst) == 0 ? 0 : BAD_TYPE;
  default:
    return BAD_TYPE;
  }
}

static VALUE ptr_wrap(void *addr, size_t size, VALUE keep);

/* The Ruby value of the C value at src. */
static VALUE from_c(const struct conv *c, const void *src) {
  switch (c->cv) {
  case CV_VOID:
    return Qnil;
  case CV_BOOL:
    return *(const uint8_t *)src ? Qtrue : Qfalse;
  case CV_S8:
    return INT2FIX(*(const int8_t *)src);
  case CV_U8:
    return INT2FIX(*(const uint8_t *)src);
  case CV_S16:
    return INT2FIX(*(const int16_t *)src);
  case CV_U16:
    return INT2FIX(*(const uint16_t *)src);
  case CV_S32:
    return INT2NUM(*(const int32_t *)src);
  case CV_U32:
    return UINT2NUM(*(const uint32_t *)src);
  case CV_S64:
    return LL2NUM(*(const int64_t *)src);
  case CV_U64:
    return ULL2NUM(*(const uint64_t *)src);
  case CV_FLOAT:
    return DBL2NUM(*(const float *)src);
  case CV_DOUBLE:
    return DBL2NUM(*(const double *)src);
  case CV_LDOUBLE:
    return DBL2NUM((double)*(const long double *)src);
  case CV_STRING: {
    const char *s = *(const char *const *)src;
    return s == NULL ? Qnil : rb_str_new_cstr(s);
  }
  case CV_POINTER: {
    void *a = *(void *const *)src;
    if (NIL_P(c->klass))
      return ptr_wrap(a, SIZE_MAX, Qnil);
    /* A pointer to a Struct class (Klass.ptr): an instance over it. */
    if (a == NULL)
      return Qnil;
    VALUE ptr = ptr_wrap(a, SIZE_MAX, Qnil);
    return rb_funcallv(c->klass, id_new, 1, &ptr);
  }
  case CV_STRUCT: {
    /* A new instance of the class, owning a copy of the bytes. */
    if (NIL_P(c->klass))
      return rb_str_new(src, (long)c->size);
    VALUE obj = rb_funcallv(c->klass, id_new, 0, NULL);
    struct rptr *p = ptr_of(rb_ivar_get(obj, id_pointer));
    if (p->size < c->size)
      rb_raise(rb_eTypeError, "%" PRIsVALUE " is smaller than the C struct",
               c->klass);
    memcpy(p->addr, src, c->size);
    return obj;
  }
  default:
    return Qnil;
  }
}

/* The class name for a message ("Integer", "nil"). */
static VALUE what_is(VALUE v) {
  return NIL_P(v) ? rb_str_new_cstr("nil") : rb_class_name(rb_obj_class(v));
}

static const char *const expected[CV_COUNT] = {
    "nothing",
    "true, false or an Integer",
    "an Integer",
    "an Integer",
    "an Integer",
    "an Integer",
    "an Integer",
    "an Integer",
    "an Integer",
    "an Integer",
    "a Float or an Integer",
    "a Float or an Integer",
    "a Float or an Integer",
    "a String, nil or a Pointer",
    "a Pointer, nil, an Integer address or a String",
    "an instance of the struct or a Pointer"};

/* ------------------------------------------------------------- Pointer */

static void ptr_mark(void *p) { rb_gc_mark(((struct rptr *)p)->keep); }

static void ptr_free(void *p) {
  struct rptr *r = p;
  if (r->owned)
    weft_ffi_free(r->addr);
  xfree(r);
}

static size_t ptr_memsize(const void *p) {
  const struct rptr *r = p;
  return sizeof *r + (r->owned ? r->size : 0);
}

static const rb_data_type_t ptr_type = {
    .wrap_struct_name = "Weft::FFI::Pointer",
    .function = {.dmark = ptr_mark, .dfree = ptr_free, .dsize = ptr_memsize},
    .flags = RUBY_TYPED_FREE_IMMEDIATELY};

static VALUE ptr_alloc(VALUE klass) {
  struct rptr *r;
  VALUE obj = TypedData_Make_Struct(klass, struct rptr, &ptr_type, r);
  r->addr = NULL;
  r->size = SIZE_MAX;
  r->owned = 0;
  r->keep = Qnil;
  return obj;
}

static VALUE ptr_wrap(void *addr, size_t size, VALUE keep) {
  VALUE obj = ptr_alloc(c_pointer);
  struct rptr *r = RTYPEDDATA_DATA(obj);
  r->addr = addr;
  r->size = size;
  r->keep = keep;
  return obj;
}

/* Pointer.new(address = 0): a Pointer (which it then shares: the memory
 * stays alive while this one is), an Integer address, nil, or anything
 * with #to_ptr. */
static VALUE ptr_initialize(int argc, VALUE *argv, VALUE self) {
  struct rptr *r = ptr_of(self);
  VALUE a = argc > 0 ? argv[0] : Qnil;
  rb_check_arity(argc, 0, 1);
  if (rb_typeddata_is_kind_of(a, &ptr_type)) {
    struct rptr *o = RTYPEDDATA_DATA(a);
    r->addr = o->addr;
    r->size = o->size;
    r->keep = a;
    return self;
  }
  void *addr;
  if (address_of(a, &addr) != 0)
    rb_raise(rb_eTypeError,
             "an address is an Integer or a Pointer, not %" PRIsVALUE,
             what_is(a));
  r->addr = addr;
  return self;
}

/* #__malloc(size): own `size` bytes of zeroed memory (MemoryPointer). */
static VALUE ptr_malloc(VALUE self, VALUE size) {
  struct rptr *r = ptr_of(self);
  size_t n = weft_rb_size(size);
  void *addr;
  if (r->owned)
    rb_raise(rb_eRuntimeError, "this pointer owns memory already");
  check(weft_ffi_alloc(n, &addr));
  r->addr = addr;
  r->size = n;
  r->owned = 1;
  r->keep = Qnil;
  return self;
}

static VALUE ptr_address(VALUE self) {
  return ULL2NUM((uintptr_t)ptr_of(self)->addr);
}

static VALUE ptr_null_p(VALUE self) {
  return ptr_of(self)->addr == NULL ? Qtrue : Qfalse;
}

/* #size: the bytes known to be there, nil if unknown. */
static VALUE ptr_size(VALUE self) {
  struct rptr *r = ptr_of(self);
  return r->size == SIZE_MAX ? Qnil : SIZET2NUM(r->size);
}

/* #+(offset): a Pointer offset bytes further, keeping this one alive. */
static VALUE ptr_plus(VALUE self, VALUE offset) {
  struct rptr *r = ptr_of(self);
  long long off = NUM2LL(offset);
  size_t size = SIZE_MAX;
  if (r->size != SIZE_MAX) {
    if (off < 0 || (unsigned long long)off > r->size)
      rb_raise(rb_eIndexError, "offset %lld is outside the memory (%zu bytes)",
               off, r->size);
    size = r->size - (size_t)off;
  }
  return ptr_wrap(r->addr + off, size, self);
}

static VALUE ptr_eq(VALUE self, VALUE other) {
  if (!rb_typeddata_is_kind_of(other, &ptr_type))
    return Qfalse;
  return ptr_of(self)->addr == ptr_of(other)->addr ? Qtrue : Qfalse;
}

static VALUE ptr_hash(VALUE self) {
  return ULL2NUM((uintptr_t)ptr_of(self)->addr);
}

/* #free: release owned memory now (the GC would); the Pointer becomes
 * NULL.  Freeing memory this Pointer does not own is a Weft::StateError. */
static VALUE ptr_free_m(VALUE self) {
  struct rptr *r = ptr_of(self);
  if (!r->owned)
    raise_weft("StateError", WEFT_ESTATE,
               "free: this Pointer does not own its memory");
  weft_ffi_free(r->addr);
  r->addr = NULL;
  r->owned = 0;
  r->size = 0;
  r->freed = 1;
  return Qnil;
}

static VALUE ptr_owned_p(VALUE self) {
  return ptr_of(self)->owned ? Qtrue : Qfalse;
}

/* The address of bytes off .. off + n - 1, checked against a known size
 * (IndexError) and NULL (Weft::ValueError, as the engine's helpers). */
static char *ptr_at(struct rptr *r, VALUE offset, size_t n) {
  long long off = NUM2LL(offset);
  if (r->addr == NULL)
    raise_weft("ValueError", WEFT_EVALUE, "NULL pointer access");
  check_alive(r);
  if (r->size != SIZE_MAX &&
      (off < 0 || (unsigned long long)off > r->size || n > r->size - off))
    rb_raise(rb_eIndexError,
             "memory access at offset %lld of %zu bytes is out of bounds "
             "(size %zu)",
             off, n, r->size);
  return r->addr + off;
}

static struct conv code_conv(VALUE code) {
  struct conv c;
  if (conv_of_code(NUM2INT(code), &c) != 0)
    rb_raise(rb_eTypeError, "unknown ctypes code %d", NUM2INT(code));
  return c;
}

/* #__get(code, offset): the scalar of ctypes code `code` (an Integer)
 * at offset. */
static VALUE ptr_get(VALUE self, VALUE code, VALUE offset) {
  struct conv c = code_conv(code);
  char *at = ptr_at(ptr_of(self), offset, c.size);
  union {
    long double g;
    char b[16];
  } buf;
  memcpy(buf.b, at, c.size); /* unaligned memory is fine */
  return from_c(&c, buf.b);
}

/* #__put(code, offset, value).  A char * takes a Pointer, an address or
 * nil, not a String: the String could move or go while C holds it. */
static VALUE ptr_put(VALUE self, VALUE code, VALUE offset, VALUE value) {
  struct conv c = code_conv(code);
  char *at = ptr_at(ptr_of(self), offset, c.size);
  union {
    long double g;
    char b[16];
  } buf;
  memset(&buf, 0, sizeof buf);
  int r =
      (c.cv == CV_STRING || c.cv == CV_POINTER) && RB_TYPE_P(value, T_STRING)
          ? BAD_TYPE
          : to_c(&c, value, buf.b);
  if (r == BAD_TYPE)
    rb_raise(rb_eTypeError, "cannot store %" PRIsVALUE " as %s (expected %s)",
             what_is(value), cv_name[c.cv],
             c.cv >= CV_STRING ? "a Pointer, nil or an Integer address"
                               : expected[c.cv]);
  if (r == BAD_RANGE)
    rb_raise(rb_eRangeError, "%" PRIsVALUE " is out of range for %s",
             rb_inspect(value), cv_name[c.cv]);
  memcpy(at, buf.b, c.size);
  return value;
}

/* #get_bytes(offset, length) -> a binary String. */
static VALUE ptr_get_bytes(VALUE self, VALUE offset, VALUE length) {
  size_t n = weft_rb_size(length);
  char *at = ptr_at(ptr_of(self), offset, n);
  return rb_str_new(at, (long)n);
}

/* #put_bytes(offset, string): its bytes, no NUL added. */
static VALUE ptr_put_bytes(VALUE self, VALUE offset, VALUE str) {
  StringValue(str);
  size_t n = (size_t)RSTRING_LEN(str);
  char *at = ptr_at(ptr_of(self), offset, n);
  memcpy(at, RSTRING_PTR(str), n);
  return self;
}

/* #get_string(offset, length = nil): the bytes up to the first NUL (or
 * the end of known memory), or exactly length bytes. */
static VALUE ptr_get_string(int argc, VALUE *argv, VALUE self) {
  rb_check_arity(argc, 1, 2);
  struct rptr *r = ptr_of(self);
  if (argc == 2 && !NIL_P(argv[1]))
    return ptr_get_bytes(self, argv[0], argv[1]);
  char *at = ptr_at(r, argv[0], 0);
  if (r->size == SIZE_MAX)
    return rb_str_new_cstr(at);
  size_t max = r->size - (size_t)(at - r->addr);
  const char *end = memchr(at, 0, max);
  return rb_str_new(at, end ? end - at : (long)max);
}

/* #put_string(offset, string): its bytes and a NUL. */
static VALUE ptr_put_string(VALUE self, VALUE offset, VALUE str) {
  StringValue(str);
  size_t n = (size_t)RSTRING_LEN(str);
  char *at = ptr_at(ptr_of(self), offset, n + 1);
  memcpy(at, RSTRING_PTR(str), n);
  at[n] = 0;
  return self;
}

/* ------------------------------------------------------------- Library */

struct rlib {
  weft_handle h;
  int closed;
};

static void lib_free(void *p) {
  struct rlib *l = p;
  if (!l->closed && l->h != 0)
    weft_close(l->h);
  xfree(l);
}

static const rb_data_type_t lib_type = {
    .wrap_struct_name = "Weft::FFI::Library",
    .function = {.dmark = NULL, .dfree = lib_free, .dsize = NULL},
    .flags = RUBY_TYPED_FREE_IMMEDIATELY};

static VALUE lib_alloc(VALUE klass) {
  struct rlib *l;
  VALUE obj = TypedData_Make_Struct(klass, struct rlib, &lib_type, l);
  l->h = 0;
  l->closed = 1;
  return obj;
}

static struct rlib *lib_of(VALUE v) { return rb_check_typeddata(v, &lib_type); }

static struct rlib *lib_open_of(VALUE v) {
  struct rlib *l = lib_of(v);
  if (l->closed)
    raise_weft("ClosedError", WEFT_ECLOSED, "the library is closed");
  return l;
}

/* #__open(path or nil, flags) */
static VALUE lib_open(VALUE self, VALUE path, VALUE flags) {
  struct rlib *l = lib_of(self);
  if (l->h != 0)
    rb_raise(rb_eRuntimeError, "library opened already");
  const char *p = NIL_P(path) ? NULL : StringValueCStr(path);
  weft_handle h;
  check(weft_ffi_library_open(p, NUM2INT(flags), &h));
  l->h = h;
  l->closed = 0;
  return self;
}

static VALUE lib_close(VALUE self) {
  struct rlib *l = lib_open_of(self);
  l->closed = 1;
  check(weft_close(l->h));
  return Qnil;
}

static VALUE lib_closed_p(VALUE self) {
  return lib_of(self)->closed ? Qtrue : Qfalse;
}

static VALUE lib_handle(VALUE self) { return LL2NUM(lib_open_of(self)->h); }

/* #symbol(name) -> Pointer; Errno::ENOENT with dlerror's text if none. */
static VALUE lib_symbol(VALUE self, VALUE name) {
  struct rlib *l = lib_open_of(self);
  void *addr;
  check(weft_ffi_library_symbol(l->h, StringValueCStr(name), &addr));
  return ptr_wrap(addr, SIZE_MAX, Qnil);
}

/* #__function(signature, flags) -> a function handle. */
static VALUE lib_function(VALUE self, VALUE sig, VALUE flags) {
  struct rlib *l = lib_open_of(self);
  weft_handle h;
  check(weft_ffi_library_function(l->h, StringValueCStr(sig), NUM2INT(flags),
                                  &h));
  return LL2NUM(h);
}

/* ------------------------------------------------------------ Function */

struct rfn {
  weft_handle h;
  size_t nargs, nfixed;
  int variadic; /* takes extra arguments (a signature with "...") */
  int blocking; /* releases the GVL */
  struct conv ret;
  struct conv *args;
  struct rlib *lib;  /* lib_obj's, checked before each call */
  VALUE lib_obj;     /* the Library, or nil */
  VALUE name;        /* String */
  VALUE attached_to; /* the module it is attached to (DSL), or nil */
};

static void fn_mark(void *p) {
  struct rfn *f = p;
  rb_gc_mark(f->lib_obj);
  rb_gc_mark(f->name);
  rb_gc_mark(f->attached_to);
  rb_gc_mark(f->ret.klass);
  for (size_t i = 0; i < f->nargs; i++)
    rb_gc_mark(f->args[i].klass);
}

static void fn_free(void *p) {
  struct rfn *f = p;
  if (f->h != 0)
    weft_close(f->h);
  xfree(f->args);
  xfree(f);
}

static const rb_data_type_t fn_type = {
    .wrap_struct_name = "Weft::FFI::Function",
    .function = {.dmark = fn_mark, .dfree = fn_free, .dsize = NULL},
    .flags = RUBY_TYPED_FREE_IMMEDIATELY};

static VALUE fn_alloc(VALUE klass) {
  struct rfn *f;
  VALUE obj = TypedData_Make_Struct(klass, struct rfn, &fn_type, f);
  f->lib_obj = Qnil;
  f->name = Qnil;
  f->attached_to = Qnil;
  f->ret.klass = Qnil;
  return obj;
}

static struct rfn *fn_of(VALUE v) {
  if (RB_TYPE_P(v, T_DATA) && RTYPEDDATA_P(v) &&
      RTYPEDDATA_TYPE(v) == &fn_type) /* the call's fast case */
    return RTYPEDDATA_DATA(v);
  return rb_check_typeddata(v, &fn_type);
}

/* #__setup(handle, name, library, ret_class, arg_classes, blocking): take
 * the function handle (closed with the object) and learn its types.
 * ret_class and arg_classes name the Struct classes of struct types by
 * value (nil elsewhere). */
static VALUE fn_setup(VALUE self, VALUE handle, VALUE name, VALUE lib,
                      VALUE ret_class, VALUE arg_classes, VALUE blocking) {
  struct rfn *f = fn_of(self);
  if (f->h != 0)
    rb_raise(rb_eRuntimeError, "function set up already");
  weft_handle h = weft_rb_handle(handle);
  if (!NIL_P(arg_classes))
    Check_Type(arg_classes, T_ARRAY);
  size_t nargs = 0, nfixed = 0;
  int flags = 0, abi = 0;
  check(weft_ffi_function_arg_count(h, &nargs, &nfixed));
  check(weft_ffi_function_flags(h, &flags, &abi));
  /* The conversions first: fn_mark walks nargs of them, and any
   * allocation here may run the GC. */
  struct conv *args = ALLOC_N(struct conv, nargs ? nargs : 1);
  for (size_t i = 0; i < nargs; i++)
    args[i].klass = Qnil;
  xfree(f->args);
  f->args = args;
  f->nargs = nargs;
  f->nfixed = (flags & WEFT_FFI_CALL_VARIADIC) ? nfixed : nargs;
  f->variadic = (flags & WEFT_FFI_CALL_VARIADIC) && nfixed == nargs;
  f->blocking = RTEST(blocking);
  f->name = NIL_P(name) ? rb_str_new_cstr("") : rb_str_dup(name);
  if (!NIL_P(lib)) {
    f->lib = lib_of(lib);
    f->lib_obj = lib;
  }
  weft_handle t;
  check(weft_ffi_function_restype(h, &t));
  conv_of(t, &f->ret);
  weft_close(t);
  f->ret.klass = ret_class;
  for (size_t i = 0; i < nargs; i++) {
    check(weft_ffi_function_argtype(h, i, &t));
    conv_of(t, &f->args[i]);
    weft_close(t);
    if (!NIL_P(arg_classes))
      f->args[i].klass = rb_ary_entry(arg_classes, (long)i);
  }
  f->h = h; /* owned from here on; the caller closes it on a raise above */
  return self;
}

struct callctx {
  weft_handle h;
  void *ret;
  void **args;
  weft_status st;
};

static void *call_nogvl(void *p) {
  struct callctx *c = p;
  c->st = weft_ffi_call(c->h, c->ret, c->args);
  return NULL;
}

/* The C name of argument i's type, for messages. */
static VALUE arg_type_name(struct rfn *f, size_t i) {
  weft_handle t;
  char buf[128];
  size_t len = 0;
  if (weft_ffi_function_argtype(f->h, i, &t) < 0)
    return rb_str_new_cstr(cv_name[f->args[i].cv]);
  weft_status st = weft_ffi_type_name(t, buf, sizeof buf, &len);
  weft_close(t);
  if (st < 0)
    return rb_str_new_cstr(cv_name[f->args[i].cv]);
  return rb_str_new(buf, (long)len);
}

NORETURN(static void bad_arg(struct rfn *f, size_t i, VALUE v, int r));
static void bad_arg(struct rfn *f, size_t i, VALUE v, int r) {
  const struct conv *c = &f->args[i];
  VALUE tn = arg_type_name(f, i);
  if (r == BAD_RANGE && c->cv == CV_STRING)
    rb_raise(rb_eArgError,
             "%" PRIsVALUE ": argument %zu (%" PRIsVALUE "): the String "
             "holds a NUL byte",
             f->name, i + 1, tn);
  if (r == BAD_RANGE)
    rb_raise(rb_eRangeError,
             "%" PRIsVALUE ": argument %zu (%" PRIsVALUE "): %" PRIsVALUE
             " is out of range",
             f->name, i + 1, tn, rb_inspect(v));
  rb_raise(rb_eTypeError,
           "%" PRIsVALUE ": argument %zu (%" PRIsVALUE "): expected %s, not "
           "%" PRIsVALUE,
           f->name, i + 1, tn, expected[c->cv], what_is(v));
}

/* The scalar slots of a call: 16 bytes each (long double). */
union slot {
  long double g;
  int64_t i;
  void *p;
  char b[16];
};

#define SMALL_ARGS 12

/* #call(*args) */
static VALUE fn_invoke(struct rfn *f, VALUE self, int argc, VALUE *argv);

static VALUE fn_call(int argc, VALUE *argv, VALUE self) {
  return fn_invoke(fn_of(self), self, argc, argv);
}

static VALUE fn_invoke(struct rfn *f, VALUE self, int argc, VALUE *argv) {
  if (f->h == 0) /* Function.allocate */
    raise_weft("StateError", WEFT_ESTATE, "the function was not set up");
  if (f->lib != NULL && f->lib->closed)
    raise_weft("ClosedError", WEFT_ECLOSED,
               "%" PRIsVALUE ": its library is closed", f->name);
  if (f->variadic && (size_t)argc > f->nfixed)
    return rb_funcallv(self, id_variadic_call, argc, argv);
  if ((size_t)argc != f->nargs) {
    if (f->variadic)
      rb_raise(rb_eArgError,
               "%" PRIsVALUE ": wrong number of arguments (given %d, "
               "expected %zu+)",
               f->name, argc, f->nfixed);
    rb_raise(rb_eArgError,
             "%" PRIsVALUE ": wrong number of arguments (given %d, expected "
             "%zu)",
             f->name, argc, f->nargs);
  }
  union slot small_vals[SMALL_ARGS];
  void *small_ptrs[SMALL_ARGS];
  union slot *vals = small_vals;
  void **ptrs = small_ptrs;
  VALUE tmp = 0;
  if (argc > SMALL_ARGS) {
    vals = ALLOCV(tmp, (sizeof *vals + sizeof *ptrs) * (size_t)argc);
    ptrs = (void **)(vals + argc);
  }
  VALUE keep = Qnil; /* frozen copies of Strings a blocking call uses */
  for (size_t i = 0; i < (size_t)argc; i++) {
    const struct conv *c = &f->args[i];
    VALUE v = argv[i];
    int r;
    if (c->cv == CV_STRUCT) {
      r = struct_address(c, v, &ptrs[i]);
    } else {
      if (f->blocking && RB_TYPE_P(v, T_STRING)) {
        /* Other threads run meanwhile: C reads a copy nobody changes. */
        v = rb_str_new_frozen(v);
        if (NIL_P(keep))
          keep = rb_ary_new();
        rb_ary_push(keep, v);
      }
      r = to_c(c, v, vals[i].b);
      if (r == NEED_COPY) {
        v = rb_str_new(RSTRING_PTR(v), RSTRING_LEN(v));
        if (NIL_P(keep))
          keep = rb_ary_new();
        rb_ary_push(keep, v);
        r = to_c(c, v, vals[i].b);
      }
      ptrs[i] = vals[i].b;
    }
    if (r != 0) {
      if (tmp)
        ALLOCV_END(tmp);
      bad_arg(f, i, v, r);
    }
  }
  union slot rbuf;
  VALUE result = Qnil;
  void *ret = rbuf.b;
  VALUE sobj = Qnil;
  if (f->ret.cv == CV_STRUCT) {
    if (!NIL_P(f->ret.klass)) {
      sobj = rb_funcallv(f->ret.klass, id_new, 0, NULL);
      struct rptr *p = ptr_of(rb_ivar_get(sobj, id_pointer));
      ret = p->addr;
    } else {
      result = rb_str_new(NULL, (long)f->ret.size);
      ret = RSTRING_PTR(result);
    }
  } else if (f->ret.cv == CV_VOID) {
    ret = NULL;
  }
  struct callctx cc = {f->h, ret, ptrs, 0};
  if (f->blocking)
    rb_nogvl(call_nogvl, &cc, RUBY_UBF_IO, NULL, 0);
  else
    call_nogvl(&cc);
  RB_GC_GUARD(keep);
  if (tmp)
    ALLOCV_END(tmp);
  weft_rb_run_deferred(); /* a callback's exception */
  if (cc.st < 0)
    weft_rb_raise(cc.st);
  if (f->ret.cv == CV_STRUCT)
    return NIL_P(sobj) ? result : sobj;
  return from_c(&f->ret, ret);
}

static VALUE fn_address(VALUE self) {
  void *a = NULL;
  check(weft_ffi_function_address(fn_of(self)->h, &a));
  return ptr_wrap(a, SIZE_MAX, Qnil);
}

static VALUE fn_name(VALUE self) { return rb_str_dup(fn_of(self)->name); }

/* #arity: Method#arity's sense (-n-1 for n fixed arguments and more). */
static VALUE fn_arity(VALUE self) {
  struct rfn *f = fn_of(self);
  return f->variadic ? LONG2NUM(-(long)f->nfixed - 1) : SIZET2NUM(f->nargs);
}

static VALUE fn_blocking_p(VALUE self) {
  return fn_of(self)->blocking ? Qtrue : Qfalse;
}

static VALUE fn_variadic_p(VALUE self) {
  return fn_of(self)->variadic ? Qtrue : Qfalse;
}

/* #flags -> weft's flags (WEFT_FFI_CALL_FAST when on the fast path). */
static VALUE fn_flags(VALUE self) {
  int flags = 0, abi = 0;
  check(weft_ffi_function_flags(fn_of(self)->h, &flags, &abi));
  return INT2NUM(flags);
}

/* #handle: the weft function handle (owned by this object). */
static VALUE fn_handle(VALUE self) { return LL2NUM(fn_of(self)->h); }

/* #__types -> [restype handle, [argtype handles]]: new handles, for the
 * Ruby layer's variadic call shapes (it closes them). */
static VALUE fn_types(VALUE self) {
  struct rfn *f = fn_of(self);
  weft_handle t;
  check(weft_ffi_function_restype(f->h, &t));
  VALUE ret = LL2NUM(t);
  VALUE args = rb_ary_new_capa((long)f->nfixed);
  for (size_t i = 0; i < f->nfixed; i++) {
    check(weft_ffi_function_argtype(f->h, i, &t));
    rb_ary_push(args, LL2NUM(t));
  }
  return rb_assoc_new(ret, args);
}

/* ----------------------------------------------------------- attached */

/* Weft::FFI::DSL's attach_function: a singleton method of the module,
 * defined in C, that finds its Function by the name it was defined as
 * (rb_frame_this_func), so that a call costs no Ruby frame of its own.
 * `attached` maps the ID to the Function, or to a Hash module =>
 * Function when modules share a name; `attached_keep` marks them. */
static st_table *attached;
static VALUE attached_keep;

static VALUE fn_attached(int argc, VALUE *argv, VALUE self) {
  st_data_t v = 0;
  if (st_lookup(attached, (st_data_t)rb_frame_this_func(), &v)) {
    VALUE fn = (VALUE)v; /* a Function, or a Hash of them */
    if (RB_TYPE_P(fn, T_HASH))
      fn = rb_hash_lookup(fn, self);
    if (!NIL_P(fn)) {
      struct rfn *f = RTYPEDDATA_DATA(fn);
      if (f->attached_to == self)
        return fn_invoke(f, fn, argc, argv);
    }
  }
  rb_raise(rb_eNoMethodError, "no function attached as %" PRIsVALUE,
           ID2SYM(rb_frame_this_func()));
}

/* Raw.attach(module, name, function): define module.name calling it. */
static VALUE raw_attach(VALUE self, VALUE mod, VALUE name, VALUE fn) {
  struct rfn *f = fn_of(fn);
  ID id = rb_to_id(name);
  if (!NIL_P(f->attached_to))
    rb_raise(rb_eArgError, "the function is attached already");
  f->attached_to = mod;
  rb_ary_push(attached_keep, fn);
  st_data_t old = 0;
  if (!st_lookup(attached, (st_data_t)id, &old)) {
    st_insert(attached, (st_data_t)id, (st_data_t)fn);
  } else {
    VALUE h = (VALUE)old;
    if (!RB_TYPE_P(h, T_HASH)) {
      VALUE prev = h;
      h = rb_hash_new();
      rb_hash_aset(h, ((struct rfn *)RTYPEDDATA_DATA(prev))->attached_to, prev);
      rb_ary_push(attached_keep, h);
      st_insert(attached, (st_data_t)id, (st_data_t)h);
    }
    rb_hash_aset(h, mod, fn);
  }
  rb_define_singleton_method(mod, rb_id2name(id), fn_attached, -1);
  return Qnil;
}

/* ------------------------------------------------------------ Callback */

/* What a closure's handler needs, malloc'd (never GC memory): weft may
 * call the handler on any thread, and weft_close does not wait for calls
 * already inside it.  So weft's arg is not a pointer but a slot id of
 * `cbs`, a table under cbs_mu: a call finds its record there (or nothing,
 * once released) and counts itself in `calls`; the record is freed by
 * whichever of the release and the last call comes second. */
struct rcb_c {
  long proc_id; /* the block, in rbweft.c's (marked) callback table */
  size_t nargs;
  struct conv ret;
  struct conv *args;
  size_t calls; /* under cbs_mu */
  int dead;     /* released: free once calls is 0 */
};

struct cb_slot {
  struct rcb_c *c; /* NULL: free */
  uint32_t gen;
};

static pthread_mutex_t cbs_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cb_slot *cbs;
static size_t cbs_len, cbs_cap;
static VALUE cb_keep; /* slot id -> the Struct classes its conversions name */

static void rcb_c_free(struct rcb_c *c) {
  free(c->args);
  free(c);
}

/* A new slot id for c (>= 1: gen << 32 | index); 0 without memory. */
static uint64_t cbs_add(struct rcb_c *c) {
  pthread_mutex_lock(&cbs_mu);
  size_t i;
  for (i = 0; i < cbs_len; i++)
    if (cbs[i].c == NULL)
      break;
  if (i == cbs_len) {
    if (cbs_len == cbs_cap) {
      size_t cap = cbs_cap ? cbs_cap * 2 : 16;
      struct cb_slot *n = realloc(cbs, cap * sizeof *n);
      if (n == NULL) {
        pthread_mutex_unlock(&cbs_mu);
        return 0;
      }
      cbs = n;
      cbs_cap = cap;
    }
    cbs[cbs_len].gen = 0;
    cbs_len++;
  }
  cbs[i].c = c;
  uint64_t id = ((uint64_t)++cbs[i].gen << 32) | i;
  pthread_mutex_unlock(&cbs_mu);
  return id;
}

/* The record of slot id, counted as a call; NULL once released. */
static struct rcb_c *cbs_enter(uint64_t id) {
  size_t i = (size_t)(id & 0xffffffffu);
  struct rcb_c *c = NULL;
  pthread_mutex_lock(&cbs_mu);
  if (i < cbs_len && cbs[i].gen == (uint32_t)(id >> 32) && cbs[i].c != NULL) {
    c = cbs[i].c;
    c->calls++;
  }
  pthread_mutex_unlock(&cbs_mu);
  return c;
}

static void cbs_leave(struct rcb_c *c) {
  pthread_mutex_lock(&cbs_mu);
  int last = --c->calls == 0 && c->dead;
  pthread_mutex_unlock(&cbs_mu);
  if (last)
    rcb_c_free(c);
}

/* Take slot id out of the table: later calls find nothing.  Frees the
 * record unless a call is inside it (that call then does). */
static void cbs_remove(uint64_t id) {
  size_t i = (size_t)(id & 0xffffffffu);
  struct rcb_c *c = NULL;
  int now = 0;
  pthread_mutex_lock(&cbs_mu);
  if (i < cbs_len && cbs[i].gen == (uint32_t)(id >> 32) && cbs[i].c != NULL) {
    c = cbs[i].c;
    cbs[i].c = NULL;
    c->dead = 1;
    now = c->calls == 0;
  }
  pthread_mutex_unlock(&cbs_mu);
  if (now)
    rcb_c_free(c);
}

static void after_fork_child(void) {
  pthread_mutex_init(&cbs_mu, NULL); /* calls of the parent's threads */
}

/* The Ruby object: the closure handle, its address and slot.  Releasing
 * (Callback#free, or the finalizer weft_ffi.rb defines, which runs in
 * normal Ruby context, as rbweft.c's callback table needs) goes through
 * Raw.callback_release, never through the GC's free function. */
struct rcb {
  weft_handle closure;
  void *address;
  uint64_t slot;
};

static const rb_data_type_t cb_type = {
    .wrap_struct_name = "Weft::FFI::Callback",
    .function = {.dmark = NULL,
                 .dfree = RUBY_TYPED_DEFAULT_FREE,
                 .dsize = NULL},
    .flags = RUBY_TYPED_FREE_IMMEDIATELY};

static VALUE cb_alloc(VALUE klass) {
  struct rcb *cb;
  return TypedData_Make_Struct(klass, struct rcb, &cb_type, cb);
}

static struct rcb *cb_of(VALUE v) { return rb_check_typeddata(v, &cb_type); }

/* Release closure and slot (with the GVL, in normal Ruby context). */
static void cb_release(weft_handle closure, uint64_t slot) {
  if (closure != 0)
    weft_close(closure); /* C calls after this reach no handler */
  if (slot == 0)
    return;
  size_t i = (size_t)(slot & 0xffffffffu);
  long proc_id = 0;
  pthread_mutex_lock(&cbs_mu);
  if (i < cbs_len && cbs[i].gen == (uint32_t)(slot >> 32) && cbs[i].c != NULL)
    proc_id = cbs[i].c->proc_id;
  pthread_mutex_unlock(&cbs_mu);
  cbs_remove(slot);
  if (proc_id != 0)
    weft_rb_callback_drop(proc_id);
  rb_hash_delete(cb_keep, ULL2NUM(slot));
}

struct cbrun {
  struct rcb_c *c;
  void *ret;
  void **args;
  int dispatched; /* on the dispatcher thread: nobody to raise in */
};

static VALUE cb_body(VALUE p) {
  struct cbrun *r = (struct cbrun *)p;
  struct rcb_c *c = r->c;
  VALUE proc = weft_rb_callback_get(c->proc_id);
  if (NIL_P(proc))
    return Qnil; /* released meanwhile */
  VALUE tmp = 0;
  VALUE *argv = ALLOCV_N(VALUE, tmp, c->nargs ? c->nargs : 1);
  for (size_t i = 0; i < c->nargs; i++)
    argv[i] = from_c(&c->args[i], r->args[i]);
  VALUE res = rb_funcallv(proc, id_call, (int)c->nargs, argv);
  ALLOCV_END(tmp);
  RB_GC_GUARD(proc);
  if (c->ret.cv == CV_VOID)
    return Qnil;
  int bad;
  if (c->ret.cv == CV_STRUCT) {
    void *src; /* (struct_address checks the class) */
    bad = struct_address(&c->ret, res, &src);
    if (bad == 0)
      memcpy(r->ret, src, c->ret.size);
  } else if ((c->ret.cv == CV_STRING || c->ret.cv == CV_POINTER) &&
             RB_TYPE_P(res, T_STRING)) {
    bad = BAD_TYPE; /* it would dangle once the block returned */
  } else {
    union slot buf;
    bad = to_c(&c->ret, res, buf.b);
    if (bad == 0)
      memcpy(r->ret, buf.b, c->ret.size);
  }
  if (bad == BAD_RANGE)
    rb_raise(rb_eRangeError,
             "callback result %" PRIsVALUE " is out of range for %s",
             rb_inspect(res), cv_name[c->ret.cv]);
  if (bad)
    rb_raise(rb_eTypeError, "callback result: expected %s, not %" PRIsVALUE,
             c->ret.cv == CV_STRING || c->ret.cv == CV_POINTER
                 ? "a Pointer or nil (a String would "
                   "dangle)"
                 : expected[c->ret.cv],
             what_is(res));
  return Qnil;
}

/* With the GVL, on a Ruby thread. */
static void *cb_with_gvl(void *p) {
  struct cbrun *r = p;
  int state = 0;
  rb_protect(cb_body, (VALUE)r, &state);
  if (state == 0)
    return NULL;
  if (r->c->ret.cv != CV_VOID)
    memset(r->ret, 0, r->c->ret.size);
  VALUE err = rb_errinfo();
  if (!rb_obj_is_kind_of(err, rb_eException)) {
    weft_rb_defer(state, Qnil); /* Thread#kill: goes on once C returns */
    return NULL;
  }
  rb_set_errinfo(Qnil);
  if (r->dispatched)
    weft_rb_report(err, "ffi callback");
  else
    weft_rb_defer(0, err); /* raised by the Ruby call that C is inside */
  return NULL;
}

/* weft's handler, on whatever thread C calls the closure. */
static void cb_handler(void *arg, void *ret, void **args) {
  struct rcb_c *c = cbs_enter((uint64_t)(uintptr_t)arg);
  if (c == NULL)
    return; /* released: ret stays zeros */
  struct cbrun r = {c, ret, args, !ruby_native_thread_p()};
  weft_rb_with_gvl(cb_with_gvl, &r);
  cbs_leave(c);
}

/* #__setup(signature function handle, block, struct classes) -> slot id
 * (for the finalizer): make the closure.  The signature handle stays the
 * caller's. */
static VALUE cb_setup(VALUE self, VALUE sig, VALUE proc, VALUE classes) {
  struct rcb *cb = cb_of(self);
  if (cb->slot != 0)
    rb_raise(rb_eRuntimeError, "callback set up already");
  weft_handle h = weft_rb_handle(sig);
  if (!NIL_P(classes))
    Check_Type(classes, T_ARRAY);
  size_t nargs = 0, nfixed = 0;
  check(weft_ffi_function_arg_count(h, &nargs, &nfixed));
  /* Every conversion first (they may raise), then the C records. */
  VALUE tmpv = 0;
  struct conv *convs = ALLOCV_N(struct conv, tmpv, nargs + 1);
  for (size_t i = 0; i <= nargs; i++) {
    weft_handle t;
    check(i == 0 ? weft_ffi_function_restype(h, &t)
                 : weft_ffi_function_argtype(h, i - 1, &t));
    int kind = 0;
    weft_status st = weft_ffi_type_kind(t, &kind);
    if (st == 0 && !(kind == WEFT_FFI_KIND_ARRAY && i == 0))
      conv_of(t, &convs[i]);
    weft_close(t);
    check(st);
    convs[i].klass = NIL_P(classes) ? Qnil : rb_ary_entry(classes, (long)i);
    if (convs[i].cv == CV_STRUCT && NIL_P(convs[i].klass))
      rb_raise(rb_eTypeError,
               "callback %s %zu: a struct by value needs its Struct class "
               "(give the types, not a signature string)",
               i == 0 ? "result" : "argument", i);
  }
  long proc_id = weft_rb_callback_add(proc); /* TypeError unless #call */
  struct rcb_c *c = malloc(sizeof *c);
  struct conv *args = malloc((nargs ? nargs : 1) * sizeof *args);
  uint64_t slot = 0;
  if (c != NULL && args != NULL) {
    c->proc_id = proc_id;
    c->nargs = nargs;
    c->ret = convs[0];
    memcpy(args, convs + 1, nargs * sizeof *args);
    c->args = args;
    c->calls = 0;
    c->dead = 0;
    slot = cbs_add(c);
  }
  ALLOCV_END(tmpv);
  if (slot == 0) {
    free(c);
    free(args);
    weft_rb_callback_drop(proc_id);
    rb_memerror();
  }
  rb_hash_aset(cb_keep, ULL2NUM(slot), classes);
  weft_rb_dispatcher_ensure(); /* for calls from threads Ruby does not know */
  weft_handle closure = 0;
  weft_status st =
      weft_ffi_closure_new(h, cb_handler, (void *)(uintptr_t)slot, &closure);
  if (st == 0)
    st = weft_ffi_closure_address(closure, &cb->address);
  if (st < 0) {
    cb_release(closure, slot);
    weft_rb_raise(st);
  }
  cb->closure = closure;
  cb->slot = slot;
  return ULL2NUM(slot);
}

/* #to_ptr: the function pointer C calls. */
static VALUE cb_to_ptr(VALUE self) {
  struct rcb *cb = cb_of(self);
  if (cb->closure == 0)
    raise_weft("ClosedError", WEFT_ECLOSED, "the callback was freed");
  return ptr_wrap(cb->address, 0, self);
}

/* #__free: close the closure now (C must not call it afterwards; a call
 * already running the block finishes). */
static VALUE cb_free_m(VALUE self) {
  struct rcb *cb = cb_of(self);
  if (cb->closure == 0)
    raise_weft("ClosedError", WEFT_ECLOSED, "the callback was freed");
  cb_release(cb->closure, cb->slot);
  cb->closure = 0;
  cb->slot = 0;
  return Qnil;
}

static VALUE cb_freed_p(VALUE self) {
  return cb_of(self)->closure == 0 ? Qtrue : Qfalse;
}

/* #handle: the closure handle. */
static VALUE cb_handle(VALUE self) {
  struct rcb *cb = cb_of(self);
  if (cb->closure == 0)
    raise_weft("ClosedError", WEFT_ECLOSED, "the callback was freed");
  return LL2NUM(cb->closure);
}

/* Raw.callback_release(closure handle, slot): the finalizer's release of
 * a Callback the GC took. */
static VALUE raw_callback_release(VALUE self, VALUE closure, VALUE slot) {
  cb_release(weft_rb_handle(closure), NUM2ULL(slot));
  return Qnil;
}

/* Raw.closure_function(closure handle) -> a function handle that calls
 * the closure's address with its signature (weft_ffi_closure_function). */
static VALUE raw_closure_function(VALUE self, VALUE closure) {
  weft_handle h;
  check(weft_ffi_closure_function(weft_rb_handle(closure), &h));
  return LL2NUM(h);
}

/* Raw.callback_count -> records C may still call (for tests). */
static VALUE raw_callback_count(VALUE self) {
  size_t n = 0;
  pthread_mutex_lock(&cbs_mu);
  for (size_t i = 0; i < cbs_len; i++)
    n += cbs[i].c != NULL;
  pthread_mutex_unlock(&cbs_mu);
  return SIZET2NUM(n);
}

/* ----------------------------------------------------------------- Raw */

/* Raw.type_named(name) -> handle; TypeError for a name weft does not
 * know. */
static VALUE raw_type_named(VALUE self, VALUE name) {
  weft_handle h;
  weft_status st = weft_ffi_type_named(StringValueCStr(name), &h);
  if (st == -ENOENT)
    rb_raise(rb_eTypeError, "unknown type %" PRIsVALUE, rb_inspect(name));
  check(st);
  return LL2NUM(h);
}

static VALUE raw_pointer_new(VALUE self, VALUE t) {
  weft_handle h;
  check(weft_ffi_pointer_new(weft_rb_handle(t), &h));
  return LL2NUM(h);
}

static VALUE raw_array_new(VALUE self, VALUE t, VALUE n) {
  weft_handle h;
  check(weft_ffi_array_new(weft_rb_handle(t), weft_rb_size(n), &h));
  return LL2NUM(h);
}

/* Raw.type_info(handle) -> [kind, code, size, align] (size and align nil
 * for void). */
static VALUE raw_type_info(VALUE self, VALUE t) {
  weft_handle h = weft_rb_handle(t);
  int kind = 0, code = 0;
  size_t size = 0, align = 0;
  check(weft_ffi_type_kind(h, &kind));
  check(weft_ffi_type_code(h, &code));
  check(weft_ffi_type_size(h, &size));
  check(weft_ffi_type_align(h, &align));
  return rb_ary_new_from_args(4, INT2FIX(kind), INT2FIX(code), SIZET2NUM(size),
                              SIZET2NUM(align));
}

static VALUE raw_type_name(VALUE self, VALUE t) {
  char buf[256];
  size_t len = 0;
  check(weft_ffi_type_name(weft_rb_handle(t), buf, sizeof buf, &len));
  return rb_str_new(buf, (long)len);
}

static VALUE raw_close(VALUE self, VALUE h) {
  check(weft_close(weft_rb_handle(h)));
  return Qnil;
}

static VALUE raw_struct_new(VALUE self, VALUE flags, VALUE pack, VALUE align) {
  weft_handle h;
  check(weft_ffi_struct_new(NUM2INT(flags), NUM2INT(pack), NUM2INT(align), &h));
  return LL2NUM(h);
}

static VALUE raw_struct_add(VALUE self, VALUE st, VALUE name, VALUE t,
                            VALUE bits) {
  check(weft_ffi_struct_add(weft_rb_handle(st), StringValueCStr(name),
                            weft_rb_handle(t), NUM2INT(bits)));
  return Qnil;
}

static VALUE raw_struct_finish(VALUE self, VALUE st) {
  check(weft_ffi_struct_finish(weft_rb_handle(st)));
  return Qnil;
}

/* Raw.field_layout(st, i) -> [offset, unit, bit_offset, bits] */
static VALUE raw_field_layout(VALUE self, VALUE st, VALUE i) {
  size_t off = 0, unit = 0;
  int bit_offset = 0, bits = 0;
  check(weft_ffi_struct_field_layout(weft_rb_handle(st), weft_rb_size(i), &off,
                                     &unit, &bit_offset, &bits));
  return rb_ary_new_from_args(4, SIZET2NUM(off), SIZET2NUM(unit),
                              INT2FIX(bit_offset), INT2FIX(bits));
}

/* Field kinds for field_get / field_set, as weft_ffi.rb computes them. */
enum { FK_INT, FK_UINT64, FK_BOOL, FK_DOUBLE, FK_POINTER, FK_STRING };

/* One scalar field of the struct st at addr, through the engine
 * (bitfields, byte order). */
static VALUE field_get(weft_handle h, size_t i, const void *addr, int k,
                       VALUE target) {
  if (k == FK_DOUBLE) {
    double d = 0;
    check(weft_ffi_struct_get_double(h, i, addr, &d));
    return DBL2NUM(d);
  }
  int64_t v = 0;
  check(weft_ffi_struct_get_int(h, i, addr, &v));
  switch (k) {
  case FK_UINT64:
    return ULL2NUM((uint64_t)v);
  case FK_BOOL:
    return v ? Qtrue : Qfalse;
  case FK_POINTER: {
    VALUE p = ptr_wrap((void *)(uintptr_t)v, SIZE_MAX, Qnil);
    if (NIL_P(target))
      return p;
    return v == 0 ? Qnil : rb_funcallv(target, id_new, 1, &p); /* Klass.ptr */
  }
  case FK_STRING:
    return v == 0 ? Qnil : rb_str_new_cstr((const char *)(uintptr_t)v);
  default:
    return LL2NUM(v);
  }
}

/* Store value in that field.  cv: the conversion whose range an integer
 * must fit (CV_S64 for a bitfield, which keeps the low bits as C's
 * assignment does). */
static VALUE field_set(weft_handle h, size_t i, void *addr, int k, int cv,
                       VALUE value) {
  int64_t v = 0;
  int bad = 0;
  switch (k) {
  case FK_DOUBLE:
    if (!RB_FLOAT_TYPE_P(value) && !RB_INTEGER_TYPE_P(value))
      rb_raise(rb_eTypeError, "a float field takes a Float, not %" PRIsVALUE,
               what_is(value));
    check(weft_ffi_struct_set_double(h, i, addr, NUM2DBL(value)));
    return value;
  case FK_BOOL:
    if (value == Qtrue || value == Qfalse)
      v = value == Qtrue;
    else
      bad = int_to_c(value, CV_S64, &v);
    break;
  case FK_POINTER:
  case FK_STRING: {
    void *a;
    if (RB_TYPE_P(value, T_STRING) || address_of(value, &a) != 0)
      rb_raise(rb_eTypeError,
               "a pointer field takes a Pointer, nil or an Integer "
               "address, not %" PRIsVALUE,
               what_is(value));
    v = (int64_t)(uintptr_t)a;
    break;
  }
  default:
    bad = int_to_c(value, cv, &v);
    break;
  }
  if (bad == BAD_TYPE)
    rb_raise(rb_eTypeError,
             "an integer field takes an Integer, not %" PRIsVALUE,
             what_is(value));
  if (bad == BAD_RANGE)
    rb_raise(rb_eRangeError, "%" PRIsVALUE " is out of range for the field",
             rb_inspect(value));
  check(weft_ffi_struct_set_int(h, i, addr, v));
  return value;
}

/* Raw.field_get(st, index, pointer, kind) */
static VALUE raw_field_get(VALUE self, VALUE st, VALUE index, VALUE ptr,
                           VALUE kind) {
  struct rptr *p = ptr_of(ptr);
  check_alive(p);
  return field_get(weft_rb_handle(st), weft_rb_size(index), p->addr,
                   NUM2INT(kind), Qnil);
}

/* Raw.field_set(st, index, pointer, kind, value): integers in the range
 * of a 64-bit field of their sign (field_set's cv). */
static VALUE raw_field_set(VALUE self, VALUE st, VALUE index, VALUE ptr,
                           VALUE kind, VALUE value) {
  struct rptr *p = ptr_of(ptr);
  check_alive(p);
  int k = NUM2INT(kind);
  return field_set(weft_rb_handle(st), weft_rb_size(index), p->addr, k,
                   k == FK_UINT64 ? CV_U64 : CV_S64, value);
}

/* -------------------------------------------------------- struct fields */

/* A Struct class's fields for Struct#[], #[]= and the accessors, in C:
 * the class's @__layout (made by Raw.layout_new once the type is built).
 * A field that is not a scalar (a nested struct, an array), or a char *
 * field given a String (which the struct must keep alive), goes to the
 * Ruby side (__aref / __aset). */
struct sfield {
  VALUE name; /* Symbol, nil if unnamed */
  size_t index;
  int fk;       /* FK_*, or -1: not a scalar */
  int cv;       /* the range an integer stored here must fit */
  VALUE target; /* Klass.ptr fields: Klass */
};

struct slayout {
  weft_handle st; /* the struct type (the class's Type owns it) */
  size_t n;
  struct sfield *f;
  st_table *by_id; /* name ID -> index; setter ID -> index | SETTER */
};

#define SETTER ((st_data_t)1 << 40)

static void layout_mark(void *p) {
  struct slayout *L = p;
  for (size_t i = 0; i < L->n; i++) {
    rb_gc_mark(L->f[i].target);
    rb_gc_mark(L->f[i].name);
  }
}

static void layout_free(void *p) {
  struct slayout *L = p;
  xfree(L->f);
  if (L->by_id != NULL)
    st_free_table(L->by_id);
  xfree(L);
}

static const rb_data_type_t layout_type = {
    .wrap_struct_name = "Weft::FFI::Struct layout",
    .function = {.dmark = layout_mark, .dfree = layout_free, .dsize = NULL},
    .flags = RUBY_TYPED_FREE_IMMEDIATELY};

static VALUE c_struct;
static ID id_layout, id_ffi_type, id_aref_slow, id_aset_slow;

/* Raw.layout_new(st, {name => target class}) -> the layout object. */
static VALUE raw_layout_new(VALUE self, VALUE st, VALUE targets) {
  weft_handle h = weft_rb_handle(st);
  if (!NIL_P(targets))
    Check_Type(targets, T_HASH);
  size_t n = 0;
  check(weft_ffi_struct_field_count(h, &n));
  struct slayout *L;
  VALUE obj =
      TypedData_Make_Struct(rb_cObject, struct slayout, &layout_type, L);
  L->st = h;
  L->f = ZALLOC_N(struct sfield, n ? n : 1);
  L->n = n;
  for (size_t i = 0; i < n; i++)
    L->f[i].target = L->f[i].name = Qnil;
  L->by_id = st_init_numtable();
  for (size_t i = 0; i < n; i++) {
    struct sfield *f = &L->f[i];
    char name[256];
    size_t len = 0, off = 0, unit = 0;
    int bit_offset = 0, bits = 0, kind = 0;
    weft_handle t;
    f->index = i;
    check(weft_ffi_struct_field_name(h, i, name, sizeof name, &len));
    check(weft_ffi_struct_field_layout(h, i, &off, &unit, &bit_offset, &bits));
    check(weft_ffi_struct_field_type(h, i, &t));
    struct conv c;
    weft_status st2 = weft_ffi_type_kind(t, &kind);
    if (st2 == 0 && kind != WEFT_FFI_KIND_ARRAY)
      conv_of(t, &c);
    weft_close(t);
    check(st2);
    f->fk = -1;
    f->cv = CV_S64;
    if (kind != WEFT_FFI_KIND_ARRAY) {
      switch (c.cv) {
      case CV_BOOL:
        f->fk = FK_BOOL;
        break;
      case CV_FLOAT:
      case CV_DOUBLE:
      case CV_LDOUBLE:
        f->fk = FK_DOUBLE;
        break;
      case CV_STRING:
        f->fk = FK_STRING;
        break;
      case CV_POINTER:
        f->fk = FK_POINTER;
        break;
      case CV_U64:
        f->fk = FK_UINT64;
        f->cv = CV_U64;
        break;
      case CV_STRUCT:
      case CV_VOID:
        break;
      default:
        f->fk = FK_INT;
        if (bits < 0)
          f->cv = c.cv; /* an ordinary field: its type's range */
        break;
      }
    }
    if (len == 0 || len >= sizeof name)
      continue; /* unnamed: not reachable by name */
    ID id = rb_intern2(name, (long)len);
    f->name = ID2SYM(id);
    st_insert(L->by_id, (st_data_t)id, (st_data_t)i);
    char setter[258];
    memcpy(setter, name, len);
    setter[len] = '=';
    st_insert(L->by_id, (st_data_t)rb_intern2(setter, (long)len + 1),
              (st_data_t)i | SETTER);
    if (!NIL_P(targets))
      f->target = rb_hash_lookup(targets, ID2SYM(id));
  }
  return obj;
}

/* The last class looked up and its layout (a class's layout never
 * changes once made; last_class is marked, so it cannot be another class
 * at the same address). */
static VALUE last_class = Qnil, last_layout = Qnil;

static struct slayout *layout_for(VALUE obj) {
  VALUE klass = rb_obj_class(obj);
  if (klass == last_class)
    return RTYPEDDATA_DATA(last_layout);
  VALUE L = rb_attr_get(klass, id_layout);
  if (NIL_P(L)) {
    rb_funcallv(klass, id_ffi_type, 0, NULL); /* builds it, or raises */
    L = rb_attr_get(klass, id_layout);
  }
  struct slayout *l = rb_check_typeddata(L, &layout_type);
  last_class = klass;
  last_layout = L;
  return l;
}

static void *struct_memory(VALUE obj) {
  struct rptr *p = ptr_of(rb_ivar_get(obj, id_pointer));
  if (p->addr == NULL)
    raise_weft("ValueError", WEFT_EVALUE, "NULL pointer access");
  if (!NIL_P(p->keep))
    check_alive(p);
  return p->addr;
}

/* The field `name` (a Symbol or String); NULL if there is none. */
static struct sfield *field_named(struct slayout *L, VALUE name) {
  if (L->n <= 16) /* a few compares beat hashing */
    for (size_t i = 0; i < L->n; i++)
      if (L->f[i].name == name)
        return &L->f[i];
  ID id;
  if (SYMBOL_P(name))
    id = SYM2ID(name);
  else if (RB_TYPE_P(name, T_STRING))
    id = rb_check_id(&name);
  else
    return NULL;
  st_data_t v;
  if (id == 0 || !st_lookup(L->by_id, (st_data_t)id, &v) || (v & SETTER))
    return NULL;
  return &L->f[v];
}

static VALUE get_field(VALUE self, struct slayout *L, struct sfield *f) {
  if (f->fk < 0)
    return rb_funcallv(self, id_aref_slow, 1, &f->name);
  return field_get(L->st, f->index, struct_memory(self), f->fk, f->target);
}

static VALUE set_field(VALUE self, struct slayout *L, struct sfield *f,
                       VALUE value) {
  if (f->fk < 0 || f->fk == FK_STRING) { /* (a String there is kept) */
    VALUE a[2] = {f->name, value};
    return rb_funcallv(self, id_aset_slow, 2, a);
  }
  return field_set(L->st, f->index, struct_memory(self), f->fk, f->cv, value);
}

/* Struct#[](name) */
static VALUE struct_aref(VALUE self, VALUE name) {
  struct slayout *L = layout_for(self);
  struct sfield *f = field_named(L, name);
  if (f == NULL)
    return rb_funcallv(self, id_aref_slow, 1, &name); /* raises */
  return get_field(self, L, f);
}

/* Struct#[]=(name, value) */
static VALUE struct_aset(VALUE self, VALUE name, VALUE value) {
  struct slayout *L = layout_for(self);
  struct sfield *f = field_named(L, name);
  if (f == NULL) {
    VALUE a[2] = {name, value};
    return rb_funcallv(self, id_aset_slow, 2, a); /* raises */
  }
  return set_field(self, L, f, value);
}

/* The accessors: the field comes from the name the method was called by
 * (rb_frame_this_func), so one C function serves every field. */
static VALUE struct_accessor(int argc, VALUE *argv, VALUE self) {
  struct slayout *L = layout_for(self);
  st_data_t v;
  ID id = rb_frame_this_func();
  if (!st_lookup(L->by_id, (st_data_t)id, &v))
    rb_raise(rb_eNoMethodError, "no field for %" PRIsVALUE, ID2SYM(id));
  struct sfield *f = &L->f[v & ~SETTER];
  if (v & SETTER) {
    rb_check_arity(argc, 1, 1);
    return set_field(self, L, f, argv[0]);
  }
  rb_check_arity(argc, 0, 0);
  return get_field(self, L, f);
}

/* Raw.define_accessor(klass, name): klass#name and klass#name= in C. */
static VALUE raw_define_accessor(VALUE self, VALUE klass, VALUE name) {
  Check_Type(klass, T_CLASS);
  Check_Type(name, T_SYMBOL);
  VALUE s = rb_sym2str(name);
  rb_define_method(klass, RSTRING_PTR(s), struct_accessor, -1);
  VALUE setter = rb_str_plus(s, rb_str_new_cstr("="));
  rb_define_method(klass, RSTRING_PTR(setter), struct_accessor, -1);
  return Qnil;
}

/* Raw.function_new(address, restype or 0, [argtypes], nfixed, abi, flags)
 * -> a function handle. */
static VALUE raw_function_new(VALUE self, VALUE address, VALUE restype,
                              VALUE argtypes, VALUE nfixed, VALUE abi,
                              VALUE flags) {
  void *a;
  if (address_of(address, &a) != 0)
    rb_raise(rb_eTypeError, "a function address is a Pointer or an Integer");
  Check_Type(argtypes, T_ARRAY);
  long n = RARRAY_LEN(argtypes);
  VALUE tmp = 0;
  weft_handle *types = ALLOCV_N(weft_handle, tmp, n ? n : 1);
  for (long i = 0; i < n; i++)
    types[i] = weft_rb_handle(rb_ary_entry(argtypes, i));
  weft_handle h;
  weft_status st = weft_ffi_function_new(a, weft_rb_handle(restype), types,
                                         (size_t)n, weft_rb_size(nfixed),
                                         NUM2INT(abi), NUM2INT(flags), &h);
  ALLOCV_END(tmp);
  check(st);
  return LL2NUM(h);
}

/* Raw.function_parse(address or nil, signature, flags) -> handle */
static VALUE raw_function_parse(VALUE self, VALUE address, VALUE sig,
                                VALUE flags) {
  void *a;
  if (address_of(address, &a) != 0)
    rb_raise(rb_eTypeError, "a function address is a Pointer or an Integer");
  weft_handle h;
  check(weft_ffi_function_parse(a, StringValueCStr(sig), NUM2INT(flags), &h));
  return LL2NUM(h);
}

/* Raw.function_name(handle) -> the name its signature string gave, "" if
 * none. */
static VALUE raw_function_name(VALUE self, VALUE fn) {
  char buf[256];
  size_t len = 0;
  weft_handle h = weft_rb_handle(fn);
  weft_status st = weft_ffi_function_name(h, buf, sizeof buf, &len);
  if (st == WEFT_ERANGE) {
    VALUE s = rb_str_new(NULL, (long)len);
    check(weft_ffi_function_name(h, RSTRING_PTR(s), len + 1, &len));
    return s;
  }
  check(st);
  return rb_str_new(buf, (long)len);
}

/* Raw.find_library("c") -> "libc.so.6" */
static VALUE raw_find_library(VALUE self, VALUE name) {
  char buf[512];
  size_t len = 0;
  const char *n = StringValueCStr(name);
  weft_status st = weft_ffi_find_library(n, buf, sizeof buf, &len);
  if (st == WEFT_ERANGE) {
    VALUE s = rb_str_new(NULL, (long)len);
    check(weft_ffi_find_library(n, RSTRING_PTR(s), len + 1, &len));
    return s;
  }
  check(st);
  return rb_str_new(buf, (long)len);
}

static VALUE raw_errno_get(VALUE self) {
  int v = 0;
  check(weft_ffi_errno_get(&v));
  return INT2NUM(v);
}

static VALUE raw_errno_set(VALUE self, VALUE v) {
  int old = 0;
  check(weft_ffi_errno_set(NUM2INT(v), &old));
  return INT2NUM(old);
}

/* Raw.memmove(dst, src, size), Raw.memset(dst, byte, size): Pointers or
 * addresses. */
static void *address_arg(VALUE v) {
  void *a;
  if (address_of(v, &a) != 0)
    rb_raise(rb_eTypeError,
             "an address is a Pointer or an Integer, not %" PRIsVALUE,
             what_is(v));
  return a;
}

static VALUE raw_memmove(VALUE self, VALUE dst, VALUE src, VALUE size) {
  check(
      weft_ffi_memmove(address_arg(dst), address_arg(src), weft_rb_size(size)));
  return Qnil;
}

static VALUE raw_memset(VALUE self, VALUE dst, VALUE byte, VALUE size) {
  check(weft_ffi_memset(address_arg(dst), NUM2INT(byte), weft_rb_size(size)));
  return Qnil;
}

/* Raw.address_of(string) -> the Integer address of its bytes (valid while
 * the String lives unchanged). */
static VALUE raw_address_of(VALUE self, VALUE str) {
  StringValue(str);
  return ULL2NUM((uintptr_t)RSTRING_PTR(str));
}

/* ----------------------------------------------------------------- init */

void weft_rb_init_ffi(VALUE native) {
  (void)native;
  id_call = rb_intern("call");
  id_new = rb_intern("new");
  id_pointer = rb_intern("@pointer");
  id_to_ptr = rb_intern("to_ptr");
  id_code = rb_intern("@code");
  id_detail = rb_intern("@detail");
  id_variadic_call = rb_intern("__variadic_call");

  VALUE weft = rb_define_module("Weft");
  m_ffi = rb_define_module_under(weft, "FFI");
  m_raw = rb_define_module_under(m_ffi, "Raw");

  c_pointer = rb_define_class_under(m_ffi, "Pointer", rb_cObject);
  rb_define_alloc_func(c_pointer, ptr_alloc);
  rb_define_method(c_pointer, "initialize", ptr_initialize, -1);
  rb_define_private_method(c_pointer, "__malloc", ptr_malloc, 1);
  rb_define_method(c_pointer, "address", ptr_address, 0);
  rb_define_method(c_pointer, "to_i", ptr_address, 0);
  rb_define_method(c_pointer, "null?", ptr_null_p, 0);
  rb_define_method(c_pointer, "size", ptr_size, 0);
  rb_define_method(c_pointer, "+", ptr_plus, 1);
  rb_define_method(c_pointer, "==", ptr_eq, 1);
  rb_define_method(c_pointer, "eql?", ptr_eq, 1);
  rb_define_method(c_pointer, "hash", ptr_hash, 0);
  rb_define_method(c_pointer, "free", ptr_free_m, 0);
  rb_define_method(c_pointer, "owned?", ptr_owned_p, 0);
  rb_define_method(c_pointer, "__get", ptr_get, 2);
  rb_define_method(c_pointer, "__put", ptr_put, 3);
  rb_define_method(c_pointer, "get_bytes", ptr_get_bytes, 2);
  rb_define_method(c_pointer, "put_bytes", ptr_put_bytes, 2);
  rb_define_method(c_pointer, "get_string", ptr_get_string, -1);
  rb_define_method(c_pointer, "put_string", ptr_put_string, 2);

  c_library = rb_define_class_under(m_ffi, "Library", rb_cObject);
  rb_define_alloc_func(c_library, lib_alloc);
  rb_define_private_method(c_library, "__open", lib_open, 2);
  rb_define_private_method(c_library, "__function", lib_function, 2);
  rb_define_method(c_library, "close", lib_close, 0);
  rb_define_method(c_library, "closed?", lib_closed_p, 0);
  rb_define_method(c_library, "handle", lib_handle, 0);
  rb_define_method(c_library, "symbol", lib_symbol, 1);

  c_function = rb_define_class_under(m_ffi, "Function", rb_cObject);
  rb_define_alloc_func(c_function, fn_alloc);
  rb_define_private_method(c_function, "__setup", fn_setup, 6);
  rb_define_private_method(c_function, "__types", fn_types, 0);
  rb_define_method(c_function, "call", fn_call, -1);
  rb_define_method(c_function, "address", fn_address, 0);
  rb_define_method(c_function, "name", fn_name, 0);
  rb_define_method(c_function, "arity", fn_arity, 0);
  rb_define_method(c_function, "blocking?", fn_blocking_p, 0);
  rb_define_method(c_function, "variadic?", fn_variadic_p, 0);
  rb_define_method(c_function, "flags", fn_flags, 0);
  rb_define_method(c_function, "handle", fn_handle, 0);

  c_callback = rb_define_class_under(m_ffi, "Callback", rb_cObject);
  rb_define_alloc_func(c_callback, cb_alloc);
  rb_define_private_method(c_callback, "__setup", cb_setup, 3);
  rb_define_private_method(c_callback, "__free", cb_free_m, 0);
  rb_define_method(c_callback, "to_ptr", cb_to_ptr, 0);
  rb_define_method(c_callback, "freed?", cb_freed_p, 0);
  rb_define_method(c_callback, "handle", cb_handle, 0);

  attached = st_init_numtable();
  attached_keep = rb_ary_new();
  rb_gc_register_mark_object(attached_keep);
  rb_define_module_function(m_raw, "attach", raw_attach, 3);

  cb_keep = rb_hash_new();
  rb_gc_register_mark_object(cb_keep);
  pthread_atfork(NULL, NULL, after_fork_child);

  rb_define_module_function(m_raw, "callback_release", raw_callback_release, 2);
  rb_define_module_function(m_raw, "callback_count", raw_callback_count, 0);
  rb_define_module_function(m_raw, "closure_function", raw_closure_function, 1);
  rb_define_module_function(m_raw, "type_named", raw_type_named, 1);
  rb_define_module_function(m_raw, "pointer_new", raw_pointer_new, 1);
  rb_define_module_function(m_raw, "array_new", raw_array_new, 2);
  rb_define_module_function(m_raw, "type_info", raw_type_info, 1);
  rb_define_module_function(m_raw, "type_name", raw_type_name, 1);
  rb_define_module_function(m_raw, "close", raw_close, 1);
  rb_define_module_function(m_raw, "struct_new", raw_struct_new, 3);
  rb_define_module_function(m_raw, "struct_add", raw_struct_add, 4);
  rb_define_module_function(m_raw, "struct_finish", raw_struct_finish, 1);
  rb_define_module_function(m_raw, "field_layout", raw_field_layout, 2);
  rb_define_module_function(m_raw, "field_get", raw_field_get, 4);
  rb_define_module_function(m_raw, "layout_new", raw_layout_new, 2);
  rb_define_module_function(m_raw, "define_accessor", raw_define_accessor, 2);
  id_layout = rb_intern("@__layout");
  id_ffi_type = rb_intern("ffi_type");
  id_aref_slow = rb_intern("__aref");
  id_aset_slow = rb_intern("__aset");
  rb_gc_register_address(&last_class);
  rb_gc_register_address(&last_layout);
  c_struct = rb_define_class_under(m_ffi, "Struct", rb_cObject);
  rb_define_method(c_struct, "[]", struct_aref, 1);
  rb_define_method(c_struct, "[]=", struct_aset, 2);
  rb_define_module_function(m_raw, "field_set", raw_field_set, 5);
  rb_define_module_function(m_raw, "function_new", raw_function_new, 6);
  rb_define_module_function(m_raw, "function_parse", raw_function_parse, 3);
  rb_define_module_function(m_raw, "function_name", raw_function_name, 1);
  rb_define_module_function(m_raw, "find_library", raw_find_library, 1);
  rb_define_module_function(m_raw, "errno_get", raw_errno_get, 0);
  rb_define_module_function(m_raw, "errno_set", raw_errno_set, 1);
  rb_define_module_function(m_raw, "memmove", raw_memmove, 3);
  rb_define_module_function(m_raw, "memset", raw_memset, 3);
  rb_define_module_function(m_raw, "address_of", raw_address_of, 1);
  rb_define_const(m_raw, "FK_INT", INT2FIX(FK_INT));
  rb_define_const(m_raw, "FK_UINT64", INT2FIX(FK_UINT64));
  rb_define_const(m_raw, "FK_BOOL", INT2FIX(FK_BOOL));
  rb_define_const(m_raw, "FK_DOUBLE", INT2FIX(FK_DOUBLE));
  rb_define_const(m_raw, "FK_POINTER", INT2FIX(FK_POINTER));
  rb_define_const(m_raw, "FK_STRING", INT2FIX(FK_STRING));
}
