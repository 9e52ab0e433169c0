import Foundation
import Logging
import Testing
@testable import WardenCore
@testable import WardenDaemon

/// What only a ledger shared by several daemons must do: agree on each author's order,
/// migrate once, refuse a newer schema. Runs when `WARDEN_TEST_POSTGRES` is set (`make test`).
@Suite(.enabled(if: StorageBackend.serverURL != nil, "needs WARDEN_TEST_POSTGRES (make test starts a private cluster)"))
struct SharedLedgerTests {
    private let logger = Logger(label: "test")

    /// Three instances on their own connections judge one author at once, each post reading
    /// the strikes so far and adding one, as a worker's read-decide-write does. Under the
    /// author's lock every post sees a different count, 0 to n-1, and none is lost; without
    /// it two posts read the same count (and a threshold is crossed twice, or never).
    @Test func instancesJudgingOneAuthorAtOnceSeeEachOthersStrikes() throws {
        let settings = try FreshStore.freshDatabase()
        let instances = try (0..<3).map { _ in try PostgresLedger(settings: settings, logger: logger) }
        // Two threads per instance, as two workers each.
        let threads = instances.count * 2, perThread = 8
        let seen = Locked<[Int]>([])
        let failures = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: threads) { worker in
            let ledger = instances[worker % instances.count]
            for index in 0..<perThread {
                do {
                    let count = try ledger.withAuthor("hot") { session -> Int in
                        let record = try session.author("hot", postsSince: .distantPast, maxPosts: 512)
                        let count = record?.standing.strikes.count ?? 0
                        try session.record(LedgerChange(postID: "w\(worker)-\(index)", author: "hot", at: Date(timeIntervalSince1970: 1000),
                                                        textDigest: 1, strikeGuidelines: ["profanity"]))
                        return count
                    }
                    seen.withLock { $0.append(count) }
                } catch {
                    failures.withLock { $0.append("\(error)") }
                }
            }
        }
        #expect(failures.current.isEmpty, "\(failures.current)")
        let total = threads * perThread
        #expect(seen.current.sorted() == Array(0..<total))
        #expect(try instances[0].standing(of: "hot").strikes.count == total)
    }

    /// A body that throws rolls its writes back: nothing half-judged is left for other hosts.
    @Test func aFailedJudgementLeavesNothing() throws {
        let ledger = try PostgresLedger(settings: try FreshStore.freshDatabase(), logger: logger)
        struct Interrupted: Error {}
        #expect(throws: Interrupted.self) {
            try ledger.withAuthor("u1") { session in
                try session.record(LedgerChange(postID: "p1", author: "u1", at: Date(), textDigest: 1, strikeGuidelines: ["profanity"]))
                throw Interrupted()
            }
        }
        #expect(try ledger.author("u1", postsSince: .distantPast, maxPosts: 512) == nil)
        // The connection that failed was dropped; the next one works.
        try ledger.withAuthor("u1") { try $0.record(LedgerChange(postID: "p2", author: "u1", at: Date(), textDigest: 1, strikeGuidelines: [])) }
        #expect(try ledger.author("u1", postsSince: .distantPast, maxPosts: 512)?.posts.map(\.postID) == ["p2"])
    }

    /// A COMMIT that happened though its reply was lost: the worker retries the post, and
    /// the retry undoes the post's own rows inside its locked transaction before reading the
    /// author, so the post does not find its own strike in its past (counted twice) nor look
    /// like an edit of itself; an edit's set-aside rows come back as they were.
    @Test func aRetriedPostUndoesItsOwnRowsBeforeReadingItsAuthor() throws {
        let ledger = try PostgresLedger(settings: try FreshStore.freshDatabase(), logger: logger)
        let first = Date(timeIntervalSince1970: 1000), edit = Date(timeIntervalSince1970: 2000)
        try ledger.withAuthor("u1") { try $0.record(LedgerChange(postID: "p0", author: "u1", at: first, textDigest: 1, strikeGuidelines: ["spam"])) }
        try ledger.withAuthor("u1") { try $0.record(LedgerChange(postID: "p1", author: "u1", at: first, textDigest: 2, strikeGuidelines: ["profanity"])) }
        // The edit of p1 at a later time, "committed" by the attempt whose reply was lost.
        var change = LedgerChange(postID: "p1", author: "u1", at: edit, textDigest: 3, strikeGuidelines: ["profanity", "attacks"])
        change.replaces = true
        try ledger.withAuthor("u1") { try $0.record(change) }
        let seenByRetry = try ledger.withAuthor("u1") { session -> AuthorRecord? in
            try session.undo(postID: "p1", at: edit)
            return try session.author("u1", postsSince: .distantPast, maxPosts: 512)
        }
        #expect(seenByRetry?.standing.strikes.map(\.postID).sorted() == ["p0", "p1"], "the edit's two strikes undone, the original's one back")
        #expect(seenByRetry?.standing.strikes.first { $0.postID == "p1" }?.at == first)
        #expect(seenByRetry?.posts.map(\.textDigest).sorted() == [1, 2], "p1 is the original again, not the edit")
        // A retry after a COMMIT that did not happen finds nothing of its own to undo.
        let untouched = try ledger.withAuthor("u1") { session -> Int in
            try session.undo(postID: "p9", at: edit)
            return try session.author("u1", postsSince: .distantPast, maxPosts: 512)?.standing.strikes.count ?? -1
        }
        #expect(untouched == 2)
    }

    /// The author's lock is a session-level one (two round trips a post, docs/STORAGE.md): it
    /// is held while a post is judged and never outlives the judgement, whether it wrote,
    /// only read, or threw after reading (the connection is then closed, which releases it).
    @Test func anAuthorsLockNeverOutlivesItsJudgement() throws {
        let settings = try FreshStore.freshDatabase()
        let host = try PostgresLedger(settings: settings, logger: logger), other = try PostgresLedger(settings: settings, logger: logger)
        let key = PostgresLedger.lockKey(of: "u1")
        func heldElsewhere() throws -> Bool {
            try other.sessions.withTransaction { try !($0.run("SELECT pg_try_advisory_xact_lock(\(key))", logger: logger).first?.decode(Bool.self) ?? false) }
        }
        func takenWithin5s() throws {
            try other.sessions.withTransaction { connection in
                try connection.run("SET LOCAL lock_timeout = '5s'", logger: logger)
                try connection.run("SELECT pg_advisory_xact_lock(\(key))", logger: logger)
            }
        }
        try host.withAuthor("u1") { session in
            _ = try session.author("u1", postsSince: .distantPast, maxPosts: 512)
            #expect(try heldElsewhere(), "held from the read")
            try session.record(LedgerChange(postID: "p1", author: "u1", at: Date(), textDigest: 1, strikeGuidelines: ["spam"]))
        }
        #expect(try !heldElsewhere(), "released after the write")
        #expect(try host.standing(of: "u1").strikes.count == 1)
        try host.withAuthor("u1") { _ = try $0.author("u1", postsSince: .distantPast, maxPosts: 512) }
        #expect(try !heldElsewhere(), "released after a read alone")
        struct Interrupted: Error {}
        #expect(throws: Interrupted.self) {
            try host.withAuthor("u1") { session in
                _ = try session.author("u1", postsSince: .distantPast, maxPosts: 512)
                try session.record(LedgerChange(postID: "p2", author: "u1", at: Date(), textDigest: 2, strikeGuidelines: ["spam"]))
                throw Interrupted()
            }
        }
        try takenWithin5s()
        #expect(try host.standing(of: "u1").strikes.count == 1, "nothing of the interrupted judgement written")
    }

    /// An author's consecutive posts judged under one lock (`Workers`): one read, then all
    /// their rows in one write, in order (an edit in the same group supersedes the post it
    /// edits, and undoing the edit puts the original back), and the lock released after.
    @Test func consecutivePostsOfAnAuthorAreWrittenTogetherInOrder() throws {
        let settings = try FreshStore.freshDatabase()
        let host = try PostgresLedger(settings: settings, logger: logger), other = try PostgresLedger(settings: settings, logger: logger)
        let first = Date(timeIntervalSince1970: 1000), edit = Date(timeIntervalSince1970: 2000)
        var edited = LedgerChange(postID: "p1", author: "u1", at: edit, textDigest: 3, strikeGuidelines: ["attacks"])
        edited.replaces = true
        edited.escalation = .holdAuthor
        try host.withAuthor("u1") { session in
            #expect(try session.author("u1", postsSince: .distantPast, maxPosts: 512) == nil)
            try session.record(LedgerChange(postID: "p0", author: "u1", at: first, textDigest: 1, strikeGuidelines: ["spam", "profanity"]))
            try session.record(LedgerChange(postID: "p1", author: "u1", at: first, textDigest: 2, strikeGuidelines: ["profanity"]))
            try session.record(LedgerChange(postID: "p2", author: "u1", at: first, textDigest: 4, strikeGuidelines: []))
            try session.record(edited)
        }
        // A guideline the procedure's separator cannot carry: the same rows, one statement each.
        try host.withAuthor("u1") { session in
            #expect(try session.author("u1", postsSince: .distantPast, maxPosts: 512)?.posts.count == 3)
            try session.record(LedgerChange(postID: "p3", author: "u1", at: edit, textDigest: 5, strikeGuidelines: ["odd\u{1F}name"]))
            try session.record(LedgerChange(postID: "p4", author: "u1", at: edit, textDigest: 6, strikeGuidelines: []))
        }
        let key = PostgresLedger.lockKey(of: "u1")
        #expect(try other.sessions.withTransaction { try $0.run("SELECT pg_try_advisory_xact_lock(\(key))", logger: logger).first?.decode(Bool.self) } == true)
        let record = try #require(try other.author("u1", postsSince: .distantPast, maxPosts: 512))
        #expect(record.standing.strikes.map { "\($0.postID):\($0.guideline)" }.sorted() == ["p0:profanity", "p0:spam", "p1:attacks", "p3:odd\u{1F}name"])
        #expect(record.posts.map(\.postID).sorted() == ["p0", "p1", "p2", "p3", "p4"])
        #expect(record.posts.first { $0.postID == "p1" }?.textDigest == 3)
        #expect(record.standing.escalations.map(\.postID) == ["p1"])
        try other.undo([(postID: "p1", at: edit)])
        let undone = try #require(try other.author("u1", postsSince: .distantPast, maxPosts: 512))
        #expect(undone.standing.strikes.map { "\($0.postID):\($0.guideline)" }.sorted() == ["p0:profanity", "p0:spam", "p1:profanity", "p3:odd\u{1F}name"])
        #expect(undone.standing.escalations.isEmpty)
    }

    /// Several instances starting at once migrate once; the schema version is recorded.
    @Test func instancesStartingTogetherMigrateOnce() throws {
        let settings = try FreshStore.freshDatabase()
        let errors = Locked<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 3) { _ in
            do { _ = try PostgresLedger(settings: settings, logger: logger) } catch { errors.withLock { $0.append("\(error)") } }
        }
        #expect(errors.current.isEmpty, "\(errors.current)")
        let sessions = try PostgresSessions(settings: settings, logger: logger)
        defer { sessions.close() }
        let versions = try sessions.withConnection { connection in
            try connection.run("SELECT version FROM warden_schema ORDER BY version", logger: logger).map { Int(try $0.decode(Int32.self)) }
        }
        #expect(versions == Array(1...PostgresSchema.current))
    }

    /// A database a newer warden migrated is refused, with what to do.
    @Test func aNewerSchemaIsRefused() throws {
        let settings = try FreshStore.freshDatabase()
        _ = try PostgresLedger(settings: settings, logger: logger)
        let sessions = try PostgresSessions(settings: settings, logger: logger)
        defer { sessions.close() }
        let newer = Int32(PostgresSchema.current + 1)
        try sessions.withConnection { try $0.run("INSERT INTO warden_schema(version, applied_by) VALUES (\(newer), 'future')", logger: logger) }
        do {
            _ = try PostgresLedger(settings: settings, logger: logger)
            Issue.record("opened a database with a newer schema")
        } catch {
            #expect("\(error)".contains("schema is version \(newer), newer than this warden knows (\(PostgresSchema.current))"), "\(error)")
        }
    }

    /// Migrations beyond the first apply in order on an existing database, once.
    @Test func aLaterMigrationAppliesOnTopOfTheFirst() throws {
        let settings = try FreshStore.freshDatabase()
        let sessions = try PostgresSessions(settings: settings, logger: logger)
        defer { sessions.close() }
        #expect(try PostgresSchema.migrate(sessions) == 0)
        let next = PostgresSchema.migrations + [["CREATE TABLE later_table (x INTEGER)"]]
        #expect(try PostgresSchema.migrate(sessions, known: next.count, migrations: next) == PostgresSchema.current)
        #expect(try PostgresSchema.migrate(sessions, known: next.count, migrations: next) == next.count, "nothing left to apply")
    }

    /// An unreachable server is an error naming where, never the password.
    @Test func anUnreachableServerIsAClearError() throws {
        var settings = try PostgresSettings.parse("postgres://warden@/nowhere?host=/nonexistent-warden-socket").get()
        settings.password = Secret("hunter2")
        do {
            _ = try PostgresLedger(settings: settings, logger: logger)
            Issue.record("connected to nothing")
        } catch {
            #expect("\(error)".contains("cannot connect to postgres://warden@/nowhere?host=/nonexistent-warden-socket"), "\(error)")
            #expect(!"\(error)".contains("hunter2"))
        }
    }
}
