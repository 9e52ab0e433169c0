import Foundation
import Testing
@testable import WardenCore

/// `AuthorStanding` is the one escalation policy: the daemon's AuthorBook and
/// `warden diff --simulate` (Replay) both call it.
@Suite struct EscalationTests {
    static let policy = EscalationPolicy(window: 3600, counted: ["profanity"], thresholds: [
        .init(strikes: 2, action: .holdAuthor), .init(strikes: 3, action: .blockAuthor),
    ])

    static func decision(_ id: String, action: Action = .hide, strikes: [String] = ["profanity"]) -> Decision {
        Decision(postID: id, action: action, guidelines: strikes, rules: [], matches: [], message: nil, publicNote: nil,
                 redactedText: nil, routeTo: nil, shadowRules: [], limitReasons: [], strikeGuidelines: strikes, textDigest: 0,
                 authorID: "u1", authorName: nil, authorStrikes: nil, escalation: nil, decidedAt: Date(), ruleset: "")
    }

    @Test func thePostThatCrossesAThresholdGetsTheEscalationsFloorAction() {
        var standing = AuthorStanding()
        var first = Self.decision("p1")
        #expect(standing.record(&first, postID: "p1", at: Date(timeIntervalSince1970: 0), policy: Self.policy) == nil)
        #expect(first.action == .hide && first.escalation == nil && first.authorStrikes == 1)
        var second = Self.decision("p2", action: .flag)
        #expect(standing.record(&second, postID: "p2", at: Date(timeIntervalSince1970: 60), policy: Self.policy) == .holdAuthor)
        #expect(second.action == .hold && second.escalation == .holdAuthor)
        var third = Self.decision("p3")
        #expect(standing.record(&third, postID: "p3", at: Date(timeIntervalSince1970: 120), policy: Self.policy) == .blockAuthor)
        #expect(third.action == .delete && third.escalation == .blockAuthor)
        var clean = Self.decision("p4", action: .allow, strikes: [])
        standing.record(&clean, postID: "p4", at: Date(timeIntervalSince1970: 180), policy: Self.policy)
        #expect(clean.action == .delete && clean.escalation == .blockAuthor, "a blocked author's every post is deleted")
    }

    @Test(arguments: [(3599.0, 2), (3600.0, 1), (3601.0, 1)])
    func aStrikeExactlyOneWindowOldNoLongerCounts(later: Double, counted: Int) {
        var standing = AuthorStanding()
        var first = Self.decision("p1")
        standing.record(&first, postID: "p1", at: Date(timeIntervalSince1970: 0), policy: Self.policy)
        var second = Self.decision("p2")
        standing.record(&second, postID: "p2", at: Date(timeIntervalSince1970: later), policy: Self.policy)
        #expect(second.authorStrikes == counted)
        #expect(second.escalation == (counted >= 2 ? .holdAuthor : nil))
    }

    @Test func aPardonForgivesStrikesAndLiftsTheEscalation() {
        var standing = AuthorStanding()
        for (index, id) in ["p1", "p2"].enumerated() {
            var d = Self.decision(id)
            standing.record(&d, postID: id, at: Date(timeIntervalSince1970: Double(index)), policy: Self.policy)
        }
        #expect(standing.escalation == .holdAuthor)
        standing.apply(Pardon(id: 1, author: "u1", guideline: "spam", at: Date()))
        #expect(standing.strikes.count == 2 && standing.escalation == nil, "a pardon for another guideline keeps the strikes")
        standing.apply(Pardon(id: 2, author: "u1", guideline: nil, at: Date()))
        #expect(standing.isEmpty)
    }

    @Test func reJudgingAPostReplacesItsStrikes() {
        var standing = AuthorStanding()
        var d = Self.decision("p1")
        standing.record(&d, postID: "p1", at: Date(timeIntervalSince1970: 0), policy: Self.policy)
        let forgot = standing.forget(postID: "p1")
        #expect(forgot)
        var again = Self.decision("p1")
        standing.record(&again, postID: "p1", at: Date(timeIntervalSince1970: 0), policy: Self.policy)
        #expect(standing.strikes.count == 1)
    }
}
