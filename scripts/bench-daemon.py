#!/usr/bin/env python3
"""Benchmark `warden run`: sustained throughput and rename-to-action-file latency.

A producer renames pre-written posts into the inbox (as real producers must); a watcher
process records, through inotify, when each post's action file appears in outbox/ and when
the post itself lands in done/. Both use CLOCK_MONOTONIC, so latencies are comparable.

Phase 1 (throughput): --posts posts renamed in as fast as possible while the daemon runs;
sustained posts/s is posts / (last arrival in done/ - first rename into inbox/). A post
reaches done/ only after its batch (ledger, decisions.jsonl, action file) was flushed, so
this is the rate of durably finished posts. The producer's own rename rate is printed
beside it: if the daemon finishes within half a second of the last rename, the producer
set the pace and the daemon's rate is at least the figure shown.
Latencies here include queueing behind the burst, so they say how long a burst takes to
drain, not how fast one post goes.
Phase 2 (latency): --rate posts/s offered for --seconds; p50/p99/p99.9 of rename -> action
file and rename -> done/.
Peak RSS is VmHWM from /proc/PID/status at the end. Durable writes (fsync/syncfs) are on
unless --no-sync is given.

CPU: the daemon's user + sys seconds (all threads, /proc/PID/stat) over phase 1, per 1,000
posts. Ceiling: scripts/spool-ceiling.c (built by `make bench-daemon`) does the spool
protocol's file operations with no judging (claim by rename, read, an action file for one
post in ten through a temporary and a rename, a log line, one syncfs per batch, move to
done/) on the same disk, fed by the same producer with the same posts; it runs before and
after the daemon's phase 1 and the daemon's sustained rate is reported as a share of their
mean. --corpus real (the default) sends the real-traffic posts (scripts/realtraffic.py,
seed 15); --corpus generated the short fixed texts this script used to send.
"""
import argparse
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import time

from spoolkit import NotifyListener, percentile, script_module, watch_moves


def watch(directories, stop, results, ready):
    """Records the first CLOCK_MONOTONIC time each name is renamed into each directory."""
    seen = {label: {} for label in directories}
    overflowed = [False]

    def on_event(label, name, now):
        if label is None:
            overflowed[0] = True
            return
        name = name.decode()
        if name not in seen[label]:
            seen[label][name] = now

    watch_moves(directories, stop, ready, on_event)
    results.put((seen, overflowed[0]))


TEXTS_CLEAN = [
    "Thanks for the quick reply, the bins were collected this morning.",
    "When does the library open on Sundays?",
    "Great event at the park yesterday, well organised!",
    "Is the 42 bus running on the usual timetable during the works?",
    "Could you share the link to the consultation please?",
]
TEXTS_ACTED = [
    "what a badword service this is",
    "WORSEWORD! fix the road",
    "worst service ever, you never called me back",
]


def real_texts(count, seed):
    """(text, author) of the real-traffic corpus (scripts/realtraffic.py)."""
    return [(post["text"], post["author"]["id"]) for post in script_module("realtraffic").build(count, seed)]


def write_posts(staging, prefix, count, authors, acted_share, seed, start_epoch=1795305600, texts=None):
    """Posts spread over a simulated day (created_at), so that flood and repeat rules see
    the traffic of a busy page rather than every author posting 20 times a second.
    `texts`: (text, author) pairs to send instead of the generated ones."""
    rng = random.Random(seed)
    names = []
    spacing = 86400.0 / max(count, 1)
    for index in range(count):
        post_id = f"{prefix}-{index}"
        acted = rng.random() < acted_share
        text = rng.choice(TEXTS_ACTED if acted else TEXTS_CLEAN)
        author = f"u{rng.randrange(authors)}"
        if texts:
            text, author = texts[index % len(texts)]
            text = text[:200000]
        post = {
            "id": post_id,
            "platform": "facebook",
            "author": {"id": author, "name": "Bench"},
            "text": text if texts else f"{text} #{index}",
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start_epoch + index * spacing)),
        }
        name = post_id + ".json"
        with open(os.path.join(staging, name), "w") as handle:
            json.dump(post, handle)
        names.append((name, acted))
    return names


def needs_action(post_id, daemon_outbox):
    return os.path.exists(os.path.join(daemon_outbox, post_id + ".json"))


def run_phase(label, names, staging, inbox, state, rate, watcher_dirs, already=None):
    stop = multiprocessing.Event()
    ready = multiprocessing.Event()
    results = multiprocessing.Queue()
    watcher = multiprocessing.Process(target=watch, args=(watcher_dirs, stop, results, ready))
    watcher.start()
    ready.wait()
    # The producer renames relative names between two open directories (no path lookups
    # from /), and only notes the time of each rename; at full speed it renames about
    # 100,000 files in 2-3 s on an idle 2-core machine, and its own rate is reported, so
    # that a run limited by the producer rather than the daemon shows it.
    staging_fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY)
    inbox_fd = os.open(inbox, os.O_RDONLY | os.O_DIRECTORY)
    rename = os.rename
    clock = time.monotonic_ns
    stamps = [0] * len(names)
    start = clock()
    interval = 1e9 / rate if rate else 0
    if interval:
        for index, (name, _) in enumerate(names):
            due = start + int(index * interval)
            now = clock()
            if due > now:
                time.sleep((due - now) / 1e9)
            stamps[index] = clock()
            rename(name, name, src_dir_fd=staging_fd, dst_dir_fd=inbox_fd)
    else:
        for index, (name, _) in enumerate(names):
            stamps[index] = clock()
            rename(name, name, src_dir_fd=staging_fd, dst_dir_fd=inbox_fd)
    produced = clock()
    os.close(staging_fd)
    os.close(inbox_fd)
    renamed = {name: stamp for (name, _), stamp in zip(names, stamps)}
    deadline = time.time() + 600
    done_dir = os.path.join(state, "done")
    while time.time() < deadline:
        if len(os.listdir(done_dir)) >= len(names) + (run_phase.already_done if already is None else already):
            break
        time.sleep(0.05)
    time.sleep(0.3)
    stop.set()
    seen, overflowed = results.get()
    watcher.join()
    if already is None:
        run_phase.already_done += len(names)
    done_times = [seen["done"][name] - renamed[name] for name in renamed if name in seen["done"]]
    action_times = [seen["outbox"][name] - renamed[name] for name in renamed if name in seen["outbox"]]
    last = max((seen["done"][name] for name in renamed if name in seen["done"]), default=produced)
    return {
        "label": label,
        "posts": len(names),
        "completed": len(done_times),
        "acted": len(action_times),
        "produce_s": (produced - start) / 1e9,
        "elapsed_s": (last - start) / 1e9,
        "done_ms": [t / 1e6 for t in done_times],
        "action_ms": [t / 1e6 for t in action_times],
        "overflowed": overflowed,
    }


run_phase.already_done = 0


def describe(result):
    lines = [f"{result['label']}: {result['completed']}/{result['posts']} posts finished in {result['elapsed_s']:.2f} s "
             f"(first rename into inbox/ -> last post in done/) = {result['completed'] / max(result['elapsed_s'], 1e-9):,.0f} posts/s",
             f"  producer: {result['posts']} renames in {result['produce_s']:.2f} s = "
             f"{result['posts'] / max(result['produce_s'], 1e-9):,.0f} posts/s"
             + ("  (the producer, not the daemon, set the pace)" if result['elapsed_s'] - result['produce_s'] < 0.5 else ""),
             f"  load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}"]
    for key, title in (("action_ms", "rename -> action file"), ("done_ms", "rename -> done/")):
        values = result[key]
        if values:
            lines.append(f"  {title:22} n={len(values):7d}  p50 {percentile(values, 0.5):8.2f} ms  p99 {percentile(values, 0.99):8.2f} ms"
                         f"  p99.9 {percentile(values, 0.999):8.2f} ms  max {max(values):8.2f} ms")
    if result["overflowed"]:
        lines.append("  (inotify queue of the watcher overflowed: some latencies are missing)")
    return "\n".join(lines)


def cpu_seconds(pid):
    """User + system CPU seconds of process `pid` so far, all its threads."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--warden", default=".build/release/warden")
    parser.add_argument("--rules", default="rules" if os.path.isdir("rules") and os.listdir("rules") else "Tests/Fixtures/daemon-rules")
    parser.add_argument("--out", default="bench-out/daemon",
                        help="work directory; the spool is inside, so it decides the filesystem (e.g. /dev/shm/x for tmpfs)")
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--authors", type=int, default=5_000)
    parser.add_argument("--acted-share", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--no-sync", action="store_true")
    parser.add_argument("--log-level", default="warning", help="the daemon's; trace logs each batch's step times")
    parser.add_argument("--config", help="a warden.yaml for the daemon (e.g. to try max_batch or memory limits)")
    parser.add_argument("--corpus", choices=["real", "generated"], default="real")
    parser.add_argument("--ceiling", default="bench-out/spool-ceiling", help="the spool-ceiling binary ('' to skip)")

    args = parser.parse_args()

    out = os.path.abspath(args.out)
    shutil.rmtree(out, ignore_errors=True)
    state = os.path.join(out, "var")
    staging = os.path.join(out, "staging")
    os.makedirs(staging)
    print(f"writing {args.posts + args.rate * args.seconds:,} posts to {staging} ...", flush=True)
    texts = real_texts(args.posts + args.rate * args.seconds, 15) if args.corpus == "real" else None
    burst = write_posts(staging, "burst", args.posts, args.authors, args.acted_share, 1, texts=texts)
    steady = write_posts(staging, "steady", args.rate * args.seconds, args.authors, args.acted_share, 2, 1795305600 + 86400,
                         texts=texts[args.posts:] if texts else None)
    ceilings = []
    if args.ceiling:
        for round_ in (1, 2):
            ceiling_staging = os.path.join(out, f"staging-ceiling{round_}")
            os.makedirs(ceiling_staging)
            ceilings.append(write_posts(ceiling_staging, "burst", args.posts, args.authors, args.acted_share, 1, texts=texts))
    # Flush the staged posts now: left dirty, the daemon's first syncfs (which flushes the
    # whole filesystem) would pay for writing them, about a second for 140,000 files.
    os.sync()

    notify = NotifyListener(os.path.join(out, "notify.sock"))
    command = [args.warden, "run", "--rules", args.rules, "--state", state, "--log-level", args.log_level]
    if args.workers:
        command += ["--workers", str(args.workers)]
    if args.no_sync:
        command.append("--no-sync")
    if args.config:
        command += ["--config", os.path.abspath(args.config)]

    env = dict(os.environ, NOTIFY_SOCKET=os.path.join(out, "notify.sock"))
    log = open(os.path.join(out, "daemon.log"), "w")
    daemon = subprocess.Popen(command, env=env, stderr=log, stdout=log)
    try:
        if not notify.wait_for("READY=1", 60, daemon):
            sys.exit(f"warden did not become ready; see {out}/daemon.log")
        inbox = os.path.join(state, "inbox")
        dirs = {"done": os.path.join(state, "done"), "outbox": os.path.join(state, "outbox")}
        ceiling_rates = []

        def ceiling(round_):
            spool = os.path.join(out, f"ceiling{round_}")
            for sub in ("inbox", "processing", "outbox", "done"):
                os.makedirs(os.path.join(spool, sub))
            proc = subprocess.Popen([args.ceiling, spool, str(args.posts)], stdout=subprocess.PIPE, text=True)
            result = run_phase(f"spool ceiling (no judging), run {round_}", ceilings[round_ - 1], os.path.join(out, f"staging-ceiling{round_}"),
                               os.path.join(spool, "inbox"), spool, 0, {"done": os.path.join(spool, "done"), "outbox": os.path.join(spool, "outbox")}, already=0)
            proc.wait(timeout=120)
            print(describe(result), flush=True)
            ceiling_rates.append(result["completed"] / max(result["elapsed_s"], 1e-9))

        if args.ceiling:
            ceiling(1)
        print(f"phase 1: {args.posts:,} posts renamed in as fast as possible ...", flush=True)
        cpu_before = cpu_seconds(daemon.pid)
        first = run_phase("sustained", burst, staging, inbox, state, 0, dirs)
        cpu_used = cpu_seconds(daemon.pid) - cpu_before
        print(describe(first), flush=True)
        rate = first["completed"] / max(first["elapsed_s"], 1e-9)
        print(f"  daemon CPU (user + sys, all threads) over phase 1: {cpu_used:.2f} s = {1000 * cpu_used / max(first['completed'], 1):.3f} CPU s per 1,000 posts", flush=True)
        if args.ceiling:
            ceiling(2)
            mean = sum(ceiling_rates) / len(ceiling_rates)
            print(f"ceiling of the spool protocol on this disk: {' and '.join(f'{r:,.0f}' for r in ceiling_rates)} posts/s (mean {mean:,.0f}); "
                  f"warden run sustained {rate:,.0f} posts/s = {100 * rate / mean:.0f}% of it", flush=True)
        print(f"phase 2: {args.rate:,} posts/s offered for {args.seconds} s ...", flush=True)
        second = run_phase(f"fixed {args.rate}/s", steady, staging, inbox, state, args.rate, dirs)
        print(describe(second), flush=True)
        with open(f"/proc/{daemon.pid}/status") as handle:
            status = dict(line.split(":", 1) for line in handle if ":" in line)
        hwm = status.get("VmHWM", "?").strip()
        print(f"peak RSS (VmHWM): {hwm}; durable writes: {'off (--no-sync)' if args.no_sync else 'on'}; "
              f"workers: {args.workers or os.cpu_count()}; cores: {os.cpu_count()}; rules: {args.rules}")
    finally:
        daemon.terminate()
        daemon.wait(timeout=60)


if __name__ == "__main__":
    main()
