#!/usr/bin/env python3
"""Build the real-traffic benchmark corpus: posts a customer-service page actually gets.

Every text comes from ../shared/data (written by third parties); nothing is copied into the
repository: the corpus is written to a path you give (default bench-out/realtraffic.jsonl,
git-ignored) and rebuilt byte for byte from the same seed.

Mix (shares of posts, sampled with replacement; documented in docs/PERFORMANCE.md):
  48.0%  airline-tweets            customers' tweets to five US airlines (complaints, praise, questions)
  37.0%  twcs-inbound-head         customers' tweets to brands' support accounts
   2.0%  youtube-comments          any row (about half spam)
   2.0%  scamspot-instagram-comments  spam rows (scams under finance posts)
   1.0%  scamspot-instagram-comments  other rows
   2.5%  davidson-tweets           any row (mostly offensive language)
   2.5%  kaggle-insults-train      any row (about a quarter insults)
   3.0%  personal data             a customer tweet with a synthetic contact detail appended
                                   (phone, email, card or order reference), as people do
   2.0%  personal data             the same, sampled from twcs
Ids are unique (rt-N); authors are drawn from 50,000 with a skew (a few post a lot);
created_at advances one second a post so time-window rules see a realistic spread.
"""
import argparse, json, os, random, sys
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
def _data_dir():
    """../shared/data beside the repository, looked for upwards (a git worktree such as
    /work/wt/perf sits one level deeper than /work/main); WARDEN_SHARED_DATA overrides."""
    if os.environ.get("WARDEN_SHARED_DATA"):
        return os.environ["WARDEN_SHARED_DATA"]
    here = os.path.dirname(HERE)
    while True:
        candidate = os.path.join(os.path.dirname(here), "shared", "data")
        if os.path.isdir(candidate) or os.path.dirname(here) == here:
            return candidate
        here = os.path.dirname(here)

DATA = _data_dir()

MIX = [
    (0.480, "airline-tweets.jsonl", None, False),
    (0.370, "twcs-inbound-head.jsonl", None, False),
    (0.020, "youtube-comments.jsonl", None, False),
    (0.020, "scamspot-instagram-comments.jsonl", "spam", False),
    (0.010, "scamspot-instagram-comments.jsonl", "clean", False),
    (0.025, "davidson-tweets.jsonl", None, False),
    (0.025, "kaggle-insults-train.jsonl", None, False),
    (0.030, "airline-tweets.jsonl", None, True),
    (0.020, "twcs-inbound-head.jsonl", None, True),
]

def contact_detail(rng):
    kind = rng.randrange(4)
    if kind == 0:
        return "call me on 07700 9%05d" % rng.randrange(100000)
    if kind == 1:
        return "my email is %s.%s%d@example.com" % (rng.choice(["sam", "jo", "alex", "kim"]), rng.choice(["lee", "ray", "fox"]), rng.randrange(100))
    if kind == 2:
        return "card 4111 1111 1111 1111 was charged twice"
    return "booking ref %s%05d" % (rng.choice(["ABX", "QPR", "ZT"]), rng.randrange(100000))

def load(name, which):
    rows = []
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if which == "spam" and "spam" not in row["labels"]:
                continue
            if which == "clean" and "spam" in row["labels"]:
                continue
            rows.append(row["text"])
    return rows

def build(n, seed):
    rng = random.Random(seed)
    pools = {(name, which): load(name, which) for _, name, which, _ in MIX}
    cum, total = [], 0.0
    for share, name, which, pii in MIX:
        total += share
        cum.append((total, name, which, pii))
    authors = 50_000
    start = datetime(2026, 11, 22, 8, 0, 0, tzinfo=timezone.utc)
    for i in range(n):
        r = rng.random() * total
        for edge, name, which, pii in cum:
            if r < edge:
                break
        text = rng.choice(pools[(name, which)])
        if pii:
            text = text.rstrip() + " " + contact_detail(rng)
        # Skewed authors: a quarter of posts come from the 500 busiest.
        author = rng.randrange(500) if rng.random() < 0.25 else rng.randrange(authors)
        yield {"id": f"rt-{i}", "platform": "twitter", "author": {"id": f"u-{author}", "name": "Sam"},
               "text": text, "created_at": (start + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ")}

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--out", default="bench-out/realtraffic.jsonl")
    a = ap.parse_args()
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        for post in build(a.posts, a.seed):
            f.write(json.dumps(post, ensure_ascii=False, separators=(",", ":")) + "\n")
    print(f"{a.posts} posts -> {a.out} (seed {a.seed})", file=sys.stderr)

if __name__ == "__main__":
    main()
