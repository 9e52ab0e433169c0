import Foundation
import GRDB

/// The console's state on one host: `state/review.sqlite` (GRDB). Separate from the
/// daemon's ledger so that nothing the console does can slow or lock the daemon's batch
/// commits; the console writes to the ledger only through `ModeratorLedger`'s calls
/// (pardon, take-back, escalation).
public final class SQLiteReviewStore: ReviewStore {
    public let pool: DatabasePool
    public let path: String
    public var location: String { path }
    public var dialect: SQLDialect { .sqlite }

    public init(path: String) throws {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "warden.review"
        // Pages make a few short reads each; 20 moderators' requests at once should not queue.
        configuration.maximumReaderCount = 16
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        pool = try DatabasePool(path: path, configuration: configuration)
        try Self.migrator.migrate(pool)
    }

    /// The database of a state root (`--state DIR`), creating `state/` if needed.
    public static func open(stateRoot: String) throws -> SQLiteReviewStore {
        let directory = stateRoot + "/state"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return try SQLiteReviewStore(path: directory + "/review.sqlite")
    }

    public func read<T>(_ body: (any ReviewTransaction) throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            try pool.read { db in try body(Transaction(db: db)) }
        }
    }

    @discardableResult
    public func write<T>(_ body: (any ReviewTransaction) throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            try pool.write { db in try body(Transaction(db: db)) }
        }
    }

    public func close() {}

    struct Transaction: ReviewTransaction {
        let db: Database

        func rows(_ sql: String, _ arguments: [any SQLBindable]) throws -> [SQLRow] {
            try Row.fetchAll(statement(sql), arguments: Self.arguments(arguments)).map { row in
                SQLRow(row.map { column, value -> (String, SQLValue) in
                    switch value.storage {
                    case .null: (column, .null)
                    case .int64(let integer): (column, .integer(integer))
                    case .double(let real): (column, .real(real))
                    case .string(let text): (column, .text(text))
                    case .blob(let data): (column, .text(String(decoding: data, as: UTF8.self)))
                    }
                })
            }
        }

        func execute(_ sql: String, _ arguments: [any SQLBindable]) throws -> Int {
            try statement(sql).execute(arguments: Self.arguments(arguments))
            return db.changesCount
        }

        /// Cached when short: the console runs a small, fixed set of statements many times;
        /// the indexer's multi-row statements (one per chunk size) are long and would fill
        /// the cache with variants used once.
        func statement(_ sql: String) throws -> Statement {
            sql.utf8.count < 2_000 ? try db.cachedStatement(sql: sql) : try db.makeStatement(sql: sql)
        }

        static func arguments(_ values: [any SQLBindable]) -> StatementArguments {
            StatementArguments(values.map { value -> DatabaseValue in
                switch value.sqlValue {
                case .null: .null
                case .integer(let integer): integer.databaseValue
                case .real(let real): real.databaseValue
                case .text(let text): text.databaseValue
                }
            })
        }
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            // Lists (guidelines, rules) are stored as ",a,b," so a filter is one LIKE '%,a,%'.
            try db.execute(sql: """
                CREATE TABLE decisions (
                    post_id TEXT NOT NULL PRIMARY KEY, kind TEXT NOT NULL, appeal_of TEXT,
                    author TEXT NOT NULL, author_name TEXT, action TEXT NOT NULL, escalation TEXT,
                    guidelines TEXT NOT NULL, rules TEXT NOT NULL, decided_at REAL NOT NULL,
                    text TEXT, line TEXT NOT NULL);
                CREATE INDEX decisions_by_author ON decisions(author, decided_at);
                CREATE INDEX decisions_by_time ON decisions(decided_at);
                CREATE TABLE items (
                    item_id TEXT NOT NULL PRIMARY KEY, post_id TEXT NOT NULL, kind TEXT NOT NULL,
                    status TEXT NOT NULL, priority INTEGER NOT NULL, queued_at REAL NOT NULL,
                    version INTEGER NOT NULL DEFAULT 1, claimed_by TEXT, claimed_until REAL,
                    resolved_by TEXT, resolved_at REAL, outcome TEXT,
                    author TEXT NOT NULL, guidelines TEXT NOT NULL, rules TEXT NOT NULL);
                CREATE INDEX items_queue ON items(status, priority, queued_at);
                CREATE INDEX items_by_post ON items(post_id);
                CREATE TABLE reviews (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, post_id TEXT NOT NULL, item_id TEXT,
                    moderator TEXT NOT NULL, at REAL NOT NULL, verdict TEXT NOT NULL, action TEXT NOT NULL,
                    labels TEXT NOT NULL, rules TEXT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL,
                    reason TEXT NOT NULL);
                CREATE INDEX reviews_by_post ON reviews(post_id);
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, at REAL NOT NULL, moderator TEXT NOT NULL,
                    item TEXT NOT NULL, action TEXT NOT NULL, reason TEXT NOT NULL,
                    before TEXT NOT NULL, after TEXT NOT NULL);
                CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                CREATE TABLE rule_hits (rule TEXT NOT NULL PRIMARY KEY, hits INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE users (
                    name TEXT NOT NULL PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL, created_at REAL NOT NULL);
                CREATE TABLE sessions (
                    token_hash TEXT NOT NULL PRIMARY KEY, user TEXT NOT NULL, csrf TEXT NOT NULL,
                    created_at REAL NOT NULL, expires_at REAL NOT NULL);
                CREATE TABLE login_failures (key TEXT NOT NULL, at REAL NOT NULL);
                CREATE INDEX login_failures_by_key ON login_failures(key, at);
                CREATE TABLE log_cursor (
                    id INTEGER PRIMARY KEY CHECK (id = 1), inode INTEGER NOT NULL, offset INTEGER NOT NULL);
                """)
        }
        // v2: the instance that judged each decision and the ruleset it was judged with, one
        // log cursor per instance, and each instance's last ruleset (the same shape as the
        // PostgreSQL store's tables, PostgresSchema's migration 3, so the statements are one).
        // The v1 cursor is kept under the instance name '' until the indexer saves its own.
        migrator.registerMigration("v2 instances") { db in
            try db.execute(sql: """
                ALTER TABLE decisions ADD COLUMN instance TEXT;
                ALTER TABLE decisions ADD COLUMN ruleset TEXT;
                UPDATE decisions SET ruleset = json_extract(line, '$.ruleset');
                ALTER TABLE items ADD COLUMN instance TEXT;
                ALTER TABLE items ADD COLUMN ruleset TEXT;
                UPDATE items SET ruleset = (SELECT d.ruleset FROM decisions d WHERE d.post_id = items.item_id);
                CREATE TABLE instances (
                    name TEXT NOT NULL PRIMARY KEY, ruleset TEXT, last_seen REAL NOT NULL, last_decided_at REAL);
                CREATE TABLE log_cursors (
                    instance TEXT NOT NULL PRIMARY KEY, inode INTEGER NOT NULL, byte_offset INTEGER NOT NULL);
                INSERT INTO log_cursors(instance, inode, byte_offset) SELECT '', inode, "offset" FROM log_cursor;
                DROP TABLE log_cursor;
                """)
        }
        return migrator
    }
}

/// Lists stored as ",a,b," (see the schema).
enum ListColumn {
    static func encode(_ values: [String]) -> String { values.isEmpty ? "," : "," + values.joined(separator: ",") + "," }
    static func decode(_ text: String?) -> [String] { (text ?? "").split(separator: ",").map(String.init) }
    /// A LIKE pattern matching rows whose list contains `value` (with LIKE's own characters escaped).
    static func containsPattern(_ value: String) -> String { "%," + likeEscaped(value) + ",%" }

    /// `value` with LIKE's wildcards escaped (used with `ESCAPE '\'`).
    static func likeEscaped(_ value: String) -> String {
        var escaped = ""
        for character in value {
            if character == "%" || character == "_" || character == "\\" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
