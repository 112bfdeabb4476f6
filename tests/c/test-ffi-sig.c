/* test-ffi-sig.c - signature strings, through weft_ffi_function_parse and
 * weft_ffi_library_function: every C spelling of the fundamentals,
 * qualifiers, pointers, arrays, function pointers, variadic lists, code
 * strings, names; every error with its column and reason; long and
 * hostile inputs. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "tap.h"

/* "RET NAME(ARG, ARG, ...)" from a function handle, with type names as
 * weft_ffi_type_name gives them ("unsigned long strlen(char*)"). */
static void render(weft_handle fn, char *out, size_t cap) {
  char buf[300];
  size_t len, nargs, nfixed;
  weft_handle t;
  int flags, abi;
  out[0] = 0;
  if (weft_ffi_function_restype(fn, &t) < 0 ||
      weft_ffi_type_name(t, buf, sizeof buf, &len) < 0) {
    snprintf(out, cap, "<restype: %s>", weft_last_error_message());
    return;
  }
  weft_close(t);
  size_t n = (size_t)snprintf(out, cap, "%s ", buf);
  weft_ffi_function_name(fn, buf, sizeof buf, &len);
  n += (size_t)snprintf(out + n, cap - n, "%s(", buf);
  weft_ffi_function_arg_count(fn, &nargs, &nfixed);
  for (size_t i = 0; i < nargs && n < cap; i++) {
    if (weft_ffi_function_argtype(fn, i, &t) < 0 ||
        weft_ffi_type_name(t, buf, sizeof buf, &len) < 0) {
      snprintf(out + n, cap - n, "<arg %zu: %s>", i, weft_last_error_message());
      return;
    }
    weft_close(t);
    n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? ", " : "", buf);
  }
  weft_ffi_function_flags(fn, &flags, &abi);
  if (n < cap)
    snprintf(out + n, cap - n, "%s)",
             (flags & WEFT_FFI_CALL_VARIADIC) ? (nargs ? ", ..." : "...") : "");
}

/* A signature as a test's description: long ones shortened. */
static const char *shown(const char *sig) {
  static char bufs[2][100];
  static int which;
  if (strlen(sig) < 72)
    return sig;
  char *buf = bufs[which++ % 2];
  snprintf(buf, 100, "%.40s... (%zu bytes)", sig, strlen(sig));
  return buf;
}

/* The signature parses, to `want` as render() spells it. */
static void parses(const char *sig, const char *want) {
  weft_handle fn = 0;
  char got[2048];
  weft_status st = weft_ffi_function_parse(NULL, sig, 0, &fn);
  if (st < 0) {
    ok(0, "%s parses", shown(sig));
    return;
  }
  render(fn, got, sizeof got);
  if (!ok(strcmp(got, want) == 0, "%s -> %s", shown(sig), shown(want)))
    printf("#   got %s\n", got);
  weft_close(fn);
}

/* The signature fails with WEFT_EVALUE, "ffi_function_parse: column N:
 * <reason>" and detail N. */
static void fails(const char *sig, int column, const char *reason) {
  char want[600];
  weft_handle fn = 0;
  snprintf(want, sizeof want, "ffi_function_parse: column %d: %s", column,
           reason);
  weft_status st = weft_ffi_function_parse(NULL, sig, 0, &fn);
  const char *msg = weft_last_error_message();
  int pass = st == WEFT_EVALUE && weft_last_error_detail() == column &&
             strcmp(msg, want) == 0 && fn == 0;
  if (!ok(pass, "'%s' fails: column %d: %s", shown(sig), column, reason)) {
    printf("#   got %d (%s), detail %d, message %s\n", st, weft_err_name(st),
           weft_last_error_detail(), msg);
    if (st == 0)
      weft_close(fn);
  }
}

/* The code of argument i of a parsed signature (or of the return: -1). */
static int code_of(const char *sig, long i) {
  weft_handle fn, t;
  int code = -1;
  if (weft_ffi_function_parse(NULL, sig, 0, &fn) < 0)
    return -2;
  if ((i < 0 ? weft_ffi_function_restype(fn, &t)
             : weft_ffi_function_argtype(fn, (size_t)i, &t)) == 0) {
    weft_ffi_type_code(t, &code);
    weft_close(t);
  }
  weft_close(fn);
  return code;
}

static void fundamentals(void) {
  /* Every spelling C allows, in several orders. */
  static const struct {
    const char *spelling, *name;
  } types[] = {
      {"int", "int"},
      {"signed", "int"},
      {"signed int", "int"},
      {"int signed", "int"},
      {"unsigned", "unsigned int"},
      {"unsigned int", "unsigned int"},
      {"int unsigned", "unsigned int"},
      {"char", "char"},
      {"signed char", "signed char"},
      {"char signed", "signed char"},
      {"unsigned char", "unsigned char"},
      {"char unsigned", "unsigned char"},
      {"short", "short"},
      {"short int", "short"},
      {"signed short", "short"},
      {"int short signed", "short"},
      {"unsigned short", "unsigned short"},
      {"short unsigned int", "unsigned short"},
      {"long", "long"},
      {"long int", "long"},
      {"signed long int", "long"},
      {"int long", "long"},
      {"unsigned long", "unsigned long"},
      {"long unsigned", "unsigned long"},
      {"long unsigned int", "unsigned long"},
      {"long long", "long long"},
      {"long long int", "long long"},
      {"long int long", "long long"},
      {"signed long long", "long long"},
      {"unsigned long long", "unsigned long long"},
      {"unsigned long long int", "unsigned long long"},
      {"long long unsigned", "unsigned long long"},
      {"int long unsigned long", "unsigned long long"},
      {"float", "float"},
      {"double", "double"},
      {"long double", "long double"},
      {"double long", "long double"},
      {"_Bool", "bool"},
      {"bool", "bool"},
      {"wchar_t", "wchar_t"},
      /* typedef and ctypes names: the fundamental of that size */
      {"int8_t", "signed char"},
      {"uint8_t", "unsigned char"},
      {"int16_t", "short"},
      {"uint16_t", "unsigned short"},
      {"int32_t", "int"},
      {"uint32_t", "unsigned int"},
      {"int64_t", "long"},
      {"uint64_t", "unsigned long"},
      {"int64", "long"},
      {"size_t", "unsigned long"},
      {"ssize_t", "long"},
      {"intptr_t", "long"},
      {"uintptr_t", "unsigned long"},
      {"ptrdiff_t", "long"},
      {"c_int", "int"},
      {"c_uint", "unsigned int"},
      {"c_byte", "signed char"},
      {"c_ubyte", "unsigned char"},
      {"c_longlong", "long long"},
      {"c_double", "double"},
      {"c_longdouble", "long double"},
      {"c_bool", "bool"},
      {"c_wchar", "wchar_t"},
      {"c_size_t", "unsigned long"},
      {"c_int32", "int"},
      {"c_char_p", "char*"},
      {"c_wchar_p", "wchar_t*"},
      {"c_void_p", "void*"},
  };
  for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
    char sig[200], want[200];
    snprintf(sig, sizeof sig, "%s f(%s, %s x)", types[i].spelling,
             types[i].spelling, types[i].spelling);
    snprintf(want, sizeof want, "%s f(%s, %s)", types[i].name, types[i].name,
             types[i].name);
    parses(sig, want);
  }
  parses("void f(void)", "void f()");
  is(code_of("long double f(void)", -1), 'g', "long double is code g");
  is(code_of("void f(_Bool)", 0), '?', "_Bool is code ?");
  is(code_of("void f(wchar_t)", 0), 'u', "wchar_t is code u");
  is(code_of("void f(unsigned long long)", 0), 'Q', "code Q");
  is(code_of("void f(int64_t)", 0), 'l', "int64_t is c_long on LP64 (l)");
  is(code_of("void f(void)", -1), 0, "void has code 0");
}

static void qualifiers_pointers_arrays(void) {
  parses("const int f(const volatile int, int const volatile x)",
         "int f(int, int)");
  parses("int f(volatile unsigned const long)", "int f(unsigned long)");
  parses("const char *f(const char *s)", "char* f(char*)");
  parses("char const *f(char *const s, const char *const restrict t)",
         "char* f(char*, char*)");
  parses("char *strcpy(char *__restrict d, const char *__restrict__ s)",
         "char* strcpy(char*, char*)");
  parses("wchar_t *f(const wchar_t *)", "wchar_t* f(wchar_t*)");
  parses("c_char *f(c_wchar *)", "char* f(wchar_t*)");
  parses("void *malloc(size_t)", "void* malloc(unsigned long)");
  parses("int f(char **, char ***, const char *const *argv)",
         "int f(void*, void*, void*)");
  parses("int f(int *, double *, unsigned char *, signed char *, void **)",
         "int f(void*, void*, void*, void*, void*)");
  parses("int f(long double *, _Bool *, float *restrict)",
         "int f(void*, void*, void*)");
  parses("int f(c_char_p *, c_void_p *)", "int f(void*, void*)");
  fails("struct tm *localtime_r(const time_t_x *t, struct tm *r)", 30,
        "unknown type name 'time_t_x'");
  /* struct, union and enum */
  parses("struct tm *gmtime(long *)", "void* gmtime(void*)");
  parses("int f(struct S *s, union U **u, const struct S *const c)",
         "int f(void*, void*, void*)");
  parses("enum E f(enum E e, enum E *p)", "int f(int, void*)");
  parses("int f(struct S (*cb)(struct S, union U))", "int f(void*)");
  /* arrays decay */
  parses("int f(int a[], int b[10], char c[], char d[4], wchar_t e[])",
         "int f(void*, void*, char*, char*, wchar_t*)");
  parses("int f(int a[static 10], int b[const], int c[n], int d[*])",
         "int f(void*, void*, void*, void*)");
  parses("int f(int[0x10], int[010], int[10u], int[7UL], int[2][3])",
         "int f(void*, void*, void*, void*, void*)");
  parses("int main(int argc, char *argv[])", "int main(int, void*)");
  parses("int f(char (*p)[10], char *q[3])", "int f(void*, void*)");
  parses("int f(struct S a[4])", "int f(void*)");
  /* 10^5 pointers */
  size_t n = 100000;
  char *s = malloc(n + 64);
  memcpy(s, "void ", 5);
  memset(s + 5, '*', n);
  strcpy(s + 5 + n, "f(char *)");
  parses(s, "void* f(char*)");
  strcpy(s, "int f(char ");
  memset(s + 11, '*', n);
  strcpy(s + 11 + n, ")");
  parses(s, "int f(void*)");
  free(s);
}

static void functions_and_names(void) {
  parses("size_t strlen(const char *s)", "unsigned long strlen(char*)");
  parses("size_t strlen(const char*);", "unsigned long strlen(char*)");
  parses("  size_t\tstrlen\n(\r const\vchar\f*  ) ; ",
         "unsigned long strlen(char*)");
  parses("double (double)", "double (double)");
  parses("double(double x)", "double (double)");
  parses("int f()", "int f()");
  parses("int f ( void )", "int f()");
  parses("extern int atoi(const char *);", "int atoi(char*)");
  parses("int f(register int x)", "int f(int)");
  parses("int (f)(int)", "int f(int)");
  parses("int ((f))(int)", "int f(int)");
  parses("int f(int size_t)", "int f(int)");
  parses("size_t f(size_t size)", "unsigned long f(unsigned long)");
  parses("int _under_score9(int)", "int _under_score9(int)");
  /* function pointers and function parameters are pointers */
  parses("void qsort(void *base, size_t nmemb, size_t size, int (*compar)"
         "(const void *, const void *))",
         "void qsort(void*, unsigned long, unsigned long, void*)");
  parses("int f(int (*)(int), void (*cb)(void), int g(int), char *(h)(void))",
         "int f(void*, void*, void*, void*)");
  parses("int f(int (void), int (*)(int (*)(int (*)(void))))",
         "int f(void*, void*)");
  parses("int atexit(void (*)(void))", "int atexit(void*)");
  parses("void (*signal(int sig, void (*func)(int)))(int)",
         "void* signal(int, void*)");
  parses("char *(*getter(void))(int)", "void* getter()");
  parses("int f(void (*cb)(int, ...))", "int f(void*)");
  /* variadic */
  parses("int printf(const char *restrict fmt, ...)", "int printf(char*, ...)");
  parses("int f(int, double, ...);", "int f(int, double, ...)");
  parses("int f(...)", "int f(...)");
  parses("int f( ... )", "int f(...)");
  /* names: up to 255 bytes, exactly as given */
  char sig[800], want[800], name[300];
  memset(name, 'n', 255);
  name[255] = 0;
  snprintf(sig, sizeof sig, "int %s(int %s)", name, name);
  snprintf(want, sizeof want, "int %s(int)", name);
  parses(sig, want);
  memset(name, 'n', 256);
  name[256] = 0;
  snprintf(sig, sizeof sig, "int %s(void)", name);
  fails(sig, 5, "name longer than 255 bytes");
  snprintf(sig, sizeof sig, "int f(int %s)", name);
  fails(sig, 11, "name longer than 255 bytes");
  snprintf(sig, sizeof sig, "%s f(void)", name);
  fails(sig, 1, "name longer than 255 bytes");
}

static void code_strings(void) {
  parses("i(zi)", "int (char*, int)");
  parses("v()", "void ()");
  parses("i(z...)", "int (char*, ...)");
  parses("i(...)", "int (...)");
  parses("L(z)", "unsigned long (char*)");
  parses(" d ( d d ) ", "double (double, double)");
  parses("i( z i ... )", "int (char*, int, ...)");
  parses("P(PzZ)", "void* (void*, char*, wchar_t*)");
  parses("?(cubBhHiIlLqQfdgzZP)",
         "bool (char, wchar_t, signed char, unsigned char, short, "
         "unsigned short, int, unsigned int, long, unsigned long, long long, "
         "unsigned long long, float, double, long double, char*, wchar_t*, "
         "void*)");
  static const char codes[] = "?cubBhHiIlLqQfdgzZP";
  int all = 1;
  for (const char *c = codes; *c; c++) {
    char sig[8];
    snprintf(sig, sizeof sig, "%c(%c)", *c, *c);
    all &= code_of(sig, -1) == *c && code_of(sig, 0) == *c;
  }
  ok(all, "each code as return and argument has that code");
  fails("i(zv)", 4, "a parameter cannot be void");
  fails("i(zx)", 4, "unknown type code 'x'");
  fails("i(z,i)", 4, "expected a type code, '...' or ')'");
  fails("i(..)", 3, "expected '...'");
  fails("i(.)", 3, "expected '...'");
  fails("i(...z)", 6, "'...' must be last");
  fails("i(z", 4, "unexpected end of the signature");
  fails("i(z...", 7, "unexpected end of the signature");
  fails("i(z)x", 5, "expected the end of the signature");
  fails("i(z) ;", 6, "expected the end of the signature");
  fails("i(z\x80)", 4, "unexpected byte 0x80");
  fails("v(v)", 3, "a parameter cannot be void");
}

static void errors(void) {
  fails("", 1, "empty signature");
  fails("   ", 4, "empty signature");
  fails("int f(strnig x)", 7, "unknown type name 'strnig'");
  fails("strlen(const char *)", 1, "unknown type name 'strlen'");
  fails("const f(void)", 7, "unknown type name 'f'");
  fails("double unsigned f()", 8, "'unsigned' cannot combine with 'double'");
  fails("unsigned double f()", 10, "'double' cannot combine with 'unsigned'");
  fails("void int f()", 6, "'int' cannot combine with 'void'");
  fails("int f(void int)", 12, "'int' cannot combine with 'void'");
  fails("signed unsigned f()", 8, "'unsigned' cannot combine with 'signed'");
  fails("short long f()", 7, "'long' cannot combine with 'short'");
  fails("short char f()", 7, "'char' cannot combine with 'short'");
  fails("long char f()", 6, "'char' cannot combine with 'long'");
  fails("long float f()", 6, "'float' cannot combine with 'long'");
  fails("long long double f()", 11, "'double' cannot combine with 'long long'");
  fails("long long long f()", 11, "'long' cannot combine with 'long long'");
  fails("long double long f()", 13, "'long' cannot combine with 'double'");
  fails("unsigned bool f()", 10, "'bool' cannot combine with 'unsigned'");
  fails("unsigned size_t f()", 17, "expected '('");
  fails("size_t int f()", 8, "'int' cannot combine with 'size_t'");
  fails("int struct S *f()", 5, "'struct' cannot combine with 'int'");
  fails("int int f()", 5, "duplicate 'int'");
  parses("const int const volatile f(void)", "int f()");
  fails("int f(void, int)", 7, "a parameter cannot be void");
  fails("int f(int, void)", 12, "a parameter cannot be void");
  fails("int f(void x)", 7, "a parameter cannot be void");
  fails("int f(const void)", 13, "a parameter cannot be void");
  fails("int f(int x", 12, "unexpected end of the signature");
  fails("int f(int x;", 12, "expected ')' or ','");
  fails("int f(int x y)", 13, "expected ')' or ','");
  fails("int f(int,)", 11, "expected a type name");
  fails("int f(,)", 7, "expected a type name");
  fails("int f(int, ..., int)", 15, "'...' must be last");
  fails("int f(int, ... x)", 16, "'...' must be last");
  fails("int f(int, ...", 15, "unexpected end of the signature");
  fails("int f(struct S s)", 7, "structs by value need weft_ffi_function_new");
  fails("struct S f(void)", 1, "structs by value need weft_ffi_function_new");
  fails("int f(union U)", 7, "unions by value need weft_ffi_function_new");
  fails("int f(struct *p)", 14, "expected a struct tag");
  fails("int f(enum)", 11, "expected an enum tag");
  fails("int f", 6, "unexpected end of the signature");
  fails("int f;", 6, "expected '('");
  fails("int *x", 7, "unexpected end of the signature");
  fails("int (*f)(int)", 6, "expected a function, not a pointer to one");
  fails("int f(void)[3]", 12, "a function cannot return an array");
  fails("int f(void)(int)", 12, "a function cannot return a function");
  fails("int f(int a[3](void))", 15, "an array cannot hold functions");
  fails("void f(void a[])", 14, "an array of void is not a type");
  fails("int f(int a[3)", 14, "expected ']'");
  fails("int f(int a[09])", 13, "bad array size");
  fails("int f(int a[1x])", 13, "bad array size");
  fails("int f() g", 9, "expected the end of the signature");
  fails("int f();;", 9, "expected the end of the signature");
  fails("int f(int (*cb)(int)", 21, "unexpected end of the signature");
  fails("int f(int (*cb(int) x)", 21, "expected ')'");
  fails("static int f(void)", 1, "unsupported keyword 'static'");
  fails("int return(void)", 5, "'return' is a keyword, not a name");
  fails("int f(int *const while)", 18, "'while' is a keyword, not a name");
  fails("int f(extern int)", 7, "'extern' is not allowed here");
  fails("register int f(void)", 1, "'register' is not allowed here");
  fails("int f(_Complex double)", 7, "unsupported keyword '_Complex'");
  fails("int f(int @)", 11, "unexpected character '@'");
  fails("int f(int x) {", 14, "unexpected character '{'");
  fails("int f(int ..)", 11, "expected '...'");
  fails("int f(\xc3\xa9)", 7, "unexpected byte 0xC3");
  fails("int caf\xc3\xa9(void)", 8, "unexpected byte 0xC3");
  fails("int f(int\x01)", 10, "unexpected byte 0x01");
  fails("\xff", 1, "unexpected byte 0xFF");
  fails("(int)", 1, "expected a type name");

  /* NULL and the flags check come before parsing */
  weft_handle fn = 0;
  is(weft_ffi_function_parse(NULL, NULL, 0, &fn), WEFT_EVALUE,
     "NULL signature: WEFT_EVALUE");
  is(fn, 0, "no handle");
  is(weft_ffi_function_parse(NULL, "int f(void)", 0, NULL), WEFT_EVALUE,
     "NULL out: WEFT_EVALUE");
  is(weft_ffi_library_function(0, NULL, 0, &fn), WEFT_EVALUE,
     "library_function: NULL signature: WEFT_EVALUE");
  is(weft_ffi_library_function(0, "int f(", 0, &fn), WEFT_EVALUE,
     "library_function: a bad signature");
  ok(strcmp(weft_last_error_message(),
            "ffi_library_function: column 7: unexpected end of the "
            "signature") == 0,
     "library_function: its own name in the message");
  is(weft_last_error_detail(), 7, "library_function: the column as detail");
}

static void limits(void) {
  /* 1024 parameters pass, 1025 fail at the 1025th */
  size_t cap = 16 + 2000 * 5;
  char *s = malloc(cap);
  for (int count = 1024; count <= 2000; count += 976) {
    size_t n = (size_t)snprintf(s, cap, "void f(");
    size_t col1025 = 0;
    for (int i = 0; i < count; i++) {
      if (i == 1024)
        col1025 = n + 3; /* after ", " */
      n += (size_t)snprintf(s + n, cap - n, "%sint", i ? ", " : "");
    }
    snprintf(s + n, cap - n, ")");
    weft_handle fn;
    if (count == 1024) {
      size_t nargs = 0, nfixed = 0;
      is(weft_ffi_function_parse(NULL, s, 0, &fn), 0, "1024 parameters");
      weft_ffi_function_arg_count(fn, &nargs, &nfixed);
      is(nargs, 1024, "1024 arguments");
      weft_close(fn);
    } else {
      fails(s, (int)col1025, "more than 1024 parameters");
    }
  }
  /* the same for code strings */
  memset(s, 'i', 1027); /* i( and 1025 codes */
  s[1] = '(';
  s[1027] = ')';
  s[1028] = 0;
  fails(s, 1027, "more than 1024 parameters");
  s[1026] = ')'; /* 1024 codes */
  s[1027] = 0;
  parses("i("
         "iiii"
         ")",
         "int (int, int, int, int)");
  weft_handle fn;
  size_t nargs = 0, nfixed = 0;
  is(weft_ffi_function_parse(NULL, s, 0, &fn), 0, "1024 codes");
  weft_ffi_function_arg_count(fn, &nargs, &nfixed);
  is(nargs, 1024, "1024 arguments from codes");
  weft_close(fn);
  free(s);

  /* nesting: 31 groupings inside a parameter list pass, the 32nd '(' is
   * refused (the list is the first level) */
  char buf[400];
  for (int depth = 31; depth <= 32; depth++) {
    size_t n = (size_t)snprintf(buf, sizeof buf, "int f(int ");
    for (int i = 0; i < depth; i++)
      n += (size_t)snprintf(buf + n, sizeof buf - n, "(*");
    n += (size_t)snprintf(buf + n, sizeof buf - n, "x");
    for (int i = 0; i < depth; i++)
      n += (size_t)snprintf(buf + n, sizeof buf - n, ")");
    snprintf(buf + n, sizeof buf - n, ")");
    if (depth == 31)
      parses(buf, "int f(void*)");
    else
      fails(buf, 11 + 2 * 31, "parentheses nested deeper than 32 levels");
  }
  /* through function pointers' own parameter lists */
  size_t n = (size_t)snprintf(buf, sizeof buf, "int f");
  for (int i = 0; i < 40; i++)
    n += (size_t)snprintf(buf + n, sizeof buf - n, "(int (*)");
  fails(buf, 6 + 8 * 31 + 5, "parentheses nested deeper than 32 levels");

  /* 10^5 of anything: no deep recursion, no quadratic work */
  size_t big = 100000;
  char *h = malloc(big + 64);
  strcpy(h, "int ");
  memset(h + 4, '(', big);
  h[4 + big] = 0;
  fails(h, 5 + 32, "parentheses nested deeper than 32 levels");
  strcpy(h, "int f(int x");
  memset(h + 11, ')', big);
  h[11 + big] = 0;
  fails(h, 13, "expected the end of the signature");
  memset(h, ' ', big);
  strcpy(h + big, "v()");
  parses(h, "void ()");
  memset(h, 'a', big);
  h[big] = 0;
  fails(h, 1, "name longer than 255 bytes");
  memset(h, '9', big);
  fails(h, 1, "expected a type name");
  strcpy(h, "int f(int a[");
  memset(h + 12, '1', big);
  strcpy(h + 12 + big, "])");
  fails(h, 13, "bad array size");
  memset(h, 0, big + 64);
  strcpy(h, "int f(");
  for (size_t i = 6; i + 5 < big; i += 5)
    memcpy(h + i, "int,,", 5);
  fails(h, 11, "expected a type name");
  for (size_t i = 0; i < big; i++)
    h[i] = (char)(0x80 + i % 0x80);
  h[big] = 0;
  fails(h, 1, "unexpected byte 0x80");
  free(h);
}

/* Calls through parsed signatures: the types are the ones C uses. */
static void calls(void) {
  weft_handle fn;
  const char *text = "hello";
  void *args[4];
  size_t len = 0;
  args[0] = &text;
  is(weft_ffi_library_function(0, "size_t strlen(const char *s)", 0, &fn), 0,
     "strlen from the process namespace");
  is(weft_ffi_call(fn, &len, args), 0, "call strlen");
  is(len, 5, "strlen(\"hello\") is 5");
  weft_close(fn);

  char out[16] = "";
  char *outp = out;
  size_t cap = sizeof out;
  const char *fmt = "abc";
  int n = 0, flags = 0, abi = 0;
  args[0] = &outp;
  args[1] = &cap;
  args[2] = &fmt;
  is(weft_ffi_library_function(
         0, "int snprintf(char *restrict, size_t, const char *restrict, ...)",
         0, &fn),
     0, "snprintf");
  weft_ffi_function_flags(fn, &flags, &abi);
  ok(flags & WEFT_FFI_CALL_VARIADIC, "'...' makes it variadic");
  is(weft_ffi_call(fn, &n, args), 0, "call snprintf with the fixed ones");
  is(n, 3, "snprintf returned 3");
  ok(strcmp(out, "abc") == 0, "and wrote \"abc\"");
  weft_close(fn);

  const char *num = "2.5x";
  char *end = NULL, **endp = &end;
  double r = 0;
  args[0] = &num;
  args[1] = &endp;
  is(weft_ffi_library_function(0, "double strtod(const char *, char **end)", 0,
                               &fn),
     0, "strtod");
  is(weft_ffi_call(fn, &r, args), 0, "call strtod");
  ok(r == 2.5 && end == num + 3, "strtod(\"2.5x\") is 2.5, ending at x");
  weft_close(fn);
  is(weft_ffi_library_function(0, "d(d)", 0, &fn), WEFT_EVALUE,
     "library_function: a code string has no name");
  is(weft_ffi_library_function(0, "int weft_no_such_function(void)", 0, &fn),
     -ENOENT, "library_function: no such symbol");
}

int main(void) {
  fundamentals();
  qualifiers_pointers_arrays();
  functions_and_names();
  code_strings();
  errors();
  limits();
  calls();
  return done_testing();
}
