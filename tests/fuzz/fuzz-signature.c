/* fuzz-signature.c - the libFuzzer target for signature strings.
 *
 * Each input, NUL-terminated, goes to weft__fsig_parse (src/ffi_sig.c,
 * compiled into this program with clang's fuzzer, address and undefined
 * behaviour instrumentation: see tests/fuzz/fuzz.am).  Besides crashes,
 * leaks and reads past the NUL, which the sanitizers catch, it checks
 * what the parser promises and aborts when a promise is broken:
 *   - success: a return type, nargs at most WEFT__FSIG_MAX_ARGS builtin
 *     types (void among them only as the return type), a NUL-terminated
 *     name of at most WEFT__FSIG_MAX_NAME bytes that occurs in the text;
 *   - failure: WEFT_EVALUE (or -ENOMEM), *sig left empty, the message
 *     "fuzz: column N: <reason>" with N the detail code, 1 <= N <= the
 *     length + 1;
 *   - the same text parses the same way twice (no hidden state). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fsig.h"

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "fuzz-signature: check failed: %s (line %d)\n", #cond,   \
              __LINE__);                                                       \
      abort();                                                                 \
    }                                                                          \
  } while (0)

static int is_empty(const weft__fsig *sig) {
  return sig->ret == NULL && sig->args == NULL && sig->nargs == 0 &&
         sig->variadic == 0 && sig->name[0] == 0;
}

static void check_success(const char *text, const weft__fsig *sig) {
  CHECK(sig->ret != NULL);
  CHECK(sig->nargs <= WEFT__FSIG_MAX_ARGS);
  CHECK((sig->nargs == 0) == (sig->args == NULL));
  for (size_t i = 0; i < sig->nargs; i++) {
    CHECK(sig->args[i] != NULL);
    CHECK(sig->args[i]->builtin);
    CHECK(sig->args[i]->kind != WEFT_FFI_KIND_VOID);
  }
  CHECK(sig->ret->builtin);
  size_t n = strnlen(sig->name, sizeof sig->name);
  CHECK(n <= WEFT__FSIG_MAX_NAME);
  CHECK(n == 0 || strstr(text, sig->name) != NULL);
}

static void check_failure(weft_status st, size_t len, const weft__fsig *sig) {
  CHECK(st == WEFT_EVALUE || st == -ENOMEM);
  CHECK(is_empty(sig));
  if (st != WEFT_EVALUE)
    return;
  int column = weft_last_error_detail();
  CHECK(column >= 1 && (size_t)column <= len + 1);
  char prefix[64];
  snprintf(prefix, sizeof prefix, "fuzz: column %d: ", column);
  const char *msg = weft_last_error_message();
  CHECK(strncmp(msg, prefix, strlen(prefix)) == 0);
  CHECK(msg[strlen(prefix)] != 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *text = malloc(size + 1);
  if (text == NULL)
    return 0;
  memcpy(text, data, size);
  text[size] = 0;
  size_t len = strlen(text); /* an embedded NUL ends the signature */

  weft__fsig a, b;
  weft_status sa = weft__fsig_parse(text, &a, "fuzz");
  if (sa == 0)
    check_success(text, &a);
  else
    check_failure(sa, len, &a);
  int column = weft_last_error_detail();

  weft_status sb = weft__fsig_parse(text, &b, "fuzz");
  CHECK(sa == sb);
  if (sa == 0) {
    CHECK(a.ret == b.ret && a.nargs == b.nargs && a.variadic == b.variadic);
    CHECK(strcmp(a.name, b.name) == 0);
    for (size_t i = 0; i < a.nargs; i++)
      CHECK(a.args[i] == b.args[i]);
  } else if (sa == WEFT_EVALUE) {
    CHECK(weft_last_error_detail() == column);
  }
  weft__fsig_release(&a);
  weft__fsig_release(&b);
  CHECK(is_empty(&a));
  free(text);
  return 0;
}
