#!/usr/bin/env python3
"""Throughput of `warden scan` against pcre2grep, on the generated corpus and on real traffic.

Two corpora, measured in the same run: the generated one (N social-media-length posts,
mostly clean, a few per cent breaking a guideline) and the real-traffic one
(scripts/realtraffic.py, seed 15: posts a customer-service page gets, from ../shared/data).
For each, `warden scan` (release build) over them as JSON Lines and, interleaved, pcre2grep
counting matches of the same compiled patterns (`warden check --print-patterns`) over the
same texts, one post per line; medians of the runs, and their ratio.

Instructions per post under callgrind (the figure that carries across machines): `warden
scan` over the first --callgrind posts, minus a run over an empty file (start-up: loading
and compiling the rules). Beside it, the floor: pcre2grep with profanity.strong's pattern
alone (one PCRE2 JIT pass of its prefix tree per post) over the same texts, minus pcre2grep
over an empty file; that figure includes pcre2grep's own line handling, a few hundred
instructions, so it slightly overstates one pass.
"""
import argparse, json, os, random, resource, shutil, statistics, subprocess, sys, tempfile, time

from spoolkit import script_module

CLEAN = [
    "Hi, my parcel was meant to arrive on Tuesday and it still hasn't turned up. Can someone check?",
    "Thanks for the quick reply yesterday, the new router works perfectly now.",
    "What time does the Leeds branch open on Sunday? The website says 10 but the sign says 11.",
    "Is the 14:05 to Manchester running today? The app shows it as delayed but no reason given.",
    "Lovely service at the Clifton store, the staff were really patient with my mum.",
    "I've been on hold for 40 minutes, this is the third time this week. Please call me back.",
    "Does the council collect garden waste over Christmas or do we need to take it to the tip?",
    "The classic menu is back! Had the cocktail special in Scunthorpe last night, brilliant.",
    "My Galaxy A55 screen cracked after two weeks, is that covered by the warranty?",
    "Still waiting on the refund for order 5512-3398, it has been 21 days.",
    "Any update on the roadworks on Penistone Road? Traffic is terrible every morning.",
    "Great to see the library opening longer hours, thank you to everyone involved.",
    "Why is my bill £30 higher this month when my usage went down?",
    "Can I bring a folding bike on the train at peak times?",
    "The assassin's creed bundle is out of stock again, when will you restock?",
]
WORDS = ("the a to and of in is it you that for on was with as have be at this but they not are "
         "service order delivery refund staff store today week call phone email help please thanks "
         "train bus council bin street road parcel app account bill price team manager").split()
BAD = [
    "this is fucking ridiculous, three weeks and no refund",
    "what a load of sh1t, cancel my account",
    "your driver is an absolute idiot",
    "CHECK OUT MY CHANNEL for free giveaways!!! subscribe to me",
    "earn $500 a day from home, DM me on whatsapp",
    "my card is 4111 1111 1111 1111 please refund it",
    "call me on 07700 900123 about my complaint",
    "f.u.c.k this company",
    "visit bit.ly/win-now http://spam.example.com www.free-stuff.example",
]

def make_corpus(n, seed=7):
    rng = random.Random(seed)
    posts = []
    for i in range(n):
        r = rng.random()
        if r < 0.04:
            text = rng.choice(BAD)
        elif r < 0.55:
            text = rng.choice(CLEAN)
        else:
            k = rng.randint(8, 45)
            text = " ".join(rng.choice(WORDS) for _ in range(k)).capitalize() + rng.choice([".", "?", "!", ""])
        posts.append({"id": f"b-{i}", "platform": "facebook", "author": {"id": f"u-{rng.randint(1, 20000)}", "name": "Sam"},
                      "text": text, "created_at": "2026-11-22T10:00:00Z"})
    return posts

def timed(cmd, stdin_path, stdout=subprocess.DEVNULL):
    with open(stdin_path, "rb") as f:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, stdin=f, stdout=stdout, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - t0
    if p.returncode not in (0, 1):
        sys.exit(f"{cmd[0]} failed ({p.returncode}): {p.stderr.decode()[:500]}")
    return elapsed, p

def callgrind_collected(cmd):
    """Instructions executed by `cmd` under callgrind (the 'Collected' figure)."""
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in p.stderr.splitlines():
        if "Collected" in line:
            return int(line.split(":")[-1].strip().replace(",", ""))
    sys.exit(f"callgrind gave no count for {cmd[:3]}: {p.stderr[-500:]}")

def head(src, dst, n):
    with open(src, encoding="utf-8") as a, open(dst, "w", encoding="utf-8") as b:
        for _, line in zip(range(n), a):
            b.write(line)

def callgrind_figures(args, binary, workdir, jsonl, texts, floor_pattern):
    """(warden instructions per post, floor instructions per post), start-up subtracted."""
    n = args.callgrind
    sample, sample_texts, empty = (os.path.join(workdir, x) for x in ("cg.jsonl", "cg.txt", "empty"))
    head(jsonl, sample, n); head(texts, sample_texts, n)
    open(empty, "w").close()
    scan = [binary, "scan", "--rules", args.rules]
    warden = (callgrind_collected(scan + [sample]) - callgrind_collected(scan + [empty])) / n
    grep = ["pcre2grep", "-c", "-i", "-u", "-e", "(*UCP)" + floor_pattern]
    floor = (callgrind_collected(grep + [sample_texts]) - callgrind_collected(grep + [empty])) / n
    return warden, floor

def write_corpus(posts, workdir, name):
    jsonl = os.path.join(workdir, name + ".jsonl")
    texts = os.path.join(workdir, name + ".txt")
    with open(jsonl, "w", encoding="utf-8") as f:
        for p in posts:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    with open(texts, "w", encoding="utf-8") as f:
        for p in posts:
            f.write(p["text"].replace("\r", " ").replace("\n", " ") + "\n")
    return jsonl, texts

def real_traffic(n):
    return list(script_module("realtraffic").build(n, 15))

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--warden", default=".build/release/warden")
    ap.add_argument("--rules", default="rules")
    ap.add_argument("--posts", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--corpus", choices=["generated", "real", "both"], default="both")
    ap.add_argument("--grep-posts", type=int, default=20_000, metavar="N",
                    help="pcre2grep and warden are timed over the first N posts for the ratio (pcre2grep runs every pattern on every line: slow)")
    ap.add_argument("--callgrind", type=int, default=20_000, metavar="N",
                    help="also count instructions per post under valgrind over N posts (0 to skip): repeatable on a noisy machine")
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="warden-bench-")
    listing = subprocess.run([args.warden, "check", "--format", "json", "--print-patterns", args.rules], capture_output=True, text=True, check=True).stdout
    entries = [json.loads(line) for line in listing.splitlines() if line.strip()]
    patterns = [e["pattern"] for e in entries]
    floor_pattern = next(e["pattern"] for e in entries if e["rule"] == "profanity.strong")
    # One -e per pattern: moderators' patterns may span lines in (?x) mode, which -f cannot read.
    pattern_args = [arg for p in patterns for arg in ("-e", "(*UCP)" + p)]
    binary = os.path.join(workdir, "warden-stripped")  # valgrind cannot read Swift's DWARF 5
    shutil.copy(args.warden, binary)
    subprocess.run(["strip", binary], check=True)

    corpora = []
    if args.corpus in ("generated", "both"):
        corpora.append(("generated", make_corpus(args.posts)))
    if args.corpus in ("real", "both"):
        corpora.append(("real traffic", real_traffic(args.posts)))
    print(f"{len(patterns)} patterns from {args.rules}; pinned to one core (taskset -c 0); medians of {args.runs} interleaved runs")
    for name, posts in corpora:
        jsonl, texts = write_corpus(posts, workdir, name.replace(" ", "-"))
        small_jsonl, small_texts = (os.path.join(workdir, "small" + x) for x in (".jsonl", ".txt"))
        grep_n = min(args.grep_posts, len(posts))
        head(jsonl, small_jsonl, grep_n); head(texts, small_texts, grep_n)
        text_bytes = os.path.getsize(texts)
        warden_cmd = ["taskset", "-c", "0", args.warden, "scan", "--rules", args.rules, "-"]
        grep_cmd = ["taskset", "-c", "0", "pcre2grep", "-c", "-i", "-u"] + pattern_args
        w_times, ws_times, g_times = [], [], []
        for _ in range(args.runs):  # interleaved, so all see the same machine load
            w, _ = timed(warden_cmd, jsonl)
            ws, _ = timed(warden_cmd, small_jsonl)
            g, gp = timed(grep_cmd, small_texts, stdout=subprocess.PIPE)
            w_times.append(w); ws_times.append(ws); g_times.append(g)
        rss = subprocess.run(["/usr/bin/env", "python3", "-c",
            "import resource,subprocess,sys; subprocess.run(sys.argv[1:], stdin=open(%r,'rb'), stdout=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)" % jsonl] + warden_cmd[3:],
            capture_output=True, text=True).stdout.strip()
        _, acted_run = timed([args.warden, "scan", "--rules", args.rules, "--actions-only", "--format", "text", "-"], jsonl, stdout=subprocess.PIPE)
        acted = len(acted_run.stdout.splitlines())
        wm, wsm, gm = statistics.median(w_times), statistics.median(ws_times), statistics.median(g_times)
        print(f"\n== {name}: {len(posts)} posts, {text_bytes/1e6:.1f} MB of text, {acted} ({100*acted/len(posts):.1f}%) need an action")
        print(f"{'':26}{'median s':>10}{'posts/s':>12}{'min s':>8}{'max s':>8}")
        print(f"{'warden scan':26}{wm:10.3f}{len(posts)/wm:12,.0f}{min(w_times):8.3f}{max(w_times):8.3f}")
        print(f"{f'warden scan, {grep_n} posts':26}{wsm:10.3f}{grep_n/wsm:12,.0f}{min(ws_times):8.3f}{max(ws_times):8.3f}")
        print(f"{f'pcre2grep, {grep_n} posts':26}{gm:10.3f}{grep_n/gm:12,.0f}{min(g_times):8.3f}{max(g_times):8.3f}")
        print(f"ratio: warden scan is {gm/wsm:.2f}x the speed of pcre2grep on the same patterns and texts (median of per-run ratios {statistics.median(g/w for g, w in zip(g_times, ws_times)):.2f}x)")
        print(f"warden peak RSS: {int(rss)/1024:.1f} MiB")
        if args.callgrind and shutil.which("valgrind"):
            n = min(args.callgrind, len(posts))
            args.callgrind = n
            per_post, floor = callgrind_figures(args, binary, workdir, jsonl, texts, floor_pattern)
            print(f"instructions per post (callgrind, {n} posts, start-up subtracted): {per_post:,.0f}")
            print(f"floor, one PCRE2 JIT pass of profanity.strong per post (pcre2grep, same texts): {floor:,.0f}  (warden = {per_post/floor:.1f} passes)")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} (2 cores; wall-clock figures are only comparable at similar load)")

if __name__ == "__main__":
    main()
