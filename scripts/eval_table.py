#!/usr/bin/env python3
"""The accuracy table of docs/ACCURACY.md: Warden beside better-profanity and alt-profanity-check
on the measure part of every shared file (scripts/split.py), per file and label.

Usage: python3 scripts/eval_table.py --warden BIN [--rules DIR] [--split DIR] [--markdown]

For each file of SPLIT/measure it runs `warden eval --format json` and
`scripts/baselines.py --format json` on the same posts and prints one row per (file, label,
filter): precision, recall, F1 and the counts. Then, for the customer-tweet files (whole
files, tune and measure parts: what must never happen is measured everywhere), every post
Warden sanctions (hold, hide, delete) with the rules that did it, for reading by hand.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CUSTOMER_FILES = ["airline-tweets.jsonl", "twcs-inbound-head.jsonl"]
SANCTIONS = {"hold", "hide", "delete"}


def canonical(label: str) -> str:
    value = label.lower().replace("-", "_")
    return value[:-1] if value.endswith("s") and len(value) > 3 else value


def warden_eval(warden: str, rules: str, path: Path) -> dict:
    run = subprocess.run([warden, "eval", "--rules", rules, "--format", "json", str(path)],
                         capture_output=True, text=True)
    if run.returncode not in (0, 1):
        sys.exit(f"warden eval failed on {path}: {run.stderr}")
    return json.loads(run.stdout)


def baselines(paths: list[Path], cache: Path) -> dict:
    """The baselines' scores on `paths`, cached in `cache` (better-profanity takes many CPU
    minutes on the measure parts, and its answers depend only on the posts)."""
    key = hashlib.sha256(b"".join(p.name.encode() + p.read_bytes() for p in paths)).hexdigest()
    document = None
    if cache.exists():
        cached = json.loads(cache.read_text())
        if cached.get("key") == key:
            document = cached["baselines"]
    if document is None:
        run = subprocess.run([sys.executable, str(ROOT / "scripts/baselines.py"), "--format", "json",
                              *map(str, paths)], capture_output=True, text=True)
        if run.returncode != 0:
            sys.exit(f"baselines failed: {run.stderr}")
        document = json.loads(run.stdout)
        cache.write_text(json.dumps({"key": key, "baselines": document}))
    out: dict = {}
    for result in document["results"]:
        for g in result["guidelines"]:
            out[(Path(result["file"]).name, g["guideline"], result["filter"])] = g
    return out


def fmt(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warden", default=str(ROOT / ".build/release/warden"))
    ap.add_argument("--rules", default=str(ROOT / "rules"))
    ap.add_argument("--split", default=str(ROOT / ".data-split"))
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--no-baselines", action="store_true", help="Warden's rows only")
    args = ap.parse_args()
    measure = sorted((Path(args.split) / "measure").glob("*.jsonl"))
    if not measure:
        sys.exit(f"no measure parts in {args.split}/measure: run scripts/split.py first")
    base = {} if args.no_baselines else baselines(measure, Path(args.split) / "baselines-cache.json")
    rows = []
    for path in measure:
        report = warden_eval(args.warden, args.rules, path)
        for g in report["guidelines"]:
            rows.append((path.name, report["posts"], g["label"], "warden", g))
            for name in ("better-profanity", "alt-profanity-check"):
                b = base.get((path.name, g["label"], name))
                if b:
                    rows.append((path.name, report["posts"], g["label"], name,
                                 {"support": b["tp"] + b["fn"], **b}))
    if args.markdown:
        print("| file (measured posts) | label | filter | support | tp | fp | fn | precision | recall | F1 |")
        print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    else:
        print(f"{'file':<36} {'label':<16} {'filter':<20} {'support':>7} {'tp':>5} {'fp':>5} {'fn':>5} "
              f"{'P':>6} {'R':>6} {'F1':>6}")
    for name, posts, label, flt, g in rows:
        cells = [f"{name} ({posts})", label, flt, str(g["support"]), str(g["tp"]), str(g["fp"]), str(g["fn"]),
                 fmt(g["precision"]), fmt(g["recall"]), fmt(g["f1"])]
        if args.markdown:
            print("| " + " | ".join(cells) + " |")
        else:
            print(f"{cells[0]:<36} {cells[1]:<16} {cells[2]:<20} {cells[3]:>7} {cells[4]:>5} {cells[5]:>5} "
                  f"{cells[6]:>5} {cells[7]:>6} {cells[8]:>6} {cells[9]:>6}")

    print()
    print("Sanctioned posts in the customer-tweet files (tune and measure parts):")
    for name in CUSTOMER_FILES:
        for part in ("tune", "measure"):
            path = Path(args.split) / part / name
            if not path.exists():
                continue
            run = subprocess.run([args.warden, "scan", "--rules", args.rules, "--actions-only", str(path)],
                                 capture_output=True, text=True)
            texts = {}
            for line in path.read_text(encoding="utf-8").split("\n"):
                if line.strip():
                    row = json.loads(line)
                    texts[row["id"]] = row["text"]
            hits = []
            for line in run.stdout.splitlines():
                d = json.loads(line)
                if d["action"] in SANCTIONS:
                    hits.append(d)
            print(f"- {name} [{part}]: {len(hits)} of {len(texts)} sanctioned")
            for d in hits:
                text = " ".join(texts.get(d["post_id"], "").split())
                short = text if len(text) <= 110 else text[:107] + "..."
                print(f"  - `{d['post_id']}` {d['action']} by {', '.join(d['rules'])}: {short}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
