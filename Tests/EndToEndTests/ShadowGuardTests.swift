import Foundation
import Testing

/// A new rule that suddenly acts on far too many posts (a pattern like `\bthe\b` with
/// `delete`) is demoted to shadow mode before the post that pushes it past the threshold
/// gets its action file. The check used to run after each committed batch of up to 2,048
/// posts, so a whole batch was deleted before the guard noticed.
@Suite(.serialized) struct ShadowGuardEndToEndTests {
    static let runawayRule = """
        guideline: runaway
        title: A rule with a typo
        text: Meant to catch one phrase, catches every post.
        url: https://example.org/guidelines#runaway
        strikes: false
        rules:
          - id: runaway.the
            patterns: ['\\bthe\\b']
            action: delete
            examples:
              match: ["the end"]
              no_match: ["a cat"]

        """

    @Test func aRunawayNewRuleActsOnAtMostTheThresholdsWorthOfPosts() throws {
        let daemon = try DaemonUnderTest()
        // Demote a recent rule acting on more than 10% of the last 100 posts: at most 10.
        let config = daemon.root + "/warden.yaml"
        try "shadow_guard:\n  recent_for: 1h\n  window: 100\n  max_share: 0.1\n".write(toFile: config, atomically: true, encoding: .utf8)
        try daemon.start(["--config", config])
        // Added while running: a change, not the baseline of the first start.
        try Self.runawayRule.write(toFile: daemon.rules + "/runaway.yaml", atomically: true, encoding: .utf8)
        daemon.signal(SIGHUP)
        #expect(daemon.eventually { daemon.log.contains("rules reloaded") }, "log:\n\(daemon.log)")

        let count = 60
        let batch = (0..<count).map { #"{"id":"p\#($0)","author":{"id":"u\#($0)"},"text":"the weather is nice"}"# }
            .joined(separator: "\n") + "\n"
        try daemon.dropRaw(name: "batch.jsonl", bytes: Data(batch.utf8))
        let done = daemon.eventually(timeout: 60) { daemon.files(in: "done").contains("batch.jsonl") }
        #expect(daemon.stop() == 0)
        try #require(done, "the batch was not finished; log:\n\(daemon.log)")

        let acted = (0..<count).filter { daemon.actionFile("p\($0)") != nil }
        #expect(acted.count == 10, "\(acted.count) posts were acted on; the threshold is 10")
        #expect(daemon.log.contains("rule demoted to shadow mode"), "log:\n\(daemon.log)")
        let decisions = try String(contentsOfFile: daemon.state + "/decisions.jsonl", encoding: .utf8)
        #expect(decisions.contains("\"shadow_rules\":[\"runaway.the\"]"), "later posts are judged by the rule in shadow mode")
    }
}
