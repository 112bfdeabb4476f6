/* constant.h - constants by name (internal).
 *
 * Each area defines a table and constant.c lists the tables; the order of
 * tables and of entries is the enumeration order, which is stable. */
#ifndef WEFT_CONSTANT_H
#define WEFT_CONSTANT_H

#include <stddef.h>
#include <stdint.h>

typedef struct weft__constant {
  const char *name;
  int64_t value;
} weft__constant;

typedef struct weft__constant_table {
  const weft__constant *entries;
  size_t count;
} weft__constant_table;

#define WEFT__CONST(name) { #name, (int64_t)(name) }
#define WEFT__TABLE(arr) { (arr), sizeof(arr) / sizeof((arr)[0]) }

extern const weft__constant_table weft__core_constants;
extern const weft__constant_table weft__errno_constants;
/* socket_const.c: the socket and select modules' platform constants. */
extern const weft__constant_table weft__socket_constants;
/* signal.c: SIG*, NSIG, ITIMER_*, SIG_BLOCK..., WEFT_SIG*. */
extern const weft__constant_table weft__signal_constants;
/* ffi_type.c: WEFT_FFI_KIND_* and the struct flags. */
extern const weft__constant_table weft__ffi_constants;
/* ffi_lib.c: the RTLD_* flags. */
extern const weft__constant_table weft__ffi_lib_constants;
/* ffi_call.c: WEFT_FFI_CALL_* and the FFI_* ABIs. */
extern const weft__constant_table weft__ffi_call_constants;

#endif
