/* test-ffi-types.c - the ffi type engine: fundamentals against sizeof and
 * _Alignof, names, handles and their lifetime, pointers and arrays,
 * hand-written structs against the compiler's offsetof and bit positions,
 * and bad input.  The random layout test is tests/ffi/ffi-layout.py. */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <wchar.h>

#include "tap.h"

static weft_handle named(const char *name) {
  weft_handle h = 0;
  if (weft_ffi_type_named(name, &h) != 0)
    printf("# no type %s: %s\n", name, weft_last_error_message());
  return h;
}

static size_t size_of(weft_handle t) {
  size_t n = (size_t)-1;
  weft_ffi_type_size(t, &n);
  return n;
}

static size_t align_of(weft_handle t) {
  size_t n = (size_t)-1;
  weft_ffi_type_align(t, &n);
  return n;
}

static int kind_of(weft_handle t) {
  int k = -1;
  weft_ffi_type_kind(t, &k);
  return k;
}

static int code_of(weft_handle t) {
  int c = -1;
  weft_ffi_type_code(t, &c);
  return c;
}

/* ---- fundamentals ---- */

#define FUND(name, type, code, kind)                                           \
  do {                                                                         \
    weft_handle h_ = named(name);                                              \
    ok(h_ > 0 && size_of(h_) == sizeof(type) &&                                \
           align_of(h_) == _Alignof(type) && code_of(h_) == (code) &&          \
           kind_of(h_) == (kind),                                              \
       "%s: size %zu, align %zu, code '%c', kind %d", name, sizeof(type),      \
       _Alignof(type), (code) ? (code) : '0', (kind));                         \
    weft_close(h_);                                                            \
  } while (0)

#define SIGNED_KIND(type) ((type)-1 < (type)0 ? S : U)

static void test_fundamentals(void) {
  enum { S = WEFT_FFI_KIND_SINT, U = WEFT_FFI_KIND_UINT };
  FUND("?", _Bool, '?', U);
  FUND("c", char, 'c', SIGNED_KIND(char));
  FUND("u", wchar_t, 'u', SIGNED_KIND(wchar_t));
  FUND("b", signed char, 'b', S);
  FUND("B", unsigned char, 'B', U);
  FUND("h", short, 'h', S);
  FUND("H", unsigned short, 'H', U);
  FUND("i", int, 'i', S);
  FUND("I", unsigned int, 'I', U);
  FUND("l", long, 'l', S);
  FUND("L", unsigned long, 'L', U);
  FUND("q", long long, 'q', S);
  FUND("Q", unsigned long long, 'Q', U);
  FUND("f", float, 'f', WEFT_FFI_KIND_FLOAT);
  FUND("d", double, 'd', WEFT_FFI_KIND_FLOAT);
  FUND("g", long double, 'g', WEFT_FFI_KIND_FLOAT);
  FUND("z", char *, 'z', WEFT_FFI_KIND_POINTER);
  FUND("Z", wchar_t *, 'Z', WEFT_FFI_KIND_POINTER);
  FUND("P", void *, 'P', WEFT_FFI_KIND_POINTER);
  /* C and ctypes names */
  FUND("bool", _Bool, '?', U);
  FUND("c_bool", _Bool, '?', U);
  FUND("char", char, 'c', SIGNED_KIND(char));
  FUND("c_wchar", wchar_t, 'u', SIGNED_KIND(wchar_t));
  FUND("signed char", signed char, 'b', S);
  FUND("c_ubyte", unsigned char, 'B', U);
  FUND("unsigned short", unsigned short, 'H', U);
  FUND("c_int", int, 'i', S);
  FUND("unsigned", unsigned int, 'I', U);
  FUND("c_ulong", unsigned long, 'L', U);
  FUND("long long", long long, 'q', S);
  FUND("c_ulonglong", unsigned long long, 'Q', U);
  FUND("c_double", double, 'd', WEFT_FFI_KIND_FLOAT);
  FUND("long double", long double, 'g', WEFT_FFI_KIND_FLOAT);
  FUND("char*", char *, 'z', WEFT_FFI_KIND_POINTER);
  FUND("c_void_p", void *, 'P', WEFT_FFI_KIND_POINTER);
  /* fixed widths: the fundamental ctypes picks */
  FUND("int8", int8_t, 'b', S);
  FUND("uint8_t", uint8_t, 'B', U);
  FUND("c_int16", int16_t, 'h', S);
  FUND("uint16", uint16_t, 'H', U);
  FUND("int32_t", int32_t, 'i', S);
  FUND("c_uint32", uint32_t, 'I', U);
  FUND("int64", int64_t, sizeof(long) == 8 ? 'l' : 'q', S);
  FUND("uint64_t", uint64_t, sizeof(long) == 8 ? 'L' : 'Q', U);
  FUND("size_t", size_t, sizeof(long) == sizeof(size_t) ? 'L' : 'I', U);
  FUND("c_ssize_t", ssize_t, sizeof(long) == sizeof(size_t) ? 'l' : 'i', S);
  FUND("intptr_t", intptr_t, sizeof(long) == sizeof(void *) ? 'l' : 'i', S);
  FUND("ptrdiff_t", ptrdiff_t, sizeof(long) == sizeof(void *) ? 'l' : 'i', S);

  weft_handle v = named("void");
  ok(v > 0 && size_of(v) == 0 && align_of(v) == 1 && code_of(v) == 0 &&
         kind_of(v) == WEFT_FFI_KIND_VOID,
     "void: size 0, align 1, code 0, kind VOID");
  weft_close(v);

  weft_handle h = 0;
  is(weft_ffi_type_named("integer", &h), -ENOENT, "an unknown name: -ENOENT");
  ok(strstr(weft_last_error_message(), "\"integer\"") != NULL,
     "the message names it: %s", weft_last_error_message());
  is(weft_ffi_type_named("char *", &h), -ENOENT,
     "\"char *\" is not a spelling (\"char*\" is)");
  is(weft_ffi_type_named("", &h), -ENOENT, "the empty name: -ENOENT");
  is(weft_ffi_type_named(NULL, &h), WEFT_EVALUE, "a NULL name: WEFT_EVALUE");
  is(weft_ffi_type_named("int", NULL), WEFT_EVALUE, "NULL out: WEFT_EVALUE");
}

/* ---- handles ---- */

static void test_handles(void) {
  weft_handle a = named("int"), b = named("c_int");
  int kind = 0;
  ok(a > 0 && b > 0 && a != b, "two lookups give two handles");
  is(weft_handle_kind(a, &kind), 0, "handle_kind of a type");
  is(kind, WEFT_KIND_FFI_TYPE, "its kind is WEFT_KIND_FFI_TYPE");
  is(weft_close(a), 0, "closing a builtin's handle");
  is(weft_close(a), WEFT_EBADHANDLE, "closing it again: WEFT_EBADHANDLE");
  is(size_of(b), sizeof(int), "the other handle of the type still works");
  size_t n;
  is(weft_ffi_type_size(a, &n), WEFT_EBADHANDLE,
     "the closed one gives WEFT_EBADHANDLE");
  weft_handle lock;
  weft_lock_new(&lock);
  is(weft_ffi_type_size(lock, &n), WEFT_EBADHANDLE,
     "a lock handle: WEFT_EBADHANDLE");
  weft_close(lock);
  weft_close(b);

  int64_t value;
  is(weft_constant_get("WEFT_KIND_FFI_TYPE", &value), 0,
     "WEFT_KIND_FFI_TYPE by name");
  is(value, WEFT_KIND_FFI_TYPE, "with its value");
  static const struct {
    const char *name;
    int value;
  } consts[] = {
      {"WEFT_FFI_KIND_VOID", WEFT_FFI_KIND_VOID},
      {"WEFT_FFI_KIND_SINT", WEFT_FFI_KIND_SINT},
      {"WEFT_FFI_KIND_UINT", WEFT_FFI_KIND_UINT},
      {"WEFT_FFI_KIND_FLOAT", WEFT_FFI_KIND_FLOAT},
      {"WEFT_FFI_KIND_POINTER", WEFT_FFI_KIND_POINTER},
      {"WEFT_FFI_KIND_ARRAY", WEFT_FFI_KIND_ARRAY},
      {"WEFT_FFI_KIND_STRUCT", WEFT_FFI_KIND_STRUCT},
      {"WEFT_FFI_KIND_UNION", WEFT_FFI_KIND_UNION},
      {"WEFT_FFI_UNION", WEFT_FFI_UNION},
      {"WEFT_FFI_MS", WEFT_FFI_MS},
      {"WEFT_FFI_BIG_ENDIAN", WEFT_FFI_BIG_ENDIAN},
      {"WEFT_FFI_LITTLE_ENDIAN", WEFT_FFI_LITTLE_ENDIAN},
  };
  int all = 1;
  for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++)
    all &= weft_constant_get(consts[i].name, &value) == 0 &&
           value == consts[i].value;
  ok(all, "every WEFT_FFI_* constant by name");
}

/* ---- pointers and arrays ---- */

static int name_is(weft_handle t, const char *want) {
  char buf[64];
  size_t len = 0;
  if (weft_ffi_type_name(t, buf, sizeof buf, &len) != 0)
    return 0;
  if (strcmp(buf, want) != 0)
    printf("#   name \"%s\", want \"%s\"\n", buf, want);
  return strcmp(buf, want) == 0 && len == strlen(want);
}

static void test_pointers_arrays(void) {
  weft_handle i = named("int"), d = named("double"), p, pp, a, aa, e;
  is(weft_ffi_pointer_new(i, &p), 0, "pointer to int");
  ok(size_of(p) == sizeof(int *) && align_of(p) == _Alignof(int *) &&
         kind_of(p) == WEFT_FFI_KIND_POINTER && code_of(p) == 0,
     "its size, alignment, kind and code 0");
  ok(name_is(p, "int*"), "named int*");
  is(weft_ffi_pointer_new(p, &pp), 0, "pointer to it");
  ok(name_is(pp, "int**"), "named int**");
  is(weft_ffi_type_element(pp, &e), 0, "its element");
  ok(kind_of(e) == WEFT_FFI_KIND_POINTER && name_is(e, "int*"), "is int*");
  weft_close(e);

  is(weft_ffi_array_new(d, 5, &a), 0, "array of 5 double");
  ok(size_of(a) == sizeof(double[5]) && align_of(a) == _Alignof(double[5]) &&
         kind_of(a) == WEFT_FFI_KIND_ARRAY,
     "size %zu, align %zu", sizeof(double[5]), _Alignof(double[5]));
  size_t len = 0;
  is(weft_ffi_type_length(a, &len), 0, "type_length");
  is(len, 5, "is 5");
  ok(name_is(a, "double[5]"), "named double[5]");
  is(weft_ffi_array_new(a, 3, &aa), 0, "array of 3 of them");
  is(size_of(aa), sizeof(double[3][5]), "size of double[3][5]");
  is(weft_ffi_type_element(aa, &e), 0, "its element");
  is(size_of(e), sizeof(double[5]), "is double[5]");
  weft_close(e);
  weft_handle z = named("z"), v = named("P"), c;
  is(weft_ffi_type_element(z, &c), 0, "char*'s element");
  is(code_of(c), 'c', "is char");
  weft_close(c);
  is(weft_ffi_type_element(v, &c), 0, "void*'s element");
  is(kind_of(c), WEFT_FFI_KIND_VOID, "is void");
  weft_handle pv;
  is(weft_ffi_pointer_new(c, &pv), 0, "a pointer to void");
  weft_close(pv);
  weft_close(c);

  weft_handle bad;
  is(weft_ffi_type_element(i, &bad), WEFT_EVALUE, "element of int: EVALUE");
  is(weft_ffi_type_length(p, &len), WEFT_EVALUE, "length of a pointer: EVALUE");
  weft_handle vd = named("void");
  is(weft_ffi_array_new(vd, 2, &bad), WEFT_EVALUE, "array of void: EVALUE");
  is(weft_ffi_array_new(d, SIZE_MAX / 4, &bad), WEFT_EVALUE,
     "an array too large: EVALUE");
  weft_handle a0;
  is(weft_ffi_array_new(i, 0, &a0), 0, "an array of 0 ints");
  is(size_of(a0), 0, "has size 0");
  weft_close(a0);

  /* Close the element first: the pointer keeps it alive. */
  weft_close(i);
  weft_close(p);
  is(weft_ffi_type_element(pp, &e), 0,
     "a pointer's element after the "
     "element's own handles are closed");
  ok(name_is(e, "int*"), "still int*");
  weft_close(e);

  /* Types nest at most 256 deep; freeing a long chain does not recurse. */
  weft_handle cur = named("int"), next;
  int depth = 0;
  while (weft_ffi_pointer_new(cur, &next) == 0) {
    weft_close(cur);
    cur = next;
    depth++;
  }
  is(depth, 256, "pointers nest 256 deep");
  is(weft_last_error_code(), WEFT_EVALUE, "then WEFT_EVALUE");
  weft_close(cur);
  char buf[4];
  size_t n;
  is(weft_ffi_type_name(pp, buf, sizeof buf, &n), WEFT_ERANGE,
     "a short name buffer: WEFT_ERANGE");
  is(n, 5, "with the length");
  weft_close(pp);
  weft_close(a);
  weft_close(aa);
  weft_close(d);
  weft_close(z);
  weft_close(v);
  weft_close(vd);
}

/* ---- hand-written structs ---- */

typedef struct spec {
  const char *name; /* NULL ends */
  const char *type;
  int bits;
  int length; /* 0: not an array */
} spec;

static weft_handle build(int flags, int pack, int align, const spec *f) {
  weft_handle st;
  if (weft_ffi_struct_new(flags, pack, align, &st) != 0)
    return 0;
  for (; f->name != NULL; f++) {
    weft_handle t = named(f->type);
    if (f->length > 0) {
      weft_handle a;
      weft_ffi_array_new(t, (size_t)f->length, &a);
      weft_close(t);
      t = a;
    }
    weft_status rc = weft_ffi_struct_add(st, f->name, t, f->bits);
    weft_close(t);
    if (rc != 0) {
      printf("# add %s: %s\n", f->name, weft_last_error_message());
      weft_close(st);
      return 0;
    }
  }
  if (weft_ffi_struct_finish(st) != 0) {
    weft_close(st);
    return 0;
  }
  return st;
}

/* The bits (byte * 8 + bit, bit 0 least significant) weft says field
 * `name` of st occupies, as a mask over the struct's bytes. */
static int weft_bits(weft_handle st, const char *name, unsigned char *mask,
                     size_t size, int big) {
  size_t index, off, unit;
  int bo, bits;
  memset(mask, 0, size);
  if (weft_ffi_struct_field_index(st, name, &index) != 0 ||
      weft_ffi_struct_field_layout(st, index, &off, &unit, &bo, &bits) != 0)
    return 0;
  if (off + unit > size)
    return 0;
  for (int k = bo; k < bo + bits; k++) {
    size_t byte = big ? unit - 1 - (size_t)k / 8 : (size_t)k / 8;
    mask[off + byte] |= (unsigned char)(1u << (k % 8));
  }
  return 1;
}

static size_t weft_offset(weft_handle st, const char *name) {
  size_t index, off = (size_t)-1, unit;
  int bo, bits;
  if (weft_ffi_struct_field_index(st, name, &index) == 0)
    weft_ffi_struct_field_layout(st, index, &off, &unit, &bo, &bits);
  return off;
}

#define CHECK_SIZE(st, T)                                                      \
  ok(size_of(st) == sizeof(T) && align_of(st) == _Alignof(T),                  \
     #T ": size %zu, align %zu (weft %zu, %zu)", sizeof(T), _Alignof(T),       \
     size_of(st), align_of(st))

#define CHECK_OFFSET(st, T, f)                                                 \
  is(weft_offset(st, #f), offsetof(T, f), #T "." #f ": offset %zu",            \
     offsetof(T, f))

#define CHECK_BITS(st, T, f, big)                                              \
  do {                                                                         \
    T v_;                                                                      \
    unsigned char m_[sizeof(T)];                                               \
    memset(&v_, 0, sizeof v_);                                                 \
    v_.f = -1;                                                                 \
    int w_ = weft_bits(st, #f, m_, sizeof m_, big);                            \
    ok(w_ &&memcmp(&v_, m_, sizeof v_) == 0,                                   \
       #T "." #f ": the bits the compiler sets");                              \
  } while (0)

struct plain {
  char c;
  int i;
  short s;
  double d;
  char tail[3];
};

struct bits {
  char a : 3;
  char b : 6;
  int c : 20;
  long long d : 40;
  _Bool e : 1;
  unsigned : 0;
  short f : 9;
  unsigned : 5;
  unsigned long long g : 64;
};

#pragma pack(push, 1)
struct packed {
  char a;
  int b;
  short c : 5;
  int d : 30;
  long long e : 60;
};
#pragma pack(pop)

struct __attribute__((aligned(16))) aligned16 {
  char a;
  short b;
};

struct __attribute__((ms_struct)) ms {
  char a : 3;
  int b : 4;
  char c;
  long long d : 5;
  int : 0;
  char e : 2;
  char f : 7;
};

#pragma pack(push, 2)
struct __attribute__((ms_struct)) ms_packed {
  char a;
  int b : 3;
  long long c;
  short d : 4;
};
#pragma pack(pop)

union un {
  char a;
  double d;
  int b : 5;
};

struct __attribute__((scalar_storage_order("big-endian"))) be {
  unsigned a : 3;
  unsigned b : 7;
  short c;
  unsigned char d : 4;
  unsigned long long e : 33;
};

struct empty {};

static void test_structs(void) {
  static const spec plain_f[] = {
      {"c", "char", -1, 0},   {"i", "int", -1, 0},     {"s", "short", -1, 0},
      {"d", "double", -1, 0}, {"tail", "char", -1, 3}, {NULL, NULL, 0, 0}};
  weft_handle st = build(0, 0, 0, plain_f);
  CHECK_SIZE(st, struct plain);
  CHECK_OFFSET(st, struct plain, c);
  CHECK_OFFSET(st, struct plain, i);
  CHECK_OFFSET(st, struct plain, s);
  CHECK_OFFSET(st, struct plain, d);
  CHECK_OFFSET(st, struct plain, tail);
  size_t count = 0;
  is(weft_ffi_struct_field_count(st, &count), 0, "field_count");
  is(count, 5, "is 5");
  char buf[16];
  size_t len;
  ok(weft_ffi_struct_field_name(st, 3, buf, sizeof buf, &len) == 0 &&
         strcmp(buf, "d") == 0 && len == 1,
     "field 3 is named d");
  weft_handle ft;
  is(weft_ffi_struct_field_type(st, 4, &ft), 0, "field 4's type");
  ok(name_is(ft, "char[3]"), "is char[3]");
  weft_close(ft);
  size_t off, unit;
  int bo, bits;
  ok(weft_ffi_struct_field_layout(st, 1, &off, &unit, &bo, &bits) == 0 &&
         off == 4 && unit == 4 && bo == 0 && bits == -1,
     "an ordinary field: offset, unit = its size, bit_offset 0, bits -1");
  is(weft_ffi_struct_field_layout(st, 5, &off, &unit, &bo, &bits), -ENOENT,
     "field 5 of 5: -ENOENT");
  is(weft_ffi_struct_field_index(st, "nope", &off), -ENOENT,
     "no field \"nope\": -ENOENT");
  int flags, pack, align;
  ok(weft_ffi_struct_flags(st, &flags, &pack, &align) == 0 &&
         flags == (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
                       ? WEFT_FFI_BIG_ENDIAN
                       : WEFT_FFI_LITTLE_ENDIAN) &&
         pack == 0 && align == 0,
     "struct_flags gives the native byte order");
  is(kind_of(st), WEFT_FFI_KIND_STRUCT, "kind STRUCT");
  ok(name_is(st, "struct"), "named struct");
  weft_close(st);

  static const spec bits_f[] = {{"a", "char", 3, 0},
                                {"b", "char", 6, 0},
                                {"c", "int", 20, 0},
                                {"d", "long long", 40, 0},
                                {"e", "bool", 1, 0},
                                {"", "unsigned", 0, 0},
                                {"f", "short", 9, 0},
                                {"", "unsigned", 5, 0},
                                {"g", "unsigned long long", 64, 0},
                                {NULL, NULL, 0, 0}};
  st = build(0, 0, 0, bits_f);
  CHECK_SIZE(st, struct bits);
  CHECK_BITS(st, struct bits, a, 0);
  CHECK_BITS(st, struct bits, b, 0);
  CHECK_BITS(st, struct bits, c, 0);
  CHECK_BITS(st, struct bits, d, 0);
  CHECK_BITS(st, struct bits, e, 0);
  CHECK_BITS(st, struct bits, f, 0);
  CHECK_BITS(st, struct bits, g, 0);
  ok(weft_ffi_struct_field_layout(st, 5, &off, &unit, &bo, &bits) == 0 &&
         bits == 0 && unit == 0,
     "a zero-width bitfield: bits 0, unit 0");
  ok(weft_ffi_struct_field_name(st, 5, buf, sizeof buf, &len) == 0 && len == 0,
     "unnamed: name \"\"");
  weft_close(st);

  static const spec packed_f[] = {
      {"a", "char", -1, 0}, {"b", "int", -1, 0},       {"c", "short", 5, 0},
      {"d", "int", 30, 0},  {"e", "long long", 60, 0}, {NULL, NULL, 0, 0}};
  st = build(0, 1, 0, packed_f);
  CHECK_SIZE(st, struct packed);
  CHECK_OFFSET(st, struct packed, b);
  CHECK_BITS(st, struct packed, c, 0);
  CHECK_BITS(st, struct packed, d, 0);
  CHECK_BITS(st, struct packed, e, 0);
  weft_close(st);

  static const spec al_f[] = {
      {"a", "char", -1, 0}, {"b", "short", -1, 0}, {NULL, NULL, 0, 0}};
  st = build(0, 0, 16, al_f);
  CHECK_SIZE(st, struct aligned16);
  CHECK_OFFSET(st, struct aligned16, b);
  weft_close(st);

  static const spec ms_f[] = {{"a", "char", 3, 0},  {"b", "int", 4, 0},
                              {"c", "char", -1, 0}, {"d", "long long", 5, 0},
                              {"", "int", 0, 0},    {"e", "char", 2, 0},
                              {"f", "char", 7, 0},  {NULL, NULL, 0, 0}};
  st = build(WEFT_FFI_MS, 0, 0, ms_f);
  CHECK_SIZE(st, struct ms);
  CHECK_BITS(st, struct ms, a, 0);
  CHECK_BITS(st, struct ms, b, 0);
  CHECK_OFFSET(st, struct ms, c);
  CHECK_BITS(st, struct ms, d, 0);
  CHECK_BITS(st, struct ms, e, 0);
  CHECK_BITS(st, struct ms, f, 0);
  weft_close(st);

  static const spec msp_f[] = {{"a", "char", -1, 0},
                               {"b", "int", 3, 0},
                               {"c", "long long", -1, 0},
                               {"d", "short", 4, 0},
                               {NULL, NULL, 0, 0}};
  st = build(WEFT_FFI_MS, 2, 0, msp_f);
  CHECK_SIZE(st, struct ms_packed);
  CHECK_BITS(st, struct ms_packed, b, 0);
  CHECK_OFFSET(st, struct ms_packed, c);
  CHECK_BITS(st, struct ms_packed, d, 0);
  weft_close(st);

  static const spec un_f[] = {{"a", "char", -1, 0},
                              {"d", "double", -1, 0},
                              {"b", "int", 5, 0},
                              {NULL, NULL, 0, 0}};
  st = build(WEFT_FFI_UNION, 0, 0, un_f);
  CHECK_SIZE(st, union un);
  CHECK_OFFSET(st, union un, d);
  CHECK_BITS(st, union un, b, 0);
  is(kind_of(st), WEFT_FFI_KIND_UNION, "kind UNION");
  weft_close(st);

  static const spec be_f[] = {{"a", "unsigned", 3, 0},
                              {"b", "unsigned", 7, 0},
                              {"c", "short", -1, 0},
                              {"d", "unsigned char", 4, 0},
                              {"e", "unsigned long long", 33, 0},
                              {NULL, NULL, 0, 0}};
  st = build(WEFT_FFI_BIG_ENDIAN, 0, 0, be_f);
  CHECK_SIZE(st, struct be);
  CHECK_BITS(st, struct be, a, 1);
  CHECK_BITS(st, struct be, b, 1);
  CHECK_OFFSET(st, struct be, c);
  CHECK_BITS(st, struct be, d, 1);
  CHECK_BITS(st, struct be, e, 1);
  ok(weft_ffi_struct_field_layout(st, 0, &off, &unit, &bo, &bits) == 0 &&
         off == 0 && unit == 4 && bo == 29 && bits == 3,
     "big-endian a:3 is bits 29..31 of its unit, as ctypes 3.14 says");
  weft_close(st);

  static const spec empty_f[] = {{NULL, NULL, 0, 0}};
  st = build(0, 0, 0, empty_f);
  CHECK_SIZE(st, struct empty);
  weft_close(st);

  /* Nesting: a struct holding arrays of a struct and a union. */
  struct inner {
    char a;
    double b;
  };
  struct outer {
    char z;
    struct inner in[2];
    union un u;
    short s : 3;
  };
  static const spec inner_f[] = {
      {"a", "char", -1, 0}, {"b", "double", -1, 0}, {NULL, NULL, 0, 0}};
  weft_handle in = build(0, 0, 0, inner_f),
              un = build(WEFT_FFI_UNION, 0, 0, un_f);
  weft_handle ina, out, sh = named("short"), c = named("char");
  weft_ffi_array_new(in, 2, &ina);
  weft_ffi_struct_new(0, 0, 0, &out);
  weft_ffi_struct_add(out, "z", c, -1);
  weft_ffi_struct_add(out, "in", ina, -1);
  weft_ffi_struct_add(out, "u", un, -1);
  weft_ffi_struct_add(out, "s", sh, 3);
  /* The struct keeps its field types alive. */
  weft_close(in);
  weft_close(ina);
  weft_close(un);
  weft_close(sh);
  weft_close(c);
  is(weft_ffi_struct_finish(out), 0,
     "finish a struct whose field types' "
     "handles are all closed");
  CHECK_SIZE(out, struct outer);
  CHECK_OFFSET(out, struct outer, in);
  CHECK_OFFSET(out, struct outer, u);
  CHECK_BITS(out, struct outer, s, 0);
  weft_handle ua;
  is(weft_ffi_struct_field_type(out, 2, &ua), 0, "the union field's type");
  weft_close(out);
  is(size_of(ua), sizeof(union un), "outlives the struct's handle");
  weft_close(ua);
}

/* ---- building: states and bad input ---- */

static void test_bad_input(void) {
  weft_handle st, st2, i = named("int"), d = named("double"), b = named("bool"),
                       v = named("void"), x;
  is(weft_ffi_struct_new(0, 0, 0, &st), 0, "a new struct");
  size_t n;
  is(weft_ffi_type_size(st, &n), WEFT_ESTATE,
     "the size of an unfinished struct: WEFT_ESTATE");
  is(weft_ffi_struct_field_count(st, &n), WEFT_ESTATE,
     "its field count: WEFT_ESTATE");
  is(weft_ffi_struct_add(st, "a", i, 33), WEFT_EVALUE, "int a:33: WEFT_EVALUE");
  ok(strstr(weft_last_error_message(), "wider") != NULL, "message: %s",
     weft_last_error_message());
  is(weft_ffi_struct_add(st, "a", b, 2), WEFT_EVALUE,
     "bool a:2: WEFT_EVALUE (gcc: width exceeds its type)");
  is(weft_ffi_struct_add(st, "a", d, 3), WEFT_EVALUE,
     "double a:3: WEFT_EVALUE");
  is(weft_ffi_struct_add(st, "a", i, 0), WEFT_EVALUE,
     "a named zero-width bitfield: WEFT_EVALUE");
  is(weft_ffi_struct_add(st, "a", i, -2), WEFT_EVALUE, "bits -2: WEFT_EVALUE");
  is(weft_ffi_struct_add(st, "a", v, -1), WEFT_EVALUE,
     "a void field: WEFT_EVALUE");
  is(weft_ffi_struct_add(st, "", i, -1), WEFT_EVALUE,
     "an unnamed int: WEFT_EVALUE");
  is(weft_ffi_struct_add(st, NULL, i, -1), WEFT_EVALUE,
     "a NULL name: WEFT_EVALUE");
  is(weft_ffi_struct_add(st, "a", i, -1), 0, "int a");
  is(weft_ffi_struct_add(st, "a", d, -1), WEFT_EVALUE,
     "a second a: WEFT_EVALUE");
  is(weft_ffi_struct_add(st, "", i, 0), 0, "int :0");
  is(weft_ffi_struct_add(st, "", i, 3), 0, "int :3");
  is(weft_ffi_struct_add(st, "self", st, -1), WEFT_ESTATE,
     "the struct as its own field: WEFT_ESTATE");
  is(weft_ffi_struct_new(0, 0, 0, &st2), 0, "another struct");
  is(weft_ffi_struct_add(st2, "s", st, -1), WEFT_ESTATE,
     "an unfinished struct as a field: WEFT_ESTATE");
  is(weft_ffi_array_new(st, 2, &x), WEFT_ESTATE,
     "an array of an unfinished struct: WEFT_ESTATE");
  weft_handle p;
  is(weft_ffi_pointer_new(st, &p), 0,
     "a pointer to an unfinished struct is fine");
  is(weft_ffi_struct_add(st2, "p", p, -1), 0, "and can be a field");
  weft_close(p);
  weft_handle closed = named("short");
  weft_close(closed);
  is(weft_ffi_struct_add(st2, "c", closed, -1), WEFT_EBADHANDLE,
     "a closed type as a field: WEFT_EBADHANDLE");
  is(weft_ffi_struct_add(i, "c", d, -1), WEFT_EVALUE,
     "adding a field to int: WEFT_EVALUE");
  is(weft_ffi_struct_finish(i), WEFT_EVALUE, "finishing int: WEFT_EVALUE");
  is(weft_ffi_struct_finish(st), 0, "finish");
  is(weft_ffi_struct_finish(st), WEFT_ESTATE, "finish again: WEFT_ESTATE");
  is(weft_ffi_struct_add(st, "b", i, -1), WEFT_ESTATE,
     "add after finish: WEFT_ESTATE");
  is(weft_ffi_struct_finish(st2), 0, "the struct with the pointer finishes");
  weft_handle pt, target;
  weft_ffi_struct_field_type(st2, 0, &pt);
  is(weft_ffi_type_element(pt, &target), 0, "the pointer's target");
  is(size_of(target), sizeof(int) * 2, "is the finished struct, size 8");
  weft_close(target);
  weft_close(pt);
  int fl, pk, al;
  is(weft_ffi_struct_flags(i, &fl, &pk, &al), WEFT_EVALUE,
     "struct_flags of int: WEFT_EVALUE");

  is(weft_ffi_struct_new(0, 3, 0, &x), WEFT_EVALUE, "pack 3: WEFT_EVALUE");
  is(weft_ffi_struct_new(0, 32, 0, &x), WEFT_EVALUE, "pack 32: WEFT_EVALUE");
  is(weft_ffi_struct_new(0, -1, 0, &x), WEFT_EVALUE, "pack -1: WEFT_EVALUE");
  is(weft_ffi_struct_new(0, 0, 12, &x), WEFT_EVALUE, "align 12: WEFT_EVALUE");
  is(weft_ffi_struct_new(0, 0, 1 << 29, &x), WEFT_EVALUE,
     "align 2^29: WEFT_EVALUE");
  is(weft_ffi_struct_new(64, 0, 0, &x), WEFT_EVALUE,
     "unknown flags: WEFT_EVALUE");
  is(weft_ffi_struct_new(WEFT_FFI_BIG_ENDIAN | WEFT_FFI_LITTLE_ENDIAN, 0, 0,
                         &x),
     WEFT_EVALUE, "both byte orders: WEFT_EVALUE");
  is(weft_ffi_struct_new(0, 16, 1 << 28, &x), 0, "pack 16, align 2^28");
  weft_close(x);
  weft_close(st);
  weft_close(st2);
  weft_close(i);
  weft_close(d);
  weft_close(b);
  weft_close(v);
}

/* ---- threads ---- */

static weft_handle shared_struct, shared_int;

static void *adder(void *arg) {
  int base = (int)(intptr_t)arg;
  for (int k = 0; k < 100; k++) {
    char name[16];
    snprintf(name, sizeof name, "t%d_%d", base, k);
    if (weft_ffi_struct_add(shared_struct, name, shared_int, -1) != 0)
      return (void *)1;
  }
  return NULL;
}

static void test_threads(void) {
  weft_ffi_struct_new(0, 0, 0, &shared_struct);
  shared_int = named("int");
  pthread_t t[4];
  for (int k = 0; k < 4; k++)
    pthread_create(&t[k], NULL, adder, (void *)(intptr_t)k);
  int failed = 0;
  for (int k = 0; k < 4; k++) {
    void *r;
    pthread_join(t[k], &r);
    failed |= r != NULL;
  }
  ok(!failed, "four threads add 100 fields each to one struct");
  size_t n = 0;
  weft_ffi_struct_finish(shared_struct);
  weft_ffi_struct_field_count(shared_struct, &n);
  is(n, 400, "it has 400 fields");
  is(size_of(shared_struct), 1600, "of 1600 bytes");
  weft_close(shared_struct);
  weft_close(shared_int);
}

int main(void) {
  test_fundamentals();
  test_handles();
  test_pointers_arrays();
  test_structs();
  test_bad_input();
  test_threads();
  return done_testing();
}
