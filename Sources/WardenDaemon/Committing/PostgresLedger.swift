import Foundation
import Logging
import PostgresNIO
import WardenCore

/// The strike ledger, author history and shadow guard in one PostgreSQL database shared by
/// several daemons (`ledger: postgres://…`), each with its own spool. The same tables and
/// the same meaning as the SQLite `Ledger`; see `PostgresSchema` for the migrations.
///
/// What differs is that other hosts write the same authors. So no author's past is trusted
/// from memory: each post's read-decide-write is one transaction under the author's
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

    func withAuthor<T>(_ author: String, _ body: (any AuthorSession) throws -> T) throws -> T {
        try sessions.withTransaction { connection in
            try connection.run("SELECT pg_advisory_xact_lock(\(Self.lockKey(of: author)))", logger: logger)
            return try body(Session(connection: connection, logger: logger))
        }
    }

    private struct Session: AuthorSession {
        var connection: PostgresConnection
        var logger: Logger

        func author(_ author: String, postsSince: Date, maxPosts: Int) throws -> AuthorRecord? {
            try PostgresLedger.author(author, postsSince: postsSince, maxPosts: maxPosts, on: connection, logger: logger)
        }

        func record(_ change: LedgerChange) throws {
            try PostgresLedger.apply(change, recorded: Date().timeIntervalSince1970, on: connection, logger: logger)
        }

        func undo(postID: String, at: Date) throws {
            try PostgresLedger.undo(postID: postID, at: at, on: connection, logger: logger)
        }
    }

    // MARK: LedgerStore

    func author(_ author: String, postsSince: Date, maxPosts: Int) throws -> AuthorRecord? {
        try sessions.withConnection { try Self.author(author, postsSince: postsSince, maxPosts: maxPosts, on: $0, logger: logger) }
    }

    /// The author's posts, strikes and escalations (as `Ledger.author`) in one round trip:
    /// three indexed reads joined by UNION ALL, ordered here as the SQLite ledger orders them.
    static func author(_ author: String, postsSince: Date, maxPosts: Int, on connection: PostgresConnection, logger: Logger) throws -> AuthorRecord? {
        var record = AuthorRecord()
        let since = postsSince.timeIntervalSince1970
        let rows = try connection.run("""
            SELECT 'p', post_id, at, digest, NULL FROM (
                SELECT post_id, at, digest FROM posts WHERE author = \(author) AND at >= \(since) ORDER BY at DESC LIMIT \(Int64(maxPosts))) AS recent
            UNION ALL SELECT 's', post_id, at, NULL, guideline FROM strikes WHERE author = \(author)
            UNION ALL SELECT 'e', post_id, at, NULL, action FROM escalations WHERE author = \(author)
            """, logger: logger)
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
        let at = date.timeIntervalSince1970
        try connection.run("DELETE FROM strikes WHERE post_id = \(id) AND at = \(at)", logger: logger)
        try connection.run("DELETE FROM posts WHERE post_id = \(id) AND at = \(at)", logger: logger)
        try connection.run("DELETE FROM escalations WHERE post_id = \(id) AND at = \(at)", logger: logger)
        try connection.run("""
            INSERT INTO strikes(post_id, guideline, author, at)
                SELECT post_id, guideline, author, at FROM superseded WHERE post_id = \(id) AND by_at = \(at) AND kind = 'strike'
            ON CONFLICT (post_id, guideline) DO UPDATE SET author = excluded.author, at = excluded.at
            """, logger: logger)
        try connection.run("""
            INSERT INTO posts(post_id, author, at, digest)
                SELECT post_id, author, at, digest FROM superseded WHERE post_id = \(id) AND by_at = \(at) AND kind = 'post'
            ON CONFLICT (post_id) DO UPDATE SET author = excluded.author, at = excluded.at, digest = excluded.digest
            """, logger: logger)
        try connection.run("""
            INSERT INTO escalations(post_id, author, action, at)
                SELECT post_id, author, action, at FROM superseded WHERE post_id = \(id) AND by_at = \(at) AND kind = 'escalation'
            ON CONFLICT (post_id) DO UPDATE SET author = excluded.author, action = excluded.action, at = excluded.at
            """, logger: logger)
        try connection.run("DELETE FROM superseded WHERE post_id = \(id) AND by_at = \(at)", logger: logger)
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
        let id = change.postID
        let at = change.at.timeIntervalSince1970
        if change.replaces {
            try connection.run("""
                INSERT INTO superseded(post_id, by_at, recorded, kind, author, at, guideline)
                    SELECT post_id, \(at), \(recorded), 'strike', author, at, guideline FROM strikes WHERE post_id = \(id) AND at <> \(at)
                """, logger: logger)
            try connection.run("""
                INSERT INTO superseded(post_id, by_at, recorded, kind, author, at, digest)
                    SELECT post_id, \(at), \(recorded), 'post', author, at, digest FROM posts WHERE post_id = \(id) AND at <> \(at)
                """, logger: logger)
            try connection.run("""
                INSERT INTO superseded(post_id, by_at, recorded, kind, author, at, action)
                    SELECT post_id, \(at), \(recorded), 'escalation', author, at, action FROM escalations WHERE post_id = \(id) AND at <> \(at)
                """, logger: logger)
        }
        try connection.run("DELETE FROM strikes WHERE post_id = \(id)", logger: logger)
        for guideline in change.strikeGuidelines {
            try connection.run("""
                INSERT INTO strikes(post_id, guideline, author, at) VALUES (\(id), \(guideline), \(change.author), \(at))
                ON CONFLICT (post_id, guideline) DO UPDATE SET author = excluded.author, at = excluded.at
                """, logger: logger)
        }
        try connection.run("""
            INSERT INTO posts(post_id, author, at, digest) VALUES (\(id), \(change.author), \(at), \(Int64(bitPattern: change.textDigest)))
            ON CONFLICT (post_id) DO UPDATE SET author = excluded.author, at = excluded.at, digest = excluded.digest
            """, logger: logger)
        if let escalation = change.escalation {
            try connection.run("""
                INSERT INTO escalations(post_id, author, action, at) VALUES (\(id), \(change.author), \(escalation.rawValue), \(at))
                ON CONFLICT (post_id) DO UPDATE SET author = excluded.author, action = excluded.action, at = excluded.at
                """, logger: logger)
        } else if change.replaces {
            try connection.run("DELETE FROM escalations WHERE post_id = \(id)", logger: logger)
        }
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
