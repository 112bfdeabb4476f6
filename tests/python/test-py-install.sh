#!/bin/sh
# test-py-install.sh - the Python package works from an install tree alone.
#
# `make install DESTDIR=<scratch>`, then fresh interpreters that see only
# the installed site-packages import weft from there, on each backend
# built, read the installed copy of the manifest and use the installed
# libweft (named by WEFT_LIB, or found by the loader).  TAP output.  Runs
# from `make check` (top_srcdir, top_builddir, PYTHON, SANITIZER_PRELOAD),
# also under `make distcheck`.
set -u

: "${top_srcdir:?run me from make check}" "${top_builddir:?run me from make check}"
PYTHON=${PYTHON:-python3}

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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/weft-py-install.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

# Installing is a make of its own: drop the outer make's job server and
# command-line variables.
do_install() (
  cd "$top_builddir" &&
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make install DESTDIR="$root"
)
check "make install DESTDIR=... succeeds" do_install

init=$(find "$root" -path '*/site-packages/weft/__init__.py' 2>/dev/null | head -n 1)
pkgdir=${init%/__init__.py}
sitedir=${pkgdir%/weft}
libweft=$(find "$root" -name libweft.so.0 2>/dev/null | head -n 1)
check "the package is installed in site-packages" test -n "$init"
check "the manifest is installed with it" test -f "$pkgdir/weft.manifest.json"
if [ -z "$init" ] || [ -z "$libweft" ]; then
  echo "1..$n"
  exit 1
fi

# Under TSan the library is preloaded, as in taprunner.py (its TLS is
# then static: no false reports about glibc freeing dynamic TLS).
tsan_preload=
if [ "${SANITIZER:-}" = tsan ]; then
  tsan_preload=$libweft
fi

# A child that sees nothing of the source or build tree: it runs in the
# scratch directory with only the installed site-packages on its path.
installed_python() { # installed_python BACKEND [VAR=VALUE...]
  backend=$1
  shift
  (cd "$tmp" && env -u top_srcdir -u top_builddir -u WEFT_MANIFEST \
    -u PYTHONPATH -u WEFT_LIB PYTHONPATH="$sitedir" WEFT_BACKEND="$backend" "$@" \
    SANITIZER_PRELOAD="${SANITIZER_PRELOAD:-}${tsan_preload:+ $tsan_preload}" \
    "$top_srcdir/tests/run-host" "$PYTHON" -c '
import os, sys
import weft, weft._manifest, weft.threading as threading
pkgdir = sys.argv[1]
assert os.path.dirname(weft.__file__) == pkgdir, weft.__file__
assert weft._manifest.path() == os.path.join(pkgdir, "weft.manifest.json")
assert weft.backend == sys.argv[2], weft.backend
out = []
lock = threading.Lock()
t = threading.Thread(target=lambda: out.append(lock.acquire()))
t.start()
t.join()
assert out == [True] and lock.locked()
import weft.socket as socket, weft.select as select, weft.io
a, b = socket.socketpair()
a.sendall(b"x")
assert select.select([b], [], [], 30)[0] == [b] and b.recv(1) == b"x"
a.close()
b.close()
print("ok", weft.version())
' "$pkgdir" "$backend")
}

check "ctypes: imports and runs a thread, WEFT_LIB set" \
  installed_python ctypes WEFT_LIB="$libweft"
check "ctypes: the loader finds libweft.so.0 without WEFT_LIB" \
  installed_python ctypes LD_LIBRARY_PATH="${libweft%/libweft.so.0}"
if [ -f "$top_builddir/bindings/python/weft/_weft_swig.la" ]; then
  check "the SWIG module is installed in the package" \
    sh -c 'ls "$1"/_weft_swig*.so' sh "$pkgdir"
  check "swig: imports and runs a thread, WEFT_LIB set" \
    installed_python swig WEFT_LIB="$libweft"
  check "swig: the loader finds libweft.so.0 without WEFT_LIB" \
    installed_python swig LD_LIBRARY_PATH="${libweft%/libweft.so.0}"
else
  n=$((n + 1))
  echo "ok $n - the SWIG backend # SKIP not built (no SWIG or Python headers)"
fi

echo "1..$n"
[ $failed -eq 0 ]
