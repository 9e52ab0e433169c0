import Foundation
import Testing
@testable import WardenCore
@testable import WardenDaemon

private let policy = EscalationPolicy(window: 30 * 86_400, counted: ["profanity"], thresholds: [
    .init(strikes: 2, action: .holdAuthor), .init(strikes: 3, action: .blockAuthor),
])

private func decision(_ post: Post, strikes: [String], action: Action = .delete) -> Decision {
    Decision(postID: post.id, action: strikes.isEmpty ? .allow : action, guidelines: strikes, rules: [], matches: [],
             message: nil, publicNote: nil, redactedText: nil, routeTo: nil, shadowRules: [], limitReasons: [],
             strikeGuidelines: strikes, textDigest: UInt64(post.text.count), authorID: post.authorID, authorName: nil,
             authorStrikes: nil, escalation: nil, decidedAt: Date(), ruleset: "sha256:test")
}

private func post(_ id: String, _ author: String = "u1", _ text: String = "text") -> Post {
    Post(id: id, authorID: author, text: text)
}

@Suite struct AuthorBookTests {
    @Test func strikesEscalateAtThresholdsAndLaterPostsAreHeldThenDeleted() {
        let book = AuthorBook()
        let start = Date(timeIntervalSince1970: 1_000_000)
        var results: [(Action, Action?, Int?)] = []
        for (index, strikes) in [["profanity"], [], ["profanity"], [], ["profanity"], []].enumerated() {
            let p = post("p\(index)")
            var d = decision(p, strikes: strikes)
            _ = book.record(&d, post: p, at: start.addingTimeInterval(Double(index)), policy: policy)
            results.append((d.action, d.escalation, d.authorStrikes))
        }
        #expect(results.map(\.0) == [.delete, .allow, .delete, .hold, .delete, .delete])
        #expect(results.map(\.1) == [nil, nil, .holdAuthor, .holdAuthor, .blockAuthor, .blockAuthor])
        #expect(results.map(\.2) == [1, 1, 2, 2, 3, 3])
    }

    @Test func complaintsAndUncountedGuidelinesNeverEscalate() {
        let book = AuthorBook()
        for index in 0..<5 {
            let p = post("p\(index)")
            var d = decision(p, strikes: ["privacy"], action: .hide)
            let change = book.record(&d, post: p, at: Date(timeIntervalSince1970: Double(index)), policy: policy)
            #expect(change.escalation == nil)
            #expect(d.escalation == nil)
        }
    }

    @Test func anEditedPostDoesNotCountTwice() {
        let book = AuthorBook()
        for _ in 0..<3 {
            let p = post("same-id")
            var d = decision(p, strikes: ["profanity"])
            _ = book.record(&d, post: p, at: Date(timeIntervalSince1970: 5), policy: policy)
            #expect(d.authorStrikes == 1)
            #expect(d.escalation == nil)
        }
        let history = book.history(for: post("same-id"))
        #expect(history.postCount(author: "u1", within: 60, now: Date(timeIntervalSince1970: 10)) == 0)
    }

    @Test func strikesOutsideTheWindowDoNotCount() {
        let book = AuthorBook()
        var first = decision(post("a"), strikes: ["profanity"])
        _ = book.record(&first, post: post("a"), at: Date(timeIntervalSince1970: 0), policy: policy)
        var second = decision(post("b"), strikes: ["profanity"])
        _ = book.record(&second, post: post("b"), at: Date(timeIntervalSince1970: 31 * 86_400), policy: policy)
        #expect(second.authorStrikes == 1)
        #expect(second.escalation == nil)
    }

    @Test func pardonLiftsTheEscalation() {
        let book = AuthorBook()
        for index in 0..<2 {
            var d = decision(post("p\(index)"), strikes: ["profanity"])
            _ = book.record(&d, post: post("p\(index)"), at: Date(timeIntervalSince1970: Double(index)), policy: policy)
        }
        book.apply(Pardon(id: 1, author: "u1", guideline: nil, at: Date()))
        var clean = decision(post("clean"), strikes: [])
        _ = book.record(&clean, post: post("clean"), at: Date(timeIntervalSince1970: 10), policy: policy)
        #expect(clean.action == .allow)
        #expect(clean.escalation == nil)
        #expect(clean.authorStrikes == 0)
    }

    @Test func historyCountsRepeatsAndFloodExcludingThePostJudged() {
        let book = AuthorBook()
        for index in 0..<3 {
            let p = post("p\(index)", "u1", "same")
            var d = decision(p, strikes: [])
            _ = book.record(&d, post: p, at: Date(timeIntervalSince1970: Double(index)), policy: policy)
        }
        let history = book.history(for: post("p2", "u1", "same"))
        #expect(history.postCount(author: "u1", within: 60, now: Date(timeIntervalSince1970: 2)) == 2)
        #expect(history.sameTextCount(author: "u1", textDigest: 4, within: 60, now: Date(timeIntervalSince1970: 2)) == 2)
        #expect(history.sameTextCount(author: "u1", textDigest: 5, within: 60, now: Date(timeIntervalSince1970: 2)) == 0)
    }
}
