import Foundation
import Testing

/// PostgreSQL stopped while posts flow (issue #14, "Faults"): on a private cluster of its
/// own, so that stopping it does not disturb the tests running beside it.
@Suite(.serialized, .enabled(if: SharedDatabase.serverURL != nil, "needs PostgreSQL (make test installs it and sets WARDEN_TEST_POSTGRES)"))
struct SharedLedgerFaultTests {
    /// Every post is kept while the ledger is down (none in done/ without its rows), the
    /// outage is reported (/healthz, the metric, STATUS=, a log line), and once the server is
    /// back the backlog is judged with every strike counted exactly once.
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

        let paused = try runCapturingOutput(cluster, ["pause", directory])
        try #require(paused.status == 0, "\(paused.output)")
        for n in 2...6 { try daemon.dropRaw(name: "f\(n).json", bytes: post(n)) }
        let reported = daemon.eventually(timeout: 30) {
            (daemon.httpGet("/healthz")?.contains("503") ?? false) && (daemon.httpGet("/metrics")?.contains("warden_ledger_unavailable 1") ?? false)
        }
        #expect(reported, "the outage shows on /healthz and in the metric; log:\n\(daemon.log)")
        #expect(daemon.notify.wait(timeout: 10) { $0.contains("waiting for the shared ledger") } != nil, "STATUS= says so")
        #expect(daemon.log.contains("cannot judge an author under the shared ledger's lock"))
        let done = daemon.files(in: "done")
        #expect((2...6).allSatisfy { !done.contains("f\($0).json") }, "nothing reaches done/ without its ledger rows: \(done)")
        let kept = Set(daemon.files(in: "inbox") + daemon.files(in: "processing"))
        #expect((2...6).allSatisfy { kept.contains("f\($0).json") }, "every post is kept in inbox/ or processing/: \(kept)")

        let resumed = try runCapturingOutput(cluster, ["resume", directory])
        try #require(resumed.status == 0, "\(resumed.output)")
        let caughtUp = daemon.eventually(timeout: 60) { (1...6).allSatisfy { daemon.files(in: "done").contains("f\($0).json") } }
        #expect(caughtUp, "the backlog is judged once the ledger is back; log:\n\(daemon.log)")
        #expect(daemon.eventually { daemon.httpGet("/metrics")?.contains("warden_ledger_unavailable 0") ?? false })
        #expect(daemon.stop() == 0)

        var strikes: [String: Int] = [:]
        for line in (daemon.contents("decisions.jsonl") ?? "").split(separator: "\n") {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let id = object["post_id"] as? String, let author = object["author"] as? [String: Any] else { continue }
            #expect(strikes[id] == nil, "\(id) decided twice")
            strikes[id] = author["strikes"] as? Int
        }
        #expect(strikes == ["f1": 1, "f2": 2, "f3": 3, "f4": 4, "f5": 5, "f6": 6], "each strike counted once, in order")
        let rows = try runCapturingOutput("/usr/bin/psql", [url, "-tAc", "SELECT count(*) FROM strikes WHERE author = 'f'"])
        #expect(rows.output.trimmingCharacters(in: .whitespacesAndNewlines) == "6")
    }
}
