#!/usr/bin/env bash
# Rebuilds the shipped models (`make models`): the seeded split of ../shared/data, then one
# `warden learn` per model on the *tune* parts (never the measure parts) and our own sets.
# Deterministic: run it twice and the .model files are identical (`cmp` them; docs/ACCURACY.md).
# With EVAL=1 each model is also measured on the measure parts (`warden learn --eval`).
set -euo pipefail
warden=${1:-.build/release/warden}
split=${SPLIT_DIR:-.data-split}
out=${MODELS_DIR:-rules/models}
own=Tests/Fixtures/eval
python3 scripts/split.py --out "$split" >/dev/null
mkdir -p "$out"
t="$split/tune" m="$split/measure"

learn() {  # learn NAME LABEL "MEASURE FILES" TRAIN FILES...
  local name=$1 label=$2 measure=$3; shift 3
  local held=()
  for f in $measure; do held+=(--held-out "$f"); done
  "$warden" learn --label "$label" --out "$out/$name.model" "$@"
  if [ -n "${EVAL:-}" ]; then "$warden" learn --label "$label" --eval "${held[@]}" "$@" | sed -n '/^measured/,$p'; fi
}

# Insults at people: the insult corpora, our own set, and customers' tweets (complaints, as
# examples of what is *not* an attack however angry). OLID's targeted offence (tweets) was
# added in the second round: chosen on a further split of the tune parts, it doubled the
# Kaggle insults caught at precision 0.9 by the score alone (docs/ACCURACY.md).
learn personal_attack personal_attack "$m/kaggle-insults-train.jsonl" \
  "$t/kaggle-insults-train.jsonl" "$t/ucc-unhealthy-comments.jsonl" "$own/personal-attacks.jsonl" \
  "$t/airline-tweets.jsonl" "$t/twcs-inbound-head.jsonl" "$t/olid-train.jsonl"

# Spam and scams in comments; ordinary comments and customers' tweets as what is not spam.
learn spam spam "$m/youtube-comments.jsonl $m/scamspot-instagram-comments.jsonl" \
  "$t/youtube-comments.jsonl" "$t/scamspot-instagram-comments.jsonl" "$own/spam.jsonl" \
  "$t/airline-tweets.jsonl" "$t/twcs-inbound-head.jsonl" "$t/kaggle-insults-train.jsonl"

# Complaints and praise: customers' tweets to the airlines tuned on (sentiment), our own set.
learn complaint complaint "$m/airline-tweets.jsonl" "$t/airline-tweets.jsonl" "$own/complaints.jsonl"
learn praise praise "$m/airline-tweets.jsonl" "$t/airline-tweets.jsonl"
