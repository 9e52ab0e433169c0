#!/usr/bin/env python3
"""Per-post judging time while 1% of posts are a ReDoS attack on a catastrophic rule.

Builds a rules directory (the test fixture's guidelines plus one with catastrophic patterns,
as a careless moderator might write them), and a stream of normal posts with 1% adversarial
ones mixed in: 20,000-character posts (the post limit) built to make those patterns backtrack.

Then, in one run:
  1. `warden scan --format json` (release build) over the stream: end to end, how many posts
     were held and how long the whole scan took;
  2. Benchmarks/redos-bench over the same stream: the same `Judge.judge` call, timed per post
     with ContinuousClock, giving p50 / p99 / p99.9 for all posts, attack posts and the rest.
With --sweep it repeats 2. for several PCRE2 match limits, to show what each would give.

The target (issue 6) is p99.9 under 10 ms during the attack.

  scripts/bench-redos.py [--posts 20000] [--sweep] [--base-rules rules] [--no-build]
"""
import argparse, json, os, random, shutil, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_TEXT = 20_000

NORMAL = [
    "Hi, my parcel was meant to arrive on Tuesday and it still hasn't turned up. Can someone check?",
    "Thanks for the quick reply yesterday, the new router works perfectly now.",
    "What time does the Leeds branch open on Sunday? The website says 10 but the sign says 11.",
    "I've been on hold for 40 minutes, this is the third time this week. Please call me back.",
    "The classic menu is back! Had the cocktail special in Scunthorpe last night, brilliant.",
    "My Galaxy A55 screen cracked after two weeks, is that covered by the warranty?",
    "Check out my channel for more reviews, subscribe to me!",
    "this is fucking ridiculous, three weeks and no refund",
    "Aaaaaaaah finally!!! Sooooo happy it arrived",
    "Order 5512-3398 was 1111 pounds?? x",
]
WORDS = ("the a to and of in is it you that for on was with as have be at this but they not are "
         "service order delivery refund staff store today week call phone email help please thanks").split()

# Patterns a moderator might write, each with an attack that defeats PCRE2's shortcuts
# (the literal the pattern needs is present, so it cannot be rejected without matching).
ABUSE_RULES = """guideline: abuse
title: No abuse
text: Be kind.
strikes: false
rules:
  - id: abuse.shouting
    patterns: ['(a+)+$', '(?:a|a)*b']
    normalize: false
    action: flag
  - id: abuse.wall
    patterns: ['(\\w+\\s?)*$']
    action: flag
  - id: abuse.numbers
    patterns: ['(\\w|\\d)+x']
    normalize: false
    action: flag
"""

def attack_text(kind):
    unit, tail = {
        0: ("a", "!"),      # (a+)+$ and (\\w+\\s?)*$ (original text)
        1: ("a", "!b"),     # (?:a|a)*b
        2: ("ab ", "ab!"),  # (\\w+\\s?)*$ on the normalised text
        3: ("1", "!x"),     # (\\w|\\d)+x
    }[kind]
    return unit * ((MAX_TEXT - len(tail)) // len(unit)) + tail

def make_stream(path, n, attack_share, seed=11):
    rng = random.Random(seed)
    attacks = 0
    with open(path, "w") as f:
        for i in range(n):
            if rng.random() < attack_share:
                text, pid = attack_text(attacks % 4), f"attack-{i}"
                attacks += 1
            elif rng.random() < 0.5:
                text, pid = rng.choice(NORMAL), f"p-{i}"
            else:
                text, pid = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 45))), f"p-{i}"
            f.write(json.dumps({"id": pid, "author": {"id": f"u-{rng.randint(1, 5000)}"}, "text": text}) + "\n")
    return attacks

def build():
    subprocess.run(["swift", "build", "-c", "release", "--product", "warden"], cwd=ROOT, check=True)
    subprocess.run(["swift", "build", "-c", "release", "--package-path", "Benchmarks"], cwd=ROOT, check=True)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=20_000)
    ap.add_argument("--attack-share", type=float, default=0.01)
    ap.add_argument("--rounds", type=int, default=1, help="times redos-bench judges the stream")
    ap.add_argument("--sweep", action="store_true", help="also time match limits other than the default")
    ap.add_argument("--base-rules", default=os.path.join(ROOT, "Tests/Fixtures/rules-basic"),
                    help="guidelines the catastrophic one is added to (e.g. the shipped rules/)")
    ap.add_argument("--limits", default="2000000,500000,200000,100000,50000",
                    help="match limits tried by --sweep, besides the default")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--warden", default=os.path.join(ROOT, ".build/release/warden"))
    ap.add_argument("--bench", default=os.path.join(ROOT, "Benchmarks/.build/release/redos-bench"))
    args = ap.parse_args()
    if not args.no_build:
        build()

    work = tempfile.mkdtemp(prefix="warden-redos-")
    try:
        rules = os.path.join(work, "rules")
        shutil.copytree(args.base_rules, rules)
        with open(os.path.join(rules, "abuse.yaml"), "w") as f:
            f.write(ABUSE_RULES)
        stream = os.path.join(work, "posts.jsonl")
        attacks = make_stream(stream, args.posts, args.attack_share)
        print(f"stream: {args.posts} posts, {attacks} of them attacks of {MAX_TEXT} characters")

        check = subprocess.run([args.warden, "check", rules], capture_output=True, text=True)
        warned = sum("backtrack" in line for line in (check.stdout + check.stderr).splitlines())
        print(f"warden check: exit {check.returncode}, {warned} backtracking warnings")

        started = time.monotonic()
        scan = subprocess.run([args.warden, "scan", "--format", "json", "--rules", rules, stream],
                              capture_output=True, text=True)
        seconds = time.monotonic() - started
        decisions = [json.loads(line) for line in scan.stdout.splitlines() if line.strip()]
        held = [d for d in decisions if d["action"] == "hold"]
        held_attacks = sum(d["post_id"].startswith("attack-") for d in held)
        print(f"warden scan: {len(decisions)} decisions in {seconds:.2f} s ({len(decisions) / seconds:.0f} posts/s), "
              f"{len(held)} held ({held_attacks} of them attacks), exit {scan.returncode}")

        limits = [None] + ([int(x) for x in args.limits.split(",")] if args.sweep else [])
        print("\nper-post judging time, wall clock (ContinuousClock) and this thread's CPU time")
        print(f"{'match limit':>12} {'p50 ms':>8} {'p99 ms':>8} {'p99.9 ms':>9} {'max ms':>8} "
              f"{'attack p50':>11} {'normal p99.9':>13} {'cpu p99':>8} {'cpu p99.9':>10} {'cpu max':>8} {'held':>6} {'normal held':>12}")
        for limit in limits:
            cmd = [args.bench, "--rules", rules, "--rounds", str(args.rounds), stream]
            if limit:
                cmd[1:1] = ["--match-limit", str(limit)]
            report = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
            a, atk, nor, cpu = report["all"], report["attack"], report["normal"], report["all_cpu"]
            ms = lambda v: f"{v / 1000:.3f}"
            print(f"{report['limits']['match']:>12} {ms(a['p50_us']):>8} {ms(a['p99_us']):>8} {ms(a['p999_us']):>9} "
                  f"{ms(a['max_us']):>8} {ms(atk.get('p50_us', 0)):>11} {ms(nor['p999_us']):>13} "
                  f"{ms(cpu['p99_us']):>8} {ms(cpu['p999_us']):>10} {ms(cpu['max_us']):>8} "
                  f"{report['held_attack'] + report['held_normal']:>6} {report['held_normal']:>12}")
        load = os.getloadavg()[0]
        print("\ntarget: p99.9 under 10 ms over all posts during the attack (JIT: %s); load average %.1f on %d cores"
              % (report["jit"], load, os.cpu_count() or 0))
    finally:
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    sys.exit(main())
