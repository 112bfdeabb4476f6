/* fuzz-stubs.c - the handle table, stubbed out for the fuzz targets.
 *
 * A fuzz target compiles the sources it exercises (src/ffi_sig.c and
 * what the parser calls: src/ffi_type.c, src/error.c) with clang's
 * instrumentation, without the rest of the library.  ffi_type.c
 * registers its handle kind at load time and has handle-making entries
 * the parser never calls; these stand in for them. */
#include "error.h"
#include "handle.h"

void weft__kind_register(int kind, const weft__kind_ops *ops) {
  (void)kind;
  (void)ops;
}

weft_status weft__handle_new(int kind, void *obj, weft_handle *out) {
  (void)kind;
  (void)obj;
  (void)out;
  return weft__error(WEFT_ENOTSUP, 0, "handles are not in the fuzz target");
}

void *weft__handle_pin(weft_handle h, int kind, const char *what) {
  (void)h;
  (void)kind;
  weft__error(WEFT_EBADHANDLE, 0, "%s: no handles in the fuzz target", what);
  return NULL;
}

void weft__handle_unpin(weft_handle h) { (void)h; }

void *weft__handle_peek(weft_handle h, int kind) {
  (void)h;
  (void)kind;
  return NULL;
}
