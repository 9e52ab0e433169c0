#!/usr/bin/env python3
"""Proves a speed change left every decision byte-identical.

Runs `warden scan` over every file in ../shared/data, our eval sets (Tests/Fixtures/eval)
and the two benchmark corpora (the generated one of scripts/bench-scan.py and the real
traffic of scripts/realtraffic.py), and compares, line for line, each decision of:
  - the build under test, with the literal gate (the default plan);
  - the same build with WARDEN_PLAN=ungated (every pattern on every post);
  - optionally --baseline BIN, a previous build (e.g. today's main) with the default plan.
Only `decided_at` is left out of the comparison (it is the time of the run). Exit 1 and
the first differing lines when any decision differs.

  python3 scripts/same-decisions.py --warden .build/release/warden [--baseline OLD] [--rules rules]

A rules rewrite (issue 15, point 3) is checked against the rules of an earlier commit, run by
the same binary: --baseline-rules-rev REV extracts REV's rules/ (git archive) to a temporary
directory and uses it as --baseline-rules, with --warden as the baseline unless --baseline
is given:

  python3 scripts/same-decisions.py --warden /tmp/warden-release-main --rules rules --baseline-rules-rev c6abff8
"""
import argparse, glob, json, os, subprocess, sys, tempfile

from spoolkit import REPO, script_module as module


def as_posts(path, stem):
    """The file's rows as posts Warden accepts (ids made file-name safe and unique)."""
    posts = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if not line.strip():
                continue
            row = json.loads(line)
            author = row.get("author") or {}
            author_id = author.get("id") if isinstance(author, dict) else str(author)
            posts.append({"id": f"{stem}-{i}", "platform": "twitter", "author": {"id": author_id or f"a{i % 997}", "name": "Sam"},
                          "text": row["text"], "created_at": "2026-11-22T10:00:00Z"})
    return posts


def corpora(workdir, real_posts):
    DATA = module("realtraffic").DATA
    files = sorted(glob.glob(os.path.join(DATA, "*.jsonl"))) + sorted(glob.glob(os.path.join(REPO, "Tests", "Fixtures", "eval", "*.jsonl")))
    for path in files:
        stem = ("eval-" if "Fixtures" in path else "") + os.path.basename(path)[:-6]
        yield stem, as_posts(path, stem)
    yield "bench-generated", module("bench-scan").make_corpus(real_posts)
    yield "bench-realtraffic", list(module("realtraffic").build(real_posts, 15))


def decisions(binary, rules, path, ungated=False, drop=("decided_at",)):
    env = dict(os.environ)
    env.pop("WARDEN_PLAN", None)
    if ungated:
        env["WARDEN_PLAN"] = "ungated"
    p = subprocess.run([binary, "scan", "--rules", rules, path], capture_output=True, env=env)
    if p.returncode not in (0, 1):
        sys.exit(f"{binary} scan {path} failed ({p.returncode}): {p.stderr.decode()[:400]}")
    out = []
    for line in p.stdout.decode().split("\n"):  # not splitlines(): texts may hold U+2028
        if not line:
            continue
        d = json.loads(line)
        for key in drop:
            d.pop(key, None)
        out.append(json.dumps(d, sort_keys=True, ensure_ascii=False))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--warden", default=os.path.join(REPO, ".build", "release", "warden"))
    ap.add_argument("--baseline", help="a previous build to compare with too")
    ap.add_argument("--rules", default=os.path.join(REPO, "rules"))
    ap.add_argument("--baseline-rules", help="the rules the baseline runs with (default: --rules), to check a rules rewrite")
    ap.add_argument("--baseline-rules-rev", metavar="REV", help="a commit whose rules/ are the baseline rules (extracted with git archive)")
    ap.add_argument("--bench-posts", type=int, default=20_000, help="posts of each benchmark corpus to compare")
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="warden-same-")
    if args.baseline_rules_rev:
        archive = subprocess.run(["git", "-C", REPO, "archive", args.baseline_rules_rev, "rules"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", workdir], input=archive, check=True)
        args.baseline_rules = os.path.join(workdir, "rules")
        args.baseline = args.baseline or args.warden
        print(f"baseline: {args.baseline} with the rules of {args.baseline_rules_rev} ({args.baseline_rules})")
    total = differing = 0
    for stem, posts in corpora(workdir, args.bench_posts):
        path = os.path.join(workdir, stem + ".jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for post in posts:
                f.write(json.dumps(post, ensure_ascii=False) + "\n")
        gated = decisions(args.warden, args.rules, path)
        others = [("ungated", decisions(args.warden, args.rules, path, ungated=True))]
        if args.baseline:
            # Another rules directory has another digest: only then is `ruleset` left out too.
            drop = ("decided_at", "ruleset") if args.baseline_rules else ("decided_at",)
            base = decisions(args.baseline, args.baseline_rules or args.rules, path, drop=drop)
            if args.baseline_rules:
                gated_cmp = [json.dumps({k: v for k, v in json.loads(d).items() if k != "ruleset"}, sort_keys=True, ensure_ascii=False) for d in gated]
                others.append(("baseline", base, gated_cmp))
            else:
                others.append(("baseline", base))
        acted = sum(1 for d in gated if '"action": "allow"' not in d)
        line = f"{stem:34} {len(gated):7} decisions, {acted:6} acted"
        for label, other, *mine in others:
            new = mine[0] if mine else gated
            diff = [k for k in range(max(len(new), len(other))) if k >= len(new) or k >= len(other) or new[k] != other[k]]
            differing += len(diff)
            line += f"; vs {label}: {len(diff)} differ"
            for k in diff[:3]:
                line += f"\n    {label} #{k}:\n      new: {new[k] if k < len(new) else None}\n      old: {other[k] if k < len(other) else None}"
        total += len(gated)
        print(line, flush=True)
    print(f"{total} decisions compared; {differing} differ")
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
