#!/usr/bin/env python3
"""Soak test for `warden run`: a long run at a steady offered load, with rule reloads.

A producer renames posts into the inbox at --rate posts/s (as real producers must: a
dot-file, then rename) for --minutes. Every --reload-every seconds a rules file is
rewritten (tmp + rename, as an editor saves) with a different last comment, which the
daemon notices and reloads in full (the rule set's digest covers the files' bytes); the
daemon's log is checked for as many reloads, none refused.
Every --sample-every seconds the daemon's RSS (VmRSS in /proc/PID/status), open file
descriptors (/proc/PID/fd), inbox backlog and the latency of the posts finished in that
interval are recorded.

A separate watcher process notes, through inotify, when each post lands in done/ (rename
into inbox -> rename into done/, CLOCK_MONOTONIC; the send time is in the file name). If
its inotify queue overflows, some timings are missed (the count says how many were seen);
posts are counted at the end by listing done/, so an overflow never hides a lost post.
Files are left in done/ and outbox/ (on disk: about 5 GB for 10 minutes at 2,000/s) and
removed with the spool at the end.

At the end the producer stops, the daemon is given time to drain, and posts lost are
counted: sent - reached done/ - failed/ (must be 0; no post is invalid, so failed/ must
stay empty too). The table is printed as Markdown for docs/RELIABILITY.md.

Usage: scripts/soak.py --warden .build/release/warden --minutes 10 --rate 2000
"""
import argparse
import array
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from spoolkit import REPO, default_rules, percentile, proc_status, watch_moves


def rss_split(pid):
    """Anonymous resident memory, and file-backed plus shared (SQLite's -shm, mapped files), in MiB."""
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            name, _, value = line.partition(":")
            if name in ("RssAnon", "RssFile", "RssShmem"):
                fields[name] = int(value.split()[0]) / 1024
    return fields.get("RssAnon", 0.0), fields.get("RssFile", 0.0) + fields.get("RssShmem", 0.0)

CLEAN = [
    "Thanks for the quick reply, the bins were collected this morning.",
    "When does the library open on Sundays?",
    "Great event at the park yesterday, well organised!",
    "Is the 42 bus running on the usual timetable during the works?",
    "Could you share the link to the consultation please?",
    "worst service ever, nobody answers the phone",
    "Scunthorpe council meeting is at 7 tonight",
    "the cocktail menu looks great",
]
VIOLATING = ["what the fuck is this", "sh1tty service again", "check out my channel for deals", "you absolute wanker"]


def watcher(spool, stop, results, ready):
    """Records, through inotify, when each post arrives in done/ (CLOCK_MONOTONIC)."""
    overflows = [0]
    latencies = array.array("d")  # pairs: arrival (s), latency (s)

    def on_event(label, name, now_ns):
        if label is None:
            overflows[0] += 1  # some timings are missed; the count at the end lists done/
            return
        try:
            sent_ns = int(name.split(b"-")[1].split(b".")[0])
        except (IndexError, ValueError):
            return
        latencies.append(now_ns / 1e9)
        latencies.append((now_ns - sent_ns) / 1e9)

    watch_moves({"done": os.path.join(spool, "done")}, stop, ready, on_event)
    results.put((overflows[0], latencies.tobytes()))


def rewrite_rules(rules, index):
    """Saves the first guideline file with a changed last comment line, as an editor would
    (tmp + rename). The rule set's digest covers the files' bytes, so the daemon really
    reloads: parses, compiles, runs every example and swaps the judges."""
    names = sorted(n for n in os.listdir(rules) if n.endswith(".yaml") and n != "escalation.yaml")
    path = os.path.join(rules, names[0])
    with open(path) as f:
        text = f.read()
    text = text.split("\n# soak reload ", 1)[0].rstrip("\n") + f"\n# soak reload {index}\n"
    temporary = os.path.join(rules, "." + names[0] + ".tmp")
    with open(temporary, "w") as f:
        f.write(text)
    os.rename(temporary, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warden", default=os.path.join(REPO, ".build", "release", "warden"))
    parser.add_argument("--rules", default=default_rules())
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=2000, help="offered posts per second")
    parser.add_argument("--reload-every", type=float, default=30)
    parser.add_argument("--sample-every", type=float, default=10)
    parser.add_argument("--authors", type=int, default=5000)
    parser.add_argument("--dir", help="where to put the spool (default: the system temporary directory, on disk)")
    parser.add_argument("--no-sync", action="store_true", help="run the daemon with --no-sync")
    parser.add_argument("--config", help="a warden.yaml for the daemon (e.g. a smaller memory.max_history_entries)")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    warden = os.path.abspath(args.warden)
    if not os.access(warden, os.X_OK):
        sys.exit(f"soak: no warden binary at {warden}; build it first (swift build -c release)")
    root = tempfile.mkdtemp(prefix="warden-soak-", dir=args.dir)
    rules = os.path.join(root, "rules")
    shutil.copytree(args.rules, rules)
    spool = os.path.join(root, "var")
    for sub in ("inbox", "processing", "outbox", "done", "failed", "state"):
        os.makedirs(os.path.join(spool, sub))
    log_path = os.path.join(root, "daemon.log")
    command = [warden, "run", "--rules", rules, "--state", spool, "--log-level", "notice"]
    if args.no_sync:
        command.append("--no-sync")
    if args.config:
        command += ["--config", os.path.abspath(args.config)]
    log = open(log_path, "ab")
    daemon = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    stop = multiprocessing.Event()
    ready = multiprocessing.Event()
    results = multiprocessing.Queue()
    watch = multiprocessing.Process(target=watcher, args=(spool, stop, results, ready))
    watch.start()
    ready.wait()
    time.sleep(1.0)
    print(f"soak: {args.rate:.0f} posts/s for {args.minutes:g} min, reload every {args.reload_every:g} s, "
          f"sample every {args.sample_every:g} s; spool {spool}; durable writes {'off' if args.no_sync else 'on'}", flush=True)

    rng = random.Random(7)
    inbox = os.path.join(spool, "inbox")
    texts = [t.replace('"', '\\"') for t in CLEAN * 6 + VIOLATING]
    duration = args.minutes * 60
    started = time.monotonic()
    samples = []  # (t, rss MB, fds, threads, inbox backlog, sent, anonymous MB, file-backed + shared MB)
    state = {"sent": 0, "reloads": 0, "running": True}

    def sampler():
        """On its own thread, so samples and reloads keep their times whatever the producer does."""
        next_sample = started
        next_reload = started + args.reload_every
        while state["running"]:
            now = time.monotonic()
            if now >= next_sample:
                rss, fds, threads = proc_status(daemon.pid)
                anonymous, mapped = rss_split(daemon.pid)
                backlog = sum(1 for n in os.listdir(inbox) if not n.startswith("."))
                samples.append((now - started, rss, fds, threads, backlog, state["sent"], anonymous, mapped))
                next_sample += args.sample_every
            if now >= next_reload:
                state["reloads"] += 1
                rewrite_rules(rules, state["reloads"])
                next_reload += args.reload_every
            time.sleep(0.05)

    sampling = threading.Thread(target=sampler, daemon=True)
    sampling.start()
    sent = 0
    while True:
        elapsed = time.monotonic() - started
        if elapsed >= duration:
            break
        # At most 20 ms of posts per turn, so a producer that fell behind catches up
        # gradually and the run still ends on time.
        due = min(int(elapsed * args.rate) + 1, sent + int(args.rate * 0.02) + 1)
        while sent < due:
            sent += 1
            author = rng.randrange(args.authors)
            stamp = time.monotonic_ns()
            name = f"{sent:09d}-{stamp}.json"
            body = ('{"id":"s-%d","author":{"id":"a%d","name":"Soak"},"text":"%s"}'
                    % (sent, author, rng.choice(texts))).encode()
            temporary = os.path.join(inbox, "." + name + ".tmp")
            with open(temporary, "wb") as f:
                f.write(body)
            os.rename(temporary, os.path.join(inbox, name))
        state["sent"] = sent
        time.sleep(max(0.0, min(0.005, (sent / args.rate) - (time.monotonic() - started))))
    state["running"] = False
    sampling.join()
    reloads = state["reloads"]
    offered_seconds = time.monotonic() - started
    # Drain: wait until inbox/ and processing/ are empty, then a last sample.
    drain_started = time.monotonic()
    while time.monotonic() - drain_started < 180:
        if not [n for n in os.listdir(inbox) if not n.startswith(".")] and not os.listdir(os.path.join(spool, "processing")):
            break
        time.sleep(0.2)
    drain_seconds = time.monotonic() - drain_started
    rss, fds, threads = proc_status(daemon.pid)
    anonymous, mapped = rss_split(daemon.pid)
    samples.append((time.monotonic() - started, rss, fds, threads, len(os.listdir(inbox)), sent, anonymous, mapped))
    time.sleep(1.0)
    stop.set()
    overflows, raw = results.get()
    watch.join()
    timings = array.array("d")
    timings.frombytes(raw)
    latencies = list(zip(timings[0::2], timings[1::2]))
    done_names = set(os.listdir(os.path.join(spool, "done")))
    seen = sum(1 for n in done_names if not n.startswith("."))
    actions = sum(1 for n in os.listdir(os.path.join(spool, "outbox")) if not n.startswith("."))
    daemon.terminate()
    code = daemon.wait(60)
    log.close()
    failed = [n for n in os.listdir(os.path.join(spool, "failed")) if not n.endswith(".error")]
    left = os.listdir(inbox) + os.listdir(os.path.join(spool, "processing"))
    lost = sent - seen - len(failed)
    with open(log_path, errors="replace") as f:
        log_text = f.read()
    reloaded = log_text.count("rules reloaded")
    refused = log_text.count("rules change refused")

    print()
    print(f"offered {sent} posts in {offered_seconds:.0f} s ({sent / offered_seconds:.0f} posts/s); "
          f"drained {drain_seconds:.1f} s after the producer stopped")
    print(f"reached done/: {seen}; failed/: {len(failed)}; left in inbox/ or processing/: {len(left)}; "
          f"**posts lost: {lost}**; action files in outbox/: {actions}; inotify overflows in the watcher: {overflows} "
          f"(latencies from {len(latencies)} posts)")
    print(f"rules rewritten {reloads} times; daemon logged {reloaded} reloads, {refused} refused; exit status on SIGTERM: {code}")
    print()
    print("| t (s) | RSS (MiB) | of it anonymous / file+shm | open fds | threads | inbox backlog | posts sent | done in interval | p50 (ms) | p99 (ms) | max (ms) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    previous = started
    for t, rss, fds, threads, backlog, sent_then, anonymous, mapped in samples:
        window = [lat for at, lat in latencies if previous <= at < started + t]
        previous = started + t
        p50 = percentile(window, 0.5) * 1000
        p99 = percentile(window, 0.99) * 1000
        worst = max(window) * 1000 if window else float("nan")
        print(f"| {t:.0f} | {rss:.1f} | {anonymous:.1f} / {mapped:.1f} | {fds} | {threads} | {backlog} | {sent_then} | {len(window)} | {p50:.1f} | {p99:.1f} | {worst:.1f} |")
    prunes = [line.strip() for line in log_text.splitlines() if "pruned the author books" in line]
    if prunes:
        print()
        print("memory prunes (the daemon's heap as glibc counts it, after each):")
        for line in prunes:
            print("  " + line)
    all_latencies = [lat for _, lat in latencies]
    print()
    print(f"latency rename -> done/ over the whole run: p50 {percentile(all_latencies, 0.5) * 1000:.1f} ms, "
          f"p99 {percentile(all_latencies, 0.99) * 1000:.1f} ms, p99.9 {percentile(all_latencies, 0.999) * 1000:.1f} ms, "
          f"max {max(all_latencies) * 1000 if all_latencies else float('nan'):.1f} ms")
    rss_values = [s[1] for s in samples[1:]]
    fd_values = [s[2] for s in samples[1:]]
    if rss_values:
        print(f"RSS {min(rss_values):.1f}-{max(rss_values):.1f} MiB; open fds {min(fd_values)}-{max(fd_values)} (after the first sample)")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    else:
        print(f"spool kept in {root}")
    sys.exit(1 if lost or failed or code != 0 or refused or reloaded < reloads else 0)


if __name__ == "__main__":
    main()
