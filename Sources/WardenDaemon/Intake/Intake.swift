import DequeModule
import Foundation
import Glibc
import Logging
import WardenCore

/// Intake: notices post files in inbox/, claims them into processing/ (through the
/// `Spool`), parses them and hands each post to the workers, in the order noticed.
///
/// Runs on the main loop's thread only, so its queue of noticed names needs no lock.
final class Intake {
    private let spool: Spool
    private let configuration: DaemonConfiguration
    private let logger: Logger
    private let metrics: DaemonMetrics
    private let queue: AuthorOrderedQueue<WorkerJob>
    private let outcomes: OutcomeQueue
    private let inFlight: InFlight
    /// Names noticed and not yet claimed, oldest first, and the same as a set.
    private var pending = Deque<String>()
    private var pendingSet: Set<String> = []
    private var nextFileID = 0
    /// A name could not be claimed yet (same name in processing/): rescan within a second.
    private(set) var rescanSoon = false
    /// inbox/ holds more posts than `maxNoticed`: the names beyond it are not kept (each costs
    /// memory, and a daemon far behind would otherwise hold millions), inotify's names are
    /// ignored, and the oldest are listed again when the queue is half empty. Everything
    /// then comes through a rescan, oldest first, so an author's posts keep their order.
    private(set) var overfull = false

    init(spool: Spool, configuration: DaemonConfiguration, logger: Logger, metrics: DaemonMetrics,
         queue: AuthorOrderedQueue<WorkerJob>, outcomes: OutcomeQueue, inFlight: InFlight) {
        self.spool = spool
        self.configuration = configuration
        self.logger = logger
        self.metrics = metrics
        self.queue = queue
        self.outcomes = outcomes
        self.inFlight = inFlight
    }

    var backlog: Int { pending.count }

    // MARK: Start-up recovery

    /// Posts left in processing/ by an earlier run, read at start-up before anything new.
    private var recovered: [(name: String, parsed: Result<ParsedFile, Rejection>)] = []
    /// The leftovers' rows are undone by the workers, post by post (shared ledger).
    private var undoesPerPost = false

    /// Reads the posts left in processing/ by an earlier run and undoes their ledger rows
    /// (see `Ledger.undo`), before the workers start: they are judged again from scratch.
    ///
    /// On a shared ledger the undo is not done here but by each post inside its author's
    /// locked transaction (`Workers.judgeShared`): other hosts keep judging the same authors
    /// meanwhile, and a separate undo transaction here could fail half-way through an
    /// outage at start or interleave with their posts.
    func readLeftovers(ledger: any LedgerStore) throws {
        let leftovers = try spool.pending(in: spool.layout.processing)
        recovered = leftovers.map { name in (name, readAndParse(name)) }
        undoesPerPost = ledger.sharedAuthors != nil
        if undoesPerPost { return }
        let recoveredAt = Date()
        let recoveredPosts = recovered.flatMap { item -> [(postID: String, at: Date)] in
            guard case .success(let parsed) = item.parsed else { return [] }
            // The event time `dispatch` gives the post, which is what its ledger rows carry.
            return parsed.posts.map { ($0.id, Self.eventTime(of: $0, in: parsed, now: recoveredAt)) }
        }
        try ledger.undo(recoveredPosts)
    }

    /// Hands the leftovers to the workers, before anything new; the caller then waits for
    /// them (`InFlight.waitForRecovery`).
    func dispatchLeftovers() {
        inFlight.startRecovery(files: recovered.count)
        for (name, parsed) in recovered { dispatch(name: name, parsed: parsed, recovered: undoesPerPost) }
        if !recovered.isEmpty {
            logger.notice("judging posts left in processing/ by an earlier run", metadata: ["files": "\(recovered.count)"])
        }
        recovered = []
    }

    /// The time a post is judged "at": its `created_at`, else the file's modification
    /// time, never later than now (see `PostJob.eventTime`).
    static func eventTime(of post: Post, in file: ParsedFile, now: Date) -> Date {
        min(post.createdAt.flatMap(RFC3339.parse) ?? file.modified, now)
    }

    // MARK: Noticing

    /// An inotify event in inbox/. IN_CREATE only matters for things that are not regular
    /// files (a symlink, a FIFO, a directory): they never send IN_CLOSE_WRITE, and they go
    /// straight to failed/. A regular file is claimed when closed or renamed in, never when
    /// merely created, or a half-written post would be read.
    func noticed(_ event: DirectoryWatcher.Event) {
        if event.mask & UInt32(IN_CREATE) != 0 && !isSpecialFile(event.name) { return }
        if overfull { return }
        if pending.count >= configuration.maxNoticed {
            becomeOverfull()
            return
        }
        enqueue(event.name)
    }

    /// Half the noticed names have been claimed while inbox/ still holds more: list the
    /// oldest again now, not at the next periodic rescan.
    var wantsRefill: Bool { overfull && pending.count <= configuration.maxNoticed / 2 }

    private func becomeOverfull() {
        if !overfull {
            logger.notice("inbox/ holds more posts than are kept noticed; taking them oldest first from listings",
                          metadata: ["noticed": "\(pending.count)", "limit": "\(configuration.maxNoticed)"])
        }
        overfull = true
    }

    private func isSpecialFile(_ name: String) -> Bool {
        var info = stat()
        guard fstatat(spool.inbox, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { return false }
        return info.st_mode & S_IFMT != S_IFREG
    }

    private func enqueue(_ name: String) {
        guard Spool.isCandidate(name), !pendingSet.contains(name) else { return }
        pending.append(name)
        pendingSet.insert(name)
    }

    /// Lists inbox/ for names inotify did not report (overflow, or files present at start).
    func rescan() {
        rescanSoon = false
        do {
            let (oldest, more) = try spool.oldestPending(in: spool.layout.inbox, limit: configuration.maxNoticed)
            for name in oldest where pending.count < configuration.maxNoticed { enqueue(name) }
            if more {
                becomeOverfull()
            } else if overfull {
                overfull = false
                logger.notice("inbox/ caught up: every post in it is noticed again")
            }
        } catch {
            logger.error("cannot list inbox/", metadata: ["error": "\(error)"])
        }
        metrics.inboxDepth.set(Double(pending.count))
    }

    // MARK: Claiming and dispatching

    /// Claims and dispatches noticed names while there is room in flight.
    func dispatchPending() {
        var index = 0
        while !pending.isEmpty {
            if inFlight.current >= configuration.maxInFlight { return }
            guard let name = pending.popFirst() else { return }
            pendingSet.remove(name)
            index += 1
            do {
                switch try spool.claim(name) {
                case .claimed: break
                case .gone: continue
                case .busy:
                    logger.info("a post with the same file name is still being judged; claiming this one shortly", metadata: ["file": "inbox/\(name)"])
                    rescanSoon = true
                    continue
                }
            } catch {
                logger.error("cannot claim a post", metadata: ["error": "\(error)"])
                continue
            }
            dispatch(name: name, parsed: readAndParse(name))
            // Hand over in small slices so the loop keeps noticing signals and reloads
            // during a large backlog.
            if index >= 512 { return }
        }
    }

    struct ParsedFile: Sendable {
        var posts: [Post]
        var rejectedLines: [RejectedLine]
        var modified: Date
    }

    /// Reads a claimed file and parses it: one post for NAME.json, one per line for NAME.jsonl.
    private func readAndParse(_ name: String) -> Result<ParsedFile, Rejection> {
        let read = spool.read(name, maxBytes: configuration.limits.maxFileBytes * (name.hasSuffix(".jsonl") ? 64 : 1))
        let bytes: [UInt8]
        let modified: Date
        switch read {
        case .failure(let rejection): return .failure(rejection)
        case .success(let file):
            bytes = file.bytes
            modified = file.modified
        }
        let limits = configuration.limits
        if name.hasSuffix(".jsonl") {
            var posts: [Post] = []
            var rejected: [RejectedLine] = []
            PostParser.forEachLine(bytes) { lineNumber, line in
                do throws(PostError) {
                    posts.append(try PostParser.parse(line, limits: limits))
                } catch {
                    rejected.append(RejectedLine(line: lineNumber, bytes: Array(line) + [10], reason: error.reason))
                }
            }
            return .success(ParsedFile(posts: posts, rejectedLines: rejected, modified: modified))
        }
        do throws(PostError) {
            return .success(ParsedFile(posts: [try PostParser.parse(bytes, limits: limits)], rejectedLines: [], modified: modified))
        } catch {
            return .failure(Rejection(category: "invalid_post", reason: error.reason))
        }
    }

    /// Tells the committer about the file (it tracks when all its posts are judged) and
    /// queues each post on its author's shard.
    private func dispatch(name: String, parsed: Result<ParsedFile, Rejection>, recovered: Bool = false) {
        let claimedAt = POSIX.monotonicNanoseconds()
        switch parsed {
        case .failure(let rejection):
            inFlight.claimed(1)
            outcomes.push(.rejected(name: name, rejection: rejection))
        case .success(let file):
            nextFileID += 1
            let fileID = nextFileID
            inFlight.claimed(max(1, file.posts.count))
            outcomes.push(.claimed(fileID: fileID, name: name, posts: file.posts.count, rejectedLines: file.rejectedLines))
            let now = Date()
            for post in file.posts {
                queue.push(.post(PostJob(post: post, fileID: fileID, eventTime: Self.eventTime(of: post, in: file, now: now), claimedAt: claimedAt,
                                         recovered: recovered)),
                           shard: queue.shard(of: post.authorID))
            }
        }
    }
}
