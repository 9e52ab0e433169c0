"""Groups on the shared ledger decide exactly as one SQLite instance (docs/STORAGE.md).

One PostgreSQL instance is fed all posts at once as one JSON Lines file, so an author's posts
queue together and are judged in groups under one lock (one read, one write); every decision
(action, rules, strike count, escalation) and the strikes per author must equal one SQLite
instance fed the same file. chaos-pg cannot form groups (its producer sends an author's next
post only when the previous one is done); this is the check for them. Prints the procedure
calls (pg_stat_statements when PG_CLUSTER_OPTIONS loads it) to show the groups were formed.

  PG_CLUSTER_OPTIONS="-c shared_preload_libraries=pg_stat_statements" \
    python3 scripts/burst-exact-pg.py WARDEN_BINARY POSTS AUTHORS SEED
"""
import importlib.util, os, sys, tempfile, time, subprocess, shutil
if len(sys.argv) not in (5, 6):
    raise SystemExit(__doc__)
import random
spec = importlib.util.spec_from_file_location("chaos", os.path.join(os.path.dirname(os.path.abspath(__file__)), "chaos-pg.py"))
chaos = importlib.util.module_from_spec(spec); spec.loader.exec_module(chaos)
warden, count, authors, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
crashes = int(sys.argv[5]) if len(sys.argv) == 6 else 0
rng = random.Random(seed)
root = tempfile.mkdtemp(prefix="warden-burst-exact."); os.chmod(root, 0o755)
rules = os.path.join(root, "rules"); os.makedirs(rules)
for name, text in chaos.RULES.items():
    open(os.path.join(rules, name), "w").write(text)
database = os.path.join(root, "pg"); url = chaos.cluster("start", database)
try:
    posts = chaos.generate(count, authors, seed)
    reference, ref_strikes = chaos.reference_run(warden, rules, root, posts, 300)
    inst = chaos.Instance("pg", warden, rules, root, f"ledger: {url}\n")
    chaos.drop(inst.spool, "all.jsonl", b"\n".join(d for _, _, d in posts) + b"\n")
    inst.start()
    deadline = time.monotonic() + 300
    while crashes and not inst.notify.wait_for("READY=1", 60, inst.proc):
        raise SystemExit("the instance did not start")
    for n in range(crashes):
        time.sleep(rng.uniform(0.2, 1.0))
        if "all.jsonl" in chaos.listdir(os.path.join(inst.spool, "done")):
            print(f"finished before crash {n + 1}")
            break
        processed = len(inst.decisions())
        chaos.cluster("crash", database)
        down = rng.uniform(1.0, 3.0)
        time.sleep(down)
        chaos.cluster("resume", database)
        print(f"PostgreSQL crashed after {processed} decisions, down {down:.1f} s")
    while "all.jsonl" not in chaos.listdir(os.path.join(inst.spool, "done")):
        assert time.monotonic() < deadline and inst.proc.poll() is None, "pg run did not finish"
        time.sleep(0.1)
    inst.stop()
    decided = inst.decisions()
    differing = [p for p, _, _ in posts if chaos.essence(decided.get(p, {})) != chaos.essence(reference.get(p, {}))]
    rows = subprocess.run([shutil.which("psql") or "/usr/bin/psql", url, "-tAF", " ", "-c", "SELECT author, count(*) FROM strikes GROUP BY author"], capture_output=True, text=True)
    shared = {l.split()[0]: int(l.split()[1]) for l in rows.stdout.splitlines() if l.strip()}
    calls = subprocess.run([shutil.which("psql") or "/usr/bin/psql", url, "-tA", "-c", "SELECT count(*) FROM posts"], capture_output=True, text=True).stdout.strip()
    print(f"posts {len(posts)}, decided {len(decided)}, differing {len(differing)}, strikes shared {sum(shared.values())} reference {sum(ref_strikes.values())}, equal per author {shared == ref_strikes}, rows in posts {calls}")
    for p in differing[:5]:
        print(p, chaos.essence(decided.get(p, {})), "vs", chaos.essence(reference.get(p, {})))
    subprocess.run([shutil.which("psql") or "/usr/bin/psql", url, "-c", "CREATE EXTENSION IF NOT EXISTS pg_stat_statements"], capture_output=True)
    print(subprocess.run([shutil.which("psql") or "/usr/bin/psql", url, "-tA", "-c", "SELECT calls, left(query, 40) FROM pg_stat_statements WHERE query LIKE '%warden_%' ORDER BY calls DESC"], capture_output=True, text=True).stdout)
    print("PASS" if not differing and shared == ref_strikes and len(decided) == len(posts) else "FAIL")
finally:
    chaos.cluster("stop", database)
