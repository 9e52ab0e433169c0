#!/usr/bin/env bash
# Builds WardenCore's libFuzzer targets (Fuzz/Package.swift) with ASan and runs each for
# FUZZ_SECONDS, then merges what it found into the kept corpus Fuzz/Corpus/TARGET/:
# an input is kept only if it reaches code the rest of the corpus does not (-merge=1), so
# the repository holds a small corpus rather than everything the fuzzer tried.
#
#   scripts/fuzz.sh                      # every target, FUZZ_SECONDS each (default 60)
#   FUZZ_SECONDS=300 scripts/fuzz.sh FuzzNormalizer
#   scripts/fuzz.sh --reproduce FuzzPostParser crash-file   # run one input, show the trap
#   FUZZ_SECONDS=0 scripts/fuzz.sh     # only re-minimise the kept corpora
#
# A crash leaves its input in Fuzz/.build/crashes/TARGET/ and makes the script exit 1;
# turn it into a test in Tests/WardenCoreTests/FuzzRegressionTests.swift.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_TARGET="${FUZZ_SECONDS:-60}"
ALL_TARGETS=(FuzzPostParser FuzzNormalizer FuzzRuleLoader FuzzTemplate FuzzJudge)
BIN=Fuzz/.build/release
SWIFT="${SWIFT:-swift}"

build() {
  # Each target's main.swift hands its test function to libFuzzer's LLVMFuzzerRunDriver:
  # SwiftPM's entry-point renaming (main=MODULE_main) keeps libFuzzer's own main from
  # linking, which is what breaks the usual `-parse-as-library` recipe on this toolchain.
  "$SWIFT" build -c release --package-path Fuzz -Xswiftc -sanitize=fuzzer,address >&2
}

# Options every run shares: the target's dictionary, a per-input timeout (a hang is a bug
# too: PCRE2 limits and the iterative JSON skipper exist to prevent them), and Swift's
# runtime caches are not leaks.
options() {
  local target=$1
  local opts=(-timeout=10 -rss_limit_mb=4096 -print_final_stats=1)
  [ -f "Fuzz/Dictionaries/$target.dict" ] && opts+=("-dict=Fuzz/Dictionaries/$target.dict")
  # Rule files are longer than posts; give the loader room for a whole guideline.
  [ "$target" = FuzzRuleLoader ] && opts+=(-max_len=8192)
  printf '%s\n' "${opts[@]}"
}
# Rebuilds $corpus as its hand-written seeds (any name that is not a 40-digit hash) plus the
# fewest inputs, from the corpus and from $new, that reach every coverage edge. Edges only
# (-use_counters=0): keeping every hit-count variant too made the corpus 5x larger (1.0 MB
# against 170 KB over the four targets) for inputs the fuzzer re-finds in seconds.
minimise() {
  local target=$1 corpus=$2 new=$3 work=$4
  mkdir -p "$work/min"
  find "$corpus" -type f -regextype posix-extended ! -regex '.*/[0-9a-f]{40}' -exec cp {} "$work/min/" \;
  "$BIN/$target" $(options "$target") -use_counters=0 -merge=1 "$work/min" "$corpus" "$new" 2>>"$work/merge.log" || {
    echo "!! $target: merge failed, corpus left as it was (see $work/merge.log)" >&2
    return 0
  }
  rm -rf "$corpus"
  mv "$work/min" "$corpus"
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:allocator_may_return_null=1}"

if [ "${1:-}" = --reproduce ]; then
  build
  target=$2; shift 2
  exec "$BIN/$target" $(options "$target") "$@"
fi

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=("${ALL_TARGETS[@]}")
build

status=0
summary=()
for target in "${targets[@]}"; do
  corpus="Fuzz/Corpus/$target"
  crashes="Fuzz/.build/crashes/$target"
  work=$(mktemp -d)
  mkdir -p "$corpus" "$crashes" "$work/new"
  echo "== $target: ${SECONDS_PER_TARGET}s" >&2
  code=0
  touch "$work/log"
  # libFuzzer reads -max_total_time=0 as "forever"; 0 here means "only minimise".
  if [ "$SECONDS_PER_TARGET" -gt 0 ]; then
    set +e
    "$BIN/$target" $(options "$target") -max_total_time="$SECONDS_PER_TARGET" \
      -artifact_prefix="$crashes/" "$work/new" "$corpus" 2>"$work/log"
    code=$?
    set -e
  fi
  # Without libFuzzer's "recommended dictionary" dump, which buries the interesting lines.
  grep -avE '^"|^###### |^$' "$work/log" | tail -n "$([ $code -ne 0 ] && echo 80 || echo 8)" >&2 || true
  if [ $code -ne 0 ]; then
    echo "!! $target failed (exit $code); inputs in $crashes/" >&2
    status=1
  fi
  before=$(ls "$corpus" | wc -l)
  # After a crash the merge replays the crashing input too, and libFuzzer's merge then kept
  # almost nothing: the kept corpus was replaced by a near-empty one (session 19). Leave the
  # corpus as it was until the crash is fixed; the new inputs wait in $crashes/unmerged/.
  if [ $code -eq 0 ]; then
    minimise "$target" "$corpus" "$work/new" "$work"
  else
    mkdir -p "$crashes/unmerged" && cp -n "$work/new"/* "$crashes/unmerged/" 2>/dev/null || true
    echo "!! $target: corpus not merged after the failure" >&2
  fi
  after=$(ls "$corpus" | wc -l)
  stats=$(grep -aE '^#[0-9]+[[:space:]]+DONE' "$work/log" | tail -n 1 || true)
  execs=$(grep -aE '^stat::number_of_executed_units' "$work/log" | awk '{print $2}' || true)
  summary+=("$target: ${execs:-?} execs; ${stats:-no DONE line}; corpus $before -> $after files")
  rm -rf "$work"
done

echo >&2
echo "== summary (${SECONDS_PER_TARGET}s per target)" >&2
printf '%s\n' "${summary[@]}" >&2
du -sh --apparent-size Fuzz/Corpus/* >&2
exit $status
