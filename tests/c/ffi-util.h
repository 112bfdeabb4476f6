/* ffi-util.h - what the ffi call and closure tests share: libfftest
 * loaded through weft by its path, symbols, type handles by name, the
 * weft types of fftest.h's structs, and prepared functions. */
#ifndef WEFT_FFI_UTIL_H
#define WEFT_FFI_UTIL_H

#include <stdarg.h>
#include <string.h>

#include "fftest.h"
#include "tap.h"

static weft_handle fft_lib;

/* Load libfftest ($WEFT_FFTEST_LIB, else the path built in). */
static void fft_open(void) {
  const char *path = getenv("WEFT_FFTEST_LIB");
  if (path == NULL || path[0] == '\0')
    path = WEFT_FFTEST_LIB;
  if (weft_ffi_library_open(path, 0, &fft_lib) != 0)
    BAIL("cannot load %s: %s", path, weft_last_error_message());
}

/* The address of a symbol of libfftest (bails out if missing). */
static void *sym(const char *name) {
  void *p = NULL;
  if (weft_ffi_library_symbol(fft_lib, name, &p) != 0 || p == NULL)
    BAIL("no symbol %s: %s", name, weft_last_error_message());
  return p;
}

/* A direct C call of a libfftest function through its dlsym address:
 * D(ft_add_i)(1, 2). */
#define D(name) ((__typeof__(&name))sym(#name))

/* A type handle by name; kept open for the whole test. */
static weft_handle ty(const char *name) {
  static struct {
    char name[32];
    weft_handle h;
  } cache[64];
  static int n;
  for (int i = 0; i < n; i++)
    if (strcmp(cache[i].name, name) == 0)
      return cache[i].h;
  weft_handle h = 0;
  if (weft_ffi_type_named(name, &h) != 0)
    BAIL("no type %s: %s", name, weft_last_error_message());
  if (n < 64) {
    snprintf(cache[n].name, sizeof cache[n].name, "%s", name);
    cache[n++].h = h;
  }
  return h;
}

/* T* for any T (kept open for the whole test, as ty's). */
static inline weft_handle ptr(const char *name) {
  weft_handle h = 0;
  if (weft_ffi_pointer_new(ty(name), &h) != 0)
    BAIL("pointer_new: %s", weft_last_error_message());
  return h;
}

static weft_handle arr(weft_handle t, size_t n) {
  weft_handle h = 0;
  if (weft_ffi_array_new(t, n, &h) != 0)
    BAIL("array_new: %s", weft_last_error_message());
  return h;
}

/* A finished struct (flags: WEFT_FFI_UNION ...) of n fields f0, f1, ... */
static weft_handle mkstruct(int flags, int pack, int n, ...) {
  weft_handle st = 0;
  va_list ap;
  if (weft_ffi_struct_new(flags, pack, 0, &st) != 0)
    BAIL("struct_new: %s", weft_last_error_message());
  va_start(ap, n);
  for (int i = 0; i < n; i++) {
    char name[16];
    snprintf(name, sizeof name, "f%d", i);
    if (weft_ffi_struct_add(st, name, va_arg(ap, weft_handle), -1) != 0)
      BAIL("struct_add: %s", weft_last_error_message());
  }
  va_end(ap);
  if (weft_ffi_struct_finish(st) != 0)
    BAIL("struct_finish: %s", weft_last_error_message());
  return st;
}

/* The weft type of each struct of fftest.h, by its short name. */
static weft_handle ft_type(const char *s) {
  weft_handle c = ty("char"), h = ty("short"), i = ty("int"), l = ty("long"),
              f = ty("float"), d = ty("double"), g = ty("long double");
  if (!strcmp(s, "s1"))
    return mkstruct(0, 0, 1, c);
  if (!strcmp(s, "s2"))
    return mkstruct(0, 0, 2, h, c);
  if (!strcmp(s, "sc3"))
    return mkstruct(0, 0, 1, arr(c, 3));
  if (!strcmp(s, "sc7"))
    return mkstruct(0, 0, 1, arr(c, 7));
  if (!strcmp(s, "sf1"))
    return mkstruct(0, 0, 1, f);
  if (!strcmp(s, "sf2"))
    return mkstruct(0, 0, 2, f, f);
  if (!strcmp(s, "sic"))
    return mkstruct(0, 0, 2, i, c);
  if (!strcmp(s, "sdi"))
    return mkstruct(0, 0, 2, d, i);
  if (!strcmp(s, "sfif"))
    return mkstruct(0, 0, 3, f, i, f);
  if (!strcmp(s, "sdd"))
    return mkstruct(0, 0, 2, d, d);
  if (!strcmp(s, "sdf"))
    return mkstruct(0, 0, 2, d, f);
  if (!strcmp(s, "sfffc"))
    return mkstruct(0, 0, 4, f, f, f, c);
  if (!strcmp(s, "sf3"))
    return mkstruct(0, 0, 3, f, f, f);
  if (!strcmp(s, "si5"))
    return mkstruct(0, 0, 1, arr(i, 5));
  if (!strcmp(s, "sd4"))
    return mkstruct(0, 0, 1, arr(d, 4));
  if (!strcmp(s, "sld"))
    return mkstruct(0, 0, 1, g);
  if (!strcmp(s, "snest"))
    return mkstruct(0, 0, 2, c, mkstruct(0, 0, 2, h, f));
  if (!strcmp(s, "snf"))
    return mkstruct(0, 0, 2, mkstruct(0, 0, 2, f, f), f);
  if (!strcmp(s, "s17"))
    return mkstruct(0, 0, 1, arr(c, 17));
  if (!strcmp(s, "s24"))
    return mkstruct(0, 0, 4, d, l, f, i);
  if (!strcmp(s, "s32"))
    return mkstruct(0, 0, 1, arr(f, 8));
  if (!strcmp(s, "s48"))
    return mkstruct(0, 0, 3, i, arr(d, 3), arr(c, 9));
  if (!strcmp(s, "s64"))
    return mkstruct(0, 0, 2, arr(d, 4), arr(l, 4));
  if (!strcmp(s, "s80"))
    return mkstruct(0, 0, 2, arr(d, 9), c);
  if (!strcmp(s, "ufd"))
    return mkstruct(WEFT_FFI_UNION, 0, 2, f, d);
  BAIL("no struct %s", s);
}

/* A prepared function of libfftest: fn("ft_add_i", flags, ret, n, args). */
static weft_handle fnv(const char *name, int flags, weft_handle ret, int n,
                       va_list ap) {
  weft_handle args[32], h = 0;
  for (int i = 0; i < n && i < 32; i++)
    args[i] = va_arg(ap, weft_handle);
  weft_status st =
      weft_ffi_function_new(sym(name), ret, args, (size_t)n, 0, 0, flags, &h);
  if (st != 0)
    printf("# function_new %s: %s: %s\n", name, weft_err_name(st),
           weft_last_error_message());
  return h;
}

static weft_handle fn(const char *name, int flags, weft_handle ret, int n,
                      ...) {
  va_list ap;
  va_start(ap, n);
  weft_handle h = fnv(name, flags, ret, n, ap);
  va_end(ap);
  return h;
}

/* The flags a function reports (-1 on error). */
static int fflags(weft_handle f) {
  int flags = -1, abi = -1;
  if (weft_ffi_function_flags(f, &flags, &abi) != 0)
    return -1;
  return flags;
}

#endif
