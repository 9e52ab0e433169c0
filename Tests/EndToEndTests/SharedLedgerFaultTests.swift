import Foundation
import Testing

/// PostgreSQL stopped while posts flow (issue #14, "Faults"): on a private cluster of its
/// own, so that stopping it does not disturb the tests running beside it.
@Suite(.serialized, .enabled(if: SharedDatabase.serverURL != nil, "needs PostgreSQL (make test installs it and sets WARDEN_TEST_POSTGRES)"))
struct SharedLedgerFaultTests {
    /// Every post is kept while the ledger is down (none in done/ without its rows), the
    /// outage is reported (/healthz, the metric and its counter, STATUS=), and once the server
    /// is back the backlog is judged with every strike counted exactly once. While 70 posts
    /// of 11 authors flow through it, the outage is one log line at its start and one at its
    /// end (with its duration and the posts that waited), not one per post or per retry.
    @Test func anOutageKeepsEveryPostAndCatchesUp() throws {
        let cluster = WardenBinary.repositoryRoot + "/scripts/pg-cluster.sh"
        let directory = "/tmp/warden-pgf-\(UUID().uuidString.prefix(8))"
        let started = try runCapturingOutput(cluster, ["start", directory])
        try #require(started.status == 0, "cannot start a private cluster: \(started.output)")
        defer { _ = try? runCapturingOutput(cluster, ["stop", directory]) }
        let url = "postgres://postgres@/postgres?host=\(directory)"

        let daemon = try DaemonUnderTest(rulesFixture: "escalation-rules")
        let config = daemon.root + "/warden.yaml"
        try "ledger: \(url)\n".write(toFile: config, atomically: true, encoding: .utf8)
        try daemon.start(["--config", config, "--metrics", "127.0.0.1:\(daemon.metricsPort)"])
        defer { if daemon.isRunning { daemon.stop() } }
        func post(_ n: Int) -> Data {
            Data(#"{"id":"f\#(n)","author":{"id":"f"},"text":"badword \#(n)","created_at":"2026-11-22T10:\#(String(format: "%02d", n)):00Z"}"#.utf8)
        }
        try daemon.dropRaw(name: "f1.json", bytes: post(1))
        try #require(daemon.eventually { daemon.files(in: "done").contains("f1.json") }, "log:\n\(daemon.log)")

        // Other authors' posts flow before, during and after the outage.
        func others(_ range: ClosedRange<Int>) throws {
            for n in range { try daemon.drop(id: "o\(n)", author: "a\(n % 10)", text: "the bus was late again \(n)") }
        }
        try others(1...20)
        let paused = try runCapturingOutput(cluster, ["pause", directory])
        try #require(paused.status == 0, "\(paused.output)")
        for n in 2...6 { try daemon.dropRaw(name: "f\(n).json", bytes: post(n)) }
        try others(21...50)
        let reported = daemon.eventually(timeout: 30) {
            (daemon.httpGet("/healthz")?.contains("503") ?? false) && (daemon.httpGet("/metrics")?.contains("warden_ledger_unavailable 1") ?? false)
        }
        #expect(reported, "the outage shows on /healthz and in the metric; log:\n\(daemon.log)")
        #expect(daemon.notify.wait(timeout: 10) { $0.contains("waiting for the shared ledger") } != nil, "STATUS= says so")
        #expect(daemon.httpGet("/metrics")?.contains("warden_ledger_outages_total 1") ?? false)
        let done = daemon.files(in: "done")
        #expect((2...6).allSatisfy { !done.contains("f\($0).json") }, "nothing reaches done/ without its ledger rows: \(done)")
        let kept = Set(daemon.files(in: "inbox") + daemon.files(in: "processing"))
        #expect((2...6).allSatisfy { kept.contains("f\($0).json") }, "every post is kept in inbox/ or processing/: \(kept)")

        let resumed = try runCapturingOutput(cluster, ["resume", directory])
        try #require(resumed.status == 0, "\(resumed.output)")
        try others(51...70)
        let expected = Set((1...6).map { "f\($0).json" } + (1...70).map { "o\($0).json" })
        let caughtUp = daemon.eventually(timeout: 60) { expected.isSubset(of: Set(daemon.files(in: "done"))) }
        #expect(caughtUp, "the backlog is judged once the ledger is back; log:\n\(daemon.log)")
        #expect(daemon.eventually { daemon.httpGet("/metrics")?.contains("warden_ledger_unavailable 0") ?? false })
        #expect(daemon.eventually { daemon.httpGet("/healthz").map { !$0.contains("503") } ?? false })
        #expect(daemon.notify.wait(timeout: 10) { $0.contains("STATUS=Judged") && !$0.contains("waiting for the shared ledger") } != nil,
                "STATUS= no longer says so")
        #expect(daemon.stop() == 0)
        let log = daemon.log.split(separator: "\n")
        let starts = log.filter { $0.contains("shared ledger unavailable") }
        let ends = log.filter { $0.contains("shared ledger available again") }
        #expect(starts.count == 1, "one line at the start of the outage: \(starts)")
        #expect(ends.count == 1, "one line at its end: \(ends)")
        #expect(ends.first.map { $0.contains("duration_s") && $0.contains("posts_delayed") } ?? false, "\(ends)")
        #expect(!daemon.log.contains("cannot judge an author"), "no line per post or per retry")

        var strikes: [String: Int] = [:]
        for line in (daemon.contents("decisions.jsonl") ?? "").split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let id = object["post_id"] as? String, let author = object["author"] as? [String: Any] else { continue }
            #expect(strikes[id] == nil, "\(id) decided twice")
            strikes[id] = author["strikes"] as? Int
        }
        #expect(strikes.filter { $0.key.hasPrefix("f") } == ["f1": 1, "f2": 2, "f3": 3, "f4": 4, "f5": 5, "f6": 6], "each strike counted once, in order")
        #expect(strikes.count == 76, "every post decided once")
        let rows = try runCapturingOutput("/usr/bin/psql", [url, "-tAc", "SELECT count(*) FROM strikes WHERE author = 'f'"])
        #expect(rows.output.trimmingCharacters(in: .whitespacesAndNewlines) == "6")
    }

    /// The short version of `make chaos-pg`: three instances sharing one database, the same
    /// authors posting to all of them; three instances SIGKILLed and restarted and the
    /// database crashed (`pg_ctl stop -m immediate`) once while posts flow. Every post ends
    /// in exactly one done/, none is left behind, each decision and strike count equals one
    /// SQLite instance's over the same posts in event-time order, and the shared ledger
    /// holds exactly the reference's strikes (none counted twice). An author's posts arrive
    /// in runs of up to four at one instance, so that kills also hit posts judged as one
    /// group under one lock. The checks are the
    /// script's (one home); this test asserts its summary.
    @Test(.timeLimit(.minutes(3))) func killsAndADatabaseCrashLoseNothingAndDoubleNothing() throws {
        let result = try runCapturingOutput("/usr/bin/env", [
            "python3", WardenBinary.repositoryRoot + "/scripts/chaos-pg.py", "--warden", WardenBinary.path,
            "--posts", "300", "--authors", "30", "--kills", "3", "--db-crashes", "1", "--run", "4", "--seed", "\(Int.random(in: 1...1_000_000))",
            "--timeout", "150", "--json",
        ])
        let line = result.output.split(separator: "\n").last { $0.hasPrefix("{") }
        let summary = try #require(line.flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] },
                                   "no summary from scripts/chaos-pg.py (status \(result.status)):\n\(result.output)")
        #expect(summary["kills"] as? Int == 3, "\(summary)")
        #expect(summary["db_crashes"] as? Int == 1, "\(summary)")
        #expect(summary["done"] as? Int == 300, "every post in a done/: \(summary)")
        #expect(summary["lost"] as? Int == 0)
        #expect(summary["doubled"] as? Int == 0)
        #expect(summary["decisions_differing"] as? Int == 0, "\(summary)")
        #expect(summary["action_files_wrong"] as? Int == 0, "\(summary)")
        #expect(summary["strikes_total"] as? Int == summary["strikes_reference"] as? Int, "\(summary)")
        #expect((summary["strikes_total"] as? Int ?? 0) > 0, "the posts do count strikes")
        #expect((summary["failures"] as? [String])?.isEmpty == true, "\(summary["failures"] ?? "")")
        #expect(result.status == 0)
    }
}
