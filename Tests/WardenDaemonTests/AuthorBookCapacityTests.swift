import Foundation
import Testing
@testable import WardenCore
@testable import WardenDaemon

/// What a user sees of one judgement: the action file's fields that depend on the author's past.
private struct Outcome: Equatable, CustomStringConvertible {
    var postID: String
    var action: Action
    var rules: [String]
    var strikes: Int?
    var escalation: Action?
    var isEdit: Bool
    var newEscalation: Action?
    var replaces: Bool
    var description: String {
        "\(postID): \(action.rawValue) \(rules) strikes \(strikes ?? -1) \(escalation?.rawValue ?? "-") edit \(isEdit) new \(newEscalation?.rawValue ?? "-") replaces \(replaces)"
    }
}

private enum Step {
    case post(Post, at: Date)
    case pardon(author: String)
}

/// A deterministic mix of six authors' posts over a few hours: floods (five posts in ten
/// seconds), the same text again (repeat_post), profanity (strikes, escalation at 2 and 3),
/// complaints, edits of earlier posts, and pardons.
private func script() -> [Step] {
    var seed: UInt64 = 0x5EED
    func next(_ bound: Int) -> Int {
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Int((seed >> 33) % UInt64(bound))
    }
    var steps: [Step] = []
    var clock = Date(timeIntervalSince1970: 1_795_305_600)
    var written: [String: [String]] = [:]
    var counter = 0
    for round in 0..<500 {
        clock = clock.addingTimeInterval(Double(5 + next(40)))
        let author = "a\(next(6))"
        if round % 97 == 96 {
            steps.append(.pardon(author: author))
            continue
        }
        let burst = next(12) == 0 ? 5 : 1
        for index in 0..<burst {
            let text: String
            switch next(10) {
            case 0, 1: text = "this is a badword \(next(1000))"
            case 2, 3: text = "same again"
            case 4: text = "worst service ever, you never called me back"
            default: text = "a perfectly fine post number \(counter)"
            }
            let id: String
            if let earlier = written[author], !earlier.isEmpty, next(8) == 0 {
                id = earlier[next(earlier.count)]
            } else {
                counter += 1
                id = "p\(counter)"
                written[author, default: []].append(id)
            }
            steps.append(.post(Post(id: id, authorID: author, text: text), at: clock.addingTimeInterval(Double(index * 2))))
        }
    }
    return steps
}

/// Runs the script as the daemon does: look the author up, judge, record, queue the ledger
/// change; a simulated committer commits the queued changes every `commitEvery` of them.
/// `check` sees the book after every look-up.
private func run(_ steps: [Step], book: AuthorBook, ledger: Ledger?, committed: Locked<UInt64>, commitEvery: Int,
                 check: (AuthorBook) -> Void = { _ in }) throws -> [Outcome] {
    let rules = try RuleLoader.load(directory: WardenDaemonFixtures.daemonRules, runExamples: false)
    let inForce = RulesInForce(generation: 1, ruleSet: rules, loaded: rules)
    let historyWindow = inForce.historyWindow(cap: 86_400)
    let judge = Judge(ruleSet: rules)
    var outcomes: [Outcome] = []
    var queued: [LedgerOperation] = []
    var sequence: UInt64 = 0
    func commit() throws {
        try ledger?.commit(queued)
        queued.removeAll()
        committed.withLock { $0 = sequence }
    }
    for step in steps {
        switch step {
        case .post(let post, let at):
            try book.lookUp(author: post.authorID, at: at, historyWindow: historyWindow)
            check(book)
            let isEdit = book.isKnown(post)
            var decision = judge.judge(post, history: book.history(for: post), now: at)
            let change = book.record(&decision, post: post, at: at, policy: rules.escalation, historyWindow: historyWindow)
            outcomes.append(Outcome(postID: post.id, action: decision.action, rules: decision.rules, strikes: decision.authorStrikes,
                                    escalation: decision.escalation, isEdit: isEdit, newEscalation: change.escalation,
                                    replaces: change.replaces))
            queued.append(.judged(change))
            sequence += 1
            book.queued(author: post.authorID, sequence: sequence)
        case .pardon(let author):
            // `warden pardon` writes the ledger first; the daemon then applies it in order.
            try commit()
            let id: Int64 = try ledger.map { ledger -> Int64 in try ledger.pardon(author: author, guideline: nil); return try ledger.lastPardonID() } ?? 1
            let pardon = Pardon(id: id, author: author, guideline: nil, at: Date())
            book.apply(pardon)
            queued.append(.pardon(pardon))
            sequence += 1
            book.queued(author: author, sequence: sequence)
        }
        if queued.count >= commitEvery { try commit() }
    }
    try commit()
    return outcomes
}

enum WardenDaemonFixtures {
    static let daemonRules = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/daemon-rules").path
}

@Suite struct AuthorBookCapacityTests {
    /// The reference: every author in memory, no ledger reads.
    private func unbounded(_ steps: [Step]) throws -> [Outcome] {
        try run(steps, book: AuthorBook(), ledger: nil, committed: Locked(0), commitEvery: 1)
    }

    @Test(arguments: [
        // (max authors, max entries, changes per committed batch)
        (2, Int.max, 1),
        (1, Int.max, 1),
        (2, Int.max, 7),
        (50, 12, 1),
        (3, 30, 5),
    ])
    func decisionsAreTheSameWithATinyBookAsWithAnUnboundedOne(maxAuthors: Int, maxEntries: Int, commitEvery: Int) throws {
        let steps = script()
        let expected = try unbounded(steps)
        #expect(expected.contains { $0.newEscalation == .blockAuthor }, "the script must escalate someone to block")
        #expect(expected.contains { $0.rules.contains("spam.flood") } && expected.contains { $0.rules.contains("spam.repeat") })
        #expect(expected.contains { $0.isEdit } && expected.contains { $0.replaces })

        let directory = try TemporaryDirectory()
        let ledger = try Ledger(path: directory.path + "/ledger.sqlite", durable: false)
        let committed = Locked<UInt64>(0)
        let book = AuthorBook()
        book.capacity = BookCapacity(maxAuthors: maxAuthors, maxEntries: maxEntries)
        book.archive = AuthorArchive(ledger: ledger, committedThrough: committed)
        var largest = 0
        let outcomes = try run(steps, book: book, ledger: ledger, committed: committed, commitEvery: commitEvery) { book in
            largest = max(largest, book.authors.count)
            if commitEvery == 1 {
                // Everything but the author being judged is committed: the cap holds exactly,
                // except that the author being judged is never dropped.
                #expect(book.authors.count <= maxAuthors)
                #expect(book.entries <= maxEntries || book.authors.count == 1)
            } else {
                // Authors with changes not yet committed stay: at most one per queued change.
                #expect(book.authors.count <= maxAuthors + commitEvery)
            }
        }
        #expect(book.archiveReads > 0)
        #expect(outcomes.count == expected.count)
        let differing = zip(outcomes, expected).filter { $0 != $1 }
        #expect(differing.isEmpty, "\(differing.count) decisions differ; first: \(differing.first.map { "\($0.0) instead of \($0.1)" } ?? "")")
    }

    @Test func theBookStaysAtItsCapWhateverTheNumberOfAuthors() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(path: directory.path + "/ledger.sqlite", durable: false)
        let committed = Locked<UInt64>(0)
        let book = AuthorBook()
        book.capacity = BookCapacity(maxAuthors: 100, maxEntries: 1_000)
        book.archive = AuthorArchive(ledger: ledger, committedThrough: committed)
        let steps = (0..<3_000).map { Step.post(Post(id: "p\($0)", authorID: "author-\($0)", text: "hello \($0)"),
                                                at: Date(timeIntervalSince1970: 1_795_305_600 + Double($0))) }
        var largest = 0
        _ = try run(steps, book: book, ledger: ledger, committed: committed, commitEvery: 16) { largest = max(largest, $0.authors.count) }
        #expect(largest <= 100 + 16)
        #expect(book.authors.count <= 100 + 16)
        #expect(book.archiveReads == 3_000)
    }

    @Test func anAuthorWithUncommittedChangesIsNotDropped() throws {
        let directory = try TemporaryDirectory()
        let ledger = try Ledger(path: directory.path + "/ledger.sqlite", durable: false)
        let committed = Locked<UInt64>(0)
        let book = AuthorBook()
        book.capacity = BookCapacity(maxAuthors: 1, maxEntries: .max)
        book.archive = AuthorArchive(ledger: ledger, committedThrough: committed)
        let policy = EscalationPolicy(window: 86_400, counted: ["profanity"], thresholds: [.init(strikes: 2, action: .holdAuthor)])
        let at = Date(timeIntervalSince1970: 1_795_305_600)
        func judged(_ id: String, _ author: String, strikes: [String], sequence: UInt64) -> LedgerChange {
            try? book.lookUp(author: author, at: at, historyWindow: 3600)
            var decision = Decision(postID: id, action: strikes.isEmpty ? .allow : .delete, guidelines: strikes, rules: [], matches: [],
                                    message: nil, publicNote: nil, redactedText: nil, routeTo: nil, shadowRules: [], limitReasons: [],
                                    strikeGuidelines: strikes, textDigest: 1, authorID: author, authorName: nil,
                                    authorStrikes: nil, escalation: nil, decidedAt: Date(), ruleset: "sha256:test")
            let change = book.record(&decision, post: Post(id: id, authorID: author, text: "x"), at: at, policy: policy)
            book.queued(author: author, sequence: sequence)
            return change
        }
        let first = judged("p1", "u1", strikes: ["profanity"], sequence: 1)
        _ = judged("p2", "u2", strikes: [], sequence: 2)
        #expect(book.authors["u1"] != nil, "u1's strike is not in the ledger yet, so u1 must stay in memory")
        try ledger.commit([.judged(first)])
        committed.withLock { $0 = 1 }
        _ = judged("p3", "u3", strikes: [], sequence: 3)
        #expect(book.authors["u1"] == nil)
        try? book.lookUp(author: "u1", at: at, historyWindow: 3600)
        #expect(book.authors["u1"]?.standing.strikes.map(\.postID) == ["p1"])
    }
}
