#!/usr/bin/env python3
"""Benchmark the review console (issue #12, item 10).

State: --held held posts and --past past decisions in decisions.jsonl (written directly, in
the daemon's line format), indexed by `warden console` at start-up (the catch-up time is
printed). Then --sessions concurrent logged-in sessions (a process each, one keep-alive
connection each) for --seconds: each loop loads the queue page, opens the first item not yet
taken and releases it (GET item = claim, POST = action with CSRF). Latencies are measured by
the client, so on this 2-core machine they include waiting for a core the clients share
with the console and the daemon. The console runs at --console-nice (10, as its systemd
unit does).

Daemon: --posts posts renamed into a fresh inbox as fast as possible, timed until the last
one is in done/, once with the console idle and once with the console under the session
load (console and daemon on the same spool, the console indexing the daemon's log).

Prints one figure per line; exits 0 whatever the figures (targets: queue p99 < 50 ms,
action p99 < 20 ms, daemon within 10 % of its idle rate).
"""
import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def decision_line(post_id, action, author, at, text, guidelines, rules):
    return json.dumps({
        "post_id": post_id, "action": action, "guidelines": guidelines, "rules": rules,
        "matches": [{"rule": rules[0], "start": 0, "end": 5, "text": text[:5]}] if rules else [],
        "author": {"id": author, "name": "Poster " + author, "strikes": 0, "escalation": None},
        "decided_at": at, "ruleset": "sha256:bench", "text": text,
    }, separators=(",", ":"))


def write_state(state, held, past, preindex):
    """Writes decisions.jsonl; with `preindex`, also loads the same rows into review.sqlite
    (as a console that has been following the log would have them) and sets its cursor to
    the end of the log, so the measurement does not wait for a debug build's catch-up."""
    os.makedirs(os.path.join(state, "outbox"), exist_ok=True)
    os.makedirs(os.path.join(state, "inbox"), exist_ok=True)
    base = time.time() - 86400 * 20
    words = "service bus late council bin collection thanks great rubbish lovely road repair".split()
    rows, items = [], []
    log = os.path.join(state, "decisions.jsonl")
    with open(log, "w") as f:
        def emit(post_id, action, author, t, text, guidelines, rules):
            at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
            line = decision_line(post_id, action, author, at, text, guidelines, rules)
            f.write(line + "\n")
            if preindex:
                g = "," + ",".join(guidelines) + "," if guidelines else ","
                r = "," + ",".join(rules) + "," if rules else ","
                rows.append((post_id, "post", None, author, "Poster " + author, action, None, g, r, float(int(t)), text, line))
                if action == "hold":
                    items.append((post_id, post_id, "held", "pending", 1, float(int(t)), author, g, r))
        for i in range(past):
            text = " ".join(random.choice(words) for _ in range(12))
            if i % 10 == 0:
                emit(f"past-{i}", "delete", f"u-{i % 50000}", base + i * 1.5, text, ["profanity"], ["profanity.strong"])
            else:
                emit(f"past-{i}", "allow", f"u-{i % 50000}", base + i * 1.5, text, [], [])
        for i in range(held):
            emit(f"held-{i}", "hold", f"h-{i % 3000}", base + past * 1.5 + i, f"visit my website for great deals {i}", ["spam"], ["spam.maybe-promotion"])
    return rows, items


def preload(state, rows, items, held, past):
    import sqlite3
    db = sqlite3.connect(os.path.join(state, "state", "review.sqlite"))
    db.execute("PRAGMA journal_mode=WAL")
    db.executemany("INSERT INTO decisions(post_id, kind, appeal_of, author, author_name, action, escalation, guidelines, rules, decided_at, text, line) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.executemany("INSERT INTO items(item_id, post_id, kind, status, priority, queued_at, author, guidelines, rules) VALUES (?,?,?,?,?,?,?,?,?)", items)
    db.executemany("INSERT INTO rule_hits(rule, hits) VALUES (?, ?)",
                   [("profanity.strong", (past + 9) // 10), ("spam.maybe-promotion", held)])
    log = os.path.join(state, "decisions.jsonl")
    # Instance '': the cursor the console's indexer takes over under whatever instance name it has.
    db.execute("INSERT OR REPLACE INTO log_cursors(instance, inode, byte_offset) VALUES ('', ?, ?)", (os.stat(log).st_ino, os.path.getsize(log)))
    db.commit()
    db.close()


class Session:
    def __init__(self, port, name, password):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        self.cookies = {}
        self.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', self.body).group(1)
        self.post("/login", {"csrf": csrf, "name": name, "password": password})
        assert "warden_session" in self.cookies, f"login failed for {name}: {self.status}"
        self.get("/")
        self.csrf = re.search(r'name="csrf" value="([^"]+)"', self.body).group(1)

    def request(self, method, path, body=None):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        self.body = response.read().decode("utf-8", "replace")
        elapsed = time.perf_counter() - started
        self.status = response.status
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";")[0]
        return elapsed

    def get(self, path):
        return self.request("GET", path)

    def post(self, path, fields):
        return self.request("POST", path, urllib.parse.urlencode(fields))


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def session_loop(index, port, name, password, seconds, ready, results):
    """One moderator: log in, wait for all, then queue page -> open an item -> release it,
    until the window closes. A process of its own, so that 20 sessions do not queue behind
    one Python interpreter lock and the latencies are the console's, not the client's."""
    session = Session(port, name, password)
    ready.wait()
    stop_at = time.time() + seconds
    queue_times, action_times, refused = [], [], 0
    while time.time() < stop_at:
        queue_times.append(session.get("/"))
        ids = re.findall(r'data-id="([^"]+)"', session.body)
        if not ids:
            continue
        item = ids[(index * 3) % len(ids)]
        session.get("/item/" + urllib.parse.quote(item, safe=""))
        version = re.search(r'name="version" value="(\d+)"', session.body)
        if not version:
            refused += 1
            continue
        action_times.append(session.post("/item/" + urllib.parse.quote(item, safe=""), {
            "csrf": session.csrf, "version": version.group(1), "verdict": "released",
            "reason_pick": "Not a violation", "message": ""}))
        if session.status != 303:
            refused += 1
    results.put((queue_times, action_times, refused))


def load(port, users, seconds):
    """Logs every session in first (bcrypt is slow on purpose), then runs the loop for
    `seconds` from the moment the last one is in; returns the processes, the barrier the
    caller joins to start them, and the queue their results come back on."""
    ready = multiprocessing.Barrier(len(users) + 1)
    queue = multiprocessing.Queue()
    processes = [multiprocessing.Process(target=session_loop, args=(i, port, name, pw, seconds, ready, queue))
                 for i, (name, pw) in enumerate(users)]
    for p in processes:
        p.start()
    return processes, ready, queue


def daemon_rate(warden, rules, posts, label):
    root = tempfile.mkdtemp(prefix="warden-bench-daemon-")
    staging = os.path.join(root, "staging")
    os.makedirs(staging)
    state = os.path.join(root, "var")
    os.makedirs(os.path.join(state, "inbox"))
    texts = ["thanks for fixing the road", "visit my website for great deals", "the bus was late again", "you are an idiot"]
    for i in range(posts):
        with open(os.path.join(staging, f"p{i}.json"), "w") as f:
            json.dump({"id": f"p{i}", "author": {"id": f"a{i % 2000}"}, "text": random.choice(texts) + f" {i}"}, f)
    proc = subprocess.Popen([warden, "run", "--rules", rules, "--state", state, "--log-level", "error"])
    while not os.path.isdir(os.path.join(state, "done")):
        time.sleep(0.05)
    time.sleep(0.5)
    started = time.monotonic()
    for i in range(posts):
        os.rename(os.path.join(staging, f"p{i}.json"), os.path.join(state, "inbox", f"p{i}.json"))
    done = os.path.join(state, "done")
    while len(os.listdir(done)) < posts:
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    proc.terminate()
    proc.wait()
    shutil.rmtree(root, ignore_errors=True)
    rate = posts / elapsed
    print(f"daemon {label}: {posts} posts in {elapsed:.2f} s = {rate:.0f} posts/s", flush=True)
    return rate


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--warden", default=".build/release/warden")
    parser.add_argument("--rules", default="rules")
    parser.add_argument("--held", type=int, default=10_000)
    parser.add_argument("--past", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--reuse", help="a state root left by an earlier run with --keep (skips writing the state and users)")
    parser.add_argument("--keep", action="store_true", help="keep the generated state root for --reuse")
    parser.add_argument("--console-nice", type=int, default=10,
                        help="run the console at this nice value, as docs/CONSOLE.md's unit does (Nice=10): the daemon first")
    parser.add_argument("--preindex", action="store_true",
                        help="load review.sqlite directly instead of letting the console index the log at start-up")
    args = parser.parse_args()

    root = tempfile.mkdtemp(prefix="warden-bench-console-")
    state = args.reuse or os.path.join(root, "var")
    users = [(f"mod{i}", f"bench-password-{i:04d}") for i in range(args.sessions)]
    if not args.reuse:
        prepare(args, state, users)
    else:
        print(f"state: reusing {state}", flush=True)
    run_bench(args, root, state, users)


def prepare(args, state, users):
    started = time.time()
    rows, items = write_state(state, args.held, args.past, args.preindex)
    print(f"state: {args.past} past decisions + {args.held} held posts written in {time.time() - started:.1f} s "
          f"({os.path.getsize(os.path.join(state, 'decisions.jsonl')) / 1e6:.0f} MB)", flush=True)
    for name, password in users:
        subprocess.run([args.warden, "users", "add", name, "--state", state], input=password + "\n", text=True,
                       check=True, capture_output=True)
    if args.preindex:
        started = time.time()
        preload(state, rows, items, args.held, args.past)
        del rows, items
        print(f"review.sqlite preloaded with the same rows in {time.time() - started:.1f} s (--preindex)", flush=True)


def run_bench(args, root, state, users):
    port = free_port()
    log = open(os.path.join(root, "console.log"), "w")
    started = time.time()
    console = subprocess.Popen(["nice", "-n", str(args.console_nice), args.warden, "console", "--state", state, "--rules", args.rules, "--listen", f"127.0.0.1:{port}",
                                "--log-level", "notice"], stdout=log, stderr=log)
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.5)
        if console.poll() is not None:
            sys.exit("the console exited; see " + log.name)
    print(f"console ready (log indexed) after {time.time() - started:.1f} s, nice {args.console_nice}", flush=True)

    idle_rate = daemon_rate(args.warden, args.rules, args.posts, "alone")

    processes, ready, queue = load(port, users, args.seconds)
    started = time.time()
    ready.wait()
    print(f"{len(users)} sessions logged in after {time.time() - started:.1f} s", flush=True)
    loaded_rate = daemon_rate(args.warden, args.rules, args.posts, "with console load")
    results = [queue.get() for _ in processes]
    for p in processes:
        p.join()
    queue_times = [t for r in results for t in r[0]]
    action_times = [t for r in results for t in r[1]]
    refused = sum(r[2] for r in results)
    ms = lambda v: f"{v * 1000:.1f} ms"
    print(f"queue page: {len(queue_times)} requests, p50 {ms(percentile(queue_times, 0.5))}, p99 {ms(percentile(queue_times, 0.99))} (target < 50 ms)")
    print(f"action:     {len(action_times)} requests, p50 {ms(percentile(action_times, 0.5))}, p99 {ms(percentile(action_times, 0.99))} (target < 20 ms); "
          f"{refused} refused (claimed by another session)")
    print(f"daemon: {loaded_rate / idle_rate * 100:.1f} % of its rate alone (target >= 90 %)")
    console.terminate()
    console.wait()
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
