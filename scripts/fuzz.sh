#!/usr/bin/env bash
# Fuzzing with cargo-fuzz (libFuzzer) over the targets in fuzz/fuzz_targets/.
#
#   scripts/fuzz.sh [MINUTES] [TARGET...]   fuzz each target for MINUTES (default 30)
#   scripts/fuzz.sh --replay [TARGET...]    run each target over its committed corpus only;
#                                           fails on any crash. Builds unoptimised and
#                                           without AddressSanitizer (overflow checks stay
#                                           on). CI needs no fuzzing build: the test suite
#                                           runs the same properties over the same corpus
#                                           (tests/tests/it/fuzz_corpus.rs)
#   scripts/fuzz.sh --merge [TARGET...]     fold what fuzzing found into the committed
#                                           corpus: a smallest set of inputs that covers
#                                           the edges the committed ones miss
#
# Fuzzing reads fuzz/corpus/<target>/ and writes new inputs to fuzz/work/<target>/ (not
# committed); crashes are saved under fuzz/artifacts/<target>/ and logs under
# fuzz/artifacts/logs/. One summary line per target goes to stdout. Needs the nightly
# toolchain; installs cargo-fuzz if missing. Builds in fuzz/target. Set FUZZ_NICE=15 to
# run at lower priority on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."

ALL=(messages envelope import_csv import_xlsx search_query booking_form)

# Largest input --merge commits, in KiB: workbooks found by fuzzing are template-sized
# (10-20 KiB each) and the templates are in the corpus already.
merge_max_kib() {
  case "$1" in
    import_xlsx) echo 4 ;;
    *) echo 64 ;;
  esac
}

# Largest input libFuzzer makes up per target: big enough for a valid example of each
# kind (an XLSX template is ~20 KiB packed, ~100 KiB as members), small enough to stay fast.
max_len() {
  case "$1" in
    messages) echo 65536 ;;
    envelope) echo 8192 ;;
    import_csv) echo 65536 ;;
    import_xlsx) echo 262144 ;;
    search_query) echo 2048 ;;
    booking_form) echo 4096 ;;
    *) echo "fuzz.sh: unknown target $1 (targets: ${ALL[*]})" >&2; exit 2 ;;
  esac
}

mode=run
minutes=30
build_flags=()
case "${1:-}" in
  --replay) mode=replay; build_flags=(--dev --sanitizer none); shift ;;
  --merge) mode=merge; shift ;;
  --help | -h) sed -n '2,18p' "$0"; exit 0 ;;
  '' | *[!0-9]*) ;;
  *) minutes=$1; shift ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL[@]}")
for t in "${targets[@]}"; do max_len "$t" >/dev/null; done

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "fuzz.sh: the nightly Rust toolchain is not installed (rustup toolchain install nightly)" >&2
  exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz.sh: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

nice_cmd=()
[ -z "${FUZZ_NICE:-}" ] || nice_cmd=(nice -n "$FUZZ_NICE")
logs=fuzz/artifacts/logs
mkdir -p "$logs"

# One build for every target (they share their dependencies).
start=$SECONDS
if [ ${#targets[@]} -eq ${#ALL[@]} ]; then
  "${nice_cmd[@]}" cargo +nightly fuzz build "${build_flags[@]}" >"$logs/build.log" 2>&1 ||
    { tail -40 "$logs/build.log" >&2; echo "fuzz.sh: build failed (see $logs/build.log)" >&2; exit 1; }
else
  for t in "${targets[@]}"; do
    "${nice_cmd[@]}" cargo +nightly fuzz build "${build_flags[@]}" "$t" >>"$logs/build.log" 2>&1 ||
      { tail -40 "$logs/build.log" >&2; echo "fuzz.sh: build of $t failed (see $logs/build.log)" >&2; exit 1; }
  done
fi
echo "fuzz.sh: built ${targets[*]} in $((SECONDS - start)) s"

# A figure of libFuzzer's final statistics (-print_final_stats=1) in a log.
fuzz_stat() { grep -o "stat::$2: *[0-9]*" "$1" | tail -1 | grep -o '[0-9]*$' || echo 0; }
count() { find "$1" -maxdepth 1 -type f 2>/dev/null | wc -l; }

failed=0
passed_targets=0
failed_targets=0
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t
  artifacts=fuzz/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  log=$logs/$t.log
  crashes_before=$(count "$artifacts")
  start=$SECONDS
  case "$mode" in
    replay)
      # -runs=0: run every committed input once, make up nothing.
      if cargo +nightly fuzz run "${build_flags[@]}" "$t" "$corpus" -- \
        -runs=0 -max_len="$(max_len "$t")" -timeout=30 -rss_limit_mb=2048 >"$log" 2>&1; then
        echo "$t: replayed $(count "$corpus") inputs in $((SECONDS - start)) s, ok"
        passed_targets=$((passed_targets + 1))
      else
        failed=1
        failed_targets=$((failed_targets + 1))
        echo "$t: FAILED replaying $(count "$corpus") inputs ($log):"
        grep -E "panicked|ERROR: libFuzzer|SUMMARY|Test unit written" "$log" | head -5 | sed 's/^/  /'
      fi
      ;;
    run)
      work=fuzz/work/$t
      mkdir -p "$work"
      status=ok
      "${nice_cmd[@]}" cargo +nightly fuzz run "$t" "$work" "$corpus" -- \
        -max_total_time=$((minutes * 60)) -max_len="$(max_len "$t")" -timeout=30 \
        -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1 || status=crashed
      crashes=$(($(count "$artifacts") - crashes_before))
      [ "$status" = ok ] || failed=1
      echo "$t: $((SECONDS - start)) s, $(fuzz_stat "$log" number_of_executed_units) execs," \
        "$(fuzz_stat "$log" new_units_added) new corpus entries, $crashes crashes ($status; log $log)"
      ;;
    merge)
      # Set cover over edges (no hit counts, no value profile), from the inputs up to
      # merge_max_kib: keeps the committed corpus small.
      candidates=fuzz/work/merge-$t
      rm -rf "$candidates"
      mkdir -p "$candidates" "fuzz/work/$t"
      find "fuzz/work/$t" -maxdepth 1 -type f -size -"$(merge_max_kib "$t")"k \
        -exec cp {} "$candidates/" \;
      before=$(count "$corpus")
      if cargo +nightly fuzz run "$t" "$corpus" "$candidates" -- \
        -set_cover_merge=1 -use_counters=0 -use_value_profile=0 -max_len="$(max_len "$t")" \
        -timeout=30 -rss_limit_mb=2048 >"$log" 2>&1; then
        echo "$t: corpus $before -> $(count "$corpus") inputs ($(du -sb "$corpus" | cut -f1) bytes)"
      else
        failed=1
        echo "$t: merge failed ($log)"
      fi
      rm -rf "$candidates"
      ;;
  esac
done
# The closing line CI reads: one target replayed cleanly is one passed.
[ "$mode" != replay ] || echo "replay: $passed_targets passed, $failed_targets failed"
exit "$failed"
