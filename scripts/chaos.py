#!/usr/bin/env python3
"""Crash test for `warden run`: SIGKILL at random instants, restart, and check the DESIGN.md
invariant against an uninterrupted run over the same posts.

What it does
------------
1. Generates a deterministic stream of input files (seeded): single posts, some clean and
   some breaking a guideline, many by a few repeat offenders so strikes add up to
   hold_author and block_author; edits (the same post id again, later, by the same author);
   .jsonl batches mixing authors, some with a bad line; and invalid files (not JSON, empty,
   missing text, an id with "../", not UTF-8, a wrong type).
2. Reference run: one daemon, never interrupted, is fed the whole stream in order and
   drained.
3. Chaos run: on a fresh spool, in cycles: start the daemon, rename the next chunk of files
   into the inbox while it starts, wait a random delay, SIGKILL it. The delay is drawn
   from 0 up to a bit more than start-up plus one chunk's processing time, calibrated
   first, so kills land in rule loading and recovery, claiming, judging, the ledger write,
   the decisions.jsonl append, the action-file write and rename, the move into done/, and
   (with a 16 KiB rotation size) decisions.jsonl rotation. After each kill the spool is
   inspected to tell where the kill landed (a histogram is printed).
4. At the end the daemon is started once more, left to drain, stopped with SIGTERM, and
   the spool is checked:
   - inbox/ and processing/ are empty; no dot-temporaries in outbox/ or failed/;
   - every input file is in exactly one of done/ or failed/ (and where the reference run
     put it), failed/ holding NAME.error beside each, and nothing else;
   - every decisions.jsonl line (rotated files included) is whole JSON;
   - every judged post version has the same decision every time it was logged (a post
     judged again after a crash must be judged identically);
   - the set of decisions equals the reference run's: for each (post id, version), the
     action, guidelines, rules, matches, message, redaction, strike count and escalation
     (everything but decided_at);
   - outbox/ holds exactly the reference run's action files, byte-identical but for
     decided_at: one per post whose latest version needs an action;
   - the strike ledger (state/ledger.sqlite: strikes, posts, escalations) equals the
     reference run's.

Why an exact comparison is valid
--------------------------------
A decision depends on the post, the rules, and the author's own history (strikes within
the window, earlier posts for repeat_post and flood, standing escalation). Nothing else:
authors do not influence each other, and the shadow guard takes the first rules it sees
as its baseline. So two runs decide identically if each author's posts are judged in the
same order against the same event times. The daemon guarantees per-author order from
claim to judgement (authors are sharded, a shard's jobs run in claim order), and claims
follow the inbox's order: inotify order while running, modification time then name on
a rescan or restart, processing/ (claimed earlier) before inbox/ at recovery. The stream
is written so that all three orders agree: files are renamed in one at a time, in name
order, with zero-padded sequence numbers as names, and an author's posts (edits
included) appear in stream order. Every post carries its own `created_at`, strictly
increasing through the stream and within the last day, so windows are computed from the
post's time, not from when (or how often) it was judged, and a 20-minute gap between the
two runs changes nothing. After a kill, done/ holds a prefix of the claims and processing/
the rest; recovery undoes the rest's ledger changes (latest first, restoring what edits
replaced) and judges it again in claim order, from the histories the uninterrupted run had
at that point. Concurrency across authors, batch boundaries and how many times
a post was judged before a crash are then invisible in the decisions; `decided_at` is the
only field that may differ. A post id can be judged several times (an edit, or again
after a kill), so decisions are keyed by (post id, version): the author's display name
carries the version (a sequence number), which the rules never look at.

Kill placement evidence is inferred from the spool after each kill (temporaries present,
torn last log line, a gap in the rotation numbers, posts in processing/ already logged,
action file in place but post not yet in done/, READY not yet sent).

Usage: scripts/chaos.py --warden .build/release/warden --kills 1000
"""
import argparse
import collections
import datetime
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

from spoolkit import REPO, NotifyListener, default_rules

CLEAN = [
    "Thanks for the quick reply, the bins were collected this morning.",
    "When does the library open on Sundays?",
    "Great event at the park yesterday, well organised!",
    "Is the 42 bus running on the usual timetable during the works?",
    "Could you share the link to the consultation please?",
    "Scunthorpe council meeting is at 7 tonight",
    "a classic assassin film at the cinema this week",
    "the cocktail menu looks great",
    "worst service ever, nobody answers the phone",
    "Penistone road is closed again",
]
VIOLATING = [
    "what the fuck is this",
    "sh1tty service again",
    "you absolute wanker",
    "check out my channel for deals",
    "f.u.c.k this queue",
    "subscribe to my page everyone",
    "deals at http://a.example http://b.example and http://c.example",
    "fuuuuck the council",
]
REPEATED = "buy cheap stuff now"  # posted twice within the hour: spam.repeat holds it

CONFIG = """\
retention:
  done: forever
  decisions_log_bytes: 16384   # rotate often, so kills land in rotation too
  decisions_log_files: 5000    # but never drop a rotated file: the check reads them all
rescan_interval: 30s
log_level: notice
"""


class Item:
    """One input file: its name, its bytes, and the post versions it holds."""

    def __init__(self, name, data, posts, kind):
        self.name = name
        self.data = data
        self.posts = posts  # [(post_id, version)]
        self.kind = kind


def rfc3339(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def generate(count, seed, base_time, edits=0.08):
    """The stream: `count` files. Deterministic for a seed and base time."""
    rng = random.Random(seed)
    authors = [f"u{n:02d}" for n in range(48)]
    offenders = set(authors[:8])
    history = collections.defaultdict(list)  # author -> post ids
    items = []
    version = 0
    post_seq = 0

    def post(author, post_id=None, text=None):
        nonlocal version, post_seq
        version += 1
        if post_id is None:
            post_seq += 1
            post_id = f"fb-{post_seq:06d}"
            history[author].append(post_id)
        if text is None:
            bad = rng.random() < (0.55 if author in offenders else 0.04)
            roll = rng.random()
            if roll < 0.03:
                text = REPEATED
            else:
                text = rng.choice(VIOLATING) if bad else rng.choice(CLEAN)
        obj = {
            "id": post_id,
            "platform": "facebook",
            "author": {"id": author, "name": f"v{version}"},
            "text": text,
            "created_at": rfc3339(base_time + version * 0.01),
            "visibility": "public",
        }
        return obj, (post_id, f"v{version}")

    for index in range(count):
        name = f"{index:06d}"
        roll = rng.random()
        if roll < 0.78:
            obj, key = post(rng.choice(authors))
            items.append(Item(name + ".json", json.dumps(obj).encode(), [key], "post"))
        elif roll < 0.78 + edits:
            author = rng.choice(authors)
            if not history[author]:
                obj, key = post(author)
                items.append(Item(name + ".json", json.dumps(obj).encode(), [key], "post"))
                continue
            obj, key = post(author, post_id=rng.choice(history[author][-5:]),
                            text=rng.choice(CLEAN if rng.random() < 0.5 else VIOLATING))
            items.append(Item(name + "-edit.json", json.dumps(obj).encode(), [key], "edit"))
        elif roll < 0.86 + edits:
            lines, keys = [], []
            for _ in range(rng.randint(2, 6)):
                obj, key = post(rng.choice(authors))
                lines.append(json.dumps(obj).encode())
                keys.append(key)
            if rng.random() < 0.3:
                lines.insert(rng.randint(0, len(lines)), b'{"id": "broken", "text": ')
            items.append(Item(name + "-batch.jsonl", b"\n".join(lines) + b"\n", keys, "batch"))
        else:
            bad = rng.choice([
                b"{ this is not json",
                b"",
                b'{"id": "x-%d", "author": {"id": "u01"}}' % index,
                b'{"id": "../../etc/x", "author": {"id": "u01"}, "text": "hi"}',
                b'{"id": "x-%d", "author": {"id": "u01"}, "text": "caf\xe9"}' % index,
                b'{"id": "x-%d", "author": {"id": "u01"}, "text": 5}' % index,
            ])
            items.append(Item(name + "-bad.json", bad, [], "invalid"))
    return items


class Daemon:
    """One `warden run` process on a spool, with an sd_notify socket to see READY=1."""

    def __init__(self, warden, rules, spool, log_path, workers):
        self.warden, self.rules, self.spool, self.workers = warden, rules, spool, workers
        self.log_path = log_path
        self.config = os.path.join(os.path.dirname(spool), os.path.basename(spool) + ".yaml")
        with open(self.config, "w") as f:
            f.write(CONFIG)
        self.notify_path = os.path.join(os.path.dirname(spool), os.path.basename(spool) + ".notify")
        self.notify = NotifyListener(self.notify_path)
        self.proc = None
        for sub in ("inbox", "processing", "outbox", "done", "failed", "state"):
            os.makedirs(os.path.join(spool, sub), exist_ok=True)

    def start(self):
        self.drain_notify()
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.warden, "run", "--config", self.config, "--rules", self.rules, "--state", self.spool,
             "--workers", str(self.workers)],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env)
        log.close()

    def drain_notify(self):
        return self.notify.drain()

    def wait_ready(self, timeout=60):
        return self.notify.wait_for("READY=1", timeout, self.proc)

    def kill(self):
        self.proc.kill()
        self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code

    def stop(self, timeout=120):
        self.proc.terminate()
        try:
            code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = "hung on SIGTERM"
        self.proc = None
        return code

    def close(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
        self.notify.close()


def drop(spool, item):
    """As a producer must: a dot-file in the inbox, then rename(2)."""
    inbox = os.path.join(spool, "inbox")
    temporary = os.path.join(inbox, "." + item.name + ".tmp")
    with open(temporary, "wb") as f:
        f.write(item.data)
    os.rename(temporary, os.path.join(inbox, item.name))


def listdir(spool, sub):
    try:
        return os.listdir(os.path.join(spool, sub))
    except FileNotFoundError:
        return []


def finished_inputs(spool):
    """Input files that reached done/ or failed/ (not the .error notes or rejected lines)."""
    done = listdir(spool, "done")
    failed = [n for n in listdir(spool, "failed")
              if not n.endswith(".error") and ".line-" not in n and not n.startswith(".")]
    return done, failed


def wait_drained(daemon, expected_inputs, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, failed = finished_inputs(daemon.spool)
        if (len(done) + len(failed) >= expected_inputs and not listdir(daemon.spool, "inbox")
                and not listdir(daemon.spool, "processing")):
            return True
        if daemon.proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def log_files(spool):
    names = [n for n in os.listdir(spool) if n.startswith("decisions.jsonl")]

    def order(name):
        suffix = name[len("decisions.jsonl"):]
        return -int(suffix[1:]) if suffix else 0
    return [os.path.join(spool, n) for n in sorted(names, key=order)]


def normalised(obj):
    obj = dict(obj)
    obj.pop("decided_at", None)
    return json.dumps(obj, sort_keys=True)


def read_spool(spool):
    """Everything the comparison needs, and the problems found reading it."""
    problems = []
    decisions = collections.defaultdict(list)
    lines = 0
    for path in log_files(spool):
        with open(path, "rb") as f:
            data = f.read()
        if data and not data.endswith(b"\n"):
            problems.append(f"{os.path.basename(path)}: last line is torn")
        lines_in_file = data.split(b"\n")
        if lines_in_file and lines_in_file[-1] == b"":
            lines_in_file.pop()
        for number, line in enumerate(lines_in_file, 1):
            try:
                obj = json.loads(line)
            except ValueError:
                problems.append(f"{os.path.basename(path)}:{number}: not JSON: {line[:80]!r}")
                continue
            lines += 1
            decisions[(obj["post_id"], obj["author"].get("name"))].append(normalised(obj))
    outbox = {}
    for name in listdir(spool, "outbox"):
        with open(os.path.join(spool, "outbox", name), "rb") as f:
            data = f.read()
        try:
            outbox[name] = normalised(json.loads(data))
        except ValueError:
            outbox[name] = "NOT JSON: " + data[:80].decode(errors="replace")
    failed = {}
    for name in listdir(spool, "failed"):
        path = os.path.join(spool, "failed", name)
        if os.path.isfile(path) and not os.path.islink(path):
            with open(path, "rb") as f:
                failed[name] = f.read()
        else:
            failed[name] = b"(not a regular file)"
    ledger = {}
    db = os.path.join(spool, "state", "ledger.sqlite")
    if os.path.exists(db):
        connection = sqlite3.connect(db)
        for table, columns in (("strikes", "post_id, guideline, author, at"), ("posts", "post_id, author, at, digest"),
                               ("escalations", "post_id, author, action, at")):
            ledger[table] = sorted(connection.execute(f"SELECT {columns} FROM {table}").fetchall())
        connection.close()
    return {"decisions": decisions, "lines": lines, "outbox": outbox, "failed": failed,
            "done": set(listdir(spool, "done")), "ledger": ledger, "problems": problems}


def check(items, chaos, reference, spool):
    """The DESIGN.md invariant, and equality with the uninterrupted run. Returns failures."""
    failures = list(chaos["problems"])
    inbox, processing = listdir(spool, "inbox"), listdir(spool, "processing")
    if inbox:
        failures.append(f"inbox/ not empty: {sorted(inbox)[:10]}")
    if processing:
        failures.append(f"processing/ not empty: {sorted(processing)[:10]}")
    temporaries = [n for n in chaos["outbox"] if n.startswith(".")] + [n for n in chaos["failed"] if n.startswith(".")]
    if temporaries:
        failures.append(f"temporaries left behind: {temporaries[:10]}")
    inputs = {item.name for item in items}
    failed_inputs = {n for n in chaos["failed"] if not n.endswith(".error") and ".line-" not in n}
    both = chaos["done"] & failed_inputs
    if both:
        failures.append(f"in both done/ and failed/: {sorted(both)[:10]}")
    missing = inputs - chaos["done"] - failed_inputs
    if missing:
        failures.append(f"{len(missing)} input files in neither done/ nor failed/: {sorted(missing)[:10]}")
    unknown = (chaos["done"] | failed_inputs) - inputs
    if unknown:
        failures.append(f"unexpected files in done/ or failed/: {sorted(unknown)[:10]}")
    for name in failed_inputs | {n for n in chaos["failed"] if ".line-" in n and not n.endswith(".error")}:
        if name + ".error" not in chaos["failed"]:
            failures.append(f"failed/{name} has no {name}.error beside it")
    if chaos["done"] != reference["done"]:
        failures.append(f"done/ differs from the reference run: only here {sorted(chaos['done'] - reference['done'])[:5]}, "
                        f"only there {sorted(reference['done'] - chaos['done'])[:5]}")
    if chaos["failed"] != reference["failed"]:
        names = sorted(set(chaos["failed"]) ^ set(reference["failed"]) |
                       {n for n in chaos["failed"] if reference["failed"].get(n) != chaos["failed"][n]})
        failures.append(f"failed/ differs from the reference run: {names[:10]}")

    inconsistent = [key for key, seen in chaos["decisions"].items() if len(set(seen)) > 1]
    for key in inconsistent[:5]:
        failures.append(f"post {key[0]} ({key[1]}) was judged differently on different attempts:\n    "
                        + "\n    ".join(sorted(set(chaos["decisions"][key]))))
    if inconsistent:
        failures.append(f"{len(inconsistent)} post versions judged inconsistently in total")
    expected = {key: seen[0] for key, seen in reference["decisions"].items()}
    got = {key: seen[-1] for key, seen in chaos["decisions"].items()}
    if set(expected) != set(got):
        failures.append(f"decided post versions differ: missing {sorted(set(expected) - set(got))[:5]}, "
                        f"extra {sorted(set(got) - set(expected))[:5]}")
    differing = [key for key in expected.keys() & got.keys() if expected[key] != got[key]]
    for key in sorted(differing)[:5]:
        failures.append(f"decision for {key[0]} ({key[1]}) differs from the reference run:\n"
                        f"    reference: {expected[key]}\n    chaos:     {got[key]}")
    if differing:
        failures.append(f"{len(differing)} decisions differ from the reference run in total")
    if set(chaos["outbox"]) != set(reference["outbox"]):
        failures.append(f"outbox/ names differ: only here {sorted(set(chaos['outbox']) - set(reference['outbox']))[:5]}, "
                        f"only there {sorted(set(reference['outbox']) - set(chaos['outbox']))[:5]}")
    differing_files = [n for n in set(chaos["outbox"]) & set(reference["outbox"]) if chaos["outbox"][n] != reference["outbox"][n]]
    for name in sorted(differing_files)[:5]:
        failures.append(f"outbox/{name} differs:\n    reference: {reference['outbox'][name]}\n    chaos:     {chaos['outbox'][name]}")
    # Exactly the posts whose latest version needs an action have an action file.
    latest = {}
    for (post_id, version), seen in chaos["decisions"].items():
        number = int(version[1:])
        if post_id not in latest or number > latest[post_id][0]:
            latest[post_id] = (number, json.loads(seen[-1]))
    needing = {f"{pid}.json" for pid, (_, d) in latest.items() if d["action"] != "allow" or d["author"].get("escalation")}
    if needing != {n for n in chaos["outbox"] if not n.startswith(".")}:
        failures.append(f"action files do not match the posts that need one: missing {sorted(needing - set(chaos['outbox']))[:5]}, "
                        f"stale {sorted(set(chaos['outbox']) - needing)[:5]}")
    for table in ("strikes", "posts", "escalations"):
        if chaos["ledger"].get(table) != reference["ledger"].get(table):
            only_here = set(chaos["ledger"].get(table, [])) - set(reference["ledger"].get(table, []))
            only_there = set(reference["ledger"].get(table, [])) - set(chaos["ledger"].get(table, []))
            failures.append(f"ledger table {table} differs: only here {sorted(only_here)[:3]}, only there {sorted(only_there)[:3]}")
    return failures


class KillSite:
    """Where a kill landed, inferred from what the spool shows right after it."""

    def __init__(self, spool, items_by_name):
        self.spool = spool
        self.items_by_name = items_by_name
        self.previous_gaps = 0
        self.counts = collections.Counter()

    def classify(self, ready_seen):
        spool = self.spool
        sites = []
        if not ready_seen:
            sites.append("start-up: loading rules, recovering processing/ (before READY=1)")
        log = os.path.join(spool, "decisions.jsonl")
        rotated = sorted(int(n.rsplit(".", 1)[1]) for n in os.listdir(spool)
                         if n.startswith("decisions.jsonl.") and n.rsplit(".", 1)[1].isdigit())
        gaps = (rotated[-1] - len(rotated)) if rotated else 0
        if (rotated and not os.path.exists(log)) or gaps > self.previous_gaps:
            sites.append("decisions.jsonl rotation (between its renames)")
        self.previous_gaps = gaps
        if os.path.exists(log):
            size = os.path.getsize(log)
            if size:
                with open(log, "rb") as f:
                    f.seek(size - 1)
                    if f.read(1) != b"\n":
                        sites.append("decisions.jsonl append (torn last line)")
        temporaries = [n for n in listdir(spool, "outbox") + listdir(spool, "failed") if n.startswith(".")]
        if temporaries:
            sites.append("action/error files written to temporaries, not yet renamed")
        processing = listdir(spool, "processing")
        if processing:
            tail = b""
            for path in log_files(spool)[-2:]:
                with open(path, "rb") as f:
                    tail += f.read()
            logged = renamed = False
            for name in processing:
                item = self.items_by_name.get(name)
                for post_id, version in (item.posts if item else []):
                    if b'"post_id":"%s"' % post_id.encode() in tail and b'"name":"%s"' % version.encode() in tail:
                        logged = True
                    try:
                        with open(os.path.join(spool, "outbox", post_id + ".json"), "rb") as f:
                            if b'"name":"%s"' % version.encode() in f.read():
                                renamed = True
                    except OSError:
                        pass
            if renamed:
                sites.append("action files renamed into outbox/, posts not yet moved to done/")
            elif logged:
                sites.append("batch in ledger and decisions.jsonl, action files not yet in outbox/")
            else:
                sites.append("posts claimed into processing/, batch not yet committed")
        if not sites:
            sites.append("between batches (nothing in flight)" if not listdir(spool, "inbox")
                         else "claiming from inbox/ (nothing claimed yet)")
        for site in sites:
            self.counts[site] += 1
        return sites


def make_spool_root(requested):
    if requested:
        os.makedirs(requested, exist_ok=True)
        return tempfile.mkdtemp(prefix="warden-chaos-", dir=requested)
    # tmpfs: a SIGKILL test is about the process, not the disk, and syncfs on the shared
    # root filesystem of a busy build machine would make every batch wait for other
    # people's writes. --dir puts the spool on a real disk instead.
    base = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    return tempfile.mkdtemp(prefix="warden-chaos-", dir=base)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warden", default=os.path.join(REPO, ".build", "release", "warden"))
    parser.add_argument("--rules", default=default_rules())
    parser.add_argument("--kills", type=int, default=1000)
    parser.add_argument("--files-per-kill", type=float, default=20, help="average input files renamed in per cycle")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--edits", type=float, default=0.08, help="share of input files that edit an earlier post")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--dir", help="where to make the spools (default: /dev/shm, a tmpfs)")
    parser.add_argument("--keep", action="store_true", help="keep the spools for inspection")
    parser.add_argument("--json", help="also write the result as JSON to this file")
    args = parser.parse_args()

    warden = os.path.abspath(args.warden)
    if not os.access(warden, os.X_OK):
        sys.exit(f"chaos: no warden binary at {warden}; build it first (swift build -c release)")
    started = time.monotonic()
    root = make_spool_root(args.dir)
    rules = os.path.join(root, "rules")
    shutil.copytree(args.rules, rules)
    count = max(50, int(args.kills * args.files_per_kill))
    # Event times 10 ms apart, all in the past for both runs and well inside the daemon's
    # history window (1 h here: the longest `within:` of the rules), which at start-up is
    # counted back from the wall clock.
    base_time = int(time.time()) - 60 - int(count * 1.2 * 0.01)
    items = generate(count, args.seed, base_time, args.edits)
    posts = sum(len(item.posts) for item in items)
    print(f"chaos: {count} input files ({posts} post versions) from seed {args.seed}; rules {args.rules}; spools under {root}",
          flush=True)

    # Reference: one uninterrupted run over the whole stream, in order.
    reference_daemon = Daemon(warden, rules, os.path.join(root, "reference"), os.path.join(root, "reference.log"), args.workers)
    reference_daemon.start()
    ready_started = time.monotonic()
    if not reference_daemon.wait_ready():
        sys.exit(f"chaos: the reference daemon did not start; see {root}/reference.log")
    ready_time = time.monotonic() - ready_started
    reference_started = time.monotonic()
    for item in items:
        drop(reference_daemon.spool, item)
    if not wait_drained(reference_daemon, len(items), timeout=600):
        sys.exit(f"chaos: the reference run did not drain; see {root}/reference.log")
    reference_seconds = time.monotonic() - reference_started
    code = reference_daemon.stop()
    reference_daemon.close()
    if code != 0:
        sys.exit(f"chaos: the reference daemon exited with {code} on SIGTERM")
    reference = read_spool(reference_daemon.spool)
    if reference["problems"]:
        sys.exit("chaos: the reference run itself is inconsistent:\n" + "\n".join(reference["problems"]))
    per_file = reference_seconds / len(items)
    print(f"chaos: reference run judged {reference['lines']} post versions in {reference_seconds:.1f} s "
          f"({per_file * 1000:.2f} ms per file); start-up to READY {ready_time * 1000:.0f} ms", flush=True)

    # Chaos: start, feed a chunk, kill at a random instant, repeat.
    rng = random.Random(args.seed * 7919 + 1)
    daemon = Daemon(warden, rules, os.path.join(root, "chaos"), os.path.join(root, "chaos.log"), args.workers)
    sites = KillSite(daemon.spool, {item.name: item for item in items})
    fed = 0
    kills = 0
    exits = collections.Counter()
    restarts_before_ready = 0
    # The delay is adaptive: start-up time and seconds per file are measured on the go (a
    # loaded machine, a long recovery), so that kills keep landing in every stage instead
    # of always before READY or always when idle.
    ready_estimate = ready_time
    per_file_estimate = per_file
    while kills < args.kills:
        finished_before = sum(len(x) for x in finished_inputs(daemon.spool))
        daemon.start()
        launched = time.monotonic()
        backlog = len(listdir(daemon.spool, "inbox")) + len(listdir(daemon.spool, "processing"))
        if fed < len(items) and backlog < 6 * args.files_per_kill:
            chunk = rng.randint(1, int(2 * args.files_per_kill) - 1)
            for item in items[fed:fed + chunk]:
                drop(daemon.spool, item)
            fed = min(len(items), fed + chunk)
            backlog += chunk
        # A quarter of the kills during start-up (rule loading, recovery of processing/),
        # the rest at a random point of the work after READY=1.
        during_startup = rng.random() < 0.25
        if during_startup:
            delay = rng.uniform(0, ready_estimate * 1.2)
        else:
            delay = rng.uniform(0, backlog * per_file_estimate * 2 + 0.01)
        ready_at = None
        while True:
            now = time.monotonic()
            if ready_at is None and any("READY=1" in m for m in daemon.drain_notify()):
                ready_at = now
            origin = launched if during_startup else ready_at
            if origin is not None and now - origin >= delay:
                break
            if now - launched > 30:
                break  # never READY: killed anyway, and the final check will tell
            time.sleep(0.001)
        if ready_at is None and any("READY=1" in m for m in daemon.drain_notify()):
            ready_at = time.monotonic()
        killed_at = time.monotonic()
        exits[daemon.kill()] += 1
        kills += 1
        if ready_at is None:
            restarts_before_ready += 1
        else:
            ready_estimate = 0.8 * ready_estimate + 0.2 * (ready_at - launched)
            finished = sum(len(x) for x in finished_inputs(daemon.spool)) - finished_before
            still_busy = listdir(daemon.spool, "inbox") or listdir(daemon.spool, "processing")
            if not still_busy:
                per_file_estimate *= 0.8  # it was idle before the kill: aim earlier
            elif finished > 0 and killed_at - ready_at > 0.005:
                per_file_estimate = 0.8 * per_file_estimate + 0.2 * (killed_at - ready_at) / finished
        sites.classify(ready_at is not None)
        if kills % 100 == 0:
            print(f"chaos: {kills} kills, {fed}/{len(items)} files fed, {time.monotonic() - started:.0f} s "
                  f"(start-up ~{ready_estimate * 1000:.0f} ms, ~{per_file_estimate * 1000:.2f} ms per file)", flush=True)
    # Feed whatever is left, then let it drain undisturbed.
    daemon.start()
    for item in items[fed:]:
        drop(daemon.spool, item)
    drained = daemon.wait_ready() and wait_drained(daemon, len(items), timeout=900)
    code = daemon.stop()
    daemon.close()
    chaos = read_spool(daemon.spool)
    failures = [] if drained else ["the daemon did not drain after the last restart"]
    if code != 0:
        failures.append(f"the daemon exited with {code} on SIGTERM after draining")
    if set(exits) != {-9}:
        failures.append(f"unexpected exit statuses when killed: {dict(exits)} (a crash before the kill?)")
    failures += check(items, chaos, reference, daemon.spool)
    crashes = sum(1 for line in open(daemon.log_path, errors="replace") if "Fatal error" in line)

    elapsed = time.monotonic() - started
    print()
    print(f"kills: {kills} (SIGKILL), {restarts_before_ready} of them before READY=1; elapsed {elapsed:.0f} s")
    print(f"input files: {len(items)} ({posts} post versions; {sum(1 for i in items if i.kind == 'edit')} edits, "
          f"{sum(1 for i in items if i.kind == 'batch')} .jsonl batches, {sum(1 for i in items if i.kind == 'invalid')} invalid)")
    print(f"decisions logged: reference {reference['lines']}, chaos {chaos['lines']} "
          f"({chaos['lines'] - reference['lines']} judged again after a kill)")
    print(f"action files: reference {len(reference['outbox'])}, chaos {len(chaos['outbox'])}; "
          f"escalations in the ledger: {len(chaos['ledger'].get('escalations', []))}")
    print("where the kills landed (a kill can show several):")
    for site, n in sites.counts.most_common():
        print(f"  {n:6d}  {site}")
    if crashes:
        print(f"warning: {crashes} lines mentioning a fatal error in {daemon.log_path}")
    result = {"kills": kills, "files": len(items), "post_versions": posts, "elapsed_s": round(elapsed),
              "decisions_reference": reference["lines"], "decisions_chaos": chaos["lines"],
              "action_files": len(chaos["outbox"]), "sites": dict(sites.counts), "failures": failures}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    if failures:
        print(f"\nINVARIANT BROKEN ({len(failures)} problems); spools kept in {root}:")
        for failure in failures:
            print("  - " + failure)
        sys.exit(1)
    print("\ninvariant holds: every input file in exactly one of done/ or failed/, inbox/ and processing/ empty, "
          "no temporaries, one action file per post that needs one, decisions and ledger identical to the uninterrupted run")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
