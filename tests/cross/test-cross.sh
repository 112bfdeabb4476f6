#!/bin/sh
# test-cross.sh - run tests/cross/cross-host (a C program embedding Python
# and Lua) on the build tree's modules: Python's weft package, Lua's weft
# and weft.core, and the shared counter module.
b=$top_builddir
s=$top_srcdir
PYTHONPATH="$s/bindings/python:$b/bindings/python${PYTHONPATH:+:$PYTHONPATH}"
LUA_PATH_5_4="$s/bindings/lua/?.lua;;"
LUA_CPATH_5_4="$b/bindings/lua/?.so;$b/tests/cross/.libs/?.so;;"
CROSS_COUNTER="$b/tests/cross/.libs/counter.so"
export PYTHONPATH LUA_PATH_5_4 LUA_CPATH_5_4 CROSS_COUNTER
# The host is instrumented in sanitizer builds; the interpreters' own leaks
# at exit are not ours.
ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}"
export ASAN_OPTIONS
exec "$b/tests/cross/cross-host" "$s/tests/cross/cross.py" \
  "$s/tests/cross/cross.lua"
