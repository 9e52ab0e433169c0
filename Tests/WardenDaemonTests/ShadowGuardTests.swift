import Foundation
import Testing
@testable import WardenCore
@testable import WardenDaemon

@Suite struct ShadowGuardTests {
    private func rules(_ directory: TemporaryDirectory, words: String) throws -> RuleSet {
        let rulesPath = directory.path + "/rules"
        try FileManager.default.createDirectory(atPath: rulesPath, withIntermediateDirectories: true)
        try """
            guideline: profanity
            title: No profanity
            text: Keep it clean.
            url: https://example.org/g
            strikes: true
            rules:
              - id: profanity.strong
                words: [\(words)]
                action: delete

            """.write(toFile: rulesPath + "/profanity.yaml", atomically: true, encoding: .utf8)
        return try RuleLoader.load(directory: rulesPath, runExamples: false)
    }

    @Test func aChangedRuleActingOnMoreThanFivePercentIsDemotedUntilConfirmed() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(path: directory.path + "/ledger.sqlite", durable: false)
        let guardian = try ShadowGuard(ledger: ledger)
        #expect(try guardian.rulesLoaded(try rules(directory, words: "badword")).isEmpty)
        // The first rules seen are the baseline: an established rule is never demoted.
        for _ in 0..<200 { #expect(try guardian.observe(enforcedRules: ["profanity.strong"]).isEmpty) }

        _ = try guardian.rulesLoaded(try rules(directory, words: "badword, the"))
        var demoted: [String] = []
        for index in 0..<1_000 {
            demoted += try guardian.observe(enforcedRules: index % 10 == 0 ? ["profanity.strong"] : [])
        }
        #expect(demoted == ["profanity.strong"], "10% of posts is over the 5% limit")
        #expect(try ledger.demotedRules() == ["profanity.strong"], "kept across restarts")
        #expect(try ShadowGuard(ledger: ledger).demoted == ["profanity.strong"], "a restarted guard reads it back")

        try ledger.confirmRule("profanity.strong")
        #expect(try guardian.checkConfirmations() == ["profanity.strong"])
        #expect(guardian.demoted.isEmpty)
    }

    @Test func aNewRuleUnderTheLimitIsLeftAlone() throws {
        let directory = try TemporaryDirectory()
        let guardian = try ShadowGuard(ledger: try Ledger(path: directory.path + "/ledger.sqlite", durable: false))
        _ = try guardian.rulesLoaded(try rules(directory, words: "badword"))
        _ = try guardian.rulesLoaded(try rules(directory, words: "badword, worseword"))
        var demoted: [String] = []
        for index in 0..<3_000 { demoted += try guardian.observe(enforcedRules: index % 25 == 0 ? ["profanity.strong"] : []) }
        #expect(demoted.isEmpty, "4% is under the limit")
    }

    /// The guard's state used to be JSON files read with `try?`: a corrupt one silently
    /// meant nothing was ever demoted. In the ledger, an unreadable state is an error.
    @Test func anUnreadableStateIsAnErrorNotSilence() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/ledger.sqlite"
        _ = try Ledger(path: path, durable: false)
        try Data("this is not a database".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: (any Error).self) { try ShadowGuard(ledger: try Ledger(path: path, durable: false)) }
    }
}
