/* test-ffi-lib.c - the ffi engine's libraries (open by name and by
 * find_library, the process namespace, symbols, dlerror text, close,
 * RTLD constants) and its memory helpers (every scalar code round trip,
 * string_at, memmove, memset, NULL addresses). */
#include <dlfcn.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <wchar.h>

#include "tap.h"

static int msg_has(const char *s) {
  const char *m = weft_last_error_message();
  return m != NULL && strstr(m, s) != NULL;
}

static void test_libraries(void) {
  weft_handle libc = 0, self = 0, byname = 0;
  char name[64];
  size_t len = 0;
  is(weft_ffi_find_library("c", name, sizeof name, &len), 0, "find_library c");
  ok(strcmp(name, "libc.so.6") == 0 && len == 9, "c is libc.so.6 (%s)", name);
  is(weft_ffi_library_open(name, 0, &byname), 0, "open the find result");
  is(weft_ffi_library_open("libc.so.6", RTLD_LAZY, &libc), 0,
     "open libc.so.6 by name");
  ok(libc > 0 && libc != byname, "two handles");
  int kind = 0;
  is(weft_handle_kind(libc, &kind), 0, "handle_kind");
  is(kind, WEFT_KIND_FFI_LIBRARY, "its kind");

  void *p = NULL;
  is(weft_ffi_library_symbol(libc, "strlen", &p), 0, "dlsym strlen");
  size_t (*fn)(const char *) = (size_t(*)(const char *))p;
  ok(p != NULL && fn("weft!") == 5, "call strlen through the address");
  void *q = NULL;
  is(weft_ffi_library_symbol(byname, "strlen", &q), 0, "again by find");
  ok(p == q, "the same address");

  is(weft_ffi_library_open(NULL, 0, &self), 0, "the process namespace");
  is(weft_ffi_library_symbol(self, "weft_ffi_library_open", &p), 0,
     "weft's own symbol");
  ok(p == (void *)weft_ffi_library_open, "is weft_ffi_library_open");

  is(weft_ffi_library_symbol(libc, "weft_no_such_symbol", &p), -ENOENT,
     "missing symbol: -ENOENT");
  ok(msg_has("ffi_library_symbol: ") && msg_has("weft_no_such_symbol"),
     "with dlerror text: %s", weft_last_error_message());
  weft_handle h = 0;
  is(weft_ffi_library_open("libweft-no-such.so", 0, &h), WEFT_EFFI,
     "missing library: WEFT_EFFI");
  ok(msg_has("libweft-no-such.so") && msg_has("No such file"),
     "with dlerror text: %s", weft_last_error_message());
  ok(h == 0, "no handle written");
  is(weft_ffi_library_open("libc.so.6", 0x40000000, &h), WEFT_EVALUE,
     "unknown flags: WEFT_EVALUE");
  is(weft_ffi_library_open("libweft-no-such.so", RTLD_NOW | RTLD_NOLOAD, &h),
     WEFT_EFFI, "NOLOAD of a library not loaded");
  weft_handle again = 0;
  is(weft_ffi_library_open("libc.so.6", RTLD_NOW | RTLD_NOLOAD, &again), 0,
     "NOLOAD of libc");

  is(weft_close(libc), 0, "close");
  is(weft_ffi_library_symbol(libc, "strlen", &p), WEFT_EBADHANDLE,
     "closed: WEFT_EBADHANDLE");
  is(weft_close(libc), WEFT_EBADHANDLE, "close twice");
  is(weft_ffi_library_symbol(byname, "strlen", &q), 0,
     "the other handle still works");
  weft_handle lock = 0;
  weft_lock_new(&lock);
  is(weft_ffi_library_symbol(lock, "strlen", &p), WEFT_EBADHANDLE,
     "a wrong-kind handle");
  weft_close(lock);
  is(weft_ffi_library_symbol(self, NULL, &p), WEFT_EVALUE, "name NULL");
  weft_close(byname);
  weft_close(self);
  weft_close(again);

  static const struct {
    const char *name;
    int64_t value;
  } rtld[] = {{"RTLD_NOW", RTLD_NOW},
              {"RTLD_LAZY", RTLD_LAZY},
              {"RTLD_GLOBAL", RTLD_GLOBAL},
              {"RTLD_LOCAL", RTLD_LOCAL},
              {"RTLD_NODELETE", RTLD_NODELETE},
              {"RTLD_NOLOAD", RTLD_NOLOAD},
              {"WEFT_KIND_FFI_LIBRARY", WEFT_KIND_FFI_LIBRARY}};
  for (size_t i = 0; i < sizeof rtld / sizeof rtld[0]; i++) {
    int64_t v = -1;
    ok(weft_constant_get(rtld[i].name, &v) == 0 && v == rtld[i].value,
       "constant %s", rtld[i].name);
  }

  static const char *const names[] = {"m", "ffi", "pthread"};
  for (size_t i = 0; i < 3; i++) {
    len = 0;
    is(weft_ffi_find_library(names[i], name, sizeof name, &len), 0,
       "find_library %s: %s", names[i], name);
    ok(strncmp(name, "lib", 3) == 0 && strstr(name, ".so") != NULL &&
           weft_ffi_library_open(name, 0, &h) == 0,
       "%s opens", name);
    weft_close(h);
  }
  is(weft_ffi_find_library("weft-made-up-name", name, sizeof name, &len),
     -ENOENT, "a made-up name: -ENOENT");
  is(weft_ffi_find_library("c", name, 3, &len), WEFT_ERANGE,
     "small buffer: WEFT_ERANGE");
  is(len, 9, "with the length");
  is(weft_ffi_find_library("", name, sizeof name, &len), WEFT_EVALUE,
     "empty name");
  is(weft_ffi_find_library("/lib/c", name, sizeof name, &len), WEFT_EVALUE,
     "a path");
}

static void test_memory(void) {
  void *m = NULL, *z = NULL, *z2 = NULL;
  is(weft_ffi_alloc(64, &m), 0, "alloc 64");
  int zero = 1;
  for (int i = 0; i < 64; i++)
    zero &= ((unsigned char *)m)[i] == 0;
  ok(zero, "zeroed");
  ok(weft_ffi_alloc(0, &z) == 0 && weft_ffi_alloc(0, &z2) == 0 && z != NULL &&
         z2 != NULL && z != z2,
     "size 0: unique non-NULL");
  weft_ffi_free(z);
  weft_ffi_free(z2);
  weft_ffi_free(NULL);

  static const struct {
    int code;
    int64_t value, want;
    size_t size;
  } ints[] = {
      {'?', 1, 1, sizeof(_Bool)},
      {'c', 'A', 'A', 1},
      {'u', 0x263a, 0x263a, sizeof(wchar_t)},
      {'b', -5, -5, 1},
      {'B', 250, 250, 1},
      {'B', 257, 1, 1},
      {'h', -30000, -30000, sizeof(short)},
      {'H', 65535, 65535, sizeof(short)},
      {'i', -2000000000, -2000000000, sizeof(int)},
      {'I', 4000000000, 4000000000, sizeof(int)},
      {'l', INT64_MIN, INT64_MIN, sizeof(long)},
      {'L', -1, -1, sizeof(long)},
      {'q', INT64_MAX, INT64_MAX, sizeof(long long)},
      {'Q', -2, -2, sizeof(long long)},
      {'P', 0x1234568, 0x1234568, sizeof(void *)},
      {'z', 0x100, 0x100, sizeof(char *)},
      {'Z', 0x200, 0x200, sizeof(wchar_t *)},
  };
  for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    memset(m, 0x55, 64);
    int64_t got = 0;
    /* offset 3: unaligned */
    ok(weft_ffi_write_int(m, 3, ints[i].code, ints[i].value) == 0 &&
           weft_ffi_read_int(m, 3, ints[i].code, &got) == 0 &&
           got == ints[i].want &&
           ((unsigned char *)m)[3 + ints[i].size] == 0x55 &&
           ((unsigned char *)m)[2] == 0x55,
       "'%c' round trip (%lld)", ints[i].code, (long long)got);
  }
  int x = 0;
  memset(m, 0, 64);
  weft_ffi_write_int(m, 8, 'i', 12345);
  memcpy(&x, (char *)m + 8, sizeof x);
  is(x, 12345, "'i' is the C int at the offset");

  static const struct {
    int code;
    double value;
  } dbl[] = {{'f', 1.5}, {'d', -2.25e300}, {'g', 3.0e-300}};
  for (size_t i = 0; i < 3; i++) {
    double got = 0;
    ok(weft_ffi_write_double(m, 5, dbl[i].code, dbl[i].value) == 0 &&
           weft_ffi_read_double(m, 5, dbl[i].code, &got) == 0 &&
           got == dbl[i].value,
       "'%c' round trip (%g)", dbl[i].code, got);
  }
  long double g = 0;
  weft_ffi_write_double(m, 16, 'g', 0.5);
  memcpy(&g, (char *)m + 16, sizeof g);
  ok(g == 0.5L, "'g' is a C long double");

  int64_t iv;
  double dv;
  is(weft_ffi_read_int(m, 0, 'd', &iv), WEFT_EVALUE, "read_int 'd'");
  is(weft_ffi_read_double(m, 0, 'i', &dv), WEFT_EVALUE, "read_double 'i'");
  is(weft_ffi_write_int(m, 0, 'x', 0), WEFT_EVALUE, "write_int 'x'");
  is(weft_ffi_write_double(m, 0, 0, 0), WEFT_EVALUE, "write_double 0");
  is(weft_ffi_read_int(NULL, 8, 'i', &iv), WEFT_EVALUE, "read_int NULL");
  ok(msg_has("ffi_read_int: address is NULL"), "message");
  is(weft_ffi_write_int(NULL, 0, 'i', 1), WEFT_EVALUE, "write_int NULL");
  is(weft_ffi_read_double(NULL, 0, 'd', &dv), WEFT_EVALUE, "read_double NULL");
  is(weft_ffi_write_double(NULL, 0, 'd', 1), WEFT_EVALUE, "write_double NULL");
  is(weft_ffi_read_int(m, 0, 'i', NULL), WEFT_EVALUE, "value NULL");

  char buf[16];
  size_t n = 0;
  memset(m, 0, 64);
  strcpy(m, "hello");
  is(weft_ffi_string_at(m, -1, buf, sizeof buf, &n), 0, "string_at -1");
  ok(n == 5 && memcmp(buf, "hello", 5) == 0, "to the NUL");
  is(weft_ffi_string_at(m, 7, buf, sizeof buf, &n), 0, "string_at 7");
  ok(n == 7 && memcmp(buf, "hello\0", 7) == 0, "NULs included");
  is(weft_ffi_string_at(m, 7, buf, 4, &n), WEFT_ERANGE, "cap too small");
  is(n, 7, "with the length");
  is(weft_ffi_string_at(m, -1, NULL, 0, &n), WEFT_ERANGE, "size query");
  is(weft_ffi_string_at(NULL, -1, buf, sizeof buf, &n), WEFT_EVALUE,
     "string_at NULL");
  is(weft_ffi_string_at(m, -2, buf, sizeof buf, &n), WEFT_EVALUE, "length -2");

  is(weft_ffi_memset(m, 'x', 10), 0, "memset");
  ok(memcmp(m, "xxxxxxxxxx", 10) == 0, "set");
  is(weft_ffi_memmove((char *)m + 2, m, 8), 0, "memmove, overlapping");
  ok(memcmp(m, "xxxxxxxxxx", 10) == 0, "moved");
  strcpy(m, "abcdef");
  weft_ffi_memmove((char *)m + 1, m, 5);
  ok(memcmp(m, "aabcde", 6) == 0, "overlap handled");
  is(weft_ffi_memset(NULL, 0, 0), WEFT_EVALUE, "memset NULL");
  is(weft_ffi_memmove(NULL, m, 1), WEFT_EVALUE, "memmove dst NULL");
  is(weft_ffi_memmove(m, NULL, 1), WEFT_EVALUE, "memmove src NULL");
  is(weft_ffi_alloc(1, NULL), WEFT_EVALUE, "alloc out NULL");
  weft_ffi_free(m);
}

int main(void) {
  test_libraries();
  test_memory();
  return done_testing();
}
