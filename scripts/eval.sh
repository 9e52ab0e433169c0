#!/usr/bin/env bash
# Accuracy figures for the shipped rules (`make eval`): Warden beside better-profanity and
# alt-profanity-check on the held-out *measure* part of every shared labelled file
# (scripts/split.py, seeded; the rules and models are tuned on the other part only), then the
# project's own sets. Figures, not a pass/fail test; docs/ACCURACY.md holds the last table.
set -euo pipefail
warden=${1:-.build/release/warden}
rules=${RULES:-rules}
split=${SPLIT_DIR:-.data-split}

python3 scripts/split.py --out "$split" >/dev/null
echo "== warden eval, rules: $rules ($($warden check --format json "$rules" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ruleset"])'))"
echo "== measure parts of the shared data ($split/measure), beside the baselines"
python3 scripts/eval_table.py --warden "$warden" --rules "$rules" --split "$split" ${MARKDOWN:+--markdown}

echo
echo "== our own sets (Tests/Fixtures/eval), all together"
cat Tests/Fixtures/eval/*.jsonl > "${TMPDIR:-/tmp}/warden-own-eval.jsonl"
"$warden" eval --rules "$rules" "${TMPDIR:-/tmp}/warden-own-eval.jsonl" || true
