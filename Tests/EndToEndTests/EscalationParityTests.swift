import Foundation
import Testing

/// `warden diff --simulate` previews what the daemon will do; this replays the same posts
/// through both and compares every decision. They used to disagree: the post crossing a
/// threshold got the escalation's floor action in the daemon only, the strike and history
/// windows ended at `<` in one and `<=` in the other, and diff could not read the
/// RFC 3339 forms the daemon accepts, so it placed posts at made-up times.
@Suite(.serialized) struct EscalationParityTests {
    /// In time order, as the daemon reads a batch file; mixed time stamp forms.
    static let posts: [(id: String, author: String, text: String, createdAt: String)] = [
        ("p1", "u1", "this is a badword", "2026-11-22T10:00:00Z"),
        // Second strike in the window: block_author, and this very post is deleted, not held.
        ("p2", "u1", "badword again", "2026-11-22 10:10:00Z"),
        ("p3", "u1", "a perfectly fine post", "2026-11-22t10:20:00z"),
        ("p4", "u2", "badword", "2026-11-22T10:00:00Z"),
        // Exactly one window after p4: p4's strike no longer counts, no escalation.
        ("p5", "u2", "badword", "2026-11-22 11:00:00Z"),
        ("p6", "u3", "hello there", "2026-11-22T10:30:00+01:00"),
        ("p7", "u4", "same again", "2026-11-22T12:00:00Z"),
        // Exactly one history window later: not a repeat.
        ("p8", "u4", "same again", "2026-11-22T13:00:00.000Z"),
        // Within the window: a repeat.
        ("p9", "u4", "same again", "2026-11-22T13:30:00Z"),
    ]

    struct Outcome: Equatable, CustomStringConvertible {
        var action: String
        var rules: [String]
        var escalation: String?
        var description: String { "\(action)\(escalation.map { "+\($0)" } ?? "") \(rules)" }
    }

    @Test func diffSimulateShowsExactlyWhatTheDaemonDecides() throws {
        let daemon = try DaemonUnderTest(rulesFixture: "escalation-rules")
        let batch = Self.posts.map { post -> String in
            let object: [String: Any] = ["id": post.id, "author": ["id": post.author], "text": post.text, "created_at": post.createdAt]
            return String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }.joined(separator: "\n") + "\n"
        let postsFile = daemon.root + "/posts.jsonl"
        try batch.write(toFile: postsFile, atomically: true, encoding: .utf8)

        try daemon.start()
        try daemon.dropRaw(name: "batch.jsonl", bytes: Data(batch.utf8))
        let decisionsPath = daemon.state + "/decisions.jsonl"
        let logged = daemon.eventually {
            daemon.files(in: "done").contains("batch.jsonl")
                && ((try? String(contentsOfFile: decisionsPath, encoding: .utf8))?.split(separator: "\n").count ?? 0) >= Self.posts.count
        }
        #expect(daemon.stop() == 0)
        try #require(logged, "the daemon did not judge the batch; log:\n\(daemon.log)")

        var byDaemon: [String: Outcome] = [:]
        for line in try String(contentsOfFile: decisionsPath, encoding: .utf8).split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let author = try #require(object["author"] as? [String: Any])
            byDaemon[try #require(object["post_id"] as? String)] = Outcome(
                action: try #require(object["action"] as? String), rules: object["rules"] as? [String] ?? [],
                escalation: author["escalation"] as? String)
        }

        // Against rules that act on nothing, diff lists every post the daemon's rules act on.
        let quiet = WardenBinary.repositoryRoot + "/Tests/Fixtures/quiet-rules"
        let diff = try runCapturingOutput(WardenBinary.path, [
            "diff", "--simulate", "--format", "json", "--current", quiet, "--rules", daemon.rules, postsFile,
        ])
        #expect(diff.status == 1, "diff: \(diff.output)")
        var bySimulation: [String: Outcome] = [:]
        for line in diff.output.split(separator: "\n") where line.hasPrefix("{") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let after = try #require(object["after"] as? [String: Any])
            bySimulation[try #require(object["post_id"] as? String)] = Outcome(
                action: try #require(after["action"] as? String), rules: after["rules"] as? [String] ?? [],
                escalation: after["escalation"] as? String)
        }

        for post in Self.posts {
            let simulated = bySimulation[post.id] ?? Outcome(action: "allow", rules: [], escalation: nil)
            #expect(byDaemon[post.id] == simulated, "\(post.id): daemon \(byDaemon[post.id].map(\.description) ?? "nothing"), diff --simulate \(simulated)")
        }
        // And the decisions are the intended ones, not merely equal.
        #expect(byDaemon["p1"] == Outcome(action: "hold", rules: ["profanity.hold"], escalation: nil))
        #expect(byDaemon["p2"] == Outcome(action: "delete", rules: ["profanity.hold"], escalation: "block_author"))
        #expect(byDaemon["p3"] == Outcome(action: "delete", rules: [], escalation: "block_author"))
        #expect(byDaemon["p5"] == Outcome(action: "hold", rules: ["profanity.hold"], escalation: nil))
        #expect(byDaemon["p8"] == Outcome(action: "allow", rules: [], escalation: nil))
        #expect(byDaemon["p9"] == Outcome(action: "hide", rules: ["spam.repeat"], escalation: nil))
    }
}
