/* ffi_sig.c - signature strings (stub until the parser lands). */
#include <string.h>

#include "error.h"
#include "fsig.h"

weft_status weft__fsig_parse(const char *text, weft__fsig *sig,
                             const char *what) {
  (void)text;
  memset(sig, 0, sizeof *sig);
  return weft__error(WEFT_EVALUE, 1, "%s: column 1: not implemented", what);
}

void weft__fsig_release(weft__fsig *sig) { (void)sig; }
