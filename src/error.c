/* error.c - status names, texts and the thread-local last error. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "constant.h"
#include "error.h"

typedef struct weft__code {
  weft_status code;
  const char *name;
  const char *text;
} weft__code;

static const weft__code codes[] = {
    {WEFT_OK, "OK", "success"},
    {WEFT_EBADHANDLE, "WEFT_EBADHANDLE",
     "bad handle (closed, never issued or of another kind)"},
    {WEFT_ECLOSED, "WEFT_ECLOSED", "handle closed while in use"},
    {WEFT_ESTATE, "WEFT_ESTATE", "operation not valid in the current state"},
    {WEFT_EVALUE, "WEFT_EVALUE", "invalid argument value"},
    {WEFT_ERANGE, "WEFT_ERANGE", "output buffer too small"},
    {WEFT_EGAI, "WEFT_EGAI", "name resolution failed"},
    {WEFT_ESSL, "WEFT_ESSL", "TLS error"},
    {WEFT_EFFI, "WEFT_EFFI", "foreign function interface error"},
    {WEFT_ENOTSUP, "WEFT_ENOTSUP", "not supported"},
    {WEFT_EBROKEN, "WEFT_EBROKEN", "barrier broken"},
    {WEFT_EHOST, "WEFT_EHOST", "host entry lookup failed"},
};

static const weft__code *find_code(weft_status code) {
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
    if (codes[i].code == code)
      return &codes[i];
  return NULL;
}

WEFT_API const char *weft_err_name(weft_status code) {
  const weft__code *c = find_code(code);
  if (c != NULL)
    return c->name;
  if (code < 0 && code > -4096) {
    const char *n = strerrorname_np(-code);
    if (n != NULL)
      return n;
  }
  return "UNKNOWN";
}

WEFT_API const char *weft_strerror(weft_status code) {
  const weft__code *c = find_code(code);
  if (c != NULL)
    return c->text;
  if (code < 0 && code > -4096) {
    const char *t = strerrordesc_np(-code);
    if (t != NULL)
      return t;
  }
  return "unknown status";
}

/* The last error lives in thread-local storage: no allocation, no lock. */
static _Thread_local struct {
  weft_status code;
  int detail;
  char message[512];
} last;

weft_status weft__error(weft_status code, int detail, const char *fmt, ...) {
  int saved = errno;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last.message, sizeof last.message, fmt, ap);
  va_end(ap);
  last.code = code;
  last.detail = detail;
  errno = saved;
  return code;
}

weft_status weft__error_text(weft_status code, int detail, const char *what,
                             const char *text) {
  size_t cap = sizeof last.message, n = strlen(what), m = strlen(text);
  if (n > cap - 3)
    n = cap - 3;
  if (m > cap - 3 - n)
    m = cap - 3 - n;
  memcpy(last.message, what, n);
  memcpy(last.message + n, ": ", 2);
  memcpy(last.message + n + 2, text, m);
  last.message[n + 2 + m] = '\0';
  last.code = code;
  last.detail = detail;
  return code;
}

weft_status weft__errno(int err, const char *what) {
  const char *text = strerrordesc_np(err); /* NULL for an unknown number */
  if (text == NULL)
    return weft__error(-err, err, "%s: error %d", what, err);
  return weft__error(-err, err, "%s: %s", what, text);
}

weft_status weft__string_out(const char *s, char *buf, size_t cap,
                             size_t *len, const char *what) {
  WEFT__CHECK_PTR(len, what);
  size_t n = strlen(s);
  *len = n;
  if (buf == NULL || cap < n + 1)
    return weft__error(WEFT_ERANGE, 0,
                       "%s: buffer of %zu bytes is too small for %zu + 1",
                       what, buf == NULL ? (size_t)0 : cap, n);
  memcpy(buf, s, n + 1);
  return 0;
}

WEFT_API const char *weft_last_error_message(void) { return last.message; }
WEFT_API weft_status weft_last_error_code(void) { return last.code; }
WEFT_API int weft_last_error_detail(void) { return last.detail; }

static const weft__constant core_constants[] = {
    WEFT__CONST(WEFT_OK),
    WEFT__CONST(WEFT_ERR_BASE),
    WEFT__CONST(WEFT_EBADHANDLE),
    WEFT__CONST(WEFT_ECLOSED),
    WEFT__CONST(WEFT_ESTATE),
    WEFT__CONST(WEFT_EVALUE),
    WEFT__CONST(WEFT_ERANGE),
    WEFT__CONST(WEFT_EGAI),
    WEFT__CONST(WEFT_ESSL),
    WEFT__CONST(WEFT_EFFI),
    WEFT__CONST(WEFT_ENOTSUP),
    WEFT__CONST(WEFT_EBROKEN),
    WEFT__CONST(WEFT_EHOST),
    WEFT__CONST(WEFT_KIND_THREAD),
    WEFT__CONST(WEFT_KIND_TIMER),
    WEFT__CONST(WEFT_KIND_LOCK),
    WEFT__CONST(WEFT_KIND_RLOCK),
    WEFT__CONST(WEFT_KIND_CONDITION),
    WEFT__CONST(WEFT_KIND_SEMAPHORE),
    WEFT__CONST(WEFT_KIND_EVENT),
    WEFT__CONST(WEFT_KIND_LOCAL),
    WEFT__CONST(WEFT_KIND_HOOK),
    WEFT__CONST(WEFT_KIND_BARRIER),
    WEFT__CONST(WEFT_KIND_DISPATCHER),
    WEFT__CONST(WEFT_KIND_SOCKET),
    WEFT__CONST(WEFT_KIND_POLLER),
    WEFT__CONST(WEFT_KIND_STREAM),
    WEFT__CONST(WEFT_KIND_ADDRINFO),
    WEFT__CONST(WEFT_KIND_FFI_TYPE),
    WEFT__CONST(WEFT_KIND_FFI_LIBRARY),
    WEFT__CONST(WEFT_VERSION_MAJOR),
    WEFT__CONST(WEFT_VERSION_MINOR),
    WEFT__CONST(WEFT_VERSION_PATCH),
};

const weft__constant_table weft__core_constants = WEFT__TABLE(core_constants);
