#!/usr/bin/env python3
"""Split each labelled file of the shared data into a tune part and a measure part.

Usage: python3 scripts/split.py [--data DIR] [--out DIR] [--seed N]

Rules and models are tuned on `OUT/tune/NAME.jsonl` only; figures are reported on
`OUT/measure/NAME.jsonl`, which nobody looks at while tuning. OUT (default `.data-split/`)
is git-ignored: the shared files' licences let us measure on them, not redistribute them,
and no row may be copied into the repository.

How a row is assigned, so that the split is the same on every machine and for every order
of the rows:
- every file but the airline tweets: a row goes to `measure` when the first 8 bytes of
  sha256("SEED:FILE:ID"), read as a number, fall in the top 30% of their range;
- airline-tweets.jsonl is split by airline (the account a tweet is addressed to, its first
  @mention), so that complaints are measured on airlines the rules were never tuned on. The
  airlines are sorted, shuffled with random.Random(SEED), and taken for tuning until they
  hold at least 65% of the rows; the rest, and tweets whose first mention is not one of the
  five airlines, are measured on. The assignment is printed.

The customer-tweet files carry no moderation labels. For the airline tweets the split adds
the publisher's sentiment as labels, so that `warden eval` can score routing and praise:
negative -> ["complaint"], positive -> ["praise"], neutral -> []. (Moderation labels stay
absent: none of these tweets is a violation by the publisher's account; the sanctioned ones
are read by hand, docs/ACCURACY.md.)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = 13  # the number; fixed so every build sees the same split
MEASURE_SHARE = 0.30
AIRLINES = ["americanair", "jetblue", "southwestair", "usairways", "virginamerica"]
AIRLINE_TUNE_SHARE = 0.65


def measured(seed: int, name: str, row_id: str) -> bool:
    digest = hashlib.sha256(f"{seed}:{name}:{row_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 >= 1 - MEASURE_SHARE


def airline(text: str) -> str | None:
    m = re.match(r"\s*@(\w+)", text)
    return m.group(1).lower() if m and m.group(1).lower() in AIRLINES else None


def sentiment_labels(source_label: str) -> list[str]:
    sentiment = source_label.split(";")[0].split("=")[-1]
    return {"negative": ["complaint"], "positive": ["praise"]}.get(sentiment, [])


def default_data() -> str:
    """$SHARED_DATA, else ../shared/data beside the checkout (or beside a worktree's parent)."""
    if os.environ.get("SHARED_DATA"):
        return os.environ["SHARED_DATA"]
    for candidate in (ROOT / "../shared/data", ROOT / "../../shared/data"):
        if candidate.is_dir():
            return str(candidate.resolve())
    return str((ROOT / "../shared/data").resolve())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=default_data())
    ap.add_argument("--out", default=str(ROOT / ".data-split"))
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    data, out = Path(args.data), Path(args.out)
    files = sorted(data.glob("*.jsonl"))
    if not files:
        print(f"split: no *.jsonl in {data} (give it with --data)", file=sys.stderr)
        return 2
    for part in ("tune", "measure"):
        (out / part).mkdir(parents=True, exist_ok=True)
    for path in files:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]
        if path.name == "airline-tweets.jsonl":
            counts = {a: 0 for a in AIRLINES}
            for row in rows:
                a = airline(row["text"])
                if a:
                    counts[a] += 1
            order = sorted(AIRLINES)
            random.Random(args.seed).shuffle(order)
            tune_airlines, held = set(), 0
            for a in order:
                if held >= AIRLINE_TUNE_SHARE * len(rows):
                    break
                tune_airlines.add(a)
                held += counts[a]
            for row in rows:
                row["labels"] = sentiment_labels(row.get("source_label", ""))
            is_measured = [airline(r["text"]) not in tune_airlines for r in rows]
            print(f"airline-tweets: tune on {sorted(tune_airlines)}, "
                  f"measure on {sorted(set(AIRLINES) - tune_airlines)} and other accounts")
        else:
            is_measured = [measured(args.seed, path.name, str(r["id"])) for r in rows]
        with open(out / "tune" / path.name, "w", encoding="utf-8") as tune, \
                open(out / "measure" / path.name, "w", encoding="utf-8") as measure:
            for row, m in zip(rows, is_measured):
                (measure if m else tune).write(json.dumps(row, ensure_ascii=False) + "\n")
        n = sum(is_measured)
        print(f"{path.name}: {len(rows) - n} tune, {n} measure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
