#!/usr/bin/env python3
"""Score the filters people use instead of Warden on labelled JSON Lines posts.

Usage: python3 scripts/baselines.py [--format text|json] FILE [FILE...]

Each FILE holds one JSON object per line with at least "text" and "labels" (the format of
Tests/Fixtures/eval/*.jsonl and ../shared/data/*.jsonl). Two filters are run on every
post, exactly as their authors document them:

  better-profanity     profanity.contains_profanity(text)  -> "profanity"
  alt-profanity-check  profanity_check.predict([text])[0]  -> "profanity"

Each filter's output is scored against the "profanity" label, and, for reference only,
against "personal_attack" and against profanity|personal_attack (a post carrying either
label), and against "spam" (neither filter is meant for spam: the row shows what a
profanity filter does on a spam set). The table has the columns `warden eval` prints:
guideline, tp, fp, fn, precision, recall, f1.

alt-profanity-check's model was trained on Davidson et al.'s data (its README says so), so
its figures on davidson-tweets.jsonl are measured on its own training data and flatter it.

Both packages are installed into .venv-baselines/ at the repository root the first time
(pinned versions, so figures are reproducible); the script then re-runs itself there.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv-baselines"
REQUIREMENTS = ["better-profanity==0.7.0", "alt-profanity-check==1.9.1"]
IMPORTS = "import better_profanity, profanity_check"

# (row name, set of labels; a post is positive when it carries any of them)
TARGETS = [
    ("profanity", {"profanity"}),
    ("personal_attack", {"personal_attack"}),
    ("profanity|personal_attack", {"profanity", "personal_attack"}),
    ("spam", {"spam"}),
]


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_venv() -> None:
    """Create .venv-baselines/ and install the filters if they are missing, then re-exec."""
    py = venv_python()
    ok = py.exists() and subprocess.run(
        [str(py), "-c", IMPORTS], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    ).returncode == 0
    if not ok:
        print(f"baselines: installing {' '.join(REQUIREMENTS)} into {VENV}", file=sys.stderr)
        if not py.exists():
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run(
            [str(py), "-m", "pip", "install", "--quiet", *REQUIREMENTS],
            check=True,
            stdout=sys.stderr,
        )
    os.execv(str(py), [str(py), str(Path(__file__).resolve()), *sys.argv[1:]])


def load(path: str) -> list[dict]:
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{n}: not JSON: {e}")
            if not isinstance(row.get("text"), str) or not isinstance(row.get("labels"), list):
                sys.exit(f'{path}:{n}: needs a string "text" and a list "labels"')
            rows.append(row)
    return rows


def filters():
    """Return [(name, version, predict(texts) -> list[bool])]."""
    from importlib.metadata import version

    from better_profanity import profanity

    profanity.load_censor_words()

    def bp(texts):
        return [bool(profanity.contains_profanity(t)) for t in texts]

    import warnings

    warnings.filterwarnings("ignore")  # sklearn version-mismatch chatter on unpickling
    from profanity_check import predict

    def apc(texts):
        out = []
        for i in range(0, len(texts), 2000):
            out.extend(bool(x) for x in predict(texts[i : i + 2000]))
        return out

    return [
        ("better-profanity", version("better-profanity"), bp),
        ("alt-profanity-check", version("alt-profanity-check"), apc),
    ]


def score(rows: list[dict], predicted: list[bool]) -> list[dict]:
    table = []
    for name, labels in TARGETS:
        tp = fp = fn = 0
        for row, hit in zip(rows, predicted):
            pos = bool(labels & set(row["labels"]))
            tp += hit and pos
            fp += hit and not pos
            fn += pos and not hit
        p = tp / (tp + fp) if tp + fp else None
        r = tp / (tp + fn) if tp + fn else None
        f1 = 2 * p * r / (p + r) if p and r else (0.0 if p is not None and r is not None else None)
        table.append({"guideline": name, "tp": tp, "fp": fp, "fn": fn,
                      "precision": p, "recall": r, "f1": f1})
    return table


def fmt(x) -> str:
    return "-" if x is None else f"{x:.3f}"


def print_table(title: str, table: list[dict], clean: int, clean_flagged: int) -> None:
    print(title)
    print(f"{'guideline':<26} {'tp':>6} {'fp':>6} {'fn':>6} {'precision':>9} {'recall':>7} {'f1':>6}")
    for t in table:
        print(f"{t['guideline']:<26} {t['tp']:>6} {t['fp']:>6} {t['fn']:>6} "
              f"{fmt(t['precision']):>9} {fmt(t['recall']):>7} {fmt(t['f1']):>6}")
    share = f" ({clean_flagged / clean:.1%})" if clean else ""
    print(f"clean posts (labels []) flagged: {clean_flagged} of {clean}{share}")
    print()


def main(argv: list[str]) -> int:
    fmt_out = "text"
    files = []
    it = iter(argv)
    for a in it:
        if a == "--format":
            fmt_out = next(it, "")
        elif a.startswith("--format="):
            fmt_out = a.split("=", 1)[1]
        elif a in ("-h", "--help"):
            print(__doc__)
            return 0
        else:
            files.append(a)
    if fmt_out not in ("text", "json") or not files:
        print("usage: python3 scripts/baselines.py [--format text|json] FILE [FILE...]",
              file=sys.stderr)
        return 2
    if not in_venv():
        ensure_venv()  # does not return

    fs = filters()
    datasets = [(f, load(f)) for f in files]
    if len(datasets) > 1:
        datasets.append(("all files", [r for _, rows in datasets for r in rows]))
    results = []
    cache: dict[str, dict[str, list[bool]]] = {}
    for path, rows in datasets:
        for name, ver, predict in fs:
            if path == "all files":
                predicted = [h for p, _ in datasets[:-1] for h in cache[p][name]]
            else:
                predicted = predict([r["text"] for r in rows])
                cache.setdefault(path, {})[name] = predicted
            clean = sum(1 for r in rows if not r["labels"])
            clean_flagged = sum(1 for r, h in zip(rows, predicted) if h and not r["labels"])
            table = score(rows, predicted)
            results.append({"file": path, "posts": len(rows), "filter": name, "version": ver,
                            "clean": clean, "clean_flagged": clean_flagged,
                            "guidelines": table})
            if fmt_out == "text":
                print_table(f"== {path} ({len(rows)} posts) · {name} {ver} ==",
                            table, clean, clean_flagged)
    if fmt_out == "json":
        print(json.dumps({"results": results}, indent=2))
    else:
        print("Each filter answers one yes/no; rows after 'profanity' score that same answer "
              "against other labels, for reference.")
        if any("davidson" in Path(f).name for f in files):
            print("Note: alt-profanity-check was trained on Davidson et al.'s data; its figures on "
                  "that file are in-sample and flatter it.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
