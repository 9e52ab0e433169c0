import DequeModule
import Foundation
import WardenCore

/// One earlier post of an author, as much as the repeat-offender conditions need.
struct PostTrace: Sendable, Equatable {
    var postID: String
    var at: Date
    var textDigest: UInt64
}

/// What the daemon remembers about one author: recent posts (for `repeat_post` and
/// `flood`), and their strikes and standing escalations (the core's `AuthorStanding`,
/// which also decides escalation for `warden diff --simulate`).
struct AuthorRecord: Sendable {
    var posts: [PostTrace] = []
    var standing = AuthorStanding()
    /// The book's activity tick when the author last posted (least recently active leave first).
    var lastActive: UInt64 = 0
    /// The outcome-queue sequence of the author's latest change; `.max` while recorded but
    /// not yet queued. 0 for an author read from the ledger (nothing pending).
    var queuedAs: UInt64 = 0

    /// At most this many posts are remembered per author. `flood` and `repeat_post` only
    /// need "at least N" answers with small N, and the cap keeps a spammer posting thousands
    /// of times a minute from growing memory without bound.
    static let maxPostTraces = 512

    var isEmpty: Bool { posts.isEmpty && standing.isEmpty }
    var entryCount: Int { posts.count + standing.strikes.count + standing.escalations.count }

    /// Forgets what `postID` wrote, before it is judged again (an edit). Returns whether
    /// there was anything: then the ledger must keep the replaced rows (see `Ledger.undo`).
    @discardableResult
    mutating func forget(postID: String) -> Bool {
        let before = posts.count
        posts.removeAll { $0.postID == postID }
        let forgotStanding = standing.forget(postID: postID)
        return forgotStanding || posts.count != before
    }

    mutating func prune(strikesBefore: Date, postsBefore: Date) {
        posts.removeAll { $0.at < postsBefore }
        standing.prune(strikesBefore: strikesBefore)
    }
}

/// The judge's view of one author's past, read from memory. Counts exclude the post being
/// judged (by id), so an edited post does not count itself.
struct RecordedHistory: AuthorHistory {
    var record: AuthorRecord?
    var excluding: String

    func postCount(author: String, within: TimeInterval, now: Date) -> Int {
        guard let record else { return 0 }
        return record.posts.reduce(0) { $0 + ($1.postID != excluding && HistoryWindow.contains($1.at, within: within, now: now) ? 1 : 0) }
    }

    func sameTextCount(author: String, textDigest: UInt64, within: TimeInterval, now: Date) -> Int {
        guard let record else { return 0 }
        return record.posts.reduce(0) {
            $0 + ($1.postID != excluding && $1.textDigest == textDigest && HistoryWindow.contains($1.at, within: within, now: now) ? 1 : 0)
        }
    }
}

/// How much of the authors' past one shard keeps in memory. Beyond it, the least recently
/// active authors are dropped from memory and read back from the ledger when they post
/// again, so memory is bounded however many distinct authors post.
struct BookCapacity: Sendable, Equatable {
    var maxAuthors: Int
    /// Posts, strikes and escalations of all the shard's authors together (a post trace is
    /// about 32 bytes plus array slack, so 2,000 per shard × 256 shards is 16–32 MB).
    var maxEntries: Int

    static let unbounded = BookCapacity(maxAuthors: .max, maxEntries: .max)

    /// The daemon-wide limits of the configuration, shared evenly by `shards` shards.
    init(maxAuthors: Int, maxEntries: Int, shards: Int = 1) {
        let divide = { (total: Int) in total == .max ? .max : max(1, (total + shards - 1) / shards) }
        self.maxAuthors = divide(maxAuthors)
        self.maxEntries = divide(maxEntries)
    }
}

/// Where an author dropped from memory is read back from (the ledger), and how far the
/// ledger is known to be written: an author may only be dropped once every change of theirs
/// is in the ledger, or reading them back would miss it.
struct AuthorArchive: Sendable {
    var ledger: any LedgerStore
    /// The outcome-queue sequence up to which the committer has committed the ledger.
    var committedThrough: Locked<UInt64>
}

/// The authors of one shard. Only the worker currently holding the shard touches it (see
/// `AuthorOrderedQueue`), so it needs no lock of its own.
///
/// Without an archive every author stays in memory (tests, tools). With one, the book is a
/// cache of the ledger, least recently active out first: decisions stay exact because an
/// author is read back with everything the judge asks (posts within the history window,
/// strikes, standing escalations) and dropped only when their last change is committed.
final class AuthorBook {
    private(set) var authors: [String: AuthorRecord] = [:]
    var capacity = BookCapacity.unbounded
    var archive: AuthorArchive?
    /// Posts + strikes + escalations held, for `capacity.maxEntries`.
    private(set) var entries = 0
    /// Authors in order of last activity (oldest first), with the tick of that activity; an
    /// entry whose tick is not the author's current one is stale and skipped.
    private var recency = Deque<(author: String, tick: UInt64)>()
    private var tick: UInt64 = 0
    /// Authors read back from the ledger, for the `warden_author_reads_total` metric and tests.
    private(set) var archiveReads = 0

    /// Makes `author`'s past ready for judging a post at `at`: reads it from the ledger if it
    /// is not in memory, forgets posts older than `historyWindow` before `at` (in memory and
    /// when read back alike, so both give the same answers), and drops the least recently
    /// active authors beyond the capacity.
    /// Returns whether the author was read from the ledger.
    @discardableResult
    func lookUp(author: String, at: Date, historyWindow: TimeInterval) throws -> Bool {
        let oldest = at.addingTimeInterval(-historyWindow)
        var record: AuthorRecord
        var readBack = false
        if let known = authors[author] {
            record = known
        } else if let archive {
            record = try archive.ledger.author(author, postsSince: oldest,
                                                maxPosts: historyWindow > 0 ? AuthorRecord.maxPostTraces : 0) ?? AuthorRecord()
            archiveReads += 1
            readBack = true
        } else {
            record = AuthorRecord()
        }
        install(record, author: author, at: at, historyWindow: historyWindow)
        return readBack
    }

    /// A shared ledger (`SharedAuthors`): the author's past just read under their lock
    /// replaces whatever memory held, which another host may have made stale.
    func adopt(_ fetched: AuthorRecord?, author: String, at: Date, historyWindow: TimeInterval) {
        drop(author: author)
        install(fetched ?? AuthorRecord(), author: author, at: at, historyWindow: historyWindow)
    }

    /// Forgets an author (a shared ledger keeps no author in memory between posts).
    func drop(author: String) {
        if let record = authors.removeValue(forKey: author) { entries -= record.entryCount }
    }

    private func install(_ fetched: AuthorRecord, author: String, at: Date, historyWindow: TimeInterval) {
        var record = fetched
        let oldest = at.addingTimeInterval(-historyWindow)
        let before = authors[author]?.entryCount ?? 0
        if let keep = record.posts.firstIndex(where: { $0.at >= oldest }) {
            if keep > 0 { record.posts.removeFirst(keep) }
        } else {
            record.posts.removeAll()
        }
        tick += 1
        record.lastActive = tick
        recency.append((author, tick))
        entries += record.entryCount - before
        authors[author] = record
        evict(keeping: author)
    }

    /// Whether `post` is an edit of a post still remembered (its id was seen before).
    func isKnown(_ post: Post) -> Bool {
        authors[post.authorID]?.posts.contains { $0.postID == post.id } ?? false
    }

    /// Notes that the author's latest change was queued for the committer as `sequence`:
    /// the author may leave memory once the ledger is committed that far.
    func queued(author: String, sequence: UInt64) {
        authors[author]?.queuedAs = sequence
    }

    /// Drops least recently active authors while over capacity; never `keeping` (the author
    /// being judged), and never an author whose last change is not yet in the ledger: then
    /// the book stays over capacity until the committer catches up (at most the posts in
    /// flight).
    private func evict(keeping: String) {
        guard let archive else { return }
        var committed: UInt64?
        while authors.count > capacity.maxAuthors || entries > capacity.maxEntries, let (author, stamp) = recency.first {
            guard let record = authors[author], record.lastActive == stamp else {
                _ = recency.popFirst()
                continue
            }
            if author == keeping { break }
            let through = committed ?? archive.committedThrough.current
            committed = through
            // In one shard, activity order is queueing order, so nothing behind is committed either.
            if record.queuedAs > through { break }
            _ = recency.popFirst()
            authors[author] = nil
            entries -= record.entryCount
        }
        if recency.count > 4 * authors.count + 64 { compactRecency() }
    }

    /// Rebuilds the recency list without stale entries, so it stays proportional to the book.
    private func compactRecency() {
        var live: [(author: String, tick: UInt64)] = []
        live.reserveCapacity(authors.count)
        for (author, record) in authors { live.append((author, record.lastActive)) }
        live.sort { $0.tick < $1.tick }
        recency = Deque()
        for item in live { recency.append(item) }
    }

    /// Records a judged post and applies the escalation policy (`AuthorStanding.record`);
    /// returns the ledger change. `lookUp` must have been called for the post's author and
    /// time first.
    /// `historyWindow`: how far back the rules look at an author's posts; nothing is kept if
    /// no rule needs history.
    func record(_ decision: inout Decision, post: Post, at: Date, policy: EscalationPolicy,
                historyWindow: TimeInterval = 86_400) -> LedgerChange {
        var record = authors[post.authorID] ?? AuthorRecord()
        let before = authors[post.authorID]?.entryCount ?? 0
        let replaces = record.forget(postID: post.id)
        if historyWindow > 0 {
            record.posts.append(PostTrace(postID: post.id, at: at, textDigest: decision.textDigest))
        }
        if record.posts.count > AuthorRecord.maxPostTraces {
            record.posts.removeFirst(record.posts.count - AuthorRecord.maxPostTraces)
        }
        let newEscalation = record.standing.record(&decision, postID: post.id, at: at, policy: policy)
        // Not committed until the worker says it was queued (`queued`).
        record.queuedAs = .max
        if archive == nil && record.isEmpty {
            if authors.removeValue(forKey: post.authorID) != nil { entries -= before }
        } else {
            // With an archive an empty record stays until evicted: it remembers that the
            // ledger has nothing newer for this author, so it is not read again.
            if authors[post.authorID] == nil {
                tick += 1
                record.lastActive = tick
                recency.append((post.authorID, tick))
            }
            authors[post.authorID] = record
            entries += record.entryCount - before
        }
        return LedgerChange(postID: post.id, author: post.authorID, at: at, textDigest: decision.textDigest,
                            strikeGuidelines: decision.strikeGuidelines, escalation: newEscalation, replaces: replaces)
    }

    func history(for post: Post) -> RecordedHistory {
        RecordedHistory(record: authors[post.authorID], excluding: post.id)
    }

    /// A pardon of an author not in memory needs nothing here: `warden pardon` already
    /// wrote it to the ledger, which is where the author will be read from.
    func apply(_ pardon: Pardon) {
        guard var record = authors[pardon.author] else { return }
        let before = record.entryCount
        record.standing.apply(pardon)
        record.queuedAs = .max
        authors[pardon.author] = record
        entries += record.entryCount - before
    }

    /// Forgets strikes and posts older than the windows. In place: iterating a copy of the
    /// dictionary while assigning into it would duplicate every record at once.
    func prune(strikesBefore: Date, postsBefore: Date) {
        // An emptied author may only go once their last change is in the ledger (see `evict`).
        let committed = archive?.committedThrough.current ?? .max
        var emptied: [String] = []
        for index in authors.indices {
            authors.values[index].prune(strikesBefore: strikesBefore, postsBefore: postsBefore)
            let record = authors.values[index]
            if record.isEmpty && (archive == nil || record.queuedAs <= committed) { emptied.append(authors.keys[index]) }
        }
        for author in emptied { authors[author] = nil }
        entries = authors.values.reduce(0) { $0 + $1.entryCount }
        // The recency list is left to `evict` to compact, on the worker's thread: rebuilding
        // all 256 lists here, on the main thread, moved about 12 MB into the main thread's
        // malloc arena at every prune while the workers' arenas kept the freed lists.
    }
}
