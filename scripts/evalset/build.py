#!/usr/bin/env python3
"""Build Tests/Fixtures/eval/*.jsonl from the hand-written sources in scripts/evalset/*.txt.

Usage: python3 scripts/evalset/build.py [--check]

Source format, one post per line:   CODES| text
  CODES is "-" for clean, or letters: P profanity, A personal_attack, S spam,
  D personal_data, C complaint, K praise (kudos to a named member of staff).
  \\uXXXX in the text is decoded (look-alike letters, zero-width characters),
  \\n is a line break. Lines starting with # and blank lines are skipped.

The build refuses duplicate texts (after case-folding and collapsing spaces) within and
across files, unknown codes, and malformed lines. It writes one JSONL file per source,
in a fixed shuffled order (seeded by file name) with ids FILE:NNNN numbered in source
order, and rewrites the counts table in Tests/Fixtures/eval/README.md.

--check also lists every card-like digit run (13-19 digits, spaces/dashes allowed) and
IBAN-like string with its checksum result, to review the personal-data hard cases.
"""
from __future__ import annotations

import json
import random
import re
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = Path(__file__).resolve().parent
OUT = ROOT / "Tests" / "Fixtures" / "eval"
FILES = ["profanity", "personal-attacks", "spam", "personal-data", "complaints"]
CODES = {"P": "profanity", "A": "personal_attack", "S": "spam", "D": "personal_data",
         "C": "complaint", "K": "praise"}
LABELS = list(CODES.values())
# the label each file is about (the "positive" half)
MAIN = {"profanity": "profanity", "personal-attacks": "personal_attack", "spam": "spam",
        "personal-data": "personal_data", "complaints": "complaint"}


def decode(text: str) -> str:
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return text.replace("\\n", "\n")


def key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def parse(name: str) -> list[dict]:
    posts = []
    path = SRC / f"{name}.txt"
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        m = re.match(r"^([A-Z-]+)\| (.+)$", line)
        if not m:
            sys.exit(f"{path}:{n}: expected 'CODES| text'")
        codes, text = m.groups()
        if codes == "-":
            labels = []
        else:
            if any(c not in CODES for c in codes) or len(set(codes)) != len(codes):
                sys.exit(f"{path}:{n}: bad codes {codes!r}")
            labels = [CODES[c] for c in CODES if c in codes]  # canonical order
        posts.append({"text": decode(text.strip()), "labels": labels, "line": n})
    return posts


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(s: str) -> bool:
    s = s.replace(" ", "").upper()
    s = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in s)) % 97 == 1


def counts(posts: list[dict]) -> dict:
    c = {lab: 0 for lab in LABELS}
    for p in posts:
        for lab in p["labels"]:
            c[lab] += 1
    c["clean"] = sum(1 for p in posts if not p["labels"])
    c["posts"] = len(posts)
    return c


def main() -> int:
    check = "--check" in sys.argv
    seen: dict[str, str] = {}
    table = {}
    for name in FILES:
        if not (SRC / f"{name}.txt").exists():
            print(f"missing source scripts/evalset/{name}.txt", file=sys.stderr)
            continue
        posts = parse(name)
        for p in posts:
            k = key(p["text"])
            where = f"{name}.txt:{p['line']}"
            if k in seen:
                sys.exit(f"duplicate text: {where} and {seen[k]}: {p['text']!r}")
            seen[k] = where
        for i, p in enumerate(posts, 1):
            p["id"] = f"{name}:{i:04d}"
        order = posts[:]
        random.Random(name).shuffle(order)
        OUT.mkdir(parents=True, exist_ok=True)
        with open(OUT / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for p in order:
                f.write(json.dumps({"id": p["id"], "text": p["text"], "labels": p["labels"]},
                                   ensure_ascii=False) + "\n")
        table[name] = counts(posts)
        if check:
            for p in posts:
                for m in re.finditer(r"(?<![\w])\d(?:[ -]?\d){12,18}(?![\w])", p["text"]):
                    digits = re.sub(r"\D", "", m.group())
                    print(f"{name}:{p['line']} {p['labels']} card-like {m.group()!r} "
                          f"luhn={'ok' if luhn(digits) else 'no'}")
                for m in re.finditer(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b",
                                     p["text"]):
                    print(f"{name}:{p['line']} {p['labels']} iban-like {m.group()!r} "
                          f"mod97={'ok' if iban_ok(m.group()) else 'no'}")
    # counts table
    cols = ["posts", *LABELS, "clean"]
    lines = ["| file | " + " | ".join(cols) + " | positive share |",
             "|---|" + "---:|" * (len(cols) + 1)]
    total = {c: 0 for c in cols}
    for name in table:
        c = table[name]
        share = c[MAIN[name]] / c["posts"]
        lines.append(f"| {name}.jsonl | " + " | ".join(str(c[x]) for x in cols)
                     + f" | {share:.0%} {MAIN[name]} |")
        for x in cols:
            total[x] += c[x]
    lines.append("| **all** | " + " | ".join(str(total[x]) for x in cols) + " | |")
    block = "\n".join(lines)
    print(block)
    readme = OUT / "README.md"
    if readme.exists():
        s = readme.read_text(encoding="utf-8")
        s2 = re.sub(r"(<!-- counts:begin -->\n).*?(\n<!-- counts:end -->)",
                    lambda m: m.group(1) + block + m.group(2), s, flags=re.S)
        if s2 != s:
            readme.write_text(s2, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
