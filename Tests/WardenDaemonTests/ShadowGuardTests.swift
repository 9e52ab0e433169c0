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
        let guardian = ShadowGuard(stateDirectory: directory.path)
        #expect(guardian.rulesLoaded(try rules(directory, words: "badword")).isEmpty)
        // The first rules seen are the baseline: an established rule is never demoted.
        for _ in 0..<200 { #expect(guardian.observe(enforcedRules: ["profanity.strong"]).isEmpty) }

        _ = guardian.rulesLoaded(try rules(directory, words: "badword, the"))
        var demoted: [String] = []
        for index in 0..<1_000 {
            demoted += guardian.observe(enforcedRules: index % 10 == 0 ? ["profanity.strong"] : [])
        }
        #expect(demoted == ["profanity.strong"], "10% of posts is over the 5% limit")
        #expect(ShadowGuard.demotedRules(stateDirectory: directory.path) == ["profanity.strong"], "kept across restarts")

        Thread.sleep(forTimeInterval: 1.1)  // a new modification time on the confirmation file
        try ShadowGuard.confirm(rule: "profanity.strong", stateDirectory: directory.path)
        #expect(guardian.checkConfirmations() == ["profanity.strong"])
        #expect(guardian.demoted.isEmpty)
    }

    @Test func aNewRuleUnderTheLimitIsLeftAlone() throws {
        let directory = try TemporaryDirectory()
        let guardian = ShadowGuard(stateDirectory: directory.path)
        _ = guardian.rulesLoaded(try rules(directory, words: "badword"))
        _ = guardian.rulesLoaded(try rules(directory, words: "badword, worseword"))
        var demoted: [String] = []
        for index in 0..<3_000 { demoted += guardian.observe(enforcedRules: index % 25 == 0 ? ["profanity.strong"] : []) }
        #expect(demoted.isEmpty, "4% is under the limit")
    }
}
