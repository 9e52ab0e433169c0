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
        var judge: Judge?
        var generation = 0
        var historyWindow: TimeInterval = 0
        while let (shard, job) = queue.take() {
            let book = queue.books[shard]
            switch job {
            case .post(let item):
                let inForce = rulebook.current
                if inForce.generation != generation || judge == nil {
                    judge = Judge(ruleSet: inForce.ruleSet, organisation: configuration.organisation)
                    generation = inForce.generation
                    historyWindow = inForce.historyWindow(cap: configuration.historyWindow)
                }
                guard let judge else { continue }
                if let appealed = item.post.appealOf {
                    // An appeal is logged for the review console, never judged (no strike, no history).
                    let decision = Decision.appeal(item.post, appealing: appealed, at: Date(), ruleset: inForce.ruleSet.digest)
                    let change = LedgerChange(postID: item.post.id, author: item.post.authorID, at: item.eventTime, textDigest: 0, strikeGuidelines: [])
                    book.queued(author: item.post.authorID, sequence: outcomes.push(.judged(
                        JudgedPost(fileID: item.fileID, decision: decision, change: change, isEdit: false, claimedAt: item.claimedAt))))
                    queue.release(shard: shard)
                    continue
                }
                var judged: JudgedPost
                if let shared {
                    judged = judgeShared(item, judge: judge, inForce: inForce, historyWindow: historyWindow, book: book, shared: shared, workerIndex: workerIndex)
                } else {
                    lookUp(item.post.authorID, at: item.eventTime, historyWindow: historyWindow, in: book)
                    judged = decide(item, judge: judge, inForce: inForce, historyWindow: historyWindow, book: book)
                }
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
                book.queued(author: item.post.authorID, sequence: outcomes.push(.judged(judged)))
            case .pardon(let pardon):
                book.apply(pardon)
                book.queued(author: pardon.author, sequence: outcomes.push(.pardon(pardon)))
            }
            queue.release(shard: shard)
        }
    }

    /// Judges one post whose author's past is ready in `book`, and records it there.
    private func decide(_ item: PostJob, judge: Judge, inForce: RulesInForce, historyWindow: TimeInterval, book: AuthorBook) -> JudgedPost {
        let isEdit = book.isKnown(item.post)
        let started = POSIX.monotonicNanoseconds()
        var decision = judge.judge(item.post, history: book.history(for: item.post), now: item.eventTime)
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
        let change = book.record(&decision, post: item.post, at: item.eventTime, policy: inForce.ruleSet.escalation,
                                 historyWindow: historyWindow)
        return JudgedPost(fileID: item.fileID, decision: decision, change: change, isEdit: isEdit, claimedAt: item.claimedAt)
    }

    /// A shared ledger: read the author, judge and write the post's change in one
    /// transaction under the author's lock, so that no other host judges the author in
    /// between (docs/STORAGE.md). Retried whole with back-off while the database is
    /// unreachable (one outage, reported by `LedgerOutage`): the post waits in processing/,
    /// and a retry reads the author afresh.
    ///
    /// A retried post, or one an earlier run left in processing/, first undoes its own rows
    /// inside the locked transaction: a failure may have been a lost reply to a COMMIT that
    /// did happen, and judging on a past that holds the post's own strike would count it twice.
    private func judgeShared(_ item: PostJob, judge: Judge, inForce: RulesInForce, historyWindow: TimeInterval, book: AuthorBook,
                             shared: any SharedAuthors, workerIndex: Int) -> JudgedPost {
        let author = item.post.authorID
        var retry = Retry(logger: logger, message: "cannot judge an author under the shared ledger's lock; the post waits in processing/ and is retried",
                          metadata: ["author": "\(author)"])
        retry.outage = outage
        retry.party = "worker-\(workerIndex)"
        var judged = retry.untilSuccess { failedAttempts in
            try shared.withAuthor(author) { session -> JudgedPost in
                if failedAttempts > 0 || item.recovered {
                    try session.undo(postID: item.post.id, at: item.eventTime)
                }
                let fetched = try session.author(author, postsSince: item.eventTime.addingTimeInterval(-historyWindow),
                                                 maxPosts: historyWindow > 0 ? AuthorRecord.maxPostTraces : 0)
                book.adopt(fetched, author: author, at: item.eventTime, historyWindow: historyWindow)
                let judged = decide(item, judge: judge, inForce: inForce, historyWindow: historyWindow, book: book)
                try session.record(judged.change)
                return judged
            }
        }
        metrics.authorReads.increment()
        book.drop(author: author)
        judged.changeWritten = true
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
        let strikesBefore = date.addingTimeInterval(-rulebook.strikeWindow)
        let postsBefore = date.addingTimeInterval(-rulebook.historyWindow)
        var authors = 0
        var entries = 0
        queue.withAllBooks {
            $0.prune(strikesBefore: strikesBefore, postsBefore: postsBefore)
            authors += $0.authors.count
            entries += $0.entries
        }
        let heap = HeapStatistics.current()
        logger.notice("pruned the author books", metadata: [
            "authors": "\(authors)", "entries": "\(entries)",
            "heap_in_use": "\(HeapStatistics.mebibytes(heap.inUse))", "heap_free": "\(HeapStatistics.mebibytes(heap.free))",
        ])
    }
}
