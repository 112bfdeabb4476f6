/* fsig.h - the ctypes engine's signature strings (internal).
 *
 * weft__fsig_parse reads one function signature, a C declaration
 * ("size_t strlen(const char *s)", "int printf(const char *, ...)",
 * "double (double)") or a code string ("L(z)", "i(z...)", "v()"), into
 * builtin types (static: no references to take or drop).  The grammar is
 * in docs/ffi.md.  Pure: no handles, no locks, no allocation beyond the
 * result's own arrays, so it is also the libFuzzer target's entry. */
#ifndef WEFT_FSIG_H
#define WEFT_FSIG_H

#include <stddef.h>

#include "ftype.h"

/* At most this many arguments, and names this long (bytes). */
#define WEFT__FSIG_MAX_ARGS 1024
#define WEFT__FSIG_MAX_NAME 255

typedef struct weft__fsig {
  weft__ftype *ret;   /* a builtin; void's for void */
  weft__ftype **args; /* nargs builtins (malloc'd; NULL when nargs is 0) */
  size_t nargs;
  int variadic; /* "..." ended the list: all nargs are the fixed ones */
  char name[WEFT__FSIG_MAX_NAME + 1]; /* the function's name, "" if none */
} weft__fsig;

/* Parse `text` into *sig.  On success 0, and *sig must be released with
 * weft__fsig_release.  On failure a negative status recorded with
 * weft__error: WEFT_EVALUE with "<what>: column N: <reason>" and detail
 * code N (the 1-based column of the first byte that is wrong, or one past
 * the end), -ENOMEM; *sig is then left empty (nothing to release, though
 * releasing it is harmless). */
weft_status weft__fsig_parse(const char *text, weft__fsig *sig,
                             const char *what);

void weft__fsig_release(weft__fsig *sig);

#endif
