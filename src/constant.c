/* constant.c - constants by name, and enumeration. */
#include <errno.h>
#include <string.h>

#include "constant.h"
#include "error.h"

/* Enumeration order: the tables in this order, each in its own order.
 * Add a module's table here. */
static const weft__constant_table *const tables[] = {
    &weft__core_constants,
    &weft__errno_constants,
    &weft__socket_constants,
    &weft__signal_constants,
    &weft__ffi_constants,
    &weft__ffi_lib_constants,
    &weft__ffi_call_constants,
};

#define NTABLES (sizeof tables / sizeof tables[0])

WEFT_API size_t weft_constant_count(void) {
  size_t n = 0;
  for (size_t t = 0; t < NTABLES; t++)
    n += tables[t]->count;
  return n;
}

static const weft__constant *constant_at(size_t index) {
  for (size_t t = 0; t < NTABLES; t++) {
    if (index < tables[t]->count)
      return &tables[t]->entries[index];
    index -= tables[t]->count;
  }
  return NULL;
}

WEFT_API weft_status weft_constant_get(const char *name, int64_t *value) {
  WEFT__CHECK_PTR(name, "constant_get");
  WEFT__CHECK_PTR(value, "constant_get");
  for (size_t t = 0; t < NTABLES; t++)
    for (size_t i = 0; i < tables[t]->count; i++)
      if (strcmp(tables[t]->entries[i].name, name) == 0) {
        *value = tables[t]->entries[i].value;
        return 0;
      }
  return weft__error(-ENOENT, 0, "constant_get: no constant named \"%s\"",
                     name);
}

WEFT_API weft_status weft_constant_at(size_t index, char *name, size_t cap,
                                      size_t *name_len, int64_t *value) {
  WEFT__CHECK_PTR(name_len, "constant_at");
  WEFT__CHECK_PTR(value, "constant_at");
  const weft__constant *c = constant_at(index);
  if (c == NULL)
    return weft__error(-ENOENT, 0, "constant_at: index %zu is past the %zu "
                       "constants", index, weft_constant_count());
  *value = c->value;
  return weft__string_out(c->name, name, cap, name_len, "constant_at");
}

WEFT_API const char *weft_version(void) {
#define WEFT__STR2(x) #x
#define WEFT__STR(x) WEFT__STR2(x)
  return WEFT__STR(WEFT_VERSION_MAJOR) "." WEFT__STR(
      WEFT_VERSION_MINOR) "." WEFT__STR(WEFT_VERSION_PATCH);
}

WEFT_API int weft_version_number(void) {
  return WEFT_VERSION_MAJOR * 10000 + WEFT_VERSION_MINOR * 100 +
         WEFT_VERSION_PATCH;
}
