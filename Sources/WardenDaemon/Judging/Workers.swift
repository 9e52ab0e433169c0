import Foundation
import Logging
import WardenCore

/// Judging: each worker thread takes posts from the `AuthorOrderedQueue` (an author's
/// posts in order, any author's on any worker), judges them with the rules in force,
/// applies the author's past and the escalation policy (`AuthorBook`), writes the action
/// file's temporary, and hands the outcome to the committer.
final class Workers: Sendable {
    private let rulebook: Rulebook
    private let queue: AuthorOrderedQueue<WorkerJob>
    private let outcomes: OutcomeQueue
    private let spool: Spool
    private let configuration: DaemonConfiguration
    private let metrics: DaemonMetrics
    private let logger: Logger
    /// Set when other hosts judge the same authors (PostgreSQL ledger).
    private let shared: (any SharedAuthors)?
    /// The shared ledger's outage, reported once however many posts wait (nil on SQLite).
    private let outage: LedgerOutage?

    init(rulebook: Rulebook, queue: AuthorOrderedQueue<WorkerJob>, outcomes: OutcomeQueue, spool: Spool,
         configuration: DaemonConfiguration, metrics: DaemonMetrics, logger: Logger, shared: (any SharedAuthors)? = nil,
         outage: LedgerOutage? = nil) {
        self.shared = shared
        self.outage = outage
        self.rulebook = rulebook
        self.queue = queue
        self.outcomes = outcomes
        self.spool = spool
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
    }

    /// One worker's loop; returns when the queue is closed and drained.
    func work(workerIndex: Int) {
        var temporaryCounter = 0
        var rules = JudgingRules(rulebook.current, configuration: configuration)
        while let (shard, job) = queue.take() {
            let book = queue.books[shard]
            switch job {
            case .post(let item):
                rules.refresh(from: rulebook)
                if let appealed = item.post.appealOf {
                    // An appeal is logged for the review console, never judged (no strike, no history).
                    let decision = Decision.appeal(item.post, appealing: appealed, at: Date(), ruleset: rules.inForce.ruleSet.digest)
                    let change = LedgerChange(postID: item.post.id, author: item.post.authorID, at: item.eventTime, textDigest: 0, strikeGuidelines: [])
                    book.queued(author: item.post.authorID, sequence: outcomes.push(.judged(
                        JudgedPost(fileID: item.fileID, decision: decision, change: change, isEdit: false, claimedAt: item.claimedAt))))
                    queue.release(shard: shard)
                    continue
                }
                func hand(_ judgedPost: JudgedPost) {
                    var judged = judgedPost
                    let decision = judged.decision
                    if decision.needsActionFile {
                        // Written here, on the worker, not flushed: creating files costs the
                        // kernel more than judging (ext4 inode allocation), and the workers run
                        // in parallel where the committer is one thread. The committer flushes
                        // and publishes it; if this write fails (disk full) the committer retries it.
                        temporaryCounter += 1
                        let temporary = ".\(decision.postID).json.\(workerIndex)-\(temporaryCounter).tmp"
                        judged.temporaryName = temporary
                        judged.temporaryWritten = (try? spool.writeActionTemporary(temporary, bytes: decision.actionFileJSON())) != nil
                    }
                    book.queued(author: judged.change.author, sequence: outcomes.push(.judged(judged)))
                }
                if let shared {
                    // The author's posts queued right behind this one (its shard is held) are
                    // judged under the same lock, with one read and one write (docs/STORAGE.md).
                    var remaining = [item]
                    while remaining.count < Self.maxPostsUnderOneLock, let next = queue.takeNext(shard: shard, where: { job in
                        if case .post(let following) = job { return following.post.authorID == item.post.authorID && following.post.appealOf == nil }
                        return false
                    }), case .post(let following) = next {
                        remaining.append(following)
                    }
                    // (The rules may change within a group: the shadow guard demoting a rule. judgeShared
                    // then stops, and the rest is judged with the rules now in force.)
                    while !remaining.isEmpty {
                        rules.refresh(from: rulebook)
                        let judged = judgeShared(remaining, rules: rules, book: book, shared: shared, workerIndex: workerIndex)
                        judged.forEach(hand)
                        remaining.removeFirst(judged.count)
                    }
                } else {
                    lookUp(item.post.authorID, at: item.eventTime, historyWindow: rules.historyWindow, in: book)
                    hand(decide(item, rules: rules, book: book))
                }
            case .pardon(let pardon):
                book.apply(pardon)
                book.queued(author: pardon.author, sequence: outcomes.push(.pardon(pardon)))
            }
            queue.release(shard: shard)
        }
    }

    /// Judges one post whose author's past is ready in `book`, and records it there.
    private func decide(_ item: PostJob, rules: JudgingRules, book: AuthorBook) -> JudgedPost {
        let isEdit = book.isKnown(item.post)
        let started = POSIX.monotonicNanoseconds()
        var decision = rules.judge.judge(item.post, history: book.history(for: item.post), now: item.eventTime)
        metrics.judgeLatency.recordNanoseconds(Int64(POSIX.monotonicNanoseconds() - started))
        if rulebook.admit(decision) {
            // A rule that acted on this post was just demoted (the shadow guard):
            // judge it again with the rules now in force, before any action file.
            let again = Judge(ruleSet: rulebook.current.ruleSet, organisation: configuration.organisation)
            decision = again.judge(item.post, history: book.history(for: item.post), now: item.eventTime)
        }
        decision.decidedAt = Date()
        // For decisions.jsonl only (masked there where it holds personal data): the
        // review console shows and searches past posts from the log.
        decision.postText = item.post.text
        let change = book.record(&decision, post: item.post, at: item.eventTime, policy: rules.inForce.ruleSet.escalation,
                                 historyWindow: rules.historyWindow)
        return JudgedPost(fileID: item.fileID, decision: decision, change: change, isEdit: isEdit, claimedAt: item.claimedAt)
    }

    /// At most this many posts of one author are judged under one lock (one read, one write).
    static let maxPostsUnderOneLock = 64

    /// A shared ledger: read the author, judge and write the posts' changes under the
    /// author's lock, so that no other host judges the author in between (docs/STORAGE.md).
    /// `items` are consecutive posts of one author: one read, then each judged on the author's
    /// past in memory as the SQLite daemon judges (its in-memory book), then all their rows
    /// in one write. Judging stops early if the rules in force change (the shadow guard
    /// demoted a rule): the posts judged so far are returned and written, the rest are
    /// judged next under a lock of their own. Retried whole with back-off while the database
    /// is unreachable (one outage, reported by `LedgerOutage`): the posts wait in
    /// processing/, and a retry reads the author afresh.
    ///
    /// A retried post, or one an earlier run left in processing/, first undoes its own rows
    /// inside the locked transaction: a failure may have been a lost reply to a COMMIT that
    /// did happen, and judging on a past that holds the post's own strike would count it twice.
    private func judgeShared(_ items: [PostJob], rules: JudgingRules, book: AuthorBook, shared: any SharedAuthors,
                             workerIndex: Int) -> [JudgedPost] {
        let author = items[0].post.authorID
        let historyWindow = rules.historyWindow
        var retry = Retry(logger: logger, message: "cannot judge an author under the shared ledger's lock; the post waits in processing/ and is retried",
                          metadata: ["author": "\(author)"])
        retry.outage = outage
        retry.party = "worker-\(workerIndex)"
        // How many of `items` a failed attempt may have written rows for: a retry undoes those.
        // Counted before the rows are handed to the session, so the count holds wherever
        // the session sends them (at once, at a flush, or in its closing call).
        var attempted = 0
        var judged = retry.untilSuccess { failedAttempts in
            try shared.withAuthor(author) { session -> [JudgedPost] in
                for (index, item) in items.enumerated().reversed() where (failedAttempts > 0 && index < attempted) || item.recovered {
                    try session.undo(postID: item.post.id, at: item.eventTime)
                }
                let earliest = items.map(\.eventTime).min() ?? items[0].eventTime
                let fetched = try session.author(author, postsSince: earliest.addingTimeInterval(-historyWindow),
                                                 maxPosts: historyWindow > 0 ? AuthorRecord.maxPostTraces : 0)
                book.adopt(fetched, author: author, at: earliest, historyWindow: historyWindow)
                var judged: [JudgedPost] = []
                for item in items {
                    if !judged.isEmpty && rulebook.current.generation != rules.generation { break }
                    judged.append(decide(item, rules: rules, book: book))
                }
                attempted = max(attempted, judged.count)
                for post in judged { try session.record(post.change) }
                return judged
            }
        }
        metrics.authorReads.increment()
        book.drop(author: author)
        for index in judged.indices { judged[index].changeWritten = true }
        return judged
    }

    /// Reads an author back from the ledger if needed. A failed read (I/O error) is retried
    /// with back-off rather than judging on a partial past: strike counts must be exact.
    private func lookUp(_ author: String, at: Date, historyWindow: TimeInterval, in book: AuthorBook) {
        let retry = Retry(logger: logger, message: "cannot read an author's strikes and history from the ledger; retrying",
                          metadata: ["author": "\(author)"])
        if retry.untilSuccess({ try book.lookUp(author: author, at: at, historyWindow: historyWindow) }) { metrics.authorReads.increment() }
    }

    /// Forgets strikes and posts older than the windows in every shard's book (every ten
    /// minutes, from the main loop).
    func pruneMemory() {
        let date = Date()
        let started = POSIX.monotonicNanoseconds()
        let strikesBefore = date.addingTimeInterval(-rulebook.strikeWindow)
        let postsBefore = date.addingTimeInterval(-rulebook.historyWindow)
        var authors = 0
        var entries = 0
        queue.withAllBooks {
            $0.prune(strikesBefore: strikesBefore, postsBefore: postsBefore)
            authors += $0.authors.count
            entries += $0.entries
        }
        let freed = HeapStatistics.current().free
        HeapStatistics.releaseFreePages()
        let heap = HeapStatistics.current()
        logger.notice("pruned the author books", metadata: [
            "authors": "\(authors)", "entries": "\(entries)",
            "heap_in_use": "\(HeapStatistics.mebibytes(heap.inUse))",
            "heap_free_before_trim": "\(HeapStatistics.mebibytes(freed))",
            "heap_free": "\(HeapStatistics.mebibytes(heap.free))",
            "took_ms": "\((POSIX.monotonicNanoseconds() - started) / 1_000_000)",
        ])
    }
}

/// The rules as one worker judges with them: the rules in force, the `Judge` built for them
/// and the history window they ask for. Rebuilt when the rulebook's generation changes (a
/// reload, or the shadow guard demoting a rule); a worker keeps its own, so judging takes
/// no lock.
struct JudgingRules {
    private(set) var inForce: RulesInForce
    private(set) var judge: Judge
    private(set) var historyWindow: TimeInterval
    private let configuration: DaemonConfiguration

    var generation: Int { inForce.generation }

    init(_ inForce: RulesInForce, configuration: DaemonConfiguration) {
        self.inForce = inForce
        self.configuration = configuration
        judge = Judge(ruleSet: inForce.ruleSet, organisation: configuration.organisation)
        historyWindow = inForce.historyWindow(cap: configuration.historyWindow)
    }

    /// Takes the rulebook's current rules if they are newer than these.
    mutating func refresh(from rulebook: Rulebook) {
        let current = rulebook.current
        if current.generation != inForce.generation { self = JudgingRules(current, configuration: configuration) }
    }
}
