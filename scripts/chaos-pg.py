#!/usr/bin/env python3
"""Chaos test for several `warden run` instances sharing one PostgreSQL ledger (issue #14,
"Faults"): SIGKILL instances and crash the database at random instants while posts flow,
then check that nothing was lost or doubled and that every decision equals one instance's.

What it does
------------
1. Starts a private PostgreSQL cluster (scripts/pg-cluster.sh start) and --instances
   daemons (the real binary, --warden or $WARDEN_BIN), each with its own spool and the same
   rules, all with `ledger: postgres://…` on that cluster.
2. Feeds --posts posts by --authors authors, each post to a random instance (the same
   authors post to every instance). Each author's posts go in event-time order: an
   author's next post is renamed in only once the previous one is in some instance's done/,
   as a producer that spreads an author's posts over hosts must (docs/STORAGE.md: exactness
   holds when an author's posts reach the hosts in event-time order). Authors are fed
   concurrently. Every post carries its own created_at, increasing, within the last day.
   With --run N, an author's next 1..N posts (random) go to one instance together, in
   order, so that the instance judges them as one group under one lock (Workers'
   `judgeShared`): the kills and crashes then hit groups too.
3. At random instants (drawn as fractions of the posts finished) it SIGKILLs an instance
   and restarts it after a short random pause, and crashes PostgreSQL
   (`pg_ctl stop -m immediate`, scripts/pg-cluster.sh crash) and starts it again after
   1-3 s. An instance that exits on its own (e.g. started while the database was down,
   which is an error at start) is restarted, as systemd's Restart= would.
4. At the end every instance is stopped with SIGTERM and checked:
   - every post file is in exactly one instance's done/, and nothing is left in any
     inbox/ or processing/ or in failed/;
   - each post's decision (the last line for it in its instance's decisions.jsonl: a post
     judged again after a kill is logged again) has the same action, rules, strike count
     and escalation as a reference run: one instance on an SQLite ledger fed the same posts
     in event-time order, uninterrupted;
   - each post that needs an action has exactly one action file, in one outbox/;
   - the shared ledger's strikes per author equal the reference ledger's (no strike
     counted twice, none lost).
   A summary is printed (--json: one JSON object on stdout, for the CI test); the exit
   status is 0 when every check passes, 1 otherwise.

Usage: scripts/chaos-pg.py [--warden BIN] [--posts 3000] [--kills 10] [--db-crashes 3]
"""
import argparse
import collections
import datetime
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spoolkit import NotifyListener  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUSTER = os.path.join(ROOT, "scripts", "pg-cluster.sh")

# Strikes add up to hold_author and block_author within the run; the 30-day window keeps
# every strike in force (prune never removes one mid-run, whatever the wall clock).
RULES = {
    "profanity.yaml": """\
guideline: profanity
title: No profanity
text: Keep it clean.
url: https://example.org/guidelines#profanity
strikes: true
rules:
  - id: profanity.hold
    words: [badword]
    action: hold
    examples:
      match: ["this is a badword"]
      no_match: ["a perfectly fine post"]
""",
    "escalation.yaml": """\
window: 30d
count: [profanity]
thresholds:
  - { strikes: 3, action: hold_author }
  - { strikes: 6, action: block_author }
""",
}
# The reference run reads every post from one JSON Lines file, over the default 1 MiB limit.
CONFIG = "retention:\n  done: forever\nlog_level: notice\nlimits:\n  max_file_bytes: 268435456\n"
CLEAN = ["the bus was late again", "thanks for the help today", "when does the office open", "great service"]


def rfc3339(seconds):
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def generate(count, authors, seed):
    """[(post_id, author, json_bytes)] in event-time order; a third of posts break profanity."""
    rng = random.Random(seed)
    base = time.time() - 86400
    posts = []
    for n in range(count):
        author = f"a{rng.randrange(authors):03d}"
        text = f"{rng.choice(CLEAN)} badword {n}" if rng.random() < 0.33 else f"{rng.choice(CLEAN)} {n}"
        post_id = f"p{n:06d}"
        body = {"id": post_id, "author": {"id": author, "name": author}, "text": text,
                "created_at": rfc3339(base + n * 10)}
        posts.append((post_id, author, json.dumps(body).encode()))
    return posts


def listdir(path):
    try:
        return os.listdir(path)
    except FileNotFoundError:
        return []


def drop(spool, name, data):
    """As a producer must: a dot-file in the inbox, then rename(2)."""
    temporary = os.path.join(spool, "inbox", "." + name + ".tmp")
    with open(temporary, "wb") as f:
        f.write(data)
    os.rename(temporary, os.path.join(spool, "inbox", name))


def cluster(command, directory):
    result = subprocess.run([CLUSTER, command, directory], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"chaos-pg: scripts/pg-cluster.sh {command} failed: {result.stderr.strip()}")
    return result.stdout.strip()


class Instance:
    """One `warden run` on its own spool; `config` selects the ledger."""

    def __init__(self, name, warden, rules, root, ledger_line):
        self.name, self.warden, self.rules = name, warden, rules
        self.spool = os.path.join(root, name)
        for sub in ("inbox", "processing", "outbox", "done", "failed", "state"):
            os.makedirs(os.path.join(self.spool, sub), exist_ok=True)
        self.config = self.spool + ".yaml"
        with open(self.config, "w") as f:
            f.write(CONFIG + ledger_line)
        self.log_path = self.spool + ".log"
        self.notify = NotifyListener(self.spool + ".notify")
        self.proc = None
        self.starts = 0
        self.unexpected_exits = []

    def start(self):
        self.notify.drain()
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.warden, "run", "--config", self.config, "--rules", self.rules, "--state", self.spool, "--workers", "2"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=dict(os.environ, NOTIFY_SOCKET=self.notify.path))
        log.close()
        self.starts += 1

    def kill(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def supervise(self):
        """Restarts an instance that exited on its own (systemd's Restart=on-failure)."""
        if self.proc is not None and self.proc.poll() is not None:
            self.unexpected_exits.append(self.proc.returncode)
            time.sleep(0.3)
            self.start()

    def stop(self, timeout=120):
        if self.proc is None:
            return None
        self.proc.terminate()
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "hung on SIGTERM"
        finally:
            self.proc = None

    def decisions(self):
        """post id -> the last decision logged for it (a post judged again after a kill is logged again)."""
        last = {}
        for name in sorted(n for n in listdir(self.spool) if n.startswith("decisions.jsonl")):
            with open(os.path.join(self.spool, name), "rb") as f:
                for line in f:
                    if line.strip():
                        obj = json.loads(line)
                        last[obj["post_id"]] = obj
        return last


def essence(decision):
    author = decision.get("author") or {}
    return {"action": decision.get("action"), "rules": decision.get("rules"),
            "strikes": author.get("strikes"), "escalation": author.get("escalation")}


def reference_run(warden, rules, root, posts, timeout):
    """One instance, SQLite, fed all posts in event-time order as one JSON Lines file."""
    instance = Instance("reference", warden, rules, root, "")
    drop(instance.spool, "all.jsonl", b"\n".join(data for _, _, data in posts) + b"\n")
    instance.start()
    deadline = time.monotonic() + timeout
    while "all.jsonl" not in listdir(os.path.join(instance.spool, "done")):
        if time.monotonic() > deadline or instance.proc.poll() is not None:
            instance.stop()
            raise SystemExit(f"chaos-pg: the reference run did not finish; see {instance.log_path}")
        time.sleep(0.1)
    instance.stop()
    connection = sqlite3.connect(os.path.join(instance.spool, "state", "ledger.sqlite"))
    strikes = dict(connection.execute("SELECT author, count(*) FROM strikes GROUP BY author").fetchall())
    connection.close()
    return instance.decisions(), strikes


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warden", default=os.environ.get("WARDEN_BIN", os.path.join(ROOT, ".build/debug/warden")))
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--authors", type=int, default=60)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--db-crashes", type=int, default=3)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--run", type=int, default=1, help="an author's next 1..RUN posts go to one instance together")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds for the whole chaos run")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    parser.add_argument("--keep", action="store_true", help="keep the spools and logs (printed) for a post-mortem")
    args = parser.parse_args()
    if not os.access(args.warden, os.X_OK):
        raise SystemExit(f"chaos-pg: {args.warden} is not an executable; build first (swift build) or pass --warden / WARDEN_BIN")

    rng = random.Random(args.seed)
    root = tempfile.mkdtemp(prefix="warden-chaos-pg.")
    if os.geteuid() == 0:
        os.chmod(root, 0o755)  # pg-cluster.sh runs the server as postgres, in a directory below
    rules = os.path.join(root, "rules")
    os.makedirs(rules)
    for name, text in RULES.items():
        with open(os.path.join(rules, name), "w") as f:
            f.write(text)
    database = os.path.join(root, "pg")
    url = cluster("start", database)
    instances = []
    try:
        posts = generate(args.posts, args.authors, args.seed)
        started = time.monotonic()
        reference, reference_strikes = reference_run(args.warden, rules, root, posts, args.timeout)
        reference_seconds = time.monotonic() - started

        instances = [Instance(f"i{n}", args.warden, rules, root, f"ledger: {url}\n") for n in range(args.instances)]
        for instance in instances:
            instance.start()
        for instance in instances:
            # An instance that exits at start is restarted, as systemd would (counted in the summary).
            while not instance.notify.wait_for("READY=1", 60, instance.proc):
                if instance.proc.poll() is None or len(instance.unexpected_exits) >= 5:
                    raise SystemExit(f"chaos-pg: {instance.name} did not start; see {instance.log_path}")
                instance.supervise()

        # Faults at random fractions of the posts finished, in order.
        faults = sorted([(rng.uniform(0.05, 0.9), "kill") for _ in range(args.kills)]
                        + [(rng.uniform(0.05, 0.9), "db") for _ in range(args.db_crashes)])
        queues = collections.defaultdict(collections.deque)
        for post_id, author, data in posts:
            queues[author].append((post_id, data))
        in_flight = {}  # author -> post ids dropped, not all in done/ yet
        where = {}      # post id -> instance it was dropped into
        finished = set()
        done_names = [set() for _ in instances]
        events = []
        started = time.monotonic()
        deadline = started + args.timeout
        while len(finished) < len(posts):
            if time.monotonic() > deadline:
                raise SystemExit(f"chaos-pg: {len(posts) - len(finished)} posts not finished after {args.timeout:.0f} s; logs in {root}")
            for index, instance in enumerate(instances):
                names = listdir(os.path.join(instance.spool, "done"))
                if len(names) != len(done_names[index]):
                    done_names[index] = {n[:-5] for n in names}
            for author, post_ids in list(in_flight.items()):
                for post_id in post_ids:
                    if post_id not in finished and any(post_id in names for names in done_names):
                        finished.add(post_id)
                if all(post_id in finished for post_id in post_ids):
                    del in_flight[author]
            for author, queue in queues.items():
                if author not in in_flight and queue:
                    target = rng.randrange(len(instances))
                    run = []
                    for _ in range(min(len(queue), rng.randint(1, max(1, args.run)))):
                        post_id, data = queue.popleft()
                        drop(instances[target].spool, post_id + ".json", data)
                        run.append(post_id)
                        where[post_id] = target
                    in_flight[author] = run
            while faults and len(finished) >= faults[0][0] * len(posts):
                _, kind = faults.pop(0)
                at = f"{len(finished)}/{len(posts)} posts"
                if kind == "kill":
                    victim = rng.randrange(len(instances))
                    in_processing = len(listdir(os.path.join(instances[victim].spool, "processing")))
                    instances[victim].kill()
                    time.sleep(rng.uniform(0, 1.0))
                    instances[victim].start()
                    events.append(f"SIGKILL {instances[victim].name} at {at} ({in_processing} in its processing/)")
                else:
                    cluster("crash", database)
                    down = rng.uniform(1.0, 3.0)
                    time.sleep(down)
                    cluster("resume", database)
                    events.append(f"PostgreSQL crashed at {at}, down {down:.1f} s")
            for instance in instances:
                instance.supervise()
            time.sleep(0.02)
        chaos_seconds = time.monotonic() - started

        stops = {instance.name: instance.stop() for instance in instances}
        failures = []
        for name, code in stops.items():
            if code != 0:
                failures.append(f"{name} exited {code} on SIGTERM")
        # Every post in exactly one done/, nothing left anywhere else.
        holders = collections.Counter()
        for instance in instances:
            for sub in ("inbox", "processing", "failed"):
                left = [n for n in listdir(os.path.join(instance.spool, sub)) if not n.startswith(".")]
                if left:
                    failures.append(f"{instance.name}: {len(left)} files left in {sub}/, e.g. {sorted(left)[:3]}")
            for name in listdir(os.path.join(instance.spool, "done")):
                holders[name[:-5]] += 1
        lost = [post_id for post_id, _, _ in posts if holders[post_id] == 0]
        doubled = [post_id for post_id, count in holders.items() if count > 1]
        if lost:
            failures.append(f"{len(lost)} posts in no done/, e.g. {lost[:5]}")
        if doubled:
            failures.append(f"{len(doubled)} posts in several done/, e.g. {doubled[:5]}")
        # Decisions equal the reference's.
        decided = {}
        for index, instance in enumerate(instances):
            for post_id, decision in instance.decisions().items():
                if where.get(post_id) == index:
                    decided[post_id] = decision
        differing = [post_id for post_id, _, _ in posts
                     if post_id not in decided or essence(decided[post_id]) != essence(reference.get(post_id, {}))]
        for post_id in differing[:5]:
            failures.append(f"{post_id}: {essence(decided[post_id]) if post_id in decided else 'no decision'}"
                            f" where one instance on SQLite decided {essence(reference.get(post_id, {}))}")
        if differing:
            failures.append(f"{len(differing)} of {len(posts)} decisions differ from the single-instance SQLite run")
        # One action file per post that needs one.
        action_files = collections.Counter()
        for instance in instances:
            for name in listdir(os.path.join(instance.spool, "outbox")):
                if not name.startswith("."):
                    action_files[name[:-5]] += 1
        needing = {post_id for post_id, decision in reference.items() if decision.get("action") != "allow"}
        wrong_actions = sorted(post_id for post_id in needing | set(action_files)
                               if action_files[post_id] != (1 if post_id in needing else 0))
        if wrong_actions:
            failures.append(f"{len(wrong_actions)} posts without exactly the one action file they need, e.g. {wrong_actions[:5]}")
        # The shared ledger's strikes equal the reference ledger's.
        psql = shutil.which("psql") or "/usr/bin/psql"
        rows = subprocess.run([psql, url, "-tAF", " ", "-c", "SELECT author, count(*) FROM strikes GROUP BY author"],
                              capture_output=True, text=True)
        if rows.returncode != 0:
            failures.append(f"cannot read the shared ledger's strikes: {rows.stderr.strip()}")
        shared_strikes = {line.split()[0]: int(line.split()[1]) for line in rows.stdout.splitlines() if line.strip()}
        if rows.returncode == 0 and shared_strikes != reference_strikes:
            differ = sorted(a for a in set(shared_strikes) | set(reference_strikes) if shared_strikes.get(a) != reference_strikes.get(a))
            failures.append(f"strikes differ from the reference ledger for {len(differ)} authors, e.g. "
                            + ", ".join(f"{a}: {shared_strikes.get(a)} vs {reference_strikes.get(a)}" for a in differ[:5]))

        summary = {
            "posts": len(posts), "authors": args.authors, "instances": len(instances),
            "kills": sum(1 for e in events if e.startswith("SIGKILL")),
            "db_crashes": sum(1 for e in events if e.startswith("PostgreSQL")),
            "restarts_after_exit": sum(len(i.unexpected_exits) for i in instances),
            "done": sum(holders.values()), "lost": len(lost), "doubled": len(doubled),
            "decisions_differing": len(differing), "action_files_wrong": len(wrong_actions),
            "strikes_total": sum(shared_strikes.values()), "strikes_reference": sum(reference_strikes.values()),
            "per_instance_done": {i.name: len(listdir(os.path.join(i.spool, "done"))) for i in instances},
            "chaos_seconds": round(chaos_seconds, 1), "reference_seconds": round(reference_seconds, 1),
            "events": events, "failures": failures,
        }
        if args.json:
            print(json.dumps(summary))
        else:
            print(f"chaos-pg: {len(posts)} posts by {args.authors} authors over {len(instances)} instances "
                  f"in {chaos_seconds:.1f} s; one SQLite instance, uninterrupted: {reference_seconds:.1f} s")
            for event in events:
                print(f"  {event}")
            print(f"  instances restarted after exiting on their own: {summary['restarts_after_exit']}")
            print(f"  done: {summary['per_instance_done']}; lost {len(lost)}, in two done/ {len(doubled)}")
            print(f"  decisions differing from the single-instance SQLite run: {len(differing)}")
            print(f"  strikes in the shared ledger {summary['strikes_total']}, in the reference {summary['strikes_reference']}")
            print("chaos-pg: PASS" if not failures else "chaos-pg: FAIL\n  " + "\n  ".join(failures))
        return 0 if not failures else 1
    finally:
        for instance in instances:
            if instance.proc is not None:
                instance.proc.kill()
                instance.proc.wait()
        subprocess.run([CLUSTER, "stop", database], capture_output=True)
        if args.keep:
            print(f"chaos-pg: spools and logs kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
