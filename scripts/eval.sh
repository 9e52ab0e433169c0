#!/usr/bin/env bash
# Accuracy figures for the shipped rules (`make eval`): warden eval on the public labelled
# data and on our own labelled sets, side by side with the filters people use instead.
# Figures, not a pass/fail test.
set -euo pipefail
warden=${1:-.build/release/warden}
rules=${RULES:-rules}
shared=${SHARED_DATA:-../shared/data}

echo "== warden eval, rules: $rules ($($warden check --format json "$rules" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ruleset"])'))"
for f in "$shared/youtube-comments.jsonl" "$shared/davidson-tweets.jsonl" Tests/Fixtures/eval/*.jsonl; do
  [ -f "$f" ] || { echo "missing $f, skipped"; continue; }
  echo
  "$warden" eval --rules "$rules" "$f" || true
done

echo
echo "== all of our own sets together"
cat Tests/Fixtures/eval/*.jsonl > "${TMPDIR:-/tmp}/warden-own-eval.jsonl"
"$warden" eval --rules "$rules" "${TMPDIR:-/tmp}/warden-own-eval.jsonl" || true

echo
echo "== baselines on the same files (better-profanity, alt-profanity-check)"
python3 scripts/baselines.py "$shared/davidson-tweets.jsonl" "$shared/youtube-comments.jsonl" Tests/Fixtures/eval/*.jsonl
