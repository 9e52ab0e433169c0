#!/usr/bin/env python3
"""Throughput of `warden scan` against pcre2grep over the same generated corpus.

Generates N social-media-length posts (mostly clean, a few per cent breaking a guideline),
runs `warden scan` (release build) over them as JSON Lines, and, side by side in the same
run, pcre2grep counting matches of the same compiled patterns (`warden check
--print-patterns`) over the same texts, one post per line. Each is run several times; the
median is quoted. Peak RSS of warden comes from getrusage of the child.
"""
import argparse, json, os, random, resource, shutil, statistics, subprocess, sys, tempfile, time

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

def callgrind_per_post(args, workdir, jsonl):
    """Instructions per post: the same for the same binary and input whatever else the machine does."""
    binary = os.path.join(workdir, "warden-stripped")  # valgrind cannot read Swift's DWARF 5
    shutil.copy(args.warden, binary)
    subprocess.run(["strip", binary], check=True)
    sample = os.path.join(workdir, "sample.jsonl")
    empty = os.path.join(workdir, "empty.jsonl")
    with open(jsonl) as src, open(sample, "w") as dst:
        for _, line in zip(range(args.callgrind), src):
            dst.write(line)
    open(empty, "w").close()
    def count(path):
        out = os.path.join(workdir, "callgrind.out")
        p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary, "scan", "--rules", args.rules, path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in p.stderr.splitlines():
            if "Collected" in line:
                return int(line.split(":")[-1].strip().replace(",", ""))
        return None
    full, base = count(sample), count(empty)
    return (full - base) / args.callgrind if full and base else None

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--warden", default=".build/release/warden")
    ap.add_argument("--rules", default="rules")
    ap.add_argument("--posts", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--callgrind", type=int, default=2000, metavar="N",
                    help="also count instructions per post under valgrind over N posts (0 to skip): repeatable on a noisy machine")
    args = ap.parse_args()

    workdir = tempfile.mkdtemp(prefix="warden-bench-")
    posts = make_corpus(args.posts)
    jsonl = os.path.join(workdir, "posts.jsonl")
    texts = os.path.join(workdir, "texts.txt")
    with open(jsonl, "w") as f:
        for p in posts:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    with open(texts, "w") as f:
        for p in posts:
            f.write(p["text"].replace("\n", " ") + "\n")
    text_bytes = os.path.getsize(texts)
    json_bytes = os.path.getsize(jsonl)

    listing = subprocess.run([args.warden, "check", "--format", "json", "--print-patterns", args.rules], capture_output=True, text=True, check=True).stdout
    patterns = [json.loads(line)["pattern"] for line in listing.splitlines() if line.strip()]
    # One -e per pattern: moderators' patterns may span lines in (?x) mode, which -f cannot read.
    pattern_args = [arg for p in patterns for arg in ("-e", "(*UCP)" + p)]

    warden_cmd = ["taskset", "-c", "0", args.warden, "scan", "--rules", args.rules, "-"]
    grep_cmd = ["taskset", "-c", "0", "pcre2grep", "-c", "-i", "-u"] + pattern_args
    w_times, g_times = [], []
    for _ in range(args.runs):  # interleaved, so both see the same machine load
        w, _ = timed(warden_cmd, jsonl)
        g, gp = timed(grep_cmd, texts, stdout=subprocess.PIPE)
        w_times.append(w); g_times.append(g)
    # Peak RSS of warden alone: one more run in a child of its own, so pcre2grep does not count.
    rss = subprocess.run(["/usr/bin/env", "python3", "-c",
        "import resource,subprocess,sys; subprocess.run(sys.argv[1:], stdin=open(%r,'rb'), stdout=subprocess.DEVNULL); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)" % jsonl] + warden_cmd[3:],
        capture_output=True, text=True).stdout.strip()
    _, acted_run = timed([args.warden, "scan", "--rules", args.rules, "--actions-only", "--format", "text", "-"], jsonl, stdout=subprocess.PIPE)
    acted = len(acted_run.stdout.splitlines())
    matched_lines = int(gp.stdout.decode().strip() or 0)

    wm, gm = statistics.median(w_times), statistics.median(g_times)
    instructions = None
    if args.callgrind and shutil.which("valgrind"):
        instructions = callgrind_per_post(args, workdir, jsonl)
    print(f"corpus: {args.posts} posts, {text_bytes/1e6:.1f} MB of text ({json_bytes/1e6:.1f} MB as JSON Lines), {len(patterns)} patterns from {args.rules}")
    print(f"runs: {args.runs}, pinned to one core (taskset -c 0); medians quoted")
    print(f"{'':12}{'median s':>10}{'posts/s':>12}{'MB/s text':>11}{'min s':>8}{'max s':>8}")
    print(f"{'warden scan':12}{wm:10.3f}{args.posts/wm:12,.0f}{text_bytes/1e6/wm:11.1f}{min(w_times):8.3f}{max(w_times):8.3f}")
    print(f"{'pcre2grep':12}{gm:10.3f}{args.posts/gm:12,.0f}{text_bytes/1e6/gm:11.1f}{min(g_times):8.3f}{max(g_times):8.3f}")
    print(f"warden scan is {gm/wm:.2f}x the speed of pcre2grep on the same patterns and text")
    print(f"warden peak RSS: {int(rss)/1024:.1f} MiB")
    print(f"posts needing an action: {acted} ({100*acted/args.posts:.1f}%); lines pcre2grep matched: {matched_lines}")
    if instructions:
        print(f"instructions per post (callgrind, {args.callgrind} posts, start-up subtracted): {instructions:,.0f}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} (2 cores; figures are only comparable at similar load)")

if __name__ == "__main__":
    main()
