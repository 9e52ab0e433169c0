import Foundation
import Logging
import PostgresNIO

/// The shared ledger's tables, as numbered migrations applied at start-up.
///
/// Several daemons may start at once against one database: the migrations run in one
/// transaction under an advisory lock (`migrationLock`), so one applies them and the
/// others see them done. A database whose schema is newer than this warden knows is
/// refused: an older binary would write rows a newer schema no longer means the same way.
/// Upgrade order (docs/STORAGE.md): stop the old daemons or let them run, start the new
/// version on one host (it migrates), then the others; never start an older one after.
///
/// The tables mirror the SQLite ledger's (`Ledger.migrator`), times as seconds since 1970 in
/// `DOUBLE PRECISION`, like SQLite's REAL: crash recovery matches rows by their exact time.
enum PostgresSchema {
    /// The newest schema this warden knows.
    static var current: Int { migrations.count }

    /// `pg_advisory_xact_lock` key for migrations: an arbitrary constant ("warden" in ASCII).
    static let migrationLock: Int64 = 0x7761_7264_656E

    static let migrations: [[String]] = [
        // 1: strikes, history, escalations, pardons, edits' set-aside rows, shadow guard.
        [
            """
            CREATE TABLE strikes (post_id TEXT NOT NULL, guideline TEXT NOT NULL, author TEXT NOT NULL,
                at DOUBLE PRECISION NOT NULL, PRIMARY KEY (post_id, guideline))
            """,
            "CREATE INDEX strikes_by_author ON strikes(author, at)",
            """
            CREATE TABLE posts (post_id TEXT NOT NULL PRIMARY KEY, author TEXT NOT NULL, at DOUBLE PRECISION NOT NULL,
                digest BIGINT NOT NULL)
            """,
            "CREATE INDEX posts_by_author ON posts(author, at)",
            "CREATE INDEX posts_by_time ON posts(at)",
            """
            CREATE TABLE escalations (post_id TEXT NOT NULL PRIMARY KEY, author TEXT NOT NULL, action TEXT NOT NULL,
                at DOUBLE PRECISION NOT NULL)
            """,
            "CREATE INDEX escalations_by_author ON escalations(author)",
            """
            CREATE TABLE pardons (id BIGSERIAL PRIMARY KEY, author TEXT NOT NULL, guideline TEXT, at DOUBLE PRECISION NOT NULL,
                strikes_removed INTEGER NOT NULL, moderator TEXT, reason TEXT, post_id TEXT, escalation TEXT)
            """,
            """
            CREATE TABLE superseded (post_id TEXT NOT NULL, by_at DOUBLE PRECISION NOT NULL, recorded DOUBLE PRECISION NOT NULL,
                kind TEXT NOT NULL, author TEXT NOT NULL, at DOUBLE PRECISION NOT NULL, guideline TEXT, action TEXT, digest BIGINT)
            """,
            "CREATE INDEX superseded_by_post ON superseded(post_id, by_at)",
            "CREATE INDEX superseded_by_time ON superseded(recorded)",
            "CREATE TABLE rules_seen (rule TEXT NOT NULL PRIMARY KEY, fingerprint TEXT NOT NULL, changed_at DOUBLE PRECISION NOT NULL)",
            "CREATE TABLE rule_confirmations (rule TEXT NOT NULL PRIMARY KEY, at DOUBLE PRECISION NOT NULL)",
            "CREATE TABLE rule_demotions (rule TEXT NOT NULL PRIMARY KEY)",
        ],
    ]

    /// Brings the database to `current`, or refuses a newer one. Returns the version found.
    @discardableResult
    static func migrate(_ sessions: PostgresSessions, known: Int = current, migrations: [[String]] = migrations) throws -> Int {
        let logger = sessions.queryLogger
        return try sessions.withTransaction { connection in
            try connection.run("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try connection.run("""
                CREATE TABLE IF NOT EXISTS warden_schema (version INTEGER NOT NULL PRIMARY KEY,
                    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_by TEXT NOT NULL)
                """, logger: logger)
            var found = 0
            for row in try connection.run("SELECT COALESCE(MAX(version), 0) FROM warden_schema", logger: logger) {
                found = Int(try row.decode(Int32.self))
            }
            guard found <= known else {
                throw PostgresLedgerError(doing: "use database \(sessions.settings.database)", reason:
                    "its schema is version \(found), newer than this warden knows (\(known)); a newer warden migrated it. Upgrade warden on this host (docs/STORAGE.md, \"Upgrades\"); never run an older one against a newer schema")
            }
            let host = ProcessInfo.processInfo.hostName
            for version in (found + 1)...max(found + 1, known) where version <= known {
                for statement in migrations[version - 1] { try connection.run(PostgresQuery(unsafeSQL: statement), logger: logger) }
                try connection.run("INSERT INTO warden_schema(version, applied_by) VALUES (\(Int32(version)), \(host))", logger: logger)
                logger.notice("applied ledger schema migration", metadata: ["version": "\(version)", "database": "\(sessions.settings.database)"])
            }
            return found
        }
    }
}
