import Foundation
import Logging
import PostgresNIO
import WardenCore

/// The strike ledger, author history and shadow guard in one PostgreSQL database shared by
/// several daemons (`ledger: postgres://…`), each with its own spool. The same tables and
/// the same meaning as the SQLite `Ledger`; see `PostgresSchema` for the migrations.
///
/// What differs is that other hosts write the same authors. So no author's past is trusted
/// from memory: each post's read-decide-write happens under the author's
/// advisory lock (`withAuthor`), and the committer's batch transaction carries only what
/// is not an author's post (nothing, today: pardons are in force the moment a moderator
/// writes them). docs/STORAGE.md has the reasoning and the measured cost.
final class PostgresLedger: LedgerStore, SharedAuthors, Sendable {
    let sessions: PostgresSessions
    private let logger: Logger

    /// Connects and migrates (see `PostgresSchema.migrate`); throws if the database is
    /// unreachable or its schema is newer than this warden.
    init(settings: PostgresSettings, logger: Logger) throws {
        sessions = try PostgresSessions(settings: settings, logger: logger)
        self.logger = logger
        do {
            try PostgresSchema.migrate(sessions)
        } catch {
            sessions.close()
            throw error
        }
    }

    var location: String { sessions.settings.description }
    var sharedAuthors: (any SharedAuthors)? { self }

    /// The advisory lock key of an author: FNV-1a over the id's UTF-8, as a signed 64-bit
    /// integer. Two authors sharing a key only wait for each other; never wrong, rarely slower.
    static func lockKey(of author: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in author.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return Int64(bitPattern: hash)
    }

    // MARK: Shared authors

    /// Two round trips a post rather than six (docs/STORAGE.md, "Round trips"): the author's
    /// first read takes the lock and reads in one statement (`warden_lock_read`), and one
    /// `CALL warden_record_unlock` writes the post's rows, commits them and then releases the
    /// lock. The lock is a session-level one, held from the read to after the write's commit,
    /// so it needs no BEGIN and COMMIT of its own.
    ///
    /// Writes are sent when `body` returns (or before a later read or undo in it), so a body
    /// that throws leaves nothing. On any error the connection is closed (`withConnection`),
    /// which releases the lock; a lock is never left on an idle connection.
    ///
    /// A body that undoes a post first (a retry, or a post left in processing/) runs as
    /// before: one transaction holding the transaction-level lock, so the undo and the
    /// post's new rows commit together and no other host sees the post without its rows.
    func withAuthor<T>(_ author: String, _ body: (any AuthorSession) throws -> T) throws -> T {
        try sessions.withConnection { connection in
            let session = Session(connection: connection, logger: logger, key: Self.lockKey(of: author))
            let result = try body(session)
            try session.finish()
            return result
        }
    }

    private final class Session: AuthorSession {
        enum State { case unlocked, locked, transaction }
        let connection: PostgresConnection
        let logger: Logger
        let key: Int64
        var state = State.unlocked
        var pending: [LedgerChange] = []

        init(connection: PostgresConnection, logger: Logger, key: Int64) {
            self.connection = connection
            self.logger = logger
            self.key = key
        }

        func author(_ author: String, postsSince: Date, maxPosts: Int) throws -> AuthorRecord? {
            try flush()
            guard state == .unlocked else {
                return try PostgresLedger.author(author, postsSince: postsSince, maxPosts: maxPosts, on: connection, logger: logger)
            }
            let rows = try connection.run("""
                SELECT r_kind, r_post_id, r_at, r_digest, r_text FROM warden_lock_read(\(key), \(author), \(postsSince.timeIntervalSince1970), \(Int64(maxPosts)))
                """, logger: logger)
            state = .locked
            return try PostgresLedger.authorRecord(from: rows)
        }

        func record(_ change: LedgerChange) throws {
            pending.append(change)
        }

        func undo(postID: String, at: Date) throws {
            try flush()
            if state == .unlocked {
                try connection.run("BEGIN", logger: logger)
                state = .transaction
                try connection.run("SELECT pg_advisory_xact_lock(\(key))", logger: logger)
            }
            try PostgresLedger.undo(postID: postID, at: at, on: connection, logger: logger)
        }

        /// Sends the writes `record` kept; under the lock (taken now if nothing was read).
        func flush() throws {
            guard !pending.isEmpty else { return }
            if state == .unlocked {
                try connection.run("SELECT pg_advisory_lock(\(key))", logger: logger)
                state = .locked
            }
            let recorded = Date().timeIntervalSince1970
            if pending.count > 1 && state == .locked {
                // Several posts' rows commit together, as one transaction did.
                try connection.run("BEGIN", logger: logger)
                for change in pending { try PostgresLedger.apply(change, recorded: recorded, on: connection, logger: logger) }
                try connection.run("COMMIT", logger: logger)
            } else {
                for change in pending { try PostgresLedger.apply(change, recorded: recorded, on: connection, logger: logger) }
            }
            pending = []
        }

        /// Writes what is pending, then commits or unlocks.
        func finish() throws {
            if pending.count == 1 && state != .transaction {
                // The common case, one round trip: the post's rows, their commit and the unlock.
                if state == .unlocked {
                    try connection.run("SELECT pg_advisory_lock(\(key))", logger: logger)
                    state = .locked
                }
                let change = pending[0]
                try connection.run("""
                    CALL warden_record_unlock(\(key), \(change.postID), \(change.author), \(change.at.timeIntervalSince1970),
                        \(Int64(bitPattern: change.textDigest)), \(change.strikeGuidelines)::TEXT[], \(change.escalation?.rawValue)::TEXT,
                        \(change.replaces), \(Date().timeIntervalSince1970))
                    """, logger: logger)
                pending = []
                state = .unlocked
                return
            }
            if pending.count > 1 && state == .locked, Set(pending.map(\.author)).count == 1,
               !pending.contains(where: { $0.strikeGuidelines.contains { $0.unicodeScalars.contains("\u{1F}") } }) {
                // An author's consecutive posts (`Workers`): all their rows in one round trip.
                let separator = "\u{1F}"
                try connection.run("""
                    CALL warden_record_all_unlock(\(key), \(pending.map(\.postID))::TEXT[], \(pending[0].author),
                        \(pending.map { $0.at.timeIntervalSince1970 })::DOUBLE PRECISION[], \(pending.map { Int64(bitPattern: $0.textDigest) })::BIGINT[],
                        \(pending.map { $0.strikeGuidelines.joined(separator: separator) })::TEXT[], \(pending.map { $0.escalation?.rawValue ?? "" })::TEXT[],
                        \(pending.map(\.replaces))::BOOLEAN[], \(Date().timeIntervalSince1970))
                    """, logger: logger)
                pending = []
                state = .unlocked
                return
            }
            try flush()
            switch state {
            case .unlocked:
                break
            case .locked:
                let released = try connection.run("SELECT pg_advisory_unlock(\(key))", logger: logger).first?.decode(Bool.self)
                guard released == true else {
                    throw PostgresLedgerError(doing: "release an author's lock", reason: "the lock was not held")
                }
            case .transaction:
                try connection.run("COMMIT", logger: logger)
            }
            state = .unlocked
        }
    }

    // MARK: LedgerStore

    func author(_ author: String, postsSince: Date, maxPosts: Int) throws -> AuthorRecord? {
        try sessions.withConnection { try Self.author(author, postsSince: postsSince, maxPosts: maxPosts, on: $0, logger: logger) }
    }

    /// The author's posts, strikes and escalations (as `Ledger.author`) in one round trip:
    /// three indexed reads joined by UNION ALL, ordered here as the SQLite ledger orders them.
    static func author(_ author: String, postsSince: Date, maxPosts: Int, on connection: PostgresConnection, logger: Logger) throws -> AuthorRecord? {
        let since = postsSince.timeIntervalSince1970
        let rows = try connection.run("""
            SELECT 'p', post_id, at, digest, NULL FROM (
                SELECT post_id, at, digest FROM posts WHERE author = \(author) AND at >= \(since) ORDER BY at DESC LIMIT \(Int64(maxPosts))) AS recent
            UNION ALL SELECT 's', post_id, at, NULL, guideline FROM strikes WHERE author = \(author)
            UNION ALL SELECT 'e', post_id, at, NULL, action FROM escalations WHERE author = \(author)
            """, logger: logger)
        return try authorRecord(from: rows)
    }

    /// Rows of (kind 'p'/'s'/'e', post id, time, digest, guideline or action) as an author's record.
    static func authorRecord(from rows: PostgresQueryResult) throws -> AuthorRecord? {
        var record = AuthorRecord()
        for row in rows {
            let (kind, postID, at, digest, text) = try row.decode((String, String, Double, Int64?, String?).self)
            let time = Date(timeIntervalSince1970: at)
            switch kind {
            case "p": record.posts.append(PostTrace(postID: postID, at: time, textDigest: UInt64(bitPattern: digest ?? 0)))
            case "s": record.standing.strikes.append(Strike(postID: postID, guideline: text ?? "", at: time))
            default:
                if let action = text.flatMap(Action.init(rawValue:)) {
                    record.standing.escalations.append(EscalationRecord(postID: postID, action: action, at: time))
                }
            }
        }
        record.posts.sort { ($0.at, $0.postID) < ($1.at, $1.postID) }
        record.standing.strikes.sort { ($0.at, $0.postID, $0.guideline) < ($1.at, $1.postID, $1.guideline) }
        record.standing.escalations.sort { ($0.at, $0.postID) < ($1.at, $1.postID) }
        return record.isEmpty ? nil : record
    }

    func undo(_ posts: [(postID: String, at: Date)]) throws {
        guard !posts.isEmpty else { return }
        try sessions.withTransaction { connection in
            for post in posts.reversed() {
                try Self.undo(postID: post.postID, at: post.at, on: connection, logger: logger)
            }
        }
    }

    /// Deletes one post's rows (matched by id and event time, so a later edit's rows stay)
    /// and puts back what it superseded, as `Ledger.undo` does on SQLite.
    static func undo(postID id: String, at date: Date, on connection: PostgresConnection, logger: Logger) throws {
        try connection.run("SELECT warden_undo(\(id), \(date.timeIntervalSince1970))", logger: logger)
    }

    func commit(_ operations: [LedgerOperation]) throws {
        guard !operations.isEmpty else { return }
        let recorded = Date().timeIntervalSince1970
        try sessions.withTransaction { connection in
            for operation in operations {
                switch operation {
                case .judged(let change):
                    try Self.apply(change, recorded: recorded, on: connection, logger: logger)
                case .pardon(let pardon):
                    if let escalation = pardon.escalation {
                        try Self.applyEscalation(pardon: pardon, action: escalation, on: connection, logger: logger)
                    } else if let postID = pardon.postID {
                        try Self.applyTakeBack(postID: postID, on: connection, logger: logger)
                    } else {
                        try Self.applyPardon(author: pardon.author, guideline: pardon.guideline, on: connection, logger: logger)
                    }
                }
            }
        }
    }

    /// One judged post's rows (as `Ledger.commit` writes a `.judged`).
    static func apply(_ change: LedgerChange, recorded: Double, on connection: PostgresConnection, logger: Logger) throws {
        try connection.run("""
            SELECT warden_record(\(change.postID), \(change.author), \(change.at.timeIntervalSince1970), \(Int64(bitPattern: change.textDigest)),
                \(change.strikeGuidelines)::TEXT[], \(change.escalation?.rawValue)::TEXT, \(change.replaces), \(recorded))
            """, logger: logger)
    }

    func prune(strikesBefore: Date, postsBefore: Date) throws {
        let recordedBefore = Date().timeIntervalSince1970 - 3600
        try sessions.withTransaction { connection in
            try connection.run("DELETE FROM superseded WHERE recorded < \(recordedBefore)", logger: logger)
            try connection.run("DELETE FROM strikes WHERE at < \(strikesBefore.timeIntervalSince1970)", logger: logger)
            try connection.run("DELETE FROM posts WHERE at < \(postsBefore.timeIntervalSince1970)", logger: logger)
        }
    }

    func lastPardonID() throws -> Int64 {
        try sessions.withConnection { connection in
            try connection.run("SELECT COALESCE(MAX(id), 0)::BIGINT FROM pardons", logger: logger).first?.decode(Int64.self) ?? 0
        }
    }

    func pardons(after id: Int64) throws -> [Pardon] {
        try sessions.withConnection { connection in
            try connection.run("""
                SELECT id, author, guideline, at, moderator, reason, post_id, escalation FROM pardons WHERE id > \(id) ORDER BY id
                """, logger: logger).map { row in
                let (id, author, guideline, at, moderator, reason, postID, escalation) =
                    try row.decode((Int64, String, String?, Double, String?, String?, String?, String?).self)
                return Pardon(id: id, author: author, guideline: guideline, at: Date(timeIntervalSince1970: at), moderator: moderator,
                              reason: reason, postID: postID, escalation: escalation.flatMap(Action.init(rawValue:)))
            }
        }
    }

    /// The newest pardon id: pardons are the only writes by others the committer polls for.
    func dataVersion() throws -> Int64 { try lastPardonID() }

    // MARK: Moderator writes applied in order (shared with the public calls)

    @discardableResult
    static func applyPardon(author: String, guideline: String?, on connection: PostgresConnection, logger: Logger) throws -> Int {
        let removed: Int
        if let guideline {
            removed = try connection.run("DELETE FROM strikes WHERE author = \(author) AND guideline = \(guideline)", logger: logger).metadata.rows ?? 0
        } else {
            removed = try connection.run("DELETE FROM strikes WHERE author = \(author)", logger: logger).metadata.rows ?? 0
        }
        try connection.run("DELETE FROM escalations WHERE author = \(author)", logger: logger)
        try connection.run("""
            DELETE FROM superseded WHERE author = \(author) AND (kind = 'escalation' OR (kind = 'strike' AND (\(guideline)::TEXT IS NULL OR guideline = \(guideline))))
            """, logger: logger)
        return removed
    }

    @discardableResult
    static func applyTakeBack(postID: String, on connection: PostgresConnection, logger: Logger) throws -> Int {
        let removed = try connection.run("DELETE FROM strikes WHERE post_id = \(postID)", logger: logger).metadata.rows ?? 0
        try connection.run("DELETE FROM escalations WHERE post_id = \(postID)", logger: logger)
        try connection.run("DELETE FROM superseded WHERE post_id = \(postID)", logger: logger)
        return removed
    }

    static func applyEscalation(pardon: Pardon, action: Action, on connection: PostgresConnection, logger: Logger) throws {
        let id = Pardon.manualEscalationID(pardon.id)
        try connection.run("""
            INSERT INTO escalations(post_id, author, action, at) VALUES (\(id), \(pardon.author), \(action.rawValue), \(pardon.at.timeIntervalSince1970))
            ON CONFLICT (post_id) DO UPDATE SET author = excluded.author, action = excluded.action, at = excluded.at
            """, logger: logger)
    }
}
