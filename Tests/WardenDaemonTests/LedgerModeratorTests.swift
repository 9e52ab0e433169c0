import Foundation
import Testing
@testable import WardenCore
@testable import WardenDaemon

/// The moderator side of the ledger: read-only opening, pardons with who and why, the
/// escalated authors.
@Suite struct LedgerModeratorTests {
    private func seeded() throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory()
        let path = directory.path + "/ledger.sqlite"
        let ledger = try Ledger(path: path, durable: false)
        try ledger.commit([
            .judged(LedgerChange(postID: "p1", author: "u1", at: Date(timeIntervalSince1970: 100), textDigest: 1, strikeGuidelines: ["profanity"], escalation: nil)),
            .judged(LedgerChange(postID: "p2", author: "u1", at: Date(timeIntervalSince1970: 200), textDigest: 2, strikeGuidelines: ["profanity"], escalation: .holdAuthor)),
            .judged(LedgerChange(postID: "p3", author: "u1", at: Date(timeIntervalSince1970: 300), textDigest: 3, strikeGuidelines: ["spam"], escalation: .blockAuthor)),
            .judged(LedgerChange(postID: "p4", author: "u2", at: Date(timeIntervalSince1970: 300), textDigest: 4, strikeGuidelines: ["spam"], escalation: nil)),
        ])
        return (directory, path)
    }

    @Test func aReadOnlyLedgerReadsAndRefusesWrites() throws {
        let (directory, path) = try seeded()
        _ = directory
        let ledger = try Ledger(path: path, readOnly: true)
        #expect(try ledger.standing(of: "u1").strikes.count == 3)
        #expect(throws: (any Error).self) { try ledger.pardon(author: "u1", guideline: nil) }
        #expect(try Ledger(path: path, readOnly: true).standing(of: "u1").escalations.count == 2, "nothing was pardoned")
    }

    @Test func escalatedAuthorsListTheStrongestEscalationEach() throws {
        let (directory, path) = try seeded()
        _ = directory
        let ledger = try Ledger(path: path, durable: false)
        let escalated = try ledger.escalatedAuthors()
        #expect(escalated.map(\.author) == ["u1"])
        #expect(escalated.first?.escalation.action == .blockAuthor)
        #expect(try ledger.struckGuidelines() == ["profanity", "spam"])
        try ledger.pardon(author: "u1", guideline: nil, moderator: "maria", reason: "appeal upheld")
        #expect(try ledger.escalatedAuthors().isEmpty)
        let pardon = try #require(try ledger.standing(of: "u1").pardons.first)
        #expect(pardon.moderator == "maria" && pardon.reason == "appeal upheld")
    }
}
