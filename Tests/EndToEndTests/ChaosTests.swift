import Foundation
import Testing

/// The crash test in short, for CI: scripts/chaos.py with 20 SIGKILLs at random instants
/// over a stream of 200 files, then the DESIGN.md invariant and equality with an
/// uninterrupted run (see the script's header for what is checked and why the comparison
/// is exact). The small fixture rules keep the debug build's start-ups quick; `make chaos`
/// runs the long version (1,000 kills) on the release build with the shipped rules.
@Suite(.serialized) struct ChaosTests {
    static let python: String? = ["/usr/bin/python3", "/usr/local/bin/python3"].first { FileManager.default.isExecutableFile(atPath: $0) }
        ?? (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { $0 + "/python3" }
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// Runs chaos.py; returns its exit status, output and the failures it listed.
    static func chaos(kills: Int, edits: Double) throws -> (status: Int32, output: String, failures: [String]) {
        let report = "/tmp/warden-chaos-ci-\(UUID().uuidString.prefix(8)).json"
        defer { unlink(report) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try #require(python))
        process.arguments = [WardenBinary.repositoryRoot + "/scripts/chaos.py", "--warden", WardenBinary.path,
                             "--rules", WardenBinary.repositoryRoot + "/Tests/Fixtures/rules-basic",
                             "--kills", "\(kills)", "--files-per-kill", "10", "--edits", "\(edits)",
                             "--seed", "\(Int.random(in: 1...1_000_000))", "--json", report]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let result = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: report)))) as? [String: Any]
        #expect((result?["kills"] as? Int ?? 0) >= kills, "chaos.py:\n\(output)")
        return (process.terminationStatus, output, result?["failures"] as? [String] ?? ["no report"])
    }

    /// Edits included: the kills that land between an edit's ledger write and its move into
    /// done/ are the ones that found the superseded-rows and claim-order bugs.
    @Test(.enabled(if: python != nil, "needs python3 to run scripts/chaos.py"), .timeLimit(.minutes(10)))
    func twentyKillsLoseNothingAndChangeNoDecision() throws {
        let run = try Self.chaos(kills: 20, edits: 0.08)
        #expect(run.status == 0 && run.failures.isEmpty, "chaos.py:\n\(run.output)")
    }
}
