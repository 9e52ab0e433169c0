import Foundation
import Testing
@testable import WardenCore
@testable import WardenDaemon

/// A temporary directory removed at the end of the test.
final class TemporaryDirectory {
    let path: String
    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("warden-daemon-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

private func change(_ post: String, _ author: String, at seconds: TimeInterval, strikes: [String] = [], escalation: Action? = nil) -> LedgerChange {
    LedgerChange(postID: post, author: author, at: Date(timeIntervalSince1970: seconds), textDigest: 42,
                 strikeGuidelines: strikes, escalation: escalation)
}

@Suite struct LedgerTests {
    @Test func strikesAreKeyedByPostSoRejudgingReplacesThem() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(path: directory.path + "/ledger.sqlite", durable: false)
        try ledger.commit([.judged(change("p1", "u1", at: 100, strikes: ["profanity"]))])
        try ledger.commit([.judged(change("p1", "u1", at: 100, strikes: ["profanity", "spam"]))])
        try ledger.commit([.judged(change("p1", "u1", at: 100, strikes: ["spam"]))])
        let standing = try ledger.standing(of: "u1")
        #expect(standing.strikes.map(\.guideline) == ["spam"])
    }

    @Test func undoForgetsWhatPostsLeftInProcessingWrote() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(path: directory.path + "/ledger.sqlite", durable: false)
        try ledger.commit([
            .judged(change("p1", "u1", at: 100, strikes: ["profanity"])),
            .judged(change("p2", "u1", at: 101, strikes: ["profanity"], escalation: .holdAuthor)),
        ])
        try ledger.undo([("p2", Date(timeIntervalSince1970: 101))])
        let authors: [String: AuthorRecord] = try ledger.author("u1", postsSince: .distantPast, maxPosts: 512).map { ["u1": $0] } ?? [:]
        #expect(authors["u1"]?.standing.strikes.map(\.postID) == ["p1"])
        #expect(authors["u1"]?.posts.map(\.postID) == ["p1"])
        #expect(authors["u1"]?.standing.escalations.isEmpty == true)
    }

    /// An edited post that no longer escalates: the escalation it caused is gone from the
    /// ledger as it is from memory, so a restart does not escalate the author again.
    @Test func anEditThatNoLongerEscalatesLiftsItsEscalation() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(path: directory.path + "/ledger.sqlite", durable: false)
        try ledger.commit([.judged(change("p1", "u1", at: 100, strikes: ["profanity"], escalation: .holdAuthor))])
        var edit = change("p1", "u1", at: 150)
        edit.replaces = true
        try ledger.commit([.judged(edit)])
        let authors: [String: AuthorRecord] = try ledger.author("u1", postsSince: .distantPast, maxPosts: 512).map { ["u1": $0] } ?? [:]
        #expect(authors["u1"]?.standing.escalations.isEmpty ?? true)
        #expect(authors["u1"]?.standing.strikes.isEmpty ?? true)
    }

    /// A kill after an edit's batch reached the ledger, with an earlier post of the author
    /// still in processing/: undoing both puts the earlier version's rows back, as they were
    /// when that post was first judged (found by scripts/chaos.py).
    @Test func undoOfACommittedEditRestoresTheVersionItReplaced() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(path: directory.path + "/ledger.sqlite", durable: false)
        try ledger.commit([.judged(change("p1", "u1", at: 100, strikes: ["profanity"], escalation: .holdAuthor))])
        var edit = change("p1", "u1", at: 300, strikes: ["spam"])
        edit.replaces = true
        try ledger.commit([.judged(change("p2", "u1", at: 200, strikes: ["spam"])), .judged(edit)])
        try ledger.undo([("p2", Date(timeIntervalSince1970: 200)), ("p1", Date(timeIntervalSince1970: 300))])
        let authors: [String: AuthorRecord] = try ledger.author("u1", postsSince: .distantPast, maxPosts: 512).map { ["u1": $0] } ?? [:]
        #expect(authors["u1"]?.standing.strikes == [Strike(postID: "p1", guideline: "profanity", at: Date(timeIntervalSince1970: 100))])
        #expect(authors["u1"]?.standing.escalations.map(\.action) == [.holdAuthor])
        #expect(authors["u1"]?.posts.map(\.postID) == ["p1"])
    }

    /// An edit left in processing/ before its batch was committed: the rows are the earlier
    /// version's, finished in done/, and must stay (found by scripts/chaos.py).
    @Test func undoKeepsTheEarlierVersionOfAnEditThatWasNeverCommitted() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(path: directory.path + "/ledger.sqlite", durable: false)
        try ledger.commit([.judged(change("p1", "u1", at: 100, strikes: ["profanity"], escalation: .holdAuthor))])
        try ledger.undo([("p1", Date(timeIntervalSince1970: 150))])
        let authors: [String: AuthorRecord] = try ledger.author("u1", postsSince: .distantPast, maxPosts: 512).map { ["u1": $0] } ?? [:]
        #expect(authors["u1"]?.standing.strikes.map(\.postID) == ["p1"])
        #expect(authors["u1"]?.standing.escalations.map(\.postID) == ["p1"])
    }

    @Test func pardonRemovesStrikesLiftsEscalationAndIsSeenByTheDaemon() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/ledger.sqlite"
        let daemonSide = try Ledger(path: path, durable: false)
        try daemonSide.commit([
            .judged(change("p1", "u1", at: 100, strikes: ["profanity"])),
            .judged(change("p2", "u1", at: 101, strikes: ["spam"], escalation: .holdAuthor)),
        ])
        let before = try daemonSide.dataVersion()
        let moderatorSide = try Ledger(path: path, durable: false)
        #expect(try moderatorSide.pardon(author: "u1", guideline: "spam") == 1)
        #expect(try daemonSide.dataVersion() != before)
        let pardons = try daemonSide.pardons(after: 0)
        #expect(pardons.map(\.guideline) == ["spam"])
        let standing = try daemonSide.standing(of: "u1")
        #expect(standing.strikes.map(\.guideline) == ["profanity"])
        #expect(standing.escalations.isEmpty)
    }

    @Test func pruneKeepsOnlyWhatTheWindowsNeed() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(path: directory.path + "/ledger.sqlite", durable: false)
        try ledger.commit([.judged(change("old", "u1", at: 10, strikes: ["profanity"])), .judged(change("new", "u1", at: 1000, strikes: ["profanity"]))])
        try ledger.prune(strikesBefore: Date(timeIntervalSince1970: 500), postsBefore: Date(timeIntervalSince1970: 500))
        #expect(try ledger.standing(of: "u1").strikes.map(\.postID) == ["new"])
    }
}
