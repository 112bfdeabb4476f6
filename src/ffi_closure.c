/* ffi_closure.c - closures (in progress). */
