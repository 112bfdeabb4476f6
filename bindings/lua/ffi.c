/* ffi.c - the C half of weft.ffi: a foreign function interface for Lua
 * 5.4 over weft's ctypes engine (the "ffi:" sections of abi/weft.h), in
 * the spirit of LuaJIT's ffi.  weft/ffi.lua is the module; it gets this
 * table from core.ffi_open().
 *
 * Objects (full userdata, one metatable each):
 *
 *   ctype     a C type: a weft type handle with its size, alignment and,
 *             for a struct, its fields' layout (read once from the engine).
 *             Uservalue 1: the element ctype (pointers, arrays); 2: a
 *             struct's field table (name -> index, [index + 1] -> ctype);
 *             3: its ffi.metatype table.
 *   cdata     C data: either memory (a struct, an array, a boxed scalar:
 *             p is its address) or a pointer value (p is the pointer).
 *             Memory is the userdata's own (ffi.new: freed with it) or a
 *             view into another cdata's (uservalue 2 holds that root, so
 *             it outlives the view).  Uservalue 1: the ctype; 3: strings
 *             stored into char* fields, kept alive as ctypes does, and
 *             an ffi.gc guard.
 *   library   a library handle (ffi.load, ffi.C).
 *   function  a prepared call (a function handle) with the conversions of
 *             its arguments and result.  Lua gets a C closure over it (a
 *             plain function call).  Uservalue 1: [0] the result's ctype,
 *             [i] argument i's, and the call shapes of a variadic
 *             function; 2: its library.
 *   callback  a closure (weft_ffi_closure_new) calling a Lua function.
 *
 * Callbacks run in the state that made them (ABI.md 6, docs/bindings.md):
 * called on the thread running that state inside one of its ffi calls
 * (qsort's comparisons), at once on that coroutine; called anywhere else,
 * through weftlua_owner_run: queued to the state's dispatcher and waited
 * for (the state runs it in its next blocking weft call or dispatch), or
 * run in a state blocked in barrier_wait, or not run (zeros returned,
 * a message on stderr) when the state is closing.  A function made with
 * blocking = true brackets its call with weftlua_block_begin/_end, so
 * callbacks from other threads borrow the state while it waits (every
 * callback then goes through weftlua_owner_run, the state's own thread's
 * too, so they run one at a time).  C knows a callback by a slot id, so a
 * call after it was freed finds nothing and returns zeros.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "weftlua.h"

#define CTYPE_MT "weft.ffi.ctype"
#define CDATA_MT "weft.ffi.cdata"
#define LIB_MT "weft.ffi.library"
#define FUNC_MT "weft.ffi.function"
#define CB_MT "weft.ffi.callback"

/* Registry keys: the cache of ctypes by type string, and the names given
 * by ffi.typedef. */
static char cache_key;
static char names_key;

/* Each metatable is also at registry[&key]: a light userdata key costs no
 * string lookup, which luaL_testudata's name does (Lua interns it with a
 * strcmp each time), on the paths every field access and call takes. */
static char ctype_mt, cdata_mt, lib_mt, func_mt, cb_mt, guard_mt;

static void *test_ud(lua_State *L, int idx, const void *key) {
  void *p = lua_touserdata(L, idx);
  if (p == NULL || lua_type(L, idx) != LUA_TUSERDATA ||
      !lua_getmetatable(L, idx))
    return NULL;
  lua_rawgetp(L, LUA_REGISTRYINDEX, key);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? p : NULL;
}

static void *check_ud(lua_State *L, int idx, const void *key,
                      const char *name) {
  void *p = test_ud(L, idx, key);
  if (p == NULL)
    luaL_typeerror(L, idx, name);
  return p;
}

static void set_mt(lua_State *L, const void *key) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, key);
  lua_setmetatable(L, -2);
}

#define MAX_INLINE_ARGS 16
#define MAX_ALIGN_INLINE 4096

/* ======================================================================
 * Conversions: what a C value of some type is in Lua
 * ====================================================================== */

enum sort {
  S_VOID,
  S_BOOL,
  S_I8,
  S_I16,
  S_I32,
  S_I64,
  S_U8,
  S_U16,
  S_U32,
  S_U64,
  S_F32,
  S_F64,
  S_F80, /* long double */
  S_STR, /* char *: a Lua string */
  S_PTR, /* any other pointer: cdata */
  S_AGG, /* struct or union by value */
  S_ARRAY
};

typedef struct field field;

typedef struct ctype {
  weft_handle h;
  int kind, code;
  size_t size, align, length;
  int order_swapped; /* a struct stored in the other byte order */
  size_t nfields;
  field *fields;
  int sort;
} ctype;

/* What a struct field is for __index/__newindex. */
enum fsort { F_INT, F_BOOL, F_DOUBLE, F_STR, F_PTR, F_AGG };

struct field {
  size_t offset, unit;
  int bit_offset, bits;
  int fsort;
  int anon; /* unnamed: a bitfield, or an anonymous struct or union */
  /* The name's bytes in the Lua string the field table keeps (NULL if
   * unnamed): a short string is interned, so a key equal to it is that
   * same string, and a pointer compare finds the field. */
  const char *name;
  int sort; /* the field type's */
  /* An ordinary scalar field in the platform's byte order: read and
   * written in place; bitfields and swapped fields go through
   * weft_ffi_struct_get_int and friends. */
  int direct;
};

typedef struct cdata {
  void *p;
  ctype *t;
  unsigned char is_value; /* p is a pointer value, not memory */
  unsigned char swap;     /* scalars in memory are byte-swapped */
} cdata;

typedef struct conv {
  int sort;
  size_t size;
  ctype *t;
} conv;

static int sort_of(const ctype *t) {
  switch (t->kind) {
  case WEFT_FFI_KIND_VOID:
    return S_VOID;
  case WEFT_FFI_KIND_SINT:
  case WEFT_FFI_KIND_UINT: {
    int u = t->kind == WEFT_FFI_KIND_UINT;
    if (t->code == '?')
      return S_BOOL;
    switch (t->size) {
    case 1:
      return u ? S_U8 : S_I8;
    case 2:
      return u ? S_U16 : S_I16;
    case 4:
      return u ? S_U32 : S_I32;
    default:
      return u ? S_U64 : S_I64;
    }
  }
  case WEFT_FFI_KIND_FLOAT:
    return t->code == 'g' ? S_F80 : t->size == 4 ? S_F32 : S_F64;
  case WEFT_FFI_KIND_POINTER:
    return t->code == 'z' ? S_STR : S_PTR;
  case WEFT_FFI_KIND_ARRAY:
    return S_ARRAY;
  default:
    return S_AGG;
  }
}

/* ======================================================================
 * ctypes
 * ====================================================================== */

static ctype *to_ctype(lua_State *L, int idx) {
  return test_ud(L, idx, &ctype_mt);
}

static int ctype_gc(lua_State *L) {
  ctype *t = lua_touserdata(L, 1);
  if (t->h != 0)
    weft_close(t->h);
  t->h = 0;
  free(t->fields);
  t->fields = NULL;
  t->nfields = 0;
  return 0;
}

/* A readable name of type t (pushed). */
static const char *push_type_name(lua_State *L, const ctype *t) {
  char small[128];
  size_t len = 0;
  weft_status st = weft_ffi_type_name(t->h, small, sizeof small, &len);
  if (st == 0)
    return lua_pushlstring(L, small, len);
  if (st == WEFT_ERANGE) {
    char *buf = malloc(len + 1);
    if (buf != NULL && weft_ffi_type_name(t->h, buf, len + 1, &len) == 0) {
      lua_pushlstring(L, buf, len);
      free(buf);
      return lua_tostring(L, -1);
    }
    free(buf);
  }
  return lua_pushliteral(L, "?");
}

static int ctype_tostring(lua_State *L) {
  ctype *t = check_ud(L, 1, &ctype_mt, CTYPE_MT);
  push_type_name(L, t);
  lua_pushfstring(L, "ctype<%s>", lua_tostring(L, -1));
  return 1;
}

static weft_status field_name(weft_handle st, size_t i, luaL_Buffer *b) {
  char small[64];
  size_t len = 0;
  weft_status s = weft_ffi_struct_field_name(st, i, small, sizeof small, &len);
  if (s == WEFT_ERANGE) {
    char *p = luaL_prepbuffsize(b, len + 1);
    s = weft_ffi_struct_field_name(st, i, p, len + 1, &len);
    if (s == 0)
      luaL_addsize(b, len);
    return s;
  }
  if (s == 0)
    luaL_addlstring(b, small, len);
  return s;
}

static void push_ctype_of(lua_State *L, weft_handle h);

/* Fill a new ctype userdata (at the top) from the type handle it owns. */
static void ctype_fill(lua_State *L, ctype *t) {
  weft_status st;
  if ((st = weft_ffi_type_kind(t->h, &t->kind)) < 0 ||
      (st = weft_ffi_type_code(t->h, &t->code)) < 0)
    weftlua_raise(L, st);
  if (weft_ffi_type_size(t->h, &t->size) < 0)
    t->size = 0;
  if (weft_ffi_type_align(t->h, &t->align) < 0)
    t->align = 1;
  t->sort = sort_of(t);
  int ud = lua_gettop(L);
  if (t->kind == WEFT_FFI_KIND_POINTER || t->kind == WEFT_FFI_KIND_ARRAY) {
    if (t->kind == WEFT_FFI_KIND_ARRAY)
      weft_ffi_type_length(t->h, &t->length);
    weft_handle e;
    if ((st = weft_ffi_type_element(t->h, &e)) < 0)
      weftlua_raise(L, st);
    push_ctype_of(L, e);
    lua_setiuservalue(L, ud, 1);
  } else if (t->kind == WEFT_FFI_KIND_STRUCT ||
             t->kind == WEFT_FFI_KIND_UNION) {
    int flags, pack, align;
    if (weft_ffi_struct_flags(t->h, &flags, &pack, &align) == 0) {
      int native_big = 0;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
      native_big = 1;
#endif
      t->order_swapped = ((flags & WEFT_FFI_BIG_ENDIAN) != 0) != native_big;
    }
    size_t n;
    if ((st = weft_ffi_struct_field_count(t->h, &n)) < 0)
      weftlua_raise(L, st);
    t->fields = calloc(n ? n : 1, sizeof *t->fields);
    if (t->fields == NULL)
      weftlua_raisef(L, -ENOMEM, "ffi: not enough memory");
    t->nfields = n;
    lua_createtable(L, (int)n, (int)n);
    int tab = lua_gettop(L);
    for (size_t i = 0; i < n; i++) {
      field *f = &t->fields[i];
      if ((st = weft_ffi_struct_field_layout(t->h, i, &f->offset, &f->unit,
                                             &f->bit_offset, &f->bits)) < 0)
        weftlua_raise(L, st);
      weft_handle fh;
      if ((st = weft_ffi_struct_field_type(t->h, i, &fh)) < 0)
        weftlua_raise(L, st);
      push_ctype_of(L, fh);
      ctype *ft = lua_touserdata(L, -1);
      f->sort = ft->sort;
      f->direct = f->bits < 0 && !t->order_swapped && ft->sort != S_AGG &&
                  ft->sort != S_ARRAY;
      lua_rawseti(L, tab, (lua_Integer)i + 1);
      switch (ft->sort) {
      case S_BOOL:
        f->fsort = F_BOOL;
        break;
      case S_F32:
      case S_F64:
      case S_F80:
        f->fsort = F_DOUBLE;
        break;
      case S_STR:
        f->fsort = F_STR;
        break;
      case S_PTR:
        f->fsort = F_PTR;
        break;
      case S_AGG:
      case S_ARRAY:
        f->fsort = F_AGG;
        break;
      default:
        f->fsort = F_INT;
      }
      luaL_Buffer b;
      luaL_buffinit(L, &b);
      if ((st = field_name(t->h, i, &b)) < 0)
        weftlua_raise(L, st);
      luaL_pushresult(&b);
      if (lua_rawlen(L, -1) > 0) {
        /* the table keeps the name, so the pointer stays valid */
        f->name = lua_tostring(L, -1);
        lua_pushinteger(L, (lua_Integer)i);
        lua_rawset(L, tab);
      } else {
        f->anon = 1;
        lua_pop(L, 1);
      }
    }
    lua_setiuservalue(L, ud, 2);
  }
}

/* Push a new ctype that owns handle h (closed if this raises). */
static ctype *push_new_ctype(lua_State *L) {
  ctype *t = lua_newuserdatauv(L, sizeof *t, 3); /* 3: ffi.metatype's */
  memset(t, 0, sizeof *t);
  set_mt(L, &ctype_mt);
  return t;
}

static void push_ctype_of(lua_State *L, weft_handle h) {
  luaL_checkstack(L, 8, "ffi: types nested too deeply");
  ctype *t = push_new_ctype(L);
  t->h = h;
  ctype_fill(L, t);
}

/* ---- type strings -------------------------------------------------------
 * "int", "unsigned long long", "const char *", "int*", "double[4]",
 * "struct-ctype" (a ctype object), "char[?]" (ffi.new with a count). */

static int is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '_';
}

/* C's spellings of the integer types, as weft_ffi_type_named names them;
 * words not among signed/unsigned/short/long/int/char are kept. */
static void canonical_base(const char *s, size_t n, luaL_Buffer *out) {
  int sign = 0, uns = 0, shrt = 0, lng = 0, in = 0, chr = 0, other = 0;
  char words[256];
  size_t wn = 0;
  for (size_t i = 0; i < n;) {
    if (!is_word_char(s[i])) {
      i++;
      continue;
    }
    size_t j = i;
    while (j < n && is_word_char(s[j]))
      j++;
    size_t len = j - i;
#define IS(w) (len == sizeof w - 1 && memcmp(s + i, w, len) == 0)
    if (IS("const") || IS("volatile") || IS("struct") || IS("union") ||
        IS("restrict"))
      ;
    else if (IS("signed"))
      sign++;
    else if (IS("unsigned"))
      uns++;
    else if (IS("short"))
      shrt++;
    else if (IS("long"))
      lng++;
    else if (IS("int"))
      in++;
    else if (IS("char"))
      chr++;
    else {
      other++;
      if (wn + len + 1 < sizeof words) {
        if (wn > 0)
          words[wn++] = ' ';
        memcpy(words + wn, s + i, len);
        wn += len;
      }
    }
#undef IS
    i = j;
  }
  if (other > 0) {
    /* long double, or a name of the engine's (size_t, uint8_t, c_int) */
    if (lng == 1 && other == 1 && wn == 6 && memcmp(words, "double", 6) == 0)
      luaL_addstring(out, "long double");
    else if (sign + uns + shrt + lng + in + chr == 0)
      luaL_addlstring(out, words, wn);
    else
      luaL_addlstring(out, s, n); /* let the engine refuse it */
    return;
  }
  if (uns)
    luaL_addstring(out, "unsigned ");
  else if (sign && chr)
    luaL_addstring(out, "signed ");
  if (chr)
    luaL_addstring(out, "char");
  else if (shrt)
    luaL_addstring(out, "short");
  else if (lng >= 2)
    luaL_addstring(out, "long long");
  else if (lng == 1)
    luaL_addstring(out, "long");
  else
    luaL_addstring(out, "int");
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static ctype *push_pointer_to(lua_State *L, int elem_idx);
static ctype *push_array_of(lua_State *L, int elem_idx, size_t n);

/* Push the ctype the string s names; raises for an unknown one.  A
 * trailing "[?]" takes its length from *vla (-1: not allowed). */
static ctype *push_parsed_type(lua_State *L, const char *s, size_t n,
                               lua_Integer vla) {
  /* array dimensions, right to left of the text */
  size_t dims[16];
  int ndims = 0;
  size_t end = n;
  while (end > 0 && is_space(s[end - 1]))
    end--;
  while (end > 0 && s[end - 1] == ']') {
    size_t open = end - 1;
    while (open > 0 && s[open] != '[')
      open--;
    if (s[open] != '[' || ndims == 16)
      weftlua_raisef(L, WEFT_EVALUE, "ffi: bad type '%s'", s);
    const char *d = s + open + 1;
    size_t dl = end - 1 - (open + 1);
    while (dl > 0 && is_space(*d))
      d++, dl--;
    while (dl > 0 && is_space(d[dl - 1]))
      dl--;
    if (dl == 1 && *d == '?') {
      if (vla < 0)
        weftlua_raisef(L, WEFT_EVALUE,
                       "ffi: '%s': [?] needs a length (ffi.new(type, n))", s);
      dims[ndims++] = (size_t)vla;
    } else {
      size_t v = 0;
      if (dl == 0)
        weftlua_raisef(L, WEFT_EVALUE, "ffi: '%s': an array needs a length", s);
      for (size_t k = 0; k < dl; k++) {
        if (d[k] < '0' || d[k] > '9' || v > (SIZE_MAX - 9) / 10)
          weftlua_raisef(L, WEFT_EVALUE, "ffi: bad array length in '%s'", s);
        v = v * 10 + (size_t)(d[k] - '0');
      }
      dims[ndims++] = v;
    }
    end = open;
    while (end > 0 && is_space(s[end - 1]))
      end--;
  }
  int stars = 0;
  while (end > 0 && (s[end - 1] == '*' || is_space(s[end - 1]) ||
                     (end >= 5 && memcmp(s + end - 5, "const", 5) == 0 &&
                      (end == 5 || !is_word_char(s[end - 6]))))) {
    if (s[end - 1] == '*')
      stars++, end--;
    else if (is_space(s[end - 1]))
      end--;
    else if (stars > 0)
      end -= 5; /* char * const */
    else
      break;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  canonical_base(s, end, &b);
  luaL_pushresult(&b);
  const char *base = lua_tostring(L, -1);
  int slot = lua_gettop(L);
  weft_handle h;
  weft_status st;
  int consumed = 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &names_key);
  if (lua_getfield(L, -1, base) == LUA_TUSERDATA) {
    /* a name of ffi.typedef's */
    lua_replace(L, slot);
    lua_pop(L, 1);
    goto derived;
  }
  lua_pop(L, 2);
  if (stars >= 1 &&
      (strcmp(base, "char") == 0 || strcmp(base, "wchar_t") == 0 ||
       strcmp(base, "void") == 0)) {
    lua_pushfstring(L, "%s*", base);
    st = weft_ffi_type_named(lua_tostring(L, -1), &h);
    lua_pop(L, 1);
    consumed = 1;
  } else {
    st = weft_ffi_type_named(base, &h);
  }
  if (st < 0) {
    if (st == -ENOENT)
      weftlua_raisef(L, WEFT_EVALUE, "ffi: unknown type '%s'", base);
    weftlua_raise(L, st);
  }
  push_ctype_of(L, h);
  lua_replace(L, slot);
derived:
  for (int i = consumed; i < stars; i++) {
    push_pointer_to(L, slot);
    lua_replace(L, slot);
  }
  for (int i = ndims - 1; i >= 0; i--) {
    push_array_of(L, slot, dims[i]);
    lua_replace(L, slot);
  }
  return lua_touserdata(L, slot);
}

static ctype *push_pointer_to(lua_State *L, int elem_idx) {
  elem_idx = lua_absindex(L, elem_idx);
  ctype *e = lua_touserdata(L, elem_idx);
  weft_handle h;
  weft_status st = weft_ffi_pointer_new(e->h, &h);
  if (st < 0)
    weftlua_raise(L, st);
  ctype *t = push_new_ctype(L);
  t->h = h;
  t->kind = WEFT_FFI_KIND_POINTER;
  weft_ffi_type_code(h, &t->code);
  weft_ffi_type_size(h, &t->size);
  weft_ffi_type_align(h, &t->align);
  t->sort = sort_of(t);
  lua_pushvalue(L, elem_idx);
  lua_setiuservalue(L, -2, 1);
  return t;
}

static ctype *push_array_of(lua_State *L, int elem_idx, size_t n) {
  elem_idx = lua_absindex(L, elem_idx);
  ctype *e = lua_touserdata(L, elem_idx);
  if (e->kind == WEFT_FFI_KIND_VOID)
    weftlua_raisef(L, WEFT_EVALUE, "ffi: an array of void");
  weft_handle h;
  weft_status st = weft_ffi_array_new(e->h, n, &h);
  if (st < 0)
    weftlua_raise(L, st);
  ctype *t = push_new_ctype(L);
  t->h = h;
  t->kind = WEFT_FFI_KIND_ARRAY;
  t->length = n;
  weft_ffi_type_size(h, &t->size);
  weft_ffi_type_align(h, &t->align);
  t->sort = S_ARRAY;
  lua_pushvalue(L, elem_idx);
  lua_setiuservalue(L, -2, 1);
  return t;
}

/* Push the ctype given at idx: a ctype, a cdata (its type) or a type
 * string (cached per state). */
static ctype *push_type(lua_State *L, int idx, lua_Integer vla) {
  idx = lua_absindex(L, idx);
  ctype *t = to_ctype(L, idx);
  if (t != NULL) {
    lua_pushvalue(L, idx);
    return t;
  }
  cdata *c = test_ud(L, idx, &cdata_mt);
  if (c != NULL) {
    lua_getiuservalue(L, idx, 1);
    return c->t;
  }
  if (lua_type(L, idx) != LUA_TSTRING)
    weftlua_raisef(L, WEFT_EVALUE,
                   "ffi: a type expected (a string or a "
                   "ctype), got %s",
                   luaL_typename(L, idx));
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  int cacheable = strchr(s, '?') == NULL;
  if (cacheable) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &cache_key);
    lua_pushvalue(L, idx);
    if (lua_rawget(L, -2) != LUA_TNIL) {
      lua_remove(L, -2);
      return lua_touserdata(L, -1);
    }
    lua_pop(L, 2);
  }
  t = push_parsed_type(L, s, n, vla);
  if (cacheable) {
    lua_rawgetp(L, LUA_REGISTRYINDEX, &cache_key);
    lua_pushvalue(L, idx);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  return t;
}

/* ======================================================================
 * Scalars in memory
 * ====================================================================== */

static void bswap(void *p, size_t n) {
  unsigned char *b = p;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned char x = b[i];
    b[i] = b[n - 1 - i];
    b[n - 1 - i] = x;
  }
}

/* Read the scalar of sort `sort` at p as an int64 / double.  Each size
 * is its own fixed-size copy: one load, no store-to-load stall. */
#define LOAD(T, BSWAP)                                                         \
  do {                                                                         \
    T v_;                                                                      \
    memcpy(&v_, p, sizeof v_);                                                 \
    if (swap)                                                                  \
      v_ = (T)BSWAP(v_);                                                       \
    return v_;                                                                 \
  } while (0)
#define NOSWAP(x) (x)

static inline int64_t load_int(int sort, const void *p, int swap) {
  switch (sort) {
  case S_I8:
    LOAD(int8_t, NOSWAP);
  case S_U8:
  case S_BOOL:
    LOAD(uint8_t, NOSWAP);
  case S_I16:
    LOAD(int16_t, __builtin_bswap16);
  case S_U16:
    LOAD(uint16_t, __builtin_bswap16);
  case S_I32:
    LOAD(int32_t, __builtin_bswap32);
  case S_U32:
    LOAD(uint32_t, __builtin_bswap32);
  default:
    LOAD(int64_t, __builtin_bswap64);
  }
}

#define STORE(T, BSWAP)                                                        \
  do {                                                                         \
    T v_ = (T)v;                                                               \
    if (swap)                                                                  \
      v_ = (T)BSWAP(v_);                                                       \
    memcpy(p, &v_, sizeof v_);                                                 \
    return;                                                                    \
  } while (0)

static inline void store_int(int sort, void *p, int64_t v, int swap) {
  switch (sort) {
  case S_BOOL:
    v = v != 0;
    STORE(uint8_t, NOSWAP);
  case S_I8:
  case S_U8:
    STORE(uint8_t, NOSWAP);
  case S_I16:
  case S_U16:
    STORE(uint16_t, __builtin_bswap16);
  case S_I32:
  case S_U32:
    STORE(uint32_t, __builtin_bswap32);
  default:
    STORE(uint64_t, __builtin_bswap64);
  }
}

static double load_double(int sort, const void *p, int swap) {
  if (sort == S_F32) {
    float f;
    unsigned char b[4];
    memcpy(b, p, 4);
    if (swap)
      bswap(b, 4);
    memcpy(&f, b, 4);
    return f;
  }
  if (sort == S_F80) {
    long double ld;
    memcpy(&ld, p, sizeof ld);
    return (double)ld;
  }
  double d;
  unsigned char b[8];
  memcpy(b, p, 8);
  if (swap)
    bswap(b, 8);
  memcpy(&d, b, 8);
  return d;
}

static void store_double(int sort, void *p, double v, int swap) {
  if (sort == S_F32) {
    float f = (float)v;
    unsigned char b[4];
    memcpy(b, &f, 4);
    if (swap)
      bswap(b, 4);
    memcpy(p, b, 4);
  } else if (sort == S_F80) {
    long double ld = v;
    memcpy(p, &ld, sizeof ld);
  } else {
    unsigned char b[8];
    memcpy(b, &v, 8);
    if (swap)
      bswap(b, 8);
    memcpy(p, b, 8);
  }
}

/* ======================================================================
 * cdata
 * ====================================================================== */

static cdata *to_cdata(lua_State *L, int idx) {
  return test_ud(L, idx, &cdata_mt);
}

/* Push new cdata of the ctype at type_idx: owned zeroed memory of its
 * size.  Raises for void and for sizes that cannot be had. */
static cdata *push_new_cdata(lua_State *L, int type_idx) {
  type_idx = lua_absindex(L, type_idx);
  ctype *t = lua_touserdata(L, type_idx);
  if (t->kind == WEFT_FFI_KIND_VOID)
    weftlua_raisef(L, WEFT_EVALUE, "ffi: cannot make an object of type void");
  size_t align = t->align > 0 ? t->align : 1;
  if (align > MAX_ALIGN_INLINE)
    weftlua_raisef(L, WEFT_EVALUE, "ffi: alignment %d is too large",
                   (int)align);
  size_t pad = align > 8 ? align - 1 : 0;
  if (t->size > (size_t)LUA_MAXINTEGER - sizeof(cdata) - pad - 16)
    weftlua_raisef(L, WEFT_EVALUE, "ffi: an object of %I bytes is too large",
                   (lua_Integer)t->size);
  cdata *c = lua_newuserdatauv(L, sizeof *c + pad + t->size, 3);
  uintptr_t mem = (uintptr_t)(c + 1);
  mem = (mem + align - 1) & ~(uintptr_t)(align - 1);
  c->p = (void *)mem;
  c->t = t;
  c->is_value = 0;
  c->swap = 0;
  memset(c->p, 0, t->size);
  set_mt(L, &cdata_mt);
  lua_pushvalue(L, type_idx);
  lua_setiuservalue(L, -2, 1);
  return c;
}

/* Push what keeps the memory of the value at idx alive: a cdata's anchor
 * (uservalue 2), else the cdata itself if it is memory, else a string
 * itself.  0 (nothing pushed) for a pointer value without one. */
static int push_anchor(lua_State *L, int idx) {
  cdata *c = to_cdata(L, idx);
  if (c == NULL) {
    if (lua_type(L, idx) != LUA_TSTRING && lua_type(L, idx) != LUA_TUSERDATA)
      return 0;
    lua_pushvalue(L, idx);
    return 1;
  }
  if (lua_getiuservalue(L, idx, 2) != LUA_TNIL)
    return 1;
  lua_pop(L, 1);
  if (c->is_value)
    return 0;
  lua_pushvalue(L, idx);
  return 1;
}

/* Push cdata of the ctype at type_idx referring to p: a pointer value
 * (is_value) or a view of memory kept alive by the value at anchor_idx
 * (0: none). */
static cdata *push_ref_cdata(lua_State *L, int type_idx, void *p, int is_value,
                             int anchor_idx, int swap) {
  type_idx = lua_absindex(L, type_idx);
  if (anchor_idx != 0)
    anchor_idx = lua_absindex(L, anchor_idx);
  cdata *c = lua_newuserdatauv(L, sizeof *c, 3);
  c->p = p;
  c->t = lua_touserdata(L, type_idx);
  c->is_value = (unsigned char)is_value;
  c->swap = (unsigned char)swap;
  set_mt(L, &cdata_mt);
  lua_pushvalue(L, type_idx);
  lua_setiuservalue(L, -2, 1);
  if (anchor_idx != 0 && push_anchor(L, anchor_idx))
    lua_setiuservalue(L, -2, 2);
  return c;
}

/* Keep value v (a string stored into C memory) alive with cdata c (at
 * idx): in its root's uservalue 3. */
static void keep_alive(lua_State *L, int idx, int v) {
  idx = lua_absindex(L, idx);
  v = lua_absindex(L, v);
  if (lua_getiuservalue(L, idx, 2) == LUA_TNIL || to_cdata(L, -1) == NULL) {
    lua_pop(L, 1);
    lua_pushvalue(L, idx);
  }
  int root = lua_gettop(L);
  if (to_cdata(L, root) == NULL) {
    lua_pop(L, 1);
    return;
  }
  if (lua_getiuservalue(L, root, 3) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, root, 3);
  }
  lua_pushvalue(L, v);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 2);
}

/* ---- Lua -> C ----------------------------------------------------------- */

typedef struct where {
  const char *fn; /* "strlen", "ffi.new", ... */
  int arg;        /* 1-based, 0: a value, not an argument */
} where;

static int bad_value(lua_State *L, const where *w, int idx,
                     const char *expected) {
  if (w->arg > 0)
    return weftlua_raisef(L, WEFT_EVALUE,
                          "%s: argument %d: %s expected, "
                          "got %s",
                          w->fn, w->arg, expected, luaL_typename(L, idx));
  return weftlua_raisef(L, WEFT_EVALUE, "%s: %s expected, got %s", w->fn,
                        expected, luaL_typename(L, idx));
}

static int64_t check_int_value(lua_State *L, int idx, const where *w) {
  int isnum;
  lua_Integer v = lua_tointegerx(L, idx, &isnum);
  if (isnum && lua_type(L, idx) == LUA_TNUMBER)
    return v;
  if (lua_type(L, idx) == LUA_TBOOLEAN)
    return lua_toboolean(L, idx);
  cdata *c = to_cdata(L, idx);
  if (c != NULL && c->is_value)
    return (int64_t)(intptr_t)c->p;
  if (c != NULL && !c->is_value && c->t->sort >= S_BOOL && c->t->sort <= S_U64)
    return load_int(c->t->sort, c->p, c->swap);
  if (lua_type(L, idx) == LUA_TNUMBER) {
    /* a float without an exact integer value: C's truncation */
    lua_Number d = lua_tonumber(L, idx);
    if (d >= -9223372036854775808.0 && d < 18446744073709551616.0)
      return d < 9223372036854775808.0 ? (int64_t)d : (int64_t)(uint64_t)d;
    return bad_value(L, w, idx, "an integer in range");
  }
  return bad_value(L, w, idx, "integer");
}

/* A bool: a boolean, nil (false) or a number (nonzero is true, as C
 * converts it). */
static int check_bool_value(lua_State *L, int idx, const where *w) {
  if (lua_type(L, idx) == LUA_TBOOLEAN || lua_isnoneornil(L, idx))
    return lua_toboolean(L, idx);
  return check_int_value(L, idx, w) != 0;
}

static double check_double_value(lua_State *L, int idx, const where *w) {
  int isnum;
  lua_Number v = lua_tonumberx(L, idx, &isnum);
  if (isnum && lua_type(L, idx) == LUA_TNUMBER)
    return v;
  cdata *c = to_cdata(L, idx);
  if (c != NULL && !c->is_value && c->t->sort >= S_F32 && c->t->sort <= S_F80)
    return load_double(c->t->sort, c->p, c->swap);
  return bad_value(L, w, idx, "number");
}

typedef struct cbrec cbrec;
static void *callback_address(lua_State *L, int idx);
static void *function_address(lua_State *L, int idx);

/* A pointer from nil, a lightuserdata, cdata (a pointer's value, an
 * object's address), a string (its bytes), an integer (an address), a
 * callback or a function (its code).  *is_str: it was a Lua string. */
static void *check_pointer_value(lua_State *L, int idx, const where *w,
                                 int *is_str) {
  if (is_str)
    *is_str = 0;
  switch (lua_type(L, idx)) {
  case LUA_TNIL:
  case LUA_TNONE:
    return NULL;
  case LUA_TLIGHTUSERDATA:
    return lua_touserdata(L, idx);
  case LUA_TSTRING:
    if (is_str)
      *is_str = 1;
    return (void *)lua_tostring(L, idx);
  case LUA_TNUMBER: {
    int isint;
    lua_Integer v = lua_tointegerx(L, idx, &isint);
    if (isint)
      return (void *)(intptr_t)v;
    break;
  }
  case LUA_TFUNCTION: {
    void *p = function_address(L, idx);
    if (p != NULL)
      return p;
    break;
  }
  case LUA_TUSERDATA: {
    cdata *c = to_cdata(L, idx);
    if (c != NULL)
      return c->p;
    void *p = callback_address(L, idx);
    if (p != NULL)
      return p;
    p = function_address(L, idx);
    if (p != NULL)
      return p;
    break;
  }
  }
  bad_value(L, w, idx, "pointer");
  return NULL;
}

static void init_from(lua_State *L, int type_idx, void *p, int v, int root,
                      int swap, const where *w);
static lua_Integer anon_member(lua_State *L, int type_idx, int key_idx,
                               int depth);

/* Store the Lua value at v as C type t (ctype at type_idx) at p.  root:
 * the cdata owning the memory (strings are kept alive with it), or 0 for
 * memory Lua does not own (a callback's result: strings refused). */
static void store_value(lua_State *L, int type_idx, void *p, int v, int root,
                        int swap, const where *w) {
  ctype *t = lua_touserdata(L, type_idx);
  switch (t->sort) {
  case S_VOID:
    return;
  case S_BOOL:
    store_int(S_BOOL, p, check_bool_value(L, v, w), swap);
    return;
  case S_I8:
  case S_I16:
  case S_I32:
  case S_I64:
  case S_U8:
  case S_U16:
  case S_U32:
  case S_U64:
    store_int(t->sort, p, check_int_value(L, v, w), swap);
    return;
  case S_F32:
  case S_F64:
  case S_F80:
    store_double(t->sort, p, check_double_value(L, v, w), swap);
    return;
  case S_STR:
  case S_PTR: {
    int is_str;
    void *q = check_pointer_value(L, v, w, &is_str);
    if (is_str) {
      if (root == 0)
        weftlua_raisef(L, WEFT_EVALUE,
                       "%s: a Lua string cannot be stored as a C pointer "
                       "here (its memory would go with the string); use "
                       "ffi.new(\"char[?]\", n, s)",
                       w->fn);
      keep_alive(L, root, v);
    }
    store_int(S_I64, p, (int64_t)(intptr_t)q, swap);
    return;
  }
  default:
    init_from(L, type_idx, p, v, root, swap, w);
  }
}

/* ---- C -> Lua ----------------------------------------------------------- */

/* Push the value of C type (ctype at type_idx) at p; aggregates become
 * views (view: anchored at anchor, 0 for none) or copies (!view). */
static void push_value(lua_State *L, int type_idx, void *p, int view,
                       int anchor, int swap) {
  ctype *t = lua_touserdata(L, type_idx);
  switch (t->sort) {
  case S_VOID:
    lua_pushnil(L);
    return;
  case S_BOOL:
    lua_pushboolean(L, load_int(S_BOOL, p, swap) != 0);
    return;
  case S_I8:
  case S_I16:
  case S_I32:
  case S_I64:
  case S_U8:
  case S_U16:
  case S_U32:
  case S_U64:
    lua_pushinteger(L, (lua_Integer)load_int(t->sort, p, swap));
    return;
  case S_F32:
  case S_F64:
  case S_F80:
    lua_pushnumber(L, load_double(t->sort, p, swap));
    return;
  case S_STR: {
    const char *s = (const char *)(intptr_t)load_int(S_I64, p, swap);
    if (s == NULL)
      lua_pushnil(L);
    else
      lua_pushstring(L, s);
    return;
  }
  case S_PTR: {
    void *q = (void *)(intptr_t)load_int(S_I64, p, swap);
    if (q == NULL)
      lua_pushnil(L);
    else
      push_ref_cdata(L, type_idx, q, 1, 0, 0);
    return;
  }
  default:
    if (view) {
      push_ref_cdata(L, type_idx, p, 0, anchor, swap && t->sort == S_ARRAY);
    } else {
      cdata *c = push_new_cdata(L, type_idx);
      memcpy(c->p, p, t->size);
    }
  }
}

/* ---- struct fields ------------------------------------------------------ */

/* The index of field `key` (a string at key_idx) of struct t (ctype at
 * type_idx), or -1. */
static lua_Integer field_index(lua_State *L, int type_idx, int key_idx) {
  lua_getiuservalue(L, type_idx, 2);
  lua_pushvalue(L, key_idx);
  lua_rawget(L, -2);
  int isnum;
  lua_Integer i = lua_tointegerx(L, -1, &isnum);
  lua_pop(L, 2);
  return isnum ? i : -1;
}

static void push_field_type(lua_State *L, int type_idx, lua_Integer i) {
  lua_getiuservalue(L, type_idx, 2);
  lua_rawgeti(L, -1, i + 1);
  lua_remove(L, -2);
}

static void check_struct_status(lua_State *L, weft_status st) {
  if (st < 0)
    weftlua_raise(L, st);
}

/* Push field i of the struct (ctype at type_idx) at p (owned by root). */
static void get_field(lua_State *L, int type_idx, void *p, lua_Integer i,
                      int root) {
  ctype *t = lua_touserdata(L, type_idx);
  field *f = &t->fields[i];
  int64_t v = 0;
  double d = 0;
  if (f->direct) {
    const char *q = (const char *)p + f->offset;
    if (f->fsort == F_DOUBLE)
      d = load_double(f->sort, q, 0);
    else
      v = load_int(f->fsort == F_STR || f->fsort == F_PTR ? S_I64 : f->sort, q,
                   0);
  } else if (f->fsort == F_DOUBLE) {
    check_struct_status(L, weft_ffi_struct_get_double(t->h, (size_t)i, p, &d));
  } else if (f->fsort != F_AGG) {
    check_struct_status(L, weft_ffi_struct_get_int(t->h, (size_t)i, p, &v));
  }
  switch (f->fsort) {
  case F_INT:
    lua_pushinteger(L, (lua_Integer)v);
    return;
  case F_BOOL:
    lua_pushboolean(L, v != 0);
    return;
  case F_DOUBLE:
    lua_pushnumber(L, d);
    return;
  case F_STR:
    if (v == 0)
      lua_pushnil(L);
    else
      lua_pushstring(L, (const char *)(intptr_t)v);
    return;
  case F_PTR:
    if (v == 0) {
      lua_pushnil(L);
    } else {
      push_field_type(L, type_idx, i);
      push_ref_cdata(L, -1, (void *)(intptr_t)v, 1, 0, 0);
      lua_remove(L, -2);
    }
    return;
  default:
    push_field_type(L, type_idx, i);
    push_value(L, lua_gettop(L), (char *)p + f->offset, 1, root,
               t->order_swapped);
    lua_remove(L, -2);
  }
}

static void set_field(lua_State *L, int type_idx, void *p, lua_Integer i, int v,
                      int root, const where *w) {
  ctype *t = lua_touserdata(L, type_idx);
  field *f = &t->fields[i];
  char *q = (char *)p + f->offset;
  switch (f->fsort) {
  case F_INT:
  case F_BOOL: {
    int64_t x = f->fsort == F_BOOL ? check_bool_value(L, v, w)
                                   : check_int_value(L, v, w);
    if (f->direct)
      store_int(f->sort, q, x, 0);
    else
      check_struct_status(L, weft_ffi_struct_set_int(t->h, (size_t)i, p, x));
    return;
  }
  case F_DOUBLE: {
    double x = check_double_value(L, v, w);
    if (f->direct)
      store_double(f->sort, q, x, 0);
    else
      check_struct_status(L, weft_ffi_struct_set_double(t->h, (size_t)i, p, x));
    return;
  }
  case F_STR:
  case F_PTR: {
    int is_str;
    void *ptr = check_pointer_value(L, v, w, &is_str);
    if (is_str) {
      if (root == 0)
        weftlua_raisef(L, WEFT_EVALUE,
                       "%s: a Lua string cannot be stored as a C pointer "
                       "here",
                       w->fn);
      keep_alive(L, root, v);
    }
    if (f->direct)
      store_int(S_I64, q, (int64_t)(intptr_t)ptr, 0);
    else
      check_struct_status(L, weft_ffi_struct_set_int(t->h, (size_t)i, p,
                                                     (int64_t)(intptr_t)ptr));
    return;
  }
  default:
    push_field_type(L, type_idx, i);
    init_from(L, lua_gettop(L), (char *)p + f->offset, v, root,
              t->order_swapped, w);
    lua_pop(L, 1);
  }
}

/* Initialise C memory p of the aggregate type at type_idx from the value
 * at v: cdata of the same size (copied), a table (fields by name or in
 * order; array elements from 1), or for a char array a string. */
static void init_from(lua_State *L, int type_idx, void *p, int v, int root,
                      int swap, const where *w) {
  type_idx = lua_absindex(L, type_idx);
  v = lua_absindex(L, v);
  ctype *t = lua_touserdata(L, type_idx);
  cdata *c = to_cdata(L, v);
  if (c != NULL && !c->is_value && c->t->size == t->size &&
      c->t->kind == t->kind) {
    memmove(p, c->p, t->size);
    return;
  }
  if (t->sort == S_ARRAY) {
    lua_getiuservalue(L, type_idx, 1);
    int et = lua_gettop(L);
    ctype *e = lua_touserdata(L, et);
    if (lua_type(L, v) == LUA_TSTRING && e->size == 1) {
      size_t n;
      const char *s = lua_tolstring(L, v, &n);
      if (n > t->length)
        weftlua_raisef(L, WEFT_EVALUE,
                       "%s: a string of %I bytes for a %I-byte array", w->fn,
                       (lua_Integer)n, (lua_Integer)t->length);
      memcpy(p, s, n);
      if (n < t->length)
        ((char *)p)[n] = '\0';
    } else if (lua_type(L, v) == LUA_TTABLE) {
      lua_Integer n = (lua_Integer)lua_rawlen(L, v);
      if ((size_t)n > t->length)
        weftlua_raisef(L, WEFT_EVALUE, "%s: %I initializers for an array of %I",
                       w->fn, n, (lua_Integer)t->length);
      for (lua_Integer i = 0; i < n; i++) {
        lua_rawgeti(L, v, i + 1);
        store_value(L, et, (char *)p + (size_t)i * e->size, lua_gettop(L), root,
                    swap, w);
        lua_pop(L, 1);
      }
    } else {
      bad_value(L, w, v, "a table or string for an array");
    }
    lua_pop(L, 1);
    return;
  }
  if (t->sort != S_AGG) {
    store_value(L, type_idx, p, v, root, swap, w);
    return;
  }
  if (lua_type(L, v) != LUA_TTABLE)
    bad_value(L, w, v, "a struct or a table");
  /* positional: {1, 2.5}; named: {x = 1, y = 2.5} */
  lua_Integer n = (lua_Integer)lua_rawlen(L, v);
  size_t named = 0;
  for (size_t i = 0; i < t->nfields && (lua_Integer)named < n; i++) {
    if (t->fields[i].bits == 0)
      continue; /* zero-width: no value */
    lua_rawgeti(L, v, (lua_Integer)named + 1);
    set_field(L, type_idx, p, (lua_Integer)i, lua_gettop(L), root, w);
    lua_pop(L, 1);
    named++;
  }
  lua_pushnil(L);
  while (lua_next(L, v) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING) {
      int k = lua_gettop(L) - 1;
      lua_Integer i = field_index(L, type_idx, k);
      if (i >= 0) {
        set_field(L, type_idx, p, i, k + 1, root, w);
      } else if ((i = anon_member(L, type_idx, k, 0)) >= 0) {
        get_field(L, type_idx, p, i, root); /* a view of the member */
        lua_pushvalue(L, k);
        lua_pushvalue(L, k + 1);
        lua_settable(L, -3);
        lua_pop(L, 1);
      } else {
        weftlua_raisef(L, WEFT_EVALUE, "%s: no field '%s'", w->fn,
                       lua_tostring(L, k));
      }
    } else if (!lua_isinteger(L, -2)) {
      weftlua_raisef(L, WEFT_EVALUE, "%s: a %s key in an initializer", w->fn,
                     luaL_typename(L, -2));
    }
    lua_pop(L, 1);
  }
}

/* ---- cdata metamethods -------------------------------------------------- */

static cdata *check_cdata(lua_State *L, int idx) {
  return check_ud(L, idx, &cdata_mt, CDATA_MT);
}

/* The element of pointer or array cdata c (at 1) at index key (at 2):
 * pushes its ctype, returns its address. */
static void *element_at(lua_State *L, cdata *c, int key) {
  int isint;
  lua_Integer i = lua_tointegerx(L, key, &isint);
  if (!isint)
    weftlua_raisef(L, WEFT_EVALUE, "ffi: cannot index cdata with a %s",
                   luaL_typename(L, key));
  lua_getiuservalue(L, 1, 1); /* the ctype */
  if (!c->is_value && c->t->sort == S_AGG)
    weftlua_raisef(L, WEFT_EVALUE,
                   "ffi: cannot index a struct with a "
                   "number");
  if (!c->is_value && c->t->kind != WEFT_FFI_KIND_ARRAY) {
    /* a boxed scalar or pointer: b[0] */
    if (i != 0)
      weftlua_raisef(L, WEFT_ERANGE,
                     "ffi: index %I of a boxed value (only "
                     "0)",
                     i);
    return c->p;
  }
  lua_getiuservalue(L, -1, 1); /* the element ctype */
  lua_remove(L, -2);
  ctype *e = lua_touserdata(L, -1);
  if (e->kind == WEFT_FFI_KIND_VOID)
    weftlua_raisef(L, WEFT_EVALUE,
                   "ffi: cannot index a void pointer (cast "
                   "it first)");
  if (!c->is_value && (i < 0 || (size_t)i >= c->t->length))
    weftlua_raisef(L, WEFT_ERANGE, "ffi: index %I out of range [0, %I)", i,
                   (lua_Integer)c->t->length);
  if (c->p == NULL)
    weftlua_raisef(L, WEFT_EVALUE, "ffi: cannot index a NULL pointer");
  return (char *)c->p + i * (lua_Integer)e->size;
}

/* For field access: the struct ctype (pushed) and address of c, which is
 * a struct or a pointer to one; NULL if it is neither. */
static void *struct_of(lua_State *L, cdata *c) {
  lua_getiuservalue(L, 1, 1);
  if (!c->is_value && c->t->sort == S_AGG)
    return c->p;
  if (c->is_value && c->t->kind == WEFT_FFI_KIND_POINTER) {
    lua_getiuservalue(L, -1, 1);
    ctype *e = lua_touserdata(L, -1);
    if (e != NULL && e->sort == S_AGG) {
      lua_remove(L, -2);
      if (c->p == NULL)
        weftlua_raisef(L, WEFT_EVALUE, "ffi: a field of a NULL pointer");
      return c->p;
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return NULL;
}

/* ---- ffi.metatype ----------------------------------------------------------
 * A struct or union type may carry a metatable (ctype uservalue 3) whose
 * __index and __newindex serve the names that are not fields, and whose
 * other metamethods serve its objects and pointers to them. */

/* Push the metatype of cdata at idx (its struct's, or its pointed-to
 * struct's) and return 1, or push nothing and return 0. */
static int push_metatype(lua_State *L, int idx) {
  cdata *c = to_cdata(L, idx);
  if (c == NULL)
    return 0;
  lua_getiuservalue(L, idx, 1);
  if (c->is_value && c->t->kind == WEFT_FFI_KIND_POINTER) {
    lua_getiuservalue(L, -1, 1);
    lua_remove(L, -2);
  }
  if (lua_getiuservalue(L, -1, 3) == LUA_TTABLE) {
    lua_remove(L, -2);
    return 1;
  }
  lua_pop(L, 2);
  return 0;
}

/* Push metamethod `event` of the first cdata operand's metatype and
 * return 1; 0 if there is none. */
static int push_metamethod(lua_State *L, const char *event) {
  int n = lua_gettop(L);
  for (int i = 1; i <= 2 && i <= n; i++) {
    if (push_metatype(L, i)) {
      if (lua_getfield(L, -1, event) != LUA_TNIL) {
        lua_remove(L, -2);
        return 1;
      }
      lua_pop(L, 2);
    }
  }
  return 0;
}

/* Call the metamethod on top with the first nargs arguments; 1 result. */
static int call_metamethod(lua_State *L, int nargs) {
  lua_insert(L, 1);
  lua_settop(L, nargs + 1);
  lua_call(L, nargs, 1);
  return 1;
}

/* __index / __newindex of the metatype for a name that is not a field;
 * 0 if there is none (pushes nothing then). */
static int meta_index(lua_State *L) {
  if (!push_metatype(L, 1))
    return 0;
  if (lua_getfield(L, -1, "__index") == LUA_TNIL) {
    lua_pop(L, 2);
    return 0;
  }
  if (lua_type(L, -1) == LUA_TFUNCTION) {
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_call(L, 2, 1);
  } else {
    lua_pushvalue(L, 2);
    lua_gettable(L, -2);
  }
  return 1;
}

static int meta_newindex(lua_State *L) {
  if (!push_metatype(L, 1))
    return 0;
  if (lua_getfield(L, -1, "__newindex") == LUA_TNIL) {
    lua_pop(L, 2);
    return 0;
  }
  if (lua_type(L, -1) == LUA_TFUNCTION) {
    lua_pushvalue(L, 1);
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    lua_call(L, 3, 0);
  } else {
    lua_pushvalue(L, 2);
    lua_pushvalue(L, 3);
    lua_settable(L, -3);
  }
  return 1;
}

/* The anonymous struct or union member of the struct at type_idx that
 * has field `key` (at key_idx), itself or in an anonymous member of its
 * own (C11), or -1. */
static lua_Integer anon_member(lua_State *L, int type_idx, int key_idx,
                               int depth) {
  ctype *t = lua_touserdata(L, type_idx);
  if (depth > 32)
    return -1;
  for (size_t i = 0; i < t->nfields; i++) {
    if (!t->fields[i].anon || t->fields[i].bits >= 0)
      continue;
    push_field_type(L, type_idx, (lua_Integer)i);
    int ft = lua_gettop(L);
    ctype *m = lua_touserdata(L, ft);
    int found =
        m->sort == S_AGG && (field_index(L, ft, key_idx) >= 0 ||
                             anon_member(L, ft, key_idx, depth + 1) >= 0);
    lua_pop(L, 1);
    if (found)
      return (lua_Integer)i;
  }
  return -1;
}

/* field_index for a string key, first by the interned name's address
 * (fields of small structs, short names), then by the field table. */
static lua_Integer find_field(lua_State *L, int type_idx, int key_idx) {
  ctype *t = lua_touserdata(L, type_idx);
  const char *k = lua_tostring(L, key_idx);
  size_t n = t->nfields < 16 ? t->nfields : 16;
  for (size_t i = 0; i < n; i++)
    if (t->fields[i].name == k)
      return (lua_Integer)i;
  return field_index(L, type_idx, key_idx);
}

static int cdata_index(lua_State *L) {
  cdata *c = check_cdata(L, 1);
  if (lua_type(L, 2) != LUA_TSTRING && !c->is_value && c->t->sort == S_AGG) {
    /* a struct indexed by a number, a table...: its metatype's */
    if (meta_index(L))
      return 1;
  }
  if (lua_type(L, 2) == LUA_TSTRING) {
    void *p = struct_of(L, c);
    if (p == NULL && meta_index(L))
      return 1;
    if (p == NULL)
      return weftlua_raisef(L, WEFT_EVALUE,
                            "ffi: '%s' of cdata that is "
                            "not a struct",
                            lua_tostring(L, 2));
    int st = lua_gettop(L);
    lua_Integer i = find_field(L, st, 2);
    int anon = i < 0;
    if (anon && (i = anon_member(L, st, 2, 0)) < 0) {
      if (meta_index(L))
        return 1;
      return weftlua_raisef(L, WEFT_EVALUE, "ffi: no field '%s'",
                            lua_tostring(L, 2));
    }
    ctype *t = lua_touserdata(L, st);
    /* only a struct or array field (a view) needs what keeps p alive */
    int root =
        t->fields[i].fsort == F_AGG && push_anchor(L, 1) ? lua_gettop(L) : 0;
    get_field(L, st, p, i, root);
    if (anon) {
      lua_pushvalue(L, 2);
      lua_gettable(L, -2); /* the field of the anonymous member */
    }
    return 1;
  }
  void *p = element_at(L, c, 2);
  int et = lua_gettop(L);
  int root = push_anchor(L, 1) ? lua_gettop(L) : 0;
  push_value(L, et, p, 1, root, c->swap);
  return 1;
}

static int cdata_newindex(lua_State *L) {
  cdata *c = check_cdata(L, 1);
  where w = {"ffi: assignment", 0};
  int root = c->is_value ? 0 : 1;
  if (lua_type(L, 2) == LUA_TSTRING) {
    void *p = struct_of(L, c);
    if (p == NULL)
      return weftlua_raisef(L, WEFT_EVALUE,
                            "ffi: '%s' of cdata that is "
                            "not a struct",
                            lua_tostring(L, 2));
    int st = lua_gettop(L);
    lua_Integer i = find_field(L, st, 2);
    if (i < 0) {
      if ((i = anon_member(L, st, 2, 0)) < 0) {
        if (meta_newindex(L))
          return 0;
        return weftlua_raisef(L, WEFT_EVALUE, "ffi: no field '%s'",
                              lua_tostring(L, 2));
      }
      int r = push_anchor(L, 1) ? lua_gettop(L) : 0;
      get_field(L, st, p, i, r);
      lua_pushvalue(L, 2);
      lua_pushvalue(L, 3);
      lua_settable(L, -3);
      return 0;
    }
    if (root == 0 && push_anchor(L, 1))
      root = lua_gettop(L);
    set_field(L, st, p, i, 3, root, &w);
    return 0;
  }
  void *p = element_at(L, c, 2);
  int et = lua_gettop(L);
  if (root == 0 && push_anchor(L, 1))
    root = lua_gettop(L);
  store_value(L, et, p, 3, root, c->swap, &w);
  return 0;
}

/* Metamethods that only a metatype gives. */
#define META_ONLY(event, nargs)                                                \
  static int cdata_meta_##event(lua_State *L) {                                \
    if (!push_metamethod(L, "__" #event))                                      \
      return weftlua_raisef(L, WEFT_EVALUE,                                    \
                            "ffi: cdata has no __" #event                      \
                            " (give its struct type one with ffi.metatype)");  \
    return call_metamethod(L, nargs);                                          \
  }
META_ONLY(concat, 2)
META_ONLY(lt, 2)
META_ONLY(le, 2)
META_ONLY(unm, 1)
META_ONLY(mul, 2)
META_ONLY(div, 2)
META_ONLY(mod, 2)
META_ONLY(pow, 2)
META_ONLY(idiv, 2)

static int cdata_meta_call(lua_State *L) {
  if (!push_metamethod(L, "__call"))
    return weftlua_raisef(L, WEFT_EVALUE,
                          "ffi: cdata has no __call (give its struct type "
                          "one with ffi.metatype)");
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

static int cdata_len(lua_State *L) {
  if (push_metamethod(L, "__len"))
    return call_metamethod(L, 1);
  cdata *c = check_cdata(L, 1);
  if (c->is_value || c->t->kind != WEFT_FFI_KIND_ARRAY)
    return weftlua_raisef(L, WEFT_EVALUE,
                          "ffi: # of cdata that is not an "
                          "array");
  lua_pushinteger(L, (lua_Integer)c->t->length);
  return 1;
}

static int cdata_tostring(lua_State *L) {
  if (push_metamethod(L, "__tostring"))
    return call_metamethod(L, 1);
  cdata *c = check_cdata(L, 1);
  push_type_name(L, c->t);
  if (c->is_value)
    lua_pushfstring(L, "cdata<%s>: %p", lua_tostring(L, -1), c->p);
  else
    lua_pushfstring(L, "cdata<%s>: %p (object)", lua_tostring(L, -1), c->p);
  return 1;
}

static int cdata_eq(lua_State *L) {
  if (push_metamethod(L, "__eq")) {
    call_metamethod(L, 2);
    lua_pushboolean(L, lua_toboolean(L, -1));
    return 1;
  }
  cdata *a = to_cdata(L, 1), *b = to_cdata(L, 2);
  lua_pushboolean(L, a != NULL && b != NULL && a->p == b->p);
  return 1;
}

/* p + n, n + p: pointer arithmetic in elements (bytes for void*). */
static int cdata_add(lua_State *L) {
  if (push_metamethod(L, "__add"))
    return call_metamethod(L, 2);
  int pi = to_cdata(L, 1) ? 1 : 2;
  cdata *c = check_cdata(L, pi);
  lua_Integer n = luaL_checkinteger(L, pi == 1 ? 2 : 1);
  lua_getiuservalue(L, pi, 1);
  int pt = lua_gettop(L);
  if (c->t->kind == WEFT_FFI_KIND_ARRAY) {
    /* an array decays to a pointer to its first element */
    lua_getiuservalue(L, pt, 1);
    push_pointer_to(L, -1);
    lua_replace(L, pt);
    lua_settop(L, pt);
  } else if (!c->is_value || c->t->kind != WEFT_FFI_KIND_POINTER) {
    return weftlua_raisef(L, WEFT_EVALUE,
                          "ffi: arithmetic on cdata that "
                          "is not a pointer or array");
  }
  lua_getiuservalue(L, pt, 1);
  ctype *e = lua_touserdata(L, -1);
  size_t es = e->kind == WEFT_FFI_KIND_VOID ? 1 : e->size;
  lua_pop(L, 1);
  /* As integers: C has no arithmetic on NULL (a NULL pointer plus n is
   * still a pointer value in Lua, as in LuaJIT). */
  void *q = (void *)((uintptr_t)c->p + (uintptr_t)(n * (lua_Integer)es));
  push_ref_cdata(L, pt, q, 1, pi, 0);
  return 1;
}

/* p - n, p - q (elements between). */
static int cdata_sub(lua_State *L) {
  if (push_metamethod(L, "__sub"))
    return call_metamethod(L, 2);
  cdata *a = check_cdata(L, 1);
  cdata *b = to_cdata(L, 2);
  if (b != NULL) {
    lua_getiuservalue(L, 1, 1);
    size_t es = 1;
    if (a->t->kind == WEFT_FFI_KIND_POINTER ||
        a->t->kind == WEFT_FFI_KIND_ARRAY) {
      lua_getiuservalue(L, -1, 1);
      ctype *e = lua_touserdata(L, -1);
      if (e->kind != WEFT_FFI_KIND_VOID && e->size > 0)
        es = e->size;
    }
    lua_pushinteger(L, (lua_Integer)((intptr_t)a->p - (intptr_t)b->p) /
                           (lua_Integer)es);
    return 1;
  }
  lua_Integer n = luaL_checkinteger(L, 2);
  lua_pushinteger(L, -n);
  lua_replace(L, 2);
  return cdata_add(L);
}

/* ======================================================================
 * Libraries
 * ====================================================================== */

typedef struct lib {
  weft_handle h;
  int closed;
  int flags; /* WEFT_FFI_CALL_* for its functions */
} lib;

static lib *check_lib(lua_State *L, int idx) {
  lib *l = check_ud(L, idx, &lib_mt, LIB_MT);
  if (l->closed) {
    lua_getiuservalue(L, idx, 1);
    weftlua_raisef(L, WEFT_EBADHANDLE, "ffi: library %s is closed",
                   luaL_optstring(L, -1, "?"));
  }
  return l;
}

static int lib_close(lua_State *L) {
  lib *l = check_ud(L, 1, &lib_mt, LIB_MT);
  if (!l->closed && l->h != 0)
    weft_close(l->h);
  l->closed = 1;
  return 0;
}

static int lib_tostring(lua_State *L) {
  lib *l = check_ud(L, 1, &lib_mt, LIB_MT);
  lua_getiuservalue(L, 1, 1);
  lua_pushfstring(L, "ffi.library<%s>%s", luaL_optstring(L, -1, "?"),
                  l->closed ? " (closed)" : "");
  return 1;
}

static int opt_flag(lua_State *L, int opts, const char *name, int flag) {
  if (opts == 0 || lua_type(L, opts) != LUA_TTABLE)
    return 0;
  lua_getfield(L, opts, name);
  int on = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return on ? flag : 0;
}

/* Not a weft flag: the call lets callbacks from other threads borrow the
 * state while it runs (weftlua_block_begin). */
#define FLAG_BLOCKING (1 << 24)

/* The flags of options {use_errno = true, libffi = true, blocking = true}. */
static int call_flags(lua_State *L, int opts) {
  if (opts != 0 && !lua_isnoneornil(L, opts))
    luaL_checktype(L, opts, LUA_TTABLE);
  return opt_flag(L, opts, "use_errno", WEFT_FFI_CALL_ERRNO) |
         opt_flag(L, opts, "libffi", WEFT_FFI_CALL_LIBFFI) |
         opt_flag(L, opts, "blocking", FLAG_BLOCKING);
}

/* ffi_load(name|nil, opts) -> library.  A short name ("c", "m") is looked
 * up with weft_ffi_find_library; a path or file name is opened as is. */
static int ffi_load(lua_State *L) {
  const char *name = luaL_optstring(L, 1, NULL);
  int opts = lua_istable(L, 2) ? 2 : 0;
  if (!lua_isnoneornil(L, 2))
    luaL_checktype(L, 2, LUA_TTABLE);
  int rtld = 0;
  const char *cname;
  int64_t v;
  if (opt_flag(L, opts, "global", 1) &&
      weft_constant_get("RTLD_GLOBAL", &v) == 0)
    rtld |= (int)v;
  if (opt_flag(L, opts, "lazy", 1) && weft_constant_get("RTLD_LAZY", &v) == 0)
    rtld |= (int)v;
  if (name != NULL && *name == '\0')
    return weftlua_raisef(L, WEFT_EVALUE, "ffi.load: an empty name");
  if (name != NULL && strchr(name, '/') == NULL &&
      strstr(name, ".so") == NULL) {
    char buf[256];
    size_t len;
    weft_status st = weft_ffi_find_library(name, buf, sizeof buf, &len);
    if (st == 0)
      cname = lua_pushlstring(L, buf, len);
    else
      cname = lua_pushfstring(L, "lib%s.so", name); /* dlopen's search */
  } else {
    cname = name;
    lua_pushstring(L, name != NULL ? name : "(process)");
  }
  int name_idx = lua_gettop(L);
  lib *l = lua_newuserdatauv(L, sizeof *l, 1);
  memset(l, 0, sizeof *l);
  l->closed = 1;
  set_mt(L, &lib_mt);
  weft_status st =
      weft_ffi_library_open(name != NULL ? cname : NULL, rtld, &l->h);
  if (st < 0)
    return weftlua_raise(L, st);
  l->closed = 0;
  l->flags = call_flags(L, opts);
  lua_pushvalue(L, name_idx);
  lua_setiuservalue(L, -2, 1);
  return 1;
}

/* lib:symbol(name) -> void* cdata; raises -ENOENT if there is none. */
static int lib_symbol(lua_State *L) {
  lib *l = check_lib(L, 1);
  const char *name = luaL_checkstring(L, 2);
  void *p;
  weft_status st = weft_ffi_library_symbol(l->h, name, &p);
  if (st < 0)
    return weftlua_raise(L, st);
  lua_pushliteral(L, "void*");
  push_type(L, -1, -1);
  push_ref_cdata(L, -1, p, 1, 0, 0);
  return 1;
}

/* ======================================================================
 * Functions
 * ====================================================================== */

typedef struct func {
  weft_handle h;
  lib *lib; /* its library (uservalue 2), NULL for an address */
  void *addr;
  void *state; /* the main thread of the state that made it */
  const char *name;
  size_t nargs, nfixed;
  int variadic; /* extra arguments pick a call shape */
  int blocking; /* FLAG_BLOCKING */
  int flags, abi;
  conv ret;
  conv args[];
} func;

/* The thread's innermost ffi call: callbacks of that state arriving on
 * this thread run inline in its coroutine. */
typedef struct frame {
  void *state;
  lua_State *L;
  int blocking; /* callbacks go through weftlua_owner_run (borrowing) */
  struct frame *prev;
} frame;
/* initial-exec: a plain %fs load, not a __tls_get_addr call per ffi call
 * (a few bytes of the static TLS surplus glibc keeps for modules). */
static _Thread_local frame *tls_frame
    __attribute__((tls_model("initial-exec")));

static void *main_of(lua_State *L) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  void *m = lua_tothread(L, -1);
  lua_pop(L, 1);
  return m;
}

static void set_conv(conv *c, ctype *t) {
  c->t = t;
  c->sort = t->sort;
  c->size = t->size;
}

static int func_gc(lua_State *L) {
  func *f = lua_touserdata(L, 1);
  if (f->h != 0)
    weft_close(f->h);
  f->h = 0;
  return 0;
}

/* Push a function object for handle h (owned: closed if this raises).
 * Types: if types_idx (a table [0] = ret, [i] = arg ctypes) is nonzero
 * they are used, else read from the handle. lib_idx: its library or 0. */
static func *push_func(lua_State *L, weft_handle h, int types_idx,
                       int lib_idx) {
  if (types_idx)
    types_idx = lua_absindex(L, types_idx);
  if (lib_idx)
    lib_idx = lua_absindex(L, lib_idx);
  size_t nargs = 0, nfixed = 0;
  weft_ffi_function_arg_count(h, &nargs, &nfixed);
  func *f = lua_newuserdatauv(L, sizeof *f + nargs * sizeof(conv), 2);
  memset(f, 0, sizeof *f);
  f->h = h;
  set_mt(L, &func_mt);
  int fi = lua_gettop(L);
  f->nargs = nargs;
  f->nfixed = nfixed;
  weft_ffi_function_flags(h, &f->flags, &f->abi);
  f->variadic = (f->flags & WEFT_FFI_CALL_VARIADIC) && nfixed == nargs;
  weft_ffi_function_address(h, &f->addr);
  f->state = main_of(L);
  lua_createtable(L, (int)nargs, 2);
  int tt = lua_gettop(L);
  for (size_t i = 0; i <= nargs; i++) {
    if (types_idx) {
      lua_rawgeti(L, types_idx, (lua_Integer)i);
    } else {
      weft_handle th;
      weft_status st = i == 0 ? weft_ffi_function_restype(h, &th)
                              : weft_ffi_function_argtype(h, i - 1, &th);
      if (st < 0)
        weftlua_raise(L, st);
      push_ctype_of(L, th);
    }
    ctype *t = to_ctype(L, -1);
    if (t == NULL)
      weftlua_raisef(L, WEFT_EVALUE, "ffi: internal: no type");
    set_conv(i == 0 ? &f->ret : &f->args[i - 1], t);
    lua_rawseti(L, tt, (lua_Integer)i);
  }
  /* the name, kept in the table */
  char small[128];
  size_t len = 0;
  if (weft_ffi_function_name(h, small, sizeof small, &len) == 0 && len > 0)
    lua_pushlstring(L, small, len);
  else
    lua_pushliteral(L, "ffi function");
  f->name = lua_tostring(L, -1);
  lua_setfield(L, tt, "name");
  lua_setiuservalue(L, fi, 1);
  if (lib_idx) {
    f->lib = lua_touserdata(L, lib_idx);
    lua_pushvalue(L, lib_idx);
    lua_setiuservalue(L, fi, 2);
  }
  return f;
}

typedef union slot {
  int64_t i;
  double d;
  float f;
  void *p;
  long double ld;
  char b[16];
} slot;

/* Convert argument (stack index idx) for conv c into s; returns the
 * pointer libffi gets (s, or a struct's own memory). */
static void *arg_in(lua_State *L, int idx, conv *c, slot *s, const where *w) {
  switch (c->sort) {
  case S_BOOL:
    s->b[0] = (char)check_bool_value(L, idx, w);
    return s;
  case S_I8:
  case S_U8: {
    int8_t v = (int8_t)check_int_value(L, idx, w);
    memcpy(s, &v, 1);
    return s;
  }
  case S_I16:
  case S_U16: {
    int16_t v = (int16_t)check_int_value(L, idx, w);
    memcpy(s, &v, 2);
    return s;
  }
  case S_I32:
  case S_U32: {
    int32_t v = (int32_t)check_int_value(L, idx, w);
    memcpy(s, &v, 4);
    return s;
  }
  case S_I64:
  case S_U64:
    s->i = check_int_value(L, idx, w);
    return s;
  case S_F32:
    s->f = (float)check_double_value(L, idx, w);
    return s;
  case S_F64:
    s->d = check_double_value(L, idx, w);
    return s;
  case S_F80:
    s->ld = check_double_value(L, idx, w);
    return s;
  case S_STR:
  case S_PTR:
  case S_ARRAY:
    s->p = check_pointer_value(L, idx, w, NULL);
    return s;
  default: {
    cdata *d = to_cdata(L, idx);
    if (d != NULL && !d->is_value && d->t->size == c->size &&
        d->t->kind == c->t->kind)
      return d->p;
    if (d != NULL && d->is_value && d->t->kind == WEFT_FFI_KIND_POINTER) {
      /* a pointer to such a struct: pass what it points to */
      lua_getiuservalue(L, idx, 1);
      lua_getiuservalue(L, -1, 1);
      ctype *e = lua_touserdata(L, -1);
      lua_pop(L, 2);
      if (e == NULL || e->size != c->size || e->kind != c->t->kind)
        bad_value(L, w, idx, "struct (or a pointer to one)");
      if (d->p == NULL)
        weftlua_raisef(L, WEFT_EVALUE,
                       "%s: argument %d: a NULL pointer "
                       "for a struct by value",
                       w->fn, w->arg);
      return d->p;
    }
    if (lua_type(L, idx) != LUA_TTABLE)
      bad_value(L, w, idx, "struct");
    return NULL; /* a table: the caller makes a temporary struct */
  }
  }
}

static int func_call(lua_State *L);

/* A variadic function's shape for the extra arguments first..top: cached
 * in its types table by a code per argument (i int, q int64, d double,
 * z string, P pointer). */
static func *variadic_shape(lua_State *L, func *f, int fidx, int first,
                            int top) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = first; i <= top; i++) {
    char code;
    switch (lua_type(L, i)) {
    case LUA_TNUMBER:
      if (lua_isinteger(L, i)) {
        lua_Integer v = lua_tointeger(L, i);
        code = v >= INT_MIN && v <= INT_MAX ? 'i' : 'q';
      } else {
        code = 'd';
      }
      break;
    case LUA_TBOOLEAN:
      code = 'i';
      break;
    case LUA_TSTRING:
      code = 'z';
      break;
    case LUA_TNIL:
    case LUA_TLIGHTUSERDATA:
      code = 'P';
      break;
    case LUA_TUSERDATA: {
      cdata *c = to_cdata(L, i);
      if (c != NULL && !c->is_value && c->t->sort >= S_F32 &&
          c->t->sort <= S_F64)
        code = 'd';
      else if (c != NULL && !c->is_value && c->t->sort >= S_BOOL &&
               c->t->sort <= S_U64)
        code = 'q';
      else
        code = 'P';
      break;
    }
    default:
      weftlua_raisef(L, WEFT_EVALUE,
                     "%s: argument %d: a %s cannot be a variadic argument",
                     f->name, i - 1, luaL_typename(L, i));
      code = 0;
    }
    luaL_addchar(&b, code);
  }
  luaL_pushresult(&b);
  int key = lua_gettop(L);
  lua_getiuservalue(L, fidx, 1);
  int tt = lua_gettop(L);
  lua_pushvalue(L, key);
  if (lua_rawget(L, tt) == LUA_TUSERDATA) {
    func *g = lua_touserdata(L, -1);
    lua_replace(L, key);
    lua_settop(L, key);
    return g;
  }
  lua_pop(L, 1);
  size_t nextra = (size_t)(top - first + 1);
  size_t n = f->nfixed + nextra;
  weft_handle *types = lua_newuserdatauv(L, (n + 1) * sizeof *types, 0);
  lua_createtable(L, (int)n, 0);
  int newtt = lua_gettop(L);
  for (size_t i = 0; i <= f->nfixed; i++) {
    lua_rawgeti(L, tt, (lua_Integer)i);
    lua_rawseti(L, newtt, (lua_Integer)i);
  }
  const char *codes = lua_tostring(L, key);
  for (size_t k = 0; k < nextra; k++) {
    const char *tn = codes[k] == 'i'   ? "int"
                     : codes[k] == 'q' ? "int64_t"
                     : codes[k] == 'd' ? "double"
                     : codes[k] == 'z' ? "char*"
                                       : "void*";
    lua_pushstring(L, tn);
    push_type(L, -1, -1);
    lua_rawseti(L, newtt, (lua_Integer)(f->nfixed + k + 1));
    lua_pop(L, 1);
  }
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, newtt, (lua_Integer)i + 1);
    types[i] = ((ctype *)lua_touserdata(L, -1))->h;
    lua_pop(L, 1);
  }
  lua_rawgeti(L, newtt, 0);
  ctype *rt = lua_touserdata(L, -1);
  lua_pop(L, 1);
  weft_handle h;
  weft_status st = weft_ffi_function_new(
      f->addr, rt->kind == WEFT_FFI_KIND_VOID ? 0 : rt->h, types, n, f->nfixed,
      f->abi, (f->flags & ~(WEFT_FFI_CALL_FAST)) | WEFT_FFI_CALL_VARIADIC, &h);
  if (st < 0)
    weftlua_raise(L, st);
  lua_getiuservalue(L, fidx, 2);
  func *g = push_func(L, h, newtt, lua_isnil(L, -1) ? 0 : lua_gettop(L));
  g->name = f->name;
  g->variadic = 0;
  g->blocking = f->blocking;
  lua_pushvalue(L, key);
  lua_pushvalue(L, -2);
  lua_rawset(L, tt);
  lua_replace(L, key);
  lua_settop(L, key);
  return g;
}

/* The result of a call in ret, pushed. */
static void push_result(lua_State *L, func *f, int fidx, void *ret) {
  switch (f->ret.sort) {
  case S_VOID:
    return;
  case S_PTR:
  case S_AGG: {
    lua_getiuservalue(L, fidx, 1);
    lua_rawgeti(L, -1, 0);
    lua_remove(L, -2);
    int t = lua_gettop(L);
    push_value(L, t, ret, 0, 0, 0);
    lua_remove(L, t);
    return;
  }
  default: {
    /* scalars need no type object */
    switch (f->ret.sort) {
    case S_BOOL:
      lua_pushboolean(L, *(unsigned char *)ret != 0);
      return;
    case S_F32:
    case S_F64:
    case S_F80:
      lua_pushnumber(L, load_double(f->ret.sort, ret, 0));
      return;
    case S_STR: {
      const char *s = *(const char **)ret;
      if (s == NULL)
        lua_pushnil(L);
      else
        lua_pushstring(L, s);
      return;
    }
    default:
      lua_pushinteger(L, (lua_Integer)load_int(f->ret.sort, ret, 0));
    }
  }
  }
}

static int do_call(lua_State *L, func *f, int fidx, int base) {
  slot inl[MAX_INLINE_ARGS];
  void *inl_argv[MAX_INLINE_ARGS];
  slot *slots = inl;
  void **argv = inl_argv;
  if (f->nargs > MAX_INLINE_ARGS) {
    slots = lua_newuserdatauv(L, f->nargs * sizeof *slots, 0);
    argv = lua_newuserdatauv(L, f->nargs * sizeof *argv, 0);
  }
  for (size_t i = 0; i < f->nargs; i++) {
    int idx = base + (int)i;
    where w = {f->name, (int)i + 1};
    conv *c = &f->args[i];
    void *a = arg_in(L, idx, c, &slots[i], &w);
    if (a == NULL) {
      /* a struct by value from a table */
      lua_getiuservalue(L, fidx, 1);
      lua_rawgeti(L, -1, (lua_Integer)i + 1);
      lua_remove(L, -2);
      cdata *tmp = push_new_cdata(L, -1);
      init_from(L, -2, tmp->p, idx, lua_gettop(L), 0, &w);
      a = tmp->p; /* stays on the stack until we return */
    }
    argv[i] = a;
  }
  union {
    slot s;
    char b[32];
  } small;
  void *ret = &small;
  if (f->ret.sort == S_AGG) {
    lua_getiuservalue(L, fidx, 1);
    lua_rawgeti(L, -1, 0);
    lua_remove(L, -2);
    cdata *r = push_new_cdata(L, -1);
    lua_remove(L, -2);
    ret = r->p;
  }
  if (f->lib != NULL && f->lib->closed)
    return weftlua_raisef(L, WEFT_EBADHANDLE, "%s: its library is closed",
                          f->name);
  frame fr = {f->state, L, f->blocking, tls_frame};
  tls_frame = &fr;
  weft_status st;
  if (f->blocking) {
    lua_State *saved;
    weftlua_owner *o = weftlua_block_begin(L, &saved);
    st = weft_ffi_call(f->h, f->ret.sort == S_VOID ? NULL : ret, argv);
    weftlua_block_end(o, saved);
  } else {
    st = weft_ffi_call(f->h, f->ret.sort == S_VOID ? NULL : ret, argv);
  }
  tls_frame = fr.prev;
  if (st < 0)
    return weftlua_raise(L, st);
  if (f->ret.sort == S_AGG)
    return 1; /* the struct is on top */
  push_result(L, f, fidx, ret);
  return f->ret.sort == S_VOID ? 0 : 1;
}

/* Call f (at fidx) with the arguments from base to the top. */
static int call_with(lua_State *L, func *f, int fidx, int base) {
  int n = lua_gettop(L) - base + 1;
  if ((size_t)n != f->nargs) {
    if (f->variadic && (size_t)n > f->nfixed) {
      func *g = variadic_shape(L, f, fidx, base + (int)f->nfixed, n + base - 1);
      int gi = lua_gettop(L);
      return do_call(L, g, gi, base);
    }
    return weftlua_raisef(L, WEFT_EVALUE,
                          "%s: %s%d argument%s expected, "
                          "got %d",
                          f->name, f->variadic ? "at least " : "",
                          (int)f->nargs, f->nargs == 1 ? "" : "s", n);
  }
  return do_call(L, f, fidx, base);
}

/* __call of the function userdata (a callback's own function). */
static int func_call(lua_State *L) {
  return call_with(L, lua_touserdata(L, 1), 1, 2);
}

/* What Lua gets: a C closure over the function userdata, so a call is a
 * plain C function call (no __call). */
static int func_closure_call(lua_State *L) {
  return call_with(L, lua_touserdata(L, lua_upvalueindex(1)),
                   lua_upvalueindex(1), 1);
}

static void push_closure(lua_State *L) {
  lua_pushcclosure(L, func_closure_call, 1);
}

static func *to_func(lua_State *L, int idx) {
  func *f = test_ud(L, idx, &func_mt);
  if (f == NULL && lua_tocfunction(L, idx) == func_closure_call) {
    lua_getupvalue(L, idx, 1);
    f = lua_touserdata(L, -1);
    lua_pop(L, 1); /* the closure keeps it */
  }
  return f;
}

static void *function_address(lua_State *L, int idx) {
  func *f = to_func(L, idx);
  return f != NULL ? f->addr : NULL;
}

static int func_tostring(lua_State *L) {
  func *f = check_ud(L, 1, &func_mt, FUNC_MT);
  lua_pushfstring(L, "ffi.function<%s>: %p", f->name, f->addr);
  return 1;
}

/* Build a function object from explicit types: ret at ret_idx, argument
 * types in the table at args_idx ("..." last: variadic), for address. */
static func *push_func_typed(lua_State *L, void *address, int ret_idx,
                             int args_idx, int flags, int lib_idx,
                             const char *name) {
  ret_idx = lua_absindex(L, ret_idx);
  luaL_checktype(L, args_idx, LUA_TTABLE);
  args_idx = lua_absindex(L, args_idx);
  lua_Integer n = (lua_Integer)lua_rawlen(L, args_idx);
  int variadic = 0;
  if (n > 0) {
    lua_rawgeti(L, args_idx, n);
    if (lua_type(L, -1) == LUA_TSTRING &&
        strcmp(lua_tostring(L, -1), "...") == 0) {
      variadic = 1;
      n--;
    }
    lua_pop(L, 1);
  }
  lua_createtable(L, (int)n, 1);
  int tt = lua_gettop(L);
  ctype *rt = push_type(L, ret_idx, -1);
  lua_rawseti(L, tt, 0);
  weft_handle *types = lua_newuserdatauv(L, (size_t)(n + 1) * sizeof *types, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, args_idx, i);
    ctype *t = push_type(L, -1, -1);
    if (t->kind == WEFT_FFI_KIND_VOID)
      weftlua_raisef(L, WEFT_EVALUE,
                     "%s: argument %I: void is not an "
                     "argument type",
                     name, i);
    types[i - 1] = t->h;
    lua_rawseti(L, tt, i);
    lua_pop(L, 1);
  }
  weft_handle h;
  weft_status st = weft_ffi_function_new(
      address, rt->kind == WEFT_FFI_KIND_VOID ? 0 : rt->h, types, (size_t)n,
      (size_t)n, 0,
      (flags & ~FLAG_BLOCKING) | (variadic ? WEFT_FFI_CALL_VARIADIC : 0), &h);
  if (st < 0)
    return weftlua_raise(L, st), NULL;
  func *f = push_func(L, h, tt, lib_idx);
  f->variadic = variadic;
  f->blocking = (flags & FLAG_BLOCKING) != 0;
  lua_getiuservalue(L, -1, 1);
  lua_pushstring(L, name);
  f->name = lua_tostring(L, -1);
  lua_setfield(L, -2, "name");
  lua_pop(L, 1);
  return f;
}

/* Whether the value at idx is a signature string ("int abs(int)",
 * "i(i)"): it has a parenthesis, which no type name has. */
static int is_signature(lua_State *L, int idx) {
  return lua_type(L, idx) == LUA_TSTRING && strchr(lua_tostring(L, idx), '(');
}

/* lib:func(signature [, opts]) or lib:func(name, ret, {args} [, opts]) */
static int lib_func(lua_State *L) {
  lib *l = check_lib(L, 1);
  const char *s = luaL_checkstring(L, 2);
  if (!is_signature(L, 2)) {
    if (lua_isnoneornil(L, 3))
      return weftlua_raisef(L, WEFT_EVALUE,
                            "func: '%s' is not a signature (\"int abs(int)\")"
                            "; or give the result and argument types",
                            s);
    void *addr;
    weft_status st = weft_ffi_library_symbol(l->h, s, &addr);
    if (st < 0)
      return weftlua_raise(L, st);
    push_func_typed(L, addr, 3, 4, l->flags | call_flags(L, 5), 1, s);
    push_closure(L);
    return 1;
  }
  int flags = l->flags | call_flags(L, 3);
  weft_handle h;
  weft_status st =
      weft_ffi_library_function(l->h, s, flags & ~FLAG_BLOCKING, &h);
  if (st < 0)
    return weftlua_raise(L, st);
  push_func(L, h, 0, 1)->blocking = (flags & FLAG_BLOCKING) != 0;
  push_closure(L);
  return 1;
}

/* ffi.func(address, signature [, opts]) / (address, ret, {args} [, opts]) */
static int ffi_func(lua_State *L) {
  where w = {"ffi.func", 1};
  void *addr = check_pointer_value(L, 1, &w, NULL);
  if (addr == NULL)
    return weftlua_raisef(L, WEFT_EVALUE, "ffi.func: a NULL address");
  if (!is_signature(L, 2)) {
    push_func_typed(L, addr, 2, 3, call_flags(L, 4), 0, "ffi function");
    push_closure(L);
    return 1;
  }
  const char *sig = luaL_checkstring(L, 2);
  weft_handle h;
  int flags = call_flags(L, 3);
  weft_status st =
      weft_ffi_function_parse(addr, sig, flags & ~FLAG_BLOCKING, &h);
  if (st < 0)
    return weftlua_raise(L, st);
  push_func(L, h, 0, 0)->blocking = (flags & FLAG_BLOCKING) != 0;
  push_closure(L);
  return 1;
}

/* ======================================================================
 * Callbacks
 * ====================================================================== */

struct cbrec {
  atomic_int refs; /* the callback userdata's, and calls in flight */
  uint64_t id;
  void *state;
  weftlua_owner *owner;
  int fn_ref;    /* the Lua function (registry); LUA_NOREF once freed */
  int types_ref; /* table [0] ret, [i] arg ctypes (registry) */
  weft_handle closure;
  void *address;
  size_t nargs;
  conv ret;
  conv args[];
};

typedef struct cbud {
  cbrec *r; /* NULL once freed */
} cbud;

static void cbrec_unref(cbrec *r) {
  if (atomic_fetch_sub(&r->refs, 1) != 1)
    return;
  weftlua_owner_unref(r->owner);
  free(r);
}

typedef struct cbjob {
  cbrec *r;
  void *ret;
  void **args;
} cbjob;

/* In a lua_pcall on the owner's state: call the Lua function with the
 * converted arguments, store its result. */
static int cb_protected(lua_State *L) {
  cbjob *job = lua_touserdata(L, 1);
  cbrec *r = job->r;
  if (r->fn_ref == LUA_NOREF)
    return 0; /* freed while the call was queued */
  luaL_checkstack(L, (int)r->nargs + 8, "ffi callback arguments");
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->types_ref);
  int tt = lua_gettop(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->fn_ref);
  for (size_t i = 0; i < r->nargs; i++) {
    int sort = r->args[i].sort;
    void *p = job->args[i];
    if (sort >= S_BOOL && sort <= S_U64 && sort != S_BOOL) {
      lua_pushinteger(L, (lua_Integer)load_int(sort, p, 0));
    } else if (sort >= S_F32 && sort <= S_F80) {
      lua_pushnumber(L, load_double(sort, p, 0));
    } else {
      lua_rawgeti(L, tt, (lua_Integer)i + 1);
      int t = lua_gettop(L);
      push_value(L, t, p, 0, 0, 0);
      lua_remove(L, t);
    }
  }
  lua_call(L, (int)r->nargs, 1);
  int sort = r->ret.sort;
  if (sort == S_VOID)
    return 0;
  where w = {"ffi callback result", 0};
  int v = lua_gettop(L);
  if (sort > S_BOOL && sort <= S_U64) {
    store_int(sort, job->ret, check_int_value(L, v, &w), 0);
  } else if (sort >= S_F32 && sort <= S_F80) {
    store_double(sort, job->ret, check_double_value(L, v, &w), 0);
  } else {
    lua_rawgeti(L, tt, 0);
    store_value(L, lua_gettop(L), job->ret, v, 0, 0, &w);
  }
  return 0;
}

static int cb_run(lua_State *L, void *arg) {
  if (!lua_checkstack(L, 4))
    return 1;
  int top = lua_gettop(L);
  lua_pushcfunction(L, weftlua_traceback);
  lua_pushcfunction(L, cb_protected);
  lua_pushlightuserdata(L, arg);
  int st = lua_pcall(L, 1, 0, top + 1);
  if (st != LUA_OK) {
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    if (msg == NULL)
      msg = "(error object is not a string)", len = strlen(msg);
    weftlua_print_exception("ffi callback", msg, len);
    cbjob *job = arg;
    if (job->r->ret.size > 0)
      memset(job->ret, 0, job->r->ret.size); /* a partial store undone */
  }
  lua_settop(L, top);
  return st != LUA_OK;
}

/* weft's handler: any thread. */
static void cb_handler(void *arg, void *ret, void **args) {
  uint64_t id = (uint64_t)(uintptr_t)arg;
  weftlua_slot_lock();
  cbrec *r = weftlua_slot_get(id);
  if (r != NULL)
    atomic_fetch_add(&r->refs, 1);
  weftlua_slot_unlock();
  if (r == NULL)
    return; /* freed: ret stays zeroed */
  cbjob job = {r, ret, args};
  frame *fr = tls_frame;
  if (fr != NULL && fr->state == r->state && !fr->blocking)
    cb_run(fr->L, &job);
  else
    weftlua_owner_run(r->owner, cb_run, &job, "ffi callback");
  cbrec_unref(r);
}

/* Free the callback (on its state): no call reaches the function after. */
static void cb_free(lua_State *L, cbud *u) {
  cbrec *r = u->r;
  if (r == NULL)
    return;
  u->r = NULL;
  weftlua_slot_lock();
  weftlua_slot_free(r->id);
  weftlua_slot_unlock();
  luaL_unref(L, LUA_REGISTRYINDEX, r->fn_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, r->types_ref);
  r->fn_ref = LUA_NOREF;
  r->types_ref = LUA_NOREF;
  if (r->closure != 0)
    weft_close(r->closure);
  r->closure = 0;
  cbrec_unref(r);
}

static int cb_gc(lua_State *L) {
  cb_free(L, lua_touserdata(L, 1));
  return 0;
}

static cbrec *check_cb(lua_State *L, int idx) {
  cbud *u = check_ud(L, idx, &cb_mt, CB_MT);
  if (u->r == NULL)
    weftlua_raisef(L, WEFT_EBADHANDLE, "ffi: the callback was freed");
  return u->r;
}

static int cb_method_free(lua_State *L) {
  cb_free(L, check_ud(L, 1, &cb_mt, CB_MT));
  return 0;
}

static void *callback_address(lua_State *L, int idx) {
  cbud *u = test_ud(L, idx, &cb_mt);
  if (u == NULL)
    return NULL;
  if (u->r == NULL)
    weftlua_raisef(L, WEFT_EBADHANDLE, "ffi: the callback was freed");
  return u->r->address;
}

static int cb_tostring(lua_State *L) {
  cbud *u = check_ud(L, 1, &cb_mt, CB_MT);
  if (u->r == NULL)
    lua_pushliteral(L, "ffi.callback (freed)");
  else
    lua_pushfstring(L, "ffi.callback: %p", u->r->address);
  return 1;
}

/* ffi_callback(signature, fn) or (ret, {args}, fn) -> callback */
static int ffi_callback(lua_State *L) {
  int fn = lua_gettop(L);
  luaL_checktype(L, fn, LUA_TFUNCTION);
  weft_handle sig;
  int types_tab = 0;
  if (!is_signature(L, 1)) {
    /* explicit types: a signature without an address */
    func *f = push_func_typed(L, NULL, 1, 2, 0, 0, "ffi callback");
    lua_getiuservalue(L, -1, 1);
    types_tab = lua_gettop(L);
    sig = f->h;
  } else {
    const char *s = luaL_checkstring(L, 1);
    weft_status st = weft_ffi_function_parse(NULL, s, 0, &sig);
    if (st < 0)
      return weftlua_raise(L, st);
    func *f = push_func(L, sig, 0, 0);
    lua_getiuservalue(L, -1, 1);
    types_tab = lua_gettop(L);
    sig = f->h;
  }
  func *f = lua_touserdata(L, types_tab - 1);
  if (f->variadic || (f->flags & WEFT_FFI_CALL_VARIADIC))
    return weftlua_raisef(L, WEFT_EVALUE,
                          "ffi.callback: a callback cannot be variadic");
  cbud *u = lua_newuserdatauv(L, sizeof *u, 1);
  u->r = NULL;
  set_mt(L, &cb_mt);
  int ui = lua_gettop(L);
  cbrec *r = calloc(1, sizeof *r + f->nargs * sizeof(conv));
  if (r == NULL)
    return weftlua_raisef(L, -ENOMEM, "ffi.callback: not enough memory");
  atomic_init(&r->refs, 1);
  r->fn_ref = LUA_NOREF;
  r->types_ref = LUA_NOREF;
  r->owner = weftlua_owner_ref(L); /* may raise: r leaks only then */
  r->state = main_of(L);
  r->nargs = f->nargs;
  r->ret = f->ret;
  memcpy(r->args, f->args, f->nargs * sizeof(conv));
  u->r = r;
  lua_pushvalue(L, fn);
  r->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, types_tab);
  r->types_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  weftlua_slot_lock();
  r->id = weftlua_slot_new(r);
  weftlua_slot_unlock();
  if (r->id == 0)
    return weftlua_raisef(L, -ENOMEM, "ffi.callback: not enough memory");
  weft_status st = weft_ffi_closure_new(sig, cb_handler,
                                        (void *)(uintptr_t)r->id, &r->closure);
  if (st < 0) {
    r->closure = 0;
    return weftlua_raise(L, st); /* __gc frees r */
  }
  st = weft_ffi_closure_address(r->closure, &r->address);
  if (st < 0)
    return weftlua_raise(L, st);
  lua_pushvalue(L, ui);
  return 1;
}

/* cb(...): call the callback through C, at its address. */
static int cb_call(lua_State *L) {
  cbrec *r = check_cb(L, 1);
  if (lua_getiuservalue(L, 1, 1) != LUA_TUSERDATA) {
    lua_pop(L, 1);
    weft_handle h;
    weft_status st = weft_ffi_closure_function(r->closure, &h);
    if (st < 0)
      return weftlua_raise(L, st);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->types_ref);
    func *f = push_func(L, h, -1, 0);
    f->name = "ffi callback";
    lua_remove(L, -2);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 1, 1);
  }
  lua_replace(L, 1);
  return func_call(L);
}

/* ======================================================================
 * Module functions
 * ====================================================================== */

/* ffi.struct(spec) / ffi.union(spec) */
static int make_struct(lua_State *L, int is_union) {
  luaL_checktype(L, 1, LUA_TTABLE);
  int flags = is_union ? WEFT_FFI_UNION : 0;
  lua_getfield(L, 1, "union");
  if (lua_toboolean(L, -1))
    flags |= WEFT_FFI_UNION;
  lua_pop(L, 1);
  lua_getfield(L, 1, "layout");
  if (!lua_isnil(L, -1)) {
    const char *lay = luaL_checkstring(L, -1);
    if (strcmp(lay, "ms") == 0)
      flags |= WEFT_FFI_MS;
    else if (strcmp(lay, "gcc-sysv") != 0 && strcmp(lay, "gcc") != 0)
      return weftlua_raisef(L, WEFT_EVALUE,
                            "ffi.struct: layout '%s' (\"gcc-sysv\" or "
                            "\"ms\")",
                            lay);
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "endian");
  if (!lua_isnil(L, -1)) {
    const char *e = luaL_checkstring(L, -1);
    if (strcmp(e, "big") == 0)
      flags |= WEFT_FFI_BIG_ENDIAN;
    else if (strcmp(e, "little") == 0)
      flags |= WEFT_FFI_LITTLE_ENDIAN;
    else if (strcmp(e, "native") != 0)
      return weftlua_raisef(L, WEFT_EVALUE,
                            "ffi.struct: endian '%s' (\"big\", \"little\" "
                            "or \"native\")",
                            e);
  }
  lua_pop(L, 1);
  lua_getfield(L, 1, "pack");
  int pack = (int)luaL_optinteger(L, -1, 0);
  lua_getfield(L, 1, "align");
  int align = (int)luaL_optinteger(L, -1, 0);
  lua_pop(L, 2);
  weft_handle h;
  weft_status st = weft_ffi_struct_new(flags, pack, align, &h);
  if (st < 0)
    return weftlua_raise(L, st);
  /* owned by a ctype from here, so an error below closes it */
  ctype *t = push_new_ctype(L);
  t->h = h;
  int ti = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, 1, i);
    if (!lua_istable(L, -1))
      return weftlua_raisef(L, WEFT_EVALUE,
                            "ffi.struct: field %I: a table "
                            "{name, type[, bits]} expected",
                            i);
    int fi = lua_gettop(L);
    lua_rawgeti(L, fi, 1);
    const char *name = lua_tostring(L, -1);
    if (name == NULL)
      return weftlua_raisef(L, WEFT_EVALUE,
                            "ffi.struct: field %I: a name expected", i);
    lua_rawgeti(L, fi, 2);
    if (lua_isnil(L, -1))
      return weftlua_raisef(L, WEFT_EVALUE,
                            "ffi.struct: field %I (%s): a type expected", i,
                            name);
    ctype *ft = push_type(L, -1, -1);
    lua_rawgeti(L, fi, 3);
    int bits = -1;
    if (!lua_isnil(L, -1)) {
      int isint;
      lua_Integer b = lua_tointegerx(L, -1, &isint);
      if (!isint || b < 0 || b > INT_MAX)
        return weftlua_raisef(L, WEFT_EVALUE,
                              "ffi.struct: field %I (%s): bits must be an "
                              "integer >= 0",
                              i, name);
      bits = (int)b;
    }
    st = weft_ffi_struct_add(h, name, ft->h, bits);
    if (st < 0)
      return weftlua_raise(L, st);
    lua_settop(L, ti);
  }
  if ((st = weft_ffi_struct_finish(h)) < 0)
    return weftlua_raise(L, st);
  ctype_fill(L, t);
  return 1;
}

static int ffi_struct(lua_State *L) { return make_struct(L, 0); }
static int ffi_union(lua_State *L) { return make_struct(L, 1); }

/* ffi.typedef(name, type) -> ctype: `name` names the type in type
 * strings from now on ("point", "point*", "struct point[4]").  A name is
 * an identifier the engine does not know, given once. */
static int ffi_typedef(lua_State *L) {
  size_t n;
  const char *name = luaL_checklstring(L, 1, &n);
  int ok = n > 0 && !(name[0] >= '0' && name[0] <= '9');
  for (size_t i = 0; ok && i < n; i++)
    ok = is_word_char(name[i]);
  if (!ok)
    return weftlua_raisef(L, WEFT_EVALUE,
                          "ffi.typedef: '%s' is not an identifier", name);
  weft_handle h;
  if (weft_ffi_type_named(name, &h) == 0) {
    weft_close(h);
    return weftlua_raisef(L, WEFT_EVALUE, "ffi.typedef: '%s' is a C type",
                          name);
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  canonical_base(name, n, &b);
  luaL_pushresult(&b);
  if (strcmp(lua_tostring(L, -1), name) != 0)
    return weftlua_raisef(L, WEFT_EVALUE, "ffi.typedef: '%s' is a C keyword",
                          name);
  lua_pop(L, 1);
  push_type(L, 2, -1);
  int ti = lua_gettop(L);
  lua_rawgetp(L, LUA_REGISTRYINDEX, &names_key);
  if (lua_getfield(L, -1, name) != LUA_TNIL)
    return weftlua_raisef(L, WEFT_EVALUE,
                          "ffi.typedef: '%s' is defined already", name);
  lua_pop(L, 1);
  lua_pushvalue(L, ti);
  lua_setfield(L, -2, name);
  lua_settop(L, ti);
  return 1;
}

/* ffi.metatype(struct type, metatable) -> the type: its objects, and
 * pointers to them, get the metatable's __index and __newindex for names
 * that are not fields and its other metamethods (LuaJIT's ffi.metatype;
 * once per type). */
static int ffi_metatype(lua_State *L) {
  ctype *t = push_type(L, 1, -1);
  int ti = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  if (t->sort != S_AGG)
    return weftlua_raisef(L, WEFT_EVALUE,
                          "ffi.metatype: a struct or union type expected");
  if (lua_getiuservalue(L, ti, 3) != LUA_TNIL)
    return weftlua_raisef(L, WEFT_ESTATE,
                          "ffi.metatype: the type has a metatable already");
  lua_pop(L, 1);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, ti, 3);
  lua_settop(L, ti);
  return 1;
}

/* ffi.typeof(type) -> ctype */
static int ffi_typeof(lua_State *L) {
  push_type(L, 1, -1);
  return 1;
}

/* ffi.pointer(type) / ffi.array(type, n) */
static int ffi_pointer(lua_State *L) {
  push_type(L, 1, -1);
  push_pointer_to(L, -1);
  return 1;
}

static int ffi_array(lua_State *L) {
  push_type(L, 1, -1);
  push_array_of(L, -1, weftlua_checksize(L, 2, "ffi.array"));
  return 1;
}

static ctype *type_or_cdata(lua_State *L, int idx) {
  cdata *c = to_cdata(L, idx);
  if (c != NULL && c->is_value) {
    lua_getiuservalue(L, idx, 1);
    return c->t;
  }
  return push_type(L, idx, -1);
}

static int ffi_sizeof(lua_State *L) {
  ctype *t = type_or_cdata(L, 1);
  lua_pushinteger(L, (lua_Integer)t->size);
  return 1;
}

static int ffi_alignof(lua_State *L) {
  ctype *t = type_or_cdata(L, 1);
  lua_pushinteger(L, (lua_Integer)t->align);
  return 1;
}

/* ffi.offsetof(struct, field) -> offset[, bit_offset, bits] */
static int ffi_offsetof(lua_State *L) {
  ctype *t = push_type(L, 1, -1);
  luaL_checkstring(L, 2);
  if (t->fields == NULL)
    return weftlua_raisef(L, WEFT_EVALUE, "ffi.offsetof: not a struct");
  lua_Integer i = field_index(L, lua_gettop(L), 2);
  if (i < 0)
    return weftlua_raisef(L, WEFT_EVALUE, "ffi.offsetof: no field '%s'",
                          lua_tostring(L, 2));
  field *f = &t->fields[i];
  lua_pushinteger(L, (lua_Integer)f->offset);
  if (f->bits < 0)
    return 1;
  lua_pushinteger(L, f->bit_offset);
  lua_pushinteger(L, f->bits);
  lua_pushinteger(L, (lua_Integer)f->unit);
  return 4;
}

/* ffi.new(type [, init]) / ffi.new("T[?]", n [, init]) / ffi.new(size) */
static int ffi_new(lua_State *L) {
  int init = 2, nargs = lua_gettop(L);
  if (lua_type(L, 1) == LUA_TNUMBER) {
    size_t n = weftlua_checksize(L, 1, "ffi.new");
    lua_pushliteral(L, "unsigned char");
    push_type(L, -1, -1);
    push_array_of(L, -1, n);
  } else {
    lua_Integer vla = -1;
    if (lua_type(L, 1) == LUA_TSTRING && strchr(lua_tostring(L, 1), '?')) {
      if (!lua_isinteger(L, 2))
        return weftlua_raisef(L, WEFT_EVALUE,
                              "ffi.new: '%s' needs a length (an integer), "
                              "got %s",
                              lua_tostring(L, 1), luaL_typename(L, 2));
      vla = (lua_Integer)weftlua_checksize(L, 2, "ffi.new");
      init = 3;
    }
    push_type(L, 1, vla);
  }
  int ti = lua_gettop(L);
  cdata *c = push_new_cdata(L, ti);
  if (init <= nargs && !lua_isnil(L, init)) {
    where w = {"ffi.new", 0};
    init_from(L, ti, c->p, init, lua_gettop(L), 0, &w);
  }
  return 1;
}

/* An address from anything check_pointer_value takes. */
static void *arg_address(lua_State *L, int idx, const char *fn) {
  where w = {fn, idx};
  return check_pointer_value(L, idx, &w, NULL);
}

/* How many bytes the value at idx is known to hold: an object's size, a
 * string's length (with its NUL), SIZE_MAX for pointers, whose memory is
 * the caller's business as in C. */
static size_t known_size(lua_State *L, int idx) {
  cdata *c = to_cdata(L, idx);
  if (c != NULL && !c->is_value)
    return c->t->size;
  if (lua_type(L, idx) == LUA_TSTRING)
    return lua_rawlen(L, idx) + 1;
  return SIZE_MAX;
}

static void check_room(lua_State *L, int idx, size_t n, const char *fn) {
  size_t room = known_size(L, idx);
  if (n > room)
    weftlua_raisef(L, WEFT_ERANGE,
                   "%s: %I bytes at an object of %I (argument %d)", fn,
                   (lua_Integer)n, (lua_Integer)room, idx);
}

/* ffi.string(ptr [, len]): len bytes, or up to the first NUL (within the
 * object, for cdata memory). */
static int ffi_string(lua_State *L) {
  void *p = arg_address(L, 1, "ffi.string");
  int64_t len = -1;
  if (!lua_isnoneornil(L, 2)) {
    len = (int64_t)weftlua_checksize(L, 2, "ffi.string");
    check_room(L, 1, (size_t)len, "ffi.string");
  } else if (p != NULL && known_size(L, 1) != SIZE_MAX) {
    len = (int64_t)strnlen(p, known_size(L, 1));
  }
  char small[256];
  size_t n = 0;
  weft_status st = weft_ffi_string_at(p, len, small, sizeof small, &n);
  if (st == 0) {
    lua_pushlstring(L, small, n);
    return 1;
  }
  if (st != WEFT_ERANGE)
    return weftlua_raise(L, st);
  luaL_Buffer b;
  char *buf = luaL_buffinitsize(L, &b, n);
  if ((st = weft_ffi_string_at(p, len, buf, n, &n)) < 0)
    return weftlua_raise(L, st);
  luaL_pushresultsize(&b, n);
  return 1;
}

/* A destination of copy or fill: not a Lua string, whose bytes Lua shares
 * between every equal string (writing "int" would change every "int"). */
static void *dst_address(lua_State *L, int idx, const char *fn) {
  if (lua_type(L, idx) == LUA_TSTRING)
    weftlua_raisef(L, WEFT_EVALUE,
                   "%s: a Lua string cannot be written to (use "
                   "ffi.new(\"char[?]\", n))",
                   fn);
  return arg_address(L, idx, fn);
}

/* ffi.copy(dst, src, len) / ffi.copy(dst, string) (with its NUL) */
static int ffi_copy(lua_State *L) {
  void *dst = dst_address(L, 1, "ffi.copy");
  size_t n;
  void *src;
  if (lua_isnoneornil(L, 3)) {
    src = (void *)luaL_checklstring(L, 2, &n);
    n++;
  } else {
    src = arg_address(L, 2, "ffi.copy");
    n = weftlua_checksize(L, 3, "ffi.copy");
    check_room(L, 2, n, "ffi.copy");
  }
  check_room(L, 1, n, "ffi.copy");
  weft_status st = weft_ffi_memmove(dst, src, n);
  if (st < 0)
    return weftlua_raise(L, st);
  return 0;
}

/* ffi.fill(dst, len [, byte]) */
static int ffi_fill(lua_State *L) {
  void *dst = dst_address(L, 1, "ffi.fill");
  size_t n = weftlua_checksize(L, 2, "ffi.fill");
  int byte = (int)luaL_optinteger(L, 3, 0);
  check_room(L, 1, n, "ffi.fill");
  weft_status st = weft_ffi_memset(dst, byte, n);
  if (st < 0)
    return weftlua_raise(L, st);
  return 0;
}

/* ffi.cast(type, value): a pointer type gives pointer cdata, an integer
 * type the value converted, a float type a number. */
static int ffi_cast(lua_State *L) {
  ctype *t = push_type(L, 1, -1);
  int ti = lua_gettop(L);
  where w = {"ffi.cast", 2};
  switch (t->sort) {
  case S_PTR:
  case S_STR: {
    /* char* too: a pointer (ffi.string reads it), not a string, so a
     * cast never reads memory */
    void *p = check_pointer_value(L, 2, &w, NULL);
    push_ref_cdata(L, ti, p, 1, 0, 0);
    if (push_anchor(L, 2)) /* keep what it points into alive */
      lua_setiuservalue(L, -2, 2);
    return 1;
  }
  case S_BOOL:
  case S_I8:
  case S_I16:
  case S_I32:
  case S_I64:
  case S_U8:
  case S_U16:
  case S_U32:
  case S_U64: {
    int64_t v;
    if (lua_type(L, 2) == LUA_TNUMBER || lua_type(L, 2) == LUA_TBOOLEAN)
      v = check_int_value(L, 2, &w);
    else
      v = (int64_t)(intptr_t)check_pointer_value(L, 2, &w, NULL);
    slot s;
    store_int(t->sort, &s, v, 0);
    if (t->sort == S_BOOL)
      lua_pushboolean(L, v != 0);
    else
      lua_pushinteger(L, (lua_Integer)load_int(t->sort, &s, 0));
    return 1;
  }
  case S_F32:
  case S_F64:
  case S_F80: {
    slot s;
    store_double(t->sort, &s, check_double_value(L, 2, &w), 0);
    lua_pushnumber(L, load_double(t->sort, &s, 0));
    return 1;
  }
  default:
    return weftlua_raisef(L, WEFT_EVALUE,
                          "ffi.cast: cannot cast to a struct or array (cast "
                          "to a pointer to it)");
  }
}

/* ffi.addressof(cdata [, field]) -> a pointer to it */
static int ffi_addressof(lua_State *L) {
  int has_field = !lua_isnoneornil(L, 2);
  cdata *c = check_cdata(L, 1);
  if (c->is_value)
    return weftlua_raisef(L, WEFT_EVALUE,
                          "ffi.addressof: a pointer value has no address");
  lua_getiuservalue(L, 1, 1);
  void *p = c->p;
  if (has_field) {
    luaL_checkstring(L, 2);
    if (c->t->fields == NULL)
      return weftlua_raisef(L, WEFT_EVALUE, "ffi.addressof: not a struct");
    lua_Integer i = field_index(L, lua_gettop(L), 2);
    if (i < 0)
      return weftlua_raisef(L, WEFT_EVALUE, "ffi.addressof: no field '%s'",
                            lua_tostring(L, 2));
    if (c->t->fields[i].bits >= 0)
      return weftlua_raisef(L, WEFT_EVALUE, "ffi.addressof: '%s' is a bitfield",
                            lua_tostring(L, 2));
    p = (char *)p + c->t->fields[i].offset;
    push_field_type(L, lua_gettop(L), i);
  }
  push_pointer_to(L, -1);
  push_ref_cdata(L, -1, p, 1, 1, 0);
  return 1;
}

/* ffi.address(x) -> the address as an integer (weft_ffi_address_of for
 * a string's bytes) */
static int ffi_address(lua_State *L) {
  void *p;
  if (lua_type(L, 1) == LUA_TSTRING) {
    weft_status st = weft_ffi_address_of(lua_tostring(L, 1), &p);
    if (st < 0)
      return weftlua_raise(L, st);
  } else {
    p = arg_address(L, 1, "ffi.address");
  }
  lua_pushinteger(L, (lua_Integer)(intptr_t)p);
  return 1;
}

/* ffi.errno() -> the saved errno of use_errno calls; ffi.errno(v) sets it
 * and returns the old value. */
static int ffi_errno(lua_State *L) {
  int v;
  weft_status st;
  if (lua_isnoneornil(L, 1))
    st = weft_ffi_errno_get(&v);
  else
    st =
        weft_ffi_errno_set((int)weftlua_checkrange(L, 1, INT_MIN, INT_MAX), &v);
  if (st < 0)
    return weftlua_raise(L, st);
  lua_pushinteger(L, v);
  return 1;
}

/* ffi.istype(type, x) */
static int ffi_istype(lua_State *L) {
  ctype *t = push_type(L, 1, -1);
  cdata *c = to_cdata(L, 2);
  lua_pushboolean(L, c != NULL && c->t == t);
  return 1;
}

/* ffi.gc(cdata, finalizer|nil) -> cdata: finalizer(cdata) runs when the
 * cdata is collected (LuaJIT's ffi.gc: ffi.gc(malloc(n), free)).  A guard
 * userdata in the cdata's uservalue 3 holds the finalizer and the cdata;
 * when both are garbage Lua keeps what the guard holds alive for its
 * __gc, so the finalizer gets the cdata itself. */
#define GUARD_MT "weft.ffi.gc"
static char guard_key;

static int guard_gc(lua_State *L) {
  if (lua_getiuservalue(L, 1, 1) != LUA_TFUNCTION &&
      lua_type(L, -1) != LUA_TUSERDATA && lua_type(L, -1) != LUA_TTABLE)
    return 0;
  lua_getiuservalue(L, 1, 2);
  lua_call(L, 1, 0); /* an error becomes a warning, as for any __gc */
  return 0;
}

static int ffi_gc(lua_State *L) {
  check_cdata(L, 1);
  if (!lua_isnil(L, 2) && lua_type(L, 2) != LUA_TFUNCTION &&
      !luaL_getmetafield(L, 2, "__call"))
    return weftlua_raisef(L, WEFT_EVALUE,
                          "ffi.gc: a function or nil expected, got %s",
                          luaL_typename(L, 2));
  lua_settop(L, 2);
  if (lua_getiuservalue(L, 1, 3) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setiuservalue(L, 1, 3);
  }
  int keep = lua_gettop(L);
  if (lua_rawgetp(L, keep, &guard_key) == LUA_TUSERDATA) {
    /* replace the finalizer (nil: none) */
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, -2, 1);
    lua_settop(L, 1);
    return 1;
  }
  lua_pop(L, 1);
  if (lua_isnil(L, 2)) {
    lua_settop(L, 1);
    return 1;
  }
  lua_newuserdatauv(L, 1, 2);
  set_mt(L, &guard_mt);
  int g = lua_gettop(L);
  lua_pushvalue(L, 2);
  lua_setiuservalue(L, g, 1);
  lua_pushvalue(L, 1); /* kept for the finalizer, which gets it back */
  lua_setiuservalue(L, g, 2);
  lua_settop(L, g);
  lua_rawsetp(L, keep, &guard_key);
  lua_settop(L, 1);
  return 1;
}

/* ffi.isnull(p) */
static int ffi_isnull(lua_State *L) {
  if (lua_isnil(L, 1)) {
    lua_pushboolean(L, 1);
    return 1;
  }
  cdata *c = to_cdata(L, 1);
  lua_pushboolean(L, c != NULL && c->p == NULL);
  return 1;
}

static void new_mt(lua_State *L, const char *name, const void *key,
                   const luaL_Reg *meta, const luaL_Reg *methods) {
  luaL_newmetatable(L, name);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, key);
  luaL_setfuncs(L, meta, 0);
  if (methods != NULL) {
    lua_newtable(L);
    luaL_setfuncs(L, methods, 0);
    lua_setfield(L, -2, "__index");
  }
  lua_pushstring(L, name);
  lua_setfield(L, -2, "__metatable"); /* getmetatable cannot reach the C */
  lua_pop(L, 1);
}

static int ctype_index(lua_State *L) {
  ctype *t = check_ud(L, 1, &ctype_mt, CTYPE_MT);
  const char *k = luaL_checkstring(L, 2);
  if (strcmp(k, "new") == 0) {
    lua_pushcfunction(L, ffi_new);
    return 1;
  }
  if (strcmp(k, "size") == 0) {
    lua_pushinteger(L, (lua_Integer)t->size);
    return 1;
  }
  if (strcmp(k, "align") == 0) {
    lua_pushinteger(L, (lua_Integer)t->align);
    return 1;
  }
  if (strcmp(k, "ptr") == 0) {
    lua_pushcfunction(L, ffi_pointer);
    return 1;
  }
  if (strcmp(k, "name") == 0) {
    push_type_name(L, t);
    return 1;
  }
  if (strcmp(k, "handle") == 0) {
    lua_pushinteger(L, t->h);
    return 1;
  }
  return 0;
}

int weftlua_ffi_open(lua_State *L) {
  static const luaL_Reg ctype_meta[] = {{"__gc", ctype_gc},
                                        {"__tostring", ctype_tostring},
                                        {"__index", ctype_index},
                                        {"__call", ffi_new},
                                        {NULL, NULL}};
  static const luaL_Reg cdata_meta[] = {
      {"__index", cdata_index},    {"__newindex", cdata_newindex},
      {"__len", cdata_len},        {"__tostring", cdata_tostring},
      {"__eq", cdata_eq},          {"__add", cdata_add},
      {"__call", cdata_meta_call}, {"__concat", cdata_meta_concat},
      {"__lt", cdata_meta_lt},     {"__le", cdata_meta_le},
      {"__unm", cdata_meta_unm},   {"__mul", cdata_meta_mul},
      {"__div", cdata_meta_div},   {"__mod", cdata_meta_mod},
      {"__pow", cdata_meta_pow},   {"__idiv", cdata_meta_idiv},
      {"__sub", cdata_sub},        {NULL, NULL}};
  static const luaL_Reg lib_meta[] = {{"__gc", lib_close},
                                      {"__close", lib_close},
                                      {"__tostring", lib_tostring},
                                      {NULL, NULL}};
  static const luaL_Reg lib_methods[] = {{"func", lib_func},
                                         {"symbol", lib_symbol},
                                         {"close", lib_close},
                                         {NULL, NULL}};
  static const luaL_Reg func_meta[] = {{"__gc", func_gc},
                                       {"__call", func_call},
                                       {"__tostring", func_tostring},
                                       {NULL, NULL}};
  static const luaL_Reg cb_meta[] = {{"__gc", cb_gc},
                                     {"__close", cb_gc},
                                     {"__tostring", cb_tostring},
                                     {"__call", cb_call},
                                     {NULL, NULL}};
  static const luaL_Reg cb_methods[] = {{"free", cb_method_free}, {NULL, NULL}};
  static const luaL_Reg funcs[] = {{"load", ffi_load},
                                   {"func", ffi_func},
                                   {"callback", ffi_callback},
                                   {"struct", ffi_struct},
                                   {"union", ffi_union},
                                   {"typeof", ffi_typeof},
                                   {"pointer", ffi_pointer},
                                   {"array", ffi_array},
                                   {"sizeof", ffi_sizeof},
                                   {"alignof", ffi_alignof},
                                   {"offsetof", ffi_offsetof},
                                   {"new", ffi_new},
                                   {"string", ffi_string},
                                   {"copy", ffi_copy},
                                   {"fill", ffi_fill},
                                   {"cast", ffi_cast},
                                   {"addressof", ffi_addressof},
                                   {"address", ffi_address},
                                   {"errno", ffi_errno},
                                   {"istype", ffi_istype},
                                   {"isnull", ffi_isnull},
                                   {"gc", ffi_gc},
                                   {"typedef", ffi_typedef},
                                   {"metatype", ffi_metatype},
                                   {NULL, NULL}};
  new_mt(L, CTYPE_MT, &ctype_mt, ctype_meta, NULL);
  new_mt(L, CDATA_MT, &cdata_mt, cdata_meta, NULL);
  new_mt(L, LIB_MT, &lib_mt, lib_meta, lib_methods);
  new_mt(L, FUNC_MT, &func_mt, func_meta, NULL);
  new_mt(L, CB_MT, &cb_mt, cb_meta, cb_methods);
  static const luaL_Reg guard_meta[] = {{"__gc", guard_gc}, {NULL, NULL}};
  new_mt(L, GUARD_MT, &guard_mt, guard_meta, NULL);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &cache_key) != LUA_TTABLE) {
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &cache_key);
  }
  lua_pop(L, 1);
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, &names_key) != LUA_TTABLE) {
    lua_newtable(L);
    lua_rawsetp(L, LUA_REGISTRYINDEX, &names_key);
  }
  lua_pop(L, 1);
  luaL_newlib(L, funcs);
  return 1;
}
