/* error.h - status codes and the thread-local last error (internal). */
#ifndef WEFT_ERROR_H
#define WEFT_ERROR_H

#include "weft.h"

/* Record a failure on this thread and return `code`, so that an entry can
 * end with `return weft__error(...)`.  `detail` is the errno / EAI /
 * OpenSSL code (0 if none).  The message is printf-formatted; by
 * convention it starts with the operation ("lock_release: ..."). */
weft_status weft__error(weft_status code, int detail, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* weft__error(code, detail, "%s: %s", what, text), without printf: for
 * failures that are routine on a hot path (-EAGAIN in non-blocking
 * mode). */
weft_status weft__error_text(weft_status code, int detail, const char *what,
                             const char *text);

/* weft__error(-err, err, "what: strerror") for an OS error number. */
weft_status weft__errno(int err, const char *what);

/* The common argument check: a NULL pointer argument. */
#define WEFT__CHECK_PTR(p, what)                                            \
  do {                                                                      \
    if ((p) == NULL)                                                        \
      return weft__error(WEFT_EVALUE, 0, "%s: " #p " is NULL", (what));    \
  } while (0)

/* An output buffer: NULL with cap > 0 is WEFT_EVALUE (NULL with cap 0
 * asks for the size, which the call answers with WEFT_ERANGE).  Checked
 * first, with the other arguments, before any work. */
#define WEFT__CHECK_BUF(buf, cap, what)                                     \
  do {                                                                      \
    if ((buf) == NULL && (cap) > 0)                                         \
      return weft__error(WEFT_EVALUE, 0, "%s: " #buf " is NULL with " #cap  \
                         " %zu", (what), (size_t)(cap));                    \
  } while (0)

/* Copy a NUL-terminated string out by the ABI's (buf, cap, len) rule. */
weft_status weft__string_out(const char *s, char *buf, size_t cap,
                             size_t *len, const char *what);

#endif
