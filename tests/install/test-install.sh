#!/bin/sh
# test-install.sh - weft installs as a library others can build against.
#
# `make install DESTDIR=<scratch>`, then a small program (hello.c) is built
# with nothing but `pkg-config --cflags --libs weft` and run against the
# installed libweft.so.0.  TAP output.  Runs from `make check` (which
# exports top_srcdir, top_builddir, CC and SANITIZER), also in a VPATH
# build with a read-only source tree (`make distcheck`).
set -u

: "${top_srcdir:?run me from make check}" "${top_builddir:?run me from make check}"
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}

n=0
failed=0
check() { # check DESCRIPTION COMMAND...: one TAP point
  desc=$1
  shift
  n=$((n + 1))
  if "$@" >"$tmp/last.out" 2>&1; then
    echo "ok $n - $desc"
  else
    failed=$((failed + 1))
    echo "not ok $n - $desc"
    sed 's/^/#   /' "$tmp/last.out" | tail -n 20
  fi
}
skip_rest() { # skip_rest REASON NAMES...: the checks that cannot run now
  reason=$1
  shift
  for name in "$@"; do
    n=$((n + 1))
    echo "ok $n - $name # SKIP $reason"
  done
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-install.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

# A sanitized libweft needs its runtime in the program too.
case "${SANITIZER:-}" in
  asan) san_flags="-fsanitize=address,undefined" ;;
  tsan) san_flags="-fsanitize=thread" ;;
  *) san_flags="" ;;
esac

# Installing is a make of its own: drop the outer make's job server and
# command-line variables.
do_install() (
  cd "$top_builddir" &&
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make install DESTDIR="$root"
)
check "make install DESTDIR=... succeeds" do_install

pc=$(find "$root" -name weft.pc -path '*/pkgconfig/*' 2>/dev/null | head -n 1)
check "weft.pc is installed in a pkgconfig directory" test -n "$pc"
if [ -z "$pc" ]; then
  skip_rest "nothing installed" \
    "pkg-config finds weft" "weft.h is installed" \
    "libweft.so has SONAME libweft.so.0" \
    "a program compiles and links with pkg-config --cflags --libs weft" \
    "the program needs libweft.so.0" \
    "libweft.so.0 resolves to the installed copy" \
    "the program runs" "it prints the library version" \
    "it does a lock round trip"
  echo "1..$n"
  exit 1
fi

# The .pc file names the final prefix; PKG_CONFIG_SYSROOT_DIR moves its
# -I and -L into the DESTDIR tree.
PKG_CONFIG_PATH=$(dirname "$pc")
PKG_CONFIG_SYSROOT_DIR=$root
export PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
flags=$($PKG_CONFIG --cflags --libs weft 2>"$tmp/pc.err")
libdir=$(echo " $flags" | sed -n 's/.* -L\([^ ]*\).*/\1/p')
incdir=$(echo " $flags" | sed -n 's/.* -I\([^ ]*\).*/\1/p')
check "pkg-config finds weft" test -n "$libdir"
check "weft.h is installed" test -f "$incdir/weft.h"

soname() { readelf -d "$libdir/libweft.so" | grep -F 'Library soname: [libweft.so.0]'; }
check "libweft.so has SONAME libweft.so.0" soname

build() {
  # shellcheck disable=SC2086 # flag lists
  $CC -std=c99 -Wall -Wextra -Werror $san_flags \
    -o "$tmp/hello" "$top_srcdir/tests/install/hello.c" $flags
}
check "a program compiles and links with pkg-config --cflags --libs weft" build

needed() { readelf -d "$tmp/hello" | grep -F 'Shared library: [libweft.so.0]'; }
check "the program needs libweft.so.0" needed

resolved() {
  LD_LIBRARY_PATH=$libdir ldd "$tmp/hello" |
    grep -F "libweft.so.0 => $libdir/libweft.so.0"
}
check "libweft.so.0 resolves to the installed copy" resolved

run() { LD_LIBRARY_PATH=$libdir "$tmp/hello" >"$tmp/hello.out" 2>&1; }
check "the program runs" run
version=$($PKG_CONFIG --modversion weft)
check "it prints the library version ($version)" \
  grep -qx "version $version" "$tmp/hello.out"
check "it does a lock round trip" grep -qx "lock round trip ok" "$tmp/hello.out"
if [ $failed -gt 0 ]; then
  echo "# program output:"
  sed 's/^/#   /' "$tmp/hello.out" 2>/dev/null
fi

echo "1..$n"
[ $failed -eq 0 ]
