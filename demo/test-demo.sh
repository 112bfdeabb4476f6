#!/bin/sh
# test-demo.sh - the demo (`make demo`) runs to the end and shows what it
# says it shows.  TAP output; run by `make check` in every build, so the
# demo is also exercised under the sanitizers.
set -u
: "${top_builddir:?run me from make check}"

out=$(mktemp "${TMPDIR:-/tmp}/weft-demo.XXXXXX") || exit 99
trap 'rm -f "$out"' EXIT
"$top_builddir/demo/demo" >"$out" 2>&1
rc=$?

n=0
failed=0
check() { # check DESCRIPTION COMMAND...: one TAP point
  desc=$1
  shift
  n=$((n + 1))
  if "$@"; then
    echo "ok $n - $desc"
  else
    failed=$((failed + 1))
    echo "not ok $n - $desc"
  fi
}
shows() { grep -qF -- "$1" "$out"; }
count() { grep -c -- "$1" "$out"; }

check "the demo exits with status 0 (got $rc)" test "$rc" -eq 0
check "it prints the version" shows "weft 0."
check "no increment is lost under the Lock" \
  shows "counter = 400000 (expected 400000)"
check "every worker is joined with a result" \
  test "$(count 'joined worker-[0-9]: result')" -eq 4
check "the waiter sees the Event set" shows "[waiter] event_wait returned OK"
check "a wait on a cleared Event times out" shows "gives ETIMEDOUT"
check "the first timer fires" shows "[timer-a] fired after"
check "the cancelled timer never runs" test "$(count '\[timer-b\] fired')" -eq 0
check "the cancelled timer's result is WEFT_ECLOSED" \
  shows "its result is WEFT_ECLOSED"
check "the server answers each line in capitals, through streams" \
  shows "read back HELLO, WEFT"
check "select reports the socket, not the Event" \
  test "$(count 'select found the socket ready')" -eq 2
check "connecting to a closed port is refused, with the address" \
  shows "socket_create_connection 127.0.0.1:"
check "the SIGALRM handler runs inside the wait, not in the C handler" \
  shows "[handler] signal 14 (SIGALRM)"
check "and the wait goes on to its timeout" \
  shows "event_wait returned ETIMEDOUT after"
check "a failing handler ends the wait with EINTR" \
  shows "a 5 s wait returns EINTR"
check "find_library finds libc" shows 'find_library("c") = libc.so'
check "strlen through a signature string" \
  shows 'strlen("threads and communication") = 25'
check "div returns its struct by value" \
  shows "div(47, 5) = {quot = 9, rem = 2}"
check "qsort sorts through the closure" \
  shows "qsort with a closure as comparator: 3 7 19 21 42 88"
check "releasing an unlocked lock is WEFT_ESTATE, with a message" \
  shows "WEFT_ESTATE ("
check "and the message names the operation" \
  shows "lock_release: release of an unlocked lock"
check "the demo reaches its end" shows "Done."

if [ $failed -gt 0 ]; then
  echo "# demo output:"
  sed 's/^/#   /' "$out"
fi
echo "1..$n"
[ $failed -eq 0 ]
