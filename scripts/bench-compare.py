#!/usr/bin/env python3
"""Instructions per post of two (or more) `warden` builds, interleaved, on both corpora.

For a before/after figure of a speed change: each build's `warden scan` runs under callgrind
over the first --posts posts of the generated corpus (scripts/bench-scan.py's, seed 7) and of
the real-traffic corpus (scripts/realtraffic.py, seed 15), minus the same over an empty file
(start-up: loading and compiling the rules and models). The builds take turns within each of
--rounds rounds (A B A B …), and the median of the rounds is reported with the change from the
first build. Callgrind counts barely move between rounds; the interleaving keeps it honest
when they do.

  python3 scripts/bench-compare.py --rules rules --posts 3000 --rounds 3 \\
      base=bench-out/warden-base new=.build/release/warden [ungated=.build/release/warden:WARDEN_PLAN=ungated]

A build is LABEL=PATH, optionally followed by :NAME=VALUE environment settings; the setting
:rules=DIR (lowercase) is not an environment variable but the rules directory that build runs
with instead of --rules, to compare two rules directories with one binary:

  python3 scripts/bench-compare.py --posts 3000 old=/tmp/warden:rules=/tmp/old/rules new=/tmp/warden:rules=rules
"""
import argparse, json, os, statistics, subprocess, sys, tempfile

from spoolkit import script_module as module


def collected(cmd, env):
    """Instructions executed by `cmd` under callgrind (the 'Collected' figure)."""
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    for line in p.stderr.splitlines():
        if "Collected" in line:
            return int(line.split(":")[-1].strip().replace(",", ""))
    sys.exit(f"callgrind gave no count for {' '.join(cmd[:3])}: {p.stderr[-500:]}")


def parse_build(spec):
    label, _, rest = spec.partition("=")
    path, *settings = rest.split(":")
    env = dict(os.environ)
    env.pop("WARDEN_PLAN", None)
    rules = None
    for setting in settings:
        name, _, value = setting.partition("=")
        if name == "rules":
            rules = value
        else:
            env[name] = value
    if not label or not os.path.exists(path):
        sys.exit(f"bad build {spec!r}: want LABEL=PATH[:NAME=VALUE…] with an existing PATH")
    return label, path, env, rules


def readable(path, workdir, label):
    """A copy of `path` without DWARF (valgrind 3.19 cannot read the DWARF 5 Swift writes and
    gives up); the symbols stay, so callgrind_annotate still names functions."""
    copy = os.path.join(workdir, "warden-" + label)
    subprocess.run(["strip", "--strip-debug", "-o", copy, path], check=True)
    return copy


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("builds", nargs="+", help="LABEL=PATH[:NAME=VALUE…]; the first is the baseline")
    ap.add_argument("--rules", default="rules")
    ap.add_argument("--posts", type=int, default=3000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    workdir = tempfile.mkdtemp(prefix="warden-compare-")
    builds = [(label, readable(path, workdir, label), env, rules or args.rules)
              for label, path, env, rules in map(parse_build, args.builds)]
    empty = os.path.join(workdir, "empty.jsonl")
    open(empty, "w").close()
    corpora = {"generated": module("bench-scan").make_corpus(args.posts),
               "real traffic": module("realtraffic").build(args.posts, 15)}
    for name, posts in corpora.items():
        path = os.path.join(workdir, name.replace(" ", "-") + ".jsonl")
        with open(path, "w", encoding="utf-8") as f:
            for post in list(posts)[:args.posts]:
                f.write(json.dumps(post, ensure_ascii=False) + "\n")
        figures = {label: [] for label, _, _, _ in builds}
        for round_ in range(args.rounds):
            for label, binary, env, rules in builds:
                scan = [binary, "scan", "--rules", rules]
                per_post = (collected(scan + [path], env) - collected(scan + [empty], env)) / args.posts
                figures[label].append(per_post)
                print(f"  {name}, round {round_ + 1}, {label}: {per_post:,.0f}", file=sys.stderr, flush=True)
        base = statistics.median(figures[builds[0][0]])
        print(f"{name} ({args.posts} posts, instructions per post, median of {args.rounds} interleaved rounds, start-up subtracted):")
        for label, _, _, _ in builds:
            m = statistics.median(figures[label])
            change = "" if label == builds[0][0] else f"  ({(m - base) / base * 100:+.1f}%)"
            print(f"  {label:12} {m:>10,.0f}{change}   rounds: {', '.join(f'{x:,.0f}' for x in figures[label])}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
