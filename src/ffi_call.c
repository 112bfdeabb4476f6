/* ffi_call.c - prepared calls (in progress). */
