#!/bin/sh
# ffi-luajit.sh - "any FFI can call it", from LuaJIT: preprocess abi/weft.h
# with `$CC -E -P -DWEFT_CDEF` and run luajit-cdef.lua on it (TAP).  Skips
# if luajit is absent.  tests/run-host preloads a sanitizer's runtime.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${CC:=cc}"
luajit=${LUAJIT:-$(command -v luajit)}
if [ -z "$luajit" ] || ! [ -x "$luajit" ]; then
  echo "1..0 # SKIP luajit not found"
  exit 0
fi
if [ -z "$WEFT_LIB" ]; then
  echo "Bail out! WEFT_LIB is not set (run through make check)"
  exit 1
fi
tmp=$(mktemp "${TMPDIR:-/tmp}/weft-cdef.XXXXXX") || exit 1
trap 'rm -f "$tmp"' EXIT
# $CC may carry flags: leave it unquoted.
if ! $CC -E -P -DWEFT_CDEF "$top_srcdir/abi/weft.h" >"$tmp"; then
  echo "not ok 1 - \$CC -E -P -DWEFT_CDEF abi/weft.h preprocesses"
  echo "1..1"
  exit 1
fi
"$top_srcdir/tests/run-host" "$luajit" "$top_srcdir/tests/abi/luajit-cdef.lua" \
  "$tmp" "$WEFT_LIB"
