/* ffi_lib.c - the ctypes engine's libraries (dlopen handles, symbols,
 * find_library) and its memory helpers for languages without pointers. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "constant.h"
#include "error.h"
#include "handle.h"

/* ---- libraries ---- */

typedef struct weft__flib {
  void *dl;
} weft__flib;

static void flib_destroy(void *obj) {
  weft__flib *l = obj;
  dlclose(l->dl);
  free(l);
}

/* No close op: nobody waits on a library; the last unpin dlcloses. */
static const weft__kind_ops flib_ops = {.name = "ffi_library",
                                        .destroy = flib_destroy};

__attribute__((constructor)) static void flib_register(void) {
  weft__kind_register(WEFT_KIND_FFI_LIBRARY, &flib_ops);
}

#define RTLD_KNOWN                                                             \
  (RTLD_NOW | RTLD_LAZY | RTLD_GLOBAL | RTLD_LOCAL | RTLD_NODELETE |           \
   RTLD_NOLOAD)

static const char *dl_text(void) {
  const char *e = dlerror();
  return e != NULL ? e : "unknown dynamic linker error";
}

WEFT_API weft_status weft_ffi_library_open(const char *path, int flags,
                                           weft_handle *out) {
  static const char what[] = "ffi_library_open";
  WEFT__CHECK_PTR(out, what);
  if (flags & ~RTLD_KNOWN)
    return weft__error(WEFT_EVALUE, 0, "%s: unknown flags 0x%x", what,
                       (unsigned)(flags & ~RTLD_KNOWN));
  if (flags == 0)
    flags = RTLD_NOW | RTLD_LOCAL;
  if ((flags & (RTLD_NOW | RTLD_LAZY)) == 0)
    flags |= RTLD_NOW;
  weft__flib *l = calloc(1, sizeof *l);
  if (l == NULL)
    return weft__errno(ENOMEM, what);
  dlerror();
  l->dl = dlopen(path, flags);
  if (l->dl == NULL) {
    free(l);
    return weft__error(WEFT_EFFI, 0, "%s: %s", what, dl_text());
  }
  weft_status st = weft__handle_new(WEFT_KIND_FFI_LIBRARY, l, out);
  if (st < 0)
    flib_destroy(l);
  return st;
}

WEFT_API weft_status weft_ffi_library_symbol(weft_handle lib, const char *name,
                                             void **address) {
  static const char what[] = "ffi_library_symbol";
  WEFT__CHECK_PTR(address, what);
  weft__flib *l = weft__handle_pin(lib, WEFT_KIND_FFI_LIBRARY, what);
  if (l == NULL)
    return WEFT_EBADHANDLE;
  weft_status st = 0;
  if (name == NULL) {
    st = weft__error(WEFT_EVALUE, 0, "%s: name is NULL", what);
  } else {
    dlerror();
    void *p = dlsym(l->dl, name);
    const char *e = dlerror();
    if (e != NULL)
      st = weft__error(-ENOENT, ENOENT, "%s: %s", what, e);
    else if (p == NULL) /* a symbol whose value is 0 (an IFUNC, an absolute) */
      st = weft__error(-ENOENT, ENOENT, "%s: %s: address 0", what, name);
    else
      *address = p;
  }
  weft__handle_unpin(lib);
  return st;
}

/* ---- find_library ---- */

#define MAX_DIRS 64

typedef struct dirlist {
  char *dirs[MAX_DIRS];
  size_t n;
} dirlist;

static void dirs_add(dirlist *d, const char *dir, size_t len) {
  if (len == 0 || d->n == MAX_DIRS)
    return;
  for (size_t i = 0; i < d->n; i++)
    if (strlen(d->dirs[i]) == len && memcmp(d->dirs[i], dir, len) == 0)
      return;
  char *s = strndup(dir, len);
  if (s != NULL)
    d->dirs[d->n++] = s;
}

static int phdr_dir(struct dl_phdr_info *info, size_t size, void *arg) {
  (void)size;
  const char *p = info->dlpi_name;
  if (p != NULL && p[0] == '/') {
    const char *slash = strrchr(p, '/');
    dirs_add(arg, p, slash == p ? 1 : (size_t)(slash - p));
  }
  return 0;
}

/* The version after "lib<name>.so." as numbers; 0 if it is not digits
 * separated by single dots. */
static int parse_version(const char *v, unsigned long *num, int max,
                         int *count) {
  int n = 0;
  while (*v != '\0') {
    if (*v < '0' || *v > '9' || n == max)
      return 0;
    char *end;
    num[n++] = strtoul(v, &end, 10);
    v = end;
    if (*v == '.') {
      v++;
      if (*v == '\0')
        return 0;
    } else if (*v != '\0') {
      return 0;
    }
  }
  *count = n;
  return n > 0;
}

static int version_cmp(const unsigned long *a, int na, const unsigned long *b,
                       int nb) {
  for (int i = 0; i < na || i < nb; i++) {
    unsigned long x = i < na ? a[i] : 0, y = i < nb ? b[i] : 0;
    if (x != y)
      return x < y ? -1 : 1;
  }
  return na - nb;
}

WEFT_API weft_status weft_ffi_find_library(const char *name, char *buf,
                                           size_t cap, size_t *len) {
  static const char what[] = "ffi_find_library";
  WEFT__CHECK_PTR(len, what);
  WEFT__CHECK_BUF(buf, cap, what);
  WEFT__CHECK_PTR(name, what);
  if (name[0] == '\0' || strchr(name, '/') != NULL || strlen(name) > 200)
    return weft__error(WEFT_EVALUE, 0, "%s: bad short name \"%s\"", what, name);
  static const char *const std_dirs[] = {"/lib/x86_64-linux-gnu",
                                         "/usr/lib/x86_64-linux-gnu",
                                         "/lib64",
                                         "/usr/lib64",
                                         "/lib",
                                         "/usr/lib"};
  dirlist d = {{0}, 0};
  for (size_t i = 0; i < sizeof std_dirs / sizeof std_dirs[0]; i++)
    dirs_add(&d, std_dirs[i], strlen(std_dirs[i]));
  dl_iterate_phdr(phdr_dir, &d);

  char prefix[256];
  int plen = snprintf(prefix, sizeof prefix, "lib%s.so", name);
  char best[512] = "";
  unsigned long best_v[16];
  int best_n = 0, plain = 0;
  for (size_t i = 0; i < d.n; i++) {
    DIR *dir = opendir(d.dirs[i]);
    if (dir == NULL)
      continue;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
      if (strncmp(e->d_name, prefix, (size_t)plen) != 0)
        continue;
      const char *rest = e->d_name + plen;
      if (rest[0] == '\0') {
        plain = 1;
        continue;
      }
      unsigned long v[16];
      int n;
      if (rest[0] != '.' || !parse_version(rest + 1, v, 16, &n))
        continue;
      if (best[0] == '\0' || version_cmp(v, n, best_v, best_n) > 0) {
        snprintf(best, sizeof best, "%s", e->d_name);
        memcpy(best_v, v, sizeof v);
        best_n = n;
      }
    }
    closedir(dir);
  }
  for (size_t i = 0; i < d.n; i++)
    free(d.dirs[i]);
  if (best[0] == '\0' && plain) {
    /* Only the development link: usable if the dynamic linker takes it
     * (libc.so, a linker script, is refused). */
    void *h = dlopen(prefix, RTLD_LAZY | RTLD_LOCAL);
    if (h != NULL) {
      dlclose(h);
      snprintf(best, sizeof best, "%s", prefix);
    }
  }
  if (best[0] == '\0')
    return weft__error(-ENOENT, ENOENT, "%s: no library \"%s\" found", what,
                       name);
  return weft__string_out(best, buf, cap, len, what);
}

/* ---- memory ---- */

/* One byte for size 0, so each allocation has its own address. */
WEFT_API weft_status weft_ffi_alloc(size_t size, void **address) {
  static const char what[] = "ffi_alloc";
  WEFT__CHECK_PTR(address, what);
  void *p = calloc(1, size ? size : 1);
  if (p == NULL)
    return weft__error(-ENOMEM, ENOMEM, "%s: cannot allocate %zu bytes", what,
                       size);
  *address = p;
  return 0;
}

WEFT_API void weft_ffi_free(void *address) { free(address); }

#define CHECK_ADDR(a, what)                                                    \
  do {                                                                         \
    if ((a) == NULL)                                                           \
      return weft__error(WEFT_EVALUE, 0, "%s: address is NULL", (what));       \
  } while (0)

static weft_status bad_code(int code, const char *what, const char *sort) {
  return weft__error(WEFT_EVALUE, 0, "%s: %d is not a %s ctypes code", what,
                     code, sort);
}

/* Memory is read and written with memcpy: the address need not be
 * aligned. */

WEFT_API weft_status weft_ffi_read_int(void *address, size_t offset, int code,
                                       int64_t *value) {
  static const char what[] = "ffi_read_int";
  WEFT__CHECK_PTR(value, what);
  CHECK_ADDR(address, what);
  const char *p = (const char *)address + offset;
  union {
    _Bool b;
    char c;
    wchar_t u;
    signed char sc;
    unsigned char uc;
    short h;
    unsigned short uh;
    int i;
    unsigned int ui;
    long l;
    unsigned long ul;
    long long q;
    unsigned long long uq;
  } v;
  switch (code) {
#define CASE(ch, field, cast)                                                  \
  case ch:                                                                     \
    memcpy(&v.field, p, sizeof v.field);                                       \
    *value = (int64_t)(cast)v.field;                                           \
    return 0;
    CASE('?', b, int64_t)
    CASE('c', c, int64_t)
    CASE('u', u, int64_t)
    CASE('b', sc, int64_t)
    CASE('B', uc, int64_t)
    CASE('h', h, int64_t)
    CASE('H', uh, int64_t)
    CASE('i', i, int64_t)
    CASE('I', ui, int64_t)
    CASE('l', l, int64_t)
    CASE('L', ul, uint64_t)
    CASE('q', q, int64_t)
    CASE('Q', uq, uint64_t)
#undef CASE
  case 'P':
  case 'z':
  case 'Z': {
    void *ptr;
    memcpy(&ptr, p, sizeof ptr);
    *value = (int64_t)(uintptr_t)ptr;
    return 0;
  }
  }
  return bad_code(code, what, "integer or pointer");
}

WEFT_API weft_status weft_ffi_write_int(void *address, size_t offset, int code,
                                        int64_t value) {
  static const char what[] = "ffi_write_int";
  CHECK_ADDR(address, what);
  char *p = (char *)address + offset;
  switch (code) {
#define CASE(ch, T)                                                            \
  case ch: {                                                                   \
    T x = (T)value;                                                            \
    memcpy(p, &x, sizeof x);                                                   \
    return 0;                                                                  \
  }
    CASE('?', _Bool)
    CASE('c', char)
    CASE('u', wchar_t)
    CASE('b', signed char)
    CASE('B', unsigned char)
    CASE('h', short)
    CASE('H', unsigned short)
    CASE('i', int)
    CASE('I', unsigned int)
    CASE('l', long)
    CASE('L', unsigned long)
    CASE('q', long long)
    CASE('Q', unsigned long long)
#undef CASE
  case 'P':
  case 'z':
  case 'Z': {
    void *ptr = (void *)(uintptr_t)value;
    memcpy(p, &ptr, sizeof ptr);
    return 0;
  }
  }
  return bad_code(code, what, "integer or pointer");
}

WEFT_API weft_status weft_ffi_read_double(void *address, size_t offset,
                                          int code, double *value) {
  static const char what[] = "ffi_read_double";
  WEFT__CHECK_PTR(value, what);
  CHECK_ADDR(address, what);
  const char *p = (const char *)address + offset;
  switch (code) {
  case 'f': {
    float f;
    memcpy(&f, p, sizeof f);
    *value = f;
    return 0;
  }
  case 'd':
    memcpy(value, p, sizeof *value);
    return 0;
  case 'g': {
    long double g;
    memcpy(&g, p, sizeof g);
    *value = (double)g;
    return 0;
  }
  }
  return bad_code(code, what, "floating-point");
}

WEFT_API weft_status weft_ffi_write_double(void *address, size_t offset,
                                           int code, double value) {
  static const char what[] = "ffi_write_double";
  CHECK_ADDR(address, what);
  char *p = (char *)address + offset;
  switch (code) {
  case 'f': {
    float f = (float)value;
    memcpy(p, &f, sizeof f);
    return 0;
  }
  case 'd':
    memcpy(p, &value, sizeof value);
    return 0;
  case 'g': {
    long double g = value;
    memcpy(p, &g, sizeof g);
    return 0;
  }
  }
  return bad_code(code, what, "floating-point");
}

WEFT_API weft_status weft_ffi_string_at(void *address, int64_t length,
                                        void *buf, size_t cap, size_t *n) {
  static const char what[] = "ffi_string_at";
  WEFT__CHECK_PTR(n, what);
  WEFT__CHECK_BUF(buf, cap, what);
  CHECK_ADDR(address, what);
  if (length < -1)
    return weft__error(WEFT_EVALUE, 0, "%s: length %lld", what,
                       (long long)length);
  size_t len = length == -1 ? strlen(address) : (size_t)length;
  *n = len;
  if (len > cap)
    return weft__error(WEFT_ERANGE, 0, "%s: %zu bytes, buffer of %zu", what,
                       len, cap);
  if (len > 0)
    memcpy(buf, address, len);
  return 0;
}

WEFT_API weft_status weft_ffi_memmove(void *dst, void *src, size_t size) {
  static const char what[] = "ffi_memmove";
  if (dst == NULL || src == NULL)
    return weft__error(WEFT_EVALUE, 0, "%s: %s is NULL", what,
                       dst == NULL ? "dst" : "src");
  memmove(dst, src, size);
  return 0;
}

WEFT_API weft_status weft_ffi_memset(void *dst, int byte, size_t size) {
  static const char what[] = "ffi_memset";
  if (dst == NULL)
    return weft__error(WEFT_EVALUE, 0, "%s: dst is NULL", what);
  memset(dst, byte, size);
  return 0;
}

/* ---- constants ---- */

static const weft__constant ffi_lib_constants[] = {
    WEFT__CONST(RTLD_NOW),      WEFT__CONST(RTLD_LAZY),
    WEFT__CONST(RTLD_GLOBAL),   WEFT__CONST(RTLD_LOCAL),
    WEFT__CONST(RTLD_NODELETE), WEFT__CONST(RTLD_NOLOAD),
};

const weft__constant_table weft__ffi_lib_constants =
    WEFT__TABLE(ffi_lib_constants);
