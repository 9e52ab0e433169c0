#!/usr/bin/env python3
"""Benchmark the shared ledger (issue #14, "Performance"): aggregate posts/s and latency of
1, 2 and 3 `warden run` instances against one local PostgreSQL, beside one instance on SQLite.

For each setup (sqlite x1, postgres x1, x2, x3), on fresh spools and a fresh database of a
private cluster (scripts/pg-cluster.sh, with pg_stat_statements loaded):
1. Burst: --burst posts renamed into the instances' inboxes (round robin) as fast as the
   producer can; sustained posts/s = posts / (first rename -> last post in any done/).
2. Offered rate: --rate posts/s in total (default 2,000) for --seconds, spread round robin;
   p50/p99 of rename -> done/ (the post durable, its action file published) per post, and
   the rate achieved. When the instances cannot keep up, posts queue in inbox/ and the
   latency is the queue's: the output says so ("kept up: no").
3. Ledger cost, over the burst: statements executed (pg_stat_statements calls, BEGIN and
   COMMIT included: each is one round trip with PostgresNIO, which sends no pipeline) and
   transactions committed (pg_stat_database xact_commit) per post, and per batch (the
   committer's batches: warden_batch_commit_duration_count from /metrics); connections
   per instance (pg_stat_activity, the most seen while posts flow).
Posts: --authors authors (default 2,000), one in ten breaking a guideline; shipped rules.

Usage: scripts/bench-pg.py [--warden BIN] [--burst 6000] [--rate 2000] [--seconds 10]
"""
import argparse
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from spoolkit import NotifyListener, percentile, watch_moves  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUSTER = os.path.join(ROOT, "scripts", "pg-cluster.sh")
TEXTS = ["the bus was late again", "thanks for the help today", "when does the office open", "great service, thank you",
         "my order never arrived and nobody called me back", "is the pool open on sunday"]
BAD = ["what the fuck is this", "you are an idiot", "shit service"]


def psql(url, sql):
    result = subprocess.run([shutil.which("psql") or "/usr/bin/psql", url, "-tAX", "-c", sql], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"bench-pg: psql failed on {sql!r}: {result.stderr.strip()}")
    return result.stdout.strip()


def write_posts(staging, prefix, count, authors, rng, base):
    names = []
    for n in range(count):
        text = rng.choice(BAD) if rng.random() < 0.1 else rng.choice(TEXTS) + f" {n}"
        name = f"{prefix}{n:07d}.json"
        with open(os.path.join(staging, name), "w") as f:
            json.dump({"id": name[:-5], "author": {"id": f"a{rng.randrange(authors)}", "name": "A"}, "text": text,
                       "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(base + n * 0.001))}, f)
        names.append(name)
    return names


def watcher(directories, stop, results, ready):
    seen = {}

    def on_event(label, name, now):
        if name is not None:
            seen[name.decode()] = now
    watch_moves(directories, stop, ready, on_event)
    results.put(seen)


class Instance:
    def __init__(self, name, warden, rules, root, ledger_line, port):
        self.spool = os.path.join(root, name)
        for sub in ("inbox", "processing", "outbox", "done", "failed", "state"):
            os.makedirs(os.path.join(self.spool, sub))
        self.config = self.spool + ".yaml"
        with open(self.config, "w") as f:
            f.write("retention:\n  done: forever\nlog_level: notice\n" + ledger_line)
        self.port = port
        self.notify = NotifyListener(self.spool + ".notify")
        log = open(self.spool + ".log", "ab")
        self.proc = subprocess.Popen(
            [warden, "run", "--config", self.config, "--rules", rules, "--state", self.spool,
             "--metrics", f"127.0.0.1:{port}"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=dict(os.environ, NOTIFY_SOCKET=self.notify.path))
        log.close()
        if not self.notify.wait_for("READY=1", 120, self.proc):
            raise SystemExit(f"bench-pg: {name} did not start; see {self.spool}.log")

    def metric(self, name):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as response:
            for line in response.read().decode().splitlines():
                if line.startswith(name + " ") or line.startswith(name + "{"):
                    return float(line.rsplit(" ", 1)[1])
        return 0.0

    def stop(self):
        self.proc.terminate()
        self.proc.wait(120)
        self.notify.close()


def phase(instances, staging, names, rate):
    """Renames `names` round robin into the instances' inboxes, at `rate` posts/s (0: at
    once); returns rename -> done/ latencies (ms) and the elapsed time to the last one."""
    stop, ready, results = multiprocessing.Event(), multiprocessing.Event(), multiprocessing.Queue()
    process = multiprocessing.Process(target=watcher, args=({str(i): os.path.join(x.spool, "done") for i, x in enumerate(instances)},
                                                            stop, results, ready))
    process.start()
    ready.wait()
    staging_fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY)
    inboxes = [os.open(os.path.join(x.spool, "inbox"), os.O_RDONLY | os.O_DIRECTORY) for x in instances]
    stamps = {}
    interval = 1e9 / rate if rate else 0
    start = time.monotonic_ns()
    for index, name in enumerate(names):
        if interval:
            due = start + int(index * interval)
            now = time.monotonic_ns()
            if due > now:
                time.sleep((due - now) / 1e9)
        stamps[name] = time.monotonic_ns()
        os.rename(name, name, src_dir_fd=staging_fd, dst_dir_fd=inboxes[index % len(inboxes)])
    produced = time.monotonic_ns()
    for fd in inboxes + [staging_fd]:
        os.close(fd)
    expected = set(names)
    deadline = time.time() + 900
    while time.time() < deadline:
        if sum(len(expected & set(os.listdir(os.path.join(x.spool, "done")))) for x in instances) >= len(names):
            break
        time.sleep(0.1)
    time.sleep(0.3)
    stop.set()
    seen = results.get()
    process.join()
    latencies = [(seen[n] - stamps[n]) / 1e6 for n in names if n in seen]
    last = max((seen[n] for n in names if n in seen), default=produced)
    return {"completed": len(latencies), "elapsed_s": (last - start) / 1e9, "produce_s": (produced - start) / 1e9,
            "latency_ms": latencies}


def run_setup(label, count, args, rules, root, cluster_dir, database):
    setup_root = os.path.join(root, label)
    os.makedirs(setup_root)
    staging = os.path.join(setup_root, "staging")
    os.makedirs(staging)
    url = None
    if database:
        base_url = f"postgres://postgres@/postgres?host={cluster_dir}"
        psql(base_url, f"CREATE DATABASE {database}")
        url = f"postgres://postgres@/{database}?host={cluster_dir}"
        psql(url, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    rng = random.Random(14)
    base = time.time() - 3600
    port = random.randrange(20_000, 40_000)
    instances = [Instance(f"i{n}", args.warden, rules, setup_root, f"ledger: {url}\n" if url else "", port + n)
                 for n in range(count)]
    try:
        burst_names = write_posts(staging, "b", args.burst, args.authors, rng, base)
        batches_before = sum(x.metric("warden_batch_commit_duration_seconds_count") for x in instances)
        if url:
            psql(url, "SELECT pg_stat_statements_reset()")
            commits_before = int(psql(url, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"))
        connections = [0]
        samples = [0]
        sampling = threading.Event()

        def sample():
            while not sampling.is_set():
                samples[0] += 1
                n = int(psql(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"))
                connections[0] = max(connections[0], n)
                time.sleep(0.5)
        sampler = threading.Thread(target=sample) if url else None
        if sampler:
            sampler.start()
        burst = phase(instances, staging, burst_names, 0)
        sampling.set()
        if sampler:
            sampler.join()
        batches = sum(x.metric("warden_batch_commit_duration_seconds_count") for x in instances) - batches_before
        ledger = {}
        if url:
            # Counted after the burst, so the sampler's and these queries are not in it: the
            # statements of our own database only, less the sampler's pg_stat_activity reads.
            calls = int(psql(url, "SELECT COALESCE(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
                                  "WHERE d.datname = current_database() AND query NOT LIKE '%pg_stat_%'"))
            # Less the sampler's psql sessions (one transaction each) and this query's own.
            commits = int(psql(url, "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")) - commits_before \
                - samples[0] - 2
            ledger = {"statements_per_post": calls / args.burst, "transactions_per_post": commits / args.burst,
                      "statements_per_batch": calls / max(batches, 1), "connections": connections[0],
                      "connections_per_instance": connections[0] / count}
        rate_names = write_posts(staging, "r", int(args.rate * args.seconds), args.authors, rng, base + 1000)
        offered = phase(instances, staging, rate_names, args.rate)
    finally:
        for x in instances:
            x.stop()
    return {"label": label, "instances": count, "burst": burst, "offered": offered, "batches": batches, "ledger": ledger}


def describe(result, args):
    burst, offered = result["burst"], result["offered"]
    lines = [f"{result['label']}:"]
    lines.append(f"  burst {burst['completed']}/{args.burst} posts in {burst['elapsed_s']:.2f} s = "
                 f"{burst['completed'] / max(burst['elapsed_s'], 1e-9):,.0f} posts/s sustained "
                 f"(producer {args.burst / max(burst['produce_s'], 1e-9):,.0f}/s); {result['batches']:.0f} batches")
    achieved = offered["completed"] / max(offered["elapsed_s"], 1e-9)
    kept_up = offered["elapsed_s"] < args.seconds + 1.0
    values = offered["latency_ms"]
    lines.append(f"  {args.rate} posts/s offered for {args.seconds} s: {offered['completed']} finished in {offered['elapsed_s']:.1f} s "
                 f"= {achieved:,.0f} posts/s; kept up: {'yes' if kept_up else 'no'}; rename -> done/ p50 "
                 f"{percentile(values, 0.5):,.0f} ms, p99 {percentile(values, 0.99):,.0f} ms")
    if result["ledger"]:
        led = result["ledger"]
        lines.append(f"  ledger: {led['statements_per_post']:.2f} statements (round trips) and {led['transactions_per_post']:.2f} "
                     f"transactions per post, {led['statements_per_batch']:.1f} statements per committer batch; "
                     f"connections {led['connections']} ({led['connections_per_instance']:.1f} per instance)")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warden", default=os.environ.get("WARDEN_BIN", os.path.join(ROOT, ".build/debug/warden")))
    parser.add_argument("--rules", default=os.path.join(ROOT, "rules"))
    parser.add_argument("--burst", type=int, default=6000)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--authors", type=int, default=2000)
    parser.add_argument("--setups", default="sqlite1,pg1,pg2,pg3")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    if not os.access(args.warden, os.X_OK):
        raise SystemExit(f"bench-pg: {args.warden} is not an executable; build first or pass --warden / WARDEN_BIN")
    root = tempfile.mkdtemp(prefix="warden-bench-pg.")
    os.chmod(root, 0o755)
    cluster_dir = os.path.join(root, "pg")
    env = dict(os.environ, PG_CLUSTER_OPTIONS="-c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track_utility=on")
    started = subprocess.run([CLUSTER, "start", cluster_dir], capture_output=True, text=True, env=env)
    if started.returncode != 0:
        raise SystemExit(f"bench-pg: cannot start a private cluster: {started.stderr.strip()}")
    print(f"bench-pg: {args.warden}; {os.cpu_count()} cores; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results = []
    try:
        for setup in args.setups.split(","):
            count = int(setup[-1])
            database = f"bench_{setup}" if setup.startswith("pg") else None
            label = f"{'PostgreSQL' if database else 'SQLite'}, {count} instance{'s' if count > 1 else ''}"
            result = run_setup(setup, count, args, args.rules, root, cluster_dir, database)
            result["label"] = label
            print(describe(result, args), flush=True)
            results.append(result)
    finally:
        subprocess.run([CLUSTER, "stop", cluster_dir], capture_output=True)
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump([{k: v for k, v in r.items() if k not in ("burst", "offered")} | {
                "burst_posts_per_s": r["burst"]["completed"] / max(r["burst"]["elapsed_s"], 1e-9),
                "offered_p99_ms": percentile(r["offered"]["latency_ms"], 0.99)} for r in results], f, indent=1)


if __name__ == "__main__":
    main()
