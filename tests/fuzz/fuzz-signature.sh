#!/bin/sh
# fuzz-signature.sh - run the signature parser's libFuzzer target for
# $FUZZ_RUNS inputs (default 200000) from the seed corpus, with a fixed
# seed, and report it as TAP.  New inputs go to a temporary directory;
# the corpus in the source tree is only read.  Skipped when configure
# found no libFuzzer: `make check` then sets FUZZ_SIGNATURE empty (run by
# hand, the target in the build tree is used if it is there).
srcdir=${top_srcdir:-.}
builddir=${top_builddir:-.}
fuzzer=${FUZZ_SIGNATURE-$builddir/tests/fuzz/fuzz-signature}
runs=${FUZZ_RUNS:-200000}

if [ -z "$fuzzer" ] || [ ! -x "$fuzzer" ]; then
  echo "1..0 # SKIP no libFuzzer (configure needs clang with -fsanitize=fuzzer)"
  exit 0
fi

echo "1..2"
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-signature.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT INT TERM
log=$work/log

# 1: every seed alone (libFuzzer's mode for given files).
if "$fuzzer" "$srcdir"/tests/fuzz/corpus/* >"$log" 2>&1; then
  echo "ok 1 - fuzz-signature: each of the $(ls "$srcdir"/tests/fuzz/corpus | wc -l) seeds"
else
  echo "not ok 1 - fuzz-signature: each of the seeds"
  sed 's/^/# /' "$log" | tail -40
fi

# 2: the fuzzing run.  -seed fixes the mutation sequence; leaks, reads
# past the NUL and broken promises abort the run with a crash file.
mkdir "$work/corpus" "$work/crash"
if "$fuzzer" -runs="$runs" -seed=1 -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -dict="$srcdir/tests/fuzz/signature.dict" \
    -artifact_prefix="$work/crash/" -print_final_stats=1 \
    "$work/corpus" "$srcdir/tests/fuzz/corpus" >"$log" 2>&1; then
  done_line=$(grep '^Done ' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
  echo "ok 2 - fuzz-signature: ${done_line:-done} ($cov), nothing crashed"
else
  echo "not ok 2 - fuzz-signature: a crash or a broken check after at most $runs runs"
  for f in "$work"/crash/*; do
    [ -f "$f" ] && echo "#   input (hex): $(od -An -tx1 "$f" | tr -d '\n' | cut -c1-600)"
  done
  sed 's/^/# /' "$log" | tail -60
fi
